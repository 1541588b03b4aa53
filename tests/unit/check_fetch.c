/*
 * check_fetch.c - unit tests for the restore pipeline's chunk source
 * (client/fetch.c): a scripted MediaAgent on an inproc ROUTER answers
 * CHUNK_READ with real sealed chunks while the test plays the writer.
 *
 * Checked: every chunk arrives once, in order, decrypted; the client never
 * holds more credit than CLIENT_RESTORE_SLOTS chunks requested and not yet
 * written, even with a slow writer; a restore of some runs asks for exactly
 * their chunks; a chunk whose tag fails reaches the writer marked bad, in
 * its place, after every good chunk before it; the MediaAgent's ERROR in
 * the middle of the stream stops the requests, lets the chunks before it
 * drain and is reported with the MediaAgent's sentence; and (Limits) a
 * chunk out of order, a chunk of the wrong length, and a shutdown.
 *
 * fetch.c comes from client_core, the library clientd is linked from.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chunk.h"
#include "client.h"
#include "check_main.h"

#define TEST_TIMEOUT	120
#define BACKUP		41
#define CSIZE		4096
#define LASTLEN		1000
#define NCHUNKS		100
#define NONE		UINT64_MAX

/* What the scripted MediaAgent does wrong, and what it saw. */
struct fake {
	void		*ctx;		/* shared with the client's DEALER */
	void		*router;	/* bound by the test thread */
	pthread_t	 thread;	/* the MediaAgent */
	atomic_int	 stop;		/* end the MediaAgent's loop */
	uint64_t	 tamper;	/* chunk sent with a flipped byte */
	uint64_t	 error;		/* chunk answered with ERROR instead */
	uint64_t	 skip;		/* chunk not sent (the next one is) */
	uint64_t	 shortlen;	/* chunk sent with a wrong plain_len */
	uint8_t		 asked[NCHUNKS]; /* chunks requested, counted */
	uint64_t	 granted;	/* chunks requested in all */
	uint64_t	 max_ahead;	/* most granted and not yet written */
	int		 errors;	/* ERRORs sent */
};

static struct fake	 fk;
static struct client	 cl;
static struct job	 jb;
static uint8_t		 keys[KF_KEY_LEN + KF_TOKEN_LEN];
static atomic_uint_fast64_t written;	/* chunks the test's writer gave back */
static char		 ep[64];

/* Chunk i's plaintext: a pattern no other chunk has. */
static size_t
chunk_plain(uint64_t i, uint8_t *buf)
{
	size_t	len = i + 1 == NCHUNKS ? LASTLEN : CSIZE, k;

	for (k = 0; k < len; k++)
		buf[k] = (uint8_t)(i * 31 + k * 7);
	return len;
}

static void
fake_send(void *s, const struct wire_msg *m, uint64_t i)
{
	Kf__ChunkData	 cd = KF__CHUNK_DATA__INIT;
	uint8_t		 pt[CSIZE], ct[CSIZE], nonce[KF_NONCE_LEN];
	uint8_t		 tag[KF_TAG_LEN];
	size_t		 len = chunk_plain(i, pt);

	ck_assert_int_eq(chunk_seal(keys, BACKUP, i, i + 1 == NCHUNKS, pt,
	    len, ct, nonce, tag), 0);
	if (i == fk.tamper)
		ct[len / 2] ^= 1;
	cd.job = BACKUP;
	cd.index = i;
	cd.plain_len = i == fk.shortlen ? len - 1 : len;
	cd.last = i + 1 == NCHUNKS;
	cd.nonce.data = nonce;
	cd.nonce.len = sizeof(nonce);
	cd.tag.data = tag;
	cd.tag.len = sizeof(tag);
	ck_assert_int_eq(wire_send(s, m->peer, m->peerlen,
	    KF__MSG_TYPE__CHUNK_DATA, &cd.base, ct, len), 0);
}

