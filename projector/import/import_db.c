/* import_db.c: the original backend's SQLite database as an import source
 * (import.h): which schema version it is, its jobs and sheets rows read
 * into job states with every value checked, its history rows as
 * execution_recorded events, and the comparison of a projection with it.
 *
 * Versions (projector/model/MODEL.md): v1 created everything; v2 added
 * jobs.config_path; v3 the sheets' execution_duration_seconds, exit_signal
 * and exit_reason; v4 renamed first_attempt_success to
 * success_without_retry.  The version is read from the schema_version rows
 * and from the columns present; where they disagree the columns win (they
 * are what can be read) and the report says so.  A column a version lacks
 * reads as NULL, which is what the original's load() makes of it.
 *
 * A row is damaged (SL_ECORRUPT, located by job, sheet, history id and
 * column) when a value cannot be what the original writes: a NULL in a NOT
 * NULL column, a value of the wrong type, an unparsable timestamp or one
 * not in the original's exact form (the projection would then hold other
 * text), an unknown status, a JSON column that is not JSON, a boolean other
 * than 0/1, a sheet_num outside 1..total_sheets of its job, a sheet or
 * history row whose job does not exist, an empty job id, a negative
 * total_sheets, text holding a NUL byte.
 */
#include "import_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "event_internal.h"
#include "event_json_internal.h"
#include "model_internal.h"
#include "timefmt.h"

static const char *const v3_columns[3] = {
	"execution_duration_seconds", "exit_signal", "exit_reason",
};

/* execution_history as the views have it, and as it is read (same order). */
static const char *const history_columns[] = {
	"id", "job_id", "sheet_num", "attempt_num", "prompt", "output",
	"exit_code", "duration_seconds", "executed_at",
};
#define N_HISTORY_COLUMNS (sizeof history_columns / sizeof history_columns[0])
enum { H_ID, H_JOB, H_SHEET, H_ATTEMPT, H_PROMPT, H_OUTPUT, H_EXIT, H_DURATION, H_AT };

static int sql_fail(struct sl_import *imp, const char *what)
{
	char msg[1024];
	sl_sql_fail(msg, sizeof msg, imp->src, imp->src_path, what);
	return sl_imp_fail(imp, SL_ESQLITE, "%s", msg);
}

static const char *type_name(int t)
{
	switch (t) {
	case SQLITE_INTEGER: return "an integer";
	case SQLITE_FLOAT: return "a real";
	case SQLITE_TEXT: return "text";
	case SQLITE_BLOB: return "a blob";
	default: return "NULL";
	}
}

/* Column i of the current row as text for a message. */
static void column_text(sqlite3_stmt *s, int i, char *buf, size_t len)
{
	switch (sqlite3_column_type(s, i)) {
	case SQLITE_NULL: snprintf(buf, len, "NULL"); break;
	case SQLITE_INTEGER: snprintf(buf, len, "%lld", sqlite3_column_int64(s, i)); break;
	case SQLITE_FLOAT: snprintf(buf, len, "%.17g", sqlite3_column_double(s, i)); break;
	case SQLITE_BLOB: snprintf(buf, len, "(a blob of %d bytes)", sqlite3_column_bytes(s, i)); break;
	default: sl_imp_copy_field(buf, len, (const char *)sqlite3_column_text(s, i)); break;
	}
}

/* Column i of the current row as the value of state column c.  On
 * SL_EINVAL why says what is wrong.  *owned is the text a TEXT column
 * takes over. */
/* What db_get() changed of a value it read (the caller says so). */
enum db_note {
	DB_AS_IS = 0,
	DB_TIME_NORMALIZED,    /* another form of the same instant */
	DB_EMPTY_JSON_NULL,    /* '' in a JSON column: NULL, as the original's load() reads it */
	DB_NUL_REPLACED,       /* text holding NUL: each as U+FFFD (events carry C strings) */
};

/* Text cell i as events carry it: the text, or a copy with each NUL as
 * U+FFFD in *fixed (freed by the caller), *nuls their number. */
static const char *cell_text(sqlite3_stmt *s, int i, char **fixed, size_t *nuls)
{
	const char *text = (const char *)sqlite3_column_text(s, i);
	*fixed = NULL;
	*nuls = 0;
	if (!text)
		return NULL;
	size_t n = (size_t)sqlite3_column_bytes(s, i);
	if (strlen(text) == n)
		return text;
	return *fixed = sl_text_nul_as_fffd(text, n, nuls);
}

