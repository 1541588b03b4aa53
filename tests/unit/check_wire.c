/*
 * check_wire.c - unit tests for common/wire.c over real ZeroMQ sockets: a
 * ROUTER and a DEALER on inproc:// in one context, as commserved and a
 * daemon would hold them.
 *
 * Every message type in proto/keyflow.proto must round-trip in both
 * directions with a body built from its descriptor (every field set, nested
 * messages included) and, for the two chunk types, a payload that arrives
 * byte for byte.  Each generic check wire_recv makes - frame count, frame
 * sizes, known type, successful unpack - is fed the input it guards
 * against; the test asserts the documented KfErr, a sentence naming the
 * problem, and that the bad message was consumed whole, by receiving the
 * next valid message intact.  Bodies are also cut at every length.
 */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "wire.h"

#define TEST_TIMEOUT	120
#define ENDPOINT	"inproc://check-wire"
#define DEALER_ID	"dealer-7"
#define RECV_TIMEO_MS	5000		/* a lost message fails, never hangs */
#define PAYLOAD_LEN	3000		/* a chunk's ciphertext, small */
#define HB		KF__MSG_TYPE__HEARTBEAT
#define PUT		KF__MSG_TYPE__CHUNK_PUT

static void	*ctx;			/* one context per test */
static void	*router;		/* bound to ENDPOINT */
static void	*dealer;		/* connected, routing id DEALER_ID */

/* Which way a message travels: sides[0] DEALER -> ROUTER, [1] back. */
static struct side {
	void		*tx;		/* sending socket */
	const void	*peer;		/* routing id when tx is the ROUTER */
	size_t		 peerlen;	/* its length, 0 on the DEALER */
	void		*rx;		/* receiving socket */
	int		 router;	/* 1 when rx is the ROUTER */
} sides[2];

/* One raw frame, for messages wire_send would never produce. */
struct frame {
	const void	*p;		/* bytes, never NULL */
	size_t		 len;		/* length */
};

static void
setup(void)
{
	int		 timeo = RECV_TIMEO_MS;
	zmq_msg_t	 f;

	ctx = zmq_ctx_new();
	ck_assert_ptr_nonnull(ctx);
	router = wire_socket(ctx, ZMQ_ROUTER, ENDPOINT, 1);
	dealer = wire_socket(ctx, ZMQ_DEALER, NULL, 0);
	ck_assert(router != NULL && dealer != NULL);
	ck_assert_int_eq(zmq_setsockopt(dealer, ZMQ_ROUTING_ID, DEALER_ID,
	    strlen(DEALER_ID)), 0);
	ck_assert_int_eq(zmq_setsockopt(router, ZMQ_RCVTIMEO, &timeo,
	    sizeof(timeo)), 0);
	ck_assert_int_eq(zmq_setsockopt(dealer, ZMQ_RCVTIMEO, &timeo,
	    sizeof(timeo)), 0);
	ck_assert_int_eq(zmq_connect(dealer, ENDPOINT), 0);
	/* One raw exchange, so the ROUTER knows DEALER_ID before any test. */
	ck_assert_int_eq(zmq_send(dealer, "hi", 2, 0), 2);
	zmq_msg_init(&f);
	ck_assert_int_eq(zmq_msg_recv(&f, router, 0), (int)strlen(DEALER_ID));
	ck_assert_int_eq(zmq_msg_recv(&f, router, 0), 2);
	zmq_msg_close(&f);
	sides[0] = (struct side){ dealer, NULL, 0, router, 1 };
	sides[1] = (struct side){ router, DEALER_ID, strlen(DEALER_ID), dealer,
	    0 };
}

static void
teardown(void)
{
	zmq_close(dealer);
	zmq_close(router);
	zmq_ctx_term(ctx);
	dealer = router = ctx = NULL;
}

/*
 * Body builder: a value for every field of a descriptor, so every required
 * field is satisfied and every optional and repeated one is exercised.
 * Everything is malloc'd, so protobuf_c_message_free_unpacked(m, NULL)
 * frees it.
 */
static size_t
field_size(const ProtobufCFieldDescriptor *f)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_UINT32: case PROTOBUF_C_TYPE_ENUM:
		return sizeof(uint32_t);
	case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_INT64:
		return sizeof(uint64_t);
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_STRING: case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(void *);
	default:
		ck_abort_msg("%s: no builder for field type %d", f->name,
		    f->type);
	}
	return 0;
}

static ProtobufCMessage *fill_message(const ProtobufCMessageDescriptor *,
    unsigned, int);

