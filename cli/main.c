/*
 * main.c - keyflow, the operator's command line: global options, the
 * command table, and the generic argument checks.
 *
 * Every command is one row of `commands`: its words, its handler, how many
 * positional arguments it takes, its options and its synopsis.  The
 * synopsis is the single source of the usage text and of the names used in
 * "missing CLIENT" messages, so --help cannot drift from what is parsed.
 * Like Redis's processCommand, the checks every command needs (unknown
 * command or option, a value missing, an option given twice, a required
 * option absent, too few or too many arguments) happen here, once, before
 * any handler runs.  Global options may come before or after the command.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "conf.h"
#include "curve.h"
#include "load.h"
#include "log.h"

static int	cmd_help(struct cli *, const struct cli_args *);

static const struct cli_optdef no_opts[] = {
	{ NULL, CLI_FLAG, 0 }
};
static const struct cli_optdef pool_create_opts[] = {
	{ "mediaagent", CLI_VALUE, 1 },
	{ "mount", CLI_VALUE, 0 },
	{ "kms", CLI_VALUE, 0 },
	{ NULL, CLI_FLAG, 0 }
};
static const struct cli_optdef client_add_opts[] = {
	{ "password-file", CLI_VALUE, 1 },
	{ NULL, CLI_FLAG, 0 }
};
static const struct cli_optdef kms_add_opts[] = {
	{ "kmip", CLI_VALUE, 1 },
	{ "ca", CLI_VALUE, 1 },
	{ "cert", CLI_VALUE, 1 },
	{ "key", CLI_VALUE, 1 },
	{ "no-correlation", CLI_FLAG, 0 },
	{ NULL, CLI_FLAG, 0 }
};
static const struct cli_optdef backup_opts[] = {
	{ "chunk-size", CLI_VALUE, 0 },
	{ "streams", CLI_VALUE, 0 },
	{ "no-wait", CLI_FLAG, 0 },
	{ NULL, CLI_FLAG, 0 }
};
static const struct cli_optdef restore_opts[] = {
	{ "to", CLI_VALUE, 1 },
	{ "client", CLI_VALUE, 0 },
	{ "path", CLI_LIST, 0 },
	{ "overwrite", CLI_FLAG, 0 },
	{ "no-wait", CLI_FLAG, 0 },
	{ NULL, CLI_FLAG, 0 }
};
static const struct cli_optdef verify_opts[] = {
	{ "decrypt", CLI_FLAG, 0 },
	{ "client", CLI_VALUE, 0 },
	{ NULL, CLI_FLAG, 0 }
};
static const struct cli_optdef jobs_opts[] = {
	{ "limit", CLI_VALUE, 0 },
	{ NULL, CLI_FLAG, 0 }
};
static const struct cli_optdef trace_opts[] = {
	{ "pool", CLI_VALUE, 0 },
	{ NULL, CLI_FLAG, 0 }
};
static const struct cli_optdef load_opts[] = {
	{ "clients", CLI_VALUE, 0 },
	{ "jobs", CLI_VALUE, 0 },
	{ "size", CLI_VALUE, 0 },
	{ "files", CLI_VALUE, 0 },
	{ "streams", CLI_VALUE, 0 },
	{ "restore", CLI_FLAG, 0 },
	{ "duration", CLI_VALUE, 0 },
	{ "pool", CLI_VALUE, 0 },
	{ "csv", CLI_VALUE, 0 },
	{ "plot", CLI_VALUE, 0 },
	{ NULL, CLI_FLAG, 0 }
};

static const struct cli_command commands[] = {
	{ "pool", "create", cmd_pool_create, 1, 1, pool_create_opts,
	  "pool create NAME --mediaagent MA [--mount PATH] [--kms NAME]", NULL,
	  "Create a storage pool on MediaAgent MA (mount PATH there, default "
	  "<mount root>/NAME) with a new master key on KMS NAME (default: the "
	  "built-in KMS)." },
	{ "pool", "list", cmd_pool_list, 0, 0, no_opts,
	  "pool list", NULL,
	  "List storage pools with their MediaAgent, KMS and master key id." },
	{ "client", "add", cmd_client_add, 1, 1, client_add_opts,
	  "client add NAME --password-file FILE", NULL,
	  "Register a client; FILE holds its network password (at most 1024 "
	  "bytes, trailing newlines ignored)." },
	{ "client", "list", cmd_client_list, 0, 0, no_opts,
	  "client list", NULL,
	  "List clients: connected, last seen, failed authentications." },
	{ "mediaagent", "list", cmd_ma_list, 0, 0, no_opts,
	  "mediaagent list", NULL,
	  "List MediaAgents: data endpoint, connected, last seen, and the "
	  "CURVE key the name is pinned to (its first 8 characters; --json: "
	  "the whole key, null when none)." },
	{ "mediaagent", "unpin", cmd_ma_unpin, 1, 1, no_opts,
	  "mediaagent unpin NAME", NULL,
	  "Clear the CURVE key MediaAgent NAME is pinned to (with CURVE on, "
	  "the key it first registered with; another key is refused), after "
	  "replacing its key on purpose: its next registration pins the key "
	  "it authenticates with." },
	{ "kms", "add", cmd_kms_add, 1, 1, kms_add_opts,
	  "kms add NAME --kmip HOST:PORT --ca CA.pem --cert CERT.pem --key "
	  "KEY.pem [--no-correlation]", NULL,
	  "Register a KMIP key management server: CommServe verifies it "
	  "against CA.pem, presents CERT.pem and the unencrypted KEY.pem (paths "
	  "on the CommServe host), and sends the trace id as Client "
	  "Correlation Value unless told not to (PyKMIP refuses it)." },
	{ "kms", "list", cmd_kms_list, 0, 0, no_opts,
	  "kms list", NULL,
	  "List key management servers (built-in and KMIP)." },
	{ "backup", NULL, cmd_backup, 3, -1, backup_opts,
	  "backup CLIENT POOL PATH... [--chunk-size SIZE] [--streams N] "
	  "[--no-wait]", NULL,
	  "Back up absolute PATHs on CLIENT into POOL and follow the job (SIZE "
	  "4K..16M, default 1M;\n      N data streams, that is connections to "
	  "the MediaAgent, 1..16, default 1);\n      the last stdout line is "
	  "the job id." },
	{ "restore", NULL, cmd_restore, 1, 1, restore_opts,
	  "restore JOB --to DIR [--client NAME] [--path P]... [--overwrite] "
	  "[--no-wait]", NULL,
	  "Restore backup job JOB into absolute directory DIR on the client "
	  "that backed it up (or NAME); only paths P if given." },
	{ "verify", NULL, cmd_verify, 1, 1, verify_opts,
	  "verify JOB [--decrypt [--client NAME]]", NULL,
	  "Check backup job JOB's stored container without keys (every "
	  "frame's CRCs, order and lengths); with --decrypt also open every "
	  "chunk and check every file's SHA-256 on the client, writing "
	  "nothing." },
	{ "jobs", NULL, cmd_jobs, 0, 0, jobs_opts,
	  "jobs [--limit N]", NULL,
	  "List the most recent jobs." },
	{ "job", NULL, cmd_job, 1, 1, no_opts,
	  "job ID", NULL,
	  "Show every field of one job." },
	{ "trace", NULL, cmd_trace, 0, 1, trace_opts,
	  "trace JOB", "trace --pool NAME",
	  "Show a job's (or a storage pool creation's) data flow step by "
	  "step, as the seed numbers it, from the events every actor "
	  "reported." },
	{ "keygen", NULL, cmd_keygen, 1, 1, no_opts,
	  "keygen DIR", NULL,
	  "Create a CURVE key pair in DIR (curve.key, 0600, and curve.pub) "
	  "unless one is there, and print its public key; needs no "
	  "CommServe." },
	{ "load", NULL, cmd_load, 0, 0, load_opts,
	  "load [--clients N] [--jobs M] [--size BYTES] [--files K] "
	  "[--streams S] [--restore] [--duration T] [--pool NAME] "
	  "[--csv FILE] [--plot FILE.svg]", NULL,
	  "Put the running stack under load: register N load clients "
	  "(default 1)\n      and start a clientd for each ($KEYFLOW_CLIENTD, "
	  "else the one next to\n      keyflow, else on PATH), back up "
	  "a data set of BYTES random bytes\n      (default 1M) in K files "
	  "(default 1) M times per client (clients at once,\n      each "
	  "client's jobs in turn) into storage pool NAME (default \"load\", "
	  "made\n      on the first MediaAgent if missing), with S data "
	  "streams (default 1); with --restore\n      restore each backup and compare it "
	  "byte for byte.  --duration T (90, 90s,\n      15m, 2h) stops "
	  "starting jobs after T.  Shows progress on stderr, then\n      "
	  "reports throughput, job latency p50/p95/p99, seed step times (from "
	  "the\n      trace events), CPU and memory per daemon and errors by "
	  "code (--json: as\n      JSON).  Daemons are found in /proc: "
	  "commserved, mediaagentd and kmsd\n      processes whose command "
	  "line or environment names this CommServe's\n      endpoint "
	  "(kmsd: its event endpoint), and the clientd processes load\n      "
	  "started.  --csv FILE: the per-second time series; --plot FILE.svg: "
	  "a\n      chart of throughput over time and of the latency "
	  "distribution.  Load\n      clients, their processes and the "
	  "scratch data (under $TMPDIR, else /tmp)\n      are removed at "
	  "the end and on Ctrl-C.  Exit 0 only if every job succeeded." },
	{ "help", NULL, cmd_help, 0, 2, no_opts,
	  "help [COMMAND]", NULL,
	  "Show this help, or one command's." },
};

#define NCOMMANDS	(sizeof(commands) / sizeof(commands[0]))
#define SYNOPSIS	\
	"keyflow [--commserve EP] [--curve-dir DIR --commserve-key KEY] " \
	"[--json]\n               [--timeout SECONDS] COMMAND [ARGS]"

static void
print_command(FILE *f, const struct cli_command *cmd, int verbose)
{
	fprintf(f, "  keyflow %s\n", cmd->usage);
	if (cmd->usage2 != NULL)
		fprintf(f, "  keyflow %s\n", cmd->usage2);
	if (verbose)
		fprintf(f, "      %s\n", cmd->help);
}

static void
print_usage(FILE *f, int verbose)
{
	size_t	i;

	fprintf(f, "usage: %s\n", SYNOPSIS);
	if (verbose)
		fprintf(f, "\ncommands:\n");
	for (i = 0; i < NCOMMANDS; i++)
		print_command(f, &commands[i], verbose);
	if (!verbose)
		return;
	fprintf(f, "\noptions (before or after the command):\n"
	    "  --commserve EP     CommServe endpoint (default: "
	    "$KEYFLOW_COMMSERVE, else %s)\n"
	    "  --curve-dir DIR    this operator's CURVE key pair (created if "
	    "missing; its\n"
	    "                     curve.pub must be in CommServe's trust "
	    "directory)\n"
	    "                     (default: $KEYFLOW_CURVE_DIR, else "
	    "plaintext)\n"
	    "  --commserve-key K  CommServe's CURVE public key, Z85 or a "
	    "curve.pub file\n"
	    "                     (default: $KEYFLOW_COMMSERVE_KEY)\n"
	    "  --json             print one JSON document on stdout "
	    "(objects for one result, arrays for lists)\n"
	    "  --timeout SECONDS  wait at most this long for each reply "
	    "(default: $KEYFLOW_TIMEOUT, else %d)\n"
	    "  -h, --help         this help; keyflow COMMAND --help for one "
	    "command\n"
	    "\nResults go to stdout, progress and errors to stderr.\n"
	    "Exit status: 0 on success, 1 on failure, 2 on a usage error.\n",
	    CLI_DEFAULT_ENDPOINT, CLI_DEFAULT_TIMEOUT);
}

/* Every command of a group ("pool"), or just cmd when it has no verb. */
static void
print_group(FILE *f, const struct cli_command *cmd, int verbose)
{
	size_t	i;
	int	first = 1;

	for (i = 0; i < NCOMMANDS; i++) {
		if (strcmp(commands[i].group, cmd->group) != 0)
			continue;
		fprintf(f, "%s", first ? "usage:\n" : "");
		first = 0;
		print_command(f, &commands[i], verbose);
	}
}