static void *
fake_main(void *arg)
{
	const Kf__ChunkRead	*rd;
	struct wire_msg		 m;
	zmq_pollitem_t		 it;
	kf_err_t		 err;
	char			 msg[256];
	uint64_t		 i, ahead;

	(void)arg;
	while (!atomic_load(&fk.stop)) {
		it.socket = fk.router;
		it.fd = -1;
		it.events = ZMQ_POLLIN;
		it.revents = 0;
		if (zmq_poll(&it, 1, 20) <= 0)
			continue;
		memset(&m, 0, sizeof(m));
		ck_assert_int_eq(wire_recv(fk.router, 1, &m, &err, msg,
		    sizeof(msg), 0), 0);
		ck_assert_uint_eq(m.type, KF__MSG_TYPE__CHUNK_READ);
		rd = (const Kf__ChunkRead *)m.body;
		ck_assert_uint_eq(rd->job, jb.id);
		ck_assert_uint_ge(rd->count, 1);
		ck_assert_uint_le(rd->count, CLIENT_READ_MAX);
		ck_assert_uint_le(rd->first + rd->count, NCHUNKS);
		fk.granted += rd->count;
		ahead = fk.granted - atomic_load(&written);
		if (ahead > fk.max_ahead)
			fk.max_ahead = ahead;
		for (i = rd->first; i < rd->first + rd->count; i++) {
			fk.asked[i]++;
			if (i == fk.error) {
				/* Counted first: the client may be done at once. */
				fk.errors++;
				wire_send_error(fk.router, m.peer, m.peerlen,
				    KF__KF_ERR__ERR_INTEGRITY, "chunk %llu is "
				    "damaged on storage", (unsigned long long)i);
				break;
			}
			if (i != fk.skip)
				fake_send(fk.router, &m, i);
		}
		wire_msg_clear(&m);
	}
	return NULL;
}

static void
setup(void)
{
	static int	n;

	memset(&fk, 0, sizeof(fk));
	fk.tamper = fk.error = fk.skip = fk.shortlen = NONE;
	atomic_init(&fk.stop, 0);
	atomic_init(&written, 0);
	memset(&cl, 0, sizeof(cl));
	atomic_init(&cl.stopping, 0);
	memset(&jb, 0, sizeof(jb));
	jb.client = &cl;
	jb.id = 42;
	jb.dek = keys;
	jb.token = keys + KF_KEY_LEN;
	jb.err = KF__KF_ERR__ERR_NONE;
	ck_assert_int_eq(crypto_random(keys, sizeof(keys)), 0);
	snprintf(ep, sizeof(ep), "inproc://fetch-%d-%d", (int)getpid(), n++);
	ck_assert_ptr_nonnull(fk.ctx = zmq_ctx_new());
	ck_assert_ptr_nonnull(fk.router = wire_socket(fk.ctx, ZMQ_ROUTER, ep,
	    1));
	jb.ma = wire_socket(fk.ctx, ZMQ_DEALER, ep, 0);
	ck_assert_ptr_nonnull(jb.ma);
}

static void
start_fake(void)
{
	ck_assert_int_eq(pthread_create(&fk.thread, NULL, fake_main, NULL),
	    0);
}

static void
teardown(void)
{
	atomic_store(&fk.stop, 1);
	pthread_join(fk.thread, NULL);
	zmq_close(jb.ma);
	zmq_close(fk.router);
	zmq_ctx_term(fk.ctx);
}

/* The test's writer: what it got, in order. */
struct writer {
	struct fetch	*f;		/* the pipeline */
	pthread_t	 thread;	/* the writer */
	int		 slow;		/* microseconds per chunk */
	uint64_t	 got[NCHUNKS + 1]; /* chunk indexes, in order */
	size_t		 n;		/* chunks written */
	uint64_t	 bad;		/* the chunk that failed, or NONE */
	int		 content_ok;	/* every plaintext was right */
};

