/*
 * container.c - a backup job's ciphertext on MediaAgent storage (see
 * container.h): the frame codec, the writer that builds
 * job-<id>.kfc.partial and job-<id>.kfi.partial and commits them by fsync
 * and rename, and the reader that restore and `keyflow verify` use.
 *
 * Nothing here holds a key: frames carry a CRC-32C of their header and of
 * their ciphertext, so damage is found without decrypting.  The reader
 * trusts neither file.  Opening checks that the index and the container
 * agree on every frame's position and the total size, so a truncated or
 * extended container is refused at once; each read then checks the frame's
 * own header against the index and its ciphertext against its CRC, and
 * answers any mismatch with a sentence naming the job and the chunk.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "chunk.h"
#include "container.h"
#include "crc32c.h"
#include "log.h"
#include "util.h"

#define FRAME_MAGIC		"KFF1"
#define INDEX_MAGIC		"KFI1"
/* Most chunks a container may hold: a 128 MiB index, 16 TiB at 1 MiB. */
#define CONTAINER_MAX_CHUNKS	(1ULL << 24)
#define CONTAINER_DIR_MODE	0750
#define CONTAINER_FILE_MODE	0640

struct container_writer {
	uint64_t	 job;		/* backup job id */
	char		 dir[PATH_MAX];	/* directory holding the files */
	char		 cpath[PATH_MAX];	/* job-<id>.kfc.partial */
	char		 ipath[PATH_MAX];	/* job-<id>.kfi.partial */
	int		 cfd;		/* container fd, -1 when closed */
	int		 ifd;		/* index fd, -1 when closed */
	uint64_t	*offsets;	/* frame offset per chunk */
	size_t		 noffsets;	/* chunks appended */
	size_t		 capoffsets;	/* offsets allocated */
	uint64_t	 size;		/* bytes written to the container */
	uint64_t	 bytes;		/* ciphertext bytes among them */
	int		 last;		/* the last chunk has been appended */
	int		 broken;	/* a write failed: only abort is left */
	int		 committed;	/* renamed into place */
	uint64_t	 flushed;	/* container_flush started writeback to */
	uint64_t	 durable;	/* and waited for writeback up to */
};

struct container_reader {
	uint64_t	 job;		/* backup job id */
	int		 fd;		/* job-<id>.kfc, read only */
	uint64_t	 size;		/* its size at open */
	uint64_t	*offsets;	/* frame offset per chunk, checked */
	uint64_t	 chunks;	/* number of chunks */
	uint64_t	 stream_bytes;	/* ciphertext bytes, from the index */
};

void
container_frame_encode(const struct frame_header *h,
    uint8_t out[CONTAINER_FRAME_HDR])
{
	memcpy(out, FRAME_MAGIC, 4);
	be32_put(out + 4, h->flags);
	be64_put(out + 8, h->job);
	be64_put(out + 16, h->index);
	be32_put(out + 24, h->len);
	be32_put(out + 28, h->crc);
	memcpy(out + 32, h->nonce, KF_NONCE_LEN);
	memcpy(out + 44, h->tag, KF_TAG_LEN);
	be32_put(out + 60, crc32c(0, out, 60));
}

int
container_frame_decode(const uint8_t in[CONTAINER_FRAME_HDR],
    struct frame_header *h)
{
	if (memcmp(in, FRAME_MAGIC, 4) != 0 ||
	    be32_get(in + 60) != crc32c(0, in, 60))
		return -1;
	h->flags = be32_get(in + 4);
	h->job = be64_get(in + 8);
	h->index = be64_get(in + 16);
	h->len = be32_get(in + 24);
	h->crc = be32_get(in + 28);
	memcpy(h->nonce, in + 32, KF_NONCE_LEN);
	memcpy(h->tag, in + 44, KF_TAG_LEN);
	return 0;
}

int
container_path(char *buf, size_t cap, const char *dir, uint64_t job,
    int partial, int index)
{
	int	n;

	if (buf == NULL || cap == 0 || dir == NULL || *dir == '\0')
		return -1;
	n = snprintf(buf, cap, "%s/job-%llu.%s%s", dir,
	    (unsigned long long)job, index ? "kfi" : "kfc",
	    partial ? ".partial" : "");
	if (n < 0 || (size_t)n >= cap)
		return -1;
	return 0;
}

/*
 * The writer.
 */

