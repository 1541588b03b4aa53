/*
 * db_value.c - values into and out of statements: the parameters handlers
 * build (db_arg_*) and the columns they read back (db_col_*).
 *
 * Every parameter is text or bytea in text or binary format, bounded
 * before it is sent; every column is checked for NULL, range and size as
 * it is read, so a value the database hands back that does not fit is an
 * error with the column's name, never a truncation.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "db.h"
#include "db_internal.h"
#include "util.h"

void
db_arg_null(struct db_arg *a)
{
	memset(a, 0, sizeof(*a));
	a->kind = DB_ARG_NULL;
}

void
db_arg_text(struct db_arg *a, const char *s)
{
	db_arg_null(a);
	if (s != NULL) {
		a->kind = DB_ARG_TEXT;
		a->text = s;
	}
}

void
db_arg_bin(struct db_arg *a, const void *p, size_t len)
{
	db_arg_null(a);
	a->kind = DB_ARG_BIN;
	a->bin = p;
	a->len = len;
}

void
db_arg_i64(struct db_arg *a, int64_t v)
{
	db_arg_null(a);
	(void)snprintf(a->num, sizeof(a->num), "%" PRId64, v);
	a->kind = DB_ARG_TEXT;
	a->text = a->num;
}

void
db_arg_id(struct db_arg *a, int64_t id)
{
	if (id == 0)
		db_arg_null(a);
	else
		db_arg_i64(a, id);
}

int
db_arg_u64(struct db *db, struct db_arg *a, uint64_t v, const char *what)
{
	if (v > INT64_MAX) {
		db_seterr(db, "%s %" PRIu64 " is too large for the database",
		    what, v);
		return DB_ERROR;
	}
	db_arg_i64(a, (int64_t)v);
	return DB_OK;
}

int
db_arg_field(struct db *db, struct db_arg *a, const char *s, size_t cap,
    const char *what)
{
	if (strnlen(s, cap) >= cap) {
		db_seterr(db, "%s is longer than %zu bytes", what, cap - 1);
		return DB_ERROR;
	}
	db_arg_text(a, s);
	return DB_OK;
}

int
db_arg_blob(struct db *db, struct db_arg *a, const struct db_blob *b,
    const char *what)
{
	if (b->len > sizeof(b->data)) {
		db_seterr(db, "%s is longer than %zu bytes", what,
		    sizeof(b->data));
		return DB_ERROR;
	}
	if (b->len == 0)
		db_arg_null(a);
	else
		db_arg_bin(a, b->data, b->len);
	return DB_OK;
}

static const char *
col_name(const struct db_row *r, int col)
{
	const char	*name = PQfname(r->res, col);

	return name != NULL ? name : "?";
}

/* The text of a column that must be there. */
static const char *
col_value(const struct db_row *r, int col)
{
	if (col < 0 || col >= PQnfields(r->res)) {
		db_seterr(r->db, "internal error: no column %d", col);
		return NULL;
	}
	if (PQgetisnull(r->res, r->row, col)) {
		db_seterr(r->db, "column \"%s\" is unexpectedly NULL",
		    col_name(r, col));
		return NULL;
	}
	return PQgetvalue(r->res, r->row, col);
}

int
db_col_isnull(const struct db_row *r, int col)
{
	return col < 0 || col >= PQnfields(r->res) ||
	    PQgetisnull(r->res, r->row, col);
}

int
db_col_i64(const struct db_row *r, int col, int64_t *out)
{
	const char	*s;
	char		*end;
	long long	 v;

	if ((s = col_value(r, col)) == NULL)
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0) {
		db_seterr(r->db, "column \"%s\" is not an integer",
		    col_name(r, col));
		return -1;
	}
	*out = (int64_t)v;
	return 0;
}

/* An integer within [lo, hi]. */
static int
col_range(const struct db_row *r, int col, int64_t lo, int64_t hi,
    int64_t *out)
{
	if (db_col_i64(r, col, out) == -1)
		return -1;
	if (*out < lo || *out > hi) {
		db_seterr(r->db, "column \"%s\" holds %" PRId64 ", outside "
		    "%" PRId64 "..%" PRId64, col_name(r, col), *out, lo, hi);
		return -1;
	}
	return 0;
}

int
db_col_u64(const struct db_row *r, int col, uint64_t *out)
{
	int64_t	v;

	if (col_range(r, col, 0, INT64_MAX, &v) == -1)
		return -1;
	*out = (uint64_t)v;
	return 0;
}

int
db_col_u32(const struct db_row *r, int col, uint32_t *out)
{
	int64_t	v;

	if (col_range(r, col, 0, UINT32_MAX, &v) == -1)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

int
db_col_int(const struct db_row *r, int col, int *out)
{
	int64_t	v;

	if (col_range(r, col, INT_MIN, INT_MAX, &v) == -1)
		return -1;
	*out = (int)v;
	return 0;
}

int
db_col_bool(const struct db_row *r, int col, int *out)
{
	const char	*s;

	if ((s = col_value(r, col)) == NULL)
		return -1;
	if (strcmp(s, "t") != 0 && strcmp(s, "f") != 0) {
		db_seterr(r->db, "column \"%s\" is not a boolean",
		    col_name(r, col));
		return -1;
	}
	*out = s[0] == 't';
	return 0;
}

int
db_col_str(const struct db_row *r, int col, char *buf, size_t cap)
{
	const char	*s;
	size_t		 len;

	if (cap == 0 || col < 0 || col >= PQnfields(r->res)) {
		db_seterr(r->db, "internal error: bad text column %d", col);
		return -1;
	}
	if (PQgetisnull(r->res, r->row, col)) {
		buf[0] = '\0';
		return 0;
	}
	s = PQgetvalue(r->res, r->row, col);
	len = (size_t)PQgetlength(r->res, r->row, col);
	if (len >= cap || strlen(s) != len) {
		db_seterr(r->db, "column \"%s\" holds %zu bytes, more than the "
		    "%zu its field takes", col_name(r, col), len, cap - 1);
		return -1;
	}
	memcpy(buf, s, len + 1);
	return 0;
}

int
db_col_bytes(const struct db_row *r, int col, uint8_t *buf, size_t cap,
    size_t *len)
{
	const char	*s;
	size_t		 slen, n;

	*len = 0;
	if (col < 0 || col >= PQnfields(r->res)) {
		db_seterr(r->db, "internal error: bad bytea column %d", col);
		return -1;
	}
	if (PQgetisnull(r->res, r->row, col))
		return 0;
	s = PQgetvalue(r->res, r->row, col);
	slen = (size_t)PQgetlength(r->res, r->row, col);
	if (slen < 2 || s[0] != '\\' || s[1] != 'x' || (slen - 2) % 2 != 0) {
		db_seterr(r->db, "column \"%s\" is not hex bytea",
		    col_name(r, col));
		return -1;
	}
	n = (slen - 2) / 2;
	if (n > cap) {
		db_seterr(r->db, "column \"%s\" holds %zu bytes, more than the "
		    "%zu its field takes", col_name(r, col), n, cap);
		return -1;
	}
	if (util_hex_decode(s + 2, slen - 2, buf, cap, len) == -1) {
		db_seterr(r->db, "column \"%s\" is not hex bytea",
		    col_name(r, col));
		return -1;
	}
	return 0;
}

int
db_col_blob(const struct db_row *r, int col, struct db_blob *b)
{
	return db_col_bytes(r, col, b->data, sizeof(b->data), &b->len);
}
