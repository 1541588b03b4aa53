/*
 * curve.c - the process-wide CURVE setting (see curve.h): this process's
 * key pair, the server keys of the endpoints it connects to, the socket
 * options every keyflow socket gets, and the ZAP handler thread.
 *
 * The ZAP handler (RFC 27) is a REP socket on inproc://zeromq.zap.01 in the
 * daemon's own ZeroMQ context; libzmq asks it about every CURVE client
 * that completes the handshake with one of our bound sockets.  It answers
 * 200 only for keys in the trust directory, and sets the User-Id to the
 * client's key in Z85 so the daemon knows who sent each message.  An
 * unknown key makes it reread the directory (when the directory changed,
 * else at most once a second), so a new peer is let in by copying its
 * curve.pub there, without restarts.
 * libzmq lets every client in when no handler is bound, so the handler is
 * bound before any socket of the process binds, and a failure to start it
 * is fatal to the configuration.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "crypto.h"
#include "curve.h"
#include "log.h"
#include "util.h"
#include "zmon.h"

#define ZAP_ENDPOINT	"inproc://zeromq.zap.01"
#define ZAP_POLL_MS	200		/* how often the stop flag is read */
#define ZAP_FRAMES_MAX	8		/* frames of one request kept */
#define ZAP_FRAME_MAX	256		/* bytes of one frame kept */
#define RESCAN_MS	1000		/* trust directory rereads, at most */
#define REFUSAL_LOG_MS	1000		/* refusal log lines, at most */
#define PEERS_MAX	1024		/* endpoints with a known server key */
#define EP_MAX		256		/* bytes of an endpoint */
#define OPT_ZAP_ENFORCE	93		/* ZMQ_ZAP_ENFORCE_DOMAIN (draft) */
#define WATCH_MAX	8		/* bound sockets whose handshakes we watch */

/*
 * A CURVE server socket's handshakes, watched by the ZAP thread: a peer
 * that does not speak CURVE at all (a plaintext ZeroMQ peer) is refused by
 * libzmq before any ZAP request, so only a socket monitor sees it.
 */
struct curve_watch {
	char	 endpoint[EP_MAX];		/* what the socket binds */
	char	 addr[ZMON_ADDR_MAX];		/* its monitor's address */
	void	*pair;				/* the ZAP thread's end, or NULL */
};

/* A server key for an endpoint this process connects to. */
struct curve_peer {
	char	endpoint[EP_MAX];		/* ZeroMQ endpoint */
	char	key[CURVE_Z85_LEN + 1];		/* its server key, Z85 */
};

/* The process-wide state. */
static struct {
	int		 on;				/* CURVE enabled */
	char		 pub[CURVE_Z85_LEN + 1];	/* our public key */
	char		 sec[CURVE_Z85_LEN + 1];	/* our secret key */
	char		 cs_key[CURVE_Z85_LEN + 1];	/* CommServe's key */
	pthread_mutex_t	 lock;				/* guards peers */
	struct curve_peer *peers;			/* endpoint keys */
	size_t		 npeers;			/* how many */
	pthread_t	 zap;				/* ZAP thread */
	int		 zap_running;			/* started */
	atomic_int	 zap_stop;			/* asks it to end */
	void		*zap_sock;			/* its REP socket */
	void		*zctx;				/* the daemon's context */
	struct curve_trust *trust;			/* ZAP thread only */
	struct curve_watch watch[WATCH_MAX];		/* [0, nwatch) set */
	size_t		 nwatch;			/* under lock */
} cv = { .lock = PTHREAD_MUTEX_INITIALIZER };

int
curve_conf_check(const struct curve_conf *c, char *err, size_t errcap)
{
	char	key[CURVE_Z85_LEN + 1];

	if (c->dir == NULL) {
		if (c->trust != NULL || c->commserve_key != NULL)
			return util_errf(err, errcap, "--curve-trust and "
			    "--commserve-key need --curve-dir (this "
			    "process's own CURVE keys)");
		return 0;
	}
	if (c->dir[0] == '\0')
		return util_errf(err, errcap, "--curve-dir is empty");
	if (c->serves && c->trust == NULL)
		return util_errf(err, errcap, "--curve-dir needs "
		    "--curve-trust DIR: the *.pub keys of the peers allowed to connect");
	if ((c->commserve != NULL || c->events != NULL) &&
	    c->commserve_key == NULL)
		return util_errf(err, errcap, "--curve-dir needs "
		    "--commserve-key (CommServe's public key in Z85, or its curve.pub file)");
	if (c->commserve_key != NULL &&
	    curve_key_arg(c->commserve_key, key, err, errcap) == -1)
		return -1;
	return 0;
}

