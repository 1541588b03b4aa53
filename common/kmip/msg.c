/*
 * msg.c - KMIP request and response messages: header, batch items, and the
 * version rules that apply to them (KMIP 1.2 section 7, KMIP.md section 3).
 *
 * Request Header: Protocol Version, Maximum Response Size, [1.4 Client and
 * Server Correlation Value], Asynchronous Indicator, Authentication, Batch
 * Error Continuation Option, Batch Order Option, Time Stamp, Batch Count.
 * Response Header: Protocol Version, Time Stamp, [1.4 Client and Server
 * Correlation Value], Batch Count.  Request Batch Item: Operation, [2.0
 * Ephemeral], Unique Batch Item ID, Request Payload.  Response Batch Item:
 * Operation, Unique Batch Item ID, Result Status, Result Reason, Result
 * Message, Response Payload.
 *
 * Decoding fails as a whole only when the message itself is broken (not a
 * message, no header, a batch count that does not match); a broken batch
 * item gets its own item->err so the rest of the batch can be served.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "msg_int.h"

int
msg_need_version(uint32_t need, uint32_t version, const char *what,
    struct kmip_err *err)
{
	char	a[16], b[16];

	if (version >= need)
		return 0;
	kmip_err_set(err, KMIP_REASON_INVALID_FIELD, "%s needs KMIP %s or "
	    "later; this message is KMIP %s", what ? what : "a field",
	    kmip_ver_str(need, a, sizeof(a)), kmip_ver_str(version, b,
	    sizeof(b)));
	return -1;
}

void
pv_encode(struct ttlv *parent, uint32_t version)
{
	struct ttlv	*pv;

	pv = ttlv_add_struct(parent, KMIP_TAG_PROTOCOL_VERSION);

	ttlv_add_int(pv, KMIP_TAG_PROTOCOL_VERSION_MAJOR,
	    KMIP_VER_MAJOR(version));
	ttlv_add_int(pv, KMIP_TAG_PROTOCOL_VERSION_MINOR,
	    KMIP_VER_MINOR(version));
}

int
pv_decode(const struct ttlv *pv, uint32_t *version, struct kmip_err *err)
{
	int32_t	maj, min;
	int	r1, r2;

	if (ttlv_check_type(pv, TTLV_STRUCT, err) == -1)
		return -1;
	if ((r1 = ttlv_find_int(pv, KMIP_TAG_PROTOCOL_VERSION_MAJOR, &maj,
	    err)) == -1 || (r2 = ttlv_find_int(pv,
	    KMIP_TAG_PROTOCOL_VERSION_MINOR, &min, err)) == -1)
		return -1;
	if (r1 == 0 || r2 == 0 || maj < 0 || maj > 0xffff || min < 0 ||
	    min > 0xffff) {
		kmip_err_set(err, KMIP_REASON_INVALID_MESSAGE, "a Protocol "
		    "Version needs a Major and a Minor between 0 and 65535");
		return -1;
	}
	*version = KMIP_VER(maj, min);
	return 0;
}

struct kmip_msg *
kmip_msg_new(int response, uint32_t version)
{
	struct kmip_msg	*m;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	m->response = response ? 1 : 0;
	m->version = version;
	return m;
}

static void
item_free(struct kmip_item *it)
{
	if (it == NULL)
		return;
	kmip_bytes_clear(&it->batch_id);
	free(it->message);
	kmip_payload_clear(&it->p);
	free(it);
}

void
kmip_msg_free(struct kmip_msg **mp)
{
	struct kmip_msg	*m;
	size_t		 i;

	if (mp == NULL || (m = *mp) == NULL)
		return;
	*mp = NULL;
	for (i = 0; i < m->nitems; i++)
		item_free(m->items[i]);
	free(m->items);
	free(m->client_corr);
	free(m->server_corr);
	free(m);
}

struct kmip_item *
kmip_msg_add(struct kmip_msg *m, uint32_t op)
{
	struct kmip_item	**n, *it;

	if (m == NULL || m->nitems >= KMIP_MAX_BATCH)
		return NULL;
	if ((n = reallocarray(m->items, m->nitems + 1, sizeof(*n))) == NULL)
		return NULL;
	m->items = n;
	if ((it = calloc(1, sizeof(*it))) == NULL)
		return NULL;
	it->op = op;
	m->items[m->nitems++] = it;
	return it;
}

int
kmip_item_fail(struct kmip_item *it, uint32_t version, uint32_t reason,
    const char *fmt, ...)
{
	va_list	ap;
	char	*s;
	int	 r;

	it->status = KMIP_STATUS_FAILED;
	it->reason = kmip_reason_for_version(reason, version);
	it->has_payload = 0;
	kmip_payload_clear(&it->p);
	free(it->message);
	it->message = NULL;
	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r == -1)
		return -1;
	it->message = s;
	return 0;
}

/* The versions this codec encodes: 1.0-1.4 and 2.0. */
static int
version_known(uint32_t v)
{
	return (v >= KMIP_1_0 && v <= KMIP_1_4) || v == KMIP_2_0;
}

