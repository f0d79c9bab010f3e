/* test_corrupt.c: the corruption campaign.  A log of the reference workload
 * (packed and raw records, several segments, their indexes) is damaged at
 * random, one fault per trial, on a copy: a single bit flipped, a 512-byte
 * sector zeroed, or the file truncated, anywhere in a segment or an index.
 * (Snapshots: none exist in this tree yet; see RELIABILITY.md.)
 *
 * What must hold, per trial:
 *  - reading never returns wrong data: every event a reader returns is
 *    byte-equal to the one appended with its sequence number, in order;
 *  - damage is detected: when reading stops early with an error, `verify`
 *    reports the damage and names the damaged segment; a reader may stop
 *    early without an error only at a torn tail of the last segment, which
 *    `verify` reports as such;
 *  - a writer's open either refuses the log (SL_ECORRUPT, naming the
 *    segment) or recovers it: then every event it keeps is the original,
 *    and any event it drops was in a torn tail of the last segment that it
 *    reports as cut;
 *  - a damaged index is harmless: ignored by readers, rewritten by the
 *    writer's open.
 * SL_CORRUPT_TRIALS sets the number of trials (default 300 for CI); the
 * full campaign is SL_CORRUPT_TRIALS=10000 build/tests/campaign/test_corrupt.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "camp.h"
#include "event_internal.h"
#include "log.h"
#include "workload.h"

TestSuite(campaign_corrupt, .timeout = 3600);

enum fault { FLIP, ZERO_SECTOR, TRUNCATE, N_FAULTS };
static const char *const fault_name[] = { "bit flip", "zeroed sector", "truncation" };

enum outcome {
	HARMLESS,        /* every event read back, nothing to report */
	INDEX_REBUILT,   /* an index damaged, ignored, rewritten on open */
	DETECTED,        /* reading refused it, verify names the segment */
	TORN_TAIL,       /* the last segment's tail: reported as torn, cut on open */
	N_OUTCOMES
};
static const char *const outcome_name[] = { "harmless", "index ignored and rebuilt",
					    "detected and named", "cut as a torn tail of the last segment" };

static char *build_log(struct camp_events *ref, char ***files, size_t *nfiles)
{
	char *dir = camp_tmpdir("corrupt-src");
	struct sl_log_options o;
	sl_log_options_init(&o);
	o.create = true;
	o.durability = SL_DURABLE_NONE;
	o.segment_size = 96 * 1024;
	o.pack_size = 16 * 1024;
	o.compact = false;
	sl_log *log = NULL;
	char err[1024] = "";
	cr_assert_eq(sl_log_open(&log, dir, &o, NULL, err, sizeof err), SL_OK, "%s", err);
	struct sl_workload_options wo;
	sl_workload_options_init(&wo);
	wo.seed = 99;
	wo.events = 1500;
	sl_workload *w = NULL;
	cr_assert_eq(sl_workload_new(&w, &wo), SL_OK);
	Statelog__Event *ev;
	uint64_t i = 0;
	while (sl_workload_next(w, &ev) == 1) {
		ev->has_time_us = 1;
		ev->time_us = sl_workload_time_us(w);
		cr_assert_eq(sl_log_append(log, &ev, 1, NULL), SL_OK, "%s", sl_log_errmsg(log));
		/* Pack the first two thirds; the rest stays raw. */
		if (++i == 1000)
			cr_assert_eq(sl_log_compact(log), SL_OK, "%s", sl_log_errmsg(log));
	}
	sl_workload_free(w);
	cr_assert_eq(sl_log_close(log), SL_OK);
	cr_assert_eq(camp_read_events(ref, dir, err, sizeof err), SL_OK, "%s", err);
	DIR *d = opendir(dir);
	struct dirent *de;
	*nfiles = 0;
	*files = NULL;
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);
		if (n > 4 && (strcmp(de->d_name + n - 4, ".seg") == 0 ||
			      strcmp(de->d_name + n - 4, ".idx") == 0)) {
			*files = realloc(*files, (*nfiles + 1) * sizeof **files);
			(*files)[(*nfiles)++] = strdup(de->d_name);
		}
	}
	closedir(d);
	return dir;
}

static void copy_dir(const char *from, const char *to, char **files, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char *a = camp_path(from, files[i]), *b = camp_path(to, files[i]);
		cr_assert_eq(camp_copy(a, b, false), 0, "copy %s", a);
		free(a);
		free(b);
	}
}

