/* apply.c: the rules of the model (MODEL.md "Rules of the model"),
 * written once as sl_state_apply(), plus next-sheet and zombie detection.
 * The writer, the projector, time travel and the audit all go through here.
 *
 * Every rule checks and allocates everything it needs before it changes
 * anything, so a failing event (SL_EINVAL, SL_ENOMEM) leaves the state as it
 * was.  Where MODEL.md is silent the original backend (CheckpointState in
 * the Python orchestrator) decides; each such choice is noted at its rule.
 *
 * Rejected events (SL_EINVAL), for every type:
 *  - no job_id, no time_us, or a job_id other than the state's id;
 *  - any event but job_created while the job is absent or deleted;
 *  - job_created while the job is live, or without name or total_sheets,
 *    or with total_sheets < 0;
 *  - a body that is not set and is not of an unknown type ("none").
 * and per type as noted below.  A body of a type this build does not know
 * gives SL_EUNKNOWN (events.proto: reported, never dropped).
 */
#include "state.h"
#include "event_internal.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The default message of a failed sheet that came without one (MODEL.md). */
#define SL_DEFAULT_FAILURE_MESSAGE "Unknown failure (no error message recorded)"

/* The note a zombie recovery leaves (MODEL.md): pid, " Trigger: ", reason. */
#define SL_ZOMBIE_MESSAGE "Recovered from stale running state (PID %s no longer " \
	"active). Job is now paused and ready to resume.%s%s"

/* ---- small helpers ----------------------------------------------------- */

/* *out = a copy of s, or NULL when s is NULL. */
static int dup_opt(char **out, const char *s)
{
	*out = s ? strdup(s) : NULL;
	return s && !*out ? SL_ENOMEM : SL_OK;
}

static void set_text(char **dst, char *owned)
{
	free(*dst);
	*dst = owned;
}

/* A sheet number a typed sheet event may name: 1..total_sheets. */
static bool sheet_in_range(const struct sl_job_state *st, protobuf_c_boolean has, int64_t n)
{
	return has && n >= 1 && n <= st->total_sheets;
}

/* ---- *FieldsSet and JobConfigChanged: set, leave, or clear columns ----- */

/* A change to one column, checked and allocated but not yet made. */
struct change {
	const struct sl_state_column *col;
	struct sl_value v;
	char *owned;
};

struct changes {
	struct change c[SL_STATE_N_SHEET_COLUMNS];
	size_t n;
};

static void changes_abort(struct changes *ch)
{
	for (size_t i = 0; i < ch->n; i++)
		free(ch->c[i].owned);
	ch->n = 0;
}

static void changes_commit(struct changes *ch, void *row)
{
	for (size_t i = 0; i < ch->n; i++)
		sl_state_column_put(ch->c[i].col, row, &ch->c[i].v, ch->c[i].owned);
	ch->n = 0;
}

/* Reads field f of msg (a status as its name).  False when it is absent.
 * That field types match the catalogue is checked by test_apply.c. */
static bool msg_get(const ProtobufCMessage *msg, uint32_t f, struct sl_value *v)
{
	const ProtobufCFieldDescriptor *fd =
		protobuf_c_message_descriptor_get_field(msg->descriptor, f);
	assert(fd);
	const char *p = (const char *)msg + fd->offset;
	*v = (struct sl_value){ 0 };
	if (fd->type == PROTOBUF_C_TYPE_STRING) {
		v->s = *(char *const *)p;
		return v->s != NULL;
	}
	if (!*(const protobuf_c_boolean *)((const char *)msg + fd->quantifier_offset))
		return false;
	switch (fd->type) {
	case PROTOBUF_C_TYPE_INT64: v->i = *(const int64_t *)p; break;
	case PROTOBUF_C_TYPE_DOUBLE: v->d = *(const double *)p; break;
	case PROTOBUF_C_TYPE_BOOL: v->i = *(const protobuf_c_boolean *)p != 0; break;
	default: assert(!"field type not in the catalogue"); return false;
	}
	return true;
}

static bool in_list(const uint32_t *list, size_t n, uint32_t f)
{
	for (size_t i = 0; i < n; i++)
		if (list[i] == f)
			return true;
	return false;
}

/* Plans the changes a fields message makes to the columns cols[i], carried
 * in msg by field number fields[i] (0: not carried).  Present = set; listed
 * in `cleared` = NULL; absent = unchanged.  SL_EINVAL when a field is both
 * set and cleared, a NOT NULL column (or the row's key) is cleared, or a
 * status is not a known name, or total_sheets < 0.  A cleared number the
 * message does not define is ignored: it comes from a newer schema, like an
 * unknown field, which protobuf ignores too. */
