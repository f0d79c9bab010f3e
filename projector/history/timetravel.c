/* timetravel.c: a job, or the whole database, as of any event of the log
 * (timetravel.h), and the projector's time-related look-ups (projector.h:
 * sl_proj_load_job_at(), sl_proj_seq_at_time()).
 *
 * A job as of N: its newest sound snapshot entry at or before N (or nothing,
 * the log's start), then its own events after that and up to N, found
 * through the views' statelog_events index (job_id, seq) and read from the
 * log by sequence number (fetch.h), applied with sl_state_apply().
 *
 * The database as of N is built in a new file, in one of two ways:
 *  - from a sound point P <= N: the views as of P are assembled, then the
 *    projector's own catch-up applies (P, N].  As of P, a jobs or sheets
 *    row is the live one for every job with no event after P (its rows have
 *    not changed since), and for the others the job's state as of P (above);
 *    execution_history is the live rows executed before P's instant (the
 *    live rows whose job was not deleted since P), those of its instant that
 *    P lists, and, for each job deleted after P, its rows as of P rebuilt
 *    from its execution_recorded events (each row's id is in its event);
 *    statelog_events is the live rows up to P; sqlite_sequence and the
 *    position are P's.
 *  - from the start of the log (SL_TT_NO_SNAPSHOTS, no sound point, or an
 *    execution record without an id among the rows to rebuild, whose id
 *    only a full replay can tell): the projector's catch-up from nothing,
 *    as a rebuild does.
 * Either way, the two columns that say when a database was made
 * (schema_version.applied_at, statelog_meta created_at) are copied from the
 * live one, so the answers are the live views' as they were at N.
 */
#include "project_internal.h"
#include "event_internal.h"
#include "snapshot.h"
#include "timetravel.h"
#include "wbvfs.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "timefmt.h"

#define TT_CACHE_KIB 24576
/* Internal, positive: the views as of a point need a replay from the start. */
#define TT_NEED_REPLAY 1

int sl_proj_set_snapshots(sl_proj *p, const struct sl_snap_options *o)
{
	if (!o || o->every == 0 || o->keep_last == 0)
		return SL_EINVAL;
	if (!p->snap && sl_snap_new(&p->snap, p->db_path) != SL_OK)
		return SL_ENOMEM;
	sl_snap_configure(p->snap, o);
	return SL_OK;
}

int sl_tt_snapshot_usage(sl_proj *p, uint64_t *points, uint64_t *bytes)
{
	*points = 0;
	*bytes = 0;
	return p->snap ? sl_snap_usage(p->snap, points, bytes) : SL_OK;
}

/* ---- shared checks -------------------------------------------------------- */

/* seq must be 1 .. the log's last; the views are caught up to it. */
static int tt_prepare(struct sl_proj *p, uint64_t seq)
{
	uint64_t last = 0;
	int rc = sl_reader_last_seq(p->reader, &last);
	if (rc != SL_OK) {
		sl_proj_msg(p, "%s", sl_reader_errmsg(p->reader));
		return rc;
	}
	if (seq == 0 || seq > last) {
		if (last == 0)
			sl_proj_msg(p, "%s: seq %" PRIu64 ": the log is empty", p->log_dir, seq);
		else if (seq == 0)
			sl_proj_msg(p, "%s: seq 0: sequence numbers start at 1", p->log_dir);
		else
			sl_proj_msg(p, "%s: seq %" PRIu64 " is past the end of the log (its last is "
				    "%" PRIu64 ")", p->log_dir, seq, last);
		return SL_EINVAL;
	}
	if (p->pos < seq && (rc = sl_proj_catch_up(p, NULL)) != SL_OK)
		return rc;
	if (p->pos < seq) {
		sl_proj_msg(p, "%s: the views stop at seq %" PRIu64 ", before %" PRIu64, p->db_path,
			    p->pos, seq);
		return SL_EUNKNOWN;
	}
	return SL_OK;
}

static int sqlerr(struct sl_proj *p, sqlite3 *db, const char *what)
{
	sl_proj_msg(p, "%s: %s: %s", p->db_path, what, sqlite3_errmsg(db));
	return SL_ESQLITE;
}

/* The seqs of job_id's events in (after, upto], from statelog_events of db
 * (schema "main" or "live").  *out is owned (free()). */
