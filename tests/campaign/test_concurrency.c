/* test_concurrency.c: processes sharing one log and one database.
 *  - two writers racing to open (and create) one log through the backend:
 *    one log is created, and both write to it;
 *  - two and eight writer processes saving through the backend, killed with
 *    SIGKILL at random and restarted: every acknowledged commit is in the
 *    log, the log is sound, execution ids unique, the views equal a rebuild;
 *  - a writer running the reference workload through the backend while
 *    reader processes follow the log's tail and a projector process keeps
 *    catching the same database up: readers see contiguous, decodable
 *    events and, at the end, all of them; the views equal a rebuild;
 *  - dashboard readers (plain SQLite connections, as the original's
 *    dashboards are) querying while sl_proj_rebuild() swaps the database:
 *    each read transaction sees the old database or the new one, never a
 *    mix. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "backend.h"
#include "camp.h"
#include "drive.h"
#include "event_internal.h"
#include "projector.h"
#include "workload.h"

static char *dir;

static void setup(void)
{
	dir = camp_tmpdir("concurrency");
}

static void teardown(void)
{
	camp_rmrf(dir);
	free(dir);
}

TestSuite(campaign_concurrency, .init = setup, .fini = teardown, .timeout = 120);

static bool always_alive(int64_t pid, void *ctx)
{
	(void)pid;
	(void)ctx;
	return true;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
	nanosleep(&ts, NULL);
}

static int open_be(sl_backend **be, const char *log, bool create, bool read_only,
		   enum sl_durability d, char *err, size_t errlen)
{
	struct sl_backend_options o;
	sl_backend_options_init(&o);
	o.create = create;
	o.read_only = read_only;
	o.durability = d;
	o.pid_alive = always_alive;
	return sl_backend_open(be, log, &o, err, errlen);
}

Test(campaign_concurrency, two_writers_racing_to_create_one_log_both_write)
{
	for (int round = 0; round < 10; round++) {
		char name[32];
		snprintf(name, sizeof name, "race%d.log", round);
		char *log = camp_path(dir, name);
		int go[2];
		cr_assert_eq(pipe(go), 0);
		pid_t kid[2];
		for (int i = 0; i < 2; i++) {
			kid[i] = fork();
			cr_assert_geq(kid[i], 0);
			if (kid[i] == 0) {
				char b, err[1024] = "";
				close(go[1]);
				if (read(go[0], &b, 1) != 1)
					_exit(9);
				sl_backend *be = NULL;
				if (open_be(&be, log, true, false, SL_DURABLE_NONE, err, sizeof err)) {
					fprintf(stderr, "open: %s\n", err);
					_exit(2);
				}
				struct sl_job_state st;
				sl_state_init(&st);
				st.presence = SL_JOB_LIVE;
				char id[32];
				snprintf(id, sizeof id, "racer-%d", i);
				st.id = id;
				st.name = id;
				st.total_sheets = 2;
				int rc = sl_backend_save(be, &st);
				if (rc)
					fprintf(stderr, "save: %s\n", sl_backend_errmsg(be));
				_exit(sl_backend_close(be) == SL_OK && rc == SL_OK ? 0 : 3);
			}
		}
		close(go[0]);
		cr_assert_eq(write(go[1], "xx", 2), 2);  /* both at once */
		close(go[1]);
		for (int i = 0; i < 2; i++) {
			int st;
			waitpid(kid[i], &st, 0);
			cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "round %d: child %d", round, i);
		}
		/* One log (one segment, one id), both jobs in it and in the views. */
		struct sl_verify_report v;
		char err[1024] = "";
		cr_assert_eq(sl_log_verify(log, NULL, &v, NULL, NULL, err, sizeof err), SL_OK, "%s", err);
		cr_assert(!v.damaged, "round %d: %s", round, v.damage);
		cr_assert_eq(v.segments, 1, "round %d: one log created", round);
		cr_assert_eq(v.commits, 2, "round %d: both saves", round);
		free(log);
	}
}

