/* import.c: `statelog import`, the handle and the writing half: the events
 * that recreate each job read from a source, a new log holding them in time
 * order, its projection, the comparison with the source, and putting the
 * log and the database in place only when all of it succeeded (import.h).
 *
 * Why a job's events look as they do:
 *  - the job's state comes back through the model's own inverse,
 *    sl_state_diff() from nothing: a job_created (carrying created_at) and
 *    one job_fields_set and one sheet_fields_set per sheet, which carry
 *    every other column raw (no rule runs), times included;
 *  - the job_created is placed at created_at, or earlier when a history
 *    row of the job is older (the log needs the job to exist before its
 *    execution_recorded events), and the fields events at updated_at;
 *  - the job_fields_set goes last and carries updated_at_us, so the jobs
 *    row's updated_at is the source's whatever the event times are;
 *  - every job's events are checked in memory with sl_rules_apply() against
 *    the state read before anything is written.
 *
 * Atomicity: the log is built in ".<name>.import-XXXXXX" beside the target
 * and the database in ".<dbname>.import-XXXXXX" beside its target; after
 * the comparison succeeded the log is renamed into place, then the
 * database (without replacing anything: RENAME_NOREPLACE); if the second
 * rename fails the first is undone.  Any failure removes both.
 */
#include "import_internal.h"
#include "event_internal.h"
#include "event_json_internal.h"

#include <assert.h>
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

#include "timefmt.h"

/* Priorities of events at the same time: a job is created before its
 * history rows, which come before the job's fields (either order would
 * give the same rows; this one reads naturally). */
enum { PRIO_CREATED = 0, PRIO_HISTORY = 1, PRIO_FIELDS = 2 };

/* Most bytes of events in one commit (well under the log's 64 MiB). */
#define IMP_COMMIT_BYTES (8u << 20)

/* ---- messages ---------------------------------------------------------- */

int sl_imp_fail(struct sl_import *imp, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(imp->errmsg, sizeof imp->errmsg, fmt, ap);
	va_end(ap);
	imp->has_problem = false;
	return rc;
}

void sl_imp_copy_field(char *dst, size_t n, const char *s)
{
	if (!s)
		s = "NULL";
	size_t len = strlen(s);
	if (len < n) {
		memcpy(dst, s, len + 1);
		return;
	}
	/* Cut on a character boundary, and say so. */
	size_t keep = n > 4 ? n - 4 : 0;
	while (keep > 0 && ((unsigned char)s[keep] & 0xC0) == 0x80)
		keep--;
	memcpy(dst, s, keep);
	memcpy(dst + keep, "...", n > 4 ? 4 : 0);
	if (n <= 4 && n > 0)
		dst[0] = '\0';
}

int sl_imp_damage(struct sl_import *imp, const struct sl_import_problem *where,
	       const char *fmt, ...)
{
	char what[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	imp->problem = *where;
	char loc[800] = "";
	size_t n = 0;
	if (where->job_id[0])
		n += (size_t)snprintf(loc + n, sizeof loc - n, "job '%s'", where->job_id);
	if (where->sheet_num && n < sizeof loc)
		n += (size_t)snprintf(loc + n, sizeof loc - n, "%ssheet %" PRId64, n ? ", " : "",
				      where->sheet_num);
	if (where->execution_id && n < sizeof loc)
		n += (size_t)snprintf(loc + n, sizeof loc - n, "%sexecution_history id %" PRId64,
				      n ? ", " : "", where->execution_id);
	snprintf(imp->errmsg, sizeof imp->errmsg, "%s: %s%s%s%s%s", where->source, loc,
		 loc[0] ? ": " : "", where->column, where->column[0] ? ": " : "", what);
	imp->has_problem = true;
	return SL_ECORRUPT;
}

/* ---- values ------------------------------------------------------------ */

int sl_imp_parse_time(const char *text, bool canonical, int64_t *us, bool *normalized,
		      char *why, size_t whylen)
{
	int64_t t;
	if (normalized)
		*normalized = false;
	if (sl_time_parse(&t, text) != SL_OK) {
		snprintf(why, whylen, "unparsable timestamp");
		return SL_EINVAL;
	}
	if (canonical) {
		char back[SL_TIME_BUFSZ];
		if (sl_time_format(t, back, sizeof back) == SL_OK && strcmp(back, text) != 0 &&
		    normalized) {
			/* Another form of the same instant (no offset: UTC, as
			 * older versions of the original wrote; an offset:
			 * converted): stored in the original's form, and said. */
			*normalized = true;
		} else if (sl_time_format(t, back, sizeof back) != SL_OK || strcmp(back, text) != 0) {
			/* The projection would hold `back`: the query results
			 * would differ, so the row cannot be imported as it is. */
			snprintf(why, whylen, "timestamp not in the original's form "
				 "(ISO-8601 UTC, +00:00, 6-digit fraction or none): "
				 "statelog would store '%s'", back);
			return SL_EINVAL;
		}
	}
	*us = t;
	return SL_OK;
}

bool sl_imp_valid_json(const char *text, size_t len, char *why, size_t whylen)
{
	json_error_t e;
	json_t *v;
	/* Only validated, as Python's json.loads() reads it: the text is kept
	 * byte for byte, NaN and integers of any size included. */
	if (sl_json_py_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &v, &e) == SL_OK) {
		json_decref(v);
		return true;
	}
	snprintf(why, whylen, "not valid JSON (column %d: %s)", e.column, e.text);
	return false;
}

