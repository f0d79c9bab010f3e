/* asof.c: the views as of a point of the log, in a new file (views.h,
 * sl_asof_*()): what whole-database time travel (history/) writes.
 *
 * The database as of N is what projecting the log cut at N gives, row for
 * row.  It is built in a new file with no journal, as a rebuild writes its
 * file, in one of these ways (which one: history/timetravel.c):
 *  - from the start of the log: the projector's own catch-up up to N
 *    (written behind, wbvfs.c);
 *  - from a sound snapshot point P <= N: the views as of P are assembled
 *    (prune, then seed), then the projector's own catch-up applies (P, N].
 *    The views as of P are the live rows of P's time inserted into the new
 *    file (written behind), or a copy of a database at or past P with what
 *    came after P taken back: of the live views (their files copied as of
 *    one moment, copy_live()) or of the keyframe (keyframe.c).
 *
 * The views as of P.  What an event does to rows is catch-up's (project.c):
 * a jobs row and a sheets row are the state the rules give; an
 * execution_recorded adds a history row with its execution_id at its
 * event's time and changes nothing else; a job_deleted removes the job's
 * rows, history included.  So, between P and now:
 *  - a jobs or sheets row (or its extra fields) of a job with no event
 *    after P has not changed:
 *    the live row is its row as of P; for a job with events after P (the
 *    "touched" jobs) the caller gives its state as of P, written by the
 *    same row writers catch-up uses;
 *  - history rows are only ever added, with ids that grow, or removed with
 *    their job: the rows as of P are the live rows with an id up to P's
 *    AUTOINCREMENT counter executed before P's instant (or at it, among the
 *    ids P lists), plus the rows of jobs deleted after P, which the caller
 *    reads back from their execution_recorded events (the same row writer);
 *  - statelog_events rows are never changed: the live rows up to P;
 *  - sqlite_sequence and the position are P's.
 * The live rows are read in one read transaction, together with the list of
 * touched jobs, so that both are of the same moment (in a copy: from the
 * copy, one moment by construction).  Every way, the two
 * columns that say when a database was made (schema_version.applied_at,
 * statelog_meta created_at) are copied from the live one, so the answers
 * are the live views' as they were at N.
 */
#include "views_internal.h"
#include "wbvfs.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "event_internal.h"
#include "timefmt.h"

#define ASOF_CACHE_KIB 24576

struct sl_asof {
	struct sl_proj *p;              /* the live views (borrowed) */
	struct sl_proj *q;              /* the new file's handle */
	char *out_path;
	char *tmp;                      /* "<out_path>.tmp", what q writes */
	const struct sl_snap_point *pt; /* NULL: from the start */
	struct sl_deferred d;
	bool reading;                   /* the read transaction on live is open */
	/* Made from the live rows inserted one by one, or from a copy (of the
	 * live database or of the keyframe) from which what came after the
	 * point is taken back (copied()).  The rows are then read from the
	 * copy ("main"), not from live. */
	enum sl_asof_way way;
	const char *rows;               /* "live" or "main": where the rows are read */
	struct sl_keyframe kf;          /* SL_ASOF_COPY_KEYFRAME: the one chosen */
	bool pruned;                    /* sl_asof_prune() ran, */
	int prune_rc;                   /* with this outcome (its message in q) */
};

static const char *const db_suffix[] = { "", "-journal", "-wal", "-shm" };

static bool copied(const struct sl_asof *a)
{
	return a->way != SL_ASOF_INSERT;
}

static int exec_sql(struct sl_proj *q, const char *sql, const char *what)
{
	return sqlite3_exec(q->db, sql, NULL, NULL, NULL) == SQLITE_OK ? SL_OK
		: sl_proj_sql_fail(q, what);
}

/* Runs a prepared statement with no result to its end and finalizes it. */
static int run_stmt(struct sl_proj *q, sqlite3_stmt *st, const char *what)
{
	int s = sqlite3_step(st);
	int rc = s == SQLITE_DONE || s == SQLITE_ROW ? SL_OK : sl_proj_sql_fail(q, what);
	sqlite3_finalize(st);
	return rc;
}

static int prepare(struct sl_proj *q, sqlite3_stmt **st, const char *sql, const char *what)
{
	*st = NULL;
	return sqlite3_prepare_v2(q->db, sql, -1, st, NULL) == SQLITE_OK ? SL_OK
		: sl_proj_sql_fail(q, what);
}

