/*
 * check_curve.c - unit tests of common/curve_key.c and common/curve.c:
 * CURVE key files (creation, reload, permissions, bad Z85, a public key
 * that is not the secret key's), server keys given as text or file, the
 * trust directory and the ZAP decision, the configuration rules, and one
 * real CURVE ROUTER in this process: a trusted client's message arrives
 * with its key as wire_msg.peer_key, an untrusted or plaintext client's
 * never arrives.
 */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zmq.h>

#include "check_main.h"
#include "curve.h"
#include "util.h"
#include "wire.h"

static char	tmpdir[PATH_MAX];

static void
setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "%s/check_curve.XXXXXX",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void
teardown(void)
{
	char	cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
}

static void
path_of(char *buf, size_t cap, const char *a, const char *b)
{
	ck_assert_int_lt(snprintf(buf, cap, "%s/%s", a, b), (int)cap);
}

static void
write_text(const char *path, const char *text, mode_t mode)
{
	FILE	*f;

	unlink(path);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	ck_assert_int_ge(fputs(text, f), 0);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(chmod(path, mode), 0);
}

static mode_t
mode_of(const char *path)
{
	struct stat	st;

	ck_assert_int_eq(stat(path, &st), 0);
	return st.st_mode & 07777;
}

/* A key pair in tmpdir/sub; returns the key directory. */
static const char *
make_pair(const char *sub, char pub[CURVE_Z85_LEN + 1])
{
	static char	dir[PATH_MAX];
	char		sec[CURVE_Z85_LEN + 1], err[256];

	path_of(dir, sizeof(dir), tmpdir, sub);
	ck_assert_int_eq(curve_keypair_load(dir, 1, pub, sec, err,
	    sizeof(err)), 0);
	return dir;
}

