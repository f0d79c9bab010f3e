/* cmd_demo.c: `statelog demo [DIR]`, a guided tour that checks its own
 * claims, in under a minute:
 *   1. the reference workload through the backend API into a fresh log;
 *   2. a writer process killed with SIGKILL in the middle of its work;
 *   3. reopening: what recovery found, and every acknowledged call there;
 *   4. the views caught up, and a dashboard-like summary;
 *   5. the audit of a job that failed and was retried, and that job as it
 *      was just after the failure (time travel);
 *   6. the database deleted, rebuilt from the log, every query the same;
 *   7. the failed job's timeline written as a web page (statelog timeline).
 * Exits 1 when any check fails. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "history.h"
#include "backend.h"
#include "cli.h"
#include "drive.h"
#include "event_internal.h"
#include "event_json.h"
#include "projector.h"
#include "timefmt.h"
#include "workload.h"

static int step_no;
static int failures;

static void step(const char *title)
{
	printf("\n== %d. %s ==\n", ++step_no, title);
	fflush(stdout);
}

static void check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check(bool ok, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("  [%s] ", ok ? "ok" : "FAILED");
	vprintf(fmt, ap);
	putchar('\n');
	va_end(ap);
	fflush(stdout);
	if (!ok)
		failures++;
}

/* The workload's pids are made up: treat them as alive, so that loading a
 * running job does not take it for a zombie. */
static bool made_up_pids_alive(int64_t pid, void *ctx)
{
	(void)pid;
	(void)ctx;
	return true;
}

static int open_backend(sl_backend **be, const char *log, bool create,
			struct sl_recovery_report *rep, char *err, size_t errlen)
{
	struct sl_backend_options o;
	sl_backend_options_init(&o);
	o.create = create;
	o.durability = SL_DURABLE_ALWAYS;
	o.pid_alive = made_up_pids_alive;
	o.report = rep;
	return sl_backend_open(be, log, &o, err, errlen);
}

/* Runs up to `events` workload events (seed) through the backend.  When fd
 * >= 0, each acknowledged record_execution's id and job are written to it.
 * *failed_job gets a job with a failed sheet. */
static int run_workload(sl_backend *be, uint64_t seed, uint64_t events, int fd, uint64_t *calls,
			char *failed_job, size_t fjlen)
{
	struct sl_workload_options wo;
	sl_workload_options_init(&wo);
	wo.seed = seed;
	wo.events = events;
	sl_workload *w = NULL;
	sl_drive *d = NULL;
	int rc = sl_workload_new(&w, &wo);
	if (rc == SL_OK)
		rc = sl_drive_new(&d);
	sl_event *ev;
	while (rc == SL_OK && sl_workload_next(w, &ev) == 1) {
		enum sl_drive_call call;
		rc = sl_drive_event(d, be, ev, sl_time_now_us(), &call);
		if (rc != SL_OK)
			break;
		if (call != SL_DRIVE_SKIPPED)
			(*calls)++;
		if (failed_job && !failed_job[0] && ev->body_case == STATELOG__EVENT__BODY_SHEET_FAILED)
			snprintf(failed_job, fjlen, "%s", ev->job_id);
		if (fd >= 0 && call == SL_DRIVE_RECORD) {
			/* Acknowledged: tell the parent which record is durable. */
			struct { int64_t id; char job[120]; } msg = { 0 };
			msg.id = sl_drive_last_execution_id(d);
			snprintf(msg.job, sizeof(msg.job), "%s", ev->job_id);
			if (write(fd, &msg, sizeof(msg)) != (ssize_t)sizeof(msg))
				_exit(5);
		}
	}
	sl_drive_free(d);
	sl_workload_free(w);
	return rc;
}

/* Every answer the backend gives about every job, as text: what a dashboard
 * sees.  Used to show that a rebuilt database answers the same. */
