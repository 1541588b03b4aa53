/*
 * check_db.c - the CommServe database layer (commserve/db*.c) against a
 * live PostgreSQL.
 *
 * The ctest fixture "pg" (tests/pg.sh) starts a private cluster and
 * KF_TEST_PG_CONNINFO_FILE names a file holding its conninfo; without it
 * this binary says why and exits 77 (skipped).  Each run works in a fresh
 * database, kf_test_<pid>, dropped at the end, so suites never see each
 * other's rows; each test uses names of its own, so the tests also pass in
 * one process (CK_FORK=no, as under valgrind).
 *
 * The test reaches the database directly through libpq too: to count rows
 * the API does not show, to tamper with rows the way a damaged or hostile
 * database would, and to kill the layer's connection.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <check.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "db.h"

static char	server_conninfo[1024];	/* the fixture's keyflow database */
static char	test_db[64];		/* kf_test_<pid> */
static char	test_conninfo[2048];	/* the same server, test_db */

/* Conninfo of the fixture's server with another database name. */
static int
conninfo_with_db(char *out, size_t cap, const char *dbname)
{
	PQconninfoOption	*opts, *o;
	char			*err = NULL;
	size_t			 n = 0, i;

	if ((opts = PQconninfoParse(server_conninfo, &err)) == NULL) {
		fprintf(stderr, "check_db: bad conninfo: %s", err ? err : "?");
		PQfreemem(err);
		return -1;
	}
	out[0] = '\0';
	for (o = opts; o->keyword != NULL; o++) {
		if (o->val == NULL || strcmp(o->keyword, "dbname") == 0)
			continue;
		n += (size_t)snprintf(out + n, cap - n, "%s='", o->keyword);
		for (i = 0; o->val[i] != '\0' && n + 3 < cap; i++) {
			if (o->val[i] == '\'' || o->val[i] == '\\')
				out[n++] = '\\';
			out[n++] = o->val[i];
		}
		n += (size_t)snprintf(out + n, cap - n, "' ");
		if (n >= cap)
			break;
	}
	if (n < cap)
		n += (size_t)snprintf(out + n, cap - n, "dbname='%s'", dbname);
	PQconninfoFree(opts);
	if (n >= cap) {
		fprintf(stderr, "check_db: conninfo too long\n");
		return -1;
	}
	return 0;
}

static void
quiet(void *arg, const char *message)
{
	/* "database ... does not exist, skipping" */
}

static PGconn *
pg_connect(const char *conninfo)
{
	PGconn	*c = PQconnectdb(conninfo);

	ck_assert_msg(PQstatus(c) == CONNECTION_OK, "connect: %s",
	    PQerrorMessage(c));
	PQsetNoticeProcessor(c, quiet, NULL);
	return c;
}

/* Run SQL on a fresh connection to the test database; return the first
 * column of the first row as a number (0 if none). */
static long long
sql(const char *fmt, ...)
{
	PGconn		*c;
	PGresult	*res;
	char		 q[8192];
	long long	 v = 0;
	va_list		 ap;

	va_start(ap, fmt);
	(void)vsnprintf(q, sizeof(q), fmt, ap);
	va_end(ap);
	c = pg_connect(test_conninfo);
	res = PQexec(c, q);
	ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK ||
	    PQresultStatus(res) == PGRES_COMMAND_OK, "%s: %s", q,
	    PQerrorMessage(c));
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) > 0 &&
	    !PQgetisnull(res, 0, 0))
		v = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	PQfinish(c);
	return v;
}

static struct db *
open_db(const char *extra)
{
	char		 ci[2300], err[256];
	struct db	*db;

	(void)snprintf(ci, sizeof(ci), "%s %s", test_conninfo, extra);
	db = db_open(ci, err, sizeof(err));
	ck_assert_msg(db != NULL, "db_open: %s", err);
	ck_assert_msg(db_migrate(db) == DB_OK, "migrate: %s", db_errmsg(db));
	return db;
}

