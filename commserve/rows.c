/*
 * rows.c - rows copied out of database callbacks, and the arrays a list
 * reply is built from.  Every list handler (pools, clients, MediaAgents,
 * KMS servers, jobs, trace events) uses these instead of its own copy.
 */
#include <stdlib.h>
#include <string.h>

#include "commserve.h"
#include "conf.h"

void
rows_push(struct rows *r, const void *elem)
{
	void	*nv;

	if (r->oom)
		return;
	if (r->n == r->cap) {
		if ((nv = reallocarray(r->v, r->cap * 2 + 16, r->size)) ==
		    NULL) {
			r->oom = 1;
			return;
		}
		r->v = nv;
		r->cap = r->cap * 2 + 16;
	}
	memcpy((char *)r->v + r->n * r->size, elem, r->size);
	r->n++;
}

void *
rows_at(const struct rows *r, size_t i)
{
	return (char *)r->v + i * r->size;
}

/*
 * The reply's messages (n of msgsize bytes) and the pointer array a
 * protobuf-c repeated field wants.  -1 when out of memory (or if a push
 * failed earlier).
 */
int
rows_reply_arrays(struct rows *r, size_t msgsize, void **msgs, void ***ptrs)
{
	size_t	i;

	*msgs = NULL;
	*ptrs = NULL;
	if (r->oom)
		return -1;
	if (r->n == 0)
		return 0;
	if ((*msgs = calloc(r->n, msgsize)) == NULL ||
	    (*ptrs = calloc(r->n, sizeof(void *))) == NULL) {
		free(*msgs);
		*msgs = NULL;
		return -1;
	}
	for (i = 0; i < r->n; i++)
		(*ptrs)[i] = (char *)*msgs + i * msgsize;
	return 0;
}

void
rows_free(struct rows *r)
{
	free(r->v);
	r->v = NULL;
	r->n = r->cap = 0;
}

int
cs_name_valid(const char *s)
{
	return conf_name_valid(s, CS_NAME_MAX);
}
