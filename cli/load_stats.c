/*
 * load_stats.c - the arithmetic of keyflow load: order statistics of
 * latencies, the seed step times of a backup from its trace events, and
 * the CPU time and memory of the stack's daemons read from /proc.
 *
 * Percentiles use the nearest-rank method (the p-th percentile of n sorted
 * values is the ceil(p/100 * n)-th), so every figure reported is a latency
 * some job really had.  Step times are differences between the timestamps
 * the actors put on their trace events; all daemons of a load run share
 * one host clock, and a negative difference (clocks of different hosts)
 * is reported as unknown rather than as a made-up zero.
 *
 * Daemons are found by name in /proc: commserved, mediaagentd and kmsd
 * processes whose command line or environment name this CommServe's
 * endpoint (kmsd: CommServe's event endpoint), so other stacks running on
 * the same machine are left out.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>	/* NAN, isnan: no libm needed */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "load.h"

#define PROC_READ_MAX	65536	/* bytes of a cmdline or environ we read */

/* Order statistics ---------------------------------------------------- */

int
load_vals_add(struct load_vals *s, double v)
{
	double	*nv;
	size_t	 cap;

	if (s->n == s->cap) {
		cap = s->cap ? s->cap * 2 : 64;
		if ((nv = reallocarray(s->v, cap, sizeof(*nv))) == NULL)
			return -1;
		s->v = nv;
		s->cap = cap;
	}
	s->v[s->n++] = v;
	s->sorted = 0;
	return 0;
}

