/*
 * commserve.h - CommServe's private header: the daemon's context, the
 * request handed to handlers, and prototypes grouped by file.
 *
 * commserved is one thread around one zmq_poll loop: a ROUTER for daemons
 * and the CLI, a SUB for trace events.  It never handles bulk data.
 */
#ifndef KF_COMMSERVE_H
#define KF_COMMSERVE_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "db.h"
#include "trace.h"
#include "wire.h"

#define CS_HEARTBEAT_MS		1000
#define CS_PEER_LOST_BEATS	5	/* a peer is gone after this many */
#define CS_ANNOUNCE_TIMEOUT_MS	10000	/* MediaAgent must accept by then */
#define CS_CATALOG_MAX		10000000	/* entries per backup job */
#define CS_PATHS_MAX		1024	/* paths per backup or restore */
#define CS_STREAMS_MAX		16	/* data streams per backup job */
#define CS_NAME_MAX		64	/* pool, client, MediaAgent names */
#define CS_PEERS_MAX		4096	/* registered or registering daemons */

struct cs_conf {
	const char	*listen;	/* ROUTER endpoint */
	const char	*events;	/* SUB endpoint for trace events */
	const char	*events_public;	/* what daemons are told to connect to */
	const char	*db;		/* libpq conninfo */
	const char	*state_dir;	/* local key file lives here */
	unsigned	 job_timeout_s;	/* fail a job idle this long */
	unsigned	 kek_cache_s;	/* keep an unwrapped KEK this long */
	int		 verbose;	/* log_debug on */
	int		 check_only;	/* -n: check the configuration, exit */
};

enum peer_role {
	PEER_CLIENT = 1,
	PEER_MEDIAAGENT = 2
};

/* A registered (or registering) client or MediaAgent connection. */
struct peer {
	struct peer	*next;			/* list link */
	uint8_t		 id[WIRE_PEER_MAX];	/* ZeroMQ routing id */
	size_t		 idlen;			/* its length */
	enum peer_role	 role;			/* what it is */
	char		 name[DB_NAME_MAX];	/* client or MediaAgent name */
	int64_t		 db_id;			/* clients.id / mediaagents.id */
	int		 authed;		/* registration finished */
	uint8_t		 server_nonce[32];	/* client challenge in flight */
	uint8_t		 client_nonce[64];	/* the client's nonce */
	size_t		 client_nonce_len;	/* its length */
	int64_t		 last_seen_ms;		/* monotonic */
	char		 curve_key[41];		/* MediaAgent's CURVE key, or "" */
	int64_t		 discard_from;		/* discard sweep: next job id, 0 none */
	int64_t		 discard_next_ms;	/* its next batch not before */
};

struct kek_cache;
struct job_rt;
struct job_unrecorded;
struct kms_backend;

/* The daemon's context. */
struct cs {
	struct cs_conf	 conf;		/* validated configuration */
	void		*zctx;		/* ZeroMQ context */
	void		*router;	/* daemons and CLI */
	void		*sub;		/* trace events in */
	struct db	*db;		/* the CommServe database */
	struct trace	*trace;		/* actor "commserve" */
	struct trace	*trace_kms;	/* actor "kms" (built-in KMS steps) */
	uint8_t		 local_key[KF_KEY_LEN];	/* scrambles keys at rest */
	struct peer	*peers;		/* connected daemons */
	struct job_rt	*jobs;		/* running jobs */
	struct job_unrecorded *unrecorded; /* failures the DB did not take */
	struct kek_cache *keks;		/* unwrapped KEKs, bounded time */
	struct event_batch *events;	/* trace events not yet stored */
};

/* One received request, as handlers see it. */
struct req {
	struct cs		*cs;		/* the daemon */
	const struct wire_msg	*msg;		/* peer, type, body, payload */
	struct peer		*peer;		/* registered sender, or NULL */
	int			 replied;	/* set by cs_reply/cs_error */
};

