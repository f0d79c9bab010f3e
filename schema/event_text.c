/* event_text.c: one line of text per event, for people (`statelog dump`).
 *
 *   #12 2026-11-26T02:49:38.504474+00:00 j1 sheet_completed sheet=3
 *       validation_passed=true duration_seconds=12.5 validation_details=[]
 *
 * (one line; wrapped here).  Like the JSON codec it walks the body through
 * its protobuf-c descriptor.  The line is for reading, not for parsing back:
 * `statelog dump --json` is the machine form.  What it promises is that a
 * line never breaks (control characters are escaped) and that a shown string
 * is never ambiguous (a string that could be misread is quoted).
 */
#include "event_json_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timefmt.h"

static bool is_continuation(char c)
{
	return ((unsigned char)c & 0xc0) == 0x80;
}

/* A C1 control character (U+0080..U+009F) in UTF-8: C2 80..C2 9F.  Some
 * terminals act on them as they do on ESC sequences. */
static bool is_c1(const char *s, size_t n)
{
	return n == 2 && (unsigned char)s[0] == 0xc2 && (unsigned char)s[1] < 0xa0;
}

/* Whether s has a control character (C0, DEL, C1) or a byte that is not
 * UTF-8. */
static bool has_controls(const char *s, size_t len)
{
	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)s[i];
		size_t n = sl_utf8_seqlen(s + i, len - i);
		if (n == 0 || c < 0x20 || c == 0x7f || is_c1(s + i, n))
			return true;
		i += n;
	}
	return false;
}

/* Whether s would be misread if shown bare in a space-separated line. */
static bool needs_quotes(const char *s, size_t len)
{
	/* "-" alone is how a missing value is shown. */
	if (len == 0 || (len == 1 && s[0] == '-') || has_controls(s, len))
		return true;
	for (size_t i = 0; i < len; i++)
		if (s[i] == ' ' || s[i] == '"' || s[i] == '\\')
			return true;
	return false;
}

/* s with \n \r \t, \xNN for other C0 control characters, DEL and bytes
 * that are not UTF-8, and \u00NN for C1 control characters; well-formed
 * UTF-8 is kept.  quoted: in double quotes, with \" and \\ too.  This is
 * the one escaper of everything statelog shows people. */
static void put_escaped(FILE *fp, const char *s, size_t len, bool quoted)
{
	if (quoted)
		fputc('"', fp);
	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x80) {
			size_t n = sl_utf8_seqlen(s + i, len - i);
			if (is_c1(s + i, n)) {
				fprintf(fp, "\\u%04x", (unsigned char)s[i + 1]);
				i += n;
			} else if (n > 0) {
				fwrite(s + i, 1, n, fp);
				i += n;
			} else {
				fprintf(fp, "\\x%02x", c);
				i++;
			}
			continue;
		}
		switch (c) {
		case '"': fputs(quoted ? "\\\"" : "\"", fp); break;
		case '\\': fputs(quoted ? "\\\\" : "\\", fp); break;
		case '\n': fputs("\\n", fp); break;
		case '\r': fputs("\\r", fp); break;
		case '\t': fputs("\\t", fp); break;
		default:
			if (c < 0x20 || c == 0x7f)
				fprintf(fp, "\\x%02x", c);
			else
				fputc(c, fp);
		}
		i++;
	}
	if (quoted)
		fputc('"', fp);
}

void sl_text_put(FILE *fp, const char *s, size_t max, enum sl_text_form form)
{
	size_t len = strlen(s), keep = len;
	if (max && len > max) {
		/* Not inside a UTF-8 sequence. */
		keep = max;
		for (int k = 0; k < 3 && keep > 0 && is_continuation(s[keep]); k++)
			keep--;
	}
	bool quote;
	switch (form) {
	case SL_TEXT_WORD: quote = keep < len || needs_quotes(s, keep); break;
	case SL_TEXT_FIELD: quote = len == 0 || has_controls(s, keep); break;
	case SL_TEXT_QUOTED: quote = true; break;
	default: quote = false; break;
	}
	if (quote || has_controls(s, keep))
		put_escaped(fp, s, keep, quote);
	else
		fwrite(s, 1, keep, fp);
	if (keep < len)
		fprintf(fp, "...(%zu bytes)", len);
}

char *sl_text_show(const char *s, size_t max, enum sl_text_form form)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *fp = open_memstream(&buf, &size);
	if (!fp)
		return NULL;
	sl_text_put(fp, s, max, form);
	bool failed = ferror(fp) != 0;
	if (fclose(fp) != 0 || failed) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* A string value of an event: a cut string is always quoted, so the "..."
 * is plainly not part of it; JSON text is shown as it is (its brackets
 * delimit it) unless it holds control characters. */
static void put_string(FILE *fp, const char *s, bool json)
{
	sl_text_put(fp, s, SL_TEXT_MAX_STRING, json ? SL_TEXT_FIELD : SL_TEXT_WORD);
}

/* Whether f is a time (an int64 named *_us), shown as an ISO time under its
 * name without "_us". */
static bool is_time_field(const ProtobufCFieldDescriptor *f)
{
	size_t n = strlen(f->name);
	return f->type == PROTOBUF_C_TYPE_INT64 && n > 3 && strcmp(f->name + n - 3, "_us") == 0;
}

