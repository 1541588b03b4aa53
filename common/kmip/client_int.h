/*
 * client_int.h - private interface between client.c (the object, calls,
 * negotiation), client_io.c (the connection) and client_ops.c (the
 * operations).  Not for use outside common/kmip.
 */
#ifndef KF_KMIP_CLIENT_INT_H
#define KF_KMIP_CLIENT_INT_H

#include <openssl/ssl.h>

#include "client.h"

/* What kind of failure the last error was; decides retries and fallbacks. */
enum client_fail {
	CLIENT_FAIL_NONE,
	CLIENT_FAIL_LOCAL,	/* ours: memory, encoding, a bad argument */
	CLIENT_FAIL_CONNECT,	/* TCP or TLS could not be set up */
	CLIENT_FAIL_CLOSED,	/* the server closed the connection */
	CLIENT_FAIL_TIMEOUT,	/* no answer in time */
	CLIENT_FAIL_PROTOCOL,	/* the answer is not usable KMIP */
	CLIENT_FAIL_REFUSED	/* the server answered Operation Failed */
};

struct kmip_client {
	char		*address;	/* as configured, for messages */
	char		 host[256];	/* host name or IP address */
	char		 port[8];	/* decimal port */
	int		 connect_ms;	/* connect + handshake bound */
	int		 read_ms;	/* per-answer bound */
	int		 send_correlation; /* Client Correlation Value wanted */
	uint32_t	 max_version;	/* highest version offered */
	SSL_CTX		*ctx;		/* CA, client certificate and key */
	SSL		*ssl;		/* the connection, or NULL */
	int		 fd;		/* its socket, or -1 */
	uint32_t	 version;	/* negotiated, 0 before */
	unsigned	 connects;	/* connections made */
	enum client_fail fail;		/* class of the last failure */
	uint32_t	 reason;	/* its KMIP Result Reason, or 0 */
	size_t		 prefix;	/* bytes of "KMIP server X: " in err */
	char		 err[KMIP_CLIENT_ERRLEN]; /* the last failure */
};

/* client.c */
/* The OpenSSL error queue's first entry as text (dflt if empty); clears it. */
const char *client_ssl_err(char *buf, size_t cap, const char *dflt);
/* Set the error sentence, prefixed with the server's address. */
void	client_fail(struct kmip_client *c, enum client_fail why,
	    uint32_t reason, const char *fmt, ...)
	    __attribute__((format(printf, 4, 5)));
/*
 * Send one request item for op with payload p (moved into the request: p
 * is cleared either way) at version; on success *out holds the response,
 * whose only item succeeded and has a usable payload.
 */
int	client_call_at(struct kmip_client *c, uint32_t version, uint32_t op,
	    struct kmip_payload *p, const char *trace_id,
	    struct kmip_msg **out);
/* The same at the negotiated version, connecting and negotiating first. */
int	client_call(struct kmip_client *c, uint32_t op,
	    struct kmip_payload *p, const char *trace_id,
	    struct kmip_msg **out);

/* client_io.c */
/* One encoded request out, one whole response message back (malloc'd). */
int	client_roundtrip(struct kmip_client *c, const uint8_t *req,
	    size_t reqlen, uint8_t **resp, size_t *resplen);

/* client_ops.c */
/* Query (Operations) at version (0: the negotiated one). */
int	client_query_at(struct kmip_client *c, uint32_t version,
	    const char *trace_id);

#endif
