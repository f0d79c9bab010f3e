/* test_audit.c: projector/audit.c: a job's timeline lists exactly its
 * events, with the right before/after values, each life told apart, and
 * the filters choosing what is listed. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event_internal.h"
#include "history.h"
#include "proj_helpers.h"

#define T0 INT64_C(1700000000000000)

/* The scripted log: job "j" and job "other" interleaved, "j" deleted and
 * created again; seqs in the comments. */
static void script(sl_log *log)
{
	int64_t t = T0;
	ph_append(log, ph_created("j", "Job", 3), t += 1000);                           /* 1 */
	ph_append(log, ph_created("other", "Other", 1), t += 1000);                     /* 2 */
	ph_append(log, ph_sheet("j", STATELOG__EVENT__BODY_SHEET_STARTED, 1), t += 1000);       /* 3 */
	ph_append(log, ph_exec("j", 1, 1, 1, "prompt", "output"), t += 1000);          /* 4 */
	ph_append(log, ph_sheet("other", STATELOG__EVENT__BODY_SHEET_STARTED, 1), t += 1000);   /* 5 */
	ph_append(log, ph_sheet("j", STATELOG__EVENT__BODY_SHEET_COMPLETED, 1), t += 1000);     /* 6 */
	ph_append(log, ph_sheet("j", STATELOG__EVENT__BODY_SHEET_STARTED, 2), t += 1000);       /* 7 */
	ph_append(log, ph_sheet("j", STATELOG__EVENT__BODY_SHEET_FAILED, 2), t += 1000);        /* 8 */
	ph_append(log, ph_job("j", STATELOG__EVENT__BODY_JOB_PAUSED), t += 1000);       /* 9 */
	ph_append(log, ph_job("j", STATELOG__EVENT__BODY_JOB_DELETED), t += 1000);      /* 10 */
	ph_append(log, ph_sheet("j", STATELOG__EVENT__BODY_SHEET_STARTED, 1), t += 1000);       /* 11: refused */
	ph_append(log, ph_created("j", "Job again", 2), t += 1000);                     /* 12 */
	ph_append(log, ph_sheet("j", STATELOG__EVENT__BODY_SHEET_STARTED, 1), t += 1000);       /* 13 */
}

struct audit_fix {
	char *dir, *log, *db;
	sl_proj *p;
};

static void setup(struct audit_fix *f)
{
	f->dir = ph_tmpdir();
	f->log = ph_path(f->dir, "a.log");
	f->db = ph_path(f->dir, "a.db");
	sl_log *log = ph_log(f->log);
	script(log);
	sl_log_close(log);
	char err[512] = "";
	cr_assert_eq(sl_proj_open(&f->p, f->log, f->db, NULL, NULL, err, sizeof err), SL_OK, "%s",
		     err);
	cr_assert_eq(sl_proj_catch_up(f->p, NULL), SL_OK, "%s", sl_proj_errmsg(f->p));
}

static void teardown(struct audit_fix *f)
{
	sl_proj_close(f->p);
	free(f->log);
	free(f->db);
	ph_rmrf(f->dir);
}

/* A change as text: "sheet 1 status: pending -> in_progress" (absent rows
 * "-", NULL "NULL"). */
static void change_text(const struct sl_audit_change *c, char *buf, size_t len)
{
	char b[64], a[64];
	const struct sl_value *v[2] = { &c->before, &c->after };
	bool absent[2] = { c->before_absent, c->after_absent };
	char *out[2] = { b, a };
	for (int k = 0; k < 2; k++) {
		const struct sl_state_column *col = c->column;
		if (absent[k])
			snprintf(out[k], 64, "-");
		else if (v[k]->null)
			snprintf(out[k], 64, "NULL");
		else if (!col || col->type == SL_COL_TEXT || col->type == SL_COL_JOB_STATUS ||
			 col->type == SL_COL_SHEET_STATUS)
			snprintf(out[k], 64, "%s", v[k]->s);
		else if (col->type == SL_COL_REAL)
			snprintf(out[k], 64, "%g", v[k]->d);
		else
			snprintf(out[k], 64, "%" PRId64, v[k]->i);
	}
	char row[24] = "job";
	if (c->sheet)
		snprintf(row, sizeof row, "sheet %" PRId64, c->sheet);
	snprintf(buf, len, "%s %s: %s -> %s", row, c->column ? c->column->name : "presence", b, a);
}

