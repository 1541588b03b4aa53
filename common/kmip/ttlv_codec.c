/*
 * ttlv_codec.c - TTLV bytes <-> item tree (KMIP 1.2 section 9.1).
 *
 * The decoder treats every byte as hostile.  Each item's header is checked
 * against the bytes that remain in its enclosing Structure before its value
 * is touched; lengths are widened to 64 bits before padding is added, so a
 * length of 2^32-1 cannot wrap; the item count and the nesting depth are
 * bounded before anything is allocated; padding must be zero; fixed-size
 * types must carry their fixed length; Booleans must be 0 or 1; Text must be
 * UTF-8 without NUL.  Whatever is wrong is reported as one sentence with the
 * offset and the tag's name, and a Result Reason of Invalid Message.
 *
 * The encoder applies the same rules to what we send, so that nothing we
 * emit would be refused by our own decoder.
 */
#include <stdlib.h>
#include <string.h>

#include "kmip.h"
#include "util.h"

#define PAD8(n)	(((uint64_t)(n) + 7) & ~(uint64_t)7)

/* Decoder state for one message. */
struct dec {
	const uint8_t			*buf;	/* whole input */
	const struct ttlv_limits	*lim;	/* bounds */
	size_t				 items;	/* items seen so far */
	struct kmip_err			*err;	/* where a failure goes */
};

/* "Cryptographic Length (0x42002A)" or "item 0x42ABCD", for messages. */
static const char *
tag_label(uint32_t tag, char *buf, size_t cap)
{
	const char	*name = ttlv_tag_name(tag);

	if (name != NULL)
		snprintf(buf, cap, "%s (0x%06X)", name, (unsigned)tag);
	else
		snprintf(buf, cap, "item 0x%06X", (unsigned)tag);
	return buf;
}

/* The fixed value length of a type, or 0 when it is variable. */
static uint32_t
fixed_len(enum ttlv_type t)
{
	switch (t) {
	case TTLV_INT:
	case TTLV_ENUM:
	case TTLV_INTERVAL:
		return 4;
	case TTLV_LONG:
	case TTLV_BOOL:
	case TTLV_DATETIME:
	case TTLV_DATETIME_EXT:
		return 8;
	default:
		return 0;
	}
}

/*
 * Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above
 * U+10FFFF, and no NUL, since the values are used as C strings.
 */
static int
utf8_valid(const uint8_t *s, size_t len)
{
	size_t		i = 0, n, k;
	uint32_t	c, min;

	while (i < len) {
		c = s[i];
		if (c == 0)
			return 0;
		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0) {
			n = 1;
			c &= 0x1f;
			min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			n = 2;
			c &= 0x0f;
			min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			n = 3;
			c &= 0x07;
			min = 0x10000;
		} else
			return 0;
		if (len - i - 1 < n)
			return 0;
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			c = (c << 6) | (s[i + k] & 0x3f);
		}
		if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
			return 0;
		i += n + 1;
	}
	return 1;
}

/* Check the length a type's value may have; 0 ok, -1 with err set. */
static int
check_len(struct dec *d, uint32_t tag, enum ttlv_type type, uint32_t len,
    size_t off)
{
	char		lbl[96];
	uint32_t	want = fixed_len(type);

	if (want != 0 && len != want) {
		kmip_err_set(d->err, KMIP_REASON_INVALID_MESSAGE,
		    "%s at offset %zu is a %s of length %u; a %s is always %u "
		    "bytes", tag_label(tag, lbl, sizeof(lbl)), off,
		    ttlv_type_name(type), len, ttlv_type_name(type), want);
		return -1;
	}
	if ((type == TTLV_BIGINT && (len == 0 || len % 8 != 0)) ||
	    (type == TTLV_STRUCT && len % 8 != 0)) {
		kmip_err_set(d->err, KMIP_REASON_INVALID_MESSAGE,
		    "%s at offset %zu is a %s of length %u, which is not a "
		    "nonzero multiple of 8", tag_label(tag, lbl, sizeof(lbl)),
		    off, ttlv_type_name(type), len);
		return -1;
	}
	return 0;
}

