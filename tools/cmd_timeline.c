/* cmd_timeline.c: `statelog timeline [JOB] --html FILE`, a job's timeline
 * as one self-contained web page, or, without JOB, a page of the whole
 * fleet with a timeline page for each job.
 *
 * The page is tools/timeline/timeline.html with its CSS and script put in
 * place of its markers, and the data between them as JSON: nothing is
 * fetched, so the file works offline and can be mailed.  The data of a job
 * is its audit (history.h) in a compact form: for each event its sequence
 * number, time, type, sheet, life, story line (cli_audit_story(), the same
 * line `statelog audit` prints), the fields of its body (long text cut),
 * and the columns it changed with their new values.  The page replays the
 * changes in order, which gives the job as of any event: exactly what
 * `statelog show JOB --seq SEQ --json` prints (tests/tools/timeline_test.sh
 * checks that).  The keys are listed at the top of timeline.js.
 *
 * Files are written as "<file>.tmp" and renamed, so a reader never sees
 * half a page.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>
#include <sqlite3.h>

#include "history.h"
#include "backend.h"
#include "audit_json.h"
#include "cli.h"
#include "event_json_internal.h"
#include "timefmt.h"

#ifndef SL_VERSION
#define SL_VERSION "unknown"
#endif

/* tools/timeline/, embedded at build time (tools/timeline/meson.build). */
extern const char sl_timeline_html[], sl_timeline_css[], sl_timeline_js[];

static const char timeline_help[] =
	"usage: statelog timeline [JOB] --html FILE [--log DIR] [--db PATH] [--quiet]\n\n"
	"Writes a job's timeline as one web page, FILE, that needs no network: a\n"
	"lane per sheet with each attempt as a bar from its start to its end,\n"
	"coloured by outcome; failures with their category and message; execution\n"
	"records with exit code and duration; the job's own events as marks; a\n"
	"slider that shows the job as of any event (as 'statelog show JOB --seq SEQ');\n"
	"and the audit below, filterable.\n"
	"Without JOB, FILE is a page of every job (status, progress of its sheets,\n"
	"recent activity), and each job's page is written into the folder beside\n"
	"it, FILE without .html and with .jobs (fleet.html: fleet.jobs/), linked\n"
	"from it.  Deleted jobs are listed too: their history stays.\n"
	"  --html FILE   the page to write (replaced whole)\n"
	"  --quiet       do not say what was written (errors only)\n"
	"Exit codes: 0 written; 1 a file cannot be written, or another failure;\n"
	"2 usage; 3 damage found in the log; 4 no such job, or no such log.\n";

/* Longest text of an event's body carried into the page. */
#define INFO_TEXT_MAX 240
/* Events listed as the fleet's recent activity. */
#define FLEET_RECENT 100

/* ---- writing a page ---------------------------------------------------------- */

/* Writes len bytes of s; false on an error (errno set). */
static bool put(FILE *f, const char *s, size_t len)
{
	return fwrite(s, 1, len, f) == len;
}

/* The data as JSON that can sit inside a <script> element: '<' only
 * occurs inside strings, where \u003c means the same, so "</script>" and
 * "<!--" cannot end or change the element. */
static bool put_data(FILE *f, const char *json)
{
	for (const char *s = json; *s;) {
		size_t n = strcspn(s, "<");
		if (!put(f, s, n))
			return false;
		s += n;
		if (*s == '<') {
			if (!put(f, "\\u003c", 6))
				return false;
			s++;
		}
	}
	return true;
}

/* The template with its three markers replaced. */
static bool put_page(FILE *f, const char *json)
{
	static const char *const marks[] = { "<!--sl:style-->", "<!--sl:data-->", "<!--sl:script-->" };
	const char *t = sl_timeline_html;
	for (size_t i = 0; i < 3; i++) {
		const char *m = strstr(t, marks[i]);
		if (!m || !put(f, t, (size_t)(m - t)))
			return false;
		bool ok;
		switch (i) {
		case 0:
			ok = fputs("<style>\n", f) >= 0 && fputs(sl_timeline_css, f) >= 0 &&
			     fputs("</style>", f) >= 0;
			break;
		case 1:
			ok = fputs("<script type=\"application/json\" id=\"sl-data\">", f) >= 0 &&
			     put_data(f, json) && fputs("</script>", f) >= 0;
			break;
		default:
			ok = fputs("<script>\n", f) >= 0 && fputs(sl_timeline_js, f) >= 0 &&
			     fputs("</script>", f) >= 0;
			break;
		}
		if (!ok)
			return false;
		t = m + strlen(marks[i]);
	}
	return fputs(t, f) >= 0;
}

