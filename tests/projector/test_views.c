/* test_views.c: tests of projector/views.c and schema/views.sql: the
 * database is the original backend's schema version 4 exactly (tables,
 * column order, types, defaults, NOT NULL, keys, foreign keys, indexes,
 * schema_version rows), statelog's own tables are there, values are
 * encoded as the original writes them, and a job reads back whole.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "event_internal.h"
#include "proj_helpers.h"
#include "timefmt.h"
#include "views_internal.h"

/* 2026-11-26T02:49:38.504474+00:00 */
#define T0 INT64_C(1795661378504474)

static char *dir, *log_dir, *db_path;

static void setup(void)
{
	dir = ph_tmpdir();
	log_dir = ph_path(dir, "test.log");
	db_path = ph_path(dir, "test.db");
}

static void teardown(void)
{
	free(log_dir);
	free(db_path);
	ph_rmrf(dir);
}

TestSuite(views, .init = setup, .fini = teardown, .timeout = 60);

/* An empty log and its (created) views. */
static sqlite3 *fresh_views(void)
{
	sl_log_close(ph_log(log_dir));
	ph_project(log_dir, db_path, 0, NULL);
	sqlite3 *db;
	cr_assert_eq(sqlite3_open(db_path, &db), SQLITE_OK);
	return db;
}

/* ---- the schema ----------------------------------------------------------- */

struct col {
	const char *name, *type;
	int notnull;
	const char *dflt;       /* NULL: none */
	int pk;
};

/* projector/model/MODEL.md "The database (schema version 4)", each column. */
static const struct col jobs_cols[] = {
	{ "id", "TEXT", 0, NULL, 1 }, { "name", "TEXT", 1, NULL, 0 },
	{ "description", "TEXT", 0, NULL, 0 }, { "status", "TEXT", 1, "'pending'", 0 },
	{ "total_sheets", "INTEGER", 1, NULL, 0 },
	{ "last_completed_sheet", "INTEGER", 1, "0", 0 }, { "current_sheet", "INTEGER", 0, NULL, 0 },
	{ "config_hash", "TEXT", 0, NULL, 0 }, { "config_snapshot", "TEXT", 0, NULL, 0 },
	{ "pid", "INTEGER", 0, NULL, 0 }, { "error_message", "TEXT", 0, NULL, 0 },
	{ "total_retry_count", "INTEGER", 1, "0", 0 }, { "rate_limit_waits", "INTEGER", 1, "0", 0 },
	{ "created_at", "TEXT", 1, NULL, 0 }, { "updated_at", "TEXT", 1, NULL, 0 },
	{ "started_at", "TEXT", 0, NULL, 0 }, { "completed_at", "TEXT", 0, NULL, 0 },
	{ "config_path", "TEXT", 0, NULL, 0 }, { NULL, NULL, 0, NULL, 0 },
};

static const struct col sheets_cols[] = {
	{ "job_id", "TEXT", 1, NULL, 1 }, { "sheet_num", "INTEGER", 1, NULL, 2 },
	{ "status", "TEXT", 1, "'pending'", 0 }, { "attempt_count", "INTEGER", 1, "0", 0 },
	{ "exit_code", "INTEGER", 0, NULL, 0 }, { "error_message", "TEXT", 0, NULL, 0 },
	{ "error_category", "TEXT", 0, NULL, 0 }, { "validation_passed", "INTEGER", 0, NULL, 0 },
	{ "validation_details", "TEXT", 0, NULL, 0 },
	{ "completion_attempts", "INTEGER", 1, "0", 0 },
	{ "passed_validations", "TEXT", 0, NULL, 0 }, { "failed_validations", "TEXT", 0, NULL, 0 },
	{ "last_pass_percentage", "REAL", 0, NULL, 0 }, { "execution_mode", "TEXT", 0, NULL, 0 },
	{ "outcome_data", "TEXT", 0, NULL, 0 }, { "confidence_score", "REAL", 0, NULL, 0 },
	{ "learned_patterns", "TEXT", 0, NULL, 0 },
	{ "similar_outcomes_count", "INTEGER", 1, "0", 0 },
	{ "success_without_retry", "INTEGER", 1, "0", 0 },
	{ "outcome_category", "TEXT", 0, NULL, 0 }, { "started_at", "TEXT", 0, NULL, 0 },
	{ "completed_at", "TEXT", 0, NULL, 0 },
	{ "execution_duration_seconds", "REAL", 0, NULL, 0 },
	{ "exit_signal", "INTEGER", 0, NULL, 0 }, { "exit_reason", "TEXT", 0, NULL, 0 },
	{ NULL, NULL, 0, NULL, 0 },
};

