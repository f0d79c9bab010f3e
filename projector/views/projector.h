/* projector.h: the SQLite views of a log, and keeping them caught up.
 *
 * The database is derived data: tables `jobs`, `sheets`, `execution_history`
 * and `schema_version` exactly as the original backend wrote them
 * (projector/model/MODEL.md, schema version 4), so the original or any
 * dashboard written for it reads a statelog database unchanged; plus
 * statelog's own bookkeeping tables (statelog_*: the log id, the last applied
 * sequence number and its commit crc, the view schema version, and an index
 * of events by sequence, time, job, sheet and type).
 *
 * Exactly-once: the position of the last applied event is written in the
 * same SQLite transaction as the rows it changed.  The views need not be
 * durable on their own (synchronous=OFF): after a crash, catch-up (or a
 * rebuild, when the database is found ahead of or foreign to the log)
 * brings them back to what the log says.
 *
 * Every rule of the model comes from sl_state_apply() (state.h): the
 * projector loads the affected job states, applies events in memory, and
 * writes each changed row once per transaction.
 */
#ifndef SL_PROJECTOR_H
#define SL_PROJECTOR_H

#include <stdbool.h>
#include <stdint.h>

#include <sqlite3.h>

#include "log.h"
#include "state.h"

/* Version of the view schema (schema/views.sql); a database of another
 * version is rebuilt when opened. */
#define SL_VIEWS_VERSION 1

/* A handle, and the connection sl_proj_db() lends, are used by one thread
 * at a time: the caller serializes (the connection is opened without
 * SQLite's own mutex).  Any number of handles and processes may work on one
 * database: each transaction first checks the position it starts from. */
typedef struct sl_proj sl_proj;

struct sl_proj_options {
	uint32_t batch_events;        /* events per transaction; default 50,000 */
	const struct sl_reader_options *reader;   /* NULL: defaults */
	sl_progress_fn progress;      /* rebuild progress (events done, total) */
	void *progress_ctx;
	bool skip_unknown;            /* count events of unknown types and go on
					 (`rebuild --force`) instead of stopping
					 with SL_EUNKNOWN; default false */
	bool no_snapshots;            /* take no time-travel snapshot points
					 (`rebuild --no-snapshots`); default false */
	bool copy_if_read_only;       /* when the database cannot be written
					 here (a read-only file system, no
					 permission on it or its directory):
					 work on a private copy of it and of
					 its snapshot store (one consistent
					 state of each, WAL included; see
					 privcopy.c) in a new directory under
					 $TMPDIR (or /tmp), caught up there
					 and removed by sl_proj_close(); for
					 readers (the dashboards, audit, time
					 travel); the original is never
					 written.  The copy costs the size of
					 the database in $TMPDIR and the time
					 to copy it at every open.  Default
					 false: such a database is an error */
};

void sl_proj_options_init(struct sl_proj_options *o);

struct sl_proj_stats {
	uint64_t events_applied;
	uint64_t transactions;
	uint64_t last_seq;            /* position after the call */
	bool rebuilt;                 /* open found a stale schema or a database
					 ahead of the log, and rebuilt it */
	uint64_t unknown_events;      /* events of unknown types (stop catch-up:
					 SL_EUNKNOWN; counted by rebuild --force) */
	uint64_t gaps;                /* sequence numbers lost to a repair */
	uint64_t rejected_events;     /* events the rules refuse (sl_state_apply()
					 says SL_EINVAL: e.g. a sheet event for a
					 deleted job): listed in statelog_events,
					 they change no view, as in the model */
	uint64_t first_rejected_seq;  /* the first of them (0: none) */
};

/* Opens (creating when missing) the database at db_path for the log in
 * log_dir.  A database of another view version, or one ahead of the log
 * (its last applied commit is not in the log: a power loss took it from the
 * log after the views saw it), is rebuilt.  A database projected from
 * another log is SL_EFOREIGN.  WAL mode; foreign keys on.  err gets a one-line
 * message on failure. */
int sl_proj_open(sl_proj **out, const char *log_dir, const char *db_path,
		 const struct sl_proj_options *opts, struct sl_proj_stats *stats,
		 char *err, size_t errlen);

/* NULL is allowed.  Removes a private copy (copy_if_read_only). */
void sl_proj_close(sl_proj *p);

/* The database the handle works on is a private copy (copy_if_read_only):
 * the path of that copy; NULL when it works on db_path itself. */
const char *sl_proj_private_copy(const sl_proj *p);

/* Applies every committed event after the last applied one, in batched
 * transactions.  Idempotent; safe to kill at any moment. */
int sl_proj_catch_up(sl_proj *p, struct sl_proj_stats *stats);

/* Projects the whole log into a new database file beside db_path, then
 * replaces db_path atomically (readers of the old file keep it until they
 * reopen; none ever sees a half-built one). */
int sl_proj_rebuild(const char *log_dir, const char *db_path, const struct sl_proj_options *opts,
		    struct sl_proj_stats *stats, char *err, size_t errlen);

/* The sequence number of the last applied event (0: none). */
uint64_t sl_proj_last_seq(sl_proj *p);

/* The database connection, borrowed for queries until sl_proj_close(). */
sqlite3 *sl_proj_db(sl_proj *p);

/* Reads a job's state from the views.  SL_ENOTFOUND when the job has no row. */
int sl_proj_load_job(sl_proj *p, const char *job_id, struct sl_job_state *out);

const char *sl_proj_errmsg(sl_proj *p);

/* ---- time travel (timetravel.c; snapshots and the whole database as of
 * a point: timetravel.h) ---- */

/* The job's whole state as it was after event seq (1 .. the log's last),
 * replayed from its newest snapshot with sl_state_apply().  *out is a live
 * state (sl_state_free()).  The views are caught up first when behind seq.
 * SL_ENOTFOUND when the log has no such job or it did not exist at seq,
 * SL_EINVAL for seq 0 or past the end; the message is in sl_proj_errmsg(). */
int sl_proj_load_job_at(sl_proj *p, const char *job_id, uint64_t seq, struct sl_job_state *out);

/* The last event at or before time_us: *out its seq.  The views are caught
 * up first.  SL_EINVAL when time_us is before the log's first event,
 * SL_ENOTFOUND for an empty log. */
int sl_proj_seq_at_time(sl_proj *p, int64_t time_us, uint64_t *out);

/* Creates the views (schema/views.sql: every table and index, the
 * schema_version rows, statelog_meta for the log log_id_hex at position 0)
 * in db, which must hold no table, in one transaction.  For tools that
 * build a database of their own (a benchmark's baseline, an import).
 * SL_ESQLITE with the message in err. */
int sl_proj_create_views(sqlite3 *db, const char *log_id_hex, char *err, size_t errlen);

#endif
