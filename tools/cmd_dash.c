/* cmd_dash.c: the dashboard subcommands, the original backend's queries on
 * the command line: jobs (query_jobs), show (load), history
 * (get_execution_history), stats (get_job_statistics).
 *
 * They open the backend read-only: no writer lock, so they run beside the
 * orchestrator that writes the log; the views are caught up first, so they
 * show every committed event.  (A read-only load does not recover a zombie:
 * `show` reports one instead.)  With --json each prints one JSON document
 * whose keys and values are the original's dicts, written as Python's
 * json.dumps() writes them.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "backend.h"
#include "cli.h"
#include "event_json_internal.h"
#include "timefmt.h"

/* Options every dashboard command takes. */
struct dash_common {
	const char *log;
	const char *db;
	bool json;
};

/* How long a dashboard command waits for the views to catch up. */
#define DASH_READ_WAIT_MS 2000

static int dash_open(const char *cmd, const struct dash_common *c, sl_backend **out)
{
	const char *dir = cli_log_dir(c->log);
	struct sl_backend_options o;
	sl_backend_options_init(&o);
	o.read_only = true;
	/* Beside a writer appending faster than the views catch up, answer
	 * from the views as they are after this long, and say so. */
	o.read_wait_ms = DASH_READ_WAIT_MS;
	o.db_path = cli_db_path(dir, c->db);
	int ex = cli_refuse_in_log(cmd, dir, o.db_path, "--db");
	if (ex != SL_EXIT_OK)
		return ex;
	char err[1024] = "";
	int rc = sl_backend_open(out, dir, &o, err, sizeof err);
	if (rc != SL_OK)
		return cli_fail(cmd, rc, err);
	if (sl_backend_views_copy(*out))
		cli_note("%s cannot be written here: reading a private copy\n", o.db_path);
	if (sl_backend_views_rebuilt(*out))
		cli_err(cmd, "warning: %s: %s", o.db_path, sl_backend_views_rebuilt(*out));
	return SL_EXIT_OK;
}

/* Closes the handle, saying first when the answers came from views that
 * were behind the log (read_wait_ms ran out). */
static void dash_close(sl_backend *be)
{
	uint64_t behind = sl_backend_views_behind(be);
	if (behind)
		cli_note("the views were %" PRIu64 " event(s) behind the log (a writer appends "
			 "faster than they catch up): these answers are as of then\n", behind);
	sl_backend_close(be);
}

/* The backend's message names the API call ("load_at: ..."): the command
 * already says what it did, so the call's name is left out. */
static int dash_fail(const char *cmd, sl_backend *be, int rc)
{
	const char *m = sl_backend_errmsg(be);
	size_t k = strspn(m, "abcdefghijklmnopqrstuvwxyz_");
	if (k && m[k] == ':' && m[k + 1] == ' ')
		m += k + 2;
	return cli_fail(cmd, rc, m);
}

static const char *fmt_time(bool has, int64_t us, char buf[SL_TIME_BUFSZ])
{
	if (!has || sl_time_format(us, buf, SL_TIME_BUFSZ) != SL_OK)
		return "-";
	return buf;
}

/* Parses the options every command shares, plus the command's own (extra,
 * handled by `own`, which returns false on a bad value).  Returns -1 to go
 * on, else the exit code. */
typedef bool (*own_opt_fn)(int c, const char *arg, void *ctx);

/* Set by an option's parser that printed why it refused a value. */
static bool opt_said;