static const struct col history_cols[] = {
	{ "id", "INTEGER", 0, NULL, 1 }, { "job_id", "TEXT", 1, NULL, 0 },
	{ "sheet_num", "INTEGER", 1, NULL, 0 }, { "attempt_num", "INTEGER", 1, NULL, 0 },
	{ "prompt", "TEXT", 0, NULL, 0 }, { "output", "TEXT", 0, NULL, 0 },
	{ "exit_code", "INTEGER", 0, NULL, 0 }, { "duration_seconds", "REAL", 0, NULL, 0 },
	{ "executed_at", "TEXT", 1, NULL, 0 }, { NULL, NULL, 0, NULL, 0 },
};

static const struct col version_cols[] = {
	{ "version", "INTEGER", 0, NULL, 1 }, { "applied_at", "TEXT", 1, NULL, 0 },
	{ NULL, NULL, 0, NULL, 0 },
};

static void check_columns(sqlite3 *db, const char *table, const struct col *want)
{
	char sql[128];
	snprintf(sql, sizeof sql, "PRAGMA table_info(%s)", table);
	sqlite3_stmt *st;
	cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	int i = 0;
	for (; sqlite3_step(st) == SQLITE_ROW; i++) {
		cr_assert_not_null(want[i].name, "%s: more columns than the model's %d", table, i);
		const char *name = (const char *)sqlite3_column_text(st, 1);
		const char *type = (const char *)sqlite3_column_text(st, 2);
		const char *dflt = (const char *)sqlite3_column_text(st, 4);
		cr_assert_str_eq(name, want[i].name, "%s column %d: %s, want %s", table, i, name,
				 want[i].name);
		cr_assert_str_eq(type, want[i].type, "%s.%s type %s, want %s", table, name, type,
				 want[i].type);
		cr_assert_eq(sqlite3_column_int(st, 3), want[i].notnull, "%s.%s NOT NULL", table,
			     name);
		if (want[i].dflt)
			cr_assert(dflt && strcmp(dflt, want[i].dflt) == 0,
				  "%s.%s default %s, want %s", table, name, dflt ? dflt : "none",
				  want[i].dflt);
		else
			cr_assert_null(dflt, "%s.%s default %s, want none", table, name, dflt);
		cr_assert_eq(sqlite3_column_int(st, 5), want[i].pk, "%s.%s pk position", table, name);
	}
	cr_assert_null(want[i].name, "%s: column %s missing", table, want[i].name);
	sqlite3_finalize(st);
}

Test(views, tables_are_model_v4)
{
	sqlite3 *db = fresh_views();
	check_columns(db, "jobs", jobs_cols);
	check_columns(db, "sheets", sheets_cols);
	check_columns(db, "execution_history", history_cols);
	check_columns(db, "schema_version", version_cols);
	sqlite3_close(db);
}

/* The catalogue of state.h is the order of the CREATE TABLEs (views.c
 * writes rows through it). */
Test(views, catalogue_matches_tables)
{
	for (size_t i = 0; i < SL_STATE_N_JOB_COLUMNS; i++)
		cr_assert_str_eq(sl_state_job_columns[i].name, jobs_cols[i].name,
				 "job column %zu: catalogue %s, table %s", i,
				 sl_state_job_columns[i].name, jobs_cols[i].name);
	for (size_t i = 0; i < SL_STATE_N_SHEET_COLUMNS; i++)
		cr_assert_str_eq(sl_state_sheet_columns[i].name, sheets_cols[i + 1].name,
				 "sheet column %zu: catalogue %s, table %s", i,
				 sl_state_sheet_columns[i].name, sheets_cols[i + 1].name);
}

struct idx {
	const char *name, *table, *cols;
};

