/* backend_cache.c: the backend's cache of job states and the one path by
 * which the backend appends (backend_internal.h), shared by backend.c and
 * backend_calls.c.
 *
 * The cache.  One entry per job id seen, holding the job's state exactly as
 * the log says it is.  An entry is filled from the views (caught up first)
 * when first used, and from then on kept current by applying, with
 * sl_rules_apply(), every event this handle appends for the job, right
 * after the append returns.  Every append for a job happens under that
 * job's entry lock, so the entry misses no event of this handle.  Other
 * writers (processes, or other handles) may append too: the log counts the
 * times it found their commits (foreign_gen), and an entry records the
 * count it was current at.  A call that appends holds the log across its
 * check and its append (sl_be_entry_hold()), and when the count moved, reads
 * the job again from the views, caught up to the log's end, first; a call
 * that reads asks the log to look (sl_log_refresh()) and does the same.
 * The views are only read on a miss or after another writer, so load() of
 * a cached job costs a copy of its state and a look at the log's tail.
 *
 * An entry that is not in use (refs == 0) may be dropped when the cache is
 * over its size; it is read back from the views when needed.  Dropping it is
 * safe because its events were all appended before its lock was released,
 * and every read of the views first makes whatever the log holds in its
 * buffer visible to the projector's reader (backend_views.c).
 *
 * A job that is absent stays in the cache as an absent state, so repeated
 * calls for an unknown id do not query the views each time.
 *
 * The errors of every backend call are kept here too: per thread, so that
 * threads sharing a handle never see each other's messages.
 */
#include "backend_internal.h"
#include "event_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timefmt.h"

/* ---- errors ------------------------------------------------------------ */

/* Per thread, so that threads sharing a handle never see each other's. */
static __thread const sl_backend *err_owner;
static __thread char err_buf[1024];

int sl_be_fail(const sl_backend *be, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err_buf, sizeof err_buf, fmt, ap);
	va_end(ap);
	err_owner = be;
	return rc;
}

const char *sl_backend_errmsg(const sl_backend *be)
{
	return be && err_owner == be ? err_buf : "";
}

int sl_be_check_id(const sl_backend *be, const char *what, const char *id)
{
	if (!id || !id[0])
		return sl_be_fail(be, SL_EINVAL, "%s: the job id is empty", what);
	return SL_OK;
}

int sl_be_check_writable(const sl_backend *be, const char *what)
{
	if (be->read_only)
		return sl_be_fail(be, SL_EINVAL, "%s: the backend is open read-only", what);
	return SL_OK;
}

/* ---- the cache --------------------------------------------------------- */


static void entry_free(struct sl_be_entry *e)
{
	if (!e)
		return;
	sl_state_free(&e->st);
	pthread_mutex_destroy(&e->mu);
	free(e->id);
	free(e);
}

/* Drops idle entries, least recently used first, while the cache is over
 * its size.  Called with be->mu held. */
static void table_evict(sl_backend *be)
{
	while (be->jobs.count > be->cache_cap) {
		struct sl_be_entry *victim = NULL;
		for (struct sl_jobmap_node *n = sl_jobmap_next(&be->jobs, NULL); n;
		     n = sl_jobmap_next(&be->jobs, n)) {
			struct sl_be_entry *e = SL_CONTAINER_OF(n, struct sl_be_entry, node);
			if (e->refs == 0 && (!victim || e->last_use < victim->last_use))
				victim = e;
		}
		if (!victim)
			return;         /* every entry is in use */
		sl_jobmap_remove(&be->jobs, &victim->node);
		entry_free(victim);
	}
}

/* Unlocks and unpins an entry from sl_be_entry_acquire(). */
void sl_be_entry_release(sl_backend *be, struct sl_be_entry *e)
{
	if (e->held) {
		sl_log_release(be->log);
		e->held = false;
	}
	pthread_mutex_unlock(&e->mu);
	pthread_mutex_lock(&be->mu);
	e->refs--;
	if (be->jobs.count > be->cache_cap)
		table_evict(be);
	pthread_mutex_unlock(&be->mu);
}

int sl_be_entry_reload(sl_backend *be, struct sl_be_entry *e, uint64_t gen, uint64_t at_least)
{
	struct sl_job_state st;
	sl_state_init(&st);
	int rc = sl_be_views_load_job(be, e->id, at_least, &st);
	if (rc != SL_OK)
		return rc;
	sl_state_free(&e->st);
	e->st = st;
	e->loaded = true;
	e->gen = gen;
	return SL_OK;
}

int sl_be_entry_hold(sl_backend *be, const char *what, struct sl_be_entry *e)
{
	if (e->held)
		return SL_OK;
	struct sl_log_hold h;
	int rc = sl_log_hold(&h, be->log);
	if (rc != SL_OK)
		return sl_be_fail(be, rc, "%s: job '%s': %s", what, e->id, sl_log_errmsg(be->log));
	e->held = true;
	if (!e->loaded || e->gen != h.foreign_gen)
		rc = sl_be_entry_reload(be, e, h.foreign_gen, h.next_seq ? h.next_seq - 1 : 0);
	return rc;
}

