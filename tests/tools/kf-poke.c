/*
 * kf-poke.c - send one hostile message to a keyflow daemon and check that
 * it answers the way the protocol promises.
 *
 * The integration suites use it to prove the generic checks of
 * common/wire.c in the daemons' real dispatch loops: every malformed
 * request on a ROUTER endpoint must be answered with ERROR and the right
 * KfErr code, and the daemon must keep serving.  In --pub mode it plays a
 * rogue publisher on CommServe's trace-event endpoint, where the protocol
 * allows no reply; there the suite checks the daemon's log instead.
 *
 * The valid parts of each message are built with common/wire.h and the
 * generated protobuf-c code, so only the intended defect is wrong.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zmq.h>

#include "conf.h"
#include "curve.h"
#include "log.h"
#include "trace.h"
#include "util.h"
#include "wire.h"

#include "kf-poke.h"

#define POKE_UNKNOWN_TYPE	9999
#define POKE_PUB_SETTLE_MS	500
#define POKE_PUB_LINGER_MS	3000
#define POKE_NONE_MS		1000	/* wait for a reply that must not come */


/* The job id the data-path cases name (--job). */
uint64_t	poke_job = 4242;
/*
 * --no-reply: the daemon is expected to drop the message unanswered (for
 * example a frame over its ZMQ_MAXMSGSIZE, where ZeroMQ itself cuts the
 * connection and the protocol can give no reply).
 */
static int	poke_no_reply;

/* Send frames[0..n-1] as one multipart message. */
static int
send_frames(void *sock, const void **frames, const size_t *lens, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (zmq_send(sock, frames[i], lens[i],
		    i + 1 < n ? ZMQ_SNDMORE : 0) == -1) {
			log_warnx("zmq_send: %s", zmq_strerror(errno));
			return -1;
		}
	return 0;
}

#define POKE_FRAMES_MAX	4

/* A type frame, then up to POKE_FRAMES_MAX - 1 more frames (NULL ends). */
int
poke_send_typed(void *sock, uint32_t type, const void *f1, size_t l1,
    const void *f2, size_t l2, const void *f3, size_t l3)
{
	uint8_t		 hdr[4];
	const void	*f[POKE_FRAMES_MAX] = { hdr, f1, f2, f3 };
	size_t		 l[POKE_FRAMES_MAX] = { sizeof(hdr), l1, l2, l3 };
	size_t		 n = 1;

	be32_put(hdr, type);
	while (n < POKE_FRAMES_MAX && f[n] != NULL)
		n++;
	return send_frames(sock, f, l, n);
}

/* A packed body in a malloc'd buffer. */
uint8_t *
poke_pack(const ProtobufCMessage *msg, size_t *len)
{
	uint8_t	*buf;

	*len = protobuf_c_message_get_packed_size(msg);
	if ((buf = malloc(*len > 0 ? *len : 1)) == NULL)
		return NULL;
	protobuf_c_message_pack(msg, buf);
	return buf;
}

/* A valid ListRequest body, for JOB_LIST: a few bytes. */
static size_t
list_body(uint8_t *buf, size_t cap)
{
	Kf__ListRequest	lr = KF__LIST_REQUEST__INIT;

	lr.has_limit = 1;
	lr.limit = 1;
	if (protobuf_c_message_get_packed_size(&lr.base) > cap)
		return 0;
	return protobuf_c_message_pack(&lr.base, buf);
}

int
poke_send_garbage(void *sock, const struct poke_case *c)
{
	static const char garbage[] =
	    "\xff\x00\x13\x37 this is not a keyflow message \x80\x81";
	const void	*f[] = { garbage };
	size_t		 l[] = { sizeof(garbage) - 1 };

	(void)c;
	return send_frames(sock, f, l, 1);
}

int
poke_send_empty_frame(void *sock, const struct poke_case *c)
{
	const void	*f[] = { "" };
	size_t		 l[] = { 0 };

	(void)c;
	return send_frames(sock, f, l, 1);
}

int
poke_send_unknown_type(void *sock, const struct poke_case *c)
{
	(void)c;
	return poke_send_typed(sock, POKE_UNKNOWN_TYPE, "", 0, NULL, 0, NULL, 0);
}

