/* timetravel.c: a job, or the whole database, as of any event of the log
 * (history.h), and the seq of an instant.
 *
 * A job as of N: its newest sound snapshot entry at or before N (or nothing,
 * the log's start), then its own events after that and up to N, found
 * through the views' statelog_events index (job_id, seq) and read from the
 * log by sequence number (fetch.h), applied with the rules.
 *
 * The database as of N is written by views/ (asof.c, which says how); this
 * file gives it what only a job's history can: the newest sound point at or
 * before N, the states as of that point of the jobs changed after it, and
 * the history rows as of it of the jobs deleted after it, replayed from
 * their events.  Without a sound point (SL_TT_NO_SNAPSHOTS, none, or an
 * execution record without an id among the rows to rebuild, whose id only a
 * full replay can tell), the file is projected from the start of the log.
 */
#include "history_internal.h"
#include "event_internal.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "timefmt.h"

/* Internal, positive: the views as of a point need a replay from the start. */
#define TT_NEED_REPLAY 1

/* ---- shared checks -------------------------------------------------------- */

/* seq must be 1 .. the log's last; the views are caught up to it. */
static int tt_prepare(sl_proj *p, uint64_t seq)
{
	uint64_t last = 0;
	int rc = sl_proj_log_last_seq(&last, p);
	if (rc != SL_OK)
		return rc;
	const char *log = sl_proj_log_dir(p);
	if (seq == 0 || seq > last) {
		if (last == 0)
			sl_proj_set_error(p, "%s: seq %" PRIu64 ": the log is empty", log, seq);
		else if (seq == 0)
			sl_proj_set_error(p, "%s: seq 0: sequence numbers start at 1", log);
		else
			sl_proj_set_error(p, "%s: seq %" PRIu64 " is past the end of the log (its "
					  "last is %" PRIu64 ")", log, seq, last);
		return SL_EINVAL;
	}
	if (sl_proj_last_seq(p) < seq && (rc = sl_proj_catch_up(p, NULL)) != SL_OK)
		return rc;
	if (sl_proj_last_seq(p) < seq) {
		sl_proj_set_error(p, "%s: the views stop at seq %" PRIu64 ", before %" PRIu64,
				  sl_proj_db_path(p), sl_proj_last_seq(p), seq);
		return SL_EUNKNOWN;
	}
	return SL_OK;
}

static int sqlerr(sl_proj *p, const char *what)
{
	char msg[1024];
	int rc = sl_sql_fail(msg, sizeof msg, sl_proj_db(p), sl_proj_db_path(p), what);
	sl_proj_set_error(p, "%s", msg);
	return rc;
}

/* The seqs of job_id's events in (after, upto], from the views' index of
 * events.  *out is owned (free()). */
static int job_seqs(uint64_t **out, size_t *n_out, sl_proj *p, const char *job_id,
		    uint64_t after, uint64_t upto)
{
	sqlite3 *db = sl_proj_db(p);
	sqlite3_stmt *st = NULL;
	uint64_t *v = NULL;
	size_t n = 0, cap = 0;
	int rc = SL_OK, s;
	if (sqlite3_prepare_v2(db, "SELECT seq FROM statelog_events WHERE job_id = ?1 AND "
			       "seq > ?2 AND seq <= ?3 ORDER BY seq", -1, &st, NULL) != SQLITE_OK) {
		rc = sqlerr(p, "finding a job's events");
		goto out;
	}
	sqlite3_bind_text(st, 1, job_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)after);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)upto);
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? 2 * cap : 256;
			uint64_t *w = realloc(v, cap * sizeof *w);
			if (!w) {
				sl_proj_set_error(p, "out of memory");
				rc = SL_ENOMEM;
				goto out;
			}
			v = w;
		}
		v[n++] = (uint64_t)sqlite3_column_int64(st, 0);
	}
	if (s != SQLITE_DONE)
		rc = sqlerr(p, "finding a job's events");
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

/* One integer of a query with a text and an integer parameter (?1, ?2);
 * *found false when it gives no row or NULL. */
