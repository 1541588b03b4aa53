/*
 * fuzz_wire.c - libFuzzer target for wire_recv (common/wire.c), the generic
 * checks every ZeroMQ message passes before a daemon's handler sees it:
 * routing id, frame count, frame sizes, known type, protobuf unpack.
 *
 * The input describes one multipart message: byte 0 holds flags (bit 0:
 * read it as a ROUTER would, the first frame being the routing id), then
 * up to FRAMES_MAX frames, each a 16-bit big-endian length and that many
 * bytes (the last frame is cut short where the input ends).  The frames go
 * through a pair of inproc PAIR sockets into wire_recv, so the code under
 * test is the daemons' own, ZeroMQ included.
 *
 * Beyond "no crash, no over-read, no leak", it aborts when wire_recv breaks
 * its contract:
 *  - the message is consumed whole, whatever the outcome: nothing of it is
 *    left on the socket;
 *  - success means a known type, a body, and a payload exactly when the
 *    type carries one;
 *  - a refusal carries a KfErr code and a sentence, and nothing owned.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

#define FRAMES_MAX	16

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void	*zctx, *tx, *rx;

/* One context and socket pair for the whole run. */
static void
setup(void)
{
	int	zero = 0;

	if (zctx != NULL)
		return;
	if ((zctx = zmq_ctx_new()) == NULL ||
	    (tx = zmq_socket(zctx, ZMQ_PAIR)) == NULL ||
	    (rx = zmq_socket(zctx, ZMQ_PAIR)) == NULL ||
	    zmq_setsockopt(tx, ZMQ_LINGER, &zero, sizeof(zero)) == -1 ||
	    zmq_setsockopt(rx, ZMQ_LINGER, &zero, sizeof(zero)) == -1 ||
	    zmq_bind(rx, "inproc://fuzz-wire") == -1 ||
	    zmq_connect(tx, "inproc://fuzz-wire") == -1)
		abort();
}

/* Send the frames the input describes; returns how many. */
static int
send_frames(const uint8_t *p, size_t n)
{
	const uint8_t	*start[FRAMES_MAX];
	size_t		 len[FRAMES_MAX];
	int		 nf = 0, i;

	while (n >= 2 && nf < FRAMES_MAX) {
		len[nf] = (size_t)p[0] << 8 | p[1];
		p += 2;
		n -= 2;
		if (len[nf] > n)
			len[nf] = n;
		start[nf] = p;
		p += len[nf];
		n -= len[nf];
		nf++;
	}
	for (i = 0; i < nf; i++)
		if (zmq_send(tx, start[i], len[i],
		    i + 1 < nf ? ZMQ_SNDMORE : 0) == -1)
			abort();
	return nf;
}

/* Nothing may be left of the message: no more parts, no queued frame. */
static void
check_consumed(void)
{
	zmq_msg_t	f;
	int		more = 0;
	size_t		ml = sizeof(more);

	if (zmq_getsockopt(rx, ZMQ_RCVMORE, &more, &ml) == -1 || more)
		abort();
	zmq_msg_init(&f);
	if (zmq_msg_recv(&f, rx, ZMQ_DONTWAIT) != -1)
		abort();
	zmq_msg_close(&f);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct wire_type	*t;
	struct wire_msg		 m;
	kf_err_t		 err;
	char			 errmsg[256];
	size_t			 plen;
	int			 router, nf, rc;

	if (size < 1)
		return 0;
	setup();
	router = data[0] & 1;
	if ((nf = send_frames(data + 1, size - 1)) == 0)
		return 0;
	rc = wire_recv(rx, router, &m, &err, errmsg, sizeof(errmsg), 0);
	check_consumed();
	if (rc == 0) {
		if ((t = wire_type_lookup(m.type)) == NULL || m.body == NULL ||
		    m.body->descriptor != t->desc ||
		    m.has_payload != t->payload ||
		    (router && (m.peerlen == 0 || m.peerlen > WIRE_PEER_MAX)) ||
		    (!router && m.peerlen != 0))
			abort();
		(void)wire_payload(&m, &plen);
		if (plen > WIRE_PAYLOAD_MAX || (!t->payload && plen != 0))
			abort();
		wire_msg_clear(&m);
	} else {
		if (err == KF__KF_ERR__ERR_NONE || errmsg[0] == '\0' ||
		    m.body != NULL || m.has_payload)
			abort();
	}
	return 0;
}