static int
dbl_cmp(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The nearest-rank p-th percentile, 0 < p <= 100; NAN when empty. */
double
load_vals_pct(struct load_vals *s, double p)
{
	double	rank;
	size_t	k;

	if (s->n == 0 || !(p > 0 && p <= 100))
		return NAN;
	if (!s->sorted) {
		qsort(s->v, s->n, sizeof(*s->v), dbl_cmp);
		s->sorted = 1;
	}
	/* ceil without libm: rank is positive and below SIZE_MAX. */
	rank = p / 100.0 * (double)s->n;
	k = (size_t)rank;
	if ((double)k < rank)
		k++;
	k = k < 1 ? 0 : k - 1;
	if (k >= s->n)
		k = s->n - 1;
	return s->v[k];
}

double
load_vals_max(struct load_vals *s)
{
	return load_vals_pct(s, 100);
}

double
load_vals_mean(const struct load_vals *s)
{
	double	sum = 0;
	size_t	i;

	if (s->n == 0)
		return NAN;
	for (i = 0; i < s->n; i++)
		sum += s->v[i];
	return sum / (double)s->n;
}

void
load_vals_clear(struct load_vals *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/* Seed step times ------------------------------------------------------ */

const char *
load_step_name(enum load_step s)
{
	switch (s) {
	case STEP_DEK:
		return "dek_issue";
	case STEP_UNWRAP:
		return "key_unwrap";
	case STEP_TRANSFER:
		return "data_transfer";
	case STEP_COMMIT:
		return "commit";
	default:
		return "unknown";
	}
}

static int
is_event(const Kf__TraceEvent *ev, unsigned step, const char *actor)
{
	return ev->flow != NULL && ev->actor != NULL &&
	    strcmp(ev->flow, "backup") == 0 && ev->step == step &&
	    strcmp(ev->actor, actor) == 0 && ev->ts_us > 0;
}

/* b - a, or -1 when either is unknown or the difference is negative. */
static int64_t
span(int64_t a, int64_t b)
{
	if (a <= 0 || b <= 0 || b < a)
		return -1;
	return b - a;
}

/*
 * A backup job's step times from its trace events:
 *   DEK issue     job start -> CommServe's "backup 3" (DEK generated,
 *                 wrapped under the KEK, stored, sealed and sent: 1-3)
 *   key unwrap    CommServe's "backup 3" -> the client's own step 3 event
 *                 (unsealing the DEK), when the client reports one
 *   data transfer the unwrap (or CommServe's step 3) -> the MediaAgent's
 *                 "backup 6" (encrypt, send and write and fsync: 4-6)
 *   commit        the MediaAgent's "backup 6" -> the job's end at CommServe
 * Unknown steps are -1.
 */
void
load_steps_of(const Kf__TraceEvent *const *ev, size_t n, int64_t started_us,
    int64_t ended_us, int64_t out[STEP_N])
{
	int64_t	cs3 = 0, cl3 = 0, ma6 = 0;
	size_t	i;

	for (i = 0; i < n; i++) {
		if (is_event(ev[i], 3, "commserve") &&
		    (cs3 == 0 || ev[i]->ts_us < cs3))
			cs3 = ev[i]->ts_us;
		else if (is_event(ev[i], 3, "client") &&
		    (cl3 == 0 || ev[i]->ts_us < cl3))
			cl3 = ev[i]->ts_us;
		else if (is_event(ev[i], 6, "mediaagent") &&
		    ev[i]->ts_us > ma6)
			ma6 = ev[i]->ts_us;
	}
	out[STEP_DEK] = span(started_us, cs3);
	out[STEP_UNWRAP] = span(cs3, cl3);
	out[STEP_TRANSFER] = span(cl3 > 0 ? cl3 : cs3, ma6);
	out[STEP_COMMIT] = span(ma6, ended_us);
}

/* /proc ------------------------------------------------------------------ */

const char *
load_role_name(enum load_role r)
{
	switch (r) {
	case ROLE_COMMSERVE:
		return "commserved";
	case ROLE_MEDIAAGENT:
		return "mediaagentd";
	case ROLE_KMS:
		return "kmsd";
	case ROLE_CLIENT:
		return "clientd";
	default:
		return "unknown";
	}
}

/*
 * utime + stime (fields 14 and 15) of a /proc/PID/stat line.  The command
 * name in parentheses may hold spaces and ')': fields are counted from the
 * last ')'.
 */
int
load_proc_parse_stat(const char *buf, uint64_t *ticks)
{
	const char		*p = strrchr(buf, ')');
	char			*end;
	unsigned long long	 ut, st;
	int			 field;

	if (p == NULL || p[1] != ' ')
		return -1;
	p += 2;
	/* p is at field 3 (state); skip to field 14. */
	for (field = 3; field < 14; field++) {
		p = strchr(p, ' ');
		if (p == NULL)
			return -1;
		p++;
	}
	if (!isdigit((unsigned char)*p))
		return -1;
	errno = 0;
	ut = strtoull(p, &end, 10);
	if (errno != 0 || *end != ' ' || !isdigit((unsigned char)end[1]))
		return -1;
	st = strtoull(end + 1, &end, 10);
	/* More fields follow stime in every kernel's line: a cut is refused. */
	if (errno != 0 || *end != ' ')
		return -1;
	*ticks = ut + st;
	return 0;
}

/* VmRSS of a /proc/PID/status text, in KiB. */
int
load_proc_parse_rss(const char *status, uint64_t *rss_kb)
{
	const char		*p;
	char			*end;
	unsigned long long	 v;

	for (p = status; p != NULL && *p != '\0'; p = strchr(p, '\n')) {
		if (*p == '\n')
			p++;
		if (strncmp(p, "VmRSS:", 6) != 0)
			continue;
		p += 6;
		while (*p == ' ' || *p == '\t')
			p++;
		if (!isdigit((unsigned char)*p))
			return -1;
		errno = 0;
		v = strtoull(p, &end, 10);
		if (errno != 0 || strncmp(end, " kB", 3) != 0)
			return -1;
		*rss_kb = v;
		return 0;
	}
	return -1;
}

/* A /proc file into buf (NUL-terminated); its length or -1. */
static ssize_t
proc_read(pid_t pid, const char *what, char *buf, size_t cap)
{
	char	path[64];
	ssize_t	n, off = 0;
	int	fd;

	snprintf(path, sizeof(path), "/proc/%ld/%s", (long)pid, what);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	while ((size_t)off < cap - 1 &&
	    (n = read(fd, buf + off, cap - 1 - off)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			close(fd);
			return -1;
		}
		off += n;
	}
	close(fd);
	buf[off] = '\0';
	return off;
}

static int
proc_sample(pid_t pid, uint64_t *ticks, uint64_t *rss_kb)
{
	char	buf[4096];

	if (proc_read(pid, "stat", buf, sizeof(buf)) <= 0 ||
	    load_proc_parse_stat(buf, ticks) == -1)
		return -1;
	/* A zombie has no VmRSS: it is gone. */
	if (proc_read(pid, "status", buf, sizeof(buf)) <= 0 ||
	    load_proc_parse_rss(buf, rss_kb) == -1)
		return -1;
	return 0;
}

/* The port of a tcp:// endpoint, or NULL. */
static const char *
ep_port(const char *ep)
{
	const char	*p;

	if (strncmp(ep, "tcp://", 6) != 0 || (p = strrchr(ep, ':')) == NULL ||
	    p < ep + 6)
		return NULL;
	return p + 1;
}

/* v names endpoint ep: the same, or tcp:// with the same port. */
int
load_ep_match(const char *v, const char *ep)
{
	const char	*a, *b;

	if (strcmp(v, ep) == 0)
		return 1;
	if ((a = ep_port(v)) == NULL || (b = ep_port(ep)) == NULL)
		return 0;
	return *a != '\0' && strcmp(a, b) == 0;
}

/*
 * Does the NUL-separated list (argv, or NAME=VALUE environment) name ep?
 * "--flag=VALUE" and "NAME=VALUE" are matched on VALUE.  With next_of set,
 * the value after that flag (or of that variable) is copied to out.
 */
int
load_list_names(const char *buf, size_t len, const char *ep, const char *next_of,
    char *out, size_t cap)
{
	const char	*p = buf, *v, *prev = NULL;
	size_t		 fl = next_of ? strlen(next_of) : 0;
	int		 hit = 0;

	while (p < buf + len) {
		v = strchr(p, '=');
		v = v != NULL ? v + 1 : p;
		if (ep != NULL && (load_ep_match(p, ep) || load_ep_match(v, ep)))
			hit = 1;
		if (next_of != NULL && out != NULL) {
			if (prev != NULL && strcmp(prev, next_of) == 0)
				snprintf(out, cap, "%s", p);
			else if (strncmp(p, next_of, fl) == 0 && p[fl] == '=')
				snprintf(out, cap, "%s", p + fl + 1);
		}
		prev = p;
		p += strlen(p) + 1;
	}
	return hit;
}

/*
 * The process's argv or environment names ep; when it does and events is
 * not NULL, its event endpoint (--events, else KEYFLOW_CS_EVENTS) is
 * copied there.
 */
static int
proc_names(pid_t pid, const char *ep, char *events, size_t cap)
{
	char	*buf, flag[256] = "", env[256] = "";
	ssize_t	 n;
	int	 hit = 0;

	if ((buf = malloc(PROC_READ_MAX)) == NULL)
		return 0;
	if ((n = proc_read(pid, "cmdline", buf, PROC_READ_MAX)) > 0)
		hit |= load_list_names(buf, n, ep, "--events", flag, sizeof(flag));
	if ((n = proc_read(pid, "environ", buf, PROC_READ_MAX)) > 0)
		hit |= load_list_names(buf, n, ep, "KEYFLOW_CS_EVENTS", env,
		    sizeof(env));
	free(buf);
	if (hit && events != NULL)
		snprintf(events, cap, "%s", flag[0] != '\0' ? flag : env);
	return hit;
}

static int
role_of(const char *comm, enum load_role *r)
{
	if (strcmp(comm, "commserved") == 0)
		*r = ROLE_COMMSERVE;
	else if (strcmp(comm, "mediaagentd") == 0)
		*r = ROLE_MEDIAAGENT;
	else if (strcmp(comm, "kmsd") == 0)
		*r = ROLE_KMS;
	else
		return -1;
	return 0;
}

/* One pass over /proc for daemons of role want naming ep. */
static int
scan(enum load_role want, const char *ep, char *events, size_t cap,
    struct load_daemon *d, int n, int max)
{
	DIR		*dir;
	struct dirent	*de;
	char		 comm[64], *end;
	enum load_role	 r;
	long		 pid;

	if ((dir = opendir("/proc")) == NULL)
		return n;
	while (n < max && (de = readdir(dir)) != NULL) {
		errno = 0;
		pid = strtol(de->d_name, &end, 10);
		if (errno != 0 || *end != '\0' || pid <= 0)
			continue;
		if (proc_read(pid, "comm", comm, sizeof(comm)) <= 0)
			continue;
		comm[strcspn(comm, "\n")] = '\0';
		if (role_of(comm, &r) == -1 || r != want ||
		    !proc_names(pid, ep, events, cap))
			continue;
		memset(&d[n], 0, sizeof(d[n]));
		d[n].pid = (pid_t)pid;
		d[n].role = r;
		snprintf(d[n].name, sizeof(d[n].name), "%s", comm);
		n++;
	}
	closedir(dir);
	return n;
}

/*
 * The stack's daemons: commserved listening on cs_endpoint, MediaAgents
 * connecting to it, kmsd publishing to commserved's event endpoint.
 * Returns how many were put in d.
 */
int
load_daemons_find(const char *cs_endpoint, struct load_daemon *d, int max)
{
	char	events[256] = "";
	int	n = 0;

	n = scan(ROLE_COMMSERVE, cs_endpoint, events, sizeof(events), d, n,
	    max);
	n = scan(ROLE_MEDIAAGENT, cs_endpoint, NULL, 0, d, n, max);
	if (events[0] != '\0')
		n = scan(ROLE_KMS, events, NULL, 0, d, n, max);
	return n;
}

/*
 * Read every daemon's CPU ticks and resident memory.  dt_s 0 is the first
 * call (it records the starting point); later calls add each role's CPU
 * share over the last dt_s seconds and memory to s (when not NULL).
 */
void
load_daemons_sample(struct load_daemon *d, int n, double dt_s,
    struct load_sample *s)
{
	static long	hz;
	uint64_t	ticks, rss;
	int		i;

	if (hz <= 0 && (hz = sysconf(_SC_CLK_TCK)) <= 0)
		hz = 100;
	for (i = 0; i < n; i++) {
		if (d[i].gone)
			continue;
		if (proc_sample(d[i].pid, &ticks, &rss) == -1) {
			d[i].gone = 1;
			continue;
		}
		if (dt_s <= 0 && d[i].ticks0 == 0 && d[i].ticks == 0)
			d[i].ticks0 = d[i].ticks = ticks;
		d[i].ticks_prev = d[i].ticks;
		d[i].ticks = ticks;
		d[i].rss_kb = rss;
		if (rss > d[i].rss_peak_kb)
			d[i].rss_peak_kb = rss;
		if (s == NULL || dt_s <= 0)
			continue;
		s->cpu_pct[d[i].role] += 100.0 *
		    (double)(d[i].ticks - d[i].ticks_prev) / (double)hz / dt_s;
		s->rss_kb[d[i].role] += rss;
	}
}

/* Results ---------------------------------------------------------------- */

void
load_err_add(struct load_result *r, const char *code, const char *msg)
{
	int	i;

	r->nerrors++;
	for (i = 0; i < r->nerrs; i++)
		if (strcmp(r->errs[i].code, code) == 0) {
			r->errs[i].n++;
			return;
		}
	if (r->nerrs == LOAD_ERRS_MAX) {
		/* The last slot collects every code that did not fit. */
		i = LOAD_ERRS_MAX - 1;
		snprintf(r->errs[i].code, sizeof(r->errs[i].code), "OTHER");
	} else {
		i = r->nerrs++;
		snprintf(r->errs[i].code, sizeof(r->errs[i].code), "%s", code);
		snprintf(r->errs[i].example, sizeof(r->errs[i].example), "%s",
		    msg != NULL ? msg : "");
	}
	r->errs[i].n++;
}

int
load_sample_add(struct load_result *r, const struct load_sample *s)
{
	struct load_sample	*ns;
	size_t			 cap;

	if (r->nsamples == r->capsamples) {
		cap = r->capsamples ? r->capsamples * 2 : 64;
		if ((ns = reallocarray(r->samples, cap, sizeof(*ns))) == NULL)
			return -1;
		r->samples = ns;
		r->capsamples = cap;
	}
	r->samples[r->nsamples++] = *s;
	return 0;
}

void
load_result_clear(struct load_result *r)
{
	int	i;

	load_vals_clear(&r->lat_b);
	load_vals_clear(&r->lat_r);
	load_vals_clear(&r->rate_b);
	for (i = 0; i < STEP_N; i++)
		load_vals_clear(&r->steps[i]);
	free(r->samples);
	free(r->daemons);
	memset(r, 0, sizeof(*r));
}
