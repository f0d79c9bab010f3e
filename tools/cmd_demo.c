/* cmd_demo.c: `statelog demo [DIR]`, a guided tour that checks its own
 * claims: the reference workload written into a fresh log, a writer killed
 * with SIGKILL in the middle of its work, recovery on reopen with nothing
 * acknowledged lost, a full verification, and one job's history read back.
 * Exits non-zero when any claim fails. */
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

#include "bench.h"
#include "cli.h"
#include "event_json.h"
#include "log.h"
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

/* The child: appends the workload with durability `always`, writing each
 * acknowledged sequence number to the pipe, until killed. */
static void writer_child(const char *dir, int fd, uint64_t events)
{
	struct sl_log_options o;
	sl_log_options_init(&o);
	sl_log *log;
	if (sl_log_open(&log, dir, &o, NULL, NULL, 0) != SL_OK)
		_exit(3);
	struct sl_workload_options wo;
	sl_workload_options_init(&wo);
	wo.seed = 7;
	wo.events = events;
	sl_workload *w;
	if (sl_workload_new(&w, &wo) != SL_OK)
		_exit(3);
	sl_event *ev;
	while (sl_workload_next(w, &ev) == 1) {
		ev->has_time_us = 0;
		if (sl_log_append(log, &ev, 1, NULL) != SL_OK)
			_exit(4);
		uint64_t seq = ev->seq;
		if (write(fd, &seq, sizeof(seq)) != sizeof(seq))
			_exit(5);
	}
	_exit(0);
}

static const char demo_help[] =
	"usage: statelog demo [--events N] [DIR]\n\n"
	"A tour of statelog that checks every claim it makes, in under a minute:\n"
	"writes the reference workload into a fresh log in DIR (a new temporary\n"
	"directory by default, printed), kills a writer with SIGKILL in the middle\n"
	"of its work, reopens and shows what recovery found, verifies every byte,\n"
	"and reads one job's history back.  Exits 1 if any check fails.\n";

