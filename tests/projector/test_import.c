/* test_import.c: tests of projector/import.c, import_db.c and import_json.c
 * (`statelog import`).
 *
 * Source databases are built here with the SQL of each schema version of
 * the original backend: version 1's CREATE TABLEs, then its migrations
 * (v2 adds jobs.config_path, v3 the three sheet columns, v4 renames
 * first_attempt_success), and a database created fresh at version 4.  They
 * hold jobs in every job status, sheets in every sheet status, NULL beside
 * "[]" in JSON columns, non-ASCII ids, and history rows older than their
 * job's created_at, newer than its updated_at, and at equal times.  The
 * projection is compared with the source here, by the test's own queries,
 * row by row and column by column (import.c's own comparison is not
 * trusted to judge itself).
 *
 * Each test gets a fresh directory; a failed import must leave nothing in
 * it but what the test put there.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <dirent.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "event_internal.h"
#include "import.h"
#include "projector.h"
#include "history.h"
#include "log.h"
#include "timefmt.h"

static char dir[256];
static char src[320], logdir[320], dbpath[320];

static void setup(void)
{
	snprintf(dir, sizeof dir, "/tmp/sl-test-import-XXXXXX");
	cr_assert_not_null(mkdtemp(dir), "mkdtemp");
	snprintf(src, sizeof src, "%s/orig.db", dir);
	snprintf(logdir, sizeof logdir, "%s/state.log", dir);
	snprintf(dbpath, sizeof dbpath, "%s/state.db", dir);
}

static int rm_one(const char *p, const struct stat *s, int f, struct FTW *w)
{
	(void)s;
	(void)f;
	(void)w;
	remove(p);
	return 0;
}

static void teardown(void)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(import, .init = setup, .fini = teardown, .timeout = 60);

/* ---- the original's schemas ------------------------------------------- */

static const char schema_v1[] =
	"CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL);"
	"INSERT INTO schema_version VALUES (1, '2025-01-01T00:00:00+00:00');"
	"CREATE TABLE jobs (id TEXT PRIMARY KEY, name TEXT NOT NULL, description TEXT,"
	" status TEXT NOT NULL DEFAULT 'pending', total_sheets INTEGER NOT NULL,"
	" last_completed_sheet INTEGER NOT NULL DEFAULT 0, current_sheet INTEGER,"
	" config_hash TEXT, config_snapshot TEXT, pid INTEGER, error_message TEXT,"
	" total_retry_count INTEGER NOT NULL DEFAULT 0,"
	" rate_limit_waits INTEGER NOT NULL DEFAULT 0,"
	" created_at TEXT NOT NULL, updated_at TEXT NOT NULL, started_at TEXT, completed_at TEXT);"
	"CREATE TABLE sheets (job_id TEXT NOT NULL, sheet_num INTEGER NOT NULL,"
	" status TEXT NOT NULL DEFAULT 'pending', attempt_count INTEGER NOT NULL DEFAULT 0,"
	" exit_code INTEGER, error_message TEXT, error_category TEXT, validation_passed INTEGER,"
	" validation_details TEXT, completion_attempts INTEGER NOT NULL DEFAULT 0,"
	" passed_validations TEXT, failed_validations TEXT, last_pass_percentage REAL,"
	" execution_mode TEXT, outcome_data TEXT, confidence_score REAL, learned_patterns TEXT,"
	" similar_outcomes_count INTEGER NOT NULL DEFAULT 0,"
	" first_attempt_success INTEGER NOT NULL DEFAULT 0, outcome_category TEXT,"
	" started_at TEXT, completed_at TEXT,"
	" PRIMARY KEY (job_id, sheet_num),"
	" FOREIGN KEY (job_id) REFERENCES jobs(id) ON DELETE CASCADE);"
	"CREATE TABLE execution_history (id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" job_id TEXT NOT NULL, sheet_num INTEGER NOT NULL, attempt_num INTEGER NOT NULL,"
	" prompt TEXT, output TEXT, exit_code INTEGER, duration_seconds REAL,"
	" executed_at TEXT NOT NULL,"
	" FOREIGN KEY (job_id) REFERENCES jobs(id) ON DELETE CASCADE);"
	"CREATE INDEX idx_jobs_status ON jobs(status);"
	"CREATE INDEX idx_jobs_updated ON jobs(updated_at);"
	"CREATE INDEX idx_sheets_status ON sheets(status);"
	"CREATE INDEX idx_history_job_sheet ON execution_history(job_id, sheet_num);";

static const char migrate_v2[] =
	"ALTER TABLE jobs ADD COLUMN config_path TEXT;"
	"INSERT INTO schema_version VALUES (2, '2025-02-01T00:00:00+00:00');";

static const char migrate_v3[] =
	"ALTER TABLE sheets ADD COLUMN execution_duration_seconds REAL;"
	"ALTER TABLE sheets ADD COLUMN exit_signal INTEGER;"
	"ALTER TABLE sheets ADD COLUMN exit_reason TEXT;"
	"INSERT INTO schema_version VALUES (3, '2025-03-01T00:00:00+00:00');";

static const char migrate_v4[] =
	"ALTER TABLE sheets RENAME COLUMN first_attempt_success TO success_without_retry;"
	"INSERT INTO schema_version VALUES (4, '2025-04-01T00:00:00+00:00');";

/* Version 4 created fresh (projector/model/MODEL.md "The database"). */
static const char schema_v4_fresh[] =
	"CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL);"
	"INSERT INTO schema_version VALUES (1, '2025-04-01T00:00:00+00:00'),"
	" (2, '2025-04-01T00:00:00+00:00'), (3, '2025-04-01T00:00:00+00:00'),"
	" (4, '2025-04-01T00:00:00+00:00');"
	"CREATE TABLE jobs (id TEXT PRIMARY KEY, name TEXT NOT NULL, description TEXT,"
	" status TEXT NOT NULL DEFAULT 'pending', total_sheets INTEGER NOT NULL,"
	" last_completed_sheet INTEGER NOT NULL DEFAULT 0, current_sheet INTEGER,"
	" config_hash TEXT, config_snapshot TEXT, pid INTEGER, error_message TEXT,"
	" total_retry_count INTEGER NOT NULL DEFAULT 0,"
	" rate_limit_waits INTEGER NOT NULL DEFAULT 0,"
	" created_at TEXT NOT NULL, updated_at TEXT NOT NULL, started_at TEXT, completed_at TEXT,"
	" config_path TEXT);"
	"CREATE TABLE sheets (job_id TEXT NOT NULL, sheet_num INTEGER NOT NULL,"
	" status TEXT NOT NULL DEFAULT 'pending', attempt_count INTEGER NOT NULL DEFAULT 0,"
	" exit_code INTEGER, error_message TEXT, error_category TEXT, validation_passed INTEGER,"
	" validation_details TEXT, completion_attempts INTEGER NOT NULL DEFAULT 0,"
	" passed_validations TEXT, failed_validations TEXT, last_pass_percentage REAL,"
	" execution_mode TEXT, outcome_data TEXT, confidence_score REAL, learned_patterns TEXT,"
	" similar_outcomes_count INTEGER NOT NULL DEFAULT 0,"
	" success_without_retry INTEGER NOT NULL DEFAULT 0, outcome_category TEXT,"
	" started_at TEXT, completed_at TEXT, execution_duration_seconds REAL,"
	" exit_signal INTEGER, exit_reason TEXT,"
	" PRIMARY KEY (job_id, sheet_num),"
	" FOREIGN KEY (job_id) REFERENCES jobs(id) ON DELETE CASCADE);"
	"CREATE TABLE execution_history (id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" job_id TEXT NOT NULL, sheet_num INTEGER NOT NULL, attempt_num INTEGER NOT NULL,"
	" prompt TEXT, output TEXT, exit_code INTEGER, duration_seconds REAL,"
	" executed_at TEXT NOT NULL,"
	" FOREIGN KEY (job_id) REFERENCES jobs(id) ON DELETE CASCADE);"
	"CREATE INDEX idx_jobs_status ON jobs(status);"
	"CREATE INDEX idx_jobs_updated ON jobs(updated_at);"
	"CREATE INDEX idx_sheets_status ON sheets(status);"
	"CREATE INDEX idx_history_job_sheet ON execution_history(job_id, sheet_num);";

/* Rows every version can hold; @SUCCESS@ is the version's name of
 * success_without_retry.  Every job status and every sheet status; JSON
 * columns NULL, "[]" and nested; non-ASCII ids and text. */
