/* repair.c: salvaging a damaged log (`statelog repair`).
 *
 * Opening a log never repairs damage outside the torn tail: that is an error
 * until someone asks for this.  Repair then keeps everything that can still
 * be read and says exactly what could not:
 *  1. take the writer lock; a sound log (torn tail aside) is left to the
 *     writer's ordinary recovery;
 *  2. read every segment record by record; past a damaged record, look for
 *     the next record magic that starts a readable record;
 *  3. write a new log with the same id in a directory beside the segments:
 *     each readable commit again (same events, sequence numbers and times),
 *     and an explicit gap commit for each range of lost sequence numbers;
 *  4. move the old segments, indexes and cut files into
 *     damaged-<time>/ and the new segments into place.
 * Step 4 is a handful of renames; should it be interrupted, the old files
 * are all in damaged-<time>/ or still in place, and nothing is deleted.
 */
#include "log_internal.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct salvage {
	sl_log *out;
	uint64_t next_seq;          /* the next sequence number the new log gets */
	struct sl_repair_report *rep;
	sl_event **evs;
	size_t cap;
};

static int add_gap(struct salvage *sv, uint64_t upto)
{
	if (upto <= sv->next_seq)
		return SL_OK;
	uint64_t n = upto - sv->next_seq;
	if (!sv->rep->gaps) {
		sv->rep->lost_first_seq = sv->next_seq;
		sv->rep->lost_last_seq = upto - 1;
	}
	sv->rep->gaps++;
	sv->rep->events_lost += n;
	while (n) {
		uint64_t k = n > UINT32_MAX ? UINT32_MAX : n;
		int rc = sl_log_append_gap(sv->out, k);
		if (rc)
			return rc;
		n -= k;
	}
	sv->next_seq = upto;
	return SL_OK;
}

/* Re-appends the commits of one decoded record. */
static int copy_record(struct salvage *sv, const struct sl_decoder *d)
{
	size_t r = 0;
	for (size_t c = 0; c < d->n_commits; c++) {
		const struct sl_dcommit *dc = &d->commits[c];
		uint64_t end = dc->first_seq + dc->count;
		if (end <= sv->next_seq) {
			while (r < d->n_recs && d->recs[r].commit == c)
				r++;
			continue;  /* repeated: already kept */
		}
		int rc = add_gap(sv, dc->first_seq);
		if (rc)
			return rc;
		if (dc->gap) {
			if ((rc = add_gap(sv, end)))
				return rc;
			continue;
		}
		if (dc->count > sv->cap) {
			sl_event **n = realloc(sv->evs, dc->count * sizeof(*n));
			if (!n)
				return SL_ENOMEM;
			sv->evs = n;
			sv->cap = dc->count;
		}
		size_t k = 0;
		bool bad = false;
		for (; r < d->n_recs && d->recs[r].commit == c; r++) {
			const struct sl_rec *x = &d->recs[r];
			if (bad || x->seq < sv->next_seq)
				continue;
			/* An undecodable event ends what is kept of the commit;
			 * no memory to decode one stops the repair (it must
			 * not turn sound events into a gap). */
			rc = sl_event_decode(&sv->evs[k], x->data, x->len, x->seq, x->time_us);
			if (rc == SL_ENOMEM) {
				for (size_t i = 0; i < k; i++)
					sl_event_free(sv->evs[i]);
				return rc;
			}
			if (rc)
				bad = true;
			else
				k++;
		}
		if (k) {
			rc = sl_log_append(sv->out, sv->evs, k, NULL);
			for (size_t i = 0; i < k; i++)
				sl_event_free(sv->evs[i]);
			if (rc)
				return rc;
			sv->next_seq += k;
		}
		sv->rep->commits_kept++;
		if ((rc = add_gap(sv, end)))
			return rc;
	}
	return SL_OK;
}