static int query_i64(int64_t *out, bool *found, sl_proj *p, const char *sql, const char *text,
		     int64_t a)
{
	sqlite3 *db = sl_proj_db(p);
	sqlite3_stmt *st = NULL;
	*found = false;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return sqlerr(p, "querying the views");
	sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
	if (sqlite3_bind_parameter_count(st) >= 2)
		sqlite3_bind_int64(st, 2, a);
	int s = sqlite3_step(st);
	if (s == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		*out = sqlite3_column_int64(st, 0);
		*found = true;
	}
	sqlite3_finalize(st);
	return s == SQLITE_ROW || s == SQLITE_DONE ? SL_OK : sqlerr(p, "querying the views");
}

/* Applies the events `seqs` (read from the log through f) to *st, as the
 * projector does: an event the rules refuse changes nothing; one of an
 * unknown type is passed over (the views hold none unless made with
 * skip_unknown).  With `kept`, the execution records that applied are
 * handed over to *kept (owned events), the others freed. */
static int replay(sl_proj *p, struct sl_fetch *f, struct sl_job_state *st,
		  const uint64_t *seqs, size_t n, sl_event ***kept, size_t *n_kept)
{
	for (size_t i = 0; i < n; i++) {
		sl_event *ev;
		int rc = sl_fetch_event(&ev, f, seqs[i], NULL);
		if (rc != SL_OK) {
			sl_proj_set_error(p, "%s: %s", sl_proj_log_dir(p), f->errmsg);
			return rc;
		}
		rc = sl_rules_apply(st, ev, NULL);
		if (rc == SL_OK && kept && ev->body_case == STATELOG__EVENT__BODY_EXECUTION_RECORDED) {
			sl_event **k = realloc(*kept, (*n_kept + 1) * sizeof *k);
			if (!k) {
				sl_event_free(ev);
				sl_proj_set_error(p, "out of memory");
				return SL_ENOMEM;
			}
			*kept = k;
			k[(*n_kept)++] = ev;
			continue;
		}
		sl_event_free(ev);
		if (rc != SL_OK && !sl_rules_refused(rc) && rc != SL_EUNKNOWN)
			return rc;
	}
	return SL_OK;
}

/* Fills the report's counts of discarded snapshots. */
static void take_notes(struct sl_tt_report *rep, const struct sl_snap_notes *notes)
{
	if (!rep)
		return;
	rep->damaged += notes->damaged;
	rep->foreign += notes->foreign;
	if (!rep->note[0])
		snprintf(rep->note, sizeof rep->note, "%s", notes->note);
}

/* The job's state as of seq: its newest sound entry at or before seq, then
 * its later events.  *out is owned; it may be absent or deleted. */
