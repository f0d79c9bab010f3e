/* projector.h: the SQLite views of a log, and keeping them caught up (and
 * the snapshot store beside them, which time travel reads: history.h).
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
 * Every rule of the model comes from sl_rules_apply() (state.h): the
 * projector loads the affected job states, applies events in memory, and
 * writes each changed row once per transaction.
 */
#ifndef SL_PROJECTOR_H
#define SL_PROJECTOR_H

#include <stdbool.h>
#include <stdint.h>

#include <sqlite3.h>

#include "log.h"
#include "sl_api.h"
#include "state.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Version of the view schema (schema/views.sql); a database of another
 * version is rebuilt when opened. */
#define SL_VIEWS_VERSION 2

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
	uint32_t max_wait_ms;         /* sl_proj_catch_up() stops after the
					 transaction that passes this long (the
					 views then hold a prefix of the log,
					 stats.behind says how much is left), so
					 that a reader beside a fast writer
					 answers in bounded time; 0 (default):
					 no bound */
};

SL_API void sl_proj_options_init(struct sl_proj_options *o);

struct sl_proj_stats {
	uint64_t events_applied;
	uint64_t transactions;
	uint64_t last_seq;            /* position after the call */
	bool rebuilt;                 /* open found a stale schema, a database
					 ahead of the log or written by another
					 program, and rebuilt it */
	char rebuilt_why[256];        /* then: why, one line ("" otherwise) */
	uint64_t unknown_events;      /* events of unknown types (stop catch-up:
					 SL_EUNKNOWN; counted by rebuild --force) */
	uint64_t gaps;                /* sequence numbers lost to a repair */
	uint64_t rejected_events;     /* events the rules refuse (sl_rules_apply()
					 says SL_EINVAL: e.g. a sheet event for a
					 deleted job): listed in statelog_events,
					 they change no view, as in the model */
	uint64_t first_rejected_seq;  /* the first of them (0: none) */
	uint64_t behind;              /* events of the log not applied because
					 max_wait_ms ran out (0: caught up) */
	struct sl_refusal first_refusal; /* why the rules refused it */
};

/* Opens (creating when missing) the database at db_path for the log in
 * log_dir.  A database of another view version is rebuilt.  One ahead of
 * the log (its last applied commit is not in the log) is rebuilt when
 * recovery cut a torn tail from the log (a crash took the commit after the
 * views saw it: log/FORMAT.md, "The ends of a log"), and is SL_ECORRUPT,
 * the message naming both positions, otherwise: the log lost events the
 * views hold, and only sl_proj_rebuild(), asked for, rebuilds them from the
 * log as it is.  A database projected from another log is SL_EFOREIGN.  WAL mode; foreign keys on.  err gets a one-line
 * message on failure. */
SL_API int sl_proj_open(sl_proj **out, const char *log_dir, const char *db_path,
			const struct sl_proj_options *opts, struct sl_proj_stats *stats,
			char *err, size_t errlen);

/* Closes the database and the reader and frees the handle.  Removes a
 * private copy (copy_if_read_only).  Returns SL_OK or the first error met
 * (closing the database); the handle is freed either way.  NULL is
 * allowed. */
SL_API int sl_proj_close(sl_proj *p);

/* The database the handle works on is a private copy (copy_if_read_only):
 * the path of that copy; NULL when it works on db_path itself. */
SL_API const char *sl_proj_private_copy(const sl_proj *p);

/* Applies every committed event after the last applied one, in batched
 * transactions.  Idempotent; safe to kill at any moment. */
SL_API int sl_proj_catch_up(sl_proj *p, struct sl_proj_stats *stats);

/* Projects the whole log into a new database file beside db_path, then
 * replaces db_path atomically (readers of the old file keep it until they
 * reopen; none ever sees a half-built one). */
SL_API int sl_proj_rebuild(const char *log_dir, const char *db_path, const struct sl_proj_options *opts,
			   struct sl_proj_stats *stats, char *err, size_t errlen);

/* An as-of database, written by `statelog at` (sl_tt_write_db()): the
 * sequence number it stays at; 0 for live views.  Such a database is read
 * as it is: sl_proj_catch_up() leaves it where it is. */
SL_API uint64_t sl_proj_as_of_seq(sl_proj *p);

/* The sequence number of the last applied event (0: none). */
SL_API uint64_t sl_proj_last_seq(sl_proj *p);

/* The database connection, borrowed for queries until sl_proj_close(). */
SL_API sqlite3 *sl_proj_db(sl_proj *p);

/* Reads a job's state from the views.  SL_ENOTFOUND when the job has no row. */
SL_API int sl_proj_load_job(struct sl_job_state *out, sl_proj *p, const char *job_id);

SL_API const char *sl_proj_errmsg(sl_proj *p);

/* ---- the snapshot store ---- */

/* Defaults: time travel replays at most this many events after a point. */
#define SL_SNAP_DEFAULT_EVERY 10000
#define SL_SNAP_DEFAULT_KEEP_LAST 256
#define SL_SNAP_DEFAULT_HOURLY_HOURS 48
#define SL_SNAP_DEFAULT_DAILY_DAYS 0

/* When catch-up takes snapshot points, and how long they are kept (see
 * history.h, "Snapshots").  Old points are pruned: the last keep_last are
 * kept, then the newest of each hour for hourly_hours, then the newest of
 * each day (for daily_days; 0: for ever).  Hours and days are of log time. */
struct sl_snap_options {
	bool disabled;                  /* take no snapshots (time travel still
					   uses those there are) */
	uint64_t every;                 /* events between points */
	uint32_t keep_last;             /* points always kept (>= 1) */
	uint32_t hourly_hours;          /* then one per hour, for this long */
	uint32_t daily_days;            /* then one per day, for this long; 0: ever */
};

SL_API void sl_snap_options_init(struct sl_snap_options *o);

/* Changes the snapshot options of a projector (one opened with
 * no_snapshots gets a store).  SL_EINVAL for every == 0 or keep_last == 0. */
SL_API int sl_proj_set_snapshots(sl_proj *p, const struct sl_snap_options *o);

/* The snapshot store of p's views: its points and size in bytes (with its
 * WAL), and how many points could not be taken since p was opened, with
 * the last such failure ("" when none).  All zero when p has no store. */
struct sl_snapshot_usage {
	uint64_t points;
	uint64_t bytes;
	uint64_t failures;
	char last_failure[512];
	uint64_t keyframe_seq;          /* the keyframe's point (history.h), 0: none */
	uint64_t keyframe_bytes;        /* its file's size */
};

SL_API int sl_proj_snapshot_usage(struct sl_snapshot_usage *out, sl_proj *p);

/* Creates the views (schema/views.sql: every table and index, the
 * schema_version rows, statelog_meta for the log log_id_hex at position 0)
 * in db, which must hold no table, in one transaction.  For tools that
 * build a database of their own (a benchmark's baseline, an import).
 * SL_ESQLITE with the message in err. */
SL_API int sl_proj_create_views(sqlite3 *db, const char *log_id_hex, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
