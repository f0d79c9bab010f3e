/* bench_timetravel.c: `statelog bench timetravel`, the figures of time
 * travel and audit on the reference log (tools/workload/WORKLOAD.md): one job as of a
 * random point, the whole database as of a random point with snapshots and
 * without (the log replayed from its start, beside it in the same run), the
 * audit of a 100-sheet job, and the space the snapshots take.
 *
 * The log is generated first (one commit per event, the workload's times,
 * packed as the compactor leaves it) unless --log names one; its views are
 * projected into a new database beside it, taking snapshots as the
 * projector does by default.  Random points are drawn from a seeded
 * generator, so two runs draw the same points.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <dirent.h>
#include <sqlite3.h>

#include "history.h"
#include "bench.h"
#include "cli.h"
#include "log.h"
#include "projector.h"
#include "views.h"
#include "workload.h"

static uint64_t rng_state;

static uint64_t rnd(uint64_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return n ? rng_state % n : 0;
}


/* A job with an event at a seq drawn from [lo, hi]. */
static char *job_near(sqlite3 *db, uint64_t lo, uint64_t hi)
{
	sqlite3_stmt *st = NULL;
	char *job = NULL;
	if (sqlite3_prepare_v2(db, "SELECT job_id FROM statelog_events WHERE seq >= ? AND job_id "
			       "IS NOT NULL ORDER BY seq LIMIT 1", -1, &st, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)(lo + rnd(hi - lo + 1)));
	if (sqlite3_step(st) == SQLITE_ROW)
		job = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return job;
}

/* p50 and p90 of loading a job as of a random point; `near` draws the job
 * among those with an event in the 500 before the point (jobs in flight),
 * else among all the jobs with an event before it. */
static int bench_job(sl_proj *p, uint64_t last, int samples, bool near, double *p50,
		     double *p90, double *replayed)
{
	double *t = calloc((size_t)samples, sizeof *t);
	double ev = 0;
	int rc = SL_OK;
	for (int i = 0; t && i < samples && rc == SL_OK;) {
		uint64_t n = 1 + rnd(last);
		char *job = job_near(sl_proj_db(p), near && n > 500 ? n - 500 : 1, n);
		if (!job)
			continue;
		struct sl_job_state st;
		struct sl_tt_report rep;
		double t0 = cli_mono_s();
		rc = sl_tt_load_job(&st, p, job, n, &rep);
		double dt = cli_mono_s() - t0;
		free(job);
		if (rc == SL_ENOTFOUND) {       /* deleted then, or not created yet */
			rc = SL_OK;
			continue;
		}
		if (rc == SL_OK) {
			sl_state_free(&st);
			ev += (double)rep.events_replayed;
			t[i++] = dt;
		}
	}
	if (t && rc == SL_OK) {
		*p50 = bench_quantile(t, samples, 0.5);
		*p90 = bench_quantile(t, samples, 0.9);
		*replayed = ev / samples;
	}
	free(t);
	return t ? rc : SL_ENOMEM;
}

struct count {
	uint64_t events, changes;
};

static int count_entry(void *ctx, const struct sl_audit_entry *e)
{
	struct count *c = ctx;
	c->events++;
	c->changes += e->n_changes;
	return 0;
}

static const char tt_help[] =
	"usage: statelog bench timetravel [--events N] [--points N] [--repeat N] [--runs N]\n"
	"                                 [--samples N] [--seed N] [--log DIR] [--dir BASE]\n\n"
	"Time travel and the audit on the reference log (--log DIR, generated there\n"
	"and kept if DIR does not exist yet; without --log, generated in a scratch\n"
	"directory).  Its views are projected into a new database, with snapshots.\n"
	"The keyframe is made as `statelog project` makes it (timed).  Measured: one\n"
	"job as of a random point (--samples draws: p50, p90); the whole database as\n"
	"of --points points spread over the whole log (one drawn in each of as many\n"
	"equal stretches), each --repeat times with snapshots (a point's figure is\n"
	"the median of its runs; over the points: p50, p90, the worst, and the\n"
	"slowest single run) and, for the first --runs of them, once without\n"
	"(median); the audit of a 100-sheet job (--runs, median); and the space the\n"
	"snapshots and the keyframe take.  Each run starts on a quiet page cache\n"
	"(the previous output deleted, then sync(2), untimed).  The targets it says\n"
	"met or not: the whole database p90 <= 1.0 s and worst <= 1.5 s with\n"
	"snapshots, one job p50 <= 10 ms.\n"
	"Defaults: --events 1000000 --points 20 --repeat 3 --runs 5 --samples 200\n"
	"--seed 1.\n"
	"Exit codes: 0 measured; 1 a failure (I/O, a check of the results); 2 usage.\n";

