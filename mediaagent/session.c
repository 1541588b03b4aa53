/*
 * session.c - the MediaAgent's standing with CommServe.
 *
 * At start the MediaAgent says HELLO (its name, the data endpoint clients
 * reach it on, and its mount root) and waits for WELCOME, resending HELLO
 * on a fresh socket while CommServe does not answer.  Once welcomed it
 * sends HEARTBEAT every heartbeat_ms and connects its trace publisher to
 * the events endpoint.  When CommServe answers ERROR STATE ("not
 * registered", e.g. after CommServe restarted) it says HELLO again.
 *
 * CommServe announces every job before the client may touch it: the
 * MediaAgent keeps a bounded table of announced jobs (id, type, client,
 * token, mount path) and serves data only for jobs in it, only to the
 * client named and only against the job's token.  CONTAINER_DISCARD drops a
 * job and any partial container it left.  Jobs nobody uses are forgotten.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "container.h"
#include "curve.h"
#include "log.h"
#include "mediaagent.h"
#include "trace.h"
#include "util.h"

#define HEARTBEAT_MIN_MS	100
#define HEARTBEAT_MAX_MS	60000

/* A fresh DEALER: queued HELLOs to an absent CommServe are dropped. */
static int
cs_connect(struct ma *ma)
{
	int	zero = 0;

	if (ma->cs != NULL)
		zmq_close(ma->cs);
	ma->cs = wire_socket(ma->zctx, ZMQ_DEALER, ma->conf->commserve, 0);
	if (ma->cs == NULL)
		return -1;
	/*
	 * Never block the daemon on CommServe: with it gone and the queue
	 * full, a heartbeat is dropped rather than the poll loop stalled.
	 */
	if (zmq_setsockopt(ma->cs, ZMQ_SNDTIMEO, &zero, sizeof(zero)) == -1) {
		log_warn("zmq_setsockopt ZMQ_SNDTIMEO");
		return -1;
	}
	return 0;
}

static void
send_hello(struct ma *ma, int64_t now)
{
	Kf__Hello	 hello = KF__HELLO__INIT;
	const struct ma_conf *c = ma->conf;

	hello.role = "mediaagent";
	hello.name = (char *)c->name;
	hello.data_endpoint = (char *)c->endpoint;
	hello.mount_root = (char *)c->root;
	hello.version = "1";
	/* CommServe checks it against our CURVE handshake, then tells clients. */
	hello.curve_key = (char *)curve_public_key();
	ma->hello_ms = now;
	if (wire_send(ma->cs, NULL, 0, KF__MSG_TYPE__HELLO, &hello.base,
	    NULL, 0) == -1)
		log_warn("HELLO to CommServe at %s not sent", c->commserve);
	else
		log_debug("HELLO sent to %s", c->commserve);
}

int
session_start(struct ma *ma)
{
	if (cs_connect(ma) == -1)
		return -1;
	ma->heartbeat_ms = MA_HEARTBEAT_MS;
	send_hello(ma, util_mono_ms());
	return 0;
}

/*
 * Registration retries and heartbeats.  Returns how many milliseconds the
 * poll loop may sleep before the next call is due.
 */
int
session_tick(struct ma *ma, int64_t now)
{
	Kf__Heartbeat	 hb = KF__HEARTBEAT__INIT;
	int64_t		 due;

	if (!ma->registered) {
		due = ma->hello_ms + MA_HELLO_RETRY_MS;
		if (now < due)
			return (int)(due - now);
		if (ma->hello_tries++ % 20 == 0)
			log_info("no WELCOME from CommServe at %s yet; "
			    "saying HELLO again", ma->conf->commserve);
		if (cs_connect(ma) == -1)
			fatalx("cannot reconnect to CommServe at %s",
			    ma->conf->commserve);
		send_hello(ma, now);
		return MA_HELLO_RETRY_MS;
	}
	ma->hello_tries = 0;
	due = ma->beat_ms + ma->heartbeat_ms;
	if (now < due)
		return (int)(due - now);
	hb.name = (char *)ma->conf->name;
	if (wire_send(ma->cs, NULL, 0, KF__MSG_TYPE__HEARTBEAT, &hb.base,
	    NULL, 0) == -1)
		log_debug("HEARTBEAT not sent: %s", zmq_strerror(errno));
	ma->beat_ms = now;
	return (int)ma->heartbeat_ms;
}