struct container_writer *
container_create(const char *dir, uint64_t job)
{
	struct container_writer	*w;
	int			 e;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	w->job = job;
	w->cfd = w->ifd = -1;
	if (dir == NULL || strlen(dir) >= sizeof(w->dir) ||
	    container_path(w->cpath, sizeof(w->cpath), dir, job, 1, 0) == -1 ||
	    container_path(w->ipath, sizeof(w->ipath), dir, job, 1, 1) == -1) {
		free(w);
		errno = ENAMETOOLONG;
		return NULL;
	}
	memcpy(w->dir, dir, strlen(dir) + 1);
	if (util_mkdir_p(dir, CONTAINER_DIR_MODE) == -1)
		goto fail;
	w->cfd = open(w->cpath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    CONTAINER_FILE_MODE);
	if (w->cfd == -1)
		goto fail;
	w->ifd = open(w->ipath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    CONTAINER_FILE_MODE);
	if (w->ifd == -1) {
		e = errno;
		close(w->cfd);
		w->cfd = -1;
		unlink(w->cpath);
		errno = e;
		goto fail;
	}
	return w;
 fail:
	e = errno;
	free(w);
	errno = e;
	return NULL;
}

/* Refuse a frame that does not continue this job's sequence. */
static int
append_check(struct container_writer *w, const struct frame_header *h)
{
	const char	*why = NULL;

	if (w->broken || w->committed || w->cfd == -1)
		why = "the container is closed or a write already failed";
	else if (h->job != w->job)
		why = "the frame is for another job";
	else if (h->index != w->noffsets)
		why = "the chunk index is not the next one";
	else if (w->last)
		why = "the last chunk was already appended";
	else if ((h->flags & ~CONTAINER_FLAG_LAST) != 0)
		why = "unknown frame flags";
	else if (h->len > KF_CHUNK_MAX)
		why = "the chunk is larger than 16 MiB";
	else if (w->noffsets >= CONTAINER_MAX_CHUNKS)
		why = "the container holds the most chunks it may";
	if (why == NULL)
		return 0;
	log_warnx("job %llu: refusing chunk %llu: %s",
	    (unsigned long long)w->job, (unsigned long long)h->index, why);
	errno = EINVAL;
	return -1;
}

/* Header and ciphertext with one writev (more only on a short write). */
static int
frame_write(int fd, const uint8_t hdr[CONTAINER_FRAME_HDR],
    const void *data, size_t len)
{
	struct iovec	 iov[2];
	int		 n = 2, i = 0;
	ssize_t		 r;

	iov[0].iov_base = (void *)hdr;
	iov[0].iov_len = CONTAINER_FRAME_HDR;
	iov[1].iov_base = (void *)data;
	iov[1].iov_len = len;
	if (len == 0)
		n = 1;
	while (i < n) {
		r = writev(fd, iov + i, n - i);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		while (i < n && (size_t)r >= iov[i].iov_len) {
			r -= (ssize_t)iov[i].iov_len;
			i++;
		}
		if (i < n) {
			iov[i].iov_base = (uint8_t *)iov[i].iov_base + r;
			iov[i].iov_len -= (size_t)r;
		}
	}
	return 0;
}

int
container_append(struct container_writer *w, struct frame_header *h,
    const void *ciphertext)
{
	uint8_t		 hdr[CONTAINER_FRAME_HDR];
	uint64_t	*o;
	size_t		 ncap;
	int		 e;

	if (append_check(w, h) == -1)
		return -1;
	if (ciphertext == NULL && h->len > 0) {
		errno = EINVAL;
		return -1;
	}
	if (w->noffsets == w->capoffsets) {
		ncap = w->capoffsets ? w->capoffsets * 2 : 256;
		if ((o = reallocarray(w->offsets, ncap, sizeof(*o))) == NULL)
			return -1;
		w->offsets = o;
		w->capoffsets = ncap;
	}
	h->crc = crc32c(0, ciphertext, h->len);
	container_frame_encode(h, hdr);
	if (frame_write(w->cfd, hdr, ciphertext, h->len) == -1) {
		/* Keep errno (ENOSPC) for the caller; drop the torn frame. */
		e = errno;
		w->broken = 1;
		if (ftruncate(w->cfd, (off_t)w->size) == -1)
			log_debug("job %llu: cannot trim a torn frame",
			    (unsigned long long)w->job);
		errno = e;
		return -1;
	}
	w->offsets[w->noffsets++] = w->size;
	w->size += CONTAINER_FRAME_HDR + (uint64_t)h->len;
	w->bytes += h->len;
	w->last = (h->flags & CONTAINER_FLAG_LAST) != 0;
	return 0;
}

