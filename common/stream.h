/*
 * stream.h - the backup stream: the plaintext a client encrypts.
 *
 * A job is one logical stream of file records, cut into fixed-size chunks
 * only afterwards, so a chunk may hold many small files and a large file
 * spans chunks.  A record is a header followed by `size` data bytes
 * (regular files only).  All integers are big endian.
 *
 *	 0  u32  magic "KFR1"
 *	 4  u8   type: 1 regular, 2 directory, 3 symlink, 0xFF end of stream
 *	 5  u8   reserved, 0
 *	 6  u16  path length (1..KF_PATH_MAX; 0 for the end record)
 *	 8  u32  mode (permission bits, 07777)
 *	12  u32  mtime nanoseconds (< 1e9)
 *	16  i64  mtime seconds
 *	24  u64  size of the data that follows (0 unless regular)
 *	32  u16  link target length (symlinks: 1..KF_PATH_MAX, else 0)
 *	34  u16  reserved, 0
 *	36  path bytes, then link target bytes
 *
 * Paths are relative, '/'-separated, with no empty, "." or ".." component
 * and no NUL.  The stream ends with exactly one end record; anything after
 * it, or a stream that stops before it, is an error.
 */
#ifndef KF_STREAM_H
#define KF_STREAM_H

#include <stddef.h>
#include <stdint.h>

#define KF_PATH_MAX		4096
#define STREAM_HDR_FIXED	36
#define STREAM_HDR_MAX		(STREAM_HDR_FIXED + 2 * KF_PATH_MAX)

enum stream_type {
	STREAM_REGULAR = 1,
	STREAM_DIRECTORY = 2,
	STREAM_SYMLINK = 3,
	STREAM_END = 0xFF
};

struct stream_entry {
	enum stream_type type;		/* what the record describes */
	uint32_t	mode;		/* permission bits */
	int64_t		mtime_sec;	/* modification time, seconds */
	uint32_t	mtime_nsec;	/* and nanoseconds */
	uint64_t	size;		/* data bytes after the header */
	uint16_t	path_len;	/* bytes in path, no NUL counted */
	uint16_t	link_len;	/* bytes in link */
	char		path[KF_PATH_MAX + 1];	/* NUL-terminated copy */
	char		link[KF_PATH_MAX + 1];	/* NUL-terminated copy */
};

/* 0 when path is a safe relative path as described above. */
int	stream_path_valid(const char *path, size_t len);

/* Header length for an entry: STREAM_HDR_FIXED + path_len + link_len. */
size_t	stream_header_len(const struct stream_entry *);

/*
 * Encode e's header into out (cap bytes).  Returns the length written, or
 * -1 if e is invalid or cap is too small.  The end record is an entry with
 * type STREAM_END and everything else zero.
 */
long	stream_encode_header(const struct stream_entry *e, uint8_t *out,
	    size_t cap);

/*
 * Incremental decoder.  Feed it stream bytes in any pieces; it calls back
 * for each header, each piece of file data and each record's end.  A
 * callback returning non-zero stops parsing and stream_parser_feed returns
 * -1 with that code kept in stream_parser_error().
 */
struct stream_parser_cb {
	int	(*on_header)(void *arg, const struct stream_entry *e,
		    uint64_t offset);
	int	(*on_data)(void *arg, const uint8_t *buf, size_t len);
	int	(*on_record_end)(void *arg, const struct stream_entry *e);
	int	(*on_end)(void *arg, uint64_t offset);
};

struct stream_parser;

/* offset: the stream offset of the first byte that will be fed. */
struct stream_parser *stream_parser_new(const struct stream_parser_cb *cb,
	    void *arg, uint64_t offset);
void	stream_parser_free(struct stream_parser **);
/* Restart at a record boundary at stream offset `offset`. */
void	stream_parser_reset(struct stream_parser *, uint64_t offset);
/* 0 on success, -1 on a malformed stream or a callback's refusal. */
int	stream_parser_feed(struct stream_parser *, const uint8_t *buf,
	    size_t len);
/* 1 when the parser sits at a record boundary (or after the end record). */
int	stream_parser_at_boundary(const struct stream_parser *);
/* 1 once the end record has been parsed. */
int	stream_parser_done(const struct stream_parser *);
uint64_t stream_parser_offset(const struct stream_parser *);
/* Human-readable reason for the last -1 (static storage). */
const char *stream_parser_strerror(const struct stream_parser *);
int	stream_parser_error(const struct stream_parser *);

#endif
