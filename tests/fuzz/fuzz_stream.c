/*
 * fuzz_stream.c - libFuzzer target for the backup stream parser
 * (common/stream.c), which restore runs over plaintext that came back from
 * storage and so treats as hostile.
 *
 * Input: byte 0 picks a callback that refuses (bits 0-1: none, header,
 * record end, end; bits 2-7: after how many such calls), bytes 1-2 seed
 * the split points, the rest is the stream.  The stream is parsed twice:
 * in one piece, and cut at pseudo-random points (pieces of 0 to 64 bytes,
 * some of one byte).  Beyond "no crash, no over-read", it aborts when:
 *  - the two parses differ in anything a caller sees (the callbacks, their
 *    arguments, the data bytes, the result, the offset, the error code):
 *    the parser must not care where its input was cut;
 *  - a header reaches a callback with an unsafe path, a path or link that
 *    does not match its length, or it does not re-encode to exactly the
 *    bytes it was parsed from;
 *  - a record ends with other than its announced number of data bytes;
 *  - a failure comes without a sentence, or success leaves an error.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stream.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* What one parse showed its caller. */
struct run {
	const uint8_t	*stream;	/* the input stream */
	size_t		 len;		/* its length */
	uint64_t	 hash;		/* FNV-1a over every callback */
	uint64_t	 data;		/* data bytes seen in this record */
	unsigned	 calls;		/* header/record-end/end calls */
	unsigned	 refuse_kind;	/* 0 none, 1 header, 2 record end, 3 end */
	unsigned	 refuse_at;	/* refuse on this call of that kind */
};

static void
mix(struct run *r, const void *p, size_t n)
{
	const uint8_t	*b = p;

	while (n-- > 0) {
		r->hash ^= *b++;
		r->hash *= 0x100000001b3ULL;
	}
}

static int
maybe_refuse(struct run *r, unsigned kind)
{
	if (r->refuse_kind == kind && r->calls++ == r->refuse_at)
		return 7;
	return 0;
}

static int
on_header(void *arg, const struct stream_entry *e, uint64_t off)
{
	struct run	*r = arg;
	uint8_t		 enc[STREAM_HDR_MAX];
	long		 n;

	if (strlen(e->path) != e->path_len ||
	    stream_path_valid(e->path, e->path_len) != 0 ||
	    strlen(e->link) != e->link_len ||
	    (e->type == STREAM_SYMLINK) != (e->link_len > 0) ||
	    (e->type != STREAM_REGULAR && e->size != 0) ||
	    e->mode > 07777 || e->mtime_nsec >= 1000000000u)
		abort();
	/* The header is exactly the bytes it was parsed from. */
	n = stream_encode_header(e, enc, sizeof(enc));
	if (n <= 0 || off > r->len || (size_t)n > r->len - off ||
	    memcmp(enc, r->stream + off, (size_t)n) != 0)
		abort();
	r->data = 0;
	mix(r, "H", 1);
	mix(r, &off, sizeof(off));
	mix(r, enc, (size_t)n);
	return maybe_refuse(r, 1);
}

static int
on_data(void *arg, const uint8_t *buf, size_t len)
{
	struct run	*r = arg;

	if (len == 0)
		abort();
	r->data += len;
	mix(r, buf, len);
	return 0;
}

static int
on_record_end(void *arg, const struct stream_entry *e)
{
	struct run	*r = arg;

	if (r->data != e->size)
		abort();
	mix(r, "R", 1);
	return maybe_refuse(r, 2);
}

static int
on_end(void *arg, uint64_t off)
{
	struct run	*r = arg;

	mix(r, "E", 1);
	mix(r, &off, sizeof(off));
	return maybe_refuse(r, 3);
}

static const struct stream_parser_cb cb = {
	on_header, on_data, on_record_end, on_end
};

/* Parse the stream in pieces (seed 0: one piece); returns the outcome. */
static uint64_t
parse(struct run *r, uint32_t seed)
{
	struct stream_parser	*p;
	const char		*why;
	size_t			 off = 0, n;
	uint64_t		 o;
	int			 rc = 0, done, bound, err;

	r->hash = 0xcbf29ce484222325ULL;
	r->data = 0;
	r->calls = 0;
	if ((p = stream_parser_new(&cb, r, 0)) == NULL)
		abort();
	while (rc == 0 && off < r->len) {
		n = r->len - off;
		if (seed != 0) {
			seed = seed * 1103515245u + 12345u;
			/* Zero-length and one-byte pieces are the tricky ones. */
			if ((seed >> 16) % 4 == 0)
				n = (seed >> 20) % 2;
			else if ((seed >> 16) % 64 < n)
				n = (seed >> 16) % 64;
		}
		rc = stream_parser_feed(p, r->stream + off, n);
		off += n;
	}
	done = stream_parser_done(p);
	bound = stream_parser_at_boundary(p);
	err = stream_parser_error(p);
	o = stream_parser_offset(p);
	why = stream_parser_strerror(p);
	if (rc == -1 && (err == 0 || strcmp(why, "no error") == 0))
		abort();
	if (rc == 0 && (err != 0 || o != r->len))
		abort();
	if (done && !bound)
		abort();
	mix(r, &rc, sizeof(rc));
	mix(r, &done, sizeof(done));
	mix(r, &bound, sizeof(bound));
	mix(r, &err, sizeof(err));
	/* Not the sentence: "N bytes follow the end record" counts the piece. */
	/* Feeding on after an error or the end record must fail. */
	if ((rc == -1 || done) && stream_parser_feed(p, (const uint8_t *)"x",
	    1) != -1)
		abort();
	stream_parser_free(&p);
	if (p != NULL)
		abort();
	return r->hash;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run	r;
	uint64_t	whole;
	uint32_t	seed;

	if (size < 3)
		return 0;
	memset(&r, 0, sizeof(r));
	r.refuse_kind = data[0] & 3;
	r.refuse_at = data[0] >> 2;
	seed = (uint32_t)data[1] << 8 | data[2] | 0x10000u;
	r.stream = data + 3;
	r.len = size - 3;
	whole = parse(&r, 0);
	if (parse(&r, seed) != whole)
		abort();
	return 0;
}