#define OK(db, call) \
	ck_assert_msg((call) == DB_OK, "%s: %s", #call, db_errmsg(db))

/* A MediaAgent, a built-in-KMS pool and a client, named after tag. */
struct world {
	struct db		*db;		/* connection under test */
	struct db_mediaagent	 ma;		/* "ma-<tag>" */
	struct db_pool		 pool;		/* "pool-<tag>" */
	struct db_key_set	 ks;		/* the pool's key set */
	struct db_client	 client;	/* "cl-<tag>" */
};

static void
fill_blob(struct db_blob *b, size_t len, uint8_t seed)
{
	size_t	i;

	for (i = 0; i < len; i++)
		b->data[i] = (uint8_t)(seed + i * 7);
	b->len = len;
}

static void
make_key_set(struct db *db, struct db_key_set *ks, const char *mkid)
{
	struct db_kms	kms;

	memset(ks, 0, sizeof(*ks));
	OK(db, db_kms_find(db, "builtin", &kms));
	OK(db, db_key_set_next_id(db, &ks->id));
	ks->kms_id = kms.id;
	(void)snprintf(ks->master_key_id, sizeof(ks->master_key_id), "%s",
	    mkid);
	(void)snprintf(ks->kek_mode, sizeof(ks->kek_mode), "GCM");
	fill_blob(&ks->kek_ct, 48, 1);
	fill_blob(&ks->kek_iv, 12, 2);
	fill_blob(&ks->kek_tag, 16, 3);
	fill_blob(&ks->scrambled_mk, 60, 4);
}

static void
world(struct world *w, const char *tag)
{
	memset(w, 0, sizeof(*w));
	w->db = open_db("");
	(void)snprintf(w->ma.name, sizeof(w->ma.name), "ma-%s", tag);
	(void)snprintf(w->ma.data_endpoint, sizeof(w->ma.data_endpoint),
	    "tcp://127.0.0.1:8401");
	(void)snprintf(w->ma.mount_root, sizeof(w->ma.mount_root), "/srv");
	OK(w->db, db_ma_upsert(w->db, &w->ma));
	make_key_set(w->db, &w->ks, tag);
	(void)snprintf(w->pool.name, sizeof(w->pool.name), "pool-%s", tag);
	(void)snprintf(w->pool.mount_path, sizeof(w->pool.mount_path),
	    "/srv/pool-%s", tag);
	w->pool.mediaagent_id = w->ma.id;
	OK(w->db, db_pool_create(w->db, &w->pool, &w->ks));
	(void)snprintf(w->client.name, sizeof(w->client.name), "cl-%s", tag);
	fill_blob(&w->client.salt, 16, 5);
	fill_blob(&w->client.nk_wrapped, 60, 6);
	w->client.iterations = 200000;
	OK(w->db, db_client_add(w->db, &w->client));
}

static void
backup_job(struct world *w, struct db_job *j, int with_dek)
{
	memset(j, 0, sizeof(*j));
	j->type = 1;
	j->client_id = w->client.id;
	j->pool_id = w->pool.id;
	j->copy_id = w->pool.copy_id;
	j->key_set_id = w->ks.id;
	j->chunk_size = 1 << 20;
	OK(w->db, db_job_create(w->db, j));
	if (with_dek) {
		struct db_blob	dek;

		fill_blob(&dek, 60, 9);
		OK(w->db, db_job_set_dek(w->db, j->id, &dek));
	}
}

START_TEST(test_open_bad)
{
	char		 err[256] = "";
	struct db	*db;

	db = db_open("host=/nonexistent/socket/dir dbname=x connect_timeout=2",
	    err, sizeof(err));
	ck_assert_ptr_null(db);
	ck_assert_msg(strstr(err, "cannot connect") != NULL, "%s", err);
	db_close(&db);
}
END_TEST

/* Run db_migrate in a child; its exit status says whether it worked. */
static pid_t
migrate_child(const char *conninfo)
{
	pid_t	pid = fork();

	ck_assert(pid != -1);
	if (pid == 0) {
		char		 err[256];
		struct db	*db = db_open(conninfo, err, sizeof(err));
		int		 ok = db != NULL && db_migrate(db) == DB_OK;

		if (!ok)
			fprintf(stderr, "child: %s\n", db ? db_errmsg(db) : err);
		db_close(&db);
		_exit(ok ? 0 : 1);
	}
	return pid;
}

START_TEST(test_migrate)
{
	struct db	*db;
	char		 ci[2048], name[80];
	pid_t		 a, b;
	int		 st, version = -1;

	/* Twice on the shared test database: idempotent. */
	db = open_db("");
	OK(db, db_migrate(db));
	OK(db, db_migrate(db));
	OK(db, db_schema_version(db, &version));
	ck_assert_int_eq(version, 1);
	ck_assert_int_eq(sql("SELECT count(*) FROM schema_version"), 1);
	ck_assert_int_eq(sql("SELECT count(*) FROM kms_servers WHERE "
	    "name = 'builtin' AND kind = 'builtin'"), 1);
	db_close(&db);

	/* Two commserveds migrating an empty database at the same time. */
	(void)snprintf(name, sizeof(name), "%s_m", test_db);
	sql("DROP DATABASE IF EXISTS %s", name);
	sql("CREATE DATABASE %s", name);
	ck_assert_int_eq(conninfo_with_db(ci, sizeof(ci), name), 0);
	a = migrate_child(ci);
	b = migrate_child(ci);
	ck_assert(waitpid(a, &st, 0) == a);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "first failed");
	ck_assert(waitpid(b, &st, 0) == b);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "second failed");

	/* A schema newer than this build is refused, not used. */
	{
		char	 err[256];
		PGconn	*c = pg_connect(ci);

		PQclear(PQexec(c, "INSERT INTO schema_version VALUES "
		    "(99, 'from the future')"));
		PQfinish(c);
		db = db_open(ci, err, sizeof(err));
		ck_assert_ptr_nonnull(db);
		ck_assert_int_eq(db_migrate(db), DB_ERROR);
		ck_assert_msg(strstr(db_errmsg(db), "newer") != NULL, "%s",
		    db_errmsg(db));
		OK(db, db_schema_version(db, &version));
		ck_assert_int_eq(version, 99);
		db_close(&db);
	}
	sql("DROP DATABASE %s WITH (FORCE)", name);
}
END_TEST

