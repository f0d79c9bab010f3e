/* test_event_fields.c: tests of schema/event_fields.c and the accessors of
 * schema/event.c: events built and read by field name, through the public
 * event.h only (no protobuf-c), as a program using the library does. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "event_json.h"

TestSuite(schema_event_fields, .timeout = 30);

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

/* The event's JSON line, checked and owned by the caller. */
static char *line_of(const sl_event *ev)
{
	char *line = sl_event_to_json_line(ev);
	cr_assert_not_null(line, "sl_event_to_json_line() failed");
	return line;
}

static sl_event *new_event(const char *type, const char *job_id)
{
	sl_event *ev = NULL;
	int rc = sl_event_new(&ev, type, job_id);
	cr_assert_eq(rc, SL_OK, "sl_event_new(\"%s\", \"%s\") returned %d", type, job_id, rc);
	cr_assert_not_null(ev, "sl_event_new(\"%s\") set no event", type);
	return ev;
}

/* ---- sl_event_new() ---------------------------------------------------- */

struct new_row {
	const char *type;
	const char *job_id;
	int rc;
	const char *line;      /* the JSON line of the new event when rc is SL_OK */
};

static const struct new_row new_rows[] = {
	{ "sheet_started", "j1", SL_OK, "{\"job_id\": \"j1\", \"type\": \"sheet_started\", \"body\": {}}" },
	{ "job_resumed", "nightly build", SL_OK,
	  "{\"job_id\": \"nightly build\", \"type\": \"job_resumed\", \"body\": {}}" },
	{ "job_created", "caf\xc3\xa9", SL_OK,
	  "{\"job_id\": \"caf\\u00e9\", \"type\": \"job_created\", \"body\": {}}" },
	/* failing rows */
	{ "no_such_type", "j1", SL_EINVAL, NULL },
	{ "none", "j1", SL_EINVAL, NULL },
	{ "unknown", "j1", SL_EINVAL, NULL },
	{ "seq", "j1", SL_EINVAL, NULL },          /* an envelope field, not a type */
	{ "job_id", "j1", SL_EINVAL, NULL },
	{ "", "j1", SL_EINVAL, NULL },
	{ NULL, "j1", SL_EINVAL, NULL },
	{ "job_created", "", SL_EINVAL, NULL },
	{ "job_created", NULL, SL_EINVAL, NULL },
	{ "job_created", "bad\xff", SL_EINVAL, NULL },
};
#define N_NEW_ROWS (sizeof new_rows / sizeof new_rows[0])

ParameterizedTestParameters(schema_event_fields, new_event)
{
	return index_params(N_NEW_ROWS);
}

ParameterizedTest(size_t *i, schema_event_fields, new_event)
{
	const struct new_row *r = &new_rows[*i];
	sl_event *ev = (sl_event *)&ev;	/* a sentinel: must be left alone on failure */
	int rc = sl_event_new(&ev, r->type, r->job_id);
	cr_assert_eq(rc, r->rc, "sl_event_new(\"%s\", \"%s\") returned %d, expected %d",
		     r->type ? r->type : "(null)", r->job_id ? r->job_id : "(null)", rc, r->rc);
	if (rc != SL_OK) {
		cr_assert_eq(ev, (sl_event *)&ev, "sl_event_new(\"%s\") failed but set *out",
			     r->type ? r->type : "(null)");
		return;
	}
	char *line = line_of(ev);
	cr_assert_str_eq(line, r->line, "sl_event_new(\"%s\", \"%s\"): %s", r->type, r->job_id, line);
	cr_assert_str_eq(sl_event_type_name(ev), r->type, "type name of a new %s", r->type);
	cr_assert_str_eq(sl_event_job_id(ev), r->job_id, "job id of a new %s", r->type);
	cr_assert_eq(sl_event_seq(ev), 0, "a new %s has seq %llu", r->type,
		     (unsigned long long)sl_event_seq(ev));
	cr_assert_eq(sl_event_time_us(ev), 0, "a new %s has a time", r->type);
	free(line);
	sl_event_free(ev);
}

/* ---- the setters ------------------------------------------------------- */

enum setter { INT, REAL, BOOL, TEXT };

struct set_row {
	const char *type;
	enum setter setter;
	const char *field;
	int64_t i;
	double d;
	const char *text;      /* TEXT: the value; BOOL: non-NULL for true */
	int rc;
	const char *body;      /* the body after the call (unchanged: "{}") */
};

