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

uint32_t sl_commit_crc(uint32_t prev, uint64_t first_seq, uint32_t count, int64_t time_first,
		       int64_t time_last, const uint8_t *raw, size_t raw_len)
{
	uint8_t b[32];
	sl_put32(b, prev);
	sl_put64(b + 4, first_seq);
	sl_put32(b + 12, count);
	sl_put64(b + 16, (uint64_t)time_first);
	sl_put64(b + 24, (uint64_t)time_last);
	return sl_crc32c(sl_crc32c(0, b, sizeof(b)), raw, raw_len);
}

/* Record header layout (FORMAT.md "Records"):
 *   'S' 'L' kind  varint payload_len  varint raw_len  varint first_seq
 *   varint n_commits  varint n_events  u64 time_first  varint time_span
 *   u32 prev_crc  u32 chain_out  u32 crc (of every header byte before it,
 *   and for a packed record of the payload too) */
size_t sl_rec_header_encode(struct sl_rec_header *h, const uint8_t *payload,
			    uint8_t out[SL_REC_HEADER_MAX])
{
	size_t n = 0;
	out[n++] = SL_REC_MAGIC0;
	out[n++] = SL_REC_MAGIC1;
	out[n++] = (uint8_t)h->kind;
	n += sl_put_varint(out + n, h->payload_len);
	n += sl_put_varint(out + n, h->raw_len);
	n += sl_put_varint(out + n, h->first_seq);
	n += sl_put_varint(out + n, h->n_commits);
	n += sl_put_varint(out + n, h->n_events);
	sl_put64(out + n, (uint64_t)h->time_first);
	n += 8;
	n += sl_put_varint(out + n, (uint64_t)(h->time_last - h->time_first));
	sl_put32(out + n, h->prev_crc);
	sl_put32(out + n + 4, h->chain_out);
	n += 8;
	/* A raw record's payload is covered by chain_out (its commit crc). */
	uint32_t crc = sl_crc32c(0, out, n);
	if (h->kind == SL_REC_PACKED)
		crc = sl_crc32c(crc, payload, h->payload_len);
	sl_put32(out + n, crc);
	n += 4;
	h->crc = crc;
	h->header_len = (uint32_t)n;
	return n;
}

uint32_t sl_rec_payload_max(uint32_t max_raw)
{
	size_t b = ZSTD_compressBound(max_raw);
	return b > UINT32_MAX ? UINT32_MAX : (uint32_t)b;
}

/* Reads a varint field that must fit in 32 bits; 0 when truncated, -1 bad. */
static int get_u32(const uint8_t *p, size_t avail, size_t *pos, uint32_t *out)
{
	uint64_t v;
	size_t k = sl_get_varint(p + *pos, avail - *pos, &v);
	if (!k)
		return avail - *pos >= 10 ? -1 : 0;
	if (v > UINT32_MAX)
		return -1;
	*pos += k;
	*out = (uint32_t)v;
	return 1;
}

int sl_rec_header_decode(const uint8_t *p, size_t avail, uint32_t max_raw,
			 struct sl_rec_header *h, const char **why)
{
	size_t pos = 3;
	uint64_t v;
	int r;
	if (avail >= 1 && p[0] != SL_REC_MAGIC0)
		goto bad_magic;
	if (avail >= 2 && p[1] != SL_REC_MAGIC1)
		goto bad_magic;
	if (avail < 3)
		return 0;
	h->kind = p[2];
	if (h->kind < SL_REC_RAW || h->kind > SL_REC_GAP) {
		*why = "unknown record kind";
		return -1;
	}
	if ((r = get_u32(p, avail, &pos, &h->payload_len)) <= 0 ||
	    (r = get_u32(p, avail, &pos, &h->raw_len)) <= 0)
		goto field;
	size_t k = sl_get_varint(p + pos, avail - pos, &v);
	if (!k) {
		r = avail - pos >= 10 ? -1 : 0;
		goto field;
	}
	pos += k;
	h->first_seq = v;
	if ((r = get_u32(p, avail, &pos, &h->n_commits)) <= 0 ||
	    (r = get_u32(p, avail, &pos, &h->n_events)) <= 0)
		goto field;
	if (avail - pos < 8)
		return 0;
	h->time_first = (int64_t)sl_get64(p + pos);
	pos += 8;
	k = sl_get_varint(p + pos, avail - pos, &v);
	if (!k) {
		r = avail - pos >= 10 ? -1 : 0;
		goto field;
	}
	pos += k;
	if (avail - pos < 12)
		return 0;
	h->prev_crc = sl_get32(p + pos);
	h->chain_out = sl_get32(p + pos + 4);
	h->crc = sl_get32(p + pos + 8);
	h->header_len = (uint32_t)(pos + 12);
	if (h->time_first < 0 || v > (uint64_t)(INT64_MAX - h->time_first)) {
		*why = "record times out of range";
		return -1;
	}
	h->time_last = h->time_first + (int64_t)v;
	if (h->first_seq == 0 || h->n_events == 0 || h->first_seq + h->n_events < h->first_seq) {
		*why = "bad record sequence numbers";
		return -1;
	}
	switch (h->kind) {
	case SL_REC_GAP:
		if (h->payload_len || h->raw_len || h->n_commits != 1) {
			*why = "gap record with a payload";
			return -1;
		}
		return 1;
	case SL_REC_RAW:
		if (h->n_commits != 1 || h->raw_len != h->payload_len) {
			*why = "raw record with bad lengths";
			return -1;
		}
		break;
	default:
		if (h->n_commits == 0 || h->n_commits > h->n_events) {
			*why = "packed record with bad commit count";
			return -1;
		}
		if (h->payload_len == 0 || h->payload_len > sl_rec_payload_max(max_raw)) {
			*why = "record payload length out of range";
			return -1;
		}
	}
	/* Each event takes at least two bytes: its time delta and its length. */
	if (h->raw_len > max_raw || h->raw_len / 2 < h->n_events) {
		*why = "record raw length out of range";
		return -1;
	}
	return 1;
bad_magic:
	*why = "bad record magic";
	return -1;
field:
	if (r < 0)
		*why = "malformed record header";
	return r;
}

