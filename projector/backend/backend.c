/* backend.c: the backend API (backend.h): open/close, and the original's
 * operations on whole job states: load, save, delete, list_jobs,
 * next_sheet.  The original's other mutators and the intention calls are in
 * backend_calls.c, the queries of the views in backend_views.c, the cache of
 * job states and the append path in backend_cache.c.
 */
#include "backend_internal.h"
#include "event_internal.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timefmt.h"

#define DEFAULT_CACHE_JOBS 256

/* ---- open / close ------------------------------------------------------ */

void sl_backend_options_init(struct sl_backend_options *opts)
{
	*opts = (struct sl_backend_options){ .durability = SL_DURABLE_ALWAYS };
}

int sl_backend_default_db_path(char **out, const char *log_dir)
{
	if (!log_dir || !log_dir[0])
		return SL_EINVAL;
	size_t len = strlen(log_dir);
	while (len > 1 && log_dir[len - 1] == '/')
		len--;
	if (len >= 4 && memcmp(log_dir + len - 4, ".log", 4) == 0 &&
	    (len == 4 || log_dir[len - 5] != '/'))
		len -= 4;
	char *p = malloc(len + 4);
	if (!p)
		return SL_ENOMEM;
	memcpy(p, log_dir, len);
	memcpy(p + len, ".db", 4);
	*out = p;
	return SL_OK;
}

static void backend_free(sl_backend *be)
{
	sl_be_cache_free(be);
	pthread_mutex_destroy(&be->mu);
	pthread_mutex_destroy(&be->proj_mu);
	free(be->log_dir);
	free(be->db_path);
	free(be);
}

int sl_backend_open(sl_backend **out, const char *log_dir, const struct sl_backend_options *opts,
		    char *err, size_t errlen)
{
	struct sl_backend_options dflt;
	sl_backend *be = NULL;
	int rc;
	bool live = false;
	char msg[1024] = "";

	if (!opts) {
		sl_backend_options_init(&dflt);
		opts = &dflt;
	}
	if (!log_dir || !log_dir[0]) {
		snprintf(msg, sizeof msg, "no log directory given");
		rc = SL_EINVAL;
		goto fail;
	}
	be = calloc(1, sizeof *be);
	if (!be) {
		rc = SL_ENOMEM;
		goto fail;
	}
	pthread_mutex_init(&be->mu, NULL);
	pthread_mutex_init(&be->proj_mu, NULL);
	be->read_only = opts->read_only;
	be->durability = opts->durability;
	be->views = opts->views;
	be->views_lag_ms = opts->views_lag_ms;
	be->full_text = opts->full_execution_text;
	be->pid_alive = opts->pid_alive ? opts->pid_alive : sl_state_pid_alive;
	be->pid_ctx = opts->pid_alive ? opts->pid_alive_ctx : NULL;
	be->cache_cap = opts->cache_jobs ? opts->cache_jobs : DEFAULT_CACHE_JOBS;
	be->log_dir = strdup(log_dir);
	rc = SL_ENOMEM;
	if (sl_be_cache_init(be) != SL_OK || !be->log_dir)
		goto fail;
	if (opts->db_path) {
		if (!(be->db_path = strdup(opts->db_path)))
			goto fail;
	} else if ((rc = sl_backend_default_db_path(&be->db_path, log_dir)) != SL_OK) {
		goto fail;
	}

	if (!be->read_only) {
		struct sl_log_options lo;
		sl_log_options_init(&lo);
		lo.durability = opts->durability;
		if (opts->interval_ms)
			lo.interval_ms = opts->interval_ms;
		lo.create = opts->create;
		if (opts->busy_timeout_ms)
			lo.busy_timeout_ms = opts->busy_timeout_ms;
		rc = sl_log_open(&be->log, log_dir, &lo, opts->report, msg, sizeof msg);
		if (rc != SL_OK)
			goto fail;
	}
	struct sl_proj_options po;
	sl_proj_options_init(&po);
	po.copy_if_read_only = be->read_only;
	if (be->read_only)
		po.max_wait_ms = opts->read_wait_ms;
	struct sl_proj_stats opened;
	rc = sl_proj_open(&be->proj, log_dir, be->db_path, &po, &opened, msg, sizeof msg);
	if (rc != SL_OK)
		goto fail;
	if (opened.rebuilt)
		snprintf(be->rebuilt_why, sizeof be->rebuilt_why, "%s", opened.rebuilt_why);
	if (!be->read_only && sl_proj_as_of_seq(be->proj)) {
		/* Its views stay as of their point: no writer may use them. */
		snprintf(msg, sizeof msg, "%s: an as-of database (the views as of seq %" PRIu64
			 ", written by `statelog at`): open it read-only, or give the live views",
			 be->db_path, sl_proj_as_of_seq(be->proj));
		rc = SL_EINVAL;
		goto fail;
	}
	rc = sl_be_views_init(be);
	if (rc == SL_OK && !be->read_only) {
		/* Ids go on from the highest the views have ever given; the
		 * views are caught up with the whole log first. */
		int64_t max;
		rc = sl_be_views_max_exec_id(be, 0, &max);
		be->next_exec_id = max + 1;
	}
	if (rc == SL_OK && (rc = sl_be_live_start(be)) == SL_OK)
		live = true;
	if (rc != SL_OK) {
		snprintf(msg, sizeof msg, "%s", sl_backend_errmsg(be));
		goto fail;
	}
	*out = be;
	return SL_OK;
fail:
	if (err && errlen) {
		/* The message names the log itself when it is about it: not twice. */
		const char *dir = log_dir ? log_dir : "(null)";
		size_t n = strlen(dir);
		if (msg[0] && strncmp(msg, dir, n) == 0 && msg[n] == ':')
			snprintf(err, errlen, "%s", msg);
		else
			snprintf(err, errlen, "%s: %s", dir, msg[0] ? msg : sl_strerror(rc));
	}
	if (be) {
		if (live)
			sl_be_live_stop(be);
		sl_be_views_fini(be);
		sl_proj_close(be->proj);
		sl_log_close(be->log);
		backend_free(be);
	}
	return rc;
}

