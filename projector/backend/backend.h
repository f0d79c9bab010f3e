/* backend.h: the backend API the orchestrator calls, the original Python
 * SQLiteStateBackend (projector/model/MODEL.md) rebuilt on the log.
 *
 * Every state change becomes events appended to the log (the truth); the
 * SQLite views (projector.h) are derived from it: brought up to date before
 * every call that reads them (history, counts, statistics, query_jobs,
 * list_jobs), by a projector thread within a few milliseconds of each commit
 * for the dashboards that read the database themselves (or before the call
 * returns: enum sl_views_mode), and completely at close.  Job states are served from an in-memory cache
 * kept current by applying the events this handle appends with
 * sl_rules_apply(), the one place for the rules; a job not in the cache is
 * read from the caught-up views.  So every committed event is visible to the
 * next call (read-your-writes), and load() costs a copy, not a query.
 *
 * Processes: several processes (a daemon and CLI commands) may open the
 * same log for writing at once, as SQLite lets them share a database.  A
 * call that appends holds the log across its rules check and its append,
 * and first reads the job again from the views when another writer
 * appended since this handle last knew it (log.h, sl_log_hold()); load()
 * and the other reads look at the log's tail first and do the same.
 *
 * Threads: every call is safe from several threads of one process.  Calls on
 * one job are serialized (a save is diffed against the state it replaces);
 * calls on different jobs proceed together, and their appends share the
 * log's fsyncs (group commit).
 *
 * Errors: 0 or a negative SL_* code (sl_error.h).  Every call that appends
 * runs the rules of the model on the job's state first, in a dry run
 * (sl_rules_check(), state.h), so nothing they refuse is appended and the
 * call fails with their code and reason: SL_ENOTFOUND for a job that does
 * not exist, SL_EINVAL for what the model does not allow (a sheet number
 * below 1, a value outside its column's constraint, ...).  Bad arguments
 * are SL_EINVAL too (an empty job id, an unknown status name, a mutation on
 * a read-only handle).  sl_backend_errmsg() gives one line naming the input
 * and, for a refusal, the field and the rules' reason.
 * Out-parameters come first and are set only on success.  Nothing here
 * prints or exits.
 */
#ifndef SL_BACKEND_H
#define SL_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "history.h"
#include "log.h"
#include "sl_api.h"
#include "sl_error.h"
#include "state.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sl_backend sl_backend;

/* The original's defaults: get_execution_history(limit=100),
 * query_jobs(limit=50). */
#define SL_BACKEND_HISTORY_LIMIT 100
#define SL_BACKEND_QUERY_LIMIT 50

/* What record_execution() keeps, as the original's callers cut the text
 * beforehand (projector/model/MODEL.md "How the original is used"): the first
 * 2,000 characters of a prompt and the last 5,000 of an output.  Characters
 * are Unicode code points, as Python's slicing counts them. */
#define SL_BACKEND_PROMPT_CHARS 2000
#define SL_BACKEND_OUTPUT_CHARS 5000

/* The reason a zombie recovered by load() gives (the original's). */
#define SL_BACKEND_ZOMBIE_REASON "Detected on state load - process no longer running"

/* When the views database (what dashboards and the sqlite3 shell read)
 * shows a commit of this handle.  The backend's own reads always catch the
 * views up first, so they see every commit in every mode. */
enum sl_views_mode {
	/* A projector thread beside the writer catches the views up after
	 * commits, coalescing those that arrive within views_lag_ms of each
	 * other into one SQLite transaction: a commit is visible to any SQLite
	 * reader within about that lag (plus the catch-up itself).  The
	 * default. */
	SL_VIEWS_LIVE = 0,
	/* Every call that appends returns only once the views hold its
	 * commit (one catch-up per call; calls from several threads at once
	 * share one).  What a caller needs that reads the database itself
	 * right after a call, as the original's users do. */
	SL_VIEWS_SYNC,
	/* Only when the backend reads them, and at close. */
	SL_VIEWS_ON_READ,
};

