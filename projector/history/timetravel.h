/* timetravel.h: the state of one job, or of the whole database, as it was
 * at any event of the log, and the snapshots that keep it fast.
 *
 * Everything here is derived from the log through the one function that
 * applies an event (sl_state_apply(), state.h) and the projector's own
 * catch-up: a job as of seq N is its events up to N applied in order; the
 * database as of N is what projecting the log cut at N gives, row for row.
 *
 * Snapshots.  A projector opened with sl_proj_open() keeps, beside the
 * database, a snapshot store "<db>.snapshots" (an SQLite file).  Every
 * `every` events (at the end of the catch-up transaction that passes the
 * mark) it records a point: the sequence number, the log id, the crc of the
 * commit holding it, and the state as of that point of every job changed
 * since the point before (a compressed image of its jobs row and sheets
 * rows, with a CRC-32C over the log id, the sequence number, the job id and
 * the image).  execution_history is not copied: history rows are only ever
 * added, or removed by a job's deletion, so the rows as of a point are the
 * live rows executed before it (the point records the few that share its
 * exact instant, and the AUTOINCREMENT counter), plus the rows of jobs
 * deleted since, which are read back from the log.  So a point costs about
 * the size of the jobs it saw change, not of the database.
 *
 * Every point and image is checked before use: a wrong checksum, a point
 * whose commit crc is not the log's, or one from another log is discarded
 * (deleted from the store) and counted in the report, and time travel goes
 * on from an older one, or from the start of the log: the answer is the
 * same, only slower.  Old points are pruned: the last keep_last are kept,
 * then the newest of each hour for hourly_hours, then the newest of each
 * day (for daily_days; 0: for ever).  Hours and days are of log time.
 */
#ifndef SL_TIMETRAVEL_H
#define SL_TIMETRAVEL_H

#include <stdbool.h>
#include <stdint.h>

#include "projector.h"
#include "sl_api.h"
#include "state.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Defaults: time travel replays at most this many events after a point. */
#define SL_SNAP_DEFAULT_EVERY 10000
#define SL_SNAP_DEFAULT_KEEP_LAST 256
#define SL_SNAP_DEFAULT_HOURLY_HOURS 48
#define SL_SNAP_DEFAULT_DAILY_DAYS 0

struct sl_snap_options {
	bool disabled;                  /* take no snapshots (time travel still
					   uses those there are) */
	uint64_t every;                 /* events between points */
	uint32_t keep_last;             /* points always kept (>= 1) */
	uint32_t hourly_hours;          /* then one per hour, for this long */
	uint32_t daily_days;            /* then one per day, for this long; 0: ever */
};

SL_API void sl_snap_options_init(struct sl_snap_options *o);

/* Changes the snapshot options of a projector opened with sl_proj_open().
 * SL_EINVAL for every == 0 or keep_last == 0. */
SL_API int sl_proj_set_snapshots(sl_proj *p, const struct sl_snap_options *o);

/* What a time-travel call used and what it found wrong. */
struct sl_tt_report {
	uint64_t seq;                   /* the target */
	uint64_t snapshot_seq;          /* the point started from; 0: the log's start */
	uint64_t events_replayed;       /* events applied after it */
	uint32_t damaged;               /* points or images discarded: bad checksum,
					   or not matching the log */
	uint32_t foreign;               /* discarded: taken from another log */
	char note[512];                 /* the first thing discarded, "" if none */
};

/* The job's whole state as of seq (1 .. the log's last): *out is a live
 * state (free with sl_state_free()).  The views are caught up first when
 * they are behind seq.  SL_ENOTFOUND when the log has no such job, or the
 * job did not exist (not created yet, or deleted) at seq; SL_EINVAL for a
 * seq of 0 or past the end; the message is in sl_proj_errmsg().  report may
 * be NULL. */
SL_API int sl_tt_load_job(struct sl_job_state *out, sl_proj *p, const char *job_id, uint64_t seq,
			  struct sl_tt_report *report);

/* Flags of sl_tt_write_db(). */
#define SL_TT_NO_SNAPSHOTS 0x1u         /* project the log from its start */

/* Writes a complete database of the views as of seq (1 .. the log's last)
 * at out_path (replaced atomically: written as "<out_path>.tmp", then
 * renamed): every table, index and bookkeeping row as projecting the log cut
 * at seq gives, with the creation times of p's database, so that its
 * answers are those the live views gave at seq.  Starts from the nearest
 * sound point at or before seq and replays the rest through the projector.
 * SL_EINVAL for a bad seq; the message is in sl_proj_errmsg(). */
SL_API int sl_tt_write_db(sl_proj *p, uint64_t seq, const char *out_path, unsigned flags,
			  struct sl_tt_report *report);

/* Points of p's snapshot store: how many, and its size in bytes (0, 0 when
 * it has none). */
SL_API int sl_tt_snapshot_usage(sl_proj *p, uint64_t *points, uint64_t *bytes);

#ifdef __cplusplus
}
#endif

#endif
