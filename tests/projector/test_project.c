/* test_project.c: tests of projector/project.c, rebuild.c, feed.c, cache.c
 * and wbvfs.c: catch-up is idempotent and exactly-once (also when killed in
 * mid-batch), a rebuild equals the incremental projection row for row and
 * replaces the database atomically, a foreign database is refused, one ahead
 * of the log is rebuilt, an unknown event stops catch-up, a deleted and
 * re-created job shows nothing stale, and the views hold exactly the states
 * the rules give.
 */
#include <criterion/criterion.h>

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <dirent.h>
#include <unistd.h>

#include <sqlite3.h>

#include "event_internal.h"
#include "feed.h"
#include "proj_helpers.h"
#include "views.h"
#include "timefmt.h"
#include "workload.h"

#define T0 INT64_C(1795661378504474)

static char *dir, *log_dir, *db_path;

static void setup(void)
{
	dir = ph_tmpdir();
	log_dir = ph_path(dir, "test.log");
	db_path = ph_path(dir, "test.db");
}

static void teardown(void)
{
	free(log_dir);
	free(db_path);
	ph_rmrf(dir);
}

TestSuite(project, .init = setup, .fini = teardown, .timeout = 120);

static void rebuild_to(const char *path, struct sl_proj_stats *st)
{
	char err[1024] = "";
	struct sl_proj_stats local;
	int rc = sl_proj_rebuild(log_dir, path, NULL, st ? st : &local, err, sizeof err);
	cr_assert_eq(rc, SL_OK, "rebuild of %s into %s: %s", log_dir, path, err);
}

static void assert_same_db(const char *a, const char *b, const char *what)
{
	char *da = ph_dump(a), *db = ph_dump(b);
	if (strcmp(da, db) != 0) {
		/* Name the first line that differs. */
		size_t i = 0, line = 1, start = 0;
		for (; da[i] && da[i] == db[i]; i++)
			if (da[i] == '\n') {
				line++;
				start = i + 1;
			}
		cr_assert_fail("%s: %s and %s differ at line %zu:\n  %.300s\n  %.300s", what, a, b,
			       line, da + start, db + start);
	}
	free(da);
	free(db);
}

/* ---- catch-up ------------------------------------------------------------- */

Test(project, catch_up_is_idempotent)
{
	sl_log *log = ph_log(log_dir);
	ph_append_workload(log, 3000, 7);
	sl_log_close(log);
	struct sl_proj_stats st;
	ph_project(log_dir, db_path, 0, &st);
	cr_assert_eq(st.events_applied, 3000, "first catch-up applied %" PRIu64, st.events_applied);
	cr_assert_eq(st.last_seq, 3000, "position %" PRIu64, st.last_seq);
	char *first = ph_dump(db_path);
	ph_project(log_dir, db_path, 0, &st);
	cr_assert_eq(st.events_applied, 0, "second catch-up applied %" PRIu64, st.events_applied);
	char *second = ph_dump(db_path);
	cr_assert_str_eq(second, first, "running catch-up twice changed the database");
	free(first);
	free(second);
}

/* Catch-up in small steps, as the log grows, gives the rebuild's database. */
Test(project, incremental_equals_rebuild)
{
	sl_log *log = ph_log(log_dir);
	struct sl_workload *w = ph_workload(6000, 3);
	uint64_t n;
	while ((n = ph_append_from(log, w, 1500)) > 0) {
		cr_assert_eq(sl_log_sync(log), SL_OK);  /* readers see what is written */
		ph_project(log_dir, db_path, 97, NULL);
	}
	sl_workload_free(w);
	sl_log_close(log);
	char *rebuilt = ph_path(dir, "rebuilt.db");
	rebuild_to(rebuilt, NULL);
	assert_same_db(db_path, rebuilt, "catch-up in batches of 97 as the log grew vs rebuild");
	free(rebuilt);
}

/* The views hold exactly the states sl_rules_apply() gives, event by event
 * (this checks which rows the projector thinks an event changes). */
struct replayed {
	char id[128];
	struct sl_job_state st;
	uint64_t executions;
};