struct sl_backend_options {
	enum sl_durability durability;  /* of the log; default SL_DURABLE_ALWAYS */
	enum sl_views_mode views;       /* default SL_VIEWS_LIVE */
	uint32_t views_lag_ms;          /* SL_VIEWS_LIVE: how long the projector
					   thread waits for more commits before it
					   catches up; 0: 15 ms */
	uint32_t interval_ms;           /* SL_DURABLE_INTERVAL; 0: the log's default */
	const char *db_path;            /* NULL: beside the log, see
					   sl_backend_default_db_path() */
	bool create;                    /* create the log (and database) if missing */
	/* How long a call that appends waits for other writers (processes, or
	 * other handles) to give the log back before it fails with
	 * SL_ELOCKED naming the holder; 0: 5000 ms, as a SQLite busy timeout. */
	uint32_t busy_timeout_ms;
	/* Open without writing, for dashboards running beside
	 * the writer processes: queries and load() work (load reads the caught-up
	 * views and does not recover zombies: it cannot write); every call that
	 * appends returns SL_EINVAL.  Where the views cannot be written (a
	 * read-only file system), a private copy is caught up and read
	 * instead (sl_proj_options.copy_if_read_only). */
	bool read_only;
	/* Read-only handles: how long a read may wait for the views to catch up
	 * with the log before it answers from the views as they are (0: until
	 * caught up).  sl_backend_views_behind() then says how far behind they
	 * were.  Dashboards beside a fast writer answer in bounded time. */
	uint32_t read_wait_ms;
	/* Store prompts and outputs as given instead of cutting them to
	 * SL_BACKEND_PROMPT_CHARS / SL_BACKEND_OUTPUT_CHARS. */
	bool full_execution_text;
	uint32_t cache_jobs;            /* job states kept in memory; 0: 256.  Idle
					   states beyond it are dropped, least
					   recently used first, and read back from
					   the views when needed again. */
	/* Whether a pid belongs to a live process, for zombie detection.
	 * NULL: sl_state_pid_alive() (kill(pid, 0); EPERM counts as alive). */
	bool (*pid_alive)(int64_t pid, void *ctx);
	void *pid_alive_ctx;
	/* When not NULL, filled with what opening the log recovered (a torn
	 * tail cut, ...).  Not touched in read-only mode. */
	struct sl_recovery_report *report;
};

/* Fills *opts with the defaults above. */
SL_API void sl_backend_options_init(struct sl_backend_options *opts);

/* The database path used when none is given: log_dir with a final ".log"
 * (after any trailing '/') replaced by ".db", or ".db" appended when it has
 * none: "run/statelog.log" -> "run/statelog.db", "logs/" -> "logs.db".
 * *out is owned (free()).  SL_EINVAL for an empty log_dir, SL_ENOMEM. */
SL_API int sl_backend_default_db_path(char **out, const char *log_dir);

/* Opens the log in log_dir for appending (unless read_only) and its views,
 * and brings the views up to date.  Any number of writer handles, in this
 * process or others, may have one log open: each call that appends holds
 * the log across its check and its append, and checks against the job's
 * latest state whoever wrote it (waiting up to busy_timeout_ms for the
 * others, then SL_ELOCKED naming the holder).  opts NULL: defaults.  On failure
 * *out is untouched and err (errlen bytes, may be NULL) gets one line. */
SL_API int sl_backend_open(sl_backend **out, const char *log_dir, const struct sl_backend_options *opts,
			   char *err, size_t errlen);

/* Catches the views up with every commit of the log now (writing the log's
 * pending commits first under durability interval or none), whatever the
 * views mode: when it returns, any SQLite reader of the database sees them. */
SL_API int sl_backend_sync_views(sl_backend *be);

/* Closes the views and the log (flushing it), the views caught up with
 * every commit first (so the database a dashboard opens next holds all of
 * them), the projector thread stopped.  Returns the first error met;
 * the handle is freed either way.  No other call may be running on it.
 * NULL is allowed. */
SL_API int sl_backend_close(sl_backend *be);

/* The message of the last call on be that failed in the calling thread, ""
 * when none.  Borrowed: valid until the thread's next call on be. */
SL_API const char *sl_backend_errmsg(const sl_backend *be);

/* The sequence number of the last event in the log, committed by this
 * handle or found there when it was opened (0: empty log, or a read-only
 * handle).  A caller that makes one call at a time learns from it the last
 * event its call appended: what a crash must never lose. */
