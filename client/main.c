/*
 * main.c - clientd: the backup client daemon.
 *
 * This file only reads the configuration (defaults, then KEYFLOW_*
 * environment variables, then flags, checked in one function), sets up
 * logging and signals, and runs the poll loop on the DEALER to CommServe.
 * Registration and heartbeats live in session.c, the job table in jobs.c,
 * and each job in its own thread (backup.c, restore.c).
 */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "client.h"
#include "conf.h"
#include "curve.h"
#include "log.h"
#include "trace.h"
#include "util.h"

#define CLIENT_DEFAULT_NAME	"local"
#define CLIENT_DEFAULT_CS	"tcp://127.0.0.1:8400"
#define CLIENT_NAME_MAX		255
#define CLIENT_MMAP_THRESHOLD	(32 * 1024 * 1024)

/* CURVE keys and CommServe's key (--curve-dir, --commserve-key). */
static struct curve_conf curve_cf;

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: clientd [-hnv] [--name name] --password-file file\n"
	    "\t       [--commserve endpoint] [--events endpoint]\n"
	    "\t       [--curve-dir dir --commserve-key key]\n"
	    "  --curve-dir DIR      CURVE key pair, created if missing: "
	    "encrypt and\n"
	    "                       authenticate the links to CommServe and "
	    "MediaAgents\n"
	    "                       (none: plaintext)\n"
	    "  --commserve-key KEY  CommServe's public key, Z85 or a "
	    "curve.pub file\n"
	    "environment: KEYFLOW_CLIENT_NAME, KEYFLOW_PASSWORD_FILE, "
	    "KEYFLOW_COMMSERVE,\n\t     KEYFLOW_EVENTS, KEYFLOW_CURVE_DIR, "
	    "KEYFLOW_COMMSERVE_KEY,\n\t     KEYFLOW_CLIENT_WINDOW (backup chunks in "
	    "flight, 4..64, default 8)\n");
	exit(status);
}

static void
conf_defaults(struct client_conf *conf)
{
	memset(conf, 0, sizeof(*conf));
	conf->name = conf_env("KEYFLOW_CLIENT_NAME", CLIENT_DEFAULT_NAME);
	conf->password_file = conf_env("KEYFLOW_PASSWORD_FILE", NULL);
	conf->commserve = conf_env("KEYFLOW_COMMSERVE", CLIENT_DEFAULT_CS);
	conf->events = conf_env("KEYFLOW_EVENTS", NULL);
	curve_cf.dir = conf_env("KEYFLOW_CURVE_DIR", NULL);
	curve_cf.commserve_key = conf_env("KEYFLOW_COMMSERVE_KEY", NULL);
}

static void
conf_flags(struct client_conf *conf, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name",		required_argument, NULL, 'N' },
		{ "password-file",	required_argument, NULL, 'P' },
		{ "commserve",		required_argument, NULL, 'C' },
		{ "events",		required_argument, NULL, 'E' },
		{ "curve-dir",		required_argument, NULL, 'K' },
		{ "commserve-key",	required_argument, NULL, 'S' },
		{ "verbose",		no_argument,	   NULL, 'v' },
		{ "help",		no_argument,	   NULL, 'h' },
		{ NULL,			0,		   NULL, 0 }
	};
	int	ch;

	while ((ch = getopt_long(argc, argv, "hnv", opts, NULL)) != -1) {
		switch (ch) {
		case 'N':
			conf->name = optarg;
			break;
		case 'P':
			conf->password_file = optarg;
			break;
		case 'C':
			conf->commserve = optarg;
			break;
		case 'E':
			conf->events = optarg;
			break;
		case 'K':
			curve_cf.dir = optarg;
			break;
		case 'S':
			curve_cf.commserve_key = optarg;
			break;
		case 'n':
			conf->check_only = 1;
			break;
		case 'v':
			conf->verbose++;
			break;
		case 'h':
			usage(0);
		default:
			usage(1);
		}
	}
	if (optind != argc)
		usage(1);
}