static void *
writer_main(void *arg)
{
	struct writer	*w = arg;
	uint8_t		*p, want[CSIZE];
	uint64_t	 idx;
	size_t		 len;
	void		*c;
	int		 rc;

	while ((rc = fetch_take(w->f, &c, &idx, &p, &len)) == 1) {
		if (len != chunk_plain(idx, want) || memcmp(p, want, len) != 0)
			w->content_ok = 0;
		if (w->n <= NCHUNKS)
			w->got[w->n++] = idx;
		if (w->slow)
			usleep(w->slow);
		/* Counted first: the client may grant again once it is back. */
		atomic_fetch_add(&written, 1);
		fetch_give(w->f, c);
	}
	if (rc == -1) {
		w->bad = idx;
		fetch_abort(w->f);
	} else
		fetch_writer_done(w->f);
	return NULL;
}

static void
tick(void *arg)
{
	(*(int *)arg)++;
}

/* One restore of runs r[0..nr) with a writer; fetch_run's result. */
static int
run(const struct fetch_range *r, size_t nr, struct writer *w,
    struct fetch **fp)
{
	Kf__RestoreOrder	 o = KF__RESTORE_ORDER__INIT;
	int			 rc, ticks = 0;

	o.mediaagent_endpoint = ep;
	o.backup_job = BACKUP;
	o.chunk_size = CSIZE;
	o.chunks = NCHUNKS;
	w->bad = NONE;
	w->content_ok = 1;
	ck_assert_ptr_nonnull(*fp = fetch_new(&jb, jb.ma, &o, r, nr));
	w->f = *fp;
	ck_assert_int_eq(fetch_start(*fp), 0);
	ck_assert_int_eq(pthread_create(&w->thread, NULL, writer_main, w), 0);
	rc = fetch_run(*fp, tick, &ticks);
	pthread_join(w->thread, NULL);
	ck_assert_int_gt(ticks, 0);
	return rc;
}

static const struct fetch_range all = { 0, NCHUNKS };

START_TEST(test_stream_in_order)
{
	struct writer	 w = { .slow = 300 };
	struct fetch	*f;
	kf_err_t	 code;
	uint64_t	 i;

	start_fake();
	ck_assert_int_eq(run(&all, 1, &w, &f), 0);
	ck_assert_ptr_null(fetch_error(f, &code));
	ck_assert_uint_eq(w.n, NCHUNKS);
	for (i = 0; i < NCHUNKS; i++)
		ck_assert_uint_eq(w.got[i], i);
	ck_assert(w.content_ok);
	ck_assert_uint_eq(fetch_chunks(f), NCHUNKS);
	ck_assert_uint_eq(fetch_bytes(f), (NCHUNKS - 1) * CSIZE + LASTLEN);
	for (i = 0; i < NCHUNKS; i++)
		ck_assert_int_eq(fk.asked[i], 1);
	/* The slow writer made the client wait for slots, never overrun. */
	ck_assert_uint_le(fk.max_ahead, CLIENT_RESTORE_SLOTS);
	ck_assert_uint_ge(fk.max_ahead, CLIENT_RESTORE_SLOTS / 2);
	fetch_free(&f);
	ck_assert_ptr_null(f);
}
END_TEST

START_TEST(test_runs_only)
{
	static const struct fetch_range r[] = { { 3, 5 }, { 50, 2 },
	    { 60, 30 }, { 99, 1 } };
	struct writer	 w = { .slow = 0 };
	struct fetch	*f;
	uint64_t	 i, k = 0;
	size_t		 j;

	start_fake();
	ck_assert_int_eq(run(r, 4, &w, &f), 0);
	for (j = 0; j < 4; j++)
		for (i = r[j].first; i < r[j].first + r[j].count; i++)
			ck_assert_uint_eq(w.got[k++], i);
	ck_assert_uint_eq(w.n, k);
	ck_assert(w.content_ok);
	for (i = 0, k = 0; i < NCHUNKS; i++)
		k += fk.asked[i];
	ck_assert_uint_eq(k, 5 + 2 + 30 + 1);
	ck_assert_int_eq(fk.asked[2], 0);
	ck_assert_int_eq(fk.asked[8], 0);
	ck_assert_int_eq(fk.asked[98], 0);
	fetch_free(&f);
}
END_TEST

