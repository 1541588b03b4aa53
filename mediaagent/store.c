/*
 * store.c - backup: a client's chunks into the job's container.
 *
 * Seed backup step 6: "The MediaAgent writes encrypted data to the target
 * backup storage."  A client opens the stream of an announced backup job
 * with the job's token (STREAM_OPEN), sends its chunks in index order
 * (CHUNK_PUT, ciphertext in its own frame, written as it comes without a
 * copy) and closes it (STREAM_CLOSE) with the counts and the digest it
 * computed.  Each chunk costs one writev; every --fsync-interval bytes the
 * container is flushed behind (container_flush), and acknowledgements are
 * cumulative and batched.  Only the connection that opened the stream may
 * feed it.  The MediaAgent computes the same digest (SHA-256 over the GCM
 * tags in index order), commits the container only when everything
 * agrees, fsynced, then reports the committed container to CommServe.
 * Any failure aborts the stream and removes its partial files, so nothing
 * uncommitted can later be mistaken for a backup.
 *
 * Several data streams: a job's client may open up to MA_STREAMS_MAX
 * connections (STREAM_OPEN with stream k of N, same token); chunk i must
 * come on stream i mod N.  The container stays sequential: a chunk that
 * comes early waits in a reorder buffer (reorder.h) of N x window chunks,
 * the most an honest client can have in flight, and is written when every
 * chunk before it was.  A chunk beyond that bound, or beyond
 * MA_REORDER_BYTES of early ciphertext, fails the job.  Each
 * stream is acknowledged on its own connection, cumulatively over its own
 * chunks, when they are written.  Any one stream's failure aborts the
 * whole job; any stream may close it once every chunk has been written.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zmq.h>

#include "chunk.h"
#include "container.h"
#include "fault.h"
#include "log.h"
#include "mediaagent.h"
#include "reorder.h"
#include "trace.h"
#include "util.h"

/*
 * Acknowledge at least every this many chunks.  Clients keep a window of
 * at least as many chunks (CLIENT_WINDOW_MIN), so they never wait for an
 * acknowledgement that is held back.
 */
#define STORE_ACK_EVERY	4

/* 1 if another message is already waiting on sock. */
static int
input_waiting(void *sock)
{
	size_t	len;
	int	ev;

	len = sizeof(ev);
	if (zmq_getsockopt(sock, ZMQ_EVENTS, &ev, &len) == -1)
		return 0;
	return (ev & ZMQ_POLLIN) != 0;
}

/* ENOSPC and EDQUOT mean the target storage is full. */
static kf_err_t
io_code(int e)
{
	return (e == ENOSPC || e == EDQUOT) ? KF__KF_ERR__ERR_NO_SPACE :
	    KF__KF_ERR__ERR_IO;
}

/* A chunk received early: its message, kept without a copy. */
struct ma_chunk {
	Kf__ChunkPut	*cp;		/* unpacked CHUNK_PUT */
	zmq_msg_t	 payload;	/* its ciphertext frame */
};

static void
chunk_release(void *item)
{
	struct ma_chunk	*c = item;

	protobuf_c_message_free_unpacked(&c->cp->base, NULL);
	zmq_msg_close(&c->payload);
	free(c);
}

/* The container, digest and early chunks go; the streams stay known. */
static void
store_drop(struct ma_job *job)
{
	if (job->cw != NULL) {
		container_abort(job->cw);
		container_writer_free(&job->cw);
	}
	sha256_free(&job->digest);
	reorder_free(&job->ro);
}

/* Drop the partial container and digest; keep the reason for the owner. */
void
store_abort(struct ma_job *job, const char *reason)
{
	size_t	n;

	if (job->cw != NULL)
		log_info("job %llu: stream aborted, partial container removed",
		    (unsigned long long)job->id);
	store_drop(job);
	job->state = MA_JOB_FAILED;
	n = strnlen(reason, sizeof(job->reason) - 1);
	memcpy(job->reason, reason, n);
	job->reason[n] = '\0';
}

/* Called when a job is forgotten: an open container never committed. */
void
store_release(struct ma_job *job)
{
	store_drop(job);
	free(job->st);
	job->st = NULL;
}