Test(views, indexes_and_foreign_keys)
{
	sqlite3 *db = fresh_views();
	static const struct idx want[] = {
		{ "idx_jobs_status", "jobs", "status" },
		{ "idx_jobs_updated", "jobs", "updated_at" },
		{ "idx_sheets_status", "sheets", "status" },
		{ "idx_history_job_sheet", "execution_history", "job_id,sheet_num" },
		{ "idx_statelog_events_job", "statelog_events", "job_id,seq" },
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		char sql[256], *got;
		snprintf(sql, sizeof sql, "SELECT tbl_name || ':' || (SELECT group_concat(name, ',') "
			 "FROM pragma_index_info('%s')) FROM sqlite_master WHERE type = 'index' AND "
			 "name = '%s'", want[i].name, want[i].name);
		sqlite3_stmt *st;
		cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s",
			     sqlite3_errmsg(db));
		cr_assert_eq(sqlite3_step(st), SQLITE_ROW, "index %s missing", want[i].name);
		got = strdup((const char *)sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
		char expect[128];
		snprintf(expect, sizeof expect, "%s:%s", want[i].table, want[i].cols);
		cr_assert_str_eq(got, expect, "index %s on %s, want %s", want[i].name, got, expect);
		free(got);
	}
	/* No other index: the four of projector/model/MODEL.md and the events' one. */
	char *n = ph_query(db_path, "SELECT count(*) FROM sqlite_master WHERE type = 'index' "
			   "AND sql IS NOT NULL");
	cr_assert_str_eq(n, "5", "explicit indexes: %s, want 5", n);
	free(n);
	/* Foreign keys: sheets and history on jobs(id), ON DELETE CASCADE. */
	static const char *const fk_tables[] = { "sheets", "execution_history" };
	for (size_t i = 0; i < 2; i++) {
		char sql[200];
		snprintf(sql, sizeof sql, "SELECT \"table\" || ':' || \"from\" || '->' || \"to\" || ':' "
			 "|| on_delete FROM pragma_foreign_key_list('%s')", fk_tables[i]);
		char *fk = ph_query(db_path, sql);
		cr_assert_str_eq(fk, "jobs:job_id->id:CASCADE", "%s foreign key %s", fk_tables[i], fk);
		free(fk);
	}
	/* AUTOINCREMENT on execution_history (sqlite_sequence exists for it). */
	char *ai = ph_query(db_path, "SELECT count(*) FROM sqlite_master WHERE name = "
			    "'execution_history' AND sql LIKE '%AUTOINCREMENT%'");
	cr_assert_str_eq(ai, "1", "execution_history id AUTOINCREMENT");
	free(ai);
	char *fks = ph_query(db_path, "PRAGMA foreign_keys");
	cr_assert_str_eq(fks, "0", "a new connection has foreign keys off (sanity of the test)");
	free(fks);
	sqlite3_close(db);
}

Test(views, schema_version_and_meta)
{
	sqlite3 *db = fresh_views();
	sqlite3_stmt *st;
	cr_assert_eq(sqlite3_prepare_v2(db, "SELECT version, applied_at FROM schema_version "
					"ORDER BY version", -1, &st, NULL), SQLITE_OK);
	int v = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		v++;
		cr_assert_eq(sqlite3_column_int(st, 0), v, "schema_version row %d", v);
		int64_t t;
		const char *at = (const char *)sqlite3_column_text(st, 1);
		cr_assert_eq(sl_time_parse(&t, at), SL_OK, "applied_at %s is an ISO time", at);
		cr_assert(strstr(at, "+00:00") != NULL, "applied_at %s is UTC with offset", at);
	}
	cr_assert_eq(v, 4, "schema_version holds rows 1..4, got %d", v);
	sqlite3_finalize(st);
	char *vv = ph_query(db_path, "SELECT value FROM statelog_meta WHERE key = 'views_version'");
	char want[16];
	snprintf(want, sizeof want, "%d", SL_VIEWS_VERSION);
	cr_assert_str_eq(vv, want, "views.sql's views_version %s, SL_VIEWS_VERSION %s", vv, want);
	free(vv);
	char *mode = ph_query(db_path, "PRAGMA journal_mode");
	cr_assert_str_eq(mode, "wal", "journal_mode %s, want wal", mode);
	free(mode);
	sqlite3_close(db);
}