int
poke_send_frames_4(void *sock, const struct poke_case *c)
{
	uint8_t	body[16];
	size_t	len = list_body(body, sizeof(body));

	(void)c;
	return poke_send_typed(sock, KF__MSG_TYPE__JOB_LIST, body, len, "extra", 5,
	    "frames", 6);
}

int
poke_send_type_only(void *sock, const struct poke_case *c)
{
	(void)c;
	return poke_send_typed(sock, KF__MSG_TYPE__JOB_LIST, NULL, 0, NULL, 0,
	    NULL, 0);
}

int
poke_send_ping(void *sock, const struct poke_case *c)
{
	uint8_t	body[16];
	size_t	len = list_body(body, sizeof(body));

	(void)c;
	return poke_send_typed(sock, KF__MSG_TYPE__JOB_LIST, body, len, NULL, 0,
	    NULL, 0);
}

/*
 * A STREAM_OPEN body cut in the middle of its token: the length prefix
 * promises more bytes than follow, which no protobuf decoder may accept.
 * The type is known to every daemon's wire table, so the body is what
 * gets rejected.
 */
int
poke_send_truncated(void *sock, const struct poke_case *c)
{
	Kf__StreamOpen	 so = KF__STREAM_OPEN__INIT;
	uint8_t		 token[32], *body;
	size_t		 len;
	int		 rc;

	(void)c;
	memset(token, 0xa5, sizeof(token));
	so.job = poke_job;
	so.token.data = token;
	so.token.len = sizeof(token);
	so.client = "kf-poke";
	if ((body = poke_pack(&so.base, &len)) == NULL)
		return -1;
	/* Fields go out in order: drop the client and half the token. */
	len -= 2 + strlen(so.client) + sizeof(token) / 2;
	rc = poke_send_typed(sock, KF__MSG_TYPE__STREAM_OPEN, body, len, NULL, 0,
	    NULL, 0);
	free(body);
	return rc;
}

/* A JOB_LIST whose body is one byte over the limit. */
int
poke_send_oversized(void *sock, const struct poke_case *c)
{
	uint8_t	*body;
	size_t	 len = (size_t)WIRE_BODY_MAX + 1;
	int	 rc;

	(void)c;
	if ((body = calloc(1, len)) == NULL)
		return -1;
	rc = poke_send_typed(sock, KF__MSG_TYPE__JOB_LIST, body, len, NULL, 0,
	    NULL, 0);
	free(body);
	return rc;
}

/* A CHUNK_PUT for --job with a payload of paylen bytes. */
static int
send_chunk_put(void *sock, size_t paylen)
{
	Kf__ChunkPut	 cp = KF__CHUNK_PUT__INIT;
	uint8_t		 nonce[12] = { 0 }, tag[16] = { 0 }, *payload;
	int		 rc;

	cp.job = poke_job;
	cp.index = 0;
	cp.plain_len = paylen > UINT32_MAX ? UINT32_MAX : (uint32_t)paylen;
	cp.last = 1;
	cp.nonce.data = nonce;
	cp.nonce.len = sizeof(nonce);
	cp.tag.data = tag;
	cp.tag.len = sizeof(tag);
	if ((payload = malloc(paylen)) == NULL)
		return -1;
	memset(payload, 0x33, paylen);
	rc = wire_send(sock, NULL, 0, KF__MSG_TYPE__CHUNK_PUT, &cp.base,
	    payload, paylen);
	free(payload);
	return rc;
}

/* A CHUNK_PUT with a valid header and a payload over the limit. */
int
poke_send_oversized_payload(void *sock, const struct poke_case *c)
{
	(void)c;
	return send_chunk_put(sock, (size_t)WIRE_PAYLOAD_MAX + 1);
}

/* A well-formed CHUNK_PUT into --job, on a stream that was never opened. */
int
poke_send_chunk_put_bogus(void *sock, const struct poke_case *c)
{
	(void)c;
	return send_chunk_put(sock, 1024);
}

