/* cmd_audit.c: `statelog audit JOB`, a job's timeline: every event, when,
 * which sheet, and each column it changed, before and after (audit.h).
 * A table for people, or --json: one JSON object per event, one per line.
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
	"usage: statelog audit JOB [--sheet N] [--from SEQ] [--to SEQ] [--since TIME]\n"
	"                      [--until TIME] [--json] [--log DIR] [--db PATH]\n\n"
	"Prints a job's timeline: every event of the job in order, with its sequence\n"
	"number, time, type and sheet, and every column it changed, before -> after.\n"
	"Deleted jobs stay auditable; a job deleted and created again shows each life\n"
	"(numbered from 1).  An event the rules refused is listed as refused.\n"
	"  --sheet N       only the events about sheet N\n"
	"  --from SEQ      only events from sequence number SEQ on\n"
	"  --to SEQ        only events up to SEQ\n"
	"  --since TIME    only events at or after TIME (ISO-8601, or -2h, -3d, ...)\n"
	"  --until TIME    only events at or before TIME\n"
	"  --json          one JSON object per event, one per line\n"
	"The filters choose what is shown: before-values always come from all the\n"
	"job's earlier events.  Exits 4 when the log has no such job.\n";

/* Longest text value shown in the table (the JSON has them whole). */
#define SHOW_MAX 60

struct audit_out {
	bool json;
	const char *job;
	uint64_t shown;
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
		/* len is at least SHOW_MAX * 2 + 32: escapes double a character. */
		size_t n = 0, k = 0;
		buf[k++] = '"';
		for (const char *s = v->s;
		     *s && (n < SHOW_MAX || ((unsigned char)*s & 0xC0) == 0x80); s++, n++) {
			if (*s == '"' || *s == '\\' || *s == '\n' || *s == '\t') {
				buf[k++] = '\\';
				buf[k++] = *s == '\n' ? 'n' : *s == '\t' ? 't' : *s;
			} else {
				buf[k++] = *s;
			}
		}
		buf[k++] = '"';
		buf[k] = 0;
		if (strlen(v->s) > SHOW_MAX)
			snprintf(buf + k, len - k, "...(%zu bytes)", strlen(v->s));
		return;
	}
	default:
		snprintf(buf, len, "%" PRId64, v->i);
		return;
	}
}

static json_t *json_value(const struct sl_state_column *c, bool absent, const struct sl_value *v)
{
	char t[SL_TIME_BUFSZ];
	if (absent || v->null)
		return json_null();
	if (!c || c->type == SL_COL_JOB_STATUS || c->type == SL_COL_SHEET_STATUS ||
	    c->type == SL_COL_TEXT)
		return json_string(v->s);
	switch (c->type) {
	case SL_COL_REAL: return json_real(v->d);
	case SL_COL_BOOL: return json_boolean(v->i);
	case SL_COL_TIME:
		return sl_time_format(v->i, t, sizeof t) == SL_OK ? json_string(t) : json_integer(v->i);
	default: return json_integer(v->i);
	}
}

static int print_json_entry(const struct audit_out *o, const struct sl_audit_entry *e)
{
	char t[SL_TIME_BUFSZ];
	json_t *d = json_object(), *ch = json_array();
	if (!d || !ch) {
		json_decref(d);
		json_decref(ch);
		return SL_ENOMEM;
	}
	json_object_set_new(d, "seq", json_integer((json_int_t)e->seq));
	json_object_set_new(d, "time", sl_time_format(e->time_us, t, sizeof t) == SL_OK
				       ? json_string(t) : json_integer(e->time_us));
	json_object_set_new(d, "job_id", json_string(o->job));
	json_object_set_new(d, "life", json_integer(e->life));
	json_object_set_new(d, "type", json_string(e->type));
	json_object_set_new(d, "sheet", e->sheet ? json_integer(e->sheet) : json_null());
	json_object_set_new(d, "refused", json_boolean(e->refused));
	for (size_t i = 0; i < e->n_changes; i++) {
		const struct sl_audit_change *c = &e->changes[i];
		json_t *x = json_object();
		json_object_set_new(x, "row", json_string(c->sheet ? "sheet" : "job"));
		if (c->sheet)
			json_object_set_new(x, "sheet", json_integer(c->sheet));
		json_object_set_new(x, "column", json_string(c->column ? c->column->name : "presence"));
		json_object_set_new(x, "before", json_value(c->column, c->before_absent, &c->before));
		json_object_set_new(x, "after", json_value(c->column, c->after_absent, &c->after));
		if (c->before_absent)
			json_object_set_new(x, "before_absent", json_true());
		if (c->after_absent)
			json_object_set_new(x, "after_absent", json_true());
		json_array_append_new(ch, x);
	}
	json_object_set_new(d, "changes", ch);
	char *s = sl_json_dumps(d);
	json_decref(d);
	if (!s)
		return SL_ENOMEM;
	puts(s);
	free(s);
	return SL_OK;
}