/* The entry of job_id, pinned and locked.  With `look`, the log is looked
 * at first for other writers' commits; its state is read from the views if
 * it was not cached, or is stale. */
static int entry_acquire(sl_backend *be, const char *job_id, bool look, struct sl_be_entry **out)
{
	struct sl_be_entry *e = NULL, *fresh = NULL;
	int rc = SL_OK;

	pthread_mutex_lock(&be->mu);
	struct sl_jobmap_node *n = sl_jobmap_find(&be->jobs, job_id);
	if (n)
		e = SL_CONTAINER_OF(n, struct sl_be_entry, node);
	if (!e) {
		/* Allocating under mu is brief and keeps the lookup one step. */
		fresh = calloc(1, sizeof *fresh);
		if (fresh && !(fresh->id = strdup(job_id))) {
			free(fresh);
			fresh = NULL;
		}
		if (!fresh) {
			pthread_mutex_unlock(&be->mu);
			return sl_be_fail(be, SL_ENOMEM, "%s: out of memory", job_id);
		}
		pthread_mutex_init(&fresh->mu, NULL);
		sl_state_init(&fresh->st);
		fresh->node.key = fresh->id;
		sl_jobmap_insert(&be->jobs, &fresh->node);
		e = fresh;
	}
	e->refs++;
	e->last_use = ++be->clock;
	pthread_mutex_unlock(&be->mu);

	pthread_mutex_lock(&e->mu);
	struct sl_log_hold h = { 0 };
	if (look && be->log && (rc = sl_log_refresh(&h, be->log)) != SL_OK)
		rc = sl_be_fail(be, rc, "job '%s': %s", job_id, sl_log_errmsg(be->log));
	else if (!e->loaded || (look && be->log && e->gen != h.foreign_gen))
		rc = sl_be_entry_reload(be, e, h.foreign_gen, h.next_seq ? h.next_seq - 1 : 0);
	if (rc != SL_OK) {
		sl_be_entry_release(be, e);
		return rc;
	}
	*out = e;
	return SL_OK;
}

int sl_be_entry_acquire(sl_backend *be, const char *job_id, struct sl_be_entry **out)
{
	return entry_acquire(be, job_id, true, out);
}

/* The entry of a job that must exist, for a call that appends. */
int sl_be_job_begin(sl_backend *be, const char *what, const char *job_id, struct sl_be_entry **out)
{
	struct sl_be_entry *e = NULL;
	int rc = sl_be_check_id(be, what, job_id);
	if (rc == SL_OK)
		rc = sl_be_check_writable(be, what);
	if (rc == SL_OK)
		rc = entry_acquire(be, job_id, false, &e);
	if (rc != SL_OK)
		return rc;
	if ((rc = sl_be_entry_hold(be, what, e)) != SL_OK) {
		sl_be_entry_release(be, e);
		return rc;
	}
	*out = e;
	return SL_OK;
}

int sl_be_refused(const sl_backend *be, const char *what, const char *job_id,
		  const struct sl_refusal *why)
{
	/* The rules' codes are the API's: SL_ENOTFOUND for a job that does not
	 * exist, SL_EINVAL (SL_EEXIST) for a call the model does not allow. */
	return sl_be_fail(be, why->code, "%s: job '%s': %s%s%s", what, job_id, why->field,
			  why->field[0] ? ": " : "", why->reason);
}

int sl_be_exec_ids(sl_backend *be, const char *what, sl_event *const *evs, size_t n)
{
	bool need = false;
	for (size_t i = 0; i < n; i++)
		need = need || (evs[i]->body_case == STATELOG__EVENT__BODY_EXECUTION_RECORDED &&
				!evs[i]->execution_recorded->has_execution_id);
	if (!need)
		return SL_OK;
	struct sl_log_hold h;
	int rc = sl_log_refresh(&h, be->log);  /* held: describes the log's end */
	if (rc != SL_OK)
		return sl_be_fail(be, rc, "%s: %s", what, sl_log_errmsg(be->log));
	pthread_mutex_lock(&be->mu);
	bool stale = be->exec_gen != h.foreign_gen;
	pthread_mutex_unlock(&be->mu);
	int64_t max = 0;
	if (stale && (rc = sl_be_views_max_exec_id(be, h.next_seq ? h.next_seq - 1 : 0, &max)) !=
		     SL_OK)
		return rc;
	pthread_mutex_lock(&be->mu);
	if (stale) {
		if (max >= be->next_exec_id)
			be->next_exec_id = max + 1;
		be->exec_gen = h.foreign_gen;
	}
	for (size_t i = 0; i < n; i++) {
		Statelog__ExecutionRecorded *x = evs[i]->execution_recorded;
		if (evs[i]->body_case != STATELOG__EVENT__BODY_EXECUTION_RECORDED ||
		    x->has_execution_id)
			continue;
		x->has_execution_id = 1;
		x->execution_id = be->next_exec_id++;
	}
	pthread_mutex_unlock(&be->mu);
	return SL_OK;
}

