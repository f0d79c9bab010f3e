/* backend_internal.h: what the files of the backend share; not part of the
 * API.  backend.c: open/close, load, save, delete, list_jobs, next_sheet;
 * backend_calls.c: the calls that append one event; backend_cache.c: the
 * cache of job states and the append path; backend_views.c: every call
 * that reads the SQLite views.
 *
 * Locks, always taken in this order, never the other way:
 *   entry->mu    one job: serializes every call on it (a save is diffed
 *                against the state it replaces, so the diff and the append
 *                must not interleave with another change to the job);
 *   proj_mu      the projector and its SQLite connection (one connection,
 *                not safe to share);
 *   mu           the cache table, the LRU clock and the execution ids.
 * mu is held only for table lookups, never across I/O.  The log does its
 * own locking; appends for different jobs run concurrently and so share
 * fsyncs (group commit).
 */
#ifndef SL_BACKEND_INTERNAL_H
#define SL_BACKEND_INTERNAL_H

#include <pthread.h>
#include <stdarg.h>

#include <sqlite3.h>

#include "backend.h"
#include "event_internal.h"
#include "history.h"
#include "jobmap.h"
#include "views.h"

/* The statements prepared once on the views' connection (backend_views.c). */
enum sl_be_stmt {
	BE_ST_HISTORY_ALL,
	BE_ST_HISTORY_SHEET,
	BE_ST_HISTORY_COUNT,
	BE_ST_STATS_JOB,
	BE_ST_STATS_EXEC,
	BE_ST_QUERY,
	BE_ST_JOB_IDS,
	BE_ST_MAX_EXEC_ID,
	BE_ST_VIEWS_SEQ,
	BE_ST_BEGIN,
	BE_ST_END,
	BE_N_STMT,
};

/* One job in the cache (backend_cache.c). */
struct sl_be_entry {
	struct sl_jobmap_node node;     /* in be->jobs, keyed by id */
	char *id;
	pthread_mutex_t mu;             /* held for every call on this job */
	unsigned refs;                  /* users, pinned under be->mu */
	uint64_t last_use;
	bool loaded;                    /* st is current; else read the views */
	uint64_t gen;                   /* the log's foreign_gen when st was known
					   current: other writers have appended
					   since when the log's has grown */
	bool held;                      /* this call holds the log (sl_log_hold) */
	struct sl_job_state st;
};

struct sl_backend {
	char *log_dir;
	char *db_path;
	bool read_only;
	char rebuilt_why[256];           /* sl_backend_views_rebuilt() */
	bool full_text;
	enum sl_durability durability;
	bool (*pid_alive)(int64_t pid, void *ctx);
	void *pid_ctx;

	sl_log *log;                    /* NULL when read-only */

	pthread_mutex_t proj_mu;        /* guards proj, stmt_db, stmt, behind */
	uint64_t behind;                /* events the last catch-up left (read_wait_ms) */
	sl_proj *proj;
	sqlite3 *stmt_db;               /* the connection stmt[] were prepared on */
	sqlite3_stmt *stmt[BE_N_STMT];

	/* Live views (backend_live.c): the projector thread, woken by a
	 * commit.  live_mu guards the fields after it. */
	enum sl_views_mode views;
	uint32_t views_lag_ms;
	pthread_t live_thread;
	bool live_running;
	pthread_mutex_t live_mu;
	pthread_cond_t live_cv;
	bool live_pending;              /* a commit since the last catch-up */
	bool live_stop;
	int live_rc;                    /* the first failure of the thread */
	char live_err[512];

	pthread_mutex_t mu;             /* guards the fields below */
	struct sl_jobmap jobs;          /* of struct sl_be_entry */
	size_t cache_cap;
	uint64_t clock;                 /* LRU: bumped on every use of an entry */
	int64_t next_exec_id;
	uint64_t exec_gen;              /* foreign_gen when next_exec_id was last
					   checked against the views */
};

