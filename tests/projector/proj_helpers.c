/* proj_helpers.c: fixtures of the projector's view tests (proj_helpers.h). */
#include "proj_helpers.h"

#include <criterion/criterion.h>

#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "event_internal.h"
#include "workload.h"

char *ph_tmpdir(void)
{
	const char *t = getenv("TMPDIR");
	char *p;
	cr_assert_gt(asprintf(&p, "%s/sl-proj-test-XXXXXX", t && *t ? t : "/tmp"), 0);
	cr_assert_not_null(mkdtemp(p), "mkdtemp %s", p);
	return p;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void ph_rmrf(char *path)
{
	if (!path)
		return;
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(path);
}

char *ph_path(const char *dir, const char *name)
{
	char *p;
	cr_assert_gt(asprintf(&p, "%s/%s", dir, name), 0);
	return p;
}

sl_log *ph_log(const char *dir)
{
	struct sl_log_options o;
	sl_log_options_init(&o);
	o.create = true;
	o.durability = SL_DURABLE_NONE;
	sl_log *log = NULL;
	char err[1024] = "";
	int rc = sl_log_open(&log, dir, &o, NULL, err, sizeof err);
	cr_assert_eq(rc, SL_OK, "sl_log_open(%s): %s", dir, err);
	return log;
}

void ph_append(sl_log *log, sl_event *ev, int64_t t)
{
	ev->has_time_us = 1;
	ev->time_us = t;
	int rc = sl_log_append(log, &ev, 1, NULL);
	cr_assert_eq(rc, SL_OK, "append %s at %" PRId64 ": %s", sl_event_type_name(ev), t,
		     sl_log_errmsg(log));
	sl_event_free(ev);
}

struct sl_workload *ph_workload(uint64_t events, uint64_t seed)
{
	struct sl_workload_options wo;
	sl_workload_options_init(&wo);
	wo.events = events;
	wo.seed = seed;
	sl_workload *w;
	cr_assert_eq(sl_workload_new(&w, &wo), SL_OK, "workload of %" PRIu64 " events", events);
	return w;
}

uint64_t ph_append_from(sl_log *log, struct sl_workload *w, uint64_t n)
{
	uint64_t k = 0;
	sl_event *ev;
	while (k < n && sl_workload_next(w, &ev) == 1) {
		ev->has_time_us = 1;
		ev->time_us = sl_workload_time_us(w);
		int rc = sl_log_append(log, &ev, 1, NULL);
		cr_assert_eq(rc, SL_OK, "append workload event: %s", sl_log_errmsg(log));
		k++;
	}
	return k;
}

void ph_append_workload(sl_log *log, uint64_t events, uint64_t seed)
{
	sl_workload *w = ph_workload(events, seed);
	ph_append_from(log, w, events);
	sl_workload_free(w);
}

/* ---- events -------------------------------------------------------------- */

static char *xs(const char *s)
{
	return s ? strdup(s) : NULL;
}

static sl_event *wrap(const char *job, Statelog__Event__BodyCase c, ProtobufCMessage *body)
{
	sl_event *ev = malloc(sizeof *ev);
	statelog__event__init(ev);
	ev->job_id = xs(job);
	ev->body_case = c;
	memcpy(&ev->job_created, &body, sizeof body);  /* every body shares the union */
	return ev;
}

static ProtobufCMessage *body_of(Statelog__Event__BodyCase c)
{
	const ProtobufCFieldDescriptor *f =
		protobuf_c_message_descriptor_get_field(&statelog__event__descriptor, (unsigned)c);
	cr_assert_not_null(f, "no body %d", (int)c);
	const ProtobufCMessageDescriptor *d = f->descriptor;
	ProtobufCMessage *m = calloc(1, d->sizeof_message);
	d->message_init(m);
	return m;
}

sl_event *ph_created(const char *job, const char *name, int64_t total_sheets)
{
	Statelog__JobCreated *m = (Statelog__JobCreated *)body_of(STATELOG__EVENT__BODY_JOB_CREATED);
	m->name = xs(name);
	m->has_total_sheets = 1;
	m->total_sheets = total_sheets;
	m->config_hash = xs("cafe01");
	m->config_snapshot = xs("{\"retries\": 3, \"rules\": [\"a\", \"b\"], \"nested\": {\"x\": 1.5}}");
	m->config_path = xs("/etc/jobs/é.yaml");
	return wrap(job, STATELOG__EVENT__BODY_JOB_CREATED, &m->base);
}

sl_event *ph_sheet(const char *job, Statelog__Event__BodyCase type, int64_t sheet)
{
	ProtobufCMessage *m = body_of(type);
	sl_event *ev = wrap(job, type, m);
	switch (type) {
	case STATELOG__EVENT__BODY_SHEET_STARTED:
		ev->sheet_started->has_sheet_num = 1;
		ev->sheet_started->sheet_num = sheet;
		break;
	case STATELOG__EVENT__BODY_SHEET_COMPLETED:
		ev->sheet_completed->has_sheet_num = 1;
		ev->sheet_completed->sheet_num = sheet;
		break;
	case STATELOG__EVENT__BODY_SHEET_FAILED:
		ev->sheet_failed->has_sheet_num = 1;
		ev->sheet_failed->sheet_num = sheet;
		break;
	case STATELOG__EVENT__BODY_SHEET_SKIPPED:
		ev->sheet_skipped->has_sheet_num = 1;
		ev->sheet_skipped->sheet_num = sheet;
		break;
	case STATELOG__EVENT__BODY_SHEET_FIELDS_SET:
		ev->sheet_fields_set->has_sheet_num = 1;
		ev->sheet_fields_set->sheet_num = sheet;
		break;
	default:
		cr_assert_fail("ph_sheet: %d is not a sheet event", (int)type);
	}
	return ev;
}

sl_event *ph_job(const char *job, Statelog__Event__BodyCase type)
{
	return wrap(job, type, body_of(type));
}

sl_event *ph_exec(const char *job, int64_t id, int64_t sheet, int64_t attempt,
		  const char *prompt, const char *output)
{
	sl_event *ev = ph_job(job, STATELOG__EVENT__BODY_EXECUTION_RECORDED);
	Statelog__ExecutionRecorded *x = ev->execution_recorded;
	x->has_execution_id = id > 0;
	x->execution_id = id;
	x->has_sheet_num = 1;
	x->sheet_num = sheet;
	x->has_attempt_num = 1;
	x->attempt_num = attempt;
	x->prompt = xs(prompt);
	x->output = xs(output);
	x->has_exit_code = 1;
	x->exit_code = 0;
	x->has_duration_seconds = 1;
	x->duration_seconds = 12.25;
	return ev;
}

sl_event *ph_unknown(const char *job)
{
	sl_event *ev = malloc(sizeof *ev);
	statelog__event__init(ev);
	ev->job_id = xs(job);
	/* Field 60, length-delimited, 3 bytes: a body of a newer schema. */
	ProtobufCMessageUnknownField *u = calloc(1, sizeof *u);
	u->tag = 60;
	u->wire_type = PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED;
	u->len = 4;
	u->data = malloc(4);
	memcpy(u->data, "\x03" "abc", 4);
	ev->base.n_unknown_fields = 1;
	ev->base.unknown_fields = u;
	return ev;
}

/* ---- databases ----------------------------------------------------------- */

static void dump_table(sqlite3 *db, FILE *out, const char *table, const char *order,
		       const char *skip_col, const char *skip_where)
{
	char sql[512];
	snprintf(sql, sizeof sql, "SELECT * FROM %s%s%s ORDER BY %s", table,
		 skip_where ? " WHERE " : "", skip_where ? skip_where : "", order);
	sqlite3_stmt *st;
	cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s: %s", sql,
		     sqlite3_errmsg(db));
	fprintf(out, "== %s\n", table);
	while (sqlite3_step(st) == SQLITE_ROW) {
		for (int i = 0; i < sqlite3_column_count(st); i++) {
			const char *name = sqlite3_column_name(st, i);
			if (skip_col && strcmp(name, skip_col) == 0)
				continue;
			fprintf(out, "%s%s=", i ? "|" : "", name);
			switch (sqlite3_column_type(st, i)) {
			case SQLITE_NULL: fputs("NULL", out); break;
			case SQLITE_INTEGER:
				fprintf(out, "i:%lld", (long long)sqlite3_column_int64(st, i));
				break;
			case SQLITE_FLOAT: fprintf(out, "r:%.17g", sqlite3_column_double(st, i)); break;
			default: fprintf(out, "t:%s", (const char *)sqlite3_column_text(st, i)); break;
			}
		}
		fputc('\n', out);
	}
	sqlite3_finalize(st);
}

