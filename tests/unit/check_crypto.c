/*
 * check_crypto.c - unit tests for the cryptographic core: crypto.c
 * (AES-256-GCM, SHA-256, HMAC, PBKDF2, HKDF, key wrap), keyseal.c (DEK over
 * the network, registration proof), chunk.c (per-chunk encryption) and
 * crc32c.c (both code paths).  Known-answer vectors come from NIST / McGrew
 * & Viega (GCM, in data/gcm_aes256.txt, found through KF_TEST_DATA), RFC 7914
 * (PBKDF2-HMAC-SHA256), RFC 5869 (HKDF), RFC 4231 (HMAC) and RFC 3720
 * (CRC-32C).  Every rejection test also checks that no plaintext leaks.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "chunk.h"
#include "crc32c.h"
#include "crypto.h"
#include "keyseal.h"
#include "util.h"

#define TEST_TIMEOUT	120

static uint8_t	key[KF_KEY_LEN];	/* random key per test */
static uint8_t	nonce[KF_NONCE_LEN];	/* random nonce per test */
static uint8_t	pt[4096];		/* random plaintext per test */

static void
setup_keys(void)
{
	ck_assert_int_eq(crypto_random(key, sizeof(key)), 0);
	ck_assert_int_eq(crypto_random(nonce, sizeof(nonce)), 0);
	ck_assert_int_eq(crypto_random(pt, sizeof(pt)), 0);
}

static void
teardown_keys(void)
{
	crypto_wipe(key, sizeof(key));
}

/* Decode hex into a malloc'd buffer (at least 1 byte); *len gets the size. */
static uint8_t *
unhex(const char *s, size_t *len)
{
	size_t	 n = strlen(s);
	uint8_t	*b;

	b = malloc(n / 2 + 1);
	ck_assert_ptr_nonnull(b);
	ck_assert_msg(util_hex_decode(s, n, b, n / 2, len) == 0,
	    "bad hex in \"%s\"", s);
	return b;
}

static int
is_zero(const void *buf, size_t len)
{
	const uint8_t	*p = buf;
	size_t		 i;

	for (i = 0; i < len; i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

static void
assert_hex(const void *got, size_t len, const char *want)
{
	char	*h = malloc(2 * len + 1);

	ck_assert_ptr_nonnull(h);
	crypto_hex(got, len, h);
	ck_assert_str_eq(h, want);
	free(h);
}

/*
 * GCM: round trips, known answers, rejections.
 */

START_TEST(test_gcm_roundtrip)
{
	static const size_t	 lens[] = { 0, 1, 15, 16, 17, 31, 4096 };
	uint8_t			 ct[4096], out[4096], tag[KF_TAG_LEN];
	size_t			 i, n;

	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		n = lens[i];
		ck_assert_int_eq(crypto_gcm_seal(key, nonce, "aad", 3, pt, n,
		    ct, tag), 0);
		if (n >= 16)
			ck_assert_msg(memcmp(ct, pt, n) != 0,
			    "ciphertext equals plaintext at %zu bytes", n);
		memset(out, 0xaa, sizeof(out));
		ck_assert_int_eq(crypto_gcm_open(key, nonce, "aad", 3, ct, n,
		    out, tag), 0);
		ck_assert_mem_eq(out, pt, n);
	}
	/* In place. */
	memcpy(out, pt, sizeof(out));
	ck_assert_int_eq(crypto_gcm_seal(key, nonce, NULL, 0, out,
	    sizeof(out), out, tag), 0);
	ck_assert_int_eq(crypto_gcm_open(key, nonce, NULL, 0, out,
	    sizeof(out), out, tag), 0);
	ck_assert_mem_eq(out, pt, sizeof(out));
}
END_TEST

/* One known-answer case from the data file: seal and open must agree. */
static void
gcm_kat_case(const char *count, char **f)
{
	uint8_t	*k, *iv, *p, *a, *c, *t, *out, tag[KF_TAG_LEN];
	size_t	 kl, ivl, pl, al, cl, tl;

	k = unhex(f[0], &kl);
	iv = unhex(f[1], &ivl);
	p = unhex(f[2], &pl);
	a = unhex(f[3], &al);
	c = unhex(f[4], &cl);
	t = unhex(f[5], &tl);
	ck_assert_msg(kl == KF_KEY_LEN && ivl == KF_NONCE_LEN &&
	    tl == KF_TAG_LEN && cl == pl, "malformed vector %s", count);
	out = malloc(pl + 1);
	ck_assert_ptr_nonnull(out);
	ck_assert_int_eq(crypto_gcm_seal(k, iv, al ? a : NULL, al, p, pl, out,
	    tag), 0);
	ck_assert_msg(memcmp(out, c, cl) == 0, "vector %s: ciphertext", count);
	ck_assert_msg(memcmp(tag, t, tl) == 0, "vector %s: tag", count);
	ck_assert_int_eq(crypto_gcm_open(k, iv, al ? a : NULL, al, c, cl, out,
	    t), 0);
	ck_assert_msg(memcmp(out, p, pl) == 0, "vector %s: plaintext", count);
	free(k);
	free(iv);
	free(p);
	free(a);
	free(c);
	free(t);
	free(out);
}

START_TEST(test_gcm_kat)
{
	static const char	*names[] = { "Key", "IV", "PT", "AAD", "CT",
				    "Tag" };
	const char		*dir = getenv("KF_TEST_DATA");
	char			 path[4096], line[1024], count[32] = "";
	char			*f[6] = { NULL }, *eq, *v;
	FILE			*fp;
	size_t			 i, nf = 0;
	int			 ncases = 0;

	ck_assert_msg(dir != NULL,
	    "KF_TEST_DATA must name tests/unit/data (ctest sets it)");
	snprintf(path, sizeof(path), "%s/gcm_aes256.txt", dir);
	fp = fopen(path, "r");
	ck_assert_msg(fp != NULL, "cannot open %s", path);
	while (fgets(line, sizeof(line), fp) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '#' || (eq = strchr(line, '=')) == NULL)
			continue;
		for (v = eq + 1; *v == ' '; v++)
			;
		while (eq > line && eq[-1] == ' ')
			eq--;
		*eq = '\0';
		if (strcmp(line, "Count") == 0) {
			snprintf(count, sizeof(count), "%s", v);
			continue;
		}
		for (i = 0; i < 6; i++)
			if (strcmp(line, names[i]) == 0)
				break;
		ck_assert_msg(i < 6, "unknown field %s in %s", line, path);
		free(f[i]);
		f[i] = strdup(v);
		if (++nf == 6) {
			gcm_kat_case(count, f);
			ncases++;
			for (i = 0; i < 6; i++) {
				free(f[i]);
				f[i] = NULL;
			}
			nf = 0;
		}
	}
	fclose(fp);
	ck_assert_int_eq(nf, 0);
	ck_assert_int_ge(ncases, 4);
}
END_TEST

