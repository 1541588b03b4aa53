/*
 * check_stream.c - unit tests for the backup stream format (stream.c):
 * round trips of every record type, every truncation of a multi-record
 * stream, byte-at-a-time and two-piece feeding, hostile headers one field
 * at a time, data after the end record and the path rules.  Truncated
 * inputs are fed from exactly-sized heap copies so that ASan and valgrind
 * catch any read past what the parser was given.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "stream.h"
#include "util.h"

#define TEST_TIMEOUT	300
/* A file name with UTF-8 and spaces. */
#define UNAME	"a dir/\xc3\xbcn\xc3\xaf" "c\xc3\xb8" "d\xc3\xa9 file.txt"

/* A growing byte buffer. */
struct sbuf {
	uint8_t	*p;	/* bytes */
	size_t	 len;	/* used */
	size_t	 cap;	/* allocated */
};

/* What the callbacks saw, as text plus the concatenated file data. */
struct transcript {
	FILE	*log;		/* one line per event */
	char	*logbuf;	/* its memory */
	size_t	 loglen;	/* its length */
	FILE	*data;		/* every on_data byte */
	char	*databuf;	/* its memory */
	size_t	 datalen;	/* its length */
	int	 refuse_at;	/* on_header returns 5 at this record */
	int	 headers;	/* headers seen */
};

static struct sbuf	stream;		/* the fixture's multi-record stream */
static size_t		nrecords;	/* records in it, end included */

static void
sbuf_add(struct sbuf *b, const void *p, size_t len)
{
	if (b->len + len > b->cap) {
		b->cap = (b->len + len) * 2;
		b->p = realloc(b->p, b->cap);
		ck_assert_ptr_nonnull(b->p);
	}
	memcpy(b->p + b->len, p, len);
	b->len += len;
}

