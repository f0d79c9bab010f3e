/* helpers.h: shared fixtures of the log tests: temporary directories,
 * sample events, reading a whole log back. */
#ifndef SL_TEST_LOG_HELPERS_H
#define SL_TEST_LOG_HELPERS_H

#include <stddef.h>
#include <stdint.h>

#include "event_internal.h"
#include "log.h"

/* A fresh directory under $TMPDIR (or /tmp); free with th_rmdir(). */
char *th_tmpdir(void);
/* rm -rf path, then free(path). */
void th_rmdir(char *path);

/* A small event of job `job` whose body depends on i (varied types). */
sl_event *th_event(const char *job, uint64_t i);
void th_event_free(sl_event *ev);

/* An event of the given type with every field of its body set (strings with
 * quotes, '/', ':', '@', non-ASCII and JSON-like text). */
sl_event *th_event_of_type(const char *job, Statelog__Event__BodyCase type, uint64_t seed);

/* Opens (creating) a log with the given durability and segment size. */
sl_log *th_open(const char *dir, enum sl_durability d, uint64_t segment_size);

/* Appends n single-event commits of th_event("job", start + k). */
void th_append_n(sl_log *log, uint64_t start, uint64_t n);

/* Reads every event; returns how many; stores the last read code in *rc. */
uint64_t th_count(const char *dir, int *rc);

/* File size, or -1. */
long long th_file_size(const char *path);
/* Path of dir's segment with the given first seq (static buffer). */
const char *th_seg(const char *dir, uint64_t first_seq);
/* Copies a file. */
void th_copy(const char *from, const char *to);

#endif
