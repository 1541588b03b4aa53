/*
 * session.c - clientd's standing connection to CommServe: registration,
 * heartbeats and the orders CommServe sends.
 *
 * Registration proves that this client knows its network password without
 * sending it: HELLO {name, client nonce} -> CHALLENGE {salt, iterations,
 * server nonce} -> AUTH {proof} -> WELCOME (proto/README.md).  The network
 * key derived on the way is kept in locked memory; it opens the DEKs that
 * CommServe seals for this client's jobs.  When CommServe forgets us (it
 * restarted and answers ERR_STATE "not registered"), we register again.  A
 * refusal (wrong password, unknown client) is a configuration error: we say
 * so and exit with status 1.
 */
#include <errno.h>
#include <string.h>

#include <zmq.h>

#include "client.h"
#include "conf.h"
#include "curve.h"
#include "keyseal.h"
#include "log.h"
#include "trace.h"
#include "util.h"

#define SESSION_RETRY_MS	1000	/* HELLO retry while unreachable */
#define SESSION_REPLY_MS	10000	/* CHALLENGE/WELCOME must come within */
#define SESSION_HB_DEFAULT	5000	/* heartbeat when WELCOME names none */
#define SESSION_HB_MIN		100
#define SESSION_HB_MAX		600000
#define SESSION_NONCE_MIN	16	/* server nonce bounds */
#define SESSION_NONCE_MAX	64
#define SESSION_SALT_MIN	8
#define SESSION_REDIAL		5	/* unsent HELLOs before a new socket */

/*
 * HELLOs that found no connection in a row.  A CURVE server that refused
 * our key (not yet in its trust directory) ends the connection for good,
 * so with CURVE on the socket is made anew every SESSION_REDIAL of them:
 * a client let in later registers without a restart.
 */
static unsigned	session_unsent;

/* Read the network password into locked memory. */
int
session_password(struct client *c)
{
	long	 n;

	if ((c->password = keymem_new(CLIENT_PW_MAX)) == NULL)
		return -1;
	n = conf_read_secret(c->conf->password_file, c->password,
	    CLIENT_PW_MAX);
	if (n <= 0) {
		log_warnx("cannot use the network password in %s",
		    c->conf->password_file);
		return -1;
	}
	c->pwlen = (size_t)n;
	return 0;
}

/*
 * The CommServe socket queues nothing for a connection that is not up
 * (ZMQ_IMMEDIATE) and never blocks a send, so a HELLO sent while CommServe
 * is down fails at once and is retried instead of piling up.
 */
static void *
session_socket(struct client *c)
{
	void	*s;
	int	 one = 1, zero = 0, linger = 0;

	if ((s = zmq_socket(c->zctx, ZMQ_DEALER)) == NULL) {
		log_warnx("zmq_socket: %s", zmq_strerror(errno));
		return NULL;
	}
	if (zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof(linger)) == -1 ||
	    zmq_setsockopt(s, ZMQ_IMMEDIATE, &one, sizeof(one)) == -1 ||
	    zmq_setsockopt(s, ZMQ_SNDTIMEO, &zero, sizeof(zero)) == -1 ||
	    curve_apply(s, c->conf->commserve, 0) == -1 ||
	    zmq_connect(s, c->conf->commserve) == -1) {
		log_warnx("cannot connect to CommServe at %s: %s",
		    c->conf->commserve, zmq_strerror(errno));
		zmq_close(s);
		return NULL;
	}
	return s;
}

int
session_init(struct client *c)
{
	if (session_password(c) == -1)
		return -1;
	if ((c->nk = keymem_new(KF_KEY_LEN)) == NULL)
		return -1;
	if ((c->trace = trace_new("client")) == NULL) {
		log_warnx("cannot create the trace publisher");
		return -1;
	}
	if (c->conf->events != NULL) {
		if (trace_connect(c->trace, c->zctx, c->conf->events) == -1)
			log_warnx("trace events to %s: cannot connect",
			    c->conf->events);
		else
			c->trace_on = 1;
	}
	if ((c->cs = session_socket(c)) == NULL)
		return -1;
	c->state = SESSION_IDLE;
	c->sent_ms = util_mono_ms() - SESSION_RETRY_MS;
	return 0;
}

void
session_free(struct client *c)
{
	if (c->cs != NULL) {
		zmq_close(c->cs);
		c->cs = NULL;
	}
	trace_free(&c->trace);
	keymem_free(&c->password, CLIENT_PW_MAX);
	keymem_free(&c->nk, KF_KEY_LEN);
	c->pwlen = 0;
	c->nk_valid = 0;
}

static int
session_send(struct client *c, uint32_t type, const ProtobufCMessage *body)
{
	if (wire_send(c->cs, NULL, 0, type, body, NULL, 0) == -1) {
		log_debug("%s not sent: %s", wire_type_name(type),
		    zmq_strerror(errno));
		return -1;
	}
	return 0;
}

/* A new CommServe socket in place of the old one, if one can be made. */
static void
session_redial(struct client *c)
{
	void	*s;

	if ((s = session_socket(c)) == NULL)
		return;
	zmq_close(c->cs);
	c->cs = s;
	log_debug("new connection to CommServe at %s", c->conf->commserve);
}

