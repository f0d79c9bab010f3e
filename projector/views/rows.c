/* rows.c: the SQL side of the views (rows.h): creating the schema of
 * schema/views.sql, and writing and reading job, sheet, history and event
 * rows with statements prepared once per connection.
 *
 * Encodings, as the original writes them (projector/model/MODEL.md):
 *  - times: sl_time_format(), ISO-8601 with "+00:00", no fraction when it
 *    is zero;
 *  - JSON columns: the JSON text the state holds, unchanged (NULL and "[]"
 *    stay distinct);
 *  - booleans 1/0, validation_passed NULL when unknown;
 *  - statuses: their lower-case names; REAL columns as doubles.
 * The INSERT statements are built from the column catalogue (state.h),
 * whose order is the order of the CREATE TABLEs (checked by
 * tests/projector/test_views.c); values are always bound, never formatted
 * into SQL.
 */
#include "rows.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event_internal.h"
#include "timefmt.h"

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || !errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int sl_rows_exec(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return SL_OK;
	set_err(err, errlen, "%s", msg ? msg : sqlite3_errmsg(db));
	sqlite3_free(msg);
	return SL_ESQLITE;
}

/* ---- creating the schema ----------------------------------------------- */

int sl_rows_create(sqlite3 *db, const char *log_id_hex, int64_t now_us,
		    char *err, size_t errlen)
{
	char now[SL_TIME_BUFSZ];
	if (sl_time_format(now_us, now, sizeof now) != SL_OK) {
		set_err(err, errlen, "the clock is outside the years 0001-9999");
		return SL_EINVAL;
	}
	const char *sql = sl_views_sql;
	int rc = SL_OK;
	sqlite3_stmt *st = NULL;
	while (*sql) {
		const char *tail;
		if (sqlite3_prepare_v2(db, sql, -1, &st, &tail) != SQLITE_OK)
			goto sqlerr;
		sql = tail;
		if (!st)                /* a comment or blank rest */
			continue;
		int i = sqlite3_bind_parameter_index(st, ":now");
		if (i > 0 && sqlite3_bind_text(st, i, now, -1, SQLITE_TRANSIENT) != SQLITE_OK)
			goto sqlerr;
		i = sqlite3_bind_parameter_index(st, ":log_id");
		if (i > 0 && sqlite3_bind_text(st, i, log_id_hex, -1, SQLITE_TRANSIENT) != SQLITE_OK)
			goto sqlerr;
		if (sqlite3_step(st) != SQLITE_DONE)
			goto sqlerr;
		sqlite3_finalize(st);
		st = NULL;
	}
	goto out;
sqlerr:
	set_err(err, errlen, "creating the views: %s", sqlite3_errmsg(db));
	rc = SL_ESQLITE;
out:
	sqlite3_finalize(st);
	return rc;
}

/* ---- statelog_meta ----------------------------------------------------- */

