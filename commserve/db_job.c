/*
 * db_job.c - jobs and their catalogs in the CommServe database.
 *
 * A job row is created running and ends exactly once: a backup by
 * db_job_commit_backup(), which in one transaction COPYs the whole catalog
 * into job_files and marks the job completed with its container's counts
 * and digest, and anything else by db_job_finish().  Both change only a
 * job that is still running, so a late or repeated report cannot alter a
 * job that has ended, and a committed backup never changes.  The job's DEK
 * is stored only wrapped under its key set's KEK, and only once.
 *
 * Catalog paths and symlink targets are bytes (bytea), not text: file names
 * need not be UTF-8.  A job's error sentence may come from another daemon,
 * so it is made valid UTF-8 (db_text_clean) before it is stored.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "db_internal.h"

/* The most catalog entries one db_catalog_page() call returns. */
#define CATALOG_PAGE_MAX	10000
/* COPY is sent in pieces of about this size. */
#define COPY_BUF		(256 * 1024)
/* Longest COPY line: two hex paths, a hex hash and the numbers. */
#define COPY_LINE_MAX		(4 * DB_PATH_MAX + 2 * 32 + 256)

#define JOB_COLS \
	"SELECT j.id, j.type, j.state, j.client_id, c.name, j.pool_id, " \
	"p.name, coalesce(j.copy_id, 0), coalesce(j.key_set_id, 0), " \
	"coalesce(j.backup_job, 0), j.dek_wrapped, j.files, j.bytes, " \
	"j.chunks, j.stream_bytes, j.digest, j.chunk_size, m.name, " \
	DB_US("j.started_at") ", " DB_US("j.ended_at") ", j.error_code, " \
	"j.error, j.streams FROM jobs j " \
	"JOIN clients c ON c.id = j.client_id " \
	"JOIN storage_pools p ON p.id = j.pool_id " \
	"JOIN mediaagents m ON m.id = p.mediaagent_id "
#define JOB_NCOLS	23

static const char sql_job_get[] = JOB_COLS "WHERE j.id = $1";
static const char sql_job_list[] = JOB_COLS "ORDER BY j.id DESC LIMIT $1";
static const char sql_job_create[] =
    "INSERT INTO jobs (type, client_id, pool_id, copy_id, key_set_id, "
    "backup_job, dek_wrapped, chunk_size, streams) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) "
    "RETURNING id, " DB_US("started_at");
/* A backup takes its id first: the wrapped DEK's AAD binds it. */
static const char sql_job_next_id[] =
    "SELECT nextval(pg_get_serial_sequence('jobs', 'id'))";
static const char sql_job_create_id[] =
    "INSERT INTO jobs (id, type, client_id, pool_id, copy_id, key_set_id, "
    "backup_job, dek_wrapped, chunk_size, streams) "
    "VALUES ($10, $1, $2, $3, $4, $5, $6, $7, $8, $9) "
    "RETURNING id, " DB_US("started_at");
static const char sql_job_state[] =
    "SELECT type, state FROM jobs WHERE id = $1";
static const char sql_job_lock[] =
    "SELECT type, state FROM jobs WHERE id = $1 FOR UPDATE";
static const char sql_job_set_dek[] =
    "UPDATE jobs SET dek_wrapped = $2 "
    "WHERE id = $1 AND state = 1 AND dek_wrapped IS NULL";
/* A backup completes only through db_job_commit_backup. */
static const char sql_job_finish[] =
    "UPDATE jobs SET state = $2, files = $3, bytes = $4, error_code = $5, "
    "error = $6, ended_at = now() "
    "WHERE id = $1 AND state = 1 AND ($2 <> 2 OR type = 2)";
static const char sql_jobs_interrupt[] =
    "UPDATE jobs SET state = 4, ended_at = now(), "
    "error = 'commserved restarted before the job ended' "
    "WHERE state = 1";

/* Length of the well-formed UTF-8 sequence at s (NUL-terminated), or 0. */
static size_t
utf8_seq(const unsigned char *s)
{
	unsigned char	lo = 0x80, hi = 0xbf;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (s[0] >= 0xe0 && s[0] <= 0xef) {
		if (s[0] == 0xe0)
			lo = 0xa0;	/* no overlong forms */
		if (s[0] == 0xed)
			hi = 0x9f;	/* no surrogates */
		return s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 ?
		    3 : 0;
	}
	if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		if (s[0] == 0xf0)
			lo = 0x90;
		if (s[0] == 0xf4)
			hi = 0x8f;	/* nothing above U+10FFFF */
		return s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 &&
		    (s[3] & 0xc0) == 0x80 ? 4 : 0;
	}
	return 0;
}

