/*
 * mediaagent.h - private header of mediaagentd, the MediaAgent daemon.
 *
 * The MediaAgent keeps backup ciphertext on its storage.  It registers with
 * CommServe over a DEALER, learns from CommServe which jobs exist (job id,
 * client, token, mount path), and serves clients on a ROUTER: a backup
 * client streams chunks into a container (seed backup step 6), a restore
 * client reads them back (seed restore step 6).  It only ever sees
 * ciphertext and never holds a key.
 *
 * Prototypes are grouped by the file that defines them.
 */
#ifndef KF_MEDIAAGENT_H
#define KF_MEDIAAGENT_H

#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "wire.h"

#define MA_JOBS_MAX		1024	/* announced jobs tracked at once */
#define MA_NAME_MAX		64	/* bytes in a MediaAgent name */
#define MA_CLIENT_MAX		255	/* bytes in a client name */
#define MA_READ_MAX		8	/* chunks one CHUNK_READ may ask for */
#define MA_SEND_BUFS		16	/* restore: zero-copy send buffers */
#define MA_PREFETCH		32	/* restore: chunks read ahead of a request */
#define MA_REASON_MAX		256	/* bytes of an abort reason */
#define MA_STREAMS_MAX		16	/* backup: connections of one job */
#define MA_STREAM_WINDOW_MAX	64	/* backup: unacked chunks a connection
					   may announce (= CLIENT_WINDOW_MAX) */
#define MA_REORDER_BYTES	(512u * 1024 * 1024) /* backup: early chunks */
#define MA_STREAM_IDLE_MS	(5 * 60 * 1000)	/* open backup stream */
#define MA_JOB_IDLE_MS		(10 * 60 * 1000) /* announced or restore job */
#define MA_DONE_IDLE_MS		(60 * 1000)	/* restore after its last chunk */
#define MA_HELLO_RETRY_MS	3000	/* resend HELLO without a WELCOME */
#define MA_HEARTBEAT_MS		1000	/* when WELCOME names none */
#define MA_COMMITTERS		4	/* threads committing containers */
#define MA_STOP_LINGER_MS	1000	/* last replies may leave when stopping */

struct ma_conf {
	const char	*name;		/* MediaAgent name, unique per CommServe */
	const char	*commserve;	/* CommServe ROUTER endpoint */
	const char	*listen;	/* our ROUTER for clients: bind here */
	const char	*endpoint;	/* advertised data endpoint (NULL = listen) */
	const char	*root;		/* default parent of pool mount paths */
	const char	*events;	/* trace endpoint (NULL = from WELCOME) */
	const char	*fsync_str;	/* --fsync-interval as given */
	uint64_t	 fsync_interval; /* sync after this many bytes (0 never) */
	const char	*delay_str;	/* KEYFLOW_MA_DELAY_US as given */
	uint32_t	 delay_us;	/* TEST ONLY: sleep per chunk written */
	int		 verbose;	/* -v count */
	int		 check_only;	/* -n: validate and exit */
};

/* Backup: one connection feeding a job (one data stream). */
struct ma_stream {
	uint8_t		 peer[WIRE_PEER_MAX]; /* its routing id */
	size_t		 peerlen;	/* 0 until its STREAM_OPEN */
	uint64_t	 written;	/* index + 1 of its last chunk written */
	uint64_t	 acked;		/* index + 1 of its last chunk acked */
	unsigned	 pending;	/* chunks written since its last ack */
};

/* Life of an announced job on this MediaAgent. */
enum ma_job_state {
	MA_JOB_ANNOUNCED,		/* known, nothing opened yet */
	MA_JOB_STREAMING,		/* backup: container being written */
	MA_JOB_FAILED,			/* backup: stream aborted (reason kept) */
	MA_JOB_SERVING,			/* restore: container open for reads */
	MA_JOB_SERVED,			/* restore: last chunk sent */
	MA_JOB_COMMITTING,		/* backup: a committer has its container */
	MA_JOB_COMMITTED		/* backup: committed, CommServe may still discard */
};

struct ma_job {
	uint64_t	 id;		/* job id from CommServe */
	int		 type;		/* KF__JOB_TYPE__JOB_BACKUP or _RESTORE */
	enum ma_job_state state;	/* see enum ma_job_state */
	char		*client;	/* the one client that may use the job */
	uint8_t		 token[KF_TOKEN_LEN]; /* what that client presents */
	char		*mount;		/* pool mount path (absolute) */
	uint64_t	 backup_job;	/* restore: whose container is read */
	int64_t		 active_ms;	/* last activity, util_mono_ms() */
	struct ma_stream *st;		/* backup: streams[], NULL until opened */
	uint32_t	 streams;	/* backup: connections announced, 1..16 */
	uint32_t	 window;	/* backup: unacked chunks per connection */
	struct reorder	*ro;		/* backup: early chunks (streams > 1) */
	uint64_t	 ro_bytes;	/* backup: ciphertext bytes waiting in ro */
	int		 seen_last;	/* backup: the last chunk has arrived */
	uint64_t	 last_index;	/* backup: its index, once seen */
	struct container_writer *cw;	/* backup: the partial container */
	struct sha256_ctx *digest;	/* backup: SHA-256 over tags so far */
	uint64_t	 next_index;	/* backup: index the next chunk must carry */
	uint64_t	 stream_bytes;	/* backup: bytes received; restore: sent */
	uint64_t	 unsynced;	/* backup: bytes since the last sync */
	int		 got_last;	/* backup: the last chunk is written */
	char		 reason[MA_REASON_MAX]; /* backup: why it was aborted */
	struct container_reader *cr;	/* restore: opened on the first read */
	uint64_t	 sent;		/* restore: chunks sent to the client */
	uint64_t	 prefetched;	/* restore: chunks read ahead up to */
	int		 discard_pending; /* backup: discarded while committing */
};