/* ---- several writers, killed at random ------------------------------------ */

/* Saves the job every writer works on ("shared", 5 sheets) and closes be. */
static void save_shared_job(sl_backend *be)
{
	struct sl_job_state st;
	sl_state_init(&st);
	st.presence = SL_JOB_LIVE;
	st.id = (char *)"shared";
	st.name = (char *)"shared";
	st.total_sheets = 5;
	cr_assert_eq(sl_backend_save(be, &st), SL_OK, "%s", sl_backend_errmsg(be));
	cr_assert_eq(sl_backend_close(be), SL_OK);
}

/* A writer process: through the backend, creates jobs of its own and records
 * executions on a job every writer shares, forever (until killed).  After
 * each call returns (durability always: on disk), writes "<seq> <job>" to
 * its acknowledgement file. */
static void writer_loop(const char *log, int k, int gen, int ack_fd, uint64_t seed)
{
	char err[1024] = "";
	sl_backend *be = NULL;
	if (open_be(&be, log, false, false, SL_DURABLE_ALWAYS, err, sizeof err) != SL_OK) {
		fprintf(stderr, "writer %d: %s\n", k, err);
		_exit(2);
	}
	for (uint64_t i = 0;; i++) {
		char id[64];
		int rc;
		uint64_t pick = camp_below(&seed, 4);
		if (pick == 0) {
			snprintf(id, sizeof id, "w%d-g%d-%" PRIu64, k, gen, i);
			struct sl_job_state st;
			sl_state_init(&st);
			st.presence = SL_JOB_LIVE;
			st.id = id;
			st.name = id;
			st.total_sheets = 3;
			rc = sl_backend_save(be, &st);
		} else if (pick == 1) {
			snprintf(id, sizeof id, "shared");
			rc = sl_backend_sheet_started(be, id, (int64_t)camp_below(&seed, 5) + 1);
		} else {
			snprintf(id, sizeof id, "shared");
			struct sl_execution_record rec = { .job_id = id, .sheet_num = 1,
							   .attempt_num = (int64_t)i + 1,
							   .has_exit_code = true, .exit_code = k };
			int64_t exec_id;
			rc = sl_backend_record_execution(&exec_id, be, &rec);
		}
		if (rc != SL_OK) {
			fprintf(stderr, "writer %d: %s\n", k, sl_backend_errmsg(be));
			_exit(3);
		}
		char line[128];
		int n = snprintf(line, sizeof line, "%" PRIu64 " %s\n", sl_backend_last_seq(be), id);
		if (write(ack_fd, line, (size_t)n) != n)
			_exit(4);
	}
}

/* In a child that loops until killed: killed with its parent, too, so that
 * a failed assertion in the parent leaves no writer running for good. */
static void die_with_parent(void)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
}

static pid_t start_writer(const char *log, int k, int gen, const char *acks)
{
	pid_t p = fork();
	cr_assert_geq(p, 0);
	if (p == 0) {
		die_with_parent();
		int fd = open(acks, O_WRONLY | O_APPEND | O_CREAT, 0644);
		if (fd < 0)
			_exit(5);
		writer_loop(log, k, gen, fd, (uint64_t)(k * 7919 + gen * 104729 + 1));
	}
	return p;
}

/* `writers` processes write one log through the backend; every few
 * milliseconds one of them, at random, is killed with SIGKILL and another
 * started in its place.  At the end: every acknowledged commit is in the
 * log, with its job; the log is sound; the views the writers kept equal a
 * rebuild. */
