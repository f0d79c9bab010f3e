/* bench_views.c: `statelog bench rebuild`, rebuilding the views from the
 * reference log (sl_proj_rebuild()) beside a straightforward replay measured
 * in the same run.
 *
 * The straightforward replay (the baseline) is what one would write first,
 * honestly done: one thread reads and decodes each event, applies it with
 * sl_rules_apply() to the job's state held in memory, and writes every row
 * the event changes with one prepared statement each, right away: the
 * statelog_events row, then the execution_history row, the deleted job's
 * rows, or the jobs row and the sheets row the event touched.  Transactions
 * of 100,000 events, journal off, synchronous off, every index kept up to
 * date; the same page size and page cache as the rebuild, so that what is
 * compared is the projector's design (coalescing, the pipeline), not
 * SQLite settings.  It produces the same database as the rebuild.
 *
 * Each run is made in a child process (so that its peak RSS is its own),
 * rebuild and baseline alternately, after a sync() so that neither pays
 * for the other's write-back.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "bench.h"
#include "cli.h"
#include "event_internal.h"
#include "log.h"
#include "projector.h"
#include "jobmap.h"
#include "views.h"
#include "timefmt.h"
#include "workload.h"

#define BASELINE_BATCH 100000
/* As the rebuild's (projector/project_internal.h, rebuild.c). */
#define BASELINE_PAGE_SIZE 16384
#define BASELINE_CACHE_KIB 24576

/* ---- the reference log -------------------------------------------------- */

/* ---- the baseline: one statement per change ----------------------------- */

/* Job states by id, never evicted. */
struct bjob {
	struct sl_jobmap_node node;
	char *id;
	struct sl_job_state st;
};

struct baseline {
	sqlite3 *db;
	sqlite3_stmt *job, *sheet, *exec, *event, *del_hist, *del_sheets, *del_job, *pos;
	struct sl_jobmap jobs;          /* of struct bjob */
};

static struct bjob *bjob_get(struct baseline *b, const char *id)
{
	struct sl_jobmap_node *n = sl_jobmap_find(&b->jobs, id);
	if (n)
		return SL_CONTAINER_OF(n, struct bjob, node);
	struct bjob *j = calloc(1, sizeof *j);
	if (!j || !(j->id = strdup(id))) {
		free(j);
		return NULL;
	}
	sl_state_init(&j->st);
	j->node.key = j->id;
	sl_jobmap_insert(&b->jobs, &j->node);
	return j;
}

static void bind_columns(sqlite3_stmt *st, int first, const struct sl_state_column *cols, size_t n,
			 const void *row, char (*tbuf)[SL_TIME_BUFSZ])
{
	for (size_t i = 0; i < n; i++) {
		struct sl_value v;
		sl_state_column_get(&v, &cols[i], row);
		int p = first + (int)i;
		if (v.null)
			sqlite3_bind_null(st, p);
		else if (cols[i].type == SL_COL_REAL)
			sqlite3_bind_double(st, p, v.d);
		else if (cols[i].type == SL_COL_TIME) {
			sl_time_format(v.i, tbuf[i], SL_TIME_BUFSZ);
			sqlite3_bind_text(st, p, tbuf[i], -1, SQLITE_STATIC);
		} else if (v.s)
			sqlite3_bind_text(st, p, v.s, -1, SQLITE_STATIC);
		else
			sqlite3_bind_int64(st, p, v.i);
	}
}

static int step_reset(struct baseline *b, sqlite3_stmt *st)
{
	int s = sqlite3_step(st);
	sqlite3_reset(st);
	if (s != SQLITE_DONE) {
		cli_err("bench", "baseline: %s", sqlite3_errmsg(b->db));
		return SL_ESQLITE;
	}
	return SL_OK;
}

/* "INSERT INTO t (cols) VALUES (?...) ON CONFLICT (key) DO UPDATE SET ..." */
static char *upsert_sql(const char *table, const char *prefix, const struct sl_state_column *cols,
			size_t n, const char *key)
{
	char *s = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&s, &len);
	if (!f)
		return NULL;
	fprintf(f, "INSERT INTO %s (%s", table, prefix ? prefix : "");
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s%s", i || prefix ? ", " : "", cols[i].name);
	fprintf(f, ") VALUES (%s", prefix ? "?, " : "");
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s?", i ? ", " : "");
	fprintf(f, ") ON CONFLICT (%s) DO UPDATE SET ", key);
	for (size_t i = 0, k = 0; i < n; i++)
		if (!cols[i].key)
			fprintf(f, "%s%s = excluded.%s", k++ ? ", " : "", cols[i].name, cols[i].name);
	fclose(f);
	return s;
}

