/* event_json.c: the JSON codec of events, driven by protobuf-c reflection.
 *
 * Nothing here knows a message type: the envelope (seq, time_us, job_id and
 * the body oneof of Statelog__Event) is read through its descriptor, and a
 * body is walked field by field through the descriptor of its message.  The
 * one piece of per-field knowledge is which string fields hold JSON text.
 *
 * Events built from JSON are allocated field by field with malloc(), exactly
 * as protobuf-c's unpack with the default allocator would have done, so
 * sl_event_free() (protobuf_c_message_free_unpacked) releases them, including
 * a half-built one on an error path.  That holds as long as every pointer in
 * the message is NULL or malloc'd, a oneof pointer is set together with its
 * case, and a repeated field's count never exceeds the filled part of its
 * array.
 *
 * JSON is written by sl_json_dumps(), not by json_dumps(): the views' JSON
 * columns must hold exactly what Python's json.dumps() writes, and jansson
 * writes reals with 17 significant digits (0.1 becomes 0.10000000000000001)
 * and \u escapes in upper case, where Python writes 0.1 and \u00e9.
 */
#include "event_json_internal.h"

#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timefmt.h"

/* The fields holding JSON text (projector/model/MODEL.md "JSON columns"). */
static const char *const json_text_fields[] = {
	"config_snapshot", "validation_details", "passed_validations",
	"failed_validations", "outcome_data", "learned_patterns", "extra", "source",
};

#define MEMBER(msg, off, type) ((type *)((char *)(msg) + (off)))
#define CMEMBER(msg, off, type) ((const type *)((const char *)(msg) + (off)))

/* ------------------------------------------------------------------------ */
/* Reflection helpers                                                       */

bool sl_event_field_is_json(const ProtobufCFieldDescriptor *f)
{
	if (f->type != PROTOBUF_C_TYPE_STRING || f->label == PROTOBUF_C_LABEL_REPEATED)
		return false;
	for (size_t i = 0; i < sizeof json_text_fields / sizeof json_text_fields[0]; i++)
		if (strcmp(f->name, json_text_fields[i]) == 0)
			return true;
	return false;
}

bool sl_event_field_is_cleared_list(const ProtobufCFieldDescriptor *f)
{
	return f->label == PROTOBUF_C_LABEL_REPEATED && f->type == PROTOBUF_C_TYPE_UINT32 &&
	       strcmp(f->name, "cleared") == 0;
}

bool sl_event_field_present(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f)
{
	if (f->label == PROTOBUF_C_LABEL_REPEATED)
		return *CMEMBER(msg, f->quantifier_offset, size_t) > 0;
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
		return *CMEMBER(msg, f->quantifier_offset, uint32_t) == f->id;
	if (f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_MESSAGE) {
		/* protobuf-c's own rule (optional_field_pack): a pointer field is
		 * present when it is neither NULL nor the default. */
		const void *p = *CMEMBER(msg, f->offset, void *const);
		return p != NULL && p != f->default_value;
	}
	if (f->label == PROTOBUF_C_LABEL_OPTIONAL)
		return *CMEMBER(msg, f->quantifier_offset, protobuf_c_boolean) != 0;
	return true;	/* required, or a proto3 scalar: always there */
}

const ProtobufCMessage *sl_event_body(const sl_event *ev)
{
	if (ev->body_case == STATELOG__EVENT__BODY__NOT_SET)
		return NULL;
	const ProtobufCFieldDescriptor *bf = protobuf_c_message_descriptor_get_field(
		&statelog__event__descriptor, (unsigned)ev->body_case);
	return bf ? *CMEMBER(ev, bf->offset, ProtobufCMessage *const) : NULL;
}

