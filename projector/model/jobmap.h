/* jobmap.h: the one table of job ids in memory, for every layer that keeps
 * something per job (the projector's states cache, the backend's cache, the
 * workload driver).  Not installed.
 *
 * Intrusive: a node lives inside the caller's entry (find the entry with
 * SL_CONTAINER_OF), and the table never allocates or frees nodes or keys,
 * only its bucket array.  So each user keeps its own eviction order (an LRU
 * list, a clock) and its own locking: the table has none.
 *
 * Invariants: every node in the table has key != NULL and hash ==
 * sl_hash_str(key); keys are unique; n_buckets is a power of two.
 */
#ifndef SL_JOBMAP_H
#define SL_JOBMAP_H

#include <stddef.h>
#include <stdint.h>

#define SL_CONTAINER_OF(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

struct sl_jobmap_node {
	struct sl_jobmap_node *next;    /* hash chain */
	uint64_t hash;
	const char *key;                /* the job id; owned by the entry */
};

struct sl_jobmap {
	struct sl_jobmap_node **buckets;
	size_t n_buckets;
	size_t count;
};

/* An empty table of n_buckets (rounded up to a power of two; 0: 64).
 * SL_ENOMEM. */
int sl_jobmap_init(struct sl_jobmap *m, size_t n_buckets);

/* Frees the bucket array (not the nodes).  A zeroed table is fine. */
void sl_jobmap_fini(struct sl_jobmap *m);

/* The node of key, or NULL. */
struct sl_jobmap_node *sl_jobmap_find(const struct sl_jobmap *m, const char *key);

/* Adds n, whose key is set and not in the table.  The table doubles when
 * it holds more nodes than buckets; when that allocation fails the chains
 * grow longer instead, so this cannot fail. */
void sl_jobmap_insert(struct sl_jobmap *m, struct sl_jobmap_node *n);

/* Removes n, which is in the table. */
void sl_jobmap_remove(struct sl_jobmap *m, struct sl_jobmap_node *n);

/* Forgets every node (the caller frees them). */
void sl_jobmap_clear(struct sl_jobmap *m);

/* Iteration in no particular order: the node after n (NULL: the first),
 * or NULL at the end.  The table must not change meanwhile, except that
 * the node just returned may be removed if the caller took its successor
 * first. */
struct sl_jobmap_node *sl_jobmap_next(const struct sl_jobmap *m, const struct sl_jobmap_node *n);

#endif
