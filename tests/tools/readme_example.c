/* A job kept by the backend: saved, one sheet run, its attempt recorded,
 * then read back.  The log (the truth) is argv[1]; the views beside it. */
#include <stdio.h>
#include <string.h>

#include <statelog/statelog.h>

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "example.log";
	struct sl_backend_options opts;
	sl_backend_options_init(&opts);
	opts.create = true;                 /* a new log if missing; durability: always */
	sl_backend *be;
	char err[512];
	if (sl_backend_open(&be, dir, &opts, err, sizeof(err)) != SL_OK) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}

	/* A new job, as the orchestrator saves it (the state owns its strings). */
	struct sl_job_state job;
	sl_state_init(&job);
	job.presence = SL_JOB_LIVE;
	job.id = strdup("nightly-build");
	job.name = strdup("Nightly build");
	job.total_sheets = 3;
	int rc = sl_backend_save(be, &job);     /* the changes, as events, in one commit */
	sl_state_free(&job);
	if (rc != SL_OK)
		goto fail;

	/* Sheet 1 runs: one event per call, each on disk when the call returns. */
	struct sl_execution_record attempt = {
		.job_id = "nightly-build", .sheet_num = 1, .attempt_num = 1,
		.prompt = "build the docs", .output = "done",
		.has_exit_code = true, .exit_code = 0,
		.has_duration_seconds = true, .duration_seconds = 42.5,
	};
	struct sl_sheet_completion completion = {
		.has_duration_seconds = true, .duration_seconds = 42.5,
	};
	int64_t execution_id, next;
	if ((rc = sl_backend_sheet_started(be, "nightly-build", 1)) != SL_OK ||
	    (rc = sl_backend_record_execution(&execution_id, be, &attempt)) != SL_OK ||
	    (rc = sl_backend_sheet_completed(be, "nightly-build", 1, &completion)) != SL_OK)
		goto fail;

	/* The job as it is now, and what runs next. */
	if ((rc = sl_backend_load(&job, be, "nightly-build")) != SL_OK ||
	    (rc = sl_backend_next_sheet(&next, be, "nightly-build")) != SL_OK)
		goto fail;
	printf("%s (%s): %s, %lld of %lld sheets done, next sheet %lld\n", job.id, job.name,
	       sl_job_status_name(job.status), (long long)job.last_completed_sheet,
	       (long long)job.total_sheets, (long long)next);
	printf("sheet 1: %s\n", sl_sheet_status_name(sl_state_find_sheet(&job, 1)->status));
	sl_state_free(&job);

	/* Its execution history, newest first (sheet 0: every sheet; limit 0: 100). */
	struct sl_execution_row *rows;
	size_t n;
	if ((rc = sl_backend_history(&rows, &n, be, "nightly-build", 0, 0)) != SL_OK)
		goto fail;
	for (size_t i = 0; i < n; i++)
		printf("execution %lld: sheet %lld, attempt %lld, exit code %lld, %.1f s\n",
		       (long long)rows[i].id, (long long)rows[i].sheet_num,
		       (long long)rows[i].attempt_num, (long long)rows[i].exit_code,
		       rows[i].duration_seconds);
	sl_backend_history_free(rows, n);

	printf("last event: #%llu\n", (unsigned long long)sl_backend_last_seq(be));
	return sl_backend_close(be) != SL_OK;

fail:
	fprintf(stderr, "%s: %s\n", sl_strerror(rc), sl_backend_errmsg(be));
	sl_backend_close(be);
	return 1;
}
