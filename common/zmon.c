/*
 * zmon.c - ZeroMQ socket monitors (see zmon.h).
 *
 * zmq_socket_monitor() makes the monitored socket publish its events on
 * an inproc PAIR it binds; our PAIR connects to it.  Each event is two
 * frames: 6 bytes (the event as a u16, its value as a u32, in host order)
 * and the endpoint it concerns.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include <zmq.h>

#include "zmon.h"

/* Monitors started in this process: their addresses' serial numbers. */
static atomic_uint	zmon_serial;

int
zmon_start(void *sock, int events, char addr[ZMON_ADDR_MAX])
{
	snprintf(addr, ZMON_ADDR_MAX, "inproc://kf-zmon-%u",
	    atomic_fetch_add(&zmon_serial, 1));
	return zmq_socket_monitor(sock, addr, events);
}

void *
zmon_connect(void *ctx, const char *addr)
{
	void	*pair;
	int	 saved;

	if ((pair = zmq_socket(ctx, ZMQ_PAIR)) == NULL)
		return NULL;
	if (zmq_connect(pair, addr) == -1) {
		saved = errno;
		zmq_close(pair);
		errno = saved;
		return NULL;
	}
	return pair;
}

void *
zmon_open(void *ctx, void *sock, int events)
{
	char	addr[ZMON_ADDR_MAX];

	if (zmon_start(sock, events, addr) == -1)
		return NULL;
	return zmon_connect(ctx, addr);
}

int
zmon_next(void *pair, uint16_t *event, uint32_t *value)
{
	zmq_msg_t	ev, where;
	int		got = 0;

	for (;;) {
		zmq_msg_init(&ev);
		if (zmq_msg_recv(&ev, pair, ZMQ_DONTWAIT) == -1) {
			zmq_msg_close(&ev);
			return 0;
		}
		zmq_msg_init(&where);
		if (zmq_msg_more(&ev))
			(void)zmq_msg_recv(&where, pair, ZMQ_DONTWAIT);
		zmq_msg_close(&where);
		if (zmq_msg_size(&ev) >= sizeof(*event) + sizeof(*value)) {
			memcpy(event, zmq_msg_data(&ev), sizeof(*event));
			memcpy(value, (uint8_t *)zmq_msg_data(&ev) +
			    sizeof(*event), sizeof(*value));
			got = 1;
		}
		zmq_msg_close(&ev);
		if (got)
			return 1;
	}
}
