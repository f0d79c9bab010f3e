/* recover.c: finding the end of a log when a writer opens it.
 *
 * The rules (FORMAT.md, "Recovery"):
 *  - Every segment header must be sound and name the same log; segment k+1
 *    must start at the sequence number after segment k's last and carry its
 *    last crc (the chain), or a segment is missing, repeated or reordered.
 *  - Only the last segment may end in a torn commit.  A commit there is torn
 *    when the file ends inside it, or when a whole 512-byte sector of it (or
 *    the part of a sector inside it) reads as zeros, which is what a crash
 *    leaves where a write had not reached the disk.  The torn commit and
 *    everything after it are cut, kept aside in "<segment>.cut-<offset>",
 *    and reported, with whether the cut held whole valid commits.
 *  - Any other invalid commit is damage: an error naming segment and offset.
 */
#include "log_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

int sl_scan_segment(struct sl_segfile *s, const struct sl_io *io, uint32_t max_commit,
		    struct sl_scan *sc)
{
	sc->stop_why = NULL;
	sc->bad_header_ok = false;
	struct sl_decoder d;
	bool have_decoder = false;
	int rc = SL_OK;
	for (;;) {
		struct sl_rec_view v;
		const char *why = NULL;
		int st = sl_rec_read(s, io, sc->off, max_commit, &v, &why);
		if (st < 0) {
			rc = st;
			break;
		}
		if (st == SL_CR_OK && v.h.kind == SL_REC_PACKED) {
			/* A packed record's chain is only checked by decoding it. */
			if (!have_decoder) {
				if ((rc = sl_decoder_init(&d)))
					break;
				have_decoder = true;
			}
			int drc = sl_decoder_record(&d, &v, max_commit, &why);
			if (drc == SL_ECORRUPT)
				st = SL_CR_BAD;
			else if (drc) {
				rc = drc;
				break;
			}
		}
		if (st == SL_CR_OK) {
			if (v.h.first_seq != sc->next_seq) {
				st = SL_CR_BAD;
				why = "record sequence number out of order (missing, repeated or reordered commit)";
			} else if (v.h.prev_crc != sc->chain) {
				st = SL_CR_BAD;
				why = "commit chain broken (missing, repeated or reordered commit)";
			} else if (v.h.time_first < sc->last_time) {
				st = SL_CR_BAD;
				why = "record time goes backwards";
			}
		}
		if (st != SL_CR_OK) {
			sc->stop_status = st;
			sc->stop_why = why;
			if (st == SL_CR_BAD) {
				const uint8_t *p;
				ssize_t got = sl_segfile_read(s, io, sc->off, SL_REC_HEADER_MAX, &p);
				const char *w2;
				if (got > 0)
					sc->bad_header_ok = sl_rec_header_decode(p, (size_t)got, max_commit,
										  &sc->bad, &w2) == 1;
			}
			break;
		}
		if (sl_index_wants_point(s, v.off)) {
			struct sl_idx_entry e = { SL_IDX_POINT, v.h.first_seq, v.h.time_first, v.off,
						  v.h.prev_crc, 0 };
			if ((rc = sl_index_add(s, &e)))
				break;
		}
		if (v.h.kind == SL_REC_RAW)
			sc->has_raw = true;
		sc->next_seq = v.h.first_seq + v.h.n_events;
		sc->chain = v.h.chain_out;
		sc->last_time = v.h.time_last;
		sc->records++;
		sc->off = v.next_off;
		s->scanned_to = sc->off;
	}
	if (have_decoder)
		sl_decoder_free(&d);
	return rc;
}

/* Copies [off, size) of the segment into path, and syncs it. */
static int keep_aside(struct sl_segfile *s, const struct sl_io *io, uint64_t off,
		      const char *path, bool sync)
{
	int fd = io->open(io->ctx, path, O_WRONLY | O_CREAT | O_TRUNC | SL_O_WRITE, 0644);
	if (fd < 0)
		return SL_EIO;
	int rc = SL_OK;
	uint64_t pos = off, wpos = 0;
	while (pos < s->size) {
		const uint8_t *p;
		size_t want = s->size - pos > (1u << 20) ? (1u << 20) : (size_t)(s->size - pos);
		ssize_t got = sl_segfile_read(s, io, pos, want, &p);
		if (got <= 0) {
			rc = SL_EIO;
			break;
		}
		for (ssize_t done = 0; done < got;) {
			ssize_t w = io->pwrite(io->ctx, fd, p + done, (size_t)(got - done), (off_t)wpos);
			if (w < 0) {
				rc = SL_EIO;
				goto out;
			}
			done += w;
			wpos += (uint64_t)w;
		}
		pos += (uint64_t)got;
	}
	if (rc == SL_OK && sync && io->sync(io->ctx, fd) < 0)
		rc = SL_EIO;
out:;
	int e = errno;
	io->close(io->ctx, fd);
	errno = e;
	return rc;
}

