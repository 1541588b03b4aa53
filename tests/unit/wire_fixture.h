/*
 * wire_fixture.h - the shared fixture of the check_wire* suites
 * (wire_fixture.c): the socket pair, the body builder, and the checks that
 * a message arrives intact or is refused with the documented KfErr.
 */
#ifndef KF_WIRE_FIXTURE_H
#define KF_WIRE_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include <check.h>

#include "wire.h"

#define TEST_TIMEOUT	120
#define ENDPOINT	"inproc://check-wire"
#define DEALER_ID	"dealer-7"
#define RECV_TIMEO_MS	5000		/* a lost message fails, never hangs */
#define PAYLOAD_LEN	3000		/* a chunk's ciphertext, small */
#define HB		KF__MSG_TYPE__HEARTBEAT
#define PUT		KF__MSG_TYPE__CHUNK_PUT

extern void	*ctx;			/* one context per test */
extern void	*router;		/* bound to ENDPOINT */
extern void	*dealer;		/* connected, routing id DEALER_ID */

/* Which way a message travels: sides[0] DEALER -> ROUTER, [1] back. */
struct side {
	void		*tx;		/* sending socket */
	const void	*peer;		/* routing id when tx is the ROUTER */
	size_t		 peerlen;	/* its length, 0 on the DEALER */
	void		*rx;		/* receiving socket */
	int		 router;	/* 1 when rx is the ROUTER */
};
extern struct side	sides[2];

/* One raw frame, for messages wire_send would never produce. */
struct frame {
	const void	*p;		/* bytes, never NULL */
	size_t		 len;		/* length */
};

/* A fresh context and socket pair per test, and its end. */
void	setup(void);
void	teardown(void);
/* A body with every field set, from seed; free_unpacked(m, NULL) frees it. */
ProtobufCMessage *fill_message(const ProtobufCMessageDescriptor *, unsigned,
	    int);
/* A packed copy of msg, asserted good; the caller frees it. */
uint8_t	*wire_fixture_pack(const ProtobufCMessage *, size_t *);
/* Two messages are equal when they encode to the same bytes. */
void	assert_same_body(const ProtobufCMessage *, const ProtobufCMessage *);
/* Received from s: no error, and the routing id where there is one. */
void	recv_ok(const struct side *, struct wire_msg *);
/* ZMQ_DONTWAIT with nothing queued: -1, ERR_NONE and errno EAGAIN. */
void	assert_nothing_waiting(const struct side *);
/* A message of type with the seed's body and paylen of payload, intact. */
void	round_trip(const struct side *, uint32_t, unsigned, size_t);
/* Raw frames, after the routing id when s sends from the ROUTER. */
void	send_frames(const struct side *, const struct frame *, size_t);
/* Frames wire_recv must refuse with want; the next message arrives. */
void	expect_reject(const struct side *, const struct frame *, size_t,
	    kf_err_t, uint32_t, const char *);
/* A TCase: tests in both directions (loop 0..1), then once-only tests. */
void	add_case(Suite *, const char *, void (*)(void), void (*)(void),
	    const TTest *const *, const TTest *const *);

#endif /* KF_WIRE_FIXTURE_H */
