/* test_rules.c: tests of the rules' entry points (projector/model/apply.c,
 * commit.c): for every event type and every reason to refuse one,
 * sl_rules_apply(), its dry run sl_rules_check(), the dry run of a commit
 * sl_rules_check_commit() and sl_rules_apply() without a refusal give the same answer
 * (code, field, reason), the dry runs never change the state, and a refused
 * event leaves it as it was; the load-time invariants every event keeps;
 * the commit dry run on random commits; the clock check.
 *
 * Events are written as JSON lines (sl_event_from_json(), what `statelog
 * append` reads), so a table row holds its event inline; what JSON cannot
 * say (no body, bytes that are not UTF-8) is built by hand.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event_json_internal.h"
#include "rule_rows.h"
#include "state.h"
#include "timefmt.h"

/* ---- events and states -------------------------------------------------- */

static sl_event *parse(const char *json)
{
	sl_event *ev = NULL;
	char err[256] = "";
	int rc = sl_event_from_json(&ev, json, strlen(json), err, sizeof err);
	cr_assert_eq(rc, SL_OK, "the test's event %s does not parse: %s", json, err);
	return ev;
}

static void apply_json(struct sl_job_state *st, const char *json)
{
	sl_event *ev = parse(json);
	struct sl_refusal why;
	int rc = sl_rules_apply(st, ev, &why);
	cr_assert_eq(rc, SL_OK, "setting up with %s: rc %d, %s: %s", json, rc, why.field,
		     why.reason);
	sl_event_free(ev);
}

static void make_state(struct sl_job_state *st, char kind)
{
	sl_state_init(st);
	for (const char *const *e = rule_state_events[kind - 'A']; *e; e++)
		apply_json(st, *e);
}

static void add_cleared(sl_event *ev, uint32_t f)
{
	ProtobufCMessage *body = (ProtobufCMessage *)sl_event_body(ev);
	const ProtobufCFieldDescriptor *fd = NULL;
	for (unsigned i = 0; i < body->descriptor->n_fields; i++)
		if (sl_event_field_is_cleared_list(&body->descriptor->fields[i]))
			fd = &body->descriptor->fields[i];
	cr_assert_not_null(fd, "%s has a cleared list", sl_event_type_name(ev));
	size_t *n = (size_t *)((char *)body + fd->quantifier_offset);
	uint32_t **list = (uint32_t **)((char *)body + fd->offset);
	*list = realloc(*list, (*n + 1) * sizeof **list);
	(*list)[(*n)++] = f;
}

/* ---- the one check: every entry point, the same answer ------------------ */

static void same_refusal(const struct sl_refusal *a, const struct sl_refusal *b,
			 const char *na, const char *nb, const char *what)
{
	cr_assert_eq(a->code, b->code, "%s: %s code %d, %s code %d", what, na, a->code, nb,
		     b->code);
	cr_assert_str_eq(a->field, b->field, "%s: %s field vs %s field", what, na, nb);
	cr_assert_str_eq(a->reason, b->reason, "%s: %s reason vs %s reason", what, na, nb);
}

/* Tries ev on *st through every entry point: they must agree with each
 * other and with (code, field, reason); the dry runs must leave *st as it
 * was, and so must a refusal.  On success *st is the state after ev. */