/*
 * Copy text that came from a peer into buf (cap > 0) as valid UTF-8:
 * invalid bytes become '?', and it is cut at a character boundary.
 */
void
db_text_clean(char *buf, size_t cap, const char *s)
{
	const unsigned char	*p = (const unsigned char *)(s ? s : "");
	size_t			 n = 0, k;

	while (*p != '\0') {
		k = utf8_seq(p);
		if (n + (k ? k : 1) >= cap)
			break;
		if (k == 0) {
			buf[n++] = '?';
			p++;
		} else {
			memcpy(buf + n, p, k);
			n += k;
			p += k;
		}
	}
	buf[n] = '\0';
}

static int
read_job(struct db *db, const struct db_row *r, void *ctx)
{
	struct db_job	*j = ctx;

	memset(j, 0, sizeof(*j));
	if (db_col_i64(r, 0, &j->id) == -1 ||
	    db_col_int(r, 1, &j->type) == -1 ||
	    db_col_int(r, 2, &j->state) == -1 ||
	    db_col_i64(r, 3, &j->client_id) == -1 ||
	    DB_COL_STR(r, 4, j->client) == -1 ||
	    db_col_i64(r, 5, &j->pool_id) == -1 ||
	    DB_COL_STR(r, 6, j->pool) == -1 ||
	    db_col_i64(r, 7, &j->copy_id) == -1 ||
	    db_col_i64(r, 8, &j->key_set_id) == -1 ||
	    db_col_i64(r, 9, &j->backup_job) == -1 ||
	    db_col_blob(r, 10, &j->dek_wrapped) == -1 ||
	    db_col_u64(r, 11, &j->files) == -1 ||
	    db_col_u64(r, 12, &j->bytes) == -1 ||
	    db_col_u64(r, 13, &j->chunks) == -1 ||
	    db_col_u64(r, 14, &j->stream_bytes) == -1 ||
	    db_col_blob(r, 15, &j->digest) == -1 ||
	    db_col_u32(r, 16, &j->chunk_size) == -1 ||
	    DB_COL_STR(r, 17, j->mediaagent) == -1 ||
	    db_col_i64(r, 18, &j->started_us) == -1 ||
	    db_col_i64(r, 19, &j->ended_us) == -1 ||
	    db_col_int(r, 20, &j->error_code) == -1 ||
	    DB_COL_STR(r, 21, j->error) == -1 ||
	    db_col_u32(r, 22, &j->streams) == -1)
		return -1;
	return 0;
}

static int
read_id_time(struct db *db, const struct db_row *r, void *ctx)
{
	struct db_job	*j = ctx;

	if (db_col_i64(r, 0, &j->id) == -1 ||
	    db_col_i64(r, 1, &j->started_us) == -1)
		return -1;
	return 0;
}

static int
read_id(struct db *db, const struct db_row *r, void *ctx)
{
	return db_col_i64(r, 0, ctx);
}

int
db_job_next_id(struct db *db, int64_t *id)
{
	*id = 0;
	if (db_exec_one(db, sql_job_next_id, 0, NULL, 1, read_id,
	    id) != DB_OK)
		return DB_ERROR;
	if (*id <= 0) {
		db_seterr(db, "the job id sequence gave %" PRId64, *id);
		return DB_ERROR;
	}
	return DB_OK;
}

int
db_job_create(struct db *db, struct db_job *j)
{
	struct db_arg	a[10];
	int64_t		id = j->id;

	db_arg_i64(&a[0], j->type);
	db_arg_i64(&a[1], j->client_id);
	db_arg_i64(&a[2], j->pool_id);
	db_arg_id(&a[3], j->copy_id);
	db_arg_id(&a[4], j->key_set_id);
	db_arg_id(&a[5], j->backup_job);
	if (db_arg_blob(db, &a[6], &j->dek_wrapped, "wrapped DEK"))
		return DB_ERROR;
	db_arg_i64(&a[7], j->chunk_size);
	db_arg_i64(&a[8], j->streams > 0 ? j->streams : 1);
	db_arg_i64(&a[9], id);
	if (db_exec_one(db, id > 0 ? sql_job_create_id : sql_job_create,
	    id > 0 ? 10 : 9, a, 2, read_id_time, j) != DB_OK)
		return DB_ERROR;
	if (id > 0 && j->id != id) {
		db_seterr(db, "job %" PRId64 " was stored as %" PRId64, id,
		    j->id);
		return DB_ERROR;
	}
	j->state = 1;
	j->ended_us = 0;
	return DB_OK;
}

