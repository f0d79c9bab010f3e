/* snapshot.c: the snapshot store beside the views (snapshot.h): taking
 * points after catch-up transactions (through a commit hook), pruning them,
 * and finding sound ones for time travel.
 *
 * Statements are prepared when used: a point is taken every few thousand
 * events, and a time-travel call makes a handful of queries.
 */
#include "views_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crc32c.h"
#include "image.h"
#include "timefmt.h"

#define SNAP_FORMAT 1
#define SNAP_BUSY_MS 10000
#define HOUR_US 3600000000LL
#define SNAP_VERIFIED 64

static const char snap_schema[] =
	"CREATE TABLE IF NOT EXISTS snap_meta (key TEXT PRIMARY KEY, value);"
	"CREATE TABLE IF NOT EXISTS snap_points (seq INTEGER PRIMARY KEY, log_id TEXT NOT NULL, "
	"  commit_crc INTEGER NOT NULL, time_us INTEGER NOT NULL, hist_seq INTEGER NOT NULL, "
	"  ties TEXT NOT NULL, kept INTEGER NOT NULL, crc INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS snap_entries (job_id TEXT NOT NULL, seq INTEGER NOT NULL, "
	"  state BLOB NOT NULL, crc INTEGER NOT NULL, PRIMARY KEY (job_id, seq)) WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS snap_entries_seq ON snap_entries(seq);";

struct sl_snap {
	char *path;
	struct sl_snap_options o;
	sqlite3 *db;                    /* NULL until needed */
	bool checked;                   /* the store's log id was checked */
	/* Points around the last position seen, so that sl_snap_due() is a
	 * comparison: prev = newest point <= pos, next = oldest point > pos. */
	bool have_bounds;
	uint64_t prev, next;
	uint64_t backoff;               /* after a failure, nothing before this */
	bool coarse;                    /* no transaction ends for points */
	/* Points found to match the log during the current call (a whole
	 * database as of a point may read entries of many points). */
	uint64_t verified[SNAP_VERIFIED];
	size_t n_verified;
	uint64_t failures;              /* points that could not be taken */
	char errmsg[512];               /* the last failure */
};

void sl_snap_options_init(struct sl_snap_options *o)
{
	*o = (struct sl_snap_options){
		.every = SL_SNAP_DEFAULT_EVERY, .keep_last = SL_SNAP_DEFAULT_KEEP_LAST,
		.hourly_hours = SL_SNAP_DEFAULT_HOURLY_HOURS,
		.daily_days = SL_SNAP_DEFAULT_DAILY_DAYS,
	};
}

void sl_snap_note(struct sl_snap_notes *notes, bool foreign, const char *fmt, ...)
{
	if (!notes)
		return;
	if (!notes->note[0]) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(notes->note, sizeof notes->note, fmt, ap);
		va_end(ap);
	}
	if (foreign)
		notes->foreign++;
	else
		notes->damaged++;
}

static void snap_msg(struct sl_snap *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void snap_msg(struct sl_snap *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->errmsg, sizeof s->errmsg, fmt, ap);
	va_end(ap);
}

static int snap_new(struct sl_snap **out, const char *db_path)
{
	struct sl_snap *s = calloc(1, sizeof *s);
	if (!s || asprintf(&s->path, "%s.snapshots", db_path) < 0) {
		free(s);
		return SL_ENOMEM;
	}
	sl_snap_options_init(&s->o);
	*out = s;
	return SL_OK;
}

static void snap_free(void *ctx)
{
	struct sl_snap *s = ctx;
	if (!s)
		return;
	sqlite3_close(s->db);
	free(s->path);
	free(s);
}

static bool snap_break_due(void *ctx, uint64_t pos);
static void snap_committed(void *ctx, sl_proj *p, uint64_t pos, uint32_t crc);

int sl_snap_attach(struct sl_proj *p, bool coarse)
{
	struct sl_snap *s;
	int rc = snap_new(&s, p->db_path);
	if (rc != SL_OK)
		return rc;
	s->coarse = coarse;
	struct sl_proj_hook h = {
		.break_due = snap_break_due, .committed = snap_committed, .free = snap_free, .ctx = s,
	};
	if ((rc = sl_proj_add_hook(p, &h)) != SL_OK) {
		snap_free(s);
		return rc;
	}
	p->snap = s;
	return SL_OK;
}

void sl_snap_begin(struct sl_snap *s)
{
	if (s)
		s->n_verified = 0;
}