/* Read a primitive's value from p (len bytes, padding already checked). */
static int
read_value(struct dec *d, struct ttlv *it, const uint8_t *p, uint32_t len,
    size_t off)
{
	char		lbl[96];
	uint64_t	b;

	switch (it->type) {
	case TTLV_INT:
		it->v.i = (int32_t)be32_get(p);
		break;
	case TTLV_ENUM:
	case TTLV_INTERVAL:
		it->v.e = be32_get(p);
		break;
	case TTLV_LONG:
	case TTLV_DATETIME:
	case TTLV_DATETIME_EXT:
		it->v.l = (int64_t)be64_get(p);
		break;
	case TTLV_BOOL:
		if ((b = be64_get(p)) > 1) {
			kmip_err_set(d->err, KMIP_REASON_INVALID_MESSAGE,
			    "%s at offset %zu is a Boolean holding 0x%016llX; "
			    "only 0 and 1 are allowed",
			    tag_label(it->tag, lbl, sizeof(lbl)), off,
			    (unsigned long long)b);
			return -1;
		}
		it->v.b = (int)b;
		break;
	case TTLV_TEXT:
		if (!utf8_valid(p, len)) {
			kmip_err_set(d->err, KMIP_REASON_INVALID_MESSAGE,
			    "%s at offset %zu is a Text String that is not "
			    "valid UTF-8 or holds a NUL byte",
			    tag_label(it->tag, lbl, sizeof(lbl)), off);
			return -1;
		}
		/* FALLTHROUGH */
	case TTLV_BYTES:
	case TTLV_BIGINT:
		if ((it->v.s.p = malloc((size_t)len + 1)) == NULL) {
			kmip_err_set(d->err, KMIP_REASON_GENERAL_FAILURE,
			    "out of memory decoding %u bytes", len);
			return -1;
		}
		memcpy(it->v.s.p, p, len);
		it->v.s.p[len] = '\0';
		it->v.s.len = len;
		break;
	default:
		break;
	}
	return 0;
}

static int dec_children(struct dec *, struct ttlv *, size_t, size_t,
    unsigned);

/*
 * Decode the item at off, which must end by end.  *next gets the offset
 * after it (padding included).  depth counts enclosing Structures.
 */
static int
dec_item(struct dec *d, size_t off, size_t end, unsigned depth,
    struct ttlv **out, size_t *next)
{
	struct ttlv	*it = NULL;
	char		 lbl[96];
	uint32_t	 tag, len;
	uint64_t	 padded;
	size_t		 avail, i;
	enum ttlv_type	 type;

	*out = NULL;
	if (end - off < TTLV_HDR_LEN) {
		kmip_err_set(d->err, KMIP_REASON_INVALID_MESSAGE,
		    "truncated item header at offset %zu: %zu bytes left where "
		    "8 are needed", off, end - off);
		return -1;
	}
	tag = (uint32_t)d->buf[off] << 16 | (uint32_t)d->buf[off + 1] << 8 |
	    d->buf[off + 2];
	type = (enum ttlv_type)d->buf[off + 3];
	len = be32_get(d->buf + off + 4);
	avail = end - off - TTLV_HDR_LEN;
	padded = type == TTLV_STRUCT ? len : PAD8(len);
	tag_label(tag, lbl, sizeof(lbl));
	if ((tag >> 16) != 0x42 && (tag >> 16) != 0x54) {
		kmip_err_set(d->err, KMIP_REASON_INVALID_MESSAGE,
		    "tag 0x%06X at offset %zu is outside the KMIP (0x42xxxx) "
		    "and extension (0x54xxxx) ranges", (unsigned)tag, off);
		return -1;
	}
	if (type < TTLV_STRUCT || type > TTLV_DATETIME_EXT) {
		kmip_err_set(d->err, KMIP_REASON_INVALID_MESSAGE,
		    "%s at offset %zu has unknown item type 0x%02X", lbl, off,
		    (unsigned)type);
		return -1;
	}
	if (++d->items > d->lim->max_items) {
		kmip_err_set(d->err, KMIP_REASON_INVALID_MESSAGE,
		    "message has more than %zu items", d->lim->max_items);
		return -1;
	}
	if (padded > avail) {
		kmip_err_set(d->err, KMIP_REASON_INVALID_MESSAGE,
		    "%s at offset %zu claims %u bytes (%llu with padding) but "
		    "only %zu remain", lbl, off, len,
		    (unsigned long long)padded, avail);
		return -1;
	}
	if (check_len(d, tag, type, len, off) == -1)
		return -1;
	for (i = off + TTLV_HDR_LEN + len; i < off + TTLV_HDR_LEN + padded; i++)
		if (d->buf[i] != 0) {
			kmip_err_set(d->err, KMIP_REASON_INVALID_MESSAGE,
			    "%s at offset %zu has a nonzero padding byte at "
			    "offset %zu", lbl, off, i);
			return -1;
		}
	if ((it = calloc(1, sizeof(*it))) == NULL) {
		kmip_err_set(d->err, KMIP_REASON_GENERAL_FAILURE,
		    "out of memory decoding %s", lbl);
		return -1;
	}
	it->tag = tag;
	it->type = type;
	if (type == TTLV_STRUCT) {
		if (depth + 1 > d->lim->max_depth) {
			kmip_err_set(d->err, KMIP_REASON_INVALID_MESSAGE,
			    "%s at offset %zu nests Structures deeper than %u",
			    lbl, off, d->lim->max_depth);
			goto fail;
		}
		if (dec_children(d, it, off + TTLV_HDR_LEN,
		    off + TTLV_HDR_LEN + len, depth + 1) == -1)
			goto fail;
	} else if (read_value(d, it, d->buf + off + TTLV_HDR_LEN, len,
	    off) == -1)
		goto fail;
	*out = it;
	*next = off + TTLV_HDR_LEN + (size_t)padded;
	return 0;
 fail:
	ttlv_free(&it);
	return -1;
}

