/* import_json.c: the original backend's JSON state files as an import
 * source (import.h), and the comparison of a projection with them.
 *
 * A state file is one job's CheckpointState as a JSON object: job_id,
 * job_name, config_hash, config_snapshot, config_path, created_at,
 * updated_at, started_at, completed_at, total_sheets, last_completed_sheet,
 * current_sheet, status, pid, error_message, total_retry_count,
 * rate_limit_waits, and "sheets": {"1": {...}, ...} with the columns of
 * the sheets table (first_attempt_success accepted for
 * success_without_retry).  Values become columns as the original's save()
 * makes them: a JSON column holds the value written by json.dumps
 * (sl_json_dumps()), null is NULL, times may be in any ISO-8601 form (they
 * are stored as the original writes them), booleans are 1/0.  Keys the
 * sheets table has no column for are ignored, as that save() ignores them.
 *
 * A file is damaged (SL_ECORRUPT, located by file, job, sheet and key) when
 * it is not JSON, not an object, lacks a required key (job_id, job_name,
 * total_sheets, created_at, updated_at), or a value has the wrong type, an
 * unparsable time, an unknown status, a sheet key that is not a number in
 * 1..total_sheets or disagrees with the sheet's own sheet_num; and when two
 * files hold the same job.
 */
#include "import_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "event_json_internal.h"

/* The key of column c in a state file. */
static const char *json_key(const struct sl_state_column *c)
{
	if (strcmp(c->name, "id") == 0)
		return "job_id";
	if (strcmp(c->name, "name") == 0)
		return "job_name";
	return c->name;
}

static bool job_key_required(const char *key)
{
	static const char *const req[] = {
		"job_id", "job_name", "total_sheets", "created_at", "updated_at",
	};
	for (size_t i = 0; i < sizeof req / sizeof req[0]; i++)
		if (strcmp(key, req[i]) == 0)
			return true;
	return false;
}

static const char *json_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "a list";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a real";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	default: return "null";
	}
}

/* v as text for a problem. */
static void json_text(const json_t *v, char *buf, size_t len)
{
	if (json_is_string(v)) {
		sl_imp_copy_field(buf, len, json_string_value(v));
		return;
	}
	char *s = sl_json_dumps(v);
	sl_imp_copy_field(buf, len, s ? s : "?");
	free(s);
}

/* The value of column c from JSON value v.  SL_EINVAL with why. */
static int json_get(const struct sl_state_column *c, const json_t *v, struct sl_value *out,
		    char **owned, char *why, size_t wl)
{
	*out = (struct sl_value){ 0 };
	*owned = NULL;
	if (json_is_null(v)) {
		if (!c->nullable) {
			snprintf(why, wl, "null for a value that cannot be NULL");
			return SL_EINVAL;
		}
		out->null = true;
		return SL_OK;
	}
	const char *want = "a string";
	switch (c->type) {
	case SL_COL_TEXT:
		if (c->json) {
			/* Whatever the value, stored as json.dumps writes it. */
			if (!(*owned = sl_json_dumps(v)))
				return SL_ENOMEM;
			return SL_OK;
		}
		if (!json_is_string(v))
			break;
		if (strlen(json_string_value(v)) != json_string_length(v)) {
			snprintf(why, wl, "a string holding a NUL character");
			return SL_EINVAL;
		}
		if (!(*owned = strdup(json_string_value(v))))
			return SL_ENOMEM;
		return SL_OK;
	case SL_COL_INT:
		want = "an integer";
		if (!json_is_integer(v))
			break;
		out->i = json_integer_value(v);
		return SL_OK;
	case SL_COL_BOOL:
		want = "true or false";
		if (!json_is_boolean(v))
			break;
		out->i = json_is_true(v);
		return SL_OK;
	case SL_COL_REAL:
		want = "a number";
		if (!json_is_number(v))
			break;
		out->d = json_number_value(v);
		return SL_OK;
	case SL_COL_TIME:
		want = "a timestamp";
		if (!json_is_string(v))
			break;
		return sl_imp_parse_time(json_string_value(v), false, &out->i, why, wl);
	case SL_COL_JOB_STATUS: {
		enum sl_job_status s;
		want = "a job status";
		if (!json_is_string(v))
			break;
		if (sl_job_status_from_name(&s, json_string_value(v)) != SL_OK) {
			snprintf(why, wl, "unknown job status");
			return SL_EINVAL;
		}
		out->i = s;
		return SL_OK;
	}
	case SL_COL_SHEET_STATUS: {
		enum sl_sheet_status s;
		want = "a sheet status";
		if (!json_is_string(v))
			break;
		if (sl_sheet_status_from_name(&s, json_string_value(v)) != SL_OK) {
			snprintf(why, wl, "unknown sheet status");
			return SL_EINVAL;
		}
		out->i = s;
		return SL_OK;
	}
	}
	snprintf(why, wl, "expected %s, found %s", want, json_type_name(v));
	return SL_EINVAL;
}

