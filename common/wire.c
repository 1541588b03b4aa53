/*
 * wire.c - protobuf messages over ZeroMQ: the message-type table and the
 * generic checks every received message passes before a handler sees it.
 *
 * Frame 0 is the type (4 bytes BE), frame 1 the protobuf body, frame 2 the
 * bulk payload for the two chunk-carrying types.  A ROUTER socket adds the
 * peer's routing id in front.  Anything else - a wrong frame count, a frame
 * over its limit, an unknown type, a body protobuf-c will not unpack - is
 * consumed whole and reported to the caller with a KfErr code, so the
 * dispatcher can answer with ERROR and keep serving.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "curve.h"
#include "log.h"
#include "util.h"
#include "wire.h"

#define T(type, name, msg, payload) \
	{ KF__MSG_TYPE__##type, name, &kf__##msg##__descriptor, payload }

static const struct wire_type wire_types[] = {
	T(ERROR, "error", error, 0),
	T(OK, "ok", ok, 0),
	T(HELLO, "hello", hello, 0),
	T(CHALLENGE, "challenge", challenge, 0),
	T(AUTH, "auth", auth, 0),
	T(WELCOME, "welcome", welcome, 0),
	T(HEARTBEAT, "heartbeat", heartbeat, 0),
	T(POOL_CREATE, "pool create", pool_create, 0),
	T(POOL_LIST, "pool list", list_request, 0),
	T(CLIENT_ADD, "client add", client_add, 0),
	T(CLIENT_LIST, "client list", list_request, 0),
	T(BACKUP_START, "backup start", backup_start, 0),
	T(RESTORE_START, "restore start", restore_start, 0),
	T(JOB_LIST, "job list", list_request, 0),
	T(JOB_GET, "job get", job_get, 0),
	T(TRACE_GET, "trace get", trace_get, 0),
	T(MA_LIST, "mediaagent list", list_request, 0),
	T(KMS_LIST, "kms list", list_request, 0),
	T(CATALOG_GET, "catalog get", catalog_get, 0),
	T(KMS_ADD, "kms add", kms_add, 0),
	T(VERIFY_START, "verify start", verify_start, 0),
	T(MA_UNPIN, "mediaagent unpin", media_agent_unpin, 0),
	T(VERIFY_RESULT, "verify result", verify_result, 0),
	T(KMS_INFO, "kms info", kms_info, 0),
	T(POOL_INFO, "pool info", pool_info, 0),
	T(CLIENT_INFO, "client info", client_info, 0),
	T(JOB_INFO, "job info", job_info, 0),
	T(POOL_LIST_REPLY, "pool list reply", pool_list_reply, 0),
	T(CLIENT_LIST_REPLY, "client list reply", client_list_reply, 0),
	T(JOB_LIST_REPLY, "job list reply", job_list_reply, 0),
	T(TRACE_REPLY, "trace reply", trace_reply, 0),
	T(MA_LIST_REPLY, "mediaagent list reply", media_agent_list_reply, 0),
	T(KMS_LIST_REPLY, "kms list reply", kms_list_reply, 0),
	T(CATALOG_PAGE, "catalog page", catalog_page, 0),
	T(JOB_ANNOUNCE, "job announce", job_announce, 0),
	T(CONTAINER_COMMITTED, "container committed", container_committed, 0),
	T(CONTAINER_DISCARD, "container discard", job_ref, 0),
	T(JOB_ACCEPTED, "job accepted", job_ref, 0),
	T(CONTAINER_VERIFY, "container verify", container_verify, 0),
	T(BACKUP_ORDER, "backup order", backup_order, 0),
	T(RESTORE_ORDER, "restore order", restore_order, 0),
	T(JOB_PROGRESS, "job progress", job_progress, 0),
	T(CATALOG_BATCH, "catalog batch", catalog_batch, 0),
	T(JOB_DONE, "job done", job_done, 0),
	T(JOB_FAILURE, "job failure", job_failed, 0),
	T(JOB_CANCEL, "job cancel", job_failed, 0),
	T(STREAM_OPEN, "stream open", stream_open, 0),
	T(CHUNK_PUT, "chunk put", chunk_put, 1),
	T(CHUNK_ACK, "chunk ack", chunk_ack, 0),
	T(STREAM_CLOSE, "stream close", stream_close, 0),
	T(STREAM_CLOSED, "stream closed", stream_closed, 0),
	T(CHUNK_READ, "chunk read", chunk_read, 0),
	T(CHUNK_DATA, "chunk data", chunk_data, 1),
};

#undef T

const struct wire_type *
wire_type_lookup(uint32_t type)
{
	size_t	i;

	for (i = 0; i < sizeof(wire_types) / sizeof(wire_types[0]); i++)
		if (wire_types[i].type == type)
			return &wire_types[i];
	return NULL;
}

const char *
wire_type_name(uint32_t type)
{
	const struct wire_type	*t = wire_type_lookup(type);

	return t != NULL ? t->name : "unknown";
}

const char *
wire_err_name(kf_err_t code)
{
	const ProtobufCEnumValue *v;

	v = protobuf_c_enum_descriptor_get_value(&kf__kf_err__descriptor,
	    code);
	return v != NULL ? v->name : "ERR_UNKNOWN";
}

void
wire_msg_clear(struct wire_msg *m)
{
	if (m->body != NULL)
		protobuf_c_message_free_unpacked(m->body, NULL);
	m->body = NULL;
	if (m->has_payload)
		zmq_msg_close(&m->payload);
	m->has_payload = 0;
}

const uint8_t *
wire_payload(const struct wire_msg *m, size_t *len)
{
	if (!m->has_payload) {
		*len = 0;
		return NULL;
	}
	*len = zmq_msg_size((zmq_msg_t *)&m->payload);
	return zmq_msg_data((zmq_msg_t *)&m->payload);
}

static int
more_frames(void *sock)
{
	int	more = 0;
	size_t	len = sizeof(more);

	if (zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &len) == -1)
		return 0;
	return more;
}

/* Drop the rest of a multipart message; returns how many frames it had. */
static int
drain(void *sock)
{
	zmq_msg_t	f;
	int		n = 0;

	while (more_frames(sock)) {
		zmq_msg_init(&f);
		if (zmq_msg_recv(&f, sock, 0) == -1) {
			zmq_msg_close(&f);
			break;
		}
		zmq_msg_close(&f);
		n++;
	}
	return n;
}