Test(project, views_hold_the_rules_states)
{
	sl_log *log = ph_log(log_dir);
	ph_append_workload(log, 8000, 11);
	sl_log_close(log);
	ph_project(log_dir, db_path, 1000, NULL);

	static struct replayed jobs[512];
	size_t n_jobs = 0;
	sl_reader *r;
	char err[512];
	cr_assert_eq(sl_reader_open(&r, log_dir, NULL, err, sizeof err), SL_OK, "%s", err);
	struct sl_record rec;
	while (sl_reader_next(&rec, r) == 1) {
		sl_event *ev;
		cr_assert_eq(sl_event_decode(&ev, rec.data, rec.len, rec.seq, rec.time_us), SL_OK);
		size_t k = 0;
		while (k < n_jobs && strcmp(jobs[k].id, ev->job_id) != 0)
			k++;
		if (k == n_jobs) {
			cr_assert_lt(n_jobs, 512, "too many jobs for the test");
			snprintf(jobs[k].id, sizeof jobs[k].id, "%s", ev->job_id);
			sl_state_init(&jobs[k].st);
			n_jobs++;
		}
		if (sl_rules_apply(&jobs[k].st, ev, NULL) == SL_OK) {
			if (ev->body_case == STATELOG__EVENT__BODY_EXECUTION_RECORDED)
				jobs[k].executions++;
			if (ev->body_case == STATELOG__EVENT__BODY_JOB_DELETED)
				jobs[k].executions = 0;
		}
		sl_event_free(ev);
	}
	sl_reader_close(r);
	cr_assert_gt(n_jobs, 10, "the workload ran %zu jobs", n_jobs);

	sl_proj *p;
	cr_assert_eq(sl_proj_open(&p, log_dir, db_path, NULL, NULL, err, sizeof err), SL_OK, "%s",
		     err);
	sqlite3_stmt *count;
	cr_assert_eq(sqlite3_prepare_v2(sl_proj_db(p), "SELECT count(*) FROM execution_history "
					"WHERE job_id = ?", -1, &count, NULL), SQLITE_OK);
	for (size_t k = 0; k < n_jobs; k++) {
		struct sl_job_state got;
		int rc = sl_proj_load_job(&got, p, jobs[k].id);
		if (jobs[k].st.presence != SL_JOB_LIVE) {
			cr_assert_eq(rc, SL_ENOTFOUND, "job %s is not live, but loads (%d)",
				     jobs[k].id, rc);
			continue;
		}
		cr_assert_eq(rc, SL_OK, "load %s: %s", jobs[k].id, sl_proj_errmsg(p));
		int64_t sheet;
		const char *d = sl_state_first_difference(&got, &jobs[k].st, 0, &sheet);
		cr_assert_null(d, "job %s: the views differ from the rules in %s (sheet %" PRId64 ")",
			       jobs[k].id, d, sheet);
		sl_state_free(&got);
		sqlite3_bind_text(count, 1, jobs[k].id, -1, SQLITE_STATIC);
		cr_assert_eq(sqlite3_step(count), SQLITE_ROW);
		cr_assert_eq((uint64_t)sqlite3_column_int64(count, 0), jobs[k].executions,
			     "job %s: %lld history rows, %" PRIu64 " executions recorded", jobs[k].id,
			     (long long)sqlite3_column_int64(count, 0), jobs[k].executions);
		sqlite3_reset(count);
	}
	sqlite3_finalize(count);
	sl_proj_close(p);
	for (size_t k = 0; k < n_jobs; k++)
		sl_state_free(&jobs[k].st);
}

/* Two handles on one database: the second finds the position moved under
 * it and starts again from there. */
Test(project, two_projectors_take_turns)
{
	sl_log *log = ph_log(log_dir);
	struct sl_workload *w = ph_workload(3000, 5);
	ph_append_from(log, w, 1000);
	cr_assert_eq(sl_log_sync(log), SL_OK);
	char err[512];
	sl_proj *a, *b;
	cr_assert_eq(sl_proj_open(&a, log_dir, db_path, NULL, NULL, err, sizeof err), SL_OK, "%s", err);
	cr_assert_eq(sl_proj_open(&b, log_dir, db_path, NULL, NULL, err, sizeof err), SL_OK, "%s", err);
	struct sl_proj_stats st;
	cr_assert_eq(sl_proj_catch_up(a, &st), SL_OK, "a: %s", sl_proj_errmsg(a));
	ph_append_from(log, w, 2000);
	cr_assert_eq(sl_log_sync(log), SL_OK);
	cr_assert_eq(sl_proj_catch_up(b, &st), SL_OK, "b: %s", sl_proj_errmsg(b));
	cr_assert_eq(st.last_seq, 3000, "b ends at %" PRIu64, st.last_seq);
	cr_assert_eq(st.events_applied, 2000, "b applied %" PRIu64 ", want only the new 2000",
		     st.events_applied);
	cr_assert_eq(sl_proj_catch_up(a, &st), SL_OK, "a again: %s", sl_proj_errmsg(a));
	cr_assert_eq(st.events_applied, 0, "a re-applied %" PRIu64, st.events_applied);
	sl_proj_close(a);
	sl_proj_close(b);
	sl_workload_free(w);
	sl_log_close(log);
	char *rebuilt = ph_path(dir, "rebuilt.db");
	rebuild_to(rebuilt, NULL);
	assert_same_db(db_path, rebuilt, "two projectors vs rebuild");
	free(rebuilt);
}

/* ---- crashes -------------------------------------------------------------- */

static uint64_t die_at;

static bool die_hook(void *ctx, uint64_t seq)
{
	(void)ctx;
	if (seq == die_at)
		_exit(77);
	return false;
}

static void remove_db(const char *path)
{
	static const char *const sfx[] = { "", "-wal", "-shm", "-journal" };
	for (size_t i = 0; i < 4; i++) {
		char p[4200];
		snprintf(p, sizeof p, "%s%s", path, sfx[i]);
		unlink(p);
	}
}

/* Killed in the middle of a batch (at event `at`), then caught up: the
 * database is the one a rebuild gives. */
static void crash_and_recover(uint64_t at, uint32_t batch, const char *rebuilt)
{
	remove_db(db_path);
	pid_t pid = fork();
	cr_assert_geq(pid, 0, "fork");
	if (pid == 0) {
		die_at = at;
		struct sl_proj_options o;
		sl_proj_options_init(&o);
		o.batch_events = batch;
		sl_proj *p;
		char err[512];
		/* The hook is asked after every event applied, inside the
		 * transaction. */
		struct sl_proj_hook h = { .break_due = die_hook };
		if (sl_proj_open(&p, log_dir, db_path, &o, NULL, err, sizeof err) != SL_OK ||
		    sl_proj_add_hook(p, &h) != SL_OK)
			_exit(1);
		struct sl_proj_stats st;
		sl_proj_catch_up(p, &st);
		_exit(2);       /* the hook did not fire */
	}
	int status;
	waitpid(pid, &status, 0);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 77,
		  "the child did not die at seq %" PRIu64 " (status %d)", at, status);
	char *pos = ph_query(db_path, "SELECT value FROM statelog_meta WHERE key = 'last_seq'");
	cr_assert_lt(strtoull(pos, NULL, 10), at, "died at %" PRIu64 " but the position is %s",
		     at, pos);
	free(pos);
	ph_project(log_dir, db_path, batch, NULL);
	char what[128];
	snprintf(what, sizeof what, "killed at seq %" PRIu64 " (batches of %u), then caught up",
		 at, batch);
	assert_same_db(db_path, rebuilt, what);
}

