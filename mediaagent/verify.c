/*
 * verify.c - `keyflow verify JOB`: check a committed container without
 * any key.
 *
 * CommServe sends CONTAINER_VERIFY {job, mount path, chunk size, token}.
 * The check reads the whole container, which may be many gigabytes, so it
 * runs on a thread of its own and the poll loop keeps serving backups,
 * restores and heartbeats meanwhile.  The thread opens the container (the
 * index must explain the container's size exactly), then reads every
 * frame: magic and header CRC, job id, position in the index, the last
 * flag on exactly the last chunk, the length (the chunk size for all but
 * the last), the nonce (the chunk index, as chunk.h derives it) and the
 * ciphertext CRC.  It hashes the tags in order, the digest CommServe
 * committed, so a tag or a whole chunk replaced with consistent CRCs is
 * caught too; only a change that also forges GCM needs the DEK to see.
 *
 * The answer is VERIFY_RESULT with the token, sent over the thread's own
 * DEALER to CommServe (the main thread owns the registered one), the way a
 * client's job threads report.  At most VERIFY_MAX checks run at once.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "chunk.h"
#include "container.h"
#include "log.h"
#include "mediaagent.h"
#include "util.h"

#define VERIFY_MAX		4	/* checks running at once */
#define VERIFY_LINGER_MS	5000	/* to deliver the result at exit */

/* One check, owned by its thread. */
struct verify_task {
	void		*zctx;		/* ZeroMQ context (thread-safe) */
	char		*commserve;	/* CommServe endpoint, a copy */
	char		*mount;		/* the pool's mount path */
	uint64_t	 job;		/* the backup job */
	uint32_t	 chunk_size;	/* size of every chunk but the last */
	uint8_t		 token[KF_TOKEN_LEN]; /* echoed to CommServe */
	uint64_t	 chunks;	/* chunks found sound */
	uint64_t	 bytes;		/* their ciphertext bytes */
	uint8_t		 digest[KF_SHA256_LEN]; /* SHA-256 over the tags */
	kf_err_t	 code;		/* ERR_NONE when sound */
	char		 err[512];	/* what is damaged */
};

static atomic_int	verify_running;

static void
task_free(struct verify_task **tp)
{
	struct verify_task	*t;

	if (tp == NULL || (t = *tp) == NULL)
		return;
	free(t->commserve);
	free(t->mount);
	free(t);
	*tp = NULL;
}

