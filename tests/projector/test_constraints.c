/* test_constraints.c: tests of projector/model/constraints.c and
 * jsonshape.c, the constraints of the original's model on every column
 * (sl_state_column_check()): one table of values, accepted and refused,
 * with the exact reason of each refusal; and the JSON scanner held to the
 * full check.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "model_internal.h"
#include "state.h"
#include "timefmt.h"

/* A value: 't' text, 'i' integer (also times and statuses), 'd' real,
 * 'n' NULL.  Rows hold their strings inline: Criterion runs each row in a
 * fresh process, where the parent's pointers would not be valid. */
struct value_row {
	char column[32];
	bool sheet;             /* a column of sheets, else of jobs */
	char kind;
	char text[640];
	int64_t i;
	double d;
	int rc;
	char reason[200];       /* the exact reason of a refusal */
};

#define OK_T(col, sh, t) { col, sh, 't', t, 0, 0, SL_OK, "" }
#define NO_T(col, sh, t, why) { col, sh, 't', t, 0, 0, SL_EINVAL, why }
#define OK_I(col, sh, v) { col, sh, 'i', "", v, 0, SL_OK, "" }
#define NO_I(col, sh, v, why) { col, sh, 'i', "", v, 0, SL_EINVAL, why }
#define OK_D(col, sh, v) { col, sh, 'd', "", 0, v, SL_OK, "" }
#define NO_D(col, sh, v, why) { col, sh, 'd', "", 0, v, SL_EINVAL, why }

#define VD "validation_details"
#define PV "passed_validations"
#define D1(item) "[{\"passed\": true, " item "}]"

