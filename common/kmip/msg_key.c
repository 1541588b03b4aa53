/*
 * msg_key.c - the Symmetric Key managed object (KMIP 1.2 section 2.2.2):
 * Symmetric Key {Key Block {Key Format Type, Key Compression Type?,
 * Key Value {Key Material, Attribute*}, Cryptographic Algorithm,
 * Cryptographic Length, Key Wrapping Data?}}.
 *
 * Key Material is a Byte String for the Raw and Opaque formats and a
 * Structure {Key} for Transparent Symmetric Key; both are read.  A wrapped
 * key (Key Value as a Byte String, or Key Wrapping Data) is refused: keyflow
 * never asks for wrapping, so one arriving means a confused peer.  The key
 * bytes are wiped by kmip_key_clear().
 */
#include <stdlib.h>
#include <string.h>

#include "msg_int.h"

int
key_encode(const struct kmip_key *k, struct ttlv *parent,
    struct kmip_err *err)
{
	struct ttlv	*kb, *kv, *km;
	uint32_t	 fmt = k->format ? k->format : KMIP_KEYFMT_RAW;

	if (k->material.p == NULL) {
		kmip_err_set(err, KMIP_REASON_GENERAL_FAILURE,
		    "the Symmetric Key has no key material to send");
		return -1;
	}
	kb = ttlv_add_struct(ttlv_add_struct(parent, KMIP_TAG_SYMMETRIC_KEY),
	    KMIP_TAG_KEY_BLOCK);
	ttlv_add_enum(kb, KMIP_TAG_KEY_FORMAT_TYPE, fmt);
	kv = ttlv_add_struct(kb, KMIP_TAG_KEY_VALUE);
	if (fmt == KMIP_KEYFMT_TRANSPARENT_SYMMETRIC) {
		km = ttlv_add_struct(kv, KMIP_TAG_KEY_MATERIAL);
		ttlv_add_bytes(km, KMIP_TAG_KEY, k->material.p,
		    k->material.len);
	} else
		ttlv_add_bytes(kv, KMIP_TAG_KEY_MATERIAL, k->material.p,
		    k->material.len);
	if (k->alg != 0)
		ttlv_add_enum(kb, KMIP_TAG_CRYPTO_ALGORITHM, k->alg);
	if (k->length != 0)
		ttlv_add_int(kb, KMIP_TAG_CRYPTO_LENGTH, k->length);
	return 0;
}

/* Read Key Value's material into k (raw bytes or Transparent {Key}). */
static int
material_decode(const struct ttlv *kv, struct kmip_key *k,
    struct kmip_err *err)
{
	const struct ttlv	*km;
	uint8_t			*p = NULL;
	size_t			 len = 0;
	int			 r;

	if ((km = ttlv_find(kv, KMIP_TAG_KEY_MATERIAL)) == NULL) {
		kmip_err_set(err, KMIP_REASON_MISSING_DATA,
		    "the Key Value has no Key Material");
		return -1;
	}
	if (km->type == TTLV_STRUCT)
		r = ttlv_find_bytes(km, KMIP_TAG_KEY, &p, &len, err);
	else
		r = ttlv_find_bytes(kv, KMIP_TAG_KEY_MATERIAL, &p, &len, err);
	if (r == -1)
		return -1;
	if (r == 0) {
		kmip_err_set(err, KMIP_REASON_MISSING_DATA,
		    "the Transparent Symmetric Key has no Key");
		return -1;
	}
	kmip_bytes_clear(&k->material);
	k->material.p = p;
	k->material.len = len;
	return 0;
}

int
key_decode(const struct ttlv *s, struct kmip_key *k, uint32_t *has,
    struct kmip_err *err)
{
	const struct ttlv	*kb, *kv;
	int			 r;

	if (ttlv_check_type(s, TTLV_STRUCT, err) == -1)
		return -1;
	if ((r = ttlv_find_struct(s, KMIP_TAG_KEY_BLOCK, &kb, err)) != 1) {
		if (r == 0)
			kmip_err_set(err, KMIP_REASON_INVALID_MESSAGE,
			    "the Symmetric Key has no Key Block");
		return -1;
	}
	if ((r = ttlv_find_enum(kb, KMIP_TAG_KEY_FORMAT_TYPE, &k->format,
	    err)) != 1) {
		if (r == 0)
			kmip_err_set(err, KMIP_REASON_INVALID_MESSAGE,
			    "the Key Block has no Key Format Type");
		return -1;
	}
	if ((kv = ttlv_find(kb, KMIP_TAG_KEY_VALUE)) == NULL) {
		kmip_err_set(err, KMIP_REASON_KEY_VALUE_NOT_PRESENT,
		    "the Key Block has no Key Value");
		return -1;
	}
	if (kv->type != TTLV_STRUCT ||
	    ttlv_find(kb, KMIP_TAG_KEY_WRAPPING_DATA) != NULL) {
		*has |= KMIP_P_WRAPPED_KEY;
		kmip_err_set(err, KMIP_REASON_FEATURE_NOT_SUPPORTED,
		    "the key arrived wrapped (Key Wrapping Data); only plain "
		    "keys are supported");
		return -1;
	}
	if (material_decode(kv, k, err) == -1 ||
	    ttlv_find_enum(kb, KMIP_TAG_CRYPTO_ALGORITHM, &k->alg, err) == -1 ||
	    ttlv_find_int(kb, KMIP_TAG_CRYPTO_LENGTH, &k->length, err) == -1)
		return -1;
	return 0;
}

void
kmip_key_clear(struct kmip_key *k)
{
	kmip_bytes_clear(&k->material);
	memset(k, 0, sizeof(*k));
}
