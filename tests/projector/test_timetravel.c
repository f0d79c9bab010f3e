/* test_timetravel.c: projector/timetravel.c, snapshot.c, snapcodec.c,
 * fetch.c: a job and the whole database as of any event, snapshots (taken,
 * pruned, checked, discarded when damaged or foreign), times to sequence
 * numbers, and the errors for bad input.
 *
 * The reference for "as of seq N" is a fresh projection of the log as it
 * was when it ended at N: the log is appended one event at a time, and
 * after each append its views are projected from scratch into cut-N.db.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "event_internal.h"
#include "proj_helpers.h"
#include "workload.h"
#include "image.h"
#include "history.h"

#define T0 INT64_C(1700000000000000)   /* 2023-11-14, before the workload's times */
#define WORKLOAD_EVENTS 150

/* A log, its cut projections, and a live projection with snapshots. */
struct fixture {
	char *dir, *log, *live;
	uint64_t n;
	char **cut;                     /* cut[k]: the views of the log cut at k */
};

static void append_cut(struct fixture *f, sl_log *log, sl_event *ev, int64_t t, bool cuts)
{
	if (ev)
		ph_append(log, ev, t);
	f->n++;
	if (!cuts)
		return;
	f->cut = realloc(f->cut, (f->n + 1) * sizeof *f->cut);
	char name[32];
	snprintf(name, sizeof name, "cut-%" PRIu64 ".db", f->n);
	f->cut[f->n] = ph_path(f->dir, name);
	cr_assert_eq(sl_log_flush(log), SL_OK);
	ph_project(f->log, f->cut[f->n], 0, NULL);
}

/* Scripted events around the workload's: a job ("alpha") deleted and
 * created again, with history rows in both lives and one recorded after the
 * workload, two events at one instant, and an event the rules refuse. */
static void build(struct fixture *f, bool cuts)
{
	*f = (struct fixture){ .dir = ph_tmpdir() };
	f->log = ph_path(f->dir, "t.log");
	f->live = ph_path(f->dir, "live.db");
	sl_log *log = ph_log(f->log);
	int64_t t = T0;
	append_cut(f, log, ph_created("alpha", "Alpha", 3), t += 1000, cuts);
	append_cut(f, log, ph_sheet("alpha", STATELOG__EVENT__BODY_SHEET_STARTED, 1), t += 1000, cuts);
	append_cut(f, log, ph_exec("alpha", 900001, 1, 1, "p1", "o1"), t += 1000, cuts);
	append_cut(f, log, ph_sheet("alpha", STATELOG__EVENT__BODY_SHEET_COMPLETED, 1), t += 1000, cuts);
	append_cut(f, log, ph_sheet("alpha", STATELOG__EVENT__BODY_SHEET_STARTED, 2), t += 1000, cuts);
	append_cut(f, log, ph_exec("alpha", 900002, 2, 1, "p2", "o2"), t += 1000, cuts);
	append_cut(f, log, ph_sheet("alpha", STATELOG__EVENT__BODY_SHEET_FAILED, 2), t,
		   cuts);  /* the same instant */
	append_cut(f, log, ph_sheet("ghost", STATELOG__EVENT__BODY_SHEET_STARTED, 1), t += 1000, cuts);
	append_cut(f, log, ph_job("alpha", STATELOG__EVENT__BODY_JOB_DELETED), t += 1000, cuts);
	append_cut(f, log, ph_created("alpha", "Alpha again", 2), t += 1000, cuts);
	append_cut(f, log, ph_sheet("alpha", STATELOG__EVENT__BODY_SHEET_STARTED, 1), t += 1000, cuts);
	append_cut(f, log, ph_exec("alpha", 900003, 1, 1, "p3", "o3"), t += 1000, cuts);
	sl_workload *w = ph_workload(WORKLOAD_EVENTS, 7);
	for (int i = 0; i < WORKLOAD_EVENTS; i++) {
		cr_assert_eq(ph_append_from(log, w, 1), 1, "workload event %d", i);
		append_cut(f, log, NULL, 0, cuts);
	}
	sl_workload_free(w);
	t = sl_log_last_time(log);
	append_cut(f, log, ph_exec("alpha", 900004, 1, 2, "p4", "o4"), t += 1000, cuts);
	append_cut(f, log, ph_created("beta", "Beta", 1), t += 1000, cuts);
	append_cut(f, log, ph_job("alpha", STATELOG__EVENT__BODY_JOB_DELETED), t += 1000, cuts);
	append_cut(f, log, ph_sheet("beta", STATELOG__EVENT__BODY_SHEET_STARTED, 1), t += 1000, cuts);
	cr_assert_eq(sl_log_close(log), SL_OK);
}

