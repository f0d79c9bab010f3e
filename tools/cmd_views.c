/* cmd_views.c: the subcommands that keep the views (the SQLite database
 * projected from a log) up to date: `statelog project` catches them up,
 * `statelog rebuild` makes them anew from the whole log. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "history.h"
#include "projector.h"

/* --json and --quiet. */
struct out_opts {
	bool json;
	bool quiet;
};

/* A run as one JSON object (--json): what it applied, where the views are,
 * and the notes print_notes() gives as text. */
static json_t *run_json(const char *log_dir, const char *db, const struct sl_proj_stats *st)
{
	json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I}", "log", log_dir, "db", db,
			      "applied", (json_int_t)st->events_applied,
			      "transactions", (json_int_t)st->transactions,
			      "last_seq", (json_int_t)st->last_seq,
			      "refused", (json_int_t)st->rejected_events,
			      "gaps", (json_int_t)st->gaps,
			      "unknown_skipped", (json_int_t)st->unknown_events);
	if (o)
		json_object_set_new(o, "first_refused_seq",
				    st->rejected_events ? json_integer((json_int_t)st->first_rejected_seq)
							: json_null());
	return o;
}

/* Notes that accompany any run: events refused by the rules, gaps, skipped
 * unknown events. */
static void print_notes(const char *cmd, const struct sl_proj_stats *st)
{
	if (st->rejected_events)
		printf("%" PRIu64 " event(s) refused by the rules of the model (the first at seq %"
		       PRIu64 "); they change no view\n", st->rejected_events, st->first_rejected_seq);
	if (st->gaps)
		printf("%" PRIu64 " sequence number(s) lost to a repair were skipped\n", st->gaps);
	if (st->unknown_events)
		fprintf(stderr, "statelog %s: %" PRIu64 " event(s) of unknown types skipped (--force)\n",
			cmd, st->unknown_events);
}

/* Parses the options both commands share.  Returns -1 to go on, else an
 * exit code. */
