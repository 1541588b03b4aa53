/*
 * peers.c - clients and MediaAgents that register with CommServe.
 *
 * A MediaAgent says who it is and where clients reach it.  A client must
 * prove that it knows its network password (keyseal_auth_proof over both
 * sides' nonces), so a peer that knows only a client's name gets nothing;
 * a wrong proof is counted in the database for the operator to see.
 * With CURVE on, a MediaAgent name is pinned to the key it first
 * registered with, the way SSH pins host keys: another machine whose key
 * CommServe trusts cannot take the name over (and be sent its clients)
 * until the operator runs keyflow mediaagent unpin.  Peers are known by
 * their ZeroMQ routing id and forgotten after CS_PEER_LOST_BEATS missed
 * heartbeats.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commserve.h"
#include "conf.h"
#include "curve.h"
#include "keyseal.h"
#include "log.h"
#include "util.h"

#define PIN_WARN_MS	60000	/* a pinned name's refusal: one warning per */

struct peer *
peers_find_id(struct cs *cs, const uint8_t *id, size_t idlen)
{
	struct peer	*p;

	for (p = cs->peers; p != NULL; p = p->next)
		if (p->idlen == idlen && memcmp(p->id, id, idlen) == 0)
			return p;
	return NULL;
}

struct peer *
peers_find(struct cs *cs, enum peer_role role, const char *name)
{
	struct peer	*p, *best = NULL;

	/* The most recently seen registration wins. */
	for (p = cs->peers; p != NULL; p = p->next)
		if (p->authed && p->role == role && strcmp(p->name, name) == 0 &&
		    (best == NULL || p->last_seen_ms > best->last_seen_ms))
			best = p;
	return best;
}

const char *
peers_ma_key(struct cs *cs, const char *name)
{
	struct peer	*p = peers_find(cs, PEER_MEDIAAGENT, name);

	return p != NULL && p->curve_key[0] != '\0' ? p->curve_key : NULL;
}

int
peers_alive(const struct peer *p)
{
	return p != NULL && p->authed && util_mono_ms() - p->last_seen_ms <
	    (int64_t)CS_HEARTBEAT_MS * CS_PEER_LOST_BEATS;
}

static struct peer *
peer_for(struct req *r)
{
	struct peer	*p = r->peer, *q;
	size_t		 n = 0;

	if (p == NULL) {
		/* Bounded: thousands of HELLOs must not grow it forever. */
		for (q = r->cs->peers; q != NULL; q = q->next)
			n++;
		if (n >= CS_PEERS_MAX)
			return NULL;
		if ((p = calloc(1, sizeof(*p))) == NULL)
			return NULL;
		memcpy(p->id, r->msg->peer, r->msg->peerlen);
		p->idlen = r->msg->peerlen;
		p->next = r->cs->peers;
		r->cs->peers = p;
		r->peer = p;
	}
	p->authed = 0;
	p->last_seen_ms = util_mono_ms();
	return p;
}

static void
welcome(struct req *r, struct peer *p)
{
	Kf__Welcome	w = KF__WELCOME__INIT;

	p->authed = 1;
	w.name = p->name;
	w.has_heartbeat_ms = 1;
	w.heartbeat_ms = CS_HEARTBEAT_MS;
	w.events_endpoint = (char *)r->cs->conf.events_public;
	cs_reply(r, KF__MSG_TYPE__WELCOME, &w.base);
	log_info("%s %s registered", p->role == PEER_CLIENT ? "client" :
	    "MediaAgent", p->name);
}

/*
 * With CURVE on, a MediaAgent's advertised key (which CommServe passes to
 * clients as the key of its data endpoint) must be the key it proved in
 * the CURVE handshake of this very connection: a MediaAgent cannot make
 * clients trust a key it does not hold.
 */
