/*
 * backup.c - the seed's backup data flow, CommServe's part.
 *
 *	1. Software generates data encryption key (DEK) for the client.
 *	2. Software encrypts DEK using KEK, and then stores encrypted DEK in
 *	   the CommServe database.
 *	3. CommServe sends DEK to the client.  The software protects DEK over
 *	   the network using client network password.
 * Steps 4 and 5 are the client's (client/backup.c), step 6 the
 * MediaAgent's (mediaagent/store.c).  CommServe then commits the job and
 * its catalog in one transaction, once the MediaAgent's report of the
 * durable container and the client's own account agree.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commserve.h"
#include "fault.h"
#include "log.h"
#include "chunk.h"
#include "keyseal.h"
#include "stream.h"
#include "util.h"

static int
backup_paths_valid(struct req *r, const Kf__BackupStart *b)
{
	size_t	i, len;

	if (b->n_paths == 0 || b->n_paths > CS_PATHS_MAX) {
		cs_error(r, KF__KF_ERR__ERR_INVALID, "give 1..%d paths to back "
		    "up", CS_PATHS_MAX);
		return 0;
	}
	for (i = 0; i < b->n_paths; i++) {
		len = strlen(b->paths[i]);
		if (b->paths[i][0] != '/' || len >= KF_PATH_MAX ||
		    strstr(b->paths[i], "/../") != NULL ||
		    (len >= 3 && strcmp(b->paths[i] + len - 3, "/..") == 0)) {
			cs_error(r, KF__KF_ERR__ERR_INVALID, "path \"%.200s\" "
			    "must be absolute, without '..', and shorter than "
			    "%d bytes", b->paths[i], KF_PATH_MAX);
			return 0;
		}
	}
	return 1;
}

/*
 * Seed backup steps 1 and 2: generate the job's DEK and encrypt it under
 * the KEK (AAD = job, client and key set ids) into d->dek_wrapped, which
 * db_job_create stores with the job row in one statement.
 */
static int
backup_make_dek(struct db_job *d, const uint8_t kek[KF_KEY_LEN],
    uint8_t dek[KF_KEY_LEN])
{
	if (crypto_random(dek, KF_KEY_LEN) == -1)
		return -1;
	return keys_wrap_dek(kek, d->id, d->client_id, d->key_set_id, dek,
	    &d->dek_wrapped);
}

/* The running job's state in memory, for a job row just stored. */
static struct job_rt *
backup_job_rt(struct req *r, const struct db_job *d,
    const struct db_client *cl, const struct db_pool *pool,
    const struct db_mediaagent *ma)
{
	const Kf__BackupStart	*b = (const Kf__BackupStart *)r->msg->body;
	struct job_rt		*j;

	if ((j = jobs_new(r->cs, d->id, KF__JOB_TYPE__JOB_BACKUP)) == NULL)
		return NULL;
	snprintf(j->client, sizeof(j->client), "%s", cl->name);
	j->client_id = cl->id;
	j->nk_wrapped = cl->nk_wrapped;
	snprintf(j->pool, sizeof(j->pool), "%s", pool->name);
	j->started_us = d->started_us;
	snprintf(j->mediaagent, sizeof(j->mediaagent), "%s", ma->name);
	snprintf(j->ma_endpoint, sizeof(j->ma_endpoint), "%s",
	    ma->data_endpoint);
	snprintf(j->mount_path, sizeof(j->mount_path), "%s", pool->mount_path);
	j->chunk_size = d->chunk_size;
	if (jobs_set_paths(j, b->paths, b->n_paths) == -1) {
		jobs_fail(r->cs, j, KF__KF_ERR__ERR_INTERNAL, "out of memory");
		return NULL;
	}
	return j;
}