/* Copy the message's User-Id property when it is a Z85 key. */
static void
peer_key_copy(struct wire_msg *m, zmq_msg_t *f)
{
	const char	*uid;

	m->peer_key[0] = '\0';
	if ((uid = zmq_msg_gets(f, "User-Id")) != NULL &&
	    strlen(uid) < sizeof(m->peer_key))
		snprintf(m->peer_key, sizeof(m->peer_key), "%s", uid);
}

static int fail_msg(kf_err_t *, char *, size_t, kf_err_t, const char *, ...)
    __attribute__((format(printf, 5, 6)));

static int
fail_msg(kf_err_t *err, char *errmsg, size_t errcap, kf_err_t code,
    const char *fmt, ...)
{
	va_list	ap;

	*err = code;
	va_start(ap, fmt);
	util_verrf(errmsg, errcap, fmt, ap);
	va_end(ap);
	return -1;
}

/* Read a varint at p[*i]; -1 past the end. */
static int
raw_varint(const uint8_t *p, size_t len, size_t *i, uint64_t *v)
{
	unsigned	shift;

	*v = 0;
	for (shift = 0; shift < 64 && *i < len; shift += 7) {
		*v |= (uint64_t)(p[*i] & 0x7f) << shift;
		if ((p[(*i)++] & 0x80) == 0)
			return 0;
	}
	return -1;
}

/*
 * 1 if a string field of the raw body (or of a message nested in it)
 * carries a NUL: protobuf-c hands it to C cut at the NUL, so "lo\0cal"
 * would reach a handler as "local".
 */
