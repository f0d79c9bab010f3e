/* bench.h: what the benchmarks of `statelog bench` share: the reference
 * events held in memory, medians, scratch directories. */
#ifndef SL_BENCH_H
#define SL_BENCH_H

#include <stdbool.h>
#include <stdint.h>

#include "event.h"

/* Reference events held in memory, so that generating them is not timed. */
struct bench_events {
	sl_event **ev;
	uint64_t n;
	uint64_t encoded_bytes;
};

/* Generates n events of the reference workload (seed); with `times`, each
 * carries the workload's simulated time (has_time_us). */
int bench_events(uint64_t n, uint64_t seed, bool times, struct bench_events *out);
void bench_events_free(struct bench_events *b);

/* Writes the reference log of `events` events (seed) into dir: one commit
 * per event, the workload's simulated times, then packed, as a log is once
 * the compactor has been through it.  Prints its own errors. */
int bench_reference_log(const char *dir, uint64_t events, uint64_t seed);

/* Total size of dir's files whose names end with suffix. */
uint64_t bench_dir_bytes(const char *dir, const char *suffix);

/* Median of v[0..n) (sorts v): the middle value, or the mean of the two
 * middle ones. */
double bench_median(double *v, size_t n);

/* The q-quantile (0 <= q <= 1) of v[0..n) (sorts v): the value at rank
 * round(q * (n - 1)); 0 when n is 0. */
double bench_quantile(double *v, size_t n, double q);

/* bench_views.c: `statelog bench rebuild`. */
#define SL_HAVE_BENCH_REBUILD 1
int bench_rebuild(int argc, char **argv);

/* bench_backend.c: `statelog bench backend`. */
#define SL_HAVE_BENCH_BACKEND 1
int bench_backend(int argc, char **argv);

#endif
