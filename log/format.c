/* format.c: encoding and validation of segment headers, commit headers and
 * index entries, byte by byte as log/FORMAT.md specifies. */
#include "format.h"

#include <zstd.h>

#include "crc32c.h"

/* Segment header layout (64 bytes):
 *   0  magic[8]  8 version  12 header size  16 log id[16]  32 first seq
 *  40 prev crc  44 flags  48 created us  56 reserved(0)  60 crc of 0..59 */
void sl_seg_header_encode(const struct sl_seg_header *h, uint8_t out[SL_SEG_HEADER_SIZE])
{
	memset(out, 0, SL_SEG_HEADER_SIZE);
	memcpy(out, SL_SEG_MAGIC, 8);
	sl_put32(out + 8, h->version);
	sl_put32(out + 12, SL_SEG_HEADER_SIZE);
	memcpy(out + 16, h->log_id, SL_LOG_ID_SIZE);
	sl_put64(out + 32, h->first_seq);
	sl_put32(out + 40, h->prev_crc);
	sl_put32(out + 44, h->flags);
	sl_put64(out + 48, (uint64_t)h->created_us);
	sl_put32(out + 60, sl_crc32c(0, out, 60));
}

int sl_seg_header_decode(const uint8_t in[SL_SEG_HEADER_SIZE], struct sl_seg_header *h,
			 const char **why)
{
	if (memcmp(in, SL_SEG_MAGIC, 8) != 0) {
		*why = "not a statelog segment (bad magic)";
		return SL_ECORRUPT;
	}
	if (sl_get32(in + 60) != sl_crc32c(0, in, 60)) {
		*why = "segment header checksum mismatch";
		return SL_ECORRUPT;
	}
	h->version = sl_get32(in + 8);
	if (h->version > SL_FORMAT_VERSION) {
		*why = "segment written by a newer format version";
		return SL_EVERSION;
	}
	if (h->version == 0 || sl_get32(in + 12) != SL_SEG_HEADER_SIZE) {
		*why = "segment header has an invalid version or size";
		return SL_ECORRUPT;
	}
	memcpy(h->log_id, in + 16, SL_LOG_ID_SIZE);
	h->first_seq = sl_get64(in + 32);
	h->prev_crc = sl_get32(in + 40);
	h->flags = sl_get32(in + 44);
	h->created_us = (int64_t)sl_get64(in + 48);
	if (h->first_seq == 0) {
		*why = "segment header has first sequence number 0";
		return SL_ECORRUPT;
	}
	return SL_OK;
}

/* Commit header layout (56 bytes):
 *   0 magic[4]  4 flags  8 first seq  16 count  20 payload len  24 raw len
 *  28 reserved(0)  32 first event time  40 last event time  48 prev crc
 *  52 crc of bytes 0..51 + payload */
void sl_commit_header_encode(struct sl_commit_header *h, const uint8_t *payload,
			     uint8_t out[SL_COMMIT_HEADER_SIZE])
{
	memcpy(out, SL_COMMIT_MAGIC, 4);
	sl_put32(out + 4, h->flags);
	sl_put64(out + 8, h->first_seq);
	sl_put32(out + 16, h->count);
	sl_put32(out + 20, h->payload_len);
	sl_put32(out + 24, h->raw_len);
	sl_put32(out + 28, 0);
	sl_put64(out + 32, (uint64_t)h->time_us);
	sl_put64(out + 40, (uint64_t)h->time_last_us);
	sl_put32(out + 48, h->prev_crc);
	uint32_t crc = sl_crc32c(0, out, 52);
	h->crc = sl_crc32c(crc, payload, h->payload_len);
	sl_put32(out + 52, h->crc);
}

uint32_t sl_commit_payload_max(uint32_t max_commit)
{
	size_t b = ZSTD_compressBound(max_commit);
	return b > UINT32_MAX ? UINT32_MAX : (uint32_t)b;
}

