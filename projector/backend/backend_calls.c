/* backend_calls.c: the backend calls that append one event each: the
 * original's mark_sheet_status() and record_execution(), and the intention
 * calls (sheet started / completed / failed / skipped, job paused / failed /
 * resumed / completed / cancelled, pid set, rate-limit wait).  Each checks
 * its input against the job's cached state, then appends through
 * sl_be_append_one() (backend_cache.c), which applies the event to the cache
 * with the model's one set of rules.
 */
#include "backend_internal.h"
#include "event_internal.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- the original's mutators ------------------------------------------ */

int sl_backend_mark_sheet_status(sl_backend *be, const char *job_id, int64_t sheet_num,
				 const char *status, const char *error_message)
{
	static const char what[] = "mark_sheet_status";
	enum sl_sheet_status s;
	struct sl_be_entry *e;
	int rc;
	if (!status || sl_sheet_status_from_name(&s, status) != SL_OK)
		return sl_be_fail(be, SL_EINVAL, "%s: '%s' is not a sheet status", what,
			       status ? status : "(null)");
	if ((rc = sl_be_job_begin(be, what, job_id, &e)) != SL_OK)
		return rc;
	/* The original loads first, and so recovers a zombie. */
	if ((rc = sl_be_recover_zombie(be, e)) != SL_OK)
		goto out;
	if (!e->loaded) {
		rc = sl_be_fail(be, SL_EIO, "%s: job '%s': cached state lost", what, job_id);
		goto out;
	}
	switch (s) {
	case SL_SHEET_COMPLETED: {
		Statelog__SheetCompleted b = STATELOG__SHEET_COMPLETED__INIT;
		b.has_sheet_num = 1;
		b.sheet_num = sheet_num;
		rc = sl_be_append_one(be, what, e, STATELOG__EVENT__BODY_SHEET_COMPLETED, &b);
		break;
	}
	case SL_SHEET_FAILED: {
		Statelog__SheetFailed b = STATELOG__SHEET_FAILED__INIT;
		b.has_sheet_num = 1;
		b.sheet_num = sheet_num;
		b.message = (char *)(error_message && error_message[0] ? error_message
								       : "Unknown error");
		rc = sl_be_append_one(be, what, e, STATELOG__EVENT__BODY_SHEET_FAILED, &b);
		break;
	}
	case SL_SHEET_IN_PROGRESS: {
		Statelog__SheetStarted b = STATELOG__SHEET_STARTED__INIT;
		b.has_sheet_num = 1;
		b.sheet_num = sheet_num;
		rc = sl_be_append_one(be, what, e, STATELOG__EVENT__BODY_SHEET_STARTED, &b);
		break;
	}
	default: {
		/* The original changes nothing, then saves: updated_at moves. */
		sl_event *ev;
		if ((rc = sl_state_touch_event(&ev, job_id, 0)) != SL_OK) {
			rc = sl_be_fail(be, rc, "%s: out of memory", what);
			break;
		}
		rc = sl_be_job_append(be, what, e, &ev, 1, NULL);
		sl_event_free(ev);
		break;
	}
	}
out:
	sl_be_entry_release(be, e);
	return rc;
}

/* The byte length of the first `chars` code points of s (all of it when it
 * has fewer).  Bytes that do not start a UTF-8 sequence are counted as
 * continuation bytes, so a sequence is never cut in two. */
static size_t utf8_prefix(const char *s, size_t chars)
{
	size_t i = 0, seen = 0;
	for (; s[i]; i++) {
		if (((unsigned char)s[i] & 0xC0) != 0x80 && seen++ == chars)
			break;
	}
	return i;
}

/* Where the last `chars` code points of s begin. */
static const char *utf8_suffix(const char *s, size_t chars)
{
	size_t len = strlen(s), seen = 0;
	while (len > 0) {
		len--;
		if (((unsigned char)s[len] & 0xC0) != 0x80 && ++seen == chars)
			break;
	}
	return s + len;
}

int sl_backend_record_execution(int64_t *out, sl_backend *be, const struct sl_execution_record *rec)
{
	static const char what[] = "record_execution";
	struct sl_be_entry *e;
	char *prompt = NULL;
	int rc;
	if (!rec)
		return sl_be_fail(be, SL_EINVAL, "%s: no record", what);
	if ((rc = sl_be_job_begin(be, what, rec->job_id, &e)) != SL_OK)
		return rc;

	Statelog__ExecutionRecorded b = STATELOG__EXECUTION_RECORDED__INIT;
	b.has_sheet_num = b.has_attempt_num = 1;
	b.sheet_num = rec->sheet_num;
	b.attempt_num = rec->attempt_num;
	b.prompt = (char *)rec->prompt;
	b.output = (char *)rec->output;
	if (!be->full_text && rec->prompt) {
		size_t len = utf8_prefix(rec->prompt, SL_BACKEND_PROMPT_CHARS);
		if (rec->prompt[len]) {
			if (!(prompt = strndup(rec->prompt, len))) {
				rc = sl_be_fail(be, SL_ENOMEM, "%s: out of memory", what);
				goto out;
			}
			b.prompt = prompt;
		}
	}
	if (!be->full_text && rec->output)
		b.output = (char *)utf8_suffix(rec->output, SL_BACKEND_OUTPUT_CHARS);
	b.has_exit_code = rec->has_exit_code;
	b.exit_code = rec->exit_code;
	b.has_duration_seconds = rec->has_duration_seconds;
	b.duration_seconds = rec->duration_seconds;

	/* The id is given under the log's hold (sl_be_exec_ids()), after any
	 * other writer's. */
	rc = sl_be_append_one(be, what, e, STATELOG__EVENT__BODY_EXECUTION_RECORDED, &b);
	if (rc == SL_OK)
		*out = b.execution_id;
out:
	free(prompt);
	sl_be_entry_release(be, e);
	return rc;
}