static const struct set_row set_rows[] = {
	{ "sheet_completed", INT, "sheet_num", 3, 0, NULL, SL_OK, "{\"sheet_num\": 3}" },
	{ "sheet_completed", REAL, "duration_seconds", 0, 12.5, NULL, SL_OK,
	  "{\"duration_seconds\": 12.5}" },
	{ "sheet_completed", BOOL, "validation_passed", 0, 0, "true", SL_OK,
	  "{\"validation_passed\": true}" },
	{ "sheet_completed", BOOL, "validation_passed", 0, 0, NULL, SL_OK,
	  "{\"validation_passed\": false}" },
	/* JSON text: checked, stored as given */
	{ "sheet_completed", TEXT, "validation_details", 0, 0, "[{\"name\":\"lint\", \"ok\": true}]", SL_OK,
	  "{\"validation_details\": \"[{\\\"name\\\":\\\"lint\\\", \\\"ok\\\": true}]\"}" },
	{ "sheet_completed", TEXT, "validation_details", 0, 0, "3", SL_OK,
	  "{\"validation_details\": \"3\"}" },
	{ "job_created", TEXT, "config_snapshot", 0, 0, "{\"a\": null}", SL_OK,
	  "{\"config_snapshot\": \"{\\\"a\\\": null}\"}" },
	{ "sheet_failed", TEXT, "message", 0, 0, "boom: caf\xc3\xa9", SL_OK,
	  "{\"message\": \"boom: caf\\u00e9\"}" },
	{ "sheet_failed", TEXT, "message", 0, 0, "", SL_OK, "{\"message\": \"\"}" },
	{ "rate_limit_wait", REAL, "wait_seconds", 0, NAN, NULL, SL_OK, "{\"wait_seconds\": \"NaN\"}" },
	{ "pid_set", INT, "pid", INT64_MIN, 0, NULL, SL_OK, "{\"pid\": -9223372036854775808}" },
	{ "job_fields_set", INT, "updated_at_us", 1795661378504474LL, 0, NULL, SL_OK,
	  "{\"updated_at_us\": 1795661378504474}" },
	/* failing rows: the event is left as it was */
	{ "sheet_completed", TEXT, "validation_details", 0, 0, "[1, 2", SL_EINVAL, "{}" },
	{ "sheet_completed", TEXT, "validation_details", 0, 0, "", SL_EINVAL, "{}" },
	{ "sheet_completed", TEXT, "validation_details", 0, 0, "not json", SL_EINVAL, "{}" },
	{ "sheet_completed", TEXT, "validation_details", 0, 0, "[\"\\u0000\"]", SL_EINVAL, "{}" },
	{ "sheet_failed", TEXT, "message", 0, 0, "bad \xc3\x28", SL_EINVAL, "{}" },
	{ "sheet_failed", TEXT, "message", 0, 0, "\xed\xa0\x80", SL_EINVAL, "{}" },  /* a surrogate */
	{ "sheet_failed", TEXT, "message", 0, 0, NULL, SL_EINVAL, "{}" },
	{ "sheet_completed", INT, "duration_seconds", 12, 0, NULL, SL_EINVAL, "{}" },
	{ "sheet_completed", REAL, "sheet_num", 0, 3.0, NULL, SL_EINVAL, "{}" },
	{ "sheet_completed", BOOL, "sheet_num", 0, 0, "true", SL_EINVAL, "{}" },
	{ "sheet_completed", TEXT, "sheet_num", 0, 0, "3", SL_EINVAL, "{}" },
	{ "sheet_completed", INT, "validation_passed", 1, 0, NULL, SL_EINVAL, "{}" },
	{ "sheet_completed", INT, "no_such_field", 1, 0, NULL, SL_EINVAL, "{}" },
	{ "sheet_completed", INT, NULL, 1, 0, NULL, SL_EINVAL, "{}" },
	{ "sheet_completed", INT, "", 1, 0, NULL, SL_EINVAL, "{}" },
	{ "sheet_completed", TEXT, "job_id", 0, 0, "j2", SL_EINVAL, "{}" },   /* envelope */
	{ "sheet_completed", INT, "seq", 7, 0, NULL, SL_EINVAL, "{}" },
	{ "job_fields_set", INT, "cleared", 1, 0, NULL, SL_EINVAL, "{}" },    /* the list itself */
	{ "job_resumed", INT, "sheet_num", 1, 0, NULL, SL_EINVAL, "{}" },
	{ "sheet_started", INT, "pid", 1, 0, NULL, SL_EINVAL, "{}" },         /* another type's */
};
#define N_SET_ROWS (sizeof set_rows / sizeof set_rows[0])

