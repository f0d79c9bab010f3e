/* test_status.c: sl_log_status() agrees with a full read (sl_log_verify())
 * on every count it gives, before and after packing and across segments;
 * tells commits not yet packed, a torn tail, damage, a gap left by repair,
 * a log of another id, and the writer holding the log. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"

static void status_ok(const char *dir, struct sl_log_status *st)
{
	char err[512] = "";
	cr_assert_eq(sl_log_status(dir, st, err, sizeof err), SL_OK, "%s", err);
}

/* The counts status gives are those a full read finds. */
static void agrees_with_verify(const char *dir)
{
	struct sl_log_status st;
	status_ok(dir, &st);
	struct sl_verify_report v;
	char err[512] = "";
	cr_assert_eq(sl_log_verify(dir, NULL, &v, NULL, NULL, err, sizeof err), SL_OK, "%s", err);
	cr_assert_not(v.damaged);
	cr_assert_not(st.stopped, "%s", st.stopped_why);
	cr_assert_eq(st.segments, v.segments);
	cr_assert_eq(st.commits, v.commits);
	cr_assert_eq(st.events, v.events);
	cr_assert_eq(st.first_seq, v.first_seq);
	cr_assert_eq(st.last_seq, v.last_seq);
	cr_assert_eq(st.first_time_us, v.first_time_us);
	cr_assert_eq(st.last_time_us, v.last_time_us);
	cr_assert_eq(st.event_bytes, v.raw_bytes);
	cr_assert_eq(st.segment_bytes, v.stored_bytes);
	cr_assert_eq(st.index_bytes, v.index_bytes);
}

Test(status, agrees_with_a_full_read_before_and_after_packing)
{
	char *dir = th_tmpdir();
	sl_log *log = th_open(dir, SL_DURABLE_NONE, 64 << 10);   /* several segments */
	th_append_n(log, 0, 3000);
	cr_assert_eq(sl_log_flush(log), SL_OK);
	struct sl_log_status st;
	status_ok(dir, &st);
	cr_assert_gt(st.segments, 2);
	cr_assert_eq(st.events, 3000);
	cr_assert_eq(st.commits, 3000);
	cr_assert_gt(st.unpacked_commits, 0, "the last segment is not packed yet");
	cr_assert_gt(st.unpacked_bytes, 0);
	agrees_with_verify(dir);
	cr_assert_eq(sl_log_compact(log), SL_OK);
	cr_assert_eq(sl_log_close(log), SL_OK);
	status_ok(dir, &st);
	cr_assert_eq(st.unpacked_commits, 0);
	cr_assert_eq(st.unpacked_bytes, 0);
	cr_assert_lt(st.stored_bytes, st.event_bytes, "packed: fewer bytes than the events");
	agrees_with_verify(dir);
	/* the id of every segment */
	uint8_t id[SL_LOG_ID_SIZE];
	sl_reader *r;
	cr_assert_eq(sl_reader_open(&r, dir, NULL, NULL, 0), SL_OK);
	sl_reader_log_id(id, r);
	sl_reader_close(r);
	cr_assert_eq(memcmp(id, st.log_id, sizeof id), 0);
	th_rmdir(dir);
}

Test(status, an_empty_log)
{
	char *dir = th_tmpdir();
	sl_log *log = th_open(dir, SL_DURABLE_ALWAYS, 0);
	cr_assert_eq(sl_log_close(log), SL_OK);
	struct sl_log_status st;
	status_ok(dir, &st);
	cr_assert_eq(st.segments, 1);
	cr_assert_eq(st.first_seq, 0);
	cr_assert_eq(st.last_seq, 0);
	cr_assert_eq(st.events, 0);
	cr_assert_not(st.stopped);
	th_rmdir(dir);
}

Test(status, no_log_is_not_found)
{
	char *dir = th_tmpdir();
	struct sl_log_status st;
	char err[512] = "";
	cr_assert_eq(sl_log_status(dir, &st, err, sizeof err), SL_ENOTFOUND);
	cr_assert(strstr(err, dir), "%s", err);
	char *none;
	cr_assert_geq(asprintf(&none, "%s/none", dir), 0);
	cr_assert_eq(sl_log_status(none, &st, err, sizeof err), SL_ENOTFOUND);
	free(none);
	th_rmdir(dir);
}

Test(status, a_torn_tail_is_said_not_damage)
{
	char *dir = th_tmpdir();
	sl_log *log = th_open(dir, SL_DURABLE_ALWAYS, 0);
	th_append_n(log, 0, 10);
	cr_assert_eq(sl_log_close(log), SL_OK);
	const char *seg = th_seg(dir, 1);
	long long size = th_file_size(seg);
	cr_assert_eq(truncate(seg, size - 3), 0);
	struct sl_log_status st;
	status_ok(dir, &st);
	cr_assert(st.stopped);
	cr_assert(st.torn_tail);
	cr_assert_eq(st.last_seq, 9, "the commits before the torn one");
	cr_assert(strstr(st.stopped_why, "ends inside a record"), "%s", st.stopped_why);
	th_rmdir(dir);
}