int cmd_demo(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "events", required_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t events = 20000;
	int c;
	optind = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'e':
			if (!cli_parse_u64(optarg, &events) || events < 100) {
				cli_err("demo", "--events: expected a number of at least 100, not '%s'", optarg);
				return SL_EXIT_USAGE;
			}
			break;
		case 'h': fputs(demo_help, stdout); return SL_EXIT_OK;
		default: fputs(demo_help, stderr); return SL_EXIT_USAGE;
		}
	}
	if (argc - optind > 1) {
		cli_err("demo", "unexpected argument '%s'", argv[optind + 1]);
		return SL_EXIT_USAGE;
	}
	char *base = NULL;
	if (optind < argc) {
		base = strdup(argv[optind]);
		if (mkdir(base, 0755) < 0 && errno != EEXIST) {
			cli_err("demo", "%s: %s", base, strerror(errno));
			free(base);
			return SL_EXIT_FAIL;
		}
	} else {
		base = bench_tmpdir(NULL);
		if (!base) {
			cli_err("demo", "cannot create a temporary directory: %s", strerror(errno));
			return SL_EXIT_FAIL;
		}
	}
	char dir[4200];
	snprintf(dir, sizeof(dir), "%s/demo.log", base);
	printf("statelog demo: working in %s\n", base);

	/* 1. the workload */
	step("The reference workload, one commit per state change");
	struct sl_log_options o;
	sl_log_options_init(&o);
	o.create = true;
	o.durability = SL_DURABLE_INTERVAL;
	sl_log *log;
	char err[1024] = "";
	int rc = sl_log_open(&log, dir, &o, NULL, err, sizeof(err));
	if (rc) {
		cli_err("demo", "%s", err);
		free(base);
		return cli_exit_for(rc);
	}
	struct sl_workload_options wo;
	sl_workload_options_init(&wo);
	wo.seed = 1;
	wo.events = events;
	sl_workload *w;
	rc = sl_workload_new(&w, &wo);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	sl_event *ev;
	uint64_t n = 0;
	char failed_job[256] = "";
	while (rc == SL_OK && sl_workload_next(w, &ev) == 1) {
		ev->has_time_us = 1;
		ev->time_us = sl_workload_time_us(w);
		if (!failed_job[0] && ev->body_case == STATELOG__EVENT__BODY_SHEET_FAILED)
			snprintf(failed_job, sizeof(failed_job), "%s", ev->job_id);
		rc = sl_log_append(log, &ev, 1, NULL);
		n++;
	}
	sl_workload_free(w);
	int crc = sl_log_close(log);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	check(rc == SL_OK && crc == SL_OK, "appended %" PRIu64 " events in %.2f s (%.0f/s, durability interval)",
	      n, secs, (double)n / secs);

	/* 2. a writer killed mid-work */
	step("A writer killed with SIGKILL in the middle of its work");
	int fds[2];
	if (pipe(fds) < 0) {
		cli_err("demo", "pipe: %s", strerror(errno));
		free(base);
		return SL_EXIT_FAIL;
	}
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		close(fds[0]);
		writer_child(dir, fds[1], 1000000);
	}
	close(fds[1]);
	uint64_t acked = 0, seq;
	uint64_t reads = 0;
	while (read(fds[0], &seq, sizeof(seq)) == sizeof(seq)) {
		acked = seq;
		if (++reads == 300) {
			kill(pid, SIGKILL);
			break;
		}
	}
	/* Anything acknowledged before the kill landed is still in the pipe. */
	while (read(fds[0], &seq, sizeof(seq)) == sizeof(seq))
		acked = seq;
	close(fds[0]);
	int st;
	waitpid(pid, &st, 0);
	check(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
	      "writer (pid %d) killed after acknowledging up to seq %" PRIu64 " (durability always)",
	      (int)pid, acked);

	/* 3. recovery */
	step("Reopening: recovery");
	struct sl_recovery_report rep;
	sl_log_options_init(&o);
	rc = sl_log_open(&log, dir, &o, &rep, err, sizeof(err));
	check(rc == SL_OK, "reopened the log%s%s", rc ? ": " : "", rc ? err : "");
	if (rc == SL_OK) {
		if (rep.tail_cut)
			printf("  recovery cut a torn tail: %" PRIu64 " bytes at offset %" PRIu64
			       " of %s, kept in %s\n", rep.bytes_cut, rep.cut_offset, rep.segment, rep.aside);
		else
			printf("  the last commit was whole: nothing to cut\n");
		uint64_t next = sl_log_next_seq(log);
		check(next > acked, "every acknowledged commit is there (log ends at seq %" PRIu64
		      ", last acknowledged %" PRIu64 ")", next - 1, acked);
		check(!rep.seq_lost, "nothing whole was cut");
		sl_log_close(log);
	}

	/* 4. verify */
	step("Verifying every byte");
	struct sl_verify_report v;
	rc = sl_log_verify(dir, NULL, &v, NULL, NULL, err, sizeof(err));
	check(rc == SL_OK && !v.damaged && !v.torn_tail, "sound: %u segment(s), %" PRIu64
	      " commits, %" PRIu64 " events; %.1f MB of events stored in %.1f MB (%.2fx)",
	      v.segments, v.commits, v.events, (double)v.raw_bytes / 1e6, (double)v.stored_bytes / 1e6,
	      v.stored_bytes ? (double)v.raw_bytes / (double)v.stored_bytes : 0.0);

	/* 5. one job's history */
	step("The history of a job that failed and was retried");
	if (!failed_job[0]) {
		check(false, "the workload had a failed sheet");
	} else {
		sl_reader *r;
		rc = sl_reader_open(&r, dir, NULL, err, sizeof(err));
		check(rc == SL_OK, "reader opened");
		struct sl_record rec;
		uint64_t shown = 0, of_job = 0;
		bool saw_retry = false;
		while (rc == SL_OK && sl_reader_next(r, &rec) == 1) {
			if (rec.lost)
				continue;
			sl_event *e;
			if (sl_event_decode(&e, rec.data, rec.len, rec.seq, rec.time_us))
				break;
			if (e->job_id && strcmp(e->job_id, failed_job) == 0) {
				of_job++;
				if (e->body_case == STATELOG__EVENT__BODY_SHEET_FAILED)
					saw_retry = true;
				if (shown < 14) {
					char *line = NULL;
					if (sl_event_to_text(e, &line) == SL_OK)
						printf("  %s\n", line);
					free(line);
					shown++;
				}
			}
			sl_event_free(e);
		}
		if (of_job > shown)
			printf("  ... and %" PRIu64 " more events of %s\n", of_job - shown, failed_job);
		check(saw_retry && of_job > 3, "job %s: %" PRIu64 " events, including a failed attempt",
		      failed_job, of_job);
		sl_reader_close(r);
	}

	printf("\n%s: %d check(s) failed.  The log is in %s\n", failures ? "FAILED" : "All good",
	       failures, dir);
	free(base);
	return failures ? SL_EXIT_FAIL : SL_EXIT_OK;
}
