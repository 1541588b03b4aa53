/*
 * wire_fixture.c - the shared fixture of the check_wire* suites
 * (wire_fixture.h): a ROUTER and a DEALER on inproc:// in one context, as
 * commserved and a daemon would hold them, a body builder that sets every
 * field of any message, and the round-trip and rejection checks both
 * suites assert with.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire_fixture.h"

void	*ctx;
void	*router;
void	*dealer;
struct side	 sides[2];

void
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

void
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

ProtobufCMessage *
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

uint8_t *
wire_fixture_pack(const ProtobufCMessage *msg, size_t *len)
{
	uint8_t	*buf;

	*len = protobuf_c_message_get_packed_size(msg);
	ck_assert_ptr_nonnull(buf = malloc(*len + 1));
	ck_assert_uint_eq(protobuf_c_message_pack(msg, buf), *len);
	return buf;
}

/* Two messages are equal when they encode to the same bytes. */
void
assert_same_body(const ProtobufCMessage *a, const ProtobufCMessage *b)
{
	uint8_t	*pa, *pb;
	size_t	 la, lb;

	ck_assert_ptr_eq(a->descriptor, b->descriptor);
	pa = wire_fixture_pack(a, &la);
	pb = wire_fixture_pack(b, &lb);
	ck_assert_msg(la == lb && memcmp(pa, pb, la) == 0,
	    "%s changed on the wire", a->descriptor->name);
	free(pa);
	free(pb);
}

/* Received from s: no error, and the routing id where there is one. */
void
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
void
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
void
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

void
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
void
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


/* Loop index of the tests in both: 0 DEALER -> ROUTER, 1 ROUTER -> DEALER. */
void
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