int sl_proj_set_snapshots(sl_proj *p, const struct sl_snap_options *o)
{
	if (!o || o->every == 0 || o->keep_last == 0)
		return SL_EINVAL;
	if (!p->snap) {
		int rc = sl_snap_attach(p, false);
		if (rc != SL_OK)
			return rc;
	}
	p->snap->o = *o;
	p->snap->have_bounds = false;
	p->snap->backoff = 0;
	return SL_OK;
}

/* ---- checksums ----------------------------------------------------------- */

static uint32_t crc_u64(uint32_t c, uint64_t v)
{
	uint8_t b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	return sl_crc32c(c, b, 8);
}

static uint32_t crc_str(uint32_t c, const char *s)
{
	return sl_crc32c(c, s, strlen(s) + 1);
}

static uint32_t point_crc(uint64_t seq, const char *log_id, uint32_t commit_crc, int64_t time_us,
			  int64_t hist_seq, const char *ties)
{
	uint32_t c = crc_u64(0, seq);
	c = crc_str(c, log_id);
	c = crc_u64(c, commit_crc);
	c = crc_u64(c, (uint64_t)time_us);
	c = crc_u64(c, (uint64_t)hist_seq);
	return crc_str(c, ties);
}

/* An entry's crc binds it to its log, its point (through the commit crc,
 * which chains every commit before it), its job and its image. */
static uint32_t entry_crc(const char *log_id, uint64_t seq, uint32_t commit_crc, const char *job,
			  const void *img, size_t len)
{
	uint32_t c = crc_str(0, log_id);
	c = crc_u64(c, seq);
	c = crc_u64(c, commit_crc);
	c = crc_str(c, job);
	return sl_crc32c(c, img, len);
}

/* ---- opening ------------------------------------------------------------- */

static int sql_fail(struct sl_snap *s, const char *what)
{
	return sl_sql_fail(s->errmsg, sizeof s->errmsg, s->db, s->path, what);
}

static int exec(struct sl_snap *s, const char *sql, const char *what)
{
	return sqlite3_exec(s->db, sql, NULL, NULL, NULL) == SQLITE_OK ? SL_OK : sql_fail(s, what);
}

/* Opens the store (creating it when `create`), and makes it this log's: a
 * store of another log is emptied (its points could never be used) and
 * reported.  SL_ENOTFOUND when it does not exist and create is false. */
static int snap_open(struct sl_snap *s, bool create, const char *log_id, struct sl_snap_notes *rep)
{
	int rc = SL_OK;
	sqlite3_stmt *st = NULL;
	if (!s->db) {
		struct stat sb;
		if (!create && stat(s->path, &sb) != 0)
			return SL_ENOTFOUND;
		int fl = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
		if (sqlite3_open_v2(s->path, &s->db, fl, NULL) != SQLITE_OK) {
			rc = sql_fail(s, "opening");
			goto fail;
		}
		sqlite3_busy_timeout(s->db, SNAP_BUSY_MS);
		if ((rc = exec(s, "PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF; "
				    "PRAGMA journal_size_limit = 1048576", "opening")) ||
		    (rc = exec(s, snap_schema, "creating the tables")))
			goto fail;
		s->checked = false;
	}
	if (s->checked)
		return SL_OK;
	if (sqlite3_prepare_v2(s->db, "SELECT value FROM snap_meta WHERE key = 'log_id'", -1, &st,
			       NULL) != SQLITE_OK) {
		rc = sql_fail(s, "reading snap_meta");
		goto fail;
	}
	int step = sqlite3_step(st);
	const char *have = step == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
	bool foreign = have && strcmp(have, log_id) != 0;
	if (foreign) {
		sl_snap_note(rep, true, "%s: snapshots of log %s, not of this log (%s): discarded",
			   s->path, have, log_id);
		snap_msg(s, "%s: snapshots of log %s, not of this log (%s): discarded", s->path,
			 have, log_id);
	}
	sqlite3_finalize(st);
	st = NULL;
	if (step != SQLITE_ROW && step != SQLITE_DONE) {
		rc = sql_fail(s, "reading snap_meta");
		goto fail;
	}
	if (!have || foreign) {
		if ((rc = exec(s, "BEGIN IMMEDIATE; DELETE FROM snap_points; DELETE FROM "
			       "snap_entries", "claiming the store")) == SL_OK &&
		    (rc = sqlite3_prepare_v2(s->db, "INSERT OR REPLACE INTO snap_meta VALUES "
					     "('format', ?1), ('log_id', ?2)", -1, &st, NULL) ==
			  SQLITE_OK ? SL_OK : sql_fail(s, "claiming the store")) == SL_OK) {
			sqlite3_bind_int(st, 1, SNAP_FORMAT);
			sqlite3_bind_text(st, 2, log_id, -1, SQLITE_STATIC);
			if (sqlite3_step(st) != SQLITE_DONE)
				rc = sql_fail(s, "claiming the store");
		}
		sqlite3_finalize(st);
		st = NULL;
		if (rc == SL_OK)
			rc = exec(s, "COMMIT", "claiming the store");
		if (rc != SL_OK) {
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
			goto fail;
		}
	}
	s->checked = true;
	return SL_OK;
fail:
	sqlite3_finalize(st);
	/* A store SQLite cannot read is damaged derived data: start afresh. */
	if (create && s->db && (sqlite3_errcode(s->db) == SQLITE_NOTADB ||
				sqlite3_errcode(s->db) == SQLITE_CORRUPT)) {
		sqlite3_close(s->db);
		s->db = NULL;
		sl_snap_note(rep, false, "%s: not a readable snapshot store: discarded", s->path);
		if (unlink(s->path) == 0)
			return snap_open(s, create, log_id, rep);
	}
	sqlite3_close(s->db);
	s->db = NULL;
	return rc;
}

