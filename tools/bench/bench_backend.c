/* bench_backend.c: `statelog bench backend`, the backend API on the
 * reference workload beside a plain SQLite implementation of the original
 * backend, measured in the same run at equal durability.
 *
 * The workload's events are what an orchestrator changes; each becomes the
 * call an orchestrator makes:
 *   job_created, *_fields_set, job_config_changed, zombie_recovered
 *       -> save() of the orchestrator's whole state of the job
 *   sheet_started/completed/failed/skipped, job_paused/resumed/failed/
 *   completed/cancelled, pid_set, rate_limit_wait
 *       -> statelog: the intention call; the original: save() of the state
 *   execution_recorded -> record_execution(); job_deleted -> delete()
 * so the original saves the whole job and all its sheets about three times
 * per sheet (projector/model/MODEL.md).  Each thread holds, like the
 * orchestrator, the state of its jobs in memory (sl_rules_apply() of the
 * event) and passes it to save().
 *
 * "Jobs of N sheets": every job is created with N sheet rows (the plan's
 * sheets, pending), and the workload's sheet numbers (10..100 per job) are
 * mapped onto 1..N; so every save of the original rewrites the job row and
 * N sheet rows.  (An orchestrator that adds rows as sheets start averages
 * N/2 rows over a whole run.)
 *
 * The original here is the best case of its design: one connection per
 * thread, kept open (the Python backend opens one per call), statements
 * prepared once, and its write transactions serialized by a mutex instead of
 * SQLite's busy-wait.  Both sides run the same calls from the same number of
 * threads (the workload's in-flight jobs, one thread per job slot), with
 * every call durable when it returns: statelog with durability always (its
 * appends from different threads share an fsync), SQLite with the rollback
 * journal and synchronous=FULL.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "backend.h"
#include "bench.h"
#include "cli.h"
#include "drive.h"
#include "event_internal.h"
#include "hash.h"
#include "timefmt.h"
#include "views.h"

#define MAX_THREADS 64

/* ---- the original, in C: its v4 schema and its save() ------------------- */

static const char orig_schema[] =
	"CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY,"
	" applied_at TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS jobs (id TEXT PRIMARY KEY, name TEXT NOT NULL,"
	" description TEXT, status TEXT NOT NULL DEFAULT 'pending', total_sheets INTEGER NOT NULL,"
	" last_completed_sheet INTEGER NOT NULL DEFAULT 0, current_sheet INTEGER,"
	" config_hash TEXT, config_snapshot TEXT, pid INTEGER, error_message TEXT,"
	" total_retry_count INTEGER NOT NULL DEFAULT 0, rate_limit_waits INTEGER NOT NULL DEFAULT 0,"
	" created_at TEXT NOT NULL, updated_at TEXT NOT NULL, started_at TEXT, completed_at TEXT,"
	" config_path TEXT);"
	"CREATE TABLE IF NOT EXISTS sheets (job_id TEXT NOT NULL, sheet_num INTEGER NOT NULL,"
	" status TEXT NOT NULL DEFAULT 'pending', attempt_count INTEGER NOT NULL DEFAULT 0,"
	" exit_code INTEGER, error_message TEXT, error_category TEXT, validation_passed INTEGER,"
	" validation_details TEXT, completion_attempts INTEGER NOT NULL DEFAULT 0,"
	" passed_validations TEXT, failed_validations TEXT, last_pass_percentage REAL,"
	" execution_mode TEXT, outcome_data TEXT, confidence_score REAL, learned_patterns TEXT,"
	" similar_outcomes_count INTEGER NOT NULL DEFAULT 0,"
	" success_without_retry INTEGER NOT NULL DEFAULT 0, outcome_category TEXT,"
	" started_at TEXT, completed_at TEXT, execution_duration_seconds REAL, exit_signal INTEGER,"
	" exit_reason TEXT, PRIMARY KEY (job_id, sheet_num),"
	" FOREIGN KEY (job_id) REFERENCES jobs(id) ON DELETE CASCADE);"
	"CREATE TABLE IF NOT EXISTS execution_history (id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" job_id TEXT NOT NULL, sheet_num INTEGER NOT NULL, attempt_num INTEGER NOT NULL,"
	" prompt TEXT, output TEXT, exit_code INTEGER, duration_seconds REAL,"
	" executed_at TEXT NOT NULL, FOREIGN KEY (job_id) REFERENCES jobs(id) ON DELETE CASCADE);"
	"CREATE INDEX IF NOT EXISTS idx_jobs_status ON jobs(status);"
	"CREATE INDEX IF NOT EXISTS idx_jobs_updated ON jobs(updated_at);"
	"CREATE INDEX IF NOT EXISTS idx_sheets_status ON sheets(status);"
	"CREATE INDEX IF NOT EXISTS idx_history_job_sheet ON execution_history(job_id, sheet_num);"
	"INSERT OR IGNORE INTO schema_version VALUES (1, '2026-01-01T00:00:00+00:00'),"
	" (2, '2026-01-01T00:00:00+00:00'), (3, '2026-01-01T00:00:00+00:00'),"
	" (4, '2026-01-01T00:00:00+00:00');";

/* The original's upserts, generated from the column catalogue (whose order
 * is the tables'): insert every column; on conflict update every column
 * but the key (and, for jobs, description and created_at). */