static int
raw_has_nul(const ProtobufCMessageDescriptor *desc, const uint8_t *p,
    size_t len, int depth)
{
	const ProtobufCFieldDescriptor	*fd;
	uint64_t			 key, n;
	size_t				 i = 0;

	if (depth > 16)
		return 1;
	while (i < len) {
		if (raw_varint(p, len, &i, &key) == -1)
			return 1;
		switch (key & 7) {
		case 0:
			if (raw_varint(p, len, &i, &n) == -1)
				return 1;
			break;
		case 1:
		case 5:
			n = (key & 7) == 1 ? 8 : 4;
			if (n > len - i)
				return 1;
			i += n;
			break;
		case 2:
			if (raw_varint(p, len, &i, &n) == -1 || n > len - i)
				return 1;
			fd = key >> 3 > UINT32_MAX ? NULL :
			    protobuf_c_message_descriptor_get_field(desc,
			    (unsigned)(key >> 3));
			if (fd != NULL && fd->type == PROTOBUF_C_TYPE_STRING &&
			    memchr(p + i, 0, n) != NULL)
				return 1;
			if (fd != NULL && fd->type == PROTOBUF_C_TYPE_MESSAGE &&
			    raw_has_nul(fd->descriptor, p + i, n, depth + 1))
				return 1;
			i += n;
			break;
		default:
			return 1;
		}
	}
	return 0;
}

int
wire_recv(void *sock, int router, struct wire_msg *m, kf_err_t *err,
    char *errmsg, size_t errcap, int flags)
{
	const struct wire_type	*t;
	zmq_msg_t		 f;
	size_t			 len;
	int			 extra;

	memset(m, 0, sizeof(*m));
	m->type = KF__MSG_TYPE__MSG_NONE;
	*err = KF__KF_ERR__ERR_NONE;
	if (errmsg != NULL && errcap > 0)
		errmsg[0] = '\0';

	zmq_msg_init(&f);
	if (zmq_msg_recv(&f, sock, flags) == -1) {
		zmq_msg_close(&f);
		return -1;
	}
	if (router) {
		len = zmq_msg_size(&f);
		if (len == 0 || len > sizeof(m->peer)) {
			zmq_msg_close(&f);
			drain(sock);
			return fail_msg(err, errmsg, errcap,
			    KF__KF_ERR__ERR_MALFORMED, "bad routing id");
		}
		memcpy(m->peer, zmq_msg_data(&f), len);
		m->peerlen = len;
		zmq_msg_close(&f);
		if (!more_frames(sock))
			return fail_msg(err, errmsg, errcap,
			    KF__KF_ERR__ERR_MALFORMED, "empty message");
		zmq_msg_init(&f);
		if (zmq_msg_recv(&f, sock, 0) == -1) {
			zmq_msg_close(&f);
			return fail_msg(err, errmsg, errcap,
			    KF__KF_ERR__ERR_MALFORMED, "lost frame");
		}
	}

	/* The ZAP handler's User-Id: the sender's CURVE key, when on. */
	peer_key_copy(m, &f);

	/* Frame 0: the type. */
	if (zmq_msg_size(&f) != 4) {
		zmq_msg_close(&f);
		extra = drain(sock);
		return fail_msg(err, errmsg, errcap, KF__KF_ERR__ERR_MALFORMED,
		    "malformed message: first frame must be a 4-byte type "
		    "(%d more frames dropped)", extra);
	}
	m->type = be32_get(zmq_msg_data(&f));
	zmq_msg_close(&f);
	if ((t = wire_type_lookup(m->type)) == NULL) {
		drain(sock);
		return fail_msg(err, errmsg, errcap,
		    KF__KF_ERR__ERR_UNKNOWN_TYPE,
		    "unknown message type %u", m->type);
	}
	if (!more_frames(sock))
		return fail_msg(err, errmsg, errcap, KF__KF_ERR__ERR_MALFORMED,
		    "%s: missing body frame", t->name);

	/* Frame 1: the body. */
	zmq_msg_init(&f);
	if (zmq_msg_recv(&f, sock, 0) == -1) {
		zmq_msg_close(&f);
		return fail_msg(err, errmsg, errcap, KF__KF_ERR__ERR_MALFORMED,
		    "%s: lost body frame", t->name);
	}
	len = zmq_msg_size(&f);
	if (len > WIRE_BODY_MAX) {
		zmq_msg_close(&f);
		drain(sock);
		return fail_msg(err, errmsg, errcap, KF__KF_ERR__ERR_MALFORMED,
		    "%s: body of %zu bytes exceeds the limit of %u", t->name,
		    len, WIRE_BODY_MAX);
	}
	m->body = protobuf_c_message_unpack(t->desc, NULL, len,
	    zmq_msg_data(&f));
	if (m->body != NULL && raw_has_nul(t->desc, zmq_msg_data(&f), len,
	    0)) {
		zmq_msg_close(&f);
		wire_msg_clear(m);
		drain(sock);
		return fail_msg(err, errmsg, errcap, KF__KF_ERR__ERR_INVALID,
		    "%s: a text field carries a NUL byte", t->name);
	}
	zmq_msg_close(&f);
	if (m->body == NULL) {
		drain(sock);
		return fail_msg(err, errmsg, errcap, KF__KF_ERR__ERR_MALFORMED,
		    "%s: body is not a valid %s protobuf (missing required "
		    "field or corrupt)", t->name, t->desc->name);
	}

	/* Frame 2: the payload, exactly when the type has one. */
	if (t->payload) {
		if (!more_frames(sock)) {
			wire_msg_clear(m);
			return fail_msg(err, errmsg, errcap,
			    KF__KF_ERR__ERR_MALFORMED,
			    "%s: missing payload frame", t->name);
		}
		zmq_msg_init(&m->payload);
		m->has_payload = 1;
		if (zmq_msg_recv(&m->payload, sock, 0) == -1) {
			wire_msg_clear(m);
			return fail_msg(err, errmsg, errcap,
			    KF__KF_ERR__ERR_MALFORMED,
			    "%s: lost payload frame", t->name);
		}
		if (zmq_msg_size(&m->payload) > WIRE_PAYLOAD_MAX) {
			wire_msg_clear(m);
			drain(sock);
			return fail_msg(err, errmsg, errcap,
			    KF__KF_ERR__ERR_MALFORMED,
			    "%s: payload exceeds the limit of %u bytes",
			    t->name, WIRE_PAYLOAD_MAX);
		}
	}
	if (more_frames(sock)) {
		extra = drain(sock);
		wire_msg_clear(m);
		return fail_msg(err, errmsg, errcap, KF__KF_ERR__ERR_MALFORMED,
		    "%s: %d unexpected extra frames", t->name, extra);
	}
	return 0;
}

