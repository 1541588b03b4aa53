/*
 * check_db_job.c - the CommServe database layer (commserve/db*.c) against
 * a live PostgreSQL, part two: jobs (create, DEK, finish, list, interrupt
 * at startup, the failed backups whose containers wait for a discard), the
 * catalog (committed with the backup in one transaction, read back in pages
 * byte for byte) and trace events, and the limits on what the layer
 * writes.  The shared fixture is db_fixture.c.
 */
#include <check.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "db_fixture.h"

/* A running restore of backup in w. */
static void
restore_job(struct world *w, struct db_job *r, int64_t backup)
{
	*r = (struct db_job){ .type = 2, .client_id = w->client.id,
	    .pool_id = w->pool.id, .copy_id = w->pool.copy_id,
	    .key_set_id = w->ks.id, .backup_job = backup };
	OK(w->db, db_job_create(w->db, r));
}

START_TEST(test_jobs)
{
	struct world	w;
	struct db_job	j, k, r, got;
	struct db_blob	dek;
	struct job_ids	list = { { 0 }, 0 };

	world(&w, "jobs");
	backup_job(&w, &j, 0);
	ck_assert_int_gt(j.id, 0);
	ck_assert_int_eq(j.state, 1);
	ck_assert_int_gt(j.started_us, 0);
	fill_blob(&dek, 60, 9);
	OK(w.db, db_job_set_dek(w.db, j.id, &dek));
	/* The DEK is written once. */
	fill_blob(&dek, 60, 10);
	ck_assert_int_eq(db_job_set_dek(w.db, j.id, &dek), DB_ERROR);
	ck_assert_int_eq(db_job_set_dek(w.db, 987654321, &dek),
	    DB_NOT_FOUND);

	OK(w.db, db_job_get(w.db, j.id, &got));
	ck_assert_int_eq(got.type, 1);
	ck_assert_int_eq(got.state, 1);
	ck_assert_str_eq(got.client, "cl-jobs");
	ck_assert_str_eq(got.pool, "pool-jobs");
	ck_assert_str_eq(got.mediaagent, "ma-jobs");
	ck_assert_int_eq(got.copy_id, w.pool.copy_id);
	ck_assert_int_eq(got.key_set_id, w.ks.id);
	ck_assert_int_eq(got.backup_job, 0);
	ck_assert_uint_eq(got.chunk_size, 1 << 20);
	ck_assert_uint_eq(got.dek_wrapped.len, 60);
	fill_blob(&dek, 60, 9);
	ck_assert_mem_eq(got.dek_wrapped.data, dek.data, 60);
	ck_assert_uint_eq(got.digest.len, 0);
	ck_assert_int_eq(got.started_us, j.started_us);
	ck_assert_int_eq(got.ended_us, 0);
	ck_assert_int_eq(db_job_get(w.db, 987654321, &got), DB_NOT_FOUND);

	/* A backup does not "complete" without its catalog. */
	ck_assert_int_eq(db_job_finish(w.db, j.id, 2, 1, 1, 0, NULL),
	    DB_ERROR);
	ck_assert_int_eq(db_job_finish(w.db, j.id, 1, 0, 0, 0, NULL),
	    DB_ERROR);
	OK(w.db, db_job_finish(w.db, j.id, 3, 5, 500, 11, "disk full"));
	OK(w.db, db_job_get(w.db, j.id, &got));
	ck_assert_int_eq(got.state, 3);
	ck_assert_uint_eq(got.files, 5);
	ck_assert_uint_eq(got.bytes, 500);
	ck_assert_int_eq(got.error_code, 11);
	ck_assert_str_eq(got.error, "disk full");
	ck_assert_int_ge(got.ended_us, got.started_us);
	/* Ended is ended. */
	ck_assert_int_eq(db_job_finish(w.db, j.id, 4, 0, 0, 0, "late"),
	    DB_ERROR);
	OK(w.db, db_job_get(w.db, j.id, &got));
	ck_assert_str_eq(got.error, "disk full");

	/* A restore of it, completed by db_job_finish. */
	restore_job(&w, &r, j.id);
	OK(w.db, db_job_finish(w.db, r.id, 2, 3, 300, 0, ""));
	OK(w.db, db_job_get(w.db, r.id, &got));
	ck_assert_int_eq(got.state, 2);
	ck_assert_int_eq(got.backup_job, j.id);

	/* Newest first, at most limit. */
	backup_job(&w, &k, 1);
	OK(w.db, db_job_list(w.db, 2, collect_job, &list));
	ck_assert_int_eq(list.n, 2);
	ck_assert_int_eq(list.ids[0], k.id);
	ck_assert_int_eq(list.ids[1], r.id);
	db_close(&w.db);
}
END_TEST