static int all_answers(sl_backend *be, char **out, size_t *len, uint64_t *jobs)
{
	FILE *f = open_memstream(out, len);
	if (!f)
		return SL_ENOMEM;
	struct sl_job_query q = { .limit = -1 };
	struct sl_job_summary *rows = NULL;
	size_t n = 0;
	int rc = sl_backend_query_jobs(&rows, &n, be, &q);
	for (size_t i = 0; rc == SL_OK && i < n; i++) {
		const struct sl_job_summary *r = &rows[i];
		fprintf(f, "job %s|%s|%s|%" PRId64 "|%" PRId64 "|%" PRId64 "|%" PRId64 "|%s\n", r->id,
			r->name, sl_job_status_name(r->status), r->total_sheets, r->last_completed_sheet,
			r->created_at_us, r->updated_at_us, r->error_message ? r->error_message : "None");
		struct sl_job_state st;
		if ((rc = sl_backend_load(&st, be, r->id)) != SL_OK)
			break;
		for (size_t c = 0; c < SL_STATE_N_JOB_COLUMNS; c++) {
			struct sl_value v;
			sl_state_column_get(&v, &sl_state_job_columns[c], &st);
			fprintf(f, " %s=%s/%" PRId64 "/%.17g/%s", sl_state_job_columns[c].name,
				v.null ? "null" : "", v.i, v.d, v.s ? v.s : "");
		}
		for (size_t s = 0; s < st.n_sheets; s++)
			for (size_t c = 0; c < SL_STATE_N_SHEET_COLUMNS; c++) {
				struct sl_value v;
				sl_state_column_get(&v, &sl_state_sheet_columns[c], &st.sheets[s]);
				fprintf(f, " %s=%s/%" PRId64 "/%.17g/%s", sl_state_sheet_columns[c].name,
					v.null ? "null" : "", v.i, v.d, v.s ? v.s : "");
			}
		fputc('\n', f);
		sl_state_free(&st);
		struct sl_job_statistics js;
		if ((rc = sl_backend_statistics(&js, be, r->id)) != SL_OK)
			break;
		fprintf(f, " stats %" PRId64 " %" PRId64 " %.17g %" PRId64 " %" PRId64 " %.17g %" PRId64 "\n",
			js.total_sheets, js.completed_sheets, js.success_rate, js.total_retries,
			js.total_executions, js.avg_duration_seconds, js.successful_executions);
		struct sl_execution_row *h = NULL;
		size_t nh = 0;
		if ((rc = sl_backend_history(&h, &nh, be, r->id, 0, 1000000)) != SL_OK)
			break;
		for (size_t k = 0; k < nh; k++)
			fprintf(f, " exec %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64 " %zu %zu\n", h[k].id,
				h[k].sheet_num, h[k].attempt_num, h[k].executed_at_us,
				h[k].prompt ? strlen(h[k].prompt) : 0, h[k].output ? strlen(h[k].output) : 0);
		sl_backend_history_free(h, nh);
	}
	*jobs = n;
	sl_backend_summaries_free(rows, n);
	fclose(f);
	return rc;
}

static const char demo_help[] =
	"usage: statelog demo [--events N] [DIR]\n\n"
	"A tour of statelog that checks every claim it makes, in under a minute:\n"
	"runs the reference workload through the backend API into a fresh log in DIR\n"
	"(a new temporary directory by default, printed), kills a writer with SIGKILL\n"
	"in the middle of its work, reopens and shows what recovery found, catches\n"
	"the views up and prints a summary of the jobs, prints the audit of a job\n"
	"that failed and was retried and shows it as it was after the failure, then\n"
	"deletes the database, rebuilds it from the log and shows that every query\n"
	"answers the same, and ends by writing the failed job's timeline as a web\n"
	"page (DIR/timeline.html, see 'statelog timeline').\n"
	"Exit codes: 0 every check passed; 1 a check failed, or another failure;\n"
	"2 usage.\n";