static int call_setter(sl_event *ev, const struct set_row *r)
{
	switch (r->setter) {
	case INT: return sl_event_set_int(ev, r->field, r->i);
	case REAL: return sl_event_set_real(ev, r->field, r->d);
	case BOOL: return sl_event_set_bool(ev, r->field, r->text != NULL);
	case TEXT: return sl_event_set_text(ev, r->field, r->text);
	}
	return -999;
}

ParameterizedTestParameters(schema_event_fields, set)
{
	return index_params(N_SET_ROWS);
}

ParameterizedTest(size_t *i, schema_event_fields, set)
{
	const struct set_row *r = &set_rows[*i];
	const char *field = r->field ? r->field : "(null)";
	sl_event *ev = new_event(r->type, "j1");
	int rc = call_setter(ev, r);
	cr_assert_eq(rc, r->rc, "row %zu: setting %s.%s returned %d, expected %d", *i, r->type,
		     field, rc, r->rc);
	char want[512];
	snprintf(want, sizeof want, "{\"job_id\": \"j1\", \"type\": \"%s\", \"body\": %s}",
		 r->type, r->body);
	char *line = line_of(ev);
	cr_assert_str_eq(line, want, "row %zu: %s.%s gives %s", *i, r->type, field, line);
	free(line);
	sl_event_free(ev);
}

/* Every row that sets a field reads back through the getter of its type,
 * and the event goes through the log's encoding unchanged. */
ParameterizedTestParameters(schema_event_fields, get_after_set)
{
	return index_params(N_SET_ROWS);
}

ParameterizedTest(size_t *i, schema_event_fields, get_after_set)
{
	const struct set_row *r = &set_rows[*i];
	if (r->rc != SL_OK)
		return;
	sl_event *built = new_event(r->type, "j1");
	cr_assert_eq(call_setter(built, r), SL_OK, "row %zu: setting %s.%s", *i, r->type, r->field);
	/* through the on-disk encoding, as a reader of the log gets it */
	size_t size = sl_event_encoded_size(built);
	uint8_t *buf = malloc(size + 1);
	cr_assert_not_null(buf, "malloc");
	cr_assert_eq(sl_event_encode(built, buf), size, "row %zu: encoded size", *i);
	sl_event *ev = NULL;
	cr_assert_eq(sl_event_decode(&ev, buf, size, 42, 1795661378504474LL), SL_OK,
		     "row %zu: decoding %s", *i, r->type);
	cr_assert_eq(sl_event_seq(ev), 42, "row %zu: seq", *i);
	cr_assert_eq(sl_event_time_us(ev), 1795661378504474LL, "row %zu: time", *i);

	int64_t iv = 0;
	double dv = 0;
	bool bv = false;
	const char *tv = NULL;
	switch (r->setter) {
	case INT:
		cr_assert_eq(sl_event_get_int(&iv, ev, r->field), SL_OK, "row %zu: get %s", *i, r->field);
		cr_assert_eq(iv, r->i, "row %zu: %s read back %lld", *i, r->field, (long long)iv);
		cr_assert_eq(sl_event_get_real(&dv, ev, r->field), SL_EINVAL,
			     "row %zu: %s read as a real", *i, r->field);
		break;
	case REAL:
		cr_assert_eq(sl_event_get_real(&dv, ev, r->field), SL_OK, "row %zu: get %s", *i, r->field);
		cr_assert(isnan(r->d) ? isnan(dv) : dv == r->d, "row %zu: %s read back %g", *i,
			  r->field, dv);
		cr_assert_eq(sl_event_get_int(&iv, ev, r->field), SL_EINVAL,
			     "row %zu: %s read as an integer", *i, r->field);
		break;
	case BOOL:
		cr_assert_eq(sl_event_get_bool(&bv, ev, r->field), SL_OK, "row %zu: get %s", *i, r->field);
		cr_assert_eq(bv, r->text != NULL, "row %zu: %s read back %d", *i, r->field, bv);
		cr_assert_eq(sl_event_get_text(&tv, ev, r->field), SL_EINVAL,
			     "row %zu: %s read as text", *i, r->field);
		break;
	case TEXT:
		cr_assert_eq(sl_event_get_text(&tv, ev, r->field), SL_OK, "row %zu: get %s", *i, r->field);
		cr_assert_str_eq(tv, r->text, "row %zu: %s read back \"%s\"", *i, r->field, tv);
		cr_assert_eq(sl_event_get_bool(&bv, ev, r->field), SL_EINVAL,
			     "row %zu: %s read as a bool", *i, r->field);
		break;
	}
	cr_assert_not(sl_event_is_cleared(ev, r->field), "row %zu: %s cleared", *i, r->field);
	free(buf);
	sl_event_free(ev);
	sl_event_free(built);
}