START_TEST(test_bad_tag_in_place)
{
	struct writer	 w = { .slow = 0 };
	struct fetch	*f;
	kf_err_t	 code;
	uint64_t	 i;

	fk.tamper = 57;
	start_fake();
	ck_assert_int_eq(run(&all, 1, &w, &f), -1);
	ck_assert_uint_eq(w.bad, 57);
	ck_assert_uint_eq(w.n, 57);
	for (i = 0; i < 57; i++)
		ck_assert_uint_eq(w.got[i], i);
	ck_assert(w.content_ok);
	/* The writer names the failure; fetch has none of its own. */
	ck_assert_ptr_null(fetch_error(f, &code));
	fetch_free(&f);
}
END_TEST

/*
 * A whole restore that fetch must fail with code and a sentence holding
 * want, after the writer got exactly the chunks 0..n-1 (and none marked
 * bad).  slow: the writer's microseconds per chunk.
 */
static void
expect_error(kf_err_t want_code, const char *want, uint64_t n, int slow)
{
	struct writer	 w = { .slow = slow };
	struct fetch	*f;
	const char	*msg;
	kf_err_t	 code;
	uint64_t	 i;

	start_fake();
	ck_assert_int_eq(run(&all, 1, &w, &f), -1);
	ck_assert_ptr_nonnull(msg = fetch_error(f, &code));
	ck_assert_int_eq(code, want_code);
	ck_assert_msg(strstr(msg, want) != NULL, "\"%s\" lacks \"%s\"", msg,
	    want);
	ck_assert_uint_eq(w.bad, NONE);
	ck_assert_uint_eq(w.n, n);
	for (i = 0; i < n; i++)
		ck_assert_uint_eq(w.got[i], i);
	ck_assert(w.content_ok);
	fetch_free(&f);
}

/* Everything before the damage reaches the writer; nothing after. */
START_TEST(test_ma_error_drains)
{
	fk.error = 30;
	expect_error(KF__KF_ERR__ERR_INTEGRITY,
	    "chunk 30 is damaged on storage", 30, 0);
	ck_assert_int_eq(fk.errors, 1);
}
END_TEST

START_TEST(test_limits_out_of_order)
{
	fk.skip = 12;
	expect_error(KF__KF_ERR__ERR_MALFORMED,
	    "sent chunk 13 of job 41 where chunk 12", 12, 0);
}
END_TEST

START_TEST(test_limits_bad_length)
{
	fk.shortlen = 20;
	expect_error(KF__KF_ERR__ERR_MALFORMED, "bad lengths", 20, 0);
}
END_TEST

/* A shutdown stops everything at once: nothing drains. */
START_TEST(test_limits_stop)
{
	atomic_store(&cl.stopping, 1);
	expect_error(KF__KF_ERR__ERR_UNAVAILABLE, "client stopped", 0, 20000);
}
END_TEST

static Suite *
fetch_suite(void)
{
	Suite	*s = suite_create("fetch");
	TCase	*tc;

	tc = tcase_create("pipeline");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, TEST_TIMEOUT);
	tcase_add_test(tc, test_stream_in_order);
	tcase_add_test(tc, test_runs_only);
	tcase_add_test(tc, test_bad_tag_in_place);
	tcase_add_test(tc, test_ma_error_drains);
	suite_add_tcase(s, tc);

	tc = tcase_create("Limits");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, TEST_TIMEOUT);
	tcase_add_test(tc, test_limits_out_of_order);
	tcase_add_test(tc, test_limits_bad_length);
	tcase_add_test(tc, test_limits_stop);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(fetch_suite(), NULL);
}
