/*
 * check_wire.c - unit tests for common/wire.c over real ZeroMQ sockets: a
 * ROUTER and a DEALER on inproc:// in one context (wire_fixture.c), as
 * commserved and a daemon would hold them.
 *
 * Every message type in proto/keyflow.proto must round-trip in both
 * directions with a body built from its descriptor (every field set, nested
 * messages included) and, for the two chunk types, a payload that arrives
 * byte for byte.  wire_await, wire_call and the name tables are checked
 * here too; the generic checks and limits are in check_wire_limits.c.
 */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "util.h"
#include "wire.h"
#include "wire_fixture.h"

START_TEST(test_round_trip_every_type)
{
	const ProtobufCEnumDescriptor	*ed = &kf__msg_type__descriptor;
	const struct wire_type		*t;
	unsigned			 i, tested = 0;
	uint32_t			 type;

	for (i = 0; i < ed->n_values; i++) {
		type = (uint32_t)ed->values[i].value;
		t = wire_type_lookup(type);
		if (type == KF__MSG_TYPE__MSG_NONE) {
			ck_assert_ptr_null(t);
			continue;
		}
		ck_assert_msg(t != NULL, "%s is not in the type table",
		    ed->values[i].name);
		ck_assert_uint_eq(t->type, type);
		ck_assert_int_eq(t->payload, (type == PUT ||
		    type == KF__MSG_TYPE__CHUNK_DATA));
		round_trip(&sides[_i], type, i, PAYLOAD_LEN);
		tested++;
	}
	ck_assert_uint_eq(tested, ed->n_values - 1);
	ck_assert_uint_ge(tested, 46);
}
END_TEST
START_TEST(test_dontwait)
{
	assert_nothing_waiting(&sides[0]);
	assert_nothing_waiting(&sides[1]);
}
END_TEST

/* The DEALER waits up to ms for a PoolInfo. */
static int
await_info(int ms, struct wire_msg *m, kf_err_t *err, char *msg)
{
	return wire_await(dealer, KF__MSG_TYPE__POOL_INFO, ms, m, err, msg,
	    256);
}

START_TEST(test_await)
{
	const struct side	*s = &sides[1];
	ProtobufCMessage	*pi = fill_message(&kf__pool_info__descriptor,
				    7, 0);
	struct frame		 f[] = { { "\0\0\0\x2b", 4 }, { "", 0 },
				    { "x", 1 } };
	struct wire_msg		 m;
	kf_err_t		 err;
	char			 msg[256];
	int64_t			 t0, took;

	/* The expected type. */
	ck_assert_int_eq(wire_send(router, DEALER_ID, strlen(DEALER_ID),
	    KF__MSG_TYPE__POOL_INFO, pi, NULL, 0), 0);
	ck_assert_int_eq(await_info(5000, &m, &err, msg), 0);
	assert_same_body(pi, m.body);
	wire_msg_clear(&m);
	protobuf_c_message_free_unpacked(pi, NULL);

	/* An ERROR reply: its code and sentence come through. */
	ck_assert_int_eq(wire_send_error(router, DEALER_ID, strlen(DEALER_ID),
	    KF__KF_ERR__ERR_NOT_FOUND, "no MediaAgent named %s", "ma9"), 0);
	ck_assert_int_eq(await_info(5000, &m, &err, msg), -1);
	ck_assert_int_eq(err, KF__KF_ERR__ERR_NOT_FOUND);
	ck_assert_str_eq(msg, "no MediaAgent named ma9");
	ck_assert_ptr_null(m.body);

	/* Another type: ERR_MALFORMED, naming both. */
	ck_assert_int_eq(wire_send_ok(router, DEALER_ID, strlen(DEALER_ID),
	    "fine"), 0);
	ck_assert_int_eq(await_info(5000, &m, &err, msg), -1);
	ck_assert_int_eq(err, KF__KF_ERR__ERR_MALFORMED);
	ck_assert_str_eq(msg, "expected pool info, got ok");
	ck_assert_ptr_null(m.body);

	/* A reply wire_recv refuses (a pool list reply, one frame too many). */
	send_frames(s, f, 3);
	ck_assert_int_eq(await_info(5000, &m, &err, msg), -1);
	ck_assert_int_eq(err, KF__KF_ERR__ERR_MALFORMED);
	ck_assert_msg(strstr(msg, "extra") != NULL, "%s", msg);

	/* Silence: ERR_TIMEOUT, on time. */
	t0 = util_mono_ms();
	ck_assert_int_eq(await_info(300, &m, &err, msg), -1);
	took = util_mono_ms() - t0;
	ck_assert_int_eq(err, KF__KF_ERR__ERR_TIMEOUT);
	ck_assert_str_eq(msg, "no answer within 300 ms");
	ck_assert_int_ge(took, 290);
	ck_assert_int_lt(took, 3000);
	ck_assert_ptr_null(m.body);
	round_trip(s, PUT, 3, PAYLOAD_LEN);
}
END_TEST

/*
 * A server thread on the fixture's ROUTER for one request: a POOL_CREATE
 * is answered with the PoolInfo fill_message builds for seed 7 (answer 0),
 * an ERROR naming the pool (1) or nothing (2).  No ck_assert in here:
 * Check's asserts belong to the test's thread.
 */
