/*
 * backup_send.c - the sending half of a backup: the stream is cut into
 * chunks of the order's chunk size, each sealed with the job's DEK (seed
 * backup step 4) and sent to the MediaAgent as CHUNK_PUT plus a ciphertext
 * frame (seed backup step 5).
 *
 * One chunk buffer serves the whole job: the stream is written into it,
 * sealed in place and handed to ZeroMQ, which copies it.  At most
 * CLIENT_WINDOW chunks are unacknowledged; a silent MediaAgent fails the
 * job after CLIENT_MA_TIMEOUT_MS and any ERROR it sends fails the job with
 * its code and sentence.  The stream digest is SHA-256 over the chunk tags
 * in index order, which STREAM_CLOSE and JOB_DONE both carry.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "chunk.h"
#include "client.h"
#include "fault.h"
#include "log.h"

struct sender {
	struct job	*job;		/* DEK, id, errors */
	void		*ma;		/* DEALER to the MediaAgent */
	const char	*endpoint;	/* the MediaAgent, for sentences */
	uint32_t	 cap;		/* chunk size */
	uint8_t		*buf;		/* one chunk: plaintext, then sealed */
	size_t		 fill;		/* bytes in buf */
	uint64_t	 off;		/* stream bytes written so far */
	uint64_t	 sent;		/* chunks sent */
	uint64_t	 acked;		/* chunks the MediaAgent has written */
	struct sha256_ctx *digest;	/* over the tags, in index order */
	char		 what[96];	/* "MediaAgent <endpoint>" */
};

struct sender *
sender_new(struct job *j, void *ma, const char *endpoint, uint32_t cap)
{
	struct sender	*s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->job = j;
	s->ma = ma;
	s->endpoint = endpoint;
	s->cap = cap;
	snprintf(s->what, sizeof(s->what), "MediaAgent %s", endpoint);
	if ((s->buf = malloc(cap)) == NULL ||
	    (s->digest = sha256_new()) == NULL) {
		sender_free(&s);
		return NULL;
	}
	return s;
}

void
sender_free(struct sender **sp)
{
	struct sender	*s;

	if (sp == NULL || (s = *sp) == NULL)
		return;
	if (s->buf != NULL) {
		crypto_wipe(s->buf, s->cap);	/* may hold plaintext */
		free(s->buf);
	}
	sha256_free(&s->digest);
	free(s);
	*sp = NULL;
}

uint64_t
sender_offset(const struct sender *s)
{
	return s->off;
}

/* Wait up to timeout_ms for one CHUNK_ACK and account for it. */
static int
sender_ack(struct sender *s, int timeout_ms)
{
	const Kf__ChunkAck	*a;
	struct wire_msg		 m;
	int			 rc = -1;

	if (job_await(s->job, s->ma, KF__MSG_TYPE__CHUNK_ACK, timeout_ms, &m,
	    s->what) == -1)
		goto fail;
	a = (const Kf__ChunkAck *)m.body;
	if (a->job != s->job->id || a->index >= s->sent) {
		job_fail(s->job, KF__KF_ERR__ERR_MALFORMED, "%s acknowledged "
		    "chunk %llu of job %llu, which was not sent", s->what,
		    (unsigned long long)a->index, (unsigned long long)a->job);
		goto fail;
	}
	if (a->index + 1 > s->acked)
		s->acked = a->index + 1;
	rc = 0;
fail:
	job_msg_clear(&m);
	return rc;
}

/* Take the acknowledgements that have already arrived. */
static int
sender_drain(struct sender *s)
{
	zmq_pollitem_t	 it;

	for (;;) {
		it.socket = s->ma;
		it.fd = -1;
		it.events = ZMQ_POLLIN;
		it.revents = 0;
		if (zmq_poll(&it, 1, 0) <= 0 || !(it.revents & ZMQ_POLLIN))
			return 0;
		if (sender_ack(s, CLIENT_MA_TIMEOUT_MS) == -1)
			return -1;
	}
}

/* Seed backup step 4: Client encrypts backup data using DEK. */
static int
sender_seal(struct sender *s, int last, uint8_t nonce[KF_NONCE_LEN],
    uint8_t tag[KF_TAG_LEN])
{
	if (chunk_seal(s->job->dek, s->job->id, s->sent, last, s->buf,
	    s->fill, s->buf, nonce, tag) == -1)
		return job_fail(s->job, KF__KF_ERR__ERR_CRYPTO, "could not "
		    "encrypt chunk %llu", (unsigned long long)s->sent);
	if (sha256_update(s->digest, tag, KF_TAG_LEN) == -1)
		return job_fail(s->job, KF__KF_ERR__ERR_CRYPTO, "SHA-256 "
		    "failed on the tag of chunk %llu",
		    (unsigned long long)s->sent);
	return 0;
}