static int job_seqs(struct sl_proj *p, sqlite3 *db, const char *schema, const char *job_id,
		    uint64_t after, uint64_t upto, const char *type, uint64_t **out, size_t *n_out)
{
	char sql[256];
	snprintf(sql, sizeof sql, "SELECT seq FROM %s.statelog_events WHERE job_id = ?1 AND "
		 "seq > ?2 AND seq <= ?3%s ORDER BY seq", schema, type ? " AND type = ?4" : "");
	sqlite3_stmt *st = NULL;
	uint64_t *v = NULL;
	size_t n = 0, cap = 0;
	int rc = SL_OK, s;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		rc = sqlerr(p, db, "finding a job's events");
		goto out;
	}
	sqlite3_bind_text(st, 1, job_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)after);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)upto);
	if (type)
		sqlite3_bind_text(st, 4, type, -1, SQLITE_STATIC);
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? 2 * cap : 256;
			uint64_t *w = realloc(v, cap * sizeof *w);
			if (!w) {
				rc = SL_ENOMEM;
				goto out;
			}
			v = w;
		}
		v[n++] = (uint64_t)sqlite3_column_int64(st, 0);
	}
	if (s != SQLITE_DONE)
		rc = sqlerr(p, db, "finding a job's events");
out:
	sqlite3_finalize(st);
	if (rc != SL_OK) {
		free(v);
		return rc;
	}
	*out = v;
	*n_out = n;
	return SL_OK;
}

/* One integer of a query with text and integer parameters (?1 text, ?2,
 * ?3 integers); *found false when it gives no row or NULL. */
static int query_i64(struct sl_proj *p, sqlite3 *db, const char *sql, const char *text,
		     int64_t a, int64_t b, int64_t *out, bool *found)
{
	sqlite3_stmt *st = NULL;
	*found = false;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return sqlerr(p, db, "querying the views");
	if (text)
		sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, a);
	sqlite3_bind_int64(st, 3, b);
	int s = sqlite3_step(st);
	if (s == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		*out = sqlite3_column_int64(st, 0);
		*found = true;
	}
	sqlite3_finalize(st);
	return s == SQLITE_ROW || s == SQLITE_DONE ? SL_OK : sqlerr(p, db, "querying the views");
}

/* Applies the events `seqs` (read from the log through f) to *st, as the
 * projector does: an event the rules refuse changes nothing; one of an
 * unknown type is passed over (the views hold none unless made with
 * skip_unknown).  With `keep`, the execution records that applied are
 * handed over to *kept (owned events), the others freed. */
static int replay(struct sl_proj *p, struct sl_fetch *f, struct sl_job_state *st,
		  const uint64_t *seqs, size_t n, sl_event ***kept, size_t *n_kept)
{
	for (size_t i = 0; i < n; i++) {
		sl_event *ev;
		int rc = sl_fetch_event(f, seqs[i], &ev, NULL);
		if (rc != SL_OK) {
			sl_proj_msg(p, "%s: %s", p->log_dir, f->errmsg);
			return rc;
		}
		rc = sl_event_unknown_type(ev) ? SL_EINVAL : sl_state_apply(st, ev);
		if (rc == SL_OK && kept && ev->body_case == STATELOG__EVENT__BODY_EXECUTION_RECORDED) {
			sl_event **k = realloc(*kept, (*n_kept + 1) * sizeof *k);
			if (!k) {
				sl_event_free(ev);
				return SL_ENOMEM;
			}
			*kept = k;
			k[(*n_kept)++] = ev;
			continue;
		}
		sl_event_free(ev);
		if (rc != SL_OK && rc != SL_EINVAL)
			return rc;
	}
	return SL_OK;
}

/* The job's state as of seq: its newest sound entry at or before seq, then
 * its later events.  *out is owned; it may be absent or deleted. */