static int db_get(const struct sl_state_column *c, sqlite3_stmt *s, int i,
		  struct sl_value *v, char **owned, enum db_note *note, char *why, size_t wl)
{
	int t = sqlite3_column_type(s, i);
	*v = (struct sl_value){ 0 };
	*owned = NULL;
	*note = DB_AS_IS;
	bool normalized = false;
	if (t == SQLITE_NULL) {
		if (!c->nullable) {
			snprintf(why, wl, "NULL in a NOT NULL column");
			return SL_EINVAL;
		}
		v->null = true;
		return SL_OK;
	}
	const char *text = NULL;
	if (t == SQLITE_TEXT) {
		char *fixed;
		size_t nuls;
		if (!(text = cell_text(s, i, &fixed, &nuls)))
			return SL_ENOMEM;
		if (fixed) {
			/* A plain text keeps its place with U+FFFD for each NUL,
			 * said; an id, a JSON document (where Python's json too
			 * refuses a raw NUL), a status or a number is damaged. */
			if (c->type != SL_COL_TEXT || c->key || c->json) {
				free(fixed);
				snprintf(why, wl, "text holding a NUL byte");
				return SL_EINVAL;
			}
			*owned = fixed;
			*note = DB_NUL_REPLACED;
			return SL_OK;
		}
	}
	switch (c->type) {
	case SL_COL_TEXT:
		if (t != SQLITE_TEXT)
			break;
		if (c->json && !text[0] && c->nullable) {
			/* The original writes json.dumps() or NULL, and reads
			 * '' back as None (its load() tests the text's truth). */
			v->null = true;
			*note = DB_EMPTY_JSON_NULL;
			return SL_OK;
		}
		if (c->json && !sl_imp_valid_json(text, strlen(text), why, wl))
			return SL_EINVAL;
		if (!(*owned = strdup(text)))
			return SL_ENOMEM;
		return SL_OK;
	case SL_COL_INT:
		if (t != SQLITE_INTEGER)
			break;
		v->i = sqlite3_column_int64(s, i);
		return SL_OK;
	case SL_COL_BOOL:
		if (t != SQLITE_INTEGER)
			break;
		v->i = sqlite3_column_int64(s, i);
		if (v->i != 0 && v->i != 1) {
			snprintf(why, wl, "a boolean other than 0 or 1");
			return SL_EINVAL;
		}
		return SL_OK;
	case SL_COL_REAL:
		if (t != SQLITE_FLOAT && t != SQLITE_INTEGER)
			break;
		v->d = sqlite3_column_double(s, i);
		return SL_OK;
	case SL_COL_TIME:
		if (t != SQLITE_TEXT)
			break;
	{
		int rc = sl_imp_parse_time(text, true, &v->i, &normalized, why, wl);
		if (rc == SL_OK && normalized)
			*note = DB_TIME_NORMALIZED;
		return rc;
	}
	case SL_COL_JOB_STATUS: {
		enum sl_job_status js;
		if (t != SQLITE_TEXT)
			break;
		if (sl_job_status_from_name(&js, text) != SL_OK) {
			snprintf(why, wl, "unknown job status");
			return SL_EINVAL;
		}
		v->i = js;
		return SL_OK;
	}
	case SL_COL_SHEET_STATUS: {
		enum sl_sheet_status ss;
		if (t != SQLITE_TEXT)
			break;
		if (sl_sheet_status_from_name(&ss, text) != SL_OK) {
			snprintf(why, wl, "unknown sheet status");
			return SL_EINVAL;
		}
		v->i = ss;
		return SL_OK;
	}
	}
	static const char *const want[] = {
		[SL_COL_TEXT] = "text", [SL_COL_INT] = "an integer", [SL_COL_REAL] = "a number",
		[SL_COL_BOOL] = "0 or 1", [SL_COL_TIME] = "a timestamp",
		[SL_COL_JOB_STATUS] = "a status", [SL_COL_SHEET_STATUS] = "a status",
	};
	snprintf(why, wl, "expected %s, found %s", want[c->type], type_name(t));
	return SL_EINVAL;
}

/* A damaged value: the problem located at w, column col, value from s[i]. */
static int damaged_value(struct sl_import *imp, struct sl_import_problem *w, const char *col,
			 sqlite3_stmt *s, int i, const char *why)
{
	sl_imp_copy_field(w->column, sizeof w->column, col);
	column_text(s, i, w->value, sizeof w->value);
	return sl_imp_damage(imp, w, "%s ('%s')", why, w->value);
}

/* ---- what the database is ---------------------------------------------- */

static int has_table(struct sl_import *imp, const char *table, bool *out)
{
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(imp->src, "SELECT 1 FROM sqlite_master WHERE type = 'table' "
			       "AND name = ?", -1, &s, NULL) != SQLITE_OK)
		return sql_fail(imp, "reading its schema");
	sqlite3_bind_text(s, 1, table, -1, SQLITE_STATIC);
	int r = sqlite3_step(s);
	sqlite3_finalize(s);
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		return sql_fail(imp, "reading its schema");
	*out = r == SQLITE_ROW;
	return SL_OK;
}

/* The column names of one table, read once (pragma_table_info). */
struct columns {
	char **name;
	size_t n, cap;
};

static void columns_free(struct columns *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->name[i]);
	free(c->name);
	memset(c, 0, sizeof(*c));
}

static int read_columns(struct sl_import *imp, const char *table, struct columns *c)
{
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(imp->src, "SELECT name FROM pragma_table_info(?)", -1, &s,
			       NULL) != SQLITE_OK)
		return sql_fail(imp, "reading its schema");
	sqlite3_bind_text(s, 1, table, -1, SQLITE_STATIC);
	int r;
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(s, 0);
		if (!name && sqlite3_errcode(imp->src) == SQLITE_NOMEM) {
			sqlite3_finalize(s);
			return sl_imp_fail(imp, SL_ENOMEM, "out of memory");
		}
		if (!name)
			continue;
		if (c->n == c->cap) {
			size_t cap = c->cap ? 2 * c->cap : 32;
			char **n = realloc(c->name, cap * sizeof(*n));
			if (!n) {
				sqlite3_finalize(s);
				return sl_imp_fail(imp, SL_ENOMEM, "out of memory");
			}
			c->name = n;
			c->cap = cap;
		}
		if (!(c->name[c->n] = strdup(name))) {
			sqlite3_finalize(s);
			return sl_imp_fail(imp, SL_ENOMEM, "out of memory");
		}
		c->n++;
	}
	sqlite3_finalize(s);
	if (r != SQLITE_DONE)
		return sql_fail(imp, "reading its schema");
	return SL_OK;
}

/* Compared as `name = ?` would: exactly (SQLite's BINARY collation). */
static bool has_column(const struct columns *c, const char *col)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->name[i], col) == 0)
			return true;
	return false;
}

static int require_column(struct sl_import *imp, const struct columns *c, const char *table,
			  const char *col)
{
	if (has_column(c, col))
		return SL_OK;
	return sl_imp_fail(imp, SL_EINVAL, "%s: not a database of the original backend: "
			"table %s has no column %s", imp->src_path, table, col);
}

