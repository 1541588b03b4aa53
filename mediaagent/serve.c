/*
 * serve.c - restore: a backup's chunks back to the client.
 *
 * Seed restore step 6: "The MediaAgent sends encrypted data to the
 * client."  CommServe announces a restore job with the backup job to read.
 * The client grants credit: each CHUNK_READ (with the restore job's token)
 * names up to MA_READ_MAX chunks, and the MediaAgent sends them all at once,
 * one CHUNK_DATA per chunk with the ciphertext in its own frame, without
 * waiting for anything; the client sends more credit as it consumes, so
 * the stream never stops while memory stays bounded by the credit.
 *
 * The backup's container is opened on the first read and kept open for the
 * job, with a sequential readahead hint, and each request also asks the
 * kernel to start reading the chunks after it.  Frames are read (header and
 * ciphertext in one preadv) into one of MA_SEND_BUFS buffers and sent
 * zero-copy: ZeroMQ puts a buffer back into the pool from its I/O thread
 * once the bytes are on the wire.  When every buffer is on the wire (many
 * restores at once) the chunk is copied into ZeroMQ from one more buffer
 * instead.  The buffers are allocated once, at the first restore, and kept
 * for the daemon's life; only the pages chunks touch become resident.  The
 * data socket's high-water mark bounds what one client can have queued.
 * Every frame is checked (header CRC, job, index, ciphertext CRC) before it
 * is sent, so damaged storage is reported as such instead of reaching the
 * client.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "chunk.h"
#include "container.h"
#include "fault.h"
#include "log.h"
#include "mediaagent.h"
#include "pipeline.h"
#include "trace.h"
#include "util.h"

void
serve_release(struct ma_job *job)
{
	container_reader_free(&job->cr);
}

/* 1 if either file of the committed container is present. */
static int
container_present(const struct ma_job *job)
{
	char		path[PATH_MAX];
	struct stat	st;
	int		idx;

	for (idx = 0; idx <= 1; idx++)
		if (container_path(path, sizeof(path), job->mount,
		    job->backup_job, 0, idx) == 0 && lstat(path, &st) == 0)
			return 1;
	return 0;
}

static int
open_container(struct ma_req *req, struct ma_job *job)
{
	char	err[512];

	err[0] = '\0';
	job->cr = container_open_err(job->mount, job->backup_job, err,
	    sizeof(err));
	if (job->cr != NULL)
		return 0;
	if (!container_present(job))
		return dispatch_fail(req, KF__KF_ERR__ERR_NOT_FOUND,
		    "backup job %llu has no committed container under %s",
		    (unsigned long long)job->backup_job, job->mount);
	return dispatch_fail(req, KF__KF_ERR__ERR_INTEGRITY,
	    "restore job %llu: %s", (unsigned long long)job->id, err);
}

/* Seed restore step 6, once the container's last chunk has been sent. */
static void
served_all(struct ma *ma, struct ma_job *job)
{
	char	tid[32];

	snprintf(tid, sizeof(tid), "job/%llu", (unsigned long long)job->id);
	trace_step(ma->trace, tid, "restore", 6, job->client,
	    job->stream_bytes, "sent %llu chunks to client %s",
	    (unsigned long long)job->sent, job->client);
	log_info("restore job %llu: sent %llu chunks (%llu bytes) of backup "
	    "job %llu to client %s", (unsigned long long)job->id,
	    (unsigned long long)job->sent,
	    (unsigned long long)job->stream_bytes,
	    (unsigned long long)job->backup_job, job->client);
	job->state = MA_JOB_SERVED;
	serve_release(job);
}

/*
 * A restore job is forgotten: a partial restore that never asked for the
 * last chunk still sent data, and its seed step is traced now.
 */
void
serve_finish(struct ma *ma, struct ma_job *job)
{
	if (job->type == KF__JOB_TYPE__JOB_RESTORE && job->sent > 0 &&
	    job->state != MA_JOB_SERVED)
		served_all(ma, job);
}