/* After a torn commit at `off`: does the cut hold whole valid commits?  A
 * commit whose header was lost is stepped over by looking for the next
 * commit magic, so that later writes that landed are found too. */
static void find_lost(struct sl_segfile *s, const struct sl_io *io, uint32_t max_commit,
		      const struct sl_scan *sc, struct sl_recovery_report *rep)
{
	uint64_t off = sc->bad_header_ok ? sc->off + sc->bad.header_len + sc->bad.payload_len
					 : sc->off + 1;
	while (off < s->size) {
		struct sl_rec_view v;
		const char *why;
		if (sl_rec_read(s, io, off, max_commit, &v, &why) == SL_CR_OK) {
			if (!rep->seq_lost) {
				rep->seq_lost = true;
				rep->lost_first_seq = v.h.first_seq;
			}
			rep->lost_last_seq = v.h.first_seq + v.h.n_events - 1;
			off = v.next_off;
			continue;
		}
		/* Look for the next commit magic. */
		const uint8_t *p;
		size_t want = s->size - off > (1u << 16) ? (1u << 16) : (size_t)(s->size - off);
		ssize_t got = sl_segfile_read(s, io, off + 1, want, &p);
		if (got < 2)
			return;
		static const uint8_t magic[2] = { SL_REC_MAGIC0, SL_REC_MAGIC1 };
		const uint8_t *m = memmem(p, (size_t)got, magic, 2);
		off = m ? off + 1 + (uint64_t)(m - p) : off + 1 + (uint64_t)got - 1;
	}
}

/* Cuts the torn tail of the last segment at sc->off. */
static int cut_tail(const char *dir, struct sl_segfile *s, const struct sl_io *io,
		    uint32_t max_commit, bool sync, const struct sl_scan *sc,
		    struct sl_recovery_report *rep, char *msg, size_t msglen)
{
	char aside[600];
	snprintf(aside, sizeof(aside), "%s.cut-%" PRIu64, s->path, sc->off);
	(void)dir;
	rep->tail_cut = true;
	sl_msg(rep->segment, sizeof(rep->segment), "%s", s->path);
	sl_msg(rep->aside, sizeof(rep->aside), "%s", aside);
	rep->cut_offset = sc->off;
	rep->bytes_cut = s->size - sc->off;
	find_lost(s, io, max_commit, sc, rep);
	if (keep_aside(s, io, sc->off, aside, sync)) {
		sl_msg(msg, msglen, "%s: keeping the torn tail aside: %s", aside,
		       sl_open_strerror(errno));
		return SL_EIO;
	}
	int fd = io->open(io->ctx, s->path, O_RDWR | SL_O_WRITE, 0);
	if (fd < 0 || io->ftruncate(io->ctx, fd, (off_t)sc->off) < 0 ||
	    (sync && io->sync(io->ctx, fd) < 0)) {
		sl_msg(msg, msglen, "%s: cutting the torn tail at offset %" PRIu64 ": %s", s->path,
		       sc->off, sl_open_strerror(errno));
		if (fd >= 0)
			io->close(io->ctx, fd);
		return SL_EIO;
	}
	io->close(io->ctx, fd);
	return sl_segfile_refresh(s, io);
}

/* Checks a sealed (not last) segment end to end, using its index when the
 * index checks out, rebuilding it otherwise. */