int
wire_send(void *sock, const void *peer, size_t peerlen, uint32_t type,
    const ProtobufCMessage *body, const void *payload, size_t paylen)
{
	uint8_t		 hdr[4], stackbuf[4096];
	uint8_t		*buf = stackbuf;
	size_t		 len;
	int		 rc = -1, saved;

	len = protobuf_c_message_get_packed_size(body);
	if (len > sizeof(stackbuf) && (buf = malloc(len)) == NULL)
		return -1;
	protobuf_c_message_pack(body, buf);
	be32_put(hdr, type);
	if (peer != NULL &&
	    zmq_send(sock, peer, peerlen, ZMQ_SNDMORE) == -1)
		goto done;
	if (zmq_send(sock, hdr, sizeof(hdr), ZMQ_SNDMORE) == -1)
		goto done;
	if (zmq_send(sock, buf, len, payload != NULL ? ZMQ_SNDMORE : 0) == -1)
		goto done;
	if (payload != NULL && zmq_send(sock, payload, paylen, 0) == -1)
		goto done;
	rc = 0;
done:
	saved = errno;
	/* Bodies may carry a sealed key or a password: leave no copy. */
	crypto_wipe(buf, len);
	if (buf != stackbuf)
		free(buf);
	errno = saved;
	return rc;
}

int
wire_send_error(void *sock, const void *peer, size_t peerlen, kf_err_t code,
    const char *fmt, ...)
{
	Kf__Error	e = KF__ERROR__INIT;
	char		text[1024];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	e.code = code;
	e.message = text;
	return wire_send(sock, peer, peerlen, KF__MSG_TYPE__ERROR,
	    &e.base, NULL, 0);
}