/* Applies the fault to the file; returns false when it would change nothing
 * (an empty file). */
static bool damage(const char *path, enum fault f, uint64_t *rng, char *what, size_t wlen)
{
	struct stat st;
	cr_assert_eq(stat(path, &st), 0, "%s", path);
	uint64_t size = (uint64_t)st.st_size;
	if (size == 0)
		return false;
	int fd = open(path, O_RDWR);
	cr_assert_geq(fd, 0, "%s", path);
	uint64_t off = camp_below(rng, size);
	switch (f) {
	case FLIP: {
		uint8_t b;
		cr_assert_eq(pread(fd, &b, 1, (off_t)off), 1);
		int bit = (int)camp_below(rng, 8);
		b ^= (uint8_t)(1u << bit);
		cr_assert_eq(pwrite(fd, &b, 1, (off_t)off), 1);
		snprintf(what, wlen, "bit %d of byte %" PRIu64 " flipped", bit, off);
		break;
	}
	case ZERO_SECTOR: {
		uint8_t z[512] = { 0 };
		off = off / 512 * 512;
		size_t n = size - off < 512 ? (size_t)(size - off) : 512;
		cr_assert_eq(pwrite(fd, z, n, (off_t)off), (ssize_t)n);
		snprintf(what, wlen, "sector at %" PRIu64 " zeroed", off);
		break;
	}
	default:
		cr_assert_eq(ftruncate(fd, (off_t)off), 0);
		snprintf(what, wlen, "truncated to %" PRIu64 " of %" PRIu64 " bytes", off, size);
		break;
	}
	close(fd);
	return true;
}

/* Reads the whole log; every event returned must be the original.  Returns
 * the reader's final code (0 or negative) and the count in *n. */
static int read_all(const char *dir, const struct camp_events *ref, uint64_t *n, char *msg,
		    size_t msglen, const char *trial)
{
	sl_reader *r = NULL;
	char err[1024] = "";
	*n = 0;
	int rc = sl_reader_open(&r, dir, NULL, err, sizeof err);
	if (rc != SL_OK) {
		snprintf(msg, msglen, "%s", err);
		return rc;
	}
	struct sl_record rec;
	while ((rc = sl_reader_next(&rec, r)) == 1) {
		cr_assert_eq(rec.seq, *n + 1, "%s: seq %" PRIu64 " after %" PRIu64, trial, rec.seq, *n);
		cr_assert_not_null(rec.data, "%s: a gap in a log never repaired", trial);
		cr_assert(rec.seq <= ref->n && rec.len == ref->len[rec.seq - 1] &&
			  memcmp(rec.data, ref->data[rec.seq - 1], rec.len) == 0,
			  "%s: WRONG DATA returned for event %" PRIu64, trial, rec.seq);
		(*n)++;
	}
	if (rc < 0)
		snprintf(msg, msglen, "%s", sl_reader_errmsg(r));
	sl_reader_close(r);
	return rc;
}

