/*
 * client.h - clientd's private interfaces.
 *
 * clientd registers with CommServe, proving that it knows its network
 * password, and then runs the backup and restore orders CommServe sends it,
 * one thread per job.  The main thread owns the DEALER to CommServe and the
 * network key; each job thread owns its own DEALERs (to CommServe for
 * reports, to the MediaAgent for data) and its DEK.
 */
#ifndef KF_CLIENT_H
#define KF_CLIENT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "curve.h"
#include "keyseal.h"
#include "stream.h"
#include "wire.h"

#define CLIENT_MAX_JOBS		8	/* jobs running at once */
#define CLIENT_MAX_PENDING	64	/* orders waiting for a free slot */
#define CLIENT_WINDOW		8	/* chunks in flight per job, default */
#define CLIENT_WINDOW_MIN	4	/* the MediaAgent acks at least this often */
#define CLIENT_WINDOW_MAX	64	/* KEYFLOW_CLIENT_WINDOW at most */
#define CLIENT_STREAMS_MAX	16	/* backup: connections to the MediaAgent */
/* Below the MediaAgent's per-client queue (DATA_HWM, 32): it drops excess. */
#define CLIENT_RESTORE_SLOTS	16	/* restore: chunks requested, not written */
#define CLIENT_READ_MAX		8	/* chunks one CHUNK_READ may ask for */
#define CLIENT_CREDIT_BATCH	4	/* restore: smallest credit grant */
#define FETCH_STAGES		3	/* restore: receive, open, write */
#define CLIENT_CS_TIMEOUT_MS	30000	/* CommServe must answer within */
#define CLIENT_MA_TIMEOUT_MS	60000	/* the MediaAgent must answer within */
#define CLIENT_PROGRESS_MS	500	/* at most one JOB_PROGRESS per */
#define CLIENT_CATALOG_BATCH	1000	/* catalog entries per message */
#define CLIENT_PW_MAX		1024	/* longest network password */
#define CLIENT_NONCE_LEN	32	/* HELLO client_nonce */
#define CLIENT_SALT_MAX		256	/* longest PBKDF2 salt accepted */
#define CLIENT_ITER_MIN		1000	/* PBKDF2 iterations accepted */
#define CLIENT_ITER_MAX		10000000
#define CLIENT_ERRMSG		512	/* job error sentence */
#define SOCKPOOL_MAX		CLIENT_MAX_JOBS	/* idle DEALERs kept per peer kind */
#define SOCKPOOL_IDLE_MS	30000	/* an idle DEALER older is closed */
#define SOCKPOOL_EP_MAX		256	/* longest endpoint a kept DEALER has */

struct client_conf {
	const char	*name;		/* client name known to CommServe */
	const char	*password_file;	/* file holding the network password */
	const char	*commserve;	/* CommServe ROUTER endpoint */
	const char	*events;	/* trace endpoint; NULL: from WELCOME */
	int		 verbose;	/* > 0 enables log_debug */
	int		 check_only;	/* -n: check the configuration, exit */
};

enum session_state {
	SESSION_IDLE,			/* HELLO not sent yet, or to retry */
	SESSION_HELLO,			/* HELLO sent, awaiting CHALLENGE */
	SESSION_AUTH,			/* AUTH sent, awaiting WELCOME */
	SESSION_READY			/* registered, heartbeating */
};

struct job;

/* An idle DEALER and the peer it is connected to (sockpool.c). */
struct sockpool_entry {
	void		*sock;		/* the DEALER */
	char		 endpoint[SOCKPOOL_EP_MAX]; /* what it connected to */
	char		 key[CURVE_Z85_LEN + 1]; /* peer's CURVE key, "" if none */
	int64_t		 since_ms;	/* when it was handed back */
};

/* Idle DEALERs finished jobs left open (zeroed: empty), main thread only. */
struct sockpool {
	struct sockpool_entry idle[SOCKPOOL_MAX]; /* [0, n) are in use */
	size_t		 n;		/* entries in idle */
};

