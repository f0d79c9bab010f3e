/* diff.c: a whole-state save turned into the fewest events (the inverse of
 * apply.c).  The original rewrote the job row and every sheet row on every
 * save; statelog logs only what changed: a job_created when the job is new,
 * one job_fields_set for the job's changed columns, one sheet_fields_set per
 * changed sheet.  The set of columns and their field numbers comes from the
 * catalogue in state.c, so a column added there is diffed here for free.
 *
 * Invariant, checked by tests/projector/test_diff.c on random states:
 *   apply(copy of cur, diff(cur, want)) == want, except updated_at (the
 *   time of the last event) and sheets that cur has and want lacks (kept).
 * To keep it, the diff of a new job is taken against the state the
 * job_created itself gives (applied with sl_rules_apply(), not guessed),
 * and the diff of a new sheet against a fresh sl_sheet_init() row.
 *
 * Every value an event carries is first held to its column's constraint by
 * sl_state_column_check(), the function the rules call for the same field
 * of the same event, so a refused save names the column and gives the
 * rules' reason, and the events always apply.  The values that do not
 * differ from cur are not looked at: they are in the log already.
 */
#include "model_internal.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timefmt.h"

/* Field number of `cleared` in JobFieldsSet and SheetFieldsSet. */
#define SL_FIELD_CLEARED 100

/* ---- building events --------------------------------------------------- */

struct event_list {
	sl_event **v;
	size_t n, cap;
};

static int list_push(struct event_list *l, sl_event *ev)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 4;
		sl_event **p = realloc(l->v, cap * sizeof *p);
		if (!p)
			return SL_ENOMEM;
		l->v = p;
		l->cap = cap;
	}
	l->v[l->n++] = ev;
	return SL_OK;
}

/* A new event for job_id at now with body `body` of type `type`; takes
 * body over (freeing it on failure).  NULL when out of memory. */
static sl_event *event_wrap(const char *job_id, int64_t now,
			    Statelog__Event__BodyCase type, ProtobufCMessage *body)
{
	sl_event *ev = malloc(sizeof *ev);
	char *id = strdup(job_id);
	if (!ev || !id || !body) {
		free(ev);
		free(id);
		if (body)
			protobuf_c_message_free_unpacked(body, NULL);
		return NULL;
	}
	statelog__event__init(ev);
	ev->job_id = id;
	ev->has_time_us = 1;
	ev->time_us = now;
	ev->body_case = type;
	switch (type) {
	case STATELOG__EVENT__BODY_JOB_CREATED:
		ev->job_created = (Statelog__JobCreated *)body;
		break;
	case STATELOG__EVENT__BODY_JOB_FIELDS_SET:
		ev->job_fields_set = (Statelog__JobFieldsSet *)body;
		break;
	case STATELOG__EVENT__BODY_SHEET_FIELDS_SET:
		ev->sheet_fields_set = (Statelog__SheetFieldsSet *)body;
		break;
	default:
		assert(!"diff.c builds no other event");
	}
	return ev;
}

static int dup_into(char **dst, const char *s)
{
	*dst = s ? strdup(s) : NULL;
	return s && !*dst ? SL_ENOMEM : SL_OK;
}

/* Writes v into field f of msg (a status as its name). */
static int msg_put(ProtobufCMessage *msg, uint32_t f, const struct sl_value *v)
{
	const ProtobufCFieldDescriptor *fd =
		protobuf_c_message_descriptor_get_field(msg->descriptor, f);
	assert(fd);
	char *p = (char *)msg + fd->offset;
	if (fd->type == PROTOBUF_C_TYPE_STRING)
		return dup_into((char **)p, v->s);
	*(protobuf_c_boolean *)((char *)msg + fd->quantifier_offset) = 1;
	switch (fd->type) {
	case PROTOBUF_C_TYPE_INT64: *(int64_t *)p = v->i; break;
	case PROTOBUF_C_TYPE_DOUBLE: *(double *)p = v->d; break;
	case PROTOBUF_C_TYPE_BOOL: *(protobuf_c_boolean *)p = v->i != 0; break;
	default: assert(!"field type not in the catalogue"); break;
	}
	return SL_OK;
}