/* Salvages every readable record of one segment. */
static int salvage_segment(struct salvage *sv, const char *dir, uint64_t first_seq,
			   const struct sl_io *io, uint32_t max_commit, uint32_t max_event,
			   const uint8_t log_id[SL_LOG_ID_SIZE])
{
	struct sl_segfile s;
	bool short_header;
	int rc = sl_segfile_open(&s, io, dir, first_seq, &short_header, NULL, 0);
	if (rc == SL_ECORRUPT || rc == SL_EVERSION) {
		sv->rep->commits_lost++;  /* a whole segment whose header is gone */
		return SL_OK;
	}
	if (rc)
		return rc;
	if (memcmp(s.hdr.log_id, log_id, SL_LOG_ID_SIZE) != 0) {
		sl_segfile_close(&s, io);
		return SL_OK;  /* a stranger: left for the damaged directory */
	}
	struct sl_decoder d;
	if ((rc = sl_decoder_init(&d))) {
		sl_segfile_close(&s, io);
		return rc;
	}
	uint64_t off = SL_SEG_HEADER_SIZE;
	while (off < s.size) {
		struct sl_rec_view v;
		const char *why;
		int st = sl_rec_read(&s, io, off, max_commit, &v, &why);
		if (st < 0) {
			rc = st;
			break;
		}
		if (st == SL_CR_OK) {
			int dr = sl_decoder_record(&d, &v, max_event, &why);
			if (dr == SL_OK) {
				if ((rc = copy_record(sv, &d)))
					break;
			} else if (dr == SL_ECORRUPT) {
				sv->rep->commits_lost++;
			} else {
				rc = dr;        /* out of memory: salvage nothing less */
				break;
			}
			off = v.next_off;
			continue;
		}
		/* Damaged: look for the next record magic after it. */
		sv->rep->commits_lost++;
		uint64_t pos = off + 1;
		off = s.size;
		while (pos + 2 <= s.size) {
			const uint8_t *p;
			size_t want = s.size - pos > (1u << 16) ? (1u << 16) : (size_t)(s.size - pos);
			ssize_t got = sl_segfile_read(&s, io, pos, want, &p);
			if (got < 2)
				break;
			static const uint8_t magic[2] = { SL_REC_MAGIC0, SL_REC_MAGIC1 };
			const uint8_t *m = memmem(p, (size_t)got, magic, 2);
			if (m) {
				off = pos + (uint64_t)(m - p);
				break;
			}
			pos += (uint64_t)got - 1;
		}
	}
	sl_decoder_free(&d);
	sl_segfile_close(&s, io);
	return rc;
}

static bool is_log_file(const char *name)
{
	size_t n = strlen(name);
	return (n > 4 && strcmp(name + n - 4, SL_SEG_SUFFIX) == 0) ||
	       (n > 4 && strcmp(name + n - 4, SL_IDX_SUFFIX) == 0) || strstr(name, ".seg.cut-") ||
	       strstr(name, ".seg.torn") || strstr(name, ".tmp") || strstr(name, ".seg.pack") ||
	       strcmp(name, SL_TAIL_NAME) == 0;
}

/* Moves every log file of `from` into `to` (which exists). */
static int move_files(const struct sl_io *io, const char *from, const char *to, char *msg,
		      size_t msglen)
{
	DIR *d = opendir(from);
	if (!d) {
		sl_msg(msg, msglen, "%s: %s", from, strerror(errno));
		return SL_EIO;
	}
	int rc = SL_OK;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (!is_log_file(de->d_name))
			continue;
		char a[4400], b[4400];
		snprintf(a, sizeof(a), "%s/%s", from, de->d_name);
		snprintf(b, sizeof(b), "%s/%s", to, de->d_name);
		if (io->rename(io->ctx, a, b) < 0) {
			sl_msg(msg, msglen, "%s: %s", a, strerror(errno));
			rc = SL_EIO;
			break;
		}
	}
	closedir(d);
	return rc;
}

int sl_log_repair(const char *dir, const struct sl_log_options *opts,
		  struct sl_repair_report *rep, char *err, size_t errlen)
{
	memset(rep, 0, sizeof(*rep));
	struct sl_log_options o;
	if (opts)
		o = *opts;
	else
		sl_log_options_init(&o);
	const struct sl_io *io = o.io ? o.io : &sl_io_posix;
	int lock_fd = -1, rc;
	uint64_t *segs = NULL;
	size_t nseg = 0;
	char newdir[4200] = "", damaged[4200] = "";
	struct salvage sv = { .next_seq = 1, .rep = rep };

