/* project.c: the projector (projector.h): opening a log's views, catching
 * them up, and reading a job back.  Rebuilding is in rebuild.c.
 *
 * Catch-up runs in transactions of about opts.batch_events events, always
 * ending at the end of a log commit (a commit is visible in the views all
 * or nothing, as in the log).  Within a transaction:
 *  - every event gets its statelog_events row, and an execution record its
 *    execution_history row;
 *  - the states of the jobs touched are loaded once (cache.c) and the
 *    events applied with sl_rules_apply(); a job deletion deletes its rows
 *    at once (so the history written before it goes too);
 *  - when the transaction ends each changed jobs row and each changed
 *    sheets row is written once, then the position (last_seq and the crc
 *    of its commit), then COMMIT.  Exactly once: the position moves in the
 *    same transaction as the rows.
 * Foreign keys stay immediate: a job's row is written as soon as the job
 * is new to the database, so the history rows and sheets rows that follow
 * always find it.  Any failure rolls the transaction back and empties the
 * cache, so memory never holds what the database does not.
 *
 * Which rows an event changes: the jobs row for every event the rules
 * accept, except execution_recorded (history only) and job_deleted (rows
 * deleted); the sheets row of the sheet the event names (sl_event_sheet()),
 * when the job has one.  No rule of the model changes any other row; the
 * tests compare the views with states replayed event by event.
 *
 * An event the rules refuse (SL_EINVAL) changes nothing, in the model and
 * in the views; it is counted, and listed in statelog_events like every
 * event of the log.  An event of a type this build does not know stops
 * catch-up before its commit with SL_EUNKNOWN, naming it; it is never
 * skipped silently (opts.skip_unknown counts and skips it).
 */
#include "views_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <dirent.h>
#include <string.h>
#include <time.h>

#include "event_internal.h"
#include "timefmt.h"

#define PROJ_DEFAULT_BATCH 50000
/* A catch-up at least this many events behind reads the log in a thread. */
#define PROJ_THREAD_MIN 20000
/* Job states kept in memory between transactions (estimated bytes). */
#define PROJ_CACHE_BUDGET ((size_t)16 << 20)
/* SQLite page cache of a catching-up connection, KiB. */
#define PROJ_SQLITE_CACHE_KIB 16384
#define PROJ_PROGRESS_EVERY 8192

void sl_proj_set_error(struct sl_proj *p, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->errmsg, sizeof p->errmsg, fmt, ap);
	va_end(ap);
}

void sl_proj_options_init(struct sl_proj_options *o)
{
	*o = (struct sl_proj_options){ .batch_events = PROJ_DEFAULT_BATCH };
}

int sl_proj_sql_fail(struct sl_proj *p, const char *what)
{
	return sl_sql_fail(p->errmsg, sizeof p->errmsg, p->db, p->db_path, what);
}

#define sql_fail sl_proj_sql_fail

/* Steps a prepared statement without results and resets it. */
static int step(struct sl_proj *p, sqlite3_stmt *st, const char *what)
{
	int s = sqlite3_step(st);
	int rc = s == SQLITE_DONE || s == SQLITE_ROW ? SL_OK : sql_fail(p, what);
	sqlite3_reset(st);
	return rc;
}

/* ---- the handle -------------------------------------------------------- */

int sl_proj_alloc(struct sl_proj **out, const char *log_dir, const char *db_path,
		  const struct sl_proj_options *opts)
{
	struct sl_proj *p = calloc(1, sizeof *p);
	if (!p)
		return SL_ENOMEM;
	if (opts)
		p->opts = *opts;
	else
		sl_proj_options_init(&p->opts);
	if (p->opts.batch_events == 0)
		p->opts.batch_events = PROJ_DEFAULT_BATCH;
	if (p->opts.reader) {
		p->ropts = *p->opts.reader;
		p->has_ropts = true;
	}
	p->opts.reader = NULL;          /* the caller's pointer may not last */
	p->log_dir = strdup(log_dir);
	p->db_path = strdup(db_path);
	if (!p->log_dir || !p->db_path || sl_cache_init(&p->cache, PROJ_CACHE_BUDGET)) {
		free(p->log_dir);
		free(p->db_path);
		sl_cache_free(&p->cache);
		free(p);
		return SL_ENOMEM;
	}
	*out = p;
	return SL_OK;
}

int sl_proj_open_reader(struct sl_proj *p)
{
	int rc = sl_reader_open(&p->reader, p->log_dir, p->has_ropts ? &p->ropts : NULL,
				p->errmsg, sizeof p->errmsg);
	if (rc != SL_OK)
		return rc;
	uint8_t id[SL_LOG_ID_SIZE];
	sl_reader_log_id(id, p->reader);
	sl_log_id_format(p->log_id, id);
	return SL_OK;
}

