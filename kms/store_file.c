/*
 * store_file.c - the on-disk form of kmsd's objects, and its root key.
 *
 * Each managed object is one file, STORE/<uid>.kmo, holding one record:
 *
 *	magic "KFKMSOBJ" | u16 format (1) | u16 flags |
 *	u32 object type, state, algorithm | i32 length, usage mask |
 *	u32 name type, revocation reason code |
 *	i64 initial, activation, deactivation, destroy, compromise,
 *	    compromise occurrence, last change dates |
 *	Cryptographic Parameters: u32 has, mode, padding, hashing, key role,
 *	    signature algorithm, algorithm, random IV | i32 IV length, tag
 *	    length, fixed field, invocation field, counter length, initial
 *	    counter |
 *	u16 length + bytes of: uid, owner subject, name, wrapped key |
 *	HMAC-SHA256 of everything before it (32 bytes)
 *
 * big endian throughout.  The key is wrapped with crypto_wrap() under the
 * root key with the uid as AAD (so a blob moved to another object does not
 * open); the HMAC, under a key derived from the root key, covers the whole
 * record, so a torn write, a flipped bit or an edited owner or state is
 * caught at load and the file skipped.  The decoder bounds every length
 * and refuses values kmsd would never write.
 *
 * The root key is 32 random bytes in a file of mode 0600 (created on first
 * start); a file group or others can read is refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kms.h"
#include "log.h"
#include "util.h"

#define REC_MAGIC	"KFKMSOBJ"
#define REC_MAGIC_LEN	8
#define REC_FORMAT	1
#define REC_HAS_CPARAMS	0x0001
#define REC_FLAGS_KNOWN	REC_HAS_CPARAMS

/* Writing cursor: a failed put marks err and writes nothing more. */
struct wbuf {
	uint8_t		*p;		/* buffer */
	size_t		 len;		/* bytes written */
	size_t		 cap;		/* buffer size */
	int		 err;		/* ran out of room */
};

/* Reading cursor: a short read marks err and yields zeroes. */
struct rbuf {
	const uint8_t	*p;		/* buffer */
	size_t		 len;		/* bytes in it */
	size_t		 off;		/* next byte to read */
	int		 err;		/* read past the end */
};

static void
put(struct wbuf *w, const void *p, size_t n)
{
	if (w->err || n > w->cap - w->len) {
		w->err = 1;
		return;
	}
	if (n > 0)
		memcpy(w->p + w->len, p, n);
	w->len += n;
}

static void
put16(struct wbuf *w, uint16_t v)
{
	uint8_t	b[2];

	be16_put(b, v);
	put(w, b, sizeof(b));
}

static void
put32(struct wbuf *w, uint32_t v)
{
	uint8_t	b[4];

	be32_put(b, v);
	put(w, b, sizeof(b));
}

static void
put64(struct wbuf *w, int64_t v)
{
	uint8_t	b[8];

	be64_put(b, (uint64_t)v);
	put(w, b, sizeof(b));
}

/* u16 length, then the bytes. */
static void
putvar(struct wbuf *w, const void *p, size_t n)
{
	if (n > UINT16_MAX) {
		w->err = 1;
		return;
	}
	put16(w, (uint16_t)n);
	put(w, p, n);
}

static const uint8_t *
get(struct rbuf *r, size_t n)
{
	const uint8_t	*p;

	if (r->err || n > r->len - r->off) {
		r->err = 1;
		return NULL;
	}
	p = r->p + r->off;
	r->off += n;
	return p;
}

static uint16_t
get16(struct rbuf *r)
{
	const uint8_t	*p = get(r, 2);

	return p ? be16_get(p) : 0;
}

static uint32_t
get32(struct rbuf *r)
{
	const uint8_t	*p = get(r, 4);

	return p ? be32_get(p) : 0;
}

static int64_t
get64(struct rbuf *r)
{
	const uint8_t	*p = get(r, 8);

	return p ? (int64_t)be64_get(p) : 0;
}

/* A NUL-terminated string of at most cap - 1 bytes, no NUL inside. */
static int
getstr(struct rbuf *r, char *dst, size_t cap)
{
	const uint8_t	*p;
	uint16_t	 n = get16(r);

	if (r->err || n >= cap || (p = get(r, n)) == NULL ||
	    memchr(p, '\0', n) != NULL)
		return -1;
	memcpy(dst, p, n);
	dst[n] = '\0';
	return 0;
}

/* The dates, in record order. */
static void
dates(const struct kms_rec *rec, int64_t *out[7])
{
	struct kms_rec	*m = (struct kms_rec *)rec;

	out[0] = &m->initial_date;
	out[1] = &m->activation_date;
	out[2] = &m->deactivation_date;
	out[3] = &m->destroy_date;
	out[4] = &m->compromise_date;
	out[5] = &m->compromise_occurrence_date;
	out[6] = &m->last_change_date;
}

