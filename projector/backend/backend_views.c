/* backend_views.c: the backend calls that read the SQLite views: execution
 * history and its count, job statistics, query_jobs, the job ids of
 * list_jobs, a job's state on a cache miss, and the highest execution id.
 *
 * The views may lag the log (the projector applies events on demand), so
 * every read starts by catching them up (sl_proj_catch_up()) under proj_mu:
 * whatever was committed before the call is in the answer (with durability
 * interval or none the log's buffer is written out first).  The SQL is the
 * original's (projector/model/MODEL.md), with one refinement: history ties
 * on executed_at are broken by id, newest first, where the original leaves
 * the order to SQLite.  Statements are prepared once per connection and
 * reused, values always bound.
 */
#include "backend_internal.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "timefmt.h"

static const char *const stmt_sql[BE_N_STMT] = {
	[BE_ST_HISTORY_ALL] =
		"SELECT id, job_id, sheet_num, attempt_num, prompt, output, exit_code,"
		" duration_seconds, executed_at FROM execution_history WHERE job_id = ?1"
		" ORDER BY executed_at DESC, id DESC LIMIT ?2",
	[BE_ST_HISTORY_SHEET] =
		"SELECT id, job_id, sheet_num, attempt_num, prompt, output, exit_code,"
		" duration_seconds, executed_at FROM execution_history"
		" WHERE job_id = ?1 AND sheet_num = ?3"
		" ORDER BY executed_at DESC, id DESC LIMIT ?2",
	[BE_ST_HISTORY_COUNT] =
		"SELECT COUNT(*) FROM execution_history WHERE job_id = ?1",
	[BE_ST_STATS_JOB] =
		"SELECT total_sheets, last_completed_sheet, total_retry_count FROM jobs WHERE id = ?1",
	[BE_ST_STATS_EXEC] =
		"SELECT COUNT(*), AVG(duration_seconds),"
		" SUM(CASE WHEN exit_code = 0 THEN 1 ELSE 0 END)"
		" FROM execution_history WHERE job_id = ?1",
	[BE_ST_QUERY] =
		"SELECT id, name, status, total_sheets, last_completed_sheet, created_at,"
		" updated_at, completed_at, error_message FROM jobs"
		" WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR updated_at >= ?2)"
		" ORDER BY updated_at DESC LIMIT ?3",
	[BE_ST_JOB_IDS] =
		"SELECT id FROM jobs ORDER BY updated_at DESC",
	/* Read in the transaction views_begin_at() opens, with the position. */
	[BE_ST_MAX_EXEC_ID] = "SELECT MAX(id) FROM execution_history",
	/* A job is read in a read transaction with the position it is as of. */
	[BE_ST_VIEWS_SEQ] =
		"SELECT CAST(value AS INTEGER) FROM statelog_meta WHERE key = 'last_seq'",
	[BE_ST_BEGIN] = "BEGIN",
	[BE_ST_END] = "COMMIT",
};

static void finalize_all(sl_backend *be)
{
	for (int i = 0; i < BE_N_STMT; i++) {
		sqlite3_finalize(be->stmt[i]);
		be->stmt[i] = NULL;
	}
	be->stmt_db = NULL;
}

/* Catches the views up; proj_mu held. */
static int catch_up_locked(sl_backend *be, const char *what)
{
	int rc;
	/* With durability interval or none the log keeps recent commits in
	 * its buffer until it writes them, and the projector's reader sees
	 * only what is written: write them (without waiting for the disk).
	 * Never needed with durability always, where an append returns once
	 * it is on disk. */
	if (be->log && be->durability != SL_DURABLE_ALWAYS && (rc = sl_log_flush(be->log)) != SL_OK)
		return sl_be_fail(be, rc, "%s: writing the log's pending commits: %s", what,
				  sl_log_errmsg(be->log));
	struct sl_proj_stats st;
	rc = sl_proj_catch_up(be->proj, &st);
	if (rc != SL_OK)
		return sl_be_fail(be, rc, "%s: catching up the views: %s", what,
				  sl_proj_errmsg(be->proj));
	be->behind = st.behind;
	return SL_OK;
}