static void
session_hello(struct client *c)
{
	Kf__Hello	 h = KF__HELLO__INIT;

	c->sent_ms = util_mono_ms();
	c->state = SESSION_IDLE;
	if (crypto_random(c->nonce, sizeof(c->nonce)) == -1) {
		log_warnx("no random bytes for the HELLO nonce");
		return;
	}
	h.role = "client";
	h.name = (char *)c->conf->name;
	h.has_client_nonce = 1;
	h.client_nonce.data = c->nonce;
	h.client_nonce.len = sizeof(c->nonce);
	h.version = "keyflow 1";
	if (session_send(c, KF__MSG_TYPE__HELLO, &h.base) == -1) {
		if (curve_enabled() && ++session_unsent % SESSION_REDIAL == 0)
			session_redial(c);
		if (!c->waiting_logged) {
			log_info("waiting for CommServe at %s",
			    c->conf->commserve);
			c->waiting_logged = 1;
		}
		return;
	}
	session_unsent = 0;
	log_debug("HELLO sent to %s", c->conf->commserve);
	c->state = SESSION_HELLO;
}

/* Stop the daemon: registration cannot succeed without a fix. */
static void
session_refuse(struct client *c, const char *why)
{
	log_warnx("CommServe refused client %s: %s", c->conf->name, why);
	c->exit_code = 1;
}

/* Derive the network key unless it was derived from the same salt. */
static int
session_network_key(struct client *c, const Kf__Challenge *ch)
{
	if (c->nk_valid && c->nk_iter == ch->iterations &&
	    c->nk_saltlen == ch->salt.len &&
	    memcmp(c->nk_salt, ch->salt.data, ch->salt.len) == 0)
		return 0;
	c->nk_valid = 0;
	if (keyseal_network_key(c->password, c->pwlen, ch->salt.data,
	    ch->salt.len, ch->iterations, c->nk) == -1) {
		log_warnx("cannot derive the network key");
		return -1;
	}
	memcpy(c->nk_salt, ch->salt.data, ch->salt.len);
	c->nk_saltlen = ch->salt.len;
	c->nk_iter = ch->iterations;
	c->nk_valid = 1;
	return 0;
}

static void
session_challenge(struct client *c, const Kf__Challenge *ch)
{
	Kf__Auth	 a = KF__AUTH__INIT;
	uint8_t		 proof[KF_SHA256_LEN];
	char		 why[160];

	if (c->state != SESSION_HELLO) {
		log_debug("CHALLENGE while not registering: ignored");
		return;
	}
	if (ch->iterations < CLIENT_ITER_MIN ||
	    ch->iterations > CLIENT_ITER_MAX) {
		snprintf(why, sizeof(why), "its challenge asks for %u PBKDF2 "
		    "iterations; clientd accepts %d to %d", ch->iterations,
		    CLIENT_ITER_MIN, CLIENT_ITER_MAX);
		session_refuse(c, why);
		return;
	}
	if (ch->salt.len < SESSION_SALT_MIN || ch->salt.len > CLIENT_SALT_MAX ||
	    ch->server_nonce.len < SESSION_NONCE_MIN ||
	    ch->server_nonce.len > SESSION_NONCE_MAX) {
		snprintf(why, sizeof(why), "its challenge has a %zu-byte salt "
		    "and a %zu-byte nonce (accepted: %d..%d and %d..%d)",
		    ch->salt.len, ch->server_nonce.len, SESSION_SALT_MIN,
		    CLIENT_SALT_MAX, SESSION_NONCE_MIN, SESSION_NONCE_MAX);
		session_refuse(c, why);
		return;
	}
	if (session_network_key(c, ch) == -1 ||
	    keyseal_auth_proof(c->nk, c->conf->name, ch->server_nonce.data,
	    ch->server_nonce.len, c->nonce, sizeof(c->nonce), proof) == -1) {
		c->state = SESSION_IDLE;
		return;
	}
	a.name = (char *)c->conf->name;
	a.proof.data = proof;
	a.proof.len = sizeof(proof);
	c->sent_ms = util_mono_ms();
	if (session_send(c, KF__MSG_TYPE__AUTH, &a.base) == -1)
		c->state = SESSION_IDLE;
	else
		c->state = SESSION_AUTH;
	crypto_wipe(proof, sizeof(proof));
}

