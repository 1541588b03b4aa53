/*
 * main.c - mediaagentd: configuration, sockets and the poll loop.
 *
 * The configuration is filled from defaults, then KEYFLOW_* environment
 * variables, then flags, and checked in conf_check() alone; -n stops
 * there.  The daemon then binds the ROUTER clients send data to, registers
 * with CommServe (session.c) and runs one poll loop over both sockets until
 * SIGTERM or SIGINT, when every open partial container is aborted (none of
 * them committed) and the sockets are closed without lingering.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "chunk.h"
#include "conf.h"
#include "container.h"
#include "curve.h"
#include "log.h"
#include "mediaagent.h"
#include "trace.h"
#include "util.h"

#define DEFAULT_NAME		"ma1"
#define DEFAULT_COMMSERVE	"tcp://127.0.0.1:8400"
#define DEFAULT_LISTEN		"tcp://127.0.0.1:8401"
#define DEFAULT_ROOT		"/var/lib/keyflow/ma"
#define DEFAULT_FSYNC		"8M"
#define FSYNC_MAX		(1ULL << 40)
#define DATA_HWM		32	/* messages queued per client, each way */
#define EXPIRE_MS		1000	/* how often idle jobs are looked at */

enum {
	OPT_NAME = 256, OPT_COMMSERVE, OPT_LISTEN, OPT_ENDPOINT, OPT_ROOT,
	OPT_EVENTS, OPT_FSYNC, OPT_CURVE_DIR, OPT_CURVE_TRUST, OPT_CS_KEY,
	OPT_HELP
};

/* CURVE keys, trusted clients, CommServe's key (--curve-*). */
static struct curve_conf curve_cf = { .serves = 1 };

static const struct option longopts[] = {
	{ "name",		required_argument,	NULL, OPT_NAME },
	{ "commserve",		required_argument,	NULL, OPT_COMMSERVE },
	{ "listen",		required_argument,	NULL, OPT_LISTEN },
	{ "endpoint",		required_argument,	NULL, OPT_ENDPOINT },
	{ "root",		required_argument,	NULL, OPT_ROOT },
	{ "events",		required_argument,	NULL, OPT_EVENTS },
	{ "fsync-interval",	required_argument,	NULL, OPT_FSYNC },
	{ "curve-dir",		required_argument,	NULL, OPT_CURVE_DIR },
	{ "curve-trust",	required_argument,	NULL, OPT_CURVE_TRUST },
	{ "commserve-key",	required_argument,	NULL, OPT_CS_KEY },
	{ "help",		no_argument,		NULL, OPT_HELP },
	{ NULL,			0,			NULL, 0 }
};

static void __attribute__((noreturn))
usage(int status)
{
	FILE	*f = status == 0 ? stdout : stderr;

	fprintf(f,
	    "usage: mediaagentd [-hnv] [--commserve endpoint] "
	    "[--endpoint endpoint]\n"
	    "                   [--events endpoint] [--fsync-interval bytes] "
	    "[--listen endpoint]\n"
	    "                   [--name name] [--root dir]\n"
	    "                   [--curve-dir dir --curve-trust dir "
	    "--commserve-key key]\n");
	if (status == 0)
		fprintf(f, "\n"
		    "  --name NAME          MediaAgent name (KEYFLOW_MA_NAME, "
		    "default " DEFAULT_NAME ")\n"
		    "  --commserve EP       CommServe endpoint "
		    "(KEYFLOW_COMMSERVE, default " DEFAULT_COMMSERVE ")\n"
		    "  --listen EP          bind for client data "
		    "(KEYFLOW_MA_LISTEN, default " DEFAULT_LISTEN ")\n"
		    "  --endpoint EP        data endpoint told to CommServe "
		    "(KEYFLOW_MA_ENDPOINT, default: --listen)\n"
		    "  --root DIR           parent of pool mount paths "
		    "(KEYFLOW_MA_ROOT, default " DEFAULT_ROOT ")\n"
		    "  --events EP          trace event endpoint "
		    "(KEYFLOW_EVENTS, default: from CommServe)\n"
		    "  --fsync-interval N   flush containers every N bytes, "
		    "K/M/G suffixes, 0 = only at commit\n"
		    "                       (KEYFLOW_MA_FSYNC, default "
		    DEFAULT_FSYNC ")\n"
		    "  --curve-dir DIR      CURVE key pair, created if missing: "
		    "encrypt and\n"
		    "                       authenticate every link "
		    "(KEYFLOW_CURVE_DIR; none: plaintext)\n"
		    "  --curve-trust DIR    public keys (*.pub) of the clients "
		    "allowed to send data\n"
		    "                       (KEYFLOW_CURVE_TRUST)\n"
		    "  --commserve-key KEY  CommServe's public key, Z85 or a "
		    "curve.pub file\n"
		    "                       (KEYFLOW_COMMSERVE_KEY)\n"
		    "  -n                   check the configuration and exit\n"
		    "  -v                   log debug messages\n"
		    "\n"
		    "  KEYFLOW_MA_DELAY_US=N  TEST ONLY: sleep N microseconds "
		    "(at most 1000000)\n"
		    "                       after writing each backup chunk, "
		    "to slow the MediaAgent down\n");
	exit(status);
}