/*
 * Abort every open partial container, then close the CommServe link,
 * giving the last reports (commits finished while stopping) a moment to
 * leave.
 */
void
session_stop(struct ma *ma)
{
	int	linger = MA_STOP_LINGER_MS;

	while (ma->njobs > 0)
		session_forget(ma, ma->jobs[ma->njobs - 1]);
	if (ma->cs != NULL) {
		(void)zmq_setsockopt(ma->cs, ZMQ_LINGER, &linger,
		    sizeof(linger));
		zmq_close(ma->cs);
	}
	ma->cs = NULL;
}

int
session_welcome(struct ma *ma, struct ma_req *req)
{
	const Kf__Welcome	*w = (const Kf__Welcome *)req->m->body;
	const struct ma_conf	*c = ma->conf;
	const char		*events = c->events;
	uint32_t		 hb = MA_HEARTBEAT_MS;

	if (w->has_heartbeat_ms)
		hb = w->heartbeat_ms;
	if (hb < HEARTBEAT_MIN_MS)
		hb = HEARTBEAT_MIN_MS;
	if (hb > HEARTBEAT_MAX_MS)
		hb = HEARTBEAT_MAX_MS;
	ma->heartbeat_ms = hb;
	ma->beat_ms = util_mono_ms();
	if (strcmp(w->name, c->name) != 0)
		log_warnx("CommServe welcomed \"%.64s\", not \"%s\"", w->name,
		    c->name);

	if (!ma->trace_connected) {
		if (events == NULL && w->events_endpoint != NULL &&
		    conf_endpoint_valid(w->events_endpoint) == 0)
			events = w->events_endpoint;
		if (events == NULL)
			log_warnx("CommServe named no valid events endpoint; "
			    "trace events are only logged");
		else if (trace_connect(ma->trace, ma->zctx, events) == -1)
			log_warnx("cannot publish trace events to %s", events);
		else {
			ma->trace_connected = 1;
			log_debug("trace events go to %s", events);
		}
	}

	if (!ma->ever_registered)
		log_info("registered with CommServe as %s at %s; ready for "
		    "clients on %s (heartbeat %u ms)", c->name, c->commserve,
		    c->endpoint, hb);
	else if (!ma->registered)
		log_info("registered with CommServe as %s again", c->name);
	ma->registered = 1;
	ma->ever_registered = 1;
	return 0;
}

int
session_error(struct ma *ma, struct ma_req *req)
{
	const Kf__Error	*e = (const Kf__Error *)req->m->body;
	int64_t		 now;

	if (e->has_job)
		log_warnx("CommServe answered %s about job %llu: %.300s",
		    wire_err_name(e->code), (unsigned long long)e->job,
		    e->message);
	else
		log_warnx("CommServe answered %s: %.300s",
		    wire_err_name(e->code), e->message);
	/*
	 * STATE about no job is "not registered": CommServe restarted or
	 * counted us gone.  STATE about a job concerns only that job.
	 */
	if (e->code != KF__KF_ERR__ERR_STATE || e->has_job)
		return 0;
	ma->registered = 0;
	now = util_mono_ms();
	if (now - ma->hello_ms >= 1000)
		send_hello(ma, now);
	return 0;
}

int
session_ok(struct ma *ma, struct ma_req *req)
{
	const Kf__Ok	*ok = (const Kf__Ok *)req->m->body;

	log_debug("CommServe: OK %.200s", ok->message ? ok->message : "");
	return 0;
}

/* Newest last: the running jobs are found after a few steps. */
struct ma_job *
session_job(struct ma *ma, uint64_t id)
{
	size_t	i;

	for (i = ma->njobs; i-- > 0; )
		if (ma->jobs[i]->id == id)
			return ma->jobs[i];
	return NULL;
}

