/*
 * pool.c - storage pool creation, the seed's first data flow.
 *
 *	1. Software generates KEK for the storage pool.
 *	2. Software sends request to the KMS to generate master key, and
 *	   then the KMS generates master key.
 *	3. KMS encrypts KEK using master key, and then sends encrypted KEK
 *	   and master key ID to the software.
 *	4. Software stores master key ID and encrypted KEK in the CommServe
 *	   database (for the built-in KMS, the scrambled master key too).
 *
 * The plaintext KEK exists only in this function's stack and is wiped
 * before it returns; nothing is stored unless all four steps succeed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commserve.h"
#include "log.h"

static void
pool_fill_info(const struct db_pool *p, Kf__PoolInfo *pi)
{
	pi->id = (uint64_t)p->id;
	pi->name = (char *)p->name;
	pi->mediaagent = (char *)p->mediaagent;
	pi->mount_path = (char *)p->mount_path;
	pi->kms = (char *)p->kms;
	pi->master_key_id = (char *)p->master_key_id;
	pi->key_set_id = (uint64_t)p->key_set_id;
	pi->created_us = p->created_us;
}

/* Seed pool step 1: the software generates the KEK. */
static int
pool_generate_kek(struct cs *cs, const char *trace_id, uint8_t kek[KF_KEY_LEN])
{
	if (crypto_random(kek, KF_KEY_LEN) == -1)
		return -1;
	trace_step(cs->trace, trace_id, "pool", 1, NULL, KF_KEY_LEN,
	    "generated a 256-bit KEK for the storage pool");
	return 0;
}

/* Seed pool step 4: store the master key ID and the encrypted KEK. */
static int
pool_store(struct cs *cs, const char *trace_id, struct db_pool *p,
    struct db_key_set *ks, char *err, size_t errcap)
{
	int	rc;

	rc = db_pool_create(cs->db, p, ks);
	if (rc == DB_EXISTS) {
		snprintf(err, errcap, "a storage pool named %s already exists",
		    p->name);
		return rc;
	}
	if (rc != DB_OK) {
		snprintf(err, errcap, "cannot store the pool: %s",
		    db_errmsg(cs->db));
		return rc;
	}
	trace_step(cs->trace, trace_id, "pool", 4, NULL, ks->kek_ct.len,
	    "stored master key ID %s and the encrypted KEK (%s) in the "
	    "CommServe database as key set %lld%s", ks->master_key_id,
	    ks->kek_mode, (long long)ks->id, ks->scrambled_mk.len > 0 ?
	    ", with the scrambled master key (built-in KMS)" : "");
	return DB_OK;
}

