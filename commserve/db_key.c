/*
 * db_key.c - KMS servers, key sets and storage pools in the CommServe
 * database.
 *
 * A key set is the seed's "master key ID and encrypted KEK" (pool creation
 * step 4): which KMS holds the master key, its Unique Identifier there, the
 * KEK as the KMS encrypted it with the cipher parameters it used, and for
 * the built-in KMS the scrambled master key.  Nothing here is plaintext key
 * material.  Creating a storage pool creates, in one transaction, its key
 * set, the pool, its storage policy of the same name and that policy's
 * primary copy, so a failure at any point leaves nothing behind.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "db.h"
#include "db_internal.h"

#define KMS_COLS \
	"SELECT id, name, kind, address, ca, cert, key, send_correlation " \
	"FROM kms_servers "

static const char sql_kms_find[] = KMS_COLS "WHERE name = $1";
static const char sql_kms_get[] = KMS_COLS "WHERE id = $1";
static const char sql_kms_list[] = KMS_COLS "ORDER BY id";
static const char sql_kms_add[] =
    "INSERT INTO kms_servers (name, kind, address, ca, cert, key, "
    "send_correlation) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";

static int
read_kms(struct db *db, const struct db_row *r, void *ctx)
{
	struct db_kms	*k = ctx;

	memset(k, 0, sizeof(*k));
	if (db_col_i64(r, 0, &k->id) == -1 ||
	    DB_COL_STR(r, 1, k->name) == -1 ||
	    DB_COL_STR(r, 2, k->kind) == -1 ||
	    DB_COL_STR(r, 3, k->address) == -1 ||
	    DB_COL_STR(r, 4, k->ca) == -1 ||
	    DB_COL_STR(r, 5, k->cert) == -1 ||
	    DB_COL_STR(r, 6, k->key) == -1 ||
	    db_col_bool(r, 7, &k->send_correlation) == -1)
		return -1;
	return 0;
}

int
db_kms_find(struct db *db, const char *name, struct db_kms *out)
{
	struct db_arg	a;

	db_arg_text(&a, name);
	return db_exec_one(db, sql_kms_find, 1, &a, 8, read_kms, out);
}

int
db_kms_get(struct db *db, int64_t id, struct db_kms *out)
{
	struct db_arg	a;

	db_arg_i64(&a, id);
	return db_exec_one(db, sql_kms_get, 1, &a, 8, read_kms, out);
}

static int
read_id(struct db *db, const struct db_row *r, void *ctx)
{
	return db_col_i64(r, 0, ctx);
}

int
db_kms_add(struct db *db, struct db_kms *k)
{
	struct db_arg	a[7];
	int		rc;

	if (DB_ARG_FIELD(db, &a[0], k->name, "KMS name") ||
	    DB_ARG_FIELD(db, &a[1], k->kind, "KMS kind") ||
	    DB_ARG_FIELD(db, &a[2], k->address, "KMS address") ||
	    DB_ARG_FIELD(db, &a[3], k->ca, "CA path") ||
	    DB_ARG_FIELD(db, &a[4], k->cert, "certificate path") ||
	    DB_ARG_FIELD(db, &a[5], k->key, "key path"))
		return DB_ERROR;
	db_arg_text(&a[6], k->send_correlation ? "true" : "false");
	rc = db_exec_one(db, sql_kms_add, 7, a, 1, read_id, &k->id);
	if (rc == DB_EXISTS)
		db_seterr(db, "a KMS named \"%s\" already exists", k->name);
	return rc;
}

struct kms_list {
	void	(*cb)(void *, const struct db_kms *);	/* the caller's */
	void	*arg;					/* its argument */
};

static int
each_kms(struct db *db, const struct db_row *r, void *ctx)
{
	struct kms_list	*l = ctx;
	struct db_kms	 k;

	if (read_kms(db, r, &k) == -1)
		return -1;
	l->cb(l->arg, &k);
	return 0;
}

int
db_kms_list(struct db *db, void (*cb)(void *, const struct db_kms *),
    void *arg)
{
	struct kms_list	l = { cb, arg };

	return db_exec(db, sql_kms_list, 0, NULL, 8, each_kms, &l, NULL);
}

static const char sql_ks_next[] =
    "SELECT nextval(pg_get_serial_sequence('key_sets', 'id'))";