void
backup_start(struct req *r)
{
	const Kf__BackupStart	*b = (const Kf__BackupStart *)r->msg->body;
	struct cs		*cs = r->cs;
	Kf__JobInfo		 ji = KF__JOB_INFO__INIT;
	struct db_client	 cl;
	struct db_pool		 pool;
	struct db_key_set	 ks;
	struct db_mediaagent	 ma;
	struct db_job		 d;
	struct job_rt		*j = NULL;
	uint8_t			 kek[KF_KEY_LEN], dek[KF_KEY_LEN];
	char			 tid[64], why[512];
	const char		*how = "";
	int			 rc;

	memset(&d, 0, sizeof(d));
	if (!backup_paths_valid(r, b))
		return;
	if (b->has_chunk_size && (b->chunk_size < KF_CHUNK_MIN ||
	    b->chunk_size > KF_CHUNK_MAX)) {
		cs_error(r, KF__KF_ERR__ERR_INVALID, "chunk size must be "
		    "%d..%d bytes", KF_CHUNK_MIN, KF_CHUNK_MAX);
		return;
	}
	if (b->has_streams && (b->streams < 1 ||
	    b->streams > CS_STREAMS_MAX)) {
		cs_error(r, KF__KF_ERR__ERR_INVALID, "%u data streams asked; "
		    "a backup job runs 1 to %d streams", b->streams,
		    CS_STREAMS_MAX);
		return;
	}
	if ((rc = db_client_find(cs->db, b->client, &cl)) != DB_OK) {
		cs_error(r, rc == DB_NOT_FOUND ? KF__KF_ERR__ERR_NOT_FOUND :
		    KF__KF_ERR__ERR_DB, rc == DB_NOT_FOUND ? "no client named %s" :
		    "cannot look up client %s in the database", b->client);
		return;
	}
	if ((rc = db_pool_find(cs->db, b->pool, &pool)) != DB_OK) {
		cs_error(r, rc == DB_NOT_FOUND ? KF__KF_ERR__ERR_NOT_FOUND :
		    KF__KF_ERR__ERR_DB, rc == DB_NOT_FOUND ? "no storage pool "
		    "named %s" : "cannot look up storage pool %s in the database",
		    b->pool);
		return;
	}
	if (!peers_alive(peers_find(cs, PEER_CLIENT, b->client))) {
		cs_error(r, KF__KF_ERR__ERR_UNAVAILABLE, "client %s is not "
		    "connected to CommServe (is its clientd running with the "
		    "right network password?)", b->client);
		return;
	}
	if (!peers_alive(peers_find(cs, PEER_MEDIAAGENT, pool.mediaagent)) ||
	    db_ma_get(cs->db, pool.mediaagent_id, &ma) != DB_OK) {
		cs_error(r, KF__KF_ERR__ERR_UNAVAILABLE, "MediaAgent %s of pool "
		    "%s is not connected to CommServe", pool.mediaagent,
		    pool.name);
		return;
	}
	if (db_key_set_get(cs->db, pool.key_set_id, &ks) != DB_OK) {
		cs_error(r, KF__KF_ERR__ERR_DB, "cannot read key set %lld of "
		    "pool %s: %s", (long long)pool.key_set_id, pool.name,
		    db_errmsg(cs->db));
		return;
	}

	d.type = KF__JOB_TYPE__JOB_BACKUP;
	d.client_id = cl.id;
	d.pool_id = pool.id;
	d.copy_id = pool.copy_id;
	d.key_set_id = ks.id;
	d.chunk_size = b->has_chunk_size ? b->chunk_size : KF_CHUNK_DEFAULT;
	d.streams = b->has_streams ? b->streams : 1;
	/* The id first: the wrapped DEK's AAD binds it. */
	if (db_job_next_id(cs->db, &d.id) != DB_OK) {
		cs_error(r, KF__KF_ERR__ERR_DB, "cannot create the job: %s",
		    db_errmsg(cs->db));
		return;
	}
	snprintf(tid, sizeof(tid), "job/%lld", (long long)d.id);
	if (keys_kek_for_backup(cs, &ks, kek, &how, why, sizeof(why)) == -1) {
		/* Recorded as a failed job, without a DEK. */
		if (db_job_create(cs->db, &d) != DB_OK) {
			cs_error(r, KF__KF_ERR__ERR_DB, "cannot create the "
			    "job: %s", db_errmsg(cs->db));
			return;
		}
		if ((j = backup_job_rt(r, &d, &cl, &pool, &ma)) != NULL)
			jobs_fail(cs, j, KF__KF_ERR__ERR_KMS, "cannot obtain "
			    "the KEK of pool %s from KMS %s (no cached KEK): "
			    "%s", pool.name, pool.kms, why);
		cs_error(r, KF__KF_ERR__ERR_KMS, "job %lld: cannot obtain the "
		    "KEK of pool %s from KMS %s (no cached KEK): %s",
		    (long long)d.id, pool.name, pool.kms, why);
		return;
	}
	rc = backup_make_dek(&d, kek, dek);
	crypto_wipe(kek, sizeof(kek));
	if (rc == -1) {
		crypto_wipe(dek, sizeof(dek));
		cs_error(r, KF__KF_ERR__ERR_CRYPTO, "cannot generate and "
		    "encrypt the job's DEK");
		return;
	}
	/* The job row and its encrypted DEK, in one statement. */
	if (db_job_create(cs->db, &d) != DB_OK) {
		crypto_wipe(dek, sizeof(dek));
		cs_error(r, KF__KF_ERR__ERR_DB, "cannot create the job and "
		    "store its encrypted DEK: %s", db_errmsg(cs->db));
		return;
	}
	if ((j = backup_job_rt(r, &d, &cl, &pool, &ma)) == NULL) {
		crypto_wipe(dek, sizeof(dek));
		cs_error(r, KF__KF_ERR__ERR_INTERNAL, "out of memory");
		return;
	}
	memcpy(j->dek, dek, sizeof(j->dek));
	j->have_dek = 1;
	crypto_wipe(dek, sizeof(dek));
	j->streams = b->has_streams ? b->streams : 1;
	trace_step(cs->trace, tid, "backup", 1, NULL, KF_KEY_LEN,
	    "generated a 256-bit DEK for client %s, job %lld", j->client,
	    (long long)j->id);
	trace_step(cs->trace, tid, "backup", 2, NULL, d.dek_wrapped.len,
	    "encrypted the DEK with the pool's KEK (AES-256-GCM, AAD = job, "
	    "client and key set ids; %s) and stored it in the CommServe "
	    "database", how);
	fault_point("backup.after_dek_stored", (uint64_t)j->id);
	if (jobs_announce(cs, j) == -1) {
		jobs_fail(cs, j, KF__KF_ERR__ERR_UNAVAILABLE, "cannot reach "
		    "MediaAgent %s", j->mediaagent);
		cs_error(r, KF__KF_ERR__ERR_UNAVAILABLE, "cannot reach "
		    "MediaAgent %s", ma.name);
		return;
	}
	log_info("backup job %lld started: client %s, pool %s, %zu paths, "
	    "%u data streams", (long long)d.id, cl.name, pool.name,
	    b->n_paths, j->streams);
	/* The row as just stored: no need to read it back. */
	snprintf(d.client, sizeof(d.client), "%s", cl.name);
	snprintf(d.pool, sizeof(d.pool), "%s", pool.name);
	snprintf(d.mediaagent, sizeof(d.mediaagent), "%s", ma.name);
	jobs_fill_info(&d, &ji, j);
	cs_reply(r, KF__MSG_TYPE__JOB_INFO, &ji.base);
}

