/*
 * check_db.c - the CommServe database layer (commserve/db*.c) against a
 * live PostgreSQL, part one: the connection (open, reconnect), migrations,
 * storage pools and their key sets, KMS servers, clients and MediaAgents,
 * and the limits on what the layer reads back.  Jobs, the catalog and
 * trace events are in check_db_job.c; the shared fixture (a database per
 * run, direct libpq access, a "world" of rows) is db_fixture.c.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "db.h"
#include "db_fixture.h"

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
			fprintf(stderr, "child: %s\n",
			    db ? db_errmsg(db) : err);
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
	ck_assert_int_eq(version, 4);
	ck_assert_int_eq(sql("SELECT count(*) FROM schema_version"), 4);
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

/*
 * A MediaAgent name pinned to the CURVE key of its first registration:
 * another key is refused without changing the row, a registration without
 * CURVE ("") neither checks nor clears the pin, and unpin hands back the
 * old key so the next key pins.
 */
START_TEST(test_ma_pin)
{
	struct db		*db = open_db("");
	struct db_mediaagent	 m, other, got;
	char			 old[DB_CURVE_KEY_MAX];
	const char		*ka = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
	const char		*kb = "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB";

	memset(&m, 0, sizeof(m));
	(void)snprintf(m.name, sizeof(m.name), "ma-pin");
	(void)snprintf(m.data_endpoint, sizeof(m.data_endpoint), "tcp://a:1");
	(void)snprintf(m.curve_key, sizeof(m.curve_key), "%s", ka);
	OK(db, db_ma_upsert(db, &m));
	other = m;
	(void)snprintf(other.data_endpoint, sizeof(other.data_endpoint),
	    "tcp://b:2");
	(void)snprintf(other.curve_key, sizeof(other.curve_key), "%s", kb);
	ck_assert_int_eq(db_ma_upsert(db, &other), DB_EXISTS);
	OK(db, db_ma_find(db, "ma-pin", &got));
	ck_assert_str_eq(got.data_endpoint, "tcp://a:1");
	ck_assert_str_eq(got.curve_key, ka);
	/* The same key again is welcome; no key (CURVE off) keeps the pin. */
	OK(db, db_ma_upsert(db, &m));
	other.curve_key[0] = '\0';
	OK(db, db_ma_upsert(db, &other));
	OK(db, db_ma_find(db, "ma-pin", &got));
	ck_assert_str_eq(got.data_endpoint, "tcp://b:2");
	ck_assert_str_eq(got.curve_key, ka);
	OK(db, db_ma_unpin(db, "ma-pin", old));
	ck_assert_str_eq(old, ka);
	(void)snprintf(other.curve_key, sizeof(other.curve_key), "%s", kb);
	OK(db, db_ma_upsert(db, &other));
	OK(db, db_ma_find(db, "ma-pin", &got));
	ck_assert_str_eq(got.curve_key, kb);
	ck_assert_int_eq(db_ma_unpin(db, "no-such-ma", old), DB_NOT_FOUND);
	db_close(&db);
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

int
main(void)
{
	const TTest *const core[] = { test_open_bad, test_migrate, test_kms,
	    test_pools, test_clients, test_ma_upsert, test_ma_pin,
	    test_reconnect, NULL };
	const TTest *const limits[] = { test_limits_read, NULL };

	return db_fixture_main("check_db", core, limits);
}