/* Sets column c of row from key `key` of obj when present. */
static int put_key(struct sl_import *imp, struct sl_import_problem *w,
		   const struct sl_state_column *c, const char *key, const json_t *obj,
		   void *row)
{
	const json_t *v = json_object_get(obj, key);
	if (!v)
		return SL_OK;
	struct sl_value val;
	char *owned, why[256];
	int rc = json_get(c, v, &val, &owned, why, sizeof why);
	if (rc == SL_ENOMEM)
		return sl_imp_fail(imp, rc, "out of memory");
	if (rc != SL_OK) {
		sl_imp_copy_field(w->column, sizeof w->column, key);
		json_text(v, w->value, sizeof w->value);
		return sl_imp_damage(imp, w, "%s ('%s')", why, w->value);
	}
	if (c->key && c->type == SL_COL_TEXT && !owned[0]) {
		free(owned);
		sl_imp_copy_field(w->column, sizeof w->column, key);
		return sl_imp_damage(imp, w, "an empty job id");
	}
	char why2[256];
	if ((rc = sl_imp_check_value(c, &val, owned, why2, sizeof why2)) != SL_OK) {
		if (rc == SL_ENOMEM)
			return sl_imp_fail(imp, rc, "out of memory");
		sl_imp_copy_field(w->column, sizeof w->column, key);
		json_text(v, w->value, sizeof w->value);
		return sl_imp_damage(imp, w, "%s", why2);
	}
	sl_state_column_put(c, row, &val, owned);
	return SL_OK;
}

/* "12" -> 12; false for anything but a decimal number without sign or
 * leading zero. */
static bool sheet_key(const char *k, int64_t *out)
{
	if (!*k || (k[0] == '0' && k[1]) || strlen(k) > 18)
		return false;
	int64_t n = 0;
	for (; *k; k++) {
		if (*k < '0' || *k > '9')
			return false;
		n = n * 10 + (*k - '0');
	}
	*out = n;
	return true;
}

static int read_sheets(struct sl_import *imp, struct sl_import_problem *w, struct sl_imp_job *j,
		       const json_t *sheets)
{
	if (!sheets || json_is_null(sheets))
		return SL_OK;
	if (!json_is_object(sheets)) {
		sl_imp_copy_field(w->column, sizeof w->column, "sheets");
		return sl_imp_damage(imp, w, "expected an object, found %s", json_type_name(sheets));
	}
	const char *k;
	const json_t *obj;
	int rc = SL_OK;
	json_object_foreach((json_t *)sheets, k, obj) {
		int64_t n = 0;
		w->sheet_num = 0;
		w->column[0] = '\0';
		if (!sheet_key(k, &n) || n < 1 || n > j->st.total_sheets) {
			sl_imp_copy_field(w->column, sizeof w->column, "sheets");
			sl_imp_copy_field(w->value, sizeof w->value, k);
			return sl_imp_damage(imp, w, "sheet key '%s' is not a sheet number in "
					  "1..%" PRId64 " (total_sheets)", k, j->st.total_sheets);
		}
		w->sheet_num = n;
		if (!json_is_object(obj))
			return sl_imp_damage(imp, w, "expected an object, found %s",
					  json_type_name(obj));
		const json_t *num = json_object_get(obj, "sheet_num");
		if (num && (!json_is_integer(num) || json_integer_value(num) != n)) {
			sl_imp_copy_field(w->column, sizeof w->column, "sheet_num");
			json_text(num, w->value, sizeof w->value);
			return sl_imp_damage(imp, w, "'%s' disagrees with its key in \"sheets\"",
					  w->value);
		}
		struct sl_sheet_state *sh;
		if ((rc = sl_state_add_sheet(&sh, &j->st, n)) != SL_OK)
			return sl_imp_fail(imp, rc, "out of memory");
		for (size_t i = 1; i < SL_STATE_N_SHEET_COLUMNS && rc == SL_OK; i++) {
			const struct sl_state_column *c = &sl_state_sheet_columns[i];
			const char *key = c->name;
			if (strcmp(key, "success_without_retry") == 0 &&
			    !json_object_get(obj, key) && json_object_get(obj, "first_attempt_success"))
				key = "first_attempt_success";
			rc = put_key(imp, w, c, key, obj, sh);
		}
		if (rc != SL_OK)
			return rc;
		imp->rep.sheets++;
	}
	return SL_OK;
}