static bool has_change(const struct sl_audit_entry *e, const char *want)
{
	char buf[256];
	for (size_t i = 0; i < e->n_changes; i++) {
		change_text(&e->changes[i], buf, sizeof buf);
		if (strcmp(buf, want) == 0)
			return true;
	}
	return false;
}

/* What each entry of job j must be: seq, type, life, refused, and changes
 * that must be among its changes (the time columns are checked apart). */
struct want_entry {
	uint64_t seq;
	const char *type;
	uint32_t life;
	bool refused;
	const char *changes[4];
};

static const struct want_entry want_j[] = {
	{ 1, "job_created", 1, false, { "job presence: absent -> live", "job name: - -> Job",
					"job total_sheets: - -> 3", "job status: - -> pending" } },
	{ 3, "sheet_started", 1, false, { "job status: pending -> running",
					  "job current_sheet: NULL -> 1",
					  "sheet 1 status: - -> in_progress",
					  "sheet 1 attempt_count: - -> 1" } },
	{ 4, "execution_recorded", 1, false, { NULL } },
	{ 6, "sheet_completed", 1, false, { "sheet 1 status: in_progress -> completed",
					    "job last_completed_sheet: 0 -> 1",
					    "job current_sheet: 1 -> NULL",
					    "sheet 1 exit_code: NULL -> 0" } },
	{ 7, "sheet_started", 1, false, { "sheet 2 status: - -> in_progress",
					  "job current_sheet: NULL -> 2" } },
	{ 8, "sheet_failed", 1, false, { "sheet 2 status: in_progress -> failed",
					 "job total_retry_count: 0 -> 1",
					 "sheet 2 error_message: NULL -> Unknown failure (no error message recorded)",
					 "job current_sheet: 2 -> NULL" } },
	{ 9, "job_paused", 1, false, { "job status: running -> paused" } },
	{ 10, "job_deleted", 1, false, { "job presence: live -> deleted" } },
	{ 11, "sheet_started", 1, true, { NULL } },
	{ 12, "job_created", 2, false, { "job presence: deleted -> live",
					 "job name: - -> Job again", "job total_sheets: - -> 2" } },
	{ 13, "sheet_started", 2, false, { "sheet 1 status: - -> in_progress",
					   "sheet 1 attempt_count: - -> 1" } },
};

Test(audit, a_scripted_job_lists_exactly_its_events_with_before_and_after)
{
	struct audit_fix f;
	setup(&f);
	sl_audit *a;
	cr_assert_eq(sl_audit_open(&a, f.p, "j", NULL), SL_OK, "%s", sl_proj_errmsg(f.p));
	const struct sl_audit_entry *e;
	size_t k = 0;
	int rc;
	while ((rc = sl_audit_next(&e, a)) == 1) {
		cr_assert_lt(k, sizeof want_j / sizeof want_j[0], "an extra entry, seq %" PRIu64,
			     e->seq);
		const struct want_entry *w = &want_j[k++];
		cr_assert_eq(e->seq, w->seq, "entry %zu: seq %" PRIu64 ", want %" PRIu64, k, e->seq,
			     w->seq);
		cr_assert_str_eq(e->type, w->type, "seq %" PRIu64, e->seq);
		cr_assert_eq(e->life, w->life, "seq %" PRIu64 ": life %u, want %u", e->seq, e->life,
			     w->life);
		cr_assert_eq(e->refused, w->refused, "seq %" PRIu64 ": refused %d", e->seq, e->refused);
		cr_assert_eq(e->time_us, T0 + 1000 * (int64_t)e->seq, "seq %" PRIu64 ": time", e->seq);
		for (int c = 0; c < 4 && w->changes[c]; c++)
			cr_assert(has_change(e, w->changes[c]), "seq %" PRIu64 " %s: no change \"%s\"",
				  e->seq, e->type, w->changes[c]);
		if (w->refused || strcmp(w->type, "execution_recorded") == 0)
			cr_assert_eq(e->n_changes, 0, "seq %" PRIu64 ": %zu changes, want none", e->seq,
				     e->n_changes);
		/* Every event but the execution record moves updated_at. */
		if (!w->refused && strcmp(w->type, "execution_recorded") != 0 &&
		    strcmp(w->type, "job_deleted") != 0) {
			char buf[128];
			snprintf(buf, sizeof buf, "%" PRId64, T0 + 1000 * (int64_t)e->seq);
			bool found = false;
			for (size_t i = 0; i < e->n_changes; i++)
				found |= e->changes[i].column &&
					 strcmp(e->changes[i].column->name, "updated_at") == 0 &&
					 e->changes[i].after.i == T0 + 1000 * (int64_t)e->seq;
			cr_assert(found, "seq %" PRIu64 ": updated_at not moved to %s", e->seq, buf);
		}
		/* Nothing unchanged is listed. */
		for (size_t i = 0; i < e->n_changes; i++) {
			const struct sl_audit_change *c = &e->changes[i];
			if (c->column && !c->before_absent && !c->after_absent)
				cr_assert_not(sl_state_column_value_equal(c->column, &c->before,
									  &c->after),
					      "seq %" PRIu64 ": %s listed but unchanged", e->seq,
					      c->column->name);
		}
	}
	cr_assert_eq(rc, 0, "audit: %s", sl_audit_errmsg(a));
	cr_assert_eq(k, sizeof want_j / sizeof want_j[0], "%zu entries", k);
	sl_audit_close(a);
	teardown(&f);
}

