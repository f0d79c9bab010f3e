/* state.h: the state of one job as the model sees it (MODEL.md), the
 * one pure function that applies an event to it, and its inverse.
 *
 * A struct sl_job_state holds every column of the `jobs` row and every row
 * of `sheets` for one job.  It is what the backend loads and saves, what the
 * projector writes into the views, and what time travel and the audit
 * rebuild by replaying a job's events through sl_rules_apply().  The rules of
 * the model live in apply.c and nowhere else (MODEL.md, "Rules of the model"): every door that must accept or refuse an event (the backend API,
 * `statelog append`, import, the projector, time travel, the audit) runs
 * that one function, or its dry run sl_rules_check(), and gets the same
 * answer with the same reason (struct sl_refusal).  The constraints the
 * original's model puts on each stored value are written once, per column
 * of the catalogue (constraints.c), and used both by the rules, for every
 * event field that carries a column, and by diff.c, which turns a
 * whole-state save into the few events that the rules turn back into that
 * state.
 *
 * Nothing here touches SQLite, files or the clock: time comes from the
 * event (its time_us), so replaying the same events gives the same state.
 *
 * Encoding of columns in memory:
 *  - Text columns are NUL-terminated UTF-8, owned by the state; NULL is SQL
 *    NULL.  JSON columns hold the JSON text exactly as stored, so NULL and
 *    "[]" stay distinct.
 *  - Nullable numbers have a has_ flag; when it is false the value is 0.
 *  - Times are microseconds since the Unix epoch, UTC (the views format them
 *    as ISO-8601).
 *  - Status columns are enums whose names (sl_job_status_name(), ...) are
 *    the exact lower-case strings stored in the database.
 *
 * Sheets are kept in an array sorted by sheet_num, one element per row that
 * exists (a sheet with no row is simply not there: MODEL's next-sheet rule
 * tells "no row yet" from "pending").  Lookup is O(1) when the sheets are
 * 1..n without gaps (the usual case) and O(log n) otherwise.
 */
#ifndef SL_STATE_H
#define SL_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "sl_api.h"
#include "sl_error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* JobStatus.  The order is not stored anywhere; the names are. */
enum sl_job_status {
	SL_JOB_PENDING = 0,
	SL_JOB_RUNNING,
	SL_JOB_COMPLETED,
	SL_JOB_FAILED,
	SL_JOB_PAUSED,
	SL_JOB_PAUSED_AT_CHAIN,
	SL_JOB_CANCELLED,
};
#define SL_JOB_STATUS_COUNT 7

/* SheetStatus.  Terminal: completed, failed, skipped, cancelled. */
enum sl_sheet_status {
	SL_SHEET_PENDING = 0,
	SL_SHEET_READY,
	SL_SHEET_DISPATCHED,
	SL_SHEET_IN_PROGRESS,
	SL_SHEET_WAITING,
	SL_SHEET_RETRY_SCHEDULED,
	SL_SHEET_FERMATA,
	SL_SHEET_COMPLETED,
	SL_SHEET_FAILED,
	SL_SHEET_SKIPPED,
	SL_SHEET_CANCELLED,
};
#define SL_SHEET_STATUS_COUNT 11

/* Whether a job exists.  A deleted job keeps only its id (and the time of
 * deletion in updated_at_us); a job_created event brings it back, fresh. */
enum sl_job_presence {
	SL_JOB_ABSENT = 0,      /* never created (as far as this state knows) */
	SL_JOB_LIVE,
	SL_JOB_DELETED,
};

/* One row of `sheets`. */
struct sl_sheet_state {
	int64_t sheet_num;                      /* >= 1 */
	enum sl_sheet_status status;
	int64_t attempt_count;
	bool has_exit_code;
	int64_t exit_code;
	char *error_message;
	char *error_category;                   /* ErrorCategory name or NULL */
	bool has_validation_passed;
	bool validation_passed;
	char *validation_details;               /* JSON */
	int64_t completion_attempts;
	char *passed_validations;               /* JSON */
	char *failed_validations;               /* JSON */
	bool has_last_pass_percentage;
	double last_pass_percentage;
	char *execution_mode;                   /* normal, completion, retry */
	char *outcome_data;                     /* JSON */
	bool has_confidence_score;
	double confidence_score;
	char *learned_patterns;                 /* JSON */
	int64_t similar_outcomes_count;
	bool success_without_retry;
	char *outcome_category;                 /* OutcomeCategory name or NULL */
	bool has_started_at;
	int64_t started_at_us;
	bool has_completed_at;
	int64_t completed_at_us;
	bool has_execution_duration_seconds;
	double execution_duration_seconds;
	bool has_exit_signal;
	int64_t exit_signal;
	char *exit_reason;                      /* ExitReason name or NULL */
	/* A JSON object: the sheet's fields the tables have no column for, as
	 * an imported JSON state file held them (NULL: none).  Not a column:
	 * the views keep it in statelog_extra. */
	char *extra;
};

