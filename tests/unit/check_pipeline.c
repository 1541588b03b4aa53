/*
 * check_pipeline.c - unit tests for the buffer pool and bounded queue that
 * carry a backup's chunks between threads (pipeline.c): FIFO order across
 * threads, a full queue and an empty pool really block, close delivers
 * every item then the end, abort wakes blocked producers and consumers
 * with items still in flight, a pool freed while buffers are out lives
 * until the last one comes back (from another thread, as ZeroMQ's free
 * callback does), and the eventfd follows the queue.  Run under valgrind
 * or ASan, a leak or a use after free fails the run.
 */
#include <sys/eventfd.h>

#include <check.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_main.h"
#include "pipeline.h"

#define TEST_TIMEOUT	120
#define NITEMS		20000	/* items through the order test */
#define SETTLE_US	100000	/* long enough for a thread to block */

/* A thread that pushes or takes, and what it saw. */
struct worker {
	struct queue	*q;		/* the queue it pushes to */
	struct pool	*p;		/* the pool it takes from */
	size_t		 n;		/* items to push */
	size_t		 done;		/* items pushed */
	int		 rc;		/* last queue_push result */
	void		*got;		/* what pool_get returned */
	volatile int	 finished;	/* the thread is past its work */
};

static void *
producer(void *arg)
{
	struct worker	*w = arg;
	size_t		 i;

	for (i = 0; i < w->n; i++) {
		if ((w->rc = queue_push(w->q, (void *)(uintptr_t)(i + 1))) ==
		    -1)
			break;
		w->done++;
	}
	if (w->rc == 0)
		queue_close(w->q);
	w->finished = 1;
	return NULL;
}

static void *
taker(void *arg)
{
	struct worker	*w = arg;

	w->got = pool_get(w->p);
	w->finished = 1;
	return NULL;
}

/* Gives buffers back from another thread, like ZeroMQ's I/O thread. */
struct giver {
	struct pool	*p;		/* where they go */
	void		*bufs[8];	/* what to give back */
	size_t		 n;		/* entries of bufs */
};

static void *
giver(void *arg)
{
	struct giver	*g = arg;
	size_t		 i;

	for (i = 0; i < g->n; i++) {
		usleep(1000);
		/* Fill it as a chunk would: use after free shows here. */
		memset(g->bufs[i], 0xa5, 4096);
		pool_put(g->p, g->bufs[i]);
	}
	return NULL;
}

START_TEST(test_queue_order)
{
	struct worker	 w = { 0 };
	pthread_t	 t;
	void		*item;
	size_t		 next = 1;
	enum queue_rc	 rc;

	w.q = queue_new(3, 0);
	ck_assert_ptr_nonnull(w.q);
	w.n = NITEMS;
	ck_assert_int_eq(pthread_create(&t, NULL, producer, &w), 0);
	while ((rc = queue_pop(w.q, &item, -1)) == QUEUE_ITEM) {
		ck_assert_uint_eq((uintptr_t)item, next);
		next++;
	}
	ck_assert_int_eq(rc, QUEUE_END);
	ck_assert_uint_eq(next, NITEMS + 1);
	/* The end stays the end. */
	ck_assert_int_eq(queue_pop(w.q, &item, 0), QUEUE_END);
	ck_assert_int_eq(queue_push(w.q, &w), -1);
	pthread_join(t, NULL);
	queue_free(&w.q);
	ck_assert_ptr_null(w.q);
}
END_TEST

START_TEST(test_queue_bounded)
{
	struct worker	 w = { 0 };
	pthread_t	 t;
	void		*item;

	w.q = queue_new(4, 0);
	w.n = 5;
	ck_assert_int_eq(pthread_create(&t, NULL, producer, &w), 0);
	usleep(SETTLE_US);
	/* Four fit; the fifth push waits for room. */
	ck_assert_uint_eq(queue_len(w.q), 4);
	ck_assert_uint_eq(w.done, 4);
	ck_assert_int_eq(w.finished, 0);
	ck_assert_int_eq(queue_pop(w.q, &item, -1), QUEUE_ITEM);
	ck_assert_uint_eq((uintptr_t)item, 1);
	pthread_join(t, NULL);
	ck_assert_uint_eq(w.done, 5);
	ck_assert_uint_eq(queue_len(w.q), 4);
	queue_free(&w.q);
}
END_TEST

START_TEST(test_queue_abort_in_flight)
{
	struct worker	 w = { 0 };
	pthread_t	 t;
	void		*item;
	size_t		 left = 0;

	w.q = queue_new(2, 1);
	w.n = 10;
	ck_assert_int_eq(pthread_create(&t, NULL, producer, &w), 0);
	usleep(SETTLE_US);
	ck_assert_int_eq(w.finished, 0);	/* blocked on a full queue */
	queue_abort(w.q);
	pthread_join(t, NULL);
	ck_assert_int_eq(w.rc, -1);
	ck_assert_uint_eq(w.done, 2);
	/* Consumers see the abort, not the items still queued... */
	ck_assert_int_eq(queue_pop(w.q, &item, -1), QUEUE_ABORTED);
	ck_assert_int_eq(queue_pop(w.q, &item, 0), QUEUE_ABORTED);
	ck_assert_ptr_null(item);
	/* ...which the owner takes back to release them. */
	while (queue_drain(w.q) != NULL)
		left++;
	ck_assert_uint_eq(left, 2);
	queue_free(&w.q);
}
END_TEST

START_TEST(test_queue_abort_wakes_consumer)
{
	struct queue	*q;
	void		*item;
	enum queue_rc	 rc;

	q = queue_new(1, 0);
	/* A consumer with a timeout sees EMPTY, then ABORTED after abort. */
	ck_assert_int_eq(queue_pop(q, &item, 20), QUEUE_EMPTY);
	queue_abort(q);
	rc = queue_pop(q, &item, -1);
	ck_assert_int_eq(rc, QUEUE_ABORTED);
	queue_free(&q);
}
END_TEST

