/*
 * jobs.c - running jobs: their tokens, progress, failures and timeouts.
 *
 * A job is `running` from its row's creation until CommServe commits it
 * (completed) or gives up on it (failed, with a code and a sentence).  A
 * running job also lives here in memory: the token its client and
 * MediaAgent must present, progress, and for a backup the reports of both
 * sides that must agree before the catalog is committed.  Nothing is left
 * stuck: a MediaAgent that does not accept, a peer that disappears or a job
 * with no sign of life for --job-timeout seconds fails the job.
 *
 * A backup that ends without its catalog must leave no container that could
 * pass for a backup.  Once its failure is in the database, its MediaAgent
 * is told to discard the container (CONTAINER_DISCARD with the pool's mount
 * path, so a restarted MediaAgent that no longer knows the job can find
 * it); the MediaAgent's OK naming the job is recorded (jobs.discarded_at).
 * A MediaAgent that was away when that happened, or a job that a restarted
 * CommServe marked interrupted, is caught up when the MediaAgent registers:
 * every such job without a confirmed discard is sent again.  A failure the
 * database did not take sends nothing until it is recorded, because a
 * commit whose answer was lost may in fact have completed the job.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commserve.h"
#include "log.h"
#include "util.h"

/*
 * Discards sent to a registered MediaAgent in one batch: the first when it
 * registers, the next ones at most one a JOBS_RESEND_PACE_MS until none is
 * left, so a big backlog neither floods it nor stalls CommServe's loop.
 */
#define JOBS_RESEND_MAX		256
#define JOBS_RESEND_PACE_MS	1000

/*
 * A job failure the database could not record (it was down): kept here and
 * written at the next tick that finds the database back, so the job's row
 * never stays `running`.
 */
struct job_unrecorded {
	struct job_unrecorded	*next;			/* list link */
	int64_t			 id;			/* jobs.id */
	int			 type;			/* JOB_BACKUP / JOB_RESTORE */
	uint64_t		 files, bytes;		/* progress */
	int			 code;			/* KfErr */
	char			 text[DB_TEXT_MAX];	/* the sentence */
	char			 mediaagent[DB_NAME_MAX]; /* the job's MediaAgent */
	char			 mount_path[DB_TEXT_MAX]; /* its pool's mount */
};

/* Tell a MediaAgent to drop a backup's container (it answers OK + job). */
static void
discard_send(struct cs *cs, const char *mediaagent, int64_t id,
    const char *mount_path)
{
	Kf__JobRef	 ref = KF__JOB_REF__INIT;
	struct peer	*ma;

	if (!peers_alive(ma = peers_find(cs, PEER_MEDIAAGENT, mediaagent))) {
		log_info("job %lld: MediaAgent %s is away; its container is "
		    "discarded when it registers again", (long long)id,
		    mediaagent);
		return;
	}
	ref.job = (uint64_t)id;
	ref.mount_path = (char *)mount_path;
	if (cs_send(cs, ma, KF__MSG_TYPE__CONTAINER_DISCARD, &ref.base) == 0)
		log_debug("job %lld: discard sent to MediaAgent %s",
		    (long long)id, mediaagent);
}

static void
unrecorded_add(struct cs *cs, const struct job_rt *j, int code,
    const char *text)
{
	struct job_unrecorded	*u;

	if ((u = calloc(1, sizeof(*u))) == NULL) {
		log_warnx("job %lld: out of memory; it stays running until "
		    "CommServe restarts", (long long)j->id);
		return;
	}
	u->id = j->id;
	u->type = j->type;
	snprintf(u->mediaagent, sizeof(u->mediaagent), "%s", j->mediaagent);
	snprintf(u->mount_path, sizeof(u->mount_path), "%s", j->mount_path);
	u->files = j->files;
	u->bytes = j->bytes;
	u->code = code;
	snprintf(u->text, sizeof(u->text), "%s", text);
	u->next = cs->unrecorded;
	cs->unrecorded = u;
}