void
pool_create(struct req *r)
{
	const Kf__PoolCreate		*pc = (const Kf__PoolCreate *)r->msg->body;
	struct cs			*cs = r->cs;
	Kf__PoolInfo			 pi = KF__POOL_INFO__INIT;
	const struct kms_backend	*be;
	struct db_pool			 pool;
	struct db_key_set		 ks;
	struct db_mediaagent		 ma;
	struct db_kms			 kms;
	struct kms_wrapped_kek		 w;
	uint8_t				 kek[KF_KEY_LEN];
	char				 tid[DB_NAME_MAX + 8], err[512];
	char				 label[DB_NAME_MAX + 64];
	char				 what[256];
	const char			*kmsname;
	int				 rc;

	memset(&pool, 0, sizeof(pool));
	memset(&ks, 0, sizeof(ks));
	memset(&w, 0, sizeof(w));
	if (!cs_name_valid(pc->name)) {
		cs_error(r, KF__KF_ERR__ERR_INVALID, "invalid pool name: use "
		    "1..%d letters, digits, '-', '_' or '.'", CS_NAME_MAX);
		return;
	}
	if (db_pool_find(cs->db, pc->name, &pool) == DB_OK) {
		cs_error(r, KF__KF_ERR__ERR_EXISTS, "a storage pool named %s "
		    "already exists", pc->name);
		return;
	}
	rc = db_ma_find(cs->db, pc->mediaagent, &ma);
	if (rc != DB_OK) {
		cs_error(r, rc == DB_NOT_FOUND ? KF__KF_ERR__ERR_NOT_FOUND :
		    KF__KF_ERR__ERR_DB, "no MediaAgent named %s has registered "
		    "with CommServe", pc->mediaagent);
		return;
	}
	kmsname = pc->kms != NULL ? pc->kms : "builtin";
	rc = db_kms_find(cs->db, kmsname, &kms);
	if (rc != DB_OK || (be = kms_backend_for(&kms)) == NULL) {
		cs_error(r, rc == DB_NOT_FOUND ? KF__KF_ERR__ERR_NOT_FOUND :
		    KF__KF_ERR__ERR_DB, "no KMS named %s (see keyflow kms list)",
		    kmsname);
		return;
	}
	if (pc->mount_path != NULL) {
		if (pc->mount_path[0] != '/' || strstr(pc->mount_path, "/..") ||
		    strlen(pc->mount_path) >= sizeof(pool.mount_path) - 64) {
			cs_error(r, KF__KF_ERR__ERR_INVALID, "mount path must "
			    "be an absolute path on the MediaAgent without "
			    "'..'");
			return;
		}
		snprintf(pool.mount_path, sizeof(pool.mount_path), "%s",
		    pc->mount_path);
	} else if (snprintf(pool.mount_path, sizeof(pool.mount_path), "%s/%s",
	    ma.mount_root, pc->name) >= (int)sizeof(pool.mount_path) - 64) {
		cs_error(r, KF__KF_ERR__ERR_INVALID, "MediaAgent %s's mount "
		    "root is too long", ma.name);
		return;
	}
	snprintf(pool.name, sizeof(pool.name), "%s", pc->name);
	pool.mediaagent_id = ma.id;
	snprintf(tid, sizeof(tid), "pool/%s", pc->name);
	if (db_key_set_next_id(cs->db, &ks.id) != DB_OK) {
		cs_error(r, KF__KF_ERR__ERR_DB, "%s", db_errmsg(cs->db));
		return;
	}

	if (pool_generate_kek(cs, tid, kek) == -1) {
		cs_error(r, KF__KF_ERR__ERR_INTERNAL, "no random bytes");
		goto done;
	}
	snprintf(label, sizeof(label), "keyflow storage pool %s master key",
	    pc->name);
	if (be->create_master(cs, &kms, tid, label, ks.id, &w, err,
	    sizeof(err)) == -1 || be->encrypt_kek(cs, &kms, tid, ks.id, kek,
	    &w, err, sizeof(err)) == -1) {
		cs_error(r, KF__KF_ERR__ERR_KMS, "KMS %s: %s", kms.name, err);
		goto done;
	}
	ks.kms_id = kms.id;
	snprintf(ks.master_key_id, sizeof(ks.master_key_id), "%s", w.key_id);
	snprintf(ks.kek_mode, sizeof(ks.kek_mode), "%s", w.mode);
	ks.kek_ct = w.ct;
	ks.kek_iv = w.iv;
	ks.kek_tag = w.tag;
	ks.scrambled_mk = w.scrambled_mk;
	rc = pool_store(cs, tid, &pool, &ks, err, sizeof(err));
	if (rc != DB_OK) {
		/* No pool row: the master key made for it must go too. */
		what[0] = '\0';
		if (be->discard_master != NULL)
			be->discard_master(cs, &kms, tid, w.key_id, what,
			    sizeof(what));
		cs_error(r, rc == DB_EXISTS ? KF__KF_ERR__ERR_EXISTS :
		    KF__KF_ERR__ERR_DB, "%s%s", err, what);
		goto done;
	}
	if (db_pool_get(cs->db, pool.id, &pool) != DB_OK) {
		cs_error(r, KF__KF_ERR__ERR_DB, "%s", db_errmsg(cs->db));
		goto done;
	}
	log_info("created storage pool %s (id %lld) on MediaAgent %s at %s, "
	    "master key %s on KMS %s", pool.name, (long long)pool.id,
	    pool.mediaagent, pool.mount_path, pool.master_key_id, pool.kms);
	pool_fill_info(&pool, &pi);
	cs_reply(r, KF__MSG_TYPE__POOL_INFO, &pi.base);
done:
	crypto_wipe(kek, sizeof(kek));
	crypto_wipe(&w, sizeof(w));
	crypto_wipe(&ks, sizeof(ks));
}

static void
pool_row(void *arg, const struct db_pool *p)
{
	rows_push(arg, p);
}

void
pool_list(struct req *r)
{
	Kf__PoolListReply	  rep = KF__POOL_LIST_REPLY__INIT;
	struct rows		  rows = { .size = sizeof(struct db_pool) };
	Kf__PoolInfo		 *infos = NULL, **items = NULL;
	size_t			  i;

	if (db_pool_list(r->cs->db, pool_row, &rows) != DB_OK) {
		cs_error(r, KF__KF_ERR__ERR_DB, "%s", db_errmsg(r->cs->db));
		goto done;
	}
	if (rows_reply_arrays(&rows, sizeof(*infos), (void **)&infos,
	    (void ***)&items) == -1) {
		cs_error(r, KF__KF_ERR__ERR_INTERNAL, "out of memory");
		goto done;
	}
	for (i = 0; i < rows.n; i++) {
		kf__pool_info__init(&infos[i]);
		pool_fill_info(rows_at(&rows, i), &infos[i]);
	}
	rep.n_pools = rows.n;
	rep.pools = items;
	cs_reply(r, KF__MSG_TYPE__POOL_LIST_REPLY, &rep.base);
done:
	rows_free(&rows);
	free(infos);
	free(items);
}