Test(schema_event_fields, getters_of_absent_and_unknown_fields)
{
	sl_event *ev = new_event("sheet_failed", "j1");
	int64_t iv = 77;
	const char *tv = "untouched";
	cr_assert_eq(sl_event_get_int(&iv, ev, "exit_code"), SL_ENOTFOUND, "exit_code is not set");
	cr_assert_eq(iv, 77, "*out written for an absent field");
	cr_assert_eq(sl_event_get_text(&tv, ev, "message"), SL_ENOTFOUND, "message is not set");
	cr_assert_str_eq(tv, "untouched", "*out written for an absent field");
	cr_assert_eq(sl_event_get_int(&iv, ev, "no_such_field"), SL_EINVAL, "unknown field");
	cr_assert_eq(sl_event_get_int(&iv, ev, NULL), SL_EINVAL, "NULL field name");
	cr_assert_eq(sl_event_get_int(&iv, ev, "message"), SL_EINVAL, "text read as an integer");
	cr_assert_not(sl_event_is_cleared(ev, "message"), "sheet_failed has no cleared list");
	cr_assert_not(sl_event_is_cleared(ev, "no_such_field"), "unknown field cleared");
	sl_event_free(ev);
}

Test(schema_event_fields, set_again_replaces)
{
	sl_event *ev = new_event("sheet_failed", "j1");
	cr_assert_eq(sl_event_set_text(ev, "message", "first"), SL_OK, "first message");
	cr_assert_eq(sl_event_set_text(ev, "message", "second"), SL_OK, "second message");
	cr_assert_eq(sl_event_set_int(ev, "exit_code", 1), SL_OK, "exit_code 1");
	cr_assert_eq(sl_event_set_int(ev, "exit_code", 2), SL_OK, "exit_code 2");
	cr_assert_eq(sl_event_set_text(ev, "message", "bad \xff"), SL_EINVAL, "bad UTF-8");
	char *line = line_of(ev);
	cr_assert_str_eq(line, "{\"job_id\": \"j1\", \"type\": \"sheet_failed\", \"body\": "
			 "{\"message\": \"second\", \"exit_code\": 2}}", "after setting twice: %s", line);
	free(line);
	sl_event_free(ev);
}

/* ---- clearing ---------------------------------------------------------- */

