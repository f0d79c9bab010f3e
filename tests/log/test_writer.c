/* test_writer.c: appending and reading back (log/writer.c, log/reader.c):
 * round trips, sequence numbers and times, multi-event commits, reopening,
 * the writer lock, segment rolling, seeking, limits, group commit. */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "event_internal.h"
#include "helpers.h"

static char *dir;

static void setup(void)
{
	dir = th_tmpdir();
}

static void teardown(void)
{
	th_rmdir(dir);
	dir = NULL;
}

TestSuite(writer, .init = setup, .fini = teardown, .timeout = 60);

static void assert_same_event(const sl_event *a, const sl_event *b, uint64_t i)
{
	size_t la = sl_event_encoded_size(a), lb = sl_event_encoded_size(b);
	cr_assert_eq(la, lb, "event %" PRIu64 ": encoded sizes %zu vs %zu", i, la, lb);
	uint8_t *x = malloc(la + 1), *y = malloc(lb + 1);
	sl_event_encode(a, x);
	sl_event_encode(b, y);
	cr_assert_eq(memcmp(x, y, la), 0, "event %" PRIu64 ": bytes differ", i);
	free(x);
	free(y);
}

Test(writer, empty_log_reads_nothing)
{
	sl_log *log = th_open(dir, SL_DURABLE_ALWAYS, 0);
	cr_assert_eq(sl_log_next_seq(log), 1, "a new log starts at 1");
	cr_assert_eq(sl_log_close(log), SL_OK, "close");
	int rc;
	cr_assert_eq(th_count(dir, &rc), 0, "no events");
	cr_assert_eq(rc, 0, "end of log, not an error (%d)", rc);
}

Test(writer, round_trip_keeps_every_event_in_order)
{
	sl_log *log = th_open(dir, SL_DURABLE_NONE, 0);
	const uint64_t n = 2000;
	for (uint64_t i = 0; i < n; i++) {
		sl_event *ev = th_event(i % 3 ? "job-a" : "job/b:c@d", i);
		struct sl_commit_info info;
		cr_assert_eq(sl_log_append(log, &ev, 1, &info), SL_OK, "append %" PRIu64, i);
		cr_assert_eq(info.first_seq, i + 1, "seq of append %" PRIu64, i);
		cr_assert_eq(ev->seq, i + 1, "seq written back into event %" PRIu64, i);
		th_event_free(ev);
	}
	cr_assert_eq(sl_log_close(log), SL_OK, "close");

	sl_reader *r;
	char err[512];
	cr_assert_eq(sl_reader_open(&r, dir, NULL, err, sizeof(err)), SL_OK, "%s", err);
	struct sl_record rec;
	int64_t last_time = 0;
	for (uint64_t i = 0; i < n; i++) {
		cr_assert_eq(sl_reader_next(&rec, r), 1, "record %" PRIu64 ": %s", i, sl_reader_errmsg(r));
		cr_assert_eq(rec.seq, i + 1, "seq of record %" PRIu64, i);
		cr_assert_geq(rec.time_us, last_time, "time of record %" PRIu64 " goes back", i);
		last_time = rec.time_us;
		sl_event *got;
		cr_assert_eq(sl_event_decode(&got, rec.data, rec.len, rec.seq, rec.time_us), SL_OK,
			     "decode %" PRIu64, i);
		sl_event *want = th_event(i % 3 ? "job-a" : "job/b:c@d", i);
		assert_same_event(got, want, i);
		cr_assert_eq(got->seq, i + 1, "decoded seq %" PRIu64, i);
		sl_event_free(got);
		th_event_free(want);
	}
	cr_assert_eq(sl_reader_next(&rec, r), 0, "end after %" PRIu64, n);
	sl_reader_close(r);
}

Test(writer, multi_event_commit_is_one_commit)
{
	sl_log *log = th_open(dir, SL_DURABLE_ALWAYS, 0);
	sl_event *evs[5];
	for (int i = 0; i < 5; i++)
		evs[i] = th_event("j", (uint64_t)i);
	struct sl_commit_info info;
	cr_assert_eq(sl_log_append(log, evs, 5, &info), SL_OK, "append 5");
	cr_assert_eq(info.first_seq, 1, "first");
	cr_assert_eq(info.last_seq, 5, "last");
	th_append_n(log, 10, 1);
	for (int i = 0; i < 5; i++)
		th_event_free(evs[i]);
	sl_log_close(log);
	sl_reader *r;
	cr_assert_eq(sl_reader_open(&r, dir, NULL, NULL, 0), SL_OK, "open reader");
	struct sl_record rec;
	for (int i = 0; i < 5; i++) {
		cr_assert_eq(sl_reader_next(&rec, r), 1, "record %d", i);
		cr_assert_eq(rec.commit_first_seq, 1, "record %d in commit 1", i);
		cr_assert_eq(rec.commit_events, 5, "commit of 5");
	}
	cr_assert_eq(sl_reader_next(&rec, r), 1, "sixth");
	cr_assert_eq(rec.commit_first_seq, 6, "second commit starts at 6");
	sl_reader_close(r);
}

Test(writer, reopen_continues_sequence_and_chain)
{
	for (int round = 0; round < 4; round++) {
		sl_log *log = th_open(dir, SL_DURABLE_ALWAYS, 0);
		cr_assert_eq(sl_log_next_seq(log), (uint64_t)round * 100 + 1, "round %d", round);
		th_append_n(log, (uint64_t)round * 100, 100);
		cr_assert_eq(sl_log_close(log), SL_OK, "close round %d", round);
	}
	int rc;
	cr_assert_eq(th_count(dir, &rc), 400, "all rounds readable");
	cr_assert_eq(rc, 0, "clean end");
	struct sl_verify_report v;
	char err[512];
	cr_assert_eq(sl_log_verify(dir, NULL, &v, NULL, NULL, err, sizeof(err)), SL_OK, "%s", err);
	cr_assert(!v.damaged, "sound: %s", v.damage);
	cr_assert_eq(v.events, 400, "events");
	cr_assert_eq(v.commits, 400, "commits");
	cr_assert_eq(v.stale_indexes, 0, "indexes fresh");
}