/* ---- taking points ------------------------------------------------------- */

/* prev = newest point <= pos, next = oldest point > pos. */
static void refresh_bounds(struct sl_snap *s, uint64_t pos)
{
	s->prev = 0;
	s->next = UINT64_MAX;
	s->have_bounds = true;
	struct stat sb;
	if (!s->db && stat(s->path, &sb) != 0)
		return;
	if (!s->db) {
		/* Opened without claiming it: the log id is checked when used. */
		if (sqlite3_open_v2(s->path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
				    NULL) != SQLITE_OK ||
		    sqlite3_exec(s->db, snap_schema, NULL, NULL, NULL) != SQLITE_OK) {
			sqlite3_close(s->db);
			s->db = NULL;
			return;
		}
		sqlite3_busy_timeout(s->db, SNAP_BUSY_MS);
	}
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(s->db, "SELECT (SELECT max(seq) FROM snap_points WHERE seq <= ?1), "
			       "(SELECT min(seq) FROM snap_points WHERE seq > ?1)", -1, &st,
			       NULL) == SQLITE_OK &&
	    sqlite3_bind_int64(st, 1, (sqlite3_int64)pos) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW) {
		s->prev = (uint64_t)sqlite3_column_int64(st, 0);
		if (sqlite3_column_type(st, 1) != SQLITE_NULL)
			s->next = (uint64_t)sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
}

static bool snap_due(struct sl_snap *s, uint64_t pos)
{
	if (!s || s->o.disabled || pos < s->backoff)
		return false;
	if (!s->have_bounds || pos >= s->next || pos < s->prev)
		refresh_bounds(s, pos);
	return pos >= s->prev + s->o.every;
}

/* The hook's break_due: a transaction ends at a mark, so that the point is
 * taken where it is due, unless the store is coarse (a rebuild, whose long
 * transactions are its speed, takes its points at their ends instead). */
static bool snap_break_due(void *ctx, uint64_t pos)
{
	struct sl_snap *s = ctx;
	return !s->coarse && snap_due(s, pos);
}

/* A statement on db with integer parameters bound; NULL on failure. */
static sqlite3_stmt *prep(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		sqlite3_finalize(st);
		return NULL;
	}
	return st;
}

/* The ids of the history rows executed at time `t` (text), all of them from
 * events at or before the views' position: the event rows with that time,
 * walking back from pos, name their jobs. */
