/*
 * chunk.h - encryption of one backup chunk with the job's DEK (seed backup
 * step 4, restore step 7).
 *
 * AES-256-GCM with nonce = 0x00000000 || chunk index (u64 BE), unique per
 * (job, chunk) because every job has its own DEK.  AAD = "KFC1" || job id
 * (u64 BE) || chunk index (u64 BE) || last flag (u8), so a chunk moved to
 * another position or job, a dropped last chunk and a stream cut short all
 * fail to open.
 */
#ifndef KF_CHUNK_H
#define KF_CHUNK_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"

#define KF_CHUNK_DEFAULT	(1024 * 1024)
#define KF_CHUNK_MIN		4096
#define KF_CHUNK_MAX		(16 * 1024 * 1024)

void	chunk_nonce(uint64_t index, uint8_t nonce[KF_NONCE_LEN]);
/* Encrypt len bytes of in to out (may be the same buffer). */
int	chunk_seal(const uint8_t dek[KF_KEY_LEN], uint64_t job, uint64_t index,
	    int last, const void *in, size_t len, void *out,
	    uint8_t nonce[KF_NONCE_LEN], uint8_t tag[KF_TAG_LEN]);
/* -1 when the tag does not verify (or the nonce is not this chunk's). */
int	chunk_open(const uint8_t dek[KF_KEY_LEN], uint64_t job, uint64_t index,
	    int last, const uint8_t nonce[KF_NONCE_LEN], const void *in,
	    size_t len, void *out, const uint8_t tag[KF_TAG_LEN]);

#endif