static int	task_fail(struct verify_task *, kf_err_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

static int
task_fail(struct verify_task *t, kf_err_t code, const char *fmt, ...)
{
	va_list	ap;

	t->code = code;
	va_start(ap, fmt);
	vsnprintf(t->err, sizeof(t->err), fmt, ap);
	va_end(ap);
	return -1;
}

/* What container_read does not check: the nonce and the chunk size. */
static int
frame_more(struct verify_task *t, uint64_t i, uint64_t n,
    const struct frame_header *h)
{
	uint8_t	want[KF_NONCE_LEN];

	chunk_nonce(i, want);
	if (memcmp(want, h->nonce, sizeof(want)) != 0)
		return task_fail(t, KF__KF_ERR__ERR_INTEGRITY, "job %llu chunk "
		    "%llu: the frame's nonce is not this chunk's: the header "
		    "is damaged", (unsigned long long)t->job,
		    (unsigned long long)i);
	if (i + 1 < n ? h->len != t->chunk_size :
	    h->len == 0 || h->len > t->chunk_size)
		return task_fail(t, KF__KF_ERR__ERR_INTEGRITY, "job %llu chunk "
		    "%llu: %u bytes, but the job's chunks are %u bytes (the "
		    "last one at most): the container is damaged",
		    (unsigned long long)t->job, (unsigned long long)i,
		    (unsigned)h->len, (unsigned)t->chunk_size);
	return 0;
}

/* Every frame of the container; 0 when all are sound. */
static int
check_frames(struct verify_task *t, struct container_reader *cr, uint8_t *buf)
{
	struct frame_header	 h;
	struct sha256_ctx	*sha;
	uint64_t		 i, n = container_chunks(cr);
	int			 rc = -1;

	if ((sha = sha256_new()) == NULL)
		return task_fail(t, KF__KF_ERR__ERR_INTERNAL, "out of memory");
	for (i = 0; i < n; i++) {
		if (util_stop) {
			task_fail(t, KF__KF_ERR__ERR_UNAVAILABLE, "mediaagentd "
			    "is stopping; job %llu was checked up to chunk "
			    "%llu", (unsigned long long)t->job,
			    (unsigned long long)i);
			goto fail;
		}
		if (container_read(cr, i, &h, buf, t->chunk_size, t->err,
		    sizeof(t->err)) == -1) {
			t->code = KF__KF_ERR__ERR_INTEGRITY;
			goto fail;
		}
		if (frame_more(t, i, n, &h) == -1)
			goto fail;
		if (sha256_update(sha, h.tag, sizeof(h.tag)) == -1) {
			task_fail(t, KF__KF_ERR__ERR_INTERNAL, "SHA-256 failed");
			goto fail;
		}
		t->chunks++;
		t->bytes += h.len;
	}
	if (sha256_final(sha, t->digest) == -1) {
		task_fail(t, KF__KF_ERR__ERR_INTERNAL, "SHA-256 failed");
		goto fail;
	}
	rc = 0;
fail:
	sha256_free(&sha);
	return rc;
}

static void
check_container(struct verify_task *t)
{
	struct container_reader	*cr;
	struct stat		 st;
	char			 path[PATH_MAX];
	uint8_t			*buf;

	t->code = KF__KF_ERR__ERR_NONE;
	if ((cr = container_open_err(t->mount, t->job, t->err,
	    sizeof(t->err))) == NULL) {
		t->code = KF__KF_ERR__ERR_INTEGRITY;
		if (container_path(path, sizeof(path), t->mount, t->job, 0,
		    0) == 0 && lstat(path, &st) == -1 && errno == ENOENT)
			task_fail(t, KF__KF_ERR__ERR_NOT_FOUND, "backup job %llu "
			    "has no committed container under %s",
			    (unsigned long long)t->job, t->mount);
		return;
	}
	if ((buf = malloc(t->chunk_size)) == NULL)
		task_fail(t, KF__KF_ERR__ERR_INTERNAL, "out of memory");
	else
		(void)check_frames(t, cr, buf);
	free(buf);
	container_reader_free(&cr);
}

/* VERIFY_RESULT over a DEALER of our own, delivered even as we exit. */
static void
report(struct verify_task *t)
{
	Kf__VerifyResult	 vr = KF__VERIFY_RESULT__INIT;
	void			*s;
	int			 linger = VERIFY_LINGER_MS;

	vr.backup_job = t->job;
	vr.ok = t->code == KF__KF_ERR__ERR_NONE;
	vr.chunks = t->chunks;
	vr.has_bytes = 1;
	vr.bytes = t->bytes;
	vr.has_token = 1;
	vr.token.data = t->token;
	vr.token.len = sizeof(t->token);
	if (vr.ok) {
		vr.has_digest = 1;
		vr.digest.data = t->digest;
		vr.digest.len = sizeof(t->digest);
	} else {
		vr.error = t->err;
		vr.has_code = 1;
		vr.code = t->code;
	}
	if ((s = wire_socket(t->zctx, ZMQ_DEALER, t->commserve, 0)) == NULL) {
		log_warnx("job %llu: cannot report the check to CommServe",
		    (unsigned long long)t->job);
		return;
	}
	zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof(linger));
	if (wire_send(s, NULL, 0, KF__MSG_TYPE__VERIFY_RESULT, &vr.base, NULL,
	    0) == -1)
		log_warn("job %llu: VERIFY_RESULT not sent",
		    (unsigned long long)t->job);
	zmq_close(s);
}

static void *
verify_main(void *arg)
{
	struct verify_task	*t = arg;

	check_container(t);
	if (t->code == KF__KF_ERR__ERR_NONE)
		log_info("job %llu: container verified: %llu chunks, %llu "
		    "bytes, every frame sound", (unsigned long long)t->job,
		    (unsigned long long)t->chunks,
		    (unsigned long long)t->bytes);
	else
		log_warnx("job %llu: container check failed: %s",
		    (unsigned long long)t->job, t->err);
	report(t);
	task_free(&t);
	atomic_fetch_sub(&verify_running, 1);
	return NULL;
}