int sl_rows_read_meta(sqlite3 *db, struct sl_rows_meta *out, char *err, size_t errlen)
{
	struct sl_rows_meta m = { 0 };
	sqlite3_stmt *st = NULL;
	int rc = SL_OK;
	if (sqlite3_prepare_v2(db, "SELECT count(*), count(CASE WHEN name = 'statelog_meta' "
			       "THEN 1 END) FROM sqlite_master WHERE type = 'table'",
			       -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW)
		goto sqlerr;
	m.n_tables = sqlite3_column_int64(st, 0);
	m.has_meta = sqlite3_column_int64(st, 1) > 0;
	sqlite3_finalize(st);
	st = NULL;
	if (m.has_meta) {
		if (sqlite3_prepare_v2(db, "SELECT key, value FROM statelog_meta", -1, &st,
				       NULL) != SQLITE_OK)
			goto sqlerr;
		int s;
		while ((s = sqlite3_step(st)) == SQLITE_ROW) {
			const char *k = (const char *)sqlite3_column_text(st, 0);
			if (!k)
				continue;
			if (strcmp(k, "log_id") == 0) {
				const char *v = (const char *)sqlite3_column_text(st, 1);
				snprintf(m.log_id, sizeof m.log_id, "%s", v ? v : "");
			} else if (strcmp(k, "views_version") == 0) {
				m.views_version = sqlite3_column_int64(st, 1);
			} else if (strcmp(k, "last_seq") == 0) {
				m.last_seq = (uint64_t)sqlite3_column_int64(st, 1);
			} else if (strcmp(k, "last_commit_crc") == 0) {
				m.last_crc = (uint32_t)sqlite3_column_int64(st, 1);
			} else if (strcmp(k, "as_of_seq") == 0) {
				m.as_of_seq = (uint64_t)sqlite3_column_int64(st, 1);
			} else if (strcmp(k, "foreign_writes") == 0) {
				m.foreign_writes = sqlite3_column_int64(st, 1);
			}
		}
		if (s != SQLITE_DONE)
			goto sqlerr;
	}
	*out = m;
	goto out;
sqlerr:
	set_err(err, errlen, "reading statelog_meta: %s", sqlite3_errmsg(db));
	rc = SL_ESQLITE;
out:
	sqlite3_finalize(st);
	return rc;
}

/* ---- preparing --------------------------------------------------------- */

/* Appends to a statement being built; the catalogue's names are short and
 * fixed, so a fixed buffer is enough (checked). */
struct sqlbuf {
	char s[4096];
	size_t n;
	bool overflow;
};

static void sb_add(struct sqlbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_add(struct sqlbuf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(b->s + b->n, sizeof b->s - b->n, fmt, ap);
	va_end(ap);
	if (k < 0 || (size_t)k >= sizeof b->s - b->n)
		b->overflow = true;
	else
		b->n += (size_t)k;
}

/* INSERT INTO table (prefix, cols...) VALUES (?...) ON CONFLICT (key) DO
 * UPDATE SET every column that is not part of the key. */
static void build_upsert(struct sqlbuf *b, const char *table, const char *prefix,
			 const struct sl_state_column *cols, size_t n, const char *conflict)
{
	sb_add(b, "INSERT INTO %s (%s", table, prefix ? prefix : "");
	for (size_t i = 0; i < n; i++)
		sb_add(b, "%s%s", i || prefix ? ", " : "", cols[i].name);
	sb_add(b, ") VALUES (%s", prefix ? "?, " : "");
	for (size_t i = 0; i < n; i++)
		sb_add(b, "%s?", i ? ", " : "");
	sb_add(b, ") ON CONFLICT (%s) DO UPDATE SET ", conflict);
	bool first = true;
	for (size_t i = 0; i < n; i++) {
		if (cols[i].key)
			continue;
		sb_add(b, "%s%s = excluded.%s", first ? "" : ", ", cols[i].name, cols[i].name);
		first = false;
	}
}

/* INSERT ... VALUES row, row, ... (n rows). */
static void build_insert(struct sqlbuf *b, const char *insert, const char *row, int n)
{
	sb_add(b, "%s", insert);
	for (int i = 0; i < n; i++)
		sb_add(b, "%s%s", i ? ", " : "", row);
}

#define EVENT_INSERT "INSERT INTO statelog_events (seq, time, job_id, sheet_num, type) VALUES "
#define EVENT_ROW "(?, ?, ?, ?, ?)"
#define EXEC_INSERT "INSERT INTO execution_history (id, job_id, sheet_num, attempt_num, " \
	"prompt, output, exit_code, duration_seconds, executed_at) VALUES "
#define EXEC_ROW "(?, ?, ?, ?, ?, ?, ?, ?, ?)"

static void build_select(struct sqlbuf *b, const char *table, const struct sl_state_column *cols,
			 size_t n, const char *where)
{
	sb_add(b, "SELECT ");
	for (size_t i = 0; i < n; i++)
		sb_add(b, "%s%s", i ? ", " : "", cols[i].name);
	sb_add(b, " FROM %s WHERE %s", table, where);
}

static int prep(struct sl_rows *v, sqlite3_stmt **out, const char *sql)
{
	if (sqlite3_prepare_v3(v->db, sql, -1, SQLITE_PREPARE_PERSISTENT, out, NULL) == SQLITE_OK)
		return SL_OK;
	set_err(v->errmsg, sizeof v->errmsg, "preparing \"%.60s...\": %s", sql,
		sqlite3_errmsg(v->db));
	return SL_ESQLITE;
}

int sl_rows_prepare(struct sl_rows *v, sqlite3 *db)
{
	*v = (struct sl_rows){ .db = db };
	struct sqlbuf job = { .n = 0 }, sheet = { .n = 0 }, get_job = { .n = 0 },
		      get_sheets = { .n = 0 };
	build_upsert(&job, "jobs", NULL, sl_state_job_columns, SL_STATE_N_JOB_COLUMNS, "id");
	build_upsert(&sheet, "sheets", "job_id", sl_state_sheet_columns,
		     SL_STATE_N_SHEET_COLUMNS, "job_id, sheet_num");
	build_select(&get_job, "jobs", sl_state_job_columns, SL_STATE_N_JOB_COLUMNS, "id = ?");
	build_select(&get_sheets, "sheets", sl_state_sheet_columns, SL_STATE_N_SHEET_COLUMNS,
		     "job_id = ? ORDER BY sheet_num");
	struct sqlbuf event = { .n = 0 }, events = { .n = 0 }, exec = { .n = 0 }, execs = { .n = 0 };
	build_insert(&event, EVENT_INSERT, EVENT_ROW, 1);
	build_insert(&events, EVENT_INSERT, EVENT_ROW, SL_ROWS_EVENTS_PER_STMT);
	build_insert(&exec, EXEC_INSERT, EXEC_ROW, 1);
	build_insert(&execs, EXEC_INSERT, EXEC_ROW, SL_ROWS_EXECS_PER_STMT);
	if (job.overflow || sheet.overflow || get_job.overflow || get_sheets.overflow ||
	    event.overflow || events.overflow || exec.overflow || execs.overflow) {
		set_err(v->errmsg, sizeof v->errmsg, "a statement outgrew its buffer");
		return SL_EINVAL;
	}
	int rc;
	if ((rc = prep(v, &v->put_job, job.s)) ||
	    (rc = prep(v, &v->put_sheet, sheet.s)) ||
	    (rc = prep(v, &v->get_job, get_job.s)) ||
	    (rc = prep(v, &v->get_sheets, get_sheets.s)) ||
	    (rc = prep(v, &v->get_deleted, "SELECT d.time FROM statelog_events d WHERE "
		       "d.job_id = ?1 AND d.type = 'job_deleted' AND EXISTS (SELECT 1 FROM "
		       "statelog_events c WHERE c.job_id = ?1 AND c.type = 'job_created' AND "
		       "c.seq < d.seq) ORDER BY d.seq DESC LIMIT 1")) ||
	    (rc = prep(v, &v->put_exec, exec.s)) ||
	    (rc = prep(v, &v->put_execs, execs.s)) ||
	    (rc = prep(v, &v->put_event, event.s)) ||
	    (rc = prep(v, &v->put_events, events.s)) ||
	    (rc = prep(v, &v->del_history, "DELETE FROM execution_history WHERE job_id = ?")) ||
	    (rc = prep(v, &v->del_sheets, "DELETE FROM sheets WHERE job_id = ?")) ||
	    (rc = prep(v, &v->del_job, "DELETE FROM jobs WHERE id = ?")) ||
	    (rc = prep(v, &v->set_meta, "UPDATE statelog_meta SET value = ? WHERE key = ?"))) {
		sl_rows_finalize(v);
		return rc;
	}
	/* Extras: only where the table is (views version 2 and up). */
	if (sqlite3_table_column_metadata(db, NULL, "statelog_extra", "fields", NULL, NULL, NULL,
					  NULL, NULL) == SQLITE_OK &&
	    ((rc = prep(v, &v->put_extra, "INSERT INTO statelog_extra (job_id, sheet_num, "
			"fields) VALUES (?1, ?2, ?3) ON CONFLICT (job_id, sheet_num) DO UPDATE "
			"SET fields = excluded.fields")) ||
	     (rc = prep(v, &v->get_extra, "SELECT sheet_num, fields FROM statelog_extra WHERE "
			"job_id = ? ORDER BY sheet_num")) ||
	     (rc = prep(v, &v->del_extra, "DELETE FROM statelog_extra WHERE job_id = ?")))) {
		sl_rows_finalize(v);
		return rc;
	}
	return SL_OK;
}

void sl_rows_finalize(struct sl_rows *v)
{
	sqlite3_stmt **all[] = {
		&v->put_job, &v->put_sheet, &v->put_exec, &v->put_execs, &v->put_event,
		&v->put_events, &v->del_history,
		&v->del_sheets, &v->del_job, &v->get_job, &v->get_sheets, &v->get_deleted,
		&v->set_meta, &v->put_extra, &v->get_extra, &v->del_extra,
	};
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
		sqlite3_finalize(*all[i]);
		*all[i] = NULL;
	}
}

/* ---- writing ----------------------------------------------------------- */

/* Steps a statement that returns no rows, then resets it and clears its
 * bindings (so no borrowed text outlives the call). */
static int run(struct sl_rows *v, sqlite3_stmt *st, const char *what)
{
	int s = sqlite3_step(st);
	int rc = SL_OK;
	if (s != SQLITE_DONE) {
		set_err(v->errmsg, sizeof v->errmsg, "%s: %s", what, sqlite3_errmsg(v->db));
		rc = SL_ESQLITE;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}

static int bind_fail(struct sl_rows *v, sqlite3_stmt *st, const char *what)
{
	set_err(v->errmsg, sizeof v->errmsg, "%s: binding: %s", what, sqlite3_errmsg(v->db));
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return SL_ESQLITE;
}

/* Binds the catalogue columns of row to parameters first.. of st.  Times
 * are formatted into tbuf (one slot per column), which must outlive the
 * step.  SL_EINVAL (message set) for a time that cannot be written. */
static int bind_row(struct sl_rows *v, sqlite3_stmt *st, int first,
		    const struct sl_state_column *cols, size_t n, const void *row,
		    char (*tbuf)[SL_TIME_BUFSZ], const char *what)
{
	for (size_t i = 0; i < n; i++) {
		const struct sl_state_column *c = &cols[i];
		struct sl_value val;
		sl_state_column_get(&val, c, row);
		int p = first + (int)i, s;
		if (val.null) {
			s = sqlite3_bind_null(st, p);
		} else {
			switch (c->type) {
			case SL_COL_TEXT:
			case SL_COL_JOB_STATUS:
			case SL_COL_SHEET_STATUS:
				s = sqlite3_bind_text(st, p, val.s, -1, SQLITE_STATIC);
				break;
			case SL_COL_REAL:
				s = sqlite3_bind_double(st, p, val.d);
				break;
			case SL_COL_TIME:
				if (sl_time_format(val.i, tbuf[i], SL_TIME_BUFSZ) != SL_OK) {
					set_err(v->errmsg, sizeof v->errmsg,
						"%s: %s = %lld microseconds is outside the years "
						"0001-9999", what, c->name, (long long)val.i);
					sqlite3_reset(st);
					sqlite3_clear_bindings(st);
					return SL_EINVAL;
				}
				s = sqlite3_bind_text(st, p, tbuf[i], -1, SQLITE_STATIC);
				break;
			default:        /* INT, BOOL (0/1) */
				s = sqlite3_bind_int64(st, p, val.i);
				break;
			}
		}
		if (s != SQLITE_OK)
			return bind_fail(v, st, what);
	}
	return SL_OK;
}

/* Writes the extra fields of job_id's job (sheet 0) or of one of its
 * sheets.  NULL extra: none, nothing written (the rules never take an
 * extra back but with the job, whose rows all go). */
static int put_extra(struct sl_rows *v, const char *job_id, int64_t sheet, const char *extra)
{
	if (!extra)
		return SL_OK;
	if (!v->put_extra) {
		set_err(v->errmsg, sizeof v->errmsg, "job %s: extra fields, and no statelog_extra "
			"table to hold them", job_id);
		return SL_EINVAL;
	}
	if (sqlite3_bind_text(v->put_extra, 1, job_id, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(v->put_extra, 2, sheet) != SQLITE_OK ||
	    sqlite3_bind_text(v->put_extra, 3, extra, -1, SQLITE_STATIC) != SQLITE_OK)
		return bind_fail(v, v->put_extra, "writing extra fields");
	return run(v, v->put_extra, "writing extra fields");
}

int sl_rows_put_job(struct sl_rows *v, const struct sl_job_state *st)
{
	char tbuf[SL_STATE_N_JOB_COLUMNS][SL_TIME_BUFSZ];
	int rc = bind_row(v, v->put_job, 1, sl_state_job_columns, SL_STATE_N_JOB_COLUMNS, st,
			  tbuf, "writing a jobs row");
	if (rc == SL_OK)
		rc = run(v, v->put_job, "writing a jobs row");
	return rc ? rc : put_extra(v, st->id, 0, st->extra);
}

int sl_rows_put_sheet(struct sl_rows *v, const char *job_id, const struct sl_sheet_state *sh)
{
	char tbuf[SL_STATE_N_SHEET_COLUMNS][SL_TIME_BUFSZ];
	if (sqlite3_bind_text(v->put_sheet, 1, job_id, -1, SQLITE_STATIC) != SQLITE_OK)
		return bind_fail(v, v->put_sheet, "writing a sheets row");
	int rc = bind_row(v, v->put_sheet, 2, sl_state_sheet_columns, SL_STATE_N_SHEET_COLUMNS,
			  sh, tbuf, "writing a sheets row");
	if (rc == SL_OK)
		rc = run(v, v->put_sheet, "writing a sheets row");
	return rc ? rc : put_extra(v, job_id, sh->sheet_num, sh->extra);
}

/* Binds an optional int64 / double / string: absent is NULL. */
static int bind_opt_i64(sqlite3_stmt *st, int p, protobuf_c_boolean has, int64_t x)
{
	return has ? sqlite3_bind_int64(st, p, x) : sqlite3_bind_null(st, p);
}

int sl_rows_put_executions(struct sl_rows *v, const struct sl_rows_exec *rows, size_t n)
{
	const char *what = "writing execution_history rows";
	while (n > 0) {
		size_t k = n >= SL_ROWS_EXECS_PER_STMT ? SL_ROWS_EXECS_PER_STMT : 1;
		sqlite3_stmt *st = k > 1 ? v->put_execs : v->put_exec;
		for (size_t i = 0; i < k; i++) {
			const sl_event *ev = rows[i].ev;
			const Statelog__ExecutionRecorded *x = ev->execution_recorded;
			int b = 9 * (int)i;
			if (bind_opt_i64(st, b + 1, x->has_execution_id, x->execution_id) ||
			    sqlite3_bind_text(st, b + 2, ev->job_id, -1, SQLITE_STATIC) ||
			    bind_opt_i64(st, b + 3, x->has_sheet_num, x->sheet_num) ||
			    bind_opt_i64(st, b + 4, x->has_attempt_num, x->attempt_num) ||
			    sqlite3_bind_text64(st, b + 5, x->prompt, rows[i].prompt_len,
						SQLITE_STATIC, SQLITE_UTF8) ||
			    sqlite3_bind_text64(st, b + 6, x->output, rows[i].output_len,
						SQLITE_STATIC, SQLITE_UTF8) ||
			    bind_opt_i64(st, b + 7, x->has_exit_code, x->exit_code) ||
			    (x->has_duration_seconds
				     ? sqlite3_bind_double(st, b + 8, x->duration_seconds)
				     : sqlite3_bind_null(st, b + 8)) ||
			    sqlite3_bind_text(st, b + 9, rows[i].time, -1, SQLITE_STATIC))
				return bind_fail(v, st, what);
		}
		int rc = run(v, st, what);
		if (rc != SL_OK)
			return rc;
		rows += k;
		n -= k;
	}
	return SL_OK;
}

int sl_rows_put_events(struct sl_rows *v, const struct sl_rows_event *rows, size_t n)
{
	const char *what = "writing statelog_events rows";
	while (n > 0) {
		size_t k = n >= SL_ROWS_EVENTS_PER_STMT ? SL_ROWS_EVENTS_PER_STMT : 1;
		sqlite3_stmt *st = k > 1 ? v->put_events : v->put_event;
		for (size_t i = 0; i < k; i++) {
			const struct sl_rows_event *r = &rows[i];
			int b = 5 * (int)i;
			if (sqlite3_bind_int64(st, b + 1, (sqlite3_int64)r->seq) ||
			    sqlite3_bind_text(st, b + 2, r->time, -1, SQLITE_STATIC) ||
			    sqlite3_bind_text(st, b + 3, r->job_id, -1, SQLITE_STATIC) ||
			    bind_opt_i64(st, b + 4, r->sheet != 0, r->sheet) ||
			    sqlite3_bind_text(st, b + 5, r->type, -1, SQLITE_STATIC))
				return bind_fail(v, st, what);
		}
		int rc = run(v, st, what);
		if (rc != SL_OK)
			return rc;
		rows += k;
		n -= k;
	}
	return SL_OK;
}

int sl_rows_delete_job(struct sl_rows *v, const char *job_id)
{
	sqlite3_stmt *del[] = { v->del_history, v->del_sheets, v->del_job, v->del_extra };
	for (size_t i = 0; i < 4 && del[i]; i++) {
		if (sqlite3_bind_text(del[i], 1, job_id, -1, SQLITE_STATIC) != SQLITE_OK)
			return bind_fail(v, del[i], "deleting a job");
		int rc = run(v, del[i], "deleting a job");
		if (rc)
			return rc;
	}
	return SL_OK;
}

int sl_rows_set_position(struct sl_rows *v, uint64_t seq, uint32_t crc)
{
	sqlite3_stmt *st = v->set_meta;
	const char *what = "writing the position";
	int rc;
	if (sqlite3_bind_int64(st, 1, (sqlite3_int64)seq) ||
	    sqlite3_bind_text(st, 2, "last_seq", -1, SQLITE_STATIC))
		return bind_fail(v, st, what);
	if ((rc = run(v, st, what)))
		return rc;
	if (sqlite3_bind_int64(st, 1, crc) ||
	    sqlite3_bind_text(st, 2, "last_commit_crc", -1, SQLITE_STATIC))
		return bind_fail(v, st, what);
	return run(v, st, what);
}

/* ---- reading ----------------------------------------------------------- */

/* Reads the columns of the current result row of st into row.  Text is
 * allocated first and handed to the row by sl_state_column_put(). */
static int read_row(struct sl_rows *v, sqlite3_stmt *st, const struct sl_state_column *cols,
		    size_t n, void *row, const char *job_id)
{
	for (size_t i = 0; i < n; i++) {
		const struct sl_state_column *c = &cols[i];
		struct sl_value val = { .null = sqlite3_column_type(st, (int)i) == SQLITE_NULL };
		char *owned = NULL;
		if (val.null && !c->nullable) {
			set_err(v->errmsg, sizeof v->errmsg, "job %s: %s is NULL", job_id, c->name);
			return SL_ECORRUPT;
		}
		if (!val.null) {
			const char *text = (const char *)sqlite3_column_text(st, (int)i);
			switch (c->type) {
			case SL_COL_TEXT:
				if (!text || !(owned = strdup(text)))
					return SL_ENOMEM;
				break;
			case SL_COL_REAL:
				val.d = sqlite3_column_double(st, (int)i);
				break;
			case SL_COL_TIME:
				if (!text || sl_time_parse(&val.i, text) != SL_OK)
					goto bad;
				break;
			case SL_COL_JOB_STATUS: {
				enum sl_job_status s;
				if (sl_job_status_from_name(&s, text) != SL_OK)
					goto bad;
				val.i = s;
				break;
			}
			case SL_COL_SHEET_STATUS: {
				enum sl_sheet_status s;
				if (sl_sheet_status_from_name(&s, text) != SL_OK)
					goto bad;
				val.i = s;
				break;
			}
			default:        /* INT, BOOL */
				val.i = sqlite3_column_int64(st, (int)i);
				break;
			}
		}
		sl_state_column_put(c, row, &val, owned);
		continue;
bad:
		set_err(v->errmsg, sizeof v->errmsg, "job %s: %s holds \"%.40s\", not what statelog "
			"writes", job_id, c->name, (const char *)sqlite3_column_text(st, (int)i));
		return SL_ECORRUPT;
	}
	return SL_OK;
}

int sl_rows_load_deleted(struct sl_rows *v, const char *job_id, struct sl_job_state *out)
{
	int rc = SL_ENOTFOUND, s;
	if (sqlite3_bind_text(v->get_deleted, 1, job_id, -1, SQLITE_STATIC) != SQLITE_OK)
		goto sqlerr;
	s = sqlite3_step(v->get_deleted);
	if (s == SQLITE_ROW) {
		int64_t us;
		const char *t = (const char *)sqlite3_column_text(v->get_deleted, 0);
		if (!t || sl_time_parse(&us, t) != SL_OK) {
			set_err(v->errmsg, sizeof v->errmsg, "job %s: the time of its deletion "
				"'%s' in statelog_events", job_id, t ? t : "NULL");
			rc = SL_ECORRUPT;
			goto out;
		}
		sl_state_init(out);
		if (!(out->id = strdup(job_id))) {
			rc = SL_ENOMEM;
			goto out;
		}
		out->presence = SL_JOB_DELETED;
		out->updated_at_us = us;
		rc = SL_OK;
		goto out;
	}
	if (s == SQLITE_DONE)
		goto out;
sqlerr:
	set_err(v->errmsg, sizeof v->errmsg, "reading job %s: %s", job_id, sqlite3_errmsg(v->db));
	rc = SL_ESQLITE;
out:
	sqlite3_reset(v->get_deleted);
	sqlite3_clear_bindings(v->get_deleted);
	return rc;
}

/* Reads the extra fields of job_id's job and sheets into st. */
static int read_extras(struct sl_rows *v, const char *job_id, struct sl_job_state *st)
{
	sqlite3_stmt *q = v->get_extra;
	int rc = SL_OK, s = SQLITE_DONE;
	if (sqlite3_bind_text(q, 1, job_id, -1, SQLITE_STATIC) != SQLITE_OK)
		return bind_fail(v, q, "reading extra fields");
	while (rc == SL_OK && (s = sqlite3_step(q)) == SQLITE_ROW) {
		int64_t n = sqlite3_column_int64(q, 0);
		const char *text = (const char *)sqlite3_column_text(q, 1);
		struct sl_sheet_state *sh = n ? sl_state_find_sheet(st, n) : NULL;
		char **slot = n ? (sh ? &sh->extra : NULL) : &st->extra;
		if (!slot) {
			set_err(v->errmsg, sizeof v->errmsg, "job %s: extra fields of sheet %lld, "
				"which has no row", job_id, (long long)n);
			rc = SL_ECORRUPT;
		} else if (!text) {
			set_err(v->errmsg, sizeof v->errmsg, "job %s: extra fields NULL", job_id);
			rc = SL_ECORRUPT;
		} else if (!(*slot = strdup(text))) {
			rc = SL_ENOMEM;
		}
	}
	if (rc == SL_OK && s != SQLITE_DONE) {
		set_err(v->errmsg, sizeof v->errmsg, "reading the extra fields of job %s: %s",
			job_id, sqlite3_errmsg(v->db));
		rc = SL_ESQLITE;
	}
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	return rc;
}

int sl_rows_load_job(struct sl_rows *v, const char *job_id, struct sl_job_state *out)
{
	struct sl_job_state st;
	sl_state_init(&st);
	int rc = SL_OK, s;
	if (sqlite3_bind_text(v->get_job, 1, job_id, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(v->get_sheets, 1, job_id, -1, SQLITE_STATIC) != SQLITE_OK)
		goto sqlerr;
	s = sqlite3_step(v->get_job);
	if (s == SQLITE_DONE) {
		rc = SL_ENOTFOUND;
		goto out;
	}
	if (s != SQLITE_ROW)
		goto sqlerr;
	if ((rc = read_row(v, v->get_job, sl_state_job_columns, SL_STATE_N_JOB_COLUMNS, &st,
			   job_id)))
		goto out;
	st.presence = SL_JOB_LIVE;
	while ((s = sqlite3_step(v->get_sheets)) == SQLITE_ROW) {
		struct sl_sheet_state *sh;
		int64_t n = sqlite3_column_int64(v->get_sheets, 0);
		if ((rc = sl_state_add_sheet(&sh, &st, n)) == SL_EINVAL) {
			set_err(v->errmsg, sizeof v->errmsg, "job %s: a sheet numbered %lld",
				job_id, (long long)n);
			rc = SL_ECORRUPT;
		}
		if (rc || (rc = read_row(v, v->get_sheets, sl_state_sheet_columns,
					 SL_STATE_N_SHEET_COLUMNS, sh, job_id)))
			goto out;
	}
	if (s != SQLITE_DONE)
		goto sqlerr;
	if (v->get_extra && (rc = read_extras(v, job_id, &st)) != SL_OK)
		goto out;
	goto out;
sqlerr:
	set_err(v->errmsg, sizeof v->errmsg, "reading job %s: %s", job_id, sqlite3_errmsg(v->db));
	rc = SL_ESQLITE;
out:
	sqlite3_reset(v->get_job);
	sqlite3_reset(v->get_sheets);
	sqlite3_clear_bindings(v->get_job);
	sqlite3_clear_bindings(v->get_sheets);
	if (rc == SL_OK)
		*out = st;
	else
		sl_state_free(&st);
	return rc;
}
