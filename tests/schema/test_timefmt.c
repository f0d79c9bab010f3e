/* test_timefmt.c: tests of schema/timefmt.c, ISO-8601 times both ways.
 *
 * Expected values were computed with Python's datetime (the original
 * backend's formatter): datetime.fromtimestamp(us / 1e6, timezone.utc)
 * .isoformat() and, for parsing, fromisoformat() minus the epoch. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <time.h>
#include <criterion/parameterized.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "timefmt.h"

TestSuite(schema_timefmt, .timeout = 30);

/* Criterion re-executes the test binary for each test, at another address
 * (PIE), so a parameter must not hold pointers into the parent's memory:
 * tests are parameterized by an index into a table of their own. */
static struct criterion_test_params index_params(size_t n)
{
	static size_t idx[256];
	cr_assert_leq(n, 256, "table of %zu rows is too long", n);
	for (size_t i = 0; i < n; i++)
		idx[i] = i;
	return cr_make_param_array(size_t, idx, n);
}

struct fmt_row {
	int64_t us;
	const char *text;
};

static const struct fmt_row format_rows[] = {
	{ 0, "1970-01-01T00:00:00+00:00" },
	{ 1, "1970-01-01T00:00:00.000001+00:00" },
	{ 500000, "1970-01-01T00:00:00.500000+00:00" },
	{ -1, "1969-12-31T23:59:59.999999+00:00" },
	{ -1000000, "1969-12-31T23:59:59+00:00" },
	{ 1795661378504474LL, "2026-11-26T02:49:38.504474+00:00" },
	{ 1795661378000000LL, "2026-11-26T02:49:38+00:00" },
	{ 1709251199999999LL, "2024-02-29T23:59:59.999999+00:00" },
	{ 951825600000000LL, "2000-02-29T12:00:00+00:00" },
	{ -2203891199999999LL, "1900-03-01T00:00:00.000001+00:00" },
	{ SL_TIME_MIN_US, "0001-01-01T00:00:00+00:00" },
	{ SL_TIME_MAX_US, "9999-12-31T23:59:59.999999+00:00" },
};

ParameterizedTestParameters(schema_timefmt, format)
{
	return index_params(sizeof format_rows / sizeof format_rows[0]);
}

ParameterizedTest(size_t *idx, schema_timefmt, format)
{
	const struct fmt_row *row = &format_rows[*idx];
	char buf[SL_TIME_BUFSZ];
	int rc = sl_time_format(row->us, buf, sizeof buf);
	cr_assert_eq(rc, SL_OK, "sl_time_format(%" PRId64 ") returned %d", row->us, rc);
	cr_assert_str_eq(buf, row->text, "sl_time_format(%" PRId64 ") gave %s, expected %s",
			 row->us, buf, row->text);
	int64_t back = 0;
	rc = sl_time_parse(&back, row->text);
	cr_assert_eq(rc, SL_OK, "sl_time_parse(%s) returned %d", row->text, rc);
	cr_assert_eq(back, row->us, "sl_time_parse(%s) gave %" PRId64 ", expected %" PRId64,
		     row->text, back, row->us);
}

Test(schema_timefmt, format_rejects_out_of_range_and_small_buffers)
{
	char buf[SL_TIME_BUFSZ];
	int64_t bad[] = { SL_TIME_MIN_US - 1, SL_TIME_MAX_US + 1, INT64_MIN, INT64_MAX };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int rc = sl_time_format(bad[i], buf, sizeof buf);
		cr_assert_eq(rc, SL_EINVAL, "sl_time_format(%" PRId64 ") returned %d, expected SL_EINVAL",
			     bad[i], rc);
		cr_assert_str_empty(buf, "sl_time_format(%" PRId64 ") left \"%s\" in buf", bad[i], buf);
	}
	/* 32 characters need 33 bytes; 25 characters need 26. */
	int rc = sl_time_format(1, buf, 32);
	cr_assert_eq(rc, SL_EINVAL, "sl_time_format(1, len 32) returned %d", rc);
	rc = sl_time_format(1, buf, 33);
	cr_assert_eq(rc, SL_OK, "sl_time_format(1, len 33) returned %d", rc);
	rc = sl_time_format(0, buf, 25);
	cr_assert_eq(rc, SL_EINVAL, "sl_time_format(0, len 25) returned %d", rc);
	rc = sl_time_format(0, buf, 26);
	cr_assert_eq(rc, SL_OK, "sl_time_format(0, len 26) returned %d", rc);
}

