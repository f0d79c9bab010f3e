/* test_backend.c: tests of projector/backend.c and backend_views.c, the
 * API: every operation and rule of projector/model/MODEL.md as the original
 * backend does it, read-your-writes, reopening (the views rebuilt from the
 * log), threads, and the events a save turns into (counted with a log
 * reader, never timed).
 *
 * Each test gets a fresh directory holding the log and its database.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <ftw.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "backend.h"
#include "event_json.h"
#include "log.h"
#include "projector.h"

#define T0 INT64_C(1764125378504474)    /* 2025-11-26T02:49:38.504474+00:00 */

static char dir[256];
static char logdir[300];
static char dbpath[300];
static sl_backend *be;

static sl_backend *open_backend(const char *db, bool read_only)
{
	struct sl_backend_options o;
	sl_backend_options_init(&o);
	/* Durability always (the default): the test's own log readers see a
	 * commit as soon as the call returns. */
	o.create = true;
	o.db_path = db;
	o.read_only = read_only;
	char err[1024] = "";
	sl_backend *b = NULL;
	int rc = sl_backend_open(&b, logdir, &o, err, sizeof err);
	cr_assert_eq(rc, SL_OK, "open %s (db %s, read_only %d): %s", logdir, db, read_only, err);
	return b;
}

static void setup(void)
{
	snprintf(dir, sizeof dir, "/tmp/sl-test-backend-XXXXXX");
	cr_assert_not_null(mkdtemp(dir), "mkdtemp");
	snprintf(logdir, sizeof logdir, "%s/state.log", dir);
	snprintf(dbpath, sizeof dbpath, "%s/state.db", dir);
	be = open_backend(dbpath, false);
}

static int rm_one(const char *p, const struct stat *s, int f, struct FTW *w)
{
	(void)s;
	(void)f;
	(void)w;
	return remove(p);
}