/* Writes the page of `data` at path, through "<path>.tmp" and a rename.
 * *bytes gets its size.  SL_EIO (message in err) or SL_ENOMEM. */
static int write_page(const char *path, const json_t *data, uint64_t *bytes, char *err,
		      size_t errlen)
{
	char *json = sl_json_dumps(data), *tmp = NULL;
	FILE *f = NULL;
	int rc = SL_ENOMEM;
	if (!json || asprintf(&tmp, "%s.tmp", path) < 0) {
		tmp = NULL;
		snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	rc = SL_EIO;
	if (!(f = fopen(tmp, "w"))) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	bool ok = put_page(f, json);
	long size = ok ? ftell(f) : -1;
	int e = errno;
	if (fclose(f) != 0 && ok) {
		ok = false;
		e = errno;
	}
	f = NULL;
	if (!ok) {
		snprintf(err, errlen, "%s: writing: %s", tmp, strerror(e));
		remove(tmp);
		goto out;
	}
	if (rename(tmp, path) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		remove(tmp);
		goto out;
	}
	*bytes = size > 0 ? (uint64_t)size : 0;
	rc = SL_OK;
out:
	if (f)
		fclose(f);
	free(tmp);
	free(json);
	return rc;
}

/* ---- a job's data --------------------------------------------------------------- */

struct job_walk {
	json_t *events;
	uint32_t life;
	int64_t max_sheet;
};

/* Cuts every string of v (an object or array, changed in place) to
 * INFO_TEXT_MAX characters. */
static void cut_strings(json_t *v)
{
	size_t i;
	const char *k;
	json_t *x;
	if (json_is_object(v)) {
		json_object_foreach(v, k, x) {
			if (json_is_string(x) && json_string_length(x) > INFO_TEXT_MAX) {
				char buf[INFO_TEXT_MAX + 8];
				const char *s = json_string_value(x);
				size_t n = INFO_TEXT_MAX;
				while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
					n--;    /* not inside a character */
				snprintf(buf, sizeof buf, "%.*s...", (int)n, s);
				json_object_set_new(v, k, json_string(buf));
			} else {
				cut_strings(x);
			}
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, x)
			cut_strings(x);
	}
}

/* [sheet, column index (-1: the job's presence), value]. */
static json_t *change_json(const struct sl_audit_change *c)
{
	long col = -1;
	if (c->column)
		col = c->sheet ? (long)(c->column - sl_state_sheet_columns)
			       : (long)(c->column - sl_state_job_columns);
	json_t *v = sl_audit_value_json(c->column, c->after_absent, &c->after);
	return v ? json_pack("[I,i,o]", (json_int_t)c->sheet, (int)col, v) : NULL;
}

static int add_event(void *ctx, const struct sl_audit_entry *e)
{
	struct job_walk *w = ctx;
	char *story = NULL;
	json_t *d = NULL, *ch = NULL, *rs = NULL, *ev = NULL;
	int rc = cli_audit_story(e, w->life, &story);
	w->life = e->life;
	if (rc != SL_OK)
		return rc;
	rc = SL_ENOMEM;
	if (!(d = json_object()) || !(ch = json_array()) || !(rs = json_array()))
		goto out;
	json_object_set_new(d, "seq", json_integer((json_int_t)e->seq));
	json_object_set_new(d, "t", json_integer(e->time_us));
	json_object_set_new(d, "type", json_string(e->type));
	json_object_set_new(d, "sheet", json_integer(e->sheet));
	json_object_set_new(d, "life", json_integer(e->life));
	if (e->refused)
		json_object_set_new(d, "refused", json_true());
	if (story)
		json_object_set_new(d, "story", json_string(story));
	Statelog__Event__BodyCase k = e->event->body_case;
	if (k != STATELOG__EVENT__BODY_JOB_FIELDS_SET && k != STATELOG__EVENT__BODY_SHEET_FIELDS_SET) {
		/* A save's body is its changes; other bodies say more (a reason,
		 * a failure's message, an execution's record). */
		if ((rc = sl_event_to_json(e->event, &ev)) != SL_OK)
			goto out;
		json_t *body = json_object_get(ev, "body");
		if (body && json_object_size(body)) {
			cut_strings(body);
			json_object_set(d, "info", body);
		}
		rc = SL_ENOMEM;
	}
	for (size_t i = 0; i < e->n_changes; i++) {
		const struct sl_audit_change *c = &e->changes[i];
		/* A new row starts all NULL in the page: only its values are sent. */
		if (c->before_absent && c->column && c->after.null)
			continue;
		json_t *x = change_json(c);
		if (!x || json_array_append_new(c->restamp ? rs : ch, x) != 0)
			goto out;
		if (c->sheet > w->max_sheet)
			w->max_sheet = c->sheet;
	}
	if (json_array_size(ch))
		json_object_set(d, "ch", ch);
	if (json_array_size(rs))
		json_object_set(d, "rs", rs);
	if (json_array_append(w->events, d) != 0)
		goto out;
	rc = SL_OK;
out:
	free(story);
	json_decref(ev);
	json_decref(ch);
	json_decref(rs);
	json_decref(d);
	return rc;
}

static json_t *column_names(const struct sl_state_column *cols, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(a, json_string(cols[i].name));
	return a;
}

/* The seq and time of the log's last event, from the views' index. */
static int log_end(sl_proj *p, uint64_t *seq, int64_t *time_us, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	int rc = SL_OK;
	*seq = 0;
	*time_us = 0;
	if (sqlite3_prepare_v2(sl_proj_db(p), "SELECT seq, time FROM statelog_events "
			       "ORDER BY seq DESC LIMIT 1", -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "the views: %s", sqlite3_errmsg(sl_proj_db(p)));
		return SL_ESQLITE;
	}
	int s = sqlite3_step(st);
	if (s == SQLITE_ROW) {
		*seq = (uint64_t)sqlite3_column_int64(st, 0);
		const char *t = (const char *)sqlite3_column_text(st, 1);
		if (!t || sl_time_parse(time_us, t) != SL_OK)
			*time_us = 0;
	} else if (s != SQLITE_DONE) {
		snprintf(err, errlen, "the views: %s", sqlite3_errmsg(sl_proj_db(p)));
		rc = SL_ESQLITE;
	}
	sqlite3_finalize(st);
	return rc;
}

static json_t *now_json(void)
{
	char t[SL_TIME_BUFSZ];
	return sl_time_format(sl_time_now_us(), t, sizeof t) == SL_OK ? json_string(t) : json_null();
}

/* The data of job's page; fleet: the link back to the fleet page, or NULL.
 * *n_events gets the count.  On failure the message is in err. */
static int job_data(sl_proj *p, const char *job, const char *fleet, json_t **out,
		    size_t *n_events, char *err, size_t errlen)
{
	struct job_walk w = { .events = json_array() };
	json_t *d = json_object();
	uint64_t last_seq;
	int64_t last_us;
	int rc = SL_ENOMEM;
	if (!w.events || !d) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if ((rc = log_end(p, &last_seq, &last_us, err, errlen)) != SL_OK)
		goto out;
	if ((rc = sl_audit_run(p, job, NULL, add_event, &w)) != SL_OK) {
		snprintf(err, errlen, "%s", sl_proj_errmsg(p)[0] ? sl_proj_errmsg(p) : sl_strerror(rc));
		goto out;
	}
	json_object_set_new(d, "kind", json_string("job"));
	json_object_set_new(d, "job", json_string(job));
	json_object_set_new(d, "generated", now_json());
	json_object_set_new(d, "version", json_string(SL_VERSION));
	json_object_set_new(d, "log_last_seq", json_integer((json_int_t)last_seq));
	json_object_set_new(d, "log_last_t", json_integer(last_us));
	json_object_set_new(d, "fleet", fleet ? json_string(fleet) : json_null());
	json_object_set_new(d, "job_columns",
			    column_names(sl_state_job_columns, SL_STATE_N_JOB_COLUMNS));
	json_object_set_new(d, "sheet_columns",
			    column_names(sl_state_sheet_columns, SL_STATE_N_SHEET_COLUMNS));
	*n_events = json_array_size(w.events);
	json_object_set(d, "events", w.events);
	*out = d;
	d = NULL;
	rc = SL_OK;
out:
	json_decref(w.events);
	json_decref(d);
	return rc;
}

/* ---- the fleet ------------------------------------------------------------------- */

/* The file name of a job's page: the id with every byte but [A-Za-z0-9_-]
 * and an inner '.' written %XX, then ".html"; `href` the same with '%'
 * written %25, as a link must.  Owned (free()). */
static int job_file_name(const char *id, char **name, char **href)
{
	size_t n = strlen(id);
	char *a = malloc(3 * n + 6), *b = malloc(5 * n + 6);
	if (!a || !b) {
		free(a);
		free(b);
		return SL_ENOMEM;
	}
	size_t i = 0, k = 0;
	for (const unsigned char *s = (const unsigned char *)id; *s; s++) {
		bool plain = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
			     (*s >= '0' && *s <= '9') || *s == '_' || *s == '-' ||
			     (*s == '.' && s != (const unsigned char *)id);
		if (plain) {
			a[i++] = (char)*s;
			b[k++] = (char)*s;
		} else {
			i += (size_t)sprintf(a + i, "%%%02X", *s);
			k += (size_t)sprintf(b + k, "%%25%02X", *s);
		}
	}
	strcpy(a + i, ".html");
	strcpy(b + k, ".html");
	*name = a;
	*href = b;
	return SL_OK;
}

/* The folder of the job pages beside the fleet page: "x.html" -> "x.jobs". */
static char *jobs_dir_of(const char *path)
{
	size_t n = strlen(path);
	if (n > 5 && strcmp(path + n - 5, ".html") == 0)
		n -= 5;
	char *d = NULL;
	if (asprintf(&d, "%.*s.jobs", (int)n, path) < 0)
		return NULL;
	return d;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

static json_t *col_text(sqlite3_stmt *st, int i)
{
	const char *s = (const char *)sqlite3_column_text(st, i);
	return s ? json_string(s) : json_null();
}

/* Fills `jobs` (id -> object) from the views: every job that has events,
 * the live ones with their row and the count of their sheets by status. */
static int fleet_jobs(sl_proj *p, json_t *jobs, char *err, size_t errlen)
{
	static const char *const sql[] = {
		"SELECT job_id, COUNT(*), MAX(seq), MAX(time) FROM statelog_events "
		"WHERE job_id IS NOT NULL GROUP BY job_id",
		"SELECT id, name, status, total_sheets, last_completed_sheet, current_sheet, "
		"updated_at, completed_at, error_message FROM jobs",
		"SELECT job_id, status, COUNT(*) FROM sheets GROUP BY job_id, status",
	};
	sqlite3 *db = sl_proj_db(p);
	sqlite3_stmt *st = NULL;
	int rc = SL_OK, s = SQLITE_DONE;
	for (size_t q = 0; rc == SL_OK && q < 3; q++) {
		if (sqlite3_prepare_v2(db, sql[q], -1, &st, NULL) != SQLITE_OK) {
			s = SQLITE_ERROR;
			break;
		}
		while ((s = sqlite3_step(st)) == SQLITE_ROW) {
			const char *id = (const char *)sqlite3_column_text(st, 0);
			json_t *j = id ? json_object_get(jobs, id) : NULL;
			if (q == 0 && id) {
				j = json_pack("{s:s,s:b,s:I,s:I,s:o,s:o}", "id", id, "deleted", 1,
					      "events", (json_int_t)sqlite3_column_int64(st, 1),
					      "last_seq", (json_int_t)sqlite3_column_int64(st, 2),
					      "last_time", col_text(st, 3), "counts", json_object());
				if (!j || json_object_set_new(jobs, id, j) != 0) {
					rc = SL_ENOMEM;
					break;
				}
			} else if (q == 1 && j) {
				json_object_set_new(j, "deleted", json_false());
				json_object_set_new(j, "name", col_text(st, 1));
				json_object_set_new(j, "status", col_text(st, 2));
				json_object_set_new(j, "total_sheets", json_integer(sqlite3_column_int64(st, 3)));
				json_object_set_new(j, "last_completed_sheet",
						    json_integer(sqlite3_column_int64(st, 4)));
				json_object_set_new(j, "current_sheet",
						    sqlite3_column_type(st, 5) == SQLITE_NULL ? json_null()
						    : json_integer(sqlite3_column_int64(st, 5)));
				json_object_set_new(j, "updated_at", col_text(st, 6));
				json_object_set_new(j, "completed_at", col_text(st, 7));
				json_object_set_new(j, "error_message", col_text(st, 8));
			} else if (q == 2 && j) {
				const char *status = (const char *)sqlite3_column_text(st, 1);
				json_object_set_new(json_object_get(j, "counts"), status ? status : "?",
						    json_integer(sqlite3_column_int64(st, 2)));
			}
		}
		if (rc == SL_OK && s != SQLITE_DONE)
			break;
		sqlite3_finalize(st);
		st = NULL;
	}
	if (rc == SL_OK && s != SQLITE_DONE) {
		snprintf(err, errlen, "%s: %s", "the views", sqlite3_errmsg(db));
		rc = SL_ESQLITE;
	} else if (rc == SL_ENOMEM) {
		snprintf(err, errlen, "out of memory");
	}
	sqlite3_finalize(st);
	return rc;
}

static int fleet_recent(sl_proj *p, json_t *recent, char *err, size_t errlen)
{
	sqlite3 *db = sl_proj_db(p);
	sqlite3_stmt *st = NULL;
	int rc = SL_OK, s;
	if (sqlite3_prepare_v2(db, "SELECT seq, time, job_id, sheet_num, type FROM statelog_events "
			       "ORDER BY seq DESC LIMIT ?", -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "the views: %s", sqlite3_errmsg(db));
		return SL_ESQLITE;
	}
	sqlite3_bind_int(st, 1, FLEET_RECENT);
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *x = json_pack("{s:I,s:o,s:o,s:I,s:o}",
				      "seq", (json_int_t)sqlite3_column_int64(st, 0),
				      "time", col_text(st, 1), "job", col_text(st, 2),
				      "sheet", (json_int_t)sqlite3_column_int64(st, 3),
				      "type", col_text(st, 4));
		if (!x || json_array_append_new(recent, x) != 0) {
			snprintf(err, errlen, "out of memory");
			rc = SL_ENOMEM;
			break;
		}
	}
	if (rc == SL_OK && s != SQLITE_DONE) {
		snprintf(err, errlen, "the views: %s", sqlite3_errmsg(db));
		rc = SL_ESQLITE;
	}
	sqlite3_finalize(st);
	return rc;
}

/* Writes every job's page into the folder beside path, then the fleet page. */
static int write_fleet(sl_proj *p, const char *path, char *err, size_t errlen, bool quiet)
{
	json_t *jobs = json_object(), *recent = json_array(), *list = json_array(), *d = NULL;
	char *dir = jobs_dir_of(path), *fleet_href = NULL;
	int rc = SL_ENOMEM;
	uint64_t total = 0, bytes = 0;
	if (!jobs || !recent || !list || !dir ||
	    asprintf(&fleet_href, "../%s", base_name(path)) < 0) {
		fleet_href = NULL;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if ((rc = fleet_jobs(p, jobs, err, errlen)) != SL_OK ||
	    (rc = fleet_recent(p, recent, err, errlen)) != SL_OK)
		goto out;
	if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		rc = SL_EIO;
		goto out;
	}
	const char *id;
	json_t *j;
	size_t done = 0, n_jobs = json_object_size(jobs);
	json_object_foreach(jobs, id, j) {
		char *name = NULL, *href = NULL, *file = NULL;
		json_t *jd = NULL;
		size_t n_ev = 0;
		if ((rc = job_file_name(id, &name, &href)) != SL_OK ||
		    asprintf(&file, "%s/%s", dir, name) < 0) {
			file = NULL;
			rc = SL_ENOMEM;
			snprintf(err, errlen, "out of memory");
		}
		if (rc == SL_OK && (rc = job_data(p, id, fleet_href, &jd, &n_ev, err, errlen)) == SL_OK)
			rc = write_page(file, jd, &bytes, err, errlen);
		if (rc == SL_OK) {
			char *link = NULL;
			if (asprintf(&link, "%s/%s", base_name(dir), href) >= 0) {
				json_object_set_new(j, "href", json_string(link));
				free(link);
			}
			total += bytes;
			json_array_append(list, j);
		}
		json_decref(jd);
		free(file);
		free(name);
		free(href);
		if (rc != SL_OK)
			goto out;
		cli_progress_count("timeline", ++done, n_jobs);
	}
	cli_progress_done();
	rc = SL_ENOMEM;
	if (!(d = json_pack("{s:s,s:o,s:s,s:O,s:O}", "kind", "fleet", "generated", now_json(),
			    "version", SL_VERSION, "jobs", list, "recent", recent))) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if ((rc = write_page(path, d, &bytes, err, errlen)) != SL_OK)
		goto out;
	if (!quiet)
		printf("wrote %s (%zu jobs: %.1f KB) and their timelines in %s/ (%.1f MB)\n", path,
		       json_array_size(list), (double)bytes / 1e3, dir, (double)total / 1e6);
out:
	json_decref(d);
	json_decref(jobs);
	json_decref(recent);
	json_decref(list);
	free(dir);
	free(fleet_href);
	return rc;
}

/* ---- the command ------------------------------------------------------------------ */

int cli_timeline_write_job(struct sl_proj *p, const char *job, const char *path,
			   uint64_t *bytes, char *err, size_t errlen)
{
	json_t *d = NULL;
	size_t n = 0;
	int rc = job_data(p, job, NULL, &d, &n, err, errlen);
	if (rc == SL_OK)
		rc = write_page(path, d, bytes, err, errlen);
	json_decref(d);
	return rc;
}

int cmd_timeline(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "html", required_argument, NULL, 'o' },
		{ "log", required_argument, NULL, 'l' },
		{ "db", required_argument, NULL, 'D' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *log = NULL, *db = NULL, *html = NULL;
	bool quiet = false;
	int c;
	optind = 0;
	while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
		switch (c) {
		case 'q': quiet = true; break;
		case 'o': html = optarg; break;
		case 'l': log = optarg; break;
		case 'D': db = optarg; break;
		case 'h': fputs(timeline_help, stdout); return SL_EXIT_OK;
		default: return cli_usage(timeline_help);
		}
	}
	if (!html || !*html) {
		cli_err("timeline", "missing --html FILE; see 'statelog timeline --help'");
		return SL_EXIT_USAGE;
	}
	if (optind + 1 < argc) {
		cli_err("timeline", "unexpected argument '%s'", argv[optind + 1]);
		return SL_EXIT_USAGE;
	}
	const char *job = optind < argc ? argv[optind] : NULL;
	/* The page, and the folder of job pages the fleet page has beside it. */
	char *jobs = job ? NULL : jobs_dir_of(html);
	int ex = cli_refuse_in_log("timeline", cli_log_dir(log), html, "--html");
	if (ex == SL_EXIT_OK && jobs)
		ex = cli_refuse_in_log("timeline", cli_log_dir(log), jobs, "--html (its job pages)");
	free(jobs);
	if (ex != SL_EXIT_OK)
		return ex;
	sl_proj *p = NULL;
	ex = cli_open_views("timeline", log, db, &p);
	if (ex != SL_EXIT_OK)
		return ex;
	char err[1024] = "";
	uint64_t bytes = 0;
	int rc = sl_proj_catch_up(p, NULL);
	if (rc != SL_OK && rc != SL_EUNKNOWN)
		snprintf(err, sizeof err, "%s", sl_proj_errmsg(p));
	else if (job && (rc = cli_timeline_write_job(p, job, html, &bytes, err, sizeof err)) == SL_OK) {
		if (!quiet)
			printf("wrote %s (%.1f KB)\n", html, (double)bytes / 1e3);
	} else if (!job) {
		rc = write_fleet(p, html, err, sizeof err, quiet);
	}
	if (rc != SL_OK && rc != SL_EUNKNOWN) {
		ex = cli_fail("timeline", rc, err);
	}
	sl_proj_close(p);
	return ex;
}
