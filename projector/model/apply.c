/* apply.c: the rules of the model (MODEL.md "Rules of the model"),
 * written once as sl_rules_run(), with its dry run; plus next-sheet and
 * zombie detection.  The writer, the projector, time travel, the audit,
 * import and every door that checks an event before it is appended go
 * through here (state.h), so they accept and refuse the same events for
 * the same reason.
 *
 * The shape of every rule: check everything, allocate everything, then, in
 * a dry run, stop (freeing what was allocated) just before the first change
 * to the state; else make the changes, which cannot fail.  So a refused
 * event (and an SL_ENOMEM) leaves the state as it was, and the dry run is
 * the rule itself, not a copy of its checks.  A rule changes the job row
 * and at most the one sheet its event names (sl_event_sheet()): the dry run
 * of a commit (commit.c) relies on it.
 *
 * Refused, for every event, in this order (struct sl_refusal in state.h):
 *  1. a body of a type this build does not know: SL_EUNKNOWN, "body";
 *     no body at all: SL_EINVAL, "body";
 *  2. no job_id, or one that is not UTF-8: "job_id";
 *  3. a job_id other than the state's: "job_id";
 *  4. no time_us, or one outside SL_TIME_MIN_US..SL_TIME_MAX_US (years
 *     0001..9999, what the views can write): "time_us";
 *  5. a text field of the body that is not UTF-8: "body.<field>";
 *  6. job_created while the job is live: SL_EEXIST, "job_id"; any other
 *     event while the job is absent or deleted: SL_ENOTFOUND, "job_id";
 *  7. the checks of the event's type, below, in the order of its fields;
 *     every field that carries a column value is held to that column's
 *     constraint (sl_state_column_check(), constraints.c) and named
 *     "body.<field>".
 * Where MODEL.md is silent the original backend (CheckpointState in the
 * Python orchestrator) decides; each such choice is noted at its rule.
 *
 * After every accepted event the state keeps the original's load-time
 * invariants (sl_rules_invariants()), filled from the event's time: a
 * running job has started_at and no completed_at; a completed sheet has
 * completed_at, an in_progress one started_at, a failed one a message.
 */
#include "model_internal.h"

#include <assert.h>
#include <float.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event_json_internal.h"
#include "timefmt.h"

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

/* Holds the value v of an event field `field` to the constraint of column
 * c: SL_OK, SL_EINVAL (why names "body.<field>"), SL_ENOMEM. */
static int check_value(const struct sl_state_column *c, const struct sl_value *v,
		       const char *field, struct sl_refusal *why)
{
	char reason[SL_REFUSAL_REASON_SIZE];
	int rc = sl_state_column_check(c, v, reason, sizeof reason);
	return rc == SL_EINVAL ? sl_refuse(why, rc, "body.", field, "%s", reason) : rc;
}

/* The same for a text field; absent (NULL) passes. */
static int check_text(const struct sl_state_column *c, const char *s, const char *field,
		      struct sl_refusal *why)
{
	struct sl_value v = { .s = s };
	return s ? check_value(c, &v, field, why) : SL_OK;
}

static int check_int(const struct sl_state_column *c, protobuf_c_boolean has, int64_t i,
		     const char *field, struct sl_refusal *why)
{
	struct sl_value v = { .i = i };
	return has ? check_value(c, &v, field, why) : SL_OK;
}

static int check_real(const struct sl_state_column *c, protobuf_c_boolean has, double d,
		      const char *field, struct sl_refusal *why)
{
	struct sl_value v = { .d = d };
	return has ? check_value(c, &v, field, why) : SL_OK;
}

/* A sheet number a typed sheet event may name: 1 or more.  Not bounded by
 * total_sheets: the original's mark_sheet_*() make a row for any sheet
 * number (a sheet started after total_sheets was lowered, or
 * mark_sheet_status() on sheet 5 of a 3-sheet job), and its SheetState
 * only requires sheet_num >= 1. */
static int check_sheet(protobuf_c_boolean has, int64_t n, struct sl_refusal *why)
{
	if (!has)
		return sl_refuse(why, SL_EINVAL, "body.", "sheet_num", "the event names no sheet");
	if (n < 1)
		return sl_refuse(why, SL_EINVAL, "body.", "sheet_num",
				 "sheet %" PRId64 " is below 1", n);
	return SL_OK;
}

/* ---- the invariants ---------------------------------------------------- */

/* A running job has started_at (now when missing) and no completed_at (a
 * failed job resumed keeps a stale one in the original until it loads). */
static void job_invariants(struct sl_job_state *st, int64_t now)
{
	if (st->presence != SL_JOB_LIVE || st->status != SL_JOB_RUNNING)
		return;
	if (!st->has_started_at) {
		st->has_started_at = true;
		st->started_at_us = now;
	}
	st->has_completed_at = false;
	st->completed_at_us = 0;
}

