/*
 * zmq_loopback.c - kf-zmqbench: how fast ZeroMQ moves bulk data over
 * loopback TCP on this machine, the way a keyflow client feeds a
 * MediaAgent: a DEALER sends a small header frame plus a payload frame
 * (default 1 MiB) to a ROUTER, which answers each with a small
 * acknowledgement; at most WINDOW (default 8) messages are unacknowledged.
 * Both ends are threads of this one process, on tcp://127.0.0.1 with a
 * port the kernel picks; each end has a ZeroMQ context (and so an I/O
 * thread) of its own, as two daemons do.
 *
 *   kf-zmqbench [-c | --curve] [-d] [-m MSGSIZE] [-s TOTAL] [-w WINDOW]
 *
 * With -c (--curve) the link runs over CURVE, as keyflow's links do by
 * default: a fresh key pair per end (zmq_curve_keypair), the ROUTER as the
 * CURVE server, so every byte is encrypted and authenticated by libzmq's
 * I/O threads.  keyflow's daemons raise glibc's mmap threshold so a 1 MiB
 * buffer is not mapped and unmapped for every message; this tool does the
 * same unless -d (default malloc) is given.  It prints
 * "bytes=N seconds=S mbps=R" (R in 10^6 bytes per second).
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zmq.h>

#include "tool.h"

struct bench {
	void		*zctx;		/* the ROUTER end's ZeroMQ context */
	void		*router;	/* bound by main, used by the thread */
	char		 ep[256];	/* the ROUTER's bound endpoint */
	size_t		 msgsize;	/* payload bytes per message */
	uint64_t	 count;		/* messages to send */
	unsigned	 window;	/* unacknowledged messages at most */
	uint64_t	 received;	/* payload bytes the ROUTER got */
	int		 rc;		/* receiver's result, 0 or -1 */
};

/* A CURVE key pair, Z85 text. */
struct keypair {
	char		 pub[41];	/* public key */
	char		 sec[41];	/* secret key */
};

static void
set_linger(void *s)
{
	int	zero = 0;

	(void)zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof(zero));
}

/*
 * CURVE on both sockets, before bind and connect: the ROUTER is the server
 * with its secret key; the DEALER knows the server's public key and has a
 * key pair of its own.  Any error ends the tool.
 */
static void
set_curve(void *router, void *dealer)
{
	struct keypair	 srv, cli;
	int		 one = 1;

	if (!zmq_has("curve"))
		errx(1, "this libzmq was built without CURVE");
	if (zmq_curve_keypair(srv.pub, srv.sec) == -1 ||
	    zmq_curve_keypair(cli.pub, cli.sec) == -1)
		errx(1, "zmq_curve_keypair: %s", zmq_strerror(errno));
	if (zmq_setsockopt(router, ZMQ_CURVE_SERVER, &one, sizeof(one)) ==
	    -1 || zmq_setsockopt(router, ZMQ_CURVE_SECRETKEY, srv.sec, 40) ==
	    -1 || zmq_setsockopt(dealer, ZMQ_CURVE_SERVERKEY, srv.pub, 40) ==
	    -1 || zmq_setsockopt(dealer, ZMQ_CURVE_PUBLICKEY, cli.pub, 40) ==
	    -1 || zmq_setsockopt(dealer, ZMQ_CURVE_SECRETKEY, cli.sec, 40) ==
	    -1)
		errx(1, "CURVE socket options: %s", zmq_strerror(errno));
	explicit_bzero(&srv, sizeof(srv));
	explicit_bzero(&cli, sizeof(cli));
}

/* One multipart message from the ROUTER: its index and payload bytes. */
static int
recv_one(void *r, zmq_msg_t *idmsg, uint64_t *idx, size_t *payload)
{
	zmq_msg_t	 f;
	int		 more, nf = 0;
	size_t		 ml = sizeof(more);

	if (zmq_msg_recv(idmsg, r, 0) == -1)
		return -1;
	*payload = 0;
	do {
		zmq_msg_init(&f);
		if (zmq_msg_recv(&f, r, 0) == -1) {
			zmq_msg_close(&f);
			return -1;
		}
		if (nf == 0 && zmq_msg_size(&f) == sizeof(*idx))
			memcpy(idx, zmq_msg_data(&f), sizeof(*idx));
		else
			*payload += zmq_msg_size(&f);
		nf++;
		zmq_msg_close(&f);
		if (zmq_getsockopt(r, ZMQ_RCVMORE, &more, &ml) == -1)
			return -1;
	} while (more);
	return 0;
}

