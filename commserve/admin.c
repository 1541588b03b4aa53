/*
 * admin.c - the operator's requests that are not data flows: clients,
 * MediaAgents, KMS servers and traces.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commserve.h"
#include "keyseal.h"
#include "log.h"
#include "util.h"

#define PASSWORD_MIN	8
#define PASSWORD_MAX	1024

void
admin_client_add(struct req *r)
{
	const Kf__ClientAdd	*a = (const Kf__ClientAdd *)r->msg->body;
	Kf__ClientInfo		 ci = KF__CLIENT_INFO__INIT;
	struct db_client	 c;
	uint8_t			 nk[KF_KEY_LEN];
	int			 rc;

	memset(&c, 0, sizeof(c));
	if (!cs_name_valid(a->name)) {
		cs_error(r, KF__KF_ERR__ERR_INVALID, "invalid client name: use "
		    "1..%d letters, digits, '-', '_' or '.'", CS_NAME_MAX);
		return;
	}
	if (a->password.len < PASSWORD_MIN || a->password.len > PASSWORD_MAX) {
		cs_error(r, KF__KF_ERR__ERR_INVALID, "the network password "
		    "must be %d..%d bytes", PASSWORD_MIN, PASSWORD_MAX);
		return;
	}
	snprintf(c.name, sizeof(c.name), "%s", a->name);
	c.salt.len = 16;
	c.iterations = KF_PBKDF2_ITER;
	if (crypto_random(c.salt.data, c.salt.len) == -1 ||
	    keyseal_network_key(a->password.data, a->password.len,
	    c.salt.data, c.salt.len, c.iterations, nk) == -1 ||
	    keys_wrap_network_key(r->cs, c.name, nk, &c.nk_wrapped) == -1) {
		crypto_wipe(nk, sizeof(nk));
		cs_error(r, KF__KF_ERR__ERR_INTERNAL, "cannot derive the "
		    "network key");
		return;
	}
	crypto_wipe(nk, sizeof(nk));
	rc = db_client_add(r->cs->db, &c);
	if (rc != DB_OK) {
		cs_error(r, rc == DB_EXISTS ? KF__KF_ERR__ERR_EXISTS :
		    KF__KF_ERR__ERR_DB, rc == DB_EXISTS ? "a client named %s "
		    "already exists" : "cannot add client %s", a->name);
		return;
	}
	log_info("added client %s (id %lld)", c.name, (long long)c.id);
	ci.id = (uint64_t)c.id;
	ci.name = c.name;
	ci.connected = 0;
	ci.created_us = util_now_us();
	cs_reply(r, KF__MSG_TYPE__CLIENT_INFO, &ci.base);
}

static void
client_row(void *arg, const struct db_client *c)
{
	rows_push(arg, c);
}

void
admin_client_list(struct req *r)
{
	Kf__ClientListReply	  rep = KF__CLIENT_LIST_REPLY__INIT;
	struct rows		  rows = { .size = sizeof(struct db_client) };
	struct db_client	 *c;
	Kf__ClientInfo		 *infos = NULL, **items = NULL;
	size_t			  i;

	if (db_client_list(r->cs->db, client_row, &rows) != DB_OK) {
		cs_error(r, KF__KF_ERR__ERR_DB, "%s", db_errmsg(r->cs->db));
		goto done;
	}
	if (rows_reply_arrays(&rows, sizeof(*infos), (void **)&infos,
	    (void ***)&items) == -1) {
		cs_error(r, KF__KF_ERR__ERR_INTERNAL, "out of memory");
		goto done;
	}
	for (i = 0; i < rows.n; i++) {
		c = (struct db_client *)rows.v + i;
		kf__client_info__init(&infos[i]);
		infos[i].id = (uint64_t)c->id;
		infos[i].name = c->name;
		infos[i].connected = peers_alive(peers_find(r->cs, PEER_CLIENT,
		    c->name));
		infos[i].has_last_seen_us = c->last_seen_us > 0;
		infos[i].last_seen_us = c->last_seen_us;
		infos[i].has_failed_auths = 1;
		infos[i].failed_auths = c->failed_auths;
		infos[i].created_us = c->created_us;
	}
	rep.n_clients = rows.n;
	rep.clients = items;
	cs_reply(r, KF__MSG_TYPE__CLIENT_LIST_REPLY, &rep.base);
done:
	rows_free(&rows);
	free(infos);
	free(items);
}

static void
ma_row(void *arg, const struct db_mediaagent *m)
{
	rows_push(arg, m);
}

void
admin_ma_list(struct req *r)
{
	Kf__MediaAgentListReply	  rep = KF__MEDIA_AGENT_LIST_REPLY__INIT;
	struct rows		  rows = { .size = sizeof(struct db_mediaagent) };
	struct db_mediaagent	 *m;
	Kf__MediaAgentInfo	 *infos = NULL, **items = NULL;
	size_t			  i;

	if (db_ma_list(r->cs->db, ma_row, &rows) != DB_OK) {
		cs_error(r, KF__KF_ERR__ERR_DB, "%s", db_errmsg(r->cs->db));
		goto done;
	}
	if (rows_reply_arrays(&rows, sizeof(*infos), (void **)&infos,
	    (void ***)&items) == -1) {
		cs_error(r, KF__KF_ERR__ERR_INTERNAL, "out of memory");
		goto done;
	}
	for (i = 0; i < rows.n; i++) {
		m = (struct db_mediaagent *)rows.v + i;
		kf__media_agent_info__init(&infos[i]);
		infos[i].name = m->name;
		infos[i].data_endpoint = m->data_endpoint;
		infos[i].connected = peers_alive(peers_find(r->cs,
		    PEER_MEDIAAGENT, m->name));
		infos[i].has_last_seen_us = m->last_seen_us > 0;
		infos[i].last_seen_us = m->last_seen_us;
		infos[i].curve_key = m->curve_key[0] != '\0' ?
		    m->curve_key : NULL;
	}
	rep.n_mediaagents = rows.n;
	rep.mediaagents = items;
	cs_reply(r, KF__MSG_TYPE__MA_LIST_REPLY, &rep.base);
done:
	rows_free(&rows);
	free(infos);
	free(items);
}

/*
 * Forget the CURVE key a MediaAgent name is pinned to (peers.c pins it):
 * the operator's answer when a MediaAgent's key was replaced on purpose.
 * The MediaAgent registered now keeps being served; the next registration
 * of the name pins the key it authenticates with.
 */
