/*
 * db_client.c - clients and MediaAgents in the CommServe database.
 *
 * A client row holds what CommServe needs to check a client's network
 * password and to protect DEKs sent to it: the PBKDF2 salt and iteration
 * count, and the derived network key wrapped under CommServe's local key.
 * The password itself is never stored.  Wrong passwords are counted; a
 * right one stamps last_seen.  MediaAgents are upserted by name each time
 * they register, keeping their id (pools refer to it).  With CURVE on, a
 * MediaAgent name is pinned to the key of its first registration, and the
 * upsert itself refuses another key, so two registrations racing cannot
 * both win: the row's lock decides.
 */
#include <string.h>

#include "db.h"
#include "db_internal.h"

#define CLIENT_COLS \
	"SELECT id, name, salt, iterations, nk_wrapped, failed_auths, " \
	DB_US("last_seen_at") ", " DB_US("created_at") " FROM clients "

static const char sql_client_find[] = CLIENT_COLS "WHERE name = $1";
static const char sql_client_get[] = CLIENT_COLS "WHERE id = $1";
static const char sql_client_list[] = CLIENT_COLS "ORDER BY id";
static const char sql_client_add[] =
    "INSERT INTO clients (name, salt, iterations, nk_wrapped) "
    "VALUES ($1, $2, $3, $4) RETURNING id, " DB_US("created_at");
static const char sql_client_seen[] =
    "UPDATE clients SET last_seen_at = now() WHERE id = $1";
static const char sql_client_failed[] =
    "UPDATE clients SET failed_auths = least(failed_auths + 1, 4294967295) "
    "WHERE id = $1";

static int
read_client(struct db *db, const struct db_row *r, void *ctx)
{
	struct db_client	*c = ctx;

	memset(c, 0, sizeof(*c));
	if (db_col_i64(r, 0, &c->id) == -1 ||
	    DB_COL_STR(r, 1, c->name) == -1 ||
	    db_col_blob(r, 2, &c->salt) == -1 ||
	    db_col_u32(r, 3, &c->iterations) == -1 ||
	    db_col_blob(r, 4, &c->nk_wrapped) == -1 ||
	    db_col_u32(r, 5, &c->failed_auths) == -1 ||
	    db_col_i64(r, 6, &c->last_seen_us) == -1 ||
	    db_col_i64(r, 7, &c->created_us) == -1)
		return -1;
	return 0;
}

static int
read_id_time(struct db *db, const struct db_row *r, void *ctx)
{
	struct db_client	*c = ctx;

	if (db_col_i64(r, 0, &c->id) == -1 ||
	    db_col_i64(r, 1, &c->created_us) == -1)
		return -1;
	return 0;
}

int
db_client_add(struct db *db, struct db_client *c)
{
	struct db_arg	a[4];
	int		rc;

	if (DB_ARG_FIELD(db, &a[0], c->name, "client name") ||
	    db_arg_blob(db, &a[1], &c->salt, "password salt") ||
	    db_arg_blob(db, &a[3], &c->nk_wrapped, "wrapped network key"))
		return DB_ERROR;
	db_arg_i64(&a[2], c->iterations);
	rc = db_exec_one(db, sql_client_add, 4, a, 2, read_id_time, c);
	if (rc == DB_EXISTS)
		db_seterr(db, "a client named \"%s\" already exists", c->name);
	return rc;
}

int
db_client_find(struct db *db, const char *name, struct db_client *out)
{
	struct db_arg	a;

	db_arg_text(&a, name);
	return db_exec_one(db, sql_client_find, 1, &a, 8, read_client, out);
}

int
db_client_get(struct db *db, int64_t id, struct db_client *out)
{
	struct db_arg	a;

	db_arg_i64(&a, id);
	return db_exec_one(db, sql_client_get, 1, &a, 8, read_client, out);
}

struct client_list {
	void	(*cb)(void *, const struct db_client *);	/* the caller's */
	void	*arg;					/* its argument */
};

static int
each_client(struct db *db, const struct db_row *r, void *ctx)
{
	struct client_list	*l = ctx;
	struct db_client	 c;

	if (read_client(db, r, &c) == -1)
		return -1;
	l->cb(l->arg, &c);
	return 0;
}

int
db_client_list(struct db *db, void (*cb)(void *, const struct db_client *),
    void *arg)
{
	struct client_list	l = { cb, arg };

	return db_exec(db, sql_client_list, 0, NULL, 8, each_client, &l, NULL);
}

int
db_client_auth_result(struct db *db, int64_t id, int ok)
{
	struct db_arg	a;
	uint64_t	n;

	db_arg_i64(&a, id);
	if (db_exec(db, ok ? sql_client_seen : sql_client_failed, 1, &a, 0,
	    NULL, NULL, &n) != DB_OK)
		return DB_ERROR;
	return n == 1 ? DB_OK : DB_NOT_FOUND;
}

#define MA_COLS \
	"SELECT id, name, data_endpoint, mount_root, " \
	DB_US("last_seen_at") ", curve_key FROM mediaagents "