int
container_sync(struct container_writer *w)
{
	if (w->cfd == -1) {
		errno = EBADF;
		return -1;
	}
	return fdatasync(w->cfd);
}

/*
 * Write-behind: start writeback of everything appended since the last
 * call, and wait for what the call before started.  So at most two
 * intervals of the container are dirty or in flight, the disk is kept
 * busy without the daemon ever waiting for the data it just wrote, and
 * the fdatasync at commit finds little left to do.  Nothing uncommitted
 * needs to survive a crash (a .partial container is removed), so this
 * paces the page cache rather than promising durability.
 */
int
container_flush(struct container_writer *w)
{
	if (w->cfd == -1) {
		errno = EBADF;
		return -1;
	}
	if (w->flushed > w->durable && sync_file_range(w->cfd,
	    (off_t)w->durable, (off_t)(w->flushed - w->durable),
	    SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
	    SYNC_FILE_RANGE_WAIT_AFTER) == -1)
		return errno == ENOSYS || errno == ESPIPE ?
		    fdatasync(w->cfd) : -1;
	w->durable = w->flushed;
	if (w->size > w->flushed && sync_file_range(w->cfd,
	    (off_t)w->flushed, (off_t)(w->size - w->flushed),
	    SYNC_FILE_RANGE_WRITE) == -1)
		return errno == ENOSYS || errno == ESPIPE ?
		    fdatasync(w->cfd) : -1;
	w->flushed = w->size;
	return 0;
}

/* Rename from to to, never replacing an existing file. */
static int
rename_noreplace(const char *from, const char *to)
{
	struct stat	st;

	if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	/* The file system cannot do it atomically: check, then rename. */
	if (lstat(to, &st) == 0) {
		errno = EEXIST;
		return -1;
	}
	return rename(from, to);
}

/* The index file's bytes: header and one offset per chunk. */
static uint8_t *
index_build(const struct container_writer *w, size_t *len)
{
	uint8_t	*b;
	size_t	 i;

	*len = CONTAINER_INDEX_HDR + 8 * w->noffsets;
	if ((b = malloc(*len)) == NULL)
		return NULL;
	memcpy(b, INDEX_MAGIC, 4);
	be32_put(b + 4, 0);
	be64_put(b + 8, w->job);
	be64_put(b + 16, w->noffsets);
	be64_put(b + 24, w->bytes);
	for (i = 0; i < w->noffsets; i++)
		be64_put(b + CONTAINER_INDEX_HDR + 8 * i, w->offsets[i]);
	return b;
}

int
container_commit(struct container_writer *w, uint64_t stream_bytes)
{
	char	 cfinal[PATH_MAX], ifinal[PATH_MAX];
	uint8_t	*idx = NULL;
	size_t	 len;
	int	 e, rc = -1;

	if (w->broken || w->committed || w->cfd == -1 || !w->last ||
	    stream_bytes != w->bytes) {
		log_warnx("job %llu: refusing to commit: %s",
		    (unsigned long long)w->job, w->broken || w->committed ||
		    w->cfd == -1 ? "the container is closed or broken" :
		    !w->last ? "the last chunk has not arrived" :
		    "the stream size does not match the chunks written");
		errno = EINVAL;
		return -1;
	}
	if (container_path(cfinal, sizeof(cfinal), w->dir, w->job, 0, 0) ==
	    -1 ||
	    container_path(ifinal, sizeof(ifinal), w->dir, w->job, 0, 1) ==
	    -1) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((idx = index_build(w, &len)) == NULL)
		goto fail;
	if (util_write_all(w->ifd, idx, len) == -1 ||
	    fdatasync(w->cfd) == -1 || fdatasync(w->ifd) == -1)
		goto fail;
	/* The container first: the index appearing is the commit. */
	if (rename_noreplace(w->cpath, cfinal) == -1)
		goto fail;
	if (rename_noreplace(w->ipath, ifinal) == -1) {
		e = errno;
		if (rename(cfinal, w->cpath) == -1)
			log_warn("job %llu: cannot move %s back",
			    (unsigned long long)w->job, cfinal);
		errno = e;
		goto fail;
	}
	w->committed = 1;
	if (util_fsync_dir(w->dir) == -1)
		goto fail;
	rc = 0;
 fail:
	e = errno;
	if (rc == -1 && !w->committed)
		w->broken = 1;
	free(idx);
	errno = e;
	return rc;
}

