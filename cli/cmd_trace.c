/*
 * cmd_trace.c - keyflow trace: a job's (or a pool creation's) data flow,
 * step by step, as the seed numbers it.
 *
 * CommServe returns every trace event the actors reported for the job or
 * pool.  We print each flow present under the seed's title, then every
 * seed step in order with the seed's own sentence (common/seed.h), and
 * under it what each actor said it did, to whom, how many bytes, and when
 * (as an offset from the first event).  A step nobody reported is printed
 * as "(no event recorded)", so a missing step is as visible as a present
 * one.  Events outside the seed's numbering are listed too, never dropped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "seed.h"
#include "util.h"

/* An event and its position in the reply (for a stable sort). */
struct ev_ref {
	const Kf__TraceEvent	*ev;	/* the event */
	size_t			 idx;	/* position in the reply */
};

static const char *const flow_order[] = { "pool", "backup", "restore" };

static size_t
flow_rank(const char *flow)
{
	size_t	i;

	for (i = 0; i < sizeof(flow_order) / sizeof(flow_order[0]); i++)
		if (strcmp(flow, flow_order[i]) == 0)
			return i;
	return i;
}

/* Flow, then trace id, then step, then time, then arrival. */
static int
ev_cmp(const void *pa, const void *pb)
{
	const struct ev_ref	*a = pa, *b = pb;
	size_t			 ra = flow_rank(a->ev->flow);
	size_t			 rb = flow_rank(b->ev->flow);
	int			 r;

	if (ra != rb)
		return ra < rb ? -1 : 1;
	if ((r = strcmp(a->ev->flow, b->ev->flow)) != 0 ||
	    (r = strcmp(a->ev->trace_id, b->ev->trace_id)) != 0)
		return r;
	if (a->ev->step != b->ev->step)
		return a->ev->step < b->ev->step ? -1 : 1;
	if (a->ev->ts_us != b->ev->ts_us)
		return a->ev->ts_us < b->ev->ts_us ? -1 : 1;
	return a->idx < b->idx ? -1 : (a->idx > b->idx);
}

static const char *
actor_name(const char *actor)
{
	if (strcmp(actor, "commserve") == 0)
		return "CommServe";
	if (strcmp(actor, "kms") == 0)
		return "KMS";
	if (strcmp(actor, "client") == 0)
		return "Client";
	if (strcmp(actor, "mediaagent") == 0)
		return "MediaAgent";
	return actor;
}

static void
event_json(struct json *j, const Kf__TraceEvent *ev)
{
	json_obj_begin(j);
	json_kstr(j, "trace_id", ev->trace_id);
	json_kstr(j, "flow", ev->flow);
	json_ku64(j, "step", ev->step);
	json_kstr(j, "actor", ev->actor);
	json_kstr(j, "action", ev->action);
	json_kstr(j, "peer", ev->peer);
	if (ev->has_bytes)
		json_ku64(j, "bytes", ev->bytes);
	json_ktime(j, "ts", ev->ts_us);
	json_kstr(j, "detail", ev->detail);
	json_obj_end(j);
}

/* "12582912 bytes = 12.0 MiB", or "60 bytes". */
static const char *
event_bytes(uint64_t n, char *buf, size_t cap)
{
	char	h[32];

	if (n < 1024)
		snprintf(buf, cap, "%llu bytes", (unsigned long long)n);
	else
		snprintf(buf, cap, "%llu bytes = %s", (unsigned long long)n,
		    util_human_bytes(n, h, sizeof(h)));
	return buf;
}

/* "     +12.3 ms  Client: sent 3 chunks (to ma1, 3145728 bytes = 3.0 MiB)" */
static void
event_line(const Kf__TraceEvent *ev, int64_t t0)
{
	char		 off[32], b[64] = "";
	const char	*peer = ev->peer;
	double		 ms = ((double)ev->ts_us - (double)t0) / 1000.0;
	int		 paren = peer != NULL || ev->has_bytes;

	if (ms < 10000)
		snprintf(off, sizeof(off), "+%.1f ms", ms);
	else
		snprintf(off, sizeof(off), "+%.3f s", ms / 1000);
	if (ev->has_bytes)
		event_bytes(ev->bytes, b, sizeof(b));
	out_line(stdout, "     %10s  %s: %s%s%s%s%s%s%s", off,
	    actor_name(ev->actor), ev->action, paren ? " (" : "",
	    peer ? "to " : "", peer ? peer : "",
	    peer && ev->has_bytes ? ", " : "", b, paren ? ")" : "");
	if (ev->detail != NULL)
		out_line(stdout, "                 %s", ev->detail);
}

