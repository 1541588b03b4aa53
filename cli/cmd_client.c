/*
 * cmd_client.c - keyflow client add / client list and mediaagent list /
 * unpin: registering a client's network password with CommServe, the
 * tables of the parties CommServe knows (kms list is in cmd_kms.c), and
 * clearing the CURVE key a MediaAgent name is pinned to.
 *
 * The network password is the secret that protects every DEK CommServe
 * sends the client (seed backup step 3, restore step 5).  It is read from a
 * file (never from argv, where ps(1) would show it), sent once, and wiped
 * from our memory before anything else happens.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "conf.h"
#include "crypto.h"

#define PASSWORD_MAX	1024

static void
client_json(struct json *j, const void *item)
{
	const Kf__ClientInfo	*ci = item;

	json_obj_begin(j);
	json_ku64(j, "id", ci->id);
	json_kstr(j, "name", ci->name);
	json_kbool(j, "connected", ci->connected);
	if (ci->has_last_seen_us)
		json_ktime(j, "last_seen", ci->last_seen_us);
	json_ku64(j, "failed_auths", ci->has_failed_auths ?
	    ci->failed_auths : 0);
	json_ktime(j, "created", ci->created_us);
	json_obj_end(j);
}

int
cmd_client_add(struct cli *c, const struct cli_args *a)
{
	Kf__ClientAdd	 req = KF__CLIENT_ADD__INIT;
	Kf__ClientInfo	*ci;
	struct wire_msg	 m;
	uint8_t		 pw[PASSWORD_MAX];
	const char	*file = cli_opt(a, "password-file");
	long		 n;
	int		 rc;

	if (a->pos[0][0] == '\0')
		return cli_usage_error(c, "NAME must not be empty");
	/* conf_read_secret says why on stderr, and wipes pw on failure. */
	if ((n = conf_read_secret(file, pw, sizeof(pw))) == -1)
		return cli_fail("no password read from %s; client %s not "
		    "added", file, a->pos[0]);
	req.name = a->pos[0];
	req.password.data = pw;
	req.password.len = (size_t)n;
	rc = cli_request(c, KF__MSG_TYPE__CLIENT_ADD, &req.base,
	    KF__MSG_TYPE__CLIENT_INFO, &m);
	crypto_wipe(pw, sizeof(pw));
	if (rc == -1)
		return CLI_EXIT_FAIL;
	ci = (Kf__ClientInfo *)m.body;
	if (c->json)
		out_json_item(client_json, ci);
	else
		out_line(stdout, "added client %s (id %llu)", ci->name,
		    (unsigned long long)ci->id);
	wire_msg_clear(&m);
	return CLI_EXIT_OK;
}

static void
client_row(struct table *t, const void *item)
{
	const Kf__ClientInfo	*ci = item;
	char			 tb[64];

	table_addf(t, "%llu", (unsigned long long)ci->id);
	table_add(t, ci->name);
	table_add(t, ci->connected ? "yes" : "no");
	table_add(t, out_time(ci->has_last_seen_us ? ci->last_seen_us : 0,
	    tb, sizeof(tb)));
	table_addf(t, "%u", ci->has_failed_auths ? ci->failed_auths : 0);
	table_add(t, out_time(ci->created_us, tb, sizeof(tb)));
}

int
cmd_client_list(struct cli *c, const struct cli_args *a)
{
	static const struct cli_list_view view = {
		KF__MSG_TYPE__CLIENT_LIST, KF__MSG_TYPE__CLIENT_LIST_REPLY,
		"no clients", 6,
		{ ">ID", "NAME", "CONNECTED", "LAST SEEN", ">FAILED AUTHS",
		  "CREATED" },
		client_json, client_row
	};

	return cli_list(c, &view, 0);
}

static void
ma_json(struct json *j, const void *item)
{
	const Kf__MediaAgentInfo	*ma = item;

	json_obj_begin(j);
	json_kstr(j, "name", ma->name);
	json_kstr(j, "data_endpoint", ma->data_endpoint);
	json_kbool(j, "connected", ma->connected);
	if (ma->has_last_seen_us)
		json_ktime(j, "last_seen", ma->last_seen_us);
	json_key(j, "curve_key");
	json_str(j, ma->curve_key);	/* null: not pinned */
	json_obj_end(j);
}

static void
ma_row(struct table *t, const void *item)
{
	const Kf__MediaAgentInfo	*ma = item;
	char				 tb[64];

	table_add(t, ma->name);
	table_add(t, ma->data_endpoint);
	table_add(t, ma->connected ? "yes" : "no");
	table_add(t, out_time(ma->has_last_seen_us ? ma->last_seen_us : 0,
	    tb, sizeof(tb)));
	/* Enough to tell keys apart; --json has the whole key. */
	if (ma->curve_key != NULL && ma->curve_key[0] != '\0')
		table_addf(t, "%.8s\u2026", ma->curve_key);
	else
		table_add(t, NULL);
}

int
cmd_ma_list(struct cli *c, const struct cli_args *a)
{
	static const struct cli_list_view view = {
		KF__MSG_TYPE__MA_LIST, KF__MSG_TYPE__MA_LIST_REPLY,
		"no MediaAgents", 5,
		{ "NAME", "ENDPOINT", "CONNECTED", "LAST SEEN", "CURVE KEY" },
		ma_json, ma_row
	};

	return cli_list(c, &view, 0);
}

int
cmd_ma_unpin(struct cli *c, const struct cli_args *a)
{
	Kf__MediaAgentUnpin	 req = KF__MEDIA_AGENT_UNPIN__INIT;
	Kf__Ok			*ok;
	struct wire_msg		 m;
	struct json		 j;

	if (a->pos[0][0] == '\0')
		return cli_usage_error(c, "NAME must not be empty");
	req.name = a->pos[0];
	if (cli_request(c, KF__MSG_TYPE__MA_UNPIN, &req.base,
	    KF__MSG_TYPE__OK, &m) == -1)
		return CLI_EXIT_FAIL;
	ok = (Kf__Ok *)m.body;
	if (c->json) {
		json_init(&j, stdout);
		json_obj_begin(&j);
		json_kstr(&j, "name", a->pos[0]);
		json_kstr(&j, "message", ok->message);
		json_obj_end(&j);
		json_finish(&j);
	} else
		out_line(stdout, "%s", ok->message != NULL ? ok->message :
		    "unpinned");
	wire_msg_clear(&m);
	return CLI_EXIT_OK;
}