static void expect(struct sl_job_state *st, const sl_event *ev, int code, const char *field,
		   const char *reason, const char *what)
{
	struct sl_job_state before, old;
	cr_assert_eq(sl_state_copy(&before, st), SL_OK, "%s: copy", what);
	cr_assert_eq(sl_state_copy(&old, st), SL_OK, "%s: copy", what);

	struct sl_refusal chk, com, com2, app;
	memset(&chk, 0x55, sizeof chk);         /* every field must be written */
	int rc_check = sl_rules_check(st, ev, &chk);
	const char *d = sl_state_first_difference(&before, st, 0, NULL);
	cr_assert_null(d, "%s: the dry run changed %s", what, d);
	cr_assert_eq(rc_check, chk.code, "%s: sl_rules_check rc %d, why.code %d", what, rc_check,
		     chk.code);

	size_t failed = 77;
	sl_event *one = (sl_event *)ev;
	int rc_commit = sl_rules_check_commit(st, &one, 1, &failed, &com);
	cr_assert_null(sl_state_first_difference(&before, st, 0, NULL),
		       "%s: the commit dry run changed the state", what);
	cr_assert_eq(rc_commit, rc_check, "%s: commit rc %d, check rc %d", what, rc_commit,
		     rc_check);
	same_refusal(&chk, &com, "check", "commit", what);
	cr_assert_eq(failed, rc_commit ? 0u : 77u, "%s: failed index %zu", what, failed);

	if (st->presence == SL_JOB_LIVE) {
		/* The same event second in a commit, after one that changes
		 * little: the same answer, at index 1. */
		sl_event *touch = NULL;
		cr_assert_eq(sl_state_touch_event(&touch, st->id, TEV_US - 1), SL_OK, "touch");
		sl_event *two[2] = { touch, one };
		failed = 77;
		int rc2 = sl_rules_check_commit(st, two, 2, &failed, &com2);
		cr_assert_eq(rc2, rc_check, "%s: second in a commit: rc %d, want %d (%s: %s)", what,
			     rc2, rc_check, com2.field, com2.reason);
		same_refusal(&chk, &com2, "check", "second in a commit", what);
		cr_assert_eq(failed, rc2 ? 1u : 77u, "%s: second in a commit: index %zu", what,
			     failed);
		cr_assert_null(sl_state_first_difference(&before, st, 0, NULL),
			       "%s: the commit dry run of two changed the state", what);
		sl_event_free(touch);
	}

	memset(&app, 0x55, sizeof app);
	int rc_apply = sl_rules_apply(st, ev, &app);
	same_refusal(&chk, &app, "check", "apply", what);
	cr_assert_eq(rc_apply, rc_check, "%s: apply rc %d, check rc %d", what, rc_apply, rc_check);

	/* Without a refusal to fill, the same answer. */
	int rc_plain = sl_rules_apply(&old, ev, NULL);
	cr_assert_eq(rc_plain, code, "%s: without a refusal rc %d, want %d", what, rc_plain, code);

	cr_assert_eq(rc_apply, code, "%s: rc %d (%s), want %d; refused %s: %s", what, rc_apply,
		     sl_strerror(rc_apply), code, app.field, app.reason);
	cr_assert_str_eq(app.field, field, "%s: the field named: got '%s', want '%s'", what,
			 app.field, field);
	cr_assert_str_eq(app.reason, reason, "%s: the reason: got '%s', want '%s'", what,
			 app.reason, reason);
	if (code != SL_OK) {
		d = sl_state_first_difference(&before, st, 0, NULL);
		cr_assert_null(d, "%s: refused, yet %s changed", what, d);
	} else {
		cr_assert(sl_state_equal(&old, st, 0), "%s: sl_rules_apply with and without a "
			  "refusal give the same state", what);
	}
	sl_state_free(&before);
	sl_state_free(&old);
}

/* ---- the table: every event type, accepted and refused (rule_rows.h) ---- */

ParameterizedTestParameters(rules, every_event_every_reason)
{
	static struct rule_row rows[N_RULE_ROWS];
	memcpy(rows, rule_rows, sizeof rows);
	return cr_make_param_array(struct rule_row, rows, N_RULE_ROWS);
}

ParameterizedTest(struct rule_row *row, rules, every_event_every_reason)
{
	struct sl_job_state st;
	make_state(&st, row->state);
	sl_event *ev = parse(row->event);
	char what[520];
	snprintf(what, sizeof what, "state %c, %s", row->state, row->event);
	expect(&st, ev, row->code, row->field, row->reason, what);
	sl_event_free(ev);
	sl_state_free(&st);
}

TestSuite(rules, .timeout = 60);

/* ---- what JSON cannot say ----------------------------------------------- */

