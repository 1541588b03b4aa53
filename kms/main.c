/*
 * main.c - kmsd: configuration, the listening socket and the threads.
 *
 * The configuration is filled from defaults, then KEYFLOW_* environment
 * variables, then flags, and checked in conf_check() alone (plus the TLS
 * files, which only OpenSSL can judge); -n stops there.  kmsd then opens
 * its store (loading every object), connects its trace publisher, listens,
 * logs "ready", and accepts: each connection gets a thread, at most
 * --max-connections at once (one more is closed at once, with a log line).
 * On SIGTERM or SIGINT it stops accepting, lets every connection finish the
 * request it is serving, and exits 0.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <zmq.h>

#include "conf.h"
#include "curve.h"
#include "kms.h"
#include "log.h"
#include "trace.h"
#include "util.h"

#define DEFAULT_LISTEN		"127.0.0.1:5696"
#define DEFAULT_STORE		"/var/lib/keyflow/kms"
#define DEFAULT_MAX_MESSAGE	"1M"
#define DEFAULT_MAX_CONNS	"64"
#define DEFAULT_IDLE		"120"
/* TLS 1.2: GCM first, then the CBC-SHA2 suites PyKMIP-era clients offer. */
#define DEFAULT_CIPHERS \
	"ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:" \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256:" \
	"ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES256-GCM-SHA384:" \
	"DHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-SHA384:" \
	"ECDHE-RSA-AES128-SHA256:DHE-RSA-AES256-SHA256:" \
	"DHE-RSA-AES128-SHA256:AES256-GCM-SHA384:AES128-GCM-SHA256:" \
	"AES256-SHA256:AES128-SHA256"
#define STOP_WAIT_S		10	/* for connections to finish on SIGTERM */
#define THREAD_STACK		(512 * 1024)

/* CURVE for the trace event link (--curve-dir, --commserve-key). */
static struct curve_conf curve_cf;

enum {
	OPT_LISTEN = 256, OPT_CA, OPT_CERT, OPT_KEY, OPT_CIPHERS, OPT_STORE,
	OPT_ROOT_KEY, OPT_EVENTS, OPT_MAX_MESSAGE, OPT_MAX_CONNS, OPT_IDLE,
	OPT_CURVE_DIR, OPT_CS_KEY, OPT_HELP
};

static const struct option longopts[] = {
	{ "listen",		required_argument,	NULL, OPT_LISTEN },
	{ "ca",			required_argument,	NULL, OPT_CA },
	{ "cert",		required_argument,	NULL, OPT_CERT },
	{ "key",		required_argument,	NULL, OPT_KEY },
	{ "ciphers",		required_argument,	NULL, OPT_CIPHERS },
	{ "store",		required_argument,	NULL, OPT_STORE },
	{ "root-key",		required_argument,	NULL, OPT_ROOT_KEY },
	{ "events",		required_argument,	NULL, OPT_EVENTS },
	{ "max-message",	required_argument,	NULL, OPT_MAX_MESSAGE },
	{ "max-connections",	required_argument,	NULL, OPT_MAX_CONNS },
	{ "idle-timeout",	required_argument,	NULL, OPT_IDLE },
	{ "curve-dir",		required_argument,	NULL, OPT_CURVE_DIR },
	{ "commserve-key",	required_argument,	NULL, OPT_CS_KEY },
	{ "help",		no_argument,		NULL, OPT_HELP },
	{ NULL,			0,			NULL, 0 }
};