int sl_proj_open_conn(struct sl_proj *p, int cache_kib, const char *vfs)
{
	/* No SQLite mutex: a handle is used by one thread at a time (the
	 * caller serializes, as for everything in it). */
	if (sqlite3_open_v2(p->db_path, &p->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			    SQLITE_OPEN_NOMUTEX, vfs) != SQLITE_OK) {
		sl_proj_msg(p, "%s: %s", p->db_path, p->db ? sqlite3_errmsg(p->db) : "out of memory");
		return SL_ESQLITE;
	}
	sqlite3_extended_result_codes(p->db, 1);
	sqlite3_busy_timeout(p->db, SL_PROJ_BUSY_MS);
	/* Triggers off: the views' triggers count the writes of other
	 * programs only (schema/views.sql, foreign_writes). */
	if (sqlite3_db_config(p->db, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, (int *)NULL) != SQLITE_OK) {
		sl_proj_msg(p, "%s: turning triggers off: %s", p->db_path, sqlite3_errmsg(p->db));
		return SL_ESQLITE;
	}
	/* page_size first: it only matters to a database with no table yet,
	 * and setting it after cache_size would unbound the page cache. */
	char sql[200], msg[512];
	snprintf(sql, sizeof sql, "PRAGMA page_size = %d; PRAGMA foreign_keys = ON; "
		 "PRAGMA synchronous = OFF; PRAGMA cache_size = -%d", SL_PROJ_PAGE_SIZE,
		 cache_kib);
	if (sl_rows_exec(p->db, sql, msg, sizeof msg) != SL_OK) {
		sl_proj_msg(p, "%s: %s", p->db_path, msg);
		return SL_ESQLITE;
	}
	return SL_OK;
}

/* Reads the committed position (inside or outside a transaction) and, when
 * foreign is not NULL, the rows other programs wrote (views.sql). */
static int read_pos(struct sl_proj *p, uint64_t *seq, uint32_t *crc, int64_t *foreign)
{
	if (sqlite3_step(p->get_pos) != SQLITE_ROW) {
		sqlite3_reset(p->get_pos);
		return sql_fail(p, "reading the position");
	}
	*seq = (uint64_t)sqlite3_column_int64(p->get_pos, 0);
	*crc = (uint32_t)sqlite3_column_int64(p->get_pos, 1);
	if (foreign)
		*foreign = sqlite3_column_int64(p->get_pos, 2);
	sqlite3_reset(p->get_pos);
	return SL_OK;
}

int sl_proj_attach(struct sl_proj *p)
{
	int rc = sl_rows_prepare(&p->v, p->db);
	if (rc != SL_OK) {
		sl_proj_msg(p, "%s: %s", p->db_path, p->v.errmsg);
		return rc;
	}
	static const char *const sql[] = {
		"BEGIN IMMEDIATE", "COMMIT", "ROLLBACK",
		("SELECT (SELECT value FROM statelog_meta WHERE key = 'last_seq'), "
		 "(SELECT value FROM statelog_meta WHERE key = 'last_commit_crc'), "
		 "(SELECT value FROM statelog_meta WHERE key = 'foreign_writes')"),
	};
	sqlite3_stmt **st[] = { &p->begin, &p->commit, &p->rollback, &p->get_pos };
	for (size_t i = 0; i < sizeof st / sizeof st[0]; i++)
		if (sqlite3_prepare_v3(p->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, st[i],
				       NULL) != SQLITE_OK)
			return sql_fail(p, "preparing statements");
	return read_pos(p, &p->pos, &p->pos_crc, NULL);
}

int sl_proj_detach(struct sl_proj *p)
{
	sqlite3_stmt **all[] = { &p->begin, &p->commit, &p->rollback, &p->get_pos };
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
		sqlite3_finalize(*all[i]);
		*all[i] = NULL;
	}
	sl_rows_finalize(&p->v);
	int rc = SL_OK;
	if (p->db && sqlite3_close(p->db) != SQLITE_OK)
		rc = sl_proj_sql_fail(p, "closing");
	p->db = NULL;
	sl_cache_clear(&p->cache);
	return rc;
}

