/* compact.c: packing a segment's raw commits into compressed records.
 *
 * Appends write each commit raw, so that an append costs a framed write and
 * nothing more, whatever the durability.  Compaction then carries the
 * compression context across commits the best way there is: it packs runs
 * of consecutive commits (about pack_size raw bytes) into one zstd frame, so
 * one-event commits compress as well as large batches.  A commit's crc
 * depends only on its logical content and the chain value before it, so
 * packing changes no sequence number, time or chain value; every commit is
 * decoded and its crc checked before it is packed.
 *
 * The new file is written beside the segment, synced, and renamed over it;
 * readers that have the old file open keep reading it, readers that open the
 * name afterwards see the new one, and its index names the new inode.
 */
#include "log_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>

struct packer {
	const struct sl_io *io;
	int fd;
	uint64_t off;               /* bytes written to the new file */
	ZSTD_CCtx *cctx;
	uint32_t pack_size;
	/* the pending packed record */
	uint8_t *raw;
	size_t raw_len, raw_cap;
	struct sl_rec_header h;
	uint64_t next_seq;
	int64_t last_time;
	uint32_t chain;
	uint8_t *out;
	size_t out_cap;
	struct sl_segfile *dst;     /* collects the new file's reading points */
};

static int write_at(struct packer *pk, const uint8_t *p, size_t n)
{
	uint64_t off = pk->off;
	while (n) {
		ssize_t w = pk->io->pwrite(pk->io->ctx, pk->fd, p, n, (off_t)off);
		if (w <= 0)
			return SL_EIO;
		p += w;
		n -= (size_t)w;
		off += (uint64_t)w;
	}
	pk->off = off;
	return SL_OK;
}

static int add_point(struct packer *pk, const struct sl_rec_header *h)
{
	if (!sl_index_wants_point(pk->dst, pk->off))
		return SL_OK;
	struct sl_idx_entry e = { SL_IDX_POINT, h->first_seq, h->time_first, pk->off, h->prev_crc, 0 };
	return sl_index_add(pk->dst, &e);
}

/* Writes the pending packed record, if any. */
static int flush_pack(struct packer *pk)
{
	if (!pk->h.n_commits)
		return SL_OK;
	size_t bound = ZSTD_compressBound(pk->raw_len) + SL_REC_HEADER_MAX;
	if (bound > pk->out_cap) {
		uint8_t *n = realloc(pk->out, bound);
		if (!n)
			return SL_ENOMEM;
		pk->out = n;
		pk->out_cap = bound;
	}
	size_t c = ZSTD_compress2(pk->cctx, pk->out + SL_REC_HEADER_MAX, bound - SL_REC_HEADER_MAX,
				  pk->raw, pk->raw_len);
	if (ZSTD_isError(c))
		return SL_ENOMEM;
	pk->h.kind = SL_REC_PACKED;
	pk->h.payload_len = (uint32_t)c;
	pk->h.raw_len = (uint32_t)pk->raw_len;
	uint8_t hdr[SL_REC_HEADER_MAX];
	size_t hl = sl_rec_header_encode(&pk->h, pk->out + SL_REC_HEADER_MAX, hdr);
	memcpy(pk->out + SL_REC_HEADER_MAX - hl, hdr, hl);
	int rc = add_point(pk, &pk->h);
	if (rc == SL_OK)
		rc = write_at(pk, pk->out + SL_REC_HEADER_MAX - hl, hl + c);
	pk->raw_len = 0;
	pk->h.n_commits = 0;
	return rc;
}

