/*
 * fuzz_container.c - libFuzzer target for the container reader
 * (common/container.c): the frame header codec, and container_open and
 * container_read over a container and index written from the input, the
 * way restore and `keyflow verify` read MediaAgent storage.
 *
 * Input: byte 0 holds flags (bit 0: repair the checksums, see below),
 * bytes 1-2 the index file's length L (big endian), then L bytes of index
 * and the rest is the container.  The job id is the index's own (bytes
 * 8-15) so that a well-formed index gets past the job check.  Random bytes
 * rarely carry a right CRC-32C, so with bit 0 set the target first writes
 * the correct ciphertext and header checksums into every frame the index
 * points at: the fuzzer then reaches the checks behind them.  The files
 * live in a directory on tmpfs (/dev/shm, else $TMPDIR) and are removed
 * after each input.
 *
 * Beyond "no crash, no over-read, no leak", it aborts when:
 *  - a frame header that decodes does not encode back to the same bytes;
 *  - a refusal (open or read) comes without a sentence;
 *  - a chunk read succeeds with a header that is not that chunk's, more
 *    bytes than the buffer holds, or a ciphertext that fails its CRC;
 *  - reading every chunk succeeds yet the bytes do not add up to the
 *    stream size the index states, or a chunk past the end can be read.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include "container.h"
#include "crc32c.h"
#include "util.h"

#define READ_CAP	65536	/* bytes of ciphertext one read may return */
#define READS_MAX	64	/* chunks read per input */

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char	 dir[PATH_MAX];
static uint8_t	*readbuf;

static void
cleanup(void)
{
	if (dir[0] != '\0')
		(void)rmdir(dir);
}

static void
setup(void)
{
	const char	*base;

	if (dir[0] != '\0')
		return;
	base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" :
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp";
	snprintf(dir, sizeof(dir), "%s/kf-fuzz-container-%d", base,
	    (int)getpid());
	if ((mkdir(dir, 0700) == -1 && errno != EEXIST) ||
	    (readbuf = malloc(READ_CAP)) == NULL)
		abort();
	atexit(cleanup);
}

static void
write_file(const char *path, const uint8_t *p, size_t n)
{
	int	fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1 || util_write_all(fd, p, n) == -1 || close(fd) == -1)
		abort();
}

/* Put right CRCs into every frame the index points at. */
static void
repair(const uint8_t *idx, size_t ilen, uint8_t *c, size_t clen)
{
	size_t		i;
	uint64_t	off;
	uint32_t	len;

	for (i = CONTAINER_INDEX_HDR; i + 8 <= ilen; i += 8) {
		off = be64_get(idx + i);
		if (off > clen || clen - off < CONTAINER_FRAME_HDR)
			continue;
		len = be32_get(c + off + 24);
		if (len <= clen - off - CONTAINER_FRAME_HDR)
			be32_put(c + off + 28, crc32c(0, c + off +
			    CONTAINER_FRAME_HDR, len));
		be32_put(c + off + 60, crc32c(0, c + off, 60));
	}
}

/* Read every chunk (up to READS_MAX) and check what comes back. */
static void
read_all(struct container_reader *r)
{
	struct frame_header	 h;
	char			 err[512];
	uint64_t		 i, n = container_chunks(r), sum = 0;
	int			 all = 1;

	if (n == 0)
		abort();
	for (i = 0; i < n && i < READS_MAX; i++) {
		err[0] = '\0';
		if (container_read(r, i, &h, readbuf, READ_CAP, err,
		    sizeof(err)) == -1) {
			if (err[0] == '\0')
				abort();
			all = 0;
			continue;
		}
		if (h.index != i || h.len > READ_CAP ||
		    crc32c(0, readbuf, h.len) != h.crc ||
		    ((h.flags & CONTAINER_FLAG_LAST) != 0) != (i + 1 == n))
			abort();
		sum += h.len;
	}
	if (all && n <= READS_MAX && sum != container_stream_bytes(r))
		abort();
	if (container_read(r, n, &h, readbuf, READ_CAP, err, sizeof(err)) !=
	    -1)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct container_reader	*r;
	struct frame_header	 h;
	char			 cpath[PATH_MAX], ipath[PATH_MAX], err[512];
	uint8_t			 enc[CONTAINER_FRAME_HDR], *c;
	const uint8_t		*idx;
	size_t			 ilen, clen;
	uint64_t		 job = 1;

	if (size < 3)
		return 0;
	setup();
	ilen = (size_t)data[1] << 8 | data[2];
	if (ilen > size - 3)
		ilen = size - 3;
	idx = data + 3;
	clen = size - 3 - ilen;
	if ((c = malloc(clen + 1)) == NULL)
		abort();
	memcpy(c, idx + ilen, clen);

	/* The header codec alone, on the container's first bytes. */
	if (clen >= CONTAINER_FRAME_HDR &&
	    container_frame_decode(c, &h) == 0) {
		container_frame_encode(&h, enc);
		if (memcmp(enc, c, CONTAINER_FRAME_HDR) != 0)
			abort();
	}

	if (data[0] & 1)
		repair(idx, ilen, c, clen);
	if (ilen >= 16)
		job = be64_get(idx + 8);
	if (container_path(cpath, sizeof(cpath), dir, job, 0, 0) == -1 ||
	    container_path(ipath, sizeof(ipath), dir, job, 0, 1) == -1)
		abort();
	write_file(cpath, c, clen);
	write_file(ipath, idx, ilen);
	err[0] = '\0';
	if ((r = container_open_err(dir, job, err, sizeof(err))) == NULL) {
		if (err[0] == '\0')
			abort();
	} else {
		read_all(r);
		container_reader_free(&r);
		if (r != NULL)
			abort();
	}
	unlink(cpath);
	unlink(ipath);
	free(c);
	return 0;
}