int
wire_send_ok(void *sock, const void *peer, size_t peerlen,
    const char *message)
{
	Kf__Ok	ok = KF__OK__INIT;

	ok.message = (char *)message;
	return wire_send(sock, peer, peerlen, KF__MSG_TYPE__OK, &ok.base,
	    NULL, 0);
}

void *
wire_socket(void *ctx, int type, const char *endpoint, int bind)
{
	void	*s;
	int	 zero = 0, one = 1, hwm = 100000;

	if ((s = zmq_socket(ctx, type)) == NULL) {
		log_warnx("zmq_socket: %s", zmq_strerror(errno));
		return NULL;
	}
	zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof(zero));
	if (type == ZMQ_ROUTER)
		zmq_setsockopt(s, ZMQ_ROUTER_MANDATORY, &one, sizeof(one));
	if (type == ZMQ_PUB || type == ZMQ_SUB) {
		zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof(hwm));
		zmq_setsockopt(s, ZMQ_RCVHWM, &hwm, sizeof(hwm));
	}
	if (endpoint == NULL)
		return s;
	if (curve_apply(s, endpoint, bind) == -1) {
		zmq_close(s);
		return NULL;
	}
	if ((bind ? zmq_bind(s, endpoint) : zmq_connect(s, endpoint)) == -1) {
		log_warnx("cannot %s %s: %s", bind ? "bind" : "connect to",
		    endpoint, zmq_strerror(errno));
		zmq_close(s);
		return NULL;
	}
	return s;
}

int
wire_await(void *sock, uint32_t expect, int timeout_ms, struct wire_msg *m,
    kf_err_t *err, char *errmsg, size_t errcap)
{
	zmq_pollitem_t	 pi = { sock, 0, ZMQ_POLLIN, 0 };
	int64_t		 deadline = util_mono_ms() + timeout_ms;
	int64_t		 left;
	int		 rc;
	Kf__Error	*e;

	memset(m, 0, sizeof(*m));
	for (;;) {
		left = deadline - util_mono_ms();
		if (left < 0)
			left = 0;
		rc = zmq_poll(&pi, 1, (long)left);
		if (rc == -1 && errno == EINTR) {
			if (left == 0)
				break;
			continue;
		}
		if (rc <= 0)
			break;
		if (wire_recv(sock, 0, m, err, errmsg, errcap, 0) == -1)
			return -1;
		if (m->type == expect)
			return 0;
		if (m->type == KF__MSG_TYPE__ERROR) {
			e = (Kf__Error *)m->body;
			*err = e->code;
			if (errmsg != NULL)
				snprintf(errmsg, errcap, "%s", e->message);
			wire_msg_clear(m);
			return -1;
		}
		wire_msg_clear(m);
		return fail_msg(err, errmsg, errcap, KF__KF_ERR__ERR_MALFORMED,
		    "expected %s, got %s", wire_type_name(expect),
		    wire_type_name(m->type));
	}
	return fail_msg(err, errmsg, errcap, KF__KF_ERR__ERR_TIMEOUT,
	    "no answer within %d ms", timeout_ms);
}

int
wire_call(void *ctx, const char *endpoint, uint32_t type,
    const ProtobufCMessage *body, uint32_t expect, int timeout_ms,
    struct wire_msg *reply, kf_err_t *err, char *errmsg, size_t errcap)
{
	void	*s;
	int	 rc;

	memset(reply, 0, sizeof(*reply));
	if ((s = wire_socket(ctx, ZMQ_DEALER, endpoint, 0)) == NULL)
		return fail_msg(err, errmsg, errcap,
		    KF__KF_ERR__ERR_UNAVAILABLE, "cannot connect to %s",
		    endpoint);
	if (wire_send(s, NULL, 0, type, body, NULL, 0) == -1) {
		zmq_close(s);
		return fail_msg(err, errmsg, errcap,
		    KF__KF_ERR__ERR_UNAVAILABLE, "cannot send to %s: %s",
		    endpoint, zmq_strerror(errno));
	}
	rc = wire_await(s, expect, timeout_ms, reply, err, errmsg, errcap);
	zmq_close(s);
	return rc;
}
