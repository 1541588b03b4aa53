/*
 * fetch.c - the chunk source of a restore: the backup's ciphertext from the
 * MediaAgent (seed restore step 6), opened with the job's DEK (seed restore
 * step 7).
 *
 * The restore names the runs of chunks it needs; CHUNK_READ requests keep
 * up to CLIENT_WINDOW chunks asked for ahead of the one being used, and the
 * MediaAgent answers each with CHUNK_DATA and a ciphertext frame, in order.
 * Every chunk is checked before its plaintext is handed out: the backup job
 * and index expected, the length the chunk size dictates, the last flag on
 * exactly the container's final chunk (a stream cut short is caught), and
 * the GCM tag, whose AAD binds job, index and last flag.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "chunk.h"
#include "client.h"
#include "log.h"

struct fetch {
	struct job	*job;		/* token, DEK, errors */
	void		*ma;		/* DEALER to the MediaAgent */
	char		 what[96];	/* "MediaAgent <endpoint>" */
	uint64_t	 backup;	/* the backup job (chunk AAD) */
	uint32_t	 csize;		/* chunk size of the backup */
	uint64_t	 chunks;	/* chunks in the backup's container */
	const struct fetch_range *r;	/* runs of chunks needed, in order */
	size_t		 nr;		/* number of runs */
	size_t		 rq;		/* run being requested */
	uint64_t	 rq_next;	/* next chunk to request in it */
	size_t		 rr;		/* run being received */
	uint64_t	 rr_next;	/* next chunk expected in it */
	uint64_t	 ahead;		/* chunks requested, not received */
	uint8_t		*plain;		/* one chunk of plaintext */
	uint64_t	 got;		/* chunks opened */
	uint64_t	 bytes;		/* plaintext bytes opened */
	kf_err_t	 err;		/* a chunk's own error, or ERR_NONE */
	char		 errmsg[256];	/* its sentence */
};

struct fetch *
fetch_new(struct job *j, void *ma, const Kf__RestoreOrder *o,
    const struct fetch_range *r, size_t nr)
{
	struct fetch	*f;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return NULL;
	if ((f->plain = malloc(o->chunk_size)) == NULL) {
		free(f);
		return NULL;
	}
	f->job = j;
	f->ma = ma;
	snprintf(f->what, sizeof(f->what), "MediaAgent %s",
	    o->mediaagent_endpoint);
	f->backup = o->backup_job;
	f->csize = o->chunk_size;
	f->chunks = o->chunks;
	f->r = r;
	f->nr = nr;
	if (nr > 0) {
		f->rq_next = r[0].first;
		f->rr_next = r[0].first;
	}
	f->err = KF__KF_ERR__ERR_NONE;
	return f;
}

void
fetch_free(struct fetch **fp)
{
	struct fetch	*f;

	if (fp == NULL || (f = *fp) == NULL)
		return;
	crypto_wipe(f->plain, f->csize);
	free(f->plain);
	free(f);
	*fp = NULL;
}

uint64_t
fetch_chunks(const struct fetch *f)
{
	return f->got;
}

uint64_t
fetch_bytes(const struct fetch *f)
{
	return f->bytes;
}

/* The chunk's own error (the caller adds the file), or NULL. */
const char *
fetch_error(const struct fetch *f, kf_err_t *code)
{
	if (f->err == KF__KF_ERR__ERR_NONE)
		return NULL;
	*code = f->err;
	return f->errmsg;
}