/* 1 if the job's row says it ended already (a lost commit answer). */
static int
unrecorded_ended(struct cs *cs, const struct job_unrecorded *u)
{
	struct db_job	d;

	if (db_job_get(cs->db, u->id, &d) != DB_OK ||
	    d.state == KF__JOB_STATE__JOB_RUNNING)
		return 0;
	log_warnx("job %lld: ended as %s meanwhile; its failure (%s) is not "
	    "recorded", (long long)u->id, d.state ==
	    KF__JOB_STATE__JOB_COMPLETED ? "completed" : "failed", u->text);
	return 1;
}

static void
unrecorded_retry(struct cs *cs)
{
	struct job_unrecorded	**up = &cs->unrecorded, *u;

	while ((u = *up) != NULL) {
		if (db_job_finish(cs->db, u->id, KF__JOB_STATE__JOB_FAILED,
		    u->files, u->bytes, u->code, u->text) != DB_OK) {
			if (!unrecorded_ended(cs, u)) {
				up = &u->next;
				continue;
			}
		} else {
			log_info("job %lld: failure recorded now that the "
			    "database answers", (long long)u->id);
			if (u->type == KF__JOB_TYPE__JOB_BACKUP)
				discard_send(cs, u->mediaagent, u->id,
				    u->mount_path);
		}
		*up = u->next;
		free(u);
	}
}

struct job_rt *
jobs_new(struct cs *cs, int64_t id, int type)
{
	struct job_rt	*j;

	if ((j = calloc(1, sizeof(*j))) == NULL)
		return NULL;
	j->id = id;
	j->type = type;
	if (crypto_random(j->token, sizeof(j->token)) == -1) {
		free(j);
		return NULL;
	}
	j->active_ms = util_mono_ms();
	j->next = cs->jobs;
	cs->jobs = j;
	return j;
}

struct job_rt *
jobs_find(struct cs *cs, int64_t id)
{
	struct job_rt	*j;

	for (j = cs->jobs; j != NULL; j = j->next)
		if (j->id == id)
			return j;
	return NULL;
}

static void
job_rt_free(struct job_rt *j)
{
	size_t	i;

	for (i = 0; i < j->npaths; i++)
		free(j->paths[i]);
	free(j->paths);
	for (i = 0; i < j->ncatalog; i++) {
		free((void *)j->catalog[i].path);
		free((void *)j->catalog[i].link);
	}
	free(j->catalog);
	crypto_wipe(j, sizeof(*j));
	free(j);
}

void
jobs_remove(struct cs *cs, struct job_rt *j)
{
	struct job_rt	**jp;

	for (jp = &cs->jobs; *jp != NULL; jp = &(*jp)->next)
		if (*jp == j) {
			*jp = j->next;
			break;
		}
	job_rt_free(j);
}

void
jobs_free_all(struct cs *cs)
{
	struct job_rt		*j;
	struct job_unrecorded	*u;

	/* Unrecorded failures become `interrupted` at the next start. */
	while ((u = cs->unrecorded) != NULL) {
		cs->unrecorded = u->next;
		free(u);
	}

	while ((j = cs->jobs) != NULL) {
		cs->jobs = j->next;
		job_rt_free(j);
	}
}

/* A job message from a client: the job must run and the token match. */
struct job_rt *
jobs_authorize(struct req *r, uint64_t job, const ProtobufCBinaryData *token)
{
	struct job_rt	*j;

	if (job > INT64_MAX || (j = jobs_find(r->cs, (int64_t)job)) == NULL) {
		cs_error(r, KF__KF_ERR__ERR_NOT_FOUND, "job %llu is not "
		    "running", (unsigned long long)job);
		return NULL;
	}
	if (token->len != KF_TOKEN_LEN ||
	    crypto_memeq(token->data, j->token, KF_TOKEN_LEN) != 0) {
		cs_error(r, KF__KF_ERR__ERR_AUTH, "wrong token for job %llu",
		    (unsigned long long)job);
		return NULL;
	}
	j->active_ms = util_mono_ms();
	return j;
}

/*
 * The client has the job's order and has not ended it: tell it the job is
 * over, so it stops now instead of waiting for a MediaAgent that is gone.
 * Its token proves the message is about the job the client holds.
 */