int sl_proj_create_views(sqlite3 *db, const char *log_id_hex, char *err, size_t errlen)
{
	int rc = sl_rows_exec(db, "BEGIN IMMEDIATE", err, errlen);
	if (rc != SL_OK)
		return rc;
	rc = sl_rows_create(db, log_id_hex, sl_time_now_us(), err, errlen);
	if (rc == SL_OK)
		return sl_rows_exec(db, "COMMIT", err, errlen);
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

/* ---- opening ----------------------------------------------------------- */

/* Whether the log still holds the database's last applied event in a
 * commit with the same crc.  *why says what is wrong when it does not. */
static int check_position(struct sl_proj *p, uint64_t seq, uint32_t crc, bool *ok,
			  char *why, size_t whylen)
{
	*ok = true;
	if (seq == 0)
		return SL_OK;
	struct sl_record rec;
	int rc = sl_reader_seek_seq(p->reader, seq);
	if (rc == SL_OK)
		rc = sl_reader_next(&rec, p->reader);
	if (rc < 0) {
		sl_proj_msg(p, "%s", sl_reader_errmsg(p->reader));
		return rc;
	}
	uint64_t last = rc == 1 ? (rec.lost ? rec.seq + rec.lost - 1 : rec.seq) : 0;
	if (rc == 0 || rec.seq > seq || last < seq) {
		*ok = false;
		snprintf(why, whylen, "it is ahead of the log (it applied seq %llu, which the log "
			 "does not hold)", (unsigned long long)seq);
	} else if (rec.commit_crc != crc) {
		*ok = false;
		snprintf(why, whylen, "it diverged from the log (its seq %llu is in another "
			 "commit)", (unsigned long long)seq);
	}
	return SL_OK;
}

/* Whether recovery ever cut a torn tail from this log (it keeps the bytes
 * in "<segment>.cut-<offset>" beside it). */
static bool log_tail_was_cut(const char *log_dir)
{
	DIR *d = opendir(log_dir);
	if (!d)
		return false;
	bool cut = false;
	struct dirent *de;
	while (!cut && (de = readdir(d)) != NULL)
		cut = strstr(de->d_name, ".seg.cut-") != NULL;
	closedir(d);
	return cut;
}

/* Opens the database, creating the views when it is empty.  *rebuild (with
 * why) when the database is of another views version or ahead of the log. */
static int open_db(struct sl_proj *p, bool *rebuild, char *why, size_t whylen)
{
	struct sl_rows_meta m;
	char msg[512];
	*rebuild = false;
	int rc = sl_proj_open_conn(p, PROJ_SQLITE_CACHE_KIB, NULL);
	if (rc != SL_OK)
		return rc;
	/* Twice at most: an empty database is created, then checked. */
	int busy_tries = 0;
	for (int pass = 0;; pass++) {
		if (sl_rows_read_meta(p->db, &m, msg, sizeof msg) != SL_OK) {
			sl_proj_msg(p, "%s: %s", p->db_path, msg);
			return SL_ESQLITE;
		}
		if (m.has_meta || m.n_tables > 0 || pass > 0)
			break;
		/* Empty: create the views (sl_proj_open_conn() set the page size),
		 * in WAL mode from the first write, so that the live views never
		 * have a rollback journal (a crash mid-creation leaves a WAL that
		 * SQLite ignores, not a hot journal that a copy of the file would
		 * need).  A process that won the race has created them. */
		if (sl_rows_exec(p->db, "PRAGMA journal_mode = WAL", msg, sizeof msg) ||
		    sl_rows_exec(p->db, "BEGIN IMMEDIATE", msg, sizeof msg) ||
		    sl_rows_read_meta(p->db, &m, msg, sizeof msg) ||
		    (m.n_tables == 0 && sl_rows_create(p->db, p->log_id, sl_time_now_us(), msg,
							sizeof msg)) ||
		    sl_rows_exec(p->db, "COMMIT", msg, sizeof msg)) {
			int code = sqlite3_errcode(p->db) & 0xff;
			sqlite3_exec(p->db, "ROLLBACK", NULL, NULL, NULL);
			/* Another process creating them at the same moment: the
			 * journal mode's change does not wait for it (no busy
			 * handler), so wait here, then look again. */
			if ((code == SQLITE_BUSY || code == SQLITE_LOCKED) &&
			    ++busy_tries * 10 < SL_PROJ_BUSY_MS) {
				struct timespec ts = { 0, 10 * 1000 * 1000 };
				nanosleep(&ts, NULL);
				pass = -1;
				continue;
			}
			sl_proj_msg(p, "%s: creating the views: %s", p->db_path, msg);
			return SL_ESQLITE;
		}
	}
	if (!m.has_meta) {
		sl_proj_msg(p, "%s: not a statelog database (it has tables but no statelog_meta); "
			    "it is left alone", p->db_path);
		return SL_EFOREIGN;
	}
	if (strcmp(m.log_id, p->log_id) != 0) {
		sl_proj_msg(p, "%s: projected from log %s, not from %s (log %s)", p->db_path,
			    m.log_id, p->log_dir, p->log_id);
		return SL_EFOREIGN;
	}
	if (m.views_version != SL_VIEWS_VERSION) {
		*rebuild = true;
		snprintf(why, whylen, "its views are version %lld, this build writes %d",
			 (long long)m.views_version, SL_VIEWS_VERSION);
		return SL_OK;
	}
	if (m.foreign_writes && !m.as_of_seq) {
		*rebuild = true;
		snprintf(why, whylen, "%lld row change(s) in it were written by another program, "
			 "not by statelog: the views are re-derived from the log",
			 (long long)m.foreign_writes);
		return SL_OK;
	}
	if (m.as_of_seq) {
		/* Written by `statelog at`: read as it is, never caught up. */
		p->as_of_seq = m.as_of_seq;
		return sl_proj_attach(p);
	}
	bool ok;
	if ((rc = check_position(p, m.last_seq, m.last_crc, &ok, why, whylen)))
		return rc;
	if (!ok) {
		/* Views ahead of (or diverged from) their log.  A crash can do
		 * that only where recovery cut a torn tail the views had seen
		 * (it keeps the bytes aside, "*.seg.cut-*"): then the views are
		 * rebuilt, and said to be.  Anything else means the log lost
		 * events the views hold (a segment deleted, a log restored from
		 * an older copy): never rebuilt backwards unless asked for. */
		if (!log_tail_was_cut(p->log_dir)) {
			uint64_t last = 0;
			(void)sl_proj_log_last_seq(&last, p);
			sl_proj_msg(p, "%s: the views are at seq %llu but the log %s ends at seq %llu: "
				    "the log has lost events the views hold (%s); run statelog verify, "
				    "and statelog rebuild to rebuild the views from the log as it is",
				    p->db_path, (unsigned long long)m.last_seq, p->log_dir,
				    (unsigned long long)last, why);
			return SL_ECORRUPT;
		}
		*rebuild = true;
		return SL_OK;
	}
	/* Ours: WAL, so dashboards read while catch-up writes. */
	if (sl_rows_exec(p->db, "PRAGMA journal_mode = WAL", msg, sizeof msg) != SL_OK) {
		sl_proj_msg(p, "%s: %s", p->db_path, msg);
		return SL_ESQLITE;
	}
	return sl_proj_attach(p);
}

/* ---- open ---------------------------------------------------------------- */

int sl_proj_open(sl_proj **out, const char *log_dir, const char *db_path,
		 const struct sl_proj_options *opts, struct sl_proj_stats *stats,
		 char *err, size_t errlen)
{
	struct sl_proj *p = NULL;
	struct sl_proj_stats st = { 0 };
	int rc = sl_proj_alloc(&p, log_dir, db_path, opts);
	if (rc != SL_OK) {
		if (err && errlen)
			snprintf(err, errlen, "out of memory");
		return rc;
	}
	if ((rc = sl_proj_open_reader(p)))
		goto fail;
	if (p->opts.copy_if_read_only && sl_proj_views_unwritable(db_path) &&
	    (rc = sl_proj_copy_views(p)) != SL_OK)
		goto fail;
	db_path = p->db_path;
	if (!p->opts.no_snapshots && (rc = sl_snap_attach(p, false)))
		goto fail;
	for (int pass = 0;; pass++) {
		bool rebuild;
		char why[256] = "";
		if ((rc = open_db(p, &rebuild, why, sizeof why)))
			goto fail;
		if (!rebuild)
			break;
		sl_proj_detach(p);
		if (pass > 0) {
			sl_proj_msg(p, "%s: still stale after a rebuild: %s", db_path, why);
			rc = SL_ECORRUPT;
			goto fail;
		}
		rc = sl_proj_rebuild(log_dir, db_path, opts, &st, p->errmsg, sizeof p->errmsg);
		if (rc != SL_OK)
			goto fail;
		snprintf(st.rebuilt_why, sizeof st.rebuilt_why, "%s", why);
	}
	st.last_seq = p->pos;
	if (stats)
		*stats = st;
	*out = p;
	return SL_OK;
fail:
	sl_proj_name_original(p, p->errmsg, sizeof p->errmsg);
	if (err && errlen)
		snprintf(err, errlen, "%s", p->errmsg);
	sl_proj_close(p);
	return rc;
}

int sl_proj_close(sl_proj *p)
{
	if (!p)
		return SL_OK;
	int rc = sl_proj_detach(p);
	sl_cache_free(&p->cache);
	sl_reader_close(p->reader);
	for (size_t i = 0; i < p->n_hooks; i++)
		if (p->hooks[i].free)
			p->hooks[i].free(p->hooks[i].ctx);
	sl_proj_copy_remove(p);
	free(p->log_dir);
	free(p->db_path);
	free(p);
	return rc;
}

/* ---- the handle, seen from above (views.h) ----------------------------- */

const char *sl_proj_log_dir(const sl_proj *p)
{
	return p->log_dir;
}

const char *sl_proj_db_path(const sl_proj *p)
{
	return p->db_path;
}

const char *sl_proj_log_id(const sl_proj *p)
{
	return p->log_id;
}

sl_reader *sl_proj_reader(sl_proj *p)
{
	return p->reader;
}

struct sl_snap *sl_proj_snapshots(sl_proj *p)
{
	return p->snap;
}

int sl_proj_log_last_seq(uint64_t *out, sl_proj *p)
{
	int rc = sl_reader_last_seq(out, p->reader);
	if (rc != SL_OK)
		sl_proj_msg(p, "%s", sl_reader_errmsg(p->reader));
	return rc;
}

int sl_proj_add_hook(sl_proj *p, const struct sl_proj_hook *h)
{
	if (p->n_hooks == SL_PROJ_MAX_HOOKS) {
		sl_proj_msg(p, "too many hooks on one projector");
		return SL_EINVAL;
	}
	p->hooks[p->n_hooks++] = *h;
	return SL_OK;
}

/* Whether any hook wants the transaction to end at pos. */
static bool hooks_break_due(struct sl_proj *p, uint64_t pos)
{
	bool due = false;
	for (size_t i = 0; i < p->n_hooks; i++)
		if (p->hooks[i].break_due && p->hooks[i].break_due(p->hooks[i].ctx, pos))
			due = true;
	return due;
}

static void hooks_committed(struct sl_proj *p)
{
	for (size_t i = 0; i < p->n_hooks; i++)
		if (p->hooks[i].committed)
			p->hooks[i].committed(p->hooks[i].ctx, p, p->pos, p->pos_crc);
}

int sl_proj_committed_state(struct sl_job_state *out, sl_proj *p, const char *job_id)
{
	struct sl_job_state st;
	sl_state_init(&st);
	struct sl_cent *e = sl_cache_find(&p->cache, job_id);
	int rc = e && e->st.presence == SL_JOB_LIVE ? sl_state_copy(&st, &e->st)
						     : sl_rows_load_job(&p->v, job_id, &st);
	if (rc == SL_ENOTFOUND) {
		sl_state_init(&st);
		rc = SL_OK;
	} else if (rc == SL_ENOMEM) {
		sl_proj_msg(p, "job %s: out of memory", job_id);
	} else if (rc != SL_OK) {
		sl_proj_msg(p, "%s: job %s: %s", p->db_path, job_id, p->v.errmsg);
	}
	if (rc == SL_OK)
		*out = st;
	return rc;
}

/* ---- catch-up ---------------------------------------------------------- */

/* The cache entry of job_id, read from the views on a miss (an entry for
 * a job the views do not hold is an absent state). */
static int get_entry(struct sl_proj *p, const char *job_id, struct sl_cent **out)
{
	struct sl_cent *e = sl_cache_find(&p->cache, job_id);
	if (e) {
		*out = e;
		return SL_OK;
	}
	struct sl_job_state st;
	sl_state_init(&st);
	int rc = sl_rows_load_job(&p->v, job_id, &st);
	if (rc != SL_OK && rc != SL_ENOTFOUND) {
		sl_proj_msg(p, "%s: %s", p->db_path, p->v.errmsg);
		return rc;
	}
	bool in_db = rc == SL_OK;
	rc = sl_cache_add(&p->cache, job_id, &st, out);
	sl_state_free(&st);
	if (rc == SL_OK)
		(*out)->in_db = in_db;
	else
		sl_proj_msg(p, "job %s: out of memory", job_id);
	return rc;
}

/* Writes every row the dirty entries hold, then marks them clean. */
static int flush(struct sl_proj *p)
{
	for (struct sl_cent *e = p->cache.dirty; e; e = e->dnext) {
		if (e->st.presence != SL_JOB_LIVE)
			continue;       /* deleted in this transaction: rows gone */
		int rc = e->job_dirty ? sl_rows_put_job(&p->v, &e->st) : SL_OK;
		size_t n = sl_cache_sheets_to_write(e);
		for (size_t i = 0; rc == SL_OK && i < n; i++) {
			const struct sl_sheet_state *sh = sl_state_find_sheet(&e->st, e->dsheets[i]);
			if (sh)
				rc = sl_rows_put_sheet(&p->v, e->key, sh);
		}
		if (rc != SL_OK) {
			sl_proj_msg(p, "%s: job %s: %s", p->db_path, e->key, p->v.errmsg);
			return rc;
		}
	}
	sl_cache_written(&p->cache);
	return SL_OK;
}

/* Writes the statelog_events rows of the pending events, and the
 * execution_history rows of those that have one, then frees them. */
static int write_pending(struct sl_proj *p, struct sl_feed *feed)
{
	struct sl_rows_event rows[SL_PROJ_PEND];
	struct sl_rows_exec execs[SL_PROJ_PEND];
	size_t n_exec = 0;
	for (size_t i = 0; i < p->n_pend; i++) {
		const struct sl_feed_item *it = &p->pend[i];
		rows[i] = (struct sl_rows_event){
			.seq = it->seq, .time = it->time, .job_id = it->ev->job_id,
			.sheet = sl_event_sheet(it->ev), .type = sl_event_type_name(it->ev),
		};
		if (p->pend_exec[i])
			execs[n_exec++] = (struct sl_rows_exec){
				.ev = it->ev, .time = it->time, .prompt_len = it->prompt_len,
				.output_len = it->output_len,
			};
	}
	int rc = sl_rows_put_events(&p->v, rows, p->n_pend);
	if (rc == SL_OK)
		rc = sl_rows_put_executions(&p->v, execs, n_exec);
	if (rc != SL_OK)
		sl_proj_msg(p, "%s: seq %llu-%llu: %s", p->db_path,
			    (unsigned long long)p->pend[0].seq,
			    (unsigned long long)p->pend[p->n_pend - 1].seq, p->v.errmsg);
	for (size_t i = 0; i < p->n_pend; i++)
		sl_feed_release(feed, &p->pend[i]);
	p->n_pend = 0;
	return rc;
}

/* Applies one event: the rules, and the rows it changes (written now, or
 * marked for the end of the transaction).  Its statelog_events row, and its
 * execution_history row when *exec_row, are written a little later, with
 * the next few (write_pending()). */
static int project_event(struct sl_proj *p, struct sl_feed *feed, const struct sl_feed_item *it,
			 struct sl_proj_run *run, bool *exec_row)
{
	const sl_event *ev = it->ev;
	uint32_t unknown = sl_event_unknown_type(ev);
	if (unknown) {
		if (!p->opts.skip_unknown) {
			run->unknown_seq = it->seq;
			run->unknown_commit = it->commit_first_seq;
			run->unknown_field = unknown;
			return SL_EUNKNOWN;
		}
		run->st.unknown_events++;
		return SL_OK;
	}
	struct sl_cent *e = NULL;
	struct sl_refusal why;
	int rc = ev->job_id ? get_entry(p, ev->job_id, &e) : SL_OK;
	if (rc != SL_OK)
		return rc;
	if (e) {
		rc = sl_rules_apply(&e->st, ev, &why);
		if (rc == SL_ENOTFOUND && e->st.presence == SL_JOB_ABSENT && !e->in_db) {
			/* Absent as far as this run knows: if the views show the job
			 * was deleted, the rules say so, as they did to the process
			 * that saw the deletion (looked up only on a refusal). */
			struct sl_job_state del;
			int drc = sl_rows_load_deleted(&p->v, e->key, &del);
			if (drc == SL_OK) {
				sl_state_free(&e->st);
				e->st = del;
				rc = sl_rules_apply(&e->st, ev, &why);
			} else if (drc != SL_ENOTFOUND) {
				sl_proj_msg(p, "%s: %s", p->db_path, drc == SL_ENOMEM ? "out of memory"
										       : p->v.errmsg);
				return drc;
			}
		}
	} else {
		rc = SL_EINVAL;
		why = (struct sl_refusal){ .code = rc, .field = "job_id", .reason = "no job_id" };
	}
	if (sl_rules_refused(rc)) {
		/* Refused by the rules: the model does not change, nor do the views. */
		if (!run->st.rejected_events++) {
			run->st.first_rejected_seq = it->seq;
			run->st.first_refusal = why;
		}
		return SL_OK;
	}
	if (rc != SL_OK) {
		/* SL_ENOMEM (SL_EUNKNOWN cannot pass the check above) */
		sl_proj_msg(p, "seq %llu: applying the event: out of memory",
			    (unsigned long long)it->seq);
		return rc;
	}
	const char *what = "";
	switch (ev->body_case) {
	case STATELOG__EVENT__BODY_JOB_DELETED:
		/* The history rows still pending go first, so they go with it. */
		if ((rc = write_pending(p, feed)) != SL_OK)
			return rc;
		sl_cache_unmark(&p->cache, e);
		e->in_db = false;
		rc = sl_rows_delete_job(&p->v, e->key);
		break;
	case STATELOG__EVENT__BODY_EXECUTION_RECORDED:
		*exec_row = true;
		return SL_OK;
	default: {
		/* A job new to the database gets its row now, so that the rows
		 * referring to it find it; later changes are written at the end. */
		if (!e->in_db) {
			what = "a new job: ";
			if ((rc = sl_rows_put_job(&p->v, &e->st)))
				break;
			e->in_db = true;
		}
		int64_t sheet = sl_event_sheet(ev);
		const struct sl_sheet_state *sh = sheet > 0 ? sl_state_find_sheet(&e->st, sheet) : NULL;
		if ((rc = sl_cache_mark(&p->cache, e, true, sh ? sheet : 0, it->len)) != SL_OK)
			sl_proj_msg(p, "seq %llu: out of memory", (unsigned long long)it->seq);
		return rc;
	}
	}
	if (rc != SL_OK)
		sl_proj_msg(p, "%s: seq %llu: %s%s", p->db_path, (unsigned long long)it->seq, what,
			    p->v.errmsg);
	return rc;
}

/* When the states in memory outgrow the budget in mid-transaction: drop the
 * coldest clean ones, and if that is not enough write the dirty ones (they
 * become clean) and drop again. */
static int relieve(struct sl_proj *p)
{
	sl_cache_evict(&p->cache);
	if (p->cache.bytes <= p->cache.budget)
		return SL_OK;
	int rc = flush(p);
	if (rc == SL_OK)
		sl_cache_evict(&p->cache);
	return rc;
}

/* Runs one transaction.  *more is false once the log (or run->limit) is
 * reached; *restart when another process moved the position (the feed must
 * start again from p->pos + 1). */
static int run_batch(struct sl_proj *p, struct sl_feed *feed, struct sl_proj_run *run,
		     bool *more, bool *restart)
{
	uint64_t pos0 = p->pos, seq = 0;
	uint32_t crc0 = p->pos_crc, crc = 0;
	uint64_t n = 0, events = 0, gaps = 0;
	struct sl_proj_run saved = *run;
	*restart = false;
	int rc = step(p, p->begin, "BEGIN");
	if (rc != SL_OK)
		return rc;
	if ((rc = read_pos(p, &seq, &crc, NULL)))
		goto fail;
	if (seq != p->pos || crc != p->pos_crc) {
		/* Another projector committed since: start again from there. */
		step(p, p->rollback, "ROLLBACK");
		sl_cache_clear(&p->cache);
		p->pos = seq;
		p->pos_crc = crc;
		*restart = true;
		return SL_OK;
	}
	for (;;) {
		struct sl_feed_item it;
		rc = sl_feed_next(feed, &it);
		if (rc == 0) {
			*more = false;
			break;
		}
		if (rc < 0) {
			sl_proj_msg(p, "%s", sl_feed_errmsg(feed));
			goto fail;
		}
		uint64_t last = it.lost ? it.seq + it.lost - 1 : it.seq;
		if (last <= p->pos || it.seq > run->limit) {
			/* Before the position (a gap begun earlier), or past the limit. */
			sl_feed_release(feed, &it);
			if (it.seq <= run->limit)
				continue;
			*more = false;
			break;
		}
		if (it.lost) {
			gaps += last - (it.seq > p->pos ? it.seq : p->pos + 1) + 1;
			sl_feed_release(feed, &it);
		} else {
			bool exec_row = false;
			rc = project_event(p, feed, &it, run, &exec_row);
			events++;
			p->pend_exec[p->n_pend] = exec_row;
			p->pend[p->n_pend++] = it;      /* released by write_pending() */
			if (rc == SL_OK && p->n_pend == SL_PROJ_PEND)
				rc = write_pending(p, feed);
			if (rc != SL_OK)
				goto fail;
		}
		p->pos = last;
		p->pos_crc = it.commit_crc;
		n++;
		if (p->opts.progress && ++run->done % PROJ_PROGRESS_EVERY == 0)
			p->opts.progress(p->opts.progress_ctx, run->done, run->total);
		if (p->cache.bytes > p->cache.budget && (rc = relieve(p)) != SL_OK)
			goto fail;
		/* A transaction ends where a hook wants it to (a snapshot mark,
		 * so that the point is taken where it is due). */
		if ((hooks_break_due(p, p->pos) || n >= p->opts.batch_events) && it.commit_end)
			break;
	}
	if (n == 0) {
		step(p, p->rollback, "ROLLBACK");
		return SL_OK;
	}
	if ((rc = write_pending(p, feed)) || (rc = flush(p)))
		goto fail;
	if ((rc = sl_rows_set_position(&p->v, p->pos, p->pos_crc))) {
		sl_proj_msg(p, "%s: %s", p->db_path, p->v.errmsg);
		goto fail;
	}
	if ((rc = step(p, p->commit, "COMMIT")))
		goto fail;
	run->st.transactions++;
	run->st.events_applied += events;
	run->st.gaps += gaps;
	hooks_committed(p);
	sl_cache_evict(&p->cache);
	return SL_OK;
fail:
	/* The transaction, and every state it touched, are dropped. */
	for (size_t i = 0; i < p->n_pend; i++)
		sl_feed_release(feed, &p->pend[i]);
	p->n_pend = 0;
	if (!sqlite3_get_autocommit(p->db))
		sqlite3_step(p->rollback);
	sqlite3_reset(p->rollback);
	sl_cache_clear(&p->cache);
	p->pos = pos0;
	p->pos_crc = crc0;
	run->st = saved.st;
	run->done = saved.done;
	return rc;
}

int sl_proj_catch_up_to(struct sl_proj *p, struct sl_proj_run *run)
{
	uint64_t last = 0;
	int rc = sl_reader_last_seq(&last, p->reader);
	if (rc != SL_OK) {
		sl_proj_msg(p, "%s", sl_reader_errmsg(p->reader));
		return rc;
	}
	if (last > run->limit)
		last = run->limit;
	if (last <= p->pos)
		return SL_OK;
	run->total = run->done + (last - p->pos);
	struct sl_feed *feed = NULL;
	bool more = true, restart = true;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (more && rc == SL_OK) {
		if (p->opts.max_wait_ms) {
			clock_gettime(CLOCK_MONOTONIC, &t1);
			int64_t ms = (t1.tv_sec - t0.tv_sec) * 1000 +
				     (t1.tv_nsec - t0.tv_nsec) / 1000000;
			if (ms >= (int64_t)p->opts.max_wait_ms && p->pos < last) {
				/* Out of time: the views answer as of p->pos. */
				run->st.behind = last - p->pos;
				break;
			}
		}
		if (restart) {
			sl_feed_stop(feed);
			feed = NULL;
			rc = sl_feed_start(&feed, p->reader, p->pos + 1,
					   last - p->pos >= PROJ_THREAD_MIN, p->errmsg,
					   sizeof p->errmsg);
			if (rc != SL_OK)
				break;
		}
		rc = run_batch(p, feed, run, &more, &restart);
	}
	sl_feed_stop(feed);
	if (p->opts.progress && rc == SL_OK)
		p->opts.progress(p->opts.progress_ctx, run->total, run->total);
	return rc;
}

uint64_t sl_proj_as_of_seq(sl_proj *p)
{
	return p->as_of_seq;
}

/* Rows written by another program since the views were last derived
 * (views.sql, foreign_writes): the views are derived again from the log,
 * copied in under this open handle as `statelog rebuild` does (its
 * statements stay valid; its cache, the log's, too), and said in *st. */
static int rederive_if_foreign(struct sl_proj *p, struct sl_proj_stats *st)
{
	uint64_t seq;
	uint32_t crc;
	int64_t foreign = 0;
	int rc = read_pos(p, &seq, &crc, &foreign);
	if (rc != SL_OK || foreign <= 0)
		return rc;
	struct sl_proj_stats rst;
	rc = sl_proj_rebuild(p->log_dir, p->db_path, &p->opts, &rst, p->errmsg,
			     sizeof p->errmsg);
	if (rc != SL_OK)
		return rc;
	if ((rc = read_pos(p, &p->pos, &p->pos_crc, NULL)) != SL_OK)
		return rc;
	st->rebuilt = true;
	snprintf(st->rebuilt_why, sizeof st->rebuilt_why, "%lld row change(s) in it were "
		 "written by another program, not by statelog: the views are re-derived from "
		 "the log", (long long)foreign);
	return SL_OK;
}

int sl_proj_catch_up(sl_proj *p, struct sl_proj_stats *stats)
{
	if (p->as_of_seq) {
		if (stats)
			*stats = (struct sl_proj_stats){ .last_seq = p->pos };
		return SL_OK;
	}
	struct sl_proj_run run = { .limit = UINT64_MAX };
	int rc = rederive_if_foreign(p, &run.st);
	if (rc != SL_OK)
		return rc;
	rc = sl_proj_catch_up_to(p, &run);
	if (rc == SL_EUNKNOWN) {
		/* The transaction holding the unknown event was rolled back: apply
		 * what comes before its commit, then report it. */
		struct sl_proj_run before = { .limit = run.unknown_commit - 1, .done = run.done,
					      .st = run.st };
		int rc2 = before.limit > p->pos ? sl_proj_catch_up_to(p, &before) : SL_OK;
		run.st = before.st;
		if (rc2 != SL_OK) {
			rc = rc2;
		} else {
			run.st.unknown_events++;
			sl_proj_msg(p, "%s: seq %llu: an event of a type this build does not know "
				    "(body field %u); the views stop before its commit, at seq %llu",
				    p->log_dir, (unsigned long long)run.unknown_seq,
				    run.unknown_field, (unsigned long long)p->pos);
		}
	}
	run.st.last_seq = p->pos;
	if (stats)
		*stats = run.st;
	return rc;
}

/* ---- reading ----------------------------------------------------------- */

uint64_t sl_proj_last_seq(sl_proj *p)
{
	return p->pos;
}

sqlite3 *sl_proj_db(sl_proj *p)
{
	return p->db;
}

int sl_proj_load_deleted(struct sl_job_state *out, sl_proj *p, const char *job_id)
{
	int rc = sl_rows_load_deleted(&p->v, job_id, out);
	if (rc == SL_ENOTFOUND)
		sl_proj_msg(p, "%s: no job %s", p->db_path, job_id);
	else if (rc != SL_OK)
		sl_proj_msg(p, "%s: %s", p->db_path, rc == SL_ENOMEM ? "out of memory" : p->v.errmsg);
	return rc;
}

int sl_proj_load_job(struct sl_job_state *out, sl_proj *p, const char *job_id)
{
	int rc = sl_rows_load_job(&p->v, job_id, out);
	if (rc == SL_ENOTFOUND)
		sl_proj_msg(p, "%s: no job %s", p->db_path, job_id);
	else if (rc != SL_OK)
		sl_proj_msg(p, "%s: %s", p->db_path, p->v.errmsg);
	return rc;
}

const char *sl_proj_errmsg(sl_proj *p)
{
	sl_proj_name_original(p, p->errmsg, sizeof p->errmsg);
	return p->errmsg;
}
