/*
 * job_wait.c - follow a running backup or restore job until it ends.
 *
 * CommServe keeps each job's progress (the client reports it every 500 ms),
 * so the CLI polls JOB_GET and draws the numbers on stderr.  The first
 * poll comes after POLL_FIRST_MS and the interval doubles up to
 * POLL_MAX_MS, so a small job is seen to end within milliseconds of its
 * commit while a long one costs CommServe four requests a second:
 * one line rewritten in place when stderr is a terminal, else a line every
 * 2 s so logs stay readable.  Ctrl-C stops the watching, not the job.  A
 * CommServe that stops answering is retried a few times before we give up;
 * an ERROR reply ends the wait at once.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "util.h"

#define POLL_FIRST_MS	2	/* first JOB_GET after this */
#define POLL_MAX_MS	250	/* JOB_GET interval, once grown */
#define LINE_MS		2000	/* progress line interval, not a tty */
#define RETRIES		3	/* unanswered JOB_GETs before giving up */

/* The progress display. */
struct progress {
	int	 tty;		/* stderr is a terminal: rewrite one line */
	int	 drawn;		/* length of the line on screen, tty only */
	int64_t	 start_ms;	/* when we started following, monotonic */
	int64_t	 next_ms;	/* next line, not a tty */
};

/* "3/10 files, 1.2 MiB of 4.0 MiB (30%), 12.3 MB/s" */
static void
progress_text(const struct progress *p, const Kf__JobInfo *ji, char *buf,
    size_t cap)
{
	char		done[32], total[32], rate[32], pct[16] = "";
	uint64_t	ft = ji->has_files_total ? ji->files_total : 0;
	uint64_t	bt = ji->has_bytes_total ? ji->bytes_total : 0;
	int64_t		el = (util_mono_ms() - p->start_ms) * 1000;

	util_human_bytes(ji->bytes, done, sizeof(done));
	util_human_bytes(bt, total, sizeof(total));
	out_rate(ji->bytes, el, rate, sizeof(rate));
	if (bt > 0)
		snprintf(pct, sizeof(pct), " (%.0f%%)",
		    100.0 * (double)ji->bytes / (double)bt);
	else if (ft > 0)
		snprintf(pct, sizeof(pct), " (%.0f%%)",
		    100.0 * (double)ji->files / (double)ft);
	if (ft > 0 || bt > 0)
		snprintf(buf, cap, "%s job %llu: %llu/%llu files, %s of %s%s, "
		    "%s", job_type_name(ji->type), (unsigned long long)ji->id,
		    (unsigned long long)ji->files, (unsigned long long)ft,
		    done, total, pct, rate);
	else
		snprintf(buf, cap, "%s job %llu: %llu files, %s, %s",
		    job_type_name(ji->type), (unsigned long long)ji->id,
		    (unsigned long long)ji->files, done, rate);
}

static void
progress_draw(struct progress *p, const Kf__JobInfo *ji, int final)
{
	char	line[256];
	int	n;

	if (!p->tty) {
		if (!final && util_mono_ms() >= p->next_ms) {
			progress_text(p, ji, line, sizeof(line));
			fprintf(stderr, "%s\n", line);
			p->next_ms = util_mono_ms() + LINE_MS;
		}
		return;
	}
	progress_text(p, ji, line, sizeof(line));
	n = (int)strlen(line);
	/* Pad with blanks over what a longer previous line left. */
	fprintf(stderr, "\r%s%*s", line, p->drawn > n ? p->drawn - n : 0, "");
	p->drawn = n;
	if (final) {
		fputc('\n', stderr);
		p->drawn = 0;
	}
	fflush(stderr);
}

/* Sleep ms unless a signal asks us to stop. */
static void
nap(int ms)
{
	struct timespec	ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (!util_stop && nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/*
 * Poll the job in info (a JOB_INFO reply, replaced by each newer one)
 * until it is no longer running.  0 when it ended (whatever the outcome),
 * -1 when we stopped watching (Ctrl-C, CommServe gone); the reason is on
 * stderr and info holds the last state we saw.
 */
int
job_follow(struct cli *c, struct wire_msg *info)
{
	Kf__JobGet		 req = KF__JOB_GET__INIT;
	Kf__JobInfo		*ji = (Kf__JobInfo *)info->body;
	struct progress		 p;
	struct cli_error	 e;
	struct wire_msg		 m;
	uint64_t		 other;
	int			 misses = 0, poll_ms = POLL_FIRST_MS;

	memset(&p, 0, sizeof(p));
	p.tty = isatty(STDERR_FILENO);
	p.start_ms = util_mono_ms();
	p.next_ms = p.start_ms + LINE_MS;
	util_signals();
	req.job = ji->id;
	if (p.tty && ji->state == KF__JOB_STATE__JOB_RUNNING)
		progress_draw(&p, ji, 0);
	while (ji->state == KF__JOB_STATE__JOB_RUNNING) {
		nap(poll_ms);
		if ((poll_ms *= 2) > POLL_MAX_MS)
			poll_ms = POLL_MAX_MS;
		if (util_stop)
			goto stopped;
		if (cli_request_quiet(c, KF__MSG_TYPE__JOB_GET, &req.base,
		    KF__MSG_TYPE__JOB_INFO, &m, &e) == -1) {
			if (e.why == CLI_FAIL_STOPPED)
				goto stopped;
			if (e.why == CLI_FAIL_TIMEOUT && ++misses < RETRIES)
				continue;
			progress_draw(&p, ji, 1);
			cli_report(c, &e);
			goto lost;
		}
		misses = 0;
		if ((other = ((Kf__JobInfo *)m.body)->id) != req.job) {
			wire_msg_clear(&m);
			progress_draw(&p, ji, 1);
			cli_fail("CommServe answered about job %llu when asked "
			    "about job %llu", (unsigned long long)other,
			    (unsigned long long)req.job);
			goto lost;
		}
		wire_msg_clear(info);
		*info = m;
		ji = (Kf__JobInfo *)info->body;
		progress_draw(&p, ji, 0);
	}
	if (p.tty)
		progress_draw(&p, ji, 1);
	return 0;
stopped:
	progress_draw(&p, ji, 1);
	fprintf(stderr, "keyflow: stopped following %s job %llu; it goes on "
	    "at CommServe (see: keyflow job %llu)\n", job_type_name(ji->type),
	    (unsigned long long)ji->id, (unsigned long long)ji->id);
	return -1;
lost:
	fprintf(stderr, "keyflow: lost track of %s job %llu; it may still be "
	    "running (see: keyflow job %llu)\n", job_type_name(ji->type),
	    (unsigned long long)ji->id, (unsigned long long)ji->id);
	return -1;
}
