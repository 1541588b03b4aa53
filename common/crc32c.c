/*
 * crc32c.c - CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the
 * keyless checksum of container frames.  On x86-64 CPUs with SSE4.2 the
 * crc32 instruction does eight bytes at a time; everywhere else a
 * slicing-by-8 table does.  Both paths are exported so the unit tests can
 * check each against the same vectors.
 */
#include <pthread.h>
#include <string.h>

#include "crc32c.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define CRC32C_X86	1
#include <nmmintrin.h>
#endif

#define CRC32C_POLY	0x82F63B78u

static uint32_t		crc_table[8][256];	/* slicing-by-8 tables */
static int		crc_have_hw;		/* SSE4.2 present */
static pthread_once_t	crc_once = PTHREAD_ONCE_INIT;	/* guards init */

static void
crc32c_init(void)
{
	uint32_t	c;
	int		i, j;

	for (i = 0; i < 256; i++) {
		c = (uint32_t)i;
		for (j = 0; j < 8; j++)
			c = (c & 1) ? (c >> 1) ^ CRC32C_POLY : c >> 1;
		crc_table[0][i] = c;
	}
	for (i = 0; i < 256; i++) {
		c = crc_table[0][i];
		for (j = 1; j < 8; j++) {
			c = crc_table[0][c & 0xff] ^ (c >> 8);
			crc_table[j][i] = c;
		}
	}
#ifdef CRC32C_X86
	__builtin_cpu_init();
	crc_have_hw = __builtin_cpu_supports("sse4.2") ? 1 : 0;
#endif
}

int
crc32c_hw_available(void)
{
	pthread_once(&crc_once, crc32c_init);
	return crc_have_hw;
}

uint32_t
crc32c_sw(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t	*p = buf;
	uint32_t	 lo, hi;

	pthread_once(&crc_once, crc32c_init);
	crc = ~crc;
	while (len > 0 && ((uintptr_t)p & 7) != 0) {
		crc = crc_table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
		len--;
	}
	while (len >= 8) {
		lo = crc ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 |
		    (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
		hi = (uint32_t)p[4] | (uint32_t)p[5] << 8 |
		    (uint32_t)p[6] << 16 | (uint32_t)p[7] << 24;
		crc = crc_table[7][lo & 0xff] ^
		    crc_table[6][(lo >> 8) & 0xff] ^
		    crc_table[5][(lo >> 16) & 0xff] ^
		    crc_table[4][lo >> 24] ^
		    crc_table[3][hi & 0xff] ^
		    crc_table[2][(hi >> 8) & 0xff] ^
		    crc_table[1][(hi >> 16) & 0xff] ^
		    crc_table[0][hi >> 24];
		p += 8;
		len -= 8;
	}
	while (len-- > 0)
		crc = crc_table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

#ifdef CRC32C_X86
__attribute__((target("sse4.2")))
static uint32_t
crc32c_sse42(uint32_t crc, const uint8_t *p, size_t len)
{
	uint64_t	c = ~crc, v;

	while (len > 0 && ((uintptr_t)p & 7) != 0) {
		c = _mm_crc32_u8((uint32_t)c, *p++);
		len--;
	}
	while (len >= 8) {
		memcpy(&v, p, sizeof(v));
		c = _mm_crc32_u64(c, v);
		p += 8;
		len -= 8;
	}
	while (len-- > 0)
		c = _mm_crc32_u8((uint32_t)c, *p++);
	return ~(uint32_t)c;
}
#endif

uint32_t
crc32c_hw(uint32_t crc, const void *buf, size_t len)
{
#ifdef CRC32C_X86
	if (crc32c_hw_available())
		return crc32c_sse42(crc, buf, len);
#endif
	return crc32c_sw(crc, buf, len);
}

uint32_t
crc32c(uint32_t crc, const void *buf, size_t len)
{
	return crc32c_hw(crc, buf, len);
}
