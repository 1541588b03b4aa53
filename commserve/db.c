/*
 * db.c - the CommServe database connection: the only file that speaks
 * libpq.
 *
 * Everything goes through db_exec(), one call with typed parameters (text,
 * or binary for bytea) whose result is checked for its status and shape
 * before any row is read, in the style of pg_auto_failover
 * and pg_rewind.  A failure keeps PostgreSQL's SQLSTATE; a connection-class
 * failure (08xxx, an administrator's termination, or libpq finding the
 * socket closed) marks the connection broken, and the next call outside a
 * transaction reconnects, so commserved outlives a PostgreSQL restart.  A
 * statement whose outcome is unknown is never retried: the caller gets the
 * error.  A statement with few parameters is prepared once per connection
 * (found again by its text and parameter types), so the server does not
 * parse and plan it on every call; a reconnect forgets them all.
 *
 * Rows are read through the bounded db_col_* readers: results come back in
 * text format, bytea as "\x" hex that is decoded with length checks, and a
 * value that does not fit its destination is an error naming the column,
 * never a truncation.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "db.h"
#include "db_internal.h"
#include "log.h"

#define DB_ARGS_MAX	512		/* parameters of one statement */
#define BYTEA_OID	17		/* pg_type.oid of bytea */
#define PREP_MAX	96		/* prepared statements per connection */
#define PREP_ARGS_MAX	32		/* more parameters: not prepared */

/*
 * A statement prepared on the current connection, found by its text and
 * parameter types: the server parses and plans it once, not per call.
 */
struct prep {
	char		*sql;		/* the statement's text */
	uint32_t	 hash;		/* FNV-1a of sql and the types */
	int		 nargs;		/* parameters */
	Oid		 types[PREP_ARGS_MAX]; /* their types, 0: inferred */
	char		 name[16];	/* "kf<n>" on the server */
};

struct db {
	PGconn	*conn;			/* NULL until (re)connected */
	char	*conninfo;		/* kept for reconnects; may hold a password */
	int	 broken;		/* reconnect before the next statement */
	int	 in_tx;			/* between db_begin and commit/rollback */
	int	 in_copy;		/* between db_copy_begin and end/abort */
	int	 down;			/* a reconnect failed (logged once) */
	char	 sqlstate[6];		/* of the last failure, "" if none */
	char	 err[512];		/* db_errmsg() */
	struct prep prep[PREP_MAX];	/* prepared on this connection */
	int	 nprep;			/* entries of prep in use */
};

static void
quiet_notices(void *arg, const char *message)
{
	/* "relation already exists, skipping" and friends: not for stderr. */
}

void
db_seterr(struct db *db, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	(void)vsnprintf(db->err, sizeof(db->err), fmt, ap);
	va_end(ap);
}

/* libpq's messages end in newlines and may span lines: make one line. */
static void
seterr_pq(struct db *db, const char *what, const char *msg)
{
	char	 line[400];
	size_t	 i, n = 0;

	if (msg == NULL || *msg == '\0')
		msg = "no message from libpq";
	for (i = 0; msg[i] != '\0' && n + 1 < sizeof(line); i++) {
		if (msg[i] == '\n' || msg[i] == '\r' || msg[i] == '\t') {
			if (n > 0 && line[n - 1] != ' ')
				line[n++] = ' ';
		} else
			line[n++] = msg[i];
	}
	while (n > 0 && line[n - 1] == ' ')
		n--;
	line[n] = '\0';
	db_seterr(db, "%s: %s", what, line);
}

static void	db_result_err(struct db *, const PGresult *, const char *);

/* A new connection has no prepared statements. */
static void
prep_forget(struct db *db)
{
	int	i;

	for (i = 0; i < db->nprep; i++)
		free(db->prep[i].sql);
	db->nprep = 0;
}

static uint32_t
prep_hash(const char *sql, int nargs, const Oid *types)
{
	uint32_t	h = 2166136261u;
	int		i;

	for (; *sql != '\0'; sql++)
		h = (h ^ (unsigned char)*sql) * 16777619u;
	for (i = 0; i < nargs; i++)
		h = (h ^ (uint32_t)types[i]) * 16777619u;
	return h;
}

/*
 * The name of sql prepared on this connection with these parameter types,
 * preparing it first; NULL to run it unprepared (a transaction statement,
 * many parameters, a full table).  A failed PREPARE is the statement's
 * error: *failed is set and db's error says why.
 */
