/* history.h: the past of a log: the state of one job, or of the whole
 * database, as it was at any event ("time travel"), the snapshots that keep
 * it fast, and how one job evolved, event by event (the audit).
 *
 * Everything here is derived from the log through the one function that
 * applies an event (sl_rules_apply(), state.h) and the projector's own
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
 * day (for daily_days; 0: for ever; sl_snap_options, projector.h).  Hours
 * and days are of log time.
 *
 * The audit.  For one job, the ordered timeline of its events: each one's
 * sequence number, time, type and sheet, and every column it changed, with
 * the value before and after.  The values come from applying each event to the job's
 * state with sl_rules_apply() (state.h), the one place for the rules, and
 * comparing the columns before and after through the column catalogue: no
 * rule is restated here.
 *
 * The job's events are found through the views' statelog_events index
 * (job_id, seq), never by scanning the log, and read from the log by
 * sequence number, nearby ones without seeking again.  Deleted
 * jobs stay auditable (the log keeps their events); a job deleted and
 * created again under the same id shows each life, numbered from 1.
 *
 * Iterate (sl_audit_open(), sl_audit_next(), sl_audit_close()) or pass a
 * callback (sl_audit_run()), whichever suits the caller.  The views are
 * used as they are: catch them up first (sl_proj_catch_up()) to see every
 * committed event.
 */
#ifndef SL_HISTORY_H
#define SL_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "projector.h"
#include "sl_api.h"
#include "state.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- time travel ---------------------------------------------------------- */