static const char sql_ks_get[] =
    "SELECT id, kms_id, master_key_id, kek_mode, kek_ct, kek_iv, kek_tag, "
    "scrambled_mk, " DB_US("created_at") " FROM key_sets WHERE id = $1";

int
db_key_set_next_id(struct db *db, int64_t *id)
{
	return db_exec_one(db, sql_ks_next, 0, NULL, 1, read_id, id);
}

static int
read_key_set(struct db *db, const struct db_row *r, void *ctx)
{
	struct db_key_set	*ks = ctx;

	memset(ks, 0, sizeof(*ks));
	if (db_col_i64(r, 0, &ks->id) == -1 ||
	    db_col_i64(r, 1, &ks->kms_id) == -1 ||
	    DB_COL_STR(r, 2, ks->master_key_id) == -1 ||
	    DB_COL_STR(r, 3, ks->kek_mode) == -1 ||
	    db_col_blob(r, 4, &ks->kek_ct) == -1 ||
	    db_col_blob(r, 5, &ks->kek_iv) == -1 ||
	    db_col_blob(r, 6, &ks->kek_tag) == -1 ||
	    db_col_blob(r, 7, &ks->scrambled_mk) == -1 ||
	    db_col_i64(r, 8, &ks->created_us) == -1)
		return -1;
	return 0;
}

int
db_key_set_get(struct db *db, int64_t id, struct db_key_set *out)
{
	struct db_arg	a;

	db_arg_i64(&a, id);
	return db_exec_one(db, sql_ks_get, 1, &a, 9, read_key_set, out);
}

#define POOL_COLS \
	"SELECT p.id, p.name, p.mediaagent_id, m.name, p.mount_path, " \
	"p.key_set_id, coalesce(c.id, 0), s.name, k.master_key_id, " \
	DB_US("p.created_at") " " \
	"FROM storage_pools p " \
	"JOIN mediaagents m ON m.id = p.mediaagent_id " \
	"JOIN key_sets k ON k.id = p.key_set_id " \
	"JOIN kms_servers s ON s.id = k.kms_id " \
	"LEFT JOIN storage_policies sp ON sp.pool_id = p.id " \
	"LEFT JOIN policy_copies c ON c.policy_id = sp.id AND c.copy_no = 1 "

static const char sql_pool_find[] = POOL_COLS "WHERE p.name = $1";
static const char sql_pool_get[] = POOL_COLS "WHERE p.id = $1";
static const char sql_pool_list[] = POOL_COLS "ORDER BY p.id";

static int
read_pool(struct db *db, const struct db_row *r, void *ctx)
{
	struct db_pool	*p = ctx;

	memset(p, 0, sizeof(*p));
	if (db_col_i64(r, 0, &p->id) == -1 ||
	    DB_COL_STR(r, 1, p->name) == -1 ||
	    db_col_i64(r, 2, &p->mediaagent_id) == -1 ||
	    DB_COL_STR(r, 3, p->mediaagent) == -1 ||
	    DB_COL_STR(r, 4, p->mount_path) == -1 ||
	    db_col_i64(r, 5, &p->key_set_id) == -1 ||
	    db_col_i64(r, 6, &p->copy_id) == -1 ||
	    DB_COL_STR(r, 7, p->kms) == -1 ||
	    DB_COL_STR(r, 8, p->master_key_id) == -1 ||
	    db_col_i64(r, 9, &p->created_us) == -1)
		return -1;
	return 0;
}

int
db_pool_find(struct db *db, const char *name, struct db_pool *out)
{
	struct db_arg	a;

	db_arg_text(&a, name);
	return db_exec_one(db, sql_pool_find, 1, &a, 10, read_pool, out);
}

int
db_pool_get(struct db *db, int64_t id, struct db_pool *out)
{
	struct db_arg	a;

	db_arg_i64(&a, id);
	return db_exec_one(db, sql_pool_get, 1, &a, 10, read_pool, out);
}

struct pool_list {
	void	(*cb)(void *, const struct db_pool *);	/* the caller's */
	void	*arg;					/* its argument */
};

static int
each_pool(struct db *db, const struct db_row *r, void *ctx)
{
	struct pool_list	*l = ctx;
	struct db_pool		 p;

	if (read_pool(db, r, &p) == -1)
		return -1;
	l->cb(l->arg, &p);
	return 0;
}

int
db_pool_list(struct db *db, void (*cb)(void *, const struct db_pool *),
    void *arg)
{
	struct pool_list	l = { cb, arg };

	return db_exec(db, sql_pool_list, 0, NULL, 10, each_pool, &l, NULL);
}