static char *upsert_sql(const char *table, const char *prefix,
			const struct sl_state_column *cols, size_t n)
{
	char *sql = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&sql, &len);
	if (!f)
		return NULL;
	fprintf(f, "INSERT INTO %s (%s", table, prefix ? prefix : "");
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s%s", i || prefix ? ", " : "", cols[i].name);
	fprintf(f, ") VALUES (%s", prefix ? "?" : "");
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s?", i || prefix ? ", " : "");
	fprintf(f, ") ON CONFLICT(%s) DO UPDATE SET ", prefix ? "job_id, sheet_num" : "id");
	bool first = true;
	for (size_t i = 0; i < n; i++) {
		if (cols[i].key || strcmp(cols[i].name, "description") == 0 ||
		    strcmp(cols[i].name, "created_at") == 0)
			continue;
		fprintf(f, "%s%s = excluded.%s", first ? "" : ", ", cols[i].name, cols[i].name);
		first = false;
	}
	fclose(f);
	return sql;
}

/* Binds column c of row at index i, as the original stores it. */
static int bind_col(sqlite3_stmt *st, int i, const struct sl_state_column *c, const void *row)
{
	struct sl_value v;
	char t[SL_TIME_BUFSZ];
	sl_state_column_get(&v, c, row);
	if (v.null)
		return sqlite3_bind_null(st, i);
	switch (c->type) {
	case SL_COL_TEXT:
	case SL_COL_JOB_STATUS:
	case SL_COL_SHEET_STATUS:
		return sqlite3_bind_text(st, i, v.s, -1, SQLITE_STATIC);
	case SL_COL_TIME:
		sl_time_format(v.i, t, sizeof t);
		return sqlite3_bind_text(st, i, t, -1, SQLITE_TRANSIENT);
	case SL_COL_REAL:
		return sqlite3_bind_double(st, i, v.d);
	default:
		return sqlite3_bind_int64(st, i, v.i);
	}
}

/* Reads column i of a row into c of row (the original's load()). */
static void read_col(sqlite3_stmt *st, int i, const struct sl_state_column *c, void *row)
{
	struct sl_value v = { .null = sqlite3_column_type(st, i) == SQLITE_NULL };
	char *owned = NULL;
	if (!v.null) {
		const char *s = (const char *)sqlite3_column_text(st, i);
		switch (c->type) {
		case SL_COL_TEXT: owned = strdup(s); break;
		case SL_COL_TIME: sl_time_parse(&v.i, s); break;
		case SL_COL_REAL: v.d = sqlite3_column_double(st, i); break;
		case SL_COL_JOB_STATUS: {
			enum sl_job_status js = SL_JOB_PENDING;
			sl_job_status_from_name(&js, s);
			v.i = js;
			break;
		}
		case SL_COL_SHEET_STATUS: {
			enum sl_sheet_status ss = SL_SHEET_PENDING;
			sl_sheet_status_from_name(&ss, s);
			v.i = ss;
			break;
		}
		default: v.i = sqlite3_column_int64(st, i); break;
		}
	}
	sl_state_column_put(c, row, &v, owned);
}

/* One connection of the original. */
struct orig {
	sqlite3 *db;
	sqlite3_stmt *begin, *commit, *rollback, *job, *sheet, *exists, *del, *hist;
	sqlite3_stmt *load_job, *load_sheets;
	pthread_mutex_t *mu;            /* serializes write transactions */
};

static void orig_close(struct orig *o)
{
	sqlite3_stmt *all[] = { o->begin, o->commit, o->rollback, o->job, o->sheet, o->exists,
				o->del, o->hist, o->load_job, o->load_sheets };
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		sqlite3_finalize(all[i]);
	sqlite3_close(o->db);
	*o = (struct orig){ 0 };
}

static char *select_sql(const char *table, const char *where, const struct sl_state_column *cols,
			size_t n)
{
	char *sql = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&sql, &len);
	if (!f)
		return NULL;
	fputs("SELECT ", f);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s%s", i ? ", " : "", cols[i].name);
	fprintf(f, " FROM %s WHERE %s", table, where);
	fclose(f);
	return sql;
}

static int orig_open(struct orig *o, const char *path, pthread_mutex_t *mu, char *err,
		     size_t errlen)
{
	*o = (struct orig){ .mu = mu };
	char *job = upsert_sql("jobs", NULL, sl_state_job_columns, SL_STATE_N_JOB_COLUMNS);
	char *sheet = upsert_sql("sheets", "job_id", sl_state_sheet_columns,
				 SL_STATE_N_SHEET_COLUMNS);
	char *lj = select_sql("jobs", "id = ?", sl_state_job_columns, SL_STATE_N_JOB_COLUMNS);
	char *ls = select_sql("sheets", "job_id = ? ORDER BY sheet_num", sl_state_sheet_columns,
			      SL_STATE_N_SHEET_COLUMNS);
	int rc = SQLITE_NOMEM;
	if (!job || !sheet || !lj || !ls)
		goto out;
	if ((rc = sqlite3_open(path, &o->db)) != SQLITE_OK)
		goto out;
	sqlite3_busy_timeout(o->db, 60000);
	/* The original's connection: default rollback journal, full syncs,
	 * foreign keys on. */
	if ((rc = sqlite3_exec(o->db, "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;",
			       NULL, NULL, NULL)) != SQLITE_OK)
		goto out;
	pthread_mutex_lock(mu);
	rc = sqlite3_exec(o->db, orig_schema, NULL, NULL, NULL);
	pthread_mutex_unlock(mu);
	if (rc != SQLITE_OK)
		goto out;
	struct {
		sqlite3_stmt **st;
		const char *sql;
	} prep[] = {
		{ &o->begin, "BEGIN IMMEDIATE" }, { &o->commit, "COMMIT" },
		{ &o->rollback, "ROLLBACK" }, { &o->job, job }, { &o->sheet, sheet },
		{ &o->exists, "SELECT id FROM jobs WHERE id = ?" },
		{ &o->del, "DELETE FROM jobs WHERE id = ?" },
		{ &o->hist, "INSERT INTO execution_history (job_id, sheet_num, attempt_num, prompt,"
			    " output, exit_code, duration_seconds, executed_at)"
			    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)" },
		{ &o->load_job, lj }, { &o->load_sheets, ls },
	};
	for (size_t i = 0; i < sizeof prep / sizeof prep[0]; i++)
		if ((rc = sqlite3_prepare_v2(o->db, prep[i].sql, -1, prep[i].st, NULL)) != SQLITE_OK)
			goto out;
out:
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, o->db ? sqlite3_errmsg(o->db) :
			 sqlite3_errstr(rc));
		orig_close(o);
	}
	free(job);
	free(sheet);
	free(lj);
	free(ls);
	return rc == SQLITE_OK ? SL_OK : SL_ESQLITE;
}

