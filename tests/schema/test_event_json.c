/* test_event_json.c: tests of schema/event_json.c, the JSON codec of events.
 *
 * Round trips build events by reflection (every field of every body type
 * set), so a message added to events.proto is covered without a change here.
 * Expected JSON text was produced by Python's json.dumps() and repr(). */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "event_json_internal.h"

TestSuite(schema_event_json, .timeout = 30);

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

#define T0 1795661378504474LL	/* 2026-11-26T02:49:38.504474+00:00 */

/* A bare event with a body of type bc; the body is returned in *body. */
static sl_event *new_event(Statelog__Event__BodyCase bc, ProtobufCMessage **body)
{
	sl_event *ev = malloc(sizeof *ev);
	cr_assert_not_null(ev, "malloc of an event failed");
	statelog__event__init(ev);
	ev->has_seq = 1;
	ev->seq = 12;
	ev->has_time_us = 1;
	ev->time_us = T0;
	ev->job_id = strdup("j1");
	const ProtobufCFieldDescriptor *bf =
		protobuf_c_message_descriptor_get_field(&statelog__event__descriptor, (unsigned)bc);
	cr_assert_not_null(bf, "no body field %d in Event", (int)bc);
	const ProtobufCMessageDescriptor *bd = bf->descriptor;
	ProtobufCMessage *m = malloc(bd->sizeof_message);
	cr_assert_not_null(m, "malloc of a %s failed", bd->name);
	bd->message_init(m);
	*(ProtobufCMessage **)((char *)ev + bf->offset) = m;
	ev->body_case = bc;
	*body = m;
	return ev;
}

/* Sets every field of m but "cleared" to a value that depends on the field,
 * covering the extremes of each type and awkward strings. */
static void fill_every_field(ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		char *member = (char *)m + f->offset;
		if (sl_event_field_is_cleared_list(f))
			continue;
		switch (f->type) {
		case PROTOBUF_C_TYPE_INT64: {
			int64_t v[] = { INT64_MIN + f->id, INT64_MAX - f->id, -(int64_t)f->id, f->id * 1000 };
			*(int64_t *)member = v[i % 4];
			break;
		}
		case PROTOBUF_C_TYPE_BOOL:
			*(protobuf_c_boolean *)member = f->id % 2;
			break;
		case PROTOBUF_C_TYPE_DOUBLE: {
			double v[] = { 0.1 * f->id, 1e300 / f->id, -5e-324 * f->id, 12.0 };
			*(double *)member = v[i % 4];
			break;
		}
		case PROTOBUF_C_TYPE_STRING: {
			char buf[200];
			if (sl_event_field_is_json(f))
				snprintf(buf, sizeof buf, "[{\"name\": \"caf\\u00e9\", \"field\": %u}]", f->id);
			else
				snprintf(buf, sizeof buf, "%s: \"q\" \\ \t\n caf\xc3\xa9 \xf0\x9f\x98\x80", f->name);
			*(char **)member = strdup(buf);
			continue;	/* strings have no has_ flag */
		}
		default:
			cr_assert_fail("%s.%s: a field type the test does not fill (%d)",
				       d->name, f->name, (int)f->type);
		}
		*(protobuf_c_boolean *)((char *)m + f->quantifier_offset) = 1;
	}
}

/* The protobuf bytes of ev, seq left out (the log assigns it; JSON input
 * ignores it).  Owned by the caller. */
static uint8_t *pack_without_seq(const sl_event *ev, size_t *len)
{
	sl_event copy = *ev;
	copy.has_seq = 0;
	*len = protobuf_c_message_get_packed_size(&copy.base);
	uint8_t *buf = malloc(*len + 1);
	cr_assert_not_null(buf, "malloc failed");
	size_t n = protobuf_c_message_pack(&copy.base, buf);
	cr_assert_eq(n, *len, "pack wrote %zu bytes, expected %zu", n, *len);
	return buf;
}

/* JSON line -> event, asserting success. */
static sl_event *parse_ok(const char *json)
{
	sl_event *ev = NULL;
	char err[256] = "";
	int rc = sl_event_from_json(&ev, json, strlen(json), err, sizeof err);
	cr_assert_eq(rc, SL_OK, "sl_event_from_json(%s) returned %d: %s", json, rc, err);
	cr_assert_not_null(ev, "sl_event_from_json(%s) gave no event", json);
	return ev;
}

/* Asserts from_json(to_json(ev)) == ev, byte for byte. */
static void assert_round_trip(const sl_event *ev, const char *what)
{
	char *line = sl_event_to_json_line(ev);
	cr_assert_not_null(line, "%s: sl_event_to_json_line failed", what);
	sl_event *back = parse_ok(line);
	size_t a_len, b_len;
	uint8_t *a = pack_without_seq(ev, &a_len);
	uint8_t *b = pack_without_seq(back, &b_len);
	cr_assert_eq(a_len, b_len, "%s: %zu bytes before, %zu after JSON %s", what, a_len, b_len, line);
	cr_assert_eq(memcmp(a, b, a_len), 0, "%s: bytes differ after JSON %s", what, line);
	cr_assert_eq(back->has_seq, 0, "%s: seq was taken from JSON input %s", what, line);
	free(a);
	free(b);
	free(line);
	sl_event_free(back);
}