/*
 * Fail the request with code and a sentence, and abort the stream with
 * the same sentence.
 */
static int
abort_fail(struct ma_req *req, struct ma_job *job, kf_err_t code,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int
abort_fail(struct ma_req *req, struct ma_job *job, kf_err_t code,
    const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	dispatch_vfail(req, code, fmt, ap);
	va_end(ap);
	store_abort(job, req->err);
	return -1;
}

/* Refuse to let a new stream replace a committed container. */
static int
committed_exists(const struct ma_job *job, char *path, size_t cap)
{
	struct stat	st;
	int		idx;

	for (idx = 0; idx <= 1; idx++) {
		if (container_path(path, cap, job->mount, job->id, 0, idx) ==
		    -1)
			return 1;
		if (lstat(path, &st) == 0 || errno != ENOENT)
			return 1;
	}
	return 0;
}

/* The stream this connection opened, or -1. */
static int
stream_of(const struct ma_job *job, const struct wire_msg *m)
{
	uint32_t	k;

	if (job->st == NULL)
		return -1;
	for (k = 0; k < job->streams; k++)
		if (job->st[k].peerlen != 0 &&
		    job->st[k].peerlen == m->peerlen &&
		    memcmp(job->st[k].peer, m->peer, m->peerlen) == 0)
			return (int)k;
	return -1;
}

/* The first stream of a job: the container, digest and reorder buffer. */
static int
open_first(struct ma *ma, struct ma_req *req, struct ma_job *job,
    uint32_t streams, uint32_t window)
{
	char			 path[PATH_MAX];
	unsigned long long	 id = job->id;
	int			 e;

	if (committed_exists(job, path, sizeof(path)))
		return dispatch_fail(req, KF__KF_ERR__ERR_EXISTS,
		    "job %llu already has a container at %s; refusing to "
		    "overwrite it", id, path);
	errno = 0;
	if ((job->cw = container_create(job->mount, job->id)) == NULL) {
		e = errno;
		return dispatch_fail(req, io_code(e),
		    "cannot create the container of job %llu under %s: %s",
		    id, job->mount, e ? strerror(e) : "see the MediaAgent log");
	}
	free(job->st);
	if ((job->digest = sha256_new()) == NULL ||
	    (job->st = calloc(streams, sizeof(*job->st))) == NULL ||
	    (streams > 1 && (job->ro = reorder_new((size_t)streams * window,
	    chunk_release)) == NULL)) {
		store_release(job);
		return dispatch_fail(req, KF__KF_ERR__ERR_INTERNAL,
		    "job %llu: out of memory for the stream", id);
	}
	job->streams = streams;
	job->window = window;
	job->state = MA_JOB_STREAMING;
	job->next_index = 0;
	job->stream_bytes = 0;
	job->unsynced = 0;
	job->got_last = 0;
	job->seen_last = 0;
	job->last_index = 0;
	job->ro_bytes = 0;
	log_info("job %llu: stream opened by client %s into %s (%u data "
	    "streams)", id, job->client, job->mount, streams);
	if (ma->conf->delay_us > 0)
		log_warnx("job %llu: TEST ONLY: KEYFLOW_MA_DELAY_US slows "
		    "every chunk down by %u us", id, ma->conf->delay_us);
	return 0;
}

int
store_open(struct ma *ma, struct ma_req *req)
{
	const Kf__StreamOpen	*so = (const Kf__StreamOpen *)req->m->body;
	const struct wire_msg	*m = req->m;
	Kf__Ok			 ok = KF__OK__INIT;
	struct ma_job		*job;
	unsigned long long	 id = so->job;
	uint32_t		 k, streams, window;

	job = session_job(ma, so->job);
	if (job == NULL)
		return dispatch_fail(req, KF__KF_ERR__ERR_UNAVAILABLE,
		    "mediaagent %s has no backup job %llu (it was never "
		    "announced, or the MediaAgent restarted since)",
		    ma->conf->name, id);
	if (job->type != KF__JOB_TYPE__JOB_BACKUP ||
	    !session_token_ok(job, &so->token) ||
	    strcmp(job->client, so->client) != 0)
		return dispatch_fail(req, KF__KF_ERR__ERR_AUTH,
		    "backup job %llu was not announced to mediaagent %s for "
		    "this client, or the job token is wrong", id,
		    ma->conf->name);
	if (job->state == MA_JOB_FAILED)
		return dispatch_fail(req, KF__KF_ERR__ERR_STATE,
		    "the stream was aborted: %s", job->reason);
	streams = so->has_streams ? so->streams : 1;
	k = so->has_stream ? so->stream : 0;
	window = so->has_window ? so->window : MA_STREAM_WINDOW_MAX;
	if (streams < 1 || streams > MA_STREAMS_MAX || k >= streams ||
	    window < 1 || window > MA_STREAM_WINDOW_MAX)
		return dispatch_fail(req, KF__KF_ERR__ERR_INVALID,
		    "job %llu: stream %u of %u with a window of %u chunks; "
		    "a job has 1 to %d streams and windows of 1 to %d chunks",
		    id, k, streams, window, MA_STREAMS_MAX,
		    MA_STREAM_WINDOW_MAX);
	if (job->state == MA_JOB_ANNOUNCED) {
		if (open_first(ma, req, job, streams, window) == -1)
			return -1;
	} else if (job->state != MA_JOB_STREAMING || job->streams == 1 ||
	    job->st[k].peerlen != 0 || stream_of(job, m) != -1)
		return dispatch_fail(req, KF__KF_ERR__ERR_STATE,
		    "job %llu's stream%s is already open", id,
		    job->streams > 1 ? " on this connection or that number" :
		    "");
	else if (streams != job->streams || window != job->window)
		return dispatch_fail(req, KF__KF_ERR__ERR_INVALID,
		    "job %llu: stream %u announces %u streams with a window "
		    "of %u; the job's first stream announced %u with %u", id,
		    k, streams, window, job->streams, job->window);
	memcpy(job->st[k].peer, m->peer, m->peerlen);
	job->st[k].peerlen = m->peerlen;
	job->active_ms = util_mono_ms();
	ok.message = "stream open";
	dispatch_reply(req, KF__MSG_TYPE__OK, &ok.base, NULL, 0);
	return 0;
}

/*
 * The backup job whose stream this connection opened, or NULL after
 * failing the request; *k is the stream.  Another connection, even one
 * knowing the token, cannot feed or close a stream it did not open.
 */
static struct ma_job *
owned_stream(struct ma *ma, struct ma_req *req, uint64_t id, uint32_t *k)
{
	struct ma_job	*job;
	int		 s;

	job = session_job(ma, id);
	if (job == NULL) {
		dispatch_fail(req, KF__KF_ERR__ERR_UNAVAILABLE,
		    "mediaagent %s has no backup job %llu (the MediaAgent "
		    "restarted since the stream was opened, or it never was)",
		    ma->conf->name, (unsigned long long)id);
		return NULL;
	}
	if (job->type != KF__JOB_TYPE__JOB_BACKUP ||
	    (s = stream_of(job, req->m)) == -1) {
		dispatch_fail(req, KF__KF_ERR__ERR_AUTH,
		    "job %llu has no stream opened by this connection "
		    "(send STREAM_OPEN first; a connection that dropped "
		    "cannot resume a stream)", (unsigned long long)id);
		return NULL;
	}
	if (job->state == MA_JOB_FAILED) {
		dispatch_fail(req, KF__KF_ERR__ERR_STATE,
		    "the stream was aborted: %s", job->reason);
		return NULL;
	}
	*k = (uint32_t)s;
	job->active_ms = util_mono_ms();
	return job;
}

/* A CHUNK_PUT's fields and frame agree and are within bounds. */
static int
chunk_valid(struct ma_req *req, const Kf__ChunkPut *cp, size_t len)
{
	unsigned long long	id = cp->job, idx = cp->index;

	if (!req->m->has_payload)
		return dispatch_fail(req, KF__KF_ERR__ERR_MALFORMED,
		    "job %llu: chunk %llu came without its ciphertext frame",
		    id, idx);
	if (cp->plain_len > KF_CHUNK_MAX)
		return dispatch_fail(req, KF__KF_ERR__ERR_INVALID,
		    "job %llu: chunk %llu is %u bytes, over the %d byte limit",
		    id, idx, cp->plain_len, KF_CHUNK_MAX);
	if (len != cp->plain_len)
		return dispatch_fail(req, KF__KF_ERR__ERR_INVALID,
		    "job %llu: chunk %llu says %u bytes but carries %zu", id,
		    idx, cp->plain_len, len);
	if (cp->nonce.len != KF_NONCE_LEN || cp->tag.len != KF_TAG_LEN)
		return dispatch_fail(req, KF__KF_ERR__ERR_INVALID,
		    "job %llu: chunk %llu has a %zu byte nonce and a %zu byte "
		    "tag; expected %d and %d", id, idx, cp->nonce.len,
		    cp->tag.len, KF_NONCE_LEN, KF_TAG_LEN);
	return 0;
}

/* Seed backup step 6: chunk next_index onto the target storage. */
static int
chunk_write(struct ma *ma, struct ma_req *req, struct ma_job *job,
    const Kf__ChunkPut *cp, const uint8_t *data)
{
	struct frame_header	 h;
	struct ma_stream	*st = &job->st[cp->index % job->streams];
	unsigned long long	 id = cp->job, idx = cp->index;
	int			 e;

	memset(&h, 0, sizeof(h));
	h.flags = cp->last ? CONTAINER_FLAG_LAST : 0;
	h.job = cp->job;
	h.index = cp->index;
	h.len = cp->plain_len;
	memcpy(h.nonce, cp->nonce.data, KF_NONCE_LEN);
	memcpy(h.tag, cp->tag.data, KF_TAG_LEN);
	if (container_append(job->cw, &h, data) == -1) {
		e = errno;
		if (io_code(e) == KF__KF_ERR__ERR_NO_SPACE)
			return abort_fail(req, job, KF__KF_ERR__ERR_NO_SPACE,
			    "job %llu: no space left on %s", id, job->mount);
		return abort_fail(req, job, KF__KF_ERR__ERR_IO,
		    "job %llu: writing chunk %llu under %s failed: %s", id,
		    idx, job->mount, strerror(e));
	}
	if (sha256_update(job->digest, h.tag, KF_TAG_LEN) == -1)
		return abort_fail(req, job, KF__KF_ERR__ERR_INTERNAL,
		    "job %llu: the stream digest failed", id);
	job->next_index++;
	job->stream_bytes += cp->plain_len;
	job->unsynced += cp->plain_len;
	job->got_last = cp->last;
	st->written = cp->index + 1;
	st->pending++;
	fault_point("ma.after_chunk", cp->index);

	if (ma->conf->fsync_interval > 0 &&
	    job->unsynced >= ma->conf->fsync_interval) {
		if (container_flush(job->cw) == -1) {
			e = errno;
			return abort_fail(req, job, io_code(e),
			    "job %llu: flushing the container under %s to "
			    "disk failed: %s", id, job->mount, strerror(e));
		}
		job->unsynced = 0;
	}
	if (ma->conf->delay_us > 0)
		usleep(ma->conf->delay_us);	/* test only */
	return 0;
}

/* Keep an early chunk, taking the message's body and frame. */
static int
chunk_keep(struct ma *ma, struct ma_req *req, struct ma_job *job)
{
	const Kf__ChunkPut	*cp = (const Kf__ChunkPut *)req->m->body;
	struct ma_chunk		*c;
	unsigned long long	 id = cp->job, idx = cp->index;

	if (job->ro_bytes + cp->plain_len > MA_REORDER_BYTES)
		return abort_fail(req, job, KF__KF_ERR__ERR_INVALID,
		    "job %llu: chunk %llu came early with %llu bytes already "
		    "waiting for their turn; the MediaAgent keeps at most %u",
		    id, idx, (unsigned long long)job->ro_bytes,
		    MA_REORDER_BYTES);
	if (req->m != &ma->msg || (c = calloc(1, sizeof(*c))) == NULL)
		return abort_fail(req, job, KF__KF_ERR__ERR_INTERNAL,
		    "job %llu: cannot keep chunk %llu", id, idx);
	c->cp = (Kf__ChunkPut *)ma->msg.body;
	zmq_msg_init(&c->payload);
	zmq_msg_move(&c->payload, &ma->msg.payload);
	switch (reorder_put(job->ro, job->next_index, cp->index, c)) {
	case REORDER_KEPT:
		ma->msg.body = NULL;	/* now the reorder buffer's */
		ma->msg.has_payload = 0;
		job->ro_bytes += cp->plain_len;
		return 0;
	case REORDER_TOO_FAR:
		zmq_msg_move(&ma->msg.payload, &c->payload);
		free(c);
		return abort_fail(req, job, KF__KF_ERR__ERR_INVALID,
		    "job %llu: chunk %llu came %llu chunks ahead of chunk "
		    "%llu, beyond the reorder bound of %u streams x %u chunks",
		    id, idx, idx - (unsigned long long)job->next_index,
		    (unsigned long long)job->next_index, job->streams,
		    job->window);
	default:
		zmq_msg_move(&ma->msg.payload, &c->payload);
		free(c);
		return abort_fail(req, job, KF__KF_ERR__ERR_INVALID,
		    "job %llu: chunk %llu arrived twice", id, idx);
	}
}

/* Write the early chunks whose turn has come. */
static int
chunk_flush(struct ma *ma, struct ma_req *req, struct ma_job *job)
{
	struct ma_chunk	*c;
	int		 rc;

	if (job->ro == NULL)
		return 0;
	while ((c = reorder_take(job->ro, job->next_index)) != NULL) {
		job->ro_bytes -= c->cp->plain_len;
		rc = chunk_write(ma, req, job, c->cp, zmq_msg_data(&c->payload));
		chunk_release(c);
		if (rc == -1)
			return -1;
	}
	return 0;
}

/*
 * Cumulative acknowledgements, per stream over its own chunks: every
 * STORE_ACK_EVERY chunks, for the last chunk, and whenever nothing else
 * is waiting to be read (the client may be waiting for this one).
 */
static void
send_acks(struct ma_req *req, struct ma_job *job)
{
	Kf__ChunkAck		 ack = KF__CHUNK_ACK__INIT;
	struct ma_stream	*st;
	uint32_t		 k;
	int			 idle = -1;

	for (k = 0; k < job->streams; k++) {
		st = &job->st[k];
		if (st->pending == 0 || st->peerlen == 0)
			continue;
		if (st->pending < STORE_ACK_EVERY && !job->got_last) {
			if (idle == -1)
				idle = !input_waiting(req->sock);
			if (!idle)
				continue;
		}
		ack.job = job->id;
		ack.index = st->written - 1;
		if (wire_send(req->sock, st->peer, st->peerlen,
		    KF__MSG_TYPE__CHUNK_ACK, &ack.base, NULL, 0) == -1)
			log_warn("job %llu: CHUNK_ACK to stream %u not sent",
			    (unsigned long long)job->id, k);
		st->acked = st->written;
		st->pending = 0;
	}
}

/* Seed backup step 6: one chunk of ciphertext onto the target storage. */
int
store_put(struct ma *ma, struct ma_req *req)
{
	const Kf__ChunkPut	*cp = (const Kf__ChunkPut *)req->m->body;
	struct ma_job		*job;
	size_t			 len = 0;
	unsigned long long	 id = cp->job, idx = cp->index;
	uint32_t		 k;

	if ((job = owned_stream(ma, req, cp->job, &k)) == NULL)
		return -1;
	if (job->got_last || (job->seen_last && cp->index > job->last_index))
		return dispatch_fail(req, KF__KF_ERR__ERR_STATE,
		    "job %llu: chunk %llu arrived after the last chunk (%llu)",
		    id, idx, (unsigned long long)job->last_index);
	if (job->streams == 1 && cp->index != job->next_index)
		return dispatch_fail(req, KF__KF_ERR__ERR_INVALID,
		    "job %llu: chunk %llu is out of order; expected chunk %llu",
		    id, idx, (unsigned long long)job->next_index);
	if (cp->index % job->streams != k)
		return abort_fail(req, job, KF__KF_ERR__ERR_INVALID,
		    "job %llu: chunk %llu came on stream %u of %u; it belongs "
		    "to stream %llu", id, idx, k, job->streams,
		    idx % job->streams);
	if (cp->index < job->next_index)
		return abort_fail(req, job, KF__KF_ERR__ERR_INVALID,
		    "job %llu: chunk %llu arrived twice", id, idx);
	(void)wire_payload(req->m, &len);
	if (chunk_valid(req, cp, len) == -1)
		return -1;
	if (cp->last && job->seen_last)
		return abort_fail(req, job, KF__KF_ERR__ERR_INVALID,
		    "job %llu: chunk %llu is flagged last after chunk %llu "
		    "was", id, idx, (unsigned long long)job->last_index);
	if (cp->last) {
		job->seen_last = 1;
		job->last_index = cp->index;
	}
	if (cp->index == job->next_index) {
		if (chunk_write(ma, req, job, cp,
		    wire_payload(req->m, &len)) == -1 ||
		    chunk_flush(ma, req, job) == -1)
			return -1;
	} else if (chunk_keep(ma, req, job) == -1)
		return -1;
	send_acks(req, job);
	return 0;
}

/* Tell CommServe the container is durable (it commits the job on that). */
static void
report_committed(struct ma *ma, const struct ma_job *job,
    const uint8_t digest[KF_SHA256_LEN])
{
	Kf__ContainerCommitted	cc = KF__CONTAINER_COMMITTED__INIT;

	cc.job = job->id;
	cc.chunks = job->next_index;
	cc.stream_bytes = job->stream_bytes;
	cc.digest.data = (uint8_t *)digest;
	cc.digest.len = KF_SHA256_LEN;
	cc.mediaagent = (char *)ma->conf->name;
	if (wire_send(ma->cs, NULL, 0, KF__MSG_TYPE__CONTAINER_COMMITTED,
	    &cc.base, NULL, 0) == -1)
		log_warn("job %llu: CONTAINER_COMMITTED not sent to CommServe",
		    (unsigned long long)job->id);
}

int
store_close(struct ma *ma, struct ma_req *req)
{
	const Kf__StreamClose	*sc = (const Kf__StreamClose *)req->m->body;
	struct ma_job		*job;
	uint8_t			 digest[KF_SHA256_LEN];
	unsigned long long	 id = sc->job;
	uint32_t		 k;

	if ((job = owned_stream(ma, req, sc->job, &k)) == NULL)
		return -1;
	if (job->state != MA_JOB_STREAMING)
		return dispatch_fail(req, KF__KF_ERR__ERR_STATE,
		    "job %llu's stream is already closed", id);
	if (!job->got_last || (job->ro != NULL &&
	    reorder_count(job->ro) != 0))
		return abort_fail(req, job, KF__KF_ERR__ERR_INTEGRITY,
		    "job %llu: STREAM_CLOSE before the chunk flagged last "
		    "(%llu chunks received)", id,
		    (unsigned long long)job->next_index);
	if (sha256_final(job->digest, digest) == -1)
		return abort_fail(req, job, KF__KF_ERR__ERR_INTERNAL,
		    "job %llu: the stream digest failed", id);
	if (sc->chunks != job->next_index ||
	    sc->stream_bytes != job->stream_bytes)
		return abort_fail(req, job, KF__KF_ERR__ERR_INTEGRITY,
		    "job %llu: the client counts %llu chunks and %llu bytes, "
		    "the MediaAgent received %llu chunks and %llu bytes", id,
		    (unsigned long long)sc->chunks,
		    (unsigned long long)sc->stream_bytes,
		    (unsigned long long)job->next_index,
		    (unsigned long long)job->stream_bytes);
	if (sc->digest.len != KF_SHA256_LEN ||
	    crypto_memeq(sc->digest.data, digest, KF_SHA256_LEN) != 0)
		return abort_fail(req, job, KF__KF_ERR__ERR_INTEGRITY,
		    "job %llu: the stream digest the client sent does not "
		    "match the chunks the MediaAgent received", id);

	fault_point("ma.before_commit", job->id);
	/* The digest is final; the committer takes the writer (commit.c). */
	sha256_free(&job->digest);
	if (commit_submit(ma, job, req->m, digest) == -1)
		return abort_fail(req, job, KF__KF_ERR__ERR_INTERNAL,
		    "job %llu: cannot queue the commit", id);
	job->active_ms = util_mono_ms();
	return 0;
}

/*
 * Answer the connection that closed job's stream, as if answering its
 * STREAM_CLOSE: with body, or with ERROR code and sentence when body is
 * NULL.
 */
static void
committed_reply(struct ma *ma, uint64_t job, const uint8_t *peer,
    size_t peerlen, const ProtobufCMessage *body, kf_err_t code,
    const char *sentence)
{
	Kf__StreamClose	sc = KF__STREAM_CLOSE__INIT;
	struct wire_msg	m;
	struct ma_req	req;

	memset(&m, 0, sizeof(m));
	memcpy(m.peer, peer, peerlen);
	m.peerlen = peerlen;
	m.type = KF__MSG_TYPE__STREAM_CLOSE;
	sc.job = job;
	m.body = &sc.base;
	memset(&req, 0, sizeof(req));
	req.sock = ma->data;
	req.m = &m;
	if (body != NULL)
		dispatch_reply(&req, KF__MSG_TYPE__STREAM_CLOSED, body, NULL, 0);
	else
		dispatch_error(&req, code, sentence);
}

/*
 * A committer is done with job's container (*cwp, taken): on success the
 * job is reported to CommServe and the client gets STREAM_CLOSED; on
 * failure the partial container goes and the client gets the reason.  A
 * discard that came meanwhile is carried out now.
 */
void
store_committed(struct ma *ma, struct ma_job *job,
    struct container_writer **cwp, int rc, int err, const uint8_t *peer,
    size_t peerlen, const uint8_t digest[KF_SHA256_LEN])
{
	Kf__StreamClosed	 closed = KF__STREAM_CLOSED__INIT;
	char			 path[PATH_MAX], tid[32], why[MA_REASON_MAX];
	unsigned long long	 id = job->id;

	job->cw = *cwp;
	*cwp = NULL;
	job->active_ms = util_mono_ms();
	if (rc == -1) {
		snprintf(why, sizeof(why), "job %llu: committing the container "
		    "under %s failed: %s", id, job->mount, err ?
		    strerror(err) : "see the MediaAgent log");
		committed_reply(ma, id, peer, peerlen, NULL, io_code(err), why);
		store_abort(job, why);
	} else {
		container_writer_free(&job->cw);
		if (job->ro != NULL)
			log_info("job %llu: %u data streams; at most %zu "
			    "chunks waited for their turn", id, job->streams,
			    reorder_peak(job->ro));
		reorder_free(&job->ro);
		if (container_path(path, sizeof(path), job->mount, job->id, 0,
		    0) == -1)
			snprintf(path, sizeof(path), "%s", job->mount);
		snprintf(tid, sizeof(tid), "job/%llu", id);

		/* Seed backup step 6: the MediaAgent writes encrypted data. */
		trace_step(ma->trace, tid, "backup", 6, NULL,
		    job->stream_bytes, "wrote %llu chunks (%llu bytes of "
		    "ciphertext) to %s and fsynced",
		    (unsigned long long)job->next_index,
		    (unsigned long long)job->stream_bytes, path);
		log_info("job %llu: committed %llu chunks, %llu bytes to %s",
		    id, (unsigned long long)job->next_index,
		    (unsigned long long)job->stream_bytes, path);

		fault_point("ma.after_commit_before_report", job->id);
		/* Kept until it expires: CommServe may yet refuse the job. */
		job->state = MA_JOB_COMMITTED;
		report_committed(ma, job, digest);
		closed.job = job->id;
		closed.chunks = job->next_index;
		closed.digest.data = (uint8_t *)digest;
		closed.digest.len = KF_SHA256_LEN;
		committed_reply(ma, id, peer, peerlen, &closed.base, 0, NULL);
	}
	if (job->discard_pending)
		session_discard_committed(ma, job);
}
