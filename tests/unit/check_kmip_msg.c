/*
 * check_kmip_msg.c - unit tests for KMIP messages (common/kmip/msg*.c).
 *
 * "Vectors": whole messages from the KMIP 1.1 test-case document (as
 * PyKMIP's unit tests carry them) and payloads from PyKMIP's unit tests
 * decode to the values they describe and re-encode byte for byte.
 * "PyKMIP": messages at KMIP 1.2, 1.4 and 2.0 built here match, byte for
 * byte, what PyKMIP's own encoder wrote for the same values
 * (data/kmip/gen_pykmip.py -> pykmip-gen-*.hex), and PyKMIP's bytes decode.
 * "Rules": nothing newer than a message's version is sent, 2.0-only result
 * reasons never reach a 1.x peer, and what real peers send is accepted.
 * "Limits": hostile batches and corruption are refused (truncations of
 * these messages: check_ttlv.c).
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "kmip/kmip.h"
#include "util.h"

#define TEST_TIMEOUT	120
#define TS		0x5F5E1000	/* gen_pykmip.py's TS */
#define UID		"3f1b9c2e-0d4a-4c57-9e61-2b7f0a8d5c11"
#define NAME		"keyflow pool pool1 master key"
#define UID_TC311	"fb4b5b9c-6188-4c63-8142-fe9c328129fc"
#define UID_TC313	"49a1ca88-6bea-4fb2-b450-7e58802c3038"

static uint8_t *
load_vec(const char *name, size_t *len)
{
	const char	*dir = getenv("KF_TEST_DATA");
	char		 path[4096];
	uint8_t		*buf;

	ck_assert_msg(dir != NULL,
	    "KF_TEST_DATA must name tests/unit/data (ctest sets it)");
	snprintf(path, sizeof(path), "%s/kmip/%s.hex", dir, name);
	ck_assert_msg(ttlv_hex_read_file(path, &buf, len) == 0,
	    "cannot read %s as hex", path);
	return buf;
}

/* Encode m: want's bytes, or a failure showing both as dumps. */
static void
assert_msg_encodes_to(const struct kmip_msg *m, const uint8_t *want,
    size_t wlen, const char *what)
{
	struct kmip_err	 err = { 0 };
	struct ttlv	*a = NULL, *b = NULL;
	uint8_t		*buf;
	size_t		 len;

	ck_assert_msg(kmip_msg_encode(m, &buf, &len, &err) == 0,
	    "%s: encode failed: %s", what, err.msg);
	if (len != wlen || memcmp(buf, want, len) != 0) {
		ttlv_decode(buf, len, NULL, &a, NULL);
		ttlv_decode(want, wlen, NULL, &b, NULL);
		ck_abort_msg("%s: encodings differ\ngot:\n%s\nwant:\n%s",
		    what, ttlv_dump_string(a), ttlv_dump_string(b));
	}
	free(buf);
}

/* Decode vector name as a message. */
static struct kmip_msg *
decode_vec(const char *name, int response)
{
	struct kmip_err	 err = { 0 };
	struct kmip_msg	*m;
	uint8_t		*v;
	size_t		 len;

	v = load_vec(name, &len);
	ck_assert_msg(kmip_msg_decode(v, len, response, NULL, &m, &err) == 0,
	    "%s: %s", name, err.msg);
	free(v);
	return m;
}

/* Decode and re-encode: the same bytes. */
static struct kmip_msg *
vec_roundtrip(const char *name, int response)
{
	struct kmip_msg	*m = decode_vec(name, response);
	uint8_t		*v;
	size_t		 len, i;

	for (i = 0; i < m->nitems; i++)
		ck_assert_msg(m->items[i]->err.reason == 0, "%s item %zu: %s",
		    name, i, m->items[i]->err.msg);
	v = load_vec(name, &len);
	assert_msg_encodes_to(m, v, len, name);
	free(v);
	return m;
}

static int
bytes_eq(const struct kmip_bytes *b, const void *p, size_t len)
{
	return b->p != NULL && b->len == len && memcmp(b->p, p, len) == 0;
}

/*
 * Vectors: KMIP 1.1 test cases 3.1.1 and 3.1.3, PyKMIP payloads.
 */

