/* cmd_audit.c: `statelog audit JOB`, how a job evolved (history.h).
 *
 * Three forms of the one walk of the job's events (sl_audit_run()):
 *   - the story (the default): one line per event a person cares about
 *     (status changes, attempts and their outcome, execution records,
 *     failures with their message, pauses, resumes, zombie recoveries,
 *     deletes and creations), written by cli_audit_story();
 *   - --full: every event and every column it changed, before -> after;
 *   - --json: one JSON object per event, one per line (keys in statelog(1)).
 * A save that only re-stamps a time (history.h, SL_AUDIT_RESTAMP_US) is
 * not shown as a change in any form; --json lists it apart ("restamped").
 * The story and the JSON values are shared with `statelog timeline`
 * (cli.h), so the page and the command say the same thing.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "history.h"
#include "backend.h"
#include "cli.h"
#include "event_json_internal.h"
#include "timefmt.h"

static const char audit_help[] =
	"usage: statelog audit JOB [--full | --json] [--sheet N] [--from SEQ] [--to SEQ]\n"
	"                      [--since TIME] [--until TIME] [--log DIR] [--db PATH]\n\n"
	"Tells how a job evolved.  By default, its story: one line per event that\n"
	"matters (status changes, each attempt's start and outcome with its exit\n"
	"code and duration, execution records, failures with their message,\n"
	"pauses, resumes, zombie recoveries, deletes), with its sequence number,\n"
	"time (UTC) and sheet.  Deleted jobs stay auditable; a job deleted and\n"
	"created again shows each life (numbered from 1).  A save that only\n"
	"re-stamps a time (by less than a second) is not shown as a change.\n"
	"  --full          every event, and every column it changed, before -> after\n"
	"  --json          one JSON object per event, one per line: seq, time, time_us,\n"
	"                  job_id, life, type, sheet, refused, story, body, changes,\n"
	"                  restamped (see statelog(1))\n"
	"  --sheet N       only the events about sheet N\n"
	"  --from SEQ      only events from sequence number SEQ on (N or '#N')\n"
	"  --to SEQ        only events up to SEQ\n"
	"  --since TIME    only events at or after TIME (now, ISO-8601 with or without\n"
	"                  a zone (without: local time), a date, -2h, -1w, -1h30m, ...)\n"
	"  --until TIME    only events at or before TIME\n"
	"The filters choose what is shown: before-values always come from all the\n"
	"job's earlier events.\n"
	"Exit codes: 0 shown; 1 failure (I/O, the database); 2 usage; 3 damage found\n"
	"in the log; 4 no such job, a sheet the job never had, or no such log.\n";

/* Longest text value shown in the table (the JSON has them whole). */
#define SHOW_MAX 60
/* Longest message in a story line, and of a prompt or an output. */
#define STORY_MSG_MAX 120
#define STORY_TEXT_MAX 40

enum audit_form { FORM_STORY, FORM_FULL, FORM_JSON };

struct audit_out {
	enum audit_form form;
	const char *job;
	uint64_t seen, shown;
	uint32_t life;
};

/* A value for the table: NULL, a number, a time, or quoted text cut at
 * SHOW_MAX characters.  Shared with the demo (cli.h). */
void cli_audit_value(const struct sl_state_column *c, bool absent, const struct sl_value *v,
		     char *buf, size_t len)
{
	if (absent) {
		snprintf(buf, len, "(no row)");
		return;
	}
	if (v->null) {
		snprintf(buf, len, "NULL");
		return;
	}
	if (!c || c->type == SL_COL_JOB_STATUS || c->type == SL_COL_SHEET_STATUS) {
		snprintf(buf, len, "%s", v->s);
		return;
	}
	switch (c->type) {
	case SL_COL_REAL:
		if (sl_json_format_real(v->d, buf, len) != SL_OK)
			snprintf(buf, len, "%g", v->d);
		return;
	case SL_COL_BOOL:
		snprintf(buf, len, "%s", v->i ? "true" : "false");
		return;
	case SL_COL_TIME:
		if (sl_time_format(v->i, buf, len) != SL_OK)
			snprintf(buf, len, "%" PRId64 " us", v->i);
		return;
	case SL_COL_TEXT: {
		/* dump's escaper; len is at least SHOW_MAX * 4 + 40, since an
		 * escape takes up to four bytes for one. */
		char *s = sl_text_show(v->s, SHOW_MAX, SL_TEXT_QUOTED);
		snprintf(buf, len, "%s", s ? s : "(out of memory)");
		free(s);
		return;
	}
	default:
		snprintf(buf, len, "%" PRId64, v->i);
		return;
	}
}

