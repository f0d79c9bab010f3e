/* snapshot.h: the snapshot store of time travel (internal to projector/;
 * what it is for, and its guarantees, are in timetravel.h).
 *
 * The store is an SQLite file beside the database, "<db>.snapshots":
 *   snap_meta(key, value)      'format' 1, 'log_id' of the log it serves
 *   snap_points(seq, log_id, commit_crc, time_us, hist_seq, ties, crc)
 *                              one row per point; crc covers every other
 *                              column (snap_point_crc())
 *   snap_entries(job_id, seq, state, crc)
 *                              a job's state as of seq (an image from
 *                              snapcodec.c); crc covers the log id, seq, job
 *                              id and image, so an image of another log
 *                              never checks out
 * The one invariant relied on: an entry (J, S) is J's state as of S.  Time
 * travel takes J's latest sound entry at or before its target and applies
 * J's later events, so a missing or discarded entry only costs replay.
 * Points are taken at the end of a catch-up transaction, with an entry for
 * every job that has an event since the point before, so at a point every
 * job's latest entry is its state there.  The store is derived data: no
 * fsync, and any trouble with it (a failed write, a damaged file) costs
 * speed, never a wrong answer.
 */
#ifndef SL_SNAPSHOT_H
#define SL_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "cache.h"
#include "fetch.h"
#include "state.h"
#include "timetravel.h"
#include "views.h"

struct sl_snap;

/* A store for the database at db_path (nothing is opened or created yet).
 * SL_ENOMEM. */
int sl_snap_new(struct sl_snap **out, const char *db_path);

/* NULL is allowed. */
void sl_snap_free(struct sl_snap *s);

void sl_snap_configure(struct sl_snap *s, const struct sl_snap_options *o);

/* Starts a time-travel call: points are checked against the log once per
 * call (NULL is allowed). */
void sl_snap_begin(struct sl_snap *s);

/* Whether a point is due at pos (cheap: called for every event). */
bool sl_snap_due(struct sl_snap *s, uint64_t pos);

/* Whether catch-up should end its transaction at pos for a point: when one
 * is due, unless the store is coarse (a rebuild, whose long transactions
 * are its speed, takes its points at their ends instead). */
bool sl_snap_break_due(struct sl_snap *s, uint64_t pos);
void sl_snap_set_coarse(struct sl_snap *s);

/* Takes a point at pos when one is due, reading the committed views through
 * v (whose connection holds no transaction), or the states cache holds for
 * them (all clean after a commit: equal to the views); log_id is the log's,
 * crc the crc of pos's commit.  Failures are not the caller's: they are counted and
 * the message kept (sl_snap_errmsg()); catch-up goes on. */
void sl_snap_take(struct sl_snap *s, struct sl_views *v, struct sl_cache *cache,
		  const char *log_id, uint64_t pos, uint32_t crc);

/* The last failure of sl_snap_take(), "" when none. */
const char *sl_snap_errmsg(const struct sl_snap *s);

/* A point as read back. */
struct sl_snap_point {
	uint64_t seq;
	uint32_t commit_crc;
	int64_t time_us;
	int64_t hist_seq;               /* sqlite_sequence of execution_history */
	char *ties;                     /* ids executed at time_us, "1,2" (owned) */
};

void sl_snap_point_free(struct sl_snap_point *pt);

/* The newest sound point at or before max_seq, checked against the log
 * through f (its commit crc).  Damaged or foreign points met on the way are
 * deleted and counted in rep.  SL_ENOTFOUND when there is none. */
int sl_snap_find_point(struct sl_snap *s, const char *log_id, uint64_t max_seq,
		       struct sl_fetch *f, struct sl_snap_point *out, struct sl_tt_report *rep);

/* Job job_id's newest sound entry at or before max_seq: *out its state
 * (owned), *seq_out its seq; its point is checked against the log through
 * f.  Damaged entries met are deleted and counted.
 * SL_ENOTFOUND when there is none. */
int sl_snap_find_state(struct sl_snap *s, const char *log_id, const char *job_id,
		       uint64_t max_seq, struct sl_fetch *f, uint64_t *seq_out,
		       struct sl_job_state *out, struct sl_tt_report *rep);

/* Number of points, and the bytes of the store file (with its -wal). */
int sl_snap_usage(struct sl_snap *s, uint64_t *points, uint64_t *bytes);

/* Records a discarded snapshot in rep (counted; the first note kept). */
void sl_tt_note(struct sl_tt_report *rep, bool foreign, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- job state images (snapcodec.c) ----------------------------------- */

/* The image of st: every column of its jobs row and sheets rows, from the
 * column catalogue, zstd-compressed.  *out is owned (free()). */
int sl_snap_encode(const struct sl_job_state *st, uint8_t **out, size_t *len);

/* The state an image holds, into *out (set only on success).  SL_ECORRUPT
 * for anything that is not an image this build wrote. */
int sl_snap_decode(struct sl_job_state *out, const void *img, size_t len);

#endif