static void
count_pool(void *arg, const struct db_pool *p)
{
	if (strcmp(p->name, "pool-pools") == 0)
		(*(int *)arg)++;
}

START_TEST(test_pools)
{
	struct world		w;
	struct db_pool		p, dup;
	struct db_key_set	ks, ks2;
	long long		sets, policies, copies;
	int			seen = 0;

	world(&w, "pools");
	ck_assert_int_gt(w.pool.id, 0);
	ck_assert_int_gt(w.pool.copy_id, 0);
	ck_assert_int_eq(w.pool.key_set_id, w.ks.id);

	OK(w.db, db_pool_find(w.db, "pool-pools", &p));
	ck_assert_int_eq(p.id, w.pool.id);
	ck_assert_int_eq(p.copy_id, w.pool.copy_id);
	ck_assert_int_eq(p.mediaagent_id, w.ma.id);
	ck_assert_str_eq(p.mediaagent, "ma-pools");
	ck_assert_str_eq(p.mount_path, "/srv/pool-pools");
	ck_assert_str_eq(p.kms, "builtin");
	ck_assert_str_eq(p.master_key_id, "pools");
	ck_assert_int_eq(p.created_us, w.pool.created_us);
	ck_assert_int_gt(p.created_us, 1600000000LL * 1000000);
	OK(w.db, db_pool_get(w.db, w.pool.id, &p));
	ck_assert_str_eq(p.name, "pool-pools");
	ck_assert_int_eq(db_pool_find(w.db, "no-such-pool", &p),
	    DB_NOT_FOUND);
	OK(w.db, db_pool_list(w.db, count_pool, &seen));
	ck_assert_int_eq(seen, 1);

	/* The key set reads back byte for byte. */
	OK(w.db, db_key_set_get(w.db, w.ks.id, &ks));
	ck_assert_int_eq(ks.kms_id, w.ks.kms_id);
	ck_assert_str_eq(ks.kek_mode, "GCM");
	ck_assert_uint_eq(ks.kek_ct.len, 48);
	ck_assert_mem_eq(ks.kek_ct.data, w.ks.kek_ct.data, 48);
	ck_assert_mem_eq(ks.kek_iv.data, w.ks.kek_iv.data, 12);
	ck_assert_mem_eq(ks.kek_tag.data, w.ks.kek_tag.data, 16);
	ck_assert_uint_eq(ks.scrambled_mk.len, 60);
	ck_assert_mem_eq(ks.scrambled_mk.data, w.ks.scrambled_mk.data, 60);

	/* A taken name: DB_EXISTS, and no half-made key set or policy. */
	sets = sql("SELECT count(*) FROM key_sets");
	policies = sql("SELECT count(*) FROM storage_policies");
	copies = sql("SELECT count(*) FROM policy_copies");
	make_key_set(w.db, &ks2, "pools-again");
	memset(&dup, 0, sizeof(dup));
	(void)snprintf(dup.name, sizeof(dup.name), "pool-pools");
	(void)snprintf(dup.mount_path, sizeof(dup.mount_path), "/elsewhere");
	dup.mediaagent_id = w.ma.id;
	ck_assert_int_eq(db_pool_create(w.db, &dup, &ks2), DB_EXISTS);
	ck_assert_msg(strstr(db_errmsg(w.db), "pool-pools") != NULL, "%s",
	    db_errmsg(w.db));
	ck_assert_int_eq(dup.id, 0);
	ck_assert_int_eq(sql("SELECT count(*) FROM key_sets"), sets);
	ck_assert_int_eq(sql("SELECT count(*) FROM storage_policies"),
	    policies);
	ck_assert_int_eq(sql("SELECT count(*) FROM policy_copies"), copies);
	ck_assert_int_eq(db_key_set_get(w.db, ks2.id, &ks), DB_NOT_FOUND);

	/* A MediaAgent that does not exist: an error, nothing left. */
	(void)snprintf(dup.name, sizeof(dup.name), "pool-pools-orphan");
	dup.mediaagent_id = 987654321;
	ck_assert_int_eq(db_pool_create(w.db, &dup, &ks2), DB_ERROR);
	ck_assert_int_eq(sql("SELECT count(*) FROM key_sets"), sets);
	/* The connection is still good. */
	OK(w.db, db_pool_find(w.db, "pool-pools", &p));
	db_close(&w.db);
}
END_TEST