/* The changes of each entry are exactly the columns that differ between
 * the job replayed up to the event before and up to the event (on the
 * reference workload: every kind of event it makes). */
static int collect(void *ctx, const struct sl_audit_entry *e)
{
	uint64_t *n = ctx;
	(*n)++;
	(void)e;
	return 0;
}

Test(audit, workload_jobs_audit_to_their_views_state)
{
	char *dir = ph_tmpdir(), *log = ph_path(dir, "w.log"), *db = ph_path(dir, "w.db");
	sl_log *l = ph_log(log);
	ph_append_workload(l, 3000, 5);
	sl_log_close(l);
	sl_proj *p;
	char err[512];
	cr_assert_eq(sl_proj_open(&p, log, db, NULL, NULL, err, sizeof err), SL_OK, "%s", err);
	cr_assert_eq(sl_proj_catch_up(p, NULL), SL_OK);
	char *job = ph_query(db, "SELECT id FROM jobs ORDER BY total_sheets DESC LIMIT 1");
	/* Replaying the audit's after-values rebuilds the state the views hold. */
	struct sl_job_state want, st;
	cr_assert_eq(sl_proj_load_job(&want, p, job), SL_OK);
	sl_state_init(&st);
	sl_audit *a;
	cr_assert_eq(sl_audit_open(&a, p, job, NULL), SL_OK, "%s", sl_proj_errmsg(p));
	const struct sl_audit_entry *e;
	uint64_t n = 0;
	while (sl_audit_next(&e, a) == 1) {
		n++;
		for (size_t i = 0; i < e->n_changes; i++) {
			const struct sl_audit_change *c = &e->changes[i];
			if (!c->column) {
				if (strcmp(c->after.s, "live") == 0) {
					sl_state_free(&st);
					st.presence = SL_JOB_LIVE;
				}
				continue;
			}
			void *row = &st;
			if (c->sheet) {
				struct sl_sheet_state *sh;
				cr_assert_eq(sl_state_add_sheet(&sh, &st, c->sheet), SL_OK);
				row = sh;
			}
			char *owned = c->column->type == SL_COL_TEXT && !c->after.null
				? strdup(c->after.s) : NULL;
			sl_state_column_put(c->column, row, &c->after, owned);
		}
	}
	sl_audit_close(a);
	cr_assert_gt(n, 20, "job %s: %" PRIu64 " events", job, n);
	cr_assert(sl_state_equal(&st, &want, 0), "job %s: the audit's after-values give %s "
		  "unlike the views", job, sl_state_first_difference(&st, &want, 0, NULL));
	uint64_t m = 0;
	cr_assert_eq(sl_audit_run(p, job, NULL, collect, &m), SL_OK);
	cr_assert_eq(m, n, "callback %" PRIu64 " entries, iterator %" PRIu64, m, n);
	sl_state_free(&st);
	sl_state_free(&want);
	free(job);
	sl_proj_close(p);
	free(log);
	free(db);
	ph_rmrf(dir);
}

