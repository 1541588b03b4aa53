/*
 * job.c - what every job thread does, whatever its kind: unseal the DEK,
 * own its sockets, wait for replies without missing a shutdown, report
 * progress, and report the end (JOB_DONE, or JOB_FAILURE with the first
 * error met).
 *
 * Seed backup step 3 and restore step 5 end here: CommServe sent the DEK
 * protected with the client network password, and job_open_seal opens it.
 * The DEK and the job token live in a locked page wiped when the job ends.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "chunk.h"
#include "client.h"
#include "conf.h"
#include "keyseal.h"
#include "log.h"
#include "util.h"

#define JOB_KEYS_LEN	(KF_KEY_LEN + KF_TOKEN_LEN)
#define JOB_POLL_MS	250	/* how often a waiting job checks for stop */
#define JOB_REPORT_MS	10000	/* wait for CommServe's OK to a report */
#define JOB_REPORT_STOP_MS 2000	/* the same while clientd is stopping */

/* Takes the unpacked order (*orderp is cleared). */
struct job *
job_new(struct client *c, enum job_kind kind, ProtobufCMessage **orderp)
{
	struct job	*j;

	if ((j = calloc(1, sizeof(*j))) == NULL)
		return NULL;
	if ((j->keys = keymem_new(JOB_KEYS_LEN)) == NULL) {
		free(j);
		return NULL;
	}
	j->client = c;
	j->kind = kind;
	j->order = *orderp;
	*orderp = NULL;
	j->id = kind == JOB_KIND_BACKUP ?
	    ((Kf__BackupOrder *)j->order)->job :
	    ((Kf__RestoreOrder *)j->order)->job;
	snprintf(j->trace_id, sizeof(j->trace_id), "job/%llu",
	    (unsigned long long)j->id);
	j->dek = j->keys;
	j->token = j->keys + KF_KEY_LEN;
	j->err = KF__KF_ERR__ERR_NONE;
	atomic_init(&j->finished, 0);
	atomic_init(&j->cancelled, 0);
	return j;
}

void
job_free(struct job **jp)
{
	struct job	*j;

	if (jp == NULL || (j = *jp) == NULL)
		return;
	if (j->cs != NULL)
		zmq_close(j->cs);
	if (j->ma != NULL)
		zmq_close(j->ma);
	keymem_free(&j->keys, JOB_KEYS_LEN);
	if (j->order != NULL)
		protobuf_c_message_free_unpacked(j->order, NULL);
	free(j);
	*jp = NULL;
}

/* Seed backup step 3 / restore step 5 (client side): open the sealed DEK. */
int
job_open_seal(struct job *j, const Kf__SealedKey *sk)
{
	struct sealed_key	 s;
	const struct client	*c = j->client;
	int			 rc;

	if (sk == NULL || sk->salt.len != sizeof(s.salt) ||
	    sk->nonce.len != sizeof(s.nonce) ||
	    sk->ciphertext.len != sizeof(s.ct))
		return -1;
	memcpy(s.salt, sk->salt.data, sizeof(s.salt));
	memcpy(s.nonce, sk->nonce.data, sizeof(s.nonce));
	memcpy(s.ct, sk->ciphertext.data, sizeof(s.ct));
	rc = keyseal_open(c->nk, j->id, c->conf->name, &s, j->dek, j->token);
	crypto_wipe(&s, sizeof(s));
	return rc;
}

/* wire_msg_clear, then zero m, so that clearing twice is harmless. */
void
job_msg_clear(struct wire_msg *m)
{
	wire_msg_clear(m);
	memset(m, 0, sizeof(*m));
}

/* The parts of an order both kinds of job share. */
int
job_check_order(struct job *j, uint32_t chunk_size, const char *endpoint)
{
	if (chunk_size < KF_CHUNK_MIN || chunk_size > KF_CHUNK_MAX)
		return job_fail(j, KF__KF_ERR__ERR_INVALID, "chunk size %u is "
		    "outside %d..%d", chunk_size, KF_CHUNK_MIN, KF_CHUNK_MAX);
	if (conf_endpoint_valid(endpoint) != 0)
		return job_fail(j, KF__KF_ERR__ERR_INVALID, "MediaAgent "
		    "endpoint \"%s\" is not a tcp:// or ipc:// endpoint",
		    endpoint);
	return 0;
}