START_TEST(test_tc_create_destroy)
{
	struct kmip_msg		*m, *mine;
	struct kmip_item	*it;
	uint8_t			*v;
	size_t			 len;

	m = vec_roundtrip("oasis-tc-3.1.1-create-req", 0);
	ck_assert_uint_eq(m->version, KMIP_1_1);
	ck_assert_uint_eq(m->nitems, 1);
	it = m->items[0];
	ck_assert_uint_eq(it->op, KMIP_OP_CREATE);
	ck_assert_uint_eq(it->p.object_type, KMIP_OBJ_SYMMETRIC_KEY);
	ck_assert(it->p.attrs.has ==
	    (KMIP_A_ALG | KMIP_A_LENGTH | KMIP_A_USAGE_MASK));
	ck_assert_uint_eq(it->p.attrs.alg, KMIP_ALG_AES);
	ck_assert_int_eq(it->p.attrs.length, 128);
	ck_assert_int_eq(it->p.attrs.usage_mask, 0x0C);
	kmip_msg_free(&m);

	/* What a client builds for it is the test case, byte for byte. */
	v = load_vec("oasis-tc-3.1.1-create-req", &len);
	mine = kmip_msg_new(0, KMIP_1_1);
	it = kmip_msg_add(mine, KMIP_OP_CREATE);
	it->p.object_type = KMIP_OBJ_SYMMETRIC_KEY;
	it->p.attrs.has = KMIP_A_ALG | KMIP_A_LENGTH | KMIP_A_USAGE_MASK;
	it->p.attrs.alg = KMIP_ALG_AES;
	it->p.attrs.length = 128;
	it->p.attrs.usage_mask = KMIP_USAGE_ENCRYPT | KMIP_USAGE_DECRYPT;
	assert_msg_encodes_to(mine, v, len, "client create 3.1.1");
	kmip_msg_free(&mine);
	free(v);

	m = vec_roundtrip("oasis-tc-3.1.1-create-resp", 1);
	ck_assert(m->has & KMIP_H_TIME_STAMP);
	ck_assert(m->time_stamp == 0x4F9A54E5);
	it = m->items[0];
	ck_assert_uint_eq(it->status, KMIP_STATUS_SUCCESS);
	ck_assert_str_eq(it->p.uid, UID_TC311);
	ck_assert_uint_eq(it->p.object_type, KMIP_OBJ_SYMMETRIC_KEY);
	kmip_msg_free(&m);

	m = vec_roundtrip("oasis-tc-3.1.1-destroy-req", 0);
	ck_assert_uint_eq(m->items[0]->op, KMIP_OP_DESTROY);
	ck_assert_str_eq(m->items[0]->p.uid, UID_TC311);
	kmip_msg_free(&m);
	m = vec_roundtrip("oasis-tc-3.1.1-destroy-resp", 1);
	ck_assert_str_eq(m->items[0]->p.uid, UID_TC311);
	kmip_msg_free(&m);
}
END_TEST

START_TEST(test_tc_locate_get)
{
	static const uint8_t	 key[24] = { 0x73, 0x67, 0x57, 0x80, 0x51,
				    0x01, 0x2A, 0x6D, 0x13, 0x4A, 0x85, 0x5E,
				    0x25, 0xC8, 0xCD, 0x5E, 0x4C, 0xA1, 0x31,
				    0x45, 0x57, 0x29, 0xD3, 0xC8 };
	struct kmip_msg		*m;
	struct kmip_payload	*p;

	m = vec_roundtrip("oasis-tc-3.1.3-locate-req", 0);
	p = &m->items[0]->p;
	ck_assert_uint_eq(m->items[0]->op, KMIP_OP_LOCATE);
	ck_assert(p->attrs.has == (KMIP_A_OBJECT_TYPE | KMIP_A_NAME));
	ck_assert_uint_eq(p->attrs.object_type, KMIP_OBJ_SYMMETRIC_KEY);
	ck_assert_str_eq(p->attrs.name, "Key1");
	ck_assert_uint_eq(p->attrs.name_type, KMIP_NAME_TEXT);
	kmip_msg_free(&m);
	m = vec_roundtrip("oasis-tc-3.1.3-locate-resp", 1);
	ck_assert_uint_eq(m->items[0]->p.nuids, 1);
	ck_assert_str_eq(m->items[0]->p.uids[0], UID_TC313);
	kmip_msg_free(&m);

	m = vec_roundtrip("oasis-tc-3.1.3-get-req", 0);
	ck_assert_str_eq(m->items[0]->p.uid, UID_TC313);
	kmip_msg_free(&m);
	m = vec_roundtrip("oasis-tc-3.1.3-get-resp", 1);
	p = &m->items[0]->p;
	ck_assert(p->has & KMIP_P_KEY);
	ck_assert_uint_eq(p->key.format, KMIP_KEYFMT_RAW);
	ck_assert_uint_eq(p->key.alg, KMIP_ALG_3DES);
	ck_assert_int_eq(p->key.length, 168);
	ck_assert(bytes_eq(&p->key.material, key, sizeof(key)));
	kmip_msg_free(&m);
}
END_TEST

