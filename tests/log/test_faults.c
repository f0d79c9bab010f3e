/* test_faults.c: I/O failures through the seam (log/io.h): ENOSPC, EIO and
 * short writes, a failing fdatasync, a failing segment creation, and
 * simulated power losses; in every case nothing committed is lost and no
 * partial commit survives a reopen. */
#include <criterion/criterion.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "faultio.h"
#include "helpers.h"

static char *dir;

static void setup(void)
{
	dir = th_tmpdir();
}

static void teardown(void)
{
	th_rmdir(dir);
}

TestSuite(faults, .init = setup, .fini = teardown, .timeout = 300);

static sl_log *open_with(struct fio *f, enum sl_durability d, uint64_t segsize)
{
	struct sl_log_options o;
	sl_log_options_init(&o);
	o.create = true;
	o.durability = d;
	o.io = &f->io;
	if (segsize)
		o.segment_size = segsize;
	sl_log *log;
	char err[512] = "";
	cr_assert_eq(sl_log_open(&log, dir, &o, NULL, err, sizeof(err)), SL_OK, "open: %s", err);
	return log;
}

/* After a failure: reopening with the real file system finds exactly the
 * expected events (or one more when the failed commit reached the disk
 * whole), a sound log, and no torn tail. */
static void assert_reopens_with(uint64_t want, bool may_have_one_more)
{
	struct sl_recovery_report rep;
	struct sl_log_options o;
	sl_log_options_init(&o);
	sl_log *log;
	char err[512] = "";
	cr_assert_eq(sl_log_open(&log, dir, &o, &rep, err, sizeof(err)), SL_OK, "reopen: %s", err);
	uint64_t next = sl_log_next_seq(log);
	cr_assert(next == want + 1 || (may_have_one_more && next == want + 2),
		  "reopened at seq %" PRIu64 ", want %" PRIu64, next, want + 1);
	th_append_n(log, 1000, 1);
	cr_assert_eq(sl_log_close(log), SL_OK, "close");
	struct sl_verify_report v;
	cr_assert_eq(sl_log_verify(dir, NULL, &v, NULL, NULL, err, sizeof(err)), SL_OK, "%s", err);
	cr_assert(!v.damaged, "sound after reopen: %s", v.damage);
	cr_assert(!v.torn_tail, "no partial commit left");
	cr_assert_eq(v.events, next, "every event readable");
}

static void write_failure(int e, bool short_first)
{
	struct fio f;
	fio_init(&f);
	sl_log *log = open_with(&f, SL_DURABLE_ALWAYS, 0);
	th_append_n(log, 0, 20);
	f.fail_write_at = f.writes + 1;
	f.write_errno = e;
	f.short_first = short_first;
	sl_event *ev = th_event("job", 20);
	cr_assert_eq(sl_log_append(log, &ev, 1, NULL), SL_EIO, "failed write reported");
	cr_assert_not_null(strstr(sl_log_errmsg(log), strerror(e)), "message names the cause: %s",
			   sl_log_errmsg(log));
	f.fail_write_at = 0;
	cr_assert_eq(sl_log_append(log, &ev, 1, NULL), SL_EPOISONED, "later appends refused");
	cr_assert_eq(sl_log_sync(log), SL_EPOISONED, "sync refused");
	th_event_free(ev);
	cr_assert_eq(sl_log_close(log), SL_EPOISONED, "close reports the earlier failure");
	fio_free(&f);
	assert_reopens_with(20, false);
}

Test(faults, enospc_loses_nothing_committed)
{
	write_failure(ENOSPC, false);
}

Test(faults, short_write_then_enospc_leaves_no_partial_commit)
{
	write_failure(ENOSPC, true);
}

Test(faults, eio_loses_nothing_committed)
{
	write_failure(EIO, true);
}

