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
#include "log.h"
#include "trace.h"
#include "util.h"
#include "wire.h"

#define POKE_TIMEOUT_MS		5000
#define POKE_UNKNOWN_TYPE	9999
#define POKE_PUB_SETTLE_MS	500
#define POKE_PUB_LINGER_MS	3000
#define POKE_NONE_MS		1000	/* wait for a reply that must not come */

/* What a case accepts as the right answer. */
enum poke_expect {
	EXPECT_CODE,			/* ERROR with exactly this code */
	EXPECT_ANY_ERROR,		/* ERROR with any code */
	EXPECT_ANY_REPLY,		/* any well-formed reply */
	EXPECT_NONE			/* no reply (a message without one) */
};

/* One crafted request and the answer it must get. */
struct poke_case {
	const char	*name;		/* --case NAME */
	int		(*send)(void *sock, const struct poke_case *c); /* writes it */
	enum poke_expect how;		/* which answers are right */
	kf_err_t	 expect;	/* the code, for EXPECT_CODE */
	const char	*what;		/* for --help */
	kf_err_t	 alt;		/* another right code, or 0 */
	uint32_t	 arg;		/* message type, for shared senders */
	const void	*spec;		/* the values the sender uses */
	const char	*group;		/* --group runs all cases of it */
};

/* The job id the data-path cases name (--job). */
static uint64_t	poke_job = 4242;
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
static int
send_typed(void *sock, uint32_t type, const void *f1, size_t l1,
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
static uint8_t *
pack(const ProtobufCMessage *msg, size_t *len)
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

static int
send_garbage(void *sock, const struct poke_case *c)
{
	static const char garbage[] =
	    "\xff\x00\x13\x37 this is not a keyflow message \x80\x81";
	const void	*f[] = { garbage };
	size_t		 l[] = { sizeof(garbage) - 1 };

	(void)c;
	return send_frames(sock, f, l, 1);
}

static int
send_empty_frame(void *sock, const struct poke_case *c)
{
	const void	*f[] = { "" };
	size_t		 l[] = { 0 };

	(void)c;
	return send_frames(sock, f, l, 1);
}

static int
send_unknown_type(void *sock, const struct poke_case *c)
{
	(void)c;
	return send_typed(sock, POKE_UNKNOWN_TYPE, "", 0, NULL, 0, NULL, 0);
}

static int
send_frames_4(void *sock, const struct poke_case *c)
{
	uint8_t	body[16];
	size_t	len = list_body(body, sizeof(body));

	(void)c;
	return send_typed(sock, KF__MSG_TYPE__JOB_LIST, body, len, "extra", 5,
	    "frames", 6);
}

static int
send_type_only(void *sock, const struct poke_case *c)
{
	(void)c;
	return send_typed(sock, KF__MSG_TYPE__JOB_LIST, NULL, 0, NULL, 0,
	    NULL, 0);
}

static int
send_ping(void *sock, const struct poke_case *c)
{
	uint8_t	body[16];
	size_t	len = list_body(body, sizeof(body));

	(void)c;
	return send_typed(sock, KF__MSG_TYPE__JOB_LIST, body, len, NULL, 0,
	    NULL, 0);
}

/*
 * A STREAM_OPEN body cut in the middle of its token: the length prefix
 * promises more bytes than follow, which no protobuf decoder may accept.
 * The type is known to every daemon's wire table, so the body is what
 * gets rejected.
 */
static int
send_truncated(void *sock, const struct poke_case *c)
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
	if ((body = pack(&so.base, &len)) == NULL)
		return -1;
	/* Fields go out in order: drop the client and half the token. */
	len -= 2 + strlen(so.client) + sizeof(token) / 2;
	rc = send_typed(sock, KF__MSG_TYPE__STREAM_OPEN, body, len, NULL, 0,
	    NULL, 0);
	free(body);
	return rc;
}

