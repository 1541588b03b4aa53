/*
 * client.h - a KMIP client over mutual TLS, for CommServe's KMIP backend
 * and for tools that talk to any KMIP key management server.
 *
 * kmip_client_new() loads the TLS material once (the CA that signs the
 * server's certificate, the client certificate and its private key, which
 * must not be encrypted, as the seed notes) and parses the server address;
 * it does not connect.  The first operation connects (TCP with a connect
 * timeout, TLS 1.2 or later, the server's certificate verified against the
 * CA and its host name or IP address) and negotiates the protocol version
 * with Discover Versions, offering 2.0, 1.4, 1.3, 1.2, 1.1 and 1.0 and
 * taking the highest the server answers; a server that predates Discover
 * Versions (or answers Operation Not Supported) is probed at 1.2, then
 * 1.0.  Later operations reuse the connection; one the server dropped while
 * idle (PyKMIP drops them after 10 s) is noticed before or while sending,
 * and the request is sent once more on a fresh connection provided nothing
 * of an answer had arrived.
 *
 * Requests are strict: nothing newer than the negotiated version is sent,
 * and the Client Correlation Value (the trace id) only when the
 * configuration asks for it and the version is 1.4 or later.  Every failure
 * leaves one sentence in kmip_client_error() that names the server and,
 * when the server refused, the KMIP Result Reason and Result Message.
 * Key material (Get) and plaintext (Encrypt) are wiped from the client's
 * own buffers; nothing here logs them.  A client is not thread safe.
 */
#ifndef KF_KMIP_CLIENT_H
#define KF_KMIP_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "kmip.h"

#define KMIP_CLIENT_CONNECT_MS	5000	/* TCP connect + TLS handshake */
#define KMIP_CLIENT_READ_MS	10000	/* each answer */
#define KMIP_CLIENT_DATA_MAX	1024	/* Encrypt: plaintext bytes */
#define KMIP_CLIENT_IV_MAX	64	/* Encrypt: IV bytes accepted */
#define KMIP_CLIENT_TAG_LEN	16	/* Encrypt: GCM tag bytes asked */
#define KMIP_CLIENT_ERRLEN	512

/* What a client connects to and how. */
struct kmip_client_conf {
	const char	*address;	/* "host:port", "[v6addr]:port" */
	const char	*ca;		/* CA certificate(s), PEM file */
	const char	*cert;		/* client certificate (chain), PEM */
	const char	*key;		/* client private key, PEM, unencrypted */
	int		 connect_ms;	/* 0: KMIP_CLIENT_CONNECT_MS */
	int		 read_ms;	/* 0: KMIP_CLIENT_READ_MS */
	int		 send_correlation; /* trace id as Client Corr. Value */
	uint32_t	 max_version;	/* highest to offer; 0: KMIP_2_0 */
};

/* The result of an Encrypt. */
struct kmip_ciphertext {
	uint32_t	mode;		/* KMIP_MODE_GCM or KMIP_MODE_CBC */
	uint8_t		data[KMIP_CLIENT_DATA_MAX + 16]; /* ciphertext */
	size_t		len;		/* bytes in data */
	uint8_t		iv[KMIP_CLIENT_IV_MAX];	/* IV the server chose */
	size_t		ivlen;		/* bytes in iv */
	uint8_t		tag[KMIP_CLIENT_TAG_LEN]; /* GCM tag */
	size_t		taglen;		/* 16 for GCM, 0 for CBC */
};

struct kmip_client;

/*
 * Load the TLS material and parse conf->address (port default 5696).  NULL
 * with a sentence in err: an unreadable file, an encrypted key, a key that
 * does not match the certificate, a bad address.
 */
struct kmip_client *kmip_client_new(const struct kmip_client_conf *conf,
	    char *err, size_t errcap);
/* Close the connection and free everything; accepts NULL. */
void	kmip_client_free(struct kmip_client **cp);

/* Connect and negotiate now (operations do it when needed). */
int	kmip_client_connect(struct kmip_client *c);
/* The negotiated protocol version (KMIP_VER), 0 before negotiation. */
uint32_t kmip_client_version(const struct kmip_client *c);
/* The last failure's sentence ("" if none). */
const char *kmip_client_error(const struct kmip_client *c);
/* The last failure's KMIP Result Reason, 0 when the server did not answer. */
uint32_t kmip_client_reason(const struct kmip_client *c);
/* "host:port" as configured. */
const char *kmip_client_address(const struct kmip_client *c);
/* Drop the connection (the next operation reconnects; for tests). */
void	kmip_client_disconnect(struct kmip_client *c);
/* Connections made so far (for tests and logs). */
unsigned kmip_client_connects(const struct kmip_client *c);

/*
 * Operations.  trace_id (may be NULL) travels as the Client Correlation
 * Value when configured and the version allows.  0 or -1 (see
 * kmip_client_error).
 */
/* Create an AES key of bits with Name name (NULL: none); *uid malloc'd. */
int	kmip_client_create_aes(struct kmip_client *c, int bits,
	    const char *name, uint32_t usage_mask, const char *trace_id,
	    char **uid);
int	kmip_client_activate(struct kmip_client *c, const char *uid,
	    const char *trace_id);
/*
 * Encrypt len bytes (1..KMIP_CLIENT_DATA_MAX) under key uid: AES-GCM with
 * a 16-byte tag and aad (may be NULL when aadlen is 0) where the version is
 * 1.4 or later, else AES-CBC with PKCS#5 padding, which cannot carry aad
 * (it is then not sent: out->mode says which mode was used).  The server
 * generates the IV, of whatever length it likes for GCM (PyKMIP: 16).
 */
int	kmip_client_encrypt(struct kmip_client *c, const char *uid,
	    const void *aad, size_t aadlen, const void *in, size_t len,
	    const char *trace_id, struct kmip_ciphertext *out);
/*
 * Get key uid as Raw key material into key (cap bytes); *len gets its
 * length.  Refuses an object that is not a plain AES Symmetric Key.
 */
int	kmip_client_get_key(struct kmip_client *c, const char *uid,
	    const char *trace_id, uint8_t *key, size_t cap, size_t *len);
/*
 * Query (Operations): a harmless request that shows the server accepts our
 * messages as we send them, Client Correlation Value included.
 */
int	kmip_client_query(struct kmip_client *c, const char *trace_id);
/* Revoke with reason code (KMIP_REVOKE_*; Key Compromise dates it now). */
int	kmip_client_revoke(struct kmip_client *c, const char *uid,
	    uint32_t reason, const char *trace_id);
int	kmip_client_destroy(struct kmip_client *c, const char *uid,
	    const char *trace_id);

#endif
