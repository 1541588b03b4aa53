/*
 * stream.c - the backup stream's record format (see stream.h): header
 * encoding, strict validation of every header field, and an incremental
 * parser that takes the stream in pieces cut at any byte.
 *
 * The stream is plaintext the client produced, but on restore it comes back
 * from storage and may have been written by anyone who held the DEK, so the
 * parser treats it as hostile: every field is checked before a callback sees
 * it, a path is never handed out unless it is a safe relative path, and any
 * byte after the end record is an error.  Errors are kept as sentences that
 * name the stream offset of the bad record.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stream.h"
#include "util.h"

#define STREAM_MAGIC		"KFR1"
#define STREAM_MODE_MAX		07777u
#define STREAM_NSEC_MAX		1000000000u
#define STREAM_SIZE_MAX		((uint64_t)INT64_MAX)

enum parser_state {
	SP_HEADER,		/* collecting header bytes */
	SP_DATA,		/* passing a regular file's data through */
	SP_DONE,		/* the end record has been parsed */
	SP_ERROR		/* stopped; errbuf says why */
};

struct stream_parser {
	struct stream_parser_cb	 cb;		/* caller's callbacks */
	void			*arg;		/* their argument */
	enum parser_state	 state;		/* where in a record we are */
	uint64_t		 offset;	/* stream offset of next byte */
	uint64_t		 rec_off;	/* offset of current header */
	uint64_t		 remain;	/* data bytes left in record */
	size_t			 have;		/* header bytes collected */
	size_t			 need;		/* header bytes expected */
	int			 fixed;		/* fixed part checked */
	int			 error;		/* callback code, -1 malformed */
	struct stream_entry	 e;		/* the record being parsed */
	uint8_t			 hdr[STREAM_HDR_MAX];	/* header bytes */
	char			 errbuf[256];	/* sentence for the error */
};

/* Why path is not a safe relative path, or NULL when it is. */
static const char *
path_problem(const char *path, size_t len)
{
	size_t	i, start;

	if (len == 0)
		return "is empty";
	if (len > KF_PATH_MAX)
		return "is longer than 4096 bytes";
	if (memchr(path, '\0', len) != NULL)
		return "contains a NUL byte";
	if (path[0] == '/')
		return "is absolute";
	for (start = 0, i = 0; i <= len; i++) {
		if (i < len && path[i] != '/')
			continue;
		if (i == start)
			return "has an empty component";
		if (i - start == 1 && path[start] == '.')
			return "has a \".\" component";
		if (i - start == 2 && path[start] == '.' &&
		    path[start + 1] == '.')
			return "has a \"..\" component";
		start = i + 1;
	}
	return NULL;
}

int
stream_path_valid(const char *path, size_t len)
{
	if (path == NULL)
		return -1;
	return path_problem(path, len) == NULL ? 0 : -1;
}

size_t
stream_header_len(const struct stream_entry *e)
{
	return STREAM_HDR_FIXED + (size_t)e->path_len + e->link_len;
}

/*
 * Check every field but the path and link bytes; on failure write a
 * sentence (without the offset) to why.
 */
static int
check_fixed(const struct stream_entry *e, char *why, size_t cap)
{
	switch (e->type) {
	case STREAM_END:
		if (e->path_len != 0 || e->link_len != 0 || e->mode != 0 ||
		    e->mtime_sec != 0 || e->mtime_nsec != 0 || e->size != 0) {
			snprintf(why, cap, "the end record has non-zero fields");
			return -1;
		}
		return 0;
	case STREAM_REGULAR:
	case STREAM_DIRECTORY:
	case STREAM_SYMLINK:
		break;
	default:
		snprintf(why, cap, "unknown record type %u",
		    (unsigned)e->type);
		return -1;
	}
	if (e->path_len < 1 || e->path_len > KF_PATH_MAX) {
		snprintf(why, cap, "path length %u is outside 1..%d",
		    (unsigned)e->path_len, KF_PATH_MAX);
		return -1;
	}
	if (e->mode > STREAM_MODE_MAX) {
		snprintf(why, cap, "mode %#o has bits beyond 07777",
		    (unsigned)e->mode);
		return -1;
	}
	if (e->mtime_nsec >= STREAM_NSEC_MAX) {
		snprintf(why, cap, "mtime nanoseconds %u are not below 1e9",
		    (unsigned)e->mtime_nsec);
		return -1;
	}
	if (e->type != STREAM_REGULAR && e->size != 0) {
		snprintf(why, cap, "a %s claims %llu bytes of data; only "
		    "regular files carry data", e->type == STREAM_DIRECTORY ?
		    "directory" : "symlink", (unsigned long long)e->size);
		return -1;
	}
	if (e->size > STREAM_SIZE_MAX) {
		snprintf(why, cap, "file size %llu is larger than any file "
		    "can be", (unsigned long long)e->size);
		return -1;
	}
	if (e->type == STREAM_SYMLINK &&
	    (e->link_len < 1 || e->link_len > KF_PATH_MAX)) {
		snprintf(why, cap, "symlink target length %u is outside 1..%d",
		    (unsigned)e->link_len, KF_PATH_MAX);
		return -1;
	}
	if (e->type != STREAM_SYMLINK && e->link_len != 0) {
		snprintf(why, cap, "a %s carries a %u byte link target; only "
		    "symlinks have one", e->type == STREAM_DIRECTORY ?
		    "directory" : "regular file", (unsigned)e->link_len);
		return -1;
	}
	return 0;
}