/* A well-formed STREAM_OPEN for --job with a token nobody issued. */
int
poke_send_stream_open_bogus(void *sock, const struct poke_case *c)
{
	Kf__StreamOpen	 so = KF__STREAM_OPEN__INIT;
	uint8_t		 token[32];

	(void)c;
	memset(token, 0x5a, sizeof(token));
	so.job = poke_job;
	so.token.data = token;
	so.token.len = sizeof(token);
	so.client = "local";
	return wire_send(sock, NULL, 0, KF__MSG_TYPE__STREAM_OPEN, &so.base,
	    NULL, 0);
}

/* A well-formed CHUNK_READ of --job's first chunks with a forged token. */
int
poke_send_chunk_read_bogus(void *sock, const struct poke_case *c)
{
	Kf__ChunkRead	 cr = KF__CHUNK_READ__INIT;
	uint8_t		 token[32];

	(void)c;
	memset(token, 0x5a, sizeof(token));
	cr.job = poke_job;
	cr.token.data = token;
	cr.token.len = sizeof(token);
	cr.first = 0;
	cr.count = 1;
	return wire_send(sock, NULL, 0, KF__MSG_TYPE__CHUNK_READ, &cr.base,
	    NULL, 0);
}

static const struct poke_case *
case_lookup(const char *name)
{
	size_t	i;

	for (i = 0; i < poke_ncases; i++)
		if (strcmp(poke_cases[i].name, name) == 0)
			return &poke_cases[i];
	return NULL;
}

/* Wait for the reply; 0 when it is the one the case expects. */
static int
check_reply(void *sock, const struct poke_case *c, int timeout_ms)
{
	zmq_pollitem_t	 pi = { sock, 0, ZMQ_POLLIN, 0 };
	struct wire_msg	 m;
	kf_err_t	 err, code;
	char		 errmsg[512];
	Kf__Error	*e;
	int		 rc, none = poke_no_reply || c->how == EXPECT_NONE;

	rc = zmq_poll(&pi, 1, timeout_ms);
	if (rc <= 0) {
		printf("%s: no reply within %d ms%s\n", c->name, timeout_ms,
		    none ? ", as expected" : "");
		return none ? 0 : -1;
	}
	if (none) {
		printf("%s: a reply arrived where none was expected\n",
		    c->name);
		return -1;
	}
	if (wire_recv(sock, 0, &m, &err, errmsg, sizeof(errmsg), 0) == -1) {
		printf("%s: the reply itself is malformed: %s (%s)\n",
		    c->name, errmsg, wire_err_name(err));
		return -1;
	}
	if (m.type != KF__MSG_TYPE__ERROR) {
		printf("%s: reply %s\n", c->name, wire_type_name(m.type));
		wire_msg_clear(&m);
		return c->how == EXPECT_ANY_REPLY ? 0 : -1;
	}
	e = (Kf__Error *)m.body;
	code = e->code;
	printf("%s: reply ERROR %s: %s\n", c->name, wire_err_name(code),
	    e->message);
	wire_msg_clear(&m);
	if (c->how != EXPECT_CODE || code == c->expect ||
	    (c->alt != 0 && code == c->alt))
		return 0;
	printf("%s: expected %s%s%s\n", c->name, wire_err_name(c->expect),
	    c->alt != 0 ? " or " : "", c->alt != 0 ? wire_err_name(c->alt) :
	    "");
	return -1;
}

static int
poke(void *ctx, const char *endpoint, const struct poke_case *c,
    int timeout_ms)
{
	void	*sock;
	int	 rc = -1;

	if ((sock = wire_socket(ctx, ZMQ_DEALER, endpoint, 0)) == NULL)
		return -1;
	if (c->send(sock, c) == -1)
		goto fail;
	rc = check_reply(sock, c, c->how == EXPECT_NONE &&
	    timeout_ms > POKE_NONE_MS ? POKE_NONE_MS : timeout_ms);
fail:
	zmq_close(sock);
	return rc;
}

/*
 * --ma-hello KEY: register as MediaAgent "rogue-ma" claiming CURVE key KEY
 * ("self": this process's own key) and print the answer: "WELCOME", or
 * "ERROR ERR_NAME: message".  -1 when no answer comes.
 */