static sl_proj *open_live(struct fixture *f, uint32_t every, bool take)
{
	sl_proj *p = NULL;
	char err[1024] = "";
	int rc = sl_proj_open(&p, f->log, f->live, NULL, NULL, err, sizeof err);
	cr_assert_eq(rc, SL_OK, "sl_proj_open(%s): %s", f->live, err);
	struct sl_snap_options o;
	sl_snap_options_init(&o);
	o.every = every;
	o.keep_last = 3;
	o.disabled = !take;
	cr_assert_eq(sl_proj_set_snapshots(p, &o), SL_OK);
	cr_assert_eq(sl_proj_catch_up(p, NULL), SL_OK, "catch-up: %s", sl_proj_errmsg(p));
	return p;
}

static void fixture_free(struct fixture *f)
{
	for (uint64_t k = 1; f->cut && k <= f->n; k++)
		free(f->cut[k]);
	free(f->cut);
	free(f->log);
	free(f->live);
	ph_rmrf(f->dir);
}

/* The job as the cut projection at k has it (ENOTFOUND when absent). */
static int cut_job(struct fixture *f, uint64_t k, const char *job, struct sl_job_state *out)
{
	sl_proj *c = NULL;
	char err[1024] = "";
	cr_assert_eq(sl_proj_open(&c, f->log, f->cut[k], NULL, NULL, err, sizeof err), SL_OK,
		     "open %s: %s", f->cut[k], err);
	int rc = sl_proj_load_job(out, c, job);
	sl_proj_close(c);
	return rc;
}