static void writers_killed(int writers, int kills)
{
	char *log = camp_path(dir, "shared.log"), *db = camp_path(dir, "shared.db");
	char *acks = camp_path(dir, "acks"), *rebuilt = camp_path(dir, "rebuilt.db");
	char err[1024] = "";
	sl_backend *be = NULL;
	cr_assert_eq(open_be(&be, log, true, false, SL_DURABLE_ALWAYS, err, sizeof err), SL_OK, "%s",
		     err);
	save_shared_job(be);

	pid_t *kid = calloc((size_t)writers, sizeof *kid);
	int gen = 0;
	for (int k = 0; k < writers; k++)
		kid[k] = start_writer(log, k, gen++, acks);
	uint64_t rng = 42;
	for (int i = 0; i < kills; i++) {
		sleep_ms(5 + (long)camp_below(&rng, 40));
		int k = (int)camp_below(&rng, (uint64_t)writers);
		kill(kid[k], SIGKILL);
		int wst;
		waitpid(kid[k], &wst, 0);
		cr_assert(WIFSIGNALED(wst), "writer %d died on its own: status %d", k, wst);
		kid[k] = start_writer(log, k, gen++, acks);
	}
	sleep_ms(50);
	for (int k = 0; k < writers; k++) {
		kill(kid[k], SIGKILL);
		int wst;
		waitpid(kid[k], &wst, 0);
		cr_assert(WIFSIGNALED(wst), "writer %d died on its own: status %d", k, wst);
	}
	free(kid);

	/* A last writer opens (cutting any torn tail) and closes, catching the
	 * views up. */
	cr_assert_eq(open_be(&be, log, false, false, SL_DURABLE_ALWAYS, err, sizeof err), SL_OK, "%s",
		     err);
	cr_assert_eq(sl_backend_close(be), SL_OK);
	struct sl_verify_report v;
	cr_assert_eq(sl_log_verify(log, NULL, &v, NULL, NULL, err, sizeof err), SL_OK, "%s", err);
	cr_assert(!v.damaged, "sound: %s at %s", v.damage, v.damage_segment);
	cr_assert(!v.torn_tail, "no torn tail left");

	/* Every acknowledged commit is there, for its job. */
	struct camp_events ev;
	cr_assert_eq(camp_read_events(&ev, log, err, sizeof err), SL_OK, "%s", err);
	FILE *f = fopen(acks, "r");
	cr_assert_not_null(f);
	uint64_t seq, acked = 0;
	char job[64];
	while (fscanf(f, "%" SCNu64 " %63s", &seq, job) == 2) {
		cr_assert(seq >= 1 && seq <= ev.n, "acknowledged seq %" PRIu64 " of %s is in the log "
			  "(%" PRIu64 " events)", seq, job, ev.n);
		sl_event *e = NULL;
		cr_assert_eq(sl_event_decode(&e, ev.data[seq - 1], ev.len[seq - 1], seq, 0), SL_OK);
		cr_assert_str_eq(e->job_id, job, "seq %" PRIu64 " is the acknowledged job's", seq);
		sl_event_free(e);
		acked++;
	}
	fclose(f);
	cr_assert_gt(acked, (uint64_t)writers * 4, "the writers got work done (%" PRIu64 ")", acked);
	camp_events_free(&ev);
	cr_log_info("%d writers, %d kills: %" PRIu64 " acknowledged commits, all present, of %" PRIu64
		    " events", writers, kills, acked, v.events);

	/* The views the writers kept (each projecting beside the others) equal
	 * a rebuild from the log. */
	struct sl_proj_stats pst;
	char msg[1024] = "";
	cr_assert_eq(sl_proj_rebuild(log, rebuilt, NULL, &pst, err, sizeof err), SL_OK, "%s", err);
	char *a = camp_dump(db, err, sizeof err), *b = camp_dump(rebuilt, err, sizeof err);
	cr_assert(a && b, "%s", err);
	if (strcmp(a, b) != 0) {
		camp_dump_diff(a, b, msg, sizeof msg);
		cr_assert_fail("views kept by the writers differ from a rebuild: %s", msg);
	}
	free(a);
	free(b);
	free(log);
	free(db);
	free(acks);
	free(rebuilt);
}

/* SL_WRITER_KILLS: the kills of a longer run (RELIABILITY.md). */
static int kills_or(int dflt)
{
	const char *s = getenv("SL_WRITER_KILLS");
	return s && atoi(s) > 0 ? atoi(s) : dflt;
}

