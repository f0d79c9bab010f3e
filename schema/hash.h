/* hash.h: the one hash of statelog's in-memory tables (and of the reference
 * workload's config hashes): 64-bit FNV-1a.  Not part of any on-disk format
 * and not a checksum (those are CRC-32C, log/crc32c.h). */
#ifndef SL_HASH_H
#define SL_HASH_H

#include <stddef.h>
#include <stdint.h>

/* FNV-1a of len bytes at data. */
uint64_t sl_hash_bytes(const void *data, size_t len);

/* FNV-1a of a NUL-terminated string (its bytes, not the NUL). */
uint64_t sl_hash_str(const char *s);

#endif