static const char data_common[] =
	"INSERT INTO jobs (id, name, description, status, total_sheets, last_completed_sheet,"
	" current_sheet, config_hash, config_snapshot, pid, error_message, total_retry_count,"
	" rate_limit_waits, created_at, updated_at, started_at, completed_at) VALUES"
	" ('nightly-build', 'Nightly build', NULL, 'running', 3, 1, 2, 'c0ffee',"
	"  '{\"model\": \"x\", \"retries\": 3, \"tags\": [\"a\", \"b\"], \"t\": 0.1}', 4242, NULL,"
	"  1, 2, '2026-11-20T08:00:00+00:00', '2026-11-20T08:42:10.504474+00:00',"
	"  '2026-11-20T08:00:01.000001+00:00', NULL),"
	" ('all-statuses', 'Every sheet status', NULL, 'paused', 11, 3, NULL, NULL, '{}', NULL,"
	"  'paused by operator', 4, 0, '2026-11-19T00:00:00+00:00', '2026-11-21T12:00:00+00:00',"
	"  '2026-11-19T00:00:05+00:00', NULL),"
	" ('ジョブ-ü✓', 'Ünïcödé ジョブ', 'a description', 'completed', 2, 2, NULL, 'h', NULL,"
	"  NULL, NULL, 0, 0, '2026-11-18T10:00:00.100000+00:00', '2026-11-18T11:00:00+00:00',"
	"  '2026-11-18T10:00:00.100000+00:00', '2026-11-18T11:00:00+00:00'),"
	" ('empty', 'No sheets yet', NULL, 'pending', 3, 0, NULL, NULL, NULL, NULL, NULL, 0, 0,"
	"  '2026-11-22T00:00:00+00:00', '2026-11-22T00:00:00+00:00', NULL, NULL),"
	" ('failed-job', 'Failed', NULL, 'failed', 2, 0, NULL, NULL, '{}', NULL, 'boom', 2, 0,"
	"  '2026-11-17T00:00:00+00:00', '2026-11-17T01:00:00+00:00', '2026-11-17T00:00:00+00:00',"
	"  '2026-11-17T01:00:00+00:00'),"
	" ('cancelled-job', 'Cancelled', NULL, 'cancelled', 1, 0, NULL, NULL, NULL, NULL, NULL,"
	"  0, 0, '2026-11-16T00:00:00+00:00', '2026-11-16T00:00:00+00:00', NULL,"
	"  '2026-11-16T00:00:00+00:00'),"
	" ('chained', 'Paused at chain', NULL, 'paused_at_chain', 1, 1, NULL, NULL, NULL, NULL,"
	"  NULL, 0, 0, '2026-11-15T00:00:00+00:00', '2026-11-15T00:00:00+00:00', NULL, NULL);"
	"INSERT INTO sheets (job_id, sheet_num, status, attempt_count, exit_code, error_message,"
	" error_category, validation_passed, validation_details, completion_attempts,"
	" passed_validations, failed_validations, last_pass_percentage, execution_mode,"
	" outcome_data, confidence_score, learned_patterns, similar_outcomes_count, @SUCCESS@,"
	" outcome_category, started_at, completed_at) VALUES"
	" ('nightly-build', 1, 'completed', 1, 0, NULL, NULL, 1, '[{\"passed\": true, \"checks\": [1, 2]}]', 0,"
	"  '[\"lint\", \"test\"]', '[]', 100.0, 'normal', '{\"score\": 1e-05}', 0.75,"
	"  '[]', 2, 1, 'success_first_try', '2026-11-20T08:00:01.000001+00:00',"
	"  '2026-11-20T08:10:00+00:00'),"
	" ('nightly-build', 2, 'in_progress', 2, NULL, NULL, NULL, NULL, NULL, 1, NULL, NULL,"
	"  NULL, 'retry', NULL, NULL, NULL, 0, 0, NULL, '2026-11-20T08:40:00+00:00', NULL),"
	" ('ジョブ-ü✓', 1, 'completed', 1, 0, NULL, NULL, 0, NULL, 0, '[]', '[\"スペル\"]', 50.5,"
	"  NULL, NULL, NULL, '[]', 0, 1, NULL, '2026-11-18T10:00:00.100000+00:00',"
	"  '2026-11-18T10:30:00+00:00'),"
	" ('ジョブ-ü✓', 2, 'completed', 3, 0, NULL, NULL, 1, '[]', 2, '[]', '[]', NULL,"
	"  'completion', NULL, NULL, '[]', 0, 0, 'success_completion', NULL,"
	"  '2026-11-18T11:00:00+00:00'),"
	" ('failed-job', 1, 'failed', 3, 2, 'exit 2', 'transient', 0, NULL, 0, '[]', '[]', NULL,"
	"  NULL, NULL, NULL, '[]', 0, 0, 'failed_exhausted', '2026-11-17T00:00:00+00:00',"
	"  '2026-11-17T01:00:00+00:00'),"
	" ('failed-job', 2, 'pending', 0, NULL, NULL, NULL, NULL, NULL, 0, '[]', '[]', NULL, NULL,"
	"  NULL, NULL, '[]', 0, 0, NULL, NULL, NULL);"
	"INSERT INTO sheets (job_id, sheet_num, status, passed_validations, failed_validations,"
	" learned_patterns) VALUES"
	" ('all-statuses', 1, 'pending', '[]', '[]', '[]'),"
	" ('all-statuses', 2, 'ready', NULL, NULL, NULL),"
	" ('all-statuses', 3, 'dispatched', '[]', NULL, '[]'),"
	" ('all-statuses', 5, 'waiting', '[]', '[]', '[]'),"
	" ('all-statuses', 6, 'retry_scheduled', '[]', '[]', '[]'),"
	" ('all-statuses', 7, 'fermata', '[]', '[]', '[]'),"
	" ('all-statuses', 10, 'skipped', '[]', '[]', '[]'),"
	" ('all-statuses', 11, 'cancelled', '[]', '[]', '[]');"
	/* The load-time invariants kept: in_progress has started, completed has
	 * ended, failed has a message (see load_time_invariants below). */
	"INSERT INTO sheets (job_id, sheet_num, status, error_message, started_at, completed_at)"
	" VALUES ('all-statuses', 4, 'in_progress', NULL, '2026-11-21T11:00:00+00:00', NULL),"
	" ('all-statuses', 8, 'completed', NULL, NULL, '2026-11-21T11:30:00+00:00'),"
	" ('all-statuses', 9, 'failed', 'it broke', NULL, NULL);"
	"INSERT INTO execution_history (id, job_id, sheet_num, attempt_num, prompt, output,"
	" exit_code, duration_seconds, executed_at) VALUES"
	" (1, 'nightly-build', 1, 1, 'build it', 'ok', 0, 12.5, '2026-11-20T08:10:00+00:00'),"
	" (2, 'nightly-build', 2, 1, NULL, NULL, NULL, NULL, '2026-11-20T08:30:00.000001+00:00'),"
	" (5, 'nightly-build', 2, 2, 'retry', 'still going', 1, 3.0, '2026-11-20T08:50:00+00:00'),"
	" (6, 'ジョブ-ü✓', 1, 1, 'プロンプト', '出力', 0, 1e-05, '2026-11-18T09:59:59+00:00'),"
	" (7, 'failed-job', 1, 1, 'x', 'y', 2, 0.25, '2026-11-17T00:30:00+00:00'),"
	" (8, 'failed-job', 1, 2, 'x', 'y', 2, 0.25, '2026-11-17T00:30:00+00:00'),"
	" (9, 'all-statuses', 4, 1, '', '', 0, 0, '2026-11-19T00:00:05+00:00');";

static const char data_v2[] =
	"UPDATE jobs SET config_path = '/etc/orchestrator/nightly.yaml' WHERE id = 'nightly-build';"
	"UPDATE jobs SET config_path = '/tmp/ジョブ.yaml' WHERE id = 'ジョブ-ü✓';";

static const char data_v3[] =
	"UPDATE sheets SET execution_duration_seconds = 12.5, exit_reason = 'completed'"
	" WHERE job_id = 'nightly-build' AND sheet_num = 1;"
	"UPDATE sheets SET execution_duration_seconds = 0.1, exit_signal = 9,"
	" exit_reason = 'killed' WHERE job_id = 'failed-job' AND sheet_num = 1;";

static void exec_sql(sqlite3 *db, const char *sql, const char *what)
{
	char *err = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &err);
	cr_assert_eq(rc, SQLITE_OK, "%s: %s", what, err ? err : "?");
	sqlite3_free(err);
}

/* The common rows with @SUCCESS@ replaced by col. */
static char *data_for(const char *col)
{
	const char *tok = "@SUCCESS@";
	const char *at = strstr(data_common, tok);
	cr_assert_not_null(at);
	size_t head = (size_t)(at - data_common);
	size_t len = strlen(data_common) - strlen(tok) + strlen(col) + 1;
	char *s = malloc(len);
	cr_assert_not_null(s);
	snprintf(s, len, "%.*s%s%s", (int)head, data_common, col, at + strlen(tok));
	return s;
}

/* Version 1..4 built through the migrations; 5 is version 4 created
 * fresh.  Rows are added at the version they were written at (the
 * version-specific columns after the migration that made them). */
static void make_db(const char *path, int version)
{
	sqlite3 *db;
	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK, "open %s", path);
	exec_sql(db, version == 5 ? schema_v4_fresh : schema_v1, "schema");
	for (int v = 2; version < 5 && v <= version; v++)
		exec_sql(db, v == 2 ? migrate_v2 : v == 3 ? migrate_v3 : migrate_v4, "migration");
	char *rows = data_for(version >= 4 ? "success_without_retry" : "first_attempt_success");
	exec_sql(db, rows, "rows");
	free(rows);
	if (version >= 2)
		exec_sql(db, data_v2, "v2 rows");
	if (version >= 3)
		exec_sql(db, data_v3, "v3 rows");
	sqlite3_close(db);
}

/* ---- comparing, independently of import_db.c ------------------------- */

static void expr_list(char *buf, size_t len, const char *const *cols, size_t n,
		      const char *(*map)(const char *, int), int version)
{
	size_t k = 0;
	for (size_t i = 0; i < n && k < len; i++)
		k += (size_t)snprintf(buf + k, len - k, "%s%s", i ? ", " : "",
				      map ? map(cols[i], version) : cols[i]);
}

static const char *jobs_cols[] = {
	"id", "name", "description", "status", "total_sheets", "last_completed_sheet",
	"current_sheet", "config_hash", "config_snapshot", "pid", "error_message",
	"total_retry_count", "rate_limit_waits", "created_at", "updated_at", "started_at",
	"completed_at", "config_path",
};
static const char *sheets_cols[] = {
	"job_id", "sheet_num", "status", "attempt_count", "exit_code", "error_message",
	"error_category", "validation_passed", "validation_details", "completion_attempts",
	"passed_validations", "failed_validations", "last_pass_percentage", "execution_mode",
	"outcome_data", "confidence_score", "learned_patterns", "similar_outcomes_count",
	"success_without_retry", "outcome_category", "started_at", "completed_at",
	"execution_duration_seconds", "exit_signal", "exit_reason",
};
static const char *history_cols[] = {
	"id", "job_id", "sheet_num", "attempt_num", "prompt", "output", "exit_code",
	"duration_seconds", "executed_at",
};

/* A v4 column as an older version has it. */
static const char *old_column(const char *c, int version)
{
	if (version < 2 && strcmp(c, "config_path") == 0)
		return "NULL";
	if (version < 3 && (strcmp(c, "execution_duration_seconds") == 0 ||
			    strcmp(c, "exit_signal") == 0 || strcmp(c, "exit_reason") == 0))
		return "NULL";
	if (version < 4 && strcmp(c, "success_without_retry") == 0)
		return "first_attempt_success";
	return c;
}

