/*
 * msg_payload.c - request and response payloads of the supported
 * operations (KMIP.md section 7), driven by one table.
 *
 * Each operation lists its request and response fields in the
 * specification's order, each with the version range that has it and
 * whether it is required.  Encoding walks the list: a field that is set but
 * newer than the message's version is an error, one that a newer version
 * dropped is left out, a required one that is missing is an error.
 * Decoding looks every listed field up by tag, in any order, ignores
 * unknown items, and checks only that required fields are there.
 */
#include <stdlib.h>
#include <string.h>

#include "msg_int.h"

/* Payload fields; see struct kmip_payload for where each lands. */
enum fld {
	F_UID, F_OBJTYPE, F_ATTRS_T, F_ATTRS_B, F_KEY, F_KEYFMT, F_KEYCOMP,
	F_WRAPSPEC, F_CPARAMS, F_DATA, F_IV, F_STREAM, F_AAD, F_TAG,
	F_REVOKE, F_COMPROMISE, F_MAX_ITEMS, F_OFFSET, F_STORAGE, F_GROUP,
	F_LOCATED, F_UIDS, F_WANT, F_FUNCS, F_OPS, F_OBJTYPES, F_VENDOR,
	F_VERSIONS
};

static const char *const fld_names[] = {
	"Unique Identifier", "Object Type", "Template-Attribute",
	"Attributes", "Symmetric Key", "Key Format Type",
	"Key Compression Type", "Key Wrapping Specification",
	"Cryptographic Parameters", "Data", "IV/Counter/Nonce",
	"streaming fields", "Authenticated Encryption Additional Data",
	"Authenticated Encryption Tag", "Revocation Reason",
	"Compromise Occurrence Date", "Maximum Items", "Offset Items",
	"Storage Status Mask", "Object Group Member", "Located Items",
	"Unique Identifier list", "attribute names", "Query Function",
	"Operation list", "Object Type list", "Vendor Identification",
	"Protocol Version list"
};

#define REQ	0x01	/* required */
#define ALWAYS	0x02	/* attributes: send the container even if empty */
#define V_ANY	UINT32_MAX

/* One field of one payload. */
struct fspec {
	enum fld	f;		/* which field */
	unsigned	flags;		/* REQ, ALWAYS */
	uint32_t	minver;		/* first version that has it */
	uint32_t	maxver;		/* last version that has it */
};

#define FS(f, fl)		{ f, fl, KMIP_1_0, V_ANY }
#define FSV(f, fl, min, max)	{ f, fl, min, max }

static const struct fspec create_req[] = {
	FS(F_OBJTYPE, REQ), FS(F_ATTRS_T, ALWAYS) };
static const struct fspec create_resp[] = {
	FS(F_OBJTYPE, REQ), FS(F_UID, REQ),
	FSV(F_ATTRS_T, 0, KMIP_1_0, KMIP_1_4) };
static const struct fspec register_req[] = {
	FS(F_OBJTYPE, REQ), FS(F_ATTRS_T, ALWAYS), FS(F_KEY, REQ) };
static const struct fspec register_resp[] = {
	FS(F_UID, REQ), FSV(F_ATTRS_T, 0, KMIP_1_0, KMIP_1_4) };
static const struct fspec locate_req[] = {
	FS(F_MAX_ITEMS, 0), FSV(F_OFFSET, 0, KMIP_1_3, V_ANY),
	FS(F_STORAGE, 0), FSV(F_GROUP, 0, KMIP_1_1, V_ANY),
	FS(F_ATTRS_B, ALWAYS) };
static const struct fspec locate_resp[] = {
	FSV(F_LOCATED, 0, KMIP_1_3, V_ANY), FS(F_UIDS, 0) };
static const struct fspec get_req[] = {
	FS(F_UID, 0), FS(F_KEYFMT, 0), FS(F_KEYCOMP, 0), FS(F_WRAPSPEC, 0) };
static const struct fspec get_resp[] = {
	FS(F_OBJTYPE, REQ), FS(F_UID, REQ), FS(F_KEY, REQ) };
static const struct fspec getattr_req[] = {
	FS(F_UID, 0), FS(F_WANT, 0) };
static const struct fspec getattr_resp[] = {
	FS(F_UID, REQ), FS(F_ATTRS_B, ALWAYS) };
