/*
 * sockpool.c - idle DEALERs a finished job left open, for the next job.
 *
 * Opening a DEALER costs a TCP connection and, with CURVE, a handshake on
 * both ends (four Curve25519 operations and libsodium's guarded memory);
 * for a backup of one small file that was most of the MediaAgent's work.
 * A job that ended cleanly therefore hands its sockets back here, and the
 * next job to the same peer takes one instead of connecting.  A socket is
 * only ever reused for the peer it was made for: the same endpoint and the
 * same CURVE server key (a MediaAgent that changed its key gets a fresh
 * connection).  Every message on a reused socket still carries its own job
 * id and token, which the peer checks, as on a new one.
 *
 * The pool is small and kept by clientd's main thread only; a job thread
 * receives its socket before it starts and returns it after it ended, both
 * ordered by pthread_create and pthread_join.  Sockets idle for longer than
 * SOCKPOOL_IDLE_MS are closed rather than reused.
 */
#include <stdio.h>
#include <string.h>

#include <zmq.h>

#include "client.h"
#include "util.h"

/* Take entry i's socket out of the pool (the last entry fills the hole). */
static void *
sockpool_remove(struct sockpool *p, size_t i)
{
	void	*s = p->idle[i].sock;

	p->idle[i] = p->idle[--p->n];
	return s;
}

static void
sockpool_drop(struct sockpool *p, size_t i)
{
	zmq_close(sockpool_remove(p, i));
}

/* Close the sockets idle for too long. */
static void
sockpool_expire(struct sockpool *p, int64_t now)
{
	size_t	i = 0;

	while (i < p->n)
		if (now - p->idle[i].since_ms > SOCKPOOL_IDLE_MS)
			sockpool_drop(p, i);
		else
			i++;
}

/* An idle socket to endpoint with server key (NULL: none), or NULL. */
void *
sockpool_take(struct sockpool *p, const char *endpoint, const char *key)
{
	size_t	 i;

	if (endpoint == NULL)
		return NULL;
	if (key == NULL)
		key = "";
	sockpool_expire(p, util_mono_ms());
	for (i = p->n; i-- > 0; ) {
		if (strcmp(p->idle[i].endpoint, endpoint) == 0 &&
		    strcmp(p->idle[i].key, key) == 0)
			return sockpool_remove(p, i);
	}
	return NULL;
}

/* Keep sock for the next job to the same peer, or close it. */
void
sockpool_put(struct sockpool *p, void *sock, const char *endpoint,
    const char *key)
{
	struct sockpool_entry	*e;
	size_t			 i, oldest;

	if (sock == NULL)
		return;
	if (key == NULL)
		key = "";
	if (endpoint == NULL || strlen(endpoint) >= sizeof(e->endpoint) ||
	    strlen(key) >= sizeof(e->key)) {
		zmq_close(sock);
		return;
	}
	if (p->n == SOCKPOOL_MAX) {
		for (oldest = 0, i = 1; i < p->n; i++)
			if (p->idle[i].since_ms < p->idle[oldest].since_ms)
				oldest = i;
		sockpool_drop(p, oldest);
	}
	e = &p->idle[p->n++];
	e->sock = sock;
	snprintf(e->endpoint, sizeof(e->endpoint), "%s", endpoint);
	snprintf(e->key, sizeof(e->key), "%s", key);
	e->since_ms = util_mono_ms();
}

void
sockpool_clear(struct sockpool *p)
{
	while (p->n > 0)
		sockpool_drop(p, p->n - 1);
}