/* The columns of the three tables: which are there decides the version. */
static int read_columns_used(struct sl_import *imp, struct columns cols[3])
{
	static const char *const tables[] = { "jobs", "sheets", "execution_history" };
	int rc;
	bool has;
	for (size_t i = 0; i < 3; i++) {
		if ((rc = has_table(imp, tables[i], &has)) != SL_OK)
			return rc;
		if (!has)
			return sl_imp_fail(imp, SL_EINVAL, "%s: not a database of the original "
					"backend: no table %s", imp->src_path, tables[i]);
		if ((rc = read_columns(imp, tables[i], &cols[i])) != SL_OK)
			return rc;
	}
	for (size_t i = 0; i < SL_STATE_N_JOB_COLUMNS; i++) {
		const char *name = sl_state_job_columns[i].name;
		if (strcmp(name, "config_path") == 0)
			imp->col_config_path = has_column(&cols[0], name);
		else if ((rc = require_column(imp, &cols[0], "jobs", name)) != SL_OK)
			return rc;
	}
	if ((rc = require_column(imp, &cols[1], "sheets", "job_id")) != SL_OK)
		return rc;
	for (size_t i = 0; i < SL_STATE_N_SHEET_COLUMNS; i++) {
		const char *name = sl_state_sheet_columns[i].name;
		size_t k = 0;
		while (k < 3 && strcmp(name, v3_columns[k]) != 0)
			k++;
		if (k < 3)
			imp->col_v3[k] = has_column(&cols[1], name);
		else if (strcmp(name, "success_without_retry") != 0 &&
			 (rc = require_column(imp, &cols[1], "sheets", name)) != SL_OK)
			return rc;
	}
	if (has_column(&cols[1], "success_without_retry")) {
		imp->col_success = "success_without_retry";
	} else {
		if (!has_column(&cols[1], "first_attempt_success"))
			return sl_imp_fail(imp, SL_EINVAL, "%s: not a database of the original "
					"backend: table sheets has neither success_without_retry "
					"nor first_attempt_success", imp->src_path);
		imp->col_success = "first_attempt_success";
	}
	for (size_t i = 0; i < N_HISTORY_COLUMNS; i++)
		if ((rc = require_column(imp, &cols[2], "execution_history",
					 history_columns[i])) != SL_OK)
			return rc;
	return SL_OK;
}

/* Finds the tables, the columns and the version. */
static int read_schema(struct sl_import *imp)
{
	struct columns cols[3];
	memset(cols, 0, sizeof(cols));
	int rc = read_columns_used(imp, cols);
	for (size_t i = 0; i < 3; i++)
		columns_free(&cols[i]);
	if (rc != SL_OK)
		return rc;

	int by_columns = 1;
	if (imp->col_config_path)
		by_columns = 2;
	if (imp->col_v3[0] && imp->col_v3[1] && imp->col_v3[2])
		by_columns = 3;
	if (strcmp(imp->col_success, "success_without_retry") == 0)
		by_columns = 4;
	int recorded = 0;
	bool has;
	if ((rc = has_table(imp, "schema_version", &has)) != SL_OK)
		return rc;
	if (has) {
		sqlite3_stmt *s = NULL;
		if (sqlite3_prepare_v2(imp->src, "SELECT max(version) FROM schema_version", -1, &s,
				       NULL) != SQLITE_OK)
			return sql_fail(imp, "reading schema_version");
		int r = sqlite3_step(s);
		if (r == SQLITE_ROW && sqlite3_column_type(s, 0) == SQLITE_INTEGER)
			recorded = sqlite3_column_int(s, 0);
		sqlite3_finalize(s);
		if (r != SQLITE_ROW)
			return sql_fail(imp, "reading schema_version");
	}
	if (recorded > 4)
		return sl_imp_fail(imp, SL_EVERSION, "%s: schema version %d is newer than statelog "
				"knows (1 to 4)", imp->src_path, recorded);
	imp->rep.source_version = by_columns;
	imp->rep.recorded_version = recorded;
	/* The original creates every table with its current columns and
	 * records the versions its migrations reach: columns newer than the
	 * record are its own doing, nothing to say.  Columns older than the
	 * record are not. */
	if (recorded > by_columns)
		snprintf(imp->rep.note, sizeof imp->rep.note,
			 "schema_version says %d but the columns are those of version %d: "
			 "read by the columns", recorded, by_columns);
	else if (!recorded)
		snprintf(imp->rep.note, sizeof imp->rep.note,
			 "no schema_version rows: version %d by the columns", by_columns);
	return SL_OK;
}

/* The source expression of sheet column `name` (NULL for a column the
 * version lacks, the old name of success_without_retry). */
static const char *sheet_source(const struct sl_import *imp, const char *name)
{
	for (size_t k = 0; k < 3; k++)
		if (strcmp(name, v3_columns[k]) == 0)
			return imp->col_v3[k] ? name : "NULL";
	if (strcmp(name, "success_without_retry") == 0)
		return imp->col_success;
	return name;
}

static const char *job_source(const struct sl_import *imp, const char *name)
{
	return strcmp(name, "config_path") == 0 && !imp->col_config_path ? "NULL" : name;
}

/* "SELECT a, b, ... FROM table ORDER BY order" into buf. */
static void build_select(char *buf, size_t len, const char *const *exprs, size_t n,
			 const char *table, const char *order)
{
	size_t k = (size_t)snprintf(buf, len, "SELECT ");
	for (size_t i = 0; i < n && k < len; i++)
		k += (size_t)snprintf(buf + k, len - k, "%s%s", i ? ", " : "", exprs[i]);
	if (k < len)
		snprintf(buf + k, len - k, " FROM %s ORDER BY %s", table, order);
}

/* ---- jobs and sheets --------------------------------------------------- */

/* Says what db_get() changed of cell i of a row of w's job (j) and sheet. */
static int noted(struct sl_import *imp, struct sl_imp_job *j, const struct sl_import_problem *w,
		 const struct sl_state_column *c, sqlite3_stmt *s, int i, enum db_note note,
		 const struct sl_value *v, const char *replaced)
{
	if (note == DB_TIME_NORMALIZED) {
		sl_imp_note_normalized(imp, w->job_id, w->sheet_num, 0, c->name,
				       (const char *)sqlite3_column_text(s, i), v->i);
		return SL_OK;
	}
	if (note == DB_NUL_REPLACED) {
		sl_imp_note_replaced(imp, w->job_id, w->sheet_num, 0, c->name);
		/* Text that is not UTF-8 is no JSON string: the column's check
		 * refuses the value next, naming it. */
		if (!sl_utf8_valid(replaced))
			return SL_OK;
		return sl_imp_keep_exact(&j->exact, w->sheet_num, c->name, sqlite3_column_blob(s, i),
					 (size_t)sqlite3_column_bytes(s, i));
	}
	return sl_imp_fix_cell(imp, w->job_id, w->sheet_num, c->name, "''", "NULL");
}