static const char *
prep_name(struct db *db, const char *sql, int nargs, const Oid *types,
    int *failed)
{
	struct prep	*p;
	PGresult	*res;
	uint32_t	 h;
	int		 i;

	*failed = 0;
	if (nargs > PREP_ARGS_MAX || (strncmp(sql, "SELECT", 6) != 0 &&
	    strncmp(sql, "INSERT", 6) != 0 && strncmp(sql, "UPDATE", 6) != 0 &&
	    strncmp(sql, "DELETE", 6) != 0 && strncmp(sql, "WITH", 4) != 0))
		return NULL;
	h = prep_hash(sql, nargs, types);
	for (i = 0; i < db->nprep; i++) {
		p = &db->prep[i];
		if (p->hash == h && p->nargs == nargs &&
		    memcmp(p->types, types, nargs * sizeof(*types)) == 0 &&
		    strcmp(p->sql, sql) == 0)
			return p->name;
	}
	if (db->nprep == PREP_MAX)
		return NULL;
	p = &db->prep[db->nprep];
	if ((p->sql = strdup(sql)) == NULL)
		return NULL;
	(void)snprintf(p->name, sizeof(p->name), "kf%d", db->nprep);
	res = PQprepare(db->conn, p->name, sql, nargs, types);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		db_result_err(db, res, "database");
		PQclear(res);
		free(p->sql);
		*failed = 1;
		return NULL;
	}
	PQclear(res);
	p->hash = h;
	p->nargs = nargs;
	if (nargs > 0)
		memcpy(p->types, types, nargs * sizeof(*types));
	db->nprep++;
	return p->name;
}

static int
db_connect(struct db *db)
{
	PGresult	*res;

	if (db->conn != NULL)
		PQfinish(db->conn);
	prep_forget(db);
	db->in_tx = db->in_copy = 0;
	db->broken = 1;
	if ((db->conn = PQconnectdb(db->conninfo)) == NULL) {
		db_seterr(db, "cannot connect to the database: out of memory");
		return -1;
	}
	if (PQstatus(db->conn) != CONNECTION_OK) {
		seterr_pq(db, "cannot connect to the database",
		    PQerrorMessage(db->conn));
		return -1;
	}
	PQsetNoticeProcessor(db->conn, quiet_notices, NULL);
	if (PQsetClientEncoding(db->conn, "UTF8") != 0) {
		seterr_pq(db, "cannot set the client encoding",
		    PQerrorMessage(db->conn));
		return -1;
	}
	/* The readers decode bytea as hex, whatever the server's default. */
	res = PQexec(db->conn, "SET bytea_output = 'hex'");
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		seterr_pq(db, "cannot set bytea_output",
		    PQerrorMessage(db->conn));
		PQclear(res);
		return -1;
	}
	PQclear(res);
	db->broken = 0;
	return 0;
}

struct db *
db_open(const char *conninfo, char *err, size_t errcap)
{
	struct db	*db;

	if ((db = calloc(1, sizeof(*db))) == NULL ||
	    (db->conninfo = strdup(conninfo)) == NULL) {
		(void)snprintf(err, errcap, "out of memory");
		goto fail;
	}
	if (db_connect(db) == -1) {
		(void)snprintf(err, errcap, "%s", db->err);
		goto fail;
	}
	return db;
fail:
	db_close(&db);
	return NULL;
}

void
db_close(struct db **dbp)
{
	struct db	*db = *dbp;

	if (db == NULL)
		return;
	if (db->conn != NULL)
		PQfinish(db->conn);
	prep_forget(db);
	if (db->conninfo != NULL) {
		explicit_bzero(db->conninfo, strlen(db->conninfo));
		free(db->conninfo);
	}
	free(db);
	*dbp = NULL;
}

const char *
db_errmsg(const struct db *db)
{
	return db->err;
}

/* Before a statement: reconnect if needed, but never inside a transaction. */
static int
db_ready(struct db *db)
{
	if (db->conn != NULL && !db->broken) {
		/*
		 * A server that closed the connection while we were idle
		 * (a restart, pg_terminate_backend) has left an error and
		 * EOF in the socket: reading them now lets us reconnect
		 * before sending anything, instead of failing this call.
		 */
		if (!db->in_tx && !db->in_copy) {
			(void)PQconsumeInput(db->conn);
			(void)PQconsumeInput(db->conn);
		}
		if (PQstatus(db->conn) == CONNECTION_OK &&
		    !db->in_tx && !db->in_copy &&
		    PQtransactionStatus(db->conn) != PQTRANS_IDLE) {
			/*
			 * A transaction left open by mistake would swallow
			 * every later change: end it, and say so.
			 */
			log_warnx("database: a transaction was left open; "
			    "rolling it back");
			PQclear(PQexec(db->conn, "ROLLBACK"));
			if (PQtransactionStatus(db->conn) != PQTRANS_IDLE)
				db->broken = 1;
		}
		if (PQstatus(db->conn) == CONNECTION_OK && !db->broken)
			return 0;
		db->broken = 1;
	}
	if (db->in_tx) {
		db_seterr(db, "the database connection was lost during a "
		    "transaction, which was rolled back");
		return -1;
	}
	if (!db->down)
		log_warnx("database: connection lost, reconnecting");
	if (db_connect(db) == -1) {
		/* Said once; the callers report each failed call. */
		db->down = 1;
		return -1;
	}
	db->down = 0;
	log_info("database: reconnected");
	return 0;
}

