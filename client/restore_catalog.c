/*
 * restore_catalog.c - reading a backup's catalog from CommServe for a
 * restore: CATALOG_GET pages of up to CLIENT_CATALOG_BATCH entries until
 * the last one.
 *
 * The catalog comes from a database and is checked like any input: indexes
 * strictly increasing, paths safe (stream_path_valid), types, modes and
 * times in range, a SHA-256 for every regular file, a target for every
 * symlink, and records that do not overlap in the stream.  The stream
 * itself (authenticated by the DEK) must later agree with each entry.
 */
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "log.h"

#define CATALOG_MAX	100000000ULL	/* entries a restore accepts */

struct catalog {
	struct job		*job;	/* errors */
	uint64_t		 backup; /* the backup job, for sentences */
	struct restore_entry	*v;	/* entries so far */
	size_t			 n;	/* entries used */
	size_t			 cap;	/* entries allocated */
	uint64_t		 after;	/* index of the last entry */
	uint64_t		 end;	/* stream offset past the last record */
};

void
catalog_free(struct restore_entry **vp, size_t n)
{
	size_t	 i;

	if (*vp == NULL)
		return;
	for (i = 0; i < n; i++) {
		free((*vp)[i].path);
		free((*vp)[i].link);
	}
	free(*vp);
	*vp = NULL;
}

static int
catalog_bad(struct catalog *cat, const Kf__CatalogEntry *ce, const char *why)
{
	return job_fail(cat->job, KF__KF_ERR__ERR_INTEGRITY, "catalog entry "
	    "%llu of backup job %llu is invalid: %s",
	    (unsigned long long)ce->index, (unsigned long long)cat->backup,
	    why);
}

/* A copy of bytes as a C string, if it is 1..KF_PATH_MAX bytes, no NUL. */
static char *
catalog_string(const ProtobufCBinaryData *b)
{
	char	*s;

	if (b->len == 0 || b->len > KF_PATH_MAX ||
	    memchr(b->data, '\0', b->len) != NULL)
		return NULL;
	if ((s = malloc(b->len + 1)) == NULL)
		return NULL;
	memcpy(s, b->data, b->len);
	s[b->len] = '\0';
	return s;
}

static int
catalog_check(struct catalog *cat, const Kf__CatalogEntry *ce)
{
	if (ce->index <= cat->after)
		return catalog_bad(cat, ce, "indexes are out of order");
	if (ce->type != KF__FILE_TYPE__FT_REGULAR &&
	    ce->type != KF__FILE_TYPE__FT_DIRECTORY &&
	    ce->type != KF__FILE_TYPE__FT_SYMLINK)
		return catalog_bad(cat, ce, "unknown file type");
	if (ce->mode > 07777 || ce->mtime_nsec >= 1000000000u)
		return catalog_bad(cat, ce, "mode or mtime out of range");
	if (ce->type == KF__FILE_TYPE__FT_REGULAR &&
	    (!ce->has_sha256 || ce->sha256.len != KF_SHA256_LEN))
		return catalog_bad(cat, ce, "a regular file without SHA-256");
	if (ce->type != KF__FILE_TYPE__FT_REGULAR && ce->size != 0)
		return catalog_bad(cat, ce, "only regular files have data");
	if ((ce->type == KF__FILE_TYPE__FT_SYMLINK) != ce->has_link_target)
		return catalog_bad(cat, ce, "a link target belongs to symlinks "
		    "only, and every symlink has one");
	if (ce->size > UINT64_MAX / 2 || ce->offset > UINT64_MAX / 4)
		return catalog_bad(cat, ce, "size or offset out of range");
	if (ce->offset < cat->end)
		return catalog_bad(cat, ce, "it overlaps the previous record");
	return 0;
}

