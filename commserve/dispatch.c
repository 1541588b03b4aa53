/*
 * dispatch.c - CommServe's handler table and the generic checks.
 *
 * wire_recv has already checked frame count, sizes, type and the protobuf
 * body; here the sender's role is checked once, before any handler runs,
 * and every request is guaranteed an answer: a handler that returns
 * without replying to a request is answered ERR_INTERNAL.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "commserve.h"
#include "log.h"
#include "util.h"

enum sender {
	ANYONE,		/* operators, or job messages checked by token */
	REGISTERED,	/* a registered client or MediaAgent */
	MEDIAAGENT	/* a registered MediaAgent */
};

struct handler {
	uint32_t	 type;			/* message type */
	enum sender	 sender;		/* who may send it */
	int		 reply;			/* 1 if it must be answered */
	void		(*fn)(struct req *);	/* the handler */
};

static const struct handler handlers[] = {
	{ KF__MSG_TYPE__HELLO, ANYONE, 1, peers_hello },
	{ KF__MSG_TYPE__AUTH, ANYONE, 1, peers_auth },
	{ KF__MSG_TYPE__HEARTBEAT, REGISTERED, 0, peers_heartbeat },
	{ KF__MSG_TYPE__POOL_CREATE, ANYONE, 1, pool_create },
	{ KF__MSG_TYPE__POOL_LIST, ANYONE, 1, pool_list },
	{ KF__MSG_TYPE__CLIENT_ADD, ANYONE, 1, admin_client_add },
	{ KF__MSG_TYPE__CLIENT_LIST, ANYONE, 1, admin_client_list },
	{ KF__MSG_TYPE__MA_LIST, ANYONE, 1, admin_ma_list },
	{ KF__MSG_TYPE__MA_UNPIN, ANYONE, 1, admin_ma_unpin },
	{ KF__MSG_TYPE__KMS_LIST, ANYONE, 1, admin_kms_list },
	{ KF__MSG_TYPE__KMS_ADD, ANYONE, 1, kms_admin_add },
	{ KF__MSG_TYPE__TRACE_GET, ANYONE, 1, admin_trace_get },
	{ KF__MSG_TYPE__BACKUP_START, ANYONE, 1, backup_start },
	{ KF__MSG_TYPE__RESTORE_START, ANYONE, 1, restore_start },
	{ KF__MSG_TYPE__JOB_LIST, ANYONE, 1, jobs_job_list },
	{ KF__MSG_TYPE__JOB_GET, ANYONE, 1, jobs_job_get },
	{ KF__MSG_TYPE__CATALOG_GET, ANYONE, 1, restore_catalog_get },
	{ KF__MSG_TYPE__VERIFY_START, ANYONE, 1, verify_start },
	{ KF__MSG_TYPE__VERIFY_RESULT, ANYONE, 0, verify_result },
	{ KF__MSG_TYPE__JOB_PROGRESS, ANYONE, 0, jobs_progress },
	{ KF__MSG_TYPE__CATALOG_BATCH, ANYONE, 1, backup_catalog_batch },
	{ KF__MSG_TYPE__JOB_DONE, ANYONE, 1, jobs_done },
	{ KF__MSG_TYPE__JOB_FAILURE, ANYONE, 1, jobs_failed },
	{ KF__MSG_TYPE__JOB_ACCEPTED, MEDIAAGENT, 0, jobs_accepted },
	{ KF__MSG_TYPE__CONTAINER_COMMITTED, MEDIAAGENT, 0,
	  backup_container_committed },
	/* Answers to what CommServe sent; never answered themselves. */
	{ KF__MSG_TYPE__ERROR, ANYONE, 0, jobs_ma_error },
	{ KF__MSG_TYPE__OK, ANYONE, 0, jobs_ma_ok },
};

static const struct handler *
handler_lookup(uint32_t type)
{
	size_t	i;

	for (i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++)
		if (handlers[i].type == type)
			return &handlers[i];
	return NULL;
}

void
cs_reply(struct req *r, uint32_t type, const ProtobufCMessage *body)
{
	if (wire_send(r->cs->router, r->msg->peer, r->msg->peerlen, type,
	    body, NULL, 0) == -1)
		log_warnx("cannot answer %s: %s", wire_type_name(r->msg->type),
		    zmq_strerror(errno));
	r->replied = 1;
}

void
cs_error(struct req *r, kf_err_t code, const char *fmt, ...)
{
	Kf__Error	e = KF__ERROR__INIT;
	char		text[1024];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	e.code = code;
	e.message = text;
	log_info("%s refused: %s (%s)", wire_type_name(r->msg->type), text,
	    wire_err_name(code));
	cs_reply(r, KF__MSG_TYPE__ERROR, &e.base);
}

int
cs_send(struct cs *cs, const struct peer *p, uint32_t type,
    const ProtobufCMessage *body)
{
	if (wire_send(cs->router, p->id, p->idlen, type, body, NULL,
	    0) == -1) {
		log_warnx("cannot send %s to %s: %s", wire_type_name(type),
		    p->name, zmq_strerror(errno));
		return -1;
	}
	return 0;
}

void
dispatch_router(struct cs *cs)
{
	const struct handler	*h;
	struct wire_msg		 m;
	struct req		 r;
	kf_err_t		 err;
	char			 errmsg[512];
	int			 n;

	/* Drain what is waiting, but let the loop breathe now and then. */
	for (n = 0; n < 64; n++) {
		if (wire_recv(cs->router, 1, &m, &err, errmsg, sizeof(errmsg),
		    ZMQ_DONTWAIT) == -1) {
			if (err == KF__KF_ERR__ERR_NONE)
				return;		/* nothing more waiting */
			log_warnx("rejected a message: %s", errmsg);
			if (m.peerlen > 0 && m.type != KF__MSG_TYPE__ERROR &&
			    m.type != KF__MSG_TYPE__OK)
				wire_send_error(cs->router, m.peer, m.peerlen,
				    err, "%s", errmsg);
			continue;
		}
		memset(&r, 0, sizeof(r));
		r.cs = cs;
		r.msg = &m;
		r.peer = peers_find_id(cs, m.peer, m.peerlen);
		if (r.peer != NULL)
			r.peer->last_seen_ms = util_mono_ms();
		if ((h = handler_lookup(m.type)) == NULL) {
			cs_error(&r, KF__KF_ERR__ERR_UNKNOWN_TYPE,
			    "CommServe does not handle %s messages",
			    wire_type_name(m.type));
		} else if (h->sender != ANYONE && (r.peer == NULL ||
		    !r.peer->authed || (h->sender == MEDIAAGENT &&
		    r.peer->role != PEER_MEDIAAGENT))) {
			cs_error(&r, KF__KF_ERR__ERR_STATE,
			    "not registered: send HELLO first");
		} else {
			h->fn(&r);
			if (h->reply && !r.replied)
				cs_error(&r, KF__KF_ERR__ERR_INTERNAL,
				    "%s: no answer was produced (a bug)",
				    wire_type_name(m.type));
		}
		wire_msg_clear(&m);
	}
}

void
cs_ok(struct req *r)
{
	Kf__Ok	ok = KF__OK__INIT;

	cs_reply(r, KF__MSG_TYPE__OK, &ok.base);
}
