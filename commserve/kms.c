/*
 * kms.c - choosing the KMS backend of a key set.
 *
 * A key set names the KMS that holds its master key; the backend is the
 * code that speaks to that kind of KMS.  The built-in KMS lives inside
 * CommServe (kms_builtin.c); KMIP servers arrive with kms_kmip.c.
 */
#include <string.h>

#include "commserve.h"

static const struct kms_backend *const backends[] = {
	&kms_builtin,
	&kms_kmip,
};

const struct kms_backend *
kms_backend_for(const struct db_kms *kms)
{
	size_t	i;

	for (i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		if (strcmp(backends[i]->kind, kms->kind) == 0)
			return backends[i];
	return NULL;
}
