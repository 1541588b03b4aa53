/*
 * kmipbench.c - kf-kmipbench: how fast a KMIP server serves keyflow's
 * master-key operations, measured through our own KMIP client.
 *
 * N threads each open their own mutually authenticated connection (made
 * and negotiated before the clock starts) and run two timed phases, all
 * threads starting each phase together: first Create (AES-256) + Activate
 * + Encrypt of a 32-byte KEK, what pool creation asks of a KMS (seed pool
 * steps 2-3); then Get of the keys the thread created, what a restore asks
 * (seed restore step 2).  One operation is the whole sequence of a phase;
 * a failed one counts as an error, not as an operation, and its time is
 * not in the latencies.  Per phase it prints the operations, operations
 * per second over the phase's wall time, p50, p99 and max latency in ms,
 * the errors and the first error's sentence (on stderr); --json prints one
 * JSON object per phase instead.  A client that cannot connect counts
 * one error and measures nothing.  Exit 0 when the phases ran (errors
 * included: they are results), 1 when nothing could be measured, 2 on bad
 * usage.  bench/kmip runs it against kmsd and PyKMIP's server.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto.h"
#include "kmip/client.h"
#include "log.h"

#define BENCH_CLIENTS_MAX	256
#define BENCH_SECONDS_MAX	3600
#define BENCH_KEK_LEN		32
#define BENCH_KEY_MAX		64
#define BENCH_LAT_INIT		1024

/* The phases, in the order they run. */
enum bench_phase {
	PHASE_CREATE,			/* Create + Activate + Encrypt */
	PHASE_GET,			/* Get */
	PHASE_COUNT
};

static const char *phase_name[PHASE_COUNT] = {
	"create+activate+encrypt", "get"
};

/* Latencies of one phase, in microseconds. */
struct bench_lat {
	uint32_t	*us;		/* one per successful operation */
	size_t		 len;		/* entries used */
	size_t		 cap;		/* entries allocated */
};

/* One client thread and what it measured. */
struct bench_worker {
	pthread_t		 tid;		/* the thread */
	int			 idx;		/* 0..clients-1 */
	struct kmip_client	*client;	/* its own connection */
	char			 trace[33];	/* correlation value it sends */
	char			**uids;		/* keys made in PHASE_CREATE */
	size_t			 nuids;		/* entries used in uids */
	size_t			 capuids;	/* entries allocated in uids */
	struct bench_lat	 lat[PHASE_COUNT]; /* per phase */
	unsigned long		 errors[PHASE_COUNT]; /* failed operations */
	char			 firsterr[PHASE_COUNT][KMIP_CLIENT_ERRLEN];
						/* the first failure's sentence */
	int			 dead;		/* could not connect */
};

/* Shared by all threads. */
struct bench {
	int			 seconds;	/* length of each phase */
	pthread_barrier_t	 barrier;	/* phase starts */
	int64_t			 start[PHASE_COUNT]; /* phase start, ns (main) */
	int64_t			 end[PHASE_COUNT]; /* last thread done, ns */
	pthread_mutex_t		 mtx;		/* guards end[] */
};

static struct bench	bench;

