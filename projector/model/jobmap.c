/* jobmap.c: a hash table of job ids with chained, intrusive nodes
 * (jobmap.h). */
#include "jobmap.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "sl_error.h"

int sl_jobmap_init(struct sl_jobmap *m, size_t n_buckets)
{
	size_t n = 64;
	while (n < n_buckets)
		n *= 2;
	*m = (struct sl_jobmap){ .n_buckets = n };
	m->buckets = calloc(n, sizeof m->buckets[0]);
	return m->buckets ? SL_OK : SL_ENOMEM;
}

void sl_jobmap_fini(struct sl_jobmap *m)
{
	free(m->buckets);
	*m = (struct sl_jobmap){ 0 };
}

struct sl_jobmap_node *sl_jobmap_find(const struct sl_jobmap *m, const char *key)
{
	uint64_t h = sl_hash_str(key);
	for (struct sl_jobmap_node *n = m->buckets[h & (m->n_buckets - 1)]; n; n = n->next)
		if (n->hash == h && strcmp(n->key, key) == 0)
			return n;
	return NULL;
}

static void grow(struct sl_jobmap *m)
{
	size_t nb = m->n_buckets * 2;
	struct sl_jobmap_node **b = calloc(nb, sizeof *b);
	if (!b)
		return;
	for (size_t i = 0; i < m->n_buckets; i++) {
		struct sl_jobmap_node *n = m->buckets[i], *next;
		for (; n; n = next) {
			next = n->next;
			n->next = b[n->hash & (nb - 1)];
			b[n->hash & (nb - 1)] = n;
		}
	}
	free(m->buckets);
	m->buckets = b;
	m->n_buckets = nb;
}

void sl_jobmap_insert(struct sl_jobmap *m, struct sl_jobmap_node *n)
{
	assert(n->key && !sl_jobmap_find(m, n->key));
	n->hash = sl_hash_str(n->key);
	struct sl_jobmap_node **head = &m->buckets[n->hash & (m->n_buckets - 1)];
	n->next = *head;
	*head = n;
	if (++m->count > m->n_buckets)
		grow(m);
}

void sl_jobmap_remove(struct sl_jobmap *m, struct sl_jobmap_node *n)
{
	struct sl_jobmap_node **pp = &m->buckets[n->hash & (m->n_buckets - 1)];
	while (*pp != n) {
		assert(*pp);
		pp = &(*pp)->next;
	}
	*pp = n->next;
	n->next = NULL;
	m->count--;
}

void sl_jobmap_clear(struct sl_jobmap *m)
{
	if (m->buckets)
		memset(m->buckets, 0, m->n_buckets * sizeof m->buckets[0]);
	m->count = 0;
}

struct sl_jobmap_node *sl_jobmap_next(const struct sl_jobmap *m, const struct sl_jobmap_node *n)
{
	size_t i = 0;
	if (n) {
		if (n->next)
			return n->next;
		i = (n->hash & (m->n_buckets - 1)) + 1;
	}
	for (; i < m->n_buckets; i++)
		if (m->buckets[i])
			return m->buckets[i];
	return NULL;
}
