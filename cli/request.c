/*
 * request.c - one request to CommServe and its one reply.
 *
 * A DEALER socket is kept for the next request after an exchange that
 * ended with its reply read (an ERROR reply too); silence, a reply that
 * does not decode, or an interruption closes it, so a late reply to an
 * earlier, timed-out request can never be taken for the answer to this
 * one.  Keeping it spares CommServe a connection (and a
 * CURVE handshake) per request when a command polls, like job waits and
 * keyflow load.
 * This is wire_call() taken apart: we wait for the reply ourselves so that
 * "CommServe did not answer" (our timeout) is never confused with an ERROR
 * reply whose code happens to be ERR_TIMEOUT (CommServe saying one of *its*
 * peers did not answer), and so that Ctrl-C while a job is being watched
 * stops the wait at once.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "curve.h"
#include "util.h"

static int
set_error(struct cli_error *e, enum cli_fail why, kf_err_t code,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int
set_error(struct cli_error *e, enum cli_fail why, kf_err_t code,
    const char *fmt, ...)
{
	va_list	ap;

	e->why = why;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

/* Drop the kept socket: a reply still due on it can never be read. */
static void
drop_socket(struct cli *c)
{
	if (c->sock != NULL)
		zmq_close(c->sock);
	c->sock = NULL;
}

/*
 * Send one request; its reply is read by cli_await.  Several may be sent
 * before their replies are read (keyflow load): CommServe answers each
 * connection's requests in order.  0, or -1 with e filled.
 */
int
cli_send(struct cli *c, uint32_t type, const ProtobufCMessage *body,
    struct cli_error *e)
{
	memset(e, 0, sizeof(*e));
	if (c->sock == NULL &&
	    (c->sock = wire_socket(c->zctx, ZMQ_DEALER, c->endpoint, 0)) ==
	    NULL)
		return set_error(e, CLI_FAIL_LOCAL,
		    KF__KF_ERR__ERR_UNAVAILABLE, "cannot connect to %s",
		    c->endpoint);
	if (wire_send(c->sock, NULL, 0, type, body, NULL, 0) == -1) {
		set_error(e, CLI_FAIL_LOCAL, KF__KF_ERR__ERR_UNAVAILABLE,
		    "cannot send to CommServe at %s: %s", c->endpoint,
		    zmq_strerror(errno));
		drop_socket(c);
		return -1;
	}
	return 0;
}

/*
 * Wait for the reply to the oldest request sent and not yet answered, of
 * type expect.  0 with reply filled (the caller clears it with
 * wire_msg_clear), or -1 with e filled.  An ERROR reply leaves the socket
 * as it was; silence, a reply that does not decode, or Ctrl-C closes it,
 * and every reply still due on it is lost.
 */
int
cli_await(struct cli *c, uint32_t expect, struct wire_msg *reply,
    struct cli_error *e)
{
	zmq_pollitem_t	 pi;
	int64_t		 deadline, left;
	int		 rc;

	memset(reply, 0, sizeof(*reply));
	memset(e, 0, sizeof(*e));
	if (c->sock == NULL)
		return set_error(e, CLI_FAIL_LOCAL,
		    KF__KF_ERR__ERR_UNAVAILABLE, "the connection to CommServe "
		    "at %s was closed before the reply came", c->endpoint);
	pi.socket = c->sock;
	pi.fd = 0;
	pi.events = ZMQ_POLLIN;
	pi.revents = 0;
	deadline = util_mono_ms() + (int64_t)c->timeout_s * 1000;
	for (;;) {
		if (util_stop) {
			set_error(e, CLI_FAIL_STOPPED, KF__KF_ERR__ERR_NONE,
			    "interrupted");
			goto fail;
		}
		if ((left = deadline - util_mono_ms()) < 0)
			left = 0;
		rc = zmq_poll(&pi, 1, (long)left);
		if (rc == -1 && errno == EINTR)
			continue;
		if (rc == -1) {
			set_error(e, CLI_FAIL_LOCAL, KF__KF_ERR__ERR_INTERNAL,
			    "zmq_poll: %s", zmq_strerror(errno));
			goto fail;
		}
		if (rc > 0)
			break;
		if (left == 0) {
			set_error(e, CLI_FAIL_TIMEOUT, KF__KF_ERR__ERR_TIMEOUT,
			    "CommServe at %s did not answer within %u s%s",
			    c->endpoint, c->timeout_s, curve_enabled() ?
			    " (CURVE is on: is this operator's curve.pub in "
			    "CommServe's trust directory, and --commserve-key "
			    "CommServe's key?)" : "");
			goto fail;
		}
	}
	/* A reply is waiting: wire_await reads it and decodes ERROR. */
	if (wire_await(c->sock, expect, 0, reply, &e->code, e->msg,
	    sizeof(e->msg)) == -1) {
		e->why = CLI_FAIL_REPLY;
		/* wire.c reports our own decode failures as ERR_MALFORMED. */
		if (e->code == KF__KF_ERR__ERR_MALFORMED)
			drop_socket(c);
		return -1;
	}
	return 0;
fail:
	drop_socket(c);
	return -1;
}

