/*
 * conn.c - one KMIP client connection, served by its own thread.
 *
 * The TLS handshake comes first and must finish within HANDSHAKE_MS; a
 * peer without a certificate from the configured CA fails it and is gone
 * before any KMIP byte is read.  Then requests are served in order until
 * the peer closes, stays idle longer than --idle-timeout, or kmsd stops:
 * read the 8-byte TTLV header, bound the length (--max-message) before
 * allocating anything, read the rest within MESSAGE_MS, dispatch, write the
 * response within MESSAGE_MS.  A header that announces no KMIP message or
 * one too large is answered (when it looks like KMIP) with Invalid Message
 * and the connection is closed, since the stream can no longer be framed.
 *
 * The socket is non-blocking and every wait is a poll() with a deadline,
 * so no peer can hold a thread longer than the timeouts allow.  On SIGTERM
 * an idle connection closes at once; one in the middle of a request
 * finishes it (reading for at most STOP_GRACE_MS more) and answers it.
 * Buffers that held requests or responses are wiped: they can carry keys.
 */
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "kms.h"
#include "log.h"
#include "util.h"

#define HANDSHAKE_MS	10000	/* for the TLS handshake */
#define REFUSE_LINGER_MS 500	/* a refused peer's bytes are drained for */
#define REFUSE_DRAIN_MAX (1024 * 1024)	/* and at most this many */

/* What serve_one() leaves the connection to do next. */
enum serve_rc {
	SERVE_NEXT,		/* read the next request */
	SERVE_CLOSE,		/* close: the peer left, idled, or failed */
	SERVE_REFUSED		/* close after refusing an unframeable message */
};
#define MESSAGE_MS	30000	/* for the rest of a message, or a response */
#define STOP_GRACE_MS	2000	/* to finish reading a request on SIGTERM */
#define POLL_MS		200	/* how often a wait looks at util_stop */

enum io_rc {
	IO_OK,			/* done */
	IO_CLOSED,		/* the peer closed the connection */
	IO_TIMEOUT,		/* the deadline passed */
	IO_STOP,		/* kmsd is stopping and the connection was idle */
	IO_ERR			/* a TLS or socket error */
};

/* The clock of one read or write. */
struct io {
	struct kms_conn	*c;		/* the connection */
	int64_t		 deadline;	/* util_mono_ms() limit */
	int		 idle;		/* no byte of a request read yet */
	int64_t		 stop_at;	/* grace deadline once util_stop is seen */
};

/* Wait until the socket is readable (or writable); IO_OK or why not. */
static enum io_rc
wait_io(struct io *io, int want_write)
{
	struct pollfd	pfd;
	int64_t		now, limit;
	int		n;

	for (;;) {
		now = util_mono_ms();
		limit = io->deadline;
		if (util_stop) {
			if (io->idle)
				return IO_STOP;
			if (io->stop_at == 0)
				io->stop_at = now + STOP_GRACE_MS;
			if (io->stop_at < limit)
				limit = io->stop_at;
		}
		if (now >= limit)
			return IO_TIMEOUT;
		pfd.fd = io->c->fd;
		pfd.events = want_write ? POLLOUT : POLLIN;
		pfd.revents = 0;
		n = poll(&pfd, 1, (int)(limit - now < POLL_MS ? limit - now :
		    POLL_MS));
		if (n == -1 && errno != EINTR)
			return IO_ERR;
		if (n > 0)
			return IO_OK;
	}
}

/* After an SSL call returned r <= 0: wait and retry, or say why not. */
static enum io_rc
ssl_wait(struct io *io, int r)
{
	int	e = SSL_get_error(io->c->ssl, r);

	switch (e) {
	case SSL_ERROR_WANT_READ:
		return wait_io(io, 0);
	case SSL_ERROR_WANT_WRITE:
		return wait_io(io, 1);
	case SSL_ERROR_ZERO_RETURN:
		return IO_CLOSED;
	case SSL_ERROR_SYSCALL:
		return errno == 0 || errno == ECONNRESET || errno == EPIPE ?
		    IO_CLOSED : IO_ERR;
	default:
		return IO_ERR;
	}
}