static void
count_kms(void *arg, const struct db_kms *k)
{
	(*(int *)arg)++;
}

START_TEST(test_kms)
{
	struct db	*db = open_db("");
	struct db_kms	 k, got;
	int		 n = 0;

	memset(&k, 0, sizeof(k));
	(void)snprintf(k.name, sizeof(k.name), "kms-test");
	(void)snprintf(k.kind, sizeof(k.kind), "kmip");
	(void)snprintf(k.address, sizeof(k.address), "127.0.0.1:5696");
	(void)snprintf(k.ca, sizeof(k.ca), "/etc/ca.pem");
	(void)snprintf(k.cert, sizeof(k.cert), "/etc/cert.pem");
	(void)snprintf(k.key, sizeof(k.key), "/etc/key.pem");
	k.send_correlation = 1;
	OK(db, db_kms_add(db, &k));
	ck_assert_int_gt(k.id, 0);
	OK(db, db_kms_get(db, k.id, &got));
	ck_assert_str_eq(got.name, "kms-test");
	ck_assert_str_eq(got.address, "127.0.0.1:5696");
	ck_assert_str_eq(got.key, "/etc/key.pem");
	ck_assert_int_eq(got.send_correlation, 1);
	ck_assert_int_eq(db_kms_add(db, &k), DB_EXISTS);
	/* A second built-in KMS is refused. */
	(void)snprintf(k.name, sizeof(k.name), "builtin-2");
	(void)snprintf(k.kind, sizeof(k.kind), "builtin");
	ck_assert_int_ne(db_kms_add(db, &k), DB_OK);
	OK(db, db_kms_list(db, count_kms, &n));
	ck_assert_int_ge(n, 2);
	db_close(&db);
}
END_TEST