/* The live views attached to q's connection as "live", through the default
 * VFS (a URI naming it: q's own VFS writes its main file behind, and serves
 * that file only), read in place rather than copied (a point near the end
 * copies most of a database of a gigabyte). */
static int attach_live(struct sl_asof *a)
{
	static const char hex[] = "0123456789ABCDEF";
	const char *path = a->p->db_path;
	sqlite3_vfs *dflt = sqlite3_vfs_find(NULL);
	const char *vfs = dflt ? dflt->zName : "unix";
	size_t n = strlen(path);
	char *uri = malloc(3 * n + strlen(vfs) + 16), *w = uri;
	if (!uri) {
		sl_proj_msg(a->q, "out of memory");
		return SL_ENOMEM;
	}
	w += sprintf(w, "file:");
	for (const unsigned char *c = (const unsigned char *)path; *c; c++) {
		if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
		    strchr("/-._~", *c)) {
			*w++ = (char)*c;
		} else {
			*w++ = '%';
			*w++ = hex[*c >> 4];
			*w++ = hex[*c & 15];
		}
	}
	sprintf(w, "?vfs=%s", vfs);
	sqlite3_stmt *st;
	int rc = prepare(a->q, &st, "ATTACH ?1 AS live", "attaching the live views");
	if (rc == SL_OK) {
		sqlite3_bind_text(st, 1, uri, -1, SQLITE_STATIC);
		rc = run_stmt(a->q, st, "attaching the live views");
	}
	free(uri);
	if (rc == SL_OK)
		rc = exec_sql(a->q, "PRAGMA live.mmap_size = 2147418112", "attaching the live views");
	return rc;
}

static void detach_live(struct sl_asof *a)
{
	sqlite3_exec(a->q->db, "DETACH live", NULL, NULL, NULL);
}

/* Opens q's new file: written behind (wbvfs.c), or through the default VFS
 * for a copy (a copy of live views in WAL mode is recovered from its WAL,
 * which needs the shared-memory index that VFS has). */
static int open_out(struct sl_proj *q, bool copy)
{
	char sql[200], msg[512];
	if (!copy && sl_wbvfs_register() != SQLITE_OK) {
		sl_proj_msg(q, "%s: cannot register the %s VFS", q->db_path, SL_WBVFS_NAME);
		return SL_ESQLITE;
	}
	if (sqlite3_open_v2(q->db_path, &q->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			    SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI,
			    copy ? NULL : SL_WBVFS_NAME) != SQLITE_OK)
		return sl_proj_sql_fail(q, "opening");
	sqlite3_extended_result_codes(q->db, 1);
	sqlite3_busy_timeout(q->db, SL_PROJ_BUSY_MS);
	/* Triggers off, as on every connection of statelog (project.c). */
	if (sqlite3_db_config(q->db, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, (int *)NULL) != SQLITE_OK)
		return sl_proj_sql_fail(q, "turning triggers off");
	snprintf(sql, sizeof sql, "PRAGMA page_size = %d; PRAGMA foreign_keys = ON; "
		 "PRAGMA synchronous = OFF; PRAGMA cache_size = -%d", SL_PROJ_PAGE_SIZE,
		 ASOF_CACHE_KIB);
	if (sl_rows_exec(q->db, sql, msg, sizeof msg) != SL_OK) {
		sl_proj_msg(q, "%s: %s", q->db_path, msg);
		return SL_ESQLITE;
	}
	return SL_OK;
}

/* The same name, or another name of the same file. */
static bool same_file(const char *a, const char *b)
{
	struct stat x, y;
	return strcmp(a, b) == 0 || (stat(a, &x) == 0 && stat(b, &y) == 0 &&
				     x.st_dev == y.st_dev && x.st_ino == y.st_ino);
}

void sl_proj_remove_db_files(const char *base, bool file_too)
{
	for (size_t i = file_too ? 0 : 1; i < sizeof db_suffix / sizeof db_suffix[0]; i++) {
		char *f;
		if (asprintf(&f, "%s%s", base, db_suffix[i]) >= 0) {
			unlink(f);
			free(f);
		}
	}
}