Test(rules, events_built_by_hand)
{
	struct sl_job_state st;
	make_state(&st, 'L');

	/* job_id "j" (field 3) and a varint body field 40 (a newer schema). */
	static const uint8_t unknown[] = { 0x1a, 0x01, 'j', 0xc0, 0x02, 0x01 };
	sl_event *ev = NULL;
	cr_assert_eq(sl_event_decode(&ev, unknown, sizeof unknown, 9, TEV_US), SL_OK, "decode");
	expect(&st, ev, SL_EUNKNOWN, "body",
	       "an event type this build does not know (body field 40)", "unknown type");
	sl_event_free(ev);
	static const uint8_t none[] = { 0x1a, 0x01, 'j' };
	cr_assert_eq(sl_event_decode(&ev, none, sizeof none, 10, TEV_US), SL_OK, "decode");
	expect(&st, ev, SL_EINVAL, "body", "the event has no body", "no body");
	sl_event_free(ev);

	ev = parse(EV0("job_paused"));
	free(ev->job_id);
	ev->job_id = NULL;
	expect(&st, ev, SL_EINVAL, "job_id", "the event names no job", "no job_id");
	ev->job_id = strdup("j\xff");
	expect(&st, ev, SL_EINVAL, "job_id", "job_id is not valid UTF-8", "job_id not UTF-8");
	sl_event_free(ev);

	ev = parse(EV("sheet_failed", "\"sheet_num\": 1, \"message\": \"ok\""));
	free(ev->sheet_failed->message);
	ev->sheet_failed->message = strdup("exit \xc3\x28");
	expect(&st, ev, SL_EINVAL, "body.message", "message is not valid UTF-8", "message");
	sl_event_free(ev);
	ev = parse(EV("job_paused", "\"reason\": \"ok\""));
	free(ev->job_paused->reason);
	ev->job_paused->reason = strdup("\xed\xbf\xbf");    /* a surrogate */
	expect(&st, ev, SL_EINVAL, "body.reason", "reason is not valid UTF-8", "paused reason");
	sl_event_free(ev);

	/* Both set and cleared (the JSON codec refuses that itself). */
	ev = parse(EV("job_fields_set", "\"pid\": 3"));
	add_cleared(ev, 9);
	expect(&st, ev, SL_EINVAL, "body.pid", "pid is both set and cleared", "set and cleared");
	sl_event_free(ev);
	/* Clearing what is not a column: the cleared list itself. */
	ev = parse(EV("sheet_fields_set", "\"sheet_num\": 1"));
	add_cleared(ev, 100);
	expect(&st, ev, SL_EINVAL, "body.cleared", "cleared (field 100) cannot be cleared",
	       "clear the cleared list");
	sl_event_free(ev);
	/* Clearing the row's key. */
	ev = parse(EV("sheet_fields_set", "\"sheet_num\": 1"));
	add_cleared(ev, 1);
	expect(&st, ev, SL_EINVAL, "body.cleared", "sheet_num (field 1) cannot be cleared",
	       "clear sheet_num");
	sl_event_free(ev);
	/* A cleared number no schema defines (a newer one) is ignored. */
	ev = parse(EV("sheet_fields_set", "\"sheet_num\": 1"));
	add_cleared(ev, 77);
	expect(&st, ev, SL_OK, "", "", "clear field 77");
	sl_event_free(ev);

	/* The reason shows event text quoted, cut, control bytes escaped. */
	ev = parse(EV0("job_paused"));
	free(ev->job_id);
	ev->job_id = strdup("a\nb\tc'd\\e0123456789012345678901234567890123456789");
	/* 40 bytes of the id shown (an escape shows one byte), then "...". */
	expect(&st, ev, SL_EINVAL, "job_id", "the event is for job 'a\\x0ab\\x09c'd\\\\e0123456789"
	       "012345678901234567890'..., the state is job 'j'", "quoting");
	sl_event_free(ev);
	sl_state_free(&st);
}

/* Without a reason to fill, the entry points answer the same. */
Test(rules, why_may_be_null)
{
	struct sl_job_state st;
	make_state(&st, 'L');
	sl_event *ev = parse(EV("sheet_fields_set", "\"sheet_num\": 1, \"confidence_score\": 2"));
	size_t failed = 5;
	cr_assert_eq(sl_rules_check(&st, ev, NULL), SL_EINVAL, "check");
	cr_assert_eq(sl_rules_check_commit(&st, &ev, 1, NULL, NULL), SL_EINVAL, "commit");
	cr_assert_eq(sl_rules_check_commit(&st, &ev, 1, &failed, NULL), SL_EINVAL, "commit");
	cr_assert_eq(failed, 0, "failed index");
	cr_assert_eq(sl_rules_apply(&st, ev, NULL), SL_EINVAL, "apply");
	cr_assert_eq(sl_rules_check_commit(&st, NULL, 0, &failed, NULL), SL_OK, "empty commit");
	sl_event_free(ev);
	sl_state_free(&st);
}

