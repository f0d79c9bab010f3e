/* test_doors.c: one rules function at every door.  For every row of the
 * rules' table (rule_rows.h: every event type, every reason to refuse one)
 * the event is put through each door of the program on a log whose job is
 * in the row's state:
 *   - the backend, sl_backend_append() (what `statelog append` calls, and
 *     the check every call of the API makes through sl_rules_check*());
 *   - the projector: the event appended with the log API alone (as a C
 *     program linking only the log may), then caught up by sl_proj_catch_up();
 * and each must accept or refuse it as the table says, with the table's
 * code, field and reason.  The one check the doors add to the rules is the
 * clock (an event time more than a day ahead, sl_rules_check_time()): rows
 * whose event lies beyond it must be refused by the backend for exactly
 * that, and keep the table's answer in the projector, which has no clock.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "event_internal.h"
#include "event_json.h"
#include "proj_helpers.h"
#include "projector.h"
#include "rule_rows.h"
#include "timefmt.h"

static sl_event *parse(const char *json)
{
	sl_event *ev = NULL;
	char err[256] = "";
	cr_assert_eq(sl_event_from_json(&ev, json, strlen(json), err, sizeof err), SL_OK,
		     "the test's event %s does not parse: %s", json, err);
	return ev;
}

ParameterizedTestParameters(doors, every_event_every_reason)
{
	static struct rule_row rows[N_RULE_ROWS];
	memcpy(rows, rule_rows, sizeof rows);
	return cr_make_param_array(struct rule_row, rows, N_RULE_ROWS);
}

ParameterizedTest(struct rule_row *row, doors, every_event_every_reason)
{
	sl_event *ev = parse(row->event);
	/* The table's envelope rows pair an event with a state of another job
	 * or give it no time: a door reads the state of the event's own job and
	 * has the log time what it appends, so they say nothing about doors. */
	if (strcmp(sl_event_job_id(ev), "j") != 0 || !ev->has_time_us) {
		sl_event_free(ev);
		return;
	}
	char *dir = ph_tmpdir();
	char *logdir = ph_path(dir, "s.log"), *db = ph_path(dir, "s.db");
	char what[520];
	snprintf(what, sizeof what, "state %c, %s", row->state, row->event);

	/* ---- the backend ---- */
	struct sl_backend_options bo;
	sl_backend_options_init(&bo);
	bo.create = true;
	bo.durability = SL_DURABLE_NONE;
	bo.db_path = db;
	sl_backend *be;
	char err[512] = "";
	cr_assert_eq(sl_backend_open(&be, logdir, &bo, err, sizeof err), SL_OK, "%s", err);
	for (const char *const *e = rule_state_events[row->state - 'A']; *e; e++) {
		sl_event *se = parse(*e);
		cr_assert_eq(sl_backend_append(NULL, be, &se, 1), SL_OK, "%s: setting up: %s", what,
			     sl_backend_errmsg(be));
		sl_event_free(se);
	}
	uint64_t before = sl_backend_last_seq(be);
	bool ahead = ev->time_us > sl_time_now_us() + SL_RULES_FUTURE_WINDOW_US;
	int rc = sl_backend_append(NULL, be, &ev, 1);
	const char *msg = sl_backend_errmsg(be);
	if (ahead) {
		cr_assert_eq(rc, SL_EINVAL, "%s: the backend took a time ahead of the clock", what);
		cr_assert(strstr(msg, "time_us: ") && strstr(msg, "ahead of the clock"),
			  "%s: backend: %s", what, msg);
	} else {
		cr_assert_eq(rc, row->code, "%s: the backend: rc %d (%s), the rules %d", what, rc,
			     msg, row->code);
		if (rc != SL_OK) {
			char want[320];
			snprintf(want, sizeof want, "%s: %s", row->field, row->reason);
			cr_assert(strstr(msg, want), "%s: the backend says '%s', not '%s'", what, msg,
				  want);
		}
	}
	if (rc != SL_OK)
		cr_assert_eq(sl_backend_last_seq(be), before, "%s: refused, yet appended", what);
	cr_assert_eq(sl_backend_close(be), SL_OK);

	/* ---- the projector, after the log API alone appended it ---- */
	if (rc != SL_OK) {
		sl_log *log = ph_log(logdir);
		sl_event *raw = parse(row->event);
		int lrc = sl_log_append(log, &raw, 1, NULL);
		if (lrc != SL_OK) {
			/* The log keeps its own times in order and within the
			 * years a date can be written in: such an event never gets
			 * into a log, whoever writes it. */
			cr_assert_eq(lrc, SL_EINVAL, "%s: the log: %s", what, sl_log_errmsg(log));
			cr_assert_str_eq(row->field, "time_us", "%s: the log refused it (%s), the "
					 "rules for %s", what, sl_log_errmsg(log), row->field);
		}
		sl_event_free(raw);
		cr_assert_eq(sl_log_close(log), SL_OK);
		if (lrc != SL_OK)
			goto done;
	}
	sl_proj *p;
	struct sl_proj_stats st;
	memset(&st, 0, sizeof st);
	cr_assert_eq(sl_proj_open(&p, logdir, db, NULL, NULL, err, sizeof err), SL_OK, "%s", err);
	cr_assert_eq(sl_proj_catch_up(p, &st), SL_OK, "%s: %s", what, sl_proj_errmsg(p));
	if (row->code == SL_OK) {
		cr_assert_eq(st.rejected_events, 0, "%s: the projector refused it: %s: %s", what,
			     st.first_refusal.field, st.first_refusal.reason);
	} else {
		cr_assert_eq(st.rejected_events, 1, "%s: the projector took it", what);
		cr_assert_eq(st.first_refusal.code, row->code, "%s: the projector's code %d", what,
			     st.first_refusal.code);
		cr_assert_str_eq(st.first_refusal.field, row->field, "%s: the projector's field",
				 what);
		cr_assert_str_eq(st.first_refusal.reason, row->reason, "%s: the projector's reason",
				 what);
	}
	cr_assert_eq(sl_proj_close(p), SL_OK);
done:
	sl_event_free(ev);
	free(logdir);
	free(db);
	ph_rmrf(dir);
}
