/*
 * check_crypto_cbc.c - unit tests for the ciphers that open what a KMIP
 * server encrypted: crypto_cbc_decrypt (AES-256-CBC, PKCS#5 padding) and
 * crypto_gcm_open_iv (AES-256-GCM with a nonce that is not 96 bits).
 *
 * The CBC known answer is NIST SP 800-38A F.2.5 (CBC-AES256), followed by
 * the full padding block PKCS#5 appends to its 64-byte plaintext; GCM with a
 * 16-byte IV is checked against OpenSSL EVP directly, since that is what a
 * PyKMIP server produces.  Every rejection also checks that the output
 * buffer holds no plaintext afterwards.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "check_main.h"
#include "crypto.h"
#include "util.h"

#define TEST_TIMEOUT	60

/* NIST SP 800-38A F.2.5, CBC-AES256.Decrypt. */
static const char nist_key[] =
    "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4";
static const char nist_iv[] = "000102030405060708090a0b0c0d0e0f";
static const char nist_pt[] =
    "6bc1bee22e409f96e93d7e117393172a" "ae2d8a571e03ac9c9eb76fac45af8e51"
    "30c81c46a35ce411e5fbc1191a0a52ef" "f69f2445df4f9b17ad2b417be66c3710";
static const char nist_ct[] =
    "f58c4c04d6e5f1ba779eabfb5f7bfbd6" "9cfc4e967edb808d679f777bc6702c7d"
    "39f23369a9d9bacfa530e26304231461" "b2eb05e2c39be9fcda6c19078c6a9d1b";
/* The fifth block: sixteen 0x10 bytes, chained from the fourth. */
static const char pad_block[] = "3f461796d6b0d6b2e0c2a72b4d80e644";
/* A 32-byte KEK-like message 00..1f under the same key and IV: 48 bytes. */
static const char kek_ct[] =
    "e568f68194cf76d6174d4cc04310a854" "d09ef932b9ff1244ec7a1dc1ccb1c637"
    "9c9e1c42033d14513eabd691d8287798";

/* Decode hex into buf (cap bytes); returns the byte count. */
static size_t
unhex(const char *s, uint8_t *buf, size_t cap)
{
	size_t	n;

	ck_assert_msg(util_hex_decode(s, strlen(s), buf, cap, &n) == 0,
	    "bad test hex \"%s\"", s);
	return n;
}

/* 1 when no byte of buf[0..len) is nonzero. */
static int
all_zero(const uint8_t *buf, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++)
		if (buf[i] != 0)
			return 0;
	return 1;
}

START_TEST(cbc_nist_vector)
{
	uint8_t	key[KF_KEY_LEN], iv[16], pt[64], ct[80], out[80];
	size_t	ctlen, outlen;

	unhex(nist_key, key, sizeof(key));
	unhex(nist_iv, iv, sizeof(iv));
	unhex(nist_pt, pt, sizeof(pt));
	ctlen = unhex(nist_ct, ct, sizeof(ct));
	ctlen += unhex(pad_block, ct + ctlen, sizeof(ct) - ctlen);
	ck_assert_uint_eq(ctlen, 80);
	ck_assert_int_eq(crypto_cbc_decrypt(key, iv, ct, ctlen, out, &outlen),
	    0);
	ck_assert_uint_eq(outlen, 64);
	ck_assert_mem_eq(out, pt, 64);
}
END_TEST

START_TEST(cbc_kek_sized)
{
	uint8_t	key[KF_KEY_LEN], iv[16], ct[48], out[48];
	size_t	outlen, i;

	unhex(nist_key, key, sizeof(key));
	unhex(nist_iv, iv, sizeof(iv));
	ck_assert_uint_eq(unhex(kek_ct, ct, sizeof(ct)), 48);
	ck_assert_int_eq(crypto_cbc_decrypt(key, iv, ct, sizeof(ct), out,
	    &outlen), 0);
	ck_assert_uint_eq(outlen, KF_KEY_LEN);
	for (i = 0; i < KF_KEY_LEN; i++)
		ck_assert_uint_eq(out[i], i);
}
END_TEST