static int64_t
now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int
lat_add(struct bench_lat *l, int64_t ns)
{
	uint32_t	*p;
	size_t		 ncap;
	int64_t		 us = ns / 1000;

	if (l->len == l->cap) {
		ncap = l->cap ? l->cap * 2 : BENCH_LAT_INIT;
		if ((p = reallocarray(l->us, ncap, sizeof(*p))) == NULL)
			return -1;
		l->us = p;
		l->cap = ncap;
	}
	l->us[l->len++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
	return 0;
}

static int
uid_add(struct bench_worker *w, char *uid)
{
	char	**p;
	size_t	  ncap;

	if (w->nuids == w->capuids) {
		ncap = w->capuids ? w->capuids * 2 : BENCH_LAT_INIT;
		if ((p = reallocarray(w->uids, ncap, sizeof(*p))) == NULL)
			return -1;
		w->uids = p;
		w->capuids = ncap;
	}
	w->uids[w->nuids++] = uid;
	return 0;
}

static void
fail_op(struct bench_worker *w, enum bench_phase ph, const char *what)
{
	if (w->errors[ph]++ == 0)
		snprintf(w->firsterr[ph], sizeof(w->firsterr[ph]), "%s: %s",
		    what, kmip_client_error(w->client));
}

/* One Create + Activate + Encrypt; 0 or -1 (counted). */
static int
op_create(struct bench_worker *w, const char *trace)
{
	struct kmip_ciphertext	 ct;
	uint8_t			 kek[BENCH_KEK_LEN];
	char			*uid = NULL;

	if (kmip_client_create_aes(w->client, 256, NULL, KMIP_USAGE_ENCRYPT |
	    KMIP_USAGE_DECRYPT, trace, &uid) == -1) {
		fail_op(w, PHASE_CREATE, "Create");
		return -1;
	}
	if (kmip_client_activate(w->client, uid, trace) == -1) {
		fail_op(w, PHASE_CREATE, "Activate");
		free(uid);
		return -1;
	}
	if (crypto_random(kek, sizeof(kek)) == -1) {
		snprintf(w->firsterr[PHASE_CREATE],
		    sizeof(w->firsterr[PHASE_CREATE]), "no random bytes");
		w->errors[PHASE_CREATE]++;
		free(uid);
		return -1;
	}
	if (kmip_client_encrypt(w->client, uid, NULL, 0, kek, sizeof(kek),
	    trace, &ct) == -1) {
		crypto_wipe(kek, sizeof(kek));
		fail_op(w, PHASE_CREATE, "Encrypt");
		free(uid);
		return -1;
	}
	crypto_wipe(kek, sizeof(kek));
	if (uid_add(w, uid) == -1) {
		free(uid);
		return -1;
	}
	return 0;
}

/* One Get of key uid; 0 or -1 (counted). */
static int
op_get(struct bench_worker *w, const char *uid, const char *trace)
{
	uint8_t	key[BENCH_KEY_MAX];
	size_t	len = 0;
	int	rc;

	rc = kmip_client_get_key(w->client, uid, trace, key, sizeof(key),
	    &len);
	crypto_wipe(key, sizeof(key));
	if (rc == -1)
		fail_op(w, PHASE_GET, "Get");
	return rc;
}

static void
phase_done(enum bench_phase ph)
{
	int64_t	t = now_ns();

	pthread_mutex_lock(&bench.mtx);
	if (t > bench.end[ph])
		bench.end[ph] = t;
	pthread_mutex_unlock(&bench.mtx);
}

static void *
worker_main(void *arg)
{
	struct bench_worker	*w = arg;
	const char		*trace = w->trace[0] ? w->trace : NULL;
	int64_t			 deadline, t0;
	size_t			 next = 0;
	int			 ph;

	if (kmip_client_connect(w->client) == -1) {
		snprintf(w->firsterr[PHASE_CREATE],
		    sizeof(w->firsterr[PHASE_CREATE]), "connect: %s",
		    kmip_client_error(w->client));
		w->errors[PHASE_CREATE]++;
		w->dead = 1;
	}
	for (ph = 0; ph < PHASE_COUNT; ph++) {
		pthread_barrier_wait(&bench.barrier);
		deadline = now_ns() + (int64_t)bench.seconds * 1000000000;
		while (!w->dead && (t0 = now_ns()) < deadline) {
			if (ph == PHASE_GET && w->nuids == 0)
				break;
			if (ph == PHASE_CREATE ? op_create(w, trace) :
			    op_get(w, w->uids[next++ % w->nuids], trace))
				continue;
			if (lat_add(&w->lat[ph], now_ns() - t0) == -1) {
				w->errors[ph]++;
				break;
			}
		}
		phase_done(ph);
		pthread_barrier_wait(&bench.barrier);
	}
	return NULL;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t	x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The q-quantile (nearest rank) of sorted v, in ms. */
static double
quantile_ms(const uint32_t *v, size_t n, double q)
{
	size_t	i;

	if (n == 0)
		return 0;
	i = (size_t)(q * (double)n);
	if (i >= n)
		i = n - 1;
	return v[i] / 1000.0;
}

static void
json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", (unsigned char)*s);
		else
			putchar(*s);
	}
	putchar('"');
}

/* Merge the workers' results of phase ph and print them; 0 or -1. */
static int
report(struct bench_worker *w, int n, enum bench_phase ph, int json)
{
	struct bench_lat	 all = { NULL, 0, 0 };
	unsigned long		 errors = 0;
	const char		*first = "";
	double			 secs, rate;
	int			 i;
	size_t			 j;

	for (i = 0; i < n; i++) {
		errors += w[i].errors[ph];
		if (*first == '\0')
			first = w[i].firsterr[ph];
		for (j = 0; j < w[i].lat[ph].len; j++)
			if (lat_add(&all, (int64_t)w[i].lat[ph].us[j] *
			    1000) == -1) {
				free(all.us);
				return -1;
			}
	}
	if (all.len > 0)
		qsort(all.us, all.len, sizeof(*all.us), cmp_u32);
	secs = (bench.end[ph] - bench.start[ph]) / 1e9;
	rate = secs > 0 ? all.len / secs : 0;
	if (json) {
		printf("{\"phase\":\"%s\",\"clients\":%d,\"seconds\":%.3f,"
		    "\"ops\":%zu,\"ops_per_s\":%.1f,\"p50_ms\":%.3f,"
		    "\"p99_ms\":%.3f,\"max_ms\":%.3f,\"errors\":%lu,"
		    "\"first_error\":", phase_name[ph], n, secs, all.len,
		    rate, quantile_ms(all.us, all.len, 0.50),
		    quantile_ms(all.us, all.len, 0.99),
		    quantile_ms(all.us, all.len, 1.0), errors);
		json_str(first);
		printf("}\n");
	} else
		printf("%-24s clients %3d  ops %7zu  ops/s %9.1f  p50 %8.3f ms"
		    "  p99 %8.3f ms  max %8.3f ms  errors %lu\n",
		    phase_name[ph], n, all.len, rate,
		    quantile_ms(all.us, all.len, 0.50),
		    quantile_ms(all.us, all.len, 0.99),
		    quantile_ms(all.us, all.len, 1.0), errors);
	if (*first != '\0')
		fprintf(stderr, "kf-kmipbench: %s: first error: %s\n",
		    phase_name[ph], first);
	fflush(stdout);
	free(all.us);
	return 0;
}