/* What a server must refuse per item, not per message. */
START_TEST(test_vectors_unsupported)
{
	struct kmip_msg		*m;
	struct kmip_item	*it;

	/* Register of a Template object: a per-item error. */
	m = decode_vec("pykmip-msg-register-template-req", 0);
	it = m->items[0];
	ck_assert_uint_eq(it->op, KMIP_OP_REGISTER);
	ck_assert_uint_eq(it->err.reason, KMIP_REASON_FEATURE_NOT_SUPPORTED);
	ck_assert_msg(strstr(it->err.msg, "Template") != NULL, "%s",
	    it->err.msg);
	kmip_msg_free(&m);
	/* MAC (1.2): known to KMIP, not to this codec. */
	m = decode_vec("pykmip-msg-mac-req", 0);
	ck_assert_uint_eq(m->version, KMIP_1_2);
	ck_assert_uint_eq(m->items[0]->op, KMIP_OP_MAC);
	ck_assert_uint_eq(m->items[0]->err.reason,
	    KMIP_REASON_OPERATION_NOT_SUPPORTED);
	ck_assert_msg(strstr(m->items[0]->err.msg, "MAC") != NULL, "%s",
	    m->items[0]->err.msg);
	kmip_msg_free(&m);
	m = decode_vec("pykmip-msg-mac-resp", 1);
	ck_assert_uint_eq(m->items[0]->err.reason,
	    KMIP_REASON_OPERATION_NOT_SUPPORTED);
	kmip_msg_free(&m);
	/* A failure without Operation (as for an unsupported version). */
	m = vec_roundtrip("pykmip-msg-invalid-message-resp", 1);
	it = m->items[0];
	ck_assert_uint_eq(it->op, 0);
	ck_assert_uint_eq(it->status, KMIP_STATUS_FAILED);
	ck_assert_uint_eq(it->reason, KMIP_REASON_INVALID_MESSAGE);
	ck_assert_str_eq(it->message,
	    "Default response. No operations supported.");
	ck_assert_int_eq(it->has_payload, 0);
	kmip_msg_free(&m);
	m = vec_roundtrip("pykmip-msg-register-resp", 1);
	kmip_msg_free(&m);
}
END_TEST

/*
 * Rules: strict in what is sent, tolerant in what is accepted.
 */

/* A one-item message for op at version; the caller fills the payload. */
static struct kmip_msg *
one(int response, uint32_t version, uint32_t op, struct kmip_item **itp)
{
	struct kmip_msg	*m = kmip_msg_new(response, version);

	ck_assert_ptr_nonnull(m);
	*itp = kmip_msg_add(m, op);
	ck_assert_ptr_nonnull(*itp);
	return m;
}

/* Encoding m must fail with an error mentioning want. */
static void
assert_refused(const struct kmip_msg *m, const char *want)
{
	struct kmip_err	 err = { 0 };
	uint8_t		*buf = (uint8_t *)1;
	size_t		 len;

	ck_assert_msg(kmip_msg_encode(m, &buf, &len, &err) == -1,
	    "encoded, expected a refusal about \"%s\"", want);
	ck_assert_ptr_null(buf);
	ck_assert_msg(strstr(err.msg, want) != NULL, "\"%s\" lacks \"%s\"",
	    err.msg, want);
}

static struct kmip_msg *
reencode(const struct kmip_msg *m, int response)
{
	struct kmip_err	 err = { 0 };
	struct kmip_msg	*back;
	uint8_t		*buf;
	size_t		 len;

	ck_assert_msg(kmip_msg_encode(m, &buf, &len, &err) == 0, "%s",
	    err.msg);
	ck_assert_msg(kmip_msg_decode(buf, len, response, NULL, &back, &err) ==
	    0, "%s", err.msg);
	free(buf);
	return back;
}

