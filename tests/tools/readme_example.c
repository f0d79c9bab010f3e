/* Append two events to a log as one commit, then read the log back. */
#include <stdio.h>
#include <string.h>

#include <statelog/log.h>

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "example.log";
	struct sl_log_options opts;
	sl_log_options_init(&opts);
	opts.create = true;                      /* durability: always (the default) */
	sl_log *log;
	char err[512];
	if (sl_log_open(&log, dir, &opts, NULL, err, sizeof(err)) != SL_OK) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}

	sl_event *a = NULL, *b = NULL;
	if (sl_event_new(&a, "pid_set", "nightly-build") != SL_OK ||
	    sl_event_set_int(a, "pid", 4242) != SL_OK ||
	    sl_event_new(&b, "sheet_started", "nightly-build") != SL_OK ||
	    sl_event_set_int(b, "sheet_num", 1) != SL_OK) {
		fprintf(stderr, "building the events failed\n");
		return 1;
	}
	sl_event *commit[] = { a, b };
	struct sl_commit_info info;
	int rc = sl_log_append(log, commit, 2, &info);  /* on disk when it returns */
	sl_event_free(a);
	sl_event_free(b);
	if (rc != SL_OK) {
		fprintf(stderr, "append: %s\n", sl_log_errmsg(log));
		sl_log_close(log);
		return 1;
	}
	printf("appended seq %llu-%llu\n", (unsigned long long)info.first_seq,
	       (unsigned long long)info.last_seq);
	sl_log_close(log);

	sl_reader *r;
	if (sl_reader_open(&r, dir, NULL, err, sizeof(err)) != SL_OK) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	struct sl_record rec;
	while ((rc = sl_reader_next(r, &rec)) == 1) {
		sl_event *ev;
		if (rec.lost || sl_event_decode(&ev, rec.data, rec.len, rec.seq, rec.time_us) != SL_OK)
			continue;
		printf("#%llu %s %s\n", (unsigned long long)rec.seq, sl_event_job_id(ev),
		       sl_event_type_name(ev));
		sl_event_free(ev);
	}
	if (rc < 0)
		fprintf(stderr, "read: %s\n", sl_reader_errmsg(r));
	sl_reader_close(r);
	return rc < 0;
}