int sl_backend_close(sl_backend *be)
{
	if (!be)
		return SL_OK;
	/* The views hold every commit when close returns: the dashboard that
	 * opens the database next sees all of them. */
	int rc = sl_be_live_stop(be);
	if (!be->read_only) {
		int crc = sl_be_views_catch_up(be, "close");
		if (rc == SL_OK)
			rc = crc;
	}
	sl_be_views_fini(be);
	int prc = sl_proj_close(be->proj);
	int lrc = sl_log_close(be->log);
	if (rc == SL_OK)
		rc = lrc != SL_OK ? lrc : prc;
	backend_free(be);
	return rc;
}

uint64_t sl_backend_last_seq(sl_backend *be)
{
	return be->log ? sl_log_next_seq(be->log) - 1 : 0;
}

uint64_t sl_backend_views_behind(sl_backend *be)
{
	pthread_mutex_lock(&be->proj_mu);
	uint64_t n = be->behind;
	pthread_mutex_unlock(&be->proj_mu);
	return n;
}

const char *sl_backend_views_copy(sl_backend *be)
{
	return sl_proj_private_copy(be->proj);
}

const char *sl_backend_views_rebuilt(sl_backend *be)
{
	return be->rebuilt_why[0] ? be->rebuilt_why : NULL;
}

/* ---- load / save / delete ---------------------------------------------- */

/* A job's state straight from the views (read-only handles). */
static int load_from_views(sl_backend *be, const char *what, const char *job_id,
			   struct sl_job_state *out)
{
	struct sl_job_state st;
	sl_state_init(&st);
	int rc = sl_be_views_load_job(be, job_id, 0, &st);
	if (rc == SL_OK && st.presence != SL_JOB_LIVE) {
		sl_state_free(&st);
		rc = sl_be_fail(be, SL_ENOTFOUND, "%s: no job '%s'", what, job_id);
	}
	if (rc == SL_OK)
		*out = st;
	return rc;
}

