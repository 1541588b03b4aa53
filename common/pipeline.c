/*
 * pipeline.c - a buffer pool and a bounded queue for threads handing data
 * to each other (see pipeline.h).
 *
 * Both are a mutex and condition variables around an array fixed at
 * creation: nothing is allocated while data flows.  A queue may also keep
 * an eventfd readable while it has something for its consumer, so a thread
 * that waits on ZeroMQ sockets with zmq_poll can wait on the queue too.
 *
 * A pool's buffers hold plaintext, so they are one anonymous mapping of
 * their own, kept out of core dumps (MADV_DONTDUMP), and unmapped when the
 * pool goes: the pages go back to the kernel, which zeroes a page before
 * any process sees it again.  Wiping them first would gain nothing and
 * would make the kernel fault in and zero every page a small job never
 * touched (12 MiB for a 4 KiB backup), the largest cost of a small job.
 * Memory from malloc could not promise this: glibc may serve a later
 * large allocation from its heap and hand our plaintext on.
 */
#include <sys/eventfd.h>
#include <sys/mman.h>

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pipeline.h"

struct pool {
	pthread_mutex_t	 mtx;		/* guards everything below */
	pthread_cond_t	 cv;		/* a buffer came back, or abort */
	uint8_t		*base;		/* n * size bytes, all buffers */
	size_t		 n;		/* buffers */
	size_t		 size;		/* bytes per buffer */
	void		**free;		/* stack of buffers in the pool */
	size_t		 nfree;		/* entries of free */
	int		 aborted;	/* pool_abort was called */
	int		 orphan;	/* pool_free was called */
};

struct queue {
	pthread_mutex_t	 mtx;		/* guards everything below */
	pthread_cond_t	 not_full;	/* an item left, or close/abort */
	pthread_cond_t	 not_empty;	/* an item came, or close/abort */
	void		**ring;		/* cap slots */
	size_t		 cap;		/* slots */
	size_t		 head;		/* oldest item */
	size_t		 len;		/* items queued */
	int		 closed;	/* the producer is done */
	int		 aborted;	/* everyone stops */
	int		 efd;		/* eventfd for the consumer, or -1 */
};

static void
pool_destroy(struct pool *p)
{
	if (p->base != NULL)
		(void)munmap(p->base, p->n * p->size);
	free(p->free);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mtx);
	free(p);
}