Test(campaign_concurrency, two_writers_killed_at_random_lose_no_acknowledged_commit,
     .timeout = 3600)
{
	writers_killed(2, kills_or(30));
}

Test(campaign_concurrency, eight_writers_killed_at_random_lose_no_acknowledged_commit,
     .timeout = 3600)
{
	writers_killed(8, kills_or(40));
}

/* ---- rebuilds racing projectors and writers --------------------------------- */

/* A projector process: opens the views, catches up, closes, again and
 * again until `done` exists; exits non-zero at the first failure. */
static int project_loop(const char *log, const char *db, const char *done)
{
	int rounds = 0;
	while (access(done, F_OK) != 0 || rounds == 0) {
		sl_proj *p = NULL;
		char err[1024] = "";
		struct sl_proj_stats st;
		if (sl_proj_open(&p, log, db, NULL, NULL, err, sizeof err) != SL_OK) {
			fprintf(stderr, "project: open: %s\n", err);
			return 2;
		}
		int rc = sl_proj_catch_up(p, &st);
		if (rc != SL_OK)
			fprintf(stderr, "project: catch up: %s\n", sl_proj_errmsg(p));
		sl_proj_close(p);
		if (rc != SL_OK)
			return 3;
		rounds++;
	}
	return 0;
}

/* issue: `rebuild` beside `project` corrupted the views for good.  Two
 * writer processes append through the backend (each with its projector
 * thread on the views), three projector processes loop, and this process
 * rebuilds the views again and again meanwhile: nothing may fail, the
 * database must pass PRAGMA integrity_check, and, once all stop, equal a
 * rebuild. */