/* Seal 64 bytes with AAD "row-1"; the checks below then damage one input. */
static void
gcm_sealed(uint8_t ct[64], uint8_t tag[KF_TAG_LEN])
{
	ck_assert_int_eq(crypto_gcm_seal(key, nonce, "row-1", 5, pt, 64, ct,
	    tag), 0);
}

static void
assert_open_fails(const uint8_t *k, const uint8_t *n, const void *aad,
    size_t aadlen, const uint8_t *ct, const uint8_t *tag, const char *what)
{
	uint8_t	out[64];

	memset(out, 0x55, sizeof(out));
	ck_assert_msg(crypto_gcm_open(k, n, aad, aadlen, ct, sizeof(out), out,
	    tag) == -1, "%s: opened", what);
	ck_assert_msg(is_zero(out, sizeof(out)), "%s: output not wiped",
	    what);
}

START_TEST(test_gcm_reject)
{
	uint8_t	ct[64], tag[KF_TAG_LEN], k2[KF_KEY_LEN], n2[KF_NONCE_LEN];
	size_t	i;
	char	what[64];

	gcm_sealed(ct, tag);
	memcpy(k2, key, sizeof(k2));
	k2[31] ^= 1;
	assert_open_fails(k2, nonce, "row-1", 5, ct, tag, "wrong key");
	memcpy(n2, nonce, sizeof(n2));
	n2[0] ^= 0x80;
	assert_open_fails(key, n2, "row-1", 5, ct, tag, "wrong nonce");
	assert_open_fails(key, nonce, "row-2", 5, ct, tag, "wrong aad");
	assert_open_fails(key, nonce, "row-", 4, ct, tag, "short aad");
	assert_open_fails(key, nonce, NULL, 0, ct, tag, "no aad");
	for (i = 0; i < sizeof(ct); i++) {
		ct[i] ^= 0x01;
		snprintf(what, sizeof(what), "ciphertext byte %zu", i);
		assert_open_fails(key, nonce, "row-1", 5, ct, tag, what);
		ct[i] ^= 0x01;
	}
	for (i = 0; i < sizeof(tag); i++) {
		tag[i] ^= 0x80;
		snprintf(what, sizeof(what), "tag byte %zu", i);
		assert_open_fails(key, nonce, "row-1", 5, ct, tag, what);
		tag[i] ^= 0x80;
	}
	/* Undamaged, it still opens: the failures above were the damage. */
	{
		uint8_t	out[64];

		ck_assert_int_eq(crypto_gcm_open(key, nonce, "row-1", 5, ct,
		    sizeof(out), out, tag), 0);
		ck_assert_mem_eq(out, pt, sizeof(out));
	}
}
END_TEST