/* ---- the story ------------------------------------------------------------ */

/* Appends s to f on one line, cut at max characters (code points), its
 * control characters escaped as dump escapes them. */
static void put_text(FILE *f, const char *s, size_t max)
{
	size_t n = 0, k = 0;
	for (; s[k] && (n < max || ((unsigned char)s[k] & 0xC0) == 0x80); k++)
		n += ((unsigned char)s[k] & 0xC0) != 0x80;
	char *cut = strndup(s, k);
	if (cut)
		sl_text_put(f, cut, 0, SL_TEXT_LINE);
	free(cut);
	if (s[k])
		fputs("...", f);
}

static void put_seconds(FILE *f, double s)
{
	char b[64];
	if (sl_json_format_real(s, b, sizeof b) != SL_OK)
		snprintf(b, sizeof b, "%g", s);
	fprintf(f, "%s s", b);
}

/* The change of column `name` of row `sheet` (0: the job), not a re-stamp;
 * NULL when the event did not change it. */
static const struct sl_audit_change *find_change(const struct sl_audit_entry *e, int64_t sheet,
						 const char *name)
{
	for (size_t i = 0; i < e->n_changes; i++) {
		const struct sl_audit_change *c = &e->changes[i];
		if (c->column && !c->restamp && c->sheet == sheet && strcmp(c->column->name, name) == 0)
			return c;
	}
	return NULL;
}

static int64_t attempt_of(const struct sl_audit_entry *e)
{
	const struct sl_sheet_state *s =
		e->after->presence == SL_JOB_LIVE ? sl_state_find_sheet(e->after, e->sheet) : NULL;
	return s ? s->attempt_count : 0;
}

/* "; job running -> paused" when the event changed the job's status, or the
 * sheet's status of a save. */
static void put_status_change(FILE *f, const struct sl_audit_entry *e, int64_t sheet,
			      const char *sep)
{
	const struct sl_audit_change *c = find_change(e, sheet, "status");
	if (!c || c->before_absent)
		return;
	fprintf(f, "%s%s %s -> %s", sep, sheet ? "sheet" : "job", c->before.s, c->after.s);
}

/* A save's story: the statuses and the messages it changed; nothing when it
 * changed neither. */
static void story_save(FILE *f, const struct sl_audit_entry *e)
{
	const char *sep = "saved: ";
	for (size_t i = 0; i < e->n_changes; i++) {
		const struct sl_audit_change *c = &e->changes[i];
		if (!c->column || c->restamp || c->before_absent)
			continue;
		bool status = strcmp(c->column->name, "status") == 0;
		bool msg = strcmp(c->column->name, "error_message") == 0;
		bool total = !c->sheet && strcmp(c->column->name, "total_sheets") == 0;
		if (!status && !msg && !total)
			continue;
		fprintf(f, "%s%s%s", sep, c->sheet ? "sheet " : "job ", c->column->name);
		if (status || total) {
			char b[64], a[64];
			cli_audit_value(c->column, false, &c->before, b, sizeof b);
			cli_audit_value(c->column, false, &c->after, a, sizeof a);
			fprintf(f, " %s -> %s", b, a);
		} else if (c->after.null) {
			fputs(" cleared", f);
		} else {
			fputs(": ", f);
			put_text(f, c->after.s, STORY_MSG_MAX);
		}
		sep = ", ";
	}
}