ParameterizedTestParameters(constraints, column_values)
{
	static struct value_row rows[] = {
		/* NOT NULL, and nothing else on the free columns */
		{ "name", false, 'n', "", 0, 0, SL_EINVAL, "name cannot be NULL (a NOT NULL column)" },
		{ "status", true, 'n', "", 0, 0, SL_EINVAL,
		  "status cannot be NULL (a NOT NULL column)" },
		{ "description", false, 'n', "", 0, 0, SL_OK, "" },
		{ "confidence_score", true, 'n', "", 0, 0, SL_OK, "" },
		OK_I("attempt_count", true, -5),
		OK_I("similar_outcomes_count", true, INT64_MIN),
		OK_I("completion_attempts", true, -1),
		OK_I("total_retry_count", false, -1),
		OK_I("rate_limit_waits", false, INT64_MAX),
		OK_I("last_completed_sheet", false, -3),
		OK_I("current_sheet", false, 0),
		OK_I("pid", false, -1),
		OK_I("exit_signal", true, -9),
		OK_D("last_pass_percentage", true, NAN),
		OK_D("last_pass_percentage", true, 250.0),
		OK_D("execution_duration_seconds", true, -INFINITY),
		/* total_sheets >= 1, sheet_num >= 1 */
		OK_I("total_sheets", false, 1),
		NO_I("total_sheets", false, 0, "total_sheets 0 is below 1"),
		NO_I("total_sheets", false, -7, "total_sheets -7 is below 1"),
		NO_I("sheet_num", true, 0, "sheet_num 0 is below 1"),
		/* confidence_score in 0..1 */
		OK_D("confidence_score", true, 0.0),
		OK_D("confidence_score", true, -0.0),
		OK_D("confidence_score", true, 1.0),
		OK_D("confidence_score", true, 0.92),
		NO_D("confidence_score", true, 1.5, "confidence_score 1.5 is outside 0..1"),
		NO_D("confidence_score", true, -0.25, "confidence_score -0.25 is outside 0..1"),
		NO_D("confidence_score", true, NAN, "confidence_score nan is outside 0..1"),
		NO_D("confidence_score", true, INFINITY, "confidence_score inf is outside 0..1"),
		/* times: the years 0001..9999 */
		OK_I("started_at", true, SL_TIME_MIN_US),
		OK_I("completed_at", false, SL_TIME_MAX_US),
		NO_I("created_at", false, SL_TIME_MAX_US + 1,
		     "created_at 253402300800000000 us is outside the years 0001..9999"),
		NO_I("updated_at", false, INT64_MAX,
		     "updated_at 9223372036854775807 us is outside the years 0001..9999"),
		NO_I("started_at", false, SL_TIME_MIN_US - 1,
		     "started_at -62135596800000001 us is outside the years 0001..9999"),
		/* statuses as enum values (diff's states) */
		NO_I("status", false, SL_JOB_STATUS_COUNT, "status 7 is not a JobStatus"),
		NO_I("status", true, -1, "status -1 is not a SheetStatus"),
		OK_I("status", true, SL_SHEET_CANCELLED),
		/* the text enumerations: exact lower-case values */
		OK_T("error_category", true, "rate_limit"),
		OK_T("error_category", true, "escalation"),
		NO_T("error_category", true, "RATE_LIMIT",
		     "error_category 'RATE_LIMIT' is not an ErrorCategory (rate_limit, transient, "
		     "validation, auth, network, timeout, signal, fatal, configuration, preflight, "
		     "escalation)"),
		NO_T("error_category", true, "",
		     "error_category '' is not an ErrorCategory (rate_limit, transient, validation, "
		     "auth, network, timeout, signal, fatal, configuration, preflight, escalation)"),
		OK_T("execution_mode", true, "completion"),
		NO_T("execution_mode", true, "turbo",
		     "execution_mode 'turbo' is not an execution mode (normal, completion, retry)"),
		OK_T("outcome_category", true, "skipped_by_escalation"),
		NO_T("outcome_category", true, "success",
		     "outcome_category 'success' is not an OutcomeCategory (success_first_try, "
		     "success_retry, success_completion, failed_exhausted, failed_fatal, "
		     "skipped_by_escalation)"),
		OK_T("exit_reason", true, "killed"),
		NO_T("exit_reason", true, "signal",
		     "exit_reason 'signal' is not an ExitReason (completed, timeout, killed, error)"),
		/* UTF-8 in every text */
		OK_T("name", false, "nïghtly ジョブ ✓"),
		NO_T("name", false, "bad \xff byte", "name is not valid UTF-8"),
		NO_T("error_message", true, "surrogate \xed\xa0\x80", "error_message is not valid UTF-8"),
		NO_T("config_path", false, "overlong \xc0\xaf", "config_path is not valid UTF-8"),
		NO_T("error_category", true, "\xf4\x90\x80\x80", "error_category is not valid UTF-8"),
		/* config_snapshot: dict | None; Python's JSON */
		OK_T("config_snapshot", false, ""),
		OK_T("config_snapshot", false, "null"),
		OK_T("config_snapshot", false, "{}"),
		OK_T("config_snapshot", false, "{\"a\": NaN, \"b\": Infinity, \"c\": [-Infinity]}"),
		OK_T("config_snapshot", false, "{\"big\": 123456789012345678901234567890123}"),
		OK_T("config_snapshot", false, "{\"huge\": 1e999, \"neg\": -2e400, \"tiny\": 1e-999}"),
		OK_T("config_snapshot", false,
		     "{\"n\": 1" "0000000000000000000000000000000000000000000000000000000000"
		     "000000000000000000000000000000000000000000000000000000000000000000000000"
		     "000000000000000000000000000000000000000000000000000000000000000000000000"
		     "000000000000000000000000000000000000000000000000000000000000000000000000"
		     "00000000000000000000000000000000000000000000000000000000000000000000}"),
		OK_T("config_snapshot", false, "{\"lone\": \"\\ud800 and \\udc00\", \"pair\": \"\\ud83d\\ude00\"}"),
		OK_T("config_snapshot", false, "{\"nul\": \"a\\u0000b\", \"k\\u0000ey\": 1}"),
		OK_T("config_snapshot", false, "{\"text\": \"NaN Infinity 1e999 \\\" NaN\"}"),
		NO_T("config_snapshot", false, "[]", "config_snapshot is a list, not an object"),
		NO_T("config_snapshot", false, "[{\"a\": 1}]", "config_snapshot is a list, not an object"),
		NO_T("config_snapshot", false, "\"x\"",
		     "config_snapshot is the string 'x', not an object"),
		NO_T("config_snapshot", false, "3", "config_snapshot is a number, not an object"),
		NO_T("config_snapshot", false, "NaN", "config_snapshot is a number, not an object"),
		NO_T("config_snapshot", false, "true", "config_snapshot is true, not an object"),
		NO_T("config_snapshot", false, "{",
		     "config_snapshot is not valid JSON (line 1, column 1: string or '}' expected "
		     "near end of file)"),
		NO_T("config_snapshot", false, "{\"a\": nan}",
		     "config_snapshot is not valid JSON (line 1, column 9: invalid token near 'nan')"),
		NO_T("config_snapshot", false, " ",
		     "config_snapshot is not valid JSON (line 1, column 1: unexpected token near "
		     "end of file)"),
		/* the lists, read `or []`: anything Python finds false, or strings */
		OK_T(PV, true, ""),
		OK_T(PV, true, "[]"),
		OK_T(PV, true, "null"),
		OK_T(PV, true, "false"),
		OK_T(PV, true, "0"),
		OK_T(PV, true, "-0.0"),
		OK_T(PV, true, "\"\""),
		OK_T(PV, true, "{}"),
		OK_T(PV, true, "[\"lint\", \"tests pass\", \"\\ud83d\\ude00\"]"),
		OK_T("failed_validations", true, "[\"x\"]"),
		OK_T("learned_patterns", true, "[\"check imports first\"]"),
		NO_T(PV, true, "{\"lint\": true}", "passed_validations is an object, not a list"),
		NO_T(PV, true, "[\"lint\", 2]", "passed_validations item 1 is a number, not a string"),
		NO_T("failed_validations", true, "[null]",
		     "failed_validations item 0 is null, not a string"),
		NO_T("learned_patterns", true, "[[\"nested\"]]",
		     "learned_patterns item 0 is a list, not a string"),
		NO_T(PV, true, "true", "passed_validations is true, not a list"),
		NO_T(PV, true, "1", "passed_validations is a number, not a list"),
		NO_T(PV, true, "NaN", "passed_validations is a number, not a list"),
		NO_T(PV, true, "\"lint\"", "passed_validations is the string 'lint', not a list"),
		/* validation_details: list[ValidationDetailDict] | None */
		OK_T(VD, true, ""),
		OK_T(VD, true, "null"),
		OK_T(VD, true, "[]"),
		OK_T(VD, true, "[{\"passed\": true}, {\"passed\": false, \"name\": \"x\"}]"),
		OK_T(VD, true, "[{\"passed\": 1}, {\"passed\": 0}, {\"passed\": 1.0}, {\"passed\": -0.0}]"),
		OK_T(VD, true, "[{\"passed\": \"yes\"}, {\"passed\": \"Off\"}, {\"passed\": \"T\"}, "
		     "{\"passed\": \"0\"}, {\"passed\": \"TRUE\"}, {\"passed\": \"n\"}]"),
		OK_T(VD, true, D1("\"rule_type\": \"lint\", \"description\": null, \"path\": \"a\", "
				  "\"pattern\": null, \"actual_value\": \"1\", \"expected_value\": null, "
				  "\"error_message\": null, \"checked_at\": \"2026-01-01T00:00:00\", "
				  "\"check_duration_ms\": 1.5, \"confidence\": NaN, "
				  "\"confidence_factors\": {\"a\": 1, \"b\": Infinity, \"c\": \"0.5\"}, "
				  "\"failure_reason\": null, \"failure_category\": \"x\", "
				  "\"suggested_fix\": null, \"error_type\": null, \"extra\": [1, {}]")),
		OK_T(VD, true, D1("\"check_duration_ms\": \" 1_000.5 \"")),
		OK_T(VD, true, D1("\"check_duration_ms\": \"-inf\"")),
		OK_T(VD, true, D1("\"check_duration_ms\": \"NaN\"")),
		OK_T(VD, true, D1("\"check_duration_ms\": \".5e-3\"")),
		OK_T(VD, true, D1("\"check_duration_ms\": true")),
		OK_T(VD, true, D1("\"confidence\": 123456789012345678901234567890")),
		OK_T(VD, true, "[{\"p\\u0061ssed\": true, \"r\\u00e9gle\": \"\\u00e9t\\u00e9\"}]"),
		NO_T(VD, true, "[{\"p\\u0061ssed\": 2}]", "validation_details item 0: 'passed' is a "
		     "number other than 0 and 1, not a boolean"),
		NO_T(VD, true, "[{\"passed\": true, \"passed\": 2}]", "validation_details item 0: "
		     "'passed' is a number other than 0 and 1, not a boolean"),
		NO_T(VD, true, "{}", "validation_details is an object, not a list"),
		NO_T(VD, true, "false", "validation_details is false, not a list"),
		NO_T(VD, true, "[1]", "validation_details item 0 is a number, not an object"),
		NO_T(VD, true, "[{\"passed\": true}, \"x\"]",
		     "validation_details item 1 is the string 'x', not an object"),
		NO_T(VD, true, "[{}]", "validation_details item 0 has no 'passed'"),
		NO_T(VD, true, "[{\"rule\": \"tests pass\", \"ok\": true}]",
		     "validation_details item 0 has no 'passed'"),
		NO_T(VD, true, "[{\"passed\": 2}]", "validation_details item 0: 'passed' is a number "
		     "other than 0 and 1, not a boolean"),
		NO_T(VD, true, "[{\"passed\": NaN}]", "validation_details item 0: 'passed' is a number "
		     "other than 0 and 1, not a boolean"),
		NO_T(VD, true, "[{\"passed\": null}]",
		     "validation_details item 0: 'passed' is null, not a boolean"),
		NO_T(VD, true, "[{\"passed\": \"maybe\"}]",
		     "validation_details item 0: 'passed' is the string 'maybe', not a boolean"),
		NO_T(VD, true, "[{\"passed\": \" true\"}]",
		     "validation_details item 0: 'passed' is the string ' true', not a boolean"),
		NO_T(VD, true, "[{\"passed\": [true]}]",
		     "validation_details item 0: 'passed' is a list, not a boolean"),
		NO_T(VD, true, D1("\"rule_type\": 5"),
		     "validation_details item 0: 'rule_type' is a number, not a string"),
		NO_T(VD, true, D1("\"checked_at\": null"),
		     "validation_details item 0: 'checked_at' is null, not a string"),
		NO_T(VD, true, D1("\"description\": false"),
		     "validation_details item 0: 'description' is false, not a string or null"),
		NO_T(VD, true, D1("\"check_duration_ms\": null"),
		     "validation_details item 0: 'check_duration_ms' is null, not a number"),
		NO_T(VD, true, D1("\"confidence\": \"high\""),
		     "validation_details item 0: 'confidence' is the string 'high', not a number"),
		NO_T(VD, true, D1("\"confidence\": \"1__0\""),
		     "validation_details item 0: 'confidence' is the string '1__0', not a number"),
		NO_T(VD, true, D1("\"confidence\": \"0x10\""),
		     "validation_details item 0: 'confidence' is the string '0x10', not a number"),
		NO_T(VD, true, D1("\"confidence_factors\": [1]"),
		     "validation_details item 0: 'confidence_factors' is a list, not an object"),
		NO_T(VD, true, D1("\"confidence_factors\": {\"a\": 1, \"b\": \"x\"}"),
		     "validation_details item 0: 'confidence_factors' has the string 'x' for 'b', "
		     "not a number"),
		/* outcome_data: OutcomeDataDict | None */
		OK_T("outcome_data", true, ""),
		OK_T("outcome_data", true, "null"),
		OK_T("outcome_data", true, "{\"files_changed\": 3, \"lines\": 41}"),
		OK_T("outcome_data", true, "{\"escalation_record_id\": \"r-1\", "
		     "\"escalation_skipped\": \"yes\"}"),
		NO_T("outcome_data", true, "[]", "outcome_data is a list, not an object"),
		NO_T("outcome_data", true, "[{\"a\": 1}]", "outcome_data is a list, not an object"),
		NO_T("outcome_data", true, "{\"escalation_record_id\": 5}",
		     "outcome_data: 'escalation_record_id' is a number, not a string"),
		NO_T("outcome_data", true, "{\"escalation_record_id\": null}",
		     "outcome_data: 'escalation_record_id' is null, not a string"),
		NO_T("outcome_data", true, "{\"escalation_skipped\": 3}",
		     "outcome_data: 'escalation_skipped' is a number other than 0 and 1, not a "
		     "boolean"),
	};
	return cr_make_param_array(struct value_row, rows, sizeof rows / sizeof rows[0]);
}

