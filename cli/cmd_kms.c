/*
 * cmd_kms.c - keyflow kms add / kms list: the key management servers that
 * hold storage pools' master keys.
 *
 * `kms add` registers a KMIP server: its address, the CA file that signs
 * its certificate, and the client certificate and unencrypted key that
 * CommServe presents to it.  The three paths are read by commserved, not by
 * this command, so a relative path is made absolute against the current
 * directory before it is sent (CommServe refuses relative ones).  CommServe
 * connects to the server before it stores anything and answers with the
 * negotiated KMIP version.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* PATH made absolute into buf (resolved when it exists here); -1 if not. */
static int
kms_abs_path(const char *path, char *buf, size_t cap)
{
	char	cwd[PATH_MAX], *real;
	int	n;

	if ((real = realpath(path, NULL)) != NULL) {
		n = snprintf(buf, cap, "%s", real);
		free(real);
	} else if (path[0] == '/')
		n = snprintf(buf, cap, "%s", path);
	else if (getcwd(cwd, sizeof(cwd)) != NULL)
		n = snprintf(buf, cap, "%s/%s", cwd, path);
	else
		return -1;
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

static void
kms_json(struct json *j, const void *item)
{
	const Kf__KmsInfo	*k = item;

	json_obj_begin(j);
	json_kstr(j, "name", k->name);
	json_kstr(j, "kind", k->kind);
	json_kstr(j, "address", k->address);
	json_kstr(j, "ca", k->ca);
	json_kstr(j, "cert", k->cert);
	json_kstr(j, "key", k->key);
	if (k->has_send_correlation)
		json_kbool(j, "send_correlation", k->send_correlation);
	json_kstr(j, "protocol_version", k->protocol_version);
	json_obj_end(j);
}

int
cmd_kms_add(struct cli *c, const struct cli_args *a)
{
	static const char *const opts[] = { "ca", "cert", "key" };
	Kf__KmsAdd	 req = KF__KMS_ADD__INIT;
	Kf__KmsInfo	*k;
	struct wire_msg	 m;
	char		 paths[3][CLI_PATH_MAX];
	char		*fields[3];
	size_t		 i;

	if (a->pos[0][0] == '\0')
		return cli_usage_error(c, "NAME must not be empty");
	if (cli_opt(a, "kmip")[0] == '\0')
		return cli_usage_error(c, "--kmip needs HOST:PORT");
	for (i = 0; i < 3; i++) {
		if (cli_opt(a, opts[i])[0] == '\0' ||
		    kms_abs_path(cli_opt(a, opts[i]), paths[i],
		    sizeof(paths[i])) == -1)
			return cli_usage_error(c, "--%s '%s' is not a usable "
			    "path", opts[i], cli_opt(a, opts[i]));
		fields[i] = paths[i];
	}
	req.name = a->pos[0];
	req.address = (char *)cli_opt(a, "kmip");
	req.ca = fields[0];
	req.cert = fields[1];
	req.key = fields[2];
	req.has_send_correlation = 1;
	req.send_correlation = !cli_flag(a, "no-correlation");
	if (cli_request(c, KF__MSG_TYPE__KMS_ADD, &req.base,
	    KF__MSG_TYPE__KMS_INFO, &m) == -1)
		return CLI_EXIT_FAIL;
	k = (Kf__KmsInfo *)m.body;
	if (c->json)
		out_json_item(kms_json, k);
	else
		out_line(stdout, "added KMIP server %s at %s (KMIP %s; Client "
		    "Correlation Value %s)", k->name, k->address ? k->address :
		    "?", k->protocol_version ? k->protocol_version : "?",
		    k->send_correlation ? "sent from KMIP 1.4 on" : "not sent");
	wire_msg_clear(&m);
	return CLI_EXIT_OK;
}

static void
kms_row(struct table *t, const void *item)
{
	const Kf__KmsInfo	*k = item;

	table_add(t, k->name);
	table_add(t, k->kind);
	table_add(t, k->address);
	table_add(t, !k->has_send_correlation ? NULL :
	    k->send_correlation ? "sent" : "not sent");
	table_add(t, k->cert);
}

int
cmd_kms_list(struct cli *c, const struct cli_args *a)
{
	static const struct cli_list_view view = {
		KF__MSG_TYPE__KMS_LIST, KF__MSG_TYPE__KMS_LIST_REPLY,
		"no key management servers", 5,
		{ "NAME", "KIND", "ADDRESS", "CORRELATION", "CLIENT CERT" },
		kms_json, kms_row
	};

	(void)a;
	return cli_list(c, &view, 0);
}