static int read_jobs(struct sl_import *imp)
{
	const char *exprs[SL_STATE_N_JOB_COLUMNS];
	char sql[2048], why[256];
	for (size_t i = 0; i < SL_STATE_N_JOB_COLUMNS; i++)
		exprs[i] = job_source(imp, sl_state_job_columns[i].name);
	build_select(sql, sizeof sql, exprs, SL_STATE_N_JOB_COLUMNS, "jobs", "id");
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(imp->src, sql, -1, &s, NULL) != SQLITE_OK)
		return sql_fail(imp, "reading jobs");
	int rc = SL_OK, r;
	while (rc == SL_OK && (r = sqlite3_step(s)) == SQLITE_ROW) {
		struct sl_import_problem w = { 0 };
		sl_imp_copy_field(w.source, sizeof w.source, imp->src_path);
		sl_imp_copy_field(w.job_id, sizeof w.job_id, (const char *)sqlite3_column_text(s, 0));
		struct sl_imp_job *j;
		if ((rc = sl_imp_add_job(imp, &j)) != SL_OK)
			break;
		j->st.presence = SL_JOB_LIVE;
		for (size_t i = 0; i < SL_STATE_N_JOB_COLUMNS && rc == SL_OK; i++) {
			const struct sl_state_column *c = &sl_state_job_columns[i];
			struct sl_value v;
			char *owned;
			enum db_note note;
			rc = db_get(c, s, (int)i, &v, &owned, &note, why, sizeof why);
			if (rc == SL_OK && note != DB_AS_IS)
				rc = noted(imp, j, &w, c, s, (int)i, note, &v, owned);
			if (rc != SL_OK)
				free(owned);
			if (rc == SL_OK && c->key && !owned[0]) {
				free(owned);
				snprintf(why, sizeof why, "an empty job id");
				rc = SL_EINVAL;
			} else if (rc == SL_OK) {
				rc = sl_imp_check_value(c, &v, owned, why, sizeof why);
			}
			if (rc == SL_EINVAL)
				rc = damaged_value(imp, &w, c->name, s, (int)i, why);
			else if (rc == SL_ENOMEM)
				rc = sl_imp_fail(imp, rc, "out of memory");
			else
				sl_state_column_put(c, &j->st, &v, owned);
		}
		imp->rep.jobs++;
	}
	if (rc == SL_OK && r != SQLITE_DONE)
		rc = sql_fail(imp, "reading jobs");
	sqlite3_finalize(s);
	return rc == SL_OK ? sl_imp_sort_jobs(imp) : rc;
}

static int read_sheets(struct sl_import *imp)
{
	const char *exprs[SL_STATE_N_SHEET_COLUMNS + 1] = { "job_id" };
	char sql[2048], why[256];
	for (size_t i = 0; i < SL_STATE_N_SHEET_COLUMNS; i++)
		exprs[i + 1] = sheet_source(imp, sl_state_sheet_columns[i].name);
	build_select(sql, sizeof sql, exprs, SL_STATE_N_SHEET_COLUMNS + 1, "sheets",
		     "job_id, sheet_num");
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(imp->src, sql, -1, &s, NULL) != SQLITE_OK)
		return sql_fail(imp, "reading sheets");
	int rc = SL_OK, r;
	while (rc == SL_OK && (r = sqlite3_step(s)) == SQLITE_ROW) {
		struct sl_import_problem w = { 0 };
		sl_imp_copy_field(w.source, sizeof w.source, imp->src_path);
		sl_imp_copy_field(w.job_id, sizeof w.job_id, (const char *)sqlite3_column_text(s, 0));
		if (sqlite3_column_type(s, 1) == SQLITE_INTEGER)
			w.sheet_num = sqlite3_column_int64(s, 1);
		struct sl_imp_job *j = NULL;
		if (sqlite3_column_type(s, 0) == SQLITE_TEXT)
			j = sl_imp_find_job(imp, (const char *)sqlite3_column_text(s, 0));
		if (!j) {
			rc = sl_imp_damage(imp, &w, "a sheet of a job that does not exist");
			break;
		}
		if (sqlite3_column_type(s, 1) != SQLITE_INTEGER) {
			rc = damaged_value(imp, &w, "sheet_num", s, 1, "expected an integer");
			break;
		}
		/* A sheet past total_sheets is the original's too (a sheet
		 * started after total_sheets was lowered, mark_sheet_status on
		 * sheet 5 of 3): kept, as the rules keep it. */
		if (w.sheet_num < 1) {
			rc = damaged_value(imp, &w, "sheet_num", s, 1, "out of range (below 1)");
			break;
		}
		if (sl_state_find_sheet(&j->st, w.sheet_num)) {
			rc = sl_imp_damage(imp, &w, "a second row for the same sheet");
			break;
		}
		struct sl_sheet_state *sh;
		if ((rc = sl_state_add_sheet(&sh, &j->st, w.sheet_num)) != SL_OK) {
			rc = sl_imp_fail(imp, rc, "out of memory");
			break;
		}
		for (size_t i = 1; i < SL_STATE_N_SHEET_COLUMNS && rc == SL_OK; i++) {
			const struct sl_state_column *c = &sl_state_sheet_columns[i];
			struct sl_value v;
			char *owned;
			enum db_note note;
			rc = db_get(c, s, (int)i + 1, &v, &owned, &note, why, sizeof why);
			if (rc == SL_OK && note != DB_AS_IS)
				rc = noted(imp, j, &w, c, s, (int)i + 1, note, &v, owned);
			if (rc != SL_OK)
				free(owned);
			if (rc == SL_OK)
				rc = sl_imp_check_value(c, &v, owned, why, sizeof why);
			if (rc == SL_EINVAL)
				rc = damaged_value(imp, &w, c->name, s, (int)i + 1, why);
			else if (rc == SL_ENOMEM)
				rc = sl_imp_fail(imp, rc, "out of memory");
			else
				sl_state_column_put(c, sh, &v, owned);
		}
		imp->rep.sheets++;
	}
	if (rc == SL_OK && r != SQLITE_DONE)
		rc = sql_fail(imp, "reading sheets");
	sqlite3_finalize(s);
	return rc;
}