size_t sl_utf8_seqlen(const char *str, size_t left)
{
	const unsigned char *s = (const unsigned char *)str;
	unsigned char c = s[0];
	size_t n;
	uint32_t cp, min;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2, cp = c & 0x1f, min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		n = 3, cp = c & 0x0f, min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4, cp = c & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (left < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

static bool utf8_valid(const char *s, size_t len)
{
	for (size_t i = 0; i < len;) {
		size_t n = sl_utf8_seqlen(s + i, len - i);
		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

/* The code point of a well-formed sequence of n bytes. */
static uint32_t utf8_decode(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	static const unsigned char lead_mask[5] = { 0, 0x7f, 0x1f, 0x0f, 0x07 };
	uint32_t cp = s[0] & lead_mask[n];
	for (size_t i = 1; i < n; i++)
		cp = cp << 6 | (s[i] & 0x3f);
	return cp;
}

/* ------------------------------------------------------------------------ */
/* Writing JSON as Python's json.dumps() does                               */

int sl_json_format_real(double v, char *buf, size_t len)
{
	char e[40], digits[24] = { 0 }, tmp[40];
	size_t nd = 0, t = 0;
	int rc = SL_EINVAL;

	if (len > 0)
		buf[0] = '\0';
	if (isnan(v) || isinf(v)) {
		const char *s = isnan(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity";
		t = strlen(s);
		memcpy(tmp, s, t);
		goto copy;
	}
	/* The shortest decimal that reads back as v, as repr() finds it: the
	 * correctly rounded p-digit decimal is the closest p-digit one, so the
	 * first p that round-trips gives repr()'s digits. */
	for (int prec = 0; prec < 17; prec++) {
		snprintf(e, sizeof e, "%.*e", prec, v);
		if (strtod(e, NULL) == v)
			break;
	}
	/* e is [-]d[.ddd]e(+|-)xx; the decimal point may be the locale's. */
	const char *q = e;
	if (*q == '-')
		tmp[t++] = *q++;
	for (; *q && *q != 'e'; q++)
		if (*q >= '0' && *q <= '9' && nd < sizeof digits)
			digits[nd++] = *q;
	int exp10 = *q ? atoi(q + 1) : 0;
	int decpt = exp10 + 1;	/* v is 0.d1d2... times 10^decpt */

	if (decpt <= -4 || decpt > 16) {
		/* repr() switches to exponent form outside 1e-4 <= |v| < 1e16. */
		tmp[t++] = digits[0];
		if (nd > 1) {
			tmp[t++] = '.';
			memcpy(tmp + t, digits + 1, nd - 1);
			t += nd - 1;
		}
		t += (size_t)snprintf(tmp + t, sizeof tmp - t, "e%+03d", exp10);
	} else if (decpt <= 0) {
		tmp[t++] = '0';
		tmp[t++] = '.';
		for (int i = decpt; i < 0; i++)
			tmp[t++] = '0';
		memcpy(tmp + t, digits, nd);
		t += nd;
	} else if ((size_t)decpt >= nd) {
		memcpy(tmp + t, digits, nd);
		t += nd;
		for (size_t i = nd; i < (size_t)decpt; i++)
			tmp[t++] = '0';
		tmp[t++] = '.';
		tmp[t++] = '0';
	} else {
		memcpy(tmp + t, digits, (size_t)decpt);
		t += (size_t)decpt;
		tmp[t++] = '.';
		memcpy(tmp + t, digits + decpt, nd - (size_t)decpt);
		t += nd - (size_t)decpt;
	}
copy:
	if (t < len) {
		memcpy(buf, tmp, t);
		buf[t] = '\0';
		rc = SL_OK;
	}
	return rc;
}

/* A JSON string as json.dumps(ensure_ascii=True) writes it. */
static void dump_string(FILE *fp, const char *s, size_t len)
{
	fputc('"', fp);
	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x80) {
			size_t n = sl_utf8_seqlen(s + i, len - i);
			if (n == 0) {
				/* Unreachable for jansson strings, which are checked
				 * UTF-8; never write invalid JSON. */
				fputs("\\ufffd", fp);
				i++;
				continue;
			}
			uint32_t cp = utf8_decode(s + i, n);
			if (cp >= 0x10000) {
				cp -= 0x10000;
				fprintf(fp, "\\u%04x\\u%04x", 0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
			} else {
				fprintf(fp, "\\u%04x", cp);
			}
			i += n;
			continue;
		}
		switch (c) {
		case '"': fputs("\\\"", fp); break;
		case '\\': fputs("\\\\", fp); break;
		case '\n': fputs("\\n", fp); break;
		case '\r': fputs("\\r", fp); break;
		case '\t': fputs("\\t", fp); break;
		case '\b': fputs("\\b", fp); break;
		case '\f': fputs("\\f", fp); break;
		default:
			if (c < 0x20 || c == 0x7f)
				fprintf(fp, "\\u%04x", c);
			else
				fputc(c, fp);
		}
		i++;
	}
	fputc('"', fp);
}

static void dump_value(FILE *fp, const json_t *cv)
{
	/* jansson's iteration API takes non-const pointers; nothing is changed. */
	json_t *v = (json_t *)cv;
	const char *sep = "";
	char num[40];

	size_t raw_len;
	const char *raw = sl_json_raw_text(v, &raw_len);
	if (raw) {
		fwrite(raw, 1, raw_len, fp);
		return;
	}
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		fputc('{', fp);
		for (void *it = json_object_iter(v); it; it = json_object_iter_next(v, it)) {
			fputs(sep, fp);
			sep = ", ";
			const char *key = json_object_iter_key(it);
			size_t key_len = json_object_iter_key_len(it);
			if (key_len && key[0] == '\0')
				fwrite(key + 1, 1, key_len - 1, fp);    /* a raw key */
			else
				dump_string(fp, key, key_len);
			fputs(": ", fp);
			dump_value(fp, json_object_iter_value(it));
		}
		fputc('}', fp);
		break;
	case JSON_ARRAY:
		fputc('[', fp);
		for (size_t i = 0; i < json_array_size(v); i++) {
			fputs(sep, fp);
			sep = ", ";
			dump_value(fp, json_array_get(v, i));
		}
		fputc(']', fp);
		break;
	case JSON_STRING:
		dump_string(fp, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		fprintf(fp, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		sl_json_format_real(json_real_value(v), num, sizeof num);
		fputs(num, fp);
		break;
	case JSON_TRUE: fputs("true", fp); break;
	case JSON_FALSE: fputs("false", fp); break;
	case JSON_NULL: fputs("null", fp); break;
	}
}

char *sl_json_dumps(const json_t *v)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *fp = open_memstream(&buf, &size);
	if (!fp)
		return NULL;
	dump_value(fp, v);
	bool failed = ferror(fp) != 0;
	if (fclose(fp) != 0)
		failed = true;
	if (failed) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* ------------------------------------------------------------------------ */
/* Event -> JSON                                                            */

/* Sets key (a static name) to v, taking v.  SL_ENOMEM when v is NULL. */
static int put(json_t *obj, const char *key, json_t *v)
{
	return v && json_object_set_new(obj, key, v) == 0 ? SL_OK : SL_ENOMEM;
}

static int real_to_json(double d, json_t **out)
{
	json_t *v;
	if (isfinite(d))
		v = json_real(d);
	else
		v = json_string(isnan(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity");
	if (!v)
		return SL_ENOMEM;
	*out = v;
	return SL_OK;
}

static int string_to_json(const char *s, json_t **out)
{
	size_t len = strlen(s);
	if (!utf8_valid(s, len))
		return SL_EINVAL;
	json_t *v = json_stringn_nocheck(s, len);
	if (!v)
		return SL_ENOMEM;
	*out = v;
	return SL_OK;
}

/* A singular scalar field as JSON. */
static int scalar_to_json(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
			  json_t **out)
{
	json_t *v;
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		v = json_integer(*CMEMBER(m, f->offset, int32_t));
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		v = json_integer(*CMEMBER(m, f->offset, int64_t));
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		v = json_integer(*CMEMBER(m, f->offset, uint32_t));
		break;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64: {
		uint64_t u = *CMEMBER(m, f->offset, uint64_t);
		if (u > INT64_MAX)
			return SL_EINVAL;
		v = json_integer((json_int_t)u);
		break;
	}
	case PROTOBUF_C_TYPE_BOOL:
		v = json_boolean(*CMEMBER(m, f->offset, protobuf_c_boolean));
		break;
	case PROTOBUF_C_TYPE_FLOAT:
		return real_to_json(*CMEMBER(m, f->offset, float), out);
	case PROTOBUF_C_TYPE_DOUBLE:
		return real_to_json(*CMEMBER(m, f->offset, double), out);
	case PROTOBUF_C_TYPE_STRING:
		return string_to_json(*CMEMBER(m, f->offset, char *const), out);
	default:
		return SL_EINVAL;	/* enum, bytes, message: not in events.proto */
	}
	if (!v)
		return SL_ENOMEM;
	*out = v;
	return SL_OK;
}

/* A "cleared" list as field names; a number this build does not know (a
 * newer schema's field) stays a number rather than being dropped. */
static int cleared_to_json(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
			   json_t **out)
{
	size_t n = *CMEMBER(m, f->quantifier_offset, size_t);
	const uint32_t *ids = *CMEMBER(m, f->offset, uint32_t *const);
	json_t *arr = json_array();
	if (!arr)
		return SL_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const ProtobufCFieldDescriptor *cf =
			protobuf_c_message_descriptor_get_field(m->descriptor, ids[i]);
		json_t *v = cf ? json_string(cf->name) : json_integer(ids[i]);
		if (json_array_append_new(arr, v) != 0) {
			json_decref(arr);
			return SL_ENOMEM;
		}
	}
	*out = arr;
	return SL_OK;
}

static int body_to_json(const ProtobufCMessage *body, json_t **out)
{
	const ProtobufCMessageDescriptor *d = body->descriptor;
	int rc = SL_OK;
	json_t *obj = json_object();
	if (!obj)
		return SL_ENOMEM;
	for (unsigned i = 0; i < d->n_fields && rc == SL_OK; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		json_t *v = NULL;
		if (!sl_event_field_present(body, f))
			continue;
		if (sl_event_field_is_cleared_list(f))
			rc = cleared_to_json(body, f, &v);
		else if (f->label == PROTOBUF_C_LABEL_REPEATED || (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
			rc = SL_EINVAL;	/* not in events.proto */
		else
			rc = scalar_to_json(body, f, &v);
		if (rc == SL_OK)
			rc = put(obj, f->name, v);
	}
	if (rc != SL_OK) {
		json_decref(obj);
		return rc;
	}
	*out = obj;
	return SL_OK;
}

int sl_event_to_json(const sl_event *ev, json_t **out)
{
	int rc = SL_ENOMEM;
	json_t *obj = json_object(), *v = NULL;
	if (!obj)
		goto out;

	if (ev->has_seq) {
		if (ev->seq > INT64_MAX) {
			rc = SL_EINVAL;
			goto out;
		}
		if ((rc = put(obj, "seq", json_integer((json_int_t)ev->seq))) != SL_OK)
			goto out;
	}
	if (ev->has_time_us) {
		char tbuf[SL_TIME_BUFSZ];
		if (sl_time_format(ev->time_us, tbuf, sizeof tbuf) == SL_OK)
			rc = put(obj, "time", json_string(tbuf));
		else
			rc = put(obj, "time_us", json_integer(ev->time_us));
		if (rc != SL_OK)
			goto out;
	}
	if (ev->job_id) {
		if ((rc = string_to_json(ev->job_id, &v)) != SL_OK ||
		    (rc = put(obj, "job_id", v)) != SL_OK)
			goto out;
	}
	if ((rc = put(obj, "type", json_string(sl_event_type_name(ev)))) != SL_OK)
		goto out;

	uint32_t unknown = sl_event_unknown_type(ev);
	const ProtobufCMessage *body = sl_event_body(ev);
	if (unknown) {
		rc = put(obj, "unknown_field", json_integer(unknown));
	} else if (body) {
		if ((rc = body_to_json(body, &v)) == SL_OK)
			rc = put(obj, "body", v);
	}
	if (rc != SL_OK)
		goto out;
	*out = obj;
	obj = NULL;
	rc = SL_OK;
out:
	json_decref(obj);
	return rc;
}

char *sl_event_to_json_line(const sl_event *ev)
{
	json_t *obj = NULL;
	if (sl_event_to_json(ev, &obj) != SL_OK)
		return NULL;
	char *line = sl_json_dumps(obj);
	json_decref(obj);
	return line;
}

/* ------------------------------------------------------------------------ */
/* JSON -> event                                                            */

struct parse {
	char *err;
	size_t errlen;
	const char *type;	/* the event type, for messages */
};

static int fail(struct parse *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Writes the one-line error message and returns SL_EINVAL. */
static int fail(struct parse *ps, const char *fmt, ...)
{
	if (ps->err && ps->errlen > 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(ps->err, ps->errlen, fmt, ap);
		va_end(ap);
	}
	return SL_EINVAL;
}

static int no_memory(struct parse *ps)
{
	if (ps->err && ps->errlen > 0)
		snprintf(ps->err, ps->errlen, "out of memory");
	return SL_ENOMEM;
}

/* A key or value from the input, made safe for a one-line message: control
 * characters become '?', and it is cut after 48 bytes. */
static const char *shown(const char *s, char buf[64])
{
	size_t i = 0;
	for (; s[i] && i < 48; i++)
		buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	if (s[i]) {
		/* Do not end inside a UTF-8 sequence. */
		while (i > 0 && ((unsigned char)s[i] & 0xc0) == 0x80)
			i--;
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i] = '\0';
	return buf;
}

static const char *kind(const json_t *v)
{
	const char *raw = sl_json_raw_text(v, NULL);
	if (raw)
		return raw[0] == '"' ? "a string holding a lone surrogate"
		       : raw[0] == 'N' || raw[0] == 'I' || strncmp(raw, "-I", 2) == 0
		       ? "a non-finite number" : "a number out of range (integers must fit 64 bits)";
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "a list";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a real number";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	case JSON_NULL: return "null";
	}
	return "an unknown JSON value";
}

/* Whether a string value holds an embedded NUL (possible in a json_t built in
 * code, never in parsed text: the parser is not given JSON_ALLOW_NUL). */
static bool string_has_nul(const json_t *v)
{
	return strlen(json_string_value(v)) != json_string_length(v);
}

static bool message_has_cleared(const ProtobufCMessageDescriptor *d)
{
	for (unsigned i = 0; i < d->n_fields; i++)
		if (sl_event_field_is_cleared_list(&d->fields[i]))
			return true;
	return false;
}

static int null_error(struct parse *ps, const ProtobufCMessageDescriptor *d, const char *name)
{
	if (message_has_cleared(d))
		return fail(ps, "body.%s: null is not a value; to set the field to NULL, "
			    "list it in \"cleared\"", name);
	return fail(ps, "body.%s: null is not a value, and %s cannot set a field to NULL",
		    name, ps->type);
}

static int set_int(struct parse *ps, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
		   json_t *v)
{
	if (!json_is_integer(v))
		return fail(ps, "body.%s: expected an integer, got %s", f->name, kind(v));
	json_int_t i = json_integer_value(v);
	bool ok = true;
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		ok = i >= INT32_MIN && i <= INT32_MAX;
		*MEMBER(m, f->offset, int32_t) = (int32_t)i;
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		ok = i >= 0 && i <= UINT32_MAX;
		*MEMBER(m, f->offset, uint32_t) = (uint32_t)i;
		break;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		ok = i >= 0;
		*MEMBER(m, f->offset, uint64_t) = (uint64_t)i;
		break;
	default:
		/* int64: the parser already rejected what does not fit. */
		*MEMBER(m, f->offset, int64_t) = i;
		break;
	}
	if (!ok)
		return fail(ps, "body.%s: %" JSON_INTEGER_FORMAT " is out of range", f->name, i);
	return SL_OK;
}

static int set_real(struct parse *ps, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
		    json_t *v)
{
	double d;
	const char *raw = sl_json_raw_text(v, NULL);
	if (json_is_number(v)) {
		d = json_number_value(v);
	} else if (raw && strcmp(raw, "NaN") == 0) {
		d = NAN;
	} else if (raw && (strcmp(raw, "Infinity") == 0 || strcmp(raw, "-Infinity") == 0)) {
		d = raw[0] == '-' ? -INFINITY : INFINITY;
	} else if (json_is_string(v) && strcmp(json_string_value(v), "NaN") == 0) {
		d = NAN;
	} else if (json_is_string(v) && strcmp(json_string_value(v), "Infinity") == 0) {
		d = INFINITY;
	} else if (json_is_string(v) && strcmp(json_string_value(v), "-Infinity") == 0) {
		d = -INFINITY;
	} else {
		return fail(ps, "body.%s: expected a number, got %s", f->name, kind(v));
	}
	if (f->type == PROTOBUF_C_TYPE_FLOAT) {
		if (isfinite(d) && fabs(d) > FLT_MAX)
			return fail(ps, "body.%s: %g is out of range", f->name, d);
		*MEMBER(m, f->offset, float) = (float)d;
	} else {
		*MEMBER(m, f->offset, double) = d;
	}
	return SL_OK;
}

static int set_string(struct parse *ps, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
		      json_t *v)
{
	char *s;
	if (json_is_string(v)) {
		if (string_has_nul(v))
			return fail(ps, "body.%s: contains a NUL character", f->name);
		s = strdup(json_string_value(v));
	} else if (sl_event_field_is_json(f)) {
		s = sl_json_dumps(v);
	} else {
		return fail(ps, "body.%s: expected a string, got %s", f->name, kind(v));
	}
	if (!s)
		return no_memory(ps);
	char **member = MEMBER(m, f->offset, char *);
	free(*member);
	*member = s;
	return SL_OK;
}

/* Sets one singular field of a body from its JSON value. */
static int set_field(struct parse *ps, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
		     json_t *v)
{
	int rc;
	if (json_is_null(v))
		return null_error(ps, m->descriptor, f->name);
	if (f->label == PROTOBUF_C_LABEL_REPEATED || (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
		return fail(ps, "body.%s: a field of this kind cannot be given in JSON", f->name);
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		rc = set_int(ps, m, f, v);
		break;
	case PROTOBUF_C_TYPE_BOOL:
		if (!json_is_boolean(v))
			return fail(ps, "body.%s: expected true or false, got %s", f->name, kind(v));
		*MEMBER(m, f->offset, protobuf_c_boolean) = json_is_true(v);
		rc = SL_OK;
		break;
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_DOUBLE:
		rc = set_real(ps, m, f, v);
		break;
	case PROTOBUF_C_TYPE_STRING:
		/* Pointer fields carry their own presence: no has_ flag. */
		return set_string(ps, m, f, v);
	default:
		return fail(ps, "body.%s: a field of this type cannot be given in JSON", f->name);
	}
	if (rc == SL_OK && f->label == PROTOBUF_C_LABEL_OPTIONAL)
		*MEMBER(m, f->quantifier_offset, protobuf_c_boolean) = 1;
	return rc;
}

/* Fills a "cleared" list from a list of field names.  A field both set and
 * cleared is the JSON form of an event the rules refuse: it is read as
 * written, and refused by them (model/apply.c) at every door. */
static int set_cleared(struct parse *ps, ProtobufCMessage *m,
		       const ProtobufCFieldDescriptor *lf, json_t *list)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	char b[64];

	if (!json_is_array(list))
		return fail(ps, "body.%s: expected a list of field names, got %s", lf->name, kind(list));
	size_t n = json_array_size(list);
	if (n == 0)
		return SL_OK;
	uint32_t *ids = malloc(n * sizeof *ids);
	if (!ids)
		return no_memory(ps);
	/* Owned by the message from here on: the count grows as ids fill. */
	*MEMBER(m, lf->offset, uint32_t *) = ids;
	size_t *count = MEMBER(m, lf->quantifier_offset, size_t);
	*count = 0;

	for (size_t i = 0; i < n; i++) {
		json_t *e = json_array_get(list, i);
		if (!json_is_string(e))
			return fail(ps, "body.%s[%zu]: expected a field name, got %s", lf->name, i, kind(e));
		const char *name = json_string_value(e);
		const ProtobufCFieldDescriptor *cf = string_has_nul(e) ? NULL :
			protobuf_c_message_descriptor_get_field_by_name(d, name);
		if (!cf || cf == lf || cf->label == PROTOBUF_C_LABEL_REPEATED)
			return fail(ps, "body.%s[%zu]: \"%s\" is not a field of %s that can be cleared",
				    lf->name, i, shown(name, b), ps->type);
		for (size_t j = 0; j < *count; j++)
			if (ids[j] == cf->id)
				return fail(ps, "body.%s: \"%s\" is listed twice", lf->name, cf->name);
		ids[(*count)++] = cf->id;
	}
	return SL_OK;
}

static int fill_body(struct parse *ps, ProtobufCMessage *m, json_t *body)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	const ProtobufCFieldDescriptor *cleared_f = NULL;
	json_t *cleared_v = NULL, *v;
	const char *key;
	size_t key_len;
	char b[64];
	int rc;

	json_object_keylen_foreach(body, key, key_len, v) {
		const ProtobufCFieldDescriptor *f = strlen(key) != key_len ? NULL :
			protobuf_c_message_descriptor_get_field_by_name(d, key);
		if (!f)
			return fail(ps, "body.%s: not a field of %s", shown(key, b), ps->type);
		if (sl_event_field_is_cleared_list(f)) {
			cleared_f = f;
			cleared_v = v;
			continue;
		}
		if ((rc = set_field(ps, m, f, v)) != SL_OK)
			return rc;
	}
	if (cleared_f)
		return set_cleared(ps, m, cleared_f, cleared_v);
	return SL_OK;
}

static bool is_envelope_key(const char *key)
{
	static const char *const keys[] = { "seq", "time", "time_us", "job_id", "type", "body" };
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		if (strcmp(key, keys[i]) == 0)
			return true;
	return false;
}

int sl_event_from_json_value(json_t *root, sl_event **out, char *err, size_t errlen)
{
	struct parse ps = { .err = err, .errlen = errlen, .type = NULL };
	sl_event *ev = NULL;
	const char *key;
	size_t key_len;
	json_t *v;
	char b[64];
	int rc;

	if (err && errlen > 0)
		err[0] = '\0';
	if (!json_is_object(root)) {
		rc = fail(&ps, "expected a JSON object, got %s", kind(root));
		goto out;
	}
	json_object_keylen_foreach(root, key, key_len, v) {
		if (strlen(key) != key_len || !is_envelope_key(key)) {
			rc = fail(&ps, "%s: unknown key (expected seq, time, time_us, job_id, type, body)",
				  shown(key, b));
			goto out;
		}
		if (json_is_null(v)) {
			rc = fail(&ps, "%s: null is not a value", key);
			goto out;
		}
	}

	json_t *job_id = json_object_get(root, "job_id");
	if (!job_id) {
		rc = fail(&ps, "job_id: missing");
		goto out;
	}
	if (!json_is_string(job_id)) {
		rc = fail(&ps, "job_id: expected a string, got %s", kind(job_id));
		goto out;
	}
	if (json_string_length(job_id) == 0) {
		rc = fail(&ps, "job_id: must not be empty");
		goto out;
	}
	if (string_has_nul(job_id)) {
		rc = fail(&ps, "job_id: contains a NUL character");
		goto out;
	}

	json_t *type = json_object_get(root, "type");
	if (!type) {
		rc = fail(&ps, "type: missing");
		goto out;
	}
	if (!json_is_string(type)) {
		rc = fail(&ps, "type: expected a string, got %s", kind(type));
		goto out;
	}
	Statelog__Event__BodyCase bc = string_has_nul(type) ? STATELOG__EVENT__BODY__NOT_SET :
		sl_event_type_from_name(json_string_value(type));
	if (bc == STATELOG__EVENT__BODY__NOT_SET) {
		rc = fail(&ps, "type: unknown event type \"%s\"", shown(json_string_value(type), b));
		goto out;
	}
	const ProtobufCFieldDescriptor *bf = protobuf_c_message_descriptor_get_field(
		&statelog__event__descriptor, (unsigned)bc);
	const ProtobufCMessageDescriptor *bd = bf->descriptor;
	ps.type = bf->name;

	json_t *seq = json_object_get(root, "seq");
	if (seq && (!json_is_integer(seq) || json_integer_value(seq) < 0)) {
		rc = fail(&ps, "seq: expected a non-negative integer, got %s", kind(seq));
		goto out;
	}

	json_t *time = json_object_get(root, "time");
	json_t *time_us = json_object_get(root, "time_us");
	int64_t t = 0;
	if (time && time_us) {
		rc = fail(&ps, "time, time_us: give one or the other, not both");
		goto out;
	}
	if (time) {
		if (!json_is_string(time)) {
			rc = fail(&ps, "time: expected an ISO-8601 time string, got %s", kind(time));
			goto out;
		}
		if (string_has_nul(time) || sl_time_parse(&t, json_string_value(time)) != SL_OK) {
			rc = fail(&ps, "time: \"%s\" is not an ISO-8601 time "
				  "(like 2026-11-26T02:49:38.504474+00:00)",
				  shown(json_string_value(time), b));
			goto out;
		}
	} else if (time_us) {
		if (!json_is_integer(time_us)) {
			rc = fail(&ps, "time_us: expected an integer, got %s", kind(time_us));
			goto out;
		}
		t = json_integer_value(time_us);
	}

	json_t *body = json_object_get(root, "body");
	if (!body && bd->n_fields > 0) {
		rc = fail(&ps, "body: missing (%s has fields)", ps.type);
		goto out;
	}
	if (body && !json_is_object(body)) {
		rc = fail(&ps, "body: expected an object, got %s", kind(body));
		goto out;
	}

	/* Build the event.  From here every pointer in it is NULL or owned by
	 * it, so sl_event_free() cleans up after any failure. */
	ev = malloc(sizeof *ev);
	if (!ev) {
		rc = no_memory(&ps);
		goto out;
	}
	statelog__event__init(ev);
	if (time || time_us) {
		ev->has_time_us = 1;
		ev->time_us = t;
	}
	ev->job_id = strdup(json_string_value(job_id));
	ProtobufCMessage *msg = malloc(bd->sizeof_message);
	if (!ev->job_id || !msg) {
		free(msg);
		rc = no_memory(&ps);
		goto out;
	}
	bd->message_init(msg);
	*MEMBER(ev, bf->offset, ProtobufCMessage *) = msg;
	ev->body_case = bc;
	if (body && (rc = fill_body(&ps, msg, body)) != SL_OK)
		goto out;

	*out = ev;
	ev = NULL;
	rc = SL_OK;
out:
	sl_event_free(ev);
	return rc;
}

int sl_event_from_json(sl_event **out, const char *text, size_t len, char *err, size_t errlen)
{
	struct parse ps = { .err = err, .errlen = errlen, .type = NULL };
	json_error_t je;
	int rc;

	/* Read as Python's json.loads() reads it (NaN, integers of any size and
	 * lone surrogates inside a JSON document are the original's values).
	 * No JSON_ALLOW_NUL: a \u0000 is refused by the parser, so no string
	 * handed on can be cut short by an embedded NUL. */
	json_t *root;
	rc = sl_json_py_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &root, &je);
	if (rc == SL_ENOMEM)
		return no_memory(&ps);
	if (rc != SL_OK) {
		switch (json_error_code(&je)) {
		case json_error_out_of_memory:
			return no_memory(&ps);
		case json_error_null_character:
			return fail(&ps, "invalid JSON at line %d, column %d: "
				    "\\u0000 (NUL) is not allowed in a string", je.line, je.column);
		case json_error_numeric_overflow:
			return fail(&ps, "invalid JSON at line %d, column %d: number out of range "
				    "(integers must fit 64 bits): %s", je.line, je.column, je.text);
		default:
			return fail(&ps, "invalid JSON at line %d, column %d: %s",
				    je.line, je.column, je.text);
		}
	}
	rc = sl_event_from_json_value(root, out, err, errlen);
	json_decref(root);
	return rc;
}
