/*
 * dispatch.c - the MediaAgent's message table and dispatcher.
 *
 * Messages arrive on two sockets: the DEALER to CommServe (registration
 * answers and job control) and the ROUTER for clients (the data path).
 * wire_recv has already done the generic checks (frame count and sizes,
 * known type, protobuf unpack) before anything here runs; this file picks
 * the handler for the type and socket from a static table, runs it, and
 * answers ERROR with the handler's code and sentence when it fails.  Types
 * this MediaAgent does not handle get ERR_UNKNOWN_TYPE.  Nothing a peer
 * sends ends the daemon.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "mediaagent.h"

/* Messages drained from one socket before the other gets a turn. */
#define DISPATCH_BATCH	64

struct handler {
	uint32_t	 type;		/* Kf__MsgType */
	enum ma_from	 from;		/* the socket it may arrive on */
	const ProtobufCMessageDescriptor *desc;	/* expected body */
	int		(*fn)(struct ma *, struct ma_req *); /* -1: send ERROR */
};

static const struct handler handlers[] = {
	{ KF__MSG_TYPE__WELCOME, MA_FROM_CS, &kf__welcome__descriptor,
	  session_welcome },
	{ KF__MSG_TYPE__ERROR, MA_FROM_CS, &kf__error__descriptor,
	  session_error },
	{ KF__MSG_TYPE__OK, MA_FROM_CS, &kf__ok__descriptor, session_ok },
	{ KF__MSG_TYPE__JOB_ANNOUNCE, MA_FROM_CS, &kf__job_announce__descriptor,
	  session_announce },
	{ KF__MSG_TYPE__CONTAINER_DISCARD, MA_FROM_CS, &kf__job_ref__descriptor,
	  session_discard },
	{ KF__MSG_TYPE__CONTAINER_VERIFY, MA_FROM_CS,
	  &kf__container_verify__descriptor, verify_container },
	{ KF__MSG_TYPE__STREAM_OPEN, MA_FROM_CLIENT,
	  &kf__stream_open__descriptor, store_open },
	{ KF__MSG_TYPE__CHUNK_PUT, MA_FROM_CLIENT, &kf__chunk_put__descriptor,
	  store_put },
	{ KF__MSG_TYPE__STREAM_CLOSE, MA_FROM_CLIENT,
	  &kf__stream_close__descriptor, store_close },
	{ KF__MSG_TYPE__CHUNK_READ, MA_FROM_CLIENT, &kf__chunk_read__descriptor,
	  serve_read },
};

static const struct handler *
handler_lookup(uint32_t type, enum ma_from from)
{
	size_t	i;

	for (i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++)
		if (handlers[i].type == type && handlers[i].from == from)
			return &handlers[i];
	return NULL;
}

/*
 * Answers are never answered: an ERROR sent back for a bad ERROR or OK (or
 * a WELCOME, CommServe's answer to HELLO) could bounce between two peers
 * for ever.
 */
static int
is_answer(uint32_t type)
{
	return type == KF__MSG_TYPE__ERROR || type == KF__MSG_TYPE__OK ||
	    type == KF__MSG_TYPE__WELCOME;
}

/* Printable form of a peer's routing id for logs. */
const char *
dispatch_peer(const struct wire_msg *m, char *buf, size_t cap)
{
	size_t	n;

	if (m->peerlen == 0) {
		snprintf(buf, cap, "CommServe");
		return buf;
	}
	n = m->peerlen;
	if (n * 2 + 1 > cap)
		n = (cap - 1) / 2;
	crypto_hex(m->peer, n, buf);
	return buf;
}

/* Record why a request failed; the dispatcher sends the ERROR. */
int
dispatch_vfail(struct ma_req *req, kf_err_t code, const char *fmt,
    va_list ap)
{
	req->code = code;
	vsnprintf(req->err, sizeof(req->err), fmt, ap);
	return -1;
}

int
dispatch_fail(struct ma_req *req, kf_err_t code, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	dispatch_vfail(req, code, fmt, ap);
	va_end(ap);
	return -1;
}

int
dispatch_reply(const struct ma_req *req, uint32_t type,
    const ProtobufCMessage *body, const void *payload, size_t len)
{
	const struct wire_msg	*m = req->m;
	char			 who[2 * WIRE_PEER_MAX + 1];

	if (wire_send(req->sock, m->peerlen ? m->peer : NULL, m->peerlen,
	    type, body, payload, len) == -1) {
		/* EHOSTUNREACH: gone; EAGAIN: not reading its replies. */
		log_warn("%s to %s not sent", wire_type_name(type),
		    dispatch_peer(m, who, sizeof(who)));
		return -1;
	}
	return 0;
}

