/*
 * cipher.c - the block cipher modes KMIP clients ask kmsd's Encrypt and
 * Decrypt for: AES-GCM (any IV length, tags of 4 to 16 bytes, additional
 * data) and AES-CBC with or without PKCS#5 padding, for 128, 192 and
 * 256-bit keys.  common/crypto.h offers only what keyflow itself uses
 * (AES-256-GCM with 12-byte nonces); these are thin wrappers over OpenSSL's
 * EVP interface, nothing hand-made.  Every function returns 0 or -1; a
 * failed GCM open wipes what it wrote.
 */
#include <limits.h>
#include <string.h>

#include <openssl/evp.h>

#include "kms.h"

static const EVP_CIPHER *
aes(size_t keylen, int gcm)
{
	switch (keylen) {
	case 16:
		return gcm ? EVP_aes_128_gcm() : EVP_aes_128_cbc();
	case 24:
		return gcm ? EVP_aes_192_gcm() : EVP_aes_192_cbc();
	case 32:
		return gcm ? EVP_aes_256_gcm() : EVP_aes_256_cbc();
	}
	return NULL;
}

/* A GCM context keyed for one message, or NULL. */
static EVP_CIPHER_CTX *
gcm_ctx(int enc, const uint8_t *key, size_t keylen, const uint8_t *iv,
    size_t ivlen, const uint8_t *aad, size_t aadlen)
{
	const EVP_CIPHER	*c = aes(keylen, 1);
	EVP_CIPHER_CTX		*ctx;
	int			 n;

	if (c == NULL || ivlen == 0 || ivlen > INT_MAX || aadlen > INT_MAX ||
	    (ctx = EVP_CIPHER_CTX_new()) == NULL)
		return NULL;
	if (EVP_CipherInit_ex(ctx, c, NULL, NULL, NULL, enc) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, (int)ivlen,
	    NULL) != 1 ||
	    EVP_CipherInit_ex(ctx, NULL, NULL, key, iv, enc) != 1 ||
	    (aadlen > 0 && EVP_CipherUpdate(ctx, NULL, &n, aad,
	    (int)aadlen) != 1)) {
		EVP_CIPHER_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

int
cipher_gcm_seal(const uint8_t *key, size_t keylen, const uint8_t *iv,
    size_t ivlen, const uint8_t *aad, size_t aadlen, const uint8_t *in,
    size_t len, uint8_t *out, uint8_t *tag, size_t taglen)
{
	EVP_CIPHER_CTX	*ctx;
	int		 n, m, rc = -1;

	if (len > INT_MAX || taglen < 4 || taglen > 16 ||
	    (ctx = gcm_ctx(1, key, keylen, iv, ivlen, aad, aadlen)) == NULL)
		return -1;
	if (EVP_EncryptUpdate(ctx, out, &n, in, (int)len) == 1 &&
	    EVP_EncryptFinal_ex(ctx, out + n, &m) == 1 &&
	    (size_t)(n + m) == len &&
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, (int)taglen,
	    tag) == 1)
		rc = 0;
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

int
cipher_gcm_open(const uint8_t *key, size_t keylen, const uint8_t *iv,
    size_t ivlen, const uint8_t *aad, size_t aadlen, const uint8_t *in,
    size_t len, uint8_t *out, const uint8_t *tag, size_t taglen)
{
	EVP_CIPHER_CTX	*ctx;
	uint8_t		 t[16];
	int		 n, m, rc = -1;

	if (len > INT_MAX || taglen < 4 || taglen > 16 ||
	    (ctx = gcm_ctx(0, key, keylen, iv, ivlen, aad, aadlen)) == NULL)
		return -1;
	memcpy(t, tag, taglen);
	if (EVP_DecryptUpdate(ctx, out, &n, in, (int)len) == 1 &&
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, (int)taglen,
	    t) == 1 && EVP_DecryptFinal_ex(ctx, out + n, &m) == 1 &&
	    (size_t)(n + m) == len)
		rc = 0;
	EVP_CIPHER_CTX_free(ctx);
	if (rc == -1 && len > 0)
		crypto_wipe(out, len);
	return rc;
}

int
cipher_cbc(int encrypt, const uint8_t *key, size_t keylen,
    const uint8_t iv[CIPHER_BLOCK], int pkcs5, const uint8_t *in, size_t len,
    uint8_t *out, size_t *outlen)
{
	const EVP_CIPHER	*c = aes(keylen, 0);
	EVP_CIPHER_CTX		*ctx;
	int			 n, m, rc = -1;

	*outlen = 0;
	if (c == NULL || len > INT_MAX - CIPHER_BLOCK ||
	    (!pkcs5 && len % CIPHER_BLOCK != 0) ||
	    (!encrypt && (len == 0 || len % CIPHER_BLOCK != 0)) ||
	    (ctx = EVP_CIPHER_CTX_new()) == NULL)
		return -1;
	if (EVP_CipherInit_ex(ctx, c, NULL, key, iv, encrypt) == 1 &&
	    EVP_CIPHER_CTX_set_padding(ctx, pkcs5) == 1 &&
	    EVP_CipherUpdate(ctx, out, &n, in, (int)len) == 1 &&
	    EVP_CipherFinal_ex(ctx, out + n, &m) == 1) {
		*outlen = (size_t)(n + m);
		rc = 0;
	}
	EVP_CIPHER_CTX_free(ctx);
	if (rc == -1)
		crypto_wipe(out, len + CIPHER_BLOCK);
	return rc;
}