/* Record the first error of the job; always returns -1. */
int
job_fail(struct job *j, kf_err_t code, const char *fmt, ...)
{
	va_list	 ap;

	if (j->err != KF__KF_ERR__ERR_NONE)
		return -1;
	j->err = code;
	va_start(ap, fmt);
	vsnprintf(j->errmsg, sizeof(j->errmsg), fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * Why the job must stop now, with *code: CommServe ended it, or clientd
 * is shutting down; NULL while it may go on.  Any of the job's threads.
 */
const char *
job_stop_reason(const struct job *j, kf_err_t *code)
{
	if (atomic_load(&j->cancelled)) {
		*code = j->cancel_code;
		return j->cancel_msg;
	}
	if (atomic_load(&j->client->stopping)) {
		*code = KF__KF_ERR__ERR_UNAVAILABLE;
		return "client stopped";
	}
	return NULL;
}

/* 1 (and the job's error set) once the job must stop.  Job thread only. */
int
job_stopped(struct job *j)
{
	const char	*why;
	kf_err_t	 code;

	if ((why = job_stop_reason(j, &code)) == NULL)
		return 0;
	job_fail(j, code, "%s", why);
	return 1;
}

/*
 * Wait up to timeout_ms for a message of type expect on sock, checking for
 * shutdown meanwhile.  An ERROR reply, a wrong type or silence fails the
 * job with a sentence that starts with what (the peer and the request).
 */
int
job_await(struct job *j, void *sock, uint32_t expect, int timeout_ms,
    struct wire_msg *m, const char *what)
{
	zmq_pollitem_t	 it;
	kf_err_t	 err;
	char		 errmsg[CLIENT_ERRMSG - 64];
	int64_t		 deadline, left;
	int		 rc;

	deadline = util_mono_ms() + timeout_ms;
	memset(m, 0, sizeof(*m));
	for (;;) {
		if (job_stopped(j))
			return -1;
		if ((left = deadline - util_mono_ms()) <= 0)
			return job_fail(j, KF__KF_ERR__ERR_TIMEOUT,
			    "%s: no answer within %d s", what,
			    timeout_ms / 1000);
		it.socket = sock;
		it.fd = -1;
		it.events = ZMQ_POLLIN;
		it.revents = 0;
		rc = zmq_poll(&it, 1, left < JOB_POLL_MS ? left : JOB_POLL_MS);
		if (rc == -1 && errno != EINTR)
			return job_fail(j, KF__KF_ERR__ERR_INTERNAL,
			    "%s: zmq_poll: %s", what, zmq_strerror(errno));
		if (rc <= 0 || !(it.revents & ZMQ_POLLIN))
			continue;
		err = KF__KF_ERR__ERR_NONE;
		if (wire_await(sock, expect, 1000, m, &err, errmsg,
		    sizeof(errmsg)) == 0)
			return 0;
		job_msg_clear(m);
		return job_fail(j, err == KF__KF_ERR__ERR_NONE ?
		    KF__KF_ERR__ERR_MALFORMED : err, "%s: %s", what, errmsg);
	}
}

/* Send one request and wait for its reply (see job_await). */
int
job_call(struct job *j, void *sock, uint32_t type,
    const ProtobufCMessage *body, uint32_t expect, int timeout_ms,
    struct wire_msg *m, const char *what)
{
	memset(m, 0, sizeof(*m));
	if (wire_send(sock, NULL, 0, type, body, NULL, 0) == -1)
		return job_fail(j, KF__KF_ERR__ERR_UNAVAILABLE,
		    "%s: cannot send: %s", what, zmq_strerror(errno));
	return job_await(j, sock, expect, timeout_ms, m, what);
}

/* JOB_PROGRESS, at most every CLIENT_PROGRESS_MS unless forced. */
void
job_progress(struct job *j, uint64_t files, uint64_t bytes,
    uint64_t files_total, uint64_t bytes_total, int force)
{
	Kf__JobProgress	 p = KF__JOB_PROGRESS__INIT;
	int64_t		 now = util_mono_ms();

	if (!force && now - j->progress_ms < CLIENT_PROGRESS_MS)
		return;
	j->progress_ms = now;
	p.job = j->id;
	p.token.data = j->token;
	p.token.len = KF_TOKEN_LEN;
	p.files = files;
	p.bytes = bytes;
	p.has_files_total = p.has_bytes_total = 1;
	p.files_total = files_total;
	p.bytes_total = bytes_total;
	if (wire_send(j->cs, NULL, 0, KF__MSG_TYPE__JOB_PROGRESS, &p.base,
	    NULL, 0) == -1)
		log_debug("job %llu: JOB_PROGRESS not sent: %s",
		    (unsigned long long)j->id, zmq_strerror(errno));
}

/* JOB_DONE (job and token are filled in here) and CommServe's OK. */
int
job_done(struct job *j, Kf__JobDone *d)
{
	struct wire_msg	 m;
	int		 rc;

	d->job = j->id;
	d->token.data = j->token;
	d->token.len = KF_TOKEN_LEN;
	rc = job_call(j, j->cs, KF__MSG_TYPE__JOB_DONE, &d->base,
	    KF__MSG_TYPE__OK, CLIENT_CS_TIMEOUT_MS, &m, "CommServe (JOB_DONE)");
	job_msg_clear(&m);
	/* CommServe saw JOB_DONE even if it refused it: no JOB_FAILURE. */
	j->reported = 1;
	return rc;
}

/* JOB_FAILURE with the job's first error; waits briefly for the OK. */
void
job_report_failure(struct job *j)
{
	Kf__JobFailed	 f = KF__JOB_FAILED__INIT;
	struct wire_msg	 m;
	zmq_pollitem_t	 it;
	kf_err_t	 err;
	char		 errmsg[256];

	if (j->err == KF__KF_ERR__ERR_NONE)
		job_fail(j, KF__KF_ERR__ERR_INTERNAL, "job failed for an "
		    "unknown reason");
	log_warnx("job %llu failed: %s: %s", (unsigned long long)j->id,
	    wire_err_name(j->err), j->errmsg);
	/* A job CommServe ended is already failed there, and forgotten. */
	if (j->reported || j->cs == NULL || atomic_load(&j->cancelled))
		return;
	j->reported = 1;
	f.job = j->id;
	f.token.data = j->token;
	f.token.len = KF_TOKEN_LEN;
	f.code = j->err;
	f.message = j->errmsg;
	if (wire_send(j->cs, NULL, 0, KF__MSG_TYPE__JOB_FAILURE, &f.base,
	    NULL, 0) == -1) {
		log_warnx("job %llu: cannot send JOB_FAILURE: %s",
		    (unsigned long long)j->id, zmq_strerror(errno));
		return;
	}
	/* Not job_await: it gives up at once when clientd is stopping. */
	it.socket = j->cs;
	it.fd = -1;
	it.events = ZMQ_POLLIN;
	it.revents = 0;
	if (zmq_poll(&it, 1, atomic_load(&j->client->stopping) ?
	    JOB_REPORT_STOP_MS : JOB_REPORT_MS) <= 0) {
		log_warnx("job %llu: CommServe did not acknowledge JOB_FAILURE",
		    (unsigned long long)j->id);
		return;
	}
	memset(&m, 0, sizeof(m));
	if (wire_await(j->cs, KF__MSG_TYPE__OK, 1000, &m, &err, errmsg,
	    sizeof(errmsg)) == -1)
		log_warnx("job %llu: CommServe answered JOB_FAILURE with: %s",
		    (unsigned long long)j->id, errmsg);
	job_msg_clear(&m);
}

/* 0 when nothing waits to be read on sock (no stray reply), else -1. */
static int
job_socket_quiet(void *sock)
{
	zmq_pollitem_t	 it;

	it.socket = sock;
	it.fd = -1;
	it.events = ZMQ_POLLIN;
	it.revents = 0;
	return zmq_poll(&it, 1, 0) == 0 ? 0 : -1;
}

/* Close *sockp unless keep is set and nothing waits to be read on it. */
static void
job_keep_if_quiet(void **sockp, int keep)
{
	if (*sockp == NULL || (keep && job_socket_quiet(*sockp) == 0))
		return;
	zmq_close(*sockp);
	*sockp = NULL;
}

void *
job_main(void *arg)
{
	struct job	*j = arg;
	int		 rc = -1, clean;

	/* Idle sockets a job before left clean, or new ones. */
	job_keep_if_quiet(&j->cs, 1);
	job_keep_if_quiet(&j->ma, 1);
	if (j->cs == NULL)
		j->cs = wire_socket(j->client->zctx, ZMQ_DEALER,
		    j->client->conf->commserve, 0);
	if (j->cs == NULL)
		job_fail(j, KF__KF_ERR__ERR_INTERNAL, "client could not open a "
		    "socket to CommServe");
	else if (j->kind == JOB_KIND_BACKUP)
		rc = backup_run(j);
	else
		rc = restore_run(j);
	if (rc == -1)
		job_report_failure(j);
	else
		log_info("job %llu: %s completed", (unsigned long long)j->id,
		    j->kind == JOB_KIND_BACKUP ? "backup" : "restore");
	/* Left open for the next job only after a clean end (jobs.c). */
	clean = rc == 0 && j->err == KF__KF_ERR__ERR_NONE &&
	    !atomic_load(&j->client->stopping);
	job_keep_if_quiet(&j->cs, clean);
	job_keep_if_quiet(&j->ma, clean);
	crypto_wipe(j->keys, JOB_KEYS_LEN);
	atomic_store(&j->finished, 1);
	return NULL;
}
