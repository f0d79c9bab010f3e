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
#include "model_internal.h"

/* The whole file at path, NUL-terminated; *len its length.  Only a regular
 * file is read: opened without blocking (a FIFO would otherwise wait for a
 * writer forever, a device read without end) and checked before a byte is
 * read, as --from-db is. */
static int slurp(struct sl_import *imp, const char *path, char **out, size_t *len)
{
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
	char *buf = NULL;
	size_t n = 0, cap = 0;
	int rc = SL_OK;
	for (;;) {
		if (cap - n < 65536) {
			cap = cap ? 2 * cap : 65536;
			char *nb = realloc(buf, cap + 1);
			if (!nb) {
				rc = sl_imp_fail(imp, SL_ENOMEM, "%s: out of memory", path);
				break;
			}
			buf = nb;
		}
		ssize_t got = read(fd, buf + n, cap - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			rc = sl_imp_fail(imp, SL_EIO, "%s: %s", path, strerror(errno));
			break;
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	close(fd);
	if (rc != SL_OK) {
		free(buf);
		return rc;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return SL_OK;
}

/* The texts of one file read with U+FFFD for NUL, said (and their exact
 * texts kept for the events) once the job is known. */
struct replaced {
	struct { int64_t sheet; const char *key; } first[4];
	size_t n;
	json_t *exact;                  /* the exact texts (sl_imp_keep_exact()) */
	bool nomem;
};

static void on_replaced(void *arg, int64_t sheet, const char *key, const char *text,
			size_t len)
{
	struct replaced *r = arg;
	if (r->n < sizeof r->first / sizeof r->first[0])
		r->first[r->n] = (typeof(r->first[0])){ sheet, key };
	r->n++;
	r->nomem |= sl_imp_keep_exact(&r->exact, sheet, key, text, len) != SL_OK;
}

/* Counts the fields of extra (a JSON object's text, NULL: none) kept for
 * job `job` (sheet 0: the job's own) and names the first few. */
static void note_extra(struct sl_import *imp, const char *job, int64_t sheet, const char *extra)
{
	json_t *v;
	json_error_t e;
	if (!extra || sl_json_py_loadb(extra, strlen(extra), JSON_ALLOW_NUL, &v, &e) != SL_OK)
		return;
	char *note = imp->rep.kept_note;
	size_t cap = sizeof imp->rep.kept_note;
	bool first = true;
	for (void *it = json_object_iter(v); it; it = json_object_iter_next(v, it)) {
		if (imp->rep.kept++ >= 8)
			continue;
		/* A key holding NUL or a lone surrogate is its source text
		 * after a NUL byte (json_py.c): shown as that text. */
		const char *k = json_object_iter_key(it);
		size_t len = strlen(note);
		if (first && sheet)
			snprintf(note + len, cap - len, "%sjob '%.64s' sheet %" PRId64 ": %.48s",
				 len ? "; " : "", job, sheet, k[0] ? k : k + 1);
		else if (first)
			snprintf(note + len, cap - len, "%sjob '%.64s': %.48s", len ? "; " : "",
				 job, k[0] ? k : k + 1);
		else
			snprintf(note + len, cap - len, ", %.48s", k[0] ? k : k + 1);
		first = false;
	}
	json_decref(v);
}

/* One state file: the job's JSON form (sl_state_from_json_import(), the
 * keys and their rules at the top of model/statejson.c). */
static int read_file(struct sl_import *imp, const char *path)
{
	const char *src;
	int rc = sl_imp_add_source(imp, path, &src);
	if (rc != SL_OK)
		return rc;
	struct sl_import_problem w = { 0 };
	sl_imp_copy_field(w.source, sizeof w.source, path);
	char *text = NULL;
	size_t len = 0;
	if ((rc = slurp(imp, path, &text, &len)) != SL_OK)
		return rc;
	struct sl_job_state st;
	struct sl_state_json_problem where;
	struct replaced rep = { .n = 0 };
	rc = sl_state_from_json_import(&st, text, len, &where, on_replaced, &rep);
	if (rc == SL_OK && rep.nomem) {
		sl_state_free(&st);
		rc = SL_ENOMEM;
	}
	if (rc != SL_OK)
		json_decref(rep.exact);
	if (rc == SL_EINVAL) {
		/* Name the job when the file says which it is. */
		json_t *root = NULL;
		json_error_t je;
		if (sl_json_py_loadb(text, len, JSON_ALLOW_NUL, &root, &je) != SL_OK)
			root = NULL;
		const json_t *id = json_object_get(root, "job_id");
		if (json_is_string(id))
			sl_imp_copy_field(w.job_id, sizeof w.job_id, json_string_value(id));
		json_decref(root);
		w.sheet_num = where.sheet_num;
		sl_imp_copy_field(w.column, sizeof w.column, where.key);
		if (where.value[0])
			sl_imp_copy_field(w.value, sizeof w.value, where.value);
		rc = where.value[0] ? sl_imp_damage(imp, &w, "%s ('%s')", where.reason, where.value)
				    : sl_imp_damage(imp, &w, "%s", where.reason);
	} else if (rc != SL_OK) {
		rc = sl_imp_fail(imp, rc, "out of memory");
	}
	free(text);
	if (rc != SL_OK)
		return rc;
	struct sl_imp_job *j;
	if ((rc = sl_imp_add_job(imp, &j)) != SL_OK) {
		sl_state_free(&st);
		json_decref(rep.exact);
		return rc;
	}
	sl_state_free(&j->st);
	j->st = st;
	j->exact = rep.exact;
	imp->rep.jobs++;
	imp->rep.sheets += st.n_sheets;
	for (size_t i = 0; i < rep.n; i++)
		sl_imp_note_replaced(imp, st.id, i < 4 ? rep.first[i].sheet : 0, 0,
				     i < 4 ? rep.first[i].key : "?");
	note_extra(imp, st.id, 0, st.extra);
	for (size_t i = 0; i < st.n_sheets; i++)
		note_extra(imp, st.id, st.sheets[i].sheet_num, st.sheets[i].extra);
	return SL_OK;
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

/* The extra fields of row (a job's state, or with sheet a sheet's; NULL:
 * no row). */
static const char *extra_of(const void *row, int64_t sheet)
{
	if (!row)
		return NULL;
	return sheet ? ((const struct sl_sheet_state *)row)->extra
		     : ((const struct sl_job_state *)row)->extra;
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
			if (strcmp(col, "extra") == 0) {
				const char *x = extra_of(a, sheet), *y = extra_of(b, sheet);
				sl_imp_copy_field(w.value, sizeof w.value, x ? x : "NULL");
				sl_imp_copy_field(w.projected, sizeof w.projected, y ? y : "NULL");
			}
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