/*
 * Check the path and link bytes.  A link target is kept as the user made it
 * (it may be absolute or climb with ".."); restore creates symlinks and
 * never writes through one, so only NULs are refused there.
 */
static int
check_names(const char *path, size_t pathlen, const char *link,
    size_t linklen, char *why, size_t cap)
{
	const char	*p;

	if ((p = path_problem(path, pathlen)) != NULL) {
		snprintf(why, cap, "the path %s", p);
		return -1;
	}
	if (linklen > 0 && memchr(link, '\0', linklen) != NULL) {
		snprintf(why, cap, "the symlink target contains a NUL byte");
		return -1;
	}
	return 0;
}

long
stream_encode_header(const struct stream_entry *e, uint8_t *out, size_t cap)
{
	char	why[128];
	size_t	len;

	if (e == NULL || out == NULL || check_fixed(e, why, sizeof(why)) == -1)
		return -1;
	if (e->type != STREAM_END && check_names(e->path, e->path_len,
	    e->link, e->link_len, why, sizeof(why)) == -1)
		return -1;
	len = stream_header_len(e);
	if (cap < len)
		return -1;
	memcpy(out, STREAM_MAGIC, 4);
	out[4] = (uint8_t)e->type;
	out[5] = 0;
	be16_put(out + 6, e->path_len);
	be32_put(out + 8, e->mode);
	be32_put(out + 12, e->mtime_nsec);
	be64_put(out + 16, (uint64_t)e->mtime_sec);
	be64_put(out + 24, e->size);
	be16_put(out + 32, e->link_len);
	be16_put(out + 34, 0);
	memcpy(out + STREAM_HDR_FIXED, e->path, e->path_len);
	memcpy(out + STREAM_HDR_FIXED + e->path_len, e->link, e->link_len);
	return (long)len;
}

/*
 * The parser.
 */

