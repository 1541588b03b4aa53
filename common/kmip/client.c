/*
 * client.c - the KMIP client object: its TLS material (the CA, the client
 * certificate and its key, refused when encrypted), the server address,
 * the error sentences, one request/response call with the checks every
 * answer gets, and protocol version negotiation.  The connection itself
 * is client_io.c's; the operations are client_ops.c's.
 *
 * Negotiation sends Discover Versions (in a KMIP 1.2 message, which every
 * server from 1.1 on reads) offering every version we speak, and takes the
 * highest one the server lists.  A server that does not know Discover
 * Versions answers Operation Not Supported, Invalid Message, garbage, or
 * closes the connection; it is then asked a Query at 1.2 and, failing
 * that, at 1.0, and the first version it answers is used.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include "client_int.h"
#include "crypto.h"
#include "log.h"

#define HOST_MAX	255

/* The versions we speak, highest first: what Discover Versions offers. */
static const uint32_t our_versions[] = {
	KMIP_2_0, KMIP_1_4, KMIP_1_3, KMIP_1_2, KMIP_1_1, KMIP_1_0
};
#define NVERSIONS	(sizeof(our_versions) / sizeof(our_versions[0]))

void
client_fail(struct kmip_client *c, enum client_fail why, uint32_t reason,
    const char *fmt, ...)
{
	va_list	ap;
	int	n;

	c->fail = why;
	c->reason = reason;
	n = snprintf(c->err, sizeof(c->err), "KMIP server %s: ", c->address);
	if (n < 0 || (size_t)n >= sizeof(c->err))
		return;
	c->prefix = (size_t)n;
	va_start(ap, fmt);
	vsnprintf(c->err + n, sizeof(c->err) - n, fmt, ap);
	va_end(ap);
}

const char *
client_ssl_err(char *buf, size_t cap, const char *dflt)
{
	unsigned long	 e = ERR_get_error();
	const char	*r;

	ERR_clear_error();
	if (e == 0)
		snprintf(buf, cap, "%s", dflt);
	else if ((r = ERR_reason_error_string(e)) != NULL)
		snprintf(buf, cap, "%s", r);
	else
		ERR_error_string_n(e, buf, cap);
	return buf;
}

/* Split "host:port" / "[v6]:port" / "host"; 0 or -1. */
static int
parse_address(const char *addr, char *host, char *port)
{
	const char	*colon, *end;
	size_t		 hlen;
	long		 p;
	char		*ep;

	if (addr == NULL || *addr == '\0')
		return -1;
	if (addr[0] == '[') {
		if ((end = strchr(addr, ']')) == NULL)
			return -1;
		hlen = (size_t)(end - addr - 1);
		addr++;
		colon = end[1] == ':' ? end + 1 : NULL;
		if (end[1] != '\0' && colon == NULL)
			return -1;
	} else {
		colon = strrchr(addr, ':');
		if (colon != NULL && strchr(addr, ':') != colon)
			return -1;	/* a bare IPv6 address needs [] */
		hlen = colon ? (size_t)(colon - addr) : strlen(addr);
	}
	if (hlen == 0 || hlen > HOST_MAX)
		return -1;
	memcpy(host, addr, hlen);
	host[hlen] = '\0';
	if (strcspn(host, " \t\r\n/@") != hlen)
		return -1;
	if (colon == NULL) {
		snprintf(port, 8, "%d", KMIP_PORT);
		return 0;
	}
	errno = 0;
	p = strtol(colon + 1, &ep, 10);
	if (colon[1] < '0' || colon[1] > '9' || *ep != '\0' || errno != 0 ||
	    p < 1 || p > 65535)
		return -1;
	snprintf(port, 8, "%ld", p);
	return 0;
}

/* The passphrase callback: note that the key wanted one, give none. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	*(int *)u = 1;
	return -1;
}

/* Load the client's private key, refusing an encrypted one. */
static int
load_key(SSL_CTX *ctx, const char *path, char *err, size_t errcap)
{
	BIO		*bio;
	EVP_PKEY	*pk = NULL;
	char		 e[256];
	int		 wanted_pw = 0, rc = -1;

	if ((bio = BIO_new_file(path, "r")) == NULL) {
		snprintf(err, errcap, "cannot read the client key %s: %s",
		    path, strerror(errno ? errno : EIO));
		goto fail;
	}
	pk = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, &wanted_pw);
	if (wanted_pw) {
		snprintf(err, errcap, "the client key %s is encrypted "
		    "(passphrase-protected); KMIP needs an unencrypted key, as "
		    "the seed notes: decrypt it with `openssl pkey -in %s -out "
		    "NEW.pem` and keep that file 0600", path, path);
		goto fail;
	}
	if (pk == NULL) {
		snprintf(err, errcap, "the client key %s holds no PEM private "
		    "key: %s", path, client_ssl_err(e, sizeof(e), "unreadable"));
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey(ctx, pk) != 1) {
		snprintf(err, errcap, "cannot use the client key %s: %s",
		    path, client_ssl_err(e, sizeof(e), "refused"));
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		snprintf(err, errcap, "the client key %s does not belong to "
		    "the client certificate", path);
		goto fail;
	}
	rc = 0;
 fail:
	ERR_clear_error();
	EVP_PKEY_free(pk);
	BIO_free(bio);
	return rc;
}

