/* sl_error.h: the one set of error codes shared by every statelog component.
 *
 * Every library function returns an int: 0 (SL_OK) on success, or one of the
 * negative codes below.  Codes are part of the API and are never renumbered.
 * Where a caller needs more (which file, which offset, the errno), the
 * handle that failed keeps a "last error" message; see the component's
 * header (sl_log_errmsg(), ...).
 */
#ifndef SL_ERROR_H
#define SL_ERROR_H

#include "sl_api.h"

#ifdef __cplusplus
extern "C" {
#endif

enum sl_error {
	SL_OK = 0,
	SL_EINVAL = -1,       /* bad argument or malformed input */
	SL_ENOMEM = -2,       /* out of memory */
	SL_EIO = -3,          /* an operating-system call failed; see errno in the message */
	SL_ECORRUPT = -4,     /* damage found on disk (checksum, framing, chain) */
	SL_ELOCKED = -5,      /* another writer held the log past the busy timeout */
	SL_ENOTFOUND = -6,    /* no such log, job, sheet or record */
	SL_EPOISONED = -7,    /* an earlier write or fsync failed; reopen the log */
	SL_ETOOBIG = -8,      /* an event or commit exceeds the configured maximum */
	SL_EVERSION = -9,     /* written by a newer format or schema version */
	SL_EUNKNOWN = -10,    /* an event of a type this build does not know */
	SL_EEXIST = -11,      /* already exists */
	SL_EFOREIGN = -12,    /* belongs to another log (different log id) */
	SL_ECLOSED = -13,     /* the handle is closed or closing */
	SL_ESQLITE = -14,     /* SQLite reported an error; see the message */
};

/* A human-readable description of a code, never NULL:
 *  - an SL_* code (0 or negative): its description;
 *  - a positive code: an errno value, described as strerror() does
 *    ("No such file or directory" for ENOENT), so that a caller holding the
 *    errno of a failed call can use the one function (as LMDB's
 *    mdb_strerror() does);
 *  - any other code: "unknown error code" (or "unknown error" for a
 *    positive one the C library does not know).
 * The call is safe from any thread, unlike strerror().  The string is
 * static (never freed, never overwritten); only for an errno value on a C
 * library other than glibc 2.32 or later is it kept in a buffer of the
 * calling thread, valid until that thread's next call. */
SL_API const char *sl_strerror(int code);

#ifdef __cplusplus
}
#endif

#endif
