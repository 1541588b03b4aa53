/*
 * crypto.c - keyflow's only contact with cryptographic primitives, all of
 * them OpenSSL 3 EVP calls: CSPRNG bytes, AES-256-GCM, SHA-256, HMAC-SHA256,
 * PBKDF2-HMAC-SHA256, HKDF-SHA256 and the nonce||ct||tag key-wrap blob used
 * for keys at rest; and AES-256-CBC decryption with PKCS#5 padding for KEKs
 * a KMIP server encrypted in CBC mode.  Nothing here logs key material;
 * errors are reported as -1 and, for GCM open and CBC decryption, a wiped
 * output buffer.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "crypto.h"

/* EVP takes int lengths: feed big buffers in pieces of this size. */
#define CRYPTO_STEP	(1 << 30)

struct sha256_ctx {
	EVP_MD_CTX	*md;	/* OpenSSL digest context, SHA-256 */
};

int
crypto_random(void *buf, size_t len)
{
	uint8_t	*p = buf;
	size_t	 n;

	while (len > 0) {
		n = len > CRYPTO_STEP ? CRYPTO_STEP : len;
		if (RAND_bytes(p, (int)n) != 1)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

void
crypto_wipe(void *buf, size_t len)
{
	if (buf != NULL && len > 0)
		OPENSSL_cleanse(buf, len);
}

int
crypto_memeq(const void *a, const void *b, size_t len)
{
	if (len == 0)
		return 0;
	return CRYPTO_memcmp(a, b, len) == 0 ? 0 : -1;
}

/* Key ctx for AES-256-GCM, then feed aad and len bytes of in through it. */
static int
gcm_run(EVP_CIPHER_CTX *ctx, const uint8_t *key, const uint8_t *nonce,
    size_t noncelen, const void *aad, size_t aadlen, const void *in,
    size_t len, void *out, int enc)
{
	const uint8_t	*ip = in, *ap = aad;
	uint8_t		*op = out;
	size_t		 n;
	int		 outl, rc;

	if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL,
	    enc) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, (int)noncelen,
	    NULL) != 1 ||
	    EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, enc) != 1)
		return -1;
	while (aadlen > 0) {
		n = aadlen > CRYPTO_STEP ? CRYPTO_STEP : aadlen;
		if (EVP_CipherUpdate(ctx, NULL, &outl, ap, (int)n) != 1)
			return -1;
		ap += n;
		aadlen -= n;
	}
	while (len > 0) {
		n = len > CRYPTO_STEP ? CRYPTO_STEP : len;
		rc = enc ? EVP_EncryptUpdate(ctx, op, &outl, ip, (int)n) :
		    EVP_DecryptUpdate(ctx, op, &outl, ip, (int)n);
		if (rc != 1 || (size_t)outl != n)
			return -1;
		ip += n;
		op += n;
		len -= n;
	}
	return 0;
}

int
crypto_gcm_seal(const uint8_t key[KF_KEY_LEN],
    const uint8_t nonce[KF_NONCE_LEN], const void *aad, size_t aadlen,
    const void *in, size_t len, void *out, uint8_t tag[KF_TAG_LEN])
{
	EVP_CIPHER_CTX	*ctx;
	uint8_t		 fin[16];
	int		 outl, rc = -1;

	if ((aad == NULL && aadlen > 0) || ((in == NULL || out == NULL) &&
	    len > 0))
		return -1;
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		return -1;
	if (gcm_run(ctx, key, nonce, KF_NONCE_LEN, aad, aadlen, in, len, out,
	    1) == -1)
		goto fail;
	if (EVP_EncryptFinal_ex(ctx, fin, &outl) != 1 || outl != 0)
		goto fail;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, KF_TAG_LEN,
	    tag) != 1)
		goto fail;
	rc = 0;
 fail:
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

int
crypto_gcm_open(const uint8_t key[KF_KEY_LEN],
    const uint8_t nonce[KF_NONCE_LEN], const void *aad, size_t aadlen,
    const void *in, size_t len, void *out, const uint8_t tag[KF_TAG_LEN])
{
	return crypto_gcm_open_iv(key, nonce, KF_NONCE_LEN, aad, aadlen, in,
	    len, out, tag);
}

