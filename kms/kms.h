/*
 * kms.h - private header of kmsd, keyflow's KMIP key management server.
 *
 * kmsd holds master keys for CommServe and for any other KMIP client.  It
 * speaks KMIP 1.0-1.4 and 2.0 (TTLV over mutual TLS, port 5696), one thread
 * per connection, and keeps every managed object in a durable store of its
 * own: one file per object, key material wrapped under a root key, every
 * change on disk before the response leaves.  Objects belong to the client
 * identity (certificate subject) that created or registered them.
 *
 * Layout: main.c (configuration, listener, threads), tls.c (OpenSSL server
 * context), conn.c (one connection: framing, timeouts), dispatch.c (the
 * operation table and the checks done once per batch item), access.c
 * (identity, ownership, Unique Identifier resolution), ops_key.c,
 * ops_state.c, ops_crypto.c and ops_meta.c (the operations), cipher.c
 * (AES-GCM and AES-CBC through OpenSSL EVP), store.c (the object table)
 * and store_file.c (the on-disk record and the root key).
 *
 * Prototypes are grouped by the file that defines them.
 */
#ifndef KF_KMS_H
#define KF_KMS_H

#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "crypto.h"
#include "kmip/kmip.h"

#define KMS_UID_MAX		48	/* Unique Identifier bytes, NUL included */
#define KMS_UID_LEN		36	/* the UUID form kmsd hands out */
#define KMS_SUBJECT_MAX		512	/* certificate subject, NUL included */
#define KMS_NAME_MAX		256	/* Name value bytes, NUL included */
#define KMS_KEY_MAX		32	/* AES-256 */
#define KMS_BLOB_MAX		(KMS_KEY_MAX + KF_WRAP_OVERHEAD)
#define KMS_TRACE_MAX		64	/* trace id bytes, NUL included */
#define KMS_LOCATE_MAX		10000	/* identifiers one Locate returns */
#define KMS_PEER_MAX		64	/* "address:port" of a peer */

/* Configuration: defaults, then KEYFLOW_* variables, then flags. */
struct kms_conf {
	const char	*listen;	/* HOST:PORT as given */
	char		 host[256];	/* listen host, brackets removed */
	char		 port[8];	/* listen port */
	const char	*ca;		/* CA that signs client certificates */
	const char	*cert;		/* server certificate chain (PEM) */
	const char	*key;		/* server private key (PEM, unencrypted) */
	const char	*ciphers;	/* TLS 1.2 cipher list */
	const char	*store;		/* object store directory */
	const char	*root_key;	/* root key file (NULL: STORE/root.key) */
	char		 root_key_buf[4096]; /* storage for the default */
	const char	*events;	/* trace event endpoint, or NULL */
	const char	*max_message_str; /* --max-message as given */
	const char	*max_conns_str;	/* --max-connections as given */
	const char	*idle_str;	/* --idle-timeout as given */
	uint64_t	 max_message;	/* bytes in one request message */
	uint64_t	 max_conns;	/* connections served at once */
	uint64_t	 idle_timeout;	/* seconds a connection may sit idle */
	int		 verbose;	/* -v count */
	int		 check_only;	/* -n: validate and exit */
};

/* Result of a store call. */
enum store_rc {
	STORE_OK = 0,			/* done */
	STORE_ERR = -1,			/* I/O or memory; errno set */
	STORE_NOTFOUND = -2,		/* no such object */
	STORE_REFUSED = -3,		/* the change function said no */
	STORE_EXISTS = -4		/* the owner already has that Name */
};

/*
 * A managed object as kmsd keeps it, on disk and in memory: metadata in
 * the clear, the key wrapped under the root key (AAD = uid).  Handlers get
 * copies; nothing here is plaintext key material.
 */