static void teardown(void)
{
	sl_backend_close(be);
	be = NULL;
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(backend, .init = setup, .fini = teardown, .timeout = 120);

/* Closes the backend and opens it again on the same log and database. */
static void reopen(void)
{
	sl_backend *old = be;
	be = NULL;
	cr_assert_eq(sl_backend_close(old), SL_OK, "close: %s", sl_backend_errmsg(be));
	be = open_backend(dbpath, false);
}

/* Opens the same log with a database that does not exist yet: every view
 * is rebuilt from the log alone. */
static void reopen_fresh_db(const char *name)
{
	char db[400];
	sl_backend *old = be;
	be = NULL;
	cr_assert_eq(sl_backend_close(old), SL_OK, "close: %s", sl_backend_errmsg(be));
	snprintf(db, sizeof db, "%s/%s", dir, name);
	be = open_backend(db, false);
}

/* ---- helpers ------------------------------------------------------------ */

static char *xs(const char *s)
{
	char *p = s ? strdup(s) : NULL;
	cr_assert(!s || p, "strdup");
	return p;
}

/* A new job as an orchestrator builds it: pending, no sheets. */
static void new_job(struct sl_job_state *st, const char *id, int64_t total)
{
	sl_state_init(st);
	st->presence = SL_JOB_LIVE;
	st->id = xs(id);
	st->name = xs("nightly build");
	st->total_sheets = total;
	st->created_at_us = T0;
}

static struct sl_sheet_state *sheet(struct sl_job_state *st, int64_t n)
{
	struct sl_sheet_state *sh;
	cr_assert_eq(sl_state_add_sheet(&sh, st, n), SL_OK, "add sheet %" PRId64, n);
	return sh;
}

static void save(struct sl_job_state *st)
{
	int rc = sl_backend_save(be, st);
	cr_assert_eq(rc, SL_OK, "save %s: %s", st->id, sl_backend_errmsg(be));
}

/* Saves a job of `total` sheets with sheets 1..rows present. */
static void save_job(const char *id, int64_t total, int64_t rows)
{
	struct sl_job_state st;
	new_job(&st, id, total);
	for (int64_t n = 1; n <= rows; n++)
		sheet(&st, n);
	save(&st);
	sl_state_free(&st);
}

static void load(struct sl_job_state *out, const char *id)
{
	int rc = sl_backend_load(out, be, id);
	cr_assert_eq(rc, SL_OK, "load %s: %s", id, sl_backend_errmsg(be));
}

static void assert_same(const struct sl_job_state *want, const struct sl_job_state *got,
			const char *when)
{
	int64_t sheet_num = 0;
	const char *col = sl_state_first_difference(want, got, SL_STATE_IGNORE_UPDATED_AT,
						    &sheet_num);
	cr_assert_null(col, "%s: job %s: column %s differs (sheet %" PRId64 ")", when, want->id,
		       col, sheet_num);
}

/* The sequence number of the last event in the log (0: empty). */
static uint64_t last_seq(void)
{
	sl_reader *r;
	uint64_t seq = 0;
	cr_assert_eq(sl_reader_open(&r, logdir, NULL, NULL, 0), SL_OK, "reader on %s", logdir);
	cr_assert_eq(sl_reader_last_seq(&seq, r), SL_OK, "last seq: %s", sl_backend_errmsg(be));
	sl_reader_close(r);
	return seq;
}

/* The type of event `seq` ("" when absent). */
static void event_type(uint64_t seq, char *out, size_t len)
{
	sl_reader *r;
	struct sl_record rec;
	sl_event *ev;
	cr_assert_eq(sl_reader_open(&r, logdir, NULL, NULL, 0), SL_OK, "reader: %s", sl_backend_errmsg(be));
	cr_assert_eq(sl_reader_seek_seq(r, seq), SL_OK, "seek %" PRIu64, seq);
	cr_assert_eq(sl_reader_next(&rec, r), 1, "event %" PRIu64, seq);
	cr_assert_eq(sl_event_decode(&ev, rec.data, rec.len, rec.seq, rec.time_us), SL_OK, "decode: %s", sl_backend_errmsg(be));
	snprintf(out, len, "%s", sl_event_type_name(ev));
	sl_event_free(ev);
	sl_reader_close(r);
}

static int64_t record(const char *id, int64_t sheet_num, int64_t attempt, int64_t exit_code,
		      double duration)
{
	struct sl_execution_record rec = {
		.job_id = id, .sheet_num = sheet_num, .attempt_num = attempt,
		.prompt = "do the thing", .output = "done",
		.has_exit_code = exit_code >= 0, .exit_code = exit_code,
		.has_duration_seconds = duration >= 0, .duration_seconds = duration,
	};
	int64_t eid = 0;
	int rc = sl_backend_record_execution(&eid, be, &rec);
	cr_assert_eq(rc, SL_OK, "record %s sheet %" PRId64 ": %s", id, sheet_num,
		     sl_backend_errmsg(be));
	return eid;
}

/* ---- save and load round trips ----------------------------------------- */

/* Every stored column set to a value that is not its default. */
static void fill_everything(struct sl_job_state *st)
{
	st->status = SL_JOB_RUNNING;
	st->last_completed_sheet = 1;
	st->has_current_sheet = true;
	st->current_sheet = 2;
	st->config_hash = xs("sha256:0f3a");
	st->config_snapshot = xs("{\"workers\": 4, \"rules\": [{\"name\": \"lint\", \"args\": "
				 "[\"-q\", {\"deep\": {\"deeper\": [1, 2.5, null, true]}}]}], "
				 "\"prompt\": \"Write tests for \\u00e9t\\u00e9 \\u2713\"}");
	st->config_path = xs("/srv/jobs/nightly.yaml");
	st->has_pid = true;
	st->pid = getpid();     /* alive: not a zombie */
	st->error_message = xs("previous attempt timed out");
	st->total_retry_count = 3;
	st->rate_limit_waits = 2;
	st->has_started_at = true;
	st->started_at_us = T0 + 1;
	/* Running: no completed_at (the original's load-time invariant, which
	 * the rules keep). */

	struct sl_sheet_state *a = sheet(st, 1);
	a->status = SL_SHEET_COMPLETED;
	a->attempt_count = 2;
	a->has_exit_code = true;
	a->exit_code = 0;
	a->error_message = xs("flaky network");
	a->error_category = xs("network");
	a->has_validation_passed = true;
	a->validation_passed = false;
	a->validation_details = xs("[{\"rule\": \"lint\", \"passed\": false}]");
	a->completion_attempts = 1;
	free(a->passed_validations);
	a->passed_validations = xs("[\"tests pass\"]");
	free(a->failed_validations);
	a->failed_validations = xs("[\"lint\"]");
	a->has_last_pass_percentage = true;
	a->last_pass_percentage = 87.5;
	a->execution_mode = xs("retry");
	a->outcome_data = xs("{\"files\": 3}");
	a->has_confidence_score = true;
	a->confidence_score = 0.75;
	free(a->learned_patterns);
	a->learned_patterns = xs("[\"check imports first\"]");
	a->similar_outcomes_count = 5;
	a->success_without_retry = true;
	a->outcome_category = xs("success_retry");
	a->has_started_at = true;
	a->started_at_us = T0 + 10;
	a->has_completed_at = true;
	a->completed_at_us = T0 + 11;
	a->has_execution_duration_seconds = true;
	a->execution_duration_seconds = 12.25;
	a->has_exit_signal = true;
	a->exit_signal = 9;
	a->exit_reason = xs("killed");

	struct sl_sheet_state *b = sheet(st, 2);
	b->status = SL_SHEET_IN_PROGRESS;
	b->attempt_count = 1;
	b->has_started_at = true;       /* in progress: started (the invariant) */
	b->started_at_us = T0 + 20;
}

Test(backend, save_and_load_round_trip_every_column)
{
	struct sl_job_state st, got;
	new_job(&st, "job-1", 5);
	fill_everything(&st);
	save(&st);
	cr_assert_gt(st.updated_at_us, T0, "save sets updated_at to the commit time");

	load(&got, "job-1");
	assert_same(&st, &got, "load after save");
	cr_assert_eq(got.created_at_us, T0, "a new job keeps the created_at it was saved with");
	cr_assert_eq(got.updated_at_us, st.updated_at_us, "updated_at is the commit time");
	cr_assert_null(got.description, "description is always NULL, as in the original");
	sl_state_free(&got);

	reopen();
	load(&got, "job-1");
	assert_same(&st, &got, "load after reopening");
	cr_assert_eq(got.updated_at_us, st.updated_at_us, "updated_at after reopening");
	sl_state_free(&got);

	reopen_fresh_db("rebuilt.db");
	load(&got, "job-1");
	assert_same(&st, &got, "load from views rebuilt from the log");
	sl_state_free(&got);
	sl_state_free(&st);
}

Test(backend, none_stays_none_and_empty_list_stays_empty_list)
{
	struct sl_job_state st, got;
	new_job(&st, "lists", 3);
	struct sl_sheet_state *a = sheet(&st, 1);       /* "[]" lists, as sl_sheet_init */
	struct sl_sheet_state *b = sheet(&st, 2);
	free(b->passed_validations);
	b->passed_validations = NULL;
	free(b->learned_patterns);
	b->learned_patterns = NULL;
	b->validation_details = xs("[]");
	b->outcome_data = xs("{}");
	(void)a;
	save(&st);
	for (int round = 0; round < 2; round++) {
		load(&got, "lists");
		const struct sl_sheet_state *ga = sl_state_find_sheet(&got, 1);
		const struct sl_sheet_state *gb = sl_state_find_sheet(&got, 2);
		cr_assert(ga && gb, "round %d: both sheets loaded", round);
		cr_assert_str_eq(ga->passed_validations, "[]", "round %d: [] stays []", round);
		cr_assert_str_eq(ga->learned_patterns, "[]", "round %d: [] stays []", round);
		cr_assert_null(ga->validation_details, "round %d: None stays None", round);
		cr_assert_null(gb->passed_validations, "round %d: None stays None", round);
		cr_assert_null(gb->learned_patterns, "round %d: None stays None", round);
		cr_assert_str_eq(gb->validation_details, "[]", "round %d: [] details", round);
		cr_assert_str_eq(gb->outcome_data, "{}", "round %d: {} outcome", round);
		cr_assert_null(got.config_snapshot, "round %d: None snapshot", round);
		sl_state_free(&got);
		reopen_fresh_db(round == 0 ? "r1.db" : "r2.db");
	}
	sl_state_free(&st);
}

Test(backend, nested_config_snapshot_kept_byte_for_byte)
{
	static const char snap[] =
		"{\"stages\": [{\"name\": \"build\", \"steps\": [{\"run\": \"make -j4\", "
		"\"env\": {\"CC\": \"gcc\", \"FLAGS\": [\"-O2\", \"-g\"]}}]}, {\"name\": \"test\", "
		"\"matrix\": {\"os\": [\"debian\", \"alpine\"], \"py\": [3.11, 3.12]}}], "
		"\"retries\": {\"max\": 3, \"backoff\": 1.5e-05}, \"notes\": \"caf\\u00e9 \\ud83d\\ude80\"}";
	struct sl_job_state st, got;
	new_job(&st, "snap", 2);
	st.config_snapshot = xs(snap);
	save(&st);
	reopen_fresh_db("snap.db");
	load(&got, "snap");
	cr_assert_str_eq(got.config_snapshot, snap, "config snapshot after a rebuild");
	sl_state_free(&got);
	sl_state_free(&st);
}

/* Parameter rows hold their strings by value: Criterion runs each row in
 * a new process, where a pointer into the runner's memory means nothing. */
struct id_row {
	char id[64];
};

ParameterizedTestParameters(backend, ids_with_special_characters)
{
	static struct id_row rows[] = {
		{ "team/nightly/build" }, { "job:2026-11-26T02:49:38" }, { "user@host" },
		{ "naïve-jöb" }, { "ジョブ/夜間:1@東京" }, { "a b\tc" }, { "quote'\"\\" },
		{ "x" }, { "%s%n" },
	};
	return cr_make_param_array(struct id_row, rows, sizeof rows / sizeof rows[0]);
}

ParameterizedTest(struct id_row *row, backend, ids_with_special_characters)
{
	struct sl_job_state got;
	save_job(row->id, 3, 1);
	int64_t eid = record(row->id, 1, 1, 0, 1.0);
	cr_assert_eq(sl_backend_sheet_started(be, row->id, 2), SL_OK, "start on '%s'", row->id);
	reopen_fresh_db("ids.db");
	load(&got, row->id);
	cr_assert_str_eq(got.id, row->id, "id '%s' round trip", row->id);
	cr_assert_eq(got.current_sheet, 2, "id '%s': sheet started", row->id);
	sl_state_free(&got);
	struct sl_execution_row *h;
	size_t n;
	cr_assert_eq(sl_backend_history(&h, &n, be, row->id, 0, 0), SL_OK, "history '%s'", row->id);
	cr_assert_eq(n, 1, "id '%s': one history row", row->id);
	cr_assert_eq(h[0].id, eid, "id '%s': the recorded id", row->id);
	cr_assert_str_eq(h[0].job_id, row->id, "id '%s' in history", row->id);
	sl_backend_history_free(h, n);
	struct sl_job_summary *s;
	struct sl_job_query q = { .limit = -1 };
	cr_assert_eq(sl_backend_query_jobs(&s, &n, be, &q), SL_OK, "query: %s", sl_backend_errmsg(be));
	cr_assert_eq(n, 1, "id '%s': one job", row->id);
	cr_assert_str_eq(s[0].id, row->id, "id '%s' in query_jobs", row->id);
	sl_backend_summaries_free(s, n);
	cr_assert_eq(sl_backend_delete(be, row->id), SL_OK, "delete '%s'", row->id);
	cr_assert_eq(sl_backend_load(&got, be, row->id), SL_ENOTFOUND, "'%s' deleted", row->id);
}

Test(backend, save_keeps_created_at_of_an_existing_job)
{
	struct sl_job_state st, got;
	new_job(&st, "keep", 2);
	save(&st);
	int64_t first = st.updated_at_us;
	st.created_at_us = T0 + 999999;
	st.description = xs("not stored");
	save(&st);
	cr_assert_geq(st.updated_at_us, first, "updated_at moves on");
	load(&got, "keep");
	cr_assert_eq(got.created_at_us, T0, "created_at of an existing job is kept");
	cr_assert_null(got.description, "description is never written");
	sl_state_free(&got);
	sl_state_free(&st);

	new_job(&st, "now", 2);
	st.created_at_us = 0;
	save(&st);
	load(&got, "now");
	cr_assert_eq(got.created_at_us, st.updated_at_us,
		     "a new job without created_at is created at the commit time");
	sl_state_free(&got);
	sl_state_free(&st);
}

Test(backend, save_that_changes_nothing_still_bumps_updated_at)
{
	struct sl_job_state st, got;
	save_job("same", 4, 4);
	load(&st, "same");
	uint64_t before = last_seq();
	int64_t was = st.updated_at_us;
	usleep(2000);
	save(&st);
	cr_assert_eq(last_seq(), before + 1, "one touch event for a save that changes nothing");
	char type[64];
	event_type(before + 1, type, sizeof type);
	cr_assert_str_eq(type, "job_fields_set", "the touch event");
	load(&got, "same");
	cr_assert_gt(got.updated_at_us, was, "updated_at bumped");
	sl_state_free(&got);
	sl_state_free(&st);
}

struct save_events_row {
	int64_t total;
	bool change_job;
	int sheets_changed;
	uint64_t events;
};

ParameterizedTestParameters(backend, save_appends_events_for_changes_only)
{
	static struct save_events_row rows[] = {
		{ 100, false, 1, 1 }, { 100, true, 1, 2 }, { 100, false, 0, 1 },
		{ 100, true, 0, 1 }, { 100, false, 3, 3 }, { 1000, false, 1, 1 },
		{ 10, true, 10, 11 },
	};
	return cr_make_param_array(struct save_events_row, rows, sizeof rows / sizeof rows[0]);
}

ParameterizedTest(struct save_events_row *row, backend, save_appends_events_for_changes_only)
{
	struct sl_job_state st;
	save_job("big", row->total, row->total);
	load(&st, "big");
	if (row->change_job)
		st.total_retry_count++;
	for (int i = 0; i < row->sheets_changed; i++) {
		struct sl_sheet_state *sh = sl_state_find_sheet(&st, i + 1);
		sh->attempt_count += 1;
	}
	uint64_t before = last_seq();
	save(&st);
	cr_assert_eq(last_seq() - before, row->events,
		     "a save of a %" PRId64 "-sheet job changing %s%d sheet(s) appends %" PRIu64
		     " event(s), not %" PRIu64, row->total, row->change_job ? "the job and " : "",
		     row->sheets_changed, row->events, last_seq() - before);
	sl_state_free(&st);
}

Test(backend, save_is_one_commit)
{
	sl_reader *r;
	struct sl_record rec;
	save_job("atomic", 20, 20);
	cr_assert_eq(sl_reader_open(&r, logdir, NULL, NULL, 0), SL_OK, "reader: %s", sl_backend_errmsg(be));
	cr_assert_eq(sl_reader_next(&rec, r), 1, "first event");
	cr_assert_eq(rec.commit_events, 21, "job_created + 20 sheets in one commit, not %u",
		     rec.commit_events);
	sl_reader_close(r);
}

/* ---- threads ------------------------------------------------------------ */

struct thread_arg {
	int index;
	int rc;
	char msg[256];
};

static void *save_many(void *p)
{
	struct thread_arg *a = p;
	char id[32];
	snprintf(id, sizeof id, "thread-%d", a->index);
	struct sl_job_state st;
	sl_state_init(&st);
	st.presence = SL_JOB_LIVE;
	st.id = strdup(id);
	st.name = strdup("parallel");
	st.total_sheets = 20;
	for (int i = 1; i <= 20 && a->rc == SL_OK; i++) {
		struct sl_sheet_state *sh;
		sl_state_add_sheet(&sh, &st, i);
		sh->status = SL_SHEET_COMPLETED;
		sh->attempt_count = 1;
		st.last_completed_sheet = i;
		a->rc = sl_backend_save(be, &st);
		if (a->rc == SL_OK && i % 5 == 0) {
			int64_t eid;
			struct sl_execution_record rec = { .job_id = id, .sheet_num = i,
							   .attempt_num = 1 };
			a->rc = sl_backend_record_execution(&eid, be, &rec);
		}
		if (a->rc != SL_OK)
			snprintf(a->msg, sizeof a->msg, "%s", sl_backend_errmsg(be));
	}
	sl_state_free(&st);
	return NULL;
}

Test(backend, ten_threads_save_different_jobs_at_once)
{
	/* A fresh handle, durability always: the threads' appends share fsyncs. */
	sl_backend_close(be);
	be = NULL;
	struct sl_backend_options o;
	sl_backend_options_init(&o);
	o.create = true;
	o.db_path = dbpath;
	cr_assert_eq(sl_backend_open(&be, logdir, &o, NULL, 0), SL_OK, "open, durability always: %s", sl_backend_errmsg(be));

	pthread_t t[10];
	struct thread_arg a[10];
	for (int i = 0; i < 10; i++) {
		a[i] = (struct thread_arg){ .index = i };
		cr_assert_eq(pthread_create(&t[i], NULL, save_many, &a[i]), 0, "thread %d", i);
	}
	for (int i = 0; i < 10; i++) {
		pthread_join(t[i], NULL);
		cr_assert_eq(a[i].rc, SL_OK, "thread %d: %s", i, a[i].msg);
	}
	struct sl_job_state *all;
	size_t n;
	cr_assert_eq(sl_backend_list_jobs(&all, &n, be), SL_OK, "list_jobs: %s", sl_backend_errmsg(be));
	cr_assert_eq(n, 10, "ten jobs listed, not %zu", n);
	for (size_t i = 0; i < n; i++) {
		cr_assert_eq(all[i].n_sheets, 20, "%s has 20 sheets", all[i].id);
		cr_assert_eq(all[i].last_completed_sheet, 20, "%s completed", all[i].id);
		int64_t count;
		cr_assert_eq(sl_backend_history_count(&count, be, all[i].id), SL_OK, "count: %s", sl_backend_errmsg(be));
		cr_assert_eq(count, 4, "%s has 4 executions", all[i].id);
	}
	sl_backend_states_free(all, n);
}

/* ---- delete ------------------------------------------------------------- */

Test(backend, delete_removes_job_sheets_and_history)
{
	struct sl_job_state got;
	save_job("gone", 3, 3);
	record("gone", 1, 1, 0, 2.0);
	record("gone", 2, 1, 1, 3.0);
	save_job("stays", 2, 1);
	record("stays", 1, 1, 0, 1.0);
	cr_assert_eq(sl_backend_delete(be, "gone"), SL_OK, "delete an existing job: %s", sl_backend_errmsg(be));
	cr_assert_eq(sl_backend_delete(be, "gone"), SL_ENOTFOUND, "delete it again: False");
	cr_assert_eq(sl_backend_delete(be, "never"), SL_ENOTFOUND, "delete an unknown job");
	cr_assert_eq(sl_backend_load(&got, be, "gone"), SL_ENOTFOUND, "load after delete");
	for (int round = 0; round < 2; round++) {
		int64_t count = -1;
		cr_assert_eq(sl_backend_history_count(&count, be, "gone"), SL_OK, "count: %s", sl_backend_errmsg(be));
		cr_assert_eq(count, 0, "round %d: history of a deleted job is gone", round);
		cr_assert_eq(sl_backend_history_count(&count, be, "stays"), SL_OK, "count: %s", sl_backend_errmsg(be));
		cr_assert_eq(count, 1, "round %d: another job's history stays", round);
		struct sl_job_statistics s;
		cr_assert_eq(sl_backend_statistics(&s, be, "gone"), SL_OK, "stats: %s", sl_backend_errmsg(be));
		cr_assert(!s.found, "round %d: no statistics for a deleted job", round);
		/* No sheet rows are left behind (foreign keys on). */
		sl_proj *p;
		struct sl_proj_options po;
		char err[256];
		sl_proj_options_init(&po);
		cr_assert_eq(sl_proj_open(&p, logdir, dbpath, &po, NULL, err, sizeof err), SL_OK,
			     "projector: %s", err);
		cr_assert_eq(sl_proj_catch_up(p, NULL), SL_OK, "catch up: %s", sl_backend_errmsg(be));
		sqlite3_stmt *q;
		cr_assert_eq(sqlite3_prepare_v2(sl_proj_db(p), "SELECT (SELECT COUNT(*) FROM sheets"
						" WHERE job_id = 'gone') + (SELECT COUNT(*) FROM"
						" execution_history WHERE job_id = 'gone')", -1, &q,
						NULL), SQLITE_OK, "prepare");
		cr_assert_eq(sqlite3_step(q), SQLITE_ROW, "step");
		cr_assert_eq(sqlite3_column_int(q, 0), 0, "round %d: no rows of 'gone' left", round);
		sqlite3_finalize(q);
		sl_proj_close(p);
		reopen_fresh_db("after-delete.db");
	}
}

Test(backend, job_deleted_and_created_again_has_no_stale_sheets)
{
	struct sl_job_state st, got;
	save_job("rerun", 5, 5);
	record("rerun", 3, 1, 0, 1.0);
	cr_assert_eq(sl_backend_delete(be, "rerun"), SL_OK, "delete: %s", sl_backend_errmsg(be));
	new_job(&st, "rerun", 4);
	sheet(&st, 1)->status = SL_SHEET_IN_PROGRESS;
	save(&st);
	for (int round = 0; round < 3; round++) {
		load(&got, "rerun");
		cr_assert_eq(got.n_sheets, 1, "round %d: only the new job's sheet, not %zu", round,
			     got.n_sheets);
		cr_assert_eq(got.total_sheets, 4, "round %d: the new total", round);
		cr_assert_eq(got.sheets[0].status, SL_SHEET_IN_PROGRESS, "round %d", round);
		sl_state_free(&got);
		int64_t count;
		cr_assert_eq(sl_backend_history_count(&count, be, "rerun"), SL_OK, "count: %s", sl_backend_errmsg(be));
		cr_assert_eq(count, 0, "round %d: no stale history", round);
		if (round == 0)
			reopen();
		else
			reopen_fresh_db(round == 1 ? "x1.db" : "x2.db");
	}
	sl_state_free(&st);
}

/* ---- next sheet ----------------------------------------------------------- */

struct next_row {
	char name[64];
	enum sl_job_status job;
	int64_t total;
	int64_t last_completed;
	int64_t current;                /* 0: none */
	char sheets[16];                /* status letter per sheet 1..: p pending,
					   r running (in_progress), c completed,
					   f failed, s skipped, . no row */
	int64_t want;
};

ParameterizedTestParameters(backend, next_sheet_every_case)
{
	static struct next_row rows[] = {
		{ "no sheets yet", SL_JOB_PENDING, 5, 0, 0, "", 1 },
		{ "first pending", SL_JOB_RUNNING, 5, 0, 0, "ppppp", 1 },
		{ "after completed ones", SL_JOB_RUNNING, 5, 2, 0, "cc", 3 },
		{ "resume in_progress current", SL_JOB_RUNNING, 5, 1, 3, "cpr", 3 },
		{ "current not in_progress", SL_JOB_RUNNING, 5, 1, 3, "cfc", 2 },
		{ "failed is retried", SL_JOB_RUNNING, 5, 2, 0, "ccf", 3 },
		{ "skipped is passed over", SL_JOB_RUNNING, 5, 2, 0, "ccsp", 4 },
		{ "gap: no row", SL_JOB_RUNNING, 5, 2, 0, "cc.c", 3 },
		{ "completed job", SL_JOB_COMPLETED, 5, 2, 0, "cc", 0 },
		{ "cancelled job", SL_JOB_CANCELLED, 5, 0, 0, "", 0 },
		{ "all done", SL_JOB_RUNNING, 3, 3, 0, "ccc", 0 },
		{ "nothing runnable", SL_JOB_PAUSED, 3, 1, 0, "css", 0 },
		{ "paused job resumes", SL_JOB_PAUSED, 3, 1, 0, "cf", 2 },
	};
	return cr_make_param_array(struct next_row, rows, sizeof rows / sizeof rows[0]);
}

ParameterizedTest(struct next_row *row, backend, next_sheet_every_case)
{
	struct sl_job_state st;
	new_job(&st, "next", row->total);
	st.status = row->job;
	st.last_completed_sheet = row->last_completed;
	st.has_current_sheet = row->current != 0;
	st.current_sheet = row->current;
	for (size_t i = 0; row->sheets[i]; i++) {
		if (row->sheets[i] == '.')
			continue;
		struct sl_sheet_state *sh = sheet(&st, (int64_t)i + 1);
		switch (row->sheets[i]) {
		case 'r': sh->status = SL_SHEET_IN_PROGRESS; break;
		case 'c': sh->status = SL_SHEET_COMPLETED; break;
		case 'f': sh->status = SL_SHEET_FAILED; break;
		case 's': sh->status = SL_SHEET_SKIPPED; break;
		default: sh->status = SL_SHEET_PENDING; break;
		}
	}
	save(&st);
	int64_t next = -1;
	cr_assert_eq(sl_backend_next_sheet(&next, be, "next"), SL_OK, "%s", row->name);
	cr_assert_eq(next, row->want, "%s: next sheet %" PRId64 ", expected %" PRId64, row->name,
		     next, row->want);
	sl_state_free(&st);
}

Test(backend, next_sheet_of_an_unknown_job_is_1)
{
	int64_t next = -1;
	cr_assert_eq(sl_backend_next_sheet(&next, be, "nobody"), SL_OK, "unknown job: %s", sl_backend_errmsg(be));
	cr_assert_eq(next, 1, "an unknown job starts at sheet 1, not %" PRId64, next);
	save_job("deleted", 3, 3);
	cr_assert_eq(sl_backend_delete(be, "deleted"), SL_OK, "delete: %s", sl_backend_errmsg(be));
	cr_assert_eq(sl_backend_next_sheet(&next, be, "deleted"), SL_OK, "deleted job: %s", sl_backend_errmsg(be));
	cr_assert_eq(next, 1, "a deleted job starts at sheet 1");
}

/* ---- zombies -------------------------------------------------------------- */

/* A pid that no process has: a child that has exited and been reaped. */
static int64_t dead_pid(void)
{
	pid_t pid = fork();
	cr_assert_geq(pid, 0, "fork");
	if (pid == 0)
		_exit(0);
	cr_assert_eq(waitpid(pid, NULL, 0), pid, "reap");
	return pid;
}

static void save_running(const char *id, int64_t pid, const char *error)
{
	struct sl_job_state st;
	new_job(&st, id, 3);
	st.status = SL_JOB_RUNNING;
	st.has_pid = true;
	st.pid = pid;
	st.error_message = xs(error);
	sheet(&st, 1)->status = SL_SHEET_COMPLETED;
	st.last_completed_sheet = 1;
	sheet(&st, 2)->status = SL_SHEET_IN_PROGRESS;
	st.has_current_sheet = true;
	st.current_sheet = 2;
	save(&st);
	sl_state_free(&st);
}

Test(backend, zombie_is_recovered_on_load)
{
	int64_t pid = dead_pid();
	struct sl_job_state got;
	save_running("zombie", pid, NULL);
	uint64_t before = last_seq();
	load(&got, "zombie");
	cr_assert_eq(got.status, SL_JOB_PAUSED, "a zombie is paused, not %s",
		     sl_job_status_name(got.status));
	cr_assert(!got.has_pid, "its pid is cleared");
	char want[512];
	snprintf(want, sizeof want, "Recovered from stale running state (PID %" PRId64 " no longer"
		 " active). Job is now paused and ready to resume. Trigger: %s", pid,
		 SL_BACKEND_ZOMBIE_REASON);
	cr_assert_str_eq(got.error_message, want, "the recovery note");
	const struct sl_sheet_state *sh = sl_state_find_sheet(&got, 2);
	cr_assert_eq(sh->status, SL_SHEET_IN_PROGRESS, "sheets are left alone");
	sl_state_free(&got);
	cr_assert_eq(last_seq(), before + 1, "the recovery is one event in the log");
	char type[64];
	event_type(before + 1, type, sizeof type);
	cr_assert_str_eq(type, "zombie_recovered", "the event");
	int64_t next;
	cr_assert_eq(sl_backend_next_sheet(&next, be, "zombie"), SL_OK, "next: %s", sl_backend_errmsg(be));
	cr_assert_eq(next, 2, "the in_progress sheet is picked up again");
	load(&got, "zombie");
	cr_assert_eq(last_seq(), before + 1, "a recovered job is not recovered twice");
	sl_state_free(&got);
	reopen_fresh_db("z.db");
	load(&got, "zombie");
	cr_assert_eq(got.status, SL_JOB_PAUSED, "the recovery was saved");
	sl_state_free(&got);
}

Test(backend, zombie_keeps_an_existing_error_message)
{
	struct sl_job_state got;
	save_running("zombie2", dead_pid(), "disk full");
	load(&got, "zombie2");
	cr_assert_eq(got.status, SL_JOB_PAUSED, "recovered");
	cr_assert_str_eq(got.error_message, "disk full", "an existing message is kept");
	sl_state_free(&got);
}

struct live_pid_row {
	char what[64];
	int64_t pid;                    /* 0: this process */
};

ParameterizedTestParameters(backend, live_pid_is_not_a_zombie)
{
	static struct live_pid_row rows[] = {
		{ "pid 1, another user's process (EPERM unless root)", 1 },
		{ "this process", 0 },
	};
	return cr_make_param_array(struct live_pid_row, rows, sizeof rows / sizeof rows[0]);
}

ParameterizedTest(struct live_pid_row *row, backend, live_pid_is_not_a_zombie)
{
	struct sl_job_state got;
	int64_t pid = row->pid ? row->pid : getpid();
	save_running("alive", pid, NULL);
	uint64_t before = last_seq();
	load(&got, "alive");
	cr_assert_eq(got.status, SL_JOB_RUNNING, "%s: still running", row->what);
	cr_assert_eq(got.pid, pid, "%s: pid kept", row->what);
	cr_assert_eq(last_seq(), before, "%s: nothing appended", row->what);
	sl_state_free(&got);
}

/* ---- mark_sheet_status ------------------------------------------------------ */

Test(backend, mark_sheet_status_as_the_original)
{
	struct sl_job_state got;
	save_job("mark", 3, 0);
	cr_assert_eq(sl_backend_mark_sheet_status(be, "mark", 1, "in_progress", NULL), SL_OK, "start: %s", sl_backend_errmsg(be));
	load(&got, "mark");
	cr_assert_eq(sl_state_find_sheet(&got, 1)->status, SL_SHEET_IN_PROGRESS, "in_progress");
	cr_assert_eq(got.status, SL_JOB_RUNNING, "job running");
	sl_state_free(&got);

	cr_assert_eq(sl_backend_mark_sheet_status(be, "mark", 1, "failed", NULL), SL_OK, "fail: %s", sl_backend_errmsg(be));
	load(&got, "mark");
	cr_assert_str_eq(sl_state_find_sheet(&got, 1)->error_message, "Unknown error",
			 "a failure without a message");
	cr_assert_eq(got.total_retry_count, 1, "retry counted");
	sl_state_free(&got);

	cr_assert_eq(sl_backend_mark_sheet_status(be, "mark", 2, "failed", "boom"), SL_OK, "fail: %s", sl_backend_errmsg(be));
	cr_assert_eq(sl_backend_mark_sheet_status(be, "mark", 1, "completed", NULL), SL_OK, "done: %s", sl_backend_errmsg(be));
	load(&got, "mark");
	cr_assert_str_eq(sl_state_find_sheet(&got, 2)->error_message, "boom", "the message");
	const struct sl_sheet_state *s1 = sl_state_find_sheet(&got, 1);
	cr_assert_eq(s1->status, SL_SHEET_COMPLETED, "completed");
	cr_assert(s1->has_validation_passed && s1->validation_passed, "validation passed");
	cr_assert_eq(got.last_completed_sheet, 1, "last completed");
	int64_t was = got.updated_at_us;
	sl_state_free(&got);

	uint64_t before = last_seq();
	usleep(2000);
	cr_assert_eq(sl_backend_mark_sheet_status(be, "mark", 3, "skipped", NULL), SL_OK,
		     "a status the original's mark_sheet_status ignores");
	cr_assert_eq(last_seq(), before + 1, "still one event (its save bumps updated_at)");
	load(&got, "mark");
	cr_assert_null(sl_state_find_sheet(&got, 3), "sheet 3 untouched");
	cr_assert_gt(got.updated_at_us, was, "updated_at bumped");
	sl_state_free(&got);
}

/* ---- bad input ------------------------------------------------------------ */

enum bad_call {
	BAD_STARTED, BAD_COMPLETED, BAD_FAILED, BAD_SKIPPED, BAD_MARK, BAD_RECORD,
	BAD_PAUSED, BAD_PID, BAD_WAIT, BAD_DELETE, BAD_LOAD, BAD_HISTORY, BAD_QUERY,
	BAD_SAVE_NO_NAME, BAD_SAVE_NEGATIVE, BAD_SAVE_ORDER,
};

struct bad_row {
	char what[64];
	enum bad_call call;
	char job[16];                   /* "-": NULL */
	int64_t sheet;
	char status[16];                /* "-": NULL */
	int want;
};

ParameterizedTestParameters(backend, bad_input_is_refused)
{
	static struct bad_row rows[] = {
		{ "sheet 0", BAD_STARTED, "j", 0, "-", SL_EINVAL },
		{ "negative sheet", BAD_STARTED, "j", -1, "-", SL_EINVAL },
		{ "completed sheet 0", BAD_COMPLETED, "j", 0, "-", SL_EINVAL },
		{ "failed sheet -1", BAD_FAILED, "j", -1, "-", SL_EINVAL },
		{ "skipped sheet 0", BAD_SKIPPED, "j", 0, "-", SL_EINVAL },
		{ "mark sheet 0", BAD_MARK, "j", 0, "completed", SL_EINVAL },
		{ "mark unknown status", BAD_MARK, "j", 1, "done", SL_EINVAL },
		{ "mark status in capitals", BAD_MARK, "j", 1, "COMPLETED", SL_EINVAL },
		{ "mark without a status", BAD_MARK, "j", 1, "-", SL_EINVAL },
		{ "wait on a bad sheet", BAD_WAIT, "j", -7, "-", SL_EINVAL },
		{ "pid 0", BAD_PID, "j", 0, "-", SL_EINVAL },
		{ "history negative sheet", BAD_HISTORY, "j", -2, "-", SL_EINVAL },
		{ "query unknown status", BAD_QUERY, "j", 0, "finished", SL_EINVAL },
		{ "save without a name", BAD_SAVE_NO_NAME, "k", 0, "-", SL_EINVAL },
		{ "save negative total", BAD_SAVE_NEGATIVE, "k", 0, "-", SL_EINVAL },
		{ "save sheets out of order", BAD_SAVE_ORDER, "k", 0, "-", SL_EINVAL },
		{ "empty id: start", BAD_STARTED, "", 1, "-", SL_EINVAL },
		{ "empty id: load", BAD_LOAD, "", 0, "-", SL_EINVAL },
		{ "empty id: delete", BAD_DELETE, "", 0, "-", SL_EINVAL },
		{ "no id: record", BAD_RECORD, "-", 1, "-", SL_EINVAL },
		{ "empty id: save", BAD_SAVE_NO_NAME, "", 0, "-", SL_EINVAL },
		{ "unknown job: start", BAD_STARTED, "nope", 1, "-", SL_ENOTFOUND },
		{ "unknown job: mark", BAD_MARK, "nope", 1, "completed", SL_ENOTFOUND },
		{ "unknown job: record", BAD_RECORD, "nope", 1, "-", SL_ENOTFOUND },
		{ "unknown job: paused", BAD_PAUSED, "nope", 0, "-", SL_ENOTFOUND },
		{ "unknown job: load", BAD_LOAD, "nope", 0, "-", SL_ENOTFOUND },
		{ "unknown job: delete", BAD_DELETE, "nope", 0, "-", SL_ENOTFOUND },
	};
	return cr_make_param_array(struct bad_row, rows, sizeof rows / sizeof rows[0]);
}

ParameterizedTest(struct bad_row *row, backend, bad_input_is_refused)
{
	const char *job = strcmp(row->job, "-") ? row->job : NULL;
	const char *status = strcmp(row->status, "-") ? row->status : NULL;
	save_job("j", 5, 2);
	uint64_t before = last_seq();
	struct sl_job_state st;
	int64_t out;
	int rc = SL_OK;
	switch (row->call) {
	case BAD_STARTED: rc = sl_backend_sheet_started(be, job, row->sheet); break;
	case BAD_COMPLETED: rc = sl_backend_sheet_completed(be, job, row->sheet, NULL); break;
	case BAD_FAILED: rc = sl_backend_sheet_failed(be, job, row->sheet, NULL); break;
	case BAD_SKIPPED: rc = sl_backend_sheet_skipped(be, job, row->sheet, "x"); break;
	case BAD_MARK:
		rc = sl_backend_mark_sheet_status(be, job, row->sheet, status, NULL);
		break;
	case BAD_RECORD: {
		struct sl_execution_record rec = { .job_id = job, .sheet_num = row->sheet };
		rc = sl_backend_record_execution(&out, be, &rec);
		break;
	}
	case BAD_PAUSED: rc = sl_backend_job_paused(be, job, NULL); break;
	case BAD_PID: rc = sl_backend_pid_set(be, job, row->sheet); break;
	case BAD_WAIT: rc = sl_backend_rate_limit_wait(be, job, row->sheet, 1.0); break;
	case BAD_DELETE: rc = sl_backend_delete(be, job); break;
	case BAD_LOAD: rc = sl_backend_load(&st, be, job); break;
	case BAD_HISTORY: {
		struct sl_execution_row *h = NULL;
		size_t n = 0;
		rc = sl_backend_history(&h, &n, be, job, row->sheet, 0);
		break;
	}
	case BAD_QUERY: {
		struct sl_job_summary *s = NULL;
		size_t n = 0;
		struct sl_job_query q = { .status = status };
		rc = sl_backend_query_jobs(&s, &n, be, &q);
		break;
	}
	case BAD_SAVE_NO_NAME:
	case BAD_SAVE_NEGATIVE:
	case BAD_SAVE_ORDER:
		new_job(&st, job, 5);
		if (row->call == BAD_SAVE_NO_NAME) {
			free(st.name);
			st.name = NULL;
		}
		if (row->call == BAD_SAVE_NEGATIVE)
			st.total_sheets = -1;
		if (row->call == BAD_SAVE_ORDER) {
			sheet(&st, 1);
			sheet(&st, 2);
			st.sheets[1].sheet_num = 1;
		}
		rc = sl_backend_save(be, &st);
		sl_state_free(&st);
		break;
	}
	cr_assert_eq(rc, row->want, "%s: returned %d (%s), expected %d", row->what, rc,
		     sl_strerror(rc), row->want);
	cr_assert_neq(sl_backend_errmsg(be)[0], '\0', "%s: a message", row->what);
	cr_assert_eq(last_seq(), before, "%s: nothing appended", row->what);
}

/* ---- record_execution, history ------------------------------------------- */

Test(backend, execution_ids_increase_across_deletes_and_reopening)
{
	save_job("a", 3, 1);
	int64_t first = record("a", 1, 1, 0, 1.0);
	int64_t second = record("a", 1, 2, 0, 1.0);
	cr_assert_gt(second, first, "ids increase");
	cr_assert_eq(sl_backend_delete(be, "a"), SL_OK, "delete: %s", sl_backend_errmsg(be));
	save_job("b", 3, 1);
	int64_t third = record("b", 1, 1, 0, 1.0);
	cr_assert_gt(third, second, "ids increase after a delete");
	cr_assert_eq(sl_backend_delete(be, "b"), SL_OK, "delete b too: its rows are gone: %s", sl_backend_errmsg(be));
	reopen();
	save_job("c", 3, 1);
	int64_t fourth = record("c", 1, 1, 0, 1.0);
	cr_assert_gt(fourth, third, "ids go on after reopening (%" PRId64 " > %" PRId64 ")",
		     fourth, third);
	reopen_fresh_db("ids.db");
	int64_t fifth = record("c", 1, 2, 0, 1.0);
	cr_assert_gt(fifth, fourth, "ids go on with views rebuilt from the log");
}

Test(backend, history_newest_first_with_sheet_filter_and_limits)
{
	save_job("h", 5, 0);
	int64_t ids[8];
	for (int i = 0; i < 8; i++)
		ids[i] = record("h", i % 2 + 1, i / 2 + 1, i % 3 == 0 ? 0 : 1, 1.0 + i);
	struct sl_execution_row *h;
	size_t n;
	cr_assert_eq(sl_backend_history(&h, &n, be, "h", 0, 0), SL_OK, "history: %s", sl_backend_errmsg(be));
	cr_assert_eq(n, 8, "all eight");
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(h[i].id, ids[7 - i], "row %zu is the %zu-th newest", i, i);
	for (size_t i = 1; i < n; i++)
		cr_assert_geq(h[i - 1].executed_at_us, h[i].executed_at_us, "executed_at descending");
	cr_assert_str_eq(h[0].prompt, "do the thing", "prompt");
	cr_assert_str_eq(h[0].output, "done", "output");
	cr_assert(h[0].has_duration_seconds && h[0].duration_seconds == 8.0, "duration");
	sl_backend_history_free(h, n);

	cr_assert_eq(sl_backend_history(&h, &n, be, "h", 2, 0), SL_OK, "sheet 2: %s", sl_backend_errmsg(be));
	cr_assert_eq(n, 4, "four attempts of sheet 2");
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(h[i].sheet_num, 2, "only sheet 2");
	cr_assert_eq(h[0].id, ids[7], "newest of sheet 2 first");
	sl_backend_history_free(h, n);

	cr_assert_eq(sl_backend_history(&h, &n, be, "h", 0, 3), SL_OK, "limit 3: %s", sl_backend_errmsg(be));
	cr_assert_eq(n, 3, "limit 3");
	cr_assert_eq(h[2].id, ids[5], "the three newest");
	sl_backend_history_free(h, n);

	cr_assert_eq(sl_backend_history(&h, &n, be, "h", 3, 0), SL_OK, "sheet 3: %s", sl_backend_errmsg(be));
	cr_assert_eq(n, 0, "no attempts of sheet 3");
	cr_assert_eq(sl_backend_history(&h, &n, be, "nobody", 0, 0), SL_OK, "unknown job: %s", sl_backend_errmsg(be));
	cr_assert_eq(n, 0, "an unknown job has no history (the original's [])");
	int64_t count;
	cr_assert_eq(sl_backend_history_count(&count, be, "h"), SL_OK, "count: %s", sl_backend_errmsg(be));
	cr_assert_eq(count, 8, "count");
	cr_assert_eq(sl_backend_history_count(&count, be, "nobody"), SL_OK, "count unknown: %s", sl_backend_errmsg(be));
	cr_assert_eq(count, 0, "count of an unknown job");
}

Test(backend, history_default_limit_is_100)
{
	save_job("many", 2, 0);
	for (int i = 0; i < 120; i++)
		record("many", 1, i + 1, 0, 0.5);
	struct sl_execution_row *h;
	size_t n;
	cr_assert_eq(sl_backend_history(&h, &n, be, "many", 0, 0), SL_OK, "history: %s", sl_backend_errmsg(be));
	cr_assert_eq(n, SL_BACKEND_HISTORY_LIMIT, "default limit, not %zu", n);
	sl_backend_history_free(h, n);
	cr_assert_eq(sl_backend_history(&h, &n, be, "many", 0, -1), SL_OK, "no limit: %s", sl_backend_errmsg(be));
	cr_assert_eq(n, 120, "no limit gives all");
	sl_backend_history_free(h, n);
}

/* A string of n copies of unit. */
static char *repeat(const char *unit, size_t n)
{
	size_t len = strlen(unit);
	char *s = malloc(len * n + 1);
	cr_assert_not_null(s, "malloc");
	for (size_t i = 0; i < n; i++)
		memcpy(s + i * len, unit, len);
	s[len * n] = '\0';
	return s;
}

Test(backend, prompt_and_output_are_cut_as_the_originals_callers_do)
{
	save_job("cut", 2, 0);
	char *prompt = repeat("é", 2500);       /* 2 bytes per character */
	char *tail = repeat("✓", 5000);         /* 3 bytes per character */
	char *output = malloc(strlen(tail) + 8);
	sprintf(output, "head%s", tail);
	struct sl_execution_record rec = { .job_id = "cut", .sheet_num = 1, .attempt_num = 1,
					   .prompt = prompt, .output = output };
	int64_t id;
	cr_assert_eq(sl_backend_record_execution(&id, be, &rec), SL_OK, "record: %s", sl_backend_errmsg(be));
	struct sl_execution_row *h;
	size_t n;
	cr_assert_eq(sl_backend_history(&h, &n, be, "cut", 0, 0), SL_OK, "history: %s", sl_backend_errmsg(be));
	cr_assert_eq(strlen(h[0].prompt), 2 * SL_BACKEND_PROMPT_CHARS,
		     "the first 2,000 characters of the prompt");
	cr_assert_str_eq(h[0].output, tail, "the last 5,000 characters of the output");
	sl_backend_history_free(h, n);

	rec.prompt = "short";
	rec.output = NULL;
	cr_assert_eq(sl_backend_record_execution(&id, be, &rec), SL_OK, "record short: %s", sl_backend_errmsg(be));
	cr_assert_eq(sl_backend_history(&h, &n, be, "cut", 0, 1), SL_OK, "history: %s", sl_backend_errmsg(be));
	cr_assert_str_eq(h[0].prompt, "short", "short text is kept whole");
	cr_assert_null(h[0].output, "None stays None");
	sl_backend_history_free(h, n);

	/* full_execution_text keeps everything. */
	sl_backend_close(be);
	be = NULL;
	struct sl_backend_options o;
	sl_backend_options_init(&o);
	o.db_path = dbpath;
	o.full_execution_text = true;
	cr_assert_eq(sl_backend_open(&be, logdir, &o, NULL, 0), SL_OK, "open full text: %s", sl_backend_errmsg(be));
	rec.prompt = prompt;
	rec.output = output;
	cr_assert_eq(sl_backend_record_execution(&id, be, &rec), SL_OK, "record in full: %s", sl_backend_errmsg(be));
	cr_assert_eq(sl_backend_history(&h, &n, be, "cut", 0, 1), SL_OK, "history: %s", sl_backend_errmsg(be));
	cr_assert_str_eq(h[0].prompt, prompt, "whole prompt");
	cr_assert_str_eq(h[0].output, output, "whole output");
	sl_backend_history_free(h, n);
	free(prompt);
	free(tail);
	free(output);
}

/* ---- statistics ----------------------------------------------------------- */

Test(backend, statistics_of_an_unknown_job_are_empty)
{
	struct sl_job_statistics s = { .found = true };
	cr_assert_eq(sl_backend_statistics(&s, be, "nobody"), SL_OK, "statistics: %s", sl_backend_errmsg(be));
	cr_assert(!s.found, "an unknown job has no statistics (the original's {})");
}

Test(backend, statistics_fields)
{
	struct sl_job_statistics s;
	struct sl_job_state st;
	save_job("stats", 4, 0);
	cr_assert_eq(sl_backend_statistics(&s, be, "stats"), SL_OK, "statistics: %s", sl_backend_errmsg(be));
	cr_assert(s.found, "found");
	cr_assert_eq(s.total_executions, 0, "no executions");
	cr_assert(!s.has_avg_duration_seconds, "avg None without executions");
	cr_assert(!s.has_successful_executions, "SUM over no rows is None, as the original");
	cr_assert_eq(s.success_rate, 0.0, "no sheet completed");

	record("stats", 1, 1, 0, 2.0);
	record("stats", 1, 2, 1, 4.0);
	record("stats", 2, 1, 0, -1);           /* no duration */
	cr_assert_eq(sl_backend_sheet_completed(be, "stats", 1, NULL), SL_OK, "complete 1: %s", sl_backend_errmsg(be));
	cr_assert_eq(sl_backend_sheet_failed(be, "stats", 2, NULL), SL_OK, "fail 2: %s", sl_backend_errmsg(be));
	cr_assert_eq(sl_backend_statistics(&s, be, "stats"), SL_OK, "statistics: %s", sl_backend_errmsg(be));
	cr_assert_eq(s.total_sheets, 4, "total_sheets");
	cr_assert_eq(s.completed_sheets, 1, "completed_sheets");
	cr_assert_float_eq(s.success_rate, 25.0, 1e-9, "success_rate");
	cr_assert_eq(s.total_retries, 1, "total_retries");
	cr_assert_eq(s.total_executions, 3, "total_executions");
	cr_assert(s.has_avg_duration_seconds, "avg");
	cr_assert_float_eq(s.avg_duration_seconds, 3.0, 1e-9, "avg of the durations given");
	cr_assert(s.has_successful_executions && s.successful_executions == 2, "exit code 0");

	new_job(&st, "empty", 0);
	cr_assert_eq(sl_backend_save(be, &st), SL_EINVAL, "a job of 0 sheets is refused (the "
		     "original's model: total_sheets >= 1)");
	cr_assert(strstr(sl_backend_errmsg(be), "total_sheets 0 is below 1"), "the reason: %s",
		  sl_backend_errmsg(be));
	sl_state_free(&st);
	new_job(&st, "none-done", 2);
	save(&st);
	cr_assert_eq(sl_backend_statistics(&s, be, "none-done"), SL_OK, "statistics: %s",
		     sl_backend_errmsg(be));
	cr_assert_eq(s.success_rate, 0.0, "0 when nothing is completed");
	sl_state_free(&st);
}

/* ---- query_jobs, list_jobs ---------------------------------------------- */

Test(backend, query_jobs_filters_and_order)
{
	static const char *ids[] = { "q1", "q2", "q3", "q4", "q5" };
	static const enum sl_job_status status[] = {
		SL_JOB_RUNNING, SL_JOB_PAUSED, SL_JOB_RUNNING, SL_JOB_FAILED, SL_JOB_RUNNING,
	};
	int64_t updated[5];
	for (int i = 0; i < 5; i++) {
		struct sl_job_state st;
		new_job(&st, ids[i], 3);
		st.status = status[i];
		save(&st);
		updated[i] = st.updated_at_us;
		sl_state_free(&st);
		usleep(1000);
	}
	struct sl_job_summary *s;
	size_t n;
	cr_assert_eq(sl_backend_query_jobs(&s, &n, be, NULL), SL_OK, "query all: %s", sl_backend_errmsg(be));
	cr_assert_eq(n, 5, "all five");
	for (size_t i = 0; i < n; i++)
		cr_assert_str_eq(s[i].id, ids[4 - i], "newest updated_at first: row %zu", i);
	cr_assert_eq(s[0].updated_at_us, updated[4], "updated_at");
	cr_assert_eq(s[0].created_at_us, T0, "created_at");
	cr_assert_str_eq(s[0].name, "nightly build", "name");
	cr_assert_eq(s[0].total_sheets, 3, "total_sheets");
	sl_backend_summaries_free(s, n);

	struct sl_job_query q = { .status = "running" };
	cr_assert_eq(sl_backend_query_jobs(&s, &n, be, &q), SL_OK, "status: %s", sl_backend_errmsg(be));
	cr_assert_eq(n, 3, "three running");
	cr_assert_str_eq(s[0].id, "q5", "q5");
	cr_assert_str_eq(s[2].id, "q1", "q1");
	sl_backend_summaries_free(s, n);

	q = (struct sl_job_query){ .has_since = true, .since_us = updated[2] };
	cr_assert_eq(sl_backend_query_jobs(&s, &n, be, &q), SL_OK, "since: %s", sl_backend_errmsg(be));
	cr_assert_eq(n, 3, "updated at or after q3's update (inclusive)");
	sl_backend_summaries_free(s, n);

	q = (struct sl_job_query){ .status = "running", .has_since = true,
				   .since_us = updated[1], .limit = 1 };
	cr_assert_eq(sl_backend_query_jobs(&s, &n, be, &q), SL_OK, "all filters: %s", sl_backend_errmsg(be));
	cr_assert_eq(n, 1, "limit 1");
	cr_assert_str_eq(s[0].id, "q5", "the newest running one");
	sl_backend_summaries_free(s, n);

	q = (struct sl_job_query){ .status = "cancelled" };
	cr_assert_eq(sl_backend_query_jobs(&s, &n, be, &q), SL_OK, "none: %s", sl_backend_errmsg(be));
	cr_assert_eq(n, 0, "no cancelled job");

	struct sl_job_state *all;
	cr_assert_eq(sl_backend_list_jobs(&all, &n, be), SL_OK, "list_jobs: %s", sl_backend_errmsg(be));
	cr_assert_eq(n, 5, "five states");
	for (size_t i = 0; i < n; i++)
		cr_assert_str_eq(all[i].id, ids[4 - i], "list_jobs newest first: row %zu", i);
	sl_backend_states_free(all, n);
}

Test(backend, query_jobs_default_limit_is_50)
{
	for (int i = 0; i < 55; i++) {
		char id[16];
		snprintf(id, sizeof id, "j%02d", i);
		save_job(id, 1, 0);
	}
	struct sl_job_summary *s;
	size_t n;
	cr_assert_eq(sl_backend_query_jobs(&s, &n, be, NULL), SL_OK, "query: %s", sl_backend_errmsg(be));
	cr_assert_eq(n, SL_BACKEND_QUERY_LIMIT, "default limit 50, not %zu", n);
	sl_backend_summaries_free(s, n);
}

/* ---- intention calls -------------------------------------------------------- */

Test(backend, intention_calls_append_one_event_each)
{
	struct sl_job_state got;
	save_job("int", 4, 0);
	uint64_t seq = last_seq();
	char type[64];
#define ONE(call, name)                                                                   \
	do {                                                                              \
		int rc_ = (call);                                                         \
		cr_assert_eq(rc_, SL_OK, "%s: %s", name, sl_backend_errmsg(be));           \
		cr_assert_eq(last_seq(), ++seq, "%s: exactly one event", name);            \
		event_type(seq, type, sizeof type);                                       \
		cr_assert_str_eq(type, name, "event type");                              \
	} while (0)

	ONE(sl_backend_pid_set(be, "int", getpid()), "pid_set");
	ONE(sl_backend_sheet_started(be, "int", 1), "sheet_started");
	ONE(sl_backend_rate_limit_wait(be, "int", 1, 30.0), "rate_limit_wait");
	struct sl_sheet_completion c = { .has_validation_passed = true, .validation_passed = true,
					 .validation_details = "[{\"ok\": true, \"passed\": true}]",
					 .has_duration_seconds = true, .duration_seconds = 9.5 };
	ONE(sl_backend_sheet_completed(be, "int", 1, &c), "sheet_completed");
	ONE(sl_backend_sheet_started(be, "int", 2), "sheet_started");
	struct sl_sheet_failure f = { .message = "timed out", .category = "timeout",
				      .has_exit_code = true, .exit_code = 124,
				      .exit_reason = "timeout" };
	ONE(sl_backend_sheet_failed(be, "int", 2, &f), "sheet_failed");
	ONE(sl_backend_sheet_skipped(be, "int", 3, "not needed"), "sheet_skipped");
	load(&got, "int");
	cr_assert_eq(got.rate_limit_waits, 1, "rate limit counted");
	cr_assert_eq(got.pid, getpid(), "pid set");
	const struct sl_sheet_state *s1 = sl_state_find_sheet(&got, 1);
	cr_assert_str_eq(s1->validation_details, "[{\"ok\": true, \"passed\": true}]", "details");
	cr_assert_eq(s1->execution_duration_seconds, 9.5, "duration");
	const struct sl_sheet_state *s2 = sl_state_find_sheet(&got, 2);
	cr_assert_eq(s2->status, SL_SHEET_FAILED, "failed");
	cr_assert_str_eq(s2->error_category, "timeout", "category");
	cr_assert_eq(s2->exit_code, 124, "exit code");
	cr_assert_str_eq(sl_state_find_sheet(&got, 3)->error_message, "not needed", "skip reason");
	cr_assert_eq(got.total_retry_count, 1, "retry counted");
	sl_state_free(&got);

	ONE(sl_backend_job_paused(be, "int", "operator"), "job_paused");
	load(&got, "int");
	cr_assert_eq(got.status, SL_JOB_PAUSED, "paused");
	cr_assert(!got.has_pid, "pause clears the pid");
	sl_state_free(&got);
	ONE(sl_backend_job_resumed(be, "int"), "job_resumed");
	ONE(sl_backend_job_failed(be, "int", "gave up"), "job_failed");
	load(&got, "int");
	cr_assert_eq(got.status, SL_JOB_FAILED, "failed");
	cr_assert_str_eq(got.error_message, "gave up", "message");
	cr_assert(got.has_completed_at, "completed_at set");
	sl_state_free(&got);
	ONE(sl_backend_job_resumed(be, "int"), "job_resumed");
	ONE(sl_backend_job_cancelled(be, "int", "superseded"), "job_cancelled");
	load(&got, "int");
	cr_assert_eq(got.status, SL_JOB_CANCELLED, "cancelled");
	sl_state_free(&got);
	ONE(sl_backend_job_completed(be, "int"), "job_completed");
#undef ONE
	/* The views agree with the cache. */
	struct sl_job_state cached;
	load(&cached, "int");
	reopen_fresh_db("int.db");
	load(&got, "int");
	assert_same(&cached, &got, "cache vs views rebuilt from the log");
	cr_assert_eq(cached.updated_at_us, got.updated_at_us, "updated_at");
	sl_state_free(&got);
	sl_state_free(&cached);
}

Test(backend, completing_every_sheet_completes_the_job)
{
	struct sl_job_state got;
	save_job("all", 3, 0);
	for (int64_t n = 1; n <= 3; n++) {
		cr_assert_eq(sl_backend_sheet_started(be, "all", n), SL_OK, "start %" PRId64, n);
		cr_assert_eq(sl_backend_sheet_completed(be, "all", n, NULL), SL_OK, "done %" PRId64, n);
	}
	load(&got, "all");
	cr_assert_eq(got.status, SL_JOB_COMPLETED, "job completed with its last sheet");
	cr_assert_eq(got.last_completed_sheet, 3, "last completed");
	sl_state_free(&got);
	int64_t next;
	cr_assert_eq(sl_backend_next_sheet(&next, be, "all"), SL_OK, "next: %s", sl_backend_errmsg(be));
	cr_assert_eq(next, 0, "nothing left");
}

/* ---- reopening, read-only ------------------------------------------------ */

Test(backend, reopen_keeps_everything)
{
	struct sl_job_state a, b;
	new_job(&a, "keep-1", 3);
	fill_everything(&a);
	save(&a);
	save_job("keep-2", 2, 2);
	cr_assert_eq(sl_backend_sheet_started(be, "keep-2", 1), SL_OK, "start: %s", sl_backend_errmsg(be));
	record("keep-2", 1, 1, 0, 1.5);
	load(&b, "keep-2");
	reopen();
	struct sl_job_state got;
	load(&got, "keep-1");
	assert_same(&a, &got, "keep-1 after reopening");
	sl_state_free(&got);
	load(&got, "keep-2");
	assert_same(&b, &got, "keep-2 after reopening");
	cr_assert_eq(got.updated_at_us, b.updated_at_us, "updated_at");
	sl_state_free(&got);
	int64_t count;
	cr_assert_eq(sl_backend_history_count(&count, be, "keep-2"), SL_OK, "count: %s", sl_backend_errmsg(be));
	cr_assert_eq(count, 1, "history kept");
	sl_state_free(&a);
	sl_state_free(&b);
}

Test(backend, read_only_handle_beside_the_writer)
{
	save_job("ro", 3, 1);
	record("ro", 1, 1, 0, 1.0);
	sl_backend *ro = open_backend(dbpath, true);
	struct sl_job_state got;
	cr_assert_eq(sl_backend_load(&got, ro, "ro"), SL_OK, "read-only load: %s",
		     sl_backend_errmsg(ro));
	cr_assert_eq(got.total_sheets, 3, "state read");
	sl_state_free(&got);
	/* Written after the read-only handle opened: seen on the next call. */
	cr_assert_eq(sl_backend_sheet_started(be, "ro", 2), SL_OK, "start: %s", sl_backend_errmsg(be));
	cr_assert_eq(sl_backend_load(&got, ro, "ro"), SL_OK, "load again: %s", sl_backend_errmsg(be));
	cr_assert_eq(got.current_sheet, 2, "the new event is visible");
	sl_state_free(&got);
	cr_assert_eq(sl_backend_sheet_started(ro, "ro", 3), SL_EINVAL, "no writes read-only");
	struct sl_job_state st;
	new_job(&st, "ro2", 1);
	cr_assert_eq(sl_backend_save(ro, &st), SL_EINVAL, "no save read-only");
	sl_state_free(&st);
	int64_t next;
	cr_assert_eq(sl_backend_next_sheet(&next, ro, "ro"), SL_OK, "next read-only: %s", sl_backend_errmsg(be));
	cr_assert_eq(next, 2, "sheet 2 in progress");
	sl_backend_close(ro);

	/* A second writer handle in the same process: each sees the other's
	 * commits before its own, and checks against them. */
	struct sl_backend_options o;
	sl_backend_options_init(&o);
	o.db_path = dbpath;
	sl_backend *second = NULL;
	char err[512] = "";
	cr_assert_eq(sl_backend_open(&second, logdir, &o, err, sizeof err), SL_OK,
		     "a second writer: %s", err);
	cr_assert_eq(sl_backend_sheet_completed(second, "ro", 2, NULL), SL_OK, "%s",
		     sl_backend_errmsg(second));
	cr_assert_eq(sl_backend_load(&got, be, "ro"), SL_OK, "%s", sl_backend_errmsg(be));
	cr_assert_eq(got.last_completed_sheet, 2, "the first handle sees the second's commit");
	sl_state_free(&got);
	/* Each handle's next call works on the state the other left. */
	cr_assert_eq(sl_backend_sheet_started(second, "ro", 3), SL_OK, "%s",
		     sl_backend_errmsg(second));
	cr_assert_eq(sl_backend_sheet_started(be, "ro", 4), SL_OK, "%s", sl_backend_errmsg(be));
	cr_assert_eq(sl_backend_load(&got, second, "ro"), SL_OK, "%s", sl_backend_errmsg(second));
	cr_assert_eq(got.current_sheet, 4, "the second sees the first's");
	sl_state_free(&got);
	/* Execution ids stay unique across handles. */
	struct sl_execution_record rec = { .job_id = "ro", .sheet_num = 4, .attempt_num = 1 };
	int64_t id1, id2, id3;
	cr_assert_eq(sl_backend_record_execution(&id1, be, &rec), SL_OK, "%s", sl_backend_errmsg(be));
	cr_assert_eq(sl_backend_record_execution(&id2, second, &rec), SL_OK, "%s",
		     sl_backend_errmsg(second));
	cr_assert_eq(sl_backend_record_execution(&id3, be, &rec), SL_OK, "%s", sl_backend_errmsg(be));
	cr_assert(id2 > id1 && id3 > id2, "ids %lld %lld %lld", (long long)id1, (long long)id2,
		  (long long)id3);
	cr_assert_eq(sl_backend_close(second), SL_OK);
}

Test(backend, open_without_create_on_a_missing_log_fails)
{
	struct sl_backend_options o;
	sl_backend_options_init(&o);
	char missing[400], err[512] = "";
	snprintf(missing, sizeof missing, "%s/missing.log", dir);
	sl_backend *b = NULL;
	int rc = sl_backend_open(&b, missing, &o, err, sizeof err);
	cr_assert_neq(rc, SL_OK, "no log, no create: %s", sl_backend_errmsg(be));
	cr_assert_null(b, "*out untouched");
	cr_assert(strstr(err, "missing.log"), "the message names the log: %s", err);
}

struct db_path_row {
	char log[32];
	char db[32];                    /* "": refused */
};

ParameterizedTestParameters(backend, default_db_path)
{
	static struct db_path_row rows[] = {
		{ "statelog.log", "statelog.db" }, { "run/statelog.log", "run/statelog.db" },
		{ "run/statelog.log/", "run/statelog.db" }, { "logs", "logs.db" },
		{ "logs/", "logs.db" }, { "/var/lib/x.log", "/var/lib/x.db" },
		{ "a/.log", "a/.log.db" }, { "", "" },
	};
	return cr_make_param_array(struct db_path_row, rows, sizeof rows / sizeof rows[0]);
}

ParameterizedTest(struct db_path_row *row, backend, default_db_path)
{
	char *p = NULL;
	int rc = sl_backend_default_db_path(&p, row->log);
	if (!row->db[0]) {
		cr_assert_eq(rc, SL_EINVAL, "'%s' is refused", row->log);
		return;
	}
	cr_assert_eq(rc, SL_OK, "'%s'", row->log);
	cr_assert_str_eq(p, row->db, "database beside '%s'", row->log);
	free(p);
}

/* ---- views that are never stale ---------------------------------------- */

/* A separate SQLite connection's answer to "SELECT count(*) FROM jobs
 * WHERE id = ?": what a dashboard in another process reads. */
static int64_t rows_seen(const char *db, const char *id)
{
	sqlite3 *c;
	cr_assert_eq(sqlite3_open_v2(db, &c, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	sqlite3_stmt *st;
	cr_assert_eq(sqlite3_prepare_v2(c, "SELECT count(*) FROM jobs WHERE id = ?", -1, &st, NULL),
		     SQLITE_OK, "%s", sqlite3_errmsg(c));
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	int64_t n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(c);
	return n;
}

static sl_backend *open_mode(const char *db, enum sl_views_mode mode)
{
	struct sl_backend_options o;
	sl_backend_options_init(&o);
	o.create = true;
	o.db_path = db;
	o.views = mode;
	char err[1024] = "";
	sl_backend *b = NULL;
	cr_assert_eq(sl_backend_open(&b, logdir, &o, err, sizeof err), SL_OK, "%s", err);
	return b;
}

/* Live (the default): a commit reaches the database without any read, by
 * the projector thread.  The wait is a bound on a hang, not a timing. */
Test(backend, live_views_show_a_commit_without_a_read)
{
	save_job("live", 2, 0);
	int waited = 0;
	while (rows_seen(dbpath, "live") == 0 && waited < 30000) {
		usleep(1000);
		waited++;
	}
	cr_assert_eq(rows_seen(dbpath, "live"), 1, "the live views never showed the job");
}

/* Sync: the row is there when the call returns. */
Test(backend, sync_views_hold_the_commit_when_the_call_returns)
{
	sl_backend_close(be);
	be = open_mode(dbpath, SL_VIEWS_SYNC);
	for (int i = 0; i < 20; i++) {
		char id[16];
		snprintf(id, sizeof id, "s%d", i);
		save_job(id, 1, 0);
		cr_assert_eq(rows_seen(dbpath, id), 1, "%s not in the views after save", id);
	}
	cr_assert_eq(sl_backend_mark_sheet_status(be, "s3", 1, "completed", NULL), SL_OK);
	sqlite3 *c;
	cr_assert_eq(sqlite3_open_v2(dbpath, &c, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	sqlite3_stmt *st;
	cr_assert_eq(sqlite3_prepare_v2(c, "SELECT status FROM sheets WHERE job_id = 's3' AND "
					"sheet_num = 1", -1, &st, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW, "the sheet row is there");
	cr_assert_str_eq((const char *)sqlite3_column_text(st, 0), "completed");
	sqlite3_finalize(st);
	sqlite3_close(c);
}

/* On read: nothing reaches the database until a read or close; close
 * leaves it holding every commit. */
Test(backend, close_leaves_the_views_caught_up)
{
	sl_backend_close(be);
	be = open_mode(dbpath, SL_VIEWS_ON_READ);
	save_job("later", 1, 0);
	cr_assert_eq(rows_seen(dbpath, "later"), 0, "on read: not yet");
	cr_assert_eq(sl_backend_sync_views(be), SL_OK);
	cr_assert_eq(rows_seen(dbpath, "later"), 1, "sync_views caught up");
	save_job("last", 1, 0);
	uint64_t seq = sl_backend_last_seq(be);
	cr_assert_eq(sl_backend_close(be), SL_OK);
	be = NULL;
	cr_assert_eq(rows_seen(dbpath, "last"), 1, "close caught up");
	sqlite3 *c;
	cr_assert_eq(sqlite3_open_v2(dbpath, &c, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	sqlite3_stmt *st;
	cr_assert_eq(sqlite3_prepare_v2(c, "SELECT value FROM statelog_meta WHERE key = "
					"'last_seq'", -1, &st, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	cr_assert_eq((uint64_t)sqlite3_column_int64(st, 0), seq, "the views at the log's end");
	sqlite3_finalize(st);
	sqlite3_close(c);
	be = open_backend(dbpath, false);
}

/* ---- sl_backend_append: events from outside, several jobs in a commit --- */

static sl_event *ev_json(const char *json)
{
	sl_event *ev = NULL;
	char err[256] = "";
	cr_assert_eq(sl_event_from_json(&ev, json, strlen(json), err, sizeof err), SL_OK, "%s", err);
	return ev;
}

Test(backend, append_checks_each_event_against_the_ones_before_it)
{
	const char *lines[] = {
		"{\"job_id\": \"A\", \"type\": \"job_created\", \"body\": {\"name\": \"a\", \"total_sheets\": 2}}",
		"{\"job_id\": \"B\", \"type\": \"job_created\", \"body\": {\"name\": \"b\", \"total_sheets\": 2}}",
		"{\"job_id\": \"A\", \"type\": \"sheet_started\", \"body\": {\"sheet_num\": 1}}",
		"{\"job_id\": \"B\", \"type\": \"sheet_started\", \"body\": {\"sheet_num\": 0}}",
	};
	sl_event *evs[4];
	for (int i = 0; i < 4; i++)
		evs[i] = ev_json(lines[i]);
	uint64_t before = sl_backend_last_seq(be);
	cr_assert_eq(sl_backend_append(NULL, be, evs, 4), SL_EINVAL);
	cr_assert_str_eq(sl_backend_errmsg(be), "append: event 4 (sheet_started) of job 'B': "
			 "body.sheet_num: sheet 0 is below 1");
	cr_assert_eq(sl_backend_last_seq(be), before, "nothing appended");
	struct sl_job_state st;
	cr_assert_eq(sl_backend_load(&st, be, "A"), SL_ENOTFOUND, "A was not created");

	struct sl_commit_info info;
	cr_assert_eq(sl_backend_append(&info, be, evs, 3), SL_OK, "%s", sl_backend_errmsg(be));
	cr_assert_eq(info.last_seq - info.first_seq, 2);
	cr_assert_eq(sl_backend_load(&st, be, "A"), SL_OK);
	cr_assert_eq(st.status, SL_JOB_RUNNING, "A's sheet started after its creation");
	sl_state_free(&st);
	cr_assert_eq(sl_backend_load(&st, be, "B"), SL_OK);
	cr_assert_eq(st.status, SL_JOB_PENDING);
	sl_state_free(&st);
	/* The cached states are the projector's: reopen and read them back. */
	reopen();
	cr_assert_eq(sl_backend_load(&st, be, "A"), SL_OK);
	cr_assert_eq(st.status, SL_JOB_RUNNING);
	sl_state_free(&st);
	for (int i = 0; i < 4; i++)
		sl_event_free(evs[i]);
	cr_assert_eq(sl_backend_append(NULL, be, NULL, 0), SL_EINVAL, "no events");
}
