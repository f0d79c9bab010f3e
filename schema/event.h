/* event.h: naming, encoding and decoding of statelog events.
 *
 * An event is a Statelog__Event (events.pb-c.h, generated from events.proto).
 * On disk the log stores the encoded message without its seq and time_us
 * fields: those are implied by the log's framing (log/FORMAT.md), and
 * sl_event_decode() puts them back.
 */
#ifndef SL_EVENT_H
#define SL_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include "events.pb-c.h"
#include "sl_api.h"
#include "sl_error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever events.proto gains a message or a field. */
#define SL_EVENT_SCHEMA_VERSION 1

typedef Statelog__Event sl_event;

/* The event's type as a snake_case name ("sheet_completed"), the name of its
 * body field in events.proto.  "unknown" for a body this build does not know,
 * "none" for an event without a body. */
SL_API const char *sl_event_type_name(const sl_event *ev);

/* The body case for a type name, or STATELOG__EVENT__BODY__NOT_SET. */
SL_API Statelog__Event__BodyCase sl_event_type_from_name(const char *name);

/* The field number of the body of an event written by a newer schema, or 0
 * when the body is known (or absent).  Such an event must be reported, never
 * dropped: see events.proto. */
SL_API uint32_t sl_event_unknown_type(const sl_event *ev);

/* The sheet an event concerns, or 0 when it concerns the whole job. */
SL_API int64_t sl_event_sheet(const sl_event *ev);

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

/* Frees an event from sl_event_decode().  NULL is allowed. */
SL_API void sl_event_free(sl_event *ev);

#ifdef __cplusplus
}
#endif

#endif