static void
job_free(struct ma_job **jp)
{
	struct ma_job	*job = *jp;

	if (job == NULL)
		return;
	store_release(job);
	serve_release(job);
	crypto_wipe(job->token, sizeof(job->token));
	free(job->client);
	free(job->mount);
	free(job);
	*jp = NULL;
}

void
session_forget(struct ma *ma, struct ma_job *job)
{
	size_t	i;

	for (i = 0; i < ma->njobs; i++)
		if (ma->jobs[i] == job)
			break;
	if (i == ma->njobs)
		return;
	/* Keep announce order, so that session_job finds new jobs first. */
	memmove(&ma->jobs[i], &ma->jobs[i + 1],
	    (ma->njobs - i - 1) * sizeof(ma->jobs[0]));
	ma->jobs[--ma->njobs] = NULL;
	serve_finish(ma, job);
	job_free(&job);
}

/*
 * Make room in a full job table: forget the finished job (a committed
 * backup or a served restore) idle longest.  Those are only kept for a
 * client's retry and for a quick discard; a discard finds the container by
 * its mount path without them.  0 if every tracked job is still running.
 */
static int
forget_finished(struct ma *ma)
{
	struct ma_job	*job, *oldest = NULL;
	size_t		 i;

	for (i = 0; i < ma->njobs; i++) {
		job = ma->jobs[i];
		if (job->state != MA_JOB_SERVED &&
		    job->state != MA_JOB_COMMITTED)
			continue;
		if (oldest == NULL || job->active_ms < oldest->active_ms)
			oldest = job;
	}
	if (oldest == NULL)
		return 0;
	session_forget(ma, oldest);
	return 1;
}

/* Constant-time check of a presented job token. */
int
session_token_ok(const struct ma_job *job, const ProtobufCBinaryData *tok)
{
	return tok->len == KF_TOKEN_LEN &&
	    crypto_memeq(job->token, tok->data, KF_TOKEN_LEN) == 0;
}

/* A client name we can compare and log safely. */
static int
client_name_ok(const char *s)
{
	size_t	n;

	for (n = 0; s[n] != '\0'; n++)
		if (n >= MA_CLIENT_MAX || s[n] < 0x20 || s[n] > 0x7e)
			return 0;
	return n > 0;
}