static int state_at(struct sl_job_state *out, sl_proj *p, struct sl_fetch *f, const char *job_id,
		    uint64_t seq, struct sl_tt_report *rep)
{
	struct sl_job_state st;
	struct sl_snap_notes notes = { 0 };
	struct sl_snap *snap = sl_proj_snapshots(p);
	uint64_t from = 0, *seqs = NULL;
	size_t n = 0;
	int rc = snap ? sl_snap_find_state(&st, &from, snap, sl_proj_log_id(p), job_id, seq, f,
					   &notes)
		      : SL_ENOTFOUND;
	take_notes(rep, &notes);
	if (rc == SL_ENOTFOUND) {
		from = 0;
		sl_state_init(&st);
		rc = SL_OK;
	}
	if (rc != SL_OK) {
		sl_proj_set_error(p, "%s: job %s: reading its snapshot: %s", sl_proj_db_path(p),
				  job_id, sl_strerror(rc));
		return rc;
	}
	if ((rc = job_seqs(&seqs, &n, p, job_id, from, seq)) == SL_OK)
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
static int not_live(sl_proj *p, const char *job_id, uint64_t seq)
{
	int64_t first = 0, del = 0;
	bool found, deleted;
	const char *log = sl_proj_log_dir(p);
	int rc = query_i64(&first, &found, p, "SELECT min(seq) FROM statelog_events WHERE "
			   "job_id = ?1", job_id, 0);
	if (rc == SL_OK)
		rc = query_i64(&del, &deleted, p, "SELECT max(seq) FROM statelog_events WHERE "
			       "job_id = ?1 AND seq <= ?2 AND type = 'job_deleted'", job_id,
			       (int64_t)seq);
	if (rc != SL_OK)
		return rc;
	if (!found)
		sl_proj_set_error(p, "%s: no job '%s' in the log", log, job_id);
	else if ((uint64_t)first > seq)
		sl_proj_set_error(p, "%s: job '%s' did not exist yet at seq %" PRIu64 " (its first "
				  "event is seq %" PRId64 ")", log, job_id, seq, first);
	else if (deleted)
		sl_proj_set_error(p, "%s: job '%s' was deleted at seq %" PRId64 " and not created "
				  "again by seq %" PRIu64, log, job_id, del, seq);
	else
		sl_proj_set_error(p, "%s: job '%s' did not exist at seq %" PRIu64 " (no event "
				  "created it)", log, job_id, seq);
	return SL_ENOTFOUND;
}

int sl_tt_load_job(struct sl_job_state *out, sl_proj *p, const char *job_id, uint64_t seq,
		   struct sl_tt_report *report)
{
	struct sl_tt_report rep = { .seq = seq };
	struct sl_job_state st;
	struct sl_fetch f;
	if (!job_id || !*job_id) {
		sl_proj_set_error(p, "no job id given");
		return SL_EINVAL;
	}
	int rc = tt_prepare(p, seq);
	if (rc != SL_OK)
		return rc;
	sl_snap_begin(sl_proj_snapshots(p));
	sl_fetch_init(&f, sl_proj_reader(p));
	if ((rc = state_at(&st, p, &f, job_id, seq, &rep)) != SL_OK)
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

/* The seq and time of the first statelog_events row at or after seq
 * (*seq_out 0: none). */
static int event_time(uint64_t *seq_out, int64_t *time_out, sl_proj *p, uint64_t seq)
{
	sqlite3_stmt *st = NULL;
	int rc = SL_OK;
	*seq_out = 0;
	if (sqlite3_prepare_v2(sl_proj_db(p), "SELECT seq, time FROM statelog_events WHERE "
			       "seq >= ? ORDER BY seq LIMIT 1", -1, &st, NULL) != SQLITE_OK)
		return sqlerr(p, "reading event times");
	sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
	int s = sqlite3_step(st);
	if (s == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 1);
		*seq_out = (uint64_t)sqlite3_column_int64(st, 0);
		if (!t || sl_time_parse(time_out, t) != SL_OK) {
			sl_proj_set_error(p, "%s: statelog_events seq %" PRIu64 ": bad time",
					  sl_proj_db_path(p), *seq_out);
			rc = SL_ECORRUPT;
		}
	} else if (s != SQLITE_DONE) {
		rc = sqlerr(p, "reading event times");
	}
	sqlite3_finalize(st);
	return rc;
}

int sl_tt_seq_at_time(uint64_t *out, sl_proj *p, int64_t time_us)
{
	int rc = sl_proj_catch_up(p, NULL);
	if (rc != SL_OK && rc != SL_EUNKNOWN)
		return rc;
	uint64_t lo, hi = sl_proj_last_seq(p), s;
	int64_t t;
	char want[SL_TIME_BUFSZ], first[SL_TIME_BUFSZ];
	if ((rc = event_time(&lo, &t, p, 1)) != SL_OK)
		return rc;
	if (lo == 0 || hi == 0) {
		sl_proj_set_error(p, "%s: the log is empty", sl_proj_log_dir(p));
		return SL_ENOTFOUND;
	}
	if (t > time_us) {
		if (sl_time_format(time_us, want, sizeof want) != SL_OK)
			snprintf(want, sizeof want, "%" PRId64 " us", time_us);
		sl_time_format(t, first, sizeof first);
		sl_proj_set_error(p, "%s: %s is before the log began (its first event, seq %" PRIu64
				  ", is at %s)", sl_proj_log_dir(p), want, lo, first);
		return SL_EINVAL;
	}
	/* The times of the rows rise with seq: the last at or before time_us. */
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo + 1) / 2;
		if ((rc = event_time(&s, &t, p, mid)) != SL_OK)
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

/* What the views as of a point need beyond the live rows. */
struct asof {
	struct sl_asof_job *touched;    /* jobs with events after the point */
	size_t n_touched;
	struct sl_job_state *states;    /* of those, the ones live at the point */
	size_t n_states;
	sl_event **execs;               /* rows of jobs deleted since, as of the point */
	size_t n_execs;
};

static void asof_free(struct asof *a)
{
	sl_asof_jobs_free(a->touched, a->n_touched);
	for (size_t i = 0; i < a->n_states; i++)
		sl_state_free(&a->states[i]);
	free(a->states);
	sl_events_free(a->execs, a->n_execs);
	*a = (struct asof){ 0 };
}

/* Reads what the views as of pt take from elsewhere than the live rows,
 * for the touched jobs a holds.  TT_NEED_REPLAY when a history row to
 * rebuild has no id in its event: only a replay from the start can give
 * it. */
static int gather(struct asof *a, sl_proj *p, struct sl_fetch *f,
		  const struct sl_snap_point *pt, struct sl_tt_report *rep)
{
	int rc;
	if (a->n_touched && !(a->states = calloc(a->n_touched, sizeof a->states[0]))) {
		sl_proj_set_error(p, "out of memory");
		return SL_ENOMEM;
	}
	for (size_t i = 0; i < a->n_touched; i++) {
		const struct sl_asof_job *j = &a->touched[i];
		struct sl_job_state js;
		if ((rc = state_at(&js, p, f, j->id, pt->seq, rep)) != SL_OK)
			return rc;
		if (js.presence != SL_JOB_LIVE) {
			sl_state_free(&js);
			continue;
		}
		a->states[a->n_states++] = js;
		if (!j->deleted_after)
			continue;
		/* Deleted since the point: its rows as of the point are no longer
		 * live; the events of its life at the point give them back. */
		uint64_t *seqs = NULL;
		size_t n = 0, k0 = a->n_execs;
		struct sl_job_state life;
		sl_state_init(&life);
		rc = job_seqs(&seqs, &n, p, j->id, j->deleted_before, pt->seq);
		if (rc == SL_OK)
			rc = replay(p, f, &life, seqs, n, &a->execs, &a->n_execs);
		free(seqs);
		sl_state_free(&life);
		for (size_t k = k0; rc == SL_OK && k < a->n_execs; k++)
			if (!a->execs[k]->execution_recorded->has_execution_id)
				rc = TT_NEED_REPLAY;
		if (rc != SL_OK)
			return rc;
	}
	return SL_OK;
}

/* gather() in a thread of its own. */
struct gathering {
	struct asof *a;
	sl_proj *p;
	struct sl_fetch *f;
	const struct sl_snap_point *pt;
	struct sl_tt_report *rep;
	int rc;
};

static void *gather_main(void *arg)
{
	struct gathering *g = arg;
	g->rc = gather(g->a, g->p, g->f, g->pt, g->rep);
	return NULL;
}

/* The database as of seq from the sound point pt.  TT_NEED_REPLAY (nothing
 * written) when it can only come from a replay of the whole log.
 *
 * The touched jobs' states as of the point (read through p: its snapshots
 * and the log) and the live rows of the others (written through the new
 * file's own connection, which is most of the time) do not depend on each
 * other: the states are read in a second thread meanwhile. */
static int from_point(sl_proj *p, uint64_t seq, const char *out_path, struct sl_fetch *f,
		      const struct sl_snap_point *pt, enum sl_asof_way way,
		      const struct sl_keyframe *kf, struct sl_tt_report *rep)
{
	struct sl_asof *w;
	struct asof a = { 0 };
	int rc = sl_asof_begin(&w, p, out_path, pt, way, kf);
	if (rc != SL_OK)
		return rc;
	if ((rc = sl_asof_touched(&a.touched, &a.n_touched, w)) == SL_OK) {
		struct gathering g = { .a = &a, .p = p, .f = f, .pt = pt, .rep = rep };
		pthread_t th;
		bool threaded = pthread_create(&th, NULL, gather_main, &g) == 0;
		if (!threaded)
			gather_main(&g);
		sl_asof_prune(w, a.touched, a.n_touched);       /* its failure: seed's */
		if (threaded)
			pthread_join(th, NULL);
		rc = g.rc;
	}
	if (rc == SL_OK)
		rc = sl_asof_seed(w, a.states, a.n_states, a.execs, a.n_execs);
	asof_free(&a);
	if (rc != SL_OK) {
		sl_asof_abort(w);
		return rc;
	}
	rep->snapshot_seq = pt->seq;
	rep->copied = way != SL_ASOF_INSERT;
	rep->keyframe_seq = way == SL_ASOF_COPY_KEYFRAME ? kf->seq : 0;
	return sl_asof_finish(w, seq, &rep->events_replayed);
}

/* ---- the whole database: which way ------------------------------------- */

/* What each way of making the database as of seq costs, estimated from
 * the events each must handle, in tenths of a microsecond per event as
 * measured on the reference log (BENCHMARKS.md, "Time travel"):
 *  - replaying the log from its start: 33 per event up to seq;
 *  - copying a database (the live views, the keyframe): 2 per event it
 *    holds (in the kernel, about 0.2 s a gigabyte), then taking back what
 *    came after the snapshot point: 14 per event taken back, then the
 *    projector's catch-up from the point to seq: 33 per event.
 * Only their order matters. */
#define TT_COST_REPLAY 33u
#define TT_COST_COPY 2u
#define TT_COST_TAKE_BACK 14u

static uint64_t copy_cost(uint64_t from, uint64_t point, uint64_t seq)
{
	return TT_COST_COPY * from + TT_COST_TAKE_BACK * (from - point) +
	       TT_COST_REPLAY * (seq - point);
}

/* The keyframe, if it is sound: its file says it is of this log, as of its
 * own position, and that position is a sound snapshot point of the log
 * (*kpt, owned).  A keyframe that is not is counted in rep and not used. */
static bool sound_keyframe(struct sl_keyframe *kf, struct sl_snap_point *kpt, sl_proj *p,
			   struct sl_snap *snap, struct sl_fetch *f, struct sl_tt_report *rep)
{
	int rc = sl_keyframe_read(p, kf);
	if (rc == SL_OK) {
		struct sl_snap_notes notes = { 0 };
		rc = sl_snap_find_point(kpt, snap, sl_proj_log_id(p), kf->seq, f, &notes);
		take_notes(rep, &notes);
		if (rc == SL_OK && (kpt->seq != kf->seq || kpt->commit_crc != kf->crc)) {
			sl_proj_set_error(p, "%s: the keyframe at seq %" PRIu64 " is not at a sound "
					  "snapshot point of the log", sl_proj_db_path(p), kf->seq);
			rc = SL_ECORRUPT;
		}
		if (rc == SL_ENOTFOUND) {
			sl_proj_set_error(p, "%s: the keyframe at seq %" PRIu64 " has no snapshot "
					  "point", sl_proj_db_path(p), kf->seq);
			rc = SL_ECORRUPT;
		}
	}
	if (rc == SL_OK)
		return true;
	sl_snap_point_free(kpt);
	if (rc != SL_ENOTFOUND && rep) {
		rep->damaged++;
		if (!rep->note[0])
			snprintf(rep->note, sizeof rep->note, "not used: %s", sl_proj_errmsg(p));
	}
	return false;
}

int sl_tt_write_db(sl_proj *p, uint64_t seq, const char *out_path, unsigned flags,
		   struct sl_tt_report *report)
{
	struct sl_tt_report rep = { .seq = seq };
	struct sl_snap_point pt = { 0 }, kpt = { 0 };
	struct sl_snap_notes notes = { 0 };
	struct sl_snap *snap = sl_proj_snapshots(p);
	struct sl_keyframe kf = { 0 };
	struct sl_fetch f;
	int rc = tt_prepare(p, seq);
	if (rc != SL_OK)
		return rc;
	sl_snap_begin(snap);
	sl_fetch_init(&f, sl_proj_reader(p));
	bool have = false, have_kf = false;
	if (!(flags & SL_TT_NO_SNAPSHOTS) && snap) {
		rc = sl_snap_find_point(&pt, snap, sl_proj_log_id(p), seq, &f, &notes);
		take_notes(&rep, &notes);
		if (rc != SL_OK && rc != SL_ENOTFOUND) {
			sl_proj_set_error(p, "%s: reading its snapshots: %s", sl_proj_db_path(p),
					  sl_strerror(rc));
			goto out;
		}
		have = rc == SL_OK;
		if (have && !(flags & (SL_TT_NO_COPY | SL_TT_NO_KEYFRAME)))
			have_kf = sound_keyframe(&kf, &kpt, p, snap, &f, &rep);
	}
	/* The cheapest way (see copy_cost()); SL_TT_NO_COPY: the rows of the
	 * live views before the point, inserted, whatever it costs. */
	uint64_t last = sl_proj_last_seq(p);
	uint64_t best = TT_COST_REPLAY * seq;
	enum sl_asof_way way = SL_ASOF_INSERT;
	const struct sl_snap_point *from = NULL;
	if (have && (flags & SL_TT_NO_COPY)) {
		from = &pt;
	} else if (have) {
		uint64_t c;
		if (last >= pt.seq && (c = copy_cost(last, pt.seq, seq)) < best) {
			best = c;
			from = &pt;
			way = SL_ASOF_COPY_LIVE;
		}
		if (have_kf && kf.seq >= pt.seq && (c = copy_cost(kf.seq, pt.seq, seq)) < best) {
			best = c;
			from = &pt;
			way = SL_ASOF_COPY_KEYFRAME;
		}
		if (have_kf && kf.seq < seq && (c = copy_cost(kf.seq, kf.seq, seq)) < best) {
			best = c;
			from = &kpt;
			way = SL_ASOF_COPY_KEYFRAME;
		}
	}
	rc = TT_NEED_REPLAY;
	if (from && (rc = from_point(p, seq, out_path, &f, from, way, &kf, &rep)) ==
	    TT_NEED_REPLAY && !rep.note[0])
		/* A limit of the point, not damage; from_point() wrote nothing. */
		snprintf(rep.note, sizeof rep.note, "point %" PRIu64 ": a history row to rebuild "
			 "has no id in its event: replayed from the start", from->seq);
	if (rc == TT_NEED_REPLAY) {
		struct sl_asof *w;
		rep.snapshot_seq = 0;
		rep.events_replayed = 0;
		rep.copied = false;
		rep.keyframe_seq = 0;
		rc = sl_asof_begin(&w, p, out_path, NULL, SL_ASOF_INSERT, NULL);
		if (rc == SL_OK)
			rc = sl_asof_finish(w, seq, &rep.events_replayed);
	}
out:
	sl_snap_point_free(&pt);
	sl_snap_point_free(&kpt);
	if (report)
		*report = rep;
	return rc;
}

int sl_tt_keyframe_refresh(sl_proj *p, uint64_t min_events, uint64_t *made_seq)
{
	struct sl_snap *snap = sl_proj_snapshots(p);
	uint64_t last = sl_proj_last_seq(p);
	struct sl_snap_point kpt = { 0 }, pt = { 0 };
	struct sl_keyframe kf;
	struct sl_fetch f;
	if (made_seq)
		*made_seq = 0;
	if (!snap || last == 0 || last < min_events || sl_proj_as_of_seq(p))
		return SL_OK;
	sl_snap_begin(snap);
	sl_fetch_init(&f, sl_proj_reader(p));
	bool sound = sound_keyframe(&kf, &kpt, p, snap, &f, NULL);
	sl_snap_point_free(&kpt);
	if (sound && kf.seq >= last / 10 * 4 && kf.seq <= last / 10 * 7)
		return SL_OK;
	int rc = sl_snap_find_point(&pt, snap, sl_proj_log_id(p), last / 20 * 11, &f, NULL);
	if (rc == SL_ENOTFOUND || (rc == SL_OK && sound && pt.seq == kf.seq) ||
	    (rc == SL_OK && pt.seq < last / 10 * 4)) {
		/* No point to make it at, or none better than the one kept. */
		sl_snap_point_free(&pt);
		return SL_OK;
	}
	if (rc != SL_OK) {
		sl_proj_set_error(p, "%s: reading its snapshots: %s", sl_proj_db_path(p),
				  sl_strerror(rc));
		return rc;
	}
	uint64_t at = pt.seq;
	sl_snap_point_free(&pt);
	/* A name of this process's own: two processes may refresh at once
	 * (the last rename wins; both files are whole). */
	char *path = sl_keyframe_path(p), *made = NULL;
	if (!path || asprintf(&made, "%s.%ld.new", path, (long)getpid()) < 0) {
		free(path);
		sl_proj_set_error(p, "out of memory");
		return SL_ENOMEM;
	}
	/* Its rows inserted, not copied: the file holds only what the views
	 * held then, with no pages freed by taking back. */
	rc = sl_tt_write_db(p, at, made, SL_TT_NO_COPY, NULL);
	if (rc == SL_OK)
		rc = sl_keyframe_install(p, made);
	if (rc != SL_OK)
		unlink(made);
	else if (made_seq)
		*made_seq = at;
	free(made);
	free(path);
	return rc;
}
