/* reader.c: reading a log, also while a writer appends to it.
 *
 * A reader walks the segments in order, checks every commit (checksum,
 * sequence number, chain, time order) and decodes it into event records.
 * What it treats as "not there yet" rather than damage: the end of the last
 * segment, and an incomplete or torn commit at the end of the last segment
 * (a writer mid-append, or a crash the writer's next open will cut).  A new
 * segment is only moved to once the current one has been read to its end,
 * rechecked after the new segment was seen, since a writer only creates the
 * next segment after its last commit to the current one is written.
 */
#include "log_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

struct sl_reader {
	char *dir;
	const struct sl_io *io;
	struct sl_reader_options opt;
	uint8_t log_id[SL_LOG_ID_SIZE];

	uint64_t *segs;             /* first seq of each known segment */
	size_t nseg;
	size_t cur;                 /* index of seg in segs */
	struct sl_segfile seg;

	uint64_t off;               /* offset of the next commit in seg */
	uint64_t next_seq;
	uint32_t chain;
	int64_t last_time;

	struct sl_decoder dec;
	size_t rec_i;
	struct sl_rec_header cur_h;   /* the record being read */
	uint64_t cur_off;
	bool gap_pending;

	uint64_t skip_seq;          /* return nothing below this seq */
	int64_t skip_time;          /* ... or before this time */

	/* where reading stopped on damage or a torn tail (for verify) */
	bool torn;
	uint64_t stop_off;

	char err[768];
};

void sl_reader_options_init(struct sl_reader_options *o)
{
	memset(o, 0, sizeof(*o));
	o->max_event_size = SL_DEFAULT_MAX_EVENT;
	o->max_commit_size = SL_DEFAULT_MAX_COMMIT;
}

const char *sl_reader_errmsg(sl_reader *r)
{
	return r->err;
}

void sl_reader_log_id(uint8_t out[SL_LOG_ID_SIZE], const sl_reader *r)
{
	memcpy(out, r->log_id, SL_LOG_ID_SIZE);
}

static int relist(struct sl_reader *r)
{
	uint64_t *segs = NULL;
	size_t n = 0;
	int rc = sl_list_segments(r->dir, &segs, &n, r->err, sizeof(r->err));
	if (rc)
		return rc;
	free(r->segs);
	r->segs = segs;
	r->nseg = n;
	return SL_OK;
}

/* Opens segment i and checks that it follows what was read before. */
static int open_seg(struct sl_reader *r, size_t i, bool check_follow)
{
	bool short_header;
	sl_segfile_close(&r->seg, r->io);
	int rc = sl_segfile_open(&r->seg, r->io, r->dir, r->segs[i], &short_header, r->err,
				 sizeof(r->err));
	if (rc)
		return rc;
	if (memcmp(r->seg.hdr.log_id, r->log_id, SL_LOG_ID_SIZE) != 0) {
		sl_msg(r->err, sizeof(r->err), "%s: offset 16: segment belongs to another log",
		       r->seg.path);
		return SL_EFOREIGN;
	}
	if (check_follow && (r->seg.first_seq != r->next_seq || r->seg.hdr.prev_crc != r->chain)) {
		sl_msg(r->err, sizeof(r->err), "%s: offset 0: segment does not follow the one before "
		       "it (expected first sequence number %" PRIu64 "): a segment is missing, "
		       "repeated or out of order", r->seg.path, r->next_seq);
		r->stop_off = 0;
		return SL_ECORRUPT;
	}
	r->cur = i;
	r->off = SL_SEG_HEADER_SIZE;
	r->next_seq = r->seg.first_seq;
	r->chain = r->seg.hdr.prev_crc;
	return SL_OK;
}