static int state_at(struct sl_proj *p, struct sl_fetch *f, const char *job_id, uint64_t seq,
		    struct sl_job_state *out, struct sl_tt_report *rep)
{
	struct sl_job_state st;
	uint64_t from = 0, *seqs = NULL;
	size_t n = 0;
	int rc = p->snap ? sl_snap_find_state(p->snap, p->log_id, job_id, seq, f, &from, &st, rep)
			 : SL_ENOTFOUND;
	if (rc == SL_ENOTFOUND) {
		from = 0;
		sl_state_init(&st);
		rc = SL_OK;
	}
	if (rc != SL_OK) {
		sl_proj_msg(p, "%s: job %s: reading its snapshot: %s", p->db_path, job_id,
			    sl_strerror(rc));
		return rc;
	}
	if ((rc = job_seqs(p, p->db, "main", job_id, from, seq, NULL, &seqs, &n)) == SL_OK)
		rc = replay(p, f, &st, seqs, n, NULL, NULL);
	free(seqs);
	if (rc != SL_OK) {
		sl_state_free(&st);
		return rc;
	}
	if (rep) {
		rep->events_replayed += n;
		if (from > rep->snapshot_seq)
			rep->snapshot_seq = from;
	}
	*out = st;
	return SL_OK;
}

/* ---- one job ----------------------------------------------------------------- */

/* Why job_id is not live at seq, as a message. */
static int not_live(struct sl_proj *p, const char *job_id, uint64_t seq)
{
	int64_t first = 0, del = 0;
	bool found, deleted;
	int rc = query_i64(p, p->db, "SELECT min(seq) FROM statelog_events WHERE job_id = ?1",
			   job_id, 0, 0, &first, &found);
	if (rc == SL_OK)
		rc = query_i64(p, p->db, "SELECT max(seq) FROM statelog_events WHERE job_id = ?1 AND "
			       "seq <= ?2 AND type = 'job_deleted'", job_id, (int64_t)seq, 0, &del,
			       &deleted);
	if (rc != SL_OK)
		return rc;
	if (!found)
		sl_proj_msg(p, "%s: no job '%s' in the log", p->log_dir, job_id);
	else if ((uint64_t)first > seq)
		sl_proj_msg(p, "%s: job '%s' did not exist yet at seq %" PRIu64 " (its first event "
			    "is seq %" PRId64 ")", p->log_dir, job_id, seq, first);
	else if (deleted)
		sl_proj_msg(p, "%s: job '%s' was deleted at seq %" PRId64 " and not created again "
			    "by seq %" PRIu64, p->log_dir, job_id, del, seq);
	else
		sl_proj_msg(p, "%s: job '%s' did not exist at seq %" PRIu64 " (no event created it)",
			    p->log_dir, job_id, seq);
	return SL_ENOTFOUND;
}

int sl_tt_load_job(struct sl_job_state *out, sl_proj *p, const char *job_id, uint64_t seq,
		   struct sl_tt_report *report)
{
	struct sl_tt_report rep = { .seq = seq };
	struct sl_job_state st;
	struct sl_fetch f;
	if (!job_id || !*job_id) {
		sl_proj_msg(p, "no job id given");
		return SL_EINVAL;
	}
	int rc = tt_prepare(p, seq);
	if (rc != SL_OK)
		return rc;
	sl_snap_begin(p->snap);
	sl_fetch_init(&f, p->reader);
	if ((rc = state_at(p, &f, job_id, seq, &st, &rep)) != SL_OK)
		return rc;
	if (report)
		*report = rep;
	if (st.presence != SL_JOB_LIVE) {
		sl_state_free(&st);
		return not_live(p, job_id, seq);
	}
	*out = st;
	return SL_OK;
}

int sl_proj_load_job_at(sl_proj *p, const char *job_id, uint64_t seq, struct sl_job_state *out)
{
	return sl_tt_load_job(out, p, job_id, seq, NULL);
}

/* The time of the first statelog_events row at or after seq (0: none). */
static int event_time(struct sl_proj *p, uint64_t seq, uint64_t *seq_out, int64_t *time_out)
{
	sqlite3_stmt *st = NULL;
	int rc = SL_OK;
	*seq_out = 0;
	if (sqlite3_prepare_v2(p->db, "SELECT seq, time FROM statelog_events WHERE seq >= ? "
			       "ORDER BY seq LIMIT 1", -1, &st, NULL) != SQLITE_OK)
		return sqlerr(p, p->db, "reading event times");
	sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
	int s = sqlite3_step(st);
	if (s == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 1);
		*seq_out = (uint64_t)sqlite3_column_int64(st, 0);
		if (!t || sl_time_parse(t, time_out) != SL_OK) {
			sl_proj_msg(p, "%s: statelog_events seq %" PRIu64 ": bad time", p->db_path,
				    *seq_out);
			rc = SL_ECORRUPT;
		}
	} else if (s != SQLITE_DONE) {
		rc = sqlerr(p, p->db, "reading event times");
	}
	sqlite3_finalize(st);
	return rc;
}