void sl_asof_abort(struct sl_asof *a)
{
	if (!a)
		return;
	if (a->reading)
		sqlite3_exec(a->q->db, "ROLLBACK", NULL, NULL, NULL);
	sl_proj_deferred_free(&a->d);
	sl_proj_close(a->q);
	if (a->tmp) {
		sl_proj_remove_db_files(a->tmp, true);
		free(a->tmp);
	}
	free(a->out_path);
	free(a);
}

/* Passes q's message to p, where the caller reads it. */
static int fail(struct sl_asof *a, int rc)
{
	if (a->q && a->q->errmsg[0])
		sl_proj_msg(a->p, "%s", a->q->errmsg);
	return rc;
}

/* Copies the live database into q's new file (a->tmp), as it is at one
 * moment, and leaves the copy as a rebuild's file is written: no journal,
 * one connection.
 *
 * The files are copied as bytes, while a read transaction on the live
 * views is open on a connection of our own, which is what makes the copy
 * one moment of the database (SQLite's WAL protocol, "WAL-mode File
 * Format" in its documentation):
 *  - in WAL mode, our reader holds a read mark M (frames of the WAL it
 *    uses).  No checkpoint moves into the database file a frame beyond M
 *    while it is held, and none at all when M is 0; so every page of the
 *    file is, while we copy it, either as of our moment or a page that the
 *    WAL's first M frames hold.  The WAL is copied after the file: its
 *    frames up to M are there (a WAL is reset only when no reader has a
 *    mark above 0, and then the file holds all of it), and SQLite's
 *    recovery, when the copy is opened, takes the frames up to the last
 *    commit whose checksums hold: our moment or a later commit, each page
 *    from the WAL if it is there, from the file if not.  Frames being
 *    written as we copy fail their checksum and are not taken;
 *  - in a rollback-journal mode, our shared lock keeps every writer out
 *    of the file until we are done.
 * What the copy holds is checked when it is opened (sl_asof_begin()).
 * Its -shm is never copied: SQLite builds it again from the WAL. */