void
container_abort(struct container_writer *w)
{
	if (w == NULL)
		return;
	if (w->cfd != -1)
		close(w->cfd);
	if (w->ifd != -1)
		close(w->ifd);
	w->cfd = w->ifd = -1;
	w->broken = 1;
	if (w->committed)
		return;
	if (unlink(w->cpath) == -1 && errno != ENOENT)
		log_warn("cannot remove %s", w->cpath);
	if (unlink(w->ipath) == -1 && errno != ENOENT)
		log_warn("cannot remove %s", w->ipath);
}

uint64_t
container_writer_chunks(const struct container_writer *w)
{
	return w->noffsets;
}

/* Ciphertext bytes appended: the stream bytes so far. */
uint64_t
container_writer_bytes(const struct container_writer *w)
{
	return w->bytes;
}

void
container_writer_free(struct container_writer **wp)
{
	struct container_writer	*w;

	if (wp == NULL || (w = *wp) == NULL)
		return;
	if (w->cfd != -1)
		close(w->cfd);
	if (w->ifd != -1)
		close(w->ifd);
	free(w->offsets);
	free(w);
	*wp = NULL;
}

/*
 * The reader.
 */

/* Read and check the index against the container's size. */
static int
index_load(struct container_reader *r, int ifd, const char *ipath,
    char *err, size_t cap)
{
	unsigned long long	 job = r->job;
	struct stat		 st;
	uint8_t			 hdr[CONTAINER_INDEX_HDR], *raw = NULL;
	uint64_t		 n, i, gap;
	int			 rc = -1;

	if (fstat(ifd, &st) == -1 || !S_ISREG(st.st_mode))
		return util_errf(err, cap, "job %llu: the index %s is not a "
		    "regular file", job, ipath);
	if ((uint64_t)st.st_size < CONTAINER_INDEX_HDR ||
	    ((uint64_t)st.st_size - CONTAINER_INDEX_HDR) % 8 != 0)
		return util_errf(err, cap, "job %llu: the index %s has %llu "
		    "bytes, not a header and whole offsets: it is truncated "
		    "or damaged", job, ipath, (unsigned long long)st.st_size);
	n = ((uint64_t)st.st_size - CONTAINER_INDEX_HDR) / 8;
	if (util_pread_all(ifd, hdr, sizeof(hdr), 0) == -1)
		return util_errf(err, cap, "job %llu: cannot read the index "
		    "%s: %s", job, ipath, strerror(errno));
	if (memcmp(hdr, INDEX_MAGIC, 4) != 0 || be32_get(hdr + 4) != 0)
		return util_errf(err, cap, "job %llu: %s is not a keyflow "
		    "index (bad magic or reserved field)", job, ipath);
	if (be64_get(hdr + 8) != r->job)
		return util_errf(err, cap, "job %llu: the index %s belongs to "
		    "job %llu", job, ipath,
		    (unsigned long long)be64_get(hdr + 8));
	if (be64_get(hdr + 16) != n || n == 0 || n > CONTAINER_MAX_CHUNKS)
		return util_errf(err, cap, "job %llu: the index %s counts %llu "
		    "chunks but holds %llu offsets", job, ipath,
		    (unsigned long long)be64_get(hdr + 16),
		    (unsigned long long)n);
	r->chunks = n;
	r->stream_bytes = be64_get(hdr + 24);
	if ((raw = malloc(8 * n)) == NULL ||
	    (r->offsets = calloc(n, sizeof(*r->offsets))) == NULL) {
		util_errf(err, cap, "job %llu: out of memory", job);
		goto fail;
	}
	if (util_pread_all(ifd, raw, 8 * n, CONTAINER_INDEX_HDR) == -1) {
		util_errf(err, cap, "job %llu: cannot read the index %s: %s",
		    job, ipath, strerror(errno));
		goto fail;
	}
	for (i = 0; i < n; i++) {
		r->offsets[i] = be64_get(raw + 8 * i);
		/* Each frame runs from its offset to the next (or EOF). */
		if (i == 0 ? r->offsets[0] != 0 :
		    r->offsets[i] <= r->offsets[i - 1] ||
		    (gap = r->offsets[i] - r->offsets[i - 1]) <
		    CONTAINER_FRAME_HDR ||
		    gap - CONTAINER_FRAME_HDR > KF_CHUNK_MAX) {
			util_errf(err, cap, "job %llu: the index puts chunk "
			    "%llu at offset %llu, which no valid container "
			    "has: the index is damaged", job,
			    (unsigned long long)i,
			    (unsigned long long)r->offsets[i]);
			goto fail;
		}
	}
	if (r->size < r->offsets[n - 1] + CONTAINER_FRAME_HDR ||
	    r->size - r->offsets[n - 1] - CONTAINER_FRAME_HDR > KF_CHUNK_MAX ||
	    r->size - CONTAINER_FRAME_HDR * n != r->stream_bytes) {
		util_errf(err, cap, "job %llu: the container has %llu bytes "
		    "but its index describes %llu chunks holding %llu bytes: "
		    "the container is truncated or damaged", job,
		    (unsigned long long)r->size, (unsigned long long)n,
		    (unsigned long long)r->stream_bytes);
		goto fail;
	}
	rc = 0;
 fail:
	free(raw);
	return rc;
}

