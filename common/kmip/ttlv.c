/*
 * ttlv.c - the TTLV item tree: builders, finders, copy and free.
 *
 * The wire side (ttlv_encode, ttlv_decode, ttlv_frame_need) is in
 * ttlv_codec.c and the debug dump in ttlv_dump.c.  Builders use a sticky
 * error: a failed allocation marks the parent bad and returns NULL, adding
 * to a NULL parent is a no-op, and ttlv_encode() refuses a tree with a bad
 * node anywhere, so callers check once at the end.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "kmip.h"

const struct ttlv_limits ttlv_default_limits = {
	TTLV_MAX_LEN, TTLV_MAX_DEPTH, TTLV_MAX_ITEMS
};

void
kmip_err_set(struct kmip_err *err, uint32_t reason, const char *fmt, ...)
{
	va_list	ap;

	if (err == NULL)
		return;
	err->reason = reason;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}

static struct ttlv *
ttlv_alloc(uint32_t tag, enum ttlv_type type)
{
	struct ttlv	*it;

	if ((it = calloc(1, sizeof(*it))) == NULL)
		return NULL;
	it->tag = tag & 0xffffff;
	it->type = type;
	return it;
}

/* Link it under parent, or account for a failure (see file comment). */
static struct ttlv *
link_child(struct ttlv *parent, struct ttlv *it)
{
	if (parent == NULL) {
		ttlv_free(&it);
		return NULL;
	}
	if (it == NULL || parent->type != TTLV_STRUCT) {
		parent->bad = 1;
		ttlv_free(&it);
		return NULL;
	}
	if (parent->last == NULL)
		parent->child = it;
	else
		parent->last->next = it;
	parent->last = it;
	parent->nchild++;
	return it;
}

/* A child holding a copy of len bytes (NUL-terminated for Text). */
static struct ttlv *
alloc_bytes(uint32_t tag, enum ttlv_type type, const void *p, size_t len)
{
	struct ttlv	*it;

	if (len > UINT32_MAX || (p == NULL && len > 0) ||
	    (it = ttlv_alloc(tag, type)) == NULL)
		return NULL;
	if ((it->v.s.p = malloc(len + 1)) == NULL) {
		free(it);
		return NULL;
	}
	if (len > 0)
		memcpy(it->v.s.p, p, len);
	it->v.s.p[len] = '\0';
	it->v.s.len = len;
	return it;
}

struct ttlv *
ttlv_struct_new(uint32_t tag)
{
	return ttlv_alloc(tag, TTLV_STRUCT);
}

struct ttlv *
ttlv_add_struct(struct ttlv *parent, uint32_t tag)
{
	return link_child(parent, parent ? ttlv_alloc(tag, TTLV_STRUCT) : NULL);
}

/* Append a scalar item whose value the caller fills after a non-NULL return. */
static struct ttlv *
add_scalar(struct ttlv *parent, uint32_t tag, enum ttlv_type type)
{
	return link_child(parent, parent ? ttlv_alloc(tag, type) : NULL);
}

struct ttlv *
ttlv_add_int(struct ttlv *parent, uint32_t tag, int32_t v)
{
	struct ttlv	*it;

	if ((it = add_scalar(parent, tag, TTLV_INT)) != NULL)
		it->v.i = v;
	return it;
}

struct ttlv *
ttlv_add_long(struct ttlv *parent, uint32_t tag, int64_t v)
{
	struct ttlv	*it;

	if ((it = add_scalar(parent, tag, TTLV_LONG)) != NULL)
		it->v.l = v;
	return it;
}

struct ttlv *
ttlv_add_enum(struct ttlv *parent, uint32_t tag, uint32_t v)
{
	struct ttlv	*it;

	if ((it = add_scalar(parent, tag, TTLV_ENUM)) != NULL)
		it->v.e = v;
	return it;
}

struct ttlv *
ttlv_add_bool(struct ttlv *parent, uint32_t tag, int v)
{
	struct ttlv	*it;

	if ((it = add_scalar(parent, tag, TTLV_BOOL)) != NULL)
		it->v.b = v ? 1 : 0;
	return it;
}

struct ttlv *
ttlv_add_datetime(struct ttlv *parent, uint32_t tag, int64_t secs)
{
	struct ttlv	*it;

	if ((it = add_scalar(parent, tag, TTLV_DATETIME)) != NULL)
		it->v.l = secs;
	return it;
}

struct ttlv *
ttlv_add_interval(struct ttlv *parent, uint32_t tag, uint32_t secs)
{
	struct ttlv	*it;

	if ((it = add_scalar(parent, tag, TTLV_INTERVAL)) != NULL)
		it->v.e = secs;
	return it;
}

struct ttlv *
ttlv_add_datetime_ext(struct ttlv *parent, uint32_t tag, int64_t usecs)
{
	struct ttlv	*it;

	if ((it = add_scalar(parent, tag, TTLV_DATETIME_EXT)) != NULL)
		it->v.l = usecs;
	return it;
}