static int plan_fields(struct changes *ch, const ProtobufCMessage *msg,
		       const struct sl_state_column *const *cols, const uint32_t *fields,
		       size_t n, const uint32_t *cleared, size_t n_cleared)
{
	ch->n = 0;
	for (size_t k = 0; k < n_cleared; k++) {
		bool mapped = false;
		for (size_t i = 0; i < n && !mapped; i++)
			mapped = fields[i] == cleared[k] && cols[i]->nullable;
		if (!mapped && protobuf_c_message_descriptor_get_field(msg->descriptor,
								       cleared[k]))
			return SL_EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		const struct sl_state_column *c = cols[i];
		struct sl_value v;
		if (fields[i] == 0)
			continue;
		bool set = msg_get(msg, fields[i], &v);
		bool clear = in_list(cleared, n_cleared, fields[i]);
		if (set && clear)
			goto invalid;
		if (!set && !clear)
			continue;
		assert(ch->n < sizeof ch->c / sizeof ch->c[0]);
		struct change *x = &ch->c[ch->n];
		*x = (struct change){ .col = c, .v = v };
		if (clear) {
			x->v = (struct sl_value){ .null = true };
		} else if (c->type == SL_COL_JOB_STATUS) {
			enum sl_job_status s;
			if (sl_job_status_from_name(&s, x->v.s) != SL_OK)
				goto invalid;
			x->v.i = s;
		} else if (c->type == SL_COL_SHEET_STATUS) {
			enum sl_sheet_status s;
			if (sl_sheet_status_from_name(&s, x->v.s) != SL_OK)
				goto invalid;
			x->v.i = s;
		} else if (c->type == SL_COL_TEXT) {
			if (dup_opt(&x->owned, x->v.s) != SL_OK) {
				changes_abort(ch);
				return SL_ENOMEM;
			}
		} else if (c->type == SL_COL_INT && strcmp(c->name, "total_sheets") == 0 &&
			   x->v.i < 0) {
			goto invalid;
		}
		ch->n++;
	}
	return SL_OK;
invalid:
	changes_abort(ch);
	return SL_EINVAL;
}

/* Plans a fields message whose field numbers are the catalogue's. */
static int plan_catalogue(struct changes *ch, const ProtobufCMessage *msg,
			  const struct sl_state_column *cat, size_t n,
			  const uint32_t *cleared, size_t n_cleared)
{
	const struct sl_state_column *cols[SL_STATE_N_SHEET_COLUMNS];
	uint32_t fields[SL_STATE_N_SHEET_COLUMNS];
	assert(n <= SL_STATE_N_SHEET_COLUMNS);
	for (size_t i = 0; i < n; i++) {
		cols[i] = &cat[i];
		fields[i] = cat[i].key ? 0 : cat[i].field;
	}
	return plan_fields(ch, msg, cols, fields, n, cleared, n_cleared);
}

/* JobFieldsSet: raw column values from a whole-state save (or an import).
 * No rule runs: a status set here completes nothing.  updated_at_us, when
 * present, wins over the event time (sl_state_apply()). */
static int apply_job_fields(struct sl_job_state *st, const Statelog__JobFieldsSet *m)
{
	struct changes ch;
	int rc = plan_catalogue(&ch, &m->base, sl_state_job_columns,
				SL_STATE_N_JOB_COLUMNS, m->cleared, m->n_cleared);
	if (rc == SL_OK)
		changes_commit(&ch, st);
	return rc;
}

/* SheetFieldsSet: as JobFieldsSet, for one sheet, created with the defaults
 * of a new row first when it has none.  Invalid: no sheet_num or < 1.  A
 * sheet_num above total_sheets is accepted: a saved state (or a database
 * being imported) may hold such rows and the original never refused them. */
static int apply_sheet_fields(struct sl_job_state *st, const Statelog__SheetFieldsSet *m)
{
	if (!m->has_sheet_num || m->sheet_num < 1)
		return SL_EINVAL;
	struct changes ch;
	int rc = plan_catalogue(&ch, &m->base, sl_state_sheet_columns,
				SL_STATE_N_SHEET_COLUMNS, m->cleared, m->n_cleared);
	if (rc != SL_OK)
		return rc;
	struct sl_sheet_state *sh;
	rc = sl_state_add_sheet(st, m->sheet_num, &sh);
	if (rc != SL_OK) {
		changes_abort(&ch);
		return rc;
	}
	changes_commit(&ch, sh);
	return SL_OK;
}

