/*
 * kmip_server_fixture.c - the scripted KMIP server of check_kmip_client
 * (kmip_server_fixture.h), in a thread of the test process.
 *
 * The fake server is a real mutual-TLS server (certificates made here with
 * OpenSSL, EC P-256) that decodes requests and encodes answers with the
 * common/kmip codec, and can misbehave on demand: list only some versions,
 * not know Discover Versions, refuse newer messages, close a connection
 * after every answer, read a request and hang up without answering, say
 * nothing at all, refuse an operation.
 */
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "crypto.h"
#include "kmip/client.h"
#include "kmip_server_fixture.h"

char	dir[64];
uint8_t	fake_key[KF_KEY_LEN];

/* ---------------------------------------------------------- certificates */

static void
add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX	 ctx;
	X509_EXTENSION	*e;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	ck_assert_ptr_nonnull(e = X509V3_EXT_conf_nid(NULL, &ctx, nid,
	    value));
	ck_assert_int_eq(X509_add_ext(x, e, -1), 1);
	X509_EXTENSION_free(e);
}

/* A certificate for key, signed by issuer (NULL: self-signed CA). */
static X509 *
make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *ikey,
    const char *san, const char *eku)
{
	static long	 serial = 1;
	X509		*x;
	X509_NAME	*n;

	ck_assert_ptr_nonnull(x = X509_new());
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, key);
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n);
	if (issuer == NULL) {
		add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE");
		add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign");
	} else {
		add_ext(x, issuer, NID_basic_constraints, "CA:FALSE");
		add_ext(x, issuer, NID_ext_key_usage, eku);
		if (san != NULL)
			add_ext(x, issuer, NID_subject_alt_name, san);
	}
	ck_assert_int_gt(X509_sign(x, ikey ? ikey : key, EVP_sha256()), 0);
	return x;
}

static void
write_pem(const char *name, X509 *x, EVP_PKEY *k, const char *pass)
{
	char	 path[128];
	FILE	*f;

	snprintf(path, sizeof(path), "%s/%s.pem", dir, name);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	if (x != NULL)
		ck_assert_int_eq(PEM_write_X509(f, x), 1);
	else
		ck_assert_int_eq(PEM_write_PrivateKey(f, k, pass ?
		    EVP_aes_256_cbc() : NULL, (unsigned char *)pass,
		    pass ? (int)strlen(pass) : 0, NULL, NULL), 1);
	fclose(f);
}

/* The PEM files make_certs() writes into dir. */
static const char *const pems[] = { "ca", "other-ca", "server", "badname",
    "client", "server-key", "client-key", "client-key-enc" };

/* ca, other-ca, server (127.0.0.1), badname (other.example), client. */
static void
make_certs(void)
{
	EVP_PKEY	*k[4];	/* CA, other CA, server, client */
	X509		*x[5];	/* in the order of pems[] */
	size_t		 i;

	snprintf(dir, sizeof(dir), "/tmp/kf-check-kmip-client.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	for (i = 0; i < 4; i++)
		ck_assert_ptr_nonnull(k[i] = EVP_EC_gen("P-256"));
	x[0] = make_cert(k[0], "test CA", NULL, NULL, NULL, NULL);
	x[1] = make_cert(k[1], "other CA", NULL, NULL, NULL, NULL);
	x[2] = make_cert(k[2], "kms", x[0], k[0], "IP:127.0.0.1,DNS:localhost",
	    "serverAuth");
	x[3] = make_cert(k[2], "kms", x[0], k[0], "DNS:other.example",
	    "serverAuth");
	x[4] = make_cert(k[3], "commserve", x[0], k[0], NULL, "clientAuth");
	for (i = 0; i < 5; i++) {
		write_pem(pems[i], x[i], NULL, NULL);
		X509_free(x[i]);
	}
	write_pem("server-key", NULL, k[2], NULL);
	write_pem("client-key", NULL, k[3], NULL);
	write_pem("client-key-enc", NULL, k[3], "secret");
	for (i = 0; i < 4; i++)
		EVP_PKEY_free(k[i]);
}

void
setup(void)
{
	make_certs();
	ck_assert_int_eq(crypto_random(fake_key, sizeof(fake_key)), 0);
}

void
teardown(void)
{
	char	path[128];
	size_t	i;

	for (i = 0; i < sizeof(pems) / sizeof(pems[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s.pem", dir, pems[i]);
		unlink(path);
	}
	rmdir(dir);
}

/* ------------------------------------------------------ the fake server */

static int
read_exact(SSL *s, uint8_t *buf, size_t len)
{
	size_t	off = 0;
	int	r;

	while (off < len) {
		if ((r = SSL_read(s, buf + off, (int)(len - off))) <= 0)
			return -1;
		off += (size_t)r;
	}
	return 0;
}

/* Encrypt like PyKMIP: a 16-byte IV of the server's choosing. */
static void
fake_encrypt(const struct kmip_payload *q, struct kmip_payload *p, int gcm)
{
	EVP_CIPHER_CTX	*ctx;
	uint8_t		 iv[16], out[KMIP_CLIENT_DATA_MAX + 32], tag[16];
	int		 n = 0, m = 0;

	ck_assert_int_eq(crypto_random(iv, sizeof(iv)), 0);
	ck_assert_ptr_nonnull(ctx = EVP_CIPHER_CTX_new());
	if (gcm) {
		EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL);
		EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, 16, NULL);
		EVP_EncryptInit_ex(ctx, NULL, NULL, fake_key, iv);
		if (q->aad.p != NULL)
			EVP_EncryptUpdate(ctx, NULL, &n, q->aad.p,
			    (int)q->aad.len);
	} else
		EVP_EncryptInit_ex(ctx, EVP_aes_256_cbc(), NULL, fake_key, iv);
	EVP_EncryptUpdate(ctx, out, &n, q->data.p, (int)q->data.len);
	EVP_EncryptFinal_ex(ctx, out + n, &m);
	kmip_bytes_set(&p->data, out, (size_t)(n + m));
	kmip_bytes_set(&p->iv, iv, sizeof(iv));
	if (gcm) {
		EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, tag);
		kmip_bytes_set(&p->tag, tag, sizeof(tag));
	}
	EVP_CIPHER_CTX_free(ctx);
}