/* Every job id of the log, from the live views' event index. */
static char **job_ids(const char *db, size_t *n)
{
	sqlite3 *h;
	sqlite3_stmt *st;
	char **ids = NULL;
	*n = 0;
	cr_assert_eq(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(h, "SELECT DISTINCT job_id FROM statelog_events WHERE "
					"job_id IS NOT NULL ORDER BY 1", -1, &st, NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		ids = realloc(ids, (*n + 1) * sizeof *ids);
		ids[(*n)++] = strdup((const char *)sqlite3_column_text(st, 0));
	}
	sqlite3_finalize(st);
	sqlite3_close(h);
	return ids;
}

TestSuite(timetravel, .timeout = 600);

/* Every seq, with snapshots and without: the whole database equals the
 * cut projection, table by table, and every job equals its row there. */
Test(timetravel, every_seq_equals_a_fresh_projection_of_the_cut_log)
{
	struct fixture f;
	build(&f, true);
	sl_proj *p = open_live(&f, 20, true);
	struct sl_snapshot_usage su;
	cr_assert_eq(sl_proj_snapshot_usage(&su, p), SL_OK);
	uint64_t points = su.points;
	cr_assert_gt(su.bytes, 0, "the snapshot store has no size");
	cr_assert_eq(su.failures, 0, "snapshot points failed: %s", su.last_failure);
	cr_assert_geq(points, 3, "snapshot points kept after projecting %" PRIu64 " events "
		      "every 20: %" PRIu64, f.n, points);
	size_t n_jobs;
	char **jobs = job_ids(f.live, &n_jobs);
	char *out = ph_path(f.dir, "at.db");
	uint64_t from_snapshot = 0, from_copy = 0;
#ifdef __SANITIZE_ADDRESS__
	const uint64_t step = 2;   /* under the sanitizers every other seq (plain: all) */
#else
	const uint64_t step = 1;
#endif
	for (uint64_t k = 1; k <= f.n; k += step) {
		char *want = ph_dump(f.cut[k]);
		/* From a point (a copy of the live views for a late one), from
		 * the start, from a point without a copy. */
		static const unsigned modes[] = { 0, SL_TT_NO_SNAPSHOTS, SL_TT_NO_COPY };
		for (int mode = 0; mode < 3; mode++) {
			struct sl_tt_report rep;
			int rc = sl_tt_write_db(p, k, out, modes[mode], &rep);
			cr_assert_eq(rc, SL_OK, "write_db seq %" PRIu64 " mode %d: %s", k, mode,
				     sl_proj_errmsg(p));
			cr_assert_eq(rep.damaged + rep.foreign, 0, "seq %" PRIu64 ": %s", k, rep.note);
			from_snapshot += rep.snapshot_seq != 0;
			from_copy += rep.copied;
			cr_assert(!rep.copied || mode == 0, "seq %" PRIu64 " mode %d copied", k, mode);
			char *got = ph_dump(out);
			cr_assert_str_eq(got, want, "the database as of seq %" PRIu64 " (%s, from point "
					 "%" PRIu64 ") differs from the log cut there", k,
					 mode == 1 ? "no snapshots" : mode ? "snapshots, no copy"
					 : "snapshots", rep.snapshot_seq);
			free(got);
		}
		free(want);
		for (size_t j = 0; j < n_jobs; j++) {
			struct sl_job_state a, b;
			int ra = sl_tt_load_job(&a, p, jobs[j], k, NULL);
			int rb = cut_job(&f, k, jobs[j], &b);
			cr_assert_eq(ra, rb, "job %s as of seq %" PRIu64 ": %d (%s), the cut log: %d",
				     jobs[j], k, ra, sl_proj_errmsg(p), rb);
			if (ra != SL_OK)
				continue;
			int64_t sheet = 0;
			const char *col = sl_state_first_difference(&a, &b, 0, &sheet);
			cr_assert_null(col, "job %s as of seq %" PRIu64 ": %s differs (sheet %" PRId64
				       ")", jobs[j], k, col, sheet);
			sl_state_free(&a);
			sl_state_free(&b);
		}
	}
	cr_assert_gt(from_snapshot, 0, "never started from a snapshot (%" PRIu64 " seqs)", f.n);
	cr_assert_gt(from_copy, f.n / 5 / step, "a late point was copied %" PRIu64 " times", from_copy);
	for (size_t j = 0; j < n_jobs; j++)
		free(jobs[j]);
	free(jobs);
	free(out);
	sl_proj_close(p);
	fixture_free(&f);
}

/* Going back and forward again: the live views answer as before. */
Test(timetravel, back_and_forward_leaves_the_live_views_as_they_were)
{
	struct fixture f;
	build(&f, true);
	sl_proj *p = open_live(&f, 20, true);
	char *before = ph_dump(f.live);
	char *out = ph_path(f.dir, "at.db");
	cr_assert_eq(sl_tt_write_db(p, 5, out, 0, NULL), SL_OK, "%s", sl_proj_errmsg(p));
	cr_assert_eq(sl_tt_write_db(p, f.n, out, 0, NULL), SL_OK, "%s", sl_proj_errmsg(p));
	char *now = ph_dump(f.live), *at_end = ph_dump(out);
	cr_assert_str_eq(now, before, "the live views changed");
	cr_assert_str_eq(at_end, before, "the database as of the last seq is not the live one");
	/* created_at and applied_at too: copied from the live views. */
	char *a = ph_query(f.live, "SELECT group_concat(applied_at) FROM schema_version");
	char *b = ph_query(out, "SELECT group_concat(applied_at) FROM schema_version");
	cr_assert_str_eq(a, b, "schema_version.applied_at");
	free(a);
	free(b);
	free(before);
	free(now);
	free(at_end);
	free(out);
	sl_proj_close(p);
	fixture_free(&f);
}

/* Instants: table rows (time offset from T0 in ms, expected seq; 0: error). */
struct instant_row {
	int64_t at_us;          /* after T0 */
	uint64_t seq;           /* 0: before the log began */
};

/* Events 1..12 at T0 + k ms, but 6 and 7 share T0 + 6 ms (see below). */
static const struct instant_row instants[] = {
	{ 999, 0 },
	{ 1000, 1 },            /* exactly the first event */
	{ 1500, 1 },
	{ 2000, 2 },
	{ 5999, 5 },
	{ 6000, 7 },            /* two events at one instant: the last of them */
	{ 6999, 7 },
	{ 7000, 8 },
	{ 11000, 12 },
};

ParameterizedTestParameters(timetravel, time_picks_the_last_event_at_or_before)
{
	static size_t rows[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8 };
	return cr_make_param_array(size_t, rows, sizeof instants / sizeof instants[0]);
}

ParameterizedTest(size_t *row, timetravel, time_picks_the_last_event_at_or_before)
{
	const struct instant_row *r = &instants[*row];
	char *dir = ph_tmpdir(), *log = ph_path(dir, "t.log"), *db = ph_path(dir, "t.db");
	sl_log *l = ph_log(log);
	/* Events 1..12 at T0 + k ms, but 6 and 7 share T0 + 6 ms. */
	for (int k = 1; k <= 12; k++) {
		int64_t t = T0 + (k <= 6 ? k : k - 1) * 1000;
		ph_append(l, k == 1 ? ph_created("j", "J", 2) : ph_job("j", STATELOG__EVENT__BODY_PID_SET), t);
	}
	sl_log_close(l);
	sl_proj *p = NULL;
	char err[512];
	cr_assert_eq(sl_proj_open(&p, log, db, NULL, NULL, err, sizeof err), SL_OK, "%s", err);
	uint64_t seq = 0;
	int rc = sl_tt_seq_at_time(&seq, p, T0 + r->at_us);
	if (r->seq == 0) {
		cr_assert_eq(rc, SL_EINVAL, "T0+%" PRId64 " us: %d", r->at_us, rc);
		cr_assert_not_null(strstr(sl_proj_errmsg(p), "before the log began"),
				   "message: %s", sl_proj_errmsg(p));
		cr_assert_null(strchr(sl_proj_errmsg(p), '\n'), "one line: %s", sl_proj_errmsg(p));
	} else {
		cr_assert_eq(rc, SL_OK, "T0+%" PRId64 " us: %s", r->at_us, sl_proj_errmsg(p));
		cr_assert_eq(seq, r->seq, "T0+%" PRId64 " us: seq %" PRIu64 ", want %" PRIu64,
			     r->at_us, seq, r->seq);
	}
	/* Past the end: the last event. */
	cr_assert_eq(sl_tt_seq_at_time(&seq, p, T0 + 3600000000LL), SL_OK);
	cr_assert_eq(seq, 12, "an hour after the end: seq %" PRIu64, seq);
	sl_proj_close(p);
	free(log);
	free(db);
	ph_rmrf(dir);
}

/* Damage to the store: rows (what is damaged) in SQL on the store. */
static const char *const damage_sql[] = {
	"UPDATE snap_entries SET crc = crc + 1",
	"UPDATE snap_entries SET state = zeroblob(40), crc = 0",
	"UPDATE snap_points SET ties = ties || '9', hist_seq = hist_seq + 1",
	"UPDATE snap_points SET commit_crc = commit_crc + 1",
	"DELETE FROM snap_points",
};

ParameterizedTestParameters(timetravel, damaged_snapshots_are_skipped_and_the_answer_is_right)
{
	static size_t rows[] = { 0, 1, 2, 3, 4 };
	return cr_make_param_array(size_t, rows, sizeof damage_sql / sizeof damage_sql[0]);
}

ParameterizedTest(size_t *row, timetravel, damaged_snapshots_are_skipped_and_the_answer_is_right)
{
	struct fixture f;
	build(&f, true);
	sl_proj *p = open_live(&f, 20, true);
	char *store;
	cr_assert_gt(asprintf(&store, "%s.snapshots", f.live), 0);
	sqlite3 *h;
	cr_assert_eq(sqlite3_open(store, &h), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(h, damage_sql[*row], NULL, NULL, NULL), SQLITE_OK, "%s",
		     damage_sql[*row]);
	sqlite3_close(h);
	char *out = ph_path(f.dir, "at.db");
	uint64_t k = f.n - 3;
	struct sl_tt_report rep;
	cr_assert_eq(sl_tt_write_db(p, k, out, 0, &rep), SL_OK, "%s", sl_proj_errmsg(p));
	char *got = ph_dump(out), *want = ph_dump(f.cut[k]);
	cr_assert_str_eq(got, want, "damage \"%s\": the database as of seq %" PRIu64 " differs",
			 damage_sql[*row], k);
	if (*row < 4)   /* a point deleted outright is simply not there */
		cr_assert_gt(rep.damaged, 0, "damage \"%s\" not reported", damage_sql[*row]);
	struct sl_job_state a, b;
	cr_assert_eq(sl_tt_load_job(&a, p, "beta", f.n, &rep), SL_OK, "%s", sl_proj_errmsg(p));
	cr_assert_eq(cut_job(&f, f.n, "beta", &b), SL_OK);
	cr_assert(sl_state_equal(&a, &b, 0), "damage \"%s\": job beta differs", damage_sql[*row]);
	sl_state_free(&a);
	sl_state_free(&b);
	free(got);
	free(want);
	free(out);
	free(store);
	sl_proj_close(p);
	fixture_free(&f);
}

Test(timetravel, a_snapshot_store_of_another_log_is_refused)
{
	struct fixture f;
	build(&f, true);
	sl_proj *p = open_live(&f, 20, true);
	sl_proj_close(p);
	/* Another log, with its own snapshots, put where f's are. */
	char *other = ph_path(f.dir, "other.log"), *odb = ph_path(f.dir, "other.db");
	sl_log *l = ph_log(other);
	ph_append_workload(l, 200, 3);
	sl_log_close(l);
	sl_proj *q = NULL;
	char err[512], *from, *to;
	cr_assert_eq(sl_proj_open(&q, other, odb, NULL, NULL, err, sizeof err), SL_OK, "%s", err);
	struct sl_snap_options o;
	sl_snap_options_init(&o);
	o.every = 20;
	sl_proj_set_snapshots(q, &o);
	cr_assert_eq(sl_proj_catch_up(q, NULL), SL_OK);
	sl_proj_close(q);
	cr_assert_gt(asprintf(&from, "%s.snapshots", odb), 0);
	cr_assert_gt(asprintf(&to, "%s.snapshots", f.live), 0);
	cr_assert_eq(rename(from, to), 0, "rename %s %s", from, to);
	cr_assert_eq(sl_proj_open(&p, f.log, f.live, NULL, NULL, err, sizeof err), SL_OK, "%s", err);
	char *out = ph_path(f.dir, "at.db");
	struct sl_tt_report rep;
	uint64_t k = f.n - 1;
	cr_assert_eq(sl_tt_write_db(p, k, out, 0, &rep), SL_OK, "%s", sl_proj_errmsg(p));
	cr_assert_gt(rep.foreign, 0, "a foreign store was not reported (note: %s)", rep.note);
	cr_assert_eq(rep.snapshot_seq, 0, "a point of the other log was used: %" PRIu64,
		     rep.snapshot_seq);
	char *got = ph_dump(out), *want = ph_dump(f.cut[k]);
	cr_assert_str_eq(got, want, "the database as of seq %" PRIu64 " differs", k);
	free(got);
	free(want);
	free(out);
	free(from);
	free(to);
	free(other);
	free(odb);
	sl_proj_close(p);
	fixture_free(&f);
}

/* ---- the keyframe -------------------------------------------------------- */

/* Appends up to n events of the workload w, each 1 ms after the log's last
 * (the workload's own times may be earlier than the log's), its execution
 * ids moved by id_offset; no assertion,
 * so that a thread may call it.  Returns the first failure. */
static int append_after(sl_log *log, sl_workload *w, uint64_t n, int64_t id_offset)
{
	int64_t t = sl_log_last_time(log);
	sl_event *ev;
	int rc = SL_OK;
	for (uint64_t k = 0; rc == SL_OK && k < n && sl_workload_next(w, &ev) == 1; k++) {
		ev->has_time_us = 1;
		ev->time_us = t += 1000;
		/* Ids of their own: a second workload numbers its executions
		 * from 1 again. */
		if (ev->body_case == STATELOG__EVENT__BODY_EXECUTION_RECORDED &&
		    ev->execution_recorded->has_execution_id)
			ev->execution_recorded->execution_id += id_offset;
		rc = sl_log_append(log, &ev, 1, NULL);
	}
	return rc;
}

/* The live projection, every point kept (none pruned), its keyframe made
 * near the middle. */
static sl_proj *open_with_keyframe(struct fixture *f, uint64_t *kf_seq)
{
	sl_proj *p = NULL;
	char err[1024] = "";
	cr_assert_eq(sl_proj_open(&p, f->log, f->live, NULL, NULL, err, sizeof err), SL_OK,
		     "%s", err);
	struct sl_snap_options o;
	sl_snap_options_init(&o);
	o.every = 10;
	o.keep_last = 1000;
	cr_assert_eq(sl_proj_set_snapshots(p, &o), SL_OK);
	cr_assert_eq(sl_proj_catch_up(p, NULL), SL_OK, "catch-up: %s", sl_proj_errmsg(p));
	cr_assert_eq(sl_tt_keyframe_refresh(p, 1, kf_seq), SL_OK, "%s", sl_proj_errmsg(p));
	cr_assert_gt(*kf_seq, f->n / 10 * 4, "keyframe at %" PRIu64 " of %" PRIu64, *kf_seq, f->n);
	cr_assert_leq(*kf_seq, f->n / 20 * 11, "keyframe at %" PRIu64 " of %" PRIu64, *kf_seq,
		      f->n);
	return p;
}

/* Every seq: from the keyframe (taken back to a point before it, or
 * caught up from its own point), the database equals the cut log's, and
 * equals what the ways without it give. */
Test(timetravel, from_the_keyframe_every_seq_equals_the_cut_log)
{
	struct fixture f;
	build(&f, true);
	uint64_t kf = 0;
	sl_proj *p = open_with_keyframe(&f, &kf);
	char *before = ph_dump(f.live);
	char *out = ph_path(f.dir, "at.db");
	uint64_t back = 0, forward = 0, live_copy = 0;
	for (uint64_t k = 1; k <= f.n; k++) {
		char *want = ph_dump(f.cut[k]);
		static const unsigned modes[] = { 0, SL_TT_NO_KEYFRAME };
		for (int mode = 0; mode < 2; mode++) {
			struct sl_tt_report rep;
			cr_assert_eq(sl_tt_write_db(p, k, out, modes[mode], &rep), SL_OK,
				     "seq %" PRIu64 " mode %d: %s", k, mode, sl_proj_errmsg(p));
			cr_assert_eq(rep.damaged + rep.foreign, 0, "seq %" PRIu64 ": %s", k, rep.note);
			if (mode == 1) {
				cr_assert_eq(rep.keyframe_seq, 0, "SL_TT_NO_KEYFRAME used it");
				live_copy += rep.copied;
			} else if (rep.keyframe_seq) {
				cr_assert_eq(rep.keyframe_seq, kf);
				cr_assert(rep.copied);
				if (rep.snapshot_seq == kf)
					forward++;
				else
					back++;
				cr_assert_leq(rep.snapshot_seq, k);
			}
			char *got = ph_dump(out);
			cr_assert_str_eq(got, want, "the database as of seq %" PRIu64 " (mode %d, "
					 "keyframe %" PRIu64 ", point %" PRIu64 ") differs from the "
					 "log cut there", k, mode, rep.keyframe_seq, rep.snapshot_seq);
			free(got);
		}
		free(want);
	}
	cr_assert_gt(back, 0, "never taken back from the keyframe");
	cr_assert_gt(forward, 0, "never caught up from the keyframe's point");
	cr_assert_gt(live_copy, 0, "never a copy of the live views");
	char *now = ph_dump(f.live);
	cr_assert_str_eq(now, before, "the live views changed");
	/* Nothing to do while it is in the middle. */
	uint64_t again = 1;
	cr_assert_eq(sl_tt_keyframe_refresh(p, 1, &again), SL_OK, "%s", sl_proj_errmsg(p));
	cr_assert_eq(again, 0, "a keyframe in the middle was made again at %" PRIu64, again);
	struct sl_snapshot_usage su;
	cr_assert_eq(sl_proj_snapshot_usage(&su, p), SL_OK);
	cr_assert_eq(su.keyframe_seq, kf);
	cr_assert_gt(su.keyframe_bytes, 0);
	free(now);
	free(before);
	free(out);
	sl_proj_close(p);
	fixture_free(&f);
}

/* The views grow past it: the keyframe is made again nearer their middle;
 * a small log gets none; min_events holds it back. */
Test(timetravel, the_keyframe_follows_the_growing_log)
{
	struct fixture f;
	build(&f, false);
	uint64_t kf = 0, made = 1;
	sl_proj *p = open_with_keyframe(&f, &kf);
	cr_assert_eq(sl_tt_keyframe_refresh(p, f.n + 1, &made), SL_OK);
	cr_assert_eq(made, 0);
	sl_log *log = ph_log(f.log);
	sl_workload *w = ph_workload(f.n * 2, 11);
	cr_assert_eq(append_after(log, w, f.n * 2, 10000000), SL_OK, "%s", sl_log_errmsg(log));
	sl_workload_free(w);
	cr_assert_eq(sl_log_close(log), SL_OK);
	cr_assert_eq(sl_proj_catch_up(p, NULL), SL_OK, "%s", sl_proj_errmsg(p));
	uint64_t last = sl_proj_last_seq(p);
	cr_assert_gt(last, kf * 2, "the log did not grow enough for the test");
	cr_assert_eq(sl_tt_keyframe_refresh(p, last + 1, &made), SL_OK);
	cr_assert_eq(made, 0, "made below min_events");
	cr_assert_eq(sl_tt_keyframe_refresh(p, 1, &made), SL_OK, "%s", sl_proj_errmsg(p));
	cr_assert_gt(made, last / 10 * 4, "made again at %" PRIu64 " of %" PRIu64, made, last);
	cr_assert_leq(made, last / 20 * 11);
	/* It is the one used now, and gives the projection of the log cut
	 * there (here: a fresh projection with a limit, the replay). */
	char *out = ph_path(f.dir, "at.db"), *ref = ph_path(f.dir, "ref.db");
	struct sl_tt_report rep;
	uint64_t k = made - 3;
	cr_assert_eq(sl_tt_write_db(p, k, out, 0, &rep), SL_OK, "%s", sl_proj_errmsg(p));
	cr_assert_eq(rep.keyframe_seq, made, "point %" PRIu64 " not made from the new keyframe "
		     "(%" PRIu64 ")", k, rep.keyframe_seq);
	cr_assert_eq(sl_tt_write_db(p, k, ref, SL_TT_NO_SNAPSHOTS, NULL), SL_OK);
	char *got = ph_dump(out), *want = ph_dump(ref);
	cr_assert_str_eq(got, want, "seq %" PRIu64 " from the new keyframe", k);
	free(got);
	free(want);
	free(out);
	free(ref);
	sl_proj_close(p);
	fixture_free(&f);
}

/* A keyframe that is not one (garbage), or of another log, or whose point
 * the log no longer has, is said and not used; the next refresh replaces
 * it. */
Test(timetravel, a_bad_keyframe_is_not_used_and_is_replaced)
{
	struct fixture f;
	build(&f, true);
	uint64_t kf = 0;
	sl_proj *p = open_with_keyframe(&f, &kf);
	char *path = NULL, *out = ph_path(f.dir, "at.db"), *err = NULL;
	cr_assert_gt(asprintf(&path, "%s.keyframe", f.live), 0);
	/* Another log's keyframe: a log of its own, projected, its keyframe
	 * made, then put in place of f's. */
	char *other = ph_path(f.dir, "other.log"), *odb = ph_path(f.dir, "other.db");
	sl_log *l = ph_log(other);
	ph_append_workload(l, 200, 3);
	sl_log_close(l);
	sl_proj *q = NULL;
	char msg[512];
	cr_assert_eq(sl_proj_open(&q, other, odb, NULL, NULL, msg, sizeof msg), SL_OK, "%s", msg);
	struct sl_snap_options o;
	sl_snap_options_init(&o);
	o.every = 10;
	o.keep_last = 1000;
	sl_proj_set_snapshots(q, &o);
	cr_assert_eq(sl_proj_catch_up(q, NULL), SL_OK);
	uint64_t okf = 0;
	cr_assert_eq(sl_tt_keyframe_refresh(q, 1, &okf), SL_OK, "%s", sl_proj_errmsg(q));
	cr_assert_gt(okf, 0);
	sl_proj_close(q);
	char *okf_path = NULL;
	cr_assert_gt(asprintf(&okf_path, "%s.keyframe", odb), 0);
	for (int bad = 0; bad < 3; bad++) {
		if (bad == 0) {
			FILE *fp = fopen(path, "w");
			cr_assert_not_null(fp);
			fputs("not a database", fp);
			fclose(fp);
		} else if (bad == 1) {
			cr_assert_eq(rename(okf_path, path), 0);
		} else {
			/* Its own file, as of a seq that is no snapshot point. */
			cr_assert_eq(sl_tt_write_db(p, kf + 1, path, SL_TT_NO_COPY, NULL), SL_OK);
		}
		uint64_t k = kf - 2;
		struct sl_tt_report rep;
		cr_assert_eq(sl_tt_write_db(p, k, out, 0, &rep), SL_OK, "bad %d: %s", bad,
			     sl_proj_errmsg(p));
		cr_assert_eq(rep.keyframe_seq, 0, "bad keyframe %d used", bad);
		cr_assert_geq(rep.damaged, 1, "bad keyframe %d not said", bad);
		cr_assert(strstr(rep.note, "keyframe"), "bad %d: note: %s", bad, rep.note);
		char *got = ph_dump(out), *want = ph_dump(f.cut[k]);
		cr_assert_str_eq(got, want, "bad %d: seq %" PRIu64, bad, k);
		free(got);
		free(want);
		uint64_t made = 0;
		cr_assert_eq(sl_tt_keyframe_refresh(p, 1, &made), SL_OK, "%s", sl_proj_errmsg(p));
		cr_assert_eq(made, kf, "bad %d: the keyframe was not made again", bad);
		cr_assert_eq(sl_tt_write_db(p, k, out, 0, &rep), SL_OK);
		cr_assert_eq(rep.keyframe_seq, kf, "bad %d: the new keyframe is not used", bad);
		cr_assert_eq(rep.damaged, 0);
	}
	free(okf_path);
	free(other);
	free(odb);
	free(err);
	free(path);
	free(out);
	sl_proj_close(p);
	fixture_free(&f);
}

/* The live views copied while another handle catches them up (its WAL
 * growing, checkpointed and reset as the copies are made): every database
 * as of a seq is still the cut log's.  (Whether a copy without the WAL
 * would do is every_seq_equals_a_fresh_projection_of_the_cut_log's: the
 * live views there are mostly in their WAL.) */
struct grower {
	const char *log, *db;
	uint64_t events;
	int rc;
};

static void *grow(void *arg)
{
	struct grower *g = arg;
	sl_proj *q = NULL;
	char err[512];
	g->rc = sl_proj_open(&q, g->log, g->db, NULL, NULL, err, sizeof err);
	struct sl_workload_options wo;
	sl_workload_options_init(&wo);
	wo.events = g->events;
	wo.seed = 23;
	sl_workload *w = NULL;
	sl_log *log = NULL;
	struct sl_log_options lo;
	sl_log_options_init(&lo);
	lo.durability = SL_DURABLE_NONE;
	if (g->rc == SL_OK)
		g->rc = sl_workload_new(&w, &wo);
	if (g->rc == SL_OK)
		g->rc = sl_log_open(&log, g->log, &lo, NULL, err, sizeof err);
	for (uint64_t i = 0; g->rc == SL_OK && i < g->events; i += 5) {
		g->rc = append_after(log, w, 5, 20000000);
		if (g->rc == SL_OK)
			g->rc = sl_log_flush(log);
		if (g->rc == SL_OK)
			g->rc = sl_proj_catch_up(q, NULL);
	}
	if (log)
		sl_log_close(log);
	sl_workload_free(w);
	sl_proj_close(q);
	return NULL;
}

Test(timetravel, a_copy_of_live_views_being_written_is_one_moment)
{
	struct fixture f;
	build(&f, true);
	sl_proj *p = open_live(&f, 10, true);
	uint64_t n = f.n;
	struct grower g = { .log = f.log, .db = f.live, .events = 1500 };
	pthread_t th;
	cr_assert_eq(pthread_create(&th, NULL, grow, &g), 0);
	char *out = ph_path(f.dir, "at.db");
	uint64_t copies = 0;
	for (int round = 0; round < 3; round++) {
		for (uint64_t k = n / 2; k <= n; k++) {
			struct sl_tt_report rep;
			int rc = sl_tt_write_db(p, k, out, SL_TT_NO_KEYFRAME, &rep);
			cr_assert_eq(rc, SL_OK, "seq %" PRIu64 ": %s", k, sl_proj_errmsg(p));
			copies += rep.copied;
			char *got = ph_dump(out), *want = ph_dump(f.cut[k]);
			cr_assert_str_eq(got, want, "seq %" PRIu64 " (round %d, copied %d) differs "
					 "from the log cut there", k, round, rep.copied);
			free(got);
			free(want);
		}
	}
	pthread_join(th, NULL);
	cr_assert_eq(g.rc, SL_OK, "the writer: %s", sl_strerror(g.rc));
	cr_assert_gt(copies, 0, "no copy of the live views was made");
	free(out);
	sl_proj_close(p);
	fixture_free(&f);
}

/* Bad input: rows of (job, seq offset from the end, want). */
struct bad_row {
	const char *job;
	bool from_end;                  /* seq counts from the log's last */
	uint64_t seq;
	int want;
	const char *words;              /* in the message */
};

static const struct bad_row bad[] = {
	{ "alpha", false, 1, SL_OK, NULL },
	{ "alpha", false, 0, SL_EINVAL, "start at 1" },
	{ "alpha", true, 2, SL_EINVAL, "past the end" },
	{ "nosuch", false, 5, SL_ENOTFOUND, "no job 'nosuch'" },
	{ "beta", false, 3, SL_ENOTFOUND, "did not exist yet" },
	{ "alpha", true, 0, SL_ENOTFOUND, "was deleted" },
	{ "ghost", false, 10, SL_ENOTFOUND, "did not exist" },
};

ParameterizedTestParameters(timetravel, bad_input_gives_a_one_line_error)
{
	static size_t rows[] = { 0, 1, 2, 3, 4, 5, 6 };
	return cr_make_param_array(size_t, rows, sizeof bad / sizeof bad[0]);
}

ParameterizedTest(size_t *row, timetravel, bad_input_gives_a_one_line_error)
{
	const struct bad_row *r = &bad[*row];
	struct fixture f;
	build(&f, false);
	sl_proj *p = open_live(&f, 1000, false);
	uint64_t seq = r->from_end ? f.n + r->seq : r->seq;
	struct sl_job_state st;
	int rc = sl_tt_load_job(&st, p, r->job, seq, NULL);
	cr_assert_eq(rc, r->want, "job %s at seq %" PRIu64 ": %d (%s), want %d", r->job, seq, rc,
		     sl_proj_errmsg(p), r->want);
	if (rc == SL_OK) {
		sl_state_free(&st);
	} else {
		cr_assert_not_null(strstr(sl_proj_errmsg(p), r->words), "job %s at seq %" PRIu64
				   ": message \"%s\" lacks \"%s\"", r->job, seq, sl_proj_errmsg(p),
				   r->words);
		cr_assert_null(strchr(sl_proj_errmsg(p), '\n'), "not one line: %s",
			       sl_proj_errmsg(p));
	}
	if (r->want == SL_EINVAL) {
		char *out = ph_path(f.dir, "at.db");
		cr_assert_eq(sl_tt_write_db(p, seq, out, 0, NULL), SL_EINVAL, "write_db at %" PRIu64,
			     seq);
		cr_assert_neq(access(out, F_OK), 0, "%s written for a bad seq", out);
		free(out);
	}
	sl_proj_close(p);
	fixture_free(&f);
}

/* The image of a state survives encoding, and damage to it is refused. */
Test(timetravel, state_images_round_trip_and_refuse_garbage)
{
	struct fixture f;
	build(&f, false);
	sl_proj *p = open_live(&f, 1000, false);
	size_t n_jobs;
	char **jobs = job_ids(f.live, &n_jobs);
	for (size_t j = 0; j < n_jobs; j++) {
		struct sl_job_state st, back;
		if (sl_proj_load_job(&st, p, jobs[j]) != SL_OK) {
			free(jobs[j]);
			continue;
		}
		uint8_t *img;
		size_t len;
		cr_assert_eq(sl_image_encode(&img, &len, &st), SL_OK, "encode %s", jobs[j]);
		cr_assert_eq(sl_image_decode(&back, img, len), SL_OK, "decode %s", jobs[j]);
		cr_assert(sl_state_equal(&st, &back, 0), "job %s: %s differs after the round trip",
			  jobs[j], sl_state_first_difference(&st, &back, 0, NULL));
		sl_state_free(&back);
		cr_assert_eq(sl_image_decode(&back, img, len / 2), SL_ECORRUPT, "half an image of %s",
			     jobs[j]);
		sl_state_free(&st);
		free(img);
		free(jobs[j]);
	}
	free(jobs);
	sl_proj_close(p);
	fixture_free(&f);
}