int sl_reader_open(sl_reader **out, const char *dir, const struct sl_reader_options *opts,
		   char *err, size_t errlen)
{
	struct sl_reader *r = calloc(1, sizeof(*r));
	if (!r)
		return SL_ENOMEM;
	r->seg.fd = -1;
	if (opts)
		r->opt = *opts;
	else
		sl_reader_options_init(&r->opt);
	r->io = r->opt.io ? r->opt.io : &sl_io_posix;
	int rc = SL_ENOMEM;
	r->dir = strdup(dir);
	if (!r->dir || sl_decoder_init(&r->dec))
		goto fail;
	uint64_t tail = sl_tail_read(dir);  /* before listing: see sl_ends_check() */
	if ((rc = relist(r)))
		goto fail;
	if (r->nseg == 0) {
		sl_msg(r->err, sizeof(r->err), "%s: no log here (no segment files)", dir);
		rc = SL_ENOTFOUND;
		goto fail;
	}
	/* A last segment never completed (a crash under durability none) may
	 * be the one TAIL names: the writer sets it aside, no event lost. */
	uint64_t size;
	if (tail && tail == r->segs[r->nseg - 1] && r->nseg > 1 &&
	    sl_seg_never_completed(r->io, dir, tail, &size))
		tail = 0;
	if (sl_ends_check(dir, r->segs, r->nseg, tail, NULL, 0) != SL_OK) {
		/* Once more: a writer setting a never-completed segment aside
		 * may have moved it and TAIL between the two looks. */
		tail = sl_tail_read(dir);
		if ((rc = relist(r)))
			goto fail;
		if ((rc = sl_ends_check(dir, r->segs, r->nseg, tail, r->err, sizeof(r->err))))
			goto fail;
	}
	bool short_header;
	if ((rc = sl_segfile_open(&r->seg, r->io, dir, r->segs[0], &short_header, r->err,
				  sizeof(r->err))))
		goto fail;
	memcpy(r->log_id, r->seg.hdr.log_id, SL_LOG_ID_SIZE);
	r->off = SL_SEG_HEADER_SIZE;
	r->next_seq = r->seg.first_seq;
	r->chain = r->seg.hdr.prev_crc;
	*out = r;
	return SL_OK;
fail:
	sl_msg(err, errlen, "%s", r->err[0] ? r->err : sl_strerror(rc));
	sl_reader_close(r);
	return rc;
}

void sl_reader_close(sl_reader *r)
{
	if (!r)
		return;
	sl_segfile_close(&r->seg, r->io);
	sl_decoder_free(&r->dec);
	free(r->segs);
	free(r->dir);
	free(r);
}

static int damage(struct sl_reader *r, uint64_t off, const char *why)
{
	r->stop_off = off;
	sl_msg(r->err, sizeof(r->err), "%s: offset %" PRIu64 ": %s", r->seg.path, off, why);
	return SL_ECORRUPT;
}

static int seek_in(struct sl_reader *r, size_t i, uint64_t seq, int64_t time_us, bool by_time);

/* At the end of a segment's file: when its name now holds another file (a
 * writer packed the segment it appends to: a complete copy renamed over it,
 * after which its commits go to the new file), moves to the new file, just
 * after the last event read (1); else 0 (the end of the log for now, or of
 * this segment).  The
 * old file, still open, was read to its end, and the copy holds the same
 * commits: those read already are skipped. */
static int follow_replaced(struct sl_reader *r)
{
	struct stat sb;
	if (!r->seg.path || stat(r->seg.path, &sb) != 0 || (uint64_t)sb.st_ino == r->seg.ino)
		return 0;
	uint64_t seq = r->next_seq;
	uint32_t chain = r->chain;
	int rc = seek_in(r, r->cur, seq, 0, false);
	if (rc)
		return rc;
	if (r->skip_seq < seq)
		r->skip_seq = seq;
	/* From the reading point on, the chain is checked as for any seek; a
	 * point at seq itself must continue the chain read so far. */
	if (r->next_seq > seq || (r->next_seq == seq && r->chain != chain))
		return damage(r, r->off, "the segment's new file does not hold the commits "
			      "of the one it replaced");
	return 1;
}

/* At the end of the current segment: moves to the next one if there is one
 * (1), or reports the end of the log for now (0). */
