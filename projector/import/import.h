/* import.h: a new log bootstrapped from what the original Python backend
 * left behind (`statelog import`).
 *
 * Two kinds of source, never mixed in one import:
 *  - its SQLite database, schema versions 1 to 4 (projector/model/MODEL.md):
 *    the version is read from the schema_version rows and from the columns
 *    actually present (v1 lacks jobs.config_path and the three v3 sheet
 *    columns and calls success_without_retry first_attempt_success);
 *  - its JSON state files, one per job: the whole CheckpointState as a JSON
 *    object (job_id, job_name, ..., "sheets": {"1": {...}}).
 *
 * The events keep the original times: each job is created at its
 * created_at (earlier only when a history row of it is older still), its
 * columns and sheets are set at its updated_at (job_fields_set and
 * sheet_fields_set carrying every stored time), and each execution_history
 * row becomes an execution_recorded with execution_id = the row's id at its
 * executed_at.  Events are appended in time order, as the log requires.
 *
 * Nothing is written until the whole source has been read and checked.  The
 * log is then built in a temporary directory beside the target, projected
 * into a temporary database beside the target database, and the projection
 * is compared with the source row by row and column by column (after
 * normalising v1-v3 differences).  Only when all of that succeeded are the
 * two renamed into place, so a failed import leaves nothing behind.
 *
 * Duplicates: an import always creates a new log; it refuses (SL_EEXIST) a
 * target log directory that exists and is not empty, and a target database
 * that exists.  Importing the same source again into the same place is
 * therefore refused, and the first import stays untouched.
 *
 * Errors: SL_ECORRUPT when a source row is damaged (see sl_import_problem():
 * the file, job, sheet, history id, column and value) or when the projection
 * does not answer as the source did (the column and both values);
 * SL_EINVAL when a file is not a database or state file of the original, or
 * sources are mixed; SL_EVERSION for a schema version above 4; SL_ENOTFOUND
 * for a missing source; SL_EEXIST as above; SL_EIO, SL_ESQLITE, SL_ENOMEM.
 * sl_import_errmsg() gives one line naming the file and the cause.  Nothing
 * here prints or exits.
 */
#ifndef SL_IMPORT_H
#define SL_IMPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "log.h"
#include "sl_api.h"
#include "sl_error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sl_import sl_import;

/* Called now and then during sl_import_write() with the phase ("writing
 * the log", "projecting", "comparing") and its progress in bytes of events
 * (done of total, the same total in every phase). */
typedef void (*sl_import_progress_fn)(void *ctx, const char *phase, uint64_t done,
				      uint64_t total);

struct sl_import_options {
	sl_import_progress_fn progress;   /* NULL: none */
	void *progress_ctx;
	uint32_t commit_events;           /* events per commit; default 4096 */
};

/* Fills *opts with the defaults above. */
SL_API void sl_import_options_init(struct sl_import_options *opts);

/* Where a source is damaged, or where the projection differs from it.
 * Empty strings and zeroes for what does not apply. */
struct sl_import_problem {
	char source[512];        /* the file */
	char job_id[256];        /* the job of the row */
	int64_t sheet_num;       /* the sheet of the row (0: a job row) */
	int64_t execution_id;    /* an execution_history row's id (0: none) */
	char column[64];         /* the column (or JSON key) */
	char value[256];         /* the source's value, as text ("NULL") */
	char projected[256];     /* a mismatch: the projection's value */
};

