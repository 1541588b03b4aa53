/*
 * db.h - the CommServe database (PostgreSQL 15 through libpq).
 *
 * Only commserve/db*.c include libpq-fe.h; PGresult never leaves them.
 * Every query is parameterised, every multi-row change is one transaction.
 * Functions return DB_OK (0), DB_NOT_FOUND, DB_EXISTS, or DB_ERROR (-1) with
 * a sentence in db_errmsg().  A connection-class failure (SQLSTATE 08xxx)
 * makes the next call reconnect, so a restarted PostgreSQL needs no restart
 * of commserved.
 *
 * Key material is only ever stored wrapped: the encrypted KEK, the encrypted
 * DEK, the scrambled built-in master key and the wrapped client network key
 * are opaque blobs here.
 */
#ifndef KF_DB_H
#define KF_DB_H

#include <stddef.h>
#include <stdint.h>

#define DB_OK		0
#define DB_ERROR	(-1)
#define DB_NOT_FOUND	1
#define DB_EXISTS	2

#define DB_NAME_MAX	128		/* names of pools, clients, ... */
#define DB_TEXT_MAX	1024		/* paths, endpoints, sentences */
#define DB_BLOB_MAX	256		/* wrapped keys and parameters */

struct db;

/* Connect (and keep the conninfo for reconnects).  NULL on failure. */
struct db *db_open(const char *conninfo, char *err, size_t errcap);
void	db_close(struct db **);
const char *db_errmsg(const struct db *);
/* Apply the versioned migrations not yet applied (idempotent). */
int	db_migrate(struct db *);
int	db_schema_version(struct db *, int *version);

struct db_blob {
	uint8_t	data[DB_BLOB_MAX];	/* bytes */
	size_t	len;			/* how many are used */
};

/* KMS servers.  Migration 1 inserts the built-in KMS, named "builtin". */
struct db_kms {
	int64_t	id;			/* kms_servers.id */
	char	name[DB_NAME_MAX];	/* operator's name */
	char	kind[16];		/* "builtin" or "kmip" */
	char	address[DB_TEXT_MAX];	/* host:port for KMIP */
	char	ca[DB_TEXT_MAX];	/* CA certificate path (PEM) */
	char	cert[DB_TEXT_MAX];	/* client certificate path */
	char	key[DB_TEXT_MAX];	/* client key path (not encrypted) */
	int	send_correlation;	/* send Client Correlation Value */
};
int	db_kms_find(struct db *, const char *name, struct db_kms *out);
int	db_kms_get(struct db *, int64_t id, struct db_kms *out);
int	db_kms_add(struct db *, struct db_kms *in_out);	/* sets id */
int	db_kms_list(struct db *, void (*cb)(void *, const struct db_kms *),
	    void *arg);

/* A key set: one master key and the KEK it protects. */
struct db_key_set {
	int64_t	id;			/* key_sets.id */
	int64_t	kms_id;			/* which KMS holds the master key */
	char	master_key_id[DB_NAME_MAX];	/* KMS Unique Identifier */
	char	kek_mode[16];		/* "GCM" or "CBC" */
	struct db_blob kek_ct;		/* encrypted KEK */
	struct db_blob kek_iv;		/* IV/nonce used by the KMS */
	struct db_blob kek_tag;		/* GCM tag (empty for CBC) */
	struct db_blob scrambled_mk;	/* built-in KMS only: wrapped master key */
	int64_t	created_us;
};
/* Reserve an id (so AADs can bind it before the row exists). */
int	db_key_set_next_id(struct db *, int64_t *id);
int	db_key_set_get(struct db *, int64_t id, struct db_key_set *out);

/* Storage pools.  Creating one also creates its storage policy (same name)
 * with a primary copy that uses the pool's key set. */
