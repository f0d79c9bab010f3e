/* test_apply.c: tests of projector/apply.c and projector/state.c: every rule
 * of projector/model/MODEL.md "Rules of the model", refusals, next sheet,
 * zombies, and the state helpers (copy, compare, sheets, the catalogue).
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model_internal.h"
#include "event_internal.h"
#include "state.h"
#include "image.h"

#define JOB "job/1:run@host-é"
#define T0 INT64_C(1764125378504474)

/* ---- building events --------------------------------------------------- */

static char *xs(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* An event for job `job` at time t with the given body (owned).  Every body
 * pointer shares the one union, so one assignment serves all types. */
static sl_event *wrap_for(const char *job, int64_t t, Statelog__Event__BodyCase c, void *body)
{
	sl_event *ev = malloc(sizeof *ev);
	statelog__event__init(ev);
	ev->job_id = xs(job);
	ev->has_time_us = 1;
	ev->time_us = t;
	ev->body_case = c;
	memcpy(&ev->job_created, &body, sizeof body);
	return ev;
}

static sl_event *wrap(int64_t t, Statelog__Event__BodyCase c, void *body)
{
	return wrap_for(JOB, t, c, body);
}

#define NEW(type, init) ({ type *m_ = malloc(sizeof *m_); init(m_); m_; })

static sl_event *ev_created(int64_t t, const char *name, int64_t total)
{
	Statelog__JobCreated *m = NEW(Statelog__JobCreated, statelog__job_created__init);
	m->name = xs(name);
	m->has_total_sheets = 1;
	m->total_sheets = total;
	m->config_hash = xs("abc123");
	m->config_snapshot = xs("{\"a\": [1, 2]}");
	m->config_path = xs("/etc/jobs/a.yaml");
	return wrap(t, STATELOG__EVENT__BODY_JOB_CREATED, m);
}

static sl_event *ev_sheet(int64_t t, Statelog__Event__BodyCase c, int64_t n)
{
	switch (c) {
	case STATELOG__EVENT__BODY_SHEET_STARTED: {
		Statelog__SheetStarted *m = NEW(Statelog__SheetStarted, statelog__sheet_started__init);
		m->has_sheet_num = n != 0;
		m->sheet_num = n;
		return wrap(t, c, m);
	}
	case STATELOG__EVENT__BODY_SHEET_COMPLETED: {
		Statelog__SheetCompleted *m =
			NEW(Statelog__SheetCompleted, statelog__sheet_completed__init);
		m->has_sheet_num = n != 0;
		m->sheet_num = n;
		return wrap(t, c, m);
	}
	case STATELOG__EVENT__BODY_SHEET_FAILED: {
		Statelog__SheetFailed *m = NEW(Statelog__SheetFailed, statelog__sheet_failed__init);
		m->has_sheet_num = n != 0;
		m->sheet_num = n;
		return wrap(t, c, m);
	}
	case STATELOG__EVENT__BODY_SHEET_SKIPPED: {
		Statelog__SheetSkipped *m = NEW(Statelog__SheetSkipped, statelog__sheet_skipped__init);
		m->has_sheet_num = n != 0;
		m->sheet_num = n;
		return wrap(t, c, m);
	}
	default:
		cr_assert_fail("not a sheet event: %d", (int)c);
		return NULL;
	}
}

static sl_event *ev_failed(int64_t t, int64_t n, const char *msg, const char *cat)
{
	sl_event *ev = ev_sheet(t, STATELOG__EVENT__BODY_SHEET_FAILED, n);
	ev->sheet_failed->message = xs(msg);
	ev->sheet_failed->category = xs(cat);
	return ev;
}

/* A job-level event with an empty body (paused, resumed, ...). */
static sl_event *ev_job(int64_t t, Statelog__Event__BodyCase c)
{
	/* The empty bodies all have just a base; JobPaused etc. have one
	 * optional string.  Allocate the largest of them and init by type. */
	const ProtobufCMessageDescriptor *d = NULL;
	switch (c) {
	case STATELOG__EVENT__BODY_JOB_PAUSED: d = &statelog__job_paused__descriptor; break;
	case STATELOG__EVENT__BODY_JOB_RESUMED: d = &statelog__job_resumed__descriptor; break;
	case STATELOG__EVENT__BODY_JOB_FAILED: d = &statelog__job_failed__descriptor; break;
	case STATELOG__EVENT__BODY_JOB_COMPLETED: d = &statelog__job_completed__descriptor; break;
	case STATELOG__EVENT__BODY_JOB_CANCELLED: d = &statelog__job_cancelled__descriptor; break;
	case STATELOG__EVENT__BODY_ZOMBIE_RECOVERED: d = &statelog__zombie_recovered__descriptor; break;
	case STATELOG__EVENT__BODY_PID_SET: d = &statelog__pid_set__descriptor; break;
	case STATELOG__EVENT__BODY_RATE_LIMIT_WAIT: d = &statelog__rate_limit_wait__descriptor; break;
	case STATELOG__EVENT__BODY_JOB_DELETED: d = &statelog__job_deleted__descriptor; break;
	case STATELOG__EVENT__BODY_EXECUTION_RECORDED:
		d = &statelog__execution_recorded__descriptor; break;
	case STATELOG__EVENT__BODY_JOB_FIELDS_SET: d = &statelog__job_fields_set__descriptor; break;
	case STATELOG__EVENT__BODY_SHEET_FIELDS_SET:
		d = &statelog__sheet_fields_set__descriptor; break;
	case STATELOG__EVENT__BODY_JOB_CONFIG_CHANGED:
		d = &statelog__job_config_changed__descriptor; break;
	default: cr_assert_fail("no job event %d", (int)c);
	}
	ProtobufCMessage *m = calloc(1, d->sizeof_message);
	d->message_init(m);
	return wrap(t, c, m);
}

static sl_event *ev_pid(int64_t t, int64_t pid)
{
	sl_event *ev = ev_job(t, STATELOG__EVENT__BODY_PID_SET);
	ev->pid_set->has_pid = 1;
	ev->pid_set->pid = pid;
	return ev;
}

static sl_event *ev_sheet_fields(int64_t t, int64_t n)
{
	sl_event *ev = ev_job(t, STATELOG__EVENT__BODY_SHEET_FIELDS_SET);
	ev->sheet_fields_set->has_sheet_num = 1;
	ev->sheet_fields_set->sheet_num = n;
	return ev;
}

static void add_cleared(size_t *n, uint32_t **list, uint32_t f)
{
	*list = realloc(*list, (*n + 1) * sizeof **list);
	(*list)[(*n)++] = f;
}

/* ---- the fixture: a live job of 3 sheets, created at T0 ---------------- */

static struct sl_job_state st;
static int64_t now;

static int apply_free(sl_event *ev)
{
	int rc = sl_rules_apply(&st, ev, NULL);
	sl_event_free(ev);
	return rc;
}

#define APPLY_OK(ev, what)                                                        \
	do {                                                                      \
		int rc_ = apply_free(ev);                                         \
		cr_assert_eq(rc_, SL_OK, "%s on job %s: rc %d (%s)", what, JOB, rc_, \
			     sl_strerror(rc_));                                   \
	} while (0)

/* Applies ev and checks that it is refused with `want` and changes nothing. */
static void expect_refused(sl_event *ev, int want, const char *what)
{
	struct sl_job_state before;
	cr_assert_eq(sl_state_copy(&before, &st), SL_OK, "copy before %s", what);
	int rc = apply_free(ev);
	cr_assert_eq(rc, want, "%s: rc %d (%s), want %d", what, rc, sl_strerror(rc), want);
	int64_t sheet = 0;
	const char *d = sl_state_first_difference(&before, &st, 0, &sheet);
	cr_assert_null(d, "%s was refused but changed %s (sheet %" PRId64 ")", what, d, sheet);
	sl_state_free(&before);
}

static void setup_job(void)
{
	sl_state_init(&st);
	now = T0;
	APPLY_OK(ev_created(now, "nightly", 3), "job_created(nightly, 3)");
}

static void teardown_job(void)
{
	sl_state_free(&st);
}

TestSuite(apply, .init = setup_job, .fini = teardown_job, .timeout = 10);

/* ---- job created / deleted --------------------------------------------- */

Test(apply, job_created_gives_a_fresh_pending_job)
{
	cr_assert_eq(st.presence, SL_JOB_LIVE, "job_created -> live");
	cr_assert_str_eq(st.id, JOB, "job_created keeps the id");
	cr_assert_str_eq(st.name, "nightly", "name");
	cr_assert_eq(st.status, SL_JOB_PENDING, "job_created -> pending");
	cr_assert_eq(st.total_sheets, 3, "total_sheets");
	cr_assert(st.last_completed_sheet == 0 && !st.has_current_sheet && !st.has_pid &&
		  st.total_retry_count == 0 && st.rate_limit_waits == 0 && !st.error_message &&
		  !st.description && !st.has_started_at && !st.has_completed_at,
		  "job_created -> counters 0 and nullable columns NULL");
	cr_assert_eq(st.created_at_us, T0, "created_at = event time");
	cr_assert_eq(st.updated_at_us, T0, "updated_at = event time");
	cr_assert_str_eq(st.config_snapshot, "{\"a\": [1, 2]}", "config_snapshot kept as text");
	cr_assert_eq(st.n_sheets, 0, "no sheets");
}

Test(apply, job_created_with_created_at_us)
{
	sl_state_free(&st);
	sl_event *ev = ev_created(T0 + 50, "imported", 2);
	ev->job_created->has_created_at_us = 1;
	ev->job_created->created_at_us = T0 - 1000;
	APPLY_OK(ev, "job_created with created_at_us = T0-1000");
	cr_assert_eq(st.created_at_us, T0 - 1000, "created_at from created_at_us");
	cr_assert_eq(st.updated_at_us, T0 + 50, "updated_at = event time");
}

Test(apply, job_created_on_a_live_job_is_refused)
{
	expect_refused(ev_created(T0 + 1, "again", 5), SL_EEXIST, "job_created on live job");
}

Test(apply, job_created_needs_name_and_total)
{
	sl_state_free(&st);
	sl_event *ev = ev_created(T0, NULL, 3);
	expect_refused(ev, SL_EINVAL, "job_created without a name");
	ev = ev_created(T0, "x", 3);
	ev->job_created->has_total_sheets = 0;
	expect_refused(ev, SL_EINVAL, "job_created without total_sheets");
	expect_refused(ev_created(T0, "x", -1), SL_EINVAL, "job_created with total_sheets -1");
	expect_refused(ev_created(T0, "x", 0), SL_EINVAL, "job_created with total_sheets 0 "
		       "(the original's model: total_sheets >= 1)");
}

Test(apply, deleted_then_created_again_has_no_stale_sheets)
{
	APPLY_OK(ev_sheet(++now, STATELOG__EVENT__BODY_SHEET_STARTED, 1), "sheet_started(1)");
	APPLY_OK(ev_pid(++now, 4242), "pid_set(4242)");
	APPLY_OK(ev_job(++now, STATELOG__EVENT__BODY_JOB_DELETED), "job_deleted");
	cr_assert_eq(st.presence, SL_JOB_DELETED, "job_deleted -> deleted");
	cr_assert_str_eq(st.id, JOB, "a deleted job keeps its id");
	cr_assert(st.n_sheets == 0 && !st.name && !st.has_pid, "a deleted job keeps nothing else");
	expect_refused(ev_sheet(now + 1, STATELOG__EVENT__BODY_SHEET_STARTED, 1), SL_ENOTFOUND,
		       "sheet_started on a deleted job");
	expect_refused(ev_job(now + 1, STATELOG__EVENT__BODY_JOB_DELETED), SL_ENOTFOUND,
		       "job_deleted on a deleted job");
	APPLY_OK(ev_created(++now, "rerun", 7), "job_created after job_deleted");
	cr_assert_eq(st.n_sheets, 0, "created again: no sheets of the deleted job");
	cr_assert(st.status == SL_JOB_PENDING && !st.has_pid && !st.has_current_sheet &&
		  st.total_sheets == 7 && st.created_at_us == now,
		  "created again: a fresh job");
}

/* ---- rejected events ---------------------------------------------------- */

Test(apply, events_for_an_absent_job_are_refused)
{
	sl_state_free(&st);
	expect_refused(ev_sheet(T0, STATELOG__EVENT__BODY_SHEET_STARTED, 1), SL_ENOTFOUND,
		       "sheet_started on an absent job");
	expect_refused(ev_job(T0, STATELOG__EVENT__BODY_EXECUTION_RECORDED), SL_ENOTFOUND,
		       "execution_recorded on an absent job");
	expect_refused(ev_pid(T0, 1), SL_ENOTFOUND, "pid_set on an absent job");
}

Test(apply, envelope_must_name_this_job_and_a_time)
{
	sl_event *ev = ev_pid(T0 + 1, 10);
	free(ev->job_id);
	ev->job_id = xs("other-job");
	expect_refused(ev, SL_EINVAL, "pid_set for another job id");
	ev = ev_pid(T0 + 1, 10);
	free(ev->job_id);
	ev->job_id = NULL;
	expect_refused(ev, SL_EINVAL, "pid_set without job_id");
	ev = ev_pid(T0 + 1, 10);
	ev->has_time_us = 0;
	expect_refused(ev, SL_EINVAL, "pid_set without time_us");
	ev = ev_job(T0 + 1, STATELOG__EVENT__BODY_PID_SET);
	expect_refused(ev, SL_EINVAL, "pid_set without a pid");
}

Test(apply, unknown_event_type_is_reported)
{
	/* job_id "j" (field 3) and a varint body field 40 (a newer schema). */
	static const uint8_t bytes[] = { 0x1a, 0x01, 'j', 0xc0, 0x02, 0x01 };
	sl_event *ev = NULL;
	cr_assert_eq(sl_event_decode(&ev, bytes, sizeof bytes, 9, T0 + 1), SL_OK,
		     "decode an event with body field 40");
	cr_assert_eq(sl_event_unknown_type(ev), 40, "body field 40 is unknown");
	struct sl_job_state other;
	sl_state_init(&other);
	cr_assert_eq(sl_rules_apply(&other, ev, NULL), SL_EUNKNOWN, "unknown type on an absent job");
	free(ev->job_id);
	ev->job_id = xs(JOB);
	expect_refused(ev, SL_EUNKNOWN, "unknown type (field 40) on a live job");
	static const uint8_t none[] = { 0x1a, 0x01, 'j' };
	cr_assert_eq(sl_event_decode(&ev, none, sizeof none, 10, T0 + 2), SL_OK, "decode none");
	cr_assert_eq(sl_rules_apply(&other, ev, NULL), SL_EINVAL, "an event with no body");
	sl_event_free(ev);
}

struct bad_sheet_event {
	Statelog__Event__BodyCase type;
	int64_t sheet_num;              /* 0: field absent */
	bool absent;
};

/* A sheet number below 1, or none: refused.  One above total_sheets is a
 * sheet like any other (the original's mark_sheet_*() make its row):
 * sheet_above_the_total below. */
ParameterizedTestParameters(apply, sheet_number_out_of_range)
{
	static struct bad_sheet_event rows[] = {
		{ STATELOG__EVENT__BODY_SHEET_STARTED, 0, true },
		{ STATELOG__EVENT__BODY_SHEET_STARTED, -1, false },
		{ STATELOG__EVENT__BODY_SHEET_STARTED, INT64_MIN, false },
		{ STATELOG__EVENT__BODY_SHEET_COMPLETED, 0, false },
		{ STATELOG__EVENT__BODY_SHEET_COMPLETED, 0, true },
		{ STATELOG__EVENT__BODY_SHEET_FAILED, 0, false },
		{ STATELOG__EVENT__BODY_SHEET_FAILED, -3, false },
		{ STATELOG__EVENT__BODY_SHEET_SKIPPED, -4, false },
		{ STATELOG__EVENT__BODY_SHEET_SKIPPED, 0, true },
		{ STATELOG__EVENT__BODY_SHEET_FIELDS_SET, 0, false },
		{ STATELOG__EVENT__BODY_SHEET_FIELDS_SET, -7, false },
		{ STATELOG__EVENT__BODY_SHEET_FIELDS_SET, 0, true },
	};
	return cr_make_param_array(struct bad_sheet_event, rows, sizeof rows / sizeof rows[0]);
}

ParameterizedTest(struct bad_sheet_event *row, apply, sheet_number_out_of_range)
{
	sl_event *ev = row->type == STATELOG__EVENT__BODY_SHEET_FIELDS_SET
		       ? ev_sheet_fields(T0 + 1, row->sheet_num)
		       : ev_sheet(T0 + 1, row->type, row->sheet_num);
	/* ev_sheet() sets has_sheet_num for non-zero numbers only. */
	int64_t *num = NULL;
	protobuf_c_boolean *has = NULL;
	switch (row->type) {
	case STATELOG__EVENT__BODY_SHEET_STARTED:
		has = &ev->sheet_started->has_sheet_num; num = &ev->sheet_started->sheet_num; break;
	case STATELOG__EVENT__BODY_SHEET_COMPLETED:
		has = &ev->sheet_completed->has_sheet_num; num = &ev->sheet_completed->sheet_num; break;
	case STATELOG__EVENT__BODY_SHEET_FAILED:
		has = &ev->sheet_failed->has_sheet_num; num = &ev->sheet_failed->sheet_num; break;
	case STATELOG__EVENT__BODY_SHEET_SKIPPED:
		has = &ev->sheet_skipped->has_sheet_num; num = &ev->sheet_skipped->sheet_num; break;
	default:
		has = &ev->sheet_fields_set->has_sheet_num; num = &ev->sheet_fields_set->sheet_num;
	}
	*has = !row->absent;
	*num = row->sheet_num;
	char what[96];
	snprintf(what, sizeof what, "%s with sheet_num %s%" PRId64 " (total 3)",
		 sl_event_type_name(ev), row->absent ? "absent " : "", row->sheet_num);
	expect_refused(ev, SL_EINVAL, what);
}

/* Sheet 4 of a 3-sheet job: a row like any other, as the original makes it;
 * the job completes only when every row, 4 included, is completed. */
Test(apply, sheet_above_the_total)
{
	APPLY_OK(ev_sheet(++now, STATELOG__EVENT__BODY_SHEET_STARTED, 4), "sheet_started(4)");
	cr_assert_not_null(sl_state_find_sheet(&st, 4), "sheet 4 has a row");
	cr_assert_eq(st.current_sheet, 4, "current_sheet 4");
	for (int64_t n = 1; n <= 3; n++) {
		APPLY_OK(ev_sheet(++now, STATELOG__EVENT__BODY_SHEET_STARTED, n), "start");
		APPLY_OK(ev_sheet(++now, STATELOG__EVENT__BODY_SHEET_COMPLETED, n), "complete");
	}
	cr_assert_eq(st.status, SL_JOB_RUNNING, "sheet 4 still in progress: the job runs on");
	APPLY_OK(ev_sheet(++now, STATELOG__EVENT__BODY_SHEET_COMPLETED, 4), "sheet_completed(4)");
	cr_assert_eq(st.status, SL_JOB_COMPLETED, "every row completed: the job is");
	cr_assert_eq(st.last_completed_sheet, 4, "last_completed_sheet 4");
}

/* ---- sheet started / completed / failed / skipped ----------------------- */

Test(apply, sheet_started)
{
	sl_event *f = ev_sheet_fields(++now, 2);
	f->sheet_fields_set->error_message = xs("old error");
	f->sheet_fields_set->has_exit_code = 1;
	f->sheet_fields_set->exit_code = 3;
	f->sheet_fields_set->execution_mode = xs("retry");
	f->sheet_fields_set->has_attempt_count = 1;
	f->sheet_fields_set->attempt_count = 1;
	APPLY_OK(f, "sheet_fields_set(2: error, exit 3, retry, 1 attempt)");
	int64_t t = ++now;
	APPLY_OK(ev_sheet(t, STATELOG__EVENT__BODY_SHEET_STARTED, 2), "sheet_started(2)");
	const struct sl_sheet_state *sh = sl_state_find_sheet(&st, 2);
	cr_assert_not_null(sh, "sheet_started(2) leaves a row for sheet 2");
	cr_assert_eq(sh->status, SL_SHEET_IN_PROGRESS, "sheet_started -> in_progress");
	cr_assert(sh->has_started_at && sh->started_at_us == t, "sheet started_at = event time");
	cr_assert_eq(sh->attempt_count, 2, "attempt_count 1 -> 2");
	cr_assert(!sh->error_message && !sh->has_exit_code && !sh->execution_mode,
		  "sheet_started clears error_message, exit_code, execution_mode");
	cr_assert(st.has_current_sheet && st.current_sheet == 2, "current_sheet = 2");
	cr_assert_eq(st.status, SL_JOB_RUNNING, "sheet_started -> job running");
	cr_assert(st.has_started_at && st.started_at_us == t, "job started_at set when missing");
	cr_assert_eq(st.updated_at_us, t, "updated_at = event time");

	/* Again, after the job completed once: started_at stays, completed_at goes. */
	APPLY_OK(ev_job(++now, STATELOG__EVENT__BODY_JOB_COMPLETED), "job_completed");
	APPLY_OK(ev_sheet(++now, STATELOG__EVENT__BODY_SHEET_STARTED, 3), "sheet_started(3)");
	cr_assert_eq(st.started_at_us, t, "job started_at is not moved by a later start");
	cr_assert(!st.has_completed_at, "sheet_started clears job completed_at");
	cr_assert_eq(sl_state_find_sheet(&st, 3)->attempt_count, 1, "new sheet: 1st attempt");
}

Test(apply, sheet_completed)
{
	APPLY_OK(ev_sheet(++now, STATELOG__EVENT__BODY_SHEET_STARTED, 3), "sheet_started(3)");
	sl_event *ev = ev_sheet(++now, STATELOG__EVENT__BODY_SHEET_COMPLETED, 3);
	ev->sheet_completed->validation_details = xs("[{\"passed\": true}]");
	ev->sheet_completed->has_duration_seconds = 1;
	ev->sheet_completed->duration_seconds = 12.5;
	APPLY_OK(ev, "sheet_completed(3, details, 12.5 s)");
	const struct sl_sheet_state *sh = sl_state_find_sheet(&st, 3);
	cr_assert_eq(sh->status, SL_SHEET_COMPLETED, "sheet_completed -> completed");
	cr_assert(sh->has_completed_at && sh->completed_at_us == now, "completed_at = now");
	cr_assert(sh->has_exit_code && sh->exit_code == 0, "exit_code = 0");
	cr_assert(sh->has_validation_passed && sh->validation_passed,
		  "validation_passed defaults to true (the original's default)");
	cr_assert_str_eq(sh->validation_details, "[{\"passed\": true}]", "details kept as text");
	cr_assert(sh->has_execution_duration_seconds && sh->execution_duration_seconds == 12.5,
		  "duration 12.5");
	cr_assert_eq(st.last_completed_sheet, 3, "last_completed_sheet = 3");
	cr_assert(!st.has_current_sheet, "current_sheet cleared");
	cr_assert_eq(st.status, SL_JOB_RUNNING, "1 of 3 sheets: job still running");

	/* An earlier sheet completing never moves last_completed_sheet back;
	 * no duration in the event keeps the one there. */
	ev = ev_sheet(++now, STATELOG__EVENT__BODY_SHEET_COMPLETED, 1);
	ev->sheet_completed->has_validation_passed = 1;
	ev->sheet_completed->validation_passed = 0;
	APPLY_OK(ev, "sheet_completed(1, validation failed)");
	cr_assert_eq(st.last_completed_sheet, 3, "last_completed_sheet = max(3, 1)");
	sh = sl_state_find_sheet(&st, 1);
	cr_assert(sh->has_validation_passed && !sh->validation_passed, "validation_passed false");
	cr_assert(!sh->validation_details, "no details -> NULL");
	ev = ev_sheet(++now, STATELOG__EVENT__BODY_SHEET_COMPLETED, 3);
	APPLY_OK(ev, "sheet_completed(3) again without a duration");
	sh = sl_state_find_sheet(&st, 3);
	cr_assert_eq(sh->execution_duration_seconds, 12.5, "duration kept when absent");
}

/* Job completion: sheets 1..total as a string ('.' no row, 'C' completed,
 * 'F' failed, 'P' pending, 'S' skipped), then sheet `complete` completes. */
/* Parameter rows hold strings inline: Criterion runs each test in a fresh
 * process, where pointers from the parent would not be valid.  "(null)"
 * stands for NULL. */
#define NULL_S "(null)"

static const char *arg(const char *s)
{
	return strcmp(s, NULL_S) == 0 ? NULL : s;
}

struct completion_row {
	char sheets[8];
	int64_t complete;
	bool job_completed;
};

ParameterizedTestParameters(apply, job_completes_when_every_sheet_is_completed)
{
	static struct completion_row rows[] = {
		{ "...", 1, false },
		{ "CC.", 2, false },   /* 3 has no row: not completed */
		{ ".CC", 3, false },   /* 1 has no row */
		{ "CC.", 3, true },
		{ "C.C", 2, true },    /* out of order */
		{ "CFC", 3, false },
		{ "CSC", 1, false },   /* skipped is not completed */
		{ "PCC", 1, true },
		{ "C", 1, false },     /* 2 and 3 have no row */
		{ "CCCC", 3, true },   /* a row past total_sheets counts as any row... */
		{ "CCFP", 3, false },  /* ...so one not completed keeps the job running */
	};
	return cr_make_param_array(struct completion_row, rows, sizeof rows / sizeof rows[0]);
}

static void set_sheet_status(int64_t n, char code)
{
	static const char codes[] = "PRDIWTMCFSX";      /* in enum order */
	struct sl_sheet_state *sh;
	cr_assert_eq(sl_state_add_sheet(&sh, &st, n), SL_OK, "add sheet %" PRId64, n);
	const char *p = strchr(codes, code);
	cr_assert_not_null(p, "status code %c", code);
	sh->status = (enum sl_sheet_status)(p - codes);
}

static void set_sheets(const char *sheets)
{
	for (int64_t n = 1; sheets[n - 1]; n++)
		if (sheets[n - 1] != '.')
			set_sheet_status(n, sheets[n - 1]);
}

ParameterizedTest(struct completion_row *row, apply, job_completes_when_every_sheet_is_completed)
{
	set_sheets(row->sheets);
	APPLY_OK(ev_sheet(++now, STATELOG__EVENT__BODY_SHEET_STARTED, row->complete), "start");
	APPLY_OK(ev_sheet(++now, STATELOG__EVENT__BODY_SHEET_COMPLETED, row->complete),
		 "sheet_completed");
	cr_assert_eq(st.status == SL_JOB_COMPLETED, row->job_completed,
		     "sheets \"%s\" of 3, sheet %" PRId64 " completes: job %s, want %s",
		     row->sheets, row->complete, sl_job_status_name(st.status),
		     row->job_completed ? "completed" : "running");
	cr_assert_eq(st.has_completed_at, row->job_completed,
		     "sheets \"%s\": job completed_at set only on completion", row->sheets);
	if (row->job_completed)
		cr_assert_eq(st.completed_at_us, now, "job completed_at = event time");
}

struct category_row {
	char given[16];
	char stored[16];
};

ParameterizedTestParameters(apply, sheet_failed_category)
{
	static struct category_row rows[] = {
		{ "rate_limit", "rate_limit" }, { "transient", "transient" },
		{ "escalation", "escalation" }, { "preflight", "preflight" },
		{ "signal", "signal" },
		{ "bogus", NULL_S }, { "RATE_LIMIT", NULL_S }, { "", NULL_S },
		{ " fatal", NULL_S }, { NULL_S, NULL_S },
	};
	return cr_make_param_array(struct category_row, rows, sizeof rows / sizeof rows[0]);
}

ParameterizedTest(struct category_row *row, apply, sheet_failed_category)
{
	APPLY_OK(ev_failed(++now, 1, "boom", arg(row->given)), "sheet_failed(1, boom, category)");
	const char *got = sl_state_find_sheet(&st, 1)->error_category;
	if (arg(row->stored))
		cr_assert(got && strcmp(got, row->stored) == 0,
			  "category \"%s\" stored as \"%s\", want \"%s\"", row->given,
			  got ? got : "NULL", row->stored);
	else
		cr_assert_null(got, "unknown category \"%s\" -> NULL, got \"%s\"", row->given, got);
}

Test(apply, sheet_failed)
{
	APPLY_OK(ev_sheet(++now, STATELOG__EVENT__BODY_SHEET_STARTED, 2), "sheet_started(2)");
	sl_event *ev = ev_failed(++now, 2, "exit 137", "signal");
	Statelog__SheetFailed *m = ev->sheet_failed;
	m->has_exit_code = 1;
	m->exit_code = 137;
	m->has_exit_signal = 1;
	m->exit_signal = 9;
	m->exit_reason = xs("killed");
	m->has_duration_seconds = 1;
	m->duration_seconds = 3.25;
	APPLY_OK(ev, "sheet_failed(2, exit 137, signal 9, killed)");
	const struct sl_sheet_state *sh = sl_state_find_sheet(&st, 2);
	cr_assert_eq(sh->status, SL_SHEET_FAILED, "sheet_failed -> failed");
	cr_assert(sh->has_completed_at && sh->completed_at_us == now, "completed_at = now");
	cr_assert_str_eq(sh->error_message, "exit 137", "message");
	cr_assert(sh->has_exit_code && sh->exit_code == 137, "exit_code 137");
	cr_assert(sh->has_exit_signal && sh->exit_signal == 9, "exit_signal 9");
	cr_assert_str_eq(sh->exit_reason, "killed", "exit_reason");
	cr_assert_eq(sh->execution_duration_seconds, 3.25, "duration");
	cr_assert(!st.has_current_sheet, "current_sheet cleared");
	cr_assert_eq(st.status, SL_JOB_RUNNING, "job status unchanged by sheet_failed");
	cr_assert_eq(st.total_retry_count, 1, "total_retry_count 0 -> 1");

	APPLY_OK(ev_failed(++now, 2, NULL, NULL), "sheet_failed(2) without a message");
	sh = sl_state_find_sheet(&st, 2);
	cr_assert_str_eq(sh->error_message, "Unknown failure (no error message recorded)",
			 "absent message -> the default");
	cr_assert(!sh->has_exit_code && !sh->has_exit_signal && !sh->exit_reason,
		  "absent exit code, signal and reason -> NULL");
	cr_assert_eq(sh->execution_duration_seconds, 3.25, "duration kept when absent");
	APPLY_OK(ev_failed(++now, 3, "", "fatal"), "sheet_failed(3, \"\")");
	cr_assert_str_eq(sl_state_find_sheet(&st, 3)->error_message, "",
			 "an empty message is a message: kept, as the original keeps it");
	cr_assert_eq(st.total_retry_count, 3, "three failures -> total_retry_count 3");
	cr_assert_eq(st.status, SL_JOB_RUNNING, "still running after three failures");
}

Test(apply, sheet_skipped)
{
	sl_event *ev = ev_sheet(++now, STATELOG__EVENT__BODY_SHEET_SKIPPED, 2);
	ev->sheet_skipped->reason = xs("escalation said skip");
	APPLY_OK(ev, "sheet_skipped(2, reason)");
	const struct sl_sheet_state *sh = sl_state_find_sheet(&st, 2);
	cr_assert_eq(sh->status, SL_SHEET_SKIPPED, "sheet_skipped -> skipped");
	cr_assert(sh->has_completed_at && sh->completed_at_us == now, "completed_at = now");
	cr_assert_str_eq(sh->error_message, "escalation said skip", "message = reason");
	APPLY_OK(ev_sheet(++now, STATELOG__EVENT__BODY_SHEET_SKIPPED, 2), "skipped, no reason");
	cr_assert_str_eq(sl_state_find_sheet(&st, 2)->error_message, "escalation said skip",
			 "no reason leaves the message (as the original)");
}

/* ---- job-level rules ---------------------------------------------------- */

Test(apply, paused_failed_cancelled_clear_the_pid)
{
	static const Statelog__Event__BodyCase types[] = {
		STATELOG__EVENT__BODY_JOB_PAUSED, STATELOG__EVENT__BODY_JOB_FAILED,
		STATELOG__EVENT__BODY_JOB_CANCELLED,
	};
	static const enum sl_job_status want[] = { SL_JOB_PAUSED, SL_JOB_FAILED,
						   SL_JOB_CANCELLED };
	for (size_t i = 0; i < 3; i++) {
		APPLY_OK(ev_pid(++now, 777), "pid_set(777)");
		cr_assert(st.has_pid && st.pid == 777, "pid_set -> pid 777");
		sl_event *ev = ev_job(++now, types[i]);
		const char *name = sl_event_type_name(ev);
		APPLY_OK(ev, name);
		cr_assert_eq(st.status, want[i], "%s -> %s, got %s", name,
			     sl_job_status_name(want[i]), sl_job_status_name(st.status));
		cr_assert(!st.has_pid, "%s clears the pid", name);
		cr_assert_eq(st.has_completed_at, i > 0, "%s: completed_at set iff it ends the job",
			     name);
	}
}

Test(apply, job_failed_and_resumed)
{
	sl_event *ev = ev_job(++now, STATELOG__EVENT__BODY_JOB_FAILED);
	ev->job_failed->message = xs("too many failures");
	APPLY_OK(ev, "job_failed(too many failures)");
	cr_assert_str_eq(st.error_message, "too many failures", "job_failed message");
	cr_assert(st.has_completed_at && st.completed_at_us == now, "completed_at = now");
	APPLY_OK(ev_job(++now, STATELOG__EVENT__BODY_JOB_RESUMED), "job_resumed");
	cr_assert_eq(st.status, SL_JOB_RUNNING, "job_resumed -> running");
	cr_assert(st.has_started_at && st.started_at_us == now && !st.has_completed_at,
		  "job_resumed: started_at set when missing, completed_at cleared");
	APPLY_OK(ev_job(++now, STATELOG__EVENT__BODY_JOB_COMPLETED), "job_completed");
	cr_assert(st.status == SL_JOB_COMPLETED && st.completed_at_us == now,
		  "job_completed -> completed at now");
}

Test(apply, rate_limit_wait_and_execution_recorded)
{
	APPLY_OK(ev_job(++now, STATELOG__EVENT__BODY_RATE_LIMIT_WAIT), "rate_limit_wait");
	APPLY_OK(ev_job(++now, STATELOG__EVENT__BODY_RATE_LIMIT_WAIT), "rate_limit_wait");
	cr_assert_eq(st.rate_limit_waits, 2, "two waits -> rate_limit_waits 2");
	struct sl_job_state before;
	cr_assert_eq(sl_state_copy(&before, &st), SL_OK, "copy");
	sl_event *ev = ev_job(++now, STATELOG__EVENT__BODY_EXECUTION_RECORDED);
	ev->execution_recorded->has_sheet_num = 1;
	ev->execution_recorded->sheet_num = 99;
	ev->execution_recorded->has_attempt_num = 1;
	ev->execution_recorded->attempt_num = 1;
	APPLY_OK(ev, "execution_recorded(sheet 99, attempt 1)");
	/* The original's record_execution() writes a history row only: the
	 * jobs row, updated_at included, is left alone. */
	const char *d = sl_state_first_difference(&before, &st, 0, NULL);
	cr_assert_null(d, "execution_recorded changed %s", d);
	cr_assert_eq(st.updated_at_us, before.updated_at_us,
		     "execution_recorded at %" PRId64 " leaves updated_at at %" PRId64 ", got %" PRId64,
		     now, before.updated_at_us, st.updated_at_us);
	sl_state_free(&before);
}

Test(apply, execution_recorded_needs_sheet_and_attempt)
{
	/* The history row's sheet_num and attempt_num are NOT NULL. */
	sl_event *ev = ev_job(++now, STATELOG__EVENT__BODY_EXECUTION_RECORDED);
	ev->execution_recorded->has_attempt_num = 1;
	ev->execution_recorded->attempt_num = 1;
	expect_refused(ev, SL_EINVAL, "execution_recorded without sheet_num");
	ev = ev_job(++now, STATELOG__EVENT__BODY_EXECUTION_RECORDED);
	ev->execution_recorded->has_sheet_num = 1;
	ev->execution_recorded->sheet_num = 1;
	expect_refused(ev, SL_EINVAL, "execution_recorded without attempt_num");
}

struct zombie_row {
	char existing[16];      /* error_message before */
	bool event_pid;         /* the event carries pid 4321 (state has 1234) */
	char reason[64];
	char want[256];
};

#define ZOMBIE_TEXT(pid) "Recovered from stale running state (PID " pid " no longer " \
	"active). Job is now paused and ready to resume."

ParameterizedTestParameters(apply, zombie_recovered)
{
	static struct zombie_row rows[] = {
		{ NULL_S, false, NULL_S, ZOMBIE_TEXT("1234") },
		{ NULL_S, true, NULL_S, ZOMBIE_TEXT("4321") },
		{ NULL_S, false, "Detected on state load - process no longer running",
		  ZOMBIE_TEXT("1234") " Trigger: Detected on state load - process no longer running" },
		{ NULL_S, false, "", ZOMBIE_TEXT("1234") },
		{ "", false, "x", ZOMBIE_TEXT("1234") " Trigger: x" },
		{ "a real error", false, "x", "a real error" },
	};
	return cr_make_param_array(struct zombie_row, rows, sizeof rows / sizeof rows[0]);
}

ParameterizedTest(struct zombie_row *row, apply, zombie_recovered)
{
	APPLY_OK(ev_sheet(++now, STATELOG__EVENT__BODY_SHEET_STARTED, 1), "sheet_started(1)");
	APPLY_OK(ev_pid(++now, 1234), "pid_set(1234)");
	free(st.error_message);
	st.error_message = xs(arg(row->existing));
	sl_event *ev = ev_job(++now, STATELOG__EVENT__BODY_ZOMBIE_RECOVERED);
	ev->zombie_recovered->has_pid = row->event_pid;
	ev->zombie_recovered->pid = 4321;
	ev->zombie_recovered->reason = xs(arg(row->reason));
	APPLY_OK(ev, "zombie_recovered");
	cr_assert_eq(st.status, SL_JOB_PAUSED, "zombie -> paused");
	cr_assert(!st.has_pid, "zombie clears the pid");
	cr_assert_str_eq(st.error_message, row->want,
			 "existing \"%s\", reason \"%s\": error_message", row->existing,
			 row->reason);
	cr_assert_eq(sl_state_find_sheet(&st, 1)->status, SL_SHEET_IN_PROGRESS,
		     "zombie leaves sheets alone");
	int64_t next = -1;
	cr_assert_eq(sl_state_next_sheet(&next, &st), SL_OK, "next sheet after zombie");
	cr_assert_eq(next, 1, "the in_progress sheet is picked up again");
}

/* ---- fields set --------------------------------------------------------- */

Test(apply, job_fields_set_presence)
{
	st.error_message = xs("old");
	st.has_pid = true;
	st.pid = 5;
	sl_event *ev = ev_job(++now, STATELOG__EVENT__BODY_JOB_FIELDS_SET);
	Statelog__JobFieldsSet *m = ev->job_fields_set;
	m->status = xs("paused_at_chain");
	m->has_total_retry_count = 1;
	m->total_retry_count = 9;
	m->config_snapshot = xs("{}");
	add_cleared(&m->n_cleared, &m->cleared, 10);    /* error_message */
	add_cleared(&m->n_cleared, &m->cleared, 6);     /* config_hash */
	add_cleared(&m->n_cleared, &m->cleared, 55);    /* a newer schema's field */
	APPLY_OK(ev, "job_fields_set(status, retries, snapshot {}; clear 10, 6, 55)");
	cr_assert_eq(st.status, SL_JOB_PAUSED_AT_CHAIN, "status set");
	cr_assert_eq(st.total_retry_count, 9, "total_retry_count set");
	cr_assert_str_eq(st.config_snapshot, "{}", "config_snapshot \"{}\" kept as text");
	cr_assert_null(st.error_message, "error_message cleared");
	cr_assert_null(st.config_hash, "config_hash cleared");
	cr_assert(st.has_pid && st.pid == 5, "absent pid: unchanged");
	cr_assert_str_eq(st.name, "nightly", "absent name: unchanged");
	cr_assert_eq(st.updated_at_us, now, "updated_at = event time");

	ev = ev_job(++now, STATELOG__EVENT__BODY_JOB_FIELDS_SET);
	ev->job_fields_set->has_updated_at_us = 1;
	ev->job_fields_set->updated_at_us = 42;
	ev->job_fields_set->description = xs("desc");
	APPLY_OK(ev, "job_fields_set(updated_at_us 42)");
	cr_assert_eq(st.updated_at_us, 42, "updated_at_us wins over the event time");
	cr_assert_str_eq(st.description, "desc", "description set");
}

/* Extra fields (import of JSON state files): a JSON object of keys no
 * column has, replacing the job's or the sheet's; absent leaves them. */
Test(apply, extra_fields)
{
	sl_event *ev = ev_job(++now, STATELOG__EVENT__BODY_JOB_FIELDS_SET);
	ev->job_fields_set->extra = xs("{\"quota_waits\": 3, \"big\": 1180591620717411303424}");
	APPLY_OK(ev, "job_fields_set(extra)");
	cr_assert_str_eq(st.extra, "{\"quota_waits\": 3, \"big\": 1180591620717411303424}");
	ev = ev_sheet_fields(++now, 2);
	ev->sheet_fields_set->extra = xs("{\"stdout_tail\": \"t\\u0000\", \"x\": NaN}");
	APPLY_OK(ev, "sheet_fields_set(2, extra)");
	const struct sl_sheet_state *sh = sl_state_find_sheet(&st, 2);
	cr_assert_not_null(sh);
	cr_assert_str_eq(sh->extra, "{\"stdout_tail\": \"t\\u0000\", \"x\": NaN}");
	/* Absent: left. */
	ev = ev_job(++now, STATELOG__EVENT__BODY_JOB_FIELDS_SET);
	ev->job_fields_set->total_retry_count = 2;
	ev->job_fields_set->has_total_retry_count = 1;
	APPLY_OK(ev, "job_fields_set without extra");
	cr_assert_str_eq(st.extra, "{\"quota_waits\": 3, \"big\": 1180591620717411303424}");
	/* The JSON form gives them beside the columns. */
	char *json;
	cr_assert_eq(sl_state_to_json(&json, &st), SL_OK);
	cr_assert(strstr(json, "\"rate_limit_waits\": 0, \"quota_waits\": 3, \"big\": "
			 "1180591620717411303424}"), "%s", json);
	cr_assert(strstr(json, "\"exit_reason\": null, \"stdout_tail\": \"t\\u0000\", "
			 "\"x\": NaN}"), "%s", json);
	free(json);

	static const struct { const char *extra; const char *reason; } bad[] = {
		{ "[1]", "expected a JSON object, found" },
		{ "3", "expected a JSON object, found" },
		{ "{\"a\": nan}", "not valid JSON" },
		{ "{\"status\": \"x\"}", "'status' is a column of the job" },
		{ "{\"sheets\": {}}", "'sheets' is a column of the job" },
		{ "{\"job_name\": \"x\"}", "'job_name' is a column of the job" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct sl_refusal why;
		ev = ev_job(++now, STATELOG__EVENT__BODY_JOB_FIELDS_SET);
		ev->job_fields_set->extra = xs(bad[i].extra);
		struct sl_job_state before;
		cr_assert_eq(sl_state_copy(&before, &st), SL_OK);
		int rc = sl_rules_apply(&st, ev, &why);
		sl_event_free(ev);
		cr_assert_eq(rc, SL_EINVAL, "extra %s: rc %d", bad[i].extra, rc);
		cr_assert_str_eq(why.field, "body.extra", "extra %s", bad[i].extra);
		cr_assert(strstr(why.reason, bad[i].reason), "extra %s: %s", bad[i].extra,
			  why.reason);
		cr_assert(sl_state_equal(&before, &st, 0), "refused extra %s changed the job",
			  bad[i].extra);
		sl_state_free(&before);
	}
	ev = ev_sheet_fields(++now, 2);
	ev->sheet_fields_set->extra = xs("{\"error_message\": \"x\"}");
	expect_refused(ev, SL_EINVAL, "a sheet extra naming a sheet column");
	ev = ev_sheet_fields(++now, 2);
	ev->sheet_fields_set->extra = xs("{\"first_attempt_success\": true}");
	expect_refused(ev, SL_EINVAL, "a sheet extra naming the column's older name");
	/* An import's source values: only a JSON object, read by no rule. */
	ev = ev_job(++now, STATELOG__EVENT__BODY_JOB_FIELDS_SET);
	ev->job_fields_set->source = xs("[\"name\"]");
	expect_refused(ev, SL_EINVAL, "source that is not an object");
	ev = ev_sheet_fields(++now, 2);
	ev->sheet_fields_set->source = xs("{\"error_message\": ");
	expect_refused(ev, SL_EINVAL, "source that is not JSON");
	ev = ev_job(++now, STATELOG__EVENT__BODY_JOB_FIELDS_SET);
	ev->job_fields_set->source = xs("{\"name\": \"a\\u0000b\"}");
	APPLY_OK(ev, "job_fields_set with a source");
	cr_assert_str_eq(st.name, "nightly", "a source changes nothing");
}

struct bad_fields_row {
	char what[32];
	uint32_t clear;         /* field to clear, 0 none */
	uint32_t set;           /* field to set too, 0 none */
	char status[16];
	int64_t total;          /* total_sheets to set when != 0 */
};

ParameterizedTestParameters(apply, job_fields_set_refused)
{
	static struct bad_fields_row rows[] = {
		{ "clear name", 1, 0, NULL_S, 0 },
		{ "clear status", 2, 0, NULL_S, 0 },
		{ "clear total_sheets", 3, 0, NULL_S, 0 },
		{ "clear created_at", 16, 0, NULL_S, 0 },
		{ "clear updated_at", 17, 0, NULL_S, 0 },
		{ "clear the cleared list", 100, 0, NULL_S, 0 },
		{ "set and clear pid", 9, 9, NULL_S, 0 },
		{ "bad status", 0, 0, "Running", 0 },
		{ "unknown status", 0, 0, "sleeping", 0 },
		{ "negative total_sheets", 0, 0, NULL_S, -3 },
	};
	return cr_make_param_array(struct bad_fields_row, rows, sizeof rows / sizeof rows[0]);
}

ParameterizedTest(struct bad_fields_row *row, apply, job_fields_set_refused)
{
	sl_event *ev = ev_job(T0 + 1, STATELOG__EVENT__BODY_JOB_FIELDS_SET);
	Statelog__JobFieldsSet *m = ev->job_fields_set;
	m->has_rate_limit_waits = 1;            /* a valid change alongside */
	m->rate_limit_waits = 3;
	if (row->clear)
		add_cleared(&m->n_cleared, &m->cleared, row->clear);
	if (row->set == 9) {
		m->has_pid = 1;
		m->pid = 9;
	}
	m->status = xs(arg(row->status));
	if (row->total) {
		m->has_total_sheets = 1;
		m->total_sheets = row->total;
	}
	expect_refused(ev, SL_EINVAL, row->what);
}

Test(apply, sheet_fields_set_creates_and_clears)
{
	sl_event *ev = ev_sheet_fields(++now, 7);       /* past total_sheets: allowed */
	Statelog__SheetFieldsSet *m = ev->sheet_fields_set;
	m->status = xs("retry_scheduled");
	m->has_confidence_score = 1;
	m->confidence_score = 0.75;
	m->has_success_without_retry = 1;
	m->success_without_retry = 1;
	add_cleared(&m->n_cleared, &m->cleared, 10);    /* passed_validations */
	APPLY_OK(ev, "sheet_fields_set(7: retry_scheduled, 0.75; clear 10)");
	const struct sl_sheet_state *sh = sl_state_find_sheet(&st, 7);
	cr_assert_not_null(sh, "sheet_fields_set creates the row");
	cr_assert_eq(sh->status, SL_SHEET_RETRY_SCHEDULED, "status set");
	cr_assert(sh->has_confidence_score && sh->confidence_score == 0.75, "score set");
	cr_assert(sh->success_without_retry, "success_without_retry set");
	cr_assert_null(sh->passed_validations, "passed_validations cleared to NULL");
	cr_assert_str_eq(sh->failed_validations, "[]", "new row: failed_validations \"[]\"");
	cr_assert_str_eq(sh->learned_patterns, "[]", "new row: learned_patterns \"[]\"");
	cr_assert(sh->attempt_count == 0 && !sh->has_exit_code && !sh->error_message,
		  "new row: other columns at their defaults");

	ev = ev_sheet_fields(++now, 7);
	add_cleared(&ev->sheet_fields_set->n_cleared, &ev->sheet_fields_set->cleared, 3);
	expect_refused(ev, SL_EINVAL, "clear attempt_count (NOT NULL)");
	ev = ev_sheet_fields(++now, 7);
	add_cleared(&ev->sheet_fields_set->n_cleared, &ev->sheet_fields_set->cleared, 1);
	expect_refused(ev, SL_EINVAL, "clear sheet_num (the key)");
	ev = ev_sheet_fields(++now, 7);
	ev->sheet_fields_set->status = xs("done");
	expect_refused(ev, SL_EINVAL, "sheet status \"done\"");
	ev = ev_sheet_fields(++now, 8);
	ev->sheet_fields_set->status = xs("bogus");
	expect_refused(ev, SL_EINVAL, "a refused sheet_fields_set creates no row");
}

Test(apply, config_changed)
{
	sl_event *ev = ev_job(++now, STATELOG__EVENT__BODY_JOB_CONFIG_CHANGED);
	Statelog__JobConfigChanged *m = ev->job_config_changed;
	m->has_total_sheets = 1;
	m->total_sheets = 10;
	m->config_hash = xs("def456");
	add_cleared(&m->n_cleared, &m->cleared, 5);     /* config_path */
	APPLY_OK(ev, "job_config_changed(total 10, hash def456; clear path)");
	cr_assert_eq(st.total_sheets, 10, "total_sheets 3 -> 10");
	cr_assert_str_eq(st.config_hash, "def456", "config_hash set");
	cr_assert_null(st.config_path, "config_path cleared");
	cr_assert_str_eq(st.config_snapshot, "{\"a\": [1, 2]}", "config_snapshot unchanged");
	ev = ev_job(++now, STATELOG__EVENT__BODY_JOB_CONFIG_CHANGED);
	add_cleared(&ev->job_config_changed->n_cleared, &ev->job_config_changed->cleared, 1);
	expect_refused(ev, SL_EINVAL, "config_changed clearing name");
}

/* Every event but execution_recorded (rate_limit_wait_and_execution_recorded). */
Test(apply, every_event_sets_updated_at)
{
	static const Statelog__Event__BodyCase types[] = {
		STATELOG__EVENT__BODY_JOB_PAUSED, STATELOG__EVENT__BODY_JOB_RESUMED,
		STATELOG__EVENT__BODY_RATE_LIMIT_WAIT, STATELOG__EVENT__BODY_JOB_FIELDS_SET, STATELOG__EVENT__BODY_JOB_CONFIG_CHANGED,
		STATELOG__EVENT__BODY_ZOMBIE_RECOVERED, STATELOG__EVENT__BODY_JOB_COMPLETED,
		STATELOG__EVENT__BODY_JOB_FAILED, STATELOG__EVENT__BODY_JOB_CANCELLED,
		STATELOG__EVENT__BODY_JOB_DELETED,
	};
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
		now += 1000;
		sl_event *ev = ev_job(now, types[i]);
		char name[64];
		snprintf(name, sizeof name, "%s", sl_event_type_name(ev));
		APPLY_OK(ev, name);
		cr_assert_eq(st.updated_at_us, now, "%s: updated_at = event time", name);
	}
	static const Statelog__Event__BodyCase sheet_types[] = {
		STATELOG__EVENT__BODY_SHEET_STARTED, STATELOG__EVENT__BODY_SHEET_COMPLETED,
		STATELOG__EVENT__BODY_SHEET_FAILED, STATELOG__EVENT__BODY_SHEET_SKIPPED,
	};
	APPLY_OK(ev_created(now += 1000, "again", 2), "job_created");
	for (size_t i = 0; i < 4; i++) {
		now += 1000;
		APPLY_OK(ev_sheet(now, sheet_types[i], 1), "sheet event");
		cr_assert_eq(st.updated_at_us, now, "sheet event %zu: updated_at = event time", i);
	}
	APPLY_OK(ev_pid(now += 1000, 3), "pid_set");
	cr_assert_eq(st.updated_at_us, now, "pid_set: updated_at = event time");
}

/* ---- next sheet and zombies --------------------------------------------- */

struct next_row {
	enum sl_job_status status;
	int64_t total, last_completed, current;  /* current 0: NULL */
	char sheets[8];                           /* as in completion_row, 'I' in_progress */
	int64_t want;                             /* 0: none */
};

ParameterizedTestParameters(apply, next_sheet)
{
	static struct next_row rows[] = {
		{ SL_JOB_COMPLETED, 3, 0, 0, "", 0 },           /* completed: none */
		{ SL_JOB_CANCELLED, 3, 1, 0, "C", 0 },          /* cancelled: none */
		{ SL_JOB_RUNNING, 3, 1, 3, "CPI", 3 },          /* resume in_progress current */
		{ SL_JOB_PAUSED, 3, 1, 3, "CPC", 2 },           /* current not in_progress */
		{ SL_JOB_RUNNING, 3, 1, 2, "C", 2 },            /* current has no row */
		{ SL_JOB_PENDING, 3, 0, 0, "", 1 },             /* no rows: 1 */
		{ SL_JOB_RUNNING, 4, 1, 0, "CC.", 3 },          /* first missing after last */
		{ SL_JOB_RUNNING, 4, 1, 0, "CCSP", 4 },         /* skipped is passed over */
		{ SL_JOB_FAILED, 4, 2, 0, "CCF", 3 },           /* failed is retried */
		{ SL_JOB_RUNNING, 4, 2, 0, "PCCC", 0 },         /* pending before last: ignored */
		{ SL_JOB_RUNNING, 3, 3, 0, "CCC", 0 },          /* none left */
		{ SL_JOB_RUNNING, 3, 0, 0, "IXW", 0 },          /* in_progress (not current), cancelled, waiting */
		{ SL_JOB_PAUSED, 3, 0, 1, "I", 1 },             /* paused with in_progress current */
		{ SL_JOB_RUNNING, 0, 0, 0, "", 0 },             /* no sheets at all */
		{ SL_JOB_RUNNING, 3, 5, 0, "", 0 },             /* last past total */
	};
	return cr_make_param_array(struct next_row, rows, sizeof rows / sizeof rows[0]);
}

ParameterizedTest(struct next_row *row, apply, next_sheet)
{
	st.status = row->status;
	st.total_sheets = row->total;
	st.last_completed_sheet = row->last_completed;
	st.has_current_sheet = row->current != 0;
	st.current_sheet = row->current;
	set_sheets(row->sheets);
	int64_t next = -1;
	cr_assert_eq(sl_state_next_sheet(&next, &st), SL_OK, "next_sheet on a live job");
	cr_assert_eq(next, row->want,
		     "job %s, total %" PRId64 ", last %" PRId64 ", current %" PRId64
		     ", sheets \"%s\": next %" PRId64 ", want %" PRId64,
		     sl_job_status_name(row->status), row->total, row->last_completed,
		     row->current, row->sheets, next, row->want);
}

Test(apply, next_sheet_of_no_job_is_for_the_caller)
{
	struct sl_job_state none;
	sl_state_init(&none);
	int64_t next = -1;
	cr_assert_eq(sl_state_next_sheet(&next, &none), SL_EINVAL, "next_sheet of an absent job");
	cr_assert_eq(next, -1, "*out untouched on failure");
}

static bool fake_alive(int64_t pid, void *ctx)
{
	(void)ctx;
	return pid == 100;
}

Test(apply, is_zombie)
{
	st.status = SL_JOB_RUNNING;
	cr_assert(!sl_state_is_zombie(&st, fake_alive, NULL), "running without pid: not a zombie");
	st.has_pid = true;
	st.pid = 100;
	cr_assert(!sl_state_is_zombie(&st, fake_alive, NULL), "running, pid alive: not a zombie");
	st.pid = 101;
	cr_assert(sl_state_is_zombie(&st, fake_alive, NULL), "running, pid dead: zombie");
	st.status = SL_JOB_PAUSED;
	cr_assert(!sl_state_is_zombie(&st, fake_alive, NULL), "paused, pid dead: not a zombie");
}

Test(apply, pid_alive_asks_the_kernel)
{
	cr_assert(sl_state_pid_alive(getpid(), NULL), "our own pid %d is alive", (int)getpid());
	cr_assert(sl_state_pid_alive(1, NULL), "pid 1 exists (EPERM counts as alive)");
	cr_assert(!sl_state_pid_alive(0, NULL), "pid 0 is no process");
	cr_assert(!sl_state_pid_alive(-1, NULL), "pid -1 is no process");
	cr_assert(!sl_state_pid_alive(INT64_C(1) << 40, NULL), "pid 2^40 is no process");
}

/* ---- state helpers and the catalogue ------------------------------------ */

Test(apply, copy_equal_and_first_difference)
{
	APPLY_OK(ev_sheet(++now, STATELOG__EVENT__BODY_SHEET_STARTED, 2), "sheet_started(2)");
	struct sl_job_state c;
	cr_assert_eq(sl_state_copy(&c, &st), SL_OK, "copy");
	cr_assert(sl_state_equal(&c, &st, 0), "a copy is equal");
	struct sl_sheet_state *sh = sl_state_find_sheet(&c, 2);
	free(sh->learned_patterns);
	sh->learned_patterns = NULL;
	int64_t n = 0;
	const char *d = sl_state_first_difference(&st, &c, 0, &n);
	cr_assert(d && strcmp(d, "learned_patterns") == 0 && n == 2,
		  "\"[]\" vs NULL in sheet 2 differ: got %s in sheet %" PRId64, d, n);
	sl_state_free(&c);
	cr_assert_eq(sl_state_copy(&c, &st), SL_OK, "copy again");
	c.updated_at_us++;
	cr_assert(!sl_state_equal(&c, &st, 0), "updated_at differs");
	cr_assert(sl_state_equal(&c, &st, SL_STATE_IGNORE_UPDATED_AT), "unless ignored");
	sl_state_free(&c);
	sl_state_free(NULL);
	sl_sheet_free(NULL);
}

Test(apply, sheets_stay_sorted)
{
	static const int64_t order[] = { 5, 1, 100, 3, 2, 50, 4 };
	struct sl_sheet_state *sh;
	for (size_t i = 0; i < 7; i++) {
		cr_assert_eq(sl_state_add_sheet(&sh, &st, order[i]), SL_OK, "add %" PRId64, order[i]);
		cr_assert_eq(sh->sheet_num, order[i], "add returns sheet %" PRId64, order[i]);
	}
	cr_assert_eq(sl_state_add_sheet(&sh, &st, 3), SL_OK, "add an existing sheet");
	cr_assert_eq(st.n_sheets, 7, "adding an existing sheet adds no row");
	for (size_t i = 1; i < st.n_sheets; i++)
		cr_assert_lt(st.sheets[i - 1].sheet_num, st.sheets[i].sheet_num, "sorted at %zu", i);
	cr_assert_null(sl_state_find_sheet(&st, 6), "no sheet 6");
	cr_assert_eq(sl_state_find_sheet(&st, 50)->sheet_num, 50, "find 50");
	cr_assert_eq(sl_state_add_sheet(&sh, &st, 0), SL_EINVAL, "sheet 0 is refused");
}

Test(apply, catalogue_matches_the_events)
{
	const struct {
		const struct sl_state_column *cols;
		size_t n;
		const ProtobufCMessageDescriptor *desc;
	} tables[] = {
		{ sl_state_job_columns, SL_STATE_N_JOB_COLUMNS, &statelog__job_fields_set__descriptor },
		{ sl_state_sheet_columns, SL_STATE_N_SHEET_COLUMNS,
		  &statelog__sheet_fields_set__descriptor },
	};
	for (size_t t = 0; t < 2; t++)
		for (size_t i = 0; i < tables[t].n; i++) {
			const struct sl_state_column *c = &tables[t].cols[i];
			if (c->field == 0)
				continue;
			const ProtobufCFieldDescriptor *fd =
				protobuf_c_message_descriptor_get_field(tables[t].desc, c->field);
			cr_assert_not_null(fd, "column %s: field %u exists", c->name, c->field);
			char want[64];
			snprintf(want, sizeof want, "%s%s", c->name, c->type == SL_COL_TIME ? "_us" : "");
			cr_assert_str_eq(fd->name, want, "column %s is field %u", c->name, c->field);
			ProtobufCType pt = c->type == SL_COL_REAL ? PROTOBUF_C_TYPE_DOUBLE
					   : c->type == SL_COL_BOOL ? PROTOBUF_C_TYPE_BOOL
					   : c->type == SL_COL_INT || c->type == SL_COL_TIME
					   ? PROTOBUF_C_TYPE_INT64 : PROTOBUF_C_TYPE_STRING;
			cr_assert_eq(fd->type, pt, "column %s: protobuf type %d", c->name, fd->type);
		}
	cr_assert_eq(tables[1].desc->n_fields, SL_STATE_N_SHEET_COLUMNS + 3,
		     "every SheetFieldsSet field has a column (plus cleared, extra, source)");
	cr_assert_eq(tables[0].desc->n_fields, SL_STATE_N_JOB_COLUMNS + 2,
		     "every JobFieldsSet field has a column (id has none; plus cleared, extra, "
		     "source)");
}

/* model_internal.h names the catalogue's positions; they must be right. */
Test(apply, catalogue_positions)
{
	static const struct { int index; const char *name; } jobs[] = {
		{ SL_JC_ID, "id" }, { SL_JC_NAME, "name" }, { SL_JC_DESCRIPTION, "description" },
		{ SL_JC_STATUS, "status" }, { SL_JC_TOTAL_SHEETS, "total_sheets" },
		{ SL_JC_LAST_COMPLETED_SHEET, "last_completed_sheet" },
		{ SL_JC_CURRENT_SHEET, "current_sheet" }, { SL_JC_CONFIG_HASH, "config_hash" },
		{ SL_JC_CONFIG_SNAPSHOT, "config_snapshot" }, { SL_JC_PID, "pid" },
		{ SL_JC_ERROR_MESSAGE, "error_message" },
		{ SL_JC_TOTAL_RETRY_COUNT, "total_retry_count" },
		{ SL_JC_RATE_LIMIT_WAITS, "rate_limit_waits" }, { SL_JC_CREATED_AT, "created_at" },
		{ SL_JC_UPDATED_AT, "updated_at" }, { SL_JC_STARTED_AT, "started_at" },
		{ SL_JC_COMPLETED_AT, "completed_at" }, { SL_JC_CONFIG_PATH, "config_path" },
	};
	static const struct { int index; const char *name; } sheets[] = {
		{ SL_SC_SHEET_NUM, "sheet_num" }, { SL_SC_STATUS, "status" },
		{ SL_SC_ATTEMPT_COUNT, "attempt_count" }, { SL_SC_EXIT_CODE, "exit_code" },
		{ SL_SC_ERROR_MESSAGE, "error_message" }, { SL_SC_ERROR_CATEGORY, "error_category" },
		{ SL_SC_VALIDATION_PASSED, "validation_passed" },
		{ SL_SC_VALIDATION_DETAILS, "validation_details" },
		{ SL_SC_COMPLETION_ATTEMPTS, "completion_attempts" },
		{ SL_SC_PASSED_VALIDATIONS, "passed_validations" },
		{ SL_SC_FAILED_VALIDATIONS, "failed_validations" },
		{ SL_SC_LAST_PASS_PERCENTAGE, "last_pass_percentage" },
		{ SL_SC_EXECUTION_MODE, "execution_mode" }, { SL_SC_OUTCOME_DATA, "outcome_data" },
		{ SL_SC_CONFIDENCE_SCORE, "confidence_score" },
		{ SL_SC_LEARNED_PATTERNS, "learned_patterns" },
		{ SL_SC_SIMILAR_OUTCOMES_COUNT, "similar_outcomes_count" },
		{ SL_SC_SUCCESS_WITHOUT_RETRY, "success_without_retry" },
		{ SL_SC_OUTCOME_CATEGORY, "outcome_category" }, { SL_SC_STARTED_AT, "started_at" },
		{ SL_SC_COMPLETED_AT, "completed_at" },
		{ SL_SC_EXECUTION_DURATION_SECONDS, "execution_duration_seconds" },
		{ SL_SC_EXIT_SIGNAL, "exit_signal" }, { SL_SC_EXIT_REASON, "exit_reason" },
	};
	cr_assert_eq(sizeof jobs / sizeof jobs[0], SL_STATE_N_JOB_COLUMNS, "every job column");
	cr_assert_eq(sizeof sheets / sizeof sheets[0], SL_STATE_N_SHEET_COLUMNS, "every sheet column");
	for (size_t i = 0; i < SL_STATE_N_JOB_COLUMNS; i++)
		cr_assert_str_eq(sl_state_job_columns[jobs[i].index].name, jobs[i].name,
				 "job column %d", jobs[i].index);
	for (size_t i = 0; i < SL_STATE_N_SHEET_COLUMNS; i++)
		cr_assert_str_eq(sl_state_sheet_columns[sheets[i].index].name, sheets[i].name,
				 "sheet column %d", sheets[i].index);
}

Test(apply, status_names)
{
	for (int s = 0; s < SL_JOB_STATUS_COUNT; s++) {
		enum sl_job_status back;
		cr_assert_eq(sl_job_status_from_name(&back, sl_job_status_name(s)), SL_OK,
			     "job status %d", s);
		cr_assert_eq((int)back, s, "job status %s round trip", sl_job_status_name(s));
	}
	for (int s = 0; s < SL_SHEET_STATUS_COUNT; s++) {
		enum sl_sheet_status back;
		cr_assert_eq(sl_sheet_status_from_name(&back, sl_sheet_status_name(s)), SL_OK,
			     "sheet status %d", s);
		cr_assert_eq((int)back, s, "sheet status %s round trip", sl_sheet_status_name(s));
	}
	cr_assert_str_eq(sl_sheet_status_name(SL_SHEET_RETRY_SCHEDULED), "retry_scheduled", "name");
	enum sl_job_status js;
	cr_assert_eq(sl_job_status_from_name(&js, "RUNNING"), SL_EINVAL, "names are lower-case");
	cr_assert_eq(sl_job_status_from_name(&js, NULL), SL_EINVAL, "NULL is no name");
}

/* A snapshot's image keeps the extras (image version 2). */
Test(apply, image_keeps_extra_fields)
{
	st.extra = xs("{\"quota_waits\": 3}");
	struct sl_sheet_state *sh;
	cr_assert_eq(sl_state_add_sheet(&sh, &st, 2), SL_OK);
	sh->extra = xs("{\"stdout_tail\": \"t\\u0000\"}");
	cr_assert_eq(sl_state_add_sheet(&sh, &st, 3), SL_OK);
	uint8_t *img;
	size_t len;
	cr_assert_eq(sl_image_encode(&img, &len, &st), SL_OK);
	struct sl_job_state back;
	cr_assert_eq(sl_image_decode(&back, img, len), SL_OK);
	cr_assert(sl_state_equal(&st, &back, 0), "%s differs",
		  sl_state_first_difference(&st, &back, 0, NULL));
	cr_assert_str_eq(back.extra, "{\"quota_waits\": 3}");
	cr_assert_null(sl_state_find_sheet(&back, 3)->extra);
	sl_state_free(&back);
	free(img);
}