int
db_job_get(struct db *db, int64_t id, struct db_job *out)
{
	struct db_arg	a;

	db_arg_i64(&a, id);
	return db_exec_one(db, sql_job_get, 1, &a, JOB_NCOLS, read_job, out);
}

struct job_list {
	void	(*cb)(void *, const struct db_job *);	/* the caller's */
	void	*arg;					/* its argument */
};

static int
each_job(struct db *db, const struct db_row *r, void *ctx)
{
	struct job_list	*l = ctx;
	struct db_job	*j;

	/* A job is about 3 KiB: not on the stack of a nested callback. */
	if ((j = malloc(sizeof(*j))) == NULL) {
		db_seterr(db, "out of memory");
		return -1;
	}
	if (read_job(db, r, j) == -1) {
		free(j);
		return -1;
	}
	l->cb(l->arg, j);
	free(j);
	return 0;
}

int
db_job_list(struct db *db, unsigned limit,
    void (*cb)(void *, const struct db_job *), void *arg)
{
	struct job_list	l = { cb, arg };
	struct db_arg	a;

	db_arg_i64(&a, limit);
	return db_exec(db, sql_job_list, 1, &a, JOB_NCOLS, each_job, &l,
	    NULL);
}

struct job_state {
	int	type;			/* jobs.type */
	int	state;			/* jobs.state */
};

static int
read_state(struct db *db, const struct db_row *r, void *ctx)
{
	struct job_state	*s = ctx;

	if (db_col_int(r, 0, &s->type) == -1 ||
	    db_col_int(r, 1, &s->state) == -1)
		return -1;
	return 0;
}

/* After an UPDATE that matched no row: say why. */
static int
not_changed(struct db *db, int64_t id, const char *why)
{
	struct job_state	s;
	struct db_arg		a;
	int			rc;

	db_arg_i64(&a, id);
	rc = db_exec_one(db, sql_job_state, 1, &a, 2, read_state, &s);
	if (rc == DB_NOT_FOUND)
		db_seterr(db, "job %" PRId64 " does not exist", id);
	else if (rc == DB_OK) {
		db_seterr(db, "job %" PRId64 " %s", id, why);
		rc = DB_ERROR;
	}
	return rc;
}

int
db_job_set_dek(struct db *db, int64_t id, const struct db_blob *dek)
{
	struct db_arg	a[2];
	uint64_t	n;

	if (dek->len == 0) {
		db_seterr(db, "the wrapped DEK is empty");
		return DB_ERROR;
	}
	db_arg_i64(&a[0], id);
	if (db_arg_blob(db, &a[1], dek, "wrapped DEK") ||
	    db_exec(db, sql_job_set_dek, 2, a, 0, NULL, NULL, &n) != DB_OK)
		return DB_ERROR;
	if (n == 1)
		return DB_OK;
	return not_changed(db, id, "is not running or already has its DEK");
}

int
db_job_finish(struct db *db, int64_t id, int state, uint64_t files,
    uint64_t bytes, int error_code, const char *error)
{
	struct db_arg	a[6];
	char		text[DB_TEXT_MAX];
	uint64_t	n;

	if (state < 2 || state > 4 || error_code < 0) {
		db_seterr(db, "job %" PRId64 ": %d is not a final state", id,
		    state);
		return DB_ERROR;
	}
	/* The sentence may come from a peer: valid UTF-8, and it fits. */
	db_text_clean(text, sizeof(text), error);
	db_arg_i64(&a[0], id);
	db_arg_i64(&a[1], state);
	if (db_arg_u64(db, &a[2], files, "file count") ||
	    db_arg_u64(db, &a[3], bytes, "byte count"))
		return DB_ERROR;
	db_arg_i64(&a[4], error_code);
	db_arg_text(&a[5], text);
	if (db_exec(db, sql_job_finish, 6, a, 0, NULL, NULL, &n) != DB_OK)
		return DB_ERROR;
	if (n == 1)
		return DB_OK;
	return not_changed(db, id, state == 2 ?
	    "is not a running restore (a backup completes by committing its "
	    "catalog)" : "is not running");
}

