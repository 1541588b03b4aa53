/*
 * main.c - commserved: configuration, start-up and the poll loop.
 *
 * CommServe holds the CommServe database, drives every job and is the only
 * component that ever sees a plaintext KEK.  It starts each job: it tells
 * the MediaAgent first, then sends the client its order with the DEK sealed
 * under the client's network password.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commserve.h"
#include "conf.h"
#include "curve.h"
#include "log.h"
#include "util.h"

#define TICK_MS	250

/* CURVE keys and trusted peers (--curve-dir, --curve-trust). */
static struct curve_conf curve_cf = { .serves = 1 };

static void
usage(FILE *f)
{
	fprintf(f,
"usage: commserved [-nv] [--listen endpoint] [--events endpoint]\n"
"                  [--events-public endpoint] [--db conninfo]\n"
"                  [--state-dir dir] [--job-timeout seconds]\n"
"                  [--kek-cache seconds] [--curve-dir dir --curve-trust dir]\n"
"\n"
"  --listen EP         ROUTER for daemons and the CLI [KEYFLOW_CS_LISTEN,\n"
"                      tcp://127.0.0.1:8400]\n"
"  --events EP         SUB for trace events [KEYFLOW_CS_EVENTS,\n"
"                      tcp://127.0.0.1:8402]\n"
"  --events-public EP  events endpoint told to daemons, when the bind\n"
"                      address is not reachable as is [KEYFLOW_CS_EVENTS_PUBLIC]\n"
"  --db CONNINFO       PostgreSQL conninfo [KEYFLOW_DB, dbname=keyflow]\n"
"  --state-dir DIR     holds the local key file [KEYFLOW_CS_STATE,\n"
"                      /var/lib/keyflow/commserve]\n"
"  --job-timeout S     fail a job with no sign of life for S seconds\n"
"                      [KEYFLOW_CS_JOB_TIMEOUT, 120]\n"
"  --kek-cache S       keep an unwrapped KEK in memory for S seconds\n"
"                      [KEYFLOW_CS_KEK_CACHE, 300]\n"
"  --curve-dir DIR     CURVE key pair (curve.key, curve.pub; created if\n"
"                      missing): encrypt and authenticate every ZeroMQ link\n"
"                      [KEYFLOW_CURVE_DIR; none: plaintext]\n"
"  --curve-trust DIR   public keys (*.pub) of the daemons and operators\n"
"                      allowed to connect; reread when an unknown key\n"
"                      arrives [KEYFLOW_CURVE_TRUST]\n"
"  -n                  check the configuration and exit\n"
"  -v                  log debug messages [KEYFLOW_VERBOSE=1]\n");
}

static void
conf_seconds(const char *what, const char *s, unsigned *out)
{
	uint64_t	v;

	if (conf_parse_u64(s, 1, 86400, &v) == -1)
		fatalx("%s: \"%s\" is not a number of seconds in 1..86400",
		    what, s);
	*out = (unsigned)v;
}

static void
conf_load(struct cs_conf *c, int argc, char **argv)
{
	char	err[512];
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "events", required_argument, NULL, 'e' },
		{ "events-public", required_argument, NULL, 'E' },
		{ "db", required_argument, NULL, 'd' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "job-timeout", required_argument, NULL, 't' },
		{ "kek-cache", required_argument, NULL, 'k' },
		{ "curve-dir", required_argument, NULL, 'C' },
		{ "curve-trust", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int	ch;

	c->listen = conf_env("KEYFLOW_CS_LISTEN", "tcp://127.0.0.1:8400");
	c->events = conf_env("KEYFLOW_CS_EVENTS", "tcp://127.0.0.1:8402");
	c->events_public = conf_env("KEYFLOW_CS_EVENTS_PUBLIC", NULL);
	c->db = conf_env("KEYFLOW_DB", "dbname=keyflow");
	c->state_dir = conf_env("KEYFLOW_CS_STATE", "/var/lib/keyflow/commserve");
	c->verbose = atoi(conf_env("KEYFLOW_VERBOSE", "0"));
	curve_cf.dir = conf_env("KEYFLOW_CURVE_DIR", NULL);
	curve_cf.trust = conf_env("KEYFLOW_CURVE_TRUST", NULL);
	conf_seconds("KEYFLOW_CS_JOB_TIMEOUT",
	    conf_env("KEYFLOW_CS_JOB_TIMEOUT", "120"), &c->job_timeout_s);
	conf_seconds("KEYFLOW_CS_KEK_CACHE",
	    conf_env("KEYFLOW_CS_KEK_CACHE", "300"), &c->kek_cache_s);

	while ((ch = getopt_long(argc, argv, "hnv", opts, NULL)) != -1) {
		switch (ch) {
		case 'l':
			c->listen = optarg;
			break;
		case 'e':
			c->events = optarg;
			break;
		case 'E':
			c->events_public = optarg;
			break;
		case 'd':
			c->db = optarg;
			break;
		case 's':
			c->state_dir = optarg;
			break;
		case 't':
			conf_seconds("--job-timeout", optarg, &c->job_timeout_s);
			break;
		case 'k':
			conf_seconds("--kek-cache", optarg, &c->kek_cache_s);
			break;
		case 'C':
			curve_cf.dir = optarg;
			break;
		case 'T':
			curve_cf.trust = optarg;
			break;
		case 'n':
			c->check_only = 1;
			break;
		case 'v':
			c->verbose++;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			exit(2);
		}
	}
	if (optind != argc) {
		fprintf(stderr, "commserved: unexpected argument \"%s\"\n",
		    argv[optind]);
		usage(stderr);
		exit(2);
	}
	if (conf_endpoint_valid(c->listen) == -1)
		fatalx("--listen: \"%s\" is not a ZeroMQ endpoint "
		    "(tcp://HOST:PORT)", c->listen);
	if (conf_endpoint_valid(c->events) == -1)
		fatalx("--events: \"%s\" is not a ZeroMQ endpoint", c->events);
	if (c->events_public == NULL)
		c->events_public = c->events;
	else if (conf_endpoint_valid(c->events_public) == -1)
		fatalx("--events-public: \"%s\" is not a ZeroMQ endpoint",
		    c->events_public);
	if (c->state_dir[0] != '/')
		fatalx("--state-dir: \"%s\" must be an absolute path",
		    c->state_dir);
	if (curve_conf_check(&curve_cf, err, sizeof(err)) == -1)
		fatalx("%s", err);
}

