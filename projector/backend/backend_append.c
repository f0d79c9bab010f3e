/* backend_append.c: sl_backend_append(), the door for events made outside
 * the API (`statelog append`).  The events of one commit may belong to
 * several jobs: each job's entry is locked (in id order, so two such calls
 * cannot deadlock; every other call locks one entry only), each job's
 * events are dry-run in order on its state by sl_rules_check_commit(), the
 * same function every call of the API is checked with, and only when every
 * job accepts is the commit appended and applied to the cached states. */
#include "backend_internal.h"
#include "event_internal.h"

#include <stdlib.h>
#include <string.h>

#include "timefmt.h"

/* One job of the commit: its entry and the positions of its events. */
struct job_part {
	const char *id;                 /* borrowed from the first of its events */
	struct sl_be_entry *e;          /* NULL until acquired */
	size_t *at;                     /* indexes into evs, in order */
	size_t n;
};

/* The events' positions sorted by job id, then by position: each job's
 * events become one run, in input order.  qsort's context by a file-scope
 * pointer would not be thread-safe: the pairs carry their id. */
struct pos {
	const char *id;
	size_t i;
};

static int cmp_pos(const void *a, const void *b)
{
	const struct pos *x = a, *y = b;
	int c = strcmp(x->id, y->id);
	return c ? c : (x->i > y->i) - (x->i < y->i);
}