ParameterizedTestParameters(schema_event_json, round_trip_every_type)
{
	static int cases[64];
	size_t n = 0;
	for (unsigned i = 0; i < statelog__event__descriptor.n_fields && n < 64; i++)
		if (statelog__event__descriptor.fields[i].flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
			cases[n++] = (int)statelog__event__descriptor.fields[i].id;
	return cr_make_param_array(int, cases, n);
}

ParameterizedTest(int *bc, schema_event_json, round_trip_every_type)
{
	ProtobufCMessage *body;
	sl_event *ev = new_event((Statelog__Event__BodyCase)*bc, &body);
	fill_every_field(body);
	assert_round_trip(ev, body->descriptor->name);

	/* Every field that was set is in the JSON body, under its name. */
	json_t *obj = NULL;
	cr_assert_eq(sl_event_to_json(ev, &obj), SL_OK, "sl_event_to_json(%s) failed", body->descriptor->name);
	json_t *jb = json_object_get(obj, "body");
	cr_assert(json_is_object(jb), "%s: no body object", body->descriptor->name);
	for (unsigned i = 0; i < body->descriptor->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &body->descriptor->fields[i];
		if (!sl_event_field_is_cleared_list(f))
			cr_assert_not_null(json_object_get(jb, f->name), "%s.%s missing from the JSON body",
					   body->descriptor->name, f->name);
	}
	cr_assert_str_eq(json_string_value(json_object_get(obj, "type")), sl_event_type_name(ev),
			 "%s: wrong type name", body->descriptor->name);
	json_decref(obj);
	sl_event_free(ev);
}

/* A field list of names -> the fields' numbers in a "cleared" list. */
static void set_cleared(ProtobufCMessage *m, const char *const *names, size_t n)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	const ProtobufCFieldDescriptor *lf = protobuf_c_message_descriptor_get_field_by_name(d, "cleared");
	cr_assert_not_null(lf, "%s has no cleared list", d->name);
	uint32_t *ids = malloc(n * sizeof *ids);
	for (size_t i = 0; i < n; i++) {
		const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(d, names[i]);
		ids[i] = f ? f->id : 99;	/* 99: a field of a newer schema */
	}
	*(uint32_t **)((char *)m + lf->offset) = ids;
	*(size_t *)((char *)m + lf->quantifier_offset) = n;
}

Test(schema_event_json, cleared_round_trips_as_names)
{
	ProtobufCMessage *m;
	sl_event *ev = new_event(STATELOG__EVENT__BODY_JOB_FIELDS_SET, &m);
	Statelog__JobFieldsSet *js = (Statelog__JobFieldsSet *)m;
	js->status = strdup("paused");
	static const char *const names[] = { "pid", "error_message", "completed_at_us" };
	set_cleared(m, names, 3);
	assert_round_trip(ev, "job_fields_set with cleared");

	char *line = sl_event_to_json_line(ev);
	const char *want = "{\"seq\": 12, \"time\": \"2026-11-26T02:49:38.504474+00:00\", \"job_id\": \"j1\", "
			   "\"type\": \"job_fields_set\", \"body\": {\"status\": \"paused\", "
			   "\"cleared\": [\"pid\", \"error_message\", \"completed_at_us\"]}}";
	cr_assert_str_eq(line, want, "job_fields_set with cleared rendered as %s", line);
	free(line);
	sl_event_free(ev);

	/* The other two messages with a cleared list. */
	ev = new_event(STATELOG__EVENT__BODY_SHEET_FIELDS_SET, &m);
	((Statelog__SheetFieldsSet *)m)->has_sheet_num = 1;
	((Statelog__SheetFieldsSet *)m)->sheet_num = 4;
	static const char *const snames[] = { "validation_passed", "outcome_data", "exit_signal" };
	set_cleared(m, snames, 3);
	assert_round_trip(ev, "sheet_fields_set with cleared");
	sl_event_free(ev);

	ev = new_event(STATELOG__EVENT__BODY_JOB_CONFIG_CHANGED, &m);
	static const char *const cnames[] = { "config_path" };
	set_cleared(m, cnames, 1);
	assert_round_trip(ev, "job_config_changed with cleared");
	sl_event_free(ev);
}

Test(schema_event_json, unknown_cleared_number_stays_a_number)
{
	ProtobufCMessage *m;
	sl_event *ev = new_event(STATELOG__EVENT__BODY_JOB_FIELDS_SET, &m);
	static const char *const names[] = { "pid", "no_such_field" };
	set_cleared(m, names, 2);
	char *line = sl_event_to_json_line(ev);
	cr_assert_not_null(strstr(line, "\"cleared\": [\"pid\", 99]"), "cleared field 99 rendered as %s", line);
	free(line);
	sl_event_free(ev);
}