static void
jobs_cancel_client(struct cs *cs, const struct job_rt *j, kf_err_t code,
    const char *text)
{
	Kf__JobFailed	 f = KF__JOB_FAILED__INIT;
	struct peer	*p;

	p = peers_find(cs, PEER_CLIENT, j->client);
	if (!peers_alive(p))
		return;
	f.job = (uint64_t)j->id;
	f.token.data = (uint8_t *)j->token;
	f.token.len = sizeof(j->token);
	f.code = code;
	f.message = (char *)text;
	if (cs_send(cs, p, KF__MSG_TYPE__JOB_CANCEL, &f.base) == -1)
		log_warnx("job %lld: cannot tell client %s to stop it",
		    (long long)j->id, j->client);
}

void
jobs_fail(struct cs *cs, struct job_rt *j, kf_err_t code, const char *fmt,
    ...)
{
	char		 text[DB_TEXT_MAX];
	va_list		 ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	log_warnx("job %lld failed: %s (%s)", (long long)j->id, text,
	    wire_err_name(code));
	if (j->accepted && !j->client_done && !j->client_failed)
		jobs_cancel_client(cs, j, code, text);
	if (db_job_finish(cs->db, j->id, KF__JOB_STATE__JOB_FAILED, j->files,
	    j->bytes, code, text) != DB_OK) {
		log_warnx("job %lld: cannot record the failure yet: %s",
		    (long long)j->id, db_errmsg(cs->db));
		unrecorded_add(cs, j, code, text);
	} else if (j->type == KF__JOB_TYPE__JOB_BACKUP)
		/* A backup that did not commit leaves no container behind. */
		discard_send(cs, j->mediaagent, j->id, j->mount_path);
	jobs_remove(cs, j);
}

/*
 * Seal the job's DEK and token for its client (backup step 3, restore
 * step 5), then forget the DEK.  The client's connection, or NULL when it
 * is gone or the seal failed: the job has then been failed.  store holds
 * the bytes sk points into; the caller wipes it after sending.
 */
struct peer *
jobs_seal_for_client(struct cs *cs, struct job_rt *j, Kf__SealedKey *sk,
    uint8_t *store, size_t storecap)
{
	struct peer	*p;

	p = peers_find(cs, PEER_CLIENT, j->client);
	if (!peers_alive(p) || keys_seal_for_client(cs, j->client,
	    &j->nk_wrapped, (uint64_t)j->id, j->dek, j->token, sk, store,
	    storecap) == -1) {
		jobs_fail(cs, j, KF__KF_ERR__ERR_UNAVAILABLE, "cannot send "
		    "the job to client %s", j->client);
		return NULL;
	}
	crypto_wipe(j->dek, sizeof(j->dek));
	j->have_dek = 0;
	return p;
}

int
jobs_announce(struct cs *cs, struct job_rt *j)
{
	Kf__JobAnnounce	 a = KF__JOB_ANNOUNCE__INIT;
	struct peer	*ma;

	if ((ma = peers_find(cs, PEER_MEDIAAGENT, j->mediaagent)) == NULL ||
	    !peers_alive(ma))
		return -1;
	a.job = (uint64_t)j->id;
	a.type = j->type;
	a.client = j->client;
	a.token.data = j->token;
	a.token.len = sizeof(j->token);
	a.mount_path = j->mount_path;
	if (j->type == KF__JOB_TYPE__JOB_RESTORE) {
		a.has_backup_job = 1;
		a.backup_job = (uint64_t)j->backup_job;
	}
	j->announced_ms = util_mono_ms();
	return cs_send(cs, ma, KF__MSG_TYPE__JOB_ANNOUNCE, &a.base);
}

static void	resend_tick(struct cs *);

