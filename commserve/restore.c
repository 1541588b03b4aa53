/*
 * restore.c - the seed's restore data flow, CommServe's part.
 *
 *	1. The CommServe server fetches the encrypted KEK and the encrypted
 *	   DEK from the CommServe database.
 *	2. The CommServe server fetches the master key from KMS.
 *	3. The CommServe server decrypts KEK using master key.
 *	4. The CommServe server decrypts DEK using KEK.
 *	5. The CommServe server sends DEK to client.  The software protects
 *	   DEK over the network using client network password.
 * Step 6 is the MediaAgent's (mediaagent/serve.c), step 7 the client's
 * (client/restore.c).  The restore never uses the KEK cache: it follows
 * the seed and asks the KMS every time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commserve.h"
#include "fault.h"
#include "keyseal.h"
#include "log.h"
#include "stream.h"
#include "util.h"

struct restore_keys {
	struct db_job		 src;		/* the backup job */
	struct db_key_set	 ks;		/* its key set */
	struct db_kms		 kms;		/* the KMS of the key set */
	uint8_t			 mk[KF_KEY_LEN];	/* master key */
	uint8_t			 kek[KF_KEY_LEN];	/* KEK */
};

/* Seed restore step 1: fetch the encrypted KEK and DEK. */
static int
restore_fetch_wrapped(struct cs *cs, const char *tid, struct restore_keys *k,
    char *err, size_t cap)
{
	if (db_key_set_get(cs->db, k->src.key_set_id, &k->ks) != DB_OK ||
	    db_kms_get(cs->db, k->ks.kms_id, &k->kms) != DB_OK) {
		snprintf(err, cap, "cannot read key set %lld of job %lld: %s",
		    (long long)k->src.key_set_id, (long long)k->src.id,
		    db_errmsg(cs->db));
		return -1;
	}
	trace_step(cs->trace, tid, "restore", 1, NULL,
	    k->ks.kek_ct.len + k->src.dek_wrapped.len, "fetched the encrypted "
	    "KEK (key set %lld, master key %s) and the encrypted DEK of "
	    "backup job %lld from the CommServe database", (long long)k->ks.id,
	    k->ks.master_key_id, (long long)k->src.id);
	return 0;
}

/* Seed restore step 2: fetch the master key from the KMS. */
static int
restore_fetch_master(struct cs *cs, const char *tid, struct restore_keys *k,
    char *err, size_t cap)
{
	const struct kms_backend	*be;
	char				 why[512];

	if ((be = kms_backend_for(&k->kms)) == NULL) {
		snprintf(err, cap, "KMS %s is of unknown kind %s", k->kms.name,
		    k->kms.kind);
		return -1;
	}
	if (be->get_master(cs, &k->kms, tid, &k->ks, k->mk, why,
	    sizeof(why)) == -1) {
		snprintf(err, cap, "KMS %s: %s", k->kms.name, why);
		return -1;
	}
	trace_step(cs->trace, tid, "restore", 2, k->kms.name, KF_KEY_LEN,
	    "fetched master key %s from KMS %s (%s)", k->ks.master_key_id,
	    k->kms.name, strcmp(k->kms.kind, "builtin") == 0 ?
	    "built-in: unscrambled from the CommServe database" : "KMIP Get");
	return 0;
}

/* Seed restore step 3: decrypt the KEK with the master key. */
static int
restore_decrypt_kek(struct cs *cs, const char *tid, struct restore_keys *k,
    char *err, size_t cap)
{
	if (keys_decrypt_kek(&k->ks, k->mk, k->kek) == -1) {
		snprintf(err, cap, "the encrypted KEK of key set %lld does not "
		    "open under master key %s (tampered row or wrong key)",
		    (long long)k->ks.id, k->ks.master_key_id);
		return -1;
	}
	trace_step(cs->trace, tid, "restore", 3, NULL, KF_KEY_LEN,
	    "decrypted the KEK with the master key (AES-256-%s, %s)",
	    k->ks.kek_mode, strcmp(k->ks.kek_mode, "GCM") == 0 ?
	    "tag verified" : "padding checked");
	return 0;
}