static const struct fspec uid_req[] = {
	FS(F_UID, 0) };
static const struct fspec uid_resp[] = {
	FS(F_UID, REQ) };
static const struct fspec revoke_req[] = {
	FS(F_UID, 0), FS(F_REVOKE, REQ), FS(F_COMPROMISE, 0) };
static const struct fspec query_req[] = {
	FS(F_FUNCS, REQ) };
static const struct fspec query_resp[] = {
	FS(F_OPS, 0), FS(F_OBJTYPES, 0), FS(F_VENDOR, 0) };
static const struct fspec discover[] = {
	FS(F_VERSIONS, 0) };
static const struct fspec encrypt_req[] = {
	FS(F_UID, 0), FS(F_CPARAMS, 0), FS(F_DATA, REQ), FS(F_IV, 0),
	FS(F_STREAM, 0), FSV(F_AAD, 0, KMIP_1_4, V_ANY) };
static const struct fspec encrypt_resp[] = {
	FS(F_UID, REQ), FS(F_DATA, REQ), FS(F_IV, 0),
	FSV(F_TAG, 0, KMIP_1_4, V_ANY) };
static const struct fspec decrypt_req[] = {
	FS(F_UID, 0), FS(F_CPARAMS, 0), FS(F_DATA, REQ), FS(F_IV, 0),
	FS(F_STREAM, 0), FSV(F_AAD, 0, KMIP_1_4, V_ANY),
	FSV(F_TAG, 0, KMIP_1_4, V_ANY) };
static const struct fspec decrypt_resp[] = {
	FS(F_UID, REQ), FS(F_DATA, REQ) };

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define OPS(op, rq, rs)	{ op, rq, NELEM(rq), rs, NELEM(rs) }

/* The payloads of one operation. */
static const struct opspec {
	uint32_t		 op;	/* Operation */
	const struct fspec	*req;	/* request fields */
	size_t			 nreq;	/* entries in req */
	const struct fspec	*resp;	/* response fields */
	size_t			 nresp;	/* entries in resp */
} opspecs[] = {
	OPS(KMIP_OP_CREATE, create_req, create_resp),
	OPS(KMIP_OP_REGISTER, register_req, register_resp),
	OPS(KMIP_OP_LOCATE, locate_req, locate_resp),
	OPS(KMIP_OP_GET, get_req, get_resp),
	OPS(KMIP_OP_GET_ATTRIBUTES, getattr_req, getattr_resp),
	OPS(KMIP_OP_ACTIVATE, uid_req, uid_resp),
	OPS(KMIP_OP_REVOKE, revoke_req, uid_resp),
	OPS(KMIP_OP_DESTROY, uid_req, uid_resp),
	OPS(KMIP_OP_QUERY, query_req, query_resp),
	OPS(KMIP_OP_DISCOVER_VERSIONS, discover, discover),
	OPS(KMIP_OP_ENCRYPT, encrypt_req, encrypt_resp),
	OPS(KMIP_OP_DECRYPT, decrypt_req, decrypt_resp),
};

static const struct opspec *
opspec(uint32_t op)
{
	size_t	i;

	for (i = 0; i < NELEM(opspecs); i++)
		if (opspecs[i].op == op)
			return &opspecs[i];
	return NULL;
}

int
kmip_op_supported(uint32_t op)
{
	return opspec(op) != NULL;
}