int
db_jobs_interrupt_running(struct db *db, uint64_t *count)
{
	return db_exec(db, sql_jobs_interrupt, 0, NULL, 0, NULL, NULL, count);
}

/*
 * Backups that ended without a catalog and whose MediaAgent has not yet
 * confirmed that their container is gone (migration 2).
 */
#define SQL_UNDISCARDED \
    "FROM jobs j JOIN storage_pools p ON p.id = j.pool_id " \
    "WHERE p.mediaagent_id = $1 AND j.type = 1 AND j.state IN (3, 4) " \
    "AND j.discarded_at IS NULL AND j.id > $2"
static const char sql_jobs_undiscarded[] =
    "SELECT j.id, p.mount_path " SQL_UNDISCARDED " ORDER BY j.id LIMIT $3";
static const char sql_jobs_undiscarded_count[] =
    "SELECT count(*) " SQL_UNDISCARDED;
static const char sql_job_discarded[] =
    "UPDATE jobs j SET discarded_at = now() FROM storage_pools p "
    "WHERE j.id = $1 AND p.id = j.pool_id AND p.mediaagent_id = $2 "
    "AND j.type = 1 AND j.state IN (3, 4) AND j.discarded_at IS NULL";

struct discard_list {
	void	(*cb)(void *, int64_t, const char *);	/* the caller's */
	void	*arg;					/* its argument */
};

static int
each_undiscarded(struct db *db, const struct db_row *r, void *ctx)
{
	struct discard_list	*l = ctx;
	int64_t			 id;
	char			 mount[DB_TEXT_MAX];

	if (db_col_i64(r, 0, &id) == -1 || DB_COL_STR(r, 1, mount) == -1) {
		db_seterr(db, "a job to discard has an unreadable id or "
		    "mount path");
		return -1;
	}
	l->cb(l->arg, id, mount);
	return 0;
}

static int
read_count(struct db *db, const struct db_row *r, void *ctx)
{
	return db_col_u64(r, 0, ctx);
}

int
db_jobs_undiscarded(struct db *db, int64_t ma_id, int64_t after,
    unsigned limit, void (*cb)(void *, int64_t job, const char *mount_path),
    void *arg, uint64_t *pending)
{
	struct discard_list	l = { cb, arg };
	struct db_arg		a[3];

	db_arg_i64(&a[0], ma_id);
	db_arg_i64(&a[1], after);
	db_arg_i64(&a[2], limit);
	if (pending != NULL && db_exec_one(db, sql_jobs_undiscarded_count, 2,
	    a, 1, read_count, pending) != DB_OK)
		return DB_ERROR;
	return db_exec(db, sql_jobs_undiscarded, 3, a, 2, each_undiscarded, &l,
	    NULL);
}

int
db_job_discarded(struct db *db, int64_t id, int64_t ma_id, int *changed)
{
	struct db_arg	a[2];
	uint64_t	n = 0;

	db_arg_i64(&a[0], id);
	db_arg_i64(&a[1], ma_id);
	if (db_exec(db, sql_job_discarded, 2, a, 0, NULL, NULL, &n) != DB_OK)
		return DB_ERROR;
	*changed = n > 0;
	return DB_OK;
}

static const char sql_copy_files[] =
    "COPY job_files (job_id, idx, path, type, mode, mtime_sec, mtime_nsec, "
    "size, stream_offset, sha256, link) FROM STDIN";
static const char sql_job_complete[] =
    "UPDATE jobs SET state = 2, files = $2, bytes = $3, chunks = $4, "
    "stream_bytes = $5, digest = $6, ended_at = now() "
    "WHERE id = $1 AND state = 1 AND type = 1";

/* Check one entry before anything is sent. */
static int
entry_ok(struct db *db, const struct db_catalog_entry *e, uint64_t prev)
{
	const char	*why = NULL;

	if (e->index <= prev || e->index > INT64_MAX)
		why = "its index is not above the one before";
	else if (e->path == NULL || e->path_len == 0 ||
	    e->path_len > DB_PATH_MAX)
		why = "its path is empty or too long";
	else if (e->type < 1 || e->type > 3)
		why = "its type is unknown";
	else if ((e->type == 3) != (e->link != NULL && e->link_len > 0) ||
	    e->link_len > DB_PATH_MAX)
		why = "only a symlink has a target, and it must";
	else if (e->mtime_nsec > 999999999 || e->size > INT64_MAX ||
	    e->offset > INT64_MAX)
		why = "a number is out of range";
	if (why != NULL) {
		db_seterr(db, "catalog entry %" PRIu64 " is invalid: %s",
		    e->index, why);
		return -1;
	}
	return 0;
}