static void
header_encode(const struct kmip_msg *m, struct ttlv *top, int64_t now)
{
	struct ttlv	*h;

	h = ttlv_add_struct(top, m->response ? KMIP_TAG_RESPONSE_HEADER :
	    KMIP_TAG_REQUEST_HEADER);
	pv_encode(h, m->version);
	if (m->response)
		ttlv_add_datetime(h, KMIP_TAG_TIME_STAMP,
		    (m->has & KMIP_H_TIME_STAMP) ? m->time_stamp : now);
	else if (m->has & KMIP_H_MAX_RESPONSE_SIZE)
		ttlv_add_int(h, KMIP_TAG_MAX_RESPONSE_SIZE,
		    m->max_response_size);
	if (m->client_corr != NULL)
		ttlv_add_text(h, KMIP_TAG_CLIENT_CORRELATION_VALUE,
		    m->client_corr);
	if (m->server_corr != NULL)
		ttlv_add_text(h, KMIP_TAG_SERVER_CORRELATION_VALUE,
		    m->server_corr);
	if (!m->response) {
		if (m->has & KMIP_H_ASYNC)
			ttlv_add_bool(h, KMIP_TAG_ASYNC_INDICATOR, m->async);
		if (m->has & KMIP_H_BATCH_ERROR)
			ttlv_add_enum(h, KMIP_TAG_BATCH_ERROR_OPTION,
			    m->batch_error);
		if (m->has & KMIP_H_BATCH_ORDER)
			ttlv_add_bool(h, KMIP_TAG_BATCH_ORDER_OPTION,
			    m->batch_order);
		if (m->has & KMIP_H_TIME_STAMP)
			ttlv_add_datetime(h, KMIP_TAG_TIME_STAMP,
			    m->time_stamp);
	}
	ttlv_add_int(h, KMIP_TAG_BATCH_COUNT, (int32_t)m->nitems);
}

