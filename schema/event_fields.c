/* event_fields.c: building and reading events by field name (event.h).
 *
 * sl_event is opaque to programs using the library: they name a type and
 * its fields as events.proto does, and every call here finds the field
 * through the protobuf-c descriptor of the body, as the JSON codec does
 * (event_json.c).  So a field added to events.proto can be set and read
 * with no code here, and a setter checks exactly what the descriptor says:
 * the field exists, its type matches the setter, the value fits.
 *
 * Events are built as protobuf-c's unpack with the default allocator would
 * have built them (each string, body and "cleared" array malloc'd on its
 * own), so sl_event_free() (protobuf_c_message_free_unpacked) releases them.
 * Every call leaves the event valid for that: a pointer is NULL or owned,
 * and a field is never both present and listed as cleared (events.proto,
 * "Presence").  A call that fails leaves the event as it was.
 */
#include "event_json_internal.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MEMBER(msg, off, type) ((type *)((char *)(msg) + (off)))
#define CMEMBER(msg, off, type) ((const type *)((const char *)(msg) + (off)))

static bool utf8_valid(const char *s)
{
	size_t len = strlen(s);
	for (size_t i = 0; i < len;) {
		size_t n = sl_utf8_seqlen(s + i, len - i);
		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

/* The field of ev's body called name that holds one value (not the
 * "cleared" list), or NULL when the body has none (or ev has no body). */
static const ProtobufCFieldDescriptor *value_field(const sl_event *ev, const char *name)
{
	const ProtobufCMessage *body = sl_event_body(ev);
	if (!body || !name)
		return NULL;
	const ProtobufCFieldDescriptor *f =
		protobuf_c_message_descriptor_get_field_by_name(body->descriptor, name);
	if (!f || f->label == PROTOBUF_C_LABEL_REPEATED || (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
		return NULL;
	return f;
}

/* The "cleared" list of a body type, or NULL when it has none. */
static const ProtobufCFieldDescriptor *cleared_list(const ProtobufCMessageDescriptor *d)
{
	for (unsigned i = 0; i < d->n_fields; i++)
		if (sl_event_field_is_cleared_list(&d->fields[i]))
			return &d->fields[i];
	return NULL;
}

/* Whether field id is on m's "cleared" list. */
static bool on_cleared_list(const ProtobufCMessage *m, uint32_t id)
{
	const ProtobufCFieldDescriptor *lf = cleared_list(m->descriptor);
	if (!lf)
		return false;
	size_t n = *CMEMBER(m, lf->quantifier_offset, size_t);
	const uint32_t *ids = *CMEMBER(m, lf->offset, uint32_t *const);
	for (size_t i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

/* Takes field id off m's "cleared" list, if it is there.  Cannot fail. */
static void take_off_cleared_list(ProtobufCMessage *m, uint32_t id)
{
	const ProtobufCFieldDescriptor *lf = cleared_list(m->descriptor);
	if (!lf)
		return;
	size_t *n = MEMBER(m, lf->quantifier_offset, size_t);
	uint32_t **ids = MEMBER(m, lf->offset, uint32_t *);
	size_t kept = 0;
	for (size_t i = 0; i < *n; i++)
		if ((*ids)[i] != id)
			(*ids)[kept++] = (*ids)[i];
	*n = kept;
	if (kept == 0) {
		free(*ids);
		*ids = NULL;
	}
}

/* Marks a just-written scalar field present, and not cleared. */
static void mark_set(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_STRING &&
	    f->type != PROTOBUF_C_TYPE_MESSAGE)
		*MEMBER(m, f->quantifier_offset, protobuf_c_boolean) = 1;
	take_off_cleared_list(m, f->id);
}

/* Makes field f of m absent, freeing a string it holds. */
static void unset(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	if (f->type == PROTOBUF_C_TYPE_STRING) {
		char **s = MEMBER(m, f->offset, char *);
		if (*s != f->default_value)
			free(*s);
		*s = (char *)f->default_value;
	} else if (f->label == PROTOBUF_C_LABEL_OPTIONAL) {
		*MEMBER(m, f->quantifier_offset, protobuf_c_boolean) = 0;
	}
}

/* ------------------------------------------------------------------------ */
/* Building                                                                 */

int sl_event_new(sl_event **out, const char *type, const char *job_id)
{
	sl_event *ev = NULL;
	int rc;

	Statelog__Event__BodyCase bc = type ? sl_event_type_from_name(type)
					    : STATELOG__EVENT__BODY__NOT_SET;
	if (bc == STATELOG__EVENT__BODY__NOT_SET || !job_id || !job_id[0] || !utf8_valid(job_id)) {
		rc = SL_EINVAL;
		goto out;
	}
	const ProtobufCFieldDescriptor *bf = protobuf_c_message_descriptor_get_field(
		&statelog__event__descriptor, (unsigned)bc);
	const ProtobufCMessageDescriptor *bd = bf->descriptor;

	/* From here every pointer in ev is NULL or owned by it, so
	 * sl_event_free() cleans up after a failure. */
	ev = malloc(sizeof *ev);
	if (!ev) {
		rc = SL_ENOMEM;
		goto out;
	}
	statelog__event__init(ev);
	ev->job_id = strdup(job_id);
	ProtobufCMessage *body = malloc(bd->sizeof_message);
	if (!ev->job_id || !body) {
		free(body);
		rc = SL_ENOMEM;
		goto out;
	}
	bd->message_init(body);
	*MEMBER(ev, bf->offset, ProtobufCMessage *) = body;
	ev->body_case = bc;

	*out = ev;
	ev = NULL;
	rc = SL_OK;
out:
	sl_event_free(ev);
	return rc;
}

int sl_event_set_int(sl_event *ev, const char *field, int64_t value)
{
	const ProtobufCFieldDescriptor *f = value_field(ev, field);
	if (!f)
		return SL_EINVAL;
	ProtobufCMessage *m = (ProtobufCMessage *)sl_event_body(ev);
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		*MEMBER(m, f->offset, int64_t) = value;
		break;
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		if (value < INT32_MIN || value > INT32_MAX)
			return SL_EINVAL;
		*MEMBER(m, f->offset, int32_t) = (int32_t)value;
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		if (value < 0 || value > UINT32_MAX)
			return SL_EINVAL;
		*MEMBER(m, f->offset, uint32_t) = (uint32_t)value;
		break;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		if (value < 0)
			return SL_EINVAL;
		*MEMBER(m, f->offset, uint64_t) = (uint64_t)value;
		break;
	default:
		return SL_EINVAL;
	}
	mark_set(m, f);
	return SL_OK;
}

int sl_event_set_real(sl_event *ev, const char *field, double value)
{
	const ProtobufCFieldDescriptor *f = value_field(ev, field);
	if (!f)
		return SL_EINVAL;
	ProtobufCMessage *m = (ProtobufCMessage *)sl_event_body(ev);
	if (f->type == PROTOBUF_C_TYPE_DOUBLE) {
		*MEMBER(m, f->offset, double) = value;
	} else if (f->type == PROTOBUF_C_TYPE_FLOAT) {
		if (isfinite(value) && fabs(value) > FLT_MAX)
			return SL_EINVAL;
		*MEMBER(m, f->offset, float) = (float)value;
	} else {
		return SL_EINVAL;
	}
	mark_set(m, f);
	return SL_OK;
}

int sl_event_set_bool(sl_event *ev, const char *field, bool value)
{
	const ProtobufCFieldDescriptor *f = value_field(ev, field);
	if (!f || f->type != PROTOBUF_C_TYPE_BOOL)
		return SL_EINVAL;
	ProtobufCMessage *m = (ProtobufCMessage *)sl_event_body(ev);
	*MEMBER(m, f->offset, protobuf_c_boolean) = value;
	mark_set(m, f);
	return SL_OK;
}

int sl_event_set_text(sl_event *ev, const char *field, const char *value)
{
	const ProtobufCFieldDescriptor *f = value_field(ev, field);
	if (!f || f->type != PROTOBUF_C_TYPE_STRING || !value || !utf8_valid(value))
		return SL_EINVAL;
	if (sl_event_field_is_json(f)) {
		/* Any JSON value Python reads, as `statelog append` takes; no
		 * \u0000, so the text read back is the text checked. */
		json_error_t je;
		json_t *v;
		int rc = sl_json_py_loadb(value, strlen(value), JSON_DECODE_ANY, &v, &je);
		if (rc != SL_OK)
			return rc;
		json_decref(v);
	}
	char *copy = strdup(value);
	if (!copy)
		return SL_ENOMEM;
	ProtobufCMessage *m = (ProtobufCMessage *)sl_event_body(ev);
	unset(m, f);
	*MEMBER(m, f->offset, char *) = copy;
	mark_set(m, f);
	return SL_OK;
}

int sl_event_clear_field(sl_event *ev, const char *field)
{
	const ProtobufCFieldDescriptor *f = value_field(ev, field);
	if (!f)
		return SL_EINVAL;
	ProtobufCMessage *m = (ProtobufCMessage *)sl_event_body(ev);
	const ProtobufCFieldDescriptor *lf = cleared_list(m->descriptor);
	if (!lf)
		return SL_EINVAL;
	if (on_cleared_list(m, f->id))
		return SL_OK;	/* and so not present */

	size_t *n = MEMBER(m, lf->quantifier_offset, size_t);
	uint32_t **ids = MEMBER(m, lf->offset, uint32_t *);
	uint32_t *grown = realloc(*ids, (*n + 1) * sizeof **ids);
	if (!grown)
		return SL_ENOMEM;
	*ids = grown;
	grown[(*n)++] = f->id;
	unset(m, f);
	return SL_OK;
}

void sl_event_set_time(sl_event *ev, int64_t time_us)
{
	ev->has_time_us = 1;
	ev->time_us = time_us;
}

/* ------------------------------------------------------------------------ */
/* Reading                                                                  */

/* The field called name of ev's body if it is of one of the types
 * [types, types + n), in *f; SL_EINVAL when it is not, SL_ENOTFOUND when it
 * is absent. */
static int get_field(const ProtobufCFieldDescriptor **f, const sl_event *ev, const char *name,
		     const ProtobufCType *types, size_t n)
{
	const ProtobufCFieldDescriptor *vf = value_field(ev, name);
	if (!vf)
		return SL_EINVAL;
	size_t i = 0;
	while (i < n && types[i] != vf->type)
		i++;
	if (i == n)
		return SL_EINVAL;
	if (!sl_event_field_present(sl_event_body(ev), vf))
		return SL_ENOTFOUND;
	*f = vf;
	return SL_OK;
}

int sl_event_get_int(int64_t *out, const sl_event *ev, const char *field)
{
	static const ProtobufCType types[] = {
		PROTOBUF_C_TYPE_INT64, PROTOBUF_C_TYPE_SINT64, PROTOBUF_C_TYPE_SFIXED64,
		PROTOBUF_C_TYPE_INT32, PROTOBUF_C_TYPE_SINT32, PROTOBUF_C_TYPE_SFIXED32,
		PROTOBUF_C_TYPE_UINT32, PROTOBUF_C_TYPE_FIXED32,
		PROTOBUF_C_TYPE_UINT64, PROTOBUF_C_TYPE_FIXED64,
	};
	const ProtobufCFieldDescriptor *f = NULL;
	int rc = get_field(&f, ev, field, types, sizeof types / sizeof types[0]);
	if (rc != SL_OK)
		return rc;
	const ProtobufCMessage *m = sl_event_body(ev);
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		*out = *CMEMBER(m, f->offset, int32_t);
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		*out = *CMEMBER(m, f->offset, uint32_t);
		break;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64: {
		uint64_t u = *CMEMBER(m, f->offset, uint64_t);
		if (u > INT64_MAX)
			return SL_EINVAL;
		*out = (int64_t)u;
		break;
	}
	default:
		*out = *CMEMBER(m, f->offset, int64_t);
		break;
	}
	return SL_OK;
}

int sl_event_get_real(double *out, const sl_event *ev, const char *field)
{
	static const ProtobufCType types[] = { PROTOBUF_C_TYPE_DOUBLE, PROTOBUF_C_TYPE_FLOAT };
	const ProtobufCFieldDescriptor *f = NULL;
	int rc = get_field(&f, ev, field, types, 2);
	if (rc != SL_OK)
		return rc;
	const ProtobufCMessage *m = sl_event_body(ev);
	*out = f->type == PROTOBUF_C_TYPE_FLOAT ? *CMEMBER(m, f->offset, float)
						: *CMEMBER(m, f->offset, double);
	return SL_OK;
}

int sl_event_get_bool(bool *out, const sl_event *ev, const char *field)
{
	static const ProtobufCType types[] = { PROTOBUF_C_TYPE_BOOL };
	const ProtobufCFieldDescriptor *f = NULL;
	int rc = get_field(&f, ev, field, types, 1);
	if (rc != SL_OK)
		return rc;
	*out = *CMEMBER(sl_event_body(ev), f->offset, protobuf_c_boolean) != 0;
	return SL_OK;
}

int sl_event_get_text(const char **out, const sl_event *ev, const char *field)
{
	static const ProtobufCType types[] = { PROTOBUF_C_TYPE_STRING };
	const ProtobufCFieldDescriptor *f = NULL;
	int rc = get_field(&f, ev, field, types, 1);
	if (rc != SL_OK)
		return rc;
	*out = *CMEMBER(sl_event_body(ev), f->offset, char *const);
	return SL_OK;
}

bool sl_event_is_cleared(const sl_event *ev, const char *field)
{
	const ProtobufCFieldDescriptor *f = value_field(ev, field);
	return f && on_cleared_list(sl_event_body(ev), f->id);
}
