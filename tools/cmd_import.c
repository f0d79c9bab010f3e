/* cmd_import.c: `statelog import`, a new log bootstrapped from the original
 * backend's SQLite database or JSON state files (projector/import.h does
 * the work; this file reads the command line and talks to people). */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "import.h"
#include "timefmt.h"

static const char import_help[] =
	"usage: statelog import [--log DIR] [--db PATH] [--json | --quiet] --from-db FILE\n"
	"       statelog import [--log DIR] [--db PATH] [--json | --quiet]\n"
	"                       --from-json DIR|FILE [FILE...]\n\n"
	"Bootstraps a new log from what the original Python backend left behind: its\n"
	"SQLite database (schema versions 1 to 4, told apart by schema_version and by\n"
	"the columns present), or its JSON state files (one job per file; a directory\n"
	"means every *.json file in it; each must be a regular file, and a FIFO, device\n"
	"or directory named *.json is refused).  The events keep the original times,\n"
	"and each history row keeps its id.\n\n"
	"The source is read and checked first; a damaged row (a bad timestamp, an\n"
	"unknown status, a JSON column that is not JSON, a sheet number out of range,\n"
	"a row whose job does not exist, ...) is reported with its job, sheet and\n"
	"column, and nothing is written.  A timestamp without an offset (read as UTC,\n"
	"as older versions of the original wrote them) or with another offset is\n"
	"taken, stored in the original's form, and said; so is '' in a JSON column,\n"
	"taken as NULL as the original's load() reads it.  The log is then built\n"
	"beside DIR, projected into the database (beside the log unless --db), and\n"
	"every row of jobs, sheets and execution_history is compared with the source;\n"
	"only when all of them answer as the source did are the log and the database\n"
	"put in place.\n\n"
	"An import creates a new log: DIR must not exist (or be an empty directory)\n"
	"and neither may the database, so importing the same source twice is refused.\n\n"
	"  --log DIR         the new log (else $STATELOG_LOG, else ./statelog.log)\n"
	"  --db PATH         the new database (default: DIR with .log replaced by .db)\n"
	"  --from-db FILE    the original's SQLite database (opened read-only)\n"
	"  --from-json PATH  state files: a file or a directory; more may follow\n"
	"  --json            what was imported as one JSON object (the counts, the\n"
	"                    times, \"note\", \"fixes\", \"normalized\", \"kept\",\n"
	"                    \"replaced\" and their notes)\n"
	"  --quiet           print nothing but errors\n\n"
	"Exit codes: 0 imported and checked; 1 failure; 2 usage, a target that\n"
	"exists, or a file that is not the original's; 3 a damaged source row or a\n"
	"projection that differs from the source; 4 no such source.\n";

static void progress(void *ctx, const char *phase, uint64_t done, uint64_t total)
{
	(void)ctx;
	char label[64];
	snprintf(label, sizeof label, "import: %s", phase);
	cli_progress(label, done, total);
}

static int import_exit(int rc)
{
	/* A target that exists is refused like `init` refuses one. */
	return rc == SL_EEXIST ? SL_EXIT_USAGE : cli_exit_for(rc);
}

/* One line of the report: n things of a kind, the first `shown` of them
 * named in note; nothing when n is 0. */
static void say_counted(uint64_t n, const char *what, const char *note, uint64_t shown)
{
	if (n)
		printf("  %" PRIu64 " %s: %s%s\n", n, what, note, n > shown ? "; ..." : "");
}