int bench_timetravel(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "events", required_argument, NULL, 'e' },
		{ "runs", required_argument, NULL, 'r' },
		{ "points", required_argument, NULL, 'p' },
		{ "repeat", required_argument, NULL, 'k' },
		{ "samples", required_argument, NULL, 'n' },
		{ "seed", required_argument, NULL, 'S' },
		{ "log", required_argument, NULL, 'l' },
		{ "dir", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t events = 1000000, runs = 5, samples = 200, seed = 1, npoints = 20, repeat = 3;
	const char *log_opt = NULL, *base = NULL;
	int c, idx = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, "h", opts, &idx)) != -1) {
		bool ok = true;
		switch (c) {
		case 'e': ok = cli_parse_u64(optarg, &events) && events >= 1000; break;
		case 'r': ok = cli_parse_u64(optarg, &runs) && runs >= 1 && runs <= 99; break;
		case 'p': ok = cli_parse_u64(optarg, &npoints) && npoints >= 1 && npoints <= 1000;
			break;
		case 'k': ok = cli_parse_u64(optarg, &repeat) && repeat >= 1 && repeat <= 100; break;
		case 'n': ok = cli_parse_u64(optarg, &samples) && samples >= 1 && samples <= 100000;
			break;
		case 'S': ok = cli_parse_u64(optarg, &seed); break;
		case 'l': log_opt = optarg; break;
		case 'd': base = optarg; break;
		case 'h': fputs(tt_help, stdout); return SL_EXIT_OK;
		default: return cli_usage(tt_help);
		}
		if (!ok) {
			cli_err("bench", "--%s: bad value '%s'", opts[idx].name, optarg);
			return SL_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		cli_err("bench", "unexpected argument '%s'", argv[optind]);
		return SL_EXIT_USAGE;
	}
	if (runs > npoints)
		runs = npoints;  /* the points without snapshots are among them */
	printf("# statelog bench timetravel --events %" PRIu64 " --points %" PRIu64 " --repeat %"
	       PRIu64 " --runs %" PRIu64 " --samples %" PRIu64 " --seed %" PRIu64 "%s%s%s%s\n",
	       events, npoints, repeat, runs, samples, seed,
	       log_opt ? " --log " : "", log_opt ? log_opt : "", base ? " --dir " : "",
	       base ? base : "");
	rng_state = seed * 0x9E3779B97F4A7C15ULL + 1;
	char *tmp = cli_tmpdir(base, "bench"), *log_dir = NULL, *db = NULL, *out = NULL;
	sl_proj *p = NULL;
	int rc = SL_ENOMEM, R = (int)runs, N = (int)npoints, K = (int)repeat;
	double *with = calloc((size_t)N, sizeof *with), *without = calloc((size_t)R, sizeof *without);
	double *reps = calloc((size_t)K, sizeof *reps);
	const char *how = "";
	double *aud = calloc((size_t)R, sizeof *aud);
	char err[1024] = "";
	if (!tmp || !with || !without || !reps || !aud || asprintf(&db, "%s/tt.db", tmp) < 0 ||
	    asprintf(&out, "%s/at.db", tmp) < 0)
		goto out;
	struct stat lst;
	if (log_opt)
		log_dir = strdup(log_opt);
	else if (asprintf(&log_dir, "%s/ref.log", tmp) < 0)
		log_dir = NULL;
	if (log_dir && (!log_opt || (stat(log_dir, &lst) != 0 && errno == ENOENT))) {
		/* --log naming no file yet: generated there, and kept. */
		cli_note("generating %" PRIu64 " reference events in %s...\n", events, log_dir);
		if ((rc = bench_reference_log(log_dir, events, seed)) != SL_OK)
			goto out;
	}
	if (!log_dir)
		goto out;
	cli_note("projecting the views, with snapshots...\n");
	double t0 = cli_mono_s();
	if ((rc = sl_proj_open(&p, log_dir, db, NULL, NULL, err, sizeof err)) != SL_OK ||
	    (rc = sl_proj_catch_up(p, NULL)) != SL_OK) {
		cli_err("bench", "%s", p ? sl_proj_errmsg(p) : err);
		goto out;
	}
	double proj_s = cli_mono_s() - t0;
	uint64_t last = sl_proj_last_seq(p), points = 0, snap_bytes = 0;
	uint64_t log_bytes = bench_dir_bytes(log_dir, ".seg");
	struct sl_snapshot_usage su;
	if (sl_proj_snapshot_usage(&su, p) == SL_OK) {
		points = su.points;
		snap_bytes = su.bytes;
	}
	printf("log: %" PRIu64 " events, %.1f MB of segments; views projected in %.2f s "
	       "(snapshots included)\n", last, (double)log_bytes / 1e6, proj_s);
	/* The keyframe, as `statelog project` keeps it after a catch-up. */
	cli_note("making the keyframe...\n");
	uint64_t kf_seq = 0, kf_bytes = 0;
	t0 = cli_mono_s();
	if ((rc = sl_tt_keyframe_refresh(p, SL_TT_KEYFRAME_MIN, &kf_seq)) != SL_OK) {
		cli_err("bench", "%s", sl_proj_errmsg(p));
		goto out;
	}
	double kf_s = cli_mono_s() - t0;
	/* The views' bytes: the file and its WAL, which holds most of a small
	 * database. */
	struct stat vst;
	uint64_t views_bytes = stat(db, &vst) == 0 ? (uint64_t)vst.st_size : 0;
	char *wal = NULL;
	if (asprintf(&wal, "%s-wal", db) >= 0 && stat(wal, &vst) == 0)
		views_bytes += (uint64_t)vst.st_size;
	free(wal);
	struct sl_snapshot_usage ku;
	if (sl_proj_snapshot_usage(&ku, p) == SL_OK)
		kf_bytes = ku.keyframe_bytes;
	if (kf_seq)
		printf("keyframe: the views as of seq %" PRIu64 ", %.1f MB, made in %.2f s\n",
		       kf_seq, (double)kf_bytes / 1e6, kf_s);
	else
		printf("keyframe: none (fewer than %d events)\n", SL_TT_KEYFRAME_MIN);

	double j50, j90, jev, f50, f90, fev;
	cli_note("one job as of a random point...\n");
	if ((rc = bench_job(p, last, (int)samples, false, &j50, &j90, &jev)) != SL_OK ||
	    (rc = bench_job(p, last, (int)samples, true, &f50, &f90, &fev)) != SL_OK) {
		cli_err("bench", "%s", sl_proj_errmsg(p));
		goto out;
	}
	printf("one job as of a random point (%" PRIu64 " draws): p50 %.2f ms, p90 %.2f ms "
	       "(%.1f events replayed on average)\n", samples, j50 * 1e3, j90 * 1e3, jev);
	printf("  a job in flight at the point:  p50 %.2f ms, p90 %.2f ms (%.1f events replayed "
	       "on average)\n", f50 * 1e3, f90 * 1e3, fev);

	uint64_t replay_sum = 0, worst_seq = 0;
	double worst = 0, slowest = 0;
	for (int r = 0; r < N; r++) {
		/* one point in each of N equal stretches of the log */
		uint64_t from = last * (uint64_t)r / (uint64_t)N;
		uint64_t to = last * (uint64_t)(r + 1) / (uint64_t)N;
		uint64_t n = from + 1 + (to > from ? rnd(to - from) : 0);
		struct sl_tt_report rep;
		cli_note("point %d/%d: the database as of seq %" PRIu64 "...\n", r + 1, N, n);
		/* With snapshots --repeat times, the point's figure their median;
		 * from the log's start once, for the first --runs points,
		 * alternately first and last, so that neither always inherits
		 * the other's page cache. */
		int n_runs = K + (r < R ? 1 : 0);
		for (int k = 0; k < n_runs; k++) {
			bool snaps = r >= R || (r % 2 == 0 ? k < K : k > 0);
			/* What is timed is writing the database, not deleting the
			 * previous run's (a gigabyte, on ext4 ~0.5 s), nor writing
			 * back what the runs before left dirty: each starts as a
			 * single `statelog at` would, on a quiet page cache.  (Not
			 * idle either: on a machine that pages out the page cache
			 * it has not touched for a few seconds, as this one's
			 * DAMON does, a pause here makes the next run read the
			 * views from the disk.) */
			unlink(out);
			sync();
			t0 = cli_mono_s();
			rc = sl_tt_write_db(p, n, out, snaps ? 0 : SL_TT_NO_SNAPSHOTS, &rep);
			double dt = cli_mono_s() - t0;
			if (rc != SL_OK) {
				cli_err("bench", "%s", sl_proj_errmsg(p));
				goto out;
			}
			if (snaps) {
				reps[k - (r < R && r % 2 != 0)] = dt;
				if (dt > slowest)
					slowest = dt;
				how = rep.keyframe_seq ? "keyframe" : rep.copied ? "live views' copy"
					: rep.snapshot_seq ? "live rows" : "log's start";
				replay_sum += rep.events_replayed;
			} else {
				without[r] = dt;
			}
		}
		with[r] = bench_median(reps, K);
		if (with[r] > worst) {
			worst = with[r];
			worst_seq = n;
		}
		double lo = reps[0], hi = reps[0];
		for (int k = 1; k < K; k++) {
			lo = reps[k] < lo ? reps[k] : lo;
			hi = reps[k] > hi ? reps[k] : hi;
		}
		printf("point %d: seq %" PRIu64 ": with snapshots %.3f s (%.3f-%.3f, from the %s)",
		       r + 1, n, with[r], lo, hi, how);
		if (r < R)
			printf(", from the log's start %.3f s", without[r]);
		printf("\n");
	}
	double w50 = bench_quantile(with, (size_t)N, 0.5), w90 = bench_quantile(with, (size_t)N, 0.9);
	printf("whole database as of a point (%d points over the whole log, each the median of "
	       "%d runs): with snapshots p50 %.3f s, p90 %.3f s, worst %.3f s (seq %" PRIu64
	       "; %.0f events replayed on average; slowest single run %.3f s); without, median "
	       "of the first %d: %.3f s\n", N, K, w50, w90, worst, worst_seq,
	       (double)replay_sum / N / K, slowest, R, bench_median(without, R));
	printf("targets: whole database p90 <= 1.0 s: %s; worst <= 1.5 s: %s; one job p50 <= "
	       "10 ms: %s\n", w90 <= 1.0 ? "met" : "NOT met", worst <= 1.5 ? "met" : "NOT met",
	       j50 <= 0.010 ? "met" : "NOT met");

	/* The audit of a 100-sheet job, the one with the most events. */
	sqlite3_stmt *st = NULL;
	char *job = NULL;
	if (sqlite3_prepare_v2(sl_proj_db(p), "SELECT e.job_id FROM statelog_events e JOIN jobs j "
			       "ON j.id = e.job_id WHERE j.total_sheets = 100 GROUP BY e.job_id "
			       "ORDER BY count(*) DESC LIMIT 1", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		job = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	if (!job) {
		printf("audit: no 100-sheet job in this log\n");
	} else {
		struct count cnt = { 0 };
		for (int r = 0; r < R; r++) {
			cnt = (struct count){ 0 };
			t0 = cli_mono_s();
			rc = sl_audit_run(p, job, NULL, count_entry, &cnt);
			aud[r] = cli_mono_s() - t0;
			if (rc != SL_OK) {
				cli_err("bench", "%s", sl_proj_errmsg(p));
				free(job);
				goto out;
			}
		}
		printf("audit of a 100-sheet job (%s: %" PRIu64 " events, %" PRIu64 " column changes): "
		       "median %.1f ms\n", job, cnt.events, cnt.changes, bench_median(aud, R) * 1e3);
		free(job);
	}
	printf("snapshots: %" PRIu64 " points, %.1f MB, %.2f%% of the log's %.1f MB; with the "
	       "keyframe %.1f MB (%.0f%% of the views' %.1f MB)\n", points,
	       (double)snap_bytes / 1e6, 100.0 * (double)snap_bytes / (double)log_bytes,
	       (double)log_bytes / 1e6, (double)(snap_bytes + kf_bytes) / 1e6,
	       views_bytes ? 100.0 * (double)(snap_bytes + kf_bytes) / (double)views_bytes : 0.0,
	       (double)views_bytes / 1e6);
	rc = SL_OK;
out:
	sl_proj_close(p);
	if (tmp)
		sl_proj_remove_tree(tmp);
	free(tmp);
	free(log_dir);
	free(db);
	free(out);
	free(with);
	free(reps);
	free(without);
	free(aud);
	if (rc != SL_OK && rc != SL_ENOMEM)
		return cli_exit_for(rc);
	return rc == SL_OK ? SL_EXIT_OK : SL_EXIT_FAIL;
}
