/*
 * kms_kmip.c - the KMIP backend: master keys on any KMIP key management
 * server (kmsd, PyKMIP's server, a commercial one).
 *
 * Seed pool step 2 is a KMIP Create of an AES-256 key (usage Encrypt and
 * Decrypt, a Name that says which pool it protects) followed by Activate;
 * step 3 is a KMIP Encrypt of the KEK under that key's Unique Identifier:
 * AES-256-GCM with a 16-byte tag and AAD = keys_kek_aad(key set) where the
 * negotiated version is 1.4 or later, AES-256-CBC with PKCS#5 padding
 * before that (GCM's tag and AAD only travel from 1.4 on).  CommServe keeps
 * the key's identifier, the ciphertext, the IV the server chose and the
 * tag.  Restore step 2 is a KMIP Get of the key's raw material.  CommServe
 * traces each step with the requests it made and the answers it got, since
 * a third-party KMS reports nothing to us.  If step 3 fails after step 2
 * made a key, the key is revoked and destroyed again (best effort, logged),
 * so a failed pool creation leaves nothing behind on the KMS either.
 *
 * Each call opens its own connection (pool creation and restores are rare)
 * and closes it before returning.  Fetching a master key (a restore, or a
 * backup whose KEK is not cached) retries the connection a few times when
 * the KMS does not answer at all, so a KMS that is restarting does not fail
 * the job; see kmip_connect_retry.  The trace id travels as the Client
 * Correlation Value when the KMS row says so (kmsd shows its own steps in
 * the trace; PyKMIP refuses the field).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commserve.h"
#include "kmip/client.h"
#include "log.h"
#include "util.h"

/*
 * Retrying a KMS that does not answer.  commserved serves every peer from
 * one single-threaded loop, so whatever a retry waits stalls all of
 * CommServe: the whole sequence is bounded.  At most KMS_ATTEMPTS
 * connections, each with a TCP + TLS bound of KMS_RETRY_CONNECT_MS, the
 * pauses of kms_retry_pause_ms between them, and no new attempt that could
 * end after KMS_RETRY_BUDGET_MS: 3 x 1.2 s + 0.2 s + 0.8 s = 4.6 s at worst
 * (about 1 s when the KMS refuses connections outright).  A KMS that
 * takes the connection but never answers Discover Versions costs one read
 * timeout (KMIP_CLIENT_READ_MS), after which the budget allows no retry.
 * Only the connection is retried, before anything is asked of the KMS, so no
 * request is ever sent twice.
 */
#define KMS_ATTEMPTS		3	/* connections tried at most */
#define KMS_RETRY_CONNECT_MS	1200	/* TCP + TLS bound of each */
#define KMS_RETRY_BUDGET_MS	5000	/* no attempt may end later */

static const int kms_retry_pause_ms[KMS_ATTEMPTS - 1] = { 200, 800 };

/* A client for kms; connect_ms 0 is the client's default bound. */
static struct kmip_client *
kmip_open_with(const struct db_kms *kms, int connect_ms, char *err,
    size_t errcap)
{
	struct kmip_client_conf	cf;

	memset(&cf, 0, sizeof(cf));
	cf.address = kms->address;
	cf.ca = kms->ca;
	cf.cert = kms->cert;
	cf.key = kms->key;
	cf.send_correlation = kms->send_correlation;
	cf.connect_ms = connect_ms;
	return kmip_client_new(&cf, err, errcap);
}

struct kmip_client *
kms_kmip_open(const struct db_kms *kms, char *err, size_t errcap)
{
	return kmip_open_with(kms, 0, err, errcap);
}