int sl_imp_check_value(const struct sl_state_column *c, struct sl_value *v, char *owned,
		       char *why, size_t whylen)
{
	if (c->type == SL_COL_TEXT)
		v->s = owned;
	int rc = sl_state_column_check(c, v, why, whylen);
	if (rc != SL_OK)
		free(owned);
	return rc;
}

void sl_imp_value_text(const struct sl_state_column *c, const void *row, char *buf, size_t len)
{
	struct sl_value v;
	sl_state_column_get(&v, c, row);
	if (v.null) {
		snprintf(buf, len, "NULL");
		return;
	}
	switch (c->type) {
	case SL_COL_TEXT:
	case SL_COL_JOB_STATUS:
	case SL_COL_SHEET_STATUS:
		sl_imp_copy_field(buf, len, v.s);
		break;
	case SL_COL_INT:
	case SL_COL_BOOL:
		snprintf(buf, len, "%" PRId64, v.i);
		break;
	case SL_COL_REAL:
		snprintf(buf, len, "%.17g", v.d);
		break;
	case SL_COL_TIME:
		if (sl_time_format(v.i, buf, len) != SL_OK)
			snprintf(buf, len, "%" PRId64 " us", v.i);
		break;
	}
}

void sl_imp_progress(struct sl_import *imp, const char *phase, uint64_t done, uint64_t total)
{
	if (!imp->opts.progress)
		return;
	/* Every phase is shown against the same total: the bytes imported. */
	uint64_t all = imp->progress_total ? imp->progress_total : 1;
	uint64_t scaled = total ? (uint64_t)((double)done / (double)total * (double)all) : all;
	imp->opts.progress(imp->opts.progress_ctx, phase, scaled, all);
}

/* ---- the handle -------------------------------------------------------- */

void sl_import_options_init(struct sl_import_options *opts)
{
	*opts = (struct sl_import_options){ .commit_events = 4096 };
}

int sl_import_new(sl_import **out, const struct sl_import_options *opts)
{
	struct sl_import *imp = calloc(1, sizeof *imp);
	if (!imp)
		return SL_ENOMEM;
	if (opts)
		imp->opts = *opts;
	else
		sl_import_options_init(&imp->opts);
	if (imp->opts.commit_events == 0)
		imp->opts.commit_events = 4096;
	*out = imp;
	return SL_OK;
}

void sl_import_free(sl_import *imp)
{
	if (!imp)
		return;
	for (size_t i = 0; i < imp->n_jobs; i++) {
		sl_state_free(&imp->jobs[i].st);
		json_decref(imp->jobs[i].exact);
	}
	free(imp->jobs);
	for (size_t i = 0; i < imp->n_sources; i++)
		free(imp->sources[i]);
	free(imp->sources);
	for (size_t i = 0; i < imp->n_fixes; i++)
		free(imp->fixes[i].job_id);
	free(imp->fixes);
	if (imp->src) {
		sqlite3_exec(imp->src, "ROLLBACK", NULL, NULL, NULL);
		sqlite3_close(imp->src);
	}
	free(imp);
}

const char *sl_import_errmsg(const sl_import *imp)
{
	return imp->errmsg;
}

const struct sl_import_problem *sl_import_problem(const sl_import *imp)
{
	return imp->has_problem ? &imp->problem : NULL;
}

void sl_import_get_report(struct sl_import_report *out, const sl_import *imp)
{
	*out = imp->rep;
}

int sl_imp_add_source(struct sl_import *imp, const char *path, const char **out)
{
	char **v = realloc(imp->sources, (imp->n_sources + 1) * sizeof *v);
	if (!v)
		return sl_imp_fail(imp, SL_ENOMEM, "out of memory");
	imp->sources = v;
	if (!(v[imp->n_sources] = strdup(path)))
		return sl_imp_fail(imp, SL_ENOMEM, "out of memory");
	*out = v[imp->n_sources++];
	return SL_OK;
}

