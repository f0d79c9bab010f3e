/* event_json.h: events as JSON objects and as one line of text.
 *
 * JSON is how events enter statelog from any language (`statelog append`
 * reads JSON lines) and how `statelog dump --json` shows them; the text form
 * is `statelog dump` for people.  Both are driven by the protobuf-c
 * descriptors of events.proto, so a field added there needs no code here
 * (unless it holds JSON text: see sl_event_field_is_json()).
 *
 * The JSON form of one event:
 *   {"seq": 12, "time": "2026-11-26T02:49:38.504474+00:00", "job_id": "j1",
 *    "type": "sheet_completed",
 *    "body": {"sheet_num": 3, "validation_passed": true, "duration_seconds": 12.5}}
 * - "seq" and "time" only when the event has them.  A time outside the years
 *   0001..9999 is written as "time_us": <integer> instead.
 * - "body" holds the fields that are present, in field-number order: int64 as
 *   integers, double as reals (a NaN or infinity as the string "NaN",
 *   "Infinity" or "-Infinity"), bool as true/false, strings as strings
 *   (JSON-text fields too: the stored text, unchanged).  "cleared" is a list
 *   of field names; a cleared number this build does not know stays a number.
 * - An event of a type this build does not know: "type": "unknown",
 *   "unknown_field": <its field number>, and no "body".
 *
 * On input "job_id" (a non-empty string) and "type" are required, "body" too
 * unless the type has no fields; "time" (any form sl_time_parse() accepts) or
 * "time_us" may be given; "seq" is accepted and ignored (the log assigns it).
 * No other key is allowed, in the event or in its body.  A JSON-text field
 * takes a string (stored as is) or any other JSON value (stored as its text,
 * written as Python's json.dumps() writes it; see sl_json_dumps()).
 */
#ifndef SL_EVENT_JSON_H
#define SL_EVENT_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "event.h"

/* The JSON object of an event.  *out is owned by the caller (json_decref()).
 * Returns SL_ENOMEM, or SL_EINVAL when the event holds what JSON cannot
 * carry (a string that is not valid UTF-8, a seq above INT64_MAX, a field of
 * a type the codec does not handle). */
int sl_event_to_json(const sl_event *ev, json_t **out);

/* sl_event_to_json() written on one line by sl_json_dumps(), without a
 * newline.  Owned by the caller (free()); NULL on any error. */
char *sl_event_to_json_line(const sl_event *ev);

/* Parses one event from JSON text (len bytes; need not be NUL-terminated).
 * *out is owned by the caller: free it with sl_event_free().  On SL_EINVAL
 * err (errlen bytes, may be NULL) receives one line naming the key and the
 * problem, e.g. "body.sheet_num: expected an integer, got a string", or for
 * malformed JSON its line and column.  Returns SL_EINVAL or SL_ENOMEM;
 * *out is set only on success. */
int sl_event_from_json(const char *text, size_t len, sl_event **out,
		       char *err, size_t errlen);

/* As sl_event_from_json(), from an already parsed JSON value (borrowed,
 * not modified). */
int sl_event_from_json_value(json_t *obj, sl_event **out, char *err, size_t errlen);

/* One line of text for people (`statelog dump`), no newline:
 *   #12 2026-11-26T02:49:38.504474+00:00 j1 sheet_completed sheet=3
 *   validation_passed=true duration_seconds=12.5 validation_details=[]
 * The sheet number comes first as sheet=N, then the other fields in field
 * order, JSON-text fields last (as raw JSON), then each cleared field as
 * name=NULL.  *_at_us times are shown as ISO times under their name without
 * "_us".  Strings are quoted and escaped when they are empty or contain
 * spaces, quotes, backslashes, control characters or bytes that are not
 * UTF-8; strings over SL_TEXT_MAX_STRING bytes are cut there and followed by
 * "...(N bytes)".  A missing seq or time shows as "#-" or "-".
 * *out is owned by the caller (free()).  Returns SL_ENOMEM. */
int sl_event_to_text(const sl_event *ev, char **out);

/* Strings longer than this are shortened by sl_event_to_text(). */
#define SL_TEXT_MAX_STRING 60

/* --- Helpers shared by the JSON and text forms (usable by tools) --- */

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

/* Whether a string field holds JSON text (config_snapshot,
 * validation_details, passed_validations, failed_validations, outcome_data,
 * learned_patterns).  The one per-field list of the codec. */
bool sl_event_field_is_json(const ProtobufCFieldDescriptor *f);

/* Whether f is a "cleared" list: repeated uint32 field numbers that the event
 * sets to NULL (events.proto, "Presence"). */
bool sl_event_field_is_cleared_list(const ProtobufCFieldDescriptor *f);

/* Whether field f of msg is present (set, non-NULL, non-empty list). */
bool sl_event_field_present(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f);

/* The body message of ev (borrowed from ev), or NULL when it has none. */
const ProtobufCMessage *sl_event_body(const sl_event *ev);

/* The length (1..4) of the well-formed UTF-8 sequence at s (left > 0 bytes
 * available), or 0 when s does not start one (overlong forms, surrogates
 * and code points above U+10FFFF are not well-formed). */
size_t sl_utf8_seqlen(const char *s, size_t left);

#endif