static SSL_CTX *
tls_ctx_new(const struct kmip_client_conf *conf, char *err, size_t errcap)
{
	SSL_CTX	*ctx;
	char	 e[256];

	errno = 0;
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
	    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
		snprintf(err, errcap, "cannot set up TLS: %s",
		    client_ssl_err(e, sizeof(e), "out of memory"));
		goto fail;
	}
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (SSL_CTX_load_verify_locations(ctx, conf->ca, NULL) != 1) {
		snprintf(err, errcap, "cannot read CA certificates from %s: %s",
		    conf->ca, client_ssl_err(e, sizeof(e), "no certificate"));
		goto fail;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, conf->cert) != 1) {
		snprintf(err, errcap, "cannot read the client certificate "
		    "%s: %s", conf->cert, client_ssl_err(e, sizeof(e),
		    "no certificate"));
		goto fail;
	}
	if (load_key(ctx, conf->key, err, errcap) == -1)
		goto fail;
	return ctx;
 fail:
	ERR_clear_error();
	SSL_CTX_free(ctx);
	return NULL;
}

static char *
dup_or_null(const char *s, int *oom)
{
	char	*d;

	if (s == NULL)
		return NULL;
	if ((d = strdup(s)) == NULL)
		*oom = 1;
	return d;
}

struct kmip_client *
kmip_client_new(const struct kmip_client_conf *conf, char *err,
    size_t errcap)
{
	struct kmip_client	*c;
	int			 oom = 0;

	if (conf->address == NULL || conf->ca == NULL || conf->cert == NULL ||
	    conf->key == NULL) {
		snprintf(err, errcap, "a KMIP server needs an address, a CA "
		    "file, a client certificate and a client key");
		return NULL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(err, errcap, "out of memory");
		return NULL;
	}
	c->fd = -1;
	if (parse_address(conf->address, c->host, c->port) == -1) {
		snprintf(err, errcap, "\"%.200s\" is not a KMIP server "
		    "address: use HOST:PORT or [IPV6]:PORT", conf->address);
		goto fail;
	}
	c->address = dup_or_null(conf->address, &oom);
	if (oom) {
		snprintf(err, errcap, "out of memory");
		goto fail;
	}
	c->connect_ms = conf->connect_ms > 0 ? conf->connect_ms :
	    KMIP_CLIENT_CONNECT_MS;
	c->read_ms = conf->read_ms > 0 ? conf->read_ms : KMIP_CLIENT_READ_MS;
	c->send_correlation = conf->send_correlation;
	c->max_version = conf->max_version ? conf->max_version : KMIP_2_0;
	if ((c->ctx = tls_ctx_new(conf, err, errcap)) == NULL)
		goto fail;
	return c;
 fail:
	kmip_client_free(&c);
	return NULL;
}

void
kmip_client_free(struct kmip_client **cp)
{
	struct kmip_client	*c;

	if (cp == NULL || (c = *cp) == NULL)
		return;
	*cp = NULL;
	kmip_client_disconnect(c);
	SSL_CTX_free(c->ctx);
	free(c->address);
	free(c);
}

uint32_t
kmip_client_version(const struct kmip_client *c)
{
	return c->version;
}

const char *
kmip_client_error(const struct kmip_client *c)
{
	return c->err;
}

uint32_t
kmip_client_reason(const struct kmip_client *c)
{
	return c->reason;
}

const char *
kmip_client_address(const struct kmip_client *c)
{
	return c->address;
}

unsigned
kmip_client_connects(const struct kmip_client *c)
{
	return c->connects;
}

/* A failed item's sentence: "Create refused: Item Not Found: msg". */
static void
item_refused(struct kmip_client *c, uint32_t op, const struct kmip_item *it)
{
	const char	*m = it->message;

	client_fail(c, CLIENT_FAIL_REFUSED, it->reason, "%s refused: %s "
	    "(Result Status %u, Result Reason 0x%02X)%s%.300s%s",
	    kmip_op_name(op), it->reason ? kmip_reason_name(it->reason) :
	    "no Result Reason", (unsigned)it->status, (unsigned)it->reason,
	    m ? ": \"" : "", m ? m : "", m ? "\"" : "");
}