static void __attribute__((noreturn))
usage(int status)
{
	FILE	*f = status == 0 ? stdout : stderr;

	fprintf(f,
	    "usage: kmsd [-hnv] --ca file --cert file --key file "
	    "[--ciphers list]\n"
	    "            [--events endpoint] [--idle-timeout seconds] "
	    "[--listen host:port]\n"
	    "            [--max-connections n] [--max-message bytes] "
	    "[--root-key file]\n"
	    "            [--store dir] [--curve-dir dir --commserve-key key]\n");
	if (status == 0)
		fprintf(f, "\n"
		    "kmsd is keyflow's KMIP key management server (KMIP 1.0-1.4 "
		    "and 2.0 over mutual TLS).\n\n"
		    "  --listen HOST:PORT     address to serve "
		    "(KEYFLOW_KMS_LISTEN, default " DEFAULT_LISTEN ")\n"
		    "  --ca FILE              CA certificate that signs client "
		    "certificates (KEYFLOW_KMS_CA)\n"
		    "  --cert FILE            server certificate chain, PEM "
		    "(KEYFLOW_KMS_SERVER_CERT)\n"
		    "  --key FILE             server private key, PEM, not "
		    "encrypted (KEYFLOW_KMS_SERVER_KEY)\n"
		    "  --ciphers LIST         TLS 1.2 cipher list, OpenSSL "
		    "syntax (KEYFLOW_KMS_CIPHERS, default:\n"
		    "                         GCM suites and the AES-CBC-SHA256/"
		    "384 ones older KMIP clients need)\n"
		    "  --store DIR            object store (KEYFLOW_KMS_STORE, "
		    "default " DEFAULT_STORE ")\n"
		    "  --root-key FILE        0600 file of 32 bytes wrapping "
		    "every key, created if missing\n"
		    "                         (KEYFLOW_KMS_ROOT_KEY, default "
		    "STORE/root.key)\n"
		    "  --events EP            ZeroMQ endpoint for trace events "
		    "(KEYFLOW_EVENTS, default: none)\n"
		    "  --curve-dir DIR        CURVE key pair for the trace event "
		    "link, created if\n"
		    "                         missing (KEYFLOW_CURVE_DIR; "
		    "none: plaintext)\n"
		    "  --commserve-key KEY    CommServe's CURVE public key, Z85 "
		    "or a curve.pub file\n"
		    "                         (KEYFLOW_COMMSERVE_KEY)\n"
		    "  --max-message N        largest request, K/M suffixes "
		    "(KEYFLOW_KMS_MAX_MESSAGE, default "
		    DEFAULT_MAX_MESSAGE ")\n"
		    "  --max-connections N    clients served at once "
		    "(KEYFLOW_KMS_MAX_CONNECTIONS, default "
		    DEFAULT_MAX_CONNS ")\n"
		    "  --idle-timeout S       close a connection idle this long "
		    "(KEYFLOW_KMS_IDLE_TIMEOUT, default "
		    DEFAULT_IDLE ")\n"
		    "  -n                     check the configuration and exit\n"
		    "  -v                     log debug messages\n");
	exit(status);
}