/* Filters: rows of (filter, the seqs listed). */
struct filter_row {
	int64_t sheet;
	uint64_t from, to;
	int64_t since_ms, until_ms;     /* 0: none; else T0 + ms */
	uint64_t seqs[12];              /* ends at 0 */
};

static const struct filter_row filters[] = {
	{ 1, 0, 0, 0, 0, { 3, 4, 6, 11, 13 } },  /* the execution record is sheet 1's */
	{ 2, 0, 0, 0, 0, { 7, 8 } },
	{ 0, 6, 9, 0, 0, { 6, 7, 8, 9 } },
	{ 0, 0, 0, 8, 11, { 8, 9, 10, 11 } },
	{ 1, 5, 12, 0, 0, { 6, 11 } },
	{ 0, 12, 0, 0, 0, { 12, 13 } },
	{ 3, 0, 0, 0, 0, { 0 } },
};

ParameterizedTestParameters(audit, filters_choose_what_is_listed)
{
	static size_t rows[] = { 0, 1, 2, 3, 4, 5, 6 };
	return cr_make_param_array(size_t, rows, sizeof filters / sizeof filters[0]);
}

ParameterizedTest(size_t *row, audit, filters_choose_what_is_listed)
{
	const struct filter_row *r = &filters[*row];
	struct audit_fix f;
	setup(&f);
	struct sl_audit_filter flt = {
		.sheet = r->sheet, .from_seq = r->from, .to_seq = r->to,
		.has_since = r->since_ms != 0, .since_us = T0 + r->since_ms * 1000,
		.has_until = r->until_ms != 0, .until_us = T0 + r->until_ms * 1000,
	};
	sl_audit *a;
	cr_assert_eq(sl_audit_open(&a, f.p, "j", &flt), SL_OK, "%s", sl_proj_errmsg(f.p));
	const struct sl_audit_entry *e;
	size_t k = 0;
	while (sl_audit_next(&e, a) == 1) {
		cr_assert_eq(e->seq, r->seqs[k], "filter row %zu: entry %zu is seq %" PRIu64
			     ", want %" PRIu64, *row, k, e->seq, r->seqs[k]);
		k++;
		/* Before-values come from every earlier event, listed or not. */
		if (e->seq == 6)
			cr_assert(has_change(e, "sheet 1 status: in_progress -> completed"),
				  "filter row %zu: seq 6 before-value", *row);
	}
	cr_assert_eq(r->seqs[k], 0, "filter row %zu: %zu entries, more wanted", *row, k);
	sl_audit_close(a);
	teardown(&f);
}

Test(audit, an_unknown_job_is_not_found_in_one_line)
{
	struct audit_fix f;
	setup(&f);
	sl_audit *a = NULL;
	cr_assert_eq(sl_audit_open(&a, f.p, "nosuch", NULL), SL_ENOTFOUND);
	cr_assert_not_null(strstr(sl_proj_errmsg(f.p), "no job 'nosuch'"), "%s",
			   sl_proj_errmsg(f.p));
	cr_assert_null(strchr(sl_proj_errmsg(f.p), '\n'), "%s", sl_proj_errmsg(f.p));
	teardown(&f);
}

/* The other job's timeline holds only its own events. */
Test(audit, another_job_sees_only_its_events)
{
	struct audit_fix f;
	setup(&f);
	uint64_t seqs[8], n = 0;
	sl_audit *a;
	cr_assert_eq(sl_audit_open(&a, f.p, "other", NULL), SL_OK);
	const struct sl_audit_entry *e;
	while (sl_audit_next(&e, a) == 1 && n < 8)
		seqs[n++] = e->seq;
	sl_audit_close(a);
	cr_assert_eq(n, 2, "other: %" PRIu64 " entries", n);
	cr_assert_eq(seqs[0], 2);
	cr_assert_eq(seqs[1], 5);
	teardown(&f);
}