/* Defaults, then KEYFLOW_* variables, then flags. */
static void
conf_load(struct ma_conf *c, int argc, char **argv)
{
	int	ch;

	memset(c, 0, sizeof(*c));
	c->name = conf_env("KEYFLOW_MA_NAME", DEFAULT_NAME);
	c->commserve = conf_env("KEYFLOW_COMMSERVE", DEFAULT_COMMSERVE);
	c->listen = conf_env("KEYFLOW_MA_LISTEN", DEFAULT_LISTEN);
	c->endpoint = conf_env("KEYFLOW_MA_ENDPOINT", NULL);
	c->root = conf_env("KEYFLOW_MA_ROOT", DEFAULT_ROOT);
	c->events = conf_env("KEYFLOW_EVENTS", NULL);
	c->fsync_str = conf_env("KEYFLOW_MA_FSYNC", DEFAULT_FSYNC);
	c->delay_str = conf_env("KEYFLOW_MA_DELAY_US", "0");
	curve_cf.dir = conf_env("KEYFLOW_CURVE_DIR", NULL);
	curve_cf.trust = conf_env("KEYFLOW_CURVE_TRUST", NULL);
	curve_cf.commserve_key = conf_env("KEYFLOW_COMMSERVE_KEY", NULL);

	while ((ch = getopt_long(argc, argv, "hnv", longopts, NULL)) != -1) {
		switch (ch) {
		case OPT_NAME:
			c->name = optarg;
			break;
		case OPT_COMMSERVE:
			c->commserve = optarg;
			break;
		case OPT_LISTEN:
			c->listen = optarg;
			break;
		case OPT_ENDPOINT:
			c->endpoint = optarg;
			break;
		case OPT_ROOT:
			c->root = optarg;
			break;
		case OPT_EVENTS:
			c->events = optarg;
			break;
		case OPT_FSYNC:
			c->fsync_str = optarg;
			break;
		case OPT_CURVE_DIR:
			curve_cf.dir = optarg;
			break;
		case OPT_CURVE_TRUST:
			curve_cf.trust = optarg;
			break;
		case OPT_CS_KEY:
			curve_cf.commserve_key = optarg;
			break;
		case 'n':
			c->check_only = 1;
			break;
		case 'v':
			c->verbose++;
			break;
		case 'h':
		case OPT_HELP:
			usage(0);
		default:
			usage(1);
		}
	}
	if (optind != argc)
		usage(1);
}

