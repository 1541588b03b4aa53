/*
 * backup_send.c - the sending half of a backup, as a pipeline: the stream
 * is cut into chunks of the order's chunk size, each sealed with the job's
 * DEK (seed backup step 4) and sent to the MediaAgent as CHUNK_PUT plus a
 * ciphertext frame (seed backup step 5).
 *
 * Three threads share the work.  The reader (backup.c) writes the stream
 * into chunk buffers taken from a pool allocated once per job; a sealer
 * thread seals each full buffer in place; the job's thread, which owns the
 * MediaAgent socket, sends them in index order.  ZeroMQ sends the buffer
 * itself (zmq_msg_init_data) and hands it back to the pool from its I/O
 * thread once it is on the wire, so no chunk is copied or allocated.  The
 * pool holds the window plus SENDER_SPARE buffers: that, not the speed of
 * the disk or the network, bounds the memory a job uses.
 *
 * Credit-based flow control: at most `window` chunks are unacknowledged
 * (KEYFLOW_CLIENT_WINDOW, CLIENT_WINDOW_MIN..CLIENT_WINDOW_MAX, default
 * CLIENT_WINDOW; ChunkAck is cumulative and the MediaAgent acknowledges at
 * least every CLIENT_WINDOW_MIN chunks).  A MediaAgent that acknowledges
 * nothing for CLIENT_MA_TIMEOUT_MS while the window is full fails the job,
 * and any ERROR it sends fails the job with its code and sentence.  The
 * stream digest is SHA-256 over the chunk tags in index order, which
 * STREAM_CLOSE and JOB_DONE both carry.
 *
 * Several data streams (the order's streams, 1..CLIENT_STREAMS_MAX): the
 * job has that many DEALERs to the MediaAgent and chunk i goes on
 * connection i % n, each connection with a window of its own (the pool
 * grows to n windows).  Chunks are still sealed by one thread and sent in
 * index order; the MediaAgent writes them in order, holding early ones in
 * a reorder buffer of n windows.  Acknowledgements are per connection,
 * cumulative over its own chunks; an ERROR on any connection fails the
 * job.  STREAM_CLOSE goes on connection 0 once every connection's chunks
 * are acknowledged.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zmq.h>

#include "chunk.h"
#include "client.h"
#include "fault.h"
#include "log.h"
#include "pipeline.h"
#include "util.h"
#include "zmon.h"

#define SENDER_SPARE	4	/* buffers beyond the window: read, seal */
#define SENDER_POLL_MS	250	/* how often a waiting sender checks */
#define SENDER_PUT_MAX	128	/* packed CHUNK_PUT bytes, generously */

/* One chunk buffer: this header, then the chunk at SLOT_DATA. */
struct slot {
	struct pool	*pool;		/* where it goes back */
	uint64_t	 index;		/* chunk index */
	size_t		 len;		/* bytes of data used */
	int		 last;		/* the stream's last chunk */
	uint8_t		 nonce[KF_NONCE_LEN]; /* set by the sealer */
	uint8_t		 tag[KF_TAG_LEN]; /* set by the sealer */
};
#define SLOT_DATA	128		/* >= sizeof(struct slot), aligned */
#define slot_data(sl)	((uint8_t *)(sl) + SLOT_DATA)
_Static_assert(sizeof(struct slot) <= SLOT_DATA, "SLOT_DATA too small");

/* One connection to the MediaAgent (job thread only). */
struct conn {
	void		*ma;		/* DEALER to the MediaAgent */
	void		*mon;		/* PAIR: ma's disconnections, or NULL */
	uint64_t	 sent;		/* chunks sent on it */
	uint64_t	 acked;		/* of those, written by the MediaAgent */
	int64_t		 ack_ms;	/* last ack, or when the window filled */
};