Test(schema_event_json, output_form)
{
	ProtobufCMessage *m;
	sl_event *ev = new_event(STATELOG__EVENT__BODY_SHEET_COMPLETED, &m);
	Statelog__SheetCompleted *sc = (Statelog__SheetCompleted *)m;
	sc->has_sheet_num = 1, sc->sheet_num = 3;
	sc->has_validation_passed = 1, sc->validation_passed = 1;
	sc->validation_details = strdup("[]");
	sc->has_duration_seconds = 1, sc->duration_seconds = 0.1;
	char *line = sl_event_to_json_line(ev);
	const char *want = "{\"seq\": 12, \"time\": \"2026-11-26T02:49:38.504474+00:00\", \"job_id\": \"j1\", "
			   "\"type\": \"sheet_completed\", \"body\": {\"sheet_num\": 3, \"validation_passed\": true, "
			   "\"validation_details\": \"[]\", \"duration_seconds\": 0.1}}";
	cr_assert_str_eq(line, want, "sheet_completed rendered as %s", line);
	free(line);

	/* No seq, no time, a whole second, and a body-less type. */
	sl_event_free(ev);
	ev = new_event(STATELOG__EVENT__BODY_JOB_COMPLETED, &m);
	ev->has_seq = 0;
	ev->time_us = 1795661378000000LL;
	line = sl_event_to_json_line(ev);
	want = "{\"time\": \"2026-11-26T02:49:38+00:00\", \"job_id\": \"j1\", \"type\": \"job_completed\", \"body\": {}}";
	cr_assert_str_eq(line, want, "job_completed rendered as %s", line);
	free(line);
	ev->has_time_us = 0;
	line = sl_event_to_json_line(ev);
	want = "{\"job_id\": \"j1\", \"type\": \"job_completed\", \"body\": {}}";
	cr_assert_str_eq(line, want, "job_completed without a time rendered as %s", line);
	free(line);
	sl_event_free(ev);
}

/* A time the calendar cannot show is written as time_us, and read back. */
Test(schema_event_json, time_out_of_calendar_range)
{
	ProtobufCMessage *m;
	sl_event *ev = new_event(STATELOG__EVENT__BODY_JOB_RESUMED, &m);
	ev->time_us = INT64_MIN;
	char *line = sl_event_to_json_line(ev);
	cr_assert_not_null(strstr(line, "\"time_us\": -9223372036854775808"), "INT64_MIN time rendered as %s", line);
	cr_assert_null(strstr(line, "\"time\":"), "INT64_MIN time rendered as %s", line);
	free(line);
	assert_round_trip(ev, "time_us INT64_MIN");
	sl_event_free(ev);
}

Test(schema_event_json, non_finite_doubles)
{
	double vals[] = { INFINITY, -INFINITY, NAN };
	const char *names[] = { "\"Infinity\"", "\"-Infinity\"", "\"NaN\"" };
	for (int i = 0; i < 3; i++) {
		ProtobufCMessage *m;
		sl_event *ev = new_event(STATELOG__EVENT__BODY_RATE_LIMIT_WAIT, &m);
		Statelog__RateLimitWait *rw = (Statelog__RateLimitWait *)m;
		rw->has_wait_seconds = 1;
		rw->wait_seconds = vals[i];
		char *line = sl_event_to_json_line(ev);
		cr_assert_not_null(strstr(line, names[i]), "wait_seconds %g rendered as %s", vals[i], line);
		sl_event *back = parse_ok(line);
		double got = back->rate_limit_wait->wait_seconds;
		cr_assert(back->rate_limit_wait->has_wait_seconds, "wait_seconds %s not set back", names[i]);
		cr_assert(isnan(vals[i]) ? isnan(got) : got == vals[i], "wait_seconds %s read back as %g",
			  names[i], got);
		free(line);
		sl_event_free(back);
		sl_event_free(ev);
	}
}

Test(schema_event_json, input_form)
{
	const char *in = "{\"seq\": 99, \"time\": \"2026-11-26T08:19:38.504474+05:30\", \"job_id\": \"j1\", "
			 "\"type\": \"sheet_completed\", \"body\": {\"sheet_num\": 3, \"duration_seconds\": 12}}";
	sl_event *ev = parse_ok(in);
	cr_assert_eq(ev->has_seq, 0, "seq taken from %s", in);
	cr_assert(ev->has_time_us && ev->time_us == T0, "time of %s read as %" PRId64, in, ev->time_us);
	cr_assert_str_eq(ev->job_id, "j1", "job_id of %s", in);
	cr_assert_eq(ev->body_case, STATELOG__EVENT__BODY_SHEET_COMPLETED, "type of %s", in);
	cr_assert(ev->sheet_completed->has_sheet_num && ev->sheet_completed->sheet_num == 3, "sheet_num of %s", in);
	cr_assert(ev->sheet_completed->has_duration_seconds && ev->sheet_completed->duration_seconds == 12.0,
		  "duration_seconds of %s (an integer for a double)", in);
	cr_assert_eq(ev->sheet_completed->has_validation_passed, 0, "validation_passed set by %s", in);
	cr_assert_null(ev->sheet_completed->validation_details, "validation_details set by %s", in);
	sl_event_free(ev);

	in = "{\"job_id\": \"j1\", \"type\": \"pid_set\", \"time_us\": -5, \"body\": {\"pid\": 4242}}";
	ev = parse_ok(in);
	cr_assert(ev->has_time_us && ev->time_us == -5, "time_us of %s", in);
	cr_assert(ev->pid_set->has_pid && ev->pid_set->pid == 4242, "pid of %s", in);
	sl_event_free(ev);

	/* No time at all; a body-less type with no body, or an empty one. */
	in = "{\"job_id\": \"j1\", \"type\": \"job_completed\"}";
	ev = parse_ok(in);
	cr_assert_eq(ev->has_time_us, 0, "time set by %s", in);
	cr_assert_eq(ev->body_case, STATELOG__EVENT__BODY_JOB_COMPLETED, "type of %s", in);
	cr_assert_not_null(ev->job_completed, "no body made for %s", in);
	sl_event_free(ev);
	in = "{\"job_id\": \"j1\", \"type\": \"job_deleted\", \"body\": {}}\n";
	ev = parse_ok(in);
	cr_assert_eq(ev->body_case, STATELOG__EVENT__BODY_JOB_DELETED, "type of %s", in);
	sl_event_free(ev);

	/* len bounds the text: what follows is not read. */
	in = "{\"job_id\": \"j1\", \"type\": \"job_resumed\"}GARBAGE";
	sl_event *ev2 = NULL;
	cr_assert_eq(sl_event_from_json(&ev2, in, strlen(in) - 7, NULL, 0), SL_OK, "len not honoured for %s", in);
	sl_event_free(ev2);
}

