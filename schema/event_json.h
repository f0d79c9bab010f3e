/* event_json.h: events as JSON objects and as one line of text.
 *
 * JSON is how events enter statelog from any language (`statelog append`
 * reads JSON lines) and how `statelog dump --json` shows them; the text form
 * is `statelog dump` for people.  Both are driven by the protobuf-c
 * descriptors of events.proto, so a field added there needs no code here
 * (unless it holds JSON text: the one list of those is in event_json.c).
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
 * written as Python's json.dumps() writes it).
 */
#ifndef SL_EVENT_JSON_H
#define SL_EVENT_JSON_H

#include <stddef.h>

#include "event.h"
#include "sl_api.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The JSON form of the event (above) on one line, as Python's json.dumps()
 * writes it, without a newline.  Owned by the caller (free()); NULL on any
 * error: out of memory, or what JSON cannot carry (a string that is not
 * valid UTF-8, a seq above INT64_MAX). */
SL_API char *sl_event_to_json_line(const sl_event *ev);

/* Parses one event from JSON text (len bytes; need not be NUL-terminated).
 * *out is owned by the caller: free it with sl_event_free().  On SL_EINVAL
 * err (errlen bytes, may be NULL) receives one line naming the key and the
 * problem, e.g. "body.sheet_num: expected an integer, got a string", or for
 * malformed JSON its line and column.  Returns SL_EINVAL or SL_ENOMEM;
 * *out is set only on success. */
SL_API int sl_event_from_json(sl_event **out, const char *text, size_t len, char *err,
			      size_t errlen);

/* One line of text for people (`statelog dump`), no newline:
 *   #12 2026-11-26T02:49:38.504474+00:00 j1 sheet_completed sheet=3
 *   validation_passed=true duration_seconds=12.5 validation_details=[]
 * The sheet number comes first as sheet=N, then the other fields in field
 * order, JSON-text fields last (as raw JSON), then each cleared field as
 * name=NULL.  *_at_us times are shown as ISO times under their name without
 * "_us".  Strings are quoted and escaped when they are empty or contain
 * spaces, quotes, backslashes, control characters (C0, DEL and C1, shown
 * as \xNN or \u00NN) or bytes that are not UTF-8; strings over SL_TEXT_MAX_STRING bytes are cut there and followed by
 * "...(N bytes)".  A missing seq or time shows as "#-" or "-".
 * *out is owned by the caller (free()).  Returns SL_ENOMEM. */
SL_API int sl_event_to_text(char **out, const sl_event *ev);

/* Strings longer than this are shortened by sl_event_to_text(). */
#define SL_TEXT_MAX_STRING 60

#ifdef __cplusplus
}
#endif

#endif