Test(status, damage_stops_the_walk_and_is_named)
{
	char *dir = th_tmpdir();
	sl_log *log = th_open(dir, SL_DURABLE_ALWAYS, 0);
	th_append_n(log, 0, 10);
	cr_assert_eq(sl_log_close(log), SL_OK);
	int fd = open(th_seg(dir, 1), O_WRONLY);
	cr_assert_geq(fd, 0);
	cr_assert_eq(pwrite(fd, "\377", 1, 66), 1);   /* the first record's kind */
	close(fd);
	struct sl_log_status st;
	status_ok(dir, &st);
	cr_assert(st.stopped);
	cr_assert_not(st.torn_tail);
	cr_assert_eq(st.stopped_offset, 64);
	cr_assert_eq(st.events, 0);
	th_rmdir(dir);
}

Test(status, a_missing_last_segment_is_said)
{
	char *dir = th_tmpdir();
	sl_log *log = th_open(dir, SL_DURABLE_ALWAYS, 4096);
	th_append_n(log, 0, 200);
	cr_assert_eq(sl_log_close(log), SL_OK);
	struct sl_log_status st;
	status_ok(dir, &st);
	cr_assert_gt(st.segments, 2);
	cr_assert_not(st.stopped);
	/* the last segment, whose first seq TAIL names */
	char tail[64] = "";
	char *tp;
	cr_assert_geq(asprintf(&tp, "%s/TAIL", dir), 0);
	FILE *f = fopen(tp, "r");
	cr_assert(f, "a log that rolled has TAIL");
	cr_assert(fgets(tail, sizeof tail, f));
	fclose(f);
	free(tp);
	cr_assert_eq(unlink(th_seg(dir, strtoull(tail, NULL, 10))), 0);
	status_ok(dir, &st);
	cr_assert(st.stopped, "a deleted last segment must not look like a shorter log");
	th_rmdir(dir);
}

Test(status, a_writer_holding_the_log_is_named)
{
	char *dir = th_tmpdir();
	sl_log *log = th_open(dir, SL_DURABLE_ALWAYS, 0);
	th_append_n(log, 0, 1);
	struct sl_log_hold h;
	cr_assert_eq(sl_log_hold(&h, log), SL_OK);
	struct sl_log_status st;
	status_ok(dir, &st);
	cr_assert(st.writer_holds);
	cr_assert_eq(st.writer_pid, (long)getpid());
	cr_assert(st.writer_alive);
	sl_log_release(log);
	cr_assert_eq(sl_log_close(log), SL_OK);
	status_ok(dir, &st);
	cr_assert_not(st.writer_holds);
	cr_assert_eq(st.writer_pid, (long)getpid(), "LOCK names the last writer");
	th_rmdir(dir);
}

Test(status, a_gap_left_by_repair_is_counted_as_lost)
{
	char *dir = th_tmpdir();
	sl_log *log = th_open(dir, SL_DURABLE_ALWAYS, 0);
	th_append_n(log, 0, 20);
	cr_assert_eq(sl_log_close(log), SL_OK);
	/* damage in the middle: a bit of a commit's payload */
	long long size = th_file_size(th_seg(dir, 1));
	int fd = open(th_seg(dir, 1), O_RDWR);
	unsigned char c;
	cr_assert_eq(pread(fd, &c, 1, size / 2), 1);
	c ^= 0x10;
	cr_assert_eq(pwrite(fd, &c, 1, size / 2), 1);
	close(fd);
	struct sl_repair_report rep;
	char err[512] = "";
	cr_assert_eq(sl_log_repair(dir, NULL, &rep, err, sizeof err), SL_OK, "%s", err);
	cr_assert(rep.changed);
	struct sl_log_status st;
	status_ok(dir, &st);
	cr_assert_not(st.stopped, "%s", st.stopped_why);
	cr_assert_eq(st.lost, rep.events_lost);
	cr_assert_eq(st.events + st.lost, 20);
	cr_assert_eq(st.last_seq, 20);
	th_rmdir(dir);
}

/* Waits (up to 30 s: a deadline, not a measurement) for the open log's
 * active segment to be packed by its idle writer. */
static bool packed_within(const char *dir, int seconds)
{
	for (int i = 0; i < seconds * 20; i++) {
		struct sl_log_status st;
		status_ok(dir, &st);
		if (st.unpacked_commits == 0)
			return true;
		usleep(50000);
	}
	return false;
}