/* NIST's four blocks alone end in 0x10 but not in a valid pad block. */
START_TEST(cbc_rejects_bad_padding)
{
	uint8_t	key[KF_KEY_LEN], iv[16], ct[80], out[80];
	size_t	ctlen, outlen = 99;

	unhex(nist_key, key, sizeof(key));
	unhex(nist_iv, iv, sizeof(iv));
	ctlen = unhex(nist_ct, ct, sizeof(ct));
	memset(out, 0xAA, sizeof(out));
	ck_assert_int_eq(crypto_cbc_decrypt(key, iv, ct, ctlen, out, &outlen),
	    -1);
	ck_assert_uint_eq(outlen, 0);
	ck_assert(all_zero(out, ctlen));

	/* Flip the last plaintext byte 0x10 to 0x11 through block four. */
	ctlen += unhex(pad_block, ct + ctlen, sizeof(ct) - ctlen);
	ct[ctlen - 17] ^= 0x01;
	memset(out, 0xAA, sizeof(out));
	ck_assert_int_eq(crypto_cbc_decrypt(key, iv, ct, ctlen, out, &outlen),
	    -1);
	ck_assert(all_zero(out, ctlen));
}
END_TEST

START_TEST(cbc_rejects_bad_length)
{
	uint8_t	key[KF_KEY_LEN], iv[16], ct[48], out[48];
	size_t	outlen, lens[] = { 0, 1, 15, 17, 47 }, i;

	unhex(nist_key, key, sizeof(key));
	unhex(nist_iv, iv, sizeof(iv));
	unhex(kek_ct, ct, sizeof(ct));
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		memset(out, 0xAA, sizeof(out));
		ck_assert_int_eq(crypto_cbc_decrypt(key, iv, ct, lens[i], out,
		    &outlen), -1);
		ck_assert(all_zero(out, lens[i]));
	}
	ck_assert_int_eq(crypto_cbc_decrypt(key, iv, NULL, 16, out, &outlen),
	    -1);
	ck_assert_int_eq(crypto_cbc_decrypt(key, iv, ct, 16, NULL, &outlen),
	    -1);
}
END_TEST

/*
 * Wrong key: CBC cannot tell, only the padding can; for this key and vector
 * the last block does not end in valid padding, so it is refused.
 */
START_TEST(cbc_wrong_key)
{
	uint8_t	key[KF_KEY_LEN], iv[16], ct[48], out[48];
	size_t	outlen;

	unhex(nist_key, key, sizeof(key));
	unhex(nist_iv, iv, sizeof(iv));
	unhex(kek_ct, ct, sizeof(ct));
	key[0] ^= 0x80;
	memset(out, 0xAA, sizeof(out));
	ck_assert_int_eq(crypto_cbc_decrypt(key, iv, ct, sizeof(ct), out,
	    &outlen), -1);
	ck_assert(all_zero(out, sizeof(out)));
}
END_TEST

/* Seal with EVP directly, the way a KMIP server would, with ivlen bytes. */
static void
evp_gcm_seal(const uint8_t *key, const uint8_t *iv, int ivlen,
    const uint8_t *aad, int aadlen, const uint8_t *in, int len, uint8_t *out,
    uint8_t tag[KF_TAG_LEN])
{
	EVP_CIPHER_CTX	*ctx;
	int		 n;

	ck_assert_ptr_nonnull(ctx = EVP_CIPHER_CTX_new());
	ck_assert_int_eq(EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL,
	    NULL, NULL), 1);
	ck_assert_int_eq(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN,
	    ivlen, NULL), 1);
	ck_assert_int_eq(EVP_EncryptInit_ex(ctx, NULL, NULL, key, iv), 1);
	ck_assert_int_eq(EVP_EncryptUpdate(ctx, NULL, &n, aad, aadlen), 1);
	ck_assert_int_eq(EVP_EncryptUpdate(ctx, out, &n, in, len), 1);
	ck_assert_int_eq(EVP_EncryptFinal_ex(ctx, out + n, &n), 1);
	ck_assert_int_eq(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG,
	    KF_TAG_LEN, tag), 1);
	EVP_CIPHER_CTX_free(ctx);
}

