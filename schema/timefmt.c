/* timefmt.c: ISO-8601 UTC formatting and parsing of event times.
 *
 * The calendar conversions are Howard Hinnant's days_from_civil() and
 * civil_from_days() ("chrono-Compatible Low-Level Date Algorithms"): exact
 * for the proleptic Gregorian calendar, with no table and no time zone.
 */
#include "timefmt.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define US_PER_SEC 1000000LL
#define SEC_PER_DAY 86400LL
#define US_PER_DAY (US_PER_SEC * SEC_PER_DAY)

/* Days from 1970-01-01 to y-m-d (m 1..12, d 1..31). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	const int64_t era = (y >= 0 ? y : y - 399) / 400;
	const unsigned yoe = (unsigned)(y - era * 400);               /* 0..399 */
	const unsigned mp = m > 2 ? m - 3 : m + 9;                    /* March = 0 */
	const unsigned doy = (153 * mp + 2) / 5 + d - 1;              /* 0..365 */
	const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;   /* 0..146096 */
	return era * 146097 + (int64_t)doe - 719468;
}

/* The inverse of days_from_civil(). */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	const unsigned doe = (unsigned)(z - era * 146097);
	const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	const unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static bool is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(int64_t y, unsigned m)
{
	static const unsigned char mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	return m == 2 && is_leap(y) ? 29 : mdays[m - 1];
}

int sl_time_format(int64_t us, char *buf, size_t len)
{
	int rc = SL_EINVAL;
	if (len > 0)
		buf[0] = '\0';
	if (us < SL_TIME_MIN_US || us > SL_TIME_MAX_US)
		goto out;

	/* Floor division, so that times before 1970 count back from midnight. */
	int64_t days = us / US_PER_DAY;
	int64_t rem = us % US_PER_DAY;
	if (rem < 0) {
		rem += US_PER_DAY;
		days--;
	}
	int64_t y;
	unsigned m, d;
	civil_from_days(days, &y, &m, &d);
	unsigned secs = (unsigned)(rem / US_PER_SEC);
	unsigned frac = (unsigned)(rem % US_PER_SEC);

	int n;
	if (frac)
		n = snprintf(buf, len, "%04d-%02u-%02uT%02u:%02u:%02u.%06u+00:00",
			     (int)y, m, d, secs / 3600, secs / 60 % 60, secs % 60, frac);
	else
		n = snprintf(buf, len, "%04d-%02u-%02uT%02u:%02u:%02u+00:00",
			     (int)y, m, d, secs / 3600, secs / 60 % 60, secs % 60);
	if (n < 0 || (size_t)n >= len) {
		if (len > 0)
			buf[0] = '\0';
		goto out;
	}
	rc = SL_OK;
out:
	return rc;
}

/* Reads exactly n ASCII digits at *p; advances *p only on success. */
static bool take_digits(const char **p, int n, unsigned *out)
{
	unsigned v = 0;
	for (int i = 0; i < n; i++) {
		char c = (*p)[i];
		if (c < '0' || c > '9')
			return false;
		v = v * 10 + (unsigned)(c - '0');
	}
	*p += n;
	*out = v;
	return true;
}

/* Consumes the character c at *p, if it is there. */
static bool take_char(const char **p, char c)
{
	if (**p != c)
		return false;
	(*p)++;
	return true;
}

int sl_time_parse(int64_t *out, const char *s)
{
	const char *p = s;
	unsigned y, mo, d, h, mi, sec, frac = 0;

	if (!take_digits(&p, 4, &y) || !take_char(&p, '-') ||
	    !take_digits(&p, 2, &mo) || !take_char(&p, '-') ||
	    !take_digits(&p, 2, &d))
		return SL_EINVAL;
	if (!take_char(&p, 'T') && !take_char(&p, ' '))
		return SL_EINVAL;
	if (!take_digits(&p, 2, &h) || !take_char(&p, ':') ||
	    !take_digits(&p, 2, &mi) || !take_char(&p, ':') ||
	    !take_digits(&p, 2, &sec))
		return SL_EINVAL;
	if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) ||
	    h > 23 || mi > 59 || sec > 59)
		return SL_EINVAL;

	if (take_char(&p, '.')) {
		int n = 0;
		while (p[n] >= '0' && p[n] <= '9')
			n++;
		if (n < 1 || n > 6 || !take_digits(&p, n, &frac))
			return SL_EINVAL;
		for (; n < 6; n++)
			frac *= 10;
	}

	int64_t offset_us = 0;
	if (take_char(&p, 'Z')) {
		/* UTC */
	} else if (*p == '+' || *p == '-') {
		int sign = *p == '-' ? -1 : 1;
		unsigned oh, om;
		p++;
		if (!take_digits(&p, 2, &oh) || !take_char(&p, ':') ||
		    !take_digits(&p, 2, &om) || oh > 23 || om > 59)
			return SL_EINVAL;
		offset_us = sign * (int64_t)(oh * 3600 + om * 60) * US_PER_SEC;
	}
	if (*p != '\0')
		return SL_EINVAL;

	int64_t t = days_from_civil(y, mo, d) * US_PER_DAY +
		    (int64_t)(h * 3600 + mi * 60 + sec) * US_PER_SEC + frac - offset_us;
	if (t < SL_TIME_MIN_US || t > SL_TIME_MAX_US)
		return SL_EINVAL;
	*out = t;
	return SL_OK;
}