/* The job id th_event() gives the events of writer w. */
static void writer_job(char *out, size_t len, int w)
{
	snprintf(out, len, "writer-%d", w);
}

/* Reads the whole log: every sequence number once, in order, and for each
 * writer its commits in the order it made them (the event's "i" grows). */
static void assert_interleaved(const char *d, int writers, uint64_t per_writer)
{
	sl_reader *r;
	char err[512] = "";
	cr_assert_eq(sl_reader_open(&r, d, NULL, err, sizeof(err)), SL_OK, "%s", err);
	uint64_t seq = 0, *seen = calloc((size_t)writers, sizeof(*seen));
	struct sl_record rec;
	int rc;
	while ((rc = sl_reader_next(&rec, r)) == 1) {
		cr_assert_eq(rec.seq, seq + 1, "consecutive sequence numbers");
		seq = rec.seq;
		sl_event *ev = NULL;
		cr_assert_eq(sl_event_decode(&ev, rec.data, rec.len, rec.seq, rec.time_us), SL_OK);
		int w = -1;
		cr_assert_eq(sscanf(ev->job_id, "writer-%d", &w), 1, "job %s", ev->job_id);
		cr_assert(w >= 0 && w < writers);
		seen[w]++;
		sl_event_free(ev);
	}
	cr_assert_eq(rc, 0, "clean end: %s", sl_reader_errmsg(r));
	for (int w = 0; w < writers; w++)
		cr_assert_eq(seen[w], per_writer, "writer %d: every commit once", w);
	cr_assert_eq(seq, per_writer * (uint64_t)writers, "nothing more");
	free(seen);
	sl_reader_close(r);
	struct sl_verify_report v;
	cr_assert_eq(sl_log_verify(d, NULL, &v, NULL, NULL, err, sizeof(err)), SL_OK, "%s", err);
	cr_assert(!v.damaged, "sound: %s at %s", v.damage, v.damage_segment);
	cr_assert(!v.torn_tail, "no torn tail");
	cr_assert_eq(v.stale_indexes, 0, "indexes written by both writers agree");
}

static void append_as(sl_log *log, int w, uint64_t i)
{
	char job[32];
	writer_job(job, sizeof(job), w);
	sl_event *ev = th_event(job, i);
	struct sl_commit_info ci;
	cr_assert_eq(sl_log_append(log, &ev, 1, &ci), SL_OK, "append: %s", sl_log_errmsg(log));
	cr_assert_eq(ci.first_seq, sl_event_seq(ev));
	th_event_free(ev);
}

Test(writer, two_handles_in_one_process_take_turns)
{
	/* Small segments: the two handles roll them in turn. */
	sl_log *a = th_open(dir, SL_DURABLE_ALWAYS, 4096);
	sl_log *b = th_open(dir, SL_DURABLE_NONE, 8192);
	for (uint64_t i = 0; i < 300; i++) {
		append_as(a, 0, i);
		append_as(b, 1, i);
		if (i % 7 == 0)
			cr_assert_eq(sl_log_flush(b), SL_OK);
	}
	cr_assert_eq(sl_log_close(b), SL_OK);
	/* a sees b's commits before its next one. */
	struct sl_log_hold h;
	cr_assert_eq(sl_log_refresh(&h, a), SL_OK, "%s", sl_log_errmsg(a));
	cr_assert_eq(h.next_seq, 601, "b's last commit is seen");
	cr_assert_geq(h.foreign_gen, 1, "and counted as another handle's");
	cr_assert_eq(h.foreign_end, 601);
	cr_assert_eq(sl_log_close(a), SL_OK);
	assert_interleaved(dir, 2, 300);
}

Test(writer, a_hold_keeps_others_out_until_released)
{
	sl_log *a = th_open(dir, SL_DURABLE_ALWAYS, 0);
	struct sl_log_options o;
	sl_log_options_init(&o);
	o.busy_timeout_ms = 100;
	sl_log *b = NULL;
	char err[512] = "";
	cr_assert_eq(sl_log_open(&b, dir, &o, NULL, err, sizeof(err)), SL_OK, "%s", err);
	struct sl_log_hold h;
	cr_assert_eq(sl_log_hold(&h, a), SL_OK);
	cr_assert_eq(h.next_seq, 1);
	append_as(a, 0, 0);  /* threads of the holder's handle append */
	sl_event *ev = th_event("writer-1", 0);
	cr_assert_eq(sl_log_append(b, &ev, 1, NULL), SL_ELOCKED, "the other handle waits, then gives up");
	char want[64];
	snprintf(want, sizeof(want), "locked by another writer (pid %ld)", (long)getpid());
	cr_assert_not_null(strstr(sl_log_errmsg(b), want), "names the holder: %s", sl_log_errmsg(b));
	cr_assert_not_null(strstr(sl_log_errmsg(b), "100 ms"), "and the timeout: %s",
			   sl_log_errmsg(b));
	sl_log_release(a);
	cr_assert_eq(sl_log_append(b, &ev, 1, NULL), SL_OK, "free once released: %s",
		     sl_log_errmsg(b));
	cr_assert_eq(sl_event_seq(ev), 2, "after a's commit");
	th_event_free(ev);
	/* sl_log_append_held() ends the hold even when it fails. */
	cr_assert_eq(sl_log_hold(&h, a), SL_OK);
	cr_assert_eq(h.next_seq, 3, "a sees b's commit");
	sl_event *bad = th_event("writer-0", 1);
	sl_event_set_time(bad, 1);  /* earlier than the log's last time */
	cr_assert_eq(sl_log_append_held(a, &bad, 1, NULL), SL_EINVAL);
	th_event_free(bad);
	ev = th_event("writer-1", 1);
	cr_assert_eq(sl_log_append(b, &ev, 1, NULL), SL_OK, "released by the failed append: %s",
		     sl_log_errmsg(b));
	th_event_free(ev);
	append_as(a, 0, 1);
	cr_assert_eq(sl_log_close(a), SL_OK);
	cr_assert_eq(sl_log_close(b), SL_OK);
	assert_interleaved(dir, 2, 2);
}