static void story_body(FILE *f, const struct sl_audit_entry *e, uint32_t prev_life)
{
	const sl_event *ev = e->event;
	switch (ev->body_case) {
	case STATELOG__EVENT__BODY_JOB_CREATED: {
		const Statelog__JobCreated *b = ev->job_created;
		fputs(e->life > 1 && e->life != prev_life ? "created again" : "created", f);
		if (b->name) {
			fputs(" \"", f);
			put_text(f, b->name, STORY_MSG_MAX);
			fputc('"', f);
		}
		fprintf(f, ": %" PRId64 " sheets", b->total_sheets);
		if (e->life > 1)
			fprintf(f, " (life %" PRIu32 ")", e->life);
		return;
	}
	case STATELOG__EVENT__BODY_JOB_CONFIG_CHANGED: {
		fputs("configuration changed", f);
		const char *sep = ": ";
		for (size_t i = 0; i < e->n_changes; i++) {
			const struct sl_audit_change *c = &e->changes[i];
			if (!c->column || c->sheet || strcmp(c->column->name, "updated_at") == 0)
				continue;
			char b[320], a[320];
			cli_audit_value(c->column, false, &c->before, b, sizeof b);
			cli_audit_value(c->column, false, &c->after, a, sizeof a);
			fprintf(f, "%s%s %s -> %s", sep, c->column->name, b, a);
			sep = ", ";
		}
		return;
	}
	case STATELOG__EVENT__BODY_SHEET_STARTED:
		fprintf(f, "attempt %" PRId64 " started", attempt_of(e));
		put_status_change(f, e, 0, "; ");
		return;
	case STATELOG__EVENT__BODY_SHEET_COMPLETED: {
		const Statelog__SheetCompleted *b = ev->sheet_completed;
		fprintf(f, "attempt %" PRId64 " completed", attempt_of(e));
		if (b->has_duration_seconds) {
			fputs(" in ", f);
			put_seconds(f, b->duration_seconds);
		}
		if (b->has_validation_passed && !b->validation_passed)
			fputs(", validation not passed", f);
		put_status_change(f, e, 0, "; ");
		return;
	}
	case STATELOG__EVENT__BODY_SHEET_FAILED: {
		const Statelog__SheetFailed *b = ev->sheet_failed;
		const struct sl_sheet_state *s = sl_state_find_sheet(e->after, e->sheet);
		fprintf(f, "attempt %" PRId64 " failed", attempt_of(e));
		if (s && s->error_category)
			fprintf(f, " [%s]", s->error_category);
		if (b->has_duration_seconds) {
			fputs(" after ", f);
			put_seconds(f, b->duration_seconds);
		}
		if (b->has_exit_code)
			fprintf(f, ", exit %" PRId64, b->exit_code);
		if (b->has_exit_signal)
			fprintf(f, ", signal %" PRId64, b->exit_signal);
		if (b->exit_reason)
			fprintf(f, " (%s)", b->exit_reason);
		if (s && s->error_message) {
			fputs(": ", f);
			put_text(f, s->error_message, STORY_MSG_MAX);
		}
		put_status_change(f, e, 0, "; ");
		return;
	}
	case STATELOG__EVENT__BODY_SHEET_SKIPPED:
		fputs("skipped", f);
		if (ev->sheet_skipped->reason && *ev->sheet_skipped->reason) {
			fputs(": ", f);
			put_text(f, ev->sheet_skipped->reason, STORY_MSG_MAX);
		}
		return;
	case STATELOG__EVENT__BODY_JOB_PAUSED:
	case STATELOG__EVENT__BODY_JOB_CANCELLED: {
		bool paused = ev->body_case == STATELOG__EVENT__BODY_JOB_PAUSED;
		const char *why = paused ? ev->job_paused->reason : ev->job_cancelled->reason;
		fputs(paused ? "paused" : "cancelled", f);
		put_status_change(f, e, 0, " (");
		if (find_change(e, 0, "status"))
			fputc(')', f);
		if (why && *why) {
			fputs(": ", f);
			put_text(f, why, STORY_MSG_MAX);
		}
		return;
	}
	case STATELOG__EVENT__BODY_JOB_RESUMED:
	case STATELOG__EVENT__BODY_JOB_COMPLETED:
		fputs(ev->body_case == STATELOG__EVENT__BODY_JOB_RESUMED ? "resumed" : "completed", f);
		put_status_change(f, e, 0, " (");
		if (find_change(e, 0, "status"))
			fputc(')', f);
		return;
	case STATELOG__EVENT__BODY_JOB_FAILED:
		fputs("job failed", f);
		put_status_change(f, e, 0, " (");
		if (find_change(e, 0, "status"))
			fputc(')', f);
		if (ev->job_failed->message) {
			fputs(": ", f);
			put_text(f, ev->job_failed->message, STORY_MSG_MAX);
		}
		return;
	case STATELOG__EVENT__BODY_ZOMBIE_RECOVERED: {
		const Statelog__ZombieRecovered *b = ev->zombie_recovered;
		fputs("zombie recovered", f);
		if (b->has_pid)
			fprintf(f, ": pid %" PRId64 " gone", b->pid);
		put_status_change(f, e, 0, "; ");
		return;
	}
	case STATELOG__EVENT__BODY_EXECUTION_RECORDED: {
		const Statelog__ExecutionRecorded *b = ev->execution_recorded;
		fprintf(f, "attempt %" PRId64 " recorded", b->attempt_num);
		if (b->has_execution_id)
			fprintf(f, " (record %" PRId64 ")", b->execution_id);
		if (b->has_exit_code)
			fprintf(f, ": exit %" PRId64, b->exit_code);
		else
			fputs(": no exit code", f);
		if (b->has_duration_seconds) {
			fputs(", ", f);
			put_seconds(f, b->duration_seconds);
		}
		if (b->prompt) {
			fputs(", prompt \"", f);
			put_text(f, b->prompt, STORY_TEXT_MAX);
			fputc('"', f);
		}
		if (b->output) {
			fputs(", output \"", f);
			put_text(f, b->output, STORY_TEXT_MAX);
			fputc('"', f);
		}
		return;
	}
	case STATELOG__EVENT__BODY_RATE_LIMIT_WAIT:
		fputs("rate-limit wait", f);
		if (ev->rate_limit_wait->has_wait_seconds) {
			fputs(" of ", f);
			put_seconds(f, ev->rate_limit_wait->wait_seconds);
		}
		return;
	case STATELOG__EVENT__BODY_JOB_DELETED:
		fprintf(f, "deleted (life %" PRIu32 " ends)", e->life);
		return;
	case STATELOG__EVENT__BODY_JOB_FIELDS_SET:
	case STATELOG__EVENT__BODY_SHEET_FIELDS_SET:
		story_save(f, e);
		return;
	default:
		return;                 /* pid_set: not part of the story */
	}
}