/* Absolute, no "." or ".." component, and a container path fits under it. */
static int
mount_ok(const char *path, uint64_t job)
{
	char		 buf[PATH_MAX];
	const char	*p = path, *e;
	size_t		 n;

	if (path[0] != '/')
		return 0;
	while (*p != '\0') {
		while (*p == '/')
			p++;
		e = strchr(p, '/');
		n = e ? (size_t)(e - p) : strlen(p);
		if ((n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		p += n;
	}
	return container_path(buf, sizeof(buf), path, job, 1, 1) == 0;
}

static int
same_announce(const struct ma_job *job, const Kf__JobAnnounce *a)
{
	return job->type == (int)a->type &&
	    strcmp(job->client, a->client) == 0 &&
	    session_token_ok(job, &a->token) &&
	    strcmp(job->mount, a->mount_path) == 0 &&
	    job->backup_job == (a->has_backup_job ? a->backup_job : 0);
}

/* The job is ready here: CommServe may now send the client its order. */
static void
announce_accepted(const struct ma_req *req, uint64_t id)
{
	Kf__JobRef	ref = KF__JOB_REF__INIT;

	ref.job = id;
	dispatch_reply(req, KF__MSG_TYPE__JOB_ACCEPTED, &ref.base, NULL, 0);
}

int
session_announce(struct ma *ma, struct ma_req *req)
{
	const Kf__JobAnnounce	*a = (const Kf__JobAnnounce *)req->m->body;
	struct ma_job		*job;
	unsigned long long	 id = a->job;

	if (a->job == 0)
		return dispatch_fail(req, KF__KF_ERR__ERR_INVALID,
		    "job id 0 is not a job");
	if (a->type != KF__JOB_TYPE__JOB_BACKUP &&
	    a->type != KF__JOB_TYPE__JOB_RESTORE)
		return dispatch_fail(req, KF__KF_ERR__ERR_INVALID,
		    "job %llu: type %d is neither backup nor restore", id,
		    (int)a->type);
	if (!client_name_ok(a->client))
		return dispatch_fail(req, KF__KF_ERR__ERR_INVALID,
		    "job %llu: the client name must be 1 to %d printable "
		    "characters", id, MA_CLIENT_MAX);
	if (a->token.len != KF_TOKEN_LEN)
		return dispatch_fail(req, KF__KF_ERR__ERR_INVALID,
		    "job %llu: the token is %zu bytes, not %d", id,
		    a->token.len, KF_TOKEN_LEN);
	if (!mount_ok(a->mount_path, a->job))
		return dispatch_fail(req, KF__KF_ERR__ERR_INVALID,
		    "job %llu: mount path \"%.200s\" is not an absolute path "
		    "without \".\" or \"..\" components (at most %d bytes)",
		    id, a->mount_path, PATH_MAX - 64);
	if (a->type == KF__JOB_TYPE__JOB_RESTORE &&
	    (!a->has_backup_job || a->backup_job == 0))
		return dispatch_fail(req, KF__KF_ERR__ERR_INVALID,
		    "restore job %llu names no backup job to read", id);

	if ((job = session_job(ma, a->job)) != NULL) {
		/* CommServe may repeat itself after a reconnect. */
		if (!same_announce(job, a))
			return dispatch_fail(req, KF__KF_ERR__ERR_EXISTS,
			    "job %llu is already announced here with other "
			    "parameters", id);
		announce_accepted(req, job->id);
		return 0;
	}
	if (ma->njobs >= MA_JOBS_MAX && !forget_finished(ma))
		return dispatch_fail(req, KF__KF_ERR__ERR_UNAVAILABLE,
		    "mediaagent %s already tracks %d jobs; retry when some "
		    "have finished", ma->conf->name, MA_JOBS_MAX);

	if ((job = calloc(1, sizeof(*job))) == NULL ||
	    (job->client = strdup(a->client)) == NULL ||
	    (job->mount = strdup(a->mount_path)) == NULL) {
		job_free(&job);
		return dispatch_fail(req, KF__KF_ERR__ERR_INTERNAL,
		    "job %llu: out of memory", id);
	}
	job->id = a->job;
	job->type = a->type;
	job->state = MA_JOB_ANNOUNCED;
	memcpy(job->token, a->token.data, KF_TOKEN_LEN);
	job->backup_job = a->has_backup_job ? a->backup_job : 0;
	job->active_ms = util_mono_ms();
	ma->jobs[ma->njobs++] = job;

	if (job->type == KF__JOB_TYPE__JOB_BACKUP)
		(void)quarantine_stale_job(job->mount, job->id);
	if (job->type == KF__JOB_TYPE__JOB_BACKUP)
		log_info("job %llu announced: backup from client %s into %s",
		    id, job->client, job->mount);
	else
		log_info("job %llu announced: restore of job %llu from %s "
		    "to client %s", id, (unsigned long long)job->backup_job,
		    job->mount, job->client);
	announce_accepted(req, job->id);
	return 0;
}

/* Drop a job this process knows and any container it left; 0 or -1. */
static int
discard_known(struct ma *ma, struct ma_job *job)
{
	int	rc = 0;

	if (job->cw != NULL)
		store_abort(job, "CommServe discarded the job");
	if (job->type == KF__JOB_TYPE__JOB_BACKUP)
		rc = quarantine_discard_committed(job->mount, job->id);
	log_info("job %llu discarded by CommServe",
	    (unsigned long long)job->id);
	session_forget(ma, job);
	return rc;
}

/*
 * The discard that came while job's container was being committed, now
 * that the commit ended: the job goes, and CommServe gets the OK it waits
 * for (on -1 none: it resends the discard when this MediaAgent registers).
 */
void
session_discard_committed(struct ma *ma, struct ma_job *job)
{
	Kf__Ok		 ok = KF__OK__INIT;
	uint64_t	 id = job->id;

	if (discard_known(ma, job) == -1) {
		log_warnx("job %llu: cannot remove its container",
		    (unsigned long long)id);
		return;
	}
	ok.message = "job discarded";
	ok.has_job = 1;
	ok.job = id;
	if (wire_send(ma->cs, NULL, 0, KF__MSG_TYPE__OK, &ok.base, NULL,
	    0) == -1)
		log_warn("job %llu: OK for the discard not sent",
		    (unsigned long long)id);
}

/*
 * CommServe gave up on a backup: drop the job and any container it left,
 * committed or not.  A job this process no longer knows (it restarted
 * since) is looked for under the mount path CommServe names.  Idempotent:
 * files already gone are fine, and the OK names the job so that CommServe
 * records the discard as done.
 */
int
session_discard(struct ma *ma, struct ma_req *req)
{
	const Kf__JobRef	*r = (const Kf__JobRef *)req->m->body;
	Kf__Ok			 ok = KF__OK__INIT;
	struct ma_job		*job;
	int			 rc = 0;

	if (r->job == 0)
		return dispatch_fail(req, KF__KF_ERR__ERR_INVALID,
		    "job id 0 is not a job");
	if ((job = session_job(ma, r->job)) != NULL &&
	    job->state == MA_JOB_COMMITTING) {
		/* Its container is being committed: discard it after. */
		log_info("job %llu: discard waits for its commit",
		    (unsigned long long)job->id);
		job->discard_pending = 1;
		return 0;
	} else if (job != NULL) {
		rc = discard_known(ma, job);
		ok.message = "job discarded";
	} else if (r->mount_path != NULL) {
		if (!mount_ok(r->mount_path, r->job))
			return dispatch_fail(req, KF__KF_ERR__ERR_INVALID,
			    "job %llu: mount path \"%.200s\" is not an "
			    "absolute path without \".\" or \"..\" components",
			    (unsigned long long)r->job, r->mount_path);
		if ((rc = quarantine_discard_committed(r->mount_path,
		    r->job)) == 0)
			rc = quarantine_stale_job(r->mount_path, r->job);
		ok.message = "job not known here; its files under the mount "
		    "path are gone";
	} else
		ok.message = "job not known here; nothing to discard";
	if (rc == -1)
		return dispatch_fail(req, KF__KF_ERR__ERR_IO, "job %llu: "
		    "cannot remove its container (see the MediaAgent's log)",
		    (unsigned long long)r->job);
	ok.has_job = 1;
	ok.job = r->job;
	dispatch_reply(req, KF__MSG_TYPE__OK, &ok.base, NULL, 0);
	return 0;
}

/*
 * Forget jobs nobody uses: a backup stream silent for MA_STREAM_IDLE_MS
 * (its client vanished) is aborted; an announced job never opened, or a
 * restore nobody reads, after MA_JOB_IDLE_MS; a restore whose last chunk
 * was served after MA_DONE_IDLE_MS (time for a client's retry).
 */
void
session_expire(struct ma *ma, int64_t now)
{
	struct ma_job	*job;
	size_t		 i;
	int64_t		 idle, limit;

	for (i = ma->njobs; i-- > 0; ) {
		job = ma->jobs[i];
		idle = now - job->active_ms;
		switch (job->state) {
		case MA_JOB_COMMITTING:
			continue;	/* a committer has it: never idle */
		case MA_JOB_STREAMING:
		case MA_JOB_FAILED:
			limit = MA_STREAM_IDLE_MS;
			break;
		case MA_JOB_SERVED:
		case MA_JOB_COMMITTED:
			limit = MA_DONE_IDLE_MS;
			break;
		default:
			limit = MA_JOB_IDLE_MS;
			break;
		}
		if (idle <= limit)
			continue;
		if (job->state == MA_JOB_STREAMING) {
			log_warnx("job %llu: no data from client %s for %lld "
			    "s; aborting its stream",
			    (unsigned long long)job->id, job->client,
			    (long long)(idle / 1000));
			store_abort(job, "the client stopped sending");
		} else if (job->state != MA_JOB_SERVED &&
		    job->state != MA_JOB_COMMITTED)
			log_info("job %llu: unused for %lld s; forgotten",
			    (unsigned long long)job->id,
			    (long long)(idle / 1000));
		session_forget(ma, job);
	}
}
