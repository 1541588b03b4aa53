/*
 * keys.c - the wrapping conventions of keyflow's key hierarchy.
 *
 * Every key at rest is an AES-256-GCM blob (nonce || ciphertext || tag)
 * whose AAD names what it belongs to, so a blob copied onto another row
 * does not open:
 *	network key	under the local key, AAD "keyflow nk" || client name
 *	master key	(built-in KMS) under the local key,
 *			AAD "keyflow mk" || key set id
 *	KEK		under the master key, AAD "keyflow kek" || key set id
 *	DEK		under the KEK, AAD "keyflow dek" || job id || client
 *			id || key set id
 * Over the network a DEK travels sealed with the client's network key
 * (keyseal.h).
 */
#include <stdio.h>
#include <string.h>

#include "commserve.h"
#include "keyseal.h"
#include "log.h"
#include "util.h"

int
keys_wrap_network_key(struct cs *cs, const char *client,
    const uint8_t nk[KF_KEY_LEN], struct db_blob *out)
{
	uint8_t	aad[DB_NAME_MAX + 16];
	size_t	aadlen;

	localkey_aad(aad, &aadlen, "keyflow nk", client, strlen(client));
	out->len = KF_KEY_LEN + KF_WRAP_OVERHEAD;
	return crypto_wrap(cs->local_key, aad, aadlen, nk, KF_KEY_LEN,
	    out->data);
}

int
keys_unwrap_network_key(struct cs *cs, const struct db_client *c,
    uint8_t nk[KF_KEY_LEN])
{
	uint8_t	aad[DB_NAME_MAX + 16];
	size_t	aadlen;

	if (c->nk_wrapped.len != KF_KEY_LEN + KF_WRAP_OVERHEAD)
		return -1;
	localkey_aad(aad, &aadlen, "keyflow nk", c->name, strlen(c->name));
	return crypto_unwrap(cs->local_key, aad, aadlen, c->nk_wrapped.data,
	    c->nk_wrapped.len, nk);
}

static void
dek_aad(uint8_t aad[64], size_t *len, int64_t job, int64_t client_id,
    int64_t key_set_id)
{
	uint8_t	ids[24];

	be64_put(ids, (uint64_t)job);
	be64_put(ids + 8, (uint64_t)client_id);
	be64_put(ids + 16, (uint64_t)key_set_id);
	localkey_aad(aad, len, "keyflow dek", ids, sizeof(ids));
}

int
keys_wrap_dek(const uint8_t kek[KF_KEY_LEN], int64_t job, int64_t client_id,
    int64_t key_set_id, const uint8_t dek[KF_KEY_LEN], struct db_blob *out)
{
	uint8_t	aad[64];
	size_t	aadlen;

	dek_aad(aad, &aadlen, job, client_id, key_set_id);
	out->len = KF_KEY_LEN + KF_WRAP_OVERHEAD;
	return crypto_wrap(kek, aad, aadlen, dek, KF_KEY_LEN, out->data);
}

int
keys_unwrap_dek(const uint8_t kek[KF_KEY_LEN], int64_t job,
    int64_t client_id, int64_t key_set_id, const struct db_blob *in,
    uint8_t dek[KF_KEY_LEN])
{
	uint8_t	aad[64];
	size_t	aadlen;

	if (in->len != KF_KEY_LEN + KF_WRAP_OVERHEAD)
		return -1;
	dek_aad(aad, &aadlen, job, client_id, key_set_id);
	return crypto_unwrap(kek, aad, aadlen, in->data, in->len, dek);
}

void
keys_kek_aad(int64_t key_set_id, uint8_t aad[32], size_t *len)
{
	uint8_t	id[8];

	be64_put(id, (uint64_t)key_set_id);
	localkey_aad(aad, len, "keyflow kek", id, sizeof(id));
}

/*
 * Restore step 3 (and a backup without a cached KEK): open the KEK.  "GCM"
 * is AES-256-GCM with the IV as long as the KMS chose it (the built-in KMS
 * uses 12 bytes, PyKMIP 16) and AAD = keys_kek_aad(key set).  "CBC" is what
 * a KMIP server before 1.4 returns: AES-256-CBC with PKCS#5 padding, a
 * 16-byte IV, 48 bytes for the 32-byte KEK, and no AAD; CBC carries no
 * integrity of its own, and a wrong KEK is caught when the DEK's GCM wrap
 * (whose AAD names the key set) does not open.
 */