/* The schema of a rebuilt database is the one of a created database. */
Test(views, rebuilt_schema_is_created_schema)
{
	sqlite3_close(fresh_views());
	char *rebuilt = ph_path(dir, "rebuilt.db");
	char err[1024] = "";
	struct sl_proj_stats st;
	int rc = sl_proj_rebuild(log_dir, rebuilt, NULL, &st, err, sizeof err);
	cr_assert_eq(rc, SL_OK, "rebuild: %s", err);
	const char *q = "SELECT group_concat(type || ' ' || name || ': ' || sql, '\n') FROM "
			"(SELECT * FROM sqlite_master WHERE sql IS NOT NULL ORDER BY type, name)";
	char *a = ph_query(db_path, q), *b = ph_query(rebuilt, q);
	cr_assert_str_eq(b, a, "rebuilt schema:\n%s\ncreated schema:\n%s", b, a);
	free(a);
	free(b);
	free(rebuilt);
}

/* ---- values --------------------------------------------------------------- */

/* A small history: one job, sheets started, completed, failed, skipped,
 * an execution, fields set and cleared. */
static void write_job_log(void)
{
	sl_log *log = ph_log(log_dir);
	int64_t t = T0;
	ph_append(log, ph_created("job/1:a@b-é", "Nightly build", 4), t);
	sl_event *ev = ph_job("job/1:a@b-é", STATELOG__EVENT__BODY_PID_SET);
	ev->pid_set->has_pid = 1;
	ev->pid_set->pid = 4242;
	ph_append(log, ev, t += 1000000);                        /* fraction .504474 */
	ph_append(log, ph_sheet("job/1:a@b-é", STATELOG__EVENT__BODY_SHEET_STARTED, 1),
		  t = T0 - 504474 + 2000000);                     /* whole second */
	ph_append(log, ph_exec("job/1:a@b-é", 7, 1, 1, "Do the \"thing\"\n", "done ✓"), t += 1);
	ev = ph_sheet("job/1:a@b-é", STATELOG__EVENT__BODY_SHEET_COMPLETED, 1);
	ev->sheet_completed->validation_details = strdup("[{\"rule\": \"tests pass\", \"passed\": true}]");
	ev->sheet_completed->has_duration_seconds = 1;
	ev->sheet_completed->duration_seconds = 61.5;
	ph_append(log, ev, t += 250);
	ev = ph_sheet("job/1:a@b-é", STATELOG__EVENT__BODY_SHEET_FIELDS_SET, 1);
	ev->sheet_fields_set->passed_validations = strdup("[\"tests pass\"]");
	ev->sheet_fields_set->has_confidence_score = 1;
	ev->sheet_fields_set->confidence_score = 0.875;
	ev->sheet_fields_set->outcome_category = strdup("success_first_try");
	ev->sheet_fields_set->has_success_without_retry = 1;
	ev->sheet_fields_set->success_without_retry = 1;
	ev->sheet_fields_set->n_cleared = 1;
	ev->sheet_fields_set->cleared = malloc(sizeof(uint32_t));
	ev->sheet_fields_set->cleared[0] = 16;               /* learned_patterns -> NULL */
	ph_append(log, ev, t += 1000);
	ph_append(log, ph_sheet("job/1:a@b-é", STATELOG__EVENT__BODY_SHEET_STARTED, 2), t += 1000);
	ev = ph_sheet("job/1:a@b-é", STATELOG__EVENT__BODY_SHEET_FAILED, 2);
	ev->sheet_failed->category = strdup("no_such_category");
	ev->sheet_failed->has_exit_code = 1;
	ev->sheet_failed->exit_code = 137;
	ev->sheet_failed->has_exit_signal = 1;
	ev->sheet_failed->exit_signal = 9;
	ev->sheet_failed->exit_reason = strdup("killed");
	ph_append(log, ev, t += 1000);
	ph_append(log, ph_sheet("job/1:a@b-é", STATELOG__EVENT__BODY_SHEET_SKIPPED, 3), t += 1000);
	sl_log_close(log);
}

struct enc_row {
	char sql[160];
	char want[160];         /* typeof:value, "null" */
};