/* JobConfigChanged: name, total_sheets and the config columns; same
 * presence rules.  name and total_sheets cannot be cleared. */
static int apply_config_changed(struct sl_job_state *st, const Statelog__JobConfigChanged *m)
{
	static const uint32_t job_field[] = { 1, 3, 6, 7, 8 };  /* in JobFieldsSet */
	const struct sl_state_column *cols[5];
	uint32_t fields[5];
	for (size_t i = 0; i < 5; i++) {
		for (size_t j = 0; j < SL_STATE_N_JOB_COLUMNS; j++)
			if (sl_state_job_columns[j].field == job_field[i])
				cols[i] = &sl_state_job_columns[j];
		fields[i] = (uint32_t)i + 1;    /* JobConfigChanged numbers 1..5 */
	}
	struct changes ch;
	int rc = plan_fields(&ch, &m->base, cols, fields, 5, m->cleared, m->n_cleared);
	if (rc == SL_OK)
		changes_commit(&ch, st);
	return rc;
}

/* ---- job lifecycle ----------------------------------------------------- */

/* JobCreated: a fresh job (pending, counters 0, no sheets), also under the
 * id of a deleted one.  created_at is the event time unless created_at_us. */
static int apply_job_created(struct sl_job_state *st, const sl_event *ev)
{
	const Statelog__JobCreated *m = ev->job_created;
	if (st->presence == SL_JOB_LIVE || !m->name || !m->has_total_sheets ||
	    m->total_sheets < 0)
		return SL_EINVAL;
	struct sl_job_state fresh;
	sl_state_init(&fresh);
	if (dup_opt(&fresh.id, ev->job_id) || dup_opt(&fresh.name, m->name) ||
	    dup_opt(&fresh.config_hash, m->config_hash) ||
	    dup_opt(&fresh.config_snapshot, m->config_snapshot) ||
	    dup_opt(&fresh.config_path, m->config_path)) {
		sl_state_free(&fresh);
		return SL_ENOMEM;
	}
	fresh.presence = SL_JOB_LIVE;
	fresh.status = SL_JOB_PENDING;
	fresh.total_sheets = m->total_sheets;
	fresh.created_at_us = m->has_created_at_us ? m->created_at_us : ev->time_us;
	sl_state_free(st);
	*st = fresh;
	return SL_OK;
}

/* JobDeleted: the views lose the job, its sheets and history.  The state
 * keeps the id only; a later job_created starts from nothing. */
static void apply_job_deleted(struct sl_job_state *st)
{
	char *id = st->id;
	st->id = NULL;
	sl_state_free(st);
	st->id = id;
	st->presence = SL_JOB_DELETED;
}

/* The job runs: MODEL "sheet started" (started_at set if missing,
 * completed_at cleared); job resumed does the same. */
static void job_runs(struct sl_job_state *st, int64_t now)
{
	st->status = SL_JOB_RUNNING;
	if (!st->has_started_at) {
		st->has_started_at = true;
		st->started_at_us = now;
	}
	st->has_completed_at = false;
	st->completed_at_us = 0;
}

static void clear_pid(struct sl_job_state *st)
{
	st->has_pid = false;
	st->pid = 0;
}

static void job_ends(struct sl_job_state *st, enum sl_job_status s, int64_t now)
{
	st->status = s;
	st->has_completed_at = true;
	st->completed_at_us = now;
}

/* ZombieRecovered: paused, pid cleared, and the recovery noted in
 * error_message unless a message is already there (NULL or "" count as
 * none, as in the original).  The pid quoted is the event's, else the
 * state's, else "None" (what the original prints for a missing pid). */
static int apply_zombie(struct sl_job_state *st, const Statelog__ZombieRecovered *m)
{
	char *msg = NULL;
	if (!st->error_message || !st->error_message[0]) {
		char pid[32] = "None";
		if (m->has_pid || st->has_pid)
			snprintf(pid, sizeof pid, "%" PRId64, m->has_pid ? m->pid : st->pid);
		const char *trig = m->reason && m->reason[0] ? " Trigger: " : "";
		const char *reason = m->reason && m->reason[0] ? m->reason : "";
		int len = snprintf(NULL, 0, SL_ZOMBIE_MESSAGE, pid, trig, reason);
		msg = len < 0 ? NULL : malloc((size_t)len + 1);
		if (!msg)
			return SL_ENOMEM;
		snprintf(msg, (size_t)len + 1, SL_ZOMBIE_MESSAGE, pid, trig, reason);
		set_text(&st->error_message, msg);
	}
	st->status = SL_JOB_PAUSED;
	clear_pid(st);
	return SL_OK;
}