Test(project, killed_mid_batch_then_caught_up)
{
	sl_log *log = ph_log(log_dir);
	ph_append_workload(log, 3000, 9);
	sl_log_close(log);
	char *rebuilt = ph_path(dir, "rebuilt.db");
	rebuild_to(rebuilt, NULL);
	static const uint64_t at[] = { 1, 5, 333, 1500, 2222, 2999, 3000 };
	for (size_t i = 0; i < sizeof at / sizeof at[0]; i++)
		crash_and_recover(at[i], 7, rebuilt);
	free(rebuilt);
}

/* The same with the log read in a thread (a long catch-up) and big batches. */
Test(project, killed_mid_batch_threaded, .timeout = 300)
{
	sl_log *log = ph_log(log_dir);
	ph_append_workload(log, 30000, 13);
	sl_log_close(log);
	char *rebuilt = ph_path(dir, "rebuilt.db");
	rebuild_to(rebuilt, NULL);
	crash_and_recover(17777, 5000, rebuilt);
	free(rebuilt);
}

/* kill -9 at an arbitrary moment of a long catch-up. */
Test(project, kill_9_then_caught_up, .timeout = 300)
{
	sl_log *log = ph_log(log_dir);
	ph_append_workload(log, 30000, 17);
	sl_log_close(log);
	char *rebuilt = ph_path(dir, "rebuilt.db");
	rebuild_to(rebuilt, NULL);
	static const useconds_t delays[] = { 30000, 150000, 400000 };
	for (size_t i = 0; i < sizeof delays / sizeof delays[0]; i++) {
		remove_db(db_path);
		pid_t pid = fork();
		cr_assert_geq(pid, 0, "fork");
		if (pid == 0) {
			struct sl_proj_options o;
			sl_proj_options_init(&o);
			o.batch_events = 1000;
			sl_proj *p;
			char err[512];
			if (sl_proj_open(&p, log_dir, db_path, &o, NULL, err, sizeof err) != SL_OK)
				_exit(1);
			struct sl_proj_stats st;
			_exit(sl_proj_catch_up(p, &st) == SL_OK ? 0 : 2);
		}
		usleep(delays[i]);
		kill(pid, SIGKILL);
		int status;
		waitpid(pid, &status, 0);
		cr_assert(WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) == 0),
			  "child status %d", status);
		ph_project(log_dir, db_path, 1000, NULL);
		char what[96];
		snprintf(what, sizeof what, "kill -9 after %u us, then caught up", delays[i]);
		assert_same_db(db_path, rebuilt, what);
	}
	free(rebuilt);
}

/* ---- rebuild -------------------------------------------------------------- */

static int64_t count_of(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s: %s", sql,
		     sqlite3_errmsg(db));
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW, "%s: %s", sql, sqlite3_errmsg(db));
	int64_t n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* A reader inside a transaction keeps seeing the old views whole; its next
 * transaction, and every new reader, sees the new views whole (the rebuild
 * is copied into the open file in one transaction). */