START_TEST(test_clients)
{
	struct world		w;
	struct db_client	c;

	world(&w, "clients");
	ck_assert_int_gt(w.client.id, 0);
	ck_assert_int_gt(w.client.created_us, 0);
	OK(w.db, db_client_find(w.db, "cl-clients", &c));
	ck_assert_int_eq(c.id, w.client.id);
	ck_assert_uint_eq(c.iterations, 200000);
	ck_assert_uint_eq(c.salt.len, 16);
	ck_assert_mem_eq(c.salt.data, w.client.salt.data, 16);
	ck_assert_uint_eq(c.nk_wrapped.len, 60);
	ck_assert_mem_eq(c.nk_wrapped.data, w.client.nk_wrapped.data, 60);
	ck_assert_uint_eq(c.failed_auths, 0);
	ck_assert_int_eq(c.last_seen_us, 0);
	ck_assert_int_eq(db_client_add(w.db, &w.client), DB_EXISTS);
	ck_assert_int_eq(db_client_find(w.db, "cl-nobody", &c), DB_NOT_FOUND);

	OK(w.db, db_client_auth_result(w.db, w.client.id, 0));
	OK(w.db, db_client_auth_result(w.db, w.client.id, 0));
	OK(w.db, db_client_get(w.db, w.client.id, &c));
	ck_assert_uint_eq(c.failed_auths, 2);
	ck_assert_int_eq(c.last_seen_us, 0);
	OK(w.db, db_client_auth_result(w.db, w.client.id, 1));
	OK(w.db, db_client_get(w.db, w.client.id, &c));
	ck_assert_uint_eq(c.failed_auths, 2);
	ck_assert_int_ge(c.last_seen_us, c.created_us);
	ck_assert_int_eq(db_client_auth_result(w.db, 987654321, 1),
	    DB_NOT_FOUND);
	db_close(&w.db);
}
END_TEST

START_TEST(test_ma_upsert)
{
	struct db		*db = open_db("");
	struct db_mediaagent	 m, again, got;

	memset(&m, 0, sizeof(m));
	(void)snprintf(m.name, sizeof(m.name), "ma-upsert");
	(void)snprintf(m.data_endpoint, sizeof(m.data_endpoint), "tcp://a:1");
	OK(db, db_ma_upsert(db, &m));
	again = m;
	again.id = 0;
	(void)snprintf(again.data_endpoint, sizeof(again.data_endpoint),
	    "tcp://b:2");
	(void)snprintf(again.mount_root, sizeof(again.mount_root), "/data");
	OK(db, db_ma_upsert(db, &again));
	ck_assert_int_eq(again.id, m.id);
	ck_assert_int_eq(sql("SELECT count(*) FROM mediaagents WHERE name = "
	    "'ma-upsert'"), 1);
	OK(db, db_ma_find(db, "ma-upsert", &got));
	ck_assert_str_eq(got.data_endpoint, "tcp://b:2");
	ck_assert_str_eq(got.mount_root, "/data");
	ck_assert_int_ge(got.last_seen_us, m.last_seen_us);
	OK(db, db_ma_get(db, m.id, &got));
	ck_assert_str_eq(got.name, "ma-upsert");
	db_close(&db);
}
END_TEST

struct job_ids {
	int64_t	ids[8];			/* as listed */
	int	n;			/* how many */
};

