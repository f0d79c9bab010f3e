/* rows.h: the SQL side of the views (internal to views/): the
 * schema of schema/views.sql, and the few prepared statements that write a
 * job row, a sheet row, a history row, an event index row, delete a job,
 * move the position, and read a job back.  Rows are written generically
 * from the column catalogue of state.h, so a column added there needs no
 * code here.
 *
 * Every function returns SL_OK or a negative SL_* code; SQLite failures
 * are SL_ESQLITE with sqlite3_errmsg() (and what was being done) in
 * v->errmsg.  Nothing here begins or ends transactions: project.c does.
 */
#ifndef SL_ROWS_H
#define SL_ROWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "event.h"
#include "state.h"

/* The text of schema/views.sql, embedded at build time. */
extern const char sl_views_sql[];

/* Runs views.sql on db, which must hold no table, binding :now (the
 * formatted now_us) and :log_id.  The caller holds the transaction. */
int sl_rows_create(sqlite3 *db, const char *log_id_hex, int64_t now_us,
		    char *err, size_t errlen);

/* What statelog_meta says.  has_meta is false when the database has no
 * statelog_meta table; n_tables counts the tables it has (0: empty). */
struct sl_rows_meta {
	bool has_meta;
	int64_t n_tables;
	char log_id[64];
	int64_t views_version;
	uint64_t last_seq;
	uint32_t last_crc;
	uint64_t as_of_seq;             /* written by `statelog at` (0: live views) */
	int64_t foreign_writes;         /* rows other programs wrote (views.sql) */
};

/* Reads statelog_meta (ad hoc statements: called once per open). */
int sl_rows_read_meta(sqlite3 *db, struct sl_rows_meta *out, char *err, size_t errlen);

/* statelog_events rows are inserted this many to a statement, and
 * execution_history rows this many: one row per event is the projector's
 * most frequent write, and a statement's own cost (and, for history, the
 * AUTOINCREMENT bookkeeping) is larger than a small row's. */
#define SL_ROWS_EVENTS_PER_STMT 16
#define SL_ROWS_EXECS_PER_STMT 4

/* One statelog_events row; the strings are borrowed for the call. */
struct sl_rows_event {
	uint64_t seq;
	const char *time;
	const char *job_id;             /* NULL allowed */
	int64_t sheet;                  /* 0: NULL */
	const char *type;
};

/* The execution_history row of an execution_recorded event: id = its
 * execution_id (NULL when absent: the next AUTOINCREMENT id), executed_at =
 * time (the event's, formatted); prompt_len and output_len are the
 * strlen() of the prompt and output (0 when absent).  Borrowed. */
struct sl_rows_exec {
	const sl_event *ev;
	const char *time;
	size_t prompt_len, output_len;
};

struct sl_rows {
	sqlite3 *db;                    /* borrowed */
	sqlite3_stmt *put_job, *put_sheet, *put_exec, *put_execs, *put_event, *put_events;
	sqlite3_stmt *del_history, *del_sheets, *del_job;
	sqlite3_stmt *get_job, *get_sheets, *get_deleted;
	sqlite3_stmt *set_meta;
	/* statelog_extra; NULL in a database of views version 1 (an as-of
	 * file written before it), which has no extras. */
	sqlite3_stmt *put_extra, *get_extra, *del_extra;
	char errmsg[512];
};

/* Prepares every statement once.  v is zeroed first; on failure nothing
 * stays prepared. */
int sl_rows_prepare(struct sl_rows *v, sqlite3 *db);

/* Finalizes the statements.  A zeroed v is fine. */
void sl_rows_finalize(struct sl_rows *v);

/* A job the views have no row for: the state the rules left it in when
 * the views show it was created and then deleted (presence
 * SL_JOB_DELETED, id, updated_at_us = the time of the deletion; found
 * through statelog_events: its last job_deleted after a job_created), so
 * that a rule refusing an event of a deleted job gives the same reason
 * whether or not the deletion was applied by this process.  SL_ENOTFOUND
 * when the views know no such deletion. */
int sl_rows_load_deleted(struct sl_rows *v, const char *job_id, struct sl_job_state *out);

/* Inserts or replaces the jobs row of st (live, with an id). */
int sl_rows_put_job(struct sl_rows *v, const struct sl_job_state *st);

/* Inserts or replaces one sheets row of job_id. */
int sl_rows_put_sheet(struct sl_rows *v, const char *job_id, const struct sl_sheet_state *sh);

/* Inserts n execution_history rows, in order. */
int sl_rows_put_executions(struct sl_rows *v, const struct sl_rows_exec *rows, size_t n);

/* Inserts n statelog_events rows. */
int sl_rows_put_events(struct sl_rows *v, const struct sl_rows_event *rows, size_t n);

/* Deletes a job's history, sheets and jobs row (explicitly, children
 * first: rows written in the current transaction before the jobs row
 * was are gone as well).  No row is fine. */
int sl_rows_delete_job(struct sl_rows *v, const char *job_id);

/* Writes the position: last_seq and last_commit_crc. */
int sl_rows_set_position(struct sl_rows *v, uint64_t seq, uint32_t crc);

/* Reads the jobs row and the sheets rows (in sheet_num order) of job_id
 * into *out (a live state).  *out is set only on success; SL_ENOTFOUND
 * when there is no jobs row; SL_ECORRUPT when a stored value cannot be
 * what statelog writes (a bad time or status, NULL in a NOT NULL column). */
int sl_rows_load_job(struct sl_rows *v, const char *job_id, struct sl_job_state *out);

/* Runs one or more statements without results (pragmas, BEGIN, ...).
 * SL_ESQLITE with the message in err. */
int sl_rows_exec(sqlite3 *db, const char *sql, char *err, size_t errlen);

#endif
