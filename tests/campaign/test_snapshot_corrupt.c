/* test_snapshot_corrupt.c: the corruption campaign on time travel's
 * snapshot store ("<db>.snapshots", projector/snapshot.h): single bit
 * flips, zeroed 512-byte sectors and truncations anywhere in the file.
 * The store is derived data: damage may cost replay, or be refused with a
 * clear error, but never give a wrong answer.  Each trial asks for jobs'
 * states as of random sequence numbers and compares them with the answers
 * of an undamaged store.  SL_SNAPSHOT_TRIALS sets the number of trials
 * (default 60 for CI). */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "camp.h"
#include "event_internal.h"
#include "log.h"
#include "projector.h"
#include "history.h"
#include "workload.h"

TestSuite(campaign_snapshot, .timeout = 600);

enum { QUERIES = 12 };

struct query {
	char job[64];
	uint64_t seq;
	int rc;
	struct sl_job_state st;
};

static sl_proj *open_proj(const char *log, const char *db)
{
	sl_proj *p = NULL;
	char err[1024] = "";
	struct sl_proj_stats st;
	int rc = sl_proj_open(&p, log, db, NULL, &st, err, sizeof err);
	cr_assert_eq(rc, SL_OK, "open %s: %s", db, err);
	return p;
}

Test(campaign_snapshot, damaged_snapshots_never_give_a_wrong_answer)
{
	const char *env = getenv("SL_SNAPSHOT_TRIALS");
#ifdef __SANITIZE_ADDRESS__
	int trials = env ? atoi(env) : 30;   /* under the sanitizers, half */
#else
	int trials = env ? atoi(env) : 60;
#endif
	char *dir = camp_tmpdir("snapcorrupt");
	char *log = camp_path(dir, "w.log"), *db = camp_path(dir, "w.db");
	char *snaps = camp_path(dir, "w.db.snapshots");
	/* A log of the reference workload, projected with a point every 150
	 * events. */
	struct sl_log_options lo;
	sl_log_options_init(&lo);
	lo.create = true;
	lo.durability = SL_DURABLE_NONE;
	sl_log *l = NULL;
	char err[1024] = "";
	cr_assert_eq(sl_log_open(&l, log, &lo, NULL, err, sizeof err), SL_OK, "%s", err);
	struct sl_workload_options wo;
	sl_workload_options_init(&wo);
	wo.seed = 31;
	wo.events = 2400;
	sl_workload *w = NULL;
	cr_assert_eq(sl_workload_new(&w, &wo), SL_OK);
	Statelog__Event *ev;
	char **jobs = NULL;
	size_t njobs = 0;
	while (sl_workload_next(w, &ev) == 1) {
		ev->has_time_us = 1;
		ev->time_us = sl_workload_time_us(w);
		bool seen = false;
		for (size_t i = 0; i < njobs && !seen; i++)
			seen = strcmp(jobs[i], ev->job_id) == 0;
		if (!seen && strlen(ev->job_id) < 60) {
			jobs = realloc(jobs, (njobs + 1) * sizeof *jobs);
			jobs[njobs++] = strdup(ev->job_id);
		}
		cr_assert_eq(sl_log_append(l, &ev, 1, NULL), SL_OK);
	}
	sl_workload_free(w);
	uint64_t last = sl_log_next_seq(l) - 1;
	cr_assert_eq(sl_log_close(l), SL_OK);
	sl_proj *p = NULL;
	struct sl_proj_options po;
	sl_proj_options_init(&po);
	po.batch_events = 150;
	struct sl_proj_stats pst;
	cr_assert_eq(sl_proj_open(&p, log, db, &po, &pst, err, sizeof err), SL_OK, "%s", err);
	struct sl_snap_options so;
	sl_snap_options_init(&so);
	so.every = 150;
	cr_assert_eq(sl_proj_set_snapshots(p, &so), SL_OK, "%s", sl_proj_errmsg(p));
	cr_assert_eq(sl_proj_catch_up(p, &pst), SL_OK, "%s", sl_proj_errmsg(p));
	struct sl_snapshot_usage su;
	cr_assert_eq(sl_proj_snapshot_usage(&su, p), SL_OK);
	uint64_t points = su.points;
	cr_assert_eq(su.failures, 0, "snapshot points failed: %s", su.last_failure);
	sl_proj_close(p);
	cr_assert_gt(points, 3, "snapshots taken (%" PRIu64 ")", points);

	/* The answers of the sound store. */
	uint64_t rng = 0x5AA5;
	struct query q[QUERIES];
	p = open_proj(log, db);
	for (int i = 0; i < QUERIES; i++) {
		snprintf(q[i].job, sizeof q[i].job, "%s", jobs[camp_below(&rng, njobs)]);
		q[i].seq = 1 + camp_below(&rng, last);
		sl_state_init(&q[i].st);
		q[i].rc = sl_tt_load_job(&q[i].st, p, q[i].job, q[i].seq, NULL);
		cr_assert(q[i].rc == SL_OK || q[i].rc == SL_ENOTFOUND, "reference %s@%" PRIu64 ": %s",
			  q[i].job, q[i].seq, sl_proj_errmsg(p));
	}
	sl_proj_close(p);

	char *tdir = camp_path(dir, "t");
	char *tdb = camp_path(tdir, "w.db"), *tsnaps = camp_path(tdir, "w.db.snapshots");
	uint64_t damaged_seen = 0, refused = 0, answered = 0;
	for (int t = 0; t < trials; t++) {
		camp_rmrf(tdir);
		mkdir(tdir, 0700);
		cr_assert_eq(camp_copy(db, tdb, false), 0);
		cr_assert_eq(camp_copy(snaps, tsnaps, false), 0);
		struct stat stt;
		cr_assert_eq(stat(tsnaps, &stt), 0);
		uint64_t size = (uint64_t)stt.st_size, off = camp_below(&rng, size);
		int fd = open(tsnaps, O_RDWR);
		int kind = (int)camp_below(&rng, 3);
		if (kind == 0) {
			uint8_t b;
			cr_assert_eq(pread(fd, &b, 1, (off_t)off), 1);
			b ^= (uint8_t)(1u << camp_below(&rng, 8));
			cr_assert_eq(pwrite(fd, &b, 1, (off_t)off), 1);
		} else if (kind == 1) {
			uint8_t z[512] = { 0 };
			off = off / 512 * 512;
			size_t n = size - off < 512 ? (size_t)(size - off) : 512;
			cr_assert_eq(pwrite(fd, z, n, (off_t)off), (ssize_t)n);
		} else {
			cr_assert_eq(ftruncate(fd, (off_t)off), 0);
		}
		close(fd);
		static const char *const kinds[] = { "bit flip", "zeroed sector", "truncation" };
		sl_proj *tp = NULL;
		struct sl_proj_stats st;
		int orc = sl_proj_open(&tp, log, tdb, NULL, &st, err, sizeof err);
		if (orc != SL_OK) {
			refused++;
			cr_assert_neq(err[0], 0, "trial %d: a message", t);
			continue;
		}
		for (int i = 0; i < QUERIES; i++) {
			struct sl_job_state got;
			sl_state_init(&got);
			struct sl_tt_report rep;
			memset(&rep, 0, sizeof rep);
			int rc = sl_tt_load_job(&got, tp, q[i].job, q[i].seq, &rep);
			damaged_seen += rep.damaged;
			if (rc == SL_OK || rc == SL_ENOTFOUND) {
				cr_assert_eq(rc, q[i].rc, "trial %d (%s at %" PRIu64 "): %s@%" PRIu64
					     ": %d, sound store said %d: %s", t, kinds[kind], off,
					     q[i].job, q[i].seq, rc, q[i].rc, sl_proj_errmsg(tp));
				if (rc == SL_OK) {
					int64_t sn = 0;
					const char *d = sl_state_first_difference(&got, &q[i].st, 0, &sn);
					cr_assert_null(d, "trial %d (%s at %" PRIu64 "): WRONG ANSWER for %s@%"
						       PRIu64 ": %s differs (sheet %" PRId64 ")", t,
						       kinds[kind], off, q[i].job, q[i].seq, d, sn);
				}
				answered++;
			} else {
				refused++;
				cr_assert_neq(sl_proj_errmsg(tp)[0], 0, "trial %d: refused with a message",
					      t);
			}
			sl_state_free(&got);
		}
		sl_proj_close(tp);
	}
	printf("snapshot corruption: %d trials, %" PRIu64 " answers all right, %" PRIu64
	       " refused with an error, %" PRIu64 " damaged points or images discarded\n", trials,
	       answered, refused, damaged_seen);
	for (int i = 0; i < QUERIES; i++)
		sl_state_free(&q[i].st);
	for (size_t i = 0; i < njobs; i++)
		free(jobs[i]);
	free(jobs);
	camp_rmrf(dir);
	free(dir);
	free(log);
	free(db);
	free(snaps);
	free(tdir);
	free(tdb);
	free(tsnaps);
}
