/*
 * cmd_pool.c - keyflow pool create / pool list.
 *
 * Creating a storage pool runs the seed's Storage Pool Creation flow inside
 * CommServe (KEK generated, master key created on the KMS, KEK encrypted
 * under it, master key id and encrypted KEK stored); the CLI sends one
 * POOL_CREATE and prints the POOL_INFO it gets back.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void
pool_json(struct json *j, const void *item)
{
	const Kf__PoolInfo	*p = item;

	json_obj_begin(j);
	json_ku64(j, "id", p->id);
	json_kstr(j, "name", p->name);
	json_kstr(j, "mediaagent", p->mediaagent);
	json_kstr(j, "mount_path", p->mount_path);
	json_kstr(j, "kms", p->kms);
	json_kstr(j, "master_key_id", p->master_key_id);
	json_ku64(j, "key_set_id", p->key_set_id);
	json_ktime(j, "created", p->created_us);
	json_obj_end(j);
}

int
cmd_pool_create(struct cli *c, const struct cli_args *a)
{
	Kf__PoolCreate	 req = KF__POOL_CREATE__INIT;
	Kf__PoolInfo	*p;
	struct wire_msg	 m;
	const char	*mount = cli_opt(a, "mount");

	if (a->pos[0][0] == '\0')
		return cli_usage_error(c, "NAME must not be empty");
	if (mount != NULL && mount[0] != '/')
		return cli_usage_error(c, "--mount '%s' must be an absolute "
		    "path on the MediaAgent", mount);
	req.name = a->pos[0];
	req.mediaagent = (char *)cli_opt(a, "mediaagent");
	req.mount_path = (char *)mount;
	req.kms = (char *)cli_opt(a, "kms");
	if (cli_request(c, KF__MSG_TYPE__POOL_CREATE, &req.base,
	    KF__MSG_TYPE__POOL_INFO, &m) == -1)
		return CLI_EXIT_FAIL;
	p = (Kf__PoolInfo *)m.body;
	if (c->json)
		out_json_item(pool_json, p);
	else
		out_line(stdout, "created storage pool %s (id %llu) on "
		    "MediaAgent %s at %s; master key %s on KMS %s", p->name,
		    (unsigned long long)p->id, p->mediaagent, p->mount_path,
		    p->master_key_id, p->kms);
	wire_msg_clear(&m);
	return CLI_EXIT_OK;
}

static void
pool_row(struct table *t, const void *item)
{
	const Kf__PoolInfo	*p = item;
	char			 tb[64];

	table_addf(t, "%llu", (unsigned long long)p->id);
	table_add(t, p->name);
	table_add(t, p->mediaagent);
	table_add(t, p->mount_path);
	table_add(t, p->kms);
	table_add(t, p->master_key_id);
	table_addf(t, "%llu", (unsigned long long)p->key_set_id);
	table_add(t, out_time(p->created_us, tb, sizeof(tb)));
}

int
cmd_pool_list(struct cli *c, const struct cli_args *a)
{
	static const struct cli_list_view view = {
		KF__MSG_TYPE__POOL_LIST, KF__MSG_TYPE__POOL_LIST_REPLY,
		"no storage pools", 8,
		{ ">ID", "NAME", "MEDIAAGENT", "MOUNT PATH", "KMS",
		  "MASTER KEY ID", ">KEY SET", "CREATED" },
		pool_json, pool_row
	};

	return cli_list(c, &view, 0);
}