/* Appends evs[0..n) as one commit for the job of e (locked), then applies
 * them to its cached state.  The rules run first, in a dry run on the
 * cached state, so nothing they refuse is ever appended; the log then
 * assigns every time.  *info may be NULL. */
int sl_be_job_append(sl_backend *be, const char *what, struct sl_be_entry *e,
		      sl_event **evs, size_t n, struct sl_commit_info *info)
{
	struct sl_commit_info ci;
	struct sl_refusal why;
	size_t failed;
	int rc = sl_be_entry_hold(be, what, e);
	if (rc != SL_OK)
		return rc;
	if ((rc = sl_be_exec_ids(be, what, evs, n)) != SL_OK)
		return rc;
	/* The rules look at an event's time only to see that the views can
	 * write it: the clock stands in for the time the log will give. */
	int64_t now = sl_time_now_us();
	for (size_t i = 0; i < n; i++) {
		evs[i]->has_time_us = 1;
		evs[i]->time_us = now;
		evs[i]->has_seq = 0;
	}
	rc = n == 1 ? sl_rules_check(&e->st, evs[0], &why)
		    : sl_rules_check_commit(&e->st, evs, n, &failed, &why);
	if (rc == SL_ENOMEM)
		return sl_be_fail(be, rc, "%s: job '%s': out of memory", what, e->id);
	if (rc != SL_OK)
		return sl_be_refused(be, what, e->id, &why);
	for (size_t i = 0; i < n; i++)
		evs[i]->has_time_us = 0;
	rc = sl_log_append_held(be->log, evs, n, &ci);
	e->held = false;  /* ended by the append, whatever it returned */
	if (rc != SL_OK)
		return sl_be_fail(be, rc, "%s: job '%s': %s", what, e->id, sl_log_errmsg(be->log));
	for (size_t i = 0; i < n; i++) {
		if (sl_rules_apply(&e->st, evs[i], NULL) != SL_OK) {
			/* Cannot happen for events checked before appending, but
			 * if it does the commit is in the log all the same: forget
			 * the cached state and read it from the views next time,
			 * where the projector has applied the same rules. */
			sl_state_free(&e->st);
			e->loaded = false;
			break;
		}
	}
	sl_be_views_changed(be, what);
	if (info)
		*info = ci;
	return SL_OK;
}

/* An event for e's job with the given body, on the stack: strings are
 * borrowed, so it is never freed. */
static sl_event stack_event(const struct sl_be_entry *e, Statelog__Event__BodyCase type, void *body)
{
	sl_event ev = STATELOG__EVENT__INIT;
	ev.job_id = e->id;
	ev.body_case = type;
	/* Every body is a pointer in the same union. */
	ev.job_created = body;
	return ev;
}

int sl_be_append_one(sl_backend *be, const char *what, struct sl_be_entry *e,
		      Statelog__Event__BodyCase type, void *body)
{
	sl_event ev = stack_event(e, type, body);
	sl_event *p = &ev;
	return sl_be_job_append(be, what, e, &p, 1, NULL);
}

/* projector/model/MODEL.md "zombie": a zombie job is paused, and the
 * recovery is written to the log.  e is locked and live. */
int sl_be_recover_zombie(sl_backend *be, struct sl_be_entry *e)
{
	if (!sl_state_is_zombie(&e->st, be->pid_alive, be->pid_ctx))
		return SL_OK;
	/* Held, the state is the latest: another process may have recovered
	 * the job already. */
	int rc = sl_be_entry_hold(be, "load", e);
	if (rc != SL_OK || !sl_state_is_zombie(&e->st, be->pid_alive, be->pid_ctx))
		return rc;
	Statelog__ZombieRecovered z = STATELOG__ZOMBIE_RECOVERED__INIT;
	z.has_pid = 1;
	z.pid = e->st.pid;
	z.reason = (char *)SL_BACKEND_ZOMBIE_REASON;
	return sl_be_append_one(be, "load", e, STATELOG__EVENT__BODY_ZOMBIE_RECOVERED, &z);
}

int sl_be_cache_init(sl_backend *be)
{
	return sl_jobmap_init(&be->jobs, 64);
}

void sl_be_cache_free(sl_backend *be)
{
	struct sl_jobmap_node *n = be->jobs.buckets ? sl_jobmap_next(&be->jobs, NULL) : NULL;
	while (n) {
		struct sl_jobmap_node *next = sl_jobmap_next(&be->jobs, n);
		entry_free(SL_CONTAINER_OF(n, struct sl_be_entry, node));
		n = next;
	}
	sl_jobmap_fini(&be->jobs);
}