/* Decode the children of s filling exactly [off, end). */
static int
dec_children(struct dec *d, struct ttlv *s, size_t off, size_t end,
    unsigned depth)
{
	struct ttlv	*c;
	size_t		 next;

	while (off < end) {
		if (dec_item(d, off, end, depth, &c, &next) == -1)
			return -1;
		if (s->last == NULL)
			s->child = c;
		else
			s->last->next = c;
		s->last = c;
		s->nchild++;
		off = next;
	}
	return 0;
}

int
ttlv_decode(const uint8_t *buf, size_t len, const struct ttlv_limits *lim,
    struct ttlv **out, struct kmip_err *err)
{
	struct dec	d;
	struct ttlv	*it;
	size_t		 next;

	*out = NULL;
	d.buf = buf;
	d.lim = lim ? lim : &ttlv_default_limits;
	d.items = 0;
	d.err = err;
	if (buf == NULL && len != 0)
		len = 0;
	if (len > d.lim->max_len) {
		kmip_err_set(err, KMIP_REASON_INVALID_MESSAGE,
		    "message of %zu bytes exceeds the limit of %zu bytes", len,
		    d.lim->max_len);
		return -1;
	}
	if (dec_item(&d, 0, len, 0, &it, &next) == -1)
		return -1;
	if (next != len) {
		kmip_err_set(err, KMIP_REASON_INVALID_MESSAGE,
		    "%zu unexpected bytes after the item that ends at offset "
		    "%zu", len - next, next);
		ttlv_free(&it);
		return -1;
	}
	*out = it;
	return 0;
}

int
ttlv_frame_need(const uint8_t hdr[TTLV_HDR_LEN],
    const struct ttlv_limits *lim, size_t *need, struct kmip_err *err)
{
	uint32_t	tag, len;

	if (lim == NULL)
		lim = &ttlv_default_limits;
	*need = 0;
	tag = (uint32_t)hdr[0] << 16 | (uint32_t)hdr[1] << 8 | hdr[2];
	len = be32_get(hdr + 4);
	if ((tag >> 16) != 0x42 && (tag >> 16) != 0x54) {
		kmip_err_set(err, KMIP_REASON_INVALID_MESSAGE,
		    "the peer sent 0x%06X where a KMIP message tag was "
		    "expected (is it speaking KMIP?)", (unsigned)tag);
		return -1;
	}
	if (hdr[3] != TTLV_STRUCT || len % 8 != 0) {
		kmip_err_set(err, KMIP_REASON_INVALID_MESSAGE,
		    "a KMIP message is a Structure whose length is a multiple "
		    "of 8; got type 0x%02X, length %u", hdr[3], len);
		return -1;
	}
	if (lim->max_len < TTLV_HDR_LEN ||
	    (uint64_t)len > (uint64_t)lim->max_len - TTLV_HDR_LEN) {
		kmip_err_set(err, KMIP_REASON_INVALID_MESSAGE,
		    "message of %llu bytes exceeds the limit of %zu bytes",
		    (unsigned long long)len + TTLV_HDR_LEN, lim->max_len);
		return -1;
	}
	*need = len;
	return 0;
}

/*
 * Encoded size of it, or 0 when it cannot be encoded (err says why).
 * depth counts enclosing Structures, as in the decoder.
 */
