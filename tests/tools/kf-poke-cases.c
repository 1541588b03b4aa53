/*
 * kf-poke-cases.c - kf-poke's case table: every --case it can send, and
 * the builders of the "absurd values" cases.
 *
 * Each row of poke_cases[] names a sender and what the daemon must answer.
 * The generic senders (garbage, wrong frame counts, oversized bodies) live
 * in kf-poke.c; the builders here fill well-formed messages of each type
 * from a spec of hostile values, so only the intended value is wrong.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kf-poke.h"

/*
 * Absurd values in well-formed messages.  Each case below is one row of
 * poke_cases[]: a builder for the message type and a spec (a struct of values)
 * it fills the message from.  The values are what a careless or hostile
 * peer would send: relative paths, "..", 64 KiB names, 2^63 offsets, a NUL
 * inside a string (protobuf-c would hand the daemon a C string cut at the
 * NUL), ids of jobs that never were, forged tokens.
 */
#define BIG_LEN		(64 * 1024)	/* a "64 KiB name" */
#define U63		((uint64_t)1 << 63)
#define JOB_OPT		((uint64_t)-2)	/* stands for --job */
#define MANY_PATHS	10000

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
	rc = poke_send_typed(sock, type, buf, len, NULL, 0, NULL, 0);
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
int
poke_send_hello(void *sock, const struct poke_case *c)
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
#define UNAV	KF__KF_ERR__ERR_UNAVAILABLE
#define STATE	KF__KF_ERR__ERR_STATE
#define RS	KF__MSG_TYPE__RESTORE_START
#define CP	KF__MSG_TYPE__CHUNK_PUT
#define CR	KF__MSG_TYPE__CHUNK_READ

const struct poke_case poke_cases[] = {
	{ "garbage", poke_send_garbage, MALFORMED,
	  "one frame of bytes that are no keyflow message", 0, 0, NULL, NULL },
	{ "empty-frame", poke_send_empty_frame, MALFORMED, "one empty frame",
	  0, 0, NULL, NULL },
	{ "unknown-type", poke_send_unknown_type, EXPECT_CODE,
	  KF__KF_ERR__ERR_UNKNOWN_TYPE,
	  "a well-formed message of a type keyflow does not know",
	  0, 0, NULL, NULL },
	{ "frames-4", poke_send_frames_4, MALFORMED,
	  "a valid JOB_LIST followed by two extra frames", 0, 0, NULL, NULL },
	{ "empty-body-type-only", poke_send_type_only, MALFORMED,
	  "a JOB_LIST type frame with no body frame", 0, 0, NULL, NULL },
	{ "truncated-protobuf", poke_send_truncated, MALFORMED,
	  "a STREAM_OPEN whose protobuf body is cut short", 0, 0, NULL, NULL },
	{ "oversized", poke_send_oversized, MALFORMED,
	  "a JOB_LIST body one byte over the 16 MiB limit", 0, 0, NULL, NULL },
	{ "oversized-payload", poke_send_oversized_payload, MALFORMED,
	  "a CHUNK_PUT payload one byte over its limit", 0, 0, NULL, NULL },
	{ "stream-open-bogus", poke_send_stream_open_bogus, EXPECT_CODE,
	  KF__KF_ERR__ERR_AUTH, "a STREAM_OPEN for --job with a forged token",
	  UNAV, 0, NULL, NULL },
	{ "chunk-read-bogus", poke_send_chunk_read_bogus, EXPECT_CODE,
	  KF__KF_ERR__ERR_AUTH, "a CHUNK_READ of --job with a forged token",
	  UNAV, 0, NULL, NULL },
	{ "chunk-put-bogus", poke_send_chunk_put_bogus, EXPECT_ANY_ERROR, 0,
	  "a CHUNK_PUT into --job without an open stream", 0, 0, NULL, NULL },
	{ "valid-ping", poke_send_ping, EXPECT_ANY_REPLY, 0,
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
	V("cs", "hello-admin", poke_send_hello, 0, &he_admin, INV, 0,
	  "HELLO with role \"admin\""),
	V("cs", "hello-64k-name", poke_send_hello, 0, &he_big, INV, 0,
	  "HELLO named with 64 KiB"),
	V("cs", "hello-nul-name", poke_send_hello, 0, &he_nul, INV, 0,
	  "HELLO as client \"lo<NUL>cal\" (cut: \"local\")"),
	V("cs", "hello-nonce-0", poke_send_hello, 0, &he_nonce0, INV, 0,
	  "HELLO as client local with an empty nonce"),
	V("cs", "hello-no-nonce", poke_send_hello, 0, &he_nonce_none, INV, 0,
	  "HELLO as client local without a nonce"),
	V("cs", "hello-nonce-1m", poke_send_hello, 0, &he_nonce1m, INV, 0,
	  "HELLO as client local with a 1 MiB nonce"),
	V("cs", "hello-no-client", poke_send_hello, 0, &he_nobody, NF, 0,
	  "HELLO as a client that does not exist"),
	V("cs", "auth-no-hello", poke_send_hello, 0, &au_nohello, STATE, 0,
	  "AUTH as client local without HELLO"),
	V("cs", "auth-short-proof", poke_send_hello, 0, &au_short, AUTH, 0,
	  "HELLO as local, then AUTH with a 5-byte proof"),
	V("cs", "auth-long-proof", poke_send_hello, 0, &au_long, AUTH, 0,
	  "HELLO as local, then AUTH with a 4096-byte proof"),
	V("cs-job", "hello-then-done", poke_send_hello, KF__MSG_TYPE__JOB_DONE,
	  &au_guess, AUTH, NF, "HELLO as local, no AUTH, then JOB_DONE for "
	  "--job with a guessed token"),
	V("ma", "so-unannounced", poke_send_stream_open_bogus, 0, NULL, AUTH, UNAV,
	  "STREAM_OPEN for --job, never announced"),
	V("ma", "put-plain-max", send_chunk_msg, CP, &ch_plainmax, AUTH, UNAV,
	  "CHUNK_PUT claiming 2^32-1 bytes with a 16-byte payload"),
	V("ma", "put-index-2^63", send_chunk_msg, CP, &ch_idx63, AUTH, UNAV,
	  "CHUNK_PUT of chunk 2^63"),
	V("ma", "put-nonce-0", send_chunk_msg, CP, &ch_nonce0, AUTH, UNAV,
	  "CHUNK_PUT with an empty nonce"),
	V("ma", "put-nonce-1000", send_chunk_msg, CP, &ch_nonce1k, AUTH, UNAV,
	  "CHUNK_PUT with a 1000-byte nonce"),
	V("ma", "read-count-0", send_chunk_msg, CR, &ch_count0, AUTH, UNAV,
	  "CHUNK_READ of 0 chunks"),
	V("ma", "read-count-max", send_chunk_msg, CR, &ch_countmax, AUTH, UNAV,
	  "CHUNK_READ of 2^32-1 chunks"),
	V("ma", "read-first-2^63", send_chunk_msg, CR, &ch_first63, AUTH, UNAV,
	  "CHUNK_READ from chunk 2^63"),
};

const size_t	poke_ncases = sizeof(poke_cases) / sizeof(poke_cases[0]);

#undef MALFORMED
#undef V
#undef INV
#undef NF
#undef AUTH
#undef UNAV
#undef STATE
#undef RS
#undef CP
#undef CR
