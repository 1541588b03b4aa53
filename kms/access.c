/*
 * access.c - who a client is and what it may touch.
 *
 * A client's identity is the subject of the certificate it presented (as
 * RFC 2253 text, e.g. "CN=commserve,O=keyflow"), verified against the CA
 * during the handshake.  Every object records the identity that created or
 * registered it, and only that identity may use it: another one gets
 * Permission Denied and never sees the object in Locate.  Username and
 * password credentials in a request header are ignored (as PyKMIP's
 * server does): the certificate is the credential.
 *
 * Also here, because every handler needs them: resolving the Unique
 * Identifier an item names (or the batch's ID Placeholder), fetching an
 * object with the ownership check, the lifecycle refusals (Wrong Key
 * Lifecycle State in 2.0, the 1.x reason the operation calls for), and
 * the trace id a Client Correlation Value may carry.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/x509.h>

#include "kms.h"
#include "log.h"

int
access_identity(SSL *ssl, char *buf, size_t cap)
{
	X509		*x;
	BIO		*b;
	char		*p;
	long		 n;
	int		 rc = -1;

	if ((x = SSL_get0_peer_certificate(ssl)) == NULL ||
	    (b = BIO_new(BIO_s_mem())) == NULL)
		return -1;
	if (X509_NAME_print_ex(b, X509_get_subject_name(x), 0,
	    XN_FLAG_RFC2253) >= 0 && (n = BIO_get_mem_data(b, &p)) > 0 &&
	    (size_t)n < cap && memchr(p, '\0', (size_t)n) == NULL) {
		memcpy(buf, p, (size_t)n);
		buf[n] = '\0';
		rc = 0;
	}
	BIO_free(b);
	return rc;
}

const char *
access_trace_id(const char *corr, char *buf, size_t cap)
{
	const char	*rest;
	size_t		 i, max;
	int		 digits;

	if (corr == NULL)
		return NULL;
	if (strncmp(corr, "job/", 4) == 0) {
		rest = corr + 4;
		digits = 1;
		max = 19;
	} else if (strncmp(corr, "pool/", 5) == 0) {
		rest = corr + 5;
		digits = 0;
		max = 48;
	} else
		return NULL;
	for (i = 0; rest[i] != '\0'; i++) {
		if (i >= max)
			return NULL;
		if (rest[i] >= '0' && rest[i] <= '9')
			continue;
		if (digits || !((rest[i] >= 'a' && rest[i] <= 'z') ||
		    (rest[i] >= 'A' && rest[i] <= 'Z') || rest[i] == '.' ||
		    rest[i] == '_' || rest[i] == '-'))
			return NULL;
	}
	if (i == 0 || strlen(corr) >= cap)
		return NULL;
	memcpy(buf, corr, strlen(corr) + 1);
	return buf;
}

const char *
access_clean(const char *s, char *buf, size_t cap)
{
	size_t	i, n = 0;

	if (cap == 0)
		return "";
	for (i = 0; s[i] != '\0' && n + 1 < cap; i++) {
		if (n + 4 >= cap && s[i + 1] != '\0') {
			memcpy(buf + n, "...", 3);
			n += 3;
			break;
		}
		buf[n++] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f ||
		    s[i] == '"' || s[i] == '\\') ? '?' : s[i];
	}
	buf[n] = '\0';
	return buf;
}

const char *
access_uid(struct kms_req *r, const struct kmip_payload *p,
    struct kmip_item *rsp)
{
	const char	*uid = NULL;

	if (p->uid != NULL)
		uid = p->uid;
	else if (p->has & KMIP_P_UID_ENUM) {
		if (p->uid_enum != KMIP_UID_ID_PLACEHOLDER) {
			kmip_item_fail(rsp, r->version,
			    KMIP_REASON_INVALID_FIELD, "a Unique Identifier "
			    "given as enumeration 0x%X is not supported; kmsd "
			    "resolves only the ID Placeholder (0x1)",
			    p->uid_enum);
			return NULL;
		}
	} else if (p->has & KMIP_P_UID_INDEX) {
		kmip_item_fail(rsp, r->version, KMIP_REASON_INVALID_FIELD,
		    "a Unique Identifier given as an Integer is not "
		    "supported; send the identifier's text");
		return NULL;
	}
	if (uid == NULL && r->placeholder[0] != '\0')
		uid = r->placeholder;
	if (uid == NULL) {
		kmip_item_fail(rsp, r->version, KMIP_REASON_MISSING_DATA,
		    "the request names no Unique Identifier and no earlier "
		    "item of the batch set the ID Placeholder");
		return NULL;
	}
	access_clean(uid, r->uid, sizeof(r->uid));
	return uid;
}

int
access_owns(const struct kms_rec *rec, const char *subject)
{
	return strcmp(rec->owner, subject) == 0;
}

int
access_fetch(struct kms_req *r, const char *uid, struct kms_rec *rec,
    struct kmip_item *rsp)
{
	char	clean[KMS_UID_MAX + 8];

	if (store_get(r->k->store, uid, rec) != STORE_OK) {
		kmip_item_fail(rsp, r->version, KMIP_REASON_ITEM_NOT_FOUND,
		    "no object has the Unique Identifier %s",
		    access_clean(uid, clean, sizeof(clean)));
		return -1;
	}
	if (!access_owns(rec, r->c->subject)) {
		kmip_item_fail(rsp, r->version, KMIP_REASON_PERMISSION_DENIED,
		    "object %s belongs to another client identity", rec->uid);
		snprintf(r->note, sizeof(r->note), "not the owner");
		return -1;
	}
	return 0;
}

int
access_fail(struct kms_req *r, struct kmip_item *rsp, uint32_t reason,
    const char *fmt, ...)
{
	va_list	ap;
	char	msg[512];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	kmip_item_fail(rsp, r->version, reason, "%s", msg);
	return -1;
}

int
access_unwrap(struct kms_req *r, struct kmip_item *rsp,
    const struct kms_rec *rec, uint8_t key[KMS_KEY_MAX], size_t *keylen)
{
	if (store_unwrap(r->k->store, rec, key, keylen) == 0)
		return 0;
	return access_fail(r, rsp, KMIP_REASON_CRYPTOGRAPHIC_FAILURE,
	    "the stored key of object %s does not unwrap", rec->uid);
}

int
access_state_fail(struct kms_req *r, struct kmip_item *rsp,
    uint32_t reason_1x, const char *fmt, ...)
{
	va_list	ap;
	char	msg[256];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	kmip_item_fail(rsp, r->version, r->version >= KMIP_2_0 ?
	    KMIP_REASON_WRONG_KEY_LIFECYCLE_STATE : reason_1x, "%s", msg);
	return -1;
}

int
access_store_fail(struct kms_req *r, struct kmip_item *rsp, int rc,
    const char *uid)
{
	char	clean[KMS_UID_MAX + 8];

	switch (rc) {
	case STORE_OK:
		return 0;
	case STORE_REFUSED:
		return -1;	/* the change function failed rsp itself */
	case STORE_NOTFOUND:
		kmip_item_fail(rsp, r->version, KMIP_REASON_ITEM_NOT_FOUND,
		    "no object has the Unique Identifier %s",
		    access_clean(uid ? uid : "", clean, sizeof(clean)));
		return -1;
	case STORE_EXISTS:
		kmip_item_fail(rsp, r->version, KMIP_REASON_INVALID_FIELD,
		    "you already have a live object with that Name; names are "
		    "unique per client");
		return -1;
	default:
		kmip_item_fail(rsp, r->version, KMIP_REASON_GENERAL_FAILURE,
		    "kmsd could not write the object to its store (%s); "
		    "nothing was changed", strerror(errno));
		return -1;
	}
}

int
access_ok_uid(struct kmip_item *rsp, const char *uid)
{
	rsp->status = KMIP_STATUS_SUCCESS;
	rsp->has_payload = 1;
	if (kmip_set_str(&rsp->p.uid, uid) == -1) {
		kmip_item_fail(rsp, KMIP_1_0, KMIP_REASON_GENERAL_FAILURE,
		    "out of memory");
		return -1;
	}
	return 0;
}

uint32_t
access_state(const struct kms_rec *rec, int64_t now)
{
	uint32_t	s = rec->state;

	if (s == KMIP_STATE_PRE_ACTIVE && rec->activation_date != 0 &&
	    rec->activation_date <= now)
		s = KMIP_STATE_ACTIVE;
	if (s == KMIP_STATE_ACTIVE && rec->deactivation_date != 0 &&
	    rec->deactivation_date <= now)
		s = KMIP_STATE_DEACTIVATED;
	return s;
}

const char *
access_state_name(uint32_t state)
{
	static const char *const names[] = {
		"unknown", "Pre-Active", "Active", "Deactivated",
		"Compromised", "Destroyed", "Destroyed Compromised"
	};

	return state < sizeof(names) / sizeof(names[0]) ? names[state] :
	    names[0];
}
