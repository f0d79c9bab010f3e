/* error.c: descriptions of the SL_* error codes, and of errno values. */
#include "sl_error.h"

#include <string.h>

/* An errno value's text.  glibc's strerrordesc_np() returns an entry of
 * its static table: thread-safe, never overwritten, never translated.
 * Elsewhere strerror_r() writes the text into a buffer of the calling
 * thread (sl_error.h says how long it lasts there). */
static const char *errno_text(int code)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
	const char *s = strerrordesc_np(code);
	return s ? s : "unknown error";
#else
	static _Thread_local char buf[128];
	if (strerror_r(code, buf, sizeof buf) != 0)
		return "unknown error";
	return buf;
#endif
}

const char *sl_strerror(int code)
{
	if (code > 0)
		return errno_text(code);
	switch (code) {
	case SL_OK: return "success";
	case SL_EINVAL: return "invalid argument or input";
	case SL_ENOMEM: return "out of memory";
	case SL_EIO: return "I/O error";
	case SL_ECORRUPT: return "damaged data";
	case SL_ELOCKED: return "locked by another writer";
	case SL_ENOTFOUND: return "not found";
	case SL_EPOISONED: return "writer disabled by an earlier I/O failure; reopen the log";
	case SL_ETOOBIG: return "too large";
	case SL_EVERSION: return "written by a newer version";
	case SL_EUNKNOWN: return "unknown event type";
	case SL_EEXIST: return "already exists";
	case SL_EFOREIGN: return "belongs to another log";
	case SL_ECLOSED: return "handle closed";
	case SL_ESQLITE: return "SQLite error";
	}
	return "unknown error code";
}