struct client {
	const struct client_conf *conf;	/* validated configuration */
	void		*zctx;		/* ZeroMQ context, shared by threads */
	void		*cs;		/* DEALER to CommServe, main thread */
	struct trace	*trace;		/* seed-step events */
	int		 trace_on;	/* trace PUB connected */
	uint8_t		*password;	/* locked page: network password */
	size_t		 pwlen;		/* bytes of password */
	uint8_t		*nk;		/* locked page: network key */
	int		 nk_valid;	/* nk derived from nk_salt/nk_iter */
	uint8_t		 nk_salt[CLIENT_SALT_MAX]; /* salt nk came from */
	size_t		 nk_saltlen;	/* bytes of nk_salt */
	unsigned	 nk_iter;	/* iterations nk came from */
	enum session_state state;	/* registration progress */
	uint8_t		 nonce[CLIENT_NONCE_LEN]; /* our HELLO nonce */
	int64_t		 sent_ms;	/* when HELLO or AUTH went out */
	int64_t		 hb_ms;		/* when the next HEARTBEAT is due */
	uint32_t	 heartbeat_ms;	/* interval from WELCOME */
	int		 welcomed;	/* a WELCOME was seen once */
	int		 waiting_logged; /* "waiting for CommServe" said */
	int		 exit_code;	/* >= 0: leave the loop with it */
	atomic_int	 stopping;	/* shutdown: jobs must stop */
	struct job	*running[CLIENT_MAX_JOBS]; /* job threads */
	struct job	*pending[CLIENT_MAX_PENDING]; /* FIFO of orders */
	size_t		 npending;	/* orders in pending */
};

enum job_kind {
	JOB_KIND_BACKUP,		/* BACKUP_ORDER */
	JOB_KIND_RESTORE		/* RESTORE_ORDER */
};

struct job {
	struct client	*client;	/* conf, zctx, trace, stop flag */
	enum job_kind	 kind;		/* backup or restore */
	uint64_t	 id;		/* this job's id */
	char		 trace_id[32];	/* "job/<id>" */
	uint8_t		*keys;		/* locked page: DEK, then token */
	uint8_t		*dek;		/* keys: the job's DEK */
	uint8_t		*token;		/* keys + 32: the job token */
	ProtobufCMessage *order;	/* the unpacked order, owned */
	pthread_t	 thread;	/* the job's thread */
	int		 started;	/* thread was created */
	atomic_int	 finished;	/* thread is done: join it */
	atomic_int	 cancelled;	/* CommServe ended it (JOB_CANCEL) */
	kf_err_t	 cancel_code;	/* why, written before cancelled is set */
	char		 cancel_msg[CLIENT_ERRMSG]; /* and the sentence */
	void		*cs;		/* job's DEALER to CommServe */
	void		*ma;		/* job's DEALER to the MediaAgent */
	kf_err_t	 err;		/* first error; ERR_NONE while fine */
	char		 errmsg[CLIENT_ERRMSG]; /* sentence for JOB_FAILURE */
	int		 reported;	/* JOB_DONE or JOB_FAILURE was sent */
	int64_t		 progress_ms;	/* when JOB_PROGRESS last went out */
};

/* One catalog entry of a backup, as a restore sees it. */
struct restore_entry {
	uint64_t	 index;		/* catalog index, from 1 */
	char		*path;		/* relative path, validated */
	enum stream_type type;		/* regular, directory or symlink */
	uint32_t	 mode;		/* permission bits, 07777 */
	int64_t		 mtime_sec;	/* modification time */
	uint32_t	 mtime_nsec;	/* and its nanoseconds */
	uint64_t	 size;		/* data bytes (regular files) */
	uint64_t	 offset;	/* stream offset of the header */
	uint64_t	 end;		/* offset past the record's data */
	uint8_t		 sha256[KF_SHA256_LEN]; /* regular files */
	char		*link;		/* symlink target, else NULL */
};

/* One entry of a backup's file list, in stream order. */
struct walk_entry {
	char		*path;		/* absolute path without its '/' */
	enum stream_type type;		/* regular, directory or symlink */
	uint32_t	 mode;		/* permission bits, 07777 */
	int64_t		 mtime_sec;	/* modification time */
	uint32_t	 mtime_nsec;	/* and its nanoseconds */
	uint64_t	 size;		/* bytes (regular files) */
	char		*link;		/* symlink target, else NULL */
	uint64_t	 index;		/* catalog index; 0: not streamed */
	uint64_t	 offset;	/* stream offset of its header */
	uint8_t		 sha256[KF_SHA256_LEN]; /* regular files */
};

struct walk_list {
	struct walk_entry *v;		/* entries in stream order */
	size_t		 n;		/* entries used */
	size_t		 cap;		/* entries allocated */
	uint64_t	 bytes;		/* sum of regular file sizes */
};

/* A run of chunks a restore needs. */
struct fetch_range {
	uint64_t	 first;		/* first chunk index */
	uint64_t	 count;		/* chunks from first */
};

/* keymem.c */
void	*keymem_new(size_t len);
void	 keymem_free(void *pp, size_t len);

/* session.c */
int	 session_password(struct client *);
int	 session_init(struct client *);
void	 session_recv(struct client *);
void	 session_tick(struct client *);
int	 session_timeout(const struct client *);
void	 session_free(struct client *);