int
client_call_at(struct kmip_client *c, uint32_t version, uint32_t op,
    struct kmip_payload *p, const char *trace_id, struct kmip_msg **out)
{
	struct kmip_msg		*m = NULL, *r = NULL;
	struct kmip_item	*it;
	struct kmip_err		 kerr;
	uint8_t			*req = NULL, *resp = NULL;
	size_t			 reqlen = 0, resplen = 0;
	int			 rc = -1;

	*out = NULL;
	memset(&kerr, 0, sizeof(kerr));
	if ((m = kmip_msg_new(0, version)) == NULL ||
	    (it = kmip_msg_add(m, op)) == NULL) {
		kmip_payload_clear(p);
		client_fail(c, CLIENT_FAIL_LOCAL, 0, "out of memory");
		goto fail;
	}
	it->p = *p;
	memset(p, 0, sizeof(*p));
	it->has_payload = 1;
	if (c->send_correlation && version >= KMIP_1_4 && trace_id != NULL &&
	    *trace_id != '\0' && kmip_set_str(&m->client_corr, trace_id) == -1) {
		client_fail(c, CLIENT_FAIL_LOCAL, 0, "out of memory");
		goto fail;
	}
	if (kmip_msg_encode(m, &req, &reqlen, &kerr) == -1) {
		client_fail(c, CLIENT_FAIL_LOCAL, 0, "cannot encode the %s "
		    "request: %s", kmip_op_name(op), kerr.msg);
		goto fail;
	}
	if (client_roundtrip(c, req, reqlen, &resp, &resplen) == -1)
		goto fail;
	if (kmip_msg_decode(resp, resplen, 1, NULL, &r, &kerr) == -1) {
		client_fail(c, CLIENT_FAIL_PROTOCOL, 0, "the answer to %s is "
		    "not a valid KMIP response: %s", kmip_op_name(op),
		    kerr.msg);
		kmip_client_disconnect(c);
		goto fail;
	}
	it = r->items[0];
	if (r->nitems != 1 || (it->op != 0 && it->op != op)) {
		client_fail(c, CLIENT_FAIL_PROTOCOL, 0, "the answer to %s "
		    "holds %zu batch items for %s", kmip_op_name(op),
		    r->nitems, kmip_op_name(it->op));
		goto fail;
	}
	if (it->status != KMIP_STATUS_SUCCESS) {
		item_refused(c, op, it);
		goto fail;
	}
	if (it->err.reason != 0 || !it->has_payload) {
		client_fail(c, CLIENT_FAIL_PROTOCOL, 0, "the %s response "
		    "cannot be used: %s", kmip_op_name(op),
		    it->err.reason ? it->err.msg : "it has no payload");
		goto fail;
	}
	*out = r;
	r = NULL;
	rc = 0;
 fail:
	/* The request may hold plaintext (Encrypt), the answer a key. */
	crypto_wipe(req, reqlen);
	crypto_wipe(resp, resplen);
	free(req);
	free(resp);
	kmip_msg_free(&m);
	kmip_msg_free(&r);
	return rc;
}

/* Discover Versions at header version hv; 0 and c->version set, or -1. */
static int
discover(struct kmip_client *c, uint32_t hv)
{
	struct kmip_payload	 p;
	struct kmip_msg		*r = NULL;
	const struct kmip_payload *rp;
	uint32_t		 offer[NVERSIONS], best = 0;
	char			 vs[16], list[128];
	size_t			 i, n = 0, off = 0;

	memset(&p, 0, sizeof(p));
	for (i = 0; i < NVERSIONS; i++)
		if (our_versions[i] <= c->max_version)
			offer[n++] = our_versions[i];
	/* The payload is freed with the message: give it a heap copy. */
	if ((p.versions = calloc(n, sizeof(*p.versions))) == NULL) {
		client_fail(c, CLIENT_FAIL_LOCAL, 0, "out of memory");
		return -1;
	}
	memcpy(p.versions, offer, n * sizeof(*offer));
	p.nversions = n;
	if (client_call_at(c, hv, KMIP_OP_DISCOVER_VERSIONS, &p, NULL,
	    &r) == -1)
		return -1;
	rp = &r->items[0]->p;
	list[0] = '\0';
	for (i = 0; i < rp->nversions; i++) {
		if (off < sizeof(list))
			off += snprintf(list + off, sizeof(list) - off, "%s%s",
			    i ? ", " : "", kmip_ver_str(rp->versions[i], vs,
			    sizeof(vs)));
		for (n = 0; n < NVERSIONS; n++)
			if (rp->versions[i] == our_versions[n] &&
			    rp->versions[i] <= c->max_version &&
			    rp->versions[i] > best)
				best = rp->versions[i];
	}
	kmip_msg_free(&r);
	if (best == 0) {
		client_fail(c, CLIENT_FAIL_REFUSED, 0, "the server speaks "
		    "none of the KMIP versions we offered (it answered: %s)",
		    list[0] ? list : "none");
		return -1;
	}
	c->version = best;
	return 0;
}