Test(writer, removing_lock_lets_no_second_writer_in)
{
	/* A user deletes LOCK, taking it for a stale lock file, while a writer
	 * holds the right: a second writer must still wait for it. */
	sl_log *a = th_open(dir, SL_DURABLE_ALWAYS, 0);
	struct sl_log_options o;
	sl_log_options_init(&o);
	o.busy_timeout_ms = 100;
	sl_log *b = NULL;
	char err[512] = "";
	cr_assert_eq(sl_log_open(&b, dir, &o, NULL, err, sizeof(err)), SL_OK, "%s", err);
	struct sl_log_hold h;
	cr_assert_eq(sl_log_hold(&h, a), SL_OK);
	char lock[512];
	snprintf(lock, sizeof(lock), "%s/LOCK", dir);
	cr_assert_eq(unlink(lock), 0);
	sl_event *ev = th_event("writer-1", 0);
	cr_assert_eq(sl_log_append(b, &ev, 1, NULL), SL_ELOCKED, "still held: %s",
		     sl_log_errmsg(b));
	append_as(a, 0, 0);
	append_as(a, 0, 1);
	sl_log_release(a);
	cr_assert_eq(sl_log_close(a), SL_OK);
	cr_assert_eq(sl_log_append(b, &ev, 1, NULL), SL_OK, "free once a closed: %s",
		     sl_log_errmsg(b));
	th_event_free(ev);
	append_as(b, 1, 1);
	cr_assert_eq(sl_log_close(b), SL_OK);
	cr_assert_eq(access(lock, F_OK), 0, "LOCK written again, naming the holder");
	assert_interleaved(dir, 2, 2);
}

Test(writer, processes_append_concurrently_in_order)
{
	enum { WRITERS = 6, COMMITS = 200 };
	/* Create it first: the children then race only to append. */
	sl_log_close(th_open(dir, SL_DURABLE_ALWAYS, 0));
	pid_t kid[WRITERS];
	for (int w = 0; w < WRITERS; w++) {
		kid[w] = fork();
		cr_assert_geq(kid[w], 0);
		if (kid[w] == 0) {
			struct sl_log_options o;
			sl_log_options_init(&o);
			/* Differing segment sizes and durabilities: every writer
			 * must follow rolls it would not have made. */
			o.segment_size = 4096u << (w % 3);
			o.durability = w % 2 ? SL_DURABLE_NONE : SL_DURABLE_ALWAYS;
			o.busy_timeout_ms = 60000;
			sl_log *log = NULL;
			if (sl_log_open(&log, dir, &o, NULL, NULL, 0) != SL_OK)
				_exit(2);
			char job[32];
			writer_job(job, sizeof(job), w);
			for (uint64_t i = 0; i < COMMITS; i++) {
				sl_event *ev = th_event(job, i);
				if (sl_log_append(log, &ev, 1, NULL) != SL_OK) {
					fprintf(stderr, "writer %d: %s\n", w, sl_log_errmsg(log));
					_exit(3);
				}
				th_event_free(ev);
			}
			_exit(sl_log_close(log) == SL_OK ? 0 : 4);
		}
	}
	for (int w = 0; w < WRITERS; w++) {
		int st;
		waitpid(kid[w], &st, 0);
		cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "writer %d exit %d", w,
			  WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	}
	assert_interleaved(dir, WRITERS, COMMITS);
}

Test(writer, a_writer_waits_for_another_process)
{
	sl_log_close(th_open(dir, SL_DURABLE_ALWAYS, 0));
	int ready[2];
	cr_assert_eq(pipe(ready), 0);
	pid_t child = fork();
	if (child == 0) {
		sl_log *log = NULL;
		struct sl_log_hold h;
		if (sl_log_open(&log, dir, NULL, NULL, NULL, 0) != SL_OK || sl_log_hold(&h, log))
			_exit(2);
		if (write(ready[1], "x", 1) != 1)
			_exit(3);
		struct timespec ts = { 0, 300 * 1000 * 1000 };
		nanosleep(&ts, NULL);
		sl_log_release(log);
		_exit(sl_log_close(log) == SL_OK ? 0 : 4);
	}
	char c;
	cr_assert_eq(read(ready[0], &c, 1), 1);
	sl_log *log = th_open(dir, SL_DURABLE_ALWAYS, 0);
	append_as(log, 0, 0);  /* waits for the child's hold to end */
	cr_assert_eq(sl_log_close(log), SL_OK);
	int st;
	waitpid(child, &st, 0);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_interleaved(dir, 1, 1);
}