/* JSON-text fields: a string is stored as is, any other value as the text
 * Python's json.dumps() writes for it. */
struct jtext_row {
	const char *value;	/* JSON of the validation_details value */
	const char *stored;	/* what the event must hold */
};

static const struct jtext_row json_text_fields_rows[] = {
	{ "\"[1,2]\"", "[1,2]" },
	{ "\"not json at all\"", "not json at all" },
	{ "[]", "[]" },
	{ "{}", "{}" },
	{ "{\"b\":1,\"a\":[1,2]}", "{\"b\": 1, \"a\": [1, 2]}" },
	{ "[{\"name\": \"caf\\u00e9\", \"x\": 0.1, \"y\": 1e16, \"n\": null, \"s\": \"a\\\"b\\\\c\", "
	  "\"c\": \"\\u0001\\u007f\\t\\n/\", \"e\": \"\xf0\x9f\x98\x80\", \"t\": true, \"f\": false, "
	  "\"i\": -42, \"l\": [], \"o\": {}}]",
	  "[{\"name\": \"caf\\u00e9\", \"x\": 0.1, \"y\": 1e+16, \"n\": null, \"s\": \"a\\\"b\\\\c\", "
	  "\"c\": \"\\u0001\\u007f\\t\\n/\", \"e\": \"\\ud83d\\ude00\", \"t\": true, \"f\": false, "
	  "\"i\": -42, \"l\": [], \"o\": {}}]" },
	{ "12", "12" },
	{ "true", "true" },
	{ "1.5e300", "1.5e+300" },
};

ParameterizedTestParameters(schema_event_json, json_text_fields)
{
	return index_params(sizeof json_text_fields_rows / sizeof json_text_fields_rows[0]);
}

ParameterizedTest(size_t *idx, schema_event_json, json_text_fields)
{
	const struct jtext_row *row = &json_text_fields_rows[*idx];
	char in[1024];
	snprintf(in, sizeof in, "{\"job_id\": \"j1\", \"type\": \"sheet_completed\", "
		 "\"body\": {\"validation_details\": %s}}", row->value);
	sl_event *ev = parse_ok(in);
	cr_assert_str_eq(ev->sheet_completed->validation_details, row->stored,
			 "validation_details %s stored as %s, expected %s", row->value,
			 ev->sheet_completed->validation_details, row->stored);
	assert_round_trip(ev, in);
	sl_event_free(ev);
}

/* Python repr() of floats, which the views' JSON and the text form use. */
struct real_row {
	double v;
	const char *text;
};

static const struct real_row format_real_rows[] = {
	{ 0.0, "0.0" }, { -0.0, "-0.0" }, { 0.1, "0.1" }, { 12.5, "12.5" }, { 12.0, "12.0" },
	{ 1e16, "1e+16" }, { 1e15, "1000000000000000.0" },
	{ 123456789012345678.0, "1.2345678901234568e+17" }, { 1e-4, "0.0001" },
	{ 1e-5, "1e-05" }, { 0.00012345, "0.00012345" }, { 5e-324, "5e-324" },
	{ 1.7976931348623157e308, "1.7976931348623157e+308" }, { -2.5e-7, "-2.5e-07" },
	{ 1.0 / 3, "0.3333333333333333" }, { 2.0 / 3 * 1e20, "6.666666666666666e+19" },
	{ 100.0, "100.0" }, { 1e22, "1e+22" }, { 9007199254740993.0, "9007199254740992.0" },
	{ INFINITY, "Infinity" }, { -INFINITY, "-Infinity" }, { NAN, "NaN" },
};

ParameterizedTestParameters(schema_event_json, format_real)
{
	return index_params(sizeof format_real_rows / sizeof format_real_rows[0]);
}