static void render(sqlite3_stmt *s, int i, char *buf, size_t len)
{
	int t = sqlite3_column_type(s, i);
	if (t == SQLITE_NULL)
		snprintf(buf, len, "NULL");
	else if (t == SQLITE_FLOAT)
		snprintf(buf, len, "real %.17g", sqlite3_column_double(s, i));
	else if (t == SQLITE_INTEGER)
		snprintf(buf, len, "int %lld", sqlite3_column_int64(s, i));
	else
		snprintf(buf, len, "text '%s'", (const char *)sqlite3_column_text(s, i));
}

/* Every row of table, in key order, the same in both databases. */
static int assert_table_equal(sqlite3 *a, sqlite3 *b, const char *table,
			      const char *const *cols, size_t n, const char *order, int version)
{
	char ea[2048], eb[2048], sql[4096];
	expr_list(ea, sizeof ea, cols, n, old_column, version);
	expr_list(eb, sizeof eb, cols, n, NULL, version);
	sqlite3_stmt *sa, *sb;
	snprintf(sql, sizeof sql, "SELECT %s FROM %s ORDER BY %s", ea, table, order);
	cr_assert_eq(sqlite3_prepare_v2(a, sql, -1, &sa, NULL), SQLITE_OK, "%s: %s", sql,
		     sqlite3_errmsg(a));
	snprintf(sql, sizeof sql, "SELECT %s FROM %s ORDER BY %s", eb, table, order);
	cr_assert_eq(sqlite3_prepare_v2(b, sql, -1, &sb, NULL), SQLITE_OK, "%s: %s", sql,
		     sqlite3_errmsg(b));
	int rows = 0;
	for (;;) {
		int ra = sqlite3_step(sa), rb = sqlite3_step(sb);
		cr_assert_eq(ra, rb, "v%d %s: row %d exists in %s only", version, table, rows,
			     ra == SQLITE_ROW ? "the source" : "the projection");
		if (ra != SQLITE_ROW)
			break;
		for (size_t i = 0; i < n; i++) {
			char va[512], vb[512], key[256];
			render(sa, (int)i, va, sizeof va);
			render(sb, (int)i, vb, sizeof vb);
			render(sa, 0, key, sizeof key);
			cr_assert_str_eq(va, vb, "v%d %s row %d (key %s, %s %s) column %s: source %s, "
					 "projection %s", version, table, rows, key,
					 sqlite3_column_name(sa, 1), sqlite3_column_text(sa, 1),
					 cols[i], va, vb);
		}
		rows++;
	}
	sqlite3_finalize(sa);
	sqlite3_finalize(sb);
	return rows;
}

