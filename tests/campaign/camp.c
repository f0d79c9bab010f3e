/* camp.c: helpers shared by the fault campaigns (camp.h). */
#include "camp.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "log.h"

uint64_t camp_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

uint64_t camp_below(uint64_t *s, uint64_t n)
{
	return camp_rand(s) % n;
}

char *camp_tmpdir(const char *tag)
{
	const char *base = getenv("TMPDIR");
	char *p = NULL;
	if (asprintf(&p, "%s/sl-%s-XXXXXX", base && *base ? base : "/tmp", tag) < 0)
		abort();
	if (!mkdtemp(p)) {
		perror("mkdtemp");
		abort();
	}
	return p;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

void camp_rmrf(const char *path)
{
	if (path)
		nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

char *camp_path(const char *dir, const char *name)
{
	char *p = NULL;
	if (asprintf(&p, "%s/%s", dir, name) < 0)
		abort();
	return p;
}

int camp_copy(const char *from, const char *to, bool optional)
{
	FILE *in = fopen(from, "rb");
	if (!in) {
		if (optional && errno == ENOENT) {
			unlink(to);
			return 0;
		}
		return -1;
	}
	FILE *out = fopen(to, "wb");
	if (!out) {
		fclose(in);
		return -1;
	}
	char buf[65536];
	size_t n;
	int rc = 0;
	while ((n = fread(buf, 1, sizeof buf, in)) > 0)
		if (fwrite(buf, 1, n, out) != n)
			rc = -1;
	fclose(in);
	if (fclose(out) != 0)
		rc = -1;
	return rc;
}

static int dump_table(sqlite3 *db, FILE *out, const char *table)
{
	char *sql = sqlite3_mprintf("SELECT * FROM \"%w\"", table);
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	sqlite3_free(sql);
	if (rc != SQLITE_OK)
		return -1;
	int ncol = sqlite3_column_count(st);
	sqlite3_finalize(st);
	/* Ordered by every column: rows compare whatever their rowids. */
	char order[4096] = "";
	size_t o = 0;
	for (int i = 1; i <= ncol && o + 16 < sizeof order; i++)
		o += (size_t)snprintf(order + o, sizeof order - o, "%s%d", i > 1 ? "," : "", i);
	sql = sqlite3_mprintf("SELECT * FROM \"%w\"%s ORDER BY %s", table,
			      strcmp(table, "statelog_meta") == 0 ? " WHERE key <> 'created_at'" : "",
			      order);
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	sqlite3_free(sql);
	if (rc != SQLITE_OK)
		return -1;
	fprintf(out, "== %s\n", table);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (int i = 0; i < ncol; i++) {
			const char *name = sqlite3_column_name(st, i);
			if (strcmp(table, "schema_version") == 0 && strcmp(name, "applied_at") == 0)
				continue;
			fprintf(out, "%s%s=", i ? "|" : "", name);
			switch (sqlite3_column_type(st, i)) {
			case SQLITE_NULL: fputs("NULL", out); break;
			case SQLITE_INTEGER:
				fprintf(out, "i:%lld", (long long)sqlite3_column_int64(st, i));
				break;
			case SQLITE_FLOAT: fprintf(out, "r:%.17g", sqlite3_column_double(st, i)); break;
			case SQLITE_BLOB: {
				const uint8_t *b = sqlite3_column_blob(st, i);
				int n = sqlite3_column_bytes(st, i);
				fputs("x:", out);
				for (int k = 0; k < n; k++)
					fprintf(out, "%02x", b[k]);
				break;
			}
			default:
				fputs("t:", out);
				fwrite(sqlite3_column_text(st, i), 1, (size_t)sqlite3_column_bytes(st, i), out);
				break;
			}
		}
		fputc('\n', out);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

char *camp_dump(const char *db_path, char *err, size_t errlen)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	char *text = NULL;
	size_t len = 0;
	FILE *out = NULL;
	char **tables = NULL;
	size_t nt = 0;
	int ok = 0;
	if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", db_path, db ? sqlite3_errmsg(db) : "cannot open");
		goto done;
	}
	sqlite3_busy_timeout(db, 10000);
	out = open_memstream(&text, &len);
	if (sqlite3_prepare_v2(db,
			       "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name",
			       -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", db_path, sqlite3_errmsg(db));
		goto done;
	}
	fputs("== schema\n", out);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *type = (const char *)sqlite3_column_text(st, 0);
		const char *name = (const char *)sqlite3_column_text(st, 1);
		const char *sql = (const char *)sqlite3_column_text(st, 3);
		fprintf(out, "%s %s %s\n", type, name, sql ? sql : "-");
		if (strcmp(type, "table") == 0) {
			tables = realloc(tables, (nt + 1) * sizeof *tables);
			tables[nt++] = strdup(name);
		}
	}
	if (rc != SQLITE_DONE) {
		snprintf(err, errlen, "%s: reading the schema: %s", db_path, sqlite3_errmsg(db));
		goto done;
	}
	for (size_t i = 0; i < nt; i++)
		if (dump_table(db, out, tables[i]) != 0) {
			snprintf(err, errlen, "%s: reading table %s: %s", db_path, tables[i],
				 sqlite3_errmsg(db));
			goto done;
		}
	ok = 1;
done:
	for (size_t i = 0; i < nt; i++)
		free(tables[i]);
	free(tables);
	sqlite3_finalize(st);
	sqlite3_close(db);
	if (out)
		fclose(out);
	if (!ok) {
		free(text);
		return NULL;
	}
	return text;
}

void camp_dump_diff(const char *a, const char *b, char *msg, size_t msglen)
{
	size_t line = 1;
	const char *la = a, *lb = b;
	for (;;) {
		const char *ea = strchr(la, '\n'), *eb = strchr(lb, '\n');
		size_t na = ea ? (size_t)(ea - la) : strlen(la);
		size_t nb = eb ? (size_t)(eb - lb) : strlen(lb);
		if (na != nb || memcmp(la, lb, na) != 0) {
			snprintf(msg, msglen, "line %zu: '%.*s' vs '%.*s'", line, (int)(na > 300 ? 300 : na),
				 la, (int)(nb > 300 ? 300 : nb), lb);
			return;
		}
		if (!ea || !eb) {
			snprintf(msg, msglen, "line %zu: one dump ends", line);
			return;
		}
		la = ea + 1;
		lb = eb + 1;
		line++;
	}
}

int camp_read_events(struct camp_events *out, const char *dir, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	sl_reader *r = NULL;
	int rc = sl_reader_open(&r, dir, NULL, err, errlen);
	if (rc != SL_OK)
		return rc;
	size_t cap = 0;
	struct sl_record rec;
	while ((rc = sl_reader_next(&rec, r)) == 1) {
		if (rec.seq != out->n + 1 || !rec.data) {
			snprintf(err, errlen, "%s: seq %" PRIu64 " after %" PRIu64, dir, rec.seq, out->n);
			rc = SL_ECORRUPT;
			break;
		}
		if (out->n == cap) {
			cap = cap ? cap * 2 : 1024;
			out->data = realloc(out->data, cap * sizeof *out->data);
			out->len = realloc(out->len, cap * sizeof *out->len);
		}
		out->data[out->n] = malloc(rec.len ? rec.len : 1);
		memcpy(out->data[out->n], rec.data, rec.len);
		out->len[out->n] = rec.len;
		out->n++;
	}
	if (rc < 0)
		snprintf(err, errlen, "%s", sl_reader_errmsg(r));
	sl_reader_close(r);
	return rc < 0 ? rc : SL_OK;
}

void camp_events_free(struct camp_events *e)
{
	for (uint64_t i = 0; i < e->n; i++)
		free(e->data[i]);
	free(e->data);
	free(e->len);
	memset(e, 0, sizeof *e);
}

int camp_check_prefix(const char *dir, const struct camp_events *ref, uint64_t want, char *msg,
		      size_t msglen)
{
	sl_reader *r = NULL;
	char err[1024] = "";
	if (sl_reader_open(&r, dir, NULL, err, sizeof err) != SL_OK) {
		snprintf(msg, msglen, "reader: %s", err);
		return -1;
	}
	struct sl_record rec;
	uint64_t n = 0;
	int rc, res = -1;
	while ((rc = sl_reader_next(&rec, r)) == 1) {
		n++;
		if (rec.seq != n || !rec.data) {
			snprintf(msg, msglen, "seq %" PRIu64 " where %" PRIu64 " was due", rec.seq, n);
			goto done;
		}
		if (n > want) {
			snprintf(msg, msglen, "event %" PRIu64 " present, but only %" PRIu64
				 " could have been appended", n, want);
			goto done;
		}
		if (n > ref->n || rec.len != ref->len[n - 1] ||
		    memcmp(rec.data, ref->data[n - 1], rec.len) != 0) {
			snprintf(msg, msglen, "event %" PRIu64 " differs from the one appended", n);
			goto done;
		}
		sl_event *ev = NULL;
		if (sl_event_decode(&ev, rec.data, rec.len, rec.seq, rec.time_us) != SL_OK) {
			snprintf(msg, msglen, "event %" PRIu64 " does not decode", n);
			goto done;
		}
		sl_event_free(ev);
	}
	if (rc < 0) {
		snprintf(msg, msglen, "reading: %s", sl_reader_errmsg(r));
		goto done;
	}
	if (n != want) {
		snprintf(msg, msglen, "%" PRIu64 " events, %" PRIu64 " expected", n, want);
		goto done;
	}
	res = 0;
done:
	sl_reader_close(r);
	return res;
}