Test(status, an_idle_writer_packs_the_segment_it_appends_to)
{
	char *dir = th_tmpdir();
	sl_log *log = th_open(dir, SL_DURABLE_NONE, 0);
	th_append_n(log, 0, 4500);   /* about 340 KB stored raw */
	cr_assert_eq(sl_log_flush(log), SL_OK);
	struct sl_log_status st;
	status_ok(dir, &st);
	cr_assert_gt(st.unpacked_commits, 0);
	cr_assert(packed_within(dir, 30), "the idle writer did not pack its segment");
	/* and appends go on after it, to the new file */
	th_append_n(log, 4500, 10);
	cr_assert_eq(sl_log_close(log), SL_OK);
	agrees_with_verify(dir);
	int rc;
	cr_assert_eq(th_count(dir, &rc), 4510);
	cr_assert_eq(rc, 0);
	th_rmdir(dir);
}

Test(status, a_few_raw_commits_are_left_at_close)
{
	/* Packing rewrites the whole file: a close does it only for enough
	 * raw bytes (256 KiB, and an eighth of the file). */
	char *dir = th_tmpdir();
	sl_log *log = th_open(dir, SL_DURABLE_NONE, 0);
	th_append_n(log, 0, 4500);
	cr_assert_eq(sl_log_close(log), SL_OK);
	struct sl_log_status st;
	status_ok(dir, &st);
	cr_assert_eq(st.unpacked_commits, 0, "packed at close");
	log = th_open(dir, SL_DURABLE_ALWAYS, 0);
	th_append_n(log, 4500, 10);
	cr_assert_eq(sl_log_close(log), SL_OK);
	status_ok(dir, &st);
	cr_assert_eq(st.unpacked_commits, 10, "10 small commits are not worth a rewrite");
	agrees_with_verify(dir);
	th_rmdir(dir);
}

Test(status, a_log_opened_without_compaction_is_left_raw)
{
	char *dir = th_tmpdir();
	struct sl_log_options o;
	sl_log_options_init(&o);
	o.create = true;
	o.compact = false;
	o.durability = SL_DURABLE_NONE;
	sl_log *log;
	char err[512] = "";
	cr_assert_eq(sl_log_open(&log, dir, &o, NULL, err, sizeof err), SL_OK, "%s", err);
	th_append_n(log, 0, 4500);
	cr_assert_eq(sl_log_close(log), SL_OK);
	struct sl_log_status st;
	status_ok(dir, &st);
	cr_assert_eq(st.unpacked_commits, 4500);
	th_rmdir(dir);
}

/* Reads what is there now into *n (checking each seq is the next one). */
static void read_on(sl_reader *r, uint64_t *n)
{
	struct sl_record rec;
	int got;
	while ((got = sl_reader_next(&rec, r)) == 1) {
		cr_assert_eq(rec.seq, *n + 1, "seq %" PRIu64 " after %" PRIu64, rec.seq, *n);
		(*n)++;
	}
	cr_assert_eq(got, 0, "%s", sl_reader_errmsg(r));
}

Test(status, a_reader_follows_the_segment_through_its_packing)
{
	/* A reader at the end of the segment being written; the writer packs
	 * it (a new file renamed over it) and appends on: the reader must see
	 * the new commits, each once. */
	char *dir = th_tmpdir();
	sl_log *log = th_open(dir, SL_DURABLE_NONE, 0);
	th_append_n(log, 0, 100);
	cr_assert_eq(sl_log_flush(log), SL_OK);
	sl_reader *r;
	cr_assert_eq(sl_reader_open(&r, dir, NULL, NULL, 0), SL_OK);
	uint64_t n = 0;
	read_on(r, &n);
	cr_assert_eq(n, 100);
	for (int round = 0; round < 3; round++) {
		cr_assert_eq(sl_log_compact(log), SL_OK);   /* the active segment, packed */
		th_append_n(log, n, 50);
		cr_assert_eq(sl_log_flush(log), SL_OK);
		read_on(r, &n);
		cr_assert_eq(n, 150 + 50 * (uint64_t)round, "round %d: %" PRIu64, round, n);
	}
	cr_assert_eq(sl_log_close(log), SL_OK);
	/* packed at close by another handle, then appended to by a third */
	log = th_open(dir, SL_DURABLE_NONE, 0);
	th_append_n(log, n, 4500);
	cr_assert_eq(sl_log_close(log), SL_OK);
	struct sl_log_status st;
	status_ok(dir, &st);
	cr_assert_eq(st.unpacked_commits, 0, "packed at close");
	log = th_open(dir, SL_DURABLE_NONE, 0);
	th_append_n(log, n + 4500, 7);
	cr_assert_eq(sl_log_close(log), SL_OK);
	read_on(r, &n);
	cr_assert_eq(n, 250 + 4500 + 7);
	sl_reader_close(r);
	th_rmdir(dir);
}