SL_API uint64_t sl_backend_last_seq(sl_backend *be);

/* How many events of the log the last read did not see: the views were
 * behind by that much when read_wait_ms ran out (0: they were current). */
SL_API uint64_t sl_backend_views_behind(sl_backend *be);

/* A read-only handle whose views could not be written where they are
 * works on a private copy (see read_only): its path; NULL otherwise. */
SL_API const char *sl_backend_views_copy(sl_backend *be);

/* Why opening rebuilt the views (another views version, a database ahead
 * of the log, rows written by another program), one line; NULL when it
 * did not. */
SL_API const char *sl_backend_views_rebuilt(sl_backend *be);

/* ---- the original's operations ---------------------------------------- */

/* A deep copy of the job's whole state into *out (free it with
 * sl_state_free()).  A zombie (running, with a pid whose process is gone)
 * is recovered first, as the original's load() does: a zombie_recovered
 * event is appended and the recovered state returned.
 * SL_ENOTFOUND when the job does not exist (the original returns None). */
SL_API int sl_backend_load(struct sl_job_state *out, sl_backend *be, const char *job_id);

/* Time travel: the job's whole state as it was after event seq (1 .. the
 * log's last), replayed with the rules from the nearest snapshot (see
 * timetravel.h); no zombie recovery, nothing appended.  SL_ENOTFOUND when
 * the job did not exist at seq, SL_EINVAL for seq 0 or past the end.  With
 * time_us instead of a seq (seq 0 and has_time): the last event at or before
 * that instant; SL_EINVAL when it is before the log's first event. */
SL_API int sl_backend_load_at(struct sl_job_state *out, sl_backend *be, const char *job_id,
			      uint64_t seq, bool has_time, int64_t time_us);

/* The audit (history.h): every event of the job, in order, with what it
 * changed, through fn, on the views caught up first.  A non-zero return
 * from fn stops it and is returned.  SL_ENOTFOUND when the log holds no
 * event of the job. */
SL_API int sl_backend_audit(sl_backend *be, const char *job_id, const struct sl_audit_filter *filter,
			    sl_audit_fn fn, void *ctx);

/* Saves the whole state: the difference from the job's current state
 * becomes the fewest events (sl_state_diff()), appended as one commit, so
 * the save is all or nothing.  As the original:
 *  - updated_at = now: on success state->updated_at_us is set to the
 *    commit's time (the original sets state.updated_at); the value passed
 *    in is ignored;
 *  - a job that exists keeps its created_at (state's is ignored); a new
 *    job takes state's created_at (0: the commit's time);
 *  - description is never written (the original always writes NULL): a
 *    job keeps the one it has, a new job has none;
 *  - sheets the job has and state lacks are kept (the original only ever
 *    upserts sheet rows);
 *  - a save that changes nothing still appends one event (it bumps
 *    updated_at).
 * state->presence is not looked at: saving makes the job live.  A job
 * deleted earlier is created again from state.  SL_EINVAL when state has no
 * id or name, total_sheets < 0, a status out of range, or sheets numbered
 * below 1 or out of order. */
SL_API int sl_backend_save(sl_backend *be, struct sl_job_state *state);

/* Deletes the job, its sheets and its history from the views (the log keeps
 * them for the audit): appends job_deleted.  SL_ENOTFOUND when the job does
 * not exist (the original returns False). */
SL_API int sl_backend_delete(sl_backend *be, const char *job_id);

/* Every job, newest updated_at first, each as load() gives it (zombies
 * recovered).  *out is an owned array of *n_out states (NULL when there are
 * none): free it with sl_backend_states_free(). */
SL_API int sl_backend_list_jobs(struct sl_job_state **out, size_t *n_out, sl_backend *be);
SL_API void sl_backend_states_free(struct sl_job_state *states, size_t n);

/* projector/model/MODEL.md "next sheet": *out = the next sheet, 0 for none,
 * 1 for a job that does not exist (as the original).  Loads the job as
 * load() does (a zombie is recovered). */
SL_API int sl_backend_next_sheet(int64_t *out, sl_backend *be, const char *job_id);

