/* test_resources.c: resource faults through the backend API and the log:
 * a full file system (a 1 MiB tmpfs), EIO and a failing fsync (the I/O
 * seam: the backend takes no seam, so those are driven on the log beneath
 * it), a read-only file system, and a log directory deleted under a running
 * reader.  Each must give a clear error, lose nothing committed, and leave a
 * log that opens.
 *
 * The tmpfs cases need mount(2) (root, or CAP_SYS_ADMIN); without it they
 * are skipped, and say so. */
#include <criterion/criterion.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend.h"
#include "camp.h"
#include "faultio.h"
#include "helpers.h"
#include "log.h"
#include "projector.h"

static char *root;
static bool mounted;

static void setup(void)
{
	root = camp_tmpdir("resources");
	mounted = false;
}

static void teardown(void)
{
	if (mounted)
		umount2(root, MNT_DETACH);
	camp_rmrf(root);
	free(root);
}

TestSuite(campaign_resources, .init = setup, .fini = teardown, .timeout = 120);

static bool always_alive(int64_t pid, void *ctx)
{
	(void)pid;
	(void)ctx;
	return true;
}

static bool mount_tmpfs(const char *opts)
{
	if (mount("tmpfs", root, "tmpfs", 0, opts) != 0) {
		cr_log_warn("mount -t tmpfs -o %s: %s: skipped", opts, strerror(errno));
		return false;
	}
	mounted = true;
	return true;
}

static sl_backend *backend(const char *log, bool create, bool read_only, int *rc, char *err,
			   size_t errlen)
{
	struct sl_backend_options o;
	sl_backend_options_init(&o);
	o.create = create;
	o.read_only = read_only;
	o.full_execution_text = true;
	o.pid_alive = always_alive;
	sl_backend *be = NULL;
	*rc = sl_backend_open(&be, log, &o, err, errlen);
	return be;
}

static struct sl_job_state job(const char *id, int64_t sheets)
{
	struct sl_job_state st;
	sl_state_init(&st);
	st.id = strdup(id);
	st.name = strdup("resource test");
	st.total_sheets = sheets;
	return st;
}

/* Counts the events of the log, reading it as a dashboard would. */
static uint64_t count_events(const char *log)
{
	sl_reader *r = NULL;
	char err[512] = "";
	cr_assert_eq(sl_reader_open(&r, log, NULL, err, sizeof err), SL_OK, "reader: %s", err);
	struct sl_record rec;
	uint64_t n = 0;
	int rc;
	while ((rc = sl_reader_next(&rec, r)) == 1)
		cr_assert_eq(rec.seq, ++n, "contiguous");
	cr_assert_eq(rc, 0, "clean end: %s", sl_reader_errmsg(r));
	sl_reader_close(r);
	return n;
}

Test(campaign_resources, full_file_system_through_the_backend)
{
	if (!mount_tmpfs("size=1m"))
		cr_skip_test("mounting a tmpfs is not permitted here");
	char *log = camp_path(root, "run.log"), err[1024] = "";
	int rc;
	sl_backend *be = backend(log, true, false, &rc, err, sizeof err);
	cr_assert_eq(rc, SL_OK, "open on an empty 1 MiB tmpfs: %s", err);
	struct sl_job_state st = job("fill", 3);
	cr_assert_eq(sl_backend_save(be, &st), SL_OK, "%s", sl_backend_errmsg(be));
	sl_state_free(&st);
	char *text = malloc(6000);
	memset(text, 'x', 5999);
	text[5999] = 0;
	uint64_t acked = sl_backend_last_seq(be);
	int calls = 0;
	for (; calls < 2000; calls++) {
		struct sl_execution_record rec = { .job_id = "fill", .sheet_num = 1,
						   .attempt_num = calls + 1, .prompt = text,
						   .output = text };
		int64_t id;
		rc = sl_backend_record_execution(&id, be, &rec);
		if (rc != SL_OK)
			break;
		acked = sl_backend_last_seq(be);
	}
	cr_assert_neq(rc, SL_OK, "1 MiB filled up after %d calls", calls);
	const char *msg = sl_backend_errmsg(be);
	cr_log_info("full after %d calls: %s (%s)", calls, sl_strerror(rc), msg);
	cr_assert(rc == SL_EIO || rc == SL_ESQLITE, "a clear code: %d %s", rc, msg);
	cr_assert(strstr(msg, "space") || strstr(msg, "full"), "the message says why: %s", msg);
	/* The writer is poisoned or at least keeps refusing; closing reports. */
	sl_backend_close(be);
	/* Nothing committed is lost, even before space is freed: a reader
	 * sees every acknowledged event. */
	cr_assert_geq(count_events(log), acked, "every acknowledged event is readable");
	/* Space freed: the next writer opens without manual steps. */
	cr_assert_eq(mount(NULL, root, NULL, MS_REMOUNT, "size=8m"), 0, "remount: %s",
		     strerror(errno));
	be = backend(log, false, false, &rc, err, sizeof err);
	cr_assert_eq(rc, SL_OK, "reopen after space is freed: %s", err);
	cr_assert_geq(sl_backend_last_seq(be), acked, "nothing acknowledged lost");
	int64_t n = -1;
	cr_assert_eq(sl_backend_history_count(&n, be, "fill"), SL_OK, "%s", sl_backend_errmsg(be));
	cr_assert_geq(n, calls, "every recorded execution is in the views (%" PRId64 ")", n);
	struct sl_execution_record rec = { .job_id = "fill", .sheet_num = 2, .attempt_num = 1 };
	int64_t id;
	cr_assert_eq(sl_backend_record_execution(&id, be, &rec), SL_OK, "appends again: %s",
		     sl_backend_errmsg(be));
	cr_assert_eq(sl_backend_close(be), SL_OK);
	free(text);
	free(log);
}