static int next_segment(struct sl_reader *r)
{
	if (r->cur + 1 >= r->nseg) {
		int rc = relist(r);
		if (rc)
			return rc;
		size_t i = 0;
		while (i < r->nseg && r->segs[i] != r->seg.first_seq)
			i++;
		if (i == r->nseg)
			return damage(r, 0, "segment vanished while being read");
		r->cur = i;
		if (r->cur + 1 >= r->nseg)
			return follow_replaced(r);
		/* A newer segment exists, so this one is complete: make sure its
		 * last commits, written before the next segment was created, have
		 * been read. */
		if (sl_segfile_refresh(&r->seg, r->io))
			return SL_EIO;
		if (r->off < r->seg.size)
			return 1;
	}
	/* The file read may have been replaced by a packed copy that the writer
	 * then appended to before it rolled: its commits past those read are
	 * in the new file, before the next segment's. */
	int rc = follow_replaced(r);
	if (rc)
		return rc;
	/* A last segment whose header was never written holds no event: the
	 * end of the log, as a torn tail is (offset 0 says which); the writer
	 * sets it aside.  Part of a header is damage (open_seg() says so). */
	uint64_t size;
	if (r->cur + 2 == r->nseg &&
	    sl_seg_never_completed(r->io, r->dir, r->segs[r->cur + 1], &size)) {
		r->torn = true;
		r->stop_off = 0;
		return 0;
	}
	rc = open_seg(r, r->cur + 1, true);
	return rc ? rc : 1;
}

/* Reads and decodes the record at r->off.  1: events ready; 0: end for now. */
static int read_record(struct sl_reader *r)
{
	for (;;) {
		struct sl_rec_view v;
		const char *why = NULL;
		int st = sl_rec_read(&r->seg, r->io, r->off, r->opt.max_commit_size, &v, &why);
		if (st < 0) {
			sl_msg(r->err, sizeof(r->err), "%s: %s", r->seg.path, strerror(errno));
			return st;
		}
		if (st == SL_CR_END) {
			int rc = next_segment(r);
			if (rc <= 0)
				return rc;
			continue;
		}
		if (st == SL_CR_OK) {
			if (v.h.first_seq != r->next_seq)
				return damage(r, r->off, "record sequence number out of order "
					      "(missing, repeated or reordered commit)");
			if (v.h.prev_crc != r->chain)
				return damage(r, r->off, "commit chain broken (missing, repeated or "
					      "reordered commit)");
			if (v.h.time_first < r->last_time)
				return damage(r, r->off, "record time goes backwards");
			int rc = sl_decoder_record(&r->dec, &v, r->opt.max_event_size, &why);
			if (rc == SL_ECORRUPT)
				return damage(r, r->off, why);
			if (rc)
				return rc;
			r->cur_h = v.h;
			r->cur_off = v.off;
			r->rec_i = 0;
			r->gap_pending = v.h.kind == SL_REC_GAP;
			r->off = v.next_off;
			r->next_seq = v.h.first_seq + v.h.n_events;
			r->chain = v.h.chain_out;
			r->last_time = v.h.time_last;
			return 1;
		}
		/* Incomplete or invalid.  At the end of the last segment this is a
		 * commit being written, or a torn one the writer will cut. */
		bool last = r->cur + 1 >= r->nseg;
		if (last && st == SL_CR_INCOMPLETE) {
			r->torn = true;
			r->stop_off = r->off;
			return 0;
		}
		if (last) {
			bool torn = false;
			uint64_t end = r->seg.size;
			const uint8_t *p;
			struct sl_rec_header h;
			const char *w2;
			ssize_t got = sl_segfile_read(&r->seg, r->io, r->off, SL_REC_HEADER_MAX, &p);
			if (got > 0 && sl_rec_header_decode(p, (size_t)got, r->opt.max_commit_size, &h, &w2) == 1)
				end = r->off + h.header_len + h.payload_len;
			if (end > r->seg.size)
				end = r->seg.size;  /* only zeroed sectors count for a bad record */
			if (sl_region_torn(&r->seg, r->io, r->off, end, &torn))
				return SL_EIO;
			if (torn) {
				r->torn = true;
				r->stop_off = r->off;
				return 0;
			}
		}
		return damage(r, r->off, why ? why : "invalid record");
	}
}