static void assert_views_equal_source(const char *source, const char *proj, int version)
{
	sqlite3 *a, *b;
	cr_assert_eq(sqlite3_open_v2(source, &a, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_open_v2(proj, &b, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	int j = assert_table_equal(a, b, "jobs", jobs_cols, 18, "id", version);
	int s = assert_table_equal(a, b, "sheets", sheets_cols, 25, "job_id, sheet_num", version);
	int h = assert_table_equal(a, b, "execution_history", history_cols, 9, "id", version);
	cr_assert_eq(j, 7, "v%d: jobs rows compared: %d", version, j);
	cr_assert_eq(s, 17, "v%d: sheets rows compared: %d", version, s);
	cr_assert_eq(h, 7, "v%d: history rows compared: %d", version, h);
	sqlite3_close(a);
	sqlite3_close(b);
}

/* The entries of dir other than those named (NULL-terminated). */
static int stray_entries(const char *const *keep, char *first, size_t len)
{
	DIR *d = opendir(dir);
	cr_assert_not_null(d, "opendir %s", dir);
	struct dirent *e;
	int n = 0;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		bool kept = false;
		for (const char *const *k = keep; *k && !kept; k++)
			kept = strcmp(*k, e->d_name) == 0;
		if (!kept && n++ == 0)
			snprintf(first, len, "%s", e->d_name);
	}
	closedir(d);
	return n;
}

static int do_import_db(const char *source, sl_import **out)
{
	sl_import *imp;
	cr_assert_eq(sl_import_new(&imp, NULL), SL_OK);
	int rc = sl_import_read_db(imp, source);
	if (rc == SL_OK)
		rc = sl_import_write(imp, logdir, dbpath, NULL);
	*out = imp;
	return rc;
}

/* ---- a database of every version -------------------------------------- */

ParameterizedTestParameters(import, versions)
{
	static int versions[] = { 1, 2, 3, 4, 5 };
	return cr_make_param_array(int, versions, sizeof versions / sizeof versions[0]);
}

ParameterizedTest(int *version, import, versions)
{
	int v = *version, schema = v == 5 ? 4 : v;
	make_db(src, v);
	sl_import *imp;
	int rc = do_import_db(src, &imp);
	cr_assert_eq(rc, SL_OK, "import of a v%d database: %s", schema, sl_import_errmsg(imp));
	struct sl_import_report r;
	sl_import_get_report(&r, imp);
	cr_assert_eq(r.source_version, schema, "v%d: source_version %d", v, r.source_version);
	cr_assert_eq(r.recorded_version, schema, "v%d: recorded_version %d", v, r.recorded_version);
	cr_assert_str_empty(r.note, "v%d: note '%s'", v, r.note);
	cr_assert_eq(r.jobs, 7, "v%d: jobs %" PRIu64, v, r.jobs);
	cr_assert_eq(r.sheets, 17, "v%d: sheets %" PRIu64, v, r.sheets);
	cr_assert_eq(r.executions, 7, "v%d: executions %" PRIu64, v, r.executions);
	cr_assert_eq(r.rows_compared, 31, "v%d: rows compared %" PRIu64, v, r.rows_compared);
	sl_import_free(imp);

	assert_views_equal_source(src, dbpath, v);

	/* The events keep the original times, in order: the first is the
	 * oldest job's creation, the last the newest job's update. */
	sl_reader *rd;
	char err[512];
	cr_assert_eq(sl_reader_open(&rd, logdir, NULL, err, sizeof err), SL_OK, "%s", err);
	struct sl_record rec;
	int64_t first = 0, last = 0;
	uint64_t n = 0;
	while (sl_reader_next(&rec, rd) == 1) {
		if (n++ == 0)
			first = rec.time_us;
		cr_assert_geq(rec.time_us, last, "v%d: seq %" PRIu64 " goes back in time", v, rec.seq);
		last = rec.time_us;
	}
	sl_reader_close(rd);
	char t[SL_TIME_BUFSZ];
	sl_time_format(first, t, sizeof t);
	cr_assert_str_eq(t, "2026-11-15T00:00:00+00:00", "v%d: first event at %s", v, t);
	sl_time_format(last, t, sizeof t);
	cr_assert_str_eq(t, "2026-11-22T00:00:00+00:00", "v%d: last event at %s", v, t);
	cr_assert_eq(n, r.events, "v%d: %" PRIu64 " events read, %" PRIu64 " reported", v, n,
		     r.events);
}

/* The original creates every table with its current columns and records
 * the versions its migrations reached: a record older than the columns is
 * its own doing, and said nothing of. */
Test(import, schema_version_older_than_the_columns_is_the_originals_doing)
{
	make_db(src, 4);
	sqlite3 *db;
	cr_assert_eq(sqlite3_open(src, &db), SQLITE_OK);
	exec_sql(db, "DELETE FROM schema_version WHERE version > 1", "v1 recorded");
	sqlite3_close(db);
	sl_import *imp;
	cr_assert_eq(do_import_db(src, &imp), SL_OK, "%s", sl_import_errmsg(imp));
	struct sl_import_report r;
	sl_import_get_report(&r, imp);
	cr_assert_eq(r.source_version, 4, "read by the columns: %d", r.source_version);
	cr_assert_eq(r.recorded_version, 1);
	cr_assert_str_eq(r.note, "", "no note: '%s'", r.note);
	sl_import_free(imp);
	assert_views_equal_source(src, dbpath, 4);
}

Test(import, version_by_columns_when_schema_version_disagrees)
{
	make_db(src, 1);
	sqlite3 *db;
	cr_assert_eq(sqlite3_open(src, &db), SQLITE_OK);
	exec_sql(db, "INSERT INTO schema_version VALUES (4, '2025-04-01T00:00:00+00:00')", "lie");
	sqlite3_close(db);
	sl_import *imp;
	cr_assert_eq(do_import_db(src, &imp), SL_OK, "%s", sl_import_errmsg(imp));
	struct sl_import_report r;
	sl_import_get_report(&r, imp);
	cr_assert_eq(r.source_version, 1, "read by the columns: %d", r.source_version);
	cr_assert_eq(r.recorded_version, 4);
	cr_assert(strstr(r.note, "columns"), "note: '%s'", r.note);
	sl_import_free(imp);
	assert_views_equal_source(src, dbpath, 1);
}

Test(import, newer_schema_version_refused)
{
	make_db(src, 4);
	sqlite3 *db;
	cr_assert_eq(sqlite3_open(src, &db), SQLITE_OK);
	exec_sql(db, "INSERT INTO schema_version VALUES (5, '2025-05-01T00:00:00+00:00')", "v5");
	sqlite3_close(db);
	sl_import *imp;
	int rc = do_import_db(src, &imp);
	cr_assert_eq(rc, SL_EVERSION, "a v5 database: %d %s", rc, sl_import_errmsg(imp));
	cr_assert(strstr(sl_import_errmsg(imp), "5"), "%s", sl_import_errmsg(imp));
	sl_import_free(imp);
	cr_assert_neq(access(logdir, F_OK), 0, "no log after a refused import");
}

Test(import, not_a_database_of_the_original)
{
	sqlite3 *db;
	cr_assert_eq(sqlite3_open(src, &db), SQLITE_OK);
	exec_sql(db, "CREATE TABLE jobs (id TEXT)", "other");
	sqlite3_close(db);
	sl_import *imp;
	int rc = do_import_db(src, &imp);
	cr_assert_eq(rc, SL_EINVAL, "%d %s", rc, sl_import_errmsg(imp));
	sl_import_free(imp);

	FILE *f = fopen(src, "w");
	cr_assert_not_null(f);
	fputs("this is not SQLite, it is long enough to be looked at as a header.....\n", f);
	fclose(f);
	rc = do_import_db(src, &imp);
	cr_assert_eq(rc, SL_EINVAL, "a text file: %d %s", rc, sl_import_errmsg(imp));
	sl_import_free(imp);

	char missing[400];
	snprintf(missing, sizeof missing, "%s/none.db", dir);
	rc = do_import_db(missing, &imp);
	cr_assert_eq(rc, SL_ENOTFOUND, "a missing file: %d %s", rc, sl_import_errmsg(imp));
	sl_import_free(imp);
	const char *keep[] = { "orig.db", NULL };
	char stray[256] = "";
	cr_assert_eq(stray_entries(keep, stray, sizeof stray), 0, "left behind: %s", stray);
}

/* ---- importing twice ---------------------------------------------------- */

Test(import, twice_is_refused_and_the_first_stays)
{
	make_db(src, 4);
	sl_import *imp;
	cr_assert_eq(do_import_db(src, &imp), SL_OK, "%s", sl_import_errmsg(imp));
	struct sl_import_report first;
	sl_import_get_report(&first, imp);
	sl_import_free(imp);

	/* Same source, same log: refused, nothing changes. */
	int rc = do_import_db(src, &imp);
	cr_assert_eq(rc, SL_EEXIST, "second import: %d %s", rc, sl_import_errmsg(imp));
	cr_assert(strstr(sl_import_errmsg(imp), logdir), "names the log: %s", sl_import_errmsg(imp));
	sl_import_free(imp);

	/* Another log but the same database: refused too. */
	char other[400];
	snprintf(other, sizeof other, "%s/other.log", dir);
	cr_assert_eq(sl_import_new(&imp, NULL), SL_OK);
	cr_assert_eq(sl_import_read_db(imp, src), SL_OK);
	rc = sl_import_write(imp, other, dbpath, NULL);
	cr_assert_eq(rc, SL_EEXIST, "import beside an existing database: %d %s", rc,
		     sl_import_errmsg(imp));
	sl_import_free(imp);
	cr_assert_neq(access(other, F_OK), 0, "%s must not exist", other);

	/* Nothing left beside them (checked before the test's own read-only
	 * connections, which leave SQLite's -wal and -shm files). */
	const char *keep[] = { "orig.db", "state.log", "state.db", NULL };
	char stray[256] = "";
	cr_assert_eq(stray_entries(keep, stray, sizeof stray), 0, "left behind: %s", stray);

	/* The first import is whole: its log and views as they were. */
	struct sl_verify_report vr;
	char err[512];
	cr_assert_eq(sl_log_verify(logdir, NULL, &vr, NULL, NULL, err, sizeof err), SL_OK, "%s", err);
	cr_assert(!vr.damaged, "log damaged: %s", vr.damage);
	cr_assert_eq(vr.events, first.events, "events %" PRIu64 ", first import wrote %" PRIu64,
		     vr.events, first.events);
	assert_views_equal_source(src, dbpath, 4);
}

Test(import, into_an_empty_directory)
{
	make_db(src, 2);
	cr_assert_eq(mkdir(logdir, 0755), 0);
	sl_import *imp;
	cr_assert_eq(do_import_db(src, &imp), SL_OK, "%s", sl_import_errmsg(imp));
	sl_import_free(imp);
	assert_views_equal_source(src, dbpath, 2);
}

/* ---- damaged databases -------------------------------------------------- */

struct damage {
	const char *name;
	const char *sql;            /* applied to a sound v4 database */
	const char *job;            /* expected location */
	int64_t sheet;
	int64_t exec_id;
	const char *column;
	const char *says;           /* in the message */
};

static const struct damage damages[] = {
	{ "unparsable job time", "UPDATE jobs SET updated_at = 'yesterday' WHERE id = 'failed-job'",
	  "failed-job", 0, 0, "updated_at", "unparsable timestamp" },
	{ "impossible sheet time",
	  "UPDATE sheets SET started_at = '2026-02-30T00:00:00+00:00' WHERE job_id = 'nightly-build'"
	  " AND sheet_num = 2", "nightly-build", 2, 0, "started_at", "unparsable timestamp" },
	{ "unknown job status", "UPDATE jobs SET status = 'exploded' WHERE id = 'chained'",
	  "chained", 0, 0, "status", "unknown job status" },
	{ "unknown sheet status",
	  "UPDATE sheets SET status = 'done' WHERE job_id = 'all-statuses' AND sheet_num = 7",
	  "all-statuses", 7, 0, "status", "unknown sheet status" },
	{ "job JSON not JSON",
	  "UPDATE jobs SET config_snapshot = '{\"a\": }' WHERE id = 'nightly-build'",
	  "nightly-build", 0, 0, "config_snapshot", "not valid JSON" },
	{ "sheet JSON not JSON",
	  "UPDATE sheets SET learned_patterns = '[1, 2' WHERE job_id = 'failed-job' AND sheet_num = 2",
	  "failed-job", 2, 0, "learned_patterns", "not valid JSON" },
	{ "sheet 0", "INSERT INTO sheets (job_id, sheet_num) VALUES ('nightly-build', 0)",
	  "nightly-build", 0, 0, "sheet_num", "out of range" },
	{ "sheet of no job", "INSERT INTO sheets (job_id, sheet_num) VALUES ('ghost', 1)",
	  "ghost", 1, 0, "", "job that does not exist" },
	{ "history of no job",
	  "INSERT INTO execution_history (id, job_id, sheet_num, attempt_num, executed_at)"
	  " VALUES (40, 'ghost', 2, 1, '2026-11-20T08:00:00+00:00')",
	  "ghost", 2, 40, "", "job that does not exist" },
	{ "history time unparsable",
	  "UPDATE execution_history SET executed_at = 'soon' WHERE id = 7",
	  "failed-job", 1, 7, "executed_at", "unparsable timestamp" },
	{ "text in an integer column",
	  "UPDATE sheets SET attempt_count = 'three' WHERE job_id = 'failed-job' AND sheet_num = 1",
	  "failed-job", 1, 0, "attempt_count", "expected an integer" },
	{ "boolean 2", "UPDATE sheets SET validation_passed = 2 WHERE job_id = 'nightly-build'"
	  " AND sheet_num = 1", "nightly-build", 1, 0, "validation_passed", "0 or 1" },
	{ "NUL byte in a job id",
	  "UPDATE jobs SET id = 'emp' || char(0) || 'ty' WHERE id = 'empty'",
	  "emp", 0, 0, "id", "NUL byte" },
	{ "NUL byte in JSON text",
	  "UPDATE jobs SET config_snapshot = '{\"a\": \"' || char(0) || '\"}' WHERE id = "
	  "'chained'", "chained", 0, 0, "config_snapshot", "NUL byte" },
	{ "negative total_sheets", "UPDATE jobs SET total_sheets = -1 WHERE id = 'empty'",
	  "empty", 0, 0, "total_sheets", "total_sheets -1 is below 1" },
	{ "no sheets at all", "UPDATE jobs SET total_sheets = 0 WHERE id = 'empty'",
	  "empty", 0, 0, "total_sheets", "total_sheets 0 is below 1" },
	{ "confidence above 1", "UPDATE sheets SET confidence_score = 1.5 WHERE job_id = "
	  "'nightly-build' AND sheet_num = 1", "nightly-build", 1, 0, "confidence_score",
	  "confidence_score 1.5 is outside 0..1" },
	{ "validation_details not a list", "UPDATE sheets SET validation_details = "
	  "'{\"passed\": true}' WHERE job_id = 'nightly-build' AND sheet_num = 1",
	  "nightly-build", 1, 0, "validation_details", "validation_details is an object, not a list" },
};

ParameterizedTestParameters(import, damaged_db)
{
	static size_t idx[sizeof damages / sizeof damages[0]];
	for (size_t i = 0; i < sizeof idx / sizeof idx[0]; i++)
		idx[i] = i;
	return cr_make_param_array(size_t, idx, sizeof idx / sizeof idx[0]);
}

ParameterizedTest(size_t *i, import, damaged_db)
{
	const struct damage *d = &damages[*i];
	make_db(src, 4);
	sqlite3 *db;
	cr_assert_eq(sqlite3_open(src, &db), SQLITE_OK);
	exec_sql(db, d->sql, d->name);
	sqlite3_close(db);

	sl_import *imp;
	int rc = do_import_db(src, &imp);
	const char *msg = sl_import_errmsg(imp);
	cr_assert_eq(rc, SL_ECORRUPT, "%s: rc %d: %s", d->name, rc, msg);
	const struct sl_import_problem *p = sl_import_problem(imp);
	cr_assert_not_null(p, "%s: no problem recorded: %s", d->name, msg);
	cr_assert_str_eq(p->source, src, "%s: source", d->name);
	cr_assert_str_eq(p->job_id, d->job, "%s: job: %s", d->name, msg);
	cr_assert_eq(p->sheet_num, d->sheet, "%s: sheet %" PRId64 ": %s", d->name, p->sheet_num, msg);
	cr_assert_eq(p->execution_id, d->exec_id, "%s: history id %" PRId64 ": %s", d->name,
		     p->execution_id, msg);
	cr_assert_str_eq(p->column, d->column, "%s: column: %s", d->name, msg);
	cr_assert(strstr(msg, d->says), "%s: message lacks '%s': %s", d->name, d->says, msg);
	char job[300];
	snprintf(job, sizeof job, "job '%s'", d->job);
	cr_assert(strstr(msg, job), "%s: message does not name the job: %s", d->name, msg);
	if (d->sheet) {
		char sheet[64];
		snprintf(sheet, sizeof sheet, "sheet %" PRId64, d->sheet);
		cr_assert(strstr(msg, sheet), "%s: message does not name the sheet: %s", d->name, msg);
	}
	sl_import_free(imp);

	const char *keep[] = { "orig.db", NULL };
	char stray[256] = "";
	cr_assert_eq(stray_entries(keep, stray, sizeof stray), 0, "%s: left behind: %s", d->name,
		     stray);
}

Test(import, damaged_source_leaves_an_existing_empty_directory_alone)
{
	make_db(src, 3);
	sqlite3 *db;
	cr_assert_eq(sqlite3_open(src, &db), SQLITE_OK);
	exec_sql(db, "UPDATE jobs SET status = 'gone' WHERE id = 'empty'", "damage");
	sqlite3_close(db);
	cr_assert_eq(mkdir(logdir, 0755), 0);
	sl_import *imp;
	int rc = do_import_db(src, &imp);
	cr_assert_eq(rc, SL_ECORRUPT, "%d %s", rc, sl_import_errmsg(imp));
	sl_import_free(imp);
	struct stat sb;
	cr_assert_eq(stat(logdir, &sb), 0, "the empty directory is still there");
	cr_assert(S_ISDIR(sb.st_mode));
	const char *keep[] = { "orig.db", "state.log", NULL };
	char stray[256] = "";
	cr_assert_eq(stray_entries(keep, stray, sizeof stray), 0, "left behind: %s", stray);
	DIR *d = opendir(logdir);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	cr_assert_eq(n, 0, "%s is still empty", logdir);
}

/* ---- JSON state files --------------------------------------------------- */

static const char state_one[] =
	"{\"job_id\": \"jöb-1\", \"job_name\": \"One\", \"config_hash\": null,\n"
	" \"config_snapshot\": {\"x\": 1.0, \"é\": \"ü\", \"list\": [1, 2.5, null, true]},\n"
	" \"config_path\": \"/etc/x.yaml\", \"created_at\": \"2026-01-01T00:00:00Z\",\n"
	" \"updated_at\": \"2026-01-01T01:00:00.123456+00:00\",\n"
	" \"started_at\": \"2026-01-01T02:00:01+02:00\", \"completed_at\": null,\n"
	" \"total_sheets\": 3, \"last_completed_sheet\": 1, \"current_sheet\": 2,\n"
	" \"status\": \"running\", \"pid\": 12, \"error_message\": null,\n"
	" \"total_retry_count\": 1, \"rate_limit_waits\": 2, \"worktree\": {\"ignored\": true},\n"
	" \"sheets\": {\n"
	"  \"1\": {\"sheet_num\": 1, \"status\": \"completed\", \"attempt_count\": 1,\n"
	"         \"exit_code\": 0, \"validation_passed\": true,\n"
	"         \"validation_details\": [{\"a\": [1, 2], \"passed\": true}],\n"
	"         \"passed_validations\": [\"ok\"],\n"
	"         \"failed_validations\": [], \"learned_patterns\": null,\n"
	"         \"success_without_retry\": true, \"confidence_score\": 1,\n"
	"         \"started_at\": \"2026-01-01T00:00:01+00:00\",\n"
	"         \"completed_at\": \"2026-01-01T00:10:00.5+00:00\",\n"
	"         \"execution_duration_seconds\": 599, \"exit_reason\": \"completed\"},\n"
	"  \"2\": {\"status\": \"in_progress\", \"attempt_count\": 1,\n"
	"         \"started_at\": \"2026-01-01T00:20:00+00:00\",\n"
	"         \"first_attempt_success\": false, \"validation_passed\": null,\n"
	"         \"some_new_field\": 7}}}\n";

static const char state_two[] =
	"{\"job_id\": \"job-2\", \"job_name\": \"Two\", \"created_at\": \"2026-01-03T00:00:00+00:00\",\n"
	" \"updated_at\": \"2026-01-03T00:00:00+00:00\", \"total_sheets\": 1}\n";

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f, "create %s", path);
	fputs(text, f);
	cr_assert_eq(fclose(f), 0);
}