/*
 * container_open with the reason for a refusal in err: a missing file, a
 * damaged index, or a container whose size the index does not explain.
 */
struct container_reader *
container_open_err(const char *dir, uint64_t job, char *err, size_t errcap)
{
	struct container_reader	*r;
	struct stat		 st;
	char			 cpath[PATH_MAX], ipath[PATH_MAX];
	int			 ifd = -1, e = EBADMSG;

	if (container_path(cpath, sizeof(cpath), dir, job, 0, 0) == -1 ||
	    container_path(ipath, sizeof(ipath), dir, job, 0, 1) == -1) {
		util_errf(err, errcap, "job %llu: the container path under "
		    "%s is too long", (unsigned long long)job,
		    dir ? dir : "(null)");
		errno = ENAMETOOLONG;
		return NULL;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		util_errf(err, errcap, "job %llu: out of memory",
		    (unsigned long long)job);
		return NULL;
	}
	r->job = job;
	if ((r->fd = open(cpath, O_RDONLY | O_CLOEXEC)) == -1 ||
	    (ifd = open(ipath, O_RDONLY | O_CLOEXEC)) == -1) {
		e = errno;
		util_errf(err, errcap, "job %llu: cannot open %s: %s",
		    (unsigned long long)job, r->fd == -1 ? cpath : ipath,
		    strerror(e));
		goto fail;
	}
	if (fstat(r->fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		util_errf(err, errcap, "job %llu: %s is not a regular file",
		    (unsigned long long)job, cpath);
		goto fail;
	}
	r->size = (uint64_t)st.st_size;
	if (index_load(r, ifd, ipath, err, errcap) == -1)
		goto fail;
	close(ifd);
	/* Restores and verification read front to back: a wide readahead. */
	(void)posix_fadvise(r->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	return r;
 fail:
	if (ifd != -1)
		close(ifd);
	container_reader_free(&r);
	errno = e;
	return NULL;
}

struct container_reader *
container_open(const char *dir, uint64_t job)
{
	struct container_reader	*r;
	char			 err[512];
	int			 e;

	err[0] = '\0';
	if ((r = container_open_err(dir, job, err, sizeof(err))) == NULL) {
		e = errno;
		log_warnx("%s", err);
		errno = e;
	}
	return r;
}

uint64_t
container_chunks(const struct container_reader *r)
{
	return r->chunks;
}

uint64_t
container_stream_bytes(const struct container_reader *r)
{
	return r->stream_bytes;
}

/* Ask the kernel to read count chunks from first in the background. */
void
container_prefetch(struct container_reader *r, uint64_t first, uint64_t count)
{
	uint64_t	 end;

	if (first >= r->chunks || count == 0)
		return;
	end = count >= r->chunks - first ? r->size : r->offsets[first + count];
	(void)posix_fadvise(r->fd, (off_t)r->offsets[first],
	    (off_t)(end - r->offsets[first]), POSIX_FADV_WILLNEED);
}

/* preadv(2) of exactly the iovecs' bytes; -1 on error or EOF (EIO). */
static int
preadv_all(int fd, struct iovec *iov, int n, uint64_t off)
{
	ssize_t	 got;

	while (n > 0) {
		if ((got = preadv(fd, iov, n, (off_t)off)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (got == 0) {
			errno = EIO;
			return -1;
		}
		off += (uint64_t)got;
		while (n > 0 && (size_t)got >= iov->iov_len) {
			got -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + got;
			iov->iov_len -= (size_t)got;
		}
	}
	return 0;
}

/* Check a decoded frame header against the index's view of chunk i. */
static int
frame_check(const struct container_reader *r, uint64_t i,
    const struct frame_header *h, size_t cap, char *err, size_t errcap)
{
	unsigned long long	 job = r->job, idx = i;
	uint64_t		 end;
	int			 last = i + 1 == r->chunks;

	end = last ? r->size : r->offsets[i + 1];
	if (h->job != r->job)
		return util_errf(err, errcap, "job %llu chunk %llu: the frame "
		    "belongs to job %llu", job, idx,
		    (unsigned long long)h->job);
	if (h->index != i)
		return util_errf(err, errcap, "job %llu chunk %llu: the frame "
		    "says it is chunk %llu: chunks are out of order", job, idx,
		    (unsigned long long)h->index);
	if ((h->flags & ~CONTAINER_FLAG_LAST) != 0 ||
	    ((h->flags & CONTAINER_FLAG_LAST) != 0) != last)
		return util_errf(err, errcap, "job %llu chunk %llu: the frame "
		    "flags %#x are wrong for chunk %llu of %llu", job, idx,
		    (unsigned)h->flags, idx + 1,
		    (unsigned long long)r->chunks);
	if (h->len > KF_CHUNK_MAX ||
	    h->len != end - r->offsets[i] - CONTAINER_FRAME_HDR)
		return util_errf(err, errcap, "job %llu chunk %llu: the frame "
		    "claims %u bytes but the index leaves room for %llu",
		    job, idx, (unsigned)h->len, (unsigned long long)(end -
		    r->offsets[i] - CONTAINER_FRAME_HDR));
	if (h->len > cap)
		return util_errf(err, errcap, "job %llu chunk %llu: %u bytes "
		    "do not fit the %zu byte buffer", job, idx,
		    (unsigned)h->len, cap);
	return 0;
}

int
container_read(struct container_reader *r, uint64_t index,
    struct frame_header *h, void *buf, size_t cap, char *err, size_t errcap)
{
	unsigned long long	 job = r->job, idx = index;
	uint8_t			 raw[CONTAINER_FRAME_HDR];
	struct iovec		 iov[2];
	uint64_t		 off, len;
	uint32_t		 crc;

	if (index >= r->chunks)
		return util_errf(err, errcap, "job %llu has %llu chunks; chunk "
		    "%llu does not exist", job,
		    (unsigned long long)r->chunks, idx);
	off = r->offsets[index];
	/* The index (checked at open) gives the frame's extent. */
	len = (index + 1 == r->chunks ? r->size : r->offsets[index + 1]) -
	    off - CONTAINER_FRAME_HDR;
	if (len > cap)
		return util_errf(err, errcap, "job %llu chunk %llu: %llu bytes "
		    "do not fit the %zu byte buffer", job, idx,
		    (unsigned long long)len, cap);
	/* Header and ciphertext in one system call. */
	iov[0].iov_base = raw;
	iov[0].iov_len = sizeof(raw);
	iov[1].iov_base = buf;
	iov[1].iov_len = (size_t)len;
	if (preadv_all(r->fd, iov, 2, off) == -1)
		return util_errf(err, errcap, "job %llu chunk %llu: cannot "
		    "read the frame at offset %llu: %s", job, idx,
		    (unsigned long long)off, strerror(errno));
	if (memcmp(raw, FRAME_MAGIC, 4) != 0)
		return util_errf(err, errcap, "job %llu chunk %llu: no frame "
		    "magic at offset %llu: the container is damaged", job, idx,
		    (unsigned long long)off);
	if (container_frame_decode(raw, h) == -1)
		return util_errf(err, errcap, "job %llu chunk %llu: the frame "
		    "header checksum does not match: the header at offset "
		    "%llu is damaged", job, idx, (unsigned long long)off);
	if (frame_check(r, index, h, cap, err, errcap) == -1)
		return -1;
	if ((crc = crc32c(0, buf, h->len)) != h->crc)
		return util_errf(err, errcap, "job %llu chunk %llu: the "
		    "ciphertext checksum is %08x, the frame says %08x: the "
		    "data at offset %llu is damaged", job, idx, (unsigned)crc,
		    (unsigned)h->crc, (unsigned long long)off +
		    CONTAINER_FRAME_HDR);
	return 0;
}

void
container_reader_free(struct container_reader **rp)
{
	struct container_reader	*r;

	if (rp == NULL || (r = *rp) == NULL)
		return;
	if (r->fd != -1)
		close(r->fd);
	free(r->offsets);
	free(r);
	*rp = NULL;
}