char *ph_dump(const char *db_path)
{
	sqlite3 *db;
	cr_assert_eq(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK,
		     "open %s", db_path);
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	dump_table(db, out, "jobs", "id", NULL, NULL);
	dump_table(db, out, "sheets", "job_id, sheet_num", NULL, NULL);
	dump_table(db, out, "execution_history", "id", NULL, NULL);
	dump_table(db, out, "statelog_events", "seq", NULL, NULL);
	dump_table(db, out, "sqlite_sequence", "name", NULL, NULL);
	dump_table(db, out, "schema_version", "version", "applied_at", NULL);
	dump_table(db, out, "statelog_meta", "key", NULL, "key NOT IN ('created_at', 'as_of_seq')");
	fclose(out);
	sqlite3_close(db);
	return text;
}

void ph_project(const char *log_dir, const char *db, uint32_t batch, struct sl_proj_stats *st)
{
	struct sl_proj_options o;
	sl_proj_options_init(&o);
	if (batch)
		o.batch_events = batch;
	sl_proj *p = NULL;
	char err[1024] = "";
	int rc = sl_proj_open(&p, log_dir, db, &o, NULL, err, sizeof err);
	cr_assert_eq(rc, SL_OK, "sl_proj_open(%s, %s): %s", log_dir, db, err);
	struct sl_proj_stats local;
	rc = sl_proj_catch_up(p, st ? st : &local);
	cr_assert_eq(rc, SL_OK, "catch-up of %s into %s: %s", log_dir, db, sl_proj_errmsg(p));
	sl_proj_close(p);
}

char *ph_query(const char *db_path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	cr_assert_eq(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s: %s", sql,
		     sqlite3_errmsg(db));
	char *v = NULL;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		v = strdup((const char *)sqlite3_column_text(st, 0));
	else
		v = strdup("NULL");
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}