static void
fill_value(const ProtobufCFieldDescriptor *f, void *p, unsigned seed,
    int depth)
{
	const ProtobufCEnumDescriptor	*ed = f->descriptor;
	ProtobufCBinaryData		*b = p;
	size_t				 i;
	char				 s[64];

	switch (f->type) {
	case PROTOBUF_C_TYPE_UINT32:
		*(uint32_t *)p = 0x01234567u + seed;
		break;
	case PROTOBUF_C_TYPE_ENUM:
		*(int *)p = ed->values[seed % ed->n_values].value;
		break;
	case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_INT64:
		/* Multi-byte varints; odd seeds set the sign bit. */
		*(uint64_t *)p = 0x0123456789abULL * (seed + 1) |
		    (uint64_t)(seed & 1) << 63;
		break;
	case PROTOBUF_C_TYPE_BOOL:
		*(protobuf_c_boolean *)p = 1;
		break;
	case PROTOBUF_C_TYPE_STRING:
		(void)snprintf(s, sizeof(s), "%s %u", f->name, seed);
		ck_assert_ptr_nonnull(*(char **)p = strdup(s));
		break;
	case PROTOBUF_C_TYPE_BYTES:
		b->len = 2 + seed % 40;
		ck_assert_ptr_nonnull(b->data = malloc(b->len));
		for (i = 0; i < b->len; i++)
			b->data[i] = (uint8_t)(seed * 13 + i * 101);
		b->data[0] = 0x00;
		b->data[b->len - 1] = 0xff;
		break;
	default:	/* a message: field_size refused every other type */
		*(ProtobufCMessage **)p = fill_message(f->descriptor, seed,
		    depth + 1);
		break;
	}
}

static ProtobufCMessage *
fill_message(const ProtobufCMessageDescriptor *d, unsigned seed, int depth)
{
	const ProtobufCFieldDescriptor	*f;
	ProtobufCMessage		*m;
	uint8_t				*member;
	size_t				 i, k, n, sz;

	ck_assert_msg(depth < 4, "%s nests too deep", d->name);
	ck_assert_ptr_nonnull(m = calloc(1, d->sizeof_message));
	d->message_init(m);
	for (i = 0; i < d->n_fields; i++) {
		f = &d->fields[i];
		member = (uint8_t *)m + f->offset;
		sz = field_size(f);
		n = 1;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			n = 2;
			*(size_t *)((uint8_t *)m + f->quantifier_offset) = n;
			ck_assert_ptr_nonnull(*(void **)member =
			    calloc(n, sz));
			member = *(void **)member;
		} else if (f->label == PROTOBUF_C_LABEL_OPTIONAL &&
		    f->quantifier_offset != 0)
			*(protobuf_c_boolean *)((uint8_t *)m +
			    f->quantifier_offset) = 1;
		for (k = 0; k < n; k++)
			fill_value(f, member + k * sz, seed + f->id + k, depth);
	}
	return m;
}

static uint8_t *
pack(const ProtobufCMessage *msg, size_t *len)
{
	uint8_t	*buf;

	*len = protobuf_c_message_get_packed_size(msg);
	ck_assert_ptr_nonnull(buf = malloc(*len + 1));
	ck_assert_uint_eq(protobuf_c_message_pack(msg, buf), *len);
	return buf;
}

/* Two messages are equal when they encode to the same bytes. */
static void
assert_same_body(const ProtobufCMessage *a, const ProtobufCMessage *b)
{
	uint8_t	*pa, *pb;
	size_t	 la, lb;

	ck_assert_ptr_eq(a->descriptor, b->descriptor);
	pa = pack(a, &la);
	pb = pack(b, &lb);
	ck_assert_msg(la == lb && memcmp(pa, pb, la) == 0,
	    "%s changed on the wire", a->descriptor->name);
	free(pa);
	free(pb);
}

/* Received from s: no error, and the routing id where there is one. */
static void
recv_ok(const struct side *s, struct wire_msg *m)
{
	kf_err_t	err;
	char		msg[256];

	ck_assert_msg(wire_recv(s->rx, s->router, m, &err, msg, sizeof(msg),
	    0) == 0, "wire_recv: %s: %s (errno %d)", wire_err_name(err), msg,
	    errno);
	ck_assert_int_eq(err, KF__KF_ERR__ERR_NONE);
	ck_assert_uint_eq(m->peerlen, s->router ? strlen(DEALER_ID) : 0);
	ck_assert_mem_eq(m->peer, DEALER_ID, m->peerlen);
}

/* ZMQ_DONTWAIT with nothing queued: -1, ERR_NONE and errno EAGAIN. */
static void
assert_nothing_waiting(const struct side *s)
{
	struct wire_msg	m;
	kf_err_t	err = KF__KF_ERR__ERR_INTERNAL;
	char		msg[64];

	errno = 0;
	ck_assert_int_eq(wire_recv(s->rx, s->router, &m, &err, msg,
	    sizeof(msg), ZMQ_DONTWAIT), -1);
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_eq(err, KF__KF_ERR__ERR_NONE);
	ck_assert_ptr_null(m.body);
}

