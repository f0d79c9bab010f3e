/* cache.c: the projector's job states in memory (cache.h): a hash table by
 * job id, a least-recently-used list for eviction, and per entry the rows
 * still to be written. */
#include "cache.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

int sl_cache_init(struct sl_cache *c, size_t budget)
{
	*c = (struct sl_cache){ .budget = budget };
	return sl_jobmap_init(&c->map, 1024);
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
	sl_jobmap_remove(&c->map, &e->node);
	lru_unlink(c, e);
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
	sl_jobmap_clear(&c->map);
	c->lru_head = c->lru_tail = NULL;
	c->dirty = NULL;
	c->bytes = 0;
}

void sl_cache_free(struct sl_cache *c)
{
	if (!c->map.buckets)
		return;
	sl_cache_clear(c);
	sl_jobmap_fini(&c->map);
	*c = (struct sl_cache){ 0 };
}

struct sl_cent *sl_cache_find(struct sl_cache *c, const char *job_id)
{
	struct sl_jobmap_node *n = sl_jobmap_find(&c->map, job_id);
	if (!n)
		return NULL;
	struct sl_cent *e = SL_CONTAINER_OF(n, struct sl_cent, node);
	if (c->lru_head != e) {
		lru_unlink(c, e);
		lru_push_front(c, e);
	}
	return e;
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
	e->st = *st;
	sl_state_init(st);
	e->bytes = sizeof *e + strlen(job_id) + 1 + sl_cache_state_bytes(&e->st);
	e->node.key = e->key;
	sl_jobmap_insert(&c->map, &e->node);
	lru_push_front(c, e);
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