Test(writer, a_busy_writer_lets_another_process_in)
{
	/* One process appends without a pause (durability none: its buffer is
	 * never empty for long); another must still get its turns, well within
	 * its busy timeout.  Both are children of a parent with no thread, so
	 * that valgrind, following them, sees no memory of another thread. */
	sl_log_close(th_open(dir, SL_DURABLE_NONE, 0));
	int go[2];
	cr_assert_eq(pipe(go), 0);
	pid_t busy = fork();
	cr_assert_geq(busy, 0);
	if (busy == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(go[0]);
		struct sl_log_options o;
		sl_log_options_init(&o);
		o.durability = SL_DURABLE_NONE;
		sl_log *l = NULL;
		if (sl_log_open(&l, dir, &o, NULL, NULL, 0) != SL_OK)
			_exit(2);
		for (uint64_t i = 0;; i++) {
			sl_event *ev = th_event("writer-0", i);
			if (sl_log_append(l, &ev, 1, NULL) != SL_OK)
				_exit(3);
			th_event_free(ev);
			if (i == 1000 && write(go[1], "x", 1) != 1)
				_exit(4);
		}
	}
	close(go[1]);
	char c;
	cr_assert_eq(read(go[0], &c, 1), 1, "the busy writer is under way");
	pid_t other = fork();
	cr_assert_geq(other, 0);
	if (other == 0) {
		struct sl_log_options o;
		sl_log_options_init(&o);
		o.busy_timeout_ms = 2000;
		sl_log *l = NULL;
		if (sl_log_open(&l, dir, &o, NULL, NULL, 0) != SL_OK)
			_exit(2);
		for (uint64_t i = 0; i < 100; i++) {
			sl_event *ev = th_event("writer-1", i);
			if (sl_log_append(l, &ev, 1, NULL) != SL_OK) {
				fprintf(stderr, "%s\n", sl_log_errmsg(l));
				_exit(3);
			}
			th_event_free(ev);
		}
		_exit(sl_log_close(l) == SL_OK ? 0 : 4);
	}
	int st;
	waitpid(other, &st, 0);
	kill(busy, SIGKILL);
	int bst;
	waitpid(busy, &bst, 0);
	cr_assert(WIFSIGNALED(bst), "the busy writer ran throughout: status %d", bst);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the other process got its turns: exit %d",
		  WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	/* A writer's open cuts what the killed one may have left torn. */
	sl_log_close(th_open(dir, SL_DURABLE_NONE, 0));
	struct sl_verify_report v;
	char err[512];
	cr_assert_eq(sl_log_verify(dir, NULL, &v, NULL, NULL, err, sizeof(err)), SL_OK, "%s", err);
	cr_assert(!v.damaged, "sound: %s", v.damage);
	sl_reader *r = NULL;
	cr_assert_eq(sl_reader_open(&r, dir, NULL, err, sizeof(err)), SL_OK, "%s", err);
	struct sl_record rec;
	uint64_t mine = 0;
	while (sl_reader_next(&rec, r) == 1) {
		sl_event *ev = NULL;
		cr_assert_eq(sl_event_decode(&ev, rec.data, rec.len, rec.seq, rec.time_us), SL_OK);
		mine += strcmp(ev->job_id, "writer-1") == 0;
		sl_event_free(ev);
	}
	sl_reader_close(r);
	cr_assert_eq(mine, 100, "every commit of the other process");
}

Test(writer, a_writer_killed_mid_commit_is_cut_by_the_next)
{
	sl_log *a = th_open(dir, SL_DURABLE_ALWAYS, 0);
	for (uint64_t i = 0; i < 10; i++)
		append_as(a, 0, i);
	/* A writer in another process that dies in the middle of a commit,
	 * whose data had not reached the file: it takes the right (once this
	 * handle, idle, gives it back), the file grows by zeros (what a crash
	 * leaves where a write was lost), and it dies holding the right. */
	char path[512];
	snprintf(path, sizeof(path), "%s", th_seg(dir, 1));
	long long size = th_file_size(path);
	pid_t child = fork();
	if (child == 0) {
		sl_log *l = NULL;
		struct sl_log_hold h;
		if (sl_log_open(&l, dir, NULL, NULL, NULL, 0) != SL_OK || sl_log_hold(&h, l) != SL_OK)
			_exit(2);
		FILE *f = fopen(path, "ab");
		static const char zeros[1500];
		if (!f || fwrite(zeros, 1, sizeof(zeros), f) != sizeof(zeros) || fclose(f))
			_exit(3);
		_exit(0);  /* dies holding the right: the kernel releases it */
	}
	int st;
	waitpid(child, &st, 0);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the dying writer");
	cr_assert_eq(th_file_size(path), size + 1500, "the zeros are there");
	append_as(a, 0, 10);  /* cuts the torn bytes, then appends */
	cr_assert_eq(sl_log_close(a), SL_OK);
	cr_assert_lt(th_file_size(path), size + 1500, "the zeros were cut");
	assert_interleaved(dir, 1, 11);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f, "%s", path);
	fputs(text, f);
	fclose(f);
}

static void assert_file_is(const char *path, const char *text)
{
	char buf[256] = "";
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f, "%s", path);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	cr_assert_str_eq(buf, text, "%s was written through a link", path);
}

/* A link planted under a name the log writes (LOCK, the last segment, an
 * index) must not make the log truncate or write the link's target. */
