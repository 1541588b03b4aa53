/*
 * ops_meta.c - what kmsd says about itself: Discover Versions, Query, and
 * the protocol versions it speaks.
 *
 * kmsd speaks KMIP 2.0, 1.4, 1.3, 1.2, 1.1 and 1.0, preferred in that
 * order, and answers each request in the request's own version.  A
 * request in a version it does not speak is answered in the closest
 * version below it (2.0 for 2.1 or 3.x, 1.4 for 1.5, 1.0 below 1.0): its
 * Discover Versions is served, so a client can negotiate, and anything
 * else is refused as Unsupported Protocol Version (Invalid Message in
 * 1.x).  Query lists the operations the request's version can name and the
 * one object type kmsd keeps.
 */
#include <stdlib.h>
#include <string.h>

#include "kms.h"

#define VENDOR	"keyflow kmsd"

/* Preference order, which Discover Versions reports. */
static const uint32_t versions[] = {
	KMIP_2_0, KMIP_1_4, KMIP_1_3, KMIP_1_2, KMIP_1_1, KMIP_1_0
};
#define NVERSIONS	(sizeof(versions) / sizeof(versions[0]))

int
meta_version_supported(uint32_t version)
{
	size_t	i;

	for (i = 0; i < NVERSIONS; i++)
		if (versions[i] == version)
			return 1;
	return 0;
}

uint32_t
meta_version_answer(uint32_t version)
{
	size_t	i;

	/* versions[] is sorted from the highest down. */
	for (i = 0; i < NVERSIONS; i++)
		if (versions[i] <= version)
			return versions[i];
	return KMIP_1_0;
}

const char *
meta_versions_str(void)
{
	return "2.0, 1.4, 1.3, 1.2, 1.1 and 1.0";
}

int
op_discover_versions(struct kms_req *r, const struct kmip_item *req,
    struct kmip_item *rsp)
{
	const struct kmip_payload	*p = &req->p;
	uint32_t			*v;
	size_t				 i, j, n = 0;

	if ((v = calloc(NVERSIONS, sizeof(*v))) == NULL)
		return access_fail(r, rsp, KMIP_REASON_GENERAL_FAILURE,
		    "out of memory");
	for (i = 0; i < NVERSIONS; i++) {
		if (p->nversions == 0) {
			v[n++] = versions[i];
			continue;
		}
		for (j = 0; j < p->nversions; j++)
			if (p->versions[j] == versions[i]) {
				v[n++] = versions[i];
				break;
			}
	}
	rsp->status = KMIP_STATUS_SUCCESS;
	rsp->has_payload = 1;
	if (n == 0)
		free(v);
	else {
		rsp->p.versions = v;
		rsp->p.nversions = n;
	}
	return 0;
}

int
op_query(struct kms_req *r, const struct kmip_item *req,
    struct kmip_item *rsp)
{
	const struct kmip_payload	*p = &req->p;
	struct kmip_payload		*o = &rsp->p;
	size_t				 i;

	rsp->status = KMIP_STATUS_SUCCESS;
	rsp->has_payload = 1;
	for (i = 0; i < p->nfuncs; i++) {
		switch (p->funcs[i]) {
		case KMIP_QUERY_OPERATIONS:
			if (o->ops != NULL)
				break;
			if ((o->ops = calloc(32, sizeof(*o->ops))) == NULL)
				goto oom;
			o->nops = dispatch_ops(r->version, o->ops, 32);
			break;
		case KMIP_QUERY_OBJECTS:
			if (o->objtypes != NULL)
				break;
			if ((o->objtypes = calloc(1, sizeof(*o->objtypes))) ==
			    NULL)
				goto oom;
			o->objtypes[0] = KMIP_OBJ_SYMMETRIC_KEY;
			o->nobjtypes = 1;
			break;
		case KMIP_QUERY_SERVER_INFO:
			if (o->vendor == NULL &&
			    kmip_set_str(&o->vendor, VENDOR) == -1)
				goto oom;
			break;
		default:
			break;	/* nothing to report for the others */
		}
	}
	return 0;
 oom:
	return access_fail(r, rsp, KMIP_REASON_GENERAL_FAILURE,
	    "out of memory");
}