/* Seed backup step 3: send the DEK to the client, sealed. */
void
backup_send_order(struct cs *cs, struct job_rt *j)
{
	Kf__BackupOrder	 o = KF__BACKUP_ORDER__INIT;
	Kf__SealedKey	 sk = KF__SEALED_KEY__INIT;
	struct peer	*p;
	uint8_t		 store[sizeof(struct sealed_key)];
	char		 tid[64];

	if ((p = jobs_seal_for_client(cs, j, &sk, store,
	    sizeof(store))) == NULL)
		return;
	o.job = (uint64_t)j->id;
	o.n_paths = j->npaths;
	o.paths = j->paths;
	o.mediaagent_endpoint = j->ma_endpoint;
	o.mediaagent_key = (char *)peers_ma_key(cs, j->mediaagent);
	o.dek = &sk;
	o.chunk_size = j->chunk_size;
	if (j->streams > 1) {
		o.has_streams = 1;
		o.streams = j->streams;
	}
	if (cs_send(cs, p, KF__MSG_TYPE__BACKUP_ORDER, &o.base) == -1) {
		crypto_wipe(store, sizeof(store));
		jobs_fail(cs, j, KF__KF_ERR__ERR_UNAVAILABLE, "cannot send "
		    "the job to client %s", j->client);
		return;
	}
	crypto_wipe(store, sizeof(store));
	snprintf(tid, sizeof(tid), "job/%lld", (long long)j->id);
	trace_step(cs->trace, tid, "backup", 3, j->client, KF_SEAL_CT_LEN,
	    "sent the DEK to client %s sealed with its network password "
	    "(AES-256-GCM under HKDF(PBKDF2(password)), AAD = job id and "
	    "client name), with MediaAgent %s's endpoint", j->client,
	    j->mediaagent);
}