static int
ma_hello(void *ctx, const char *endpoint, const char *key, int timeout_ms)
{
	Kf__Hello	 h = KF__HELLO__INIT;
	struct wire_msg	 m;
	kf_err_t	 err;
	char		 errmsg[512];
	void		*sock;
	int		 rc = -1;

	if ((sock = wire_socket(ctx, ZMQ_DEALER, endpoint, 0)) == NULL)
		return -1;
	h.role = "mediaagent";
	h.name = "rogue-ma";
	h.data_endpoint = "tcp://127.0.0.1:1";
	h.mount_root = "/nonexistent";
	h.version = "1";
	h.curve_key = strcmp(key, "self") == 0 ?
	    (char *)curve_public_key() : (char *)key;
	if (wire_send(sock, NULL, 0, KF__MSG_TYPE__HELLO, &h.base, NULL,
	    0) == -1)
		goto fail;
	if (wire_await(sock, KF__MSG_TYPE__WELCOME, timeout_ms, &m, &err,
	    errmsg, sizeof(errmsg)) == 0) {
		printf("WELCOME\n");
		wire_msg_clear(&m);
		rc = 0;
	} else if (err != KF__KF_ERR__ERR_TIMEOUT) {
		printf("ERROR %s: %s\n", wire_err_name(err), errmsg);
		rc = 0;
	} else
		printf("no answer: %s\n", errmsg);
fail:
	zmq_close(sock);
	return rc;
}

/* Every case of a group, each on its own connection; -1 if any failed. */
static int
poke_group(void *ctx, const char *endpoint, const char *group,
    int timeout_ms)
{
	size_t	i, ran = 0, failed = 0;

	for (i = 0; i < poke_ncases; i++) {
		if (poke_cases[i].group == NULL || strcmp(poke_cases[i].group, group))
			continue;
		ran++;
		if (poke(ctx, endpoint, &poke_cases[i], timeout_ms) == -1) {
			printf("FAIL %s\n", poke_cases[i].name);
			failed++;
		}
	}
	printf("group %s: %zu cases, %zu failed\n", group, ran, failed);
	return ran > 0 && failed == 0 ? 0 : -1;
}

/* A TraceEvent with only its trace id: required fields are missing. */
static const uint8_t partial_event[] = {
	0x0a, 0x05, 'j', 'o', 'b', '/', '1'
};

/*
 * The rogue publisher: garbage where TraceEvents belong, wrong frame
 * counts, a partial event, and a well-formed event that names no job.
 */
static int
publish(void *ctx, const char *endpoint, unsigned count)
{
	Kf__TraceEvent	 ev = KF__TRACE_EVENT__INIT;
	static const char garbage[] = "\xde\xad\xbe\xef not a TraceEvent";
	uint8_t		*valid = NULL, *big = NULL;
	size_t		 vlen, biglen = 2 * 1024 * 1024;
	void		*sock;
	unsigned	 i, sent = 0;
	int		 linger = POKE_PUB_LINGER_MS, rc = -1;

	if ((sock = wire_socket(ctx, ZMQ_PUB, endpoint, 0)) == NULL)
		return -1;
	zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof(linger));
	ev.trace_id = "job/not-a-number";
	ev.flow = "no-such-flow";
	ev.step = 999;
	ev.actor = "kf-poke";
	ev.action = "a forged event for a job that does not exist";
	ev.ts_us = util_now_us();
	if ((valid = poke_pack(&ev.base, &vlen)) == NULL)
		goto fail;
	if ((big = malloc(biglen)) == NULL)
		goto fail;
	memset(big, 0xee, biglen);
	/* PUB drops what it sends before the connection is up. */
	usleep(POKE_PUB_SETTLE_MS * 1000);
	for (i = 0; i < count; i++) {
		const void *f1[] = { TRACE_TOPIC, garbage };
		size_t l1[] = { strlen(TRACE_TOPIC), sizeof(garbage) - 1 };
		const void *f2[] = { TRACE_TOPIC };
		size_t l2[] = { strlen(TRACE_TOPIC) };
		const void *f3[] = { TRACE_TOPIC, valid, "extra" };
		size_t l3[] = { strlen(TRACE_TOPIC), vlen, 5 };
		const void *f4[] = { TRACE_TOPIC, partial_event };
		size_t l4[] = { strlen(TRACE_TOPIC), sizeof(partial_event) };
		const void *f5[] = { TRACE_TOPIC, big };
		size_t l5[] = { strlen(TRACE_TOPIC), biglen };
		const void *f6[] = { TRACE_TOPIC, valid };
		size_t l6[] = { strlen(TRACE_TOPIC), vlen };

		if (send_frames(sock, f1, l1, 2) == -1 ||
		    send_frames(sock, f2, l2, 1) == -1 ||
		    send_frames(sock, f3, l3, 3) == -1 ||
		    send_frames(sock, f4, l4, 2) == -1 ||
		    send_frames(sock, f5, l5, 2) == -1 ||
		    send_frames(sock, f6, l6, 2) == -1)
			goto fail;
		sent += 6;
	}
	printf("published %u hostile trace messages to %s\n", sent, endpoint);
	rc = 0;