void
jobs_expire(struct cs *cs)
{
	struct job_rt	*j, *next;
	struct peer	*p;
	int64_t		 now = util_mono_ms();

	if (cs->unrecorded != NULL)
		unrecorded_retry(cs);
	resend_tick(cs);

	for (j = cs->jobs; j != NULL; j = next) {
		next = j->next;
		if (!j->accepted) {
			if (now - j->announced_ms > CS_ANNOUNCE_TIMEOUT_MS)
				jobs_fail(cs, j, KF__KF_ERR__ERR_TIMEOUT,
				    "MediaAgent %s did not accept the job "
				    "within %d s", j->mediaagent,
				    CS_ANNOUNCE_TIMEOUT_MS / 1000);
			continue;
		}
		p = peers_find(cs, PEER_CLIENT, j->client);
		if (!peers_alive(p) && !j->client_done) {
			jobs_fail(cs, j, KF__KF_ERR__ERR_UNAVAILABLE, "client "
			    "%s disconnected during the job", j->client);
			continue;
		}
		/* A backup's MediaAgent matters until it reported the commit. */
		p = peers_find(cs, PEER_MEDIAAGENT, j->mediaagent);
		if (!peers_alive(p) && !(j->type == KF__JOB_TYPE__JOB_BACKUP &&
		    j->ma_done)) {
			jobs_fail(cs, j, KF__KF_ERR__ERR_UNAVAILABLE,
			    "MediaAgent %s disconnected during the job",
			    j->mediaagent);
			continue;
		}
		if (now - j->active_ms > (int64_t)cs->conf.job_timeout_s *
		    1000)
			jobs_fail(cs, j, KF__KF_ERR__ERR_TIMEOUT, "no sign of "
			    "life from client %s or MediaAgent %s for %u s",
			    j->client, j->mediaagent, cs->conf.job_timeout_s);
	}
}

void
jobs_fill_info(const struct db_job *d, Kf__JobInfo *ji,
    const struct job_rt *rt)
{
	ji->id = (uint64_t)d->id;
	ji->type = d->type;
	ji->state = d->state;
	ji->client = (char *)d->client;
	ji->pool = (char *)d->pool;
	if (d->backup_job > 0) {
		ji->has_backup_job = 1;
		ji->backup_job = (uint64_t)d->backup_job;
	}
	ji->files = d->files;
	ji->bytes = d->bytes;
	ji->has_stream_bytes = ji->has_chunks = d->type ==
	    KF__JOB_TYPE__JOB_BACKUP;
	ji->stream_bytes = d->stream_bytes;
	ji->chunks = d->chunks;
	if (d->type == KF__JOB_TYPE__JOB_BACKUP && d->chunk_size > 0) {
		ji->has_chunk_size = ji->has_streams = 1;
		ji->chunk_size = d->chunk_size;
		ji->streams = d->streams;
	}
	ji->started_us = d->started_us;
	if (d->ended_us > 0) {
		ji->has_ended_us = 1;
		ji->ended_us = d->ended_us;
	}
	if (d->error_code != 0) {
		ji->has_error_code = 1;
		ji->error_code = d->error_code;
	}
	/* An interrupted job has a sentence but no code: show it too. */
	if (d->error_code != 0 || d->error[0] != '\0')
		ji->error = (char *)d->error;
	ji->mediaagent = (char *)d->mediaagent;
	if (rt != NULL) {
		ji->files = rt->files;
		ji->bytes = rt->bytes;
		ji->has_files_total = ji->has_bytes_total = 1;
		ji->files_total = rt->files_total;
		ji->bytes_total = rt->bytes_total;
	}
}

/*
 * A running backup's row as it stands: only this process changes it before
 * the job ends, and the job leaves the table when it does.
 */
static int
jobs_rt_row(const struct job_rt *j, struct db_job *d)
{
	if (j->type != KF__JOB_TYPE__JOB_BACKUP || j->started_us <= 0)
		return -1;
	memset(d, 0, sizeof(*d));
	d->id = j->id;
	d->type = j->type;
	d->state = KF__JOB_STATE__JOB_RUNNING;
	d->client_id = j->client_id;
	snprintf(d->client, sizeof(d->client), "%s", j->client);
	snprintf(d->pool, sizeof(d->pool), "%s", j->pool);
	snprintf(d->mediaagent, sizeof(d->mediaagent), "%s", j->mediaagent);
	d->chunk_size = j->chunk_size;
	d->streams = j->streams;
	d->started_us = j->started_us;
	return 0;
}

