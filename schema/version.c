/* version.c: the version of the library a program runs with (sl_version.h,
 * generated from the project version in meson.build). */
#include "sl_version.h"

const char *sl_version(void)
{
	return SL_VERSION_STRING;
}