static int read_file(struct sl_import *imp, const char *path)
{
	const char *src;
	int rc = sl_imp_add_source(imp, path, &src);
	if (rc != SL_OK)
		return rc;
	struct sl_import_problem w = { 0 };
	sl_imp_copy_field(w.source, sizeof w.source, path);
	/* Only a regular file is read: opened without blocking (a FIFO would
	 * otherwise wait for a writer forever, a device read without end) and
	 * checked before a byte is read, as --from-db is. */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return sl_imp_fail(imp, errno == ENOENT ? SL_ENOTFOUND : SL_EIO, "%s: %s", path,
				strerror(errno));
	struct stat sb;
	if (fstat(fd, &sb) != 0) {
		int e = errno;
		close(fd);
		return sl_imp_fail(imp, SL_EIO, "%s: %s", path, strerror(e));
	}
	if (!S_ISREG(sb.st_mode)) {
		close(fd);
		return sl_imp_fail(imp, SL_EINVAL, "%s: %s, not a regular file: state files are read "
				"only from regular files", path, S_ISDIR(sb.st_mode) ? "a directory" :
				S_ISFIFO(sb.st_mode) ? "a FIFO" : S_ISSOCK(sb.st_mode) ? "a socket" :
				"a device");
	}
	json_error_t e;
	json_t *root = json_loadfd(fd, JSON_ALLOW_NUL, &e);
	close(fd);
	if (!root) {
		if (json_error_code(&e) == json_error_out_of_memory)
			return sl_imp_fail(imp, SL_ENOMEM, "%s: out of memory", path);
		return sl_imp_damage(imp, &w, "not valid JSON (line %d, column %d: %s)", e.line,
				  e.column, e.text);
	}
	if (!json_is_object(root)) {
		rc = sl_imp_damage(imp, &w, "not a state file: expected a JSON object, found %s",
				json_type_name(root));
		goto done;
	}
	const json_t *id = json_object_get(root, "job_id");
	if (json_is_string(id))
		sl_imp_copy_field(w.job_id, sizeof w.job_id, json_string_value(id));
	for (size_t i = 0; i < SL_STATE_N_JOB_COLUMNS; i++) {
		const char *key = json_key(&sl_state_job_columns[i]);
		if (job_key_required(key) && !json_object_get(root, key)) {
			sl_imp_copy_field(w.column, sizeof w.column, key);
			rc = sl_imp_damage(imp, &w, "missing (required)");
			goto done;
		}
	}
	struct sl_imp_job *j;
	if ((rc = sl_imp_add_job(imp, &j)) != SL_OK)
		goto done;
	j->st.presence = SL_JOB_LIVE;
	for (size_t i = 0; i < SL_STATE_N_JOB_COLUMNS && rc == SL_OK; i++)
		rc = put_key(imp, &w, &sl_state_job_columns[i], json_key(&sl_state_job_columns[i]),
			     root, &j->st);
	if (rc == SL_OK)
		rc = read_sheets(imp, &w, j, json_object_get(root, "sheets"));
	if (rc == SL_OK)
		imp->rep.jobs++;
done:
	json_decref(root);
	return rc;
}

static int json_name(const struct dirent *e)
{
	size_t n = strlen(e->d_name);
	return e->d_name[0] != '.' && n > 5 && strcmp(e->d_name + n - 5, ".json") == 0;
}

int sl_import_read_json(sl_import *imp, const char *path)
{
	imp->has_problem = false;
	if (imp->broken)
		return sl_imp_fail(imp, SL_EINVAL, "an earlier read failed: start a new import");
	if (imp->kind == IMP_DB)
		return sl_imp_fail(imp, SL_EINVAL, "%s: JSON state files and a database are never "
				"imported together", path);
	struct stat sb;
	if (stat(path, &sb) != 0)
		return sl_imp_fail(imp, errno == ENOENT ? SL_ENOTFOUND : SL_EIO, "%s: %s", path,
				strerror(errno));
	int rc = SL_OK;
	if (S_ISDIR(sb.st_mode)) {
		struct dirent **names = NULL;
		int n = scandir(path, &names, json_name, alphasort);
		if (n < 0)
			return sl_imp_fail(imp, SL_EIO, "%s: %s", path, strerror(errno));
		if (n == 0)
			rc = sl_imp_fail(imp, SL_ENOTFOUND, "%s: no *.json state files here", path);
		for (int i = 0; i < n; i++) {
			if (rc == SL_OK) {
				size_t len = strlen(path) + strlen(names[i]->d_name) + 2;
				char *file = malloc(len);
				if (!file) {
					rc = sl_imp_fail(imp, SL_ENOMEM, "out of memory");
				} else {
					snprintf(file, len, "%s/%s", path, names[i]->d_name);
					rc = read_file(imp, file);
					free(file);
				}
			}
			free(names[i]);
		}
		free(names);
	} else {
		rc = read_file(imp, path);
	}
	if (rc == SL_OK)
		rc = sl_imp_sort_jobs(imp);
	if (rc != SL_OK) {
		imp->broken = true;
		return rc;
	}
	imp->kind = IMP_JSON;
	return SL_OK;
}