#define NENTRIES	1000
#define DB_PATH_MAX_TEST	4096	/* the longest catalog path */

/* Entry i (from 0) of the test catalog: odd bytes, every type. */
static void
make_entry(struct db_catalog_entry *e, size_t i, uint8_t *path,
    uint8_t *link)
{
	size_t	n;

	memset(e, 0, sizeof(*e));
	e->index = i + 1;
	/* Not UTF-8, and full of what COPY's text format escapes. */
	n = (size_t)snprintf((char *)path, 64, "dir%zu/f\t\\%zu\n", i % 7, i);
	path[n++] = 0xff;
	path[n++] = 0x80;
	path[n++] = (uint8_t)i;		/* includes a NUL byte for i = 0 */
	path[n++] = 'e';
	e->path = path;
	e->path_len = n;
	e->type = i % 10 == 3 ? 3 : i % 10 == 5 ? 2 : 1;
	e->mode = e->type == 2 ? 040755 : 0100644;
	e->mtime_sec = 1700000000 + (int64_t)i - 500;
	e->mtime_nsec = (uint32_t)(i * 999999) % 1000000000;
	e->size = e->type == 1 ? i * 1000 + 1 : 0;
	e->offset = i * 4096;
	if (e->type == 1) {
		memset(e->sha256, (int)(i & 0xff), sizeof(e->sha256));
		e->sha256[0] = 0x5c;
		e->has_sha256 = 1;
	}
	if (e->type == 3) {
		n = (size_t)snprintf((char *)link, 64, "../target\\%zu", i);
		link[n++] = 0xfe;
		e->link = link;
		e->link_len = n;
	}
	if (i == NENTRIES - 1) {
		/* The longest path there is. */
		memset(path, 'p', DB_PATH_MAX_TEST);
		e->path_len = DB_PATH_MAX_TEST;
	}
}

struct catalog {
	struct db_catalog_entry	 e[NENTRIES];	/* what was committed */
	uint8_t			*paths;		/* NENTRIES x 4096 */
	uint8_t			*links;		/* NENTRIES x 64 */
	size_t			 seen;		/* entries read back */
	size_t			 bad;		/* of which differ */
};

static struct catalog *
catalog_new(void)
{
	struct catalog	*c = calloc(1, sizeof(*c));
	size_t		 i;

	ck_assert_ptr_nonnull(c);
	c->paths = calloc(NENTRIES, DB_PATH_MAX_TEST);
	c->links = calloc(NENTRIES, 64);
	ck_assert(c->paths != NULL && c->links != NULL);
	for (i = 0; i < NENTRIES; i++)
		make_entry(&c->e[i], i, c->paths + i * DB_PATH_MAX_TEST,
		    c->links + i * 64);
	return c;
}

static void
catalog_free(struct catalog **cp)
{
	if (*cp == NULL)
		return;
	free((*cp)->paths);
	free((*cp)->links);
	free(*cp);
	*cp = NULL;
}

static int
same_entry(const struct db_catalog_entry *a, const struct db_catalog_entry *b)
{
	return a->index == b->index && a->path_len == b->path_len &&
	    memcmp(a->path, b->path, a->path_len) == 0 &&
	    a->type == b->type && a->mode == b->mode &&
	    a->mtime_sec == b->mtime_sec && a->mtime_nsec == b->mtime_nsec &&
	    a->size == b->size && a->offset == b->offset &&
	    a->has_sha256 == b->has_sha256 &&
	    (!a->has_sha256 || memcmp(a->sha256, b->sha256, 32) == 0) &&
	    a->link_len == b->link_len &&
	    (a->link_len == 0 || memcmp(a->link, b->link, a->link_len) == 0);
}