/* ---- history ----------------------------------------------------------- */

/* Checks the history row in s (history_columns order); *job and *time are
 * its job and time.  With out, also builds its event. */
static int history_row(struct sl_import *imp, sqlite3_stmt *s, struct sl_imp_job **job,
		       int64_t *time, sl_event **out)
{
	char why[256];
	struct sl_import_problem w = { 0 };
	sl_imp_copy_field(w.source, sizeof w.source, imp->src_path);
	sl_imp_copy_field(w.job_id, sizeof w.job_id, (const char *)sqlite3_column_text(s, H_JOB));
	w.execution_id = sqlite3_column_int64(s, H_ID);
	if (sqlite3_column_type(s, H_SHEET) == SQLITE_INTEGER)
		w.sheet_num = sqlite3_column_int64(s, H_SHEET);
	if (sqlite3_column_type(s, H_ID) != SQLITE_INTEGER)
		return damaged_value(imp, &w, "id", s, H_ID, "expected an integer");
	struct sl_imp_job *j = NULL;
	if (sqlite3_column_type(s, H_JOB) == SQLITE_TEXT)
		j = sl_imp_find_job(imp, (const char *)sqlite3_column_text(s, H_JOB));
	if (!j)
		return sl_imp_damage(imp, &w, "a history row of a job that does not exist");
	if (sqlite3_column_type(s, H_SHEET) != SQLITE_INTEGER)
		return damaged_value(imp, &w, "sheet_num", s, H_SHEET, "expected an integer");
	/* Any sheet number: the original's history has no key on sheets, and
	 * its record_execution() writes what it is given. */
	if (sqlite3_column_type(s, H_ATTEMPT) != SQLITE_INTEGER)
		return damaged_value(imp, &w, "attempt_num", s, H_ATTEMPT, "expected an integer");
	static const int text_cols[] = { H_PROMPT, H_OUTPUT };
	for (size_t k = 0; k < 2; k++) {
		int i = text_cols[k], t = sqlite3_column_type(s, i);
		if (t != SQLITE_NULL && t != SQLITE_TEXT) {
			snprintf(why, sizeof why, "expected text, found %s", type_name(t));
			return damaged_value(imp, &w, history_columns[i], s, i, why);
		}
		if (!out && t == SQLITE_TEXT &&
		    strlen((const char *)sqlite3_column_text(s, i)) !=
		    (size_t)sqlite3_column_bytes(s, i))
			/* said once, while the rows are checked (out NULL) */
			sl_imp_note_replaced(imp, w.job_id, w.sheet_num, w.execution_id,
					     history_columns[i]);
	}
	int t = sqlite3_column_type(s, H_EXIT);
	if (t != SQLITE_NULL && t != SQLITE_INTEGER)
		return damaged_value(imp, &w, "exit_code", s, H_EXIT, "expected an integer");
	t = sqlite3_column_type(s, H_DURATION);
	if (t != SQLITE_NULL && t != SQLITE_INTEGER && t != SQLITE_FLOAT)
		return damaged_value(imp, &w, "duration_seconds", s, H_DURATION,
				     "expected a number");
	if (sqlite3_column_type(s, H_AT) != SQLITE_TEXT)
		return damaged_value(imp, &w, "executed_at", s, H_AT, "expected a timestamp");
	bool norm;
	if (sl_imp_parse_time((const char *)sqlite3_column_text(s, H_AT), true, time, &norm, why,
			      sizeof why) != SL_OK)
		return damaged_value(imp, &w, "executed_at", s, H_AT, why);
	if (norm && !out) {
		/* said once, while the rows are checked (out NULL) */
		imp->history_normalized = true;
		sl_imp_note_normalized(imp, w.job_id, w.sheet_num, w.execution_id, "executed_at",
				       (const char *)sqlite3_column_text(s, H_AT), *time);
	}
	*job = j;
	if (!out)
		return SL_OK;

	sl_event *ev = malloc(sizeof *ev);
	Statelog__ExecutionRecorded *x = malloc(sizeof *x);
	if (!ev || !x) {
		free(ev);
		free(x);
		return sl_imp_fail(imp, SL_ENOMEM, "out of memory");
	}
	statelog__event__init(ev);
	statelog__execution_recorded__init(x);
	ev->body_case = STATELOG__EVENT__BODY_EXECUTION_RECORDED;
	ev->execution_recorded = x;
	ev->has_time_us = 1;
	ev->time_us = *time;
	x->has_execution_id = 1;
	x->execution_id = w.execution_id;
	x->has_sheet_num = 1;
	x->sheet_num = w.sheet_num;
	x->has_attempt_num = 1;
	x->attempt_num = sqlite3_column_int64(s, H_ATTEMPT);
	if ((x->has_exit_code = sqlite3_column_type(s, H_EXIT) != SQLITE_NULL))
		x->exit_code = sqlite3_column_int64(s, H_EXIT);
	if ((x->has_duration_seconds = sqlite3_column_type(s, H_DURATION) != SQLITE_NULL))
		x->duration_seconds = sqlite3_column_double(s, H_DURATION);
	bool nomem = !(ev->job_id = strdup(j->st.id));
	static const int texts[] = { H_PROMPT, H_OUTPUT };
	json_t *exact = NULL;           /* the source's texts that hold NUL */
	for (size_t k = 0; k < 2; k++) {
		if (sqlite3_column_type(s, texts[k]) != SQLITE_TEXT)
			continue;
		char *fixed;
		size_t nuls;
		const char *text = cell_text(s, texts[k], &fixed, &nuls);
		char *copy = fixed ? fixed : text ? strdup(text) : NULL;
		nomem |= !copy;
		*(k == 0 ? &x->prompt : &x->output) = copy;
		/* Text that is not UTF-8 is no JSON string (the event's check
		 * refuses the row, as before). */
		if (fixed && sl_utf8_valid(fixed) && (exact || (exact = json_object())))
			nomem |= json_object_set_new(exact, history_columns[texts[k]],
						     json_stringn(sqlite3_column_blob(s, texts[k]),
								  (size_t)sqlite3_column_bytes(
									  s, texts[k]))) != 0;
		nomem |= fixed && sl_utf8_valid(fixed) && !exact;
	}
	if (exact) {
		/* The exact texts in the event too. */
		nomem |= !(x->source = sl_json_dumps(exact));
		json_decref(exact);
	}
	if (nomem) {
		sl_event_free(ev);
		return sl_imp_fail(imp, SL_ENOMEM, "out of memory");
	}
	*out = ev;
	return SL_OK;
}