/* Fallback for servers without Discover Versions: does v get through? */
static int
probe(struct kmip_client *c, uint32_t v)
{
	if (client_query_at(c, v, NULL) == 0)
		return 0;
	/* A refusal of Query itself still means v was understood. */
	if (c->fail == CLIENT_FAIL_REFUSED &&
	    c->reason != KMIP_REASON_INVALID_MESSAGE &&
	    c->reason != KMIP_REASON_UNSUPPORTED_PROTOCOL_VERSION)
		return 0;
	return -1;
}

/* May the failure of Discover Versions mean a server that predates it? */
static int
predates_discover(const struct kmip_client *c)
{
	switch (c->fail) {
	case CLIENT_FAIL_REFUSED:
		return c->reason == KMIP_REASON_OPERATION_NOT_SUPPORTED ||
		    c->reason == KMIP_REASON_INVALID_MESSAGE ||
		    c->reason == KMIP_REASON_INVALID_FIELD;
	case CLIENT_FAIL_PROTOCOL:
	case CLIENT_FAIL_CLOSED:
		return 1;
	default:
		return 0;
	}
}

static int
negotiate(struct kmip_client *c)
{
	static const uint32_t	 fallback[] = { KMIP_1_2, KMIP_1_0 };
	char			 vs[16], first[KMIP_CLIENT_ERRLEN / 2];
	char			 last[KMIP_CLIENT_ERRLEN / 2];
	size_t			 i;

	first[0] = '\0';
	if (c->max_version >= KMIP_1_1) {
		if (discover(c, c->max_version < KMIP_1_2 ? c->max_version :
		    KMIP_1_2) == 0)
			goto done;
		if (!predates_discover(c))
			return -1;
		snprintf(first, sizeof(first), "%s", c->err + c->prefix);
		log_info("%s; trying KMIP 1.2, then 1.0", c->err);
	}
	for (i = 0; i < sizeof(fallback) / sizeof(fallback[0]); i++) {
		if (fallback[i] > c->max_version)
			continue;
		if (probe(c, fallback[i]) == 0) {
			c->version = fallback[i];
			goto done;
		}
		if (c->fail == CLIENT_FAIL_CONNECT ||
		    c->fail == CLIENT_FAIL_TIMEOUT ||
		    c->fail == CLIENT_FAIL_LOCAL)
			return -1;
	}
	snprintf(last, sizeof(last), "%s", c->err + c->prefix);
	client_fail(c, CLIENT_FAIL_PROTOCOL, c->reason, "no protocol version "
	    "works: %s%s%s", first, first[0] ? "; then, probing KMIP 1.2 "
	    "and 1.0: " : "", last);
	return -1;
 done:
	log_info("KMIP server %s: speaking KMIP %s", c->address,
	    kmip_ver_str(c->version, vs, sizeof(vs)));
	return 0;
}

int
kmip_client_connect(struct kmip_client *c)
{
	c->err[0] = '\0';
	c->reason = 0;
	c->fail = CLIENT_FAIL_NONE;
	if (c->version != 0)
		return 0;
	return negotiate(c);
}

int
client_call(struct kmip_client *c, uint32_t op, struct kmip_payload *p,
    const char *trace_id, struct kmip_msg **out)
{
	char	a[16], b[16];

	if (kmip_client_connect(c) == -1) {
		kmip_payload_clear(p);
		return -1;
	}
	if (kmip_op_version(op) > c->version) {
		kmip_payload_clear(p);
		client_fail(c, CLIENT_FAIL_LOCAL, 0, "%s needs KMIP %s or "
		    "later; the server speaks KMIP %s", kmip_op_name(op),
		    kmip_ver_str(kmip_op_version(op), a, sizeof(a)),
		    kmip_ver_str(c->version, b, sizeof(b)));
		return -1;
	}
	return client_call_at(c, c->version, op, p, trace_id, out);
}