static void
check_entry(void *arg, const struct db_catalog_entry *e)
{
	struct catalog	*c = arg;

	if (c->seen >= NENTRIES || !same_entry(&c->e[c->seen], e))
		c->bad++;
	c->seen++;
}

static const uint8_t test_digest[32] = { 0xd1, 0x9e, 0x57 };

/* Commit a backup with small counts; the catalog is what matters. */
static int
commit(struct world *w, int64_t job, const struct db_catalog_entry *e,
    size_t n)
{
	return db_job_commit_backup(w->db, job, 1, 1, 1, 1, test_digest, e, n);
}

static long long
files_of(int64_t job)
{
	return sql("SELECT count(*) FROM job_files WHERE job_id = %" PRId64,
	    job);
}

START_TEST(test_commit_backup)
{
	struct world	 w;
	struct db_job	 j, got;
	struct catalog	*c = catalog_new();
	uint64_t	 after = 0;
	int		 more = 1, pages = 0;

	world(&w, "commit");
	backup_job(&w, &j, 1);
	OK(w.db, db_job_commit_backup(w.db, j.id, 900, 123456, 7, 200000,
	    test_digest, c->e, NENTRIES));
	OK(w.db, db_job_get(w.db, j.id, &got));
	ck_assert_int_eq(got.state, 2);
	ck_assert_uint_eq(got.files, 900);
	ck_assert_uint_eq(got.bytes, 123456);
	ck_assert_uint_eq(got.chunks, 7);
	ck_assert_uint_eq(got.stream_bytes, 200000);
	ck_assert_uint_eq(got.digest.len, 32);
	ck_assert_mem_eq(got.digest.data, test_digest, 32);
	ck_assert_int_gt(got.ended_us, 0);
	ck_assert_int_eq(files_of(j.id), NENTRIES);

	/* Paged read-back: every entry, in order, byte for byte. */
	while (more) {
		size_t	before = c->seen;

		OK(w.db, db_catalog_page(w.db, j.id, after, 97, check_entry,
		    c, &more));
		ck_assert_uint_le(c->seen - before, 97);
		ck_assert_uint_gt(c->seen, before);
		after = c->e[c->seen - 1].index;
		ck_assert_int_lt(++pages, 20);
	}
	ck_assert_uint_eq(c->seen, NENTRIES);
	ck_assert_uint_eq(c->bad, 0);
	ck_assert_int_eq(pages, (NENTRIES + 96) / 97);

	/* Past the end: nothing, and no more. */
	c->seen = 0;
	OK(w.db, db_catalog_page(w.db, j.id, NENTRIES, 50, check_entry, c,
	    &more));
	ck_assert_uint_eq(c->seen, 0);
	ck_assert_int_eq(more, 0);
	/* Exactly the rest. */
	OK(w.db, db_catalog_page(w.db, j.id, NENTRIES - 3, 3, check_entry,
	    c, &more));
	ck_assert_uint_eq(c->seen, 3);
	ck_assert_int_eq(more, 0);
	ck_assert_int_eq(db_catalog_page(w.db, 987654321, 0, 10, check_entry,
	    c, &more), DB_NOT_FOUND);
	catalog_free(&c);
	db_close(&w.db);
}
END_TEST