/* Record a failed result: message, SQLSTATE, and whether to reconnect. */
static void
db_result_err(struct db *db, const PGresult *res, const char *what)
{
	const char	*state = NULL, *msg = NULL;

	if (res != NULL) {
		state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	}
	(void)snprintf(db->sqlstate, sizeof(db->sqlstate), "%s",
	    state != NULL ? state : "");
	if (msg == NULL)
		seterr_pq(db, what, PQerrorMessage(db->conn));
	else
		db_seterr(db, "%s: %s (SQLSTATE %s)", what, msg, db->sqlstate);
	if (state == NULL || strncmp(state, "08", 2) == 0 ||
	    strncmp(state, "57P0", 4) == 0 ||
	    PQstatus(db->conn) != CONNECTION_OK)
		db->broken = 1;
}

static int
exec_rows(struct db *db, const char *sql, int nargs,
    const struct db_arg *args, int ncols, db_row_fn fn, void *ctx,
    uint64_t *nrows, int one)
{
	const char	*values[DB_ARGS_MAX];
	int		 lengths[DB_ARGS_MAX], formats[DB_ARGS_MAX];
	Oid		 types[DB_ARGS_MAX];
	ExecStatusType	 want = ncols > 0 ? PGRES_TUPLES_OK : PGRES_COMMAND_OK;
	PGresult	*res = NULL;
	struct db_row	 row;
	const char	*tuples, *name;
	int		 i, n, failed, rc = DB_ERROR;

	if (nrows != NULL)
		*nrows = 0;
	db->sqlstate[0] = '\0';
	if (nargs < 0 || nargs > DB_ARGS_MAX || db->in_copy) {
		db_seterr(db, "internal error: bad statement (%d parameters)",
		    nargs);
		return DB_ERROR;
	}
	if (db_ready(db) == -1)
		return DB_ERROR;
	for (i = 0; i < nargs; i++) {
		types[i] = 0;
		lengths[i] = 0;
		formats[i] = 0;
		values[i] = NULL;
		switch (args[i].kind) {
		case DB_ARG_NULL:
			break;
		case DB_ARG_TEXT:
			values[i] = args[i].text;
			break;
		case DB_ARG_BIN:
			if (args[i].len > INT_MAX) {
				db_seterr(db, "parameter %d is too large", i + 1);
				return DB_ERROR;
			}
			/* libpq wants a pointer even for zero bytes. */
			values[i] = args[i].len > 0 ?
			    (const char *)args[i].bin : "";
			lengths[i] = (int)args[i].len;
			formats[i] = 1;
			types[i] = BYTEA_OID;
			break;
		}
	}
	name = prep_name(db, sql, nargs, types, &failed);
	if (failed) {
		if (strcmp(db->sqlstate, "23505") == 0)
			rc = DB_EXISTS;
		return rc;
	}
	if (name != NULL)
		res = PQexecPrepared(db->conn, name, nargs, values, lengths,
		    formats, 0);
	else
		res = PQexecParams(db->conn, sql, nargs, types, values,
		    lengths, formats, 0);
	if (PQresultStatus(res) != want) {
		if (res == NULL || PQresultStatus(res) == PGRES_FATAL_ERROR ||
		    PQresultStatus(res) == PGRES_NONFATAL_ERROR) {
			db_result_err(db, res, "database");
			if (strcmp(db->sqlstate, "23505") == 0)
				rc = DB_EXISTS;
		} else
			db_seterr(db, "internal error: statement returned %s",
			    PQresStatus(PQresultStatus(res)));
		goto fail;
	}
	if (ncols == 0) {
		tuples = PQcmdTuples(res);
		if (nrows != NULL && *tuples != '\0')
			*nrows = strtoull(tuples, NULL, 10);
		PQclear(res);
		return DB_OK;
	}
	if (PQnfields(res) != ncols) {
		db_seterr(db, "internal error: %d columns where %d were expected",
		    PQnfields(res), ncols);
		goto fail;
	}
	n = PQntuples(res);
	if (nrows != NULL)
		*nrows = (uint64_t)n;
	if (one && n != 1) {
		if (n == 0)
			rc = DB_NOT_FOUND;
		else
			db_seterr(db, "internal error: %d rows where one was "
			    "expected", n);
		goto fail;
	}
	row.res = res;
	row.db = db;
	for (i = 0; fn != NULL && i < n; i++) {
		row.row = i;
		if (fn(db, &row, ctx) == -1)
			goto fail;
	}
	PQclear(res);
	return DB_OK;
fail:
	PQclear(res);
	return rc;
}