/* Seed restore step 4: decrypt the DEK with the KEK. */
static int
restore_decrypt_dek(struct cs *cs, const char *tid, struct restore_keys *k,
    struct job_rt *j, char *err, size_t cap)
{
	if (keys_unwrap_dek(k->kek, k->src.id, k->src.client_id, k->ks.id,
	    &k->src.dek_wrapped, j->dek) == -1) {
		snprintf(err, cap, "the encrypted DEK of backup job %lld does "
		    "not open under its pool's KEK (a tampered or swapped "
		    "database row)", (long long)k->src.id);
		return -1;
	}
	j->have_dek = 1;
	trace_step(cs->trace, tid, "restore", 4, NULL, KF_KEY_LEN,
	    "decrypted the DEK of backup job %lld with the KEK (AES-256-GCM, "
	    "AAD = job, client and key set ids verified)",
	    (long long)k->src.id);
	return 0;
}

static int
restore_request_valid(struct req *r, const Kf__RestoreStart *rs)
{
	size_t	i;

	if (rs->dest_dir[0] != '/' || strlen(rs->dest_dir) >= DB_TEXT_MAX) {
		cs_error(r, KF__KF_ERR__ERR_INVALID, "destination \"%.200s\" "
		    "must be an absolute directory on the client",
		    rs->dest_dir);
		return 0;
	}
	if (rs->n_paths > CS_PATHS_MAX) {
		cs_error(r, KF__KF_ERR__ERR_INVALID, "at most %d paths",
		    CS_PATHS_MAX);
		return 0;
	}
	for (i = 0; i < rs->n_paths; i++)
		if (strlen(rs->paths[i]) == 0 ||
		    strlen(rs->paths[i]) >= KF_PATH_MAX) {
			cs_error(r, KF__KF_ERR__ERR_INVALID, "empty or too "
			    "long path to restore");
			return 0;
		}
	if (rs->backup_job == 0 || rs->backup_job > INT64_MAX) {
		cs_error(r, KF__KF_ERR__ERR_NOT_FOUND, "no job %llu",
		    (unsigned long long)rs->backup_job);
		return 0;
	}
	return 1;
}

static int
restore_setup_job(struct cs *cs, struct job_rt *j, const Kf__RestoreStart *rs,
    const struct db_job *src, const struct db_client *cl,
    const struct db_mediaagent *ma, const struct db_pool *pool)
{
	snprintf(j->client, sizeof(j->client), "%s", cl->name);
	j->client_id = cl->id;
	j->backup_job = src->id;
	snprintf(j->mediaagent, sizeof(j->mediaagent), "%s", ma->name);
	snprintf(j->ma_endpoint, sizeof(j->ma_endpoint), "%s",
	    ma->data_endpoint);
	snprintf(j->mount_path, sizeof(j->mount_path), "%s", pool->mount_path);
	snprintf(j->dest_dir, sizeof(j->dest_dir), "%s", rs->dest_dir);
	j->chunk_size = src->chunk_size;
	j->chunks = src->chunks;
	j->overwrite = rs->has_overwrite && rs->overwrite;
	j->verify_only = rs->has_verify_only && rs->verify_only;
	(void)cs;
	return jobs_set_paths(j, rs->paths, rs->n_paths);
}

