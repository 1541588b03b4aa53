/*
 * check_conf.c - unit tests for the small shared helpers: conf.c (numbers
 * and sizes from flags and the environment, endpoints, secret files),
 * util.c (big-endian integers, atomic file writes, human-readable sizes,
 * hex digits, error sentences) and seed.c (the seed document's steps as data).
 *
 * A flag or environment value is operator input: every parser is fed the
 * bounds, the overflows and the garbage an operator could type, and must
 * refuse without touching its output.  File tests work in a private
 * directory under $TMPDIR, removed after each test.
 */
#include <sys/stat.h>

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_main.h"
#include "conf.h"
#include "seed.h"
#include "util.h"

#define TEST_TIMEOUT	60
#define SENTINEL	0x5a5a5a5a5a5a5a5aULL	/* an output left alone */

static char	dir[256];		/* private directory per test */

static void
setup_dir(void)
{
	const char	*tmp = getenv("TMPDIR");

	(void)snprintf(dir, sizeof(dir), "%s/check_conf.XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

/* Count the entries of dir (without . and ..), removing them if asked. */
static int
entries(int remove)
{
	DIR		*d = opendir(dir);
	struct dirent	*e;
	char		 p[512];
	int		 n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		n++;
		(void)snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (remove && unlink(p) == -1)
			(void)rmdir(p);
	}
	closedir(d);
	return n;
}

static void
teardown_dir(void)
{
	entries(1);
	(void)rmdir(dir);
}

/* dir/name, in a static buffer. */
static const char *
path(const char *name)
{
	static char	p[512];

	(void)snprintf(p, sizeof(p), "%s/%s", dir, name);
	return p;
}

static void
put_file(const char *name, const void *data, size_t len)
{
	int	fd = open(path(name), O_WRONLY | O_CREAT | O_TRUNC, 0600);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	ck_assert_int_eq(close(fd), 0);
}

struct num_case {
	const char	*s;		/* operator input */
	uint64_t	 min, max;	/* the flag's bounds */
	int		 rc;		/* expected return */
	uint64_t	 want;		/* value when rc == 0 */
};

static void
check_cases(int (*parse)(const char *, uint64_t, uint64_t, uint64_t *),
    const char *what, const struct num_case *c, size_t n)
{
	uint64_t	out;
	size_t		i;

	for (i = 0; i < n; i++) {
		out = SENTINEL;
		ck_assert_msg(parse(c[i].s, c[i].min, c[i].max, &out) ==
		    c[i].rc, "%s(\"%s\") should %s", what,
		    c[i].s ? c[i].s : "(null)", c[i].rc ? "fail" : "pass");
		ck_assert_msg(out == (c[i].rc == 0 ? c[i].want : SENTINEL),
		    "%s(\"%s\") gave %llu", what, c[i].s ? c[i].s : "(null)",
		    (unsigned long long)out);
	}
}

#define NCASES(a)	(sizeof(a) / sizeof((a)[0]))

START_TEST(test_parse_u64)
{
	static const struct num_case	c[] = {
		{ "0", 0, 10, 0, 0 },
		{ "10", 0, 10, 0, 10 },
		{ "007", 0, 10, 0, 7 },
		{ "11", 0, 10, -1, 0 },
		{ "0", 1, 10, -1, 0 },
		{ "18446744073709551615", 0, UINT64_MAX, 0, UINT64_MAX },
		{ "18446744073709551616", 0, UINT64_MAX, -1, 0 },
		{ "99999999999999999999", 0, UINT64_MAX, -1, 0 },
		{ NULL, 0, 10, -1, 0 },
		{ "", 0, 10, -1, 0 },
		{ "-1", 0, UINT64_MAX, -1, 0 },
		{ "+1", 0, 10, -1, 0 },
		{ " 1", 0, 10, -1, 0 },
		{ "1 ", 0, 10, -1, 0 },
		{ "1x", 0, 10, -1, 0 },
		{ "0x10", 0, 100, -1, 0 },
		{ "1.5", 0, 10, -1, 0 },
		{ "1K", 0, 100000, -1, 0 },
	};

	check_cases(conf_parse_u64, "conf_parse_u64", c, NCASES(c));
}
END_TEST

START_TEST(test_parse_size)
{
	static const struct num_case	c[] = {
		{ "0", 0, 10, 0, 0 },
		{ "512", 0, 1024, 0, 512 },
		{ "1K", 0, UINT64_MAX, 0, 1024 },
		{ "1k", 0, UINT64_MAX, 0, 1024 },
		{ "1KiB", 0, UINT64_MAX, 0, 1024 },
		{ "1KB", 0, UINT64_MAX, 0, 1024 },
		{ "2M", 0, UINT64_MAX, 0, 2ULL << 20 },
		{ "3G", 0, UINT64_MAX, 0, 3ULL << 30 },
		{ "4T", 0, UINT64_MAX, 0, 4ULL << 40 },
		{ "1M", 0, 1 << 20, 0, 1 << 20 },
		{ "1025K", 0, 1 << 20, -1, 0 },
		{ "1023K", 1 << 20, UINT64_MAX, -1, 0 },
		/* The largest of each suffix, and one more. */
		{ "16777215T", 0, UINT64_MAX, 0, 16777215ULL << 40 },
		{ "16777216T", 0, UINT64_MAX, -1, 0 },
		{ "17179869184T", 0, UINT64_MAX, -1, 0 },
		{ "17592186044415K", 0, UINT64_MAX, 0,
		    17592186044415ULL << 10 },
		{ "18014398509481984K", 0, UINT64_MAX, -1, 0 },
		{ "18446744073709551615", 0, UINT64_MAX, 0, UINT64_MAX },
		{ "99999999999999999999", 0, UINT64_MAX, -1, 0 },
		{ "99999999999999999999K", 0, UINT64_MAX, -1, 0 },
		{ NULL, 0, 10, -1, 0 },
		{ "", 0, 10, -1, 0 },
		{ "K", 0, UINT64_MAX, -1, 0 },
		{ "-1K", 0, UINT64_MAX, -1, 0 },
		{ "1 K", 0, UINT64_MAX, -1, 0 },
		{ "1X", 0, UINT64_MAX, -1, 0 },
		{ "1KK", 0, UINT64_MAX, -1, 0 },
		{ "1KiBx", 0, UINT64_MAX, -1, 0 },
		{ "1iB", 0, UINT64_MAX, -1, 0 },
		{ "1.5M", 0, UINT64_MAX, -1, 0 },
	};

	check_cases(conf_parse_size, "conf_parse_size", c, NCASES(c));
}
END_TEST

START_TEST(test_endpoint_valid)
{
	static const char *const good[] = { "tcp://127.0.0.1:8400",
	    "tcp://*:8400", "tcp://localhost:1", "tcp://[::1]:8400",
	    "tcp://127.0.0.1:0", "ipc:///run/keyflow/cs.sock",
	    "inproc://commserve", NULL };
	static const char *const bad[] = { "", "tcp://", "tcp://host",
	    "tcp://host:", "tcp://:8400", "tcp://host:port", "tcp://host:84a0",
	    "tcp://host:65536", "tcp://host:123456", "ipc://", "inproc://",
	    "udp://host:1", "TCP://host:1", "host:8400", " tcp://h:1", NULL };
	size_t	i;

	for (i = 0; good[i] != NULL; i++)
		ck_assert_msg(conf_endpoint_valid(good[i]) == 0,
		    "\"%s\" refused", good[i]);
	for (i = 0; bad[i] != NULL; i++)
		ck_assert_msg(conf_endpoint_valid(bad[i]) == -1,
		    "\"%s\" accepted", bad[i]);
	ck_assert_int_eq(conf_endpoint_valid(NULL), -1);
}
END_TEST

START_TEST(test_name_valid)
{
	char	long_name[66];

	ck_assert_int_eq(conf_name_valid("ma1", 64), 1);
	ck_assert_int_eq(conf_name_valid("pool-1_a.b", 64), 1);
	ck_assert_int_eq(conf_name_valid("", 64), 0);
	ck_assert_int_eq(conf_name_valid(".", 64), 0);
	ck_assert_int_eq(conf_name_valid("..", 64), 0);
	ck_assert_int_eq(conf_name_valid("a/b", 64), 0);
	ck_assert_int_eq(conf_name_valid("a b", 64), 0);
	ck_assert_int_eq(conf_name_valid("r\xc3\xa9sum\xc3\xa9", 64), 0);
	memset(long_name, 'x', 64);
	long_name[64] = '\0';
	ck_assert_int_eq(conf_name_valid(long_name, 64), 1);
	long_name[64] = 'x';
	long_name[65] = '\0';
	ck_assert_int_eq(conf_name_valid(long_name, 64), 0);
}
END_TEST

START_TEST(test_env)
{
	ck_assert_int_eq(setenv("KEYFLOW_CHECK_CONF", "v", 1), 0);
	ck_assert_str_eq(conf_env("KEYFLOW_CHECK_CONF", "d"), "v");
	ck_assert_int_eq(setenv("KEYFLOW_CHECK_CONF", "", 1), 0);
	ck_assert_str_eq(conf_env("KEYFLOW_CHECK_CONF", "d"), "d");
	ck_assert_int_eq(unsetenv("KEYFLOW_CHECK_CONF"), 0);
	ck_assert_str_eq(conf_env("KEYFLOW_CHECK_CONF", "d"), "d");
	ck_assert_ptr_null(conf_env("KEYFLOW_CHECK_CONF", NULL));
}
END_TEST

static int
all_zero(const uint8_t *p, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

/* Read secret file name (holding data) into a 16-byte buffer. */
static long
secret(const char *name, const char *data, uint8_t *buf)
{
	if (data != NULL)
		put_file(name, data, strlen(data));
	memset(buf, 0xcc, 16);
	return conf_read_secret(path(name), buf, 16);
}

START_TEST(test_read_secret)
{
	uint8_t	buf[16];

	/* Trailing newlines (and CRs) go; everything else stays. */
	ck_assert_int_eq(secret("nl", "pw\n", buf), 2);
	ck_assert_mem_eq(buf, "pw", 2);
	ck_assert_int_eq(secret("crlf", "pw\r\n\n", buf), 2);
	ck_assert_int_eq(secret("inner", " p\nw ", buf), 5);
	ck_assert_mem_eq(buf, " p\nw ", 5);
	ck_assert_int_eq(secret("bin", "\x01\xff", buf), 2);
	/* Exactly the capacity fits. */
	ck_assert_int_eq(secret("full", "0123456789abcdef", buf), 16);
	ck_assert_mem_eq(buf, "0123456789abcdef", 16);

	/* Refused, with the buffer wiped. */
	ck_assert_int_eq(secret("over", "0123456789abcdefg", buf), -1);
	ck_assert(all_zero(buf, sizeof(buf)));
	ck_assert_int_eq(secret("empty", "", buf), -1);
	ck_assert(all_zero(buf, sizeof(buf)));
	ck_assert_int_eq(secret("newlines", "\n\r\n", buf), -1);
	ck_assert(all_zero(buf, sizeof(buf)));
	ck_assert_int_eq(secret("missing", NULL, buf), -1);
	ck_assert_int_eq(mkdir(path("adir"), 0700), 0);
	ck_assert_int_eq(secret("adir", NULL, buf), -1);
	ck_assert(all_zero(buf, sizeof(buf)));
}
END_TEST

START_TEST(test_be)
{
	static const uint64_t	v64[] = { 0, 1, 0x7f, 0x80, 0xff, 0x100,
	    0x7fffffff, 0x80000000, 0xffffffff, 0x100000000ULL,
	    0x0123456789abcdefULL, 0x8000000000000000ULL, UINT64_MAX };
	uint8_t			b[8];
	size_t			i;

	/* The byte order itself, not only a round trip. */
	be16_put(b, 0x0102);
	ck_assert_mem_eq(b, "\x01\x02", 2);
	be32_put(b, 0x01020304);
	ck_assert_mem_eq(b, "\x01\x02\x03\x04", 4);
	be64_put(b, 0x0102030405060708ULL);
	ck_assert_mem_eq(b, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	/* High bits do not sign-extend. */
	memset(b, 0xff, sizeof(b));
	ck_assert_uint_eq(be16_get(b), 0xffff);
	ck_assert_uint_eq(be32_get(b), 0xffffffffu);
	ck_assert_uint_eq(be64_get(b), UINT64_MAX);
	for (i = 0; i < NCASES(v64); i++) {
		be16_put(b, (uint16_t)v64[i]);
		ck_assert_uint_eq(be16_get(b), (uint16_t)v64[i]);
		be32_put(b, (uint32_t)v64[i]);
		ck_assert_uint_eq(be32_get(b), (uint32_t)v64[i]);
		be64_put(b, v64[i]);
		ck_assert_uint_eq(be64_get(b), v64[i]);
	}
}
END_TEST

START_TEST(test_write_file_atomic)
{
	struct stat	 st;
	uint8_t		*got;
	size_t		 len;

	ck_assert_int_eq(util_write_file_atomic(path("f"), "first", 5, 0600),
	    0);
	ck_assert_int_eq(util_write_file_atomic(path("f"), "second", 6, 0640),
	    0);
	ck_assert_int_eq(util_read_file(path("f"), 100, &got, &len), 0);
	ck_assert_uint_eq(len, 6);
	ck_assert_mem_eq(got, "second", 6);
	ck_assert_int_eq(got[len], '\0');
	free(got);
	ck_assert_int_eq(stat(path("f"), &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0640);
	/* Only the file: no temporary left behind. */
	ck_assert_int_eq(entries(0), 1);

	/* A failed rename (onto a directory) leaves no temporary either. */
	ck_assert_int_eq(mkdir(path("d"), 0700), 0);
	ck_assert_int_eq(util_write_file_atomic(path("d"), "x", 1, 0600), -1);
	ck_assert_int_eq(entries(0), 2);
	ck_assert_int_eq(util_write_file_atomic(path("none/f"), "x", 1, 0600),
	    -1);
	ck_assert_int_eq(errno, ENOENT);

	/* util_read_file's limits: too big, not a regular file, missing. */
	ck_assert_int_eq(util_read_file(path("f"), 5, &got, &len), -1);
	ck_assert_int_eq(errno, EFBIG);
	ck_assert_ptr_null(got);
	ck_assert_int_eq(util_read_file(path("d"), 100, &got, &len), -1);
	ck_assert_int_eq(util_read_file(path("gone"), 100, &got, &len), -1);
	ck_assert_int_eq(errno, ENOENT);
}
END_TEST

START_TEST(test_mkdir_p)
{
	struct stat	st;
	int		fd;
	uint8_t		b[8];

	ck_assert_int_eq(util_mkdir_p(path("a/b/c"), 0700), 0);
	ck_assert_int_eq(util_mkdir_p(path("a/b/c"), 0700), 0);
	ck_assert_int_eq(stat(path("a/b/c"), &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_int_eq(util_fsync_dir(path("a/b")), 0);
	ck_assert_int_eq(util_mkdir_p("", 0700), -1);
	(void)rmdir(path("a/b/c"));
	(void)rmdir(path("a/b"));

	/* util_pread_all: a short file is EIO, not a partial buffer. */
	put_file("short", "1234", 4);
	ck_assert_int_ge(fd = open(path("short"), O_RDONLY), 0);
	ck_assert_int_eq(util_pread_all(fd, b, 4, 0), 0);
	ck_assert_int_eq(util_pread_all(fd, b, 2, 2), 0);
	ck_assert_mem_eq(b, "34", 2);
	ck_assert_int_eq(util_pread_all(fd, b, 5, 0), -1);
	ck_assert_int_eq(errno, EIO);
	close(fd);
}
END_TEST

START_TEST(test_human_bytes)
{
	static const struct {
		uint64_t	 n;
		const char	*want;
	} c[] = {
		{ 0, "0 B" }, { 1023, "1023 B" }, { 1024, "1.0 KiB" },
		{ 1536, "1.5 KiB" }, { 1048575, "1.0 MiB" },
		{ 1ULL << 20, "1.0 MiB" }, { 5ULL << 30, "5.0 GiB" },
		{ (1ULL << 30) - 1, "1.0 GiB" }, { 1ULL << 40, "1.0 TiB" },
		{ 1536ULL << 40, "1536.0 TiB" },
		{ UINT64_MAX, "16777216.0 TiB" },
	};
	char	buf[32];
	size_t	i;

	for (i = 0; i < NCASES(c); i++)
		ck_assert_str_eq(util_human_bytes(c[i].n, buf, sizeof(buf)),
		    c[i].want);
	/* A short buffer truncates, terminated. */
	ck_assert_str_eq(util_human_bytes(1536, buf, 4), "1.5");
}
END_TEST

START_TEST(test_hexval)
{
	/* Each neighbour of the digit ranges, and bytes past ASCII. */
	static const int bad[] = { '/', ':', '@', 'G', '`', 'g', ' ', '\0',
	    'x', -1, 0x80, 0xb0, 0xc6, 0xe6, 0xff, 0x100, 0x130 };
	int	c, n = 0;
	size_t	i;

	for (c = '0'; c <= '9'; c++)
		ck_assert_int_eq(util_hexval(c), c - '0');
	for (c = 'a'; c <= 'f'; c++) {
		ck_assert_int_eq(util_hexval(c), c - 'a' + 10);
		ck_assert_int_eq(util_hexval(c - 'a' + 'A'), c - 'a' + 10);
	}
	for (i = 0; i < NCASES(bad); i++)
		ck_assert_msg(util_hexval(bad[i]) == -1, "0x%x is a hex digit",
		    (unsigned)bad[i]);
	/* Exactly 22 of the 256 byte values are digits. */
	for (c = 0; c < 256; c++)
		n += util_hexval(c) != -1;
	ck_assert_int_eq(n, 22);
}
END_TEST

START_TEST(test_hex_decode)
{
	uint8_t	b[4];
	size_t	len = 99;

	ck_assert_int_eq(util_hex_decode("00fF7a", 6, b, sizeof(b), &len), 0);
	ck_assert_uint_eq(len, 3);
	ck_assert_mem_eq(b, "\x00\xff\x7a", 3);
	/* hexlen bounds the input: what follows is not read. */
	ck_assert_int_eq(util_hex_decode("a1zz", 2, b, sizeof(b), &len), 0);
	ck_assert_uint_eq(len, 1);
	ck_assert_uint_eq(b[0], 0xa1);
	ck_assert_int_eq(util_hex_decode("", 0, b, 0, &len), 0);
	ck_assert_uint_eq(len, 0);
	/* Exactly cap bytes fit; one more does not. */
	ck_assert_int_eq(util_hex_decode("01020304", 8, b, 4, &len), 0);
	ck_assert_uint_eq(len, 4);
	len = 99;
	ck_assert_int_eq(util_hex_decode("0102030405", 10, b, 4, &len), -1);
	ck_assert_uint_eq(len, 0);
	/* Odd length, a bad digit in either half, a space, a NUL. */
	len = 99;
	ck_assert_int_eq(util_hex_decode("abc", 3, b, sizeof(b), &len), -1);
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(util_hex_decode("0g", 2, b, sizeof(b), &len), -1);
	ck_assert_int_eq(util_hex_decode("g0", 2, b, sizeof(b), &len), -1);
	ck_assert_int_eq(util_hex_decode("00 1", 4, b, sizeof(b), &len), -1);
	ck_assert_int_eq(util_hex_decode("0\0", 2, b, sizeof(b), &len), -1);
	ck_assert_int_eq(util_hex_decode("\xc3\xa9", 2, b, sizeof(b), &len),
	    -1);
	ck_assert_uint_eq(len, 0);
}
END_TEST

START_TEST(test_errf)
{
	char	err[16];

	memset(err, 'x', sizeof(err));
	ck_assert_int_eq(util_errf(err, sizeof(err), "job %d: %s", 7, "gone"),
	    -1);
	ck_assert_str_eq(err, "job 7: gone");
	/* A long sentence is cut, terminated, inside the buffer. */
	memset(err, 'x', sizeof(err));
	ck_assert_int_eq(util_errf(err, 5, "%s", "abcdefgh"), -1);
	ck_assert_str_eq(err, "abcd");
	ck_assert_uint_eq((unsigned char)err[5], 'x');
	/* No buffer, or none of it: still -1, nothing written. */
	ck_assert_int_eq(util_errf(NULL, 100, "%s", "x"), -1);
	err[0] = 'q';
	ck_assert_int_eq(util_errf(err, 0, "%s", "x"), -1);
	ck_assert_uint_eq((unsigned char)err[0], 'q');
}
END_TEST

START_TEST(test_seed_steps)
{
	static const struct {
		const char	*flow, *title;
		unsigned	 n;
	} f[] = {
		{ "pool", "Storage Pool Creation", 4 },
		{ "backup", "Backup", 6 },
		{ "restore", "Restore", 7 },
	};
	static const char *const actors[] = { "commserve", "kms", "client",
	    "mediaagent", NULL };
	const struct seed_step	*st;
	size_t			 i, a, len;
	unsigned		 k;

	for (i = 0; i < NCASES(f); i++) {
		ck_assert_uint_eq(seed_steps(f[i].flow), f[i].n);
		ck_assert_str_eq(seed_flow_title(f[i].flow), f[i].title);
		ck_assert_ptr_null(seed_step(f[i].flow, 0));
		ck_assert_ptr_null(seed_step(f[i].flow, f[i].n + 1));
		for (k = 1; k <= f[i].n; k++) {
			st = seed_step(f[i].flow, k);
			ck_assert_msg(st != NULL, "%s step %u missing",
			    f[i].flow, k);
			ck_assert_str_eq(st->flow, f[i].flow);
			ck_assert_uint_eq(st->step, k);
			/* A sentence of the seed, by a known actor. */
			len = strlen(st->text);
			ck_assert_msg(len > 20 && st->text[len - 1] == '.',
			    "%s step %u: \"%s\"", f[i].flow, k, st->text);
			for (a = 0; actors[a] != NULL; a++)
				if (strcmp(st->actor, actors[a]) == 0)
					break;
			ck_assert_msg(actors[a] != NULL, "actor %s",
			    st->actor);
		}
	}
	ck_assert_str_eq(seed_step("backup", 4)->text,
	    "Client encrypts backup data using DEK.");
	ck_assert_str_eq(seed_step("restore", 7)->actor, "client");
	ck_assert_str_eq(seed_step("pool", 2)->actor, "kms");
	ck_assert_uint_eq(seed_steps("auxcopy"), 0);
	ck_assert_uint_eq(seed_steps(""), 0);
	ck_assert_ptr_null(seed_step("auxcopy", 1));
	ck_assert_ptr_null(seed_step("Backup", 1));
	ck_assert_ptr_null(seed_flow_title("auxcopy"));
}
END_TEST

static TCase *
tcase(const char *name, int with_dir)
{
	TCase	*tc = tcase_create(name);

	if (with_dir)
		tcase_add_checked_fixture(tc, setup_dir, teardown_dir);
	tcase_set_timeout(tc, TEST_TIMEOUT);
	return tc;
}

int
main(void)
{
	Suite	*conf = suite_create("conf"), *util = suite_create("util");
	Suite	*seed = suite_create("seed");
	TCase	*tc;

	tc = tcase("Core", 1);
	tcase_add_test(tc, test_env);
	tcase_add_test(tc, test_read_secret);
	suite_add_tcase(conf, tc);
	tc = tcase("Limits", 0);
	tcase_add_test(tc, test_parse_u64);
	tcase_add_test(tc, test_parse_size);
	tcase_add_test(tc, test_endpoint_valid);
	tcase_add_test(tc, test_name_valid);
	suite_add_tcase(conf, tc);

	tc = tcase("Core", 1);
	tcase_add_test(tc, test_write_file_atomic);
	tcase_add_test(tc, test_mkdir_p);
	suite_add_tcase(util, tc);
	tc = tcase("Limits", 0);
	tcase_add_test(tc, test_be);
	tcase_add_test(tc, test_human_bytes);
	tcase_add_test(tc, test_hexval);
	tcase_add_test(tc, test_hex_decode);
	tcase_add_test(tc, test_errf);
	suite_add_tcase(util, tc);

	tc = tcase("Core", 0);
	tcase_add_test(tc, test_seed_steps);
	suite_add_tcase(seed, tc);
	return check_run(conf, util, seed, NULL);
}