static int baseline_open(struct baseline *b, const char *path, const char *log_id)
{
	char *job = upsert_sql("jobs", NULL, sl_state_job_columns, SL_STATE_N_JOB_COLUMNS, "id");
	char *sheet = upsert_sql("sheets", "job_id", sl_state_sheet_columns,
				 SL_STATE_N_SHEET_COLUMNS, "job_id, sheet_num");
	char pragmas[256], err[512];
	int rc = SL_ESQLITE;
	if (!job || !sheet || sl_jobmap_init(&b->jobs, 16384) != SL_OK) {
		rc = SL_ENOMEM;
		goto out;
	}
	snprintf(pragmas, sizeof pragmas, "PRAGMA page_size = %d; PRAGMA journal_mode = OFF; "
		 "PRAGMA synchronous = OFF; PRAGMA cache_size = -%d; PRAGMA foreign_keys = ON",
		 BASELINE_PAGE_SIZE, BASELINE_CACHE_KIB);
	if (sqlite3_open(path, &b->db) != SQLITE_OK ||
	    sqlite3_exec(b->db, pragmas, NULL, NULL, NULL) != SQLITE_OK)
		goto sqlerr;
	if (sl_proj_create_views(b->db, log_id, err, sizeof err) != SL_OK) {
		cli_err("bench", "baseline: %s", err);
		goto out;
	}
	if (sqlite3_prepare_v2(b->db, job, -1, &b->job, NULL) ||
	    sqlite3_prepare_v2(b->db, sheet, -1, &b->sheet, NULL) ||
	    sqlite3_prepare_v2(b->db, "INSERT INTO execution_history (id, job_id, sheet_num, "
			       "attempt_num, prompt, output, exit_code, duration_seconds, "
			       "executed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", -1, &b->exec, NULL) ||
	    sqlite3_prepare_v2(b->db, "INSERT INTO statelog_events (seq, time, job_id, sheet_num, "
			       "type) VALUES (?, ?, ?, ?, ?)", -1, &b->event, NULL) ||
	    sqlite3_prepare_v2(b->db, "DELETE FROM execution_history WHERE job_id = ?", -1,
			       &b->del_hist, NULL) ||
	    sqlite3_prepare_v2(b->db, "DELETE FROM sheets WHERE job_id = ?", -1, &b->del_sheets,
			       NULL) ||
	    sqlite3_prepare_v2(b->db, "DELETE FROM jobs WHERE id = ?", -1, &b->del_job, NULL) ||
	    sqlite3_prepare_v2(b->db, "UPDATE statelog_meta SET value = ? WHERE key = 'last_seq'",
			       -1, &b->pos, NULL))
		goto sqlerr;
	rc = SL_OK;
	goto out;
sqlerr:
	cli_err("bench", "baseline: %s: %s", path, sqlite3_errmsg(b->db));
out:
	free(job);
	free(sheet);
	return rc;
}

static void baseline_close(struct baseline *b)
{
	sqlite3_stmt *all[] = { b->job, b->sheet, b->exec, b->event, b->del_hist, b->del_sheets,
				b->del_job, b->pos };
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		sqlite3_finalize(all[i]);
	sqlite3_close(b->db);
	struct sl_jobmap_node *n = b->jobs.buckets ? sl_jobmap_next(&b->jobs, NULL) : NULL;
	while (n) {
		struct sl_jobmap_node *next = sl_jobmap_next(&b->jobs, n);
		struct bjob *j = SL_CONTAINER_OF(n, struct bjob, node);
		sl_state_free(&j->st);
		free(j->id);
		free(j);
		n = next;
	}
	sl_jobmap_fini(&b->jobs);
}

