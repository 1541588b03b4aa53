/*
 * check_kmip_client.c - unit tests for the KMIP client (common/kmip/
 * client*.c) against a scripted KMIP server in a thread of this process
 * (kmip_server_fixture.c).
 *
 * The fake server is a real mutual-TLS server (certificates made here with
 * OpenSSL, EC P-256) that decodes requests and encodes answers with the
 * common/kmip codec, and can misbehave on demand: list only some versions,
 * not know Discover Versions, refuse newer messages, close a connection
 * after every answer (a server that drops idle connections), read a
 * request and hang up without answering, say nothing at all, refuse an
 * operation.  "Core" checks negotiation (2.0, 1.4 with the Client
 * Correlation Value, 1.2 with CBC, the 1.2 and 1.0 fallbacks), every
 * operation end to end with the ciphertext opened locally, reconnection
 * without a repeated Create, and the timeout.  "Limits" checks the
 * refusals a user must understand: an encrypted key, a CA or a host name
 * that does not match, a closed port, bad addresses, a server's refusal.
 */
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "check_main.h"
#include "crypto.h"
#include "kmip/client.h"

#include "kmip_server_fixture.h"

#define TEST_TIMEOUT	60

#define ASSERT_OK(c, expr) \
	ck_assert_msg((expr) == 0, "%s: %s", #expr, kmip_client_error(c))
#define ASSERT_ERR(c, needle) \
	ck_assert_msg(strstr(kmip_client_error(c), needle) != NULL, \
	    "expected \"%s\" in \"%s\"", needle, kmip_client_error(c))


/* Create, Activate, Encrypt, Get, Revoke, Destroy on one connection. */
static void
lifecycle(struct kmip_client *c, struct fake *f, uint32_t mode)
{
	struct kmip_ciphertext	 ct;
	uint8_t			 kek[KF_KEY_LEN], mk[KF_KEY_LEN], out[48];
	const char		 aad[] = "keyflow kek 7";
	char			*uid = NULL;
	size_t			 n;

	ASSERT_OK(c, kmip_client_create_aes(c, 256, "keyflow pool p master "
	    "key", KMIP_USAGE_ENCRYPT | KMIP_USAGE_DECRYPT, "pool/p", &uid));
	ck_assert_str_eq(uid, FAKE_UID);
	ck_assert_str_eq(f->name, "keyflow pool p master key");
	ck_assert_int_eq(f->usage, KMIP_USAGE_ENCRYPT | KMIP_USAGE_DECRYPT);
	ASSERT_OK(c, kmip_client_activate(c, uid, "pool/p"));
	ck_assert_int_eq(crypto_random(kek, sizeof(kek)), 0);
	ASSERT_OK(c, kmip_client_encrypt(c, uid, aad, sizeof(aad), kek,
	    sizeof(kek), "pool/p", &ct));
	ck_assert_uint_eq(ct.mode, mode);
	ck_assert_uint_eq(ct.ivlen, 16);
	if (mode == KMIP_MODE_GCM) {
		ck_assert_uint_eq(ct.len, 32);
		ck_assert_uint_eq(ct.taglen, 16);
		ck_assert_int_eq(crypto_gcm_open_iv(fake_key, ct.iv, ct.ivlen,
		    aad, sizeof(aad), ct.data, ct.len, out, ct.tag), 0);
	} else {
		ck_assert_uint_eq(ct.len, 48);
		ck_assert_uint_eq(ct.taglen, 0);
		ck_assert_int_eq(crypto_cbc_decrypt(fake_key, ct.iv, ct.data,
		    ct.len, out, &n), 0);
		ck_assert_uint_eq(n, 32);
	}
	ck_assert_mem_eq(out, kek, sizeof(kek));
	ASSERT_OK(c, kmip_client_get_key(c, uid, "job/1", mk, sizeof(mk),
	    &n));
	ck_assert_uint_eq(n, KF_KEY_LEN);
	ck_assert_mem_eq(mk, fake_key, KF_KEY_LEN);
	ASSERT_OK(c, kmip_client_revoke(c, uid, KMIP_REVOKE_CESSATION, NULL));
	ASSERT_OK(c, kmip_client_destroy(c, uid, NULL));
	ck_assert_int_eq(f->creates, 1);
	free(uid);
}

START_TEST(negotiates_2_0_gcm)
{
	struct fake		*f = fake_start("server", KMIP_2_0);
	struct kmip_client	*c;

	f->versions[f->nversions++] = KMIP_1_4;
	f->versions[f->nversions++] = KMIP_1_2;
	c = go(f, 0);
	ASSERT_OK(c, kmip_client_connect(c));
	ck_assert_uint_eq(kmip_client_version(c), KMIP_2_0);
	lifecycle(c, f, KMIP_MODE_GCM);
	ck_assert_uint_eq(kmip_client_connects(c), 1);
	ck_assert_int_eq(f->corr_seen, 0);	/* not asked for */
	kmip_client_free(&c);
	fake_stop(&f);
}
END_TEST

/* 1.4: the trace id travels as Client Correlation Value when asked. */
START_TEST(correlation_at_1_4)
{
	struct fake		*f = fake_start("server", KMIP_1_4);
	struct kmip_client	*c;
	char			 err[512];

	fake_go(f);
	ck_assert_ptr_nonnull(c = client_for(f, "localhost", NULL, NULL, 1,
	    err, sizeof(err)));
	lifecycle(c, f, KMIP_MODE_GCM);
	ck_assert_uint_eq(kmip_client_version(c), KMIP_1_4);
	ck_assert_int_eq(f->corr_seen, 4);	/* those with a trace id */
	ck_assert_str_eq(f->last_corr, "job/1");
	kmip_client_free(&c);
	fake_stop(&f);
}
END_TEST

/* 1.2: CBC with PKCS#5, and no Correlation Value even when asked. */
START_TEST(cbc_at_1_2)
{
	struct fake		*f = fake_start("server", KMIP_1_2);
	struct kmip_client	*c;

	f->versions[f->nversions++] = KMIP_1_0;
	c = go(f, 1);
	lifecycle(c, f, KMIP_MODE_CBC);
	ck_assert_uint_eq(kmip_client_version(c), KMIP_1_2);
	ck_assert_int_eq(f->corr_seen, 0);
	kmip_client_free(&c);
	fake_stop(&f);
}
END_TEST

/* Discover Versions unknown: Query at 1.2 gets through. */
START_TEST(fallback_1_2)
{
	struct fake		*f = fake_start("server", KMIP_1_2);
	struct kmip_client	*c;

	f->no_discover = 1;
	c = go(f, 0);
	ASSERT_OK(c, kmip_client_connect(c));
	ck_assert_uint_eq(kmip_client_version(c), KMIP_1_2);
	lifecycle(c, f, KMIP_MODE_CBC);
	kmip_client_free(&c);
	fake_stop(&f);
}
END_TEST

/* A 1.0 server: Query at 1.2 is refused, at 1.0 answered; no Encrypt. */
START_TEST(fallback_1_0)
{
	struct fake		*f = fake_start("server", KMIP_1_0);
	struct kmip_client	*c;
	struct kmip_ciphertext	 ct;
	uint8_t			 kek[KF_KEY_LEN] = { 0 };
	char			*uid = NULL;

	f->no_discover = 1;
	c = go(f, 0);
	ASSERT_OK(c, kmip_client_connect(c));
	ck_assert_uint_eq(kmip_client_version(c), KMIP_1_0);
	ASSERT_OK(c, kmip_client_create_aes(c, 256, NULL, KMIP_USAGE_ENCRYPT,
	    NULL, &uid));
	ck_assert_int_eq(kmip_client_encrypt(c, uid, NULL, 0, kek,
	    sizeof(kek), NULL, &ct), -1);
	ASSERT_ERR(c, "Encrypt needs KMIP 1.2");
	free(uid);
	kmip_client_free(&c);
	fake_stop(&f);
}
END_TEST

/* A server that closes after every answer: reconnect, no repeats. */
START_TEST(reconnect_after_close)
{
	struct fake		*f = fake_start("server", KMIP_1_4);
	struct kmip_client	*c;

	f->close_after = 1;
	c = go(f, 0);
	lifecycle(c, f, KMIP_MODE_GCM);
	/* Discover Versions + six operations, each on its own connection. */
	ck_assert_uint_eq(kmip_client_connects(c), 7);
	ck_assert_int_eq(f->requests, 7);
	kmip_client_free(&c);
	fake_stop(&f);
}
END_TEST

/* A request read and hung up on is sent once more, on a new connection. */
START_TEST(retry_after_hangup)
{
	struct fake		*f = fake_start("server", KMIP_1_4);
	struct kmip_client	*c;
	char			*uid = NULL;

	f->hangup_on = 2;	/* the Create after Discover Versions */
	c = go(f, 0);
	ASSERT_OK(c, kmip_client_create_aes(c, 256, NULL, KMIP_USAGE_ENCRYPT,
	    NULL, &uid));
	ck_assert_uint_eq(kmip_client_connects(c), 2);
	ck_assert_int_eq(f->requests, 3);
	ck_assert_int_eq(f->creates, 1);
	free(uid);
	kmip_client_free(&c);
	fake_stop(&f);
}
END_TEST

/* A server that says nothing: an error after read_ms, no retry. */
START_TEST(read_timeout)
{
	struct fake		*f = fake_start("server", KMIP_1_4);
	struct kmip_client	*c;
	struct timespec		 t0, t1;
	long			 ms;

	f->silent = 1;
	c = go(f, 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(kmip_client_connect(c), -1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) /
	    1000000;
	ASSERT_ERR(c, "no answer within 400 ms");
	ck_assert_int_ge(ms, 350);
	ck_assert_int_lt(ms, 3000);
	ck_assert_int_eq(f->requests, 1);
	kmip_client_free(&c);
	fake_stop(&f);
}
END_TEST

START_TEST(encrypted_key_refused)
{
	char	err[512];

	ck_assert_ptr_null(client_for(NULL, NULL, NULL, "client-key-enc", 0,
	    err, sizeof(err)));
	ck_assert_msg(strstr(err, "is encrypted") != NULL, "%s", err);
	ck_assert_ptr_null(client_for(NULL, NULL, NULL, "ca", 0, err,
	    sizeof(err)));
	ck_assert_msg(strstr(err, "holds no PEM private key") != NULL, "%s",
	    err);
	ck_assert_ptr_null(client_for(NULL, NULL, NULL, "nonexistent", 0,
	    err, sizeof(err)));
	ck_assert_msg(strstr(err, "cannot read the client key") != NULL,
	    "%s", err);
}
END_TEST

/* The server's certificate: another CA, another name. */
START_TEST(server_not_trusted)
{
	struct fake		*f = fake_start("server", KMIP_1_4);
	struct fake		*g = fake_start("badname", KMIP_1_4);
	struct kmip_client	*c;
	char			 err[512];

	fake_go(f);
	fake_go(g);
	ck_assert_ptr_nonnull(c = client_for(f, NULL, "other-ca", NULL, 0,
	    err, sizeof(err)));
	ck_assert_int_eq(kmip_client_connect(c), -1);
	ASSERT_ERR(c, "does not verify");
	kmip_client_free(&c);
	ck_assert_ptr_nonnull(c = client_for(g, NULL, NULL, NULL, 0, err,
	    sizeof(err)));
	ck_assert_int_eq(kmip_client_connect(c), -1);
	ASSERT_ERR(c, "does not verify for 127.0.0.1");
	kmip_client_free(&c);
	ck_assert_int_eq(f->requests + g->requests, 0);
	fake_stop(&f);
	fake_stop(&g);
}
END_TEST

START_TEST(refusals_named)
{
	struct fake		*f = fake_start("server", KMIP_1_4);
	struct kmip_client	*c;
	char			*uid = NULL;

	f->refuse_create = 1;
	c = go(f, 0);
	ck_assert_int_eq(kmip_client_create_aes(c, 256, "pool x", 0x0C, NULL,
	    &uid), -1);
	ASSERT_ERR(c, "Create refused: Permission Denied");
	ASSERT_ERR(c, "nope, not for pool x");
	ck_assert_uint_eq(kmip_client_reason(c), KMIP_REASON_PERMISSION_DENIED);
	ck_assert_ptr_null(uid);
	ck_assert_int_eq(kmip_client_create_aes(c, 100, NULL, 0x0C, NULL,
	    &uid), -1);
	ASSERT_ERR(c, "not 100");
	kmip_client_free(&c);
	fake_stop(&f);
}
END_TEST

START_TEST(bad_addresses)
{
	static const char *const bad[] = { "", "h:", "h:0", "h:65536",
	    "h:12x", "::1:5696", "[::1", "[::1]x", "a b:1", ":5696" };
	struct kmip_client_conf	 cf;
	struct kmip_client	*c;
	char			 err[512], ca[128], cert[128], key[128];
	size_t			 i;

	snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
	snprintf(cert, sizeof(cert), "%s/client.pem", dir);
	snprintf(key, sizeof(key), "%s/client-key.pem", dir);
	memset(&cf, 0, sizeof(cf));
	cf.ca = ca;
	cf.cert = cert;
	cf.key = key;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cf.address = bad[i];
		ck_assert_msg((c = kmip_client_new(&cf, err, sizeof(err))) ==
		    NULL, "address \"%s\" accepted", bad[i]);
		ck_assert_msg(strstr(err, "not a KMIP server address") != NULL,
		    "%s", err);
	}
	cf.address = "[::1]:5696";
	ck_assert_ptr_nonnull(c = kmip_client_new(&cf, err, sizeof(err)));
	kmip_client_free(&c);
	kmip_client_free(&c);	/* NULL is fine */
}
END_TEST

/* Nothing listens on port 1 of the loopback address. */
START_TEST(connection_refused)
{
	struct kmip_client	*c;
	char			 err[512];

	ck_assert_ptr_nonnull(c = client_for(NULL, NULL, NULL, NULL, 0, err,
	    sizeof(err)));
	ck_assert_int_eq(kmip_client_connect(c), -1);
	ASSERT_ERR(c, "KMIP server 127.0.0.1:1: cannot connect: Connection "
	    "refused");
	kmip_client_free(&c);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("kmip_client");
	TCase	*core = tcase_create("Core"), *lim = tcase_create("Limits");

	tcase_add_checked_fixture(core, setup, teardown);
	tcase_add_checked_fixture(lim, setup, teardown);
	tcase_set_timeout(core, TEST_TIMEOUT);
	tcase_set_timeout(lim, TEST_TIMEOUT);
	tcase_add_test(core, negotiates_2_0_gcm);
	tcase_add_test(core, correlation_at_1_4);
	tcase_add_test(core, cbc_at_1_2);
	tcase_add_test(core, fallback_1_2);
	tcase_add_test(core, fallback_1_0);
	tcase_add_test(core, reconnect_after_close);
	tcase_add_test(core, retry_after_hangup);
	tcase_add_test(core, read_timeout);
	tcase_add_test(lim, encrypted_key_refused);
	tcase_add_test(lim, server_not_trusted);
	tcase_add_test(lim, refusals_named);
	tcase_add_test(lim, bad_addresses);
	tcase_add_test(lim, connection_refused);
	suite_add_tcase(s, core);
	suite_add_tcase(s, lim);
	return check_run(s, NULL);
}