Test(writer, a_symbolic_link_in_the_log_directory_is_never_written_through)
{
	sl_log *log = th_open(dir, SL_DURABLE_ALWAYS, 0);
	th_append_n(log, 0, 3);
	cr_assert_eq(sl_log_close(log), SL_OK);
	char victim[4200], lock[4200], moved[4200];
	snprintf(victim, sizeof(victim), "%s.victim", dir);
	snprintf(lock, sizeof(lock), "%s/LOCK", dir);
	write_file(victim, "precious\n");

	/* LOCK */
	cr_assert_eq(unlink(lock), 0);
	cr_assert_eq(symlink(victim, lock), 0);
	struct sl_log_options o;
	sl_log_options_init(&o);
	sl_log *w = NULL;
	char err[512] = "";
	int rc = sl_log_open(&w, dir, &o, NULL, err, sizeof(err));
	cr_assert_lt(rc, 0, "a LOCK that is a link is refused");
	cr_assert_null(w);
	cr_assert_not_null(strstr(err, "LOCK: a symbolic link"), "the message says why: %s", err);
	assert_file_is(victim, "precious\n");
	cr_assert_eq(unlink(lock), 0);

	/* The last segment, which a writer opens for appending. */
	snprintf(moved, sizeof(moved), "%s.seg", dir);
	cr_assert_eq(rename(th_seg(dir, 1), moved), 0);
	cr_assert_eq(symlink(moved, th_seg(dir, 1)), 0);
	long long before = th_file_size(moved);
	rc = sl_log_open(&w, dir, &o, NULL, err, sizeof(err));
	cr_assert_lt(rc, 0, "a segment that is a link is not written through");
	cr_assert_not_null(strstr(err, "a symbolic link"), "the message says why: %s", err);
	cr_assert_eq(th_file_size(moved), before, "the link's target is unchanged");
	cr_assert_eq(unlink(th_seg(dir, 1)), 0);
	cr_assert_eq(rename(moved, th_seg(dir, 1)), 0);

	/* An index is rewritten beside its link and renamed over the link
	 * itself: the target is left alone. */
	char idx[4200];
	snprintf(idx, sizeof(idx), "%s", th_seg(dir, 1));
	strcpy(idx + strlen(idx) - 4, ".idx");
	unlink(idx);
	cr_assert_eq(symlink(victim, idx), 0);
	cr_assert_eq(sl_log_open(&w, dir, &o, NULL, err, sizeof(err)), SL_OK, "%s", err);
	th_append_n(w, 3, 2);
	cr_assert_eq(sl_log_close(w), SL_OK);
	assert_file_is(victim, "precious\n");
	cr_assert_eq(th_count(dir, &rc), 5);
	unlink(victim);
}

Test(writer, open_without_create_on_missing_log_is_not_found)
{
	struct sl_log_options o;
	sl_log_options_init(&o);
	sl_log *log = NULL;
	char err[512] = "";
	char path[4200];
	snprintf(path, sizeof(path), "%s/nope", dir);
	cr_assert_eq(sl_log_open(&log, path, &o, NULL, err, sizeof(err)), SL_ENOTFOUND, "%s", err);
	cr_assert_eq(sl_log_open(&log, dir, &o, NULL, err, sizeof(err)), SL_ENOTFOUND,
		     "empty directory: %s", err);
}

Test(writer, segments_roll_and_every_seq_can_be_sought)
{
	struct sl_log_options o;
	sl_log_options_init(&o);
	o.create = true;
	o.durability = SL_DURABLE_NONE;
	o.segment_size = 8192;
	o.pack_size = 4096;
	sl_log *log;
	cr_assert_eq(sl_log_open(&log, dir, &o, NULL, NULL, 0), SL_OK, "open");
	th_append_n(log, 0, 1500);
	sl_log_close(log);
	struct sl_verify_report v;
	cr_assert_eq(sl_log_verify(dir, NULL, &v, NULL, NULL, NULL, 0), SL_OK, "verify");
	cr_assert(!v.damaged, "sound: %s", v.damage);
	cr_assert_gt(v.segments, 5, "several segments (%u)", v.segments);
	cr_assert_eq(v.events, 1500, "events");
	cr_assert_eq(v.stale_indexes, 0, "indexes fresh");

	sl_reader *r;
	cr_assert_eq(sl_reader_open(&r, dir, NULL, NULL, 0), SL_OK, "reader");
	struct sl_record rec;
	for (uint64_t s = 1; s <= 1500; s += 37) {
		cr_assert_eq(sl_reader_seek_seq(r, s), SL_OK, "seek %" PRIu64 ": %s", s, sl_reader_errmsg(r));
		cr_assert_eq(sl_reader_next(&rec, r), 1, "read after seek %" PRIu64, s);
		cr_assert_eq(rec.seq, s, "seek %" PRIu64 " lands on it", s);
		cr_assert_eq(sl_reader_next(&rec, r), 1, "and goes on");
		cr_assert_eq(rec.seq, s + 1, "next after seek %" PRIu64, s);
	}
	cr_assert_eq(sl_reader_seek_seq(r, 1501), SL_OK, "seek past the end");
	cr_assert_eq(sl_reader_next(&rec, r), 0, "nothing past the end");
	uint64_t last;
	cr_assert_eq(sl_reader_last_seq(&last, r), SL_OK, "last seq");
	cr_assert_eq(last, 1500, "last seq");
	sl_reader_close(r);
}

Test(writer, seek_by_time_finds_first_event_at_or_after)
{
	struct sl_log_options o;
	sl_log_options_init(&o);
	o.create = true;
	o.durability = SL_DURABLE_NONE;
	o.segment_size = 8192;
	o.pack_size = 4096;
	sl_log *log;
	cr_assert_eq(sl_log_open(&log, dir, &o, NULL, NULL, 0), SL_OK, "open");
	const int64_t t0 = 1700000000000000;
	for (int i = 0; i < 600; i++) {
		sl_event *ev = th_event("j", (uint64_t)i);
		ev->has_time_us = 1;
		ev->time_us = t0 + (i / 2) * 1000;  /* pairs share a time */
		cr_assert_eq(sl_log_append(log, &ev, 1, NULL), SL_OK, "append %d", i);
		th_event_free(ev);
	}
	sl_log_close(log);
	sl_reader *r;
	cr_assert_eq(sl_reader_open(&r, dir, NULL, NULL, 0), SL_OK, "reader");
	struct sl_record rec;
	for (int k = 0; k < 299; k += 13) {
		int64_t t = t0 + k * 1000;
		cr_assert_eq(sl_reader_seek_time(r, t), SL_OK, "seek %d", k);
		cr_assert_eq(sl_reader_next(&rec, r), 1, "read at %d", k);
		cr_assert_eq(rec.time_us, t, "time at %d", k);
		cr_assert_eq(rec.seq, (uint64_t)(2 * k + 1), "first of the pair at %d", k);
		cr_assert_eq(sl_reader_seek_time(r, t + 1), SL_OK, "seek just after %d", k);
		cr_assert_eq(sl_reader_next(&rec, r), 1, "read after %d", k);
		cr_assert_eq(rec.seq, (uint64_t)(2 * k + 3), "next pair after %d", k);
	}
	sl_reader_close(r);
}

