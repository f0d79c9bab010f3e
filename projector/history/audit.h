/* audit.h: how one job evolved, event by event: the audit.
 *
 * For one job, the ordered timeline of its events: each one's sequence
 * number, time, type and sheet, and every column it changed, with the value
 * before and after.  The values come from applying each event to the job's
 * state with sl_state_apply() (state.h), the one place for the rules, and
 * comparing the columns before and after through the column catalogue: no
 * rule is restated here.
 *
 * The job's events are found through the views' statelog_events index
 * (job_id, seq), never by scanning the log, and read from the log by
 * sequence number, nearby ones without seeking again (fetch.h).  Deleted
 * jobs stay auditable (the log keeps their events); a job deleted and
 * created again under the same id shows each life, numbered from 1.
 *
 * Iterate (sl_audit_open(), sl_audit_next(), sl_audit_close()) or pass a
 * callback (sl_audit_run()), whichever suits the caller.  The views are
 * used as they are: catch them up first (sl_proj_catch_up()) to see every
 * committed event.
 */
#ifndef SL_AUDIT_H
#define SL_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "projector.h"
#include "sl_api.h"
#include "state.h"

#ifdef __cplusplus
extern "C" {
#endif

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

/* One column an event changed.  `column` is NULL for the job's existence
 * itself (before/after .s = "absent", "live" or "deleted"); when a row came
 * or went, the side without it has row_absent set and a NULL value.
 * Values are borrowed: valid until the next sl_audit_next() or close. */
struct sl_audit_change {
	const struct sl_state_column *column;   /* sl_state_job_columns or _sheet_ */
	int64_t sheet;                  /* 0: the jobs row */
	bool before_absent, after_absent;
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
	bool refused;                   /* the rules refused it: nothing changed */
	const sl_event *event;
	const struct sl_audit_change *changes;
	size_t n_changes;
};

/* Starts the audit of job_id on p's views and log.  filter may be NULL.
 * SL_ENOTFOUND (message in sl_proj_errmsg(p)) when the views index no event
 * of the job.  *out is owned: sl_audit_close(). */
SL_API int sl_audit_open(sl_audit **out, sl_proj *p, const char *job_id,
			 const struct sl_audit_filter *filter);

/* The next entry: 1 with *out set, 0 at the end, or a negative SL_* code
 * (the message in sl_audit_errmsg()). */
SL_API int sl_audit_next(sl_audit *a, const struct sl_audit_entry **out);

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

/* Reads statistics of the audit so far: events read from the log, and
 * seeks made (for benchmarks). */
SL_API void sl_audit_counters(const sl_audit *a, uint64_t *events_read, uint64_t *seeks);

#ifdef __cplusplus
}
#endif

#endif