bool sl_rec_crc_ok(const uint8_t *rec, const struct sl_rec_header *h)
{
	uint32_t crc = sl_crc32c(0, rec, h->header_len - 4);
	if (h->kind == SL_REC_PACKED)
		return sl_crc32c(crc, rec + h->header_len, h->payload_len) == h->crc;
	if (crc != h->crc)
		return false;
	/* raw and gap: the payload is checked through the commit crc */
	return sl_commit_crc(h->prev_crc, h->first_seq, h->n_events, h->time_first, h->time_last,
			     rec + h->header_len, h->kind == SL_REC_RAW ? h->raw_len : 0) == h->chain_out;
}

/* Index header layout (56 bytes):
 *   0 magic[8]  8 version  12 entry size  16 log id[16]  32 segment first seq
 *  40 segment inode  48 reserved(0)  52 crc of 0..51 */
void sl_idx_header_encode(const uint8_t log_id[SL_LOG_ID_SIZE], uint64_t first_seq, uint64_t ino,
			  uint8_t out[SL_IDX_HEADER_SIZE])
{
	memset(out, 0, SL_IDX_HEADER_SIZE);
	memcpy(out, SL_IDX_MAGIC, 8);
	sl_put32(out + 8, SL_FORMAT_VERSION);
	sl_put32(out + 12, SL_IDX_ENTRY_SIZE);
	memcpy(out + 16, log_id, SL_LOG_ID_SIZE);
	sl_put64(out + 32, first_seq);
	sl_put64(out + 40, ino);
	sl_put32(out + 52, sl_crc32c(0, out, 52));
}

bool sl_idx_header_decode(const uint8_t in[SL_IDX_HEADER_SIZE], uint8_t log_id[SL_LOG_ID_SIZE],
			  uint64_t *first_seq, uint64_t *ino)
{
	if (memcmp(in, SL_IDX_MAGIC, 8) != 0 || sl_get32(in + 52) != sl_crc32c(0, in, 52))
		return false;
	if (sl_get32(in + 8) != SL_FORMAT_VERSION || sl_get32(in + 12) != SL_IDX_ENTRY_SIZE)
		return false;
	memcpy(log_id, in + 16, SL_LOG_ID_SIZE);
	*first_seq = sl_get64(in + 32);
	*ino = sl_get64(in + 40);
	return true;
}

/* Index entry layout (40 bytes):
 *   0 seq  8 time us  16 offset  24 aux  28 kind  32 flags  36 crc of 0..35 */
void sl_idx_entry_encode(const struct sl_idx_entry *e, uint8_t out[SL_IDX_ENTRY_SIZE])
{
	sl_put64(out, e->seq);
	sl_put64(out + 8, (uint64_t)e->time_us);
	sl_put64(out + 16, e->offset);
	sl_put32(out + 24, e->aux);
	sl_put32(out + 28, e->kind);
	sl_put32(out + 32, e->flags);
	sl_put32(out + 36, sl_crc32c(0, out, 36));
}

bool sl_idx_entry_decode(const uint8_t in[SL_IDX_ENTRY_SIZE], struct sl_idx_entry *e)
{
	if (sl_get32(in + 36) != sl_crc32c(0, in, 36))
		return false;
	e->seq = sl_get64(in);
	e->time_us = (int64_t)sl_get64(in + 8);
	e->offset = sl_get64(in + 16);
	e->aux = sl_get32(in + 24);
	e->kind = sl_get32(in + 28);
	e->flags = sl_get32(in + 32);
	return e->kind == SL_IDX_POINT || e->kind == SL_IDX_SEAL;
}
