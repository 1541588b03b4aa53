/*
 * make_corpus.c - writes the seed corpora of the fuzz targets from real
 * encodings made by keyflow's own code: protobuf bodies of every message
 * type (proto/), multipart messages as wire_recv receives them (wire/),
 * backup streams (stream/) and containers with their index (container/),
 * each in the input layout its target's header comment describes.
 *
 * Usage: make_corpus OUTDIR (tests/fuzz/make_corpus.sh runs it and
 * replaces tests/fuzz/corpus/{proto,wire,stream,container}).  The output is
 * deterministic, so a regenerated corpus only changes when a format does.
 *
 * A protobuf body is built from the descriptor alone: every field once
 * (repeated ones twice, one member per oneof), with a small value of its
 * type and nested messages to a depth of three, so new fields get seeds
 * without anyone editing this file.  Each body is unpacked again to make
 * sure it is one the target will get past.
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
#include "stream.h"
#include "util.h"
#include "wire.h"

#define BODY_CAP	8192
#define DEPTH_MAX	3

static const char	*outdir;

static void
die(const char *what)
{
	fprintf(stderr, "make_corpus: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* OUTDIR/sub/name := the bytes in the pieces, concatenated. */
static void
put(const char *sub, const char *name, const uint8_t *a, size_t alen,
    const uint8_t *b, size_t blen)
{
	char	path[PATH_MAX];
	int	fd;

	snprintf(path, sizeof(path), "%s/%s", outdir, sub);
	if (mkdir(path, 0755) == -1 && errno != EEXIST)
		die(path);
	snprintf(path, sizeof(path), "%s/%s/%s", outdir, sub, name);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) == -1 ||
	    util_write_all(fd, a, alen) == -1 ||
	    (blen > 0 && util_write_all(fd, b, blen) == -1) || close(fd) == -1)
		die(path);
}

/*
 * Protobuf bodies from descriptors.
 */

struct buf {
	uint8_t	b[BODY_CAP];	/* the encoding */
	size_t	n;		/* bytes used */
};

static void
b_byte(struct buf *b, uint8_t v)
{
	if (b->n >= sizeof(b->b)) {
		fprintf(stderr, "make_corpus: body over %d bytes\n", BODY_CAP);
		exit(1);
	}
	b->b[b->n++] = v;
}

static void
b_varint(struct buf *b, uint64_t v)
{
	while (v >= 0x80) {
		b_byte(b, (uint8_t)(v | 0x80));
		v >>= 7;
	}
	b_byte(b, (uint8_t)v);
}

static void
b_bytes(struct buf *b, const void *p, size_t n)
{
	const uint8_t	*s = p;

	b_varint(b, n);
	while (n-- > 0)
		b_byte(b, *s++);
}

static void	enc_msg(struct buf *, const ProtobufCMessageDescriptor *, int);

/* One value of field f, key included. */
static void
enc_field(struct buf *b, const ProtobufCFieldDescriptor *f, int depth,
    int rep)
{
	const ProtobufCEnumDescriptor	*ed;
	struct buf			 sub;
	uint8_t				 bytes[32];
	char				 s[64];
	size_t				 i, w;

	switch (f->type) {
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		/* Wire type 5 is 4 bytes, little endian; 1 is 8. */
		w = f->type == PROTOBUF_C_TYPE_FIXED32 ||
		    f->type == PROTOBUF_C_TYPE_SFIXED32 ||
		    f->type == PROTOBUF_C_TYPE_FLOAT ? 4 : 8;
		b_varint(b, (uint64_t)f->id << 3 | (w == 4 ? 5 : 1));
		for (i = 0; i < w; i++)
			b_byte(b, i == 0 ? (uint8_t)(1 + rep) : 0);
		return;
	case PROTOBUF_C_TYPE_STRING:
		b_varint(b, (uint64_t)f->id << 3 | 2);
		snprintf(s, sizeof(s), "%s-%d", f->name, rep + 1);
		b_bytes(b, s, strlen(s));
		return;
	case PROTOBUF_C_TYPE_BYTES:
		b_varint(b, (uint64_t)f->id << 3 | 2);
		for (i = 0; i < sizeof(bytes); i++)
			bytes[i] = (uint8_t)(i * 37 + rep);
		/* 12 or 16 bytes: the nonce and tag sizes keyflow checks. */
		b_bytes(b, bytes, rep == 0 ? 16 : 12);
		return;
	case PROTOBUF_C_TYPE_MESSAGE:
		b_varint(b, (uint64_t)f->id << 3 | 2);
		sub.n = 0;
		enc_msg(&sub, f->descriptor, depth + 1);
		b_bytes(b, sub.b, sub.n);
		return;
	case PROTOBUF_C_TYPE_ENUM:
		ed = f->descriptor;
		b_varint(b, (uint64_t)f->id << 3);
		b_varint(b, (uint64_t)(uint32_t)ed->values[ed->n_values > 1 ?
		    1 : 0].value);
		return;
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SINT64:
		b_varint(b, (uint64_t)f->id << 3);
		b_varint(b, 2u * (1 + rep));	/* zigzag of 1 + rep */
		return;
	default:	/* the other varints: ints, uints, bool */
		b_varint(b, (uint64_t)f->id << 3);
		b_varint(b, f->type == PROTOBUF_C_TYPE_BOOL ? 1 : 1 + rep);
		return;
	}
}

