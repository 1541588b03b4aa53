/*
 * trace.c - seed-step trace events (see trace.h).
 *
 * One struct trace per daemon.  Events go to a PUB socket connected to
 * CommServe's event endpoint, or to a sink function (CommServe itself), and
 * every event is logged too.  A mutex serialises the PUB socket, which job
 * threads share.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "curve.h"
#include "log.h"
#include "trace.h"
#include "util.h"

struct trace {
	char		 actor[32];	/* who emits: "client", ... */
	void		*pub;		/* PUB socket, or NULL */
	trace_sink_fn	 sink;		/* or a function */
	void		*sink_arg;	/* its argument */
	pthread_mutex_t	 lock;		/* serialises pub and sink */
};

struct trace *
trace_new(const char *actor)
{
	struct trace	*t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	snprintf(t->actor, sizeof(t->actor), "%s", actor);
	pthread_mutex_init(&t->lock, NULL);
	return t;
}

int
trace_connect(struct trace *t, void *ctx, const char *endpoint)
{
	void	*s;
	int	 zero = 0, hwm = 100000;

	if ((s = zmq_socket(ctx, ZMQ_PUB)) == NULL)
		return -1;
	zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof(zero));
	zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof(hwm));
	/* Trace events go to CommServe: its CURVE key, when on. */
	if (curve_apply_commserve(s, endpoint) == -1) {
		zmq_close(s);
		return -1;
	}
	if (zmq_connect(s, endpoint) == -1) {
		log_warnx("trace: cannot connect to %s: %s", endpoint,
		    zmq_strerror(zmq_errno()));
		zmq_close(s);
		return -1;
	}
	pthread_mutex_lock(&t->lock);
	if (t->pub != NULL)
		zmq_close(t->pub);
	t->pub = s;
	pthread_mutex_unlock(&t->lock);
	log_debug("publishing trace events to %s", endpoint);
	return 0;
}

void
trace_set_sink(struct trace *t, trace_sink_fn fn, void *arg)
{
	pthread_mutex_lock(&t->lock);
	t->sink = fn;
	t->sink_arg = arg;
	pthread_mutex_unlock(&t->lock);
}

void
trace_free(struct trace **tp)
{
	struct trace	*t = *tp;

	if (t == NULL)
		return;
	if (t->pub != NULL)
		zmq_close(t->pub);
	pthread_mutex_destroy(&t->lock);
	free(t);
	*tp = NULL;
}

static void
publish(struct trace *t, const Kf__TraceEvent *ev)
{
	uint8_t		 stackbuf[2048];
	uint8_t		*buf = stackbuf;
	size_t		 len;

	len = protobuf_c_message_get_packed_size(&ev->base);
	if (len > sizeof(stackbuf) && (buf = malloc(len)) == NULL)
		return;
	protobuf_c_message_pack(&ev->base, buf);
	if (zmq_send(t->pub, TRACE_TOPIC, strlen(TRACE_TOPIC),
	    ZMQ_SNDMORE | ZMQ_DONTWAIT) == -1 ||
	    zmq_send(t->pub, buf, len, ZMQ_DONTWAIT) == -1)
		log_warnx("trace: event not published: %s",
		    zmq_strerror(zmq_errno()));
	if (buf != stackbuf)
		free(buf);
}

void
trace_step(struct trace *t, const char *trace_id, const char *flow,
    unsigned step, const char *peer, uint64_t bytes, const char *fmt, ...)
{
	Kf__TraceEvent	ev = KF__TRACE_EVENT__INIT;
	char		action[1024];
	va_list		ap;

	if (t == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(action, sizeof(action), fmt, ap);
	va_end(ap);
	ev.trace_id = (char *)trace_id;
	ev.flow = (char *)flow;
	ev.step = step;
	ev.actor = t->actor;
	ev.action = action;
	ev.peer = (char *)peer;
	if (bytes > 0) {
		ev.has_bytes = 1;
		ev.bytes = bytes;
	}
	ev.ts_us = util_now_us();
	log_info("trace %s %s step %u (%s): %s", trace_id, flow, step,
	    t->actor, action);
	pthread_mutex_lock(&t->lock);
	if (t->sink != NULL)
		t->sink(t->sink_arg, &ev);
	else if (t->pub != NULL)
		publish(t, &ev);
	pthread_mutex_unlock(&t->lock);
}

int
trace_event_publishable(const Kf__TraceEvent *ev)
{
	if (ev->trace_id == NULL || ev->flow == NULL || ev->actor == NULL ||
	    ev->action == NULL)
		return 0;
	if (strlen(ev->trace_id) >= 64 || strlen(ev->flow) >= 16 ||
	    strlen(ev->actor) >= 32 || strlen(ev->action) >= 1024)
		return 0;
	if (ev->peer != NULL && strlen(ev->peer) >= 128)
		return 0;
	if (ev->detail != NULL && strlen(ev->detail) >= 1024)
		return 0;
	if (ev->step == 0 || ev->step > 16)
		return 0;
	return 1;
}