static void
kmip_pause_ms(int ms)
{
	struct timespec	ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/*
 * A client of kms, connected and with its protocol version negotiated, or
 * NULL with a sentence in err.  A failure in which the server never
 * answered in KMIP (kmip_client_reason() is 0: connection refused or
 * reset, no answer in time, no TLS session) is worth another attempt: the
 * KMS may be restarting.  A KMIP refusal (Permission Denied and the like)
 * is the server's answer and final, as is a configuration we cannot load.
 */
static struct kmip_client *
kmip_connect_retry(const struct db_kms *kms, char *err, size_t errcap)
{
	struct kmip_client	*c;
	int64_t			 t0 = util_mono_ms(), spent;
	size_t			 n;
	int			 i, final;

	if ((c = kmip_open_with(kms, KMS_RETRY_CONNECT_MS, err, errcap)) ==
	    NULL)
		return NULL;
	for (i = 0;; i++) {
		if (kmip_client_connect(c) == 0) {
			if (i > 0)
				log_info("KMS %s: connected at attempt %d of "
				    "%d", kms->name, i + 1, KMS_ATTEMPTS);
			return c;
		}
		snprintf(err, errcap, "%s", kmip_client_error(c));
		final = kmip_client_reason(c) != 0;
		kmip_client_disconnect(c);
		spent = util_mono_ms() - t0;
		final = final || i + 1 == KMS_ATTEMPTS ||
		    spent + kms_retry_pause_ms[i] + KMS_RETRY_CONNECT_MS >
		    KMS_RETRY_BUDGET_MS;
		if (final)
			break;
		log_warnx("KMS %s: attempt %d of %d failed after %lld ms, "
		    "retrying in %d ms: %s", kms->name, i + 1, KMS_ATTEMPTS,
		    (long long)spent, kms_retry_pause_ms[i], err);
		kmip_pause_ms(kms_retry_pause_ms[i]);
	}
	log_warnx("KMS %s: attempt %d of %d failed after %lld ms, giving up: "
	    "%s", kms->name, i + 1, KMS_ATTEMPTS, (long long)spent, err);
	if (i > 0) {
		n = strlen(err);
		snprintf(err + n, errcap - n, " (%d attempts over %lld ms)",
		    i + 1, (long long)spent);
	}
	kmip_client_free(&c);
	return NULL;
}

/* The client's error, with a hint when the correlation value may be it. */
static void
kmip_error(struct kmip_client *c, const struct db_kms *kms, char *err,
    size_t errcap)
{
	int	hint = kms->send_correlation &&
	    kmip_client_version(c) >= KMIP_1_4 &&
	    kmip_client_reason(c) == KMIP_REASON_INVALID_MESSAGE;

	snprintf(err, errcap, "%s%s", kmip_client_error(c), hint ? " (some "
	    "servers, PyKMIP's among them, refuse the Client Correlation "
	    "Value: register this KMS again with --no-correlation)" : "");
}

/*
 * Best effort: take a key we made out of existence again.  Destroy works
 * on a Pre-Active key; an Active one must be revoked first.
 */
static void
kmip_discard(struct kmip_client *c, const struct db_kms *kms,
    const char *trace_id, const char *uid, char *what, size_t cap)
{
	int	revoked = 0;

	if (kmip_client_destroy(c, uid, trace_id) == -1) {
		revoked = kmip_client_revoke(c, uid, KMIP_REVOKE_CESSATION,
		    trace_id) == 0;
		if (kmip_client_destroy(c, uid, trace_id) == -1) {
			log_warnx("KMS %s: cannot destroy master key %s left "
			    "by a failed pool creation: %s", kms->name, uid,
			    kmip_client_error(c));
			snprintf(what, cap, "; master key %s could not be "
			    "destroyed on the KMS (see CommServe's log)", uid);
			return;
		}
	}
	log_info("KMS %s: %sdestroyed master key %s of a failed pool "
	    "creation", kms->name, revoked ? "revoked and " : "", uid);
	snprintf(what, cap, "; master key %s was %sdestroyed on the KMS", uid,
	    revoked ? "revoked and " : "");
}

/* A Unique Identifier fits key_sets.master_key_id and prints cleanly. */
static int
kmip_uid_storable(const char *uid)
{
	size_t	i, n = strlen(uid);

	if (n == 0 || n >= sizeof(((struct kms_wrapped_kek *)0)->key_id))
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)uid[i] < 0x20 || uid[i] == 0x7f)
			return 0;
	return 1;
}