static void
enc_msg(struct buf *b, const ProtobufCMessageDescriptor *d, int depth)
{
	const ProtobufCFieldDescriptor	*f;
	unsigned			 i, oneof_seen[64], noneof = 0, j;
	int				 skip;

	for (i = 0; i < d->n_fields; i++) {
		f = &d->fields[i];
		/* Below the top, optional fields would only repeat shapes. */
		if (depth >= DEPTH_MAX && f->label != PROTOBUF_C_LABEL_REQUIRED)
			continue;
		if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
			for (skip = 0, j = 0; j < noneof; j++)
				if (oneof_seen[j] == f->quantifier_offset)
					skip = 1;
			if (skip || noneof == 64)
				continue;
			oneof_seen[noneof++] = f->quantifier_offset;
		}
		enc_field(b, f, depth, 0);
		if (f->label == PROTOBUF_C_LABEL_REPEATED)
			enc_field(b, f, depth, 1);
	}
}

static void
make_proto(void)
{
	const ProtobufCEnumDescriptor	*ed = &kf__msg_type__descriptor;
	const struct wire_type		*t;
	ProtobufCMessage		*m;
	struct buf			 b;
	uint8_t				 sel;
	unsigned			 i;
	char				 name[128];

	for (i = 0; i < ed->n_values; i++) {
		if ((t = wire_type_lookup((uint32_t)ed->values[i].value)) ==
		    NULL)
			continue;
		b.n = 0;
		enc_msg(&b, t->desc, 0);
		if ((m = protobuf_c_message_unpack(t->desc, NULL, b.n,
		    b.b)) == NULL) {
			fprintf(stderr, "make_corpus: %s does not unpack\n",
			    t->desc->name);
			exit(1);
		}
		protobuf_c_message_free_unpacked(m, NULL);
		/* fuzz_proto: byte 0 is the type. */
		if (t->type > UINT8_MAX) {
			fprintf(stderr, "make_corpus: type %u over 255\n",
			    t->type);
			exit(1);
		}
		sel = (uint8_t)t->type;
		snprintf(name, sizeof(name), "%s", ed->values[i].name);
		put("proto", name, &sel, 1, b.b, b.n);
	}
}

/*
 * Multipart messages for fuzz_wire: flags byte, then 16-bit length-prefixed
 * frames.
 */

struct frames {
	uint8_t	b[BODY_CAP + 256];	/* the input being built */
	size_t	n;			/* bytes used */
};

static void
fr_add(struct frames *f, const void *p, size_t n)
{
	if (n > 0xffff || f->n + 2 + n > sizeof(f->b)) {
		fprintf(stderr, "make_corpus: frame too large\n");
		exit(1);
	}
	be16_put(f->b + f->n, (uint16_t)n);
	memcpy(f->b + f->n + 2, p, n);
	f->n += 2 + n;
}