static int
catalog_add(struct catalog *cat, const Kf__CatalogEntry *ce)
{
	struct restore_entry	*e, *v;
	size_t			 cap;

	if (catalog_check(cat, ce) == -1)
		return -1;
	if (cat->n == cat->cap) {
		if (cat->n >= CATALOG_MAX)
			return catalog_bad(cat, ce, "too many entries");
		cap = cat->cap ? cat->cap * 2 : 1024;
		if ((v = reallocarray(cat->v, cap, sizeof(*v))) == NULL)
			return job_fail(cat->job, KF__KF_ERR__ERR_INTERNAL,
			    "out of memory reading the catalog");
		cat->v = v;
		cat->cap = cap;
	}
	e = &cat->v[cat->n];
	memset(e, 0, sizeof(*e));
	if ((e->path = catalog_string(&ce->path)) == NULL ||
	    stream_path_valid(e->path, ce->path.len) != 0) {
		free(e->path);
		return catalog_bad(cat, ce, "unsafe path");
	}
	if (ce->has_link_target &&
	    (e->link = catalog_string(&ce->link_target)) == NULL) {
		free(e->path);
		return catalog_bad(cat, ce, "bad symlink target");
	}
	e->index = ce->index;
	e->type = ce->type == KF__FILE_TYPE__FT_REGULAR ? STREAM_REGULAR :
	    ce->type == KF__FILE_TYPE__FT_DIRECTORY ? STREAM_DIRECTORY :
	    STREAM_SYMLINK;
	e->mode = ce->mode;
	e->mtime_sec = ce->mtime_sec;
	e->mtime_nsec = ce->mtime_nsec;
	e->size = ce->size;
	e->offset = ce->offset;
	e->end = ce->offset + STREAM_HDR_FIXED + ce->path.len +
	    (e->link != NULL ? ce->link_target.len : 0) + ce->size;
	if (e->type == STREAM_REGULAR)
		memcpy(e->sha256, ce->sha256.data, KF_SHA256_LEN);
	cat->after = ce->index;
	cat->end = e->end;
	cat->n++;
	return 0;
}

int
catalog_fetch(struct job *j, const Kf__RestoreOrder *o,
    struct restore_entry **vp, size_t *np)
{
	Kf__CatalogGet		 g = KF__CATALOG_GET__INIT;
	const Kf__CatalogPage	*page;
	struct catalog		 cat;
	struct wire_msg		 m;
	size_t			 i;
	int			 last = 0;

	memset(&cat, 0, sizeof(cat));
	cat.job = j;
	cat.backup = o->backup_job;
	g.job = o->backup_job;
	g.token.data = j->token;
	g.token.len = KF_TOKEN_LEN;
	g.restore_job = j->id;
	g.has_limit = 1;
	g.limit = CLIENT_CATALOG_BATCH;
	while (!last) {
		g.after_index = cat.after;
		if (job_call(j, j->cs, KF__MSG_TYPE__CATALOG_GET, &g.base,
		    KF__MSG_TYPE__CATALOG_PAGE, CLIENT_CS_TIMEOUT_MS, &m,
		    "CommServe (CATALOG_GET)") == -1)
			goto fail;
		page = (const Kf__CatalogPage *)m.body;
		last = page->last;
		if (page->n_entries > CLIENT_CATALOG_BATCH ||
		    (page->n_entries == 0 && !last)) {
			job_fail(j, KF__KF_ERR__ERR_MALFORMED, "CommServe sent "
			    "a catalog page of %zu entries (limit %d) that is "
			    "%sthe last", page->n_entries,
			    CLIENT_CATALOG_BATCH, last ? "" : "not ");
			goto fail;
		}
		for (i = 0; i < page->n_entries; i++)
			if (catalog_add(&cat, page->entries[i]) == -1)
				goto fail;
		job_msg_clear(&m);
	}
	*vp = cat.v;
	*np = cat.n;
	return 0;
fail:
	job_msg_clear(&m);
	catalog_free(&cat.v, cat.n);
	return -1;
}