static int parse_opts(const char *cmd, int argc, char **argv, const char *help,
		      const struct option *extra, size_t n_extra, own_opt_fn own, void *ctx,
		      struct dash_common *c)
{
	struct option opts[16] = {
		{ "log", required_argument, NULL, 'l' },
		{ "db", required_argument, NULL, 'D' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
	};
	size_t n = 4;
	for (size_t i = 0; i < n_extra && n < 15; i++)
		opts[n++] = extra[i];
	opts[n] = (struct option){ NULL, 0, NULL, 0 };
	int ch, idx = 0;
	optind = 0;
	*c = (struct dash_common){ 0 };
	while ((ch = getopt_long(argc, argv, "h", opts, &idx)) != -1) {
		switch (ch) {
		case 'l': c->log = optarg; break;
		case 'D': c->db = optarg; break;
		case 'j': c->json = true; break;
		case 'h': fputs(help, stdout); return SL_EXIT_OK;
		case '?': return cli_usage(help);
		default:
			opt_said = false;
			if (!own(ch, optarg, ctx)) {
				if (!opt_said)
					cli_err(cmd, "--%s: bad value '%s'", opts[idx].name, optarg);
				return SL_EXIT_USAGE;
			}
		}
	}
	return -1;
}

/* ---- jobs ---------------------------------------------------------------- */

static const char jobs_help[] =
	"usage: statelog jobs [--status STATUS] [--since TIME] [--limit N] [--json]\n"
	"                     [--log DIR] [--db PATH]\n\n"
	"Lists jobs, most recently updated first (the original's query_jobs()).\n"
	"  --status STATUS  only jobs in this status: pending, running, completed,\n"
	"                   failed, paused, paused_at_chain, cancelled\n"
	"  --since TIME     only jobs updated at or after TIME (ISO-8601, -2h, -3d, ...)\n"
	"  --limit N        at most N jobs (default 50; 0: all); the table ends with\n"
	"                   how many more match\n"
	"  --json           one JSON list of the original's dicts\n"
	"The database is --db, else the log directory with .log replaced by .db.\n"
	"TIME: now, ISO-8601 with or without a zone (without: local time), a date\n"
	"(its local midnight), or relative: -90s, -15m, -2h, -3d, -1w, -1h30m.\n"
	"Exit codes: 0 listed; 1 failure; 2 usage; 3 damage; 4 no such log.\n";

struct jobs_opts {
	struct sl_job_query q;
	bool limit_given;
};

static bool jobs_opt(int c, const char *arg, void *ctx)
{
	struct jobs_opts *o = ctx;
	switch (c) {
	case 's': o->q.status = arg; return true;
	case 'S':
		o->q.has_since = true;
		if (cli_parse_time(arg, &o->q.since_us))
			return true;
		cli_bad_time("jobs", "since", arg);
		opt_said = true;
		return false;
	case 'n':
		o->limit_given = true;
		return cli_parse_i64(arg, &o->q.limit) && o->q.limit >= 0;
	default: return false;
	}
}

int cmd_jobs(int argc, char **argv)
{
	static const struct option extra[] = {
		{ "status", required_argument, NULL, 's' },
		{ "since", required_argument, NULL, 'S' },
		{ "limit", required_argument, NULL, 'n' },
	};
	struct jobs_opts o = { 0 };
	struct dash_common c;
	int ex = parse_opts("jobs", argc, argv, jobs_help, extra, 3, jobs_opt, &o, &c);
	if (ex >= 0)
		return ex;
	if (optind != argc) {
		cli_err("jobs", "unexpected argument '%s'", argv[optind]);
		return SL_EXIT_USAGE;
	}
	sl_backend *be;
	if ((ex = dash_open("jobs", &c, &be)) != SL_EXIT_OK)
		return ex;
	/* Every match is read, so that the table can say how many it leaves
	 * off; --limit 0 shows them all. */
	size_t limit = !o.limit_given ? SL_BACKEND_QUERY_LIMIT
				      : o.q.limit == 0 ? SIZE_MAX : (size_t)o.q.limit;
	o.q.limit = -1;
	struct sl_job_summary *rows = NULL;
	size_t n = 0, matched = 0;
	int rc = sl_backend_query_jobs(&rows, &n, be, &o.q);
	if (rc != SL_OK) {
		ex = dash_fail("jobs", be, rc);
		goto out;
	}
	matched = n;
	for (size_t i = limit; i < n; i++) {
		free(rows[i].id);
		free(rows[i].name);
		free(rows[i].error_message);
	}
	if (n > limit)
		n = limit;
	if (c.json) {
		json_t *list = json_array();
		for (size_t i = 0; list && i < n; i++) {
			const struct sl_job_summary *r = &rows[i];
			json_t *d = json_object();
			json_object_set_new(d, "id", sl_jv_text(r->id));
			json_object_set_new(d, "name", sl_jv_text(r->name));
			json_object_set_new(d, "status", json_string(sl_job_status_name(r->status)));
			json_object_set_new(d, "total_sheets", json_integer(r->total_sheets));
			json_object_set_new(d, "last_completed_sheet",
					    json_integer(r->last_completed_sheet));
			json_object_set_new(d, "created_at", sl_jv_time(true, r->created_at_us));
			json_object_set_new(d, "updated_at", sl_jv_time(true, r->updated_at_us));
			json_object_set_new(d, "completed_at",
					    sl_jv_time(r->has_completed_at, r->completed_at_us));
			json_object_set_new(d, "error_message", sl_jv_text(r->error_message));
			json_array_append_new(list, d);
		}
		ex = cli_print_json("jobs", list);
		goto out;
	}
	char t[SL_TIME_BUFSZ];
	printf("%-24s %-15s %11s  %-32s %s\n", "ID", "STATUS", "SHEETS", "UPDATED", "NAME");
	for (size_t i = 0; i < n; i++) {
		const struct sl_job_summary *r = &rows[i];
		char sheets[48];
		snprintf(sheets, sizeof sheets, "%" PRId64 "/%" PRId64, r->last_completed_sheet,
			 r->total_sheets);
		printf("%-24s %-15s %11s  %-32s %s\n", cli_field(r->id), sl_job_status_name(r->status),
		       sheets, fmt_time(true, r->updated_at_us, t), cli_field(r->name));
	}
	if (matched > n)
		printf("(%zu more not shown: --limit 0 shows all %zu)\n", matched - n, matched);
	ex = SL_EXIT_OK;
out:
	sl_backend_summaries_free(rows, n);
	dash_close(be);
	return ex;
}

/* ---- show ---------------------------------------------------------------- */

static const char show_help[] =
	"usage: statelog show JOB [--at TIME|#N | --seq N] [--json] [--log DIR] [--db PATH]\n\n"
	"Prints the whole state of one job and its sheets (the original's load()).\n"
	"  --at TIME|#N   the state as it was after the last event at or before TIME\n"
	"                 (now, ISO-8601 with or without a zone (without: local\n"
	"                 time), a date, or -90s, -15m, -2h, -3d, -1w, -1h30m), or\n"
	"                 after event N when written '#N' (quoted: # starts a shell\n"
	"                 comment); a bare number is refused as ambiguous\n"
	"  --seq N        the same as --at '#N'\n"
	"  --json         the state as one JSON object, the original CheckpointState's\n"
	"                 fields (sheets keyed by number, JSON columns parsed)\n"
	"Exit codes: 0 shown; 1 failure; 2 usage, a sequence number past the end or a\n"
	"time before the log began; 3 damage; 4 no such job (or it did not exist\n"
	"then), or no such log.\n";

/* show --at: a time or #N; --seq N. */
struct show_opts {
	bool at;
	bool at_time;
	uint64_t seq;
	int64_t time_us;
};

static bool show_opt(int c, const char *arg, void *ctx)
{
	struct show_opts *o = ctx;
	if (c != 'a' && c != 'q')
		return false;
	if (o->at) {
		cli_err("show", "--at and --seq: give one point");
		opt_said = true;
		return false;
	}
	o->at = true;
	o->at_time = c == 'a' && arg[0] != '#';
	if (o->at_time && *arg && arg[strspn(arg, "0123456789")] == 0) {
		cli_err("show", "--at %s: a bare number could be a sequence number or a time; "
			"write --seq %s (or --at '#%s') for event %s", arg, arg, arg, arg);
		opt_said = true;
		return false;
	}
	if (!o->at_time)
		return cli_parse_seq(arg, &o->seq);
	if (cli_parse_time(arg, &o->time_us))
		return true;
	cli_bad_time("show", "at", arg);
	opt_said = true;
	return false;
}

static bool no_opt(int c, const char *arg, void *ctx)
{
	(void)c;
	(void)arg;
	(void)ctx;
	return false;
}

static void show_text(const struct sl_job_state *st, bool zombie)
{
	char t[SL_TIME_BUFSZ];
	printf("job            %s\n", cli_field(st->id));
	printf("name           %s\n", st->name ? cli_field(st->name) : "-");
	printf("status         %s%s\n", sl_job_status_name(st->status),
	       zombie ? "  (zombie: its pid is gone; the writer's next load recovers it)" : "");
	printf("sheets         %" PRId64 " of %" PRId64 " completed", st->last_completed_sheet,
	       st->total_sheets);
	if (st->has_current_sheet)
		printf(", sheet %" PRId64 " current", st->current_sheet);
	putchar('\n');
	if (st->has_pid)
		printf("pid            %" PRId64 "\n", st->pid);
	printf("retries        %" PRId64 "\n", st->total_retry_count);
	printf("rate limits    %" PRId64 "\n", st->rate_limit_waits);
	printf("created        %s\n", fmt_time(true, st->created_at_us, t));
	printf("updated        %s\n", fmt_time(true, st->updated_at_us, t));
	printf("started        %s\n", fmt_time(st->has_started_at, st->started_at_us, t));
	printf("completed      %s\n", fmt_time(st->has_completed_at, st->completed_at_us, t));
	printf("config         %s%s%s\n", st->config_path ? cli_field(st->config_path) : "-",
	       st->config_hash ? "  hash " : "", cli_field(st->config_hash));
	if (st->error_message)
		printf("error          %s\n", cli_field(st->error_message));
	if (!st->n_sheets)
		return;
	printf("\n%5s  %-15s %8s %5s  %-32s %s\n", "SHEET", "STATUS", "ATTEMPTS", "EXIT",
	       "COMPLETED", "ERROR");
	for (size_t i = 0; i < st->n_sheets; i++) {
		const struct sl_sheet_state *s = &st->sheets[i];
		char ex[24] = "-";
		if (s->has_exit_code)
			snprintf(ex, sizeof ex, "%" PRId64, s->exit_code);
		printf("%5" PRId64 "  %-15s %8" PRId64 " %5s  %-32s %s\n", s->sheet_num,
		       sl_sheet_status_name(s->status), s->attempt_count, ex,
		       fmt_time(s->has_completed_at, s->completed_at_us, t),
		       cli_field(s->error_message));
	}
}

/* The one JOB argument of show, history and stats. */
static const char *job_arg(const char *cmd, int argc, char **argv)
{
	if (optind >= argc) {
		cli_err(cmd, "missing JOB; see 'statelog %s --help'", cmd);
		return NULL;
	}
	if (optind + 1 < argc) {
		cli_err(cmd, "unexpected argument '%s'", argv[optind + 1]);
		return NULL;
	}
	return argv[optind];
}

int cmd_show(int argc, char **argv)
{
	static const struct option extra[] = {
		{ "at", required_argument, NULL, 'a' },
		{ "seq", required_argument, NULL, 'q' },
	};
	struct show_opts so = { 0 };
	struct dash_common c;
	int ex = parse_opts("show", argc, argv, show_help, extra, 2, show_opt, &so, &c);
	if (ex >= 0)
		return ex;
	const char *job = job_arg("show", argc, argv);
	if (!job)
		return SL_EXIT_USAGE;
	sl_backend *be;
	if ((ex = dash_open("show", &c, &be)) != SL_EXIT_OK)
		return ex;
	struct sl_job_state st;
	int rc = so.at ? sl_backend_load_at(&st, be, job, so.seq, so.at_time, so.time_us)
		       : sl_backend_load(&st, be, job);
	if (rc != SL_OK) {
		ex = dash_fail("show", be, rc);
		goto out;
	}
	if (c.json) {
		char *text = NULL;
		if (sl_state_to_json(&text, &st) != SL_OK) {
			cli_err("show", "out of memory");
			ex = SL_EXIT_FAIL;
		} else {
			puts(text);
			free(text);
			ex = SL_EXIT_OK;
		}
	} else {
		/* A past state's pid says nothing about a process now. */
		show_text(&st, !so.at && sl_state_is_zombie(&st, sl_state_pid_alive, NULL));
		ex = SL_EXIT_OK;
	}
	sl_state_free(&st);
out:
	dash_close(be);
	return ex;
}

/* ---- history ------------------------------------------------------------- */

static const char history_help[] =
	"usage: statelog history JOB [--sheet N] [--limit N] [--json] [--log DIR] [--db PATH]\n\n"
	"Prints a job's execution history, newest first (the original's\n"
	"get_execution_history()), and how many records it has in all.\n"
	"  --sheet N   only the attempts of sheet N\n"
	"  --limit N   at most N records (default 100)\n"
	"  --json      one JSON list of the original's dicts (prompt and output in full)\n"
	"Exit codes: 0 shown; 1 failure; 2 usage; 3 damage; 4 no such job, a sheet\n"
	"the job never had, or no such log.\n";

struct history_opts {
	int64_t sheet;
	int64_t limit;
};

static bool history_opt(int c, const char *arg, void *ctx)
{
	struct history_opts *o = ctx;
	switch (c) {
	case 's': return cli_parse_i64(arg, &o->sheet) && o->sheet >= 1;
	case 'n': return cli_parse_i64(arg, &o->limit) && o->limit >= 1;
	default: return false;
	}
}

/* Length of s in characters (code points), for the text listing. */
static size_t chars(const char *s)
{
	size_t n = 0;
	for (; s && *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

int cmd_history(int argc, char **argv)
{
	static const struct option extra[] = {
		{ "sheet", required_argument, NULL, 's' },
		{ "limit", required_argument, NULL, 'n' },
	};
	struct history_opts o = { 0 };
	struct dash_common c;
	int ex = parse_opts("history", argc, argv, history_help, extra, 2, history_opt, &o, &c);
	if (ex >= 0)
		return ex;
	const char *job = job_arg("history", argc, argv);
	if (!job)
		return SL_EXIT_USAGE;
	sl_backend *be;
	if ((ex = dash_open("history", &c, &be)) != SL_EXIT_OK)
		return ex;
	struct sl_execution_row *rows = NULL;
	size_t n = 0;
	struct sl_job_statistics stats;
	int64_t total = 0;
	/* The original answers [] for an unknown job; a person wants to know. */
	int rc = sl_backend_statistics(&stats, be, job);
	if (rc == SL_OK && !stats.found) {
		cli_err("history", "no job '%s'", job);
		ex = SL_EXIT_NOTFOUND;
		goto out;
	}
	if (rc == SL_OK)
		rc = sl_backend_history(&rows, &n, be, job, o.sheet, o.limit);
	if (rc == SL_OK)
		rc = sl_backend_history_count(&total, be, job);
	if (rc != SL_OK) {
		ex = dash_fail("history", be, rc);
		goto out;
	}
	/* As audit: a sheet the job never had is not found (records of a
	 * sheet above a lowered total_sheets are still shown). */
	if (o.sheet > stats.total_sheets && n == 0) {
		cli_err("history", "job '%s' has no sheet %" PRId64 " (its sheets: 1..%" PRId64 ")",
			job, o.sheet, stats.total_sheets);
		ex = SL_EXIT_NOTFOUND;
		goto out;
	}
	if (c.json) {
		json_t *list = json_array();
		for (size_t i = 0; list && i < n; i++) {
			const struct sl_execution_row *r = &rows[i];
			json_t *d = json_object();
			json_object_set_new(d, "id", json_integer(r->id));
			json_object_set_new(d, "job_id", sl_jv_text(r->job_id));
			json_object_set_new(d, "sheet_num", json_integer(r->sheet_num));
			json_object_set_new(d, "attempt_num", json_integer(r->attempt_num));
			json_object_set_new(d, "prompt", sl_jv_text(r->prompt));
			json_object_set_new(d, "output", sl_jv_text(r->output));
			json_object_set_new(d, "exit_code", sl_jv_int(r->has_exit_code, r->exit_code));
			json_object_set_new(d, "duration_seconds",
					    sl_jv_real(r->has_duration_seconds, r->duration_seconds));
			json_object_set_new(d, "executed_at", sl_jv_time(true, r->executed_at_us));
			json_array_append_new(list, d);
		}
		ex = cli_print_json("history", list);
		goto out;
	}
	char t[SL_TIME_BUFSZ];
	printf("%8s %5s %7s %5s %10s  %-32s %8s %8s\n", "ID", "SHEET", "ATTEMPT", "EXIT",
	       "SECONDS", "EXECUTED", "PROMPT", "OUTPUT");
	for (size_t i = 0; i < n; i++) {
		const struct sl_execution_row *r = &rows[i];
		char exit_s[24] = "-", dur[32] = "-";
		if (r->has_exit_code)
			snprintf(exit_s, sizeof exit_s, "%" PRId64, r->exit_code);
		if (r->has_duration_seconds)
			snprintf(dur, sizeof dur, "%.3f", r->duration_seconds);
		printf("%8" PRId64 " %5" PRId64 " %7" PRId64 " %5s %10s  %-32s %8zu %8zu\n", r->id,
		       r->sheet_num, r->attempt_num, exit_s, dur,
		       fmt_time(true, r->executed_at_us, t), chars(r->prompt), chars(r->output));
	}
	printf("%zu shown of %" PRId64 " in all (prompt and output in characters)\n", n, total);
	ex = SL_EXIT_OK;
out:
	sl_backend_history_free(rows, n);
	dash_close(be);
	return ex;
}

/* ---- stats --------------------------------------------------------------- */

static const char stats_help[] =
	"usage: statelog stats JOB [--json] [--log DIR] [--db PATH]\n\n"
	"Prints a job's statistics (the original's get_job_statistics()): sheets,\n"
	"completed sheets, success rate, retries, executions, their average\n"
	"duration and how many exited 0.\n"
	"  --json   the original's dict\n"
	"Exit codes: 0 shown; 1 failure; 2 usage; 3 damage; 4 no such job, or no such\n"
	"log.\n";

int cmd_stats(int argc, char **argv)
{
	struct dash_common c;
	int ex = parse_opts("stats", argc, argv, stats_help, NULL, 0, no_opt, NULL, &c);
	if (ex >= 0)
		return ex;
	const char *job = job_arg("stats", argc, argv);
	if (!job)
		return SL_EXIT_USAGE;
	sl_backend *be;
	if ((ex = dash_open("stats", &c, &be)) != SL_EXIT_OK)
		return ex;
	struct sl_job_statistics s;
	int rc = sl_backend_statistics(&s, be, job);
	if (rc != SL_OK) {
		ex = dash_fail("stats", be, rc);
		goto out;
	}
	if (!s.found) {
		cli_err("stats", "no job '%s'", job);
		ex = SL_EXIT_NOTFOUND;
		goto out;
	}
	if (c.json) {
		json_t *d = json_object();
		json_object_set_new(d, "total_sheets", json_integer(s.total_sheets));
		json_object_set_new(d, "completed_sheets", json_integer(s.completed_sheets));
		json_object_set_new(d, "success_rate", json_real(s.success_rate));
		json_object_set_new(d, "total_retries", json_integer(s.total_retries));
		json_object_set_new(d, "total_executions", json_integer(s.total_executions));
		json_object_set_new(d, "avg_duration_seconds",
				    sl_jv_real(s.has_avg_duration_seconds, s.avg_duration_seconds));
		json_object_set_new(d, "successful_executions",
				    sl_jv_int(s.has_successful_executions, s.successful_executions));
		ex = cli_print_json("stats", d);
		goto out;
	}
	printf("total_sheets           %" PRId64 "\n", s.total_sheets);
	printf("completed_sheets       %" PRId64 "\n", s.completed_sheets);
	printf("success_rate           %.1f%%\n", s.success_rate);
	printf("total_retries          %" PRId64 "\n", s.total_retries);
	printf("total_executions       %" PRId64 "\n", s.total_executions);
	if (s.has_avg_duration_seconds)
		printf("avg_duration_seconds   %.3f\n", s.avg_duration_seconds);
	else
		printf("avg_duration_seconds   -\n");
	if (s.has_successful_executions)
		printf("successful_executions  %" PRId64 "\n", s.successful_executions);
	else
		printf("successful_executions  -\n");
	ex = SL_EXIT_OK;
out:
	dash_close(be);
	return ex;
}