struct sender {
	struct job	*job;		/* DEK, id, errors (job thread only) */
	struct conn	 conn[CLIENT_STREAMS_MAX]; /* chunk i on conn[i % n] */
	unsigned	 nconn;		/* connections (data streams) */
	uint32_t	 cap;		/* chunk size */
	unsigned	 window;	/* chunks unacknowledged per connection */
	struct pool	*pool;		/* nconn windows + SENDER_SPARE slots */
	struct queue	*sealq;		/* reader -> sealer, plaintext */
	struct queue	*sendq;		/* sealer -> job thread, sealed */
	pthread_t	 sealer;	/* the sealing thread */
	int		 sealer_on;	/* sealer was started */
	/* The reader's side. */
	struct slot	*cur;		/* slot being filled, or NULL */
	uint64_t	 off;		/* stream bytes written so far */
	uint64_t	 next;		/* index of the next slot */
	/* The sealer's failure, read by the job thread after the abort. */
	pthread_mutex_t	 mtx;		/* guards serr, serrmsg */
	kf_err_t	 serr;		/* ERR_NONE while fine */
	char		 serrmsg[CLIENT_ERRMSG]; /* its sentence */
	/* The job thread's side. */
	uint64_t	 sent;		/* chunks sent, on all connections */
	uint64_t	 seal_us;	/* sealer: time spent sealing */
	uint64_t	 credit_us;	/* job thread: waiting, window full */
	uint64_t	 idle_us;	/* job thread: waiting for a sealed chunk */
	struct sha256_ctx *digest;	/* over the tags, in index order */
	char		 what[96];	/* "MediaAgent <endpoint>" */
};

static int	sender_monitor(struct sender *, unsigned);

/* Monotonic microseconds, for the stage timings. */
uint64_t
sender_now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* The window from KEYFLOW_CLIENT_WINDOW, or the default. */
unsigned
sender_window(void)
{
	const char	*v = getenv("KEYFLOW_CLIENT_WINDOW");
	char		*end;
	unsigned long	 w;

	if (v == NULL || *v == '\0')
		return CLIENT_WINDOW;
	errno = 0;
	w = strtoul(v, &end, 10);
	if (errno != 0 || *end != '\0' || w < CLIENT_WINDOW_MIN ||
	    w > CLIENT_WINDOW_MAX) {
		log_warnx("KEYFLOW_CLIENT_WINDOW \"%s\" is not a number from "
		    "%d to %d; using %d", v, CLIENT_WINDOW_MIN,
		    CLIENT_WINDOW_MAX, CLIENT_WINDOW);
		return CLIENT_WINDOW;
	}
	return (unsigned)w;
}