struct kms_rec {
	char		 uid[KMS_UID_MAX]; /* Unique Identifier */
	char		 owner[KMS_SUBJECT_MAX]; /* creator's certificate subject */
	char		 name[KMS_NAME_MAX]; /* Name value ("" when none) */
	uint32_t	 name_type;	/* Name Type (0 when no Name) */
	uint32_t	 object_type;	/* Object Type (Symmetric Key) */
	uint32_t	 state;		/* KMIP_STATE_* as stored */
	uint32_t	 alg;		/* Cryptographic Algorithm (AES) */
	int32_t		 length;	/* Cryptographic Length, bits */
	int32_t		 usage_mask;	/* Cryptographic Usage Mask */
	uint32_t	 revoke_code;	/* last Revocation Reason Code, or 0 */
	int		 has_cparams;	/* cparams holds the key's attribute */
	struct kmip_cparams cparams;	/* Cryptographic Parameters attribute */
	int64_t		 initial_date;	/* Initial Date (creation) */
	int64_t		 activation_date; /* Activation Date, 0 when unset */
	int64_t		 deactivation_date; /* Deactivation Date, 0 when unset */
	int64_t		 destroy_date;	/* Destroy Date, 0 when unset */
	int64_t		 compromise_date; /* Compromise Date, 0 when unset */
	int64_t		 compromise_occurrence_date; /* as the client said */
	int64_t		 last_change_date; /* Last Change Date */
	uint8_t		 blob[KMS_BLOB_MAX]; /* wrapped key; empty once destroyed */
	size_t		 bloblen;	/* bytes in blob */
};

struct store;
struct trace;

/* The daemon: what every connection thread shares. */
struct kmsd {
	const struct kms_conf *conf;	/* validated configuration */
	SSL_CTX		*tls;		/* server context (tls.c) */
	struct store	*store;		/* the object store */
	struct trace	*trace;		/* trace events, actor "kms" */
	void		*zctx;		/* ZeroMQ context for events, or NULL */
	pthread_mutex_t	 lock;		/* guards nconns and conn_seq */
	pthread_cond_t	 idle;		/* signalled when a connection ends */
	unsigned	 nconns;	/* connection threads running */
	uint64_t	 conn_seq;	/* connections accepted so far */
};

/* One client connection, owned by its thread. */
struct kms_conn {
	struct kmsd	*k;		/* the daemon */
	int		 fd;		/* the TCP socket (non-blocking) */
	SSL		*ssl;		/* the TLS session */
	uint64_t	 id;		/* connection number, for logs */
	char		 peer[KMS_PEER_MAX]; /* "address:port" */
	char		 subject[KMS_SUBJECT_MAX]; /* verified client identity */
};

/* One request message being served; what operation handlers see. */
struct kms_req {
	struct kmsd	*k;		/* the daemon */
	const struct kms_conn *c;	/* the connection (subject, peer) */
	uint32_t	 version;	/* the response's protocol version */
	const char	*trace_id;	/* from Client Correlation Value, or NULL */
	char		 placeholder[KMS_UID_MAX]; /* ID Placeholder ("" unset) */
	char		 uid[KMS_UID_MAX]; /* object the current item used */
	char		 note[128];	/* audit detail of the current item */
};

/*
 * An operation handler reads the decoded request item and fills the
 * response item: its payload and KMIP_STATUS_SUCCESS, or a failure through
 * kmip_item_fail().  0 on success, -1 when the item failed.
 */
typedef int (*kms_handler)(struct kms_req *r, const struct kmip_item *req,
    struct kmip_item *rsp);

/* tls.c */
SSL_CTX	*tls_server_new(const struct kms_conf *conf, char *err, size_t cap);
/* The last OpenSSL error queue entry as a sentence (thread-local buf). */
const char *tls_error(char *buf, size_t cap);

/* conn.c */
/* Serve one accepted socket until it closes; frees c. */
void	 conn_serve(struct kms_conn *c);

/* dispatch.c */
/*
 * Turn one request message into one response message (never fails to
 * produce one unless out of memory: -1).  *out is malloc'd.
 */