static int
readable(int fd)
{
	struct pollfd	pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN);
}

START_TEST(test_queue_eventfd)
{
	struct queue	*q;
	void		*item;
	int		 x;

	q = queue_new(4, 1);
	ck_assert_int_ge(queue_fd(q), 0);
	ck_assert_int_eq(readable(queue_fd(q)), 0);
	ck_assert_int_eq(queue_push(q, &x), 0);
	ck_assert_int_eq(queue_push(q, &x), 0);
	ck_assert_int_eq(readable(queue_fd(q)), 1);
	ck_assert_int_eq(queue_pop(q, &item, 0), QUEUE_ITEM);
	ck_assert_int_eq(queue_pop(q, &item, 0), QUEUE_ITEM);
	/* Still readable until a pop finds it empty. */
	ck_assert_int_eq(queue_pop(q, &item, 0), QUEUE_EMPTY);
	ck_assert_int_eq(readable(queue_fd(q)), 0);
	queue_close(q);
	ck_assert_int_eq(readable(queue_fd(q)), 1);
	ck_assert_int_eq(queue_pop(q, &item, 0), QUEUE_END);
	ck_assert_int_eq(readable(queue_fd(q)), 1);
	queue_free(&q);
	queue_free(&q);		/* NULL is fine */
}
END_TEST

START_TEST(test_pool_blocks_and_returns)
{
	struct worker	 w = { 0 };
	pthread_t	 t;
	void		*b[4];
	size_t		 i, j;

	w.p = pool_new(4, 1000);
	ck_assert_ptr_nonnull(w.p);
	for (i = 0; i < 4; i++) {
		b[i] = pool_get(w.p);
		ck_assert_ptr_nonnull(b[i]);
		ck_assert_uint_eq((uintptr_t)b[i] % PIPE_ALIGN, 0);
		memset(b[i], (int)i, 1000);
		for (j = 0; j < i; j++)
			ck_assert_ptr_ne(b[i], b[j]);
	}
	ck_assert_uint_eq(pool_out(w.p), 4);
	/* Each buffer is its own: writing one left the others alone. */
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(((uint8_t *)b[i])[999], (int)i);
	ck_assert_int_eq(pthread_create(&t, NULL, taker, &w), 0);
	usleep(SETTLE_US);
	ck_assert_int_eq(w.finished, 0);	/* the pool is empty */
	pool_put(w.p, b[2]);
	pthread_join(t, NULL);
	ck_assert_ptr_eq(w.got, b[2]);
	b[2] = w.got;
	/* Abort wakes a waiting taker with NULL. */
	w.finished = 0;
	ck_assert_int_eq(pthread_create(&t, NULL, taker, &w), 0);
	usleep(SETTLE_US);
	ck_assert_int_eq(w.finished, 0);
	pool_abort(w.p);
	pthread_join(t, NULL);
	ck_assert_ptr_null(w.got);
	ck_assert_ptr_null(pool_get(w.p));
	for (i = 0; i < 4; i++)
		pool_put(w.p, b[i]);
	ck_assert_uint_eq(pool_out(w.p), 0);
	pool_free(&w.p);
	ck_assert_ptr_null(w.p);
	pool_free(&w.p);
}
END_TEST

START_TEST(test_pool_outlives_owner)
{
	struct giver	 g = { 0 };
	struct pool	*p;
	pthread_t	 t;
	size_t		 i;

	p = pool_new(6, 4096);
	g.p = p;
	g.n = 5;
	for (i = 0; i < g.n; i++)
		g.bufs[i] = pool_get(p);
	pool_put(p, pool_get(p));
	ck_assert_int_eq(pthread_create(&t, NULL, giver, &g), 0);
	/* The owner leaves while five buffers are still out. */
	pool_free(&p);
	ck_assert_ptr_null(p);
	pthread_join(t, NULL);
	/* The last put freed it: valgrind/ASan report a leak otherwise. */
}
END_TEST

START_TEST(test_limits)
{
	struct queue	*q;
	void		*item;

	ck_assert_ptr_null(pool_new(0, 10));
	ck_assert_ptr_null(pool_new(10, 0));
	ck_assert_ptr_null(pool_new(SIZE_MAX / 2, 1 << 20));
	ck_assert_ptr_null(pool_new(1, SIZE_MAX));
	ck_assert_ptr_null(queue_new(0, 0));
	q = queue_new(1, 0);
	ck_assert_int_eq(queue_fd(q), -1);
	ck_assert_int_eq(queue_pop(q, &item, 0), QUEUE_EMPTY);
	ck_assert_ptr_null(queue_drain(q));
	queue_free(&q);
	pool_free(NULL);
	queue_free(NULL);
}
END_TEST

static Suite *
pipeline_suite(void)
{
	Suite	*s = suite_create("pipeline");
	TCase	*tc;

	tc = tcase_create("Core");
	tcase_set_timeout(tc, TEST_TIMEOUT);
	tcase_add_test(tc, test_queue_order);
	tcase_add_test(tc, test_queue_bounded);
	tcase_add_test(tc, test_queue_abort_in_flight);
	tcase_add_test(tc, test_queue_abort_wakes_consumer);
	tcase_add_test(tc, test_queue_eventfd);
	tcase_add_test(tc, test_pool_blocks_and_returns);
	tcase_add_test(tc, test_pool_outlives_owner);
	suite_add_tcase(s, tc);

	tc = tcase_create("Limits");
	tcase_set_timeout(tc, TEST_TIMEOUT);
	tcase_add_test(tc, test_limits);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(pipeline_suite(), NULL);
}