/* Appends f to the `cleared` list of msg. */
static int msg_clear(ProtobufCMessage *msg, uint32_t f)
{
	const ProtobufCFieldDescriptor *fd =
		protobuf_c_message_descriptor_get_field(msg->descriptor, SL_FIELD_CLEARED);
	assert(fd && fd->label == PROTOBUF_C_LABEL_REPEATED);
	size_t *n = (size_t *)((char *)msg + fd->quantifier_offset);
	uint32_t **list = (uint32_t **)((char *)msg + fd->offset);
	uint32_t *p = realloc(*list, (*n + 1) * sizeof *p);
	if (!p)
		return SL_ENOMEM;
	p[(*n)++] = f;
	*list = p;
	return SL_OK;
}

/* Holds value v of column c of want to the column's constraint; the field
 * named in *why is prefix + the column's name. */
static int check_column(const struct sl_state_column *c, const struct sl_value *v,
			const char *prefix, struct sl_refusal *why)
{
	char reason[SL_REFUSAL_REASON_SIZE];
	int rc = sl_state_column_check(c, v, reason, sizeof reason);
	return rc == SL_EINVAL ? sl_refuse(why, rc, prefix, c->name, "%s", reason) : rc;
}

/* Puts into msg every column of the catalogue where `from` and `to`
 * differ, after checking the new value: the value, or its field number in
 * `cleared` for a NULL.  Keys and updated_at (which apply sets) are left
 * out.  *n_diff counts.  prefix names the row in a refusal. */
static int diff_row(ProtobufCMessage *msg, const struct sl_state_column *cat, size_t n,
		    const void *from, const void *to, size_t *n_diff, const char *prefix,
		    struct sl_refusal *why)
{
	*n_diff = 0;
	for (size_t i = 0; i < n; i++) {
		const struct sl_state_column *c = &cat[i];
		if (c->key || c->field == 0 || c == SL_JOB_COL(UPDATED_AT))
			continue;
		struct sl_value a, b;
		sl_state_column_get(&a, c, from);
		sl_state_column_get(&b, c, to);
		if (sl_state_column_value_equal(c, &a, &b))
			continue;
		int rc = check_column(c, &b, prefix, why);
		if (rc == SL_OK)
			rc = b.null ? msg_clear(msg, c->field) : msg_put(msg, c->field, &b);
		if (rc != SL_OK)
			return rc;
		(*n_diff)++;
	}
	return SL_OK;
}

/* Whether want's extra (NULL: left as it is) changes from's. */
static bool extra_differs(const char *from, const char *want)
{
	return want && (!from || strcmp(from, want) != 0);
}

static int check_extra(const char *text, bool sheet, const char *prefix,
		       struct sl_refusal *why)
{
	char reason[SL_REFUSAL_REASON_SIZE];
	int rc = sl_state_extra_check(text, sheet, reason, sizeof reason);
	return rc == SL_EINVAL ? sl_refuse(why, rc, prefix, "extra", "%s", reason) : rc;
}

/* ---- the three kinds of event ------------------------------------------ */

static int job_created(sl_event **out, const struct sl_job_state *want, int64_t now)
{
	Statelog__JobCreated *m = malloc(sizeof *m);
	if (m) {
		statelog__job_created__init(m);
		m->has_total_sheets = 1;
		m->total_sheets = want->total_sheets;
		m->has_created_at_us = 1;
		m->created_at_us = want->created_at_us;
		if (dup_into(&m->name, want->name) || dup_into(&m->config_hash, want->config_hash) ||
		    dup_into(&m->config_snapshot, want->config_snapshot) ||
		    dup_into(&m->config_path, want->config_path)) {
			statelog__job_created__free_unpacked(m, NULL);
			m = NULL;
		}
	}
	*out = event_wrap(want->id, now, STATELOG__EVENT__BODY_JOB_CREATED, m ? &m->base : NULL);
	return *out ? SL_OK : SL_ENOMEM;
}

/* The job_fields_set from `from` to `want`; *out = NULL when none differ. */
static int job_fields(sl_event **out, const struct sl_job_state *from,
		      const struct sl_job_state *want, int64_t now, struct sl_refusal *why)
{
	*out = NULL;
	Statelog__JobFieldsSet *m = malloc(sizeof *m);
	if (!m)
		return SL_ENOMEM;
	statelog__job_fields_set__init(m);
	size_t n_diff;
	int rc = diff_row(&m->base, sl_state_job_columns, SL_STATE_N_JOB_COLUMNS,
			  from, want, &n_diff, "", why);
	if (rc == SL_OK && extra_differs(from->extra, want->extra)) {
		rc = check_extra(want->extra, false, "", why);
		if (rc == SL_OK)
			rc = dup_into(&m->extra, want->extra);
		n_diff++;
	}
	if (rc != SL_OK || n_diff == 0) {
		statelog__job_fields_set__free_unpacked(m, NULL);
		return rc;
	}
	*out = event_wrap(want->id, now, STATELOG__EVENT__BODY_JOB_FIELDS_SET, &m->base);
	return *out ? SL_OK : SL_ENOMEM;
}