/* ---- the load-time invariants, from the event's time --------------------- */

/* What a column is after the event: 'T' the event's time, 'N' NULL, 'X'
 * the time X the events carry, 'K' as it was before the event. */
struct invariant_row {
	char state;
	char event[300];
	int64_t sheet;          /* the sheet looked at (0: none) */
	char job_started, job_completed, sheet_started, sheet_completed;
	char message[48];       /* the sheet's error_message; "(null)": NULL */
	char status[16];        /* the job's status after */
};

#define DEFAULT_MSG "Unknown failure (no error message recorded)"

ParameterizedTestParameters(rules, invariants)
{
	static struct invariant_row rows[] = {
		/* a running job has started_at and no completed_at */
		{ 'P', EV("job_fields_set", "\"status\": \"running\""), 0, 'T', 'N', 0, 0, "", "running" },
		{ 'P', EV("job_fields_set", "\"status\": \"running\", \"completed_at_us\": " X), 0,
		  'T', 'N', 0, 0, "", "running" },
		{ 'P', EV("job_fields_set", "\"status\": \"running\", \"started_at_us\": " X), 0,
		  'X', 'N', 0, 0, "", "running" },
		{ 'L', EV("job_fields_set", "\"cleared\": [\"started_at_us\"]"), 0, 'T', 'N', 0, 0, "",
		  "running" },
		{ 'L', EV("job_fields_set", "\"completed_at_us\": " X), 0, 'K', 'N', 0, 0, "", "running" },
		{ 'P', EV("job_fields_set", "\"status\": \"paused\", \"completed_at_us\": " X), 0, 'N',
		  'X', 0, 0, "", "paused" },
		{ 'F', EV0("job_resumed"), 0, 'K', 'N', 0, 0, "", "running" },
		{ 'F', EV("job_fields_set", "\"status\": \"running\""), 0, 'K', 'N', 0, 0, "",
		  "running" },
		{ 'F', EV("sheet_started", "\"sheet_num\": 2"), 2, 'K', 'N', 'T', 'N', "(null)",
		  "running" },
		{ 'F', EV0("job_completed"), 0, 'K', 'T', 0, 0, "", "completed" },
		/* a completed sheet has completed_at, an in_progress one started_at */
		{ 'P', EV("sheet_fields_set", "\"sheet_num\": 2, \"status\": \"completed\""), 2, 'N', 'N',
		  'N', 'T', "(null)", "pending" },
		{ 'P', EV("sheet_fields_set", "\"sheet_num\": 2, \"status\": \"completed\", "
			  "\"completed_at_us\": " X), 2, 'N', 'N', 'N', 'X', "(null)", "pending" },
		{ 'P', EV("sheet_fields_set", "\"sheet_num\": 2, \"status\": \"in_progress\""), 2, 'N',
		  'N', 'T', 'N', "(null)", "pending" },
		{ 'L', EV("sheet_fields_set", "\"sheet_num\": 1, \"cleared\": [\"started_at_us\"]"), 1,
		  'K', 'N', 'T', 'N', "(null)", "running" },
		{ 'L', EV("sheet_fields_set", "\"sheet_num\": 1, \"status\": \"waiting\", "
			  "\"cleared\": [\"started_at_us\"]"), 1, 'K', 'N', 'N', 'N', "(null)", "running" },
		/* a failed sheet has a message */
		{ 'P', EV("sheet_fields_set", "\"sheet_num\": 2, \"status\": \"failed\""), 2, 'N', 'N',
		  'N', 'N', DEFAULT_MSG, "pending" },
		{ 'P', EV("sheet_fields_set", "\"sheet_num\": 2, \"status\": \"failed\", "
			  "\"error_message\": \"\""), 2, 'N', 'N', 'N', 'N', "", "pending" },
		{ 'F', EV("sheet_fields_set", "\"sheet_num\": 1, \"cleared\": [\"error_message\"]"), 1,
		  'K', 'K', 'K', 'K', DEFAULT_MSG, "failed" },
		{ 'F', EV("sheet_fields_set", "\"sheet_num\": 1, \"status\": \"pending\", "
			  "\"cleared\": [\"error_message\"]"), 1, 'K', 'K', 'K', 'K', "(null)", "failed" },
		{ 'L', EV("sheet_failed", "\"sheet_num\": 1"), 1, 'K', 'N', 'K', 'T', DEFAULT_MSG,
		  "running" },
	};
	return cr_make_param_array(struct invariant_row, rows, sizeof rows / sizeof rows[0]);
}