static void *
serve(void *arg)
{
	int			*answer = arg;
	ProtobufCMessage	*pi;
	struct wire_msg		 m;
	kf_err_t		 err;
	char			 msg[256];

	if (wire_recv(router, 1, &m, &err, msg, sizeof(msg), 0) == -1)
		return NULL;
	if (m.type != KF__MSG_TYPE__POOL_CREATE || m.peerlen == 0)
		*answer = -1;
	else if (*answer == 0) {
		pi = fill_message(&kf__pool_info__descriptor, 7, 0);
		wire_send(router, m.peer, m.peerlen, KF__MSG_TYPE__POOL_INFO,
		    pi, NULL, 0);
		protobuf_c_message_free_unpacked(pi, NULL);
	} else if (*answer == 1)
		wire_send_error(router, m.peer, m.peerlen,
		    KF__KF_ERR__ERR_EXISTS, "pool %s already exists",
		    ((Kf__PoolCreate *)m.body)->name);
	wire_msg_clear(&m);
	return NULL;
}

static int
call(int answer, int timeout_ms, struct wire_msg *reply, kf_err_t *err,
    char *msg)
{
	Kf__PoolCreate	pc = KF__POOL_CREATE__INIT;
	pthread_t	thread;
	int		rc, a = answer;

	pc.name = "pool-call";
	pc.mediaagent = "ma1";
	ck_assert_int_eq(pthread_create(&thread, NULL, serve, &a), 0);
	rc = wire_call(ctx, ENDPOINT, KF__MSG_TYPE__POOL_CREATE, &pc.base,
	    KF__MSG_TYPE__POOL_INFO, timeout_ms, reply, err, msg, 256);
	ck_assert_int_eq(pthread_join(thread, NULL), 0);
	ck_assert_msg(a == answer, "the server got no pool create");
	return rc;
}

START_TEST(test_call)
{
	ProtobufCMessage	*pi = fill_message(&kf__pool_info__descriptor,
				    7, 0);
	Kf__ListRequest		 lr = KF__LIST_REQUEST__INIT;
	struct wire_msg		 m;
	kf_err_t		 err;
	char			 msg[256];
	int64_t			 t0;

	ck_assert_int_eq(call(0, 5000, &m, &err, msg), 0);
	ck_assert_uint_eq(m.type, KF__MSG_TYPE__POOL_INFO);
	assert_same_body(pi, m.body);
	wire_msg_clear(&m);
	protobuf_c_message_free_unpacked(pi, NULL);

	ck_assert_int_eq(call(1, 5000, &m, &err, msg), -1);
	ck_assert_int_eq(err, KF__KF_ERR__ERR_EXISTS);
	ck_assert_str_eq(msg, "pool pool-call already exists");

	t0 = util_mono_ms();
	ck_assert_int_eq(call(2, 300, &m, &err, msg), -1);
	ck_assert_int_eq(err, KF__KF_ERR__ERR_TIMEOUT);
	ck_assert_int_lt(util_mono_ms() - t0, 3000);

	/* An endpoint ZeroMQ cannot parse: ERR_UNAVAILABLE, named. */
	ck_assert_int_eq(wire_call(ctx, "bogus://x", KF__MSG_TYPE__POOL_LIST,
	    &lr.base, KF__MSG_TYPE__POOL_LIST_REPLY, 100, &m, &err, msg,
	    sizeof(msg)), -1);
	ck_assert_int_eq(err, KF__KF_ERR__ERR_UNAVAILABLE);
	ck_assert_msg(strstr(msg, "bogus://x") != NULL, "%s", msg);
}
END_TEST

START_TEST(test_names)
{
	const ProtobufCEnumDescriptor	*ed = &kf__kf_err__descriptor;
	const ProtobufCEnumDescriptor	*td = &kf__msg_type__descriptor;
	unsigned			 i, j;

	for (i = 0; i < ed->n_values; i++)
		ck_assert_str_eq(wire_err_name(ed->values[i].value),
		    ed->values[i].name);
	ck_assert_str_eq(wire_err_name(KF__KF_ERR__ERR_NOT_FOUND),
	    "ERR_NOT_FOUND");
	ck_assert_str_eq(wire_err_name(KF__KF_ERR__ERR_NONE), "ERR_NONE");
	ck_assert_str_eq(wire_err_name((kf_err_t)999), "ERR_UNKNOWN");
	ck_assert_str_eq(wire_err_name((kf_err_t)-1), "ERR_UNKNOWN");

	ck_assert_str_eq(wire_type_name(PUT), "chunk put");
	ck_assert_str_eq(wire_type_name(KF__MSG_TYPE__ERROR), "error");
	ck_assert_str_eq(wire_type_name(KF__MSG_TYPE__MSG_NONE), "unknown");
	ck_assert_str_eq(wire_type_name(999), "unknown");
	ck_assert_str_eq(wire_type_name(UINT32_MAX), "unknown");
	/* Log lines must tell the types apart. */
	for (i = 1; i < td->n_values; i++)
		for (j = i + 1; j < td->n_values; j++)
			ck_assert_str_ne(wire_type_name(td->values[i].value),
			    wire_type_name(td->values[j].value));
}
END_TEST
static Suite *
wire_suite(void)
{
	const TTest *const core[] = { test_round_trip_every_type, NULL };
	const TTest *const core1[] = { test_dontwait, test_await,
	    test_call, test_names, NULL };
	Suite	*s = suite_create("wire");

	add_case(s, "Core", setup, teardown, core, core1);
	return s;
}

int
main(void)
{
	return check_run(wire_suite(), NULL);
}
