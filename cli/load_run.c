/*
 * load_run.c - the loop of keyflow load.
 *
 * Each load client is a slot that runs its jobs in sequence: a backup of
 * the data set (BACKUP_START, as `keyflow backup` sends it), and with
 * --restore a restore of that job into the scratch directory, compared
 * byte for byte with the data set and then removed.  All slots run at
 * once.  The loop is single-threaded: every few milliseconds (POLL_MS_MIN
 * with one job running, up to POLL_MS_MAX with many) it asks CommServe for
 * the most recent jobs in one JOB_LIST (a JOB_GET for any of ours that fell
 * off the list), moves finished slots on, and once a second samples the
 * daemons' CPU and memory into the time series and draws the progress line
 * on stderr (rewritten in place on a terminal, one line a second
 * otherwise).  Latencies are CommServe's own start and end times of each
 * job, so the polling interval does not blur them.
 *
 * --duration stops submitting at that time and waits (at most GRACE_MS)
 * for the jobs still running; SIGINT or SIGTERM stops at once.  At the end
 * the trace events of every completed backup give the seed step times.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "load.h"
#include "util.h"

#define POLL_MS_MIN	5	/* job state poll, one job running */
#define POLL_MS_MAX	50	/* job state poll, many running */
#define SAMPLE_MS	1000	/* time series and progress line */
#define GRACE_MS	120000	/* after --duration, for running jobs */
#define TRACE_WAIT_MS	300	/* for the last events to be stored */
#define REQ_FAILS_MAX	5	/* requests failing in a row: give up */
#define CMP_BUF		(1024 * 1024)

enum slot_state {
	SLOT_IDLE,			/* ready for the next backup */
	SLOT_STARTING,			/* its start request awaits a reply */
	SLOT_BACKUP,			/* a backup runs */
	SLOT_RESTORE			/* a restore of the last backup runs */
};

/* One load client's sequence of jobs. */
struct slot {
	enum slot_state	 st;		/* what it does now */
	int		 restoring;	/* starting: a restore, not a backup */
	uint64_t	 backup;	/* starting a restore: of this backup */
	uint64_t	 job;		/* the running job */
	uint64_t	 started;	/* backups asked for so far */
	uint64_t	 bytes_now;	/* the running job's bytes so far */
	int		 seen;		/* found by this poll's JOB_LIST */
};

/* The loop's state. */
struct run {
	struct cli		*c;		/* requests */
	const struct load_conf	*conf;		/* what to do */
	struct load_clients	*lc;		/* the clients */
	const char		*scratch;	/* restores go under it */
	char *const		*paths;		/* the data set's files */
	unsigned		 npaths;	/* how many */
	struct load_result	*res;		/* what we measure */
	struct slot		*slots;		/* one per client */
	unsigned		*starting;	/* slots awaiting a start reply, */
	unsigned		 nstarting;	/* in the order sent (a FIFO) */
	struct load_job		*done;		/* completed backups */
	size_t			 ndone;		/* how many */
	size_t			 capdone;	/* allocated */
	uint64_t		 b_bytes_done;	/* backup bytes, finished jobs */
	uint64_t		 r_bytes_done;	/* restore bytes, finished jobs */
	uint64_t		 jobs_done;	/* finished jobs */
	unsigned		 req_fails;	/* requests failed in a row */
	int			 stopping;	/* --duration reached */
	int			 abort;		/* a fatal problem: stop */
	int64_t			 t0_ms;		/* the start */
	int64_t			 stop_ms;	/* when stopping began */
	int64_t			 last_ms;	/* the last sample */
	int64_t			 next_ms;	/* the next one: t0 + k s */
	uint64_t		 last_b;	/* backup bytes at it */
	uint64_t		 last_r;	/* restore bytes at it */
	int			 tty;		/* stderr is a terminal */
	int			 drawn;		/* progress line length */
};

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)f;
	if (flag == FTW_DP)
		return rmdir(path) == -1 && errno != ENOENT ? -1 : 0;
	return unlink(path) == -1 && errno != ENOENT ? -1 : 0;
}