static int step_reset(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
}

/* The original's save(): BEGIN IMMEDIATE; upsert the job; upsert each
 * sheet; COMMIT.  updated_at = now. */
static int orig_save(struct orig *o, struct sl_job_state *st)
{
	pthread_mutex_lock(o->mu);
	st->updated_at_us = sl_time_now_us();
	int rc = step_reset(o->begin);
	for (size_t i = 0; rc == SQLITE_OK && i < SL_STATE_N_JOB_COLUMNS; i++) {
		const struct sl_state_column *c = &sl_state_job_columns[i];
		if (strcmp(c->name, "description") == 0)
			sqlite3_bind_null(o->job, (int)i + 1);
		else
			bind_col(o->job, (int)i + 1, c, st);
	}
	if (rc == SQLITE_OK)
		rc = step_reset(o->job);
	for (size_t s = 0; rc == SQLITE_OK && s < st->n_sheets; s++) {
		sqlite3_bind_text(o->sheet, 1, st->id, -1, SQLITE_STATIC);
		for (size_t i = 0; i < SL_STATE_N_SHEET_COLUMNS; i++)
			bind_col(o->sheet, (int)i + 2, &sl_state_sheet_columns[i], &st->sheets[s]);
		rc = step_reset(o->sheet);
	}
	if (rc == SQLITE_OK)
		rc = step_reset(o->commit);
	else
		step_reset(o->rollback);
	pthread_mutex_unlock(o->mu);
	return rc == SQLITE_OK ? SL_OK : SL_ESQLITE;
}

static int orig_record(struct orig *o, const char *job, const Statelog__ExecutionRecorded *m,
		       int64_t sheet_num)
{
	char t[SL_TIME_BUFSZ];
	pthread_mutex_lock(o->mu);
	sl_time_format(sl_time_now_us(), t, sizeof t);
	sqlite3_stmt *h = o->hist;
	sqlite3_bind_text(h, 1, job, -1, SQLITE_STATIC);
	sqlite3_bind_int64(h, 2, sheet_num);
	sqlite3_bind_int64(h, 3, m->attempt_num);
	sqlite3_bind_text(h, 4, m->prompt, -1, SQLITE_STATIC);
	sqlite3_bind_text(h, 5, m->output, -1, SQLITE_STATIC);
	if (m->has_exit_code)
		sqlite3_bind_int64(h, 6, m->exit_code);
	else
		sqlite3_bind_null(h, 6);
	if (m->has_duration_seconds)
		sqlite3_bind_double(h, 7, m->duration_seconds);
	else
		sqlite3_bind_null(h, 7);
	sqlite3_bind_text(h, 8, t, -1, SQLITE_STATIC);
	int rc = step_reset(h);
	pthread_mutex_unlock(o->mu);
	return rc == SQLITE_OK ? SL_OK : SL_ESQLITE;
}

static int orig_delete(struct orig *o, const char *job)
{
	pthread_mutex_lock(o->mu);
	sqlite3_bind_text(o->exists, 1, job, -1, SQLITE_STATIC);
	int rc = step_reset(o->exists);
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(o->del, 1, job, -1, SQLITE_STATIC);
		rc = step_reset(o->del);
	}
	pthread_mutex_unlock(o->mu);
	return rc == SQLITE_OK ? SL_OK : SL_ESQLITE;
}

/* The original's load(): the job row, then its sheets. */
static int orig_load(struct orig *o, const char *job, struct sl_job_state *out)
{
	sl_state_init(out);
	sqlite3_bind_text(o->load_job, 1, job, -1, SQLITE_STATIC);
	if (sqlite3_step(o->load_job) != SQLITE_ROW) {
		sqlite3_reset(o->load_job);
		return SL_ENOTFOUND;
	}
	for (size_t i = 0; i < SL_STATE_N_JOB_COLUMNS; i++)
		read_col(o->load_job, (int)i, &sl_state_job_columns[i], out);
	out->presence = SL_JOB_LIVE;
	sqlite3_reset(o->load_job);
	sqlite3_bind_text(o->load_sheets, 1, job, -1, SQLITE_STATIC);
	while (sqlite3_step(o->load_sheets) == SQLITE_ROW) {
		struct sl_sheet_state *sh;
		if (sl_state_add_sheet(&sh, out, sqlite3_column_int64(o->load_sheets, 0)) != SL_OK)
			break;
		for (size_t i = 1; i < SL_STATE_N_SHEET_COLUMNS; i++)
			read_col(o->load_sheets, (int)i, &sl_state_sheet_columns[i], sh);
	}
	sqlite3_reset(o->load_sheets);
	return SL_OK;
}