Test(campaign_corrupt, damage_is_detected_or_harmless_never_wrong_data)
{
	const char *env = getenv("SL_CORRUPT_TRIALS");
	int trials = env ? atoi(env) : 300;
	struct camp_events ref;
	char **files = NULL;
	size_t nfiles = 0;
	char *src = build_log(&ref, &files, &nfiles);
	/* the last segment: the greatest name */
	const char *last = NULL;
	int nseg = 0;
	for (size_t i = 0; i < nfiles; i++)
		if (strstr(files[i], ".seg")) {
			nseg++;
			if (!last || strcmp(files[i], last) > 0)
				last = files[i];
		}
	cr_assert_geq(nseg, 3, "several segments (%d)", nseg);
	uint64_t rng = 0xBADC0DE;
	uint64_t counts[2][N_FAULTS][N_OUTCOMES] = { { { 0 } } };
	for (int t = 0; t < trials; t++) {
		char *dir = camp_tmpdir("corrupt");
		copy_dir(src, dir, files, nfiles);
		const char *name = files[camp_below(&rng, nfiles)];
		bool is_index = strstr(name, ".idx") != NULL, is_last = strcmp(name, last) == 0;
		enum fault f = (enum fault)camp_below(&rng, N_FAULTS);
		char *path = camp_path(dir, name), what[256] = "", trial[512];
		if (!damage(path, f, &rng, what, sizeof what)) {
			free(path);
			camp_rmrf(dir);
			free(dir);
			continue;
		}
		snprintf(trial, sizeof trial, "trial %d: %s: %s", t, name, what);

		/* 1. verify, 2. a reader, with the log as damaged */
		struct sl_verify_report v;
		char err[1024] = "", msg[1024] = "";
		cr_assert_eq(sl_log_verify(dir, NULL, &v, NULL, NULL, err, sizeof err), SL_OK,
			     "%s: verify could not read the log: %s", trial, err);
		uint64_t n = 0;
		int rrc = read_all(dir, &ref, &n, msg, sizeof msg, trial);
		enum outcome out;
		if (rrc < 0) {
			cr_assert(v.damaged || (is_last && v.torn_tail),
				  "%s: reading fails (%s) but verify finds the log sound", trial, msg);
			if (v.damaged)
				cr_assert(strstr(v.damage_segment, name) || strstr(v.damage, name) ||
					  is_index,
					  "%s: verify names %s (%s), not the damaged file", trial,
					  v.damage_segment, v.damage);
			cr_assert(!is_index || strstr(msg, ".idx") == NULL,
				  "%s: a damaged index makes reading fail: %s", trial, msg);
			out = v.damaged ? DETECTED : TORN_TAIL;
		} else if (n < ref.n) {
			cr_assert(is_last && v.torn_tail,
				  "%s: SILENT LOSS: reading ends cleanly after %" PRIu64 " of %" PRIu64
				  " events (verify: damaged %d, torn tail %d)", trial, n, ref.n,
				  v.damaged, v.torn_tail);
			out = TORN_TAIL;
		} else {
			out = is_index ? INDEX_REBUILT : HARMLESS;
			cr_assert(!v.damaged || is_index, "%s: verify reports damage (%s) that reading "
				  "never met", trial, v.damage);
		}

		/* 3. a writer's open: refuses it, or recovers without wrong data */
		struct sl_log_options o;
		sl_log_options_init(&o);
		o.compact = false;
		o.durability = SL_DURABLE_NONE;
		struct sl_recovery_report rep;
		sl_log *log = NULL;
		int orc = sl_log_open(&log, dir, &o, &rep, err, sizeof err);
		if (orc == SL_OK) {
			sl_log_close(log);
			uint64_t m = 0;
			int rc2 = read_all(dir, &ref, &m, msg, sizeof msg, trial);
			if (rc2 == 0 && m < ref.n)
				cr_assert(rep.tail_cut && is_last,
					  "%s: SILENT LOSS on open: %" PRIu64 " of %" PRIu64
					  " events kept, nothing reported", trial, m, ref.n);
			if (is_index)
				cr_assert(rc2 == 0 && m == ref.n,
					  "%s: after open with a damaged index: %" PRIu64 " events, %s",
					  trial, m, rc2 ? msg : "no error");
			if (out == DETECTED && !is_last && rc2 == 0 && m == ref.n)
				cr_assert_fail("%s: open healed damage of a sealed segment silently",
					       trial);
		} else {
			cr_assert_eq(orc, SL_ECORRUPT, "%s: open: %s", trial, err);
			cr_assert(!is_index, "%s: a damaged index makes open fail: %s", trial, err);
			cr_assert_not_null(strstr(err, name), "%s: open's message does not name %s: %s",
					   trial, name, err);
		}
		counts[is_index][f][out]++;
		free(path);
		camp_rmrf(dir);
		free(dir);
	}
	int done = 0;
	for (int k = 0; k < 2; k++)
		for (int f = 0; f < N_FAULTS; f++)
			for (int o = 0; o < N_OUTCOMES; o++)
				if (counts[k][f][o]) {
					printf("corruption: %-7s %-13s -> %-40s %" PRIu64 "\n",
					       k ? "index" : "segment", fault_name[f], outcome_name[o],
					       counts[k][f][o]);
					done += (int)counts[k][f][o];
				}
	printf("corruption: %d trials on %d segments and %zu indexes, no wrong data, no silent "
	       "loss\n", done, nseg, nfiles - (size_t)nseg);
	camp_events_free(&ref);
	camp_rmrf(src);
	free(src);
	for (size_t i = 0; i < nfiles; i++)
		free(files[i]);
	free(files);
}

