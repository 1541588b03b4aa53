/*
 * kms_builtin.c - the built-in KMS: for pools that name no external KMS.
 *
 * It does inside CommServe what a KMIP server does outside: generates the
 * master key (seed pool step 2), encrypts the KEK under it with
 * AES-256-GCM (step 3), and hands the master key back for restores
 * (restore step 2).  As the seed says, the master key itself is then
 * stored scrambled in the CommServe database; keyflow scrambles it under
 * the local key file (localkey.c), which never enters the database.
 */
#include <stdio.h>
#include <string.h>

#include "commserve.h"
#include "log.h"
#include "util.h"

#define MK_AAD_MAX	(16 + 8 + DB_NAME_MAX)

/*
 * The scrambled master key's AAD binds both its key set and its own id, so
 * a row whose master key id was changed no longer opens.
 */
static void
mk_aad(int64_t key_set_id, const char *key_id, uint8_t aad[MK_AAD_MAX],
    size_t *len)
{
	uint8_t	id[8 + DB_NAME_MAX];
	size_t	n = strnlen(key_id, DB_NAME_MAX - 1);

	be64_put(id, (uint64_t)key_set_id);
	memcpy(id + 8, key_id, n);
	localkey_aad(aad, len, "keyflow mk", id, 8 + n);
}

static int
unscramble(struct cs *cs, int64_t key_set_id, const char *key_id,
    const struct db_blob *blob, uint8_t mk[KF_KEY_LEN])
{
	uint8_t	aad[MK_AAD_MAX];
	size_t	aadlen;

	mk_aad(key_set_id, key_id, aad, &aadlen);
	if (blob->len != KF_KEY_LEN + KF_WRAP_OVERHEAD)
		return -1;
	return crypto_unwrap(cs->local_key, aad, aadlen, blob->data,
	    blob->len, mk);
}

/* Seed pool step 2: the KMS generates the master key. */
static int
builtin_create_master(struct cs *cs, const struct db_kms *kms,
    const char *trace_id, const char *label, int64_t key_set_id,
    struct kms_wrapped_kek *out, char *err, size_t errcap)
{
	uint8_t	mk[KF_KEY_LEN], aad[MK_AAD_MAX], uuid[16];
	char	hex[33];
	size_t	aadlen;
	int	rc = -1;

	(void)kms;
	if (crypto_random(mk, sizeof(mk)) == -1 ||
	    crypto_random(uuid, sizeof(uuid)) == -1) {
		snprintf(err, errcap, "built-in KMS: no random bytes");
		goto done;
	}
	crypto_hex(uuid, sizeof(uuid), hex);
	snprintf(out->key_id, sizeof(out->key_id), "builtin-%.8s-%.4s-%.4s-"
	    "%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
	/* The built-in KMS keeps its keys scrambled in the CommServe DB. */
	mk_aad(key_set_id, out->key_id, aad, &aadlen);
	out->scrambled_mk.len = KF_KEY_LEN + KF_WRAP_OVERHEAD;
	if (crypto_wrap(cs->local_key, aad, aadlen, mk, KF_KEY_LEN,
	    out->scrambled_mk.data) == -1) {
		snprintf(err, errcap, "built-in KMS: cannot scramble the "
		    "master key");
		goto done;
	}
	trace_step(cs->trace_kms, trace_id, "pool", 2, "commserve", KF_KEY_LEN,
	    "built-in KMS generated AES-256 master key %s (\"%s\") and "
	    "scrambled it under CommServe's local key", out->key_id, label);
	rc = 0;
done:
	crypto_wipe(mk, sizeof(mk));
	return rc;
}

/* Seed pool step 3: the KMS encrypts the KEK with the master key. */
static int
builtin_encrypt_kek(struct cs *cs, const struct db_kms *kms,
    const char *trace_id, int64_t key_set_id, const uint8_t kek[KF_KEY_LEN],
    struct kms_wrapped_kek *w, char *err, size_t errcap)
{
	uint8_t	mk[KF_KEY_LEN], aad[32];
	size_t	aadlen;
	int	rc = -1;

	(void)kms;
	if (unscramble(cs, key_set_id, w->key_id, &w->scrambled_mk,
	    mk) == -1) {
		snprintf(err, errcap, "built-in KMS: master key %s does not "
		    "open", w->key_id);
		goto done;
	}
	keys_kek_aad(key_set_id, aad, &aadlen);
	snprintf(w->mode, sizeof(w->mode), "GCM");
	w->iv.len = KF_NONCE_LEN;
	w->ct.len = KF_KEY_LEN;
	w->tag.len = KF_TAG_LEN;
	if (crypto_random(w->iv.data, KF_NONCE_LEN) == -1 ||
	    crypto_gcm_seal(mk, w->iv.data, aad, aadlen, kek, KF_KEY_LEN,
	    w->ct.data, w->tag.data) == -1) {
		snprintf(err, errcap, "built-in KMS: cannot encrypt the KEK");
		goto done;
	}
	trace_step(cs->trace_kms, trace_id, "pool", 3, "commserve",
	    KF_KEY_LEN, "encrypted the KEK with master key %s (AES-256-GCM, "
	    "96-bit nonce, 128-bit tag); returned the encrypted KEK and the "
	    "master key ID", w->key_id);
	rc = 0;
done:
	crypto_wipe(mk, sizeof(mk));
	return rc;
}

/* Seed restore step 2, the built-in KMS's side: hand out the master key. */
static int
builtin_get_master(struct cs *cs, const struct db_kms *kms,
    const char *trace_id, const struct db_key_set *ks,
    uint8_t mk[KF_KEY_LEN], char *err, size_t errcap)
{
	(void)kms;
	(void)trace_id;
	if (unscramble(cs, ks->id, ks->master_key_id, &ks->scrambled_mk,
	    mk) == -1) {
		snprintf(err, errcap, "built-in KMS: the scrambled master key "
		    "%s does not open under this CommServe's local key "
		    "(wrong state directory, or a tampered row)",
		    ks->master_key_id);
		return -1;
	}
	return 0;
}

const struct kms_backend kms_builtin = {
	.kind = "builtin",
	.create_master = builtin_create_master,
	.encrypt_kek = builtin_encrypt_kek,
	.get_master = builtin_get_master,
};