Test(faults, failed_fsync_poisons_the_writer)
{
	struct fio f;
	fio_init(&f);
	sl_log *log = open_with(&f, SL_DURABLE_ALWAYS, 0);
	th_append_n(log, 0, 20);
	f.fail_sync_at = f.syncs + 1;
	sl_event *ev = th_event("job", 20);
	int rc = sl_log_append(log, &ev, 1, NULL);
	cr_assert(rc == SL_EIO || rc == SL_EPOISONED, "failed fsync reported (%d)", rc);
	f.fail_sync_at = 0;
	cr_assert_eq(sl_log_append(log, &ev, 1, NULL), SL_EPOISONED, "later appends refused");
	th_event_free(ev);
	sl_log_close(log);
	fio_free(&f);
	/* The commit whose fsync failed was not acknowledged; it may or may
	 * not have reached the disk, but only whole. */
	assert_reopens_with(20, true);
}

Test(faults, failing_segment_creation_poisons_and_recovers)
{
	struct fio f;
	fio_init(&f);
	sl_log *log = open_with(&f, SL_DURABLE_ALWAYS, 4096);
	f.fail_create = ".seg.tmp";  /* the next segment */
	uint64_t ok = 0;
	int rc = SL_OK;
	for (uint64_t i = 0; i < 200 && rc == SL_OK; i++) {
		sl_event *ev = th_event("job", i);
		rc = sl_log_append(log, &ev, 1, NULL);
		th_event_free(ev);
		if (rc == SL_OK)
			ok++;
	}
	cr_assert_eq(rc, SL_EIO, "roll failure reported");
	sl_log_close(log);
	fio_free(&f);
	assert_reopens_with(ok, false);
}

Test(faults, interval_durability_flushes_in_the_background)
{
	struct fio f;
	fio_init(&f);
	sl_log *log = open_with(&f, SL_DURABLE_INTERVAL, 0);
	uint64_t before = f.syncs;
	th_append_n(log, 0, 10);
	cr_assert_eq(f.syncs, before, "appends do not fsync themselves");
	struct timespec ts = { 0, 300 * 1000000 };
	nanosleep(&ts, NULL);
	cr_assert_gt(f.syncs, before, "the flusher synced within the interval");
	sl_log_close(log);
	fio_free(&f);
}

/* The image a power loss after recorded op `upto` could leave (fio_crash_image():
 * what was synced, and a part of the rest chosen by seed) opens, and holds
 * a prefix of the history with at least the `acked` first events. */
static void check_image(struct fio *f, size_t upto, size_t total_ops, uint64_t seed,
			uint64_t acked, int made)
{
	char *im = th_tmpdir();
	fio_crash_image(f, upto, seed, im);
	struct sl_log_options o;
	sl_log_options_init(&o);
	sl_log *l;
	char err[512] = "";
	int rc = sl_log_open(&l, im, &o, NULL, err, sizeof(err));
	if (rc == SL_ENOTFOUND && acked == 0) {
		th_rmdir(im);  /* crashed before the log existed */
		return;
	}
	cr_assert_eq(rc, SL_OK, "image %d (crash after op %zu of %zu): %s", made, upto,
		     total_ops, err);
	sl_log_close(l);
	/* Read back: a prefix of the history, all acknowledged present. */
	sl_reader *r;
	cr_assert_eq(sl_reader_open(&r, im, NULL, NULL, 0), SL_OK, "reader");
	struct sl_record rec;
	uint64_t n = 0;
	int got;
	while ((got = sl_reader_next(&rec, r)) == 1) {
		n++;
		cr_assert_eq(rec.seq, n, "image %d: prefix", made);
		sl_event *ev;
		cr_assert_eq(sl_event_decode(&ev, rec.data, rec.len, rec.seq, rec.time_us), SL_OK,
			     "decode");
		sl_event_free(ev);
	}
	cr_assert_eq(got, 0, "image %d: clean end: %s", made, sl_reader_errmsg(r));
	cr_assert_geq(n, acked, "image %d (crash after op %zu): %" PRIu64
		      " events, but %" PRIu64 " were acknowledged", made, upto, n, acked);
	sl_reader_close(r);
	th_rmdir(im);
}

/* Power loss: a writer with durability `always` appends while every write
 * and fsync is recorded; for random crash points, an image keeps what was
 * synced and a random part of the rest.  Each image must open, and hold a
 * prefix of the history that includes every acknowledged commit. */
