/*
 * store.c - kmsd's durable object store.
 *
 * Every managed object lives in memory (a table in creation order with a
 * hash index by uid) and on disk as one file, STORE/<uid>.kmo, in the
 * record format of store_file.c.  A change is made on a copy, written to
 * a temporary file, fsynced, renamed over the object's file and the
 * directory fsynced (util_write_file_atomic), and only then does the copy
 * become the object and the caller answer the client: a kill -9 at any
 * moment leaves every acknowledged change on disk and every file either
 * its old or its new self.  Leftover temporary files are removed at start.
 *
 * Locking: one read-write lock guards the table and every committed
 * record, and is never held across disk I/O; each object has a mutex that
 * serialises its changes (held across the write), so changes to different
 * objects, and all reads, run in parallel.  A new object is in the table
 * but invisible while its file is written, which reserves its uid and Name
 * and keeps others from seeing a key that might not survive a crash.
 * Objects are never removed (destroyed ones keep their metadata), so a
 * pointer to one stays valid.
 *
 * The directory is locked (flock on STORE/.lock) so two kmsd cannot share
 * it, and STORE/store.id holds an HMAC under the root key so that starting
 * with another root key fails loudly instead of skipping every object.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kms.h"
#include "log.h"
#include "util.h"

#define STORE_ID_FILE	"store.id"
#define STORE_LOCK_FILE	".lock"
#define STORE_EXT	".kmo"
#define STORE_ID_LABEL	"keyflow kmsd store v1"
#define MAC_INFO	"keyflow kmsd object record v1"
#define BUCKETS_MIN	256

/* One object in memory. */
struct obj {
	struct kms_rec	 rec;		/* the committed record */
	pthread_mutex_t	 wlock;		/* serialises changes to this object */
	int		 visible;	/* 0 while its creation is being written */
	struct obj	*hnext;		/* next in its hash bucket */
};

struct store {
	char		*dir;		/* the store directory */
	int		 lockfd;	/* flock'd STORE/.lock */
	uint8_t		 root[KF_KEY_LEN]; /* root key: wraps key material */
	uint8_t		 mackey[KF_KEY_LEN]; /* record HMAC key, from root */
	pthread_rwlock_t lock;		/* guards the table and every rec */
	struct obj	**objs;		/* every object, in creation order */
	size_t		 nobjs;		/* entries in objs */
	size_t		 cap;		/* allocated entries in objs */
	struct obj	**buckets;	/* hash index by uid */
	size_t		 nbuckets;	/* a power of two */
};

static uint64_t
hash(const char *s)
{
	uint64_t	h = 14695981039346656037ULL;

	while (*s != '\0')
		h = (h ^ (uint8_t)*s++) * 1099511628211ULL;
	return h;
}

/* The object named uid, visible or not; called with s->lock held. */
static struct obj *
lookup(struct store *s, const char *uid)
{
	struct obj	*o;

	for (o = s->buckets[hash(uid) & (s->nbuckets - 1)]; o != NULL;
	    o = o->hnext)
		if (strcmp(o->rec.uid, uid) == 0)
			return o;
	return NULL;
}

static int
rehash(struct store *s, size_t n)
{
	struct obj	**b, *o;
	size_t		  i, h;

	if ((b = calloc(n, sizeof(*b))) == NULL)
		return -1;
	for (i = 0; i < s->nobjs; i++) {
		o = s->objs[i];
		h = hash(o->rec.uid) & (n - 1);
		o->hnext = b[h];
		b[h] = o;
	}
	free(s->buckets);
	s->buckets = b;
	s->nbuckets = n;
	return 0;
}

/* Append o to the table; s->lock held for writing. */
static int
insert(struct store *s, struct obj *o)
{
	struct obj	**n;
	size_t		  h;

	if (s->nobjs == s->cap) {
		if ((n = reallocarray(s->objs, s->cap ? s->cap * 2 : 256,
		    sizeof(*n))) == NULL)
			return -1;
		s->objs = n;
		s->cap = s->cap ? s->cap * 2 : 256;
	}
	if (s->nobjs + 1 > s->nbuckets * 2 &&
	    rehash(s, s->nbuckets * 2) == -1)
		return -1;
	s->objs[s->nobjs++] = o;
	h = hash(o->rec.uid) & (s->nbuckets - 1);
	o->hnext = s->buckets[h];
	s->buckets[h] = o;
	return 0;
}