START_TEST(test_commit_refused)
{
	struct world	 w;
	struct db_job	 done, failed, nodek, got;
	struct catalog	*c = catalog_new();
	struct db_catalog_entry	swap;

	world(&w, "refused");

	/* A committed backup cannot be committed again. */
	backup_job(&w, &done, 1);
	OK(w.db, commit(&w, done.id, c->e, 10));
	ck_assert_int_eq(db_job_commit_backup(w.db, done.id, 2, 2, 2, 2,
	    test_digest, c->e, NENTRIES), DB_ERROR);
	ck_assert_msg(strstr(db_errmsg(w.db), "not a running backup") != NULL,
	    "%s", db_errmsg(w.db));
	ck_assert_int_eq(files_of(done.id), 10);
	OK(w.db, db_job_get(w.db, done.id, &got));
	ck_assert_uint_eq(got.files, 1);

	/* Nor can a failed one. */
	backup_job(&w, &failed, 1);
	OK(w.db, db_job_finish(w.db, failed.id, 3, 0, 0, 14, "bad"));
	ck_assert_int_eq(commit(&w, failed.id, c->e, NENTRIES), DB_ERROR);
	ck_assert_int_eq(files_of(failed.id), 0);
	ck_assert_int_eq(commit(&w, 987654321, c->e, 1), DB_NOT_FOUND);

	/*
	 * A failure after the COPY (a backup without its DEK cannot be
	 * completed) takes the catalog with it: one transaction.
	 */
	backup_job(&w, &nodek, 0);
	ck_assert_int_eq(commit(&w, nodek.id, c->e, NENTRIES), DB_ERROR);
	ck_assert_int_eq(files_of(nodek.id), 0);
	OK(w.db, db_job_get(w.db, nodek.id, &got));
	ck_assert_int_eq(got.state, 1);

	/* Entries out of order are refused before anything is sent. */
	swap = c->e[4];
	c->e[4] = c->e[5];
	c->e[5] = swap;
	ck_assert_int_eq(commit(&w, nodek.id, c->e, NENTRIES), DB_ERROR);
	OK(w.db, db_job_get(w.db, nodek.id, &got));
	ck_assert_int_eq(got.state, 1);
	catalog_free(&c);
	db_close(&w.db);
}
END_TEST

START_TEST(test_interrupt)
{
	struct world	w;
	struct db_job	a, b, ended, got;
	uint64_t	n = 0;

	world(&w, "interrupt");
	backup_job(&w, &a, 1);
	backup_job(&w, &b, 0);
	backup_job(&w, &ended, 1);
	OK(w.db, db_job_finish(w.db, ended.id, 3, 0, 0, 7, "gone"));
	OK(w.db, db_jobs_interrupt_running(w.db, &n));
	ck_assert_uint_ge(n, 2);
	ck_assert_int_eq(sql("SELECT count(*) FROM jobs WHERE state = 1"), 0);
	OK(w.db, db_job_get(w.db, a.id, &got));
	ck_assert_int_eq(got.state, 4);
	ck_assert_int_gt(got.ended_us, 0);
	OK(w.db, db_job_get(w.db, b.id, &got));
	ck_assert_int_eq(got.state, 4);
	OK(w.db, db_job_get(w.db, ended.id, &got));
	ck_assert_int_eq(got.state, 3);
	ck_assert_str_eq(got.error, "gone");
	OK(w.db, db_jobs_interrupt_running(w.db, &n));
	ck_assert_uint_eq(n, 0);
	db_close(&w.db);
}
END_TEST

/* What db_jobs_undiscarded listed. */
struct discards {
	int64_t		ids[8];		/* as listed */
	char		mount[8][DB_TEXT_MAX];	/* their pools' mount paths */
	int		n;		/* how many */
};

static void
collect_discard(void *arg, int64_t id, const char *mount_path)
{
	struct discards	*l = arg;

	ck_assert_int_lt(l->n, 8);
	l->ids[l->n] = id;
	(void)snprintf(l->mount[l->n], sizeof(l->mount[0]), "%s", mount_path);
	l->n++;
}

/* db_jobs_undiscarded of w's MediaAgent; *pending left alone if NULL. */
static struct discards
undiscarded(struct world *w, int64_t after, unsigned limit,
    uint64_t *pending)
{
	struct discards	l;

	memset(&l, 0, sizeof(l));
	OK(w->db, db_jobs_undiscarded(w->db, w->ma.id, after, limit,
	    collect_discard, &l, pending));
	return l;
}

/*
 * Failed and interrupted backups of a MediaAgent's pools wait for its
 * confirmed discard, in id order from a cursor, a limited batch at a time;
 * running, restore, discarded jobs and other MediaAgents' never show.
 */