/* The `jobs` row of one job and its sheets.  Owns every pointer in it. */
struct sl_job_state {
	enum sl_job_presence presence;
	char *id;               /* set by the first job_created, then fixed */
	char *name;             /* never NULL while live */
	char *description;
	enum sl_job_status status;
	int64_t total_sheets;
	int64_t last_completed_sheet;
	bool has_current_sheet;
	int64_t current_sheet;
	char *config_hash;
	char *config_snapshot;  /* JSON */
	bool has_pid;
	int64_t pid;
	char *error_message;
	int64_t total_retry_count;
	int64_t rate_limit_waits;
	int64_t created_at_us;
	int64_t updated_at_us;
	bool has_started_at;
	int64_t started_at_us;
	bool has_completed_at;
	int64_t completed_at_us;
	char *config_path;
	char *extra;            /* as a sheet's: the job's fields beyond the
				   columns (JSON object), NULL when none */

	/* Sorted by sheet_num, no duplicates.  Pointers into it are valid until
	 * the next sheet is added (the array may move) or the state is freed. */
	struct sl_sheet_state *sheets;
	size_t n_sheets;
	size_t cap_sheets;
};

/* ---- enumerations ------------------------------------------------------ */

/* The stored name ("in_progress"); "?" for a value out of range. */
SL_API const char *sl_job_status_name(enum sl_job_status s);
SL_API const char *sl_sheet_status_name(enum sl_sheet_status s);

/* Parses an exact lower-case name.  SL_EINVAL when it is not one. */
SL_API int sl_job_status_from_name(enum sl_job_status *out, const char *name);
SL_API int sl_sheet_status_from_name(enum sl_sheet_status *out, const char *name);

/* NULL-terminated lists of the values of the text enumerations. */
SL_API extern const char *const sl_error_category_names[];
SL_API extern const char *const sl_outcome_category_names[];
SL_API extern const char *const sl_exit_reason_names[];
SL_API extern const char *const sl_execution_mode_names[];

/* Whether name is one of the NULL-terminated list. */
SL_API bool sl_state_name_in(const char *const *names, const char *name);

/* ---- job state --------------------------------------------------------- */

/* An empty state: no job (SL_JOB_ABSENT), nothing owned. */
SL_API void sl_state_init(struct sl_job_state *st);

/* Releases everything st owns and leaves it as sl_state_init() does.
 * NULL is allowed. */
SL_API void sl_state_free(struct sl_job_state *st);

/* A deep copy of src into *out (whose old content is not looked at: free it
 * first).  *out is set only on success; SL_ENOMEM. */
SL_API int sl_state_copy(struct sl_job_state *out, const struct sl_job_state *src);

/* Flags for sl_state_equal(). */
#define SL_STATE_IGNORE_UPDATED_AT 0x1u

/* Whether two states hold the same presence, id, columns and sheets.
 * Doubles compare by bit pattern, so NaN equals itself and -0.0 differs
 * from 0.0: equal means "would store the same bytes". */
SL_API bool sl_state_equal(const struct sl_job_state *a, const struct sl_job_state *b,
			   unsigned flags);

/* The name of the first column that differs ("presence", "sheets" for a
 * sheet present in one state only, or a column name), or NULL when equal.
 * When the difference is in a sheet, *sheet_num (if not NULL) is set to it,
 * else to 0.  For test messages and the audit. */
SL_API const char *sl_state_first_difference(const struct sl_job_state *a,
					     const struct sl_job_state *b,
					     unsigned flags, int64_t *sheet_num);

/* The sheet numbered n, or NULL when it has no row.  The result is
 * borrowed from st (see the note on `sheets`); it is writable when st is. */
SL_API struct sl_sheet_state *sl_state_find_sheet(const struct sl_job_state *st, int64_t n);