static const struct sl_state_column *column(const char *name, bool sheet)
{
	const struct sl_state_column *cols = sheet ? sl_state_sheet_columns : sl_state_job_columns;
	size_t n = sheet ? SL_STATE_N_SHEET_COLUMNS : SL_STATE_N_JOB_COLUMNS;
	for (size_t i = 0; i < n; i++)
		if (strcmp(cols[i].name, name) == 0)
			return &cols[i];
	cr_assert_fail("no column %s in %s", name, sheet ? "sheets" : "jobs");
	return NULL;
}

ParameterizedTest(struct value_row *row, constraints, column_values)
{
	const struct sl_state_column *c = column(row->column, row->sheet);
	struct sl_value v = { .null = row->kind == 'n', .i = row->i, .d = row->d };
	if (row->kind == 't')
		v.s = row->text;
	char shown[700];
	switch (row->kind) {
	case 't': snprintf(shown, sizeof shown, "'%s'", row->text); break;
	case 'i': snprintf(shown, sizeof shown, "%" PRId64, row->i); break;
	case 'd': snprintf(shown, sizeof shown, "%.17g", row->d); break;
	default: snprintf(shown, sizeof shown, "NULL"); break;
	}
	char reason[SL_REFUSAL_REASON_SIZE] = "(untouched)";
	int rc = sl_state_column_check(c, &v, reason, sizeof reason);
	cr_assert_eq(rc, row->rc, "%s.%s = %s: rc %d (%s), want %d; reason: %s",
		     row->sheet ? "sheets" : "jobs", row->column, shown, rc, sl_strerror(rc),
		     row->rc, reason);
	if (rc != SL_OK) {
		cr_assert_str_eq(reason, row->reason, "%s = %s: the reason", row->column, shown);
		cr_assert_null(strchr(reason, '\n'), "%s = %s: the reason is one line", row->column,
			       shown);
	}
}

