/* audit.c: a job's timeline with the columns each event changed
 * (history.h, "the audit").
 *
 * Two states walk the job's events: `cur` has every event up to the entry
 * returned applied, `prev` every event but that one.  The entry's changes
 * are the columns where they differ.  At the next call prev catches up by
 * applying the same event (sl_rules_apply() is pure, so prev becomes equal
 * to cur without copying a job of a hundred sheets at every event).
 *
 * Which rows to compare: the jobs row, and the sheet the event names; an
 * event that names no sheet is compared over every sheet.  That no event
 * changes another sheet's row is the rules' own invariant, which the
 * projector relies on as well (project.c) and the tests check.
 *
 * A save's change of a time by less than SL_AUDIT_RESTAMP_US is marked a
 * re-stamp (history.h): still listed, so that a reader that replays the
 * changes gets the exact state, but readers for people leave it out.
 */
#include "history_internal.h"
#include "event_internal.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sl_audit {
	sl_proj *p;
	char *job;
	struct sl_audit_filter f;
	uint64_t *seqs;
	size_t n, i;
	struct sl_fetch fetch;
	struct sl_job_state prev, cur;
	sl_event *ev;                   /* the event of the entry returned */
	struct sl_refusal why;          /* why the rules refused it */
	bool ev_applied;
	uint32_t life;
	struct sl_audit_change *ch;
	size_t n_ch, cap_ch;
	struct sl_audit_entry e;
	bool sheet_known;               /* the filter's sheet existed at some point */
	int64_t max_sheets;             /* the highest total_sheets seen */
	char errmsg[1024];
};

static void audit_msg(struct sl_audit *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void audit_msg(struct sl_audit *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(a->errmsg, sizeof a->errmsg, fmt, ap);
	va_end(ap);
	sl_proj_name_original(a->p, a->errmsg, sizeof a->errmsg);
}

const char *sl_audit_errmsg(const sl_audit *a)
{
	return a->errmsg;
}

void sl_audit_counters(const sl_audit *a, uint64_t *events_read, uint64_t *seeks)
{
	*events_read = a->fetch.read;
	*seeks = a->fetch.seeks;
}

void sl_audit_close(sl_audit *a)
{
	if (!a)
		return;
	sl_event_free(a->ev);
	sl_state_free(&a->prev);
	sl_state_free(&a->cur);
	free(a->seqs);
	free(a->ch);
	free(a->job);
	free(a);
}

/* The job's events up to to_seq, from the statelog_events index. */
static int list_events(struct sl_audit *a)
{
	sl_proj *p = a->p;
	sqlite3_stmt *st = NULL;
	size_t cap = 0;
	int rc = SL_OK, s;
	uint64_t to = a->f.to_seq && a->f.to_seq < INT64_MAX ? a->f.to_seq : INT64_MAX;
	if (sqlite3_prepare_v2(sl_proj_db(p), "SELECT seq FROM statelog_events WHERE job_id = ? AND "
			       "seq <= ? ORDER BY seq", -1, &st, NULL) != SQLITE_OK)
		goto sqlerr;
	sqlite3_bind_text(st, 1, a->job, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)to);
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		if (a->n == cap) {
			cap = cap ? 2 * cap : 512;
			uint64_t *v = realloc(a->seqs, cap * sizeof *v);
			if (!v) {
				rc = SL_ENOMEM;
				audit_msg(a, "out of memory");
				goto out;
			}
			a->seqs = v;
		}
		a->seqs[a->n++] = (uint64_t)sqlite3_column_int64(st, 0);
	}
	if (s == SQLITE_DONE)
		goto out;
sqlerr:
	audit_msg(a, "%s: finding the events of job %s: %s", sl_proj_db_path(p), a->job,
		  sqlite3_errmsg(sl_proj_db(p)));
	rc = SL_ESQLITE;
out:
	sqlite3_finalize(st);
	return rc;
}

int sl_audit_open(sl_audit **out, sl_proj *p, const char *job_id,
		  const struct sl_audit_filter *filter)
{
	if (!job_id || !*job_id) {
		sl_proj_set_error(p, "no job id given");
		return SL_EINVAL;
	}
	struct sl_audit *a = calloc(1, sizeof *a);
	if (!a || !(a->job = strdup(job_id))) {
		free(a);
		sl_proj_set_error(p, "out of memory");
		return SL_ENOMEM;
	}
	a->p = p;
	if (filter)
		a->f = *filter;
	sl_state_init(&a->prev);
	sl_state_init(&a->cur);
	sl_fetch_init(&a->fetch, sl_proj_reader(p));
	int rc = list_events(a);
	if (rc == SL_OK && a->n == 0) {
		bool bounded = a->f.to_seq != 0;
		audit_msg(a, "%s: no job '%s'%s", sl_proj_db_path(p), job_id,
			  bounded ? " among the events up to --to" : " in the log");
		rc = SL_ENOTFOUND;
	}
	if (rc != SL_OK) {
		sl_proj_set_error(p, "%s", a->errmsg);
		sl_audit_close(a);
		return rc;
	}
	*out = a;
	return SL_OK;
}

