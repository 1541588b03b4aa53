/*
 * keyseal.h - protecting a DEK over the network with the client network
 * password (seed backup step 3 and restore step 5), and the client's proof of
 * knowing that password when it registers.
 *
 * CommServe and the client both hold the network key:
 *	network key = PBKDF2-HMAC-SHA256(password, salt, iterations, 32)
 * A DEK is sealed under HKDF-SHA256(network key, fresh salt,
 * "keyflow dek seal") with AES-256-GCM, AAD = job id (8 bytes BE) || client
 * name; the sealed plaintext is DEK (32) || job token (32).
 * Registration proof = HMAC-SHA256(HKDF(network key, "", "keyflow auth"),
 *	"keyflow-auth-v1" || name || 0 || server nonce || client nonce).
 */
#ifndef KF_KEYSEAL_H
#define KF_KEYSEAL_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"

#define KF_SEAL_SALT_LEN	16
#define KF_SEAL_CT_LEN		(2 * KF_KEY_LEN + KF_TAG_LEN)

struct sealed_key {
	uint8_t	salt[KF_SEAL_SALT_LEN];		/* HKDF salt, fresh per seal */
	uint8_t	nonce[KF_NONCE_LEN];		/* GCM nonce */
	uint8_t	ct[KF_SEAL_CT_LEN];		/* DEK||token ciphertext, tag */
};

int	keyseal_network_key(const void *pw, size_t pwlen, const uint8_t *salt,
	    size_t saltlen, unsigned int iterations, uint8_t nk[KF_KEY_LEN]);
int	keyseal_seal(const uint8_t nk[KF_KEY_LEN], uint64_t job,
	    const char *client, const uint8_t dek[KF_KEY_LEN],
	    const uint8_t token[KF_TOKEN_LEN], struct sealed_key *out);
/* -1 when the seal does not open: wrong password, wrong job or client. */
int	keyseal_open(const uint8_t nk[KF_KEY_LEN], uint64_t job,
	    const char *client, const struct sealed_key *in,
	    uint8_t dek[KF_KEY_LEN], uint8_t token[KF_TOKEN_LEN]);
int	keyseal_auth_proof(const uint8_t nk[KF_KEY_LEN], const char *name,
	    const uint8_t *server_nonce, size_t snlen,
	    const uint8_t *client_nonce, size_t cnlen,
	    uint8_t proof[KF_SHA256_LEN]);

#endif
