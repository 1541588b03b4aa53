/*
 * kekcache.c - plaintext KEKs kept in memory for a bounded time, so that a
 * run of backups does not fetch the master key from the KMS for each job.
 *
 * The entries live in one page-aligned block that is mlock'ed (so a KEK is
 * never swapped out) and excluded from core dumps; an expired entry is
 * wiped at once.
 */
#include <string.h>
#include <sys/mman.h>

#include "commserve.h"
#include "log.h"
#include "util.h"

#define KEKCACHE_SLOTS	64

struct kek_slot {
	int64_t	key_set_id;		/* 0 = free */
	int64_t	expires_ms;		/* monotonic */
	uint8_t	kek[KF_KEY_LEN];	/* the plaintext KEK */
};

struct kek_cache {
	struct kek_slot	slots[KEKCACHE_SLOTS];	/* fixed, locked */
};

struct kek_cache *
kekcache_new(void)
{
	struct kek_cache	*c;

	c = mmap(NULL, sizeof(*c), PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (c == MAP_FAILED)
		return NULL;
	if (mlock(c, sizeof(*c)) == -1)
		log_warn("cannot lock the KEK cache in memory");
	madvise(c, sizeof(*c), MADV_DONTDUMP);
	memset(c, 0, sizeof(*c));
	return c;
}

int
kekcache_get(struct kek_cache *c, int64_t id, uint8_t kek[KF_KEY_LEN])
{
	size_t	i;
	int64_t	now = util_mono_ms();

	for (i = 0; i < KEKCACHE_SLOTS; i++)
		if (c->slots[i].key_set_id == id &&
		    c->slots[i].expires_ms > now) {
			memcpy(kek, c->slots[i].kek, KF_KEY_LEN);
			return 0;
		}
	return -1;
}

void
kekcache_put(struct kek_cache *c, int64_t id, const uint8_t kek[KF_KEY_LEN],
    unsigned ttl_s)
{
	struct kek_slot	*s = &c->slots[0];
	size_t		 i;

	/* Reuse its slot, else a free one, else the one expiring first. */
	for (i = 0; i < KEKCACHE_SLOTS; i++) {
		if (c->slots[i].key_set_id == id) {
			s = &c->slots[i];
			break;
		}
		if (c->slots[i].expires_ms < s->expires_ms)
			s = &c->slots[i];
	}
	s->key_set_id = id;
	s->expires_ms = util_mono_ms() + (int64_t)ttl_s * 1000;
	memcpy(s->kek, kek, KF_KEY_LEN);
}

void
kekcache_expire(struct kek_cache *c)
{
	size_t	i;
	int64_t	now = util_mono_ms();

	for (i = 0; i < KEKCACHE_SLOTS; i++)
		if (c->slots[i].key_set_id != 0 &&
		    c->slots[i].expires_ms <= now) {
			crypto_wipe(&c->slots[i], sizeof(c->slots[i]));
			c->slots[i].key_set_id = 0;
		}
}

void
kekcache_free(struct kek_cache **cp)
{
	struct kek_cache	*c = *cp;

	if (c == NULL)
		return;
	crypto_wipe(c, sizeof(*c));
	munlock(c, sizeof(*c));
	munmap(c, sizeof(*c));
	*cp = NULL;
}