/* ---- the workload, split by job over the threads ------------------------ */

enum call_kind { CALL_STATE, CALL_RECORD, CALL_DELETE, N_KINDS };

struct model {
	char *id;
	struct sl_job_state st;
	int64_t last_us;
};

struct worker {
	int index;
	bool statelog;
	int64_t sheets;                 /* N */
	sl_backend *be;
	struct orig orig;
	sl_event **evs;
	size_t n_evs;
	struct model *models;
	size_t n_models, cap_models;
	double *lat[N_KINDS];
	size_t n_lat[N_KINDS];
	uint64_t calls, skipped;
	int rc;
	char err[512];
	double deadline;
	atomic_uint_fast64_t *used;     /* calls started by every thread together */
	uint64_t max_calls;
	pthread_t thread;
};

static struct model *model_of(struct worker *w, const char *id)
{
	for (size_t i = 0; i < w->n_models; i++)
		if (strcmp(w->models[i].id, id) == 0)
			return &w->models[i];
	if (w->n_models == w->cap_models) {
		size_t cap = w->cap_models ? w->cap_models * 2 : 16;
		struct model *p = realloc(w->models, cap * sizeof *p);
		if (!p)
			return NULL;
		w->models = p;
		w->cap_models = cap;
	}
	struct model *m = &w->models[w->n_models];
	if (!(m->id = strdup(id)))
		return NULL;
	sl_state_init(&m->st);
	m->last_us = 0;
	w->n_models++;
	return m;
}

/* The sheet number an event carries, or NULL. */
static int64_t *sheet_field(sl_event *ev)
{
	switch (ev->body_case) {
	case STATELOG__EVENT__BODY_SHEET_STARTED: return &ev->sheet_started->sheet_num;
	case STATELOG__EVENT__BODY_SHEET_COMPLETED: return &ev->sheet_completed->sheet_num;
	case STATELOG__EVENT__BODY_SHEET_FAILED: return &ev->sheet_failed->sheet_num;
	case STATELOG__EVENT__BODY_SHEET_SKIPPED: return &ev->sheet_skipped->sheet_num;
	case STATELOG__EVENT__BODY_SHEET_FIELDS_SET: return &ev->sheet_fields_set->sheet_num;
	case STATELOG__EVENT__BODY_EXECUTION_RECORDED:
		return &ev->execution_recorded->sheet_num;
	case STATELOG__EVENT__BODY_RATE_LIMIT_WAIT:
		return ev->rate_limit_wait->has_sheet_num ? &ev->rate_limit_wait->sheet_num : NULL;
	default: return NULL;
	}
}

/* Applies one workload event to the thread's model of its job and makes the
 * matching call; *kind says which kind of call it was, -1 when the event was
 * skipped. */
static int run_event(struct worker *w, sl_event *ev, int *kind)
{
	int64_t *sp = sheet_field(ev), sheet_orig = sp ? *sp : 0;
	int64_t total_orig = 0;
	if (sp)
		*sp = (sheet_orig - 1) % w->sheets + 1;
	if (ev->body_case == STATELOG__EVENT__BODY_JOB_CREATED) {
		total_orig = ev->job_created->total_sheets;
		ev->job_created->total_sheets = w->sheets;
	}
	struct model *m = model_of(w, ev->job_id);
	int rc = SL_ENOMEM;
	*kind = -1;
	if (!m)
		goto out;
	/* The orchestrator's clock: the state in memory changes now. */
	int64_t now = sl_time_now_us();
	m->last_us = now > m->last_us ? now : m->last_us + 1;
	ev->has_time_us = 1;
	ev->time_us = m->last_us;
	rc = sl_rules_apply(&m->st, ev, NULL);
	ev->has_time_us = 0;
	if (rc != SL_OK) {
		rc = SL_OK;     /* not a call the orchestrator would make */
		w->skipped++;
		goto out;
	}
	if (ev->body_case == STATELOG__EVENT__BODY_JOB_CREATED) {
		for (int64_t n = 1; n <= w->sheets; n++) {
			struct sl_sheet_state *sh;
			if ((rc = sl_state_add_sheet(&sh, &m->st, n)) != SL_OK)
				goto out;
		}
	}
	switch (ev->body_case) {
	case STATELOG__EVENT__BODY_EXECUTION_RECORDED: {
		const Statelog__ExecutionRecorded *b = ev->execution_recorded;
		*kind = CALL_RECORD;
		if (w->statelog) {
			struct sl_execution_record rec = {
				.job_id = ev->job_id, .sheet_num = b->sheet_num,
				.attempt_num = b->attempt_num, .prompt = b->prompt,
				.output = b->output, .has_exit_code = b->has_exit_code,
				.exit_code = b->exit_code,
				.has_duration_seconds = b->has_duration_seconds,
				.duration_seconds = b->duration_seconds,
			};
			int64_t eid;
			rc = sl_backend_record_execution(&eid, w->be, &rec);
		} else {
			rc = orig_record(&w->orig, ev->job_id, b, b->sheet_num);
		}
		break;
	}
	case STATELOG__EVENT__BODY_JOB_DELETED:
		*kind = CALL_DELETE;
		rc = w->statelog ? sl_backend_delete(w->be, ev->job_id)
				 : orig_delete(&w->orig, ev->job_id);
		break;
	default:
		*kind = CALL_STATE;
		rc = w->statelog ? sl_drive_call(w->be, ev, &m->st) : orig_save(&w->orig, &m->st);
		break;
	}
	if (rc != SL_OK)
		snprintf(w->err, sizeof w->err, "%s %s: %s", ev->job_id, sl_event_type_name(ev),
			 w->statelog ? sl_backend_errmsg(w->be) : sqlite3_errmsg(w->orig.db));
out:
	if (sp)
		*sp = sheet_orig;
	if (ev->body_case == STATELOG__EVENT__BODY_JOB_CREATED)
		ev->job_created->total_sheets = total_orig;
	return rc;
}