static void expect_time(char code, bool has, int64_t v, bool had, int64_t old, const char *col,
			const char *what)
{
	switch (code) {
	case 0: return;
	case 'N': cr_assert(!has, "%s: %s is NULL, got %" PRId64, what, col, v); return;
	case 'T':
		cr_assert(has && v == TEV_US, "%s: %s = the event's time %" PRId64 ", got %s%" PRId64,
			  what, col, TEV_US, has ? "" : "NULL ", v);
		return;
	case 'X':
		cr_assert(has && v == X_US, "%s: %s = " X ", got %s%" PRId64, what, col,
			  has ? "" : "NULL ", v);
		return;
	default:
		cr_assert(has == had && v == old, "%s: %s unchanged", what, col);
		return;
	}
}

ParameterizedTest(struct invariant_row *row, rules, invariants)
{
	struct sl_job_state st, before;
	make_state(&st, row->state);
	cr_assert_eq(sl_state_copy(&before, &st), SL_OK, "copy");
	sl_event *ev = parse(row->event);
	char what[400];
	snprintf(what, sizeof what, "state %c, %s", row->state, row->event);
	expect(&st, ev, SL_OK, "", "", what);
	cr_assert_str_eq(sl_job_status_name(st.status), row->status, "%s: job status", what);
	expect_time(row->job_started, st.has_started_at, st.started_at_us, before.has_started_at,
		    before.started_at_us, "job started_at", what);
	expect_time(row->job_completed, st.has_completed_at, st.completed_at_us,
		    before.has_completed_at, before.completed_at_us, "job completed_at", what);
	if (row->sheet) {
		const struct sl_sheet_state *sh = sl_state_find_sheet(&st, row->sheet);
		const struct sl_sheet_state *old = sl_state_find_sheet(&before, row->sheet);
		struct sl_sheet_state none = { 0 };
		cr_assert_not_null(sh, "%s: sheet %" PRId64, what, row->sheet);
		if (!old)
			old = &none;
		expect_time(row->sheet_started, sh->has_started_at, sh->started_at_us,
			    old->has_started_at, old->started_at_us, "sheet started_at", what);
		expect_time(row->sheet_completed, sh->has_completed_at, sh->completed_at_us,
			    old->has_completed_at, old->completed_at_us, "sheet completed_at", what);
		if (strcmp(row->message, "(null)") == 0)
			cr_assert_null(sh->error_message, "%s: message NULL, got '%s'", what,
				       sh->error_message);
		else
			cr_assert(sh->error_message && strcmp(sh->error_message, row->message) == 0,
				  "%s: message '%s', got '%s'", what, row->message,
				  sh->error_message ? sh->error_message : "NULL");
	}
	/* The same events give the same state every time: no clock. */
	struct sl_job_state again;
	make_state(&again, row->state);
	cr_assert_eq(sl_rules_apply(&again, ev, NULL), SL_OK, "%s: again", what);
	cr_assert(sl_state_equal(&again, &st, 0), "%s: replayed, the same state", what);
	sl_event_free(ev);
	sl_state_free(&again);
	sl_state_free(&before);
	sl_state_free(&st);
}

