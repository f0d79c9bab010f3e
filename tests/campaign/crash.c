/* crash.c: the crash campaign.  Kills processes with SIGKILL at random
 * moments and checks that nothing committed is lost, nothing that was not
 * appended appears, recovery needs no manual step, and the views equal a
 * fresh rebuild.  Three kinds of victim:
 *
 *  writer    a child runs the reference workload through the backend API
 *            (durability always), one call at a time, and after each call
 *            writes (step, last seq) to a pipe: that commit is acknowledged.
 *            The parent kills it, reopens the backend (recovery, catch-up),
 *            checks the log against the reference (the same seed run once
 *            without kills: the workload and the backend's events are
 *            deterministic, and the stored encoding holds neither sequence
 *            numbers nor times): exactly the events up to a call boundary
 *            that is at least the last acknowledged one and at most the call
 *            in flight, each byte-equal to the reference; then the views
 *            against a rebuild of the same log.  The next writer resumes the
 *            workload where the log ends, on the same log.
 *  projector a child catches a database up (small random batches), killed
 *            mid-batch; a copy of what it left is caught up by the parent
 *            and must equal a rebuild; the partial database is kept for the
 *            next child half of the time.
 *  rebuild   a child runs sl_proj_rebuild() over a database projected from
 *            an older part of the log, killed at random: the database must
 *            dump as the old one or the new one, never a mix, and then open
 *            and catch up to the new one.
 *
 * Usage: crash [--kills N] [--proj-kills N] [--rebuild-kills N] [--seed S]
 *              [--events E] [--max-ms M] [--dir D] [--quiet]
 * Exit status 0 when every check held, 1 on a finding (described on
 * stderr, and the scratch directory kept), 2 on a usage or setup error.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "camp.h"
#include "drive.h"
#include "event_internal.h"
#include "log.h"
#include "projector.h"
#include "workload.h"

struct opts {
	uint64_t kills, proj_kills, rebuild_kills;
	uint64_t seed, events, max_ms;
	const char *dir;
	bool quiet;
};

struct totals {
	uint64_t kills, episodes, acked_events, tail_cuts, unacked_kept, views_checked;
	uint64_t proj_kills, rebuild_kills, rebuild_old, rebuild_new, tmp_left, leftovers;
	uint64_t findings;
};

static struct opts O;
static struct totals T;
static uint64_t rng;

#define FINDING(...)                                    \
	do {                                            \
		fprintf(stderr, "crash: FINDING: " __VA_ARGS__); \
		fputc('\n', stderr);                    \
		T.findings++;                           \
	} while (0)

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool always_alive(int64_t pid, void *ctx)
{
	(void)pid;
	(void)ctx;
	return true;    /* the workload's pids are made up */
}

/* ---- the workload as backend calls, resumable --------------------------- */

struct model {
	char *id;
	struct sl_job_state st;
	int64_t last_us;
};

struct models {
	struct model *m;
	size_t n;
};

static struct model *model_of(struct models *ms, const char *id)
{
	for (size_t i = 0; i < ms->n; i++)
		if (strcmp(ms->m[i].id, id) == 0)
			return &ms->m[i];
	ms->m = realloc(ms->m, (ms->n + 1) * sizeof *ms->m);
	struct model *m = &ms->m[ms->n++];
	m->id = strdup(id);
	sl_state_init(&m->st);
	m->last_us = 0;
	return m;
}

static void models_free(struct models *ms)
{
	for (size_t i = 0; i < ms->n; i++) {
		free(ms->m[i].id);
		sl_state_free(&ms->m[i].st);
	}
	free(ms->m);
}

struct ack {
	uint64_t step, seq;
};

/* Runs the workload (seed, events) on be as an orchestrator calls it (as
 * tools/drive.c does, at the workload's own clock so that the events are
 * the same in every run).  Steps before `from` only change the in-memory
 * model: their calls were made by an earlier, killed process.  After each
 * call: bound[step] (when not NULL) and an ack on ack_fd (when >= 0).
 * Returns the number of steps, or a negative SL_* code (msg says which). */
