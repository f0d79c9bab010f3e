/* workload.h: the deterministic reference workload (WORKLOAD.md).
 *
 * A generator simulates an orchestrator running many jobs at once and
 * produces the events it would append, one at a time, interleaved the way a
 * real run interleaves them.  The same seed and options always give
 * byte-identical events, so figures measured on the workload on different
 * days can be compared.  `statelog bench`, `statelog demo` and the tests all
 * use it.
 *
 * Per job: job_created, pid_set, then per sheet (1..total_sheets) and per
 * attempt (at most SL_WORKLOAD_MAX_ATTEMPTS): sheet_started, a
 * sheet_fields_set giving the execution mode, execution_recorded, then
 * either sheet_completed + sheet_fields_set (the outcome) or sheet_failed and
 * a retry.  A job ends with job_completed, or, when a sheet exhausts its
 * attempts, job_paused or job_failed.  Now and then: rate_limit_wait,
 * zombie_recovered + job_resumed + pid_set after a simulated crash, and
 * job_deleted followed by job_created under the same id (a re-run).
 *
 * Not thread-safe: one generator per thread.  The library never prints.
 */
#ifndef SL_WORKLOAD_H
#define SL_WORKLOAD_H

#include <stdint.h>

#include "event.h"
#include "event_internal.h"

/* A sheet is tried at most this many times (WORKLOAD.md). */
#define SL_WORKLOAD_MAX_ATTEMPTS 3

struct sl_workload_options {
	uint64_t seed;
	/* With events == 0: the number of jobs to run to their end (default
	 * 200).  With events > 0 the run stops after exactly `events` events
	 * and new jobs keep starting until then, so `jobs` is not a limit
	 * (1,000,000 events take about 4,300 jobs). */
	uint32_t jobs;
	uint64_t events;    /* stop after this many events; 0 = run all jobs */
	uint32_t in_flight; /* jobs running at once, events interleaved (default 8) */
};

/* Counters of what the generator produced so far. */
struct sl_workload_stats {
	uint64_t events;
	/* Events by type, indexed by Statelog__Event__BodyCase (16..33). */
	uint64_t by_type[64];
	uint64_t jobs_created;      /* job_created events, re-runs included */
	uint64_t executions;        /* execution_recorded events */
	uint64_t prompt_bytes;      /* total prompt characters */
	uint64_t output_bytes;      /* total output characters */
	uint64_t sheets_exhausted;  /* sheets that failed all their attempts */
};

/* Defaults: seed 0, 200 jobs, events 0 (run all jobs), 8 in flight. */
void sl_workload_options_init(struct sl_workload_options *o);

typedef struct sl_workload sl_workload;

/* A new generator; *out is owned by the caller (sl_workload_free).
 * SL_EINVAL for jobs == 0 or in_flight == 0 (or in_flight > 1024),
 * SL_ENOMEM. */
int sl_workload_new(sl_workload **out, const struct sl_workload_options *o);

/* Produces the next event, with job_id and a body set; seq and time_us are
 * not set (the log assigns them).  Returns 1 with *out set (the event and
 * every string in it are owned by the generator and valid until the next
 * call or sl_workload_free), 0 when the run is over (*out untouched), or a
 * negative SL_* code (SL_ENOMEM). */
int sl_workload_next(sl_workload *w, Statelog__Event **out);

/* NULL is allowed. */
void sl_workload_free(sl_workload *w);

/* The simulated "now" of the event last returned, in microseconds since the
 * Unix epoch (UTC).  It starts from a fixed instant derived from the seed
 * (in 2026), never goes backwards, and advances realistically: seconds to
 * minutes between the events of one job.  Callers that want realistic
 * timestamps set time_us/has_time_us from it themselves. */
int64_t sl_workload_time_us(const sl_workload *w);

/* Copies the counters so far into *out. */
void sl_workload_stats(const sl_workload *w, struct sl_workload_stats *out);

#endif