/* Every check in one place; a sentence on stderr for each problem. */
static int
conf_validate(const struct client_conf *conf)
{
	const char	*p;
	char		 err[512];
	int		 ok = 1;

	if (conf->name == NULL || *conf->name == '\0' ||
	    strlen(conf->name) > CLIENT_NAME_MAX) {
		log_warnx("the client name must be 1 to %d bytes",
		    CLIENT_NAME_MAX);
		ok = 0;
	} else {
		for (p = conf->name; *p != '\0'; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				break;
		if (*p != '\0') {
			log_warnx("the client name contains a control "
			    "character");
			ok = 0;
		}
	}
	if (conf->password_file == NULL) {
		log_warnx("no network password: give --password-file or "
		    "KEYFLOW_PASSWORD_FILE");
		ok = 0;
	}
	if (conf_endpoint_valid(conf->commserve) != 0) {
		log_warnx("--commserve %s is not a tcp:// or ipc:// endpoint",
		    conf->commserve);
		ok = 0;
	}
	if (conf->events != NULL && conf_endpoint_valid(conf->events) != 0) {
		log_warnx("--events %s is not a tcp:// or ipc:// endpoint",
		    conf->events);
		ok = 0;
	}
	curve_cf.commserve = conf->commserve;
	curve_cf.events = conf->events;
	if (curve_conf_check(&curve_cf, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		ok = 0;
	}
	return ok ? 0 : -1;
}

int
main(int argc, char **argv)
{
	struct client_conf	 conf;
	struct client		 c;
	zmq_pollitem_t		 item;
	char			 err[512];
	int			 status;

	log_init("clientd", 0);
	conf_defaults(&conf);
	conf_flags(&conf, argc, argv);
	log_set_verbose(conf.verbose);
	if (conf_validate(&conf) == -1)
		return 1;

	memset(&c, 0, sizeof(c));
	c.conf = &conf;
	c.exit_code = -1;
	atomic_init(&c.stopping, 0);
	if (conf.check_only) {
		if (session_password(&c) == -1)
			return 1;
		session_free(&c);
		printf("configuration OK\n");
		return 0;
	}

	util_signals();
	/*
	 * ZeroMQ allocates every 1 MiB chunk message; above glibc's mmap
	 * threshold each would be an mmap/munmap pair (TOOLCHAIN.md measures
	 * a third of the throughput).  Keep such buffers on the heap.
	 */
	(void)mallopt(M_MMAP_THRESHOLD, CLIENT_MMAP_THRESHOLD);
	(void)mallopt(M_TRIM_THRESHOLD, 4 * CLIENT_MMAP_THRESHOLD);
	if ((c.zctx = zmq_ctx_new()) == NULL)
		fatal("zmq_ctx_new");
	if (curve_setup(&curve_cf, c.zctx, err, sizeof(err)) == -1) {
		log_warnx("CURVE: %s", err);
		return 1;
	}
	if (session_init(&c) == -1)
		return 1;

	while (c.exit_code < 0 && !util_stop) {
		item.socket = c.cs;
		item.fd = -1;
		item.events = ZMQ_POLLIN;
		item.revents = 0;
		if (zmq_poll(&item, 1, session_timeout(&c)) == -1) {
			if (errno == EINTR)
				continue;
			fatal("zmq_poll");
		}
		if (item.revents & ZMQ_POLLIN)
			session_recv(&c);
		session_tick(&c);
		trace_tick(c.trace);
		jobs_reap(&c);
	}
	if (util_stop)
		log_info("stopping on a signal");

	jobs_shutdown(&c);
	status = c.exit_code > 0 ? c.exit_code : 0;
	session_free(&c);
	curve_shutdown();
	zmq_ctx_term(c.zctx);
	log_info("clientd %s exiting with status %d", conf.name, status);
	return status;
}