struct pool *
pool_new(size_t n, size_t size)
{
	struct pool	*p;
	void		*base = NULL;
	size_t		 i;

	if (n == 0 || size == 0 || size > SIZE_MAX - PIPE_ALIGN)
		return NULL;
	size = (size + PIPE_ALIGN - 1) & ~(size_t)(PIPE_ALIGN - 1);
	if (n > SIZE_MAX / size || (p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	pthread_mutex_init(&p->mtx, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->n = n;
	p->size = size;
	base = mmap(NULL, n * size, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED)
		base = NULL;
	else
		(void)madvise(base, n * size, MADV_DONTDUMP);
	p->base = base;
	if (base == NULL ||
	    (p->free = calloc(n, sizeof(*p->free))) == NULL) {
		pool_destroy(p);
		return NULL;
	}
	/* Hand out the lowest buffers first: fewer pages touched. */
	for (i = 0; i < n; i++)
		p->free[i] = p->base + (n - 1 - i) * size;
	p->nfree = n;
	return p;
}

void *
pool_get(struct pool *p)
{
	void	*b = NULL;

	pthread_mutex_lock(&p->mtx);
	while (!p->aborted && p->nfree == 0)
		pthread_cond_wait(&p->cv, &p->mtx);
	if (!p->aborted)
		b = p->free[--p->nfree];
	pthread_mutex_unlock(&p->mtx);
	return b;
}

void
pool_put(struct pool *p, void *b)
{
	uint8_t	*u = b;
	int	 last;

	if (b == NULL)
		return;
	pthread_mutex_lock(&p->mtx);
	/* A foreign pointer or a double put is a broken invariant. */
	if (u < p->base || u >= p->base + p->n * p->size ||
	    (size_t)(u - p->base) % p->size != 0 || p->nfree >= p->n)
		abort();
	p->free[p->nfree++] = b;
	last = p->orphan && p->nfree == p->n;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mtx);
	if (last)
		pool_destroy(p);
}

void
pool_abort(struct pool *p)
{
	pthread_mutex_lock(&p->mtx);
	p->aborted = 1;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mtx);
}

size_t
pool_out(struct pool *p)
{
	size_t	out;

	pthread_mutex_lock(&p->mtx);
	out = p->n - p->nfree;
	pthread_mutex_unlock(&p->mtx);
	return out;
}

void
pool_free(struct pool **pp)
{
	struct pool	*p;
	int		 now;

	if (pp == NULL || (p = *pp) == NULL)
		return;
	*pp = NULL;
	pthread_mutex_lock(&p->mtx);
	p->orphan = 1;
	p->aborted = 1;
	pthread_cond_broadcast(&p->cv);
	now = p->nfree == p->n;
	pthread_mutex_unlock(&p->mtx);
	if (now)
		pool_destroy(p);
}

/* Make the eventfd readable (called with the mutex held). */
static void
queue_signal(struct queue *q)
{
	uint64_t	one = 1;

	if (q->efd != -1 && write(q->efd, &one, sizeof(one)) == -1 &&
	    errno != EAGAIN)
		abort();
}

struct queue *
queue_new(size_t cap, int wakeup)
{
	struct queue	*q;

	if (cap == 0 || (q = calloc(1, sizeof(*q))) == NULL)
		return NULL;
	q->efd = -1;
	if ((q->ring = calloc(cap, sizeof(*q->ring))) == NULL ||
	    (wakeup && (q->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) ==
	    -1)) {
		free(q->ring);
		free(q);
		return NULL;
	}
	q->cap = cap;
	pthread_mutex_init(&q->mtx, NULL);
	pthread_cond_init(&q->not_full, NULL);
	pthread_cond_init(&q->not_empty, NULL);
	return q;
}

int
queue_push(struct queue *q, void *item)
{
	int	rc = -1;

	pthread_mutex_lock(&q->mtx);
	while (!q->aborted && !q->closed && q->len == q->cap)
		pthread_cond_wait(&q->not_full, &q->mtx);
	if (!q->aborted && !q->closed) {
		q->ring[(q->head + q->len) % q->cap] = item;
		q->len++;
		pthread_cond_signal(&q->not_empty);
		queue_signal(q);
		rc = 0;
	}
	pthread_mutex_unlock(&q->mtx);
	return rc;
}

/* now + ms as an absolute CLOCK_REALTIME time for pthread_cond_timedwait. */
static void
deadline(struct timespec *ts, int ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

enum queue_rc
queue_pop(struct queue *q, void **item, int timeout_ms)
{
	struct timespec	 ts;
	enum queue_rc	 rc;
	uint64_t	 v;

	*item = NULL;
	if (timeout_ms > 0)
		deadline(&ts, timeout_ms);
	pthread_mutex_lock(&q->mtx);
	while (!q->aborted && !q->closed && q->len == 0 && timeout_ms != 0) {
		if (timeout_ms < 0)
			pthread_cond_wait(&q->not_empty, &q->mtx);
		else if (pthread_cond_timedwait(&q->not_empty, &q->mtx, &ts) ==
		    ETIMEDOUT)
			break;
	}
	if (q->aborted)
		rc = QUEUE_ABORTED;
	else if (q->len > 0) {
		*item = q->ring[q->head];
		q->head = (q->head + 1) % q->cap;
		q->len--;
		pthread_cond_signal(&q->not_full);
		rc = QUEUE_ITEM;
	} else if (q->closed)
		rc = QUEUE_END;
	else {
		/* Empty and open: nothing to wake the consumer for. */
		if (q->efd != -1 && read(q->efd, &v, sizeof(v)) == -1 &&
		    errno != EAGAIN)
			abort();
		rc = QUEUE_EMPTY;
	}
	pthread_mutex_unlock(&q->mtx);
	return rc;
}

void
queue_close(struct queue *q)
{
	pthread_mutex_lock(&q->mtx);
	q->closed = 1;
	pthread_cond_broadcast(&q->not_empty);
	pthread_cond_broadcast(&q->not_full);
	queue_signal(q);
	pthread_mutex_unlock(&q->mtx);
}

void
queue_abort(struct queue *q)
{
	pthread_mutex_lock(&q->mtx);
	q->aborted = 1;
	pthread_cond_broadcast(&q->not_empty);
	pthread_cond_broadcast(&q->not_full);
	queue_signal(q);
	pthread_mutex_unlock(&q->mtx);
}

int
queue_fd(const struct queue *q)
{
	return q->efd;
}

size_t
queue_len(struct queue *q)
{
	size_t	n;

	pthread_mutex_lock(&q->mtx);
	n = q->len;
	pthread_mutex_unlock(&q->mtx);
	return n;
}

void *
queue_drain(struct queue *q)
{
	void	*item = NULL;

	pthread_mutex_lock(&q->mtx);
	if (q->len > 0) {
		item = q->ring[q->head];
		q->head = (q->head + 1) % q->cap;
		q->len--;
		pthread_cond_signal(&q->not_full);
	}
	pthread_mutex_unlock(&q->mtx);
	return item;
}

void
queue_free(struct queue **qp)
{
	struct queue	*q;

	if (qp == NULL || (q = *qp) == NULL)
		return;
	if (q->efd != -1)
		close(q->efd);
	pthread_cond_destroy(&q->not_empty);
	pthread_cond_destroy(&q->not_full);
	pthread_mutex_destroy(&q->mtx);
	free(q->ring);
	free(q);
	*qp = NULL;
}