ParameterizedTestParameters(views, encodings)
{
	static struct enc_row rows[] = {
		{ "SELECT created_at FROM jobs", "text:2026-11-26T02:49:38.504474+00:00" },
		{ "SELECT updated_at FROM jobs", "text:2026-11-26T02:49:40.004251+00:00" },
		{ "SELECT started_at FROM jobs", "text:2026-11-26T02:49:40+00:00" },
		{ "SELECT started_at FROM sheets WHERE sheet_num = 1", "text:2026-11-26T02:49:40+00:00" },
		{ "SELECT status FROM jobs", "text:running" },
		{ "SELECT description FROM jobs", "null" },
		{ "SELECT completed_at FROM jobs", "null" },
		{ "SELECT pid FROM jobs", "integer:4242" },
		{ "SELECT config_snapshot FROM jobs",
		  "text:{\"retries\": 3, \"rules\": [\"a\", \"b\"], \"nested\": {\"x\": 1.5}}" },
		{ "SELECT config_path FROM jobs", "text:/etc/jobs/é.yaml" },
		{ "SELECT total_retry_count FROM jobs", "integer:1" },
		{ "SELECT last_completed_sheet FROM jobs", "integer:1" },
		{ "SELECT current_sheet FROM jobs", "null" },
		{ "SELECT status FROM sheets WHERE sheet_num = 1", "text:completed" },
		{ "SELECT validation_passed FROM sheets WHERE sheet_num = 1", "integer:1" },
		{ "SELECT validation_passed FROM sheets WHERE sheet_num = 2", "null" },
		{ "SELECT validation_details FROM sheets WHERE sheet_num = 1",
		  "text:[{\"rule\": \"tests pass\", \"passed\": true}]" },
		{ "SELECT passed_validations FROM sheets WHERE sheet_num = 1", "text:[\"tests pass\"]" },
		{ "SELECT failed_validations FROM sheets WHERE sheet_num = 1", "text:[]" },
		{ "SELECT learned_patterns FROM sheets WHERE sheet_num = 1", "null" },
		{ "SELECT learned_patterns FROM sheets WHERE sheet_num = 2", "text:[]" },
		{ "SELECT success_without_retry FROM sheets WHERE sheet_num = 1", "integer:1" },
		{ "SELECT success_without_retry FROM sheets WHERE sheet_num = 2", "integer:0" },
		{ "SELECT confidence_score FROM sheets WHERE sheet_num = 1", "real:0.875" },
		{ "SELECT execution_duration_seconds FROM sheets WHERE sheet_num = 1", "real:61.5" },
		{ "SELECT exit_code FROM sheets WHERE sheet_num = 1", "integer:0" },
		{ "SELECT status FROM sheets WHERE sheet_num = 2", "text:failed" },
		{ "SELECT error_message FROM sheets WHERE sheet_num = 2",
		  "text:Unknown failure (no error message recorded)" },
		{ "SELECT error_category FROM sheets WHERE sheet_num = 2", "null" },
		{ "SELECT exit_signal FROM sheets WHERE sheet_num = 2", "integer:9" },
		{ "SELECT exit_reason FROM sheets WHERE sheet_num = 2", "text:killed" },
		{ "SELECT status FROM sheets WHERE sheet_num = 3", "text:skipped" },
		{ "SELECT count(*) FROM sheets WHERE sheet_num = 4", "integer:0" },
		{ "SELECT id FROM execution_history", "integer:7" },
		{ "SELECT prompt FROM execution_history", "text:Do the \"thing\"\n" },
		{ "SELECT output FROM execution_history", "text:done ✓" },
		{ "SELECT executed_at FROM execution_history", "text:2026-11-26T02:49:40.000001+00:00" },
		{ "SELECT duration_seconds FROM execution_history", "real:12.25" },
		{ "SELECT seq FROM sqlite_sequence WHERE name = 'execution_history'", "integer:7" },
		{ "SELECT type || ' ' || sheet_num FROM statelog_events WHERE seq = 3",
		  "text:sheet_started 1" },
		{ "SELECT sheet_num FROM statelog_events WHERE seq = 2", "null" },
		{ "SELECT time FROM statelog_events WHERE seq = 2", "text:2026-11-26T02:49:39.504474+00:00" },
		{ "SELECT value FROM statelog_meta WHERE key = 'last_seq'", "integer:9" },
	};
	return cr_make_param_array(struct enc_row, rows, sizeof rows / sizeof rows[0]);
}

