/* statejson.c: a job's state in its JSON form, both ways: the form the
 * original's CheckpointState takes as a dict (model_dump(mode="json")) and
 * its JSON state files hold, and the one `statelog show --json` prints and
 * the Python package hands to the caller's model.
 *
 * Keys: job_id, job_name, config_hash, config_snapshot, config_path,
 * created_at, updated_at, started_at, completed_at, total_sheets,
 * last_completed_sheet, current_sheet, status, sheets ({"1": {...}, ...}
 * with the columns of the sheets table), pid, error_message,
 * total_retry_count, rate_limit_waits.  Reading, keys the tables have no
 * column for are ignored (as the original's save() ignores them), except
 * by import, which keeps them in the state's extra (and a sheet's); writing,
 * the extra keys follow the columns' (the JSON state file the original's
 * other backend writes holds them all).  A missing
 * key takes the original's default except job_id, job_name, total_sheets,
 * created_at and updated_at, which are required; first_attempt_success is
 * taken for success_without_retry.  JSON columns hold a value, stored as
 * json.dumps writes it (sl_json_dumps()); null is NULL; times are ISO-8601
 * in any form sl_time_parse() takes; booleans are true/false.  Writing, the
 * JSON columns are parsed back as the original's load() does (its `or []`
 * included), times are written as the original writes them.
 */
#include "model_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "event_json_internal.h"
#include "timefmt.h"

/* The key of column c in the JSON form. */
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

static const char *type_name(const json_t *v)
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