/* Answer one request item into it; q is the request's payload. */
static void
fake_item(struct fake *f, uint32_t v, const struct kmip_item *rq,
    struct kmip_item *it)
{
	const struct kmip_payload	*q = &rq->p;
	struct kmip_payload		*p = &it->p;
	size_t				 i, j;

	it->status = KMIP_STATUS_SUCCESS;
	it->has_payload = 1;
	if (v > f->max_version) {
		kmip_item_fail(it, v, KMIP_REASON_INVALID_MESSAGE, "version");
		return;
	}
	switch (rq->op) {
	case KMIP_OP_DISCOVER_VERSIONS:
		if (f->no_discover) {
			kmip_item_fail(it, v,
			    KMIP_REASON_OPERATION_NOT_SUPPORTED, "what?");
			return;
		}
		p->versions = calloc(8, sizeof(*p->versions));
		for (i = 0; i < f->nversions; i++)
			for (j = 0; j < q->nversions; j++)
				if (f->versions[i] == q->versions[j])
					p->versions[p->nversions++] =
					    f->versions[i];
		return;
	case KMIP_OP_QUERY:
		return;
	case KMIP_OP_CREATE:
		if (f->refuse_create) {
			kmip_item_fail(it, v, KMIP_REASON_PERMISSION_DENIED,
			    "nope, not for %s", q->attrs.name);
			return;
		}
		snprintf(f->name, sizeof(f->name), "%s", q->attrs.name ?
		    q->attrs.name : "");
		f->usage = q->attrs.usage_mask;
		ck_assert_uint_eq(q->attrs.alg, KMIP_ALG_AES);
		ck_assert_int_eq(q->attrs.length, 256);
		p->object_type = KMIP_OBJ_SYMMETRIC_KEY;
		kmip_set_str(&p->uid, FAKE_UID);
		f->creates++;
		return;
	case KMIP_OP_ENCRYPT:
		/* The full Cryptographic Parameters, as PyKMIP needs. */
		ck_assert(q->has & KMIP_P_CPARAMS);
		ck_assert_uint_eq(q->cparams.alg, KMIP_ALG_AES);
		ck_assert(q->cparams.random_iv);
		ck_assert_uint_eq(q->cparams.mode, v >= KMIP_1_4 ?
		    KMIP_MODE_GCM : KMIP_MODE_CBC);
		if (v >= KMIP_1_4)
			ck_assert_int_eq(q->cparams.tag_len, 16);
		else
			ck_assert_uint_eq(q->cparams.padding, KMIP_PAD_PKCS5);
		fake_encrypt(q, p, v >= KMIP_1_4);
		break;
	case KMIP_OP_GET:
		ck_assert_uint_eq(q->key_format, KMIP_KEYFMT_RAW);
		p->object_type = KMIP_OBJ_SYMMETRIC_KEY;
		p->has |= KMIP_P_KEY;
		p->key.format = KMIP_KEYFMT_RAW;
		p->key.alg = KMIP_ALG_AES;
		p->key.length = 256;
		kmip_bytes_set(&p->key.material, fake_key, sizeof(fake_key));
		break;
	}
	kmip_set_str(&p->uid, q->uid);
}