static int
hello_curve_check(struct req *r, const Kf__Hello *h)
{
	if (!curve_enabled())
		return 0;
	if (h->curve_key == NULL || h->curve_key[0] == '\0') {
		cs_error(r, KF__KF_ERR__ERR_AUTH, "MediaAgent %s: HELLO names "
		    "no CURVE key; this CommServe runs with CURVE on "
		    "(start mediaagentd with --curve-dir)", h->name);
		return -1;
	}
	if (r->msg->peer_key[0] == '\0' ||
	    strcmp(h->curve_key, r->msg->peer_key) != 0) {
		log_warnx("MediaAgent %s: HELLO advertises CURVE key %.40s but "
		    "the connection authenticated with %s", h->name,
		    h->curve_key, r->msg->peer_key[0] != '\0' ?
		    r->msg->peer_key : "no key");
		cs_error(r, KF__KF_ERR__ERR_AUTH, "MediaAgent %s: the CURVE "
		    "key in HELLO is not the key this connection "
		    "authenticated with", h->name);
		return -1;
	}
	return 0;
}

/*
 * The name is pinned to another key: say what happened and what to do,
 * to the peer and in CommServe's log.  The pinned key is read only for
 * the sentence; db_ma_upsert already refused, in one statement.
 */
static void
hello_pin_refused(struct req *r, const char *name)
{
	/* A refused MediaAgent retries every few seconds: warn once a minute
	 * (cs_error logs every refusal at info level). */
	static char		last_name[DB_NAME_MAX];
	static int64_t		last_ms;
	struct db_mediaagent	cur;
	char			msg[512], pinned[16];
	int64_t			now = util_mono_ms();

	if (db_ma_find(r->cs->db, name, &cur) == DB_OK &&
	    cur.curve_key[0] != '\0')
		(void)snprintf(pinned, sizeof(pinned), "%.8s\u2026",
		    cur.curve_key);
	else
		(void)snprintf(pinned, sizeof(pinned), "another key");
	(void)snprintf(msg, sizeof(msg), "MediaAgent %s is pinned to CURVE "
	    "key %s; this connection authenticated with %.8s\u2026; if %s's "
	    "key was replaced on purpose, run: keyflow mediaagent unpin %s",
	    name, pinned, r->msg->peer_key, name, name);
	if (strcmp(last_name, name) != 0 || now - last_ms >= PIN_WARN_MS) {
		log_warnx("%s", msg);
		snprintf(last_name, sizeof(last_name), "%s", name);
		last_ms = now;
	}
	cs_error(r, KF__KF_ERR__ERR_AUTH, "%s", msg);
}

/*
 * The name was just pinned to keep's key (after an unpin): registrations
 * of the name under any other key lose their standing.  Their next
 * message is answered "not registered" and their next HELLO meets the
 * new pin.
 */
static void
forget_other_keys(struct cs *cs, const struct peer *keep)
{
	struct peer	*p;

	for (p = cs->peers; p != NULL; p = p->next) {
		if (p == keep || !p->authed || p->role != PEER_MEDIAAGENT ||
		    strcmp(p->name, keep->name) != 0 ||
		    strcmp(p->curve_key, keep->curve_key) == 0)
			continue;
		p->authed = 0;
		log_warnx("MediaAgent %s is now pinned to CURVE key "
		    "%.8s\u2026: its registration under key %.8s\u2026 is "
		    "dropped", p->name, keep->curve_key, p->curve_key);
	}
}

