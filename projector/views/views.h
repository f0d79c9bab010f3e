/* views.h: what views/ offers the layers above it in projector/ (history,
 * import, backend); not installed.  The public API is projector.h.
 *
 * views/ owns the SQLite files derived from a log: the views database and,
 * beside it, the snapshot store; and keeping both caught up with the log.
 * It may call model/ and the log, nothing above.  struct sl_proj is private
 * to it (views_internal.h): the layers above see the handle through the
 * accessors below.
 *
 * Files:
 *   rows.c       the SQL of the rows: schema/views.sql, a job's rows in and out
 *   cache.c      job states in memory during catch-up (written once per transaction)
 *   feed.c       the log's events decoded, in a thread of their own for long runs
 *   fetch.c      chosen events by sequence number (the audit, time travel)
 *   project.c    the handle, open, catch-up, the commit hooks
 *   rebuild.c    a whole log into a new file, put in place atomically
 *   asof.c       the views as of a point into a new file (whole-database time travel)
 *   snapshot.c   the snapshot store: points taken at catch-up's commits, found again
 *   wbvfs.c      an SQLite VFS that writes a file being built from a thread of its own
 *   privcopy.c   a private copy of views that cannot be written; copying a file
 *   keyframe.c   the keyframe's file: the views as of one point, kept for time travel
 *   sqlerr.c     SQLite failures as messages
 */
#ifndef SL_VIEWS_H
#define SL_VIEWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "fetch.h"
#include "projector.h"
#include "snapshot.h"

/* ---- the handle, seen from above ---------------------------------------- */

const char *sl_proj_log_dir(const sl_proj *p);
/* The database the handle works on (a private copy's path when it works on
 * one: see sl_proj_private_copy()). */
const char *sl_proj_db_path(const sl_proj *p);
/* The log id, 32 hex digits. */
const char *sl_proj_log_id(const sl_proj *p);
/* The handle's reader of the log, borrowed; used by one thread at a time,
 * as the handle is. */
sl_reader *sl_proj_reader(sl_proj *p);
/* The snapshot store of the views, NULL when the handle has none. */
struct sl_snap *sl_proj_snapshots(sl_proj *p);

/* The last sequence number the log holds now (0: empty). */
int sl_proj_log_last_seq(uint64_t *out, sl_proj *p);