/* The sheet numbered n, added with the defaults of a new row (see
 * sl_sheet_init()) when it has none.  *out is borrowed from st.
 * SL_EINVAL when n < 1; SL_ENOMEM. */
SL_API int sl_state_add_sheet(struct sl_sheet_state **out, struct sl_job_state *st, int64_t n);

/* ---- sheet state ------------------------------------------------------- */

/* A new sheet row as the original writes it (SheetState(sheet_num=n)):
 * pending, counters 0, success_without_retry false, passed_validations,
 * failed_validations and learned_patterns "[]" (the original stores its
 * empty lists as "[]"), every other column NULL.  SL_ENOMEM. */
SL_API int sl_sheet_init(struct sl_sheet_state *sh, int64_t sheet_num);

/* Releases what sh owns and zeroes it.  NULL is allowed. */
SL_API void sl_sheet_free(struct sl_sheet_state *sh);

/* Deep copy; *out is set only on success.  SL_ENOMEM. */
SL_API int sl_sheet_copy(struct sl_sheet_state *out, const struct sl_sheet_state *src);

SL_API bool sl_sheet_equal(const struct sl_sheet_state *a, const struct sl_sheet_state *b);

/* ---- the rules (apply.c, commit.c) ------------------------------------ */

/* Why the rules refused an event, or diff a state.  Filled by every
 * function below that takes one (the pointer may be NULL: no detail).
 *   code    SL_OK when nothing was refused, else the return value:
 *           SL_EINVAL    a bad event (or state value) for this state;
 *           SL_ENOTFOUND an event for a job that does not exist: never
 *                        created, or deleted (and not created again);
 *           SL_EEXIST    a job_created for a job that exists (is live);
 *           SL_EUNKNOWN  an event of a type this build does not know;
 *           SL_ENOMEM    out of memory (field "", reason "out of memory").
 *   field   what is wrong, as a path into the event ("job_id", "time_us",
 *           "body" for the body as a whole, "body.sheet_num",
 *           "body.cleared", "body.confidence_score") or into a state given
 *           to diff ("id", "total_sheets", "sheets[3].confidence_score");
 *           "" when nothing is.
 *   reason  one line of UTF-8 without a final period, naming the value and
 *           the rule: "sheet 9 is outside 1..3", "confidence_score 1.5 is
 *           outside 0..1", "no job 'x' (it was deleted at
 *           2026-11-26T02:49:38+00:00)".  Text from the event is quoted,
 *           cut to a few dozen bytes, control characters shown as \xNN.
 * The same event on the same state gives the same code, field and reason
 * from every entry point (test_rules.c). */
#define SL_REFUSAL_FIELD_SIZE 64
#define SL_REFUSAL_REASON_SIZE 320
struct sl_refusal {
	int code;
	char field[SL_REFUSAL_FIELD_SIZE];
	char reason[SL_REFUSAL_REASON_SIZE];
};

/* Applies one event to the state of its job, following MODEL.md "Rules of
 * the model" and the constraints of the original's model (the full list is
 * in apply.c and constraints.c).  Pure: the outcome depends only on *st and
 * *ev; every time written comes from ev->time_us, never from the clock, so
 * replaying the same events gives the same state.
 *
 * On success every event but execution_recorded (which only adds a history
 * row, as the original's record_execution() does) sets updated_at to
 * ev->time_us (a job_fields_set carrying updated_at_us sets that value
 * instead), and the state keeps the load-time invariants of the original
 * (sl_rules_invariants()), filled from ev->time_us.  On failure *st is left
 * exactly as it was and *why (if not NULL) says why.  Returns SL_OK or the
 * codes of struct sl_refusal.
 * st may be a fresh sl_state_init() state: a job_created gives it its id. */
SL_API int sl_rules_apply(struct sl_job_state *st, const sl_event *ev, struct sl_refusal *why);

/* The dry run of sl_rules_apply(): the same code, stopped just before its
 * first change to the state, so it returns the same code and refusal
 * (SL_ENOMEM aside, which depends on the moment) and never changes *st. */
SL_API int sl_rules_check(const struct sl_job_state *st, const sl_event *ev, struct sl_refusal *why);

/* The dry run of a whole commit: evs[0..n) checked in order, each against
 * the state the ones before it leave (the events of one save: job_created,
 * job_fields_set, sheet_fields_set, ...).  *st is never changed; the
 * earlier events are applied to a private copy that shares the unchanged
 * sheets with *st, so the cost is that of the commit, not of the job.
 * On refusal *failed (if not NULL) is the index of the refused event and
 * *why says why.  Events must carry their times like any event checked: a
 * door checking events the log has not timed yet gives them the time it
 * asks the log for (no rule depends on the time beyond its range). */