static int
fld_present(enum fld f, const struct kmip_payload *p)
{
	switch (f) {
	case F_UID:
		return p->uid != NULL ||
		    (p->has & (KMIP_P_UID_ENUM | KMIP_P_UID_INDEX));
	case F_OBJTYPE:
		return p->object_type != 0;
	case F_ATTRS_T:
	case F_ATTRS_B:
		return attrs_present(&p->attrs);
	case F_KEY:
		return (p->has & KMIP_P_KEY) != 0;
	case F_KEYFMT:
		return (p->has & KMIP_P_KEY_FORMAT) != 0;
	case F_KEYCOMP:
		return (p->has & KMIP_P_KEY_COMPRESSION) != 0;
	case F_CPARAMS:
		return (p->has & KMIP_P_CPARAMS) != 0;
	case F_DATA:
		return p->data.p != NULL;
	case F_IV:
		return p->iv.p != NULL;
	case F_AAD:
		return p->aad.p != NULL;
	case F_TAG:
		return p->tag.p != NULL;
	case F_REVOKE:
		return (p->has & KMIP_P_REVOKE) != 0;
	case F_COMPROMISE:
		return (p->has & KMIP_P_COMPROMISE_DATE) != 0;
	case F_MAX_ITEMS:
		return (p->has & KMIP_P_MAX_ITEMS) != 0;
	case F_OFFSET:
		return (p->has & KMIP_P_OFFSET_ITEMS) != 0;
	case F_STORAGE:
		return (p->has & KMIP_P_STORAGE_MASK) != 0;
	case F_GROUP:
		return (p->has & KMIP_P_GROUP_MEMBER) != 0;
	case F_LOCATED:
		return (p->has & KMIP_P_LOCATED_ITEMS) != 0;
	case F_UIDS:
		return p->nuids != 0;
	case F_WANT:
		return p->want != 0 || p->nwant_custom != 0;
	case F_FUNCS:
		return p->nfuncs != 0;
	case F_OPS:
		return p->nops != 0;
	case F_OBJTYPES:
		return p->nobjtypes != 0;
	case F_VENDOR:
		return p->vendor != NULL;
	case F_VERSIONS:
		return p->nversions != 0;
	case F_WRAPSPEC:
	case F_STREAM:
		return 0;	/* read, never sent */
	}
	return 0;
}

/* Encode the Unique Identifier in the form the caller chose. */
static int
uid_encode(const struct kmip_payload *p, uint32_t version, struct ttlv *pl,
    struct kmip_err *err)
{
	if (p->uid != NULL) {
		ttlv_add_text(pl, KMIP_TAG_UNIQUE_IDENTIFIER, p->uid);
		return 0;
	}
	if (msg_need_version(KMIP_2_0, version,
	    "a Unique Identifier that is not Text", err) == -1)
		return -1;
	if (p->has & KMIP_P_UID_ENUM)
		ttlv_add_enum(pl, KMIP_TAG_UNIQUE_IDENTIFIER, p->uid_enum);
	else
		ttlv_add_int(pl, KMIP_TAG_UNIQUE_IDENTIFIER, p->uid_index);
	return 0;
}

static void
enum_list_encode(struct ttlv *pl, uint32_t tag, const uint32_t *v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		ttlv_add_enum(pl, tag, v[i]);
}