/* ---------------------------------------------------------------- ZAP */

/* Receive one ZAP request: up to ZAP_FRAMES_MAX frames, each truncated. */
static int
zap_recv(void *s, uint8_t f[][ZAP_FRAME_MAX + 1], size_t *len, int *n)
{
	zmq_msg_t	m;
	size_t		sz;
	int		more;

	*n = 0;
	do {
		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, s, 0) == -1) {
			zmq_msg_close(&m);
			return -1;
		}
		more = zmq_msg_more(&m);
		if (*n < ZAP_FRAMES_MAX) {
			sz = zmq_msg_size(&m);
			if (sz > ZAP_FRAME_MAX)
				sz = ZAP_FRAME_MAX;
			memcpy(f[*n], zmq_msg_data(&m), sz);
			f[*n][sz] = '\0';
			len[*n] = sz;
			(*n)++;
		}
		zmq_msg_close(&m);
	} while (more);
	return 0;
}

static void
zap_reply(void *s, const uint8_t *reqid, size_t reqlen, int status,
    const char *text, const char *user)
{
	char	code[8];

	snprintf(code, sizeof(code), "%d", status);
	if (zmq_send(s, "1.0", 3, ZMQ_SNDMORE) == -1 ||
	    zmq_send(s, reqid, reqlen, ZMQ_SNDMORE) == -1 ||
	    zmq_send(s, code, strlen(code), ZMQ_SNDMORE) == -1 ||
	    zmq_send(s, text, strlen(text), ZMQ_SNDMORE) == -1 ||
	    zmq_send(s, user, strlen(user), ZMQ_SNDMORE) == -1 ||
	    zmq_send(s, "", 0, 0) == -1)
		log_warnx("ZAP: cannot answer: %s", zmq_strerror(errno));
}

/* Answer one request: frames per RFC 27. */
static void
zap_handle(void *s, uint8_t f[][ZAP_FRAME_MAX + 1], const size_t *len,
    int n, int64_t *last_scan, int64_t *last_log, unsigned *quiet)
{
	char		 user[CURVE_Z85_LEN + 1];
	const char	*why;
	int		 status;
	int64_t		 now;

	if (n < 6 || len[0] != 3 || memcmp(f[0], "1.0", 3) != 0) {
		zap_reply(s, n > 1 ? f[1] : (const uint8_t *)"",
		    n > 1 ? len[1] : 0, CURVE_ZAP_ERROR, "bad ZAP request",
		    "");
		return;
	}
	status = curve_zap_decide(cv.trust, (const char *)f[5],
	    n > 6 ? f[6] : NULL, n > 6 ? len[6] : 0, user, &why);
	now = util_mono_ms();
	/*
	 * An unknown key: reread the directory when a file was added or
	 * removed since, and otherwise at most once a second (a key copied
	 * over an existing file leaves the directory's mtime alone).
	 */
	if (status != CURVE_ZAP_OK && user[0] != '\0' &&
	    (curve_trust_changed(cv.trust) || now - *last_scan >= RESCAN_MS)) {
		*last_scan = now;
		(void)curve_trust_load(cv.trust, 1);
		status = curve_zap_decide(cv.trust, (const char *)f[5],
		    f[6], len[6], user, &why);
	}
	if (status == CURVE_ZAP_OK) {
		zap_reply(s, f[1], len[1], status, "OK", user);
		return;
	}
	if (now - *last_log >= REFUSAL_LOG_MS) {
		log_warnx("CURVE: refused a %s connection from %s%s%s: %s%s",
		    (const char *)f[5], (const char *)f[3],
		    user[0] != '\0' ? " with key " : "", user, why,
		    *quiet > 0 ? " (and more refusals not logged)" : "");
		*last_log = now;
		*quiet = 0;
	} else
		(*quiet)++;
	zap_reply(s, f[1], len[1], status, why, "");
}