/* ---- sheets ------------------------------------------------------------ */

/* Whether every one of sheets 1..total_sheets has a row and is completed.
 * O(sheets): the array is sorted without duplicates, so counting the
 * completed ones in range is enough. */
static bool all_sheets_completed(const struct sl_job_state *st)
{
	int64_t done = 0;
	for (size_t i = 0; i < st->n_sheets; i++) {
		const struct sl_sheet_state *sh = &st->sheets[i];
		if (sh->sheet_num <= st->total_sheets && sh->status == SL_SHEET_COMPLETED)
			done++;
	}
	return done == st->total_sheets;
}

/* SheetStarted (MODEL "sheet started").  Invalid: sheet_num out of 1..total. */
static int apply_sheet_started(struct sl_job_state *st, const Statelog__SheetStarted *m,
			       int64_t now)
{
	if (!sheet_in_range(st, m->has_sheet_num, m->sheet_num))
		return SL_EINVAL;
	struct sl_sheet_state *sh;
	int rc = sl_state_add_sheet(st, m->sheet_num, &sh);
	if (rc != SL_OK)
		return rc;
	st->has_current_sheet = true;
	st->current_sheet = m->sheet_num;
	job_runs(st, now);
	sh->status = SL_SHEET_IN_PROGRESS;
	sh->has_started_at = true;
	sh->started_at_us = now;
	sh->attempt_count++;
	set_text(&sh->error_message, NULL);
	sh->has_exit_code = false;
	sh->exit_code = 0;
	set_text(&sh->execution_mode, NULL);
	return SL_OK;
}

/* SheetCompleted (MODEL "sheet completed").  Invalid: sheet_num out of
 * 1..total.  As in the original: validation_passed defaults to true,
 * validation_details is replaced (absent = NULL), the duration is kept
 * when the event has none. */
static int apply_sheet_completed(struct sl_job_state *st, const Statelog__SheetCompleted *m,
				 int64_t now)
{
	if (!sheet_in_range(st, m->has_sheet_num, m->sheet_num))
		return SL_EINVAL;
	char *details;
	if (dup_opt(&details, m->validation_details) != SL_OK)
		return SL_ENOMEM;
	struct sl_sheet_state *sh;
	int rc = sl_state_add_sheet(st, m->sheet_num, &sh);
	if (rc != SL_OK) {
		free(details);
		return rc;
	}
	sh->status = SL_SHEET_COMPLETED;
	sh->has_completed_at = true;
	sh->completed_at_us = now;
	sh->has_exit_code = true;
	sh->exit_code = 0;
	sh->has_validation_passed = true;
	sh->validation_passed = m->has_validation_passed ? m->validation_passed : true;
	set_text(&sh->validation_details, details);
	if (m->has_duration_seconds) {
		sh->has_execution_duration_seconds = true;
		sh->execution_duration_seconds = m->duration_seconds;
	}
	if (m->sheet_num > st->last_completed_sheet)
		st->last_completed_sheet = m->sheet_num;
	st->has_current_sheet = false;
	st->current_sheet = 0;
	if (all_sheets_completed(st))
		job_ends(st, SL_JOB_COMPLETED, now);
	return SL_OK;
}

/* SheetFailed (MODEL "sheet failed").  Invalid: sheet_num out of 1..total.
 * As in the original: exit code, signal and reason are replaced (absent =
 * NULL), the duration is kept when the event has none, the exit reason is
 * stored as given; the job's status is left alone. */