/*
 * Hashes and KDFs.
 */

START_TEST(test_sha256)
{
	struct sha256_ctx	*c;
	uint8_t			 d[KF_SHA256_LEN], d2[KF_SHA256_LEN];
	size_t			 i;

	ck_assert_int_eq(crypto_sha256("abc", 3, d), 0);
	assert_hex(d, sizeof(d), "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad");
	ck_assert_int_eq(crypto_sha256(NULL, 0, d), 0);
	assert_hex(d, sizeof(d), "e3b0c44298fc1c149afbf4c8996fb924"
	    "27ae41e4649b934ca495991b7852b855");
	/* Incremental in uneven pieces equals one shot. */
	ck_assert_int_eq(crypto_sha256(pt, sizeof(pt), d), 0);
	c = sha256_new();
	ck_assert_ptr_nonnull(c);
	for (i = 0; i < sizeof(pt); i += 97)
		ck_assert_int_eq(sha256_update(c, pt + i,
		    sizeof(pt) - i < 97 ? sizeof(pt) - i : 97), 0);
	ck_assert_int_eq(sha256_final(c, d2), 0);
	sha256_free(&c);
	ck_assert_ptr_null(c);
	ck_assert_mem_eq(d, d2, sizeof(d));
}
END_TEST

START_TEST(test_hmac)
{
	uint8_t	d[KF_SHA256_LEN];

	/* RFC 4231 test case 2. */
	ck_assert_int_eq(crypto_hmac_sha256("Jefe", 4,
	    "what do ya want for nothing?", 28, d), 0);
	assert_hex(d, sizeof(d), "5bdcc146bf60754e6a042426089575c7"
	    "5a003f089d2739839dec58b964ec3843");
}
END_TEST

START_TEST(test_pbkdf2)
{
	uint8_t	out[64];

	/* RFC 7914 section 11 and the RFC 6070 inputs with SHA-256. */
	ck_assert_int_eq(crypto_pbkdf2("passwd", 6, "salt", 4, 1, out, 64), 0);
	assert_hex(out, 64, "55ac046e56e3089fec1691c22544b605"
	    "f94185216dde0465e68b9d57c20dacbc49ca9cccf179b645991664b39d77ef31"
	    "7c71b845b1e30bd509112041d3a19783");
	ck_assert_int_eq(crypto_pbkdf2("password", 8, "salt", 4, 1, out, 32),
	    0);
	assert_hex(out, 32, "120fb6cffcf8b32c43e7225256c4f837"
	    "a86548c92ccc35480805987cb70be17b");
	ck_assert_int_eq(crypto_pbkdf2("password", 8, "salt", 4, 2, out, 32),
	    0);
	assert_hex(out, 32, "ae4d0c95af6b46d32d0adff928f06dd0"
	    "2a303f8ef3c251dfd6e2d85a95474c43");
	ck_assert_int_eq(crypto_pbkdf2("password", 8, "salt", 4, 4096, out,
	    32), 0);
	assert_hex(out, 32, "c5e478d59288c841aa530db6845c4c8d"
	    "962893a001ce4e11a4963873aa98134a");
	ck_assert_int_eq(crypto_pbkdf2("passwordPASSWORDpassword", 24,
	    "saltSALTsaltSALTsaltSALTsaltSALTsalt", 36, 4096, out, 40), 0);
	assert_hex(out, 40, "348c89dbcbd32b2f32d814b8116e84cf"
	    "2b17347ebc1800181c4e2a1fb8dd53e1c635518c7dac47e9");
	/* Embedded NULs count: lengths, not C strings. */
	ck_assert_int_eq(crypto_pbkdf2("pass\0word", 9, "sa\0lt", 5, 4096,
	    out, 16), 0);
	assert_hex(out, 16, "89b69d0516f829893c696226650a8687");
}
END_TEST