static void *
router_loop(void *arg)
{
	struct bench	*b = arg;
	void		*r = b->router;
	zmq_msg_t	 idmsg;
	uint64_t	 i, idx = 0;
	size_t		 payload;

	b->rc = -1;
	for (i = 0; i < b->count; i++) {
		zmq_msg_init(&idmsg);
		if (recv_one(r, &idmsg, &idx, &payload) == -1) {
			zmq_msg_close(&idmsg);
			goto fail;
		}
		b->received += payload;
		if (zmq_msg_send(&idmsg, r, ZMQ_SNDMORE) == -1 ||
		    zmq_send(r, &idx, sizeof(idx), 0) == -1) {
			zmq_msg_close(&idmsg);
			goto fail;
		}
	}
	b->rc = 0;
fail:
	return NULL;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "curve", no_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 }
	};
	struct bench	 b;
	pthread_t	 tid;
	void		*dctx, *d;
	uint8_t		*buf, ack[sizeof(uint64_t)];
	uint64_t	 total = 1ULL << 30, sent = 0, acked = 0;
	double		 t0, secs;
	size_t		 eplen;
	int		 ch, tune = 1, curve = 0, timeout = 30000;

	memset(&b, 0, sizeof(b));
	b.msgsize = 1 << 20;
	b.window = 8;
	while ((ch = getopt_long(argc, argv, "cdm:s:w:", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'c':
			curve = 1;
			break;
		case 'd':
			tune = 0;
			break;
		case 'm':
			b.msgsize = tool_size(optarg, 0);
			break;
		case 's':
			total = tool_size(optarg, 0);
			break;
		case 'w':
			b.window = (unsigned)tool_size(optarg, 0);
			break;
		default:
			fprintf(stderr, "usage: kf-zmqbench [-c | --curve] "
			    "[-d] [-m MSGSIZE] [-s TOTAL] [-w WINDOW]\n");
			return 2;
		}
	}
	if (b.msgsize > (256U << 20) || b.window > 1024)
		errx(2, "message size at most 256M, window at most 1024");
	if (tune) {
		mallopt(M_MMAP_THRESHOLD, (int)(2 * b.msgsize));
		mallopt(M_TRIM_THRESHOLD, (int)(8 * b.msgsize));
	}
	b.count = (total + b.msgsize - 1) / b.msgsize;

	/*
	 * The ROUTER on a port the kernel picks; the thread takes it over.
	 * Each end has its own context, so its own I/O thread.
	 */
	if ((b.zctx = zmq_ctx_new()) == NULL || (dctx = zmq_ctx_new()) == NULL)
		err(1, "zmq_ctx_new");
	if ((b.router = zmq_socket(b.zctx, ZMQ_ROUTER)) == NULL ||
	    (d = zmq_socket(dctx, ZMQ_DEALER)) == NULL)
		errx(1, "zmq_socket: %s", zmq_strerror(errno));
	set_linger(b.router);
	set_linger(d);
	if (curve)
		set_curve(b.router, d);
	eplen = sizeof(b.ep);
	if (zmq_bind(b.router, "tcp://127.0.0.1:*") == -1 ||
	    zmq_getsockopt(b.router, ZMQ_LAST_ENDPOINT, b.ep, &eplen) == -1)
		errx(1, "cannot bind a loopback port: %s", zmq_strerror(errno));
	if (pthread_create(&tid, NULL, router_loop, &b) != 0)
		errx(1, "pthread_create failed");

	if ((buf = malloc(b.msgsize)) == NULL)
		err(1, "malloc");
	memset(buf, 0xa5, b.msgsize);
	/* A receiver that failed must not leave us waiting forever. */
	if (zmq_setsockopt(d, ZMQ_RCVTIMEO, &timeout, sizeof(timeout)) == -1)
		errx(1, "ZMQ_RCVTIMEO: %s", zmq_strerror(errno));
	if (zmq_connect(d, b.ep) == -1)
		errx(1, "connect %s: %s", b.ep, zmq_strerror(errno));

	t0 = tool_now();
	while (acked < b.count) {
		while (sent < b.count && sent - acked < b.window) {
			if (zmq_send(d, &sent, sizeof(sent), ZMQ_SNDMORE) ==
			    -1 || zmq_send(d, buf, b.msgsize, 0) == -1)
				errx(1, "send: %s", zmq_strerror(errno));
			sent++;
		}
		if (zmq_recv(d, ack, sizeof(ack), 0) == -1)
			errx(1, "recv: %s", zmq_strerror(errno));
		acked++;
	}
	secs = tool_now() - t0;
	pthread_join(tid, NULL);
	zmq_close(b.router);
	if (b.rc != 0 || b.received != b.count * b.msgsize)
		errx(1, "the receiver got %llu of %llu bytes",
		    (unsigned long long)b.received,
		    (unsigned long long)(b.count * b.msgsize));
	printf("bytes=%llu seconds=%.3f mbps=%.1f\n",
	    (unsigned long long)b.received, secs, b.received / secs / 1e6);
	zmq_close(d);
	zmq_ctx_term(dctx);
	zmq_ctx_term(b.zctx);
	free(buf);
	return 0;
}
