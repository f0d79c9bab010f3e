/* event.h: statelog events: building and reading them, naming, encoding
 * and decoding.
 *
 * An event is one state change of one job: a job id, a type (the
 * snake_case names of events.proto: "job_created", "sheet_started", ...),
 * the type's fields, and, once appended, a sequence number and a time.
 * sl_event is opaque: build one with sl_event_new() and the setters below,
 * which take the fields of events.proto by name; read one with the
 * accessors and getters, or as JSON or text (event_json.h).  Inside the
 * library it is the protobuf-c message generated from events.proto
 * (schema/event_internal.h); nothing here needs protobuf-c.
 *
 * On disk the log stores the encoded message without its seq and time_us
 * fields: those are implied by the log's framing (log/FORMAT.md), and
 * sl_event_decode() puts them back.
 */
#ifndef SL_EVENT_H
#define SL_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sl_api.h"
#include "sl_error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever events.proto gains a message or a field. */
#define SL_EVENT_SCHEMA_VERSION 2    /* 2: extra, source */

/* An event (the protobuf-c message Statelog__Event, complete only inside
 * the library). */
typedef struct Statelog__Event sl_event;

/* ---- building ---------------------------------------------------------- */

/* A new event of the given type (a body name of events.proto, e.g.
 * "sheet_completed") for job_id (copied), with no field set, no sequence
 * number and no time: sl_log_append() gives it both (or keeps a time set
 * with sl_event_set_time()).  *out is owned: sl_event_free().  SL_EINVAL
 * for an unknown type or a job id that is NULL, empty or not UTF-8;
 * SL_ENOMEM.  *out is set only on success. */
SL_API int sl_event_new(sl_event **out, const char *type, const char *job_id);

/* Set one field of the event's body, by its name in events.proto: an
 * integer field (int64 in events.proto) with _int, a double with _real, a
 * bool with _bool, a string with _text.  A string field that holds JSON
 * text (config_snapshot, validation_details, passed_validations,
 * failed_validations, outcome_data, learned_patterns) takes JSON text,
 * checked (any JSON value; stored as given); every string must be UTF-8 and
 * is copied.  Setting a field the event lists as cleared takes it off the
 * list.  SL_EINVAL, with the event unchanged, for a field the type does not
 * have, a setter of another type than the field's, a value out of the
 * field's range, NULL text, text that is not UTF-8 or JSON text that does
 * not parse; SL_ENOMEM. */
SL_API int sl_event_set_int(sl_event *ev, const char *field, int64_t value);
SL_API int sl_event_set_real(sl_event *ev, const char *field, double value);
SL_API int sl_event_set_bool(sl_event *ev, const char *field, bool value);
SL_API int sl_event_set_text(sl_event *ev, const char *field, const char *value);

/* Sets a field to NULL, in the events that can (job_config_changed,
 * job_fields_set and sheet_fields_set: those with a "cleared" list; see
 * events.proto, "Presence"): the field is unset and listed as cleared.
 * Clearing it twice is the same as once.  SL_EINVAL for an event without
 * such a list or a field it does not have; SL_ENOMEM. */
SL_API int sl_event_clear_field(sl_event *ev, const char *field);

/* Gives the event its own time (microseconds since the Unix epoch, UTC),
 * kept by sl_log_append() instead of the current time: it must not be
 * earlier than the log's last time. */
SL_API void sl_event_set_time(sl_event *ev, int64_t time_us);

/* ---- reading ----------------------------------------------------------- */

/* The sequence number the log gave the event, 0 when it has none (an event
 * not yet appended). */
SL_API uint64_t sl_event_seq(const sl_event *ev);

/* The event's time, microseconds since the Unix epoch, UTC; 0 when it has
 * none (an event not yet appended and given no time). */
SL_API int64_t sl_event_time_us(const sl_event *ev);

/* The job id, borrowed from the event (valid until it is freed); NULL for an
 * event that has none (only a decoded event can lack one). */
SL_API const char *sl_event_job_id(const sl_event *ev);

/* Get one field of the body by name into *out, the types as for the
 * setters.  SL_ENOTFOUND when the field is not set (absent, or cleared: see
 * sl_event_is_cleared()); SL_EINVAL for a field the type does not have or a
 * getter of another type.  Text is borrowed from the event: valid until the
 * field is set again or the event is freed.  *out is set only on success. */
SL_API int sl_event_get_int(int64_t *out, const sl_event *ev, const char *field);
SL_API int sl_event_get_real(double *out, const sl_event *ev, const char *field);
SL_API int sl_event_get_bool(bool *out, const sl_event *ev, const char *field);
SL_API int sl_event_get_text(const char **out, const sl_event *ev, const char *field);

/* Whether the event sets the field to NULL (lists it as cleared).  False
 * for a field it does not have. */
SL_API bool sl_event_is_cleared(const sl_event *ev, const char *field);

/* The event's type as a snake_case name ("sheet_completed"), the name of its
 * body field in events.proto.  "unknown" for a body this build does not know,
 * "none" for an event without a body. */
SL_API const char *sl_event_type_name(const sl_event *ev);

/* The field number of the body of an event written by a newer schema, or 0
 * when the body is known (or absent).  Such an event must be reported, never
 * dropped: see events.proto. */
SL_API uint32_t sl_event_unknown_type(const sl_event *ev);

/* The sheet an event concerns, or 0 when it concerns the whole job. */
SL_API int64_t sl_event_sheet(const sl_event *ev);

/* ---- encoding ---------------------------------------------------------- */

/* Size of the on-disk encoding (seq and time_us left out). */
SL_API size_t sl_event_encoded_size(const sl_event *ev);

/* Writes the on-disk encoding into buf, which holds at least
 * sl_event_encoded_size(ev) bytes.  Returns the number of bytes written.
 * The event is not changed. */
SL_API size_t sl_event_encode(const sl_event *ev, uint8_t *buf);

/* Decodes an on-disk encoding and sets seq and time_us.
 * *out is owned by the caller: free it with sl_event_free().
 * Returns SL_ECORRUPT when the bytes are not a valid event, SL_ENOMEM.
 * An event of an unknown type decodes successfully: check
 * sl_event_unknown_type(). */
SL_API int sl_event_decode(sl_event **out, const uint8_t *data, size_t len,
			   uint64_t seq, int64_t time_us);

/* Frees an event (from sl_event_new(), sl_event_decode(),
 * sl_event_from_json(), ...).  NULL is allowed. */
SL_API void sl_event_free(sl_event *ev);

#ifdef __cplusplus
}
#endif

#endif