/* Every row of sql as "a|b|c\n" (NULL as NULL). */
static char *rows_text(const char *db_path, const char *sql)
{
	sqlite3 *db;
	cr_assert_eq(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	sqlite3_stmt *s;
	cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK, "%s", sql);
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	while (sqlite3_step(s) == SQLITE_ROW) {
		for (int i = 0; i < sqlite3_column_count(s); i++) {
			const char *v = (const char *)sqlite3_column_text(s, i);
			fprintf(f, "%s%s", i ? "|" : "", v ? v : "NULL");
		}
		fputc('\n', f);
	}
	fclose(f);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return out;
}

Test(import, json_state_files)
{
	char jdir[400], one[450], two[450], other[450];
	snprintf(jdir, sizeof jdir, "%s/states", dir);
	cr_assert_eq(mkdir(jdir, 0755), 0);
	snprintf(one, sizeof one, "%s/one.json", jdir);
	snprintf(two, sizeof two, "%s/two.json", jdir);
	snprintf(other, sizeof other, "%s/notes.txt", jdir);
	write_file(one, state_one);
	write_file(two, state_two);
	write_file(other, "not a state file, not read\n");

	sl_import *imp;
	cr_assert_eq(sl_import_new(&imp, NULL), SL_OK);
	int rc = sl_import_read_json(imp, jdir);
	cr_assert_eq(rc, SL_OK, "read %s: %s", jdir, sl_import_errmsg(imp));
	rc = sl_import_write(imp, logdir, dbpath, NULL);
	cr_assert_eq(rc, SL_OK, "write: %s", sl_import_errmsg(imp));
	struct sl_import_report r;
	sl_import_get_report(&r, imp);
	cr_assert_eq(r.source_version, 0);
	cr_assert_eq(r.jobs, 2, "jobs %" PRIu64, r.jobs);
	cr_assert_eq(r.sheets, 2, "sheets %" PRIu64, r.sheets);
	sl_import_free(imp);

	/* The rows the original's save() would have written for these states. */
	char *jobs = rows_text(dbpath, "SELECT * FROM jobs ORDER BY id");
	cr_assert_str_eq(jobs,
		"job-2|Two|NULL|pending|1|0|NULL|NULL|NULL|NULL|NULL|0|0|2026-01-03T00:00:00+00:00|"
		"2026-01-03T00:00:00+00:00|NULL|NULL|NULL\n"
		"jöb-1|One|NULL|running|3|1|2|NULL|"
		"{\"x\": 1.0, \"\\u00e9\": \"\\u00fc\", \"list\": [1, 2.5, null, true]}|12|NULL|1|2|"
		"2026-01-01T00:00:00+00:00|2026-01-01T01:00:00.123456+00:00|2026-01-01T00:00:01+00:00|"
		"NULL|/etc/x.yaml\n",
		"jobs rows:\n%s", jobs);
	free(jobs);
	char *sheets = rows_text(dbpath, "SELECT * FROM sheets ORDER BY job_id, sheet_num");
	cr_assert_str_eq(sheets,
		"jöb-1|1|completed|1|0|NULL|NULL|1|[{\"a\": [1, 2], \"passed\": true}]|0|[\"ok\"]|[]|"
		"NULL|NULL|NULL|1.0|NULL|0|1|NULL|2026-01-01T00:00:01+00:00|"
		"2026-01-01T00:10:00.500000+00:00|599.0|NULL|completed\n"
		"jöb-1|2|in_progress|1|NULL|NULL|NULL|NULL|NULL|0|[]|[]|NULL|NULL|NULL|NULL|[]|0|0|"
		"NULL|2026-01-01T00:20:00+00:00|NULL|NULL|NULL|NULL\n",
		"sheets rows:\n%s", sheets);
	free(sheets);
	char *history = rows_text(dbpath, "SELECT count(*) FROM execution_history");
	cr_assert_str_eq(history, "0\n");
	free(history);

	/* Again: refused, the first stays. */
	cr_assert_eq(sl_import_new(&imp, NULL), SL_OK);
	cr_assert_eq(sl_import_read_json(imp, one), SL_OK, "%s", sl_import_errmsg(imp));
	rc = sl_import_write(imp, logdir, dbpath, NULL);
	cr_assert_eq(rc, SL_EEXIST, "second import: %d %s", rc, sl_import_errmsg(imp));
	sl_import_free(imp);
	jobs = rows_text(dbpath, "SELECT count(*) FROM jobs");
	cr_assert_str_eq(jobs, "2\n");
	free(jobs);
}

/* A FIFO among the state files once made the import wait for a writer
 * forever: anything but a regular file is refused, named, before a byte is
 * read (the timeout fails the test if it blocks). */
Test(import, json_entry_that_is_not_a_regular_file_is_refused, .timeout = 10)
{
	char jdir[400], one[450], fifo[450], sub[450];
	snprintf(jdir, sizeof jdir, "%s/states", dir);
	cr_assert_eq(mkdir(jdir, 0755), 0);
	snprintf(one, sizeof one, "%s/a.json", jdir);
	snprintf(fifo, sizeof fifo, "%s/b.json", jdir);
	write_file(one, state_one);
	cr_assert_eq(mkfifo(fifo, 0644), 0);

	sl_import *imp;
	cr_assert_eq(sl_import_new(&imp, NULL), SL_OK);
	int rc = sl_import_read_json(imp, jdir);
	const char *msg = sl_import_errmsg(imp);
	cr_assert_eq(rc, SL_EINVAL, "a FIFO in the directory: %d %s", rc, msg);
	cr_assert(strstr(msg, fifo) && strstr(msg, "a FIFO, not a regular file"), "%s", msg);
	cr_assert_eq(sl_import_write(imp, logdir, dbpath, NULL), SL_EINVAL);
	sl_import_free(imp);
	cr_assert_neq(access(logdir, F_OK), 0, "nothing written");

	/* Named on its own, and a directory named *.json, alike. */
	cr_assert_eq(sl_import_new(&imp, NULL), SL_OK);
	cr_assert_eq(sl_import_read_json(imp, fifo), SL_EINVAL, "%s", sl_import_errmsg(imp));
	sl_import_free(imp);
	cr_assert_eq(unlink(fifo), 0);
	snprintf(sub, sizeof sub, "%s/c.json", jdir);
	cr_assert_eq(mkdir(sub, 0755), 0);
	cr_assert_eq(sl_import_new(&imp, NULL), SL_OK);
	rc = sl_import_read_json(imp, jdir);
	cr_assert_eq(rc, SL_EINVAL, "a directory named c.json: %d %s", rc, sl_import_errmsg(imp));
	cr_assert(strstr(sl_import_errmsg(imp), "a directory, not a regular file"), "%s",
		  sl_import_errmsg(imp));
	sl_import_free(imp);
}

Test(import, json_same_job_in_two_files)
{
	char a[400], b[400];
	snprintf(a, sizeof a, "%s/a.json", dir);
	snprintf(b, sizeof b, "%s/b.json", dir);
	write_file(a, state_two);
	write_file(b, state_two);
	sl_import *imp;
	cr_assert_eq(sl_import_new(&imp, NULL), SL_OK);
	cr_assert_eq(sl_import_read_json(imp, a), SL_OK, "%s", sl_import_errmsg(imp));
	int rc = sl_import_read_json(imp, b);
	cr_assert_eq(rc, SL_ECORRUPT, "the same job twice: %d %s", rc, sl_import_errmsg(imp));
	cr_assert_str_eq(sl_import_problem(imp)->job_id, "job-2");
	cr_assert(strstr(sl_import_errmsg(imp), a), "names the other file: %s", sl_import_errmsg(imp));
	cr_assert_eq(sl_import_write(imp, logdir, dbpath, NULL), SL_EINVAL);
	sl_import_free(imp);
	cr_assert_neq(access(logdir, F_OK), 0);
}