int sl_be_views_catch_up(sl_backend *be, const char *what)
{
	pthread_mutex_lock(&be->proj_mu);
	int rc = catch_up_locked(be, what);
	pthread_mutex_unlock(&be->proj_mu);
	return rc;
}

/* Takes proj_mu, catches the views up and makes sure the statements are
 * prepared on the projector's current connection.  On failure proj_mu is
 * released and the message set. */
static int views_begin(sl_backend *be, const char *what)
{
	pthread_mutex_lock(&be->proj_mu);
	int rc = catch_up_locked(be, what);
	if (rc != SL_OK)
		goto fail;
	sqlite3 *db = sl_proj_db(be->proj);
	if (db != be->stmt_db) {
		finalize_all(be);
		for (int i = 0; i < BE_N_STMT; i++) {
			if (sqlite3_prepare_v3(db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
					       &be->stmt[i], NULL) != SQLITE_OK) {
				rc = sl_be_fail(be, SL_ESQLITE, "%s: preparing a query of the views: %s",
					     what, sqlite3_errmsg(db));
				finalize_all(be);
				goto fail;
			}
		}
		be->stmt_db = db;
	}
	return SL_OK;
fail:
	pthread_mutex_unlock(&be->proj_mu);
	return rc;
}

/* Resets the statement used and releases proj_mu. */
static void views_end(sl_backend *be, sqlite3_stmt *st)
{
	if (st) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	}
	pthread_mutex_unlock(&be->proj_mu);
}

static int sql_fail(sl_backend *be, const char *what)
{
	char msg[1024];
	sl_sql_fail(msg, sizeof msg, be->stmt_db, be->db_path, what);
	return sl_be_fail(be, SL_ESQLITE, "%s", msg);
}

/* Binds text, or NULL. */
static int bind_text(sqlite3_stmt *st, int i, const char *s)
{
	return s ? sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, i);
}

/* A copy of a text column (NULL for SQL NULL).  SL_ENOMEM. */
static int col_text(sqlite3_stmt *st, int i, char **out)
{
	const unsigned char *s = sqlite3_column_text(st, i);
	*out = NULL;
	if (!s)
		return sqlite3_column_type(st, i) == SQLITE_NULL ? SL_OK : SL_ENOMEM;
	*out = strdup((const char *)s);
	return *out ? SL_OK : SL_ENOMEM;
}

/* A time column (ISO-8601 text as the views store it). */
static int col_time(sl_backend *be, const char *what, sqlite3_stmt *st, int i,
		    bool *has, int64_t *out)
{
	const char *s = (const char *)sqlite3_column_text(st, i);
	*has = s != NULL;
	*out = 0;
	if (s && sl_time_parse(out, s) != SL_OK)
		return sl_be_fail(be, SL_ECORRUPT, "%s: column %s holds '%s', not a time", what,
			       sqlite3_column_name(st, i), s);
	return SL_OK;
}

int sl_be_views_init(sl_backend *be)
{
	int rc = views_begin(be, "open");
	if (rc == SL_OK)
		views_end(be, NULL);
	return rc;
}

void sl_be_views_fini(sl_backend *be)
{
	finalize_all(be);
}

/* Runs a statement of one step (BEGIN, COMMIT) and resets it. */
static int run1(sl_backend *be, int which, const char *what)
{
	sqlite3_stmt *st = be->stmt[which];
	int s = sqlite3_step(st);
	sqlite3_reset(st);
	return s == SQLITE_DONE ? SL_OK : sql_fail(be, what);
}

/* Opens a read transaction on the views caught up (views_begin()) in which
 * they are as of seq at_least at least: a rebuild in another process may
 * copy older views in after the catch-up, which the next one brings
 * forward.  On SL_OK, proj_mu is held and the transaction open. */
