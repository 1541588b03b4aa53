/*
 * ops_crypto.c - Encrypt and Decrypt with a managed AES key (KMIP 1.2
 * sections 4.29 and 4.30; 1.4 adds the authenticated-encryption fields).
 *
 * The parameters come from the request's Cryptographic Parameters, or
 * else from the key's own Cryptographic Parameters attribute; with neither
 * the request is refused.  Two modes, the ones key-wrapping clients use:
 *
 *	GCM (0x09): IV from the client (IV/Counter/Nonce), or drawn by kmsd
 *	  when Random IV is true or no IV is given (IV Length bits, default
 *	  96) and returned; Tag Length 4, 8 or 12-16 bytes (default 16);
 *	  Authenticated Encryption Additional Data and Tag.  These fields
 *	  exist from KMIP 1.4 on, so GCM in an older message is refused
 *	  rather than answered without its tag.
 *	CBC (0x01): a 16-byte IV (client's, or drawn and returned), Padding
 *	  Method PKCS5 or None (None needs whole blocks).
 *
 * Encrypt needs an Active key with the Encrypt usage bit; Decrypt a key
 * that is Active, Deactivated or Compromised (KMIP lets those still
 * process protected data) with the Decrypt bit.  Seed pool creation step 3
 * (the KMS encrypts the KEK under the master key) is Encrypt.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kms.h"
#include "log.h"
#include "trace.h"

#define GCM_IV_DEFAULT	12	/* bytes, when the client does not say */
#define GCM_IV_MIN	8
#define GCM_IV_MAX	128
#define GCM_TAG_DEFAULT	16

/* The parameters one Encrypt or Decrypt runs with. */
struct cipher_params {
	uint32_t	mode;		/* KMIP_MODE_GCM or KMIP_MODE_CBC */
	int		pkcs5;		/* CBC: PKCS#5 padding */
	int		random_iv;	/* the server must draw the IV */
	size_t		ivlen;		/* IV bytes (0: mode default) */
	size_t		taglen;		/* GCM tag bytes */
	int		taglen_given;	/* Tag Length was in the parameters */
};

static int
bad(struct kms_req *r, struct kmip_item *rsp, const char *msg)
{
	return access_fail(r, rsp, KMIP_REASON_BAD_CRYPTO_PARAMETERS, "%s",
	    msg);
}

/* Work out the parameters; -1 after failing rsp. */
static int
params(struct kms_req *r, const struct kms_rec *rec,
    const struct kmip_payload *p, struct cipher_params *cp,
    struct kmip_item *rsp)
{
	const struct kmip_cparams	*src = NULL;

