/*
 * fetch.c - the chunk source of a restore: the backup's ciphertext from the
 * MediaAgent (seed restore step 6), opened with the job's DEK (seed restore
 * step 7), as the first two stages of a pipeline of threads.
 *
 * The job's thread owns the DEALER to the MediaAgent and runs fetch_run:
 * it grants credit with CHUNK_READ (the runs of chunks the restore needs,
 * at most CLIENT_RESTORE_SLOTS chunks requested and not yet written), takes
 * each CHUNK_DATA into a free slot and queues it for the opener thread,
 * which checks the GCM tag and decrypts in place, then queues the chunk for
 * the writer (restore.c), which gives the slot back when the chunk is on
 * disk.  A fixed array of slots holds every chunk in flight, so memory is
 * bounded by the credit whatever the backup's size, and nothing is
 * allocated per chunk here.
 *
 * Every chunk is checked before its plaintext is handed on: the backup job
 * and index expected, the length the chunk size dictates, the last flag on
 * exactly the container's final chunk (a stream cut short is caught), and
 * the GCM tag, whose AAD binds job, index and last flag.  A chunk whose tag
 * fails is handed on marked bad, in order, so the writer names the file it
 * belongs to; the job thread's own errors (the MediaAgent's refusals,
 * silence, bad headers) stop the requests and let the chunks already
 * received drain, so the error can name the file being restored too.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zmq.h>

#include "chunk.h"
#include "client.h"
#include "log.h"
#include "pipeline.h"
#include "util.h"

#define FETCH_POLL_MS	250	/* how often the job thread checks for stop */

/* One chunk on its way through the pipeline. */
struct rchunk {
	zmq_msg_t	 msg;		/* ciphertext, then plaintext in place */
	uint64_t	 index;		/* chunk index in the backup */
	int		 last;		/* the chunk's last flag */
	uint8_t		 nonce[KF_NONCE_LEN]; /* GCM nonce from CHUNK_DATA */
	uint8_t		 tag[KF_TAG_LEN]; /* GCM tag from CHUNK_DATA */
	int		 bad;		/* the tag failed (or an earlier one did) */
};

struct fetch {
	struct job	*job;		/* token, DEK */
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
	uint64_t	 total;		/* chunks in all runs */
	uint64_t	 requested;	/* chunks asked for */
	uint64_t	 received;	/* CHUNK_DATA taken in */
	uint64_t	 done;		/* slots given back by the writer */
	struct rchunk	*slots;		/* CLIENT_RESTORE_SLOTS chunks */
	struct rchunk	*free[CLIENT_RESTORE_SLOTS]; /* stack of free slots */
	size_t		 nfree;		/* entries of free */
	struct queue	*openq;		/* job thread -> opener */
	struct queue	*writeq;	/* opener -> writer */
	struct queue	*doneq;		/* writer -> job thread (eventfd) */
	pthread_t	 opener;	/* the opener thread */
	int		 opener_on;	/* it was started */
	atomic_uint_fast64_t got;	/* chunks handed to the writer */
	atomic_uint_fast64_t bytes;	/* their plaintext bytes */
	uint64_t	 busy_us[FETCH_STAGES]; /* time each stage worked */
	uint64_t	 taken_us;	/* when the writer took its chunk */
	fetch_open_cb	 on_open;	/* sees each opened chunk, or NULL */
	void		*on_open_arg;	/* its argument */
	kf_err_t	 err;		/* the job thread's error, or ERR_NONE */
	char		 errmsg[CLIENT_ERRMSG - 64]; /* its sentence */
};

static uint64_t
now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* Microseconds each stage spent working (receive, open, write). */
void
fetch_busy(const struct fetch *f, uint64_t us[FETCH_STAGES])
{
	memcpy(us, f->busy_us, sizeof(f->busy_us));
}

