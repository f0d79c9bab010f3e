/* state.c: the job and sheet state structures, their column catalogue, and
 * init / free / copy / compare / sheet lookup.  No rules of the model here
 * (those are in apply.c): only the shape of the data.
 *
 * Invariants kept here:
 *  - st->sheets is sorted by sheet_num with no duplicates and no sheet_num
 *    below 1 (sl_state_add_sheet() is the only way in);
 *  - every text column is NULL or a malloc'ed string owned by its row;
 *  - a nullable non-text column whose has_ flag is false holds 0, so that
 *    memberwise comparison of two rows cannot see stale values.
 */
#include "state.h"

#include <assert.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

/* ---- enumerations ------------------------------------------------------ */

static const char *const job_status_names[SL_JOB_STATUS_COUNT] = {
	"pending", "running", "completed", "failed", "paused",
	"paused_at_chain", "cancelled",
};

static const char *const sheet_status_names[SL_SHEET_STATUS_COUNT] = {
	"pending", "ready", "dispatched", "in_progress", "waiting",
	"retry_scheduled", "fermata", "completed", "failed", "skipped",
	"cancelled",
};

const char *const sl_error_category_names[] = {
	"rate_limit", "transient", "validation", "auth", "network", "timeout",
	"signal", "fatal", "configuration", "preflight", "escalation", NULL,
};
const char *const sl_outcome_category_names[] = {
	"success_first_try", "success_retry", "success_completion",
	"failed_exhausted", "failed_fatal", "skipped_by_escalation", NULL,
};
const char *const sl_exit_reason_names[] = {
	"completed", "timeout", "killed", "error", NULL,
};
const char *const sl_execution_mode_names[] = {
	"normal", "completion", "retry", NULL,
};

const char *sl_job_status_name(enum sl_job_status s)
{
	return (unsigned)s < SL_JOB_STATUS_COUNT ? job_status_names[s] : "?";
}

const char *sl_sheet_status_name(enum sl_sheet_status s)
{
	return (unsigned)s < SL_SHEET_STATUS_COUNT ? sheet_status_names[s] : "?";
}

static int name_index(const char *const *names, size_t n, const char *name)
{
	for (size_t i = 0; name && i < n; i++)
		if (strcmp(names[i], name) == 0)
			return (int)i;
	return -1;
}

int sl_job_status_from_name(enum sl_job_status *out, const char *name)
{
	int i = name_index(job_status_names, SL_JOB_STATUS_COUNT, name);
	if (i < 0)
		return SL_EINVAL;
	*out = (enum sl_job_status)i;
	return SL_OK;
}

int sl_sheet_status_from_name(enum sl_sheet_status *out, const char *name)
{
	int i = name_index(sheet_status_names, SL_SHEET_STATUS_COUNT, name);
	if (i < 0)
		return SL_EINVAL;
	*out = (enum sl_sheet_status)i;
	return SL_OK;
}

bool sl_state_name_in(const char *const *names, const char *name)
{
	for (; name && *names; names++)
		if (strcmp(*names, name) == 0)
			return true;
	return false;
}

/* ---- the column catalogue ---------------------------------------------- */

#define JOB_COL(n, f, t, null, k, j, member, has, chk) \
	{ n, f, t, null, k, j, offsetof(struct sl_job_state, member), has, chk }
#define JOB_HAS(member) offsetof(struct sl_job_state, member)
#define SHEET_COL(n, f, t, null, j, member, has, chk) \
	{ n, f, t, null, false, j, offsetof(struct sl_sheet_state, member), has, chk }
#define SHEET_HAS(member) offsetof(struct sl_sheet_state, member)

/* Field numbers are those of JobFieldsSet in events.proto; id has none.
 * The order is the table's, and model_internal.h names the positions. */