/* The Cryptographic Parameters fields, in record order. */
static void
cp_fields(const struct kmip_cparams *cp, uint32_t *u[8], int32_t *s[6])
{
	struct kmip_cparams	*m = (struct kmip_cparams *)cp;

	u[0] = &m->has;
	u[1] = &m->mode;
	u[2] = &m->padding;
	u[3] = &m->hashing;
	u[4] = &m->key_role;
	u[5] = &m->dsa;
	u[6] = &m->alg;
	u[7] = (uint32_t *)&m->random_iv;
	s[0] = &m->iv_len;
	s[1] = &m->tag_len;
	s[2] = &m->fixed_len;
	s[3] = &m->invocation_len;
	s[4] = &m->counter_len;
	s[5] = &m->initial_counter;
}

int
rec_encode(const struct kms_rec *rec, const uint8_t mackey[KF_KEY_LEN],
    uint8_t *buf, size_t cap, size_t *len)
{
	struct wbuf	 w = { buf, 0, cap, 0 };
	int64_t		*d[7];
	uint32_t	*u[8];
	int32_t		*s[6];
	uint8_t		 mac[KF_SHA256_LEN];
	size_t		 i;

	put(&w, REC_MAGIC, REC_MAGIC_LEN);
	put16(&w, REC_FORMAT);
	put16(&w, rec->has_cparams ? REC_HAS_CPARAMS : 0);
	put32(&w, rec->object_type);
	put32(&w, rec->state);
	put32(&w, rec->alg);
	put32(&w, (uint32_t)rec->length);
	put32(&w, (uint32_t)rec->usage_mask);
	put32(&w, rec->name_type);
	put32(&w, rec->revoke_code);
	dates(rec, d);
	for (i = 0; i < 7; i++)
		put64(&w, *d[i]);
	cp_fields(&rec->cparams, u, s);
	for (i = 0; i < 8; i++)
		put32(&w, *u[i]);
	for (i = 0; i < 6; i++)
		put32(&w, (uint32_t)*s[i]);
	putvar(&w, rec->uid, strlen(rec->uid));
	putvar(&w, rec->owner, strlen(rec->owner));
	putvar(&w, rec->name, strlen(rec->name));
	putvar(&w, rec->blob, rec->bloblen);
	if (w.err || cap - w.len < sizeof(mac) ||
	    crypto_hmac_sha256(mackey, KF_KEY_LEN, buf, w.len, mac) == -1) {
		errno = EOVERFLOW;
		return -1;
	}
	put(&w, mac, sizeof(mac));
	*len = w.len;
	return 0;
}

int
rec_uid_valid(const char *s)
{
	size_t	i;

	for (i = 0; s[i] != '\0'; i++) {
		if (i >= KMS_UID_LEN)
			return 0;
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	}
	return i == KMS_UID_LEN;
}

/* The checks a decoded record must pass: values kmsd would write. */
static const char *
rec_check(const struct kms_rec *rec)
{
	int	destroyed = rec->state == KMIP_STATE_DESTROYED ||
		    rec->state == KMIP_STATE_DESTROYED_COMPROMISED;

	if (!rec_uid_valid(rec->uid))
		return "the Unique Identifier is not one kmsd makes";
	if (rec->owner[0] == '\0')
		return "the object has no owner";
	if (rec->object_type != KMIP_OBJ_SYMMETRIC_KEY ||
	    rec->alg != KMIP_ALG_AES)
		return "the object is not an AES symmetric key";
	if (rec->length != 128 && rec->length != 192 && rec->length != 256)
		return "the key length is not 128, 192 or 256 bits";
	if (rec->state < KMIP_STATE_PRE_ACTIVE ||
	    rec->state > KMIP_STATE_DESTROYED_COMPROMISED)
		return "the state is not a KMIP state";
	if (destroyed && rec->bloblen != 0)
		return "a destroyed object still holds key material";
	if (!destroyed && rec->bloblen !=
	    (size_t)rec->length / 8 + KF_WRAP_OVERHEAD)
		return "the wrapped key has the wrong length";
	if ((rec->name[0] == '\0') != (rec->name_type == 0))
		return "the Name and its type disagree";
	return NULL;
}

int
rec_decode(const uint8_t *buf, size_t len, const uint8_t mackey[KF_KEY_LEN],
    struct kms_rec *rec, char *why, size_t cap)
{
	struct rbuf	 r = { buf, len, 0, 0 };
	const uint8_t	*p;
	int64_t		*d[7];
	uint32_t	*u[8];
	int32_t		*s[6];
	uint8_t		 mac[KF_SHA256_LEN];
	uint16_t	 flags, n;
	size_t		 i;
	const char	*bad;