/* load() with the entry already found: recover, then copy. */
static int load_locked(sl_backend *be, struct sl_be_entry *e, struct sl_job_state *out)
{
	int rc = sl_be_recover_zombie(be, e);
	if (rc != SL_OK)
		return rc;
	if (!e->loaded)         /* the recovery could not be applied in memory */
		return sl_be_fail(be, SL_EIO, "load: job '%s': cached state lost", e->id);
	rc = sl_state_copy(out, &e->st);
	if (rc != SL_OK)
		return sl_be_fail(be, rc, "load: job '%s': out of memory", e->id);
	return SL_OK;
}

int sl_backend_load(struct sl_job_state *out, sl_backend *be, const char *job_id)
{
	struct sl_be_entry *e;
	int rc = sl_be_check_id(be, "load", job_id);
	if (rc != SL_OK)
		return rc;
	if (be->read_only)
		return load_from_views(be, "load", job_id, out);
	rc = sl_be_entry_acquire(be, job_id, &e);
	if (rc != SL_OK)
		return rc;
	if (e->st.presence != SL_JOB_LIVE)
		rc = sl_be_fail(be, SL_ENOTFOUND, "load: no job '%s'", job_id);
	else
		rc = load_locked(be, e, out);
	sl_be_entry_release(be, e);
	return rc;
}

int sl_backend_save(sl_backend *be, struct sl_job_state *state)
{
	struct sl_be_entry *e = NULL;
	sl_event **evs = NULL;
	size_t n = 0;
	struct sl_commit_info ci;
	int rc;

	if (!state)
		return sl_be_fail(be, SL_EINVAL, "save: no state");
	if ((rc = sl_be_check_id(be, "save", state->id)) != SL_OK ||
	    (rc = sl_be_check_writable(be, "save")) != SL_OK)
		return rc;
	if ((rc = sl_be_job_begin(be, "save", state->id, &e)) != SL_OK)
		return rc;

	/* The state to store: the caller's columns and sheets (borrowed, never
	 * freed), with what the original's save does not write taken from the
	 * job as it is. */
	struct sl_job_state want = *state;
	bool exists = e->st.presence == SL_JOB_LIVE;
	want.presence = SL_JOB_LIVE;
	want.description = exists ? e->st.description : NULL;
	if (exists)
		want.created_at_us = e->st.created_at_us;
	struct sl_refusal why;
	rc = sl_state_diff(&evs, &n, &e->st, &want, sl_time_now_us(), &why);
	if (rc != SL_OK) {
		sl_be_refused(be, "save", state->id, &why);
		goto out;
	}
	if (!exists && state->created_at_us == 0) {
		/* No creation time given: the job is created now. */
		assert(n > 0 && evs[0]->body_case == STATELOG__EVENT__BODY_JOB_CREATED);
		evs[0]->job_created->has_created_at_us = 0;
	}
	if (n == 0) {
		/* Nothing changed; the original's save still bumps updated_at. */
		evs = malloc(sizeof *evs);
		if (!evs || (rc = sl_state_touch_event(&evs[0], state->id, 0)) != SL_OK) {
			rc = sl_be_fail(be, SL_ENOMEM, "save: job '%s': out of memory", state->id);
			goto out;
		}
		n = 1;
	}
	rc = sl_be_job_append(be, "save", e, evs, n, &ci);
	if (rc == SL_OK)
		state->updated_at_us = ci.time_us;
out:
	sl_events_free(evs, n);
	sl_be_entry_release(be, e);
	return rc;
}