/* "  3. CommServe → client local" and the seed's sentence. */
static void
step_heading(const char *flow, unsigned step, const struct ev_ref *evs,
    size_t n)
{
	const struct seed_step	*ss = seed_step(flow, step);
	const char		*peer = NULL;
	size_t			 i;

	for (i = 0; i < n && peer == NULL; i++)
		peer = evs[i].ev->peer;
	if (ss == NULL) {
		out_line(stdout, "  %u. (not a seed step)", step);
		return;
	}
	out_line(stdout, "  %u. %s%s%s", step, actor_name(ss->actor),
	    peer ? " \u2192 " : "", peer ? peer : "");
	out_line(stdout, "     %s", ss->text);
}

/* One flow of one trace id: evs are its events, sorted by step. */
static void
print_flow(const struct ev_ref *evs, size_t n, int64_t t0)
{
	const char	*flow = evs[0].ev->flow, *title, *slash;
	const char	*tid = evs[0].ev->trace_id;
	unsigned	 steps = seed_steps(flow), s;
	size_t		 i = 0, k;

	title = seed_flow_title(flow);
	slash = strchr(tid, '/');
	out_line(stdout, "%s%s%s \u2014 %.*s%s%s", title ? title : "flow '",
	    title ? "" : flow, title ? "" : "'",
	    (int)(slash ? slash - tid : (ptrdiff_t)strlen(tid)), tid,
	    slash ? " " : "", slash ? slash + 1 : "");
	/* Events before step 1 (step 0) are not seed steps. */
	for (; i < n && evs[i].ev->step == 0; i = k) {
		for (k = i; k < n && evs[k].ev->step == 0; k++)
			;
		step_heading(flow, 0, evs + i, k - i);
		for (; i < k; i++)
			event_line(evs[i].ev, t0);
	}
	for (s = 1; s <= steps; s++) {
		for (k = i; k < n && evs[k].ev->step == s; k++)
			;
		step_heading(flow, s, evs + i, k - i);
		if (k == i)
			printf("     %10s  (no event recorded)\n", "");
		for (; i < k; i++)
			event_line(evs[i].ev, t0);
	}
	while (i < n) {
		for (k = i; k < n && evs[k].ev->step == evs[i].ev->step; k++)
			;
		step_heading(flow, evs[i].ev->step, evs + i, k - i);
		for (; i < k; i++)
			event_line(evs[i].ev, t0);
	}
}

static int
print_trace(const Kf__TraceReply *r)
{
	struct ev_ref	*evs;
	int64_t		 t0;
	size_t		 i, k;

	if ((evs = calloc(r->n_events, sizeof(*evs))) == NULL)
		return cli_fail("out of memory");
	t0 = r->events[0]->ts_us;
	for (i = 0; i < r->n_events; i++) {
		evs[i].ev = r->events[i];
		evs[i].idx = i;
		if (r->events[i]->ts_us < t0)
			t0 = r->events[i]->ts_us;
	}
	qsort(evs, r->n_events, sizeof(*evs), ev_cmp);
	for (i = 0; i < r->n_events; i = k) {
		for (k = i + 1; k < r->n_events &&
		    strcmp(evs[k].ev->flow, evs[i].ev->flow) == 0 &&
		    strcmp(evs[k].ev->trace_id, evs[i].ev->trace_id) == 0; k++)
			;
		if (i > 0)
			putchar('\n');
		print_flow(evs + i, k - i, t0);
	}
	free(evs);
	return CLI_EXIT_OK;
}

int
cmd_trace(struct cli *c, const struct cli_args *a)
{
	Kf__TraceGet		 req = KF__TRACE_GET__INIT;
	const Kf__TraceReply	*r;
	struct wire_msg		 m;
	struct json		 j;
	char			 what[128];
	size_t			 i;
	int			 rc = CLI_EXIT_OK;

	req.pool = (char *)cli_opt(a, "pool");
	if ((a->npos == 1) == (req.pool != NULL))
		return cli_usage_error(c, "give either JOB or --pool NAME");
	if (req.pool != NULL && req.pool[0] == '\0')
		return cli_usage_error(c, "--pool NAME must not be empty");
	if (a->npos == 1) {
		if (cli_parse_id(c, "JOB", a->pos[0], &req.job) == -1)
			return CLI_EXIT_USAGE;
		req.has_job = 1;
	}
	if (cli_request(c, KF__MSG_TYPE__TRACE_GET, &req.base,
	    KF__MSG_TYPE__TRACE_REPLY, &m) == -1)
		return CLI_EXIT_FAIL;
	r = (const Kf__TraceReply *)m.body;
	if (c->json) {
		json_init(&j, stdout);
		json_arr_begin(&j);
		for (i = 0; i < r->n_events; i++)
			event_json(&j, r->events[i]);
		json_arr_end(&j);
		json_finish(&j);
	} else if (r->n_events == 0) {
		if (req.pool != NULL)
			snprintf(what, sizeof(what), "storage pool %s",
			    req.pool);
		else
			snprintf(what, sizeof(what), "job %llu",
			    (unsigned long long)req.job);
		out_line(stdout, "no trace events recorded for %s", what);
	} else
		rc = print_trace(r);
	wire_msg_clear(&m);
	return rc;
}