START_TEST(test_strict_sending)
{
	struct kmip_msg		*m, *back;
	struct kmip_item	*it;

	/* Encrypt does not exist before 1.2, Discover Versions before 1.1. */
	m = one(0, KMIP_1_1, KMIP_OP_ENCRYPT, &it);
	ck_assert_int_eq(kmip_bytes_set(&it->p.data, "k", 1), 0);
	assert_refused(m, "Encrypt needs KMIP 1.2");
	m->version = KMIP_1_2;
	/* AAD is 1.4; so is AEAD mode; Tag Length is 1.2. */
	ck_assert_int_eq(kmip_bytes_set(&it->p.aad, "a", 1), 0);
	assert_refused(m, "Authenticated Encryption Additional Data needs "
	    "KMIP 1.4");
	kmip_bytes_clear(&it->p.aad);
	it->p.has |= KMIP_P_CPARAMS;
	it->p.cparams.has = KMIP_CP_MODE;
	it->p.cparams.mode = KMIP_MODE_AEAD;
	assert_refused(m, "AEAD needs KMIP 1.4");
	kmip_msg_free(&m);
	m = one(0, KMIP_1_0, KMIP_OP_DISCOVER_VERSIONS, &it);
	assert_refused(m, "Discover Versions needs KMIP 1.1");
	kmip_msg_free(&m);

	/* Client Correlation Value: 1.4 and later only. */
	m = one(0, KMIP_1_3, KMIP_OP_ACTIVATE, &it);
	ck_assert_int_eq(kmip_set_str(&m->client_corr, "trace-42"), 0);
	assert_refused(m, "Client Correlation Value needs KMIP 1.4");
	m->version = KMIP_1_4;
	back = reencode(m, 0);
	ck_assert_str_eq(back->client_corr, "trace-42");
	kmip_msg_free(&back);
	kmip_msg_free(&m);

	/* Locate's Offset Items and Located Items are 1.3. */
	m = one(0, KMIP_1_2, KMIP_OP_LOCATE, &it);
	it->p.has |= KMIP_P_OFFSET_ITEMS;
	assert_refused(m, "Offset Items needs KMIP 1.3");
	kmip_msg_free(&m);

	/* 2.0-only things in 1.4: Ephemeral, a UID that is not Text. */
	m = one(0, KMIP_1_4, KMIP_OP_DESTROY, &it);
	it->ephemeral = 1;
	assert_refused(m, "Ephemeral needs KMIP 2.0");
	it->ephemeral = 0;
	it->p.has |= KMIP_P_UID_ENUM;
	it->p.uid_enum = KMIP_UID_ID_PLACEHOLDER;
	assert_refused(m, "not Text needs KMIP 2.0");
	m->version = KMIP_2_0;
	back = reencode(m, 0);
	ck_assert(back->items[0]->p.has & KMIP_P_UID_ENUM);
	ck_assert_uint_eq(back->items[0]->p.uid_enum, 1);
	kmip_msg_free(&back);
	kmip_msg_free(&m);

	/* Versions this codec does not speak; empty messages. */
	m = kmip_msg_new(0, KMIP_VER(1, 5));
	kmip_msg_add(m, KMIP_OP_QUERY);
	assert_refused(m, "1.5 is not a version this codec speaks");
	kmip_msg_free(&m);
	m = kmip_msg_new(1, KMIP_1_4);
	assert_refused(m, "1 to 1024 batch items, not 0");
	kmip_msg_free(&m);
}
END_TEST

START_TEST(test_result_reasons)
{
	struct kmip_msg		*m, *back;
	struct kmip_item	*it;

	/* A 2.0-only reason in a 1.4 response is refused... */
	m = one(1, KMIP_1_4, KMIP_OP_ENCRYPT, &it);
	it->status = KMIP_STATUS_FAILED;
	it->reason = KMIP_REASON_WRONG_KEY_LIFECYCLE_STATE;
	assert_refused(m, "Wrong Key Lifecycle State needs KMIP 2.0");
	/* ...and kmip_item_fail maps it to what 1.x says. */
	ck_assert_int_eq(kmip_item_fail(it, m->version,
	    KMIP_REASON_WRONG_KEY_LIFECYCLE_STATE, "key %s is not Active",
	    "k1"), 0);
	back = reencode(m, 1);
	ck_assert(back->items[0]->status == KMIP_STATUS_FAILED &&
	    back->items[0]->reason == KMIP_REASON_PERMISSION_DENIED &&
	    back->items[0]->has_payload == 0);
	ck_assert_str_eq(back->items[0]->message, "key k1 is not Active");
	kmip_msg_free(&back);
	/* In 2.0 the precise reason goes out. */
	m->version = KMIP_2_0;
	kmip_item_fail(it, m->version, KMIP_REASON_WRONG_KEY_LIFECYCLE_STATE,
	    "not Active");
	back = reencode(m, 1);
	ck_assert_uint_eq(back->items[0]->reason, 0x43);
	kmip_msg_free(&back);
	/* Object Already Exists is 1.4; Encoding Option Error 1.1. */
	m->version = KMIP_1_2;
	it->reason = KMIP_REASON_OBJECT_ALREADY_EXISTS;
	assert_refused(m, "Object Already Exists needs KMIP 1.4");
	ck_assert(kmip_reason_for_version(0x18, KMIP_1_2) == 0x07 &&
	    kmip_reason_for_version(0x12, KMIP_1_0) == 0x100 &&
	    kmip_reason_for_version(0x37, KMIP_1_4) == 0x01);
	/* A failure may echo an operation newer than the message. */
	it->op = 0x2C;
	kmip_item_fail(it, m->version, KMIP_REASON_OPERATION_NOT_SUPPORTED,
	    "Log is not supported");
	back = reencode(m, 1);
	ck_assert_uint_eq(back->items[0]->op, 0x2C);
	kmip_msg_free(&back);
	/* A failure needs a reason; a success needs an operation. */
	it->reason = 0;
	assert_refused(m, "has no Result Reason");
	it->status = KMIP_STATUS_SUCCESS;
	it->op = 0;
	assert_refused(m, "has no Operation");
	kmip_msg_free(&m);
}
END_TEST