/*
 * The request's "job" field, read through its descriptor (every message
 * about a job has one), so that an ERROR names the job it is about.
 */
static int
request_job(const ProtobufCMessage *body, uint64_t *job)
{
	const ProtobufCFieldDescriptor	*f;

	if (body == NULL)
		return 0;
	f = protobuf_c_message_descriptor_get_field_by_name(body->descriptor,
	    "job");
	if (f == NULL || f->type != PROTOBUF_C_TYPE_UINT64 ||
	    f->label != PROTOBUF_C_LABEL_REQUIRED)
		return 0;
	memcpy(job, (const uint8_t *)body + f->offset, sizeof(*job));
	return 1;
}

/* Log the refusal and answer ERROR (never to an answer). */
void
dispatch_error(const struct ma_req *req, kf_err_t code, const char *sentence)
{
	const struct wire_msg	*m = req->m;
	Kf__Error		 e = KF__ERROR__INIT;
	char			 who[2 * WIRE_PEER_MAX + 1];

	dispatch_peer(m, who, sizeof(who));
	log_warnx("%s from %s refused: %s: %s", wire_type_lookup(m->type) ?
	    wire_type_name(m->type) : "message", who, wire_err_name(code),
	    sentence);
	if (is_answer(m->type))
		return;
	e.code = code;
	e.message = (char *)sentence;
	e.has_job = request_job(m->body, &e.job);
	if (wire_send(req->sock, m->peerlen ? m->peer : NULL, m->peerlen,
	    KF__MSG_TYPE__ERROR, &e.base, NULL, 0) == -1)
		log_debug("ERROR to %s not sent", who);
}

/* Run the handler for one received message. */
static void
dispatch_one(struct ma *ma, struct ma_req *req, enum ma_from from)
{
	const struct wire_msg	*m = req->m;
	const struct handler	*h;

	if ((h = handler_lookup(m->type, from)) == NULL) {
		dispatch_error(req, KF__KF_ERR__ERR_UNKNOWN_TYPE, from == MA_FROM_CS ?
		    "mediaagentd does not handle this message from CommServe" :
		    "mediaagentd's data port handles only STREAM_OPEN, "
		    "CHUNK_PUT, STREAM_CLOSE and CHUNK_READ");
		return;
	}
	if (m->body == NULL || m->body->descriptor != h->desc) {
		dispatch_error(req, KF__KF_ERR__ERR_INTERNAL,
		    "message body does not match its type (a bug; please "
		    "report it)");
		return;
	}
	req->code = KF__KF_ERR__ERR_NONE;
	req->err[0] = '\0';
	if (h->fn(ma, req) == -1) {
		if (req->code == KF__KF_ERR__ERR_NONE)
			dispatch_fail(req, KF__KF_ERR__ERR_INTERNAL,
			    "request failed without a reason (a bug)");
		dispatch_error(req, req->code, req->err);
	}
}

/*
 * Drain up to DISPATCH_BATCH messages from one socket.  A message that
 * fails the generic checks is answered with wire_recv's code and sentence
 * when its sender is known.
 */
void
dispatch_socket(struct ma *ma, enum ma_from from)
{
	struct ma_req	 req;
	kf_err_t	 err;
	void		*sock = from == MA_FROM_CS ? ma->cs : ma->data;
	int		 i, rc;

	for (i = 0; i < DISPATCH_BATCH; i++) {
		memset(&ma->msg, 0, sizeof(ma->msg));
		memset(&req, 0, sizeof(req));
		req.sock = sock;
		req.m = &ma->msg;
		err = KF__KF_ERR__ERR_NONE;
		rc = wire_recv(sock, from == MA_FROM_CLIENT, &ma->msg, &err,
		    req.err, sizeof(req.err), ZMQ_DONTWAIT);
		if (rc == -1 && err == KF__KF_ERR__ERR_NONE) {
			/* EAGAIN: drained; anything else: zmq shutting down. */
			wire_msg_clear(&ma->msg);
			break;
		}
		if (rc == -1) {
			if (from == MA_FROM_CS || ma->msg.peerlen > 0)
				dispatch_error(&req, err, req.err);
			else
				log_warnx("unreadable message dropped: %s",
				    req.err);
		} else
			dispatch_one(ma, &req, from);
		wire_msg_clear(&ma->msg);
	}
}
