/* views_internal.h: what the files of views/ share; nothing outside
 * views/ includes it (the layers above use views.h).
 *
 * The handle (struct sl_proj) is used by one thread at a time.  Its
 * invariants: pos/pos_crc are the position committed in the database (in
 * the current transaction while one is open); the states cache holds, for
 * each job it has, what the database holds plus the changes of the open
 * transaction (cache.h); hooks are called in the order they were added.
 */
#ifndef SL_VIEWS_INTERNAL_H
#define SL_VIEWS_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "cache.h"
#include "feed.h"
#include "rows.h"
#include "views.h"

/* Page size of the views: pages of 16 KiB hold most execution records
 * (prompt and output, about 4 KB) in one leaf page instead of a chain of
 * overflow pages. */
#define SL_PROJ_PAGE_SIZE 16384
#define SL_PROJ_BUSY_MS 10000
/* Events whose rows are written together (a multiple of SL_ROWS_EVENTS_PER_STMT). */
#define SL_PROJ_PEND (4 * SL_ROWS_EVENTS_PER_STMT)

struct sl_proj {
	char *log_dir;
	char *db_path;
	struct sl_proj_options opts;    /* opts.reader is NULL: see ropts */
	struct sl_reader_options ropts;
	bool has_ropts;
	sl_reader *reader;
	char log_id[2 * SL_LOG_ID_SIZE + 1];
	sqlite3 *db;
	struct sl_rows v;
	sqlite3_stmt *begin, *commit, *rollback, *get_pos;
	struct sl_cache cache;
	uint64_t pos;                   /* last applied seq, as committed */
	uint64_t as_of_seq;             /* an as-of database (`statelog at`): stays
					   at this seq, never caught up (0: live) */
	uint32_t pos_crc;
	struct sl_proj_hook hooks[SL_PROJ_MAX_HOOKS];
	size_t n_hooks;
	/* Events applied in the current transaction whose statelog_events
	 * rows (and execution_history rows, where pend_exec says so) are not
	 * written yet: they go several to a statement (views.h). */
	struct sl_feed_item pend[SL_PROJ_PEND];
	bool pend_exec[SL_PROJ_PEND];
	size_t n_pend;
	/* The snapshot store (snapshot.h), following catch-up through a hook
	 * of its own; NULL: none (opts.no_snapshots, or a handle that builds
	 * a file as of a point). */
	struct sl_snap *snap;
	/* copy_if_read_only: the private directory holding db_path (then a
	 * copy), removed on close, and the caller's database; both NULL when
	 * db_path is the caller's. */
	char *copy_dir;
	char *orig_path;
	char errmsg[1024];
};

/* One catch-up's bookkeeping. */
struct sl_proj_run {
	struct sl_proj_stats st;
	uint64_t limit;                 /* apply nothing past this seq */
	uint64_t unknown_seq;           /* stopped at an unknown event: its seq, */
	uint64_t unknown_commit;        /* the first seq of its commit, */
	uint32_t unknown_field;         /* its body's field number */
	uint64_t done, total;           /* progress */
};

/* sl_proj_set_error(), shorter. */
#define sl_proj_msg sl_proj_set_error

/* An SQLite failure of p's connection, as sl_sql_fail(). */
int sl_proj_sql_fail(struct sl_proj *p, const char *what);

/* ---- a private copy of views that cannot be written (privcopy.c) ---- */

/* Whether the database at path cannot be written by this process: the
 * file, or its directory (SQLite's WAL and shared-memory files and a
 * rebuild's new file go there). */
bool sl_proj_views_unwritable(const char *path);

/* Makes p->copy_dir and copies p->db_path's database and snapshot store
 * there, each in one read transaction; p->db_path becomes the copy. */
int sl_proj_copy_views(struct sl_proj *p);

/* Removes the journals of the database at base (-journal, -wal, -shm),
 * which SQLite would apply to a file of that name, and, when file_too, the
 * file itself (asof.c). */
void sl_proj_remove_db_files(const char *base, bool file_too);

/* Copies the file from into to (created with mode, or emptied), from its
 * start to its end as it is read; in the kernel where it can
 * (copy_file_range(2)).  SL_ENOTFOUND: from does not exist.  On failure,
 * msg says what failed. */
int sl_proj_copy_file(const char *from, const char *to, mode_t mode, char *msg, size_t msglen);

/* Removes the private copies under tmp (statelog-views-*, owned by this
 * user) whose process is gone: each holds a file "owner" with its pid; one
 * without it is removed once an hour old (a copy made by an older build, or
 * one whose maker died before writing it).  Returns how many it removed. */
int sl_proj_sweep_copies(const char *tmp);

/* Removes the private copy, if any. */
void sl_proj_copy_remove(struct sl_proj *p);

/* A new handle (no reader, no connection).  SL_ENOMEM. */
int sl_proj_alloc(struct sl_proj **out, const char *log_dir, const char *db_path,
		  const struct sl_proj_options *opts);

/* Opens p->reader on p->log_dir and notes the log id. */
int sl_proj_open_reader(struct sl_proj *p);

/* Opens p->db_path through the VFS named vfs (NULL: the default) with the
 * pragmas every connection of the projector sets (the page size for a new
 * file, foreign keys on, synchronous off, the page cache); journal_mode is
 * left to the caller. */
int sl_proj_open_conn(struct sl_proj *p, int cache_kib, const char *vfs);

/* Prepares what catch-up needs on p->db and reads the position. */
int sl_proj_attach(struct sl_proj *p);

/* Finalizes the statements, closes p->db, empties the cache. */
int sl_proj_detach(struct sl_proj *p);

/* Applies what the log holds after p->pos, up to run->limit, in
 * transactions.  SL_EUNKNOWN (run->unknown_* set) at an event of an
 * unknown type unless opts.skip_unknown: its transaction is rolled back. */
int sl_proj_catch_up_to(struct sl_proj *p, struct sl_proj_run *run);


/* Indexes built at the end rather than kept up to date row by row
 * (sorting once costs less): every index but those on execution_history,
 * through which a job's deletion finds its history rows.  Their SQL, as
 * views.sql wrote it into sqlite_master, is kept to run again. */
struct sl_deferred {
	char *sql[16];
	size_t n;
};

void sl_proj_deferred_free(struct sl_deferred *d);
/* Drops every index but those on execution_history, keeping their SQL. */
int sl_proj_defer_indexes(struct sl_proj *p, struct sl_deferred *d);
/* Creates them again. */
int sl_proj_create_deferred(struct sl_proj *p, const struct sl_deferred *d);

/* Gives p a snapshot store beside p->db_path (snapshot.c), taking its
 * points through a commit hook.  A coarse store ends no transaction for a
 * point (a rebuild, whose long transactions are its speed, takes its points
 * at their ends).  SL_ENOMEM, SL_EINVAL (too many hooks). */
int sl_snap_attach(struct sl_proj *p, bool coarse);

#endif