bool sl_commit_header_decode(const uint8_t in[SL_COMMIT_HEADER_SIZE], uint32_t max_commit,
			     struct sl_commit_header *h, const char **why)
{
	if (memcmp(in, SL_COMMIT_MAGIC, 4) != 0) {
		*why = "bad commit magic";
		return false;
	}
	h->flags = sl_get32(in + 4);
	h->first_seq = sl_get64(in + 8);
	h->count = sl_get32(in + 16);
	h->payload_len = sl_get32(in + 20);
	h->raw_len = sl_get32(in + 24);
	h->time_us = (int64_t)sl_get64(in + 32);
	h->time_last_us = (int64_t)sl_get64(in + 40);
	h->prev_crc = sl_get32(in + 48);
	h->crc = sl_get32(in + 52);
	if (h->flags & ~SL_COMMIT_KNOWN_FLAGS) {
		*why = "unknown commit flags";
		return false;
	}
	if (sl_get32(in + 28) != 0) {
		*why = "reserved commit header bytes are not zero";
		return false;
	}
	if (h->time_last_us < h->time_us) {
		*why = "commit times out of order";
		return false;
	}
	if (h->count == 0 || h->first_seq == 0 || h->first_seq + h->count < h->first_seq) {
		*why = "bad commit sequence numbers";
		return false;
	}
	if (h->flags & SL_COMMIT_GAP) {
		if (h->payload_len != 0 || h->raw_len != 0 || (h->flags & SL_COMMIT_RESTART)) {
			*why = "gap commit with a payload";
			return false;
		}
		return true;
	}
	/* Each event takes at least two bytes: its time delta and its length. */
	if (h->raw_len > max_commit || h->raw_len / 2 < h->count) {
		*why = "commit raw length out of range";
		return false;
	}
	if (h->payload_len == 0 || h->payload_len > sl_commit_payload_max(max_commit)) {
		*why = "commit payload length out of range";
		return false;
	}
	return true;
}

bool sl_commit_crc_ok(const uint8_t in[SL_COMMIT_HEADER_SIZE], const uint8_t *payload,
		      const struct sl_commit_header *h)
{
	uint32_t crc = sl_crc32c(0, in, 52);
	crc = sl_crc32c(crc, payload, h->payload_len);
	return crc == h->crc;
}

/* Index header layout (48 bytes):
 *   0 magic[8]  8 version  12 entry size  16 log id[16]  32 segment first seq
 *  40 reserved(0)  44 crc of 0..43 */
void sl_idx_header_encode(const uint8_t log_id[SL_LOG_ID_SIZE], uint64_t first_seq,
			  uint8_t out[SL_IDX_HEADER_SIZE])
{
	memset(out, 0, SL_IDX_HEADER_SIZE);
	memcpy(out, SL_IDX_MAGIC, 8);
	sl_put32(out + 8, SL_FORMAT_VERSION);
	sl_put32(out + 12, SL_IDX_ENTRY_SIZE);
	memcpy(out + 16, log_id, SL_LOG_ID_SIZE);
	sl_put64(out + 32, first_seq);
	sl_put32(out + 44, sl_crc32c(0, out, 44));
}

bool sl_idx_header_decode(const uint8_t in[SL_IDX_HEADER_SIZE], uint8_t log_id[SL_LOG_ID_SIZE],
			  uint64_t *first_seq)
{
	if (memcmp(in, SL_IDX_MAGIC, 8) != 0 || sl_get32(in + 44) != sl_crc32c(0, in, 44))
		return false;
	if (sl_get32(in + 8) != SL_FORMAT_VERSION || sl_get32(in + 12) != SL_IDX_ENTRY_SIZE)
		return false;
	memcpy(log_id, in + 16, SL_LOG_ID_SIZE);
	*first_seq = sl_get64(in + 32);
	return true;
}

/* Index entry layout (40 bytes):
 *   0 seq  8 time us  16 offset  24 aux  28 kind  32 reserved(0)  36 crc of 0..35 */
void sl_idx_entry_encode(const struct sl_idx_entry *e, uint8_t out[SL_IDX_ENTRY_SIZE])
{
	sl_put64(out, e->seq);
	sl_put64(out + 8, (uint64_t)e->time_us);
	sl_put64(out + 16, e->offset);
	sl_put32(out + 24, e->aux);
	sl_put32(out + 28, e->kind);
	sl_put32(out + 32, 0);
	sl_put32(out + 36, sl_crc32c(0, out, 36));
}

bool sl_idx_entry_decode(const uint8_t in[SL_IDX_ENTRY_SIZE], struct sl_idx_entry *e)
{
	if (sl_get32(in + 36) != sl_crc32c(0, in, 36) || sl_get32(in + 32) != 0)
		return false;
	e->seq = sl_get64(in);
	e->time_us = (int64_t)sl_get64(in + 8);
	e->offset = sl_get64(in + 16);
	e->aux = sl_get32(in + 24);
	e->kind = sl_get32(in + 28);
	return e->kind == SL_IDX_RESTART || e->kind == SL_IDX_SEAL;
}