/* Defaults, then KEYFLOW_* variables, then flags. */
static void
conf_load(struct kms_conf *c, int argc, char **argv)
{
	int	ch;

	memset(c, 0, sizeof(*c));
	c->listen = conf_env("KEYFLOW_KMS_LISTEN", DEFAULT_LISTEN);
	c->ca = conf_env("KEYFLOW_KMS_CA", NULL);
	c->cert = conf_env("KEYFLOW_KMS_SERVER_CERT", NULL);
	c->key = conf_env("KEYFLOW_KMS_SERVER_KEY", NULL);
	c->ciphers = conf_env("KEYFLOW_KMS_CIPHERS", DEFAULT_CIPHERS);
	c->store = conf_env("KEYFLOW_KMS_STORE", DEFAULT_STORE);
	c->root_key = conf_env("KEYFLOW_KMS_ROOT_KEY", NULL);
	c->events = conf_env("KEYFLOW_EVENTS", NULL);
	curve_cf.dir = conf_env("KEYFLOW_CURVE_DIR", NULL);
	curve_cf.commserve_key = conf_env("KEYFLOW_COMMSERVE_KEY", NULL);
	c->max_message_str = conf_env("KEYFLOW_KMS_MAX_MESSAGE",
	    DEFAULT_MAX_MESSAGE);
	c->max_conns_str = conf_env("KEYFLOW_KMS_MAX_CONNECTIONS",
	    DEFAULT_MAX_CONNS);
	c->idle_str = conf_env("KEYFLOW_KMS_IDLE_TIMEOUT", DEFAULT_IDLE);

	while ((ch = getopt_long(argc, argv, "hnv", longopts, NULL)) != -1) {
		switch (ch) {
		case OPT_LISTEN:
			c->listen = optarg;
			break;
		case OPT_CA:
			c->ca = optarg;
			break;
		case OPT_CERT:
			c->cert = optarg;
			break;
		case OPT_KEY:
			c->key = optarg;
			break;
		case OPT_CIPHERS:
			c->ciphers = optarg;
			break;
		case OPT_STORE:
			c->store = optarg;
			break;
		case OPT_ROOT_KEY:
			c->root_key = optarg;
			break;
		case OPT_EVENTS:
			c->events = optarg;
			break;
		case OPT_MAX_MESSAGE:
			c->max_message_str = optarg;
			break;
		case OPT_MAX_CONNS:
			c->max_conns_str = optarg;
			break;
		case OPT_IDLE:
			c->idle_str = optarg;
			break;
		case OPT_CURVE_DIR:
			curve_cf.dir = optarg;
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

/* "HOST:PORT", "[V6]:PORT" or "tcp://HOST:PORT" into c->host, c->port. */
static int
parse_listen(struct kms_conf *c)
{
	const char	*s = c->listen, *colon, *h;
	size_t		 hlen;
	uint64_t	 port;

	if (strncmp(s, "tcp://", 6) == 0)
		s += 6;
	if ((colon = strrchr(s, ':')) == NULL || colon == s)
		return -1;
	h = s;
	hlen = (size_t)(colon - s);
	if (h[0] == '[') {
		if (hlen < 3 || h[hlen - 1] != ']')
			return -1;
		h++;
		hlen -= 2;
	} else if (memchr(h, ':', hlen) != NULL)
		return -1;
	if (hlen >= sizeof(c->host) || conf_parse_u64(colon + 1, 1, 65535,
	    &port) == -1)
		return -1;
	memcpy(c->host, h, hlen);
	c->host[hlen] = '\0';
	snprintf(c->port, sizeof(c->port), "%llu", (unsigned long long)port);
	return 0;
}

static int
readable(const char *path)
{
	struct stat	st;

	return path != NULL && stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	    access(path, R_OK) == 0;
}

/* The one place the configuration is checked; a sentence per problem. */
static int
conf_check(struct kms_conf *c, char *err, size_t cap)
{
	if (parse_listen(c) == -1)
		snprintf(err, cap, "--listen \"%s\" is not HOST:PORT (e.g. "
		    DEFAULT_LISTEN " or [::1]:5696)", c->listen);
	else if (c->ca == NULL || c->cert == NULL || c->key == NULL)
		snprintf(err, cap, "kmsd needs --ca, --cert and --key "
		    "(KEYFLOW_KMS_CA, KEYFLOW_KMS_SERVER_CERT, "
		    "KEYFLOW_KMS_SERVER_KEY): the CA of client certificates, "
		    "and the server's certificate and key");
	else if (!readable(c->ca))
		snprintf(err, cap, "--ca %s is not a readable file", c->ca);
	else if (!readable(c->cert))
		snprintf(err, cap, "--cert %s is not a readable file", c->cert);
	else if (!readable(c->key))
		snprintf(err, cap, "--key %s is not a readable file", c->key);
	else if (c->store[0] == '\0' || strlen(c->store) > PATH_MAX - 64)
		snprintf(err, cap, "--store \"%s\" must be a directory path "
		    "shorter than %d bytes", c->store, PATH_MAX - 64);
	else if (c->events != NULL && conf_endpoint_valid(c->events) == -1)
		snprintf(err, cap, "--events \"%s\" is not a ZeroMQ endpoint "
		    "(tcp://host:port or ipc://path)", c->events);
	else if (conf_parse_size(c->max_message_str, 4096, 64 << 20,
	    &c->max_message) == -1)
		snprintf(err, cap, "--max-message \"%s\" is not a size from 4K "
		    "to 64M", c->max_message_str);
	else if (conf_parse_u64(c->max_conns_str, 1, 4096, &c->max_conns) ==
	    -1)
		snprintf(err, cap, "--max-connections \"%s\" is not a number "
		    "from 1 to 4096", c->max_conns_str);
	else if (conf_parse_u64(c->idle_str, 1, 86400, &c->idle_timeout) ==
	    -1)
		snprintf(err, cap, "--idle-timeout \"%s\" is not a number of "
		    "seconds from 1 to 86400", c->idle_str);
	else {
		if (c->root_key == NULL) {
			snprintf(c->root_key_buf, sizeof(c->root_key_buf),
			    "%s/root.key", c->store);
			c->root_key = c->root_key_buf;
		}
		curve_cf.events = c->events;
		return curve_conf_check(&curve_cf, err, cap);
	}
	return -1;
}

/* -n: the root key, when it exists, must be usable as it is. */
static int
check_root_key(const struct kms_conf *c)
{
	uint8_t		key[KF_KEY_LEN];
	struct stat	st;
	int		rc;

	if (stat(c->root_key, &st) == -1 && errno == ENOENT) {
		log_info("root key %s will be created on the first start",
		    c->root_key);
		return 0;
	}
	rc = rootkey_load(c->root_key, 0, key);
	crypto_wipe(key, sizeof(key));
	return rc;
}

static int
listen_on(const struct kms_conf *c)
{
	struct addrinfo	 hints, *res = NULL, *ai;
	int		 fd = -1, one = 1, e;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((e = getaddrinfo(c->host, c->port, &hints, &res)) != 0) {
		log_warnx("--listen %s: %s", c->listen, gai_strerror(e));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC |
		    SOCK_NONBLOCK, ai->ai_protocol)) == -1)
			continue;
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
		    sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(fd, 128) == 0)
			break;
		e = errno;
		close(fd);
		fd = -1;
		errno = e;
	}
	if (fd == -1)
		log_warn("cannot listen on %s", c->listen);
	freeaddrinfo(res);
	return fd;
}

