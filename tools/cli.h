/* cli.h: what the subcommands of `statelog` share: exit codes, error
 * output, finding the log, parsing numbers and times, progress lines. */
#ifndef SL_CLI_H
#define SL_CLI_H

#include <signal.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Exit codes (documented in statelog(1)). */
enum {
	SL_EXIT_OK = 0,
	SL_EXIT_FAIL = 1,       /* an operation failed (I/O, SQLite, ...) */
	SL_EXIT_USAGE = 2,      /* bad command line or bad input */
	SL_EXIT_DAMAGED = 3,    /* damage found in the log or a database */
	SL_EXIT_NOTFOUND = 4,   /* no such log, job or sheet */
	SL_EXIT_LOCKED = 5,     /* another writer holds the log */
};

/* A subcommand: argv[0] is its name. */
typedef int (*sl_cmd_fn)(int argc, char **argv);

/* A progress note for people: a line to stderr when it is a terminal,
 * nothing otherwise (so that scripts and logs see only results). */
void cli_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "statelog CMD: message" to stderr, its control characters escaped
 * (a message can quote a job id, a file name, a reason: text from users). */
void cli_err(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints a library's failure as `cmd`: its message, or, when the message is
 * empty (a path that set none, typically on an allocation failure), what
 * the code means (sl_strerror(): "out of memory"), never nothing.  Returns
 * the exit code for rc (cli_exit_for()). */
int cli_fail(const char *cmd, int rc, const char *msg);

/* s as a column of a table shows it (sl_text_put()'s SL_TEXT_FIELD): bare,
 * or quoted with its control characters escaped, so that a job id or name
 * holding ESC sequences cannot reach the terminal.  NULL gives "" (and ""
 * gives "\"\"").
 * Borrowed: valid until the eighth call after it ("(out of memory)" when
 * it could not be made). */
const char *cli_field(const char *s);
/* The same, never quoted: only the control characters escaped (text already
 * written as part of a line: a reason, a message). */
const char *cli_line(const char *s);

/* The exit code for an SL_* library error. */
int cli_exit_for(int sl_code);

/* The log directory: `opt` when given, else $STATELOG_LOG, else
 * ./statelog.log. */
const char *cli_log_dir(const char *opt);

/* The database of the log in log_dir: `opt` when given, else log_dir with
 * ".log" replaced by ".db" (sl_backend_default_db_path()).  Borrowed: valid
 * until the next call. */
const char *cli_db_path(const char *log_dir, const char *opt);

/* Refuses an output path chosen by the user (`what`: "--out", "--db", ...)
 * that lies in the log directory log_dir or under it: writing there would
 * overwrite or litter the log's own files (`at --out LOG/<segment>`).  The
 * path's parent directory and, when it exists, the path itself are resolved
 * with realpath() (so links and ".." do not hide the log), and compared with
 * the resolved log directory.  Prints the refusal as `cmd` and returns
 * SL_EXIT_USAGE; SL_EXIT_OK when the path is elsewhere or cannot be
 * resolved (the command then fails on it with its own message). */
int cli_refuse_in_log(const char *cmd, const char *log_dir, const char *path, const char *what);

struct sl_proj;
/* Opens the views of the log `log` (cli_log_dir()) in the database `db`
 * (cli_db_path(), refused inside the log directory) for a command that only
 * reads: where the database cannot
 * be written (a read-only mount) a private copy is caught up instead (a
 * note says so).  On failure prints the error as `cmd` and returns the
 * exit code; SL_EXIT_OK and *out otherwise. */
int cli_open_views(const char *cmd, const char *log, const char *db, struct sl_proj **out);

/* Strict number parsing; false on anything but a whole number in range. */
bool cli_parse_u64(const char *s, uint64_t *out);
bool cli_parse_i64(const char *s, int64_t *out);

/* A sequence number: N or #N, at least 1. */
bool cli_parse_seq(const char *s, uint64_t *out);

/* A time as a person gives it (statelog(1), TIMES): now, ISO-8601 with or
 * without a zone (without: local time), a date (its local midnight), or
 * relative (-90s, -15m, -2h, -3d, -1w, -1h30m).  A bare number is refused:
 * it could be a sequence number (written #N or --seq N). */
bool cli_parse_time(const char *s, int64_t *out);
/* Says why arg, given to --opt, is not a time (as `cmd`). */
void cli_bad_time(const char *cmd, const char *opt, const char *arg);

/* Prints v (consumed) as one line of JSON on stdout; SL_EXIT_OK, or
 * SL_EXIT_FAIL with the error printed as `cmd` when it cannot be made. */
int cli_print_json(const char *cmd, json_t *v);

/* Progress on a terminal (stderr is a tty), silent otherwise; at most a few
 * updates a second.  cli_progress_done() clears the line. */
void cli_progress(void *label, uint64_t done, uint64_t total);
void cli_progress_done(void);
/* The same, counting items (events) rather than bytes. */
void cli_progress_count(void *label, uint64_t done, uint64_t total);

struct sl_state_column;
struct sl_value;
/* An audited value for a table: "(no row)", NULL, a number, a time, or
 * quoted text cut short and escaped as dump does (cmd_audit.c); len >= 280.  c NULL: a row's
 * presence (a status name). */
void cli_audit_value(const struct sl_state_column *c, bool absent, const struct sl_value *v,
		     char *buf, size_t len);

struct sl_audit_entry;
/* The line of an audit entry in the job's story (`statelog audit`), or
 * *out NULL when the event is not part of the story (a pid set, a save
 * that changed no status or message).  prev_life: the life of the entry
 * before (0 for the first).  *out is owned (free()); SL_ENOMEM. */
int cli_audit_story(const struct sl_audit_entry *e, uint32_t prev_life, char **out);

/* Writes the timeline page of job (cmd_timeline.c) at path, replaced whole;
 * *bytes gets its size.  p's views are used as they are.  An SL_* code,
 * the message in err (naming the file and the cause). */
int cli_timeline_write_job(struct sl_proj *p, const char *job, const char *path,
			   uint64_t *bytes, char *err, size_t errlen);

/* The bytes of a log's segment files (*.seg in dir), -1 when dir cannot be
 * read. */
int64_t cli_segment_bytes(const char *dir);

/* A usage error: the help's usage lines (up to its first blank line) and
 * the hint to ask for --help, on stderr.  Returns SL_EXIT_USAGE. */
int cli_usage(const char *help);

/* Monotonic seconds, for timing what a command does. */
double cli_mono_s(void);

/* A new directory under base (or $TMPDIR, or /tmp) named
 * "statelog-<what>-XXXXXX"; malloc'd, NULL on failure (errno set). */
char *cli_tmpdir(const char *base, const char *what);

/* Waiting for a log to change (watch.c): the file system wakes the wait
 * (inotify), SIGINT and SIGTERM end it. */
struct cli_watch {
	int fd;
	sigset_t old_mask;
};
/* Watches dir; -1 with err set on failure.  From here until
 * cli_watch_close() SIGINT and SIGTERM are blocked but in the wait. */
int cli_watch_open(struct cli_watch *w, const char *dir, char *err, size_t errlen);
/* 1 when the log's directory changed, 0 when SIGINT or SIGTERM came, -1
 * (errno) when the directory went away or the wait failed. */
int cli_watch_wait(struct cli_watch *w);
void cli_watch_close(struct cli_watch *w);
/* The signal that ended a wait, 0 when none did. */
int cli_watch_signal(void);

int cmd_init(int argc, char **argv);
int cmd_append(int argc, char **argv);
int cmd_dump(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_status(int argc, char **argv);   /* cmd_status.c */
int cmd_repair(int argc, char **argv);
int cmd_compact(int argc, char **argv);  /* cmd_log.c */
int cmd_bench(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_jobs(int argc, char **argv);     /* cmd_dash.c */
int cmd_show(int argc, char **argv);     /* cmd_dash.c */
int cmd_history(int argc, char **argv);  /* cmd_dash.c */
int cmd_stats(int argc, char **argv);    /* cmd_dash.c */
int cmd_import(int argc, char **argv);   /* cmd_import.c */
int cmd_project(int argc, char **argv);  /* cmd_views.c */
int cmd_rebuild(int argc, char **argv);  /* cmd_views.c */
int cmd_audit(int argc, char **argv);    /* cmd_audit.c */
int cmd_at(int argc, char **argv);       /* cmd_at.c */
int cmd_timeline(int argc, char **argv); /* cmd_timeline.c */
int bench_timetravel(int argc, char **argv);  /* bench_timetravel.c */

#endif