int sl_imp_add_job(struct sl_import *imp, struct sl_imp_job **out)
{
	if (imp->n_jobs == imp->cap_jobs) {
		size_t cap = imp->cap_jobs ? imp->cap_jobs * 2 : 16;
		struct sl_imp_job *v = realloc(imp->jobs, cap * sizeof *v);
		if (!v)
			return sl_imp_fail(imp, SL_ENOMEM, "out of memory");
		imp->jobs = v;
		imp->cap_jobs = cap;
	}
	struct sl_imp_job *j = &imp->jobs[imp->n_jobs++];
	*j = (struct sl_imp_job){ .source = imp->n_sources ? imp->sources[imp->n_sources - 1] : "" };
	sl_state_init(&j->st);
	*out = j;
	return SL_OK;
}

static int job_cmp(const void *a, const void *b)
{
	return strcmp(((const struct sl_imp_job *)a)->st.id, ((const struct sl_imp_job *)b)->st.id);
}

int sl_imp_sort_jobs(struct sl_import *imp)
{
	if (imp->n_jobs > 1)
		qsort(imp->jobs, imp->n_jobs, sizeof *imp->jobs, job_cmp);
	for (size_t i = 1; i < imp->n_jobs; i++) {
		const struct sl_imp_job *a = &imp->jobs[i - 1], *b = &imp->jobs[i];
		if (strcmp(a->st.id, b->st.id) == 0) {
			struct sl_import_problem w = { 0 };
			sl_imp_copy_field(w.source, sizeof w.source, b->source);
			sl_imp_copy_field(w.job_id, sizeof w.job_id, b->st.id);
			return sl_imp_damage(imp, &w, "the job is also in %s", a->source);
		}
	}
	return SL_OK;
}

struct sl_imp_job *sl_imp_find_job(const struct sl_import *imp, const char *id)
{
	struct sl_imp_job key;
	key.st.id = (char *)id;
	return imp->n_jobs ? bsearch(&key, imp->jobs, imp->n_jobs, sizeof key, job_cmp) : NULL;
}

/* ---- the events of one job -------------------------------------------- */

/* One event of the import, sorted by (time, prio, order). */
struct imp_event {
	int64_t time;
	int prio;
	size_t order;
	sl_event *ev;
};

static int event_cmp(const void *pa, const void *pb)
{
	const struct imp_event *a = pa, *b = pb;
	if (a->time != b->time)
		return a->time < b->time ? -1 : 1;
	if (a->prio != b->prio)
		return a->prio < b->prio ? -1 : 1;
	return a->order < b->order ? -1 : a->order > b->order;
}

struct event_vec {
	struct imp_event *v;
	size_t n, cap;
};

static int vec_push(struct event_vec *l, sl_event *ev, int prio)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct imp_event *p = realloc(l->v, cap * sizeof *p);
		if (!p)
			return SL_ENOMEM;
		l->v = p;
		l->cap = cap;
	}
	l->v[l->n] = (struct imp_event){ ev->time_us, prio, l->n, ev };
	l->n++;
	return SL_OK;
}

static void vec_free(struct event_vec *l)
{
	for (size_t i = 0; i < l->n; i++)
		sl_event_free(l->v[i].ev);
	free(l->v);
	*l = (struct event_vec){ 0 };
}

void sl_imp_note_normalized(struct sl_import *imp, const char *job, int64_t sheet,
			    int64_t execution_id, const char *column, const char *text, int64_t us)
{
	if (imp->rep.normalized++ >= 3)
		return;
	char t[SL_TIME_BUFSZ] = "?", where[96] = "";
	(void)sl_time_format(us, t, sizeof t);
	if (execution_id)
		snprintf(where, sizeof where, " execution_history id %" PRId64, execution_id);
	else if (sheet)
		snprintf(where, sizeof where, " sheet %" PRId64, sheet);
	size_t len = strlen(imp->rep.normalized_note);
	snprintf(imp->rep.normalized_note + len, sizeof imp->rep.normalized_note - len,
		 "%sjob '%.64s'%s %s: '%.40s' -> %s", len ? "; " : "", job, where, column, text, t);
}

void sl_imp_note_replaced(struct sl_import *imp, const char *job, int64_t sheet,
			  int64_t execution_id, const char *column)
{
	if (imp->rep.replaced++ >= 3)
		return;
	char where[96] = "";
	if (execution_id)
		snprintf(where, sizeof where, " execution_history id %" PRId64, execution_id);
	else if (sheet)
		snprintf(where, sizeof where, " sheet %" PRId64, sheet);
	size_t len = strlen(imp->rep.replaced_note);
	snprintf(imp->rep.replaced_note + len, sizeof imp->rep.replaced_note - len,
		 "%sjob '%.64s'%s %s", len ? "; " : "", job, where, column);
}