/* What a time-travel call used and what it found wrong. */
struct sl_tt_report {
	uint64_t seq;                   /* the target */
	uint64_t snapshot_seq;          /* the point started from; 0: the log's start */
	uint64_t events_replayed;       /* events applied after it */
	bool copied;                    /* sl_tt_write_db(): the views as of the
					   point were a copy (of the live ones, or
					   of the keyframe) with what came after it
					   taken back */
	uint64_t keyframe_seq;          /* sl_tt_write_db(): the copy was of the
					   keyframe as of this seq (0: not) */
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

/* The last event at or before time_us: *out its seq.  The views are caught
 * up first.  SL_EINVAL when time_us is before the log's first event,
 * SL_ENOTFOUND for an empty log. */
SL_API int sl_tt_seq_at_time(uint64_t *out, sl_proj *p, int64_t time_us);

/* Flags of sl_tt_write_db(). */
#define SL_TT_NO_SNAPSHOTS 0x1u         /* project the log from its start */
#define SL_TT_NO_COPY 0x2u              /* always from the nearest point, its
					   rows inserted: neither a copy of the
					   live database with what came after it
					   taken back (late points) nor a replay
					   from the log's start (early points) */
#define SL_TT_NO_KEYFRAME 0x4u          /* leave the keyframe (below) unused */

/* Writes a complete database of the views as of seq (1 .. the log's last)
 * at out_path (replaced atomically: written as "<out_path>.tmp", then
 * renamed): every table, index and bookkeeping row as projecting the log cut
 * at seq gives, with the creation times of p's database, so that its
 * answers are those the live views gave at seq.  Made the way that
 * costs least for seq (every way gives the same rows): the log replayed
 * from its start (early points); or the views as of the nearest sound
 * point at or before seq, then the projector's catch-up to seq, the views
 * as of the point being a copy of the live database or of the keyframe
 * (below) with what came after the point taken back; or the keyframe's
 * own point, when seq is a little past it.  A file made from a copy keeps
 * the copy's size (the pages freed by taking back stay in it).
 * SL_EINVAL for a bad seq; the message is in sl_proj_errmsg(). */
SL_API int sl_tt_write_db(sl_proj *p, uint64_t seq, const char *out_path, unsigned flags,
			  struct sl_tt_report *report);

/* The keyframe: a whole database of the views as of one snapshot point
 * near the middle of the log, kept beside them ("<db>.keyframe"), from
 * which sl_tt_write_db() makes the database as of a point around the
 * middle of a large log in a fraction of the time (a copy of it, with what
 * came after the point taken back, or the catch-up from its point on).  It
 * costs the disk space of the views as of its point, about half of them.
 *
 * Makes a new keyframe when the views hold min_events events or more
 * (`statelog project`: SL_TT_KEYFRAME_MIN; below it, time travel is fast
 * without one) and the keyframe is missing, not sound, or no longer
 * between 40% and 70% of the views: the database as of the newest snapshot
 * point at or before 55% of them (none when that point is before 40%),
 * written by sl_tt_write_db() and renamed over the old one.  Call it after
 * a catch-up; it returns at once when there is nothing to do.  *made_seq
 * (may be NULL): the new keyframe's seq, 0 when none was made.  A handle
 * without snapshots, or on an as-of database, has nothing to do. */
#define SL_TT_KEYFRAME_MIN 200000
SL_API int sl_tt_keyframe_refresh(sl_proj *p, uint64_t min_events, uint64_t *made_seq);

/* ---- the audit ------------------------------------------------------------ */

typedef struct sl_audit sl_audit;

/* Which events to list; zero for no filter.  The filters choose what is
 * listed, not what is applied: before-values are always the job's real
 * ones, from all its earlier events. */
struct sl_audit_filter {
	int64_t sheet;                  /* only events about this sheet */
	uint64_t from_seq, to_seq;      /* inclusive */
	bool has_since, has_until;      /* event time, inclusive */
	int64_t since_us, until_us;
};

/* A whole-state save (job_fields_set, sheet_fields_set) that moves a time
 * column by less than this, from one instant to another, only re-stamps
 * it: the orchestrator stamps its copy of the state when it decides (a
 * sheet starts), the log stamps the event a few microseconds later when it
 * commits, and the orchestrator's next save writes its own stamp back.
 * Such a change is marked `restamp` (updated_at never is: every event sets
 * it).  Not part of any format: a reading aid. */
#define SL_AUDIT_RESTAMP_US 1000000

/* One column an event changed.  `column` is NULL for the job's existence
 * itself (before/after .s = "absent", "live" or "deleted"); when a row came
 * or went, the side without it has row_absent set and a NULL value.
 * Values are borrowed: valid until the next sl_audit_next() or close. */
struct sl_audit_change {
	const struct sl_state_column *column;   /* sl_state_job_columns or _sheet_ */
	int64_t sheet;                  /* 0: the jobs row */
	bool before_absent, after_absent;
	bool restamp;                   /* a save re-stamped a time (see above) */
	struct sl_value before, after;
};

/* One event of the job's timeline.  Borrowed, as the changes. */
struct sl_audit_entry {
	uint64_t seq;
	int64_t time_us;
	const char *type;               /* sl_event_type_name() */
	int64_t sheet;                  /* 0: about the whole job */
	uint32_t life;                  /* 1 from the first creation, +1 at each
					   creation after a deletion; 0 before any */
	bool refused;                   /* the rules refused it (or its type is one
					   this build does not know): nothing changed */
	const struct sl_refusal *refusal; /* why, when refused */
	const sl_event *event;
	const struct sl_audit_change *changes;
	size_t n_changes;
	const struct sl_job_state *after;   /* the job once the event applied */
};

/* Starts the audit of job_id on p's views and log.  filter may be NULL.
 * SL_ENOTFOUND (message in sl_proj_errmsg(p)) when the views index no event
 * of the job.  *out is owned: sl_audit_close(). */
SL_API int sl_audit_open(sl_audit **out, sl_proj *p, const char *job_id,
			 const struct sl_audit_filter *filter);

/* The next entry: 1 with *out set, 0 at the end, or a negative SL_* code
 * (the message in sl_audit_errmsg()).  With a sheet filter, the end is
 * SL_ENOTFOUND when the job never had that sheet: it was above total_sheets
 * in every state of the job, no row of it existed, and no event named it
 * (up to to_seq). */
SL_API int sl_audit_next(const struct sl_audit_entry **out, sl_audit *a);

/* The last error, "" when none.  Borrowed. */
SL_API const char *sl_audit_errmsg(const sl_audit *a);

/* NULL is allowed. */
SL_API void sl_audit_close(sl_audit *a);

/* The whole audit through a callback; a non-zero return from fn stops it
 * and is returned.  Errors as sl_audit_open()/next(), the message in
 * sl_proj_errmsg(p). */
typedef int (*sl_audit_fn)(void *ctx, const struct sl_audit_entry *e);
SL_API int sl_audit_run(sl_proj *p, const char *job_id, const struct sl_audit_filter *filter,
			sl_audit_fn fn, void *ctx);

/* One entry as a JSON object on one line (no newline), the form of
 * `statelog audit --json`: seq, time, time_us, job_id, life, type, sheet
 * (null: the whole job), refused, reason (the rules' reason when refused),
 * story (the given text, or null), body (as `statelog dump --json` writes
 * it), changes and restamped (each {row, sheet, column, before, after}).
 * *out is owned: free(). */
SL_API int sl_audit_entry_to_json(char **out, const struct sl_audit_entry *e, const char *job_id,
				  const char *story);

/* Reads statistics of the audit so far: events read from the log, and
 * seeks made (for benchmarks). */
SL_API void sl_audit_counters(const sl_audit *a, uint64_t *events_read, uint64_t *seeks);

#ifdef __cplusplus
}
#endif

#endif