int sl_proj_seq_at_time(sl_proj *p, int64_t time_us, uint64_t *out)
{
	int rc = sl_proj_catch_up(p, NULL);
	if (rc != SL_OK && rc != SL_EUNKNOWN)
		return rc;
	uint64_t lo, hi = p->pos, s;
	int64_t t;
	char want[SL_TIME_BUFSZ], first[SL_TIME_BUFSZ];
	if ((rc = event_time(p, 1, &lo, &t)) != SL_OK)
		return rc;
	if (lo == 0 || hi == 0) {
		sl_proj_msg(p, "%s: the log is empty", p->log_dir);
		return SL_ENOTFOUND;
	}
	if (t > time_us) {
		if (sl_time_format(time_us, want, sizeof want) != SL_OK)
			snprintf(want, sizeof want, "%" PRId64 " us", time_us);
		sl_time_format(t, first, sizeof first);
		sl_proj_msg(p, "%s: %s is before the log began (its first event, seq %" PRIu64
			    ", is at %s)", p->log_dir, want, lo, first);
		return SL_EINVAL;
	}
	/* The times of the rows rise with seq: the last at or before time_us. */
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo + 1) / 2;
		if ((rc = event_time(p, mid, &s, &t)) != SL_OK)
			return rc;
		if (s != 0 && s <= hi && t <= time_us)
			lo = s;
		else
			hi = mid - 1;
	}
	*out = lo;
	return SL_OK;
}

/* ---- the whole database ------------------------------------------------------ */

static int exec_sql(struct sl_proj *q, const char *sql, const char *what)
{
	return sqlite3_exec(q->db, sql, NULL, NULL, NULL) == SQLITE_OK ? SL_OK
		: sqlerr(q, q->db, what);
}

/* What the views as of a point need beyond the live rows. */
struct asof {
	struct sl_job_state *states;    /* jobs with events after P, live at P */
	size_t n_states;
	sl_event **execs;               /* rows of jobs deleted since P, as of P */
	size_t n_execs;
};

static void asof_free(struct asof *a)
{
	for (size_t i = 0; i < a->n_states; i++)
		sl_state_free(&a->states[i]);
	free(a->states);
	sl_events_free(a->execs, a->n_execs);
	*a = (struct asof){ 0 };
}

/* Reads (without writing anything) what the views as of pt take from
 * elsewhere than the live rows.  TT_NEED_REPLAY when a history row to rebuild
 * has no id in its event: only a replay from the start can give it. */