static int print_entry(void *ctx, const struct sl_audit_entry *e)
{
	struct audit_out *o = ctx;
	o->shown++;
	if (o->json)
		return print_json_entry(o, e);
	char t[SL_TIME_BUFSZ], sheet[32] = "";
	if (sl_time_format(e->time_us, t, sizeof t) != SL_OK)
		snprintf(t, sizeof t, "%" PRId64, e->time_us);
	if (e->sheet)
		snprintf(sheet, sizeof sheet, "  sheet %" PRId64, e->sheet);
	printf("#%-8" PRIu64 " %-32s  life %" PRIu32 "  %s%s%s\n", e->seq, t, e->life, e->type,
	       sheet, e->refused ? "  (refused by the rules: nothing changed)" : "");
	for (size_t i = 0; i < e->n_changes; i++) {
		const struct sl_audit_change *c = &e->changes[i];
		char row[32], b[160], a[160];
		if (c->sheet)
			snprintf(row, sizeof row, "sheet %" PRId64, c->sheet);
		else
			snprintf(row, sizeof row, "job");
		cli_audit_value(c->column, c->before_absent, &c->before, b, sizeof b);
		cli_audit_value(c->column, c->after_absent, &c->after, a, sizeof a);
		printf("    %-10s %-27s %s -> %s\n", row, c->column ? c->column->name : "presence", b, a);
	}
	return 0;
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
		{ "log", required_argument, NULL, 'l' },
		{ "db", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sl_audit_filter f = { 0 };
	struct audit_out o = { 0 };
	const char *log = NULL, *db = NULL;
	int c, idx = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, "h", opts, &idx)) != -1) {
		bool ok = true;
		switch (c) {
		case 's': ok = cli_parse_i64(optarg, &f.sheet) && f.sheet >= 1; break;
		case 'f': ok = cli_parse_u64(optarg, &f.from_seq) && f.from_seq >= 1; break;
		case 't': ok = cli_parse_u64(optarg, &f.to_seq) && f.to_seq >= 1; break;
		case 'S': f.has_since = ok = cli_parse_time(optarg, &f.since_us); break;
		case 'U': f.has_until = ok = cli_parse_time(optarg, &f.until_us); break;
		case 'j': o.json = true; break;
		case 'l': log = optarg; break;
		case 'D': db = optarg; break;
		case 'h': fputs(audit_help, stdout); return SL_EXIT_OK;
		default: fputs(audit_help, stderr); return SL_EXIT_USAGE;
		}
		if (!ok) {
			cli_err("audit", "--%s: bad value '%s'", opts[idx].name, optarg);
			return SL_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		cli_err("audit", "missing JOB; see 'statelog audit --help'");
		return SL_EXIT_USAGE;
	}
	if (optind + 1 < argc) {
		cli_err("audit", "unexpected argument '%s'", argv[optind + 1]);
		return SL_EXIT_USAGE;
	}
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
		cli_err("audit", "%s", sl_proj_errmsg(p)[0] ? sl_proj_errmsg(p) : sl_strerror(rc));
		ex = cli_exit_for(rc);
	} else if (!o.json && o.shown == 0) {
		printf("(no event of job %s matches)\n", o.job);
	}
	sl_proj_close(p);
	return ex;
}