	memset(cp, 0, sizeof(*cp));
	if (p->has & KMIP_P_CPARAMS)
		src = &p->cparams;
	else if (rec->has_cparams)
		src = &rec->cparams;
	if (src == NULL || !(src->has & KMIP_CP_MODE))
		return bad(r, rsp, "no Block Cipher Mode: give Cryptographic "
		    "Parameters (GCM or CBC, Padding Method, Tag Length) in "
		    "the request, or create the key with them");
	if (p->has & KMIP_P_STREAMING)
		return access_fail(r, rsp, KMIP_REASON_FEATURE_NOT_SUPPORTED,
		    "streaming (Init/Final Indicator, Correlation Value) is "
		    "not supported; send the whole data in one request");
	if ((src->has & KMIP_CP_ALG) && src->alg != KMIP_ALG_AES)
		return bad(r, rsp, "the Cryptographic Algorithm of the "
		    "parameters is not AES, the key's algorithm");
	cp->mode = src->mode;
	cp->pkcs5 = (src->has & KMIP_CP_PADDING) &&
	    src->padding == KMIP_PAD_PKCS5;
	if ((src->has & KMIP_CP_PADDING) && src->padding != KMIP_PAD_PKCS5 &&
	    src->padding != KMIP_PAD_NONE)
		return access_fail(r, rsp, KMIP_REASON_FEATURE_NOT_SUPPORTED,
		    "Padding Method 0x%02X is not supported; use PKCS5 (0x03) "
		    "or None (0x01)", src->padding);
	cp->random_iv = (src->has & KMIP_CP_RANDOM_IV) && src->random_iv;
	if (src->has & KMIP_CP_IV_LEN) {
		if (src->iv_len <= 0 || src->iv_len % 8 != 0)
			return bad(r, rsp, "IV Length is in bits and must be "
			    "a positive multiple of 8");
		cp->ivlen = (size_t)src->iv_len / 8;
	}
	cp->taglen = GCM_TAG_DEFAULT;
	if (src->has & KMIP_CP_TAG_LEN) {
		cp->taglen = src->tag_len < 0 ? 0 : (size_t)src->tag_len;
		cp->taglen_given = 1;
	}
	switch (cp->mode) {
	case KMIP_MODE_GCM:
		if (r->version < KMIP_1_4)
			return access_fail(r, rsp,
			    KMIP_REASON_FEATURE_NOT_SUPPORTED, "AES-GCM needs "
			    "KMIP 1.4 or later, where the Authenticated "
			    "Encryption Tag can travel; use CBC with KMIP 1.2 "
			    "or 1.3");
		if (cp->pkcs5)
			return bad(r, rsp, "GCM takes no padding");
		if (cp->ivlen != 0 && (cp->ivlen < GCM_IV_MIN ||
		    cp->ivlen > GCM_IV_MAX))
			return bad(r, rsp, "a GCM IV is 64 to 1024 bits long");
		if (cp->taglen != 4 && cp->taglen != 8 &&
		    (cp->taglen < 12 || cp->taglen > 16))
			return bad(r, rsp, "a GCM Tag Length is 4, 8 or 12 to "
			    "16 bytes");
		return 0;
	case KMIP_MODE_CBC:
		if (cp->ivlen != 0 && cp->ivlen != CIPHER_BLOCK)
			return bad(r, rsp, "an AES-CBC IV is 128 bits long");
		cp->ivlen = CIPHER_BLOCK;
		if (p->aad.p != NULL || p->tag.p != NULL)
			return bad(r, rsp, "additional data and tags belong "
			    "to GCM, not CBC");
		return 0;
	}
	return access_fail(r, rsp, KMIP_REASON_FEATURE_NOT_SUPPORTED,
	    "Block Cipher Mode 0x%02X is not supported; kmsd does CBC (0x01) "
	    "and GCM (0x09)", cp->mode);
}

/* The key for an operation: owner, state, usage bit; -1 if refused. */
static int
usable(struct kms_req *r, const struct kmip_item *req, struct kms_rec *rec,
    int encrypt, struct kmip_item *rsp)
{
	const char	*uid;
	uint32_t	 st;

	if ((uid = access_uid(r, &req->p, rsp)) == NULL ||
	    access_fetch(r, uid, rec, rsp) == -1)
		return -1;
	st = access_state(rec, (int64_t)time(NULL));
	if (st == KMIP_STATE_DESTROYED || st == KMIP_STATE_DESTROYED_COMPROMISED)
		return access_fail(r, rsp, KMIP_REASON_OBJECT_DESTROYED,
		    "object %s was destroyed; its key material is gone",
		    rec->uid);
	if (encrypt && st != KMIP_STATE_ACTIVE)
		return access_state_fail(r, rsp, KMIP_REASON_ILLEGAL_OPERATION,
		    "key %s is %s; only an Active key encrypts", rec->uid,
		    access_state_name(st));
	if (!encrypt && st == KMIP_STATE_PRE_ACTIVE)
		return access_state_fail(r, rsp, KMIP_REASON_ILLEGAL_OPERATION,
		    "key %s is Pre-Active; activate it first", rec->uid);
	if (!(rec->usage_mask & (encrypt ? KMIP_USAGE_ENCRYPT :
	    KMIP_USAGE_DECRYPT)))
		return access_fail(r, rsp, KMIP_REASON_PERMISSION_DENIED,
		    "the Cryptographic Usage Mask of key %s lacks %s (0x%02X)",
		    rec->uid, encrypt ? "Encrypt" : "Decrypt",
		    encrypt ? KMIP_USAGE_ENCRYPT : KMIP_USAGE_DECRYPT);
	return 0;
}

