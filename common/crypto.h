/*
 * crypto.h - the only place keyflow touches cryptographic primitives, all of
 * them OpenSSL 3's: random bytes, AES-256-GCM, SHA-256, HMAC, PBKDF2, HKDF,
 * and AES-256-CBC decryption for KEKs a KMIP server encrypted in CBC mode.
 *
 * Every function returns 0 on success and -1 on failure; a failed GCM open
 * (wrong key, tampered byte, wrong AAD) is -1 and writes no plaintext the
 * caller may use (the output buffer is wiped).
 */
#ifndef KF_CRYPTO_H
#define KF_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define KF_KEY_LEN	32	/* AES-256 */
#define KF_NONCE_LEN	12	/* GCM nonce */
#define KF_TAG_LEN	16	/* GCM tag */
#define KF_SHA256_LEN	32
#define KF_TOKEN_LEN	32	/* job token */
#define KF_PBKDF2_ITER	100000	/* network-password derivation */

/* Fill buf with len bytes from the OpenSSL CSPRNG. */
int	crypto_random(void *buf, size_t len);

/* Wipe key material (OPENSSL_cleanse). */
void	crypto_wipe(void *buf, size_t len);

/* Constant-time comparison: 0 when equal. */
int	crypto_memeq(const void *a, const void *b, size_t len);

/*
 * AES-256-GCM.  seal writes len bytes of ciphertext to out (may equal in)
 * and the 16-byte tag to tag.  open verifies tag before returning 0; on
 * failure out is wiped and -1 returned.  aad may be NULL when aadlen is 0.
 */
int	crypto_gcm_seal(const uint8_t key[KF_KEY_LEN],
	    const uint8_t nonce[KF_NONCE_LEN], const void *aad, size_t aadlen,
	    const void *in, size_t len, void *out, uint8_t tag[KF_TAG_LEN]);
int	crypto_gcm_open(const uint8_t key[KF_KEY_LEN],
	    const uint8_t nonce[KF_NONCE_LEN], const void *aad, size_t aadlen,
	    const void *in, size_t len, void *out,
	    const uint8_t tag[KF_TAG_LEN]);

/*
 * AES-256-GCM open with an IV of any length from 1 to KF_GCM_IV_MAX bytes,
 * for ciphertext a KMIP server produced (PyKMIP generates 16-byte GCM IVs).
 * Same contract as crypto_gcm_open.
 */
#define KF_GCM_IV_MAX	64
int	crypto_gcm_open_iv(const uint8_t key[KF_KEY_LEN], const uint8_t *iv,
	    size_t ivlen, const void *aad, size_t aadlen, const void *in,
	    size_t len, void *out, const uint8_t tag[KF_TAG_LEN]);

/*
 * AES-256-CBC decryption with PKCS#5 padding, for KEKs that a KMIP server
 * encrypted in CBC mode (KMIP before 1.4 has no GCM tag to return).  in is
 * len bytes, a positive multiple of 16; out must hold len bytes and gets
 * the unpadded plaintext, *outlen its length.  -1 on a bad length or bad
 * padding, with out wiped.  CBC has no integrity: callers authenticate the
 * result some other way (keyflow's KEK opens the DEK's GCM wrap).
 */
#define KF_CBC_IV_LEN	16
int	crypto_cbc_decrypt(const uint8_t key[KF_KEY_LEN],
	    const uint8_t iv[KF_CBC_IV_LEN], const void *in, size_t len,
	    void *out, size_t *outlen);

/* SHA-256 in one call, and incrementally. */
int	crypto_sha256(const void *in, size_t len, uint8_t out[KF_SHA256_LEN]);
struct sha256_ctx;
struct sha256_ctx *sha256_new(void);
int	sha256_update(struct sha256_ctx *, const void *, size_t);
int	sha256_final(struct sha256_ctx *, uint8_t out[KF_SHA256_LEN]);
void	sha256_free(struct sha256_ctx **);

int	crypto_hmac_sha256(const void *key, size_t keylen, const void *msg,
	    size_t msglen, uint8_t out[KF_SHA256_LEN]);

/* PBKDF2-HMAC-SHA256 of a password into outlen bytes. */
int	crypto_pbkdf2(const void *pw, size_t pwlen, const void *salt,
	    size_t saltlen, unsigned int iterations, void *out, size_t outlen);

/* HKDF-SHA256 (extract and expand) into outlen bytes. */
int	crypto_hkdf(const void *ikm, size_t ikmlen, const void *salt,
	    size_t saltlen, const char *info, void *out, size_t outlen);

/*
 * Key wrap with AES-256-GCM for keys at rest (DEK under KEK, KEK under the
 * built-in master key, master key under the CommServe local key, network key
 * under the local key).  The blob is nonce (12) || ciphertext || tag (16),
 * so it is len + 28 bytes.  aad binds the blob to its row.
 */
#define KF_WRAP_OVERHEAD	(KF_NONCE_LEN + KF_TAG_LEN)
int	crypto_wrap(const uint8_t key[KF_KEY_LEN], const void *aad,
	    size_t aadlen, const void *in, size_t len, uint8_t *blob);
int	crypto_unwrap(const uint8_t key[KF_KEY_LEN], const void *aad,
	    size_t aadlen, const uint8_t *blob, size_t bloblen, void *out);

/* Lowercase hex of len bytes into out (2*len+1 bytes). */
void	crypto_hex(const void *in, size_t len, char *out);

#endif