/* Adds one decoded commit (its raw bytes) to the pending packed record. */
static int pack_commit(struct packer *pk, const struct sl_dcommit *dc, const uint8_t *raw,
		       size_t len, uint32_t prev_crc)
{
	if (pk->h.n_commits && pk->raw_len + len > pk->pack_size) {
		int rc = flush_pack(pk);
		if (rc)
			return rc;
	}
	size_t need = pk->raw_len + len + 40;
	if (need > pk->raw_cap) {
		size_t cap = pk->raw_cap ? pk->raw_cap : (1u << 16);
		while (cap < need)
			cap *= 2;
		uint8_t *n = realloc(pk->raw, cap);
		if (!n)
			return SL_ENOMEM;
		pk->raw = n;
		pk->raw_cap = cap;
	}
	if (!pk->h.n_commits) {
		memset(&pk->h, 0, sizeof(pk->h));
		pk->h.first_seq = dc->first_seq;
		pk->h.time_first = dc->time_first;
		pk->h.prev_crc = prev_crc;
		pk->last_time = dc->time_first;
	}
	uint8_t *p = pk->raw + pk->raw_len;
	p += sl_put_varint(p, dc->count);
	p += sl_put_varint(p, (uint64_t)(dc->time_first - pk->last_time));
	p += sl_put_varint(p, (uint64_t)(dc->time_last - dc->time_first));
	p += sl_put_varint(p, len);
	memcpy(p, raw, len);
	pk->raw_len = (size_t)(p - pk->raw) + len;
	pk->h.n_commits++;
	pk->h.n_events += dc->count;
	pk->h.time_last = dc->time_last;
	pk->h.chain_out = dc->crc;
	pk->last_time = dc->time_last;
	return SL_OK;
}

/* Copies a record as it is (a gap, or one packed already). */
static int copy_record(struct packer *pk, const struct sl_rec_view *v)
{
	int rc = flush_pack(pk);
	if (rc == SL_OK)
		rc = add_point(pk, &v->h);
	if (rc == SL_OK)
		rc = write_at(pk, v->rec, v->h.header_len + v->h.payload_len);
	return rc;
}

