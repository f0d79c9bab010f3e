/* event_internal.h: the inside of an event, for the library's own files.
 *
 * sl_event is the protobuf-c message Statelog__Event generated from
 * events.proto (events.pb-c.h, made at build time).  Every file that reads
 * or writes an event's fields, or walks them through the descriptors,
 * includes this header; the public event.h keeps the type opaque, so that
 * no program using the library needs protobuf-c.  Not installed.
 */
#ifndef SL_EVENT_INTERNAL_H
#define SL_EVENT_INTERNAL_H

#include <stdbool.h>

#include "event.h"
#include "events.pb-c.h"

/* The body case for a type name, or STATELOG__EVENT__BODY__NOT_SET. */
Statelog__Event__BodyCase sl_event_type_from_name(const char *name);

/* The body message of ev (borrowed from ev), or NULL when it has none. */
const ProtobufCMessage *sl_event_body(const sl_event *ev);

/* Whether a string field holds JSON text (config_snapshot,
 * validation_details, passed_validations, failed_validations, outcome_data,
 * learned_patterns).  The one per-field list of the codec. */
bool sl_event_field_is_json(const ProtobufCFieldDescriptor *f);

/* Whether f is a "cleared" list: repeated uint32 field numbers that the event
 * sets to NULL (events.proto, "Presence"). */
bool sl_event_field_is_cleared_list(const ProtobufCFieldDescriptor *f);

/* Whether field f of msg is present (set, non-NULL, non-empty list). */
bool sl_event_field_present(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f);

#endif