int sl_reader_next(struct sl_record *out, sl_reader *r)
{
	for (;;) {
		if (r->gap_pending) {
			r->gap_pending = false;
			const struct sl_rec_header *h = &r->cur_h;
			uint64_t last = h->first_seq + h->n_events - 1;
			if (last < r->skip_seq || h->time_last < r->skip_time)
				continue;
			*out = (struct sl_record){
				.seq = h->first_seq, .lost = h->n_events, .time_us = h->time_first,
				.commit_first_seq = h->first_seq, .commit_events = h->n_events,
				.commit_crc = h->chain_out, .segment_first_seq = r->seg.first_seq,
				.offset = r->cur_off,
			};
			return 1;
		}
		while (r->rec_i < r->dec.n_recs) {
			const struct sl_rec *x = &r->dec.recs[r->rec_i++];
			if (x->seq < r->skip_seq || x->time_us < r->skip_time)
				continue;
			const struct sl_dcommit *c = &r->dec.commits[x->commit];
			*out = (struct sl_record){
				.seq = x->seq, .lost = 0, .time_us = x->time_us, .data = x->data,
				.len = x->len, .commit_first_seq = c->first_seq,
				.commit_events = c->count, .commit_crc = c->crc,
				.segment_first_seq = r->seg.first_seq, .offset = r->cur_off,
			};
			return 1;
		}
		r->torn = false;
		int rc = read_record(r);
		if (rc <= 0)
			return rc;
	}
}

/* Positions at the reading point at or before (seq | time) in segment i. */
static int seek_in(struct sl_reader *r, size_t i, uint64_t seq, int64_t time_us, bool by_time)
{
	int rc = open_seg(r, i, false);
	if (rc)
		return rc;
	if ((rc = sl_index_load(&r->seg, r->io, r->dir, r->log_id)))
		return rc;
	/* Extend the known reading points past what the index covers (the
	 * segment being written, or a stale index), without decoding. */
	if (!r->seg.sealed) {
		struct sl_scan sc = { .off = SL_SEG_HEADER_SIZE, .next_seq = r->seg.first_seq,
				      .chain = r->seg.hdr.prev_crc };
		if (r->seg.n_idx) {
			const struct sl_idx_entry *e = &r->seg.idx[r->seg.n_idx - 1];
			sc = (struct sl_scan){ .off = e->offset, .next_seq = e->seq, .chain = e->aux,
					       .last_time = e->time_us };
		}
		if ((rc = sl_scan_segment(&r->seg, r->io, r->opt.max_commit_size, &sc)))
			return rc;
	}
	ssize_t k = sl_index_find(&r->seg, seq, time_us, by_time);
	r->dec.n_recs = 0;
	r->rec_i = 0;
	r->gap_pending = false;
	if (k >= 0) {
		const struct sl_idx_entry *e = &r->seg.idx[k];
		r->off = e->offset;
		r->next_seq = e->seq;
		r->chain = e->aux;
		r->last_time = e->time_us;
	}
	return SL_OK;
}

/* First time of segment i (the time of its first commit), or INT64_MAX when
 * it has none yet. */
static int seg_first_time(struct sl_reader *r, size_t i, int64_t *out)
{
	int rc = open_seg(r, i, false);
	if (rc)
		return rc;
	struct sl_rec_view v;
	const char *why;
	int st = sl_rec_read(&r->seg, r->io, SL_SEG_HEADER_SIZE, r->opt.max_commit_size, &v, &why);
	if (st < 0)
		return st;
	*out = st == SL_CR_OK ? v.h.time_first : INT64_MAX;
	return SL_OK;
}

