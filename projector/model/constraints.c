/* constraints.c: the constraints the original's model (its pydantic
 * CheckpointState and SheetState, read back by load() and list_jobs())
 * puts on each stored value, written once per column of the catalogue
 * (state.c, `check`) and used by the rules for every event field that
 * carries a column and by diff for every value it emits.
 *
 * What is checked, column by column (a value breaking one makes the
 * original's load() raise, so statelog never stores it):
 *   every TEXT       valid UTF-8 (the original's sqlite3 module decodes
 *                    every text strictly);
 *   NOT NULL         jobs: id, name, status, total_sheets,
 *                    last_completed_sheet, total_retry_count,
 *                    rate_limit_waits, created_at, updated_at; sheets:
 *                    sheet_num, status, attempt_count, completion_attempts,
 *                    similar_outcomes_count, success_without_retry;
 *   total_sheets     >= 1 (CheckpointState: ge=1);
 *   sheet_num        >= 1 (SheetState: ge=1);
 *   confidence_score 0 <= x <= 1, so NaN and infinities are refused too
 *                    (pydantic refuses NaN under a bound);
 *   status           a JobStatus / SheetStatus;
 *   error_category   an ErrorCategory value; outcome_category an
 *                    OutcomeCategory value; exit_reason an ExitReason value;
 *                    execution_mode normal, completion or retry (exact,
 *                    lower-case strings);
 *   every time       SL_TIME_MIN_US..SL_TIME_MAX_US (years 0001..9999:
 *                    what Python's datetime and the views can hold);
 *   config_snapshot  '' (read as None), or JSON null or an object;
 *   passed_validations, failed_validations, learned_patterns
 *                    '' or a JSON value Python finds false (null, false, 0,
 *                    0.0, "", [], {}: the original reads them `or []`), or
 *                    a list whose every item is a string;
 *   validation_details '' or null, or a list whose every item is an object
 *                    with `passed`, itself a boolean as pydantic reads one
 *                    (below), and whose typed keys, when present, have
 *                    their types (ValidationDetailDict): rule_type and
 *                    checked_at strings; description, path, pattern,
 *                    actual_value, expected_value, error_message,
 *                    failure_reason, failure_category, suggested_fix,
 *                    error_type strings or null; check_duration_ms and
 *                    confidence numbers; confidence_factors an object of
 *                    numbers.  Other keys are free (the model drops them);
 *   outcome_data     '' or null, or an object whose escalation_record_id,
 *                    when present, is a string and escalation_skipped a
 *                    boolean (OutcomeDataDict).
 * The other columns carry no constraint in the original's model beyond
 * their type, which the event's and the state's types already give:
 * attempt_count, completion_attempts, similar_outcomes_count,
 * total_retry_count, rate_limit_waits, last_completed_sheet, current_sheet,
 * pid, exit_code and exit_signal are any integer (no bound: a negative
 * attempt_count loads), last_pass_percentage and
 * execution_duration_seconds any real (NaN and infinities included).
 * Refusing more than the original would refuse what it writes and reads.
 *
 * The JSON columns' shapes are checked by jsonshape.c.
 */
#include "model_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "timefmt.h"

/* ---- the one entry point ----------------------------------------------- */

static int check_json(enum sl_column_check kind, const char *name, const char *text,
		      char *reason, size_t len)
{
	/* '' is what the original reads as None (or [] for the lists). */
	if (!text[0] || sl_json_shape_fast(kind, text))
		return SL_OK;
	return sl_json_shape_full(kind, name, text, reason, len);
}

static int check_name(const char *const *names, const char *what, const char *name,
		      const char *value, char *reason, size_t len)
{
	if (sl_state_name_in(names, value))
		return SL_OK;
	char q[SL_QUOTE_SIZE];
	size_t o = (size_t)snprintf(reason, len, "%s %s is not %s (", name, sl_quote(q, value), what);
	for (size_t i = 0; names[i] && o < len; i++)
		o += (size_t)snprintf(reason + o, len - o, "%s%s", i ? ", " : "", names[i]);
	if (o < len)
		snprintf(reason + o, len - o, ")");
	return SL_EINVAL;
}

int sl_state_column_check(const struct sl_state_column *c, const struct sl_value *v,
			  char *reason, size_t len)
{
	if (v->null) {
		if (c->nullable)
			return SL_OK;
		snprintf(reason, len, "%s cannot be NULL (a NOT NULL column)", c->name);
		return SL_EINVAL;
	}
	if (c->type == SL_COL_TEXT && !sl_utf8_valid(v->s)) {
		snprintf(reason, len, "%s is not valid UTF-8", c->name);
		return SL_EINVAL;
	}
	char t[SL_TIME_TEXT_SIZE];
	switch (c->check) {
	case SL_CHECK_NONE:
		return SL_OK;
	case SL_CHECK_MIN_1:
		if (v->i >= 1)
			return SL_OK;
		snprintf(reason, len, "%s %" PRId64 " is below 1", c->name, v->i);
		return SL_EINVAL;
	case SL_CHECK_UNIT_INTERVAL:
		if (v->d >= 0.0 && v->d <= 1.0)         /* false for NaN */
			return SL_OK;
		snprintf(reason, len, "%s %.15g is outside 0..1", c->name, v->d);
		return SL_EINVAL;
	case SL_CHECK_TIME:
		if (v->i >= SL_TIME_MIN_US && v->i <= SL_TIME_MAX_US)
			return SL_OK;
		snprintf(reason, len, "%s %s is outside the years 0001..9999", c->name,
			 sl_time_text(t, v->i));
		return SL_EINVAL;
	case SL_CHECK_JOB_STATUS:
		if ((uint64_t)v->i < SL_JOB_STATUS_COUNT)
			return SL_OK;
		snprintf(reason, len, "%s %" PRId64 " is not a JobStatus", c->name, v->i);
		return SL_EINVAL;
	case SL_CHECK_SHEET_STATUS:
		if ((uint64_t)v->i < SL_SHEET_STATUS_COUNT)
			return SL_OK;
		snprintf(reason, len, "%s %" PRId64 " is not a SheetStatus", c->name, v->i);
		return SL_EINVAL;
	case SL_CHECK_ERROR_CATEGORY:
		return check_name(sl_error_category_names, "an ErrorCategory", c->name, v->s,
				  reason, len);
	case SL_CHECK_OUTCOME_CATEGORY:
		return check_name(sl_outcome_category_names, "an OutcomeCategory", c->name, v->s,
				  reason, len);
	case SL_CHECK_EXIT_REASON:
		return check_name(sl_exit_reason_names, "an ExitReason", c->name, v->s, reason, len);
	case SL_CHECK_EXECUTION_MODE:
		return check_name(sl_execution_mode_names, "an execution mode", c->name, v->s,
				  reason, len);
	case SL_CHECK_JSON_OBJECT:
	case SL_CHECK_JSON_TEXT_LIST:
	case SL_CHECK_JSON_VALIDATION_DETAILS:
	case SL_CHECK_JSON_OUTCOME_DATA:
		return check_json(c->check, c->name, v->s, reason, len);
	}
	return SL_OK;
}