START_TEST(gcm_iv16_roundtrip)
{
	uint8_t	key[KF_KEY_LEN], iv[16], kek[KF_KEY_LEN], ct[KF_KEY_LEN];
	uint8_t	tag[KF_TAG_LEN], out[KF_KEY_LEN];
	const uint8_t aad[] = "keyflow kek 12345678";

	ck_assert_int_eq(crypto_random(key, sizeof(key)), 0);
	ck_assert_int_eq(crypto_random(iv, sizeof(iv)), 0);
	ck_assert_int_eq(crypto_random(kek, sizeof(kek)), 0);
	evp_gcm_seal(key, iv, 16, aad, sizeof(aad), kek, KF_KEY_LEN, ct, tag);
	ck_assert_int_eq(crypto_gcm_open_iv(key, iv, 16, aad, sizeof(aad), ct,
	    KF_KEY_LEN, out, tag), 0);
	ck_assert_mem_eq(out, kek, KF_KEY_LEN);

	/* The same bytes under a 12-byte reading of the IV do not open. */
	ck_assert_int_eq(crypto_gcm_open_iv(key, iv, 12, aad, sizeof(aad), ct,
	    KF_KEY_LEN, out, tag), -1);
	ck_assert(all_zero(out, sizeof(out)));
	/* Nor with another AAD, nor a flipped tag bit. */
	ck_assert_int_eq(crypto_gcm_open_iv(key, iv, 16, aad, sizeof(aad) - 1,
	    ct, KF_KEY_LEN, out, tag), -1);
	tag[15] ^= 1;
	ck_assert_int_eq(crypto_gcm_open_iv(key, iv, 16, aad, sizeof(aad), ct,
	    KF_KEY_LEN, out, tag), -1);
	ck_assert(all_zero(out, sizeof(out)));
}
END_TEST

/* A 12-byte IV through crypto_gcm_open_iv matches crypto_gcm_seal. */
START_TEST(gcm_iv12_matches_seal)
{
	uint8_t	key[KF_KEY_LEN], iv[KF_NONCE_LEN], pt[100], ct[100], out[100];
	uint8_t	tag[KF_TAG_LEN];

	ck_assert_int_eq(crypto_random(key, sizeof(key)), 0);
	ck_assert_int_eq(crypto_random(iv, sizeof(iv)), 0);
	ck_assert_int_eq(crypto_random(pt, sizeof(pt)), 0);
	ck_assert_int_eq(crypto_gcm_seal(key, iv, NULL, 0, pt, sizeof(pt), ct,
	    tag), 0);
	ck_assert_int_eq(crypto_gcm_open_iv(key, iv, sizeof(iv), NULL, 0, ct,
	    sizeof(ct), out, tag), 0);
	ck_assert_mem_eq(out, pt, sizeof(pt));
}
END_TEST

START_TEST(gcm_iv_limits)
{
	uint8_t	key[KF_KEY_LEN] = { 0 }, iv[KF_GCM_IV_MAX + 1] = { 0 };
	uint8_t	ct[16] = { 0 }, out[16], tag[KF_TAG_LEN] = { 0 };

	memset(out, 0xAA, sizeof(out));
	ck_assert_int_eq(crypto_gcm_open_iv(key, iv, 0, NULL, 0, ct,
	    sizeof(ct), out, tag), -1);
	ck_assert(all_zero(out, sizeof(out)));
	memset(out, 0xAA, sizeof(out));
	ck_assert_int_eq(crypto_gcm_open_iv(key, iv, KF_GCM_IV_MAX + 1, NULL,
	    0, ct, sizeof(ct), out, tag), -1);
	ck_assert(all_zero(out, sizeof(out)));
	ck_assert_int_eq(crypto_gcm_open_iv(key, NULL, 12, NULL, 0, ct,
	    sizeof(ct), out, tag), -1);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("crypto_cbc");
	TCase	*core = tcase_create("Core"), *lim = tcase_create("Limits");

	tcase_set_timeout(core, TEST_TIMEOUT);
	tcase_set_timeout(lim, TEST_TIMEOUT);
	tcase_add_test(core, cbc_nist_vector);
	tcase_add_test(core, cbc_kek_sized);
	tcase_add_test(core, gcm_iv16_roundtrip);
	tcase_add_test(core, gcm_iv12_matches_seal);
	tcase_add_test(lim, cbc_rejects_bad_padding);
	tcase_add_test(lim, cbc_rejects_bad_length);
	tcase_add_test(lim, cbc_wrong_key);
	tcase_add_test(lim, gcm_iv_limits);
	suite_add_tcase(s, core);
	suite_add_tcase(s, lim);
	return check_run(s, NULL);
}
