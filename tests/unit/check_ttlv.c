/*
 * check_ttlv.c - unit tests for the TTLV codec (common/kmip/ttlv*.c).
 *
 * "Spec": the KMIP specification's own encoding examples (KMIP 1.2 section
 * 9.1.2, data/kmip/spec-*.hex via KF_TEST_DATA) decode to the stated values
 * and the builders reproduce them byte for byte.  "Tree": round trips of
 * every item type and edge value, finders, copies, the sticky builder
 * error, the streaming helper and the dump's redaction.  "Limits": every
 * truncation of a valid message, lengths up to 2^32-1, nesting 10,000 deep,
 * 100,000 items, bad padding, bad Booleans, wrong fixed lengths, unknown
 * types and tags and invalid UTF-8 are all refused with a sentence, within
 * bounded memory.  (Random corruption: check_kmip_msg.c and the fuzzer.)
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "check_main.h"
#include "kmip/kmip.h"
#include "util.h"

#define TEST_TIMEOUT	120

/* Read data/kmip/<name>.hex (spec notation, # comments) into *len bytes. */
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

/* Encode it and compare with want; a mismatch names the first byte. */
static void
assert_encodes_to(const struct ttlv *it, const uint8_t *want, size_t wlen,
    const char *what)
{
	struct kmip_err	 err = { 0 };
	uint8_t		*buf;
	size_t		 len, i;

	ck_assert_msg(ttlv_encode(it, &buf, &len, &err) == 0,
	    "%s: encode failed: %s", what, err.msg);
	if (len != wlen || memcmp(buf, want, len) != 0) {
		for (i = 0; i < len && i < wlen && buf[i] == want[i]; i++)
			;
		ck_abort_msg("%s: encoding differs at byte %zu (got %zu bytes, "
		    "want %zu)", what, i, len, wlen);
	}
	free(buf);
}

/* Decode buf, expecting failure; returns the error for further checks. */
static struct kmip_err
expect_reject(const uint8_t *buf, size_t len, const struct ttlv_limits *lim,
    const char *what)
{
	struct kmip_err	 err = { 0 };
	struct ttlv	*it = (struct ttlv *)1;

	ck_assert_msg(ttlv_decode(buf, len, lim, &it, &err) == -1,
	    "%s: accepted", what);
	ck_assert_msg(it == NULL, "%s: *out not cleared", what);
	ck_assert_msg(err.msg[0] != '\0', "%s: no error sentence", what);
	ck_assert_msg(err.reason != 0, "%s: no result reason", what);
	return err;
}

static struct ttlv *
expect_decode(const uint8_t *buf, size_t len)
{
	struct kmip_err	 err = { 0 };
	struct ttlv	*it = NULL;

	ck_assert_msg(ttlv_decode(buf, len, NULL, &it, &err) == 0,
	    "decode failed: %s", err.msg);
	ck_assert_ptr_nonnull(it);
	return it;
}

/*
 * Spec: KMIP 1.2 section 9.1.2.
 */

/* One example: its file, and the item it encodes. */
static const struct spec_vec {
	const char	*name;		/* data/kmip/<name>.hex */
	uint32_t	 tag;		/* item tag */
	enum ttlv_type	 type;		/* item type */
	int64_t		 v;		/* numeric value */
	const char	*s;		/* bytes (a Big Integer unpadded) */
	size_t		 slen;		/* bytes in s */
} spec_vecs[] = {
	{ "spec-integer", 0x420020, TTLV_INT, 8, NULL, 0 },
	{ "spec-long", 0x420020, TTLV_LONG, 123456789000000000LL, NULL, 0 },
	{ "spec-bigint", 0x420020, TTLV_BIGINT, 0,
	    "\x03\xfd\x35\xeb\x6b\xc2\xdf\x46\x18\x08\x00\x00", 12 },
	{ "spec-enum", 0x420020, TTLV_ENUM, 255, NULL, 0 },
	{ "spec-bool", 0x420020, TTLV_BOOL, 1, NULL, 0 },
	{ "spec-text", 0x420020, TTLV_TEXT, 0, "Hello World", 11 },
	{ "spec-bytes", 0x420020, TTLV_BYTES, 0, "\1\2\3", 3 },
	/* Friday, March 14, 2008, 11:56:40 GMT */
	{ "spec-datetime", 0x420020, TTLV_DATETIME, 1205495800, NULL, 0 },
	/* 10 days */
	{ "spec-interval", 0x420020, TTLV_INTERVAL, 864000, NULL, 0 },
	/* 2017-11-20T05:20:40.345567Z (KMIP 2.0's type) */
	{ "spec-datetime-ext", 0x420001, TTLV_DATETIME_EXT,
	    1511155240345567LL, NULL, 0 },
};