/* Take o out again (a creation that failed); s->lock held for writing. */
static void
unlink_obj(struct store *s, struct obj *o)
{
	struct obj	**pp;
	size_t		  i;

	for (pp = &s->buckets[hash(o->rec.uid) & (s->nbuckets - 1)];
	    *pp != NULL; pp = &(*pp)->hnext)
		if (*pp == o) {
			*pp = o->hnext;
			break;
		}
	for (i = s->nobjs; i-- > 0;)
		if (s->objs[i] == o) {
			memmove(&s->objs[i], &s->objs[i + 1],
			    (s->nobjs - i - 1) * sizeof(*s->objs));
			s->nobjs--;
			break;
		}
}

static void
obj_free(struct obj *o)
{
	if (o == NULL)
		return;
	pthread_mutex_destroy(&o->wlock);
	crypto_wipe(&o->rec, sizeof(o->rec));
	free(o);
}

static struct obj *
obj_new(const struct kms_rec *rec)
{
	struct obj	*o;

	if ((o = calloc(1, sizeof(*o))) == NULL)
		return NULL;
	o->rec = *rec;
	pthread_mutex_init(&o->wlock, NULL);
	return o;
}

static int
path_of(const struct store *s, const char *uid, char *buf, size_t cap)
{
	int	n = snprintf(buf, cap, "%s/%s%s", s->dir, uid, STORE_EXT);

	if (n < 0 || (size_t)n >= cap) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* Write rec durably as its object's file. */
static int
persist(struct store *s, const struct kms_rec *rec)
{
	uint8_t	buf[STORE_REC_MAX];
	char	path[PATH_MAX];
	size_t	len;
	int	rc = -1, saved;

	if (path_of(s, rec->uid, path, sizeof(path)) == -1 ||
	    rec_encode(rec, s->mackey, buf, sizeof(buf), &len) == -1)
		goto fail;
	if (util_write_file_atomic(path, buf, len, 0600) == -1) {
		saved = errno;
		log_warn("cannot write object %s", rec->uid);
		errno = saved;
		goto fail;
	}
	rc = 0;
 fail:
	crypto_wipe(buf, sizeof(buf));
	return rc;
}

/* Read and check one object file; -1 (logged) when it is unusable. */
static int
load_one(struct store *s, int dfd, const char *fname, struct kms_rec *rec)
{
	uint8_t		 buf[STORE_REC_MAX + 1], key[KMS_KEY_MAX];
	char		 why[160], uid[KMS_UID_MAX];
	struct stat	 st;
	ssize_t		 n;
	size_t		 len = 0, ulen = strlen(fname) - strlen(STORE_EXT);
	int		 fd, rc = -1;

	if (ulen >= sizeof(uid)) {
		log_warnx("store: skipping %s: not a kmsd object name", fname);
		return -1;
	}
	memcpy(uid, fname, ulen);
	uid[ulen] = '\0';
	if (!rec_uid_valid(uid)) {
		log_warnx("store: skipping %s: not a kmsd object name", fname);
		return -1;
	}
	if ((fd = openat(dfd, fname, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) ==
	    -1) {
		log_warn("store: skipping %s", fname);
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		log_warnx("store: skipping %s: not a regular file", fname);
		goto fail;
	}
	while (len < sizeof(buf)) {
		n = read(fd, buf + len, sizeof(buf) - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	if (len > STORE_REC_MAX) {
		log_warnx("store: skipping %s: larger than any object record",
		    fname);
		goto fail;
	}
	if (rec_decode(buf, len, s->mackey, rec, why, sizeof(why)) == -1) {
		log_warnx("store: skipping corrupt object file %s: %s", fname,
		    why);
		goto fail;
	}
	if (strcmp(rec->uid, uid) != 0) {
		log_warnx("store: skipping %s: it holds object %s", fname,
		    rec->uid);
		goto fail;
	}
	if (rec->bloblen > 0 && crypto_unwrap(s->root, rec->uid,
	    strlen(rec->uid), rec->blob, rec->bloblen, key) == -1) {
		log_warnx("store: skipping corrupt object file %s: its key "
		    "does not unwrap", fname);
		goto fail;
	}
	rc = 0;
 fail:
	crypto_wipe(key, sizeof(key));
	crypto_wipe(buf, sizeof(buf));
	close(fd);
	return rc;
}

static int
rec_order(const void *a, const void *b)
{
	const struct kms_rec	*x = *(const struct kms_rec *const *)a;
	const struct kms_rec	*y = *(const struct kms_rec *const *)b;

	if (x->initial_date != y->initial_date)
		return x->initial_date < y->initial_date ? -1 : 1;
	return strcmp(x->uid, y->uid);
}

/* Load every object file, remove leftovers of interrupted writes. */
static int
load_all(struct store *s)
{
	struct kms_rec	**recs = NULL, **nr, *rec = NULL;
	struct obj	 *o;
	struct dirent	 *e;
	DIR		 *d;
	size_t		  n = 0, cap = 0, bad = 0, i, len;
	int		  rc = -1;

	if ((d = opendir(s->dir)) == NULL) {
		log_warn("cannot read the store %s", s->dir);
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		len = strlen(e->d_name);
		if (strstr(e->d_name, ".tmp.") != NULL) {
			if (unlinkat(dirfd(d), e->d_name, 0) == 0)
				log_info("store: removed %s, left by an "
				    "interrupted write", e->d_name);
			continue;
		}
		if (len <= strlen(STORE_EXT) || strcmp(e->d_name + len -
		    strlen(STORE_EXT), STORE_EXT) != 0)
			continue;
		if (rec == NULL && (rec = malloc(sizeof(*rec))) == NULL)
			goto fail;
		if (load_one(s, dirfd(d), e->d_name, rec) == -1) {
			bad++;
			continue;
		}
		if (n == cap) {
			if ((nr = reallocarray(recs, cap ? cap * 2 : 64,
			    sizeof(*nr))) == NULL)
				goto fail;
			recs = nr;
			cap = cap ? cap * 2 : 64;
		}
		recs[n++] = rec;
		rec = NULL;
	}
	if (n > 0)
		qsort(recs, n, sizeof(*recs), rec_order);
	for (i = 0; i < n; i++) {
		if ((o = obj_new(recs[i])) == NULL || insert(s, o) == -1) {
			obj_free(o);
			goto fail;
		}
		o->visible = 1;
	}
	log_info("store %s: %zu objects loaded, %zu unreadable file%s "
	    "skipped", s->dir, n, bad, bad == 1 ? "" : "s");
	rc = 0;
 fail:
	if (rc == -1)
		log_warn("store: cannot load %s", s->dir);
	for (i = 0; i < n; i++) {
		crypto_wipe(recs[i], sizeof(*recs[i]));
		free(recs[i]);
	}
	free(recs);
	free(rec);
	closedir(d);
	return rc;
}

/* Check (or create) STORE/store.id: the root key must be this store's. */
static int
check_id(struct store *s)
{
	uint8_t	 mac[KF_SHA256_LEN], *buf = NULL;
	char	 path[PATH_MAX];
	size_t	 len;
	int	 rc = -1;

	if (snprintf(path, sizeof(path), "%s/%s", s->dir, STORE_ID_FILE) >=
	    (int)sizeof(path) || crypto_hmac_sha256(s->mackey, KF_KEY_LEN,
	    STORE_ID_LABEL, strlen(STORE_ID_LABEL), mac) == -1)
		return -1;
	if (util_read_file(path, 64, &buf, &len) == -1) {
		if (errno != ENOENT) {
			log_warn("cannot read %s", path);
			return -1;
		}
		if (util_write_file_atomic(path, mac, sizeof(mac), 0600) ==
		    -1) {
			log_warn("cannot write %s", path);
			return -1;
		}
		return 0;
	}
	if (len != sizeof(mac) || crypto_memeq(buf, mac, sizeof(mac)) != 0)
		log_warnx("the root key is not the one store %s was written "
		    "with (%s does not match): give the right --root-key",
		    s->dir, path);
	else
		rc = 0;
	free(buf);
	return rc;
}

static int
lock_dir(struct store *s)
{
	char	path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/%s", s->dir, STORE_LOCK_FILE) >=
	    (int)sizeof(path))
		return -1;
	if ((s->lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW, 0600)) == -1) {
		log_warn("cannot open %s", path);
		return -1;
	}
	if (flock(s->lockfd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK)
			log_warnx("store %s is in use by another kmsd", s->dir);
		else
			log_warn("cannot lock %s", path);
		return -1;
	}
	return 0;
}

struct store *
store_open(const char *dir, const char *root_key)
{
	struct store	*s;
	struct stat	 st;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->lockfd = -1;
	pthread_rwlock_init(&s->lock, NULL);
	(void)mlock(s->root, sizeof(s->root) + sizeof(s->mackey));
	if ((s->dir = strdup(dir)) == NULL || rehash(s, BUCKETS_MIN) == -1)
		goto fail;
	if (util_mkdir_p(dir, 0700) == -1 || stat(dir, &st) == -1) {
		log_warn("cannot create the store %s", dir);
		goto fail;
	}
	if (!S_ISDIR(st.st_mode) || (st.st_mode & 022) != 0) {
		log_warnx("store %s must be a directory that only its owner "
		    "can write to", dir);
		goto fail;
	}
	if (lock_dir(s) == -1 || rootkey_load(root_key, 1, s->root) == -1)
		goto fail;
	if (crypto_hkdf(s->root, sizeof(s->root), NULL, 0, MAC_INFO,
	    s->mackey, sizeof(s->mackey)) == -1 || check_id(s) == -1 ||
	    load_all(s) == -1)
		goto fail;
	return s;
 fail:
	store_free(&s);
	return NULL;
}

void
store_free(struct store **sp)
{
	struct store	*s;
	size_t		 i;

	if (sp == NULL || (s = *sp) == NULL)
		return;
	*sp = NULL;
	for (i = 0; i < s->nobjs; i++)
		obj_free(s->objs[i]);
	free(s->objs);
	free(s->buckets);
	free(s->dir);
	if (s->lockfd != -1)
		close(s->lockfd);
	pthread_rwlock_destroy(&s->lock);
	crypto_wipe(s->root, sizeof(s->root));
	crypto_wipe(s->mackey, sizeof(s->mackey));
	free(s);
}

size_t
store_count(struct store *s)
{
	size_t	n;

	pthread_rwlock_rdlock(&s->lock);
	n = s->nobjs;
	pthread_rwlock_unlock(&s->lock);
	return n;
}

int
store_get(struct store *s, const char *uid, struct kms_rec *rec)
{
	struct obj	*o;
	int		 rc = STORE_NOTFOUND;

	pthread_rwlock_rdlock(&s->lock);
	if ((o = lookup(s, uid)) != NULL && o->visible) {
		*rec = o->rec;
		rc = STORE_OK;
	}
	pthread_rwlock_unlock(&s->lock);
	return rc;
}

static int
live(const struct kms_rec *rec)
{
	return rec->state != KMIP_STATE_DESTROYED &&
	    rec->state != KMIP_STATE_DESTROYED_COMPROMISED;
}

/* 1 when owner already has a live object named name; s->lock held. */
static int
name_taken(struct store *s, const char *owner, const char *name)
{
	size_t	i;

	if (name[0] == '\0')
		return 0;
	for (i = 0; i < s->nobjs; i++)
		if (live(&s->objs[i]->rec) &&
		    strcmp(s->objs[i]->rec.name, name) == 0 &&
		    strcmp(s->objs[i]->rec.owner, owner) == 0)
			return 1;
	return 0;
}

/* A fresh uid in UUID version 4 form. */
static int
new_uid(char uid[KMS_UID_MAX])
{
	uint8_t	r[16];
	char	h[33];

	if (crypto_random(r, sizeof(r)) == -1)
		return -1;
	r[6] = (r[6] & 0x0f) | 0x40;
	r[8] = (r[8] & 0x3f) | 0x80;
	crypto_hex(r, sizeof(r), h);
	snprintf(uid, KMS_UID_MAX, "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8,
	    h + 12, h + 16, h + 20);
	return 0;
}

int
store_create(struct store *s, struct kms_rec *rec, const uint8_t *key,
    size_t keylen)
{
	struct obj	*o = NULL;
	int		 rc = STORE_ERR, tries, saved;

	if (keylen > KMS_KEY_MAX) {
		errno = EINVAL;
		return STORE_ERR;
	}
	if ((o = obj_new(rec)) == NULL)
		return STORE_ERR;
	pthread_rwlock_wrlock(&s->lock);
	if (name_taken(s, rec->owner, rec->name)) {
		pthread_rwlock_unlock(&s->lock);
		obj_free(o);
		return STORE_EXISTS;
	}
	for (tries = 0; tries < 8; tries++)
		if (new_uid(o->rec.uid) == -1 || lookup(s, o->rec.uid) == NULL)
			break;
	if (!rec_uid_valid(o->rec.uid) || lookup(s, o->rec.uid) != NULL ||
	    insert(s, o) == -1) {
		pthread_rwlock_unlock(&s->lock);
		obj_free(o);
		errno = ENOMEM;
		return STORE_ERR;
	}
	pthread_rwlock_unlock(&s->lock);

	/* Invisible and reserved: wrap and write without the lock. */
	if (crypto_wrap(s->root, o->rec.uid, strlen(o->rec.uid), key, keylen,
	    o->rec.blob) == 0) {
		o->rec.bloblen = keylen + KF_WRAP_OVERHEAD;
		if (persist(s, &o->rec) == 0)
			rc = STORE_OK;
	}
	saved = errno;
	pthread_rwlock_wrlock(&s->lock);
	if (rc == STORE_OK) {
		o->visible = 1;
		*rec = o->rec;
	} else
		unlink_obj(s, o);
	pthread_rwlock_unlock(&s->lock);
	if (rc != STORE_OK)
		obj_free(o);
	errno = saved;
	return rc;
}

int
store_change(struct store *s, const char *uid, store_change_fn fn,
    void *arg, struct kms_rec *out)
{
	struct kms_rec	*copy;
	struct obj	*o;
	int		 rc;

	pthread_rwlock_rdlock(&s->lock);
	o = lookup(s, uid);
	if (o != NULL && !o->visible)
		o = NULL;
	pthread_rwlock_unlock(&s->lock);
	if (o == NULL)
		return STORE_NOTFOUND;
	if ((copy = malloc(sizeof(*copy))) == NULL)
		return STORE_ERR;

	pthread_mutex_lock(&o->wlock);
	pthread_rwlock_rdlock(&s->lock);
	*copy = o->rec;
	pthread_rwlock_unlock(&s->lock);
	if (fn(copy, arg) == -1)
		rc = STORE_REFUSED;
	else if (persist(s, copy) == -1)
		rc = STORE_ERR;
	else {
		pthread_rwlock_wrlock(&s->lock);
		o->rec = *copy;
		pthread_rwlock_unlock(&s->lock);
		rc = STORE_OK;
	}
	pthread_mutex_unlock(&o->wlock);
	if (out != NULL)
		*out = *copy;
	crypto_wipe(copy, sizeof(*copy));
	free(copy);
	return rc;
}

int
store_unwrap(struct store *s, const struct kms_rec *rec, uint8_t *key,
    size_t *keylen)
{
	if (rec->bloblen <= KF_WRAP_OVERHEAD ||
	    rec->bloblen > KMS_KEY_MAX + KF_WRAP_OVERHEAD)
		return -1;
	if (crypto_unwrap(s->root, rec->uid, strlen(rec->uid), rec->blob,
	    rec->bloblen, key) == -1)
		return -1;
	*keylen = rec->bloblen - KF_WRAP_OVERHEAD;
	return 0;
}

int
store_find(struct store *s, store_match_fn match, void *arg,
    char (**uids)[KMS_UID_MAX], size_t *n, size_t max)
{
	char	(*u)[KMS_UID_MAX] = NULL, (*nu)[KMS_UID_MAX];
	size_t	 i, cap = 0;
	int	 rc = 0;

	*uids = NULL;
	*n = 0;
	pthread_rwlock_rdlock(&s->lock);
	for (i = 0; i < s->nobjs && *n < max; i++) {
		if (!s->objs[i]->visible || !match(&s->objs[i]->rec, arg))
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			if ((nu = reallocarray(u, cap, sizeof(*u))) == NULL) {
				rc = -1;
				break;
			}
			u = nu;
		}
		memcpy(u[(*n)++], s->objs[i]->rec.uid, KMS_UID_MAX);
	}
	pthread_rwlock_unlock(&s->lock);
	if (rc == -1) {
		free(u);
		*n = 0;
		return -1;
	}
	*uids = u;
	return 0;
}
