/*
 * kms_admin.c - registering KMIP key management servers with CommServe
 * (`keyflow kms add`), and how a KMS row is shown (`keyflow kms list`).
 *
 * A KMIP server is only registered once CommServe has shown it can use it:
 * the CA file, client certificate and key are absolute paths readable by
 * commserved, the key is not encrypted (the seed's note) and belongs to the
 * certificate, and the server answers a TLS handshake and Discover Versions
 * (the negotiated version is reported).  When the Client Correlation Value
 * is to be sent and the version carries it, one Query with it proves the
 * server accepts the field; PyKMIP's does not, and the operator is told to
 * use --no-correlation.  A mistake thus shows up here, with a sentence,
 * rather than at the first pool creation.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commserve.h"
#include "kmip/client.h"
#include "log.h"

/* An absolute path commserved can read; 0, or -1 after replying. */
static int
kms_admin_file(struct req *r, const char *what, const char *path)
{
	if (path[0] != '/' || strlen(path) >= DB_TEXT_MAX) {
		cs_error(r, KF__KF_ERR__ERR_INVALID, "the %s \"%.200s\" must "
		    "be an absolute path on the CommServe host (under %d "
		    "bytes)", what, path, DB_TEXT_MAX);
		return -1;
	}
	if (access(path, R_OK) == -1) {
		cs_error(r, KF__KF_ERR__ERR_INVALID, "commserved cannot read "
		    "the %s %.200s: %s", what, path, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Talk to the server once: negotiate, and check the Client Correlation
 * Value is accepted if it will be sent.  0, or -1 after replying.
 */
static int
kms_admin_probe(struct req *r, const struct db_kms *k, char *ver, size_t cap)
{
	struct kmip_client	*c;
	char			 err[KMIP_CLIENT_ERRLEN], tid[DB_NAME_MAX + 8];
	int			 rc = -1;

	if ((c = kms_kmip_open(k, err, sizeof(err))) == NULL) {
		cs_error(r, KF__KF_ERR__ERR_INVALID, "KMS %s not added: %s",
		    k->name, err);
		return -1;
	}
	if (kmip_client_connect(c) == -1) {
		cs_error(r, KF__KF_ERR__ERR_KMS, "KMS %s not added: %s",
		    k->name, kmip_client_error(c));
		goto done;
	}
	kmip_ver_str(kmip_client_version(c), ver, cap);
	snprintf(tid, sizeof(tid), "kms/%s", k->name);
	if (k->send_correlation && kmip_client_version(c) >= KMIP_1_4 &&
	    kmip_client_query(c, tid) == -1 &&
	    kmip_client_reason(c) != KMIP_REASON_OPERATION_NOT_SUPPORTED) {
		cs_error(r, KF__KF_ERR__ERR_KMS, "KMS %s not added: %s%s",
		    k->name, kmip_client_error(c),
		    kmip_client_reason(c) == KMIP_REASON_INVALID_MESSAGE ?
		    " (the server seems to refuse the Client Correlation "
		    "Value: add it with --no-correlation)" : "");
		goto done;
	}
	rc = 0;
 done:
	kmip_client_free(&c);
	return rc;
}

void
kms_admin_fill_info(const struct db_kms *k, Kf__KmsInfo *ki)
{
	int	kmip = strcmp(k->kind, "kmip") == 0;

	ki->name = (char *)k->name;
	ki->kind = (char *)k->kind;
	ki->address = k->address[0] != '\0' ? (char *)k->address : NULL;
	ki->ca = k->ca[0] != '\0' ? (char *)k->ca : NULL;
	ki->cert = k->cert[0] != '\0' ? (char *)k->cert : NULL;
	ki->key = k->key[0] != '\0' ? (char *)k->key : NULL;
	ki->has_send_correlation = kmip;
	ki->send_correlation = kmip && k->send_correlation;
}

void
kms_admin_add(struct req *r)
{
	const Kf__KmsAdd	*a = (const Kf__KmsAdd *)r->msg->body;
	Kf__KmsInfo		 ki = KF__KMS_INFO__INIT;
	struct db_kms		 k;
	char			 ver[16];
	int			 rc;

	memset(&k, 0, sizeof(k));
	if (!cs_name_valid(a->name)) {
		cs_error(r, KF__KF_ERR__ERR_INVALID, "invalid KMS name: use "
		    "1..%d letters, digits, '-', '_' or '.'", CS_NAME_MAX);
		return;
	}
	if (db_kms_find(r->cs->db, a->name, &k) == DB_OK) {
		cs_error(r, KF__KF_ERR__ERR_EXISTS, "a KMS named %s already "
		    "exists", a->name);
		return;
	}
	if (strlen(a->address) == 0 || strlen(a->address) >= DB_TEXT_MAX) {
		cs_error(r, KF__KF_ERR__ERR_INVALID, "the KMS address must be "
		    "HOST:PORT");
		return;
	}
	if (kms_admin_file(r, "CA certificate file", a->ca) == -1 ||
	    kms_admin_file(r, "client certificate file", a->cert) == -1 ||
	    kms_admin_file(r, "client key file", a->key) == -1)
		return;
	memset(&k, 0, sizeof(k));
	snprintf(k.name, sizeof(k.name), "%s", a->name);
	snprintf(k.kind, sizeof(k.kind), "kmip");
	snprintf(k.address, sizeof(k.address), "%s", a->address);
	snprintf(k.ca, sizeof(k.ca), "%s", a->ca);
	snprintf(k.cert, sizeof(k.cert), "%s", a->cert);
	snprintf(k.key, sizeof(k.key), "%s", a->key);
	k.send_correlation = a->has_send_correlation ? a->send_correlation : 1;
	if (kms_admin_probe(r, &k, ver, sizeof(ver)) == -1)
		return;
	rc = db_kms_add(r->cs->db, &k);
	if (rc != DB_OK) {
		cs_error(r, rc == DB_EXISTS ? KF__KF_ERR__ERR_EXISTS :
		    KF__KF_ERR__ERR_DB, "KMS %s not added: %s", k.name,
		    db_errmsg(r->cs->db));
		return;
	}
	log_info("added KMIP server %s at %s (KMIP %s, Client Correlation "
	    "Value %s)", k.name, k.address, ver, k.send_correlation ?
	    "sent" : "not sent");
	kms_admin_fill_info(&k, &ki);
	ki.protocol_version = ver;
	cs_reply(r, KF__MSG_TYPE__KMS_INFO, &ki.base);
}