	memset(rec, 0, sizeof(*rec));
	if (len < REC_MAGIC_LEN + 4 + KF_SHA256_LEN ||
	    memcmp(buf, REC_MAGIC, REC_MAGIC_LEN) != 0) {
		snprintf(why, cap, "not a kmsd object file (bad magic)");
		return -1;
	}
	if (be16_get(buf + REC_MAGIC_LEN) != REC_FORMAT) {
		snprintf(why, cap, "format %u is not one this kmsd reads (1)",
		    be16_get(buf + REC_MAGIC_LEN));
		return -1;
	}
	if (crypto_hmac_sha256(mackey, KF_KEY_LEN, buf, len - KF_SHA256_LEN,
	    mac) == -1 || crypto_memeq(mac, buf + len - KF_SHA256_LEN,
	    KF_SHA256_LEN) != 0) {
		snprintf(why, cap, "integrity check failed (torn, altered, or "
		    "written under another root key)");
		return -1;
	}
	r.len = len - KF_SHA256_LEN;
	get(&r, REC_MAGIC_LEN + 2);
	flags = get16(&r);
	rec->object_type = get32(&r);
	rec->state = get32(&r);
	rec->alg = get32(&r);
	rec->length = (int32_t)get32(&r);
	rec->usage_mask = (int32_t)get32(&r);
	rec->name_type = get32(&r);
	rec->revoke_code = get32(&r);
	dates(rec, d);
	for (i = 0; i < 7; i++)
		*d[i] = get64(&r);
	cp_fields(&rec->cparams, u, s);
	for (i = 0; i < 8; i++)
		*u[i] = get32(&r);
	for (i = 0; i < 6; i++)
		*s[i] = (int32_t)get32(&r);
	rec->has_cparams = (flags & REC_HAS_CPARAMS) != 0;
	if (getstr(&r, rec->uid, sizeof(rec->uid)) == -1 ||
	    getstr(&r, rec->owner, sizeof(rec->owner)) == -1 ||
	    getstr(&r, rec->name, sizeof(rec->name)) == -1) {
		snprintf(why, cap, "a string field is too long or truncated");
		return -1;
	}
	n = get16(&r);
	if (r.err || n > sizeof(rec->blob) || (p = get(&r, n)) == NULL) {
		snprintf(why, cap, "the wrapped key is too long or truncated");
		return -1;
	}
	memcpy(rec->blob, p, n);
	rec->bloblen = n;
	if (r.err || r.off != r.len || (flags & ~REC_FLAGS_KNOWN) != 0) {
		snprintf(why, cap, "unexpected trailing bytes or flags");
		return -1;
	}
	if (rec->cparams.random_iv != 0 && rec->cparams.random_iv != 1) {
		snprintf(why, cap, "Random IV is neither true nor false");
		return -1;
	}
	if ((bad = rec_check(rec)) != NULL) {
		snprintf(why, cap, "%s", bad);
		return -1;
	}
	return 0;
}

static int
rootkey_create(const char *path, uint8_t key[KF_KEY_LEN])
{
	if (crypto_random(key, KF_KEY_LEN) == -1) {
		log_warnx("cannot draw random bytes for the root key");
		return -1;
	}
	if (util_write_file_atomic(path, key, KF_KEY_LEN, 0600) == -1) {
		log_warn("cannot create the root key %s", path);
		crypto_wipe(key, KF_KEY_LEN);
		return -1;
	}
	log_info("created the root key %s: back it up, no key in the store "
	    "can be opened without it", path);
	return 0;
}

int
rootkey_load(const char *path, int create, uint8_t key[KF_KEY_LEN])
{
	struct stat	 st;
	uint8_t		 buf[KF_KEY_LEN + 1];
	ssize_t		 n;
	size_t		 len = 0;
	int		 fd, rc = -1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		if (errno == ENOENT && create)
			return rootkey_create(path, key);
		if (errno == ENOENT)
			log_warnx("root key %s does not exist yet (kmsd creates "
			    "it on its first start)", path);
		else
			log_warn("cannot open the root key %s", path);
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		log_warn("%s", path);
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		log_warnx("root key %s is not a regular file", path);
		goto fail;
	}
	if ((st.st_mode & 077) != 0) {
		log_warnx("root key %s has mode %04o: group and others must "
		    "have no access (chmod 600 %s)", path,
		    (unsigned)(st.st_mode & 07777), path);
		goto fail;
	}
	if (st.st_uid != geteuid()) {
		log_warnx("root key %s belongs to uid %u, not to kmsd's uid %u",
		    path, (unsigned)st.st_uid, (unsigned)geteuid());
		goto fail;
	}
	while (len < sizeof(buf)) {
		n = read(fd, buf + len, sizeof(buf) - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			log_warn("cannot read the root key %s", path);
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len != KF_KEY_LEN) {
		log_warnx("root key %s holds %s%zu bytes, not %d: not a kmsd "
		    "root key", path, len > KF_KEY_LEN ? "more than " : "",
		    len > KF_KEY_LEN ? (size_t)KF_KEY_LEN : len, KF_KEY_LEN);
		goto fail;
	}
	memcpy(key, buf, KF_KEY_LEN);
	rc = 0;
 fail:
	crypto_wipe(buf, sizeof(buf));
	close(fd);
	return rc;
}