static int copy_live(struct sl_asof *a)
{
	struct sl_proj *q = a->q;
	const char *live = a->p->db_path;
	char msg[512] = "", *wal_from = NULL, *wal_to = NULL;
	int rc = SL_OK;
	sqlite3 *r = NULL;
	sqlite3_stmt *st = NULL;
	if (asprintf(&wal_from, "%s-wal", live) < 0 || asprintf(&wal_to, "%s-wal", a->tmp) < 0) {
		wal_from = wal_to = NULL;
		snprintf(msg, sizeof msg, "out of memory");
		rc = SL_ENOMEM;
		goto out;
	}
	if (sqlite3_open_v2(live, &r, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		snprintf(msg, sizeof msg, "%s: %s", live, r ? sqlite3_errmsg(r) : "out of memory");
		rc = r ? SL_ESQLITE : SL_ENOMEM;
		goto out;
	}
	sqlite3_busy_timeout(r, SL_PROJ_BUSY_MS);
	/* The read transaction begins at the first read. */
	bool wal = false;
	if (sqlite3_exec(r, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(r, "SELECT (SELECT count(*) FROM statelog_meta), "
			       "(SELECT journal_mode FROM pragma_journal_mode)", -1, &st,
			       NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		snprintf(msg, sizeof msg, "%s: beginning to read: %s", live, sqlite3_errmsg(r));
		rc = SL_ESQLITE;
		goto out;
	}
	const char *mode = (const char *)sqlite3_column_text(st, 1);
	wal = mode && strcmp(mode, "wal") == 0;
	if ((rc = sl_proj_copy_file(live, a->tmp, 0644, msg, sizeof msg)) != SL_OK)
		goto out;
	if (wal && (rc = sl_proj_copy_file(wal_from, wal_to, 0644, msg, sizeof msg)) == SL_ENOTFOUND)
		rc = SL_OK;             /* no WAL: all of it is in the file */
out:
	sqlite3_finalize(st);
	sqlite3_close(r);               /* the read transaction ends with it */
	free(wal_from);
	free(wal_to);
	if (rc != SL_OK)
		sl_proj_msg(q, "copying the live views: %s", msg);
	return rc;
}

/* Copies the keyframe into q's new file.  A keyframe is never written once
 * it has its name (it is replaced by a rename), so one read of the file is
 * one moment of it. */
static int copy_keyframe(struct sl_asof *a)
{
	char msg[600];
	char *path = sl_keyframe_path(a->p);
	if (!path) {
		sl_proj_msg(a->q, "out of memory");
		return SL_ENOMEM;
	}
	int rc = sl_proj_copy_file(path, a->tmp, 0644, msg, sizeof msg);
	free(path);
	if (rc != SL_OK)
		sl_proj_msg(a->q, "copying the keyframe: %s", msg);
	return rc == SL_ENOTFOUND ? SL_EIO : rc;
}

/* Opens the copy (SQLite recovers its WAL, if it has one), checks that it
 * is the views of this log at or past the point, and leaves it as a
 * rebuild's file is written: no journal (the WAL moved into the file), one
 * connection. */
static int open_copy(struct sl_asof *a)
{
	struct sl_proj *q = a->q;
	struct sl_rows_meta m;
	char msg[512];
	int rc = open_out(q, true);
	if (rc != SL_OK)
		return rc;
	if (sl_rows_read_meta(q->db, &m, msg, sizeof msg) != SL_OK) {
		sl_proj_msg(q, "%s: %s", q->db_path, msg);
		return SL_ESQLITE;
	}
	bool kf = a->way == SL_ASOF_COPY_KEYFRAME;
	if (!m.has_meta || strcmp(m.log_id, a->p->log_id) != 0 ||
	    m.views_version != SL_VIEWS_VERSION || m.last_seq < a->pt->seq ||
	    (kf ? m.as_of_seq != m.last_seq || m.last_seq != a->kf.seq || m.last_crc != a->kf.crc
		: m.as_of_seq != 0)) {
		/* The live views were replaced, or are behind, as we copied; or
		 * the keyframe was replaced after it was chosen. */
		sl_proj_msg(q, "%s: the copy of the %s is not of this log at or past seq %" PRIu64
			    " (it changed as it was made); try again", q->db_path,
			    kf ? "keyframe" : "live views", a->pt->seq);
		return SL_EIO;
	}
	/* Taking back reads the copy through the map and writes each page it
	 * changes, with no zeros over what it deletes (SQLite as Debian builds
	 * it has secure_delete on): the log keeps every byte anyway.  A small
	 * cache writes out the pages of the events' index as the deletes go
	 * through it, and measured faster than a large one. */
	if (sl_rows_exec(q->db, "PRAGMA main.journal_mode = OFF; "
			 "PRAGMA main.locking_mode = EXCLUSIVE; "
			 "PRAGMA main.mmap_size = 2147418112; PRAGMA main.secure_delete = OFF; "
			 "PRAGMA main.cache_size = -4096", msg, sizeof msg)) {
		sl_proj_msg(q, "%s: %s", q->db_path, msg);
		return SL_ESQLITE;
	}
	return SL_OK;
}

int sl_asof_begin(struct sl_asof **out, sl_proj *p, const char *out_path,
		  const struct sl_snap_point *pt, enum sl_asof_way way,
		  const struct sl_keyframe *kf)
{
	char msg[512];
	int rc;
	if (!out_path || !*out_path) {
		sl_proj_msg(p, "no output file given");
		return SL_EINVAL;
	}
	if (same_file(out_path, p->db_path) || (p->orig_path && same_file(out_path, p->orig_path))) {
		sl_proj_msg(p, "%s: the output would replace the live views", out_path);
		return SL_EINVAL;
	}
	struct sl_asof *a = calloc(1, sizeof *a);
	if (!a || !(a->out_path = strdup(out_path)) || asprintf(&a->tmp, "%s.tmp", out_path) < 0) {
		if (a)
			a->tmp = NULL;
		sl_asof_abort(a);
		sl_proj_msg(p, "out of memory");
		return SL_ENOMEM;
	}
	a->p = p;
	a->pt = pt;
	a->way = pt ? way : SL_ASOF_INSERT;
	if (a->way == SL_ASOF_COPY_KEYFRAME) {
		if (!kf || kf->seq < pt->seq) {
			sl_asof_abort(a);
			sl_proj_msg(p, "no keyframe at or after the point");
			return SL_EINVAL;
		}
		a->kf = *kf;
	}
	a->rows = copied(a) ? "main" : "live";
	sl_proj_remove_db_files(a->tmp, true);
	if ((rc = sl_proj_alloc(&a->q, p->log_dir, a->tmp, NULL)) != SL_OK) {
		sl_asof_abort(a);
		sl_proj_msg(p, "out of memory");
		return rc;
	}
	struct sl_proj *q = a->q;
	if ((rc = sl_proj_open_reader(q)))
		goto fail;
	if (copied(a)) {
		/* Every row read from the copy, of one moment by construction. */
		if ((rc = a->way == SL_ASOF_COPY_LIVE ? copy_live(a) : copy_keyframe(a)) ||
		    (rc = open_copy(a)) || (rc = sl_proj_attach(q)) ||
		    (rc = exec_sql(q, "PRAGMA foreign_keys = OFF; BEGIN", "beginning")))
			goto fail;
		a->reading = true;
		*out = a;
		return SL_OK;
	}
	if ((rc = open_out(q, false)))
		goto fail;
	/* A new file nobody may see yet, as a rebuild writes it.  "main."
	 * only: the live views attached later keep their own modes. */
	if (sl_rows_exec(q->db, "PRAGMA main.journal_mode = OFF; "
			 "PRAGMA main.locking_mode = EXCLUSIVE", msg, sizeof msg) ||
	    sl_proj_create_views(q->db, q->log_id, msg, sizeof msg)) {
		sl_proj_msg(q, "%s: %s", q->db_path, msg);
		rc = SL_ESQLITE;
		goto fail;
	}
	if ((rc = sl_proj_defer_indexes(q, &a->d)) || (rc = sl_proj_attach(q)))
		goto fail;
	if (pt) {
		/* One read transaction: every live row read is of the same moment. */
		if ((rc = attach_live(a)) ||
		    (rc = exec_sql(q, "PRAGMA foreign_keys = OFF; BEGIN", "beginning")))
			goto fail;
		a->reading = true;
	}
	*out = a;
	return SL_OK;
fail:
	fail(a, rc);
	sl_asof_abort(a);
	return rc;
}

void sl_asof_jobs_free(struct sl_asof_job *jobs, size_t n)
{
	for (size_t i = 0; jobs && i < n; i++)
		free(jobs[i].id);
	free(jobs);
}

int sl_asof_touched(struct sl_asof_job **out, size_t *n_out, struct sl_asof *a)
{
	sqlite3_stmt *st = NULL, *after = NULL, *before = NULL;
	struct sl_asof_job *jobs = NULL;
	size_t n = 0, cap = 0;
	const char *what = "listing the jobs changed since the point";
	int rc, s;
	char sql1[200], sql2[200], sql3[200];
	snprintf(sql1, sizeof sql1, "SELECT DISTINCT job_id FROM %s.statelog_events WHERE "
		 "seq > ?1 AND job_id IS NOT NULL ORDER BY job_id", a->rows);
	snprintf(sql2, sizeof sql2, "SELECT 1 FROM %s.statelog_events WHERE job_id = ?1 AND "
		 "seq > ?2 AND type = 'job_deleted' LIMIT 1", a->rows);
	snprintf(sql3, sizeof sql3, "SELECT max(seq) FROM %s.statelog_events WHERE job_id = ?1 "
		 "AND seq <= ?2 AND type = 'job_deleted'", a->rows);
	if ((rc = prepare(a->q, &st, sql1, what)) || (rc = prepare(a->q, &after, sql2, what)) ||
	    (rc = prepare(a->q, &before, sql3, what)))
		goto out;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)a->pt->seq);
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			struct sl_asof_job *w = realloc(jobs, cap * sizeof *w);
			if (!w)
				goto oom;
			jobs = w;
		}
		struct sl_asof_job *j = &jobs[n];
		*j = (struct sl_asof_job){ .id = strdup((const char *)sqlite3_column_text(st, 0)) };
		if (!j->id)
			goto oom;
		n++;
		sqlite3_stmt *q2[] = { after, before };
		for (size_t k = 0; k < 2; k++) {
			sqlite3_bind_text(q2[k], 1, j->id, -1, SQLITE_STATIC);
			sqlite3_bind_int64(q2[k], 2, (sqlite3_int64)a->pt->seq);
			int r = sqlite3_step(q2[k]);
			if (r == SQLITE_ROW && k == 0)
				j->deleted_after = true;
			else if (r == SQLITE_ROW)
				j->deleted_before = (uint64_t)sqlite3_column_int64(q2[k], 0);
			sqlite3_reset(q2[k]);
			if (r != SQLITE_ROW && r != SQLITE_DONE) {
				rc = sl_proj_sql_fail(a->q, what);
				goto out;
			}
		}
	}
	if (s != SQLITE_DONE)
		rc = sl_proj_sql_fail(a->q, what);
	goto out;