/* The sealer's failure: kept for the job thread, then abort everything. */
static void
sender_seal_fail(struct sender *s, kf_err_t code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
sender_seal_fail(struct sender *s, kf_err_t code, const char *fmt, ...)
{
	va_list	ap;

	pthread_mutex_lock(&s->mtx);
	if (s->serr == KF__KF_ERR__ERR_NONE) {
		s->serr = code;
		va_start(ap, fmt);
		vsnprintf(s->serrmsg, sizeof(s->serrmsg), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&s->mtx);
	sender_abort(s);
}

/* Seed backup step 4: Client encrypts backup data using DEK. */
static void *
sender_sealer(void *arg)
{
	struct sender	*s = arg;
	struct slot	*sl;
	void		*item;
	enum queue_rc	 rc;
	uint64_t	 t;

	for (;;) {
		rc = queue_pop(s->sealq, &item, -1);
		if (rc == QUEUE_END) {
			queue_close(s->sendq);
			break;
		}
		if (rc != QUEUE_ITEM)
			break;
		sl = item;
		t = sender_now_us();
		if (chunk_seal(s->job->dek, s->job->id, sl->index, sl->last,
		    slot_data(sl), sl->len, slot_data(sl), sl->nonce,
		    sl->tag) == -1) {
			pool_put(s->pool, sl);
			sender_seal_fail(s, KF__KF_ERR__ERR_CRYPTO, "could not "
			    "encrypt chunk %llu", (unsigned long long)sl->index);
			break;
		}
		s->seal_us += sender_now_us() - t;
		if (queue_push(s->sendq, sl) == -1) {
			pool_put(s->pool, sl);
			break;
		}
	}
	return NULL;
}

struct sender *
sender_new(struct job *j, void *const *ma, unsigned n, const char *endpoint,
    uint32_t cap)
{
	struct sender	*s;
	unsigned	 k;

	if (n < 1 || n > CLIENT_STREAMS_MAX)
		return NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	pthread_mutex_init(&s->mtx, NULL);
	s->job = j;
	s->nconn = n;
	for (k = 0; k < n; k++) {
		s->conn[k].ma = ma[k];
		/* One stream: CommServe's view of a dead MediaAgent rules. */
		if (n > 1 && sender_monitor(s, k) == -1)
			goto fail;
	}
	s->cap = cap;
	s->window = sender_window();
	snprintf(s->what, sizeof(s->what), "MediaAgent %s", endpoint);
	if ((s->pool = pool_new((size_t)n * s->window + SENDER_SPARE,
	    SLOT_DATA + (size_t)cap)) == NULL ||
	    (s->sealq = queue_new(SENDER_SPARE, 0)) == NULL ||
	    (s->sendq = queue_new((size_t)n * s->window + SENDER_SPARE,
	    1)) == NULL ||
	    (s->digest = sha256_new()) == NULL)
		goto fail;
	if (pthread_create(&s->sealer, NULL, sender_sealer, s) != 0)
		goto fail;
	s->sealer_on = 1;
	log_debug("job %llu: %u data streams, each with a window of %u "
	    "chunks of %u bytes", (unsigned long long)j->id, n, s->window,
	    cap);
	return s;
fail:
	sender_free(&s);
	return NULL;
}

/*
 * Watch connection k of several for a disconnection: the chunks in
 * flight on it are lost and a reconnected one cannot resume the stream
 * (the MediaAgent knows streams by connection), so the job fails at once
 * rather than when the window runs dry and the ack timeout strikes.  With
 * one stream nothing changes: a dead MediaAgent is CommServe's to report.
 */
static int
sender_monitor(struct sender *s, unsigned k)
{
	struct conn	*c = &s->conn[k];

	if ((c->mon = zmon_open(s->job->client->zctx, c->ma,
	    ZMQ_EVENT_DISCONNECTED)) == NULL) {
		log_warnx("job %llu: cannot watch data stream %u: %s",
		    (unsigned long long)s->job->id, k, zmq_strerror(errno));
		return -1;
	}
	return 0;
}

/* Stop every thread of the pipeline; safe from any thread, repeatedly. */
void
sender_abort(struct sender *s)
{
	pool_abort(s->pool);
	queue_abort(s->sealq);
	queue_abort(s->sendq);
}

void
sender_free(struct sender **sp)
{
	struct sender	*s;
	void		*item;
	unsigned	 k;

	if (sp == NULL || (s = *sp) == NULL)
		return;
	for (k = 0; k < s->nconn; k++)
		if (s->conn[k].mon != NULL) {
			zmq_socket_monitor(s->conn[k].ma, NULL, 0);
			zmq_close(s->conn[k].mon);
		}
	if (s->sealer_on) {
		sender_abort(s);
		pthread_join(s->sealer, NULL);
	}
	/* Slots still queued go back; the pool wipes them when freed. */
	if (s->cur != NULL && s->pool != NULL)
		pool_put(s->pool, s->cur);
	if (s->sealq != NULL)
		while ((item = queue_drain(s->sealq)) != NULL)
			pool_put(s->pool, item);
	if (s->sendq != NULL)
		while ((item = queue_drain(s->sendq)) != NULL)
			pool_put(s->pool, item);
	queue_free(&s->sealq);
	queue_free(&s->sendq);
	/* Slots still inside ZeroMQ come back later; then it is freed. */
	pool_free(&s->pool);
	sha256_free(&s->digest);
	pthread_mutex_destroy(&s->mtx);
	free(s);
	*sp = NULL;
}

/*
 * The reader's side: stream bytes go into slots, full slots to the sealer.
 */

uint64_t
sender_offset(const struct sender *s)
{
	return s->off;
}

/* Hand the current slot to the sealer. */
static int
sender_push(struct sender *s, int last)
{
	struct slot	*sl = s->cur;

	s->cur = NULL;
	sl->last = last;
	if (queue_push(s->sealq, sl) == -1) {
		pool_put(s->pool, sl);
		return -1;
	}
	return 0;
}

/*
 * Room for more stream bytes: *p and *avail (never 0).  A full chunk goes
 * to the sealer first; it is not the last one, since more bytes are
 * coming.  -1 once the pipeline was aborted.
 */
int
sender_space(struct sender *s, uint8_t **p, size_t *avail)
{
	if (s->cur != NULL && s->cur->len == s->cap &&
	    sender_push(s, 0) == -1)
		return -1;
	if (s->cur == NULL) {
		if ((s->cur = pool_get(s->pool)) == NULL)
			return -1;
		s->cur->pool = s->pool;
		s->cur->index = s->next++;
		s->cur->len = 0;
		s->cur->last = 0;
	}
	*p = slot_data(s->cur) + s->cur->len;
	*avail = s->cap - s->cur->len;
	return 0;
}

/* n bytes were written at the place sender_space gave. */
void
sender_commit(struct sender *s, size_t n)
{
	s->cur->len += n;
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

/* The stream is complete: the last chunk goes, the sealer sees the end. */
int
sender_end(struct sender *s)
{
	if (s->cur == NULL) {
		/* The stream always ends with its end record. */
		sender_abort(s);
		return -1;
	}
	if (sender_push(s, 1) == -1)
		return -1;
	queue_close(s->sealq);
	return 0;
}

/*
 * The job thread's side: acknowledgements, sending, the end.
 */

/* Wait up to timeout_ms for one CHUNK_ACK on connection k. */
static int
sender_ack(struct sender *s, unsigned k, int timeout_ms)
{
	struct conn		*c = &s->conn[k];
	const Kf__ChunkAck	*a;
	struct wire_msg		 m;
	uint64_t		 nth;
	int			 rc = -1;

	if (job_await(s->job, c->ma, KF__MSG_TYPE__CHUNK_ACK, timeout_ms, &m,
	    s->what) == -1)
		goto fail;
	a = (const Kf__ChunkAck *)m.body;
	/* Connection k carries chunks k, k + n, k + 2n...: nth is its. */
	nth = a->index / s->nconn;
	if (a->job != s->job->id || a->index % s->nconn != k ||
	    nth >= c->sent) {
		job_fail(s->job, KF__KF_ERR__ERR_MALFORMED, "%s acknowledged "
		    "chunk %llu of job %llu on data stream %u, which did not "
		    "send it", s->what, (unsigned long long)a->index,
		    (unsigned long long)a->job, k);
		goto fail;
	}
	if (nth + 1 > c->acked)
		c->acked = nth + 1;
	c->ack_ms = util_mono_ms();
	rc = 0;
fail:
	job_msg_clear(&m);
	return rc;
}

/* Take the acknowledgements (or ERRORs) already there, on every connection. */
static int
sender_drain(struct sender *s)
{
	unsigned	k;
	int		ev;
	size_t		len;

	for (k = 0; k < s->nconn; k++)
		for (;;) {
			len = sizeof(ev);
			if (zmq_getsockopt(s->conn[k].ma, ZMQ_EVENTS, &ev,
			    &len) == -1)
				return job_fail(s->job,
				    KF__KF_ERR__ERR_INTERNAL, "%s: %s",
				    s->what, zmq_strerror(errno));
			if (!(ev & ZMQ_POLLIN))
				break;
			if (sender_ack(s, k, CLIENT_MA_TIMEOUT_MS) == -1)
				return -1;
		}
	return 0;
}

/*
 * Wait up to left ms for a message on any connection, or (with q) for the
 * sealed queue; *waited gets the time.  -1 fails the job.
 */
static int
sender_poll(struct sender *s, int q, long left, uint64_t *waited)
{
	zmq_pollitem_t	 it[2 * CLIENT_STREAMS_MAX + 1];
	unsigned	 k, n = 0;
	uint64_t	 t;
	int		 rc;

	for (k = 0; k < s->nconn; k++, n++) {
		it[n].socket = s->conn[k].ma;
		it[n].fd = -1;
		it[n].events = ZMQ_POLLIN;
		it[n].revents = 0;
	}
	for (k = 0; s->nconn > 1 && k < s->nconn; k++, n++) {
		it[n].socket = s->conn[k].mon;
		it[n].fd = -1;
		it[n].events = ZMQ_POLLIN;
		it[n].revents = 0;
	}
	if (q) {
		it[n].socket = NULL;
		it[n].fd = queue_fd(s->sendq);
		it[n].events = ZMQ_POLLIN;
		it[n].revents = 0;
		n++;
	}
	t = sender_now_us();
	rc = zmq_poll(it, (int)n, left);
	*waited += sender_now_us() - t;
	if (rc == -1 && errno != EINTR)
		return job_fail(s->job, KF__KF_ERR__ERR_INTERNAL, "%s: "
		    "zmq_poll: %s", s->what, zmq_strerror(errno));
	for (k = 0; rc > 0 && s->nconn > 1 && k < s->nconn; k++)
		if (it[s->nconn + k].revents & ZMQ_POLLIN)
			return job_fail(s->job, KF__KF_ERR__ERR_UNAVAILABLE,
			    "%s: the connection of data stream %u of %u "
			    "dropped in the middle of the job; the chunks in "
			    "flight on it are lost", s->what, k + 1, s->nconn);
	return 0;
}

/* ZeroMQ is done with a slot's bytes (runs on its I/O thread). */
static void
sender_sent(void *data, void *hint)
{
	struct slot	*sl = hint;

	(void)data;
	pool_put(sl->pool, sl);
}

/*
 * Seed backup step 5: Client sends encrypted data to the MediaAgent.
 * The frames are those of wire_send, but the ciphertext frame is the
 * slot itself: ZeroMQ owns it until sender_sent gives it back.
 */
static int
sender_put(struct sender *s, void *ma, struct slot *sl)
{
	Kf__ChunkPut	 put = KF__CHUNK_PUT__INIT;
	uint8_t		 hdr[4], body[SENDER_PUT_MAX];
	zmq_msg_t	 msg;
	uint64_t	 index;
	size_t		 len;
	int		 e;

	put.job = s->job->id;
	put.index = sl->index;
	put.plain_len = (uint32_t)sl->len;
	put.last = sl->last;
	put.nonce.data = sl->nonce;
	put.nonce.len = KF_NONCE_LEN;
	put.tag.data = sl->tag;
	put.tag.len = KF_TAG_LEN;
	if ((len = protobuf_c_message_get_packed_size(&put.base)) >
	    sizeof(body)) {
		pool_put(s->pool, sl);
		return job_fail(s->job, KF__KF_ERR__ERR_INTERNAL, "CHUNK_PUT "
		    "is %zu bytes", len);
	}
	protobuf_c_message_pack(&put.base, body);
	be32_put(hdr, KF__MSG_TYPE__CHUNK_PUT);
	if (zmq_msg_init_data(&msg, slot_data(sl), sl->len, sender_sent,
	    sl) == -1) {
		pool_put(s->pool, sl);
		return job_fail(s->job, KF__KF_ERR__ERR_INTERNAL, "zmq_msg: "
		    "%s", zmq_strerror(errno));
	}
	if (zmq_send(ma, hdr, sizeof(hdr), ZMQ_SNDMORE) == -1 ||
	    zmq_send(ma, body, len, ZMQ_SNDMORE) == -1 ||
	    zmq_msg_send(&msg, ma, 0) == -1) {
		e = errno;
		index = sl->index;
		zmq_msg_close(&msg);	/* gives the slot back */
		return job_fail(s->job, KF__KF_ERR__ERR_UNAVAILABLE, "could "
		    "not send chunk %llu to %s: %s",
		    (unsigned long long)index, s->what, zmq_strerror(e));
	}
	return 0;
}

/* A sealed slot: its tag into the digest, then onto the wire. */
static int
sender_one(struct sender *s, struct slot *sl)
{
	struct conn	*c = &s->conn[sl->index % s->nconn];

	if (sl->index != s->sent) {
		pool_put(s->pool, sl);
		return job_fail(s->job, KF__KF_ERR__ERR_INTERNAL, "chunk %llu "
		    "came to be sent instead of chunk %llu",
		    (unsigned long long)sl->index,
		    (unsigned long long)s->sent);
	}
	if (sha256_update(s->digest, sl->tag, KF_TAG_LEN) == -1) {
		pool_put(s->pool, sl);
		return job_fail(s->job, KF__KF_ERR__ERR_CRYPTO, "SHA-256 "
		    "failed on the tag of chunk %llu",
		    (unsigned long long)s->sent);
	}
	if (sender_put(s, c->ma, sl) == -1)
		return -1;
	fault_point("client.after_chunk", s->sent);
	s->sent++;
	if (++c->sent - c->acked == s->window)
		c->ack_ms = util_mono_ms();	/* the clock starts */
	return 0;
}

/* The pipeline stopped early: say why, if the job thread does not know. */
static int
sender_aborted(struct sender *s)
{
	pthread_mutex_lock(&s->mtx);
	if (s->serr != KF__KF_ERR__ERR_NONE)
		job_fail(s->job, s->serr, "%s", s->serrmsg);
	pthread_mutex_unlock(&s->mtx);
	return -1;
}

/*
 * Send every sealed chunk as it comes, within the window, until the
 * sealer has passed on the last one.  tick(arg) runs at least every
 * SENDER_POLL_MS (progress); it returns -1 to stop the job.  On -1 the
 * pipeline is aborted, so the reader's thread ends too.
 */
int
sender_pump(struct sender *s, int (*tick)(void *), void *arg)
{
	struct conn	*c;
	void		*item;
	enum queue_rc	 rc;
	int64_t		 left;
	unsigned	 k;
	int		 room;

	for (k = 0; k < s->nconn; k++)
		s->conn[k].ack_ms = util_mono_ms();
	for (;;) {
		if (tick(arg) == -1 || sender_drain(s) == -1)
			goto fail;
		/* The next chunk goes on c: it needs room there. */
		for (;;) {
			c = &s->conn[s->sent % s->nconn];
			if (!(room = (c->sent - c->acked < s->window)))
				break;
			rc = queue_pop(s->sendq, &item, 0);
			if (rc == QUEUE_EMPTY)
				break;
			if (rc == QUEUE_END)
				return 0;
			if (rc == QUEUE_ABORTED) {
				sender_aborted(s);
				goto fail;
			}
			if (sender_one(s, item) == -1)
				goto fail;
		}
		left = SENDER_POLL_MS;
		if (!room) {
			left = c->ack_ms + CLIENT_MA_TIMEOUT_MS -
			    util_mono_ms();
			if (left <= 0) {
				job_fail(s->job, KF__KF_ERR__ERR_TIMEOUT,
				    "%s: no chunk acknowledged within %d s",
				    s->what, CLIENT_MA_TIMEOUT_MS / 1000);
				goto fail;
			}
			if (left > SENDER_POLL_MS)
				left = SENDER_POLL_MS;
		}
		/* With the window full, only an ack can help. */
		if (sender_poll(s, room, (long)left,
		    room ? &s->idle_us : &s->credit_us) == -1)
			goto fail;
	}
fail:
	sender_abort(s);
	return -1;
}

/* Every chunk sent acknowledged, on every connection. */
static int
sender_settle(struct sender *s)
{
	int64_t		 since = util_mono_ms();
	uint64_t	 waited = 0, acked, last = 0;
	unsigned	 k;

	for (;;) {
		if (job_stopped(s->job) || sender_drain(s) == -1)
			return -1;
		acked = 0;
		for (k = 0; k < s->nconn; k++)
			acked += s->conn[k].acked;
		if (acked == s->sent)
			return 0;
		if (acked != last) {
			last = acked;
			since = util_mono_ms();
		}
		if (util_mono_ms() - since >= CLIENT_MA_TIMEOUT_MS)
			return job_fail(s->job, KF__KF_ERR__ERR_TIMEOUT,
			    "%s: no chunk acknowledged within %d s", s->what,
			    CLIENT_MA_TIMEOUT_MS / 1000);
		if (sender_poll(s, 0, SENDER_POLL_MS, &waited) == -1)
			return -1;
	}
}

/*
 * Wait until every chunk is acknowledged, then STREAM_CLOSE, whose
 * STREAM_CLOSED must agree on chunks and digest.
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

	memset(&m, 0, sizeof(m));
	if (sender_settle(s) == -1)
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
	if (job_call(s->job, s->conn[0].ma, KF__MSG_TYPE__STREAM_CLOSE,
	    &sc.base,
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
	log_debug("job %llu: sealing took %llu ms; the sender waited %llu ms "
	    "with the window full and %llu ms for sealed chunks",
	    (unsigned long long)s->job->id,
	    (unsigned long long)s->seal_us / 1000,
	    (unsigned long long)s->credit_us / 1000,
	    (unsigned long long)s->idle_us / 1000);
	rc = 0;
fail:
	job_msg_clear(&m);
	return rc;
}
