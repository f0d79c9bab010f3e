/* be_daemon: a long-running process that keeps the backend open on a log,
 * as an orchestrator's daemon does, and runs one call per line of standard
 * input, answering each with one line on standard output (flushed), so that
 * a test can interleave its calls with the CLI commands of other processes.
 * Usage: be_daemon LOG_DIR, then lines of:
 *   save JOB TOTAL      a new job with TOTAL sheets
 *   start JOB N         sheet_started
 *   exec JOB N          record_execution of sheet N; answers its id
 *   show JOB            answers "JOB STATUS current=C last_completed=L"
 * Answers "ok ..." or "error: MESSAGE".  Closes the backend at the end of
 * its input.  Not installed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"

static void answer(int rc, sl_backend *be, const char *what)
{
	if (rc == SL_OK)
		printf("ok %s\n", what);
	else
		printf("error: %s\n", sl_backend_errmsg(be));
	fflush(stdout);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fputs("usage: be_daemon LOG_DIR < calls\n", stderr);
		return 2;
	}
	struct sl_backend_options o;
	sl_backend_options_init(&o);
	o.create = true;
	sl_backend *be = NULL;
	char err[1024] = "";
	if (sl_backend_open(&be, argv[1], &o, err, sizeof err) != SL_OK) {
		fprintf(stderr, "be_daemon: %s\n", err);
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	char line[512], cmd[16], job[256];
	long long n;
	while (fgets(line, sizeof line, stdin)) {
		if (sscanf(line, "%15s %255s %lld", cmd, job, &n) != 3 &&
		    !(sscanf(line, "%15s %255s", cmd, job) == 2 && strcmp(cmd, "show") == 0)) {
			printf("error: bad line\n");
			fflush(stdout);
			continue;
		}
		if (strcmp(cmd, "save") == 0) {
			struct sl_job_state st;
			sl_state_init(&st);
			st.presence = SL_JOB_LIVE;
			st.id = job;
			st.name = job;
			st.total_sheets = n;
			answer(sl_backend_save(be, &st), be, job);
		} else if (strcmp(cmd, "start") == 0) {
			answer(sl_backend_sheet_started(be, job, n), be, job);
		} else if (strcmp(cmd, "exec") == 0) {
			struct sl_execution_record r = { .job_id = job, .sheet_num = n, .attempt_num = 1 };
			int64_t id = 0;
			int rc = sl_backend_record_execution(&id, be, &r);
			char what[64];
			snprintf(what, sizeof what, "%lld", (long long)id);
			answer(rc, be, what);
		} else if (strcmp(cmd, "show") == 0) {
			struct sl_job_state st;
			int rc = sl_backend_load(&st, be, job);
			if (rc == SL_OK) {
				printf("ok %s %s current=%lld last_completed=%lld\n", job,
				       sl_job_status_name(st.status), (long long)st.current_sheet,
				       (long long)st.last_completed_sheet);
				fflush(stdout);
				sl_state_free(&st);
			} else {
				answer(rc, be, job);
			}
		} else {
			printf("error: unknown call '%s'\n", cmd);
			fflush(stdout);
		}
	}
	int rc = sl_backend_close(be);
	if (rc != SL_OK)
		fprintf(stderr, "be_daemon: close: %s\n", sl_strerror(rc));
	return rc == SL_OK ? 0 : 1;
}