static int
item_encode(const struct kmip_msg *m, const struct kmip_item *it,
    size_t idx, struct ttlv *top, struct kmip_err *err)
{
	struct ttlv	*bi;
	uint32_t	 v = m->version;
	char		 what[64];

	/* A failed item may echo whatever operation the peer sent. */
	if (it->op != 0 && (!m->response || it->status ==
	    KMIP_STATUS_SUCCESS) && msg_need_version(kmip_op_version(it->op),
	    v, kmip_op_name(it->op), err) == -1)
		return -1;
	bi = ttlv_add_struct(top, KMIP_TAG_BATCH_ITEM);
	if (it->op != 0)
		ttlv_add_enum(bi, KMIP_TAG_OPERATION, it->op);
	else if (!m->response) {
		kmip_err_set(err, KMIP_REASON_GENERAL_FAILURE,
		    "request batch item %zu has no Operation", idx + 1);
		return -1;
	}
	if (it->ephemeral && !m->response) {
		if (msg_need_version(KMIP_2_0, v, "Ephemeral", err) == -1)
			return -1;
		ttlv_add_bool(bi, KMIP_TAG_EPHEMERAL, 1);
	}
	if (it->batch_id.p != NULL)
		ttlv_add_bytes(bi, KMIP_TAG_UNIQUE_BATCH_ITEM_ID,
		    it->batch_id.p, it->batch_id.len);
	else if (!m->response && m->nitems > 1) {
		kmip_err_set(err, KMIP_REASON_GENERAL_FAILURE, "request batch "
		    "item %zu has no Unique Batch Item ID, which a batch of "
		    "%zu needs", idx + 1, m->nitems);
		return -1;
	}
	if (!m->response)
		return kmip_payload_encode(it->op, 0, v, &it->p, bi, err);
	ttlv_add_enum(bi, KMIP_TAG_RESULT_STATUS, it->status);
	if (it->status == KMIP_STATUS_FAILED && it->reason == 0) {
		kmip_err_set(err, KMIP_REASON_GENERAL_FAILURE, "failed batch "
		    "item %zu has no Result Reason", idx + 1);
		return -1;
	}
	if (it->reason != 0) {
		snprintf(what, sizeof(what), "Result Reason %s",
		    kmip_reason_name(it->reason));
		if (msg_need_version(kmip_reason_version(it->reason), v, what,
		    err) == -1)
			return -1;
		ttlv_add_enum(bi, KMIP_TAG_RESULT_REASON, it->reason);
	}
	if (it->message != NULL)
		ttlv_add_text(bi, KMIP_TAG_RESULT_MESSAGE, it->message);
	if (it->status != KMIP_STATUS_SUCCESS)
		return 0;
	if (it->op == 0) {
		kmip_err_set(err, KMIP_REASON_GENERAL_FAILURE, "successful "
		    "batch item %zu has no Operation", idx + 1);
		return -1;
	}
	return kmip_payload_encode(it->op, 1, v, &it->p, bi, err);
}

int
kmip_msg_encode(const struct kmip_msg *m, uint8_t **buf, size_t *len,
    struct kmip_err *err)
{
	struct ttlv	*top = NULL;
	char		 vs[16];
	size_t		 i;
	int		 rc = -1;

	*buf = NULL;
	*len = 0;
	if (!version_known(m->version)) {
		kmip_err_set(err, KMIP_REASON_GENERAL_FAILURE, "KMIP %s is not "
		    "a version this codec speaks (1.0-1.4, 2.0)",
		    kmip_ver_str(m->version, vs, sizeof(vs)));
		return -1;
	}
	if (m->nitems == 0 || m->nitems > KMIP_MAX_BATCH) {
		kmip_err_set(err, KMIP_REASON_GENERAL_FAILURE, "a message "
		    "needs 1 to %d batch items, not %zu", KMIP_MAX_BATCH,
		    m->nitems);
		return -1;
	}
	if ((m->client_corr != NULL && msg_need_version(KMIP_1_4, m->version,
	    "Client Correlation Value", err) == -1) ||
	    (m->server_corr != NULL && msg_need_version(KMIP_1_4, m->version,
	    "Server Correlation Value", err) == -1))
		return -1;
	if ((top = ttlv_struct_new(m->response ? KMIP_TAG_RESPONSE_MESSAGE :
	    KMIP_TAG_REQUEST_MESSAGE)) == NULL) {
		kmip_err_set(err, KMIP_REASON_GENERAL_FAILURE,
		    "out of memory encoding a message");
		return -1;
	}
	header_encode(m, top, (int64_t)time(NULL));
	for (i = 0; i < m->nitems; i++)
		if (item_encode(m, m->items[i], i, top, err) == -1)
			goto fail;
	rc = ttlv_encode(top, buf, len, err);
 fail:
	ttlv_free(&top);
	return rc;
}

static int
header_decode(const struct ttlv *h, struct kmip_msg *m, int32_t *count,
    struct kmip_err *err)
{
	const struct ttlv	*pv;
	int			 r;