int sl_backend_delete(sl_backend *be, const char *job_id)
{
	struct sl_be_entry *e;
	int rc = sl_be_job_begin(be, "delete", job_id, &e);
	if (rc != SL_OK)
		return rc;
	Statelog__JobDeleted body = STATELOG__JOB_DELETED__INIT;
	rc = sl_be_append_one(be, "delete", e, STATELOG__EVENT__BODY_JOB_DELETED, &body);
	sl_be_entry_release(be, e);
	return rc;
}

/* ---- list_jobs, next_sheet -------------------------------------------- */

void sl_backend_states_free(struct sl_job_state *states, size_t n)
{
	for (size_t i = 0; states && i < n; i++)
		sl_state_free(&states[i]);
	free(states);
}

/* list_jobs() sorts the loaded states newest updated_at first (a load may
 * have recovered a zombie since the views were read); ties keep the views'
 * order. */
struct ranked {
	struct sl_job_state st;
	size_t rank;
};

static int cmp_ranked(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;
	if (x->st.updated_at_us != y->st.updated_at_us)
		return x->st.updated_at_us > y->st.updated_at_us ? -1 : 1;
	return x->rank < y->rank ? -1 : x->rank > y->rank;
}

int sl_backend_list_jobs(struct sl_job_state **out, size_t *n_out, sl_backend *be)
{
	char **ids = NULL;
	size_t n_ids = 0, n = 0;
	struct ranked *r = NULL;
	struct sl_job_state *res = NULL;
	int rc = sl_be_views_job_ids(be, &ids, &n_ids);
	if (rc != SL_OK)
		return rc;
	if (n_ids && !(r = calloc(n_ids, sizeof *r))) {
		rc = sl_be_fail(be, SL_ENOMEM, "list_jobs: out of memory");
		goto out;
	}
	for (size_t i = 0; i < n_ids; i++) {
		/* A job deleted since the ids were read is left out, as the
		 * original leaves out a load() that returns None. */
		rc = sl_backend_load(&r[n].st, be, ids[i]);
		if (rc == SL_ENOTFOUND)
			continue;
		if (rc != SL_OK)
			goto out;
		r[n].rank = i;
		n++;
	}
	rc = SL_OK;
	if (n) {
		qsort(r, n, sizeof *r, cmp_ranked);
		if (!(res = malloc(n * sizeof *res))) {
			rc = sl_be_fail(be, SL_ENOMEM, "list_jobs: out of memory");
			goto out;
		}
		for (size_t i = 0; i < n; i++)
			res[i] = r[i].st;
	}
	*out = res;
	*n_out = n;
	n = 0;                  /* moved into res */
out:
	for (size_t i = 0; i < n; i++)
		sl_state_free(&r[i].st);
	free(r);
	for (size_t i = 0; i < n_ids; i++)
		free(ids[i]);
	free(ids);
	return rc;
}

int sl_backend_next_sheet(int64_t *out, sl_backend *be, const char *job_id)
{
	struct sl_be_entry *e;
	struct sl_job_state st;
	int64_t next = 1;       /* an unknown job starts from the beginning */
	int rc = sl_be_check_id(be, "next_sheet", job_id);
	if (rc != SL_OK)
		return rc;
	if (be->read_only) {
		rc = load_from_views(be, "next_sheet", job_id, &st);
		if (rc == SL_OK) {
			rc = sl_state_next_sheet(&next, &st);
			sl_state_free(&st);
		}
		if (rc == SL_ENOTFOUND)
			rc = SL_OK;
		if (rc == SL_OK)
			*out = next;
		return rc;
	}
	if ((rc = sl_be_entry_acquire(be, job_id, &e)) != SL_OK)
		return rc;
	if (e->st.presence == SL_JOB_LIVE) {
		rc = sl_be_recover_zombie(be, e);
		if (rc == SL_OK && !e->loaded)
			rc = sl_be_fail(be, SL_EIO, "next_sheet: job '%s': cached state lost", job_id);
		if (rc == SL_OK)
			rc = sl_state_next_sheet(&next, &e->st);
	}
	sl_be_entry_release(be, e);
	if (rc == SL_OK)
		*out = next;
	return rc;
}