static void
hello_mediaagent(struct req *r, const Kf__Hello *h)
{
	struct db_mediaagent	 ma;
	struct peer		*p;
	int			 rc;

	memset(&ma, 0, sizeof(ma));
	if (h->data_endpoint == NULL ||
	    conf_endpoint_valid(h->data_endpoint) == -1 ||
	    strlen(h->data_endpoint) >= sizeof(ma.data_endpoint)) {
		cs_error(r, KF__KF_ERR__ERR_INVALID, "MediaAgent %s: a data "
		    "endpoint (tcp://HOST:PORT) is required", h->name);
		return;
	}
	if (h->mount_root == NULL || h->mount_root[0] != '/' ||
	    strlen(h->mount_root) >= sizeof(ma.mount_root)) {
		cs_error(r, KF__KF_ERR__ERR_INVALID, "MediaAgent %s: an "
		    "absolute mount root is required", h->name);
		return;
	}
	snprintf(ma.name, sizeof(ma.name), "%s", h->name);
	snprintf(ma.data_endpoint, sizeof(ma.data_endpoint), "%s",
	    h->data_endpoint);
	snprintf(ma.mount_root, sizeof(ma.mount_root), "%s", h->mount_root);
	if (hello_curve_check(r, h) == -1)
		return;
	/* Checked equal to the HELLO's key; "" with CURVE off: no pin. */
	snprintf(ma.curve_key, sizeof(ma.curve_key), "%s",
	    curve_enabled() ? r->msg->peer_key : "");
	rc = db_ma_upsert(r->cs->db, &ma);
	if (rc == DB_EXISTS) {
		hello_pin_refused(r, h->name);
		return;
	}
	if (rc != DB_OK) {
		cs_error(r, KF__KF_ERR__ERR_DB, "cannot record MediaAgent %s: "
		    "%s", h->name, db_errmsg(r->cs->db));
		return;
	}
	if ((p = peer_for(r)) == NULL) {
		cs_error(r, KF__KF_ERR__ERR_UNAVAILABLE, "too many daemons "
		    "registered (%d); try again later", CS_PEERS_MAX);
		return;
	}
	p->role = PEER_MEDIAAGENT;
	p->db_id = ma.id;
	snprintf(p->name, sizeof(p->name), "%s", h->name);
	/* Verified above: clients will be told to expect this server key. */
	snprintf(p->curve_key, sizeof(p->curve_key), "%s", ma.curve_key);
	if (p->curve_key[0] != '\0')
		forget_other_keys(r->cs, p);
	welcome(r, p);
	jobs_discard_resend(r->cs, p);
}

static void
hello_client(struct req *r, const Kf__Hello *h)
{
	Kf__Challenge		 c = KF__CHALLENGE__INIT;
	struct db_client	 cl;
	struct peer		*p;
	int			 rc;

	if (!h->has_client_nonce || h->client_nonce.len < 16 ||
	    h->client_nonce.len > sizeof(p->client_nonce)) {
		cs_error(r, KF__KF_ERR__ERR_INVALID, "client %s: a client "
		    "nonce of 16..64 bytes is required", h->name);
		return;
	}
	rc = db_client_find(r->cs->db, h->name, &cl);
	if (rc == DB_NOT_FOUND) {
		cs_error(r, KF__KF_ERR__ERR_NOT_FOUND, "no client named %s; "
		    "add it with: keyflow client add %s --password-file FILE",
		    h->name, h->name);
		return;
	}
	if (rc != DB_OK) {
		cs_error(r, KF__KF_ERR__ERR_DB, "cannot look up client %s: %s",
		    h->name, db_errmsg(r->cs->db));
		return;
	}
	if ((p = peer_for(r)) == NULL) {
		cs_error(r, KF__KF_ERR__ERR_UNAVAILABLE, "too many daemons "
		    "registered (%d); try again later", CS_PEERS_MAX);
		return;
	}
	p->role = PEER_CLIENT;
	p->db_id = cl.id;
	snprintf(p->name, sizeof(p->name), "%s", h->name);
	memcpy(p->client_nonce, h->client_nonce.data, h->client_nonce.len);
	p->client_nonce_len = h->client_nonce.len;
	if (crypto_random(p->server_nonce, sizeof(p->server_nonce)) == -1) {
		cs_error(r, KF__KF_ERR__ERR_INTERNAL, "no random bytes");
		return;
	}
	c.salt.data = cl.salt.data;
	c.salt.len = cl.salt.len;
	c.iterations = cl.iterations;
	c.server_nonce.data = p->server_nonce;
	c.server_nonce.len = sizeof(p->server_nonce);
	cs_reply(r, KF__MSG_TYPE__CHALLENGE, &c.base);
}