static int prepare_history(struct sl_import *imp, sqlite3_stmt **out, const char *order)
{
	char sql[1024];
	build_select(sql, sizeof sql, history_columns, N_HISTORY_COLUMNS, "execution_history",
		     order);
	if (sqlite3_prepare_v2(imp->src, sql, -1, out, NULL) != SQLITE_OK)
		return sql_fail(imp, "reading execution_history");
	return SL_OK;
}

/* Checks every history row now, so that nothing is written before the
 * whole source is known to be sound; notes each job's oldest row. */
static int scan_history(struct sl_import *imp)
{
	sqlite3_stmt *s = NULL;
	int rc = prepare_history(imp, &s, "id");
	int r = SQLITE_DONE;
	while (rc == SL_OK && (r = sqlite3_step(s)) == SQLITE_ROW) {
		struct sl_imp_job *j;
		int64_t t;
		if ((rc = history_row(imp, s, &j, &t, NULL)) != SL_OK)
			break;
		if (!j->has_first_exec || t < j->first_exec_us) {
			j->has_first_exec = true;
			j->first_exec_us = t;
		}
		imp->history_bytes += 64 + (uint64_t)sqlite3_column_bytes(s, H_PROMPT) +
				      (uint64_t)sqlite3_column_bytes(s, H_OUTPUT);
		imp->rep.executions++;
	}
	if (rc == SL_OK && r != SQLITE_DONE)
		rc = sql_fail(imp, "reading execution_history");
	sqlite3_finalize(s);
	return rc;
}

struct id_time {
	int64_t time_us;
	int64_t id;
};

static int id_time_cmp(const void *a, const void *b)
{
	const struct id_time *x = a, *y = b;
	if (x->time_us != y->time_us)
		return x->time_us < y->time_us ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

int sl_imp_db_history_open(struct sl_import *imp, struct sl_imp_history *h)
{
	*h = (struct sl_imp_history){ 0 };
	/* Text order of the timestamps is time order when every one is in the
	 * original's fixed form (sl_imp_parse_time); else the rows are put in
	 * time order here, and read by id. */
	if (!imp->history_normalized)
		return prepare_history(imp, &h->stmt, "executed_at, id");
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(imp->src, "SELECT id, executed_at FROM execution_history", -1, &s,
			       NULL) != SQLITE_OK)
		return sql_fail(imp, "reading execution_history");
	struct id_time *v = malloc(((size_t)imp->rep.executions + 1) * sizeof *v);
	size_t n = 0;
	int r, rc = v ? SL_OK : sl_imp_fail(imp, SL_ENOMEM, "out of memory");
	while (rc == SL_OK && (r = sqlite3_step(s)) == SQLITE_ROW) {
		char why[256];
		/* every row was checked before: the same rows, in one read
		 * transaction */
		if (n == imp->rep.executions ||
		    sl_imp_parse_time((const char *)sqlite3_column_text(s, 1), false, &v[n].time_us,
				      NULL, why, sizeof why) != SL_OK) {
			rc = sl_imp_fail(imp, SL_EIO, "%s: execution_history changed while it was read",
					 imp->src_path);
			break;
		}
		v[n++].id = sqlite3_column_int64(s, 0);
	}
	if (rc == SL_OK && r != SQLITE_DONE)
		rc = sql_fail(imp, "reading execution_history");
	sqlite3_finalize(s);
	if (rc == SL_OK) {
		qsort(v, n, sizeof *v, id_time_cmp);
		if (!(h->ids = malloc((n + 1) * sizeof *h->ids)))
			rc = sl_imp_fail(imp, SL_ENOMEM, "out of memory");
	}
	for (size_t i = 0; rc == SL_OK && i < n; i++)
		h->ids[i] = v[i].id;
	free(v);
	h->n_ids = n;
	if (rc == SL_OK) {
		char sql[1024];
		build_select(sql, sizeof sql, history_columns, N_HISTORY_COLUMNS,
			     "execution_history WHERE id = ?1", "id");
		if (sqlite3_prepare_v2(imp->src, sql, -1, &h->stmt, NULL) != SQLITE_OK)
			rc = sql_fail(imp, "reading execution_history");
	}
	return rc;
}

int sl_imp_db_history_next(struct sl_import *imp, struct sl_imp_history *h, sl_event **out)
{
	*out = NULL;
	if (h->done)
		return SL_OK;
	if (h->ids) {
		/* by id, in the order of their times */
		if (h->next == h->n_ids) {
			h->done = true;
			return SL_OK;
		}
		sqlite3_reset(h->stmt);
		sqlite3_bind_int64(h->stmt, 1, h->ids[h->next++]);
	}
	int r = sqlite3_step(h->stmt);
	if (r == SQLITE_DONE && h->ids)
		return sl_imp_fail(imp, SL_EIO, "%s: execution_history changed while it was read",
				   imp->src_path);
	if (r == SQLITE_DONE) {
		h->done = true;
		return SL_OK;
	}
	if (r != SQLITE_ROW)
		return sql_fail(imp, "reading execution_history");
	struct sl_imp_job *j;
	int64_t t;
	return history_row(imp, h->stmt, &j, &t, out);
}

void sl_imp_db_history_close(struct sl_imp_history *h)
{
	sqlite3_finalize(h->stmt);
	free(h->ids);
	*h = (struct sl_imp_history){ 0 };
}

/* ---- reading ----------------------------------------------------------- */