struct sl_import_report {
	int source_version;      /* 1..4 for a database, 0 for JSON files */
	int recorded_version;    /* the highest schema_version row (0: none) */
	char note[256];          /* when the two disagree: which was followed */
	uint64_t jobs, sheets, executions;
	uint64_t events, commits;
	int64_t first_time_us, last_time_us;   /* of the events (0: none) */
	uint64_t rows_compared;  /* rows of jobs, sheets and execution_history */
	/* Values the original's load() would change as it reads the row (its
	 * load-time invariants: an in_progress sheet without started_at gets
	 * one, a running job loses completed_at, ...).  The events carry the
	 * value load() returns; the comparison accepts it in those cells. */
	uint64_t fixes;
	char fixes_note[512];    /* the first few: "job 'J' sheet N started_at: NULL -> T; ..." */
	/* Timestamps of the database in another form of the same instant than
	 * the original's fixed one (no offset, as older versions wrote them, read
	 * as UTC; another offset, converted to UTC): stored in the original's
	 * form; the comparison takes them as the same instant. */
	uint64_t normalized;
	char normalized_note[512];  /* the first few: "job 'J' sheet N started_at: 'T1' -> T2" */
	char log_id[2 * SL_LOG_ID_SIZE + 1];
	/* Text cells holding NUL characters (Python stores them; an event's
	 * text cannot hold one): stored with U+FFFD (EF BF BD) in place of each
	 * NUL; the comparison takes that as the source's text.  Ids and JSON
	 * documents holding one are refused as damaged. */
	uint64_t replaced;
	char replaced_note[512];    /* the first few: "job 'J' sheet N error_message" */
	/* Fields of the JSON state files that the tables have no column for
	 * (instruments_used, quota_waits, a sheet's error_history, ...): kept
	 * with the job (its extra fields), shown by `show --json` and given
	 * by the Python package's load().  Counted one per field. */
	uint64_t kept;
	char kept_note[512];        /* the first few: "job 'J': a, b; job 'J' sheet 1: c" */
};

/* A new, empty import.  opts may be NULL (defaults).  *out is owned: free
 * it with sl_import_free().  SL_ENOMEM. */
SL_API int sl_import_new(sl_import **out, const struct sl_import_options *opts);

/* NULL is allowed.  Closes the source database. */
SL_API void sl_import_free(sl_import *imp);

/* After a failed read the handle refuses everything but sl_import_errmsg(),
 * sl_import_problem() and sl_import_free(). */

/* Reads the original's database at path: every job and sheet row is read
 * and checked now, every history row too (their text is read again when
 * written).  The database is opened read-only and kept open, in one read
 * transaction, until sl_import_free(), so that the rows written and the
 * rows compared are the same.  At most one database per import. */
SL_API int sl_import_read_db(sl_import *imp, const char *path);

/* Reads JSON state files: path is a file, or a directory whose *.json
 * files are all read (in name order).  May be called several times.  Each
 * must be a regular file (or a link to one): anything else (a FIFO, which
 * would block the read forever, a device, a socket, a directory named
 * *.json) is SL_EINVAL naming it, checked before a byte is read, as
 * sl_import_read_db() refuses what is not a file; the import is then
 * broken (nothing can be written).  Keys
 * the database has no column for are ignored, as the original's SQLite
 * backend ignores them; a missing key takes the original's default, except
 * job_id, job_name, total_sheets, created_at and updated_at, which are
 * required. */
SL_API int sl_import_read_json(sl_import *imp, const char *path);

/* Writes what was read into a new log in log_dir, projects it into db_path,
 * and compares (see the top of this file).  *out (may be NULL) is filled on
 * success.  Call once. */
SL_API int sl_import_write(sl_import *imp, const char *log_dir, const char *db_path,
			   struct sl_import_report *out);

/* The report so far (the source version after a read, the counts after a
 * write), for a caller that wants to say what it read before failing. */
SL_API void sl_import_get_report(struct sl_import_report *out, const sl_import *imp);

/* The last error, "" when none.  Borrowed until the next call on imp. */
SL_API const char *sl_import_errmsg(const sl_import *imp);

/* Where the last SL_ECORRUPT was found, or NULL after any other outcome.
 * Borrowed until the next call on imp. */
SL_API const struct sl_import_problem *sl_import_problem(const sl_import *imp);

#ifdef __cplusplus
}
#endif

#endif