/* Append "\\x<hex>" (bytea in COPY text format) or \N for no bytes. */
static size_t
put_hex(char *p, const uint8_t *b, size_t len)
{
	static const char	 hex[] = "0123456789abcdef";
	size_t			 i, n = 0;

	if (b == NULL || len == 0) {
		memcpy(p, "\\N", 2);
		return 2;
	}
	memcpy(p, "\\\\x", 3);
	n = 3;
	for (i = 0; i < len; i++) {
		p[n++] = hex[b[i] >> 4];
		p[n++] = hex[b[i] & 0xf];
	}
	return n;
}

static size_t
copy_line(char *p, int64_t job, const struct db_catalog_entry *e)
{
	size_t	n;

	n = (size_t)snprintf(p, 64, "%" PRId64 "\t%" PRIu64 "\t", job,
	    e->index);
	n += put_hex(p + n, e->path, e->path_len);
	n += (size_t)snprintf(p + n, 160, "\t%d\t%" PRIu32 "\t%" PRId64
	    "\t%" PRIu32 "\t%" PRIu64 "\t%" PRIu64 "\t", e->type, e->mode,
	    e->mtime_sec, e->mtime_nsec, e->size, e->offset);
	n += put_hex(p + n, e->has_sha256 ? e->sha256 : NULL, 32);
	p[n++] = '\t';
	n += put_hex(p + n, e->link, e->link_len);
	p[n++] = '\n';
	return n;
}

/* COPY the entries; the caller holds the transaction. */
static int
copy_catalog(struct db *db, int64_t job,
    const struct db_catalog_entry *entries, size_t n)
{
	char		*buf;
	size_t		 i, used = 0;
	uint64_t	 rows;

	if ((buf = malloc(COPY_BUF + COPY_LINE_MAX)) == NULL) {
		db_seterr(db, "out of memory");
		return DB_ERROR;
	}
	if (db_copy_begin(db, sql_copy_files) != DB_OK)
		goto fail;
	for (i = 0; i < n; i++) {
		used += copy_line(buf + used, job, &entries[i]);
		if ((used >= COPY_BUF || i + 1 == n) &&
		    db_copy_put(db, buf, used) != DB_OK)
			goto fail;
		if (used >= COPY_BUF)
			used = 0;
	}
	if (db_copy_end(db, &rows) != DB_OK)
		goto fail;
	free(buf);
	if (rows != n) {
		db_seterr(db, "COPY stored %" PRIu64 " of %zu catalog entries",
		    rows, n);
		return DB_ERROR;
	}
	return DB_OK;
fail:
	db_copy_abort(db, "catalog not sent");
	free(buf);
	return DB_ERROR;
}

int
db_job_commit_backup(struct db *db, int64_t id, uint64_t files,
    uint64_t bytes, uint64_t chunks, uint64_t stream_bytes,
    const uint8_t digest[32], const struct db_catalog_entry *entries,
    size_t n)
{
	struct db_arg		a[6];
	struct job_state	s;
	uint64_t		changed, prev = 0;
	size_t			i;
	int			rc;

	if (digest == NULL || (n > 0 && entries == NULL)) {
		db_seterr(db, "job %" PRId64 ": no digest or catalog", id);
		return DB_ERROR;
	}
	for (i = 0; i < n; prev = entries[i].index, i++)
		if (entry_ok(db, &entries[i], prev) == -1)
			return DB_ERROR;
	db_arg_i64(&a[0], id);
	if (db_arg_u64(db, &a[1], files, "file count") ||
	    db_arg_u64(db, &a[2], bytes, "byte count") ||
	    db_arg_u64(db, &a[3], chunks, "chunk count") ||
	    db_arg_u64(db, &a[4], stream_bytes, "stream size"))
		return DB_ERROR;
	db_arg_bin(&a[5], digest, 32);

	if (db_begin(db) != DB_OK)
		return DB_ERROR;
	/* The row lock makes a concurrent finish or commit wait, then fail. */
	rc = db_exec_one(db, sql_job_lock, 1, a, 2, read_state, &s);
	if (rc == DB_NOT_FOUND)
		db_seterr(db, "job %" PRId64 " does not exist", id);
	if (rc != DB_OK)
		goto fail;
	rc = DB_ERROR;
	if (s.type != 1 || s.state != 1) {
		db_seterr(db, "job %" PRId64 " is not a running backup: its "
		    "catalog cannot be committed", id);
		goto fail;
	}
	if (n > 0 && copy_catalog(db, id, entries, n) != DB_OK)
		goto fail;
	if (db_exec(db, sql_job_complete, 6, a, 0, NULL, NULL,
	    &changed) != DB_OK)
		goto fail;
	if (changed != 1) {
		db_seterr(db, "job %" PRId64 " changed during its commit", id);
		goto fail;
	}
	if (db_commit(db) != DB_OK)
		return DB_ERROR;
	return DB_OK;
fail:
	db_rollback(db);
	return rc;
}