/* Fills where (may be NULL) and returns SL_EINVAL. */
static int problem(struct sl_state_json_problem *where, int64_t sheet, const char *key,
		   const json_t *v, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int problem(struct sl_state_json_problem *where, int64_t sheet, const char *key,
		   const json_t *v, const char *fmt, ...)
{
	if (!where)
		return SL_EINVAL;
	*where = (struct sl_state_json_problem){ .sheet_num = sheet };
	snprintf(where->key, sizeof where->key, "%s", key ? key : "");
	if (v) {
		char *s = json_is_string(v) ? NULL : sl_json_dumps(v);
		snprintf(where->value, sizeof where->value, "%s",
			 json_is_string(v) ? json_string_value(v) : s ? s : "?");
		free(s);
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(where->reason, sizeof where->reason, fmt, ap);
	va_end(ap);
	return SL_EINVAL;
}

/* How a state is read: the public reader's way, or import's. */
struct reading {
	struct sl_state_json_problem *where;
	bool import;            /* keep extra keys; a NUL in text as U+FFFD */
	sl_state_json_replaced_fn replaced;
	void *arg;
};

char *sl_text_nul_as_fffd(const char *s, size_t n, size_t *n_nuls)
{
	size_t nuls = 0;
	for (size_t i = 0; i < n; i++)
		nuls += s[i] == '\0';
	if (n_nuls)
		*n_nuls = nuls;
	char *out = malloc(n + 2 * nuls + 1), *w = out;
	for (size_t i = 0; out && i < n; i++) {
		if (s[i]) {
			*w++ = s[i];
		} else {
			memcpy(w, "\xef\xbf\xbd", 3);
			w += 3;
		}
	}
	if (out)
		*w = '\0';
	return out;
}

/* The value of column c from JSON value v: SL_OK (*owned: the text of a
 * TEXT column, NULL for NULL), SL_EINVAL with why, SL_ENOMEM.  *replaced
 * tells that a NUL was taken as U+FFFD (import only). */
static int value_of(const struct sl_state_column *c, const json_t *v, struct sl_value *out,
		    char **owned, const struct reading *r, bool *replaced, char *why, size_t wl)
{
	*replaced = false;
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
			return (*owned = sl_json_dumps(v)) ? SL_OK : SL_ENOMEM;
		}
		if (!json_is_string(v))
			break;
		if (strlen(json_string_value(v)) != json_string_length(v)) {
			if (!r->import || c->key) {
				snprintf(why, wl, "a string holding a NUL character");
				return SL_EINVAL;
			}
			*replaced = true;
			*owned = sl_text_nul_as_fffd(json_string_value(v), json_string_length(v),
						     NULL);
			return *owned ? SL_OK : SL_ENOMEM;
		}
		return (*owned = strdup(json_string_value(v))) ? SL_OK : SL_ENOMEM;
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
		if (sl_time_parse(&out->i, json_string_value(v)) != SL_OK) {
			snprintf(why, wl, "unparsable timestamp");
			return SL_EINVAL;
		}
		return SL_OK;
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
	snprintf(why, wl, "expected %s, found %s", want, type_name(v));
	return SL_EINVAL;
}

/* Sets column c of row from key `key` of obj when present, held to the
 * column's constraint. */
static int put_key(const struct sl_state_column *c, const char *key, const json_t *obj,
		   void *row, int64_t sheet, const struct reading *r)
{
	struct sl_state_json_problem *where = r->where;
	const json_t *v = json_object_get(obj, key);
	if (!v)
		return SL_OK;
	struct sl_value val;
	char *owned, why[SL_REFUSAL_REASON_SIZE];
	bool replaced;
	int rc = value_of(c, v, &val, &owned, r, &replaced, why, sizeof why);
	if (rc == SL_OK && replaced && r->replaced)
		r->replaced(r->arg, sheet, c->name, json_string_value(v), json_string_length(v));
	if (rc == SL_EINVAL)
		return problem(where, sheet, key, v, "%s", why);
	if (rc != SL_OK)
		return rc;
	if (c->key && c->type == SL_COL_TEXT && !owned[0]) {
		free(owned);
		return problem(where, sheet, key, v, "an empty job id");
	}
	if (c->type == SL_COL_TEXT)
		val.s = owned;
	if ((rc = sl_state_column_check(c, &val, why, sizeof why)) != SL_OK) {
		free(owned);
		return rc == SL_EINVAL ? problem(where, sheet, key, v, "%s", why) : rc;
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

/* Whether key is one the JSON form gives a column (or, for a job,
 * "sheets"; for a sheet, the older name first_attempt_success). */
static bool known_key(const char *key, size_t len, bool sheet)
{
	if (strlen(key) != len)
		return false;
	if (sheet) {
		for (size_t i = 0; i < SL_STATE_N_SHEET_COLUMNS; i++)
			if (strcmp(key, sl_state_sheet_columns[i].name) == 0)
				return true;
		return strcmp(key, "first_attempt_success") == 0;
	}
	for (size_t i = 0; i < SL_STATE_N_JOB_COLUMNS; i++)
		if (strcmp(key, json_key(&sl_state_job_columns[i])) == 0)
			return true;
	return strcmp(key, "sheets") == 0;
}

/* *extra = the members of obj that are no column's, as a JSON object's
 * text, NULL when there are none. */
static int take_extra(const json_t *cobj, bool sheet, char **extra)
{
	json_t *obj = (json_t *)cobj;   /* iteration takes non-const; nothing changes */
	json_t *o = json_object();
	if (!o)
		return SL_ENOMEM;
	for (void *it = json_object_iter(obj); it; it = json_object_iter_next(obj, it)) {
		const char *k = json_object_iter_key(it);
		size_t kl = json_object_iter_key_len(it);
		if (!known_key(k, kl, sheet) &&
		    json_object_setn_new(o, k, kl, json_incref(json_object_iter_value(it))) != 0) {
			json_decref(o);
			return SL_ENOMEM;
		}
	}
	*extra = NULL;
	int rc = SL_OK;
	if (json_object_size(o) && !(*extra = sl_json_dumps(o)))
		rc = SL_ENOMEM;
	json_decref(o);
	return rc;
}

int sl_state_extra_check(const char *text, bool sheet, char *reason, size_t len)
{
	json_t *v;
	json_error_t e;
	int rc = sl_json_py_loadb(text, strlen(text), JSON_DECODE_ANY | JSON_ALLOW_NUL, &v, &e);
	if (rc == SL_EINVAL)
		snprintf(reason, len, "not valid JSON (line %d, column %d: %s)", e.line, e.column,
			 e.text);
	if (rc != SL_OK)
		return rc;
	if (!json_is_object(v) || sl_json_raw_text(v, NULL)) {
		snprintf(reason, len, "expected a JSON object, found %s",
			 sl_json_raw_text(v, NULL) ? "a value beyond jansson's" : type_name(v));
		json_decref(v);
		return SL_EINVAL;
	}
	for (void *it = json_object_iter(v); it; it = json_object_iter_next(v, it)) {
		const char *k = json_object_iter_key(it);
		if (known_key(k, json_object_iter_key_len(it), sheet)) {
			snprintf(reason, len, "'%s' is a column of the %s, not an extra field", k,
				 sheet ? "sheet" : "job");
			json_decref(v);
			return SL_EINVAL;
		}
	}
	json_decref(v);
	return SL_OK;
}

static int read_sheets(struct sl_job_state *st, const json_t *sheets, const struct reading *r)
{
	struct sl_state_json_problem *where = r->where;
	if (!sheets || json_is_null(sheets))
		return SL_OK;
	if (!json_is_object(sheets))
		return problem(where, 0, "sheets", sheets, "expected an object, found %s",
			       type_name(sheets));
	const char *k;
	const json_t *obj;
	int rc;
	json_object_foreach((json_t *)sheets, k, obj) {
		int64_t n = 0;
		/* Any sheet from 1 up: the original keeps a row past
		 * total_sheets as any other. */
		if (!sheet_key(k, &n) || n < 1)
			return problem(where, 0, "sheets", NULL, "sheet key '%s' is not a sheet "
				       "number (1 or more)", k);
		if (!json_is_object(obj))
			return problem(where, n, "", obj, "expected an object, found %s",
				       type_name(obj));
		const json_t *num = json_object_get(obj, "sheet_num");
		if (num && (!json_is_integer(num) || json_integer_value(num) != n))
			return problem(where, n, "sheet_num", num, "disagrees with its key in "
				       "\"sheets\"");
		if (sl_state_find_sheet(st, n))
			return problem(where, n, "sheets", NULL, "sheet %" PRId64 " twice", n);
		struct sl_sheet_state *sh;
		if ((rc = sl_state_add_sheet(&sh, st, n)) != SL_OK)
			return rc;
		for (size_t i = 1; i < SL_STATE_N_SHEET_COLUMNS; i++) {
			const struct sl_state_column *c = &sl_state_sheet_columns[i];
			const char *key = c->name;
			if (strcmp(key, "success_without_retry") == 0 &&
			    !json_object_get(obj, key) && json_object_get(obj, "first_attempt_success"))
				key = "first_attempt_success";
			if ((rc = put_key(c, key, obj, sh, n, r)) != SL_OK)
				return rc;
		}
		if (r->import && (rc = take_extra(obj, true, &sh->extra)) != SL_OK)
			return rc;
	}
	return SL_OK;
}

static int read_state(struct sl_job_state *out, const char *text, size_t len,
		      const struct reading *r)
{
	struct sl_state_json_problem *where = r->where;
	json_error_t e;
	json_t *root;
	int lrc = sl_json_py_loadb(text, len, JSON_ALLOW_NUL, &root, &e);
	if (lrc == SL_ENOMEM)
		return SL_ENOMEM;
	if (lrc != SL_OK)
		return problem(where, 0, "", NULL, "not valid JSON (line %d, column %d: %s)",
			       e.line, e.column, e.text);
	struct sl_job_state st;
	sl_state_init(&st);
	int rc = SL_OK;
	if (!json_is_object(root)) {
		rc = problem(where, 0, "", NULL, "expected a JSON object, found %s",
			     type_name(root));
		goto done;
	}
	for (size_t i = 0; i < SL_STATE_N_JOB_COLUMNS; i++) {
		const char *key = json_key(&sl_state_job_columns[i]);
		if (job_key_required(key) && !json_object_get(root, key)) {
			rc = problem(where, 0, key, NULL, "missing (required)");
			goto done;
		}
	}
	st.presence = SL_JOB_LIVE;
	for (size_t i = 0; i < SL_STATE_N_JOB_COLUMNS && rc == SL_OK; i++)
		rc = put_key(&sl_state_job_columns[i], json_key(&sl_state_job_columns[i]), root,
			     &st, 0, r);
	if (rc == SL_OK)
		rc = read_sheets(&st, json_object_get(root, "sheets"), r);
	if (rc == SL_OK && r->import)
		rc = take_extra(root, false, &st.extra);
done:
	json_decref(root);
	if (rc == SL_OK)
		*out = st;
	else
		sl_state_free(&st);
	return rc;
}

int sl_state_from_json(struct sl_job_state *out, const char *text, size_t len,
		       struct sl_state_json_problem *where)
{
	struct reading r = { .where = where };
	return read_state(out, text, len, &r);
}

int sl_state_from_json_import(struct sl_job_state *out, const char *text, size_t len,
			      struct sl_state_json_problem *where,
			      sl_state_json_replaced_fn replaced, void *arg)
{
	struct reading r = { .where = where, .import = true, .replaced = replaced, .arg = arg };
	return read_state(out, text, len, &r);
}

/* ---- writing ------------------------------------------------------------ */

/* Adds the members of extra (a JSON object's text, NULL: none) to d. */
static bool add_extra(json_t *d, const char *extra)
{
	if (!d || !extra)
		return d != NULL;
	json_t *v;
	json_error_t e;
	if (sl_json_py_loadb(extra, strlen(extra), JSON_ALLOW_NUL, &v, &e) != SL_OK)
		return false;   /* the rules took only an object */
	bool ok = json_is_object(v);
	for (void *it = json_object_iter(v); ok && it; it = json_object_iter_next(v, it))
		ok = json_object_setn_new(d, json_object_iter_key(it), json_object_iter_key_len(it),
					  json_incref(json_object_iter_value(it))) == 0;
	json_decref(v);
	return ok;
}

/* A JSON column as the original's load() returns it (its _json_loads): the
 * parsed value; None stays None unless empty_list, where the original has
 * `or []`.  Text that is not JSON is given as the string it is. */
static json_t *j_json(const char *s, bool empty_list)
{
	if (!s)
		return empty_list ? json_array() : json_null();
	json_t *v;
	json_error_t e;
	/* What jansson cannot hold (NaN, 2**70, "\udc80") is given as it is
	 * stored, as raw nodes: Python reads it back as its load() does. */
	if (sl_json_py_loadb(s, strlen(s), JSON_DECODE_ANY | JSON_ALLOW_NUL, &v, &e) != SL_OK)
		v = NULL;
	/* Python's `or`: every falsy value becomes the empty list. */
	bool falsy = v && (json_is_null(v) || json_is_false(v) ||
			   (json_is_array(v) && !json_array_size(v)) ||
			   (json_is_object(v) && !json_object_size(v)) ||
			   (json_is_string(v) && !json_string_length(v)) ||
			   (json_is_number(v) && json_number_value(v) == 0));
	if (empty_list && falsy) {
		json_decref(v);
		return json_array();
	}
	return v ? v : json_string(s);
}

/* Sets key to v (taken over); false when v is NULL or the set failed. */
static bool set(json_t *d, const char *key, json_t *v)
{
	return v && json_object_set_new(d, key, v) == 0;
}

static json_t *sheet_json(const struct sl_sheet_state *s)
{
	json_t *d = json_object();
	bool ok = d &&
		set(d, "sheet_num", json_integer(s->sheet_num)) &&
		set(d, "status", json_string(sl_sheet_status_name(s->status))) &&
		set(d, "started_at", sl_jv_time(s->has_started_at, s->started_at_us)) &&
		set(d, "completed_at", sl_jv_time(s->has_completed_at, s->completed_at_us)) &&
		set(d, "attempt_count", json_integer(s->attempt_count)) &&
		set(d, "exit_code", sl_jv_int(s->has_exit_code, s->exit_code)) &&
		set(d, "error_message", sl_jv_text(s->error_message)) &&
		set(d, "error_category", sl_jv_text(s->error_category)) &&
		set(d, "validation_passed", s->has_validation_passed
					    ? json_boolean(s->validation_passed) : json_null()) &&
		set(d, "validation_details", j_json(s->validation_details, false)) &&
		set(d, "completion_attempts", json_integer(s->completion_attempts)) &&
		set(d, "passed_validations", j_json(s->passed_validations, true)) &&
		set(d, "failed_validations", j_json(s->failed_validations, true)) &&
		set(d, "last_pass_percentage",
		    sl_jv_real(s->has_last_pass_percentage, s->last_pass_percentage)) &&
		set(d, "execution_mode", sl_jv_text(s->execution_mode)) &&
		set(d, "outcome_data", j_json(s->outcome_data, false)) &&
		set(d, "confidence_score", sl_jv_real(s->has_confidence_score, s->confidence_score)) &&
		set(d, "learned_patterns", j_json(s->learned_patterns, true)) &&
		set(d, "similar_outcomes_count", json_integer(s->similar_outcomes_count)) &&
		set(d, "success_without_retry", json_boolean(s->success_without_retry)) &&
		set(d, "outcome_category", sl_jv_text(s->outcome_category)) &&
		set(d, "execution_duration_seconds", sl_jv_real(s->has_execution_duration_seconds,
							     s->execution_duration_seconds)) &&
		set(d, "exit_signal", sl_jv_int(s->has_exit_signal, s->exit_signal)) &&
		set(d, "exit_reason", sl_jv_text(s->exit_reason)) &&
		add_extra(d, s->extra);
	if (!ok) {
		json_decref(d);
		return NULL;
	}
	return d;
}

static json_t *state_json(const struct sl_job_state *st)
{
	json_t *d = json_object(), *sheets = json_object();
	bool ok = d && sheets;
	for (size_t i = 0; i < st->n_sheets && ok; i++) {
		char key[24];
		snprintf(key, sizeof key, "%" PRId64, st->sheets[i].sheet_num);
		ok = set(sheets, key, sheet_json(&st->sheets[i]));
	}
	ok = ok &&
		set(d, "job_id", sl_jv_text(st->id)) &&
		set(d, "job_name", sl_jv_text(st->name)) &&
		set(d, "config_hash", sl_jv_text(st->config_hash)) &&
		set(d, "config_snapshot", j_json(st->config_snapshot, false)) &&
		set(d, "config_path", sl_jv_text(st->config_path)) &&
		set(d, "created_at", sl_jv_time(true, st->created_at_us)) &&
		set(d, "updated_at", sl_jv_time(true, st->updated_at_us)) &&
		set(d, "started_at", sl_jv_time(st->has_started_at, st->started_at_us)) &&
		set(d, "completed_at", sl_jv_time(st->has_completed_at, st->completed_at_us)) &&
		set(d, "total_sheets", json_integer(st->total_sheets)) &&
		set(d, "last_completed_sheet", json_integer(st->last_completed_sheet)) &&
		set(d, "current_sheet", sl_jv_int(st->has_current_sheet, st->current_sheet)) &&
		set(d, "status", json_string(sl_job_status_name(st->status))) &&
		set(d, "sheets", json_incref(sheets)) &&
		set(d, "pid", sl_jv_int(st->has_pid, st->pid)) &&
		set(d, "error_message", sl_jv_text(st->error_message)) &&
		set(d, "total_retry_count", json_integer(st->total_retry_count)) &&
		set(d, "rate_limit_waits", json_integer(st->rate_limit_waits)) &&
		add_extra(d, st->extra);
	json_decref(sheets);
	if (!ok) {
		json_decref(d);
		return NULL;
	}
	return d;
}

int sl_state_to_json(char **out, const struct sl_job_state *st)
{
	json_t *d = state_json(st);
	char *s = d ? sl_json_dumps(d) : NULL;
	json_decref(d);
	if (!s)
		return SL_ENOMEM;
	*out = s;
	return SL_OK;
}