/* One event: its statelog_events row, then each row it changes. */
static int baseline_event(struct baseline *b, const sl_event *ev, const char *time)
{
	char tbuf[SL_STATE_N_SHEET_COLUMNS][SL_TIME_BUFSZ];
	int64_t sheet = sl_event_sheet(ev);
	sqlite3_bind_int64(b->event, 1, (sqlite3_int64)ev->seq);
	sqlite3_bind_text(b->event, 2, time, -1, SQLITE_STATIC);
	sqlite3_bind_text(b->event, 3, ev->job_id, -1, SQLITE_STATIC);
	if (sheet)
		sqlite3_bind_int64(b->event, 4, sheet);
	else
		sqlite3_bind_null(b->event, 4);
	sqlite3_bind_text(b->event, 5, sl_event_type_name(ev), -1, SQLITE_STATIC);
	int rc = step_reset(b, b->event);
	if (rc != SL_OK || !ev->job_id)
		return rc;
	struct bjob *j = bjob_get(b, ev->job_id);
	if (!j)
		return SL_ENOMEM;
	rc = sl_rules_apply(&j->st, ev, NULL);
	if (sl_rules_refused(rc))
		return SL_OK;           /* refused by the rules: nothing changes */
	if (rc != SL_OK)
		return rc;
	switch (ev->body_case) {
	case STATELOG__EVENT__BODY_EXECUTION_RECORDED: {
		const Statelog__ExecutionRecorded *x = ev->execution_recorded;
		sqlite3_stmt *st = b->exec;
		if (x->has_execution_id)
			sqlite3_bind_int64(st, 1, x->execution_id);
		else
			sqlite3_bind_null(st, 1);
		sqlite3_bind_text(st, 2, ev->job_id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, x->sheet_num);
		sqlite3_bind_int64(st, 4, x->attempt_num);
		sqlite3_bind_text(st, 5, x->prompt, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 6, x->output, -1, SQLITE_STATIC);
		if (x->has_exit_code)
			sqlite3_bind_int64(st, 7, x->exit_code);
		else
			sqlite3_bind_null(st, 7);
		if (x->has_duration_seconds)
			sqlite3_bind_double(st, 8, x->duration_seconds);
		else
			sqlite3_bind_null(st, 8);
		sqlite3_bind_text(st, 9, time, -1, SQLITE_STATIC);
		return step_reset(b, st);
	}
	case STATELOG__EVENT__BODY_JOB_DELETED: {
		sqlite3_stmt *del[] = { b->del_hist, b->del_sheets, b->del_job };
		for (size_t i = 0; i < 3 && rc == SL_OK; i++) {
			sqlite3_bind_text(del[i], 1, ev->job_id, -1, SQLITE_STATIC);
			rc = step_reset(b, del[i]);
		}
		return rc;
	}
	default:
		break;
	}
	bind_columns(b->job, 1, sl_state_job_columns, SL_STATE_N_JOB_COLUMNS, &j->st, tbuf);
	if ((rc = step_reset(b, b->job)) != SL_OK)
		return rc;
	const struct sl_sheet_state *sh = sheet > 0 ? sl_state_find_sheet(&j->st, sheet) : NULL;
	if (!sh)
		return SL_OK;
	sqlite3_bind_text(b->sheet, 1, ev->job_id, -1, SQLITE_STATIC);
	bind_columns(b->sheet, 2, sl_state_sheet_columns, SL_STATE_N_SHEET_COLUMNS, sh, tbuf);
	return step_reset(b, b->sheet);
}

