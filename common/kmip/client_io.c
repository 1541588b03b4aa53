/*
 * client_io.c - the KMIP client's connection: TCP and TLS 1.2+ with
 * timeouts, and one request/response exchange with a retry after an idle
 * drop.
 *
 * The socket stays non-blocking; every wait is a poll() bounded by the
 * connect or read deadline, so a server that accepts and then says nothing
 * costs at most the configured time.  The server's certificate must chain
 * to the configured CA and name the host (or IP address) we dialled.  A
 * connection is reused until it fails; before reuse a readable socket is
 * peeked, which notices a server that closed it while idle.  A request
 * whose sending failed, or whose answer ended before its first byte because
 * the peer closed the connection, is sent once more on a fresh connection
 * (the server did not answer it, and a server that drops idle connections
 * drops them between requests).  A timeout is never retried: the server may
 * still be working.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "client_int.h"
#include "crypto.h"
#include "log.h"

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

/*
 * Did the server send an alert about our certificate?  With TLS 1.3 the
 * client's handshake is over before the server judges the certificate, so
 * this shows up on the first read, not in SSL_connect.  0 or -1 (set).
 */
static int
cert_refused(struct kmip_client *c)
{
	char	e[256];

	switch (ERR_GET_REASON(ERR_peek_error())) {
	case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
	case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
	case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
	case SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED:
	case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
	case SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE:
	case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
	case SSL_R_TLSV1_ALERT_ACCESS_DENIED:
		break;
	default:
		return 0;
	}
	client_fail(c, CLIENT_FAIL_CONNECT, 0, "the server refused our "
	    "client certificate (%s): is it signed by a CA the server trusts, "
	    "still valid, and for client authentication?",
	    client_ssl_err(e, sizeof(e), "alert"));
	return -1;
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
		    client_ssl_err(e, sizeof(e), "out of memory"));
		return -1;
	}
	ip = inet_pton(AF_INET, c->host, &a6) == 1 ||
	    inet_pton(AF_INET6, c->host, &a6) == 1;
	if (ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl),
	    c->host) != 1 : (SSL_set_tlsext_host_name(c->ssl, c->host) != 1 ||
	    SSL_set1_host(c->ssl, c->host) != 1)) {
		client_fail(c, CLIENT_FAIL_LOCAL, 0, "cannot set the name to "
		    "verify: %s", client_ssl_err(e, sizeof(e), "refused"));
		return -1;
	}
	for (;;) {
		errno = 0;
		if ((r = SSL_connect(c->ssl)) == 1)
			break;
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
		if (cert_refused(c) == -1)
			return -1;
		if (ERR_GET_REASON(ERR_peek_error()) ==
		    SSL_R_UNEXPECTED_EOF_WHILE_READING || (ERR_peek_error() ==
		    0 && errno == 0)) {
			ERR_clear_error();
			client_fail(c, CLIENT_FAIL_CONNECT, 0, "the server "
			    "closed the connection during the TLS handshake "
			    "(is it a TLS server, and does it accept our "
			    "client certificate?)");
			return -1;
		}
		client_ssl_err(e, sizeof(e), errno ? strerror(errno) :
		    "unknown error");
		client_fail(c, CLIENT_FAIL_CONNECT, 0, "TLS handshake failed: "
		    "%s%s", e, strstr(e, "alert") ? " (do we share a TLS "
		    "version and cipher suite with the server?)" : "");
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
	if (se == SSL_ERROR_ZERO_RETURN || se == SSL_ERROR_SYSCALL ||
	    (se == SSL_ERROR_SSL && ERR_GET_REASON(ERR_peek_error()) ==
	    SSL_R_UNEXPECTED_EOF_WHILE_READING)) {
		client_fail(c, CLIENT_FAIL_CLOSED, 0, "the server closed the "
		    "connection while we %s%s%s", what, errno ? ": " : "",
		    errno ? strerror(errno) : "");
		ERR_clear_error();
		return -1;
	}
	if (se == SSL_ERROR_SSL && cert_refused(c) == -1)
		return -1;
	client_fail(c, CLIENT_FAIL_CLOSED, 0, "TLS error while we %s: %s",
	    what, client_ssl_err(e, sizeof(e), "unknown"));
	return -1;
}

/* Move exactly len bytes out of (writing) or into buf; *got counts in. */
static int
tls_transfer(struct kmip_client *c, void *buf, size_t len, int writing,
    int64_t deadline, size_t *got)
{
	uint8_t	*p = buf;
	size_t	 off = 0;
	int	 n, r, w;

	while (off < len) {
		errno = 0;
		n = len - off > INT32_MAX ? INT32_MAX : (int)(len - off);
		r = writing ? SSL_write(c->ssl, p + off, n) :
		    SSL_read(c->ssl, p + off, n);
		if (r > 0) {
			off += (size_t)r;
			*got += writing ? 0 : (size_t)r;
			continue;
		}
		if ((w = ssl_wait(c, r, deadline)) == 1)
			continue;
		return io_fail(c, r, writing ? "sent the request" :
		    "waited for the answer", w == 0);
	}
	return 0;
}

/* Write len bytes, ignoring SIGPIPE in this thread meanwhile. */
static int
tls_write_all(struct kmip_client *c, const uint8_t *buf, size_t len,
    int64_t deadline)
{
	sigset_t	 pipe, old, pending;
	struct timespec	 zero = { 0, 0 };
	size_t		 none = 0;
	int		 rc;

	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe, &old);
	rc = tls_transfer(c, (void *)(uintptr_t)buf, len, 1, deadline, &none);
	/* Swallow a SIGPIPE this write raised, then restore the mask. */
	sigpending(&pending);
	if (sigismember(&pending, SIGPIPE) && !sigismember(&old, SIGPIPE))
		(void)sigtimedwait(&pipe, NULL, &zero);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
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
	    tls_transfer(c, hdr, sizeof(hdr), 0, deadline, got) == -1)
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
	if (tls_transfer(c, buf + sizeof(hdr), need, 0, deadline, got) == -1) {
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