/* Seed backup step 5: Client sends encrypted data to the MediaAgent. */
static int
sender_put(struct sender *s, int last, uint8_t nonce[KF_NONCE_LEN],
    uint8_t tag[KF_TAG_LEN])
{
	Kf__ChunkPut	 put = KF__CHUNK_PUT__INIT;

	put.job = s->job->id;
	put.index = s->sent;
	put.plain_len = (uint32_t)s->fill;
	put.last = last;
	put.nonce.data = nonce;
	put.nonce.len = KF_NONCE_LEN;
	put.tag.data = tag;
	put.tag.len = KF_TAG_LEN;
	if (wire_send(s->ma, NULL, 0, KF__MSG_TYPE__CHUNK_PUT, &put.base,
	    s->buf, s->fill) == -1)
		return job_fail(s->job, KF__KF_ERR__ERR_UNAVAILABLE, "could "
		    "not send chunk %llu to %s: %s",
		    (unsigned long long)s->sent, s->what, zmq_strerror(errno));
	return 0;
}

/* Seal and send the buffered chunk, keeping the window. */
static int
sender_flush(struct sender *s, int last)
{
	uint8_t	 nonce[KF_NONCE_LEN], tag[KF_TAG_LEN];

	while (s->sent - s->acked >= CLIENT_WINDOW)
		if (sender_ack(s, CLIENT_MA_TIMEOUT_MS) == -1)
			return -1;
	if (sender_seal(s, last, nonce, tag) == -1 ||
	    sender_put(s, last, nonce, tag) == -1)
		return -1;
	fault_point("client.after_chunk", s->sent);
	s->sent++;
	s->fill = 0;
	return sender_drain(s);
}

/*
 * Room for more stream bytes: *p and *avail (never 0).  A full chunk is
 * sent first; it is not the last one, since more bytes are coming.
 */
int
sender_space(struct sender *s, uint8_t **p, size_t *avail)
{
	if (s->fill == s->cap && sender_flush(s, 0) == -1)
		return -1;
	*p = s->buf + s->fill;
	*avail = s->cap - s->fill;
	return 0;
}

/* n bytes were written at the place sender_space gave. */
void
sender_commit(struct sender *s, size_t n)
{
	s->fill += n;
	s->off += n;
}

int
sender_write(struct sender *s, const void *data, size_t len)
{
	const uint8_t	*d = data;
	uint8_t		*p;
	size_t		 avail, n;

	while (len > 0) {
		if (sender_space(s, &p, &avail) == -1)
			return -1;
		n = len < avail ? len : avail;
		memcpy(p, d, n);
		sender_commit(s, n);
		d += n;
		len -= n;
	}
	return 0;
}

/*
 * Send the last chunk, wait until every chunk is acknowledged, then
 * STREAM_CLOSE, whose STREAM_CLOSED must agree on chunks and digest.
 */
int
sender_finish(struct sender *s, uint64_t *chunks, uint64_t *stream_bytes,
    uint8_t digest[KF_SHA256_LEN])
{
	Kf__StreamClose		 sc = KF__STREAM_CLOSE__INIT;
	const Kf__StreamClosed	*closed;
	struct wire_msg		 m;
	char			 what[128];
	int			 rc = -1;

	if (sender_flush(s, 1) == -1)
		return -1;
	while (s->acked < s->sent)
		if (sender_ack(s, CLIENT_MA_TIMEOUT_MS) == -1)
			return -1;
	if (sha256_final(s->digest, digest) == -1)
		return job_fail(s->job, KF__KF_ERR__ERR_CRYPTO, "SHA-256 of "
		    "the chunk tags failed");
	sc.job = s->job->id;
	sc.chunks = s->sent;
	sc.stream_bytes = s->off;
	sc.digest.data = digest;
	sc.digest.len = KF_SHA256_LEN;
	snprintf(what, sizeof(what), "%s (STREAM_CLOSE)", s->what);
	if (job_call(s->job, s->ma, KF__MSG_TYPE__STREAM_CLOSE, &sc.base,
	    KF__MSG_TYPE__STREAM_CLOSED, CLIENT_MA_TIMEOUT_MS, &m, what) == -1)
		goto fail;
	closed = (const Kf__StreamClosed *)m.body;
	if (closed->job != s->job->id || closed->chunks != s->sent ||
	    closed->digest.len != KF_SHA256_LEN ||
	    crypto_memeq(closed->digest.data, digest, KF_SHA256_LEN) != 0) {
		job_fail(s->job, KF__KF_ERR__ERR_INTEGRITY, "%s closed the "
		    "stream with %llu chunks and a different digest than the "
		    "%llu chunks sent", s->what,
		    (unsigned long long)closed->chunks,
		    (unsigned long long)s->sent);
		goto fail;
	}
	*chunks = s->sent;
	*stream_bytes = s->off;
	rc = 0;
fail:
	job_msg_clear(&m);
	return rc;
}