void
restore_start(struct req *r)
{
	const Kf__RestoreStart	*rs = (const Kf__RestoreStart *)r->msg->body;
	struct cs		*cs = r->cs;
	Kf__JobInfo		 ji = KF__JOB_INFO__INIT;
	struct restore_keys	 k;
	struct db_client	 cl;
	struct db_pool		 pool;
	struct db_mediaagent	 ma;
	struct db_job		 d;
	struct job_rt		*j;
	const char		*client;
	char			 tid[64], err[DB_TEXT_MAX];
	int			 rc;

	memset(&k, 0, sizeof(k));
	memset(&d, 0, sizeof(d));
	if (!restore_request_valid(r, rs))
		return;
	rc = db_job_get(cs->db, (int64_t)rs->backup_job, &k.src);
	if (rc != DB_OK || k.src.type != KF__JOB_TYPE__JOB_BACKUP) {
		cs_error(r, rc == DB_OK || rc == DB_NOT_FOUND ?
		    KF__KF_ERR__ERR_NOT_FOUND : KF__KF_ERR__ERR_DB,
		    "no backup job %llu", (unsigned long long)rs->backup_job);
		return;
	}
	if (k.src.state != KF__JOB_STATE__JOB_COMPLETED) {
		cs_error(r, KF__KF_ERR__ERR_STATE, "backup job %lld did not "
		    "complete, so there is nothing to restore from it",
		    (long long)k.src.id);
		return;
	}
	client = rs->client != NULL ? rs->client : k.src.client;
	if (db_client_find(cs->db, client, &cl) != DB_OK) {
		cs_error(r, KF__KF_ERR__ERR_NOT_FOUND, "no client named %s",
		    client);
		return;
	}
	if (!peers_alive(peers_find(cs, PEER_CLIENT, client))) {
		cs_error(r, KF__KF_ERR__ERR_UNAVAILABLE, "client %s is not "
		    "connected to CommServe", client);
		return;
	}
	if (db_pool_get(cs->db, k.src.pool_id, &pool) != DB_OK ||
	    db_ma_get(cs->db, pool.mediaagent_id, &ma) != DB_OK) {
		cs_error(r, KF__KF_ERR__ERR_DB, "cannot read the pool of job "
		    "%lld: %s", (long long)k.src.id, db_errmsg(cs->db));
		return;
	}
	if (!peers_alive(peers_find(cs, PEER_MEDIAAGENT, ma.name))) {
		cs_error(r, KF__KF_ERR__ERR_UNAVAILABLE, "MediaAgent %s, which "
		    "holds job %lld, is not connected to CommServe", ma.name,
		    (long long)k.src.id);
		return;
	}

	d.type = KF__JOB_TYPE__JOB_RESTORE;
	d.client_id = cl.id;
	d.pool_id = pool.id;
	d.copy_id = k.src.copy_id;
	d.key_set_id = k.src.key_set_id;
	d.backup_job = k.src.id;
	d.chunk_size = k.src.chunk_size;
	if (db_job_create(cs->db, &d) != DB_OK) {
		cs_error(r, KF__KF_ERR__ERR_DB, "cannot create the job: %s",
		    db_errmsg(cs->db));
		return;
	}
	if ((j = jobs_new(cs, d.id, KF__JOB_TYPE__JOB_RESTORE)) == NULL ||
	    restore_setup_job(cs, j, rs, &k.src, &cl, &ma, &pool) == -1) {
		if (j != NULL)
			jobs_fail(cs, j, KF__KF_ERR__ERR_INTERNAL,
			    "out of memory");
		cs_error(r, KF__KF_ERR__ERR_INTERNAL, "out of memory");
		return;
	}
	snprintf(tid, sizeof(tid), "job/%lld", (long long)d.id);
	rc = KF__KF_ERR__ERR_DB;
	if (restore_fetch_wrapped(cs, tid, &k, err, sizeof(err)) == -1)
		goto fail;
	rc = KF__KF_ERR__ERR_KMS;
	if (restore_fetch_master(cs, tid, &k, err, sizeof(err)) == -1)
		goto fail;
	rc = KF__KF_ERR__ERR_CRYPTO;
	if (restore_decrypt_kek(cs, tid, &k, err, sizeof(err)) == -1 ||
	    restore_decrypt_dek(cs, tid, &k, j, err, sizeof(err)) == -1)
		goto fail;
	fault_point("restore.after_dek", (uint64_t)j->id);
	crypto_wipe(&k, sizeof(k));
	if (jobs_announce(cs, j) == -1) {
		rc = KF__KF_ERR__ERR_UNAVAILABLE;
		snprintf(err, sizeof(err), "cannot reach MediaAgent %s",
		    ma.name);
		goto fail;
	}
	log_info("restore job %lld started: backup job %lld to client %s:%s",
	    (long long)d.id, (long long)d.backup_job, cl.name, rs->dest_dir);
	if (db_job_get(cs->db, d.id, &d) != DB_OK) {
		cs_error(r, KF__KF_ERR__ERR_DB, "%s", db_errmsg(cs->db));
		return;
	}
	jobs_fill_info(&d, &ji, j);
	cs_reply(r, KF__MSG_TYPE__JOB_INFO, &ji.base);
	return;
fail:
	crypto_wipe(&k, sizeof(k));
	jobs_fail(cs, j, rc, "%s", err);
	cs_error(r, rc, "restore job %lld: %s", (long long)d.id, err);
}