Test(writer, time_going_backwards_is_refused_and_nothing_written)
{
	sl_log *log = th_open(dir, SL_DURABLE_NONE, 0);
	sl_event *a = th_event("j", 0), *b = th_event("j", 1);
	a->has_time_us = 1;
	a->time_us = 2000000;
	cr_assert_eq(sl_log_append(log, &a, 1, NULL), SL_OK, "first");
	b->has_time_us = 1;
	b->time_us = 1999999;
	cr_assert_eq(sl_log_append(log, &b, 1, NULL), SL_EINVAL, "earlier time refused");
	cr_assert_eq(sl_log_next_seq(log), 2, "no seq used");
	b->has_time_us = 0;
	cr_assert_eq(sl_log_append(log, &b, 1, NULL), SL_OK, "log still usable");
	cr_assert_geq(b->time_us, 2000000, "assigned time not before the last");
	th_event_free(a);
	th_event_free(b);
	sl_log_close(log);
}

Test(writer, oversized_event_is_refused)
{
	struct sl_log_options o;
	sl_log_options_init(&o);
	o.create = true;
	o.max_event_size = 1000;
	o.max_commit_size = 4000;
	sl_log *log;
	cr_assert_eq(sl_log_open(&log, dir, &o, NULL, NULL, 0), SL_OK, "open");
	sl_event *ev = th_event("j", 1);
	free(ev->execution_recorded->output);
	ev->execution_recorded->output = calloc(1, 2000);
	memset(ev->execution_recorded->output, 'x', 1999);
	cr_assert_eq(sl_log_append(log, &ev, 1, NULL), SL_ETOOBIG, "event over max");
	cr_assert_eq(sl_log_next_seq(log), 1, "nothing appended");
	th_event_free(ev);
	sl_event *evs[40];
	for (int i = 0; i < 40; i++)
		evs[i] = th_event("j", 1);
	cr_assert_eq(sl_log_append(log, evs, 40, NULL), SL_ETOOBIG, "commit over max");
	for (int i = 0; i < 40; i++)
		th_event_free(evs[i]);
	cr_assert_eq(sl_log_append(log, evs, 0, NULL), SL_EINVAL, "empty commit");
	sl_log_close(log);
}

struct thr {
	sl_log *log;
	int id;
	int n;
};

static void *appender(void *arg)
{
	struct thr *t = arg;
	for (int i = 0; i < t->n; i++) {
		char job[32];
		snprintf(job, sizeof(job), "t%d", t->id);
		sl_event *ev = th_event(job, (uint64_t)i);
		if (sl_log_append(t->log, &ev, 1, NULL) != SL_OK)
			return (void *)1;
		th_event_free(ev);
	}
	return NULL;
}

static void concurrent(enum sl_durability d)
{
	sl_log *log = th_open(dir, d, 16384);
	pthread_t th[8];
	struct thr t[8];
	for (int i = 0; i < 8; i++) {
		t[i] = (struct thr){ log, i, 150 };
		pthread_create(&th[i], NULL, appender, &t[i]);
	}
	for (int i = 0; i < 8; i++) {
		void *res;
		pthread_join(th[i], &res);
		cr_assert_null(res, "thread %d appends", i);
	}
	cr_assert_eq(sl_log_close(log), SL_OK, "close");
	sl_reader *r;
	cr_assert_eq(sl_reader_open(&r, dir, NULL, NULL, 0), SL_OK, "reader");
	struct sl_record rec;
	int per[8] = { 0 };
	uint64_t n = 0;
	int got;
	while ((got = sl_reader_next(&rec, r)) == 1) {
		sl_event *ev;
		cr_assert_eq(sl_event_decode(&ev, rec.data, rec.len, rec.seq, rec.time_us), SL_OK, "decode");
		int id = ev->job_id[1] - '0';
		cr_assert(id >= 0 && id < 8, "job id %s", ev->job_id);
		per[id]++;
		n++;
		cr_assert_eq(rec.seq, n, "consecutive seq");
		sl_event_free(ev);
	}
	cr_assert_eq(got, 0, "clean end after %" PRIu64 ": %s", n, sl_reader_errmsg(r));
	sl_reader_close(r);
	for (int i = 0; i < 8; i++)
		cr_assert_eq(per[i], 150, "thread %d: every append present once", i);
}

Test(writer, concurrent_appends_always)
{
	concurrent(SL_DURABLE_ALWAYS);
}

Test(writer, concurrent_appends_interval)
{
	concurrent(SL_DURABLE_INTERVAL);
}

