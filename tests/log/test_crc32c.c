/* test_crc32c.c: log/crc32c.c: the check value, the CPU path against the
 * portable one, and incremental use. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crc32c.h"

Test(crc32c, check_value)
{
	cr_assert_eq(sl_crc32c(0, "123456789", 9), 0xE3069283u, "crc32c(\"123456789\")");
	cr_assert_eq(sl_crc32c_sw(0, "123456789", 9), 0xE3069283u, "portable crc32c(\"123456789\")");
	cr_assert_eq(sl_crc32c(0, "", 0), 0u, "crc32c of nothing");
}

Test(crc32c, hardware_and_portable_agree_at_every_length_and_alignment)
{
	uint8_t buf[300];
	uint64_t x = 88172645463325252ull;
	for (size_t i = 0; i < sizeof(buf); i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		buf[i] = (uint8_t)x;
	}
	for (size_t off = 0; off < 9; off++)
		for (size_t len = 0; len + off <= sizeof(buf); len++)
			cr_assert_eq(sl_crc32c(0, buf + off, len), sl_crc32c_sw(0, buf + off, len),
				     "offset %zu length %zu (hw available: %d)", off, len,
				     sl_crc32c_hw_available());
}

Test(crc32c, incremental_equals_whole)
{
	const char *s = "the quick brown fox jumps over the lazy dog";
	size_t n = strlen(s);
	uint32_t whole = sl_crc32c(0, s, n);
	for (size_t cut = 0; cut <= n; cut++)
		cr_assert_eq(sl_crc32c(sl_crc32c(0, s, cut), s + cut, n - cut), whole, "split at %zu", cut);
}