int
load_rmtree(const char *path)
{
	if (access(path, F_OK) == -1 && errno == ENOENT)
		return 0;
	return nftw(path, rm_one, 32, FTW_DEPTH | FTW_PHYS);
}

/* Sleep ms unless a signal asks us to stop. */
void
load_nap(int ms)
{
	struct timespec	ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (!util_stop && nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static const char *
err_code_name(const Kf__JobInfo *ji)
{
	if (ji->has_error_code && ji->error_code != KF__KF_ERR__ERR_NONE)
		return wire_err_name(ji->error_code);
	return ji->state == KF__JOB_STATE__JOB_INTERRUPTED ?
	    "JOB_INTERRUPTED" : "JOB_FAILED";
}

/* A request failed: record why. */
static void
req_record(struct run *r, const struct cli_error *e, const char *what)
{
	char	msg[1200];

	snprintf(msg, sizeof(msg), "%s: %s", what, e->msg);
	load_err_add(r->res, e->why == CLI_FAIL_REPLY ?
	    wire_err_name(e->code) : (e->why == CLI_FAIL_TIMEOUT ?
	    "NO_REPLY" : "LOCAL"), msg);
}

/* A request failed: record and count it; too many in a row stop the run. */
static void
req_failed(struct run *r, const struct cli_error *e, const char *what)
{
	req_record(r, e, what);
	if (e->why != CLI_FAIL_REPLY && ++r->req_fails >= REQ_FAILS_MAX &&
	    !r->abort) {
		r->abort = 1;
		cli_fail("%u requests to CommServe failed in a row; stopping "
		    "(last: %s)", r->req_fails, e->msg);
	}
}

/* 1 if the files are equal, 0 if not (why in msg), -1 on an error. */
static int
files_equal(const char *a, const char *b, uint8_t *ba, uint8_t *bb,
    char *msg, size_t cap)
{
	struct stat	sa, sb;
	ssize_t		na, nb;
	int		fa, fb, rc = -1;

	if ((fa = open(a, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(msg, cap, "%s: %s", a, strerror(errno));
		return -1;
	}
	if ((fb = open(b, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(msg, cap, "restored file %s: %s", b, strerror(errno));
		close(fa);
		return 0;
	}
	if (fstat(fa, &sa) == -1 || fstat(fb, &sb) == -1) {
		snprintf(msg, cap, "fstat: %s", strerror(errno));
		goto done;
	}
	if (sa.st_size != sb.st_size) {
		snprintf(msg, cap, "%s has %lld bytes, the original %lld", b,
		    (long long)sb.st_size, (long long)sa.st_size);
		rc = 0;
		goto done;
	}
	for (;;) {
		na = read(fa, ba, CMP_BUF);
		nb = read(fb, bb, CMP_BUF);
		if (na == -1 || nb == -1) {
			snprintf(msg, cap, "read: %s", strerror(errno));
			goto done;
		}
		if (na != nb || memcmp(ba, bb, (size_t)na) != 0) {
			snprintf(msg, cap, "%s differs from %s", b, a);
			rc = 0;
			goto done;
		}
		if (na == 0)
			break;
	}
	rc = 1;
done:
	close(fa);
	close(fb);
	return rc;
}

/* Compare a restore in dest with the data set: 1 equal, 0 not, -1. */
static int
compare(struct run *r, const char *dest, char *msg, size_t cap)
{
	char		 path[PATH_MAX];
	uint8_t		*ba, *bb;
	unsigned	 i;
	int		 rc = 1;

	ba = malloc(CMP_BUF);
	bb = malloc(CMP_BUF);
	if (ba == NULL || bb == NULL) {
		snprintf(msg, cap, "out of memory");
		rc = -1;
	}
	for (i = 0; rc == 1 && i < r->npaths; i++) {
		snprintf(path, sizeof(path), "%s%s", dest, r->paths[i]);
		rc = files_equal(r->paths[i], path, ba, bb, msg, cap);
	}
	free(ba);
	free(bb);
	return rc;
}

static void
restore_dir(const struct run *r, uint64_t backup, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s/restore/%llu", r->scratch,
	    (unsigned long long)backup);
}

/*
 * A start request could not be sent, or its reply says why not; counted
 * toward REQ_FAILS_MAX unless an earlier failure already explains it.
 */
static void
start_failed(struct run *r, unsigned i, const struct cli_error *e,
    int counted)
{
	struct slot	*s = &r->slots[i];
	char		 dest[PATH_MAX];
	const char	*what = s->restoring ? "restore start" : "backup start";

	s->st = SLOT_IDLE;
	r->jobs_done++;
	if (counted)
		req_failed(r, e, what);
	else
		req_record(r, e, what);
	if (!s->restoring) {
		r->res->b_failed++;
		return;
	}
	r->res->r_failed++;
	restore_dir(r, s->backup, dest, sizeof(dest));
	(void)load_rmtree(dest);
}

/*
 * Send a slot's start request without waiting: the replies are read in
 * the order sent, by finish_starts, before the next request that waits.
 * Starting many jobs then costs CommServe's work for them, not one round
 * trip each, and a finished client starts its next job sooner.
 */
static void
send_start(struct run *r, unsigned i, uint32_t type,
    const ProtobufCMessage *body)
{
	struct cli_error	 e;

	r->slots[i].st = SLOT_STARTING;
	if (cli_send(r->c, type, body, &e) == -1) {
		start_failed(r, i, &e, 1);
		return;
	}
	r->starting[r->nstarting++] = i;
}

static void
submit_restore(struct run *r, unsigned i, uint64_t backup)
{
	Kf__RestoreStart	 req = KF__RESTORE_START__INIT;
	char			 dest[PATH_MAX];

	restore_dir(r, backup, dest, sizeof(dest));
	if (mkdir(dest, 0700) == -1 && errno != EEXIST) {
		load_err_add(r->res, "LOCAL", strerror(errno));
		r->res->r_failed++;
		return;
	}
	req.backup_job = backup;
	req.dest_dir = dest;
	r->res->r_submitted++;
	r->slots[i].restoring = 1;
	r->slots[i].backup = backup;
	send_start(r, i, KF__MSG_TYPE__RESTORE_START, &req.base);
}

static int
keep_done(struct run *r, const Kf__JobInfo *ji, unsigned i)
{
	struct load_job	*n;
	size_t		 cap;

	if (r->ndone == r->capdone) {
		cap = r->capdone ? r->capdone * 2 : 256;
		if ((n = reallocarray(r->done, cap, sizeof(*n))) == NULL)
			return -1;
		r->done = n;
		r->capdone = cap;
	}
	n = &r->done[r->ndone++];
	memset(n, 0, sizeof(*n));
	n->id = ji->id;
	n->type = ji->type;
	n->state = ji->state;
	n->client = (int)i;
	n->bytes = ji->bytes;
	n->started_us = ji->started_us;
	n->ended_us = ji->has_ended_us ? ji->ended_us : 0;
	return 0;
}

static double
job_us(const Kf__JobInfo *ji)
{
	if (!ji->has_ended_us || ji->started_us <= 0 ||
	    ji->ended_us < ji->started_us)
		return -1;
	return (double)(ji->ended_us - ji->started_us);
}

static void
backup_ended(struct run *r, unsigned i, const Kf__JobInfo *ji)
{
	struct load_result	*res = r->res;
	double			 us = job_us(ji);

	r->slots[i].st = SLOT_IDLE;
	if (ji->state != KF__JOB_STATE__JOB_COMPLETED) {
		res->b_failed++;
		load_err_add(res, err_code_name(ji), ji->error);
		return;
	}
	res->b_completed++;
	res->b_bytes += ji->bytes;
	r->b_bytes_done += ji->bytes;
	if (us >= 0 && (load_vals_add(&res->lat_b, us) == -1 ||
	    (us > 0 && load_vals_add(&res->rate_b,
	    (double)ji->bytes * 1e6 / us) == -1)))
		r->abort = 1;
	if (keep_done(r, ji, i) == -1)
		r->abort = 1;
	if (r->conf->restore && !r->stopping && !util_stop)
		submit_restore(r, i, ji->id);
}

static void
restore_ended(struct run *r, unsigned i, const Kf__JobInfo *ji)
{
	struct load_result	*res = r->res;
	char			 dest[PATH_MAX], msg[PATH_MAX + 128];
	double			 us = job_us(ji);
	int			 eq;

	r->slots[i].st = SLOT_IDLE;
	restore_dir(r, ji->has_backup_job ? ji->backup_job : 0, dest,
	    sizeof(dest));
	if (ji->state != KF__JOB_STATE__JOB_COMPLETED) {
		res->r_failed++;
		load_err_add(res, err_code_name(ji), ji->error);
	} else if ((eq = compare(r, dest, msg, sizeof(msg))) != 1) {
		res->r_mismatch++;
		load_err_add(res, eq == 0 ? "RESTORE_MISMATCH" : "LOCAL", msg);
	} else {
		res->r_completed++;
		res->r_bytes += ji->bytes;
		if (us >= 0 && load_vals_add(&res->lat_r, us) == -1)
			r->abort = 1;
	}
	r->r_bytes_done += ji->bytes;
	(void)load_rmtree(dest);
}

/* A slot's job changed: record progress, or move the slot on. */
static void
job_seen(struct run *r, unsigned i, const Kf__JobInfo *ji)
{
	struct slot	*s = &r->slots[i];

	s->seen = 1;
	if (ji->state == KF__JOB_STATE__JOB_RUNNING) {
		s->bytes_now = ji->bytes;
		return;
	}
	s->bytes_now = 0;
	r->jobs_done++;
	if (s->st == SLOT_BACKUP)
		backup_ended(r, i, ji);
	else
		restore_ended(r, i, ji);
}

static void
submit_backup(struct run *r, unsigned i)
{
	Kf__BackupStart		 req = KF__BACKUP_START__INIT;
	struct slot		*s = &r->slots[i];

	req.client = (char *)load_clients_name(r->lc, i);
	req.pool = (char *)r->conf->pool;
	req.n_paths = r->npaths;
	req.paths = (char **)r->paths;
	if (r->conf->streams > 0) {
		req.has_streams = 1;
		req.streams = r->conf->streams;
	}
	s->started++;
	r->res->b_submitted++;
	s->restoring = 0;
	send_start(r, i, KF__MSG_TYPE__BACKUP_START, &req.base);
}

/* Read the replies to every start request sent, in the order sent. */
static void
finish_starts(struct run *r)
{
	const Kf__JobInfo	*ji;
	struct cli_error	 e;
	struct wire_msg		 m;
	struct slot		*s;
	unsigned		 k, i;
	int			 lost = 0;

	for (k = 0; k < r->nstarting; k++) {
		s = &r->slots[i = r->starting[k]];
		if (cli_await(r->c, KF__MSG_TYPE__JOB_INFO, &m, &e) == -1) {
			/* A lost connection loses every reply due on it: the
			 * run is one failure nearer its end, not one each. */
			start_failed(r, i, &e, !lost);
			lost |= e.why != CLI_FAIL_REPLY;
			continue;
		}
		ji = (const Kf__JobInfo *)m.body;
		r->req_fails = 0;
		s->st = s->restoring ? SLOT_RESTORE : SLOT_BACKUP;
		s->job = ji->id;
		s->bytes_now = 0;
		s->seen = 1;
		if (!s->restoring)
			job_seen(r, i, ji);
		wire_msg_clear(&m);
	}
	r->nstarting = 0;
}

/* A request that waits for its reply: the start replies come first. */
static int
request(struct run *r, uint32_t type, const ProtobufCMessage *body,
    uint32_t expect, struct wire_msg *m, struct cli_error *e)
{
	finish_starts(r);
	return cli_request_quiet(r->c, type, body, expect, m, e);
}

static unsigned
running(const struct run *r)
{
	unsigned	i, n = 0;

	for (i = 0; i < r->conf->clients; i++)
		n += r->slots[i].st != SLOT_IDLE;
	return n;
}

/* One JOB_LIST for every running job; JOB_GET for those not in it. */
static void
poll_jobs(struct run *r)
{
	Kf__ListRequest		 lr = KF__LIST_REQUEST__INIT;
	Kf__JobGet		 g = KF__JOB_GET__INIT;
	const Kf__JobListReply	*l;
	struct cli_error	 e;
	struct wire_msg		 m;
	unsigned		 i, n = running(r);
	size_t			 k;

	if (n == 0)
		return;
	for (i = 0; i < r->conf->clients; i++)
		r->slots[i].seen = 0;
	lr.has_limit = 1;
	/* Ours are among the newest; one that is not gets a JOB_GET. */
	lr.limit = 2 * n + 16 > 10000 ? 10000 : 2 * n + 16;
	if (request(r, KF__MSG_TYPE__JOB_LIST, &lr.base,
	    KF__MSG_TYPE__JOB_LIST_REPLY, &m, &e) == -1) {
		req_failed(r, &e, "job list");
		return;
	}
	r->req_fails = 0;
	l = (const Kf__JobListReply *)m.body;
	for (i = 0; i < r->conf->clients; i++) {
		if (r->slots[i].st != SLOT_BACKUP &&
		    r->slots[i].st != SLOT_RESTORE)
			continue;
		for (k = 0; k < l->n_jobs; k++)
			if (l->jobs[k]->id == r->slots[i].job) {
				job_seen(r, i, l->jobs[k]);
				break;
			}
	}
	wire_msg_clear(&m);
	for (i = 0; i < r->conf->clients && !util_stop; i++) {
		/* A restore this loop just started is not polled yet. */
		if ((r->slots[i].st != SLOT_BACKUP &&
		    r->slots[i].st != SLOT_RESTORE) || r->slots[i].seen)
			continue;
		g.job = r->slots[i].job;
		if (request(r, KF__MSG_TYPE__JOB_GET, &g.base,
		    KF__MSG_TYPE__JOB_INFO, &m, &e) == -1) {
			req_failed(r, &e, "job get");
			continue;
		}
		if (((Kf__JobInfo *)m.body)->id == g.job)
			job_seen(r, i, (Kf__JobInfo *)m.body);
		wire_msg_clear(&m);
	}
}

static void
progress(struct run *r, const struct load_sample *s, int final)
{
	char	line[256], h[32];
	int	n;

	snprintf(line, sizeof(line), "load: %llu/%llu backups done, %llu "
	    "restores, %u running, %llu errors, %.1f MB/s, %s in %.0f s",
	    (unsigned long long)(r->res->b_completed + r->res->b_failed),
	    (unsigned long long)(r->conf->jobs ? r->conf->jobs *
	    r->conf->clients : r->res->b_submitted),
	    (unsigned long long)(r->res->r_completed + r->res->r_failed +
	    r->res->r_mismatch), s->running,
	    (unsigned long long)r->res->nerrors,
	    s->backup_mbs + s->restore_mbs,
	    util_human_bytes(s->backup_bytes, h, sizeof(h)), s->t_s);
	if (!r->tty) {
		if (!final)
			fprintf(stderr, "%s\n", line);
		return;
	}
	n = (int)strlen(line);
	fprintf(stderr, "\r%s%*s", line, r->drawn > n ? r->drawn - n : 0, "");
	r->drawn = n;
	if (final) {
		fputc('\n', stderr);
		r->drawn = 0;
	}
	fflush(stderr);
}

/* A time-series row, the daemons sampled, the progress line. */
static void
sample(struct run *r, int64_t now, int final)
{
	struct load_sample	s;
	double			dt = (double)(now - r->last_ms) / 1000.0;
	unsigned		i;

	memset(&s, 0, sizeof(s));
	s.t_s = (double)(now - r->t0_ms) / 1000.0;
	s.backup_bytes = r->b_bytes_done;
	s.restore_bytes = r->r_bytes_done;
	for (i = 0; i < r->conf->clients; i++) {
		if (r->slots[i].st == SLOT_BACKUP)
			s.backup_bytes += r->slots[i].bytes_now;
		else if (r->slots[i].st == SLOT_RESTORE)
			s.restore_bytes += r->slots[i].bytes_now;
	}
	if (dt > 0) {
		s.backup_mbs = s.backup_bytes >= r->last_b ?
		    (double)(s.backup_bytes - r->last_b) / 1e6 / dt : 0;
		s.restore_mbs = s.restore_bytes >= r->last_r ?
		    (double)(s.restore_bytes - r->last_r) / 1e6 / dt : 0;
	}
	s.jobs_done = r->jobs_done;
	s.errors = r->res->nerrors;
	s.running = running(r);
	load_daemons_sample(r->res->daemons, r->res->ndaemons, dt, &s);
	if (load_sample_add(r->res, &s) == -1)
		r->abort = 1;
	r->last_ms = now;
	r->last_b = s.backup_bytes;
	r->last_r = s.restore_bytes;
	progress(r, &s, final);
}

/* Every job this run may still start has been started. */
static int
slot_finished(const struct run *r, unsigned i)
{
	return r->slots[i].st == SLOT_IDLE && (r->stopping ||
	    (r->conf->jobs > 0 && r->slots[i].started >= r->conf->jobs));
}

/* The seed step times of every completed backup, from its trace. */
static void
read_traces(struct run *r)
{
	Kf__TraceGet		 req = KF__TRACE_GET__INIT;
	const Kf__TraceReply	*t;
	struct cli_error	 e;
	struct wire_msg		 m;
	int64_t			 st[STEP_N];
	size_t			 i;
	int			 k;

	if (r->ndone > 0)
		load_nap(TRACE_WAIT_MS);
	req.has_job = 1;
	for (i = 0; i < r->ndone && !util_stop && !r->abort; i++) {
		req.job = r->done[i].id;
		if (request(r, KF__MSG_TYPE__TRACE_GET, &req.base,
		    KF__MSG_TYPE__TRACE_REPLY, &m, &e) == -1) {
			req_failed(r, &e, "trace get");
			continue;
		}
		t = (const Kf__TraceReply *)m.body;
		load_steps_of((const Kf__TraceEvent *const *)t->events,
		    t->n_events, r->done[i].started_us, r->done[i].ended_us,
		    st);
		for (k = 0; k < STEP_N; k++)
			if (st[k] >= 0)
				(void)load_vals_add(&r->res->steps[k],
				    (double)st[k]);
		r->res->traced++;
		wire_msg_clear(&m);
	}
}

/* The stack's daemons and our clientd processes, sampled once. */
static int
find_daemons(struct run *r)
{
	struct load_result	*res = r->res;
	struct load_daemon	*d;
	unsigned		 i;

	if ((res->daemons = calloc(LOAD_DAEMONS_MAX, sizeof(*d))) == NULL)
		return cli_fail("out of memory"), -1;
	res->ndaemons = load_daemons_find(r->c->endpoint, res->daemons,
	    LOAD_DAEMONS_MAX - (int)r->conf->clients);
	for (i = 0; i < r->conf->clients; i++) {
		d = &res->daemons[res->ndaemons++];
		d->pid = load_clients_pid(r->lc, i);
		d->role = ROLE_CLIENT;
		snprintf(d->name, sizeof(d->name), "clientd %s",
		    load_clients_name(r->lc, i));
	}
	load_daemons_sample(res->daemons, res->ndaemons, 0, NULL);
	return 0;
}

int
load_run(struct cli *c, const struct load_conf *conf,
    struct load_clients *lc, const char *scratch, char *const *paths,
    unsigned npaths, struct load_result *res)
{
	struct run	r;
	char		dir[PATH_MAX];
	int64_t		now;
	unsigned	i, busy;

	memset(&r, 0, sizeof(r));
	r.c = c;
	r.conf = conf;
	r.lc = lc;
	r.scratch = scratch;
	r.paths = paths;
	r.npaths = npaths;
	r.res = res;
	r.tty = isatty(STDERR_FILENO);
	res->conf = conf;
	snprintf(dir, sizeof(dir), "%s/restore", scratch);
	if ((conf->restore && mkdir(dir, 0700) == -1 && errno != EEXIST) ||
	    (r.slots = calloc(conf->clients, sizeof(*r.slots))) == NULL ||
	    (r.starting = calloc(conf->clients, sizeof(*r.starting))) ==
	    NULL) {
		free(r.slots);
		cli_fail("cannot prepare the run: %s", strerror(errno));
		return -1;
	}
	if (find_daemons(&r) == -1) {
		free(r.starting);
		free(r.slots);
		return -1;
	}
	r.t0_ms = r.last_ms = util_mono_ms();
	r.next_ms = r.t0_ms + SAMPLE_MS;
	for (;;) {
		now = util_mono_ms();
		if (util_stop) {
			res->interrupted = 1;
			break;
		}
		if (!r.stopping && conf->duration_ms > 0 &&
		    now - r.t0_ms >= conf->duration_ms) {
			r.stopping = 1;
			r.stop_ms = now;
		}
		if (r.stopping && now - r.stop_ms > GRACE_MS)
			break;
		if (load_clients_check(lc) == -1) {
			load_err_add(res, "CLIENTD_EXITED", "a load clientd "
			    "exited during the run");
			r.abort = 1;
		}
		if (r.abort)
			break;
		for (i = 0; i < conf->clients && !util_stop && !r.abort; i++)
			if (r.slots[i].st == SLOT_IDLE &&
			    !slot_finished(&r, i))
				submit_backup(&r, i);
		for (i = 0, busy = 0; i < conf->clients; i++)
			busy += !slot_finished(&r, i);
		if (busy == 0)
			break;
		/*
		 * Poll sooner when few jobs run: a finished job is seen (and
		 * its client's next one started) within a few ms, without
		 * flooding CommServe with JOB_LISTs when many run.
		 */
		busy = POLL_MS_MIN - 1 + running(&r);
		load_nap(busy > POLL_MS_MAX ? POLL_MS_MAX : (int)busy);
		poll_jobs(&r);
		/*
		 * On a grid of whole seconds from the start: a late sample
		 * does not push the later ones back.  If this loop was held
		 * up past several grid points (a stalled CommServe, a loaded
		 * machine), one row covers them: its rates are over its own
		 * interval, and no burst of rows a few ms apart follows.
		 */
		now = util_mono_ms();
		if (now >= r.next_ms) {
			sample(&r, now, 0);
			while (r.next_ms <= now)
				r.next_ms += SAMPLE_MS;
		}
	}
	finish_starts(&r);
	res->unfinished = running(&r);
	now = util_mono_ms();
	res->wall_us = (now - r.t0_ms) * 1000;
	if (now - r.last_ms >= 200 || res->nsamples == 0)
		sample(&r, now, 1);
	else
		progress(&r, &res->samples[res->nsamples - 1], 1);
	if (!res->interrupted)
		read_traces(&r);
	free(r.done);
	free(r.starting);
	free(r.slots);
	return r.abort ? -1 : 0;
}