int
crypto_gcm_open_iv(const uint8_t key[KF_KEY_LEN], const uint8_t *iv,
    size_t ivlen, const void *aad, size_t aadlen, const void *in, size_t len,
    void *out, const uint8_t tag[KF_TAG_LEN])
{
	EVP_CIPHER_CTX	*ctx = NULL;
	uint8_t		 fin[16], t[KF_TAG_LEN];
	int		 outl, rc = -1;

	if ((aad == NULL && aadlen > 0) || ((in == NULL || out == NULL) &&
	    len > 0))
		return -1;
	if (iv == NULL || ivlen == 0 || ivlen > KF_GCM_IV_MAX) {
		crypto_wipe(out, len);
		return -1;
	}
	memcpy(t, tag, sizeof(t));
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		goto fail;
	if (gcm_run(ctx, key, iv, ivlen, aad, aadlen, in, len, out, 0) == -1)
		goto fail;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, KF_TAG_LEN,
	    t) != 1)
		goto fail;
	if (EVP_DecryptFinal_ex(ctx, fin, &outl) != 1)
		goto fail;
	rc = 0;
 fail:
	EVP_CIPHER_CTX_free(ctx);
	if (rc == -1 && out != NULL)
		crypto_wipe(out, len);
	return rc;
}

int
crypto_cbc_decrypt(const uint8_t key[KF_KEY_LEN],
    const uint8_t iv[KF_CBC_IV_LEN], const void *in, size_t len, void *out,
    size_t *outlen)
{
	EVP_CIPHER_CTX	*ctx = NULL;
	uint8_t		*op = out;
	int		 n1 = 0, n2 = 0, rc = -1;

	*outlen = 0;
	if (in == NULL || out == NULL || iv == NULL)
		return -1;
	/* A whole number of blocks, at least the padding block. */
	if (len == 0 || len % 16 != 0 || len > INT_MAX)
		goto fail;
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_DecryptInit_ex(ctx, EVP_aes_256_cbc(), NULL, key, iv) != 1 ||
	    EVP_CIPHER_CTX_set_padding(ctx, 1) != 1)
		goto fail;
	/* Decryption never writes more than it reads, padding included. */
	if (EVP_DecryptUpdate(ctx, op, &n1, in, (int)len) != 1 || n1 < 0 ||
	    (size_t)n1 > len)
		goto fail;
	if (EVP_DecryptFinal_ex(ctx, op + n1, &n2) != 1 || n2 < 0 ||
	    (size_t)n1 + (size_t)n2 >= len)
		goto fail;
	*outlen = (size_t)n1 + (size_t)n2;
	rc = 0;
 fail:
	EVP_CIPHER_CTX_free(ctx);
	if (rc == -1)
		crypto_wipe(out, len);
	return rc;
}

int
crypto_sha256(const void *in, size_t len, uint8_t out[KF_SHA256_LEN])
{
	struct sha256_ctx	*c;
	int			 rc = -1;

	if ((c = sha256_new()) == NULL)
		return -1;
	if (sha256_update(c, in, len) == 0 && sha256_final(c, out) == 0)
		rc = 0;
	sha256_free(&c);
	return rc;
}

