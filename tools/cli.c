/* cli.c: helpers shared by the subcommands (cli.h). */
#include "cli.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "event_json_internal.h"
#include "projector.h"
#include "sl_error.h"
#include "timefmt.h"

void cli_err(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	char *msg = NULL;
	va_start(ap, fmt);
	int n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	fprintf(stderr, "statelog %s: ", cmd);
	if (n >= 0)
		sl_text_put(stderr, msg, 0, SL_TEXT_LINE);
	else
		fputs("out of memory", stderr);
	fputc('\n', stderr);
	free(msg);
}

int cli_fail(const char *cmd, int rc, const char *msg)
{
	cli_err(cmd, "%s", msg && msg[0] ? msg : sl_strerror(rc));
	return cli_exit_for(rc);
}

/* s shown in form, kept in a ring of the last 8 results. */
static const char *shown(const char *s, enum sl_text_form form)
{
	static char *ring[8];
	static unsigned next;
	if (!s)
		return "";
	unsigned i = next++ % 8;
	free(ring[i]);
	ring[i] = sl_text_show(s, 0, form);
	return ring[i] ? ring[i] : "(out of memory)";
}

const char *cli_field(const char *s)
{
	return shown(s, SL_TEXT_FIELD);
}

const char *cli_line(const char *s)
{
	return shown(s, SL_TEXT_LINE);
}

