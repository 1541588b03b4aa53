/*
 * wire.h - protobuf messages over ZeroMQ (see proto/keyflow.proto for the
 * frame layout).  The table in wire.c maps every message type to its
 * protobuf-c descriptor; wire_recv does the generic checks once, before any
 * handler runs: frame count, frame sizes, known type, successful unpack.
 */
#ifndef KF_WIRE_H
#define KF_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>
#include <zmq.h>

#include "keyflow.pb-c.h"

#define WIRE_PEER_MAX		256		/* ZeroMQ routing ids <= 255 */
#define WIRE_BODY_MAX		(16u * 1024 * 1024)
#define WIRE_PAYLOAD_MAX	(16u * 1024 * 1024 + 64)

typedef Kf__MsgType	msg_type_t;
typedef Kf__KfErr	kf_err_t;

struct wire_type {
	uint32_t		 type;		/* Kf__MsgType value */
	const char		*name;		/* for logs */
	const ProtobufCMessageDescriptor *desc;	/* body descriptor */
	int			 payload;	/* 1 if a bulk frame follows */
};

/* NULL for a type keyflow does not know. */
const struct wire_type *wire_type_lookup(uint32_t type);
const char *wire_type_name(uint32_t type);
/* Stable short name of an error code, e.g. "ERR_NOT_FOUND". */
const char *wire_err_name(kf_err_t);

struct wire_msg {
	uint8_t		 peer[WIRE_PEER_MAX];	/* ROUTER: sender's routing id */
	size_t		 peerlen;		/* 0 on a DEALER */
	uint32_t	 type;			/* frame 0 */
	ProtobufCMessage *body;			/* unpacked, owned */
	zmq_msg_t	 payload;		/* frame 2, if has_payload */
	int		 has_payload;
	char		 peer_key[41];		/* sender's CURVE key (Z85), or "" */
};

/*
 * Receive one message.  Returns 0 with m filled; or -1 with *err set and
 * errmsg describing the problem (the message was consumed and any frames
 * dropped; m->peer and m->type are still valid when they could be read, so
 * the caller can reply).  flags: 0 or ZMQ_DONTWAIT (then -1 with *err ==
 * ERR_NONE and errno EAGAIN means nothing was waiting).
 */
int	wire_recv(void *sock, int router, struct wire_msg *m, kf_err_t *err,
	    char *errmsg, size_t errcap, int flags);
void	wire_msg_clear(struct wire_msg *m);
const uint8_t *wire_payload(const struct wire_msg *m, size_t *len);

/*
 * Send type + body (+ payload when not NULL).  peer is the routing id on a
 * ROUTER, NULL on a DEALER.  Returns 0 or -1 (errno from zmq).
 */
int	wire_send(void *sock, const void *peer, size_t peerlen, uint32_t type,
	    const ProtobufCMessage *body, const void *payload, size_t paylen);
int	wire_send_error(void *sock, const void *peer, size_t peerlen,
	    kf_err_t code, const char *fmt, ...)
	    __attribute__((format(printf, 5, 6)));
int	wire_send_ok(void *sock, const void *peer, size_t peerlen,
	    const char *message);

/*
 * A socket with linger 0 (and, for ROUTER, ROUTER_MANDATORY so sending to a
 * vanished peer fails instead of silently dropping).  bind or connect to
 * endpoint.  With CURVE on (common/curve.h) a bound socket is a CURVE
 * server and a connecting one a CURVE client of the endpoint's registered
 * key.  NULL on failure, with a log line.
 */
void	*wire_socket(void *ctx, int type, const char *endpoint, int bind);

/*
 * Wait for one message of the expected type on a DEALER, up to timeout_ms.
 * An ERROR reply gives -1 with *err and errmsg from it; a timeout gives -1
 * with ERR_TIMEOUT.  Other types give ERR_MALFORMED.
 */
int	wire_await(void *sock, uint32_t expect, int timeout_ms,
	    struct wire_msg *m, kf_err_t *err, char *errmsg, size_t errcap);

/*
 * One request, one reply, on a fresh DEALER (used by the CLI and by job
 * threads for short exchanges).
 */
int	wire_call(void *ctx, const char *endpoint, uint32_t type,
	    const ProtobufCMessage *body, uint32_t expect, int timeout_ms,
	    struct wire_msg *reply, kf_err_t *err, char *errmsg, size_t errcap);

#endif
