/* camp.h: helpers shared by the fault campaigns (tests/campaign/): a
 * seeded random generator, scratch directories, whole-database dumps to
 * compare, and the reference workload's events as a log's bytes.
 *
 * Nothing here uses Criterion: the campaigns are also standalone programs
 * (crash, powerloss, corrupt), run on demand for thousands of trials.
 * Failures are reported by return value and a message in a caller's buffer.
 */
#ifndef SL_CAMP_H
#define SL_CAMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* splitmix64: one generator per campaign, so that a seed reruns it. */
uint64_t camp_rand(uint64_t *state);
/* Uniform in [0, n) (n > 0). */
uint64_t camp_below(uint64_t *state, uint64_t n);

/* A fresh directory under $TMPDIR (or /tmp), malloc'd. */
char *camp_tmpdir(const char *tag);
/* Removes a tree (a missing one is fine). */
void camp_rmrf(const char *path);
/* dir + "/" + name, malloc'd. */
char *camp_path(const char *dir, const char *name);
/* Copies a file; a missing source is not an error when optional. */
int camp_copy(const char *from, const char *to, bool optional);

/* Every table of the database (schema included), every row ordered by all
 * its columns, with SQLite types, as text (malloc'd).  Left out: the two
 * values that say when the file was made (statelog_meta 'created_at' and
 * schema_version.applied_at).  NULL and a message in err on failure. */
char *camp_dump(const char *db_path, char *err, size_t errlen);

/* The first line where two dumps differ, into msg. */
void camp_dump_diff(const char *a, const char *b, char *msg, size_t msglen);

/* The events of a log, as stored (the encoding, which holds neither the
 * sequence number nor the time), indexed by seq - 1. */
struct camp_events {
	uint8_t **data;
	size_t *len;
	uint64_t n;
};

/* Reads the whole log in dir.  SL_* code; message in err. */
int camp_read_events(struct camp_events *out, const char *dir, char *err, size_t errlen);
void camp_events_free(struct camp_events *e);

/* Checks that the log in dir holds exactly `want` events, each byte-equal
 * to ref's event of the same sequence number and decodable; 0 or -1 with a
 * message. */
int camp_check_prefix(const char *dir, const struct camp_events *ref, uint64_t want, char *msg,
		      size_t msglen);

#endif
