/* test_statejson.c: projector/model/statejson.c, a job's JSON form both
 * ways: a state written and read back is the same state; what the original
 * writes reads as it wrote it; every kind of bad input is refused with the
 * key, the sheet and the reason. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <stdlib.h>
#include <string.h>

#include "state.h"

#define HEAD "{\"job_id\": \"j\", \"job_name\": \"J\", \"total_sheets\": 3, " \
	"\"created_at\": \"2026-01-01T00:00:00+00:00\", \"updated_at\": \"2026-01-01T00:00:01Z\""

static void from(struct sl_job_state *st, const char *text)
{
	struct sl_state_json_problem p;
	int rc = sl_state_from_json(st, text, strlen(text), &p);
	cr_assert_eq(rc, SL_OK, "%s: %s: %s", text, p.key, p.reason);
}

Test(statejson, round_trip)
{
	struct sl_job_state a, b;
	from(&a, HEAD ", \"status\": \"running\", \"pid\": 42, \"started_at\": "
	     "\"2026-01-01T00:00:00.5+00:00\", \"config_snapshot\": {\"k\": [1, 2.5, null]},"
	     " \"sheets\": {\"1\": {\"status\": \"completed\", \"attempt_count\": 2,"
	     " \"validation_details\": [{\"passed\": true}], \"confidence_score\": 0.5,"
	     " \"first_attempt_success\": true, \"completed_at\": \"2026-01-01T00:00:02+00:00\"},"
	     " \"7\": {\"status\": \"in_progress\", \"started_at\": \"2026-01-01T00:00:03+00:00\"}},"
	     " \"an_unknown_key\": [1]}");
	cr_assert_eq(a.presence, SL_JOB_LIVE);
	cr_assert_eq(a.n_sheets, 2, "sheet 7 of 3 kept");
	cr_assert_eq(a.sheets[0].success_without_retry, true, "first_attempt_success taken");
	cr_assert_str_eq(a.config_snapshot, "{\"k\": [1, 2.5, null]}", "json.dumps form");
	char *text = NULL;
	cr_assert_eq(sl_state_to_json(&text, &a), SL_OK);
	from(&b, text);
	const char *d = sl_state_first_difference(&a, &b, 0, NULL);
	cr_assert_null(d, "%s differs after a round trip through %s", d, text);
	cr_assert(strstr(text, "\"passed_validations\": []"), "None read back as []: %s", text);
	cr_assert(strstr(text, "\"started_at\": \"2026-01-01T00:00:00.500000+00:00\""), "%s", text);
	free(text);
	sl_state_free(&a);
	sl_state_free(&b);
}

struct bad {
	const char *name, *text, *key;
	int64_t sheet;
	const char *says;
};

static const struct bad rows[] = {
	{ "not JSON", "{", "", 0, "not valid JSON" },
	{ "not an object", "[]", "", 0, "expected a JSON object" },
	{ "no job id", "{\"job_name\": \"J\", \"total_sheets\": 1, \"created_at\": "
	  "\"2026-01-01T00:00:00Z\", \"updated_at\": \"2026-01-01T00:00:00Z\"}",
	  "job_id", 0, "missing (required)" },
	{ "empty job id", "{\"job_id\": \"\", \"job_name\": \"J\", \"total_sheets\": 1, "
	  "\"created_at\": \"2026-01-01T00:00:00Z\", \"updated_at\": \"2026-01-01T00:00:00Z\"}",
	  "job_id", 0, "an empty job id" },
	{ "total as text", HEAD ", \"total_sheets\": \"3\"}", "total_sheets", 0,
	  "expected an integer" },
	{ "zero sheets", "{\"job_id\": \"j\", \"job_name\": \"J\", \"total_sheets\": 0, "
	  "\"created_at\": \"2026-01-01T00:00:00Z\", \"updated_at\": \"2026-01-01T00:00:00Z\"}",
	  "total_sheets", 0, "below 1" },
	{ "unknown status", HEAD ", \"status\": \"asleep\"}", "status", 0, "unknown job status" },
	{ "bad time", HEAD ", \"started_at\": \"soon\"}", "started_at", 0, "unparsable" },
	{ "sheet 0", HEAD ", \"sheets\": {\"0\": {}}}", "sheets", 0, "not a sheet number" },
	{ "sheet key -1", HEAD ", \"sheets\": {\"-1\": {}}}", "sheets", 0, "not a sheet number" },
	{ "sheet not an object", HEAD ", \"sheets\": {\"1\": 5}}", "", 1, "expected an object" },
	{ "sheet_num disagrees", HEAD ", \"sheets\": {\"2\": {\"sheet_num\": 1}}}", "sheet_num",
	  2, "disagrees" },
	{ "confidence 2", HEAD ", \"sheets\": {\"1\": {\"confidence_score\": 2}}}",
	  "confidence_score", 1, "outside 0..1" },
	{ "NUL in text", HEAD ", \"error_message\": \"a\\u0000b\"}", "error_message", 0, "NUL" },
	{ "null count", HEAD ", \"sheets\": {\"1\": {\"attempt_count\": null}}}", "attempt_count",
	  1, "cannot be NULL" },
};

/* By index: a parameter is copied into the test's process, pointers and all. */
ParameterizedTestParameters(statejson, refused)
{
	static size_t idx[sizeof rows / sizeof rows[0]];
	for (size_t i = 0; i < sizeof idx / sizeof idx[0]; i++)
		idx[i] = i;
	return cr_make_param_array(size_t, idx, sizeof idx / sizeof idx[0]);
}

ParameterizedTest(size_t *i, statejson, refused)
{
	const struct bad *b = &rows[*i];
	struct sl_job_state st;
	struct sl_state_json_problem p;
	memset(&p, 0x55, sizeof p);
	int rc = sl_state_from_json(&st, b->text, strlen(b->text), &p);
	cr_assert_eq(rc, SL_EINVAL, "%s: rc %d", b->name, rc);
	cr_assert_str_eq(p.key, b->key, "%s: key", b->name);
	cr_assert_eq(p.sheet_num, b->sheet, "%s: sheet %lld", b->name, (long long)p.sheet_num);
	cr_assert(strstr(p.reason, b->says), "%s: '%s' lacks '%s'", b->name, p.reason, b->says);
	cr_assert_eq(sl_state_from_json(&st, b->text, strlen(b->text), NULL), SL_EINVAL,
		     "%s: without a problem to fill", b->name);
}