static void
sbuf_free(struct sbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

static void
entry(struct stream_entry *e, enum stream_type type, const char *path,
    const char *link, uint64_t size)
{
	memset(e, 0, sizeof(*e));
	e->type = type;
	if (type == STREAM_END)
		return;
	e->mode = type == STREAM_DIRECTORY ? 0755 : 0644;
	e->mtime_sec = 1700000000;
	e->mtime_nsec = 123456789;
	e->size = size;
	e->path_len = (uint16_t)strlen(path);
	memcpy(e->path, path, e->path_len);
	if (link != NULL) {
		e->link_len = (uint16_t)strlen(link);
		memcpy(e->link, link, e->link_len);
	}
}

/* Append e's header and, for regular files, size bytes of pattern. */
static void
add_record(struct sbuf *b, const struct stream_entry *e)
{
	uint8_t		 hdr[STREAM_HDR_MAX], c;
	long		 n;
	uint64_t	 i;

	n = stream_encode_header(e, hdr, sizeof(hdr));
	ck_assert_msg(n > 0, "cannot encode %s", e->path);
	ck_assert_uint_eq((size_t)n, stream_header_len(e));
	sbuf_add(b, hdr, (size_t)n);
	for (i = 0; i < e->size; i++) {
		c = (uint8_t)(i * 7 + e->path_len);
		sbuf_add(b, &c, 1);
	}
}

static void
setup_stream(void)
{
	struct stream_entry	e;
	char			longpath[KF_PATH_MAX + 1];
	size_t			i;

	memset(&stream, 0, sizeof(stream));
	for (i = 0; i < KF_PATH_MAX; i++)
		longpath[i] = (i % 8 == 7) ? '/' : 'x';
	longpath[KF_PATH_MAX - 1] = 'z';
	longpath[KF_PATH_MAX] = '\0';
	entry(&e, STREAM_DIRECTORY, "a dir", NULL, 0);
	add_record(&stream, &e);
	entry(&e, STREAM_REGULAR, UNAME, NULL, 1000);
	add_record(&stream, &e);
	entry(&e, STREAM_REGULAR, "empty", NULL, 0);
	add_record(&stream, &e);
	entry(&e, STREAM_SYMLINK, "a dir/link", "../target", 0);
	add_record(&stream, &e);
	entry(&e, STREAM_REGULAR, longpath, NULL, 3);
	add_record(&stream, &e);
	entry(&e, STREAM_END, NULL, NULL, 0);
	add_record(&stream, &e);
	nrecords = 6;
}

static void
teardown_stream(void)
{
	sbuf_free(&stream);
}

static int
t_header(void *arg, const struct stream_entry *e, uint64_t off)
{
	struct transcript	*t = arg;

	ck_assert_uint_eq(strlen(e->path), e->path_len);
	ck_assert_uint_eq(strlen(e->link), e->link_len);
	fprintf(t->log, "H %d %s -> %s size %llu mode %o mtime %lld.%09u "
	    "at %llu\n", (int)e->type, e->path, e->link,
	    (unsigned long long)e->size, (unsigned)e->mode,
	    (long long)e->mtime_sec, (unsigned)e->mtime_nsec,
	    (unsigned long long)off);
	if (++t->headers == t->refuse_at)
		return 5;
	return 0;
}

static int
t_data(void *arg, const uint8_t *buf, size_t len)
{
	struct transcript	*t = arg;

	ck_assert_uint_gt(len, 0);
	ck_assert_uint_eq(fwrite(buf, 1, len, t->data), len);
	return 0;
}

static int
t_record_end(void *arg, const struct stream_entry *e)
{
	struct transcript	*t = arg;

	fprintf(t->log, "R %s\n", e->path);
	return 0;
}

static int
t_end(void *arg, uint64_t off)
{
	struct transcript	*t = arg;

	fprintf(t->log, "END at %llu\n", (unsigned long long)off);
	return 0;
}

static const struct stream_parser_cb t_cb = {
	t_header, t_data, t_record_end, t_end
};

static void
t_open(struct transcript *t)
{
	memset(t, 0, sizeof(*t));
	t->log = open_memstream(&t->logbuf, &t->loglen);
	t->data = open_memstream(&t->databuf, &t->datalen);
	ck_assert(t->log != NULL && t->data != NULL);
}

static void
t_close(struct transcript *t)
{
	fclose(t->log);
	fclose(t->data);
}

static void
t_free(struct transcript *t)
{
	free(t->logbuf);
	free(t->databuf);
}

/* Feed buf in pieces of at most step bytes; return the last feed's rc. */
static int
parse(const uint8_t *buf, size_t len, size_t step, struct transcript *t,
    struct stream_parser **pp)
{
	struct stream_parser	*p;
	size_t			 off, n;
	int			 rc = 0;

	p = stream_parser_new(&t_cb, t, 0);
	ck_assert_ptr_nonnull(p);
	for (off = 0; off < len && rc == 0; off += n) {
		n = len - off < step ? len - off : step;
		rc = stream_parser_feed(p, buf + off, n);
	}
	*pp = p;
	return rc;
}

/* Exactly-sized heap copy, so an over-read is caught. */
static uint8_t *
exact_copy(const uint8_t *buf, size_t len)
{
	uint8_t	*c = malloc(len > 0 ? len : 1);

	ck_assert_ptr_nonnull(c);
	memcpy(c, buf, len);
	return c;
}

START_TEST(test_roundtrip)
{
	struct transcript	 t;
	struct stream_parser	*p;
	struct sbuf		 want = { 0 };
	size_t			 i;
	char			 line[128];

	t_open(&t);
	ck_assert_int_eq(parse(stream.p, stream.len, stream.len, &t, &p), 0);
	t_close(&t);
	ck_assert(stream_parser_done(p));
	ck_assert(stream_parser_at_boundary(p));
	ck_assert_uint_eq(stream_parser_offset(p), stream.len);
	ck_assert_int_eq(stream_parser_error(p), 0);
	/* Every field came back as encoded. */
	ck_assert_ptr_nonnull(strstr(t.logbuf, "H 2 a dir ->  size 0 mode 755 "
	    "mtime 1700000000.123456789 at 0\nR a dir\n"));
	ck_assert_ptr_nonnull(strstr(t.logbuf, "H 1 " UNAME " ->  size 1000 "
	    "mode 644"));
	ck_assert_ptr_nonnull(strstr(t.logbuf, "H 3 a dir/link -> ../target "
	    "size 0"));
	ck_assert_ptr_nonnull(strstr(t.logbuf, "xxxxxxxz ->  size 3 "));
	snprintf(line, sizeof(line), "END at %zu\n", stream.len -
	    STREAM_HDR_FIXED);
	ck_assert_str_eq(t.logbuf + t.loglen - strlen(line), line);
	/* The data came through whole and in order. */
	for (i = 0; i < 1000; i++) {
		uint8_t	c = (uint8_t)(i * 7 + strlen(UNAME));

		sbuf_add(&want, &c, 1);
	}
	for (i = 0; i < 3; i++) {
		uint8_t	c = (uint8_t)(i * 7 + (KF_PATH_MAX & 0xffff));

		sbuf_add(&want, &c, 1);
	}
	ck_assert_uint_eq(t.datalen, want.len);
	ck_assert_mem_eq(t.databuf, want.p, want.len);
	sbuf_free(&want);
	stream_parser_free(&p);
	ck_assert_ptr_null(p);
	t_free(&t);
}
END_TEST

START_TEST(test_max_lengths)
{
	struct stream_entry	 e, *got;
	struct transcript	 t;
	struct stream_parser	*p;
	struct sbuf		 b = { 0 };

	/* The largest header there is: both names at KF_PATH_MAX. */
	entry(&e, STREAM_SYMLINK, "x", NULL, 0);
	memset(e.path, 'p', KF_PATH_MAX);
	memset(e.link, '/', KF_PATH_MAX);
	e.path_len = e.link_len = KF_PATH_MAX;
	e.mtime_sec = -1;
	e.mtime_nsec = 999999999;
	e.mode = 07777;
	add_record(&b, &e);
	ck_assert_uint_eq(b.len, STREAM_HDR_MAX);
	got = calloc(1, sizeof(*got));
	ck_assert_ptr_nonnull(got);
	entry(got, STREAM_END, NULL, NULL, 0);
	add_record(&b, got);
	t_open(&t);
	ck_assert_int_eq(parse(b.p, b.len, 1000, &t, &p), 0);
	t_close(&t);
	ck_assert(stream_parser_done(p));
	ck_assert_ptr_nonnull(strstr(t.logbuf, "mode 7777 mtime -1.999999999"));
	ck_assert_ptr_nonnull(strstr(t.logbuf, "pppp -> ////"));
	stream_parser_free(&p);
	t_free(&t);
	free(got);
	sbuf_free(&b);
}
END_TEST

/* Every proper prefix is "incomplete": no error, not done. */
START_TEST(test_truncations)
{
	struct transcript	 t;
	struct stream_parser	*p;
	uint8_t			*c;
	size_t			 len;

	for (len = 0; len < stream.len; len++) {
		c = exact_copy(stream.p, len);
		t_open(&t);
		p = stream_parser_new(&t_cb, &t, 0);
		ck_assert_ptr_nonnull(p);
		ck_assert_msg(stream_parser_feed(p, c, len) == 0,
		    "prefix of %zu bytes: %s", len,
		    stream_parser_strerror(p));
		ck_assert_msg(!stream_parser_done(p),
		    "prefix of %zu bytes reported done", len);
		ck_assert_int_eq(stream_parser_error(p), 0);
		ck_assert_uint_eq(stream_parser_offset(p), len);
		t_close(&t);
		ck_assert_ptr_null(strstr(t.logbuf, "END"));
		stream_parser_free(&p);
		t_free(&t);
		free(c);
	}
}
END_TEST

/* One byte at a time, and in two pieces split anywhere: same result. */
START_TEST(test_any_split)
{
	struct transcript	 whole, t;
	struct stream_parser	*p;
	uint8_t			*a, *b;
	size_t			 cut;

	t_open(&whole);
	ck_assert_int_eq(parse(stream.p, stream.len, stream.len, &whole, &p),
	    0);
	t_close(&whole);
	stream_parser_free(&p);

	t_open(&t);
	ck_assert_int_eq(parse(stream.p, stream.len, 1, &t, &p), 0);
	t_close(&t);
	ck_assert(stream_parser_done(p));
	ck_assert_str_eq(t.logbuf, whole.logbuf);
	ck_assert_uint_eq(t.datalen, whole.datalen);
	ck_assert_mem_eq(t.databuf, whole.databuf, whole.datalen);
	stream_parser_free(&p);
	t_free(&t);

	for (cut = 0; cut <= stream.len; cut++) {
		a = exact_copy(stream.p, cut);
		b = exact_copy(stream.p + cut, stream.len - cut);
		t_open(&t);
		p = stream_parser_new(&t_cb, &t, 0);
		ck_assert_int_eq(stream_parser_feed(p, a, cut), 0);
		ck_assert_int_eq(stream_parser_feed(p, b, stream.len - cut), 0);
		t_close(&t);
		ck_assert_msg(stream_parser_done(p), "cut at %zu", cut);
		ck_assert_msg(strcmp(t.logbuf, whole.logbuf) == 0,
		    "cut at %zu parses differently", cut);
		ck_assert_uint_eq(t.datalen, whole.datalen);
		stream_parser_free(&p);
		t_free(&t);
		free(a);
		free(b);
	}
	t_free(&whole);
}
END_TEST

/* A header written field by field, with no validation. */
struct raw {
	uint8_t		type;		/* record type byte */
	uint16_t	path_len;	/* path length field */
	uint32_t	mode;		/* mode field */
	uint32_t	nsec;		/* nanoseconds field */
	uint64_t	size;		/* size field */
	uint16_t	link_len;	/* link length field */
	const char	*path;		/* path bytes (path_len of them) */
	const char	*link;		/* link bytes (link_len of them) */
};

static void
raw_header(struct sbuf *b, const struct raw *r)
{
	uint8_t	h[STREAM_HDR_FIXED];

	memset(h, 0, sizeof(h));
	memcpy(h, "KFR1", 4);
	h[4] = r->type;
	be16_put(h + 6, r->path_len);
	be32_put(h + 8, r->mode);
	be32_put(h + 12, r->nsec);
	be64_put(h + 16, 1);
	be64_put(h + 24, r->size);
	be16_put(h + 32, r->link_len);
	sbuf_add(b, h, sizeof(h));
	if (r->path != NULL)
		sbuf_add(b, r->path, r->path_len);
	if (r->link != NULL)
		sbuf_add(b, r->link, r->link_len);
}

struct hostile {
	const char	*name;		/* what is wrong */
	struct raw	 r;		/* the bad header */
	int		 patch_at;	/* -1, or a byte offset to set */
	uint8_t		 patch;		/* to this value */
	const char	*says;		/* the error must contain this */
};

static const struct hostile hostile[] = {
	{ "bad magic", { 1, 3, 0644, 0, 0, 0, "abc", NULL }, 0, 'X',
	  "magic" },
	{ "type 7", { 7, 3, 0644, 0, 0, 0, "abc", NULL }, -1, 0,
	  "unknown record type 7" },
	{ "type 0", { 0, 3, 0644, 0, 0, 0, "abc", NULL }, -1, 0,
	  "unknown record type 0" },
	{ "reserved byte", { 1, 3, 0644, 0, 0, 0, "abc", NULL }, 5, 1,
	  "reserved" },
	{ "reserved u16", { 1, 3, 0644, 0, 0, 0, "abc", NULL }, 35, 1,
	  "reserved" },
	{ "empty path", { 1, 0, 0644, 0, 0, 0, NULL, NULL }, -1, 0,
	  "path length 0" },
	{ "long path", { 1, 4097, 0644, 0, 0, 0, NULL, NULL }, -1, 0,
	  "path length 4097" },
	{ "mode", { 1, 3, 010000, 0, 0, 0, "abc", NULL }, -1, 0,
	  "mode" },
	{ "nsec", { 1, 3, 0644, 1000000000, 0, 0, "abc", NULL }, -1, 0,
	  "nanoseconds" },
	{ "dotdot", { 1, 13, 0644, 0, 0, 0, "../etc/passwd", NULL }, -1,
	  0, "\"..\" component" },
	{ "inner dotdot", { 1, 6, 0644, 0, 0, 0, "a/../b", NULL }, -1, 0,
	  "\"..\" component" },
	{ "absolute", { 1, 11, 0644, 0, 0, 0, "/etc/passwd", NULL }, -1,
	  0, "absolute" },
	{ "empty component", { 1, 4, 0644, 0, 0, 0, "a//b", NULL }, -1,
	  0, "empty component" },
	{ "trailing slash", { 1, 2, 0644, 0, 0, 0, "a/", NULL }, -1, 0,
	  "empty component" },
	{ "dot", { 1, 3, 0644, 0, 0, 0, "./a", NULL }, -1, 0,
	  "\".\" component" },
	{ "NUL in path", { 1, 3, 0644, 0, 0, 0, "a\0b", NULL }, -1, 0,
	  "NUL" },
	{ "huge size on a dir", { 2, 1, 0755, 0, 1ULL << 62, 0, "d", NULL }, -1, 0, "only regular files carry data" },
	{ "size on a symlink", { 3, 1, 0777, 0, 1, 1, "l", "t" }, -1, 0,
	  "only regular files carry data" },
	{ "huge file", { 1, 1, 0644, 0, UINT64_MAX, 0, "f", NULL }, -1, 0,
	  "larger than any file" },
	{ "link on a file", { 1, 1, 0644, 0, 0, 1, "f", "t" }, -1, 0,
	  "only symlinks" },
	{ "link on a dir", { 2, 1, 0755, 0, 0, 1, "d", "t" }, -1, 0,
	  "only symlinks" },
	{ "symlink without target", { 3, 1, 0777, 0, 0, 0, "l", NULL },
	  -1, 0, "symlink target length 0" },
	{ "symlink target too long", { 3, 1, 0777, 0, 0, 4097, "l", NULL }, -1, 0, "symlink target length 4097" },
	{ "NUL in target", { 3, 1, 0777, 0, 0, 3, "l", "a\0b" }, -1, 0,
	  "NUL" },
	{ "end with a path", { 0xff, 1, 0, 0, 0, 0, "e", NULL }, -1, 0,
	  "end record" },
	{ "end with a size", { 0xff, 0, 0, 0, 5, 0, NULL, NULL }, -1, 0,
	  "end record" },
};

/* Each hostile header, placed second after a good record, is refused. */
START_TEST(test_hostile)
{
	const struct hostile	*h = &hostile[_i];
	struct stream_entry	 e;
	struct transcript	 t;
	struct stream_parser	*p;
	struct sbuf		 b = { 0 };
	size_t			 good, step;
	char			 at[64];

	entry(&e, STREAM_REGULAR, "good", NULL, 2);
	add_record(&b, &e);
	good = b.len;
	raw_header(&b, &h->r);
	if (h->patch_at >= 0)
		b.p[good + (size_t)h->patch_at] = h->patch;
	entry(&e, STREAM_END, NULL, NULL, 0);
	add_record(&b, &e);
	snprintf(at, sizeof(at), "at stream offset %zu", good);
	for (step = 1; step <= b.len; step = step == 1 ? b.len : b.len + 1) {
		t_open(&t);
		ck_assert_msg(parse(b.p, b.len, step, &t, &p) == -1,
		    "%s: accepted", h->name);
		t_close(&t);
		ck_assert_int_eq(stream_parser_error(p), -1);
		ck_assert_msg(strstr(stream_parser_strerror(p), h->says) !=
		    NULL && strstr(stream_parser_strerror(p), at) != NULL,
		    "%s: error \"%s\" lacks \"%s\" or \"%s\"", h->name,
		    stream_parser_strerror(p), h->says, at);
		/* The bad record never reached a callback. */
		ck_assert_ptr_null(strstr(t.logbuf, "END"));
		ck_assert_int_eq(t.headers, 1);
		/* Errors are sticky. */
		ck_assert_int_eq(stream_parser_feed(p, b.p, 1), -1);
		ck_assert(!stream_parser_done(p));
		stream_parser_free(&p);
		t_free(&t);
	}
	sbuf_free(&b);
}
END_TEST

START_TEST(test_after_end)
{
	struct transcript	 t;
	struct stream_parser	*p;
	struct sbuf		 b = { 0 };

	sbuf_add(&b, stream.p, stream.len);
	sbuf_add(&b, "x", 1);
	t_open(&t);
	ck_assert_int_eq(parse(b.p, b.len, b.len, &t, &p), -1);
	t_close(&t);
	ck_assert_ptr_nonnull(strstr(stream_parser_strerror(p),
	    "1 bytes follow the end record"));
	ck_assert(!stream_parser_done(p));
	stream_parser_free(&p);
	t_free(&t);

	/* In a later feed, and a second end record, are refused too. */
	t_open(&t);
	ck_assert_int_eq(parse(stream.p, stream.len, stream.len, &t, &p), 0);
	ck_assert(stream_parser_done(p));
	ck_assert_int_eq(stream_parser_feed(p, stream.p + stream.len -
	    STREAM_HDR_FIXED, STREAM_HDR_FIXED), -1);
	ck_assert_ptr_nonnull(strstr(stream_parser_strerror(p),
	    "follow the end record"));
	ck_assert_int_eq(stream_parser_error(p), -1);
	t_close(&t);
	stream_parser_free(&p);
	t_free(&t);
	sbuf_free(&b);
}
END_TEST

START_TEST(test_callback_refusal)
{
	struct transcript	 t;
	struct stream_parser	*p;

	t_open(&t);
	t.refuse_at = 2;
	ck_assert_int_eq(parse(stream.p, stream.len, 7, &t, &p), -1);
	t_close(&t);
	ck_assert_int_eq(stream_parser_error(p), 5);
	ck_assert_ptr_nonnull(strstr(stream_parser_strerror(p), "header "
	    "callback"));
	ck_assert_uint_eq(t.datalen, 0);
	stream_parser_free(&p);
	t_free(&t);
}
END_TEST

/* Restart at a record boundary, as a single-file restore does. */
START_TEST(test_reset)
{
	struct transcript	 t;
	struct stream_parser	*p;
	size_t			 second;

	second = STREAM_HDR_FIXED + 5;	/* after the "a dir" record */
	t_open(&t);
	p = stream_parser_new(&t_cb, &t, 0);
	ck_assert_int_eq(stream_parser_feed(p, stream.p, 40), 0);
	ck_assert(!stream_parser_at_boundary(p));
	stream_parser_reset(p, second);
	ck_assert(stream_parser_at_boundary(p));
	ck_assert_int_eq(stream_parser_feed(p, stream.p + second,
	    stream.len - second), 0);
	t_close(&t);
	ck_assert(stream_parser_done(p));
	ck_assert_ptr_nonnull(strstr(t.logbuf, "size 1000 mode 644 mtime "
	    "1700000000.123456789 at 41\n"));
	ck_assert_uint_eq(stream_parser_offset(p), stream.len);
	stream_parser_free(&p);
	t_free(&t);
}
END_TEST

START_TEST(test_path_rules)
{
	static const char	*good[] = { "a", "a/b/c", "...", "..a", ".a",
				    "a..", "a b/\xc3\xbc \xe2\x82\xac",
				    "a/.hidden" };
	static const char	*bad[] = { "", "/", "/a", "a/", "a//b", ".",
				    "..", "a/.", "a/..", "./a", "../a",
				    "a/./b" };
	char			 p[KF_PATH_MAX + 2];
	size_t			 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ck_assert_msg(stream_path_valid(good[i], strlen(good[i])) == 0,
		    "\"%s\" refused", good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(stream_path_valid(bad[i], strlen(bad[i])) == -1,
		    "\"%s\" accepted", bad[i]);
	ck_assert_int_eq(stream_path_valid("a\0b", 3), -1);
	ck_assert_int_eq(stream_path_valid(NULL, 0), -1);
	memset(p, 'a', sizeof(p));
	ck_assert_int_eq(stream_path_valid(p, KF_PATH_MAX), 0);
	ck_assert_int_eq(stream_path_valid(p, KF_PATH_MAX + 1), -1);
}
END_TEST

START_TEST(test_encode_limits)
{
	struct stream_entry	*e;
	uint8_t			 out[STREAM_HDR_MAX];

	e = calloc(1, sizeof(*e));
	ck_assert_ptr_nonnull(e);
	entry(e, STREAM_REGULAR, "f", NULL, (uint64_t)INT64_MAX);
	e->mode = 07777;
	e->mtime_nsec = 999999999;
	ck_assert_int_eq(stream_encode_header(e, out, sizeof(out)), 37);
	ck_assert_int_eq(stream_encode_header(e, out, 37), 37);
	ck_assert_int_eq(stream_encode_header(e, out, 36), -1);
	e->size++;
	ck_assert_int_eq(stream_encode_header(e, out, sizeof(out)), -1);
	e->size = 0;
	e->mode = 010000;
	ck_assert_int_eq(stream_encode_header(e, out, sizeof(out)), -1);
	e->mode = 0;
	e->mtime_nsec = 1000000000;
	ck_assert_int_eq(stream_encode_header(e, out, sizeof(out)), -1);
	entry(e, STREAM_DIRECTORY, "d", NULL, 1);
	ck_assert_int_eq(stream_encode_header(e, out, sizeof(out)), -1);
	entry(e, STREAM_REGULAR, "f", "t", 0);
	ck_assert_int_eq(stream_encode_header(e, out, sizeof(out)), -1);
	entry(e, STREAM_SYMLINK, "../f", "t", 0);
	ck_assert_int_eq(stream_encode_header(e, out, sizeof(out)), -1);
	entry(e, STREAM_SYMLINK, "f", "/abs/../t", 0);
	ck_assert_int_eq(stream_encode_header(e, out, sizeof(out)), 46);
	e->type = (enum stream_type)4;
	ck_assert_int_eq(stream_encode_header(e, out, sizeof(out)), -1);
	entry(e, STREAM_END, NULL, NULL, 0);
	ck_assert_int_eq(stream_encode_header(e, out, sizeof(out)), 36);
	ck_assert_mem_eq(out, "KFR1\xff", 5);
	e->mode = 1;
	ck_assert_int_eq(stream_encode_header(e, out, sizeof(out)), -1);
	ck_assert_int_eq(stream_encode_header(NULL, out, sizeof(out)), -1);
	free(e);
}
END_TEST

START_TEST(test_parser_limits)
{
	struct stream_parser	*p;
	struct stream_entry	 e;
	uint8_t			 hdr[64];
	long			 n;

	/* No callbacks at all is allowed; an empty feed does nothing. */
	p = stream_parser_new(NULL, NULL, 0);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(stream_parser_feed(p, NULL, 0), 0);
	ck_assert_int_eq(stream_parser_feed(p, stream.p, stream.len), 0);
	ck_assert(stream_parser_done(p));
	ck_assert_str_eq(stream_parser_strerror(p), "no error");
	stream_parser_free(&p);
	stream_parser_free(&p);
	stream_parser_free(NULL);
	/* A size that would run the stream offset past 2^64 is refused. */
	entry(&e, STREAM_REGULAR, "f", NULL, (uint64_t)INT64_MAX);
	n = stream_encode_header(&e, hdr, sizeof(hdr));
	ck_assert_int_eq(n, 37);
	p = stream_parser_new(NULL, NULL, UINT64_MAX - (uint64_t)INT64_MAX);
	ck_assert_int_eq(stream_parser_feed(p, hdr, (size_t)n), -1);
	ck_assert_ptr_nonnull(strstr(stream_parser_strerror(p),
	    "largest stream offset"));
	stream_parser_free(&p);
	ck_assert_uint_eq(stream_header_len(&e), 37);
}
END_TEST

static Suite *
stream_suite(void)
{
	Suite	*s = suite_create("stream");
	TCase	*tc;

	tc = tcase_create("Core");
	tcase_add_checked_fixture(tc, setup_stream, teardown_stream);
	tcase_set_timeout(tc, TEST_TIMEOUT);
	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_max_lengths);
	tcase_add_test(tc, test_truncations);
	tcase_add_test(tc, test_any_split);
	tcase_add_loop_test(tc, test_hostile, 0,
	    sizeof(hostile) / sizeof(hostile[0]));
	tcase_add_test(tc, test_after_end);
	tcase_add_test(tc, test_callback_refusal);
	tcase_add_test(tc, test_reset);
	suite_add_tcase(s, tc);

	tc = tcase_create("Limits");
	tcase_add_checked_fixture(tc, setup_stream, teardown_stream);
	tcase_set_timeout(tc, TEST_TIMEOUT);
	tcase_add_test(tc, test_path_rules);
	tcase_add_test(tc, test_encode_limits);
	tcase_add_test(tc, test_parser_limits);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(stream_suite(), NULL);
}
