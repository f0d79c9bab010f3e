/* event.c: the envelope (sequence, time, job, type name, sheet), and the
 * on-disk encoding of events. */
#include "event_internal.h"

#include <assert.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Envelope fields use numbers below this; event bodies use it and above. */
#define SL_EVENT_FIRST_BODY_FIELD 16

const char *sl_event_type_name(const sl_event *ev)
{
	if (ev->body_case == STATELOG__EVENT__BODY__NOT_SET)
		return sl_event_unknown_type(ev) ? "unknown" : "none";
	const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(
		&statelog__event__descriptor, (unsigned)ev->body_case);
	return f ? f->name : "unknown";
}

Statelog__Event__BodyCase sl_event_type_from_name(const char *name)
{
	const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(
		&statelog__event__descriptor, name);
	if (!f || f->id < SL_EVENT_FIRST_BODY_FIELD)
		return STATELOG__EVENT__BODY__NOT_SET;
	return (Statelog__Event__BodyCase)f->id;
}

uint32_t sl_event_unknown_type(const sl_event *ev)
{
	if (ev->body_case != STATELOG__EVENT__BODY__NOT_SET)
		return 0;
	for (unsigned i = 0; i < ev->base.n_unknown_fields; i++) {
		uint32_t tag = ev->base.unknown_fields[i].tag;
		if (tag >= SL_EVENT_FIRST_BODY_FIELD)
			return tag;
	}
	return 0;
}

uint64_t sl_event_seq(const sl_event *ev)
{
	return ev->has_seq ? ev->seq : 0;
}

int64_t sl_event_time_us(const sl_event *ev)
{
	return ev->has_time_us ? ev->time_us : 0;
}

const char *sl_event_job_id(const sl_event *ev)
{
	return ev->job_id;
}

int64_t sl_event_sheet(const sl_event *ev)
{
	switch (ev->body_case) {
	case STATELOG__EVENT__BODY_SHEET_STARTED: return ev->sheet_started->sheet_num;
	case STATELOG__EVENT__BODY_SHEET_COMPLETED: return ev->sheet_completed->sheet_num;
	case STATELOG__EVENT__BODY_SHEET_FAILED: return ev->sheet_failed->sheet_num;
	case STATELOG__EVENT__BODY_SHEET_SKIPPED: return ev->sheet_skipped->sheet_num;
	case STATELOG__EVENT__BODY_EXECUTION_RECORDED: return ev->execution_recorded->sheet_num;
	case STATELOG__EVENT__BODY_RATE_LIMIT_WAIT: return ev->rate_limit_wait->sheet_num;
	case STATELOG__EVENT__BODY_SHEET_FIELDS_SET: return ev->sheet_fields_set->sheet_num;
	default: return 0;
	}
}

/* The on-disk form leaves seq and time_us out: the framing carries them. */
static void strip_envelope(const sl_event *ev, sl_event *copy)
{
	*copy = *ev;
	copy->has_seq = 0;
	copy->has_time_us = 0;
}

size_t sl_event_encoded_size(const sl_event *ev)
{
	sl_event copy;
	strip_envelope(ev, &copy);
	return protobuf_c_message_get_packed_size(&copy.base);
}

size_t sl_event_encode(const sl_event *ev, uint8_t *buf)
{
	sl_event copy;
	strip_envelope(ev, &copy);
	return protobuf_c_message_pack(&copy.base, buf);
}

/* protobuf-c's allocator, noting a failure: unpack() reports malformed
 * input and a failed allocation alike (NULL), and a failed allocation must
 * never be reported as damage (it is what an address-space limit gives). */
static void *noting_alloc(void *ctx, size_t n)
{
	void *p = malloc(n);
	if (!p)
		*(bool *)ctx = true;
	return p;
}

static void plain_free(void *ctx, void *p)
{
	(void)ctx;
	free(p);
}

int sl_event_decode(sl_event **out, const uint8_t *data, size_t len,
		    uint64_t seq, int64_t time_us)
{
	/* malloc() and free(), as protobuf-c's default allocator, so that
	 * sl_event_free() frees it as any other event. */
	bool no_memory = false;
	ProtobufCAllocator a = {
		.alloc = noting_alloc, .free = plain_free, .allocator_data = &no_memory,
	};
	sl_event *ev = statelog__event__unpack(&a, len, data);
	if (!ev)
		return no_memory ? SL_ENOMEM : SL_ECORRUPT;
	ev->has_seq = 1;
	ev->seq = seq;
	ev->has_time_us = 1;
	ev->time_us = time_us;
	*out = ev;
	return SL_OK;
}

void sl_event_free(sl_event *ev)
{
	if (ev)
		statelog__event__free_unpacked(ev, NULL);
}