static int
catalog_entry_check(const struct job_rt *j, const Kf__CatalogEntry *e,
    char *why, size_t cap)
{
	const struct db_catalog_entry *prev;

	if (e->index != j->ncatalog + 1)
		return snprintf(why, cap, "entry %llu out of order",
		    (unsigned long long)e->index), -1;
	if (stream_path_valid((const char *)e->path.data, e->path.len) != 0)
		return snprintf(why, cap, "entry %llu: unsafe path",
		    (unsigned long long)e->index), -1;
	if (e->offset > INT64_MAX || e->size > INT64_MAX)
		return snprintf(why, cap, "entry %llu: offset or size past "
		    "2^63", (unsigned long long)e->index), -1;
	if (e->mode > 07777 || e->mtime_nsec >= 1000000000u)
		return snprintf(why, cap, "entry %llu: bad mode or time",
		    (unsigned long long)e->index), -1;
	switch (e->type) {
	case KF__FILE_TYPE__FT_REGULAR:
		if (!e->has_sha256 || e->sha256.len != KF_SHA256_LEN)
			return snprintf(why, cap, "entry %llu: a regular file "
			    "needs its SHA-256", (unsigned long long)e->index),
			    -1;
		break;
	case KF__FILE_TYPE__FT_SYMLINK:
		if (!e->has_link_target || e->link_target.len == 0 ||
		    e->link_target.len > KF_PATH_MAX || e->size != 0)
			return snprintf(why, cap, "entry %llu: a symlink needs "
			    "a target", (unsigned long long)e->index), -1;
		break;
	case KF__FILE_TYPE__FT_DIRECTORY:
		if (e->size != 0)
			return snprintf(why, cap, "entry %llu: a directory "
			    "has no size", (unsigned long long)e->index), -1;
		break;
	default:
		return snprintf(why, cap, "entry %llu: unknown type",
		    (unsigned long long)e->index), -1;
	}
	prev = j->ncatalog > 0 ? &j->catalog[j->ncatalog - 1] : NULL;
	if (prev != NULL && e->offset <= prev->offset)
		return snprintf(why, cap, "entry %llu: offsets must increase",
		    (unsigned long long)e->index), -1;
	return 0;
}

static void *
dup_bytes(const ProtobufCBinaryData *b)
{
	uint8_t	*p;

	if ((p = malloc(b->len + 1)) == NULL)
		return NULL;
	memcpy(p, b->data, b->len);
	p[b->len] = 0;
	return p;
}

void
backup_catalog_batch(struct req *r)
{
	const Kf__CatalogBatch	*b = (const Kf__CatalogBatch *)r->msg->body;
	struct job_rt		*j;
	struct db_catalog_entry	*ce, *nc;
	const Kf__CatalogEntry	*e;
	char			 why[128];
	size_t			 i, cap;

	if ((j = jobs_authorize(r, b->job, &b->token)) == NULL)
		return;
	if (j->type != KF__JOB_TYPE__JOB_BACKUP || j->client_done) {
		cs_error(r, KF__KF_ERR__ERR_STATE, "job %lld takes no catalog "
		    "now", (long long)j->id);
		return;
	}
	if (b->n_entries > 1000 || j->ncatalog + b->n_entries >
	    CS_CATALOG_MAX) {
		cs_error(r, KF__KF_ERR__ERR_INVALID, "too many catalog entries "
		    "(at most 1000 a batch, %d a job)", CS_CATALOG_MAX);
		return;
	}
	if (j->ncatalog + b->n_entries > j->catalog_cap) {
		cap = (j->catalog_cap + b->n_entries) * 2;
		if ((nc = reallocarray(j->catalog, cap, sizeof(*nc))) == NULL) {
			cs_error(r, KF__KF_ERR__ERR_INTERNAL, "out of memory");
			return;
		}
		j->catalog = nc;
		j->catalog_cap = cap;
	}
	for (i = 0; i < b->n_entries; i++) {
		e = b->entries[i];
		if (catalog_entry_check(j, e, why, sizeof(why)) == -1) {
			cs_error(r, KF__KF_ERR__ERR_INVALID, "job %lld catalog: "
			    "%s", (long long)j->id, why);
			return;
		}
		ce = &j->catalog[j->ncatalog];
		memset(ce, 0, sizeof(*ce));
		ce->index = e->index;
		ce->path_len = e->path.len;
		ce->type = e->type;
		ce->mode = e->mode;
		ce->mtime_sec = e->mtime_sec;
		ce->mtime_nsec = e->mtime_nsec;
		ce->size = e->size;
		ce->offset = e->offset;
		if (e->has_sha256) {
			memcpy(ce->sha256, e->sha256.data, KF_SHA256_LEN);
			ce->has_sha256 = 1;
		}
		if ((ce->path = dup_bytes(&e->path)) == NULL) {
			cs_error(r, KF__KF_ERR__ERR_INTERNAL, "out of memory");
			return;
		}
		if (e->has_link_target) {
			ce->link_len = e->link_target.len;
			if ((ce->link = dup_bytes(&e->link_target)) == NULL) {
				free((void *)ce->path);
				cs_error(r, KF__KF_ERR__ERR_INTERNAL,
				    "out of memory");
				return;
			}
		}
		j->ncatalog++;
	}
	cs_ok(r);
}

