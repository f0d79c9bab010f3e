/* format.h: the on-disk structures of the log (internal).
 *
 * Every constant here defines the format described in log/FORMAT.md; changing
 * one changes the format, and the golden files in tests/log/golden/ catch it.
 * All integers are little-endian and written byte by byte (never a struct).
 */
#ifndef SL_LOG_FORMAT_H
#define SL_LOG_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "log.h"

/* ---- format constants (FORMAT.md) ---- */
#define SL_FORMAT_VERSION 1u

#define SL_SEG_MAGIC "SLOGSEG\0"          /* 8 bytes */
#define SL_SEG_HEADER_SIZE 64u
#define SL_COMMIT_MAGIC "SLCM"            /* 4 bytes */
#define SL_COMMIT_HEADER_SIZE 56u
#define SL_IDX_MAGIC "SLOGIDX\0"          /* 8 bytes */
#define SL_IDX_HEADER_SIZE 48u
#define SL_IDX_ENTRY_SIZE 40u

/* Commit flags. */
#define SL_COMMIT_RESTART 0x1u   /* payload starts a new zstd frame */
#define SL_COMMIT_GAP 0x2u       /* no payload: `count` sequence numbers lost (repair) */
#define SL_COMMIT_KNOWN_FLAGS (SL_COMMIT_RESTART | SL_COMMIT_GAP)

/* Index entry kinds. */
#define SL_IDX_RESTART 1u        /* a commit with SL_COMMIT_RESTART */
#define SL_IDX_SEAL 2u           /* the segment is complete: nothing follows */

/* Decoders refuse zstd windows larger than this (memory bound). */
#define SL_ZSTD_WINDOW_LOG_MAX 23

/* Torn writes are recognised by whole zeroed sectors of this size. */
#define SL_SECTOR_SIZE 512u

/* Segment file names: 20 decimal digits of the first sequence number. */
#define SL_SEG_SUFFIX ".seg"
#define SL_IDX_SUFFIX ".idx"
#define SL_LOCK_NAME "LOCK"

/* ---- little-endian helpers ---- */
static inline void sl_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static inline void sl_put64(uint8_t *p, uint64_t v)
{
	sl_put32(p, (uint32_t)v);
	sl_put32(p + 4, (uint32_t)(v >> 32));
}

static inline uint32_t sl_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t sl_get64(const uint8_t *p)
{
	return (uint64_t)sl_get32(p) | (uint64_t)sl_get32(p + 4) << 32;
}

/* Unsigned LEB128, at most 10 bytes. */
static inline size_t sl_put_varint(uint8_t *p, uint64_t v)
{
	size_t n = 0;
	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

/* Returns the bytes read, 0 when the varint is truncated or too long. */
static inline size_t sl_get_varint(const uint8_t *p, size_t avail, uint64_t *out)
{
	uint64_t v = 0;
	for (size_t i = 0; i < avail && i < 10; i++) {
		v |= (uint64_t)(p[i] & 0x7F) << (7 * i);
		if (!(p[i] & 0x80)) {
			if (i == 9 && p[i] > 1)
				return 0;
			*out = v;
			return i + 1;
		}
	}
	return 0;
}

/* ---- structures ---- */
struct sl_seg_header {
	uint32_t version;
	uint8_t log_id[SL_LOG_ID_SIZE];
	uint64_t first_seq;
	uint32_t prev_crc;        /* crc of the previous segment's last commit */
	uint32_t flags;
	int64_t created_us;
};

struct sl_commit_header {
	uint32_t flags;
	uint64_t first_seq;
	uint32_t count;
	uint32_t payload_len;
	uint32_t raw_len;
	int64_t time_us;          /* time of the first event */
	int64_t time_last_us;     /* time of the last event */
	uint32_t prev_crc;
	uint32_t crc;
};

struct sl_idx_entry {
	uint32_t kind;
	uint64_t seq;             /* RESTART: the commit's first seq; SEAL: next seq */
	int64_t time_us;          /* RESTART: commit time; SEAL: last event time */
	uint64_t offset;          /* RESTART: commit offset; SEAL: segment size */
	uint32_t aux;             /* RESTART: the commit's prev_crc; SEAL: last crc */
};

void sl_seg_header_encode(const struct sl_seg_header *h, uint8_t out[SL_SEG_HEADER_SIZE]);
/* Returns SL_OK, SL_ECORRUPT (why set) or SL_EVERSION. */
int sl_seg_header_decode(const uint8_t in[SL_SEG_HEADER_SIZE], struct sl_seg_header *h,
			 const char **why);

/* Encodes the header and computes its crc over the header and payload. */
void sl_commit_header_encode(struct sl_commit_header *h, const uint8_t *payload,
			     uint8_t out[SL_COMMIT_HEADER_SIZE]);
/* Decodes the fields and checks what can be checked without the payload:
 * magic, flags, counts and lengths against the limits.  Returns false with
 * *why set when the header is not a sane commit header. */
bool sl_commit_header_decode(const uint8_t in[SL_COMMIT_HEADER_SIZE], uint32_t max_commit,
			     struct sl_commit_header *h, const char **why);
/* Checks the crc of a decoded header over its payload. */
bool sl_commit_crc_ok(const uint8_t in[SL_COMMIT_HEADER_SIZE], const uint8_t *payload,
		      const struct sl_commit_header *h);
/* The largest payload a commit of max_commit raw bytes may be stored in. */
uint32_t sl_commit_payload_max(uint32_t max_commit);

void sl_idx_header_encode(const uint8_t log_id[SL_LOG_ID_SIZE], uint64_t first_seq,
			  uint8_t out[SL_IDX_HEADER_SIZE]);
bool sl_idx_header_decode(const uint8_t in[SL_IDX_HEADER_SIZE], uint8_t log_id[SL_LOG_ID_SIZE],
			  uint64_t *first_seq);
void sl_idx_entry_encode(const struct sl_idx_entry *e, uint8_t out[SL_IDX_ENTRY_SIZE]);
bool sl_idx_entry_decode(const uint8_t in[SL_IDX_ENTRY_SIZE], struct sl_idx_entry *e);

#endif