static void *worker_main(void *p)
{
	struct worker *w = p;
	for (size_t i = 0; i < w->n_evs; i++) {
		if (cli_mono_s() >= w->deadline || atomic_fetch_add(w->used, 1) >= w->max_calls)
			break;
		int kind;
		double t0 = cli_mono_s();
		w->rc = run_event(w, w->evs[i], &kind);
		double us = (cli_mono_s() - t0) * 1e6;
		if (w->rc != SL_OK)
			break;
		if (kind >= 0) {
			w->lat[kind][w->n_lat[kind]++] = us;
			w->calls++;
		}
	}
	return NULL;
}

/* ---- one run: one implementation, one sheet count ----------------------- */

struct run_result {
	double calls_per_s;
	double p50, p99;                /* every call, microseconds */
	double kind_p50[N_KINDS], kind_p99[N_KINDS];
	uint64_t calls;
	uint64_t log_events;            /* statelog: events appended */
	double elapsed;
};

struct plan {
	sl_event **per_thread[MAX_THREADS];
	size_t n_per_thread[MAX_THREADS];
	int threads;
};

static bool always_alive(int64_t pid, void *ctx)
{
	(void)pid;
	(void)ctx;
	return true;
}

static int run_once(const struct plan *pl, bool statelog, int64_t sheets, double seconds,
		    uint64_t max_calls, const char *base, struct run_result *res, char *err,
		    size_t errlen)
{
	struct worker w[MAX_THREADS];
	pthread_mutex_t orig_mu = PTHREAD_MUTEX_INITIALIZER;
	atomic_uint_fast64_t used = 0;
	sl_backend *be = NULL;
	char path[1024];
	int rc = SL_OK, started = 0;
	char *dir = cli_tmpdir(base, "bench");
	if (!dir) {
		snprintf(err, errlen, "cannot create a scratch directory: %s", strerror(errno));
		return SL_EIO;
	}
	memset(w, 0, sizeof w);
	if (statelog) {
		struct sl_backend_options o;
		sl_backend_options_init(&o);
		o.durability = SL_DURABLE_ALWAYS;
		o.create = true;
		o.pid_alive = always_alive;     /* the workload's pids are made up */
		snprintf(path, sizeof path, "%s/bench.log", dir);
		if ((rc = sl_backend_open(&be, path, &o, err, errlen)) != SL_OK)
			goto out;
	}
	snprintf(path, sizeof path, "%s/original.db", dir);
	for (int t = 0; t < pl->threads; t++) {
		struct worker *x = &w[t];
		x->index = t;
		x->statelog = statelog;
		x->sheets = sheets;
		x->be = be;
		x->evs = pl->per_thread[t];
		x->n_evs = pl->n_per_thread[t];
		x->used = &used;
		x->max_calls = max_calls;
		for (int k = 0; k < N_KINDS; k++)
			if (!(x->lat[k] = malloc((x->n_evs + 1) * sizeof(double)))) {
				rc = SL_ENOMEM;
				goto out;
			}
		if (!statelog && (rc = orig_open(&x->orig, path, &orig_mu, err, errlen)) != SL_OK)
			goto out;
	}
	double t0 = cli_mono_s();
	for (int t = 0; t < pl->threads; t++) {
		w[t].deadline = t0 + seconds;
		if (pthread_create(&w[t].thread, NULL, worker_main, &w[t]) != 0) {
			rc = SL_ENOMEM;
			break;
		}
		started++;
	}
	for (int t = 0; t < started; t++)
		pthread_join(w[t].thread, NULL);
	res->elapsed = cli_mono_s() - t0;
	if (rc != SL_OK)
		goto out;
	*res = (struct run_result){ .elapsed = res->elapsed };
	size_t total = 0;
	for (int t = 0; t < pl->threads; t++) {
		if (w[t].rc != SL_OK) {
			rc = w[t].rc;
			snprintf(err, errlen, "%s", w[t].err);
			goto out;
		}
		res->calls += w[t].calls;
		for (int k = 0; k < N_KINDS; k++)
			total += w[t].n_lat[k];
	}
	double *all = malloc((total + 1) * sizeof *all);
	if (!all) {
		rc = SL_ENOMEM;
		goto out;
	}
	size_t n_all = 0;
	for (int k = 0; k < N_KINDS; k++) {
		size_t nk = 0;
		for (int t = 0; t < pl->threads; t++)
			nk += w[t].n_lat[k];
		double *v = malloc((nk + 1) * sizeof *v);
		if (!v) {
			free(all);
			rc = SL_ENOMEM;
			goto out;
		}
		nk = 0;
		for (int t = 0; t < pl->threads; t++)
			for (size_t i = 0; i < w[t].n_lat[k]; i++)
				v[nk++] = all[n_all++] = w[t].lat[k][i];
		res->kind_p50[k] = bench_quantile(v, nk, 0.5);
		res->kind_p99[k] = bench_quantile(v, nk, 0.99);
		free(v);
	}
	res->p50 = bench_quantile(all, n_all, 0.5);
	res->p99 = bench_quantile(all, n_all, 0.99);
	free(all);
	res->calls_per_s = (double)res->calls / res->elapsed;
out:
	for (int t = 0; t < pl->threads; t++) {
		for (size_t i = 0; i < w[t].n_models; i++) {
			free(w[t].models[i].id);
			sl_state_free(&w[t].models[i].st);
		}
		free(w[t].models);
		for (int k = 0; k < N_KINDS; k++)
			free(w[t].lat[k]);
		orig_close(&w[t].orig);
	}
	if (be) {
		int crc = sl_backend_close(be);
		if (rc == SL_OK && crc != SL_OK) {
			rc = crc;
			snprintf(err, errlen, "closing the backend: %s", sl_strerror(crc));
		}
		sl_reader *r;
		snprintf(path, sizeof path, "%s/bench.log", dir);
		if (rc == SL_OK && sl_reader_open(&r, path, NULL, NULL, 0) == SL_OK) {
			uint64_t last = 0;
			sl_reader_last_seq(&last, r);
			res->log_events = last;
			sl_reader_close(r);
		}
	}
	sl_proj_remove_tree(dir);
	free(dir);
	return rc;
}