void
admin_ma_unpin(struct req *r)
{
	const Kf__MediaAgentUnpin *u;
	Kf__Ok			 ok = KF__OK__INIT;
	char			 old[DB_CURVE_KEY_MAX], msg[DB_TEXT_MAX];
	int			 rc;

	u = (const Kf__MediaAgentUnpin *)r->msg->body;
	if (!cs_name_valid(u->name)) {
		cs_error(r, KF__KF_ERR__ERR_INVALID, "invalid MediaAgent name: "
		    "use 1..%d letters, digits, '-', '_' or '.'", CS_NAME_MAX);
		return;
	}
	rc = db_ma_unpin(r->cs->db, u->name, old);
	if (rc == DB_NOT_FOUND) {
		cs_error(r, KF__KF_ERR__ERR_NOT_FOUND, "no MediaAgent named %s "
		    "(keyflow mediaagent list shows the known ones)", u->name);
		return;
	}
	if (rc != DB_OK) {
		cs_error(r, KF__KF_ERR__ERR_DB, "cannot unpin MediaAgent %s: "
		    "%s", u->name, db_errmsg(r->cs->db));
		return;
	}
	if (old[0] == '\0')
		(void)snprintf(msg, sizeof(msg), "MediaAgent %s was not pinned "
		    "to a CURVE key; its next registration with CURVE pins the "
		    "key it authenticates with", u->name);
	else
		(void)snprintf(msg, sizeof(msg), "MediaAgent %s is no longer "
		    "pinned to CURVE key %s; its next registration pins the "
		    "key it authenticates with", u->name, old);
	log_info("operator unpinned MediaAgent %s (was pinned to %s)",
	    u->name, old[0] != '\0' ? old : "no key");
	ok.message = msg;
	cs_reply(r, KF__MSG_TYPE__OK, &ok.base);
}

