/* crc32c.c: CRC-32C with the SSE4.2 instruction where present.
 *
 * The hardware path is picked once, at first use, with cpuid; the software
 * path is slicing-by-8 over tables built at first use. */
#include "crc32c.h"

#include <pthread.h>
#include <string.h>

#define POLY 0x82F63B78u  /* CRC-32C, reflected */

static uint32_t table[8][256];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void build_table(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ POLY : c >> 1;
		table[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int t = 1; t < 8; t++)
			table[t][i] = (table[t - 1][i] >> 8) ^ table[0][table[t - 1][i] & 0xFF];
}

uint32_t sl_crc32c_sw(uint32_t crc, const void *buf, size_t n)
{
	pthread_once(&table_once, build_table);
	const uint8_t *p = buf;
	uint32_t c = ~crc;
	while (n && ((uintptr_t)p & 7)) {
		c = (c >> 8) ^ table[0][(c ^ *p++) & 0xFF];
		n--;
	}
	while (n >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		/* Little-endian load: the tables assume the low byte comes first. */
		uint32_t lo = (uint32_t)w ^ c, hi = (uint32_t)(w >> 32);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
		lo = __builtin_bswap32((uint32_t)(w >> 32)) ^ c;
		hi = __builtin_bswap32((uint32_t)w);
#endif
		c = table[7][lo & 0xFF] ^ table[6][(lo >> 8) & 0xFF] ^
		    table[5][(lo >> 16) & 0xFF] ^ table[4][lo >> 24] ^
		    table[3][hi & 0xFF] ^ table[2][(hi >> 8) & 0xFF] ^
		    table[1][(hi >> 16) & 0xFF] ^ table[0][hi >> 24];
		p += 8;
		n -= 8;
	}
	while (n--)
		c = (c >> 8) ^ table[0][(c ^ *p++) & 0xFF];
	return ~c;
}

#if defined(__x86_64__)
#include <cpuid.h>

__attribute__((target("sse4.2")))
static uint32_t crc32c_hw(uint32_t crc, const void *buf, size_t n)
{
	const uint8_t *p = buf;
	uint64_t c = ~crc;
	while (n && ((uintptr_t)p & 7)) {
		c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
		n--;
	}
	while (n >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		c = __builtin_ia32_crc32di(c, w);
		p += 8;
		n -= 8;
	}
	while (n--)
		c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
	return ~(uint32_t)c;
}

static int hw_state;
static pthread_once_t hw_once = PTHREAD_ONCE_INIT;

static void detect_hw(void)
{
	unsigned a, b, c, d;
	hw_state = __get_cpuid(1, &a, &b, &c, &d) && (c & bit_SSE4_2);
}

int sl_crc32c_hw_available(void)
{
	pthread_once(&hw_once, detect_hw);
	return hw_state;
}

uint32_t sl_crc32c(uint32_t crc, const void *buf, size_t n)
{
	if (sl_crc32c_hw_available())
		return crc32c_hw(crc, buf, n);
	return sl_crc32c_sw(crc, buf, n);
}
#else
int sl_crc32c_hw_available(void)
{
	return 0;
}

uint32_t sl_crc32c(uint32_t crc, const void *buf, size_t n)
{
	return sl_crc32c_sw(crc, buf, n);
}
#endif