Test(rules, invariants_of_a_state_made_by_hand)
{
	struct sl_job_state st;
	make_state(&st, 'P');
	st.status = SL_JOB_RUNNING;
	st.has_completed_at = true;
	st.completed_at_us = X_US;
	static const enum sl_sheet_status statuses[] = {
		SL_SHEET_COMPLETED, SL_SHEET_IN_PROGRESS, SL_SHEET_FAILED, SL_SHEET_FAILED,
		SL_SHEET_PENDING,
	};
	for (int64_t n = 1; n <= 5; n++) {
		struct sl_sheet_state *sh;
		cr_assert_eq(sl_state_add_sheet(&sh, &st, n), SL_OK, "add %" PRId64, n);
		sh->status = statuses[n - 1];
	}
	sl_state_find_sheet(&st, 4)->error_message = strdup("kept");
	cr_assert_eq(sl_rules_invariants(&st, TEV_US), SL_OK, "invariants");
	cr_assert(st.has_started_at && st.started_at_us == TEV_US && !st.has_completed_at,
		  "running job: started_at now, completed_at cleared");
	cr_assert(sl_state_find_sheet(&st, 1)->has_completed_at &&
		  sl_state_find_sheet(&st, 1)->completed_at_us == TEV_US, "completed: completed_at");
	cr_assert(sl_state_find_sheet(&st, 2)->has_started_at, "in_progress: started_at");
	cr_assert_str_eq(sl_state_find_sheet(&st, 3)->error_message, DEFAULT_MSG, "failed: message");
	cr_assert_str_eq(sl_state_find_sheet(&st, 4)->error_message, "kept", "a message stays");
	const struct sl_sheet_state *p = sl_state_find_sheet(&st, 5);
	cr_assert(!p->has_started_at && !p->has_completed_at && !p->error_message,
		  "pending: untouched");
	struct sl_job_state again;
	cr_assert_eq(sl_state_copy(&again, &st), SL_OK, "copy");
	cr_assert_eq(sl_rules_invariants(&again, TEV_US + 99), SL_OK, "twice");
	cr_assert(sl_state_equal(&again, &st, 0), "the invariants hold: a second pass changes nothing");
	sl_state_free(&again);
	sl_state_free(&st);
}

/* ---- commits --------------------------------------------------------------- */

static sl_event **parse_all(const char *const *json, size_t n)
{
	sl_event **evs = calloc(n, sizeof *evs);
	for (size_t i = 0; i < n; i++)
		evs[i] = parse(json[i]);
	return evs;
}

struct commit_row {
	char state;
	char events[5][200];
	size_t n;
	int code;
	size_t failed;
	char reason[160];
};

ParameterizedTestParameters(rules, commits)
{
	static struct commit_row rows[] = {
		/* a save of a new job: later events need the earlier ones */
		{ 'A', { EV("job_created", "\"name\": \"n\", \"total_sheets\": 3"),
			 EV("job_fields_set", "\"status\": \"running\""),
			 EV("sheet_fields_set", "\"sheet_num\": 1, \"status\": \"completed\""),
			 EV("sheet_fields_set", "\"sheet_num\": 2, \"confidence_score\": 0.5") },
		  4, SL_OK, 0, "" },
		{ 'A', { EV("job_created", "\"name\": \"n\", \"total_sheets\": 3"),
			 EV("sheet_fields_set", "\"sheet_num\": 2, \"confidence_score\": 1.5") },
		  2, SL_EINVAL, 1, "confidence_score 1.5 is outside 0..1" },
		{ 'A', { EV("sheet_fields_set", "\"sheet_num\": 2"),
			 EV("job_created", "\"name\": \"n\", \"total_sheets\": 3") },
		  2, SL_ENOTFOUND, 0, "no job 'j'" },
		/* total_sheets raised, then a sheet beyond the old total */
		{ 'L', { EV("job_config_changed", "\"total_sheets\": 5"),
			 EV("sheet_started", "\"sheet_num\": 5") }, 2, SL_OK, 0, "" },
		{ 'L', { EV("sheet_started", "\"sheet_num\": 0"),
			 EV("job_config_changed", "\"total_sheets\": 5") },
		  2, SL_EINVAL, 0, "sheet 0 is below 1" },
		/* deleted in the commit */
		{ 'L', { EV0("job_deleted"), EV("sheet_started", "\"sheet_num\": 1") }, 2, SL_ENOTFOUND,
		  1, "no job 'j' (it was deleted at 2025-11-26T02:49:38.504484+00:00)" },
		{ 'L', { EV("sheet_fields_set", "\"sheet_num\": 1, \"error_message\": \"x\""),
			 EV0("job_deleted"),
			 EV("job_created", "\"name\": \"again\", \"total_sheets\": 2"),
			 EV("sheet_fields_set", "\"sheet_num\": 1, \"status\": \"failed\""),
			 EV("sheet_completed", "\"sheet_num\": 2") }, 5, SL_OK, 0, "" },
		{ 'L', { EV("job_created", "\"name\": \"again\", \"total_sheets\": 2"),
			 EV0("job_deleted") },
		  2, SL_EEXIST, 0, "job 'j' already exists (created at " T0_TEXT ")" },
	};
	return cr_make_param_array(struct commit_row, rows, sizeof rows / sizeof rows[0]);
}

