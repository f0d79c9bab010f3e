/* test_event_text.c: tests of schema/event_text.c, the one-line text form
 * of an event that `statelog dump` prints. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdlib.h>
#include <string.h>

#include "event_internal.h"
#include "event_json.h"

TestSuite(schema_event_text, .timeout = 30);

/* Criterion re-executes the test binary for each test, at another address
 * (PIE), so a parameter must not hold pointers into the parent's memory:
 * tests are parameterized by an index into a table of their own. */
static struct criterion_test_params index_params(size_t n)
{
	static size_t idx[256];
	cr_assert_leq(n, 256, "table of %zu rows is too long", n);
	for (size_t i = 0; i < n; i++)
		idx[i] = i;
	return cr_make_param_array(size_t, idx, n);
}

/* The text of the event that a JSON line describes. */
static char *text_of(const char *json)
{
	sl_event *ev = NULL;
	char err[256] = "";
	int rc = sl_event_from_json(&ev, json, strlen(json), err, sizeof err);
	cr_assert_eq(rc, SL_OK, "sl_event_from_json(%s) returned %d: %s", json, rc, err);
	ev->has_seq = 1;
	ev->seq = 12;
	char *text = NULL;
	rc = sl_event_to_text(&text, ev);
	cr_assert_eq(rc, SL_OK, "sl_event_to_text(%s) returned %d", json, rc);
	sl_event_free(ev);
	return text;
}

struct text_row {
	const char *json;
	const char *text;
};

#define TIME "\"time\": \"2026-11-26T02:49:38.504474+00:00\", "
#define HEAD "#12 2026-11-26T02:49:38.504474+00:00 j1 "
#define P60 "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWX"	/* 60 bytes */

static const struct text_row render_rows[] = {
	{ "{" TIME "\"job_id\": \"j1\", \"type\": \"sheet_completed\", \"body\": {\"sheet_num\": 3, "
	  "\"validation_passed\": true, \"validation_details\": [{\"name\": \"lint\", \"ok\": true}], "
	  "\"duration_seconds\": 12.5}}",
	  HEAD "sheet_completed sheet=3 validation_passed=true duration_seconds=12.5 "
	  "validation_details=[{\"name\": \"lint\", \"ok\": true}]" },
	/* sheet first even when it is not the first field */
	{ "{" TIME "\"job_id\": \"j1\", \"type\": \"rate_limit_wait\", \"body\": {\"wait_seconds\": 60, "
	  "\"sheet_num\": 2}}",
	  HEAD "rate_limit_wait sheet=2 wait_seconds=60.0" },
	{ "{" TIME "\"job_id\": \"j1\", \"type\": \"job_completed\"}", HEAD "job_completed" },
	/* quoting and escaping */
	{ "{" TIME "\"job_id\": \"j1\", \"type\": \"job_paused\", \"body\": {\"reason\": \"user\"}}",
	  HEAD "job_paused reason=user" },
	{ "{" TIME "\"job_id\": \"j1\", \"type\": \"job_paused\", \"body\": {\"reason\": \"by the user\"}}",
	  HEAD "job_paused reason=\"by the user\"" },
	{ "{" TIME "\"job_id\": \"j1\", \"type\": \"job_paused\", \"body\": {\"reason\": \"\"}}",
	  HEAD "job_paused reason=\"\"" },
	{ "{" TIME "\"job_id\": \"j1\", \"type\": \"job_paused\", \"body\": {\"reason\": \"-\"}}",
	  HEAD "job_paused reason=\"-\"" },
	{ "{" TIME "\"job_id\": \"j1\", \"type\": \"job_failed\", \"body\": {\"message\": "
	  "\"a \\\"b\\\" c\\\\d\\n\\t\\r\\u0001\\u007f\"}}",
	  HEAD "job_failed message=\"a \\\"b\\\" c\\\\d\\n\\t\\r\\x01\\x7f\"" },
	/* ESC, and C1 controls (U+0080..U+009F), which some terminals obey */
	{ "{" TIME "\"job_id\": \"r\\u001b[31m\", \"type\": \"job_failed\", \"body\": {\"message\": "
	  "\"x\\u009b2J\\u0085\\u00a0y\"}}",
	  "#12 2026-11-26T02:49:38.504474+00:00 \"r\\x1b[31m\" job_failed "
	  "message=\"x\\u009b2J\\u0085\xc2\xa0y\"" },
	{ "{" TIME "\"job_id\": \"j\\u00f6b\", \"type\": \"job_failed\", \"body\": {\"message\": "
	  "\"caf\\u00e9\"}}",
	  "#12 2026-11-26T02:49:38.504474+00:00 j\xc3\xb6" "b job_failed message=caf\xc3\xa9" },
	{ "{" TIME "\"job_id\": \"my job\", \"type\": \"job_resumed\"}",
	  "#12 2026-11-26T02:49:38.504474+00:00 \"my job\" job_resumed" },
	/* long strings: cut at 60 bytes, never inside a UTF-8 sequence */
	{ "{" TIME "\"job_id\": \"j1\", \"type\": \"execution_recorded\", \"body\": {\"sheet_num\": 1, "
	  "\"prompt\": \"" P60 "\", \"output\": \"" P60 "Z\"}}",
	  HEAD "execution_recorded sheet=1 prompt=" P60 " output=\"" P60 "\"...(61 bytes)" },
	{ "{" TIME "\"job_id\": \"j1\", \"type\": \"execution_recorded\", \"body\": {"
	  "\"output\": \"" "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVW" "\\u00e9tail\"}}",
	  HEAD "execution_recorded output=\"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVW\""
	  "...(65 bytes)" },
	{ "{" TIME "\"job_id\": \"j1\", \"type\": \"job_created\", \"body\": {\"name\": \"n\", "
	  "\"config_snapshot\": {\"k\": \"" P60 "\"}}}",
	  HEAD "job_created name=n config_snapshot={\"k\": \"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ"
	  "...(69 bytes)" },
	/* cleared fields, and times shown as times */
	{ "{" TIME "\"job_id\": \"j1\", \"type\": \"job_fields_set\", \"body\": {\"status\": \"paused\", "
	  "\"started_at_us\": 1795661378000000, \"cleared\": [\"pid\", \"completed_at_us\"]}}",
	  HEAD "job_fields_set status=paused started_at=2026-11-26T02:49:38+00:00 pid=NULL completed_at=NULL" },
	{ "{" TIME "\"job_id\": \"j1\", \"type\": \"sheet_fields_set\", \"body\": {\"sheet_num\": 2, "
	  "\"cleared\": [\"sheet_num\"]}}",
	  NULL },	/* set and cleared: refused, see the JSON tests */
	{ "{" TIME "\"job_id\": \"j1\", \"type\": \"sheet_fields_set\", \"body\": {\"sheet_num\": 2, "
	  "\"outcome_data\": {\"a\": 0.1}, \"confidence_score\": 0.75, \"success_without_retry\": false, "
	  "\"cleared\": [\"exit_code\", \"validation_details\"]}}",
	  HEAD "sheet_fields_set sheet=2 confidence_score=0.75 success_without_retry=false "
	  "outcome_data={\"a\": 0.1} exit_code=NULL validation_details=NULL" },
	{ "{" TIME "\"job_id\": \"j1\", \"type\": \"job_created\", \"body\": {\"name\": \"n\", "
	  "\"created_at_us\": -9223372036854775807}}",
	  HEAD "job_created name=n created_at_us=-9223372036854775807" },
};

