/* history_internal.h: what the files of history/ share (timetravel.c,
 * audit.c); nothing outside history/ includes it.
 *
 * history/ reads the past of a log: a job or the whole database as of any
 * event (timetravel.c) and how a job evolved (audit.c).  It may call
 * views/ (views.h: the handle's accessors, fetching events by seq, the
 * snapshot store, writing a database as of a point), model/ and the log;
 * nothing above it (backend/ calls it).  It never writes the views: what
 * it writes is a new file, through views/.
 */
#ifndef SL_HISTORY_INTERNAL_H
#define SL_HISTORY_INTERNAL_H

#include "history.h"
#include "views.h"

#endif