int cmd_import(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "log", required_argument, NULL, 'l' },
		{ "db", required_argument, NULL, 'd' },
		{ "from-db", required_argument, NULL, 'D' },
		{ "from-json", required_argument, NULL, 'J' },
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *logopt = NULL, *dbopt = NULL, *from_db = NULL;
	const char **json = calloc((size_t)argc, sizeof *json);
	size_t n_json = 0;
	sl_import *imp = NULL;
	int code = SL_EXIT_USAGE, c, rc;
	bool as_json = false, quiet = false;
	if (!json) {
		cli_err("import", "out of memory");
		return SL_EXIT_FAIL;
	}
	optind = 0;
	while ((c = getopt_long(argc, argv, "l:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'j': as_json = true; break;
		case 'q': quiet = true; break;
		case 'l': logopt = optarg; break;
		case 'd': dbopt = optarg; break;
		case 'D':
			if (from_db) {
				cli_err("import", "--from-db given twice");
				goto done;
			}
			from_db = optarg;
			break;
		case 'J': json[n_json++] = optarg; break;
		case 'h':
			fputs(import_help, stdout);
			code = SL_EXIT_OK;
			goto done;
		default:
			code = cli_usage(import_help);
			goto done;
		}
	}
	/* Further operands are more state files: --from-json a.json b.json. */
	for (; optind < argc; optind++) {
		if (n_json == 0) {
			cli_err("import", "unexpected argument '%s'", argv[optind]);
			goto done;
		}
		json[n_json++] = argv[optind];
	}
	if (!from_db == !n_json) {
		cli_err("import", "give either --from-db FILE or --from-json PATH... "
			"(see statelog import --help)");
		goto done;
	}

	const char *dir = cli_log_dir(logopt);
	const char *db = cli_db_path(dir, dbopt);
	if ((code = cli_refuse_in_log("import", dir, db, "--db")) != SL_EXIT_OK)
		goto done;
	code = SL_EXIT_USAGE;
	struct sl_import_options io;
	sl_import_options_init(&io);
	io.progress = progress;
	if ((rc = sl_import_new(&imp, &io)) != SL_OK) {
		cli_err("import", "%s", sl_strerror(rc));
		code = SL_EXIT_FAIL;
		goto done;
	}
	rc = from_db ? sl_import_read_db(imp, from_db) : SL_OK;
	for (size_t i = 0; rc == SL_OK && i < n_json; i++)
		rc = sl_import_read_json(imp, json[i]);
	if (rc == SL_OK)
		rc = sl_import_write(imp, dir, db, NULL);
	cli_progress_done();
	if (rc != SL_OK) {
		cli_err("import", "%s (nothing imported)",
			sl_import_errmsg(imp)[0] ? sl_import_errmsg(imp) : sl_strerror(rc));
		code = import_exit(rc);
		goto done;
	}

	struct sl_import_report r;
	sl_import_get_report(&r, imp);
	char t0[SL_TIME_BUFSZ] = "-", t1[SL_TIME_BUFSZ] = "-";
	if (r.events) {
		sl_time_format(r.first_time_us, t0, sizeof t0);
		sl_time_format(r.last_time_us, t1, sizeof t1);
	}
	code = SL_EXIT_OK;
	if (as_json) {
		json_t *j = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "log", dir,
				      "db", db, "log_id", r.log_id, "jobs", (json_int_t)r.jobs,
				      "sheets", (json_int_t)r.sheets,
				      "executions", (json_int_t)r.executions,
				      "events", (json_int_t)r.events, "commits", (json_int_t)r.commits,
				      "rows_compared", (json_int_t)r.rows_compared,
				      "fixes", (json_int_t)r.fixes);
		if (j) {
			json_object_set_new(j, "source", json_string(from_db ? from_db : json[0]));
			json_object_set_new(j, "source_version", from_db ? json_integer(r.source_version)
									 : json_null());
			json_object_set_new(j, "first_time", r.events ? json_string(t0) : json_null());
			json_object_set_new(j, "last_time", r.events ? json_string(t1) : json_null());
			json_object_set_new(j, "note", r.note[0] ? json_string(r.note) : json_null());
			json_object_set_new(j, "fixes_note", r.fixes ? json_string(r.fixes_note)
								     : json_null());
			json_object_set_new(j, "normalized", json_integer((json_int_t)r.normalized));
			json_object_set_new(j, "normalized_note", r.normalized
					    ? json_string(r.normalized_note) : json_null());
			json_object_set_new(j, "kept", json_integer((json_int_t)r.kept));
			json_object_set_new(j, "kept_note", r.kept ? json_string(r.kept_note)
								 : json_null());
			json_object_set_new(j, "replaced", json_integer((json_int_t)r.replaced));
			json_object_set_new(j, "replaced_note", r.replaced
					    ? json_string(r.replaced_note) : json_null());
		}
		code = cli_print_json("import", j);
		goto done;
	}
	if (quiet)
		goto done;
	if (from_db)
		printf("read %s: schema version %d\n", from_db, r.source_version);
	else
		printf("read the JSON state files in %s%s\n", json[0], n_json > 1 ? " and the rest" : "");
	if (r.note[0])
		printf("  note: %s\n", r.note);
	printf("imported %" PRIu64 " jobs, %" PRIu64 " sheets and %" PRIu64 " history rows "
	       "into %s (log %s)\n", r.jobs, r.sheets, r.executions, dir, r.log_id);
	printf("  %" PRIu64 " events in %" PRIu64 " commits, %s to %s\n", r.events, r.commits,
	       t0, t1);
	printf("checked %s: %" PRIu64 " rows answer as the source did\n", db, r.rows_compared);
	say_counted(r.fixes, "value(s) read back as the original's load() returns them (its "
		    "load-time invariants)", r.fixes_note, 3);
	say_counted(r.normalized, "timestamp(s) in another form of the same instant (no offset: "
		    "UTC; another offset: converted), stored in the original's form",
		    r.normalized_note, 3);
	say_counted(r.kept, "field(s) the tables have no column for, kept with their jobs "
		    "(show --json gives them)", r.kept_note, 8);
	say_counted(r.replaced, "text(s) holding NUL characters, stored with U+FFFD in place of "
		    "each", r.replaced_note, 3);
done:
	sl_import_free(imp);
	free(json);
	return code;
}
