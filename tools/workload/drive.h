/* drive.h: the reference workload run through the backend API, the way an
 * orchestrator makes its calls: for each workload event, the orchestrator
 * changes its state of the job in memory (sl_rules_apply) and makes the
 * matching call:
 *   sheet_started/completed/failed/skipped, job_paused/resumed/failed/
 *   completed/cancelled, pid_set, rate_limit_wait -> the intention call;
 *   execution_recorded -> record_execution(); job_deleted -> delete();
 *   anything else (job_created, *_fields_set, ...) -> save() of the state.
 * Used by `statelog demo`, the backend benchmark and the crash campaign. */
#ifndef SL_DRIVE_H
#define SL_DRIVE_H

#include <stdint.h>

#include "backend.h"
#include "state.h"

enum sl_drive_call {
	SL_DRIVE_SKIPPED = -1,   /* not a call an orchestrator would make */
	SL_DRIVE_STATE = 0,      /* a save or an intention call */
	SL_DRIVE_RECORD,         /* record_execution */
	SL_DRIVE_DELETE,         /* delete */
};

typedef struct sl_drive sl_drive;

int sl_drive_new(sl_drive **out);
void sl_drive_free(sl_drive *d);  /* NULL ok */

/* The intention call for a state-change event, or save(st) when there is
 * none.  The event's sheet numbers and fields are passed as they are. */
int sl_drive_call(sl_backend *be, const sl_event *ev, struct sl_job_state *st);

/* Applies ev (at now_us, or later than the job's last change) to the
 * orchestrator's state of its job and makes the matching call.  *call says
 * which (SL_DRIVE_SKIPPED when the model refuses the event).  Returns SL_OK
 * or the backend's error code (sl_backend_errmsg() has the message).  The
 * event is left as it was given. */
int sl_drive_event(sl_drive *d, sl_backend *be, sl_event *ev, int64_t now_us,
		   enum sl_drive_call *call);

/* The id record_execution() returned for the last SL_DRIVE_RECORD call. */
int64_t sl_drive_last_execution_id(const sl_drive *d);

#endif