int cli_audit_story(const struct sl_audit_entry *e, uint32_t prev_life, char **out)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return SL_ENOMEM;
	if (e->refused && e->refusal && e->refusal->reason[0])
		fprintf(f, "%s refused by the rules (%s): nothing changed", e->type,
			cli_line(e->refusal->reason));
	else if (e->refused)
		fprintf(f, "%s refused by the rules: nothing changed", e->type);
	else
		story_body(f, e, prev_life);
	if (fclose(f) != 0) {
		free(buf);
		return SL_ENOMEM;
	}
	if (len == 0) {
		free(buf);
		buf = NULL;
	}
	*out = buf;
	return SL_OK;
}

/* ---- the three forms ------------------------------------------------------- */

static int print_json_entry(const struct audit_out *o, const struct sl_audit_entry *e,
			    const char *story)
{
	char *s;
	int rc = sl_audit_entry_to_json(&s, e, o->job, story);
	if (rc != SL_OK)
		return rc;
	puts(s);
	free(s);
	return SL_OK;
}

/* "2026-11-26 02:49:38.504" (UTC, milliseconds) for the story. */
static void short_time(int64_t us, char *buf, size_t len)
{
	char t[SL_TIME_BUFSZ];
	if (sl_time_format(us - us % 1000, t, sizeof t) != SL_OK) {
		snprintf(buf, len, "%" PRId64, us);
		return;
	}
	/* 2026-11-26T02:49:38.504000+00:00, or without a fraction */
	char frac[8] = ".000";
	const char *dot = strchr(t, '.');
	if (dot)
		snprintf(frac, sizeof frac, "%.4s", dot);
	snprintf(buf, len, "%.10s %.8s%s", t, t + 11, frac);
}

static void print_full_entry(const struct sl_audit_entry *e, const char *story)
{
	char t[SL_TIME_BUFSZ], sheet[32] = "";
	if (sl_time_format(e->time_us, t, sizeof t) != SL_OK)
		snprintf(t, sizeof t, "%" PRId64, e->time_us);
	if (e->sheet)
		snprintf(sheet, sizeof sheet, "  sheet %" PRId64, e->sheet);
	printf("#%-8" PRIu64 " %-32s  life %" PRIu32 "  %s%s%s%s%s%s\n", e->seq, t, e->life,
	       e->type, sheet, e->refused ? "  (refused by the rules" : "",
	       e->refused && e->refusal && e->refusal->reason[0] ? ": " : "",
	       e->refused && e->refusal ? cli_line(e->refusal->reason) : "",
	       e->refused ? "; nothing changed)" : "");
	if (story && e->event->body_case == STATELOG__EVENT__BODY_EXECUTION_RECORDED)
		printf("    %s\n", story);
	for (size_t i = 0; i < e->n_changes; i++) {
		const struct sl_audit_change *c = &e->changes[i];
		char row[32], b[320], a[320];
		if (c->restamp)
			continue;
		if (c->sheet)
			snprintf(row, sizeof row, "sheet %" PRId64, c->sheet);
		else
			snprintf(row, sizeof row, "job");
		cli_audit_value(c->column, c->before_absent, &c->before, b, sizeof b);
		cli_audit_value(c->column, c->after_absent, &c->after, a, sizeof a);
		printf("    %-10s %-27s %s -> %s\n", row, c->column ? c->column->name : "presence", b, a);
	}
}