oom:
	sl_proj_msg(a->q, "out of memory");
	rc = SL_ENOMEM;
out:
	sqlite3_finalize(st);
	sqlite3_finalize(after);
	sqlite3_finalize(before);
	if (rc != SL_OK) {
		sl_asof_jobs_free(jobs, n);
		return fail(a, rc);
	}
	*out = jobs;
	*n_out = n;
	return SL_OK;
}

/* Binds the point's parameters to st: ?1 its ties, ?2 its history
 * counter, ?3 its time, ?4 its seq (those st has). */
static void bind_point(sqlite3_stmt *st, const struct sl_snap_point *pt, const char *t)
{
	int k;
	if ((k = sqlite3_bind_parameter_index(st, "?1")) > 0)
		sqlite3_bind_text(st, k, pt->ties, -1, SQLITE_STATIC);
	if ((k = sqlite3_bind_parameter_index(st, "?2")) > 0)
		sqlite3_bind_int64(st, k, pt->hist_seq);
	if ((k = sqlite3_bind_parameter_index(st, "?3")) > 0)
		sqlite3_bind_text(st, k, t, -1, SQLITE_STATIC);
	if ((k = sqlite3_bind_parameter_index(st, "?4")) > 0)
		sqlite3_bind_int64(st, k, (sqlite3_int64)pt->seq);
}