/* Whether a sheet of status s and message msg needs the default message. */
static bool needs_message(enum sl_sheet_status s, const char *msg)
{
	return s == SL_SHEET_FAILED && !msg;
}

/* A completed sheet has completed_at, an in_progress one started_at (now
 * when missing); a failed one without a message takes *msg (allocated by
 * the caller before any change: needs_message()). */
static void sheet_invariants(struct sl_sheet_state *sh, int64_t now, char **msg)
{
	if (sh->status == SL_SHEET_COMPLETED && !sh->has_completed_at) {
		sh->has_completed_at = true;
		sh->completed_at_us = now;
	}
	if (sh->status == SL_SHEET_IN_PROGRESS && !sh->has_started_at) {
		sh->has_started_at = true;
		sh->started_at_us = now;
	}
	if (needs_message(sh->status, sh->error_message)) {
		assert(*msg);
		sh->error_message = *msg;
		*msg = NULL;
	}
}

int sl_rules_invariants(struct sl_job_state *st, int64_t now_us)
{
	size_t n = 0, k = 0;
	for (size_t i = 0; i < st->n_sheets; i++)
		n += needs_message(st->sheets[i].status, st->sheets[i].error_message);
	char **msgs = n ? calloc(n, sizeof *msgs) : NULL;
	if (n && !msgs)
		return SL_ENOMEM;
	for (k = 0; k < n; k++)
		if (!(msgs[k] = strdup(SL_DEFAULT_FAILURE_MESSAGE))) {
			while (k)
				free(msgs[--k]);
			free(msgs);
			return SL_ENOMEM;
		}
	job_invariants(st, now_us);
	for (size_t i = 0, m = 0; i < st->n_sheets; i++) {
		char *msg = NULL;
		if (needs_message(st->sheets[i].status, st->sheets[i].error_message))
			msg = msgs[m++];
		sheet_invariants(&st->sheets[i], now_us, &msg);
	}
	free(msgs);
	return SL_OK;
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

/* The planned value of column col, or NULL when the plan leaves it. */
static const struct sl_value *changes_find(const struct changes *ch,
					   const struct sl_state_column *col)
{
	for (size_t i = 0; i < ch->n; i++)
		if (ch->c[i].col == col)
			return &ch->c[i].v;
	return NULL;
}

/* Reads field f of msg (a status as its name).  False when it is absent.
 * That field types match the catalogue is checked by test_apply.c. */
static bool msg_get(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *fd,
		    struct sl_value *v)
{
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

/* A status name as its enum value; SL_EINVAL naming the names. */
static int status_value(const struct sl_state_column *c, const char *name, int64_t *out,
			const char *field, struct sl_refusal *why)
{
	bool job = c->type == SL_COL_JOB_STATUS;
	int count = job ? SL_JOB_STATUS_COUNT : SL_SHEET_STATUS_COUNT;
	for (int i = 0; i < count; i++)
		if (strcmp(name, job ? sl_job_status_name(i) : sl_sheet_status_name(i)) == 0) {
			*out = i;
			return SL_OK;
		}
	char q[SL_QUOTE_SIZE], names[256];
	size_t o = 0;
	for (int i = 0; i < count; i++)
		o += (size_t)snprintf(names + o, sizeof names - o, "%s%s", i ? ", " : "",
				      job ? sl_job_status_name(i) : sl_sheet_status_name(i));
	return sl_refuse(why, SL_EINVAL, "body.", field, "%s %s is not a %s (%s)", c->name,
			 sl_quote(q, name), job ? "JobStatus" : "SheetStatus", names);
}

/* Plans the changes a fields message makes to the columns cols[i], carried
 * in msg by field number fields[i] (0: not carried).  Present = set; listed
 * in `cleared` = NULL; absent = unchanged.  Refused (SL_EINVAL):
 *  - a cleared field that carries no nullable column ("body.cleared": the
 *    row's key, a NOT NULL column, the `cleared` list itself);
 *  - a field both set and cleared ("body.<field>");
 *  - a status that is not a known name ("body.status");
 *  - a value its column's constraint refuses ("body.<field>").
 * A cleared number the message does not define is ignored: it comes from a
 * newer schema, like an unknown field, which protobuf ignores too. */
static int plan_fields(struct changes *ch, const ProtobufCMessage *msg,
		       const struct sl_state_column *const *cols, const uint32_t *fields,
		       size_t n, const uint32_t *cleared, size_t n_cleared,
		       struct sl_refusal *why)
{
	const ProtobufCMessageDescriptor *desc = msg->descriptor;
	int rc = SL_OK;
	ch->n = 0;
	for (size_t k = 0; k < n_cleared; k++) {
		const ProtobufCFieldDescriptor *fd =
			protobuf_c_message_descriptor_get_field(desc, cleared[k]);
		if (!fd)
			continue;
		const struct sl_state_column *c = NULL;
		for (size_t i = 0; i < n && !c; i++)
			if (fields[i] == cleared[k])
				c = cols[i];
		if (!c)
			return sl_refuse(why, SL_EINVAL, "body.", "cleared",
					 "%s (field %" PRIu32 ") cannot be cleared", fd->name,
					 cleared[k]);
		if (!c->nullable) {
			struct sl_value null = { .null = true };
			char reason[SL_REFUSAL_REASON_SIZE];
			sl_state_column_check(c, &null, reason, sizeof reason);
			return sl_refuse(why, SL_EINVAL, "body.", "cleared", "%s", reason);
		}
	}
	for (size_t i = 0; i < n; i++) {
		const struct sl_state_column *c = cols[i];
		if (fields[i] == 0)
			continue;
		const ProtobufCFieldDescriptor *fd =
			protobuf_c_message_descriptor_get_field(desc, fields[i]);
		assert(fd);
		struct sl_value v;
		bool set = msg_get(msg, fd, &v);
		bool clear = in_list(cleared, n_cleared, fields[i]);
		if (set && clear) {
			rc = sl_refuse(why, SL_EINVAL, "body.", fd->name, "%s is both set and cleared",
				       fd->name);
			goto fail;
		}
		if (!set && !clear)
			continue;
		assert(ch->n < sizeof ch->c / sizeof ch->c[0]);
		struct change *x = &ch->c[ch->n];
		*x = (struct change){ .col = c, .v = v };
		if (clear)
			x->v = (struct sl_value){ .null = true };
		else if ((c->type == SL_COL_JOB_STATUS || c->type == SL_COL_SHEET_STATUS) &&
			 (rc = status_value(c, v.s, &x->v.i, fd->name, why)) != SL_OK)
			goto fail;
		if ((rc = check_value(c, &x->v, fd->name, why)) != SL_OK)
			goto fail;
		if (c->type == SL_COL_TEXT && (rc = dup_opt(&x->owned, x->v.s)) != SL_OK)
			goto fail;
		ch->n++;
	}
	return SL_OK;
fail:
	changes_abort(ch);
	return rc;
}

/* Plans a fields message whose field numbers are the catalogue's. */
static int plan_catalogue(struct changes *ch, const ProtobufCMessage *msg,
			  const struct sl_state_column *cat, size_t n,
			  const uint32_t *cleared, size_t n_cleared, struct sl_refusal *why)
{
	const struct sl_state_column *cols[SL_STATE_N_SHEET_COLUMNS];
	uint32_t fields[SL_STATE_N_SHEET_COLUMNS];
	assert(n <= SL_STATE_N_SHEET_COLUMNS);
	for (size_t i = 0; i < n; i++) {
		cols[i] = &cat[i];
		fields[i] = cat[i].key ? 0 : cat[i].field;
	}
	return plan_fields(ch, msg, cols, fields, n, cleared, n_cleared, why);
}

/* The extra fields of a *FieldsSet (NULL: absent, left): checked, and
 * copied into *out unless dry.  SL_EINVAL naming body.extra. */
static int plan_extra(const char *text, bool sheet, bool dry, char **out,
		      struct sl_refusal *why)
{
	char reason[SL_REFUSAL_REASON_SIZE];
	*out = NULL;
	if (!text)
		return SL_OK;
	int rc = sl_state_extra_check(text, sheet, reason, sizeof reason);
	if (rc == SL_EINVAL)
		return sl_refuse(why, rc, "body.", "extra", "%s", reason);
	if (rc != SL_OK || dry)
		return rc;
	return (*out = strdup(text)) ? SL_OK : SL_ENOMEM;
}

/* The source values of an import (NULL: none): no rule reads them, but
 * the log holds only a JSON object there.  SL_EINVAL naming body.source. */
static int check_source(const char *text, struct sl_refusal *why)
{
	if (!text)
		return SL_OK;
	json_t *v;
	json_error_t e;
	int rc = sl_json_py_loadb(text, strlen(text), JSON_DECODE_ANY | JSON_ALLOW_NUL, &v, &e);
	if (rc == SL_EINVAL)
		return sl_refuse(why, rc, "body.", "source", "not valid JSON (line %d, column %d: "
				 "%s)", e.line, e.column, e.text);
	if (rc != SL_OK)
		return rc;
	bool object = json_is_object(v) && !sl_json_raw_text(v, NULL);
	json_decref(v);
	return object ? SL_OK : sl_refuse(why, SL_EINVAL, "body.", "source",
					  "expected a JSON object");
}

/* JobFieldsSet: raw column values from a whole-state save (or an import).
 * No rule of the model runs (a status set here completes nothing), only
 * the invariants afterwards.  updated_at_us, when present, wins over the
 * event time (sl_rules_run()). */
static int rule_job_fields(struct sl_job_state *st, const Statelog__JobFieldsSet *m,
			   bool dry, struct sl_refusal *why)
{
	char *extra = NULL;
	int rc = check_source(m->source, why);
	if (rc == SL_OK)
		rc = plan_extra(m->extra, false, dry, &extra, why);
	if (rc != SL_OK)
		return rc;
	struct changes ch;
	rc = plan_catalogue(&ch, &m->base, sl_state_job_columns,
			    SL_STATE_N_JOB_COLUMNS, m->cleared, m->n_cleared, why);
	if (rc != SL_OK || dry) {
		free(extra);
		if (rc == SL_OK)
			changes_abort(&ch);
		return rc;
	}
	changes_commit(&ch, st);
	if (extra) {
		free(st->extra);
		st->extra = extra;
	}
	return SL_OK;
}

/* SheetFieldsSet: as JobFieldsSet, for one sheet, created with the defaults
 * of a new row first when it has none, and held to the sheet invariants
 * afterwards.  Refused: no sheet_num, or below 1.  A sheet_num above
 * total_sheets is accepted: a saved state (or a database being imported)
 * may hold such rows and the original never refused them. */
static int rule_sheet_fields(struct sl_job_state *st, const Statelog__SheetFieldsSet *m,
			     int64_t now, bool dry, struct sl_refusal *why)
{
	if (!m->has_sheet_num)
		return sl_refuse(why, SL_EINVAL, "body.", "sheet_num", "the event names no sheet");
	int rc = check_int(SL_SHEET_COL(SHEET_NUM), 1, m->sheet_num, "sheet_num", why);
	if (rc != SL_OK)
		return rc;
	char *extra = NULL;
	if ((rc = check_source(m->source, why)) != SL_OK ||
	    (rc = plan_extra(m->extra, true, dry, &extra, why)) != SL_OK)
		return rc;
	struct changes ch;
	rc = plan_catalogue(&ch, &m->base, sl_state_sheet_columns, SL_STATE_N_SHEET_COLUMNS,
			    m->cleared, m->n_cleared, why);
	if (rc != SL_OK) {
		free(extra);
		return rc;
	}
	/* The message a failed sheet without one gets, allocated now. */
	const struct sl_sheet_state *old = sl_state_find_sheet(st, m->sheet_num);
	const struct sl_value *s = changes_find(&ch, SL_SHEET_COL(STATUS));
	const struct sl_value *e = changes_find(&ch, SL_SHEET_COL(ERROR_MESSAGE));
	enum sl_sheet_status status = s ? (enum sl_sheet_status)s->i
				      : old ? old->status : SL_SHEET_PENDING;
	const char *msg = e ? (e->null ? NULL : "") : old ? old->error_message : NULL;
	char *fill = NULL;
	if (needs_message(status, msg) && !(fill = strdup(SL_DEFAULT_FAILURE_MESSAGE))) {
		changes_abort(&ch);
		free(extra);
		return SL_ENOMEM;
	}
	struct sl_sheet_state *sh;
	if (dry || (rc = sl_state_add_sheet(&sh, st, m->sheet_num)) != SL_OK) {
		changes_abort(&ch);
		free(fill);
		free(extra);
		return rc;
	}
	changes_commit(&ch, sh);
	if (extra) {
		free(sh->extra);
		sh->extra = extra;
	}
	sheet_invariants(sh, now, &fill);
	free(fill);
	return SL_OK;
}

/* JobConfigChanged: name, total_sheets and the config columns; same
 * presence rules and constraints.  name and total_sheets cannot be
 * cleared. */
static int rule_config_changed(struct sl_job_state *st, const Statelog__JobConfigChanged *m,
			       bool dry, struct sl_refusal *why)
{
	/* JobConfigChanged numbers 1..5 carry these columns. */
	const struct sl_state_column *cols[5] = {
		SL_JOB_COL(NAME), SL_JOB_COL(TOTAL_SHEETS), SL_JOB_COL(CONFIG_HASH),
		SL_JOB_COL(CONFIG_SNAPSHOT), SL_JOB_COL(CONFIG_PATH),
	};
	static const uint32_t fields[5] = { 1, 2, 3, 4, 5 };
	struct changes ch;
	int rc = plan_fields(&ch, &m->base, cols, fields, 5, m->cleared, m->n_cleared, why);
	if (rc != SL_OK)
		return rc;
	if (dry)
		changes_abort(&ch);
	else
		changes_commit(&ch, st);
	return SL_OK;
}

/* ---- job lifecycle ----------------------------------------------------- */

/* JobCreated: a fresh job (pending, counters 0, no sheets), also under the
 * id of a deleted one.  created_at is the event time unless created_at_us.
 * Refused: no name, no total_sheets, and the columns' constraints
 * (total_sheets >= 1, config_snapshot an object, created_at_us in range). */
static int rule_job_created(struct sl_job_state *st, const sl_event *ev, bool dry,
			    struct sl_refusal *why)
{
	const Statelog__JobCreated *m = ev->job_created;
	int rc;
	if (!m->name)
		return sl_refuse(why, SL_EINVAL, "body.", "name", "a job_created needs a name");
	if (!m->has_total_sheets)
		return sl_refuse(why, SL_EINVAL, "body.", "total_sheets",
				 "a job_created needs total_sheets");
	if ((rc = check_text(SL_JOB_COL(NAME), m->name, "name", why)) ||
	    (rc = check_int(SL_JOB_COL(TOTAL_SHEETS), 1, m->total_sheets, "total_sheets", why)) ||
	    (rc = check_text(SL_JOB_COL(CONFIG_HASH), m->config_hash, "config_hash", why)) ||
	    (rc = check_text(SL_JOB_COL(CONFIG_SNAPSHOT), m->config_snapshot, "config_snapshot",
			     why)) ||
	    (rc = check_text(SL_JOB_COL(CONFIG_PATH), m->config_path, "config_path", why)) ||
	    (rc = check_int(SL_JOB_COL(CREATED_AT), m->has_created_at_us, m->created_at_us,
			    "created_at_us", why)))
		return rc;
	struct sl_job_state fresh;
	sl_state_init(&fresh);
	if (dup_opt(&fresh.id, ev->job_id) || dup_opt(&fresh.name, m->name) ||
	    dup_opt(&fresh.config_hash, m->config_hash) ||
	    dup_opt(&fresh.config_snapshot, m->config_snapshot) ||
	    dup_opt(&fresh.config_path, m->config_path)) {
		sl_state_free(&fresh);
		return SL_ENOMEM;
	}
	if (dry) {
		sl_state_free(&fresh);
		return SL_OK;
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
 * keeps the id only (and, in updated_at, the time of the deletion); a later
 * job_created starts from nothing. */
static void job_deleted(struct sl_job_state *st)
{
	char *id = st->id;
	st->id = NULL;
	sl_state_free(st);
	st->id = id;
	st->presence = SL_JOB_DELETED;
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
static int rule_zombie(struct sl_job_state *st, const Statelog__ZombieRecovered *m, bool dry)
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
	}
	if (dry) {
		free(msg);
		return SL_OK;
	}
	if (msg)
		set_text(&st->error_message, msg);
	st->status = SL_JOB_PAUSED;
	clear_pid(st);
	return SL_OK;
}

/* ---- sheets ------------------------------------------------------------ */

/* The original's test of a finished job: at least total_sheets rows, and
 * every row completed (rows above total_sheets count too). */
static bool all_sheets_completed(const struct sl_job_state *st)
{
	if ((int64_t)st->n_sheets < st->total_sheets)
		return false;
	for (size_t i = 0; i < st->n_sheets; i++)
		if (st->sheets[i].status != SL_SHEET_COMPLETED)
			return false;
	return true;
}

/* SheetStarted (MODEL "sheet started").  Refused: sheet_num absent or below 1. */
static int rule_sheet_started(struct sl_job_state *st, const Statelog__SheetStarted *m,
			      int64_t now, bool dry, struct sl_refusal *why)
{
	int rc = check_sheet(m->has_sheet_num, m->sheet_num, why);
	struct sl_sheet_state *sh;
	if (rc != SL_OK || dry || (rc = sl_state_add_sheet(&sh, st, m->sheet_num)) != SL_OK)
		return rc;
	st->has_current_sheet = true;
	st->current_sheet = m->sheet_num;
	st->status = SL_JOB_RUNNING;    /* started_at, completed_at: job_invariants() */
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

/* SheetCompleted (MODEL "sheet completed").  Refused: sheet_num absent or
 * below 1; validation_details that its column refuses.  As
 * in the original: validation_passed defaults to true, validation_details
 * is replaced (absent = NULL), the duration is kept when the event has
 * none. */
static int rule_sheet_completed(struct sl_job_state *st, const Statelog__SheetCompleted *m,
				int64_t now, bool dry, struct sl_refusal *why)
{
	int rc;
	if ((rc = check_sheet(m->has_sheet_num, m->sheet_num, why)) ||
	    (rc = check_text(SL_SHEET_COL(VALIDATION_DETAILS), m->validation_details,
			     "validation_details", why)) ||
	    (rc = check_real(SL_SHEET_COL(EXECUTION_DURATION_SECONDS), m->has_duration_seconds,
			     m->duration_seconds, "duration_seconds", why)))
		return rc;
	char *details;
	if (dup_opt(&details, m->validation_details) != SL_OK)
		return SL_ENOMEM;
	struct sl_sheet_state *sh;
	if (dry || (rc = sl_state_add_sheet(&sh, st, m->sheet_num)) != SL_OK) {
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

/* SheetFailed (MODEL "sheet failed").  Refused: sheet_num absent or below
 * 1; an exit_reason that is not an ExitReason (the original stores it
 * unchecked and then cannot load the job).  As in the original:
 * an unknown category (or "") is stored as NULL, not refused; exit code,
 * signal and reason are replaced (absent = NULL), the duration is kept when
 * the event has none; the job's status is left alone; the message is
 * stored as given ("" too), and a missing one gets the default message, as
 * the original's validator gives it. */
static int rule_sheet_failed(struct sl_job_state *st, const Statelog__SheetFailed *m,
			     int64_t now, bool dry, struct sl_refusal *why)
{
	int rc;
	if ((rc = check_sheet(m->has_sheet_num, m->sheet_num, why)) ||
	    (rc = check_text(SL_SHEET_COL(ERROR_MESSAGE), m->message, "message", why)) ||
	    (rc = check_int(SL_SHEET_COL(EXIT_CODE), m->has_exit_code, m->exit_code, "exit_code",
			    why)) ||
	    (rc = check_int(SL_SHEET_COL(EXIT_SIGNAL), m->has_exit_signal, m->exit_signal,
			    "exit_signal", why)) ||
	    (rc = check_text(SL_SHEET_COL(EXIT_REASON), m->exit_reason, "exit_reason", why)) ||
	    (rc = check_real(SL_SHEET_COL(EXECUTION_DURATION_SECONDS), m->has_duration_seconds,
			     m->duration_seconds, "duration_seconds", why)))
		return rc;
	/* As the original's mark_sheet_failed() and its validator: the message
	 * as given, "" included; only a missing one gets the default. */
	const char *text = m->message ? m->message : SL_DEFAULT_FAILURE_MESSAGE;
	const char *cat = sl_state_name_in(sl_error_category_names, m->category)
			  ? m->category : NULL;
	char *msg = NULL, *category = NULL, *reason = NULL;
	struct sl_sheet_state *sh;
	rc = SL_ENOMEM;
	if (dup_opt(&msg, text) || dup_opt(&category, cat) ||
	    dup_opt(&reason, m->exit_reason))
		goto fail;
	rc = SL_OK;
	if (dry || (rc = sl_state_add_sheet(&sh, st, m->sheet_num)) != SL_OK)
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

/* SheetSkipped (MODEL "sheet skipped").  Refused: sheet_num absent or below 1.  As in the original: an empty or absent reason leaves
 * error_message alone, and current_sheet is cleared. */
static int rule_sheet_skipped(struct sl_job_state *st, const Statelog__SheetSkipped *m,
			      int64_t now, bool dry, struct sl_refusal *why)
{
	int rc;
	if ((rc = check_sheet(m->has_sheet_num, m->sheet_num, why)) ||
	    (rc = check_text(SL_SHEET_COL(ERROR_MESSAGE), m->reason, "reason", why)))
		return rc;
	char *reason = NULL;
	if (m->reason && m->reason[0] && dup_opt(&reason, m->reason) != SL_OK)
		return SL_ENOMEM;
	struct sl_sheet_state *sh;
	if (dry || (rc = sl_state_add_sheet(&sh, st, m->sheet_num)) != SL_OK) {
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

static int rule_body(struct sl_job_state *st, const sl_event *ev, bool dry,
		     struct sl_refusal *why)
{
	int64_t now = ev->time_us;
	int rc;
	switch (ev->body_case) {
	case STATELOG__EVENT__BODY_JOB_CREATED:
		return rule_job_created(st, ev, dry, why);
	case STATELOG__EVENT__BODY_JOB_CONFIG_CHANGED:
		return rule_config_changed(st, ev->job_config_changed, dry, why);
	case STATELOG__EVENT__BODY_PID_SET:
		/* Refused without a pid (clearing it is a job_fields_set), or with
		 * one no process can have: this is the running orchestrator's own
		 * pid, which zombie detection asks the kernel about. */
		if (!ev->pid_set->has_pid)
			return sl_refuse(why, SL_EINVAL, "body.", "pid", "a pid_set needs a pid");
		if (ev->pid_set->pid < 1 || ev->pid_set->pid > INT32_MAX)
			return sl_refuse(why, SL_EINVAL, "body.", "pid", "pid %" PRId64 " is not a "
					 "process id", ev->pid_set->pid);
		if ((rc = check_int(SL_JOB_COL(PID), 1, ev->pid_set->pid, "pid", why)) || dry)
			return rc;
		st->has_pid = true;
		st->pid = ev->pid_set->pid;
		return SL_OK;
	case STATELOG__EVENT__BODY_SHEET_STARTED:
		return rule_sheet_started(st, ev->sheet_started, now, dry, why);
	case STATELOG__EVENT__BODY_SHEET_COMPLETED:
		return rule_sheet_completed(st, ev->sheet_completed, now, dry, why);
	case STATELOG__EVENT__BODY_SHEET_FAILED:
		return rule_sheet_failed(st, ev->sheet_failed, now, dry, why);
	case STATELOG__EVENT__BODY_SHEET_SKIPPED:
		return rule_sheet_skipped(st, ev->sheet_skipped, now, dry, why);
	case STATELOG__EVENT__BODY_JOB_PAUSED:
		/* MODEL "job paused".  The reason lives in the log only. */
		if (dry)
			return SL_OK;
		st->status = SL_JOB_PAUSED;
		clear_pid(st);
		return SL_OK;
	case STATELOG__EVENT__BODY_JOB_RESUMED:
		/* Running again: started_at kept (set when missing), a stale
		 * completed_at dropped (job_invariants()). */
		if (!dry)
			st->status = SL_JOB_RUNNING;
		return SL_OK;
	case STATELOG__EVENT__BODY_JOB_FAILED: {
		/* MODEL "job failed"; error_message = the message (absent: NULL,
		 * as the original assigns whatever it is given). */
		char *msg;
		if ((rc = check_text(SL_JOB_COL(ERROR_MESSAGE), ev->job_failed->message, "message",
				     why)))
			return rc;
		if (dup_opt(&msg, ev->job_failed->message) != SL_OK)
			return SL_ENOMEM;
		if (dry) {
			free(msg);
			return SL_OK;
		}
		set_text(&st->error_message, msg);
		clear_pid(st);
		job_ends(st, SL_JOB_FAILED, now);
		return SL_OK;
	}
	case STATELOG__EVENT__BODY_JOB_COMPLETED:
		if (!dry)
			job_ends(st, SL_JOB_COMPLETED, now);
		return SL_OK;
	case STATELOG__EVENT__BODY_JOB_CANCELLED:
		/* Like job failed without a message: the reason stays in the log;
		 * the pid is cleared so a stale one cannot make a zombie. */
		if (dry)
			return SL_OK;
		clear_pid(st);
		job_ends(st, SL_JOB_CANCELLED, now);
		return SL_OK;
	case STATELOG__EVENT__BODY_ZOMBIE_RECOVERED:
		if ((rc = check_int(SL_JOB_COL(PID), ev->zombie_recovered->has_pid,
				    ev->zombie_recovered->pid, "pid", why)))
			return rc;
		return rule_zombie(st, ev->zombie_recovered, dry);
	case STATELOG__EVENT__BODY_EXECUTION_RECORDED:
		/* A history row only (the state does not change).  The sheet
		 * number is not checked against total_sheets: history has no key
		 * on sheets (and the original checks none).  Refused without
		 * sheet_num or attempt_num: the history row needs both (NOT NULL). */
		if (!ev->execution_recorded->has_sheet_num)
			return sl_refuse(why, SL_EINVAL, "body.", "sheet_num",
					 "an execution_recorded needs sheet_num");
		if (!ev->execution_recorded->has_attempt_num)
			return sl_refuse(why, SL_EINVAL, "body.", "attempt_num",
					 "an execution_recorded needs attempt_num");
		return check_source(ev->execution_recorded->source, why);
	case STATELOG__EVENT__BODY_RATE_LIMIT_WAIT: {
		/* A wait is a length of time; its sheet, when named, a sheet. */
		const Statelog__RateLimitWait *m = ev->rate_limit_wait;
		if (m->has_wait_seconds && !(m->wait_seconds >= 0 && m->wait_seconds <= DBL_MAX))
			return sl_refuse(why, SL_EINVAL, "body.", "wait_seconds", "a wait of %g "
					 "seconds", m->wait_seconds);
		if (m->has_sheet_num && (rc = check_sheet(1, m->sheet_num, why)))
			return rc;
		if (!dry)
			st->rate_limit_waits++;
		return SL_OK;
	}
	case STATELOG__EVENT__BODY_JOB_DELETED:
		if (!dry)
			job_deleted(st);
		return SL_OK;
	case STATELOG__EVENT__BODY_JOB_FIELDS_SET:
		return rule_job_fields(st, ev->job_fields_set, dry, why);
	case STATELOG__EVENT__BODY_SHEET_FIELDS_SET:
		return rule_sheet_fields(st, ev->sheet_fields_set, now, dry, why);
	default:
		return sl_refuse(why, SL_EUNKNOWN, "body", NULL,
				 "an event type this build does not know (body field %d)",
				 (int)ev->body_case);
	}
}

/* Steps 1-6 of the list at the top of this file. */
static int check_envelope(const struct sl_job_state *st, const sl_event *ev,
			  struct sl_refusal *why)
{
	char q[SL_QUOTE_SIZE], q2[SL_QUOTE_SIZE], t[SL_TIME_TEXT_SIZE];
	if (ev->body_case == STATELOG__EVENT__BODY__NOT_SET) {
		uint32_t f = sl_event_unknown_type(ev);
		if (f)
			return sl_refuse(why, SL_EUNKNOWN, "body", NULL, "an event type this build "
					 "does not know (body field %" PRIu32 ")", f);
		return sl_refuse(why, SL_EINVAL, "body", NULL, "the event has no body");
	}
	if (!ev->job_id)
		return sl_refuse(why, SL_EINVAL, "job_id", NULL, "the event names no job");
	if (!sl_utf8_valid(ev->job_id))
		return sl_refuse(why, SL_EINVAL, "job_id", NULL, "job_id is not valid UTF-8");
	if (st->id && strcmp(st->id, ev->job_id) != 0)
		return sl_refuse(why, SL_EINVAL, "job_id", NULL, "the event is for job %s, "
				 "the state is job %s", sl_quote(q, ev->job_id), sl_quote(q2, st->id));
	if (!ev->has_time_us)
		return sl_refuse(why, SL_EINVAL, "time_us", NULL, "the event has no time");
	if (ev->time_us < SL_TIME_MIN_US || ev->time_us > SL_TIME_MAX_US)
		return sl_refuse(why, SL_EINVAL, "time_us", NULL, "time_us %s is outside the years "
				 "0001..9999", sl_time_text(t, ev->time_us));
	const ProtobufCMessage *body = sl_event_body(ev);
	for (unsigned i = 0; body && i < body->descriptor->n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &body->descriptor->fields[i];
		if (fd->type != PROTOBUF_C_TYPE_STRING || fd->label == PROTOBUF_C_LABEL_REPEATED)
			continue;
		const char *s = *(char *const *)((const char *)body + fd->offset);
		if (s && !sl_utf8_valid(s))
			return sl_refuse(why, SL_EINVAL, "body.", fd->name, "%s is not valid UTF-8",
					 fd->name);
	}
	if (ev->body_case == STATELOG__EVENT__BODY_JOB_CREATED) {
		if (st->presence == SL_JOB_LIVE)
			return sl_refuse(why, SL_EEXIST, "job_id", NULL, "job %s already exists "
					 "(created at %s)", sl_quote(q, ev->job_id),
					 sl_time_text(t, st->created_at_us));
	} else if (st->presence == SL_JOB_DELETED) {
		return sl_refuse(why, SL_ENOTFOUND, "job_id", NULL, "no job %s (it was deleted at %s)",
				 sl_quote(q, ev->job_id), sl_time_text(t, st->updated_at_us));
	} else if (st->presence != SL_JOB_LIVE) {
		return sl_refuse(why, SL_ENOTFOUND, "job_id", NULL, "no job %s",
				 sl_quote(q, ev->job_id));
	}
	return SL_OK;
}

int sl_rules_run(struct sl_job_state *st, const sl_event *ev, bool dry,
		 struct sl_refusal *why)
{
	sl_refusal_clear(why);
	int rc = check_envelope(st, ev, why);
	if (rc == SL_OK)
		rc = rule_body(st, ev, dry, why);
	if (rc == SL_ENOMEM)
		sl_refuse(why, rc, NULL, NULL, "out of memory");
	if (rc != SL_OK || dry)
		return rc;
	/* An execution record adds a history row and leaves the jobs row alone,
	 * updated_at included: the original's record_execution() writes
	 * execution_history only. */
	if (ev->body_case != STATELOG__EVENT__BODY_EXECUTION_RECORDED)
		st->updated_at_us = ev->time_us;
	if (ev->body_case == STATELOG__EVENT__BODY_JOB_FIELDS_SET &&
	    ev->job_fields_set->has_updated_at_us)
		st->updated_at_us = ev->job_fields_set->updated_at_us;
	job_invariants(st, ev->time_us);
	return SL_OK;
}

int sl_rules_apply(struct sl_job_state *st, const sl_event *ev, struct sl_refusal *why)
{
	return sl_rules_run(st, ev, false, why);
}

int sl_rules_check(const struct sl_job_state *st, const sl_event *ev, struct sl_refusal *why)
{
	/* The dry run writes nothing: the cast only shares the code. */
	return sl_rules_run((struct sl_job_state *)st, ev, true, why);
}

bool sl_rules_refused(int rc)
{
	return rc == SL_EINVAL || rc == SL_ENOTFOUND || rc == SL_EEXIST;
}

int sl_rules_check_time(const sl_event *ev, int64_t now_us, struct sl_refusal *why)
{
	char t[SL_TIME_TEXT_SIZE], n[SL_TIME_TEXT_SIZE];
	sl_refusal_clear(why);
	/* now_us + window, without overflow for any now_us. */
	if (ev->has_time_us && now_us <= INT64_MAX - SL_RULES_FUTURE_WINDOW_US &&
	    ev->time_us > now_us + SL_RULES_FUTURE_WINDOW_US)
		return sl_refuse(why, SL_EINVAL, "time_us", NULL, "time_us %s is more than a day "
				 "ahead of the clock (%s)", sl_time_text(t, ev->time_us),
				 sl_time_text(n, now_us));
	return SL_OK;
}

/* ---- queries ----------------------------------------------------------- */

int sl_state_next_sheet(int64_t *out, const struct sl_job_state *st)
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