#define MA_NCOLS	6

static const char sql_ma_find[] = MA_COLS "WHERE name = $1";
static const char sql_ma_get[] = MA_COLS "WHERE id = $1";
static const char sql_ma_list[] = MA_COLS "ORDER BY id";
/*
 * $4 '' (CURVE off) neither checks nor writes the pin; a key pins an
 * unpinned name and must equal a pinned one.  A refused conflict updates
 * nothing and returns no row.
 */
static const char sql_ma_upsert[] =
    "INSERT INTO mediaagents (name, data_endpoint, mount_root, curve_key, "
    "last_seen_at) VALUES ($1, $2, $3, $4, now()) "
    "ON CONFLICT (name) DO UPDATE SET "
    "data_endpoint = excluded.data_endpoint, "
    "mount_root = excluded.mount_root, last_seen_at = now(), "
    "curve_key = CASE WHEN excluded.curve_key = '' "
    "THEN mediaagents.curve_key ELSE excluded.curve_key END "
    "WHERE excluded.curve_key = '' OR mediaagents.curve_key = '' OR "
    "mediaagents.curve_key = excluded.curve_key "
    "RETURNING id, " DB_US("last_seen_at");
/* The old key comes from the locked row, so it is the one cleared. */
static const char sql_ma_unpin[] =
    "UPDATE mediaagents m SET curve_key = '' FROM (SELECT id, curve_key "
    "FROM mediaagents WHERE name = $1 FOR UPDATE) old WHERE m.id = old.id "
    "RETURNING old.curve_key";

static int
read_ma(struct db *db, const struct db_row *r, void *ctx)
{
	struct db_mediaagent	*m = ctx;

	memset(m, 0, sizeof(*m));
	if (db_col_i64(r, 0, &m->id) == -1 ||
	    DB_COL_STR(r, 1, m->name) == -1 ||
	    DB_COL_STR(r, 2, m->data_endpoint) == -1 ||
	    DB_COL_STR(r, 3, m->mount_root) == -1 ||
	    db_col_i64(r, 4, &m->last_seen_us) == -1 ||
	    DB_COL_STR(r, 5, m->curve_key) == -1)
		return -1;
	return 0;
}

static int
read_ma_upsert(struct db *db, const struct db_row *r, void *ctx)
{
	struct db_mediaagent	*m = ctx;

	if (db_col_i64(r, 0, &m->id) == -1 ||
	    db_col_i64(r, 1, &m->last_seen_us) == -1)
		return -1;
	return 0;
}

int
db_ma_upsert(struct db *db, struct db_mediaagent *m)
{
	struct db_arg	a[4];
	int		rc;

	if (DB_ARG_FIELD(db, &a[0], m->name, "MediaAgent name") ||
	    DB_ARG_FIELD(db, &a[1], m->data_endpoint, "data endpoint") ||
	    DB_ARG_FIELD(db, &a[2], m->mount_root, "mount root") ||
	    DB_ARG_FIELD(db, &a[3], m->curve_key, "CURVE key"))
		return DB_ERROR;
	rc = db_exec_one(db, sql_ma_upsert, 4, a, 2, read_ma_upsert, m);
	if (rc == DB_NOT_FOUND) {
		db_seterr(db, "MediaAgent \"%s\" is pinned to another CURVE "
		    "key", m->name);
		return DB_EXISTS;
	}
	return rc;
}

static int
read_key(struct db *db, const struct db_row *r, void *ctx)
{
	return db_col_str(r, 0, ctx, DB_CURVE_KEY_MAX);
}

int
db_ma_unpin(struct db *db, const char *name, char old[DB_CURVE_KEY_MAX])
{
	struct db_arg	a;

	old[0] = '\0';
	db_arg_text(&a, name);
	return db_exec_one(db, sql_ma_unpin, 1, &a, 1, read_key, old);
}

int
db_ma_find(struct db *db, const char *name, struct db_mediaagent *out)
{
	struct db_arg	a;

	db_arg_text(&a, name);
	return db_exec_one(db, sql_ma_find, 1, &a, MA_NCOLS, read_ma, out);
}

int
db_ma_get(struct db *db, int64_t id, struct db_mediaagent *out)
{
	struct db_arg	a;

	db_arg_i64(&a, id);
	return db_exec_one(db, sql_ma_get, 1, &a, MA_NCOLS, read_ma, out);
}

struct ma_list {
	void	(*cb)(void *, const struct db_mediaagent *);	/* caller's */
	void	*arg;					/* its argument */
};

static int
each_ma(struct db *db, const struct db_row *r, void *ctx)
{
	struct ma_list		*l = ctx;
	struct db_mediaagent	 m;

	if (read_ma(db, r, &m) == -1)
		return -1;
	l->cb(l->arg, &m);
	return 0;
}

int
db_ma_list(struct db *db, void (*cb)(void *, const struct db_mediaagent *),
    void *arg)
{
	struct ma_list	l = { cb, arg };

	return db_exec(db, sql_ma_list, 0, NULL, MA_NCOLS, each_ma, &l,
	    NULL);
}
