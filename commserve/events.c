/*
 * events.c - trace events into the job events table.
 *
 * CommServe's own events arrive through events_sink (trace.c calls it);
 * other daemons publish theirs to CommServe's SUB socket.  A received event
 * is untrusted input like any other: wrong frame count, an unparseable body
 * or fields out of bounds get it rejected with a log line, and the
 * subscriber keeps going.
 *
 * Events are queued and stored in batches, at most EVENTS_DELAY_MS after
 * the first of a batch arrived or as soon as DB_EVENTS_BATCH_MAX wait: a
 * small job has about ten events, and a commit each made the database the
 * bottleneck of small jobs.  Reading a trace stores the queue first, so
 * `keyflow trace` always sees every event CommServe has received.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commserve.h"
#include "log.h"
#include "util.h"

#define EVENT_BODY_MAX	8192
#define EVENTS_DELAY_MS	20	/* longest an event waits to be stored */

/* Events received and not yet stored. */
struct event_batch {
	struct db_event	 ev[DB_EVENTS_BATCH_MAX]; /* in arrival order */
	size_t		 n;		/* queued */
	int64_t		 first_ms;	/* when ev[0] arrived, monotonic */
};

static int64_t
trace_job_id(const char *tid)
{
	char		*end;
	long long	 v;

	if (strncmp(tid, "job/", 4) != 0)
		return 0;
	errno = 0;
	v = strtoll(tid + 4, &end, 10);
	if (errno != 0 || *end != '\0' || v <= 0)
		return 0;
	return (int64_t)v;
}

void
events_sink(void *arg, const Kf__TraceEvent *ev)
{
	struct cs		*cs = arg;
	struct event_batch	*b;
	struct db_event		*e;

	if (!trace_event_publishable(ev)) {
		log_warnx("rejected a trace event: fields missing or too long");
		return;
	}
	if (cs->events == NULL &&
	    (cs->events = calloc(1, sizeof(*cs->events))) == NULL) {
		log_warnx("cannot queue a trace event of %s: out of memory",
		    ev->trace_id);
		return;
	}
	b = cs->events;
	if (b->n == DB_EVENTS_BATCH_MAX)
		events_flush(cs);
	e = &b->ev[b->n];
	memset(e, 0, sizeof(*e));
	snprintf(e->trace_id, sizeof(e->trace_id), "%s", ev->trace_id);
	e->job_id = trace_job_id(ev->trace_id);
	snprintf(e->flow, sizeof(e->flow), "%s", ev->flow);
	e->step = ev->step;
	snprintf(e->actor, sizeof(e->actor), "%s", ev->actor);
	snprintf(e->action, sizeof(e->action), "%s", ev->action);
	if (ev->peer != NULL)
		snprintf(e->peer, sizeof(e->peer), "%s", ev->peer);
	e->bytes = ev->has_bytes ? ev->bytes : 0;
	e->ts_us = ev->ts_us;
	if (ev->detail != NULL)
		snprintf(e->detail, sizeof(e->detail), "%s", ev->detail);
	if (b->n++ == 0)
		b->first_ms = util_mono_ms();
}

void
events_flush(struct cs *cs)
{
	struct event_batch	*b = cs->events;

	if (b == NULL || b->n == 0)
		return;
	if (db_events_add(cs->db, b->ev, b->n) != DB_OK)
		log_warnx("cannot store %zu trace events (the first of %s): "
		    "%s", b->n, b->ev[0].trace_id, db_errmsg(cs->db));
	b->n = 0;
}

int
events_due_ms(const struct cs *cs)
{
	int64_t	left;

	if (cs->events == NULL || cs->events->n == 0)
		return -1;
	left = cs->events->first_ms + EVENTS_DELAY_MS - util_mono_ms();
	return left < 0 ? 0 : (int)left;
}

void
events_free(struct cs *cs)
{
	events_flush(cs);
	free(cs->events);
	cs->events = NULL;
}

/* One frame of a multipart message, at most cap bytes; -1 if not. */
static int
recv_frame(void *sock, void *buf, size_t cap, size_t *len, int *more)
{
	int	n;
	size_t	sz = sizeof(*more);

	n = zmq_recv(sock, buf, cap, ZMQ_DONTWAIT);
	if (n == -1)
		return -1;
	*len = (size_t)n;
	if (zmq_getsockopt(sock, ZMQ_RCVMORE, more, &sz) == -1)
		*more = 0;
	return 0;
}

void
events_receive(struct cs *cs)
{
	Kf__TraceEvent	*ev;
	uint8_t		 topic[16], body[EVENT_BODY_MAX], junk[64];
	size_t		 tlen, blen, jlen;
	int		 more, n;

	for (n = 0; n < 256; n++) {
		if (recv_frame(cs->sub, topic, sizeof(topic), &tlen,
		    &more) == -1)
			return;
		if (tlen != strlen(TRACE_TOPIC) || !more) {
			log_warnx("rejected a trace event: bad topic frame");
			while (more && recv_frame(cs->sub, junk, sizeof(junk),
			    &jlen, &more) == 0)
				;
			continue;
		}
		if (recv_frame(cs->sub, body, sizeof(body), &blen,
		    &more) == -1)
			return;
		if (more || blen > sizeof(body)) {
			log_warnx("rejected a trace event: %s", more ?
			    "extra frames" : "body too large");
			while (more && recv_frame(cs->sub, junk, sizeof(junk),
			    &jlen, &more) == 0)
				;
			continue;
		}
		ev = kf__trace_event__unpack(NULL, blen, body);
		if (ev == NULL) {
			log_warnx("rejected a trace event: not a valid "
			    "TraceEvent protobuf");
			continue;
		}
		events_sink(cs, ev);
		kf__trace_event__free_unpacked(ev, NULL);
	}
}