ParameterizedTest(size_t *idx, schema_event_json, format_real)
{
	const struct real_row *row = &format_real_rows[*idx];
	char buf[32];
	int rc = sl_json_format_real(row->v, buf, sizeof buf);
	cr_assert_eq(rc, SL_OK, "sl_json_format_real(%.17g) returned %d", row->v, rc);
	cr_assert_str_eq(buf, row->text, "sl_json_format_real(%.17g) gave %s, expected %s",
			 row->v, buf, row->text);
	rc = sl_json_format_real(row->v, buf, strlen(row->text));
	cr_assert_eq(rc, SL_EINVAL, "sl_json_format_real(%.17g) into %zu bytes returned %d",
		     row->v, strlen(row->text), rc);
}

Test(schema_event_json, non_ascii_and_quotes_in_strings)
{
	const char *in = "{\"job_id\": \"j\xc3\xb6" "b \\\"q\\\" \\\\ \xf0\x9f\x98\x80\", \"type\": \"job_failed\", "
			 "\"body\": {\"message\": \"line1\\nline2\\t\\u00e9\\ud83d\\ude00\"}}";
	sl_event *ev = parse_ok(in);
	cr_assert_str_eq(ev->job_id, "j\xc3\xb6" "b \"q\" \\ \xf0\x9f\x98\x80", "job_id of %s read as %s", in, ev->job_id);
	cr_assert_str_eq(ev->job_failed->message, "line1\nline2\t\xc3\xa9\xf0\x9f\x98\x80",
			 "message of %s read as %s", in, ev->job_failed->message);
	char *line = sl_event_to_json_line(ev);
	const char *want = "{\"job_id\": \"j\\u00f6b \\\"q\\\" \\\\ \\ud83d\\ude00\", \"type\": \"job_failed\", "
			   "\"body\": {\"message\": \"line1\\nline2\\t\\u00e9\\ud83d\\ude00\"}}";
	cr_assert_str_eq(line, want, "%s written back as %s", in, line);
	free(line);
	assert_round_trip(ev, in);
	sl_event_free(ev);
}

/* Bytes that are not UTF-8 cannot be JSON: an error, not a mangled string. */
Test(schema_event_json, invalid_utf8_is_refused_on_output)
{
	ProtobufCMessage *m;
	sl_event *ev = new_event(STATELOG__EVENT__BODY_JOB_PAUSED, &m);
	((Statelog__JobPaused *)m)->reason = strdup("bad \xff byte");
	json_t *obj = NULL;
	cr_assert_eq(sl_event_to_json(ev, &obj), SL_EINVAL, "reason with 0xff gave no SL_EINVAL");
	cr_assert_null(obj, "*out set on failure");
	cr_assert_null(sl_event_to_json_line(ev), "a line for a reason with 0xff");
	free(ev->job_id);
	ev->job_id = strdup("\xc0\x80");	/* overlong NUL */
	free(((Statelog__JobPaused *)m)->reason);
	((Statelog__JobPaused *)m)->reason = NULL;
	cr_assert_eq(sl_event_to_json(ev, &obj), SL_EINVAL, "overlong job_id gave no SL_EINVAL");
	sl_event_free(ev);
}

/* An event written by a newer schema: body field 40, unknown here. */
Test(schema_event_json, unknown_event_type)
{
	static const uint8_t bytes[] = { 0x1a, 0x02, 'j', '1', 0xc2, 0x02, 0x02, 0x08, 0x07 };
	sl_event *ev = NULL;
	int rc = sl_event_decode(&ev, bytes, sizeof bytes, 5, 1000000);
	cr_assert_eq(rc, SL_OK, "sl_event_decode of a field-40 body returned %d", rc);
	cr_assert_eq(sl_event_unknown_type(ev), 40, "unknown type %u, expected 40", sl_event_unknown_type(ev));
	char *line = sl_event_to_json_line(ev);
	const char *want = "{\"seq\": 5, \"time\": \"1970-01-01T00:00:01+00:00\", \"job_id\": \"j1\", "
			   "\"type\": \"unknown\", \"unknown_field\": 40}";
	cr_assert_str_eq(line, want, "unknown type rendered as %s", line);

	sl_event *back = NULL;
	char err[256];
	rc = sl_event_from_json(&back, line, strlen(line), err, sizeof err);
	cr_assert_eq(rc, SL_EINVAL, "%s read back with %d", line, rc);
	cr_assert_null(back, "*out set on failure for %s", line);
	free(line);
	sl_event_free(ev);
}

/* Every way JSON input is refused, and the message that says why. */
struct bad_row {
	const char *json;
	int rc;
	const char *msg;	/* must occur in the error message */
};

#define EV(type, body) "{\"job_id\": \"j1\", \"type\": \"" type "\", \"body\": " body "}"