/* Add the example's item to parent with the builder for its type. */
static struct ttlv *
spec_build(struct ttlv *parent, const struct spec_vec *e)
{
	switch (e->type) {
	case TTLV_INT:
		return ttlv_add_int(parent, e->tag, (int32_t)e->v);
	case TTLV_LONG:
		return ttlv_add_long(parent, e->tag, e->v);
	case TTLV_BIGINT:
		return ttlv_add_bigint(parent, e->tag, (const uint8_t *)e->s,
		    e->slen);
	case TTLV_ENUM:
		return ttlv_add_enum(parent, e->tag, (uint32_t)e->v);
	case TTLV_BOOL:
		return ttlv_add_bool(parent, e->tag, (int)e->v);
	case TTLV_TEXT:
		return ttlv_add_textn(parent, e->tag, e->s, e->slen);
	case TTLV_BYTES:
		return ttlv_add_bytes(parent, e->tag, e->s, e->slen);
	case TTLV_DATETIME:
		return ttlv_add_datetime(parent, e->tag, e->v);
	case TTLV_INTERVAL:
		return ttlv_add_interval(parent, e->tag, (uint32_t)e->v);
	default:
		return ttlv_add_datetime_ext(parent, e->tag, e->v);
	}
}

START_TEST(test_spec_examples)
{
	const struct spec_vec	*e = &spec_vecs[_i];
	struct ttlv		*it, *root = ttlv_struct_new(0x420001);
	uint8_t			*v;
	size_t			 len, pad;

	v = load_vec(e->name, &len);
	it = expect_decode(v, len);
	ck_assert_uint_eq(it->tag, e->tag);
	ck_assert_int_eq(it->type, e->type);
	if (e->s != NULL) {
		/* A Big Integer keeps its sign padding (zeros here). */
		pad = it->v.s.len - e->slen;
		ck_assert_uint_eq(it->v.s.len, e->type == TTLV_BIGINT ?
		    (e->slen + 7) / 8 * 8 : e->slen);
		ck_assert_mem_eq(it->v.s.p + pad, e->s, e->slen);
	} else if (e->type == TTLV_INT)
		ck_assert_int_eq(it->v.i, e->v);
	else if (e->type == TTLV_ENUM || e->type == TTLV_INTERVAL)
		ck_assert_uint_eq(it->v.e, e->v);
	else if (e->type == TTLV_BOOL)
		ck_assert_int_eq(it->v.b, e->v);
	else
		ck_assert(it->v.l == e->v);
	/* The builders reproduce the specification's bytes. */
	assert_encodes_to(spec_build(root, e), v, len, e->name);
	ttlv_free(&root);
	ttlv_free(&it);
	free(v);
}
END_TEST

START_TEST(test_spec_structure)
{
	struct ttlv	*it, *s;
	uint8_t		*v;
	size_t		 len;

	v = load_vec("spec-struct", &len);
	it = expect_decode(v, len);
	ck_assert(it->type == TTLV_STRUCT && it->nchild == 2);
	ck_assert(it->child->type == TTLV_ENUM && it->child->v.e == 254);
	ck_assert(it->last->type == TTLV_INT && it->last->v.i == 255);
	s = ttlv_struct_new(0x420020);
	ttlv_add_enum(s, 0x420004, 254);
	ttlv_add_int(s, 0x420005, 255);
	assert_encodes_to(s, v, len, "structure");
	ck_assert_uint_eq(ttlv_encoded_len(s), len);
	ttlv_free(&s);
	ttlv_free(&it);
	free(v);
}
END_TEST

/*
 * Tree: round trips, finders, builders.
 */

