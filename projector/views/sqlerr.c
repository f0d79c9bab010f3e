/* sqlerr.c: SQLite failures as one-line messages (views.h), the same way in
 * every layer that talks to SQLite. */
#include "views.h"

#include <stdio.h>

int sl_sql_fail(char *msg, size_t len, sqlite3 *db, const char *path, const char *what)
{
	if (!db)
		snprintf(msg, len, "%s: %s: out of memory", path, what);
	else if (sqlite3_extended_errcode(db) == SQLITE_READONLY_DBMOVED)
		snprintf(msg, len, "%s: %s: the database was replaced (rebuilt) since it was "
			 "opened; open it again", path, what);
	else
		snprintf(msg, len, "%s: %s: %s", path, what, sqlite3_errmsg(db));
	return SL_ESQLITE;
}
