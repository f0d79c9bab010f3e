/* proj_helpers.h: fixtures shared by the projector's view tests
 * (test_views.c, test_project.c): scratch directories, logs filled with
 * hand-made or reference-workload events, and whole-database dumps to
 * compare. */
#ifndef SL_TEST_PROJ_HELPERS_H
#define SL_TEST_PROJ_HELPERS_H

#include <stdbool.h>
#include <stdint.h>

#include "event_internal.h"
#include "log.h"
#include "projector.h"

/* A fresh directory under $TMPDIR (or /tmp), malloc'd; ph_rmrf() removes
 * and frees it. */
char *ph_tmpdir(void);
void ph_rmrf(char *path);

/* dir + "/" + name, malloc'd. */
char *ph_path(const char *dir, const char *name);

/* Opens (creating) a log with durability none. */
sl_log *ph_log(const char *dir);

/* Appends ev as one commit at time t (microseconds) and frees it. */
void ph_append(sl_log *log, sl_event *ev, int64_t t);

/* Appends `events` events of the reference workload (seed), one commit per
 * event, at the workload's times. */
void ph_append_workload(sl_log *log, uint64_t events, uint64_t seed);

/* The same in steps: a generator of `events` events, and up to n of its
 * next events appended (returns how many). */
struct sl_workload;
struct sl_workload *ph_workload(uint64_t events, uint64_t seed);
uint64_t ph_append_from(sl_log *log, struct sl_workload *w, uint64_t n);

/* Events, owned by the caller until ph_append() takes them. */
sl_event *ph_created(const char *job, const char *name, int64_t total_sheets);
sl_event *ph_sheet(const char *job, Statelog__Event__BodyCase type, int64_t sheet);
sl_event *ph_job(const char *job, Statelog__Event__BodyCase type);
sl_event *ph_exec(const char *job, int64_t id, int64_t sheet, int64_t attempt,
		  const char *prompt, const char *output);
/* An event whose body is of a type this build does not know (field 60). */
sl_event *ph_unknown(const char *job);

/* Every row of every table of the database at db_path, ordered, with its
 * SQLite type, as text (malloc'd).  The two columns that say when the file
 * was made (statelog_meta 'created_at', schema_version.applied_at) are left
 * out: everything else must be the same for the same log. */
char *ph_dump(const char *db_path);

/* Opens the views (creating them) and catches up; asserts success. */
void ph_project(const char *log_dir, const char *db, uint32_t batch, struct sl_proj_stats *st);

/* One value of a query on db_path (text, or "NULL"), malloc'd. */
char *ph_query(const char *db_path, const char *sql);

#endif
