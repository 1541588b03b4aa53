/*
 * check_jobs.c - unit tests for clientd's job table (client/jobs.c): what
 * a JOB_CANCEL from CommServe does to the jobs the client holds.
 *
 * Checked: a running job is marked cancelled with CommServe's code and
 * sentence, which job_stopped() then fails it with, and the failed job
 * sends no JOB_FAILURE (CommServe has forgotten it); a waiting job is
 * dropped from the queue, the others keep their order; a JOB_CANCEL with
 * a wrong or short token, or for a job the client does not hold, changes
 * nothing.
 *
 * jobs.c and job.c come from client_core, the library clientd is linked
 * from.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "client.h"
#include "check_main.h"
#include "crypto.h"

static struct client	cl;

/* A job as jobs_order() leaves it: an unpacked order, a random token. */
static struct job *
new_job(uint64_t id)
{
	Kf__BackupOrder		 o = KF__BACKUP_ORDER__INIT;
	Kf__SealedKey		 sk = KF__SEALED_KEY__INIT;
	ProtobufCMessage	*order;
	struct job		*j;
	uint8_t			 buf[256];
	size_t			 len;

	o.job = id;
	o.mediaagent_endpoint = "tcp://127.0.0.1:1";
	o.dek = &sk;
	o.chunk_size = 1 << 20;
	len = kf__backup_order__get_packed_size(&o);
	ck_assert_uint_le(len, sizeof(buf));
	kf__backup_order__pack(&o, buf);
	order = (ProtobufCMessage *)kf__backup_order__unpack(NULL, len, buf);
	ck_assert_ptr_nonnull(order);
	ck_assert_ptr_nonnull(j = job_new(&cl, JOB_KIND_BACKUP, &order));
	ck_assert_int_eq(crypto_random(j->token, KF_TOKEN_LEN), 0);
	return j;
}

/* A JOB_CANCEL for j, with its token unless bad says how to spoil it. */
static void
cancel(const struct job *j, uint64_t id, int bad)
{
	Kf__JobFailed	f = KF__JOB_FAILED__INIT;
	uint8_t		tok[KF_TOKEN_LEN];

	memcpy(tok, j->token, sizeof(tok));
	if (bad == 1)
		tok[7] ^= 0x01;
	f.job = id;
	f.token.data = tok;
	f.token.len = bad == 2 ? KF_TOKEN_LEN - 1 : KF_TOKEN_LEN;
	f.code = KF__KF_ERR__ERR_UNAVAILABLE;
	f.message = "MediaAgent ma1 disconnected during the job";
	jobs_cancel(&cl, &f);
}

static void
setup(void)
{
	memset(&cl, 0, sizeof(cl));
	atomic_init(&cl.stopping, 0);
}

static void
teardown(void)
{
	size_t	i;

	for (i = 0; i < CLIENT_MAX_JOBS; i++)
		job_free(&cl.running[i]);
	for (i = 0; i < cl.npending; i++)
		job_free(&cl.pending[i]);
}

START_TEST(running_job_is_told)
{
	zmq_pollitem_t	 it;
	struct job	*j;
	void		*ctx, *cs;

	j = cl.running[1] = new_job(9);
	ck_assert_int_eq(job_stopped(j), 0);
	cancel(j, 9, 0);
	ck_assert_int_eq(atomic_load(&j->cancelled), 1);
	ck_assert_int_eq(job_stopped(j), 1);
	ck_assert_int_eq(j->err, KF__KF_ERR__ERR_UNAVAILABLE);
	ck_assert_str_eq(j->errmsg, "CommServe ended the job: MediaAgent ma1 "
	    "disconnected during the job");
	/* CommServe has forgotten the job: no JOB_FAILURE goes out. */
	ck_assert_ptr_nonnull(ctx = zmq_ctx_new());
	ck_assert_ptr_nonnull(cs = wire_socket(ctx, ZMQ_ROUTER,
	    "inproc://check-jobs", 1));
	ck_assert_ptr_nonnull(j->cs = wire_socket(ctx, ZMQ_DEALER,
	    "inproc://check-jobs", 0));
	job_report_failure(j);
	it.socket = cs;
	it.fd = -1;
	it.events = ZMQ_POLLIN;
	it.revents = 0;
	ck_assert_int_eq(zmq_poll(&it, 1, 200), 0);
	zmq_close(j->cs);
	j->cs = NULL;
	zmq_close(cs);
	zmq_ctx_term(ctx);
}
END_TEST

START_TEST(waiting_job_is_dropped)
{
	struct job	*a, *b, *c;

	a = cl.pending[0] = new_job(1);
	b = cl.pending[1] = new_job(2);
	c = cl.pending[2] = new_job(3);
	cl.npending = 3;
	cancel(b, 2, 0);
	ck_assert_uint_eq(cl.npending, 2);
	ck_assert_ptr_eq(cl.pending[0], a);
	ck_assert_ptr_eq(cl.pending[1], c);
}
END_TEST

START_TEST(wrong_token_changes_nothing)
{
	struct job	*j, *w;

	j = cl.running[0] = new_job(5);
	w = cl.pending[0] = new_job(6);
	cl.npending = 1;
	cancel(j, 5, 1);
	cancel(j, 5, 2);
	cancel(w, 6, 1);
	cancel(j, 77, 0);		/* a job the client does not hold */
	ck_assert_int_eq(atomic_load(&j->cancelled), 0);
	ck_assert_int_eq(job_stopped(j), 0);
	ck_assert_uint_eq(cl.npending, 1);
	ck_assert_ptr_eq(cl.pending[0], w);
}
END_TEST

static Suite *
jobs_suite(void)
{
	Suite	*s = suite_create("jobs");
	TCase	*tc = tcase_create("cancel");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, running_job_is_told);
	tcase_add_test(tc, waiting_job_is_dropped);
	tcase_add_test(tc, wrong_token_changes_nothing);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(jobs_suite(), NULL);
}