struct db_pool {
	int64_t	id;			/* storage_pools.id */
	char	name[DB_NAME_MAX];
	int64_t	mediaagent_id;
	char	mediaagent[DB_NAME_MAX];	/* MediaAgent name (read only) */
	char	mount_path[DB_TEXT_MAX];	/* on the MediaAgent */
	int64_t	key_set_id;
	int64_t	copy_id;		/* the primary copy of its policy */
	char	kms[DB_NAME_MAX];	/* KMS name (read only) */
	char	master_key_id[DB_NAME_MAX];	/* (read only) */
	int64_t	created_us;
};
/* One transaction: key set (with ks->id from db_key_set_next_id), pool,
 * policy, primary copy.  DB_EXISTS if the name is taken; nothing is left
 * behind on any failure.  Fills pool->id, pool->copy_id. */
int	db_pool_create(struct db *, struct db_pool *pool,
	    const struct db_key_set *ks);
int	db_pool_find(struct db *, const char *name, struct db_pool *out);
int	db_pool_get(struct db *, int64_t id, struct db_pool *out);
int	db_pool_list(struct db *, void (*cb)(void *, const struct db_pool *),
	    void *arg);

/* Clients and their network password material. */
struct db_client {
	int64_t	id;
	char	name[DB_NAME_MAX];
	struct db_blob salt;		/* PBKDF2 salt */
	uint32_t iterations;		/* PBKDF2 iterations */
	struct db_blob nk_wrapped;	/* network key wrapped under local key */
	uint32_t failed_auths;		/* wrong passwords seen */
	int64_t	last_seen_us;		/* 0 = never */
	int64_t	created_us;
};
int	db_client_add(struct db *, struct db_client *in_out);	/* sets id */
int	db_client_find(struct db *, const char *name, struct db_client *out);
int	db_client_get(struct db *, int64_t id, struct db_client *out);
int	db_client_list(struct db *,
	    void (*cb)(void *, const struct db_client *), void *arg);
/* ok: last_seen = now; not ok: failed_auths + 1. */
int	db_client_auth_result(struct db *, int64_t id, int ok);

/* MediaAgents, upserted when they register. */
#define DB_CURVE_KEY_MAX	41	/* a Z85 CURVE key and its NUL */
struct db_mediaagent {
	int64_t	id;
	char	name[DB_NAME_MAX];
	char	data_endpoint[DB_TEXT_MAX];
	char	mount_root[DB_TEXT_MAX];
	int64_t	last_seen_us;
	char	curve_key[DB_CURVE_KEY_MAX];	/* pinned CURVE key, "" = none */
};
/*
 * Sets id.  With curve_key "" (CURVE off) no pin is checked or written.
 * Otherwise the name is pinned to curve_key on its first registration (or
 * after db_ma_unpin), and a name pinned to another key gives DB_EXISTS
 * with the row unchanged: the check and the update are one statement.
 */
int	db_ma_upsert(struct db *, struct db_mediaagent *in_out);
/* Clear the pin of MediaAgent name; old gets the key it had ("" = none).
 * DB_NOT_FOUND for an unknown name. */
int	db_ma_unpin(struct db *, const char *name,
	    char old[DB_CURVE_KEY_MAX]);
int	db_ma_find(struct db *, const char *name, struct db_mediaagent *out);
int	db_ma_get(struct db *, int64_t id, struct db_mediaagent *out);
int	db_ma_list(struct db *,
	    void (*cb)(void *, const struct db_mediaagent *), void *arg);

/* Jobs.  type/state use the values of proto's JobType/JobState. */
struct db_job {
	int64_t	id;
	int	type;			/* 1 backup, 2 restore */
	int	state;			/* 1 running, 2 completed, 3 failed, 4 interrupted */
	int64_t	client_id;
	char	client[DB_NAME_MAX];	/* (read only) */
	int64_t	pool_id;
	char	pool[DB_NAME_MAX];	/* (read only) */
	int64_t	copy_id;
	int64_t	key_set_id;
	int64_t	backup_job;		/* restore: source job, else 0 */
	struct db_blob dek_wrapped;	/* backup: DEK under KEK (nonce|ct|tag) */
	uint64_t files, bytes;		/* file count and plaintext bytes */
	uint64_t chunks, stream_bytes;	/* backup container */
	struct db_blob digest;		/* SHA-256 over chunk tags */
	uint32_t chunk_size;
	uint32_t streams;		/* backup: data streams, 1..16 */
	char	mediaagent[DB_NAME_MAX];	/* (read only) via the pool */
	int64_t	started_us, ended_us;	/* ended 0 while running */
	int	error_code;		/* KfErr, 0 = none */
	char	error[DB_TEXT_MAX];
};
/* A new job id from the jobs' sequence, for db_job_create. */
int	db_job_next_id(struct db *, int64_t *id);
/* Insert a running job with id (0: the next from the sequence); fills id
 * and started_us. */