static int64_t drive(sl_backend *be, uint64_t seed, uint64_t events, uint64_t from, int ack_fd,
		     uint64_t *bound, char *msg, size_t msglen)
{
	struct sl_workload_options wo;
	sl_workload_options_init(&wo);
	wo.seed = seed;
	wo.events = events;
	sl_workload *w = NULL;
	int rc = sl_workload_new(&w, &wo);
	if (rc != SL_OK)
		return rc;
	struct models ms = { NULL, 0 };
	uint64_t step = 0, seq = sl_backend_last_seq(be);
	Statelog__Event *ev;
	while ((rc = sl_workload_next(w, &ev)) == 1) {
		struct model *m = model_of(&ms, ev->job_id);
		int64_t t = sl_workload_time_us(w);
		m->last_us = t > m->last_us ? t : m->last_us + 1;
		ev->has_time_us = 1;
		ev->time_us = m->last_us;
		int arc = sl_rules_apply(&m->st, ev, NULL);
		ev->has_time_us = 0;
		ev->time_us = 0;
		if (arc == SL_OK && step >= from) {
			switch (ev->body_case) {
			case STATELOG__EVENT__BODY_EXECUTION_RECORDED: {
				const Statelog__ExecutionRecorded *b = ev->execution_recorded;
				struct sl_execution_record rec = {
					.job_id = ev->job_id, .sheet_num = b->sheet_num,
					.attempt_num = b->attempt_num, .prompt = b->prompt,
					.output = b->output, .has_exit_code = b->has_exit_code,
					.exit_code = b->exit_code,
					.has_duration_seconds = b->has_duration_seconds,
					.duration_seconds = b->duration_seconds,
				};
				int64_t eid;
				rc = sl_backend_record_execution(&eid, be, &rec);
				break;
			}
			case STATELOG__EVENT__BODY_JOB_DELETED:
				rc = sl_backend_delete(be, ev->job_id);
				break;
			default:
				rc = sl_drive_call(be, ev, &m->st);
				break;
			}
			if (rc != SL_OK) {
				snprintf(msg, msglen, "step %" PRIu64 " (%s %s): %s", step, ev->job_id,
					 sl_event_type_name(ev), sl_backend_errmsg(be));
				break;
			}
			seq = sl_backend_last_seq(be);
			if (ack_fd >= 0) {
				struct ack a = { step, seq };
				if (write(ack_fd, &a, sizeof a) != (ssize_t)sizeof a) {
					rc = SL_EIO;
					break;
				}
			}
		}
		if (bound)
			bound[step] = seq;
		step++;
	}
	models_free(&ms);
	sl_workload_free(w);
	return rc < 0 ? rc : (int64_t)step;
}

static int open_backend(sl_backend **out, const char *log_dir, enum sl_durability d, bool create,
			struct sl_recovery_report *rep, char *err, size_t errlen)
{
	struct sl_backend_options bo;
	sl_backend_options_init(&bo);
	bo.durability = d;
	bo.create = create;
	bo.pid_alive = always_alive;
	bo.report = rep;
	return sl_backend_open(out, log_dir, &bo, err, errlen);
}

/* ---- writer kills -------------------------------------------------------- */

struct episode {
	char *dir, *log, *db, *rebuilt;
	uint64_t seed;
	struct camp_events ref;
	uint64_t *bound;
	uint64_t steps;
};

static int episode_init(struct episode *e, const char *base, uint64_t n)
{
	char name[64];
	memset(e, 0, sizeof *e);
	snprintf(name, sizeof name, "ep%" PRIu64, n);
	e->dir = camp_path(base, name);
	mkdir(e->dir, 0700);
	e->log = camp_path(e->dir, "run.log");
	e->db = camp_path(e->dir, "run.db");
	e->rebuilt = camp_path(e->dir, "rebuilt.db");
	e->seed = O.seed * 1000003 + n;
	/* The reference: the same workload, uninterrupted. */
	char *ref = camp_path(e->dir, "ref.log");
	char err[1024] = "", msg[1024] = "";
	sl_backend *be = NULL;
	int rc = open_backend(&be, ref, SL_DURABLE_NONE, true, NULL, err, sizeof err);
	if (rc != SL_OK) {
		fprintf(stderr, "crash: reference: %s\n", err);
		free(ref);
		return -1;
	}
	e->bound = calloc(O.events + 16, sizeof *e->bound);
	int64_t steps = drive(be, e->seed, O.events, 0, -1, e->bound, msg, sizeof msg);
	sl_backend_close(be);
	if (steps < 0) {
		fprintf(stderr, "crash: reference run: %s: %s\n", msg, sl_strerror((int)steps));
		free(ref);
		return -1;
	}
	e->steps = (uint64_t)steps;
	rc = camp_read_events(&e->ref, ref, err, sizeof err);
	free(ref);
	if (rc != SL_OK) {
		fprintf(stderr, "crash: reading the reference: %s\n", err);
		return -1;
	}
	return 0;
}

