/*
 * ttlv.h - KMIP's Tag-Type-Length-Value encoding as a tree of items.
 *
 * A KMIP message is one TTLV Structure.  ttlv_decode() turns bytes into a
 * tree of struct ttlv, refusing anything malformed (a length past the
 * buffer, nonzero padding, a wrong length for a fixed-size type, a Boolean
 * other than 0 or 1, invalid UTF-8, too deep, too many items, an unknown
 * type) with one sentence in struct kmip_err, never reading past the buffer.
 * ttlv_encode() turns a tree built with the ttlv_add_*() builders back into
 * bytes.  Builders never fail loudly: a failed allocation marks the parent,
 * and the encoder refuses a marked tree, so message code can add a dozen
 * fields and check once.  Finders (ttlv_find_*) read optional fields by tag
 * and check their type.  See KMIP 1.2 section 9.1 and /work/shared/KMIP.md.
 *
 * Text and Byte String values are wiped when freed; ttlv_dump() redacts key
 * material, passwords and Data, but is still for debugging only.
 */
#ifndef KF_TTLV_H
#define KF_TTLV_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define TTLV_HDR_LEN		8		/* tag 3 + type 1 + length 4 */
#define TTLV_MAX_DEPTH		32		/* default structure nesting */
#define TTLV_MAX_ITEMS		65536		/* default items per message */
#define TTLV_MAX_LEN		(1024 * 1024)	/* default message bytes */
#define KMIP_ERRLEN		256

/* Item types (KMIP 1.2 section 9.1.1.2; 0x0B is KMIP 2.0's). */
enum ttlv_type {
	TTLV_STRUCT = 0x01,
	TTLV_INT = 0x02,		/* Integer: int32 */
	TTLV_LONG = 0x03,		/* Long Integer: int64 */
	TTLV_BIGINT = 0x04,		/* Big Integer: two's complement */
	TTLV_ENUM = 0x05,		/* Enumeration: uint32 */
	TTLV_BOOL = 0x06,
	TTLV_TEXT = 0x07,		/* Text String: UTF-8 */
	TTLV_BYTES = 0x08,		/* Byte String */
	TTLV_DATETIME = 0x09,		/* Date-Time: POSIX seconds */
	TTLV_INTERVAL = 0x0A,		/* Interval: uint32 seconds */
	TTLV_DATETIME_EXT = 0x0B	/* Date-Time Extended: microseconds */
};

/* Why a decode or encode failed, and what a server should answer. */
struct kmip_err {
	uint32_t	reason;		/* KMIP Result Reason (0: no error) */
	uint32_t	version;	/* request's KMIP_VER(), 0 if unknown */
	char		msg[KMIP_ERRLEN]; /* one sentence a person can act on */
};

/* Bounds applied before anything is allocated. */
struct ttlv_limits {
	size_t		max_len;	/* whole message, header included */
	unsigned	max_depth;	/* Structures nested, top level = 1 */
	size_t		max_items;	/* items in the whole message */
};

extern const struct ttlv_limits ttlv_default_limits;

/* One item; a Structure's children form a singly linked list. */
struct ttlv {
	uint32_t	 tag;		/* 24-bit tag, 0x42xxxx or 0x54xxxx */
	enum ttlv_type	 type;		/* item type */
	union {
		int32_t	 i;		/* Integer */
		uint32_t e;		/* Enumeration, Interval */
		int64_t	 l;		/* Long Integer, Date-Time (Extended) */
		int	 b;		/* Boolean, 0 or 1 */
		struct {
			uint8_t	*p;	/* bytes, NUL-terminated copy */
			size_t	 len;	/* byte count without the NUL */
		} s;			/* Text, Byte String, Big Integer */
	} v;				/* the value, by type */
	struct ttlv	*child;		/* Structure: first child */
	struct ttlv	*last;		/* Structure: last child (append) */
	struct ttlv	*next;		/* next sibling */
	size_t		 nchild;	/* Structure: number of children */
	int		 bad;		/* a builder failed below this node */
};

/* Set err (if not NULL) to reason and a formatted sentence. */
void	kmip_err_set(struct kmip_err *err, uint32_t reason, const char *fmt,
	    ...) __attribute__((format(printf, 3, 4)));

/*
 * Builders.  ttlv_struct_new() makes a root; ttlv_add_*() append a child to
 * parent and return it, or return NULL and mark parent bad (NULL parent:
 * NULL, nothing marked, the failure was recorded higher up).
 */
struct ttlv	*ttlv_struct_new(uint32_t tag);
struct ttlv	*ttlv_add_struct(struct ttlv *parent, uint32_t tag);
struct ttlv	*ttlv_add_int(struct ttlv *parent, uint32_t tag, int32_t v);
struct ttlv	*ttlv_add_long(struct ttlv *parent, uint32_t tag, int64_t v);
/* be: big-endian two's complement of any length >= 1; sign-extended. */
struct ttlv	*ttlv_add_bigint(struct ttlv *parent, uint32_t tag,
		    const uint8_t *be, size_t len);
struct ttlv	*ttlv_add_enum(struct ttlv *parent, uint32_t tag, uint32_t v);
struct ttlv	*ttlv_add_bool(struct ttlv *parent, uint32_t tag, int v);
struct ttlv	*ttlv_add_text(struct ttlv *parent, uint32_t tag,
		    const char *s);
struct ttlv	*ttlv_add_textn(struct ttlv *parent, uint32_t tag,
		    const char *s, size_t len);