/* Replays the whole log into a new database at path; *events counts them. */
static int run_baseline(const char *log_dir, const char *path, uint64_t *events)
{
	struct baseline b = { 0 };
	sl_reader *r = NULL;
	char err[1024], log_id[2 * SL_LOG_ID_SIZE + 1];
	uint8_t id[SL_LOG_ID_SIZE];
	int rc = sl_reader_open(&r, log_dir, NULL, err, sizeof err);
	if (rc != SL_OK) {
		cli_err("bench", "%s", err);
		return rc;
	}
	sl_reader_log_id(id, r);
	sl_log_id_format(log_id, id);
	if ((rc = baseline_open(&b, path, log_id)) != SL_OK)
		goto out;
	struct sl_record rec;
	uint64_t n = 0;
	int more;
	sqlite3_exec(b.db, "BEGIN", NULL, NULL, NULL);
	while ((more = sl_reader_next(&rec, r)) == 1) {
		if (rec.lost)
			continue;
		sl_event *ev;
		char time[SL_TIME_BUFSZ];
		if ((rc = sl_event_decode(&ev, rec.data, rec.len, rec.seq, rec.time_us)) != SL_OK) {
			cli_err("bench", "seq %" PRIu64 ": %s", rec.seq, sl_strerror(rc));
			goto out;
		}
		sl_time_format(rec.time_us, time, sizeof time);
		rc = baseline_event(&b, ev, time);
		sl_event_free(ev);
		if (rc != SL_OK)
			goto out;
		if (++n % BASELINE_BATCH == 0) {
			sqlite3_bind_int64(b.pos, 1, (sqlite3_int64)rec.seq);
			if ((rc = step_reset(&b, b.pos)) != SL_OK)
				goto out;
			sqlite3_exec(b.db, "COMMIT; BEGIN", NULL, NULL, NULL);
		}
	}
	if (more < 0) {
		rc = more;
		cli_err("bench", "%s", sl_reader_errmsg(r));
		goto out;
	}
	sqlite3_bind_int64(b.pos, 1, (sqlite3_int64)n);
	if ((rc = step_reset(&b, b.pos)) != SL_OK)
		goto out;
	if (sqlite3_exec(b.db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		cli_err("bench", "baseline: %s", sqlite3_errmsg(b.db));
		rc = SL_ESQLITE;
		goto out;
	}
	*events = n;
out:
	baseline_close(&b);
	sl_reader_close(r);
	return rc;
}

/* ---- runs in child processes -------------------------------------------- */

struct result {
	int rc;
	double seconds;
	uint64_t events;
	long maxrss_kib;
};

/* Runs one side in a child (its peak RSS is its own) and collects its
 * result through a pipe.  Removes the database afterwards. */
/* --no-snapshots: rebuild without taking time-travel snapshot points. */
static bool bench_no_snapshots;

static int run_child(bool rebuild, const char *log_dir, const char *db, struct result *out)
{
	int fds[2];
	if (pipe(fds) != 0)
		return SL_EIO;
	sync();         /* neither side pays for the other's write-back */
	pid_t pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return SL_EIO;
	}
	if (pid == 0) {
		close(fds[0]);
		struct result r = { 0 };
		double t0 = cli_mono_s();
		if (rebuild) {
			struct sl_proj_options o;
			struct sl_proj_stats st;
			char err[1024];
			sl_proj_options_init(&o);
			o.no_snapshots = bench_no_snapshots;
			r.rc = sl_proj_rebuild(log_dir, db, &o, &st, err, sizeof err);
			if (r.rc != SL_OK)
				cli_err("bench", "%s", err);
			r.events = st.events_applied;
		} else {
			r.rc = run_baseline(log_dir, db, &r.events);
		}
		r.seconds = cli_mono_s() - t0;
		struct rusage ru;
		getrusage(RUSAGE_SELF, &ru);
		r.maxrss_kib = ru.ru_maxrss;
		ssize_t w = write(fds[1], &r, sizeof r);
		_exit(w == (ssize_t)sizeof r ? 0 : 1);
	}
	close(fds[1]);
	ssize_t got = read(fds[0], out, sizeof *out);
	close(fds[0]);
	int status;
	waitpid(pid, &status, 0);
	static const char *const sfx[] = { "", "-journal", "-wal", "-shm", ".rebuild" };
	for (size_t i = 0; i < sizeof sfx / sizeof sfx[0]; i++) {
		char path[4200];
		snprintf(path, sizeof path, "%s%s", db, sfx[i]);
		unlink(path);
	}
	if (got != (ssize_t)sizeof *out)
		return SL_EIO;
	return out->rc;
}

/* ---- the command -------------------------------------------------------- */

static const char rebuild_help[] =
	"usage: statelog bench rebuild [--log DIR] [--runs N] [--events N] [--seed N] [--dir BASE]\n"
	"                              [--no-snapshots]\n\n"
	"Rebuilds the views from a log (sl_proj_rebuild: coalesced writes, the log\n"
	"read in a thread of its own) and, alternately, replays the same log the\n"
	"straightforward way (decode, then one SQL statement per change, 100,000\n"
	"events per transaction, journal off), --runs times each (default 3), each\n"
	"run in a child process.  Prints both medians, their ratio and the rebuild's\n"
	"peak RSS.\n\n"
	"--log DIR     an existing log; without it, one of --events (default 1,000,000)\n"
	"              events of the reference workload is generated under BASE\n"
	"--dir BASE    where the databases (and a generated log) go (default $TMPDIR\n"
	"              or /tmp); they are removed afterwards\n"
	"--no-snapshots  rebuild as `statelog rebuild --no-snapshots` (by default the\n"
	"              rebuild also takes the time-travel snapshot points it misses)\n"
	"Exit codes: 0 measured; 1 a failure (I/O, a check of the results); 2 usage.\n";