/* ---- intention calls --------------------------------------------------- */

/* One event of `type` for job_id: the rules check it (the job must exist,
 * its sheet number be 1 or more, ...) before it is appended. */
static int intention(sl_backend *be, const char *what, const char *job_id,
		     Statelog__Event__BodyCase type, void *body)
{
	struct sl_be_entry *e;
	int rc = sl_be_job_begin(be, what, job_id, &e);
	if (rc != SL_OK)
		return rc;
	rc = sl_be_append_one(be, what, e, type, body);
	sl_be_entry_release(be, e);
	return rc;
}

int sl_backend_sheet_started(sl_backend *be, const char *job_id, int64_t sheet_num)
{
	Statelog__SheetStarted b = STATELOG__SHEET_STARTED__INIT;
	b.has_sheet_num = 1;
	b.sheet_num = sheet_num;
	return intention(be, "sheet_started", job_id, STATELOG__EVENT__BODY_SHEET_STARTED, &b);
}

int sl_backend_sheet_completed(sl_backend *be, const char *job_id, int64_t sheet_num,
			       const struct sl_sheet_completion *c)
{
	Statelog__SheetCompleted b = STATELOG__SHEET_COMPLETED__INIT;
	b.has_sheet_num = 1;
	b.sheet_num = sheet_num;
	if (c) {
		b.has_validation_passed = c->has_validation_passed;
		b.validation_passed = c->validation_passed;
		b.validation_details = (char *)c->validation_details;
		b.has_duration_seconds = c->has_duration_seconds;
		b.duration_seconds = c->duration_seconds;
	}
	return intention(be, "sheet_completed", job_id, STATELOG__EVENT__BODY_SHEET_COMPLETED, &b);
}

int sl_backend_sheet_failed(sl_backend *be, const char *job_id, int64_t sheet_num,
			    const struct sl_sheet_failure *f)
{
	Statelog__SheetFailed b = STATELOG__SHEET_FAILED__INIT;
	b.has_sheet_num = 1;
	b.sheet_num = sheet_num;
	if (f) {
		b.message = (char *)f->message;
		b.category = (char *)f->category;
		b.has_exit_code = f->has_exit_code;
		b.exit_code = f->exit_code;
		b.has_exit_signal = f->has_exit_signal;
		b.exit_signal = f->exit_signal;
		b.exit_reason = (char *)f->exit_reason;
		b.has_duration_seconds = f->has_duration_seconds;
		b.duration_seconds = f->duration_seconds;
	}
	return intention(be, "sheet_failed", job_id, STATELOG__EVENT__BODY_SHEET_FAILED, &b);
}

int sl_backend_sheet_skipped(sl_backend *be, const char *job_id, int64_t sheet_num,
			     const char *reason)
{
	Statelog__SheetSkipped b = STATELOG__SHEET_SKIPPED__INIT;
	b.has_sheet_num = 1;
	b.sheet_num = sheet_num;
	b.reason = (char *)reason;
	return intention(be, "sheet_skipped", job_id, STATELOG__EVENT__BODY_SHEET_SKIPPED, &b);
}

int sl_backend_job_paused(sl_backend *be, const char *job_id, const char *reason)
{
	Statelog__JobPaused b = STATELOG__JOB_PAUSED__INIT;
	b.reason = (char *)reason;
	return intention(be, "job_paused", job_id, STATELOG__EVENT__BODY_JOB_PAUSED, &b);
}

int sl_backend_job_failed(sl_backend *be, const char *job_id, const char *message)
{
	Statelog__JobFailed b = STATELOG__JOB_FAILED__INIT;
	b.message = (char *)message;
	return intention(be, "job_failed", job_id, STATELOG__EVENT__BODY_JOB_FAILED, &b);
}

int sl_backend_job_resumed(sl_backend *be, const char *job_id)
{
	Statelog__JobResumed b = STATELOG__JOB_RESUMED__INIT;
	return intention(be, "job_resumed", job_id, STATELOG__EVENT__BODY_JOB_RESUMED, &b);
}

int sl_backend_job_completed(sl_backend *be, const char *job_id)
{
	Statelog__JobCompleted b = STATELOG__JOB_COMPLETED__INIT;
	return intention(be, "job_completed", job_id, STATELOG__EVENT__BODY_JOB_COMPLETED, &b);
}

int sl_backend_job_cancelled(sl_backend *be, const char *job_id, const char *reason)
{
	Statelog__JobCancelled b = STATELOG__JOB_CANCELLED__INIT;
	b.reason = (char *)reason;
	return intention(be, "job_cancelled", job_id, STATELOG__EVENT__BODY_JOB_CANCELLED, &b);
}

int sl_backend_pid_set(sl_backend *be, const char *job_id, int64_t pid)
{
	Statelog__PidSet b = STATELOG__PID_SET__INIT;
	b.has_pid = 1;
	b.pid = pid;
	return intention(be, "pid_set", job_id, STATELOG__EVENT__BODY_PID_SET, &b);
}

int sl_backend_rate_limit_wait(sl_backend *be, const char *job_id, int64_t sheet_num,
			       double wait_seconds)
{
	Statelog__RateLimitWait b = STATELOG__RATE_LIMIT_WAIT__INIT;
	b.has_wait_seconds = 1;
	b.wait_seconds = wait_seconds;
	b.has_sheet_num = sheet_num != 0;
	b.sheet_num = sheet_num;
	return intention(be, "rate_limit_wait", job_id, STATELOG__EVENT__BODY_RATE_LIMIT_WAIT, &b);
}