void
jobs_job_get(struct req *r)
{
	const Kf__JobGet	*g = (const Kf__JobGet *)r->msg->body;
	Kf__JobInfo		 ji = KF__JOB_INFO__INIT;
	struct job_rt		*j;
	struct db_job		 d;
	int			 rc;

	/* A running backup is answered from memory, without a query. */
	if (g->job <= INT64_MAX && (j = jobs_find(r->cs,
	    (int64_t)g->job)) != NULL && jobs_rt_row(j, &d) == 0) {
		jobs_fill_info(&d, &ji, j);
		cs_reply(r, KF__MSG_TYPE__JOB_INFO, &ji.base);
		return;
	}
	rc = g->job > INT64_MAX ? DB_NOT_FOUND :
	    db_job_get(r->cs->db, (int64_t)g->job, &d);
	if (rc != DB_OK) {
		cs_error(r, rc == DB_NOT_FOUND ? KF__KF_ERR__ERR_NOT_FOUND :
		    KF__KF_ERR__ERR_DB, rc == DB_NOT_FOUND ? "no job %llu" :
		    "cannot read job %llu", (unsigned long long)g->job);
		return;
	}
	jobs_fill_info(&d, &ji, jobs_find(r->cs, d.id));
	cs_reply(r, KF__MSG_TYPE__JOB_INFO, &ji.base);
}

static void
job_row(void *arg, const struct db_job *d)
{
	rows_push(arg, d);
}

void
jobs_job_list(struct req *r)
{
	const Kf__ListRequest	 *lr = (const Kf__ListRequest *)r->msg->body;
	Kf__JobListReply	  rep = KF__JOB_LIST_REPLY__INIT;
	struct rows		  rows = { .size = sizeof(struct db_job) };
	struct db_job		 *d;
	Kf__JobInfo		 *infos = NULL, **items = NULL;
	unsigned		  limit;
	size_t			  i;

	limit = lr->has_limit && lr->limit > 0 && lr->limit <= 10000 ?
	    lr->limit : 100;
	if (db_job_list(r->cs->db, limit, job_row, &rows) != DB_OK) {
		cs_error(r, KF__KF_ERR__ERR_DB, "%s", db_errmsg(r->cs->db));
		goto done;
	}
	if (rows_reply_arrays(&rows, sizeof(*infos), (void **)&infos,
	    (void ***)&items) == -1) {
		cs_error(r, KF__KF_ERR__ERR_INTERNAL, "out of memory");
		goto done;
	}
	for (i = 0; i < rows.n; i++) {
		d = rows_at(&rows, i);
		kf__job_info__init(&infos[i]);
		jobs_fill_info(d, &infos[i], jobs_find(r->cs, d->id));
	}
	rep.n_jobs = rows.n;
	rep.jobs = items;
	cs_reply(r, KF__MSG_TYPE__JOB_LIST_REPLY, &rep.base);
done:
	rows_free(&rows);
	free(infos);
	free(items);
}

int
jobs_set_paths(struct job_rt *j, char **paths, size_t n)
{
	size_t	i;

	if (n > 0 && (j->paths = calloc(n, sizeof(*j->paths))) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		if ((j->paths[i] = strdup(paths[i])) == NULL)
			return -1;
		j->npaths++;
	}
	return 0;
}

void
jobs_progress(struct req *r)
{
	const Kf__JobProgress	*p = (const Kf__JobProgress *)r->msg->body;
	struct job_rt		*j;

	if ((j = jobs_find(r->cs, p->job > INT64_MAX ? 0 :
	    (int64_t)p->job)) == NULL || p->token.len != KF_TOKEN_LEN ||
	    crypto_memeq(p->token.data, j->token, KF_TOKEN_LEN) != 0) {
		log_debug("progress for job %llu ignored: not running or wrong "
		    "token", (unsigned long long)p->job);
		return;
	}
	j->active_ms = util_mono_ms();
	j->files = p->files;
	j->bytes = p->bytes;
	if (p->has_files_total)
		j->files_total = p->files_total;
	if (p->has_bytes_total)
		j->bytes_total = p->bytes_total;
}