/* The catalogue gives every column its check, as constraints.c lists. */
Test(constraints, every_column_has_the_documented_check)
{
	static const struct {
		const char *name;
		bool sheet;
		enum sl_column_check check;
	} want[] = {
		{ "total_sheets", false, SL_CHECK_MIN_1 },
		{ "status", false, SL_CHECK_JOB_STATUS },
		{ "config_snapshot", false, SL_CHECK_JSON_OBJECT },
		{ "created_at", false, SL_CHECK_TIME }, { "updated_at", false, SL_CHECK_TIME },
		{ "started_at", false, SL_CHECK_TIME }, { "completed_at", false, SL_CHECK_TIME },
		{ "sheet_num", true, SL_CHECK_MIN_1 }, { "status", true, SL_CHECK_SHEET_STATUS },
		{ "error_category", true, SL_CHECK_ERROR_CATEGORY },
		{ "validation_details", true, SL_CHECK_JSON_VALIDATION_DETAILS },
		{ "passed_validations", true, SL_CHECK_JSON_TEXT_LIST },
		{ "failed_validations", true, SL_CHECK_JSON_TEXT_LIST },
		{ "execution_mode", true, SL_CHECK_EXECUTION_MODE },
		{ "outcome_data", true, SL_CHECK_JSON_OUTCOME_DATA },
		{ "confidence_score", true, SL_CHECK_UNIT_INTERVAL },
		{ "learned_patterns", true, SL_CHECK_JSON_TEXT_LIST },
		{ "outcome_category", true, SL_CHECK_OUTCOME_CATEGORY },
		{ "started_at", true, SL_CHECK_TIME }, { "completed_at", true, SL_CHECK_TIME },
		{ "exit_reason", true, SL_CHECK_EXIT_REASON },
	};
	size_t checked = 0;
	for (int t = 0; t < 2; t++) {
		const struct sl_state_column *cols = t ? sl_state_sheet_columns : sl_state_job_columns;
		size_t n = t ? SL_STATE_N_SHEET_COLUMNS : SL_STATE_N_JOB_COLUMNS;
		for (size_t i = 0; i < n; i++) {
			enum sl_column_check expect = SL_CHECK_NONE;
			for (size_t k = 0; k < sizeof want / sizeof want[0]; k++)
				if (want[k].sheet == (t == 1) && strcmp(want[k].name, cols[i].name) == 0)
					expect = want[k].check;
			cr_assert_eq(cols[i].check, expect, "%s.%s: check %d, want %d",
				     t ? "sheets" : "jobs", cols[i].name, cols[i].check, expect);
			checked += expect != SL_CHECK_NONE;
			/* Every JSON column has a shape, and only they. */
			bool shape = cols[i].check >= SL_CHECK_JSON_OBJECT;
			cr_assert_eq(shape, cols[i].json, "%s: json %d, shape check %d", cols[i].name,
				     cols[i].json, shape);
		}
	}
	cr_assert_eq(checked, sizeof want / sizeof want[0], "every listed column found");
}

