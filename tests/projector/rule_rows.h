/* rule_rows.h: the table of events and the answers the rules give them,
 * shared by test_rules.c (every entry point of the rules) and test_doors.c
 * (every door of the program: the backend, `statelog append`, the
 * projector).  Included by one .c file of each test program. */
#ifndef SL_TEST_RULE_ROWS_H
#define SL_TEST_RULE_ROWS_H

#include <stddef.h>
#include <stdint.h>

#include "sl_error.h"

#define T0 INT64_C(1764125378504474)            /* 2025-11-26T02:49:38.504474 */
#define T0_TEXT "2025-11-26T02:49:38.504474+00:00"
#define TEV "1764125378504484"                  /* T0 + 10: the events' time */
#define TEV_US (T0 + 10)
#define X_US INT64_C(1764000000000000)          /* a time events carry as a value */
#define X "1764000000000000"

#define EV(type, body) "{\"job_id\": \"j\", \"type\": \"" type "\", \"time_us\": " TEV \
	", \"body\": {" body "}}"
#define EV0(type) EV(type, "")

/* The states events are tried on:
 *   'A' absent (sl_state_init());
 *   'P' job j created at T0, pending, 3 sheets, no sheet rows;
 *   'L' P, then sheet 1 started at T0+1 (job running since T0+1);
 *   'D' L, then deleted at T0+2;
 *   'F' L, then sheet 1 failed at T0+2 and the job failed at T0+3.
 * Each as the JSON lines of its events, in order (NULL-terminated). */
static const char *const rule_state_events[][5] = {
	['A' - 'A'] = { NULL },
	['P' - 'A'] = {
		"{\"job_id\": \"j\", \"type\": \"job_created\", \"time_us\": 1764125378504474,"
		" \"body\": {\"name\": \"nightly\", \"total_sheets\": 3}}", NULL },
	['L' - 'A'] = {
		"{\"job_id\": \"j\", \"type\": \"job_created\", \"time_us\": 1764125378504474,"
		" \"body\": {\"name\": \"nightly\", \"total_sheets\": 3}}",
		"{\"job_id\": \"j\", \"type\": \"sheet_started\", \"time_us\": 1764125378504475,"
		" \"body\": {\"sheet_num\": 1}}", NULL },
	['D' - 'A'] = {
		"{\"job_id\": \"j\", \"type\": \"job_created\", \"time_us\": 1764125378504474,"
		" \"body\": {\"name\": \"nightly\", \"total_sheets\": 3}}",
		"{\"job_id\": \"j\", \"type\": \"sheet_started\", \"time_us\": 1764125378504475,"
		" \"body\": {\"sheet_num\": 1}}",
		"{\"job_id\": \"j\", \"type\": \"job_deleted\", \"time_us\": 1764125378504476}", NULL },
	['F' - 'A'] = {
		"{\"job_id\": \"j\", \"type\": \"job_created\", \"time_us\": 1764125378504474,"
		" \"body\": {\"name\": \"nightly\", \"total_sheets\": 3}}",
		"{\"job_id\": \"j\", \"type\": \"sheet_started\", \"time_us\": 1764125378504475,"
		" \"body\": {\"sheet_num\": 1}}",
		"{\"job_id\": \"j\", \"type\": \"sheet_failed\", \"time_us\": 1764125378504476,"
		" \"body\": {\"sheet_num\": 1, \"message\": \"boom\"}}",
		"{\"job_id\": \"j\", \"type\": \"job_failed\", \"time_us\": 1764125378504477,"
		" \"body\": {\"message\": \"gave up\"}}", NULL },
};

/* ---- the table: every event type, accepted and refused ------------------ */

struct rule_row {
	char state;
	char event[420];
	int code;
	char field[40];
	char reason[240];
};

#define OK(state, event) { state, event, SL_OK, "", "" }
#define NO(state, event, field, reason) { state, event, SL_EINVAL, field, reason }

#define SHEET_STATUSES "pending, ready, dispatched, in_progress, waiting, retry_scheduled, " \
	"fermata, completed, failed, skipped, cancelled"
#define ERROR_CATEGORIES "rate_limit, transient, validation, auth, network, timeout, " \
	"signal, fatal, configuration, preflight, escalation"
#define OUT_OF_RANGE "253402300800000000"

