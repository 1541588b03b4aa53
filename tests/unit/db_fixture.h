/*
 * db_fixture.h - the shared fixture of the check_db* suites (db_fixture.c):
 * a fresh database per run on the ctest "pg" cluster, direct libpq access
 * to count and tamper with rows, and a small world of rows to test with.
 */
#ifndef KF_DB_FIXTURE_H
#define KF_DB_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include <check.h>
#include <libpq-fe.h>

#include "db.h"

extern char	test_db[64];		/* kf_test_<pid> */
extern char	test_conninfo[2048];	/* the fixture's server, test_db */

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

/* Job ids in db_job_list's order: collect_job's context. */
struct job_ids {
	int64_t	ids[8];			/* as listed */
	int	n;			/* how many */
};

/* Conninfo of the fixture's server with another database name. */
int	conninfo_with_db(char *out, size_t cap, const char *dbname);
/* A libpq connection, asserted good, with notices silenced. */
PGconn	*pg_connect(const char *conninfo);
/* Run SQL on the test database; the first column of the first row. */
long long sql(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* db_open on the test database (conninfo plus extra), migrated. */
struct db *open_db(const char *extra);
void	fill_blob(struct db_blob *b, size_t len, uint8_t seed);
/* A built-in-KMS key set with master key id mkid and a fresh id. */
void	make_key_set(struct db *db, struct db_key_set *ks, const char *mkid);
void	world(struct world *w, const char *tag);
/* A running backup job in w, with a wrapped DEK if with_dek. */
void	backup_job(struct world *w, struct db_job *j, int with_dek);
/* db_job_list callback filling a struct job_ids. */
void	collect_job(void *arg, const struct db_job *j);

/*
 * The main() of a check_db* binary named name: read the conninfo (or exit
 * 77), create the test database, run the NULL-ended lists of core and
 * Limits tests, drop the database.  Returns the exit status.
 */
int	db_fixture_main(const char *name, const TTest *const *core,
	    const TTest *const *limits);

#endif