START_TEST(test_undiscarded)
{
	struct world	w, other;
	struct db_job	run, f1, f2, intr, gone, rest, elsewhere;
	struct discards	l;
	uint64_t	pending = 99;
	int		changed;

	world(&w, "undisc");
	world(&other, "undisc2");
	backup_job(&w, &run, 1);
	backup_job(&w, &f1, 1);
	backup_job(&w, &f2, 0);
	backup_job(&w, &intr, 1);
	backup_job(&w, &gone, 1);
	backup_job(&other, &elsewhere, 1);
	OK(w.db, db_job_finish(w.db, f1.id, 3, 0, 0, 14, "bad"));
	OK(w.db, db_job_finish(w.db, f2.id, 3, 0, 0, 14, "bad"));
	OK(w.db, db_job_finish(w.db, intr.id, 4, 0, 0, 0, "interrupted"));
	OK(w.db, db_job_finish(w.db, gone.id, 3, 0, 0, 14, "bad"));
	OK(w.db, db_job_finish(w.db, elsewhere.id, 3, 0, 0, 14, "bad"));
	restore_job(&w, &rest, f1.id);
	OK(w.db, db_job_finish(w.db, rest.id, 3, 0, 0, 14, "bad"));
	/* Only its own MediaAgent confirms a discard. */
	OK(w.db, db_job_discarded(w.db, gone.id, other.ma.id, &changed));
	ck_assert_int_eq(changed, 0);
	OK(w.db, db_job_discarded(w.db, gone.id, w.ma.id, &changed));
	ck_assert_int_eq(changed, 1);

	l = undiscarded(&w, 0, 10, &pending);
	ck_assert_uint_eq(pending, 3);
	ck_assert_int_eq(l.n, 3);
	ck_assert_int_eq(l.ids[0], f1.id);
	ck_assert_int_eq(l.ids[1], f2.id);
	ck_assert_int_eq(l.ids[2], intr.id);
	ck_assert_str_eq(l.mount[0], w.pool.mount_path);
	/* A batch: the count is of all that wait, beyond the limit. */
	l = undiscarded(&w, 0, 1, &pending);
	ck_assert_int_eq(l.n, 1);
	ck_assert_int_eq(l.ids[0], f1.id);
	ck_assert_uint_eq(pending, 3);
	/* The next batch starts after the cursor. */
	l = undiscarded(&w, f1.id, 1, &pending);
	ck_assert_int_eq(l.n, 1);
	ck_assert_int_eq(l.ids[0], f2.id);
	ck_assert_uint_eq(pending, 2);
	l = undiscarded(&w, f2.id, 10, NULL);
	ck_assert_int_eq(l.n, 1);
	ck_assert_int_eq(l.ids[0], intr.id);
	l = undiscarded(&w, intr.id, 10, &pending);
	ck_assert_int_eq(l.n, 0);
	ck_assert_uint_eq(pending, 0);

	/* The other MediaAgent sees only its own. */
	l = undiscarded(&other, 0, 10, &pending);
	ck_assert_int_eq(l.n, 1);
	ck_assert_int_eq(l.ids[0], elsewhere.id);
	ck_assert_uint_eq(pending, 1);

	/* Confirmed: never listed again. */
	OK(w.db, db_job_discarded(w.db, f2.id, w.ma.id, &changed));
	ck_assert_int_eq(changed, 1);
	OK(w.db, db_job_discarded(w.db, f2.id, w.ma.id, &changed));
	ck_assert_int_eq(changed, 0);
	l = undiscarded(&w, 0, 10, &pending);
	ck_assert_int_eq(l.n, 2);
	ck_assert_int_eq(l.ids[1], intr.id);
	ck_assert_uint_eq(pending, 2);
	db_close(&other.db);
	db_close(&w.db);
}
END_TEST

/* A cursor or limit at the ends of their ranges lists nothing, safely. */
START_TEST(test_limits_undiscarded)
{
	struct world	w;
	struct db_job	f;
	struct discards	l;
	uint64_t	pending = 99;

	world(&w, "limitu");
	backup_job(&w, &f, 0);
	OK(w.db, db_job_finish(w.db, f.id, 3, 0, 0, 14, "bad"));
	l = undiscarded(&w, INT64_MAX, 10, &pending);
	ck_assert_int_eq(l.n, 0);
	ck_assert_uint_eq(pending, 0);
	l = undiscarded(&w, 0, 0, &pending);
	ck_assert_int_eq(l.n, 0);
	ck_assert_uint_eq(pending, 1);
	l = undiscarded(&w, INT64_MIN, UINT_MAX, NULL);
	ck_assert_int_eq(l.n, 1);
	ck_assert_int_eq(l.ids[0], f.id);
	db_close(&w.db);
}
END_TEST

