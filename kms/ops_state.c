/*
 * ops_state.c - the KMIP lifecycle (KMIP 1.2 section 3.22) and Locate.
 *
 *	Pre-Active --Activate--> Active --Revoke (other reason)--> Deactivated
 *	any live state --Revoke (key or CA compromise)--> Compromised
 *	Pre-Active, Deactivated --Destroy--> Destroyed
 *	Compromised --Destroy--> Destroyed Compromised
 *	Destroyed --Revoke (compromise)--> Destroyed Compromised
 *
 * A refused transition answers Wrong Key Lifecycle State in KMIP 2.0 and,
 * in 1.x, Permission Denied for Activate and Destroy (KMIP 1.2 section 11)
 * and Illegal Operation for a Revoke that is not about a compromise.
 * Each change runs inside store_change(), so it is checked against the
 * object as it is at that moment and written durably before the answer.
 * Destroy wipes the wrapped key from memory and from disk and keeps the
 * metadata.
 *
 * Locate returns the caller's own objects that match every attribute
 * given (Name, Object Type, State, algorithm, length, usage mask bits,
 * Unique Identifier), in creation order, honouring Offset Items, Maximum
 * Items and Storage Status Mask; destroyed objects only when a State asks
 * for them.  A filter on an attribute kmsd does not keep matches nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kms.h"
#include "log.h"

/* Locate filters kmsd evaluates; others it refuses or never matches. */
#define LOCATE_ATTRS	(KMIP_A_UID | KMIP_A_NAME | KMIP_A_OBJECT_TYPE | \
	KMIP_A_ALG | KMIP_A_LENGTH | KMIP_A_USAGE_MASK | KMIP_A_STATE)

/* What a change function needs to check and apply one transition. */
struct change {
	struct kms_req		*r;	/* the request */
	struct kmip_item	*rsp;	/* failed on refusal */
	int64_t			 now;	/* time of the change */
	uint32_t		 code;	/* Revoke: Revocation Reason Code */
	int64_t			 occurred; /* Revoke: compromise occurrence */
};

/* The common start of a change: ownership, then the current state. */
static int
change_begin(struct change *ch, struct kms_rec *rec)
{
	if (!access_owns(rec, ch->r->c->subject)) {
		snprintf(ch->r->note, sizeof(ch->r->note), "not the owner");
		return access_fail(ch->r, ch->rsp,
		    KMIP_REASON_PERMISSION_DENIED, "object %s belongs to "
		    "another client identity", rec->uid);
	}
	rec->state = access_state(rec, ch->now);
	return 0;
}

static int
destroyed(uint32_t state)
{
	return state == KMIP_STATE_DESTROYED ||
	    state == KMIP_STATE_DESTROYED_COMPROMISED;
}

static int
activate_fn(struct kms_rec *rec, void *arg)
{
	struct change	*ch = arg;

	if (change_begin(ch, rec) == -1)
		return -1;
	if (rec->state != KMIP_STATE_PRE_ACTIVE)
		return access_state_fail(ch->r, ch->rsp,
		    KMIP_REASON_PERMISSION_DENIED, "object %s is %s; only a "
		    "Pre-Active object can be activated", rec->uid,
		    access_state_name(rec->state));
	rec->state = KMIP_STATE_ACTIVE;
	rec->activation_date = ch->now;
	rec->last_change_date = ch->now;
	return 0;
}

static int
revoke_fn(struct kms_rec *rec, void *arg)
{
	struct change	*ch = arg;

	if (change_begin(ch, rec) == -1)
		return -1;
	if (ch->code == KMIP_REVOKE_KEY_COMPROMISE ||
	    ch->code == KMIP_REVOKE_CA_COMPROMISE) {
		if (rec->state != KMIP_STATE_COMPROMISED &&
		    rec->state != KMIP_STATE_DESTROYED_COMPROMISED)
			rec->compromise_date = ch->now;
		rec->state = destroyed(rec->state) ?
		    KMIP_STATE_DESTROYED_COMPROMISED : KMIP_STATE_COMPROMISED;
		rec->compromise_occurrence_date = ch->occurred;
	} else {
		if (rec->state != KMIP_STATE_ACTIVE)
			return access_state_fail(ch->r, ch->rsp,
			    KMIP_REASON_ILLEGAL_OPERATION, "object %s is %s; "
			    "only an Active object can be revoked for a reason "
			    "other than a compromise", rec->uid,
			    access_state_name(rec->state));
		rec->state = KMIP_STATE_DEACTIVATED;
		rec->deactivation_date = ch->now;
	}
	rec->revoke_code = ch->code;
	rec->last_change_date = ch->now;
	return 0;
}