Test(campaign_concurrency, rebuilds_beside_projectors_and_writers_keep_the_views_whole)
{
	char *log = camp_path(dir, "rb.log"), *db = camp_path(dir, "rb.db");
	char *done = camp_path(dir, "rb.done"), *acks = camp_path(dir, "rb.acks");
	char *fresh = camp_path(dir, "rb.fresh.db");
	char err[1024] = "";
	sl_backend *be = NULL;
	cr_assert_eq(open_be(&be, log, true, false, SL_DURABLE_NONE, err, sizeof err), SL_OK, "%s",
		     err);
	save_shared_job(be);
	enum { WRITERS = 2, PROJECTORS = 6, REBUILDS = 30 };
	pid_t kid[WRITERS + PROJECTORS];
	for (int k = 0; k < WRITERS; k++)
		kid[k] = start_writer(log, k, 0, acks);
	for (int k = 0; k < PROJECTORS; k++) {
		kid[WRITERS + k] = fork();
		cr_assert_geq(kid[WRITERS + k], 0);
		if (kid[WRITERS + k] == 0) {
			die_with_parent();
			_exit(project_loop(log, db, done));
		}
	}
	for (int i = 0; i < REBUILDS; i++) {
		struct sl_proj_stats pst;
		cr_assert_eq(sl_proj_rebuild(log, db, NULL, &pst, err, sizeof err), SL_OK,
			     "rebuild %d: %s", i, err);
		sleep_ms(20);
	}
	FILE *f = fopen(done, "w");
	fclose(f);
	for (int k = 0; k < WRITERS; k++) {
		kill(kid[k], SIGKILL);
		int wst;
		waitpid(kid[k], &wst, 0);
		cr_assert(WIFSIGNALED(wst), "writer %d died on its own: status %d", k, wst);
	}
	for (int k = 0; k < PROJECTORS; k++) {
		int pst;
		waitpid(kid[WRITERS + k], &pst, 0);
		cr_assert(WIFEXITED(pst) && WEXITSTATUS(pst) == 0, "projector %d: exit %d", k,
			  WIFEXITED(pst) ? WEXITSTATUS(pst) : -1);
	}
	sqlite3 *c = NULL;
	cr_assert_eq(sqlite3_open(db, &c), SQLITE_OK);
	sqlite3_stmt *q = NULL;
	cr_assert_eq(sqlite3_prepare_v2(c, "PRAGMA integrity_check", -1, &q, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_step(q), SQLITE_ROW);
	cr_assert_str_eq((const char *)sqlite3_column_text(q, 0), "ok", "integrity_check");
	sqlite3_finalize(q);
	sqlite3_close(c);
	/* Caught up once more, the views equal a rebuild into a new file. */
	cr_assert_eq(project_loop(log, db, done), 0);
	struct sl_proj_stats pst;
	cr_assert_eq(sl_proj_rebuild(log, fresh, NULL, &pst, err, sizeof err), SL_OK, "%s", err);
	char msg[1024] = "";
	char *a = camp_dump(db, err, sizeof err), *b = camp_dump(fresh, err, sizeof err);
	cr_assert(a && b, "%s", err);
	if (strcmp(a, b) != 0) {
		camp_dump_diff(a, b, msg, sizeof msg);
		cr_assert_fail("views after the race differ from a rebuild: %s", msg);
	}
	free(a);
	free(b);
	free(log);
	free(db);
	free(done);
	free(acks);
	free(fresh);
}

/* ---- readers on tiny segments beside a writer --------------------------- */

/* issue: verify and dump reported false damage beside a writer (a roll or
 * a packing rename seen half-way).  A writer process appends with 4 KiB
 * segments (a roll every few commits, and sealed segments packed and
 * renamed in the background) while this process verifies and reads the
 * whole log again and again: no report of damage, ever. */
Test(campaign_concurrency, readers_on_tiny_segments_beside_a_writer_see_no_false_damage)
{
	char *log = camp_path(dir, "tiny.log");
	struct sl_log_options o;
	sl_log_options_init(&o);
	o.create = true;
	o.segment_size = 4096;
	o.durability = SL_DURABLE_NONE;
	sl_log *l = NULL;
	char err[1024] = "";
	cr_assert_eq(sl_log_open(&l, log, &o, NULL, err, sizeof err), SL_OK, "%s", err);
	cr_assert_eq(sl_log_close(l), SL_OK);
	pid_t w = fork();
	cr_assert_geq(w, 0);
	if (w == 0) {
		die_with_parent();
		if (sl_log_open(&l, log, &o, NULL, NULL, 0) != SL_OK)
			_exit(2);
		Statelog__PidSet b = STATELOG__PID_SET__INIT;
		b.has_pid = 1;
		sl_event ev = STATELOG__EVENT__INIT;
		ev.job_id = (char *)"tiny";
		ev.body_case = STATELOG__EVENT__BODY_PID_SET;
		ev.pid_set = &b;
		sl_event *p = &ev;
		/* 20,000 events at most, so that each round of the readers is
		 * bounded (also under sanitizers); then it only waits. */
		for (int64_t i = 1;; i++) {
			if (i > 20000) {
				sleep_ms(1000);
				continue;
			}
			b.pid = i;
			ev.has_seq = ev.has_time_us = 0;
			if (sl_log_append(l, &p, 1, NULL) != SL_OK)
				_exit(3);
			if (i % 16 == 0) {
				if (sl_log_flush(l) != SL_OK)
					_exit(4);
				sleep_ms(1);  /* a rate the readers keep up with */
			}
		}
	}
	int reads = 0;
	uint64_t most = 0;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int round = 0;; round++) {
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if ((round >= 50 && t1.tv_sec - t0.tv_sec >= 3) || t1.tv_sec - t0.tv_sec >= 30)
			break;
		struct sl_verify_report v;
		int rc = sl_log_verify(log, NULL, &v, NULL, NULL, err, sizeof err);
		cr_assert_eq(rc, SL_OK, "round %d: verify: %s", round, err);
		cr_assert(!v.damaged, "round %d: false damage: %s at %s", round, v.damage,
			  v.damage_segment);
		sl_reader *r = NULL;
		cr_assert_eq(sl_reader_open(&r, log, NULL, err, sizeof err), SL_OK, "%s", err);
		struct sl_record rec;
		uint64_t n = 0, end = v.last_seq;
		while (n < end && (rc = sl_reader_next(&rec, r)) == 1)
			cr_assert_eq(rec.seq, ++n, "round %d: in order", round);
		cr_assert(rc >= 0, "round %d: reading: %s", round, sl_reader_errmsg(r));
		sl_reader_close(r);
		if (n > most)
			most = n;
		reads++;
	}
	kill(w, SIGKILL);
	int st;
	waitpid(w, &st, 0);
	cr_assert(WIFSIGNALED(st), "the writer ran throughout: status %d", st);
	cr_assert_gt(most, 200, "the log grew meanwhile (%" PRIu64 " events)", most);
	cr_log_info("%d verify and read rounds beside a writer of 4 KiB segments, up to %" PRIu64
		    " events: no false damage", reads, most);
	free(log);
}