ParameterizedTest(struct commit_row *row, rules, commits)
{
	struct sl_job_state st, before, copy;
	make_state(&st, row->state);
	cr_assert_eq(sl_state_copy(&before, &st), SL_OK, "copy");
	const char *json[5];
	for (size_t i = 0; i < row->n; i++)
		json[i] = row->events[i];
	sl_event **evs = parse_all(json, row->n);
	struct sl_refusal why;
	size_t failed = 99;
	int rc = sl_rules_check_commit(&st, evs, row->n, &failed, &why);
	cr_assert_eq(rc, row->code, "state %c, commit of %zu starting %s: rc %d, want %d (%s: %s)",
		     row->state, row->n, row->events[0], rc, row->code, why.field, why.reason);
	cr_assert(sl_state_equal(&before, &st, 0), "the commit dry run changed nothing");
	if (rc != SL_OK) {
		cr_assert_eq(failed, row->failed, "refused at event %zu, want %zu", failed, row->failed);
		cr_assert_str_eq(why.reason, row->reason, "the reason");
	}
	/* The dry run says what applying them one by one does. */
	cr_assert_eq(sl_state_copy(&copy, &st), SL_OK, "copy");
	size_t i = 0;
	int rc_apply = SL_OK;
	struct sl_refusal why_apply;
	for (; i < row->n && rc_apply == SL_OK; i++)
		rc_apply = sl_rules_apply(&copy, evs[i], &why_apply);
	cr_assert_eq(rc_apply, rc, "applied one by one: rc %d", rc_apply);
	if (rc != SL_OK) {
		cr_assert_eq(i - 1, failed, "applied one by one: refused at %zu", i - 1);
		cr_assert_str_eq(why_apply.reason, why.reason, "applied one by one: the reason");
	}
	sl_events_free(evs, row->n);
	sl_state_free(&copy);
	sl_state_free(&before);
	sl_state_free(&st);
}

/* Random commits on a job of 60 sheets: the dry run answers what applying
 * the events to a copy answers, and the state (whose sheets the dry run
 * shares) is the same afterwards, to the byte and to the pointer. */
static uint64_t rng = 88172645463325252ull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void random_event(char *buf, size_t len, int64_t total)
{
	static const char *const texts[] = {
		"\"error_message\": \"e\"", "\"passed_validations\": \"[\\\"a\\\"]\"",
		"\"cleared\": [\"learned_patterns\"]", "\"validation_details\": \"[{\\\"passed\\\": 1}]\"",
		"\"status\": \"failed\", \"cleared\": [\"error_message\"]",
		"\"outcome_data\": \"{}\", \"execution_mode\": \"retry\"",
		"\"confidence_score\": 1.25",   /* refused */
	};
	int64_t n = 1 + (int64_t)(rnd() % (uint64_t)(total + 2));
	switch (rnd() % 12) {
	case 0: snprintf(buf, len, EV0("job_deleted")); break;
	case 1:
		snprintf(buf, len, EV("job_created", "\"name\": \"n\", \"total_sheets\": %" PRId64),
			 total);
		break;
	case 2: snprintf(buf, len, EV("sheet_started", "\"sheet_num\": %" PRId64), n); break;
	case 3: snprintf(buf, len, EV("sheet_completed", "\"sheet_num\": %" PRId64), n); break;
	case 4:
		snprintf(buf, len, EV("sheet_failed", "\"sheet_num\": %" PRId64 ", \"message\": \"m\""),
			 n);
		break;
	case 5: snprintf(buf, len, EV("job_fields_set", "\"error_message\": \"j\"")); break;
	default:
		snprintf(buf, len, EV("sheet_fields_set", "\"sheet_num\": %" PRId64 ", %s"), n,
			 texts[rnd() % (sizeof texts / sizeof texts[0])]);
		break;
	}
}