/* Compare two trees item by item. */
static void
assert_same_tree(const struct ttlv *a, const struct ttlv *b)
{
	const struct ttlv	*ca, *cb;

	ck_assert_uint_eq(a->tag, b->tag);
	ck_assert_int_eq(a->type, b->type);
	switch (a->type) {
	case TTLV_STRUCT:
		ck_assert_uint_eq(a->nchild, b->nchild);
		for (ca = a->child, cb = b->child; ca && cb;
		    ca = ca->next, cb = cb->next)
			assert_same_tree(ca, cb);
		ck_assert(ca == NULL && cb == NULL);
		break;
	case TTLV_TEXT:
	case TTLV_BYTES:
	case TTLV_BIGINT:
		ck_assert_uint_eq(a->v.s.len, b->v.s.len);
		ck_assert_mem_eq(a->v.s.p, b->v.s.p, a->v.s.len);
		break;
	case TTLV_INT:
		ck_assert_int_eq(a->v.i, b->v.i);
		break;
	case TTLV_ENUM:
	case TTLV_INTERVAL:
		ck_assert_uint_eq(a->v.e, b->v.e);
		break;
	case TTLV_BOOL:
		ck_assert_int_eq(a->v.b, b->v.b);
		break;
	default:
		ck_assert(a->v.l == b->v.l);
		break;
	}
}