/* ---- the fast path never accepts what the full check refuses ------------- */

static const enum sl_column_check json_kinds[] = {
	SL_CHECK_JSON_OBJECT, SL_CHECK_JSON_TEXT_LIST, SL_CHECK_JSON_VALIDATION_DETAILS,
	SL_CHECK_JSON_OUTCOME_DATA,
};

/* Whether the fast path and the full check agree as they must: fast
 * accepts => full accepts. */
static void agree(enum sl_column_check kind, const char *doc, const char *what)
{
	if (!sl_json_shape_fast(kind, doc))
		return;
	char reason[SL_REFUSAL_REASON_SIZE] = "";
	int rc = sl_json_shape_full(kind, "x", doc, reason, sizeof reason);
	cr_assert_eq(rc, SL_OK, "%s: kind %d, the scanner accepts '%s', the full check refuses: %s",
		     what, kind, doc, reason);
}

/* The documents the workload and the original write are taken by the fast
 * path (else it would save nothing). */
Test(constraints, the_fast_path_takes_the_usual_documents)
{
	static const struct { enum sl_column_check kind; const char *doc; } usual[] = {
		{ SL_CHECK_JSON_OBJECT, "{\"name\": \"nightly\", \"workers\": 4, \"rules\": "
		  "[{\"name\": \"lint\", \"cmd\": \"ruff check src/\"}], \"t\": 0.5, \"n\": null}" },
		{ SL_CHECK_JSON_OBJECT, "null" },
		{ SL_CHECK_JSON_OBJECT, "{\"prompt\": \"\\u00e9t\\u00e9 \\u2713\", \"a\\u00e9\": [true, false]}" },
		{ SL_CHECK_JSON_TEXT_LIST, "[]" },
		{ SL_CHECK_JSON_TEXT_LIST, "[\"lint\", \"tests\"]" },
		{ SL_CHECK_JSON_TEXT_LIST, " {} " },
		{ SL_CHECK_JSON_VALIDATION_DETAILS, "[{\"rule\": \"lint\", \"passed\": true, \"output\": "
		  "\"All checks passed!\"}, {\"rule\": \"tests\", \"passed\": false}]" },
		{ SL_CHECK_JSON_VALIDATION_DETAILS, "[{\"passed\": 1, \"rule_type\": \"file\", "
		  "\"description\": null, \"check_duration_ms\": 12.5, \"confidence\": \"0.9\", "
		  "\"confidence_factors\": {\"a\": 1, \"b\": 0.25}}]" },
		{ SL_CHECK_JSON_OUTCOME_DATA, "{\"files_changed\": 3, \"lines\": 41}" },
		{ SL_CHECK_JSON_OUTCOME_DATA, "{\"escalation_record_id\": \"r\", "
		  "\"escalation_skipped\": \"no\"}" },
	};
	for (size_t i = 0; i < sizeof usual / sizeof usual[0]; i++) {
		cr_assert(sl_json_shape_fast(usual[i].kind, usual[i].doc), "fast path for '%s'",
			  usual[i].doc);
		agree(usual[i].kind, usual[i].doc, "usual");
	}
}