/* A JOB_LIST whose body is one byte over the limit. */
static int
send_oversized(void *sock, const struct poke_case *c)
{
	uint8_t	*body;
	size_t	 len = (size_t)WIRE_BODY_MAX + 1;
	int	 rc;

	(void)c;
	if ((body = calloc(1, len)) == NULL)
		return -1;
	rc = send_typed(sock, KF__MSG_TYPE__JOB_LIST, body, len, NULL, 0,
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
static int
send_oversized_payload(void *sock, const struct poke_case *c)
{
	(void)c;
	return send_chunk_put(sock, (size_t)WIRE_PAYLOAD_MAX + 1);
}

/* A well-formed CHUNK_PUT into --job, on a stream that was never opened. */
static int
send_chunk_put_bogus(void *sock, const struct poke_case *c)
{
	(void)c;
	return send_chunk_put(sock, 1024);
}

/* A well-formed STREAM_OPEN for --job with a token nobody issued. */
static int
send_stream_open_bogus(void *sock, const struct poke_case *c)
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
static int
send_chunk_read_bogus(void *sock, const struct poke_case *c)
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

/*
 * Absurd values in well-formed messages.  Each case below is one row of
 * cases[]: a builder for the message type and a spec (a struct of values)
 * it fills the message from.  The values are what a careless or hostile
 * peer would send: relative paths, "..", 64 KiB names, 2^63 offsets, a NUL
 * inside a string (protobuf-c would hand the daemon a C string cut at the
 * NUL), ids of jobs that never were, forged tokens.
 */
#define BIG_LEN		(64 * 1024)	/* a "64 KiB name" */
#define U63		((uint64_t)1 << 63)
#define JOB_OPT		((uint64_t)-2)	/* stands for --job */
#define MANY_PATHS	10000

/* A string field added to a packed body by hand, as it may carry a NUL. */
struct raw_str {
	unsigned	 num;		/* field number; 0: none */
	const char	*data;		/* the bytes */
	size_t		 len;		/* their count, NULs included */
};

/* BACKUP_START and POOL_CREATE (s3: mount path). */
struct bs_spec {
	const char	*s1, *s2;	/* client and pool, or pool and MA */
	const char	*s3;		/* path, or mount path */
	size_t		 npaths;	/* copies of the path */
	struct raw_str	 raw;		/* appended after packing */
};

/* RESTORE_START, JOB_GET, CATALOG_GET and the job reports. */
struct job_spec {
	uint64_t	 job;		/* or JOB_OPT */
	const char	*dest;		/* RESTORE_START's dest_dir */
	size_t		 toklen;	/* forged token bytes */
	int		 entries;	/* CATALOG_BATCH: absurd entries */
};

/* HELLO and AUTH. */
struct hello_spec {
	const char	*role, *name;	/* "@big": 64 KiB */
	size_t		 noncelen;	/* client_nonce bytes; -1: none */
	size_t		 prooflen;	/* AUTH after the CHALLENGE, or 0 */
	struct raw_str	 raw;		/* appended after packing */
};

/* CHUNK_PUT and CHUNK_READ on the MediaAgent. */
struct chunk_spec {
	uint64_t	 job, index;	/* index: CHUNK_READ's first */
	uint32_t	 len;		/* plain_len or count */
	size_t		 noncelen;	/* CHUNK_PUT's nonce bytes */
	size_t		 paylen;	/* payload bytes */
};

static char	bigbuf[BIG_LEN + 2];

/* "@big" and "/@big" stand for a 64 KiB name and a 64 KiB path. */
static char *
val(const char *s)
{
	if (s == NULL || (strcmp(s, "@big") != 0 &&
	    strcmp(s, "/@big") != 0))
		return (char *)s;
	memset(bigbuf, 'a', BIG_LEN);
	bigbuf[0] = s[0];
	bigbuf[BIG_LEN] = '\0';
	return bigbuf;
}

static uint64_t
job_of(uint64_t job)
{
	return job == JOB_OPT ? poke_job : job;
}

/* Pack msg, append raw (if any) and send it as type. */
static int
send_packed(void *sock, uint32_t type, const ProtobufCMessage *msg,
    const struct raw_str *raw)
{
	uint8_t	*buf, *p;
	size_t	 len, n, extra = 0;
	int	 rc;

	if (raw != NULL && raw->num != 0)
		extra = 2 * 10 + raw->len;
	len = protobuf_c_message_get_packed_size(msg);
	if ((buf = malloc(len + extra + 1)) == NULL)
		return -1;
	protobuf_c_message_pack(msg, buf);
	if (extra > 0) {
		/* The last occurrence of a non-repeated field wins. */
		p = buf + len;
		for (n = (raw->num << 3) | 2; n >= 0x80; n >>= 7)
			*p++ = (uint8_t)(n | 0x80);
		*p++ = (uint8_t)n;
		for (n = raw->len; n >= 0x80; n >>= 7)
			*p++ = (uint8_t)(n | 0x80);
		*p++ = (uint8_t)n;
		memcpy(p, raw->data, raw->len);
		len = (size_t)(p - buf) + raw->len;
	}
	rc = send_typed(sock, type, buf, len, NULL, 0, NULL, 0);
	free(buf);
	return rc;
}

static int
send_backup_start(void *sock, const struct poke_case *c)
{
	const struct bs_spec	*s = c->spec;
	Kf__BackupStart		 bs = KF__BACKUP_START__INIT;
	char			**paths;
	size_t			 i;
	int			 rc;

	if ((paths = calloc(s->npaths + 1, sizeof(*paths))) == NULL)
		return -1;
	for (i = 0; i < s->npaths; i++)
		paths[i] = val(s->s3);
	bs.client = val(s->s1);
	bs.pool = val(s->s2);
	bs.paths = paths;
	bs.n_paths = s->npaths;
	rc = send_packed(sock, KF__MSG_TYPE__BACKUP_START, &bs.base, &s->raw);
	free(paths);
	return rc;
}

static int
send_pool_create(void *sock, const struct poke_case *c)
{
	const struct bs_spec	*s = c->spec;
	Kf__PoolCreate		 pc = KF__POOL_CREATE__INIT;

	pc.name = val(s->s1);
	pc.mediaagent = val(s->s2);
	pc.mount_path = val(s->s3);
	return send_packed(sock, KF__MSG_TYPE__POOL_CREATE, &pc.base, &s->raw);
}

/* A CatalogEntry per absurdity: 2^63 offset, a sized directory, ... */
static void
absurd_entries(Kf__CatalogEntry *e, Kf__CatalogEntry **pe, size_t n)
{
	static uint8_t	path[] = "etc/passwd";
	size_t		i;

	for (i = 0; i < n; i++) {
		kf__catalog_entry__init(&e[i]);
		e[i].index = i + 1;
		e[i].path.data = path;
		e[i].path.len = sizeof(path) - 1;
		e[i].type = KF__FILE_TYPE__FT_DIRECTORY;
		e[i].mode = 0755;
		pe[i] = &e[i];
	}
	e[0].offset = U63;
	e[1].size = UINT64_MAX;
	e[2].index = U63;
	e[3].mode = 0xffffffffu;
}

/* One message of type c->arg naming job spec->job with a forged token. */
static int
send_job_msg(void *sock, const struct poke_case *c)
{
	const struct job_spec	*s = c->spec;
	Kf__RestoreStart	 rs = KF__RESTORE_START__INIT;
	Kf__JobGet		 jg = KF__JOB_GET__INIT;
	Kf__CatalogGet		 cg = KF__CATALOG_GET__INIT;
	Kf__CatalogBatch	 cb = KF__CATALOG_BATCH__INIT;
	Kf__JobDone		 jd = KF__JOB_DONE__INIT;
	Kf__JobFailed		 jf = KF__JOB_FAILED__INIT;
	Kf__JobProgress		 jp = KF__JOB_PROGRESS__INIT;
	Kf__CatalogEntry	 e[4], *pe[4];
	ProtobufCBinaryData	 tok;
	uint8_t			 token[64];
	const ProtobufCMessage	*msgs[] = { &rs.base, &jg.base, &cg.base,
				    &cb.base, &jd.base, &jf.base, &jp.base };
	uint64_t		 job = job_of(s->job);
	size_t			 i;

	memset(token, 0x5a, sizeof(token));
	tok.data = token;
	tok.len = s->toklen;
	rs.backup_job = jg.job = cg.job = cg.restore_job = job;
	cb.job = jd.job = jf.job = jp.job = job;
	cg.token = cb.token = jd.token = jf.token = jp.token = tok;
	rs.dest_dir = (char *)s->dest;
	jf.code = KF__KF_ERR__ERR_IO;
	jf.message = "kf-poke: a forged failure";
	if (s->entries) {
		absurd_entries(e, pe, 4);
		cb.entries = pe;
		cb.n_entries = 4;
	}
	for (i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++)
		if (wire_type_lookup(c->arg) != NULL &&
		    msgs[i]->descriptor == wire_type_lookup(c->arg)->desc)
			return send_packed(sock, c->arg, msgs[i], NULL);
	return -1;
}

/* HELLO; with prooflen, await the CHALLENGE and send that AUTH. */
static int
send_hello(void *sock, const struct poke_case *c)
{
	const struct hello_spec	*s = c->spec;
	Kf__Hello		 h = KF__HELLO__INIT;
	Kf__Auth		 a = KF__AUTH__INIT;
	struct wire_msg		 m;
	kf_err_t		 err;
	char			 errmsg[256];
	uint8_t			*nonce;
	int			 rc;

	if (s->role == NULL) {		/* AUTH alone */
		a.name = val(s->name);
		a.proof.data = (uint8_t *)bigbuf;
		a.proof.len = s->prooflen;
		return send_packed(sock, KF__MSG_TYPE__AUTH, &a.base, NULL);
	}
	if ((nonce = calloc(1, s->noncelen == (size_t)-1 ? 1 :
	    s->noncelen + 1)) == NULL)
		return -1;
	h.role = val(s->role);
	h.name = val(s->name);
	h.has_client_nonce = s->noncelen != (size_t)-1;
	h.client_nonce.data = nonce;
	h.client_nonce.len = h.has_client_nonce ? s->noncelen : 0;
	rc = send_packed(sock, KF__MSG_TYPE__HELLO, &h.base, &s->raw);
	free(nonce);
	if (rc == -1 || s->prooflen == 0)
		return rc;
	if (wire_await(sock, KF__MSG_TYPE__CHALLENGE, POKE_TIMEOUT_MS, &m, &err,
	    errmsg, sizeof(errmsg)) == -1) {
		printf("%s: no CHALLENGE: %s\n", c->name, errmsg);
		return -1;
	}
	wire_msg_clear(&m);
	if (c->arg != 0)		/* a job message, as this client */
		return send_job_msg(sock, &(struct poke_case){ .name = c->name,
		    .arg = c->arg, .spec = &(struct job_spec){ JOB_OPT, NULL,
		    32, 0 } });
	a.name = h.name;
	a.proof.data = (uint8_t *)bigbuf;
	a.proof.len = s->prooflen;
	return send_packed(sock, KF__MSG_TYPE__AUTH, &a.base, NULL);
}

static int
send_chunk_msg(void *sock, const struct poke_case *c)
{
	const struct chunk_spec	*s = c->spec;
	Kf__ChunkPut		 cp = KF__CHUNK_PUT__INIT;
	Kf__ChunkRead		 cr = KF__CHUNK_READ__INIT;
	uint8_t			 buf[1024], tag[16];

	memset(buf, 0x33, sizeof(buf));
	memset(tag, 0, sizeof(tag));
	if (c->arg == KF__MSG_TYPE__CHUNK_READ) {
		cr.job = job_of(s->job);
		cr.token.data = buf;
		cr.token.len = 32;
		cr.first = s->index;
		cr.count = s->len;
		return wire_send(sock, NULL, 0, c->arg, &cr.base, NULL, 0);
	}
	cp.job = job_of(s->job);
	cp.index = s->index;
	cp.plain_len = s->len;
	cp.last = 1;
	cp.nonce.data = buf;
	cp.nonce.len = s->noncelen;
	cp.tag.data = tag;
	cp.tag.len = sizeof(tag);
	return wire_send(sock, NULL, 0, c->arg, &cp.base, buf, s->paylen);
}

/* The specs the rows below point at. */
static const char nul_path[] = "/tmp\0/../etc";
static const char nul_name[] = "lo\0cal";
#define RAW(n, s)	{ n, s, sizeof(s) - 1 }

static const struct bs_spec bs_rel = { "local", "pool1", "relative/x", 1,
    { 0 } };
static const struct bs_spec bs_dotdot = { "local", "pool1", "/tmp/../etc", 1,
    { 0 } };
static const struct bs_spec bs_big = { "local", "pool1", "/@big", 1,
    { 0 } };
static const struct bs_spec bs_nul = { "local", "pool1", NULL, 0,
    RAW(3, nul_path) };
static const struct bs_spec bs_nul_client = { "", "pool1", "/tmp", 1,
    RAW(1, nul_name) };
static const struct bs_spec bs_many = { "local", "pool1", "/tmp", MANY_PATHS,
    { 0 } };
static const struct bs_spec bs_noclient = { "no-such-client", "pool1", "/tmp",
    1, { 0 } };
static const struct bs_spec bs_nopool = { "local", "no-such-pool", "/tmp", 1,
    { 0 } };
static const struct bs_spec pc_big = { "@big", "ma1", NULL, 0, { 0 } };
static const struct bs_spec pc_slash = { "a/b", "ma1", NULL, 0, { 0 } };
static const struct bs_spec pc_dotdot = { "evil", "ma1", "/tmp/../etc", 0,
    { 0 } };
static const struct bs_spec pc_noma = { "evil", "no-such-ma", NULL, 0,
    { 0 } };
static const struct bs_spec pc_nul = { "", "ma1", NULL, 0,
    RAW(1, "ev\0/../il") };

static const struct job_spec js_0 = { 0, "/tmp/kf-poke", 32, 0 };
static const struct job_spec js_63 = { U63, "/tmp/kf-poke", 32, 0 };
static const struct job_spec js_none = { 999999, "/tmp/kf-poke", 32, 0 };
static const struct job_spec js_opt = { JOB_OPT, "/tmp/kf-poke", 32, 0 };
static const struct job_spec js_rel = { JOB_OPT, "relative", 32, 0 };
static const struct job_spec js_max = { UINT64_MAX, "/tmp/kf-poke", 32, 0 };
static const struct job_spec js_absurd = { JOB_OPT, NULL, 32, 1 };
static const struct job_spec js_tok0 = { JOB_OPT, NULL, 0, 0 };

static const struct hello_spec he_admin = { "admin", "x", 16, 0, { 0 } };
static const struct hello_spec he_big = { "client", "@big", 16, 0, { 0 } };
static const struct hello_spec he_nul = { "client", "", 16, 0,
    RAW(2, nul_name) };
static const struct hello_spec he_nonce0 = { "client", "local", 0, 0,
    { 0 } };
static const struct hello_spec he_nonce_none = { "client", "local",
    (size_t)-1, 0, { 0 } };
static const struct hello_spec he_nonce1m = { "client", "local", 1 << 20, 0,
    { 0 } };
static const struct hello_spec he_nobody = { "client", "no-such-client", 16,
    0, { 0 } };
static const struct hello_spec au_nohello = { NULL, "local", 0, 32, { 0 } };
static const struct hello_spec au_short = { "client", "local", 16, 5,
    { 0 } };
static const struct hello_spec au_long = { "client", "local", 16, 4096,
    { 0 } };
static const struct hello_spec au_guess = { "client", "local", 16, 1,
    { 0 } };

static const struct chunk_spec ch_plainmax = { JOB_OPT, 0, UINT32_MAX, 12,
    16 };
static const struct chunk_spec ch_idx63 = { JOB_OPT, U63, 16, 12, 16 };
static const struct chunk_spec ch_nonce0 = { JOB_OPT, 0, 16, 0, 16 };
static const struct chunk_spec ch_nonce1k = { JOB_OPT, 0, 16, 1000, 16 };
static const struct chunk_spec ch_count0 = { JOB_OPT, 0, 0, 0, 0 };
static const struct chunk_spec ch_countmax = { JOB_OPT, 0, UINT32_MAX, 0, 0 };
static const struct chunk_spec ch_first63 = { JOB_OPT, U63, 1, 0, 0 };

#define MALFORMED	EXPECT_CODE, KF__KF_ERR__ERR_MALFORMED
#define V(grp, nm, fn, ty, sp, code, alt, what) \
	{ nm, fn, EXPECT_CODE, code, what, alt, ty, sp, grp }
#define INV	KF__KF_ERR__ERR_INVALID
#define NF	KF__KF_ERR__ERR_NOT_FOUND
#define AUTH	KF__KF_ERR__ERR_AUTH
#define STATE	KF__KF_ERR__ERR_STATE
#define RS	KF__MSG_TYPE__RESTORE_START
#define CP	KF__MSG_TYPE__CHUNK_PUT
#define CR	KF__MSG_TYPE__CHUNK_READ

static const struct poke_case cases[] = {
	{ "garbage", send_garbage, MALFORMED,
	  "one frame of bytes that are no keyflow message", 0, 0, NULL, NULL },
	{ "empty-frame", send_empty_frame, MALFORMED, "one empty frame",
	  0, 0, NULL, NULL },
	{ "unknown-type", send_unknown_type, EXPECT_CODE,
	  KF__KF_ERR__ERR_UNKNOWN_TYPE,
	  "a well-formed message of a type keyflow does not know",
	  0, 0, NULL, NULL },
	{ "frames-4", send_frames_4, MALFORMED,
	  "a valid JOB_LIST followed by two extra frames", 0, 0, NULL, NULL },
	{ "empty-body-type-only", send_type_only, MALFORMED,
	  "a JOB_LIST type frame with no body frame", 0, 0, NULL, NULL },
	{ "truncated-protobuf", send_truncated, MALFORMED,
	  "a STREAM_OPEN whose protobuf body is cut short", 0, 0, NULL, NULL },
	{ "oversized", send_oversized, MALFORMED,
	  "a JOB_LIST body one byte over the 16 MiB limit", 0, 0, NULL, NULL },
	{ "oversized-payload", send_oversized_payload, MALFORMED,
	  "a CHUNK_PUT payload one byte over its limit", 0, 0, NULL, NULL },
	{ "stream-open-bogus", send_stream_open_bogus, EXPECT_CODE,
	  KF__KF_ERR__ERR_AUTH, "a STREAM_OPEN for --job with a forged token",
	  0, 0, NULL, NULL },
	{ "chunk-read-bogus", send_chunk_read_bogus, EXPECT_CODE,
	  KF__KF_ERR__ERR_AUTH, "a CHUNK_READ of --job with a forged token",
	  0, 0, NULL, NULL },
	{ "chunk-put-bogus", send_chunk_put_bogus, EXPECT_ANY_ERROR, 0,
	  "a CHUNK_PUT into --job without an open stream", 0, 0, NULL, NULL },
	{ "valid-ping", send_ping, EXPECT_ANY_REPLY, 0,
	  "a valid JOB_LIST: any well-formed reply shows the daemon serves",
	  0, 0, NULL, NULL },
	/* Absurd values (--group cs: to CommServe; --group ma: MediaAgent). */
	V("cs", "bs-relative", send_backup_start, 0, &bs_rel, INV, 0,
	  "BACKUP_START of a relative path"),
	V("cs", "bs-dotdot", send_backup_start, 0, &bs_dotdot, INV, 0,
	  "BACKUP_START of a path with \"..\""),
	V("cs", "bs-64k-path", send_backup_start, 0, &bs_big, INV, 0,
	  "BACKUP_START of a 64 KiB path"),
	V("cs", "bs-nul-path", send_backup_start, 0, &bs_nul, INV, 0,
	  "BACKUP_START of \"/tmp<NUL>/../etc\""),
	V("cs", "bs-nul-client", send_backup_start, 0, &bs_nul_client, INV, 0,
	  "BACKUP_START for client \"lo<NUL>cal\" (cut: \"local\")"),
	V("cs", "bs-10000-paths", send_backup_start, 0, &bs_many, INV, 0,
	  "BACKUP_START of 10,000 paths"),
	V("cs", "bs-no-client", send_backup_start, 0, &bs_noclient, NF, 0,
	  "BACKUP_START for a client that does not exist"),
	V("cs", "bs-no-pool", send_backup_start, 0, &bs_nopool, NF, 0,
	  "BACKUP_START into a pool that does not exist"),
	V("cs", "pc-64k-name", send_pool_create, 0, &pc_big, INV, 0,
	  "POOL_CREATE named with 64 KiB"),
	V("cs", "pc-slash", send_pool_create, 0, &pc_slash, INV, 0,
	  "POOL_CREATE named \"a/b\""),
	V("cs", "pc-nul-name", send_pool_create, 0, &pc_nul, INV, 0,
	  "POOL_CREATE named \"ev<NUL>/../il\""),
	V("cs", "pc-mount-dotdot", send_pool_create, 0, &pc_dotdot, INV, 0,
	  "POOL_CREATE with mount path \"/tmp/../etc\""),
	V("cs", "pc-no-ma", send_pool_create, 0, &pc_noma, NF, 0,
	  "POOL_CREATE on a MediaAgent that does not exist"),
	V("cs", "rs-job-0", send_job_msg, RS, &js_0, NF, 0,
	  "RESTORE_START of job 0"),
	V("cs", "rs-job-2^63", send_job_msg, RS, &js_63, NF, 0,
	  "RESTORE_START of job 2^63"),
	V("cs", "rs-no-job", send_job_msg, RS, &js_none, NF, 0,
	  "RESTORE_START of job 999999"),
	V("cs-job", "rs-of-job", send_job_msg, RS, &js_opt, NF, INV,
	  "RESTORE_START of --job (a restore job: refused)"),
	V("cs-job", "rs-relative", send_job_msg, RS, &js_rel, INV, 0,
	  "RESTORE_START of --job into \"relative\""),
	V("cs", "jg-2^64-1", send_job_msg, KF__MSG_TYPE__JOB_GET, &js_max, NF,
	  0, "JOB_GET of job 2^64-1"),
	V("cs", "cg-2^63", send_job_msg, KF__MSG_TYPE__CATALOG_GET, &js_63, NF,
	  0, "CATALOG_GET of job 2^63"),
	V("cs-job", "cg-token", send_job_msg, KF__MSG_TYPE__CATALOG_GET,
	  &js_opt, AUTH, NF, "CATALOG_GET of --job with a forged token"),
	V("cs", "done-no-job", send_job_msg, KF__MSG_TYPE__JOB_DONE, &js_none,
	  NF, 0, "JOB_DONE for job 999999"),
	V("cs-job", "done-token", send_job_msg, KF__MSG_TYPE__JOB_DONE,
	  &js_opt, AUTH, NF, "JOB_DONE for --job with a forged token"),
	V("cs", "fail-no-job", send_job_msg, KF__MSG_TYPE__JOB_FAILURE,
	  &js_max, NF, 0, "JOB_FAILURE for job 2^64-1"),
	V("cs-job", "fail-token", send_job_msg, KF__MSG_TYPE__JOB_FAILURE,
	  &js_opt, AUTH, NF, "JOB_FAILURE for --job with a forged token"),
	V("cs-job", "fail-no-token", send_job_msg, KF__MSG_TYPE__JOB_FAILURE,
	  &js_tok0, AUTH, NF, "JOB_FAILURE for --job with no token"),
	V("cs", "batch-no-job", send_job_msg, KF__MSG_TYPE__CATALOG_BATCH,
	  &js_63, NF, 0, "CATALOG_BATCH for job 2^63"),
	V("cs-job", "batch-absurd", send_job_msg, KF__MSG_TYPE__CATALOG_BATCH,
	  &js_absurd, AUTH, NF, "CATALOG_BATCH for --job, forged token, "
	  "entries with offset 2^63, a 2^64-1 byte directory, index 2^63, "
	  "mode 0xFFFFFFFF"),
	{ "progress-token", send_job_msg, EXPECT_NONE, 0, "JOB_PROGRESS for "
	  "--job with a forged token (no reply: the protocol has none)", 0,
	  KF__MSG_TYPE__JOB_PROGRESS, &js_opt, "cs-job" },
	V("cs", "hello-admin", send_hello, 0, &he_admin, INV, 0,
	  "HELLO with role \"admin\""),
	V("cs", "hello-64k-name", send_hello, 0, &he_big, INV, 0,
	  "HELLO named with 64 KiB"),
	V("cs", "hello-nul-name", send_hello, 0, &he_nul, INV, 0,
	  "HELLO as client \"lo<NUL>cal\" (cut: \"local\")"),
	V("cs", "hello-nonce-0", send_hello, 0, &he_nonce0, INV, 0,
	  "HELLO as client local with an empty nonce"),
	V("cs", "hello-no-nonce", send_hello, 0, &he_nonce_none, INV, 0,
	  "HELLO as client local without a nonce"),
	V("cs", "hello-nonce-1m", send_hello, 0, &he_nonce1m, INV, 0,
	  "HELLO as client local with a 1 MiB nonce"),
	V("cs", "hello-no-client", send_hello, 0, &he_nobody, NF, 0,
	  "HELLO as a client that does not exist"),
	V("cs", "auth-no-hello", send_hello, 0, &au_nohello, STATE, 0,
	  "AUTH as client local without HELLO"),
	V("cs", "auth-short-proof", send_hello, 0, &au_short, AUTH, 0,
	  "HELLO as local, then AUTH with a 5-byte proof"),
	V("cs", "auth-long-proof", send_hello, 0, &au_long, AUTH, 0,
	  "HELLO as local, then AUTH with a 4096-byte proof"),
	V("cs-job", "hello-then-done", send_hello, KF__MSG_TYPE__JOB_DONE,
	  &au_guess, AUTH, NF, "HELLO as local, no AUTH, then JOB_DONE for "
	  "--job with a guessed token"),
	V("ma", "so-unannounced", send_stream_open_bogus, 0, NULL, AUTH, NF,
	  "STREAM_OPEN for --job, never announced"),
	V("ma", "put-plain-max", send_chunk_msg, CP, &ch_plainmax, AUTH, STATE,
	  "CHUNK_PUT claiming 2^32-1 bytes with a 16-byte payload"),
	V("ma", "put-index-2^63", send_chunk_msg, CP, &ch_idx63, AUTH, STATE,
	  "CHUNK_PUT of chunk 2^63"),
	V("ma", "put-nonce-0", send_chunk_msg, CP, &ch_nonce0, AUTH, STATE,
	  "CHUNK_PUT with an empty nonce"),
	V("ma", "put-nonce-1000", send_chunk_msg, CP, &ch_nonce1k, AUTH, STATE,
	  "CHUNK_PUT with a 1000-byte nonce"),
	V("ma", "read-count-0", send_chunk_msg, CR, &ch_count0, AUTH, INV,
	  "CHUNK_READ of 0 chunks"),
	V("ma", "read-count-max", send_chunk_msg, CR, &ch_countmax, AUTH, INV,
	  "CHUNK_READ of 2^32-1 chunks"),
	V("ma", "read-first-2^63", send_chunk_msg, CR, &ch_first63, AUTH, INV,
	  "CHUNK_READ from chunk 2^63"),
};

#undef MALFORMED
#undef V
#undef INV
#undef NF
#undef AUTH
#undef STATE
#undef RS
#undef CP
#undef CR

static const struct poke_case *
case_lookup(const char *name)
{
	size_t	i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (strcmp(cases[i].name, name) == 0)
			return &cases[i];
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

/* Every case of a group, each on its own connection; -1 if any failed. */
static int
poke_group(void *ctx, const char *endpoint, const char *group,
    int timeout_ms)
{
	size_t	i, ran = 0, failed = 0;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (cases[i].group == NULL || strcmp(cases[i].group, group))
			continue;
		ran++;
		if (poke(ctx, endpoint, &cases[i], timeout_ms) == -1) {
			printf("FAIL %s\n", cases[i].name);
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
	if ((valid = pack(&ev.base, &vlen)) == NULL)
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
					    .send = send_hello, .spec = &hs };
	void				*sock;
	unsigned			 i;

	for (i = 0; i < n; i++) {
		if ((sock = wire_socket(ctx, ZMQ_DEALER, endpoint, 0)) == NULL)
			return -1;
		if (i % 2 == 0 && send_hello(sock, &hc) == -1) {
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
	    "cases (exit 0 when the expected reply arrives, 1 otherwise;\n"
	    "with --no-reply, 0 when none arrives within the timeout):\n");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		fprintf(f, "  %-22s [%s] %s (expects %s%s%s)\n",
		    cases[i].name, cases[i].group ? cases[i].group : "-",
		    cases[i].what, cases[i].how == EXPECT_ANY_REPLY ?
		    "any reply" : cases[i].how == EXPECT_NONE ? "no reply" :
		    cases[i].how == EXPECT_ANY_ERROR ? "an ERROR" :
		    wire_err_name(cases[i].expect), cases[i].alt ? " or " : "",
		    cases[i].alt ? wire_err_name(cases[i].alt) : "");
	exit(status);
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
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const struct poke_case	*c = NULL;
	const char		*endpoint = NULL, *group = NULL;
	uint64_t		 timeout = POKE_TIMEOUT_MS, count = 1, nchurn = 0;
	void			*ctx;
	int			 ch, pub = 0, rc;

	log_init("kf-poke", 0);
	while ((ch = getopt_long(argc, argv, "e:c:t:pn:j:rg:C:h", opts, NULL)) != -1) {
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
		case 'h':
			usage(0);
		default:
			usage(2);
		}
	}
	if (optind != argc || endpoint == NULL ||
	    conf_endpoint_valid(endpoint) == -1 ||
	    pub + (c != NULL) + (group != NULL) + (nchurn > 0) != 1)
		usage(2);
	if ((ctx = zmq_ctx_new()) == NULL)
		fatalx("zmq_ctx_new: %s", zmq_strerror(errno));
	if (pub)
		rc = publish(ctx, endpoint, (unsigned)count);
	else if (nchurn > 0)
		rc = churn(ctx, endpoint, (unsigned)nchurn);
	else if (group != NULL)
		rc = poke_group(ctx, endpoint, group, (int)timeout);
	else
		rc = poke(ctx, endpoint, c, (int)timeout);
	zmq_ctx_term(ctx);
	return rc == 0 ? 0 : 1;
}
