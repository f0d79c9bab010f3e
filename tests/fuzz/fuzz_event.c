/* fuzz_event.c: libFuzzer harness for the event decoder (schema/event.c) and
 * the renderings that run on decoded events (schema/event_json.c,
 * event_text.c): arbitrary bytes as an on-disk event. */
#include <stdint.h>
#include <stdlib.h>

#include "event.h"
#include "event_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sl_event *ev;
	if (sl_event_decode(&ev, data, size, 7, 1764124178504474) != SL_OK)
		return 0;
	(void)sl_event_type_name(ev);
	(void)sl_event_unknown_type(ev);
	(void)sl_event_sheet(ev);
	char *s = sl_event_to_json_line(ev);
	free(s);
	s = NULL;
	if (sl_event_to_text(&s, ev) == SL_OK)
		free(s);
	/* re-encoding must not crash either */
	size_t n = sl_event_encoded_size(ev);
	uint8_t *buf = malloc(n + 1);
	if (buf)
		sl_event_encode(ev, buf);
	free(buf);
	sl_event_free(ev);
	return 0;
}
