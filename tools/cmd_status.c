/* cmd_status.c: `statelog status`, the state of a log at a glance: what it
 * holds (sl_log_status(): headers and sizes, no event read), where its
 * views are, the snapshots beside them, and the writer. */
#include <getopt.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "log.h"
#include "timefmt.h"

static const char status_help[] =
	"usage: statelog status [--log DIR] [--db PATH] [--json]\n\n"
	"Prints the state of a log at a glance, without reading its events (fast on\n"
	"a log of any size): its id; its first and last sequence numbers and times;\n"
	"events and commits; segments, the bytes on disk and the compression ratio;\n"
	"the bytes not yet packed; where the views (the database) are and how far\n"
	"behind the log; the sizes of the snapshots and of the keyframe (time\n"
	"travel's, when there is one); and the writer holding the log, if\n"
	"any.  It only reads: nothing is caught up or changed.  It is not a check\n"
	"of the bytes (`statelog verify` is), but damage met on the way is said.\n"
	"  --db PATH   the views (default: DIR with .log replaced by .db)\n"
	"  --json      one JSON object instead\n"
	"Exit codes: 0 shown; 1 failure; 2 usage; 3 damage found on the way; 4 no\n"
	"such log.\n";

/* The views at db, read as they are (read-only, nothing caught up). */
struct views {
	bool exists;          /* a file is there */
	bool ours;            /* statelog's views (statelog_meta) */
	bool other_log;       /* ... of another log */
	uint64_t last_seq;
	uint64_t as_of;       /* an as-of database's point (statelog at) */
	char err[256];        /* why it could not be read */
};

static void read_views(const char *db, const char *log_id, struct views *v)
{
	memset(v, 0, sizeof *v);
	struct stat sb;
	if (stat(db, &sb) != 0)
		return;
	v->exists = true;
	sqlite3 *h = NULL;
	sqlite3_stmt *st = NULL;
	if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_busy_timeout(h, 2000);
	if (sqlite3_prepare_v2(h, "SELECT key, value FROM statelog_meta "
			       "WHERE key IN ('last_seq', 'log_id', 'as_of_seq')", -1, &st,
			       NULL) != SQLITE_OK) {
		if (strstr(sqlite3_errmsg(h), "no such table"))
			snprintf(v->err, sizeof v->err, "not statelog's views");
		else
			goto fail;
		goto out;
	}
	int r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		const char *k = (const char *)sqlite3_column_text(st, 0);
		if (!k)
			continue;
		if (strcmp(k, "log_id") == 0) {
			const char *id = (const char *)sqlite3_column_text(st, 1);
			v->other_log = !id || strcmp(id, log_id) != 0;
		} else if (strcmp(k, "last_seq") == 0) {
			v->last_seq = (uint64_t)sqlite3_column_int64(st, 1);
		} else {
			v->as_of = (uint64_t)sqlite3_column_int64(st, 1);
		}
	}
	if (r != SQLITE_DONE)
		goto fail;
	v->ours = true;
	goto out;
fail:
	snprintf(v->err, sizeof v->err, "%s", h ? sqlite3_errmsg(h) : "out of memory");
out:
	sqlite3_finalize(st);
	sqlite3_close(h);
}

/* The bytes of a file and its -wal, 0 when missing. */
static uint64_t file_bytes(const char *path)
{
	uint64_t n = 0;
	struct stat sb;
	if (stat(path, &sb) == 0)
		n += (uint64_t)sb.st_size;
	char *wal;
	if (asprintf(&wal, "%s-wal", path) >= 0) {
		if (stat(wal, &sb) == 0)
			n += (uint64_t)sb.st_size;
		free(wal);
	}
	return n;
}

/* n bytes for people: 512 B, 12.3 KB, 4.5 MB, 1.2 GB (powers of 1000). */
static const char *human(uint64_t n, char buf[32])
{
	if (n < 1000)
		snprintf(buf, 32, "%" PRIu64 " B", n);
	else if (n < 1000000)
		snprintf(buf, 32, "%.1f KB", (double)n / 1e3);
	else if (n < 1000000000)
		snprintf(buf, 32, "%.1f MB", (double)n / 1e6);
	else
		snprintf(buf, 32, "%.2f GB", (double)n / 1e9);
	return buf;
}

static json_t *time_or_null(bool has, int64_t us)
{
	char t[SL_TIME_BUFSZ];
	return has && sl_time_format(us, t, sizeof t) == SL_OK ? json_string(t) : json_null();
}