/*
 * Send one request and wait for its reply of type expect.  0 with reply
 * filled (the caller clears it with wire_msg_clear), or -1 with e filled.
 */
int
cli_request_quiet(struct cli *c, uint32_t type, const ProtobufCMessage *body,
    uint32_t expect, struct wire_msg *reply, struct cli_error *e)
{
	memset(reply, 0, sizeof(*reply));
	if (cli_send(c, type, body, e) == -1)
		return -1;
	return cli_await(c, expect, reply, e);
}

void
cli_disconnect(struct cli *c)
{
	drop_socket(c);
}

/* "keyflow: <message> (<ERR_NAME>)" for a reply; the sentence otherwise. */
void
cli_report(const struct cli *c, const struct cli_error *e)
{
	fputs("keyflow: ", stderr);
	out_clean(stderr, e->msg);
	if (e->why == CLI_FAIL_REPLY)
		fprintf(stderr, " (%s)", wire_err_name(e->code));
	fputc('\n', stderr);
}

int
cli_request(struct cli *c, uint32_t type, const ProtobufCMessage *body,
    uint32_t expect, struct wire_msg *reply)
{
	struct cli_error	e;

	if (cli_request_quiet(c, type, body, expect, reply, &e) == 0)
		return 0;
	cli_report(c, &e);
	return -1;
}

/*
 * The reply's one repeated message field, found through its descriptor
 * (every *ListReply has exactly that), so one function shows every list.
 */
static int
list_items(const ProtobufCMessage *msg, const void *const **items,
    size_t *n)
{
	const ProtobufCFieldDescriptor	*f;

	if (msg->descriptor->n_fields < 1)
		return -1;
	f = &msg->descriptor->fields[0];
	if (f->label != PROTOBUF_C_LABEL_REPEATED ||
	    f->type != PROTOBUF_C_TYPE_MESSAGE)
		return -1;
	*n = *(const size_t *)((const char *)msg + f->quantifier_offset);
	*items = *(const void *const *const *)((const char *)msg + f->offset);
	return 0;
}

/*
 * Send a ListRequest (limit 0: CommServe's default) and show the reply: a
 * JSON array with --json, else a table, or the view's "empty" sentence.
 */
int
cli_list(struct cli *c, const struct cli_list_view *v, uint32_t limit)
{
	Kf__ListRequest		 req = KF__LIST_REQUEST__INIT;
	struct wire_msg		 m;
	struct json		 j;
	struct table		*t;
	const void *const	*items;
	size_t			 i, n;
	int			 rc = CLI_EXIT_OK;

	if (limit > 0) {
		req.has_limit = 1;
		req.limit = limit;
	}
	if (cli_request(c, v->type, &req.base, v->expect, &m) == -1)
		return CLI_EXIT_FAIL;
	if (list_items(m.body, &items, &n) == -1) {
		wire_msg_clear(&m);
		return cli_fail("internal error: %s is not a list",
		    wire_type_name(v->expect));
	}
	if (c->json) {
		json_init(&j, stdout);
		json_arr_begin(&j);
		for (i = 0; i < n; i++)
			v->json(&j, items[i]);
		json_arr_end(&j);
		json_finish(&j);
	} else if (n == 0)
		printf("%s\n", v->empty);
	else {
		t = table_new(v->ncols, v->headers);
		for (i = 0; i < n; i++)
			v->row(t, items[i]);
		if (table_print(t, stdout) == -1)
			rc = CLI_EXIT_FAIL;
		table_free(&t);
	}
	wire_msg_clear(&m);
	return rc;
}
