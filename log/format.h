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
#define SL_REC_MAGIC0 0x53u                /* 'S' */
#define SL_REC_MAGIC1 0x4Cu                /* 'L' */
#define SL_REC_HEADER_MAX 64u              /* no record header is longer */
#define SL_IDX_MAGIC "SLOGIDX\0"          /* 8 bytes */
#define SL_IDX_HEADER_SIZE 56u
#define SL_IDX_ENTRY_SIZE 40u

/* Record kinds. */
#define SL_REC_RAW 1u      /* one commit, stored uncompressed (the appender) */
#define SL_REC_PACKED 2u   /* consecutive commits in one zstd frame (compaction) */
#define SL_REC_GAP 3u      /* sequence numbers lost (repair); no payload */

/* Index entry kinds. */
#define SL_IDX_POINT 1u          /* a record start: reading can begin there */
#define SL_IDX_SEAL 2u           /* the segment is complete: nothing follows */
#define SL_IDX_SEAL_PACKED 0x1u  /* seal flag: the segment holds no raw records */

/* Decoders refuse zstd windows larger than this (memory bound). */
#define SL_ZSTD_WINDOW_LOG_MAX 27

/* Torn writes are recognised by whole zeroed sectors of this size. */
#define SL_SECTOR_SIZE 512u

/* Segment file names: 20 decimal digits of the first sequence number. */
#define SL_SEG_SUFFIX ".seg"
#define SL_IDX_SUFFIX ".idx"
#define SL_LOCK_NAME "LOCK"
#define SL_WAIT_LOCK_NAME "WAITING"
#define SL_TAIL_NAME "TAIL"

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

/* The header of a record (FORMAT.md, "Records"). */
struct sl_rec_header {
	uint32_t kind;
	uint32_t payload_len;     /* bytes stored after the header */
	uint32_t raw_len;         /* payload bytes once decompressed */
	uint64_t first_seq;
	uint32_t n_commits;
	uint32_t n_events;        /* for a gap: the sequence numbers lost */
	int64_t time_first;
	int64_t time_last;
	uint32_t prev_crc;        /* chain value before the record */
	uint32_t chain_out;       /* chain value after it: its last commit's crc */
	uint32_t crc;             /* of the header bytes before it (and a packed payload) */
	uint32_t header_len;      /* bytes of the encoded header */
};

struct sl_idx_entry {
	uint32_t kind;
	uint64_t seq;             /* POINT: the record's first seq; SEAL: next seq */
	int64_t time_us;          /* POINT: its first time; SEAL: last event time */
	uint64_t offset;          /* POINT: record offset; SEAL: segment size */
	uint32_t aux;             /* POINT: the record's prev_crc; SEAL: last crc */
	uint32_t flags;           /* SEAL: SL_IDX_SEAL_PACKED */
};

void sl_seg_header_encode(const struct sl_seg_header *h, uint8_t out[SL_SEG_HEADER_SIZE]);
/* Returns SL_OK, SL_ECORRUPT (why set) or SL_EVERSION. */
int sl_seg_header_decode(const uint8_t in[SL_SEG_HEADER_SIZE], struct sl_seg_header *h,
			 const char **why);

/* The crc of one commit: a function of the chain value before it and its
 * logical content only, so that storing it raw or packed changes nothing. */
uint32_t sl_commit_crc(uint32_t prev, uint64_t first_seq, uint32_t count, int64_t time_first,
		       int64_t time_last, const uint8_t *raw, size_t raw_len);

/* Encodes h (header_len and crc are set) for a record whose payload is
 * `payload`; returns the header length (<= SL_REC_HEADER_MAX). */
size_t sl_rec_header_encode(struct sl_rec_header *h, const uint8_t *payload,
			    uint8_t out[SL_REC_HEADER_MAX]);

/* Decodes a header from the `avail` bytes at p and checks what can be
 * checked without the payload (magic, kind, counts and lengths against the
 * limits).  Returns 1 when sane, 0 when more bytes are needed to tell
 * (avail too short), -1 when not a sane record header (*why set). */
int sl_rec_header_decode(const uint8_t *p, size_t avail, uint32_t max_raw,
			 struct sl_rec_header *h, const char **why);

/* Checks the record crc, and for a raw or gap record the commit crc over its
 * payload: whether the whole record is intact. */
bool sl_rec_crc_ok(const uint8_t *rec, const struct sl_rec_header *h);

/* The largest payload a record of max_raw raw bytes may be stored in. */
uint32_t sl_rec_payload_max(uint32_t max_raw);

/* `ino` ties the index to one version of its segment file: compaction
 * replaces the file (a new inode), which makes the old index stale. */
void sl_idx_header_encode(const uint8_t log_id[SL_LOG_ID_SIZE], uint64_t first_seq, uint64_t ino,
			  uint8_t out[SL_IDX_HEADER_SIZE]);
bool sl_idx_header_decode(const uint8_t in[SL_IDX_HEADER_SIZE], uint8_t log_id[SL_LOG_ID_SIZE],
			  uint64_t *first_seq, uint64_t *ino);
void sl_idx_entry_encode(const struct sl_idx_entry *e, uint8_t out[SL_IDX_ENTRY_SIZE]);
bool sl_idx_entry_decode(const uint8_t in[SL_IDX_ENTRY_SIZE], struct sl_idx_entry *e);

#endif