Test(import, json_and_database_never_mixed)
{
	char a[400];
	snprintf(a, sizeof a, "%s/a.json", dir);
	write_file(a, state_two);
	make_db(src, 4);
	sl_import *imp;
	cr_assert_eq(sl_import_new(&imp, NULL), SL_OK);
	cr_assert_eq(sl_import_read_json(imp, a), SL_OK, "%s", sl_import_errmsg(imp));
	cr_assert_eq(sl_import_read_db(imp, src), SL_EINVAL);
	sl_import_free(imp);
}

struct json_damage {
	const char *name;
	const char *text;
	const char *job;
	int64_t sheet;
	const char *column;
	const char *says;
};

#define JOB_HEAD "{\"job_id\": \"jd\", \"job_name\": \"J\", \"total_sheets\": 2, " \
	"\"created_at\": \"2026-01-01T00:00:00+00:00\", \"updated_at\": \"2026-01-01T00:00:00+00:00\""

static const struct json_damage json_damages[] = {
	{ "not JSON", "{\"job_id\": \"jd\",", "", 0, "", "not valid JSON" },
	{ "not an object", "[1, 2]", "", 0, "", "expected a JSON object" },
	{ "no job_id", "{\"job_name\": \"J\"}", "", 0, "job_id", "missing" },
	{ "no updated_at", "{\"job_id\": \"jd\", \"job_name\": \"J\", \"total_sheets\": 1, "
	  "\"created_at\": \"2026-01-01T00:00:00+00:00\"}", "jd", 0, "updated_at", "missing" },
	{ "bad job time", JOB_HEAD ", \"started_at\": \"2026-01-01T25:00:00+00:00\"}", "jd", 0,
	  "started_at", "unparsable timestamp" },
	{ "unknown job status", JOB_HEAD ", \"status\": \"sleeping\"}", "jd", 0, "status",
	  "unknown job status" },
	{ "unknown sheet status", JOB_HEAD ", \"sheets\": {\"2\": {\"status\": \"odd\"}}}", "jd", 2,
	  "status", "unknown sheet status" },
	{ "sheet key 0", JOB_HEAD ", \"sheets\": {\"0\": {}}}", "jd", 0, "sheets", "not a sheet number" },
	{ "sheet key not a number", JOB_HEAD ", \"sheets\": {\"x\": {}}}", "jd", 0, "sheets",
	  "not a sheet number" },
	{ "sheet_num disagrees", JOB_HEAD ", \"sheets\": {\"1\": {\"sheet_num\": 2}}}", "jd", 1,
	  "sheet_num", "disagrees" },
	{ "bad sheet time", JOB_HEAD ", \"sheets\": {\"1\": {\"completed_at\": \"later\"}}}", "jd", 1,
	  "completed_at", "unparsable timestamp" },
	{ "wrong type", JOB_HEAD ", \"sheets\": {\"1\": {\"attempt_count\": \"2\"}}}", "jd", 1,
	  "attempt_count", "expected an integer" },
	{ "name null", "{\"job_id\": \"jd\", \"job_name\": null, \"total_sheets\": 2, "
	  "\"created_at\": \"2026-01-01T00:00:00+00:00\", \"updated_at\": "
	  "\"2026-01-01T00:00:00+00:00\"}", "jd", 0, "job_name", "cannot be NULL" },
};

ParameterizedTestParameters(import, damaged_json)
{
	static size_t idx[sizeof json_damages / sizeof json_damages[0]];
	for (size_t i = 0; i < sizeof idx / sizeof idx[0]; i++)
		idx[i] = i;
	return cr_make_param_array(size_t, idx, sizeof idx / sizeof idx[0]);
}

ParameterizedTest(size_t *i, import, damaged_json)
{
	const struct json_damage *d = &json_damages[*i];
	char path[400];
	snprintf(path, sizeof path, "%s/state.json", dir);
	write_file(path, d->text);
	sl_import *imp;
	cr_assert_eq(sl_import_new(&imp, NULL), SL_OK);
	int rc = sl_import_read_json(imp, path);
	const char *msg = sl_import_errmsg(imp);
	cr_assert_eq(rc, SL_ECORRUPT, "%s: rc %d: %s", d->name, rc, msg);
	const struct sl_import_problem *p = sl_import_problem(imp);
	cr_assert_not_null(p, "%s: %s", d->name, msg);
	cr_assert_str_eq(p->source, path, "%s", d->name);
	cr_assert_str_eq(p->job_id, d->job, "%s: job: %s", d->name, msg);
	cr_assert_eq(p->sheet_num, d->sheet, "%s: sheet %" PRId64 ": %s", d->name, p->sheet_num, msg);
	cr_assert_str_eq(p->column, d->column, "%s: column: %s", d->name, msg);
	cr_assert(strstr(msg, d->says), "%s: message lacks '%s': %s", d->name, d->says, msg);
	cr_assert(strstr(msg, path), "%s: message does not name the file: %s", d->name, msg);
	cr_assert_eq(sl_import_write(imp, logdir, dbpath, NULL), SL_EINVAL,
		     "%s: a failed read is not written", d->name);
	sl_import_free(imp);
	const char *keep[] = { "state.json", NULL };
	char stray[256] = "";
	cr_assert_eq(stray_entries(keep, stray, sizeof stray), 0, "%s: left behind: %s", d->name,
		     stray);
}

/* Rows the original's load() changes as it reads them (its load-time
 * invariants) are imported as load() returns them, each change reported. */
Test(import, load_time_invariants_are_applied_and_reported)
{
	make_db(src, 4);
	sqlite3 *db;
	cr_assert_eq(sqlite3_open(src, &db), SQLITE_OK);
	exec_sql(db, "UPDATE sheets SET started_at = NULL WHERE job_id = 'all-statuses'"
		 " AND sheet_num = 4;"
		 "UPDATE sheets SET completed_at = NULL WHERE job_id = 'all-statuses'"
		 " AND sheet_num = 8;"
		 "UPDATE sheets SET error_message = NULL WHERE job_id = 'all-statuses'"
		 " AND sheet_num = 9;"
		 "UPDATE jobs SET completed_at = '2026-11-20T09:00:00+00:00'"
		 " WHERE id = 'nightly-build'", "break the invariants");
	sqlite3_close(db);

	sl_import *imp;
	int rc = do_import_db(src, &imp);
	cr_assert_eq(rc, SL_OK, "%s", sl_import_errmsg(imp));
	struct sl_import_report r;
	sl_import_get_report(&r, imp);
	cr_assert_eq(r.fixes, 4, "fixes %" PRIu64 ": %s", r.fixes, r.fixes_note);
	cr_assert(strstr(r.fixes_note, "job 'all-statuses' sheet 4 started_at: NULL -> "
			 "2026-11-21T12:00:00+00:00"), "%s", r.fixes_note);
	cr_assert(strstr(r.fixes_note, "job 'all-statuses' sheet 9 error_message: NULL -> "
			 "Unknown failure"), "%s", r.fixes_note);
	cr_assert_null(strstr(r.fixes_note, "nightly-build"), "only the first three: %s",
		       r.fixes_note);
	sl_import_free(imp);

	char *rows = rows_text(dbpath, "SELECT sheet_num, started_at, completed_at, error_message"
			       " FROM sheets WHERE job_id = 'all-statuses' AND sheet_num IN (4, 8, 9)"
			       " ORDER BY sheet_num");
	cr_assert_str_eq(rows,
		"4|2026-11-21T12:00:00+00:00|NULL|NULL\n"
		"8|NULL|2026-11-21T12:00:00+00:00|NULL\n"
		"9|NULL|NULL|Unknown failure (no error message recorded)\n", "%s", rows);
	free(rows);
	rows = rows_text(dbpath, "SELECT completed_at FROM jobs WHERE id = 'nightly-build'");
	cr_assert_str_eq(rows, "NULL\n", "%s", rows);
	free(rows);
}

/* What the original writes and reads back is taken as it is: a sheet row
 * past total_sheets (mark_sheet_status on sheet 5 of 3), a history row of
 * sheet 0 (record_execution takes any number), and the same from a JSON
 * state file. */
/* Timestamps the original reads back but did not write in its fixed form:
 * no offset (older versions wrote naive UTC times, here also with a space),
 * another offset.  Taken, stored in the original's form, counted and named
 * in the report; history rows whose texts no longer sort as their times
 * still become events in time order. */