START_TEST(test_version_dropped_fields)
{
	struct kmip_msg		*m, *back;
	struct kmip_item	*it;

	/* 2.0 has no Template-Attribute in Create responses: left out. */
	m = one(1, KMIP_2_0, KMIP_OP_CREATE, &it);
	it->p.object_type = KMIP_OBJ_SYMMETRIC_KEY;
	kmip_set_str(&it->p.uid, "1");
	it->p.attrs.has = KMIP_A_STATE;
	back = reencode(m, 1);
	ck_assert_uint_eq(back->items[0]->p.attrs.has, 0);
	kmip_msg_free(&back);
	m->version = KMIP_1_2;
	back = reencode(m, 1);
	ck_assert_uint_eq(back->items[0]->p.attrs.has, KMIP_A_STATE);
	kmip_msg_free(&back);
	kmip_msg_free(&m);
	/* Operation Policy Name does not exist in 2.0. */
	m = one(0, KMIP_2_0, KMIP_OP_CREATE, &it);
	it->p.object_type = KMIP_OBJ_SYMMETRIC_KEY;
	it->p.attrs.has = KMIP_A_POLICY_NAME | KMIP_A_LENGTH;
	kmip_set_str(&it->p.attrs.policy_name, "default");
	it->p.attrs.length = 256;
	back = reencode(m, 0);
	ck_assert_uint_eq(back->items[0]->p.attrs.has, KMIP_A_LENGTH);
	kmip_msg_free(&back);
	kmip_msg_free(&m);
}
END_TEST

/* Encode a hand-built tree as a request and decode it. */
static struct kmip_msg *
decode_tree(struct ttlv *top, int response)
{
	struct kmip_err	 err = { 0 };
	struct kmip_msg	*m;
	uint8_t		*buf;
	size_t		 len;

	ck_assert_int_eq(ttlv_encode(top, &buf, &len, &err), 0);
	ttlv_free(&top);
	ck_assert_msg(kmip_msg_decode(buf, len, response, NULL, &m, &err) == 0,
	    "%s", err.msg);
	free(buf);
	return m;
}

/* Request Message with header {version, batch count n}; returns top. */
static struct ttlv *
hand_request(uint32_t version, int32_t n, struct ttlv **h)
{
	struct ttlv	*top = ttlv_struct_new(KMIP_TAG_REQUEST_MESSAGE), *pv;

	*h = ttlv_add_struct(top, KMIP_TAG_REQUEST_HEADER);
	ttlv_add_int(*h, 0x540001, 7);		/* unknown vendor field */
	ttlv_add_int(*h, KMIP_TAG_BATCH_COUNT, n);
	pv = ttlv_add_struct(*h, KMIP_TAG_PROTOCOL_VERSION);
	ttlv_add_int(pv, KMIP_TAG_PROTOCOL_VERSION_MINOR,
	    KMIP_VER_MINOR(version));
	ttlv_add_int(pv, KMIP_TAG_PROTOCOL_VERSION_MAJOR,
	    KMIP_VER_MAJOR(version));
	return top;
}