static int
destroy_fn(struct kms_rec *rec, void *arg)
{
	struct change	*ch = arg;

	if (change_begin(ch, rec) == -1)
		return -1;
	if (destroyed(rec->state))
		return access_fail(ch->r, ch->rsp,
		    KMIP_REASON_OBJECT_DESTROYED, "object %s is already "
		    "destroyed", rec->uid);
	if (rec->state == KMIP_STATE_ACTIVE)
		return access_state_fail(ch->r, ch->rsp,
		    KMIP_REASON_PERMISSION_DENIED, "object %s is Active; "
		    "revoke it before destroying it", rec->uid);
	rec->state = rec->state == KMIP_STATE_COMPROMISED ?
	    KMIP_STATE_DESTROYED_COMPROMISED : KMIP_STATE_DESTROYED;
	crypto_wipe(rec->blob, sizeof(rec->blob));
	rec->bloblen = 0;
	rec->destroy_date = ch->now;
	rec->last_change_date = ch->now;
	return 0;
}

/* Run fn on the item's object and answer with its identifier. */
static int
change(struct kms_req *r, const struct kmip_item *req, struct kmip_item *rsp,
    store_change_fn fn, struct change *ch)
{
	struct kms_rec	 rec;
	const char	*uid;
	int		 rc;

	if ((uid = access_uid(r, &req->p, rsp)) == NULL)
		return -1;
	ch->r = r;
	ch->rsp = rsp;
	ch->now = (int64_t)time(NULL);
	rc = store_change(r->k->store, uid, fn, ch, &rec);
	if (rc != STORE_OK)
		return access_store_fail(r, rsp, rc, uid);
	snprintf(r->note, sizeof(r->note), "state=%s",
	    access_state_name(rec.state));
	return access_ok_uid(rsp, rec.uid);
}

int
op_activate(struct kms_req *r, const struct kmip_item *req,
    struct kmip_item *rsp)
{
	struct change	ch;

	memset(&ch, 0, sizeof(ch));
	return change(r, req, rsp, activate_fn, &ch);
}

int
op_revoke(struct kms_req *r, const struct kmip_item *req,
    struct kmip_item *rsp)
{
	const struct kmip_payload	*p = &req->p;
	struct change			 ch;

	memset(&ch, 0, sizeof(ch));
	if (p->revoke_code < KMIP_REVOKE_UNSPECIFIED ||
	    (p->revoke_code > KMIP_REVOKE_PRIVILEGE_WITHDRAWN &&
	    (p->revoke_code & 0xf0000000) != 0x80000000))
		return access_fail(r, rsp, KMIP_REASON_INVALID_FIELD,
		    "Revocation Reason Code 0x%X is not a KMIP reason",
		    p->revoke_code);
	ch.code = p->revoke_code;
	/* Tolerant: a compromise without its date happened just now. */
	ch.occurred = (p->has & KMIP_P_COMPROMISE_DATE) ? p->compromise_date :
	    (int64_t)time(NULL);
	return change(r, req, rsp, revoke_fn, &ch);
}

int
op_destroy(struct kms_req *r, const struct kmip_item *req,
    struct kmip_item *rsp)
{
	struct change	ch;

	memset(&ch, 0, sizeof(ch));
	return change(r, req, rsp, destroy_fn, &ch);
}

/* A Locate in progress: the filter and the paging. */
struct locate {
	const char		*subject; /* only the caller's objects */
	const struct kmip_attrs	*a;	/* every given attribute must match */
	int64_t			 now;	/* for the current state */
	size_t			 skip;	/* Offset Items */
	size_t			 max;	/* Maximum Items */
	size_t			 matched; /* objects that matched */
	size_t			 taken;	/* of those, returned */
};