/* Sets the handle's message (sl_proj_errmsg()). */
void sl_proj_set_error(sl_proj *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- commit hooks --------------------------------------------------------- */

/* Something that follows catch-up: the snapshot store takes its points
 * through one, a test may stop a process in mid-transaction through one.
 * Every callback may be NULL; none may call catch-up itself. */
struct sl_proj_hook {
	/* After each event (or gap) is applied inside a catch-up transaction,
	 * before it commits: whether the transaction should end with the
	 * commit that holds pos (transactions only ever end at the end of a
	 * log commit). */
	bool (*break_due)(void *ctx, uint64_t pos);
	/* After a catch-up transaction committed, its last event at pos in a
	 * commit of chain value crc.  The connection (sl_proj_db()) holds no
	 * transaction; the states catch-up keeps are all written, so
	 * sl_proj_committed_state() answers from memory where it can. */
	void (*committed)(void *ctx, sl_proj *p, uint64_t pos, uint32_t crc);
	/* Frees ctx when the handle closes. */
	void (*free)(void *ctx);
	void *ctx;
};

/* Adds a hook (copied); at most SL_PROJ_MAX_HOOKS.  SL_EINVAL past it. */
#define SL_PROJ_MAX_HOOKS 4
int sl_proj_add_hook(sl_proj *p, const struct sl_proj_hook *h);

/* The committed state of job_id (from catch-up's states in memory when it
 * holds the job, else from the views), for a hook's committed callback.  A
 * job with no row leaves *out absent (sl_state_init()) and returns SL_OK. */
int sl_proj_committed_state(struct sl_job_state *out, sl_proj *p, const char *job_id);

/* A job with no row in the views: the deleted state the rules left it in
 * (rows.h, sl_rows_load_deleted()), or SL_ENOTFOUND when the views know of
 * no deletion.  For a cache that must refuse events of a deleted job with
 * the same reason as the projector. */
int sl_proj_load_deleted(struct sl_job_state *out, sl_proj *p, const char *job_id);

/* ---- the views as of a point (asof.c) ------------------------------------- */

/* A database of the views as of a point being written (asof.c explains how).
 * Used in this order: begin; from a snapshot point: touched, prune, then
 * seed; finish.  abort at any step instead (nothing is left behind). */
struct sl_asof;

/* The keyframe: a whole database of the views as of one snapshot point,
 * kept beside them as "<db>.keyframe" (made by time travel: history.h,
 * sl_tt_keyframe_refresh()), from which the database as of a point near it
 * is made faster than from the live views (asof.c). */
struct sl_keyframe {
	uint64_t seq;                   /* its point */
	uint32_t crc;                   /* the commit crc there, as it says */
};

/* "<db>.keyframe" for p's database (the caller's, when p works on a private
 * copy); NULL when out of memory.  Free it. */
char *sl_keyframe_path(const sl_proj *p);

/* Reads what the keyframe says of itself: SL_OK when it is a database of
 * the views of p's log, of this views version, as of its own position;
 * SL_ENOTFOUND when there is none, SL_ECORRUPT when there is a file that
 * is not that (why in sl_proj_errmsg(p)).  Whether its point is still the
 * log's is for the caller to check against the snapshot points. */
int sl_keyframe_read(sl_proj *p, struct sl_keyframe *out);

/* Makes the database file at made (complete, as sl_asof_finish() leaves
 * it) the keyframe, replacing the old one atomically. */
int sl_keyframe_install(sl_proj *p, const char *made);

/* How sl_asof_begin() makes the views as of a point. */
enum sl_asof_way {
	SL_ASOF_INSERT,                 /* the live rows before it, inserted */
	SL_ASOF_COPY_LIVE,              /* a copy of the live database (its files, as
					   of one moment), what came after the point
					   taken back */
	SL_ASOF_COPY_KEYFRAME,          /* a copy of the keyframe, what came after
					   the point taken back (nothing, from the
					   keyframe's own point) */
};

/* Starts the database as of a point at out_path (written as
 * "<out_path>.tmp", renamed by finish): from the snapshot point pt
 * (borrowed until finish or abort), or from the start of the log when pt is
 * NULL (way is then ignored).  From a point, in the way given: inserting,
 * a read transaction on p's views stays open until the seed; copying, kf
 * (SL_ASOF_COPY_KEYFRAME: at or after pt) is the keyframe chosen, refused
 * if the file is no longer it.  Refuses (SL_EINVAL) an out_path that names
 * p's database.  Messages in sl_proj_errmsg(p). */
int sl_asof_begin(struct sl_asof **out, sl_proj *p, const char *out_path,
		  const struct sl_snap_point *pt, enum sl_asof_way way,
		  const struct sl_keyframe *kf);

/* A job with an event after the point, as the read transaction sees it. */
struct sl_asof_job {
	char *id;
	bool deleted_after;             /* it has a job_deleted after the point */
	uint64_t deleted_before;        /* its last job_deleted at or before the
					   point (0: none) */
};

/* The jobs with an event after the point.  *out is owned: free it with
 * sl_asof_jobs_free(). */
int sl_asof_touched(struct sl_asof_job **out, size_t *n_out, struct sl_asof *a);
void sl_asof_jobs_free(struct sl_asof_job *jobs, size_t n);

/* Writes the live rows of every job not in touched, as of the point (in a
 * copy: takes back the rows of the touched jobs and what came after the
 * point).  It uses only a's own connection and writes nothing of p, not
 * even a message: it may run in one thread while another reads through p
 * (the touched jobs' states, for the seed).  A failure is returned, and
 * again by sl_asof_seed(), which passes its message to p. */
int sl_asof_prune(struct sl_asof *a, const struct sl_asof_job *touched, size_t n_touched);

/* After sl_asof_prune(): writes the states (as of the point) of the
 * touched jobs that were live then, and the history rows as of the point
 * of touched jobs deleted after it, given as their execution_recorded
 * events (with their ids).  Ends the read transaction. */
int sl_asof_seed(struct sl_asof *a, const struct sl_job_state *states, size_t n_states,
		 sl_event *const *execs, size_t n_execs);

/* Applies the rest of the log up to seq through catch-up, finishes the file
 * and renames it to out_path.  *replayed (may be NULL): events applied.
 * Frees a, whatever the outcome. */
int sl_asof_finish(struct sl_asof *a, uint64_t seq, uint64_t *replayed);

/* Gives up: removes what was written and frees a.  NULL is allowed. */
void sl_asof_abort(struct sl_asof *a);

/* ---- small helpers shared by the layers ------------------------------------ */

/* An SQLite failure of db as SL_ESQLITE, with "<path>: <what>: <message>"
 * written into msg (len bytes); a database replaced under an open
 * connection is said so. */
int sl_sql_fail(char *msg, size_t len, sqlite3 *db, const char *path, const char *what);

/* In msg, the path of p's private copy (copy_if_read_only) becomes the
 * original's, marked "(private copy)". */
void sl_proj_name_original(const sl_proj *p, char *msg, size_t len);

/* Removes the directory tree at path, as far as it can. */
void sl_proj_remove_tree(const char *path);

#endif