struct fetch *
fetch_new(struct job *j, void *ma, const Kf__RestoreOrder *o,
    const struct fetch_range *r, size_t nr)
{
	struct fetch	*f;
	size_t		 i;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return NULL;
	f->job = j;
	f->ma = ma;
	snprintf(f->what, sizeof(f->what), "MediaAgent %s",
	    o->mediaagent_endpoint);
	f->backup = o->backup_job;
	f->csize = o->chunk_size;
	f->chunks = o->chunks;
	f->r = r;
	f->nr = nr;
	for (i = 0; i < nr; i++)
		f->total += r[i].count;
	if (nr > 0) {
		f->rq_next = r[0].first;
		f->rr_next = r[0].first;
	}
	f->err = KF__KF_ERR__ERR_NONE;
	atomic_init(&f->got, 0);
	atomic_init(&f->bytes, 0);
	/* Every queue holds every slot: a push never waits. */
	if ((f->slots = calloc(CLIENT_RESTORE_SLOTS, sizeof(*f->slots))) ==
	    NULL ||
	    (f->openq = queue_new(CLIENT_RESTORE_SLOTS, 0)) == NULL ||
	    (f->writeq = queue_new(CLIENT_RESTORE_SLOTS, 0)) == NULL ||
	    (f->doneq = queue_new(CLIENT_RESTORE_SLOTS, 1)) == NULL) {
		queue_free(&f->openq);
		queue_free(&f->writeq);
		free(f->slots);
		free(f);
		return NULL;
	}
	for (i = 0; i < CLIENT_RESTORE_SLOTS; i++) {
		zmq_msg_init(&f->slots[i].msg);
		f->free[f->nfree++] = &f->slots[CLIENT_RESTORE_SLOTS - 1 - i];
	}
	return f;
}

/* Stop every stage at once: the job is over. */
void
fetch_abort(struct fetch *f)
{
	queue_abort(f->openq);
	queue_abort(f->writeq);
	queue_abort(f->doneq);
}

void
fetch_free(struct fetch **fp)
{
	struct fetch	*f;
	size_t		 i;

	if (fp == NULL || (f = *fp) == NULL)
		return;
	if (f->opener_on) {
		fetch_abort(f);
		pthread_join(f->opener, NULL);
	}
	for (i = 0; i < CLIENT_RESTORE_SLOTS; i++)
		zmq_msg_close(&f->slots[i].msg);
	queue_free(&f->openq);
	queue_free(&f->writeq);
	queue_free(&f->doneq);
	free(f->slots);
	free(f);
	*fp = NULL;
}

uint64_t
fetch_chunks(const struct fetch *f)
{
	return atomic_load(&f->got);
}

uint64_t
fetch_bytes(const struct fetch *f)
{
	return atomic_load(&f->bytes);
}

/* The job thread's error (the caller adds the file), or NULL. */
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