SL_API int sl_rules_check_commit(const struct sl_job_state *st, sl_event *const *evs, size_t n,
			  size_t *failed, struct sl_refusal *why);

/* How far ahead of the clock an event's time may be: one day.  Clocks of
 * the hosts writing one log may disagree by seconds, not by days; a time
 * further ahead is a bug or a typo, and the log never goes back in time, so
 * one such event would carry every later event with it. */
#define SL_RULES_FUTURE_WINDOW_US (INT64_C(86400) * 1000000)

/* The one check that needs the clock, for the doors that take events from
 * outside (append, import, the backend): SL_EINVAL when the event carries a
 * time_us more than SL_RULES_FUTURE_WINDOW_US ahead of now_us (field
 * "time_us").  Pure: the caller passes the clock.  An event without a time
 * (the log gives it one) passes.  Only the event time is held to the
 * window: the *_at_us fields are data (an import may carry a clock's
 * mistake the original accepted); the rules hold them, like the event
 * time, to SL_TIME_MIN_US..SL_TIME_MAX_US (what the views can write). */
SL_API int sl_rules_check_time(const sl_event *ev, int64_t now_us, struct sl_refusal *why);

/* The original's load-time invariants (its model validators), applied to
 * every live row of st with the time now_us:
 *   a running job has started_at (now_us when missing) and no completed_at;
 *   a completed sheet has completed_at (now_us when missing);
 *   an in_progress sheet has started_at (now_us when missing);
 *   a failed sheet has an error_message ("Unknown failure (no error message
 *   recorded)" when NULL; "" is a message, as in the original).
 * The rules keep them after every event (with the event's time), so a
 * state they produced never needs this; it is for states made by hand and
 * says what the rules do.  SL_ENOMEM (st unchanged). */
SL_API int sl_rules_invariants(struct sl_job_state *st, int64_t now_us);

/* Whether rc, from the rules, means they refused the event (a bad event,
 * one for a job that does not exist, a job created twice), as opposed to
 * an event this build does not know or a failure (out of memory).  The
 * projector, time travel and the audit count a refused event and go on: it
 * changes nothing, in the model and in the views. */
SL_API bool sl_rules_refused(int rc);

/* MODEL.md "next sheet" for a live job: *out = the sheet to run next, or 0
 * when there is none.  Returns SL_EINVAL (and leaves *out) when st is not a
 * live job: the caller answers 1 for an unknown job, as the original's
 * get_next_sheet() does, since it alone knows the job was looked up. */
SL_API int sl_state_next_sheet(int64_t *out, const struct sl_job_state *st);

/* MODEL.md "zombie": a live job that is running, has a pid, and whose pid
 * pid_alive() reports dead.  pid_alive must answer true for a process that
 * exists but belongs to another user (kill() failing with EPERM). */
SL_API bool sl_state_is_zombie(const struct sl_job_state *st,
			       bool (*pid_alive)(int64_t pid, void *ctx), void *ctx);

/* A pid_alive for sl_state_is_zombie() that asks the kernel (kill(pid, 0)).
 * A pid no process can have (<= 0, or beyond pid_t) is not alive.  ctx is
 * unused.  Not pure: the one function in this component that looks outside. */
SL_API bool sl_state_pid_alive(int64_t pid, void *ctx);

/* ---- save -> events (diff.c) ------------------------------------------- */