static void
kms_row(void *arg, const struct db_kms *k)
{
	rows_push(arg, k);
}

void
admin_kms_list(struct req *r)
{
	Kf__KmsListReply	 rep = KF__KMS_LIST_REPLY__INIT;
	struct rows		 rows = { .size = sizeof(struct db_kms) };
	struct db_kms		*k;
	Kf__KmsInfo		*infos = NULL, **items = NULL;
	size_t			 i;

	if (db_kms_list(r->cs->db, kms_row, &rows) != DB_OK) {
		cs_error(r, KF__KF_ERR__ERR_DB, "%s", db_errmsg(r->cs->db));
		goto done;
	}
	if (rows_reply_arrays(&rows, sizeof(*infos), (void **)&infos,
	    (void ***)&items) == -1) {
		cs_error(r, KF__KF_ERR__ERR_INTERNAL, "out of memory");
		goto done;
	}
	for (i = 0; i < rows.n; i++) {
		k = (struct db_kms *)rows.v + i;
		kf__kms_info__init(&infos[i]);
		kms_admin_fill_info(k, &infos[i]);
	}
	rep.n_servers = rows.n;
	rep.servers = items;
	cs_reply(r, KF__MSG_TYPE__KMS_LIST_REPLY, &rep.base);
done:
	rows_free(&rows);
	free(infos);
	free(items);
}

static void
event_row(void *arg, const struct db_event *e)
{
	rows_push(arg, e);
}

void
admin_trace_get(struct req *r)
{
	const Kf__TraceGet	 *g = (const Kf__TraceGet *)r->msg->body;
	Kf__TraceReply		  rep = KF__TRACE_REPLY__INIT;
	struct rows		  rows = { .size = sizeof(struct db_event) };
	struct db_event		 *e;
	Kf__TraceEvent		 *evs = NULL, **items = NULL;
	char			  tid[DB_NAME_MAX + 8];
	size_t			  i;

	if (g->has_job == (g->pool != NULL)) {
		cs_error(r, KF__KF_ERR__ERR_INVALID, "name either a job or a "
		    "pool");
		return;
	}
	if (g->has_job)
		snprintf(tid, sizeof(tid), "job/%llu",
		    (unsigned long long)g->job);
	else if (strlen(g->pool) > CS_NAME_MAX) {
		cs_error(r, KF__KF_ERR__ERR_INVALID, "pool name too long");
		return;
	} else
		snprintf(tid, sizeof(tid), "pool/%s", g->pool);
	events_flush(r->cs);
	if (db_events_get(r->cs->db, tid, event_row, &rows) != DB_OK) {
		cs_error(r, KF__KF_ERR__ERR_DB, "%s", db_errmsg(r->cs->db));
		goto done;
	}
	if (rows.n == 0) {
		cs_error(r, KF__KF_ERR__ERR_NOT_FOUND, "no trace events for %s",
		    tid);
		goto done;
	}
	if (rows_reply_arrays(&rows, sizeof(*evs), (void **)&evs,
	    (void ***)&items) == -1) {
		cs_error(r, KF__KF_ERR__ERR_INTERNAL, "out of memory");
		goto done;
	}
	for (i = 0; i < rows.n; i++) {
		e = (struct db_event *)rows.v + i;
		kf__trace_event__init(&evs[i]);
		evs[i].trace_id = e->trace_id;
		evs[i].flow = e->flow;
		evs[i].step = e->step;
		evs[i].actor = e->actor;
		evs[i].action = e->action;
		evs[i].peer = e->peer[0] != '\0' ? e->peer : NULL;
		evs[i].has_bytes = e->bytes > 0;
		evs[i].bytes = e->bytes;
		evs[i].ts_us = e->ts_us;
		evs[i].detail = e->detail[0] != '\0' ? e->detail : NULL;
	}
	rep.n_events = rows.n;
	rep.events = items;
	cs_reply(r, KF__MSG_TYPE__TRACE_REPLY, &rep.base);
done:
	rows_free(&rows);
	free(evs);
	free(items);
}
