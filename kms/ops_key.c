/*
 * ops_key.c - the operations that make and read keys: Create, Register,
 * Get and Get Attributes, for AES symmetric keys of 128, 192 and 256
 * bits.
 *
 * Create draws the key from OpenSSL's CSPRNG; Register takes the client's
 * (Raw or Transparent Symmetric Key format, never wrapped).  Both take the
 * client's attributes (algorithm, length, usage mask, Name, Cryptographic
 * Parameters, Activation and Deactivation Dates), refuse the ones only the
 * server may set, and start the object Pre-Active (or Active when its
 * Activation Date has come) owned by the caller's certificate subject.  The
 * object is on disk before the response is sent.  Get returns the key in
 * Raw (or Transparent Symmetric Key) format while the object is not
 * destroyed; Get Attributes returns the attributes asked for, or all.
 *
 * Seed pool creation step 2 (the KMS generates the master key) is Create;
 * seed restore step 2 (CommServe fetches the master key) is Get.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "kms.h"
#include "log.h"
#include "trace.h"

/* Attributes a client may not set: the server keeps them. */
#define SERVER_ATTRS	(KMIP_A_UID | KMIP_A_STATE | KMIP_A_INITIAL_DATE | \
	KMIP_A_DESTROY_DATE | KMIP_A_COMPROMISE_DATE | \
	KMIP_A_COMPROMISE_OCCURRENCE_DATE | KMIP_A_LAST_CHANGE_DATE | \
	KMIP_A_ORIGINAL_CREATION_DATE | KMIP_A_FRESH)

static const struct {
	uint64_t	 bit;		/* KMIP_A_* */
	const char	*name;		/* its attribute name */
} server_attr_names[] = {
	{ KMIP_A_UID, "Unique Identifier" }, { KMIP_A_STATE, "State" },
	{ KMIP_A_INITIAL_DATE, "Initial Date" },
	{ KMIP_A_DESTROY_DATE, "Destroy Date" },
	{ KMIP_A_COMPROMISE_DATE, "Compromise Date" },
	{ KMIP_A_COMPROMISE_OCCURRENCE_DATE, "Compromise Occurrence Date" },
	{ KMIP_A_LAST_CHANGE_DATE, "Last Change Date" },
	{ KMIP_A_ORIGINAL_CREATION_DATE, "Original Creation Date" },
	{ KMIP_A_FRESH, "Fresh" },
};

static int
aes_length_ok(int32_t bits)
{
	return bits == 128 || bits == 192 || bits == 256;
}

/* Fill rec from a Create or Register's attributes; -1 after failing rsp. */
static int
attrs_to_rec(struct kms_req *r, const struct kmip_attrs *a,
    struct kms_rec *rec, struct kmip_item *rsp)
{
	size_t		i;

	if (a->has & SERVER_ATTRS) {
		for (i = 0; i < sizeof(server_attr_names) /
		    sizeof(server_attr_names[0]); i++)
			if (a->has & server_attr_names[i].bit)
				break;
		return access_fail(r, rsp, KMIP_REASON_INVALID_FIELD,
		    "attribute %s is set by the server; a client may not give "
		    "it", i < sizeof(server_attr_names) /
		    sizeof(server_attr_names[0]) ? server_attr_names[i].name :
		    "?");
	}
	for (i = 0; i < a->ncustom; i++)
		if (a->custom[i].name[0] == 'y')
			return access_fail(r, rsp, KMIP_REASON_INVALID_FIELD,
			    "custom attributes named y-... belong to the "
			    "server; a client may not set them");
	if ((a->has & KMIP_A_OBJECT_TYPE) &&
	    a->object_type != KMIP_OBJ_SYMMETRIC_KEY)
		return access_fail(r, rsp, KMIP_REASON_INVALID_FIELD,
		    "the Object Type attribute says %s; kmsd keeps symmetric "
		    "keys only", kmip_objtype_name(a->object_type));
	if ((a->has & KMIP_A_ALG) && a->alg != KMIP_ALG_AES)
		return access_fail(r, rsp, KMIP_REASON_INVALID_FIELD,
		    "Cryptographic Algorithm 0x%02X is not supported; kmsd "
		    "keeps AES (0x03) keys", a->alg);
	if ((a->has & KMIP_A_LENGTH) && !aes_length_ok(a->length))
		return access_fail(r, rsp, KMIP_REASON_INVALID_FIELD,
		    "Cryptographic Length %d is not an AES key length (128, "
		    "192 or 256)", a->length);
	if (a->has & KMIP_A_NAME) {
		if (a->name == NULL || a->name[0] == '\0' ||
		    strlen(a->name) >= sizeof(rec->name))
			return access_fail(r, rsp, KMIP_REASON_INVALID_FIELD,
			    "a Name must hold 1 to %zu bytes",
			    sizeof(rec->name) - 1);
		if (a->name_type != KMIP_NAME_TEXT &&
		    a->name_type != KMIP_NAME_URI)
			return access_fail(r, rsp, KMIP_REASON_INVALID_FIELD,
			    "Name Type 0x%02X is not a KMIP name type",
			    a->name_type);
		memcpy(rec->name, a->name, strlen(a->name) + 1);
		rec->name_type = a->name_type;
	}
	if (a->has & KMIP_A_ALG)
		rec->alg = a->alg;
	if (a->has & KMIP_A_LENGTH)
		rec->length = a->length;
	if (a->has & KMIP_A_USAGE_MASK)
		rec->usage_mask = a->usage_mask;
	if (a->has & KMIP_A_CPARAMS) {
		rec->has_cparams = 1;
		rec->cparams = a->cparams;
		rec->cparams.random_iv = a->cparams.random_iv ? 1 : 0;
	}
	if (a->has & KMIP_A_ACTIVATION_DATE)
		rec->activation_date = a->activation_date;
	if (a->has & KMIP_A_DEACTIVATION_DATE)
		rec->deactivation_date = a->deactivation_date;
	if (a->unsupported != NULL || a->ncustom > 0)
		log_debug("ignoring attributes kmsd does not keep (first: %s)",
		    a->unsupported ? a->unsupported : a->custom[0].name);
	return 0;
}