struct ma {
	const struct ma_conf *conf;	/* validated configuration */
	void		*zctx;		/* ZeroMQ context */
	void		*cs;		/* DEALER to CommServe */
	void		*data;		/* ROUTER for clients */
	struct trace	*trace;		/* seed-step events */
	int		 trace_connected; /* trace PUB connected once */
	int		 registered;	/* WELCOME received, not revoked since */
	int		 ever_registered; /* "ready" was logged */
	int64_t		 hello_ms;	/* when the last HELLO went out */
	unsigned	 hello_tries;	/* HELLOs unanswered in a row */
	int64_t		 beat_ms;	/* when the last HEARTBEAT went out */
	uint32_t	 heartbeat_ms;	/* interval from WELCOME */
	struct ma_job	*jobs[MA_JOBS_MAX]; /* announced jobs, unordered */
	size_t		 njobs;		/* used entries of jobs */
	uint8_t		*rbuf;		/* restore: copy-send buffer, KF_CHUNK_MAX */
	struct pool	*sendbufs;	/* restore: zero-copy buffers, KF_CHUNK_MAX */
	struct wire_msg	 msg;		/* the message being handled */
	struct queue	*commit_todo;	/* commits for the committers */
	struct queue	*commit_done;	/* their results, for the event loop */
	pthread_t	 committers[MA_COMMITTERS]; /* commit.c's threads */
	size_t		 ncommitters;	/* of them running */
};

/* Where a message arrived: which handlers may run and who gets the answer. */
enum ma_from {
	MA_FROM_CS,			/* the DEALER to CommServe */
	MA_FROM_CLIENT			/* the ROUTER for clients */
};

/* One request in flight: the dispatcher fills it, a handler answers it. */
struct ma_req {
	void		*sock;		/* socket to answer on */
	const struct wire_msg *m;	/* peer, type, body, payload */
	kf_err_t	 code;		/* set by dispatch_fail */
	char		 err[512];	/* the sentence for ERROR */
};

/* commit.c */
int	 commit_start(struct ma *);
int	 commit_fd(const struct ma *);
int	 commit_submit(struct ma *, struct ma_job *, const struct wire_msg *,
	    const uint8_t digest[KF_SHA256_LEN]);
void	 commit_finish(struct ma *);
void	 commit_stop(struct ma *);

/* dispatch.c */
void	 dispatch_socket(struct ma *, enum ma_from);
int	 dispatch_reply(const struct ma_req *, uint32_t type,
	    const ProtobufCMessage *body, const void *payload, size_t len);
int	 dispatch_fail(struct ma_req *, kf_err_t, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
int	 dispatch_vfail(struct ma_req *, kf_err_t, const char *, va_list)
	    __attribute__((format(printf, 3, 0)));
const char *dispatch_peer(const struct wire_msg *, char *, size_t);
void	 dispatch_error(const struct ma_req *, kf_err_t, const char *);

/* session.c */
int	 session_start(struct ma *);
int	 session_tick(struct ma *, int64_t now);
void	 session_stop(struct ma *);
int	 session_welcome(struct ma *, struct ma_req *);
int	 session_error(struct ma *, struct ma_req *);
int	 session_ok(struct ma *, struct ma_req *);
int	 session_announce(struct ma *, struct ma_req *);
int	 session_discard(struct ma *, struct ma_req *);
void	 session_discard_committed(struct ma *, struct ma_job *);
struct ma_job *session_job(struct ma *, uint64_t id);
void	 session_forget(struct ma *, struct ma_job *);
int	 session_token_ok(const struct ma_job *, const ProtobufCBinaryData *);
void	 session_expire(struct ma *, int64_t now);

/* store.c */
int	 store_open(struct ma *, struct ma_req *);
int	 store_put(struct ma *, struct ma_req *);
int	 store_close(struct ma *, struct ma_req *);
void	 store_committed(struct ma *, struct ma_job *,
	    struct container_writer **, int rc, int err, const uint8_t *peer,
	    size_t peerlen, const uint8_t digest[KF_SHA256_LEN]);
void	 store_abort(struct ma_job *, const char *reason);
void	 store_release(struct ma_job *);

/* quarantine.c */
int	 quarantine_name_partial(const char *);
int	 quarantine_scan(const char *root);
int	 quarantine_stale_job(const char *mount, uint64_t job);
int	 quarantine_discard_committed(const char *mount, uint64_t job);

/* serve.c */
int	 serve_read(struct ma *, struct ma_req *);
void	 serve_finish(struct ma *, struct ma_job *);
void	 serve_release(struct ma_job *);

/* verify.c */
int	 verify_container(struct ma *, struct ma_req *);

#endif