/* A wire message of type (body from its descriptor), maybe routed. */
static void
wire_seed(const char *name, uint32_t type, int router, int extra)
{
	static const uint8_t	 peer[5] = { 0, 0x80, 0, 0, 0x29 };
	const struct wire_type	*t = wire_type_lookup(type);
	struct frames		 f;
	struct buf		 b;
	uint8_t			 hdr[4], payload[48];
	size_t			 i;

	f.n = 0;
	f.b[f.n++] = router ? 1 : 0;
	if (router)
		fr_add(&f, peer, sizeof(peer));
	be32_put(hdr, type);
	fr_add(&f, hdr, sizeof(hdr));
	b.n = 0;
	if (t != NULL)
		enc_msg(&b, t->desc, 0);
	fr_add(&f, b.b, b.n);
	if ((t != NULL && t->payload) || extra) {
		for (i = 0; i < sizeof(payload); i++)
			payload[i] = (uint8_t)(i * 11);
		fr_add(&f, payload, sizeof(payload));
	}
	put("wire", name, f.b, f.n, NULL, 0);
}

static void
make_wire(void)
{
	wire_seed("hello", KF__MSG_TYPE__HELLO, 0, 0);
	wire_seed("hello-routed", KF__MSG_TYPE__HELLO, 1, 0);
	wire_seed("auth-routed", KF__MSG_TYPE__AUTH, 1, 0);
	wire_seed("error", KF__MSG_TYPE__ERROR, 0, 0);
	wire_seed("pool-create-routed", KF__MSG_TYPE__POOL_CREATE, 1, 0);
	wire_seed("backup-start-routed", KF__MSG_TYPE__BACKUP_START, 1, 0);
	wire_seed("restore-order", KF__MSG_TYPE__RESTORE_ORDER, 0, 0);
	wire_seed("catalog-batch-routed", KF__MSG_TYPE__CATALOG_BATCH, 1, 0);
	wire_seed("stream-open-routed", KF__MSG_TYPE__STREAM_OPEN, 1, 0);
	wire_seed("chunk-put-routed", KF__MSG_TYPE__CHUNK_PUT, 1, 0);
	wire_seed("chunk-data", KF__MSG_TYPE__CHUNK_DATA, 0, 0);
	wire_seed("job-done-routed", KF__MSG_TYPE__JOB_DONE, 1, 0);
	/* Refusals: an extra frame, an unknown type. */
	wire_seed("ok-extra-frame", KF__MSG_TYPE__OK, 0, 1);
	wire_seed("unknown-type", 9999, 0, 0);
}

/*
 * Backup streams for fuzz_stream: control byte, two seed bytes, stream.
 */

static size_t
stream_rec(uint8_t *out, size_t cap, enum stream_type type, const char *path,
    const char *link, uint64_t size)
{
	struct stream_entry	e;
	long			n;

	memset(&e, 0, sizeof(e));
	e.type = type;
	if (type != STREAM_END) {
		e.mode = type == STREAM_DIRECTORY ? 0750 : 0640;
		e.mtime_sec = 1622550896;
		e.mtime_nsec = 123456789;
		e.size = size;
		e.path_len = (uint16_t)strlen(path);
		memcpy(e.path, path, e.path_len);
		if (link != NULL) {
			e.link_len = (uint16_t)strlen(link);
			memcpy(e.link, link, e.link_len);
		}
	}
	if ((n = stream_encode_header(&e, out, cap)) < 0) {
		fprintf(stderr, "make_corpus: cannot encode %s\n", path);
		exit(1);
	}
	return (size_t)n;
}

static void
stream_seed(const char *name, uint8_t ctl, const uint8_t *s, size_t n)
{
	uint8_t	pre[3] = { ctl, 0x5a, 0xc3 };

	put("stream", name, pre, sizeof(pre), s, n);
}