static int views_begin_at(sl_backend *be, const char *what, uint64_t at_least)
{
	for (int tries = 0;; tries++) {
		int rc = views_begin(be, what);
		if (rc != SL_OK)
			return rc;
		if ((rc = run1(be, BE_ST_BEGIN, "beginning a read")) != SL_OK) {
			views_end(be, NULL);
			return rc;
		}
		sqlite3_stmt *st = be->stmt[BE_ST_VIEWS_SEQ];
		uint64_t seq = 0;
		if (sqlite3_step(st) != SQLITE_ROW) {
			rc = sql_fail(be, "reading the views' position");
		} else {
			seq = (uint64_t)sqlite3_column_int64(st, 0);
			if (seq >= at_least) {
				sqlite3_reset(st);
				return SL_OK;
			}
			if (tries == 1000)
				rc = sl_be_fail(be, SL_ELOCKED, "%s: the views stay behind the log (seq %"
						PRIu64 " < %" PRIu64 "): another process keeps "
						"replacing them", what, seq, at_least);
		}
		sqlite3_reset(st);
		run1(be, BE_ST_END, "ending a read");
		views_end(be, NULL);
		if (rc != SL_OK)
			return rc;
	}
}

int sl_be_views_load_job(sl_backend *be, const char *job_id, uint64_t at_least,
			 struct sl_job_state *out)
{
	struct sl_job_state st;
	int rc = views_begin_at(be, "load", at_least);
	if (rc != SL_OK)
		return rc;
	sl_state_init(&st);
	rc = sl_proj_load_job(&st, be->proj, job_id);
	if (rc == SL_ENOTFOUND) {
		/* Absent, or deleted: the rules refuse its events alike, but say
		 * when it was deleted. */
		sl_state_free(&st);
		sl_state_init(&st);
		rc = sl_proj_load_deleted(&st, be->proj, job_id);
		if (rc == SL_ENOTFOUND) {
			sl_state_init(&st);
			rc = SL_OK;
		} else if (rc != SL_OK) {
			sl_be_fail(be, rc, "load: job '%s': %s", job_id, sl_proj_errmsg(be->proj));
		}
	} else if (rc != SL_OK) {
		sl_be_fail(be, rc, "load: job '%s': %s", job_id, sl_proj_errmsg(be->proj));
	} else if (st.presence != SL_JOB_LIVE || !st.id) {
		/* A row in `jobs` is a live job, whatever the reader filled in. */
		st.presence = SL_JOB_LIVE;
		if (!st.id && !(st.id = strdup(job_id)))
			rc = sl_be_fail(be, SL_ENOMEM, "load: out of memory");
	}
	int end = run1(be, BE_ST_END, "load: ending the read");
	if (rc == SL_OK)
		rc = end;
	views_end(be, NULL);
	if (rc == SL_OK)
		*out = st;
	else
		sl_state_free(&st);
	return rc;
}

int sl_be_views_max_exec_id(sl_backend *be, uint64_t at_least, int64_t *out)
{
	sqlite3_stmt *seq = NULL;
	int64_t max = 0;
	/* Read as of at least seq at_least (the log's end the caller holds). */
	int rc = views_begin_at(be, "open", at_least);
	if (rc != SL_OK)
		return rc;
	sqlite3_stmt *st = be->stmt[BE_ST_MAX_EXEC_ID];
	if (sqlite3_step(st) != SQLITE_ROW) {
		rc = sql_fail(be, "open: reading the last execution id");
		goto out;
	}
	max = sqlite3_column_int64(st, 0);
	/* AUTOINCREMENT remembers ids of rows deleted since (a deleted job's
	 * history): a new id must not reuse one.  The table sqlite_sequence
	 * exists once any AUTOINCREMENT table does. */
	if (sqlite3_prepare_v2(be->stmt_db, "SELECT seq FROM sqlite_sequence"
			       " WHERE name = 'execution_history'", -1, &seq, NULL) == SQLITE_OK &&
	    sqlite3_step(seq) == SQLITE_ROW && sqlite3_column_int64(seq, 0) > max)
		max = sqlite3_column_int64(seq, 0);
	*out = max;
out:
	sqlite3_finalize(seq);
	sqlite3_reset(st);
	int end = run1(be, BE_ST_END, "open: ending the read");
	views_end(be, NULL);
	return rc == SL_OK ? end : rc;
}