void
jobs_failed(struct req *r)
{
	const Kf__JobFailed	*f = (const Kf__JobFailed *)r->msg->body;
	struct job_rt		*j;

	/*
	 * A client that cannot open the sealed DEK has no token to show; its
	 * registered connection speaks for it instead.
	 */
	j = f->job <= INT64_MAX ? jobs_find(r->cs, (int64_t)f->job) : NULL;
	if (j != NULL && f->token.len == 0 && r->peer != NULL &&
	    r->peer->authed && r->peer->role == PEER_CLIENT &&
	    strcmp(r->peer->name, j->client) == 0)
		;
	else if ((j = jobs_authorize(r, f->job, &f->token)) == NULL)
		return;
	cs_ok(r);
	j->client_failed = 1;
	jobs_fail(r->cs, j, f->code, "client %s: %s", j->client, f->message);
}

void
jobs_done(struct req *r)
{
	const Kf__JobDone	*d = (const Kf__JobDone *)r->msg->body;
	struct job_rt		*j;

	if ((j = jobs_authorize(r, d->job, &d->token)) == NULL)
		return;
	if (j->type == KF__JOB_TYPE__JOB_BACKUP)
		backup_job_done(r, j, d);
	else
		restore_job_done(r, j, d);
}

/* The MediaAgent is ready for the job: now the client gets its order. */
void
jobs_accepted(struct req *r)
{
	const Kf__JobRef	*ref = (const Kf__JobRef *)r->msg->body;
	struct job_rt		*j;

	if ((j = jobs_find(r->cs, ref->job > INT64_MAX ? 0 :
	    (int64_t)ref->job)) == NULL || j->accepted ||
	    strcmp(j->mediaagent, r->peer->name) != 0) {
		log_warnx("MediaAgent %s accepted job %llu, which is not "
		    "waiting for it", r->peer->name,
		    (unsigned long long)ref->job);
		return;
	}
	j->accepted = 1;
	j->active_ms = util_mono_ms();
	if (j->type == KF__JOB_TYPE__JOB_BACKUP)
		backup_send_order(r->cs, j);
	else
		restore_send_order(r->cs, j);
}

/* An ERROR from a daemon: if it names a job of that MediaAgent, fail it. */
void
jobs_ma_error(struct req *r)
{
	const Kf__Error	*e = (const Kf__Error *)r->msg->body;
	struct job_rt	*j;

	if (r->peer == NULL || r->peer->role != PEER_MEDIAAGENT ||
	    !e->has_job || e->job > INT64_MAX ||
	    (j = jobs_find(r->cs, (int64_t)e->job)) == NULL ||
	    strcmp(j->mediaagent, r->peer->name) != 0) {
		log_warnx("error from %s: %s (%s)", r->peer != NULL ?
		    r->peer->name : "an unregistered peer", e->message,
		    wire_err_name(e->code));
		return;
	}
	jobs_fail(r->cs, j, e->code, "MediaAgent %s: %s", j->mediaagent,
	    e->message);
}

/* One backup whose container a registered MediaAgent must drop. */
struct resend {
	int64_t	 id;				/* jobs.id */
	char	 mount_path[DB_TEXT_MAX];	/* its pool's mount path */
};

/* A batch of them, collected before any is sent. */
struct resend_list {
	struct resend	*v;			/* JOBS_RESEND_MAX entries */
	size_t		 n;			/* used */
};

static void
resend_row(void *arg, int64_t id, const char *mount_path)
{
	struct resend_list	*l = arg;

	if (l->n >= JOBS_RESEND_MAX)
		return;
	l->v[l->n].id = id;
	snprintf(l->v[l->n].mount_path, sizeof(l->v[l->n].mount_path), "%s",
	    mount_path);
	l->n++;
}

/*
 * The next batch of ma's discard sweep: backups of its pools that failed
 * or were interrupted, whose container it has not confirmed gone, from
 * its cursor on.  The cursor passes every job sent, so one the MediaAgent
 * answers with ERROR is not sent again before its next registration; a
 * batch the database did not give is tried again at a later tick.
 */