/* A new object's common part: owner, type, dates, state. */
static void
rec_init(struct kms_req *r, struct kms_rec *rec, int64_t now)
{
	memset(rec, 0, sizeof(*rec));
	snprintf(rec->owner, sizeof(rec->owner), "%s", r->c->subject);
	rec->object_type = KMIP_OBJ_SYMMETRIC_KEY;
	rec->state = KMIP_STATE_PRE_ACTIVE;
	rec->initial_date = now;
	rec->last_change_date = now;
}

/* Store a new object and answer with its identifier; -1 if rsp failed. */
static int
create_common(struct kms_req *r, struct kms_rec *rec, const uint8_t *key,
    size_t keylen, struct kmip_item *rsp)
{
	char	clean[64];
	int	rc;

	rec->state = access_state(rec, rec->initial_date);
	if ((rc = store_create(r->k->store, rec, key, keylen)) != STORE_OK)
		return access_store_fail(r, rsp, rc, NULL);
	memcpy(r->placeholder, rec->uid, sizeof(r->placeholder));
	memcpy(r->uid, rec->uid, sizeof(r->uid));
	snprintf(r->note, sizeof(r->note), "AES-%d name=\"%s\"", rec->length,
	    access_clean(rec->name, clean, sizeof(clean)));
	return access_ok_uid(rsp, rec->uid);
}

/* Seed pool creation step 2: the KMS generates the master key. */
int
op_create(struct kms_req *r, const struct kmip_item *req,
    struct kmip_item *rsp)
{
	const struct kmip_payload	*p = &req->p;
	struct kms_rec			 rec;
	uint8_t				 key[KMS_KEY_MAX];
	char				 name[KMS_NAME_MAX];
	int				 rc = -1;

	if (p->object_type != KMIP_OBJ_SYMMETRIC_KEY)
		return access_fail(r, rsp, KMIP_REASON_INVALID_FIELD,
		    "kmsd creates Symmetric Keys only, not %s objects",
		    kmip_objtype_name(p->object_type));
	rec_init(r, &rec, (int64_t)time(NULL));
	if (attrs_to_rec(r, &p->attrs, &rec, rsp) == -1)
		return -1;
	if (!(p->attrs.has & KMIP_A_ALG) || !(p->attrs.has & KMIP_A_LENGTH) ||
	    !(p->attrs.has & KMIP_A_USAGE_MASK))
		return access_fail(r, rsp, KMIP_REASON_INVALID_FIELD,
		    "Create needs the attributes Cryptographic Algorithm "
		    "(AES), Cryptographic Length (128, 192 or 256) and "
		    "Cryptographic Usage Mask");
	if (crypto_random(key, (size_t)rec.length / 8) == -1) {
		access_fail(r, rsp, KMIP_REASON_GENERAL_FAILURE,
		    "kmsd could not draw random bytes for the key");
		goto fail;
	}
	if ((rc = create_common(r, &rec, key, (size_t)rec.length / 8,
	    rsp)) == -1)
		goto fail;
	rsp->p.object_type = KMIP_OBJ_SYMMETRIC_KEY;
	if (r->trace_id != NULL)
		trace_step(r->k->trace, r->trace_id, "pool", 2, r->c->subject,
		    0, "created AES-%d master key %s (%s) for %s", rec.length,
		    rec.uid, rec.name[0] ? access_clean(rec.name, name,
		    sizeof(name)) : "no name", r->c->subject);
 fail:
	crypto_wipe(key, sizeof(key));
	return rc;
}