/* ---- load() of a 100-sheet job ------------------------------------------ */

/* A job of `sheets` sheets as a real run leaves it: every sheet completed,
 * with validation details, validation names, learned patterns and outcome
 * data; a 2 KB config snapshot. */
static int realistic_job(struct sl_job_state *st, const char *id, int64_t sheets)
{
	static const char snippet[] =
		"{\"name\": \"nightly\", \"workers\": 4, \"rules\": [{\"name\": \"lint\", "
		"\"cmd\": \"ruff check src/\"}, {\"name\": \"tests\", \"cmd\": \"pytest -q\"}], "
		"\"prompt_template\": \"You are working on {{ sheet }} of {{ total }}. ";
	char snap[2200];
	size_t len = (size_t)snprintf(snap, sizeof snap, "%s", snippet);
	while (len + 80 < sizeof snap)
		len += (size_t)snprintf(snap + len, sizeof snap - len, "%s",
					"Read the files, run the tests, fix what fails. ");
	snprintf(snap + len, sizeof snap - len, "\"}");
	sl_state_init(st);
	st->presence = SL_JOB_LIVE;
	st->id = strdup(id);
	st->name = strdup("nightly build of the monorepo");
	st->config_snapshot = strdup(snap);
	st->config_hash = strdup("sha256:9f86d081884c7d659a2feaa0c55ad015");
	st->config_path = strdup("/srv/orchestrator/jobs/nightly.yaml");
	st->status = SL_JOB_RUNNING;
	st->total_sheets = sheets;
	st->last_completed_sheet = sheets;
	st->created_at_us = sl_time_now_us();
	if (!st->id || !st->name || !st->config_snapshot || !st->config_hash || !st->config_path)
		return SL_ENOMEM;
	for (int64_t n = 1; n <= sheets; n++) {
		struct sl_sheet_state *sh;
		int rc = sl_state_add_sheet(&sh, st, n);
		if (rc != SL_OK)
			return rc;
		sh->status = SL_SHEET_COMPLETED;
		sh->attempt_count = 1;
		sh->has_exit_code = true;
		sh->has_validation_passed = sh->validation_passed = true;
		sh->validation_details = strdup("[{\"rule\": \"lint\", \"passed\": true, \"output\": "
						"\"All checks passed!\"}, {\"rule\": \"tests\", "
						"\"passed\": true, \"output\": \"212 passed in 9.81s\"}]");
		free(sh->passed_validations);
		sh->passed_validations = strdup("[\"lint\", \"tests\"]");
		free(sh->learned_patterns);
		sh->learned_patterns = strdup("[\"run the linter before the tests\"]");
		sh->outcome_data = strdup("{\"files_changed\": 3, \"lines\": 41}");
		sh->execution_mode = strdup("normal");
		sh->outcome_category = strdup("success_first_try");
		sh->success_without_retry = true;
		sh->has_confidence_score = true;
		sh->confidence_score = 0.92;
		sh->has_started_at = sh->has_completed_at = true;
		sh->started_at_us = st->created_at_us + n * 1000000;
		sh->completed_at_us = sh->started_at_us + 500000;
		sh->has_execution_duration_seconds = true;
		sh->execution_duration_seconds = 0.5;
		if (!sh->validation_details || !sh->passed_validations || !sh->learned_patterns ||
		    !sh->outcome_data || !sh->execution_mode || !sh->outcome_category)
			return SL_ENOMEM;
	}
	return SL_OK;
}

struct load_result {
	double statelog_p50, statelog_p99, orig_p50, orig_p99;
};

