/*
 * zmon.h - ZeroMQ socket monitors: a socket's connection events (a
 * handshake refused, a peer gone) read from a PAIR socket, which is the
 * only way libzmq tells a DEALER, PUB or ROUTER about its connections.
 */
#ifndef KF_ZMON_H
#define KF_ZMON_H

#include <stddef.h>
#include <stdint.h>

#define ZMON_ADDR_MAX	48	/* bytes of a monitor's inproc address */

/*
 * Start monitoring sock for events (ZMQ_EVENT_* bits), from sock's own
 * thread; the monitor's address, unique in the process, goes to addr.
 * 0, or -1 with errno set.
 */
int	zmon_start(void *sock, int events, char addr[ZMON_ADDR_MAX]);
/* A PAIR socket in ctx reading the monitor at addr, or NULL (errno). */
void	*zmon_connect(void *ctx, const char *addr);
/* Both, for a caller that reads the events in sock's thread. */
void	*zmon_open(void *ctx, void *sock, int events);
/*
 * The next event waiting on a monitor PAIR, without blocking: 1 with
 * *event (ZMQ_EVENT_*) and *value (its fd, errno or protocol error code),
 * 0 when none is waiting.
 */
int	zmon_next(void *pair, uint16_t *event, uint32_t *value);

#endif
