/*
 * dispatch.c - from one request message to one response message.
 *
 * The codec (common/kmip) decodes the request; a message that cannot be
 * read at all is answered with one batch item without an Operation,
 * Operation Failed and the codec's reason (KMIP 1.2 section 11).  Then
 * each batch item goes through the generic checks once, here, before any
 * handler runs: the protocol version is one kmsd speaks (else only
 * Discover Versions is served), the item's payload decoded (else the
 * codec's reason: Invalid Message, Operation Not Supported, ...), the
 * operation has a handler in the table below.  Items run in order; the
 * first failure ends the batch unless the client asked for Continue.  The
 * response echoes each Unique Batch Item ID, carries a Time Stamp, is in
 * the request's version, and is cut down to Response Too Large items when
 * it would exceed the client's Maximum Response Size.  Every item leaves
 * one audit line: peer identity, operation, object, result; never data or
 * key material.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kms.h"
#include "log.h"

/* One operation kmsd serves. */
static const struct op_def {
	uint32_t	 op;		/* KMIP Operation */
	kms_handler	 fn;		/* its handler */
} op_table[] = {
	{ KMIP_OP_CREATE, op_create },
	{ KMIP_OP_REGISTER, op_register },
	{ KMIP_OP_LOCATE, op_locate },
	{ KMIP_OP_GET, op_get },
	{ KMIP_OP_GET_ATTRIBUTES, op_get_attributes },
	{ KMIP_OP_ACTIVATE, op_activate },
	{ KMIP_OP_REVOKE, op_revoke },
	{ KMIP_OP_DESTROY, op_destroy },
	{ KMIP_OP_QUERY, op_query },
	{ KMIP_OP_DISCOVER_VERSIONS, op_discover_versions },
	{ KMIP_OP_ENCRYPT, op_encrypt },
	{ KMIP_OP_DECRYPT, op_decrypt },
};
#define NOPS	(sizeof(op_table) / sizeof(op_table[0]))

size_t
dispatch_ops(uint32_t version, uint32_t *ops, size_t cap)
{
	size_t	i, n = 0;

	for (i = 0; i < NOPS && n < cap; i++)
		if (kmip_op_version(op_table[i].op) <= version)
			ops[n++] = op_table[i].op;
	return n;
}

static const struct op_def *
op_find(uint32_t op)
{
	size_t	i;

	for (i = 0; i < NOPS; i++)
		if (op_table[i].op == op)
			return &op_table[i];
	return NULL;
}

/* The audit line of one item: who, what, which object, the outcome. */
static void
audit(const struct kms_conn *c, const struct kms_req *r, uint32_t op,
    const struct kmip_item *rsp)
{
	char	subject[KMS_SUBJECT_MAX], msg[200];

	access_clean(c->subject, subject, sizeof(subject));
	if (rsp->status == KMIP_STATUS_SUCCESS)
		log_info("audit: conn %llu subject=\"%s\" op=%s uid=%s "
		    "result=Success%s%s", (unsigned long long)c->id, subject,
		    op ? kmip_op_name(op) : "-", r && r->uid[0] ? r->uid : "-",
		    r && r->note[0] ? " " : "", r ? r->note : "");
	else
		log_info("audit: conn %llu subject=\"%s\" op=%s uid=%s "
		    "result=\"%s\" message=\"%s\"", (unsigned long long)c->id,
		    subject, op ? kmip_op_name(op) : "-",
		    r && r->uid[0] ? r->uid : "-",
		    kmip_reason_name(rsp->reason), access_clean(rsp->message ?
		    rsp->message : "", msg, sizeof(msg)));
}

/* The generic checks, then the operation's handler. */
static void
serve_item(struct kms_req *r, const struct kmip_msg *m,
    const struct kmip_item *it, struct kmip_item *rsp)
{
	const struct op_def	*d;
	char			 v[16];

	r->uid[0] = '\0';
	r->note[0] = '\0';
	if (!meta_version_supported(m->version) &&
	    it->op != KMIP_OP_DISCOVER_VERSIONS) {
		access_fail(r, rsp, KMIP_REASON_UNSUPPORTED_PROTOCOL_VERSION,
		    "KMIP %s is not supported; kmsd speaks %s (ask with "
		    "Discover Versions)", kmip_ver_str(m->version, v,
		    sizeof(v)), meta_versions_str());
		return;
	}
	if ((m->has & KMIP_H_BATCH_ERROR) &&
	    m->batch_error == KMIP_BATCH_UNDO && m->nitems > 1) {
		access_fail(r, rsp, KMIP_REASON_FEATURE_NOT_SUPPORTED,
		    "Batch Error Continuation Option Undo is not supported; "
		    "use Stop or Continue");
		return;
	}
	if (it->err.reason != 0) {
		access_fail(r, rsp, it->err.reason, "%s", it->err.msg);
		return;
	}
	if ((d = op_find(it->op)) == NULL || !it->has_payload) {
		access_fail(r, rsp, KMIP_REASON_OPERATION_NOT_SUPPORTED,
		    "operation %s (0x%02X) is not supported by kmsd",
		    kmip_op_name(it->op), it->op);
		return;
	}
	d->fn(r, it, rsp);
}

static void
buf_free(uint8_t **buf, size_t len)
{
	if (*buf != NULL) {
		crypto_wipe(*buf, len);
		free(*buf);
	}
	*buf = NULL;
}