Test(project, rebuild_is_atomic)
{
	sl_log *log = ph_log(log_dir);
	struct sl_workload *w = ph_workload(3000, 21);
	ph_append_from(log, w, 2000);
	cr_assert_eq(sl_log_sync(log), SL_OK);
	ph_project(log_dir, db_path, 0, NULL);
	sqlite3 *old, *idle;
	cr_assert_eq(sqlite3_open(db_path, &old), SQLITE_OK);
	cr_assert_eq(sqlite3_open(db_path, &idle), SQLITE_OK);
	cr_assert_eq(count_of(idle, "SELECT count(*) FROM statelog_events"), 2000);
	cr_assert_eq(sqlite3_exec(old, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
	cr_assert_eq(count_of(old, "SELECT count(*) FROM statelog_events"), 2000);

	ph_append_from(log, w, 1000);
	sl_log_close(log);
	struct sl_proj_stats st;
	rebuild_to(db_path, &st);
	cr_assert(st.rebuilt && st.last_seq == 3000, "rebuilt to %" PRIu64, st.last_seq);
	cr_assert_eq(count_of(old, "SELECT count(*) FROM statelog_events"), 2000,
		     "a reader inside a transaction on the old file sees the old content");
	cr_assert_eq(sqlite3_exec(old, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	cr_assert_eq(count_of(old, "SELECT count(*) FROM statelog_events"), 3000,
		     "the rebuild was copied into the file readers have open: their next "
		     "transaction sees it whole");
	cr_assert_eq(count_of(idle, "SELECT count(*) FROM statelog_events"), 3000,
		     "an idle connection too");
	cr_assert_eq(count_of(idle, "SELECT count(*) FROM pragma_journal_mode WHERE journal_mode = 'wal'"),
		     1, "the database stays in WAL mode");
	sqlite3 *fresh;
	cr_assert_eq(sqlite3_open(db_path, &fresh), SQLITE_OK);
	cr_assert_eq(count_of(fresh, "SELECT count(*) FROM statelog_events"), 3000,
		     "a new reader sees the whole new file");
	/* The old readers go away; the new file must not notice. */
	sqlite3_close(old);
	sqlite3_close(idle);
	sl_proj *p;
	char err[512];
	cr_assert_eq(sl_proj_open(&p, log_dir, db_path, NULL, NULL, err, sizeof err), SL_OK, "%s",
		     err);
	log = ph_log(log_dir);
	ph_append(log, ph_created("after-rebuild", "late", 1), INT64_C(4102444800000000));
	sl_log_close(log);
	cr_assert_eq(sl_proj_catch_up(p, &st), SL_OK, "%s", sl_proj_errmsg(p));
	cr_assert_eq(count_of(fresh, "SELECT count(*) FROM statelog_events"), 3001,
		     "readers of the new file see what catch-up adds (WAL)");
	sl_proj_close(p);
	char *ok = ph_query(db_path, "PRAGMA integrity_check");
	cr_assert_str_eq(ok, "ok", "integrity_check of the rebuilt, caught-up file: %s", ok);
	free(ok);
	sqlite3_close(fresh);
	sl_workload_free(w);
	char *tmp;
	cr_assert_gt(asprintf(&tmp, "%s.rebuild", db_path), 0);
	struct stat sb;
	cr_assert_neq(stat(tmp, &sb), 0, "%s is left behind", tmp);
	free(tmp);
}

Test(project, foreign_database_refused)
{
	sl_log *log = ph_log(log_dir);
	ph_append(log, ph_created("j1", "one", 1), T0);
	sl_log_close(log);
	ph_project(log_dir, db_path, 0, NULL);
	char *before = ph_dump(db_path);
	char *other = ph_path(dir, "other.log");
	log = ph_log(other);
	ph_append(log, ph_created("j2", "two", 1), T0);
	sl_log_close(log);
	sl_proj *p = NULL;
	char err[1024] = "";
	int rc = sl_proj_open(&p, other, db_path, NULL, NULL, err, sizeof err);
	cr_assert_eq(rc, SL_EFOREIGN, "open with another log: %d (%s)", rc, err);
	cr_assert(strstr(err, db_path) != NULL, "the message names %s: %s", db_path, err);
	struct sl_proj_stats st;
	rc = sl_proj_rebuild(other, db_path, NULL, &st, err, sizeof err);
	cr_assert_eq(rc, SL_EFOREIGN, "rebuild from another log: %d (%s)", rc, err);
	char *after = ph_dump(db_path);
	cr_assert_str_eq(after, before, "a refused database is left alone");
	free(after);

	/* Not a statelog database at all (the original backend's, say). */
	char *orig = ph_path(dir, "original.db");
	sqlite3 *db;
	cr_assert_eq(sqlite3_open(orig, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(db, "CREATE TABLE jobs (id TEXT PRIMARY KEY)", NULL, NULL, NULL),
		     SQLITE_OK);
	sqlite3_close(db);
	rc = sl_proj_open(&p, log_dir, orig, NULL, NULL, err, sizeof err);
	cr_assert_eq(rc, SL_EFOREIGN, "open of a non-statelog database: %d (%s)", rc, err);
	rc = sl_proj_rebuild(log_dir, orig, NULL, &st, err, sizeof err);
	cr_assert_eq(rc, SL_EFOREIGN, "rebuild over a non-statelog database: %d (%s)", rc, err);
	char *tables = ph_query(orig, "SELECT group_concat(name) FROM sqlite_master");
	cr_assert_str_eq(tables, "jobs,sqlite_autoindex_jobs_1", "left alone: %s", tables);
	free(tables);
	free(orig);
	free(before);
	free(other);
}

/* The last segment of a log (the largest name). */
static char *last_segment(const char *log)
{
	DIR *d = opendir(log);
	cr_assert_not_null(d, "opendir %s", log);
	char best[256] = "";
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		if (l > 4 && strcmp(de->d_name + l - 4, ".seg") == 0 && strcmp(de->d_name, best) > 0)
			snprintf(best, sizeof best, "%s", de->d_name);
	}
	closedir(d);
	cr_assert_neq(best[0], '\0', "no segment in %s", log);
	return ph_path(log, best);
}

/* Views ahead of a log that lost events no crash explains (its last
 * segment deleted): opening them is an error naming both positions, never a
 * silent rebuild backwards; a rebuild, asked for, rebuilds them from the
 * log as it is. */
Test(project, ahead_of_log_without_a_crash_is_an_error)
{
	struct sl_log_options o;
	sl_log_options_init(&o);
	o.create = true;
	o.segment_size = 8192;
	sl_log *log = NULL;
	char err[1024] = "";
	cr_assert_eq(sl_log_open(&log, log_dir, &o, NULL, err, sizeof err), SL_OK, "%s", err);
	ph_append_workload(log, 1000, 23);
	sl_log_close(log);
	ph_project(log_dir, db_path, 0, NULL);
	/* The last segment, its index and TAIL deleted: the log itself
	 * cannot tell, the views can. */
	char *seg = last_segment(log_dir);
	cr_assert_eq(unlink(seg), 0);
	char *dot = strrchr(seg, '.');
	strcpy(dot, ".idx");
	unlink(seg);
	char *tail = ph_path(log_dir, "TAIL");
	cr_assert_eq(unlink(tail), 0, "a roll wrote TAIL");
	sl_proj *p;
	struct sl_proj_stats st;
	int rc = sl_proj_open(&p, log_dir, db_path, NULL, &st, err, sizeof err);
	cr_assert_eq(rc, SL_ECORRUPT, "an error, not a rebuild: %s", err);
	cr_assert_not_null(strstr(err, "the views are at seq 1000"), "names the views' position: %s",
			   err);
	cr_assert_not_null(strstr(err, "ends at seq"), "and the log's: %s", err);
	cr_assert_not_null(strstr(err, "statelog rebuild"), "says what to do: %s", err);
	cr_assert_eq(sl_proj_rebuild(log_dir, db_path, NULL, &st, err, sizeof err), SL_OK, "%s", err);
	cr_assert_lt(st.last_seq, 1000, "rebuilt from the log as it is (%" PRIu64 ")", st.last_seq);
	cr_assert_eq(sl_proj_open(&p, log_dir, db_path, NULL, &st, err, sizeof err), SL_OK, "%s",
		     err);
	sl_proj_close(p);
	free(seg);
	free(tail);
}

/* A log whose writer leaves its last segment raw (no packing at idle or
 * close): a power loss can only tear commits appended raw, and the tests
 * below cut the last one as it would. */
static sl_log *raw_log(const char *where)
{
	struct sl_log_options o;
	sl_log_options_init(&o);
	o.create = true;
	o.durability = SL_DURABLE_NONE;
	o.compact = false;
	sl_log *log = NULL;
	char err[1024] = "";
	cr_assert_eq(sl_log_open(&log, where, &o, NULL, err, sizeof err), SL_OK, "%s", err);
	return log;
}

/* A power loss took the log's last commit after the views saw it: the views
 * are ahead of the log, and open rebuilds them.  Then the log is written
 * again past that point with other events: the views have diverged. */
Test(project, ahead_of_log_is_rebuilt)
{
	sl_log *log = raw_log(log_dir);
	ph_append_workload(log, 1000, 23);
	sl_log_close(log);
	ph_project(log_dir, db_path, 0, NULL);
	char *seg = last_segment(log_dir);
	struct stat sb;
	cr_assert_eq(stat(seg, &sb), 0);
	cr_assert_eq(truncate(seg, sb.st_size - 3), 0, "truncate %s", seg);
	sl_log_close(raw_log(log_dir));          /* recovery cuts the torn commit */

	sl_proj *p;
	char err[1024];
	struct sl_proj_stats st;
	int rc = sl_proj_open(&p, log_dir, db_path, NULL, &st, err, sizeof err);
	cr_assert_eq(rc, SL_OK, "open: %s", err);
	cr_assert(st.rebuilt, "a database ahead of the log is rebuilt");
	cr_assert_eq(sl_proj_last_seq(p), 999, "position %" PRIu64 " after the rebuild",
		     sl_proj_last_seq(p));
	sl_proj_close(p);
	char *rebuilt = ph_path(dir, "rebuilt.db");
	rebuild_to(rebuilt, NULL);
	assert_same_db(db_path, rebuilt, "rebuilt on open vs rebuilt");

	log = raw_log(log_dir);
	ph_append(log, ph_created("newcomer", "after the cut", 2), INT64_C(4102444800000000));
	sl_log_close(log);
	ph_project(log_dir, db_path, 0, NULL);  /* seq 1000 again: fine, it is new */
	seg = (free(seg), last_segment(log_dir));
	cr_assert_eq(stat(seg, &sb), 0);
	cr_assert_eq(truncate(seg, sb.st_size - 3), 0);
	sl_log_close(raw_log(log_dir));
	log = raw_log(log_dir);
	ph_append(log, ph_created("other", "a different seq 1000", 3), INT64_C(4102444800000000));
	sl_log_close(log);
	rc = sl_proj_open(&p, log_dir, db_path, NULL, &st, err, sizeof err);
	cr_assert_eq(rc, SL_OK, "open: %s", err);
	cr_assert(st.rebuilt, "a database diverged from the log (seq 1000 is another commit) is "
		  "rebuilt");
	sl_proj_close(p);
	remove_db(rebuilt);
	rebuild_to(rebuilt, NULL);
	assert_same_db(db_path, rebuilt, "rebuilt after divergence vs rebuilt");
	free(rebuilt);
	free(seg);
}

/* ---- what events do to the views ------------------------------------------ */

/* An event of a type this build does not know stops catch-up before its
 * commit, named by its seq; --force (skip_unknown) counts and passes it. */
Test(project, unknown_event_stops)
{
	sl_log *log = ph_log(log_dir);
	int64_t t = T0;
	ph_append(log, ph_created("j", "job", 3), t);
	ph_append(log, ph_sheet("j", STATELOG__EVENT__BODY_SHEET_STARTED, 1), t += 10);
	/* One commit: sheet 1 completed, then the unknown event. */
	sl_event *two[2] = { ph_sheet("j", STATELOG__EVENT__BODY_SHEET_COMPLETED, 1),
			     ph_unknown("j") };
	two[0]->has_time_us = two[1]->has_time_us = 1;
	two[0]->time_us = two[1]->time_us = t += 10;
	cr_assert_eq(sl_log_append(log, two, 2, NULL), SL_OK, "%s", sl_log_errmsg(log));
	sl_event_free(two[0]);
	sl_event_free(two[1]);
	ph_append(log, ph_sheet("j", STATELOG__EVENT__BODY_SHEET_STARTED, 2), t += 10);
	sl_log_close(log);

	sl_proj *p;
	char err[1024];
	struct sl_proj_stats st;
	cr_assert_eq(sl_proj_open(&p, log_dir, db_path, NULL, NULL, err, sizeof err), SL_OK, "%s",
		     err);
	for (int i = 0; i < 2; i++) {
		int rc = sl_proj_catch_up(p, &st);
		cr_assert_eq(rc, SL_EUNKNOWN, "catch-up %d: %d, want SL_EUNKNOWN", i, rc);
		cr_assert(strstr(sl_proj_errmsg(p), "seq 4") != NULL,
			  "the message names seq 4: %s", sl_proj_errmsg(p));
		cr_assert_eq(st.last_seq, 2, "stopped before the unknown event's commit (3-4), "
			     "at %" PRIu64, st.last_seq);
		cr_assert_eq(sl_proj_last_seq(p), 2);
	}
	sl_proj_close(p);
	char *n = ph_query(db_path, "SELECT count(*) || ' ' || max(seq) FROM statelog_events");
	cr_assert_str_eq(n, "2 2", "events listed: %s", n);
	free(n);
	char *status = ph_query(db_path, "SELECT status FROM sheets WHERE sheet_num = 1");
	cr_assert_str_eq(status, "in_progress", "sheet 1's completion (same commit) not applied");
	free(status);

	/* A rebuild refuses too, and leaves nothing behind. */
	char *rebuilt = ph_path(dir, "rebuilt.db");
	int rc = sl_proj_rebuild(log_dir, rebuilt, NULL, &st, err, sizeof err);
	cr_assert_eq(rc, SL_EUNKNOWN, "rebuild: %d (%s)", rc, err);
	struct stat sb;
	cr_assert_neq(stat(rebuilt, &sb), 0, "no database from a refused rebuild");

	/* Forced: counted and passed. */
	struct sl_proj_options o;
	sl_proj_options_init(&o);
	o.skip_unknown = true;
	rc = sl_proj_rebuild(log_dir, rebuilt, &o, &st, err, sizeof err);
	cr_assert_eq(rc, SL_OK, "forced rebuild: %s", err);
	cr_assert_eq(st.unknown_events, 1, "unknown events counted: %" PRIu64, st.unknown_events);
	cr_assert_eq(st.last_seq, 5);
	char *type = ph_query(rebuilt, "SELECT type FROM statelog_events WHERE seq = 4");
	cr_assert_str_eq(type, "unknown", "the unknown event is listed as %s", type);
	free(type);
	free(rebuilt);
}

/* A job deleted and created again under the same id shows nothing of its
 * first life: no stale sheets, no stale history, fresh counters.  Events
 * for the deleted job are refused by the rules and change nothing. */
Test(project, delete_then_recreate_no_stale_rows)
{
	sl_log *log = ph_log(log_dir);
	int64_t t = T0;
	ph_append(log, ph_created("x", "first life", 3), t);
	for (int64_t n = 1; n <= 2; n++) {
		ph_append(log, ph_sheet("x", STATELOG__EVENT__BODY_SHEET_STARTED, n), t += 10);
		ph_append(log, ph_exec("x", 100 + n, n, 1, "p", "o"), t += 10);
		ph_append(log, ph_sheet("x", STATELOG__EVENT__BODY_SHEET_COMPLETED, n), t += 10);
	}
	ph_append(log, ph_job("x", STATELOG__EVENT__BODY_RATE_LIMIT_WAIT), t += 10);
	ph_append(log, ph_created("y", "bystander", 1), t += 10);
	ph_append(log, ph_exec("y", 200, 1, 1, "p", "o"), t += 10);
	ph_append(log, ph_job("x", STATELOG__EVENT__BODY_JOB_DELETED), t += 10);
	ph_append(log, ph_exec("x", 300, 1, 1, "late", "refused"), t += 10);
	int64_t created = t += 10;
	ph_append(log, ph_created("x", "second life", 2), created);
	ph_append(log, ph_sheet("x", STATELOG__EVENT__BODY_SHEET_STARTED, 1), t += 10);
	sl_log_close(log);

	static const uint32_t batches[] = { 0, 1, 3 };
	for (size_t i = 0; i < 3; i++) {
		remove_db(db_path);
		struct sl_proj_stats st;
		ph_project(log_dir, db_path, batches[i], &st);
		cr_assert_eq(st.rejected_events, 1, "batch %u: the execution of deleted x is "
			     "refused (%" PRIu64 ")", batches[i], st.rejected_events);
		cr_assert_eq(st.first_rejected_seq, 12, "batch %u: refused seq %" PRIu64,
			     batches[i], st.first_rejected_seq);
		char *v = ph_query(db_path, "SELECT name || ' ' || total_sheets || ' ' || "
				   "rate_limit_waits || ' ' || last_completed_sheet FROM jobs "
				   "WHERE id = 'x'");
		cr_assert_str_eq(v, "second life 2 0 0", "batch %u: job x is fresh: %s", batches[i], v);
		free(v);
		v = ph_query(db_path, "SELECT group_concat(sheet_num || ':' || status || ':' || "
			     "attempt_count) FROM sheets WHERE job_id = 'x'");
		cr_assert_str_eq(v, "1:in_progress:1", "batch %u: sheets of x: %s", batches[i], v);
		free(v);
		v = ph_query(db_path, "SELECT count(*) FROM execution_history WHERE job_id = 'x'");
		cr_assert_str_eq(v, "0", "batch %u: history of x: %s rows", batches[i], v);
		free(v);
		v = ph_query(db_path, "SELECT group_concat(id) FROM execution_history");
		cr_assert_str_eq(v, "200", "batch %u: only y's history stays: %s", batches[i], v);
		free(v);
		v = ph_query(db_path, "SELECT count(*) FROM statelog_events WHERE job_id = 'x'");
		cr_assert_str_eq(v, "12", "batch %u: the log keeps x's whole timeline: %s", batches[i], v);
		free(v);
	}
	char *rebuilt = ph_path(dir, "rebuilt.db");
	rebuild_to(rebuilt, NULL);
	assert_same_db(db_path, rebuilt, "delete and re-create: catch-up vs rebuild");
	free(rebuilt);
}

/* An execution record adds a history row and leaves the jobs row alone. */
Test(project, execution_leaves_job_row_alone)
{
	sl_log *log = ph_log(log_dir);
	ph_append(log, ph_created("j", "job", 1), T0);
	ph_append(log, ph_exec("j", 0, 1, 1, "p", "o"), T0 + 5000000);
	sl_log_close(log);
	ph_project(log_dir, db_path, 0, NULL);
	char *v = ph_query(db_path, "SELECT updated_at FROM jobs");
	cr_assert_str_eq(v, "2026-11-26T02:49:38.504474+00:00", "updated_at %s", v);
	free(v);
	v = ph_query(db_path, "SELECT id || ' ' || executed_at FROM execution_history");
	cr_assert_str_eq(v, "1 2026-11-26T02:49:43.504474+00:00",
			 "no execution_id: the next AUTOINCREMENT id; executed_at = event time: %s",
			 v);
	free(v);
}

/* The feed's time formatting is sl_time_format()'s, exactly. */
Test(project, feed_times_are_sl_time_format)
{
	static const int64_t fixed[] = {
		0, 1, -1, 999999, 1000000, 59999999, 60000000, -60000000, -60000001,
		T0, T0 - 504474, T0 + 495526, INT64_C(946684799999999), INT64_C(946684800000000),
		SL_TIME_MIN_US, SL_TIME_MIN_US + 1, SL_TIME_MAX_US, SL_TIME_MAX_US - 999999,
	};
	struct sl_time_cache tc = { 0 };
	char a[SL_TIME_BUFSZ], b[SL_TIME_BUFSZ];
	uint64_t x = 88172645463325252ULL;
	for (int i = 0; i < 20000; i++) {
		int64_t us;
		if (i < (int)(sizeof fixed / sizeof fixed[0])) {
			us = fixed[i];
		} else {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			/* Mostly close together (the cache's case), now and then far. */
			us = i % 50 ? T0 + (int64_t)(x % 7200000000ULL)
				    : (int64_t)(x % (uint64_t)SL_TIME_MAX_US);
		}
		cr_assert_eq(sl_time_format(us, a, sizeof a), SL_OK, "format %" PRId64, us);
		cr_assert_eq(sl_feed_format_time(&tc, us, b), SL_OK, "feed format %" PRId64, us);
		cr_assert_str_eq(b, a, "time %" PRId64 ": feed %s, sl_time_format %s", us, b, a);
	}
	cr_assert_eq(sl_feed_format_time(&tc, SL_TIME_MAX_US + 1, b), SL_EINVAL, "past the max");
	cr_assert_eq(sl_feed_format_time(&tc, SL_TIME_MIN_US - 1, b), SL_EINVAL, "before the min");
}

/* A log salvaged by repair has a gap: catch-up counts the lost sequence
 * numbers, skips them, and goes on; the rebuild agrees. */
Test(project, gaps_are_counted_and_skipped)
{
	struct sl_log_options o;
	sl_log_options_init(&o);
	o.create = true;
	o.durability = SL_DURABLE_NONE;
	o.segment_size = 16384;
	o.pack_size = 4096;
	sl_log *log;
	char err[512] = "";
	cr_assert_eq(sl_log_open(&log, log_dir, &o, NULL, err, sizeof err), SL_OK, "%s", err);
	ph_append_workload(log, 400, 29);
	sl_log_close(log);
	/* Damage in the first segment, which is not the last: only a repair
	 * reads past it, recording the lost range as a gap. */
	char *seg = ph_path(log_dir, "00000000000000000001.seg");
	FILE *f = fopen(seg, "r+b");
	cr_assert_not_null(f, "%s", seg);
	fseek(f, 0, SEEK_END);
	long len = ftell(f);
	fseek(f, len / 2, SEEK_SET);
	int c = fgetc(f);
	fseek(f, len / 2, SEEK_SET);
	fputc(c ^ 0x01, f);
	fclose(f);
	free(seg);
	struct sl_repair_report rep;
	cr_assert_eq(sl_log_repair(log_dir, NULL, &rep, err, sizeof err), SL_OK, "repair: %s", err);
	cr_assert(rep.changed && rep.gaps == 1 && rep.events_lost > 0, "one gap recorded");

	struct sl_proj_stats st;
	ph_project(log_dir, db_path, 50, &st);
	cr_assert_eq(st.gaps, rep.events_lost, "gaps counted %" PRIu64 ", events lost %" PRIu64,
		     st.gaps, rep.events_lost);
	cr_assert_eq(st.last_seq, 400, "caught up past the gap, to %" PRIu64, st.last_seq);
	cr_assert_eq(st.events_applied + st.gaps, 400, "every seq applied or counted lost");
	char sql[160];
	snprintf(sql, sizeof sql, "SELECT count(*) FROM statelog_events WHERE seq BETWEEN %" PRIu64
		 " AND %" PRIu64, rep.lost_first_seq, rep.lost_last_seq);
	char *n = ph_query(db_path, sql);
	cr_assert_str_eq(n, "0", "no row for a lost event: %s", n);
	free(n);
	char *rebuilt = ph_path(dir, "rebuilt.db");
	rebuild_to(rebuilt, NULL);
	assert_same_db(db_path, rebuilt, "a log with a gap: catch-up vs rebuild");
	free(rebuilt);
}

/* A reader beside a fast writer answers in bounded time: with max_wait_ms
 * the catch-up stops after the transaction that passes it, the views hold
 * a prefix of the log, and stats.behind says how much is left; later calls
 * go on from there. */
Test(project, a_bounded_catch_up_says_how_far_behind_it_stopped)
{
	char *tdir = ph_tmpdir();
	char *logdir = ph_path(tdir, "b.log"), *db = ph_path(tdir, "b.db");
	sl_log *log = ph_log(logdir);
	ph_append_workload(log, 3000, 7);
	cr_assert_eq(sl_log_close(log), SL_OK);
	struct sl_proj_options o;
	sl_proj_options_init(&o);
	o.batch_events = 10;
	o.max_wait_ms = 1;
	sl_proj *p;
	char err[512];
	cr_assert_eq(sl_proj_open(&p, logdir, db, &o, NULL, err, sizeof err), SL_OK, "%s", err);
	struct sl_proj_stats st;
	cr_assert_eq(sl_proj_catch_up(p, &st), SL_OK, "%s", sl_proj_errmsg(p));
	cr_assert_gt(st.behind, 0, "stopped early");
	cr_assert_eq(st.last_seq + st.behind, 3000, "behind counts what is left: %" PRIu64 " + %"
		     PRIu64, st.last_seq, st.behind);
	int calls = 1;
	while (st.behind && calls < 100000) {
		cr_assert_eq(sl_proj_catch_up(p, &st), SL_OK);
		calls++;
	}
	cr_assert_eq(st.behind, 0);
	cr_assert_eq(sl_proj_last_seq(p), 3000);
	cr_assert_eq(sl_proj_close(p), SL_OK);
	free(logdir);
	free(db);
	ph_rmrf(tdir);
}

/* ---- writes of other programs ------------------------------------------- */

/* A row written by another program (a plain SQLite connection, triggers on
 * as everyone's are) is counted; statelog's own writes never are.  An open
 * handle notices at its next catch-up, even with nothing to apply, says
 * so, and derives the views again from the log: the database is then the
 * rebuild's, row for row. */
Test(project, a_write_of_another_program_is_noticed_and_undone)
{
	sl_log *log = ph_log(log_dir);
	ph_append_workload(log, 2000, 5);
	sl_log_close(log);
	sl_proj *p;
	char err[512];
	cr_assert_eq(sl_proj_open(&p, log_dir, db_path, NULL, NULL, err, sizeof err), SL_OK, "%s",
		     err);
	struct sl_proj_stats st;
	cr_assert_eq(sl_proj_catch_up(p, &st), SL_OK, "%s", sl_proj_errmsg(p));
	cr_assert(!st.rebuilt);
	sqlite3 *db;
	cr_assert_eq(sqlite3_open(db_path, &db), SQLITE_OK);
	cr_assert_eq(count_of(db, "SELECT value FROM statelog_meta WHERE key = 'foreign_writes'"),
		     0, "statelog's own writes are not counted");
	cr_assert_eq(sqlite3_exec(db, "UPDATE jobs SET status = 'cancelled', total_sheets = 77; "
				  "DELETE FROM execution_history WHERE id % 2 = 0", NULL, NULL,
				  NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
	int64_t changed = count_of(db, "SELECT value FROM statelog_meta WHERE key = "
				   "'foreign_writes'");
	cr_assert_gt(changed, 0);
	cr_assert_eq(sqlite3_close(db), SQLITE_OK);

	cr_assert_eq(sl_proj_catch_up(p, &st), SL_OK, "%s", sl_proj_errmsg(p));
	cr_assert(st.rebuilt, "nothing to apply, and still noticed");
	char want[64];
	snprintf(want, sizeof want, "%lld row change(s)", (long long)changed);
	cr_assert(strstr(st.rebuilt_why, want), "%s", st.rebuilt_why);
	cr_assert_eq(st.last_seq, 2000);
	cr_assert_eq(sl_proj_catch_up(p, &st), SL_OK, "%s", sl_proj_errmsg(p));
	cr_assert(!st.rebuilt, "said once");
	sl_proj_close(p);
	char *rebuilt = ph_path(dir, "rebuilt.db");
	rebuild_to(rebuilt, NULL);
	assert_same_db(db_path, rebuilt, "views derived again");
	free(rebuilt);

	/* Opening notices too. */
	cr_assert_eq(sqlite3_open(db_path, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(db, "DELETE FROM sheets WHERE rowid IN (SELECT rowid FROM "
				  "sheets LIMIT 3)", NULL, NULL, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_close(db), SQLITE_OK);
	cr_assert_eq(sl_proj_open(&p, log_dir, db_path, NULL, &st, err, sizeof err), SL_OK, "%s",
		     err);
	cr_assert(st.rebuilt && strstr(st.rebuilt_why, "3 row change(s)"), "%s", st.rebuilt_why);
	sl_proj_close(p);
}
