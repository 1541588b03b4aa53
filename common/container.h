/*
 * container.h - a backup job's ciphertext on MediaAgent storage.
 *
 * <mount>/job-<id>.kfc holds the job's chunks as frames: a 64-byte header
 * then the ciphertext.  <mount>/job-<id>.kfi is the index: a 32-byte header
 * ("KFI1", u32 0, u64 job, u64 chunk count, u64 stream bytes) followed by
 * one u64 frame offset per chunk.  Frame header, big endian:
 *
 *	 0  u32  magic "KFF1"
 *	 4  u32  flags: bit 0 = last chunk
 *	 8  u64  job id
 *	16  u64  chunk index
 *	24  u32  length of the ciphertext (equals the plaintext's)
 *	28  u32  CRC-32C of the ciphertext
 *	32  12   GCM nonce
 *	44  16   GCM tag
 *	60  u32  CRC-32C of bytes 0..59
 *
 * While a backup runs both files carry a ".partial" suffix; commit fsyncs
 * them, renames them into place and fsyncs the directory, so a container
 * without the suffix is always complete and a restore never sees a partial
 * one.
 */
#ifndef KF_CONTAINER_H
#define KF_CONTAINER_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"

#define CONTAINER_FRAME_HDR	64
#define CONTAINER_INDEX_HDR	32
#define CONTAINER_FLAG_LAST	0x1u

struct frame_header {
	uint32_t	flags;			/* CONTAINER_FLAG_* */
	uint64_t	job;			/* backup job id */
	uint64_t	index;			/* chunk index from 0 */
	uint32_t	len;			/* ciphertext bytes */
	uint32_t	crc;			/* CRC-32C of ciphertext */
	uint8_t		nonce[KF_NONCE_LEN];	/* GCM nonce */
	uint8_t		tag[KF_TAG_LEN];	/* GCM tag */
};

void	container_frame_encode(const struct frame_header *,
	    uint8_t out[CONTAINER_FRAME_HDR]);
/* -1 on a bad magic or header CRC. */
int	container_frame_decode(const uint8_t in[CONTAINER_FRAME_HDR],
	    struct frame_header *);

/* Paths of a job's files under dir; return -1 if they do not fit. */
int	container_path(char *buf, size_t cap, const char *dir, uint64_t job,
	    int partial, int index);

struct container_writer;
/* Creates <dir> if needed, then the .partial files (refusing existing). */
struct container_writer *container_create(const char *dir, uint64_t job);
/* Appends one frame; h->crc is computed here.  errno is kept on -1
 * (ENOSPC for a full disk). */
int	container_append(struct container_writer *, struct frame_header *h,
	    const void *ciphertext);
/* Flush to disk now (fdatasync); commit always does. */
int	container_sync(struct container_writer *);
/*
 * Write-behind (sync_file_range): start writing what was appended since
 * the last call and wait for what that call started.  Paces the page
 * cache; durability comes from commit.
 */
int	container_flush(struct container_writer *);
/* Write the index, fsync, rename both into place, fsync the directory. */
int	container_commit(struct container_writer *, uint64_t stream_bytes);
/* Remove the partial files (the job failed). */
void	container_abort(struct container_writer *);
uint64_t container_writer_chunks(const struct container_writer *);
uint64_t container_writer_bytes(const struct container_writer *);
void	container_writer_free(struct container_writer **);

struct container_reader;
/* NULL (errno set, the reason logged) if missing, truncated or damaged. */
struct container_reader *container_open(const char *dir, uint64_t job);
/* The same, with the reason as a sentence in err instead of the log. */
struct container_reader *container_open_err(const char *dir, uint64_t job,
	    char *err, size_t errcap);
uint64_t container_chunks(const struct container_reader *);
uint64_t container_stream_bytes(const struct container_reader *);
/* Start reading count chunks from first in the background (a hint). */
void	container_prefetch(struct container_reader *, uint64_t first,
	    uint64_t count);
/*
 * Read frame `index` into h and up to cap bytes of ciphertext into buf,
 * checking the header CRC, the job id, the index and the ciphertext CRC.
 * Returns 0, or -1 with a sentence in err (errcap bytes).
 */
int	container_read(struct container_reader *, uint64_t index,
	    struct frame_header *h, void *buf, size_t cap, char *err,
	    size_t errcap);
void	container_reader_free(struct container_reader **);

#endif
