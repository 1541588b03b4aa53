/*
 * client_ops.c - the KMIP client's operations: Create (an AES key), Activate,
 * Encrypt, Get, Revoke, Destroy and Query (KMIP.md section 7).
 *
 * Each builds one request payload, lets client.c send it at the negotiated
 * version, and checks the answer as strictly as the caller will rely on
 * it: the Unique Identifier a server returns must be the one asked about,
 * the ciphertext, IV and tag must have the lengths the mode implies, and a
 * key from Get must be a plain AES Symmetric Key.  Encrypt always sends the
 * full Cryptographic Parameters (PyKMIP refuses anything less): AES, the
 * block mode, the padding, Random IV and, for GCM, the Tag Length.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client_int.h"
#include "crypto.h"

#define UID_MAX		1024	/* longest Unique Identifier accepted */

/* A payload for uid (copied). */
static int
uid_payload(struct kmip_client *c, struct kmip_payload *p, const char *uid)
{
	memset(p, 0, sizeof(*p));
	if (uid == NULL || *uid == '\0' || strlen(uid) > UID_MAX) {
		client_fail(c, CLIENT_FAIL_LOCAL, 0, "a Unique Identifier of "
		    "1 to %d bytes is needed", UID_MAX);
		return -1;
	}
	if (kmip_set_str(&p->uid, uid) == -1) {
		client_fail(c, CLIENT_FAIL_LOCAL, 0, "out of memory");
		return -1;
	}
	return 0;
}

/* The answer must be about uid (when it names one at all). */
static int
same_uid(struct kmip_client *c, uint32_t op, const struct kmip_payload *rp,
    const char *uid)
{
	if (rp->uid == NULL || strcmp(rp->uid, uid) == 0)
		return 0;
	client_fail(c, CLIENT_FAIL_PROTOCOL, 0, "the %s answer is about object "
	    "\"%.100s\", not \"%.100s\"", kmip_op_name(op), rp->uid, uid);
	return -1;
}

/* Send an operation that takes and returns just a Unique Identifier. */
static int
uid_op(struct kmip_client *c, uint32_t op, struct kmip_payload *p,
    const char *uid, const char *trace_id)
{
	struct kmip_msg	*r = NULL;
	int		 rc;

	if (client_call(c, op, p, trace_id, &r) == -1)
		return -1;
	rc = same_uid(c, op, &r->items[0]->p, uid);
	kmip_msg_free(&r);
	return rc;
}

int
kmip_client_create_aes(struct kmip_client *c, int bits, const char *name,
    uint32_t usage_mask, const char *trace_id, char **uid)
{
	struct kmip_payload	 p;
	struct kmip_msg		*r = NULL;
	const struct kmip_payload *rp;
	int			 rc = -1;

	*uid = NULL;
	memset(&p, 0, sizeof(p));
	if (bits != 128 && bits != 192 && bits != 256) {
		client_fail(c, CLIENT_FAIL_LOCAL, 0, "an AES key has 128, 192 "
		    "or 256 bits, not %d", bits);
		return -1;
	}
	p.object_type = KMIP_OBJ_SYMMETRIC_KEY;
	p.attrs.has = KMIP_A_ALG | KMIP_A_LENGTH | KMIP_A_USAGE_MASK;
	p.attrs.alg = KMIP_ALG_AES;
	p.attrs.length = bits;
	p.attrs.usage_mask = (int32_t)usage_mask;
	if (name != NULL) {
		if (kmip_set_str(&p.attrs.name, name) == -1) {
			client_fail(c, CLIENT_FAIL_LOCAL, 0, "out of memory");
			kmip_payload_clear(&p);
			return -1;
		}
		p.attrs.has |= KMIP_A_NAME;
		p.attrs.name_type = KMIP_NAME_TEXT;
	}
	if (client_call(c, KMIP_OP_CREATE, &p, trace_id, &r) == -1)
		return -1;
	rp = &r->items[0]->p;
	if (rp->object_type != KMIP_OBJ_SYMMETRIC_KEY) {
		client_fail(c, CLIENT_FAIL_PROTOCOL, 0, "Create answered with "
		    "a %s, not a Symmetric Key", kmip_objtype_name(
		    rp->object_type));
		goto done;
	}
	if (rp->uid == NULL || *rp->uid == '\0' || strlen(rp->uid) > UID_MAX) {
		client_fail(c, CLIENT_FAIL_PROTOCOL, 0, "Create answered "
		    "without a usable Unique Identifier");
		goto done;
	}
	if ((*uid = strdup(rp->uid)) == NULL) {
		client_fail(c, CLIENT_FAIL_LOCAL, 0, "out of memory");
		goto done;
	}
	rc = 0;
 done:
	kmip_msg_free(&r);
	return rc;
}