int sl_reader_seek_seq(sl_reader *r, uint64_t seq)
{
	int rc = relist(r);
	if (rc)
		return rc;
	size_t i = 0;
	while (i + 1 < r->nseg && r->segs[i + 1] <= seq)
		i++;
	r->skip_seq = seq;
	r->skip_time = INT64_MIN;
	r->last_time = 0;
	return seek_in(r, i, seq, 0, false);
}

int sl_reader_seek_time(sl_reader *r, int64_t time_us)
{
	int rc = relist(r);
	if (rc)
		return rc;
	size_t i = 0;
	for (size_t j = r->nseg; j-- > 1;) {
		int64_t t;
		if ((rc = seg_first_time(r, j, &t)))
			return rc;
		if (t < time_us) {
			i = j;
			break;
		}
	}
	r->skip_seq = 0;
	r->skip_time = time_us;
	r->last_time = 0;
	return seek_in(r, i, 0, time_us, true);
}

int sl_reader_last_seq(uint64_t *out, sl_reader *r)
{
	int rc = relist(r);
	if (rc)
		return rc;
	struct sl_segfile s;
	bool short_header;
	rc = sl_segfile_open(&s, r->io, r->dir, r->segs[r->nseg - 1], &short_header, r->err,
			     sizeof(r->err));
	if (rc)
		return rc;
	if ((rc = sl_index_load(&s, r->io, r->dir, r->log_id)))
		goto out;
	struct sl_scan sc = { .off = SL_SEG_HEADER_SIZE, .next_seq = s.first_seq,
			      .chain = s.hdr.prev_crc };
	if (s.n_idx) {
		const struct sl_idx_entry *e = &s.idx[s.n_idx - 1];
		sc = (struct sl_scan){ .off = e->offset, .next_seq = e->seq, .chain = e->aux,
				       .last_time = e->time_us };
	}
	if ((rc = sl_scan_segment(&s, r->io, r->opt.max_commit_size, &sc)))
		goto out;
	*out = sc.next_seq - 1;
out:
	sl_segfile_close(&s, r->io);
	return rc;
}

/* ---- verify ---- */

/* Compares a segment's index file with the reading points a full read found. */
static bool index_fresh(struct sl_reader *r, uint64_t first_seq, const struct sl_segfile *seen,
			bool last)
{
	struct sl_segfile s;
	bool short_header, fresh = false;
	if (sl_segfile_open(&s, r->io, r->dir, first_seq, &short_header, NULL, 0))
		return false;
	if (sl_index_load(&s, r->io, r->dir, r->log_id) == SL_OK && s.n_idx == seen->n_idx &&
	    (s.sealed || last)) {
		fresh = true;
		for (size_t i = 0; i < s.n_idx && fresh; i++)
			fresh = s.idx[i].offset == seen->idx[i].offset && s.idx[i].seq == seen->idx[i].seq &&
				s.idx[i].time_us == seen->idx[i].time_us && s.idx[i].aux == seen->idx[i].aux;
	}
	sl_segfile_close(&s, r->io);
	return fresh;
}