int sl_be_views_job_ids(sl_backend *be, char ***out, size_t *n_out)
{
	char **ids = NULL;
	size_t n = 0, cap = 0;
	int rc = views_begin(be, "list_jobs");
	if (rc != SL_OK)
		return rc;
	sqlite3_stmt *st = be->stmt[BE_ST_JOB_IDS];
	int s;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			char **p = realloc(ids, cap * sizeof *p);
			if (!p)
				goto nomem;
			ids = p;
		}
		if (col_text(st, 0, &ids[n]) != SL_OK || !ids[n])
			goto nomem;
		n++;
	}
	if (s != SQLITE_DONE) {
		rc = sql_fail(be, "list_jobs");
		goto fail;
	}
	views_end(be, st);
	*out = ids;
	*n_out = n;
	return SL_OK;
nomem:
	rc = sl_be_fail(be, SL_ENOMEM, "list_jobs: out of memory");
fail:
	views_end(be, st);
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	return rc;
}

/* ---- execution history ------------------------------------------------- */

void sl_backend_history_free(struct sl_execution_row *rows, size_t n)
{
	for (size_t i = 0; rows && i < n; i++) {
		free(rows[i].job_id);
		free(rows[i].prompt);
		free(rows[i].output);
	}
	free(rows);
}

static int read_history_row(sl_backend *be, sqlite3_stmt *st, struct sl_execution_row *r)
{
	bool has;
	*r = (struct sl_execution_row){ 0 };
	r->id = sqlite3_column_int64(st, 0);
	r->sheet_num = sqlite3_column_int64(st, 2);
	r->attempt_num = sqlite3_column_int64(st, 3);
	r->has_exit_code = sqlite3_column_type(st, 6) != SQLITE_NULL;
	r->exit_code = r->has_exit_code ? sqlite3_column_int64(st, 6) : 0;
	r->has_duration_seconds = sqlite3_column_type(st, 7) != SQLITE_NULL;
	r->duration_seconds = r->has_duration_seconds ? sqlite3_column_double(st, 7) : 0;
	if (col_text(st, 1, &r->job_id) || col_text(st, 4, &r->prompt) ||
	    col_text(st, 5, &r->output))
		return sl_be_fail(be, SL_ENOMEM, "history: out of memory");
	return col_time(be, "history", st, 8, &has, &r->executed_at_us);
}

int sl_backend_history(struct sl_execution_row **out, size_t *n_out, sl_backend *be,
		       const char *job_id, int64_t sheet_num, int64_t limit)
{
	struct sl_execution_row *rows = NULL;
	size_t n = 0, cap = 0;
	sqlite3_stmt *st = NULL;
	int rc = sl_be_check_id(be, "history", job_id), s;
	if (rc != SL_OK)
		return rc;
	if (sheet_num < 0)
		return sl_be_fail(be, SL_EINVAL, "history: sheet %" PRId64 " is negative", sheet_num);
	/* Any sheet, as the original: a sheet a job does not have (or a job
	 * that does not exist) simply has no history. */
	if ((rc = views_begin(be, "history")) != SL_OK)
		return rc;
	st = be->stmt[sheet_num > 0 ? BE_ST_HISTORY_SHEET : BE_ST_HISTORY_ALL];
	bind_text(st, 1, job_id);
	sqlite3_bind_int64(st, 2, limit == 0 ? SL_BACKEND_HISTORY_LIMIT : limit < 0 ? -1 : limit);
	if (sheet_num > 0)
		sqlite3_bind_int64(st, 3, sheet_num);
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			struct sl_execution_row *p = realloc(rows, cap * sizeof *p);
			if (!p) {
				rc = sl_be_fail(be, SL_ENOMEM, "history: out of memory");
				goto out;
			}
			rows = p;
		}
		rc = read_history_row(be, st, &rows[n]);
		n++;            /* freed with the others, whole or not */
		if (rc != SL_OK)
			goto out;
	}
	if (s != SQLITE_DONE)
		rc = sql_fail(be, "history");