int
kmip_client_activate(struct kmip_client *c, const char *uid,
    const char *trace_id)
{
	struct kmip_payload	p;

	if (uid_payload(c, &p, uid) == -1)
		return -1;
	return uid_op(c, KMIP_OP_ACTIVATE, &p, uid, trace_id);
}

int
kmip_client_destroy(struct kmip_client *c, const char *uid,
    const char *trace_id)
{
	struct kmip_payload	p;

	if (uid_payload(c, &p, uid) == -1)
		return -1;
	return uid_op(c, KMIP_OP_DESTROY, &p, uid, trace_id);
}

int
kmip_client_revoke(struct kmip_client *c, const char *uid, uint32_t reason,
    const char *trace_id)
{
	struct kmip_payload	p;

	if (uid_payload(c, &p, uid) == -1)
		return -1;
	p.has |= KMIP_P_REVOKE;
	p.revoke_code = reason;
	if (reason == KMIP_REVOKE_KEY_COMPROMISE) {
		/* Required with this reason; we know no better date. */
		p.has |= KMIP_P_COMPROMISE_DATE;
		p.compromise_date = (int64_t)time(NULL);
	}
	return uid_op(c, KMIP_OP_REVOKE, &p, uid, trace_id);
}

int
client_query_at(struct kmip_client *c, uint32_t version, const char *trace_id)
{
	struct kmip_payload	 p;
	struct kmip_msg		*r = NULL;
	int			 rc;

	memset(&p, 0, sizeof(p));
	if ((p.funcs = calloc(1, sizeof(*p.funcs))) == NULL) {
		client_fail(c, CLIENT_FAIL_LOCAL, 0, "out of memory");
		return -1;
	}
	p.funcs[0] = KMIP_QUERY_OPERATIONS;
	p.nfuncs = 1;
	rc = version != 0 ? client_call_at(c, version, KMIP_OP_QUERY, &p,
	    trace_id, &r) : client_call(c, KMIP_OP_QUERY, &p, trace_id, &r);
	kmip_msg_free(&r);
	return rc;
}

int
kmip_client_query(struct kmip_client *c, const char *trace_id)
{
	return client_query_at(c, 0, trace_id);
}

/* Check and copy an Encrypt answer for mode into out. */
static int
encrypt_result(struct kmip_client *c, const struct kmip_payload *rp,
    size_t len, struct kmip_ciphertext *out)
{
	int	gcm = out->mode == KMIP_MODE_GCM;
	size_t	want = gcm ? len : (len / 16 + 1) * 16;

	if (rp->data.p == NULL || rp->data.len != want) {
		client_fail(c, CLIENT_FAIL_PROTOCOL, 0, "Encrypt (AES-%s) of "
		    "%zu bytes answered %zu bytes of ciphertext, not %zu",
		    gcm ? "GCM" : "CBC with PKCS#5 padding", len,
		    rp->data.p ? rp->data.len : 0, want);
		return -1;
	}
	if (rp->iv.p == NULL || rp->iv.len == 0 || rp->iv.len >
	    KMIP_CLIENT_IV_MAX || (!gcm && rp->iv.len != 16)) {
		client_fail(c, CLIENT_FAIL_PROTOCOL, 0, "Encrypt answered %s "
		    "(%zu bytes) although we asked for a Random IV",
		    rp->iv.p ? "an IV of an unusable length" : "no IV",
		    rp->iv.p ? rp->iv.len : 0);
		return -1;
	}
	if (gcm && (rp->tag.p == NULL || rp->tag.len != KMIP_CLIENT_TAG_LEN)) {
		client_fail(c, CLIENT_FAIL_PROTOCOL, 0, "Encrypt (AES-GCM) "
		    "answered %s%zu-byte Authenticated Encryption Tag, not the "
		    "%d bytes asked", rp->tag.p ? "a " : "no ",
		    rp->tag.p ? rp->tag.len : 0, KMIP_CLIENT_TAG_LEN);
		return -1;
	}
	memcpy(out->data, rp->data.p, want);
	out->len = want;
	memcpy(out->iv, rp->iv.p, rp->iv.len);
	out->ivlen = rp->iv.len;
	if (gcm) {
		memcpy(out->tag, rp->tag.p, KMIP_CLIENT_TAG_LEN);
		out->taglen = KMIP_CLIENT_TAG_LEN;
	}
	return 0;
}

int
kmip_client_encrypt(struct kmip_client *c, const char *uid, const void *aad,
    size_t aadlen, const void *in, size_t len, const char *trace_id,
    struct kmip_ciphertext *out)
{
	struct kmip_payload	 p;
	struct kmip_msg		*r = NULL;
	int			 gcm, rc = -1;