/* Seed pool step 2: the KMS generates the master key (Create, Activate). */
static int
kmip_create_master(struct cs *cs, const struct db_kms *kms,
    const char *trace_id, const char *label, int64_t key_set_id,
    struct kms_wrapped_kek *out, char *err, size_t errcap)
{
	struct kmip_client	*c;
	char			*uid = NULL, vs[16], gone[256];
	int			 rc = -1;

	(void)key_set_id;
	if ((c = kms_kmip_open(kms, err, errcap)) == NULL)
		return -1;
	if (kmip_client_create_aes(c, 256, label, KMIP_USAGE_ENCRYPT |
	    KMIP_USAGE_DECRYPT, trace_id, &uid) == -1) {
		kmip_error(c, kms, err, errcap);
		goto done;
	}
	if (!kmip_uid_storable(uid)) {
		kmip_discard(c, kms, trace_id, uid, gone, sizeof(gone));
		snprintf(err, errcap, "the KMS named its key with a Unique "
		    "Identifier CommServe cannot store (%zu bytes; at most "
		    "%zu printable ones)%s", strlen(uid),
		    sizeof(out->key_id) - 1, gone);
		goto done;
	}
	if (kmip_client_activate(c, uid, trace_id) == -1) {
		kmip_error(c, kms, err, errcap);
		kmip_discard(c, kms, trace_id, uid, gone, sizeof(gone));
		snprintf(err + strlen(err), errcap - strlen(err), "%s", gone);
		goto done;
	}
	snprintf(out->key_id, sizeof(out->key_id), "%s", uid);
	trace_step(cs->trace, trace_id, "pool", 2, kms->name, 0, "asked KMS "
	    "%s (KMIP %s at %s) to Create an AES-256 key named \"%s\" with "
	    "usage Encrypt|Decrypt, then to Activate it; the KMS generated "
	    "master key %s and made it Active", kms->name,
	    kmip_ver_str(kmip_client_version(c), vs, sizeof(vs)),
	    kms->address, label, uid);
	rc = 0;
 done:
	free(uid);
	kmip_client_free(&c);
	return rc;
}

/* Copy an Encrypt answer into w, within what the database holds. */
static int
kmip_store_result(const struct kmip_ciphertext *ct, struct kms_wrapped_kek *w)
{
	int	gcm = ct->mode == KMIP_MODE_GCM;

	if (ct->len != (gcm ? KF_KEY_LEN : KF_KEY_LEN + 16) ||
	    ct->ivlen == 0 || ct->ivlen > KF_GCM_IV_MAX ||
	    ct->ivlen > sizeof(w->iv.data) || (!gcm && ct->ivlen !=
	    KF_CBC_IV_LEN) || ct->taglen != (gcm ? KF_TAG_LEN : 0))
		return -1;
	snprintf(w->mode, sizeof(w->mode), "%s", gcm ? "GCM" : "CBC");
	memcpy(w->ct.data, ct->data, ct->len);
	w->ct.len = ct->len;
	memcpy(w->iv.data, ct->iv, ct->ivlen);
	w->iv.len = ct->ivlen;
	memcpy(w->tag.data, ct->tag, ct->taglen);
	w->tag.len = ct->taglen;
	return 0;
}

/* Seed pool step 3: the KMS encrypts the KEK with the master key. */
static int
kmip_encrypt_kek(struct cs *cs, const struct db_kms *kms,
    const char *trace_id, int64_t key_set_id, const uint8_t kek[KF_KEY_LEN],
    struct kms_wrapped_kek *w, char *err, size_t errcap)
{
	struct kmip_client	*c;
	struct kmip_ciphertext	 ct;
	uint8_t			 aad[32];
	size_t			 aadlen, n;
	char			 gone[256], vs[16];
	int			 rc = -1;

