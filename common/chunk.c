/*
 * chunk.c - encryption of one backup chunk with the job's DEK (seed backup
 * step 4, restore step 7).  The nonce is the chunk index, unique because
 * each job has its own DEK; the AAD names the job, the index and whether the
 * chunk is the last, so reordering, moving between jobs, truncating a stream
 * or dropping its last chunk all make chunk_open fail.
 */
#include <string.h>

#include "chunk.h"
#include "crypto.h"
#include "util.h"

#define CHUNK_AAD_LEN	(4 + 8 + 8 + 1)

static void
chunk_aad(uint64_t job, uint64_t index, int last, uint8_t aad[CHUNK_AAD_LEN])
{
	memcpy(aad, "KFC1", 4);
	be64_put(aad + 4, job);
	be64_put(aad + 12, index);
	aad[20] = last ? 1 : 0;
}

void
chunk_nonce(uint64_t index, uint8_t nonce[KF_NONCE_LEN])
{
	memset(nonce, 0, 4);
	be64_put(nonce + 4, index);
}

int
chunk_seal(const uint8_t dek[KF_KEY_LEN], uint64_t job, uint64_t index,
    int last, const void *in, size_t len, void *out,
    uint8_t nonce[KF_NONCE_LEN], uint8_t tag[KF_TAG_LEN])
{
	uint8_t	 aad[CHUNK_AAD_LEN];

	if (len > KF_CHUNK_MAX)
		return -1;
	chunk_nonce(index, nonce);
	chunk_aad(job, index, last, aad);
	return crypto_gcm_seal(dek, nonce, aad, sizeof(aad), in, len, out,
	    tag);
}

int
chunk_open(const uint8_t dek[KF_KEY_LEN], uint64_t job, uint64_t index,
    int last, const uint8_t nonce[KF_NONCE_LEN], const void *in, size_t len,
    void *out, const uint8_t tag[KF_TAG_LEN])
{
	uint8_t	 aad[CHUNK_AAD_LEN], want[KF_NONCE_LEN];

	chunk_nonce(index, want);
	if (len > KF_CHUNK_MAX || memcmp(want, nonce, sizeof(want)) != 0) {
		if (out != NULL)
			crypto_wipe(out, len > KF_CHUNK_MAX ? 0 : len);
		return -1;
	}
	chunk_aad(job, index, last, aad);
	return crypto_gcm_open(dek, nonce, aad, sizeof(aad), in, len, out,
	    tag);
}