static void
resend_batch(struct cs *cs, struct peer *ma)
{
	struct resend_list	l = { NULL, 0 };
	uint64_t		pending = 0;
	int			first = ma->discard_from == 1;
	size_t			i;

	ma->discard_next_ms = util_mono_ms() + JOBS_RESEND_PACE_MS;
	if ((l.v = calloc(JOBS_RESEND_MAX, sizeof(*l.v))) == NULL) {
		log_warnx("MediaAgent %s: out of memory listing the containers "
		    "to discard (tried again in a second)", ma->name);
		return;
	}
	if (db_jobs_undiscarded(cs->db, ma->db_id, ma->discard_from - 1,
	    JOBS_RESEND_MAX, resend_row, &l, first ? &pending : NULL) !=
	    DB_OK) {
		log_warnx("MediaAgent %s: cannot list the containers of failed "
		    "backups to discard (tried again in a second): %s",
		    ma->name, db_errmsg(cs->db));
		goto done;
	}
	if (pending > 0)
		log_info("MediaAgent %s: discarding the containers of %llu "
		    "failed or interrupted backups, %d a second at most",
		    ma->name, (unsigned long long)pending, JOBS_RESEND_MAX);
	if (l.n > 0)
		log_debug("MediaAgent %s: discard batch of %zu (jobs %lld to "
		    "%lld)", ma->name, l.n, (long long)l.v[0].id,
		    (long long)l.v[l.n - 1].id);
	for (i = 0; i < l.n; i++) {
		/* Never a job this CommServe still runs (ids do not recur). */
		if (jobs_find(cs, l.v[i].id) != NULL)
			continue;
		discard_send(cs, ma->name, l.v[i].id, l.v[i].mount_path);
	}
	if (l.n == JOBS_RESEND_MAX && l.v[l.n - 1].id < INT64_MAX) {
		ma->discard_from = l.v[l.n - 1].id + 1;
		goto done;
	}
	if (!first || l.n > 0)
		log_info("MediaAgent %s: every pending discard sent", ma->name);
	ma->discard_from = 0;
done:
	free(l.v);
}

/*
 * A MediaAgent just registered: its discard sweep starts again from the
 * first job, with a batch now and the rest from the ticks.  What is not
 * confirmed is sent again at its next registration.
 */
void
jobs_discard_resend(struct cs *cs, struct peer *ma)
{
	if (ma == NULL || ma->role != PEER_MEDIAAGENT || !ma->authed)
		return;
	ma->discard_from = 1;
	resend_batch(cs, ma);
}

/* A tick: the next batch of each sweep that is due. */
static void
resend_tick(struct cs *cs)
{
	struct peer	*p;
	int64_t		 now = util_mono_ms();

	for (p = cs->peers; p != NULL; p = p->next) {
		if (p->discard_from == 0 || now < p->discard_next_ms)
			continue;
		/* Gone, or registered again elsewhere: that one sweeps. */
		if (p->role != PEER_MEDIAAGENT || !peers_alive(p) ||
		    peers_find(cs, PEER_MEDIAAGENT, p->name) != p) {
			log_info("MediaAgent %s: discard sweep stopped, this "
			    "connection is gone or replaced; a registration "
			    "sends the rest", p->name);
			p->discard_from = 0;
			continue;
		}
		resend_batch(cs, p);
	}
}

/* An OK from a MediaAgent: naming a job, it confirms a discard. */
void
jobs_ma_ok(struct req *r)
{
	const Kf__Ok	*ok = (const Kf__Ok *)r->msg->body;
	int		 changed;

	if (r->peer == NULL || !r->peer->authed ||
	    r->peer->role != PEER_MEDIAAGENT || !ok->has_job)
		return;
	if (ok->job > INT64_MAX || db_job_discarded(r->cs->db,
	    (int64_t)ok->job, r->peer->db_id, &changed) != DB_OK) {
		log_warnx("MediaAgent %s discarded job %llu; not recorded "
		    "(sent again at its next registration): %s", r->peer->name,
		    (unsigned long long)ok->job, ok->job > INT64_MAX ?
		    "no such job" : db_errmsg(r->cs->db));
		return;
	}
	if (changed)
		log_info("job %llu: MediaAgent %s confirmed its container is "
		    "discarded", (unsigned long long)ok->job, r->peer->name);
}
