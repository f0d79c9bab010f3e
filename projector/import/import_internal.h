/* import_internal.h: what the parts of the import share; nothing outside
 * import/ includes it.  import/ may call views/ (views.h), model/ and the
 * log; nothing above it.
 *   import.c       the handle, the events of each job, writing the new log,
 *                  projecting it, and putting both in place atomically
 *   import_db.c    reading the original's SQLite database (versions 1-4),
 *                  its history rows as events, and comparing the projection
 *                  with it row by row
 *   import_json.c  reading the original's JSON state files, and comparing
 *                  the projection with them job by job
 */
#ifndef SL_IMPORT_INTERNAL_H
#define SL_IMPORT_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "import.h"
#include "state.h"
#include "views.h"

/* One job read from a source: its whole state (live, id set), the file it
 * came from, and the time of its oldest history row. */
struct sl_imp_job {
	struct sl_job_state st;
	const char *source;             /* borrowed from sl_import.sources */
	bool has_first_exec;
	int64_t first_exec_us;
	/* The source's exact values where the state's differ (a text holding
	 * NUL): {"0": {column: value}, "<sheet>": {...}}, NULL when none.  The
	 * job's and each sheet's *FieldsSet carry theirs (field source). */
	struct json_t *exact;
};

enum sl_imp_kind { IMP_NONE = 0, IMP_DB, IMP_JSON };

/* A cell whose value the load-time invariants changed (see fixes in
 * struct sl_import_report): the projection holds the changed value. */
struct sl_imp_fix {
	char *job_id;                   /* owned */
	int64_t sheet_num;              /* 0: the job row */
	const char *column;             /* static (the column table) */
};

struct sl_import {
	struct sl_import_options opts;
	enum sl_imp_kind kind;
	struct sl_imp_job *jobs;           /* sorted by id once read (sl_imp_sort_jobs) */
	size_t n_jobs, cap_jobs;
	char **sources;                 /* the files read, owned */
	size_t n_sources;

	/* The database source (kind IMP_DB), open in a read transaction. */
	sqlite3 *src;
	const char *src_path;           /* borrowed from sources */
	bool col_config_path;           /* jobs.config_path exists (v2+) */
	bool col_v3[3];                 /* execution_duration_seconds, exit_signal,
					   exit_reason exist (v3+) */
	const char *col_success;        /* success_without_retry (v4) or
					   first_attempt_success (v1-v3) */
	uint64_t history_bytes;         /* prompt and output text, for progress */
	bool history_normalized;        /* an executed_at not in the original's form */
	uint64_t progress_total;        /* bytes of all events, for progress */

	struct sl_imp_fix *fixes;
	size_t n_fixes, cap_fixes;

	struct sl_import_report rep;
	bool written;                   /* sl_import_write() was called */
	bool broken;                    /* a read failed: nothing more is done */
	bool has_problem;
	struct sl_import_problem problem;
	char errmsg[2048];
};

/* ---- import.c ---------------------------------------------------------- */

