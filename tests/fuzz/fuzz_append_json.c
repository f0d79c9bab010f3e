/* fuzz_append_json.c: libFuzzer harness for `statelog append`'s input: one
 * JSON line parsed into an event (schema/event_json.c).  A parsed event must
 * render back to JSON that parses again into the same encoding. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "event_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sl_event *ev;
	char err[256];
	if (sl_event_from_json(&ev, (const char *)data, size, err, sizeof(err)) != SL_OK)
		return 0;
	char *line = sl_event_to_json_line(ev);
	if (line) {
		sl_event *again;
		if (sl_event_from_json(&again, line, strlen(line), err, sizeof(err)) != SL_OK)
			abort();  /* what we print must parse */
		size_t a = sl_event_encoded_size(ev), b = sl_event_encoded_size(again);
		uint8_t *x = malloc(a + 1), *y = malloc(b + 1);
		sl_event_encode(ev, x);
		sl_event_encode(again, y);
		if (a != b || memcmp(x, y, a) != 0)
			abort();  /* and parse to the same event */
		free(x);
		free(y);
		sl_event_free(again);
		free(line);
	}
	sl_event_free(ev);
	return 0;
}
