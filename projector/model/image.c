/* image.c: a job's state as a compact image (image.h), for the snapshot
 * store.  Written generically from the column catalogue (state.h),
 * so a column added there needs nothing here.
 *
 * Image version 2, before compression (one zstd frame with its size):
 *   byte    2 (the version)
 *   byte    presence (enum sl_job_presence)
 *   value   of every job column, in catalogue order, then the job's extra
 *   varint  number of sheets, then every sheet column of each, in order,
 *           then its extra
 * (Version 1, still read, has no extra values.)  The extras (state.h) are
 * TEXT values.
 * A value is a byte 0 (NULL) or 1 then: TEXT a varint length and the bytes;
 * REAL the 8 bytes of its bit pattern, little-endian; every other type a
 * zigzag varint.
 */
#include "image.h"

#include <stdbool.h>

#include <stdlib.h>
#include <string.h>

#include <zstd.h>

#define IMG_VERSION 2

#include <stddef.h>

/* The extras as TEXT values, for put_value() and get_value(). */
static const struct sl_state_column job_extra = {
	.name = "extra", .type = SL_COL_TEXT, .nullable = true,
	.offset = offsetof(struct sl_job_state, extra),
};
static const struct sl_state_column sheet_extra = {
	.name = "extra", .type = SL_COL_TEXT, .nullable = true,
	.offset = offsetof(struct sl_sheet_state, extra),
};
#define IMG_LEVEL 3
/* An image larger than this is not one of ours (a job of 100,000 sheets
 * with long texts stays far below it). */
#define IMG_MAX ((size_t)256 << 20)

struct buf {
	uint8_t *p;
	size_t n, cap;
	bool oom;
};

static void put(struct buf *b, const void *src, size_t n)
{
	if (b->oom)
		return;
	if (b->n + n > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 4096;
		while (cap < b->n + n)
			cap *= 2;
		uint8_t *q = realloc(b->p, cap);
		if (!q) {
			b->oom = true;
			return;
		}
		b->p = q;
		b->cap = cap;
	}
	memcpy(b->p + b->n, src, n);
	b->n += n;
}

static void put_varint(struct buf *b, uint64_t v)
{
	uint8_t t[10];
	size_t n = 0;
	do {
		t[n] = (uint8_t)(v & 0x7f);
		v >>= 7;
		if (v)
			t[n] |= 0x80;
		n++;
	} while (v);
	put(b, t, n);
}

static void put_value(struct buf *b, const struct sl_state_column *c, const void *row)
{
	struct sl_value v;
	sl_state_column_get(&v, c, row);
	uint8_t tag = v.null ? 0 : 1;
	put(b, &tag, 1);
	if (v.null)
		return;
	if (c->type == SL_COL_TEXT) {
		size_t n = strlen(v.s);
		put_varint(b, n);
		put(b, v.s, n);
	} else if (c->type == SL_COL_REAL) {
		uint64_t bits;
		uint8_t le[8];
		memcpy(&bits, &v.d, 8);
		for (int i = 0; i < 8; i++)
			le[i] = (uint8_t)(bits >> (8 * i));
		put(b, le, 8);
	} else {
		put_varint(b, ((uint64_t)v.i << 1) ^ (uint64_t)(v.i >> 63));
	}
}

int sl_image_encode(uint8_t **out, size_t *len, const struct sl_job_state *st)
{
	struct buf b = { 0 };
	uint8_t head[2] = { IMG_VERSION, (uint8_t)st->presence };
	put(&b, head, 2);
	for (size_t i = 0; i < SL_STATE_N_JOB_COLUMNS; i++)
		put_value(&b, &sl_state_job_columns[i], st);
	put_value(&b, &job_extra, st);
	put_varint(&b, st->n_sheets);
	for (size_t k = 0; k < st->n_sheets; k++) {
		for (size_t i = 0; i < SL_STATE_N_SHEET_COLUMNS; i++)
			put_value(&b, &sl_state_sheet_columns[i], &st->sheets[k]);
		put_value(&b, &sheet_extra, &st->sheets[k]);
	}
	int rc = SL_ENOMEM;
	uint8_t *z = NULL;
	if (b.oom)
		goto out;
	size_t bound = ZSTD_compressBound(b.n);
	if (!(z = malloc(bound)))
		goto out;
	size_t zn = ZSTD_compress(z, bound, b.p, b.n, IMG_LEVEL);
	if (ZSTD_isError(zn)) {
		rc = SL_EIO;
		goto out;
	}
	*out = z;
	*len = zn;
	z = NULL;
	rc = SL_OK;
out:
	free(z);
	free(b.p);
	return rc;
}

/* ---- decoding ------------------------------------------------------------ */

struct rd {
	const uint8_t *p, *end;
	bool bad;
};

static uint64_t get_varint(struct rd *r)
{
	uint64_t v = 0;
	for (int shift = 0; shift < 64; shift += 7) {
		if (r->p >= r->end) {
			r->bad = true;
			return 0;
		}
		uint8_t c = *r->p++;
		v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80))
			return v;
	}
	r->bad = true;
	return 0;
}

