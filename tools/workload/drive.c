/* drive.c: the workload's events as an orchestrator's backend calls
 * (drive.h). */
#include "drive.h"
#include "event_internal.h"

#include <stdlib.h>
#include <string.h>

#include "jobmap.h"

struct job_model {
	struct sl_jobmap_node node;     /* in sl_drive.jobs, keyed by id */
	char *id;
	struct sl_job_state st;
	int64_t last_us;
};

struct sl_drive {
	struct sl_jobmap jobs;          /* of struct job_model */
	int64_t last_exec_id;
};

int64_t sl_drive_last_execution_id(const sl_drive *d)
{
	return d->last_exec_id;
}

int sl_drive_new(sl_drive **out)
{
	sl_drive *d = calloc(1, sizeof(*d));
	if (!d || sl_jobmap_init(&d->jobs, 64) != SL_OK) {
		free(d);
		return SL_ENOMEM;
	}
	*out = d;
	return SL_OK;
}

void sl_drive_free(sl_drive *d)
{
	if (!d)
		return;
	struct sl_jobmap_node *n = sl_jobmap_next(&d->jobs, NULL);
	while (n) {
		struct sl_jobmap_node *next = sl_jobmap_next(&d->jobs, n);
		struct job_model *m = SL_CONTAINER_OF(n, struct job_model, node);
		free(m->id);
		sl_state_free(&m->st);
		free(m);
		n = next;
	}
	sl_jobmap_fini(&d->jobs);
	free(d);
}

/* The orchestrator's model of job id, made (empty) when create and it has
 * none; NULL when it has none or out of memory. */
static struct job_model *model_of(sl_drive *d, const char *id, bool create)
{
	struct sl_jobmap_node *n = sl_jobmap_find(&d->jobs, id);
	if (n || !create)
		return n ? SL_CONTAINER_OF(n, struct job_model, node) : NULL;
	struct job_model *m = calloc(1, sizeof *m);
	if (!m || !(m->id = strdup(id))) {
		free(m);
		return NULL;
	}
	sl_state_init(&m->st);
	m->node.key = m->id;
	sl_jobmap_insert(&d->jobs, &m->node);
	return m;
}

int sl_drive_call(sl_backend *be, const sl_event *ev, struct sl_job_state *st)
{
	const char *id = ev->job_id;
	switch (ev->body_case) {
	case STATELOG__EVENT__BODY_PID_SET:
		return sl_backend_pid_set(be, id, ev->pid_set->pid);
	case STATELOG__EVENT__BODY_SHEET_STARTED:
		return sl_backend_sheet_started(be, id, ev->sheet_started->sheet_num);
	case STATELOG__EVENT__BODY_SHEET_COMPLETED: {
		const Statelog__SheetCompleted *b = ev->sheet_completed;
		struct sl_sheet_completion c = {
			.has_validation_passed = b->has_validation_passed,
			.validation_passed = b->validation_passed,
			.validation_details = b->validation_details,
			.has_duration_seconds = b->has_duration_seconds,
			.duration_seconds = b->duration_seconds,
		};
		return sl_backend_sheet_completed(be, id, b->sheet_num, &c);
	}
	case STATELOG__EVENT__BODY_SHEET_FAILED: {
		const Statelog__SheetFailed *b = ev->sheet_failed;
		struct sl_sheet_failure f = {
			.message = b->message, .category = b->category,
			.has_exit_code = b->has_exit_code, .exit_code = b->exit_code,
			.has_exit_signal = b->has_exit_signal, .exit_signal = b->exit_signal,
			.exit_reason = b->exit_reason,
			.has_duration_seconds = b->has_duration_seconds,
			.duration_seconds = b->duration_seconds,
		};
		return sl_backend_sheet_failed(be, id, b->sheet_num, &f);
	}
	case STATELOG__EVENT__BODY_SHEET_SKIPPED:
		return sl_backend_sheet_skipped(be, id, ev->sheet_skipped->sheet_num,
						ev->sheet_skipped->reason);
	case STATELOG__EVENT__BODY_JOB_PAUSED:
		return sl_backend_job_paused(be, id, ev->job_paused->reason);
	case STATELOG__EVENT__BODY_JOB_RESUMED:
		return sl_backend_job_resumed(be, id);
	case STATELOG__EVENT__BODY_JOB_FAILED:
		return sl_backend_job_failed(be, id, ev->job_failed->message);
	case STATELOG__EVENT__BODY_JOB_COMPLETED:
		return sl_backend_job_completed(be, id);
	case STATELOG__EVENT__BODY_JOB_CANCELLED:
		return sl_backend_job_cancelled(be, id, ev->job_cancelled->reason);
	case STATELOG__EVENT__BODY_RATE_LIMIT_WAIT:
		return sl_backend_rate_limit_wait(be, id, ev->rate_limit_wait->has_sheet_num
						  ? ev->rate_limit_wait->sheet_num : 0,
						  ev->rate_limit_wait->wait_seconds);
	default:
		return sl_backend_save(be, st);
	}
}

int sl_drive_event(sl_drive *d, sl_backend *be, sl_event *ev, int64_t now_us,
		   enum sl_drive_call *call)
{
	*call = SL_DRIVE_SKIPPED;
	struct job_model *m = model_of(d, ev->job_id, true);
	if (!m)
		return SL_ENOMEM;
	/* The orchestrator's clock: its state in memory changes now. */
	m->last_us = now_us > m->last_us ? now_us : m->last_us + 1;
	bool had = ev->has_time_us;
	int64_t t = ev->time_us;
	ev->has_time_us = 1;
	ev->time_us = m->last_us;
	int rc = sl_rules_apply(&m->st, ev, NULL);
	ev->has_time_us = had;
	ev->time_us = t;
	if (rc != SL_OK)
		return SL_OK;  /* the model refuses it: no call to make */
	switch (ev->body_case) {
	case STATELOG__EVENT__BODY_EXECUTION_RECORDED: {
		const Statelog__ExecutionRecorded *b = ev->execution_recorded;
		struct sl_execution_record rec = {
			.job_id = ev->job_id, .sheet_num = b->sheet_num,
			.attempt_num = b->attempt_num, .prompt = b->prompt,
			.output = b->output, .has_exit_code = b->has_exit_code,
			.exit_code = b->exit_code,
			.has_duration_seconds = b->has_duration_seconds,
			.duration_seconds = b->duration_seconds,
		};
		*call = SL_DRIVE_RECORD;
		return sl_backend_record_execution(&d->last_exec_id, be, &rec);
	}
	case STATELOG__EVENT__BODY_JOB_DELETED:
		*call = SL_DRIVE_DELETE;
		return sl_backend_delete(be, ev->job_id);
	default:
		*call = SL_DRIVE_STATE;
		return sl_drive_call(be, ev, &m->st);
	}
}