int
op_register(struct kms_req *r, const struct kmip_item *req,
    struct kmip_item *rsp)
{
	const struct kmip_payload	*p = &req->p;
	const struct kmip_key		*k = &p->key;
	struct kms_rec			 rec;
	int32_t				 bits = (int32_t)(k->material.len * 8);

	if (p->object_type != KMIP_OBJ_SYMMETRIC_KEY)
		return access_fail(r, rsp, KMIP_REASON_INVALID_FIELD,
		    "kmsd registers Symmetric Keys only, not %s objects",
		    kmip_objtype_name(p->object_type));
	if (k->format != KMIP_KEYFMT_RAW &&
	    k->format != KMIP_KEYFMT_TRANSPARENT_SYMMETRIC)
		return access_fail(r, rsp, KMIP_REASON_KEY_FORMAT_NOT_SUPPORTED,
		    "Key Format Type 0x%02X is not supported; send Raw (0x01) "
		    "or Transparent Symmetric Key (0x07)", k->format);
	if (k->material.p == NULL || !aes_length_ok(bits))
		return access_fail(r, rsp, KMIP_REASON_INVALID_FIELD,
		    "the key material is %zu bytes; an AES key is 16, 24 or 32",
		    k->material.len);
	if ((k->alg != 0 && k->alg != KMIP_ALG_AES) ||
	    (k->length != 0 && k->length != bits))
		return access_fail(r, rsp, KMIP_REASON_INVALID_FIELD,
		    "the Key Block says algorithm 0x%02X, %d bits; kmsd "
		    "registers AES keys whose length matches their %d bits of "
		    "material", k->alg, k->length, bits);
	rec_init(r, &rec, (int64_t)time(NULL));
	if (attrs_to_rec(r, &p->attrs, &rec, rsp) == -1)
		return -1;
	if ((p->attrs.has & KMIP_A_LENGTH) && rec.length != bits)
		return access_fail(r, rsp, KMIP_REASON_INVALID_FIELD,
		    "Cryptographic Length %d does not match the %d bits of key "
		    "material", rec.length, bits);
	rec.alg = KMIP_ALG_AES;
	rec.length = bits;
	return create_common(r, &rec, k->material.p, k->material.len, rsp);
}

/* Seed restore step 2: CommServe fetches the master key from the KMS. */
int
op_get(struct kms_req *r, const struct kmip_item *req, struct kmip_item *rsp)
{
	const struct kmip_payload	*p = &req->p;
	struct kms_rec			 rec;
	uint8_t				 key[KMS_KEY_MAX];
	uint32_t			 fmt = KMIP_KEYFMT_RAW, st;
	const char			*uid;
	size_t				 keylen = 0;
	int				 rc = -1;

	if ((uid = access_uid(r, p, rsp)) == NULL ||
	    access_fetch(r, uid, &rec, rsp) == -1)
		return -1;
	st = access_state(&rec, (int64_t)time(NULL));
	if (st == KMIP_STATE_DESTROYED || st == KMIP_STATE_DESTROYED_COMPROMISED)
		return access_fail(r, rsp, KMIP_REASON_OBJECT_DESTROYED,
		    "object %s was destroyed; its key material is gone",
		    rec.uid);
	if (p->has & KMIP_P_KEY_FORMAT)
		fmt = p->key_format;
	if (fmt != KMIP_KEYFMT_RAW && fmt != KMIP_KEYFMT_TRANSPARENT_SYMMETRIC)
		return access_fail(r, rsp, KMIP_REASON_KEY_FORMAT_NOT_SUPPORTED,
		    "Key Format Type 0x%02X is not supported; ask for Raw "
		    "(0x01) or Transparent Symmetric Key (0x07)", fmt);
	if (p->has & KMIP_P_KEY_COMPRESSION)
		return access_fail(r, rsp,
		    KMIP_REASON_KEY_COMPRESSION_NOT_SUPPORTED, "kmsd does not "
		    "compress symmetric keys; leave Key Compression Type out");
	if (p->has & KMIP_P_WRAP_SPEC)
		return access_fail(r, rsp, KMIP_REASON_FEATURE_NOT_SUPPORTED,
		    "kmsd does not wrap keys on Get (Key Wrapping "
		    "Specification); the key travels inside the mutual-TLS "
		    "session");
	if (access_unwrap(r, rsp, &rec, key, &keylen) == -1)
		goto fail;
	rsp->status = KMIP_STATUS_SUCCESS;
	rsp->has_payload = 1;
	rsp->p.object_type = KMIP_OBJ_SYMMETRIC_KEY;
	rsp->p.has |= KMIP_P_KEY;
	rsp->p.key.format = fmt;
	rsp->p.key.alg = KMIP_ALG_AES;
	rsp->p.key.length = rec.length;
	if (kmip_set_str(&rsp->p.uid, rec.uid) == -1 ||
	    kmip_bytes_set(&rsp->p.key.material, key, keylen) == -1) {
		access_fail(r, rsp, KMIP_REASON_GENERAL_FAILURE,
		    "out of memory");
		goto fail;
	}
	rc = 0;
	if (r->trace_id != NULL)
		trace_step(r->k->trace, r->trace_id, "restore", 2,
		    r->c->subject, 0, "returned master key %s to %s", rec.uid,
		    r->c->subject);
 fail:
	crypto_wipe(key, sizeof(key));
	return rc;
}