static int parse(int argc, char **argv, const char *cmd, const char *help, bool with_force,
		 const char **log_opt, const char **db_opt, struct sl_proj_options *o,
		 bool *follow, struct out_opts *out)
{
	static const struct option opts[] = {
		{ "log", required_argument, NULL, 'l' },
		{ "db", required_argument, NULL, 'd' },
		{ "batch", required_argument, NULL, 'b' },
		{ "force", no_argument, NULL, 'f' },
		{ "no-snapshots", no_argument, NULL, 'n' },
		{ "follow", no_argument, NULL, 'F' },
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, idx = 0;
	uint64_t batch;
	optind = 0;
	*out = (struct out_opts){ 0 };
	while ((c = getopt_long(argc, argv, "qh", opts, &idx)) != -1) {
		switch (c) {
		case 'j': out->json = true; break;
		case 'q': out->quiet = true; break;
		case 'l': *log_opt = optarg; break;
		case 'd': *db_opt = optarg; break;
		case 'b':
			if (!cli_parse_u64(optarg, &batch) || batch < 1 || batch > UINT32_MAX) {
				cli_err(cmd, "--batch: bad value '%s' (1 or more events)", optarg);
				return SL_EXIT_USAGE;
			}
			o->batch_events = (uint32_t)batch;
			break;
		case 'f':
			if (!with_force) {
				return cli_usage(help);
			}
			o->skip_unknown = true;
			break;
		case 'n':
			if (!with_force) {
				return cli_usage(help);
			}
			o->no_snapshots = true;
			break;
		case 'F':
			if (!follow) {
				return cli_usage(help);
			}
			*follow = true;
			break;
		case 'h': fputs(help, stdout); return SL_EXIT_OK;
		default: return cli_usage(help);
		}
	}
	if (optind != argc) {
		cli_err(cmd, "unexpected argument '%s'", argv[optind]);
		return SL_EXIT_USAGE;
	}
	return -1;
}

/* ---- project ---- */

/* The keyframe for time travel (history.h, sl_tt_keyframe_refresh()), made
 * again when the views have moved away from it.  A failure is a warning:
 * the views are caught up, and time travel works without it. */
static void keep_keyframe(sl_proj *p, const char *db, const struct out_opts *out)
{
	uint64_t made = 0;
	double t0 = cli_mono_s();
	if (sl_tt_keyframe_refresh(p, SL_TT_KEYFRAME_MIN, &made) != SL_OK)
		cli_err("project", "warning: %s: the keyframe for time travel: %s", db,
			sl_proj_errmsg(p));
	else if (made && !out->quiet && !out->json)
		printf("made the keyframe for time travel: the views as of seq %" PRIu64 " (%.1f s)\n",
		       made, cli_mono_s() - t0);
}

/* project --follow: a catch-up whenever the log's directory changes, until
 * SIGINT or SIGTERM (SL_OK) or a failure. */
static int follow_log(sl_proj *p, const char *log_dir, const char *db,
		      const struct out_opts *out)
{
	struct cli_watch w;
	char err[512];
	if (cli_watch_open(&w, log_dir, err, sizeof err) != 0) {
		cli_err("project", "--follow: %s", err);
		return SL_EIO;
	}
	fflush(stdout);
	int rc = SL_OK, got;
	uint64_t next_keyframe = sl_proj_last_seq(p) + sl_proj_last_seq(p) / 16 + 1;
	/* A commit may have landed between the first catch-up and the watch:
	 * one catch-up first, then one per change. */
	do {
		struct sl_proj_stats st;
		rc = sl_proj_catch_up(p, &st);
		if (rc != SL_OK) {
			cli_err("project", "%s", sl_proj_errmsg(p));
			break;
		}
		if (st.rebuilt)
			cli_err("project", "warning: %s: %s", db, st.rebuilt_why);
		/* The keyframe is looked at again once the views grew by 1/16. */
		if (st.last_seq >= next_keyframe) {
			keep_keyframe(p, db, out);
			next_keyframe = st.last_seq + st.last_seq / 16 + 1;
		}
		if (st.events_applied && out->json) {
			if (cli_print_json("project", run_json(log_dir, db, &st)) != SL_EXIT_OK) {
				rc = SL_ENOMEM;
				break;
			}
			fflush(stdout);
		} else if (st.events_applied && !out->quiet) {
			printf("applied %" PRIu64 " event(s); %s is at seq %" PRIu64 "\n",
			       st.events_applied, db, st.last_seq);
			print_notes("project", &st);
			fflush(stdout);
		}
	} while ((got = cli_watch_wait(&w)) > 0);
	if (rc == SL_OK && got < 0) {
		cli_err("project", "--follow: %s: %s", log_dir, strerror(errno));
		rc = SL_EIO;
	}
	cli_watch_close(&w);
	return rc;
}

static const char project_help[] =
	"usage: statelog project [--log DIR] [--db PATH] [--batch N] [--follow]\n"
	"                        [--json | --quiet]\n\n"
	"Catches the views up with the log: applies every event after the last one\n"
	"the database applied, in transactions of N events (default 50,000), each\n"
	"writing its position with its rows, so that it can be run again or killed\n"
	"at any moment.  Creates the database when it is missing; rebuilds it when it\n"
	"is of another views version or ahead of the log.  Prints the events applied\n"
	"and the position.  Then keeps the keyframe for time travel (see `statelog\n"
	"at`): with 200,000 events or more, the views as of the snapshot point\n"
	"nearest 55% of them, written as PATH.keyframe when it is missing or no longer\n"
	"between 40% and 70% of the views (--follow: looked at each time the views\n"
	"grew by a sixteenth).\n\n"
	"  --log DIR    the log (else $STATELOG_LOG, else ./statelog.log)\n"
	"  --db PATH    the database (default: DIR with .log replaced by .db)\n"
	"  --follow     then keep the views current: catch up again whenever the log\n"
	"               changes (woken by the file system, through a writer's segment\n"
	"               rolls and restarts), until SIGINT or SIGTERM; prints one line\n"
	"               per catch-up that applied something\n"
	"  --json       one JSON object per catch-up instead: \"applied\",\n"
	"               \"transactions\", \"last_seq\", \"refused\" (events the rules\n"
	"               refused), \"gaps\", \"rebuilt\", \"as_of\" (as-of database)\n"
	"  --quiet      print nothing but errors\n\n"
	"Exit codes: 0 caught up (--follow: stopped by a signal); 1 failure (SQLite,\n"
	"I/O, an event of a type this build does not know: catch-up stops before it);\n"
	"2 usage; 3 damage in the log, or a database of another log (left alone); 4 no\n"
	"such log.\n";

int cmd_project(int argc, char **argv)
{
	const char *log_opt = NULL, *db_opt = NULL;
	struct sl_proj_options o;
	sl_proj_options_init(&o);
	bool follow = false;
	struct out_opts out;
	int rc = parse(argc, argv, "project", project_help, false, &log_opt, &db_opt, &o, &follow,
		       &out);
	if (rc >= 0)
		return rc;
	const char *log_dir = cli_log_dir(log_opt);
	const char *db = cli_db_path(log_dir, db_opt);
	if ((rc = cli_refuse_in_log("project", log_dir, db, "--db")) != SL_EXIT_OK)
		return rc;
	sl_proj *p = NULL;
	struct sl_proj_stats opened, st;
	char err[1024] = "";
	o.progress = cli_progress_count;
	o.progress_ctx = (void *)"project";
	rc = sl_proj_open(&p, log_dir, db, &o, &opened, err, sizeof err);
	cli_progress_done();
	if (rc != SL_OK)
		return cli_fail("project", rc, err);
	bool text = !out.json && !out.quiet;
	if (opened.rebuilt && text)
		printf("rebuilt %s from %s (%" PRIu64 " events): %s\n", db, log_dir,
		       opened.events_applied, opened.rebuilt_why);
	uint64_t as_of = sl_proj_as_of_seq(p);
	if (as_of) {
		if (text)
			printf("%s is an as-of database (the views as of seq %" PRIu64 ", written by "
			       "`statelog at`): left as it is\n", db, as_of);
		sl_proj_close(p);
		if (out.json)
			return cli_print_json("project", json_pack("{s:s, s:s, s:I, s:I}", "log",
								   log_dir, "db", db, "applied",
								   (json_int_t)0, "as_of",
								   (json_int_t)as_of));
		return SL_EXIT_OK;
	}
	rc = sl_proj_catch_up(p, &st);
	cli_progress_done();
	if (rc != SL_OK)
		cli_fail("project", rc, sl_proj_errmsg(p));
	if (out.json && (rc == SL_OK || st.events_applied)) {
		json_t *j = run_json(log_dir, db, &st);
		if (j) {
			json_object_set_new(j, "rebuilt", json_boolean(opened.rebuilt));
			json_object_set_new(j, "as_of", json_null());
		}
		if (cli_print_json("project", j) != SL_EXIT_OK && rc == SL_OK)
			rc = SL_ENOMEM;
	} else if (text) {
		if (rc == SL_OK || st.events_applied)
			printf("applied %" PRIu64 " event(s) in %" PRIu64 " transaction(s); %s is at "
			       "seq %" PRIu64 "\n", st.events_applied, st.transactions, db,
			       st.last_seq);
		print_notes("project", &st);
	}
	if (rc == SL_OK)
		keep_keyframe(p, db, &out);
	if (rc == SL_OK && follow)
		rc = follow_log(p, log_dir, db, &out);
	sl_proj_close(p);
	return cli_exit_for(rc);
}

/* ---- rebuild ---- */

static const char rebuild_help[] =
	"usage: statelog rebuild [--log DIR] [--db PATH] [--batch N] [--force] [--no-snapshots]\n"
	"                        [--json | --quiet]\n\n"
	"Projects the whole log into a new database beside PATH, then copies it into\n"
	"PATH in one SQLite transaction: readers and projectors in other processes\n"
	"see the old views or the new ones, never a half-built database, and keep\n"
	"their connections.  A database of another log, or a file that is not\n"
	"statelog's views, is refused and left alone.  Shows progress on a terminal.\n\n"
	"  --log DIR    the log (else $STATELOG_LOG, else ./statelog.log)\n"
	"  --db PATH    the database (default: DIR with .log replaced by .db)\n"
	"  --no-snapshots  take no time-travel snapshot points while rebuilding\n"
	"               (faster; time travel then replays from older points)\n"
	"  --force      count and skip events of types this build does not know\n"
	"               (without it, such an event stops the rebuild, which then\n"
	"               replaces nothing)\n"
	"  --json       one JSON object instead: \"applied\", \"last_seq\", \"seconds\",\n"
	"               \"refused\", \"gaps\", \"unknown_skipped\"\n"
	"  --quiet      print nothing but errors\n\n"
	"Exit codes: 0 rebuilt; 1 failure; 2 usage; 3 damage in the log, a database\n"
	"of another log, or a file that is not statelog's views; 4 no such log; 5\n"
	"another rebuild of PATH is running.\n";

int cmd_rebuild(int argc, char **argv)
{
	const char *log_opt = NULL, *db_opt = NULL;
	struct sl_proj_options o;
	sl_proj_options_init(&o);
	struct out_opts out;
	int rc = parse(argc, argv, "rebuild", rebuild_help, true, &log_opt, &db_opt, &o, NULL, &out);
	if (rc >= 0)
		return rc;
	const char *log_dir = cli_log_dir(log_opt);
	const char *db = cli_db_path(log_dir, db_opt);
	if ((rc = cli_refuse_in_log("rebuild", log_dir, db, "--db")) != SL_EXIT_OK)
		return rc;
	o.progress = cli_progress_count;
	o.progress_ctx = (void *)"rebuild";
	struct sl_proj_stats st;
	char err[1024] = "";
	double t0 = cli_mono_s();
	rc = sl_proj_rebuild(log_dir, db, &o, &st, err, sizeof err);
	double dt = cli_mono_s() - t0;
	cli_progress_done();
	if (rc != SL_OK)
		return cli_fail("rebuild", rc, err);
	if (out.json) {
		json_t *j = run_json(log_dir, db, &st);
		if (j)
			json_object_set_new(j, "seconds", json_real(dt));
		return cli_print_json("rebuild", j);
	}
	if (out.quiet)
		return SL_EXIT_OK;
	printf("rebuilt %s from %s: %" PRIu64 " events in %.2f s (%.0f events/s); at seq %" PRIu64
	       "\n", db, log_dir, st.events_applied, dt,
	       dt > 0 ? (double)st.events_applied / dt : 0.0, st.last_seq);
	print_notes("rebuild", &st);
	return SL_EXIT_OK;
}