/*
 * Connect the ZAP thread's end of each new watch; the poll items: the ZAP
 * socket first, then one per watch.  Returns how many items.
 */
static int
watch_items(zmq_pollitem_t *pi)
{
	struct curve_watch	*w;
	size_t			 i, n;
	int			 k = 1;

	pthread_mutex_lock(&cv.lock);
	n = cv.nwatch;
	pthread_mutex_unlock(&cv.lock);
	pi[0] = (zmq_pollitem_t){ cv.zap_sock, 0, ZMQ_POLLIN, 0 };
	for (i = 0; i < n; i++) {
		w = &cv.watch[i];
		if (w->pair == NULL)
			w->pair = zmon_connect(cv.zctx, w->addr);
		if (w->pair != NULL)
			pi[k++] = (zmq_pollitem_t){ w->pair, 0, ZMQ_POLLIN, 0 };
	}
	return k;
}

/* A failed handshake on a watched socket, logged like a ZAP refusal. */
static void
watch_event(void *pair, int64_t *last_log, unsigned *quiet)
{
	const struct curve_watch *w = NULL;
	const char	*more;
	uint16_t	 what;
	uint32_t	 value;
	size_t		 i;
	int64_t		 now = util_mono_ms();

	for (i = 0; i < WATCH_MAX; i++)
		if (cv.watch[i].pair == pair)
			w = &cv.watch[i];
	if (w == NULL || !zmon_next(pair, &what, &value))
		return;
	if (now - *last_log < REFUSAL_LOG_MS) {
		(*quiet)++;
		return;
	}
	more = *quiet > 0 ? " (and more refusals not logged)" : "";
	/*
	 * Which side sees the mismatch first is a race: when the peer does
	 * and hangs up, ours fails writing its greeting, with no detail.
	 */
	if (what == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL)
		log_warnx("CURVE: a connection on %s ended during its "
		    "handshake (%s): a peer that does not use CURVE, or one "
		    "that gave up%s", w->endpoint, strerror((int)value), more);
	else if (value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH)
		log_warnx("CURVE: refused a connection on %s: the peer does "
		    "not use CURVE (a plaintext ZeroMQ peer, or another "
		    "security mechanism)%s", w->endpoint, more);
	else
		log_warnx("CURVE: a connection on %s failed its handshake "
		    "(ZMTP protocol error 0x%08x)%s", w->endpoint,
		    (unsigned)value, more);
	*last_log = now;
	*quiet = 0;
}

static void *
zap_main(void *arg)
{
	static uint8_t	 f[ZAP_FRAMES_MAX][ZAP_FRAME_MAX + 1];
	size_t		 len[ZAP_FRAMES_MAX];
	zmq_pollitem_t	 pi[1 + WATCH_MAX];
	void		*s = cv.zap_sock;
	int64_t		 last_scan = util_mono_ms(), last_log = 0;
	int64_t		 last_watch_log = 0;
	unsigned	 quiet = 0, watch_quiet = 0;
	size_t		 i;
	int		 n, k, rc;

	(void)arg;
	while (!atomic_load(&cv.zap_stop)) {
		k = watch_items(pi);
		rc = zmq_poll(pi, k, ZAP_POLL_MS);
		if (rc == -1 && errno == ETERM)
			break;
		if (rc <= 0)
			continue;
		for (i = 1; i < (size_t)k; i++)
			if (pi[i].revents & ZMQ_POLLIN)
				watch_event(pi[i].socket, &last_watch_log,
				    &watch_quiet);
		if (!(pi[0].revents & ZMQ_POLLIN))
			continue;
		if (zap_recv(s, f, len, &n) == -1) {
			if (errno == ETERM)
				break;
			continue;
		}
		zap_handle(s, f, len, n, &last_scan, &last_log, &quiet);
	}
	for (i = 0; i < WATCH_MAX; i++)
		if (cv.watch[i].pair != NULL) {
			zmq_close(cv.watch[i].pair);
			cv.watch[i].pair = NULL;
		}
	zmq_close(s);
	return NULL;
}