/* In a copy of the live views, takes back what came after the point: the
 * events after it; the rows of the touched jobs (their states as of the
 * point are written after); their history rows that are not the point's.
 * Every history row added after the point is a touched job's (its
 * execution_recorded is an event after the point), and a job deleted since
 * has no row left to take back: its rows as of the point come from its
 * events (the seed).  The history rows with an id past the point's
 * counter go first, as one range of the table (in order, page after
 * page); then the few left among the touched jobs' rows. */
static int take_back(struct sl_asof *a, const char *t)
{
	static const char *const sql[] = {
		"INSERT OR IGNORE INTO temp.ties SELECT CAST(value AS INTEGER) FROM "
		"  json_each('[' || ?1 || ']')",
		"DELETE FROM main.statelog_events WHERE seq > ?4",
		"DELETE FROM main.execution_history WHERE id > ?2",
		"DELETE FROM main.execution_history WHERE job_id IN (SELECT job_id FROM "
		"  temp.touched) AND id <= ?2 AND NOT (executed_at < ?3 OR (executed_at = ?3 AND "
		"  id IN (SELECT id FROM temp.ties)))",
		"DELETE FROM main.sheets WHERE job_id IN (SELECT job_id FROM temp.touched)",
		"DELETE FROM main.jobs WHERE id IN (SELECT job_id FROM temp.touched)",
		"DELETE FROM main.statelog_extra WHERE job_id IN (SELECT job_id FROM temp.touched)",
	};
	int rc = SL_OK;
	for (size_t i = 0; rc == SL_OK && i < sizeof sql / sizeof sql[0]; i++) {
		sqlite3_stmt *st;
		if ((rc = prepare(a->q, &st, sql[i], "taking back what came after the point")))
			break;
		bind_point(st, a->pt, t);
		rc = run_stmt(a->q, st, "taking back what came after the point");
	}
	return rc;
}

/* Copies the live rows as of the point (see the top of this file), or, in
 * a copy of them, takes back what came after it. */