static void episode_free(struct episode *e)
{
	free(e->dir);
	free(e->log);
	free(e->db);
	free(e->rebuilt);
	free(e->bound);
	camp_events_free(&e->ref);
}

/* The views of the backend's database must equal a rebuild of its log. */
static int check_views(const char *log, const char *db, const char *rebuilt, const char *what)
{
	char err[1024] = "", msg[1024] = "";
	unlink(rebuilt);
	struct sl_proj_stats st;
	int rc = sl_proj_rebuild(log, rebuilt, NULL, &st, err, sizeof err);
	if (rc != SL_OK) {
		FINDING("%s: rebuild of %s: %s", what, log, err);
		return -1;
	}
	char *a = camp_dump(db, err, sizeof err);
	char *b = a ? camp_dump(rebuilt, err, sizeof err) : NULL;
	int res = 0;
	if (!a || !b) {
		FINDING("%s: dump: %s", what, err);
		res = -1;
	} else if (strcmp(a, b) != 0) {
		camp_dump_diff(a, b, msg, sizeof msg);
		FINDING("%s: views of %s differ from a rebuild: %s", what, db, msg);
		res = -1;
	}
	free(a);
	free(b);
	char side[4200];
	snprintf(side, sizeof side, "%s-wal", rebuilt);
	unlink(side);
	snprintf(side, sizeof side, "%s-shm", rebuilt);
	unlink(side);
	unlink(rebuilt);
	T.views_checked += res == 0;
	return res;
}

/* The call boundary a log that ends at seq L resumes from: the step after
 * the last step whose bound is L.  -1 when L is no boundary. */
static int64_t resume_step(const struct episode *e, uint64_t L)
{
	int64_t t = -1;
	for (uint64_t s = 0; s < e->steps; s++)
		if (e->bound[s] == L)
			t = (int64_t)s;
		else if (e->bound[s] > L)
			break;
	if (t < 0)
		return L == 0 ? 0 : -1;
	return t + 1;
}

/* Runs one writer until it is killed or ends; returns 1 when it ended by
 * itself, 0 when killed, -1 on a finding. */