void
peers_hello(struct req *r)
{
	const Kf__Hello	*h = (const Kf__Hello *)r->msg->body;

	if (!cs_name_valid(h->name)) {
		cs_error(r, KF__KF_ERR__ERR_INVALID, "invalid name: use 1..%d "
		    "letters, digits, '-', '_' or '.'", CS_NAME_MAX);
		return;
	}
	if (strcmp(h->role, "mediaagent") == 0)
		hello_mediaagent(r, h);
	else if (strcmp(h->role, "client") == 0)
		hello_client(r, h);
	else
		cs_error(r, KF__KF_ERR__ERR_INVALID, "unknown role \"%s\": "
		    "expected client or mediaagent", h->role);
}

void
peers_auth(struct req *r)
{
	const Kf__Auth		*a = (const Kf__Auth *)r->msg->body;
	struct peer		*p = r->peer;
	struct db_client	 cl;
	uint8_t			 nk[KF_KEY_LEN], proof[KF_SHA256_LEN];
	int			 ok;

	if (p == NULL || p->role != PEER_CLIENT ||
	    strcmp(p->name, a->name) != 0 || p->client_nonce_len == 0) {
		cs_error(r, KF__KF_ERR__ERR_STATE, "AUTH without a matching "
		    "HELLO: send HELLO first");
		return;
	}
	if (db_client_get(r->cs->db, p->db_id, &cl) != DB_OK) {
		cs_error(r, KF__KF_ERR__ERR_DB, "cannot look up client %s: %s",
		    p->name, db_errmsg(r->cs->db));
		return;
	}
	if (keys_unwrap_network_key(r->cs, &cl, nk) == -1) {
		cs_error(r, KF__KF_ERR__ERR_CRYPTO, "the stored network key "
		    "of client %s does not open under this CommServe's local "
		    "key", p->name);
		return;
	}
	ok = keyseal_auth_proof(nk, p->name, p->server_nonce,
	    sizeof(p->server_nonce), p->client_nonce, p->client_nonce_len,
	    proof) == 0 && a->proof.len == sizeof(proof) &&
	    crypto_memeq(proof, a->proof.data, sizeof(proof)) == 0;
	crypto_wipe(nk, sizeof(nk));
	p->client_nonce_len = 0;	/* one proof per challenge */
	if (db_client_auth_result(r->cs->db, p->db_id, ok) != DB_OK)
		log_warnx("cannot record authentication of %s: %s", p->name,
		    db_errmsg(r->cs->db));
	if (!ok) {
		log_warnx("client %s failed to authenticate: wrong network "
		    "password", p->name);
		cs_error(r, KF__KF_ERR__ERR_AUTH, "wrong network password for "
		    "client %s", p->name);
		return;
	}
	welcome(r, p);
}

void
peers_heartbeat(struct req *r)
{
	(void)r;	/* dispatch already refreshed last_seen_ms */
}

void
peers_expire(struct cs *cs)
{
	struct peer	**pp = &cs->peers, *p;
	int64_t		  limit;

	limit = (int64_t)CS_HEARTBEAT_MS * CS_PEER_LOST_BEATS;
	while ((p = *pp) != NULL) {
		if (util_mono_ms() - p->last_seen_ms < limit * 2) {
			pp = &p->next;
			continue;
		}
		if (p->authed)
			log_info("%s %s is gone (no heartbeat)",
			    p->role == PEER_CLIENT ? "client" : "MediaAgent",
			    p->name);
		*pp = p->next;
		free(p);
	}
}

void
peers_free(struct cs *cs)
{
	struct peer	*p;

	while ((p = cs->peers) != NULL) {
		cs->peers = p->next;
		free(p);
	}
}