/* Encode one field that fld_present() says is there (or ALWAYS). */
static int
fld_encode(const struct fspec *fs, const struct kmip_payload *p,
    uint32_t version, struct ttlv *pl, struct kmip_err *err)
{
	struct ttlv	*s;
	size_t		 i;

	switch (fs->f) {
	case F_UID:
		return uid_encode(p, version, pl, err);
	case F_OBJTYPE:
		ttlv_add_enum(pl, KMIP_TAG_OBJECT_TYPE, p->object_type);
		break;
	case F_ATTRS_T:
	case F_ATTRS_B:
		if (!attrs_present(&p->attrs) && !(fs->flags & ALWAYS))
			break;
		return attrs_encode(&p->attrs, version, fs->f == F_ATTRS_T ?
		    ATTR_TEMPLATE : ATTR_BARE, pl, err);
	case F_KEY:
		return key_encode(&p->key, pl, err);
	case F_KEYFMT:
		ttlv_add_enum(pl, KMIP_TAG_KEY_FORMAT_TYPE, p->key_format);
		break;
	case F_KEYCOMP:
		ttlv_add_enum(pl, KMIP_TAG_KEY_COMPRESSION_TYPE,
		    p->key_compression);
		break;
	case F_CPARAMS:
		s = ttlv_add_struct(pl, KMIP_TAG_CRYPTO_PARAMETERS);
		return s ? cparams_encode(&p->cparams, version, s, err) : 0;
	case F_DATA:
		ttlv_add_bytes(pl, KMIP_TAG_DATA, p->data.p, p->data.len);
		break;
	case F_IV:
		ttlv_add_bytes(pl, KMIP_TAG_IV_COUNTER_NONCE, p->iv.p,
		    p->iv.len);
		break;
	case F_AAD:
		ttlv_add_bytes(pl, KMIP_TAG_AE_ADDITIONAL_DATA, p->aad.p,
		    p->aad.len);
		break;
	case F_TAG:
		ttlv_add_bytes(pl, KMIP_TAG_AE_TAG, p->tag.p, p->tag.len);
		break;
	case F_REVOKE:
		s = ttlv_add_struct(pl, KMIP_TAG_REVOCATION_REASON);
		ttlv_add_enum(s, KMIP_TAG_REVOCATION_REASON_CODE,
		    p->revoke_code);
		if (p->revoke_msg != NULL)
			ttlv_add_text(s, KMIP_TAG_REVOCATION_MESSAGE,
			    p->revoke_msg);
		break;
	case F_COMPROMISE:
		ttlv_add_datetime(pl, KMIP_TAG_COMPROMISE_OCCURRENCE_DATE,
		    p->compromise_date);
		break;
	case F_MAX_ITEMS:
		ttlv_add_int(pl, KMIP_TAG_MAXIMUM_ITEMS, p->max_items);
		break;
	case F_OFFSET:
		ttlv_add_int(pl, KMIP_TAG_OFFSET_ITEMS, p->offset_items);
		break;
	case F_STORAGE:
		ttlv_add_int(pl, KMIP_TAG_STORAGE_STATUS_MASK,
		    (int32_t)p->storage_mask);
		break;
	case F_GROUP:
		ttlv_add_enum(pl, KMIP_TAG_OBJECT_GROUP_MEMBER,
		    p->group_member);
		break;
	case F_LOCATED:
		ttlv_add_int(pl, KMIP_TAG_LOCATED_ITEMS, p->located_items);
		break;
	case F_UIDS:
		for (i = 0; i < p->nuids; i++)
			ttlv_add_text(pl, KMIP_TAG_UNIQUE_IDENTIFIER,
			    p->uids[i]);
		break;
	case F_WANT:
		return want_encode(p, version, pl, err);
	case F_FUNCS:
		enum_list_encode(pl, KMIP_TAG_QUERY_FUNCTION, p->funcs,
		    p->nfuncs);
		break;
	case F_OPS:
		for (i = 0; i < p->nops; i++)
			if (msg_need_version(kmip_op_version(p->ops[i]),
			    version, kmip_op_name(p->ops[i]), err) == -1)
				return -1;
		enum_list_encode(pl, KMIP_TAG_OPERATION, p->ops, p->nops);
		break;
	case F_OBJTYPES:
		enum_list_encode(pl, KMIP_TAG_OBJECT_TYPE, p->objtypes,
		    p->nobjtypes);
		break;
	case F_VENDOR:
		ttlv_add_text(pl, KMIP_TAG_VENDOR_IDENTIFICATION, p->vendor);
		break;
	case F_VERSIONS:
		for (i = 0; i < p->nversions; i++)
			pv_encode(pl, p->versions[i]);
		break;
	case F_WRAPSPEC:
	case F_STREAM:
		break;
	}
	return 0;
}

int
kmip_payload_encode(uint32_t op, int response, uint32_t version,
    const struct kmip_payload *p, struct ttlv *parent, struct kmip_err *err)
{
	const struct opspec	*os;
	const struct fspec	*fs, *list;
	struct ttlv		*pl;
	size_t			 i, n;
	int			 present;

	if ((os = opspec(op)) == NULL) {
		kmip_err_set(err, KMIP_REASON_OPERATION_NOT_SUPPORTED,
		    "operation %s (0x%02X) is not supported", kmip_op_name(op),
		    op);
		return -1;
	}
	list = response ? os->resp : os->req;
	n = response ? os->nresp : os->nreq;
	pl = ttlv_add_struct(parent, response ? KMIP_TAG_RESPONSE_PAYLOAD :
	    KMIP_TAG_REQUEST_PAYLOAD);
	for (i = 0; i < n; i++) {
		fs = &list[i];
		present = fld_present(fs->f, p);
		if (version > fs->maxver || version < fs->minver) {
			if (present && version < fs->minver)
				return msg_need_version(fs->minver, version,
				    fld_names[fs->f], err);
			continue;
		}
		if (!present && (fs->flags & REQ)) {
			kmip_err_set(err, KMIP_REASON_MISSING_DATA,
			    "a %s %s needs %s", kmip_op_name(op),
			    response ? "response" : "request",
			    fld_names[fs->f]);
			return -1;
		}
		if ((present || (fs->flags & ALWAYS)) &&
		    fld_encode(fs, p, version, pl, err) == -1)
			return -1;
	}
	return 0;
}