/*
 * The output buffer (len + one block) and the unwrapped key of one
 * operation; NULL after failing rsp.
 */
static uint8_t *
begin(struct kms_req *r, struct kmip_item *rsp, const struct kms_rec *rec,
    size_t len, uint8_t key[KMS_KEY_MAX], size_t *keylen)
{
	uint8_t	*out;

	if ((out = malloc(len + CIPHER_BLOCK)) == NULL) {
		access_fail(r, rsp, KMIP_REASON_GENERAL_FAILURE,
		    "out of memory");
		return NULL;
	}
	if (access_unwrap(r, rsp, rec, key, keylen) == -1) {
		free(out);
		return NULL;
	}
	return out;
}

/* Seed pool creation step 3: the KMS encrypts the KEK with the master key. */
int
op_encrypt(struct kms_req *r, const struct kmip_item *req,
    struct kmip_item *rsp)
{
	const struct kmip_payload	*p = &req->p;
	struct cipher_params		 cp;
	struct kms_rec			 rec;
	uint8_t				 key[KMS_KEY_MAX], tag[16];
	uint8_t				 ivbuf[GCM_IV_MAX], *out = NULL;
	const uint8_t			*iv;
	size_t				 keylen = 0, ivlen, outlen = 0;
	int				 gcm, rc = -1;

	if (usable(r, req, &rec, 1, rsp) == -1 ||
	    params(r, &rec, p, &cp, rsp) == -1)
		return -1;
	gcm = cp.mode == KMIP_MODE_GCM;
	if (cp.random_iv && p->iv.p != NULL)
		return bad(r, rsp, "Random IV is true and an IV was given; "
		    "send one or the other");
	if (p->iv.p != NULL) {
		iv = p->iv.p;
		ivlen = p->iv.len;
		if ((gcm && (ivlen < GCM_IV_MIN || ivlen > GCM_IV_MAX)) ||
		    (!gcm && ivlen != CIPHER_BLOCK) ||
		    (cp.ivlen != 0 && gcm && ivlen != cp.ivlen))
			return bad(r, rsp, "the IV/Counter/Nonce has the wrong "
			    "length for the mode (CBC: 16 bytes, GCM: 8 to 128 "
			    "bytes, as IV Length says)");
	} else {
		ivlen = cp.ivlen != 0 ? cp.ivlen : GCM_IV_DEFAULT;
		if (crypto_random(ivbuf, ivlen) == -1)
			return access_fail(r, rsp, KMIP_REASON_GENERAL_FAILURE,
			    "kmsd could not draw random bytes for the IV");
		iv = ivbuf;
	}
	if (!gcm && !cp.pkcs5 && p->data.len % CIPHER_BLOCK != 0)
		return bad(r, rsp, "with Padding Method None, CBC needs data "
		    "in whole 16-byte blocks");
	if ((out = begin(r, rsp, &rec, p->data.len, key, &keylen)) == NULL)
		return -1;
	if (gcm ? cipher_gcm_seal(key, keylen, iv, ivlen, p->aad.p,
	    p->aad.len, p->data.p, p->data.len, out, tag, cp.taglen) :
	    cipher_cbc(1, key, keylen, iv, cp.pkcs5, p->data.p, p->data.len,
	    out, &outlen)) {
		access_fail(r, rsp, KMIP_REASON_CRYPTOGRAPHIC_FAILURE,
		    "encryption failed");
		goto fail;
	}
	if (gcm)
		outlen = p->data.len;
	if (access_ok_uid(rsp, rec.uid) == -1)
		goto fail;
	if (kmip_bytes_set(&rsp->p.data, out, outlen) == -1 ||
	    (p->iv.p == NULL && kmip_bytes_set(&rsp->p.iv, iv, ivlen) == -1) ||
	    (gcm && kmip_bytes_set(&rsp->p.tag, tag, cp.taglen) == -1)) {
		access_fail(r, rsp, KMIP_REASON_GENERAL_FAILURE,
		    "out of memory");
		goto fail;
	}
	rc = 0;
	snprintf(r->note, sizeof(r->note), "AES-%s %zu bytes",
	    gcm ? "GCM" : "CBC", p->data.len);
	if (r->trace_id != NULL)
		trace_step(r->k->trace, r->trace_id, "pool", 3, r->c->subject,
		    p->data.len, "encrypted %zu bytes with master key %s "
		    "(AES-%s)", p->data.len, rec.uid, gcm ? "GCM" : "CBC");
 fail:
	crypto_wipe(key, sizeof(key));
	crypto_wipe(out, p->data.len + CIPHER_BLOCK);
	free(out);
	return rc;
}