/* Read exactly n bytes; the first byte ends the idle wait. */
static enum io_rc
read_full(struct io *io, uint8_t *buf, size_t n)
{
	size_t		got = 0;
	enum io_rc	rc;
	int		r;

	while (got < n) {
		ERR_clear_error();
		errno = 0;
		r = SSL_read(io->c->ssl, buf + got, (int)(n - got > INT32_MAX ?
		    INT32_MAX : n - got));
		if (r > 0) {
			got += (size_t)r;
			if (io->idle) {
				io->idle = 0;
				io->deadline = util_mono_ms() + MESSAGE_MS;
			}
			continue;
		}
		if ((rc = ssl_wait(io, r)) != IO_OK)
			return rc;
	}
	return IO_OK;
}

static enum io_rc
write_full(struct io *io, const uint8_t *buf, size_t n)
{
	size_t		done = 0;
	enum io_rc	rc;
	int		r;

	io->idle = 0;
	io->deadline = util_mono_ms() + MESSAGE_MS;
	while (done < n) {
		ERR_clear_error();
		errno = 0;
		r = SSL_write(io->c->ssl, buf + done, (int)(n - done >
		    INT32_MAX ? INT32_MAX : n - done));
		if (r > 0) {
			done += (size_t)r;
			continue;
		}
		if ((rc = ssl_wait(io, r)) != IO_OK)
			return rc;
	}
	return IO_OK;
}

static const char *
io_str(enum io_rc rc)
{
	switch (rc) {
	case IO_OK:
		return "ok";
	case IO_CLOSED:
		return "closed by the peer";
	case IO_TIMEOUT:
		return "timed out";
	case IO_STOP:
		return "kmsd is stopping";
	case IO_ERR:
		break;
	}
	return "TLS or socket error";
}

/* The TLS handshake, with the client certificate check. */
static int
handshake(struct kms_conn *c)
{
	struct io	 io = { c, util_mono_ms() + HANDSHAKE_MS, 0, 0 };
	enum io_rc	 rc;
	long		 vr;
	char		 e[256];
	int		 r;

	for (;;) {
		ERR_clear_error();
		errno = 0;
		if ((r = SSL_accept(c->ssl)) == 1)
			break;
		if ((rc = ssl_wait(&io, r)) == IO_OK)
			continue;
		vr = SSL_get_verify_result(c->ssl);
		if (rc == IO_ERR && vr != X509_V_OK)
			log_warnx("conn %llu from %s: refused: the client "
			    "certificate does not verify (%s)",
			    (unsigned long long)c->id, c->peer,
			    X509_verify_cert_error_string(vr));
		else if (rc == IO_ERR)
			log_warnx("conn %llu from %s: TLS handshake failed: %s",
			    (unsigned long long)c->id, c->peer,
			    tls_error(e, sizeof(e)));
		else
			log_warnx("conn %llu from %s: TLS handshake %s",
			    (unsigned long long)c->id, c->peer, io_str(rc));
		return -1;
	}
	if (access_identity(c->ssl, c->subject, sizeof(c->subject)) == -1) {
		log_warnx("conn %llu from %s: refused: no usable certificate "
		    "subject (empty, or longer than %d bytes)",
		    (unsigned long long)c->id, c->peer, KMS_SUBJECT_MAX - 1);
		return -1;
	}
	log_info("conn %llu from %s: %s %s as \"%s\"",
	    (unsigned long long)c->id, c->peer, SSL_get_version(c->ssl),
	    SSL_get_cipher_name(c->ssl), c->subject);
	return 0;
}

/* A header that frames no acceptable message: say why (if KMIP), close. */
static void
bad_frame(struct kms_conn *c, struct io *io, const uint8_t *hdr,
    const struct kmip_err *err)
{
	uint8_t	*out = NULL;
	size_t	 len = 0;

	log_warnx("conn %llu from %s: closing: %s", (unsigned long long)c->id,
	    c->peer, err->msg);
	if (hdr[0] != 0x42 || dispatch_error(KMIP_1_0,
	    KMIP_REASON_INVALID_MESSAGE, err->msg, &out, &len) == -1)
		return;
	(void)write_full(io, out, len);
	free(out);
}