static void
session_welcome(struct client *c, const Kf__Welcome *w)
{
	const char	*ev;

	if (c->state != SESSION_AUTH) {
		log_debug("WELCOME while not registering: ignored");
		return;
	}
	c->heartbeat_ms = SESSION_HB_DEFAULT;
	if (w->has_heartbeat_ms) {
		c->heartbeat_ms = w->heartbeat_ms;
		if (c->heartbeat_ms < SESSION_HB_MIN)
			c->heartbeat_ms = SESSION_HB_MIN;
		if (c->heartbeat_ms > SESSION_HB_MAX)
			c->heartbeat_ms = SESSION_HB_MAX;
	}
	c->state = SESSION_READY;
	c->hb_ms = util_mono_ms() + c->heartbeat_ms;
	c->waiting_logged = 0;

	ev = w->events_endpoint;
	if (!c->trace_on && ev != NULL && *ev != '\0') {
		if (conf_endpoint_valid(ev) != 0)
			log_warnx("CommServe names events endpoint \"%s\", "
			    "which is not an endpoint; no trace events", ev);
		else if (trace_connect(c->trace, c->zctx, ev) == -1)
			log_warnx("trace events to %s: cannot connect", ev);
		else
			c->trace_on = 1;
	}
	if (!c->welcomed)
		log_info("ready: registered with CommServe as %s at %s "
		    "(heartbeat %u ms)", c->conf->name, c->conf->commserve,
		    c->heartbeat_ms);
	else
		log_info("registered with CommServe as %s again",
		    c->conf->name);
	c->welcomed = 1;
}

static void
session_error(struct client *c, const Kf__Error *e)
{
	const char	*msg = e->message != NULL ? e->message : "";

	if ((c->state == SESSION_HELLO || c->state == SESSION_AUTH) &&
	    (e->code == KF__KF_ERR__ERR_AUTH ||
	    e->code == KF__KF_ERR__ERR_NOT_FOUND)) {
		session_refuse(c, msg);
		return;
	}
	if (e->code == KF__KF_ERR__ERR_STATE && c->state == SESSION_READY) {
		log_info("CommServe does not know client %s any more (%s); "
		    "registering again", c->conf->name, msg);
		session_hello(c);
		return;
	}
	log_warnx("CommServe: %s: %s", wire_err_name(e->code), msg);
}

static void
session_dispatch(struct client *c, struct wire_msg *m)
{
	switch (m->type) {
	case KF__MSG_TYPE__CHALLENGE:
		session_challenge(c, (const Kf__Challenge *)m->body);
		break;
	case KF__MSG_TYPE__WELCOME:
		session_welcome(c, (const Kf__Welcome *)m->body);
		break;
	case KF__MSG_TYPE__ERROR:
		session_error(c, (const Kf__Error *)m->body);
		break;
	case KF__MSG_TYPE__OK:
		log_debug("CommServe: OK");
		break;
	case KF__MSG_TYPE__BACKUP_ORDER:
		jobs_order(c, JOB_KIND_BACKUP, m);
		break;
	case KF__MSG_TYPE__RESTORE_ORDER:
		jobs_order(c, JOB_KIND_RESTORE, m);
		break;
	case KF__MSG_TYPE__JOB_CANCEL:
		jobs_cancel(c, (const Kf__JobFailed *)m->body);
		break;
	default:
		log_warnx("CommServe sent %s, which clientd does not handle",
		    wire_type_name(m->type));
		break;
	}
}

/* Handle every message waiting on the CommServe socket. */
void
session_recv(struct client *c)
{
	struct wire_msg	 m;
	kf_err_t	 err;
	char		 errmsg[256];

	while (c->exit_code < 0) {
		memset(&m, 0, sizeof(m));
		err = KF__KF_ERR__ERR_NONE;
		if (wire_recv(c->cs, 0, &m, &err, errmsg, sizeof(errmsg),
		    ZMQ_DONTWAIT) == -1) {
			job_msg_clear(&m);
			if (err == KF__KF_ERR__ERR_NONE)
				break;		/* nothing more waiting */
			log_warnx("bad message from CommServe: %s", errmsg);
			continue;
		}
		session_dispatch(c, &m);
		job_msg_clear(&m);
	}
}

/* Timers: HELLO retries, lost replies, heartbeats. */
void
session_tick(struct client *c)
{
	Kf__Heartbeat	 hb = KF__HEARTBEAT__INIT;
	int64_t		 now = util_mono_ms();

	if (c->exit_code >= 0)
		return;
	switch (c->state) {
	case SESSION_IDLE:
		if (now - c->sent_ms >= SESSION_RETRY_MS)
			session_hello(c);
		break;
	case SESSION_HELLO:
	case SESSION_AUTH:
		if (now - c->sent_ms >= SESSION_REPLY_MS) {
			log_warnx("CommServe at %s did not answer %s within "
			    "%d s; trying again", c->conf->commserve,
			    c->state == SESSION_HELLO ? "HELLO" : "AUTH",
			    SESSION_REPLY_MS / 1000);
			session_hello(c);
		}
		break;
	case SESSION_READY:
		if (now < c->hb_ms)
			break;
		c->hb_ms = now + c->heartbeat_ms;
		hb.name = (char *)c->conf->name;
		(void)session_send(c, KF__MSG_TYPE__HEARTBEAT, &hb.base);
		break;
	}
}

/* How long the poll loop may sleep. */
int
session_timeout(const struct client *c)
{
	int64_t	 now = util_mono_ms(), left;

	if (c->state != SESSION_READY)
		return 100;
	left = c->hb_ms - now;
	if (left < 0)
		left = 0;
	return left < 250 ? (int)left : 250;
}