static int apply_sheet_failed(struct sl_job_state *st, const Statelog__SheetFailed *m,
			      int64_t now)
{
	if (!sheet_in_range(st, m->has_sheet_num, m->sheet_num))
		return SL_EINVAL;
	const char *text = m->message && m->message[0] ? m->message
						       : SL_DEFAULT_FAILURE_MESSAGE;
	const char *cat = sl_state_name_in(sl_error_category_names, m->category)
			  ? m->category : NULL;
	char *msg = NULL, *category = NULL, *reason = NULL;
	struct sl_sheet_state *sh;
	int rc = SL_ENOMEM;
	if (dup_opt(&msg, text) || dup_opt(&category, cat) ||
	    dup_opt(&reason, m->exit_reason))
		goto fail;
	rc = sl_state_add_sheet(st, m->sheet_num, &sh);
	if (rc != SL_OK)
		goto fail;
	sh->status = SL_SHEET_FAILED;
	sh->has_completed_at = true;
	sh->completed_at_us = now;
	set_text(&sh->error_message, msg);
	set_text(&sh->error_category, category);
	sh->has_exit_code = m->has_exit_code;
	sh->exit_code = m->has_exit_code ? m->exit_code : 0;
	sh->has_exit_signal = m->has_exit_signal;
	sh->exit_signal = m->has_exit_signal ? m->exit_signal : 0;
	set_text(&sh->exit_reason, reason);
	if (m->has_duration_seconds) {
		sh->has_execution_duration_seconds = true;
		sh->execution_duration_seconds = m->duration_seconds;
	}
	st->has_current_sheet = false;
	st->current_sheet = 0;
	st->total_retry_count++;
	return SL_OK;
fail:
	free(msg);
	free(category);
	free(reason);
	return rc;
}

/* SheetSkipped (MODEL "sheet skipped").  Invalid: sheet_num out of
 * 1..total.  As in the original: an empty or absent reason leaves
 * error_message alone, and current_sheet is cleared. */
static int apply_sheet_skipped(struct sl_job_state *st, const Statelog__SheetSkipped *m,
			       int64_t now)
{
	if (!sheet_in_range(st, m->has_sheet_num, m->sheet_num))
		return SL_EINVAL;
	char *reason = NULL;
	if (m->reason && m->reason[0] && dup_opt(&reason, m->reason) != SL_OK)
		return SL_ENOMEM;
	struct sl_sheet_state *sh;
	int rc = sl_state_add_sheet(st, m->sheet_num, &sh);
	if (rc != SL_OK) {
		free(reason);
		return rc;
	}
	sh->status = SL_SHEET_SKIPPED;
	sh->has_completed_at = true;
	sh->completed_at_us = now;
	if (reason)
		set_text(&sh->error_message, reason);
	st->has_current_sheet = false;
	st->current_sheet = 0;
	return SL_OK;
}

/* ---- the one entry point ----------------------------------------------- */

static int apply_body(struct sl_job_state *st, const sl_event *ev)
{
	int64_t now = ev->time_us;
	switch (ev->body_case) {
	case STATELOG__EVENT__BODY_JOB_CONFIG_CHANGED:
		return apply_config_changed(st, ev->job_config_changed);
	case STATELOG__EVENT__BODY_PID_SET:
		/* Invalid without a pid: clearing it is a job_fields_set. */
		if (!ev->pid_set->has_pid)
			return SL_EINVAL;
		st->has_pid = true;
		st->pid = ev->pid_set->pid;
		return SL_OK;
	case STATELOG__EVENT__BODY_SHEET_STARTED:
		return apply_sheet_started(st, ev->sheet_started, now);
	case STATELOG__EVENT__BODY_SHEET_COMPLETED:
		return apply_sheet_completed(st, ev->sheet_completed, now);
	case STATELOG__EVENT__BODY_SHEET_FAILED:
		return apply_sheet_failed(st, ev->sheet_failed, now);
	case STATELOG__EVENT__BODY_SHEET_SKIPPED:
		return apply_sheet_skipped(st, ev->sheet_skipped, now);
	case STATELOG__EVENT__BODY_JOB_PAUSED:
		/* MODEL "job paused".  The reason lives in the log only. */
		st->status = SL_JOB_PAUSED;
		clear_pid(st);
		return SL_OK;
	case STATELOG__EVENT__BODY_JOB_RESUMED:
		job_runs(st, now);
		return SL_OK;
	case STATELOG__EVENT__BODY_JOB_FAILED: {
		/* MODEL "job failed"; error_message = the message (absent: NULL,
		 * as the original assigns whatever it is given). */
		char *msg;
		if (dup_opt(&msg, ev->job_failed->message) != SL_OK)
			return SL_ENOMEM;
		set_text(&st->error_message, msg);
		clear_pid(st);
		job_ends(st, SL_JOB_FAILED, now);
		return SL_OK;
	}
	case STATELOG__EVENT__BODY_JOB_COMPLETED:
		job_ends(st, SL_JOB_COMPLETED, now);
		return SL_OK;
	case STATELOG__EVENT__BODY_JOB_CANCELLED:
		/* Like job failed without a message: the reason stays in the log;
		 * the pid is cleared so a stale one cannot make a zombie. */
		clear_pid(st);
		job_ends(st, SL_JOB_CANCELLED, now);
		return SL_OK;
	case STATELOG__EVENT__BODY_ZOMBIE_RECOVERED:
		return apply_zombie(st, ev->zombie_recovered);
	case STATELOG__EVENT__BODY_EXECUTION_RECORDED:
		/* A history row only (the state does not change); the job must
		 * exist (checked above).  The sheet number is not checked against
		 * total_sheets: history has no key on sheets.  Invalid without
		 * sheet_num or attempt_num: the history row needs both (NOT NULL). */
		if (!ev->execution_recorded->has_sheet_num ||
		    !ev->execution_recorded->has_attempt_num)
			return SL_EINVAL;
		return SL_OK;
	case STATELOG__EVENT__BODY_RATE_LIMIT_WAIT:
		st->rate_limit_waits++;
		return SL_OK;
	case STATELOG__EVENT__BODY_JOB_DELETED:
		apply_job_deleted(st);
		return SL_OK;
	case STATELOG__EVENT__BODY_JOB_FIELDS_SET:
		return apply_job_fields(st, ev->job_fields_set);
	case STATELOG__EVENT__BODY_SHEET_FIELDS_SET:
		return apply_sheet_fields(st, ev->sheet_fields_set);
	default:
		return SL_EUNKNOWN;
	}
}