/* " name=": sheet_num is shown as "sheet", a time field without "_us". */
static void put_name(FILE *fp, const ProtobufCFieldDescriptor *f)
{
	if (strcmp(f->name, "sheet_num") == 0)
		fputs(" sheet=", fp);
	else if (is_time_field(f))
		fprintf(fp, " %.*s=", (int)(strlen(f->name) - 3), f->name);
	else
		fprintf(fp, " %s=", f->name);
}

static void put_field(FILE *fp, const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	const char *member = (const char *)m + f->offset;
	char buf[SL_TIME_BUFSZ + 8];

	if (is_time_field(f)) {
		int64_t t = *(const int64_t *)member;
		if (sl_time_format(t, buf, sizeof buf) == SL_OK) {
			put_name(fp, f);
			fputs(buf, fp);
		} else {
			/* Out of the calendar's range: the raw number, under
			 * the field's own name so the unit is not lost. */
			fprintf(fp, " %s=%" PRId64, f->name, t);
		}
		return;
	}
	put_name(fp, f);
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		fprintf(fp, "%" PRId32, *(const int32_t *)member);
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		fprintf(fp, "%" PRId64, *(const int64_t *)member);
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		fprintf(fp, "%" PRIu32, *(const uint32_t *)member);
		break;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		fprintf(fp, "%" PRIu64, *(const uint64_t *)member);
		break;
	case PROTOBUF_C_TYPE_BOOL:
		fputs(*(const protobuf_c_boolean *)member ? "true" : "false", fp);
		break;
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_DOUBLE:
		sl_json_format_real(f->type == PROTOBUF_C_TYPE_FLOAT ? *(const float *)member
				    : *(const double *)member, buf, sizeof buf);
		fputs(buf, fp);
		break;
	case PROTOBUF_C_TYPE_STRING:
		put_string(fp, *(const char *const *)member, sl_event_field_is_json(f));
		break;
	default:
		fputc('?', fp);	/* enum, bytes, message: not in events.proto */
		break;
	}
}

static void put_cleared(FILE *fp, const ProtobufCMessage *m, const ProtobufCFieldDescriptor *lf)
{
	size_t n = *(const size_t *)((const char *)m + lf->quantifier_offset);
	const uint32_t *ids = *(uint32_t *const *)((const char *)m + lf->offset);
	for (size_t i = 0; i < n; i++) {
		const ProtobufCFieldDescriptor *cf =
			protobuf_c_message_descriptor_get_field(m->descriptor, ids[i]);
		if (cf) {
			put_name(fp, cf);
			fputs("NULL", fp);
		} else {
			/* A field of a newer schema: its number is all we know. */
			fprintf(fp, " field%" PRIu32 "=NULL", ids[i]);
		}
	}
}

/* The body in reading order: the sheet, the other fields, JSON text, then
 * what the event clears. */
static void put_body(FILE *fp, const ProtobufCMessage *body)
{
	const ProtobufCMessageDescriptor *d = body->descriptor;
	enum { SHEET, PLAIN, JSON, CLEARED, N_PASSES };

	for (int pass = SHEET; pass < N_PASSES; pass++) {
		for (unsigned i = 0; i < d->n_fields; i++) {
			const ProtobufCFieldDescriptor *f = &d->fields[i];
			if (!sl_event_field_present(body, f))
				continue;
			int which = sl_event_field_is_cleared_list(f) ? CLEARED
				  : strcmp(f->name, "sheet_num") == 0 ? SHEET
				  : sl_event_field_is_json(f) ? JSON : PLAIN;
			if (which != pass)
				continue;
			if (which == CLEARED)
				put_cleared(fp, body, f);
			else if (f->label == PROTOBUF_C_LABEL_REPEATED ||
				 (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
				fprintf(fp, " %s=?", f->name);	/* not in events.proto */
			else
				put_field(fp, body, f);
		}
	}
}

int sl_event_to_text(char **out, const sl_event *ev)
{
	char *buf = NULL;
	size_t size = 0;
	char tbuf[SL_TIME_BUFSZ];
	FILE *fp = open_memstream(&buf, &size);
	if (!fp)
		return SL_ENOMEM;

	if (ev->has_seq)
		fprintf(fp, "#%" PRIu64, ev->seq);
	else
		fputs("#-", fp);
	if (!ev->has_time_us)
		fputs(" -", fp);
	else if (sl_time_format(ev->time_us, tbuf, sizeof tbuf) == SL_OK)
		fprintf(fp, " %s", tbuf);
	else
		fprintf(fp, " %" PRId64 "us", ev->time_us);
	fputc(' ', fp);
	if (ev->job_id)
		put_string(fp, ev->job_id, false);
	else
		fputc('-', fp);
	fprintf(fp, " %s", sl_event_type_name(ev));

	uint32_t unknown = sl_event_unknown_type(ev);
	const ProtobufCMessage *body = sl_event_body(ev);
	if (unknown)
		fprintf(fp, " unknown_field=%" PRIu32, unknown);
	else if (body)
		put_body(fp, body);

	bool failed = ferror(fp) != 0;
	if (fclose(fp) != 0 || failed) {
		free(buf);
		return SL_ENOMEM;
	}
	*out = buf;
	return SL_OK;
}