int bench_rebuild(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "log", required_argument, NULL, 'l' },
		{ "runs", required_argument, NULL, 'r' },
		{ "events", required_argument, NULL, 'e' },
		{ "seed", required_argument, NULL, 'S' },
		{ "dir", required_argument, NULL, 'd' },
		{ "no-snapshots", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *log_opt = NULL, *base = NULL;
	uint64_t runs = 3, events = 1000000, seed = 0;
	bench_no_snapshots = false;
	int c, idx = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, "h", opts, &idx)) != -1) {
		bool ok = true;
		switch (c) {
		case 'l': log_opt = optarg; break;
		case 'r': ok = cli_parse_u64(optarg, &runs) && runs >= 1 && runs <= 99; break;
		case 'e': ok = cli_parse_u64(optarg, &events) && events >= 1; break;
		case 'S': ok = cli_parse_u64(optarg, &seed); break;
		case 'd': base = optarg; break;
		case 'n': bench_no_snapshots = true; break;
		case 'h': fputs(rebuild_help, stdout); return SL_EXIT_OK;
		default: return cli_usage(rebuild_help);
		}
		if (!ok) {
			cli_err("bench", "--%s: bad value '%s'", opts[idx].name, optarg);
			return SL_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		cli_err("bench", "unexpected argument '%s'", argv[optind]);
		return SL_EXIT_USAGE;
	}
	char *work = cli_tmpdir(base, "bench");
	char *log_dir = NULL, *db = NULL;
	double *t_reb = calloc(runs, sizeof(double)), *t_base = calloc(runs, sizeof(double));
	long peak_kib = 0;
	uint64_t n_events = 0;
	int rc = SL_OK;
	if (!work || !t_reb || !t_base) {
		cli_err("bench", "cannot make a scratch directory under %s: %s",
			base ? base : "$TMPDIR", strerror(errno));
		rc = SL_EIO;
		goto out;
	}
	if (log_opt) {
		log_dir = strdup(log_opt);
	} else if (asprintf(&log_dir, "%s/reference.log", work) > 0) {
		cli_note("generating a log of %" PRIu64 " reference events in %s...\n", events,
			log_dir);
		double t0 = cli_mono_s();
		if ((rc = bench_reference_log(log_dir, events, seed)) != SL_OK)
			goto out;
		cli_note("generated in %.1f s\n", cli_mono_s() - t0);
	}
	if (!log_dir || asprintf(&db, "%s/views.db", work) < 0) {
		rc = SL_ENOMEM;
		goto out;
	}
	printf("# statelog bench");
	for (int i = 0; i < argc; i++)
		printf(" %s", argv[i]);
	printf("\n# log %s, %" PRIu64 " runs of each, alternating\n", log_dir, runs);
	for (uint64_t r = 0; r < runs && rc == SL_OK; r++) {
		struct result a = { 0 }, b = { 0 };
		/* Alternate which goes first. */
		bool rebuild_first = r % 2 == 0;
		for (int k = 0; k < 2 && rc == SL_OK; k++) {
			bool reb = (k == 0) == rebuild_first;
			cli_note("run %" PRIu64 "/%" PRIu64 ": %s...\n", r + 1, runs,
				reb ? "rebuild" : "baseline");
			rc = run_child(reb, log_dir, db, reb ? &a : &b);
		}
		if (rc != SL_OK)
			break;
		if (a.events != b.events) {
			cli_err("bench", "rebuild applied %" PRIu64 " events, baseline %" PRIu64,
				a.events, b.events);
			rc = SL_EINVAL;
			break;
		}
		n_events = a.events;
		t_reb[r] = a.seconds;
		t_base[r] = b.seconds;
		if (a.maxrss_kib > peak_kib)
			peak_kib = a.maxrss_kib;
		printf("run %" PRIu64 ": rebuild %.2f s (%.0f events/s, peak RSS %.1f MiB); "
		       "baseline %.2f s (%.0f events/s); ratio %.2fx\n", r + 1, a.seconds,
		       (double)a.events / a.seconds, (double)a.maxrss_kib / 1024.0, b.seconds,
		       (double)b.events / b.seconds, b.seconds / a.seconds);
		fflush(stdout);
	}
	if (rc == SL_OK) {
		double mr = bench_median(t_reb, (int)runs), mb = bench_median(t_base, (int)runs);
		printf("events: %" PRIu64 "\n", n_events);
		printf("rebuild (sl_proj_rebuild):            median %.2f s, %.0f events/s, "
		       "peak RSS %.1f MiB\n", mr, (double)n_events / mr, (double)peak_kib / 1024.0);
		printf("baseline (one statement per change):  median %.2f s, %.0f events/s\n", mb,
		       (double)n_events / mb);
		printf("ratio (medians): %.2fx\n", mb / mr);
	}
out:
	if (work) {
		if (log_opt || rc == SL_OK)
			sl_proj_remove_tree(work);
		else
			fprintf(stderr, "scratch files left in %s\n", work);
	}
	free(work);
	free(log_dir);
	free(db);
	free(t_reb);
	free(t_base);
	return rc == SL_OK ? SL_EXIT_OK : cli_exit_for(rc);
}