static int gather(struct sl_proj *p, struct sl_proj *q, struct sl_fetch *f,
		  const struct sl_snap_point *pt, struct asof *a, struct sl_tt_report *rep)
{
	sqlite3_stmt *st = NULL;
	int rc = exec_sql(q, "CREATE TEMP TABLE touched (job_id TEXT PRIMARY KEY)", "gathering");
	if (rc != SL_OK)
		return rc;
	char *sql = sqlite3_mprintf("INSERT OR IGNORE INTO temp.touched SELECT job_id FROM "
				    "live.statelog_events WHERE seq > %llu AND job_id IS NOT NULL",
				    (unsigned long long)pt->seq);
	rc = sql ? exec_sql(q, sql, "listing the jobs changed since the point") : SL_ENOMEM;
	sqlite3_free(sql);
	if (rc != SL_OK)
		return rc;
	if (sqlite3_prepare_v2(q->db, "SELECT job_id FROM temp.touched ORDER BY job_id", -1, &st,
			       NULL) != SQLITE_OK)
		return sqlerr(q, q->db, "gathering");
	int s;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		const char *job = (const char *)sqlite3_column_text(st, 0);
		struct sl_job_state js;
		if ((rc = state_at(p, f, job, pt->seq, &js, rep)) != SL_OK)
			break;
		if (js.presence != SL_JOB_LIVE) {
			sl_state_free(&js);
			continue;
		}
		struct sl_job_state *ns = realloc(a->states, (a->n_states + 1) * sizeof *ns);
		if (!ns) {
			sl_state_free(&js);
			rc = SL_ENOMEM;
			break;
		}
		a->states = ns;
		a->states[a->n_states++] = js;
		/* Deleted since the point: its rows as of the point are no longer
		 * live; its events give them back. */
		int64_t del = 0, d0 = 0;
		bool later, earlier;
		if ((rc = query_i64(q, q->db, "SELECT 1 FROM live.statelog_events WHERE job_id = ?1 "
				    "AND seq > ?2 AND type = 'job_deleted' LIMIT 1", job,
				    (int64_t)pt->seq, 0, &del, &later)) ||
		    (later && (rc = query_i64(q, q->db, "SELECT max(seq) FROM live.statelog_events "
					      "WHERE job_id = ?1 AND seq <= ?2 AND type = "
					      "'job_deleted'", job, (int64_t)pt->seq, 0, &d0,
					      &earlier))))
			break;
		if (!later)
			continue;
		uint64_t *seqs = NULL;
		size_t n = 0, k0 = a->n_execs;
		struct sl_job_state life;
		sl_state_init(&life);
		rc = job_seqs(q, q->db, "live", job, (uint64_t)d0, pt->seq, NULL, &seqs, &n);
		if (rc == SL_OK)
			rc = replay(p, f, &life, seqs, n, &a->execs, &a->n_execs);
		free(seqs);
		sl_state_free(&life);
		for (size_t i = k0; rc == SL_OK && i < a->n_execs; i++)
			if (!a->execs[i]->execution_recorded->has_execution_id)
				rc = TT_NEED_REPLAY;
		if (rc != SL_OK)
			break;
	}
	if (rc == SL_OK && s != SQLITE_DONE)
		rc = sqlerr(q, q->db, "gathering");
	sqlite3_finalize(st);
	return rc;
}

/* Writes the views as of pt into q's empty database, live attached. */
static int assemble(struct sl_proj *q, const struct sl_snap_point *pt, const struct asof *a)
{
	int rc = SL_OK;
	for (size_t i = 0; rc == SL_OK && i < a->n_states; i++) {
		const struct sl_job_state *js = &a->states[i];
		rc = sl_views_put_job(&q->v, js);
		for (size_t k = 0; rc == SL_OK && k < js->n_sheets; k++)
			rc = sl_views_put_sheet(&q->v, js->id, &js->sheets[k]);
	}
	if (rc != SL_OK) {
		sl_proj_msg(q, "%s: %s", q->db_path, q->v.errmsg);
		return rc;
	}
	char t[SL_TIME_BUFSZ];
	if (sl_time_format(pt->time_us, t, sizeof t) != SL_OK) {
		sl_proj_msg(q, "%s: point %" PRIu64 ": time out of range", q->db_path, pt->seq);
		return SL_EINVAL;
	}
	char *sql = sqlite3_mprintf(
		"INSERT INTO main.jobs SELECT * FROM live.jobs WHERE id NOT IN "
		"  (SELECT job_id FROM temp.touched);"
		"INSERT INTO main.sheets SELECT * FROM live.sheets WHERE job_id NOT IN "
		"  (SELECT job_id FROM temp.touched);"
		"CREATE TEMP TABLE ties (id INTEGER PRIMARY KEY);"
		"INSERT OR IGNORE INTO temp.ties SELECT CAST(value AS INTEGER) FROM "
		"  json_each('[' || %Q || ']');"
		"INSERT INTO main.execution_history SELECT * FROM live.execution_history "
		"  WHERE id <= %lld AND (executed_at < %Q OR (executed_at = %Q AND id IN "
		"  (SELECT id FROM temp.ties)));"
		"INSERT INTO main.statelog_events SELECT * FROM live.statelog_events "
		"  WHERE seq <= %llu;",
		pt->ties, (long long)pt->hist_seq, t, t, (unsigned long long)pt->seq);
	rc = sql ? exec_sql(q, sql, "copying the live rows as of the point") : SL_ENOMEM;
	sqlite3_free(sql);
	if (rc != SL_OK)
		return rc;
	/* The rows of jobs deleted since, as of the point. */
	struct sl_views_exec rows[SL_VIEWS_EXEC_ROWS];
	char times[SL_VIEWS_EXEC_ROWS][SL_TIME_BUFSZ];
	for (size_t i = 0; i < a->n_execs;) {
		size_t k = 0;
		for (; k < SL_VIEWS_EXEC_ROWS && i < a->n_execs; k++, i++) {
			const sl_event *ev = a->execs[i];
			const Statelog__ExecutionRecorded *x = ev->execution_recorded;
			sl_time_format(ev->time_us, times[k], SL_TIME_BUFSZ);
			rows[k] = (struct sl_views_exec){
				.ev = ev, .time = times[k],
				.prompt_len = x->prompt ? strlen(x->prompt) : 0,
				.output_len = x->output ? strlen(x->output) : 0,
			};
		}
		if ((rc = sl_views_put_executions(&q->v, rows, k)) != SL_OK) {
			sl_proj_msg(q, "%s: %s", q->db_path, q->v.errmsg);
			return rc;
		}
	}
	/* The counter last: every insert above moved it. */
	sql = pt->hist_seq > 0 ? sqlite3_mprintf("DELETE FROM main.sqlite_sequence; INSERT INTO "
						 "main.sqlite_sequence (name, seq) VALUES "
						 "('execution_history', %lld)",
						 (long long)pt->hist_seq)
			       : sqlite3_mprintf("DELETE FROM main.sqlite_sequence");
	rc = sql ? exec_sql(q, sql, "setting sqlite_sequence") : SL_ENOMEM;
	sqlite3_free(sql);
	if (rc != SL_OK)
		return rc;
	if ((rc = sl_views_set_position(&q->v, pt->seq, pt->commit_crc)) != SL_OK) {
		sl_proj_msg(q, "%s: %s", q->db_path, q->v.errmsg);
		return rc;
	}
	q->pos = pt->seq;
	q->pos_crc = pt->commit_crc;
	return SL_OK;
}

