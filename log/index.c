/* index.c: the sparse index beside each segment (NNNN.idx).
 *
 * The index lists reading points of the segment (record starts, at least
 * SL_IDX_SPACING bytes apart, where a reader can begin) with their sequence
 * number, time, offset and chain value, and, once the segment is complete,
 * a seal entry with the segment's size, next sequence number, last time,
 * last crc and whether it is fully packed.
 * It is a cache: anything in it that does not check out is ignored (and the
 * segment scanned instead), and the writer rewrites a missing or stale one.
 */
#include "log_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

bool sl_index_wants_point(const struct sl_segfile *s, uint64_t off)
{
	if (s->n_idx == 0)
		return true;
	const struct sl_idx_entry *last = &s->idx[s->n_idx - 1];
	return off > last->offset && off - last->offset >= SL_IDX_SPACING;
}

int sl_index_add(struct sl_segfile *s, const struct sl_idx_entry *e)
{
	if (s->n_idx == s->cap_idx) {
		size_t ncap = s->cap_idx ? s->cap_idx * 2 : 64;
		struct sl_idx_entry *n = realloc(s->idx, ncap * sizeof(*n));
		if (!n)
			return SL_ENOMEM;
		s->idx = n;
		s->cap_idx = ncap;
	}
	s->idx[s->n_idx++] = *e;
	return SL_OK;
}

int sl_index_load(struct sl_segfile *s, const struct sl_io *io, const char *dir,
		  const uint8_t log_id[SL_LOG_ID_SIZE])
{
	s->n_idx = 0;
	s->sealed = false;
	s->scanned_to = SL_SEG_HEADER_SIZE;
	char *path = sl_seg_path(dir, s->first_seq, SL_IDX_SUFFIX);
	if (!path)
		return SL_ENOMEM;
	int rc = SL_OK;
	uint8_t *data = NULL;
	int fd = io->open(io->ctx, path, O_RDONLY, 0);
	if (fd < 0)
		goto out;  /* missing: nothing known */
	struct stat st;
	if (io->fstat(io->ctx, fd, &st) < 0 || st.st_size < (off_t)SL_IDX_HEADER_SIZE ||
	    st.st_size > (off_t)(64u << 20))
		goto out;
	size_t len = (size_t)st.st_size;
	data = malloc(len);
	if (!data) {
		rc = SL_ENOMEM;
		goto out;
	}
	size_t have = 0;
	while (have < len) {
		ssize_t r = io->pread(io->ctx, fd, data + have, len - have, (off_t)have);
		if (r <= 0)
			break;
		have += (size_t)r;
	}
	uint8_t id[SL_LOG_ID_SIZE];
	uint64_t first, ino;
	if (have < SL_IDX_HEADER_SIZE || !sl_idx_header_decode(data, id, &first, &ino) ||
	    memcmp(id, log_id, SL_LOG_ID_SIZE) != 0 || first != s->first_seq || ino != s->ino)
		goto out;
	uint64_t last_off = 0, last_seq = 0;
	for (size_t off = SL_IDX_HEADER_SIZE; off + SL_IDX_ENTRY_SIZE <= have; off += SL_IDX_ENTRY_SIZE) {
		struct sl_idx_entry e;
		if (!sl_idx_entry_decode(data + off, &e))
			break;
		if (e.kind == SL_IDX_SEAL) {
			/* A seal is believed only if it is last and matches the file. */
			if (off + 2 * SL_IDX_ENTRY_SIZE <= have || e.offset != s->size || e.seq <= last_seq)
				break;
			s->seal = e;
			s->sealed = true;
			break;
		}
		bool ordered = s->n_idx == 0 || (e.offset > last_off && e.seq > last_seq);
		if (e.kind != SL_IDX_POINT || !ordered || e.offset < SL_SEG_HEADER_SIZE ||
		    e.offset >= s->size || e.seq < s->first_seq)
			break;
		rc = sl_index_add(s, &e);
		if (rc)
			goto out;
		last_off = e.offset;
		last_seq = e.seq;
	}
	/* Entries describe reading points; what lies after the last one has not
	 * been described (unless sealed), so scanning resumes there. */
	s->scanned_to = s->n_idx ? s->idx[s->n_idx - 1].offset : SL_SEG_HEADER_SIZE;
	if (s->sealed)
		s->scanned_to = s->size;
out:
	if (fd >= 0)
		io->close(io->ctx, fd);
	free(data);
	free(path);
	return rc;
}

int sl_index_write(const struct sl_segfile *s, const struct sl_io *io, const char *dir,
		   char *msg, size_t msglen)
{
	int rc = SL_OK, fd = -1;
	char *path = sl_seg_path(dir, s->first_seq, SL_IDX_SUFFIX);
	/* A name of this writer's own: a packer of another process and a
	 * writer's recovery may write one segment's index at the same time,
	 * and must not write into, or rename, each other's file (the last
	 * rename wins; either index is right for its inode). */
	static _Atomic unsigned counter;
	char sfx[64];
	snprintf(sfx, sizeof(sfx), SL_IDX_SUFFIX ".tmp-%ld-%u", (long)getpid(), counter++);
	char *tmp = sl_seg_path(dir, s->first_seq, sfx);
	size_t n = s->n_idx + (s->sealed ? 1 : 0);
	size_t len = SL_IDX_HEADER_SIZE + n * SL_IDX_ENTRY_SIZE;
	uint8_t *buf = malloc(len);
	if (!path || !tmp || !buf) {
		rc = SL_ENOMEM;
		goto out;
	}
	sl_idx_header_encode(s->hdr.log_id, s->first_seq, s->ino, buf);
	for (size_t i = 0; i < s->n_idx; i++)
		sl_idx_entry_encode(&s->idx[i], buf + SL_IDX_HEADER_SIZE + i * SL_IDX_ENTRY_SIZE);
	if (s->sealed)
		sl_idx_entry_encode(&s->seal, buf + SL_IDX_HEADER_SIZE + s->n_idx * SL_IDX_ENTRY_SIZE);
	fd = io->open(io->ctx, tmp, O_WRONLY | O_CREAT | O_TRUNC | SL_O_WRITE, 0644);
	if (fd < 0)
		goto ioerr;
	size_t done = 0;
	while (done < len) {
		ssize_t r = io->pwrite(io->ctx, fd, buf + done, len - done, (off_t)done);
		if (r < 0)
			goto ioerr;
		done += (size_t)r;
	}
	/* The index is derived data: no fsync.  A crash can leave it stale or
	 * torn, which the next open detects and rebuilds. */
	if (io->close(io->ctx, fd) < 0) {
		fd = -1;
		goto ioerr;
	}
	fd = -1;
	if (io->rename(io->ctx, tmp, path) < 0)
		goto ioerr;
	goto out;
ioerr:
	sl_msg(msg, msglen, "%s: %s", tmp ? tmp : dir, strerror(errno));
	rc = SL_EIO;
	if (fd >= 0)
		io->close(io->ctx, fd);
	if (tmp)
		io->unlink(io->ctx, tmp);
out:
	free(buf);
	free(path);
	free(tmp);
	return rc;
}

ssize_t sl_index_find(const struct sl_segfile *s, uint64_t seq, int64_t time_us, bool by_time)
{
	/* Last entry whose key is at or before the target (strictly before for
	 * time: events at exactly time_us may end the previous block). */
	size_t lo = 0, hi = s->n_idx;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		bool before = by_time ? s->idx[mid].time_us < time_us : s->idx[mid].seq <= seq;
		if (before)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (ssize_t)lo - 1;
}