static int tie_ids(sqlite3 *db, uint64_t pos, const char *t, char **out)
{
	char *ids = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&ids, &len);
	sqlite3_stmt *ev = prep(db, "SELECT time, job_id, type FROM statelog_events WHERE seq <= ? "
				"ORDER BY seq DESC");
	sqlite3_stmt *hist = prep(db, "SELECT id FROM execution_history WHERE job_id = ? AND "
				  "executed_at = ? ORDER BY id");
	int rc = SL_ESQLITE, s;
	if (!f || !ev || !hist)
		goto out;
	sqlite3_bind_int64(ev, 1, (sqlite3_int64)pos);
	bool first = true;
	while ((s = sqlite3_step(ev)) == SQLITE_ROW) {
		const char *time = (const char *)sqlite3_column_text(ev, 0);
		const char *job = (const char *)sqlite3_column_text(ev, 1);
		const char *type = (const char *)sqlite3_column_text(ev, 2);
		if (!time || strcmp(time, t) != 0)
			break;
		if (!job || !type || strcmp(type, "execution_recorded") != 0)
			continue;
		/* A job named twice gives its ids twice: harmless, they are
		 * looked up in a set. */
		sqlite3_bind_text(hist, 1, job, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(hist, 2, t, -1, SQLITE_TRANSIENT);
		while ((s = sqlite3_step(hist)) == SQLITE_ROW) {
			fprintf(f, "%s%lld", first ? "" : ",", (long long)sqlite3_column_int64(hist, 0));
			first = false;
		}
		sqlite3_reset(hist);
		if (s != SQLITE_DONE)
			goto out;
	}
	if (s != SQLITE_ROW && s != SQLITE_DONE)
		goto out;
	rc = SL_OK;
out:
	sqlite3_finalize(ev);
	sqlite3_finalize(hist);
	if (f)
		fclose(f);
	if (rc == SL_OK && !ids)
		rc = SL_ENOMEM;
	if (rc == SL_OK)
		*out = ids;
	else
		free(ids);
	return rc;
}

