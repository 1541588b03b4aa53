/*
 * pipeline.h - the machinery of a data pipeline between threads: a fixed
 * pool of equal buffers allocated once, and a bounded FIFO queue.
 *
 * A backup reads into a buffer from the pool, queues it for sealing, then
 * for sending; ZeroMQ sends it without a copy and gives it back to the
 * pool from its I/O thread when the bytes are on the wire.  So the memory
 * a job uses is the pool's, fixed when the job starts, however fast or
 * slow the disk and the network are.
 *
 * Every call is thread-safe.  Aborting a pool or a queue wakes every
 * thread blocked on it and makes further waits fail at once, so a job can
 * stop its threads with items in flight.  A pool is freed when its owner
 * has called pool_free and every buffer has come back (whichever happens
 * last), so a buffer still inside ZeroMQ when the job ends is safe to
 * return later.  Buffer memory is its own mapping, kept out of core dumps
 * and returned to the kernel (which zeroes it) when the pool goes.
 */
#ifndef KF_PIPELINE_H
#define KF_PIPELINE_H

#include <stddef.h>

#define PIPE_ALIGN	64	/* buffers start on a cache line */

struct pool;

/* n buffers of size bytes each (rounded up to PIPE_ALIGN); NULL on ENOMEM. */
struct pool *pool_new(size_t n, size_t size);
/* Take a buffer, waiting for one; NULL once the pool is aborted. */
void	*pool_get(struct pool *);
/* Give a buffer back (from any thread, ZeroMQ's free callback included). */
void	 pool_put(struct pool *, void *);
/* Wake every pool_get; from now on pool_get fails. */
void	 pool_abort(struct pool *);
/* Buffers not in the pool right now. */
size_t	 pool_out(struct pool *);
/* The owner is done: freed now, or when the last buffer comes back. */
void	 pool_free(struct pool **);

/* What queue_pop found. */
enum queue_rc {
	QUEUE_ITEM,		/* *item is the oldest item */
	QUEUE_EMPTY,		/* nothing within the timeout */
	QUEUE_END,		/* closed by the producer and drained */
	QUEUE_ABORTED		/* aborted: items left are not handed out */
};

struct queue;

/* Room for cap items; NULL on ENOMEM.  A readable eventfd with wakeup. */
struct queue *queue_new(size_t cap, int wakeup);
/* Append item, waiting while the queue is full; -1 once closed/aborted. */
int	 queue_push(struct queue *, void *item);
/* Oldest item; timeout_ms 0 polls, -1 waits for ever. */
enum queue_rc queue_pop(struct queue *, void **item, int timeout_ms);
/* The producer is done: consumers get QUEUE_END after the last item. */
void	 queue_close(struct queue *);
/* Wake everyone; pushes and pops fail from now on. */
void	 queue_abort(struct queue *);
/*
 * An fd that polls readable whenever items (or the end, or an abort) may
 * be waiting, for a consumer that also polls sockets; -1 without wakeup.
 * queue_pop clears it when it finds the queue empty.
 */
int	 queue_fd(const struct queue *);
/* Items queued now. */
size_t	 queue_len(struct queue *);
/* Items left are the caller's to release before this (see queue_drain). */
void	 queue_free(struct queue **);
/* Pop every item left, even after an abort; NULL when none is left. */
void	*queue_drain(struct queue *);

#endif