struct ttlv *
ttlv_add_text(struct ttlv *parent, uint32_t tag, const char *s)
{
	if (s == NULL) {
		if (parent != NULL)
			parent->bad = 1;
		return NULL;
	}
	return ttlv_add_textn(parent, tag, s, strlen(s));
}

struct ttlv *
ttlv_add_textn(struct ttlv *parent, uint32_t tag, const char *s, size_t len)
{
	return link_child(parent, parent ?
	    alloc_bytes(tag, TTLV_TEXT, s, len) : NULL);
}

struct ttlv *
ttlv_add_bytes(struct ttlv *parent, uint32_t tag, const void *p, size_t len)
{
	return link_child(parent, parent ?
	    alloc_bytes(tag, TTLV_BYTES, p, len) : NULL);
}

struct ttlv *
ttlv_add_bigint(struct ttlv *parent, uint32_t tag, const uint8_t *be,
    size_t len)
{
	struct ttlv	*it;
	size_t		 plen;
	uint8_t		 sign;

	if (parent == NULL)
		return NULL;
	if (be == NULL || len == 0 || len > UINT32_MAX - 8)
		return link_child(parent, NULL);
	plen = (len + 7) & ~(size_t)7;
	sign = (be[0] & 0x80) ? 0xff : 0x00;
	if ((it = ttlv_alloc(tag, TTLV_BIGINT)) == NULL ||
	    (it->v.s.p = malloc(plen + 1)) == NULL) {
		free(it);
		return link_child(parent, NULL);
	}
	memset(it->v.s.p, sign, plen - len);
	memcpy(it->v.s.p + (plen - len), be, len);
	it->v.s.p[plen] = '\0';
	it->v.s.len = plen;
	return link_child(parent, it);
}

struct ttlv *
ttlv_adopt(struct ttlv *parent, struct ttlv **itp)
{
	struct ttlv	*it = NULL;

	if (itp != NULL) {
		it = *itp;
		*itp = NULL;
	}
	return link_child(parent, it);
}

static int
has_bytes(enum ttlv_type t)
{
	return t == TTLV_TEXT || t == TTLV_BYTES || t == TTLV_BIGINT;
}

/* Copy one node's tag, type and value (not its children). */
static struct ttlv *
dup_node(const struct ttlv *it, uint32_t tag)
{
	struct ttlv	*c;

	if (has_bytes(it->type))
		return alloc_bytes(tag, it->type, it->v.s.p, it->v.s.len);
	if ((c = ttlv_alloc(tag, it->type)) == NULL)
		return NULL;
	c->v = it->v;
	return c;
}

/*
 * Recursion depth is the tree's depth: decoded trees are bounded by the
 * decoder's limit and built ones by the code that built them.
 */
static struct ttlv *
dup_tree(const struct ttlv *it, uint32_t tag)
{
	struct ttlv		*c, *cc;
	const struct ttlv	*k;

	if ((c = dup_node(it, tag)) == NULL)
		return NULL;
	for (k = it->child; k != NULL; k = k->next) {
		if ((cc = dup_tree(k, k->tag)) == NULL) {
			ttlv_free(&c);
			return NULL;
		}
		link_child(c, cc);
	}
	return c;
}

struct ttlv *
ttlv_dup(const struct ttlv *it, uint32_t tag)
{
	if (it == NULL)
		return NULL;
	return dup_tree(it, tag ? tag : it->tag);
}

/*
 * Iterative: a node's children are spliced in front of its next sibling
 * before the node is freed, so no depth can exhaust the stack.
 */
void
ttlv_free(struct ttlv **itp)
{
	struct ttlv	*it, *next;

	if (itp == NULL || *itp == NULL)
		return;
	it = *itp;
	*itp = NULL;
	while (it != NULL) {
		next = it->next;
		if (it->child != NULL) {
			it->last->next = next;
			next = it->child;
		}
		if (has_bytes(it->type) && it->v.s.p != NULL) {
			crypto_wipe(it->v.s.p, it->v.s.len);
			free(it->v.s.p);
		}
		free(it);
		it = next;
	}
}

struct ttlv *
ttlv_find_next(const struct ttlv *s, const struct ttlv *prev, uint32_t tag)
{
	struct ttlv	*it;

	if (s == NULL || s->type != TTLV_STRUCT)
		return NULL;
	for (it = prev ? prev->next : s->child; it != NULL; it = it->next)
		if (it->tag == tag)
			return it;
	return NULL;
}

struct ttlv *
ttlv_find(const struct ttlv *s, uint32_t tag)
{
	return ttlv_find_next(s, NULL, tag);
}

size_t
ttlv_count(const struct ttlv *s, uint32_t tag)
{
	const struct ttlv	*it = NULL;
	size_t			 n = 0;

	while ((it = ttlv_find_next(s, it, tag)) != NULL)
		n++;
	return n;
}