/*
 * A message of type with the body fill_message builds for seed and, for
 * the chunk types, paylen bytes of payload: both arrive unchanged, and
 * nothing else is waiting.
 */
static void
round_trip(const struct side *s, uint32_t type, unsigned seed, size_t paylen)
{
	const struct wire_type	*t = wire_type_lookup(type);
	ProtobufCMessage	*body = fill_message(t->desc, seed, 0);
	uint8_t			*payload = malloc(paylen);
	const uint8_t		*p;
	struct wire_msg		 m;
	size_t			 len, i;

	ck_assert_msg(protobuf_c_message_check(body),
	    "%s: builder left a required field", t->desc->name);
	ck_assert_ptr_nonnull(payload);
	for (i = 0; i < paylen; i++)
		payload[i] = (uint8_t)(i * 31 + i / 251);
	ck_assert_int_eq(wire_send(s->tx, s->peer, s->peerlen, type, body,
	    t->payload ? payload : NULL, paylen), 0);
	recv_ok(s, &m);
	ck_assert_uint_eq(m.type, type);
	assert_same_body(body, m.body);
	p = wire_payload(&m, &len);
	ck_assert_uint_eq(len, (t->payload ? paylen : 0));
	ck_assert_msg(t->payload ? memcmp(p, payload, paylen) == 0 :
	    p == NULL, "%s: payload changed", t->name);
	wire_msg_clear(&m);
	ck_assert_ptr_null(m.body);
	ck_assert_int_eq(m.has_payload, 0);
	protobuf_c_message_free_unpacked(body, NULL);
	free(payload);
	assert_nothing_waiting(s);
}

static void
send_frames(const struct side *s, const struct frame *f, size_t n)
{
	size_t	i;

	if (s->peer != NULL)
		ck_assert_int_eq(zmq_send(s->tx, s->peer, s->peerlen,
		    ZMQ_SNDMORE), (int)s->peerlen);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(zmq_send(s->tx, f[i].p, f[i].len,
		    i + 1 < n ? ZMQ_SNDMORE : 0), (int)f[i].len);
}

/*
 * Send raw frames that wire_recv must refuse with want and a sentence
 * containing needle; then the next message must arrive intact.
 */
static void
expect_reject(const struct side *s, const struct frame *f, size_t n,
    kf_err_t want, uint32_t want_type, const char *needle)
{
	struct wire_msg	m;
	kf_err_t	err = KF__KF_ERR__ERR_NONE;
	char		msg[256];

	send_frames(s, f, n);
	ck_assert_int_eq(wire_recv(s->rx, s->router, &m, &err, msg,
	    sizeof(msg), 0), -1);
	ck_assert_msg(err == want, "want %s, got %s (%s)", wire_err_name(want),
	    wire_err_name(err), msg);
	ck_assert_msg(strstr(msg, needle) != NULL, "\"%s\" not in \"%s\"",
	    needle, msg);
	ck_assert_msg(strlen(msg) >= 20, "not a sentence: \"%s\"", msg);
	ck_assert_uint_eq(m.type, want_type);
	ck_assert_ptr_null(m.body);
	ck_assert_int_eq(m.has_payload, 0);
	ck_assert_uint_eq(m.peerlen, s->router ? strlen(DEALER_ID) : 0);
	ck_assert_mem_eq(m.peer, DEALER_ID, m.peerlen);
	round_trip(s, PUT, 77, PAYLOAD_LEN);
}

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
	put_body = pack(&cp.base, &put_len);
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
		full = pack(body, &len);
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
			again = pack(m.body, &alen);
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

/* Loop index of the tests in both: 0 DEALER -> ROUTER, 1 ROUTER -> DEALER. */
static void
add_case(Suite *s, const char *name, void (*su)(void), void (*td)(void),
    const TTest *const *both, const TTest *const *once)
{
	TCase	*tc = tcase_create(name);

	tcase_add_checked_fixture(tc, su, td);
	tcase_set_timeout(tc, TEST_TIMEOUT);
	for (; *both != NULL; both++)
		tcase_add_loop_test(tc, *both, 0, 2);
	for (; *once != NULL; once++)
		tcase_add_test(tc, *once);
	suite_add_tcase(s, tc);
}

static Suite *
wire_suite(void)
{
	const TTest *const core[] = { test_round_trip_every_type, NULL };
	const TTest *const core1[] = { test_dontwait, test_await,
	    test_call, test_names, NULL };
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
	Suite	*s = suite_create("wire");

	add_case(s, "Core", setup, teardown, core, core1);
	add_case(s, "Generic checks", setup_raw, teardown_raw, gen, none);
	add_case(s, "Limits", setup_raw, teardown_raw, lim, lim1);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(wire_suite());
	int	 failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