ParameterizedTest(struct enc_row *row, views, encodings)
{
	write_job_log();
	ph_project(log_dir, db_path, 0, NULL);
	sqlite3 *db;
	sqlite3_stmt *st;
	cr_assert_eq(sqlite3_open(db_path, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(db, row->sql, -1, &st, NULL), SQLITE_OK, "%s: %s",
		     row->sql, sqlite3_errmsg(db));
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW, "%s: no row", row->sql);
	char got[512];
	int type = sqlite3_column_type(st, 0);
	if (type == SQLITE_NULL)
		snprintf(got, sizeof got, "null");
	else
		snprintf(got, sizeof got, "%s:%s",
			 type == SQLITE_INTEGER ? "integer" : type == SQLITE_FLOAT ? "real" : "text",
			 (const char *)sqlite3_column_text(st, 0));
	cr_assert_str_eq(got, row->want, "%s gives %s, want %s", row->sql, got, row->want);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* sl_proj_load_job() reads back exactly the state the rules give. */
Test(views, load_job_round_trip)
{
	write_job_log();
	ph_project(log_dir, db_path, 0, NULL);
	/* The state the rules give, replayed from the log. */
	struct sl_job_state want;
	sl_state_init(&want);
	sl_reader *r;
	char err[512];
	cr_assert_eq(sl_reader_open(&r, log_dir, NULL, err, sizeof err), SL_OK, "%s", err);
	struct sl_record rec;
	while (sl_reader_next(&rec, r) == 1) {
		sl_event *ev;
		cr_assert_eq(sl_event_decode(&ev, rec.data, rec.len, rec.seq, rec.time_us), SL_OK);
		cr_assert_eq(sl_rules_apply(&want, ev, NULL), SL_OK, "apply seq %" PRIu64, rec.seq);
		sl_event_free(ev);
	}
	sl_reader_close(r);
	sl_proj *p;
	cr_assert_eq(sl_proj_open(&p, log_dir, db_path, NULL, NULL, err, sizeof err), SL_OK, "%s",
		     err);
	struct sl_job_state got;
	int rc = sl_proj_load_job(&got, p, "job/1:a@b-é");
	cr_assert_eq(rc, SL_OK, "load: %s", sl_proj_errmsg(p));
	int64_t sheet;
	const char *d = sl_state_first_difference(&got, &want, 0, &sheet);
	cr_assert_null(d, "loaded state differs in %s (sheet %" PRId64 ")", d, sheet);
	cr_assert_eq(got.n_sheets, 3, "sheets 1..3 in order, got %zu", got.n_sheets);
	cr_assert_eq(sl_proj_load_job(&got, p, "no such job"), SL_ENOTFOUND, "unknown job");
	sl_state_free(&want);
	sl_state_free(&got);
	sl_proj_close(p);
}

/* The original backend (Python) loads the database unchanged: its load()
 * SELECTs and row conversions, run by python3 when there is one. */
Test(views, python_original_loads_it)
{
	if (system("python3 -c 'import sqlite3' >/dev/null 2>&1") != 0)
		cr_skip_test("python3 with sqlite3 is not available");
	write_job_log();
	ph_project(log_dir, db_path, 0, NULL);
	static const char script[] =
		"import json, sqlite3, sys\n"
		"from datetime import datetime\n"
		"J = {'pending','running','completed','failed','paused','paused_at_chain','cancelled'}\n"
		"S = {'pending','ready','dispatched','in_progress','waiting','retry_scheduled',"
		"'fermata','completed','failed','skipped','cancelled'}\n"
		"db = sqlite3.connect(sys.argv[1]); db.row_factory = sqlite3.Row\n"
		"db.execute('PRAGMA foreign_keys=ON')\n"
		"t = lambda s: None if s is None else datetime.fromisoformat(s)\n"
		"j = lambda s: None if s is None else json.loads(s)\n"
		"v = [r[0] for r in db.execute('SELECT version FROM schema_version ORDER BY version')]\n"
		"assert v == [1, 2, 3, 4], v\n"
		"n = 0\n"
		"for (jid,) in db.execute('SELECT id FROM jobs ORDER BY updated_at DESC').fetchall():\n"
		"    r = db.execute('SELECT * FROM jobs WHERE id = ?', (jid,)).fetchone()\n"
		"    assert r['status'] in J; t(r['created_at']).utcoffset().total_seconds() == 0\n"
		"    t(r['updated_at']); t(r['started_at']); t(r['completed_at']); j(r['config_snapshot'])\n"
		"    r['config_path']; r['total_sheets']; r['pid']; r['rate_limit_waits']\n"
		"    for s in db.execute('SELECT * FROM sheets WHERE job_id = ? ORDER BY sheet_num', (jid,)):\n"
		"        assert s['status'] in S; t(s['started_at']); t(s['completed_at'])\n"
		"        j(s['validation_details']); j(s['passed_validations']) or []\n"
		"        j(s['failed_validations']) or []; j(s['outcome_data']); j(s['learned_patterns']) or []\n"
		"        bool(s['success_without_retry']); s['execution_duration_seconds']\n"
		"        s['exit_signal']; s['exit_reason']; n += 1\n"
		"h = db.execute('SELECT * FROM execution_history WHERE job_id = ? ORDER BY executed_at DESC LIMIT ?',"
		" (jid, 100)).fetchall()\n"
		"assert n == 3 and len(h) == 1, (n, len(h))\n";
	char *py = ph_path(dir, "load.py");
	FILE *f = fopen(py, "w");
	cr_assert_not_null(f);
	fputs(script, f);
	fclose(f);
	char *cmd;
	cr_assert_gt(asprintf(&cmd, "python3 '%s' '%s'", py, db_path), 0);
	int status = system(cmd);
	cr_assert_eq(status, 0, "the original's load() on %s failed (status %d)", db_path, status);
	free(cmd);
	free(py);
}

/* ---- private copies of readers that died ---------------------------------- */


static void make_copy_dir(const char *tmp, const char *name, long owner)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", tmp, name);
	cr_assert_eq(mkdir(path, 0700), 0, "mkdir %s", path);
	if (owner) {
		char f[600];
		snprintf(f, sizeof f, "%s/owner", path);
		FILE *o = fopen(f, "w");
		cr_assert_not_null(o);
		fprintf(o, "%ld\n", owner);
		fclose(o);
	}
}

