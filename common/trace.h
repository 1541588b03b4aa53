/*
 * trace.h - seed-step trace events.
 *
 * Each daemon emits one event for each seed step it performs (the job or
 * pool trace id, the flow, the step number, the actor, a sentence saying
 * what was done and to whom, and sizes; never key material).  clientd,
 * mediaagentd and kmsd publish them as protobuf on a ZeroMQ PUB socket that
 * connects to CommServe's event endpoint; commserved stores its own and
 * those it receives in the job_events table.  Every event is also logged.
 */
#ifndef KF_TRACE_H
#define KF_TRACE_H

#include <stdint.h>

#include "keyflow.pb-c.h"

#define TRACE_TOPIC	"trace"

/* Where events go: a PUB socket, or a function (commserved's DB sink). */
typedef void (*trace_sink_fn)(void *arg, const Kf__TraceEvent *ev);

struct trace;

struct trace *trace_new(const char *actor);
/* Publish to a PUB socket connected to endpoint (ctx is a zmq context). */
int	trace_connect(struct trace *, void *ctx, const char *endpoint);
/*
 * From the daemon's loop, often (every few hundred ms): with CURVE on, a
 * publisher CommServe refused is made anew every 2 s until it is let in.
 */
void	trace_tick(struct trace *);
void	trace_set_sink(struct trace *, trace_sink_fn fn, void *arg);
void	trace_free(struct trace **);

/*
 * Emit one step.  trace_id: "job/<id>" or "pool/<id>"; flow: "pool",
 * "backup" or "restore"; peer may be NULL; bytes 0 when not meaningful.
 * Safe to call from several threads.
 */
void	trace_step(struct trace *, const char *trace_id, const char *flow,
	    unsigned step, const char *peer, uint64_t bytes,
	    const char *fmt, ...) __attribute__((format(printf, 7, 8)));

/* Encode/decode a TraceEvent for the PUB/SUB link. */
int	trace_event_publishable(const Kf__TraceEvent *ev);

#endif
