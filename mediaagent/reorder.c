/*
 * reorder.c - the bounded reorder buffer of a multi-stream backup job
 * (see reorder.h).  A ring of cap places: index i waits at place
 * i % cap, which is free for it as long as next <= i < next + cap, since
 * every index below next has left the buffer.
 */
#include <stdlib.h>

#include "reorder.h"

#define REORDER_CAP_MAX	65536	/* places at most */

struct reorder {
	void		**item;		/* cap places; NULL is free */
	uint64_t	 *index;	/* the index waiting at each place */
	size_t		  cap;		/* places */
	size_t		  count;	/* places used */
	size_t		  peak;		/* most places used at once */
	void		(*release)(void *); /* frees an item left over */
};

struct reorder *
reorder_new(size_t cap, void (*release)(void *))
{
	struct reorder	*r;

	if (cap == 0 || cap > REORDER_CAP_MAX || release == NULL)
		return NULL;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->cap = cap;
	r->release = release;
	if ((r->item = calloc(cap, sizeof(*r->item))) == NULL ||
	    (r->index = calloc(cap, sizeof(*r->index))) == NULL) {
		reorder_free(&r);
		return NULL;
	}
	return r;
}

void
reorder_free(struct reorder **rp)
{
	struct reorder	*r;
	size_t		 i;

	if (rp == NULL || (r = *rp) == NULL)
		return;
	if (r->item != NULL)
		for (i = 0; i < r->cap; i++)
			if (r->item[i] != NULL)
				r->release(r->item[i]);
	free(r->item);
	free(r->index);
	free(r);
	*rp = NULL;
}

enum reorder_rc
reorder_put(struct reorder *r, uint64_t next, uint64_t index, void *item)
{
	size_t	at;

	if (index < next)
		return REORDER_LATE;
	if (index - next >= r->cap)
		return REORDER_TOO_FAR;
	at = (size_t)(index % r->cap);
	if (r->item[at] != NULL)
		return REORDER_DUPLICATE;
	r->item[at] = item;
	r->index[at] = index;
	if (++r->count > r->peak)
		r->peak = r->count;
	return REORDER_KEPT;
}

void *
reorder_take(struct reorder *r, uint64_t next)
{
	size_t	 at = (size_t)(next % r->cap);
	void	*item;

	if ((item = r->item[at]) == NULL || r->index[at] != next)
		return NULL;
	r->item[at] = NULL;
	r->count--;
	return item;
}

size_t
reorder_count(const struct reorder *r)
{
	return r->count;
}

size_t
reorder_peak(const struct reorder *r)
{
	return r->peak;
}
