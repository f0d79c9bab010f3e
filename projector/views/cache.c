/* cache.c: the projector's job states in memory (cache.h): a hash table by
 * job id, a least-recently-used list for eviction, and per entry the rows
 * still to be written. */
#include "cache.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/* FNV-1a, 64 bits. */
static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

int sl_cache_init(struct sl_cache *c, size_t budget)
{
	*c = (struct sl_cache){ .budget = budget, .n_buckets = 1024 };
	c->buckets = calloc(c->n_buckets, sizeof c->buckets[0]);
	return c->buckets ? SL_OK : SL_ENOMEM;
}

static void lru_unlink(struct sl_cache *c, struct sl_cent *e)
{
	if (e->lru_prev)
		e->lru_prev->lru_next = e->lru_next;
	else
		c->lru_head = e->lru_next;
	if (e->lru_next)
		e->lru_next->lru_prev = e->lru_prev;
	else
		c->lru_tail = e->lru_prev;
	e->lru_prev = e->lru_next = NULL;
}

static void lru_push_front(struct sl_cache *c, struct sl_cent *e)
{
	e->lru_prev = NULL;
	e->lru_next = c->lru_head;
	if (c->lru_head)
		c->lru_head->lru_prev = e;
	c->lru_head = e;
	if (!c->lru_tail)
		c->lru_tail = e;
}

static void entry_free(struct sl_cent *e)
{
	sl_state_free(&e->st);
	free(e->dsheets);
	free(e->key);
	free(e);
}

/* Removes e from the hash table and the LRU list and frees it.  e must be
 * clean (not on the dirty list). */
static void entry_drop(struct sl_cache *c, struct sl_cent *e)
{
	assert(!e->listed);
	struct sl_cent **pp = &c->buckets[e->hash & (c->n_buckets - 1)];
	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	lru_unlink(c, e);
	c->count--;
	c->bytes -= e->bytes;
	entry_free(e);
}

void sl_cache_clear(struct sl_cache *c)
{
	struct sl_cent *e = c->lru_head;
	while (e) {
		struct sl_cent *next = e->lru_next;
		entry_free(e);
		e = next;
	}
	if (c->buckets)
		memset(c->buckets, 0, c->n_buckets * sizeof c->buckets[0]);
	c->lru_head = c->lru_tail = NULL;
	c->dirty = NULL;
	c->count = 0;
	c->bytes = 0;
}

void sl_cache_free(struct sl_cache *c)
{
	if (!c->buckets)
		return;
	sl_cache_clear(c);
	free(c->buckets);
	*c = (struct sl_cache){ 0 };
}

struct sl_cent *sl_cache_find(struct sl_cache *c, const char *job_id)
{
	uint64_t h = hash_str(job_id);
	for (struct sl_cent *e = c->buckets[h & (c->n_buckets - 1)]; e; e = e->hnext) {
		if (e->hash == h && strcmp(e->key, job_id) == 0) {
			if (c->lru_head != e) {
				lru_unlink(c, e);
				lru_push_front(c, e);
			}
			return e;
		}
	}
	return NULL;
}

/* Doubles the table when it is more than full on average. */
static void maybe_grow(struct sl_cache *c)
{
	if (c->count < c->n_buckets)
		return;
	size_t n = c->n_buckets * 2;
	struct sl_cent **b = calloc(n, sizeof b[0]);
	if (!b)
		return;         /* longer chains, still correct */
	for (size_t i = 0; i < c->n_buckets; i++) {
		struct sl_cent *e = c->buckets[i];
		while (e) {
			struct sl_cent *next = e->hnext;
			e->hnext = b[e->hash & (n - 1)];
			b[e->hash & (n - 1)] = e;
			e = next;
		}
	}
	free(c->buckets);
	c->buckets = b;
	c->n_buckets = n;
}