/* The one place the configuration is checked; a sentence per problem. */
static int
conf_check(struct ma_conf *c, char *err, size_t cap)
{
	char		probe[PATH_MAX];
	uint64_t	delay;

	if (!conf_name_valid(c->name, MA_NAME_MAX))
		snprintf(err, cap, "--name \"%s\": use 1 to %d letters, "
		    "digits, '.', '_' or '-'", c->name, MA_NAME_MAX);
	else if (conf_endpoint_valid(c->commserve) == -1)
		snprintf(err, cap, "--commserve \"%s\" is not a ZeroMQ "
		    "endpoint (tcp://host:port or ipc://path)", c->commserve);
	else if (conf_endpoint_valid(c->listen) == -1)
		snprintf(err, cap, "--listen \"%s\" is not a ZeroMQ endpoint "
		    "(tcp://host:port or ipc://path)", c->listen);
	else if (c->endpoint != NULL && conf_endpoint_valid(c->endpoint) == -1)
		snprintf(err, cap, "--endpoint \"%s\" is not a ZeroMQ "
		    "endpoint (tcp://host:port or ipc://path)", c->endpoint);
	else if (c->endpoint == NULL && (strstr(c->listen, "*") != NULL ||
	    strstr(c->listen, "0.0.0.0") != NULL))
		snprintf(err, cap, "--listen \"%s\" binds every address; give "
		    "--endpoint with the address clients should use",
		    c->listen);
	else if (c->events != NULL && conf_endpoint_valid(c->events) == -1)
		snprintf(err, cap, "--events \"%s\" is not a ZeroMQ endpoint "
		    "(tcp://host:port or ipc://path)", c->events);
	else if (c->root[0] != '/' ||
	    container_path(probe, sizeof(probe), c->root, UINT64_MAX, 1, 1) ==
	    -1)
		snprintf(err, cap, "--root \"%s\" must be an absolute path "
		    "shorter than %d bytes", c->root, PATH_MAX - 64);
	else if (conf_parse_size(c->fsync_str, 0, FSYNC_MAX,
	    &c->fsync_interval) == -1)
		snprintf(err, cap, "--fsync-interval \"%s\" is not a size from "
		    "0 to 1T (bytes, or with a K, M, G or T suffix)",
		    c->fsync_str);
	else if (conf_parse_u64(c->delay_str, 0, 1000000, &delay) == -1)
		snprintf(err, cap, "KEYFLOW_MA_DELAY_US \"%s\" is not a "
		    "number of microseconds from 0 to 1000000", c->delay_str);
	else {
		c->delay_us = (uint32_t)delay;
		if (c->endpoint == NULL)
			c->endpoint = c->listen;
		curve_cf.commserve = c->commserve;
		curve_cf.events = c->events;
		return curve_conf_check(&curve_cf, err, cap);
	}
	return -1;
}

/*
 * The ROUTER for clients, options set before bind: replies to a vanished
 * client fail instead of vanishing, a client that stops reading cannot make
 * us queue more than DATA_HWM messages or block the loop, and no frame
 * larger than the protocol allows is ever buffered.
 */
static void *
data_socket(void *zctx, const char *endpoint)
{
	void	*s;
	int	 zero = 0, one = 1, hwm = DATA_HWM;
	int64_t	 maxmsg = WIRE_PAYLOAD_MAX > WIRE_BODY_MAX ?
		    WIRE_PAYLOAD_MAX : WIRE_BODY_MAX;

	if ((s = zmq_socket(zctx, ZMQ_ROUTER)) == NULL) {
		log_warnx("zmq_socket: %s", zmq_strerror(errno));
		return NULL;
	}
	if (zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof(zero)) == -1 ||
	    zmq_setsockopt(s, ZMQ_ROUTER_MANDATORY, &one, sizeof(one)) == -1 ||
	    zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof(hwm)) == -1 ||
	    zmq_setsockopt(s, ZMQ_RCVHWM, &hwm, sizeof(hwm)) == -1 ||
	    zmq_setsockopt(s, ZMQ_SNDTIMEO, &zero, sizeof(zero)) == -1 ||
	    zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg)) == -1) {
		log_warnx("zmq_setsockopt: %s", zmq_strerror(errno));
		goto fail;
	}
	if (curve_apply(s, endpoint, 1) == -1)
		goto fail;
	if (zmq_bind(s, endpoint) == -1) {
		log_warnx("cannot listen on %s: %s", endpoint,
		    zmq_strerror(errno));
		goto fail;
	}
	return s;
fail:
	zmq_close(s);
	return NULL;
}