/* Writes the entry of one job as of seq. */
static int put_entry(struct sl_snap *s, sqlite3_stmt *ins, struct sl_proj *p, uint64_t seq,
		     uint32_t commit_crc, const char *job)
{
	struct sl_job_state st;
	int rc = sl_proj_committed_state(&st, p, job);
	if (rc == SL_OK && st.presence != SL_JOB_LIVE) {
		/* No row: deleted (or refused from the start); only job_created
		 * can follow, as on a deleted state. */
		sl_state_free(&st);
		st.presence = SL_JOB_DELETED;
		rc = (st.id = strdup(job)) ? SL_OK : SL_ENOMEM;
	} else if (rc != SL_OK) {
		snap_msg(s, "%s: job %s: %s", s->path, job, p->errmsg);
		return rc;
	}
	uint8_t *img = NULL;
	size_t len = 0;
	if (rc == SL_OK)
		rc = sl_image_encode(&img, &len, &st);
	sl_state_free(&st);
	if (rc != SL_OK) {
		snap_msg(s, "%s: job %s: %s", s->path, job, sl_strerror(rc));
		return rc;
	}
	sqlite3_bind_text(ins, 1, job, -1, SQLITE_STATIC);
	sqlite3_bind_int64(ins, 2, (sqlite3_int64)seq);
	sqlite3_bind_blob(ins, 3, img, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(ins, 4, entry_crc(p->log_id, seq, commit_crc, job, img, len));
	int st2 = sqlite3_step(ins);
	sqlite3_reset(ins);
	sqlite3_clear_bindings(ins);
	free(img);
	return st2 == SQLITE_DONE ? SL_OK : sql_fail(s, "writing an entry");
}

/* Keeps the last keep_last points, then the newest of each hour for
 * hourly_hours, then the newest of each day (for daily_days; 0: all).  A
 * dropped point's entries are deleted when a later entry of the same job
 * at or before the next kept point supersedes them; the others stay (the
 * row of the point stays too, kept = 0, as their anchor). */
static int prune(struct sl_snap *s)
{
	sqlite3_stmt *ls = prep(s->db, "SELECT seq, time_us FROM snap_points WHERE kept = 1 "
				"ORDER BY seq DESC");
	sqlite3_stmt *del = prep(s->db, "DELETE FROM snap_entries WHERE seq = ?1 AND job_id IN "
				 "(SELECT job_id FROM snap_entries WHERE seq > ?1 AND seq <= ?2)");
	sqlite3_stmt *drop = prep(s->db, "UPDATE snap_points SET kept = 0 WHERE seq = ?1");
	sqlite3_stmt *gone = prep(s->db, "DELETE FROM snap_points WHERE seq = ?1 AND NOT EXISTS "
				  "(SELECT 1 FROM snap_entries WHERE seq = ?1)");
	uint64_t *seq = NULL;
	int64_t *tm = NULL;
	size_t n = 0, cap = 0;
	int rc = SL_OK, st;
	if (!ls || !del || !drop || !gone) {
		rc = sql_fail(s, "pruning");
		goto out;
	}
	while ((st = sqlite3_step(ls)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			uint64_t *a = realloc(seq, cap * sizeof *a);
			int64_t *b = a ? realloc(tm, cap * sizeof *b) : NULL;
			if (a)
				seq = a;
			if (!a || !b) {
				rc = SL_ENOMEM;
				goto out;
			}
			tm = b;
		}
		seq[n] = (uint64_t)sqlite3_column_int64(ls, 0);
		tm[n++] = sqlite3_column_int64(ls, 1);
	}
	if (st != SQLITE_DONE) {
		rc = sql_fail(s, "pruning");
		goto out;
	}
	/* Newest first: seq[0] is the newest point, always kept. */
	uint64_t keep_next = n ? seq[0] : 0;
	int64_t last_bucket = INT64_MIN;
	for (size_t i = 0; i < n; i++) {
		bool keep = i < s->o.keep_last;
		if (!keep) {
			int64_t age = tm[0] - tm[i];
			int64_t unit = age < (int64_t)s->o.hourly_hours * HOUR_US ? HOUR_US : 24 * HOUR_US;
			bool in_range = unit == HOUR_US || s->o.daily_days == 0 ||
					age < (int64_t)s->o.daily_days * 24 * HOUR_US;
			int64_t bucket = (tm[i] / unit) * (unit == HOUR_US ? 1 : -1);
			keep = in_range && bucket != last_bucket;
			if (keep)
				last_bucket = bucket;
		} else {
			last_bucket = tm[i] / HOUR_US;
		}
		if (keep) {
			keep_next = seq[i];
			continue;
		}
		sqlite3_stmt *all[] = { del, drop, gone };
		for (size_t k = 0; k < 3; k++) {
			sqlite3_bind_int64(all[k], 1, (sqlite3_int64)seq[i]);
			if (k == 0)
				sqlite3_bind_int64(all[k], 2, (sqlite3_int64)keep_next);
			st = sqlite3_step(all[k]);
			sqlite3_reset(all[k]);
			if (st != SQLITE_DONE) {
				rc = sql_fail(s, "pruning");
				goto out;
			}
		}
	}
out:
	free(seq);
	free(tm);
	sqlite3_finalize(ls);
	sqlite3_finalize(del);
	sqlite3_finalize(drop);
	sqlite3_finalize(gone);
	return rc;
}

/* Takes the point; the caller handles failure. */
static int take(struct sl_snap *s, struct sl_proj *p, uint64_t pos, uint32_t crc)
{
	const char *log_id = p->log_id;
	sqlite3 *vdb = p->db;
	sqlite3_stmt *tq = NULL, *jobs = NULL, *ins = NULL, *hq = NULL, *pt = NULL;
	char *ties = NULL;
	char t[SL_TIME_BUFSZ];
	int64_t time_us = 0, hist_seq = 0;
	int rc = snap_open(s, true, log_id, NULL);
	if (rc != SL_OK)
		return rc;
	/* The time of pos (a seq lost to a repair has no row: no point there). */
	if (!(tq = prep(vdb, "SELECT time FROM statelog_events WHERE seq = ?"))) {
		rc = sql_fail(s, "reading the views");
		goto out;
	}
	sqlite3_bind_int64(tq, 1, (sqlite3_int64)pos);
	if (sqlite3_step(tq) != SQLITE_ROW || !sqlite3_column_text(tq, 0) ||
	    snprintf(t, sizeof t, "%s", (const char *)sqlite3_column_text(tq, 0)) >= (int)sizeof t ||
	    sl_time_parse(&time_us, t) != SL_OK) {
		snap_msg(s, "%s: seq %" PRIu64 " has no event row: no point there", s->path, pos);
		rc = SL_ENOTFOUND;
		goto out;
	}
	if ((rc = exec(s, "BEGIN IMMEDIATE", "beginning")))
		goto out;
	jobs = prep(vdb, "SELECT DISTINCT job_id FROM statelog_events WHERE seq > ? AND seq <= ? "
		    "AND job_id IS NOT NULL");
	ins = prep(s->db, "INSERT OR REPLACE INTO snap_entries (job_id, seq, state, crc) "
		   "VALUES (?, ?, ?, ?)");
	hq = prep(vdb, "SELECT seq FROM sqlite_sequence WHERE name = 'execution_history'");
	pt = prep(s->db, "INSERT OR REPLACE INTO snap_points (seq, log_id, commit_crc, time_us, "
		  "hist_seq, ties, kept, crc) VALUES (?, ?, ?, ?, ?, ?, 1, ?)");
	if (!jobs || !ins || !hq || !pt) {
		rc = sql_fail(s, "preparing");
		goto rollback;
	}
	sqlite3_bind_int64(jobs, 1, (sqlite3_int64)s->prev);
	sqlite3_bind_int64(jobs, 2, (sqlite3_int64)pos);
	int st;
	while ((st = sqlite3_step(jobs)) == SQLITE_ROW) {
		if ((rc = put_entry(s, ins, p, pos, crc, (const char *)sqlite3_column_text(jobs, 0))))
			goto rollback;
	}
	if (st != SQLITE_DONE) {
		rc = sql_fail(s, "listing the jobs changed");
		goto rollback;
	}
	if ((st = sqlite3_step(hq)) == SQLITE_ROW)
		hist_seq = sqlite3_column_int64(hq, 0);
	else if (st != SQLITE_DONE) {
		rc = sql_fail(s, "reading sqlite_sequence");
		goto rollback;
	}
	if ((rc = tie_ids(vdb, pos, t, &ties))) {
		sql_fail(s, "reading the history rows of the point's instant");
		goto rollback;
	}
	sqlite3_bind_int64(pt, 1, (sqlite3_int64)pos);
	sqlite3_bind_text(pt, 2, log_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(pt, 3, crc);
	sqlite3_bind_int64(pt, 4, time_us);
	sqlite3_bind_int64(pt, 5, hist_seq);
	sqlite3_bind_text(pt, 6, ties, -1, SQLITE_STATIC);
	sqlite3_bind_int64(pt, 7, point_crc(pos, log_id, crc, time_us, hist_seq, ties));
	if (sqlite3_step(pt) != SQLITE_DONE) {
		rc = sql_fail(s, "writing the point");
		goto rollback;
	}
	if ((rc = prune(s)) || (rc = exec(s, "COMMIT", "committing")))
		goto rollback;
	goto out;
rollback:
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
out:
	free(ties);
	sqlite3_finalize(tq);
	sqlite3_finalize(jobs);
	sqlite3_finalize(ins);
	sqlite3_finalize(hq);
	sqlite3_finalize(pt);
	return rc;
}

/* The hook's committed: takes a point at pos when one is due.  A failure
 * is not the projector's: it is counted and kept (sl_proj_snapshot_usage()),
 * and catch-up goes on. */
static void snap_committed(void *ctx, sl_proj *p, uint64_t pos, uint32_t crc)
{
	struct sl_snap *s = ctx;
	if (!snap_due(s, pos))
		return;
	if (take(s, p, pos, crc) == SL_OK) {
		s->prev = pos;
		if (s->next <= pos)
			s->next = UINT64_MAX;
		return;
	}
	/* Try again a period later. */
	s->failures++;
	s->backoff = pos + s->o.every;
}

/* ---- finding sound points and entries ------------------------------------ */

void sl_snap_point_free(struct sl_snap_point *pt)
{
	if (pt) {
		free(pt->ties);
		pt->ties = NULL;
	}
}

/* Deletes what cannot be used (best effort: a store we cannot write is
 * simply passed over, the caller moving its bound below it). */
static void discard(struct sl_snap *s, const char *sql, uint64_t seq, const char *job)
{
	sqlite3_stmt *st = prep(s->db, sql);
	if (!st)
		return;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
	if (job)
		sqlite3_bind_text(st, 2, job, -1, SQLITE_STATIC);
	sqlite3_step(st);
	sqlite3_finalize(st);
}

static void discard_point(struct sl_snap *s, uint64_t seq)
{
	discard(s, "DELETE FROM snap_entries WHERE seq = ?1", seq, NULL);
	discard(s, "DELETE FROM snap_points WHERE seq = ?1", seq, NULL);
}

/* Reads the point row at seq (any, kept or not) and checks it: its crc,
 * its log, and the log's commit crc at seq.  *sound false (with the reason
 * noted and the point discarded) when it fails. */
static int check_point(struct sl_snap *s, sqlite3_stmt *st, const char *log_id,
		       struct sl_fetch *f, struct sl_snap_point *out, bool *sound,
		       struct sl_snap_notes *rep)
{
	*sound = false;
	uint64_t seq = (uint64_t)sqlite3_column_int64(st, 0);
	const char *plog = (const char *)sqlite3_column_text(st, 1);
	uint32_t ccrc = (uint32_t)sqlite3_column_int64(st, 2);
	int64_t time_us = sqlite3_column_int64(st, 3);
	int64_t hist = sqlite3_column_int64(st, 4);
	const char *ties = (const char *)sqlite3_column_text(st, 5);
	uint32_t crc = (uint32_t)sqlite3_column_int64(st, 6);
	if (!plog || !ties) {
		sl_snap_note(rep, false, "%s: point %" PRIu64 ": damaged (missing columns): discarded",
			   s->path, seq);
		return SL_OK;
	}
	if (strcmp(plog, log_id) != 0) {
		sl_snap_note(rep, true, "%s: point %" PRIu64 ": of log %s, not this one: discarded",
			   s->path, seq, plog);
		return SL_OK;
	}
	if (point_crc(seq, plog, ccrc, time_us, hist, ties) != crc) {
		sl_snap_note(rep, false, "%s: point %" PRIu64 ": checksum mismatch: discarded",
			   s->path, seq);
		return SL_OK;
	}
	uint32_t lcrc = ccrc;
	int64_t ltime = time_us;
	int rc = SL_OK;
	bool known = false;
	for (size_t i = 0; i < s->n_verified && !known; i++)
		known = s->verified[i] == seq;
	if (!known)
		rc = sl_fetch_crc(&lcrc, &ltime, f, seq);
	if (rc == SL_ENOTFOUND || (rc == SL_OK && (lcrc != ccrc || ltime != time_us))) {
		sl_snap_note(rep, false, "%s: point %" PRIu64 ": does not match the log "
			   "(its commit there differs): discarded", s->path, seq);
		return SL_OK;
	}
	if (rc != SL_OK)
		return rc;
	if (!known && s->n_verified < SNAP_VERIFIED)
		s->verified[s->n_verified++] = seq;
	out->seq = seq;
	out->commit_crc = ccrc;
	out->time_us = time_us;
	out->hist_seq = hist;
	if (!(out->ties = strdup(ties)))
		return SL_ENOMEM;
	*sound = true;
	return SL_OK;
}

#define POINT_COLS "seq, log_id, commit_crc, time_us, hist_seq, ties, crc"
#define POINT_COLS_P "seq, p.log_id, p.commit_crc, p.time_us, p.hist_seq, p.ties, p.crc"

int sl_snap_find_point(struct sl_snap_point *out, struct sl_snap *s, const char *log_id,
		       uint64_t max_seq, struct sl_fetch *f, struct sl_snap_notes *rep)
{
	int rc = snap_open(s, false, log_id, rep);
	if (rc != SL_OK)
		return rc == SL_ENOTFOUND ? rc : SL_ENOTFOUND;  /* no usable store */
	sqlite3_stmt *st = prep(s->db, "SELECT " POINT_COLS " FROM snap_points WHERE kept = 1 "
				"AND seq <= ? ORDER BY seq DESC LIMIT 1");
	if (!st)
		return SL_ENOTFOUND;
	for (;;) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)max_seq);
		if (sqlite3_step(st) != SQLITE_ROW) {
			rc = SL_ENOTFOUND;
			break;
		}
		bool sound;
		struct sl_snap_point pt = { 0 };
		uint64_t seq = (uint64_t)sqlite3_column_int64(st, 0);
		rc = check_point(s, st, log_id, f, &pt, &sound, rep);
		sqlite3_reset(st);
		if (rc != SL_OK)
			break;
		if (sound) {
			*out = pt;
			break;
		}
		discard_point(s, seq);
		if (seq == 0)
			break;
		max_seq = seq - 1;
	}
	sqlite3_finalize(st);
	return rc;
}

