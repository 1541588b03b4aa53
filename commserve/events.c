/*
 * events.c - trace events into the job events table.
 *
 * CommServe's own events arrive through events_sink (trace.c calls it);
 * other daemons publish theirs to CommServe's SUB socket.  A received event
 * is untrusted input like any other: wrong frame count, an unparseable body
 * or fields out of bounds get it rejected with a log line, and the
 * subscriber keeps going.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commserve.h"
#include "log.h"

#define EVENT_BODY_MAX	8192

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
	struct cs	*cs = arg;
	struct db_event	 e;

	if (!trace_event_publishable(ev)) {
		log_warnx("rejected a trace event: fields missing or too long");
		return;
	}
	memset(&e, 0, sizeof(e));
	snprintf(e.trace_id, sizeof(e.trace_id), "%s", ev->trace_id);
	e.job_id = trace_job_id(ev->trace_id);
	snprintf(e.flow, sizeof(e.flow), "%s", ev->flow);
	e.step = ev->step;
	snprintf(e.actor, sizeof(e.actor), "%s", ev->actor);
	snprintf(e.action, sizeof(e.action), "%s", ev->action);
	if (ev->peer != NULL)
		snprintf(e.peer, sizeof(e.peer), "%s", ev->peer);
	e.bytes = ev->has_bytes ? ev->bytes : 0;
	e.ts_us = ev->ts_us;
	if (ev->detail != NULL)
		snprintf(e.detail, sizeof(e.detail), "%s", ev->detail);
	if (db_event_add(cs->db, &e) != DB_OK)
		log_warnx("cannot store a trace event of %s: %s", e.trace_id,
		    db_errmsg(cs->db));
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