/* Read every item tagged tag in pl as an Enumeration into *v / *n. */
static int
enum_list_decode(const struct ttlv *pl, uint32_t tag, uint32_t **v,
    size_t *n, struct kmip_err *err)
{
	const struct ttlv	*it = NULL;
	size_t			 cnt = ttlv_count(pl, tag), i = 0;

	if (cnt == 0)
		return 0;
	if ((*v = calloc(cnt, sizeof(**v))) == NULL) {
		kmip_err_set(err, KMIP_REASON_GENERAL_FAILURE,
		    "out of memory reading a list");
		return -1;
	}
	while ((it = ttlv_find_next(pl, it, tag)) != NULL) {
		if (ttlv_check_type(it, TTLV_ENUM, err) == -1)
			return -1;
		(*v)[i++] = it->v.e;
	}
	*n = cnt;
	return 0;
}

static int
uids_decode(const struct ttlv *pl, struct kmip_payload *p,
    struct kmip_err *err)
{
	const struct ttlv	*it = NULL;
	size_t			 cnt;

	if ((cnt = ttlv_count(pl, KMIP_TAG_UNIQUE_IDENTIFIER)) == 0)
		return 0;
	if ((p->uids = calloc(cnt, sizeof(*p->uids))) == NULL)
		goto oom;
	while ((it = ttlv_find_next(pl, it, KMIP_TAG_UNIQUE_IDENTIFIER)) !=
	    NULL) {
		if (ttlv_check_type(it, TTLV_TEXT, err) == -1)
			return -1;
		if ((p->uids[p->nuids] = strdup((char *)it->v.s.p)) == NULL)
			goto oom;
		p->nuids++;
	}
	return 0;
 oom:
	kmip_err_set(err, KMIP_REASON_GENERAL_FAILURE,
	    "out of memory reading Unique Identifiers");
	return -1;
}

static int
versions_decode(const struct ttlv *pl, struct kmip_payload *p,
    struct kmip_err *err)
{
	const struct ttlv	*it = NULL;
	size_t			 cnt;

	if ((cnt = ttlv_count(pl, KMIP_TAG_PROTOCOL_VERSION)) == 0)
		return 0;
	if ((p->versions = calloc(cnt, sizeof(*p->versions))) == NULL) {
		kmip_err_set(err, KMIP_REASON_GENERAL_FAILURE,
		    "out of memory reading Protocol Versions");
		return -1;
	}
	while ((it = ttlv_find_next(pl, it, KMIP_TAG_PROTOCOL_VERSION)) !=
	    NULL)
		if (pv_decode(it, &p->versions[p->nversions++], err) == -1)
			return -1;
	return 0;
}

/* Unique Identifier: Text, or (2.0) Enumeration or Integer. */
static int
uid_decode(const struct ttlv *pl, struct kmip_payload *p,
    struct kmip_err *err)
{
	const struct ttlv	*it;

	if ((it = ttlv_find(pl, KMIP_TAG_UNIQUE_IDENTIFIER)) == NULL)
		return 0;
	if (it->type == TTLV_ENUM) {
		p->uid_enum = it->v.e;
		p->has |= KMIP_P_UID_ENUM;
		return 0;
	}
	if (it->type == TTLV_INT) {
		p->uid_index = it->v.i;
		p->has |= KMIP_P_UID_INDEX;
		return 0;
	}
	return ttlv_find_text(pl, KMIP_TAG_UNIQUE_IDENTIFIER, &p->uid, err) ==
	    -1 ? -1 : 0;
}

/* Bytes field: 1 read, 0 absent, -1 error; sets *b. */
static int
bytes_decode(const struct ttlv *pl, uint32_t tag, struct kmip_bytes *b,
    struct kmip_err *err)
{
	return ttlv_find_bytes(pl, tag, &b->p, &b->len, err) == -1 ? -1 : 0;
}

/* A scalar that sets a has-bit when present. */
static int
flag(int r, struct kmip_payload *p, uint32_t bit)
{
	if (r == 1)
		p->has |= bit;
	return r == -1 ? -1 : 0;
}

static int
revoke_decode(const struct ttlv *pl, struct kmip_payload *p,
    struct kmip_err *err)
{
	const struct ttlv	*rr;
	int			 r;