fail:
	zmq_close(sock);
	free(big);
	free(valid);
	return rc;
}

/*
 * Open and drop n DEALER connections, every other one after a HELLO as
 * client local (it never answers the CHALLENGE): the daemon must forget
 * them and keep its memory bounded.
 */
static int
churn(void *ctx, const char *endpoint, unsigned n)
{
	static const struct hello_spec	 hs = { "client", "local", 16, 0,
					    { 0 } };
	const struct poke_case		 hc = { .name = "churn",
					    .send = poke_send_hello, .spec = &hs };
	void				*sock;
	unsigned			 i;

	for (i = 0; i < n; i++) {
		if ((sock = wire_socket(ctx, ZMQ_DEALER, endpoint, 0)) == NULL)
			return -1;
		if (i % 2 == 0 && poke_send_hello(sock, &hc) == -1) {
			zmq_close(sock);
			return -1;
		}
		if (i % 2 == 0)		/* let the HELLO leave */
			usleep(200);
		zmq_close(sock);
	}
	printf("opened and dropped %u connections to %s\n", n, endpoint);
	return 0;
}

static void __attribute__((noreturn))
usage(int status)
{
	size_t	i;
	FILE	*f = status == 0 ? stdout : stderr;

	fprintf(f, "usage: kf-poke --endpoint EP --case NAME [--timeout MS] "
	    "[--job ID] [--no-reply]\n"
	    "       kf-poke --endpoint EP --group NAME [--timeout MS] "
	    "[--job ID]\n"
	    "       kf-poke --pub --endpoint EP [--count N]\n"
	    "       kf-poke --churn N --endpoint EP\n"
	    "       kf-poke --ma-hello KEY|self --endpoint EP\n"
	    "CURVE (as the daemons' clients): KEYFLOW_CURVE_DIR, "
	    "KEYFLOW_COMMSERVE_KEY,\n"
	    "and KF_CURVE_SERVERS, a file of \"ENDPOINT KEY\" lines for "
	    "other servers\n"
	    "cases (exit 0 when the expected reply arrives, 1 otherwise;\n"
	    "with --no-reply, 0 when none arrives within the timeout):\n");
	for (i = 0; i < poke_ncases; i++)
		fprintf(f, "  %-22s [%s] %s (expects %s%s%s)\n",
		    poke_cases[i].name, poke_cases[i].group ? poke_cases[i].group : "-",
		    poke_cases[i].what, poke_cases[i].how == EXPECT_ANY_REPLY ?
		    "any reply" : poke_cases[i].how == EXPECT_NONE ? "no reply" :
		    poke_cases[i].how == EXPECT_ANY_ERROR ? "an ERROR" :
		    wire_err_name(poke_cases[i].expect), poke_cases[i].alt ? " or " : "",
		    poke_cases[i].alt ? wire_err_name(poke_cases[i].alt) : "");
	exit(status);
}

/*
 * CURVE as the daemons' clients configure it (KEYFLOW_CURVE_DIR,
 * KEYFLOW_COMMSERVE_KEY: then the target is taken to be CommServe), so a
 * hostile case arrives as an authenticated peer.  KF_CURVE_SERVERS names a
 * file of "ENDPOINT KEY" lines for other targets (MediaAgents).
 */
