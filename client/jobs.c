/*
 * jobs.c - the table of clientd's jobs, kept by the main thread.
 *
 * An order from CommServe becomes a job here: its DEK is unsealed with the
 * network key (which never leaves the main thread), and the job starts in
 * its own thread, or waits in a FIFO while CLIENT_MAX_JOBS jobs run.  An
 * order that cannot run (the seal does not open, the queue is full) is
 * answered JOB_FAILURE at once on the session socket.  At shutdown every
 * running job is told to stop and joined, and waiting orders are failed.
 *
 * A job that ended cleanly leaves its DEALERs to CommServe and to its
 * MediaAgent open, with no reply outstanding; the next job to the same
 * peers starts with them instead of connecting (and, with CURVE,
 * handshaking) anew (sockpool.c).  Every message on them still carries its
 * own job id and token, which CommServe and the MediaAgent check.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <zmq.h>

#include "client.h"
#include "curve.h"
#include "log.h"
#include "trace.h"

/* Idle DEALERs to CommServe and MediaAgents, used by the main thread only. */
static struct sockpool	idle_cs, idle_ma;

/* The MediaAgent a job's order names: its data endpoint and CURVE key. */
static void
jobs_ma_peer(const struct job *j, const char **endpoint, const char **key)
{
	if (j->kind == JOB_KIND_BACKUP) {
		*endpoint = ((const Kf__BackupOrder *)j->order)->
		    mediaagent_endpoint;
		*key = ((const Kf__BackupOrder *)j->order)->mediaagent_key;
	} else {
		*endpoint = ((const Kf__RestoreOrder *)j->order)->
		    mediaagent_endpoint;
		*key = ((const Kf__RestoreOrder *)j->order)->mediaagent_key;
	}
	if (!curve_enabled())
		*key = NULL;
}

/* Keep the DEALERs a finished job left open (a clean end) for the next. */
static void
jobs_keep_sockets(struct job *j)
{
	const char	*ep, *key;

	sockpool_put(&idle_cs, j->cs, j->client->conf->commserve, NULL);
	j->cs = NULL;
	jobs_ma_peer(j, &ep, &key);
	sockpool_put(&idle_ma, j->ma, ep, key);
	j->ma = NULL;
}

/* Report a job that never got a thread, on the session socket. */
static void
jobs_fail_now(struct client *c, uint64_t id, const uint8_t *token,
    kf_err_t code, const char *msg)
{
	Kf__JobFailed	 f = KF__JOB_FAILED__INIT;

	log_warnx("job %llu failed: %s", (unsigned long long)id, msg);
	f.job = id;
	f.token.data = (uint8_t *)token;
	f.token.len = token != NULL ? KF_TOKEN_LEN : 0;
	f.code = code;
	f.message = (char *)msg;
	if (wire_send(c->cs, NULL, 0, KF__MSG_TYPE__JOB_FAILURE, &f.base,
	    NULL, 0) == -1)
		log_warnx("job %llu: cannot report the failure to CommServe: "
		    "%s", (unsigned long long)id, zmq_strerror(errno));
}

/* Signals go to the main thread only: job threads block them all. */
static int
jobs_start(struct job *j)
{
	sigset_t	 all, old;
	const char	*ep, *key;
	int		 rc;

	/* pthread_create orders the hand-over of idle sockets. */
	if (j->cs == NULL)
		j->cs = sockpool_take(&idle_cs, j->client->conf->commserve,
		    NULL);
	jobs_ma_peer(j, &ep, &key);
	if (j->ma == NULL)
		j->ma = sockpool_take(&idle_ma, ep, key);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&j->thread, NULL, job_main, j);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		errno = rc;
		log_warn("job %llu: pthread_create", (unsigned long long)j->id);
		return -1;
	}
	j->started = 1;
	log_info("job %llu: %s started", (unsigned long long)j->id,
	    j->kind == JOB_KIND_BACKUP ? "backup" : "restore");
	return 0;
}