size_t sl_cache_state_bytes(const struct sl_job_state *st)
{
	size_t n = sizeof *st + st->cap_sheets * sizeof st->sheets[0];
	for (size_t i = 0; i < SL_STATE_N_JOB_COLUMNS; i++) {
		const struct sl_state_column *col = &sl_state_job_columns[i];
		const char *s = col->type == SL_COL_TEXT ? *(char *const *)((const char *)st +
									     col->offset) : NULL;
		n += s ? strlen(s) + 1 : 0;
	}
	for (size_t k = 0; k < st->n_sheets; k++) {
		for (size_t i = 0; i < SL_STATE_N_SHEET_COLUMNS; i++) {
			const struct sl_state_column *col = &sl_state_sheet_columns[i];
			if (col->type != SL_COL_TEXT)
				continue;
			const char *s = *(char *const *)((const char *)&st->sheets[k] + col->offset);
			n += s ? strlen(s) + 1 : 0;
		}
	}
	return n;
}

int sl_cache_add(struct sl_cache *c, const char *job_id, struct sl_job_state *st,
		 struct sl_cent **out)
{
	struct sl_cent *e = calloc(1, sizeof *e);
	if (!e || !(e->key = strdup(job_id))) {
		free(e);
		return SL_ENOMEM;
	}
	maybe_grow(c);
	e->st = *st;
	sl_state_init(st);
	e->hash = hash_str(job_id);
	e->bytes = sizeof *e + strlen(job_id) + 1 + sl_cache_state_bytes(&e->st);
	size_t b = e->hash & (c->n_buckets - 1);
	e->hnext = c->buckets[b];
	c->buckets[b] = e;
	lru_push_front(c, e);
	c->count++;
	c->bytes += e->bytes;
	*out = e;
	return SL_OK;
}

int sl_cache_mark(struct sl_cache *c, struct sl_cent *e, bool job, int64_t sheet, size_t grow)
{
	if (sheet > 0) {
		if (e->n_dsheets == e->cap_dsheets) {
			size_t cap = e->cap_dsheets ? 2 * e->cap_dsheets : 8;
			int64_t *p = realloc(e->dsheets, cap * sizeof *p);
			if (!p)
				return SL_ENOMEM;
			e->dsheets = p;
			e->cap_dsheets = cap;
		}
		e->dsheets[e->n_dsheets++] = sheet;
	}
	e->job_dirty |= job;
	if (!e->listed) {
		e->listed = true;
		e->dnext = c->dirty;
		c->dirty = e;
	}
	e->bytes += grow;
	c->bytes += grow;
	return SL_OK;
}

void sl_cache_unmark(struct sl_cache *c, struct sl_cent *e)
{
	(void)c;
	/* Stays on the dirty list (unlinking would need a walk); with nothing
	 * left to write, sl_cache_written() just makes it clean. */
	e->job_dirty = false;
	e->n_dsheets = 0;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

size_t sl_cache_sheets_to_write(struct sl_cent *e)
{
	if (e->n_dsheets < 2)
		return e->n_dsheets;
	qsort(e->dsheets, e->n_dsheets, sizeof e->dsheets[0], cmp_i64);
	size_t k = 1;
	for (size_t i = 1; i < e->n_dsheets; i++)
		if (e->dsheets[i] != e->dsheets[k - 1])
			e->dsheets[k++] = e->dsheets[i];
	e->n_dsheets = k;
	return k;
}

void sl_cache_written(struct sl_cache *c)
{
	struct sl_cent *e = c->dirty;
	while (e) {
		struct sl_cent *next = e->dnext;
		e->listed = false;
		e->dnext = NULL;
		e->job_dirty = false;
		e->n_dsheets = 0;
		/* Keep the list of sheets small once a burst is over. */
		if (e->cap_dsheets > 64) {
			free(e->dsheets);
			e->dsheets = NULL;
			e->cap_dsheets = 0;
		}
		size_t b = sizeof *e + strlen(e->key) + 1 + sl_cache_state_bytes(&e->st);
		c->bytes = c->bytes - e->bytes + b;
		e->bytes = b;
		e = next;
	}
	c->dirty = NULL;
}

void sl_cache_evict(struct sl_cache *c)
{
	struct sl_cent *e = c->lru_tail;
	while (e && c->bytes > c->budget) {
		struct sl_cent *prev = e->lru_prev;
		if (!e->listed)
			entry_drop(c, e);
		e = prev;
	}
}