Test(campaign_resources, read_only_file_system)
{
	if (!mount_tmpfs("size=8m"))
		cr_skip_test("mounting a tmpfs is not permitted here");
	char *log = camp_path(root, "run.log"), err[1024] = "";
	int rc;
	sl_backend *be = backend(log, true, false, &rc, err, sizeof err);
	cr_assert_eq(rc, SL_OK, "%s", err);
	struct sl_job_state st = job("ro", 2);
	cr_assert_eq(sl_backend_save(be, &st), SL_OK);
	sl_state_free(&st);
	uint64_t acked = sl_backend_last_seq(be);
	cr_assert_eq(sl_backend_close(be), SL_OK);
	cr_assert_eq(mount(NULL, root, NULL, MS_REMOUNT | MS_RDONLY, NULL), 0, "remount ro: %s",
		     strerror(errno));
	/* A writer is refused with the cause in one line. */
	be = backend(log, false, false, &rc, err, sizeof err);
	cr_assert_null(be);
	cr_assert_neq(rc, SL_OK, "a writer on a read-only file system");
	cr_assert(strstr(err, "Read-only") != NULL, "the message names the cause: %s", err);
	/* Readers still read everything. */
	cr_assert_eq(count_events(log), acked, "the log reads on a read-only file system");
	/* A dashboard (read-only backend) cannot catch its views up in place:
	 * it works on a private copy in $TMPDIR, which goes when it closes. */
	char *priv = camp_tmpdir("ro-private");
	cr_assert_eq(setenv("TMPDIR", priv, 1), 0);
	be = backend(log, false, true, &rc, err, sizeof err);
	cr_assert_eq(rc, SL_OK, "a read-only backend on a read-only file system: %s", err);
	const char *copy = sl_backend_views_copy(be);
	cr_assert(copy && strncmp(copy, priv, strlen(priv)) == 0, "a private copy in $TMPDIR: %s",
		  copy ? copy : "(none)");
	struct sl_job_state got;
	cr_assert_eq(sl_backend_load(&got, be, "ro"), SL_OK, "load: %s", sl_backend_errmsg(be));
	cr_assert_eq(got.total_sheets, 2);
	sl_state_free(&got);
	cr_assert_eq(sl_backend_close(be), SL_OK);
	cr_assert_eq(rmdir(priv), 0, "the private copy was removed: %s", strerror(errno));
	cr_assert_eq(unsetenv("TMPDIR"), 0);
	free(priv);
	/* Writable again: the writer opens and appends. */
	cr_assert_eq(mount(NULL, root, NULL, MS_REMOUNT, NULL), 0);
	be = backend(log, false, false, &rc, err, sizeof err);
	cr_assert_eq(rc, SL_OK, "%s", err);
	cr_assert_eq(sl_backend_job_paused(be, "ro", "test"), SL_OK);
	cr_assert_eq(sl_backend_close(be), SL_OK);
	free(log);
}