/* ---- readers and a projector beside a writer ---------------------------- */

/* Durability `always` when slow: the readers and the projector then run
 * through the whole of the writer's run, one commit (and fsync) per call. */
static int writer_child(const char *log, uint64_t events, uint64_t seed, bool slow)
{
	char err[1024] = "";
	sl_backend *be = NULL;
	if (open_be(&be, log, true, false, slow ? SL_DURABLE_ALWAYS : SL_DURABLE_NONE, err,
		    sizeof err) != SL_OK)
		return 3;
	sl_drive *d = NULL;
	sl_drive_new(&d);
	struct sl_workload_options wo;
	sl_workload_options_init(&wo);
	wo.seed = seed;
	wo.events = events;
	sl_workload *w = NULL;
	sl_workload_new(&w, &wo);
	Statelog__Event *ev;
	int rc = SL_OK;
	while (rc == SL_OK && sl_workload_next(w, &ev) == 1) {
		enum sl_drive_call call;
		rc = sl_drive_event(d, be, ev, sl_workload_time_us(w), &call);
	}
	sl_workload_free(w);
	sl_drive_free(d);
	if (rc != SL_OK)
		fprintf(stderr, "writer: %s\n", sl_backend_errmsg(be));
	return sl_backend_close(be) == SL_OK && rc == SL_OK ? 0 : 4;
}

/* Follows the tail until `done` exists, then drains; writes the count. */
static int reader_child(const char *log, const char *done, const char *out)
{
	sl_reader *r = NULL;
	for (int tries = 0; sl_reader_open(&r, log, NULL, NULL, 0) != SL_OK; tries++) {
		if (tries > 2000)
			return 3;
		sleep_ms(2);
	}
	uint64_t n = 0;
	struct sl_record rec;
	bool last_round = false;
	for (;;) {
		bool finished = access(done, F_OK) == 0;
		int rc;
		while ((rc = sl_reader_next(&rec, r)) == 1) {
			if (rec.seq != n + 1)
				return 5;
			sl_event *ev = NULL;
			if (sl_event_decode(&ev, rec.data, rec.len, rec.seq, rec.time_us) != SL_OK)
				return 6;
			sl_event_free(ev);
			n++;
		}
		if (rc < 0) {
			fprintf(stderr, "reader: %s\n", sl_reader_errmsg(r));
			return 7;
		}
		if (last_round)
			break;
		last_round = finished;
		sleep_ms(1);
	}
	sl_reader_close(r);
	FILE *f = fopen(out, "w");
	fprintf(f, "%" PRIu64 "\n", n);
	fclose(f);
	return 0;
}