/* The live views attached to q's connection, through the default VFS (a
 * URI naming it): the connection's own VFS writes its main file behind,
 * and serves that file only. */
static int attach_live(struct sl_proj *p, struct sl_proj *q)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(p->db_path);
	char *uri = malloc(3 * n + 64), *w = uri;
	if (!uri)
		return SL_ENOMEM;
	w += sprintf(w, "file:");
	for (const unsigned char *c = (const unsigned char *)p->db_path; *c; c++) {
		if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
		    strchr("/-._~", *c)) {
			*w++ = (char)*c;
		} else {
			*w++ = '%';
			*w++ = hex[*c >> 4];
			*w++ = hex[*c & 15];
		}
	}
	sqlite3_vfs *dflt = sqlite3_vfs_find(NULL);
	char *sql = sqlite3_mprintf("ATTACH '%q?vfs=%q' AS live", (*w = 0, uri),
				    dflt ? dflt->zName : "unix");
	free(uri);
	/* Read the live pages in place rather than copied (a point near the
	 * end copies most of a database of a gigabyte). */
	if (sql) {
		char *with = sqlite3_mprintf("%s; PRAGMA live.mmap_size = 2147418112", sql);
		sqlite3_free(sql);
		sql = with;
	}
	int rc = sql ? exec_sql(q, sql, "attaching the live views") : SL_ENOMEM;
	sqlite3_free(sql);
	return rc;
}

/* Builds the views as of pt into q's new database.  TT_NEED_REPLAY (nothing
 * written) when they can only come from a replay of the whole log. */
static int from_point(struct sl_proj *p, struct sl_proj *q, struct sl_fetch *f,
		      const struct sl_snap_point *pt, struct sl_tt_report *rep)
{
	struct asof a = { 0 };
	bool began = false;
	int rc = attach_live(p, q);
	if (rc != SL_OK)
		return rc;
	/* One read transaction: every live row read is of the same moment. */
	if ((rc = exec_sql(q, "PRAGMA foreign_keys = OFF; BEGIN", "beginning")) != SL_OK)
		goto out;
	began = true;
	if ((rc = gather(p, q, f, pt, &a, rep)) != SL_OK)
		goto out;
	rc = assemble(q, pt, &a);
out:
	if (began)
		rc = rc == SL_OK ? exec_sql(q, "COMMIT", "committing")
				 : (sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL), rc);
	asof_free(&a);
	sqlite3_exec(q->db, "DROP TABLE IF EXISTS temp.touched; DROP TABLE IF EXISTS temp.ties; "
		     "DETACH live; PRAGMA foreign_keys = ON", NULL, NULL, NULL);
	return rc;
}

