/* cache.h: the projector's job states in memory (internal to projector/).
 *
 * Catch-up coalesces: the states of the jobs a transaction touches are kept
 * here, events are applied to them with sl_rules_apply(), and each changed
 * jobs row and each changed sheets row is written once, when the
 * transaction ends (or earlier, when the cache outgrows its budget).
 *
 * Invariants:
 *  - an entry that is not dirty equals what the database holds for its job
 *    (in the current transaction), so it may be dropped at any time and
 *    read back;
 *  - an entry is dirty while its jobs row or any of its sheets rows is
 *    still to be written; dirty entries are on the dirty list, never
 *    evicted;
 *  - after a rollback the cache must be emptied (sl_cache_clear()): its
 *    dirty entries hold changes the database no longer has.
 * Entries are found by job id in a hash table and kept in least recently
 * used order; eviction drops clean entries from the cold end until the
 * estimated size is within the budget.
 */
#ifndef SL_CACHE_H
#define SL_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jobmap.h"
#include "state.h"

struct sl_cent {
	char *key;                      /* the job id (st.id may be NULL) */
	struct sl_job_state st;
	bool in_db;                     /* the database has a jobs row for it */
	bool job_dirty;                 /* the jobs row is to be written */
	bool listed;                    /* on the dirty list */
	int64_t *dsheets;               /* sheets to write (may repeat) */
	size_t n_dsheets, cap_dsheets;
	size_t bytes;                   /* estimated size of the entry */
	struct sl_jobmap_node node;     /* in the table by key */
	struct sl_cent *lru_prev, *lru_next;
	struct sl_cent *dnext;          /* dirty list */
};

struct sl_cache {
	struct sl_jobmap map;
	size_t bytes;                   /* sum of the entries' estimates */
	size_t budget;
	struct sl_cent *lru_head, *lru_tail;    /* head: most recently used */
	struct sl_cent *dirty;
};

/* An empty cache that evicts down to `budget` bytes.  SL_ENOMEM. */
int sl_cache_init(struct sl_cache *c, size_t budget);

/* Drops every entry (dirty ones too).  The cache stays usable. */
void sl_cache_clear(struct sl_cache *c);

/* Frees everything.  A zeroed cache is fine. */
void sl_cache_free(struct sl_cache *c);

/* The entry of job_id, made the most recently used; NULL when absent. */
struct sl_cent *sl_cache_find(struct sl_cache *c, const char *job_id);

/* Adds an entry for job_id taking over *st (which is left initialized).
 * The job must not be in the cache.  SL_ENOMEM (st left as it was). */
int sl_cache_add(struct sl_cache *c, const char *job_id, struct sl_job_state *st,
		 struct sl_cent **out);

/* Records that the jobs row (job) and/or sheet `sheet` (> 0) of e changed,
 * and that the entry grew by about `grow` bytes.  SL_ENOMEM. */
int sl_cache_mark(struct sl_cache *c, struct sl_cent *e, bool job, int64_t sheet, size_t grow);

/* Forgets the rows e had to write (its job was deleted). */
void sl_cache_unmark(struct sl_cache *c, struct sl_cent *e);

/* Sorts e's sheets to write and drops repeats; returns how many remain. */
size_t sl_cache_sheets_to_write(struct sl_cent *e);

/* Takes the dirty list (to write it): every entry on it becomes clean and
 * its estimate is recomputed.  The caller walks the returned list by dnext
 * before calling this, then calls this to mark it written. */
void sl_cache_written(struct sl_cache *c);

/* Drops clean entries, least recently used first, while the estimate
 * exceeds the budget. */
void sl_cache_evict(struct sl_cache *c);

/* The estimated size in memory of a state. */
size_t sl_cache_state_bytes(const struct sl_job_state *st);

#endif