	if ((r = ttlv_find_struct(pl, KMIP_TAG_REVOCATION_REASON, &rr,
	    err)) != 1)
		return r;
	if ((r = ttlv_find_enum(rr, KMIP_TAG_REVOCATION_REASON_CODE,
	    &p->revoke_code, err)) != 1) {
		if (r == 0)
			kmip_err_set(err, KMIP_REASON_INVALID_MESSAGE,
			    "Revocation Reason without a Revocation Reason "
			    "Code");
		return -1;
	}
	if (ttlv_find_text(rr, KMIP_TAG_REVOCATION_MESSAGE, &p->revoke_msg,
	    err) == -1)
		return -1;
	p->has |= KMIP_P_REVOKE;
	return 0;
}

static int
fld_decode(enum fld f, const struct ttlv *pl, struct kmip_payload *p,
    struct kmip_err *err)
{
	const struct ttlv	*it;
	int32_t			 mask;
	int			 r;

	switch (f) {
	case F_UID:
		return uid_decode(pl, p, err);
	case F_OBJTYPE:
		return ttlv_find_enum(pl, KMIP_TAG_OBJECT_TYPE,
		    &p->object_type, err) == -1 ? -1 : 0;
	case F_ATTRS_T:
	case F_ATTRS_B:
		if (ttlv_find(pl, KMIP_TAG_TEMPLATE_ATTRIBUTE) ||
		    ttlv_find(pl, KMIP_TAG_ATTRIBUTES) ||
		    ttlv_find(pl, KMIP_TAG_ATTRIBUTE))
			p->has |= KMIP_P_ATTRS;
		return attrs_decode(pl, &p->attrs, err);
	case F_KEY:
		if (p->object_type != 0 &&
		    p->object_type != KMIP_OBJ_SYMMETRIC_KEY) {
			kmip_err_set(err, KMIP_REASON_FEATURE_NOT_SUPPORTED,
			    "%s objects (Object Type 0x%02X) are not "
			    "supported; only Symmetric Key is",
			    kmip_objtype_name(p->object_type), p->object_type);
			return -1;
		}
		if ((r = ttlv_find_struct(pl, KMIP_TAG_SYMMETRIC_KEY, &it,
		    err)) != 1)
			return r;
		p->has |= KMIP_P_KEY;
		return key_decode(it, &p->key, &p->has, err);
	case F_KEYFMT:
		return flag(ttlv_find_enum(pl, KMIP_TAG_KEY_FORMAT_TYPE,
		    &p->key_format, err), p, KMIP_P_KEY_FORMAT);
	case F_KEYCOMP:
		return flag(ttlv_find_enum(pl, KMIP_TAG_KEY_COMPRESSION_TYPE,
		    &p->key_compression, err), p, KMIP_P_KEY_COMPRESSION);
	case F_WRAPSPEC:
		if (ttlv_find(pl, KMIP_TAG_KEY_WRAPPING_SPEC) != NULL)
			p->has |= KMIP_P_WRAP_SPEC;
		return 0;
	case F_CPARAMS:
		if ((it = ttlv_find(pl, KMIP_TAG_CRYPTO_PARAMETERS)) == NULL)
			return 0;
		p->has |= KMIP_P_CPARAMS;
		return cparams_decode(it, &p->cparams, err);
	case F_DATA:
		return bytes_decode(pl, KMIP_TAG_DATA, &p->data, err);
	case F_IV:
		return bytes_decode(pl, KMIP_TAG_IV_COUNTER_NONCE, &p->iv, err);
	case F_AAD:
		return bytes_decode(pl, KMIP_TAG_AE_ADDITIONAL_DATA, &p->aad,
		    err);
	case F_TAG:
		return bytes_decode(pl, KMIP_TAG_AE_TAG, &p->tag, err);
	case F_STREAM:
		if (ttlv_find(pl, KMIP_TAG_CORRELATION_VALUE) ||
		    ttlv_find(pl, KMIP_TAG_INIT_INDICATOR) ||
		    ttlv_find(pl, KMIP_TAG_FINAL_INDICATOR))
			p->has |= KMIP_P_STREAMING;
		return 0;
	case F_REVOKE:
		return revoke_decode(pl, p, err);
	case F_COMPROMISE:
		return flag(ttlv_find_datetime(pl,
		    KMIP_TAG_COMPROMISE_OCCURRENCE_DATE, &p->compromise_date,
		    err), p, KMIP_P_COMPROMISE_DATE);
	case F_MAX_ITEMS:
		return flag(ttlv_find_int(pl, KMIP_TAG_MAXIMUM_ITEMS,
		    &p->max_items, err), p, KMIP_P_MAX_ITEMS);
	case F_OFFSET:
		return flag(ttlv_find_int(pl, KMIP_TAG_OFFSET_ITEMS,
		    &p->offset_items, err), p, KMIP_P_OFFSET_ITEMS);
	case F_STORAGE:
		r = ttlv_find_int(pl, KMIP_TAG_STORAGE_STATUS_MASK, &mask, err);
		p->storage_mask = (uint32_t)mask;
		return flag(r, p, KMIP_P_STORAGE_MASK);
	case F_GROUP:
		return flag(ttlv_find_enum(pl, KMIP_TAG_OBJECT_GROUP_MEMBER,
		    &p->group_member, err), p, KMIP_P_GROUP_MEMBER);
	case F_LOCATED:
		return flag(ttlv_find_int(pl, KMIP_TAG_LOCATED_ITEMS,
		    &p->located_items, err), p, KMIP_P_LOCATED_ITEMS);
	case F_UIDS:
		return uids_decode(pl, p, err);
	case F_WANT:
		return want_decode(pl, p, err);
	case F_FUNCS:
		return enum_list_decode(pl, KMIP_TAG_QUERY_FUNCTION, &p->funcs,
		    &p->nfuncs, err);
	case F_OPS:
		return enum_list_decode(pl, KMIP_TAG_OPERATION, &p->ops,
		    &p->nops, err);
	case F_OBJTYPES:
		return enum_list_decode(pl, KMIP_TAG_OBJECT_TYPE, &p->objtypes,
		    &p->nobjtypes, err);
	case F_VENDOR:
		return ttlv_find_text(pl, KMIP_TAG_VENDOR_IDENTIFICATION,
		    &p->vendor, err) == -1 ? -1 : 0;
	case F_VERSIONS:
		return versions_decode(pl, p, err);
	}
	return 0;
}