Test(import, timestamps_in_other_forms_are_taken_and_said)
{
	make_db(src, 4);
	sqlite3 *db;
	cr_assert_eq(sqlite3_open(src, &db), SQLITE_OK);
	exec_sql(db, "UPDATE sheets SET completed_at = '2026-11-18 10:30:00' WHERE job_id = "
		 "'ジョブ-ü✓' AND sheet_num = 1;"
		 "UPDATE jobs SET created_at = replace(created_at, '+00:00', '') WHERE id = "
		 "'nightly-build';"
		 "UPDATE execution_history SET executed_at = '2026-11-20T08:10:00' WHERE id = 1;"
		 /* 08:30:00.000001 UTC, whose text sorts after id 5's 08:50 */
		 "UPDATE execution_history SET executed_at = '2026-11-20T14:00:00.000001+05:30' "
		 "WHERE id = 2", "other forms");
	sqlite3_close(db);
	sl_import *imp;
	int rc = do_import_db(src, &imp);
	cr_assert_eq(rc, SL_OK, "%s", sl_import_errmsg(imp));
	struct sl_import_report r;
	sl_import_get_report(&r, imp);
	sl_import_free(imp);
	cr_assert_eq(r.normalized, 4, "%" PRIu64 ": %s", r.normalized, r.normalized_note);
	cr_assert(strstr(r.normalized_note, "completed_at: '2026-11-18 10:30:00' -> "
			 "2026-11-18T10:30:00+00:00"), "%s", r.normalized_note);
	cr_assert(strstr(r.normalized_note, "job 'nightly-build' created_at"), "%s",
		  r.normalized_note);
	char *rows = rows_text(dbpath, "SELECT completed_at FROM sheets WHERE job_id = 'ジョブ-ü✓' "
			       "AND sheet_num = 1");
	cr_assert_str_eq(rows, "2026-11-18T10:30:00+00:00\n", "%s", rows);
	free(rows);
	rows = rows_text(dbpath, "SELECT id, executed_at FROM execution_history WHERE id IN (1, 2, 5) "
			 "ORDER BY id");
	cr_assert_str_eq(rows, "1|2026-11-20T08:10:00+00:00\n2|2026-11-20T08:30:00.000001+00:00\n"
			 "5|2026-11-20T08:50:00+00:00\n", "%s", rows);
	free(rows);
	rows = rows_text(dbpath, "SELECT created_at LIKE '%+00:00' FROM jobs WHERE id = "
			 "'nightly-build'");
	cr_assert_str_eq(rows, "1\n", "%s", rows);
	free(rows);
	/* the events in the log: time never goes back, the history in time order */
	sl_reader *rd;
	cr_assert_eq(sl_reader_open(&rd, logdir, NULL, NULL, 0), SL_OK);
	struct sl_record rec;
	int64_t last = INT64_MIN;
	int got;
	while ((got = sl_reader_next(&rec, rd)) == 1) {
		cr_assert_geq(rec.time_us, last, "seq %" PRIu64 " goes back in time", rec.seq);
		last = rec.time_us;
	}
	cr_assert_eq(got, 0);
	sl_reader_close(rd);
}

/* '' in a JSON column: the original's load() reads it as None (and a list
 * column's None as []); taken as NULL, and said among the fixes. */
Test(import, empty_text_in_a_json_column_is_taken_as_null)
{
	make_db(src, 4);
	sqlite3 *db;
	cr_assert_eq(sqlite3_open(src, &db), SQLITE_OK);
	exec_sql(db, "UPDATE jobs SET config_snapshot = '' WHERE id = 'nightly-build';"
		 "UPDATE sheets SET validation_details = '', passed_validations = '' "
		 "WHERE job_id = 'nightly-build' AND sheet_num = 1", "empty JSON");
	sqlite3_close(db);
	sl_import *imp;
	int rc = do_import_db(src, &imp);
	cr_assert_eq(rc, SL_OK, "%s", sl_import_errmsg(imp));
	struct sl_import_report r;
	sl_import_get_report(&r, imp);
	sl_import_free(imp);
	cr_assert_geq(r.fixes, 3, "%" PRIu64 ": %s", r.fixes, r.fixes_note);
	cr_assert(strstr(r.fixes_note, "job 'nightly-build' config_snapshot: '' -> NULL"), "%s",
		  r.fixes_note);
	char *rows = rows_text(dbpath, "SELECT config_snapshot IS NULL FROM jobs WHERE id = "
			       "'nightly-build'");
	cr_assert_str_eq(rows, "1\n", "%s", rows);
	free(rows);
	rows = rows_text(dbpath, "SELECT validation_details IS NULL, passed_validations IS NULL "
			 "FROM sheets WHERE job_id = 'nightly-build' AND sheet_num = 1");
	cr_assert_str_eq(rows, "1|1\n", "%s", rows);
	free(rows);
}

Test(import, rows_the_original_writes_past_the_total)
{
	make_db(src, 4);
	sqlite3 *db;
	cr_assert_eq(sqlite3_open(src, &db), SQLITE_OK);
	exec_sql(db, "INSERT INTO sheets (job_id, sheet_num, status, started_at) VALUES "
		 "('ジョブ-ü✓', 5, 'in_progress', '2026-11-18T10:40:00+00:00');"
		 "UPDATE execution_history SET sheet_num = 0 WHERE id = 5", "rows past the total");
	sqlite3_close(db);
	sl_import *imp;
	int rc = do_import_db(src, &imp);
	cr_assert_eq(rc, SL_OK, "%s", sl_import_errmsg(imp));
	sl_import_free(imp);
	char *rows = rows_text(dbpath, "SELECT sheet_num, status FROM sheets WHERE job_id = "
			       "'ジョブ-ü✓' ORDER BY sheet_num");
	cr_assert_str_eq(rows, "1|completed\n2|completed\n5|in_progress\n", "%s", rows);
	free(rows);
	rows = rows_text(dbpath, "SELECT sheet_num FROM execution_history WHERE id = 5");
	cr_assert_str_eq(rows, "0\n", "%s", rows);
	free(rows);
	rows = rows_text(dbpath, "SELECT status FROM jobs WHERE id = 'ジョブ-ü✓'");
	cr_assert_str_eq(rows, "completed\n", "the job keeps its status: %s", rows);
	free(rows);
}

/* What Python's json.dumps() writes and json.loads() reads back, and jansson
 * does not hold: NaN and the infinities, integers beyond 64 bits, a real
 * beyond a double, lone surrogates and NUL in strings and in keys. */
static const char py_config[] =
	"{\"a\": NaN, \"b\": Infinity, \"c\": -Infinity, \"big\": 1180591620717411303424, "
	"\"s\": \"\\udc80x\", \"n\": \"a\\u0000b\", \"k\\u0000ey\": [-2e400, \"\\ud800\"], "
	"\"u\": \"\\u00e9\"}";
static const char py_details[] = "[{\"passed\": true, \"confidence\": NaN}]";
static const char py_outcome[] = "{\"x\": -1208925819614629174706176}";

/* The job's JSON (what `show --json` prints) holds each document as it is. */
static void assert_job_json_holds(const char *log, const char *db, const char *job)
{
	sl_proj *p;
	char err[512];
	cr_assert_eq(sl_proj_open(&p, log, db, NULL, NULL, err, sizeof err), SL_OK, "%s", err);
	struct sl_job_state st;
	cr_assert_eq(sl_proj_load_job(&st, p, job), SL_OK, "%s", sl_proj_errmsg(p));
	char *json;
	cr_assert_eq(sl_state_to_json(&json, &st), SL_OK);
	char want[600];
	snprintf(want, sizeof want, "\"config_snapshot\": %s,", py_config);
	cr_assert(strstr(json, want), "%s", json);
	snprintf(want, sizeof want, "\"validation_details\": %s,", py_details);
	cr_assert(strstr(json, want), "%s", json);
	snprintf(want, sizeof want, "\"outcome_data\": %s,", py_outcome);
	cr_assert(strstr(json, want), "%s", json);
	free(json);
	sl_state_free(&st);
	sl_proj_close(p);
}