/* Watch a CURVE server socket's handshakes (its owner's thread). */
static void
watch_add(void *s, const char *endpoint)
{
	struct curve_watch	*w;

	pthread_mutex_lock(&cv.lock);
	if (cv.nwatch < WATCH_MAX) {
		w = &cv.watch[cv.nwatch];
		snprintf(w->endpoint, sizeof(w->endpoint), "%s", endpoint);
		if (zmon_start(s, ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
		    ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL, w->addr) == 0)
			cv.nwatch++;
		else
			log_warnx("CURVE: cannot watch %s for peers without "
			    "CURVE: %s", endpoint, zmq_strerror(errno));
	}
	pthread_mutex_unlock(&cv.lock);
}

static int
zap_start(void *zctx, const char *trustdir, char *err, size_t errcap)
{
	sigset_t	all, old;
	int		zero = 0, n, rc;

	if ((cv.trust = curve_trust_new(trustdir)) == NULL)
		return util_errf(err, errcap, "--curve-trust %s: path too "
		    "long or out of memory", trustdir);
	if ((n = curve_trust_load(cv.trust, 1)) == -1)
		return util_errf(err, errcap, "cannot read the CURVE trust "
		    "directory %s: %s", trustdir, strerror(errno));
	cv.zctx = zctx;
	if ((cv.zap_sock = zmq_socket(zctx, ZMQ_REP)) == NULL)
		return util_errf(err, errcap, "ZAP socket: %s",
		    zmq_strerror(errno));
	zmq_setsockopt(cv.zap_sock, ZMQ_LINGER, &zero, sizeof(zero));
	if (zmq_bind(cv.zap_sock, ZAP_ENDPOINT) == -1) {
		util_errf(err, errcap, "cannot bind the ZAP handler: %s",
		    zmq_strerror(errno));
		goto fail;
	}
	/* Signals go to the daemon's threads, never into a ZAP exchange. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&cv.zap, NULL, zap_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		util_errf(err, errcap, "cannot start the ZAP thread");
		goto fail;
	}
	cv.zap_running = 1;
	log_info("CURVE: %d trusted keys in %s", n, trustdir);
	return 0;
fail:
	zmq_close(cv.zap_sock);
	cv.zap_sock = NULL;
	return -1;
}

/* ------------------------------------------------------------ the state */

static void
wipe_at_exit(void)
{
	crypto_wipe(cv.sec, sizeof(cv.sec));
}

int
curve_setup(const struct curve_conf *c, void *zctx, char *err, size_t errcap)
{
	char	key[CURVE_Z85_LEN + 1];

	if (curve_conf_check(c, err, errcap) == -1)
		return -1;
	if (c->dir == NULL)
		return 0;
	if (curve_keypair_load(c->dir, 1, cv.pub, cv.sec, err, errcap) == -1)
		return -1;
	atexit(wipe_at_exit);
	cv.on = 1;
	if (c->commserve_key != NULL) {
		if (curve_key_arg(c->commserve_key, key, err, errcap) == -1)
			return -1;
		if (curve_commserve_set(c->commserve, key) == -1 ||
		    curve_commserve_set(c->events, key) == -1)
			return util_errf(err, errcap, "out of memory");
	}
	if (c->serves && zap_start(zctx, c->trust, err, errcap) == -1)
		return -1;
	if (!c->quiet)
		log_info("CURVE on: public key %s (%s/%s)", cv.pub, c->dir,
		    CURVE_PUB_FILE);
	return 0;
}

int
curve_enabled(void)
{
	return cv.on;
}

const char *
curve_public_key(void)
{
	return cv.on ? cv.pub : NULL;
}

int
curve_peer_set(const char *endpoint, const char *z85)
{
	struct curve_peer	*p;
	size_t			 i;
	int			 rc = -1;

	if (endpoint == NULL || strlen(endpoint) >= EP_MAX ||
	    !curve_z85_valid(z85))
		return -1;
	pthread_mutex_lock(&cv.lock);
	for (i = 0; i < cv.npeers; i++)
		if (strcmp(cv.peers[i].endpoint, endpoint) == 0)
			break;
	if (i == cv.npeers) {
		if (cv.npeers >= PEERS_MAX)
			i = cv.npeers - 1;	/* the newest gives way */
		else if ((p = realloc(cv.peers, (cv.npeers + 1) *
		    sizeof(*p))) == NULL)
			goto done;
		else {
			cv.peers = p;
			cv.npeers++;
		}
		snprintf(cv.peers[i].endpoint, EP_MAX, "%s", endpoint);
	}
	memcpy(cv.peers[i].key, z85, CURVE_Z85_LEN + 1);
	rc = 0;
done:
	pthread_mutex_unlock(&cv.lock);
	return rc;
}

int
curve_commserve_set(const char *endpoint, const char *z85)
{
	if (!curve_z85_valid(z85))
		return -1;
	pthread_mutex_lock(&cv.lock);
	memcpy(cv.cs_key, z85, CURVE_Z85_LEN + 1);
	pthread_mutex_unlock(&cv.lock);
	return endpoint != NULL ? curve_peer_set(endpoint, z85) : 0;
}

/* The registered key of endpoint into key; -1 if none. */
static int
peer_key(const char *endpoint, char key[CURVE_Z85_LEN + 1])
{
	size_t	i;
	int	rc = -1;

	pthread_mutex_lock(&cv.lock);
	for (i = 0; i < cv.npeers; i++)
		if (strcmp(cv.peers[i].endpoint, endpoint) == 0) {
			memcpy(key, cv.peers[i].key, CURVE_Z85_LEN + 1);
			rc = 0;
			break;
		}
	pthread_mutex_unlock(&cv.lock);
	return rc;
}

static int
apply_client(void *s, const char *endpoint, const char *server)
{
	if (zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, server,
	    CURVE_Z85_LEN + 1) == -1 ||
	    zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, cv.pub,
	    CURVE_Z85_LEN + 1) == -1 ||
	    zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, cv.sec,
	    CURVE_Z85_LEN + 1) == -1) {
		log_warnx("CURVE client options for %s: %s", endpoint,
		    zmq_strerror(errno));
		return -1;
	}
	return 0;
}