int sl_imp_keep_exact(json_t **exact, int64_t sheet, const char *column, const char *text,
		      size_t n)
{
	char key[24];
	snprintf(key, sizeof key, "%" PRId64, sheet);
	if (!*exact && !(*exact = json_object()))
		return SL_ENOMEM;
	json_t *row = json_object_get(*exact, key);
	if (!row && (json_object_set_new(*exact, key, row = json_object()) != 0 || !row))
		return SL_ENOMEM;
	return json_object_set_new(row, column, json_stringn(text, n)) == 0 ? SL_OK : SL_ENOMEM;
}

/* The exact values of row `sheet` of j as JSON text (NULL: none, or out of
 * memory when *nomem). */
static char *exact_of(const struct sl_imp_job *j, int64_t sheet, bool *nomem)
{
	char key[24];
	snprintf(key, sizeof key, "%" PRId64, sheet);
	const json_t *row = j->exact ? json_object_get(j->exact, key) : NULL;
	char *s = row ? sl_json_dumps(row) : NULL;
	*nomem |= row && !s;
	return s;
}

bool sl_imp_is_fixed(const struct sl_import *imp, const char *job_id, int64_t sheet_num,
		     const char *column)
{
	for (size_t i = 0; i < imp->n_fixes; i++) {
		const struct sl_imp_fix *f = &imp->fixes[i];
		if (f->sheet_num == sheet_num && strcmp(f->column, column) == 0 &&
		    strcmp(f->job_id, job_id) == 0)
			return true;
	}
	return false;
}

int sl_imp_fix_cell(struct sl_import *imp, const char *job, int64_t sheet, const char *column,
		    const char *before, const char *after)
{
	if (imp->n_fixes == imp->cap_fixes) {
		size_t cap = imp->cap_fixes ? 2 * imp->cap_fixes : 16;
		struct sl_imp_fix *v = realloc(imp->fixes, cap * sizeof *v);
		if (!v)
			return SL_ENOMEM;
		imp->fixes = v;
		imp->cap_fixes = cap;
	}
	char *id = strdup(job);
	if (!id)
		return SL_ENOMEM;
	imp->fixes[imp->n_fixes++] = (struct sl_imp_fix){ id, sheet, column };
	imp->rep.fixes++;
	if (imp->rep.fixes > 3)
		return SL_OK;
	char where[64] = "";
	if (sheet)
		snprintf(where, sizeof where, " sheet %" PRId64, sheet);
	size_t len = strlen(imp->rep.fixes_note);
	snprintf(imp->rep.fixes_note + len, sizeof imp->rep.fixes_note - len,
		 "%sjob '%s'%s %s: %s -> %s", len ? "; " : "", job, where, column, before, after);
	return SL_OK;
}

/* Records that column c of a row of job `job` (sheet 0: the job row) reads
 * back as after (a row of expect) where the source has before. */
static int add_fix(struct sl_import *imp, const char *job, int64_t sheet,
		   const struct sl_state_column *c, const void *before, const void *after)
{
	char a[64], b[64];
	sl_imp_value_text(c, before, a, sizeof a);
	sl_imp_value_text(c, after, b, sizeof b);
	return sl_imp_fix_cell(imp, job, sheet, c->name, a, b);
}

/* Records every cell in which expect (the job as the original's load()
 * returns it) differs from want (as read).  The invariants change values
 * only, never which rows there are. */
static int note_fixes(struct sl_import *imp, const struct sl_job_state *want,
		      const struct sl_job_state *expect)
{
	int rc = SL_OK;
	struct sl_value a, b;
	for (size_t k = 0; k < SL_STATE_N_JOB_COLUMNS && rc == SL_OK; k++) {
		const struct sl_state_column *c = &sl_state_job_columns[k];
		sl_state_column_get(&a, c, want);
		sl_state_column_get(&b, c, expect);
		if (!sl_state_column_value_equal(c, &a, &b))
			rc = add_fix(imp, want->id, 0, c, want, expect);
	}
	assert(want->n_sheets == expect->n_sheets);
	for (size_t i = 0; i < want->n_sheets && rc == SL_OK; i++)
		for (size_t k = 0; k < SL_STATE_N_SHEET_COLUMNS && rc == SL_OK; k++) {
			const struct sl_state_column *c = &sl_state_sheet_columns[k];
			sl_state_column_get(&a, c, &want->sheets[i]);
			sl_state_column_get(&b, c, &expect->sheets[i]);
			if (!sl_state_column_value_equal(c, &a, &b))
				rc = add_fix(imp, want->id, want->sheets[i].sheet_num, c,
					     &want->sheets[i], &expect->sheets[i]);
		}
	return rc;
}

/* Appends the events that recreate job j to l, checking in memory that
 * they give back exactly the state read. */