const struct sl_state_column sl_state_job_columns[SL_STATE_N_JOB_COLUMNS] = {
	JOB_COL("id", 0, SL_COL_TEXT, false, true, false, id, 0, SL_CHECK_NONE),
	JOB_COL("name", 1, SL_COL_TEXT, false, false, false, name, 0, SL_CHECK_NONE),
	JOB_COL("description", 15, SL_COL_TEXT, true, false, false, description, 0,
		SL_CHECK_NONE),
	JOB_COL("status", 2, SL_COL_JOB_STATUS, false, false, false, status, 0,
		SL_CHECK_JOB_STATUS),
	JOB_COL("total_sheets", 3, SL_COL_INT, false, false, false, total_sheets, 0,
		SL_CHECK_MIN_1),
	JOB_COL("last_completed_sheet", 4, SL_COL_INT, false, false, false,
		last_completed_sheet, 0, SL_CHECK_NONE),
	JOB_COL("current_sheet", 5, SL_COL_INT, true, false, false, current_sheet,
		JOB_HAS(has_current_sheet), SL_CHECK_NONE),
	JOB_COL("config_hash", 6, SL_COL_TEXT, true, false, false, config_hash, 0,
		SL_CHECK_NONE),
	JOB_COL("config_snapshot", 7, SL_COL_TEXT, true, false, true, config_snapshot, 0,
		SL_CHECK_JSON_OBJECT),
	JOB_COL("pid", 9, SL_COL_INT, true, false, false, pid, JOB_HAS(has_pid),
		SL_CHECK_NONE),
	JOB_COL("error_message", 10, SL_COL_TEXT, true, false, false, error_message, 0,
		SL_CHECK_NONE),
	JOB_COL("total_retry_count", 11, SL_COL_INT, false, false, false,
		total_retry_count, 0, SL_CHECK_NONE),
	JOB_COL("rate_limit_waits", 12, SL_COL_INT, false, false, false,
		rate_limit_waits, 0, SL_CHECK_NONE),
	JOB_COL("created_at", 16, SL_COL_TIME, false, false, false, created_at_us, 0,
		SL_CHECK_TIME),
	JOB_COL("updated_at", 17, SL_COL_TIME, false, false, false, updated_at_us, 0,
		SL_CHECK_TIME),
	JOB_COL("started_at", 13, SL_COL_TIME, true, false, false, started_at_us,
		JOB_HAS(has_started_at), SL_CHECK_TIME),
	JOB_COL("completed_at", 14, SL_COL_TIME, true, false, false, completed_at_us,
		JOB_HAS(has_completed_at), SL_CHECK_TIME),
	JOB_COL("config_path", 8, SL_COL_TEXT, true, false, false, config_path, 0,
		SL_CHECK_NONE),
};

