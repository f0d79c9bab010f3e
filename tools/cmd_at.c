/* cmd_at.c: `statelog at`, time travel for the whole database: a complete
 * database of the view schema as it was at a sequence number or an instant,
 * readable by anything that reads the live one (timetravel.h). */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "projector.h"
#include "timefmt.h"
#include "history.h"

static const char at_help[] =
	"usage: statelog at (--seq N | --time TIME) --out FILE [--no-snapshots]\n"
	"                   [--log DIR] [--db PATH] [--json | --quiet]\n\n"
	"Writes FILE: the whole database of the views (jobs, sheets,\n"
	"execution_history, statelog's bookkeeping) as it was after event N, or\n"
	"after the last event at or before TIME, row for row what the live views\n"
	"held then.  FILE is written beside as FILE.tmp and renamed when complete, and\n"
	"marked as of its point: the reading commands (--db FILE) read it as it is,\n"
	"`project` leaves it there, and a writer refuses it.\n"
	"  --seq N          a sequence number, 1 to the log's last (N or '#N')\n"
	"  --time TIME      ISO-8601 (2026-11-26T02:49:38Z; without a zone: local time),\n"
	"                   a date (its midnight, local), now, or relative: -90s, -15m,\n"
	"                   -2h, -3d, -1w, -1h30m\n"
	"  --out FILE       the database to write (replaced if it exists)\n"
	"  --no-snapshots   replay the log from its start instead of starting from\n"
	"                   the nearest snapshot (the same result; without it, the\n"
	"                   faster way for the point is taken)\n"
	"  --json           {\"out\", \"seq\", \"snapshot_seq\" (or null),\n"
	"                   \"events_replayed\", \"made_from\" (\"log\", \"live rows\",\n"
	"                   \"live copy\", \"keyframe\"), \"keyframe_seq\" (or null)}\n"
	"                   instead of the line said\n"
	"  --quiet          print nothing but errors\n"
	"It is made the way that costs least for the point, from the log's start or\n"
	"from the nearest snapshot, with a copy of the live views or of the keyframe\n"
	"that `statelog project` keeps for a large log (all give the same rows; a\n"
	"file made from a copy keeps the copy's size).  Snapshots or a keyframe found\n"
	"damaged or taken from another log are not used and said so on standard\n"
	"error; the result does not depend on them.\n"
	"Exit codes: 0 written; 1 failure; 2 usage, a sequence number past the end or\n"
	"a time before the log began; 3 damage; 4 no such log.\n";

int cmd_at(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "seq", required_argument, NULL, 's' },
		{ "time", required_argument, NULL, 't' },
		{ "out", required_argument, NULL, 'o' },
		{ "no-snapshots", no_argument, NULL, 'N' },
		{ "log", required_argument, NULL, 'l' },
		{ "db", required_argument, NULL, 'D' },
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *log = NULL, *db = NULL, *out = NULL;
	uint64_t seq = 0;
	int64_t time_us = 0;
	bool has_seq = false, has_time = false, json = false, quiet = false;
	unsigned flags = 0;
	int c, idx = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, "qh", opts, &idx)) != -1) {
		bool ok = true;
		switch (c) {
		case 'j': json = true; break;
		case 'q': quiet = true; break;
		case 's': has_seq = ok = cli_parse_seq(optarg, &seq); break;
		case 't':
			if (!(has_time = cli_parse_time(optarg, &time_us))) {
				cli_bad_time("at", "time", optarg);
				return SL_EXIT_USAGE;
			}
			break;
		case 'o': out = optarg; break;
		case 'N': flags |= SL_TT_NO_SNAPSHOTS; break;
		case 'l': log = optarg; break;
		case 'D': db = optarg; break;
		case 'h': fputs(at_help, stdout); return SL_EXIT_OK;
		default: return cli_usage(at_help);
		}
		if (!ok) {
			cli_err("at", "--%s: bad value '%s'", opts[idx].name, optarg);
			return SL_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		cli_err("at", "unexpected argument '%s'", argv[optind]);
		return SL_EXIT_USAGE;
	}
	if (has_seq == has_time || !out) {
		cli_err("at", "give one of --seq and --time, and --out; see 'statelog at --help'");
		return SL_EXIT_USAGE;
	}
	int rc = cli_refuse_in_log("at", cli_log_dir(log), out, "--out");
	if (rc != SL_EXIT_OK)
		return rc;
	sl_proj *p = NULL;
	rc = cli_open_views("at", log, db, &p);
	if (rc != SL_EXIT_OK)
		return rc;
	struct sl_tt_report rep = { 0 };
	if (has_time)
		rc = sl_tt_seq_at_time(&seq, p, time_us);
	if (rc == SL_OK)
		rc = sl_tt_write_db(p, seq, out, flags, &rep);
	int ex = SL_EXIT_OK;
	if (rep.damaged || rep.foreign)
		cli_err("at", "warning: %" PRIu32 " damaged and %" PRIu32 " foreign snapshot(s) "
			"discarded, first: %s", rep.damaged, rep.foreign, rep.note);
	if (rc != SL_OK) {
		ex = cli_fail("at", rc, sl_proj_errmsg(p));
	} else if (json) {
		json_t *j = json_pack("{s:s, s:I, s:I}", "out", out, "seq", (json_int_t)seq,
				      "events_replayed", (json_int_t)rep.events_replayed);
		if (j) {
			json_object_set_new(j, "snapshot_seq", rep.snapshot_seq
					    ? json_integer((json_int_t)rep.snapshot_seq) : json_null());
			json_object_set_new(j, "made_from", json_string(
				rep.keyframe_seq ? "keyframe" : rep.copied ? "live copy"
				: rep.snapshot_seq ? "live rows" : "log"));
			json_object_set_new(j, "keyframe_seq", rep.keyframe_seq
					    ? json_integer((json_int_t)rep.keyframe_seq) : json_null());
		}
		ex = cli_print_json("at", j);
	} else if (quiet) {
		/* nothing */
	} else if (rep.snapshot_seq) {
		char how[128] = "";
		if (rep.keyframe_seq == rep.snapshot_seq && rep.keyframe_seq)
			snprintf(how, sizeof how, " (a copy of the keyframe)");
		else if (rep.keyframe_seq)
			snprintf(how, sizeof how, " (a copy of the keyframe as of seq %" PRIu64 ", what "
				 "came after taken back)", rep.keyframe_seq);
		else if (rep.copied)
			snprintf(how, sizeof how, " (a copy of the live views, what came after taken "
				 "back)");
		printf("%s: the views as of seq %" PRIu64 ", from the snapshot at seq %" PRIu64
		       "%s and %" PRIu64 " events replayed\n", out, seq, rep.snapshot_seq, how,
		       rep.events_replayed);
	} else {
		printf("%s: the views as of seq %" PRIu64 ", %" PRIu64 " events replayed from the "
		       "start of the log%s%s\n", out, seq, rep.events_replayed,
		       rep.note[0] && !rep.damaged && !rep.foreign ? ": " : "",
		       rep.note[0] && !rep.damaged && !rep.foreign ? rep.note : "");
	}
	sl_proj_close(p);
	return ex;
}