int sl_snap_find_state(struct sl_job_state *out, uint64_t *seq_out, struct sl_snap *s,
		       const char *log_id, const char *job_id, uint64_t max_seq,
		       struct sl_fetch *f, struct sl_snap_notes *rep)
{
	int rc = snap_open(s, false, log_id, rep);
	if (rc != SL_OK)
		return SL_ENOTFOUND;
	sqlite3_stmt *st = prep(s->db, "SELECT p." POINT_COLS_P ", e.seq, e.state, e.crc "
				"FROM snap_entries e LEFT JOIN snap_points p ON p.seq = e.seq "
				"WHERE e.job_id = ? AND e.seq <= ? ORDER BY e.seq DESC LIMIT 1");
	if (!st)
		return SL_ENOTFOUND;
	for (;;) {
		sqlite3_bind_text(st, 1, job_id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)max_seq);
		if (sqlite3_step(st) != SQLITE_ROW) {
			rc = SL_ENOTFOUND;
			break;
		}
		uint64_t seq = (uint64_t)sqlite3_column_int64(st, 7);
		bool sound = false;
		struct sl_snap_point pt = { 0 };
		const char *drop = "DELETE FROM snap_entries WHERE seq = ?1 AND job_id = ?2";
		if (sqlite3_column_type(st, 0) == SQLITE_NULL) {
			sl_snap_note(rep, false, "%s: job %s at %" PRIu64 ": its point is gone: "
				   "discarded", s->path, job_id, seq);
		} else if ((rc = check_point(s, st, log_id, f, &pt, &sound, rep)) != SL_OK) {
			break;
		} else if (!sound) {
			drop = NULL;
		} else {
			const void *img = sqlite3_column_blob(st, 8);
			size_t len = (size_t)sqlite3_column_bytes(st, 8);
			uint32_t crc = (uint32_t)sqlite3_column_int64(st, 9);
			struct sl_job_state js;
			if (!img || entry_crc(log_id, seq, pt.commit_crc, job_id, img, len) != crc) {
				sl_snap_note(rep, false, "%s: job %s at %" PRIu64 ": checksum mismatch: "
					   "discarded", s->path, job_id, seq);
			} else if ((rc = sl_image_decode(&js, img, len)) == SL_OK) {
				sl_snap_point_free(&pt);
				*seq_out = seq;
				*out = js;
				break;
			} else if (rc == SL_ECORRUPT) {
				sl_snap_note(rep, false, "%s: job %s at %" PRIu64 ": not a state image: "
					   "discarded", s->path, job_id, seq);
				rc = SL_OK;
			} else {
				sl_snap_point_free(&pt);
				break;
			}
		}
		sqlite3_reset(st);
		sl_snap_point_free(&pt);
		if (drop)
			discard(s, drop, seq, job_id);
		else
			discard_point(s, seq);
		if (seq == 0) {
			rc = SL_ENOTFOUND;
			break;
		}
		max_seq = seq - 1;
	}
	sqlite3_finalize(st);
	return rc;
}