static void
make_stream(void)
{
	static const char	 text[] = "Quarterly report 1.\nConfidential.\n";
	uint8_t			 s[4096];
	char			 longpath[300];
	size_t			 n = 0, tree;

	n += stream_rec(s + n, sizeof(s) - n, STREAM_DIRECTORY, "docs", NULL,
	    0);
	n += stream_rec(s + n, sizeof(s) - n, STREAM_REGULAR, "docs/report.txt",
	    NULL, sizeof(text) - 1);
	memcpy(s + n, text, sizeof(text) - 1);
	n += sizeof(text) - 1;
	n += stream_rec(s + n, sizeof(s) - n, STREAM_REGULAR, "empty", NULL, 0);
	n += stream_rec(s + n, sizeof(s) - n, STREAM_SYMLINK, "latest",
	    "docs/report.txt", 0);
	n += stream_rec(s + n, sizeof(s) - n, STREAM_SYMLINK, "up",
	    "../../etc/passwd", 0);
	tree = n;
	n += stream_rec(s + n, sizeof(s) - n, STREAM_END, NULL, NULL, 0);
	stream_seed("tree", 0, s, n);
	stream_seed("tree-refuse-data-record", 2 | 1 << 2, s, n);
	stream_seed("tree-refuse-end", 3, s, n);
	stream_seed("tree-unfinished", 0, s, tree);
	n = stream_rec(s, sizeof(s), STREAM_END, NULL, NULL, 0);
	stream_seed("end-only", 0, s, n);
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[sizeof(longpath) - 1] = '\0';
	longpath[100] = '/';
	longpath[200] = '/';
	n = stream_rec(s, sizeof(s), STREAM_REGULAR, longpath, NULL, 3);
	memcpy(s + n, "abc", 3);
	n += 3;
	n += stream_rec(s + n, sizeof(s) - n, STREAM_END, NULL, NULL, 0);
	stream_seed("long-path", 1, s, n);
}

/*
 * Containers for fuzz_container: flags, index length, index, container.
 */

static uint8_t *
slurp(const char *path, size_t *len)
{
	uint8_t	*p;

	if (util_read_file(path, 1 << 20, &p, len) == -1)
		die(path);
	return p;
}

static void
container_seed(const char *tmp, uint64_t job, const size_t *lens,
    size_t nchunks)
{
	struct container_writer	*w;
	struct frame_header	 h;
	uint8_t			 data[512], pre[3], *idx, *c;
	char			 path[PATH_MAX], name[64];
	size_t			 i, j, ilen, clen;
	uint64_t		 total = 0;

	if ((w = container_create(tmp, job)) == NULL)
		die("container_create");
	for (i = 0; i < nchunks; i++) {
		memset(&h, 0, sizeof(h));
		h.job = job;
		h.index = i;
		h.len = (uint32_t)lens[i];
		h.flags = i + 1 == nchunks ? CONTAINER_FLAG_LAST : 0;
		for (j = 0; j < KF_NONCE_LEN; j++)
			h.nonce[j] = (uint8_t)(i + j);
		for (j = 0; j < KF_TAG_LEN; j++)
			h.tag[j] = (uint8_t)(0xa0 + j);
		for (j = 0; j < lens[i]; j++)
			data[j] = (uint8_t)(j * 7 + i);
		if (container_append(w, &h, data) == -1)
			die("container_append");
		total += lens[i];
	}
	if (container_commit(w, total) == -1)
		die("container_commit");
	container_writer_free(&w);
	container_path(path, sizeof(path), tmp, job, 0, 1);
	idx = slurp(path, &ilen);
	unlink(path);
	container_path(path, sizeof(path), tmp, job, 0, 0);
	c = slurp(path, &clen);
	unlink(path);
	for (i = 0; i < 2; i++) {
		/* Both files in one input: flags, index length, index. */
		pre[0] = (uint8_t)i;
		be16_put(pre + 1, (uint16_t)ilen);
		snprintf(name, sizeof(name), "job%llu-%zu-chunks%s",
		    (unsigned long long)job, nchunks, i ? "-repair" : "");
		if ((idx = realloc(idx, ilen + clen)) == NULL)
			die("realloc");
		memcpy(idx + ilen, c, clen);
		put("container", name, pre, sizeof(pre), idx, ilen + clen);
	}
	free(idx);
	free(c);
}

static void
make_container(void)
{
	static const size_t	three[] = { 200, 120, 33 };
	static const size_t	one[] = { 64 };
	static const size_t	empty_last[] = { 100, 0 };
	char			tmp[] = "/tmp/kf-corpus.XXXXXX";

	if (mkdtemp(tmp) == NULL)
		die("mkdtemp");
	container_seed(tmp, 42, three, 3);
	container_seed(tmp, 7, one, 1);
	container_seed(tmp, 1000000007ULL, empty_last, 2);
	if (rmdir(tmp) == -1)
		die(tmp);
}

int
main(int argc, char *argv[])
{
	if (argc != 2) {
		fprintf(stderr, "usage: make_corpus OUTDIR\n");
		return 2;
	}
	outdir = argv[1];
	if (mkdir(outdir, 0755) == -1 && errno != EEXIST)
		die(outdir);
	make_proto();
	make_wire();
	make_stream();
	make_container();
	return 0;
}
