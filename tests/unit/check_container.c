/*
 * check_container.c - unit tests for MediaAgent containers (container.c):
 * write, commit and read back real encrypted chunks; partial files gone
 * after commit and abort; every single flipped byte of a container found by
 * container_read with a sentence naming its chunk; truncated and extended
 * containers and damaged indexes refused at open; the writer's rules (order,
 * job, last chunk, existing files, a full file system keeping errno).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_main.h"
#include "chunk.h"
#include "container.h"
#include "crc32c.h"
#include "crypto.h"
#include "util.h"

#define TEST_TIMEOUT	300
#define JOB		77
#define MAXCHUNKS	8

static char	tmpdir[64];		/* this test's directory */
static char	dir[128];		/* the mount path inside it */
static uint8_t	dek[KF_KEY_LEN];	/* job DEK */
static uint8_t	*plain[MAXCHUNKS];	/* plaintext per chunk */
static size_t	plen[MAXCHUNKS];	/* and its length */
static size_t	nchunks;		/* chunks written by write_job */

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void
setup_dir(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/check_container.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	/* The writer creates the mount directory itself. */
	snprintf(dir, sizeof(dir), "%s/mnt/ma1", tmpdir);
	ck_assert_int_eq(crypto_random(dek, sizeof(dek)), 0);
	nchunks = 0;
}

static void
teardown_dir(void)
{
	size_t	i;

	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	for (i = 0; i < MAXCHUNKS; i++) {
		free(plain[i]);
		plain[i] = NULL;
	}
	crypto_wipe(dek, sizeof(dek));
}

static int
exists(uint64_t job, int partial, int index)
{
	char		path[256];
	struct stat	st;

	ck_assert_int_eq(container_path(path, sizeof(path), dir, job, partial,
	    index), 0);
	return lstat(path, &st) == 0;
}

/* Encrypt chunk i (n bytes) and append it. */
static int
append_chunk(struct container_writer *w, uint64_t job, size_t i, size_t n,
    int last)
{
	struct frame_header	 h;
	uint8_t			*ct;
	int			 rc, e;

	free(plain[i]);
	plain[i] = malloc(n + 1);
	ct = malloc(n + 1);
	ck_assert(plain[i] != NULL && ct != NULL);
	ck_assert_int_eq(crypto_random(plain[i], n), 0);
	plen[i] = n;
	memset(&h, 0, sizeof(h));
	ck_assert_int_eq(chunk_seal(dek, job, i, last, plain[i], n, ct,
	    h.nonce, h.tag), 0);
	h.flags = last ? CONTAINER_FLAG_LAST : 0;
	h.job = job;
	h.index = i;
	h.len = (uint32_t)n;
	rc = container_append(w, &h, ct);
	e = errno;
	if (rc == 0)
		ck_assert_uint_eq(h.crc, crc32c(0, ct, n));
	free(ct);
	errno = e;
	return rc;
}

/* Write and commit a container of n chunks with the given sizes. */
static uint64_t
write_job(uint64_t job, const size_t *sizes, size_t n)
{
	struct container_writer	*w;
	uint64_t		 total = 0;
	size_t			 i;

	w = container_create(dir, job);
	ck_assert_msg(w != NULL, "container_create: %s", strerror(errno));
	for (i = 0; i < n; i++) {
		ck_assert_int_eq(append_chunk(w, job, i, sizes[i], i + 1 == n),
		    0);
		total += sizes[i];
	}
	ck_assert_uint_eq(container_writer_chunks(w), n);
	ck_assert_uint_eq(container_writer_bytes(w), total);
	ck_assert_int_eq(container_sync(w), 0);
	ck_assert_msg(container_commit(w, total) == 0, "commit: %s",
	    strerror(errno));
	container_writer_free(&w);
	ck_assert_ptr_null(w);
	nchunks = n;
	return total;
}

