/*
 * verify.c - `keyflow verify JOB [--decrypt]`, CommServe's part.
 *
 * Without --decrypt no key is involved: CommServe asks the MediaAgent that
 * holds the backup's container to check it (CONTAINER_VERIFY with a fresh
 * token) and answers the operator with VERIFY_RESULT once the MediaAgent
 * reports.  The loop never waits for that: the request is kept here,
 * pending, with the operator's routing id, and answered when the
 * MediaAgent's VERIFY_RESULT with the same token arrives, or with ERROR
 * TIMEOUT after VERIFY_TIMEOUT_MS.  CommServe also compares what the
 * MediaAgent found with what the backup committed: the chunk count, the
 * stream size and the digest over the chunk tags, so a replaced tag or
 * chunk is found even when its CRCs were forged.
 *
 * With --decrypt the check is a restore job that writes nothing
 * (verify_only): the seed's restore flow with the key hierarchy, the
 * MediaAgent serving every chunk, and the client opening every chunk and
 * checking every record against the catalog and each file's SHA-256.  It
 * is a restore job like any other in the jobs table and the trace.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commserve.h"
#include "log.h"
#include "util.h"

#define VERIFY_TIMEOUT_MS	60000	/* the MediaAgent must report by then */
#define VERIFY_PENDING_MAX	64	/* checks waiting at once */

/* A keyless check waiting for its MediaAgent. */
struct verify_pending {
	struct verify_pending *next;		/* list link */
	uint8_t		 token[KF_TOKEN_LEN];	/* the MediaAgent echoes it */
	uint8_t		 peer[WIRE_PEER_MAX];	/* the operator's routing id */
	size_t		 peerlen;		/* its length */
	struct db_job	 job;			/* the backup job's row */
	int64_t		 started_ms;		/* when it was asked */
};

static struct verify_pending	*pending;
static size_t			 npending;

static void
pending_remove(struct verify_pending *v)
{
	struct verify_pending	**vp;

	for (vp = &pending; *vp != NULL; vp = &(*vp)->next)
		if (*vp == v) {
			*vp = v->next;
			npending--;
			break;
		}
	free(v);
}

/* --decrypt: a verify-only restore job; restore_start answers JOB_INFO. */
static void
verify_decrypt(struct req *r, const Kf__VerifyStart *vs)
{
	Kf__RestoreStart	 rs = KF__RESTORE_START__INIT;
	struct wire_msg		 m;
	struct req		 rr;

	rs.backup_job = vs->backup_job;
	/* Required by the message; a verify-only restore never touches it. */
	rs.dest_dir = "/";
	rs.client = vs->client;
	rs.has_verify_only = 1;
	rs.verify_only = 1;
	memset(&m, 0, sizeof(m));
	memcpy(m.peer, r->msg->peer, r->msg->peerlen);
	m.peerlen = r->msg->peerlen;
	m.type = KF__MSG_TYPE__RESTORE_START;
	m.body = &rs.base;
	rr = *r;
	rr.msg = &m;
	restore_start(&rr);
	r->replied = rr.replied;
}

/* The backup job to check: completed, its MediaAgent connected. */
static struct peer *
verify_target(struct req *r, uint64_t id, struct db_job *job,
    struct db_pool *pool)
{
	struct db_mediaagent	 ma;
	struct peer		*p;
	int			 rc;