/* Sets the message (and forgets any problem); returns rc. */
int sl_imp_fail(struct sl_import *imp, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Records a damaged source row or a mismatch: fills the problem from
 * *where (whose source, job_id, sheet_num, execution_id, column, value and
 * projected are used as given) and writes the message
 *   "<source>: job 'J', sheet N, execution_history id K: <column>: <what>"
 * leaving out the parts that are empty.  Returns SL_ECORRUPT. */
int sl_imp_damage(struct sl_import *imp, const struct sl_import_problem *where,
	       const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Copies s into a problem field of size n, cut to fit (with "..." when
 * cut); NULL becomes "NULL". */
void sl_imp_copy_field(char *dst, size_t n, const char *s);

/* A new job appended to imp->jobs (its state freshly initialised), with
 * source = the last of imp->sources.  *out is borrowed until the next job
 * is added.  SL_ENOMEM. */
int sl_imp_add_job(struct sl_import *imp, struct sl_imp_job **out);

/* Remembers path as a source; *out borrowed until sl_import_free(). */
int sl_imp_add_source(struct sl_import *imp, const char *path, const char **out);

/* The job with this id (imp->jobs sorted), or NULL. */
struct sl_imp_job *sl_imp_find_job(const struct sl_import *imp, const char *id);

/* Sorts imp->jobs by id; SL_ECORRUPT naming both sources when an id comes
 * twice. */
int sl_imp_sort_jobs(struct sl_import *imp);

/* The text of a time, and whether text is exactly how statelog (and the
 * original) writes the time it denotes: SL_OK with *us set, or SL_EINVAL
 * with why filled ("unparsable timestamp", "not in the original's form ..."). */
int sl_imp_parse_time(const char *text, bool canonical, int64_t *us, bool *normalized,
		      char *why, size_t whylen);

/* Counts a timestamp stored in the original's form although the source
 * wrote another form of the same instant (no offset, or another offset),
 * and notes the first few (the import's report says them). */
/* Records that the projection holds `after` in a cell (job `job`, sheet:
 * 0 for the job row; column: static) where the source has `before`, as the
 * original's load() reads the source (the comparison then accepts the
 * cell); counted and noted in the report's fixes.  SL_ENOMEM. */
int sl_imp_fix_cell(struct sl_import *imp, const char *job, int64_t sheet, const char *column,
		    const char *before, const char *after);

void sl_imp_note_normalized(struct sl_import *imp, const char *job, int64_t sheet,
			    int64_t execution_id, const char *column, const char *text, int64_t us);

/* Counts and notes a text cell (execution_id: of a history row, else 0)
 * stored with U+FFFD for each NUL it holds (report.replaced). */
void sl_imp_note_replaced(struct sl_import *imp, const char *job, int64_t sheet,
			  int64_t execution_id, const char *column);

/* Keeps the source's exact text (n bytes, NULs included) of column of a
 * job's row (sheet 0: the job's own) in *exact, a job's `exact` (created
 * when NULL), for its events.  SL_ENOMEM. */
int sl_imp_keep_exact(struct json_t **exact, int64_t sheet, const char *column,
		      const char *text, size_t n);

/* Holds a value read from a source to its column's constraint, the one the
 * rules hold every event to (sl_state_column_check()): SL_EINVAL with why
 * when the original's model refuses it (so its load() could never have read
 * it back), SL_ENOMEM.  owned is the text of a TEXT column (v->s is set to
 * it); on refusal it is freed. */
int sl_imp_check_value(const struct sl_state_column *c, struct sl_value *v, char *owned,
		       char *why, size_t whylen);

/* Whether the cell (job, sheet 0 for the job row, column) was changed by
 * the load-time invariants as the events were made. */
bool sl_imp_is_fixed(const struct sl_import *imp, const char *job_id, int64_t sheet_num,
		     const char *column);

/* Whether text (len bytes) is JSON the original could have written. */
bool sl_imp_valid_json(const char *text, size_t len, char *why, size_t whylen);

/* Column c of a state row as text for a problem ("NULL" for NULL). */
void sl_imp_value_text(const struct sl_state_column *c, const void *row, char *buf, size_t len);

/* Reports progress of the current phase (done of total units, scaled to
 * the import's bytes). */
void sl_imp_progress(struct sl_import *imp, const char *phase, uint64_t done, uint64_t total);

/* ---- import_db.c ------------------------------------------------------- */

/* The history rows in time order, as execution_recorded events. */
struct sl_imp_history {
	sqlite3_stmt *stmt;
	bool done;
	/* When a timestamp was not in the original's form, their text order
	 * is not time order: the rows by (time, id), read one by one. */
	int64_t *ids;
	size_t n_ids, next;
};

int sl_imp_db_history_open(struct sl_import *imp, struct sl_imp_history *h);

/* The next row as an owned event (*out NULL at the end). */
int sl_imp_db_history_next(struct sl_import *imp, struct sl_imp_history *h, sl_event **out);

void sl_imp_db_history_close(struct sl_imp_history *h);

/* Compares every row of jobs, sheets and execution_history of the source
 * with the projection in db.  SL_ECORRUPT (with the problem) at the first
 * difference. */
int sl_imp_db_compare(struct sl_import *imp, sqlite3 *db);

/* ---- import_json.c ----------------------------------------------------- */

/* Compares every job read from JSON files with the projection. */
int sl_imp_json_compare(struct sl_import *imp, sl_proj *p);

#endif