static void
collect_job(void *arg, const struct db_job *j)
{
	struct job_ids	*l = arg;

	if (l->n < 8)
		l->ids[l->n++] = j->id;
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
	memset(&r, 0, sizeof(r));
	r.type = 2;
	r.client_id = w.client.id;
	r.pool_id = w.pool.id;
	r.copy_id = w.pool.copy_id;
	r.key_set_id = w.ks.id;
	r.backup_job = j.id;
	OK(w.db, db_job_create(w.db, &r));
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

/* A struct with guard bytes after it, to see that nothing overflows. */
struct guarded_ma {
	struct db_mediaagent	ma;		/* filled by the layer */
	uint8_t			guard[64];	/* must stay 0xa5 */
};

START_TEST(test_limits_read)
{
	struct world		 w;
	struct guarded_ma	*g;
	struct db_client	 c;
	struct db_job		 j, got;
	struct job_ids		 list = { { 0 }, 0 };
	size_t			 i;

	world(&w, "limits");
	g = malloc(sizeof(*g));
	ck_assert_ptr_nonnull(g);
	memset(g->guard, 0xa5, sizeof(g->guard));

	/* A text value longer than its field: an error, not a truncation. */
	sql("UPDATE mediaagents SET data_endpoint = repeat('x', 2000) "
	    "WHERE name = 'ma-limits'");
	ck_assert_int_eq(db_ma_find(w.db, "ma-limits", &g->ma), DB_ERROR);
	ck_assert_msg(strstr(db_errmsg(w.db), "data_endpoint") != NULL, "%s",
	    db_errmsg(w.db));
	for (i = 0; i < sizeof(g->guard); i++)
		ck_assert_uint_eq(g->guard[i], 0xa5);
	/* Exactly one byte too long, and exactly fitting. */
	sql("UPDATE mediaagents SET data_endpoint = repeat('y', %d) "
	    "WHERE name = 'ma-limits'", DB_TEXT_MAX);
	ck_assert_int_eq(db_ma_find(w.db, "ma-limits", &g->ma), DB_ERROR);
	sql("UPDATE mediaagents SET data_endpoint = repeat('y', %d) "
	    "WHERE name = 'ma-limits'", DB_TEXT_MAX - 1);
	OK(w.db, db_ma_find(w.db, "ma-limits", &g->ma));
	ck_assert_uint_eq(strlen(g->ma.data_endpoint), DB_TEXT_MAX - 1);
	/* And through a join: the pool's MediaAgent name is fine. */
	sql("UPDATE mediaagents SET mount_root = repeat('z', 5000) "
	    "WHERE name = 'ma-limits'");
	ck_assert_int_eq(db_ma_get(w.db, w.ma.id, &g->ma), DB_ERROR);
	free(g);

	/* A blob longer than DB_BLOB_MAX. */
	sql("UPDATE clients SET salt = decode(repeat('ab', %d), 'hex') "
	    "WHERE name = 'cl-limits'", DB_BLOB_MAX + 1);
	ck_assert_int_eq(db_client_get(w.db, w.client.id, &c), DB_ERROR);
	ck_assert_msg(strstr(db_errmsg(w.db), "salt") != NULL, "%s",
	    db_errmsg(w.db));
	sql("UPDATE clients SET salt = decode(repeat('ab', %d), 'hex') "
	    "WHERE name = 'cl-limits'", DB_BLOB_MAX);
	OK(w.db, db_client_get(w.db, w.client.id, &c));
	ck_assert_uint_eq(c.salt.len, DB_BLOB_MAX);

	/* A job's error, through the list as well as the get. */
	backup_job(&w, &j, 1);
	sql("UPDATE jobs SET error = repeat('e', %d) WHERE id = %" PRId64,
	    DB_TEXT_MAX, j.id);
	ck_assert_int_eq(db_job_get(w.db, j.id, &got), DB_ERROR);
	ck_assert_int_eq(db_job_list(w.db, 1, collect_job, &list), DB_ERROR);
	ck_assert_int_eq(list.n, 0);
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

/* Kill the layer's backend from another connection. */
static void
kill_backend(const char *appname)
{
	ck_assert_int_eq(sql("SELECT count(pg_terminate_backend(pid, 5000)) "
	    "FROM pg_stat_activity WHERE application_name = '%s'", appname),
	    1);
}

START_TEST(test_reconnect)
{
	struct db		*db;
	struct db_mediaagent	 m;
	int			 rc, round;

	db = open_db("application_name=kf_check_victim");
	memset(&m, 0, sizeof(m));
	(void)snprintf(m.name, sizeof(m.name), "ma-reconnect");
	(void)snprintf(m.data_endpoint, sizeof(m.data_endpoint), "tcp://x:1");
	OK(db, db_ma_upsert(db, &m));
	for (round = 0; round < 3; round++) {
		kill_backend("kf_check_victim");
		/* The next call may fail or reconnect by itself ... */
		rc = db_ma_find(db, "ma-reconnect", &m);
		ck_assert_msg(rc == DB_OK || rc == DB_ERROR, "rc %d", rc);
		/* ... and the call after that works. */
		OK(db, db_ma_find(db, "ma-reconnect", &m));
		ck_assert_str_eq(m.data_endpoint, "tcp://x:1");
	}
	db_close(&db);
}
END_TEST

static Suite *
db_suite(void)
{
	Suite	*s = suite_create("db");
	TCase	*tc = tcase_create("db");
	TCase	*lim = tcase_create("Limits");

	tcase_set_timeout(tc, 120);
	tcase_set_timeout(lim, 120);
	tcase_add_test(tc, test_open_bad);
	tcase_add_test(tc, test_migrate);
	tcase_add_test(tc, test_kms);
	tcase_add_test(tc, test_pools);
	tcase_add_test(tc, test_clients);
	tcase_add_test(tc, test_ma_upsert);
	tcase_add_test(tc, test_jobs);
	tcase_add_test(tc, test_commit_backup);
	tcase_add_test(tc, test_commit_refused);
	tcase_add_test(tc, test_interrupt);
	tcase_add_test(tc, test_events);
	tcase_add_test(tc, test_reconnect);
	tcase_add_test(lim, test_limits_read);
	tcase_add_test(lim, test_limits_write);
	suite_add_tcase(s, tc);
	suite_add_tcase(s, lim);
	return s;
}

static int
admin_exec(const char *q)
{
	PGconn		*c = PQconnectdb(server_conninfo);
	PGresult	*res;
	int		 ok;

	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "check_db: cannot connect: %s",
		    PQerrorMessage(c));
		PQfinish(c);
		return -1;
	}
	PQsetNoticeProcessor(c, quiet, NULL);
	res = PQexec(c, q);
	ok = PQresultStatus(res) == PGRES_COMMAND_OK;
	if (!ok)
		fprintf(stderr, "check_db: %s: %s", q, PQerrorMessage(c));
	PQclear(res);
	PQfinish(c);
	return ok ? 0 : -1;
}