static void
poke_curve(void *ctx, const char *endpoint)
{
	struct curve_conf	 cf;
	const char		*path;
	char			 err[512], line[512], ep[300], key[64];
	FILE			*f;

	memset(&cf, 0, sizeof(cf));
	cf.dir = conf_env("KEYFLOW_CURVE_DIR", NULL);
	cf.commserve_key = conf_env("KEYFLOW_COMMSERVE_KEY", NULL);
	cf.commserve = endpoint;
	cf.quiet = 1;
	if (curve_setup(&cf, ctx, err, sizeof(err)) == -1)
		fatalx("CURVE: %s", err);
	if ((path = conf_env("KF_CURVE_SERVERS", NULL)) == NULL)
		return;
	if ((f = fopen(path, "r")) == NULL)
		fatal("%s", path);
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "%299s %63s", ep, key) == 2 &&
		    curve_peer_set(ep, key) == -1)
			fatalx("%s: bad line for %s", path, ep);
	fclose(f);
}

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "endpoint", required_argument, NULL, 'e' },
		{ "case", required_argument, NULL, 'c' },
		{ "timeout", required_argument, NULL, 't' },
		{ "pub", no_argument, NULL, 'p' },
		{ "count", required_argument, NULL, 'n' },
		{ "job", required_argument, NULL, 'j' },
		{ "no-reply", no_argument, NULL, 'r' },
		{ "group", required_argument, NULL, 'g' },
		{ "churn", required_argument, NULL, 'C' },
		{ "ma-hello", required_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const struct poke_case	*c = NULL;
	const char		*endpoint = NULL, *group = NULL, *mkey = NULL;
	uint64_t		 timeout = POKE_TIMEOUT_MS, count = 1, nchurn = 0;
	void			*ctx;
	int			 ch, pub = 0, rc;

	log_init("kf-poke", 0);
	while ((ch = getopt_long(argc, argv, "e:c:t:pn:j:rg:C:M:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'e':
			endpoint = optarg;
			break;
		case 'c':
			if ((c = case_lookup(optarg)) == NULL) {
				fprintf(stderr, "kf-poke: no case %s\n", optarg);
				usage(2);
			}
			break;
		case 't':
			if (conf_parse_u64(optarg, 1, 600000, &timeout) == -1)
				usage(2);
			break;
		case 'p':
			pub = 1;
			break;
		case 'n':
			if (conf_parse_u64(optarg, 1, 1000, &count) == -1)
				usage(2);
			break;
		case 'j':
			if (conf_parse_u64(optarg, 1, INT64_MAX, &poke_job) == -1)
				usage(2);
			break;
		case 'r':
			poke_no_reply = 1;
			break;
		case 'g':
			group = optarg;
			break;
		case 'C':
			if (conf_parse_u64(optarg, 1, 100000, &nchurn) == -1)
				usage(2);
			break;
		case 'M':
			mkey = optarg;
			break;
		case 'h':
			usage(0);
		default:
			usage(2);
		}
	}
	if (optind != argc || endpoint == NULL ||
	    conf_endpoint_valid(endpoint) == -1 ||
	    pub + (c != NULL) + (group != NULL) + (nchurn > 0) +
	    (mkey != NULL) != 1)
		usage(2);
	if ((ctx = zmq_ctx_new()) == NULL)
		fatalx("zmq_ctx_new: %s", zmq_strerror(errno));
	poke_curve(ctx, endpoint);
	if (pub)
		rc = publish(ctx, endpoint, (unsigned)count);
	else if (nchurn > 0)
		rc = churn(ctx, endpoint, (unsigned)nchurn);
	else if (group != NULL)
		rc = poke_group(ctx, endpoint, group, (int)timeout);
	else if (mkey != NULL)
		rc = ma_hello(ctx, endpoint, mkey, (int)timeout);
	else
		rc = poke(ctx, endpoint, c, (int)timeout);
	curve_shutdown();
	zmq_ctx_term(ctx);
	return rc == 0 ? 0 : 1;
}