/* ---- the changes ----------------------------------------------------------- */

/* Whether the change of c from b to v is a save re-stamping a time. */
static bool is_restamp(const struct sl_audit *a, const struct sl_state_column *c,
		       const struct sl_value *b, const struct sl_value *v)
{
	Statelog__Event__BodyCase k = a->ev->body_case;
	if (k != STATELOG__EVENT__BODY_JOB_FIELDS_SET && k != STATELOG__EVENT__BODY_SHEET_FIELDS_SET)
		return false;
	if (!c || c->type != SL_COL_TIME || strcmp(c->name, "updated_at") == 0 || b->null || v->null)
		return false;
	int64_t d = v->i > b->i ? v->i - b->i : b->i - v->i;
	return d < SL_AUDIT_RESTAMP_US;
}

static int add_change(struct sl_audit *a, const struct sl_state_column *c, int64_t sheet,
		      bool b_abs, const struct sl_value *b, bool a_abs, const struct sl_value *v)
{
	if (a->n_ch == a->cap_ch) {
		size_t cap = a->cap_ch ? 2 * a->cap_ch : 64;
		struct sl_audit_change *n = realloc(a->ch, cap * sizeof *n);
		if (!n)
			return SL_ENOMEM;
		a->ch = n;
		a->cap_ch = cap;
	}
	a->ch[a->n_ch++] = (struct sl_audit_change){
		.column = c, .sheet = sheet, .before_absent = b_abs, .after_absent = a_abs,
		.restamp = !b_abs && !a_abs && is_restamp(a, c, b, v), .before = *b, .after = *v,
	};
	return SL_OK;
}

/* Compares one row (jobs: sheet 0) of prev and cur, column by column. */
static int diff_row(struct sl_audit *a, const struct sl_state_column *cols, size_t n,
		    int64_t sheet, const void *before, const void *after)
{
	static const struct sl_value null = { .null = true };
	for (size_t i = 0; i < n; i++) {
		struct sl_value b = null, v = null;
		if (before)
			sl_state_column_get(&b, &cols[i], before);
		if (after)
			sl_state_column_get(&v, &cols[i], after);
		if (before && after && sl_state_column_value_equal(&cols[i], &b, &v))
			continue;
		int rc = add_change(a, &cols[i], sheet, !before, &b, !after, &v);
		if (rc != SL_OK)
			return rc;
	}
	return SL_OK;
}

static const char *presence_name(enum sl_job_presence p)
{
	return p == SL_JOB_LIVE ? "live" : p == SL_JOB_DELETED ? "deleted" : "absent";
}

static int diff_sheet(struct sl_audit *a, int64_t n, bool b_live)
{
	const struct sl_sheet_state *b = b_live ? sl_state_find_sheet(&a->prev, n) : NULL;
	const struct sl_sheet_state *v = sl_state_find_sheet(&a->cur, n);
	if (!b && !v)
		return SL_OK;
	return diff_row(a, sl_state_sheet_columns, SL_STATE_N_SHEET_COLUMNS, n, b, v);
}

static int diff(struct sl_audit *a, int64_t sheet)
{
	const struct sl_job_state *b = &a->prev, *v = &a->cur;
	bool b_live = b->presence == SL_JOB_LIVE;
	a->n_ch = 0;
	if (b->presence != v->presence) {
		struct sl_value pb = { .s = presence_name(b->presence) };
		struct sl_value pv = { .s = presence_name(v->presence) };
		int rc = add_change(a, NULL, 0, false, &pb, false, &pv);
		if (rc != SL_OK)
			return rc;
	}
	if (v->presence != SL_JOB_LIVE)
		return SL_OK;           /* gone: its rows went with it */
	int rc = diff_row(a, sl_state_job_columns, SL_STATE_N_JOB_COLUMNS, 0, b_live ? b : NULL, v);
	if (rc != SL_OK || sheet > 0)
		return rc == SL_OK ? diff_sheet(a, sheet, b_live) : rc;
	/* An event about the whole job: every sheet either state has. */
	size_t i = 0, k = 0, nb = b_live ? b->n_sheets : 0;
	while (rc == SL_OK && (i < nb || k < v->n_sheets)) {
		int64_t x = i < nb ? b->sheets[i].sheet_num : INT64_MAX;
		int64_t y = k < v->n_sheets ? v->sheets[k].sheet_num : INT64_MAX;
		int64_t n = x < y ? x : y;
		rc = diff_sheet(a, n, b_live);
		i += x == n;
		k += y == n;
	}
	return rc;
}