static int fetch_fail(struct fetch *, kf_err_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static int
fetch_fail(struct fetch *f, kf_err_t code, const char *fmt, ...)
{
	va_list	 ap;

	f->err = code;
	va_start(ap, fmt);
	vsnprintf(f->errmsg, sizeof(f->errmsg), fmt, ap);
	va_end(ap);
	return -1;
}

/* Ask for more chunks while fewer than the window are on their way. */
static int
fetch_request(struct fetch *f)
{
	Kf__ChunkRead		 rd = KF__CHUNK_READ__INIT;
	const struct fetch_range *r;
	uint64_t		 count, left;

	while (f->ahead < CLIENT_WINDOW && f->rq < f->nr) {
		r = &f->r[f->rq];
		left = r->first + r->count - f->rq_next;
		count = CLIENT_WINDOW - f->ahead;
		if (count > left)
			count = left;
		rd.job = f->job->id;
		rd.token.data = f->job->token;
		rd.token.len = KF_TOKEN_LEN;
		rd.first = f->rq_next;
		rd.count = (uint32_t)count;
		if (wire_send(f->ma, NULL, 0, KF__MSG_TYPE__CHUNK_READ,
		    &rd.base, NULL, 0) == -1)
			return job_fail(f->job, KF__KF_ERR__ERR_UNAVAILABLE,
			    "cannot send CHUNK_READ to %s: %s", f->what,
			    zmq_strerror(errno));
		f->ahead += count;
		f->rq_next += count;
		if (f->rq_next == r->first + r->count && ++f->rq < f->nr)
			f->rq_next = f->r[f->rq].first;
	}
	return 0;
}

/* Everything about a chunk but its tag. */
static int
fetch_check(struct fetch *f, const Kf__ChunkData *d, size_t paylen)
{
	uint64_t	 idx = d->index;

	if (d->job != f->backup || idx != f->rr_next)
		return fetch_fail(f, KF__KF_ERR__ERR_MALFORMED, "%s sent chunk "
		    "%llu of job %llu where chunk %llu of backup job %llu was "
		    "expected", f->what, (unsigned long long)idx,
		    (unsigned long long)d->job,
		    (unsigned long long)f->rr_next,
		    (unsigned long long)f->backup);
	if (d->nonce.len != KF_NONCE_LEN || d->tag.len != KF_TAG_LEN ||
	    d->plain_len != paylen || paylen == 0 || paylen > f->csize)
		return fetch_fail(f, KF__KF_ERR__ERR_MALFORMED, "%s sent chunk "
		    "%llu of backup job %llu with bad lengths (%zu bytes)",
		    f->what, (unsigned long long)idx,
		    (unsigned long long)f->backup, paylen);
	if (d->last && idx != f->chunks - 1)
		return fetch_fail(f, KF__KF_ERR__ERR_INTEGRITY, "chunk %llu of "
		    "backup job %llu is marked last, but the backup has %llu "
		    "chunks: the stream was cut short",
		    (unsigned long long)idx, (unsigned long long)f->backup,
		    (unsigned long long)f->chunks);
	if (!d->last && idx == f->chunks - 1)
		return fetch_fail(f, KF__KF_ERR__ERR_INTEGRITY, "chunk %llu of "
		    "backup job %llu should be its last and is not marked so",
		    (unsigned long long)idx, (unsigned long long)f->backup);
	if (!d->last && paylen != f->csize)
		return fetch_fail(f, KF__KF_ERR__ERR_INTEGRITY, "chunk %llu of "
		    "backup job %llu is %zu bytes, not the chunk size %u",
		    (unsigned long long)idx, (unsigned long long)f->backup,
		    paylen, f->csize);
	return 0;
}

/* Seed restore step 7: The client decrypts data using DEK. */
static int
fetch_open(struct fetch *f, const Kf__ChunkData *d, const uint8_t *ct,
    size_t len)
{
	if (chunk_open(f->job->dek, f->backup, d->index, d->last,
	    d->nonce.data, ct, len, f->plain, d->tag.data) == -1)
		return fetch_fail(f, KF__KF_ERR__ERR_CRYPTO, "chunk %llu of "
		    "backup job %llu failed authentication with the job's DEK "
		    "(tampered or corrupted ciphertext)",
		    (unsigned long long)d->index,
		    (unsigned long long)f->backup);
	return 0;
}

/*
 * The next needed chunk, opened: 1 with *index, *plain, *len set; 0 when
 * every run has been delivered; -1 on error (see fetch_error; otherwise
 * the job's error is set).
 */
int
fetch_next(struct fetch *f, uint64_t *index, const uint8_t **plain,
    size_t *len)
{
	const Kf__ChunkData	*d;
	const struct fetch_range *r;
	const uint8_t		*ct;
	struct wire_msg		 m;
	size_t			 ctlen = 0;
	int			 rc = -1;

	if (f->rr >= f->nr)
		return 0;
	if (fetch_request(f) == -1)
		return -1;
	if (job_await(f->job, f->ma, KF__MSG_TYPE__CHUNK_DATA,
	    CLIENT_MA_TIMEOUT_MS, &m, f->what) == -1)
		goto fail;
	d = (const Kf__ChunkData *)m.body;
	ct = m.has_payload ? wire_payload(&m, &ctlen) : NULL;
	if (ct == NULL)
		ctlen = 0;
	if (fetch_check(f, d, ctlen) == -1 || fetch_open(f, d, ct, ctlen) == -1)
		goto fail;
	*index = d->index;
	*plain = f->plain;
	*len = ctlen;
	f->got++;
	f->bytes += ctlen;
	f->ahead--;
	r = &f->r[f->rr];
	if (++f->rr_next == r->first + r->count && ++f->rr < f->nr)
		f->rr_next = f->r[f->rr].first;
	rc = 1;
fail:
	job_msg_clear(&m);
	return rc;
}