struct ttlv	*ttlv_add_bytes(struct ttlv *parent, uint32_t tag,
		    const void *p, size_t len);
struct ttlv	*ttlv_add_datetime(struct ttlv *parent, uint32_t tag,
		    int64_t secs);
struct ttlv	*ttlv_add_interval(struct ttlv *parent, uint32_t tag,
		    uint32_t secs);
struct ttlv	*ttlv_add_datetime_ext(struct ttlv *parent, uint32_t tag,
		    int64_t usecs);
/* Append a detached item (takes ownership, *itp cleared); same contract. */
struct ttlv	*ttlv_adopt(struct ttlv *parent, struct ttlv **itp);
/* Deep copy with a new tag (0 keeps the tag); NULL on failure. */
struct ttlv	*ttlv_dup(const struct ttlv *it, uint32_t tag);
/* Free a tree (iteratively, wiping string values); accepts NULL. */
void		 ttlv_free(struct ttlv **itp);

/* Finders: first child of s with tag after prev (NULL: from the start). */
struct ttlv	*ttlv_find(const struct ttlv *s, uint32_t tag);
struct ttlv	*ttlv_find_next(const struct ttlv *s, const struct ttlv *prev,
		    uint32_t tag);
size_t		 ttlv_count(const struct ttlv *s, uint32_t tag);

/*
 * Typed finders: 1 found and read, 0 absent, -1 present with the wrong type
 * (err says which) or out of memory.  Text and bytes are malloc'd copies
 * the caller frees; a previous *v is not freed.
 */
int	ttlv_find_int(const struct ttlv *s, uint32_t tag, int32_t *v,
	    struct kmip_err *err);
int	ttlv_find_long(const struct ttlv *s, uint32_t tag, int64_t *v,
	    struct kmip_err *err);
int	ttlv_find_enum(const struct ttlv *s, uint32_t tag, uint32_t *v,
	    struct kmip_err *err);
int	ttlv_find_bool(const struct ttlv *s, uint32_t tag, int *v,
	    struct kmip_err *err);
/* Date-Time; a Date-Time Extended is accepted and truncated to seconds. */
int	ttlv_find_datetime(const struct ttlv *s, uint32_t tag, int64_t *v,
	    struct kmip_err *err);
int	ttlv_find_interval(const struct ttlv *s, uint32_t tag, uint32_t *v,
	    struct kmip_err *err);
int	ttlv_find_text(const struct ttlv *s, uint32_t tag, char **v,
	    struct kmip_err *err);
int	ttlv_find_bytes(const struct ttlv *s, uint32_t tag, uint8_t **p,
	    size_t *len, struct kmip_err *err);
/* 1 and *out set when s has a Structure child with tag; 0, -1 as above. */
int	ttlv_find_struct(const struct ttlv *s, uint32_t tag,
	    const struct ttlv **out, struct kmip_err *err);
/* 0 when it has type t; else -1 with "<Tag name> is a X, not a Y". */
int	ttlv_check_type(const struct ttlv *it, enum ttlv_type t,
	    struct kmip_err *err);

/*
 * Encode a tree into a malloc'd buffer of exactly *len bytes.  Refuses a
 * tree marked bad, nesting over TTLV_MAX_DEPTH, a Structure over 4 GiB,
 * a Boolean other than 0/1, a Big Integer whose length is not a multiple
 * of 8, or Text that is not UTF-8 or holds a NUL.
 */
int	ttlv_encode(const struct ttlv *it, uint8_t **buf, size_t *len,
	    struct kmip_err *err);
/* Bytes ttlv_encode() would produce (0 for a tree it would refuse). */
size_t	ttlv_encoded_len(const struct ttlv *it);

/*
 * Decode exactly one item filling buf[0..len).  lim NULL means the
 * defaults.  On error *out is NULL and err->reason is Invalid Message
 * (General Failure when out of memory).
 */
int	ttlv_decode(const uint8_t *buf, size_t len,
	    const struct ttlv_limits *lim, struct ttlv **out,
	    struct kmip_err *err);

/*
 * Streaming: given the first TTLV_HDR_LEN bytes of a message, store in
 * *need how many more bytes complete it.  Refuses a top item that is not a
 * Structure, a length not a multiple of 8, or a message larger than
 * lim->max_len, before the caller allocates anything.
 */
int	ttlv_frame_need(const uint8_t hdr[TTLV_HDR_LEN],
	    const struct ttlv_limits *lim, size_t *need, struct kmip_err *err);

/* Debug dump, one item per line, indented; key material redacted. */
void	ttlv_dump(FILE *fp, const struct ttlv *it);
/* The same into a malloc'd string (NULL on failure). */
char	*ttlv_dump_string(const struct ttlv *it);

/*
 * Parse hex written as the specification writes it, "42 00 20 | 02 | ...":
 * pairs of hex digits; whitespace, '|' and '#' comments (to the end of the
 * line) are skipped.  For test vectors and debugging tools.  *buf is
 * malloc'd (at least 1 byte); -1 on a stray character or odd digit count.
 */
int	ttlv_hex_parse(const char *text, uint8_t **buf, size_t *len);
/* ttlv_hex_parse() of a whole file of at most 4 MiB. */
int	ttlv_hex_read_file(const char *path, uint8_t **buf, size_t *len);

/* Names for messages: "Cryptographic Length", "Integer"; NULL if unknown. */
const char *ttlv_tag_name(uint32_t tag);
const char *ttlv_type_name(enum ttlv_type t);

#endif