struct events {
	uint32_t	steps[8];	/* as read */
	int64_t		ts[8];		/* as read */
	char		action[8][DB_TEXT_MAX];	/* as read */
	int		n;		/* how many */
};

static void
collect_event(void *arg, const struct db_event *ev)
{
	struct events	*l = arg;

	if (l->n < 8) {
		l->steps[l->n] = ev->step;
		l->ts[l->n] = ev->ts_us;
		(void)snprintf(l->action[l->n], sizeof(l->action[0]), "%s",
		    ev->action);
		l->n++;
	}
}

static void
add_event(struct db *db, int64_t job, const char *trace, uint32_t step,
    int64_t ts, const char *action)
{
	struct db_event	ev;

	memset(&ev, 0, sizeof(ev));
	(void)snprintf(ev.trace_id, sizeof(ev.trace_id), "%s", trace);
	ev.job_id = job;
	(void)snprintf(ev.flow, sizeof(ev.flow), "backup");
	ev.step = step;
	(void)snprintf(ev.actor, sizeof(ev.actor), "client");
	(void)snprintf(ev.action, sizeof(ev.action), "%s", action);
	(void)snprintf(ev.peer, sizeof(ev.peer), "ma1");
	ev.bytes = 4096;
	ev.ts_us = ts;
	OK(db, db_event_add(db, &ev));
}

START_TEST(test_events)
{
	struct world	w;
	struct db_job	j;
	struct events	l;
	char		trace[64];
	int64_t		t = 1760000000123456LL;

	world(&w, "events");
	backup_job(&w, &j, 1);
	(void)snprintf(trace, sizeof(trace), "job/%" PRId64, j.id);
	/* Arrival order is not step order. */
	add_event(w.db, j.id, trace, 5, t + 30, "five");
	add_event(w.db, j.id, trace, 1, t + 20, "one-late");
	add_event(w.db, j.id, trace, 1, t + 10, "one-early");
	add_event(w.db, j.id, trace, 3, t + 1, "three\xff\xfe");
	add_event(w.db, 0, "pool/1", 1, t, "other trace");
	memset(&l, 0, sizeof(l));
	OK(w.db, db_events_get(w.db, trace, collect_event, &l));
	ck_assert_int_eq(l.n, 4);
	ck_assert_uint_eq(l.steps[0], 1);
	ck_assert_str_eq(l.action[0], "one-early");
	ck_assert_int_eq(l.ts[0], t + 10);
	ck_assert_str_eq(l.action[1], "one-late");
	ck_assert_uint_eq(l.steps[2], 3);
	/* Bytes that are not UTF-8 are stored as '?'. */
	ck_assert_str_eq(l.action[2], "three??");
	ck_assert_str_eq(l.action[3], "five");
	ck_assert_int_eq(l.ts[3], t + 30);
	memset(&l, 0, sizeof(l));
	OK(w.db, db_events_get(w.db, "job/0", collect_event, &l));
	ck_assert_int_eq(l.n, 0);
	db_close(&w.db);
}
END_TEST

/* A full batch is stored by one statement; a bad event or one too many
 * stores none of the batch. */