static int projector_child(const char *log, const char *db, const char *done)
{
	bool last_round = false;
	for (;;) {
		bool finished = access(done, F_OK) == 0;
		struct sl_proj_options po;
		sl_proj_options_init(&po);
		po.batch_events = 100;
		sl_proj *p = NULL;
		char err[1024] = "";
		int rc = sl_proj_open(&p, log, db, &po, NULL, err, sizeof err);
		if (rc == SL_OK) {
			struct sl_proj_stats st;
			rc = sl_proj_catch_up(p, &st);
			if (rc != SL_OK)
				snprintf(err, sizeof err, "%s", sl_proj_errmsg(p));
			sl_proj_close(p);
		}
		if (rc != SL_OK && rc != SL_ENOTFOUND) {
			fprintf(stderr, "projector: %s\n", err);
			return 3;
		}
		if (last_round)
			return 0;
		last_round = finished;
		sleep_ms(5);
	}
}

Test(campaign_concurrency, readers_and_a_projector_beside_a_writer)
{
	enum { READERS = 4 };
	char *log = camp_path(dir, "run.log"), *db = camp_path(dir, "run.db");
	char *done = camp_path(dir, "done"), *rebuilt = camp_path(dir, "rebuilt.db");
	pid_t kids[READERS + 1];
	for (int i = 0; i <= READERS; i++) {
		kids[i] = fork();
		cr_assert_geq(kids[i], 0);
		if (kids[i] == 0) {
			if (i == READERS)
				_exit(projector_child(log, db, done));
			char name[32];
			snprintf(name, sizeof name, "count%d", i);
			char *out = camp_path(dir, name);
			_exit(reader_child(log, done, out));
		}
	}
	pid_t w = fork();
	if (w == 0)
		_exit(writer_child(log, 2500, 5, true));
	int st;
	waitpid(w, &st, 0);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "writer: status %d", st);
	FILE *f = fopen(done, "w");
	fclose(f);
	for (int i = 0; i <= READERS; i++) {
		waitpid(kids[i], &st, 0);
		cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s %d: exit %d",
			  i == READERS ? "projector" : "reader", i, WEXITSTATUS(st));
	}
	sl_reader *r = NULL;
	cr_assert_eq(sl_reader_open(&r, log, NULL, NULL, 0), SL_OK);
	uint64_t last = 0;
	cr_assert_eq(sl_reader_last_seq(&last, r), SL_OK);
	sl_reader_close(r);
	cr_assert_gt(last, 1000, "the writer appended (%" PRIu64 ")", last);
	for (int i = 0; i < READERS; i++) {
		char name[32];
		snprintf(name, sizeof name, "count%d", i);
		char *out = camp_path(dir, name);
		FILE *in = fopen(out, "r");
		uint64_t n = 0;
		cr_assert_eq(fscanf(in, "%" SCNu64, &n), 1);
		fclose(in);
		cr_assert_eq(n, last, "reader %d saw every event", i);
		free(out);
	}
	char err[1024] = "", msg[1024] = "";
	struct sl_proj_stats pst;
	cr_assert_eq(sl_proj_rebuild(log, rebuilt, NULL, &pst, err, sizeof err), SL_OK, "%s", err);
	char *a = camp_dump(db, err, sizeof err), *b = camp_dump(rebuilt, err, sizeof err);
	cr_assert(a && b, "%s", err);
	if (strcmp(a, b) != 0) {
		camp_dump_diff(a, b, msg, sizeof msg);
		cr_assert_fail("views projected beside the writer differ from a rebuild: %s", msg);
	}
	free(a);
	free(b);
	free(log);
	free(db);
	free(done);
	free(rebuilt);
}

/* ---- dashboards during a rebuild ---------------------------------------- */

struct fingerprint {
	long long seq, jobs, sheets, history;
};

static int fingerprint(const char *db, struct fingerprint *fp)
{
	sqlite3 *h = NULL;
	int rc = sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL);
	sqlite3_busy_timeout(h, 5000);
	sqlite3_stmt *st = NULL;
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(h,
			"SELECT (SELECT value FROM statelog_meta WHERE key = 'last_seq'),"
			" (SELECT count(*) FROM jobs), (SELECT count(*) FROM sheets),"
			" (SELECT count(*) FROM execution_history)", -1, &st, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		fp->seq = sqlite3_column_int64(st, 0);
		fp->jobs = sqlite3_column_int64(st, 1);
		fp->sheets = sqlite3_column_int64(st, 2);
		fp->history = sqlite3_column_int64(st, 3);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	sqlite3_close(h);
	return rc;
}