Test(writer, reader_follows_the_tail)
{
	sl_log *log = th_open(dir, SL_DURABLE_NONE, 4096);
	sl_reader *r;
	cr_assert_eq(sl_reader_open(&r, dir, NULL, NULL, 0), SL_OK, "reader");
	struct sl_record rec;
	uint64_t seen = 0;
	for (int round = 0; round < 20; round++) {
		th_append_n(log, seen, 37);
		/* durability none: written (so visible) at 64 KiB, every
		 * interval_ms, or now on sync */
		cr_assert_eq(sl_log_sync(log), SL_OK, "sync");
		int got;
		while ((got = sl_reader_next(&rec, r)) == 1)
			cr_assert_eq(rec.seq, ++seen, "round %d: in order", round);
		cr_assert_eq(got, 0, "round %d: end for now, not an error: %s", round, sl_reader_errmsg(r));
		cr_assert_eq(seen, (uint64_t)(round + 1) * 37, "round %d: all seen", round);
	}
	sl_reader_close(r);
	sl_log_close(log);
}

Test(writer, none_durability_commits_become_visible_within_the_interval)
{
	struct sl_log_options o;
	sl_log_options_init(&o);
	o.create = true;
	o.durability = SL_DURABLE_NONE;
	o.interval_ms = 20;
	sl_log *log;
	cr_assert_eq(sl_log_open(&log, dir, &o, NULL, NULL, 0), SL_OK, "open");
	th_append_n(log, 0, 3);
	int rc;
	uint64_t n = 0;
	for (int tries = 0; tries < 200 && n < 3; tries++) {
		usleep(10000);
		n = th_count(dir, &rc);
	}
	cr_assert_eq(n, 3, "the flusher wrote the pending commits");
	sl_log_close(log);
}

Test(writer, compaction_keeps_every_commit_and_chain_value)
{
	struct sl_log_options o;
	sl_log_options_init(&o);
	o.create = true;
	o.durability = SL_DURABLE_NONE;
	o.segment_size = 32768;
	o.pack_size = 8192;
	sl_log *log;
	cr_assert_eq(sl_log_open(&log, dir, &o, NULL, NULL, 0), SL_OK, "open");
	for (uint64_t i = 0; i < 900; i++) {
		sl_event *evs[2] = { th_event("j", i), th_event("k", i + 1) };
		cr_assert_eq(sl_log_append(log, evs, 1 + i % 2, NULL), SL_OK, "append %" PRIu64, i);
		th_event_free(evs[0]);
		th_event_free(evs[1]);
	}
	cr_assert_eq(sl_log_sync(log), SL_OK, "sync");
	/* every commit's crc and events before packing */
	enum { MAXN = 2000 };
	uint32_t *crc = calloc(MAXN, sizeof(*crc));
	size_t *len = calloc(MAXN, sizeof(*len));
	uint64_t *commit = calloc(MAXN, sizeof(*commit));
	sl_reader *r;
	struct sl_record rec;
	cr_assert_eq(sl_reader_open(&r, dir, NULL, NULL, 0), SL_OK, "reader");
	uint64_t n = 0;
	while (sl_reader_next(&rec, r) == 1) {
		crc[n] = rec.commit_crc;
		len[n] = rec.len;
		commit[n] = rec.commit_first_seq;
		n++;
	}
	sl_reader_close(r);
	cr_assert_eq(n, 1350, "events");
	long long before = 0, after = 0;
	for (int pass = 0; pass < 2; pass++) {
		char cmd[4300];
		snprintf(cmd, sizeof(cmd), "du -sb %s", dir);
		FILE *p = popen(cmd, "r");
		long long v = 0;
		cr_assert_eq(fscanf(p, "%lld", &v), 1, "du");
		pclose(p);
		if (pass == 0) {
			before = v;
			cr_assert_eq(sl_log_compact(log), SL_OK, "compact: %s", sl_log_errmsg(log));
		} else {
			after = v;
		}
	}
	cr_assert_lt(after, before, "packing saves space (%lld -> %lld)", before, after);
	th_append_n(log, 5000, 10);  /* appends go on after packing */
	cr_assert_eq(sl_log_close(log), SL_OK, "close");

	struct sl_verify_report v;
	cr_assert_eq(sl_log_verify(dir, NULL, &v, NULL, NULL, NULL, 0), SL_OK, "verify");
	cr_assert(!v.damaged, "sound: %s", v.damage);
	cr_assert_eq(v.events, 1360, "events");
	cr_assert_eq(v.stale_indexes, 0, "indexes fresh");
	cr_assert_eq(sl_reader_open(&r, dir, NULL, NULL, 0), SL_OK, "reader");
	for (uint64_t i = 0; i < n; i++) {
		cr_assert_eq(sl_reader_next(&rec, r), 1, "event %" PRIu64, i);
		cr_assert_eq(rec.seq, i + 1, "seq");
		cr_assert_eq(rec.commit_crc, crc[i], "event %" PRIu64 ": chain value kept", i);
		cr_assert_eq(rec.commit_first_seq, commit[i], "event %" PRIu64 ": commit kept", i);
		cr_assert_eq(rec.len, len[i], "event %" PRIu64 ": bytes kept", i);
	}
	for (uint64_t s = 1; s <= 1360; s += 97) {
		cr_assert_eq(sl_reader_seek_seq(r, s), SL_OK, "seek %" PRIu64, s);
		cr_assert_eq(sl_reader_next(&rec, r), 1, "read at %" PRIu64, s);
		cr_assert_eq(rec.seq, s, "seek lands on %" PRIu64, s);
	}
	sl_reader_close(r);
	free(crc);
	free(len);
	free(commit);
}

