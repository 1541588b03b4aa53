/*
 * check_wire_limits.c - unit tests of common/wire.c's generic checks and
 * limits, over the socket pair of wire_fixture.c.
 *
 * Each generic check wire_recv makes - frame count, frame sizes, known
 * type, successful unpack - is fed the input it guards against; the test
 * asserts the documented KfErr, a sentence naming the problem, and that
 * the bad message was consumed whole, by receiving the next valid message
 * intact.  Bodies are also cut at every length, and bodies, payloads,
 * error buffers and routing ids are tried at their limits.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "util.h"
#include "wire.h"
#include "wire_fixture.h"


/*
 * Frames for the raw tests, spelt out in wire bytes: the types HEARTBEAT
 * (14), CHUNK_PUT (81), CHUNK_ACK (82) and 999, a Heartbeat naming "ma1",
 * a valid ChunkPut (built in setup_raw) and a frame over every limit.
 */
static const uint8_t	t_hb[4] = { 0, 0, 0, 14 }, t_put[4] = { 0, 0, 0, 81 };
static const uint8_t	t_ack[4] = { 0, 0, 0, 82 }, t_999[4] = { 0, 0, 3, 231 };
static const uint8_t	hb_body[] = { 0x0a, 3, 'm', 'a', '1' };
static const size_t	hb_len = sizeof(hb_body);
static uint8_t		*put_body, *big;
static size_t		 put_len;
/* ChunkAck with its job (field 1) and no index (field 2). */
static const uint8_t	ack_no_index[] = { 8, 5 };
/* ChunkPut with job, index, plain_len and last; no nonce, no tag. */
static const uint8_t	put_no_nonce[] = { 8, 1, 16, 2, 24, 3, 32, 1 };
/* A length whose varint never ends. */
static const uint8_t	junk[] = { 0x0a, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static void
setup_raw(void)
{
	Kf__ChunkPut	cp = KF__CHUNK_PUT__INIT;
	uint8_t		n[12] = { 1 }, t[16] = { 2 };

	_Static_assert(KF__MSG_TYPE__HEARTBEAT == 14 &&
	    KF__MSG_TYPE__CHUNK_PUT == 81 && KF__MSG_TYPE__CHUNK_ACK == 82,
	    "message types are renumbered");
	setup();
	cp.job = 5;
	cp.nonce.data = n;
	cp.nonce.len = sizeof(n);
	cp.tag.data = t;
	cp.tag.len = sizeof(t);
	put_body = wire_fixture_pack(&cp.base, &put_len);
	ck_assert_ptr_nonnull(big = calloc(1, WIRE_PAYLOAD_MAX + 1));
}

static void
teardown_raw(void)
{
	free(put_body);
	free(big);
	put_body = big = NULL;
	teardown();
}


/*
 * One generic check: these frames (after the routing id, in the direction
 * of the loop index) are refused with want, type and a sentence holding
 * needle, and the next message arrives intact.
 */
#define REJECT(name, want, type, needle, ...)				\
START_TEST(name)							\
{									\
	const struct side	*s = &sides[_i];			\
	struct frame		 f[] = { __VA_ARGS__ };			\
									\
	expect_reject(s, f, sizeof(f) / sizeof(f[0]),			\
	    KF__KF_ERR__##want, type, needle);				\
}									\
END_TEST

REJECT(test_short_type_frame, ERR_MALFORMED, 0,
    "4-byte type (1 more frames dropped)", { t_hb, 3 }, { hb_body, hb_len })
REJECT(test_unknown_type, ERR_UNKNOWN_TYPE, 999, "unknown message type 999",
    { t_999, 4 }, { hb_body, hb_len })
REJECT(test_no_body, ERR_MALFORMED, HB, "heartbeat: missing body frame",
    { t_hb, 4 })
REJECT(test_not_protobuf, ERR_MALFORMED, HB, "not a valid kf.Heartbeat",
    { t_hb, 4 }, { junk, sizeof(junk) })
REJECT(test_missing_required, ERR_MALFORMED, KF__MSG_TYPE__CHUNK_ACK,
    "not a valid kf.ChunkAck", { t_ack, 4 },
    { ack_no_index, sizeof(ack_no_index) })
REJECT(test_missing_required_payload, ERR_MALFORMED, PUT,
    "missing required field", { t_put, 4 },
    { put_no_nonce, sizeof(put_no_nonce) }, { "ciphertext", 10 })
REJECT(test_empty_body, ERR_MALFORMED, HB, "not a valid kf.Heartbeat",
    { t_hb, 4 }, { "", 0 })
REJECT(test_missing_payload, ERR_MALFORMED, PUT,
    "chunk put: missing payload frame", { t_put, 4 }, { put_body, put_len })
REJECT(test_extra_frame, ERR_MALFORMED, HB, "1 unexpected extra frames",
    { t_hb, 4 }, { hb_body, hb_len }, { "x", 1 })
REJECT(test_extra_frames_payload, ERR_MALFORMED, PUT,
    "2 unexpected extra frames", { t_put, 4 }, { put_body, put_len },
    { "ciphertext", 10 }, { "x", 1 }, { "", 0 })
REJECT(test_body_too_big, ERR_MALFORMED, HB,
    "body of 16777217 bytes exceeds the limit", { t_hb, 4 },
    { big, WIRE_BODY_MAX + 1 }, { "after", 5 })
REJECT(test_payload_too_big, ERR_MALFORMED, PUT,
    "payload exceeds the limit of 16777280", { t_put, 4 },
    { put_body, put_len }, { big, WIRE_PAYLOAD_MAX + 1 }, { "after", 5 })
/* Limits of the type frame: 0 and 5 bytes, type 0 and UINT32_MAX. */
REJECT(test_limits_type_empty, ERR_MALFORMED, 0, "4-byte", { "", 0 },
    { hb_body, hb_len })
REJECT(test_limits_type_5, ERR_MALFORMED, 0, "4-byte",
    { "\0\0\0\x0e\0", 5 }, { hb_body, hb_len })
REJECT(test_limits_type_none, ERR_UNKNOWN_TYPE, 0, "type 0", { "\0\0\0", 4 },
    { hb_body, hb_len })
REJECT(test_limits_type_max, ERR_UNKNOWN_TYPE, UINT32_MAX,
    "type 4294967295", { "\xff\xff\xff\xff", 4 })

/*
 * Every type's body cut at every length: each cut either decodes to a
 * message holding exactly the fields before the cut (it re-encodes to the
 * same prefix, with every required field present) or is refused with
 * ERR_MALFORMED.  Never a crash, never a leak (valgrind, ASan).
 */
START_TEST(test_truncated_everywhere)
{
	const ProtobufCEnumDescriptor	*ed = &kf__msg_type__descriptor;
	const struct wire_type		*t;
	const struct side		*s = &sides[_i];
	ProtobufCMessage		*body;
	struct wire_msg			 m;
	struct frame			 f[3];
	uint8_t				 th[4], *full, *again;
	size_t				 len, cut, alen;
	unsigned			 i, refused = 0, cuts = 0;
	kf_err_t			 err;
	char				 msg[256];

	for (i = 0; i < ed->n_values; i++) {
		if ((t = wire_type_lookup(ed->values[i].value)) == NULL)
			continue;
		body = fill_message(t->desc, i, 0);
		full = wire_fixture_pack(body, &len);
		be32_put(th, t->type);
		for (cut = 0; cut <= len; cut++, cuts++) {
			f[0] = (struct frame){ th, 4 };
			f[1] = (struct frame){ full, cut };
			f[2] = (struct frame){ "ciphertext", 10 };
			send_frames(s, f, t->payload ? 3 : 2);
			if (wire_recv(s->rx, s->router, &m, &err, msg,
			    sizeof(msg), 0) == -1) {
				ck_assert_msg(err == KF__KF_ERR__ERR_MALFORMED,
				    "%s cut at %zu: %s", t->name, cut,
				    wire_err_name(err));
				ck_assert_msg(cut < len, "%s: whole refused",
				    t->name);
				ck_assert_ptr_null(m.body);
				refused++;
				continue;
			}
			ck_assert_uint_eq(m.type, t->type);
			ck_assert(protobuf_c_message_check(m.body));
			again = wire_fixture_pack(m.body, &alen);
			ck_assert_msg(alen == cut && memcmp(again, full,
			    cut) == 0, "%s cut at %zu decoded to other "
			    "fields", t->name, cut);
			free(again);
			wire_msg_clear(&m);
		}
		free(full);
		protobuf_c_message_free_unpacked(body, NULL);
	}
	/* Most cuts fall inside a field. */
	ck_assert_uint_gt(refused, cuts / 2);
	assert_nothing_waiting(s);
	round_trip(s, PUT, 9, PAYLOAD_LEN);
}
END_TEST


START_TEST(test_limits_body)
{
	const struct side	*s = &sides[_i];
	Kf__Heartbeat		 hb = KF__HEARTBEAT__INIT;
	struct wire_msg		 m;
	size_t			 n = WIRE_BODY_MAX - 5;	/* tag, 4-byte length */

	/* A valid body of exactly the limit: accepted (sent from the heap). */
	ck_assert_ptr_nonnull(hb.name = malloc(n + 1));
	memset(hb.name, 'h', n);
	hb.name[n] = '\0';
	ck_assert_uint_eq(protobuf_c_message_get_packed_size(&hb.base),
	    WIRE_BODY_MAX);
	ck_assert_int_eq(wire_send(s->tx, s->peer, s->peerlen,
	    HB, &hb.base, NULL, 0), 0);
	recv_ok(s, &m);
	ck_assert_str_eq(((Kf__Heartbeat *)m.body)->name, hb.name);
	wire_msg_clear(&m);
	free(hb.name);

	/* An empty body is a valid Ok (no required fields). */
	ck_assert_int_eq(wire_send_ok(s->tx, s->peer, s->peerlen, NULL), 0);
	recv_ok(s, &m);
	ck_assert_uint_eq(m.type, KF__MSG_TYPE__OK);
	ck_assert_ptr_null(((Kf__Ok *)m.body)->message);
	wire_msg_clear(&m);
	assert_nothing_waiting(s);
}
END_TEST

START_TEST(test_limits_payload)
{
	const struct side	*s = &sides[_i];

	/* A real chunk (1 MiB), exactly the limit, a bare tag. */
	round_trip(s, PUT, 1, 1u << 20);
	round_trip(s, PUT, 4, WIRE_PAYLOAD_MAX);
	round_trip(s, PUT, 5, 16);
}
END_TEST

START_TEST(test_limits_errmsg)
{
	const struct side	*s = &sides[_i];
	struct frame	f[] = { { t_999, 4 }, { hb_body, hb_len } };
	struct wire_msg	m;
	kf_err_t	err;
	char		tiny[8];

	/* No room, or little room, for the sentence: the code all the same. */
	send_frames(s, f, 2);
	ck_assert_int_eq(wire_recv(s->rx, s->router, &m, &err, NULL, 0, 0), -1);
	ck_assert_int_eq(err, KF__KF_ERR__ERR_UNKNOWN_TYPE);
	send_frames(s, f, 2);
	ck_assert_int_eq(wire_recv(s->rx, s->router, &m, &err, tiny,
	    sizeof(tiny), 0), -1);
	ck_assert_str_eq(tiny, "unknown");
	round_trip(s, PUT, 6, PAYLOAD_LEN);
}
END_TEST

START_TEST(test_limits_peers)
{
	uint8_t		 id[255];
	void		*d;
	struct wire_msg	 m;
	kf_err_t	 err;
	char		 msg[256];

	/* The longest routing id ZeroMQ allows, both ways. */
	memset(id, 0xee, sizeof(id));
	ck_assert_ptr_nonnull(d = wire_socket(ctx, ZMQ_DEALER, NULL, 0));
	ck_assert_int_eq(zmq_setsockopt(d, ZMQ_ROUTING_ID, id, sizeof(id)), 0);
	ck_assert_int_eq(zmq_connect(d, ENDPOINT), 0);
	ck_assert_int_eq(wire_send_ok(d, NULL, 0, "long"), 0);
	ck_assert_int_eq(wire_recv(router, 1, &m, &err, msg, sizeof(msg), 0),
	    0);
	ck_assert_uint_eq(m.peerlen, sizeof(id));
	ck_assert_mem_eq(m.peer, id, sizeof(id));
	wire_msg_clear(&m);
	ck_assert_int_eq(wire_send_ok(router, id, sizeof(id), "back"), 0);
	ck_assert_int_eq(wire_await(d, KF__MSG_TYPE__OK, 5000, &m, &err, msg,
	    sizeof(msg)), 0);
	ck_assert_str_eq(((Kf__Ok *)m.body)->message, "back");
	wire_msg_clear(&m);
	zmq_close(d);

	/* A peer that is not there: the send fails, nothing is queued. */
	errno = 0;
	ck_assert_int_eq(wire_send_ok(router, "nobody", 6, "lost"), -1);
	ck_assert_int_eq(errno, EHOSTUNREACH);
	round_trip(&sides[1], PUT, 8, PAYLOAD_LEN);
}
END_TEST
static Suite *
wire_limits_suite(void)
{
	const TTest *const gen[] = { test_short_type_frame,
	    test_unknown_type, test_no_body, test_not_protobuf,
	    test_missing_required, test_missing_required_payload,
	    test_empty_body, test_missing_payload, test_extra_frame,
	    test_extra_frames_payload, test_body_too_big, test_payload_too_big,
	    test_truncated_everywhere, NULL };
	const TTest *const lim[] = { test_limits_type_empty,
	    test_limits_type_5, test_limits_type_none, test_limits_type_max,
	    test_limits_body, test_limits_payload, test_limits_errmsg, NULL };
	const TTest *const lim1[] = { test_limits_peers, NULL };
	const TTest *const none[] = { NULL };
	Suite	*s = suite_create("wire_limits");

	add_case(s, "Generic checks", setup_raw, teardown_raw, gen, none);
	add_case(s, "Limits", setup_raw, teardown_raw, lim, lim1);
	return s;
}

int
main(void)
{
	return check_run(wire_limits_suite(), NULL);
}