int
kmip_payload_decode(uint32_t op, int response, uint32_t version,
    const struct ttlv *pl, struct kmip_payload *p, struct kmip_err *err)
{
	const struct opspec	*os;
	const struct fspec	*list;
	size_t			 i, n;

	(void)version;	/* tolerant: every version's fields are read */
	if ((os = opspec(op)) == NULL) {
		kmip_err_set(err, KMIP_REASON_OPERATION_NOT_SUPPORTED,
		    "operation %s (0x%02X) is not supported", kmip_op_name(op),
		    op);
		return -1;
	}
	if (ttlv_check_type(pl, TTLV_STRUCT, err) == -1)
		return -1;
	list = response ? os->resp : os->req;
	n = response ? os->nresp : os->nreq;
	for (i = 0; i < n; i++) {
		if (fld_decode(list[i].f, pl, p, err) == -1)
			return -1;
		if ((list[i].flags & REQ) && !fld_present(list[i].f, p)) {
			kmip_err_set(err, KMIP_REASON_INVALID_MESSAGE,
			    "the %s %s has no %s", kmip_op_name(op),
			    response ? "response" : "request",
			    fld_names[list[i].f]);
			return -1;
		}
	}
	return 0;
}

void
kmip_payload_clear(struct kmip_payload *p)
{
	size_t	i;

	free(p->uid);
	kmip_attrs_clear(&p->attrs);
	kmip_key_clear(&p->key);
	kmip_bytes_clear(&p->data);
	kmip_bytes_clear(&p->iv);
	kmip_bytes_clear(&p->aad);
	kmip_bytes_clear(&p->tag);
	free(p->revoke_msg);
	for (i = 0; i < p->nuids; i++)
		free(p->uids[i]);
	free(p->uids);
	for (i = 0; i < p->nwant_custom; i++)
		free(p->want_custom[i]);
	free(p->want_custom);
	free(p->funcs);
	free(p->ops);
	free(p->objtypes);
	free(p->vendor);
	free(p->versions);
	memset(p, 0, sizeof(*p));
}
