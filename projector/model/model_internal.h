/* model_internal.h: what the files of projector/model share and nothing
 * outside the folder may call: the positions of the column catalogue, the
 * refusal helpers, and the rules' own entry with its dry-run flag.
 *
 * Who calls what: apply.c (the rules) and diff.c (save -> events) call
 * constraints.c (per-column value constraints) through the catalogue;
 * commit.c (the dry run of a commit) calls apply.c.  None of them calls
 * upward (views, history, import, backend).
 */
#ifndef SL_MODEL_INTERNAL_H
#define SL_MODEL_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "event_internal.h"
#include "state.h"

/* Positions in sl_state_job_columns[] and sl_state_sheet_columns[] (the
 * table order of schema v4), checked against the names by test_apply.c. */
enum sl_job_column_index {
	SL_JC_ID, SL_JC_NAME, SL_JC_DESCRIPTION, SL_JC_STATUS, SL_JC_TOTAL_SHEETS,
	SL_JC_LAST_COMPLETED_SHEET, SL_JC_CURRENT_SHEET, SL_JC_CONFIG_HASH,
	SL_JC_CONFIG_SNAPSHOT, SL_JC_PID, SL_JC_ERROR_MESSAGE, SL_JC_TOTAL_RETRY_COUNT,
	SL_JC_RATE_LIMIT_WAITS, SL_JC_CREATED_AT, SL_JC_UPDATED_AT, SL_JC_STARTED_AT,
	SL_JC_COMPLETED_AT, SL_JC_CONFIG_PATH,
};
enum sl_sheet_column_index {
	SL_SC_SHEET_NUM, SL_SC_STATUS, SL_SC_ATTEMPT_COUNT, SL_SC_EXIT_CODE,
	SL_SC_ERROR_MESSAGE, SL_SC_ERROR_CATEGORY, SL_SC_VALIDATION_PASSED,
	SL_SC_VALIDATION_DETAILS, SL_SC_COMPLETION_ATTEMPTS, SL_SC_PASSED_VALIDATIONS,
	SL_SC_FAILED_VALIDATIONS, SL_SC_LAST_PASS_PERCENTAGE, SL_SC_EXECUTION_MODE,
	SL_SC_OUTCOME_DATA, SL_SC_CONFIDENCE_SCORE, SL_SC_LEARNED_PATTERNS,
	SL_SC_SIMILAR_OUTCOMES_COUNT, SL_SC_SUCCESS_WITHOUT_RETRY, SL_SC_OUTCOME_CATEGORY,
	SL_SC_STARTED_AT, SL_SC_COMPLETED_AT, SL_SC_EXECUTION_DURATION_SECONDS,
	SL_SC_EXIT_SIGNAL, SL_SC_EXIT_REASON,
};

#define SL_JOB_COL(i) (&sl_state_job_columns[SL_JC_##i])
#define SL_SHEET_COL(i) (&sl_state_sheet_columns[SL_SC_##i])

/* The message a failed sheet gets when it has none (MODEL.md, the original's
 * SheetState validator and mark_sheet_failed()). */
#define SL_DEFAULT_FAILURE_MESSAGE "Unknown failure (no error message recorded)"

/* ---- refusals ---------------------------------------------------------- */

/* Empties *why (NULL allowed): code SL_OK, no field, no reason. */
void sl_refusal_clear(struct sl_refusal *why);

/* Fills *why (NULL allowed) with code, the field prefix+name (either may be
 * NULL) and the reason (printf format), made one line (control bytes become
 * '?', cut on a UTF-8 boundary), and returns code. */
int sl_refuse(struct sl_refusal *why, int code, const char *prefix, const char *name,
	      const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* s (NULL: "NULL") for a reason: in single quotes, at most about 40 bytes
 * of it (cut on a UTF-8 boundary, "..." after), bytes that are control
 * characters or not UTF-8 as \xNN.  Returns buf. */
#define SL_QUOTE_SIZE 200
const char *sl_quote(char buf[SL_QUOTE_SIZE], const char *s);

/* A time for a reason: ISO-8601 when it has one, else "<n> us". */
#define SL_TIME_TEXT_SIZE 40
const char *sl_time_text(char buf[SL_TIME_TEXT_SIZE], int64_t us);

/* Whether s (NUL-terminated) is valid UTF-8 as Python decodes it: no
 * overlong forms, no surrogates, nothing above U+10FFFF. */
bool sl_utf8_valid(const char *s);

/* ---- the JSON columns (constraints.c) ---------------------------------- */

/* The scanner that only accepts: true when text is certainly a document
 * of the shape `kind` (an SL_CHECK_JSON_* check) that the full check
 * accepts; false says nothing.  For sl_state_column_check() and the test
 * that holds it to the full check. */
bool sl_json_shape_fast(enum sl_column_check kind, const char *text);

/* The full check (jansson, with Python's JSON): SL_OK, SL_EINVAL with the
 * reason naming `name`, SL_ENOMEM.  text is not ''. */
int sl_json_shape_full(enum sl_column_check kind, const char *name, const char *text,
		       char *reason, size_t len);

/* ---- the rules ---------------------------------------------------------- */

/* The one body of sl_rules_apply() and sl_rules_check(): with dry set it
 * stops just before its first change to *st (which it then never writes:
 * the cast of sl_rules_check() is safe). */
int sl_rules_run(struct sl_job_state *st, const sl_event *ev, bool dry,
		 struct sl_refusal *why);

/* ---- the JSON form, as import reads it (statejson.c) --------------------- */

/* s[0..n) with each NUL as U+FFFD (EF BF BD), NUL-terminated; *n_nuls (may
 * be NULL) counts them.  NULL when out of memory. */
char *sl_text_nul_as_fffd(const char *s, size_t n, size_t *n_nuls);

/* Told of a text (column of sheet sheet_num, 0: the job) read with U+FFFD
 * in place of each NUL it held: text[0..len) is the exact one. */
typedef void (*sl_state_json_replaced_fn)(void *arg, int64_t sheet_num, const char *key,
					  const char *text, size_t len);

/* As sl_state_from_json(), the way import reads the original's JSON state
 * files: keys that are no column's (instruments_used, quota_waits, ... at
 * the job; error_history, stdout_tail, ... in a sheet) are kept in the
 * job's and each sheet's extra, and a text holding NUL (which no event can
 * carry) is taken with U+FFFD in place of each NUL and told to replaced
 * (may be NULL); a job id holding one is still refused. */
int sl_state_from_json_import(struct sl_job_state *out, const char *text, size_t len,
			      struct sl_state_json_problem *where,
			      sl_state_json_replaced_fn replaced, void *arg);

/* Whether text is extra fields the rules take (a JobFieldsSet's or, with
 * sheet, a SheetFieldsSet's extra): a JSON object, as Python reads it, none
 * of whose keys is a column's.  SL_EINVAL with reason, SL_ENOMEM. */
int sl_state_extra_check(const char *text, bool sheet, char *reason, size_t len);

#endif