/* Reads one value of column c; *owned gets the text (malloc'd). */
static int get_value(struct rd *r, const struct sl_state_column *c, struct sl_value *v,
		     char **owned)
{
	*v = (struct sl_value){ 0 };
	*owned = NULL;
	if (r->p >= r->end)
		return SL_ECORRUPT;
	uint8_t tag = *r->p++;
	if (tag > 1 || (tag == 0 && c->type != SL_COL_TEXT && !c->nullable))
		return SL_ECORRUPT;
	if (tag == 0) {
		v->null = true;
		return SL_OK;
	}
	if (c->type == SL_COL_TEXT) {
		uint64_t n = get_varint(r);
		if (r->bad || n > (uint64_t)(r->end - r->p) || memchr(r->p, 0, n))
			return SL_ECORRUPT;
		if (!(*owned = malloc(n + 1)))
			return SL_ENOMEM;
		memcpy(*owned, r->p, n);
		(*owned)[n] = 0;
		r->p += n;
		v->s = *owned;
		return SL_OK;
	}
	if (c->type == SL_COL_REAL) {
		if (r->end - r->p < 8)
			return SL_ECORRUPT;
		uint64_t bits = 0;
		for (int i = 0; i < 8; i++)
			bits |= (uint64_t)r->p[i] << (8 * i);
		r->p += 8;
		memcpy(&v->d, &bits, 8);
		return SL_OK;
	}
	uint64_t z = get_varint(r);
	if (r->bad)
		return SL_ECORRUPT;
	v->i = (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
	if ((c->type == SL_COL_BOOL && (v->i < 0 || v->i > 1)) ||
	    (c->type == SL_COL_JOB_STATUS && (v->i < 0 || v->i >= SL_JOB_STATUS_COUNT)) ||
	    (c->type == SL_COL_SHEET_STATUS && (v->i < 0 || v->i >= SL_SHEET_STATUS_COUNT)))
		return SL_ECORRUPT;
	return SL_OK;
}

static int decode_raw(struct sl_job_state *st, struct rd *r)
{
	if (r->end - r->p < 2 || r->p[0] < 1 || r->p[0] > IMG_VERSION || r->p[1] > SL_JOB_DELETED)
		return SL_ECORRUPT;
	bool extras = r->p[0] >= 2;
	st->presence = (enum sl_job_presence)r->p[1];
	r->p += 2;
	int rc;
	struct sl_value ev;
	char *eo;
	for (size_t i = 0; i < SL_STATE_N_JOB_COLUMNS; i++) {
		const struct sl_state_column *c = &sl_state_job_columns[i];
		struct sl_value v;
		char *owned;
		if ((rc = get_value(r, c, &v, &owned)) != SL_OK)
			return rc;
		/* A job that is not live may lack its NOT NULL texts (name). */
		if (v.null && !c->nullable) {
			if (st->presence == SL_JOB_LIVE)
				return SL_ECORRUPT;
			continue;
		}
		sl_state_column_put(c, st, &v, owned);
	}
	if (extras) {
		if ((rc = get_value(r, &job_extra, &ev, &eo)) != SL_OK)
			return rc;
		st->extra = eo;
	}
	uint64_t n = get_varint(r);
	if (r->bad || n > (uint64_t)(r->end - r->p))
		return SL_ECORRUPT;
	for (uint64_t k = 0; k < n; k++) {
		struct sl_value vals[SL_STATE_N_SHEET_COLUMNS];
		char *owned[SL_STATE_N_SHEET_COLUMNS] = { 0 };
		int64_t num = 0;
		rc = SL_OK;
		for (size_t i = 0; rc == SL_OK && i < SL_STATE_N_SHEET_COLUMNS; i++) {
			rc = get_value(r, &sl_state_sheet_columns[i], &vals[i], &owned[i]);
			if (rc == SL_OK && vals[i].null && !sl_state_sheet_columns[i].nullable)
				rc = SL_ECORRUPT;
			if (rc == SL_OK && sl_state_sheet_columns[i].key)
				num = vals[i].i;
		}
		struct sl_sheet_state *sh = NULL;
		if (rc == SL_OK && (num < 1 || sl_state_find_sheet(st, num) ||
				    (st->n_sheets && st->sheets[st->n_sheets - 1].sheet_num > num)))
			rc = SL_ECORRUPT;       /* sheets come in order, once each */
		if (rc == SL_OK)
			rc = sl_state_add_sheet(&sh, st, num);
		for (size_t i = 0; i < SL_STATE_N_SHEET_COLUMNS; i++) {
			if (rc == SL_OK)
				sl_state_column_put(&sl_state_sheet_columns[i], sh, &vals[i], owned[i]);
			else
				free(owned[i]);
		}
		if (rc == SL_OK && extras && (rc = get_value(r, &sheet_extra, &ev, &eo)) == SL_OK)
			sh->extra = eo;
		if (rc != SL_OK)
			return rc;
	}
	return r->p == r->end ? SL_OK : SL_ECORRUPT;
}

int sl_image_decode(struct sl_job_state *out, const void *img, size_t len)
{
	unsigned long long n = ZSTD_getFrameContentSize(img, len);
	if (n == ZSTD_CONTENTSIZE_ERROR || n == ZSTD_CONTENTSIZE_UNKNOWN || n > IMG_MAX)
		return SL_ECORRUPT;
	uint8_t *raw = malloc(n ? (size_t)n : 1);
	if (!raw)
		return SL_ENOMEM;
	struct sl_job_state st;
	sl_state_init(&st);
	size_t got = ZSTD_decompress(raw, (size_t)n, img, len);
	int rc = SL_ECORRUPT;
	if (!ZSTD_isError(got) && got == n) {
		struct rd r = { .p = raw, .end = raw + n };
		rc = decode_raw(&st, &r);
	}
	free(raw);
	if (rc == SL_OK && st.presence == SL_JOB_LIVE && (!st.id || !st.name))
		rc = SL_ECORRUPT;
	if (rc != SL_OK) {
		sl_state_free(&st);
		return rc;
	}
	*out = st;
	return SL_OK;
}
