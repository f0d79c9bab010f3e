/* test_version.c: tests of schema/version.c and the generated sl_version.h. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "sl_version.h"

TestSuite(schema_version, .timeout = 30);

Test(schema_version, the_call_and_the_macros_agree)
{
	char want[64];
	snprintf(want, sizeof want, "%d.%d.%d", SL_VERSION_MAJOR, SL_VERSION_MINOR,
		 SL_VERSION_PATCH);
	cr_assert_str_eq(SL_VERSION_STRING, want, "SL_VERSION_STRING \"%s\", the numbers give \"%s\"",
			 SL_VERSION_STRING, want);
	cr_assert_str_eq(sl_version(), SL_VERSION_STRING, "sl_version() \"%s\", the header \"%s\"",
			 sl_version(), SL_VERSION_STRING);
	cr_assert_eq(SL_VERSION_NUMBER,
		     SL_VERSION_MAJOR * 10000 + SL_VERSION_MINOR * 100 + SL_VERSION_PATCH,
		     "SL_VERSION_NUMBER %d for %s", SL_VERSION_NUMBER, SL_VERSION_STRING);
}