int
op_decrypt(struct kms_req *r, const struct kmip_item *req,
    struct kmip_item *rsp)
{
	const struct kmip_payload	*p = &req->p;
	struct cipher_params		 cp;
	struct kms_rec			 rec;
	uint8_t				 key[KMS_KEY_MAX], *out = NULL;
	size_t				 keylen = 0, outlen = 0;
	int				 gcm, rc = -1;

	if (usable(r, req, &rec, 0, rsp) == -1 ||
	    params(r, &rec, p, &cp, rsp) == -1)
		return -1;
	gcm = cp.mode == KMIP_MODE_GCM;
	if (p->iv.p == NULL)
		return bad(r, rsp, "Decrypt needs the IV/Counter/Nonce the data "
		    "was encrypted with");
	if ((gcm && (p->iv.len < GCM_IV_MIN || p->iv.len > GCM_IV_MAX)) ||
	    (!gcm && p->iv.len != CIPHER_BLOCK))
		return bad(r, rsp, "the IV/Counter/Nonce has the wrong length "
		    "for the mode (CBC: 16 bytes, GCM: 8 to 128 bytes)");
	if (gcm && (p->tag.p == NULL || p->tag.len < 4 || p->tag.len > 16 ||
	    (cp.taglen_given && p->tag.len != cp.taglen)))
		return bad(r, rsp, "GCM Decrypt needs the Authenticated "
		    "Encryption Tag (4 to 16 bytes, as Tag Length says)");
	if (!gcm && (p->data.len == 0 || p->data.len % CIPHER_BLOCK != 0))
		return bad(r, rsp, "AES-CBC ciphertext comes in whole 16-byte "
		    "blocks");
	if ((out = begin(r, rsp, &rec, p->data.len, key, &keylen)) == NULL)
		return -1;
	if (gcm ? cipher_gcm_open(key, keylen, p->iv.p, p->iv.len, p->aad.p,
	    p->aad.len, p->data.p, p->data.len, out, p->tag.p, p->tag.len) :
	    cipher_cbc(0, key, keylen, p->iv.p, cp.pkcs5, p->data.p,
	    p->data.len, out, &outlen)) {
		access_fail(r, rsp, KMIP_REASON_CRYPTOGRAPHIC_FAILURE, gcm ?
		    "the Authenticated Encryption Tag does not verify (wrong "
		    "key, IV, additional data or tag, or altered data)" :
		    "the data does not decrypt to valid PKCS#5 padding");
		goto fail;
	}
	if (gcm)
		outlen = p->data.len;
	if (access_ok_uid(rsp, rec.uid) == -1)
		goto fail;
	if (kmip_bytes_set(&rsp->p.data, out, outlen) == -1) {
		access_fail(r, rsp, KMIP_REASON_GENERAL_FAILURE,
		    "out of memory");
		goto fail;
	}
	snprintf(r->note, sizeof(r->note), "AES-%s %zu bytes",
	    gcm ? "GCM" : "CBC", p->data.len);
	rc = 0;
 fail:
	crypto_wipe(key, sizeof(key));
	crypto_wipe(out, p->data.len + CIPHER_BLOCK);
	free(out);
	return rc;
}