static int writer_round(struct episode *e, uint64_t *from)
{
	int fds[2];
	if (pipe(fds) != 0)
		return -1;
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		close(fds[0]);
		char err[1024] = "", msg[1024] = "";
		sl_backend *be = NULL;
		int rc = open_backend(&be, e->log, SL_DURABLE_ALWAYS, true, NULL, err, sizeof err);
		if (rc != SL_OK) {
			fprintf(stderr, "crash: writer: open: %s\n", err);
			_exit(3);
		}
		int64_t r = drive(be, e->seed, O.events, *from, fds[1], NULL, msg, sizeof msg);
		if (r < 0) {
			fprintf(stderr, "crash: writer: %s\n", msg);
			_exit(4);
		}
		_exit(sl_backend_close(be) == SL_OK ? 0 : 5);
	}
	close(fds[1]);
	double deadline = now_s() + (double)camp_below(&rng, O.max_ms * 1000 + 1) / 1e6;
	bool have_ack = false;
	struct ack last = { 0, 0 };
	bool killed = false;
	char buf[4096];
	size_t held = 0;
	for (;;) {
		double left = deadline - now_s();
		if (left <= 0 && !killed) {
			kill(pid, SIGKILL);
			killed = true;
		}
		struct pollfd pf = { fds[0], POLLIN, 0 };
		int pr = poll(&pf, 1, killed ? -1 : (int)(left * 1000) + 1);
		if (pr <= 0)
			continue;
		ssize_t n = read(fds[0], buf + held, sizeof buf - held);
		if (n <= 0)
			break;  /* EOF: the writer is gone */
		held += (size_t)n;
		size_t k = held / sizeof(struct ack);
		if (k) {
			memcpy(&last, buf + (k - 1) * sizeof(struct ack), sizeof last);
			have_ack = true;
			memmove(buf, buf + k * sizeof(struct ack), held - k * sizeof(struct ack));
			held -= k * sizeof(struct ack);
		}
	}
	close(fds[0]);
	int status = 0;
	waitpid(pid, &status, 0);
	bool ended = WIFEXITED(status);
	if (ended && WEXITSTATUS(status) != 0) {
		FINDING("writer of %s exited with %d", e->log, WEXITSTATUS(status));
		return -1;
	}
	if (!ended)
		T.kills++;

	/* Recovery, as the next writer would do it, without any manual step. */
	char err[1024] = "", msg[1024] = "";
	struct sl_recovery_report rep;
	memset(&rep, 0, sizeof rep);
	sl_backend *be = NULL;
	int rc = open_backend(&be, e->log, SL_DURABLE_ALWAYS, true, &rep, err, sizeof err);
	if (rc != SL_OK) {
		FINDING("reopening %s after kill %" PRIu64 ": %s", e->log, T.kills, err);
		return -1;
	}
	uint64_t L = sl_backend_last_seq(be);
	sl_backend_close(be);
	T.tail_cuts += rep.tail_cut;
	uint64_t acked = have_ack ? last.seq : (*from ? e->bound[*from - 1] : 0);
	/* At most the call in flight after the last acknowledged one. */
	uint64_t after = have_ack ? last.step + 1 : *from;
	uint64_t most = acked;
	for (uint64_t s = after; s < e->steps; s++)
		if (e->bound[s] > acked) {
			most = e->bound[s];
			break;
		}
	if (L < acked) {
		FINDING("%s: kill %" PRIu64 ": log ends at seq %" PRIu64 " but %" PRIu64
			" was acknowledged", e->log, T.kills, L, acked);
		return -1;
	}
	if (L > most) {
		FINDING("%s: kill %" PRIu64 ": log ends at seq %" PRIu64 ", past the call in flight (%"
			PRIu64 ")", e->log, T.kills, L, most);
		return -1;
	}
	int64_t next = resume_step(e, L);
	if (next < 0) {
		FINDING("%s: seq %" PRIu64 " is inside a call's commit", e->log, L);
		return -1;
	}
	if (camp_check_prefix(e->log, &e->ref, L, msg, sizeof msg) != 0) {
		FINDING("%s: kill %" PRIu64 ": %s", e->log, T.kills, msg);
		return -1;
	}
	T.acked_events += acked - (*from ? e->bound[*from - 1] : 0);
	T.unacked_kept += L > acked;
	snprintf(msg, sizeof msg, "kill %" PRIu64, T.kills);
	if (check_views(e->log, e->db, e->rebuilt, msg) != 0)
		return -1;
	*from = (uint64_t)next;
	if (ended && L != e->bound[e->steps - 1]) {
		FINDING("%s: the writer ended, but the log ends at %" PRIu64 " of %" PRIu64, e->log, L,
			e->bound[e->steps - 1]);
		return -1;
	}
	return ended ? 1 : 0;
}

static int writer_campaign(const char *base)
{
	uint64_t ep = 0;
	while (T.kills < O.kills) {
		struct episode e;
		if (episode_init(&e, base, ep++) != 0)
			return 2;
		T.episodes++;
		uint64_t from = 0;
		int r = 0;
		while (T.kills < O.kills && (r = writer_round(&e, &from)) == 0) {
			if (!O.quiet && T.kills % 100 == 0)
				fprintf(stderr, "crash: %" PRIu64 " writer kills, %" PRIu64
					" acknowledged events checked\n", T.kills, T.acked_events);
		}
		if (r < 0)
			return 1;
		camp_rmrf(e.dir);
		episode_free(&e);
	}
	return 0;
}

/* ---- projector and rebuild kills ---------------------------------------- */

static void rm_db(const char *db)
{
	char p[4200];
	unlink(db);
	snprintf(p, sizeof p, "%s-wal", db);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", db);
	unlink(p);
	snprintf(p, sizeof p, "%s-journal", db);
	unlink(p);
}

/* A copy of a database as a crash left it: the file, and its WAL or hot
 * rollback journal (either is part of its state; -shm is not). */
