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
 * job_created itself gives (applied with sl_state_apply(), not guessed),
 * and the diff of a new sheet against a fresh sl_sheet_init() row.
 */
#include "state.h"
#include "event_internal.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

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

/* Puts into msg every column of the catalogue where `from` and `to`
 * differ: the new value, or its field number in `cleared` for a NULL.
 * Keys and updated_at (which apply sets) are left out.  *n_diff counts. */
static int diff_row(ProtobufCMessage *msg, const struct sl_state_column *cat, size_t n,
		    const void *from, const void *to, size_t *n_diff)
{
	*n_diff = 0;
	for (size_t i = 0; i < n; i++) {
		const struct sl_state_column *c = &cat[i];
		if (c->key || c->field == 0 ||
		    (cat == sl_state_job_columns && strcmp(c->name, "updated_at") == 0))
			continue;
		struct sl_value a, b;
		sl_state_column_get(c, from, &a);
		sl_state_column_get(c, to, &b);
		if (sl_state_column_value_equal(c, &a, &b))
			continue;
		int rc = b.null ? msg_clear(msg, c->field) : msg_put(msg, c->field, &b);
		if (rc != SL_OK)
			return rc;
		(*n_diff)++;
	}
	return SL_OK;
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
		      const struct sl_job_state *want, int64_t now)
{
	*out = NULL;
	Statelog__JobFieldsSet *m = malloc(sizeof *m);
	if (!m)
		return SL_ENOMEM;
	statelog__job_fields_set__init(m);
	size_t n_diff;
	int rc = diff_row(&m->base, sl_state_job_columns, SL_STATE_N_JOB_COLUMNS,
			  from, want, &n_diff);
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
			const struct sl_sheet_state *to, int64_t now)
{
	*out = NULL;
	if (from && sl_sheet_equal(from, to))
		return SL_OK;
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
		rc = diff_row(&m->base, sl_state_sheet_columns, SL_STATE_N_SHEET_COLUMNS,
			      from ? from : &fresh, to, &n_diff);
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

/* Whether want is a state whose events apply() accepts: an event it would
 * refuse must never reach the log.  The sheet order is the invariant of
 * state.c, checked here because a caller may fill the array itself. */
static bool want_is_valid(const struct sl_job_state *want)
{
	if (want->presence != SL_JOB_LIVE || !want->id || !want->name ||
	    want->total_sheets < 0 || (unsigned)want->status >= SL_JOB_STATUS_COUNT)
		return false;
	for (size_t i = 0; i < want->n_sheets; i++) {
		const struct sl_sheet_state *sh = &want->sheets[i];
		if (sh->sheet_num < 1 || (i > 0 && sh->sheet_num <= sh[-1].sheet_num) ||
		    (unsigned)sh->status >= SL_SHEET_STATUS_COUNT)
			return false;
	}
	return true;
}

int sl_state_diff(const struct sl_job_state *cur, const struct sl_job_state *want,
		  int64_t now_us, sl_event ***out, size_t *n_out)
{
	if (!want_is_valid(want))
		return SL_EINVAL;
	if (cur && cur->id && strcmp(cur->id, want->id) != 0)
		return SL_EINVAL;

	struct event_list l = { 0 };
	struct sl_job_state base;
	sl_state_init(&base);
	const struct sl_job_state *from = cur;
	sl_event *ev = NULL;
	int rc = SL_OK;

	if (!cur || cur->presence != SL_JOB_LIVE) {
		/* Diff against what the job_created really gives. */
		rc = job_created(&ev, want, now_us);
		if (rc == SL_OK && (rc = list_push(&l, ev)) != SL_OK)
			sl_event_free(ev);
		if (rc == SL_OK)
			rc = sl_state_apply(&base, ev);
		if (rc != SL_OK)
			goto fail;
		from = &base;
	}

	rc = job_fields(&ev, from, want, now_us);
	if (rc == SL_OK && ev && (rc = list_push(&l, ev)) != SL_OK)
		sl_event_free(ev);
	if (rc != SL_OK)
		goto fail;

	/* Sheets of cur that want lacks are left alone, as the original's
	 * upserts leave their rows. */
	for (size_t i = 0; i < want->n_sheets; i++) {
		const struct sl_sheet_state *to = &want->sheets[i];
		rc = sheet_fields(&ev, want->id, sl_state_find_sheet(from, to->sheet_num),
				  to, now_us);
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