/* Absolute, no "." or ".." component: CommServe names only pool mounts. */
static int
mount_safe(const char *path)
{
	char	probe[PATH_MAX];
	size_t	len = strlen(path);

	if (path[0] != '/' || strstr(path, "/./") != NULL ||
	    strstr(path, "/../") != NULL)
		return 0;
	if ((len >= 2 && strcmp(path + len - 2, "/.") == 0) ||
	    (len >= 3 && strcmp(path + len - 3, "/..") == 0))
		return 0;
	return container_path(probe, sizeof(probe), path, UINT64_MAX, 0,
	    1) == 0;
}

/* A refusal as VERIFY_RESULT on the CommServe link: CommServe waits for one. */
static int
refuse(const struct ma_req *req, const Kf__ContainerVerify *cv, kf_err_t code,
    const char *sentence)
{
	Kf__VerifyResult	vr = KF__VERIFY_RESULT__INIT;

	log_warnx("CONTAINER_VERIFY of job %llu refused: %s",
	    (unsigned long long)cv->job, sentence);
	vr.backup_job = cv->job;
	vr.ok = 0;
	vr.chunks = 0;
	vr.error = (char *)sentence;
	vr.has_code = 1;
	vr.code = code;
	vr.has_token = 1;
	vr.token = cv->token;
	dispatch_reply(req, KF__MSG_TYPE__VERIFY_RESULT, &vr.base, NULL, 0);
	return 0;
}

int
verify_container(struct ma *ma, struct ma_req *req)
{
	const Kf__ContainerVerify *cv =
	    (const Kf__ContainerVerify *)req->m->body;
	struct verify_task	*t = NULL;
	pthread_attr_t		 attr;
	pthread_t		 tid;
	char			 why[256];
	int			 e;

	if (cv->token.len != KF_TOKEN_LEN)
		return dispatch_fail(req, KF__KF_ERR__ERR_INVALID, "job %llu: "
		    "the verify token is %zu bytes, not %d",
		    (unsigned long long)cv->job, cv->token.len, KF_TOKEN_LEN);
	if (cv->job == 0 || cv->chunk_size < KF_CHUNK_MIN ||
	    cv->chunk_size > KF_CHUNK_MAX) {
		snprintf(why, sizeof(why), "job %llu: chunk size %u is outside "
		    "%d..%d", (unsigned long long)cv->job, cv->chunk_size,
		    KF_CHUNK_MIN, KF_CHUNK_MAX);
		return refuse(req, cv, KF__KF_ERR__ERR_INVALID, why);
	}
	if (!mount_safe(cv->mount_path)) {
		snprintf(why, sizeof(why), "job %llu: mount path \"%.100s\" is "
		    "not an absolute path without \".\" or \"..\"",
		    (unsigned long long)cv->job, cv->mount_path);
		return refuse(req, cv, KF__KF_ERR__ERR_INVALID, why);
	}
	if (atomic_fetch_add(&verify_running, 1) >= VERIFY_MAX) {
		atomic_fetch_sub(&verify_running, 1);
		snprintf(why, sizeof(why), "mediaagent %s is already checking "
		    "%d containers; retry when one is done", ma->conf->name,
		    VERIFY_MAX);
		return refuse(req, cv, KF__KF_ERR__ERR_UNAVAILABLE, why);
	}
	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    (t->commserve = strdup(ma->conf->commserve)) == NULL ||
	    (t->mount = strdup(cv->mount_path)) == NULL)
		goto oom;
	t->zctx = ma->zctx;
	t->job = cv->job;
	t->chunk_size = cv->chunk_size;
	memcpy(t->token, cv->token.data, KF_TOKEN_LEN);
	if (pthread_attr_init(&attr) != 0)
		goto oom;
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	e = pthread_create(&tid, &attr, verify_main, t);
	pthread_attr_destroy(&attr);
	if (e != 0)
		goto oom;
	log_info("job %llu: checking its container under %s",
	    (unsigned long long)cv->job, cv->mount_path);
	return 0;
oom:
	task_free(&t);
	atomic_fetch_sub(&verify_running, 1);
	return refuse(req, cv, KF__KF_ERR__ERR_INTERNAL, "cannot start the "
	    "check: out of memory or threads");
}
