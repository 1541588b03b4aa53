/*
 * keyseal.c - moving a DEK across the network under the client network
 * password (seed backup step 3, restore step 5) and the client's proof of
 * knowing that password at registration.  The network key is PBKDF2 of the
 * password; each seal derives a one-use key with HKDF from it and a fresh
 * salt, and binds the ciphertext to the job and client through the AAD, so a
 * seal replayed to another job or client does not open.
 */
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "keyseal.h"
#include "util.h"

/* Longest client name accepted in an AAD or proof (hostile input bound). */
#define KEYSEAL_NAME_MAX	4096
/* Longest registration nonce accepted. */
#define KEYSEAL_NONCE_MAX	1024

static const char seal_info[] = "keyflow dek seal";
static const char auth_info[] = "keyflow auth";
static const char auth_label[] = "keyflow-auth-v1";

int
keyseal_network_key(const void *pw, size_t pwlen, const uint8_t *salt,
    size_t saltlen, unsigned int iterations, uint8_t nk[KF_KEY_LEN])
{
	return crypto_pbkdf2(pw, pwlen, salt, saltlen, iterations, nk,
	    KF_KEY_LEN);
}

/* AAD = job id (u64 BE) || client name; malloc'd, caller frees. */
static uint8_t *
keyseal_aad(uint64_t job, const char *client, size_t *len)
{
	uint8_t	*aad;
	size_t	 n;

	if (client == NULL ||
	    (n = strnlen(client, KEYSEAL_NAME_MAX + 1)) > KEYSEAL_NAME_MAX)
		return NULL;
	if ((aad = malloc(8 + n)) == NULL)
		return NULL;
	be64_put(aad, job);
	memcpy(aad + 8, client, n);
	*len = 8 + n;
	return aad;
}

int
keyseal_seal(const uint8_t nk[KF_KEY_LEN], uint64_t job, const char *client,
    const uint8_t dek[KF_KEY_LEN], const uint8_t token[KF_TOKEN_LEN],
    struct sealed_key *out)
{
	uint8_t	 key[KF_KEY_LEN], pt[2 * KF_KEY_LEN], *aad = NULL;
	size_t	 aadlen = 0;
	int	 rc = -1;

	memset(out, 0, sizeof(*out));
	if ((aad = keyseal_aad(job, client, &aadlen)) == NULL)
		goto fail;
	if (crypto_random(out->salt, sizeof(out->salt)) == -1 ||
	    crypto_random(out->nonce, sizeof(out->nonce)) == -1)
		goto fail;
	if (crypto_hkdf(nk, KF_KEY_LEN, out->salt, sizeof(out->salt),
	    seal_info, key, sizeof(key)) == -1)
		goto fail;
	memcpy(pt, dek, KF_KEY_LEN);
	memcpy(pt + KF_KEY_LEN, token, KF_TOKEN_LEN);
	if (crypto_gcm_seal(key, out->nonce, aad, aadlen, pt, sizeof(pt),
	    out->ct, out->ct + sizeof(pt)) == -1)
		goto fail;
	rc = 0;
 fail:
	crypto_wipe(key, sizeof(key));
	crypto_wipe(pt, sizeof(pt));
	free(aad);
	if (rc == -1)
		crypto_wipe(out, sizeof(*out));
	return rc;
}

int
keyseal_open(const uint8_t nk[KF_KEY_LEN], uint64_t job, const char *client,
    const struct sealed_key *in, uint8_t dek[KF_KEY_LEN],
    uint8_t token[KF_TOKEN_LEN])
{
	uint8_t	 key[KF_KEY_LEN], pt[2 * KF_KEY_LEN], *aad = NULL;
	size_t	 aadlen = 0;
	int	 rc = -1;

	if ((aad = keyseal_aad(job, client, &aadlen)) == NULL)
		goto fail;
	if (crypto_hkdf(nk, KF_KEY_LEN, in->salt, sizeof(in->salt),
	    seal_info, key, sizeof(key)) == -1)
		goto fail;
	if (crypto_gcm_open(key, in->nonce, aad, aadlen, in->ct, sizeof(pt),
	    pt, in->ct + sizeof(pt)) == -1)
		goto fail;
	memcpy(dek, pt, KF_KEY_LEN);
	memcpy(token, pt + KF_KEY_LEN, KF_TOKEN_LEN);
	rc = 0;
 fail:
	crypto_wipe(key, sizeof(key));
	crypto_wipe(pt, sizeof(pt));
	free(aad);
	if (rc == -1) {
		crypto_wipe(dek, KF_KEY_LEN);
		crypto_wipe(token, KF_TOKEN_LEN);
	}
	return rc;
}

int
keyseal_auth_proof(const uint8_t nk[KF_KEY_LEN], const char *name,
    const uint8_t *server_nonce, size_t snlen, const uint8_t *client_nonce,
    size_t cnlen, uint8_t proof[KF_SHA256_LEN])
{
	uint8_t	 key[KF_KEY_LEN], *msg = NULL, *p;
	size_t	 namelen, lablen = sizeof(auth_label) - 1;
	int	 rc = -1;

	if (name == NULL ||
	    (namelen = strnlen(name, KEYSEAL_NAME_MAX + 1)) >
	    KEYSEAL_NAME_MAX || snlen > KEYSEAL_NONCE_MAX ||
	    cnlen > KEYSEAL_NONCE_MAX || (server_nonce == NULL && snlen > 0) ||
	    (client_nonce == NULL && cnlen > 0))
		goto fail;
	if ((msg = malloc(lablen + namelen + 1 + snlen + cnlen)) == NULL)
		goto fail;
	p = msg;
	memcpy(p, auth_label, lablen);
	p += lablen;
	memcpy(p, name, namelen);
	p += namelen;
	*p++ = 0;
	if (snlen > 0)
		memcpy(p, server_nonce, snlen);
	p += snlen;
	if (cnlen > 0)
		memcpy(p, client_nonce, cnlen);
	p += cnlen;
	if (crypto_hkdf(nk, KF_KEY_LEN, NULL, 0, auth_info, key,
	    sizeof(key)) == -1)
		goto fail;
	if (crypto_hmac_sha256(key, sizeof(key), msg, (size_t)(p - msg),
	    proof) == -1)
		goto fail;
	rc = 0;
 fail:
	crypto_wipe(key, sizeof(key));
	free(msg);
	return rc;
}