ParameterizedTestParameters(schema_event_text, render)
{
	return index_params(sizeof render_rows / sizeof render_rows[0]);
}

ParameterizedTest(size_t *idx, schema_event_text, render)
{
	const struct text_row *row = &render_rows[*idx];
	if (!row->text)
		return;
	char *text = text_of(row->json);
	cr_assert_str_eq(text, row->text, "%s\n rendered as %s\n expected    %s", row->json, text, row->text);
	cr_assert_null(strchr(text, '\n'), "%s rendered on more than one line", row->json);
	free(text);
}

Test(schema_event_text, missing_seq_time_and_job)
{
	Statelog__Event ev = STATELOG__EVENT__INIT;
	Statelog__JobResumed jr = STATELOG__JOB_RESUMED__INIT;
	ev.body_case = STATELOG__EVENT__BODY_JOB_RESUMED;
	ev.job_resumed = &jr;
	char *text = NULL;
	cr_assert_eq(sl_event_to_text(&text, &ev), SL_OK, "event without seq, time, job_id");
	cr_assert_str_eq(text, "#- - - job_resumed", "event without seq, time, job_id rendered as %s", text);
	free(text);

	ev.has_time_us = 1;
	ev.time_us = INT64_MAX;
	ev.job_id = "j1";
	cr_assert_eq(sl_event_to_text(&text, &ev), SL_OK, "event with time INT64_MAX");
	cr_assert_str_eq(text, "#- 9223372036854775807us j1 job_resumed", "time INT64_MAX rendered as %s", text);
	free(text);
}

Test(schema_event_text, invalid_utf8_is_escaped)
{
	Statelog__Event ev = STATELOG__EVENT__INIT;
	Statelog__JobPaused jp = STATELOG__JOB_PAUSED__INIT;
	ev.job_id = "j1";
	ev.body_case = STATELOG__EVENT__BODY_JOB_PAUSED;
	ev.job_paused = &jp;
	jp.reason = "bad\xff\xc3(";
	char *text = NULL;
	cr_assert_eq(sl_event_to_text(&text, &ev), SL_OK, "reason with invalid UTF-8");
	cr_assert_str_eq(text, "#- - j1 job_paused reason=\"bad\\xff\\xc3(\"", "invalid UTF-8 rendered as %s", text);
	free(text);
}

Test(schema_event_text, unknown_event_type)
{
	static const uint8_t bytes[] = { 0x1a, 0x02, 'j', '1', 0xc2, 0x02, 0x00 };
	sl_event *ev = NULL;
	cr_assert_eq(sl_event_decode(&ev, bytes, sizeof bytes, 7, 0), SL_OK, "decode of a field-40 body");
	char *text = NULL;
	cr_assert_eq(sl_event_to_text(&text, ev), SL_OK, "text of an unknown type");
	cr_assert_str_eq(text, "#7 1970-01-01T00:00:00+00:00 j1 unknown unknown_field=40",
			 "unknown type rendered as %s", text);
	free(text);
	sl_event_free(ev);
}

/* A cleared number of a newer schema is shown, not dropped. */
Test(schema_event_text, unknown_cleared_number)
{
	Statelog__Event ev = STATELOG__EVENT__INIT;
	Statelog__JobFieldsSet js = STATELOG__JOB_FIELDS_SET__INIT;
	uint32_t cleared[] = { 9, 77 };
	ev.job_id = "j1";
	ev.body_case = STATELOG__EVENT__BODY_JOB_FIELDS_SET;
	ev.job_fields_set = &js;
	js.n_cleared = 2;
	js.cleared = cleared;
	char *text = NULL;
	cr_assert_eq(sl_event_to_text(&text, &ev), SL_OK, "cleared 9, 77");
	cr_assert_str_eq(text, "#- - j1 job_fields_set pid=NULL field77=NULL", "cleared 9, 77 rendered as %s", text);
	free(text);
}