static int measure_load(const char *base, uint64_t loads, struct load_result *out, char *err,
			size_t errlen)
{
	struct sl_job_state st, got;
	sl_backend *be = NULL;
	struct orig o = { 0 };
	pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	double *v = malloc(loads * sizeof *v);
	char path[1024];
	char *dir = cli_tmpdir(base, "bench");
	int rc = realistic_job(&st, "load-100", 100);
	if (!dir || !v) {
		rc = SL_ENOMEM;
		goto out;
	}
	if (rc != SL_OK)
		goto out;
	struct sl_backend_options opts;
	sl_backend_options_init(&opts);
	opts.create = true;
	snprintf(path, sizeof path, "%s/load.log", dir);
	if ((rc = sl_backend_open(&be, path, &opts, err, errlen)) != SL_OK)
		goto out;
	if ((rc = sl_backend_save(be, &st)) != SL_OK) {
		snprintf(err, errlen, "%s", sl_backend_errmsg(be));
		goto out;
	}
	for (uint64_t i = 0; i < loads; i++) {
		double t0 = cli_mono_s();
		rc = sl_backend_load(&got, be, "load-100");
		v[i] = (cli_mono_s() - t0) * 1e6;
		if (rc != SL_OK) {
			snprintf(err, errlen, "%s", sl_backend_errmsg(be));
			goto out;
		}
		sl_state_free(&got);
	}
	out->statelog_p50 = bench_quantile(v, loads, 0.5);
	out->statelog_p99 = bench_quantile(v, loads, 0.99);

	snprintf(path, sizeof path, "%s/original.db", dir);
	if ((rc = orig_open(&o, path, &mu, err, errlen)) != SL_OK ||
	    (rc = orig_save(&o, &st)) != SL_OK)
		goto out;
	for (uint64_t i = 0; i < loads; i++) {
		double t0 = cli_mono_s();
		rc = orig_load(&o, "load-100", &got);
		v[i] = (cli_mono_s() - t0) * 1e6;
		sl_state_free(&got);
		if (rc != SL_OK) {
			snprintf(err, errlen, "original load: %s", sl_strerror(rc));
			goto out;
		}
	}
	out->orig_p50 = bench_quantile(v, loads, 0.5);
	out->orig_p99 = bench_quantile(v, loads, 0.99);
out:
	orig_close(&o);
	if (be)
		sl_backend_close(be);
	sl_state_free(&st);
	if (dir) {
		sl_proj_remove_tree(dir);
		free(dir);
	}
	free(v);
	return rc;
}

/* ---- the command ---------------------------------------------------------- */

static const char backend_help[] =
	"usage: statelog bench backend [--sheets N[,N...]] [--runs N] [--seconds S]\n"
	"                              [--calls N] [--threads N] [--loads N] [--seed N]\n"
	"                              [--dir BASE]\n\n"
	"The reference workload run through the backend API (durability always) and,\n"
	"in the same run, through a plain SQLite implementation of the original\n"
	"backend (every save rewrites the job and all its sheets in one transaction;\n"
	"rollback journal, synchronous=FULL), for jobs of each sheet count.  Prints\n"
	"calls/s and p50/p99 latency per call for both, their ratio (medians of\n"
	"--runs runs), and load() latency of a 100-sheet job.\n"
	"  --sheets    sheet counts (default 10,100,1000)\n"
	"  --runs      runs per configuration (default 3)\n"
	"  --seconds   time limit of each run of each side (default 3)\n"
	"  --calls     at most this many calls per run (default 60000; also the\n"
	"              number of workload events generated)\n"
	"  --threads   calling threads, one per in-flight job slot (default 8)\n"
	"  --loads     load() calls timed (default 20000)\n"
	"Exit codes: 0 measured; 1 a failure (I/O, a check of the results); 2 usage.\n";

static bool parse_sheets(const char *s, int64_t *out, int *n)
{
	char *copy = strdup(s), *save = NULL;
	*n = 0;
	bool ok = copy != NULL;
	for (char *tok = copy ? strtok_r(copy, ",", &save) : NULL; ok && tok;
	     tok = strtok_r(NULL, ",", &save)) {
		ok = *n < 8 && cli_parse_i64(tok, &out[*n]) && out[*n] >= 1 && out[*n] <= 100000;
		(*n)++;
	}
	free(copy);
	return ok && *n > 0;
}

