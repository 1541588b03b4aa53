/*
 * check_request.c - unit tests for the CLI's requests to CommServe
 * (cli/request.c), against a scripted CommServe on an inproc ROUTER.
 *
 * Checked: several requests sent before any reply is read get their
 * replies in the order sent (keyflow load starts its jobs that way); an
 * ERROR reply is a complete answer that leaves the kept socket in place,
 * so the next reply is still read; silence closes the socket, and every
 * reply that was still due on it then fails at once, saying so, instead
 * of waiting out the timeout again or being taken for another's.
 *
 * request.c comes from cli_core, the library keyflow is linked from.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <zmq.h>

#include "check_main.h"
#include "cli.h"
#include "util.h"

#define ENDPOINT	"inproc://check-request"

static void		*ctx, *router;
static struct cli	 c;

/* cli/main.c's, which request.c's cli_list calls; never reached here. */
int
cli_fail(const char *fmt, ...)
{
	(void)fmt;
	return CLI_EXIT_FAIL;
}

static void
setup(void)
{
	ck_assert_ptr_nonnull(ctx = zmq_ctx_new());
	ck_assert_ptr_nonnull(router = wire_socket(ctx, ZMQ_ROUTER, ENDPOINT,
	    1));
	memset(&c, 0, sizeof(c));
	c.zctx = ctx;
	c.endpoint = ENDPOINT;
	c.timeout_s = 5;
}

static void
teardown(void)
{
	cli_disconnect(&c);
	zmq_close(router);
	zmq_ctx_term(ctx);
}

/* Send JOB_GET {job}. */
static void
send_get(uint64_t job)
{
	Kf__JobGet		g = KF__JOB_GET__INIT;
	struct cli_error	e;

	g.job = job;
	ck_assert_int_eq(cli_send(&c, KF__MSG_TYPE__JOB_GET, &g.base, &e), 0);
}

/* The scripted CommServe takes one JOB_GET; its job id, peer in m. */
static uint64_t
take_get(struct wire_msg *m)
{
	kf_err_t	err;
	char		msg[256];

	memset(m, 0, sizeof(*m));
	ck_assert_int_eq(wire_recv(router, 1, m, &err, msg, sizeof(msg), 0),
	    0);
	ck_assert_uint_eq(m->type, KF__MSG_TYPE__JOB_GET);
	return ((const Kf__JobGet *)m->body)->job;
}

/* ... and answers it with JOB_INFO {id = job}. */
static void
answer(struct wire_msg *m, uint64_t job)
{
	Kf__JobInfo	ji = KF__JOB_INFO__INIT;

	ji.id = job;
	ck_assert_int_eq(wire_send(router, m->peer, m->peerlen,
	    KF__MSG_TYPE__JOB_INFO, &ji.base, NULL, 0), 0);
	wire_msg_clear(m);
}

/* cli_await's JOB_INFO id, or 0 with e filled. */
static uint64_t
await_id(struct cli_error *e)
{
	struct wire_msg	m;
	uint64_t	id;

	if (cli_await(&c, KF__MSG_TYPE__JOB_INFO, &m, e) == -1)
		return 0;
	id = ((const Kf__JobInfo *)m.body)->id;
	wire_msg_clear(&m);
	return id;
}

START_TEST(replies_in_order)
{
	struct wire_msg		m[3];
	struct cli_error	e;
	uint64_t		i;

	for (i = 1; i <= 3; i++)
		send_get(i);
	for (i = 0; i < 3; i++)
		ck_assert_uint_eq(take_get(&m[i]), i + 1);
	for (i = 0; i < 3; i++)
		answer(&m[i], 100 + i + 1);
	for (i = 1; i <= 3; i++)
		ck_assert_uint_eq(await_id(&e), 100 + i);
	ck_assert_ptr_nonnull(c.sock);
}
END_TEST

START_TEST(error_keeps_the_socket)
{
	struct wire_msg		m[2];
	struct cli_error	e;

	send_get(1);
	send_get(2);
	ck_assert_uint_eq(take_get(&m[0]), 1);
	ck_assert_uint_eq(take_get(&m[1]), 2);
	ck_assert_int_eq(wire_send_error(router, m[0].peer, m[0].peerlen,
	    KF__KF_ERR__ERR_NOT_FOUND, "job 1 does not exist"), 0);
	wire_msg_clear(&m[0]);
	answer(&m[1], 2);
	ck_assert_uint_eq(await_id(&e), 0);
	ck_assert_int_eq(e.why, CLI_FAIL_REPLY);
	ck_assert_int_eq(e.code, KF__KF_ERR__ERR_NOT_FOUND);
	ck_assert_str_eq(e.msg, "job 1 does not exist");
	ck_assert_ptr_nonnull(c.sock);
	ck_assert_uint_eq(await_id(&e), 2);
}
END_TEST

START_TEST(silence_loses_what_was_due)
{
	struct wire_msg		m;
	struct cli_error	e;
	int64_t			t0;

	c.timeout_s = 1;
	send_get(1);
	send_get(2);
	t0 = util_mono_ms();
	ck_assert_uint_eq(await_id(&e), 0);
	ck_assert_int_eq(e.why, CLI_FAIL_TIMEOUT);
	ck_assert_int_ge(util_mono_ms() - t0, 900);
	ck_assert_ptr_null(c.sock);
	/* The second reply is lost with the socket: said at once. */
	t0 = util_mono_ms();
	ck_assert_uint_eq(await_id(&e), 0);
	ck_assert_int_eq(e.why, CLI_FAIL_LOCAL);
	ck_assert_ptr_nonnull(strstr(e.msg, "was closed before the reply"));
	ck_assert_int_lt(util_mono_ms() - t0, 500);
	/* A new request gets a socket of its own, and its own answer. */
	send_get(3);
	while (take_get(&m) != 3)
		wire_msg_clear(&m);	/* 1 and 2, from the closed socket */
	answer(&m, 3);
	ck_assert_uint_eq(await_id(&e), 3);
}
END_TEST

static Suite *
request_suite(void)
{
	Suite	*s = suite_create("request");
	TCase	*tc = tcase_create("pipelined");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, replies_in_order);
	tcase_add_test(tc, error_keeps_the_socket);
	tcase_add_test(tc, silence_loses_what_was_due);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(request_suite(), NULL);
}