Test(faults, power_loss_keeps_every_acknowledged_commit)
{
	const char *env = getenv("SL_POWERLOSS_IMAGES");
	int images = env ? atoi(env) : 400;
	enum { runs = 8, per_run = 60 };
	uint64_t seed = 12345;
	int made = 0;
	for (int run = 0; run < runs; run++) {
		th_rmdir(dir);
		dir = th_tmpdir();
		struct fio f;
		fio_init(&f);
		f.record = true;
		sl_log *log = open_with(&f, SL_DURABLE_ALWAYS, 4096);
		size_t ack_ops[per_run + 1];
		ack_ops[0] = 0;
		for (int i = 0; i < per_run; i++) {
			sl_event *evs[3];
			int n = 1 + i % 3 / 2;  /* mostly single-event commits, some pairs */
			for (int k = 0; k < n; k++)
				evs[k] = th_event("job", (uint64_t)i * 10 + (uint64_t)k);
			cr_assert_eq(sl_log_append(log, evs, (size_t)n, NULL), SL_OK, "append");
			for (int k = 0; k < n; k++)
				th_event_free(evs[k]);
			ack_ops[i + 1] = fio_ops(&f);
		}
		/* Closing joins the background compactor: no more I/O while the
		 * images are built from the record. */
		sl_log_close(log);
		size_t total_ops = fio_ops(&f);
		uint64_t acked_seq_at[per_run + 1];
		/* recompute acked seqs: commit i holds 1 or 2 events */
		acked_seq_at[0] = 0;
		for (int i = 0; i < per_run; i++)
			acked_seq_at[i + 1] = acked_seq_at[i] + (uint64_t)(1 + i % 3 / 2);
		for (int img = 0; img < images / runs; img++) {
			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			size_t upto = (size_t)(seed >> 33) % (total_ops + 1);
			uint64_t acked = 0;
			for (int i = 0; i <= per_run; i++)
				if (ack_ops[i] <= upto)
					acked = acked_seq_at[i];
			check_image(&f, upto, total_ops, seed, acked, made);
			made++;
		}
		fio_free(&f);
	}
	cr_assert_geq(made, images - runs, "images made");
}

/* Power loss while a writer packs the segment it appended to as it closes
 * (a log smaller than one segment, packed at rest): every image keeps every
 * commit, acknowledged before the close began, whether the crash falls
 * before, inside or after the packing (the copy, its sync, the rename, the
 * index). */
Test(faults, power_loss_while_packing_at_close_keeps_every_commit)
{
	const char *env = getenv("SL_POWERLOSS_IMAGES");
	int images = env ? atoi(env) / 4 : 100;
	/* about 330 KB stored raw, more than the 256 KiB packed at close, in
	 * few commits (each one synced) */
	enum { commits = 700, per_commit = 10 };
	struct fio f;
	fio_init(&f);
	f.record = true;
	sl_log *log = open_with(&f, SL_DURABLE_ALWAYS, 0);
	for (uint64_t i = 0; i < commits; i++) {
		sl_event *evs[per_commit];
		for (int k = 0; k < per_commit; k++)
			evs[k] = th_event("job", i * per_commit + (uint64_t)k);
		cr_assert_eq(sl_log_append(log, evs, per_commit, NULL), SL_OK, "append");
		for (int k = 0; k < per_commit; k++)
			th_event_free(evs[k]);
	}
	size_t close_starts = fio_ops(&f);
	cr_assert_eq(sl_log_close(log), SL_OK);
	size_t total_ops = fio_ops(&f);
	struct sl_log_status st;
	char err[512] = "";
	cr_assert_eq(sl_log_status(dir, &st, err, sizeof err), SL_OK, "%s", err);
	cr_assert_gt(total_ops, close_starts + 3, "the close packed the segment (%zu ops; %"
		     PRIu64 " bytes of events)", total_ops - close_starts, st.event_bytes);
	cr_assert_eq(st.unpacked_commits, 0, "packed at close");
	uint64_t seed = 777;
	for (int img = 0; img < images; img++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		/* most crash points inside the close, some before it */
		size_t span = total_ops - close_starts + 1;
		size_t upto = img % 5 == 0 ? (size_t)(seed >> 33) % (total_ops + 1)
					   : close_starts + (size_t)(seed >> 33) % span;
		check_image(&f, upto, total_ops, seed,
			    upto >= close_starts ? (uint64_t)commits * per_commit : 0, img);
	}
	fio_free(&f);
}