/* The sheet_fields_set that makes `from` (NULL: no row yet) into `to`;
 * *out = NULL when the row exists and is equal. */
static int sheet_fields(sl_event **out, const char *job_id, const struct sl_sheet_state *from,
			const struct sl_sheet_state *to, int64_t now, struct sl_refusal *why)
{
	*out = NULL;
	bool extra = extra_differs(from ? from->extra : NULL, to->extra);
	if (from && !extra) {
		/* The columns alone: an extra the caller leaves is no change. */
		struct sl_sheet_state a = *from, b = *to;
		a.extra = b.extra = NULL;
		if (sl_sheet_equal(&a, &b))
			return SL_OK;
	}
	struct sl_sheet_state fresh;
	int rc = SL_OK;
	if (!from) {
		rc = sl_sheet_init(&fresh, to->sheet_num);
		if (rc != SL_OK)
			return rc;
	}
	Statelog__SheetFieldsSet *m = malloc(sizeof *m);
	if (m) {
		statelog__sheet_fields_set__init(m);
		m->has_sheet_num = 1;
		m->sheet_num = to->sheet_num;
		size_t n_diff;
		char prefix[48];
		snprintf(prefix, sizeof prefix, "sheets[%" PRId64 "].", to->sheet_num);
		rc = diff_row(&m->base, sl_state_sheet_columns, SL_STATE_N_SHEET_COLUMNS,
			      from ? from : &fresh, to, &n_diff, prefix, why);
		if (rc == SL_OK && extra && (rc = check_extra(to->extra, true, prefix, why)) == SL_OK)
			rc = dup_into(&m->extra, to->extra);
		if (rc != SL_OK) {
			statelog__sheet_fields_set__free_unpacked(m, NULL);
			m = NULL;
		}
	}
	if (!from)
		sl_sheet_free(&fresh);
	if (rc != SL_OK)
		return rc;
	/* Even with no column to set, a new row needs its event. */
	*out = event_wrap(job_id, now, STATELOG__EVENT__BODY_SHEET_FIELDS_SET,
			  m ? &m->base : NULL);
	return *out ? SL_OK : SL_ENOMEM;
}

/* ---- the entry points -------------------------------------------------- */

/* The checks of want that are not about one value: a live job with an id
 * and a name, the same job as cur, sheets in order, a time the rules take.
 * (The sheet order is the invariant of state.c, checked here because a
 * caller may fill the array itself.) */
static int check_want(const struct sl_job_state *cur, const struct sl_job_state *want,
		      int64_t now_us, struct sl_refusal *why)
{
	char q[SL_QUOTE_SIZE], q2[SL_QUOTE_SIZE], t[SL_TIME_TEXT_SIZE];
	struct sl_value v;
	int rc;
	if (want->presence != SL_JOB_LIVE)
		return sl_refuse(why, SL_EINVAL, "presence", NULL,
				 "the state to save is not a live job");
	if (!want->id)
		return sl_refuse(why, SL_EINVAL, "id", NULL, "the state to save has no id");
	sl_state_column_get(&v, SL_JOB_COL(ID), want);
	if ((rc = check_column(SL_JOB_COL(ID), &v, "", why)) != SL_OK)
		return rc;
	if (cur && cur->id && strcmp(cur->id, want->id) != 0)
		return sl_refuse(why, SL_EINVAL, "id", NULL, "the state to save is job %s, the "
				 "current state is job %s", sl_quote(q, want->id),
				 sl_quote(q2, cur->id));
	sl_state_column_get(&v, SL_JOB_COL(NAME), want);
	if ((rc = check_column(SL_JOB_COL(NAME), &v, "", why)) != SL_OK)
		return rc;
	if (now_us < SL_TIME_MIN_US || now_us > SL_TIME_MAX_US)
		return sl_refuse(why, SL_EINVAL, "time_us", NULL, "time_us %s is outside the years "
				 "0001..9999", sl_time_text(t, now_us));
	for (size_t i = 0; i < want->n_sheets; i++) {
		const struct sl_sheet_state *sh = &want->sheets[i];
		bool ordered = i == 0 || sh->sheet_num > sh[-1].sheet_num;
		if (sh->sheet_num >= 1 && ordered)
			continue;       /* the usual case, without formatting a name */
		char prefix[48];
		snprintf(prefix, sizeof prefix, "sheets[%" PRId64 "].", sh->sheet_num);
		v = (struct sl_value){ .i = sh->sheet_num };
		if ((rc = check_column(SL_SHEET_COL(SHEET_NUM), &v, prefix, why)) != SL_OK)
			return rc;
		return sl_refuse(why, SL_EINVAL, prefix, "sheet_num", "sheet %" PRId64
				 " is out of order or repeated (after sheet %" PRId64 ")",
				 sh->sheet_num, sh[-1].sheet_num);
	}
	return SL_OK;
}