static int print_entry(void *ctx, const struct sl_audit_entry *e)
{
	struct audit_out *o = ctx;
	char *story = NULL;
	int rc = cli_audit_story(e, o->life, &story);
	o->life = e->life;
	o->seen++;
	if (rc != SL_OK)
		return rc;
	switch (o->form) {
	case FORM_JSON:
		rc = print_json_entry(o, e, story);
		o->shown++;
		break;
	case FORM_FULL:
		print_full_entry(e, story);
		o->shown++;
		break;
	case FORM_STORY:
		if (story) {
			char t[40], sheet[32] = "job";
			short_time(e->time_us, t, sizeof t);
			if (e->sheet)
				snprintf(sheet, sizeof sheet, "sheet %" PRId64, e->sheet);
			printf("#%-8" PRIu64 " %s  %-10s %s\n", e->seq, t, sheet, story);
			o->shown++;
		}
		break;
	}
	free(story);
	return rc;
}

int cmd_audit(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "sheet", required_argument, NULL, 's' },
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "since", required_argument, NULL, 'S' },
		{ "until", required_argument, NULL, 'U' },
		{ "json", no_argument, NULL, 'j' },
		{ "full", no_argument, NULL, 'F' },
		{ "log", required_argument, NULL, 'l' },
		{ "db", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sl_audit_filter f = { 0 };
	struct audit_out o = { 0 };
	const char *log = NULL, *db = NULL;
	bool json = false, full = false;
	int c, idx = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, "h", opts, &idx)) != -1) {
		bool ok = true;
		switch (c) {
		case 's': ok = cli_parse_i64(optarg, &f.sheet) && f.sheet >= 1; break;
		case 'f': ok = cli_parse_seq(optarg, &f.from_seq); break;
		case 't': ok = cli_parse_seq(optarg, &f.to_seq); break;
		case 'S':
		case 'U':
			if (!cli_parse_time(optarg, c == 'S' ? &f.since_us : &f.until_us)) {
				cli_bad_time("audit", opts[idx].name, optarg);
				return SL_EXIT_USAGE;
			}
			*(c == 'S' ? &f.has_since : &f.has_until) = true;
			break;
		case 'j': json = true; break;
		case 'F': full = true; break;
		case 'l': log = optarg; break;
		case 'D': db = optarg; break;
		case 'h': fputs(audit_help, stdout); return SL_EXIT_OK;
		default: return cli_usage(audit_help);
		}
		if (!ok) {
			cli_err("audit", "--%s: bad value '%s'", opts[idx].name, optarg);
			return SL_EXIT_USAGE;
		}
	}
	if (json && full) {
		cli_err("audit", "--full and --json exclude each other");
		return SL_EXIT_USAGE;
	}
	if (optind >= argc) {
		cli_err("audit", "missing JOB; see 'statelog audit --help'");
		return SL_EXIT_USAGE;
	}
	if (optind + 1 < argc) {
		cli_err("audit", "unexpected argument '%s'", argv[optind + 1]);
		return SL_EXIT_USAGE;
	}
	o.form = json ? FORM_JSON : full ? FORM_FULL : FORM_STORY;
	o.job = argv[optind];
	sl_proj *p = NULL;
	int rc = cli_open_views("audit", log, db, &p);
	if (rc != SL_EXIT_OK)
		return rc;
	/* Every committed event, as the dashboard commands see them. */
	if ((rc = sl_proj_catch_up(p, NULL)) == SL_OK || rc == SL_EUNKNOWN)
		rc = sl_audit_run(p, o.job, &f, print_entry, &o);
	int ex = SL_EXIT_OK;
	if (rc != SL_OK) {
		ex = cli_fail("audit", rc, sl_proj_errmsg(p));
	} else if (o.form != FORM_JSON && o.seen == 0) {
		printf("(no event of job %s matches)\n", cli_field(o.job));
	} else if (o.form == FORM_STORY) {
		printf("(%" PRIu64 " of %" PRIu64 " events told; --full lists every change)\n",
		       o.shown, o.seen);
	}
	sl_proj_close(p);
	return ex;
}