static void
loop(struct ma *ma)
{
	zmq_pollitem_t	 items[3];
	int64_t		 now, expired = util_mono_ms();
	int		 timeout;

	while (!util_stop) {
		now = util_mono_ms();
		timeout = session_tick(ma, now);
		trace_tick(ma->trace);
		if (now - expired >= EXPIRE_MS) {
			session_expire(ma, now);
			expired = now;
		}
		if (timeout > EXPIRE_MS)
			timeout = EXPIRE_MS;
		memset(items, 0, sizeof(items));
		items[0].socket = ma->cs;
		items[0].events = ZMQ_POLLIN;
		items[1].socket = ma->data;
		items[1].events = ZMQ_POLLIN;
		items[2].fd = commit_fd(ma);
		items[2].events = ZMQ_POLLIN;
		if (zmq_poll(items, 3, timeout) == -1) {
			if (errno == EINTR)
				continue;
			log_warnx("zmq_poll: %s", zmq_strerror(errno));
			break;
		}
		if (items[0].revents & ZMQ_POLLIN)
			dispatch_socket(ma, MA_FROM_CS);
		if (items[1].revents & ZMQ_POLLIN)
			dispatch_socket(ma, MA_FROM_CLIENT);
		if (items[2].revents & ZMQ_POLLIN)
			commit_finish(ma);
	}
}

int
main(int argc, char **argv)
{
	static struct ma	 ma;
	struct ma_conf		 conf;
	int			 linger = MA_STOP_LINGER_MS;
	char			 err[PATH_MAX + 128], size[32];

	conf_load(&conf, argc, argv);
	log_init("mediaagentd", conf.verbose);
	if (conf_check(&conf, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if (conf.check_only) {
		printf("configuration OK: mediaagent %s, CommServe %s, "
		    "listening on %s, data endpoint %s, root %s, fsync every "
		    "%s\n", conf.name, conf.commserve, conf.listen,
		    conf.endpoint, conf.root, conf.fsync_interval ?
		    util_human_bytes(conf.fsync_interval, size, sizeof(size)) :
		    "commit only");
		return 0;
	}

	/*
	 * ZeroMQ allocates every chunk it receives or sends: keep those in
	 * the heap rather than paying an mmap and munmap per chunk.
	 */
	mallopt(M_MMAP_THRESHOLD, 2 * KF_CHUNK_MAX);
	mallopt(M_TRIM_THRESHOLD, 8 * KF_CHUNK_MAX);
	util_signals();
	if (util_mkdir_p(conf.root, 0700) == -1)
		fatal("cannot create the mount root %s (set --root or "
		    "KEYFLOW_MA_ROOT)", conf.root);
	(void)quarantine_scan(conf.root);
	ma.conf = &conf;
	if ((ma.zctx = zmq_ctx_new()) == NULL)
		fatalx("zmq_ctx_new: %s", zmq_strerror(errno));
	if (curve_setup(&curve_cf, ma.zctx, err, sizeof(err)) == -1)
		fatalx("CURVE: %s", err);
	if ((ma.trace = trace_new("mediaagent")) == NULL)
		fatalx("cannot set up trace events");
	if ((ma.data = data_socket(ma.zctx, conf.listen)) == NULL)
		fatalx("cannot serve clients on %s", conf.listen);
	if (commit_start(&ma) == -1)
		fatalx("cannot start the committer threads");
	if (session_start(&ma) == -1)
		fatalx("cannot connect to CommServe at %s", conf.commserve);
	log_info("mediaagent %s listening on %s, root %s; waiting for "
	    "CommServe at %s", conf.name, conf.listen, conf.root,
	    conf.commserve);

	loop(&ma);

	/* Commits under way end first: a client may be told its job is safe. */
	commit_stop(&ma);
	log_info("stopping: forgetting %zu jobs; open partial containers "
	    "are removed", ma.njobs);
	session_stop(&ma);
	/* STREAM_CLOSED for the commits just finished may still be queued. */
	(void)zmq_setsockopt(ma.data, ZMQ_LINGER, &linger, sizeof(linger));
	zmq_close(ma.data);
	trace_free(&ma.trace);
	free(ma.rbuf);
	curve_shutdown();
	zmq_ctx_term(ma.zctx);
	log_info("stopped");
	return 0;
}
