/* event_json_internal.h: the JSON codec's jansson side and the helpers the
 * JSON and text forms share, for the library's own files and tools/.
 *
 * The public event_json.h takes and gives JSON as text; code that already
 * holds a parsed value (`statelog append`, import, the dashboards' JSON
 * output) uses these.  Not installed: no program using the library needs
 * jansson.
 */
#ifndef SL_EVENT_JSON_INTERNAL_H
#define SL_EVENT_JSON_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "event_internal.h"
#include "event_json.h"
#include "timefmt.h"

/* The JSON object of an event (the form described in event_json.h).  *out
 * is owned by the caller (json_decref()).  Returns SL_ENOMEM, or SL_EINVAL
 * when the event holds what JSON cannot carry (a string that is not valid
 * UTF-8, a seq above INT64_MAX, a field of a type the codec does not
 * handle). */
int sl_event_to_json(const sl_event *ev, json_t **out);

/* As sl_event_from_json(), from an already parsed JSON value (borrowed,
 * not modified). */
int sl_event_from_json_value(json_t *obj, sl_event **out, char *err, size_t errlen);

/* Writes a JSON value exactly as Python's json.dumps(v) does with its
 * defaults: one line, ", " and ": " separators, keys in insertion order,
 * non-ASCII as \uXXXX (lower-case hex, surrogate pairs), reals as repr()
 * (shortest round-trip form: 0.1, 12.0, 1e+16), a raw node's text as it is
 * (sl_json_raw()).  This is the encoding of the views' JSON columns
 * (projector/model/MODEL.md).  Caller frees it; NULL when out of memory. */
char *sl_json_dumps(const json_t *v);

/* ---- JSON as Python's json module reads it (json_py.c) ---------------- */

/* What Python's json.loads() reads and jansson does not. */
enum sl_py_token {
	SL_PY_WORD,                     /* NaN, Infinity, -Infinity */
	SL_PY_NUMBER,                   /* an integer beyond 64 bits, a real
					   beyond a double */
	SL_PY_STRING,                   /* a string holding a \u escape of a lone
					   surrogate or of NUL */
};
#define SL_PY_SURROGATE 1u              /* SL_PY_STRING: a lone surrogate */
#define SL_PY_NUL 2u                    /* SL_PY_STRING: a NUL */

/* Called for each such token: its kind, for a string what it holds
 * (SL_PY_SURROGATE | SL_PY_NUL), where it starts in the text and its length
 * (a string's with its quotes), and whether it is an object's key.  A
 * non-zero return stops the scan. */
typedef int (*sl_json_py_fn)(void *arg, enum sl_py_token kind, unsigned what, size_t at,
			     size_t n, bool key);

/* Calls fn for each token of text[0..len) that Python reads and jansson
 * does not, in order, building nothing; returns fn's non-zero result, or 0.
 * Text that is not JSON is scanned as far as it goes (jansson tells what
 * is wrong with it). */
int sl_json_py_scan(const char *text, size_t len, sl_json_py_fn fn, void *arg);

/* Parses text[0..len) as json.loads() does, with jansson's decode flags:
 * what jansson cannot hold (the tokens above) is in *out as raw nodes
 * holding their source text.  A \u0000 is taken only with
 * JSON_ALLOW_NUL.  SL_EINVAL with err filled as jansson fills it, for the
 * first thing Python would not read either, at its place in the text as
 * given (jansson's own error when the text holds nothing only Python
 * reads); SL_ENOMEM. */
int sl_json_py_loadb(const char *text, size_t len, size_t flags, json_t **out,
		     json_error_t *err);

/* A raw node: a JSON value given as its text (len bytes, valid JSON as
 * Python reads it), which sl_json_dumps() writes as it is.  NULL when out
 * of memory. */
json_t *sl_json_raw(const char *text, size_t len);

/* The text of raw node v (its length in *len, may be NULL); NULL when v is
 * not one. */
const char *sl_json_raw_text(const json_t *v, size_t *len);

/* Whether s[0..4) (left bytes available) are four hex digits; *out their
 * value. */
bool sl_json_hex4(const char *s, size_t left, unsigned *out);

/* The length of the JSON number at s (RFC 8259's grammar), 0 when none. */
size_t sl_json_number_span(const char *s, size_t left);

/* A column's value as a JSON value, None (null) when absent: text, a time
 * as the original writes it, an integer, a real.  New references (NULL only
 * when out of memory). */
static inline json_t *sl_jv_text(const char *s)
{
	return s ? json_string(s) : json_null();
}

static inline json_t *sl_jv_time(bool has, int64_t us)
{
	char buf[SL_TIME_BUFSZ];
	if (!has || sl_time_format(us, buf, sizeof buf) != SL_OK)
		return json_null();
	return json_string(buf);
}

static inline json_t *sl_jv_int(bool has, int64_t v)
{
	return has ? json_integer(v) : json_null();
}

static inline json_t *sl_jv_real(bool has, double v)
{
	return has ? json_real(v) : json_null();
}

/* Writes v as Python's repr(float) does ("12.5", "12.0", "1e-05"), or "NaN",
 * "Infinity", "-Infinity" as json.dumps does.  Needs at most 32 bytes.
 * Returns SL_EINVAL when buf is too small. */
int sl_json_format_real(double v, char *buf, size_t len);

/* How sl_text_put() shows a string to people. */
enum sl_text_form {
	/* As `statelog dump` shows a value: bare, or quoted and escaped when
	 * it is empty or "-", or holds a space, a quote, a backslash, a
	 * control character or a byte that is not UTF-8. */
	SL_TEXT_WORD,
	/* Bare, or quoted and escaped when it is empty or holds a control
	 * character or a byte that is not UTF-8: a column of a table, or JSON
	 * text, where spaces and quotes are plain. */
	SL_TEXT_FIELD,
	/* Always quoted and escaped. */
	SL_TEXT_QUOTED,
	/* Never quoted: only control characters and bytes that are not UTF-8
	 * escaped, for a line already written for people (a message). */
	SL_TEXT_LINE,
};

/* Writes s to fp in the given form, so that no byte of it can move the
 * cursor, change colours or reach a terminal's other controls: control
 * characters (C0, DEL, and C1 written as UTF-8) are escaped as \xNN or
 * \u00NN (\n, \r, \t by name), bytes that are not UTF-8 as \xNN; in the
 * quoted forms \" and \\ too.  Past max bytes (0: no limit) s is cut, not
 * inside a UTF-8 sequence, and followed by "...(N bytes)" (in the WORD form
 * a cut string is quoted, so the "..." is plainly not part of it).  The one escaper of every text output: `dump` and the
 * program's tables, stories and messages. */
void sl_text_put(FILE *fp, const char *s, size_t max, enum sl_text_form form);

/* The same as a string; free() it.  NULL when out of memory. */
char *sl_text_show(const char *s, size_t max, enum sl_text_form form);

/* The length (1..4) of the well-formed UTF-8 sequence at s (left > 0 bytes
 * available), or 0 when s does not start one (overlong forms, surrogates
 * and code points above U+10FFFF are not well-formed). */
size_t sl_utf8_seqlen(const char *s, size_t left);

#endif