/* Read every chunk; return the index of the first that fails, or -1. */
static long
read_all(struct container_reader *r, char *err, size_t errcap, int decrypt)
{
	struct frame_header	 h;
	uint8_t			*buf, *out;
	uint64_t		 i;

	buf = malloc(KF_CHUNK_MAX);
	out = malloc(KF_CHUNK_MAX);
	ck_assert(buf != NULL && out != NULL);
	for (i = 0; i < container_chunks(r); i++) {
		if (container_read(r, i, &h, buf, KF_CHUNK_MAX, err,
		    errcap) == -1)
			break;
		if (!decrypt)
			continue;
		ck_assert_uint_eq(h.len, plen[i]);
		ck_assert_msg(chunk_open(dek, JOB, i, i + 1 ==
		    container_chunks(r), h.nonce, buf, h.len, out,
		    h.tag) == 0, "chunk %llu does not decrypt",
		    (unsigned long long)i);
		ck_assert_mem_eq(out, plain[i], h.len);
	}
	free(buf);
	free(out);
	return i == container_chunks(r) ? -1 : (long)i;
}

static const size_t sizes5[] = { 4096, 1, 0, 10000, 777 };

START_TEST(test_roundtrip)
{
	struct container_reader	*r;
	char			 err[512];
	uint64_t		 total;

	total = write_job(JOB, sizes5, 5);
	ck_assert(exists(JOB, 0, 0) && exists(JOB, 0, 1));
	ck_assert(!exists(JOB, 1, 0) && !exists(JOB, 1, 1));
	r = container_open_err(dir, JOB, err, sizeof(err));
	ck_assert_msg(r != NULL, "open: %s", err);
	ck_assert_uint_eq(container_chunks(r), 5);
	ck_assert_uint_eq(container_stream_bytes(r), total);
	ck_assert_int_eq(read_all(r, err, sizeof(err), 1), -1);
	container_reader_free(&r);
	ck_assert_ptr_null(r);
	/* Another job's id does not open this job's files. */
	ck_assert_ptr_null(container_open_err(dir, JOB + 1, err,
	    sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "cannot open"));
}
END_TEST

START_TEST(test_abort)
{
	struct container_writer	*w;

	w = container_create(dir, JOB);
	ck_assert_ptr_nonnull(w);
	ck_assert(exists(JOB, 1, 0) && exists(JOB, 1, 1));
	ck_assert_int_eq(append_chunk(w, JOB, 0, 5000, 0), 0);
	container_abort(w);
	container_abort(w);
	ck_assert(!exists(JOB, 1, 0) && !exists(JOB, 1, 1));
	ck_assert(!exists(JOB, 0, 0) && !exists(JOB, 0, 1));
	ck_assert_int_eq(append_chunk(w, JOB, 1, 10, 1), -1);
	ck_assert_int_eq(container_commit(w, 5000), -1);
	container_writer_free(&w);
	/* Abort after commit leaves the committed container alone. */
	w = container_create(dir, JOB);
	ck_assert_int_eq(append_chunk(w, JOB, 0, 10, 1), 0);
	ck_assert_int_eq(container_commit(w, 10), 0);
	container_abort(w);
	container_writer_free(&w);
	ck_assert(exists(JOB, 0, 0) && exists(JOB, 0, 1));
}
END_TEST

/* The chunk whose frame holds container byte off. */
static size_t
chunk_at(uint64_t off)
{
	uint64_t	start = 0;
	size_t		i;

	for (i = 0; i < nchunks; i++) {
		if (off < start + CONTAINER_FRAME_HDR + plen[i])
			return i;
		start += CONTAINER_FRAME_HDR + plen[i];
	}
	ck_abort_msg("offset %llu past the container", (unsigned long long)off);
	return 0;
}

static void
flip(const char *path, off_t off, uint8_t mask)
{
	uint8_t	b;
	int	fd = open(path, O_RDWR);

	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(pread(fd, &b, 1, off), 1);
	b ^= mask;
	ck_assert_int_eq(pwrite(fd, &b, 1, off), 1);
	close(fd);
}