/* Seed restore step 5: send the DEK to the client, sealed. */
void
restore_send_order(struct cs *cs, struct job_rt *j)
{
	Kf__RestoreOrder o = KF__RESTORE_ORDER__INIT;
	Kf__SealedKey	 sk = KF__SEALED_KEY__INIT;
	struct peer	*p;
	uint8_t		 store[sizeof(struct sealed_key)];
	char		 tid[64];
	int		 rc;

	if ((p = jobs_seal_for_client(cs, j, &sk, store,
	    sizeof(store))) == NULL)
		return;
	o.job = (uint64_t)j->id;
	o.backup_job = (uint64_t)j->backup_job;
	o.dest_dir = j->dest_dir;
	o.n_paths = j->npaths;
	o.paths = j->paths;
	o.overwrite = j->overwrite;
	o.has_verify_only = j->verify_only;
	o.verify_only = j->verify_only;
	o.mediaagent_endpoint = j->ma_endpoint;
	o.mediaagent_key = (char *)peers_ma_key(cs, j->mediaagent);
	o.dek = &sk;
	o.chunk_size = j->chunk_size;
	o.chunks = j->chunks;
	rc = cs_send(cs, p, KF__MSG_TYPE__RESTORE_ORDER, &o.base);
	crypto_wipe(store, sizeof(store));
	if (rc == -1) {
		jobs_fail(cs, j, KF__KF_ERR__ERR_UNAVAILABLE, "cannot send "
		    "the job to client %s", j->client);
		return;
	}
	snprintf(tid, sizeof(tid), "job/%lld", (long long)j->id);
	trace_step(cs->trace, tid, "restore", 5, j->client, KF_SEAL_CT_LEN,
	    "sent the DEK to client %s sealed with its network password, "
	    "with MediaAgent %s's endpoint", j->client, j->mediaagent);
}

struct catalog_ctx {
	Kf__CatalogEntry	*entries;	/* one per row */
	Kf__CatalogEntry	**items;	/* pointers to them */
	uint8_t			**bufs;		/* copies of path/link/sha */
	size_t			 n, cap;	/* used, allocated */
	int			 oom;		/* an allocation failed */
};

static void
catalog_cb(void *arg, const struct db_catalog_entry *e)
{
	struct catalog_ctx	*c = arg;
	Kf__CatalogEntry	*ce;
	uint8_t			*buf;

	if (c->n == c->cap || c->oom)
		return;
	if ((buf = malloc(e->path_len + e->link_len + KF_SHA256_LEN + 1)) ==
	    NULL) {
		c->oom = 1;
		return;
	}
	c->bufs[c->n] = buf;
	ce = &c->entries[c->n];
	kf__catalog_entry__init(ce);
	ce->index = e->index;
	memcpy(buf, e->path, e->path_len);
	ce->path.data = buf;
	ce->path.len = e->path_len;
	buf += e->path_len;
	ce->type = e->type;
	ce->mode = e->mode;
	ce->mtime_sec = e->mtime_sec;
	ce->mtime_nsec = e->mtime_nsec;
	ce->size = e->size;
	ce->offset = e->offset;
	if (e->has_sha256) {
		memcpy(buf, e->sha256, KF_SHA256_LEN);
		ce->has_sha256 = 1;
		ce->sha256.data = buf;
		ce->sha256.len = KF_SHA256_LEN;
		buf += KF_SHA256_LEN;
	}
	if (e->link != NULL && e->link_len > 0) {
		memcpy(buf, e->link, e->link_len);
		ce->has_link_target = 1;
		ce->link_target.data = buf;
		ce->link_target.len = e->link_len;
	}
	c->items[c->n] = ce;
	c->n++;
}