/* The events that turn cur (NULL, absent or deleted when the job does not
 * exist) into want:
 *   - a job_created when the job does not exist (carrying want's
 *     created_at as created_at_us);
 *   - one job_fields_set with only the job columns that differ;
 *   - one sheet_fields_set per sheet of want that differs from cur's (or
 *     that cur lacks), with only the columns that differ.
 * in that order.  A save that changes one sheet of a 100-sheet job gives one
 * event (two when job columns changed as well).  Nothing changed gives zero
 * events: the caller decides whether to append a touch (see
 * sl_state_touch_event()).
 *
 * Invariant (tests/projector/test_diff.c): applying the events to a copy of
 * cur gives want with the load-time invariants applied at now_us
 * (sl_rules_invariants(want, now_us)) in every column except updated_at,
 * which is the time of the last event; and a sheet that cur has and want
 * lacks is kept as it is (the original's save only ever upserts sheet
 * rows).  So a want that breaks an invariant is stored as the original
 * would load it: a running job without started_at gets now_us, a running
 * job's completed_at is dropped, a completed (in_progress) sheet without
 * completed_at (started_at) gets now_us, a failed sheet without a message
 * gets the default message.  (When only the invariant's column differs from
 * cur, e.g. want clears a running job's started_at, the event clears it and
 * the rules fill it again with now_us.)
 * updated_at is never emitted: apply sets it.  id, created_at and
 * description are compared like the other columns: the original's save
 * leaves created_at and description of an existing job alone, so the
 * backend copies cur's values into want before diffing to match it.
 *
 * Each event has job_id = want->id and time_us = now_us (the log assigns the
 * real time when it appends), seq unset.  *out is an owned array of *n_out
 * owned events (NULL when there are none): free with sl_events_free().
 * The events always apply cleanly to cur: want is refused (SL_EINVAL, with
 * *why naming the column, e.g. "sheets[3].confidence_score", and the same
 * reason the rules give for that value in an event) when it is not a live
 * job with an id, when cur is a job with another id, when its sheets are
 * out of order or numbered below 1, when now_us is outside
 * SL_TIME_MIN_US..SL_TIME_MAX_US, or when a value the events would carry
 * breaks the constraint of its column (sl_state_column_check(): NOT NULL,
 * total_sheets >= 1, the enumerations, confidence_score in 0..1, times in
 * range, the shapes of the JSON columns, UTF-8).  Only the values that
 * differ from cur are checked (the others are in the log already, and the
 * events do not carry them): a save costs what it changes.  SL_ENOMEM. */
SL_API int sl_state_diff(sl_event ***out, size_t *n_out, const struct sl_job_state *cur,
			 const struct sl_job_state *want, int64_t now_us, struct sl_refusal *why);

/* An empty job_fields_set for job_id at now_us: applying it changes nothing
 * but updated_at.  The original's save bumps updated_at even when nothing
 * changed; a backend that wants that appends this when sl_state_diff() gives
 * no events.  *out is owned (sl_event_free()).  SL_ENOMEM. */
SL_API int sl_state_touch_event(sl_event **out, const char *job_id, int64_t now_us);

/* Frees an array of events from sl_state_diff() and the events in it.
 * NULL is allowed. */
SL_API void sl_events_free(sl_event **evs, size_t n);

/* ---- the column catalogue ---------------------------------------------- */

/* Every column of `jobs` and `sheets`, in the order of the CREATE TABLE,
 * with where it lives in the state and which field of JobFieldsSet /
 * SheetFieldsSet carries it.  apply, diff, copy and compare are written
 * once over this table; the views and the audit can use it the same way. */
enum sl_column_type {
	SL_COL_TEXT,            /* char *, NULL = NULL */
	SL_COL_INT,             /* int64_t */
	SL_COL_REAL,            /* double */
	SL_COL_BOOL,            /* bool, stored 1/0 */
	SL_COL_TIME,            /* int64_t microseconds UTC, stored as ISO-8601 */
	SL_COL_JOB_STATUS,      /* enum sl_job_status, stored as its name */
	SL_COL_SHEET_STATUS,    /* enum sl_sheet_status, stored as its name */
};

/* The constraint the original's model puts on a column's values (beyond
 * its type and NOT NULL), checked by sl_state_column_check().  Every TEXT
 * value must also be valid UTF-8: the original's sqlite3 module cannot read
 * anything else back. */
enum sl_column_check {
	SL_CHECK_NONE = 0,              /* any value of the type */
	SL_CHECK_MIN_1,                 /* an integer >= 1 (total_sheets) */
	SL_CHECK_UNIT_INTERVAL,         /* a real in 0..1, not NaN (confidence_score) */
	SL_CHECK_TIME,                  /* SL_TIME_MIN_US..SL_TIME_MAX_US */
	SL_CHECK_JOB_STATUS,            /* a JobStatus */
	SL_CHECK_SHEET_STATUS,          /* a SheetStatus */
	SL_CHECK_ERROR_CATEGORY,        /* one of sl_error_category_names */
	SL_CHECK_OUTCOME_CATEGORY,      /* one of sl_outcome_category_names */
	SL_CHECK_EXIT_REASON,           /* one of sl_exit_reason_names */
	SL_CHECK_EXECUTION_MODE,        /* one of sl_execution_mode_names */
	SL_CHECK_JSON_OBJECT,           /* dict[str, Any] | None (config_snapshot) */
	SL_CHECK_JSON_TEXT_LIST,        /* list[str], read with `or []` */
	SL_CHECK_JSON_VALIDATION_DETAILS, /* list[ValidationDetailDict] | None */
	SL_CHECK_JSON_OUTCOME_DATA,     /* OutcomeDataDict | None */
};