static int job_events(struct sl_import *imp, const struct sl_imp_job *j, struct event_vec *l)
{
	const struct sl_job_state *want = &j->st;
	int64_t t_fields = want->updated_at_us;
	int64_t t_created = want->created_at_us < t_fields ? want->created_at_us : t_fields;
	if (j->has_first_exec && j->first_exec_us < t_created)
		t_created = j->first_exec_us;

	sl_event **evs = NULL, *touch = NULL;
	size_t n = 0;
	struct sl_job_state check, expect;
	struct sl_refusal why;
	sl_state_init(&check);
	sl_state_init(&expect);
	int rc = sl_state_diff(&evs, &n, NULL, want, t_fields, &why);
	if (rc != SL_OK) {
		rc = sl_imp_fail(imp, rc, "%s: job '%s': cannot be turned into events: %s%s%s",
				 j->source, want->id, why.field, why.field[0] ? ": " : "",
				 why.reason);
		goto done;
	}
	/* What the rules will make of it: the row, with the original's load-time
	 * invariants kept at the time of its fields. */
	if ((rc = sl_state_copy(&expect, want)) != SL_OK ||
	    (rc = sl_rules_invariants(&expect, t_fields)) != SL_OK ||
	    (rc = note_fixes(imp, want, &expect)) != SL_OK) {
		rc = sl_imp_fail(imp, rc, "out of memory");
		goto done;
	}
	assert(n >= 1 && evs[0]->body_case == STATELOG__EVENT__BODY_JOB_CREATED);
	evs[0]->time_us = t_created;

	/* The job_fields_set last, carrying updated_at. */
	sl_event *fields = NULL;
	if (n >= 2 && evs[1]->body_case == STATELOG__EVENT__BODY_JOB_FIELDS_SET) {
		fields = evs[1];
		memmove(&evs[1], &evs[2], (n - 2) * sizeof *evs);
		evs[n - 1] = fields;
	} else {
		rc = sl_state_touch_event(&touch, want->id, t_fields);
		if (rc != SL_OK) {
			rc = sl_imp_fail(imp, rc, "out of memory");
			goto done;
		}
		fields = touch;
	}
	fields->job_fields_set->has_updated_at_us = 1;
	fields->job_fields_set->updated_at_us = want->updated_at_us;
	/* The source's exact values, where the ones stored had to differ. */
	bool nomem = false;
	fields->job_fields_set->source = exact_of(j, 0, &nomem);
	for (size_t i = 1; i < n; i++)
		if (evs[i]->body_case == STATELOG__EVENT__BODY_SHEET_FIELDS_SET)
			evs[i]->sheet_fields_set->source =
				exact_of(j, evs[i]->sheet_fields_set->sheet_num, &nomem);
	if (nomem) {
		rc = sl_imp_fail(imp, SL_ENOMEM, "out of memory");
		goto done;
	}

	for (size_t i = 0; i < n + (touch != NULL) && rc == SL_OK; i++)
		rc = sl_rules_apply(&check, i < n ? evs[i] : touch, &why);
	int64_t sheet = 0;
	const char *col = rc == SL_OK ? sl_state_first_difference(&check, &expect, 0, &sheet)
				      : NULL;
	if (rc != SL_OK || col) {
		/* The model refused its own inverse: a bug, not the source's fault. */
		rc = sl_imp_fail(imp, rc != SL_OK ? rc : SL_EINVAL,
				 "%s: job '%s': its events do not give it back (%s, sheet %" PRId64
				 ")", j->source, want->id, col ? col : why.reason, sheet);
		goto done;
	}
	for (size_t i = 0; i < n; i++) {
		if ((rc = vec_push(l, evs[i], i == 0 ? PRIO_CREATED : PRIO_FIELDS)) != SL_OK)
			goto nomem;
		evs[i] = NULL;
	}
	if (touch) {
		if ((rc = vec_push(l, touch, PRIO_FIELDS)) != SL_OK)
			goto nomem;
		touch = NULL;
	}
	goto done;
nomem:
	rc = sl_imp_fail(imp, SL_ENOMEM, "out of memory");
done:
	sl_state_free(&check);
	sl_state_free(&expect);
	sl_events_free(evs, n);
	sl_event_free(touch);
	return rc;
}

/* ---- files ------------------------------------------------------------- */

/* Removes a directory tree (the temporary log); NULL is fine. */
static void remove_tree(const char *path)
{
	if (path)
		sl_proj_remove_tree(path);
}

/* Removes an SQLite database file and its companions; NULL is fine. */
static void remove_db(const char *path)
{
	if (!path)
		return;
	static const char *const suffix[] = { "", "-wal", "-shm", "-journal" };
	char buf[4200];
	for (size_t i = 0; i < sizeof suffix / sizeof suffix[0]; i++) {
		snprintf(buf, sizeof buf, "%s%s", path, suffix[i]);
		unlink(buf);
	}
}