int sl_log_verify(const char *dir, const struct sl_reader_options *opts,
		  struct sl_verify_report *rep, sl_progress_fn progress, void *ctx,
		  char *err, size_t errlen)
{
	memset(rep, 0, sizeof(*rep));
	sl_reader *r = NULL;
	int rc = sl_reader_open(&r, dir, opts, err, errlen);
	if (rc == SL_ECORRUPT || rc == SL_EVERSION) {
		rep->damaged = true;
		snprintf(rep->damage_segment, sizeof(rep->damage_segment), "%s", dir);
		sl_msg(rep->damage, sizeof(rep->damage), "%s", err ? err : "damaged first segment");
		return SL_OK;
	}
	if (rc)
		return rc;
	uint64_t total = 0;
	for (size_t i = 0; i < r->nseg; i++) {
		struct stat st;
		char *p = sl_seg_path(dir, r->segs[i], SL_SEG_SUFFIX);
		if (p && stat(p, &st) == 0)
			total += (uint64_t)st.st_size;
		free(p);
		p = sl_seg_path(dir, r->segs[i], SL_IDX_SUFFIX);
		if (p && stat(p, &st) == 0)
			rep->index_bytes += (uint64_t)st.st_size;
		free(p);
	}
	rep->stored_bytes = total;
	uint64_t done_before = 0, seg_size = 0, last_commit = 0, last_seg = 0, last_rec = UINT64_MAX;
	/* reading points seen in the current segment, to check its index */
	struct sl_segfile seen;
	memset(&seen, 0, sizeof(seen));
	uint64_t seen_seg = r->seg.first_seq;
	rep->segments = 1;
	struct sl_record rec;
	int got;
	while ((got = sl_reader_next(&rec, r)) == 1) {
		if (rec.segment_first_seq != seen_seg) {
			if (!index_fresh(r, seen_seg, &seen, false))
				rep->stale_indexes++;
			done_before += seg_size;
			seen.n_idx = 0;
			last_rec = UINT64_MAX;
			seen_seg = rec.segment_first_seq;
			rep->segments++;
		}
		seg_size = r->seg.size;
		if (rec.commit_first_seq != last_commit || rec.segment_first_seq != last_seg) {
			last_commit = rec.commit_first_seq;
			last_seg = rec.segment_first_seq;
			rep->commits++;
			if (progress && (rep->commits & 1023) == 0)
				progress(ctx, r->cur_off + done_before, total);
		}
		if (r->cur_off != last_rec) {
			last_rec = r->cur_off;
			rep->raw_bytes += r->cur_h.raw_len;
			if (sl_index_wants_point(&seen, r->cur_off))
				sl_index_add(&seen, &(struct sl_idx_entry){ SL_IDX_POINT, r->cur_h.first_seq,
					     r->cur_h.time_first, r->cur_off, r->cur_h.prev_crc, 0 });
		}
		if (!rep->first_seq)
			rep->first_seq = rec.seq, rep->first_time_us = rec.time_us;
		if (rec.lost) {
			rep->last_seq = rec.seq + rec.lost - 1;
			continue;
		}
		rep->last_seq = rec.seq;
		rep->last_time_us = rec.time_us;
		rep->events++;
		sl_event *ev;
		int drc = sl_event_decode(&ev, rec.data, rec.len, rec.seq, rec.time_us);
		if (drc == SL_ENOMEM) {
			/* Not damage: the event was not looked at. */
			sl_msg(err, errlen, "%s: event %" PRIu64 ": out of memory", dir, rec.seq);
			rc = SL_ENOMEM;
			goto out;
		}
		if (drc) {
			rep->damaged = true;
			snprintf(rep->damage_segment, sizeof(rep->damage_segment), "%s", r->seg.path);
			rep->damage_offset = rec.offset;
			snprintf(rep->damage, sizeof(rep->damage), "event %" PRIu64 " is not a valid "
				 "protobuf event", rec.seq);
			break;
		}
		if (sl_event_unknown_type(ev))
			rep->unknown_events++;
		sl_event_free(ev);
	}
	if (got == 0) {
		if (!index_fresh(r, seen_seg, &seen, true))
			rep->stale_indexes++;
		rep->torn_tail = r->torn;
		rep->torn_offset = r->stop_off;
	} else if (got < 0) {
		if (got != SL_ECORRUPT && got != SL_EFOREIGN && got != SL_EVERSION) {
			sl_msg(err, errlen, "%s", r->err);
			rc = got;
			goto out;
		}
		rep->damaged = true;
		snprintf(rep->damage_segment, sizeof(rep->damage_segment), "%s",
			 r->seg.path ? r->seg.path : dir);
		rep->damage_offset = r->stop_off;
		sl_msg(rep->damage, sizeof(rep->damage), "%s", r->err);
	}
	if (progress)
		progress(ctx, total, total);
out:
	free(seen.idx);
	sl_reader_close(r);
	return rc;
}