/* Field numbers are those of SheetFieldsSet: 1..24 in table order. */
const struct sl_state_column sl_state_sheet_columns[SL_STATE_N_SHEET_COLUMNS] = {
	{ "sheet_num", 1, SL_COL_INT, false, true, false,
	  offsetof(struct sl_sheet_state, sheet_num), 0, SL_CHECK_MIN_1 },
	SHEET_COL("status", 2, SL_COL_SHEET_STATUS, false, false, status, 0,
		  SL_CHECK_SHEET_STATUS),
	SHEET_COL("attempt_count", 3, SL_COL_INT, false, false, attempt_count, 0,
		  SL_CHECK_NONE),
	SHEET_COL("exit_code", 4, SL_COL_INT, true, false, exit_code,
		  SHEET_HAS(has_exit_code), SL_CHECK_NONE),
	SHEET_COL("error_message", 5, SL_COL_TEXT, true, false, error_message, 0,
		  SL_CHECK_NONE),
	SHEET_COL("error_category", 6, SL_COL_TEXT, true, false, error_category, 0,
		  SL_CHECK_ERROR_CATEGORY),
	SHEET_COL("validation_passed", 7, SL_COL_BOOL, true, false, validation_passed,
		  SHEET_HAS(has_validation_passed), SL_CHECK_NONE),
	SHEET_COL("validation_details", 8, SL_COL_TEXT, true, true, validation_details, 0,
		  SL_CHECK_JSON_VALIDATION_DETAILS),
	SHEET_COL("completion_attempts", 9, SL_COL_INT, false, false,
		  completion_attempts, 0, SL_CHECK_NONE),
	SHEET_COL("passed_validations", 10, SL_COL_TEXT, true, true, passed_validations, 0,
		  SL_CHECK_JSON_TEXT_LIST),
	SHEET_COL("failed_validations", 11, SL_COL_TEXT, true, true, failed_validations, 0,
		  SL_CHECK_JSON_TEXT_LIST),
	SHEET_COL("last_pass_percentage", 12, SL_COL_REAL, true, false,
		  last_pass_percentage, SHEET_HAS(has_last_pass_percentage), SL_CHECK_NONE),
	SHEET_COL("execution_mode", 13, SL_COL_TEXT, true, false, execution_mode, 0,
		  SL_CHECK_EXECUTION_MODE),
	SHEET_COL("outcome_data", 14, SL_COL_TEXT, true, true, outcome_data, 0,
		  SL_CHECK_JSON_OUTCOME_DATA),
	SHEET_COL("confidence_score", 15, SL_COL_REAL, true, false, confidence_score,
		  SHEET_HAS(has_confidence_score), SL_CHECK_UNIT_INTERVAL),
	SHEET_COL("learned_patterns", 16, SL_COL_TEXT, true, true, learned_patterns, 0,
		  SL_CHECK_JSON_TEXT_LIST),
	SHEET_COL("similar_outcomes_count", 17, SL_COL_INT, false, false,
		  similar_outcomes_count, 0, SL_CHECK_NONE),
	SHEET_COL("success_without_retry", 18, SL_COL_BOOL, false, false,
		  success_without_retry, 0, SL_CHECK_NONE),
	SHEET_COL("outcome_category", 19, SL_COL_TEXT, true, false, outcome_category, 0,
		  SL_CHECK_OUTCOME_CATEGORY),
	SHEET_COL("started_at", 20, SL_COL_TIME, true, false, started_at_us,
		  SHEET_HAS(has_started_at), SL_CHECK_TIME),
	SHEET_COL("completed_at", 21, SL_COL_TIME, true, false, completed_at_us,
		  SHEET_HAS(has_completed_at), SL_CHECK_TIME),
	SHEET_COL("execution_duration_seconds", 22, SL_COL_REAL, true, false,
		  execution_duration_seconds, SHEET_HAS(has_execution_duration_seconds),
		  SL_CHECK_NONE),
	SHEET_COL("exit_signal", 23, SL_COL_INT, true, false, exit_signal,
		  SHEET_HAS(has_exit_signal), SL_CHECK_NONE),
	SHEET_COL("exit_reason", 24, SL_COL_TEXT, true, false, exit_reason, 0,
		  SL_CHECK_EXIT_REASON),
};

#define AT(row, off, type) ((type *)((char *)(row) + (off)))
#define CAT(row, off, type) ((const type *)((const char *)(row) + (off)))

void sl_state_column_get(struct sl_value *out, const struct sl_state_column *c, const void *row)
{
	*out = (struct sl_value){ 0 };
	if (c->type != SL_COL_TEXT && c->nullable && !*CAT(row, c->has_offset, bool)) {
		out->null = true;
		return;
	}
	switch (c->type) {
	case SL_COL_TEXT:
		out->s = *CAT(row, c->offset, char *);
		out->null = out->s == NULL;
		break;
	case SL_COL_INT:
	case SL_COL_TIME:
		out->i = *CAT(row, c->offset, int64_t);
		break;
	case SL_COL_REAL:
		out->d = *CAT(row, c->offset, double);
		break;
	case SL_COL_BOOL:
		out->i = *CAT(row, c->offset, bool);
		break;
	case SL_COL_JOB_STATUS:
		out->i = *CAT(row, c->offset, enum sl_job_status);
		out->s = sl_job_status_name((enum sl_job_status)out->i);
		break;
	case SL_COL_SHEET_STATUS:
		out->i = *CAT(row, c->offset, enum sl_sheet_status);
		out->s = sl_sheet_status_name((enum sl_sheet_status)out->i);
		break;
	}
}