struct sl_state_column {
	const char *name;               /* the SQL column name */
	uint32_t field;                 /* field number in *FieldsSet, 0 if none */
	enum sl_column_type type;
	bool nullable;
	bool key;                       /* id / sheet_num: identifies the row */
	bool json;                      /* JSON text */
	size_t offset;                  /* of the value in the struct */
	size_t has_offset;              /* of the has_ flag (nullable non-text) */
	enum sl_column_check check;     /* the original's constraint on it */
};

#define SL_STATE_N_JOB_COLUMNS 18
#define SL_STATE_N_SHEET_COLUMNS 24
SL_API extern const struct sl_state_column sl_state_job_columns[SL_STATE_N_JOB_COLUMNS];
SL_API extern const struct sl_state_column sl_state_sheet_columns[SL_STATE_N_SHEET_COLUMNS];

/* One column's value, borrowed from the row it was read from. */
struct sl_value {
	bool null;
	int64_t i;              /* INT, TIME, BOOL (0/1), status (enum value) */
	double d;               /* REAL */
	const char *s;          /* TEXT; status: its name (static) */
};

/* Reads column c of row (a struct sl_job_state or sl_sheet_state). */
SL_API void sl_state_column_get(struct sl_value *out, const struct sl_state_column *c,
				const void *row);

/* Whether two values of column c are equal (doubles by bit pattern). */
SL_API bool sl_state_column_value_equal(const struct sl_state_column *c,
					const struct sl_value *a, const struct sl_value *b);

/* Whether v is a value the original's model accepts in column c: NULL
 * only in a nullable column, then c->check and, for text, UTF-8 (the list
 * of constraints is in constraints.c).  On refusal returns SL_EINVAL and
 * writes one line into reason[0..len) that starts with the column's name
 * and says what is wrong ("confidence_score 1.5 is outside 0..1").
 * SL_ENOMEM when a JSON document cannot be parsed for lack of memory.
 * For the status columns v->i is the enum value.  The one place where the
 * value constraints live: the rules call it for every event field that
 * carries a column, sl_state_diff() for every value it emits. */
SL_API int sl_state_column_check(const struct sl_state_column *c, const struct sl_value *v,
			  char *reason, size_t len);

/* Writes v into column c of row, freeing the old text.  For TEXT, owned is
 * a string the row takes over (v->s is ignored); it must be NULL exactly
 * when v->null.  Cannot fail: the caller allocates first, so that a rule
 * can check and allocate everything before it changes anything. */
SL_API void sl_state_column_put(const struct sl_state_column *c, void *row,
				const struct sl_value *v, char *owned);

/* ---- the JSON form of a job (statejson.c) -------------------------------- */

/* Where sl_state_from_json() found its input at fault. */
struct sl_state_json_problem {
	int64_t sheet_num;              /* 0: not in a sheet */
	char key[64];                   /* the key at fault; "" for the whole text */
	char value[160];                /* its value as text, cut to fit */
	char reason[SL_REFUSAL_REASON_SIZE];
};

/* Reads a job from its JSON form: the dict the original's CheckpointState
 * gives as model_dump(mode="json"), the original's JSON state files, and
 * what sl_state_to_json() writes (the keys and their rules are at the top
 * of statejson.c).  Every value is held to its column's constraint
 * (sl_state_column_check()).  *out (live, with its id) is set only on
 * success; SL_EINVAL with *where (may be NULL) filled, SL_ENOMEM. */
SL_API int sl_state_from_json(struct sl_job_state *out, const char *text, size_t len,
			      struct sl_state_json_problem *where);

/* The job as the original's load() returns it, in that JSON form, as
 * json.dumps writes it: JSON columns parsed back (with the original's
 * `or []` for the three list columns), times as the original writes them.
 * *out is owned (free()).  SL_ENOMEM. */
SL_API int sl_state_to_json(char **out, const struct sl_job_state *st);

#ifdef __cplusplus
}
#endif

#endif