/* Cryptographic Parameters fields a message of version can carry. */
static void
cparams_for_version(struct kmip_cparams *cp, uint32_t version)
{
	if (version < KMIP_1_2)
		cp->has &= KMIP_CP_MODE | KMIP_CP_PADDING | KMIP_CP_HASHING |
		    KMIP_CP_KEY_ROLE;
	if (version < KMIP_1_4 && (cp->has & KMIP_CP_MODE) &&
	    cp->mode == KMIP_MODE_AEAD)
		cp->has &= ~(uint32_t)KMIP_CP_MODE;
}

/* rec's attributes (those in want, 0 = all) into a. */
static int
rec_to_attrs(const struct kms_rec *rec, uint64_t want, uint32_t version,
    struct kmip_attrs *a)
{
	uint64_t	has = KMIP_A_UID | KMIP_A_OBJECT_TYPE | KMIP_A_ALG |
			    KMIP_A_LENGTH | KMIP_A_USAGE_MASK | KMIP_A_STATE |
			    KMIP_A_INITIAL_DATE | KMIP_A_LAST_CHANGE_DATE;

	if (rec->name[0] != '\0')
		has |= KMIP_A_NAME;
	if (rec->has_cparams)
		has |= KMIP_A_CPARAMS;
	if (rec->activation_date != 0)
		has |= KMIP_A_ACTIVATION_DATE;
	if (rec->deactivation_date != 0)
		has |= KMIP_A_DEACTIVATION_DATE;
	if (rec->destroy_date != 0)
		has |= KMIP_A_DESTROY_DATE;
	if (rec->compromise_date != 0)
		has |= KMIP_A_COMPROMISE_DATE;
	if (rec->compromise_occurrence_date != 0)
		has |= KMIP_A_COMPROMISE_OCCURRENCE_DATE;
	a->has = want != 0 ? has & want : has;
	a->object_type = rec->object_type;
	a->alg = rec->alg;
	a->length = rec->length;
	a->usage_mask = rec->usage_mask;
	a->state = access_state(rec, (int64_t)time(NULL));
	a->name_type = rec->name_type;
	a->cparams = rec->cparams;
	cparams_for_version(&a->cparams, version);
	a->initial_date = rec->initial_date;
	a->activation_date = rec->activation_date;
	a->deactivation_date = rec->deactivation_date;
	a->destroy_date = rec->destroy_date;
	a->compromise_date = rec->compromise_date;
	a->compromise_occurrence_date = rec->compromise_occurrence_date;
	a->last_change_date = rec->last_change_date;
	if (kmip_set_str(&a->uid, rec->uid) == -1 || ((a->has & KMIP_A_NAME) &&
	    kmip_set_str(&a->name, rec->name) == -1))
		return -1;
	return 0;
}

int
op_get_attributes(struct kms_req *r, const struct kmip_item *req,
    struct kmip_item *rsp)
{
	const struct kmip_payload	*p = &req->p;
	struct kms_rec			 rec;
	const char			*uid;

	if ((uid = access_uid(r, p, rsp)) == NULL ||
	    access_fetch(r, uid, &rec, rsp) == -1)
		return -1;
	if (access_ok_uid(rsp, rec.uid) == -1)
		return -1;
	/* Names given but none known: nothing to return (not everything). */
	if (p->nwant > 0 && p->want == 0)
		return 0;
	if (rec_to_attrs(&rec, p->want, r->version, &rsp->p.attrs) == -1)
		return access_fail(r, rsp, KMIP_REASON_GENERAL_FAILURE,
		    "out of memory");
	return 0;
}