/* Every JSON row of the table above, under every shape. */
ParameterizedTestParameters(constraints, fast_path_agrees_on_the_table)
{
	return constraints_column_values_param();
}

ParameterizedTest(struct value_row *row, constraints, fast_path_agrees_on_the_table)
{
	if (row->kind != 't' || !row->text[0])
		return;
	for (size_t k = 0; k < sizeof json_kinds / sizeof json_kinds[0]; k++)
		agree(json_kinds[k], row->text, row->column);
}

/* Documents mutated at random: a byte replaced, removed or inserted, a
 * stretch repeated; the scanner must never accept what jansson refuses. */
Test(constraints, fast_path_agrees_on_mutated_documents, .timeout = 120)
{
	static const char *const seeds[] = {
		"[{\"rule\": \"lint\", \"passed\": true, \"output\": \"ok\"}, {\"passed\": 0}]",
		"[{\"passed\": \"yes\", \"confidence\": 0.5, \"confidence_factors\": {\"a\": 1}}]",
		"[\"lint\", \"tests pass\", \"a\\\"b\"]",
		"{\"escalation_record_id\": \"r-1\", \"escalation_skipped\": false, \"x\": [1, {}]}",
		"{\"name\": \"nightly\", \"rules\": [{\"cmd\": \"a\\\\b\"}], \"n\": -0.25, \"z\": null}",
		"{}", "[]", "null", "0", "\"\"",
		"[\"caf\\u00e9\", \"\\ud83d\\ude00\", \"\\u0001\"]",
		"[{\"p\\u0061ssed\": true, \"\\u00e9\": \"\\u2713\"}]",
	};
	static const char alphabet[] = "{}[]\",:0123456789.-+eE tfnrualsp\\/ \n\txudD0";
	uint64_t r = 0x9E3779B97F4A7C15ull;
	char doc[256];
#ifdef __SANITIZE_ADDRESS__
	/* under the sanitizers, the first fifth of the same sequence (the
	 * plain build runs all of it) */
	const int documents = 40000;
#else
	const int documents = 200000;
#endif
	for (int i = 0; i < documents; i++) {
		r ^= r << 13, r ^= r >> 7, r ^= r << 17;
		const char *seed = seeds[r % (sizeof seeds / sizeof seeds[0])];
		size_t len = strlen(seed);
		memcpy(doc, seed, len + 1);
		for (int m = 0; m < 1 + (int)((r >> 8) % 3); m++) {
			r ^= r << 13, r ^= r >> 7, r ^= r << 17;
			size_t at = (size_t)(r >> 16) % (len + 1);        /* the end too */
			char c = alphabet[(r >> 40) % (sizeof alphabet - 1)];
			switch ((r >> 4) % 4) {
			case 0: if (at < len) doc[at] = c; break;
			case 1: if (at < len) { memmove(doc + at, doc + at + 1, len - at); len--; } break;
			case 2:
				if (len + 1 < sizeof doc) {
					memmove(doc + at + 1, doc + at, len - at + 1);
					doc[at] = c;
					len++;
				}
				break;
			default: {
				size_t n = (size_t)(r >> 24) % 8;
				if (at + n <= len && len + n < sizeof doc) {
					memmove(doc + at + n, doc + at, len - at + 1);
					len += n;
				}
				break;
			}
			}
		}
		for (size_t k = 0; k < sizeof json_kinds / sizeof json_kinds[0]; k++)
			agree(json_kinds[k], doc, "mutated");
	}
}