/* The original's mark_sheet_status(): status "completed" appends
 * sheet_completed, "failed" sheet_failed with error_message (NULL or "":
 * "Unknown error"), "in_progress" sheet_started.  Any other status the
 * original knows changes nothing but updated_at (its save still runs): one
 * touch event is appended.  Loads the job first as load() does.
 * SL_EINVAL for an unknown status name or a sheet below 1; SL_ENOTFOUND for
 * an unknown job.  A sheet past total_sheets gets its row, as in the
 * original. */
SL_API int sl_backend_mark_sheet_status(sl_backend *be, const char *job_id, int64_t sheet_num,
					const char *status, const char *error_message);

/* One attempt to record.  Strings are borrowed for the call. */
struct sl_execution_record {
	const char *job_id;
	int64_t sheet_num;              /* any: history has no key on sheets */
	int64_t attempt_num;
	const char *prompt;             /* NULL: None */
	const char *output;             /* NULL: None */
	bool has_exit_code;
	int64_t exit_code;
	bool has_duration_seconds;
	double duration_seconds;
};

/* Appends execution_recorded; *out = its id (executed_at = the commit's
 * time).  Ids increase over the whole history of the log, also across
 * reopening and deletes; two threads recording at once may append theirs in
 * either order.  Unless full_execution_text, the prompt is cut to its first
 * SL_BACKEND_PROMPT_CHARS and the output to its last SL_BACKEND_OUTPUT_CHARS
 * characters.  SL_ENOTFOUND for an unknown job. */
SL_API int sl_backend_record_execution(int64_t *out, sl_backend *be, const struct sl_execution_record *rec);

/* One row of execution_history.  Owns its strings. */
struct sl_execution_row {
	int64_t id;
	char *job_id;
	int64_t sheet_num;
	int64_t attempt_num;
	char *prompt;                   /* NULL: None */
	char *output;
	bool has_exit_code;
	int64_t exit_code;
	bool has_duration_seconds;
	double duration_seconds;
	int64_t executed_at_us;
};

/* The job's execution history, newest first (executed_at, then id),
 * optionally of one sheet (sheet_num 0: every sheet), at most limit rows
 * (0: SL_BACKEND_HISTORY_LIMIT; negative: no limit).  A job that does not
 * exist, or a sheet it does not have, has no history (*n_out = 0), as in
 * the original.  SL_EINVAL for a negative sheet_num.
 * *out is owned (NULL when empty): sl_backend_history_free(). */
SL_API int sl_backend_history(struct sl_execution_row **out, size_t *n_out, sl_backend *be,
			      const char *job_id, int64_t sheet_num, int64_t limit);
SL_API void sl_backend_history_free(struct sl_execution_row *rows, size_t n);

/* The number of history rows of the job (0 for an unknown job). */
SL_API int sl_backend_history_count(int64_t *out, sl_backend *be, const char *job_id);

/* get_job_statistics(): found is false for an unknown job (the original's
 * {}), and then nothing else is set.  The fields are the original's keys. */
struct sl_job_statistics {
	bool found;
	int64_t total_sheets;
	int64_t completed_sheets;       /* = last_completed_sheet */
	double success_rate;            /* completed / total * 100; 0 when total is 0 */
	int64_t total_retries;
	int64_t total_executions;
	bool has_avg_duration_seconds;  /* None when no execution has a duration */
	double avg_duration_seconds;
	bool has_successful_executions; /* None when there is no execution at all
					   (SQL SUM over no rows), as the original */
	int64_t successful_executions;  /* executions with exit code 0 */
};

SL_API int sl_backend_statistics(struct sl_job_statistics *out, sl_backend *be, const char *job_id);

/* query_jobs() filters: NULL / false for none. */
struct sl_job_query {
	const char *status;             /* a JobStatus name */
	bool has_since;
	int64_t since_us;               /* updated_at >= since */
	int64_t limit;                  /* 0: SL_BACKEND_QUERY_LIMIT; negative: no limit */
};