/* Encode resp; on failure, answer every item General Failure instead. */
static int
encode(const struct kms_conn *c, struct kmip_msg *resp, uint8_t **out,
    size_t *outlen)
{
	struct kmip_err	err;
	size_t		i;

	memset(&err, 0, sizeof(err));
	if (kmip_msg_encode(resp, out, outlen, &err) == 0)
		return 0;
	log_warnx("conn %llu: cannot encode the response: %s",
	    (unsigned long long)c->id, err.msg);
	for (i = 0; i < resp->nitems; i++) {
		resp->items[i]->op = 0;
		kmip_item_fail(resp->items[i], resp->version,
		    KMIP_REASON_GENERAL_FAILURE, "kmsd could not encode its "
		    "answer (%s)", err.msg);
	}
	return kmip_msg_encode(resp, out, outlen, &err);
}

/* Maximum Response Size: successful items become Response Too Large. */
static int
limit(const struct kms_conn *c, const struct kmip_msg *m,
    struct kmip_msg *resp, uint8_t **out, size_t *outlen)
{
	size_t	i, len = *outlen;

	if (!(m->has & KMIP_H_MAX_RESPONSE_SIZE) || m->max_response_size <= 0 ||
	    len <= (size_t)m->max_response_size)
		return 0;
	buf_free(out, *outlen);
	for (i = 0; i < resp->nitems; i++)
		if (resp->items[i]->status == KMIP_STATUS_SUCCESS)
			kmip_item_fail(resp->items[i], resp->version,
			    KMIP_REASON_RESPONSE_TOO_LARGE, "the response "
			    "would be %zu bytes; Maximum Response Size is %d",
			    len, m->max_response_size);
	return encode(c, resp, out, outlen);
}

int
dispatch_error(uint32_t version, uint32_t reason, const char *msg,
    uint8_t **out, size_t *outlen)
{
	struct kmip_msg		*m;
	struct kmip_item	*it;
	struct kmip_err		 err;
	int			 rc = -1;

	if ((m = kmip_msg_new(1, version)) == NULL)
		return -1;
	if ((it = kmip_msg_add(m, 0)) != NULL) {
		kmip_item_fail(it, version, reason, "%s", msg);
		rc = kmip_msg_encode(m, out, outlen, &err);
	}
	kmip_msg_free(&m);
	return rc;
}

/* A message that could not be decoded: one item, no Operation. */
static int
refuse(const struct kms_conn *c, const struct kmip_err *err, uint8_t **out,
    size_t *outlen)
{
	struct kmip_item	 it;
	uint32_t		 v = KMIP_1_0, reason = err->reason;
	char			 msg[KMIP_ERRLEN + 128], vs[16];
	int			 rc;

	if (reason == 0)
		reason = KMIP_REASON_INVALID_MESSAGE;
	snprintf(msg, sizeof(msg), "%s", err->msg);
	if (err->version != 0) {
		v = meta_version_answer(err->version);
		if (KMIP_VER_MAJOR(err->version) != 1 &&
		    KMIP_VER_MAJOR(err->version) != 2) {
			reason = KMIP_REASON_UNSUPPORTED_PROTOCOL_VERSION;
			snprintf(msg, sizeof(msg), "KMIP %s is not supported; "
			    "kmsd speaks %s (ask with Discover Versions)",
			    kmip_ver_str(err->version, vs, sizeof(vs)),
			    meta_versions_str());
		}
	}
	rc = dispatch_error(v, reason, msg, out, outlen);
	memset(&it, 0, sizeof(it));
	it.status = KMIP_STATUS_FAILED;
	it.reason = kmip_reason_for_version(reason, v);
	it.message = msg;
	audit(c, NULL, 0, &it);
	return rc;
}

int
dispatch_message(const struct kms_conn *c, const uint8_t *buf, size_t len,
    uint8_t **out, size_t *outlen)
{
	struct ttlv_limits	 lim = { c->k->conf->max_message,
				    TTLV_MAX_DEPTH, TTLV_MAX_ITEMS };
	struct kmip_msg		*m = NULL, *resp = NULL;
	struct kmip_item	*it, *rit;
	struct kmip_err		 err;
	struct kms_req		 r;
	char			 tbuf[KMS_TRACE_MAX];
	size_t			 i;
	int			 rc = -1;

	*out = NULL;
	*outlen = 0;
	memset(&err, 0, sizeof(err));
	if (kmip_msg_decode(buf, len, 0, &lim, &m, &err) == -1)
		return refuse(c, &err, out, outlen);
	memset(&r, 0, sizeof(r));
	r.k = c->k;
	r.c = c;
	r.version = meta_version_answer(m->version);
	r.trace_id = access_trace_id(m->client_corr, tbuf, sizeof(tbuf));
	if ((resp = kmip_msg_new(1, r.version)) == NULL)
		goto fail;
	for (i = 0; i < m->nitems; i++) {
		it = m->items[i];
		/* An operation newer than the answer's version is not echoed. */
		if ((rit = kmip_msg_add(resp, kmip_op_version(it->op) <=
		    r.version ? it->op : 0)) == NULL ||
		    (it->batch_id.p != NULL && kmip_bytes_set(&rit->batch_id,
		    it->batch_id.p, it->batch_id.len) == -1))
			goto fail;
		serve_item(&r, m, it, rit);
		audit(c, &r, it->op, rit);
		if (rit->status != KMIP_STATUS_SUCCESS &&
		    (!(m->has & KMIP_H_BATCH_ERROR) ||
		    m->batch_error != KMIP_BATCH_CONTINUE))
			break;
	}
	if (encode(c, resp, out, outlen) == 0 &&
	    limit(c, m, resp, out, outlen) == 0)
		rc = 0;
 fail:
	if (rc == -1) {
		buf_free(out, *outlen);
		log_warnx("conn %llu: out of memory answering a request",
		    (unsigned long long)c->id);
	}
	kmip_msg_free(&resp);
	kmip_msg_free(&m);
	return rc;
}