	rc = id == 0 || id > INT64_MAX ? DB_NOT_FOUND :
	    db_job_get(r->cs->db, (int64_t)id, job);
	if (rc != DB_OK || job->type != KF__JOB_TYPE__JOB_BACKUP) {
		cs_error(r, rc == DB_OK || rc == DB_NOT_FOUND ?
		    KF__KF_ERR__ERR_NOT_FOUND : KF__KF_ERR__ERR_DB,
		    "no backup job %llu", (unsigned long long)id);
		return NULL;
	}
	if (job->state != KF__JOB_STATE__JOB_COMPLETED) {
		cs_error(r, KF__KF_ERR__ERR_STATE, "backup job %lld did not "
		    "complete, so it has no container to verify",
		    (long long)job->id);
		return NULL;
	}
	if (db_pool_get(r->cs->db, job->pool_id, pool) != DB_OK ||
	    db_ma_get(r->cs->db, pool->mediaagent_id, &ma) != DB_OK) {
		cs_error(r, KF__KF_ERR__ERR_DB, "cannot read the pool of job "
		    "%lld: %s", (long long)job->id, db_errmsg(r->cs->db));
		return NULL;
	}
	p = peers_find(r->cs, PEER_MEDIAAGENT, ma.name);
	if (!peers_alive(p)) {
		cs_error(r, KF__KF_ERR__ERR_UNAVAILABLE, "MediaAgent %s, which "
		    "holds job %lld, is not connected to CommServe", ma.name,
		    (long long)job->id);
		return NULL;
	}
	return p;
}

void
verify_start(struct req *r)
{
	const Kf__VerifyStart	*vs = (const Kf__VerifyStart *)r->msg->body;
	Kf__ContainerVerify	 cv = KF__CONTAINER_VERIFY__INIT;
	struct verify_pending	*v;
	struct db_pool		 pool;
	struct peer		*ma;

	if (vs->has_decrypt && vs->decrypt) {
		verify_decrypt(r, vs);
		return;
	}
	if (vs->client != NULL) {
		cs_error(r, KF__KF_ERR__ERR_INVALID, "--client applies only "
		    "with --decrypt: the keyless check runs on the MediaAgent");
		return;
	}
	if (npending >= VERIFY_PENDING_MAX) {
		cs_error(r, KF__KF_ERR__ERR_UNAVAILABLE, "%d checks are "
		    "already running; retry in a minute", VERIFY_PENDING_MAX);
		return;
	}
	if ((v = calloc(1, sizeof(*v))) == NULL) {
		cs_error(r, KF__KF_ERR__ERR_INTERNAL, "out of memory");
		return;
	}
	if ((ma = verify_target(r, vs->backup_job, &v->job, &pool)) == NULL) {
		free(v);
		return;
	}
	if (crypto_random(v->token, sizeof(v->token)) == -1) {
		free(v);
		cs_error(r, KF__KF_ERR__ERR_INTERNAL, "no random token");
		return;
	}
	memcpy(v->peer, r->msg->peer, r->msg->peerlen);
	v->peerlen = r->msg->peerlen;
	v->started_ms = util_mono_ms();
	cv.job = (uint64_t)v->job.id;
	cv.mount_path = pool.mount_path;
	cv.chunk_size = v->job.chunk_size;
	cv.token.data = v->token;
	cv.token.len = sizeof(v->token);
	if (cs_send(r->cs, ma, KF__MSG_TYPE__CONTAINER_VERIFY, &cv.base) ==
	    -1) {
		free(v);
		cs_error(r, KF__KF_ERR__ERR_UNAVAILABLE, "cannot reach "
		    "MediaAgent %s", ma->name);
		return;
	}
	v->next = pending;
	pending = v;
	npending++;
	/* Answered when the MediaAgent reports, or by verify_expire. */
	r->replied = 1;
	log_info("verify of backup job %lld asked of MediaAgent %s",
	    (long long)v->job.id, ma->name);
}