START_TEST(test_create_and_reload)
{
	char		 pub[41], sec[41], pub2[41], sec2[41], err[256];
	char		 dir[PATH_MAX], key[PATH_MAX], pubf[PATH_MAX];
	uint8_t		*buf;
	size_t		 len;

	path_of(dir, sizeof(dir), tmpdir, "a/b");
	ck_assert_int_eq(curve_keypair_load(dir, 1, pub, sec, err,
	    sizeof(err)), 0);
	ck_assert(curve_z85_valid(pub));
	ck_assert(curve_z85_valid(sec));
	ck_assert_str_ne(pub, sec);
	path_of(key, sizeof(key), dir, CURVE_KEY_FILE);
	path_of(pubf, sizeof(pubf), dir, CURVE_PUB_FILE);
	ck_assert_uint_eq(mode_of(dir), 0700);
	ck_assert_uint_eq(mode_of(key), 0600);
	ck_assert_uint_eq(mode_of(pubf), 0644);
	/* curve.pub is the public key alone; curve.key never in it. */
	ck_assert_int_eq(util_read_file(pubf, 1024, &buf, &len), 0);
	ck_assert_uint_eq(len, 41);
	ck_assert(memcmp(buf, pub, 40) == 0 && buf[40] == '\n');
	free(buf);

	/* A second load gives the same pair, creating nothing new. */
	ck_assert_int_eq(curve_keypair_load(dir, 0, pub2, sec2, err,
	    sizeof(err)), 0);
	ck_assert_str_eq(pub, pub2);
	ck_assert_str_eq(sec, sec2);

	/* A stale curve.pub is rewritten from the key file. */
	write_text(pubf, "junk\n", 0644);
	ck_assert_int_eq(curve_keypair_load(dir, 0, pub2, sec2, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(util_read_file(pubf, 1024, &buf, &len), 0);
	ck_assert(len == 41 && memcmp(buf, pub, 40) == 0);
	free(buf);
}
END_TEST

START_TEST(test_missing_without_create)
{
	char	pub[41], sec[41], err[256], dir[PATH_MAX];

	path_of(dir, sizeof(dir), tmpdir, "none");
	ck_assert_int_eq(curve_keypair_load(dir, 0, pub, sec, err,
	    sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "no CURVE key"));
	ck_assert_int_eq(access(dir, F_OK), -1);
}
END_TEST

START_TEST(test_permissions_refused)
{
	static const mode_t	 bad[] = { 0640, 0604, 0644, 0660, 0666 };
	char			 pub[41], sec[41], err[256], key[PATH_MAX];
	const char		*dir;
	size_t			 i;

	dir = make_pair("k", pub);
	path_of(key, sizeof(key), dir, CURVE_KEY_FILE);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(chmod(key, bad[i]), 0);
		err[0] = '\0';
		ck_assert_int_eq(curve_keypair_load(dir, 1, pub, sec, err,
		    sizeof(err)), -1);
		ck_assert_msg(strstr(err, "group or others") != NULL,
		    "mode %o: %s", bad[i], err);
		/* Refused, not replaced: the operator decides. */
		ck_assert_uint_eq(mode_of(key), bad[i]);
	}
	ck_assert_int_eq(chmod(key, 0400), 0);
	ck_assert_int_eq(curve_keypair_load(dir, 1, pub, sec, err,
	    sizeof(err)), 0);
}
END_TEST

START_TEST(test_symlink_refused)
{
	char		 pub[41], sec[41], err[256];
	char		 key[PATH_MAX], real[PATH_MAX];
	const char	*dir;

	dir = make_pair("s", pub);
	path_of(key, sizeof(key), dir, CURVE_KEY_FILE);
	path_of(real, sizeof(real), tmpdir, "real.key");
	ck_assert_int_eq(rename(key, real), 0);
	ck_assert_int_eq(symlink(real, key), 0);
	ck_assert_int_eq(curve_keypair_load(dir, 1, pub, sec, err,
	    sizeof(err)), -1);
}
END_TEST

START_TEST(test_bad_key_files)
{
	char		 pub[41], pub2[41], sec[41], err[256];
	char		 key[PATH_MAX];
	char		 text[512], good[512], dir[PATH_MAX];
	uint8_t		*buf;
	size_t		 len;

	/* make_pair's buffer is reused by the second call below. */
	snprintf(dir, sizeof(dir), "%s", make_pair("bad", pub));
	path_of(key, sizeof(key), dir, CURVE_KEY_FILE);
	ck_assert_int_eq(util_read_file(key, 1024, &buf, &len), 0);
	snprintf(good, sizeof(good), "%s", (char *)buf);
	free(buf);

	/* A character outside Z85 in the secret key. */
	snprintf(text, sizeof(text), "%s", good);
	*(strstr(text, "secret-key = ") + 13) = '~';
	write_text(key, text, 0600);
	ck_assert_int_eq(curve_keypair_load(dir, 1, pub2, sec, err,
	    sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "not a CURVE key file"));

	/* A key one character short. */
	snprintf(text, sizeof(text), "%s", good);
	memmove(strstr(text, "secret-key = ") + 13,
	    strstr(text, "secret-key = ") + 14,
	    strlen(strstr(text, "secret-key = ") + 13));
	write_text(key, text, 0600);
	ck_assert_int_eq(curve_keypair_load(dir, 1, pub2, sec, err,
	    sizeof(err)), -1);

	/* No secret key line; an empty file; binary junk. */
	snprintf(text, sizeof(text), "public-key = %s\n", pub);
	write_text(key, text, 0600);
	ck_assert_int_eq(curve_keypair_load(dir, 1, pub2, sec, err,
	    sizeof(err)), -1);
	write_text(key, "", 0600);
	ck_assert_int_eq(curve_keypair_load(dir, 1, pub2, sec, err,
	    sizeof(err)), -1);
	write_text(key, "\x01\x02garbage = \xff\n", 0600);
	ck_assert_int_eq(curve_keypair_load(dir, 1, pub2, sec, err,
	    sizeof(err)), -1);

	/* Another pair's public key with this secret key. */
	make_pair("other", pub2);
	snprintf(text, sizeof(text), "%s", good);
	memcpy(strstr(text, "public-key = ") + 13, pub2, 40);
	write_text(key, text, 0600);
	ck_assert_int_eq(curve_keypair_load(dir, 1, pub2, sec, err,
	    sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "does not belong"));

	/* The original text loads again. */
	write_text(key, good, 0600);
	ck_assert_int_eq(curve_keypair_load(dir, 1, pub2, sec, err,
	    sizeof(err)), 0);
	ck_assert_str_eq(pub, pub2);
}
END_TEST

START_TEST(test_key_arg)
{
	char		 pub[41], out[41], err[256], f[PATH_MAX], text[128];
	const char	*dir;

	dir = make_pair("arg", pub);
	ck_assert_int_eq(curve_key_arg(pub, out, err, sizeof(err)), 0);
	ck_assert_str_eq(out, pub);
	path_of(f, sizeof(f), dir, CURVE_PUB_FILE);
	memset(out, 0, sizeof(out));
	ck_assert_int_eq(curve_key_arg(f, out, err, sizeof(err)), 0);
	ck_assert_str_eq(out, pub);
	/* Comments and blank lines before the key are fine. */
	snprintf(text, sizeof(text), "# CommServe\n\n  %s  \n", pub);
	path_of(f, sizeof(f), tmpdir, "cs.pub");
	write_text(f, text, 0644);
	ck_assert_int_eq(curve_key_arg(f, out, err, sizeof(err)), 0);
	ck_assert_str_eq(out, pub);
	/* A file with something else, a missing file, a bad key. */
	write_text(f, "not a key\n", 0644);
	ck_assert_int_eq(curve_key_arg(f, out, err, sizeof(err)), -1);
	path_of(f, sizeof(f), tmpdir, "missing.pub");
	ck_assert_int_eq(curve_key_arg(f, out, err, sizeof(err)), -1);
	ck_assert_int_eq(curve_key_arg("", out, err, sizeof(err)), -1);
	snprintf(text, sizeof(text), "%s", pub);
	text[5] = '~';
	ck_assert_int_eq(curve_key_arg(text, out, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "not a valid Z85"));
}
END_TEST

/* The 32 bytes of a Z85 key. */
static void
key_bytes(const char *z85, uint8_t out[32])
{
	ck_assert_ptr_nonnull(zmq_z85_decode(out, z85));
}

START_TEST(test_zap_decide)
{
	struct curve_trust	*t;
	char			 a[41], b[41], c[41], uid[41];
	char			 tdir[PATH_MAX];
	char			 f[PATH_MAX], text[128];
	const char		*why;
	uint8_t			 ka[32], kb[32], kc[32];

	make_pair("za", a);
	make_pair("zb", b);
	make_pair("zc", c);
	key_bytes(a, ka);
	key_bytes(b, kb);
	key_bytes(c, kc);
	path_of(tdir, sizeof(tdir), tmpdir, "trust");
	ck_assert_int_eq(mkdir(tdir, 0700), 0);
	snprintf(text, sizeof(text), "%s\n", a);
	path_of(f, sizeof(f), tdir, "a.pub");
	write_text(f, text, 0644);
	snprintf(text, sizeof(text), "# b\n%s\n", b);
	path_of(f, sizeof(f), tdir, "b.pub");
	write_text(f, text, 0644);
	/* Ignored: not *.pub, hidden, junk. */
	snprintf(text, sizeof(text), "%s\n", c);
	path_of(f, sizeof(f), tdir, "c.key");
	write_text(f, text, 0644);
	path_of(f, sizeof(f), tdir, ".c.pub");
	write_text(f, text, 0644);
	path_of(f, sizeof(f), tdir, "junk.pub");
	write_text(f, "hello\n", 0644);

	ck_assert_ptr_nonnull(t = curve_trust_new(tdir));
	ck_assert_int_eq(curve_trust_load(t, 0), 2);
	ck_assert_int_eq(curve_zap_decide(t, "CURVE", ka, 32, uid, &why),
	    CURVE_ZAP_OK);
	ck_assert_str_eq(uid, a);
	ck_assert_int_eq(curve_zap_decide(t, "CURVE", kb, 32, uid, &why),
	    CURVE_ZAP_OK);
	ck_assert_str_eq(uid, b);
	ck_assert_int_eq(curve_zap_decide(t, "CURVE", kc, 32, uid, &why),
	    CURVE_ZAP_DENY);
	ck_assert_str_eq(uid, c);	/* for the refusal's log line */
	ck_assert_ptr_nonnull(strstr(why, "trust"));
	/* Other mechanisms, odd credentials, no trust at all. */
	ck_assert_int_eq(curve_zap_decide(t, "NULL", NULL, 0, uid, &why),
	    CURVE_ZAP_DENY);
	ck_assert_str_eq(uid, "");
	ck_assert_int_eq(curve_zap_decide(t, "PLAIN", ka, 32, uid, &why),
	    CURVE_ZAP_DENY);
	ck_assert_int_eq(curve_zap_decide(t, NULL, ka, 32, uid, &why),
	    CURVE_ZAP_DENY);
	ck_assert_int_eq(curve_zap_decide(t, "CURVE", ka, 31, uid, &why),
	    CURVE_ZAP_DENY);
	ck_assert_int_eq(curve_zap_decide(t, "CURVE", ka, 33, uid, &why),
	    CURVE_ZAP_DENY);
	ck_assert_int_eq(curve_zap_decide(t, "CURVE", NULL, 32, uid, &why),
	    CURVE_ZAP_DENY);
	ck_assert_int_eq(curve_zap_decide(NULL, "CURVE", ka, 32, uid, &why),
	    CURVE_ZAP_DENY);

	/* A key added to the directory counts after a reload. */
	snprintf(text, sizeof(text), "%s\n", c);
	path_of(f, sizeof(f), tdir, "c.pub");
	write_text(f, text, 0644);
	ck_assert_int_eq(curve_trust_load(t, 0), 3);
	ck_assert_int_eq(curve_zap_decide(t, "CURVE", kc, 32, uid, &why),
	    CURVE_ZAP_OK);
	/* And a key removed no longer does. */
	path_of(f, sizeof(f), tdir, "a.pub");
	ck_assert_int_eq(unlink(f), 0);
	ck_assert_int_eq(curve_trust_load(t, 0), 2);
	ck_assert_int_eq(curve_zap_decide(t, "CURVE", ka, 32, uid, &why),
	    CURVE_ZAP_DENY);
	curve_trust_free(&t);
	ck_assert_ptr_null(t);
	curve_trust_free(&t);

	path_of(f, sizeof(f), tmpdir, "no-such-dir");
	ck_assert_ptr_nonnull(t = curve_trust_new(f));
	ck_assert_int_eq(curve_trust_load(t, 0), -1);
	curve_trust_free(&t);
}
END_TEST

START_TEST(test_conf_rules)
{
	struct curve_conf	cf;
	char			err[256], pub[41];

	memset(&cf, 0, sizeof(cf));
	ck_assert_int_eq(curve_conf_check(&cf, err, sizeof(err)), 0);
	cf.trust = "/x";
	ck_assert_int_eq(curve_conf_check(&cf, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "need --curve-dir"));
	cf.trust = NULL;
	cf.dir = "/d";
	cf.serves = 1;
	ck_assert_int_eq(curve_conf_check(&cf, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "--curve-trust"));
	cf.trust = "/t";
	ck_assert_int_eq(curve_conf_check(&cf, err, sizeof(err)), 0);
	cf.commserve = "tcp://127.0.0.1:1";
	ck_assert_int_eq(curve_conf_check(&cf, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "--commserve-key"));
	cf.commserve_key = "short";
	ck_assert_int_eq(curve_conf_check(&cf, err, sizeof(err)), -1);
	make_pair("cs", pub);
	cf.commserve_key = pub;
	ck_assert_int_eq(curve_conf_check(&cf, err, sizeof(err)), 0);
}
END_TEST

START_TEST(test_z85_limits)
{
	char	pub[41], s[64];

	make_pair("z", pub);
	ck_assert(curve_z85_valid(pub));
	ck_assert(!curve_z85_valid(NULL));
	ck_assert(!curve_z85_valid(""));
	snprintf(s, sizeof(s), "%.39s", pub);
	ck_assert(!curve_z85_valid(s));
	snprintf(s, sizeof(s), "%sA", pub);
	ck_assert(!curve_z85_valid(s));
	snprintf(s, sizeof(s), "%s", pub);
	s[0] = ' ';
	ck_assert(!curve_z85_valid(s));
	s[0] = '"';
	ck_assert(!curve_z85_valid(s));
	s[0] = '\\';
	ck_assert(!curve_z85_valid(s));
}
END_TEST

/* 0 when one message arrives on r within ms, its User-Id in m. */
static int
recv_within(void *r, int ms, struct wire_msg *m)
{
	zmq_pollitem_t	pi = { r, 0, ZMQ_POLLIN, 0 };
	kf_err_t	err;
	char		msg[256];

	if (zmq_poll(&pi, 1, ms) <= 0)
		return -1;
	return wire_recv(r, 1, m, &err, msg, sizeof(msg), 0);
}

/*
 * One process-wide key pair: the ROUTER serves with it, the DEALER
 * connects with it.  Trusted when its curve.pub is in the trust directory.
 */
START_TEST(test_sockets)
{
	struct curve_conf	 cf;
	struct wire_msg		 m;
	Kf__Ok			 ok = KF__OK__INIT;
	char			 err[256], ep[64];
	char			 kdir[PATH_MAX], tdir[PATH_MAX];
	char			 f[PATH_MAX], pubf[PATH_MAX];
	void			*ctx, *r, *d, *plain;
	size_t			 eplen = sizeof(ep);
	int			 zero = 0;

	ck_assert_ptr_nonnull(ctx = zmq_ctx_new());
	path_of(kdir, sizeof(kdir), tmpdir, "self");
	path_of(tdir, sizeof(tdir), tmpdir, "trust");
	ck_assert_int_eq(mkdir(tdir, 0700), 0);
	memset(&cf, 0, sizeof(cf));
	cf.dir = kdir;
	cf.trust = tdir;
	cf.serves = 1;
	ck_assert_int_eq(curve_setup(&cf, ctx, err, sizeof(err)), 0);
	ck_assert(curve_enabled());
	ck_assert_ptr_nonnull(curve_public_key());

	ck_assert_ptr_nonnull(r = wire_socket(ctx, ZMQ_ROUTER,
	    "tcp://127.0.0.1:*", 1));
	ck_assert_int_eq(zmq_getsockopt(r, ZMQ_LAST_ENDPOINT, ep, &eplen), 0);
	/* No key known for the endpoint: no plaintext fallback. */
	ck_assert_ptr_null(wire_socket(ctx, ZMQ_DEALER, ep, 0));
	ck_assert_int_eq(curve_peer_set(ep, "not a key"), -1);
	ck_assert_int_eq(curve_peer_set(ep, curve_public_key()), 0);

	/* Untrusted (empty trust directory): nothing arrives. */
	ck_assert_ptr_nonnull(d = wire_socket(ctx, ZMQ_DEALER, ep, 0));
	ck_assert_int_eq(wire_send(d, NULL, 0, KF__MSG_TYPE__OK, &ok.base,
	    NULL, 0), 0);
	ck_assert_int_eq(recv_within(r, 1500, &m), -1);
	zmq_close(d);

	/* Plaintext (NULL mechanism): nothing arrives either. */
	ck_assert_ptr_nonnull(plain = zmq_socket(ctx, ZMQ_DEALER));
	zmq_setsockopt(plain, ZMQ_LINGER, &zero, sizeof(zero));
	ck_assert_int_eq(zmq_connect(plain, ep), 0);
	ck_assert_int_eq(wire_send(plain, NULL, 0, KF__MSG_TYPE__OK,
	    &ok.base, NULL, 0), 0);
	ck_assert_int_eq(recv_within(r, 1000, &m), -1);
	zmq_close(plain);

	/* Trusted once its key is in the directory, with no restart. */
	path_of(pubf, sizeof(pubf), kdir, CURVE_PUB_FILE);
	path_of(f, sizeof(f), tdir, "self.pub");
	ck_assert_int_eq(link(pubf, f), 0);
	sleep(1);	/* the ZAP handler rereads at most once a second */
	ck_assert_ptr_nonnull(d = wire_socket(ctx, ZMQ_DEALER, ep, 0));
	ck_assert_int_eq(wire_send(d, NULL, 0, KF__MSG_TYPE__OK, &ok.base,
	    NULL, 0), 0);
	ck_assert_int_eq(recv_within(r, 5000, &m), 0);
	ck_assert_uint_eq(m.type, KF__MSG_TYPE__OK);
	ck_assert_str_eq(m.peer_key, curve_public_key());
	wire_msg_clear(&m);
	zmq_close(d);
	zmq_close(r);
	curve_shutdown();
	ck_assert(!curve_enabled());
	zmq_ctx_term(ctx);
}
END_TEST

static Suite *
curve_suite(void)
{
	Suite	*s = suite_create("curve");
	TCase	*tc;

	tc = tcase_create("Keys");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_create_and_reload);
	tcase_add_test(tc, test_missing_without_create);
	tcase_add_test(tc, test_permissions_refused);
	tcase_add_test(tc, test_symlink_refused);
	tcase_add_test(tc, test_bad_key_files);
	tcase_add_test(tc, test_key_arg);
	suite_add_tcase(s, tc);

	tc = tcase_create("ZAP");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_zap_decide);
	tcase_add_test(tc, test_conf_rules);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_sockets);
	suite_add_tcase(s, tc);

	tc = tcase_create("Limits");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_z85_limits);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(curve_suite(), NULL);
}