	if (ttlv_check_type(h, TTLV_STRUCT, err) == -1)
		return -1;
	if ((pv = ttlv_find(h, KMIP_TAG_PROTOCOL_VERSION)) == NULL) {
		kmip_err_set(err, KMIP_REASON_INVALID_MESSAGE,
		    "the message header has no Protocol Version");
		return -1;
	}
	if (pv_decode(pv, &m->version, err) == -1)
		return -1;
	if (err != NULL)
		err->version = m->version;
	if (KMIP_VER_MAJOR(m->version) < 1 || KMIP_VER_MAJOR(m->version) > 2) {
		kmip_err_set(err, KMIP_REASON_INVALID_MESSAGE, "protocol major "
		    "version %d is not supported (1 and 2 are)",
		    KMIP_VER_MAJOR(m->version));
		return -1;
	}
	if ((r = ttlv_find_int(h, KMIP_TAG_BATCH_COUNT, count, err)) != 1) {
		if (r == 0)
			kmip_err_set(err, KMIP_REASON_INVALID_MESSAGE,
			    "the message header has no Batch Count");
		return -1;
	}
	if (ttlv_find(h, KMIP_TAG_AUTHENTICATION) != NULL)
		m->has |= KMIP_H_AUTHENTICATION;
	if ((r = ttlv_find_int(h, KMIP_TAG_MAX_RESPONSE_SIZE,
	    &m->max_response_size, err)) == 1)
		m->has |= KMIP_H_MAX_RESPONSE_SIZE;
	if (r == -1 || (r = ttlv_find_datetime(h, KMIP_TAG_TIME_STAMP,
	    &m->time_stamp, err)) == -1)
		return -1;
	if (r == 1)
		m->has |= KMIP_H_TIME_STAMP;
	if ((r = ttlv_find_bool(h, KMIP_TAG_ASYNC_INDICATOR, &m->async,
	    err)) == 1)
		m->has |= KMIP_H_ASYNC;
	if (r == -1 || (r = ttlv_find_enum(h, KMIP_TAG_BATCH_ERROR_OPTION,
	    &m->batch_error, err)) == -1)
		return -1;
	if (r == 1)
		m->has |= KMIP_H_BATCH_ERROR;
	if ((r = ttlv_find_bool(h, KMIP_TAG_BATCH_ORDER_OPTION,
	    &m->batch_order, err)) == 1)
		m->has |= KMIP_H_BATCH_ORDER;
	if (r == -1 || ttlv_find_text(h, KMIP_TAG_CLIENT_CORRELATION_VALUE,
	    &m->client_corr, err) == -1 || ttlv_find_text(h,
	    KMIP_TAG_SERVER_CORRELATION_VALUE, &m->server_corr, err) == -1)
		return -1;
	return 0;
}

/* Decode one batch item's result fields and payload into it->err. */
static void
item_body_decode(const struct kmip_msg *m, const struct ttlv *bi,
    struct kmip_item *it)
{
	const struct ttlv	*pl;
	struct kmip_err		*e = &it->err;
	char			 a[16], b[16];
	int			 r;

	if (m->response) {
		if ((r = ttlv_find_enum(bi, KMIP_TAG_RESULT_STATUS,
		    &it->status, e)) == 0)
			kmip_err_set(e, KMIP_REASON_INVALID_MESSAGE,
			    "the batch item has no Result Status");
		if (r != 1 || ttlv_find_enum(bi, KMIP_TAG_RESULT_REASON,
		    &it->reason, e) == -1 || ttlv_find_text(bi,
		    KMIP_TAG_RESULT_MESSAGE, &it->message, e) == -1 ||
		    it->status != KMIP_STATUS_SUCCESS)
			return;
	}
	if (!m->response && it->op == 0) {
		kmip_err_set(e, KMIP_REASON_INVALID_MESSAGE,
		    "the batch item has no Operation");
		return;
	}
	if (!kmip_op_supported(it->op)) {
		kmip_err_set(e, KMIP_REASON_OPERATION_NOT_SUPPORTED,
		    "operation %s (0x%02X) is not supported",
		    kmip_op_name(it->op), it->op);
		return;
	}
	if (kmip_op_version(it->op) > m->version) {
		kmip_err_set(e, KMIP_REASON_OPERATION_NOT_SUPPORTED,
		    "%s needs KMIP %s or later; this message is KMIP %s",
		    kmip_op_name(it->op), kmip_ver_str(kmip_op_version(it->op),
		    a, sizeof(a)), kmip_ver_str(m->version, b, sizeof(b)));
		return;
	}
	if ((pl = ttlv_find(bi, m->response ? KMIP_TAG_RESPONSE_PAYLOAD :
	    KMIP_TAG_REQUEST_PAYLOAD)) == NULL) {
		kmip_err_set(e, KMIP_REASON_INVALID_MESSAGE, "the %s batch "
		    "item has no payload", kmip_op_name(it->op));
		return;
	}
	it->has_payload = 1;
	if (kmip_payload_decode(it->op, m->response, m->version, pl, &it->p,
	    e) == -1)
		it->has_payload = 0;
}