static int
locate_match(const struct kms_rec *rec, void *arg)
{
	struct locate		*l = arg;
	const struct kmip_attrs	*a = l->a;
	uint32_t		 st;

	if (!access_owns(rec, l->subject))
		return 0;
	st = access_state(rec, l->now);
	if ((a->has & KMIP_A_STATE) ? st != a->state : destroyed(st))
		return 0;
	if (((a->has & KMIP_A_NAME) && strcmp(rec->name, a->name) != 0) ||
	    ((a->has & KMIP_A_UID) && strcmp(rec->uid, a->uid) != 0) ||
	    ((a->has & KMIP_A_OBJECT_TYPE) &&
	    rec->object_type != a->object_type) ||
	    ((a->has & KMIP_A_ALG) && rec->alg != a->alg) ||
	    ((a->has & KMIP_A_LENGTH) && rec->length != a->length) ||
	    ((a->has & KMIP_A_USAGE_MASK) &&
	    (rec->usage_mask & a->usage_mask) != a->usage_mask))
		return 0;
	if (++l->matched <= l->skip || l->taken >= l->max)
		return 0;
	l->taken++;
	return 1;
}

int
op_locate(struct kms_req *r, const struct kmip_item *req,
    struct kmip_item *rsp)
{
	const struct kmip_payload	*p = &req->p;
	struct kmip_payload		*o = &rsp->p;
	struct locate			 l;
	char				(*uids)[KMS_UID_MAX] = NULL;
	size_t				 n = 0, i;

	memset(&l, 0, sizeof(l));
	l.subject = r->c->subject;
	l.a = &p->attrs;
	l.now = (int64_t)time(NULL);
	l.max = KMS_LOCATE_MAX;
	if (((p->has & KMIP_P_MAX_ITEMS) && p->max_items < 0) ||
	    ((p->has & KMIP_P_OFFSET_ITEMS) && p->offset_items < 0))
		return access_fail(r, rsp, KMIP_REASON_INVALID_FIELD,
		    "Maximum Items and Offset Items cannot be negative");
	if ((p->has & KMIP_P_MAX_ITEMS) && (size_t)p->max_items < l.max)
		l.max = (size_t)p->max_items;
	if (p->has & KMIP_P_OFFSET_ITEMS)
		l.skip = (size_t)p->offset_items;
	if (p->attrs.has & ~(uint64_t)LOCATE_ATTRS)
		return access_fail(r, rsp, KMIP_REASON_FEATURE_NOT_SUPPORTED,
		    "kmsd locates by Name, Object Type, State, Cryptographic "
		    "Algorithm, Length and Usage Mask, and Unique Identifier; "
		    "not by dates, parameters or groups");
	rsp->status = KMIP_STATUS_SUCCESS;
	rsp->has_payload = 1;
	/* Attributes kmsd does not keep, and archived objects: none match. */
	if (p->attrs.unsupported == NULL && p->attrs.ncustom == 0 &&
	    (!(p->has & KMIP_P_STORAGE_MASK) ||
	    (p->storage_mask & KMIP_STORAGE_ONLINE)) &&
	    store_find(r->k->store, locate_match, &l, &uids, &n,
	    KMS_LOCATE_MAX) == -1)
		return access_fail(r, rsp, KMIP_REASON_GENERAL_FAILURE,
		    "out of memory");
	if (n > 0 && (o->uids = calloc(n, sizeof(*o->uids))) == NULL)
		goto oom;
	for (i = 0; i < n; i++) {
		if ((o->uids[i] = strdup(uids[i])) == NULL)
			goto oom;
		o->nuids++;
	}
	if (r->version >= KMIP_1_3) {
		o->has |= KMIP_P_LOCATED_ITEMS;
		o->located_items = (int32_t)(l.matched > INT32_MAX ?
		    INT32_MAX : l.matched);
	}
	if (n > 0)
		memcpy(r->placeholder, uids[0], sizeof(r->placeholder));
	snprintf(r->note, sizeof(r->note), "found=%zu", n);
	free(uids);
	return 0;
 oom:
	free(uids);
	return access_fail(r, rsp, KMIP_REASON_GENERAL_FAILURE,
	    "out of memory");
}