int
db_exec(struct db *db, const char *sql, int nargs, const struct db_arg *args,
    int ncols, db_row_fn fn, void *ctx, uint64_t *nrows)
{
	return exec_rows(db, sql, nargs, args, ncols, fn, ctx, nrows, 0);
}

int
db_exec_one(struct db *db, const char *sql, int nargs,
    const struct db_arg *args, int ncols, db_row_fn fn, void *ctx)
{
	if (ncols <= 0) {
		db_seterr(db, "internal error: db_exec_one needs columns");
		return DB_ERROR;
	}
	return exec_rows(db, sql, nargs, args, ncols, fn, ctx, NULL, 1);
}

int
db_begin(struct db *db)
{
	if (db->in_tx) {
		db_seterr(db, "internal error: nested transaction");
		return DB_ERROR;
	}
	if (db_exec(db, "BEGIN", 0, NULL, 0, NULL, NULL, NULL) != DB_OK)
		return DB_ERROR;
	db->in_tx = 1;
	return DB_OK;
}

int
db_commit(struct db *db)
{
	PGresult	*res;
	int		 rc = DB_ERROR;

	if (!db->in_tx || db->in_copy || db->broken) {
		db_seterr(db, "internal error: commit outside a transaction");
		db_rollback(db);
		return DB_ERROR;
	}
	res = PQexec(db->conn, "COMMIT");
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		db_result_err(db, res, "commit failed, outcome unknown");
	else if (strcmp(PQcmdStatus(res), "COMMIT") != 0)
		/* An aborted transaction "commits" as ROLLBACK. */
		db_seterr(db, "the transaction was rolled back");
	else
		rc = DB_OK;
	PQclear(res);
	db->in_tx = 0;
	return rc;
}

void
db_rollback(struct db *db)
{
	PGresult	*res;

	if (db->in_copy)
		db_copy_abort(db, "rolled back");
	if (db->in_tx && !db->broken && db->conn != NULL) {
		res = PQexec(db->conn, "ROLLBACK");
		if (PQresultStatus(res) != PGRES_COMMAND_OK)
			db->broken = 1;
		PQclear(res);
	}
	db->in_tx = 0;
}

int
db_copy_begin(struct db *db, const char *sql)
{
	PGresult	*res;

	if (db->in_copy || db_ready(db) == -1)
		return DB_ERROR;
	res = PQexec(db->conn, sql);
	if (PQresultStatus(res) != PGRES_COPY_IN) {
		db_result_err(db, res, "COPY");
		PQclear(res);
		return DB_ERROR;
	}
	PQclear(res);
	db->in_copy = 1;
	return DB_OK;
}

int
db_copy_put(struct db *db, const char *buf, size_t len)
{
	size_t	n;

	while (len > 0) {
		n = len > (1U << 20) ? (1U << 20) : len;
		if (PQputCopyData(db->conn, buf, (int)n) != 1) {
			seterr_pq(db, "COPY", PQerrorMessage(db->conn));
			db->broken = 1;
			return DB_ERROR;
		}
		buf += n;
		len -= n;
	}
	return DB_OK;
}

/* Read what follows the end of a COPY; the first result decides. */
static int
copy_results(struct db *db, uint64_t *rows, int keep_err)
{
	PGresult	*res;
	int		 rc = DB_ERROR, first = 1;

	while ((res = PQgetResult(db->conn)) != NULL) {
		if (first && PQresultStatus(res) == PGRES_COMMAND_OK) {
			if (rows != NULL)
				*rows = strtoull(PQcmdTuples(res), NULL, 10);
			rc = DB_OK;
		} else if (first && !keep_err)
			db_result_err(db, res, "COPY");
		first = 0;
		PQclear(res);
	}
	if (PQstatus(db->conn) != CONNECTION_OK)
		db->broken = 1;
	db->in_copy = 0;
	return rc;
}

int
db_copy_end(struct db *db, uint64_t *rows)
{
	if (rows != NULL)
		*rows = 0;
	if (!db->in_copy)
		return DB_ERROR;
	if (PQputCopyEnd(db->conn, NULL) != 1) {
		seterr_pq(db, "COPY", PQerrorMessage(db->conn));
		db->broken = 1;
		db->in_copy = 0;
		return DB_ERROR;
	}
	return copy_results(db, rows, 0);
}

void
db_copy_abort(struct db *db, const char *why)
{
	if (!db->in_copy)
		return;
	if (PQputCopyEnd(db->conn, why) != 1) {
		db->broken = 1;
		db->in_copy = 0;
		return;
	}
	(void)copy_results(db, NULL, 1);
}
