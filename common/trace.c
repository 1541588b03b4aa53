/*
 * trace.c - seed-step trace events (see trace.h).
 *
 * One struct trace per daemon.  Events go to a PUB socket connected to
 * CommServe's event endpoint, or to a sink function (CommServe itself), and
 * every event is logged too.  A mutex serialises the PUB socket, which job
 * threads share.
 *
 * With CURVE on, CommServe refuses a publisher whose key is not in its
 * trust directory, and libzmq then never tries that connection again.  So
 * a monitor watches the PUB's handshakes, and trace_tick() (the daemon's
 * loop calls it) makes the socket anew every TRACE_RETRY_MS while it is
 * refused: a daemon whose key is trusted later gets its events through
 * without a restart.
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
#include "zmon.h"

#define TRACE_RETRY_MS	2000	/* a refused publisher tries again after */

struct trace {
	char		 actor[32];	/* who emits: "client", ... */
	void		*pub;		/* PUB socket, or NULL */
	void		*mon;		/* PAIR: pub's handshakes, or NULL */
	void		*ctx;		/* zmq context pub was made in */
	char		 endpoint[256];	/* CommServe's event endpoint */
	int		 refused;	/* CommServe refused our key */
	int64_t		 retry_ms;	/* then: when to make pub anew, or 0 */
	trace_sink_fn	 sink;		/* or a function */
	void		*sink_arg;	/* its argument */
	pthread_mutex_t	 lock;		/* serialises all of the above */
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

static void
unlink_pub(struct trace *t)
{
	if (t->mon != NULL)
		zmq_close(t->mon);
	if (t->pub != NULL)
		zmq_close(t->pub);
	t->mon = t->pub = NULL;
}

/* With CURVE on, watch s's handshakes on t->mon; -1 when it cannot. */
static int
watch_pub(struct trace *t, void *s)
{
	if (!curve_enabled())
		return 0;
	if ((t->mon = zmon_open(t->ctx, s, ZMQ_EVENT_HANDSHAKE_SUCCEEDED |
	    ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)) == NULL) {
		log_warnx("trace: cannot watch the link to %s: %s",
		    t->endpoint, zmq_strerror(zmq_errno()));
		return -1;
	}
	return 0;
}

/* (Re)make the PUB socket to t->endpoint; t->lock is held. */
static int
link_pub(struct trace *t)
{
	void	*s;
	int	 zero = 0, hwm = 100000;

	unlink_pub(t);
	if ((s = zmq_socket(t->ctx, ZMQ_PUB)) == NULL)
		return -1;
	zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof(zero));
	zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof(hwm));
	/* Trace events go to CommServe: its CURVE key, when on. */
	if (curve_apply_commserve(s, t->endpoint) == -1 ||
	    watch_pub(t, s) == -1) {
		zmq_close(s);
		unlink_pub(t);
		return -1;
	}
	if (zmq_connect(s, t->endpoint) == -1) {
		log_warnx("trace: cannot connect to %s: %s", t->endpoint,
		    zmq_strerror(zmq_errno()));
		zmq_close(s);
		unlink_pub(t);
		return -1;
	}
	t->pub = s;
	return 0;
}

int
trace_connect(struct trace *t, void *ctx, const char *endpoint)
{
	int	rc;

	if (strlen(endpoint) >= sizeof(t->endpoint)) {
		log_warnx("trace: endpoint longer than %zu bytes",
		    sizeof(t->endpoint) - 1);
		return -1;
	}
	pthread_mutex_lock(&t->lock);
	t->ctx = ctx;
	snprintf(t->endpoint, sizeof(t->endpoint), "%s", endpoint);
	t->refused = 0;
	t->retry_ms = 0;
	rc = link_pub(t);
	pthread_mutex_unlock(&t->lock);
	if (rc == 0)
		log_debug("publishing trace events to %s", endpoint);
	return rc;
}

/* What the monitor saw of the handshakes since the last look. */
static void
read_monitor(struct trace *t, int64_t now)
{
	uint16_t	what;
	uint32_t	value;

	while (zmon_next(t->mon, &what, &value)) {
		if (what == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
			if (t->refused)
				log_info("trace: %s accepts this daemon's "
				    "CURVE key now; events are published",
				    t->endpoint);
			t->refused = 0;
			t->retry_ms = 0;
			continue;
		}
		if (!t->refused)
			log_warnx("trace: %s refused this daemon's CURVE key "
			    "(not in CommServe's trust directory?); events "
			    "are only logged, trying again every %d s",
			    t->endpoint, TRACE_RETRY_MS / 1000);
		t->refused = 1;
		t->retry_ms = now + TRACE_RETRY_MS;
	}
}

void
trace_tick(struct trace *t)
{
	int64_t	now = util_mono_ms();

	if (t == NULL)
		return;
	pthread_mutex_lock(&t->lock);
	if (t->mon != NULL)
		read_monitor(t, now);
	if (t->refused && t->retry_ms != 0 && now >= t->retry_ms) {
		t->retry_ms = 0;
		if (link_pub(t) == -1)
			t->retry_ms = now + TRACE_RETRY_MS;
	}
	pthread_mutex_unlock(&t->lock);
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
	unlink_pub(t);
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
