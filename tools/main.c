/* main.c: `statelog`, the command-line program: dispatches to subcommands
 * in the style of git.  Only tools/ talks to people. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "sl_version.h"

struct command {
	const char *name;
	sl_cmd_fn fn;
	const char *summary;
};

static const struct command commands[] = {
	{ "init", cmd_init, "create a new, empty log" },
	{ "append", cmd_append, "append events given as JSON lines on standard input" },
	{ "dump", cmd_dump, "print events as text or JSON lines, filtered" },
	{ "status", cmd_status, "the state of a log at a glance: ends, sizes, views, writer" },
	{ "verify", cmd_verify, "check every byte of a log; exit 3 on damage" },
	{ "repair", cmd_repair, "salvage a damaged log around the damage" },
	{ "compact", cmd_compact, "pack every commit stored raw now (the segment being written too)" },
	{ "project", cmd_project, "catch the views (the SQLite database) up with the log" },
	{ "rebuild", cmd_rebuild, "rebuild the views from the whole log, swapping them in atomically" },
	{ "bench", cmd_bench, "measure the reference workload's figures" },
	{ "demo", cmd_demo, "a tour: workload, crash, recovery, and reading back" },
	{ "jobs", cmd_jobs, "list jobs, newest first (--status, --since, --limit)" },
	{ "show", cmd_show, "print the whole state of a job and its sheets" },
	{ "history", cmd_history, "print a job's execution history, newest first" },
	{ "stats", cmd_stats, "print a job's statistics" },
	{ "audit", cmd_audit, "tell how a job evolved: its story, or every change (--full)" },
	{ "timeline", cmd_timeline, "write a job's timeline, or the fleet's, as one web page" },
	{ "at", cmd_at, "write the whole database as it was at a sequence number or a time" },
	{ "import", cmd_import, "bootstrap a new log from the original backend's database or JSON files" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: statelog [--version] [--help] COMMAND [ARGS]\n\n"
		   "statelog keeps the state of orchestrated jobs as an append-only,\n"
		   "checksummed, compressed event log.\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nEvery command takes --help.  The log is found with --log DIR, else\n"
		   "$STATELOG_LOG, else ./statelog.log.  Exit codes: 0 success, 1 failure,\n"
		   "2 usage, 3 damage found, 4 not found, 5 log locked by another writer.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return SL_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return SL_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
		printf("statelog %s\n", sl_version());
		return SL_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "statelog: '%s' is not a command; see 'statelog --help'\n", argv[1]);
	return SL_EXIT_USAGE;
}
