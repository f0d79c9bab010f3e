/* test_powerloss.c: simulated power loss at scale, through the log's I/O
 * seam (tests/log/faultio.h).  A writer with durability `always` appends the
 * reference workload (commits of 1 to 4 events, execution records of
 * several KB) into small segments that roll often and are packed by the
 * background compactor, while every write, fsync, rename, unlink and
 * directory fsync is recorded.  Crash images then keep what was synced and a
 * random part of the rest: writes dropped whole, torn at 512-byte sectors,
 * later ones kept while earlier ones are lost, and renames and unlinks that
 * no directory fsync covered undone (fio.lose_renames).
 *
 * Every image must open without help and hold exactly a prefix of the
 * history that includes every acknowledged commit, each event byte-equal to
 * the one appended.  SL_POWERLOSS_IMAGES sets the number of images (default
 * 240 for CI); the full campaign is
 *   SL_POWERLOSS_IMAGES=10000 build/tests/campaign/test_powerloss
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "camp.h"
#include "event_internal.h"
#include "faultio.h"
#include "helpers.h"
#include "log.h"
#include "workload.h"

TestSuite(campaign_powerloss, .timeout = 3600);

enum { RUNS = 8, COMMITS = 70 };

static sl_event *copy_event(const Statelog__Event *ev)
{
	size_t n = sl_event_encoded_size(ev);
	uint8_t *buf = malloc(n ? n : 1);
	sl_event_encode(ev, buf);
	sl_event *out = NULL;
	cr_assert_eq(sl_event_decode(&out, buf, n, 0, 0), SL_OK, "re-decoding a workload event");
	free(buf);
	return out;
}

Test(campaign_powerloss, every_image_keeps_a_prefix_with_every_acknowledged_commit)
{
	const char *env = getenv("SL_POWERLOSS_IMAGES");
	int images = env ? atoi(env) : 240;
	uint64_t seed = 0xC0FFEE;
	int made = 0, lost_renames_runs = 0;
	uint64_t max_acked = 0, dirsyncs = 0;
	for (int run = 0; run < RUNS; run++) {
		char *dir = th_tmpdir();
		struct fio f;
		fio_init(&f);
		f.record = true;
		f.lose_renames = true;
		struct sl_log_options o;
		sl_log_options_init(&o);
		o.create = true;
		o.io = &f.io;
		o.segment_size = 16384;       /* rolls every few commits */
		o.pack_size = 8192;
		sl_log *log = NULL;
		char err[1024] = "";
		cr_assert_eq(sl_log_open(&log, dir, &o, NULL, err, sizeof err), SL_OK, "open: %s", err);

		struct sl_workload_options wo;
		sl_workload_options_init(&wo);
		wo.seed = (uint64_t)run + 1;
		sl_workload *w = NULL;
		cr_assert_eq(sl_workload_new(&w, &wo), SL_OK);
		size_t ack_ops[COMMITS + 1];
		uint64_t ack_seq[COMMITS + 1];
		ack_ops[0] = 0;
		ack_seq[0] = 0;
		for (int c = 0; c < COMMITS; c++) {
			sl_event *evs[4];
			int n = 1 + (int)((uint64_t)c * 7 % 11 == 0 ? 3 : (uint64_t)c % 2);
			for (int k = 0; k < n; k++) {
				Statelog__Event *ev;
				cr_assert_eq(sl_workload_next(w, &ev), 1, "workload");
				evs[k] = copy_event(ev);
			}
			struct sl_commit_info ci;
			cr_assert_eq(sl_log_append(log, evs, (size_t)n, &ci), SL_OK, "append: %s",
				     sl_log_errmsg(log));
			for (int k = 0; k < n; k++)
				sl_event_free(evs[k]);
			ack_ops[c + 1] = fio_ops(&f);
			ack_seq[c + 1] = ci.last_seq;
		}
		sl_workload_free(w);
		/* Closing joins the compactor: the record is complete. */
		cr_assert_eq(sl_log_close(log), SL_OK, "close");
		size_t total = fio_ops(&f);
		dirsyncs += f.dirsyncs;
		struct camp_events ref;
		cr_assert_eq(camp_read_events(&ref, dir, err, sizeof err), SL_OK, "reference: %s", err);
		cr_assert_eq(ref.n, ack_seq[COMMITS], "the whole history is in the real files");

		for (int i = 0; i < images / RUNS; i++) {
			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			size_t upto = (size_t)(seed >> 33) % (total + 1);
			uint64_t acked = 0;
			for (int c = 0; c <= COMMITS; c++)
				if (ack_ops[c] <= upto)
					acked = ack_seq[c];
			char *im = th_tmpdir();
			fio_crash_image(&f, upto, seed, im);
			struct sl_log_options ro;
			sl_log_options_init(&ro);
			ro.compact = false;
			sl_log *l = NULL;
			int rc = sl_log_open(&l, im, &ro, NULL, err, sizeof err);
			if (rc == SL_ENOTFOUND && acked == 0) {
				th_rmdir(im);   /* crashed before the log existed */
				made++;
				continue;
			}
			cr_assert_eq(rc, SL_OK, "run %d image %d (crash after op %zu of %zu, seed %" PRIu64
				     "): %s", run, i, upto, total, seed, err);
			uint64_t next = sl_log_next_seq(l);
			sl_log_close(l);
			cr_assert_geq(next - 1, acked, "run %d image %d (op %zu): %" PRIu64 " events, %"
				      PRIu64 " acknowledged", run, i, upto, next - 1, acked);
			char msg[1024] = "";
			cr_assert_eq(camp_check_prefix(im, &ref, next - 1, msg, sizeof msg), 0,
				     "run %d image %d (op %zu, seed %" PRIu64 "): %s", run, i, upto, seed,
				     msg);
			max_acked = acked > max_acked ? acked : max_acked;
			th_rmdir(im);
			made++;
		}
		lost_renames_runs += f.dirsyncs > 0;
		camp_events_free(&ref);
		fio_free(&f);
		th_rmdir(dir);
	}
	printf("power loss: %d crash images checked, 0 lost commits; %zu renames or unlinks "
	       "undone in them, %" PRIu64 " directory fsyncs recorded\n", made, fio_renames_lost,
	       dirsyncs);
	cr_assert_geq(made, images - RUNS, "images made");
	cr_assert_gt(dirsyncs, 0, "directory fsyncs are recorded");
	cr_assert_eq(lost_renames_runs, RUNS, "every run renamed segments");
}