/* Serve one connection; returns when it should be closed. */
static void
fake_session(struct fake *f, SSL *s)
{
	struct kmip_msg	*rq = NULL, *rs = NULL;
	struct kmip_err	 err;
	uint8_t		 hdr[8], *buf, *out;
	size_t		 need, len;

	for (;;) {
		if (read_exact(s, hdr, sizeof(hdr)) == -1 ||
		    ttlv_frame_need(hdr, NULL, &need, NULL) == -1)
			return;
		ck_assert_ptr_nonnull(buf = malloc(need + 8));
		memcpy(buf, hdr, 8);
		if (read_exact(s, buf + 8, need) == -1) {
			free(buf);
			return;
		}
		f->requests++;
		ck_assert_int_eq(kmip_msg_decode(buf, need + 8, 0, NULL, &rq,
		    &err), 0);
		free(buf);
		if (rq->client_corr != NULL) {
			f->corr_seen++;
			f->corr_early += rq->version < KMIP_1_4;
			snprintf(f->last_corr, sizeof(f->last_corr), "%s",
			    rq->client_corr);
		}
		if (f->silent || f->requests == f->hangup_on) {
			kmip_msg_free(&rq);
			if (f->silent)
				continue;
			return;
		}
		rs = kmip_msg_new(1, rq->version);
		fake_item(f, rq->version, rq->items[0], kmip_msg_add(rs,
		    rq->items[0]->op));
		ck_assert_int_eq(kmip_msg_encode(rs, &out, &len, &err), 0);
		ck_assert_int_eq(SSL_write(s, out, (int)len), (int)len);
		free(out);
		kmip_msg_free(&rq);
		kmip_msg_free(&rs);
		if (f->close_after)
			return;
	}
}

static void *
fake_run(void *arg)
{
	struct fake	*f = arg;
	struct pollfd	 pfd = { .fd = f->lfd, .events = POLLIN };
	struct timeval	 tv = { 2, 0 };
	SSL		*s;
	int		 fd;

	while (!f->stop) {
		if (poll(&pfd, 1, 50) <= 0 ||
		    (fd = accept(f->lfd, NULL, NULL)) == -1)
			continue;
		f->conns++;
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		s = SSL_new(f->ctx);
		SSL_set_fd(s, fd);
		if (SSL_accept(s) == 1)
			fake_session(f, s);
		SSL_free(s);
		close(fd);
	}
	return NULL;
}

/* Start a fake presenting certificate cert ("server" or "badname"). */
struct fake *
fake_start(const char *cert, uint32_t max_version)
{
	struct fake		*f;
	struct sockaddr_in	 sa;
	socklen_t		 sl = sizeof(sa);
	char			 p[128];

	ck_assert_ptr_nonnull(f = calloc(1, sizeof(*f)));
	f->max_version = max_version;
	f->versions[f->nversions++] = max_version;
	ck_assert_ptr_nonnull(f->ctx = SSL_CTX_new(TLS_server_method()));
	snprintf(p, sizeof(p), "%s/%s.pem", dir, cert);
	ck_assert_int_eq(SSL_CTX_use_certificate_file(f->ctx, p,
	    SSL_FILETYPE_PEM), 1);
	snprintf(p, sizeof(p), "%s/server-key.pem", dir);
	ck_assert_int_eq(SSL_CTX_use_PrivateKey_file(f->ctx, p,
	    SSL_FILETYPE_PEM), 1);
	snprintf(p, sizeof(p), "%s/ca.pem", dir);
	ck_assert_int_eq(SSL_CTX_load_verify_locations(f->ctx, p, NULL), 1);
	SSL_CTX_set_verify(f->ctx, SSL_VERIFY_PEER |
	    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_ge(f->lfd = socket(AF_INET, SOCK_STREAM, 0), 0);
	ck_assert_int_eq(bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(f->lfd, 8), 0);
	ck_assert_int_eq(getsockname(f->lfd, (struct sockaddr *)&sa, &sl), 0);
	f->port = ntohs(sa.sin_port);
	return f;
}

void
fake_go(struct fake *f)
{
	ck_assert_int_eq(pthread_create(&f->th, NULL, fake_run, f), 0);
}

void
fake_stop(struct fake **fp)
{
	struct fake	*f = *fp;

	f->stop = 1;
	pthread_join(f->th, NULL);
	close(f->lfd);
	SSL_CTX_free(f->ctx);
	free(f);
	*fp = NULL;
}

/* A client of f (host "127.0.0.1" unless given); NULL with err set. */
struct kmip_client *
client_for(const struct fake *f, const char *host, const char *ca,
    const char *key, int corr, char *err, size_t cap)
{
	struct kmip_client_conf	cf;
	static char		addr[64], cap_[128], cert[128], keyp[128];

	snprintf(addr, sizeof(addr), "%s:%d", host ? host : "127.0.0.1",
	    f ? f->port : 1);
	snprintf(cap_, sizeof(cap_), "%s/%s.pem", dir, ca ? ca : "ca");
	snprintf(cert, sizeof(cert), "%s/client.pem", dir);
	snprintf(keyp, sizeof(keyp), "%s/%s.pem", dir, key ? key :
	    "client-key");
	memset(&cf, 0, sizeof(cf));
	cf.address = addr;
	cf.ca = cap_;
	cf.cert = cert;
	cf.key = keyp;
	cf.send_correlation = corr;
	cf.read_ms = 400;
	cf.connect_ms = 2000;
	return kmip_client_new(&cf, err, cap);
}

/* Start f's thread and connect a default client to it. */
struct kmip_client *
go(struct fake *f, int corr)
{
	struct kmip_client	*c;
	char			 err[512];

	fake_go(f);
	c = client_for(f, NULL, NULL, NULL, corr, err, sizeof(err));
	ck_assert_msg(c != NULL, "%s", err);
	return c;
}