/* One request and its response, and what to do next. */
static enum serve_rc
serve_one(struct kms_conn *c)
{
	struct ttlv_limits	 lim = { c->k->conf->max_message,
				    TTLV_MAX_DEPTH, TTLV_MAX_ITEMS };
	struct io		 io = { c, 0, 1, 0 };
	struct kmip_err		 err;
	uint8_t			 hdr[TTLV_HDR_LEN], *buf = NULL, *out = NULL;
	size_t			 need = 0, outlen = 0;
	enum io_rc		 rc;
	enum serve_rc		 ret = SERVE_CLOSE;

	io.deadline = util_mono_ms() + (int64_t)c->k->conf->idle_timeout *
	    1000;
	if ((rc = read_full(&io, hdr, sizeof(hdr))) != IO_OK) {
		if (rc == IO_TIMEOUT && io.idle)
			log_info("conn %llu from %s: idle for %llus, closing",
			    (unsigned long long)c->id, c->peer,
			    (unsigned long long)c->k->conf->idle_timeout);
		else if (rc != IO_CLOSED && rc != IO_STOP)
			log_warnx("conn %llu from %s: reading a request: %s",
			    (unsigned long long)c->id, c->peer, io_str(rc));
		return SERVE_CLOSE;
	}
	memset(&err, 0, sizeof(err));
	if (ttlv_frame_need(hdr, &lim, &need, &err) == -1) {
		bad_frame(c, &io, hdr, &err);
		return SERVE_REFUSED;
	}
	if ((buf = malloc(sizeof(hdr) + need)) == NULL) {
		log_warnx("conn %llu: out of memory for a %zu-byte request",
		    (unsigned long long)c->id, need + sizeof(hdr));
		return SERVE_CLOSE;
	}
	memcpy(buf, hdr, sizeof(hdr));
	if ((rc = read_full(&io, buf + sizeof(hdr), need)) != IO_OK) {
		log_warnx("conn %llu from %s: reading a %zu-byte request: %s",
		    (unsigned long long)c->id, c->peer, need + sizeof(hdr),
		    io_str(rc));
		goto fail;
	}
	if (dispatch_message(c, buf, sizeof(hdr) + need, &out, &outlen) == -1)
		goto fail;
	if ((rc = write_full(&io, out, outlen)) != IO_OK) {
		log_warnx("conn %llu from %s: writing a response: %s",
		    (unsigned long long)c->id, c->peer, io_str(rc));
		goto fail;
	}
	ret = SERVE_NEXT;
 fail:
	crypto_wipe(buf, sizeof(hdr) + need);
	free(buf);
	if (out != NULL) {
		crypto_wipe(out, outlen);
		free(out);
	}
	return ret;
}

/*
 * After a refusal: send FIN, not RST.  The peer may still be sending: the
 * first request after a refused handshake (TLS 1.3 finishes the client's
 * side of the handshake before the server checks its certificate), or the
 * rest of a message too large to read.  Closing with those bytes unread
 * makes the kernel reset the connection, and a reset can destroy our
 * alert or Invalid Message answer before the peer reads it, leaving it a
 * bare "connection reset" or "EOF in violation of protocol".  So stop
 * writing, read and drop what comes for a short while, then close.
 */
static void
linger_close(int fd)
{
	struct pollfd	 pfd = { fd, POLLIN, 0 };
	int64_t		 deadline = util_mono_ms() + REFUSE_LINGER_MS;
	int64_t		 left;
	char		 junk[4096];
	size_t		 total = 0;
	ssize_t		 n;

	if (shutdown(fd, SHUT_WR) == -1)
		return;
	while ((left = deadline - util_mono_ms()) > 0 &&
	    total < REFUSE_DRAIN_MAX) {
		if (poll(&pfd, 1, (int)left) <= 0)
			return;
		if ((n = read(fd, junk, sizeof(junk))) <= 0)
			return;
		total += (size_t)n;
	}
}

void
conn_serve(struct kms_conn *c)
{
	enum serve_rc	rc;
	int		one = 1;

	(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if ((c->ssl = SSL_new(c->k->tls)) == NULL ||
	    SSL_set_fd(c->ssl, c->fd) != 1) {
		log_warnx("conn %llu: cannot start TLS",
		    (unsigned long long)c->id);
		goto done;
	}
	if (handshake(c) == -1) {
		linger_close(c->fd);
		goto done;
	}
	while ((rc = serve_one(c)) == SERVE_NEXT)
		;
	ERR_clear_error();
	(void)SSL_shutdown(c->ssl);
	if (rc == SERVE_REFUSED)
		linger_close(c->fd);
	log_debug("conn %llu from %s: closed", (unsigned long long)c->id,
	    c->peer);
 done:
	ERR_clear_error();
	SSL_free(c->ssl);
	close(c->fd);
	free(c);
}