/* *dir_out = the directory holding path ("." when none), *base_out = its
 * last component without trailing slashes.  Both owned. */
static int split_path(const char *path, char **dir_out, char **base_out)
{
	size_t len = strlen(path);
	while (len > 1 && path[len - 1] == '/')
		len--;
	size_t b = len;
	while (b > 0 && path[b - 1] != '/')
		b--;
	char *dir = b == 0 ? strdup(".") : strndup(path, b > 1 ? b - 1 : 1);
	char *base = strndup(path + b, len - b);
	if (!dir || !base) {
		free(dir);
		free(base);
		return SL_ENOMEM;
	}
	*dir_out = dir;
	*base_out = base;
	return SL_OK;
}

/* A new temporary directory (dir true) or file beside path, named
 * ".<base>.import-XXXXXX".  *out owned. */
static int make_temp(struct sl_import *imp, const char *path, bool dir, char **out)
{
	char *parent = NULL, *base = NULL, *tmpl = NULL;
	int rc = split_path(path, &parent, &base);
	if (rc != SL_OK)
		return sl_imp_fail(imp, rc, "out of memory");
	size_t len = strlen(parent) + strlen(base) + 32;
	if (!(tmpl = malloc(len))) {
		rc = sl_imp_fail(imp, SL_ENOMEM, "out of memory");
		goto done;
	}
	snprintf(tmpl, len, "%s/.%s.import-XXXXXX", parent, base);
	/* mkdtemp() and mkstemp() make private files; the log and database
	 * get the modes `statelog init` and SQLite give theirs. */
	if (dir) {
		bool made = mkdtemp(tmpl) != NULL;
		if (!made || chmod(tmpl, 0755) != 0)
			rc = sl_imp_fail(imp, errno == ENOENT ? SL_ENOTFOUND : SL_EIO,
				      "%s: cannot create a directory beside it: %s", path,
				      strerror(errno));
		if (made && rc != SL_OK)
			rmdir(tmpl);
	} else {
		int fd = mkstemp(tmpl);
		if (fd < 0 || fchmod(fd, 0644) != 0)
			rc = sl_imp_fail(imp, errno == ENOENT ? SL_ENOTFOUND : SL_EIO,
				      "%s: cannot create a file beside it: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		if (fd >= 0 && rc != SL_OK)
			unlink(tmpl);
	}
	if (rc == SL_OK) {
		*out = tmpl;
		tmpl = NULL;
	}
done:
	free(tmpl);
	free(parent);
	free(base);
	return rc;
}

/* fsyncs the directory holding path, so that a rename in it is durable. */
static int sync_parent(const char *path)
{
	char *parent = NULL, *base = NULL;
	if (split_path(path, &parent, &base) != SL_OK)
		return -1;
	int fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r = fd < 0 ? -1 : fsync(fd);
	if (fd >= 0)
		close(fd);
	free(parent);
	free(base);
	return r;
}

/* rename() that never replaces what is at `to`. */
static int rename_noreplace(const char *from, const char *to)
{
#ifdef RENAME_NOREPLACE
	if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
#endif
	/* A file system without RENAME_NOREPLACE: check, then rename (a
	 * directory cannot replace a non-empty one anyway). */
	struct stat sb;
	if (lstat(to, &sb) == 0) {
		errno = EEXIST;
		return -1;
	}
	return rename(from, to);
}

/* SL_OK when neither target exists (an empty log directory is allowed and
 * *empty_dir set: it is removed just before the rename). */
static int check_targets(struct sl_import *imp, const char *log_dir, const char *db_path,
			 bool *empty_dir)
{
	struct stat sb;
	*empty_dir = false;
	if (lstat(log_dir, &sb) == 0) {
		bool empty = false;
		if (S_ISDIR(sb.st_mode)) {
			/* Only looked at now: nothing is changed until the new log
			 * is ready to take its place. */
			empty = true;
			DIR *d = opendir(log_dir);
			struct dirent *e;
			while (d && (e = readdir(d)))
				if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
					empty = false;
			if (!d)
				empty = false;
			if (d)
				closedir(d);
		}
		if (!empty)
			return sl_imp_fail(imp, SL_EEXIST, "%s: already exists; import writes a new "
					"log and never adds to one (importing twice would "
					"duplicate every job)", log_dir);
		*empty_dir = true;
	} else if (errno != ENOENT) {
		return sl_imp_fail(imp, SL_EIO, "%s: %s", log_dir, strerror(errno));
	}
	if (lstat(db_path, &sb) == 0)
		return sl_imp_fail(imp, SL_EEXIST, "%s: already exists; import writes a new "
				"database beside the new log (remove it or choose --db)", db_path);
	if (errno != ENOENT)
		return sl_imp_fail(imp, SL_EIO, "%s: %s", db_path, strerror(errno));
	return SL_OK;
}

/* ---- writing ----------------------------------------------------------- */

struct writer {
	struct sl_import *imp;
	sl_log *log;
	const char *dir;
	sl_event **batch;
	size_t n, bytes;
	uint64_t done_bytes, total_bytes;
};

static int writer_flush(struct writer *w)
{
	if (w->n == 0)
		return SL_OK;
	struct sl_commit_info info;
	int rc = sl_log_append(w->log, w->batch, w->n, &info);
	if (rc != SL_OK)
		return sl_imp_fail(w->imp, rc, "%s: %s", w->dir, sl_log_errmsg(w->log));
	struct sl_import_report *r = &w->imp->rep;
	if (r->events == 0)
		r->first_time_us = w->batch[0]->time_us;
	r->last_time_us = w->batch[w->n - 1]->time_us;
	r->events += w->n;
	r->commits++;
	for (size_t i = 0; i < w->n; i++)
		sl_event_free(w->batch[i]);
	w->n = 0;
	w->bytes = 0;
	sl_imp_progress(w->imp, "writing the log", w->done_bytes, w->total_bytes);
	return SL_OK;
}

/* Takes ev over (frees it on failure). */
static int writer_add(struct writer *w, sl_event *ev)
{
	size_t sz = sl_event_encoded_size(ev);
	if (w->n > 0 && (w->n >= w->imp->opts.commit_events || w->bytes + sz > IMP_COMMIT_BYTES)) {
		int rc = writer_flush(w);
		if (rc != SL_OK) {
			sl_event_free(ev);
			return rc;
		}
	}
	w->batch[w->n++] = ev;
	w->bytes += sz;
	w->done_bytes += sz;
	return SL_OK;
}

/* Appends every event in time order: the jobs' events (sorted in l) merged
 * with the history rows (in time order from the source). */
static int write_events(struct sl_import *imp, struct writer *w, struct event_vec *l)
{
	struct sl_imp_history h = { 0 };
	sl_event *hist = NULL;
	int rc = SL_OK;
	if (imp->kind == IMP_DB) {
		if ((rc = sl_imp_db_history_open(imp, &h)) != SL_OK ||
		    (rc = sl_imp_db_history_next(imp, &h, &hist)) != SL_OK)
			goto done;
	}
	size_t i = 0;
	while (rc == SL_OK && (i < l->n || hist)) {
		bool take_hist = hist && (i == l->n || hist->time_us < l->v[i].time ||
					  (hist->time_us == l->v[i].time &&
					   PRIO_HISTORY < l->v[i].prio));
		if (take_hist) {
			sl_event *ev = hist;
			hist = NULL;
			if ((rc = writer_add(w, ev)) == SL_OK)
				rc = sl_imp_db_history_next(imp, &h, &hist);
		} else {
			rc = writer_add(w, l->v[i].ev);
			l->v[i++].ev = NULL;
		}
	}
	if (rc == SL_OK)
		rc = writer_flush(w);
done:
	sl_event_free(hist);
	sl_imp_db_history_close(&h);
	return rc;
}

static void proj_progress(void *ctx, uint64_t done, uint64_t total)
{
	sl_imp_progress(ctx, "projecting", done, total);
}

int sl_import_write(sl_import *imp, const char *log_dir, const char *db_path,
		    struct sl_import_report *out)
{
	char *tmp_log = NULL, *tmp_db = NULL;
	struct event_vec l = { 0 };
	struct writer w = { .imp = imp };
	sl_proj *p = NULL;
	bool empty_dir = false, log_placed = false;
	int rc;

	if (imp->written)
		return sl_imp_fail(imp, SL_EINVAL, "an import is written once");
	imp->written = true;
	if (imp->broken)
		return sl_imp_fail(imp, SL_EINVAL, "a read failed: nothing to write");
	if (imp->kind == IMP_NONE)
		return sl_imp_fail(imp, SL_EINVAL, "nothing to import: no source was read");
	if ((rc = check_targets(imp, log_dir, db_path, &empty_dir)) != SL_OK)
		return rc;

	/* Every job's events, checked in memory, before anything is written. */
	for (size_t i = 0; i < imp->n_jobs; i++)
		if ((rc = job_events(imp, &imp->jobs[i], &l)) != SL_OK)
			goto fail;
	if (l.n > 1)
		qsort(l.v, l.n, sizeof *l.v, event_cmp);

	if ((rc = make_temp(imp, log_dir, true, &tmp_log)) != SL_OK ||
	    (rc = make_temp(imp, db_path, false, &tmp_db)) != SL_OK)
		goto fail;

	/* The log.  Durability none while writing, one sync at the end: the
	 * whole log is thrown away unless everything succeeds. */
	struct sl_log_options lo;
	sl_log_options_init(&lo);
	lo.create = true;
	lo.durability = SL_DURABLE_NONE;
	char err[1024] = "";
	if ((rc = sl_log_open(&w.log, tmp_log, &lo, NULL, err, sizeof err)) != SL_OK) {
		rc = sl_imp_fail(imp, rc, "%s", err);
		goto fail;
	}
	uint8_t id[SL_LOG_ID_SIZE];
	sl_log_id(id, w.log);
	sl_log_id_format(imp->rep.log_id, id);
	w.dir = log_dir;
	w.batch = malloc(imp->opts.commit_events * sizeof *w.batch);
	if (!w.batch) {
		rc = sl_imp_fail(imp, SL_ENOMEM, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < l.n; i++)
		w.total_bytes += sl_event_encoded_size(l.v[i].ev);
	w.total_bytes += imp->history_bytes;
	imp->progress_total = w.total_bytes;
	if ((rc = write_events(imp, &w, &l)) != SL_OK)
		goto fail;
	/* Packed now rather than by a later writer's background compactor:
	 * an imported log is read (projected, compared) at once. */
	if ((rc = sl_log_compact(w.log)) != SL_OK || (rc = sl_log_sync(w.log)) != SL_OK) {
		rc = sl_imp_fail(imp, rc, "%s: %s", log_dir, sl_log_errmsg(w.log));
		goto fail;
	}
	rc = sl_log_close(w.log);
	w.log = NULL;
	if (rc != SL_OK) {
		rc = sl_imp_fail(imp, rc, "%s: closing the new log: %s", log_dir, sl_strerror(rc));
		goto fail;
	}

	/* The projection, and the comparison with the source. */
	struct sl_proj_options po;
	sl_proj_options_init(&po);
	po.progress = proj_progress;
	po.progress_ctx = imp;
	struct sl_proj_stats ps;
	if ((rc = sl_proj_open(&p, tmp_log, tmp_db, &po, &ps, err, sizeof err)) != SL_OK) {
		rc = sl_imp_fail(imp, rc, "%s", err);
		goto fail;
	}
	if ((rc = sl_proj_catch_up(p, &ps)) != SL_OK) {
		rc = sl_imp_fail(imp, rc, "%s: projecting the new log: %s", db_path, sl_proj_errmsg(p));
		goto fail;
	}
	if (ps.rejected_events || ps.unknown_events || sl_proj_last_seq(p) != imp->rep.events) {
		rc = sl_imp_fail(imp, SL_EINVAL, "%s: the projection applied %" PRIu64 " of %" PRIu64
			      " events (%" PRIu64 " refused by the rules, the first at seq %"
			      PRIu64 ")", db_path, sl_proj_last_seq(p), imp->rep.events,
			      ps.rejected_events, ps.first_rejected_seq);
		goto fail;
	}
	rc = imp->kind == IMP_DB ? sl_imp_db_compare(imp, sl_proj_db(p)) : sl_imp_json_compare(imp, p);
	if (rc != SL_OK)
		goto fail;
	sl_proj_close(p);
	p = NULL;

	/* Into place: the log first (the truth), then its database. */
	if (empty_dir && rmdir(log_dir) != 0 && errno != ENOENT) {
		rc = sl_imp_fail(imp, SL_EIO, "%s: %s", log_dir, strerror(errno));
		goto fail;
	}
	if (rename_noreplace(tmp_log, log_dir) != 0) {
		rc = sl_imp_fail(imp, errno == EEXIST || errno == ENOTEMPTY ? SL_EEXIST : SL_EIO,
			      "%s: cannot put the new log in place: %s", log_dir, strerror(errno));
		goto fail;
	}
	log_placed = true;
	if (rename_noreplace(tmp_db, db_path) != 0) {
		rc = sl_imp_fail(imp, errno == EEXIST ? SL_EEXIST : SL_EIO,
			      "%s: cannot put the new database in place: %s", db_path,
			      strerror(errno));
		goto fail;
	}
	sync_parent(log_dir);
	sync_parent(db_path);
	if (out)
		*out = imp->rep;
	rc = SL_OK;
	goto done;
fail:
	sl_proj_close(p);
	p = NULL;
	if (w.log)
		sl_log_close(w.log);
	if (log_placed && rename(log_dir, tmp_log) != 0) {
		/* Cannot happen short of a concurrent rename; keep the message. */
		remove_tree(log_dir);
	}
	remove_tree(tmp_log);
	remove_db(tmp_db);
	if (empty_dir)
		mkdir(log_dir, 0755);
done:
	for (size_t i = 0; w.batch && i < w.n; i++)
		sl_event_free(w.batch[i]);
	free(w.batch);
	vec_free(&l);
	free(tmp_log);
	free(tmp_db);
	return rc;
}