/* Reads 1..18 digits (no sign); 18 digits always fit an int64_t, so no
 * overflow check is needed. */
static bool take_number(const char **p, int64_t *out)
{
	int64_t v = 0;
	int n = 0;
	while (**p >= '0' && **p <= '9') {
		if (++n > 18)
			return false;
		v = v * 10 + (**p - '0');
		(*p)++;
	}
	if (n == 0)
		return false;
	*out = v;
	return true;
}

/* Whether an ISO-8601 text names its zone: 'Z', or an offset after the
 * time of day. */
static bool has_zone(const char *s)
{
	size_t n = strlen(s);
	if (n && (s[n - 1] == 'Z' || s[n - 1] == 'z'))
		return true;
	const char *t = strpbrk(s, "Tt ");
	return t && strpbrk(t, "+-") != NULL;
}

/* A time without a zone read as local time: utc_us is what sl_time_parse()
 * made of it (the same wall-clock reading in UTC). */
static int local_time(int64_t *out, int64_t utc_us)
{
	time_t secs = (time_t)(utc_us / US_PER_SEC);
	int64_t frac = utc_us % US_PER_SEC;
	if (frac < 0) {
		frac += US_PER_SEC;
		secs--;
	}
	struct tm tm;
	if (!gmtime_r(&secs, &tm))
		return SL_EINVAL;
	tm.tm_isdst = -1;
	time_t local = mktime(&tm);
	if (local == (time_t)-1)
		return SL_EINVAL;       /* (also the one second before 1970 in UTC+0: refused) */
	*out = (int64_t)local * US_PER_SEC + frac;
	return SL_OK;
}

int sl_time_parse_relative(int64_t *out, const char *s, int64_t now_us)
{
	const char *p = s;
	int64_t n, t;

	if (strcmp(s, "now") == 0) {
		t = now_us;
	} else if (*p == '-') {
		/* One or more number-unit pairs: -90s, -1w, -1h30m. */
		int64_t back = 0;
		p++;
		do {
			int64_t unit;
			if (!take_number(&p, &n))
				return SL_EINVAL;
			switch (*p++) {
			case 's': unit = US_PER_SEC; break;
			case 'm': unit = 60 * US_PER_SEC; break;
			case 'h': unit = 3600 * US_PER_SEC; break;
			case 'd': unit = US_PER_DAY; break;
			case 'w': unit = 7 * US_PER_DAY; break;
			default: return SL_EINVAL;
			}
			if (__builtin_mul_overflow(n, unit, &n) || __builtin_add_overflow(back, n, &back))
				return SL_EINVAL;
		} while (*p != '\0');
		if (__builtin_sub_overflow(now_us, back, &t))
			return SL_EINVAL;
	} else if (*p >= '0' && *p <= '9') {
		/* Digits only: microseconds.  A date has a '-' after its year. */
		if (take_number(&p, &n) && *p == '\0') {
			t = n;
		} else {
			/* A bare date is its midnight; no zone: local time. */
			char buf[64];
			const char *text = s;
			if (strlen(s) == 10) {
				snprintf(buf, sizeof buf, "%sT00:00:00", s);
				text = buf;
			}
			if (sl_time_parse(&t, text) != SL_OK)
				return SL_EINVAL;
			if (!has_zone(text) && local_time(&t, t) != SL_OK)
				return SL_EINVAL;
		}
	} else {
		return SL_EINVAL;
	}
	if (t < SL_TIME_MIN_US || t > SL_TIME_MAX_US)
		return SL_EINVAL;
	*out = t;
	return SL_OK;
}

int64_t sl_time_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * US_PER_SEC + ts.tv_nsec / 1000;
}