static int check_sealed(const char *dir, struct sl_segfile *s, const struct sl_io *io,
			uint32_t max_commit, uint64_t *next_seq, uint32_t *chain, int64_t *last_time,
			bool *unpacked, struct sl_recovery_report *rep, char *msg, size_t msglen)
{
	int rc = sl_index_load(s, io, dir, s->hdr.log_id);
	if (rc)
		return rc;
	if (s->sealed) {
		*unpacked = !(s->seal.flags & SL_IDX_SEAL_PACKED);
		*next_seq = s->seal.seq;
		*chain = s->seal.aux;
		*last_time = s->seal.time_us;
		return SL_OK;
	}
	s->n_idx = 0;
	struct sl_scan sc = { .off = SL_SEG_HEADER_SIZE, .next_seq = s->first_seq,
			      .chain = s->hdr.prev_crc, .last_time = *last_time };
	rc = sl_scan_segment(s, io, max_commit, &sc);
	if (rc)
		return rc;
	if (sc.stop_status != SL_CR_END) {
		sl_msg(msg, msglen, "%s: offset %" PRIu64 ": %s (not the last segment: run repair)",
		       s->path, sc.off, sc.stop_why);
		return SL_ECORRUPT;
	}
	if (sc.records == 0) {
		sl_msg(msg, msglen, "%s: empty segment that is not the last one", s->path);
		return SL_ECORRUPT;
	}
	s->sealed = true;
	s->seal = (struct sl_idx_entry){ SL_IDX_SEAL, sc.next_seq, sc.last_time, s->size, sc.chain,
					 sc.has_raw ? 0 : SL_IDX_SEAL_PACKED };
	/* A cache: when it cannot be written (a packer replacing this
	 * segment meanwhile, a full disk), it is rebuilt another time. */
	if (sl_index_write(s, io, dir, NULL, 0) == SL_OK)
		rep->indexes_rebuilt++;
	*unpacked = sc.has_raw;
	*next_seq = sc.next_seq;
	*chain = sc.chain;
	*last_time = sc.last_time;
	return SL_OK;
}

