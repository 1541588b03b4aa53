/*
 * db_internal.h - private to commserve/db*.c: the one query helper, typed
 * query parameters, bounded readers for result columns, transactions and
 * COPY.
 *
 * libpq itself stays inside db.c: the other db_*.c files see a row only
 * through the db_col_* readers, which never truncate (a value longer than
 * its destination is an error naming the column) and parse numbers with
 * range checks, because the database is as untrusted as the network.
 */
#ifndef KF_DB_INTERNAL_H
#define KF_DB_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"

/* Longest catalog path or symlink target (PATH_MAX). */
#define DB_PATH_MAX	4096

/* Microseconds since the epoch of a timestamptz column, 0 for NULL. */
#define DB_US(col) \
	"coalesce((extract(epoch FROM " col ") * 1000000)::int8, 0)"
/* The timestamptz for a bigint parameter of microseconds. */
#define DB_TS(param) \
	"(timestamptz 'epoch' + (" param ")::int8 * interval '1 microsecond')"

enum db_arg_kind {
	DB_ARG_NULL,			/* SQL NULL */
	DB_ARG_TEXT,			/* text format, NUL-terminated */
	DB_ARG_BIN			/* binary format bytea */
};

/* One query parameter.  Fill with the db_arg_* functions. */
struct db_arg {
	enum db_arg_kind kind;		/* how the value is sent */
	const char	*text;		/* DB_ARG_TEXT: the value */
	const uint8_t	*bin;		/* DB_ARG_BIN: the bytes */
	size_t		 len;		/* DB_ARG_BIN: how many */
	char		 num[24];	/* storage for a formatted integer */
};

/* A result row, read only through db_col_*. */
/* One row of a result, as a db_row_fn sees it. */
struct pg_result;
struct db_row {
	struct pg_result *res;		/* the whole result (PGresult) */
	int		 row;		/* which row */
	struct db	*db;		/* where errors go */
};

/* Called for each row; -1 stops with DB_ERROR (set db_seterr first). */
typedef int (*db_row_fn)(struct db *, const struct db_row *, void *ctx);

/* db.c */
void	db_seterr(struct db *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	db_arg_null(struct db_arg *);
void	db_arg_text(struct db_arg *, const char *);
void	db_arg_bin(struct db_arg *, const void *, size_t);
void	db_arg_i64(struct db_arg *, int64_t);
/* An id: 0 is sent as NULL. */
void	db_arg_id(struct db_arg *, int64_t);
/* DB_ERROR when v does not fit in PostgreSQL's bigint. */
int	db_arg_u64(struct db *, struct db_arg *, uint64_t v, const char *what);
/* A fixed-size char field: DB_ERROR unless NUL-terminated within cap. */
int	db_arg_field(struct db *, struct db_arg *, const char *s, size_t cap,
	    const char *what);
/* A blob: DB_ERROR if len > DB_BLOB_MAX; empty is sent as NULL. */
int	db_arg_blob(struct db *, struct db_arg *, const struct db_blob *,
	    const char *what);
#define DB_ARG_FIELD(db, a, field, what) \
	db_arg_field((db), (a), (field), sizeof(field), (what))
/*
 * Copy text that came from a peer into buf (cap > 0) as valid UTF-8:
 * invalid bytes become '?', and it is cut at a character boundary.
 */
void	db_text_clean(char *buf, size_t cap, const char *s);

/*
 * Run one parameterised statement.  ncols 0: a command, and *nrows (if
 * not NULL) is the number of rows it changed.  ncols > 0: a query that
 * must return exactly ncols columns; fn (may be NULL) sees each row and
 * *nrows is the number of rows.  DB_OK, DB_EXISTS (unique violation) or
 * DB_ERROR.
 */
int	db_exec(struct db *, const char *sql, int nargs,
	    const struct db_arg *args, int ncols, db_row_fn fn, void *ctx,
	    uint64_t *nrows);
/* A query for one row: DB_OK, DB_NOT_FOUND, or DB_ERROR (also if > 1). */
int	db_exec_one(struct db *, const char *sql, int nargs,
	    const struct db_arg *args, int ncols, db_row_fn fn, void *ctx);

int	db_begin(struct db *);
int	db_commit(struct db *);
/* Keeps the current error message; safe on a broken connection. */
void	db_rollback(struct db *);

/* COPY ... FROM STDIN in text format: begin, put lines, end. */
int	db_copy_begin(struct db *, const char *sql);
int	db_copy_put(struct db *, const char *buf, size_t len);
/* Finish; *rows is the number of rows copied.  On failure the COPY is
 * aborted and the transaction must be rolled back. */
int	db_copy_end(struct db *, uint64_t *rows);
void	db_copy_abort(struct db *, const char *why);

int	db_col_isnull(const struct db_row *, int col);
int	db_col_i64(const struct db_row *, int col, int64_t *);
int	db_col_u64(const struct db_row *, int col, uint64_t *);
int	db_col_u32(const struct db_row *, int col, uint32_t *);
int	db_col_int(const struct db_row *, int col, int *);
int	db_col_bool(const struct db_row *, int col, int *);
/* Text into buf (cap includes the NUL); NULL reads as "". */
int	db_col_str(const struct db_row *, int col, char *buf, size_t cap);
/* bytea into buf; NULL reads as 0 bytes. */
int	db_col_bytes(const struct db_row *, int col, uint8_t *buf,
	    size_t cap, size_t *len);
int	db_col_blob(const struct db_row *, int col, struct db_blob *);
#define DB_COL_STR(r, c, field)	db_col_str((r), (c), (field), sizeof(field))

#endif
