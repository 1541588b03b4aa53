/*
 * reorder.h - a bounded reorder buffer for a backup job's chunks.
 *
 * With several data streams a job's chunks arrive on several connections,
 * so chunk i may come before chunk i-1.  The container stays sequential:
 * a chunk that comes early waits here, in a ring of cap places indexed by
 * its distance from the next index to write, until every chunk before it
 * was written.  The buffer holds opaque items (the MediaAgent's received
 * chunks); reorder_free releases the items left with the release callback
 * given to reorder_new.
 */
#ifndef KF_REORDER_H
#define KF_REORDER_H

#include <stddef.h>
#include <stdint.h>

struct reorder;

/* What reorder_put did with an item. */
enum reorder_rc {
	REORDER_KEPT,		/* held until its turn */
	REORDER_LATE,		/* its index was written already */
	REORDER_TOO_FAR,	/* beyond next + cap: over the bound */
	REORDER_DUPLICATE	/* an item with that index is waiting */
};

/* Room for cap items (1..65536); NULL on ENOMEM or a bad cap. */
struct reorder *reorder_new(size_t cap, void (*release)(void *));
/* Releases the items left, then the buffer; NULL is fine. */
void	 reorder_free(struct reorder **);
/*
 * Keep item for index; next is the index the writer waits for.  Only on
 * REORDER_KEPT does the buffer own the item.
 */
enum reorder_rc reorder_put(struct reorder *, uint64_t next, uint64_t index,
	    void *item);
/* The item waiting for index next, removed, or NULL. */
void	*reorder_take(struct reorder *, uint64_t next);
/* Items waiting. */
size_t	 reorder_count(const struct reorder *);
/* Most items ever waiting at once. */
size_t	 reorder_peak(const struct reorder *);

#endif