static const struct bad_row from_json_errors_rows[] = {
	/* malformed JSON, with jansson's line and column */
	{ "", SL_EINVAL, "invalid JSON at line 1" },
	{ "{", SL_EINVAL, "invalid JSON at line 1, column 1" },
	{ "{\"job_id\": \"j1\",\n \"type\": }", SL_EINVAL, "invalid JSON at line 2, column" },
	{ "{\"job_id\": \"j1\", \"type\": \"job_resumed\"} x", SL_EINVAL, "invalid JSON at line 1" },
	{ "{\"job_id\": \"j1\", \"job_id\": \"j2\", \"type\": \"job_resumed\"}", SL_EINVAL, "duplicate" },
	{ "{\"job_id\": \"j\\u0000x\", \"type\": \"job_resumed\"}", SL_EINVAL,
	  "\\u0000 (NUL) is not allowed in a string" },
	{ EV("sheet_started", "{\"sheet_num\": 9223372036854775808}"), SL_EINVAL, "number out of range" },
	{ EV("sheet_started", "{\"sheet_num\": -9223372036854775809}"), SL_EINVAL, "number out of range" },
	{ "\"just a string\"", SL_EINVAL, "expected a JSON object, got a string" },
	{ "[1]", SL_EINVAL, "expected a JSON object, got a list" },
	/* the envelope */
	{ "{\"type\": \"job_resumed\"}", SL_EINVAL, "job_id: missing" },
	{ "{\"job_id\": \"\", \"type\": \"job_resumed\"}", SL_EINVAL, "job_id: must not be empty" },
	{ "{\"job_id\": 5, \"type\": \"job_resumed\"}", SL_EINVAL, "job_id: expected a string, got an integer" },
	{ "{\"job_id\": null, \"type\": \"job_resumed\"}", SL_EINVAL, "job_id: null is not a value" },
	{ "{\"job_id\": \"j1\"}", SL_EINVAL, "type: missing" },
	{ "{\"job_id\": \"j1\", \"type\": \"sheet_exploded\"}", SL_EINVAL,
	  "type: unknown event type \"sheet_exploded\"" },
	{ "{\"job_id\": \"j1\", \"type\": \"unknown\"}", SL_EINVAL, "type: unknown event type \"unknown\"" },
	{ "{\"job_id\": \"j1\", \"type\": \"none\"}", SL_EINVAL, "type: unknown event type \"none\"" },
	{ "{\"job_id\": \"j1\", \"type\": \"job_id\"}", SL_EINVAL, "type: unknown event type \"job_id\"" },
	{ "{\"job_id\": \"j1\", \"type\": 16}", SL_EINVAL, "type: expected a string, got an integer" },
	{ "{\"job_id\": \"j1\", \"type\": \"job_resumed\", \"extra\": 1}", SL_EINVAL,
	  "extra: unknown key (expected seq, time, time_us, job_id, type, body)" },
	{ "{\"job_id\": \"j1\", \"type\": \"job_resumed\", \"seq\": -1}", SL_EINVAL,
	  "seq: expected a non-negative integer, got an integer" },
	{ "{\"job_id\": \"j1\", \"type\": \"job_resumed\", \"seq\": \"7\"}", SL_EINVAL,
	  "seq: expected a non-negative integer, got a string" },
	{ "{\"job_id\": \"j1\", \"type\": \"job_resumed\", \"time\": \"yesterday\"}", SL_EINVAL,
	  "time: \"yesterday\" is not an ISO-8601 time" },
	{ "{\"job_id\": \"j1\", \"type\": \"job_resumed\", \"time\": \"2026-02-29T00:00:00Z\"}", SL_EINVAL,
	  "time: \"2026-02-29T00:00:00Z\" is not an ISO-8601 time" },
	{ "{\"job_id\": \"j1\", \"type\": \"job_resumed\", \"time\": 17}", SL_EINVAL,
	  "time: expected an ISO-8601 time string, got an integer" },
	{ "{\"job_id\": \"j1\", \"type\": \"job_resumed\", \"time_us\": 1.5}", SL_EINVAL,
	  "time_us: expected an integer, got a real number" },
	{ "{\"job_id\": \"j1\", \"type\": \"job_resumed\", \"time\": \"2026-11-26T02:49:38Z\", \"time_us\": 1}",
	  SL_EINVAL, "time, time_us: give one or the other, not both" },
	{ "{\"job_id\": \"j1\", \"type\": \"sheet_started\"}", SL_EINVAL, "body: missing (sheet_started has fields)" },
	{ EV("sheet_started", "[]"), SL_EINVAL, "body: expected an object, got a list" },
	/* the body */
	{ EV("sheet_started", "{\"sheet\": 1}"), SL_EINVAL, "body.sheet: not a field of sheet_started" },
	{ EV("job_resumed", "{\"reason\": \"x\"}"), SL_EINVAL, "body.reason: not a field of job_resumed" },
	{ EV("sheet_started", "{\"sheet_num\": \"3\"}"), SL_EINVAL,
	  "body.sheet_num: expected an integer, got a string" },
	{ EV("sheet_started", "{\"sheet_num\": 3.0}"), SL_EINVAL,
	  "body.sheet_num: expected an integer, got a real number" },
	{ EV("sheet_started", "{\"sheet_num\": true}"), SL_EINVAL,
	  "body.sheet_num: expected an integer, got a boolean" },
	{ EV("sheet_completed", "{\"validation_passed\": 1}"), SL_EINVAL,
	  "body.validation_passed: expected true or false, got an integer" },
	{ EV("sheet_completed", "{\"duration_seconds\": \"fast\"}"), SL_EINVAL,
	  "body.duration_seconds: expected a number, got a string" },
	{ EV("sheet_completed", "{\"duration_seconds\": [1]}"), SL_EINVAL,
	  "body.duration_seconds: expected a number, got a list" },
	{ EV("sheet_failed", "{\"message\": 5}"), SL_EINVAL, "body.message: expected a string, got an integer" },
	{ EV("job_paused", "{\"reason\": {\"a\": 1}}"), SL_EINVAL, "body.reason: expected a string, got an object" },
	{ EV("sheet_started", "{\"sheet_num\": null}"), SL_EINVAL,
	  "body.sheet_num: null is not a value, and sheet_started cannot set a field to NULL" },
	{ EV("sheet_completed", "{\"validation_details\": null}"), SL_EINVAL,
	  "body.validation_details: null is not a value" },
	{ EV("job_fields_set", "{\"pid\": null}"), SL_EINVAL,
	  "body.pid: null is not a value; to set the field to NULL, list it in \"cleared\"" },
	{ EV("job_fields_set", "{\"cleared\": [\"pid\", \"nope\"]}"), SL_EINVAL,
	  "body.cleared[1]: \"nope\" is not a field of job_fields_set" },
	{ EV("job_fields_set", "{\"cleared\": [\"cleared\"]}"), SL_EINVAL,
	  "body.cleared[0]: \"cleared\" is not a field of job_fields_set" },
	{ EV("job_fields_set", "{\"cleared\": [\"pid\", \"pid\"]}"), SL_EINVAL,
	  "body.cleared: \"pid\" is listed twice" },
	{ EV("job_fields_set", "{\"cleared\": \"pid\"}"), SL_EINVAL,
	  "body.cleared: expected a list of field names, got a string" },
	{ EV("job_fields_set", "{\"cleared\": [9]}"), SL_EINVAL,
	  "body.cleared[0]: expected a field name, got an integer" },
	{ EV("sheet_completed", "{\"cleared\": [\"validation_details\"]}"), SL_EINVAL,
	  "body.cleared: not a field of sheet_completed" },
	/* and rows that must pass, so the table is not all failures */
	{ EV("job_fields_set", "{\"pid\": 5, \"cleared\": []}"), SL_OK, "" },
	{ EV("job_fields_set", "{\"status\": \"paused\", \"cleared\": [\"pid\", \"error_message\"]}"), SL_OK, "" },
	{ "{\"job_id\": \"j1\", \"type\": \"job_resumed\", \"seq\": 7, \"time\": \"2026-11-26 02:49:38Z\"}", SL_OK, "" },
};

