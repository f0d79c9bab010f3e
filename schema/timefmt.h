/* timefmt.h: event times as text, and text as event times.
 *
 * statelog keeps every time as microseconds since the Unix epoch, UTC
 * (events.proto).  The views and every tool show them the way the original
 * Python backend did (projector/model/MODEL.md "Timestamps"): the output of
 * datetime.isoformat() for an aware UTC datetime,
 *     2026-11-26T02:49:38.504474+00:00
 * with the fraction left out when it is exactly zero.  Such strings sort in
 * time order.  Nothing here looks at the process time zone: the calendar
 * arithmetic is done by hand on the proleptic Gregorian calendar.
 */
#ifndef SL_TIMEFMT_H
#define SL_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

#include "sl_api.h"
#include "sl_error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The range that can be written as text: years 0001 to 9999, as Python's
 * datetime allows.  0001-01-01T00:00:00 and 9999-12-31T23:59:59.999999. */
#define SL_TIME_MIN_US (-62135596800000000LL)
#define SL_TIME_MAX_US (253402300799999999LL)

/* Bytes needed for any formatted time, with its terminating NUL. */
#define SL_TIME_BUFSZ 33

/* Writes `us` into buf (len bytes, SL_TIME_BUFSZ is always enough) as
 * ISO-8601 UTC, e.g. "2026-11-26T02:49:38.504474+00:00", or
 * "2026-11-26T02:49:38+00:00" when the microseconds are zero.
 * Returns SL_EINVAL when `us` is outside SL_TIME_MIN_US..SL_TIME_MAX_US or
 * buf is too small (buf then holds an empty string if len > 0). */
SL_API int sl_time_format(int64_t us, char *buf, size_t len);

/* Parses an ISO-8601 time: YYYY-MM-DD, 'T' or ' ', HH:MM:SS, an optional
 * fraction of 1 to 6 digits, and an optional offset: 'Z' or +HH:MM / -HH:MM
 * (converted to UTC; no offset means UTC).  Every field is range-checked
 * (29 February only in leap years, no leap second, no hour 24), nothing may
 * follow.  Returns SL_EINVAL for anything else, or for a time outside
 * SL_TIME_MIN_US..SL_TIME_MAX_US once converted to UTC.  *out is set only on
 * success. */
SL_API int sl_time_parse(int64_t *out, const char *s);

/* The wall clock now, in microseconds since the epoch (CLOCK_REALTIME). */
SL_API int64_t sl_time_now_us(void);

/* Parses a time as a person gives it to a command:
 *   now                   now_us
 *   -90s, -15m, -2h, -3d, -1w, -1h30m
 *                         that long before now_us (seconds, minutes, hours,
 *                         days of 86400 s, weeks; pairs add up)
 *   1795661378504474      microseconds since the epoch (digits only)
 *   2026-11-26            that day's midnight, local time
 *   any form sl_time_parse() accepts; without a zone ('Z' or an offset)
 *                         the time is local time (the TZ environment).
 * The result must lie within SL_TIME_MIN_US..SL_TIME_MAX_US.  Returns
 * SL_EINVAL otherwise; *out is set only on success. */
SL_API int sl_time_parse_relative(int64_t *out, const char *s, int64_t now_us);

#ifdef __cplusplus
}
#endif

#endif
