/* audit_json.c: an audit entry as one JSON object (history.h,
 * sl_audit_entry_to_json()), the form `statelog audit --json` prints and
 * the Python package returns; and a column's value as JSON
 * (audit_json.h), which the timeline page uses too. */
#include "audit_json.h"

#include <stdlib.h>

#include "event_json_internal.h"
#include "timefmt.h"

json_t *sl_audit_value_json(const struct sl_state_column *c, bool absent, const struct sl_value *v)
{
	char t[SL_TIME_BUFSZ];
	if (absent || v->null)
		return json_null();
	if (!c || c->type == SL_COL_JOB_STATUS || c->type == SL_COL_SHEET_STATUS ||
	    c->type == SL_COL_TEXT)
		return json_string(v->s);
	switch (c->type) {
	case SL_COL_REAL: return json_real(v->d);
	case SL_COL_BOOL: return json_boolean(v->i);
	case SL_COL_TIME:
		return sl_time_format(v->i, t, sizeof t) == SL_OK ? json_string(t) : json_integer(v->i);
	default: return json_integer(v->i);
	}
}

static json_t *change_json(const struct sl_audit_change *c)
{
	json_t *x = json_object();
	if (!x)
		return NULL;
	json_object_set_new(x, "row", json_string(c->sheet ? "sheet" : "job"));
	if (c->sheet)
		json_object_set_new(x, "sheet", json_integer(c->sheet));
	json_object_set_new(x, "column", json_string(c->column ? c->column->name : "presence"));
	json_object_set_new(x, "before", sl_audit_value_json(c->column, c->before_absent, &c->before));
	json_object_set_new(x, "after", sl_audit_value_json(c->column, c->after_absent, &c->after));
	if (c->before_absent)
		json_object_set_new(x, "before_absent", json_true());
	if (c->after_absent)
		json_object_set_new(x, "after_absent", json_true());
	return x;
}

int sl_audit_entry_to_json(char **out, const struct sl_audit_entry *e, const char *job_id,
			   const char *story)
{
	char t[SL_TIME_BUFSZ];
	json_t *d = json_object(), *ch = json_array(), *rs = json_array(), *ev = NULL;
	int rc = SL_ENOMEM;
	if (!d || !ch || !rs)
		goto out;
	json_object_set_new(d, "seq", json_integer((json_int_t)e->seq));
	json_object_set_new(d, "time", sl_time_format(e->time_us, t, sizeof t) == SL_OK
				       ? json_string(t) : json_null());
	json_object_set_new(d, "time_us", json_integer(e->time_us));
	json_object_set_new(d, "job_id", json_string(job_id));
	json_object_set_new(d, "life", json_integer(e->life));
	json_object_set_new(d, "type", json_string(e->type));
	json_object_set_new(d, "sheet", e->sheet ? json_integer(e->sheet) : json_null());
	json_object_set_new(d, "refused", json_boolean(e->refused));
	json_object_set_new(d, "reason", e->refused && e->refusal ? json_string(e->refusal->reason)
								  : json_null());
	json_object_set_new(d, "story", story ? json_string(story) : json_null());
	/* The body as `statelog dump --json` writes it. */
	if ((rc = sl_event_to_json(e->event, &ev)) != SL_OK)
		goto out;
	json_t *body = json_object_get(ev, "body");
	json_object_set(d, "body", body ? body : json_null());
	rc = SL_ENOMEM;
	for (size_t i = 0; i < e->n_changes; i++) {
		const struct sl_audit_change *c = &e->changes[i];
		json_t *x = change_json(c);
		if (!x || json_array_append_new(c->restamp ? rs : ch, x) != 0)
			goto out;
	}
	json_object_set(d, "changes", ch);
	json_object_set(d, "restamped", rs);
	*out = sl_json_dumps(d);
	rc = *out ? SL_OK : SL_ENOMEM;
out:
	json_decref(ev);
	json_decref(ch);
	json_decref(rs);
	json_decref(d);
	return rc;
}