static void
worker_clear(struct bench_worker *w)
{
	size_t	i;
	int	ph;

	kmip_client_free(&w->client);
	for (i = 0; i < w->nuids; i++)
		free(w->uids[i]);
	free(w->uids);
	for (ph = 0; ph < PHASE_COUNT; ph++)
		free(w->lat[ph].us);
}

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: kf-kmipbench --addr HOST:PORT --ca FILE "
	    "--cert FILE --key FILE\n"
	    "\t[--clients N] [--seconds S] [--no-correlation] [--json]\n");
	exit(2);
}

static int
parse_int(const char *s, int lo, int hi)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
		fprintf(stderr, "kf-kmipbench: %s: not a number in %d..%d\n",
		    s, lo, hi);
		usage();
	}
	return (int)v;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "addr", required_argument, NULL, 'a' },
		{ "ca", required_argument, NULL, 'A' },
		{ "cert", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'k' },
		{ "clients", required_argument, NULL, 'n' },
		{ "seconds", required_argument, NULL, 's' },
		{ "no-correlation", no_argument, NULL, 'C' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	struct kmip_client_conf	 cf;
	struct bench_worker	*w = NULL;
	char			 err[KMIP_CLIENT_ERRLEN];
	uint8_t			 rnd[16];
	int			 ch, n = 1, json = 0, corr = 1, i, j, ph;
	int			 started = 0, alive = 0, rc = 1;

	memset(&cf, 0, sizeof(cf));
	bench.seconds = 5;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'a': cf.address = optarg; break;
		case 'A': cf.ca = optarg; break;
		case 'c': cf.cert = optarg; break;
		case 'k': cf.key = optarg; break;
		case 'n': n = parse_int(optarg, 1, BENCH_CLIENTS_MAX); break;
		case 's':
			bench.seconds = parse_int(optarg, 1, BENCH_SECONDS_MAX);
			break;
		case 'C': corr = 0; break;
		case 'j': json = 1; break;
		default: usage();
		}
	}
	if (optind != argc || cf.address == NULL || cf.ca == NULL ||
	    cf.cert == NULL || cf.key == NULL)
		usage();
	log_init("kf-kmipbench", 0);
	cf.send_correlation = corr;

	if ((w = calloc(n, sizeof(*w))) == NULL)
		fatal("calloc");
	for (i = 0; i < n; i++) {
		w[i].idx = i;
		if ((w[i].client = kmip_client_new(&cf, err, sizeof(err))) ==
		    NULL) {
			log_warnx("%s", err);
			goto fail;
		}
		if (corr) {
			if (crypto_random(rnd, sizeof(rnd)) == -1)
				goto fail;
			for (j = 0; j < (int)sizeof(rnd); j++)
				snprintf(w[i].trace + 2 * j, 3, "%02x", rnd[j]);
		}
	}
	if (pthread_barrier_init(&bench.barrier, NULL, n + 1) != 0 ||
	    pthread_mutex_init(&bench.mtx, NULL) != 0)
		fatalx("pthread init");
	for (i = 0; i < n; i++) {
		if (pthread_create(&w[i].tid, NULL, worker_main, &w[i]) != 0)
			fatalx("pthread_create");
		started++;
	}
	/* Connections are made before the first barrier. */
	for (ph = 0; ph < PHASE_COUNT; ph++) {
		pthread_barrier_wait(&bench.barrier);
		bench.start[ph] = now_ns();
		pthread_barrier_wait(&bench.barrier);
	}
	for (i = 0; i < started; i++)
		pthread_join(w[i].tid, NULL);
	for (i = 0; i < n; i++) {
		if (w[i].dead)
			log_warnx("client %d: %s", i, w[i].firsterr[PHASE_CREATE]);
		else
			alive++;
	}
	for (ph = 0; ph < PHASE_COUNT; ph++)
		if (report(w, n, ph, json) == -1)
			fatalx("out of memory");
	rc = alive > 0 ? 0 : 1;
fail:
	for (i = 0; w != NULL && i < n; i++)
		worker_clear(&w[i]);
	free(w);
	return rc;
}