int
main(void)
{
	const char	*file = getenv("KF_TEST_PG_CONNINFO_FILE");
	FILE		*f;
	SRunner		*sr;
	char		 q[128];
	size_t		 n;
	int		 failed;

	if (file == NULL || *file == '\0') {
		printf("check_db: KF_TEST_PG_CONNINFO_FILE is not set (run "
		    "under ctest, or start tests/pg.sh and point it at "
		    "DIR/conninfo): skipped\n");
		return 77;
	}
	if ((f = fopen(file, "r")) == NULL ||
	    fgets(server_conninfo, sizeof(server_conninfo), f) == NULL) {
		fprintf(stderr, "check_db: cannot read %s\n", file);
		return 1;
	}
	fclose(f);
	n = strcspn(server_conninfo, "\r\n");
	server_conninfo[n] = '\0';

	(void)snprintf(test_db, sizeof(test_db), "kf_test_%ld",
	    (long)getpid());
	(void)snprintf(q, sizeof(q), "DROP DATABASE IF EXISTS %s", test_db);
	if (admin_exec(q) == -1)
		return 1;
	(void)snprintf(q, sizeof(q), "CREATE DATABASE %s", test_db);
	if (admin_exec(q) == -1)
		return 1;
	if (conninfo_with_db(test_conninfo, sizeof(test_conninfo),
	    test_db) == -1)
		return 1;

	sr = srunner_create(db_suite());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);

	(void)snprintf(q, sizeof(q), "DROP DATABASE %s WITH (FORCE)", test_db);
	if (admin_exec(q) == -1)
		failed++;
	return failed == 0 ? 0 : 1;
}