START_TEST(test_tolerant_accepting)
{
	struct ttlv		*top, *h, *bi, *pl, *ta, *at;
	struct kmip_msg		*m;
	struct kmip_payload	*p;

	/* 1.4 Create: fields out of order, Attribute Index, unknown tags. */
	top = hand_request(KMIP_1_4, 1, &h);
	bi = ttlv_add_struct(top, KMIP_TAG_BATCH_ITEM);
	pl = ttlv_add_struct(bi, KMIP_TAG_REQUEST_PAYLOAD);
	ttlv_add_enum(bi, KMIP_TAG_OPERATION, KMIP_OP_CREATE);
	ta = ttlv_add_struct(pl, KMIP_TAG_TEMPLATE_ATTRIBUTE);
	ttlv_add_enum(pl, KMIP_TAG_OBJECT_TYPE, KMIP_OBJ_SYMMETRIC_KEY);
	ttlv_add_text(pl, 0x540002, "vendor");
	at = ttlv_add_struct(ta, KMIP_TAG_ATTRIBUTE);
	ttlv_add_int(at, KMIP_TAG_ATTRIBUTE_VALUE, 256);
	ttlv_add_int(at, KMIP_TAG_ATTRIBUTE_INDEX, 0);
	ttlv_add_text(at, KMIP_TAG_ATTRIBUTE_NAME, "Cryptographic Length");
	at = ttlv_add_struct(ta, KMIP_TAG_ATTRIBUTE);
	ttlv_add_text(at, KMIP_TAG_ATTRIBUTE_NAME, "Contact Information");
	ttlv_add_text(at, KMIP_TAG_ATTRIBUTE_VALUE, "ops");
	m = decode_tree(top, 0);
	p = &m->items[0]->p;
	ck_assert_uint_eq(m->version, KMIP_1_4);
	ck_assert_uint_eq(m->items[0]->err.reason, 0);
	ck_assert_uint_eq(p->object_type, KMIP_OBJ_SYMMETRIC_KEY);
	ck_assert_int_eq(p->attrs.length, 256);
	ck_assert_str_eq(p->attrs.unsupported, "Contact Information");
	kmip_msg_free(&m);

	/* 2.0: UID as Enumeration and as Integer; 1.x attributes inside. */
	top = hand_request(KMIP_2_0, 3, &h);
	bi = ttlv_add_struct(top, KMIP_TAG_BATCH_ITEM);
	ttlv_add_enum(bi, KMIP_TAG_OPERATION, KMIP_OP_ACTIVATE);
	ttlv_add_bytes(bi, KMIP_TAG_UNIQUE_BATCH_ITEM_ID, "a", 1);
	ttlv_add_enum(ttlv_add_struct(bi, KMIP_TAG_REQUEST_PAYLOAD),
	    KMIP_TAG_UNIQUE_IDENTIFIER, KMIP_UID_ID_PLACEHOLDER);
	bi = ttlv_add_struct(top, KMIP_TAG_BATCH_ITEM);
	ttlv_add_enum(bi, KMIP_TAG_OPERATION, KMIP_OP_GET);
	ttlv_add_int(ttlv_add_struct(bi, KMIP_TAG_REQUEST_PAYLOAD),
	    KMIP_TAG_UNIQUE_IDENTIFIER, 0);
	bi = ttlv_add_struct(top, KMIP_TAG_BATCH_ITEM);
	ttlv_add_enum(bi, KMIP_TAG_OPERATION, KMIP_OP_LOCATE);
	at = ttlv_add_struct(ttlv_add_struct(bi, KMIP_TAG_REQUEST_PAYLOAD),
	    KMIP_TAG_ATTRIBUTE);
	ttlv_add_text(at, KMIP_TAG_ATTRIBUTE_NAME, "State");
	ttlv_add_enum(at, KMIP_TAG_ATTRIBUTE_VALUE, KMIP_STATE_ACTIVE);
	m = decode_tree(top, 0);
	ck_assert(m->items[0]->p.has & KMIP_P_UID_ENUM);
	ck_assert(bytes_eq(&m->items[0]->batch_id, "a", 1));
	ck_assert(m->items[1]->p.has & KMIP_P_UID_INDEX);
	ck_assert_uint_eq(m->items[2]->p.attrs.state, KMIP_STATE_ACTIVE);
	kmip_msg_free(&m);
}
END_TEST

