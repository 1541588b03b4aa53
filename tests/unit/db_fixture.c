/*
 * db_fixture.c - the shared fixture of the check_db* suites, which test the
 * CommServe database layer (commserve/db*.c) against a live PostgreSQL.
 *
 * The ctest fixture "pg" (tests/pg.sh) starts a private cluster and
 * KF_TEST_PG_CONNINFO_FILE names a file holding its conninfo; without it
 * a binary says why and exits 77 (skipped).  Each run works in a fresh
 * database, kf_test_<pid>, dropped at the end, so suites never see each
 * other's rows; each test uses names of its own, so the tests also pass in
 * one process (CK_FORK=no, as under valgrind).
 *
 * The tests reach the database directly through libpq too: to count rows
 * the API does not show, to tamper with rows the way a damaged or hostile
 * database would, and to kill the layer's connection.
 */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "check_main.h"
#include "db.h"
#include "db_fixture.h"

static const char *prog = "check_db";	/* the binary, for messages */
static char	server_conninfo[1024];	/* the fixture's keyflow database */
char		test_db[64];		/* kf_test_<pid> */
char		test_conninfo[2048];	/* the same server, test_db */

/* Conninfo of the fixture's server with another database name. */
int
conninfo_with_db(char *out, size_t cap, const char *dbname)
{
	PQconninfoOption	*opts, *o;
	char			*err = NULL;
	size_t			 n = 0, i;

	if ((opts = PQconninfoParse(server_conninfo, &err)) == NULL) {
		fprintf(stderr, "%s: bad conninfo: %s", prog, err ? err : "?");
		PQfreemem(err);
		return -1;
	}
	out[0] = '\0';
	for (o = opts; o->keyword != NULL; o++) {
		if (o->val == NULL || strcmp(o->keyword, "dbname") == 0)
			continue;
		n += (size_t)snprintf(out + n, cap - n, "%s='", o->keyword);
		if (n >= cap)
			break;
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
		fprintf(stderr, "%s: conninfo too long\n", prog);
		return -1;
	}
	return 0;
}

static void
quiet(void *arg, const char *message)
{
	/* "database ... does not exist, skipping" */
}

PGconn *
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
long long
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

struct db *
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

void
fill_blob(struct db_blob *b, size_t len, uint8_t seed)
{
	size_t	i;

	for (i = 0; i < len; i++)
		b->data[i] = (uint8_t)(seed + i * 7);
	b->len = len;
}

void
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

void
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

void
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

void
collect_job(void *arg, const struct db_job *j)
{
	struct job_ids	*l = arg;

	if (l->n < 8)
		l->ids[l->n++] = j->id;
}

static int
admin_exec(const char *q)
{
	PGconn		*c = PQconnectdb(server_conninfo);
	PGresult	*res;
	int		 ok;

	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "%s: cannot connect: %s", prog,
		    PQerrorMessage(c));
		PQfinish(c);
		return -1;
	}
	PQsetNoticeProcessor(c, quiet, NULL);
	res = PQexec(c, q);
	ok = PQresultStatus(res) == PGRES_COMMAND_OK;
	if (!ok)
		fprintf(stderr, "%s: %s: %s", prog, q, PQerrorMessage(c));
	PQclear(res);
	PQfinish(c);
	return ok ? 0 : -1;
}

/*
 * The binary's suite, named after it without "check_": a case of that name
 * for the core tests and a "Limits" case, each allowed two minutes.
 */
static Suite *
make_suite(const TTest *const *core, const TTest *const *limits)
{
	const char	*name = prog;
	Suite		*s;
	TCase		*tc, *lim;

	if (strncmp(name, "check_", 6) == 0)
		name += 6;
	s = suite_create(name);
	tc = tcase_create(name);
	lim = tcase_create("Limits");
	tcase_set_timeout(tc, 120);
	tcase_set_timeout(lim, 120);
	for (; *core != NULL; core++)
		tcase_add_test(tc, *core);
	for (; *limits != NULL; limits++)
		tcase_add_test(lim, *limits);
	suite_add_tcase(s, tc);
	suite_add_tcase(s, lim);
	return s;
}

int
db_fixture_main(const char *name, const TTest *const *core,
    const TTest *const *limits)
{
	const char	*file = getenv("KF_TEST_PG_CONNINFO_FILE");
	FILE		*f;
	char		 q[128];
	size_t		 n;
	int		 rc;

	prog = name;
	if (file == NULL || *file == '\0') {
		printf("%s: KF_TEST_PG_CONNINFO_FILE is not set (run "
		    "under ctest, or start tests/pg.sh and point it at "
		    "DIR/conninfo): skipped\n", prog);
		return 77;
	}
	if ((f = fopen(file, "r")) == NULL) {
		fprintf(stderr, "%s: cannot open %s\n", prog, file);
		return 1;
	}
	if (fgets(server_conninfo, sizeof(server_conninfo), f) == NULL) {
		fprintf(stderr, "%s: cannot read %s\n", prog, file);
		fclose(f);
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

	rc = check_run(make_suite(core, limits), NULL);

	(void)snprintf(q, sizeof(q), "DROP DATABASE %s WITH (FORCE)", test_db);
	if (admin_exec(q) == -1)
		rc = EXIT_FAILURE;
	return rc;
}