int sl_recover(const char *dir, const struct sl_io *io, uint32_t max_commit, bool sync,
	       struct sl_tail *out, struct sl_recovery_report *rep, char *msg, size_t msglen)
{
	uint64_t *seqs = NULL;
	size_t n = 0;
	struct sl_segfile s;
	memset(&s, 0, sizeof(s));
	s.fd = -1;
	uint64_t tail = sl_tail_read(dir);  /* before listing: see sl_ends_check() */
	int rc = sl_list_segments(dir, &seqs, &n, msg, msglen);
	if (rc)
		return rc;
	if (n == 0) {
		sl_msg(msg, msglen, "%s: no log here (no segment files)", dir);
		rc = SL_ENOTFOUND;
		goto out;
	}
	/* A last segment whose header was never written (no byte of it, or
	 * only zeros: a crash while it was being created, under durability
	 * `none`) held no event: it is set aside and reported.  One that holds
	 * part of a header was cut short after it was written, and commits,
	 * acknowledged ones too, may have followed: that is damage, as verify
	 * says, until `statelog repair` (log/FORMAT.md, "Recovery"). */
	if (n > 1) {
		bool short_header;
		uint64_t size = 0;
		rc = sl_segfile_open(&s, io, dir, seqs[n - 1], &short_header, msg, msglen);
		if (rc == SL_OK) {
			sl_segfile_close(&s, io);
		} else if (rc == SL_ECORRUPT && sl_seg_never_completed(io, dir, seqs[n - 1], &size)) {
			/* TAIL first, so that a reader never finds it naming a
			 * segment that is no longer there. */
			if (tail == seqs[n - 1]) {
				sl_tail_write(dir, io, seqs[n - 2], sync);
				tail = 0;
			}
			char *p = sl_seg_path(dir, seqs[n - 1], SL_SEG_SUFFIX);
			char *q = sl_seg_path(dir, seqs[n - 1], SL_SEG_SUFFIX ".torn");
			if (!p || !q || io->rename(io->ctx, p, q) < 0) {
				sl_msg(msg, msglen, "%s: setting aside: %s", p ? p : dir, strerror(errno));
				free(p);
				free(q);
				rc = p && q ? SL_EIO : SL_ENOMEM;
				goto out;
			}
			rep->empty_segment_removed = true;
			sl_msg(rep->segment, sizeof(rep->segment), "%s", p);
			sl_msg(rep->aside, sizeof(rep->aside), "%s", q);
			rep->bytes_cut = size;
			free(p);
			free(q);
			n--;
		} else {
			if (rc == SL_ECORRUPT && short_header && msg && msglen > strlen(msg))
				sl_msg(msg + strlen(msg), msglen - strlen(msg), ", and not empty: a segment "
				       "cut short, whose commits may be lost (run statelog repair)");
			goto out;
		}
	}
	if ((rc = sl_ends_check(dir, seqs, n, tail, msg, msglen)))
		goto out;
	uint64_t next_seq = 1;
	uint32_t chain = 0;
	int64_t last_time = 0;
	uint8_t log_id[SL_LOG_ID_SIZE];
	for (size_t i = 0; i < n; i++) {
		bool short_header;
		rc = sl_segfile_open(&s, io, dir, seqs[i], &short_header, msg, msglen);
		if (rc)
			goto out;
		if (i == 0) {
			memcpy(log_id, s.hdr.log_id, SL_LOG_ID_SIZE);
			next_seq = s.first_seq;
			chain = s.hdr.prev_crc;
		} else if (memcmp(log_id, s.hdr.log_id, SL_LOG_ID_SIZE) != 0) {
			sl_msg(msg, msglen, "%s: offset 16: segment belongs to another log", s.path);
			rc = SL_EFOREIGN;
			goto out;
		}
		if (s.first_seq != next_seq || s.hdr.prev_crc != chain) {
			sl_msg(msg, msglen, "%s: offset 0: segment does not follow the one before it "
			       "(expected first sequence number %" PRIu64 "): a segment is missing, "
			       "repeated or out of order", s.path, next_seq);
			rc = SL_ECORRUPT;
			goto out;
		}
		if (i + 1 < n) {
			bool unpacked = false;
			rc = check_sealed(dir, &s, io, max_commit, &next_seq, &chain, &last_time,
					  &unpacked, rep, msg, msglen);
			if (rc)
				goto out;
			sl_segfile_close(&s, io);
			if (unpacked) {
				uint64_t *nu = realloc(out->unpacked, (out->n_unpacked + 1) * sizeof(*nu));
				if (!nu) {
					rc = SL_ENOMEM;
					goto out;
				}
				out->unpacked = nu;
				out->unpacked[out->n_unpacked++] = seqs[i];
			}
			continue;
		}
		/* The last segment: resume from its last known reading point. */
		rc = sl_index_load(&s, io, dir, log_id);
		if (rc)
			goto out;
		bool stale = true;
		struct sl_scan sc = { .off = SL_SEG_HEADER_SIZE, .next_seq = next_seq,
				      .chain = chain, .last_time = last_time };
		if (s.sealed) {
			/* A seal on the last segment: trust nothing after the last
			 * reading point, re-scan from there. */
			s.sealed = false;
		}
		if (s.n_idx) {
			const struct sl_idx_entry *e = &s.idx[s.n_idx - 1];
			sc.off = e->offset;
			sc.next_seq = e->seq;
			sc.chain = e->aux;
			sc.last_time = e->time_us;
			s.n_idx--;  /* the scan adds it back after checking the commit */
			stale = false;
		}
		rc = sl_scan_segment(&s, io, max_commit, &sc);
		if (rc)
			goto out;
		if (sc.stop_status == SL_CR_BAD && !stale && sc.records == 0) {
			/* The index pointed at something that is not a commit: it is
			 * stale, not the segment damaged.  Scan from the start. */
			s.n_idx = 0;
			sc = (struct sl_scan){ .off = SL_SEG_HEADER_SIZE, .next_seq = next_seq,
					       .chain = chain, .last_time = last_time };
			stale = true;
			rc = sl_scan_segment(&s, io, max_commit, &sc);
			if (rc)
				goto out;
		}
		if (sc.stop_status != SL_CR_END) {
			bool torn = sc.stop_status == SL_CR_INCOMPLETE;
			if (!torn) {
				/* Only zeroed sectors count here: a damaged header's
				 * lengths prove nothing about where the file ends. */
				uint64_t end = sc.bad_header_ok
					? sc.off + sc.bad.header_len + sc.bad.payload_len
					: s.size;
				if (end > s.size)
					end = s.size;
				rc = sl_region_torn(&s, io, sc.off, end, &torn);
				if (rc)
					goto out;
			}
			if (!torn) {
				sl_msg(msg, msglen, "%s: offset %" PRIu64 ": %s (damage, not a torn "
				       "write: run repair)", s.path, sc.off, sc.stop_why);
				rc = SL_ECORRUPT;
				goto out;
			}
			rc = cut_tail(dir, &s, io, max_commit, sync, &sc, rep, msg, msglen);
			if (rc)
				goto out;
		}
		(void)stale;
		memcpy(out->log_id, log_id, SL_LOG_ID_SIZE);
		out->end_off = sc.off;
		out->next_seq = sc.next_seq;
		out->chain = sc.chain;
		out->last_time = sc.last_time;
		out->records_in_seg = sc.off > SL_SEG_HEADER_SIZE;
		out->seg = s;
		memset(&s, 0, sizeof(s));
		s.fd = -1;
		rep->next_seq = sc.next_seq;
	}
out:
	if (s.path)
		sl_segfile_close(&s, io);
	if (rc) {
		free(out->unpacked);
		out->unpacked = NULL;
		out->n_unpacked = 0;
	}
	free(seqs);
	return rc;
}