/* sockpool.c */
void	*sockpool_take(struct sockpool *, const char *endpoint,
	    const char *key);
void	 sockpool_put(struct sockpool *, void *sock, const char *endpoint,
	    const char *key);
void	 sockpool_clear(struct sockpool *);

/* jobs.c */
void	 jobs_order(struct client *, enum job_kind, struct wire_msg *);
void	 jobs_reap(struct client *);
void	 jobs_cancel(struct client *, const Kf__JobFailed *);
void	 jobs_shutdown(struct client *);

/* job.c */
struct job *job_new(struct client *, enum job_kind, ProtobufCMessage **);
void	 job_free(struct job **);
int	 job_open_seal(struct job *, const Kf__SealedKey *);
void	 job_msg_clear(struct wire_msg *);
int	 job_check_order(struct job *, uint32_t, const char *);
void	*job_main(void *);
int	 job_fail(struct job *, kf_err_t, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
const char *job_stop_reason(const struct job *, kf_err_t *);
int	 job_stopped(struct job *);
int	 job_await(struct job *, void *, uint32_t, int, struct wire_msg *,
	    const char *);
int	 job_call(struct job *, void *, uint32_t, const ProtobufCMessage *,
	    uint32_t, int, struct wire_msg *, const char *);
void	 job_progress(struct job *, uint64_t, uint64_t, uint64_t, uint64_t,
	    int);
int	 job_done(struct job *, Kf__JobDone *);
void	 job_report_failure(struct job *);

/* walk.c */
int	 walk_collect(struct job *, char **, size_t, struct walk_list *);
void	 walk_list_clear(struct walk_list *);

/* backup.c */
int	 backup_run(struct job *);

/* prefetch.c */
struct prefetch;
struct prefetch *prefetch_start(const struct walk_list *);
void	 prefetch_at(struct prefetch *, size_t);
void	 prefetch_stop(struct prefetch **);

/* backup_send.c */
struct sender;
/* One window per connection; chunk i goes on connection i % n. */
struct sender *sender_new(struct job *, void *const *ma, unsigned n,
	    const char *, uint32_t);
unsigned sender_window(void);
void	 sender_free(struct sender **);
void	 sender_abort(struct sender *);
uint64_t sender_now_us(void);
/* The reader thread's side. */
uint64_t sender_offset(const struct sender *);
int	 sender_space(struct sender *, uint8_t **, size_t *);
void	 sender_commit(struct sender *, size_t);
int	 sender_write(struct sender *, const void *, size_t);
int	 sender_end(struct sender *);
/* The job thread's side. */
int	 sender_pump(struct sender *, int (*)(void *), void *);
int	 sender_finish(struct sender *, uint64_t *, uint64_t *,
	    uint8_t[KF_SHA256_LEN]);

/* restore.c */
int	 restore_run(struct job *);

/* restore_catalog.c */
int	 catalog_fetch(struct job *, const Kf__RestoreOrder *,
	    struct restore_entry **, size_t *);
void	 catalog_free(struct restore_entry **, size_t);

/* restore_write.c */
struct rwriter;
struct rwriter *rw_new(struct job *, const char *, int);
void	 rw_free(struct rwriter **);
int	 rw_file_begin(struct rwriter *, const struct restore_entry *);
int	 rw_file_write(struct rwriter *, const uint8_t *, size_t);
int	 rw_file_end(struct rwriter *, const uint8_t *);
int	 rw_symlink(struct rwriter *, const struct restore_entry *);
int	 rw_dir(struct rwriter *, const struct restore_entry *);
int	 rw_finish(struct rwriter *);

/* fetch.c */
struct fetch;
struct fetch *fetch_new(struct job *, void *, const Kf__RestoreOrder *,
	    const struct fetch_range *, size_t);
typedef void (*fetch_open_cb)(void *, uint64_t, const uint8_t *, size_t);
void	 fetch_on_open(struct fetch *, fetch_open_cb, void *);
void	 fetch_free(struct fetch **);
int	 fetch_start(struct fetch *);
int	 fetch_run(struct fetch *, void (*)(void *), void *);
void	 fetch_abort(struct fetch *);
int	 fetch_take(struct fetch *, void **, uint64_t *, uint8_t **, size_t *);
void	 fetch_give(struct fetch *, void *);
void	 fetch_writer_done(struct fetch *);
void	 fetch_busy(const struct fetch *, uint64_t[FETCH_STAGES]);
const char *fetch_error(const struct fetch *, kf_err_t *);
uint64_t fetch_chunks(const struct fetch *);
uint64_t fetch_bytes(const struct fetch *);

#endif