int
ttlv_check_type(const struct ttlv *it, enum ttlv_type t, struct kmip_err *err)
{
	const char	*name;

	if (it->type == t)
		return 0;
	name = ttlv_tag_name(it->tag);
	if (name != NULL)
		kmip_err_set(err, KMIP_REASON_INVALID_FIELD, "%s (0x%06X) is "
		    "a %s where a %s was expected", name, (unsigned)it->tag,
		    ttlv_type_name(it->type), ttlv_type_name(t));
	else
		kmip_err_set(err, KMIP_REASON_INVALID_FIELD, "item 0x%06X is "
		    "a %s where a %s was expected", (unsigned)it->tag,
		    ttlv_type_name(it->type), ttlv_type_name(t));
	return -1;
}

/* Find tag in s and check its type: the shared half of every finder. */
static int
find_typed(const struct ttlv *s, uint32_t tag, enum ttlv_type t,
    const struct ttlv **out, struct kmip_err *err)
{
	const struct ttlv	*it;

	if ((it = ttlv_find(s, tag)) == NULL)
		return 0;
	if (ttlv_check_type(it, t, err) == -1)
		return -1;
	*out = it;
	return 1;
}

int
ttlv_find_int(const struct ttlv *s, uint32_t tag, int32_t *v,
    struct kmip_err *err)
{
	const struct ttlv	*it;
	int			 r;

	if ((r = find_typed(s, tag, TTLV_INT, &it, err)) == 1)
		*v = it->v.i;
	return r;
}

int
ttlv_find_long(const struct ttlv *s, uint32_t tag, int64_t *v,
    struct kmip_err *err)
{
	const struct ttlv	*it;
	int			 r;

	if ((r = find_typed(s, tag, TTLV_LONG, &it, err)) == 1)
		*v = it->v.l;
	return r;
}

int
ttlv_find_enum(const struct ttlv *s, uint32_t tag, uint32_t *v,
    struct kmip_err *err)
{
	const struct ttlv	*it;
	int			 r;

	if ((r = find_typed(s, tag, TTLV_ENUM, &it, err)) == 1)
		*v = it->v.e;
	return r;
}

int
ttlv_find_bool(const struct ttlv *s, uint32_t tag, int *v,
    struct kmip_err *err)
{
	const struct ttlv	*it;
	int			 r;

	if ((r = find_typed(s, tag, TTLV_BOOL, &it, err)) == 1)
		*v = it->v.b;
	return r;
}

int
ttlv_find_interval(const struct ttlv *s, uint32_t tag, uint32_t *v,
    struct kmip_err *err)
{
	const struct ttlv	*it;
	int			 r;

	if ((r = find_typed(s, tag, TTLV_INTERVAL, &it, err)) == 1)
		*v = it->v.e;
	return r;
}

int
ttlv_find_datetime(const struct ttlv *s, uint32_t tag, int64_t *v,
    struct kmip_err *err)
{
	const struct ttlv	*it;

	if ((it = ttlv_find(s, tag)) == NULL)
		return 0;
	if (it->type == TTLV_DATETIME_EXT) {
		*v = it->v.l / 1000000;
		return 1;
	}
	if (ttlv_check_type(it, TTLV_DATETIME, err) == -1)
		return -1;
	*v = it->v.l;
	return 1;
}

int
ttlv_find_struct(const struct ttlv *s, uint32_t tag, const struct ttlv **out,
    struct kmip_err *err)
{
	return find_typed(s, tag, TTLV_STRUCT, out, err);
}

/* Copy a Text or Byte String value into a fresh NUL-terminated buffer. */
static int
copy_value(const struct ttlv *it, uint8_t **p, size_t *len,
    struct kmip_err *err)
{
	if ((*p = malloc(it->v.s.len + 1)) == NULL) {
		kmip_err_set(err, KMIP_REASON_GENERAL_FAILURE,
		    "out of memory reading item 0x%06X", (unsigned)it->tag);
		return -1;
	}
	memcpy(*p, it->v.s.p, it->v.s.len + 1);
	if (len != NULL)
		*len = it->v.s.len;
	return 1;
}

int
ttlv_find_text(const struct ttlv *s, uint32_t tag, char **v,
    struct kmip_err *err)
{
	const struct ttlv	*it;
	int			 r;

	if ((r = find_typed(s, tag, TTLV_TEXT, &it, err)) != 1)
		return r;
	return copy_value(it, (uint8_t **)v, NULL, err);
}

int
ttlv_find_bytes(const struct ttlv *s, uint32_t tag, uint8_t **p,
    size_t *len, struct kmip_err *err)
{
	const struct ttlv	*it;
	int			 r;

	if ((r = find_typed(s, tag, TTLV_BYTES, &it, err)) != 1)
		return r;
	return copy_value(it, p, len, err);
}
