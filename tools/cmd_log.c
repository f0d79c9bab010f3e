/* cmd_log.c: the subcommands that work on the log itself: init, append,
 * dump, verify, repair. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "event_internal.h"
#include "event_json.h"
#include "backend.h"
#include "log.h"
#include "timefmt.h"

/* Parses --durability. */
static bool parse_durability(const char *s, enum sl_durability *out)
{
	if (strcmp(s, "always") == 0)
		*out = SL_DURABLE_ALWAYS;
	else if (strcmp(s, "interval") == 0)
		*out = SL_DURABLE_INTERVAL;
	else if (strcmp(s, "none") == 0)
		*out = SL_DURABLE_NONE;
	else
		return false;
	return true;
}

static void print_recovery(const char *cmd, const struct sl_recovery_report *rep)
{
	if (rep->tail_cut) {
		fprintf(stderr, "statelog %s: recovered: cut a torn tail of %" PRIu64 " bytes at offset %"
			PRIu64 " of %s (kept in %s)", cmd, rep->bytes_cut, rep->cut_offset, rep->segment,
			rep->aside);
		if (rep->seq_lost)
			fprintf(stderr, "; it held unsynced commits %" PRIu64 "-%" PRIu64,
				rep->lost_first_seq, rep->lost_last_seq);
		else
			fprintf(stderr, "; no whole commit was in it");
		fputc('\n', stderr);
	}
	if (rep->empty_segment_removed)
		fprintf(stderr, "statelog %s: recovered: set aside %s as %s, a last segment whose header "
			"was never written (%" PRIu64 " bytes, all zero): no event was in it\n", cmd,
			rep->segment, rep->aside, rep->bytes_cut);
	if (rep->indexes_rebuilt)
		fprintf(stderr, "statelog %s: rebuilt %u missing or stale index file(s)\n", cmd,
			rep->indexes_rebuilt);
}

/* --json and --quiet of a command that says what it did. */
struct out_opts {
	bool json;
	bool quiet;
};

/* Parses the arguments of a command whose options are --log, --json and
 * --quiet: returns -1 to go on (*logopt, *out set), or the exit code (help
 * printed, or a usage error). */