static uint64_t
enc_len(const struct ttlv *it, unsigned depth, struct kmip_err *err)
{
	const struct ttlv	*c;
	uint64_t		 sum = 0, n;
	char			 lbl[96];

	tag_label(it->tag, lbl, sizeof(lbl));
	if (it->bad) {
		kmip_err_set(err, KMIP_REASON_GENERAL_FAILURE,
		    "%s could not be built (out of memory)", lbl);
		return 0;
	}
	switch (it->type) {
	case TTLV_STRUCT:
		if (depth + 1 > TTLV_MAX_DEPTH) {
			kmip_err_set(err, KMIP_REASON_GENERAL_FAILURE,
			    "%s nests Structures deeper than %u", lbl,
			    TTLV_MAX_DEPTH);
			return 0;
		}
		for (c = it->child; c != NULL; c = c->next) {
			if ((n = enc_len(c, depth + 1, err)) == 0)
				return 0;
			sum += n;
		}
		if (sum > UINT32_MAX - 7) {
			kmip_err_set(err, KMIP_REASON_GENERAL_FAILURE,
			    "%s is larger than 4 GiB", lbl);
			return 0;
		}
		return TTLV_HDR_LEN + sum;
	case TTLV_BOOL:
		if (it->v.b != 0 && it->v.b != 1) {
			kmip_err_set(err, KMIP_REASON_GENERAL_FAILURE,
			    "%s is a Boolean holding %d", lbl, it->v.b);
			return 0;
		}
		return TTLV_HDR_LEN + 8;
	case TTLV_TEXT:
		if (!utf8_valid(it->v.s.p, it->v.s.len)) {
			kmip_err_set(err, KMIP_REASON_GENERAL_FAILURE,
			    "%s is not valid UTF-8 or holds a NUL byte", lbl);
			return 0;
		}
		/* FALLTHROUGH */
	case TTLV_BYTES:
	case TTLV_BIGINT:
		if (it->v.s.len > UINT32_MAX - 7 || (it->type == TTLV_BIGINT &&
		    (it->v.s.len == 0 || it->v.s.len % 8 != 0))) {
			kmip_err_set(err, KMIP_REASON_GENERAL_FAILURE,
			    "%s has an impossible length %zu", lbl,
			    it->v.s.len);
			return 0;
		}
		return TTLV_HDR_LEN + PAD8(it->v.s.len);
	default:
		if (fixed_len(it->type) == 0) {
			kmip_err_set(err, KMIP_REASON_GENERAL_FAILURE,
			    "%s has unknown type 0x%02X", lbl,
			    (unsigned)it->type);
			return 0;
		}
		return TTLV_HDR_LEN + 8;
	}
}

/* Write it at p (enc_len already validated it); returns bytes written. */
static size_t
enc_item(const struct ttlv *it, uint8_t *p)
{
	const struct ttlv	*c;
	size_t			 n = TTLV_HDR_LEN, len;

	p[0] = (uint8_t)(it->tag >> 16);
	p[1] = (uint8_t)(it->tag >> 8);
	p[2] = (uint8_t)it->tag;
	p[3] = (uint8_t)it->type;
	switch (it->type) {
	case TTLV_STRUCT:
		for (c = it->child; c != NULL; c = c->next)
			n += enc_item(c, p + n);
		be32_put(p + 4, (uint32_t)(n - TTLV_HDR_LEN));
		return n;
	case TTLV_INT:
		be32_put(p + 4, 4);
		be32_put(p + 8, (uint32_t)it->v.i);
		memset(p + 12, 0, 4);
		return n + 8;
	case TTLV_ENUM:
	case TTLV_INTERVAL:
		be32_put(p + 4, 4);
		be32_put(p + 8, it->v.e);
		memset(p + 12, 0, 4);
		return n + 8;
	case TTLV_BOOL:
		be32_put(p + 4, 8);
		be64_put(p + 8, (uint64_t)it->v.b);
		return n + 8;
	case TTLV_TEXT:
	case TTLV_BYTES:
	case TTLV_BIGINT:
		len = it->v.s.len;
		be32_put(p + 4, (uint32_t)len);
		if (len > 0)
			memcpy(p + 8, it->v.s.p, len);
		memset(p + 8 + len, 0, PAD8(len) - len);
		return n + PAD8(len);
	default:	/* Long Integer, Date-Time, Date-Time Extended */
		be32_put(p + 4, 8);
		be64_put(p + 8, (uint64_t)it->v.l);
		return n + 8;
	}
}

size_t
ttlv_encoded_len(const struct ttlv *it)
{
	uint64_t	n;

	if (it == NULL || (n = enc_len(it, 0, NULL)) > SIZE_MAX)
		return 0;
	return (size_t)n;
}

int
ttlv_encode(const struct ttlv *it, uint8_t **buf, size_t *len,
    struct kmip_err *err)
{
	uint64_t	n;

	*buf = NULL;
	*len = 0;
	if (it == NULL) {
		kmip_err_set(err, KMIP_REASON_GENERAL_FAILURE,
		    "nothing to encode (out of memory building it?)");
		return -1;
	}
	if ((n = enc_len(it, 0, err)) == 0)
		return -1;
	if ((*buf = malloc((size_t)n)) == NULL) {
		kmip_err_set(err, KMIP_REASON_GENERAL_FAILURE,
		    "out of memory encoding %llu bytes", (unsigned long long)n);
		return -1;
	}
	*len = enc_item(it, *buf);
	return 0;
}