/* Every day from 0001 to 9999 at a time of day that varies, and the last
 * microsecond before each midnight: format, parse back, and check that the
 * strings sort as the times do. */
Test(schema_timefmt, round_trip_every_day)
{
	const int64_t day = 86400000000LL;
#ifdef __SANITIZE_ADDRESS__
	/* under the sanitizers every 13th day (every day of the week and
	 * month still comes round; the plain build checks every day) */
	const int64_t step = 13 * day;
#else
	const int64_t step = day;
#endif
	char prev[SL_TIME_BUFSZ] = "", buf[SL_TIME_BUFSZ];
	for (int64_t t = SL_TIME_MIN_US; t <= SL_TIME_MAX_US - day; t += step) {
		int64_t mid = 1 + (t / 7 % (day - 2) + (day - 2)) % (day - 2);
		int64_t probes[] = { t, t + mid, t + day - 1 };
		for (size_t i = 0; i < 3; i++) {
			int64_t us = probes[i], back = 0;
			cr_assert_eq(sl_time_format(us, buf, sizeof buf), SL_OK,
				     "sl_time_format(%" PRId64 ") failed", us);
			cr_assert_eq(sl_time_parse(&back, buf), SL_OK, "sl_time_parse(%s) failed", buf);
			cr_assert_eq(back, us, "%" PRId64 " -> %s -> %" PRId64, us, buf, back);
			cr_assert_gt(strcmp(buf, prev), 0, "%s does not sort after %s", buf, prev);
			strcpy(prev, buf);
		}
	}
}

struct parse_row {
	const char *text;
	int rc;
	int64_t us;	/* when rc == SL_OK */
};

static const struct parse_row parse_rows[] = {
	/* accepted */
	{ "2026-11-26T02:49:38.504474+00:00", SL_OK, 1795661378504474LL },
	{ "2026-11-26 02:49:38.504474+00:00", SL_OK, 1795661378504474LL },
	{ "2026-11-26T02:49:38.504474Z", SL_OK, 1795661378504474LL },
	{ "2026-11-26T02:49:38.504474", SL_OK, 1795661378504474LL },
	{ "2026-11-26T02:49:38+00:00", SL_OK, 1795661378000000LL },
	{ "2026-11-26T02:49:38.5+05:30", SL_OK, 1795641578500000LL },
	{ "2026-11-26T02:49:38-08:00", SL_OK, 1795690178000000LL },
	{ "2026-11-26T02:49:38-00:00", SL_OK, 1795661378000000LL },
	{ "2026-11-26T02:49:38.5", SL_OK, 1795661378500000LL },
	{ "2026-11-26T02:49:38.05", SL_OK, 1795661378050000LL },
	{ "2026-11-26T02:49:38.005", SL_OK, 1795661378005000LL },
	{ "2026-11-26T02:49:38.0005", SL_OK, 1795661378000500LL },
	{ "2026-11-26T02:49:38.00005", SL_OK, 1795661378000050LL },
	{ "2026-11-26T02:49:38.000000", SL_OK, 1795661378000000LL },
	{ "2024-02-29T00:00:00Z", SL_OK, 1709164800000000LL },
	{ "2000-02-29T00:00:00Z", SL_OK, 951782400000000LL },
	{ "1969-12-31T23:59:59.999999Z", SL_OK, -1 },
	{ "1970-01-01T05:30:00+05:30", SL_OK, 0 },
	{ "0001-01-01T00:00:00Z", SL_OK, SL_TIME_MIN_US },
	{ "9999-12-31T23:59:59.999999Z", SL_OK, SL_TIME_MAX_US },
	{ "2026-12-31T23:30:00-23:59", SL_OK, 1798846140000000LL },
	/* rejected */
	{ "", SL_EINVAL, 0 },
	{ "2026-11-26", SL_EINVAL, 0 },
	{ "2026-11-26T", SL_EINVAL, 0 },
	{ "2026-11-26T02:49", SL_EINVAL, 0 },
	{ "2026-11-26T02:49:3", SL_EINVAL, 0 },
	{ "2026-11-26t02:49:38Z", SL_EINVAL, 0 },
	{ "2026-11-26T02:49:38z", SL_EINVAL, 0 },
	{ "2026-11-26_02:49:38Z", SL_EINVAL, 0 },
	{ "2026-1-26T02:49:38Z", SL_EINVAL, 0 },
	{ "26-11-26T02:49:38Z", SL_EINVAL, 0 },
	{ "+2026-11-26T02:49:38Z", SL_EINVAL, 0 },
	{ "12026-11-26T02:49:38Z", SL_EINVAL, 0 },
	{ "0000-01-01T00:00:00Z", SL_EINVAL, 0 },
	{ "2026-00-26T02:49:38Z", SL_EINVAL, 0 },
	{ "2026-13-26T02:49:38Z", SL_EINVAL, 0 },
	{ "2026-11-00T02:49:38Z", SL_EINVAL, 0 },
	{ "2026-11-31T02:49:38Z", SL_EINVAL, 0 },
	{ "2026-04-31T00:00:00Z", SL_EINVAL, 0 },
	{ "2026-02-29T00:00:00Z", SL_EINVAL, 0 },
	{ "1900-02-29T00:00:00Z", SL_EINVAL, 0 },
	{ "2100-02-29T00:00:00Z", SL_EINVAL, 0 },
	{ "2026-11-26T24:00:00Z", SL_EINVAL, 0 },
	{ "2026-11-26T23:60:00Z", SL_EINVAL, 0 },
	{ "2026-11-26T23:59:60Z", SL_EINVAL, 0 },
	{ "2026-11-26T02:49:38.", SL_EINVAL, 0 },
	{ "2026-11-26T02:49:38.1234567", SL_EINVAL, 0 },
	{ "2026-11-26T02:49:38.12a", SL_EINVAL, 0 },
	{ "2026-11-26T02:49:38,5", SL_EINVAL, 0 },
	{ "2026-11-26T02:49:38+24:00", SL_EINVAL, 0 },
	{ "2026-11-26T02:49:38+05:60", SL_EINVAL, 0 },
	{ "2026-11-26T02:49:38+0530", SL_EINVAL, 0 },
	{ "2026-11-26T02:49:38+05", SL_EINVAL, 0 },
	{ "2026-11-26T02:49:38+05:30:00", SL_EINVAL, 0 },
	{ "2026-11-26T02:49:38ZZ", SL_EINVAL, 0 },
	{ "2026-11-26T02:49:38Z ", SL_EINVAL, 0 },
	{ " 2026-11-26T02:49:38Z", SL_EINVAL, 0 },
	{ "2026-11-26T02:49:38+00:00x", SL_EINVAL, 0 },
	{ "2026-11-26T02:49:38\n", SL_EINVAL, 0 },
	{ "0001-01-01T00:00:00+00:01", SL_EINVAL, 0 },	/* before year 1 in UTC */
	{ "9999-12-31T23:59:59-00:01", SL_EINVAL, 0 },	/* after 9999 in UTC */
	{ "now", SL_EINVAL, 0 },
};