static int parse_log_only(int argc, char **argv, const char *cmd, const char *help,
			  const char **logopt, struct out_opts *out)
{
	static const struct option opts[] = {
		{ "log", required_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	optind = 0;
	*out = (struct out_opts){ 0 };
	while ((c = getopt_long(argc, argv, "l:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'l': *logopt = optarg; break;
		case 'j': out->json = true; break;
		case 'q': out->quiet = true; break;
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

/* ---- init ---- */

static const char init_help[] =
	"usage: statelog init [--log DIR] [--json | --quiet]\n\n"
	"Creates a new, empty log in DIR (made if missing; its parent must exist)\n"
	"and prints its id.\n"
	"  --json    {\"log\": DIR, \"log_id\": ID} instead\n"
	"  --quiet   print nothing but errors\n"
	"Exit codes: 0 created; 1 failure; 2 usage, or DIR already holds a log.\n";

int cmd_init(int argc, char **argv)
{
	const char *logopt = NULL;
	struct out_opts out;
	int ex = parse_log_only(argc, argv, "init", init_help, &logopt, &out);
	if (ex >= 0)
		return ex;
	const char *dir = cli_log_dir(logopt);
	struct sl_log_options o;
	sl_log_options_init(&o);
	sl_log *log;
	char err[1024] = "";
	/* Refuse to "init" over an existing log. */
	sl_reader *r;
	if (sl_reader_open(&r, dir, NULL, NULL, 0) == SL_OK) {
		sl_reader_close(r);
		cli_err("init", "%s: a log already exists here", dir);
		return SL_EXIT_USAGE;
	}
	o.create = true;
	int rc = sl_log_open(&log, dir, &o, NULL, err, sizeof(err));
	if (rc)
		return cli_fail("init", rc, err);
	uint8_t id[SL_LOG_ID_SIZE];
	char hex[2 * SL_LOG_ID_SIZE + 1];
	sl_log_id(id, log);
	sl_log_id_format(hex, id);
	rc = sl_log_close(log);
	if (rc) {
		cli_err("init", "%s: %s", dir, sl_strerror(rc));
		return cli_exit_for(rc);
	}
	if (out.json)
		return cli_print_json("init", json_pack("{s:s, s:s}", "log", dir, "log_id", hex));
	if (!out.quiet)
		printf("created log %s in %s\n", hex, dir);
	return SL_EXIT_OK;
}

/* ---- append ---- */

static const char append_help[] =
	"usage: statelog append [--log DIR] [--db PATH] [--durability always|interval|none]\n"
	"                       [--batch N] [--busy-timeout MS] [--json | --quiet]\n\n"
	"Reads events as JSON lines on standard input, one object per line:\n"
	"  {\"job_id\": \"j1\", \"type\": \"sheet_started\", \"body\": {\"sheet_num\": 1}}\n"
	"optionally with \"time\" (ISO-8601) or \"time_us\" (at most a day ahead of the\n"
	"clock).  Every line is checked before anything is written: a malformed line\n"
	"is an error naming its line number, and the rules of the model (the ones every\n"
	"call of the backend API is held to) check each event against its job's latest\n"
	"state, as the events before it in the input leave it; a refused event is named\n"
	"with the rules' reason, and then nothing of the input is appended.  The whole\n"
	"input is one commit (all or nothing) unless --batch N splits it into commits of\n"
	"N events.  Blank lines are skipped.  Prints the sequence numbers given\n"
	"(--json: {\"appended\": N, \"first_seq\": A, \"last_seq\": B}; --quiet: nothing).\n"
	"--db: the views database the jobs' states are read from (default: beside the\n"
	"log, DIR with .log replaced by .db).\n"
	"Other processes may write the log at the same time (a daemon, other commands):\n"
	"they take turns, one commit at a time, and each event is checked against what\n"
	"the others wrote.  --busy-timeout: how long to wait for another writer to give\n"
	"the log back (default 5000 ms).\n\n"
	"Exit codes: 0 appended, 2 bad input or refused by the rules (nothing appended),\n"
	"3 damaged log, 4 an event for a job that does not exist, 5 another writer held\n"
	"the log past the busy timeout, 1 any other failure.\n";

int cmd_append(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "log", required_argument, NULL, 'l' },
		{ "durability", required_argument, NULL, 'd' },
		{ "batch", required_argument, NULL, 'b' },
		{ "db", required_argument, NULL, 'D' },
		{ "busy-timeout", required_argument, NULL, 'B' },
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *logopt = NULL, *dbopt = NULL;
	struct out_opts out = { 0 };
	struct sl_log_options o;
	sl_log_options_init(&o);
	uint64_t batch = 0, busy = 0;
	int c;
	optind = 0;
	while ((c = getopt_long(argc, argv, "l:d:b:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'l': logopt = optarg; break;
		case 'D': dbopt = optarg; break;
		case 'j': out.json = true; break;
		case 'q': out.quiet = true; break;
		case 'd':
			if (!parse_durability(optarg, &o.durability)) {
				cli_err("append", "--durability: expected always, interval or none, not '%s'", optarg);
				return SL_EXIT_USAGE;
			}
			break;
		case 'b':
			if (!cli_parse_u64(optarg, &batch) || batch == 0) {
				cli_err("append", "--batch: expected a positive number, not '%s'", optarg);
				return SL_EXIT_USAGE;
			}
			break;
		case 'B':
			if (!cli_parse_u64(optarg, &busy) || busy == 0 || busy > UINT32_MAX) {
				cli_err("append", "--busy-timeout: expected milliseconds (1 or more), "
					"not '%s'", optarg);
				return SL_EXIT_USAGE;
			}
			break;
		case 'h': fputs(append_help, stdout); return SL_EXIT_OK;
		default: return cli_usage(append_help);
		}
	}
	if (optind != argc) {
		cli_err("append", "unexpected argument '%s'", argv[optind]);
		return SL_EXIT_USAGE;
	}
	const char *dir = cli_log_dir(logopt);
	int status = cli_refuse_in_log("append", dir, cli_db_path(dir, dbopt), "--db");
	if (status != SL_EXIT_OK)
		return status;
	sl_event **evs = NULL;
	size_t n = 0, cap = 0;
	char *line = NULL;
	size_t linecap = 0;
	ssize_t len;
	uint64_t lineno = 0;
	while ((len = getline(&line, &linecap, stdin)) >= 0) {
		lineno++;
		size_t l = (size_t)len;
		while (l && (line[l - 1] == '\n' || line[l - 1] == '\r'))
			l--;
		size_t k = 0;
		while (k < l && (line[k] == ' ' || line[k] == '\t'))
			k++;
		if (k == l)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			sl_event **nv = realloc(evs, cap * sizeof(*nv));
			if (!nv) {
				cli_err("append", "out of memory");
				status = SL_EXIT_FAIL;
				goto out;
			}
			evs = nv;
		}
		char err[512] = "";
		if (sl_event_from_json(&evs[n], line, l, err, sizeof(err)) != SL_OK) {
			cli_err("append", "stdin:%" PRIu64 ": %s (nothing appended)", lineno, err);
			status = SL_EXIT_USAGE;
			goto out;
		}
		n++;
	}
	if (ferror(stdin)) {
		cli_err("append", "stdin: %s (nothing appended)", strerror(errno));
		status = SL_EXIT_FAIL;
		goto out;
	}
	if (n == 0) {
		cli_err("append", "no events on standard input");
		status = SL_EXIT_USAGE;
		goto out;
	}
	/* The backend: the rules of the model hold every event to what the
	 * API's calls are held to, against the jobs' latest states. */
	sl_backend *be;
	struct sl_recovery_report rep;
	struct sl_backend_options bo;
	sl_backend_options_init(&bo);
	bo.durability = o.durability;
	bo.busy_timeout_ms = (uint32_t)busy;
	bo.db_path = cli_db_path(dir, dbopt);
	bo.report = &rep;
	char err[1024] = "";
	int rc = sl_backend_open(&be, dir, &bo, err, sizeof(err));
	if (rc) {
		status = cli_fail("append", rc, err);
		goto out;
	}
	print_recovery("append", &rep);
	if (!batch)
		batch = n;
	uint64_t first = 0, last = 0;
	for (size_t i = 0; i < n && rc == SL_OK; i += batch) {
		size_t k = n - i < batch ? n - i : batch;
		struct sl_commit_info info;
		rc = sl_backend_append(&info, be, evs + i, k);
		if (rc == SL_OK) {
			if (!first)
				first = info.first_seq;
			last = info.last_seq;
		} else {
			/* The backend says "append: event K (...)", K counted
			 * in this commit: said here as counted in the input. */
			const char *m = sl_backend_errmsg(be);
			if (strncmp(m, "append: ", 8) == 0)
				m += 8;
			if (i)
				cli_err("append", "in the commit of events %zu-%zu: %s; the %zu "
					"before it were appended (see below)", i + 1, i + k,
					m[0] ? m : sl_strerror(rc), i);
			else
				cli_err("append", "%s (nothing appended)", m[0] ? m : sl_strerror(rc));
		}
	}
	int crc = sl_backend_close(be);
	if (rc == SL_OK && crc != SL_OK) {
		cli_err("append", "%s: closing: %s", dir, sl_strerror(crc));
		rc = crc;
	}
	/* Refused by the rules: bad input (exit 2), but for an event of a job
	 * that does not exist (exit 4), as everywhere. */
	if (sl_rules_refused(rc) && rc != SL_ENOTFOUND)
		rc = SL_EINVAL;
	status = cli_exit_for(rc);
	if (out.json) {
		/* also after a failure: the commits before it were appended */
		json_t *j = json_pack("{s:I}", "appended", (json_int_t)(first ? last - first + 1 : 0));
		if (j && first) {
			json_object_set_new(j, "first_seq", json_integer((json_int_t)first));
			json_object_set_new(j, "last_seq", json_integer((json_int_t)last));
		}
		if (cli_print_json("append", j) != SL_EXIT_OK && status == SL_EXIT_OK)
			status = SL_EXIT_FAIL;
	} else if (first && !out.quiet) {
		printf("appended %" PRIu64 " event(s): seq %" PRIu64 "-%" PRIu64 "\n", last - first + 1,
		       first, last);
	}
out:
	for (size_t i = 0; i < n; i++)
		sl_event_free(evs[i]);
	free(evs);
	free(line);
	return status;
}

/* ---- dump ---- */

static const char dump_help[] =
	"usage: statelog dump [--log DIR] [--json] [--job ID] [--from SEQ] [--to SEQ]\n"
	"                     [--since TIME] [--until TIME] [--follow]\n\n"
	"Prints the log's events in order, one per line: as text, or with --json as\n"
	"JSON objects (the form `append` reads).  Filters: --job, a sequence range\n"
	"(inclusive; N or '#N'), a time range (ISO-8601 such as\n"
	"2026-11-26T02:49:38+00:00, local time without a zone; a date, its midnight;\n"
	"now; a relative time such as -2h, -15m, -3d, -1w, -1h30m; --since inclusive,\n"
	"--until exclusive).  --follow keeps waiting for new events (woken by the\n"
	"file system, not by a timer) until SIGINT or SIGTERM, then exits 0.  Events\n"
	"of a type this build does not know are printed as such; sequence numbers\n"
	"lost to a repair are printed as a gap.\n"
	"Exit codes: 0 printed (--follow: stopped by a signal); 1 failure; 2 usage;\n"
	"3 damage found (the events before it are printed); 4 no such log.\n";

int cmd_dump(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "log", required_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' },
		{ "job", required_argument, NULL, 'J' },
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "since", required_argument, NULL, 's' },
		{ "until", required_argument, NULL, 'u' },
		{ "follow", no_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *logopt = NULL, *job = NULL;
	bool json = false, follow = false, watching = false;
	struct cli_watch w;
	uint64_t from = 1, to = UINT64_MAX;
	int64_t since = INT64_MIN, until = INT64_MAX;
	int c;
	optind = 0;
	while ((c = getopt_long(argc, argv, "l:h", opts, NULL)) != -1) {
		switch (c) {
		case 'l': logopt = optarg; break;
		case 'j': json = true; break;
		case 'J': job = optarg; break;
		case 'F': follow = true; break;
		case 'f':
		case 't':
			if (!cli_parse_seq(optarg, c == 'f' ? &from : &to)) {
				cli_err("dump", "--%s: expected a sequence number, not '%s'",
					c == 'f' ? "from" : "to", optarg);
				return SL_EXIT_USAGE;
			}
			break;
		case 's':
		case 'u':
			if (!cli_parse_time(optarg, c == 's' ? &since : &until)) {
				cli_bad_time("dump", c == 's' ? "since" : "until", optarg);
				return SL_EXIT_USAGE;
			}
			break;
		case 'h': fputs(dump_help, stdout); return SL_EXIT_OK;
		default: return cli_usage(dump_help);
		}
	}
	if (optind != argc) {
		cli_err("dump", "unexpected argument '%s'", argv[optind]);
		return SL_EXIT_USAGE;
	}
	const char *dir = cli_log_dir(logopt);
	sl_reader *r;
	char err[1024] = "";
	int rc = sl_reader_open(&r, dir, NULL, err, sizeof(err));
	if (rc)
		return cli_fail("dump", rc, err);
	if (since != INT64_MIN)
		rc = sl_reader_seek_time(r, since);
	if (rc == SL_OK && from > 1)
		rc = sl_reader_seek_seq(r, from);
	struct sl_record rec;
	int got = rc ? rc : 0;
	while (rc == SL_OK) {
		got = sl_reader_next(&rec, r);
		if (got == 0 && follow) {
			fflush(stdout);
			if (!watching) {
				char werr[512];
				if (cli_watch_open(&w, dir, werr, sizeof werr) != 0) {
					cli_err("dump", "--follow: %s", werr);
					rc = SL_EIO;
					break;
				}
				watching = true;
				continue;       /* what landed before the watch began */
			}
			int wr = cli_watch_wait(&w);
			if (wr > 0)
				continue;
			if (wr < 0) {
				cli_err("dump", "--follow: %s: %s", dir, strerror(errno));
				rc = SL_EIO;
			}
			break;
		}
		if (got <= 0)
			break;
		if (rec.seq > to || rec.time_us >= until)
			break;
		if (rec.seq < from || rec.time_us < since)
			continue;
		if (rec.lost) {
			if (job)
				continue;
			if (json)
				printf("{\"seq\": %" PRIu64 ", \"type\": \"gap\", \"lost\": %u}\n", rec.seq, rec.lost);
			else
				printf("#%" PRIu64 "-%" PRIu64 " lost (salvaged by repair)\n", rec.seq,
				       rec.seq + rec.lost - 1);
			continue;
		}
		sl_event *ev;
		if (sl_event_decode(&ev, rec.data, rec.len, rec.seq, rec.time_us)) {
			cli_err("dump", "%s: event %" PRIu64 " does not decode", dir, rec.seq);
			got = SL_ECORRUPT;
			break;
		}
		if (!job || (ev->job_id && strcmp(ev->job_id, job) == 0)) {
			char *s = NULL;
			if (json)
				s = sl_event_to_json_line(ev);
			else
				sl_event_to_text(&s, ev);
			if (!s) {
				sl_event_free(ev);
				cli_err("dump", "out of memory");
				got = SL_ENOMEM;
				break;
			}
			puts(s);
			free(s);
		}
		sl_event_free(ev);
	}
	if (got < 0 && got != SL_ECORRUPT)
		cli_fail("dump", got, sl_reader_errmsg(r));
	else if (got == SL_ECORRUPT && sl_reader_errmsg(r)[0])
		cli_err("dump", "%s", sl_reader_errmsg(r));
	if (watching)
		cli_watch_close(&w);
	sl_reader_close(r);
	if (rc == SL_EIO && got >= 0)
		return SL_EXIT_FAIL;
	if (fflush(stdout) != 0) {
		cli_err("dump", "standard output: %s", strerror(errno));
		return SL_EXIT_FAIL;
	}
	return got < 0 ? cli_exit_for(got) : SL_EXIT_OK;
}

/* ---- compact ---- */

static const char compact_help[] =
	"usage: statelog compact [--log DIR] [--json | --quiet]\n\n"
	"Packs every commit the log stores raw now: the sealed segments the background\n"
	"compactor has not reached yet, and the segment being appended to (which a\n"
	"writer otherwise packs once idle for a second, and when it closes, when it\n"
	"holds at least 256 KiB stored raw).  Commits, sequence\n"
	"numbers, times and checksums do not change, only how the bytes are stored;\n"
	"the crash-safety rules of log/FORMAT.md hold throughout (a segment is\n"
	"replaced by a complete packed copy, never rewritten in place).  Takes the\n"
	"writer lock (waiting for another writer as `append` does).  Prints the\n"
	"bytes of segments before and after.\n"
	"  --json    {\"log\": DIR, \"bytes_before\": N, \"bytes_after\": N} instead\n"
	"  --quiet   print nothing but errors\n"
	"Exit codes: 0 packed; 1 failure; 2 usage; 3 damaged log; 4 no such log;\n"
	"5 another writer held the log past the busy timeout.\n";

int cmd_compact(int argc, char **argv)
{
	const char *logopt = NULL;
	struct out_opts out;
	int ex = parse_log_only(argc, argv, "compact", compact_help, &logopt, &out);
	if (ex >= 0)
		return ex;
	const char *dir = cli_log_dir(logopt);
	struct sl_log_options o;
	sl_log_options_init(&o);
	sl_log *log;
	struct sl_recovery_report rep;
	char err[1024] = "";
	int rc = sl_log_open(&log, dir, &o, &rep, err, sizeof err);
	if (rc != SL_OK) {
		cli_err("compact", "%s", err);
		return cli_exit_for(rc);
	}
	print_recovery("compact", &rep);
	int64_t before = cli_segment_bytes(dir);
	rc = sl_log_compact(log);
	if (rc != SL_OK)
		cli_err("compact", "%s: %s", dir, sl_log_errmsg(log)[0] ? sl_log_errmsg(log)
								  : sl_strerror(rc));
	int crc = sl_log_close(log);
	if (rc == SL_OK && crc != SL_OK) {
		cli_err("compact", "%s: closing: %s", dir, sl_strerror(crc));
		rc = crc;
	}
	int64_t after = cli_segment_bytes(dir);
	if (rc != SL_OK)
		return cli_exit_for(rc);
	if (out.json)
		return cli_print_json("compact", json_pack("{s:s, s:I, s:I}", "log", dir,
							   "bytes_before", (json_int_t)before,
							   "bytes_after", (json_int_t)after));
	if (!out.quiet)
		printf("compacted %s: segments %" PRId64 " -> %" PRId64 " bytes\n", dir, before,
		       after);
	return SL_EXIT_OK;
}

/* ---- verify ---- */

static const char verify_help[] =
	"usage: statelog verify [--log DIR] [--json | --quiet]\n\n"
	"Reads the whole log: every segment header, commit checksum, chain link,\n"
	"compressed payload and event, and prints what it holds; on damage, the\n"
	"first damage (segment and byte offset).  A torn last commit (a writer\n"
	"mid-append, or one that died: its next open cuts it) is reported but is not\n"
	"damage.  Missing or stale index files are reported.\n"
	"  --json    one JSON object: \"sound\", the counts and positions, and\n"
	"            \"damage\" {\"what\", \"segment\", \"offset\"} when damaged\n"
	"  --quiet   print only damage\n"
	"Exit codes: 0 sound; 1 failure (I/O); 2 usage; 3 damage found; 4 no such log.\n";

/* verify --json: the report as one object. */
static json_t *verify_json(const char *dir, const struct sl_verify_report *v)
{
	char a[SL_TIME_BUFSZ], b[SL_TIME_BUFSZ];
	json_t *o = json_pack("{s:s, s:b, s:i, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:i}",
			      "log", dir, "sound", !v->damaged, "segments", (int)v->segments,
			      "commits", (json_int_t)v->commits, "events", (json_int_t)v->events,
			      "first_seq", (json_int_t)v->first_seq,
			      "last_seq", (json_int_t)v->last_seq,
			      "event_bytes", (json_int_t)v->raw_bytes,
			      "stored_bytes", (json_int_t)v->stored_bytes,
			      "index_bytes", (json_int_t)v->index_bytes,
			      "unknown_events", (json_int_t)v->unknown_events,
			      "stale_indexes", (int)v->stale_indexes);
	if (!o)
		return NULL;
	bool times = v->events && sl_time_format(v->first_time_us, a, sizeof a) == SL_OK &&
		     sl_time_format(v->last_time_us, b, sizeof b) == SL_OK;
	json_object_set_new(o, "first_time", times ? json_string(a) : json_null());
	json_object_set_new(o, "last_time", times ? json_string(b) : json_null());
	json_object_set_new(o, "ratio", json_real(v->stored_bytes ? (double)v->raw_bytes /
						  (double)v->stored_bytes : 0.0));
	json_object_set_new(o, "torn_tail", v->torn_tail ? json_integer((json_int_t)v->torn_offset)
							 : json_null());
	json_object_set_new(o, "damage", !v->damaged ? json_null() :
			    json_pack("{s:s, s:s, s:I}", "what", v->damage, "segment",
				      v->damage_segment, "offset", (json_int_t)v->damage_offset));
	return o;
}

int cmd_verify(int argc, char **argv)
{
	const char *logopt = NULL;
	struct out_opts out;
	int ex = parse_log_only(argc, argv, "verify", verify_help, &logopt, &out);
	if (ex >= 0)
		return ex;
	bool quiet = out.quiet;
	const char *dir = cli_log_dir(logopt);
	struct sl_verify_report v;
	char err[1024] = "";
	int rc = sl_log_verify(dir, NULL, &v, cli_progress, (void *)"verify", err, sizeof(err));
	cli_progress_done();
	if (rc)
		return cli_fail("verify", rc, err);
	if (out.json) {
		ex = cli_print_json("verify", verify_json(dir, &v));
		return ex == SL_EXIT_OK && v.damaged ? SL_EXIT_DAMAGED : ex;
	}
	if (v.damaged) {
		printf("DAMAGED: %s\n", v.damage);
		printf("  segment %s, offset %" PRIu64 "; %" PRIu64 " events before it are sound\n",
		       v.damage_segment, v.damage_offset, v.events);
		printf("  `statelog repair` salvages around it\n");
		return SL_EXIT_DAMAGED;
	}
	if (!quiet) {
		char a[40] = "-", b[40] = "-";
		if (v.events) {
			sl_time_format(v.first_time_us, a, sizeof(a));
			sl_time_format(v.last_time_us, b, sizeof(b));
		}
		printf("sound: %u segment(s), %" PRIu64 " commits, %" PRIu64 " events (seq %" PRIu64
		       "-%" PRIu64 ")\n", v.segments, v.commits, v.events, v.first_seq, v.last_seq);
		printf("  time %s .. %s\n", a, b);
		printf("  %" PRIu64 " bytes of events stored in %" PRIu64 " bytes (%.2fx), indexes %"
		       PRIu64 " bytes\n", v.raw_bytes, v.stored_bytes,
		       v.stored_bytes ? (double)v.raw_bytes / (double)v.stored_bytes : 0.0, v.index_bytes);
		if (v.unknown_events)
			printf("  %" PRIu64 " event(s) of types this build does not know (a newer writer)\n",
			       v.unknown_events);
		if (v.stale_indexes)
			printf("  %u index file(s) missing or stale: the next writer rebuilds them\n",
			       v.stale_indexes);
		if (v.torn_tail && v.torn_offset == 0)
			printf("  the last segment's header was never written (a crash while it was "
			       "created): no event is in it, and the next writer sets it aside\n");
		else if (v.torn_tail)
			printf("  torn last commit at offset %" PRIu64 " (a writer is appending, or died: "
			       "its next open cuts it)\n", v.torn_offset);
	}
	return SL_EXIT_OK;
}

/* ---- repair ---- */

static const char repair_help[] =
	"usage: statelog repair [--log DIR] [--json | --quiet]\n\n"
	"Salvages a damaged log: keeps every commit that can still be read, records\n"
	"each range of lost sequence numbers as an explicit gap, and moves the old\n"
	"files into DIR/damaged-<time>/.  A sound log is left alone.  Takes the\n"
	"writer lock.  Prints what it kept and lost.\n"
	"  --json    {\"log\", \"changed\", \"commits_kept\", \"events_lost\", \"gaps\",\n"
	"            \"first_lost\": [A, B] or null, \"aside\": DIR or null} instead\n"
	"  --quiet   print nothing but errors\n"
	"Exit codes: 0 repaired, or nothing to repair; 1 failure; 2 usage; 4 no such\n"
	"log; 5 another writer holds the log.\n";

int cmd_repair(int argc, char **argv)
{
	const char *logopt = NULL;
	struct out_opts out;
	int ex = parse_log_only(argc, argv, "repair", repair_help, &logopt, &out);
	if (ex >= 0)
		return ex;
	const char *dir = cli_log_dir(logopt);
	struct sl_repair_report rep;
	char err[1024] = "";
	int rc = sl_log_repair(dir, NULL, &rep, err, sizeof(err));
	if (rc)
		return cli_fail("repair", rc, err);
	if (out.json) {
		json_t *o = json_pack("{s:s, s:b, s:I, s:I, s:i}", "log", dir, "changed", rep.changed,
				      "commits_kept", (json_int_t)rep.commits_kept,
				      "events_lost", (json_int_t)rep.events_lost, "gaps", (int)rep.gaps);
		if (o) {
			json_object_set_new(o, "first_lost", !rep.gaps ? json_null() :
					    json_pack("[I, I]", (json_int_t)rep.lost_first_seq,
						      (json_int_t)rep.lost_last_seq));
			json_object_set_new(o, "aside", rep.changed ? json_string(rep.aside)
								    : json_null());
		}
		return cli_print_json("repair", o);
	}
	if (out.quiet)
		return SL_EXIT_OK;
	if (!rep.changed) {
		printf("%s: no damage found; nothing changed\n", dir);
		return SL_EXIT_OK;
	}
	printf("repaired %s: kept %" PRIu64 " commits; lost %" PRIu64 " event(s) in %u range(s)",
	       dir, rep.commits_kept, rep.events_lost, rep.gaps);
	if (rep.gaps)
		printf(", the first seq %" PRIu64 "-%" PRIu64, rep.lost_first_seq, rep.lost_last_seq);
	printf("\nthe damaged files are in %s\n", rep.aside);
	return SL_EXIT_OK;
}
