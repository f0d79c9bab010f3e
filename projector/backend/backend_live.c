/* backend_live.c: views that are never stale.  In SL_VIEWS_LIVE a projector
 * thread runs beside the writer: every commit of the handle wakes it; it
 * waits views_lag_ms for more commits to arrive (so that a burst becomes one
 * SQLite transaction, never one per commit), then catches the views up
 * with everything the log holds.  Under load the catch-up itself is the
 * coalescing window: commits that arrive while it runs are taken by the
 * next one.  In SL_VIEWS_SYNC the call that appended catches up before it
 * returns; calls that arrive together wait on proj_mu, and the first to get
 * it takes the others' commits too, so theirs find nothing left to do.
 *
 * Lock order: live_mu is never held while proj_mu is taken (the thread
 * drops it before catching up).  A crash loses nothing: the log is the
 * truth, and the next open catches the views up as always.
 */
#include "backend_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define DEFAULT_LAG_MS 15

static void deadline_after(struct timespec *ts, uint32_t ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static void *live_main(void *arg)
{
	sl_backend *be = arg;
	pthread_mutex_lock(&be->live_mu);
	for (;;) {
		while (!be->live_pending && !be->live_stop)
			pthread_cond_wait(&be->live_cv, &be->live_mu);
		if (be->live_stop)
			break;
		/* Let a burst gather: wait out the lag (a stop cuts it short). */
		struct timespec until;
		deadline_after(&until, be->views_lag_ms);
		while (!be->live_stop &&
		       pthread_cond_timedwait(&be->live_cv, &be->live_mu, &until) != ETIMEDOUT)
			;
		be->live_pending = false;
		pthread_mutex_unlock(&be->live_mu);
		int rc = sl_be_views_catch_up(be, "live views");
		pthread_mutex_lock(&be->live_mu);
		if (rc != SL_OK && be->live_rc == SL_OK) {
			be->live_rc = rc;
			snprintf(be->live_err, sizeof be->live_err, "%s", sl_backend_errmsg(be));
		}
	}
	pthread_mutex_unlock(&be->live_mu);
	return NULL;
}

int sl_be_live_start(sl_backend *be)
{
	if (be->views_lag_ms == 0)
		be->views_lag_ms = DEFAULT_LAG_MS;
	pthread_mutex_init(&be->live_mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&be->live_cv, &ca);
	pthread_condattr_destroy(&ca);
	if (be->views != SL_VIEWS_LIVE || be->read_only)
		return SL_OK;
	int e = pthread_create(&be->live_thread, NULL, live_main, be);
	if (e != 0) {
		pthread_cond_destroy(&be->live_cv);
		pthread_mutex_destroy(&be->live_mu);
		return sl_be_fail(be, SL_ENOMEM, "starting the live views thread: %s", strerror(e));
	}
	be->live_running = true;
	return SL_OK;
}

int sl_be_live_stop(sl_backend *be)
{
	if (be->live_running) {
		pthread_mutex_lock(&be->live_mu);
		be->live_stop = true;
		pthread_cond_signal(&be->live_cv);
		pthread_mutex_unlock(&be->live_mu);
		pthread_join(be->live_thread, NULL);
		be->live_running = false;
	}
	int rc = be->live_rc;
	pthread_cond_destroy(&be->live_cv);
	pthread_mutex_destroy(&be->live_mu);
	return rc;
}

void sl_be_views_changed(sl_backend *be, const char *what)
{
	int rc;
	switch (be->views) {
	case SL_VIEWS_LIVE:
		pthread_mutex_lock(&be->live_mu);
		if (!be->live_pending) {
			be->live_pending = true;
			pthread_cond_signal(&be->live_cv);
		}
		pthread_mutex_unlock(&be->live_mu);
		break;
	case SL_VIEWS_SYNC:
		/* The commit is in the log: the call succeeded.  A failure to
		 * show it in the views is the views' (the next read or the next
		 * open catches up), kept for close() to report. */
		if ((rc = sl_be_views_catch_up(be, what)) != SL_OK) {
			pthread_mutex_lock(&be->live_mu);
			if (be->live_rc == SL_OK) {
				be->live_rc = rc;
				snprintf(be->live_err, sizeof be->live_err, "%s",
					 sl_backend_errmsg(be));
			}
			pthread_mutex_unlock(&be->live_mu);
		}
		break;
	case SL_VIEWS_ON_READ:
		break;
	}
}

int sl_backend_sync_views(sl_backend *be)
{
	return sl_be_views_catch_up(be, "sync_views");
}