/* ZeroMQ is done with a zero-copy payload: back into the pool. */
static void
buf_done(void *data, void *hint)
{
	pool_put(hint, data);
}

/*
 * The reply CHUNK_DATA with a pool buffer as its payload frame, framed as
 * wire_send frames it, without copying the payload.  The buffer goes back
 * to the pool whatever happens.
 */
static int
reply_zc(const struct ma_req *req, const Kf__ChunkData *cd,
    struct pool *pool, uint8_t *buf, size_t len)
{
	const struct wire_msg	*m = req->m;
	zmq_msg_t		 pl;
	uint8_t			 hdr[4], body[256];
	size_t			 blen;
	char			 who[2 * WIRE_PEER_MAX + 1];

	blen = protobuf_c_message_get_packed_size(&cd->base);
	if (blen > sizeof(body) ||
	    zmq_msg_init_data(&pl, buf, len, buf_done, pool) == -1) {
		pool_put(pool, buf);
		log_warnx("CHUNK_DATA not sent: cannot frame it");
		return -1;
	}
	protobuf_c_message_pack(&cd->base, body);
	be32_put(hdr, KF__MSG_TYPE__CHUNK_DATA);
	if (zmq_send(req->sock, m->peer, m->peerlen, ZMQ_SNDMORE) == -1 ||
	    zmq_send(req->sock, hdr, sizeof(hdr), ZMQ_SNDMORE) == -1 ||
	    zmq_send(req->sock, body, blen, ZMQ_SNDMORE) == -1 ||
	    zmq_msg_send(&pl, req->sock, 0) == -1) {
		/* EHOSTUNREACH: gone; EAGAIN: not reading its replies. */
		log_warn("CHUNK_DATA to %s not sent", dispatch_peer(m, who,
		    sizeof(who)));
		zmq_msg_close(&pl);
		return -1;
	}
	return 0;
}

/* A free zero-copy buffer, or NULL when all are on the wire. */
static uint8_t *
buf_take(struct ma *ma)
{
	if (ma->sendbufs == NULL &&
	    (ma->sendbufs = pool_new(MA_SEND_BUFS, KF_CHUNK_MAX)) == NULL)
		return NULL;
	if (pool_out(ma->sendbufs) >= MA_SEND_BUFS)
		return NULL;
	/* Only this thread takes buffers: one is free, this cannot wait. */
	return pool_get(ma->sendbufs);
}

/* Read one frame and send it as CHUNK_DATA; -1 fails the request. */
static int
send_chunk(struct ma *ma, struct ma_req *req, struct ma_job *job,
    uint64_t index, uint64_t nchunks, int *gone)
{
	Kf__ChunkData		cd = KF__CHUNK_DATA__INIT;
	struct frame_header	h;
	uint8_t			*buf;
	char			err[256];
	int			last, rc;

	if ((buf = buf_take(ma)) == NULL && ma->rbuf == NULL &&
	    (ma->rbuf = malloc(KF_CHUNK_MAX)) == NULL)
		return dispatch_fail(req, KF__KF_ERR__ERR_INTERNAL, "restore "
		    "job %llu: out of memory for the read buffer",
		    (unsigned long long)job->id);
	if (container_read(job->cr, index, &h, buf ? buf : ma->rbuf,
	    KF_CHUNK_MAX, err, sizeof(err)) == -1) {
		if (buf != NULL)
			pool_put(ma->sendbufs, buf);
		return dispatch_fail(req, KF__KF_ERR__ERR_INTEGRITY,
		    "restore job %llu: %s", (unsigned long long)job->id, err);
	}
	last = (h.flags & CONTAINER_FLAG_LAST) != 0;
	if (last != (index + 1 == nchunks)) {
		if (buf != NULL)
			pool_put(ma->sendbufs, buf);
		return dispatch_fail(req, KF__KF_ERR__ERR_INTEGRITY,
		    "restore job %llu: chunk %llu of backup job %llu is %s "
		    "the last of its %llu chunks", (unsigned long long)job->id,
		    (unsigned long long)index,
		    (unsigned long long)job->backup_job,
		    last ? "flagged as" : "not flagged as",
		    (unsigned long long)nchunks);
	}
	cd.job = job->backup_job;
	cd.index = index;
	cd.plain_len = h.len;
	cd.last = last;
	cd.nonce.data = h.nonce;
	cd.nonce.len = KF_NONCE_LEN;
	cd.tag.data = h.tag;
	cd.tag.len = KF_TAG_LEN;
	if (buf != NULL)
		rc = reply_zc(req, &cd, ma->sendbufs, buf, h.len);
	else
		rc = dispatch_reply(req, KF__MSG_TYPE__CHUNK_DATA, &cd.base,
		    ma->rbuf, h.len);
	if (rc == -1) {
		/* The client left or stopped reading: nobody to answer. */
		*gone = 1;
		return 0;
	}
	job->sent++;
	job->stream_bytes += h.len;
	fault_point("ma.serve_after_chunk", job->sent);
	return 0;
}