int cmd_demo(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "events", required_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t events = 6000;
	int c;
	optind = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'e':
			if (!cli_parse_u64(optarg, &events) || events < 500 || events > 10000000) {
				cli_err("demo", "--events: expected a number from 500 to 10000000, not '%s'",
					optarg);
				return SL_EXIT_USAGE;
			}
			break;
		case 'h': fputs(demo_help, stdout); return SL_EXIT_OK;
		default: return cli_usage(demo_help);
		}
	}
	if (argc - optind > 1) {
		cli_err("demo", "unexpected argument '%s'", argv[optind + 1]);
		return SL_EXIT_USAGE;
	}
	char *base = NULL;
	if (optind < argc) {
		base = strdup(argv[optind]);
		if (!base || (mkdir(base, 0755) < 0 && errno != EEXIST)) {
			cli_err("demo", "%s: %s", argv[optind], strerror(errno));
			free(base);
			return SL_EXIT_FAIL;
		}
	} else if (!(base = cli_tmpdir(NULL, "demo"))) {
		cli_err("demo", "cannot create a temporary directory: %s", strerror(errno));
		return SL_EXIT_FAIL;
	}
	char log[4200], db[4300];
	snprintf(log, sizeof(log), "%s/demo.log", base);
	snprintf(db, sizeof(db), "%s/demo.db", base);
	struct stat st;
	if (stat(log, &st) == 0 || stat(db, &st) == 0) {
		cli_err("demo", "%s already holds a demo; give an empty or new directory", base);
		free(base);
		return SL_EXIT_USAGE;
	}
	printf("statelog demo: working in %s\n", base);
	char err[1024] = "";
	sl_backend *be = NULL;
	uint64_t calls = 0;
	char failed_job[256] = "";

	/* 1. */
	step("The reference workload through the backend API (durability always)");
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int rc = open_backend(&be, log, true, NULL, err, sizeof(err));
	if (rc == SL_OK)
		rc = run_workload(be, 1, events, -1, &calls, failed_job, sizeof(failed_job));
	if (rc != SL_OK && be)
		snprintf(err, sizeof(err), "%s", sl_backend_errmsg(be));
	int crc = sl_backend_close(be);
	be = NULL;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	check(rc == SL_OK && crc == SL_OK, "%" PRIu64 " calls (save, intention calls, "
	      "record_execution, delete) in %.2f s, each durable when it returned%s%s", calls, secs,
	      rc ? ": " : "", rc ? err : "");
	if (rc != SL_OK)
		goto out;

	/* 2. */
	step("A writer killed with SIGKILL in the middle of its work");
	int fds[2];
	if (pipe(fds) < 0) {
		check(false, "pipe: %s", strerror(errno));
		goto out;
	}
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		close(fds[0]);
		sl_backend *cb = NULL;
		uint64_t n = 0;
		if (open_backend(&cb, log, false, NULL, NULL, 0) != SL_OK)
			_exit(3);
		run_workload(cb, 2, 1000000, fds[1], &n, NULL, 0);
		_exit(0);
	}
	close(fds[1]);
	struct { int64_t id; char job[120]; } msg, last = { 0 };
	uint64_t acked = 0;
	while (read(fds[0], &msg, sizeof(msg)) == (ssize_t)sizeof(msg)) {
		last = msg;
		if (++acked == 150)
			kill(pid, SIGKILL);
	}
	close(fds[0]);
	int status;
	waitpid(pid, &status, 0);
	check(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
	      "writer (pid %d) killed after %" PRIu64 " acknowledged execution records; the last: "
	      "record %" PRId64 " of %s", (int)pid, acked, last.id, last.job);

	/* 3. */
	step("Reopening: recovery");
	struct sl_recovery_report rep;
	memset(&rep, 0, sizeof(rep));
	rc = open_backend(&be, log, false, &rep, err, sizeof(err));
	check(rc == SL_OK, "reopened%s%s", rc ? ": " : "", rc ? err : "");
	if (rc != SL_OK)
		goto out;
	if (rep.tail_cut)
		printf("  recovery cut a torn tail of %" PRIu64 " bytes at offset %" PRIu64
		       " of %s\n  (kept in %s)\n", rep.bytes_cut, rep.cut_offset, rep.segment, rep.aside);
	else
		printf("  the writer died between commits: no torn tail to cut\n");
	check(!rep.seq_lost, "no whole commit was cut: nothing committed is lost");
	bool found = false;
	struct sl_execution_row *hist = NULL;
	size_t nhist = 0;
	if (last.job[0] && sl_backend_history(&hist, &nhist, be, last.job, 0, 100000) == SL_OK)
		for (size_t i = 0; i < nhist; i++)
			found |= hist[i].id == last.id;
	sl_backend_history_free(hist, nhist);
	check(found, "the last acknowledged execution record, %" PRId64 " of %s, is there", last.id,
	      last.job);

	/* 4. */
	step("The views, caught up: a dashboard");
	const char *statuses[] = { "running", "completed", "paused", "failed", "pending", "cancelled" };
	for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
		struct sl_job_query q = { .status = statuses[i], .limit = -1 };
		struct sl_job_summary *rows = NULL;
		size_t n = 0;
		if ((rc = sl_backend_query_jobs(&rows, &n, be, &q)) != SL_OK)
			break;
		printf("  %-10s %4zu job(s)\n", statuses[i], n);
		sl_backend_summaries_free(rows, n);
	}
	struct sl_job_query recent = { .limit = 5 };
	struct sl_job_summary *rows = NULL;
	size_t nrows = 0;
	if (rc == SL_OK && (rc = sl_backend_query_jobs(&rows, &nrows, be, &recent)) == SL_OK) {
		printf("  most recently updated:\n");
		for (size_t i = 0; i < nrows; i++) {
			char t[SL_TIME_BUFSZ];
			sl_time_format(rows[i].updated_at_us, t, sizeof(t));
			printf("    %-28s %-10s %3" PRId64 "/%-3" PRId64 " sheets  %s\n", rows[i].id,
			       sl_job_status_name(rows[i].status), rows[i].last_completed_sheet,
			       rows[i].total_sheets, t);
		}
		sl_backend_summaries_free(rows, nrows);
	}
	check(rc == SL_OK && nrows > 0, "queries answered from the views%s%s", rc ? ": " : "",
	      rc ? sl_backend_errmsg(be) : "");

	/* 5. */
	step("The audit of a job that failed and was retried, and the job as it was");
	if (failed_job[0]) {
		sl_proj *pj = NULL;
		struct sl_proj_options po;
		sl_proj_options_init(&po);
		rc = sl_proj_open(&pj, log, db, &po, NULL, err, sizeof(err));
		sl_audit *au = NULL;
		if (rc == SL_OK)
			rc = sl_audit_open(&au, pj, failed_job, NULL);
		const struct sl_audit_entry *e;
		uint64_t entries = 0, shown = 0, fail_seq = 0;
		int64_t fail_sheet = 0;
		while (au && (rc = sl_audit_next(&e, au)) == 1) {
			entries++;
			if (!fail_seq && strcmp(e->type, "sheet_failed") == 0) {
				fail_seq = e->seq;
				fail_sheet = e->sheet;
			}
			if (shown >= 10 && e->seq != fail_seq)
				continue;
			shown++;
			char t[SL_TIME_BUFSZ];
			sl_time_format(e->time_us, t, sizeof(t));
			printf("  #%-6" PRIu64 " %.19s  %-18s", e->seq, t, e->type);
			if (e->sheet)
				printf(" sheet %" PRId64, e->sheet);
			for (size_t k = 0; k < e->n_changes && k < 3; k++) {
				const struct sl_audit_change *ch = &e->changes[k];
				char b[320], a[320];
				cli_audit_value(ch->column, ch->before_absent, &ch->before, b, sizeof(b));
				cli_audit_value(ch->column, ch->after_absent, &ch->after, a, sizeof(a));
				printf("\n      %-22s %s -> %s", ch->column ? ch->column->name : "(row)", b, a);
			}
			if (e->n_changes > 3)
				printf("\n      (+%zu more)", e->n_changes - 3);
			putchar('\n');
		}
		if (rc == 0 && entries > shown)
			printf("  ... %" PRIu64 " events in all (statelog audit %s --log %s)\n", entries,
			       failed_job, log);
		check(rc == 0 && fail_seq > 0, "%s: %" PRIu64 " events audited, the first failure at "
		      "#%" PRIu64 "%s%s", failed_job, entries, fail_seq, rc < 0 ? ": " : "",
		      rc < 0 ? sl_audit_errmsg(au) : "");
		sl_audit_close(au);
		sl_proj_close(pj);
		/* Time travel: the job just after that failure, and now. */
		struct sl_job_state then, now;
		sl_state_init(&then);
		sl_state_init(&now);
		rc = fail_seq ? sl_backend_load_at(&then, be, failed_job, fail_seq, false, 0) : SL_EINVAL;
		if (rc == SL_OK)
			rc = sl_backend_load(&now, be, failed_job);
		if (rc == SL_OK) {
			const struct sl_sheet_state *sh_then = sl_state_find_sheet(&then, fail_sheet);
			const struct sl_sheet_state *sh_now = sl_state_find_sheet(&now, fail_sheet);
			printf("  as of #%" PRIu64 ": job %s, %" PRId64 " of %" PRId64 " sheets done, sheet %"
			       PRId64 " %s (attempt %" PRId64 ")\n", fail_seq, sl_job_status_name(then.status),
			       then.last_completed_sheet, then.total_sheets, fail_sheet,
			       sh_then ? sl_sheet_status_name(sh_then->status) : "-",
			       sh_then ? sh_then->attempt_count : 0);
			printf("  now:         job %s, %" PRId64 " of %" PRId64 " sheets done, sheet %" PRId64
			       " %s (attempt %" PRId64 ")\n", sl_job_status_name(now.status),
			       now.last_completed_sheet, now.total_sheets, fail_sheet,
			       sh_now ? sl_sheet_status_name(sh_now->status) : "-",
			       sh_now ? sh_now->attempt_count : 0);
			check(sh_then && sh_then->status == SL_SHEET_FAILED &&
			      (!sh_now || sh_now->attempt_count >= sh_then->attempt_count),
			      "time travel: sheet %" PRId64 " was failed as of #%" PRIu64, fail_sheet, fail_seq);
		} else {
			check(false, "time travel to #%" PRIu64 ": %s", fail_seq, sl_backend_errmsg(be));
		}
		sl_state_free(&then);
		sl_state_free(&now);
	} else {
		check(false, "the workload had a failed sheet");
	}

	/* 6. */
	step("The database deleted and rebuilt from the log");
	char *before = NULL, *after = NULL;
	size_t lb = 0, la = 0;
	uint64_t jobs_before = 0, jobs_after = 0;
	rc = all_answers(be, &before, &lb, &jobs_before);
	sl_backend_close(be);
	be = NULL;
	char side[4400];
	snprintf(side, sizeof(side), "%s-wal", db);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", db);
	unlink(side);
	bool deleted = rc == SL_OK && unlink(db) == 0;
	check(deleted, "deleted %s", db);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct sl_proj_stats ps;
	if (deleted)
		rc = sl_proj_rebuild(log, db, NULL, &ps, err, sizeof(err));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	check(deleted && rc == SL_OK, "rebuilt from the log: %" PRIu64 " events in %.2f s%s%s",
	      ps.events_applied, secs, rc ? ": " : "", rc ? err : "");
	if (rc == SL_OK && (rc = open_backend(&be, log, false, NULL, err, sizeof(err))) == SL_OK)
		rc = all_answers(be, &after, &la, &jobs_after);
	check(rc == SL_OK && before && after && lb == la && memcmp(before, after, lb) == 0,
	      "every query answers the same: %" PRIu64 " jobs, their states, sheets, statistics "
	      "and history (%zu bytes of answers compared)", jobs_after, la);
	free(before);
	free(after);

	/* 7. */
	step("The failed job's timeline, as a page");
	if (failed_job[0]) {
		char page[4400];
		uint64_t bytes = 0;
		sl_proj *pt = NULL;
		struct sl_proj_options po;
		sl_proj_options_init(&po);
		snprintf(page, sizeof(page), "%s/timeline.html", base);
		rc = sl_proj_open(&pt, log, db, &po, NULL, err, sizeof(err));
		if (rc == SL_OK)
			rc = cli_timeline_write_job(pt, failed_job, page, &bytes, err, sizeof(err));
		check(rc == SL_OK, "the timeline of %s: %s (%.0f KB; open it in a browser)%s%s",
		      failed_job, page, (double)bytes / 1e3, rc ? ": " : "", rc ? err : "");
		sl_proj_close(pt);
	}

	step("The log packed at rest (statelog status)");
	if (be) {
		sl_backend_close(be);  /* a writer packs its segment as it closes */
		be = NULL;
	}
	{
		struct sl_log_status ls;
		rc = sl_log_status(log, &ls, err, sizeof(err));
		double ratio = rc == SL_OK && ls.segment_bytes
			       ? (double)ls.event_bytes / (double)ls.segment_bytes : 0.0;
		check(rc == SL_OK && ls.unpacked_commits == 0,
		      "every commit packed once the writer closed: %.1f MB of events in %.1f MB "
		      "of segments (%.2fx), %" PRIu64 " commit(s) still raw%s%s",
		      rc == SL_OK ? (double)ls.event_bytes / 1e6 : 0.0,
		      rc == SL_OK ? (double)ls.segment_bytes / 1e6 : 0.0, ratio,
		      rc == SL_OK ? ls.unpacked_commits : 0, rc ? ": " : "", rc ? err : "");
		check(ratio >= 2.8, "the log at rest is at least 2.8 times smaller than its events "
		      "(%.2fx)", ratio);
	}

out:
	if (be)
		sl_backend_close(be);
	printf("\n%s: %d check(s) failed.  The log is %s, its database %s\n",
	       failures ? "FAILED" : "All good", failures, log, db);
	free(base);
	return failures ? SL_EXIT_FAIL : SL_EXIT_OK;
}