static int
jobs_known(const struct client *c, uint64_t id)
{
	size_t	 i;

	for (i = 0; i < CLIENT_MAX_JOBS; i++)
		if (c->running[i] != NULL && c->running[i]->id == id)
			return 1;
	for (i = 0; i < c->npending; i++)
		if (c->pending[i]->id == id)
			return 1;
	return 0;
}

/* A free slot for a job, or -1. */
static int
jobs_slot(const struct client *c)
{
	int	 i;

	for (i = 0; i < CLIENT_MAX_JOBS; i++)
		if (c->running[i] == NULL)
			return i;
	return -1;
}

/* Take the order out of m (m->body is cleared) and run or queue it. */
void
jobs_order(struct client *c, enum job_kind kind, struct wire_msg *m)
{
	const Kf__SealedKey	*sealed;
	const char		*ma_ep, *ma_key;
	char			 why[512];
	struct job		*j;
	uint64_t		 id;
	int			 slot;

	if (kind == JOB_KIND_BACKUP) {
		id = ((const Kf__BackupOrder *)m->body)->job;
		sealed = ((const Kf__BackupOrder *)m->body)->dek;
		ma_ep = ((const Kf__BackupOrder *)m->body)->mediaagent_endpoint;
		ma_key = ((const Kf__BackupOrder *)m->body)->mediaagent_key;
	} else {
		id = ((const Kf__RestoreOrder *)m->body)->job;
		sealed = ((const Kf__RestoreOrder *)m->body)->dek;
		ma_ep = ((const Kf__RestoreOrder *)m->body)->mediaagent_endpoint;
		ma_key = ((const Kf__RestoreOrder *)m->body)->mediaagent_key;
	}
	if (jobs_known(c, id)) {
		log_warnx("job %llu: CommServe sent its order again; the job "
		    "is already here", (unsigned long long)id);
		return;
	}
	/* The job's data socket will be a CURVE client of this key. */
	if (curve_enabled() && (ma_key == NULL ||
	    curve_peer_set(ma_ep, ma_key) == -1)) {
		snprintf(why, sizeof(why), "the order names no valid CURVE key "
		    "for the MediaAgent at %.256s, and this client does not "
		    "talk to it in plaintext", ma_ep);
		jobs_fail_now(c, id, NULL, KF__KF_ERR__ERR_AUTH, why);
		return;
	}
	/* A job that just ended frees its slot and socket for this one. */
	jobs_reap(c);
	if (!c->nk_valid) {
		jobs_fail_now(c, id, NULL, KF__KF_ERR__ERR_STATE,
		    "client is not registered; it cannot open the job's DEK");
		return;
	}
	if ((j = job_new(c, kind, &m->body)) == NULL) {
		jobs_fail_now(c, id, NULL, KF__KF_ERR__ERR_INTERNAL,
		    "client is out of memory");
		return;
	}
	if (job_open_seal(j, sealed) == -1) {
		jobs_fail_now(c, id, NULL, KF__KF_ERR__ERR_CRYPTO,
		    "could not open the DEK sealed with this client's network "
		    "password");
		job_free(&j);
		return;
	}
	/* The receiving end of seed backup step 3 / restore step 5. */
	trace_step(c->trace, j->trace_id, kind == JOB_KIND_BACKUP ? "backup" :
	    "restore", kind == JOB_KIND_BACKUP ? 3 : 5, NULL, 0,
	    "Client: opened the DEK sealed with its network password "
	    "(AES-256-GCM under HKDF(PBKDF2(password)))");
	if ((slot = jobs_slot(c)) >= 0 && c->npending == 0) {
		if (jobs_start(j) == -1) {
			jobs_fail_now(c, id, j->token,
			    KF__KF_ERR__ERR_INTERNAL,
			    "client could not start a thread for the job");
			job_free(&j);
			return;
		}
		c->running[slot] = j;
		return;
	}
	if (c->npending == CLIENT_MAX_PENDING) {
		jobs_fail_now(c, id, j->token, KF__KF_ERR__ERR_UNAVAILABLE,
		    "client is busy: too many jobs are waiting");
		job_free(&j);
		return;
	}
	log_info("job %llu: waiting for one of %d running jobs to end",
	    (unsigned long long)id, CLIENT_MAX_JOBS);
	c->pending[c->npending++] = j;
}