int bench_backend(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "sheets", required_argument, NULL, 'N' },
		{ "runs", required_argument, NULL, 'r' },
		{ "seconds", required_argument, NULL, 's' },
		{ "calls", required_argument, NULL, 'c' },
		{ "threads", required_argument, NULL, 't' },
		{ "loads", required_argument, NULL, 'L' },
		{ "seed", required_argument, NULL, 'S' },
		{ "dir", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int64_t sheets[8] = { 10, 100, 1000 };
	int n_sheets = 3;
	uint64_t runs = 3, calls = 60000, threads = 8, loads = 20000, seed = 1;
	double seconds = 3;
	const char *base = NULL;
	const char *sheets_arg = "10,100,1000";
	int c, idx = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, "h", opts, &idx)) != -1) {
		bool ok = true;
		char *end;
		switch (c) {
		case 'N': ok = parse_sheets(optarg, sheets, &n_sheets); sheets_arg = optarg; break;
		case 'r': ok = cli_parse_u64(optarg, &runs) && runs >= 1 && runs <= 99; break;
		case 's':
			errno = 0;
			seconds = strtod(optarg, &end);
			ok = !errno && !*end && seconds > 0 && seconds <= 3600;
			break;
		case 'c': ok = cli_parse_u64(optarg, &calls) && calls >= 100; break;
		case 't':
			ok = cli_parse_u64(optarg, &threads) && threads >= 1 && threads <= MAX_THREADS;
			break;
		case 'L': ok = cli_parse_u64(optarg, &loads) && loads >= 100; break;
		case 'S': ok = cli_parse_u64(optarg, &seed); break;
		case 'd': base = optarg; break;
		case 'h': fputs(backend_help, stdout); return SL_EXIT_OK;
		default: return cli_usage(backend_help);
		}
		if (!ok) {
			cli_err("bench", "--%s: bad value '%s'", opts[idx].name, optarg);
			return SL_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		cli_err("bench", "unexpected argument '%s'", argv[optind]);
		return SL_EXIT_USAGE;
	}
	printf("# statelog bench backend --sheets %s --runs %" PRIu64 " --seconds %g --calls %"
	       PRIu64 " --threads %" PRIu64 " --loads %" PRIu64 " --seed %" PRIu64 "\n",
	       sheets_arg, runs, seconds, calls, threads, loads, seed);
	printf("# the reference workload's calls from %" PRIu64 " thread%s (one per job slot), every "
	       "call durable:\n# statelog = backend API, durability always, live views (its database "
	       "kept current beside\n# the writer and caught up at close: both sides leave an "
	       "up-to-date database);\n# sqlite = the original (rollback journal, synchronous=FULL, "
	       "one transaction per save\n# rewriting the job and all its sheets).  Medians of %" PRIu64
	       " runs.\n", threads, threads == 1 ? "" : "s", runs);
	cli_note("generating %" PRIu64 " reference events...\n", calls);

	struct bench_events b;
	int rc = bench_events(calls, seed, false, &b);
	if (rc != SL_OK) {
		cli_err("bench", "workload: %s", sl_strerror(rc));
		return SL_EXIT_FAIL;
	}
	/* Every job's events go to one thread, in order. */
	struct plan pl = { .threads = (int)threads };
	int ex = SL_EXIT_OK;
	for (int t = 0; t < pl.threads; t++) {
		pl.per_thread[t] = malloc((b.n + 1) * sizeof(sl_event *));
		if (!pl.per_thread[t]) {
			cli_err("bench", "out of memory");
			ex = SL_EXIT_FAIL;
			goto out;
		}
	}
	for (uint64_t i = 0; i < b.n; i++) {
		int t = (int)(sl_hash_str(b.ev[i]->job_id) % (uint64_t)threads);
		pl.per_thread[t][pl.n_per_thread[t]++] = b.ev[i];
	}

	printf("\n%6s  %-9s %10s %9s %9s %11s %11s %12s\n", "sheets", "backend", "calls/s",
	       "p50_us", "p99_us", "state_p50", "record_p50", "log_events/s");
	for (int s = 0; s < n_sheets; s++) {
		double rate[2][99], p50[2][99], p99[2][99], sp50[2][99], rp50[2][99], ev_s[99],
			ratio[99];
		for (uint64_t r = 0; r < runs; r++) {
			for (int side = 0; side < 2; side++) {
				struct run_result res = { 0 };
				char err[1024] = "";
				cli_note("sheets %" PRId64 " run %" PRIu64 ": %s...\n", sheets[s],
					r + 1, side ? "sqlite" : "statelog");
				rc = run_once(&pl, side == 0, sheets[s], seconds, calls, base, &res, err,
					      sizeof err);
				if (rc != SL_OK) {
					cli_err("bench", "%s, %" PRId64 " sheets: %s",
						side ? "sqlite" : "statelog", sheets[s],
						err[0] ? err : sl_strerror(rc));
					ex = SL_EXIT_FAIL;
					goto out;
				}
				rate[side][r] = res.calls_per_s;
				p50[side][r] = res.p50;
				p99[side][r] = res.p99;
				sp50[side][r] = res.kind_p50[CALL_STATE];
				rp50[side][r] = res.kind_p50[CALL_RECORD];
				if (side == 0)
					ev_s[r] = (double)res.log_events / res.elapsed;
			}
			ratio[r] = rate[0][r] / rate[1][r];
		}
		int R = (int)runs;
		for (int side = 0; side < 2; side++) {
			char evs[32] = "-";
			if (side == 0)
				snprintf(evs, sizeof evs, "%.0f", bench_median(ev_s, R));
			printf("%6" PRId64 "  %-9s %10.0f %9.0f %9.0f %11.0f %11.0f %12s\n", sheets[s],
			       side ? "sqlite" : "statelog", bench_median(rate[side], R),
			       bench_median(p50[side], R), bench_median(p99[side], R),
			       bench_median(sp50[side], R), bench_median(rp50[side], R), evs);
		}
		printf("%6" PRId64 "  ratio     %9.1fx  (statelog calls/s / sqlite calls/s, median of "
		       "per-run ratios)\n", sheets[s], bench_median(ratio, R));
		fflush(stdout);
	}

	struct load_result lr = { 0 };
	char err[1024] = "";
	cli_note("load() of a 100-sheet job...\n");
	if ((rc = measure_load(base, loads, &lr, err, sizeof err)) != SL_OK) {
		cli_err("bench", "load: %s", err[0] ? err : sl_strerror(rc));
		ex = SL_EXIT_FAIL;
		goto out;
	}
	printf("\nload() of a 100-sheet job (%" PRIu64 " calls): statelog p50 %.1f us, p99 %.1f us;"
	       " the original's SELECTs p50 %.1f us, p99 %.1f us\n", loads, lr.statelog_p50,
	       lr.statelog_p99, lr.orig_p50, lr.orig_p99);
out:
	for (int t = 0; t < pl.threads; t++)
		free(pl.per_thread[t]);
	bench_events_free(&b);
	return ex;
}