int sl_import_read_db(sl_import *imp, const char *path)
{
	imp->has_problem = false;
	if (imp->broken)
		return sl_imp_fail(imp, SL_EINVAL, "an earlier read failed: start a new import");
	if (imp->kind != IMP_NONE)
		return sl_imp_fail(imp, SL_EINVAL, "%s: one database per import, and never with JSON "
				"state files", path);
	struct stat sb;
	if (stat(path, &sb) != 0)
		return sl_imp_fail(imp, errno == ENOENT ? SL_ENOTFOUND : SL_EIO, "%s: %s", path,
				strerror(errno));
	if (!S_ISREG(sb.st_mode))
		return sl_imp_fail(imp, SL_EINVAL, "%s: not a file", path);
	int rc = sl_imp_add_source(imp, path, &imp->src_path);
	if (rc != SL_OK)
		return rc;
	imp->kind = IMP_DB;
	if (sqlite3_open_v2(path, &imp->src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		rc = sl_imp_fail(imp, SL_ESQLITE, "%s: %s", path,
			      imp->src ? sqlite3_errmsg(imp->src) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(imp->src, 10000);
	/* One snapshot for reading, writing and comparing. */
	if (sqlite3_exec(imp->src, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		rc = sql_fail(imp, "starting a read transaction");
		goto fail;
	}
	sqlite3_stmt *s = NULL;
	int r = sqlite3_prepare_v2(imp->src, "SELECT count(*) FROM sqlite_master", -1, &s, NULL);
	if (r == SQLITE_OK)
		r = sqlite3_step(s);
	sqlite3_finalize(s);
	if (r != SQLITE_ROW) {
		rc = r == SQLITE_NOTADB
		     ? sl_imp_fail(imp, SL_EINVAL, "%s: not an SQLite database", path)
		     : sql_fail(imp, "reading its schema");
		goto fail;
	}
	if ((rc = read_schema(imp)) != SL_OK || (rc = read_jobs(imp)) != SL_OK ||
	    (rc = read_sheets(imp)) != SL_OK || (rc = scan_history(imp)) != SL_OK)
		goto fail;
	return SL_OK;
fail:
	imp->broken = true;
	return rc;
}

/* ---- the comparison ---------------------------------------------------- */

/* SQLite's order of storage classes: NULL, numbers, text, blob. */
static int class_of(int t)
{
	switch (t) {
	case SQLITE_NULL: return 0;
	case SQLITE_INTEGER:
	case SQLITE_FLOAT: return 1;
	case SQLITE_TEXT: return 2;
	default: return 3;
	}
}

/* Orders two values as ORDER BY with the BINARY collation does. */
static int value_cmp(sqlite3_stmt *a, sqlite3_stmt *b, int i)
{
	int ta = sqlite3_column_type(a, i), tb = sqlite3_column_type(b, i);
	int ca = class_of(ta), cb = class_of(tb);
	if (ca != cb)
		return ca < cb ? -1 : 1;
	if (ca == 0)
		return 0;
	if (ca == 1) {
		if (ta == SQLITE_INTEGER && tb == SQLITE_INTEGER) {
			sqlite3_int64 x = sqlite3_column_int64(a, i), y = sqlite3_column_int64(b, i);
			return x < y ? -1 : x > y;
		}
		double x = sqlite3_column_double(a, i), y = sqlite3_column_double(b, i);
		return x < y ? -1 : x > y;
	}
	const void *pa = ca == 2 ? (const void *)sqlite3_column_text(a, i) : sqlite3_column_blob(a, i);
	const void *pb = ca == 2 ? (const void *)sqlite3_column_text(b, i) : sqlite3_column_blob(b, i);
	int la = sqlite3_column_bytes(a, i), lb = sqlite3_column_bytes(b, i);
	int c = memcmp(pa ? pa : "", pb ? pb : "", (size_t)(la < lb ? la : lb));
	return c ? c : (la < lb ? -1 : la > lb);
}

/* Whether two values would answer a query the same: same storage class,
 * same bytes (reals by bit pattern). */
static bool value_same(sqlite3_stmt *a, sqlite3_stmt *b, int i)
{
	int ta = sqlite3_column_type(a, i), tb = sqlite3_column_type(b, i);
	if (ta != tb)
		return false;
	if (ta == SQLITE_FLOAT) {
		double x = sqlite3_column_double(a, i), y = sqlite3_column_double(b, i);
		return memcmp(&x, &y, sizeof x) == 0;
	}
	return value_cmp(a, b, i) == 0;
}

/* Whether text cell i of b is text cell i of a with each NUL as U+FFFD. */
static bool nul_replaced_same(sqlite3_stmt *a, sqlite3_stmt *b, int i)
{
	if (sqlite3_column_type(a, i) != SQLITE_TEXT || sqlite3_column_type(b, i) != SQLITE_TEXT)
		return false;
	const char *x = (const char *)sqlite3_column_text(a, i);
	size_t n = (size_t)sqlite3_column_bytes(a, i), nuls;
	if (!x || strlen(x) == n)
		return false;
	char *want = sl_text_nul_as_fffd(x, n, &nuls);
	const char *y = (const char *)sqlite3_column_text(b, i);
	bool same = want && y && strcmp(want, y) == 0;
	free(want);
	return same;
}

struct table_cmp {
	const char *table;
	const char *const *cols;        /* as in the projection */
	const char *const *exprs;       /* as read from the source */
	size_t n, nkey;
	const char *order;
	int job_col, sheet_col, id_col; /* where a row's location is (-1: none) */
	const bool *is_time;            /* the timestamp columns */
};

/* Whether two texts are the same instant (a timestamp the source wrote in
 * another form, stored in the original's: sl_imp_note_normalized()). */
static bool same_instant(sqlite3_stmt *a, sqlite3_stmt *b, int i)
{
	if (sqlite3_column_type(a, i) != SQLITE_TEXT || sqlite3_column_type(b, i) != SQLITE_TEXT)
		return false;
	int64_t x, y;
	return sl_time_parse(&x, (const char *)sqlite3_column_text(a, i)) == SL_OK &&
	       sl_time_parse(&y, (const char *)sqlite3_column_text(b, i)) == SL_OK && x == y;
}

static void locate(struct sl_import *imp, const struct table_cmp *t, sqlite3_stmt *s,
		   struct sl_import_problem *w)
{
	*w = (struct sl_import_problem){ 0 };
	sl_imp_copy_field(w->source, sizeof w->source, imp->src_path);
	sl_imp_copy_field(w->job_id, sizeof w->job_id,
		       (const char *)sqlite3_column_text(s, t->job_col));
	if (t->sheet_col >= 0)
		w->sheet_num = sqlite3_column_int64(s, t->sheet_col);
	if (t->id_col >= 0)
		w->execution_id = sqlite3_column_int64(s, t->id_col);
}

static int compare_table(struct sl_import *imp, sqlite3 *db, const struct table_cmp *t,
			 uint64_t *done, uint64_t total)
{
	char sql_src[2048], sql_db[2048];
	build_select(sql_src, sizeof sql_src, t->exprs, t->n, t->table, t->order);
	build_select(sql_db, sizeof sql_db, t->cols, t->n, t->table, t->order);
	sqlite3_stmt *a = NULL, *b = NULL;
	int rc = SL_OK;
	if (sqlite3_prepare_v2(imp->src, sql_src, -1, &a, NULL) != SQLITE_OK) {
		rc = sql_fail(imp, "reading it again to compare");
		goto done;
	}
	if (sqlite3_prepare_v2(db, sql_db, -1, &b, NULL) != SQLITE_OK) {
		rc = sl_imp_fail(imp, SL_ESQLITE, "the projected database: %s", sqlite3_errmsg(db));
		goto done;
	}
	int ra = sqlite3_step(a), rb = sqlite3_step(b);
	struct sl_import_problem w;
	while (ra == SQLITE_ROW || rb == SQLITE_ROW) {
		int c = 0;
		for (size_t k = 0; k < t->nkey && c == 0; k++)
			c = ra != SQLITE_ROW ? 1 : rb != SQLITE_ROW ? -1 : value_cmp(a, b, (int)k);
		if (c < 0) {
			locate(imp, t, a, &w);
			rc = sl_imp_damage(imp, &w, "the %s row is missing from the projected database",
					t->table);
			goto done;
		}
		if (c > 0) {
			locate(imp, t, b, &w);
			sl_imp_copy_field(w.source, sizeof w.source, imp->src_path);
			rc = sl_imp_damage(imp, &w, "the projected database has a %s row the "
					"source lacks", t->table);
			goto done;
		}
		for (size_t i = t->nkey; i < t->n; i++) {
			if (value_same(a, b, (int)i) || nul_replaced_same(a, b, (int)i) ||
			    (t->is_time[i] && imp->rep.normalized && same_instant(a, b, (int)i)))
				continue;
			locate(imp, t, a, &w);
			if (t->id_col < 0 && sl_imp_is_fixed(imp, w.job_id, w.sheet_num, t->cols[i]))
				continue;       /* as the original's load() reads it */
			sl_imp_copy_field(w.column, sizeof w.column, t->cols[i]);
			column_text(a, (int)i, w.value, sizeof w.value);
			column_text(b, (int)i, w.projected, sizeof w.projected);
			rc = sl_imp_damage(imp, &w, "the source has '%s' (%s), the projected database "
					"'%s' (%s)", w.value, type_name(sqlite3_column_type(a, (int)i)),
					w.projected, type_name(sqlite3_column_type(b, (int)i)));
			goto done;
		}
		imp->rep.rows_compared++;
		if (++*done % 4096 == 0)
			sl_imp_progress(imp, "comparing", *done, total);
		ra = sqlite3_step(a);
		rb = sqlite3_step(b);
	}
	if (ra != SQLITE_DONE)
		rc = sql_fail(imp, "reading it again to compare");
	else if (rb != SQLITE_DONE)
		rc = sl_imp_fail(imp, SL_ESQLITE, "the projected database: %s", sqlite3_errmsg(db));
done:
	sqlite3_finalize(a);
	sqlite3_finalize(b);
	return rc;
}

int sl_imp_db_compare(struct sl_import *imp, sqlite3 *db)
{
	const char *job_cols[SL_STATE_N_JOB_COLUMNS], *job_exprs[SL_STATE_N_JOB_COLUMNS];
	bool job_time[SL_STATE_N_JOB_COLUMNS];
	for (size_t i = 0; i < SL_STATE_N_JOB_COLUMNS; i++) {
		job_cols[i] = sl_state_job_columns[i].name;
		job_exprs[i] = job_source(imp, job_cols[i]);
		job_time[i] = sl_state_job_columns[i].type == SL_COL_TIME;
	}
	const char *sheet_cols[SL_STATE_N_SHEET_COLUMNS + 1] = { "job_id" };
	const char *sheet_exprs[SL_STATE_N_SHEET_COLUMNS + 1] = { "job_id" };
	bool sheet_time[SL_STATE_N_SHEET_COLUMNS + 1] = { false };
	for (size_t i = 0; i < SL_STATE_N_SHEET_COLUMNS; i++) {
		sheet_cols[i + 1] = sl_state_sheet_columns[i].name;
		sheet_exprs[i + 1] = sheet_source(imp, sheet_cols[i + 1]);
		sheet_time[i + 1] = sl_state_sheet_columns[i].type == SL_COL_TIME;
	}
	bool history_time[N_HISTORY_COLUMNS] = { false };
	history_time[H_AT] = true;
	/* The key first in every table (id is column 0 of jobs and history;
	 * job_id, sheet_num of sheets). */
	const struct table_cmp tables[] = {
		{ "jobs", job_cols, job_exprs, SL_STATE_N_JOB_COLUMNS, 1, "id", 0, -1, -1, job_time },
		{ "sheets", sheet_cols, sheet_exprs, SL_STATE_N_SHEET_COLUMNS + 1, 2,
		  "job_id, sheet_num", 0, 1, -1, sheet_time },
		{ "execution_history", history_columns, history_columns, N_HISTORY_COLUMNS, 1,
		  "id", H_JOB, H_SHEET, H_ID, history_time },
	};
	uint64_t done = 0, total = imp->rep.jobs + imp->rep.sheets + imp->rep.executions;
	int rc = SL_OK;
	for (size_t i = 0; i < 3 && rc == SL_OK; i++)
		rc = compare_table(imp, db, &tables[i], &done, total);
	if (rc == SL_OK)
		sl_imp_progress(imp, "comparing", total, total);
	return rc;
}