static int
item_decode(const struct kmip_msg *m, const struct ttlv *bi,
    struct kmip_item *it, struct kmip_err *err)
{
	struct kmip_err	*e = &it->err;

	if (ttlv_check_type(bi, TTLV_STRUCT, err) == -1)
		return -1;
	/* Operation and batch id first: a server echoes them on error. */
	if (ttlv_find_enum(bi, KMIP_TAG_OPERATION, &it->op, e) == -1 ||
	    ttlv_find_bytes(bi, KMIP_TAG_UNIQUE_BATCH_ITEM_ID,
	    &it->batch_id.p, &it->batch_id.len, e) == -1 ||
	    ttlv_find_bool(bi, KMIP_TAG_EPHEMERAL, &it->ephemeral, e) == -1)
		return 0;
	item_body_decode(m, bi, it);
	return 0;
}

int
kmip_msg_decode(const uint8_t *buf, size_t len, int response,
    const struct ttlv_limits *lim, struct kmip_msg **mp,
    struct kmip_err *err)
{
	struct ttlv		*top = NULL;
	const struct ttlv	*h, *bi = NULL;
	struct kmip_msg		*m = NULL;
	struct kmip_item	*it;
	uint32_t		 want = response ? KMIP_TAG_RESPONSE_MESSAGE :
				    KMIP_TAG_REQUEST_MESSAGE;
	int32_t			 count = 0;
	size_t			 n;

	*mp = NULL;
	if (err != NULL)
		err->version = 0;
	if (ttlv_decode(buf, len, lim, &top, err) == -1)
		return -1;
	if (top->tag != want || top->type != TTLV_STRUCT) {
		kmip_err_set(err, KMIP_REASON_INVALID_MESSAGE, "expected a %s "
		    "(0x%06X), got item 0x%06X", ttlv_tag_name(want),
		    (unsigned)want, (unsigned)top->tag);
		goto fail;
	}
	if ((m = kmip_msg_new(response, 0)) == NULL)
		goto oom;
	if ((h = ttlv_find(top, response ? KMIP_TAG_RESPONSE_HEADER :
	    KMIP_TAG_REQUEST_HEADER)) == NULL) {
		kmip_err_set(err, KMIP_REASON_INVALID_MESSAGE,
		    "the message has no header");
		goto fail;
	}
	if (header_decode(h, m, &count, err) == -1)
		goto fail;
	n = ttlv_count(top, KMIP_TAG_BATCH_ITEM);
	if (n == 0 || n > KMIP_MAX_BATCH || count < 0 || (size_t)count != n) {
		kmip_err_set(err, KMIP_REASON_INVALID_MESSAGE, "the header's "
		    "Batch Count is %d and the message holds %zu batch items "
		    "(1 to %d allowed)", count, n, KMIP_MAX_BATCH);
		goto fail;
	}
	while ((bi = ttlv_find_next(top, bi, KMIP_TAG_BATCH_ITEM)) != NULL) {
		if ((it = kmip_msg_add(m, 0)) == NULL)
			goto oom;
		if (item_decode(m, bi, it, err) == -1)
			goto fail;
	}
	ttlv_free(&top);
	*mp = m;
	return 0;
 oom:
	kmip_err_set(err, KMIP_REASON_GENERAL_FAILURE,
	    "out of memory decoding a message");
 fail:
	ttlv_free(&top);
	kmip_msg_free(&m);
	return -1;
}