static int copy_live_rows(struct sl_asof *a, const struct sl_asof_job *touched,
			  size_t n_touched)
{
	struct sl_proj *q = a->q;
	const struct sl_snap_point *pt = a->pt;
	char t[SL_TIME_BUFSZ];
	sqlite3_stmt *st;
	int rc;
	if (sl_time_format(pt->time_us, t, sizeof t) != SL_OK) {
		sl_proj_msg(q, "%s: point %" PRIu64 ": time out of range", q->db_path, pt->seq);
		return SL_EINVAL;
	}
	if ((rc = exec_sql(q, "CREATE TEMP TABLE touched (job_id TEXT PRIMARY KEY); "
			   "CREATE TEMP TABLE ties (id INTEGER PRIMARY KEY)", "copying live rows")) ||
	    (rc = prepare(q, &st, "INSERT OR IGNORE INTO temp.touched VALUES (?1)",
			  "copying live rows")))
		return rc;
	for (size_t i = 0; rc == SL_OK && i < n_touched; i++) {
		sqlite3_bind_text(st, 1, touched[i].id, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = sl_proj_sql_fail(q, "copying live rows");
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	if (rc != SL_OK)
		return rc;
	if (copied(a))
		return take_back(a, t);
	static const char *const fixed[] = {
		"INSERT INTO main.jobs SELECT * FROM live.jobs WHERE id NOT IN "
		"  (SELECT job_id FROM temp.touched)",
		"INSERT INTO main.sheets SELECT * FROM live.sheets WHERE job_id NOT IN "
		"  (SELECT job_id FROM temp.touched)",
		"INSERT INTO main.statelog_extra SELECT * FROM live.statelog_extra WHERE job_id "
		"  NOT IN (SELECT job_id FROM temp.touched)",
		"INSERT OR IGNORE INTO temp.ties SELECT CAST(value AS INTEGER) FROM "
		"  json_each('[' || ?1 || ']')",
		"INSERT INTO main.execution_history SELECT * FROM live.execution_history "
		"  WHERE id <= ?2 AND (executed_at < ?3 OR (executed_at = ?3 AND id IN "
		"  (SELECT id FROM temp.ties)))",
		"INSERT INTO main.statelog_events SELECT * FROM live.statelog_events WHERE seq <= ?4",
	};
	for (size_t i = 0; rc == SL_OK && i < sizeof fixed / sizeof fixed[0]; i++) {
		if ((rc = prepare(q, &st, fixed[i], "copying the live rows as of the point")))
			break;
		bind_point(st, pt, t);
		rc = run_stmt(q, st, "copying the live rows as of the point");
	}
	return rc;
}

int sl_asof_prune(struct sl_asof *a, const struct sl_asof_job *touched, size_t n_touched)
{
	assert(a->reading && !a->pruned);
	a->prune_rc = copy_live_rows(a, touched, n_touched);
	a->pruned = true;
	return a->prune_rc;
}

int sl_asof_seed(struct sl_asof *a, const struct sl_job_state *states, size_t n_states,
		 sl_event *const *execs, size_t n_execs)
{
	struct sl_proj *q = a->q;
	const struct sl_snap_point *pt = a->pt;
	/* The other jobs' rows first (sl_asof_prune(); in a copy: the touched
	 * jobs' taken back), then the touched jobs' states as of the point. */
	assert(a->pruned);
	int rc = a->prune_rc;
	if (rc != SL_OK)
		goto out;
	for (size_t i = 0; rc == SL_OK && i < n_states; i++) {
		const struct sl_job_state *js = &states[i];
		rc = sl_rows_put_job(&q->v, js);
		for (size_t k = 0; rc == SL_OK && k < js->n_sheets; k++)
			rc = sl_rows_put_sheet(&q->v, js->id, &js->sheets[k]);
	}
	if (rc != SL_OK) {
		sl_proj_msg(q, "%s: %s", q->db_path, q->v.errmsg);
		goto out;
	}
	/* The history rows of jobs deleted since, as of the point: written as
	 * catch-up writes an execution_recorded. */
	struct sl_rows_exec rows[SL_ROWS_EXECS_PER_STMT];
	char times[SL_ROWS_EXECS_PER_STMT][SL_TIME_BUFSZ];
	for (size_t i = 0; i < n_execs;) {
		size_t k = 0;
		for (; k < SL_ROWS_EXECS_PER_STMT && i < n_execs; k++, i++) {
			const sl_event *ev = execs[i];
			const Statelog__ExecutionRecorded *x = ev->execution_recorded;
			sl_time_format(ev->time_us, times[k], SL_TIME_BUFSZ);
			rows[k] = (struct sl_rows_exec){
				.ev = ev, .time = times[k],
				.prompt_len = x->prompt ? strlen(x->prompt) : 0,
				.output_len = x->output ? strlen(x->output) : 0,
			};
		}
		if ((rc = sl_rows_put_executions(&q->v, rows, k)) != SL_OK) {
			sl_proj_msg(q, "%s: %s", q->db_path, q->v.errmsg);
			goto out;
		}
	}
	/* The counter last: every insert above moved it. */
	sqlite3_stmt *st;
	if ((rc = exec_sql(q, "DELETE FROM main.sqlite_sequence", "setting sqlite_sequence")))
		goto out;
	if (pt->hist_seq > 0) {
		if ((rc = prepare(q, &st, "INSERT INTO main.sqlite_sequence (name, seq) VALUES "
				  "('execution_history', ?1)", "setting sqlite_sequence")))
			goto out;
		sqlite3_bind_int64(st, 1, pt->hist_seq);
		if ((rc = run_stmt(q, st, "setting sqlite_sequence")))
			goto out;
	}
	if ((rc = sl_rows_set_position(&q->v, pt->seq, pt->commit_crc)) != SL_OK) {
		sl_proj_msg(q, "%s: %s", q->db_path, q->v.errmsg);
		goto out;
	}
	q->pos = pt->seq;
	q->pos_crc = pt->commit_crc;
out:
	rc = rc == SL_OK ? exec_sql(q, "COMMIT", "committing")
			 : (sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL), rc);
	a->reading = false;
	sqlite3_exec(q->db, "DROP TABLE IF EXISTS temp.touched; DROP TABLE IF EXISTS temp.ties; "
		     "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
	detach_live(a);
	return rc == SL_OK ? SL_OK : fail(a, rc);
}

/* The creation times of the live views, so that every answer is theirs. */
static int copy_creation(struct sl_asof *a)
{
	int rc = attach_live(a);
	if (rc != SL_OK)
		return rc;
	rc = exec_sql(a->q, "UPDATE main.schema_version SET applied_at = (SELECT l.applied_at "
		      "FROM live.schema_version l WHERE l.version = schema_version.version) "
		      "WHERE version IN (SELECT version FROM live.schema_version);"
		      "UPDATE main.statelog_meta SET value = (SELECT value FROM live.statelog_meta "
		      "WHERE key = 'created_at') WHERE key = 'created_at' AND EXISTS (SELECT 1 "
		      "FROM live.statelog_meta WHERE key = 'created_at')",
		      "copying the creation times");
	detach_live(a);
	return rc;
}

int sl_asof_finish(struct sl_asof *a, uint64_t seq, uint64_t *replayed)
{
	struct sl_proj *q = a->q;
	char msg[512];
	int rc;
	assert(!a->reading);
	struct sl_proj_run run = { .limit = seq };
	if ((rc = sl_proj_catch_up_to(q, &run)) != SL_OK)
		goto out;
	if (q->pos != seq) {
		sl_proj_msg(q, "%s: the replay stopped at seq %" PRIu64 ", before %" PRIu64,
			    q->db_path, q->pos, seq);
		rc = SL_EIO;
		goto out;
	}
	if ((rc = sl_proj_create_deferred(q, &a->d)) || (rc = copy_creation(a)))
		goto out;
	/* Marked as of its point: a projector that opens it leaves it there. */
	snprintf(msg, sizeof msg, "INSERT OR REPLACE INTO main.statelog_meta (key, value) "
		 "VALUES ('as_of_seq', %" PRIu64 ")", seq);
	if ((rc = exec_sql(q, msg, "marking the database as of its point")) != SL_OK)
		goto out;
	/* As a rebuild leaves its file: rollback journal, every page written
	 * before the file takes its name. */
	if (sl_rows_exec(q->db, "PRAGMA main.journal_mode = DELETE", msg, sizeof msg)) {
		sl_proj_msg(q, "%s: %s", q->db_path, msg);
		rc = SL_ESQLITE;
		goto out;
	}
	int s = copied(a) ? SQLITE_OK
			  : sqlite3_file_control(q->db, "main", SL_WBVFS_FCNTL_DRAIN, NULL);
	if (s != SQLITE_OK) {
		sl_proj_msg(q, "%s: writing: %s", q->db_path, sqlite3_errstr(s));
		rc = SL_ESQLITE;
		goto out;
	}
	if ((rc = sl_proj_detach(q)) != SL_OK)
		goto out;
	if (rename(a->tmp, a->out_path) != 0) {
		sl_proj_msg(q, "renaming %s to %s: %s", a->tmp, a->out_path, strerror(errno));
		rc = SL_EIO;
		goto out;
	}
	/* An older file's journals, which SQLite would apply to the new one. */
	sl_proj_remove_db_files(a->out_path, false);
	if (replayed)
		*replayed = run.st.events_applied;
	free(a->tmp);
	a->tmp = NULL;                  /* renamed: nothing to remove */
out:
	if (rc != SL_OK)
		fail(a, rc);
	sl_asof_abort(a);
	return rc;
}