struct sha256_ctx *
sha256_new(void)
{
	struct sha256_ctx	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if ((c->md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(c->md, EVP_sha256(), NULL) != 1) {
		sha256_free(&c);
		return NULL;
	}
	return c;
}

int
sha256_update(struct sha256_ctx *c, const void *buf, size_t len)
{
	if (c == NULL || (buf == NULL && len > 0))
		return -1;
	if (len == 0)
		return 0;
	return EVP_DigestUpdate(c->md, buf, len) == 1 ? 0 : -1;
}

int
sha256_final(struct sha256_ctx *c, uint8_t out[KF_SHA256_LEN])
{
	unsigned int	 n = 0;

	if (c == NULL)
		return -1;
	if (EVP_DigestFinal_ex(c->md, out, &n) != 1 || n != KF_SHA256_LEN)
		return -1;
	return 0;
}

void
sha256_free(struct sha256_ctx **cp)
{
	if (cp == NULL || *cp == NULL)
		return;
	EVP_MD_CTX_free((*cp)->md);
	free(*cp);
	*cp = NULL;
}

int
crypto_hmac_sha256(const void *key, size_t keylen, const void *msg,
    size_t msglen, uint8_t out[KF_SHA256_LEN])
{
	static const uint8_t	 empty[1];
	unsigned int		 n = 0;

	if (keylen > INT_MAX || (key == NULL && keylen > 0) ||
	    (msg == NULL && msglen > 0))
		return -1;
	if (key == NULL)
		key = empty;
	if (msg == NULL)
		msg = empty;
	if (HMAC(EVP_sha256(), key, (int)keylen, msg, msglen, out, &n) ==
	    NULL || n != KF_SHA256_LEN)
		return -1;
	return 0;
}

int
crypto_pbkdf2(const void *pw, size_t pwlen, const void *salt, size_t saltlen,
    unsigned int iterations, void *out, size_t outlen)
{
	static const uint8_t	 empty[1];

	if (pwlen > INT_MAX || saltlen > INT_MAX || outlen > INT_MAX ||
	    outlen == 0 || iterations == 0 || iterations > INT_MAX ||
	    (pw == NULL && pwlen > 0) || (salt == NULL && saltlen > 0))
		return -1;
	if (PKCS5_PBKDF2_HMAC(pw != NULL ? pw : (const void *)empty,
	    (int)pwlen, salt != NULL ? salt : empty, (int)saltlen,
	    (int)iterations, EVP_sha256(), (int)outlen, out) != 1)
		return -1;
	return 0;
}

int
crypto_hkdf(const void *ikm, size_t ikmlen, const void *salt, size_t saltlen,
    const char *info, void *out, size_t outlen)
{
	static uint8_t	 empty[1];
	EVP_KDF		*kdf;
	EVP_KDF_CTX	*kctx = NULL;
	OSSL_PARAM	 params[5], *p = params;
	int		 rc = -1;

	if ((ikm == NULL && ikmlen > 0) || (salt == NULL && saltlen > 0) ||
	    outlen == 0 || outlen > 255 * KF_SHA256_LEN)
		return -1;
	if ((kdf = EVP_KDF_fetch(NULL, "HKDF", NULL)) == NULL)
		return -1;
	if ((kctx = EVP_KDF_CTX_new(kdf)) == NULL)
		goto fail;
	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
	    (char *)"SHA256", 0);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
	    ikm != NULL ? (void *)(uintptr_t)ikm : empty, ikmlen);
	if (saltlen > 0)
		*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
		    (void *)(uintptr_t)salt, saltlen);
	if (info != NULL && *info != '\0')
		*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
		    (void *)(uintptr_t)info, strlen(info));
	*p = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(kctx, out, outlen, params) != 1)
		goto fail;
	rc = 0;
 fail:
	if (rc == -1)
		crypto_wipe(out, outlen);
	EVP_KDF_CTX_free(kctx);
	EVP_KDF_free(kdf);
	return rc;
}

int
crypto_wrap(const uint8_t key[KF_KEY_LEN], const void *aad, size_t aadlen,
    const void *in, size_t len, uint8_t *blob)
{
	if (blob == NULL || len > SIZE_MAX - KF_WRAP_OVERHEAD)
		return -1;
	if (crypto_random(blob, KF_NONCE_LEN) == -1)
		return -1;
	return crypto_gcm_seal(key, blob, aad, aadlen, in, len,
	    blob + KF_NONCE_LEN, blob + KF_NONCE_LEN + len);
}

int
crypto_unwrap(const uint8_t key[KF_KEY_LEN], const void *aad, size_t aadlen,
    const uint8_t *blob, size_t bloblen, void *out)
{
	size_t	 len;

	if (blob == NULL || bloblen < KF_WRAP_OVERHEAD)
		return -1;
	len = bloblen - KF_WRAP_OVERHEAD;
	return crypto_gcm_open(key, blob, aad, aadlen, blob + KF_NONCE_LEN,
	    len, out, blob + KF_NONCE_LEN + len);
}

void
crypto_hex(const void *in, size_t len, char *out)
{
	static const char	 digits[] = "0123456789abcdef";
	const uint8_t		*p = in;
	size_t			 i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 0xf];
	}
	out[2 * len] = '\0';
}