/* dispatch.c */
void	dispatch_router(struct cs *);
void	cs_reply(struct req *, uint32_t type, const ProtobufCMessage *);
void	cs_ok(struct req *);
void	cs_error(struct req *, kf_err_t, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
int	cs_send(struct cs *, const struct peer *, uint32_t type,
	    const ProtobufCMessage *);

/* peers.c */
void	peers_hello(struct req *);
void	peers_auth(struct req *);
void	peers_heartbeat(struct req *);
struct peer *peers_find_id(struct cs *, const uint8_t *id, size_t idlen);
struct peer *peers_find(struct cs *, enum peer_role, const char *name);
/* The CURVE key a registered MediaAgent proved, or NULL. */
const char *peers_ma_key(struct cs *, const char *name);
int	peers_alive(const struct peer *);
void	peers_expire(struct cs *);
void	peers_free(struct cs *);

/* localkey.c */
int	localkey_load(const char *state_dir, uint8_t key[KF_KEY_LEN]);
void	localkey_aad(uint8_t *aad, size_t *len, const char *label,
	    const void *id, size_t idlen);

/* keys.c: the wrapping conventions of the key hierarchy */
int	keys_wrap_network_key(struct cs *, const char *client,
	    const uint8_t nk[KF_KEY_LEN], struct db_blob *out);
int	keys_unwrap_network_key(struct cs *, const struct db_client *,
	    uint8_t nk[KF_KEY_LEN]);
int	keys_wrap_dek(const uint8_t kek[KF_KEY_LEN], int64_t job,
	    int64_t client_id, int64_t key_set_id, const uint8_t dek[KF_KEY_LEN],
	    struct db_blob *out);
int	keys_unwrap_dek(const uint8_t kek[KF_KEY_LEN], int64_t job,
	    int64_t client_id, int64_t key_set_id, const struct db_blob *in,
	    uint8_t dek[KF_KEY_LEN]);
void	keys_kek_aad(int64_t key_set_id, uint8_t aad[32], size_t *len);
int	keys_decrypt_kek(const struct db_key_set *,
	    const uint8_t mk[KF_KEY_LEN], uint8_t kek[KF_KEY_LEN]);
/* nk_wrapped: the client's wrapped network key as read at the job's start,
 * or NULL (or empty) to read the client's row now. */
int	keys_seal_for_client(struct cs *, const char *client,
	    const struct db_blob *nk_wrapped, uint64_t job,
	    const uint8_t dek[KF_KEY_LEN], const uint8_t token[KF_TOKEN_LEN],
	    Kf__SealedKey *out, uint8_t *store, size_t storecap);
int	keys_kek_for_backup(struct cs *, const struct db_key_set *,
	    uint8_t kek[KF_KEY_LEN], const char **how, char *err,
	    size_t errcap);

/* kekcache.c */
struct kek_cache *kekcache_new(void);
int	kekcache_get(struct kek_cache *, int64_t key_set_id,
	    uint8_t kek[KF_KEY_LEN]);
void	kekcache_put(struct kek_cache *, int64_t key_set_id,
	    const uint8_t kek[KF_KEY_LEN], unsigned ttl_s);
void	kekcache_expire(struct kek_cache *);
void	kekcache_free(struct kek_cache **);

/* kms.c: the KMS backends behind one interface */
struct kms_wrapped_kek {
	char		key_id[DB_NAME_MAX];	/* master key Unique Identifier */
	char		mode[16];		/* "GCM" or "CBC" */
	struct db_blob	ct;			/* encrypted KEK */
	struct db_blob	iv;			/* nonce/IV */
	struct db_blob	tag;			/* GCM tag (empty for CBC) */
	struct db_blob	scrambled_mk;		/* built-in only */
};
struct kms_backend {
	const char	*kind;			/* "builtin", "kmip" */
	/* Pool step 2: the KMS generates a master key (sets out->key_id). */
	int	(*create_master)(struct cs *, const struct db_kms *,
		    const char *trace_id, const char *label, int64_t key_set_id,
		    struct kms_wrapped_kek *out, char *err, size_t errcap);
	/* Pool step 3: the KMS encrypts the KEK under that master key. */
	int	(*encrypt_kek)(struct cs *, const struct db_kms *,
		    const char *trace_id, int64_t key_set_id,
		    const uint8_t kek[KF_KEY_LEN], struct kms_wrapped_kek *w,
		    char *err, size_t errcap);
	/* Restore step 2: fetch the master key. */
	int	(*get_master)(struct cs *, const struct db_kms *,
		    const char *trace_id, const struct db_key_set *,
		    uint8_t mk[KF_KEY_LEN], char *err, size_t errcap);
	/*
	 * Undo step 2 when the pool could not be stored: revoke and destroy
	 * the new master key (best effort; what happened goes to what).
	 * NULL when the KMS keeps nothing outside the pool's own row.
	 */
	void	(*discard_master)(struct cs *, const struct db_kms *,
		    const char *trace_id, const char *key_id, char *what,
		    size_t cap);
};
const struct kms_backend *kms_backend_for(const struct db_kms *);

/* kms_builtin.c */
extern const struct kms_backend kms_builtin;

/* kms_kmip.c */
struct kmip_client;
extern const struct kms_backend kms_kmip;
/* A KMIP client for a KMS row (not yet connected); NULL with err set. */
struct kmip_client *kms_kmip_open(const struct db_kms *, char *err,
	    size_t errcap);

/* kms_admin.c */
void	kms_admin_add(struct req *);
void	kms_admin_fill_info(const struct db_kms *, Kf__KmsInfo *);

/* rows.c: list replies, names */
struct rows {
	void	*v;		/* elements */
	size_t	 size;		/* element size */
	size_t	 n, cap;	/* used, allocated */
	int	 oom;		/* an allocation failed */
};
void	rows_push(struct rows *, const void *);
void	*rows_at(const struct rows *, size_t);
int	rows_reply_arrays(struct rows *, size_t msgsize, void **msgs,
	    void ***ptrs);
void	rows_free(struct rows *);
int	cs_name_valid(const char *);

/* pool.c */
void	pool_create(struct req *);
void	pool_list(struct req *);

/* admin.c */
void	admin_client_add(struct req *);
void	admin_client_list(struct req *);
void	admin_ma_list(struct req *);
void	admin_ma_unpin(struct req *);
void	admin_kms_list(struct req *);
void	admin_trace_get(struct req *);

/* jobs.c: running jobs, their tokens and timeouts */
struct job_rt {
	struct job_rt	*next;			/* list link */
	int64_t		 id;			/* jobs.id */
	int		 type;			/* JOB_BACKUP / JOB_RESTORE */
	int64_t		 backup_job;		/* restore: source */
	uint8_t		 token[KF_TOKEN_LEN];	/* client presents it */
	uint8_t		 dek[KF_KEY_LEN];	/* until the order is sent */
	int		 have_dek;		/* dek holds a key */
	char		 client[DB_NAME_MAX];	/* client name */
	int64_t		 client_id;
	struct db_blob	 nk_wrapped;		/* its wrapped network key, or empty */
	char		 pool[DB_NAME_MAX];	/* backup: pool name, for JOB_GET */
	int64_t		 started_us;		/* backup: row's started_at, or 0 */
	char		 mediaagent[DB_NAME_MAX];	/* MediaAgent name */
	char		 ma_endpoint[DB_TEXT_MAX];	/* its data endpoint */
	char		 mount_path[DB_TEXT_MAX];	/* pool's mount path */
	uint32_t	 chunk_size;
	uint32_t	 streams;		/* backup: data streams, 1..16 */
	uint64_t	 chunks;		/* restore: container chunks */
	char		 dest_dir[DB_TEXT_MAX];	/* restore */
	char		**paths;		/* backup or restore paths */
	size_t		 npaths;
	int		 overwrite;		/* restore */
	int		 verify_only;		/* restore: write nothing */
	int		 accepted;		/* MediaAgent accepted it */
	int64_t		 announced_ms;		/* when it was announced */
	int64_t		 active_ms;		/* last sign of life */
	uint64_t	 files, bytes;		/* progress */
	uint64_t	 files_total, bytes_total;
	/* backup completion: both reports must agree */
	int		 ma_done;		/* CONTAINER_COMMITTED seen */
	uint64_t	 ma_chunks, ma_stream_bytes;
	uint8_t		 ma_digest[KF_SHA256_LEN];
	int		 client_done;		/* JOB_DONE seen */
	int		 client_failed;		/* JOB_FAILURE seen */
	uint64_t	 c_chunks, c_stream_bytes;
	uint8_t		 c_digest[KF_SHA256_LEN];
	struct db_catalog_entry *catalog;	/* entries received */
	size_t		 ncatalog, catalog_cap;
};
struct job_rt *jobs_new(struct cs *, int64_t id, int type);
struct job_rt *jobs_find(struct cs *, int64_t id);
struct job_rt *jobs_authorize(struct req *, uint64_t job,
	    const ProtobufCBinaryData *token);
void	jobs_fail(struct cs *, struct job_rt *, kf_err_t, const char *, ...)
	    __attribute__((format(printf, 4, 5)));
void	jobs_remove(struct cs *, struct job_rt *);
void	jobs_expire(struct cs *);
void	jobs_free_all(struct cs *);
void	jobs_job_get(struct req *);
void	jobs_job_list(struct req *);
void	jobs_progress(struct req *);
void	jobs_failed(struct req *);
void	jobs_done(struct req *);
void	jobs_accepted(struct req *);
void	jobs_ma_error(struct req *);
void	jobs_ma_ok(struct req *);
void	jobs_discard_resend(struct cs *, struct peer *);
int	jobs_announce(struct cs *, struct job_rt *);
struct peer *jobs_seal_for_client(struct cs *, struct job_rt *,
	    Kf__SealedKey *, uint8_t *store, size_t storecap);
void	jobs_fill_info(const struct db_job *, Kf__JobInfo *,
	    const struct job_rt *);
int	jobs_set_paths(struct job_rt *, char **paths, size_t n);

/* backup.c */
void	backup_start(struct req *);
void	backup_send_order(struct cs *, struct job_rt *);
void	backup_catalog_batch(struct req *);
void	backup_container_committed(struct req *);
void	backup_job_done(struct req *, struct job_rt *, const Kf__JobDone *);

/* restore.c */
void	restore_start(struct req *);
void	restore_send_order(struct cs *, struct job_rt *);
void	restore_catalog_get(struct req *);
void	restore_job_done(struct req *, struct job_rt *, const Kf__JobDone *);

/* verify.c */
void	verify_start(struct req *);
void	verify_result(struct req *);
void	verify_expire(struct cs *);

/* events.c */
void	events_sink(void *arg, const Kf__TraceEvent *);
void	events_receive(struct cs *);
/* Store the queued events now (before reading a trace, and at stop). */
void	events_flush(struct cs *);
/* Milliseconds until queued events are due to be stored; -1 if none. */
int	events_due_ms(const struct cs *);
void	events_free(struct cs *);

#endif