static const char sql_catalog_page[] =
    "SELECT idx, path, type, mode, mtime_sec, mtime_nsec, size, "
    "stream_offset, sha256, link FROM job_files "
    "WHERE job_id = $1 AND idx > $2 ORDER BY idx LIMIT $3";
static const char sql_job_exists[] = "SELECT 1 FROM jobs WHERE id = $1";

struct page {
	void	(*cb)(void *, const struct db_catalog_entry *); /* caller's */
	void	*arg;			/* its argument */
	unsigned limit;			/* entries to pass on */
	unsigned seen;			/* rows read so far */
	uint8_t	path[DB_PATH_MAX];	/* the current entry's path */
	uint8_t	link[DB_PATH_MAX];	/* and symlink target */
};

static int
each_entry(struct db *db, const struct db_row *r, void *ctx)
{
	struct page		*pg = ctx;
	struct db_catalog_entry	 e;
	size_t			 hlen;

	/* The row after the page only says that there is more. */
	if (pg->seen++ >= pg->limit)
		return 0;
	memset(&e, 0, sizeof(e));
	if (db_col_u64(r, 0, &e.index) == -1 ||
	    db_col_bytes(r, 1, pg->path, sizeof(pg->path), &e.path_len) == -1 ||
	    db_col_int(r, 2, &e.type) == -1 ||
	    db_col_u32(r, 3, &e.mode) == -1 ||
	    db_col_i64(r, 4, &e.mtime_sec) == -1 ||
	    db_col_u32(r, 5, &e.mtime_nsec) == -1 ||
	    db_col_u64(r, 6, &e.size) == -1 ||
	    db_col_u64(r, 7, &e.offset) == -1 ||
	    db_col_bytes(r, 8, e.sha256, sizeof(e.sha256), &hlen) == -1 ||
	    db_col_bytes(r, 9, pg->link, sizeof(pg->link), &e.link_len) == -1)
		return -1;
	if ((hlen != 0 && hlen != sizeof(e.sha256)) || e.path_len == 0) {
		db_seterr(db, "catalog entry %" PRIu64 " is damaged", e.index);
		return -1;
	}
	e.has_sha256 = hlen != 0;
	e.path = pg->path;
	e.link = e.link_len > 0 ? pg->link : NULL;
	pg->cb(pg->arg, &e);
	return 0;
}

int
db_catalog_page(struct db *db, int64_t job, uint64_t after, unsigned limit,
    void (*cb)(void *, const struct db_catalog_entry *), void *arg,
    int *more)
{
	struct page	*pg;
	struct db_arg	 a[3];
	uint64_t	 rows;
	int		 rc = DB_ERROR;

	*more = 0;
	if ((pg = calloc(1, sizeof(*pg))) == NULL) {
		db_seterr(db, "out of memory");
		return DB_ERROR;
	}
	pg->cb = cb;
	pg->arg = arg;
	pg->limit = limit > CATALOG_PAGE_MAX ? CATALOG_PAGE_MAX : limit;
	db_arg_i64(&a[0], job);
	if (db_arg_u64(db, &a[1], after, "catalog index"))
		goto fail;
	db_arg_i64(&a[2], (int64_t)pg->limit + 1);
	if (db_exec(db, sql_catalog_page, 3, a, 10, each_entry, pg,
	    &rows) != DB_OK)
		goto fail;
	*more = rows > pg->limit;
	rc = DB_OK;
	if (rows == 0) {
		rc = db_exec_one(db, sql_job_exists, 1, a, 1, NULL, NULL);
		if (rc == DB_NOT_FOUND)
			db_seterr(db, "job %" PRId64 " does not exist", job);
	}
fail:
	free(pg);
	return rc;
}