/* One row of query_jobs(), the original's keys.  Owns its strings. */
struct sl_job_summary {
	char *id;
	char *name;
	enum sl_job_status status;
	int64_t total_sheets;
	int64_t last_completed_sheet;
	int64_t created_at_us;
	int64_t updated_at_us;
	bool has_completed_at;
	int64_t completed_at_us;
	char *error_message;
};

/* Jobs matching q (NULL: no filter), newest updated_at first.  SL_EINVAL for
 * an unknown status name.  *out is owned (NULL when empty):
 * sl_backend_summaries_free(). */
SL_API int sl_backend_query_jobs(struct sl_job_summary **out, size_t *n_out, sl_backend *be,
				 const struct sl_job_query *q);
SL_API void sl_backend_summaries_free(struct sl_job_summary *rows, size_t n);

/* ---- intention calls: exactly one event each --------------------------- */
/* Each returns SL_ENOTFOUND for an unknown job and SL_EINVAL for what the
 * rules refuse (a sheet below 1, a value outside its column's constraint;
 * projector/model/MODEL.md).
 * Unlike load() they do not recover a zombie first: the caller is the
 * job's runner. */

SL_API int sl_backend_sheet_started(sl_backend *be, const char *job_id, int64_t sheet_num);

/* sheet_completed(); NULL: validation passed, no details, no duration. */
struct sl_sheet_completion {
	bool has_validation_passed;     /* absent: true, as the original */
	bool validation_passed;
	const char *validation_details; /* JSON text or NULL */
	bool has_duration_seconds;
	double duration_seconds;
};
SL_API int sl_backend_sheet_completed(sl_backend *be, const char *job_id, int64_t sheet_num,
				      const struct sl_sheet_completion *c);

/* sheet_failed(); NULL: no message (the rule's default message), nothing else. */
struct sl_sheet_failure {
	const char *message;
	const char *category;           /* ErrorCategory; an unknown one is stored as NULL */
	bool has_exit_code;
	int64_t exit_code;
	bool has_exit_signal;
	int64_t exit_signal;
	const char *exit_reason;        /* ExitReason */
	bool has_duration_seconds;
	double duration_seconds;
};
SL_API int sl_backend_sheet_failed(sl_backend *be, const char *job_id, int64_t sheet_num,
				   const struct sl_sheet_failure *f);

SL_API int sl_backend_sheet_skipped(sl_backend *be, const char *job_id, int64_t sheet_num,
				    const char *reason);
SL_API int sl_backend_job_paused(sl_backend *be, const char *job_id, const char *reason);
SL_API int sl_backend_job_failed(sl_backend *be, const char *job_id, const char *message);
SL_API int sl_backend_job_resumed(sl_backend *be, const char *job_id);
SL_API int sl_backend_job_completed(sl_backend *be, const char *job_id);
SL_API int sl_backend_job_cancelled(sl_backend *be, const char *job_id, const char *reason);
/* SL_EINVAL for pid <= 0. */
SL_API int sl_backend_pid_set(sl_backend *be, const char *job_id, int64_t pid);
/* sheet_num 0: no sheet.  SL_EINVAL for a negative or NaN wait. */
SL_API int sl_backend_rate_limit_wait(sl_backend *be, const char *job_id, int64_t sheet_num,
				      double wait_seconds);

/* ---- events from outside ---------------------------------------------- */

/* Appends evs[0..n) (any jobs, any types: the form `statelog append` reads)
 * as one commit, after the rules have accepted every one of them in order,
 * each against its job's state as the events before it in evs leave it.
 * The door for events made outside the API; it holds them to exactly the
 * rules the calls above are held to.  An event with a time keeps it (the
 * log moves it forward if it is older than the log's last; SL_EINVAL when it
 * is more than SL_RULES_FUTURE_WINDOW_US ahead of the clock); one without
 * gets the commit's.  Refusal: the rules' code, nothing appended, and the
 * message "append: event K (TYPE) of job 'J': FIELD: REASON" with K
 * counted from 1.  On success the events hold their sequence numbers and
 * times, and *info (may be NULL) the commit's.  An execution id at or above
 * the next one record_execution() would give moves that one past it. */
SL_API int sl_backend_append(struct sl_commit_info *info, sl_backend *be, sl_event *const *evs,
			     size_t n);

#ifdef __cplusplus
}
#endif

#endif