	memset(out, 0, sizeof(*out));
	if (in == NULL || len == 0 || len > KMIP_CLIENT_DATA_MAX ||
	    (aad == NULL && aadlen > 0) || aadlen > KMIP_CLIENT_DATA_MAX) {
		client_fail(c, CLIENT_FAIL_LOCAL, 0, "Encrypt takes 1 to %d "
		    "bytes of data and at most as much AAD",
		    KMIP_CLIENT_DATA_MAX);
		return -1;
	}
	/* Negotiate first: the version decides the mode. */
	if (kmip_client_connect(c) == -1)
		return -1;
	if (uid_payload(c, &p, uid) == -1)
		return -1;
	gcm = c->version >= KMIP_1_4;
	out->mode = gcm ? KMIP_MODE_GCM : KMIP_MODE_CBC;
	p.has |= KMIP_P_CPARAMS;
	p.cparams.has = KMIP_CP_MODE | KMIP_CP_PADDING | KMIP_CP_ALG |
	    KMIP_CP_RANDOM_IV;
	p.cparams.mode = out->mode;
	p.cparams.padding = gcm ? KMIP_PAD_NONE : KMIP_PAD_PKCS5;
	p.cparams.alg = KMIP_ALG_AES;
	p.cparams.random_iv = 1;
	if (gcm) {
		p.cparams.has |= KMIP_CP_TAG_LEN;
		p.cparams.tag_len = KMIP_CLIENT_TAG_LEN;
	}
	if (kmip_bytes_set(&p.data, in, len) == -1 || (gcm && aadlen > 0 &&
	    kmip_bytes_set(&p.aad, aad, aadlen) == -1)) {
		kmip_payload_clear(&p);
		client_fail(c, CLIENT_FAIL_LOCAL, 0, "out of memory");
		return -1;
	}
	if (client_call(c, KMIP_OP_ENCRYPT, &p, trace_id, &r) == -1)
		goto done;
	if (same_uid(c, KMIP_OP_ENCRYPT, &r->items[0]->p, uid) == -1 ||
	    encrypt_result(c, &r->items[0]->p, len, out) == -1)
		goto done;
	rc = 0;
 done:
	kmip_msg_free(&r);
	if (rc == -1)
		crypto_wipe(out, sizeof(*out));
	return rc;
}

int
kmip_client_get_key(struct kmip_client *c, const char *uid,
    const char *trace_id, uint8_t *key, size_t cap, size_t *len)
{
	struct kmip_payload	 p;
	struct kmip_msg		*r = NULL;
	const struct kmip_payload *rp;
	const struct kmip_key	*k;
	int			 rc = -1;

	*len = 0;
	if (uid_payload(c, &p, uid) == -1)
		return -1;
	p.has |= KMIP_P_KEY_FORMAT;
	p.key_format = KMIP_KEYFMT_RAW;
	if (client_call(c, KMIP_OP_GET, &p, trace_id, &r) == -1)
		return -1;
	rp = &r->items[0]->p;
	k = &rp->key;
	if (same_uid(c, KMIP_OP_GET, rp, uid) == -1)
		goto done;
	if (rp->object_type != KMIP_OBJ_SYMMETRIC_KEY ||
	    !(rp->has & KMIP_P_KEY)) {
		client_fail(c, CLIENT_FAIL_PROTOCOL, 0, "Get of %.100s "
		    "answered a %s, not a Symmetric Key", uid,
		    kmip_objtype_name(rp->object_type));
		goto done;
	}
	if ((k->format != KMIP_KEYFMT_RAW &&
	    k->format != KMIP_KEYFMT_TRANSPARENT_SYMMETRIC) ||
	    (k->alg != 0 && k->alg != KMIP_ALG_AES) || k->material.p == NULL ||
	    k->material.len == 0 || k->material.len > cap ||
	    (k->length != 0 && (size_t)k->length != k->material.len * 8)) {
		client_fail(c, CLIENT_FAIL_PROTOCOL, 0, "Get of %.100s "
		    "answered a key that is not %zu bytes of raw AES key "
		    "material (format 0x%02X, algorithm 0x%02X, %zu bytes, "
		    "Cryptographic Length %d)", uid, cap, (unsigned)k->format,
		    (unsigned)k->alg, k->material.len, (int)k->length);
		goto done;
	}
	memcpy(key, k->material.p, k->material.len);
	*len = k->material.len;
	rc = 0;
 done:
	kmip_msg_free(&r);	/* wipes the material */
	return rc;
}