/* A row the views' WAL holds and the database file does not: a process
 * that commits it and dies without a checkpoint leaves it so. */
static void leave_in_wal(const char *db, const char *value)
{
	pid_t pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		sqlite3 *c = NULL;
		char *sql = sqlite3_mprintf("PRAGMA wal_autocheckpoint = 0; "
					    "INSERT INTO statelog_meta(key, value) "
					    "VALUES ('test_marker', %Q)", value);
		int ok = sqlite3_open(db, &c) == SQLITE_OK &&
			 sqlite3_exec(c, sql, NULL, NULL, NULL) == SQLITE_OK;
		_exit(ok ? 0 : 1);      /* no close: no checkpoint */
	}
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the row committed");
}

/* On a read-only file system the private copy holds what the WAL held,
 * whether SQLite can read the original (its -shm file is there) or not
 * (no -shm, which cannot be made there: the files are copied). */
static void read_only_wal(bool keep_shm)
{
	if (!mount_tmpfs("size=8m"))
		cr_skip_test("mounting a tmpfs is not permitted here");
	char *log = camp_path(root, "run.log"), *db = camp_path(root, "run.db");
	char err[1024] = "", *wal = NULL, *shm = NULL;
	cr_assert_geq(asprintf(&wal, "%s-wal", db), 0);
	cr_assert_geq(asprintf(&shm, "%s-shm", db), 0);
	int rc;
	sl_backend *be = backend(log, true, false, &rc, err, sizeof err);
	cr_assert_eq(rc, SL_OK, "%s", err);
	struct sl_job_state st = job("walled", 3);
	cr_assert_eq(sl_backend_save(be, &st), SL_OK);
	sl_state_free(&st);
	cr_assert_eq(sl_backend_close(be), SL_OK);
	leave_in_wal(db, "seen");
	struct stat sb;
	cr_assert_eq(stat(wal, &sb), 0, "a WAL is left");
	cr_assert_gt(sb.st_size, 0, "with frames in it");
	if (!keep_shm)
		cr_assert_eq(unlink(shm), 0);
	cr_assert_eq(mount(NULL, root, NULL, MS_REMOUNT | MS_RDONLY, NULL), 0, "remount ro: %s",
		     strerror(errno));
	char *priv = camp_tmpdir("ro-wal");
	cr_assert_eq(setenv("TMPDIR", priv, 1), 0);
	struct sl_proj_options o;
	sl_proj_options_init(&o);
	o.copy_if_read_only = true;
	sl_proj *p = NULL;
	rc = sl_proj_open(&p, log, db, &o, NULL, err, sizeof err);
	cr_assert_eq(rc, SL_OK, "%s", err);
	cr_assert_not_null(sl_proj_private_copy(p));
	sqlite3_stmt *q = NULL;
	cr_assert_eq(sqlite3_prepare_v2(sl_proj_db(p), "SELECT value FROM statelog_meta "
					"WHERE key = 'test_marker'", -1, &q, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_step(q), SQLITE_ROW, "the copy holds the row of the WAL");
	cr_assert_str_eq((const char *)sqlite3_column_text(q, 0), "seen");
	sqlite3_finalize(q);
	cr_assert_eq(sl_proj_catch_up(p, NULL), SL_OK, "the copy catches up: %s",
		     sl_proj_errmsg(p));
	struct sl_job_state got;
	cr_assert_eq(sl_proj_load_job(&got, p, "walled"), SL_OK, "%s", sl_proj_errmsg(p));
	cr_assert_eq(got.total_sheets, 3);
	sl_state_free(&got);
	sl_proj_close(p);
	cr_assert_eq(rmdir(priv), 0, "the private copy was removed: %s", strerror(errno));
	cr_assert_eq(unsetenv("TMPDIR"), 0);
	free(priv);
	free(wal);
	free(shm);
	free(log);
	free(db);
}

Test(campaign_resources, read_only_file_system_wal_with_shm)
{
	read_only_wal(true);
}

Test(campaign_resources, read_only_file_system_wal_without_shm)
{
	read_only_wal(false);
}

Test(campaign_resources, log_deleted_under_a_running_reader)
{
	char *log = camp_path(root, "run.log"), err[1024] = "";
	int rc;
	sl_backend *be = backend(log, true, false, &rc, err, sizeof err);
	cr_assert_eq(rc, SL_OK, "%s", err);
	struct sl_job_state st = job("gone", 2);
	cr_assert_eq(sl_backend_save(be, &st), SL_OK);
	sl_state_free(&st);
	cr_assert_eq(sl_backend_close(be), SL_OK);
	sl_reader *r = NULL;
	cr_assert_eq(sl_reader_open(&r, log, NULL, err, sizeof err), SL_OK, "%s", err);
	struct sl_record rec;
	cr_assert_eq(sl_reader_next(&rec, r), 1, "first event");
	be = backend(log, false, true, &rc, err, sizeof err);
	cr_assert_eq(rc, SL_OK, "read-only backend: %s", err);
	camp_rmrf(log);
	/* The running reader finishes what it holds, then ends or reports;
	 * it never crashes or invents events. */
	int n = 0;
	while ((rc = sl_reader_next(&rec, r)) == 1)
		cr_assert_lt(++n, 100, "a bounded read");
	cr_assert(rc == 0 || rc < 0, "ends");
	uint64_t last = 0;
	rc = sl_reader_last_seq(&last, r);
	cr_log_info("reader after deletion: next %d, last_seq rc %d (%s)", rc, rc,
		    sl_reader_errmsg(r));
	sl_reader_close(r);
	struct sl_job_state got;
	rc = sl_backend_load(&got, be, "gone");
	if (rc == SL_OK)
		sl_state_free(&got);
	sl_backend_close(be);
	/* A new writer is told plainly that there is no log. */
	be = backend(log, false, false, &rc, err, sizeof err);
	cr_assert_null(be);
	cr_assert_eq(rc, SL_ENOTFOUND, "no log: %s", err);
	cr_assert_not_null(strstr(err, "run.log"), "names the directory: %s", err);
	free(log);
}

/* EIO on a write and a failing fsync, on the log under a reader: the
 * writer is poisoned with the cause in its message, the reader keeps
 * reading every committed event, and the log reopens. */
static void seam_fault(bool fsync_fails)
{
	char *log = camp_path(root, "seam.log"), err[512] = "";
	struct fio f;
	fio_init(&f);
	struct sl_log_options o;
	sl_log_options_init(&o);
	o.create = true;
	o.io = &f.io;
	sl_log *w = NULL;
	cr_assert_eq(sl_log_open(&w, log, &o, NULL, err, sizeof err), SL_OK, "%s", err);
	th_append_n(w, 0, 50);
	sl_reader *r = NULL;
	cr_assert_eq(sl_reader_open(&r, log, NULL, err, sizeof err), SL_OK, "%s", err);
	if (fsync_fails)
		f.fail_sync_at = f.syncs + 1;
	else
		f.fail_write_at = f.writes + 1;
	f.write_errno = EIO;
	sl_event *ev = th_event("job", 50);
	int rc = sl_log_append(w, &ev, 1, NULL);
	cr_assert(rc == SL_EIO || rc == SL_EPOISONED, "the failure is reported (%d)", rc);
	cr_assert_not_null(strstr(sl_log_errmsg(w), strerror(EIO)), "names the cause: %s",
			   sl_log_errmsg(w));
	f.fail_sync_at = f.fail_write_at = 0;
	cr_assert_eq(sl_log_append(w, &ev, 1, NULL), SL_EPOISONED, "poisoned");
	th_event_free(ev);
	struct sl_record rec;
	uint64_t n = 0;
	while ((rc = sl_reader_next(&rec, r)) == 1)
		n++;
	cr_assert_eq(rc, 0, "the reader ends cleanly: %s", sl_reader_errmsg(r));
	cr_assert_geq(n, 50, "every committed event is read (%" PRIu64 ")", n);
	sl_reader_close(r);
	sl_log_close(w);
	fio_free(&f);
	sl_log_options_init(&o);
	cr_assert_eq(sl_log_open(&w, log, &o, NULL, err, sizeof err), SL_OK, "reopen: %s", err);
	cr_assert_geq(sl_log_next_seq(w), 51, "nothing committed lost");
	cr_assert_eq(sl_log_close(w), SL_OK);
	free(log);
}

Test(campaign_resources, eio_under_a_reader)
{
	seam_fault(false);
}

Test(campaign_resources, failing_fsync_under_a_reader)
{
	seam_fault(true);
}