int
serve_read(struct ma *ma, struct ma_req *req)
{
	const Kf__ChunkRead	*rd = (const Kf__ChunkRead *)req->m->body;
	struct ma_job		*job;
	uint64_t		 nchunks, idx, from, end;
	uint32_t		 i;
	int			 gone = 0;
	unsigned long long	 id = rd->job;

	job = session_job(ma, rd->job);
	if (job == NULL)
		return dispatch_fail(req, KF__KF_ERR__ERR_UNAVAILABLE,
		    "mediaagent %s has no restore job %llu (it was never "
		    "announced, or the MediaAgent restarted since)",
		    ma->conf->name, id);
	if (job->type != KF__JOB_TYPE__JOB_RESTORE ||
	    !session_token_ok(job, &rd->token))
		return dispatch_fail(req, KF__KF_ERR__ERR_AUTH,
		    "restore job %llu was not announced to mediaagent %s, or "
		    "the job token is wrong", id, ma->conf->name);
	if (rd->count < 1 || rd->count > MA_READ_MAX)
		return dispatch_fail(req, KF__KF_ERR__ERR_INVALID,
		    "restore job %llu: CHUNK_READ asks for %u chunks; ask for "
		    "1 to %d", id, rd->count, MA_READ_MAX);
	job->active_ms = util_mono_ms();
	if (job->cr == NULL && open_container(req, job) == -1)
		return -1;
	if (job->state == MA_JOB_ANNOUNCED)
		job->state = MA_JOB_SERVING;
	nchunks = container_chunks(job->cr);
	if (rd->first >= nchunks)
		return dispatch_fail(req, KF__KF_ERR__ERR_INTEGRITY,
		    "restore job %llu: chunk %llu is past the end of backup "
		    "job %llu, which has %llu chunks", id,
		    (unsigned long long)rd->first,
		    (unsigned long long)job->backup_job,
		    (unsigned long long)nchunks);
	/* This request's chunks and those after it, each asked for once. */
	from = job->prefetched > rd->first ? job->prefetched : rd->first;
	end = rd->first + rd->count + MA_PREFETCH;
	if (end > from) {
		container_prefetch(job->cr, from, end - from);
		job->prefetched = end;
	}

	/* first < nchunks, so first + i cannot wrap before nchunks. */
	for (i = 0; i < rd->count && !gone; i++) {
		idx = rd->first + i;
		if (idx >= nchunks)
			break;
		if (send_chunk(ma, req, job, idx, nchunks, &gone) == -1)
			return -1;
		if (!gone && idx + 1 == nchunks && job->state != MA_JOB_SERVED)
			served_all(ma, job);
	}
	return 0;
}