int sl_compact_segment(const char *dir, const struct sl_io *io, uint64_t first_seq, int level,
		       uint32_t pack_size, uint32_t max_commit, bool sync, bool seal,
		       const volatile bool *stop, uint64_t *out_size, char *msg, size_t msglen)
{
	struct sl_segfile src, dst;
	struct sl_decoder d;
	struct packer pk = { .io = io, .fd = -1, .pack_size = pack_size, .dst = &dst };
	bool short_header;
	char *tmp = sl_seg_path(dir, first_seq, SL_SEG_SUFFIX ".pack");
	memset(&dst, 0, sizeof(dst));
	dst.fd = -1;
	int rc = sl_decoder_init(&d);
	if (rc || !tmp) {
		free(tmp);
		sl_decoder_free(&d);
		return SL_ENOMEM;
	}
	rc = sl_segfile_open(&src, io, dir, first_seq, &short_header, msg, msglen);
	if (rc)
		goto out_nosrc;
	pk.cctx = ZSTD_createCCtx();
	if (!pk.cctx || ZSTD_isError(ZSTD_CCtx_setParameter(pk.cctx, ZSTD_c_compressionLevel, level)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(pk.cctx, ZSTD_c_contentSizeFlag, 1))) {
		rc = SL_ENOMEM;
		goto out;
	}
	pk.fd = io->open(io->ctx, tmp, O_RDWR | O_CREAT | O_TRUNC | SL_O_WRITE, 0644);
	if (pk.fd < 0) {
		sl_msg(msg, msglen, "%s: %s", tmp, strerror(errno));
		rc = SL_EIO;
		goto out;
	}
	/* The new file is locked as the segment being packed is (log/FORMAT.md,
	 * "Writers"), from before it takes the segment's name until its index
	 * is written: another packer that opens the name then waits, and finds
	 * the index saying it is packed.  A file nobody else has: at once. */
	(void)flock(pk.fd, LOCK_EX | LOCK_NB);
	/* The header is kept byte for byte. */
	const uint8_t *hp;
	if (sl_segfile_read(&src, io, 0, SL_SEG_HEADER_SIZE, &hp) != (ssize_t)SL_SEG_HEADER_SIZE ||
	    write_at(&pk, hp, SL_SEG_HEADER_SIZE)) {
		sl_msg(msg, msglen, "%s: %s", tmp, strerror(errno));
		rc = SL_EIO;
		goto out;
	}
	uint64_t off = SL_SEG_HEADER_SIZE, next_seq = src.first_seq;
	uint32_t chain = src.hdr.prev_crc;
	for (;;) {
		if (stop && *stop) {
			rc = SL_ECLOSED;
			goto out;
		}
		struct sl_rec_view v;
		const char *why = "";
		int st = sl_rec_read(&src, io, off, max_commit, &v, &why);
		if (st == SL_CR_END)
			break;
		if (st < 0) {
			sl_msg(msg, msglen, "%s: %s", src.path, strerror(errno));
			rc = SL_EIO;
			goto out;
		}
		if (st == SL_CR_OK && (v.h.first_seq != next_seq || v.h.prev_crc != chain)) {
			st = SL_CR_BAD;
			why = "commit chain broken";
		}
		if (st == SL_CR_OK && (rc = sl_decoder_record(&d, &v, max_commit, &why)) == SL_ECORRUPT)
			st = SL_CR_BAD;
		if (st != SL_CR_OK) {
			sl_msg(msg, msglen, "%s: offset %" PRIu64 ": %s (compaction refused)", src.path, off, why);
			rc = SL_ECORRUPT;
			goto out;
		}
		if (rc)
			goto out;
		if (v.h.kind == SL_REC_RAW) {
			rc = pack_commit(&pk, &d.commits[0], v.payload, v.h.raw_len, v.h.prev_crc);
		} else {
			rc = copy_record(&pk, &v);
		}
		if (rc)
			goto io_fail;
		next_seq = v.h.first_seq + v.h.n_events;
		chain = v.h.chain_out;
		pk.last_time = v.h.time_last;
		off = v.next_off;
	}
	if ((rc = flush_pack(&pk)))
		goto io_fail;
	if (sync && io->sync(io->ctx, pk.fd) < 0)
		goto io_fail;
	char *path = sl_seg_path(dir, first_seq, SL_SEG_SUFFIX);
	if (!path) {
		rc = SL_ENOMEM;
		goto out;
	}
	int rr = io->rename(io->ctx, tmp, path);
	free(path);
	if (rr < 0 || (sync && sl_sync_dir(io, dir) < 0))
		goto io_fail;
	free(tmp);
	tmp = NULL;
	/* The index of the new file: its reading points, and the seal. */
	struct stat st;
	if (io->fstat(io->ctx, pk.fd, &st) < 0)
		goto io_fail;
	dst.first_seq = first_seq;
	dst.hdr = src.hdr;
	dst.size = pk.off;
	dst.ino = (uint64_t)st.st_ino;
	dst.sealed = seal;
	dst.seal = (struct sl_idx_entry){ SL_IDX_SEAL, next_seq, pk.last_time, pk.off, chain,
					  SL_IDX_SEAL_PACKED };
	(void)sl_index_write(&dst, io, dir, NULL, 0);  /* a cache: rebuilt if missing */
	*out_size = pk.off;
	rc = SL_OK;
	goto out;
io_fail:
	if (rc == SL_OK || rc == SL_EIO) {
		sl_msg(msg, msglen, "%s: %s", tmp ? tmp : dir, strerror(errno));
		rc = SL_EIO;
	}
out:
	sl_segfile_close(&src, io);
out_nosrc:
	if (pk.fd >= 0)
		io->close(io->ctx, pk.fd);
	if (tmp) {
		io->unlink(io->ctx, tmp);
		free(tmp);
	}
	ZSTD_freeCCtx(pk.cctx);
	free(pk.raw);
	free(pk.out);
	free(dst.idx);
	sl_decoder_free(&d);
	return rc;
}