/* Sets the calling thread's last error for be and returns rc. */
int sl_be_fail(const sl_backend *be, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* SL_EINVAL with a message when id is NULL or empty. */
int sl_be_check_id(const sl_backend *be, const char *what, const char *id);

/* SL_EINVAL with a message on a read-only handle. */
int sl_be_check_writable(const sl_backend *be, const char *what);

/* ---- the cache and the append path (backend_cache.c) ------------------ */

int sl_be_cache_init(sl_backend *be);
/* Frees every entry; no call may be running. */
void sl_be_cache_free(sl_backend *be);

/* The entry of job_id, pinned and locked, its state read from the views if
 * it was not cached (absent when the job does not exist).  *out is set only
 * on success; release it with sl_be_entry_release(). */
int sl_be_entry_acquire(sl_backend *be, const char *job_id, struct sl_be_entry **out);
/* Reads e's state again from the views (caught up to the log's end, as of
 * seq at_least at least: sl_be_views_load_job()), as current at the log's
 * foreign_gen `gen`. */
int sl_be_entry_reload(sl_backend *be, struct sl_be_entry *e, uint64_t gen, uint64_t at_least);

/* Takes the right to write the log for e's call (unless it has it) and
 * makes e's state the job's latest: read again from the views, caught up,
 * when another writer appended since it was read.  Ended by the call's
 * next append, or by sl_be_entry_release(). */
int sl_be_entry_hold(sl_backend *be, const char *what, struct sl_be_entry *e);

/* Unlocks and unpins an entry (ending its hold); may drop idle entries
 * over the cache size. */
void sl_be_entry_release(sl_backend *be, struct sl_be_entry *e);

/* sl_be_entry_acquire() for a call that appends: SL_EINVAL for an empty id
 * or a read-only handle.  The entry comes with the log held
 * (sl_be_entry_hold()).  Whether the job exists is the rules' to say, when
 * the call's event is checked (SL_ENOTFOUND). */
int sl_be_job_begin(sl_backend *be, const char *what, const char *job_id, struct sl_be_entry **out);

/* Sets the message of a call the rules refused ("<what>: job 'J': <field>:
 * <reason>") and returns the rules' code. */
int sl_be_refused(const sl_backend *be, const char *what, const char *job_id,
		  const struct sl_refusal *why);

/* Gives an execution id to every execution_recorded event of evs that has
 * none: the next after the highest any writer gave (the views are read
 * again when another writer appended since they last were).  Called with
 * the log held. */
int sl_be_exec_ids(sl_backend *be, const char *what, sl_event *const *evs, size_t n);

/* Appends evs[0..n) as one commit for e's job (e locked), the log giving
 * every event its time, then applies them to the cached state.  info may be
 * NULL. */
int sl_be_job_append(sl_backend *be, const char *what, struct sl_be_entry *e,
		  sl_event **evs, size_t n, struct sl_commit_info *info);

/* Appends one event of `type` whose body is `body` (borrowed, on the
 * caller's stack) for e's job. */
int sl_be_append_one(sl_backend *be, const char *what, struct sl_be_entry *e,
		  Statelog__Event__BodyCase type, void *body);

/* projector/model/MODEL.md "zombie": a zombie job is paused, and the
 * recovery appended.  e is locked and live; e->loaded may be false after. */
int sl_be_recover_zombie(sl_backend *be, struct sl_be_entry *e);

/* ---- live views (backend_live.c) ------------------------------------- */

/* Starts the projector thread of SL_VIEWS_LIVE (nothing in other modes). */
int sl_be_live_start(sl_backend *be);
/* Stops it (after a last catch-up) and returns its first failure. */
int sl_be_live_stop(sl_backend *be);
/* A commit of this handle was appended: wakes the thread (LIVE) or catches
 * the views up before returning (SYNC).  The commit is in the log: a
 * failure to catch up is the views', kept for close() to report. */
void sl_be_views_changed(sl_backend *be, const char *what);

/* ---- the views (backend_views.c); each takes proj_mu itself ---------- */

/* Writes the log's pending commits and catches the views up, under
 * proj_mu. */
int sl_be_views_catch_up(sl_backend *be, const char *what);


/* Prepares what the views need once the projector is open. */
int sl_be_views_init(sl_backend *be);
/* Finalizes the statements; the projector is closed by the caller. */
void sl_be_views_fini(sl_backend *be);

/* Catches the views up, then reads the job's state in one read transaction
 * in which they are as of seq at_least at least (the log's end the caller
 * holds; 0: any): a rebuild in another process may copy older views in
 * after the catch-up, and a state read from them would be stale.  A job
 * with no row leaves *out as sl_state_init() makes it (absent) and returns
 * SL_OK. */
int sl_be_views_load_job(sl_backend *be, const char *job_id, uint64_t at_least,
			 struct sl_job_state *out);

/* The highest execution id the views have ever given (0: none). */
/* The highest execution id the views hold (or their AUTOINCREMENT counter
 * remembers), read from views caught up to at least seq at_least. */
int sl_be_views_max_exec_id(sl_backend *be, uint64_t at_least, int64_t *out);

/* The ids of every job, newest updated_at first.  Owned: free each and the
 * array. */
int sl_be_views_job_ids(sl_backend *be, char ***out, size_t *n_out);

#endif