static const char sql_ks_insert[] =
    "INSERT INTO key_sets (id, kms_id, master_key_id, kek_mode, kek_ct, "
    "kek_iv, kek_tag, scrambled_mk) VALUES ($1, $2, $3, $4, $5, "
    "coalesce($6, ''::bytea), coalesce($7, ''::bytea), $8)";
static const char sql_pool_insert[] =
    "INSERT INTO storage_pools (name, mediaagent_id, mount_path, key_set_id) "
    "VALUES ($1, $2, $3, $4) RETURNING id, " DB_US("created_at");
static const char sql_policy_insert[] =
    "INSERT INTO storage_policies (name, pool_id) VALUES ($1, $2) "
    "RETURNING id";
static const char sql_copy_insert[] =
    "INSERT INTO policy_copies (policy_id, copy_no, pool_id) "
    "VALUES ($1, 1, $2) RETURNING id";

static int
read_id_time(struct db *db, const struct db_row *r, void *ctx)
{
	struct db_pool	*p = ctx;

	if (db_col_i64(r, 0, &p->id) == -1 ||
	    db_col_i64(r, 1, &p->created_us) == -1)
		return -1;
	return 0;
}

/* Pool creation, seed step 4: the key set and the pool, together. */
static int
insert_key_set(struct db *db, const struct db_key_set *ks)
{
	struct db_arg	a[8];
	int		rc;

	if (ks->id <= 0) {
		db_seterr(db, "the key set has no id (call "
		    "db_key_set_next_id first)");
		return DB_ERROR;
	}
	db_arg_i64(&a[0], ks->id);
	db_arg_i64(&a[1], ks->kms_id);
	if (DB_ARG_FIELD(db, &a[2], ks->master_key_id, "master key id") ||
	    DB_ARG_FIELD(db, &a[3], ks->kek_mode, "KEK mode") ||
	    db_arg_blob(db, &a[4], &ks->kek_ct, "encrypted KEK") ||
	    db_arg_blob(db, &a[5], &ks->kek_iv, "KEK IV") ||
	    db_arg_blob(db, &a[6], &ks->kek_tag, "KEK tag") ||
	    db_arg_blob(db, &a[7], &ks->scrambled_mk, "scrambled master key"))
		return DB_ERROR;
	rc = db_exec(db, sql_ks_insert, 8, a, 0, NULL, NULL, NULL);
	if (rc == DB_EXISTS) {
		db_seterr(db, "key set %" PRId64 " already exists", ks->id);
		rc = DB_ERROR;
	}
	return rc;
}

int
db_pool_create(struct db *db, struct db_pool *pool,
    const struct db_key_set *ks)
{
	struct db_arg	a[4];
	int64_t		policy_id;
	int		rc;

	if (DB_ARG_FIELD(db, &a[0], pool->name, "pool name") ||
	    DB_ARG_FIELD(db, &a[2], pool->mount_path, "mount path"))
		return DB_ERROR;
	if (db_begin(db) != DB_OK)
		return DB_ERROR;
	if ((rc = insert_key_set(db, ks)) != DB_OK)
		goto fail;
	db_arg_i64(&a[1], pool->mediaagent_id);
	db_arg_i64(&a[3], ks->id);
	if ((rc = db_exec_one(db, sql_pool_insert, 4, a, 2, read_id_time,
	    pool)) != DB_OK)
		goto fail;
	db_arg_i64(&a[1], pool->id);
	if ((rc = db_exec_one(db, sql_policy_insert, 2, a, 1, read_id,
	    &policy_id)) != DB_OK)
		goto fail;
	db_arg_i64(&a[0], policy_id);
	if ((rc = db_exec_one(db, sql_copy_insert, 2, a, 1, read_id,
	    &pool->copy_id)) != DB_OK)
		goto fail;
	if ((rc = db_commit(db)) != DB_OK)
		goto fail;
	pool->key_set_id = ks->id;
	return DB_OK;
fail:
	db_rollback(db);
	pool->id = pool->copy_id = 0;
	if (rc == DB_EXISTS)
		db_seterr(db, "a storage pool or policy named \"%s\" already "
		    "exists", pool->name);
	else if (rc == DB_NOT_FOUND) {
		db_seterr(db, "internal error: an insert returned no row");
		rc = DB_ERROR;
	}
	return rc;
}