/* Encode, decode, compare, re-encode: the same bytes. */
static void
roundtrip(const struct ttlv *t)
{
	struct kmip_err	 err = { 0 };
	struct ttlv	*back;
	uint8_t		*buf;
	size_t		 len;

	ck_assert_msg(ttlv_encode(t, &buf, &len, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(len % 8, 0);
	ck_assert_uint_eq(len, ttlv_encoded_len(t));
	back = expect_decode(buf, len);
	assert_same_tree(t, back);
	assert_encodes_to(back, buf, len, "re-encode");
	ttlv_free(&back);
	free(buf);
}

START_TEST(test_roundtrip_types)
{
	static const uint8_t	 neg[] = { 0x80 }, pos9[] = { 1, 2, 3, 4, 5,
				    6, 7, 8, 9 };
	uint8_t			 bytes[17];
	struct ttlv		*t, *s;
	size_t			 n;

	memset(bytes, 0xa5, sizeof(bytes));
	t = ttlv_struct_new(0x420078);
	ttlv_add_int(t, 0x420020, INT32_MIN);
	ttlv_add_int(t, 0x420020, INT32_MAX);
	ttlv_add_int(t, 0x420020, -1);
	ttlv_add_long(t, 0x420021, INT64_MIN);
	ttlv_add_long(t, 0x420021, INT64_MAX);
	ttlv_add_bigint(t, 0x420022, neg, 1);
	ttlv_add_bigint(t, 0x420022, pos9, sizeof(pos9));
	ttlv_add_enum(t, 0x420023, 0);
	ttlv_add_enum(t, 0x420023, 0x80000001);
	ttlv_add_bool(t, 0x420024, 0);
	ttlv_add_bool(t, 0x420024, 1);
	ttlv_add_text(t, 0x420025, "");
	ttlv_add_text(t, 0x420025, "h\xc3\xa9llo \xe2\x82\xac "
	    "\xf0\x9f\x94\x91");
	for (n = 0; n <= sizeof(bytes); n++)
		ttlv_add_bytes(t, 0x420026, bytes, n);
	ttlv_add_datetime(t, 0x420027, -1);
	ttlv_add_datetime(t, 0x420027, 0x4F9A54E5);
	ttlv_add_interval(t, 0x420028, UINT32_MAX);
	ttlv_add_datetime_ext(t, 0x420029, 1511155240345567LL);
	ttlv_add_struct(t, 0x420079);		/* empty structure */
	s = ttlv_add_struct(ttlv_add_struct(t, 0x54000A), 0x54000B);
	ttlv_add_text(s, 0x54000C, "vendor extension tags");
	roundtrip(t);
	ttlv_free(&t);
}
END_TEST

START_TEST(test_bigint_sign)
{
	static const uint8_t	 neg[] = { 0x80 }, pos[] = { 0x7f },
				 nine[] = { 0xff, 1, 2, 3, 4, 5, 6, 7, 8 };
	struct ttlv		*t = ttlv_struct_new(0x420001), *it;

	it = ttlv_add_bigint(t, 0x420020, neg, 1);
	ck_assert_uint_eq(it->v.s.len, 8);
	ck_assert_mem_eq(it->v.s.p, "\xff\xff\xff\xff\xff\xff\xff\x80", 8);
	it = ttlv_add_bigint(t, 0x420020, pos, 1);
	ck_assert_mem_eq(it->v.s.p, "\0\0\0\0\0\0\0\x7f", 8);
	it = ttlv_add_bigint(t, 0x420020, nine, 9);
	ck_assert_uint_eq(it->v.s.len, 16);
	ck_assert_mem_eq(it->v.s.p, "\xff\xff\xff\xff\xff\xff\xff\xff", 8);
	ck_assert_ptr_null(ttlv_add_bigint(t, 0x420020, neg, 0));
	ck_assert_int_eq(t->bad, 1);
	ttlv_free(&t);
}
END_TEST

START_TEST(test_finders)
{
	struct kmip_err	 err = { 0 };
	struct ttlv	*t = ttlv_struct_new(0x420078), *it;
	int32_t		 i = 0;
	uint32_t	 e = 0;
	int64_t		 l = 0;
	char		*s = NULL;
	uint8_t		*b = NULL;
	size_t		 blen = 0;
	int		 v = 0;

	ttlv_add_int(t, KMIP_TAG_CRYPTO_LENGTH, 256);
	ttlv_add_text(t, KMIP_TAG_NAME_VALUE, "pool1");
	ttlv_add_text(t, KMIP_TAG_NAME_VALUE, "pool2");
	ttlv_add_datetime_ext(t, KMIP_TAG_INITIAL_DATE, 5000001);
	ttlv_add_bytes(t, KMIP_TAG_DATA, "\0\1", 2);
	ttlv_add_bool(t, KMIP_TAG_RANDOM_IV, 1);
	ck_assert_int_eq(ttlv_find_int(t, KMIP_TAG_CRYPTO_LENGTH, &i, &err), 1);
	ck_assert_int_eq(i, 256);
	ck_assert_int_eq(ttlv_find_int(t, KMIP_TAG_TAG_LENGTH, &i, &err), 0);
	ck_assert_int_eq(ttlv_find_enum(t, KMIP_TAG_CRYPTO_LENGTH, &e, &err),
	    -1);
	ck_assert_uint_eq(err.reason, KMIP_REASON_INVALID_FIELD);
	ck_assert_msg(strstr(err.msg, "Cryptographic Length") != NULL &&
	    strstr(err.msg, "Integer") != NULL &&
	    strstr(err.msg, "Enumeration") != NULL, "%s", err.msg);
	ck_assert_int_eq(ttlv_find_text(t, KMIP_TAG_NAME_VALUE, &s, &err), 1);
	ck_assert_str_eq(s, "pool1");
	free(s);
	ck_assert_uint_eq(ttlv_count(t, KMIP_TAG_NAME_VALUE), 2);
	it = ttlv_find(t, KMIP_TAG_NAME_VALUE);
	it = ttlv_find_next(t, it, KMIP_TAG_NAME_VALUE);
	ck_assert_str_eq((char *)it->v.s.p, "pool2");
	ck_assert_ptr_null(ttlv_find_next(t, it, KMIP_TAG_NAME_VALUE));
	/* A Date-Time Extended is read as seconds where a date is wanted. */
	ck_assert_int_eq(ttlv_find_datetime(t, KMIP_TAG_INITIAL_DATE, &l,
	    &err), 1);
	ck_assert(l == 5);
	ck_assert_int_eq(ttlv_find_long(t, KMIP_TAG_INITIAL_DATE, &l, &err),
	    -1);
	ck_assert_int_eq(ttlv_find_bytes(t, KMIP_TAG_DATA, &b, &blen, &err), 1);
	ck_assert_uint_eq(blen, 2);
	ck_assert_mem_eq(b, "\0\1", 2);
	free(b);
	ck_assert_int_eq(ttlv_find_bool(t, KMIP_TAG_RANDOM_IV, &v, &err), 1);
	ck_assert_int_eq(v, 1);
	/* Finders on NULL or a primitive find nothing. */
	ck_assert_ptr_null(ttlv_find(NULL, KMIP_TAG_DATA));
	ck_assert_ptr_null(ttlv_find(it, KMIP_TAG_DATA));
	ttlv_free(&t);
}
END_TEST

START_TEST(test_builders_sticky)
{
	struct kmip_err	 err = { 0 };
	struct ttlv	*t = ttlv_struct_new(0x420078), *leaf, *cp;
	uint8_t		*buf = (uint8_t *)1;
	size_t		 len = 1;

	leaf = ttlv_add_int(t, 0x420020, 1);
	/* NULL parents are no-ops: a failure higher up was recorded. */
	ck_assert_ptr_null(ttlv_add_int(NULL, 0x420020, 1));
	ck_assert_ptr_null(ttlv_add_struct(NULL, 0x420020));
	ck_assert_ptr_null(ttlv_add_text(NULL, 0x420020, "x"));
	/* A primitive cannot have children: the parent is marked. */
	ck_assert_ptr_null(ttlv_add_int(leaf, 0x420020, 2));
	ck_assert_int_eq(leaf->bad, 1);
	ck_assert_int_eq(ttlv_encode(t, &buf, &len, &err), -1);
	ck_assert_ptr_null(buf);
	ck_assert_uint_eq(len, 0);
	ck_assert_msg(strstr(err.msg, "could not be built") != NULL, "%s",
	    err.msg);
	ck_assert_uint_eq(ttlv_encoded_len(t), 0);
	ttlv_free(&t);
	ck_assert_ptr_null(t);
	ttlv_free(&t);
	ttlv_free(NULL);

	/* ttlv_dup copies deeply; ttlv_adopt takes ownership. */
	t = ttlv_struct_new(0x420078);
	ttlv_add_text(ttlv_add_struct(t, 0x420079), 0x420094, "uid");
	cp = ttlv_dup(t, 0x42007C);
	ck_assert_uint_eq(cp->tag, 0x42007C);
	ck_assert_str_eq((char *)cp->child->child->v.s.p, "uid");
	ck_assert_ptr_ne(cp->child->child->v.s.p, t->child->child->v.s.p);
	ck_assert_ptr_nonnull(ttlv_adopt(t, &cp));
	ck_assert_ptr_null(cp);
	ck_assert_uint_eq(t->nchild, 2);
	roundtrip(t);
	ttlv_free(&t);
}
END_TEST

START_TEST(test_frame_need)
{
	struct ttlv_limits	 lim = { 4096, 8, 100 };
	struct kmip_err		 err = { 0 };
	uint8_t			 hdr[8] = { 0x42, 0x00, 0x78, 0x01,
				    0x00, 0x00, 0x01, 0x20 };
	size_t			 need = 99;

	ck_assert_int_eq(ttlv_frame_need(hdr, NULL, &need, &err), 0);
	ck_assert_uint_eq(need, 0x120);
	hdr[3] = TTLV_TEXT;
	ck_assert_int_eq(ttlv_frame_need(hdr, NULL, &need, &err), -1);
	ck_assert_uint_eq(need, 0);
	hdr[3] = TTLV_STRUCT;
	hdr[7] = 0x21;
	ck_assert_int_eq(ttlv_frame_need(hdr, NULL, &need, &err), -1);
	/* 2^32-1 bytes refused before anything is allocated. */
	memset(hdr + 4, 0xff, 4);
	ck_assert_int_eq(ttlv_frame_need(hdr, NULL, &need, &err), -1);
	hdr[7] = 0xf8;
	ck_assert_int_eq(ttlv_frame_need(hdr, NULL, &need, &err), -1);
	ck_assert_msg(strstr(err.msg, "exceeds the limit") != NULL, "%s",
	    err.msg);
	/* The configured maximum counts the 8-byte header. */
	be32_put(hdr + 4, 4096 - 8);
	ck_assert_int_eq(ttlv_frame_need(hdr, &lim, &need, &err), 0);
	be32_put(hdr + 4, 4096);
	ck_assert_int_eq(ttlv_frame_need(hdr, &lim, &need, &err), -1);
	/* Not KMIP at all (e.g. an HTTP or TLS record). */
	memcpy(hdr, "GET / HT", 8);
	ck_assert_int_eq(ttlv_frame_need(hdr, NULL, &need, &err), -1);
	ck_assert_msg(strstr(err.msg, "speaking KMIP") != NULL, "%s", err.msg);
}
END_TEST

START_TEST(test_dump_redacts)
{
	static const uint8_t	 key[4] = { 0xde, 0xad, 0xbe, 0xef };
	static const uint8_t	 iv[4] = { 0x01, 0x02, 0x03, 0x04 };
	struct ttlv		*t = ttlv_struct_new(KMIP_TAG_KEY_VALUE);
	char			*s;

	ttlv_add_bytes(t, KMIP_TAG_KEY_MATERIAL, key, sizeof(key));
	ttlv_add_text(t, KMIP_TAG_PASSWORD, "hunter2");
	ttlv_add_bytes(t, KMIP_TAG_IV_COUNTER_NONCE, iv, sizeof(iv));
	ttlv_add_int(t, KMIP_TAG_CRYPTO_LENGTH, 256);
	s = ttlv_dump_string(t);
	ck_assert_ptr_nonnull(s);
	ck_assert_msg(strstr(s, "Key Material (0x420043) Byte String "
	    "<4 bytes redacted>") != NULL, "%s", s);
	ck_assert_msg(strstr(s, "deadbeef") == NULL, "key leaked: %s", s);
	ck_assert_msg(strstr(s, "hunter2") == NULL, "password leaked: %s", s);
	/* What is not secret shows. */
	ck_assert_msg(strstr(s, "01020304") != NULL, "%s", s);
	ck_assert_msg(strstr(s, "Cryptographic Length (0x42002A) Integer 256")
	    != NULL, "%s", s);
	free(s);
	ttlv_free(&t);
}
END_TEST

/*
 * Limits: hostile input.
 */

/*
 * Every truncation is refused by the TTLV decoder and, for the two
 * messages (names[3], a request, and names[4], a response), by the message
 * decoder too.
 */
START_TEST(test_every_truncation)
{
	static const char *const names[] = { "spec-struct", "spec-text",
	    "spec-bigint", "oasis-tc-3.1.1-create-req",
	    "oasis-tc-3.1.3-get-resp" };
	struct kmip_err	 err;
	struct kmip_msg	*m;
	struct ttlv	*it;
	uint8_t		*v, *cut;
	size_t		 len, n, i;
	char		 what[80];

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		v = load_vec(names[i], &len);
		it = expect_decode(v, len);
		ttlv_free(&it);
		for (n = 0; n < len; n++) {
			/* Exactly n bytes, so ASan would see an overread. */
			cut = malloc(n ? n : 1);
			ck_assert_ptr_nonnull(cut);
			memcpy(cut, v, n);
			snprintf(what, sizeof(what), "%s cut to %zu", names[i],
			    n);
			expect_reject(cut, n, NULL, what);
			memset(&err, 0, sizeof(err));
			m = (struct kmip_msg *)1;
			ck_assert_msg(i < 3 || (kmip_msg_decode(cut, n, i == 4,
			    NULL, &m, &err) == -1 && m == NULL &&
			    err.reason == KMIP_REASON_INVALID_MESSAGE &&
			    err.msg[0] != '\0'), "message %s", what);
			free(cut);
		}
		free(v);
	}
}
END_TEST

START_TEST(test_huge_lengths)
{
	struct ttlv_limits	lim = { 24, 32, 100 };
	uint8_t			buf[32];
	struct kmip_err		err;

	/* A Structure claiming 2^32-1 bytes. */
	memset(buf, 0, sizeof(buf));
	memcpy(buf, "\x42\x00\x78\x01\xff\xff\xff\xff", 8);
	err = expect_reject(buf, sizeof(buf), NULL, "struct 2^32-1");
	ck_assert_msg(strstr(err.msg, "4294967295") != NULL, "%s", err.msg);
	/* A Text String inside it claiming 2^32-1, and 2^32-8. */
	memcpy(buf, "\x42\x00\x78\x01\x00\x00\x00\x18", 8);
	memcpy(buf + 8, "\x42\x00\x55\x07\xff\xff\xff\xff", 8);
	expect_reject(buf, sizeof(buf), NULL, "text 2^32-1");
	memcpy(buf + 8, "\x42\x00\x55\x07\xff\xff\xff\xf8", 8);
	expect_reject(buf, sizeof(buf), NULL, "text 2^32-8");
	/* A length that only fits once padding is forgotten: 17 in 16. */
	memcpy(buf + 8, "\x42\x00\x55\x08\x00\x00\x00\x11", 8);
	expect_reject(buf, sizeof(buf), NULL, "bytes 17 in 16");
	/* Longer than the configured maximum. */
	memcpy(buf + 8, "\x42\x00\x55\x08\x00\x00\x00\x10", 8);
	ttlv_free((struct ttlv *[]){ expect_decode(buf, sizeof(buf)) });
	expect_reject(buf, sizeof(buf), &lim, "over max_len");
}
END_TEST

/* Peak resident set in KiB, for bounded-memory checks. */
static long
maxrss_kb(void)
{
	struct rusage	ru;

	ck_assert_int_eq(getrusage(RUSAGE_SELF, &ru), 0);
	return ru.ru_maxrss;
}

START_TEST(test_deep_nesting)
{
	const size_t	 depth = 10000;
	uint8_t		*buf = calloc(depth, 8);
	struct kmip_err	 err;
	struct ttlv	*it;
	size_t		 i;

	ck_assert_ptr_nonnull(buf);
	for (i = 0; i < depth; i++) {
		buf[i * 8] = 0x42;
		buf[i * 8 + 2] = 0x79;
		buf[i * 8 + 3] = TTLV_STRUCT;
		be32_put(buf + i * 8 + 4, (uint32_t)((depth - 1 - i) * 8));
	}
	err = expect_reject(buf, depth * 8, NULL, "10,000 deep");
	ck_assert_msg(strstr(err.msg, "deeper than 32") != NULL, "%s",
	    err.msg);
	/* Exactly the limit is fine; one more is not. */
	for (i = 0; i < 32; i++)
		be32_put(buf + i * 8 + 4, (uint32_t)((31 - i) * 8));
	it = expect_decode(buf, 32 * 8);
	ttlv_free(&it);
	for (i = 0; i < 33; i++)
		be32_put(buf + i * 8 + 4, (uint32_t)((32 - i) * 8));
	expect_reject(buf, 33 * 8, NULL, "33 deep");
	free(buf);
}
END_TEST

START_TEST(test_too_many_items)
{
	const size_t		 n = 100000;
	struct ttlv_limits	 lim = { 4 << 20, 32, TTLV_MAX_ITEMS };
	size_t			 len = 8 + n * 16, i;
	uint8_t			*buf = calloc(1, len);
	struct kmip_err		 err;
	long			 before;

	ck_assert_ptr_nonnull(buf);
	memcpy(buf, "\x42\x00\x78\x01", 4);
	be32_put(buf + 4, (uint32_t)(n * 16));
	for (i = 0; i < n; i++)
		memcpy(buf + 8 + i * 16, "\x42\x00\x0f\x02\x00\x00\x00\x04", 8);
	/* Over the default 1 MiB message limit. */
	expect_reject(buf, len, NULL, "100,000 items, default limits");
	before = maxrss_kb();
	err = expect_reject(buf, len, &lim, "100,000 items");
	ck_assert_msg(strstr(err.msg, "more than 65536 items") != NULL, "%s",
	    err.msg);
	/* 65,536 small nodes at most: far below 64 MiB. */
	ck_assert_msg(maxrss_kb() - before < 64 * 1024,
	    "decoder grew by %ld KiB", maxrss_kb() - before);
	free(buf);
}
END_TEST

/* Decode "42007801 len | item" where item is given in hex. */
static struct kmip_err
reject_item(const char *hex, const char *what)
{
	uint8_t		*item, *buf;
	size_t		 ilen;
	struct kmip_err	 err;

	ck_assert_int_eq(ttlv_hex_parse(hex, &item, &ilen), 0);
	buf = malloc(8 + ilen);
	ck_assert_ptr_nonnull(buf);
	memcpy(buf, "\x42\x00\x78\x01", 4);
	be32_put(buf + 4, (uint32_t)ilen);
	memcpy(buf + 8, item, ilen);
	err = expect_reject(buf, 8 + ilen, NULL, what);
	free(buf);
	free(item);
	return err;
}

/* data/kmip/hostile-items.txt: "words = hex" per line. */
START_TEST(test_bad_items)
{
	const char	*dir = getenv("KF_TEST_DATA");
	char		 path[4096], line[512], *eq;
	struct kmip_err	 err;
	FILE		*fp;
	int		 n = 0;

	ck_assert_ptr_nonnull(dir);
	snprintf(path, sizeof(path), "%s/kmip/hostile-items.txt", dir);
	ck_assert_msg((fp = fopen(path, "r")) != NULL, "cannot open %s", path);
	while (fgets(line, sizeof(line), fp) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#' || (eq = strstr(line, " = ")) == NULL)
			continue;
		*eq = '\0';
		err = reject_item(eq + 3, eq + 3);
		ck_assert_msg(strstr(err.msg, line) != NULL, "%s: \"%s\" lacks "
		    "\"%s\"", eq + 3, err.msg, line);
		ck_assert_uint_eq(err.reason, KMIP_REASON_INVALID_MESSAGE);
		n++;
	}
	fclose(fp);
	ck_assert_int_ge(n, 28);
}
END_TEST

START_TEST(test_trailing_bytes)
{
	uint8_t		*v, *buf;
	size_t		 len;
	struct kmip_err	 err;

	v = load_vec("spec-struct", &len);
	buf = calloc(1, len + 8);
	ck_assert_ptr_nonnull(buf);
	memcpy(buf, v, len);
	err = expect_reject(buf, len + 8, NULL, "trailing bytes");
	ck_assert_msg(strstr(err.msg, "unexpected bytes") != NULL, "%s",
	    err.msg);
	expect_reject(NULL, 0, NULL, "empty");
	free(buf);
	free(v);
}
END_TEST

START_TEST(test_encoder_refuses)
{
	struct kmip_err	 err = { 0 };
	struct ttlv	*t, *it, *s;
	uint8_t		*buf;
	size_t		 len;
	int		 i;

	t = ttlv_struct_new(0x420078);
	it = ttlv_add_bool(t, 0x420020, 1);
	it->v.b = 2;
	ck_assert_int_eq(ttlv_encode(t, &buf, &len, &err), -1);
	ck_assert_msg(strstr(err.msg, "Boolean") != NULL, "%s", err.msg);
	it->v.b = 1;
	ttlv_add_textn(t, KMIP_TAG_NAME_VALUE, "a\0b", 3);
	ck_assert_int_eq(ttlv_encode(t, &buf, &len, &err), -1);
	ck_assert_msg(strstr(err.msg, "UTF-8") != NULL, "%s", err.msg);
	ttlv_free(&t);

	/* The encoder never emits what the decoder would refuse. */
	t = ttlv_struct_new(0x420078);
	for (s = t, i = 0; i < 32; i++)
		s = ttlv_add_struct(s, 0x420079);
	ck_assert_int_eq(ttlv_encode(t, &buf, &len, &err), -1);
	ck_assert_msg(strstr(err.msg, "deeper") != NULL, "%s", err.msg);
	ttlv_free(&t);
	ck_assert_int_eq(ttlv_encode(NULL, &buf, &len, &err), -1);
}
END_TEST

static Suite *
ttlv_suite(void)
{
	Suite	*s = suite_create("ttlv");
	TCase	*tc;

	tc = tcase_create("Spec");
	tcase_add_loop_test(tc, test_spec_examples, 0,
	    (int)(sizeof(spec_vecs) / sizeof(spec_vecs[0])));
	tcase_add_test(tc, test_spec_structure);
	suite_add_tcase(s, tc);

	tc = tcase_create("Tree");
	tcase_add_test(tc, test_roundtrip_types);
	tcase_add_test(tc, test_bigint_sign);
	tcase_add_test(tc, test_finders);
	tcase_add_test(tc, test_builders_sticky);
	tcase_add_test(tc, test_frame_need);
	tcase_add_test(tc, test_dump_redacts);
	suite_add_tcase(s, tc);

	tc = tcase_create("Limits");
	tcase_set_timeout(tc, TEST_TIMEOUT);
	tcase_add_test(tc, test_every_truncation);
	tcase_add_test(tc, test_huge_lengths);
	tcase_add_test(tc, test_deep_nesting);
	tcase_add_test(tc, test_too_many_items);
	tcase_add_test(tc, test_bad_items);
	tcase_add_test(tc, test_trailing_bytes);
	tcase_add_test(tc, test_encoder_refuses);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(ttlv_suite(), NULL);
}