void
restore_catalog_get(struct req *r)
{
	const Kf__CatalogGet	*g = (const Kf__CatalogGet *)r->msg->body;
	Kf__CatalogPage		 page = KF__CATALOG_PAGE__INIT;
	struct catalog_ctx	 c;
	struct job_rt		*j;
	unsigned		 limit;
	int			 more = 0;
	size_t			 i;

	memset(&c, 0, sizeof(c));
	if ((j = jobs_authorize(r, g->restore_job, &g->token)) == NULL)
		return;
	if (j->type != KF__JOB_TYPE__JOB_RESTORE ||
	    g->job != (uint64_t)j->backup_job) {
		cs_error(r, KF__KF_ERR__ERR_AUTH, "restore job %lld may read "
		    "only the catalog of backup job %lld", (long long)j->id,
		    (long long)j->backup_job);
		return;
	}
	limit = g->has_limit && g->limit > 0 && g->limit <= 1000 ? g->limit :
	    1000;
	c.cap = limit;
	c.entries = calloc(limit, sizeof(*c.entries));
	c.items = calloc(limit, sizeof(*c.items));
	c.bufs = calloc(limit, sizeof(*c.bufs));
	if (c.entries == NULL || c.items == NULL || c.bufs == NULL) {
		cs_error(r, KF__KF_ERR__ERR_INTERNAL, "out of memory");
		goto done;
	}
	if (db_catalog_page(r->cs->db, j->backup_job, g->after_index, limit,
	    catalog_cb, &c, &more) != DB_OK || c.oom) {
		cs_error(r, KF__KF_ERR__ERR_DB, "cannot read the catalog of "
		    "job %lld: %s", (long long)j->backup_job,
		    db_errmsg(r->cs->db));
		goto done;
	}
	page.n_entries = c.n;
	page.entries = c.items;
	page.last = !more;
	cs_reply(r, KF__MSG_TYPE__CATALOG_PAGE, &page.base);
done:
	for (i = 0; i < c.n; i++)
		free(c.bufs[i]);
	free(c.entries);
	free(c.items);
	free(c.bufs);
}

void
restore_job_done(struct req *r, struct job_rt *j, const Kf__JobDone *d)
{
	struct cs	*cs = r->cs;

	if (db_job_finish(cs->db, j->id, KF__JOB_STATE__JOB_COMPLETED,
	    d->files, d->bytes, 0, NULL) != DB_OK) {
		cs_error(r, KF__KF_ERR__ERR_DB, "cannot record job %lld: %s",
		    (long long)j->id, db_errmsg(cs->db));
		/* The client wrote everything; only the record is missing. */
		jobs_fail(cs, j, KF__KF_ERR__ERR_DB, "client %s reported all "
		    "%llu files (%llu bytes) restored into %s, but CommServe "
		    "could not record the completion in its database",
		    j->client, (unsigned long long)d->files,
		    (unsigned long long)d->bytes, j->dest_dir);
		return;
	}
	cs_ok(r);
	log_info("restore job %lld completed: %llu files, %llu bytes to "
	    "client %s:%s", (long long)j->id, (unsigned long long)d->files,
	    (unsigned long long)d->bytes, j->client, j->dest_dir);
	jobs_remove(cs, j);
}
