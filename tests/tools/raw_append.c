/* raw_append: appends JSON-lines events (the form `statelog append` reads)
 * to a log with the log API alone, as a C program that links only the log
 * does: nothing checks them against the rules of the model.  The tests use
 * it to put into a log what `statelog append` refuses, and to see that
 * every reader (project, rebuild, audit, time travel) refuses it the same
 * way, and to write a log whose segments roll often.
 * Usage: raw_append LOG_DIR [SEGMENT_BYTES] < events.jsonl: one commit of
 * every line, or with SEGMENT_BYTES (rolling past that size) one commit per
 * line.  Not installed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "event_json.h"
#include "log.h"

int main(int argc, char **argv)
{
	if (argc != 2 && argc != 3) {
		fputs("usage: raw_append LOG_DIR [SEGMENT_BYTES] < events.jsonl\n", stderr);
		return 2;
	}
	unsigned long long seg = argc == 3 ? strtoull(argv[2], NULL, 10) : 0;
	sl_event **evs = NULL;
	size_t n = 0, cap = 0;
	char *line = NULL, err[512];
	size_t linecap = 0;
	ssize_t len;
	int status = 0;
	while ((len = getline(&line, &linecap, stdin)) > 0) {
		if (len == 1 && line[0] == '\n')
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			sl_event **v = realloc(evs, cap * sizeof *v);
			if (!v) {
				fputs("raw_append: out of memory\n", stderr);
				status = 1;
				goto out;
			}
			evs = v;
		}
		if (sl_event_from_json(&evs[n], line, (size_t)len, err, sizeof err) != SL_OK) {
			fprintf(stderr, "raw_append: line %zu: %s\n", n + 1, err);
			status = 2;
			goto out;
		}
		n++;
	}
	struct sl_log_options o;
	sl_log_options_init(&o);
	if (seg)
		o.segment_size = seg;
	sl_log *log;
	if (sl_log_open(&log, argv[1], &o, NULL, err, sizeof err) != SL_OK) {
		fprintf(stderr, "raw_append: %s\n", err);
		status = 1;
		goto out;
	}
	struct sl_commit_info info;
	size_t step = seg ? 1 : n;
	for (size_t i = 0; i < n && status == 0; i += step) {
		if (sl_log_append(log, evs + i, step, &info) != SL_OK) {
			fprintf(stderr, "raw_append: %s\n", sl_log_errmsg(log));
			status = 1;
		}
	}
	if (n && status == 0)
		printf("appended %zu event(s): last seq %llu\n", n,
		       (unsigned long long)info.last_seq);
	if (sl_log_close(log) != SL_OK)
		status = 1;
out:
	for (size_t i = 0; i < n; i++)
		sl_event_free(evs[i]);
	free(evs);
	free(line);
	return status;
}