int sl_state_apply(struct sl_job_state *st, const sl_event *ev)
{
	if (ev->body_case == STATELOG__EVENT__BODY__NOT_SET)
		return sl_event_unknown_type(ev) ? SL_EUNKNOWN : SL_EINVAL;
	if (!ev->job_id || !ev->has_time_us || (st->id && strcmp(st->id, ev->job_id) != 0))
		return SL_EINVAL;
	int rc;
	if (ev->body_case == STATELOG__EVENT__BODY_JOB_CREATED)
		rc = apply_job_created(st, ev);
	else if (st->presence != SL_JOB_LIVE)
		rc = SL_EINVAL;
	else
		rc = apply_body(st, ev);
	if (rc != SL_OK)
		return rc;
	/* An execution record adds a history row and leaves the jobs row alone,
	 * updated_at included: the original's record_execution() writes
	 * execution_history only. */
	if (ev->body_case != STATELOG__EVENT__BODY_EXECUTION_RECORDED)
		st->updated_at_us = ev->time_us;
	if (ev->body_case == STATELOG__EVENT__BODY_JOB_FIELDS_SET &&
	    ev->job_fields_set->has_updated_at_us)
		st->updated_at_us = ev->job_fields_set->updated_at_us;
	return SL_OK;
}

/* ---- queries ----------------------------------------------------------- */

int sl_state_next_sheet(const struct sl_job_state *st, int64_t *out)
{
	if (st->presence != SL_JOB_LIVE)
		return SL_EINVAL;
	int64_t next = 0;
	if (st->status == SL_JOB_COMPLETED || st->status == SL_JOB_CANCELLED)
		goto done;
	/* Resume after a crash: the sheet that was running. */
	if (st->has_current_sheet) {
		const struct sl_sheet_state *sh = sl_state_find_sheet(st, st->current_sheet);
		if (sh && sh->status == SL_SHEET_IN_PROGRESS) {
			next = st->current_sheet;
			goto done;
		}
	}
	/* The first of last+1..total with no row, or pending, or failed.  Ends
	 * after at most n_sheets + 1 steps: beyond the rows there is a gap.
	 * (A negative last_completed_sheet, which no rule writes, counts as 0.) */
	if (st->last_completed_sheet >= st->total_sheets)
		goto done;
	int64_t first = st->last_completed_sheet < 0 ? 1 : st->last_completed_sheet + 1;
	for (int64_t n = first; n <= st->total_sheets; n++) {
		const struct sl_sheet_state *sh = sl_state_find_sheet(st, n);
		if (!sh || sh->status == SL_SHEET_PENDING || sh->status == SL_SHEET_FAILED) {
			next = n;
			break;
		}
	}
done:
	*out = next;
	return SL_OK;
}

bool sl_state_is_zombie(const struct sl_job_state *st,
			bool (*pid_alive)(int64_t pid, void *ctx), void *ctx)
{
	return st->presence == SL_JOB_LIVE && st->status == SL_JOB_RUNNING &&
	       st->has_pid && !pid_alive(st->pid, ctx);
}
