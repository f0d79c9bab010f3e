/* error.c: descriptions of the SL_* error codes. */
#include "sl_error.h"

const char *sl_strerror(int code)
{
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