static int copy_db(const char *from, const char *to)
{
	char a[4200], b[4200];
	rm_db(to);
	if (camp_copy(from, to, true) != 0)
		return -1;
	static const char *const sfx[] = { "-wal", "-journal" };
	for (size_t i = 0; i < 2; i++) {
		snprintf(a, sizeof a, "%s%s", from, sfx[i]);
		snprintf(b, sizeof b, "%s%s", to, sfx[i]);
		if (camp_copy(a, b, true) != 0)
			return -1;
	}
	return 0;
}

/* Appends the reference workload's events [skip, skip + n) to the log in dir
 * (durability none), one commit per event. */
static int append_workload(const char *dir, uint64_t skip, uint64_t n)
{
	struct sl_log_options lo;
	sl_log_options_init(&lo);
	lo.create = true;
	lo.durability = SL_DURABLE_NONE;
	sl_log *log = NULL;
	char err[1024] = "";
	int rc = sl_log_open(&log, dir, &lo, NULL, err, sizeof err);
	if (rc != SL_OK) {
		fprintf(stderr, "crash: %s\n", err);
		return -1;
	}
	struct sl_workload_options wo;
	sl_workload_options_init(&wo);
	wo.seed = O.seed;
	wo.events = skip + n;
	sl_workload *w = NULL;
	sl_workload_new(&w, &wo);
	Statelog__Event *ev;
	uint64_t i = 0;
	while (rc == SL_OK && sl_workload_next(w, &ev) == 1) {
		if (i++ < skip)
			continue;
		ev->has_time_us = 1;
		ev->time_us = sl_workload_time_us(w);
		rc = sl_log_append(log, &ev, 1, NULL);
	}
	sl_workload_free(w);
	if (sl_log_close(log) != SL_OK || rc != SL_OK)
		return -1;
	return 0;
}

static int project(const char *log, const char *db, uint32_t batch, char *err, size_t errlen)
{
	struct sl_proj_options po;
	sl_proj_options_init(&po);
	if (batch)
		po.batch_events = batch;
	sl_proj *p = NULL;
	int rc = sl_proj_open(&p, log, db, &po, NULL, err, errlen);
	if (rc != SL_OK)
		return rc;
	struct sl_proj_stats st;
	rc = sl_proj_catch_up(p, &st);
	if (rc != SL_OK)
		snprintf(err, errlen, "%s", sl_proj_errmsg(p));
	sl_proj_close(p);
	return rc;
}

static pid_t spawn_killable(int kind, const char *log, const char *db, uint32_t batch)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	char err[1024] = "";
	int rc;
	if (kind == 0) {
		rc = project(log, db, batch, err, sizeof err);
	} else {
		struct sl_proj_stats st;
		rc = sl_proj_rebuild(log, db, NULL, &st, err, sizeof err);
	}
	if (rc != SL_OK)
		fprintf(stderr, "crash: %s: %s\n", kind ? "rebuild" : "catch-up", err);
	_exit(rc == SL_OK ? 0 : 3);
}

/* Kills the child after a random delay up to max_us; returns whether it
 * was still running, -1 when it failed on its own. */
static int kill_at_random(pid_t pid, uint64_t max_us)
{
	uint64_t us = camp_below(&rng, max_us + 1);
	struct timespec ts = { (time_t)(us / 1000000), (long)(us % 1000000) * 1000 };
	nanosleep(&ts, NULL);
	kill(pid, SIGKILL);
	int status = 0;
	waitpid(pid, &status, 0);
	if (WIFEXITED(status))
		return WEXITSTATUS(status) == 0 ? 0 : -1;
	return 1;
}

/* Shrinks the window when the child finished first, widens it a little
 * when it was killed: about four kills in five. */
static void adapt(uint64_t *span, int killed)
{
	if (killed == 1)
		*span += *span / 20;
	else if (killed == 0)
		*span = *span * 4 / 5 + 1;
}

static uint64_t count_others(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	uint64_t n = 0;
	struct dirent *de;
	while (d && (de = readdir(d)))
		n += de->d_name[0] != '.' && strncmp(de->d_name, prefix, strlen(prefix)) != 0;
	if (d)
		closedir(d);
	return n;
}

static void list_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	fprintf(stderr, "crash: after a rebuild kill, %s holds:", dir);
	while (d && (de = readdir(d)))
		if (de->d_name[0] != '.')
			fprintf(stderr, " %s", de->d_name);
	fputc('\n', stderr);
	if (d)
		closedir(d);
}

