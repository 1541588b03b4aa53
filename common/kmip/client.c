/*
 * client.c - the KMIP client's connection: TCP and TLS with timeouts, one
 * request/response exchange with a retry after an idle drop, protocol
 * version negotiation, and the error sentences.  The operations themselves
 * are in client_ops.c.
 *
 * The socket stays non-blocking; every wait is a poll() bounded by the
 * connect or read deadline, so a server that accepts and then says nothing
 * costs at most the configured time.  A connection is reused until it
 * fails; before reuse a readable socket is peeked, which notices a server
 * that closed it while idle.  A request whose sending failed, or whose
 * answer ended before its first byte because the peer closed the
 * connection, is sent once more on a fresh connection (the server did not
 * answer it, and a server that drops idle connections drops them between
 * requests).  A timeout is never retried: the server may still be working.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

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

/* The OpenSSL error queue's first entry as text (and the queue cleared). */
static const char *
ssl_errstr(char *buf, size_t cap, const char *dflt)
{
	unsigned long	e = ERR_get_error();

	ERR_clear_error();
	if (e == 0) {
		snprintf(buf, cap, "%s", dflt);
		return buf;
	}
	ERR_error_string_n(e, buf, cap);
	return buf;
}

static int64_t
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* poll fd for events until deadline: 1 ready, 0 timed out, -1 error. */
static int
wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd	pfd = { .fd = fd, .events = events };
	int64_t		left;
	int		r;

	for (;;) {
		left = deadline - now_ms();
		if (left <= 0)
			return 0;
		r = poll(&pfd, 1, left > INT32_MAX ? INT32_MAX : (int)left);
		if (r > 0)
			return 1;
		if (r == 0)
			return 0;
		if (errno != EINTR)
			return -1;
	}
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
	if (colon[1] == '\0' || *ep != '\0' || errno != 0 || p < 1 ||
	    p > 65535)
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
		    "key: %s", path, ssl_errstr(e, sizeof(e), "unreadable"));
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey(ctx, pk) != 1) {
		snprintf(err, errcap, "cannot use the client key %s: %s",
		    path, ssl_errstr(e, sizeof(e), "refused"));
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
		    ssl_errstr(e, sizeof(e), "out of memory"));
		goto fail;
	}
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (SSL_CTX_load_verify_locations(ctx, conf->ca, NULL) != 1) {
		snprintf(err, errcap, "cannot read CA certificates from %s: %s",
		    conf->ca, ssl_errstr(e, sizeof(e), "no certificate"));
		goto fail;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, conf->cert) != 1) {
		snprintf(err, errcap, "cannot read the client certificate "
		    "%s: %s", conf->cert, ssl_errstr(e, sizeof(e),
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
kmip_client_disconnect(struct kmip_client *c)
{
	if (c->ssl != NULL) {
		/* A quiet close: no close_notify wait on a dead peer. */
		SSL_set_quiet_shutdown(c->ssl, 1);
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->fd != -1) {
		close(c->fd);
		c->fd = -1;
	}
	ERR_clear_error();
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

/* TCP connect to any of host's addresses before deadline. */
static int
tcp_connect(struct kmip_client *c, int64_t deadline)
{
	struct addrinfo	 hints, *res = NULL, *ai;
	socklen_t	 sl;
	int		 fd = -1, r, soerr = 0, one = 1, gai;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((gai = getaddrinfo(c->host, c->port, &hints, &res)) != 0) {
		client_fail(c, CLIENT_FAIL_CONNECT, 0, "cannot resolve %s: %s",
		    c->host, gai_strerror(gai));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, ai->ai_protocol);
		if (fd == -1) {
			soerr = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		soerr = errno;
		if (errno == EINPROGRESS) {
			r = wait_fd(fd, POLLOUT, deadline);
			sl = sizeof(soerr);
			if (r == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR,
			    &soerr, &sl) == 0 && soerr == 0)
				break;
			if (r == 0)
				soerr = ETIMEDOUT;
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd == -1) {
		client_fail(c, CLIENT_FAIL_CONNECT, 0, "cannot connect: %s",
		    soerr == ETIMEDOUT ? "no answer within the connect "
		    "timeout" : strerror(soerr));
		return -1;
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->fd = fd;
	return 0;
}

/* Wait as SSL_get_error says; 1 go on, 0 timed out, -1 not a wait. */
static int
ssl_wait(struct kmip_client *c, int ret, int64_t deadline)
{
	switch (SSL_get_error(c->ssl, ret)) {
	case SSL_ERROR_WANT_READ:
		return wait_fd(c->fd, POLLIN, deadline) == 1 ? 1 : 0;
	case SSL_ERROR_WANT_WRITE:
		return wait_fd(c->fd, POLLOUT, deadline) == 1 ? 1 : 0;
	default:
		return -1;
	}
}

/* The TLS handshake, verifying the server's name or IP address. */
static int
tls_connect(struct kmip_client *c, int64_t deadline)
{
	struct in6_addr	 a6;
	long		 vr;
	char		 e[256];
	int		 ip, r, w;

	if ((c->ssl = SSL_new(c->ctx)) == NULL ||
	    SSL_set_fd(c->ssl, c->fd) != 1) {
		client_fail(c, CLIENT_FAIL_LOCAL, 0, "cannot set up TLS: %s",
		    ssl_errstr(e, sizeof(e), "out of memory"));
		return -1;
	}
	ip = inet_pton(AF_INET, c->host, &a6) == 1 ||
	    inet_pton(AF_INET6, c->host, &a6) == 1;
	if (ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl),
	    c->host) != 1 : (SSL_set_tlsext_host_name(c->ssl, c->host) != 1 ||
	    SSL_set1_host(c->ssl, c->host) != 1)) {
		client_fail(c, CLIENT_FAIL_LOCAL, 0, "cannot set the name to "
		    "verify: %s", ssl_errstr(e, sizeof(e), "refused"));
		return -1;
	}
	while ((r = SSL_connect(c->ssl)) != 1) {
		if ((w = ssl_wait(c, r, deadline)) == 1)
			continue;
		if (w == 0) {
			client_fail(c, CLIENT_FAIL_CONNECT, 0, "no TLS "
			    "handshake within the connect timeout");
			return -1;
		}
		if ((vr = SSL_get_verify_result(c->ssl)) != X509_V_OK) {
			client_fail(c, CLIENT_FAIL_CONNECT, 0, "the server's "
			    "certificate does not verify for %s against the "
			    "configured CA: %s", c->host,
			    X509_verify_cert_error_string(vr));
			return -1;
		}
		ssl_errstr(e, sizeof(e), errno ? strerror(errno) :
		    "the server closed the connection");
		client_fail(c, CLIENT_FAIL_CONNECT, 0, "TLS handshake failed: "
		    "%s%s", e, strstr(e, "alert") ? " (does the server trust "
		    "our client certificate, and do we share a TLS version "
		    "and cipher suite?)" : "");
		return -1;
	}
	return 0;
}

static int
transport_connect(struct kmip_client *c)
{
	int64_t	deadline = now_ms() + c->connect_ms;

	kmip_client_disconnect(c);
	if (tcp_connect(c, deadline) == -1 || tls_connect(c, deadline) == -1) {
		kmip_client_disconnect(c);
		return -1;
	}
	c->connects++;
	log_debug("KMIP server %s: connected with %s, %s", c->address,
	    SSL_get_version(c->ssl), SSL_get_cipher_name(c->ssl));
	return 0;
}

/*
 * Has the server closed an idle connection?  A readable socket before we
 * sent anything means a close (or junk); TLS 1.3 tickets are consumed.
 */
static int
connection_stale(struct kmip_client *c)
{
	struct pollfd	pfd = { .fd = c->fd, .events = POLLIN };
	uint8_t		b;
	int		r;

	if (poll(&pfd, 1, 0) <= 0)
		return 0;
	r = SSL_peek(c->ssl, &b, 1);
	if (r <= 0 && SSL_get_error(c->ssl, r) == SSL_ERROR_WANT_READ) {
		ERR_clear_error();
		return 0;
	}
	ERR_clear_error();
	return 1;
}

/* Classify a failed SSL_read/SSL_write: sets c's error, returns -1. */
static int
io_fail(struct kmip_client *c, int ret, const char *what, int timed_out)
{
	char	e[256];
	int	se = SSL_get_error(c->ssl, ret);

	if (timed_out) {
		client_fail(c, CLIENT_FAIL_TIMEOUT, 0, "no answer within %d ms",
		    c->read_ms);
		return -1;
	}
	if (se == SSL_ERROR_ZERO_RETURN || se == SSL_ERROR_SYSCALL) {
		client_fail(c, CLIENT_FAIL_CLOSED, 0, "the server closed the "
		    "connection while we %s%s%s", what, errno ? ": " : "",
		    errno ? strerror(errno) : "");
		ERR_clear_error();
		return -1;
	}
	client_fail(c, CLIENT_FAIL_CLOSED, 0, "TLS error while we %s: %s",
	    what, ssl_errstr(e, sizeof(e), "unknown"));
	return -1;
}

/* Write len bytes, ignoring SIGPIPE in this thread meanwhile. */
static int
tls_write_all(struct kmip_client *c, const uint8_t *buf, size_t len,
    int64_t deadline)
{
	sigset_t	 pipe, old, pending;
	struct timespec	 zero = { 0, 0 };
	size_t		 off = 0;
	int		 r, w, rc = 0;

	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe, &old);
	while (off < len) {
		errno = 0;
		r = SSL_write(c->ssl, buf + off, (int)(len - off > INT32_MAX ?
		    INT32_MAX : len - off));
		if (r > 0) {
			off += (size_t)r;
			continue;
		}
		if ((w = ssl_wait(c, r, deadline)) == 1)
			continue;
		rc = io_fail(c, r, "sent the request", w == 0);
		break;
	}
	/* Swallow a SIGPIPE this write raised, then restore the mask. */
	sigpending(&pending);
	if (sigismember(&pending, SIGPIPE) && !sigismember(&old, SIGPIPE))
		(void)sigtimedwait(&pipe, NULL, &zero);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

/* Read exactly len bytes; *got counts what arrived. */
static int
tls_read_exact(struct kmip_client *c, uint8_t *buf, size_t len,
    int64_t deadline, size_t *got)
{
	size_t	off = 0;
	int	r, w;

	while (off < len) {
		errno = 0;
		r = SSL_read(c->ssl, buf + off, (int)(len - off > INT32_MAX ?
		    INT32_MAX : len - off));
		if (r > 0) {
			off += (size_t)r;
			*got += (size_t)r;
			continue;
		}
		if ((w = ssl_wait(c, r, deadline)) == 1)
			continue;
		return io_fail(c, r, "waited for the answer", w == 0);
	}
	return 0;
}

/* Send req and read one whole TTLV message back into *resp (malloc'd). */
static int
exchange(struct kmip_client *c, const uint8_t *req, size_t reqlen,
    uint8_t **resp, size_t *resplen, size_t *got)
{
	struct kmip_err	 kerr;
	uint8_t		 hdr[TTLV_HDR_LEN], *buf = NULL;
	size_t		 need;
	int64_t		 deadline = now_ms() + c->read_ms;

	*got = 0;
	if (tls_write_all(c, req, reqlen, deadline) == -1 ||
	    tls_read_exact(c, hdr, sizeof(hdr), deadline, got) == -1)
		return -1;
	memset(&kerr, 0, sizeof(kerr));
	if (ttlv_frame_need(hdr, NULL, &need, &kerr) == -1) {
		client_fail(c, CLIENT_FAIL_PROTOCOL, 0, "the answer is not a "
		    "KMIP message: %s", kerr.msg);
		return -1;
	}
	if ((buf = malloc(sizeof(hdr) + need)) == NULL) {
		client_fail(c, CLIENT_FAIL_LOCAL, 0, "out of memory");
		return -1;
	}
	memcpy(buf, hdr, sizeof(hdr));
	if (tls_read_exact(c, buf + sizeof(hdr), need, deadline, got) == -1) {
		crypto_wipe(buf, sizeof(hdr) + need);
		free(buf);
		return -1;
	}
	*resp = buf;
	*resplen = sizeof(hdr) + need;
	return 0;
}

int
client_roundtrip(struct kmip_client *c, const uint8_t *req, size_t reqlen,
    uint8_t **resp, size_t *resplen)
{
	size_t	got;
	int	reused = c->ssl != NULL;

	*resp = NULL;
	*resplen = 0;
	if (reused && connection_stale(c)) {
		log_debug("KMIP server %s: the idle connection was closed; "
		    "reconnecting", c->address);
		reused = 0;
		kmip_client_disconnect(c);
	}
	if (!reused && transport_connect(c) == -1)
		return -1;
	if (exchange(c, req, reqlen, resp, resplen, &got) == 0)
		return 0;
	if (reused && got == 0 && c->fail == CLIENT_FAIL_CLOSED) {
		log_debug("KMIP server %s: %s; sending once more on a new "
		    "connection", c->address, c->err);
		if (transport_connect(c) == 0 && exchange(c, req, reqlen, resp,
		    resplen, &got) == 0)
			return 0;
	}
	kmip_client_disconnect(c);
	return -1;
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
	    "works: %s%s%s", first, first[0] ? "; then, probing KMIP 1.2 and 1.0: " : "",
	    last);
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