out:
	views_end(be, st);
	if (rc != SL_OK) {
		sl_backend_history_free(rows, n);
		return rc;
	}
	*out = rows;
	*n_out = n;
	return SL_OK;
}

int sl_backend_history_count(int64_t *out, sl_backend *be, const char *job_id)
{
	int rc = sl_be_check_id(be, "history_count", job_id);
	if (rc != SL_OK || (rc = views_begin(be, "history_count")) != SL_OK)
		return rc;
	sqlite3_stmt *st = be->stmt[BE_ST_HISTORY_COUNT];
	bind_text(st, 1, job_id);
	if (sqlite3_step(st) == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	else
		rc = sql_fail(be, "history_count");
	views_end(be, st);
	return rc;
}

/* ---- statistics -------------------------------------------------------- */

int sl_backend_statistics(struct sl_job_statistics *out, sl_backend *be, const char *job_id)
{
	struct sl_job_statistics r = { 0 };
	sqlite3_stmt *st;
	int rc = sl_be_check_id(be, "statistics", job_id), s;
	if (rc != SL_OK || (rc = views_begin(be, "statistics")) != SL_OK)
		return rc;
	st = be->stmt[BE_ST_STATS_JOB];
	bind_text(st, 1, job_id);
	s = sqlite3_step(st);
	if (s == SQLITE_DONE)
		goto done;      /* unknown job: the original's {} */
	if (s != SQLITE_ROW) {
		rc = sql_fail(be, "statistics");
		goto done;
	}
	r.found = true;
	r.total_sheets = sqlite3_column_int64(st, 0);
	r.completed_sheets = sqlite3_column_int64(st, 1);
	r.total_retries = sqlite3_column_int64(st, 2);
	r.success_rate = r.total_sheets > 0
		? (double)r.completed_sheets / (double)r.total_sheets * 100 : 0.0;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);

	st = be->stmt[BE_ST_STATS_EXEC];
	bind_text(st, 1, job_id);
	if (sqlite3_step(st) != SQLITE_ROW) {
		rc = sql_fail(be, "statistics");
		goto done;
	}
	r.total_executions = sqlite3_column_int64(st, 0);
	r.has_avg_duration_seconds = sqlite3_column_type(st, 1) != SQLITE_NULL;
	r.avg_duration_seconds = r.has_avg_duration_seconds ? sqlite3_column_double(st, 1) : 0;
	r.has_successful_executions = sqlite3_column_type(st, 2) != SQLITE_NULL;
	r.successful_executions = r.has_successful_executions ? sqlite3_column_int64(st, 2) : 0;
done:
	views_end(be, st);
	if (rc == SL_OK)
		*out = r;
	return rc;
}

/* ---- query_jobs -------------------------------------------------------- */

void sl_backend_summaries_free(struct sl_job_summary *rows, size_t n)
{
	for (size_t i = 0; rows && i < n; i++) {
		free(rows[i].id);
		free(rows[i].name);
		free(rows[i].error_message);
	}
	free(rows);
}

static int read_summary(sl_backend *be, sqlite3_stmt *st, struct sl_job_summary *r)
{
	bool has;
	*r = (struct sl_job_summary){ 0 };
	const char *status = (const char *)sqlite3_column_text(st, 2);
	if (sl_job_status_from_name(&r->status, status) != SL_OK)
		return sl_be_fail(be, SL_ECORRUPT, "query_jobs: jobs.status holds '%s'",
			       status ? status : "NULL");
	r->total_sheets = sqlite3_column_int64(st, 3);
	r->last_completed_sheet = sqlite3_column_int64(st, 4);
	if (col_text(st, 0, &r->id) || col_text(st, 1, &r->name) ||
	    col_text(st, 8, &r->error_message))
		return sl_be_fail(be, SL_ENOMEM, "query_jobs: out of memory");
	int rc = col_time(be, "query_jobs", st, 5, &has, &r->created_at_us);
	if (rc == SL_OK)
		rc = col_time(be, "query_jobs", st, 6, &has, &r->updated_at_us);
	if (rc == SL_OK)
		rc = col_time(be, "query_jobs", st, 7, &r->has_completed_at, &r->completed_at_us);
	return rc;
}