/* The creation times of the live views, so that every answer is theirs. */
static int copy_creation(struct sl_proj *p, struct sl_proj *q)
{
	int rc = attach_live(p, q);
	if (rc != SL_OK)
		return rc;
	rc = exec_sql(q, "UPDATE main.schema_version SET applied_at = (SELECT l.applied_at FROM "
		      "live.schema_version l WHERE l.version = schema_version.version) WHERE "
		      "version IN (SELECT version FROM live.schema_version);"
		      "UPDATE main.statelog_meta SET value = (SELECT value FROM live.statelog_meta "
		      "WHERE key = 'created_at') WHERE key = 'created_at' AND EXISTS (SELECT 1 "
		      "FROM live.statelog_meta WHERE key = 'created_at')",
		      "copying the creation times");
	sqlite3_exec(q->db, "DETACH live", NULL, NULL, NULL);
	return rc;
}

static int open_out(struct sl_proj *q)
{
	char sql[200], msg[512];
	if (sl_wbvfs_register() != SQLITE_OK) {
		sl_proj_msg(q, "%s: cannot register the %s VFS", q->db_path, SL_WBVFS_NAME);
		return SL_ESQLITE;
	}
	if (sqlite3_open_v2(q->db_path, &q->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			    SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI, SL_WBVFS_NAME) != SQLITE_OK) {
		sl_proj_msg(q, "%s: %s", q->db_path, q->db ? sqlite3_errmsg(q->db) : "out of memory");
		return SL_ESQLITE;
	}
	sqlite3_extended_result_codes(q->db, 1);
	sqlite3_busy_timeout(q->db, SL_PROJ_BUSY_MS);
	snprintf(sql, sizeof sql, "PRAGMA page_size = %d; PRAGMA foreign_keys = ON; "
		 "PRAGMA synchronous = OFF; PRAGMA cache_size = -%d", SL_PROJ_PAGE_SIZE,
		 TT_CACHE_KIB);
	if (sl_views_exec(q->db, sql, msg, sizeof msg) != SL_OK) {
		sl_proj_msg(q, "%s: %s", q->db_path, msg);
		return SL_ESQLITE;
	}
	return SL_OK;
}

/* Writes the database as of seq into q (a new file) and finishes it. */
static int build_at(struct sl_proj *p, struct sl_proj *q, uint64_t seq, unsigned flags,
		    struct sl_tt_report *rep)
{
	struct sl_deferred d = { .n = 0 };
	struct sl_snap_point pt = { 0 };
	struct sl_fetch f;
	char msg[512];
	int rc;
	if ((rc = sl_proj_open_reader(q)) || (rc = open_out(q)))
		return rc;
	/* A new file nobody may see yet, as a rebuild writes it.  "main."
	 * only: the live views attached later keep their own modes. */
	if (sl_views_exec(q->db, "PRAGMA main.journal_mode = OFF; "
			  "PRAGMA main.locking_mode = EXCLUSIVE", msg, sizeof msg) ||
	    sl_proj_create_views(q->db, q->log_id, msg, sizeof msg)) {
		sl_proj_msg(q, "%s: %s", q->db_path, msg);
		return SL_ESQLITE;
	}
	if ((rc = sl_proj_defer_indexes(q, &d)) || (rc = sl_proj_attach(q)))
		goto out;
	sl_fetch_init(&f, p->reader);
	bool have = false;
	if (!(flags & SL_TT_NO_SNAPSHOTS) && p->snap) {
		rc = sl_snap_find_point(p->snap, p->log_id, seq, &f, &pt, rep);
		if (rc != SL_OK && rc != SL_ENOTFOUND) {
			sl_proj_msg(q, "%s: reading its snapshots: %s", p->db_path, sl_strerror(rc));
			goto out;
		}
		have = rc == SL_OK;
	}
	rc = SL_OK;
	if (have && (rc = from_point(p, q, &f, &pt, rep)) == TT_NEED_REPLAY) {
		/* A limit of the point, not damage; from_point() wrote nothing. */
		if (!rep->note[0])
			snprintf(rep->note, sizeof rep->note, "point %" PRIu64 ": a history row to "
				 "rebuild has no id in its event: replayed from the start", pt.seq);
		rc = SL_OK;
		have = false;
	}
	if (rc != SL_OK) {
		if (!q->errmsg[0])
			sl_proj_msg(q, "%s", p->errmsg);
		goto out;
	}
	rep->snapshot_seq = have ? pt.seq : 0;
	struct sl_proj_run run = { .limit = seq };
	if ((rc = sl_proj_catch_up_to(q, &run)) != SL_OK)
		goto out;
	rep->events_replayed = run.st.events_applied;
	if (q->pos != seq) {
		sl_proj_msg(q, "%s: the replay stopped at seq %" PRIu64 ", before %" PRIu64,
			    q->db_path, q->pos, seq);
		rc = SL_EIO;
		goto out;
	}
	if ((rc = sl_proj_create_deferred(q, &d)) || (rc = copy_creation(p, q)))
		goto out;
	/* As a rebuild leaves its file: rollback journal, every page written
	 * before the file takes its name. */
	if (sl_views_exec(q->db, "PRAGMA main.journal_mode = DELETE", msg, sizeof msg)) {
		sl_proj_msg(q, "%s: %s", q->db_path, msg);
		rc = SL_ESQLITE;
		goto out;
	}
	int s = sqlite3_file_control(q->db, "main", SL_WBVFS_FCNTL_DRAIN, NULL);
	if (s != SQLITE_OK) {
		sl_proj_msg(q, "%s: writing: %s", q->db_path, sqlite3_errstr(s));
		rc = SL_ESQLITE;
	}
out:
	sl_snap_point_free(&pt);
	sl_proj_deferred_free(&d);
	return rc;
}