START_TEST(test_events_batch)
{
	static struct db_event	evs[DB_EVENTS_BATCH_MAX + 1];
	struct world		w;
	struct db_job		j;
	struct events		l;
	char			trace[64];
	size_t			i;

	world(&w, "evbatch");
	backup_job(&w, &j, 1);
	(void)snprintf(trace, sizeof(trace), "job/%" PRId64, j.id);
	memset(evs, 0, sizeof(evs));
	for (i = 0; i <= DB_EVENTS_BATCH_MAX; i++) {
		(void)snprintf(evs[i].trace_id, sizeof(evs[i].trace_id), "%s",
		    i < 4 ? trace : "pool/9");
		evs[i].job_id = i < 4 ? j.id : 0;
		(void)snprintf(evs[i].flow, sizeof(evs[i].flow), "backup");
		evs[i].step = (uint32_t)(4 - (i % 4));
		(void)snprintf(evs[i].actor, sizeof(evs[i].actor), "client");
		(void)snprintf(evs[i].action, sizeof(evs[i].action), "e%zu", i);
		evs[i].ts_us = 1760000000000000LL + (int64_t)i;
	}
	ck_assert_int_eq(db_events_add(w.db, evs, DB_EVENTS_BATCH_MAX + 1),
	    DB_ERROR);
	/* One event with a flow that is not NUL-terminated spoils them all. */
	memset(evs[7].flow, 'x', sizeof(evs[7].flow));
	ck_assert_int_eq(db_events_add(w.db, evs, 8), DB_ERROR);
	memset(&l, 0, sizeof(l));
	OK(w.db, db_events_get(w.db, trace, collect_event, &l));
	ck_assert_int_eq(l.n, 0);
	(void)snprintf(evs[7].flow, sizeof(evs[7].flow), "backup");
	OK(w.db, db_events_add(w.db, evs, DB_EVENTS_BATCH_MAX));
	OK(w.db, db_events_get(w.db, trace, collect_event, &l));
	ck_assert_int_eq(l.n, 4);
	ck_assert_str_eq(l.action[0], "e3");	/* step 1 */
	ck_assert_str_eq(l.action[3], "e0");	/* step 4 */
	ck_assert_int_eq(db_events_add(w.db, evs, 0), DB_OK);
	db_close(&w.db);
}
END_TEST

START_TEST(test_limits_write)
{
	struct world		w;
	struct db_mediaagent	m;
	struct db_job		j, got;
	struct db_blob		big;
	struct db_catalog_entry	e;
	uint8_t			path[8] = "a";
	char			*err;

	world(&w, "limitw");
	/* A name with no NUL inside its field. */
	memset(&m, 0, sizeof(m));
	memset(m.name, 'n', sizeof(m.name));
	ck_assert_int_eq(db_ma_upsert(w.db, &m), DB_ERROR);
	/* A blob claiming more than it can hold. */
	backup_job(&w, &j, 0);
	memset(&big, 0, sizeof(big));
	big.len = DB_BLOB_MAX + 1;
	ck_assert_int_eq(db_job_set_dek(w.db, j.id, &big), DB_ERROR);
	/* Counts PostgreSQL's bigint cannot hold. */
	ck_assert_int_eq(db_job_finish(w.db, j.id, 3, UINT64_MAX, 0, 0, ""),
	    DB_ERROR);
	/* Catalog entries that make no sense. */
	memset(&e, 0, sizeof(e));
	e.index = 1;
	e.path = path;
	e.path_len = 0;
	e.type = 1;
	ck_assert_int_eq(commit(&w, j.id, &e, 1), DB_ERROR);
	e.path_len = 1;
	e.type = 3;		/* a symlink without a target */
	ck_assert_int_eq(commit(&w, j.id, &e, 1), DB_ERROR);
	e.type = 1;
	e.index = 0;
	ck_assert_int_eq(commit(&w, j.id, &e, 1), DB_ERROR);
	OK(w.db, db_job_get(w.db, j.id, &got));
	ck_assert_int_eq(got.state, 1);

	/* A long error sentence that is not UTF-8 is kept, cleaned. */
	err = malloc(5001);
	ck_assert_ptr_nonnull(err);
	memset(err, 0xc3, 5000);
	err[5000] = '\0';
	err[0] = 'E';
	OK(w.db, db_job_finish(w.db, j.id, 3, 0, 0, 11, err));
	free(err);
	OK(w.db, db_job_get(w.db, j.id, &got));
	ck_assert_uint_eq(strlen(got.error), DB_TEXT_MAX - 1);
	ck_assert_int_eq(got.error[0], 'E');
	ck_assert_int_eq(got.error[1], '?');
	db_close(&w.db);
}
END_TEST

int
main(void)
{
	const TTest *const core[] = { test_jobs, test_commit_backup,
	    test_commit_refused, test_interrupt, test_undiscarded, test_events,
	    test_events_batch, NULL };
	const TTest *const limits[] = { test_limits_write,
	    test_limits_undiscarded, NULL };

	return db_fixture_main("check_db_job", core, limits);
}
