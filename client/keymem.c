/*
 * keymem.c - memory for key material: the network password, the network
 * key and each job's DEK and token.
 *
 * Each allocation is its own anonymous mapping, locked in RAM where the
 * limits allow (so it never reaches swap), left out of core dumps, and wiped
 * before it is unmapped.  A mapping per secret, rather than mlock on malloc'd
 * memory, keeps munlock of one secret from unlocking a neighbour's page.
 */
#include <sys/mman.h>

#include <stddef.h>

#include "client.h"
#include "crypto.h"
#include "log.h"

static int	keymem_warned;	/* mlock failure was logged once */

void *
keymem_new(size_t len)
{
	void	*p;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		log_warn("mmap of %zu bytes for key material", len);
		return NULL;
	}
	if (mlock(p, len) == -1 && !keymem_warned) {
		keymem_warned = 1;
		log_warn("mlock (keys may reach swap; raise RLIMIT_MEMLOCK)");
	}
	(void)madvise(p, len, MADV_DONTDUMP);
	return p;
}

/* pp is a pointer to the pointer keymem_new returned; it is cleared. */
void
keymem_free(void *pp, size_t len)
{
	void	**p = pp;

	if (p == NULL || *p == NULL)
		return;
	crypto_wipe(*p, len);
	(void)munlock(*p, len);
	(void)munmap(*p, len);
	*p = NULL;
}