/* Take waiting order i out of the FIFO, the others keeping their order. */
static struct job *
jobs_unqueue(struct client *c, size_t i)
{
	struct job	*j = c->pending[i];

	memmove(&c->pending[i], &c->pending[i + 1],
	    (c->npending - i - 1) * sizeof(c->pending[0]));
	c->npending--;
	return j;
}

/* The job's token is tok (a JOB_CANCEL names the job it is about). */
static int
jobs_token_is(const struct job *j, const ProtobufCBinaryData *tok)
{
	return tok->len == KF_TOKEN_LEN &&
	    crypto_memeq(tok->data, j->token, KF_TOKEN_LEN) == 0;
}

/*
 * CommServe failed a job this client holds (its MediaAgent was lost, it
 * timed out...): a running job is told to stop, and fails with
 * CommServe's reason at its next check instead of waiting for a peer that
 * is gone; a waiting one is dropped.  Neither reports anything back.
 */
void
jobs_cancel(struct client *c, const Kf__JobFailed *f)
{
	struct job	*j;
	size_t		 i;

	for (i = 0; i < CLIENT_MAX_JOBS; i++) {
		if ((j = c->running[i]) == NULL || j->id != f->job ||
		    !jobs_token_is(j, &f->token))
			continue;
		/* Once is enough: the job thread may be reading the reason. */
		if (atomic_load(&j->finished) || atomic_load(&j->cancelled))
			return;
		j->cancel_code = f->code;
		snprintf(j->cancel_msg, sizeof(j->cancel_msg), "CommServe "
		    "ended the job: %s", f->message);
		atomic_store(&j->cancelled, 1);
		log_info("job %llu: CommServe ended it (%s); stopping it",
		    (unsigned long long)j->id, f->message);
		return;
	}
	for (i = 0; i < c->npending; i++) {
		if ((j = c->pending[i])->id != f->job ||
		    !jobs_token_is(j, &f->token))
			continue;
		log_info("job %llu: CommServe ended it (%s) before it started",
		    (unsigned long long)j->id, f->message);
		jobs_unqueue(c, i);
		job_free(&j);
		return;
	}
	log_debug("CommServe ended job %llu, which this client does not run",
	    (unsigned long long)f->job);
}

/* Join finished threads and start waiting jobs in the freed slots. */
void
jobs_reap(struct client *c)
{
	struct job	*j;
	int		 i, slot;

	for (i = 0; i < CLIENT_MAX_JOBS; i++) {
		j = c->running[i];
		if (j == NULL || !atomic_load(&j->finished))
			continue;
		pthread_join(j->thread, NULL);
		jobs_keep_sockets(j);
		job_free(&c->running[i]);
	}
	while (c->npending > 0 && (slot = jobs_slot(c)) >= 0) {
		j = jobs_unqueue(c, 0);
		if (jobs_start(j) == -1) {
			jobs_fail_now(c, j->id, j->token,
			    KF__KF_ERR__ERR_INTERNAL,
			    "client could not start a thread for the job");
			job_free(&j);
			continue;
		}
		c->running[slot] = j;
	}
}

/* Stop and join every job; fail the orders that never started. */
void
jobs_shutdown(struct client *c)
{
	size_t	 i;
	int	 linger = 2000;

	atomic_store(&c->stopping, 1);
	for (i = 0; i < CLIENT_MAX_JOBS; i++) {
		if (c->running[i] == NULL)
			continue;
		pthread_join(c->running[i]->thread, NULL);
		job_free(&c->running[i]);
	}
	for (i = 0; i < c->npending; i++) {
		jobs_fail_now(c, c->pending[i]->id, c->pending[i]->token,
		    KF__KF_ERR__ERR_UNAVAILABLE, "client stopped");
		job_free(&c->pending[i]);
	}
	c->npending = 0;
	sockpool_clear(&idle_cs);
	sockpool_clear(&idle_ma);
	/* Give the JOB_FAILURE reports a moment to leave. */
	if (c->cs != NULL)
		(void)zmq_setsockopt(c->cs, ZMQ_LINGER, &linger,
		    sizeof(linger));
}