Test(import, json_values_only_python_reads_are_kept_exactly)
{
	make_db(src, 4);
	sqlite3 *db;
	sqlite3_stmt *st;
	cr_assert_eq(sqlite3_open(src, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(db, "UPDATE jobs SET config_snapshot = ?1 WHERE id = "
					"'nightly-build'", -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, py_config, -1, SQLITE_STATIC);
	cr_assert_eq(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	cr_assert_eq(sqlite3_prepare_v2(db, "UPDATE sheets SET validation_details = ?1, "
					"outcome_data = ?2 WHERE job_id = 'nightly-build' AND "
					"sheet_num = 1", -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, py_details, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, py_outcome, -1, SQLITE_STATIC);
	cr_assert_eq(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	sqlite3_close(db);
	sl_import *imp;
	int rc = do_import_db(src, &imp);
	cr_assert_eq(rc, SL_OK, "%s", sl_import_errmsg(imp));
	sl_import_free(imp);
	/* The views hold the source's text byte for byte. */
	char *rows = rows_text(dbpath, "SELECT config_snapshot FROM jobs WHERE id = "
			       "'nightly-build'");
	char want[700];
	snprintf(want, sizeof want, "%s\n", py_config);
	cr_assert_str_eq(rows, want);
	free(rows);
	rows = rows_text(dbpath, "SELECT validation_details, outcome_data FROM sheets WHERE "
			 "job_id = 'nightly-build' AND sheet_num = 1");
	snprintf(want, sizeof want, "%s|%s\n", py_details, py_outcome);
	cr_assert_str_eq(rows, want);
	free(rows);
	assert_job_json_holds(logdir, dbpath, "nightly-build");
}

Test(import, json_state_file_with_values_only_python_reads)
{
	char jdir[400], one[450], text[2048];
	snprintf(jdir, sizeof jdir, "%s/states", dir);
	cr_assert_eq(mkdir(jdir, 0755), 0);
	snprintf(one, sizeof one, "%s/one.json", jdir);
	snprintf(text, sizeof text,
		 "{\"job_id\": \"py\", \"job_name\": \"Py\", \"total_sheets\": 1, "
		 "\"status\": \"paused\", \"created_at\": \"2026-01-01T00:00:00+00:00\", "
		 "\"updated_at\": \"2026-01-01T00:00:00+00:00\", \"config_snapshot\": %s, "
		 "\"sheets\": {\"1\": {\"sheet_num\": 1, \"status\": \"pending\", "
		 "\"validation_details\": %s, \"outcome_data\": %s}}}", py_config, py_details,
		 py_outcome);
	write_file(one, text);
	sl_import *imp;
	cr_assert_eq(sl_import_new(&imp, NULL), SL_OK);
	int rc = sl_import_read_json(imp, jdir);
	cr_assert_eq(rc, SL_OK, "read %s: %s", jdir, sl_import_errmsg(imp));
	rc = sl_import_write(imp, logdir, dbpath, NULL);
	cr_assert_eq(rc, SL_OK, "write: %s", sl_import_errmsg(imp));
	sl_import_free(imp);
	char *rows = rows_text(dbpath, "SELECT config_snapshot FROM jobs WHERE id = 'py'");
	char want[700];
	snprintf(want, sizeof want, "%s\n", py_config);
	cr_assert_str_eq(rows, want);
	free(rows);
	assert_job_json_holds(logdir, dbpath, "py");
}

/* A value that is no JSON at all, not even Python's, is still refused and
 * named. */
Test(import, json_state_file_python_cannot_read_is_refused)
{
	char jdir[400], one[450];
	snprintf(jdir, sizeof jdir, "%s/states", dir);
	cr_assert_eq(mkdir(jdir, 0755), 0);
	snprintf(one, sizeof one, "%s/one.json", jdir);
	write_file(one, "{\"job_id\": \"py\", \"config_snapshot\": {\"a\": NaN, \"b\": nan}}");
	sl_import *imp;
	cr_assert_eq(sl_import_new(&imp, NULL), SL_OK);
	int rc = sl_import_read_json(imp, jdir);
	cr_assert_eq(rc, SL_ECORRUPT, "%s", sl_import_errmsg(imp));
	/* Where Python too stops: at "nan", not at the NaN before it. */
	cr_assert(strstr(sl_import_errmsg(imp), "not valid JSON (line 1, column 55: invalid "
			 "token near 'nan')"), "%s",
		  sl_import_errmsg(imp));
	sl_import_free(imp);
}

/* Text holding NUL (Python's sqlite3 stores it): each NUL as U+FFFD, said,
 * and the comparison takes it as the source's text. */
Test(import, text_holding_nul_is_kept_with_a_replacement_and_said)
{
	make_db(src, 4);
	sqlite3 *db;
	cr_assert_eq(sqlite3_open(src, &db), SQLITE_OK);
	exec_sql(db, "UPDATE jobs SET name = 'nigh' || char(0) || 'tly' WHERE id = "
		 "'nightly-build';"
		 "UPDATE sheets SET error_message = char(0) || char(0) WHERE job_id = "
		 "'failed-job' AND sheet_num = 1;"
		 "UPDATE execution_history SET output = 'a' || char(0) || 'b' WHERE id = 5",
		 "NUL in text");
	sqlite3_close(db);
	sl_import *imp;
	int rc = do_import_db(src, &imp);
	cr_assert_eq(rc, SL_OK, "%s", sl_import_errmsg(imp));
	struct sl_import_report r;
	sl_import_get_report(&r, imp);
	sl_import_free(imp);
	cr_assert_eq(r.replaced, 3, "%" PRIu64 ": %s", r.replaced, r.replaced_note);
	cr_assert(strstr(r.replaced_note, "job 'nightly-build' name"), "%s", r.replaced_note);
	cr_assert(strstr(r.replaced_note, "job 'failed-job' sheet 1 error_message"), "%s",
		  r.replaced_note);
	cr_assert(strstr(r.replaced_note, "execution_history id 5 output"), "%s", r.replaced_note);
	char *rows = rows_text(dbpath, "SELECT name FROM jobs WHERE id = 'nightly-build'");
	cr_assert_str_eq(rows, "nigh\xef\xbf\xbdtly\n");
	free(rows);
	rows = rows_text(dbpath, "SELECT error_message FROM sheets WHERE job_id = 'failed-job' "
			 "AND sheet_num = 1");
	cr_assert_str_eq(rows, "\xef\xbf\xbd\xef\xbf\xbd\n");
	free(rows);
	rows = rows_text(dbpath, "SELECT output FROM execution_history WHERE id = 5");
	cr_assert_str_eq(rows, "a\xef\xbf\xbd" "b\n");
	free(rows);
}

/* Fields of a JSON state file that the tables have no column for are kept
 * with the job, exactly, through the views, a rebuild and time travel;
 * a NUL in a column's text is replaced and said. */
Test(import, json_state_file_fields_beyond_the_columns_are_kept)
{
	char jdir[400], one[450];
	snprintf(jdir, sizeof jdir, "%s/states", dir);
	cr_assert_eq(mkdir(jdir, 0755), 0);
	snprintf(one, sizeof one, "%s/one.json", jdir);
	write_file(one,
		   "{\"job_id\": \"x\", \"job_name\": \"X\", \"total_sheets\": 2, "
		   "\"status\": \"paused\", \"created_at\": \"2026-01-01T00:00:00+00:00\", "
		   "\"updated_at\": \"2026-01-01T00:00:00+00:00\", \"error_message\": \"e\\u0000\", "
		   "\"instruments_used\": [\"a\", \"b\"], \"quota_waits\": 3, "
		   "\"total_input_tokens\": 1180591620717411303424, "
		   "\"sheets\": {\"1\": {\"sheet_num\": 1, \"status\": \"failed\", "
		   "\"error_message\": \"boom\", \"error_code\": \"E006\", "
		   "\"stdout_tail\": \"t\\u0000\", \"error_history\": [{\"error_code\": \"E001\", "
		   "\"confidence\": NaN}]}}}");
	sl_import *imp;
	cr_assert_eq(sl_import_new(&imp, NULL), SL_OK);
	int rc = sl_import_read_json(imp, jdir);
	cr_assert_eq(rc, SL_OK, "read: %s", sl_import_errmsg(imp));
	rc = sl_import_write(imp, logdir, dbpath, NULL);
	cr_assert_eq(rc, SL_OK, "write: %s", sl_import_errmsg(imp));
	struct sl_import_report r;
	sl_import_get_report(&r, imp);
	sl_import_free(imp);
	cr_assert_eq(r.kept, 6, "%" PRIu64 ": %s", r.kept, r.kept_note);
	cr_assert_str_eq(r.kept_note, "job 'x': instruments_used, quota_waits, total_input_tokens; "
			 "job 'x' sheet 1: error_code, stdout_tail, error_history");
	cr_assert_eq(r.replaced, 1, "%s", r.replaced_note);
	cr_assert_str_eq(r.replaced_note, "job 'x' error_message");
	static const char job_extra[] = "\"quota_waits\": 3, \"total_input_tokens\": "
					"1180591620717411303424}";
	static const char sheet_extra[] = "\"stdout_tail\": \"t\\u0000\", \"error_history\": "
					  "[{\"error_code\": \"E001\", \"confidence\": NaN}]}";
	char *rows = rows_text(dbpath, "SELECT sheet_num, fields FROM statelog_extra WHERE job_id "
			       "= 'x' ORDER BY sheet_num");
	cr_assert(strstr(rows, job_extra) && strstr(rows, sheet_extra), "%s", rows);
	free(rows);
	for (int pass = 0; pass < 3; pass++) {
		/* 0: the views; 1: after a rebuild; 2: the database as of the
		 * last event (time travel). */
		sl_proj *p;
		char err[512], at[450];
		snprintf(at, sizeof at, "%s/at.db", dir);
		if (pass == 1)
			cr_assert_eq(sl_proj_rebuild(logdir, dbpath, NULL, NULL, err, sizeof err),
				     SL_OK, "%s", err);
		cr_assert_eq(sl_proj_open(&p, logdir, dbpath, NULL, NULL, err, sizeof err), SL_OK,
			     "%s", err);
		if (pass == 2) {
			cr_assert_eq(sl_tt_write_db(p, sl_proj_last_seq(p), at, 0, NULL), SL_OK, "%s",
				     sl_proj_errmsg(p));
			sl_proj_close(p);
			cr_assert_eq(sl_proj_open(&p, logdir, at, NULL, NULL, err, sizeof err), SL_OK,
				     "%s", err);
		}
		struct sl_job_state st;
		cr_assert_eq(sl_proj_load_job(&st, p, "x"), SL_OK, "%s", sl_proj_errmsg(p));
		char *json;
		cr_assert_eq(sl_state_to_json(&json, &st), SL_OK);
		cr_assert(strstr(json, job_extra), "pass %d: %s", pass, json);
		cr_assert(strstr(json, sheet_extra), "pass %d: %s", pass, json);
		cr_assert(strstr(json, "\"error_message\": \"e\\ufffd\""), "pass %d: %s", pass, json);
		free(json);
		sl_state_free(&st);
		sl_proj_close(p);
	}
}

/* The source's exact text of a value stored with U+FFFD is in the log: the
 * event that carries the value says it (field source). */
Test(import, exact_text_holding_nul_is_in_the_log)
{
	make_db(src, 4);
	sqlite3 *db;
	cr_assert_eq(sqlite3_open(src, &db), SQLITE_OK);
	exec_sql(db, "UPDATE jobs SET name = 'a' || char(0) || 'b' WHERE id = 'nightly-build';"
		 "UPDATE sheets SET error_message = char(0) WHERE job_id = 'failed-job' AND "
		 "sheet_num = 1;"
		 "UPDATE execution_history SET prompt = 'p' || char(0), output = char(0) || 'o' "
		 "WHERE id = 5", "NUL in text");
	sqlite3_close(db);
	sl_import *imp;
	int rc = do_import_db(src, &imp);
	cr_assert_eq(rc, SL_OK, "%s", sl_import_errmsg(imp));
	sl_import_free(imp);
	sl_reader *rd;
	cr_assert_eq(sl_reader_open(&rd, logdir, NULL, NULL, 0), SL_OK);
	struct sl_record rec;
	int found = 0;
	while ((rc = sl_reader_next(&rec, rd)) == 1) {
		sl_event *ev;
		cr_assert_eq(sl_event_decode(&ev, rec.data, rec.len, rec.seq, rec.time_us), SL_OK);
		const char *src_text = NULL, *want = NULL;
		if (ev->body_case == STATELOG__EVENT__BODY_JOB_FIELDS_SET &&
		    strcmp(ev->job_id, "nightly-build") == 0) {
			src_text = ev->job_fields_set->source;
			want = "{\"name\": \"a\\u0000b\"}";
		} else if (ev->body_case == STATELOG__EVENT__BODY_SHEET_FIELDS_SET &&
			   strcmp(ev->job_id, "failed-job") == 0 &&
			   ev->sheet_fields_set->sheet_num == 1) {
			src_text = ev->sheet_fields_set->source;
			want = "{\"error_message\": \"\\u0000\"}";
		} else if (ev->body_case == STATELOG__EVENT__BODY_EXECUTION_RECORDED &&
			   ev->execution_recorded->execution_id == 5) {
			src_text = ev->execution_recorded->source;
			want = "{\"prompt\": \"p\\u0000\", \"output\": \"\\u0000o\"}";
		} else if (ev->body_case == STATELOG__EVENT__BODY_JOB_FIELDS_SET) {
			cr_assert_null(ev->job_fields_set->source, "job %s", ev->job_id);
		}
		if (want) {
			cr_assert_not_null(src_text, "%s: no source", want);
			cr_assert_str_eq(src_text, want);
			found++;
		}
		sl_event_free(ev);
	}
	cr_assert_eq(rc, 0, "%s", sl_strerror(rc));
	cr_assert_eq(found, 3);
	sl_reader_close(rd);
}