int	 dispatch_message(const struct kms_conn *c, const uint8_t *buf,
	    size_t len, uint8_t **out, size_t *outlen);
/* The operations kmsd serves that version can name, into ops. */
size_t	 dispatch_ops(uint32_t version, uint32_t *ops, size_t cap);
/* A response to a message that could not be read at all. */
int	 dispatch_error(uint32_t version, uint32_t reason, const char *msg,
	    uint8_t **out, size_t *outlen);

/* access.c */
/* The peer certificate's subject (RFC 2253) into buf; -1 if none. */
int	 access_identity(SSL *ssl, char *buf, size_t cap);
/* The trace id carried by a Client Correlation Value, or NULL. */
const char *access_trace_id(const char *corr, char *buf, size_t cap);
/* The uid an item names (or the ID Placeholder); NULL after failing rsp. */
const char *access_uid(struct kms_req *r, const struct kmip_payload *p,
	    struct kmip_item *rsp);
/* Copy r's object uid into *rec if r's client owns it; else fail rsp. */
int	 access_fetch(struct kms_req *r, const char *uid, struct kms_rec *rec,
	    struct kmip_item *rsp);
/* 1 when subject owns rec. */
int	 access_owns(const struct kms_rec *rec, const char *subject);
/* Fail rsp with reason (mapped to 1.x when needed); always -1. */
int	 access_fail(struct kms_req *r, struct kmip_item *rsp, uint32_t reason,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Unwrap rec's key for an operation; -1 after failing rsp. */
int	 access_unwrap(struct kms_req *r, struct kmip_item *rsp,
	    const struct kms_rec *rec, uint8_t key[KMS_KEY_MAX],
	    size_t *keylen);
/* Refuse for a lifecycle state: 2.0 Wrong Key Lifecycle State, else reason. */
int	 access_state_fail(struct kms_req *r, struct kmip_item *rsp,
	    uint32_t reason_1x, const char *fmt, ...)
	    __attribute__((format(printf, 4, 5)));
/* Map a store_change()/store_create() result onto rsp (fails it). */
int	 access_store_fail(struct kms_req *r, struct kmip_item *rsp, int rc,
	    const char *uid);
/* rsp succeeds with Unique Identifier uid; -1 (rsp failed) out of memory. */
int	 access_ok_uid(struct kmip_item *rsp, const char *uid);
/* The state an object is in now (Activation/Deactivation Dates applied). */
uint32_t access_state(const struct kms_rec *rec, int64_t now);
const char *access_state_name(uint32_t state);
/* Copy s into buf with control characters and quotes replaced. */
const char *access_clean(const char *s, char *buf, size_t cap);

/* ops_key.c */
int	 op_create(struct kms_req *, const struct kmip_item *,
	    struct kmip_item *);
int	 op_register(struct kms_req *, const struct kmip_item *,
	    struct kmip_item *);
int	 op_get(struct kms_req *, const struct kmip_item *,
	    struct kmip_item *);
int	 op_get_attributes(struct kms_req *, const struct kmip_item *,
	    struct kmip_item *);

/* ops_state.c */
int	 op_activate(struct kms_req *, const struct kmip_item *,
	    struct kmip_item *);
int	 op_revoke(struct kms_req *, const struct kmip_item *,
	    struct kmip_item *);
int	 op_destroy(struct kms_req *, const struct kmip_item *,
	    struct kmip_item *);
int	 op_locate(struct kms_req *, const struct kmip_item *,
	    struct kmip_item *);

/* ops_crypto.c */
int	 op_encrypt(struct kms_req *, const struct kmip_item *,
	    struct kmip_item *);
int	 op_decrypt(struct kms_req *, const struct kmip_item *,
	    struct kmip_item *);

/* ops_meta.c */
int	 op_query(struct kms_req *, const struct kmip_item *,
	    struct kmip_item *);
int	 op_discover_versions(struct kms_req *, const struct kmip_item *,
	    struct kmip_item *);
/* 1 when kmsd speaks version. */
int	 meta_version_supported(uint32_t version);
/* The version to answer a request of version in (see ops_meta.c). */
uint32_t meta_version_answer(uint32_t version);
/* "2.0, 1.4, 1.3, 1.2, 1.1 and 1.0" */
const char *meta_versions_str(void);

/* cipher.c */
#define CIPHER_BLOCK	16	/* AES block and CBC IV bytes */
int	 cipher_gcm_seal(const uint8_t *key, size_t keylen, const uint8_t *iv,
	    size_t ivlen, const uint8_t *aad, size_t aadlen, const uint8_t *in,
	    size_t len, uint8_t *out, uint8_t *tag, size_t taglen);
/* -1 when the tag does not verify (out wiped). */
int	 cipher_gcm_open(const uint8_t *key, size_t keylen, const uint8_t *iv,
	    size_t ivlen, const uint8_t *aad, size_t aadlen, const uint8_t *in,
	    size_t len, uint8_t *out, const uint8_t *tag, size_t taglen);
/* AES-CBC; out holds len + CIPHER_BLOCK; -1 on bad padding or length. */
int	 cipher_cbc(int encrypt, const uint8_t *key, size_t keylen,
	    const uint8_t iv[CIPHER_BLOCK], int pkcs5, const uint8_t *in,
	    size_t len, uint8_t *out, size_t *outlen);

/* store.c */
typedef int (*store_change_fn)(struct kms_rec *rec, void *arg);
typedef int (*store_match_fn)(const struct kms_rec *rec, void *arg);
/* Open (create) dir, load (create) the root key, load every object. */
struct store *store_open(const char *dir, const char *root_key);
void	 store_free(struct store **sp);
size_t	 store_count(struct store *s);
/* Copy uid's record into *rec: STORE_OK or STORE_NOTFOUND. */
int	 store_get(struct store *s, const char *uid, struct kms_rec *rec);
/*
 * A new object: rec's metadata plus key (wrapped here).  Assigns rec->uid,
 * writes the object durably and only then makes it visible.  STORE_EXISTS
 * when rec->owner already has a live object named rec->name.
 */
int	 store_create(struct store *s, struct kms_rec *rec, const uint8_t *key,
	    size_t keylen);
/*
 * Change uid: fn edits a copy (returning -1 refuses: STORE_REFUSED); the
 * copy is written durably, then becomes the object.  *rec gets the final
 * copy (when not NULL).  Changes of one object are serialised.
 */
int	 store_change(struct store *s, const char *uid, store_change_fn fn,
	    void *arg, struct kms_rec *rec);
/* Unwrap rec's key into key (KMS_KEY_MAX bytes); -1 if it cannot be. */
int	 store_unwrap(struct store *s, const struct kms_rec *rec, uint8_t *key,
	    size_t *keylen);
/* uids of live objects match() accepts, in creation order. */
int	 store_find(struct store *s, store_match_fn match, void *arg,
	    char (**uids)[KMS_UID_MAX], size_t *n, size_t max);

/* store_file.c */
#define STORE_REC_MAX	4096	/* bytes of one encoded record */
int	 rec_encode(const struct kms_rec *rec, const uint8_t mackey[KF_KEY_LEN],
	    uint8_t *buf, size_t cap, size_t *len);
int	 rec_decode(const uint8_t *buf, size_t len,
	    const uint8_t mackey[KF_KEY_LEN], struct kms_rec *rec, char *why,
	    size_t cap);
/* 1 when s is a uid kmsd could have made (and so a safe file name). */
int	 rec_uid_valid(const char *s);
/* Load the 0600 root key, creating it when create and it is missing. */
int	 rootkey_load(const char *path, int create, uint8_t key[KF_KEY_LEN]);

#endif