static int projector_campaigns(const char *base)
{
	char err[1024] = "", msg[1024] = "";
	char *pdir = camp_path(base, "proj");
	mkdir(pdir, 0700);
	char *log = camp_path(pdir, "w.log"), *full = camp_path(pdir, "full.db");
	char *db = camp_path(pdir, "w.db"), *check = camp_path(pdir, "check.db");
	char *old = camp_path(pdir, "old.db");
	char *rdir = camp_path(pdir, "rb");
	mkdir(rdir, 0700);
	char *rdb = camp_path(rdir, "w.db"), *tmp = camp_path(rdir, "w.db.rebuild");
	int res = 2;
	char *want = NULL, *want_old = NULL;
	uint64_t n_old = O.events * 2, n_new = O.events * 4;
	/* The older part of the log, projected (the database a rebuild
	 * replaces), then the rest. */
	if (append_workload(log, 0, n_old) != 0 || project(log, old, 0, err, sizeof err) != SL_OK ||
	    append_workload(log, n_old, n_new - n_old) != 0) {
		fprintf(stderr, "crash: setting up %s: %s\n", log, err);
		goto done;
	}
	if (!(want_old = camp_dump(old, err, sizeof err)))
		goto done;
	double t0 = now_s();
	struct sl_proj_stats st;
	if (sl_proj_rebuild(log, full, NULL, &st, err, sizeof err) != SL_OK ||
	    !(want = camp_dump(full, err, sizeof err))) {
		fprintf(stderr, "crash: %s\n", err);
		goto done;
	}
	/* The kill window, per victim: adapted so that most children are
	 * killed, at every point of their work. */
	uint64_t span_us = (uint64_t)((now_s() - t0) * 1.5e6) + 1000;
	uint64_t span[2] = { span_us, span_us };
	res = 1;
	for (uint64_t i = 0; i < O.proj_kills; i++) {
		if (i == 0 || camp_below(&rng, 2) == 0)
			rm_db(db);
		uint32_t batch = 1 + (uint32_t)camp_below(&rng, 400);
		int k = kill_at_random(spawn_killable(0, log, db, batch), span[0]);
		adapt(&span[0], k);
		if (k < 0) {
			FINDING("catch-up of %s failed on its own", db);
			goto done;
		}
		T.proj_kills += k;
		if (copy_db(db, check) != 0) {
			FINDING("copying %s", db);
			goto done;
		}
		int rc = project(log, check, 0, err, sizeof err);
		char *got = rc == SL_OK ? camp_dump(check, err, sizeof err) : NULL;
		if (!got) {
			FINDING("catch-up after a projector kill (%s): %s", db, err);
			goto done;
		}
		if (strcmp(got, want) != 0) {
			camp_dump_diff(got, want, msg, sizeof msg);
			FINDING("projector kill %" PRIu64 ": caught-up views differ from a rebuild: %s",
				i, msg);
			free(got);
			goto done;
		}
		free(got);
		T.views_checked++;
	}
	for (uint64_t i = 0; i < O.rebuild_kills; i++) {
		rm_db(rdb);
		if (copy_db(old, rdb) != 0)
			goto done;
		int k = kill_at_random(spawn_killable(1, log, rdb, 0), span[1]);
		adapt(&span[1], k);
		if (k < 0) {
			FINDING("rebuild of %s failed on its own", rdb);
			goto done;
		}
		T.rebuild_kills += k;
		char *got = camp_dump(rdb, err, sizeof err);
		if (!got) {
			FINDING("rebuild kill %" PRIu64 ": the database does not open: %s", i, err);
			goto done;
		}
		bool is_old = strcmp(got, want_old) == 0, is_new = strcmp(got, want) == 0;
		if (!is_old && !is_new) {
			camp_dump_diff(got, want, msg, sizeof msg);
			FINDING("rebuild kill %" PRIu64 ": the database is neither the old nor the new"
				" one: %s", i, msg);
			free(got);
			goto done;
		}
		free(got);
		T.rebuild_old += is_old;
		T.rebuild_new += is_new;
		/* A killed rebuild may leave its "<db>.rebuild" (the next one takes
		 * it over); anything else left beside the database is counted. */
		/* A killed rebuild may leave its "<db>.rebuild" (the next one takes
		 * it over) and the old database's -wal and -shm; anything else
		 * left beside the database is counted. */
		T.tmp_left += access(tmp, F_OK) == 0;
		if (count_others(rdir, "w.db") > 0) {
			if (!T.leftovers++ && !O.quiet)
				list_files(rdir);
		}
		int rc = project(log, rdb, 0, err, sizeof err);
		got = rc == SL_OK ? camp_dump(rdb, err, sizeof err) : NULL;
		if (!got || strcmp(got, want) != 0) {
			FINDING("rebuild kill %" PRIu64 ": the next open and catch-up: %s", i,
				got ? "differs from a rebuild" : err);
			free(got);
			goto done;
		}
		free(got);
		T.views_checked++;
		/* what a killed rebuild left beside the database */
		DIR *d = opendir(rdir);
		struct dirent *de;
		while (d && (de = readdir(d)))
			if (de->d_name[0] != '.' && strncmp(de->d_name, "w.db", 4) != 0) {
				char *p = camp_path(rdir, de->d_name);
				unlink(p);
				free(p);
			}
		if (d)
			closedir(d);
	}
	res = 0;
done:
	free(want);
	free(want_old);
	free(log);
	free(full);
	free(db);
	free(check);
	free(old);
	free(rdb);
	free(tmp);
	free(rdir);
	free(pdir);
	return res;
}