/* ---- whole segments at the ends --------------------------------------- */

enum ends_op { DEL_FIRST, DEL_LAST, DEL_LAST_AND_INDEX, RENAME_FIRST, RENAME_LAST, DUP_FIRST,
	       DUP_LAST, N_ENDS_OPS };
static const char *const ends_name[] = {
	"first segment deleted", "last segment deleted", "last segment and its index deleted",
	"first segment renamed later", "last segment renamed later",
	"first segment duplicated after the last", "last segment duplicated after itself",
};

/* Whole segments deleted, renamed or duplicated at either end of the log
 * (the segments left may still chain): every door must report damage, never
 * read a shorter log as if it were whole. */
Test(campaign_corrupt, whole_segments_at_the_ends_are_detected)
{
	struct camp_events ref;
	char **files = NULL;
	size_t nfiles = 0;
	char *src = build_log(&ref, &files, &nfiles);
	files = realloc(files, (nfiles + 1) * sizeof *files);
	files[nfiles++] = strdup("TAIL");  /* written by the log's rolls */
	const char *first = NULL, *last = NULL;
	for (size_t i = 0; i < nfiles; i++)
		if (strstr(files[i], ".seg")) {
			if (!first || strcmp(files[i], first) < 0)
				first = files[i];
			if (!last || strcmp(files[i], last) > 0)
				last = files[i];
		}
	cr_assert(first && last && strcmp(first, last) != 0, "several segments");
	uint64_t last_seq = strtoull(last, NULL, 10);
	int done = 0;
	for (int op = 0; op < N_ENDS_OPS; op++) {
		for (uint64_t shift = 1; shift <= 400; shift *= 20) {
			char *dir = camp_tmpdir("ends");
			copy_dir(src, dir, files, nfiles);
			char *a = camp_path(dir, op == DUP_FIRST || op == DEL_FIRST || op == RENAME_FIRST
						 ? first : last);
			char later[64], idx[64];
			snprintf(later, sizeof later, "%020llu.seg", (unsigned long long)(last_seq + shift));
			snprintf(idx, sizeof idx, "%020llu.idx", (unsigned long long)last_seq);
			char *b = camp_path(dir, later), *ix = camp_path(dir, idx);
			switch (op) {
			case DEL_FIRST:
			case DEL_LAST: cr_assert_eq(unlink(a), 0); break;
			case DEL_LAST_AND_INDEX: cr_assert_eq(unlink(a), 0); unlink(ix); break;
			case RENAME_FIRST:
			case RENAME_LAST: cr_assert_eq(rename(a, b), 0); break;
			default: cr_assert_eq(camp_copy(a, b, false), 0); break;
			}
			char trial[256];
			snprintf(trial, sizeof trial, "%s (shift %llu)", ends_name[op],
				 (unsigned long long)shift);
			struct sl_verify_report v;
			char err[1024] = "", msg[1024] = "";
			cr_assert_eq(sl_log_verify(dir, NULL, &v, NULL, NULL, err, sizeof err), SL_OK,
				     "%s: %s", trial, err);
			cr_assert(v.damaged, "%s: verify finds the log sound (%" PRIu64 " events)", trial,
				  v.events);
			uint64_t n = 0;
			int rrc = read_all(dir, &ref, &n, msg, sizeof msg, trial);
			cr_assert_lt(rrc, 0, "%s: SILENT LOSS: read %" PRIu64 " of %" PRIu64 " events "
				     "without an error", trial, n, ref.n);
			struct sl_log_options o;
			sl_log_options_init(&o);
			o.compact = false;
			sl_log *log = NULL;
			int orc = sl_log_open(&log, dir, &o, NULL, err, sizeof err);
			if (orc == SL_OK)
				sl_log_close(log);
			cr_assert_eq(orc, SL_ECORRUPT, "%s: a writer opens it: %s", trial, err);
			free(a);
			free(b);
			free(ix);
			camp_rmrf(dir);
			free(dir);
			done++;
		}
	}
	printf("corruption: %d trials of whole segments at the ends (%d kinds): all detected\n",
	       done, N_ENDS_OPS);
	camp_events_free(&ref);
	camp_rmrf(src);
	free(src);
	for (size_t i = 0; i < nfiles; i++)
		free(files[i]);
	free(files);
}