ParameterizedTestParameters(schema_event_json, from_json_errors)
{
	return index_params(sizeof from_json_errors_rows / sizeof from_json_errors_rows[0]);
}

ParameterizedTest(size_t *idx, schema_event_json, from_json_errors)
{
	const struct bad_row *row = &from_json_errors_rows[*idx];
	sl_event *ev = (sl_event *)0x1;	/* must not be touched on failure */
	char err[512] = "untouched";
	int rc = sl_event_from_json(&ev, row->json, strlen(row->json), err, sizeof err);
	cr_assert_eq(rc, row->rc, "sl_event_from_json(%s) returned %d (%s), expected %d",
		     row->json, rc, err, row->rc);
	if (rc == SL_OK) {
		sl_event_free(ev);
		return;
	}
	cr_assert_eq(ev, (sl_event *)0x1, "sl_event_from_json(%s) set *out on failure", row->json);
	cr_assert_not_null(strstr(err, row->msg), "sl_event_from_json(%s) said \"%s\", expected it to contain \"%s\"",
			   row->json, err, row->msg);
	cr_assert_null(strchr(err, '\n'), "error for %s is not one line: %s", row->json, err);
}

/* The error buffer is optional and never overrun. */
Test(schema_event_json, error_buffer)
{
	const char *in = "{\"type\": \"job_resumed\"}";
	sl_event *ev = NULL;
	cr_assert_eq(sl_event_from_json(&ev, in, strlen(in), NULL, 0), SL_EINVAL, "%s with no error buffer", in);
	char err[8];
	memset(err, 'x', sizeof err);
	cr_assert_eq(sl_event_from_json(&ev, in, strlen(in), err, 5), SL_EINVAL, "%s with a 5-byte buffer", in);
	cr_assert_str_eq(err, "job_", "%s with a 5-byte buffer", in);
	cr_assert_eq(err[5], 'x', "%s: error buffer overrun", in);
}

/* Control characters in an unknown key do not break the one-line message. */
Test(schema_event_json, error_message_is_one_line)
{
	const char *in = EV("sheet_started", "{\"bad\\nkey\": 1}");
	sl_event *ev = NULL;
	char err[256];
	cr_assert_eq(sl_event_from_json(&ev, in, strlen(in), err, sizeof err), SL_EINVAL, "%s accepted", in);
	cr_assert_str_eq(err, "body.bad?key: not a field of sheet_started", "%s gave %s", in, err);
}