	if ((rc = sl_lock_take(dir, io, &lock_fd, err, errlen)))
		return rc;
	struct sl_reader_options ro;
	sl_reader_options_init(&ro);
	ro.max_event_size = o.max_event_size;
	ro.max_commit_size = o.max_commit_size;
	ro.io = o.io;
	struct sl_verify_report v;
	if ((rc = sl_log_verify(dir, &ro, &v, NULL, NULL, err, errlen)))
		goto out;
	if (!v.damaged)
		goto out;  /* sound (a torn tail is the writer's to cut) */

	if ((rc = sl_list_segments(dir, &segs, &nseg, err, errlen)))
		goto out;
	/* The log id: the one most segments carry (the first readable header). */
	uint8_t log_id[SL_LOG_ID_SIZE];
	bool have_id = false;
	for (size_t i = 0; i < nseg && !have_id; i++) {
		struct sl_segfile s;
		bool sh;
		if (sl_segfile_open(&s, io, dir, segs[i], &sh, NULL, 0) == SL_OK) {
			memcpy(log_id, s.hdr.log_id, SL_LOG_ID_SIZE);
			have_id = true;
			sl_segfile_close(&s, io);
		}
	}
	if (!have_id) {
		sl_msg(err, errlen, "%s: no readable segment header: nothing to salvage", dir);
		rc = SL_ECORRUPT;
		goto out;
	}

	snprintf(newdir, sizeof(newdir), "%s/repair.new", dir);
	o.create = true;
	o.durability = SL_DURABLE_NONE;  /* synced once at the end */
	o.io = io;
	if ((rc = sl_log_open_as(&sv.out, newdir, &o, log_id, err, errlen)))
		goto out;
	for (size_t i = 0; i < nseg; i++)
		if ((rc = salvage_segment(&sv, dir, segs[i], io, o.max_commit_size, o.max_event_size,
					  log_id)))
			break;
	if (rc == SL_ENOMEM)
		sl_msg(err, errlen, "%s: salvaging: out of memory (nothing changed)", dir);
	if (rc == SL_OK && (rc = sl_log_sync(sv.out)) != SL_OK)
		sl_msg(err, errlen, "%s: %s", newdir, sl_log_errmsg(sv.out));
	int crc = sl_log_close(sv.out);
	sv.out = NULL;
	if (rc == SL_OK)
		rc = crc;
	if (rc)
		goto out;

	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	snprintf(damaged, sizeof(damaged), "%s/damaged-%s", dir, stamp);
	if (io->mkdir(io->ctx, damaged, 0755) < 0 && errno != EEXIST) {
		sl_msg(err, errlen, "%s: %s", damaged, strerror(errno));
		rc = SL_EIO;
		goto out;
	}
	if ((rc = move_files(io, dir, damaged, err, errlen)) ||
	    (rc = move_files(io, newdir, dir, err, errlen)))
		goto out;
	if (sl_sync_dir(io, dir) < 0 || sl_sync_dir(io, damaged) < 0) {
		sl_msg(err, errlen, "%s: %s", dir, strerror(errno));
		rc = SL_EIO;
		goto out;
	}
	static const char *const aux[] = { SL_LOCK_NAME, SL_WAIT_LOCK_NAME };
	for (size_t i = 0; i < sizeof(aux) / sizeof(aux[0]); i++) {
		char lock[4300];
		snprintf(lock, sizeof(lock), "%s/%s", newdir, aux[i]);
		io->unlink(io->ctx, lock);
	}
	rmdir(newdir);
	rep->changed = true;
	sl_msg(rep->aside, sizeof(rep->aside), "%s", damaged);
out:
	if (sv.out)
		sl_log_close(sv.out);
	free(sv.evs);
	free(segs);
	if (lock_fd >= 0)
		io->close(io->ctx, lock_fd);
	return rc;
}