START_TEST(test_batches)
{
	struct ttlv		*top, *h, *bi;
	struct kmip_msg		*m, *back;
	struct kmip_item	*it;
	struct kmip_err		 err = { 0 };
	uint8_t			*buf;
	size_t			 len;

	/* Several items need batch ids; ids and order survive. */
	m = kmip_msg_new(0, KMIP_1_2);
	kmip_set_str(&kmip_msg_add(m, KMIP_OP_GET)->p.uid, "1");
	kmip_set_str(&kmip_msg_add(m, KMIP_OP_DESTROY)->p.uid, "2");
	assert_refused(m, "no Unique Batch Item ID");
	kmip_bytes_set(&m->items[0]->batch_id, "\x01\x02", 2);
	kmip_bytes_set(&m->items[1]->batch_id, "", 0);
	m->has |= KMIP_H_BATCH_ERROR | KMIP_H_BATCH_ORDER |
	    KMIP_H_MAX_RESPONSE_SIZE;
	m->batch_error = KMIP_BATCH_CONTINUE;
	m->batch_order = 1;
	m->max_response_size = 4096;
	back = reencode(m, 0);
	ck_assert_uint_eq(back->nitems, 2);
	ck_assert(bytes_eq(&back->items[0]->batch_id, "\x01\x02", 2));
	ck_assert(bytes_eq(&back->items[1]->batch_id, "", 0));
	ck_assert_str_eq(back->items[1]->p.uid, "2");
	ck_assert_uint_eq(back->batch_error, KMIP_BATCH_CONTINUE);
	ck_assert_int_eq(back->max_response_size, 4096);
	kmip_msg_free(&back);
	kmip_msg_free(&m);

	/* One bad item does not spoil the batch. */
	top = hand_request(KMIP_1_2, 2, &h);
	bi = ttlv_add_struct(top, KMIP_TAG_BATCH_ITEM);
	ttlv_add_enum(bi, KMIP_TAG_OPERATION, KMIP_OP_CREATE);
	ttlv_add_struct(bi, KMIP_TAG_REQUEST_PAYLOAD);
	bi = ttlv_add_struct(top, KMIP_TAG_BATCH_ITEM);
	ttlv_add_enum(bi, KMIP_TAG_OPERATION, KMIP_OP_QUERY);
	ttlv_add_enum(ttlv_add_struct(bi, KMIP_TAG_REQUEST_PAYLOAD),
	    KMIP_TAG_QUERY_FUNCTION, KMIP_QUERY_OPERATIONS);
	m = decode_tree(top, 0);
	ck_assert_uint_eq(m->items[0]->err.reason, KMIP_REASON_INVALID_MESSAGE);
	ck_assert_msg(strstr(m->items[0]->err.msg, "Create request has no "
	    "Object Type") != NULL, "%s", m->items[0]->err.msg);
	ck_assert_uint_eq(m->items[1]->err.reason, 0);
	ck_assert_uint_eq(m->items[1]->p.nfuncs, 1);
	kmip_msg_free(&m);

	/* A Batch Count that does not match the items is refused. */
	top = hand_request(KMIP_1_2, 3, &h);
	bi = ttlv_add_struct(top, KMIP_TAG_BATCH_ITEM);
	ttlv_add_enum(bi, KMIP_TAG_OPERATION, KMIP_OP_QUERY);
	ck_assert_int_eq(ttlv_encode(top, &buf, &len, &err), 0);
	ck_assert_int_eq(kmip_msg_decode(buf, len, 0, NULL, &m, &err), -1);
	ck_assert_msg(strstr(err.msg, "Batch Count is 3") != NULL, "%s",
	    err.msg);
	/* The version is known even though the message is refused. */
	ck_assert_uint_eq(err.version, KMIP_1_2);
	ck_assert_ptr_null(m);
	free(buf);
	ttlv_free(&top);
	/* A response is not a request. */
	it = NULL;
	m = one(1, KMIP_1_2, KMIP_OP_QUERY, &it);
	it->status = KMIP_STATUS_SUCCESS;
	ck_assert_int_eq(kmip_msg_encode(m, &buf, &len, &err), 0);
	kmip_msg_free(&m);
	ck_assert_int_eq(kmip_msg_decode(buf, len, 0, NULL, &m, &err), -1);
	ck_assert_msg(strstr(err.msg, "expected a Request Message") != NULL,
	    "%s", err.msg);
	/* Responses get a Time Stamp even when the caller set none. */
	ck_assert_int_eq(kmip_msg_decode(buf, len, 1, NULL, &m, &err), 0);
	ck_assert(m->has & KMIP_H_TIME_STAMP);
	ck_assert(m->time_stamp > 1600000000);
	kmip_msg_free(&m);
	free(buf);
}
END_TEST

/*
 * Limits: hostile messages.
 */

/* Encode a request with n Query items and batch count count. */
static uint8_t *
many_items(size_t n, int32_t count, size_t *len)
{
	struct kmip_err	 err = { 0 };
	struct ttlv	*top, *h;
	uint8_t		*buf;
	size_t		 i;

	top = hand_request(KMIP_1_2, count, &h);
	for (i = 0; i < n; i++)
		ttlv_add_enum(ttlv_add_struct(top, KMIP_TAG_BATCH_ITEM),
		    KMIP_TAG_OPERATION, KMIP_OP_QUERY);
	ck_assert_msg(ttlv_encode(top, &buf, len, &err) == 0, "%s", err.msg);
	ttlv_free(&top);
	return buf;
}

/* Decoding must fail mentioning want. */
static void
assert_decode_refused(const uint8_t *buf, size_t len,
    const struct ttlv_limits *lim, const char *want)
{
	struct kmip_err	 err = { 0 };
	struct kmip_msg	*m;

	ck_assert_int_eq(kmip_msg_decode(buf, len, 0, lim, &m, &err), -1);
	ck_assert_ptr_null(m);
	ck_assert_msg(strstr(err.msg, want) != NULL, "\"%s\" lacks \"%s\"",
	    err.msg, want);
}