static bool there(const char *tmp, const char *name)
{
	char path[512];
	struct stat sb;
	snprintf(path, sizeof path, "%s/%s", tmp, name);
	return stat(path, &sb) == 0;
}

/* A reader killed on a read-only mount leaves its copy: the next reader
 * removes the copies whose process is gone, and only those. */
Test(views, stale_private_copies_are_swept)
{
	char *tmp = ph_tmpdir();
	pid_t child = fork();
	if (child == 0)
		_exit(0);
	waitpid(child, NULL, 0);                /* a pid whose process is gone */
	make_copy_dir(tmp, "statelog-views-dead", child);
	make_copy_dir(tmp, "statelog-views-live", (long)getppid());
	make_copy_dir(tmp, "statelog-views-old", 0);
	make_copy_dir(tmp, "statelog-views-new", 0);
	make_copy_dir(tmp, "not-a-copy", child);
	char old[512];
	snprintf(old, sizeof old, "%s/statelog-views-old", tmp);
	struct timeval tv[2] = { { time(NULL) - 7200, 0 }, { time(NULL) - 7200, 0 } };
	cr_assert_eq(utimes(old, tv), 0);
	cr_assert_eq(sl_proj_sweep_copies(tmp), 2);
	cr_assert(!there(tmp, "statelog-views-dead"), "the copy of a dead reader is removed");
	cr_assert(!there(tmp, "statelog-views-old"), "an hour-old copy without an owner is removed");
	cr_assert(there(tmp, "statelog-views-live"), "a live reader's copy stays");
	cr_assert(there(tmp, "statelog-views-new"), "a copy being made stays");
	cr_assert(there(tmp, "not-a-copy"), "other directories stay");
	ph_rmrf(tmp);
}