/* Compare the MediaAgent's findings with what the backup committed. */
static void
verify_judge(const struct verify_pending *v, const Kf__VerifyResult *in,
    Kf__VerifyResult *out, char *err, size_t cap)
{
	const struct db_job	*j = &v->job;
	unsigned long long	 id = (unsigned long long)j->id;

	out->ok = 0;
	out->has_code = 1;
	out->code = KF__KF_ERR__ERR_INTEGRITY;
	out->error = err;
	if (!in->ok) {
		if (in->has_code)
			out->code = in->code;
		snprintf(err, cap, "%.800s", in->error != NULL ? in->error :
		    "the MediaAgent gave no reason");
	} else if (in->chunks != j->chunks)
		snprintf(err, cap, "job %llu: the container holds %llu chunks "
		    "but the backup committed %llu", id,
		    (unsigned long long)in->chunks,
		    (unsigned long long)j->chunks);
	else if (!in->has_bytes || in->bytes != j->stream_bytes)
		snprintf(err, cap, "job %llu: the container holds %llu bytes "
		    "but the backup committed %llu", id,
		    (unsigned long long)in->bytes,
		    (unsigned long long)j->stream_bytes);
	else if (!in->has_digest || in->digest.len != KF_SHA256_LEN ||
	    j->digest.len != KF_SHA256_LEN ||
	    crypto_memeq(in->digest.data, j->digest.data, KF_SHA256_LEN) != 0)
		snprintf(err, cap, "job %llu: the chunk tags differ from those "
		    "the backup committed: a tag was altered or a chunk "
		    "replaced (every frame's CRCs match, so the change was "
		    "deliberate)", id);
	else {
		out->ok = 1;
		out->has_code = 0;
		out->error = NULL;
	}
}

/* The MediaAgent's report: answer the operator who asked. */
void
verify_result(struct req *r)
{
	const Kf__VerifyResult	*in = (const Kf__VerifyResult *)r->msg->body;
	Kf__VerifyResult	 out = KF__VERIFY_RESULT__INIT;
	struct verify_pending	*v;
	char			 err[1024];

	for (v = pending; v != NULL; v = v->next)
		if (in->has_token && in->token.len == KF_TOKEN_LEN &&
		    crypto_memeq(in->token.data, v->token, KF_TOKEN_LEN) ==
		    0 && in->backup_job == (uint64_t)v->job.id)
			break;
	if (v == NULL) {
		log_warnx("a VERIFY_RESULT for job %llu matches no check in "
		    "progress (late, or a wrong token)",
		    (unsigned long long)in->backup_job);
		return;
	}
	verify_judge(v, in, &out, err, sizeof(err));
	out.backup_job = in->backup_job;
	out.chunks = in->chunks;
	out.has_bytes = 1;
	out.bytes = in->bytes;
	out.has_files = 1;
	out.files = v->job.files;
	if (out.ok)
		log_info("verify of backup job %lld: %llu chunks sound",
		    (long long)v->job.id, (unsigned long long)out.chunks);
	else
		log_warnx("verify of backup job %lld failed: %s",
		    (long long)v->job.id, out.error);
	if (wire_send(r->cs->router, v->peer, v->peerlen,
	    KF__MSG_TYPE__VERIFY_RESULT, &out.base, NULL, 0) == -1)
		log_warnx("verify of backup job %lld: the operator left "
		    "before the answer: %s", (long long)v->job.id,
		    zmq_strerror(errno));
	pending_remove(v);
}

/* Checks whose MediaAgent did not report in time are answered TIMEOUT. */
void
verify_expire(struct cs *cs)
{
	struct verify_pending	*v, *next;
	int64_t			 now = util_mono_ms();

	for (v = pending; v != NULL; v = next) {
		next = v->next;
		if (now - v->started_ms < VERIFY_TIMEOUT_MS)
			continue;
		log_warnx("verify of backup job %lld: no report from its "
		    "MediaAgent %s within %d s", (long long)v->job.id,
		    v->job.mediaagent, VERIFY_TIMEOUT_MS / 1000);
		if (wire_send_error(cs->router, v->peer, v->peerlen,
		    KF__KF_ERR__ERR_TIMEOUT, "MediaAgent %s did not report on "
		    "the container of job %lld within %d s",
		    v->job.mediaagent, (long long)v->job.id,
		    VERIFY_TIMEOUT_MS / 1000) == -1)
			log_debug("the operator left before the timeout");
		pending_remove(v);
	}
}
