/* snapshot.h: the snapshot store beside the views (snapshot.c); what it is
 * for, and its guarantees, are in history.h ("Snapshots").  Offered to the
 * layers above through views.h; the options are public (projector.h).
 *
 * The store is an SQLite file beside the database, "<db>.snapshots":
 *   snap_meta(key, value)      'format' 1, 'log_id' of the log it serves
 *   snap_points(seq, log_id, commit_crc, time_us, hist_seq, ties, kept, crc)
 *                              one row per point; crc covers every other
 *                              column but kept (point_crc())
 *   snap_entries(job_id, seq, state, crc)
 *                              a job's state as of seq (an image, image.h);
 *                              crc covers the log id, seq, the point's
 *                              commit crc, job id and image, so an image of
 *                              another log never checks out
 * The one invariant relied on: an entry (J, S) is J's state as of S.  Time
 * travel takes J's latest sound entry at or before its target and applies
 * J's later events, so a missing or discarded entry only costs replay.
 * Points are taken at the end of a catch-up transaction (through a commit
 * hook), with an entry for every job that has an event since the point
 * before, so at a point every job's latest entry is its state there.  The
 * store is derived data: no fsync, and any trouble with it (a failed write,
 * a damaged file) costs speed, never a wrong answer.
 */
#ifndef SL_SNAPSHOT_H
#define SL_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fetch.h"
#include "projector.h"
#include "state.h"

struct sl_snap;

/* What finding a point discarded on the way: counts and the first note. */
struct sl_snap_notes {
	uint32_t damaged;               /* bad checksum, or not matching the log */
	uint32_t foreign;               /* taken from another log */
	char note[512];                 /* the first thing discarded, "" if none */
};

/* Counts a discarded point or entry in notes (which may be NULL) and keeps
 * the first note. */
void sl_snap_note(struct sl_snap_notes *notes, bool foreign, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Starts a time-travel call: points are checked against the log once per
 * call (NULL is allowed). */
void sl_snap_begin(struct sl_snap *s);

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
 * deleted and counted in notes (may be NULL).  SL_ENOTFOUND when there is
 * none. */
int sl_snap_find_point(struct sl_snap_point *out, struct sl_snap *s, const char *log_id,
		       uint64_t max_seq, struct sl_fetch *f, struct sl_snap_notes *notes);

/* Job job_id's newest sound entry at or before max_seq: *out its state
 * (owned), *seq_out its seq; its point is checked against the log through
 * f.  Damaged entries met are deleted and counted.  SL_ENOTFOUND when
 * there is none. */
int sl_snap_find_state(struct sl_job_state *out, uint64_t *seq_out, struct sl_snap *s,
		       const char *log_id, const char *job_id, uint64_t max_seq,
		       struct sl_fetch *f, struct sl_snap_notes *notes);

#endif