START_TEST(test_hkdf)
{
	static const char	 info[] = "\xf0\xf1\xf2\xf3\xf4\xf5\xf6\xf7"
				    "\xf8\xf9";
	uint8_t			 ikm[22], salt[13], out[42];
	size_t			 i;

	memset(ikm, 0x0b, sizeof(ikm));
	for (i = 0; i < sizeof(salt); i++)
		salt[i] = (uint8_t)i;
	/* RFC 5869 test case 1. */
	ck_assert_int_eq(crypto_hkdf(ikm, sizeof(ikm), salt, sizeof(salt),
	    info, out, sizeof(out)), 0);
	assert_hex(out, sizeof(out), "3cb25f25faacd57a90434f64d0362f2a"
	    "2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
	/* RFC 5869 test case 3: no salt, no info. */
	ck_assert_int_eq(crypto_hkdf(ikm, sizeof(ikm), NULL, 0, "", out,
	    sizeof(out)), 0);
	assert_hex(out, sizeof(out), "8da4e775a563c18f715f802a063c5a31"
	    "b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
	ck_assert_int_eq(crypto_hkdf(ikm, sizeof(ikm), NULL, 0, NULL, out,
	    sizeof(out)), 0);
	assert_hex(out, sizeof(out), "8da4e775a563c18f715f802a063c5a31"
	    "b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
}
END_TEST

START_TEST(test_wrap)
{
	uint8_t	blob[KF_KEY_LEN + KF_WRAP_OVERHEAD], blob2[sizeof(blob)];
	uint8_t	out[KF_KEY_LEN];

	ck_assert_int_eq(crypto_wrap(key, "dek:7", 5, pt, KF_KEY_LEN, blob),
	    0);
	ck_assert_int_eq(crypto_wrap(key, "dek:7", 5, pt, KF_KEY_LEN, blob2),
	    0);
	ck_assert_msg(memcmp(blob, blob2, KF_NONCE_LEN) != 0,
	    "two wraps share a nonce");
	ck_assert_msg(memcmp(blob + KF_NONCE_LEN, pt, KF_KEY_LEN) != 0,
	    "wrapped key is in the clear");
	ck_assert_int_eq(crypto_unwrap(key, "dek:7", 5, blob, sizeof(blob),
	    out), 0);
	ck_assert_mem_eq(out, pt, KF_KEY_LEN);
	ck_assert_int_eq(crypto_unwrap(key, "dek:7", 5, blob2, sizeof(blob2),
	    out), 0);
	ck_assert_mem_eq(out, pt, KF_KEY_LEN);
	/* Bound to its row, its key and its length. */
	ck_assert_int_eq(crypto_unwrap(key, "dek:8", 5, blob, sizeof(blob),
	    out), -1);
	ck_assert(is_zero(out, sizeof(out)));
	ck_assert_int_eq(crypto_unwrap(key, "dek:7", 5, blob,
	    sizeof(blob) - 1, out), -1);
	key[0] ^= 1;
	ck_assert_int_eq(crypto_unwrap(key, "dek:7", 5, blob, sizeof(blob),
	    out), -1);
	ck_assert(is_zero(out, sizeof(out)));
}
END_TEST

START_TEST(test_misc)
{
	char	h[9];
	uint8_t	b[4] = { 0x00, 0x9f, 0xa0, 0xff };

	crypto_hex(b, sizeof(b), h);
	ck_assert_str_eq(h, "009fa0ff");
	ck_assert_int_eq(crypto_memeq("abcd", "abcd", 4), 0);
	ck_assert_int_ne(crypto_memeq("abcd", "abce", 4), 0);
	ck_assert_int_ne(crypto_memeq("abcd", "bbcd", 4), 0);
	memcpy(h, "secret!", 8);
	crypto_wipe(h, 8);
	ck_assert(is_zero(h, 8));
	crypto_wipe(NULL, 0);
}
END_TEST

/* Bad arguments are -1, never a crash; edges of each length range. */
START_TEST(test_crypto_limits)
{
	uint8_t			 out[255 * KF_SHA256_LEN + 1];
	uint8_t			 blob[KF_WRAP_OVERHEAD], tag[KF_TAG_LEN];
	struct sha256_ctx	*c = NULL;

	ck_assert_int_eq(crypto_gcm_seal(key, nonce, NULL, 4, pt, 16, out,
	    tag), -1);
	ck_assert_int_eq(crypto_gcm_open(key, nonce, NULL, 4, pt, 16, out,
	    tag), -1);
	ck_assert_int_eq(crypto_pbkdf2("pw", 2, "s", 1, 0, out, 32), -1);
	ck_assert_int_eq(crypto_pbkdf2("pw", 2, "s", 1, 1, out, 0), -1);
	ck_assert_int_eq(crypto_hkdf(key, 32, NULL, 0, "x", out,
	    255 * KF_SHA256_LEN), 0);
	ck_assert_int_eq(crypto_hkdf(key, 32, NULL, 0, "x", out,
	    255 * KF_SHA256_LEN + 1), -1);
	ck_assert_int_eq(crypto_hkdf(key, 32, NULL, 0, "x", out, 0), -1);
	/* The shortest blob wraps nothing; anything shorter is refused. */
	ck_assert_int_eq(crypto_wrap(key, NULL, 0, NULL, 0, blob), 0);
	ck_assert_int_eq(crypto_unwrap(key, NULL, 0, blob, sizeof(blob),
	    out), 0);
	ck_assert_int_eq(crypto_unwrap(key, NULL, 0, blob, sizeof(blob) - 1,
	    out), -1);
	ck_assert_int_eq(crypto_unwrap(key, NULL, 0, NULL, 0, out), -1);
	ck_assert_int_eq(crypto_random(out, 0), 0);
	ck_assert_int_eq(crypto_memeq(NULL, NULL, 0), 0);
	ck_assert_int_eq(sha256_update(NULL, "x", 1), -1);
	sha256_free(&c);
	sha256_free(NULL);
}
END_TEST

/*
 * keyseal: the DEK over the network.
 */

static uint8_t	nk[KF_KEY_LEN];		/* network key of "local" */
static uint8_t	dek[KF_KEY_LEN];	/* job DEK */
static uint8_t	token[KF_TOKEN_LEN];	/* job token */

static void
setup_seal(void)
{
	setup_keys();
	ck_assert_int_eq(keyseal_network_key("hunter2", 7, (const uint8_t *)
	    "0123456789abcdef", 16, 1000, nk), 0);
	ck_assert_int_eq(crypto_random(dek, sizeof(dek)), 0);
	ck_assert_int_eq(crypto_random(token, sizeof(token)), 0);
}

static void
teardown_seal(void)
{
	crypto_wipe(nk, sizeof(nk));
	crypto_wipe(dek, sizeof(dek));
	teardown_keys();
}

static void
assert_seal_refused(const uint8_t *k, uint64_t job, const char *client,
    const struct sealed_key *sk, const char *what)
{
	uint8_t	d[KF_KEY_LEN], t[KF_TOKEN_LEN];

	memset(d, 0x11, sizeof(d));
	memset(t, 0x22, sizeof(t));
	ck_assert_msg(keyseal_open(k, job, client, sk, d, t) == -1,
	    "%s: seal opened", what);
	ck_assert_msg(is_zero(d, sizeof(d)) && is_zero(t, sizeof(t)),
	    "%s: DEK or token not wiped", what);
}

START_TEST(test_keyseal_roundtrip)
{
	struct sealed_key	sk, sk2;
	uint8_t			d[KF_KEY_LEN], t[KF_TOKEN_LEN], want[32];

	/* The network key is PBKDF2 of the password, nothing more. */
	ck_assert_int_eq(crypto_pbkdf2("hunter2", 7, "0123456789abcdef", 16,
	    1000, want, 32), 0);
	ck_assert_mem_eq(nk, want, 32);
	ck_assert_int_eq(keyseal_seal(nk, 42, "local", dek, token, &sk), 0);
	ck_assert_int_eq(keyseal_open(nk, 42, "local", &sk, d, t), 0);
	ck_assert_mem_eq(d, dek, sizeof(d));
	ck_assert_mem_eq(t, token, sizeof(t));
	ck_assert_msg(memmem(&sk, sizeof(sk), dek, 8) == NULL,
	    "DEK bytes visible in the seal");
	/* Fresh salt and nonce every time. */
	ck_assert_int_eq(keyseal_seal(nk, 42, "local", dek, token, &sk2), 0);
	ck_assert(memcmp(sk.salt, sk2.salt, sizeof(sk.salt)) != 0);
	ck_assert(memcmp(sk.nonce, sk2.nonce, sizeof(sk.nonce)) != 0);
	ck_assert(memcmp(sk.ct, sk2.ct, sizeof(sk.ct)) != 0);
}
END_TEST

START_TEST(test_keyseal_refused)
{
	struct sealed_key	sk, bad;
	uint8_t			nk2[KF_KEY_LEN];
	size_t			i;

	ck_assert_int_eq(keyseal_seal(nk, 42, "local", dek, token, &sk), 0);
	ck_assert_int_eq(keyseal_network_key("hunter3", 7, (const uint8_t *)
	    "0123456789abcdef", 16, 1000, nk2), 0);
	assert_seal_refused(nk2, 42, "local", &sk, "wrong password");
	assert_seal_refused(nk, 43, "local", &sk, "wrong job");
	assert_seal_refused(nk, 42ULL | (1ULL << 63), "local", &sk,
	    "wrong job (high bit)");
	assert_seal_refused(nk, 42, "other", &sk, "wrong client");
	assert_seal_refused(nk, 42, "loca", &sk, "client prefix");
	assert_seal_refused(nk, 42, "locall", &sk, "client extension");
	for (i = 0; i < sizeof(sk); i++) {
		bad = sk;
		((uint8_t *)&bad)[i] ^= 0x04;
		assert_seal_refused(nk, 42, "local", &bad, "tampered byte");
	}
}
END_TEST

START_TEST(test_keyseal_proof)
{
	uint8_t	p1[KF_SHA256_LEN], p2[KF_SHA256_LEN], nk2[KF_KEY_LEN];
	uint8_t	sn[16], cn[16];

	memset(sn, 1, sizeof(sn));
	memset(cn, 2, sizeof(cn));
	ck_assert_int_eq(keyseal_auth_proof(nk, "local", sn, 16, cn, 16, p1),
	    0);
	ck_assert_int_eq(keyseal_auth_proof(nk, "local", sn, 16, cn, 16, p2),
	    0);
	ck_assert_mem_eq(p1, p2, sizeof(p1));
	sn[15] ^= 1;
	ck_assert_int_eq(keyseal_auth_proof(nk, "local", sn, 16, cn, 16, p2),
	    0);
	ck_assert_msg(memcmp(p1, p2, sizeof(p1)) != 0,
	    "proof ignores the server nonce");
	sn[15] ^= 1;
	cn[0] ^= 1;
	ck_assert_int_eq(keyseal_auth_proof(nk, "local", sn, 16, cn, 16, p2),
	    0);
	ck_assert_msg(memcmp(p1, p2, sizeof(p1)) != 0,
	    "proof ignores the client nonce");
	cn[0] ^= 1;
	ck_assert_int_eq(keyseal_auth_proof(nk, "locam", sn, 16, cn, 16, p2),
	    0);
	ck_assert_msg(memcmp(p1, p2, sizeof(p1)) != 0,
	    "proof ignores the name");
	memcpy(nk2, nk, sizeof(nk2));
	nk2[3] ^= 1;
	ck_assert_int_eq(keyseal_auth_proof(nk2, "local", sn, 16, cn, 16, p2),
	    0);
	ck_assert_msg(memcmp(p1, p2, sizeof(p1)) != 0,
	    "proof ignores the network key");
	/* The proof is not the HMAC under the network key itself. */
	ck_assert_int_eq(crypto_hmac_sha256(nk, sizeof(nk), "x", 1, p2), 0);
	ck_assert(memcmp(p1, p2, sizeof(p1)) != 0);
}
END_TEST

START_TEST(test_keyseal_limits)
{
	struct sealed_key	 sk;
	uint8_t			 d[KF_KEY_LEN], t[KF_TOKEN_LEN];
	uint8_t			 p[KF_SHA256_LEN], big[2048];
	char			*name;

	name = malloc(5000);
	ck_assert_ptr_nonnull(name);
	memset(name, 'a', 4999);
	name[4999] = '\0';
	ck_assert_int_eq(keyseal_seal(nk, 1, name, dek, token, &sk), -1);
	ck_assert_int_eq(keyseal_auth_proof(nk, name, NULL, 0, NULL, 0, p),
	    -1);
	name[4096] = '\0';
	ck_assert_int_eq(keyseal_seal(nk, 1, name, dek, token, &sk), 0);
	ck_assert_int_eq(keyseal_open(nk, 1, name, &sk, d, t), 0);
	free(name);
	ck_assert_int_eq(keyseal_seal(nk, 1, NULL, dek, token, &sk), -1);
	ck_assert_int_eq(keyseal_seal(nk, 0, "", dek, token, &sk), 0);
	ck_assert_int_eq(keyseal_open(nk, 0, "", &sk, d, t), 0);
	ck_assert_int_eq(keyseal_auth_proof(nk, "c", NULL, 0, NULL, 0, p), 0);
	memset(big, 0, sizeof(big));
	ck_assert_int_eq(keyseal_auth_proof(nk, "c", big, sizeof(big), NULL,
	    0, p), -1);
	ck_assert_int_eq(keyseal_auth_proof(nk, "c", NULL, 1, NULL, 0, p),
	    -1);
}
END_TEST

/*
 * chunk: per-chunk encryption under the DEK.
 */

static void
assert_chunk_refused(uint64_t job, uint64_t idx, int last,
    const uint8_t *n, const uint8_t *ct, size_t len, const uint8_t *tag,
    const char *what)
{
	uint8_t	out[4096];

	memset(out, 0x33, sizeof(out));
	ck_assert_msg(chunk_open(dek, job, idx, last, n, ct, len, out,
	    tag) == -1, "%s: chunk opened", what);
	ck_assert_msg(is_zero(out, len), "%s: output not wiped", what);
}

START_TEST(test_chunk)
{
	uint8_t	ct[4096], out[4096], n[KF_NONCE_LEN], n9[KF_NONCE_LEN];
	uint8_t	tag[KF_TAG_LEN];

	chunk_nonce(0x0102030405060708ULL, n);
	ck_assert_mem_eq(n, "\0\0\0\0\x01\x02\x03\x04\x05\x06\x07\x08", 12);
	ck_assert_int_eq(chunk_seal(dek, 7, 8, 0, pt, sizeof(pt), ct, n, tag),
	    0);
	chunk_nonce(8, n9);
	ck_assert_mem_eq(n, n9, sizeof(n));
	ck_assert_int_eq(chunk_open(dek, 7, 8, 0, n, ct, sizeof(ct), out,
	    tag), 0);
	ck_assert_mem_eq(out, pt, sizeof(pt));
	/* Moved to another position, even with that position's nonce. */
	chunk_nonce(9, n9);
	assert_chunk_refused(7, 9, 0, n9, ct, sizeof(ct), tag, "reordered");
	assert_chunk_refused(7, 9, 0, n, ct, sizeof(ct), tag, "reordered, "
	    "own nonce");
	assert_chunk_refused(8, 8, 0, n, ct, sizeof(ct), tag, "wrong job");
	assert_chunk_refused(7, 8, 1, n, ct, sizeof(ct), tag, "last flag set");
	assert_chunk_refused(7, 8, 0, n, ct, sizeof(ct) - 1, tag, "truncated");
	/* A last chunk presented as a middle one. */
	ck_assert_int_eq(chunk_seal(dek, 7, 9, 1, pt, 100, ct, n9, tag), 0);
	assert_chunk_refused(7, 9, 0, n9, ct, 100, tag, "last flag cleared");
	ck_assert_int_eq(chunk_open(dek, 7, 9, 1, n9, ct, 100, out, tag), 0);
	ck_assert_mem_eq(out, pt, 100);
	/* In place. */
	memcpy(out, pt, sizeof(out));
	ck_assert_int_eq(chunk_seal(dek, 1, 0, 1, out, sizeof(out), out, n,
	    tag), 0);
	ck_assert_int_eq(chunk_open(dek, 1, 0, 1, n, out, sizeof(out), out,
	    tag), 0);
	ck_assert_mem_eq(out, pt, sizeof(pt));
}
END_TEST

START_TEST(test_chunk_limits)
{
	uint8_t	*buf, n[KF_NONCE_LEN], tag[KF_TAG_LEN];

	buf = calloc(1, KF_CHUNK_MAX + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(chunk_seal(dek, 1, UINT64_MAX, 1, buf, KF_CHUNK_MAX,
	    buf, n, tag), 0);
	ck_assert_int_eq(chunk_open(dek, 1, UINT64_MAX, 1, n, buf,
	    KF_CHUNK_MAX, buf, tag), 0);
	ck_assert(is_zero(buf, KF_CHUNK_MAX));
	ck_assert_int_eq(chunk_seal(dek, 1, 0, 1, buf, KF_CHUNK_MAX + 1, buf,
	    n, tag), -1);
	ck_assert_int_eq(chunk_open(dek, 1, 0, 1, n, buf, KF_CHUNK_MAX + 1,
	    buf, tag), -1);
	/* An empty chunk still authenticates its position. */
	ck_assert_int_eq(chunk_seal(dek, 1, 5, 1, NULL, 0, NULL, n, tag), 0);
	ck_assert_int_eq(chunk_open(dek, 1, 5, 1, n, NULL, 0, NULL, tag), 0);
	ck_assert_int_eq(chunk_open(dek, 1, 5, 0, n, NULL, 0, NULL, tag), -1);
	free(buf);
}
END_TEST

/*
 * crc32c: RFC 3720 B.4 vectors through both implementations.
 */

typedef uint32_t (*crc_fn)(uint32_t, const void *, size_t);

static void
crc_vectors(crc_fn f, const char *name)
{
	uint8_t	b[48];
	size_t	i;

	ck_assert_msg(f(0, "123456789", 9) == 0xE3069283u, "%s: check", name);
	ck_assert_msg(f(0, "", 0) == 0, "%s: empty", name);
	memset(b, 0, 32);
	ck_assert_msg(f(0, b, 32) == 0x8A9136AAu, "%s: zeros", name);
	memset(b, 0xff, 32);
	ck_assert_msg(f(0, b, 32) == 0x62A8AB43u, "%s: ones", name);
	for (i = 0; i < 32; i++)
		b[i] = (uint8_t)i;
	ck_assert_msg(f(0, b, 32) == 0x46DD794Eu, "%s: incrementing", name);
	for (i = 0; i < 32; i++)
		b[i] = (uint8_t)(31 - i);
	ck_assert_msg(f(0, b, 32) == 0x113FDB5Cu, "%s: decrementing", name);
	/* Continuation: split anywhere gives the same result. */
	for (i = 0; i <= 9; i++)
		ck_assert_msg(f(f(0, "123456789", i), &"123456789"[i],
		    9 - i) == 0xE3069283u, "%s: split at %zu", name, i);
}

START_TEST(test_crc32c_sw)
{
	crc_vectors(crc32c_sw, "table");
}
END_TEST

START_TEST(test_crc32c_hw)
{
	if (!crc32c_hw_available()) {
		fprintf(stderr, "check_crypto: no SSE4.2, crc32c_hw is the "
		    "table\n");
	}
	crc_vectors(crc32c_hw, "sse4.2");
	crc_vectors(crc32c, "crc32c");
}
END_TEST

/* Both paths agree on every alignment and tail length. */
START_TEST(test_crc32c_limits)
{
	size_t	off, len;

	for (off = 0; off < 8; off++)
		for (len = 0; len + off <= 300; len++)
			ck_assert_msg(crc32c_sw(0x1234, pt + off, len) ==
			    crc32c_hw(0x1234, pt + off, len),
			    "paths differ at offset %zu length %zu", off, len);
	ck_assert_uint_eq(crc32c_sw(0, pt, sizeof(pt)),
	    crc32c_hw(0, pt, sizeof(pt)));
}
END_TEST

/* A suite of a fixture "Core" case and a "Limits" case (NULL-ended lists). */
static Suite *
suite(const char *name, void (*setup)(void), void (*teardown)(void),
    const TTest **core, const TTest **limits)
{
	Suite		*s = suite_create(name);
	const TTest	**list[2] = { core, limits };
	TCase		*tc;
	int		 i;

	for (i = 0; i < 2; i++) {
		tc = tcase_create(i == 0 ? "Core" : "Limits");
		tcase_add_checked_fixture(tc, setup, teardown);
		tcase_set_timeout(tc, TEST_TIMEOUT);
		for (; *list[i] != NULL; list[i]++)
			tcase_add_test(tc, *list[i]);
		suite_add_tcase(s, tc);
	}
	return s;
}

int
main(void)
{
	const TTest	*crypto_core[] = { test_gcm_roundtrip, test_gcm_kat,
			    test_gcm_reject, test_sha256, test_hmac,
			    test_pbkdf2, test_hkdf, test_wrap, test_misc, NULL };
	const TTest	*crypto_limits[] = { test_crypto_limits, NULL };
	const TTest	*seal_core[] = { test_keyseal_roundtrip,
			    test_keyseal_refused, test_keyseal_proof, NULL };
	const TTest	*seal_limits[] = { test_keyseal_limits, NULL };
	const TTest	*chunk_core[] = { test_chunk, NULL };
	const TTest	*chunk_limits[] = { test_chunk_limits, NULL };
	const TTest	*crc_core[] = { test_crc32c_sw, test_crc32c_hw, NULL };
	const TTest	*crc_limits[] = { test_crc32c_limits, NULL };
	return check_run(suite("crypto", setup_keys, teardown_keys,
	    crypto_core, crypto_limits),
	    suite("keyseal", setup_seal, teardown_seal, seal_core, seal_limits),
	    suite("chunk", setup_seal, teardown_seal, chunk_core, chunk_limits),
	    suite("crc32c", setup_keys, teardown_keys, crc_core, crc_limits),
	    NULL);
}
