/* crc32c.h: CRC-32C (Castagnoli), the checksum of every commit and header.
 *
 * Uses the SSE4.2 crc32 instruction when the CPU has it, a slicing-by-8
 * table otherwise; both give identical results (tests/log/test_crc32c.c). */
#ifndef SL_CRC32C_H
#define SL_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Extends `crc` (0 to start) over buf[0..n).  Standard CRC-32C: the initial
 * value and final xor of 0xFFFFFFFF are applied inside, so that
 * sl_crc32c(sl_crc32c(0, a), b) == sl_crc32c(0, a || b). */
uint32_t sl_crc32c(uint32_t crc, const void *buf, size_t n);

/* The portable implementation, exposed for tests. */
uint32_t sl_crc32c_sw(uint32_t crc, const void *buf, size_t n);

/* Whether sl_crc32c() uses the CPU instruction. */
int sl_crc32c_hw_available(void);

#endif