/* Any flipped bit, in any header field or any data byte, names its chunk. */
START_TEST(test_flip_anywhere)
{
	static const size_t	 sizes[] = { 40, 0, 50, 30 };
	static const uint8_t	 masks[] = { 0x01, 0x80 };
	struct container_reader	*r;
	struct stat		 st;
	char			 path[256], err[512], want[64];
	long			 bad;
	off_t			 off;
	size_t			 m;

	write_job(JOB, sizes, 4);
	ck_assert_int_eq(container_path(path, sizeof(path), dir, JOB, 0, 0),
	    0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_size, 4 * CONTAINER_FRAME_HDR + 120);
	for (off = 0; off < st.st_size; off++) {
		for (m = 0; m < sizeof(masks); m++) {
			flip(path, off, masks[m]);
			r = container_open_err(dir, JOB, err, sizeof(err));
			ck_assert_msg(r != NULL, "byte %lld: open: %s",
			    (long long)off, err);
			bad = read_all(r, err, sizeof(err), 0);
			ck_assert_msg(bad == (long)chunk_at((uint64_t)off),
			    "byte %lld flipped: chunk %ld failed, expected %zu",
			    (long long)off, bad, chunk_at((uint64_t)off));
			snprintf(want, sizeof(want), "job %d chunk %ld:", JOB,
			    bad);
			ck_assert_msg(strncmp(err, want, strlen(want)) == 0,
			    "byte %lld: \"%s\" does not name the chunk",
			    (long long)off, err);
			container_reader_free(&r);
			flip(path, off, masks[m]);
		}
	}
	/* Undamaged again, everything reads and decrypts. */
	r = container_open_err(dir, JOB, err, sizeof(err));
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(read_all(r, err, sizeof(err), 1), -1);
	container_reader_free(&r);
}
END_TEST