int
curve_apply(void *s, const char *endpoint, int bind)
{
	char	key[CURVE_Z85_LEN + 1];
	int	one = 1;

	if (!cv.on || endpoint == NULL ||
	    strncmp(endpoint, "inproc://", 9) == 0)
		return 0;
	if (bind) {
		if (!cv.zap_running) {
			log_warnx("CURVE: %s would bind without a ZAP handler "
			    "(no --curve-trust): refused", endpoint);
			return -1;
		}
		(void)zmq_setsockopt(s, OPT_ZAP_ENFORCE, &one, sizeof(one));
		if (zmq_setsockopt(s, ZMQ_CURVE_SERVER, &one,
		    sizeof(one)) == -1 ||
		    zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, cv.sec,
		    CURVE_Z85_LEN + 1) == -1 ||
		    zmq_setsockopt(s, ZMQ_ZAP_DOMAIN, CURVE_ZAP_DOMAIN,
		    strlen(CURVE_ZAP_DOMAIN)) == -1) {
			log_warnx("CURVE server options for %s: %s", endpoint,
			    zmq_strerror(errno));
			return -1;
		}
		watch_add(s, endpoint);
		return 0;
	}
	if (peer_key(endpoint, key) == -1) {
		log_warnx("CURVE: no server key is known for %s; refusing to "
		    "connect in plaintext", endpoint);
		return -1;
	}
	return apply_client(s, endpoint, key);
}

int
curve_apply_commserve(void *s, const char *endpoint)
{
	char	key[CURVE_Z85_LEN + 1];

	if (!cv.on)
		return 0;
	if (peer_key(endpoint, key) == 0)
		return apply_client(s, endpoint, key);
	pthread_mutex_lock(&cv.lock);
	memcpy(key, cv.cs_key, sizeof(key));
	pthread_mutex_unlock(&cv.lock);
	if (key[0] == '\0') {
		log_warnx("CURVE: CommServe's key is not known; cannot "
		    "connect to %s", endpoint);
		return -1;
	}
	return apply_client(s, endpoint, key);
}

void
curve_shutdown(void)
{
	if (cv.zap_running) {
		atomic_store(&cv.zap_stop, 1);
		pthread_join(cv.zap, NULL);
		cv.zap_running = 0;
	}
	curve_trust_free(&cv.trust);
	crypto_wipe(cv.sec, sizeof(cv.sec));
	pthread_mutex_lock(&cv.lock);
	cv.nwatch = 0;
	free(cv.peers);
	cv.peers = NULL;
	cv.npeers = 0;
	pthread_mutex_unlock(&cv.lock);
	cv.on = 0;
}
