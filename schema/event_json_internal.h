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

#include <stddef.h>

#include <jansson.h>

#include "event_internal.h"
#include "event_json.h"

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
 * (shortest round-trip form: 0.1, 12.0, 1e+16).  This is the encoding of the
 * views' JSON columns (projector/model/MODEL.md).  Caller frees it; NULL
 * when out of memory. */
char *sl_json_dumps(const json_t *v);

/* Writes v as Python's repr(float) does ("12.5", "12.0", "1e-05"), or "NaN",
 * "Infinity", "-Infinity" as json.dumps does.  Needs at most 32 bytes.
 * Returns SL_EINVAL when buf is too small. */
int sl_json_format_real(double v, char *buf, size_t len);

/* The length (1..4) of the well-formed UTF-8 sequence at s (left > 0 bytes
 * available), or 0 when s does not start one (overlong forms, surrogates
 * and code points above U+10FFFF are not well-formed). */
size_t sl_utf8_seqlen(const char *s, size_t left);

#endif