ParameterizedTestParameters(schema_timefmt, parse)
{
	return index_params(sizeof parse_rows / sizeof parse_rows[0]);
}

ParameterizedTest(size_t *idx, schema_timefmt, parse)
{
	const struct parse_row *row = &parse_rows[*idx];
	int64_t us = 12345;
	int rc = sl_time_parse(&us, row->text);
	cr_assert_eq(rc, row->rc, "sl_time_parse(\"%s\") returned %d, expected %d",
		     row->text, rc, row->rc);
	if (row->rc == SL_OK)
		cr_assert_eq(us, row->us, "sl_time_parse(\"%s\") gave %" PRId64 ", expected %" PRId64,
			     row->text, us, row->us);
	else
		cr_assert_eq(us, 12345, "sl_time_parse(\"%s\") failed but changed *out to %" PRId64,
			     row->text, us);
}

/* A parsed time with an offset formats as the same instant in UTC. */
Test(schema_timefmt, offset_is_converted_to_utc)
{
	int64_t us = 0;
	char buf[SL_TIME_BUFSZ];
	const char *in = "2026-11-26T02:49:38.5+05:30";
	cr_assert_eq(sl_time_parse(&us, in), SL_OK, "sl_time_parse(%s) failed", in);
	cr_assert_eq(sl_time_format(us, buf, sizeof buf), SL_OK, "sl_time_format(%" PRId64 ") failed", us);
	cr_assert_str_eq(buf, "2026-11-25T21:19:38.500000+00:00", "%s formatted back as %s", in, buf);
}

#define NOW 1795661378504474LL

struct rel_row {
	const char *text;
	int rc;
	int64_t us;
};