static bool same(const struct fingerprint *a, const struct fingerprint *b)
{
	return a->seq == b->seq && a->jobs == b->jobs && a->sheets == b->sheets &&
	       a->history == b->history;
}

Test(campaign_concurrency, dashboards_see_the_old_or_the_new_database_never_a_mix)
{
	enum { READERS = 3, ROUNDS = 4 };
	char *log = camp_path(dir, "run.log"), *old = camp_path(dir, "old.db");
	char *fresh = camp_path(dir, "fresh.db"), err[1024] = "";
	/* The old database: the views of the first part of the log. */
	pid_t w = fork();
	if (w == 0)
		_exit(writer_child(log, 1500, 5, false));
	int st;
	waitpid(w, &st, 0);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	struct sl_proj_stats pst;
	cr_assert_eq(sl_proj_rebuild(log, old, NULL, &pst, err, sizeof err), SL_OK, "%s", err);
	w = fork();
	if (w == 0)
		_exit(writer_child(log, 2500, 6, false));  /* more jobs: a longer log */
	waitpid(w, &st, 0);
	cr_assert(WIFEXITED(st));
	cr_assert_eq(sl_proj_rebuild(log, fresh, NULL, &pst, err, sizeof err), SL_OK, "%s", err);
	struct fingerprint f_old, f_new;
	cr_assert_eq(fingerprint(old, &f_old), SQLITE_OK);
	cr_assert_eq(fingerprint(fresh, &f_new), SQLITE_OK);
	cr_assert(!same(&f_old, &f_new), "the rebuild changes the views");
	uint64_t seen_old = 0, seen_new = 0;
	for (int round = 0; round < ROUNDS; round++) {
		char name[32];
		snprintf(name, sizeof name, "dash%d.db", round);
		char *db = camp_path(dir, name), *done = camp_path(dir, "rebuilt");
		unlink(done);
		cr_assert_eq(camp_copy(old, db, false), 0);
		int counts[2];
		cr_assert_eq(pipe(counts), 0);
		pid_t kids[READERS];
		for (int i = 0; i < READERS; i++) {
			kids[i] = fork();
			if (kids[i] == 0) {
				uint64_t n[2] = { 0, 0 };
				int after = 0;
				while (after < 20) {
					after += access(done, F_OK) == 0;
					struct fingerprint fp;
					if (fingerprint(db, &fp) != SQLITE_OK)
						_exit(3);
					if (same(&fp, &f_old))
						n[0]++;
					else if (same(&fp, &f_new))
						n[1]++;
					else
						_exit(4);   /* a mix */
				}
				if (write(counts[1], n, sizeof n) != (ssize_t)sizeof n)
					_exit(5);
				_exit(0);
			}
		}
		sleep_ms(20);
		cr_assert_eq(sl_proj_rebuild(log, db, NULL, &pst, err, sizeof err), SL_OK, "%s", err);
		FILE *f = fopen(done, "w");
		fclose(f);
		for (int i = 0; i < READERS; i++) {
			waitpid(kids[i], &st, 0);
			cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0,
				  "round %d reader %d: exit %d (4: a mix of old and new)", round, i,
				  WEXITSTATUS(st));
			uint64_t n[2];
			cr_assert_eq(read(counts[0], n, sizeof n), (ssize_t)sizeof n);
			seen_old += n[0];
			seen_new += n[1];
		}
		close(counts[0]);
		close(counts[1]);
		free(db);
		free(done);
	}
	cr_log_info("dashboard reads during rebuilds: %" PRIu64 " old, %" PRIu64 " new, 0 mixed",
		    seen_old, seen_new);
	cr_assert_gt(seen_old, 0, "readers saw the old database");
	cr_assert_gt(seen_new, 0, "and the new one");
	free(log);
	free(old);
	free(fresh);
}