/* Commit once the MediaAgent's durable container and the client agree. */
static void
backup_maybe_commit(struct cs *cs, struct job_rt *j)
{
	if (!j->ma_done || !j->client_done)
		return;
	if (j->ma_chunks != j->c_chunks ||
	    j->ma_stream_bytes != j->c_stream_bytes ||
	    crypto_memeq(j->ma_digest, j->c_digest, KF_SHA256_LEN) != 0) {
		jobs_fail(cs, j, KF__KF_ERR__ERR_INTEGRITY, "MediaAgent %s "
		    "stored %llu chunks (%llu bytes) but client %s sent %llu "
		    "(%llu bytes), or their digests differ", j->mediaagent,
		    (unsigned long long)j->ma_chunks,
		    (unsigned long long)j->ma_stream_bytes, j->client,
		    (unsigned long long)j->c_chunks,
		    (unsigned long long)j->c_stream_bytes);
		return;
	}
	if (j->ncatalog != j->files) {
		jobs_fail(cs, j, KF__KF_ERR__ERR_INTEGRITY, "client %s reported "
		    "%llu files but sent %zu catalog entries", j->client,
		    (unsigned long long)j->files, j->ncatalog);
		return;
	}
	fault_point("backup.before_commit", (uint64_t)j->id);
	if (db_job_commit_backup(cs->db, j->id, j->files, j->bytes,
	    j->c_chunks, j->c_stream_bytes, j->c_digest, j->catalog,
	    j->ncatalog) != DB_OK) {
		jobs_fail(cs, j, KF__KF_ERR__ERR_DB, "cannot commit the job: "
		    "%s", db_errmsg(cs->db));
		return;
	}
	log_info("backup job %lld completed: %llu files, %llu bytes, %llu "
	    "chunks on MediaAgent %s", (long long)j->id,
	    (unsigned long long)j->files, (unsigned long long)j->bytes,
	    (unsigned long long)j->c_chunks, j->mediaagent);
	jobs_remove(cs, j);
}

void
backup_container_committed(struct req *r)
{
	const Kf__ContainerCommitted *c =
	    (const Kf__ContainerCommitted *)r->msg->body;
	struct job_rt		*j;

	fault_point("backup.before_container_committed", c->job);
	if ((j = jobs_find(r->cs, c->job > INT64_MAX ? 0 :
	    (int64_t)c->job)) == NULL || j->type != KF__JOB_TYPE__JOB_BACKUP ||
	    strcmp(j->mediaagent, r->peer->name) != 0 || j->ma_done) {
		log_warnx("MediaAgent %s reported a container for job %llu, "
		    "which is not its running backup", r->peer->name,
		    (unsigned long long)c->job);
		return;
	}
	if (c->digest.len != KF_SHA256_LEN) {
		jobs_fail(r->cs, j, KF__KF_ERR__ERR_INTEGRITY, "MediaAgent %s "
		    "reported a malformed digest", j->mediaagent);
		return;
	}
	j->ma_done = 1;
	j->ma_chunks = c->chunks;
	j->ma_stream_bytes = c->stream_bytes;
	memcpy(j->ma_digest, c->digest.data, KF_SHA256_LEN);
	j->active_ms = util_mono_ms();
	backup_maybe_commit(r->cs, j);
}

void
backup_job_done(struct req *r, struct job_rt *j, const Kf__JobDone *d)
{
	if (j->client_done || !d->has_chunks || !d->has_stream_bytes ||
	    !d->has_digest || d->digest.len != KF_SHA256_LEN) {
		cs_error(r, KF__KF_ERR__ERR_INVALID, "job %lld: a backup's "
		    "JOB_DONE needs chunks, stream bytes and digest, once",
		    (long long)j->id);
		return;
	}
	j->client_done = 1;
	j->files = d->files;
	j->bytes = d->bytes;
	j->c_chunks = d->chunks;
	j->c_stream_bytes = d->stream_bytes;
	memcpy(j->c_digest, d->digest.data, KF_SHA256_LEN);
	cs_ok(r);
	backup_maybe_commit(r->cs, j);
}