/* ---- walking ---------------------------------------------------------------- */

static bool listed(const struct sl_audit *a, uint64_t seq, int64_t time_us, int64_t sheet)
{
	const struct sl_audit_filter *f = &a->f;
	return (!f->from_seq || seq >= f->from_seq) && (!f->has_since || time_us >= f->since_us) &&
	       (!f->sheet || sheet == f->sheet);
}

/* Notes whether the filter's sheet exists now: named by the event, within
 * total_sheets, or a row of it. */
static void note_sheet(struct sl_audit *a, int64_t sheet)
{
	const struct sl_job_state *st = &a->cur;
	if (st->presence == SL_JOB_LIVE && st->total_sheets > a->max_sheets)
		a->max_sheets = st->total_sheets;
	if (!a->f.sheet || a->sheet_known)
		return;
	a->sheet_known = sheet == a->f.sheet ||
			 (st->presence == SL_JOB_LIVE && (a->f.sheet <= st->total_sheets ||
							  sl_state_find_sheet(st, a->f.sheet)));
}

/* Applies ev to prev, which then equals cur again. */
static int catch_up_prev(struct sl_audit *a)
{
	int rc = SL_OK;
	if (a->ev && a->ev_applied && (rc = sl_rules_apply(&a->prev, a->ev, NULL)) != SL_OK)
		audit_msg(a, "seq %" PRIu64 ": applying it again: %s", a->ev->seq, sl_strerror(rc));
	sl_event_free(a->ev);
	a->ev = NULL;
	return rc;
}

int sl_audit_next(const struct sl_audit_entry **out, sl_audit *a)
{
	int rc = catch_up_prev(a);
	if (rc != SL_OK)
		return rc;
	while (a->i < a->n) {
		uint64_t seq = a->seqs[a->i++];
		if ((rc = sl_fetch_event(&a->ev, &a->fetch, seq, NULL)) != SL_OK) {
			audit_msg(a, "%s: %s", sl_proj_log_dir(a->p), a->fetch.errmsg);
			return rc;
		}
		const sl_event *ev = a->ev;
		if (a->f.has_until && ev->time_us > a->f.until_us) {
			sl_event_free(a->ev);
			a->ev = NULL;
			a->i = a->n;    /* times never go back: nothing later is listed */
			break;
		}
		bool was_live = a->cur.presence == SL_JOB_LIVE;
		rc = sl_rules_apply(&a->cur, ev, &a->why);
		if (rc != SL_OK && !sl_rules_refused(rc) && rc != SL_EUNKNOWN) {
			audit_msg(a, "seq %" PRIu64 ": %s", seq, sl_strerror(rc));
			return rc;
		}
		a->ev_applied = rc == SL_OK;
		if (a->ev_applied && !was_live && a->cur.presence == SL_JOB_LIVE)
			a->life++;
		int64_t sheet = sl_event_sheet(ev);
		note_sheet(a, sheet);
		if (!listed(a, seq, ev->time_us, sheet)) {
			if ((rc = catch_up_prev(a)) != SL_OK)
				return rc;
			continue;
		}
		a->n_ch = 0;
		if (a->ev_applied && (rc = diff(a, sheet)) != SL_OK) {
			audit_msg(a, "out of memory");
			return rc;
		}
		a->e = (struct sl_audit_entry){
			.seq = seq, .time_us = ev->time_us, .type = sl_event_type_name(ev),
			.sheet = sheet, .life = a->life, .refused = !a->ev_applied,
			.refusal = a->ev_applied ? NULL : &a->why, .event = ev,
			.changes = a->ch, .n_changes = a->n_ch, .after = &a->cur,
		};
		*out = &a->e;
		return 1;
	}
	if (a->f.sheet && !a->sheet_known) {
		audit_msg(a, "%s: job '%s' has no sheet %" PRId64 " (its sheets: 1..%" PRId64 ")",
			  sl_proj_db_path(a->p), a->job, a->f.sheet, a->max_sheets);
		return SL_ENOTFOUND;
	}
	return 0;
}

int sl_audit_run(sl_proj *p, const char *job_id, const struct sl_audit_filter *filter,
		 sl_audit_fn fn, void *ctx)
{
	sl_audit *a = NULL;
	int rc = sl_audit_open(&a, p, job_id, filter);
	if (rc != SL_OK)
		return rc;
	const struct sl_audit_entry *e;
	while ((rc = sl_audit_next(&e, a)) == 1)
		if ((rc = fn(ctx, e)) != 0)
			break;
	if (rc < 0 && a->errmsg[0])
		sl_proj_set_error(p, "%s", a->errmsg);
	sl_audit_close(a);
	return rc;
}