bool sl_state_column_value_equal(const struct sl_state_column *c,
				 const struct sl_value *a, const struct sl_value *b)
{
	if (a->null || b->null)
		return a->null == b->null;
	switch (c->type) {
	case SL_COL_TEXT:
		return strcmp(a->s, b->s) == 0;
	case SL_COL_REAL:
		/* By bit pattern: equal means "stores the same bytes". */
		return memcmp(&a->d, &b->d, sizeof a->d) == 0;
	default:
		return a->i == b->i;
	}
}

void sl_state_column_put(const struct sl_state_column *c, void *row,
			 const struct sl_value *v, char *owned)
{
	assert(c->nullable || !v->null);
	if (c->type == SL_COL_TEXT) {
		assert((owned == NULL) == v->null);
		free(*AT(row, c->offset, char *));
		*AT(row, c->offset, char *) = owned;
		return;
	}
	if (c->nullable)
		*AT(row, c->has_offset, bool) = !v->null;
	switch (c->type) {
	case SL_COL_INT:
	case SL_COL_TIME:
		*AT(row, c->offset, int64_t) = v->null ? 0 : v->i;
		break;
	case SL_COL_REAL:
		*AT(row, c->offset, double) = v->null ? 0.0 : v->d;
		break;
	case SL_COL_BOOL:
		*AT(row, c->offset, bool) = !v->null && v->i != 0;
		break;
	case SL_COL_JOB_STATUS:
		*AT(row, c->offset, enum sl_job_status) = (enum sl_job_status)v->i;
		break;
	case SL_COL_SHEET_STATUS:
		*AT(row, c->offset, enum sl_sheet_status) = (enum sl_sheet_status)v->i;
		break;
	case SL_COL_TEXT:
		break;
	}
}

/* ---- rows, generically ------------------------------------------------- */

static void row_free_text(const struct sl_state_column *cols, size_t n, void *row)
{
	for (size_t i = 0; i < n; i++)
		if (cols[i].type == SL_COL_TEXT) {
			free(*AT(row, cols[i].offset, char *));
			*AT(row, cols[i].offset, char *) = NULL;
		}
}

/* Duplicates the text columns of a row already copied memberwise; on
 * failure the copy's text columns are all NULL again. */
static int row_dup_text(const struct sl_state_column *cols, size_t n, void *row)
{
	for (size_t i = 0; i < n; i++) {
		char **p = AT(row, cols[i].offset, char *);
		if (cols[i].type != SL_COL_TEXT || !*p)
			continue;
		char *d = strdup(*p);
		if (!d) {
			for (size_t j = i; j < n; j++)
				if (cols[j].type == SL_COL_TEXT)
					*AT(row, cols[j].offset, char *) = NULL;
			row_free_text(cols, i, row);
			return SL_ENOMEM;
		}
		*p = d;
	}
	return SL_OK;
}

static const char *row_first_difference(const struct sl_state_column *cols, size_t n,
					const void *a, const void *b, unsigned flags)
{
	for (size_t i = 0; i < n; i++) {
		if ((flags & SL_STATE_IGNORE_UPDATED_AT) &&
		    cols == sl_state_job_columns &&
		    cols[i].offset == offsetof(struct sl_job_state, updated_at_us))
			continue;
		struct sl_value va, vb;
		sl_state_column_get(&va, &cols[i], a);
		sl_state_column_get(&vb, &cols[i], b);
		if (!sl_state_column_value_equal(&cols[i], &va, &vb))
			return cols[i].name;
	}
	return NULL;
}