/* Groups evs by job: parts sorted by id, each with its events in order. */
static int group(struct job_part **out, size_t *n_out, sl_event *const *evs, size_t n)
{
	struct pos *ps = malloc(n * sizeof *ps);
	struct job_part *p = calloc(n, sizeof *p);
	size_t *at = malloc(n * sizeof *at);
	if (!ps || !p || !at) {
		free(ps);
		free(p);
		free(at);
		return SL_ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		ps[i] = (struct pos){ evs[i]->job_id, i };
	qsort(ps, n, sizeof *ps, cmp_pos);
	size_t np = 0;
	for (size_t i = 0; i < n; i++) {
		at[i] = ps[i].i;
		if (i == 0 || strcmp(ps[i].id, ps[i - 1].id) != 0)
			p[np++] = (struct job_part){ .id = ps[i].id, .at = at + i };
		p[np - 1].n++;
	}
	free(ps);
	*out = p;
	*n_out = np;
	return SL_OK;
}

static void parts_free(sl_backend *be, struct job_part *p, size_t np)
{
	if (!p)
		return;
	for (size_t k = 0; k < np; k++)
		if (p[k].e)
			sl_be_entry_release(be, p[k].e);
	free(np ? p[0].at : NULL);
	free(p);
}

static int refuse(sl_backend *be, sl_event *const *evs, size_t i, const struct sl_refusal *why)
{
	return sl_be_fail(be, why->code, "append: event %zu (%s) of job '%s': %s%s%s", i + 1,
			  sl_event_type_name(evs[i]), evs[i]->job_id, why->field,
			  why->field[0] ? ": " : "", why->reason);
}

/* The dry run of part q: its events, those without a time given the
 * clock's for the check only. */
static int check_part(sl_backend *be, sl_event *const *evs, const struct job_part *q,
		      int64_t now)
{
	sl_event **sub = malloc(q->n * sizeof *sub);
	bool *timed = malloc(q->n * sizeof *timed);
	if (!sub || !timed) {
		free(sub);
		free(timed);
		return sl_be_fail(be, SL_ENOMEM, "append: out of memory");
	}
	for (size_t j = 0; j < q->n; j++) {
		sub[j] = evs[q->at[j]];
		timed[j] = sub[j]->has_time_us;
		if (!timed[j]) {
			sub[j]->has_time_us = 1;
			sub[j]->time_us = now;
		}
	}
	struct sl_refusal why;
	size_t failed = 0;
	int rc = sl_rules_check_commit(&q->e->st, sub, q->n, &failed, &why);
	for (size_t j = 0; j < q->n; j++)
		if (!timed[j])
			sub[j]->has_time_us = 0;
	free(sub);
	free(timed);
	if (rc == SL_ENOMEM)
		return sl_be_fail(be, rc, "append: out of memory");
	return rc == SL_OK ? SL_OK : refuse(be, evs, q->at[failed], &why);
}

int sl_backend_append(struct sl_commit_info *info, sl_backend *be, sl_event *const *evs,
		      size_t n)
{
	int rc = sl_be_check_writable(be, "append");
	if (rc != SL_OK)
		return rc;
	if (n == 0)
		return sl_be_fail(be, SL_EINVAL, "append: no events");
	int64_t now = sl_time_now_us();
	struct sl_refusal why;
	for (size_t i = 0; i < n; i++) {
		if (!evs[i] || !evs[i]->job_id || !evs[i]->job_id[0])
			return sl_be_fail(be, SL_EINVAL, "append: event %zu has no job id", i + 1);
		if ((rc = sl_rules_check_time(evs[i], now, &why)) != SL_OK)
			return refuse(be, evs, i, &why);
	}
	struct job_part *p = NULL;
	size_t np = 0;
	if (group(&p, &np, evs, n) != SL_OK)
		return sl_be_fail(be, SL_ENOMEM, "append: out of memory");
	for (size_t k = 0; k < np && rc == SL_OK; k++)
		rc = sl_be_entry_acquire(be, p[k].id, &p[k].e);
	/* One hold of the log across every job's check and the append: each
	 * job's state is its latest, whoever wrote it. */
	struct sl_log_hold h;
	bool held = false;
	if (rc == SL_OK) {
		if ((rc = sl_log_hold(&h, be->log)) != SL_OK)
			rc = sl_be_fail(be, rc, "append: %s", sl_log_errmsg(be->log));
		held = rc == SL_OK;
	}
	for (size_t k = 0; k < np && rc == SL_OK; k++)
		if (p[k].e->gen != h.foreign_gen)
			rc = sl_be_entry_reload(be, p[k].e, h.foreign_gen,
							 h.next_seq ? h.next_seq - 1 : 0);
	if (rc == SL_OK)
		rc = sl_be_exec_ids(be, "append", evs, n);
	for (size_t k = 0; k < np && rc == SL_OK; k++)
		rc = check_part(be, evs, &p[k], now);
	if (rc != SL_OK) {
		if (held)
			sl_log_release(be->log);
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		evs[i]->has_seq = 0;
	struct sl_commit_info ci;
	rc = sl_log_append_held(be->log, (sl_event **)evs, n, &ci);
	if (rc != SL_OK) {
		rc = sl_be_fail(be, rc, "append: %s", sl_log_errmsg(be->log));
		goto out;
	}
	for (size_t k = 0; k < np; k++) {
		struct sl_be_entry *e = p[k].e;
		for (size_t j = 0; j < p[k].n && e->loaded; j++)
			if (sl_rules_apply(&e->st, evs[p[k].at[j]], NULL) != SL_OK) {
				/* Checked above, so it cannot happen; if it does,
				 * the views (the same rules) have the truth. */
				sl_state_free(&e->st);
				e->loaded = false;
			}
	}
	pthread_mutex_lock(&be->mu);
	for (size_t i = 0; i < n; i++) {
		const sl_event *ev = evs[i];
		if (ev->body_case == STATELOG__EVENT__BODY_EXECUTION_RECORDED &&
		    ev->execution_recorded->has_execution_id &&
		    ev->execution_recorded->execution_id >= be->next_exec_id &&
		    ev->execution_recorded->execution_id < INT64_MAX)
			be->next_exec_id = ev->execution_recorded->execution_id + 1;
	}
	pthread_mutex_unlock(&be->mu);
	if (info)
		*info = ci;
out:
	parts_free(be, p, np);
	if (rc == SL_OK)
		sl_be_views_changed(be, "append");
	return rc;
}