/* A JSON value built in code may hold a NUL that parsed text cannot. */
Test(schema_event_json, from_value_refuses_nul)
{
	json_t *obj = json_pack("{s:s%,s:s}", "job_id", "j\0x", (size_t)3, "type", "job_resumed");
	cr_assert_not_null(obj, "json_pack failed");
	sl_event *ev = NULL;
	char err[256];
	int rc = sl_event_from_json_value(obj, &ev, err, sizeof err);
	cr_assert_eq(rc, SL_EINVAL, "job_id with a NUL accepted (%d)", rc);
	cr_assert_str_eq(err, "job_id: contains a NUL character", "job_id with a NUL: %s", err);
	json_decref(obj);
}

/* ---- JSON as Python reads it (json_py.c) ---------------------------------- */

static char *py_round_trip(const char *text, size_t flags, int *rc, json_error_t *e)
{
	json_t *v = NULL;
	*rc = sl_json_py_loadb(text, strlen(text), flags, &v, e);
	if (*rc != SL_OK)
		return NULL;
	char *out = sl_json_dumps(v);
	json_decref(v);
	cr_assert_not_null(out);
	return out;
}

/* Documents as json.dumps() writes them come back byte for byte, what
 * jansson holds and what it does not side by side. */
Test(schema_event_json, python_json_round_trips)
{
	static const char *const docs[] = {
		"NaN", "-Infinity", "18446744073709551616", "\"\\udc80\"",
		"{\"a\": NaN, \"b\": [Infinity, -Infinity, 1.5, 2]}",
		"[1180591620717411303424, -1180591620717411303424, 1e400, 9223372036854775807]",
		"{\"s\": \"\\ud800\\u00e9x\", \"pair\": \"\\ud83d\\ude00\", \"n\": \"a\\u0000b\"}",
		"{\"k\\u0000ey\": 1, \"\\udc80\": {\"deep\": [NaN, {\"x\\udfff\": null}]}, \"z\": 0}",
		"{\"a\": {\"b\": {\"c\": [[[NaN]]]}}, \"empty\": {}, \"list\": []}",
	};
	for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
		int rc;
		json_error_t e;
		char *out = py_round_trip(docs[i], JSON_DECODE_ANY | JSON_ALLOW_NUL, &rc, &e);
		cr_assert_eq(rc, SL_OK, "%s: %s", docs[i], e.text);
		cr_assert_str_eq(out, docs[i]);
		free(out);
	}
}

Test(schema_event_json, python_json_values_keep_their_kinds)
{
	json_t *v;
	json_error_t e;
	const char *text = "{\"n\": NaN, \"big\": 99999999999999999999, \"s\": \"\\udc80\", "
			   "\"plain\": 7}";
	cr_assert_eq(sl_json_py_loadb(text, strlen(text), 0, &v, &e), SL_OK, "%s", e.text);
	size_t len;
	const char *raw = sl_json_raw_text(json_object_get(v, "n"), &len);
	cr_assert_not_null(raw);
	cr_assert_eq(len, 3);
	cr_assert_eq(memcmp(raw, "NaN", 3), 0);
	cr_assert_str_eq(sl_json_raw_text(json_object_get(v, "big"), NULL),
			 "99999999999999999999");
	cr_assert_str_eq(sl_json_raw_text(json_object_get(v, "s"), NULL), "\"\\udc80\"");
	/* What jansson holds stays jansson's. */
	cr_assert(json_is_integer(json_object_get(v, "plain")));
	cr_assert_null(sl_json_raw_text(json_object_get(v, "plain"), NULL));
	cr_assert_null(sl_json_raw_text(v, NULL));
	json_decref(v);
	/* An object built in code with a key of that name is not raw. */
	json_t *o = json_pack("{s:s}", "raw", "NaN");
	cr_assert_null(sl_json_raw_text(o, NULL));
	json_decref(o);
}

Test(schema_event_json, python_json_refusals)
{
	static const struct {
		const char *text;
		size_t flags;
		int line, column;
	} bad[] = {
		/* Not Python's either: said where Python too stops. */
		{ "{\"a\": NaN, \"b\": nan}", 0, 1, 19 },
		{ "[NaN,\n Infinity,\n  infinity]", 0, 3, 10 },
		{ "{\"a\": 1e400, \"b\": }", 0, 1, 19 },
		/* A NUL the caller does not take. */
		{ "[NaN, \"a\\u0000\"]", 0, 1, 15 },
		/* A key needing a marker in a document that holds \u0001. */
		{ "{\"\\udc80\": 1, \"\\u0001\": 2}", 0, 1, 9 },
		/* Not closed. */
		{ "[NaN, \"abc", 0, 1, 10 },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int rc;
		json_error_t e;
		char *out = py_round_trip(bad[i].text, bad[i].flags, &rc, &e);
		cr_assert_null(out, "%s: %s", bad[i].text, out);
		cr_assert_eq(rc, SL_EINVAL, "%s", bad[i].text);
		cr_assert_eq(e.line, bad[i].line, "%s: line %d (%s)", bad[i].text, e.line, e.text);
		cr_assert_eq(e.column, bad[i].column, "%s: column %d (%s)", bad[i].text, e.column,
			     e.text);
	}
}
