/*
 * serve.c - restore: a backup's chunks back to the client.
 *
 * Seed restore step 6: "The MediaAgent sends encrypted data to the
 * client."  CommServe announces a restore job with the backup job to read;
 * the client asks for up to MA_READ_MAX chunks at a time (CHUNK_READ with
 * the restore job's token) and gets one CHUNK_DATA per chunk, ciphertext in
 * its own frame, read into one reusable buffer.  The backup's container is
 * opened on the first read and kept open for the job; every frame is
 * checked (header CRC, job, index, ciphertext CRC) before it is sent, so
 * damaged storage is reported as such instead of reaching the client.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "chunk.h"
#include "container.h"
#include "log.h"
#include "mediaagent.h"
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

/* Read one frame and send it as CHUNK_DATA; -1 fails the request. */
static int
send_chunk(struct ma *ma, struct ma_req *req, struct ma_job *job,
    uint64_t index, uint64_t nchunks, int *gone)
{
	Kf__ChunkData		cd = KF__CHUNK_DATA__INIT;
	struct frame_header	h;
	char			err[256];
	int			last;

	if (container_read(job->cr, index, &h, ma->rbuf, KF_CHUNK_MAX, err,
	    sizeof(err)) == -1)
		return dispatch_fail(req, KF__KF_ERR__ERR_INTEGRITY,
		    "restore job %llu: %s", (unsigned long long)job->id, err);
	last = (h.flags & CONTAINER_FLAG_LAST) != 0;
	if (last != (index + 1 == nchunks))
		return dispatch_fail(req, KF__KF_ERR__ERR_INTEGRITY,
		    "restore job %llu: chunk %llu of backup job %llu is %s "
		    "the last of its %llu chunks", (unsigned long long)job->id,
		    (unsigned long long)index,
		    (unsigned long long)job->backup_job,
		    last ? "flagged as" : "not flagged as",
		    (unsigned long long)nchunks);
	cd.job = job->backup_job;
	cd.index = index;
	cd.plain_len = h.len;
	cd.last = last;
	cd.nonce.data = h.nonce;
	cd.nonce.len = KF_NONCE_LEN;
	cd.tag.data = h.tag;
	cd.tag.len = KF_TAG_LEN;
	if (dispatch_reply(req, KF__MSG_TYPE__CHUNK_DATA, &cd.base, ma->rbuf,
	    h.len) == -1) {
		/* The client left or stopped reading: nobody to answer. */
		*gone = 1;
		return 0;
	}
	job->sent++;
	job->stream_bytes += h.len;
	return 0;
}

int
serve_read(struct ma *ma, struct ma_req *req)
{
	const Kf__ChunkRead	*rd = (const Kf__ChunkRead *)req->m->body;
	struct ma_job		*job;
	uint64_t		 nchunks, idx;
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
	if (ma->rbuf == NULL && (ma->rbuf = malloc(KF_CHUNK_MAX)) == NULL)
		return dispatch_fail(req, KF__KF_ERR__ERR_INTERNAL,
		    "restore job %llu: out of memory for the read buffer", id);

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