Test(writer, every_event_type_round_trips_byte_for_byte)
{
	sl_log *log = th_open(dir, SL_DURABLE_ALWAYS, 0);
	int types = 0;
	for (int t = 16; t <= 33; t++) {
		sl_event *ev = th_event_of_type("job/ü:1@x", (Statelog__Event__BodyCase)t, (uint64_t)t);
		cr_assert_eq(sl_log_append(log, &ev, 1, NULL), SL_OK, "append type %d: %s", t,
			     sl_log_errmsg(log));
		th_event_free(ev);
		types++;
	}
	cr_assert_eq(sl_log_compact(log), SL_OK, "compact");
	sl_log_close(log);
	sl_reader *r;
	cr_assert_eq(sl_reader_open(&r, dir, NULL, NULL, 0), SL_OK, "reader");
	struct sl_record rec;
	for (int t = 16; t <= 33; t++) {
		cr_assert_eq(sl_reader_next(&rec, r), 1, "read type %d", t);
		sl_event *got;
		cr_assert_eq(sl_event_decode(&got, rec.data, rec.len, rec.seq, rec.time_us), SL_OK, "decode %d", t);
		cr_assert_eq((int)got->body_case, t, "type");
		cr_assert_eq(sl_event_unknown_type(got), 0, "known type %d", t);
		sl_event *want = th_event_of_type("job/ü:1@x", (Statelog__Event__BodyCase)t, (uint64_t)t);
		assert_same_event(got, want, (uint64_t)t);
		th_event_free(want);
		sl_event_free(got);
	}
	sl_reader_close(r);
	cr_assert_eq(types, 18, "every type of events.proto");
}

Test(writer, event_of_unknown_type_is_kept_and_reported)
{
	sl_log *log = th_open(dir, SL_DURABLE_ALWAYS, 0);
	/* A newer writer's event: body field 40, which this build does not know. */
	sl_event *ev = calloc(1, sizeof(*ev));
	statelog__event__init(ev);
	ev->job_id = strdup("j");
	/* protobuf-c keeps a length-prefixed unknown field with its length */
	static uint8_t payload[] = { 0x02, 0x08, 0x05 };  /* its own field 1 = 5 */
	ProtobufCMessageUnknownField *u = calloc(1, sizeof(*u));
	u->tag = 40;
	u->wire_type = PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED;
	u->len = sizeof(payload);
	u->data = malloc(sizeof(payload));
	memcpy(u->data, payload, sizeof(payload));
	ev->base.n_unknown_fields = 1;
	ev->base.unknown_fields = u;
	cr_assert_eq(sl_log_append(log, &ev, 1, NULL), SL_OK, "append");
	th_event_free(ev);
	sl_log_close(log);
	struct sl_verify_report v;
	cr_assert_eq(sl_log_verify(dir, NULL, &v, NULL, NULL, NULL, 0), SL_OK, "verify");
	cr_assert(!v.damaged, "not damage");
	cr_assert_eq(v.unknown_events, 1, "reported as unknown, not dropped");
	sl_reader *r;
	cr_assert_eq(sl_reader_open(&r, dir, NULL, NULL, 0), SL_OK, "reader");
	struct sl_record rec;
	cr_assert_eq(sl_reader_next(&rec, r), 1, "the event is there");
	sl_event *got;
	cr_assert_eq(sl_event_decode(&got, rec.data, rec.len, rec.seq, rec.time_us), SL_OK, "decode");
	cr_assert_eq(sl_event_unknown_type(got), 40, "its type number is known");
	cr_assert_str_eq(sl_event_type_name(got), "unknown", "named unknown");
	sl_event_free(got);
	sl_reader_close(r);
}

struct whole_arg {
	const char *dir;
	volatile int stop;
	int bad;
	uint64_t seen;
};

/* Reads beside the writer: every commit of 3 events must be seen whole. */
static void *whole_reader(void *p)
{
	struct whole_arg *a = p;
	sl_reader *r;
	if (sl_reader_open(&r, a->dir, NULL, NULL, 0) != SL_OK) {
		a->bad = 1;
		return NULL;
	}
	struct sl_record rec;
	int in_commit = 0;
	bool last_pass = false;
	for (;;) {
		/* Once the writer has closed, one more pass to the end: the end
		 * seen just before it closed may not have been the last. */
		bool stopped = __atomic_load_n(&a->stop, __ATOMIC_ACQUIRE);
		int got = sl_reader_next(&rec, r);
		if (got < 0) {
			a->bad = 2;
			break;
		}
		if (got == 0) {
			if (in_commit) {
				a->bad = 3;  /* the end came inside a commit */
				break;
			}
			if (last_pass)
				break;
			last_pass = stopped;
			continue;
		}
		a->seen++;
		if (rec.commit_events != 3 || rec.seq - rec.commit_first_seq != (uint64_t)in_commit) {
			a->bad = 4;
			break;
		}
		in_commit = (in_commit + 1) % 3;
	}
	sl_reader_close(r);
	return NULL;
}

Test(writer, a_reader_beside_the_writer_sees_only_whole_commits)
{
	sl_log *log = th_open(dir, SL_DURABLE_INTERVAL, 65536);
	struct whole_arg a = { dir, 0, 0, 0 };
	pthread_t th;
	pthread_create(&th, NULL, whole_reader, &a);
	for (uint64_t i = 0; i < 3000; i++) {
		sl_event *evs[3] = { th_event("j", i), th_event("j", i + 1), th_event("j", i + 2) };
		cr_assert_eq(sl_log_append(log, evs, 3, NULL), SL_OK, "append");
		for (int k = 0; k < 3; k++)
			th_event_free(evs[k]);
		if (i % 100 == 0)
			sl_log_flush(log);
	}
	sl_log_close(log);
	__atomic_store_n(&a.stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	cr_assert_eq(a.bad, 0, "the reader saw a partial commit or an error (%d) after %" PRIu64 " events",
		     a.bad, a.seen);
	cr_assert_eq(a.seen, 9000, "and saw everything");
}