int sl_backend_query_jobs(struct sl_job_summary **out, size_t *n_out, sl_backend *be,
			  const struct sl_job_query *q)
{
	static const struct sl_job_query none = { 0 };
	struct sl_job_summary *rows = NULL;
	size_t n = 0, cap = 0;
	enum sl_job_status status;
	char since[SL_TIME_BUFSZ];
	int rc, s;
	if (!q)
		q = &none;
	if (q->status && sl_job_status_from_name(&status, q->status) != SL_OK)
		return sl_be_fail(be, SL_EINVAL, "query_jobs: '%s' is not a job status", q->status);
	if (q->has_since && sl_time_format(q->since_us, since, sizeof since) != SL_OK)
		return sl_be_fail(be, SL_EINVAL, "query_jobs: since %" PRId64 " is out of range",
			       q->since_us);
	if ((rc = views_begin(be, "query_jobs")) != SL_OK)
		return rc;
	sqlite3_stmt *st = be->stmt[BE_ST_QUERY];
	bind_text(st, 1, q->status);
	bind_text(st, 2, q->has_since ? since : NULL);
	sqlite3_bind_int64(st, 3, q->limit == 0 ? SL_BACKEND_QUERY_LIMIT : q->limit < 0 ? -1 : q->limit);
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			struct sl_job_summary *p = realloc(rows, cap * sizeof *p);
			if (!p) {
				rc = sl_be_fail(be, SL_ENOMEM, "query_jobs: out of memory");
				goto out;
			}
			rows = p;
		}
		rc = read_summary(be, st, &rows[n]);
		n++;
		if (rc != SL_OK)
			goto out;
	}
	if (s != SQLITE_DONE)
		rc = sql_fail(be, "query_jobs");
out:
	views_end(be, st);
	if (rc != SL_OK) {
		sl_backend_summaries_free(rows, n);
		return rc;
	}
	*out = rows;
	*n_out = n;
	return SL_OK;
}

/* ---- time travel ------------------------------------------------------- */

int sl_backend_load_at(struct sl_job_state *out, sl_backend *be, const char *job_id,
		       uint64_t seq, bool has_time, int64_t time_us)
{
	int rc = sl_be_check_id(be, "load_at", job_id);
	if (rc != SL_OK || (rc = views_begin(be, "load_at")) != SL_OK)
		return rc;
	if (has_time && (rc = sl_tt_seq_at_time(&seq, be->proj, time_us)) != SL_OK)
		sl_be_fail(be, rc, "load_at: %s", sl_proj_errmsg(be->proj));
	else if ((rc = sl_tt_load_job(out, be->proj, job_id, seq, NULL)) != SL_OK)
		sl_be_fail(be, rc, "load_at: %s", sl_proj_errmsg(be->proj));
	views_end(be, NULL);
	return rc;
}

int sl_backend_audit(sl_backend *be, const char *job_id, const struct sl_audit_filter *filter,
		     sl_audit_fn fn, void *ctx)
{
	int rc = sl_be_check_id(be, "audit", job_id);
	if (rc != SL_OK || (rc = views_begin(be, "audit")) != SL_OK)
		return rc;
	rc = sl_audit_run(be->proj, job_id, filter, fn, ctx);
	if (rc < 0)
		sl_be_fail(be, rc, "audit: %s", sl_proj_errmsg(be->proj));
	views_end(be, NULL);
	return rc;
}