static void
resize(int index, off_t delta)
{
	char		path[256];
	struct stat	st;

	ck_assert_int_eq(container_path(path, sizeof(path), dir, JOB, 0,
	    index), 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(truncate(path, st.st_size + delta), 0);
}

static void
assert_open_refused(const char *what, const char *says)
{
	struct container_reader	*r;
	char			 err[512] = "";

	r = container_open_err(dir, JOB, err, sizeof(err));
	ck_assert_msg(r == NULL, "%s: opened", what);
	ck_assert_msg(strstr(err, "job 77") != NULL && strstr(err, says) !=
	    NULL, "%s: \"%s\" lacks \"%s\"", what, err, says);
	/* The plain variant logs and fails the same way. */
	ck_assert_ptr_null(container_open(dir, JOB));
}

START_TEST(test_truncated_container)
{
	static const off_t	deltas[] = { 1, 64, -1, -777, -(777 + 64),
				    -15000 };
	size_t			i;

	write_job(JOB, sizes5, 5);
	for (i = 0; i < sizeof(deltas) / sizeof(deltas[0]); i++) {
		resize(0, deltas[i]);
		assert_open_refused("resized container", "truncated or "
		    "damaged");
		resize(0, -deltas[i]);
	}
	resize(0, -15194);
	assert_open_refused("empty container", "truncated or damaged");
}
END_TEST

/* Rewrite the index's u64 at off to v (saving the old value). */
static uint64_t
poke_index(off_t off, uint64_t v)
{
	char		path[256];
	uint8_t		b[8];
	uint64_t	old;
	int		fd;

	ck_assert_int_eq(container_path(path, sizeof(path), dir, JOB, 0, 1),
	    0);
	fd = open(path, O_RDWR);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(pread(fd, b, 8, off), 8);
	old = be64_get(b);
	be64_put(b, v);
	ck_assert_int_eq(pwrite(fd, b, 8, off), 8);
	close(fd);
	return old;
}

START_TEST(test_bad_index)
{
	struct container_reader	*r;
	char			 err[512];
	uint64_t		 old;

	write_job(JOB, sizes5, 5);
	resize(1, -1);
	assert_open_refused("index short by a byte", "truncated");
	resize(1, -7);
	assert_open_refused("index missing an offset", "counts 5 chunks "
	    "but holds 4");
	resize(1, 8);
	poke_index(64, 14353);
	old = poke_index(0, 0x4b46493200000000ULL);
	assert_open_refused("index magic", "not a keyflow index");
	poke_index(0, old);
	poke_index(8, JOB + 1);
	assert_open_refused("index job", "belongs to job 78");
	poke_index(8, JOB);
	poke_index(16, 6);
	assert_open_refused("index count", "counts 6 chunks");
	poke_index(16, 5);
	poke_index(24, 14873);
	assert_open_refused("index stream bytes", "truncated or damaged");
	poke_index(24, 14874);
	poke_index(32, 1);
	assert_open_refused("first offset", "chunk 0 at offset 1");
	poke_index(32, 0);
	old = poke_index(48, 0);
	assert_open_refused("offsets out of order", "chunk 2 at offset 0");
	poke_index(48, old);
	old = poke_index(40, (uint64_t)KF_CHUNK_MAX * 4);
	assert_open_refused("offset far away", "the index is damaged");
	/* A plausible but wrong offset: open works, the reads catch it. */
	poke_index(40, old + 1);
	r = container_open_err(dir, JOB, err, sizeof(err));
	ck_assert_msg(r != NULL, "%s", err);
	ck_assert_int_eq(read_all(r, err, sizeof(err), 0), 0);
	ck_assert_ptr_nonnull(strstr(err, "job 77 chunk 0: the frame claims "
	    "4096 bytes"));
	container_reader_free(&r);
	poke_index(40, old);
	r = container_open_err(dir, JOB, err, sizeof(err));
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(read_all(r, err, sizeof(err), 1), -1);
	container_reader_free(&r);
	resize(1, -(off_t)(CONTAINER_INDEX_HDR + 40));
	assert_open_refused("empty index", "truncated");
}
END_TEST

START_TEST(test_existing_partial)
{
	struct container_writer	*w, *w2;
	char			 path[256];
	int			 fd;

	w = container_create(dir, JOB);
	ck_assert_ptr_nonnull(w);
	errno = 0;
	w2 = container_create(dir, JOB);
	ck_assert_ptr_null(w2);
	ck_assert_int_eq(errno, EEXIST);
	/* The first writer is untouched by the refusal. */
	ck_assert_int_eq(append_chunk(w, JOB, 0, 100, 1), 0);
	ck_assert_int_eq(container_commit(w, 100), 0);
	container_writer_free(&w);
	/* A stale index partial alone also blocks, leaving nothing new. */
	ck_assert_int_eq(container_path(path, sizeof(path), dir, JOB + 1, 1,
	    1), 0);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	ck_assert_int_ne(fd, -1);
	close(fd);
	errno = 0;
	ck_assert_ptr_null(container_create(dir, JOB + 1));
	ck_assert_int_eq(errno, EEXIST);
	ck_assert(!exists(JOB + 1, 1, 0));
	/* A new writer never replaces a committed container. */
	w = container_create(dir, JOB);
	ck_assert_ptr_nonnull(w);
	ck_assert_int_eq(append_chunk(w, JOB, 0, 50, 1), 0);
	errno = 0;
	ck_assert_int_eq(container_commit(w, 50), -1);
	ck_assert_int_eq(errno, EEXIST);
	container_abort(w);
	container_writer_free(&w);
	ck_assert(exists(JOB, 0, 0) && exists(JOB, 0, 1));
	ck_assert(!exists(JOB, 1, 0) && !exists(JOB, 1, 1));
}
END_TEST

START_TEST(test_writer_rules)
{
	struct container_writer	*w;
	struct frame_header	 h;

	w = container_create(dir, JOB);
	ck_assert_ptr_nonnull(w);
	ck_assert_int_eq(append_chunk(w, JOB, 1, 10, 0), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(append_chunk(w, JOB + 1, 0, 10, 0), -1);
	ck_assert_int_eq(append_chunk(w, JOB, 0, 10, 0), 0);
	ck_assert_int_eq(append_chunk(w, JOB, 0, 10, 0), -1);
	memset(&h, 0, sizeof(h));
	h.job = JOB;
	h.index = 1;
	h.flags = 0x2;
	ck_assert_int_eq(container_append(w, &h, "x"), -1);
	h.flags = 0;
	h.len = 5;
	ck_assert_int_eq(container_append(w, &h, NULL), -1);
	/* No last chunk yet: nothing to commit. */
	ck_assert_int_eq(container_commit(w, 10), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(append_chunk(w, JOB, 1, 20, 1), 0);
	ck_assert_int_eq(append_chunk(w, JOB, 2, 20, 1), -1);
	ck_assert_int_eq(container_commit(w, 31), -1);
	ck_assert_int_eq(container_commit(w, 30), 0);
	ck_assert_int_eq(container_commit(w, 30), -1);
	container_writer_free(&w);
	container_writer_free(&w);
	container_writer_free(NULL);
}
END_TEST

/*
 * A write that fails part way keeps its errno for the caller (a full disk
 * must be reported as ENOSPC, here the file size limit's EFBIG) and leaves
 * a writer that only aborts.
 */
START_TEST(test_write_error_errno)
{
	struct container_writer	*w;
	struct rlimit		 old, lim;
	struct sigaction	 sa, osa;
	struct stat		 st;
	char			 path[256];
	int			 rc, e;
	size_t			 i;

	w = container_create(dir, JOB);
	ck_assert_ptr_nonnull(w);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	ck_assert_int_eq(sigaction(SIGXFSZ, &sa, &osa), 0);
	ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 3 * (CONTAINER_FRAME_HDR + 1000) + 500;
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
	for (i = 0, rc = 0; i < 5 && rc == 0; i++)
		rc = append_chunk(w, JOB, i, 1000, 0);
	e = errno;
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
	ck_assert_int_eq(sigaction(SIGXFSZ, &osa, NULL), 0);
	ck_assert_int_eq(rc, -1);
	ck_assert_uint_eq(i, 4);
	ck_assert_msg(e == EFBIG, "errno %d (%s), not EFBIG", e, strerror(e));
	/* The torn frame was trimmed away. */
	ck_assert_int_eq(container_path(path, sizeof(path), dir, JOB, 1, 0),
	    0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_size, 3 * (CONTAINER_FRAME_HDR + 1000));
	ck_assert_int_eq(append_chunk(w, JOB, 3, 10, 1), -1);
	ck_assert_int_eq(container_commit(w, 3000), -1);
	container_abort(w);
	container_writer_free(&w);
	ck_assert(!exists(JOB, 1, 0) && !exists(JOB, 1, 1));
}
END_TEST

START_TEST(test_frame_codec)
{
	struct frame_header	h, g;
	uint8_t			raw[CONTAINER_FRAME_HDR];
	size_t			bit;

	memset(&h, 0, sizeof(h));
	h.flags = CONTAINER_FLAG_LAST;
	h.job = 0x0102030405060708ULL;
	h.index = UINT64_MAX;
	h.len = KF_CHUNK_MAX;
	h.crc = 0xdeadbeef;
	memset(h.nonce, 0xab, sizeof(h.nonce));
	memset(h.tag, 0xcd, sizeof(h.tag));
	container_frame_encode(&h, raw);
	ck_assert_mem_eq(raw, "KFF1\0\0\0\1\1\2\3\4\5\6\7\x08", 16);
	ck_assert_int_eq(container_frame_decode(raw, &g), 0);
	ck_assert_mem_eq(&g.nonce, h.nonce, KF_NONCE_LEN);
	ck_assert_mem_eq(&g.tag, h.tag, KF_TAG_LEN);
	ck_assert(g.flags == h.flags && g.job == h.job && g.index == h.index &&
	    g.len == h.len && g.crc == h.crc);
	for (bit = 0; bit < 8 * sizeof(raw); bit++) {
		raw[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		ck_assert_msg(container_frame_decode(raw, &g) == -1,
		    "bit %zu flipped, header accepted", bit);
		raw[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
}
END_TEST

START_TEST(test_container_limits)
{
	struct container_writer	*w;
	struct container_reader	*r;
	struct frame_header	 h;
	char			 path[32], err[256];
	uint8_t			*big, small[16];

	/* Paths: exact fit and one short. */
	ck_assert_int_eq(container_path(path, 17, "/m", 5, 0, 0), 0);
	ck_assert_str_eq(path, "/m/job-5.kfc");
	ck_assert_int_eq(container_path(path, 13, "/m", 5, 0, 0), 0);
	ck_assert_int_eq(container_path(path, 12, "/m", 5, 0, 0), -1);
	ck_assert_int_eq(container_path(path, sizeof(path), "/m", 5, 1, 1),
	    0);
	ck_assert_str_eq(path, "/m/job-5.kfi.partial");
	ck_assert_int_eq(container_path(path, sizeof(path), NULL, 5, 1, 1),
	    -1);
	/* The largest chunk goes in; one byte more does not. */
	big = calloc(1, KF_CHUNK_MAX + 1);
	ck_assert_ptr_nonnull(big);
	w = container_create(dir, JOB);
	ck_assert_ptr_nonnull(w);
	memset(&h, 0, sizeof(h));
	h.job = JOB;
	h.len = KF_CHUNK_MAX + 1;
	ck_assert_int_eq(container_append(w, &h, big), -1);
	h.len = KF_CHUNK_MAX;
	h.flags = CONTAINER_FLAG_LAST;
	ck_assert_int_eq(container_append(w, &h, big), 0);
	ck_assert_int_eq(container_commit(w, KF_CHUNK_MAX), 0);
	container_writer_free(&w);
	r = container_open_err(dir, JOB, err, sizeof(err));
	ck_assert_msg(r != NULL, "%s", err);
	ck_assert_int_eq(container_read(r, 0, &h, big, KF_CHUNK_MAX, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(container_read(r, 0, &h, small, sizeof(small), err,
	    sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "job 77 chunk 0: 16777216 bytes do "
	    "not fit"));
	ck_assert_int_eq(container_read(r, 1, &h, big, KF_CHUNK_MAX, err,
	    sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "chunk 1 does not exist"));
	/* A NULL or tiny error buffer is fine. */
	ck_assert_int_eq(container_read(r, 1, &h, big, KF_CHUNK_MAX, NULL, 0),
	    -1);
	ck_assert_int_eq(container_read(r, 1, &h, big, KF_CHUNK_MAX, err, 1),
	    -1);
	ck_assert_str_eq(err, "");
	container_reader_free(&r);
	container_reader_free(NULL);
	free(big);
}
END_TEST

static Suite *
container_suite(void)
{
	Suite	*s = suite_create("container");
	TCase	*tc;

	tc = tcase_create("Core");
	tcase_add_checked_fixture(tc, setup_dir, teardown_dir);
	tcase_set_timeout(tc, TEST_TIMEOUT);
	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_abort);
	tcase_add_test(tc, test_flip_anywhere);
	tcase_add_test(tc, test_truncated_container);
	tcase_add_test(tc, test_bad_index);
	tcase_add_test(tc, test_existing_partial);
	tcase_add_test(tc, test_writer_rules);
	tcase_add_test(tc, test_write_error_errno);
	suite_add_tcase(s, tc);

	tc = tcase_create("Limits");
	tcase_add_checked_fixture(tc, setup_dir, teardown_dir);
	tcase_set_timeout(tc, TEST_TIMEOUT);
	tcase_add_test(tc, test_frame_codec);
	tcase_add_test(tc, test_container_limits);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(container_suite(), NULL);
}
