/*
 * crc32c.h - CRC-32C (Castagnoli), the checksum of container frames, so that
 * `keyflow verify` can check stored data without any key.  Uses the SSE4.2
 * instruction when the CPU has it, a table otherwise.
 */
#ifndef KF_CRC32C_H
#define KF_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* crc32c(0, buf, len) starts a new checksum; pass the result to continue. */
uint32_t crc32c(uint32_t crc, const void *buf, size_t len);

/* The two implementations, exported for the unit tests. */
uint32_t crc32c_sw(uint32_t crc, const void *buf, size_t len);
/* SSE4.2 when present, else the table. */
uint32_t crc32c_hw(uint32_t crc, const void *buf, size_t len);
int	crc32c_hw_available(void);

#endif