static int print_status_json(const char *dir, const char *db, const char *id,
			     const struct sl_log_status *s, const struct views *v, uint64_t snaps,
			     uint64_t keyframe)
{
	bool any = s->last_seq != 0;
	json_t *o = json_pack("{s:s, s:s, s:i, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
			      "log", dir, "log_id", id, "segments", (int)s->segments,
			      "first_seq", (json_int_t)s->first_seq,
			      "last_seq", (json_int_t)s->last_seq,
			      "events", (json_int_t)s->events, "lost", (json_int_t)s->lost,
			      "commits", (json_int_t)s->commits,
			      "event_bytes", (json_int_t)s->event_bytes,
			      "segment_bytes", (json_int_t)s->segment_bytes,
			      "unpacked_bytes", (json_int_t)s->unpacked_bytes,
			      "unpacked_commits", (json_int_t)s->unpacked_commits,
			      "index_bytes", (json_int_t)s->index_bytes,
			      "aside_bytes", (json_int_t)s->aside_bytes);
	if (!o)
		return cli_print_json("status", NULL);
	json_object_set_new(o, "first_time", time_or_null(any, s->first_time_us));
	json_object_set_new(o, "last_time", time_or_null(any, s->last_time_us));
	json_object_set_new(o, "ratio", s->stored_bytes ? json_real((double)s->event_bytes /
								    (double)s->stored_bytes)
							: json_null());
	json_t *vj = json_pack("{s:s, s:b}", "db", db, "exists", v->exists);
	if (vj && v->ours && !v->other_log) {
		json_object_set_new(vj, "last_seq", json_integer((json_int_t)v->last_seq));
		json_object_set_new(vj, "behind", v->as_of || v->last_seq > s->last_seq ? json_null()
				    : json_integer((json_int_t)(s->last_seq - v->last_seq)));
		json_object_set_new(vj, "as_of", v->as_of ? json_integer((json_int_t)v->as_of)
							  : json_null());
	}
	if (vj && v->exists && (!v->ours || v->other_log))
		json_object_set_new(vj, "problem", json_string(v->other_log ? "the views of another log"
									  : v->err));
	json_object_set_new(o, "views", vj);
	json_object_set_new(o, "snapshot_bytes", json_integer((json_int_t)snaps));
	json_object_set_new(o, "keyframe_bytes", json_integer((json_int_t)keyframe));
	json_object_set_new(o, "writer", json_pack("{s:b, s:I, s:b}", "holds", s->writer_holds,
						   "pid", (json_int_t)s->writer_pid,
						   "alive", s->writer_alive));
	json_object_set_new(o, "damage", s->stopped && !s->torn_tail ? json_string(s->stopped_why)
								      : json_null());
	json_object_set_new(o, "torn_tail", s->torn_tail ? json_string(s->stopped_why)
							 : json_null());
	return cli_print_json("status", o);
}