/* The writer packs the segment a reader is at the end of, appends to the
 * new file and rolls to a new segment, all before the reader reads on: the
 * reader takes the commits appended to the new file, then the next
 * segment's, each once ("segment does not follow" before). */
Test(status, a_reader_follows_a_packed_segment_the_writer_has_rolled_past)
{
	char *dir = th_tmpdir();
	sl_log *log = th_open(dir, SL_DURABLE_NONE, 256 << 10);
	th_append_n(log, 0, 100);
	cr_assert_eq(sl_log_flush(log), SL_OK);
	sl_reader *r;
	cr_assert_eq(sl_reader_open(&r, dir, NULL, NULL, 0), SL_OK);
	uint64_t n = 0;
	read_on(r, &n);
	cr_assert_eq(n, 100);
	uint64_t total = 100;
	for (int round = 0; round < 3; round++) {
		struct sl_log_status st;
		status_ok(dir, &st);
		uint64_t segs = st.segments;
		cr_assert_eq(sl_log_compact(log), SL_OK);   /* the active segment, packed */
		/* On in the new file, then past the segment's size into a new one. */
		do {
			th_append_n(log, total, 200);
			total += 200;
			cr_assert_eq(sl_log_flush(log), SL_OK);
			status_ok(dir, &st);
		} while (st.segments == segs);
		read_on(r, &n);
		cr_assert_eq(n, total, "round %d: %" PRIu64 " of %" PRIu64, round, n, total);
	}
	cr_assert_eq(sl_log_close(log), SL_OK);
	sl_reader_close(r);
	th_rmdir(dir);
}

/* A writer killed (SIGKILL) at a random moment while it packs the segment
 * it wrote, as it closes: every commit it had written is there after the
 * next open, in order, the log sound and with no torn tail left. */
Test(status, a_writer_killed_while_it_packs_at_close_loses_nothing, .timeout = 120)
{
	enum { trials = 12, commits = 700, per_commit = 10 };
	uint64_t r = 42;
	int killed_inside = 0;
	for (int t = 0; t < trials; t++) {
		char *dir = th_tmpdir();
		int fds[2];
		cr_assert_eq(pipe(fds), 0);
		pid_t pid = fork();
		cr_assert_geq(pid, 0);
		if (pid == 0) {
			close(fds[0]);
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			sl_log *log = th_open(dir, SL_DURABLE_NONE, 0);
			for (uint64_t i = 0; i < commits; i++) {
				sl_event *evs[per_commit];
				for (int k = 0; k < per_commit; k++)
					evs[k] = th_event("job", i * per_commit + (uint64_t)k);
				if (sl_log_append(log, evs, per_commit, NULL) != SL_OK)
					_exit(2);
				for (int k = 0; k < per_commit; k++)
					th_event_free(evs[k]);
			}
			char c = 'A';
			if (sl_log_flush(log) != SL_OK || write(fds[1], &c, 1) != 1)
				_exit(3);
			int rc = sl_log_close(log);   /* packs the segment */
			c = 'C';
			_exit(rc == SL_OK && write(fds[1], &c, 1) == 1 ? 0 : 4);
		}
		close(fds[1]);
		char c;
		cr_assert_eq(read(fds[0], &c, 1), 1, "the writer appended");
		/* the packing takes some milliseconds: kill within the first ones */
		r = r * 6364136223846793005ull + 1442695040888963407ull;
		usleep((useconds_t)((r >> 33) % 30000));
		kill(pid, SIGKILL);
		int status;
		cr_assert_eq(waitpid(pid, &status, 0), pid);
		if (read(fds[0], &c, 1) != 1)
			killed_inside++;    /* killed before its close returned */
		close(fds[0]);
		sl_log *log = th_open(dir, SL_DURABLE_NONE, 0);
		cr_assert_eq(sl_log_close(log), SL_OK);
		int rc;
		cr_assert_eq(th_count(dir, &rc), (uint64_t)commits * per_commit, "trial %d", t);
		cr_assert_eq(rc, 0, "trial %d", t);
		struct sl_verify_report v;
		char err[512] = "";
		cr_assert_eq(sl_log_verify(dir, NULL, &v, NULL, NULL, err, sizeof err), SL_OK, "%s", err);
		cr_assert_not(v.damaged, "trial %d: %s", t, v.damage);
		cr_assert_not(v.torn_tail, "trial %d", t);
		th_rmdir(dir);
	}
	cr_assert_gt(killed_inside, 0, "no kill landed inside a close");
}