	memset(&ct, 0, sizeof(ct));
	if ((c = kms_kmip_open(kms, err, errcap)) == NULL)
		return -1;
	keys_kek_aad(key_set_id, aad, &aadlen);
	if (kmip_client_encrypt(c, w->key_id, aad, aadlen, kek, KF_KEY_LEN,
	    trace_id, &ct) == -1)
		kmip_error(c, kms, err, errcap);
	else if (kmip_store_result(&ct, w) == -1)
		snprintf(err, errcap, "KMIP server %s: the encrypted KEK "
		    "(%zu bytes, %zu-byte IV, %zu-byte tag) does not fit what "
		    "CommServe stores", kms->address, ct.len, ct.ivlen,
		    ct.taglen);
	else
		rc = 0;
	if (rc == -1) {
		/* Nothing half-made: the master key of step 2 goes again. */
		kmip_discard(c, kms, trace_id, w->key_id, gone, sizeof(gone));
		n = strlen(err);
		snprintf(err + n, errcap - n, "%s", gone);
		goto done;
	}
	trace_step(cs->trace, trace_id, "pool", 3, kms->name, KF_KEY_LEN,
	    "sent the KEK to KMS %s in a KMIP %s Encrypt with master key %s "
	    "(AES-256-%s%s, Random IV); the KMS returned the encrypted KEK "
	    "(%zu bytes), the %zu-byte IV it chose%s", kms->name,
	    kmip_ver_str(kmip_client_version(c), vs, sizeof(vs)), w->key_id,
	    w->mode, ct.mode == KMIP_MODE_GCM ? ", 128-bit tag, AAD = key set "
	    "id" : " with PKCS#5 padding", ct.len, ct.ivlen,
	    ct.mode == KMIP_MODE_GCM ? " and the tag" : "");
 done:
	crypto_wipe(&ct, sizeof(ct));
	kmip_client_free(&c);
	return rc;
}

/*
 * Seed restore step 2, the KMS's side: KMIP Get of the master key (also
 * how a backup without a cached KEK gets it), the connection retried.
 */
static int
kmip_get_master(struct cs *cs, const struct db_kms *kms,
    const char *trace_id, const struct db_key_set *ks,
    uint8_t mk[KF_KEY_LEN], char *err, size_t errcap)
{
	struct kmip_client	*c;
	size_t			 n = 0;
	int			 rc = -1;

	(void)cs;
	if ((c = kmip_connect_retry(kms, err, errcap)) == NULL)
		return -1;
	if (kmip_client_get_key(c, ks->master_key_id, trace_id, mk,
	    KF_KEY_LEN, &n) == -1)
		kmip_error(c, kms, err, errcap);
	else if (n != KF_KEY_LEN)
		snprintf(err, errcap, "KMIP server %s: master key %s has %zu "
		    "bytes, not the %d of an AES-256 key", kms->address,
		    ks->master_key_id, n, KF_KEY_LEN);
	else
		rc = 0;
	if (rc == -1)
		crypto_wipe(mk, KF_KEY_LEN);
	kmip_client_free(&c);
	return rc;
}

/* The pool could not be stored after steps 2 and 3: drop its key. */
static void
kmip_discard_master(struct cs *cs, const struct db_kms *kms,
    const char *trace_id, const char *key_id, char *what, size_t cap)
{
	struct kmip_client	*c;
	char			 err[256];

	(void)cs;
	if ((c = kms_kmip_open(kms, err, sizeof(err))) == NULL) {
		snprintf(what, cap, "; master key %s could not be destroyed "
		    "on the KMS: %s", key_id, err);
		return;
	}
	kmip_discard(c, kms, trace_id, key_id, what, cap);
	kmip_client_free(&c);
}

const struct kms_backend kms_kmip = {
	.kind = "kmip",
	.create_master = kmip_create_master,
	.encrypt_kek = kmip_encrypt_kek,
	.get_master = kmip_get_master,
	.discard_master = kmip_discard_master,
};