void cli_note(const char *fmt, ...)
{
	if (!isatty(STDERR_FILENO))
		return;
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

/* path made absolute, "." and ".." taken away by the text alone (as SQLite
 * does with a database's name, so `x/../LOG/f` names a file in LOG even
 * where x does not exist), then its longest existing leading directory
 * resolved with realpath(); the last name is never followed.  malloc'd,
 * NULL when out of memory. */
static char *resolve_named(const char *path)
{
	char cwd[4096] = "";
	if (path[0] != '/' && !getcwd(cwd, sizeof cwd))
		return NULL;
	size_t cap = strlen(cwd) + strlen(path) + 3;
	char *in = malloc(cap), *out = malloc(cap);
	if (!in || !out) {
		free(in);
		free(out);
		return NULL;
	}
	snprintf(in, cap, "%s/%s", cwd, path);
	size_t n = 0;
	for (char *save = NULL, *c = strtok_r(in, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (strcmp(c, ".") == 0)
			continue;
		if (strcmp(c, "..") == 0) {
			while (n > 0 && out[--n] != '/')
				;
			continue;
		}
		n += (size_t)sprintf(out + n, "/%s", c);
	}
	if (n == 0)
		n += (size_t)sprintf(out, "/");
	out[n] = '\0';
	free(in);
	/* The leading directories that exist, resolved; the rest as written.
	 * out starts with '/'; d is the '/' before the part kept as written. */
	char *r = NULL;
	size_t d = n;
	while (d > 0 && out[d] != '/')
		d--;
	for (;;) {
		out[d] = '\0';
		char *rp = realpath(d ? out : "/", NULL);
		out[d] = '/';
		if (rp) {
			if (asprintf(&r, "%s%s", strcmp(rp, "/") ? rp : "", out + d) < 0)
				r = NULL;
			free(rp);
			break;
		}
		if (d == 0)
			break;
		while (d > 0 && out[--d] != '/')
			;
	}
	free(out);
	return r;
}

/* Whether the resolved path p is the resolved directory d or lies under it. */
static bool under(const char *p, const char *d)
{
	size_t n = strlen(d);
	if (strncmp(p, d, n) != 0)
		return false;
	return p[n] == '\0' || p[n] == '/' || (n && d[n - 1] == '/');
}

int cli_refuse_in_log(const char *cmd, const char *log_dir, const char *path, const char *what)
{
	/* The log may not exist yet (import makes it). */
	char *dir = realpath(log_dir, NULL);
	if (!dir)
		dir = resolve_named(log_dir);
	if (!dir)
		return SL_EXIT_OK;
	/* Both where the name is (the file is created or renamed there) and,
	 * when it exists, where it leads (a link to a segment would be written
	 * through by SQLite). */
	char *named = resolve_named(path), *target = realpath(path, NULL);
	bool inside = (named && under(named, dir)) || (target && under(target, dir));
	free(named);
	free(target);
	free(dir);
	if (!inside)
		return SL_EXIT_OK;
	cli_err(cmd, "%s %s: inside the log directory %s, whose files only the log writes; "
		"choose a path outside it", what, path, log_dir);
	return SL_EXIT_USAGE;
}

int cli_open_views(const char *cmd, const char *log, const char *db, struct sl_proj **out)
{
	const char *dir = cli_log_dir(log);
	const char *path = cli_db_path(dir, db);
	int ex = cli_refuse_in_log(cmd, dir, path, "--db");
	if (ex != SL_EXIT_OK)
		return ex;
	struct sl_proj_options o;
	sl_proj_options_init(&o);
	o.copy_if_read_only = true;
	char err[1024] = "";
	struct sl_proj_stats opened;
	int rc = sl_proj_open(out, dir, path, &o, &opened, err, sizeof err);
	if (rc != SL_OK)
		return cli_fail(cmd, rc, err);
	if (opened.rebuilt)
		cli_err(cmd, "warning: %s: %s", path, opened.rebuilt_why);
	if (sl_proj_private_copy(*out))
		cli_note("%s cannot be written here: reading a private copy\n", path);
	return SL_EXIT_OK;
}

int cli_exit_for(int code)
{
	switch (code) {
	case SL_OK: return SL_EXIT_OK;
	case SL_EINVAL:
	case SL_ETOOBIG: return SL_EXIT_USAGE;
	case SL_ECORRUPT:
	case SL_EFOREIGN:
	case SL_EVERSION: return SL_EXIT_DAMAGED;
	case SL_ENOTFOUND: return SL_EXIT_NOTFOUND;
	case SL_ELOCKED: return SL_EXIT_LOCKED;
	default: return SL_EXIT_FAIL;
	}
}

const char *cli_log_dir(const char *opt)
{
	if (opt && *opt)
		return opt;
	const char *env = getenv("STATELOG_LOG");
	if (env && *env)
		return env;
	return "statelog.log";
}

const char *cli_db_path(const char *log_dir, const char *opt)
{
	static char *path;
	if (opt && *opt)
		return opt;
	free(path);
	path = NULL;
	if (sl_backend_default_db_path(&path, log_dir) != SL_OK)
		return "statelog.db";
	return path;
}

bool cli_parse_u64(const char *s, uint64_t *out)
{
	if (!s || !*s || *s == '-' || *s == '+')
		return false;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

bool cli_parse_i64(const char *s, int64_t *out)
{
	if (!s || !*s)
		return false;
	errno = 0;
	char *end;
	long long v = strtoll(s, &end, 10);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

/* The bytes of the *.seg files in dir (-1 on failure). */
int64_t cli_segment_bytes(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	int64_t total = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		struct stat sb;
		if (n > 4 && strcmp(e->d_name + n - 4, ".seg") == 0 &&
		    fstatat(dirfd(d), e->d_name, &sb, AT_SYMLINK_NOFOLLOW) == 0)
			total += sb.st_size;
	}
	closedir(d);
	return total;
}

int cli_usage(const char *help)
{
	const char *end = strstr(help, "\n\n");
	size_t len = end ? (size_t)(end - help) + 1 : strlen(help);
	fwrite(help, 1, len, stderr);
	/* "usage: statelog NAME ...": the command to ask about */
	const char *name = strncmp(help, "usage: statelog ", 16) == 0 ? help + 16 : NULL;
	size_t nlen = 0;
	/* the words of lower-case letters: "jobs", "bench backend" */
	while (name && name[nlen] >= 'a' && name[nlen] <= 'z') {
		size_t w = nlen;
		while (name[w] >= 'a' && name[w] <= 'z')
			w++;
		nlen = w;
		if (name[w] != ' ' || !(name[w + 1] >= 'a' && name[w + 1] <= 'z'))
			break;
		nlen = w + 1;
	}
	if (nlen)
		fprintf(stderr, "Run 'statelog %.*s --help' for the options.\n", (int)nlen, name);
	else
		fputs("Run with --help for the options.\n", stderr);
	return SL_EXIT_USAGE;
}

bool cli_parse_seq(const char *s, uint64_t *out)
{
	if (s && *s == '#')
		s++;
	uint64_t v;
	if (!cli_parse_u64(s, &v) || v == 0)
		return false;
	*out = v;
	return true;
}

bool cli_parse_time(const char *s, int64_t *out)
{
	/* A bare number could mean a sequence number or a count of
	 * microseconds: neither is taken for a time (the library's parser,
	 * for programs, reads microseconds). */
	if (!s || !*s || s[strspn(s, "0123456789")] == 0 || *s == '#')
		return false;
	return sl_time_parse_relative(out, s, sl_time_now_us()) == SL_OK;
}

void cli_bad_time(const char *cmd, const char *opt, const char *arg)
{
	if (*arg && arg[strspn(arg, "#0123456789")] == 0)
		cli_err(cmd, "--%s %s: a bare number is not a time (it could be a sequence "
			"number); give now, an ISO-8601 time, a date, or -2h, -1w, -1h30m", opt, arg);
	else
		cli_err(cmd, "--%s: '%s' is not a time; give now, an ISO-8601 time "
			"(2026-11-26T02:49:38Z; without a zone: local time), a date (2026-11-26), "
			"or -90s, -15m, -2h, -3d, -1w, -1h30m", opt, arg);
}

int cli_print_json(const char *cmd, json_t *v)
{
	char *s = v ? sl_json_dumps(v) : NULL;
	json_decref(v);
	if (!s) {
		cli_err(cmd, "cannot write the JSON output (out of memory, or text that is not "
			"UTF-8)");
		return SL_EXIT_FAIL;
	}
	puts(s);
	free(s);
	return SL_EXIT_OK;
}

static double last_progress;
static bool progress_shown;

/* Shows one progress line, in bytes (MB) or in items. */
static void progress_line(const char *label, uint64_t done, uint64_t total, bool bytes)
{
	if (!isatty(STDERR_FILENO))
		return;
	double now = cli_mono_s();
	if (done < total && now - last_progress < 0.25)
		return;
	last_progress = now;
	double pct = total ? 100.0 * (double)done / (double)total : 100.0;
	if (bytes)
		fprintf(stderr, "\r%s: %5.1f%% (%" PRIu64 " of %" PRIu64 " MB)", label, pct,
			done >> 20, total >> 20);
	else
		fprintf(stderr, "\r%s: %5.1f%% (%" PRIu64 " of %" PRIu64 ")", label, pct, done,
			total);
	progress_shown = true;
}

void cli_progress(void *label, uint64_t done, uint64_t total)
{
	progress_line(label, done, total, true);
}

void cli_progress_count(void *label, uint64_t done, uint64_t total)
{
	progress_line(label, done, total, false);
}

void cli_progress_done(void)
{
	if (progress_shown)
		fprintf(stderr, "\r\033[K");
	progress_shown = false;
}

double cli_mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

char *cli_tmpdir(const char *base, const char *what)
{
	char *p;
	const char *t = base ? base : getenv("TMPDIR");
	if (asprintf(&p, "%s/statelog-%s-XXXXXX", t && *t ? t : "/tmp", what) < 0)
		return NULL;
	if (!mkdtemp(p)) {
		free(p);
		return NULL;
	}
	return p;
}