/* ---- the comparison ---------------------------------------------------- */

static int count_rows(struct sl_import *imp, sqlite3 *db, const char *sql, uint64_t *out)
{
	sqlite3_stmt *s = NULL;
	int r = sqlite3_prepare_v2(db, sql, -1, &s, NULL);
	if (r == SQLITE_OK && (r = sqlite3_step(s)) == SQLITE_ROW)
		*out = (uint64_t)sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	if (r != SQLITE_ROW)
		return sl_imp_fail(imp, SL_ESQLITE, "the projected database: %s", sqlite3_errmsg(db));
	return SL_OK;
}

int sl_imp_json_compare(struct sl_import *imp, sl_proj *p)
{
	int rc = SL_OK;
	struct sl_job_state got, want;
	sl_state_init(&got);
	sl_state_init(&want);
	for (size_t i = 0; i < imp->n_jobs && rc == SL_OK; i++) {
		const struct sl_imp_job *j = &imp->jobs[i];
		struct sl_import_problem w = { 0 };
		sl_imp_copy_field(w.source, sizeof w.source, j->source);
		sl_imp_copy_field(w.job_id, sizeof w.job_id, j->st.id);
		sl_state_free(&got);
		rc = sl_proj_load_job(&got, p, j->st.id);
		if (rc == SL_ENOTFOUND) {
			rc = sl_imp_damage(imp, &w, "the job is missing from the projected database");
			break;
		}
		if (rc != SL_OK) {
			rc = sl_imp_fail(imp, rc, "the projected database: %s", sl_proj_errmsg(p));
			break;
		}
		/* As the original's load() reads it (its load-time invariants, at
		 * the time the events were made with: see job_events()). */
		sl_state_free(&want);
		if (sl_state_copy(&want, &j->st) != SL_OK ||
		    sl_rules_invariants(&want, j->st.updated_at_us) != SL_OK) {
			rc = sl_imp_fail(imp, SL_ENOMEM, "out of memory");
			break;
		}
		int64_t sheet = 0;
		const char *col = sl_state_first_difference(&want, &got, 0, &sheet);
		if (col) {
			w.sheet_num = sheet;
			sl_imp_copy_field(w.column, sizeof w.column, col);
			const struct sl_state_column *cat = sheet ? sl_state_sheet_columns
								  : sl_state_job_columns;
			size_t n = sheet ? SL_STATE_N_SHEET_COLUMNS : SL_STATE_N_JOB_COLUMNS;
			const void *a = sheet ? (const void *)sl_state_find_sheet(&j->st, sheet)
					      : (const void *)&j->st;
			const void *b = sheet ? (const void *)sl_state_find_sheet(&got, sheet)
					      : (const void *)&got;
			for (size_t k = 0; k < n; k++) {
				if (strcmp(cat[k].name, col) != 0)
					continue;
				if (a)
					sl_imp_value_text(&cat[k], a, w.value, sizeof w.value);
				if (b)
					sl_imp_value_text(&cat[k], b, w.projected, sizeof w.projected);
			}
			rc = sl_imp_damage(imp, &w, "the source has '%s', the projected database '%s'",
					a ? w.value : "(no row)", b ? w.projected : "(no row)");
			break;
		}
		imp->rep.rows_compared += 1 + j->st.n_sheets;
		sl_imp_progress(imp, "comparing", i + 1, imp->n_jobs);
	}
	sl_state_free(&got);
	sl_state_free(&want);
	if (rc != SL_OK)
		return rc;
	/* Nothing more than the files either. */
	uint64_t jobs = 0, sheets = 0, history = 0;
	sqlite3 *db = sl_proj_db(p);
	if ((rc = count_rows(imp, db, "SELECT count(*) FROM jobs", &jobs)) != SL_OK ||
	    (rc = count_rows(imp, db, "SELECT count(*) FROM sheets", &sheets)) != SL_OK ||
	    (rc = count_rows(imp, db, "SELECT count(*) FROM execution_history", &history)))
		return rc;
	if (jobs != imp->rep.jobs || sheets != imp->rep.sheets || history != 0)
		return sl_imp_fail(imp, SL_ECORRUPT, "the projected database holds %" PRIu64 " jobs, %"
				PRIu64 " sheets and %" PRIu64 " history rows; the files %" PRIu64
				" jobs and %" PRIu64 " sheets", jobs, sheets, history,
				imp->rep.jobs, imp->rep.sheets);
	return SL_OK;
}