static int snap_usage(struct sl_snap *s, uint64_t *points, uint64_t *bytes);

int sl_proj_snapshot_usage(struct sl_snapshot_usage *out, sl_proj *p)
{
	*out = (struct sl_snapshot_usage){ 0 };
	if (!p->snap)
		return SL_OK;
	out->failures = p->snap->failures;
	snprintf(out->last_failure, sizeof out->last_failure, "%s", p->snap->errmsg);
	struct sl_keyframe kf;
	char *kf_path = sl_keyframe_path(p);
	struct stat sb;
	if (kf_path && stat(kf_path, &sb) == 0)
		out->keyframe_bytes = (uint64_t)sb.st_size;
	free(kf_path);
	char saved[sizeof p->errmsg];
	memcpy(saved, p->errmsg, sizeof saved);         /* a bad keyframe is not this call's failure */
	if (out->keyframe_bytes && sl_keyframe_read(p, &kf) == SL_OK)
		out->keyframe_seq = kf.seq;
	memcpy(p->errmsg, saved, sizeof saved);
	return snap_usage(p->snap, &out->points, &out->bytes);
}

/* The number of kept points, and the bytes of the store file (with its
 * -wal). */
static int snap_usage(struct sl_snap *s, uint64_t *points, uint64_t *bytes)
{
	*points = 0;
	*bytes = 0;
	struct stat sb;
	if (stat(s->path, &sb) != 0)
		return SL_OK;
	*bytes = (uint64_t)sb.st_size;
	char *wal;
	if (asprintf(&wal, "%s-wal", s->path) >= 0) {
		if (stat(wal, &sb) == 0)
			*bytes += (uint64_t)sb.st_size;
		free(wal);
	}
	if (!s->db)
		refresh_bounds(s, 0);
	sqlite3_stmt *st = s->db ? prep(s->db, "SELECT count(*) FROM snap_points WHERE kept = 1")
				 : NULL;
	if (st && sqlite3_step(st) == SQLITE_ROW)
		*points = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return SL_OK;
}