int
cli_usage_error(struct cli *c, const char *fmt, ...)
{
	va_list	ap;

	fputs("keyflow: ", stderr);
	if (c->cmd != NULL)
		fprintf(stderr, "%s%s%s: ", c->cmd->group,
		    c->cmd->verb ? " " : "", c->cmd->verb ? c->cmd->verb : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (c->cmd != NULL) {
		fprintf(stderr, "usage: keyflow %s\n", c->cmd->usage);
		if (c->cmd->usage2 != NULL)
			fprintf(stderr, "       keyflow %s\n", c->cmd->usage2);
	} else
		print_usage(stderr, 0);
	return CLI_EXIT_USAGE;
}

int
cli_fail(const char *fmt, ...)
{
	va_list	ap;

	fputs("keyflow: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CLI_EXIT_FAIL;
}

/* A job or other numeric id; -1 after a usage error. */
int
cli_parse_id(struct cli *c, const char *what, const char *s, uint64_t *out)
{
	if (conf_parse_u64(s, 1, UINT64_MAX, out) == 0)
		return 0;
	cli_usage_error(c, "%s must be a positive integer, not '%s'", what, s);
	return -1;
}

static int
opt_index(const struct cli_args *a, const char *name)
{
	int	i;

	for (i = 0; a->defs[i].name != NULL; i++)
		if (strcmp(a->defs[i].name, name) == 0)
			return i;
	return -1;
}

const char *
cli_opt(const struct cli_args *a, const char *name)
{
	int	i = opt_index(a, name);

	return i >= 0 ? a->value[i] : NULL;
}

int
cli_flag(const struct cli_args *a, const char *name)
{
	int	i = opt_index(a, name);

	return i >= 0 && a->count[i] > 0;
}

char **
cli_optlist(const struct cli_args *a, const char *name, int *n)
{
	int	i = opt_index(a, name);

	*n = i >= 0 ? a->count[i] : 0;
	return i >= 0 ? a->list[i] : NULL;
}

/*
 * The name of positional argument k, from the synopsis: "backup CLIENT POOL
 * PATH..." names them CLIENT, POOL, PATH (and PATH again after that).
 */
static void
pos_name(const struct cli_command *cmd, int k, char *buf, size_t cap)
{
	const char	*p = cmd->usage, *w;
	size_t		 len;
	int		 skip = cmd->verb ? 2 : 1;

	snprintf(buf, cap, "an argument");
	while (*p != '\0') {
		p += strspn(p, " ");
		w = p;
		len = strcspn(p, " ");
		p += len;
		if (skip > 0) {
			skip--;
			continue;
		}
		if (len == 0 || *w == '[' || *w == '-')
			return;
		if (len > 3 && strncmp(w + len - 3, "...", 3) == 0) {
			snprintf(buf, cap, "%.*s", (int)(len - 3), w);
			return;
		}
		if (k-- == 0) {
			snprintf(buf, cap, "%.*s", (int)len, w);
			return;
		}
	}
}

/*
 * --commserve, --json, --timeout, --curve-dir, --commserve-key: 1 if name
 * was one, -1 on a bad value.
 */
static int
global_opt(struct cli *c, const char *name, const char *val, int argc,
    char **argv, int *i)
{
	uint64_t	t;

	if (strcmp(name, "json") == 0) {
		if (val != NULL)
			return cli_usage_error(c, "--json takes no value"), -1;
		c->json = 1;
		return 1;
	}
	if (strcmp(name, "commserve") != 0 && strcmp(name, "timeout") != 0 &&
	    strcmp(name, "curve-dir") != 0 &&
	    strcmp(name, "commserve-key") != 0)
		return 0;
	if (val == NULL && (val = (*i + 1 < argc ? argv[++*i] : NULL)) == NULL)
		return cli_usage_error(c, "--%s needs a value", name), -1;
	if (strcmp(name, "curve-dir") == 0) {
		c->curve_dir = val;
		return 1;
	}
	if (strcmp(name, "commserve-key") == 0) {
		c->commserve_key = val;
		return 1;
	}
	if (name[0] == 'c') {
		if (conf_endpoint_valid(val) == -1)
			return cli_usage_error(c, "--commserve '%s' is not a "
			    "ZeroMQ endpoint such as %s", val,
			    CLI_DEFAULT_ENDPOINT), -1;
		c->endpoint = val;
		return 1;
	}
	if (conf_parse_u64(val, 1, CLI_TIMEOUT_MAX, &t) == -1)
		return cli_usage_error(c, "--timeout must be whole seconds "
		    "from 1 to %d, not '%s'", CLI_TIMEOUT_MAX, val), -1;
	c->timeout_s = (unsigned)t;
	return 1;
}

/* One option of the running command; -1 after a usage error. */
static int
command_opt(struct cli *c, struct cli_args *a, const char *name,
    const char *val, int argc, char **argv, int *i)
{
	char	**n;
	int	  k;

	if ((k = opt_index(a, name)) == -1)
		return cli_usage_error(c, "unknown option --%s", name), -1;
	if (a->defs[k].kind == CLI_FLAG) {
		if (val != NULL)
			return cli_usage_error(c, "--%s takes no value",
			    name), -1;
		a->count[k]++;
		return 0;
	}
	if (val == NULL && (val = (*i + 1 < argc ? argv[++*i] : NULL)) == NULL)
		return cli_usage_error(c, "--%s needs a value", name), -1;
	if (a->defs[k].kind == CLI_VALUE) {
		if (a->count[k] > 0)
			return cli_usage_error(c, "--%s given twice", name), -1;
		a->value[k] = val;
	} else {
		if ((n = reallocarray(a->list[k], a->count[k] + 1,
		    sizeof(*n))) == NULL)
			return cli_fail("out of memory"), -1;
		a->list[k] = n;
		n[a->count[k]] = (char *)val;
	}
	a->count[k]++;
	return 0;
}

/*
 * Parse argv[*i..] into a.  With stop (the global part, before the
 * command) it stops at the first word that is not an option.  Sets *help
 * on -h/--help.  0 or -1 after a usage error.
 */
static int
parse(struct cli *c, struct cli_args *a, int argc, char **argv, int *i,
    int stop, int *help)
{
	const char	*arg, *eq;
	char		 name[64];
	int		 dashdash = 0, r;

	for (; *i < argc; (*i)++) {
		arg = argv[*i];
		if (dashdash || arg[0] != '-' || arg[1] == '\0') {
			if (stop)
				return 0;
			a->pos[a->npos++] = (char *)arg;
			continue;
		}
		if (strcmp(arg, "--") == 0) {
			dashdash = 1;
			if (stop) {
				(*i)++;
				return 0;
			}
			continue;
		}
		if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
			*help = 1;
			continue;
		}
		if (arg[1] != '-')
			return cli_usage_error(c, "unknown option %s", arg), -1;
		eq = strchr(arg + 2, '=');
		snprintf(name, sizeof(name), "%.*s",
		    (int)(eq ? eq - (arg + 2) : (ptrdiff_t)strlen(arg + 2)),
		    arg + 2);
		if ((r = global_opt(c, name, eq ? eq + 1 : NULL, argc, argv,
		    i)) == -1)
			return -1;
		if (r == 1)
			continue;
		if (stop)
			return cli_usage_error(c, "unknown option %s "
			    "(command options go after the command)", arg), -1;
		if (command_opt(c, a, name, eq ? eq + 1 : NULL, argc, argv,
		    i) == -1)
			return -1;
	}
	return 0;
}

/* Find the command named by argv[*i] (and argv[*i + 1]). */
static const struct cli_command *
lookup(struct cli *c, int argc, char **argv, int *i, int *rc)
{
	const struct cli_command	*group = NULL;
	const char			*word = argv[*i], *verb;
	size_t				 k;

	*rc = CLI_EXIT_USAGE;
	for (k = 0; k < NCOMMANDS; k++) {
		if (strcmp(commands[k].group, word) != 0)
			continue;
		if (commands[k].verb == NULL) {
			(*i)++;
			return &commands[k];
		}
		group = &commands[k];
		break;
	}
	if (group == NULL) {
		cli_usage_error(c, "unknown command '%s'", word);
		return NULL;
	}
	verb = *i + 1 < argc ? argv[*i + 1] : NULL;
	if (verb != NULL && (strcmp(verb, "--help") == 0 ||
	    strcmp(verb, "-h") == 0)) {
		print_group(stdout, group, 1);
		*rc = CLI_EXIT_OK;
		return NULL;
	}
	for (k = 0; verb != NULL && k < NCOMMANDS; k++)
		if (strcmp(commands[k].group, word) == 0 &&
		    strcmp(commands[k].verb, verb) == 0) {
			*i += 2;
			return &commands[k];
		}
	if (verb != NULL)
		fprintf(stderr, "keyflow: %s: unknown subcommand '%s'\n", word,
		    verb);
	else
		fprintf(stderr, "keyflow: %s: missing subcommand\n", word);
	print_group(stderr, group, 0);
	return NULL;
}

static int
cmd_help(struct cli *c, const struct cli_args *a)
{
	size_t	k;

	if (a->npos == 0) {
		print_usage(stdout, 1);
		return CLI_EXIT_OK;
	}
	for (k = 0; k < NCOMMANDS; k++)
		if (strcmp(commands[k].group, a->pos[0]) == 0) {
			print_group(stdout, &commands[k], 1);
			return CLI_EXIT_OK;
		}
	return cli_usage_error(c, "unknown command '%s'", a->pos[0]);
}

/* Environment defaults for what no flag set; -1 after a usage error. */
static int
apply_env(struct cli *c)
{
	const char	*v;
	uint64_t	 t;

	c->cmd = NULL;
	if (c->endpoint == NULL) {
		c->endpoint = conf_env("KEYFLOW_COMMSERVE",
		    CLI_DEFAULT_ENDPOINT);
		if (conf_endpoint_valid(c->endpoint) == -1)
			return cli_usage_error(c, "KEYFLOW_COMMSERVE '%s' is "
			    "not a ZeroMQ endpoint", c->endpoint), -1;
	}
	if (c->curve_dir == NULL)
		c->curve_dir = conf_env("KEYFLOW_CURVE_DIR", NULL);
	if (c->commserve_key == NULL)
		c->commserve_key = conf_env("KEYFLOW_COMMSERVE_KEY", NULL);
	if (c->timeout_s == 0) {
		c->timeout_s = CLI_DEFAULT_TIMEOUT;
		if ((v = conf_env("KEYFLOW_TIMEOUT", NULL)) != NULL) {
			if (conf_parse_u64(v, 1, CLI_TIMEOUT_MAX, &t) == -1)
				return cli_usage_error(c, "KEYFLOW_TIMEOUT "
				    "must be whole seconds from 1 to %d, not "
				    "'%s'", CLI_TIMEOUT_MAX, v), -1;
			c->timeout_s = (unsigned)t;
		}
	}
	return 0;
}

static void
args_free(struct cli_args *a)
{
	int	k;

	for (k = 0; k < CLI_OPTS_MAX; k++)
		free(a->list[k]);
	free(a->pos);
	memset(a, 0, sizeof(*a));
}

/* The generic checks on a parsed command line; -1 after a usage error. */
static int
check_args(struct cli *c, const struct cli_command *cmd,
    const struct cli_args *a)
{
	char	name[64];
	int	k;

	if (a->npos < cmd->minpos) {
		pos_name(cmd, a->npos, name, sizeof(name));
		return cli_usage_error(c, "missing %s", name), -1;
	}
	if (cmd->maxpos >= 0 && a->npos > cmd->maxpos)
		return cli_usage_error(c, "unexpected argument '%s'",
		    a->pos[cmd->maxpos]), -1;
	for (k = 0; cmd->opts[k].name != NULL; k++)
		if (cmd->opts[k].required && a->count[k] == 0)
			return cli_usage_error(c, "--%s is required",
			    cmd->opts[k].name), -1;
	return 0;
}

int
main(int argc, char **argv)
{
	struct cli			 c;
	struct cli_args			 a;
	const struct cli_command	*cmd;
	int				 i = 1, help = 0, rc = CLI_EXIT_USAGE;

	memset(&c, 0, sizeof(c));
	memset(&a, 0, sizeof(a));
	log_init("keyflow", 0);
	a.defs = no_opts;
	if ((a.pos = calloc(argc + 1, sizeof(*a.pos))) == NULL)
		return cli_fail("out of memory");
	if (parse(&c, &a, argc, argv, &i, 1, &help) == -1)
		goto done;
	if (help) {
		/* "keyflow --help [COMMAND]" is "keyflow help [COMMAND]". */
		a.npos = argc - i;
		memcpy(a.pos, argv + i, a.npos * sizeof(*a.pos));
		rc = cmd_help(&c, &a);
		goto done;
	}
	if (i >= argc) {
		cli_usage_error(&c, "missing COMMAND");
		goto done;
	}
	if ((cmd = lookup(&c, argc, argv, &i, &rc)) == NULL)
		goto done;
	c.cmd = cmd;
	a.defs = cmd->opts;
	if (parse(&c, &a, argc, argv, &i, 0, &help) == -1)
		goto done;
	if (help) {
		print_group(stdout, cmd, 1);
		rc = CLI_EXIT_OK;
		goto done;
	}
	if (check_args(&c, cmd, &a) == -1 || apply_env(&c) == -1)
		goto done;
	c.cmd = cmd;	/* apply_env cleared it: its errors are global */
	if ((c.zctx = zmq_ctx_new()) == NULL) {
		rc = cli_fail("cannot create a ZeroMQ context: %s",
		    zmq_strerror(errno));
		goto done;
	}
	if (cmd->fn == cmd_keygen || cli_curve_setup(&c) == 0)
		rc = cmd->fn(&c, &a);
	else
		rc = CLI_EXIT_FAIL;
	cli_disconnect(&c);
	curve_shutdown();
	zmq_ctx_term(c.zctx);
done:
	if (out_finish() == -1 && rc == CLI_EXIT_OK)
		rc = CLI_EXIT_FAIL;
	args_free(&a);
	return rc;
}