static const struct rel_row parse_relative_rows[] = {
	{ "-90s", SL_OK, NOW - 90000000LL },
	{ "-15m", SL_OK, NOW - 900000000LL },
	{ "-2h", SL_OK, NOW - 7200000000LL },
	{ "-3d", SL_OK, NOW - 259200000000LL },
	{ "-0s", SL_OK, NOW },
	{ "-20000d", SL_OK, NOW - 20000LL * 86400000000LL },
	{ "1795661378504474", SL_OK, 1795661378504474LL },
	{ "0", SL_OK, 0 },
	{ "2026-11-26T02:49:38+00:00", SL_OK, 1795661378000000LL },
	{ "2026-11-26 02:49:38.5Z", SL_OK, 1795661378500000LL },
	{ "", SL_EINVAL, 0 },
	{ "-", SL_EINVAL, 0 },
	{ "-s", SL_EINVAL, 0 },
	{ "-90", SL_EINVAL, 0 },
	{ "-90x", SL_EINVAL, 0 },
	{ "-90S", SL_EINVAL, 0 },
	{ "-90s ", SL_EINVAL, 0 },
	{ "--90s", SL_EINVAL, 0 },
	{ "-1.5h", SL_EINVAL, 0 },
	{ "+90s", SL_EINVAL, 0 },
	{ "90s", SL_EINVAL, 0 },
	{ " -90s", SL_EINVAL, 0 },
	{ "-999999999999999999d", SL_EINVAL, 0 },	/* overflows int64 */
	{ "-9999999d", SL_EINVAL, 0 },			/* before year 1 */
	{ "9223372036854775807", SL_EINVAL, 0 },	/* after year 9999 */
	{ "99999999999999999999", SL_EINVAL, 0 },
	{ "12x", SL_EINVAL, 0 },
	{ "2026-02-29T00:00:00Z", SL_EINVAL, 0 },
	{ "now", SL_OK, NOW },
	{ "-1w", SL_OK, NOW - 7LL * 86400000000LL },
	{ "-1h30m", SL_OK, NOW - 5400000000LL },
	{ "-1d2h3m4s", SL_OK, NOW - 93784000000LL },
	{ "-1h30", SL_EINVAL, 0 },
	{ "-1h-30m", SL_EINVAL, 0 },
	{ "Now", SL_EINVAL, 0 },
	{ "2026-13-01", SL_EINVAL, 0 },
};

ParameterizedTestParameters(schema_timefmt, parse_relative)
{
	return index_params(sizeof parse_relative_rows / sizeof parse_relative_rows[0]);
}

ParameterizedTest(size_t *idx, schema_timefmt, parse_relative)
{
	const struct rel_row *row = &parse_relative_rows[*idx];
	int64_t us = 12345;
	int rc = sl_time_parse_relative(&us, row->text, NOW);
	cr_assert_eq(rc, row->rc, "sl_time_parse_relative(\"%s\", %lld) returned %d, expected %d",
		     row->text, NOW, rc, row->rc);
	if (row->rc == SL_OK)
		cr_assert_eq(us, row->us, "sl_time_parse_relative(\"%s\") gave %" PRId64 ", expected %" PRId64,
			     row->text, us, row->us);
	else
		cr_assert_eq(us, 12345, "sl_time_parse_relative(\"%s\") failed but changed *out",
			     row->text);
}

/* Without a zone, a time (and a bare date, its midnight) is local time. */
Test(schema_timefmt, no_zone_is_local_time)
{
	int64_t us;
	setenv("TZ", "UTC", 1);
	tzset();
	cr_assert_eq(sl_time_parse_relative(&us, "2026-11-26", NOW), SL_OK);
	cr_assert_eq(us, 1795651200000000LL, "midnight UTC: %lld", (long long)us);
	setenv("TZ", "IST-5:30", 1);    /* five and a half hours east, no DST */
	tzset();
	cr_assert_eq(sl_time_parse_relative(&us, "2026-11-26", NOW), SL_OK);
	cr_assert_eq(us, 1795651200000000LL - 19800000000LL, "midnight in UTC+5:30");
	cr_assert_eq(sl_time_parse_relative(&us, "2026-11-26T02:49:38.25", NOW), SL_OK);
	cr_assert_eq(us, 1795661378250000LL - 19800000000LL, "a time without a zone");
	cr_assert_eq(sl_time_parse_relative(&us, "2026-11-26T02:49:38Z", NOW), SL_OK);
	cr_assert_eq(us, 1795661378000000LL, "a zone given: as given");
	cr_assert_eq(sl_time_parse_relative(&us, "2026-11-26T02:49:38-01:00", NOW), SL_OK);
	cr_assert_eq(us, 1795661378000000LL + 3600000000LL, "an offset given: as given");
	setenv("TZ", "UTC", 1);
	tzset();
}