static void
cs_start(struct cs *cs)
{
	char		err[512];
	int		version;
	uint64_t	n;

	if (localkey_load(cs->conf.state_dir, cs->local_key) == -1)
		fatalx("cannot load or create the local key in %s",
		    cs->conf.state_dir);
	if ((cs->db = db_open(cs->conf.db, err, sizeof(err))) == NULL)
		fatalx("cannot connect to the CommServe database: %s", err);
	if (db_migrate(cs->db) != DB_OK)
		fatalx("database migration failed: %s", db_errmsg(cs->db));
	if (db_schema_version(cs->db, &version) == DB_OK)
		log_info("CommServe database schema version %d", version);
	if (db_jobs_interrupt_running(cs->db, &n) == DB_OK && n > 0)
		log_warnx("%llu jobs left running by a previous CommServe "
		    "are now marked interrupted", (unsigned long long)n);

	if ((cs->zctx = zmq_ctx_new()) == NULL)
		fatalx("zmq_ctx_new failed");
	if (curve_setup(&curve_cf, cs->zctx, err, sizeof(err)) == -1)
		fatalx("CURVE: %s", err);
	if ((cs->router = wire_socket(cs->zctx, ZMQ_ROUTER, cs->conf.listen,
	    1)) == NULL)
		fatalx("cannot listen on %s", cs->conf.listen);
	if ((cs->sub = wire_socket(cs->zctx, ZMQ_SUB, cs->conf.events,
	    1)) == NULL)
		fatalx("cannot bind the event endpoint %s", cs->conf.events);
	zmq_setsockopt(cs->sub, ZMQ_SUBSCRIBE, TRACE_TOPIC,
	    strlen(TRACE_TOPIC));

	if ((cs->trace = trace_new("commserve")) == NULL ||
	    (cs->trace_kms = trace_new("kms")) == NULL ||
	    (cs->keks = kekcache_new()) == NULL)
		fatalx("out of memory");
	trace_set_sink(cs->trace, events_sink, cs);
	trace_set_sink(cs->trace_kms, events_sink, cs);
}

static void
cs_stop(struct cs *cs)
{
	jobs_free_all(cs);
	peers_free(cs);
	kekcache_free(&cs->keks);
	trace_free(&cs->trace);
	trace_free(&cs->trace_kms);
	events_free(cs);
	if (cs->router != NULL)
		zmq_close(cs->router);
	if (cs->sub != NULL)
		zmq_close(cs->sub);
	curve_shutdown();
	if (cs->zctx != NULL)
		zmq_ctx_term(cs->zctx);
	db_close(&cs->db);
	crypto_wipe(cs->local_key, sizeof(cs->local_key));
}

int
main(int argc, char **argv)
{
	struct cs	 cs;
	zmq_pollitem_t	 items[2];
	int64_t		 next_tick;
	int		 rc, wait_ms;

	memset(&cs, 0, sizeof(cs));
	log_init("commserved", 0);
	conf_load(&cs.conf, argc, argv);
	log_set_verbose(cs.conf.verbose);
	if (cs.conf.check_only) {
		printf("configuration OK\n");
		return 0;
	}
	util_signals();
	cs_start(&cs);
	log_info("ready: listening on %s, trace events on %s",
	    cs.conf.listen, cs.conf.events);

	next_tick = util_mono_ms() + TICK_MS;
	while (!util_stop) {
		items[0] = (zmq_pollitem_t){ cs.router, 0, ZMQ_POLLIN, 0 };
		items[1] = (zmq_pollitem_t){ cs.sub, 0, ZMQ_POLLIN, 0 };
		wait_ms = events_due_ms(&cs);
		rc = zmq_poll(items, 2, wait_ms < 0 || wait_ms > TICK_MS ?
		    TICK_MS : wait_ms);
		if (rc == -1 && errno != EINTR)
			fatalx("zmq_poll: %s", zmq_strerror(errno));
		if (rc > 0 && (items[0].revents & ZMQ_POLLIN))
			dispatch_router(&cs);
		if (rc > 0 && (items[1].revents & ZMQ_POLLIN))
			events_receive(&cs);
		if (events_due_ms(&cs) == 0)
			events_flush(&cs);
		if (util_mono_ms() >= next_tick) {
			peers_expire(&cs);
			jobs_expire(&cs);
			kekcache_expire(cs.keks);
			verify_expire(&cs);
			next_tick = util_mono_ms() + TICK_MS;
		}
	}
	log_info("stopping");
	cs_stop(&cs);
	return 0;
}