START_TEST(test_hostile_batches)
{
	struct ttlv_limits	 big = { 16 << 20, 32, 1 << 20 };
	struct ttlv		*top, *h;
	struct kmip_err		 err = { 0 };
	uint8_t			*buf;
	size_t			 len;
	int			 i;

	/* 100,000 items: over the size, item and batch limits in turn. */
	buf = many_items(100000, 100000, &len);
	assert_decode_refused(buf, len, NULL, "exceeds the limit");
	big.max_items = TTLV_MAX_ITEMS;
	assert_decode_refused(buf, len, &big, "more than 65536 items");
	big.max_items = 1 << 20;
	assert_decode_refused(buf, len, &big, "1 to 1024 allowed");
	free(buf);
	buf = many_items(1, INT32_MAX, &len);
	assert_decode_refused(buf, len, NULL, "Batch Count is 2147483647");
	free(buf);
	buf = many_items(1, -1, &len);
	assert_decode_refused(buf, len, NULL, "Batch Count is -1");
	free(buf);

	/* Structures nested 10,000 deep under a Request Message. */
	buf = calloc(10000, 8);
	ck_assert_ptr_nonnull(buf);
	for (i = 0; i < 10000; i++) {
		memcpy(buf + i * 8, i ? "\x42\x01\x25\x01" : "\x42\x00\x78\x01",
		    4);
		be32_put(buf + i * 8 + 4, (uint32_t)((9999 - i) * 8));
	}
	assert_decode_refused(buf, 80000, NULL, "deeper than 32");
	free(buf);

	/* Protocol versions that are not 1.x or 2.x, or not numbers. */
	top = hand_request(KMIP_VER(3, 0), 1, &h);
	ttlv_add_enum(ttlv_add_struct(top, KMIP_TAG_BATCH_ITEM),
	    KMIP_TAG_OPERATION, KMIP_OP_QUERY);
	ck_assert_int_eq(ttlv_encode(top, &buf, &len, &err), 0);
	ttlv_free(&top);
	ck_assert_int_eq(kmip_msg_decode(buf, len, 0, NULL,
	    &(struct kmip_msg *){ NULL }, &err), -1);
	ck_assert_msg(strstr(err.msg, "major version 3") != NULL, "%s",
	    err.msg);
	ck_assert_uint_eq(err.version, KMIP_VER(3, 0));
	free(buf);
}
END_TEST

/* Deterministic xorshift, so a failure can be replayed. */
static uint32_t
rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/*
 * Random corruption of real messages.  Whatever the TTLV decoder accepts
 * re-encodes to the same bytes (its rules allow one encoding per tree);
 * whatever the message decoder accepts encodes again without misbehaving.
 */
START_TEST(test_msg_corruption)
{
	static const char *const names[] = { "oasis-tc-3.1.1-create-req",
	    "oasis-tc-3.1.3-get-resp", "oasis-tc-3.1.3-locate-req" };
	struct kmip_err	 err;
	struct kmip_msg	*m;
	struct ttlv	*t;
	uint32_t	 seed = 0x4b4d4950;
	uint8_t		*v, *c, *out;
	size_t		 len, olen, i, k, f, same = 0;

	for (i = 0; i < 3; i++) {
		v = load_vec(names[i], &len);
		c = malloc(len);
		ck_assert_ptr_nonnull(c);
		for (k = 0; k < 4000; k++) {
			memcpy(c, v, len);
			for (f = 1 + rnd(&seed) % 3; f > 0; f--)
				c[rnd(&seed) % len] ^= (uint8_t)(1 +
				    rnd(&seed) % 255);
			if (ttlv_decode(c, len, NULL, &t, &err) == 0) {
				ck_assert_int_eq(ttlv_encode(t, &out, &olen,
				    &err), 0);
				ck_assert(olen == len && !memcmp(out, c, len));
				free(out);
				ttlv_free(&t);
				same++;
			}
			memset(&err, 0, sizeof(err));
			if (kmip_msg_decode(c, len, i == 1, NULL, &m, &err) ==
			    -1) {
				ck_assert(err.msg[0] != '\0');
				continue;
			}
			if (kmip_msg_encode(m, &out, &olen, &err) == 0)
				free(out);
			kmip_msg_free(&m);
		}
		free(c);
		free(v);
	}
	ck_assert_uint_gt(same, 0);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("kmip_msg");
	TCase	*tc;

	tc = tcase_create("Vectors");
	tcase_add_test(tc, test_tc_create_destroy);
	tcase_add_test(tc, test_tc_locate_get);
	tcase_add_test(tc, test_vectors_unsupported);
	suite_add_tcase(s, tc);
	tc = tcase_create("Rules");
	tcase_add_test(tc, test_strict_sending);
	tcase_add_test(tc, test_result_reasons);
	tcase_add_test(tc, test_version_dropped_fields);
	tcase_add_test(tc, test_tolerant_accepting);
	tcase_add_test(tc, test_batches);
	suite_add_tcase(s, tc);
	tc = tcase_create("Limits");
	tcase_set_timeout(tc, TEST_TIMEOUT);
	tcase_add_test(tc, test_hostile_batches);
	tcase_add_test(tc, test_msg_corruption);
	suite_add_tcase(s, tc);
	return check_run(s, NULL);
}