/* A new job: the columns its job_created carries, all of them. */
static int check_created(const struct sl_job_state *want, struct sl_refusal *why)
{
	static const enum sl_job_column_index carried[] = {
		SL_JC_NAME, SL_JC_TOTAL_SHEETS, SL_JC_CONFIG_HASH, SL_JC_CONFIG_SNAPSHOT,
		SL_JC_CONFIG_PATH, SL_JC_CREATED_AT,
	};
	for (size_t i = 0; i < sizeof carried / sizeof carried[0]; i++) {
		const struct sl_state_column *c = &sl_state_job_columns[carried[i]];
		struct sl_value v;
		sl_state_column_get(&v, c, want);
		int rc = check_column(c, &v, "", why);
		if (rc != SL_OK)
			return rc;
	}
	return SL_OK;
}

int sl_state_diff(sl_event ***out, size_t *n_out, const struct sl_job_state *cur,
		  const struct sl_job_state *want, int64_t now_us, struct sl_refusal *why)
{
	struct event_list l = { 0 };
	struct sl_job_state base;
	sl_state_init(&base);
	const struct sl_job_state *from = cur;
	sl_event *ev = NULL;
	int rc;

	sl_refusal_clear(why);
	if ((rc = check_want(cur, want, now_us, why)) != SL_OK)
		goto fail;
	if (!cur || cur->presence != SL_JOB_LIVE) {
		/* Diff against what the job_created really gives. */
		if ((rc = check_created(want, why)) != SL_OK)
			goto fail;
		rc = job_created(&ev, want, now_us);
		if (rc == SL_OK && (rc = list_push(&l, ev)) != SL_OK)
			sl_event_free(ev);
		if (rc == SL_OK)
			rc = sl_rules_apply(&base, ev, why);
		if (rc != SL_OK)
			goto fail;
		from = &base;
	}

	rc = job_fields(&ev, from, want, now_us, why);
	if (rc == SL_OK && ev && (rc = list_push(&l, ev)) != SL_OK)
		sl_event_free(ev);
	if (rc != SL_OK)
		goto fail;

	/* Sheets of cur that want lacks are left alone, as the original's
	 * upserts leave their rows. */
	for (size_t i = 0; i < want->n_sheets; i++) {
		const struct sl_sheet_state *to = &want->sheets[i];
		rc = sheet_fields(&ev, want->id, sl_state_find_sheet(from, to->sheet_num),
				  to, now_us, why);
		if (rc == SL_OK && ev && (rc = list_push(&l, ev)) != SL_OK)
			sl_event_free(ev);
		if (rc != SL_OK)
			goto fail;
	}

	sl_state_free(&base);
	if (l.n == 0) {
		free(l.v);
		l.v = NULL;
	}
	*out = l.v;
	*n_out = l.n;
	return SL_OK;
fail:
	if (rc == SL_ENOMEM)
		sl_refuse(why, rc, NULL, NULL, "out of memory");
	sl_state_free(&base);
	sl_events_free(l.v, l.n);
	return rc;
}

int sl_state_touch_event(sl_event **out, const char *job_id, int64_t now_us)
{
	Statelog__JobFieldsSet *m = malloc(sizeof *m);
	if (m)
		statelog__job_fields_set__init(m);
	sl_event *ev = event_wrap(job_id, now_us, STATELOG__EVENT__BODY_JOB_FIELDS_SET,
				  m ? &m->base : NULL);
	if (!ev)
		return SL_ENOMEM;
	*out = ev;
	return SL_OK;
}

void sl_events_free(sl_event **evs, size_t n)
{
	if (!evs)
		return;
	for (size_t i = 0; i < n; i++)
		sl_event_free(evs[i]);
	free(evs);
}