static void *
conn_thread(void *arg)
{
	struct kms_conn	*c = arg;
	struct kmsd	*k = c->k;

	conn_serve(c);
	pthread_mutex_lock(&k->lock);
	k->nconns--;
	pthread_cond_broadcast(&k->idle);
	pthread_mutex_unlock(&k->lock);
	return NULL;
}

/* Hand a new socket to a thread of its own, or close it when full. */
static void
spawn(struct kmsd *k, int fd, const struct sockaddr_storage *ss,
    socklen_t sslen)
{
	struct kms_conn	*c;
	pthread_attr_t	 attr;
	pthread_t	 t;
	sigset_t	 all, old;
	char		 host[46], serv[8];
	int		 full, e;

	if (getnameinfo((const struct sockaddr *)ss, sslen, host, sizeof(host),
	    serv, sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		snprintf(host, sizeof(host), "?");
	pthread_mutex_lock(&k->lock);
	full = k->nconns >= k->conf->max_conns;
	if (!full)
		k->nconns++;
	k->conn_seq++;
	pthread_mutex_unlock(&k->lock);
	if (full) {
		log_warnx("refusing a connection from %s:%s: %llu clients are "
		    "already served (--max-connections)", host, serv,
		    (unsigned long long)k->conf->max_conns);
		close(fd);
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		goto fail;
	c->k = k;
	c->fd = fd;
	c->id = k->conn_seq;
	snprintf(c->peer, sizeof(c->peer), "%s:%s", host, serv);
	/* Signals go to the main thread, whose poll() they interrupt. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, THREAD_STACK);
	e = pthread_create(&t, &attr, conn_thread, c);
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e == 0)
		return;
	errno = e;
	log_warn("cannot start a thread for %s", c->peer);
	free(c);
 fail:
	close(fd);
	pthread_mutex_lock(&k->lock);
	k->nconns--;
	pthread_mutex_unlock(&k->lock);
}

static void
accept_loop(struct kmsd *k, int lfd)
{
	struct sockaddr_storage	 ss;
	struct pollfd		 pfd;
	socklen_t		 sslen;
	int			 fd;

	while (!util_stop) {
		trace_tick(k->trace);
		pfd.fd = lfd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 250) <= 0)
			continue;
		sslen = sizeof(ss);
		if ((fd = accept4(lfd, (struct sockaddr *)&ss, &sslen,
		    SOCK_NONBLOCK | SOCK_CLOEXEC)) == -1) {
			if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				log_warn("accept");
			if (errno == EMFILE || errno == ENFILE)
				usleep(100 * 1000);
			continue;
		}
		spawn(k, fd, &ss, sslen);
	}
}

/* SIGTERM: wait (bounded) for the connections to finish their request. */
static void
drain(struct kmsd *k)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += STOP_WAIT_S;
	pthread_mutex_lock(&k->lock);
	if (k->nconns > 0)
		log_info("stopping: waiting for %u connection%s to finish",
		    k->nconns, k->nconns == 1 ? "" : "s");
	while (k->nconns > 0)
		if (pthread_cond_timedwait(&k->idle, &k->lock, &ts) ==
		    ETIMEDOUT)
			break;
	if (k->nconns > 0)
		log_warnx("stopping with %u connection%s still open",
		    k->nconns, k->nconns == 1 ? "" : "s");
	pthread_mutex_unlock(&k->lock);
}

int
main(int argc, char **argv)
{
	struct kms_conf	 conf;
	struct kmsd	 k;
	char		 err[512];
	int		 lfd = -1, rc = 1;

	conf_load(&conf, argc, argv);
	log_init("kmsd", conf.verbose);
	if (conf_check(&conf, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		return 1;
	}
	memset(&k, 0, sizeof(k));
	k.conf = &conf;
	pthread_mutex_init(&k.lock, NULL);
	pthread_cond_init(&k.idle, NULL);
	if ((k.tls = tls_server_new(&conf, err, sizeof(err))) == NULL) {
		log_warnx("%s", err);
		return 1;
	}
	if (conf.check_only) {
		rc = check_root_key(&conf);
		if (rc == 0)
			printf("kmsd: configuration OK\n");
		SSL_CTX_free(k.tls);
		return rc == 0 ? 0 : 1;
	}
	util_signals();
	if ((k.store = store_open(conf.store, conf.root_key)) == NULL) {
		log_warnx("cannot open the store %s", conf.store);
		goto done;
	}
	if ((k.trace = trace_new("kms")) == NULL)
		goto done;
	if (conf.events != NULL && ((k.zctx = zmq_ctx_new()) == NULL ||
	    curve_setup(&curve_cf, k.zctx, err, sizeof(err)) == -1 ||
	    trace_connect(k.trace, k.zctx, conf.events) == -1)) {
		log_warnx("cannot publish trace events to %s", conf.events);
		goto done;
	}
	if ((lfd = listen_on(&conf)) == -1)
		goto done;
	log_info("ready: KMIP %s on %s:%s, %zu objects in %s",
	    meta_versions_str(), conf.host, conf.port,
	    store_count(k.store), conf.store);
	accept_loop(&k, lfd);
	close(lfd);
	drain(&k);
	log_info("stopped");
	rc = 0;
 done:
	/* Threads still serving would use these: leave them to exit(). */
	if (k.nconns == 0) {
		trace_free(&k.trace);
		curve_shutdown();
		if (k.zctx != NULL)
			zmq_ctx_term(k.zctx);
		store_free(&k.store);
		SSL_CTX_free(k.tls);
	}
	return rc;
}