static int	sp_fail(struct stream_parser *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

/* Stop with code and a sentence; always returns -1. */
static int
sp_fail(struct stream_parser *p, int code, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(p->errbuf, sizeof(p->errbuf), fmt, ap);
	va_end(ap);
	p->error = code;
	p->state = SP_ERROR;
	return -1;
}

/* Stop because a callback returned rc. */
static int
sp_refused(struct stream_parser *p, int rc, const char *what)
{
	return sp_fail(p, rc, "the %s callback stopped parsing at the record "
	    "at stream offset %llu (code %d)", what,
	    (unsigned long long)p->rec_off, rc);
}

struct stream_parser *
stream_parser_new(const struct stream_parser_cb *cb, void *arg,
    uint64_t offset)
{
	struct stream_parser	*p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	if (cb != NULL)
		p->cb = *cb;
	p->arg = arg;
	stream_parser_reset(p, offset);
	return p;
}

void
stream_parser_free(struct stream_parser **pp)
{
	if (pp == NULL || *pp == NULL)
		return;
	free(*pp);
	*pp = NULL;
}

void
stream_parser_reset(struct stream_parser *p, uint64_t offset)
{
	p->state = SP_HEADER;
	p->offset = offset;
	p->rec_off = offset;
	p->remain = 0;
	p->have = 0;
	p->need = STREAM_HDR_FIXED;
	p->fixed = 0;
	p->error = 0;
	p->errbuf[0] = '\0';
}

/* The 36 fixed bytes are in: check them and learn the header's length. */
static int
sp_fixed(struct stream_parser *p)
{
	struct stream_entry	*e = &p->e;
	const uint8_t		*h = p->hdr;
	unsigned long long	 off = p->rec_off;
	char			 why[160];

	if (memcmp(h, STREAM_MAGIC, 4) != 0)
		return sp_fail(p, -1, "the record at stream offset %llu has "
		    "magic %02x%02x%02x%02x, not \"KFR1\": the stream is "
		    "damaged or misaligned", off, h[0], h[1], h[2], h[3]);
	if (h[5] != 0 || be16_get(h + 34) != 0)
		return sp_fail(p, -1, "the record at stream offset %llu has "
		    "non-zero reserved bytes", off);
	e->type = (enum stream_type)h[4];
	e->path_len = be16_get(h + 6);
	e->mode = be32_get(h + 8);
	e->mtime_nsec = be32_get(h + 12);
	e->mtime_sec = (int64_t)be64_get(h + 16);
	e->size = be64_get(h + 24);
	e->link_len = be16_get(h + 32);
	e->path[0] = '\0';
	e->link[0] = '\0';
	if (check_fixed(e, why, sizeof(why)) == -1)
		return sp_fail(p, -1, "the record at stream offset %llu is "
		    "invalid: %s", off, why);
	p->need = stream_header_len(e);
	if (p->rec_off > UINT64_MAX - p->need ||
	    e->size > UINT64_MAX - p->rec_off - p->need)
		return sp_fail(p, -1, "the record at stream offset %llu "
		    "claims %llu bytes, past the largest stream offset", off,
		    (unsigned long long)e->size);
	return 0;
}

/* A record's data is complete: tell the caller, expect the next header. */
static int
sp_record_done(struct stream_parser *p)
{
	int	rc;

	if (p->cb.on_record_end != NULL &&
	    (rc = p->cb.on_record_end(p->arg, &p->e)) != 0)
		return sp_refused(p, rc, "record end");
	p->state = SP_HEADER;
	p->have = 0;
	p->need = STREAM_HDR_FIXED;
	p->fixed = 0;
	p->rec_off = p->offset;
	return 0;
}

/* The whole header is in: check the names and tell the caller. */
static int
sp_header_done(struct stream_parser *p)
{
	struct stream_entry	*e = &p->e;
	const char		*path, *link;
	char			 why[160];
	int			 rc;

	if (e->type == STREAM_END) {
		p->state = SP_DONE;
		if (p->cb.on_end != NULL &&
		    (rc = p->cb.on_end(p->arg, p->rec_off)) != 0)
			return sp_refused(p, rc, "end");
		return 0;
	}
	path = (const char *)p->hdr + STREAM_HDR_FIXED;
	link = path + e->path_len;
	if (check_names(path, e->path_len, link, e->link_len, why,
	    sizeof(why)) == -1)
		return sp_fail(p, -1, "the record at stream offset %llu is "
		    "invalid: %s", (unsigned long long)p->rec_off, why);
	memcpy(e->path, path, e->path_len);
	e->path[e->path_len] = '\0';
	memcpy(e->link, link, e->link_len);
	e->link[e->link_len] = '\0';
	if (p->cb.on_header != NULL &&
	    (rc = p->cb.on_header(p->arg, e, p->rec_off)) != 0)
		return sp_refused(p, rc, "header");
	p->remain = e->size;
	p->state = SP_DATA;
	if (p->remain == 0)
		return sp_record_done(p);
	return 0;
}

int
stream_parser_feed(struct stream_parser *p, const uint8_t *buf, size_t len)
{
	size_t	n;
	int	rc;

	if (p->state == SP_ERROR)
		return -1;
	if (buf == NULL && len > 0)
		return sp_fail(p, -1, "no buffer was given for %zu bytes",
		    len);
	while (len > 0) {
		switch (p->state) {
		case SP_HEADER:
			n = p->need - p->have;
			if (n > len)
				n = len;
			memcpy(p->hdr + p->have, buf, n);
			p->have += n;
			p->offset += n;
			buf += n;
			len -= n;
			if (p->have < p->need)
				break;
			if (!p->fixed) {
				if (sp_fixed(p) == -1)
					return -1;
				p->fixed = 1;
				if (p->have < p->need)
					break;
			}
			if (sp_header_done(p) == -1)
				return -1;
			break;
		case SP_DATA:
			n = p->remain > len ? len : (size_t)p->remain;
			if (n > 0 && p->cb.on_data != NULL &&
			    (rc = p->cb.on_data(p->arg, buf, n)) != 0)
				return sp_refused(p, rc, "data");
			p->remain -= n;
			p->offset += n;
			buf += n;
			len -= n;
			if (p->remain == 0 && sp_record_done(p) == -1)
				return -1;
			break;
		case SP_DONE:
			return sp_fail(p, -1, "%zu bytes follow the end record "
			    "at stream offset %llu; the stream must end there",
			    len, (unsigned long long)p->rec_off);
		case SP_ERROR:
			return -1;
		}
	}
	return 0;
}

int
stream_parser_at_boundary(const struct stream_parser *p)
{
	return p->state == SP_DONE || (p->state == SP_HEADER && p->have == 0);
}

int
stream_parser_done(const struct stream_parser *p)
{
	return p->state == SP_DONE;
}

uint64_t
stream_parser_offset(const struct stream_parser *p)
{
	return p->offset;
}

const char *
stream_parser_strerror(const struct stream_parser *p)
{
	return p->errbuf[0] != '\0' ? p->errbuf : "no error";
}

int
stream_parser_error(const struct stream_parser *p)
{
	return p->error;
}