static int usage(void)
{
	fputs("usage: crash [--kills N] [--proj-kills N] [--rebuild-kills N] [--seed S]\n"
	      "             [--events E] [--max-ms M] [--dir D] [--quiet]\n", stderr);
	return 2;
}

int main(int argc, char **argv)
{
	O = (struct opts){ .kills = 50, .seed = 1, .events = 2000, .max_ms = 150 };
	bool proj_set = false, rebuild_set = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--quiet") == 0) {
			O.quiet = true;
			continue;
		}
		if (i + 1 >= argc)
			return usage();
		const char *v = argv[++i];
		char *end;
		uint64_t n = strtoull(v, &end, 10);
		bool num = *v && !*end;
		if (strcmp(a, "--dir") == 0)
			O.dir = v;
		else if (!num)
			return usage();
		else if (strcmp(a, "--kills") == 0)
			O.kills = n;
		else if (strcmp(a, "--proj-kills") == 0)
			O.proj_kills = n, proj_set = true;
		else if (strcmp(a, "--rebuild-kills") == 0)
			O.rebuild_kills = n, rebuild_set = true;
		else if (strcmp(a, "--seed") == 0)
			O.seed = n;
		else if (strcmp(a, "--events") == 0 && n >= 10)
			O.events = n;
		else if (strcmp(a, "--max-ms") == 0 && n >= 1)
			O.max_ms = n;
		else
			return usage();
	}
	if (!proj_set)
		O.proj_kills = O.kills / 5;
	if (!rebuild_set)
		O.rebuild_kills = O.kills / 5;
	rng = O.seed ^ 0x5EEDull;
	char *base = O.dir ? strdup(O.dir) : camp_tmpdir("crash");
	mkdir(base, 0700);
	double t0 = now_s();
	int rc = writer_campaign(base);
	if (rc == 0)
		rc = projector_campaigns(base);
	printf("crash: seed %" PRIu64 ": %" PRIu64 " writer kills over %" PRIu64 " episodes (%" PRIu64
	       " acknowledged events checked, %" PRIu64 " torn tails cut, %" PRIu64
	       " kills kept an unacknowledged commit), %" PRIu64 " projector kills, %" PRIu64
	       " rebuild kills (%" PRIu64 " trials left the old database, %" PRIu64 " the new; %" PRIu64
	       " left a .rebuild file for the next rebuild, %" PRIu64 " left anything else), %" PRIu64
	       " view comparisons, %" PRIu64 " findings, %.0f s\n",
	       O.seed, T.kills, T.episodes, T.acked_events, T.tail_cuts, T.unacked_kept, T.proj_kills,
	       T.rebuild_kills, T.rebuild_old, T.rebuild_new, T.tmp_left, T.leftovers, T.views_checked,
	       T.findings, now_s() - t0);
	if (rc == 0 && !O.dir)
		camp_rmrf(base);
	else if (rc != 0)
		fprintf(stderr, "crash: scratch kept in %s\n", base);
	free(base);
	return rc;
}