/* Record the job thread's first error; always -1. */
static int
fetch_fail(struct fetch *f, kf_err_t code, const char *fmt, ...)
{
	va_list	ap;

	if (f->err != KF__KF_ERR__ERR_NONE)
		return -1;
	f->err = code;
	va_start(ap, fmt);
	vsnprintf(f->errmsg, sizeof(f->errmsg), fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * Grant credit: ask for more chunks while fewer than CLIENT_RESTORE_SLOTS
 * are requested and not yet written, in batches of CLIENT_CREDIT_BATCH or
 * more unless the run ends sooner or nothing is on its way.
 */
static int
fetch_request(struct fetch *f)
{
	Kf__ChunkRead		 rd = KF__CHUNK_READ__INIT;
	const struct fetch_range *r;
	uint64_t		 count, left, room;

	while (f->rq < f->nr) {
		r = &f->r[f->rq];
		left = r->first + r->count - f->rq_next;
		room = CLIENT_RESTORE_SLOTS - (f->requested - f->done);
		count = room < left ? room : left;
		if (count > CLIENT_READ_MAX)
			count = CLIENT_READ_MAX;
		if (count == 0 || (count < CLIENT_CREDIT_BATCH &&
		    count < left && f->requested > f->done))
			break;
		rd.job = f->job->id;
		rd.token.data = f->job->token;
		rd.token.len = KF_TOKEN_LEN;
		rd.first = f->rq_next;
		rd.count = (uint32_t)count;
		if (wire_send(f->ma, NULL, 0, KF__MSG_TYPE__CHUNK_READ,
		    &rd.base, NULL, 0) == -1)
			return fetch_fail(f, KF__KF_ERR__ERR_UNAVAILABLE,
			    "cannot send CHUNK_READ to %s: %s", f->what,
			    zmq_strerror(errno));
		f->requested += count;
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

	if (f->received >= f->requested || d->job != f->backup ||
	    idx != f->rr_next)
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

/* Take one message from the MediaAgent into a slot for the opener. */
static int
fetch_take_in(struct fetch *f, struct wire_msg *m)
{
	const Kf__ChunkData	*d;
	const struct fetch_range *r;
	struct rchunk		*c;
	size_t			 len = 0;

	if (m->type == KF__MSG_TYPE__ERROR)
		return fetch_fail(f, ((const Kf__Error *)m->body)->code,
		    "%s: %s", f->what, ((const Kf__Error *)m->body)->message);
	if (m->type != KF__MSG_TYPE__CHUNK_DATA)
		return fetch_fail(f, KF__KF_ERR__ERR_MALFORMED, "%s: expected "
		    "CHUNK_DATA, got %s", f->what, wire_type_name(m->type));
	d = (const Kf__ChunkData *)m->body;
	if (m->has_payload)
		(void)wire_payload(m, &len);
	if (fetch_check(f, d, len) == -1)
		return -1;
	/* requested - done <= the slots, and received < requested. */
	c = f->free[--f->nfree];
	zmq_msg_move(&c->msg, &m->payload);
	c->index = d->index;
	c->last = d->last;
	memcpy(c->nonce, d->nonce.data, KF_NONCE_LEN);
	memcpy(c->tag, d->tag.data, KF_TAG_LEN);
	c->bad = 0;
	f->received++;
	r = &f->r[f->rr];
	if (++f->rr_next == r->first + r->count && ++f->rr < f->nr)
		f->rr_next = f->r[f->rr].first;
	if (queue_push(f->openq, c) == -1)
		return -1;	/* aborted: the writer has failed */
	if (f->received == f->total)
		queue_close(f->openq);
	return 0;
}

/* Drain the MediaAgent's socket without waiting. */
static int
fetch_recv(struct fetch *f)
{
	struct wire_msg	 m;
	kf_err_t	 err;
	char		 errmsg[256];
	uint64_t	 t0 = now_us();
	int		 rc = 0;

	while (rc == 0 && f->err == KF__KF_ERR__ERR_NONE) {
		memset(&m, 0, sizeof(m));
		err = KF__KF_ERR__ERR_NONE;
		if (wire_recv(f->ma, 0, &m, &err, errmsg, sizeof(errmsg),
		    ZMQ_DONTWAIT) == -1) {
			job_msg_clear(&m);
			if (err == KF__KF_ERR__ERR_NONE)
				rc = 1;	/* nothing more now */
			else
				rc = fetch_fail(f, err, "%s: %s", f->what,
				    errmsg);
			break;
		}
		rc = fetch_take_in(f, &m);
		job_msg_clear(&m);
	}
	f->busy_us[0] += now_us() - t0;
	return rc;
}

/* The opener: GCM tag check and decryption in place, in order. */
static void *
fetch_opener(void *arg)
{
	struct fetch	*f = arg;
	struct rchunk	*c;
	void		*item;
	uint8_t		*p;
	uint64_t	 t0;
	int		 bad = 0;

	(void)pthread_setname_np(pthread_self(), "kf-ropener");
	while (queue_pop(f->openq, &item, -1) == QUEUE_ITEM) {
		c = item;
		t0 = now_us();
		p = zmq_msg_data(&c->msg);
		/* Seed restore step 7: The client decrypts data using DEK. */
		if (bad || chunk_open(f->job->dek, f->backup, c->index,
		    c->last, c->nonce, p, zmq_msg_size(&c->msg), p,
		    c->tag) == -1)
			c->bad = bad = 1;
		else if (f->on_open != NULL)
			f->on_open(f->on_open_arg, c->index, p,
			    zmq_msg_size(&c->msg));
		f->busy_us[1] += now_us() - t0;
		if (queue_push(f->writeq, c) == -1)
			break;
	}
	queue_close(f->writeq);
	return NULL;
}

/*
 * cb(arg, index, plain, len) runs in the opener thread on every chunk that
 * passed its tag, in order, before the writer can take it (restore.c hashes
 * files there).  Set before fetch_start.
 */
void
fetch_on_open(struct fetch *f, fetch_open_cb cb, void *arg)
{
	f->on_open = cb;
	f->on_open_arg = arg;
}

int
fetch_start(struct fetch *f)
{
	if (pthread_create(&f->opener, NULL, fetch_opener, f) != 0)
		return -1;
	f->opener_on = 1;
	if (f->total == 0)
		queue_close(f->openq);
	return 0;
}

/*
 * The writer's next chunk: 1 with *index, *plain, *len set, -1 when the
 * chunk failed its GCM tag (*index set), 0 when there are no more.
 */
int
fetch_take(struct fetch *f, void **cp, uint64_t *index, uint8_t **plain,
    size_t *len)
{
	struct rchunk	*c;
	void		*item;

	if (queue_pop(f->writeq, &item, -1) != QUEUE_ITEM)
		return 0;
	*cp = c = item;
	*index = c->index;
	f->taken_us = now_us();
	if (c->bad)
		return -1;
	*plain = zmq_msg_data(&c->msg);
	*len = zmq_msg_size(&c->msg);
	atomic_fetch_add(&f->got, 1);
	atomic_fetch_add(&f->bytes, *len);
	return 1;
}

/* The writer is done with a chunk: its slot goes back to the job thread. */
void
fetch_give(struct fetch *f, void *cp)
{
	struct rchunk	*c = cp;

	f->busy_us[2] += now_us() - f->taken_us;
	zmq_msg_close(&c->msg);
	zmq_msg_init(&c->msg);
	(void)queue_push(f->doneq, c);
}

/* The writer has written its last chunk (or given up). */
void
fetch_writer_done(struct fetch *f)
{
	queue_close(f->doneq);
}

/* After an error of the job thread: no more requests, drain what came. */
static void
fetch_drain(struct fetch *f, int *closed)
{
	if (!*closed)
		queue_close(f->openq);
	*closed = 1;
}

/*
 * The job thread's part: credit out, chunks in, slots back, until the
 * writer is done.  tick(arg) runs at least every FETCH_POLL_MS (progress
 * reports).  0 when every chunk was received; -1 on the job thread's error
 * (fetch_error) or when a stage aborted the pipeline.
 */
int
fetch_run(struct fetch *f, void (*tick)(void *), void *arg)
{
	zmq_pollitem_t	 it[2];
	enum queue_rc	 qrc;
	void		*item;
	int64_t		 heard = util_mono_ms();
	int		 closed = f->total == 0, n;

	for (;;) {
		while ((qrc = queue_pop(f->doneq, &item, 0)) == QUEUE_ITEM) {
			f->free[f->nfree++] = item;
			f->done++;
		}
		if (qrc == QUEUE_END)
			return f->err == KF__KF_ERR__ERR_NONE &&
			    f->received == f->total ? 0 : -1;
		if (qrc == QUEUE_ABORTED)
			return -1;
		tick(arg);
		if (job_stopped(f->job)) {
			fetch_fail(f, f->job->err, "%s", f->job->errmsg);
			fetch_abort(f);
			return -1;
		}
		/* Silence counts from when something was asked for. */
		if (f->received == f->requested)
			heard = util_mono_ms();
		if (!closed && fetch_request(f) == -1)
			fetch_drain(f, &closed);
		if (!closed && f->received < f->requested &&
		    util_mono_ms() - heard > CLIENT_MA_TIMEOUT_MS) {
			fetch_fail(f, KF__KF_ERR__ERR_TIMEOUT, "%s: no answer "
			    "within %d s", f->what, CLIENT_MA_TIMEOUT_MS / 1000);
			fetch_drain(f, &closed);
		}
		memset(it, 0, sizeof(it));
		it[0].fd = queue_fd(f->doneq);
		it[0].events = ZMQ_POLLIN;
		it[1].socket = f->ma;
		it[1].fd = -1;
		it[1].events = ZMQ_POLLIN;
		n = zmq_poll(it, closed ? 1 : 2, FETCH_POLL_MS);
		if (n == -1 && errno != EINTR) {
			fetch_fail(f, KF__KF_ERR__ERR_INTERNAL, "zmq_poll: %s",
			    zmq_strerror(errno));
			fetch_abort(f);
			return -1;
		}
		if (n <= 0 || closed || !(it[1].revents & ZMQ_POLLIN))
			continue;
		heard = util_mono_ms();
		if (fetch_recv(f) == -1 || f->received == f->total) {
			if (f->err != KF__KF_ERR__ERR_NONE)
				fetch_drain(f, &closed);
			closed = 1;
		}
	}
}