int
keys_decrypt_kek(const struct db_key_set *ks, const uint8_t mk[KF_KEY_LEN],
    uint8_t kek[KF_KEY_LEN])
{
	uint8_t	aad[32], buf[KF_KEY_LEN + 16];
	size_t	aadlen, n = 0;
	int	rc;

	if (strcmp(ks->kek_mode, "GCM") == 0) {
		if (ks->kek_ct.len != KF_KEY_LEN || ks->kek_iv.len == 0 ||
		    ks->kek_iv.len > KF_GCM_IV_MAX ||
		    ks->kek_tag.len != KF_TAG_LEN)
			return -1;
		keys_kek_aad(ks->id, aad, &aadlen);
		return crypto_gcm_open_iv(mk, ks->kek_iv.data, ks->kek_iv.len,
		    aad, aadlen, ks->kek_ct.data, KF_KEY_LEN, kek,
		    ks->kek_tag.data);
	}
	if (strcmp(ks->kek_mode, "CBC") != 0 ||
	    ks->kek_ct.len != sizeof(buf) ||
	    ks->kek_iv.len != KF_CBC_IV_LEN || ks->kek_tag.len != 0)
		return -1;
	rc = crypto_cbc_decrypt(mk, ks->kek_iv.data, ks->kek_ct.data,
	    sizeof(buf), buf, &n);
	if (rc == 0 && n == KF_KEY_LEN)
		memcpy(kek, buf, KF_KEY_LEN);
	else
		rc = -1;
	crypto_wipe(buf, sizeof(buf));
	return rc;
}

/*
 * Seal a DEK and the job's token for one client (backup step 3, restore
 * step 5).  store holds the bytes out points into.
 */
int
keys_seal_for_client(struct cs *cs, const char *client,
    const struct db_blob *nk_wrapped, uint64_t job,
    const uint8_t dek[KF_KEY_LEN], const uint8_t token[KF_TOKEN_LEN],
    Kf__SealedKey *out, uint8_t *store, size_t storecap)
{
	struct db_client	 c;
	struct sealed_key	*sk = (struct sealed_key *)store;
	uint8_t			 nk[KF_KEY_LEN];
	int			 rc;

	if (storecap < sizeof(*sk))
		return -1;
	/* The row read when the job started (a backup), else read it now. */
	if (nk_wrapped != NULL && nk_wrapped->len > 0) {
		if (snprintf(c.name, sizeof(c.name), "%s", client) >=
		    (int)sizeof(c.name))
			return -1;
		c.nk_wrapped = *nk_wrapped;
	} else if (db_client_find(cs->db, client, &c) != DB_OK)
		return -1;
	if (keys_unwrap_network_key(cs, &c, nk) == -1)
		return -1;
	rc = keyseal_seal(nk, job, client, dek, token, sk);
	crypto_wipe(nk, sizeof(nk));
	if (rc == -1)
		return -1;
	out->salt.data = sk->salt;
	out->salt.len = sizeof(sk->salt);
	out->nonce.data = sk->nonce;
	out->nonce.len = sizeof(sk->nonce);
	out->ciphertext.data = sk->ct;
	out->ciphertext.len = sizeof(sk->ct);
	return 0;
}

/*
 * The plaintext KEK for a backup.  The seed does not say where CommServe
 * gets it; keyflow takes the restore path (master key from the KMS, KEK
 * opened locally) and keeps the result in memory for a bounded time.
 */
int
keys_kek_for_backup(struct cs *cs, const struct db_key_set *ks,
    uint8_t kek[KF_KEY_LEN], const char **how, char *err, size_t errcap)
{
	const struct kms_backend	*be;
	struct db_kms			 kms;
	uint8_t				 mk[KF_KEY_LEN];
	char				 tid[64];
	int				 rc;

	if (kekcache_get(cs->keks, ks->id, kek) == 0) {
		*how = "KEK from CommServe's in-memory cache";
		return 0;
	}
	if (db_kms_get(cs->db, ks->kms_id, &kms) != DB_OK ||
	    (be = kms_backend_for(&kms)) == NULL) {
		snprintf(err, errcap, "key set %lld: its KMS is unknown",
		    (long long)ks->id);
		return -1;
	}
	snprintf(tid, sizeof(tid), "keyset/%lld", (long long)ks->id);
	if (be->get_master(cs, &kms, tid, ks, mk, err, errcap) == -1)
		return -1;
	rc = keys_decrypt_kek(ks, mk, kek);
	crypto_wipe(mk, sizeof(mk));
	if (rc == -1) {
		snprintf(err, errcap, "key set %lld: the KEK does not open "
		    "under master key %s", (long long)ks->id,
		    ks->master_key_id);
		return -1;
	}
	kekcache_put(cs->keks, ks->id, kek, cs->conf.kek_cache_s);
	*how = "KEK unwrapped with the master key from the KMS";
	return 0;
}