Test(schema_event_fields, clear_then_set_then_clear)
{
	sl_event *ev = new_event("sheet_fields_set", "j1");
	cr_assert_eq(sl_event_set_int(ev, "sheet_num", 2), SL_OK, "sheet_num");
	cr_assert_eq(sl_event_set_text(ev, "error_message", "boom"), SL_OK, "error_message");
	cr_assert_eq(sl_event_clear_field(ev, "error_message"), SL_OK, "clearing error_message");
	cr_assert_eq(sl_event_clear_field(ev, "error_message"), SL_OK, "clearing it again");
	cr_assert_eq(sl_event_clear_field(ev, "confidence_score"), SL_OK, "clearing confidence_score");
	cr_assert(sl_event_is_cleared(ev, "error_message"), "error_message is cleared");
	const char *tv = NULL;
	cr_assert_eq(sl_event_get_text(&tv, ev, "error_message"), SL_ENOTFOUND,
		     "a cleared field has no value");
	char *line = line_of(ev);
	cr_assert_str_eq(line, "{\"job_id\": \"j1\", \"type\": \"sheet_fields_set\", \"body\": "
			 "{\"sheet_num\": 2, \"cleared\": [\"error_message\", \"confidence_score\"]}}",
			 "cleared: %s", line);
	free(line);
	cr_assert_eq(sl_event_sheet(ev), 2, "the sheet of a sheet_fields_set");

	/* setting a cleared field takes it off the list */
	cr_assert_eq(sl_event_set_real(ev, "confidence_score", 0.5), SL_OK, "confidence_score");
	cr_assert_eq(sl_event_set_text(ev, "error_message", "again"), SL_OK, "error_message again");
	cr_assert_not(sl_event_is_cleared(ev, "error_message"), "error_message still cleared");
	line = line_of(ev);
	cr_assert_str_eq(line, "{\"job_id\": \"j1\", \"type\": \"sheet_fields_set\", \"body\": "
			 "{\"sheet_num\": 2, \"error_message\": \"again\", \"confidence_score\": 0.5}}",
			 "set again: %s", line);
	free(line);

	/* the same event, given as JSON, is the same event */
	const char *json = "{\"job_id\": \"j1\", \"type\": \"sheet_fields_set\", \"body\": "
			   "{\"sheet_num\": 2, \"cleared\": [\"exit_code\"]}}";
	sl_event *parsed = NULL;
	cr_assert_eq(sl_event_from_json(&parsed, json, strlen(json), NULL, 0), SL_OK, "parsing %s", json);
	sl_event *built = new_event("sheet_fields_set", "j1");
	cr_assert_eq(sl_event_set_int(built, "sheet_num", 2), SL_OK, "sheet_num");
	cr_assert_eq(sl_event_clear_field(built, "exit_code"), SL_OK, "clearing exit_code");
	size_t n1 = sl_event_encoded_size(parsed), n2 = sl_event_encoded_size(built);
	cr_assert_eq(n1, n2, "encoded sizes %zu (JSON) and %zu (built)", n1, n2);
	uint8_t b1[256], b2[256];
	cr_assert_leq(n1, sizeof b1, "encoded size %zu", n1);
	sl_event_encode(parsed, b1);
	sl_event_encode(built, b2);
	cr_assert_eq(memcmp(b1, b2, n1), 0, "built and parsed events encode differently");
	sl_event_free(parsed);
	sl_event_free(built);
	sl_event_free(ev);
}

Test(schema_event_fields, clear_refused)
{
	sl_event *ev = new_event("job_fields_set", "j1");
	cr_assert_eq(sl_event_clear_field(ev, "no_such_field"), SL_EINVAL, "unknown field");
	cr_assert_eq(sl_event_clear_field(ev, "cleared"), SL_EINVAL, "the list itself");
	cr_assert_eq(sl_event_clear_field(ev, NULL), SL_EINVAL, "NULL field name");
	sl_event_free(ev);

	ev = new_event("sheet_failed", "j1");
	cr_assert_eq(sl_event_set_text(ev, "message", "boom"), SL_OK, "message");
	cr_assert_eq(sl_event_clear_field(ev, "message"), SL_EINVAL,
		     "sheet_failed has no cleared list");
	const char *tv = NULL;
	cr_assert_eq(sl_event_get_text(&tv, ev, "message"), SL_OK, "message kept after a refusal");
	cr_assert_str_eq(tv, "boom", "message after a refused clear");
	sl_event_free(ev);
}

/* ---- time, sheet and the text forms ------------------------------------ */

Test(schema_event_fields, time_sheet_and_text)
{
	sl_event *ev = new_event("sheet_completed", "j1");
	cr_assert_eq(sl_event_sheet(ev), 0, "no sheet before sheet_num is set");
	cr_assert_eq(sl_event_set_int(ev, "sheet_num", 3), SL_OK, "sheet_num");
	cr_assert_eq(sl_event_sheet(ev), 3, "sheet after sheet_num is set");
	sl_event_set_time(ev, 1795661378504474LL);
	cr_assert_eq(sl_event_time_us(ev), 1795661378504474LL, "time after sl_event_set_time()");
	cr_assert_eq(sl_event_seq(ev), 0, "no seq before appending");
	char *text = NULL;
	cr_assert_eq(sl_event_to_text(&text, ev), SL_OK, "sl_event_to_text");
	cr_assert_str_eq(text, "#- 2026-11-26T02:49:38.504474+00:00 j1 sheet_completed sheet=3",
			 "text: %s", text);
	free(text);
	char *line = line_of(ev);
	cr_assert_str_eq(line, "{\"time\": \"2026-11-26T02:49:38.504474+00:00\", \"job_id\": \"j1\", "
			 "\"type\": \"sheet_completed\", \"body\": {\"sheet_num\": 3}}", "JSON: %s", line);
	free(line);
	sl_event_free(ev);
}