static void print_status_text(const char *dir, const char *db, const char *id,
			      const struct sl_log_status *s, const struct views *v, uint64_t snaps,
			      uint64_t keyframe)
{
	char a[SL_TIME_BUFSZ], b[SL_TIME_BUFSZ], h1[32], h2[32], h3[32];
	printf("log          %s (id %s)\n", cli_line(dir), id);
	if (!s->last_seq) {
		printf("events       none yet\n");
	} else {
		printf("events       #%" PRIu64 "..#%" PRIu64 ": %" PRIu64 " events in %" PRIu64
		       " commits", s->first_seq, s->last_seq, s->events, s->commits);
		if (s->lost)
			printf(", %" PRIu64 " lost to a repair", s->lost);
		putchar('\n');
		if (sl_time_format(s->first_time_us, a, sizeof a) == SL_OK &&
		    sl_time_format(s->last_time_us, b, sizeof b) == SL_OK)
			printf("time         %s .. %s\n", a, b);
	}
	printf("on disk      %s in %" PRIu32 " segment(s), holding %s of events (%.2fx); "
	       "indexes %s\n", human(s->segment_bytes, h1), s->segments,
	       human(s->event_bytes, h2),
	       s->stored_bytes ? (double)s->event_bytes / (double)s->stored_bytes : 0.0,
	       human(s->index_bytes, h3));
	if (s->unpacked_commits)
		printf("not packed   %s in %" PRIu64 " commit(s) stored raw (packed in the background, "
		       "when the writer is idle or closes, or by `statelog compact`)\n",
		       human(s->unpacked_bytes, h1), s->unpacked_commits);
	else
		printf("not packed   none: every commit is packed\n");
	if (s->aside_bytes)
		printf("set aside    %s of torn tails kept by recovery (*.seg.cut-*, *.seg.torn)\n",
		       human(s->aside_bytes, h1));
	if (!v->exists)
		printf("views        %s: none yet (`statelog project` makes them)\n", cli_line(db));
	else if (!v->ours)
		printf("views        %s: cannot be read: %s\n", cli_line(db), v->err);
	else if (v->other_log)
		printf("views        %s: the views of another log\n", cli_line(db));
	else if (v->as_of)
		printf("views        %s: an as-of database, at #%" PRIu64 " (`statelog at`)\n",
		       cli_line(db), v->as_of);
	else if (v->last_seq > s->last_seq)
		printf("views        %s at #%" PRIu64 ": AHEAD of the log, which ends at #%" PRIu64
		       " (see `statelog verify`)\n", cli_line(db), v->last_seq, s->last_seq);
	else if (v->last_seq == s->last_seq)
		printf("views        %s at #%" PRIu64 ": caught up\n", cli_line(db), v->last_seq);
	else
		printf("views        %s at #%" PRIu64 ": %" PRIu64 " event(s) behind (a writer's "
		       "views catch up within milliseconds; else `statelog project`)\n",
		       cli_line(db), v->last_seq, s->last_seq - v->last_seq);
	if (snaps)
		printf("snapshots    %s (%s.snapshots)\n", human(snaps, h1), cli_line(db));
	else
		printf("snapshots    none\n");
	if (keyframe)
		printf("keyframe     %s (%s.keyframe, for time travel)\n", human(keyframe, h1),
		       cli_line(db));
	if (s->writer_holds)
		printf("writer       pid %ld holds the log now\n", s->writer_pid);
	else if (s->writer_pid)
		printf("writer       none now (the last one to write: pid %ld, %s)\n", s->writer_pid,
		       s->writer_alive ? "running" : "exited");
	else
		printf("writer       none now\n");
	if (s->torn_tail)
		printf("tail         torn: %s (a writer is appending, or died: its next open cuts "
		       "it)\n", cli_line(s->stopped_why));
	else if (s->stopped)
		printf("DAMAGED      %s; run `statelog verify`\n", cli_line(s->stopped_why));
}

int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "log", required_argument, NULL, 'l' },
		{ "db", required_argument, NULL, 'D' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *log = NULL, *dbopt = NULL;
	bool json = false;
	int c;
	optind = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'l': log = optarg; break;
		case 'D': dbopt = optarg; break;
		case 'j': json = true; break;
		case 'h': fputs(status_help, stdout); return SL_EXIT_OK;
		default: return cli_usage(status_help);
		}
	}
	if (optind != argc) {
		cli_err("status", "unexpected argument '%s'", argv[optind]);
		return SL_EXIT_USAGE;
	}
	const char *dir = cli_log_dir(log);
	char *db = strdup(cli_db_path(dir, dbopt));
	if (!db) {
		cli_err("status", "out of memory");
		return SL_EXIT_FAIL;
	}
	struct sl_log_status s;
	char err[1024] = "";
	int rc = sl_log_status(dir, &s, err, sizeof err);
	if (rc != SL_OK) {
		free(db);
		return cli_fail("status", rc, err);
	}
	char id[2 * SL_LOG_ID_SIZE + 1];
	sl_log_id_format(id, s.log_id);
	struct views v;
	read_views(db, id, &v);
	char *snap_path = NULL;
	uint64_t snaps = asprintf(&snap_path, "%s.snapshots", db) >= 0 ? file_bytes(snap_path) : 0;
	free(snap_path);
	snap_path = NULL;
	uint64_t keyframe = asprintf(&snap_path, "%s.keyframe", db) >= 0 ? file_bytes(snap_path)
									 : 0;
	free(snap_path);
	int ex = SL_EXIT_OK;
	if (json)
		ex = print_status_json(dir, db, id, &s, &v, snaps, keyframe);
	else
		print_status_text(dir, db, id, &s, &v, snaps, keyframe);
	free(db);
	if (ex == SL_EXIT_OK && s.stopped && !s.torn_tail)
		ex = SL_EXIT_DAMAGED;
	return ex;
}