int	db_job_create(struct db *, struct db_job *in_out);
int	db_job_set_dek(struct db *, int64_t id, const struct db_blob *dek);
int	db_job_get(struct db *, int64_t id, struct db_job *out);
/* Newest first, at most limit. */
int	db_job_list(struct db *, unsigned limit,
	    void (*cb)(void *, const struct db_job *), void *arg);
/* Final state for a job that did not commit a catalog (failed,
 * interrupted, or a completed restore).  Only changes a running job. */
int	db_job_finish(struct db *, int64_t id, int state, uint64_t files,
	    uint64_t bytes, int error_code, const char *error);
/* At start: every job left running becomes interrupted.  Sets *count. */
int	db_jobs_interrupt_running(struct db *, uint64_t *count);
/* Backups of MediaAgent ma_id that failed or were interrupted and whose
 * container the MediaAgent has not confirmed discarded, with an id above
 * after: in id order, at most limit.  pending (may be NULL) is set to how
 * many there are above after in all, beyond limit too. */
int	db_jobs_undiscarded(struct db *, int64_t ma_id, int64_t after,
	    unsigned limit, void (*cb)(void *, int64_t job,
	    const char *mount_path), void *arg, uint64_t *pending);
/* The MediaAgent confirmed the discard: *changed = 0 if the job is not a
 * failed or interrupted backup of ma_id still waiting for one. */
int	db_job_discarded(struct db *, int64_t id, int64_t ma_id, int *changed);

/* Catalog entries (job_files). Pointers are valid during a callback only. */
struct db_catalog_entry {
	uint64_t index;			/* from 1, stream order */
	const uint8_t *path;		/* relative path bytes */
	size_t	path_len;
	int	type;			/* proto FileType */
	uint32_t mode;
	int64_t	mtime_sec;
	uint32_t mtime_nsec;
	uint64_t size;
	uint64_t offset;		/* stream offset of its record */
	uint8_t	sha256[32];
	int	has_sha256;
	const uint8_t *link;		/* symlink target bytes */
	size_t	link_len;
};
/*
 * One transaction: the catalog (COPY into job_files) and the job's final
 * counts, state completed.  Fails without change if the job is not
 * running.
 */
int	db_job_commit_backup(struct db *, int64_t id, uint64_t files,
	    uint64_t bytes, uint64_t chunks, uint64_t stream_bytes,
	    const uint8_t digest[32], const struct db_catalog_entry *entries,
	    size_t n);
/* Entries with index > after, in index order, at most limit; *more = 1 if
 * others follow. */
int	db_catalog_page(struct db *, int64_t job, uint64_t after,
	    unsigned limit, void (*cb)(void *, const struct db_catalog_entry *),
	    void *arg, int *more);

/* Trace events (job_events). */
struct db_event {
	char	trace_id[64];		/* "job/12", "pool/3" */
	int64_t	job_id;			/* 0 for pool traces */
	char	flow[16];
	uint32_t step;
	char	actor[32];
	char	action[DB_TEXT_MAX];
	char	peer[DB_NAME_MAX];
	uint64_t bytes;
	int64_t	ts_us;
	char	detail[DB_TEXT_MAX];
};
/* The most events one db_events_add() stores (its statement has ten
 * parameters per event). */
#define DB_EVENTS_BATCH_MAX	48
int	db_event_add(struct db *, const struct db_event *);
/* n events in one statement, so all or none are stored. */
int	db_events_add(struct db *, const struct db_event *, size_t n);
/* In order of flow step, then time. */
int	db_events_get(struct db *, const char *trace_id,
	    void (*cb)(void *, const struct db_event *), void *arg);

#endif