static const struct rule_row rule_rows[] = {
	/* the envelope */
	NO('L', "{\"job_id\": \"other\", \"type\": \"job_paused\", \"time_us\": " TEV
	   ", \"body\": {}}",
	   "job_id", "the event is for job 'other', the state is job 'j'"),
	NO('L', "{\"job_id\": \"j\", \"type\": \"job_paused\", \"body\": {}}", "time_us",
	   "the event has no time"),
	NO('L', "{\"job_id\": \"j\", \"type\": \"pid_set\", \"time_us\": 9223372036854775807,"
	   " \"body\": {\"pid\": 1}}", "time_us",
	   "time_us 9223372036854775807 us is outside the years 0001..9999"),
	NO('L', "{\"job_id\": \"j\", \"type\": \"job_paused\", \"time_us\": "
	   "-62135596800000001, \"body\": {}}", "time_us",
	   "time_us -62135596800000001 us is outside the years 0001..9999"),
	OK('L', "{\"job_id\": \"j\", \"type\": \"rate_limit_wait\", \"time_us\": "
	   "253402300799999999, \"body\": {\"wait_seconds\": 1.5}}"),
	/* job_created */
	OK('A', EV("job_created", "\"name\": \"n\", \"total_sheets\": 2")),
	OK('D', EV("job_created", "\"name\": \"again\", \"total_sheets\": 1, "
		   "\"config_snapshot\": \"{\\\"a\\\": NaN}\"")),
	{ 'L', EV("job_created", "\"name\": \"n\", \"total_sheets\": 2"), SL_EEXIST, "job_id",
	  "job 'j' already exists (created at " T0_TEXT ")" },
	NO('A', EV("job_created", "\"total_sheets\": 2"), "body.name",
	   "a job_created needs a name"),
	NO('A', EV("job_created", "\"name\": \"n\""), "body.total_sheets",
	   "a job_created needs total_sheets"),
	NO('A', EV("job_created", "\"name\": \"n\", \"total_sheets\": 0"), "body.total_sheets",
	   "total_sheets 0 is below 1"),
	NO('D', EV("job_created", "\"name\": \"n\", \"total_sheets\": -1"), "body.total_sheets",
	   "total_sheets -1 is below 1"),
	NO('A', EV("job_created", "\"name\": \"n\", \"total_sheets\": 1, "
		   "\"config_snapshot\": \"[]\""), "body.config_snapshot",
	   "config_snapshot is a list, not an object"),
	NO('A', EV("job_created", "\"name\": \"n\", \"total_sheets\": 1, "
		   "\"created_at_us\": " OUT_OF_RANGE), "body.created_at_us",
	   "created_at " OUT_OF_RANGE " us is outside the years 0001..9999"),
	/* an event for a job that does not exist */
	{ 'A', EV0("job_paused"), SL_ENOTFOUND, "job_id", "no job 'j'" },
	NO('L', EV("job_fields_set", "\"pid\": 5, \"cleared\": [\"pid\"]"), "body.pid",
	   "pid is both set and cleared"),
	NO('L', EV("job_fields_set", "\"cleared\": [\"pid\"], \"pid\": 5"), "body.pid",
	   "pid is both set and cleared"),
	{ 'A', EV("pid_set", "\"pid\": 1"), SL_ENOTFOUND, "job_id", "no job 'j'" },
	{ 'A', EV("execution_recorded", "\"sheet_num\": 1, \"attempt_num\": 1"), SL_ENOTFOUND,
	  "job_id", "no job 'j'" },
	{ 'D', EV("sheet_started", "\"sheet_num\": 1"), SL_ENOTFOUND, "job_id",
	  "no job 'j' (it was deleted at 2025-11-26T02:49:38.504476+00:00)" },
	{ 'D', EV0("job_deleted"), SL_ENOTFOUND, "job_id",
	  "no job 'j' (it was deleted at 2025-11-26T02:49:38.504476+00:00)" },
	{ 'D', EV("job_fields_set", "\"status\": \"running\""), SL_ENOTFOUND, "job_id",
	  "no job 'j' (it was deleted at 2025-11-26T02:49:38.504476+00:00)" },
	/* job_config_changed */
	OK('L', EV("job_config_changed", "\"total_sheets\": 5, \"config_hash\": \"h\"")),
	NO('L', EV("job_config_changed", "\"total_sheets\": 0"), "body.total_sheets",
	   "total_sheets 0 is below 1"),
	NO('L', EV("job_config_changed", "\"config_snapshot\": \"[1, 2]\""),
	   "body.config_snapshot", "config_snapshot is a list, not an object"),
	NO('L', EV("job_config_changed", "\"cleared\": [\"name\"]"), "body.cleared",
	   "name cannot be NULL (a NOT NULL column)"),
	NO('L', EV("job_config_changed", "\"cleared\": [\"total_sheets\"]"), "body.cleared",
	   "total_sheets cannot be NULL (a NOT NULL column)"),
	/* pid_set */
	OK('L', EV("pid_set", "\"pid\": 1")),
	NO('L', EV("pid_set", "\"pid\": -1"), "body.pid", "pid -1 is not a process id"),
	NO('L', EV("pid_set", "\"pid\": 0"), "body.pid", "pid 0 is not a process id"),
	NO('L', EV("pid_set", "\"pid\": 4294967296"), "body.pid",
	   "pid 4294967296 is not a process id"),
	NO('L', EV0("pid_set"), "body.pid", "a pid_set needs a pid"),
	/* sheet_started */
	OK('L', EV("sheet_started", "\"sheet_num\": 3")),
	NO('L', EV0("sheet_started"), "body.sheet_num", "the event names no sheet"),
	NO('L', EV("sheet_started", "\"sheet_num\": 0"), "body.sheet_num",
	   "sheet 0 is below 1"),
	OK('L', EV("sheet_started", "\"sheet_num\": 4")),
	/* sheet_completed */
	OK('L', EV("sheet_completed", "\"sheet_num\": 1, \"validation_details\": "
		   "\"[{\\\"passed\\\": \\\"yes\\\", \\\"confidence\\\": NaN}]\"")),
	OK('L', EV("sheet_completed", "\"sheet_num\": 9")),
	NO('L', EV("sheet_completed", "\"sheet_num\": 1, \"validation_details\": "
		   "\"[{\\\"rule\\\": \\\"lint\\\", \\\"ok\\\": true}]\""),
	   "body.validation_details", "validation_details item 0 has no 'passed'"),
	NO('L', EV("sheet_completed", "\"sheet_num\": 1, \"validation_details\": "
		   "\"{\\\"passed\\\": true}\""),
	   "body.validation_details", "validation_details is an object, not a list"),
	/* sheet_failed */
	OK('L', EV("sheet_failed", "\"sheet_num\": 1, \"category\": \"bogus\", "
		   "\"exit_reason\": \"killed\", \"exit_signal\": 9")),
	NO('L', EV("sheet_failed", "\"sheet_num\": 1, \"exit_reason\": \"signal\""),
	   "body.exit_reason",
	   "exit_reason 'signal' is not an ExitReason (completed, timeout, killed, error)"),
	NO('L', EV("sheet_failed", "\"sheet_num\": -2"), "body.sheet_num",
	   "sheet -2 is below 1"),
	/* sheet_skipped */
	OK('L', EV("sheet_skipped", "\"sheet_num\": 2, \"reason\": \"not needed\"")),
	NO('L', EV("sheet_skipped", "\"reason\": \"x\""), "body.sheet_num",
	   "the event names no sheet"),
	/* the job's lifecycle: refused only by the envelope */
	OK('L', EV("job_paused", "\"reason\": \"operator\"")),
	OK('F', EV0("job_resumed")),
	OK('L', EV("job_failed", "\"message\": \"gave up\"")),
	OK('L', EV0("job_completed")),
	OK('L', EV("job_cancelled", "\"reason\": \"no longer needed\"")),
	OK('L', EV("zombie_recovered", "\"pid\": 4242, \"reason\": \"on load\"")),
	OK('L', EV0("job_deleted")),
	OK('L', EV("rate_limit_wait", "\"wait_seconds\": 30, \"sheet_num\": 99")),
	OK('L', EV("rate_limit_wait", "\"wait_seconds\": 0")),
	NO('L', EV("rate_limit_wait", "\"wait_seconds\": -1"), "body.wait_seconds",
	   "a wait of -1 seconds"),
	NO('L', EV("rate_limit_wait", "\"wait_seconds\": \"Infinity\""), "body.wait_seconds",
	   "a wait of inf seconds"),
	NO('L', EV("rate_limit_wait", "\"wait_seconds\": 1, \"sheet_num\": 0"),
	   "body.sheet_num", "sheet 0 is below 1"),
	{ 'A', EV0("job_resumed"), SL_ENOTFOUND, "job_id", "no job 'j'" },
	{ 'A', EV0("zombie_recovered"), SL_ENOTFOUND, "job_id", "no job 'j'" },
	/* execution_recorded */
	OK('L', EV("execution_recorded", "\"sheet_num\": 42, \"attempt_num\": -1")),
	NO('L', EV("execution_recorded", "\"attempt_num\": 1"), "body.sheet_num",
	   "an execution_recorded needs sheet_num"),
	NO('L', EV("execution_recorded", "\"sheet_num\": 1"), "body.attempt_num",
	   "an execution_recorded needs attempt_num"),
	/* job_fields_set */
	OK('L', EV("job_fields_set", "\"status\": \"paused\", \"total_sheets\": 4, "
		   "\"config_snapshot\": \"\", \"cleared\": [\"error_message\"]")),
	NO('L', EV("job_fields_set", "\"status\": \"Running\""), "body.status",
	   "status 'Running' is not a JobStatus (pending, running, completed, failed, paused, "
	   "paused_at_chain, cancelled)"),
	NO('L', EV("job_fields_set", "\"total_sheets\": 0"), "body.total_sheets",
	   "total_sheets 0 is below 1"),
	NO('L', EV("job_fields_set", "\"config_snapshot\": \"[1]\""), "body.config_snapshot",
	   "config_snapshot is a list, not an object"),
	NO('L', EV("job_fields_set", "\"started_at_us\": " OUT_OF_RANGE), "body.started_at_us",
	   "started_at " OUT_OF_RANGE " us is outside the years 0001..9999"),
	NO('L', EV("job_fields_set", "\"updated_at_us\": -62135596800000001"),
	   "body.updated_at_us",
	   "updated_at -62135596800000001 us is outside the years 0001..9999"),
	NO('L', EV("job_fields_set", "\"cleared\": [\"created_at_us\"]"), "body.cleared",
	   "created_at cannot be NULL (a NOT NULL column)"),
	NO('L', EV("job_fields_set", "\"cleared\": [\"status\"]"), "body.cleared",
	   "status cannot be NULL (a NOT NULL column)"),
	/* sheet_fields_set */
	OK('L', EV("sheet_fields_set", "\"sheet_num\": 7, \"confidence_score\": 0.5, "
		   "\"outcome_data\": \"{\\\"escalation_skipped\\\": 0}\"")),
	NO('L', EV("sheet_fields_set", "\"status\": \"failed\""), "body.sheet_num",
	   "the event names no sheet"),
	NO('L', EV("sheet_fields_set", "\"sheet_num\": 0"), "body.sheet_num",
	   "sheet_num 0 is below 1"),
	NO('L', EV("sheet_fields_set", "\"sheet_num\": 1, \"confidence_score\": 1.5"),
	   "body.confidence_score", "confidence_score 1.5 is outside 0..1"),
	NO('L', EV("sheet_fields_set", "\"sheet_num\": 1, \"confidence_score\": \"NaN\""),
	   "body.confidence_score", "confidence_score nan is outside 0..1"),
	NO('L', EV("sheet_fields_set", "\"sheet_num\": 1, \"execution_mode\": \"turbo\""),
	   "body.execution_mode",
	   "execution_mode 'turbo' is not an execution mode (normal, completion, retry)"),
	NO('L', EV("sheet_fields_set", "\"sheet_num\": 1, \"exit_reason\": \"oom\""),
	   "body.exit_reason",
	   "exit_reason 'oom' is not an ExitReason (completed, timeout, killed, error)"),
	NO('L', EV("sheet_fields_set", "\"sheet_num\": 1, \"error_category\": \"bogus\""),
	   "body.error_category",
	   "error_category 'bogus' is not an ErrorCategory (" ERROR_CATEGORIES ")"),
	NO('L', EV("sheet_fields_set", "\"sheet_num\": 1, \"outcome_category\": \"great\""),
	   "body.outcome_category",
	   "outcome_category 'great' is not an OutcomeCategory (success_first_try, "
	   "success_retry, success_completion, failed_exhausted, failed_fatal, "
	   "skipped_by_escalation)"),
	NO('L', EV("sheet_fields_set", "\"sheet_num\": 1, \"validation_details\": "
		   "\"[{\\\"passed\\\": 2}]\""), "body.validation_details",
	   "validation_details item 0: 'passed' is a number other than 0 and 1, not a boolean"),
	NO('L', EV("sheet_fields_set", "\"sheet_num\": 1, \"outcome_data\": \"[]\""),
	   "body.outcome_data", "outcome_data is a list, not an object"),
	NO('L', EV("sheet_fields_set", "\"sheet_num\": 1, \"passed_validations\": "
		   "\"{\\\"lint\\\": true}\""), "body.passed_validations",
	   "passed_validations is an object, not a list"),
	NO('L', EV("sheet_fields_set", "\"sheet_num\": 1, \"learned_patterns\": \"[1]\""),
	   "body.learned_patterns", "learned_patterns item 0 is a number, not a string"),
	NO('L', EV("sheet_fields_set", "\"sheet_num\": 1, \"status\": \"done\""),
	   "body.status", "status 'done' is not a SheetStatus (" SHEET_STATUSES ")"),
	NO('L', EV("sheet_fields_set", "\"sheet_num\": 1, \"cleared\": [\"attempt_count\"]"),
	   "body.cleared", "attempt_count cannot be NULL (a NOT NULL column)"),
	NO('L', EV("sheet_fields_set", "\"sheet_num\": 1, \"completed_at_us\": " OUT_OF_RANGE),
	   "body.completed_at_us",
	   "completed_at " OUT_OF_RANGE " us is outside the years 0001..9999"),
	/* a refused sheet_fields_set creates no row */
	NO('L', EV("sheet_fields_set", "\"sheet_num\": 8, \"confidence_score\": -1"),
	   "body.confidence_score", "confidence_score -1 is outside 0..1"),
};

#define N_RULE_ROWS (sizeof rule_rows / sizeof rule_rows[0])

#endif