Test(rules, random_commits_share_and_change_nothing)
{
	for (int round = 0; round < 300; round++) {
		struct sl_job_state st;
		make_state(&st, 'P');
		for (int64_t n = 1; n <= 60; n++) {
			char json[200];
			snprintf(json, sizeof json, EV("sheet_fields_set", "\"sheet_num\": %" PRId64
				 ", \"error_message\": \"sheet %" PRId64 "\", \"outcome_data\": \"{}\""),
				 n, n);
			apply_json(&st, json);
		}
		if (round % 5 == 0)
			apply_json(&st, EV0("job_deleted"));
		/* Every text pointer of the state, to see the dry run kept them. */
		char *ptrs[61][4];
		for (size_t i = 0; i < st.n_sheets; i++) {
			ptrs[i][0] = st.sheets[i].error_message;
			ptrs[i][1] = st.sheets[i].outcome_data;
			ptrs[i][2] = st.sheets[i].passed_validations;
			ptrs[i][3] = st.sheets[i].learned_patterns;
		}
		struct sl_job_state before;
		cr_assert_eq(sl_state_copy(&before, &st), SL_OK, "copy");
		size_t n = 1 + rnd() % 8;
		sl_event *evs[8];
		char json[8][300];
		for (size_t i = 0; i < n; i++) {
			random_event(json[i], sizeof json[i], 60);
			evs[i] = parse(json[i]);
		}
		struct sl_refusal why, why_apply;
		size_t failed = 99;
		int rc = sl_rules_check_commit(&st, evs, n, &failed, &why);
		cr_assert(sl_state_equal(&before, &st, 0), "round %d: the state changed", round);
		for (size_t i = 0; i < st.n_sheets; i++)
			cr_assert(ptrs[i][0] == st.sheets[i].error_message &&
				  ptrs[i][1] == st.sheets[i].outcome_data &&
				  ptrs[i][2] == st.sheets[i].passed_validations &&
				  ptrs[i][3] == st.sheets[i].learned_patterns,
				  "round %d: sheet %zu's text moved", round, i);
		size_t k = 0;
		int rc_apply = SL_OK;
		for (; k < n && rc_apply == SL_OK; k++)
			rc_apply = sl_rules_apply(&before, evs[k], &why_apply);
		cr_assert_eq(rc, rc_apply, "round %d: dry run rc %d, applied rc %d (%s)", round, rc,
			     rc_apply, rc ? why.reason : why_apply.reason);
		if (rc != SL_OK) {
			cr_assert_eq(failed, k - 1, "round %d: refused at %zu, applied at %zu", round,
				     failed, k - 1);
			cr_assert_str_eq(why.reason, why_apply.reason, "round %d", round);
		}
		for (size_t i = 0; i < n; i++)
			sl_event_free(evs[i]);
		sl_state_free(&before);
		sl_state_free(&st);
	}
}

/* ---- the clock ------------------------------------------------------------- */

struct time_row {
	bool has_time;
	int64_t time_us, now_us;
	int code;
	char reason[160];
};

#define DAY INT64_C(86400000000)

ParameterizedTestParameters(rules, check_time)
{
	static struct time_row rows[] = {
		{ false, 0, T0, SL_OK, "" },
		{ true, T0, T0, SL_OK, "" },
		{ true, 0, T0, SL_OK, "" },                     /* the past is fine */
		{ true, T0 + DAY, T0, SL_OK, "" },
		{ true, T0 + DAY + 1, T0, SL_EINVAL, "time_us 2025-11-27T02:49:38.504475+00:00 is more "
		  "than a day ahead of the clock (" T0_TEXT ")" },
		{ true, INT64_MAX, T0, SL_EINVAL, "time_us 9223372036854775807 us is more than a day "
		  "ahead of the clock (" T0_TEXT ")" },
		{ true, INT64_MAX, INT64_MAX - 5, SL_OK, "" },
		{ true, INT64_MIN, T0, SL_OK, "" },             /* the rules refuse it, not this */
	};
	return cr_make_param_array(struct time_row, rows, sizeof rows / sizeof rows[0]);
}

ParameterizedTest(struct time_row *row, rules, check_time)
{
	sl_event *ev = parse(EV("pid_set", "\"pid\": 1"));
	ev->has_time_us = row->has_time;
	ev->time_us = row->time_us;
	struct sl_refusal why;
	int rc = sl_rules_check_time(ev, row->now_us, &why);
	cr_assert_eq(rc, row->code, "time %" PRId64 " at now %" PRId64 ": rc %d (%s)", row->time_us,
		     row->now_us, rc, why.reason);
	cr_assert_eq(why.code, rc, "why.code");
	if (rc != SL_OK) {
		cr_assert_str_eq(why.field, "time_us", "field");
		cr_assert_str_eq(why.reason, row->reason, "reason");
	}
	sl_event_free(ev);
}
