/*
 * tls.c - kmsd's OpenSSL server context.
 *
 * Mutual TLS as the KMIP profiles ask: TLS 1.2 and 1.3, a server
 * certificate and key from PEM files (the key must not be encrypted: a
 * passphrase prompt would hang a daemon, so the callback refuses), and a
 * client certificate that the configured CA signed, verified during the
 * handshake (SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT), so a peer
 * without one, with one from another CA, or with an expired one never gets
 * a single KMIP byte parsed.  The TLS 1.2 cipher list keeps the
 * AES-CBC-SHA256/384 suites next to the GCM ones, because older KMIP
 * clients (PyKMIP) offer nothing else with RSA certificates.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "kms.h"
#include "log.h"

#define VERIFY_DEPTH	4
#define SESSION_ID_CTX	"keyflow-kmsd"

const char *
tls_error(char *buf, size_t cap)
{
	unsigned long	e, last = 0;

	while ((e = ERR_get_error()) != 0)
		last = e;
	if (last == 0)
		snprintf(buf, cap, "no OpenSSL error recorded");
	else
		ERR_error_string_n(last, buf, cap);
	return buf;
}

/* A key with a passphrase is refused instead of prompting on a tty. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return 0;
}

/* Warn about a server certificate that is expired or not yet valid. */
static void
check_validity(SSL_CTX *ctx, const char *path)
{
	X509	*x = SSL_CTX_get0_certificate(ctx);

	if (x == NULL)
		return;
	if (X509_cmp_current_time(X509_get0_notAfter(x)) < 0)
		log_warnx("server certificate %s has expired: clients will "
		    "refuse kmsd", path);
	else if (X509_cmp_current_time(X509_get0_notBefore(x)) > 0)
		log_warnx("server certificate %s is not valid yet", path);
}

SSL_CTX *
tls_server_new(const struct kms_conf *conf, char *err, size_t cap)
{
	STACK_OF(X509_NAME)	*cas;
	SSL_CTX			*ctx;
	unsigned long		 last;
	char			 e[256];

	ERR_clear_error();
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		snprintf(err, cap, "cannot create a TLS context: %s",
		    tls_error(e, sizeof(e)));
		return NULL;
	}
	SSL_CTX_set_default_passwd_cb(ctx, no_passphrase);
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1) {
		snprintf(err, cap, "cannot limit TLS to 1.2 and 1.3: %s",
		    tls_error(e, sizeof(e)));
		goto fail;
	}
	/* A peer that closes without close_notify has simply closed. */
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION |
	    SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
	    SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (SSL_CTX_set_cipher_list(ctx, conf->ciphers) != 1) {
		snprintf(err, cap, "--ciphers \"%s\" names no cipher suite "
		    "OpenSSL knows: %s", conf->ciphers,
		    tls_error(e, sizeof(e)));
		goto fail;
	}
	SSL_CTX_set_dh_auto(ctx, 1);
	if (SSL_CTX_use_certificate_chain_file(ctx, conf->cert) != 1) {
		snprintf(err, cap, "--cert %s: cannot load a PEM certificate "
		    "chain: %s", conf->cert, tls_error(e, sizeof(e)));
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, conf->key, SSL_FILETYPE_PEM) !=
	    1) {
		last = ERR_peek_last_error();
		if (ERR_GET_LIB(last) == ERR_LIB_X509 &&
		    ERR_GET_REASON(last) == X509_R_KEY_VALUES_MISMATCH)
			snprintf(err, cap, "--key %s does not belong to the "
			    "certificate in --cert %s", conf->key, conf->cert);
		else
			snprintf(err, cap, "--key %s: cannot load an "
			    "unencrypted PEM private key: %s", conf->key,
			    tls_error(e, sizeof(e)));
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		snprintf(err, cap, "--key %s does not belong to the certificate "
		    "in --cert %s", conf->key, conf->cert);
		goto fail;
	}
	if (SSL_CTX_load_verify_locations(ctx, conf->ca, NULL) != 1 ||
	    (cas = SSL_load_client_CA_file(conf->ca)) == NULL) {
		snprintf(err, cap, "--ca %s: cannot load a PEM CA "
		    "certificate: %s", conf->ca, tls_error(e, sizeof(e)));
		goto fail;
	}
	SSL_CTX_set_client_CA_list(ctx, cas);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
	    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	SSL_CTX_set_verify_depth(ctx, VERIFY_DEPTH);
	if (SSL_CTX_set_session_id_context(ctx,
	    (const unsigned char *)SESSION_ID_CTX,
	    strlen(SESSION_ID_CTX)) != 1) {
		snprintf(err, cap, "cannot set the TLS session id context");
		goto fail;
	}
	check_validity(ctx, conf->cert);
	return ctx;
 fail:
	SSL_CTX_free(ctx);
	return NULL;
}