/* The same name, or another name of the same file. */
static bool same_file(const char *a, const char *b)
{
	struct stat x, y;
	return strcmp(a, b) == 0 || (stat(a, &x) == 0 && stat(b, &y) == 0 &&
				     x.st_dev == y.st_dev && x.st_ino == y.st_ino);
}

int sl_tt_write_db(sl_proj *p, uint64_t seq, const char *out_path, unsigned flags,
		   struct sl_tt_report *report)
{
	struct sl_tt_report rep = { .seq = seq };
	struct sl_proj *q = NULL;
	char *tmp = NULL;
	int rc = tt_prepare(p, seq);
	if (rc != SL_OK)
		return rc;
	if (!out_path || !*out_path) {
		sl_proj_msg(p, "no output file given");
		return SL_EINVAL;
	}
	if (same_file(out_path, p->db_path) || (p->orig_path && same_file(out_path, p->orig_path))) {
		sl_proj_msg(p, "%s: the output would replace the live views", out_path);
		return SL_EINVAL;
	}
	sl_snap_begin(p->snap);
	if (asprintf(&tmp, "%s.tmp", out_path) < 0) {
		sl_proj_msg(p, "out of memory");
		return SL_ENOMEM;
	}
	static const char *const sfx[] = { "", "-journal", "-wal", "-shm" };
	for (size_t i = 0; i < 4; i++) {
		char *f;
		if (asprintf(&f, "%s%s", tmp, sfx[i]) >= 0) {
			unlink(f);
			free(f);
		}
	}
	if ((rc = sl_proj_alloc(&q, p->log_dir, tmp, NULL)) != SL_OK) {
		sl_proj_msg(p, "out of memory");
		goto out;
	}
	rc = build_at(p, q, seq, flags, &rep);
	sl_proj_detach(q);
	if (rc == SL_OK && rename(tmp, out_path) != 0) {
		sl_proj_msg(q, "renaming %s to %s: %s", tmp, out_path, strerror(errno));
		rc = SL_EIO;
	}
	for (size_t i = 1; rc == SL_OK && i < 4; i++) {
		char *f;
		if (asprintf(&f, "%s%s", out_path, sfx[i]) >= 0) {
			unlink(f);              /* an older file's, which SQLite would apply */
			free(f);
		}
	}
	if (rc != SL_OK) {
		unlink(tmp);
		sl_proj_msg(p, "%s", q->errmsg);
	}
out:
	sl_proj_close(q);
	free(tmp);
	if (report)
		*report = rep;
	return rc;
}