/* ---- sheets ------------------------------------------------------------ */

int sl_sheet_init(struct sl_sheet_state *sh, int64_t sheet_num)
{
	*sh = (struct sl_sheet_state){ .sheet_num = sheet_num, .status = SL_SHEET_PENDING };
	sh->passed_validations = strdup("[]");
	sh->failed_validations = strdup("[]");
	sh->learned_patterns = strdup("[]");
	if (!sh->passed_validations || !sh->failed_validations || !sh->learned_patterns) {
		sl_sheet_free(sh);
		return SL_ENOMEM;
	}
	return SL_OK;
}

void sl_sheet_free(struct sl_sheet_state *sh)
{
	if (!sh)
		return;
	row_free_text(sl_state_sheet_columns, SL_STATE_N_SHEET_COLUMNS, sh);
	free(sh->extra);
	*sh = (struct sl_sheet_state){ 0 };
}

/* Whether two extra texts (NULL: none) are the same. */
static bool extra_equal(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

int sl_sheet_copy(struct sl_sheet_state *out, const struct sl_sheet_state *src)
{
	struct sl_sheet_state tmp = *src;
	tmp.extra = NULL;
	int rc = row_dup_text(sl_state_sheet_columns, SL_STATE_N_SHEET_COLUMNS, &tmp);
	if (rc == SL_OK && src->extra && !(tmp.extra = strdup(src->extra))) {
		row_free_text(sl_state_sheet_columns, SL_STATE_N_SHEET_COLUMNS, &tmp);
		rc = SL_ENOMEM;
	}
	if (rc == SL_OK)
		*out = tmp;
	return rc;
}

bool sl_sheet_equal(const struct sl_sheet_state *a, const struct sl_sheet_state *b)
{
	return !row_first_difference(sl_state_sheet_columns, SL_STATE_N_SHEET_COLUMNS,
				     a, b, 0) && extra_equal(a->extra, b->extra);
}

/* Index of the first sheet with sheet_num >= n. */
static size_t sheet_lower_bound(const struct sl_job_state *st, int64_t n)
{
	/* Fast path: sheets 1..k without gaps, so sheet n sits at n-1. */
	if (n >= 1 && (uint64_t)n <= st->n_sheets && st->sheets[n - 1].sheet_num == n)
		return (size_t)(n - 1);
	size_t lo = 0, hi = st->n_sheets;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (st->sheets[mid].sheet_num < n)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct sl_sheet_state *sl_state_find_sheet(const struct sl_job_state *st, int64_t n)
{
	size_t i = sheet_lower_bound(st, n);
	return i < st->n_sheets && st->sheets[i].sheet_num == n ? &st->sheets[i] : NULL;
}

int sl_state_add_sheet(struct sl_sheet_state **out, struct sl_job_state *st, int64_t n)
{
	if (n < 1)
		return SL_EINVAL;
	size_t i = sheet_lower_bound(st, n);
	if (i < st->n_sheets && st->sheets[i].sheet_num == n) {
		*out = &st->sheets[i];
		return SL_OK;
	}
	struct sl_sheet_state fresh;
	int rc = sl_sheet_init(&fresh, n);
	if (rc != SL_OK)
		return rc;
	if (st->n_sheets == st->cap_sheets) {
		size_t cap = st->cap_sheets ? st->cap_sheets * 2 : 16;
		struct sl_sheet_state *p = realloc(st->sheets, cap * sizeof *p);
		if (!p) {
			sl_sheet_free(&fresh);
			return SL_ENOMEM;
		}
		st->sheets = p;
		st->cap_sheets = cap;
	}
	memmove(&st->sheets[i + 1], &st->sheets[i],
		(st->n_sheets - i) * sizeof st->sheets[0]);
	st->sheets[i] = fresh;
	st->n_sheets++;
	*out = &st->sheets[i];
	return SL_OK;
}

/* ---- job state --------------------------------------------------------- */

void sl_state_init(struct sl_job_state *st)
{
	*st = (struct sl_job_state){ .presence = SL_JOB_ABSENT };
}

void sl_state_free(struct sl_job_state *st)
{
	if (!st)
		return;
	for (size_t i = 0; i < st->n_sheets; i++)
		sl_sheet_free(&st->sheets[i]);
	free(st->sheets);
	row_free_text(sl_state_job_columns, SL_STATE_N_JOB_COLUMNS, st);
	free(st->extra);
	sl_state_init(st);
}

int sl_state_copy(struct sl_job_state *out, const struct sl_job_state *src)
{
	struct sl_job_state tmp = *src;
	tmp.sheets = NULL;
	tmp.n_sheets = tmp.cap_sheets = 0;
	tmp.extra = NULL;
	int rc = row_dup_text(sl_state_job_columns, SL_STATE_N_JOB_COLUMNS, &tmp);
	if (rc != SL_OK)
		return rc;
	if (src->extra && !(tmp.extra = strdup(src->extra))) {
		sl_state_free(&tmp);
		return SL_ENOMEM;
	}
	if (src->n_sheets) {
		tmp.sheets = calloc(src->n_sheets, sizeof tmp.sheets[0]);
		if (!tmp.sheets) {
			sl_state_free(&tmp);
			return SL_ENOMEM;
		}
		tmp.cap_sheets = src->n_sheets;
		for (; tmp.n_sheets < src->n_sheets; tmp.n_sheets++) {
			rc = sl_sheet_copy(&tmp.sheets[tmp.n_sheets], &src->sheets[tmp.n_sheets]);
			if (rc != SL_OK) {
				sl_state_free(&tmp);
				return rc;
			}
		}
	}
	*out = tmp;
	return SL_OK;
}

const char *sl_state_first_difference(const struct sl_job_state *a,
				      const struct sl_job_state *b,
				      unsigned flags, int64_t *sheet_num)
{
	if (sheet_num)
		*sheet_num = 0;
	if (a->presence != b->presence)
		return "presence";
	const char *d = row_first_difference(sl_state_job_columns, SL_STATE_N_JOB_COLUMNS,
					     a, b, flags);
	if (d)
		return d;
	if (!extra_equal(a->extra, b->extra))
		return "extra";
	size_t n = a->n_sheets < b->n_sheets ? a->n_sheets : b->n_sheets;
	for (size_t i = 0; i <= n; i++) {
		if (i == n) {
			if (a->n_sheets == b->n_sheets)
				break;
			const struct sl_job_state *longer = a->n_sheets > n ? a : b;
			if (sheet_num)
				*sheet_num = longer->sheets[n].sheet_num;
			return "sheets";
		}
		const struct sl_sheet_state *sa = &a->sheets[i], *sb = &b->sheets[i];
		if (sa->sheet_num != sb->sheet_num) {
			if (sheet_num)
				*sheet_num = sa->sheet_num < sb->sheet_num ? sa->sheet_num
									   : sb->sheet_num;
			return "sheets";
		}
		d = row_first_difference(sl_state_sheet_columns, SL_STATE_N_SHEET_COLUMNS,
					 sa, sb, 0);
		if (!d && !extra_equal(sa->extra, sb->extra))
			d = "extra";
		if (d) {
			if (sheet_num)
				*sheet_num = sa->sheet_num;
			return d;
		}
	}
	return NULL;
}

bool sl_state_equal(const struct sl_job_state *a, const struct sl_job_state *b,
		    unsigned flags)
{
	return sl_state_first_difference(a, b, flags, NULL) == NULL;
}

/* ---- liveness of a pid ------------------------------------------------- */

bool sl_state_pid_alive(int64_t pid, void *ctx)
{
	(void)ctx;
	if (pid <= 0 || (int64_t)(pid_t)pid != pid)
		return false;
	/* EPERM: the process exists but is someone else's: alive (MODEL.md). */
	return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}
