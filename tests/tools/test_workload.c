/* test_workload.c: tests of the reference workload generator
 * (tools/workload/): determinism, run length, the size mix, the
 * compressibility of its prose, and that every job's events obey the model
 * (projector/model/MODEL.md) the way tools/workload/WORKLOAD.md describes it.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "event.h"
#include "event_internal.h"
#include "workload.h"

static sl_workload *new_workload(uint64_t seed, uint32_t jobs, uint64_t events)
{
	struct sl_workload_options o;
	sl_workload_options_init(&o);
	o.seed = seed;
	o.jobs = jobs;
	o.events = events;
	sl_workload *w = NULL;
	int rc = sl_workload_new(&w, &o);
	cr_assert_eq(rc, SL_OK, "sl_workload_new(seed=%llu, jobs=%u, events=%llu) = %d",
		     (unsigned long long)seed, jobs, (unsigned long long)events, rc);
	return w;
}

TestSuite(workload, .timeout = 120);

/* ---- options ---- */

Test(workload, defaults)
{
	struct sl_workload_options o;
	sl_workload_options_init(&o);
	cr_assert_eq(o.jobs, 200, "default jobs = %u, want 200", o.jobs);
	cr_assert_eq(o.in_flight, 8, "default in_flight = %u, want 8", o.in_flight);
	cr_assert_eq(o.events, 0, "default events = %llu, want 0", (unsigned long long)o.events);
	sl_workload_free(NULL);
}

struct bad_options {
	uint32_t jobs;
	uint32_t in_flight;
};

ParameterizedTestParameters(workload, rejects_bad_options)
{
	static struct bad_options rows[] = {
		{ 0, 8 },      /* no jobs */
		{ 10, 0 },     /* nothing in flight */
		{ 10, 5000 },  /* too many in flight */
	};
	return cr_make_param_array(struct bad_options, rows, sizeof(rows) / sizeof(rows[0]));
}

ParameterizedTest(struct bad_options *row, workload, rejects_bad_options)
{
	struct sl_workload_options o;
	sl_workload_options_init(&o);
	o.jobs = row->jobs;
	o.in_flight = row->in_flight;
	sl_workload *w = NULL;
	int rc = sl_workload_new(&w, &o);
	cr_assert_eq(rc, SL_EINVAL, "jobs=%u in_flight=%u: rc = %d, want SL_EINVAL",
		     row->jobs, row->in_flight, rc);
	cr_assert_null(w, "jobs=%u in_flight=%u: *out set on failure", row->jobs, row->in_flight);
}

/* ---- determinism ---- */

/* Encodes every event of a run, with its time, into one buffer. */
static uint8_t *encode_run(uint64_t seed, uint64_t events, size_t *len_out)
{
	sl_workload *w = new_workload(seed, 200, events);
	size_t cap = 64 << 20, len = 0;
	uint8_t *buf = malloc(cap);
	cr_assert_not_null(buf, "malloc(%zu)", cap);
	Statelog__Event *ev;
	int rc;
	while ((rc = sl_workload_next(w, &ev)) == 1) {
		size_t sz = sl_event_encoded_size(ev);
		cr_assert_lt(len + sz + 16, cap, "seed=%llu: run larger than %zu bytes",
			     (unsigned long long)seed, cap);
		int64_t t = sl_workload_time_us(w);
		memcpy(buf + len, &t, sizeof(t));
		len += sizeof(t);
		len += sl_event_encode(ev, buf + len);
	}
	cr_assert_eq(rc, 0, "seed=%llu events=%llu: sl_workload_next = %d",
		     (unsigned long long)seed, (unsigned long long)events, rc);
	sl_workload_free(w);
	*len_out = len;
	return buf;
}

Test(workload, same_seed_same_bytes)
{
	size_t a_len, b_len;
	uint8_t *a = encode_run(42, 20000, &a_len);
	uint8_t *b = encode_run(42, 20000, &b_len);
	cr_assert_eq(a_len, b_len, "seed=42 events=20000: runs of %zu and %zu bytes", a_len, b_len);
	cr_assert(memcmp(a, b, a_len) == 0, "seed=42 events=20000: runs differ");
	free(a);
	free(b);
}

Test(workload, other_seed_other_bytes)
{
	size_t a_len, b_len;
	uint8_t *a = encode_run(1, 2000, &a_len);
	uint8_t *b = encode_run(2, 2000, &b_len);
	cr_assert(a_len != b_len || memcmp(a, b, a_len) != 0,
		  "seeds 1 and 2 (events=2000) gave identical runs");
	free(a);
	free(b);
}

/* ---- run length ---- */

ParameterizedTestParameters(workload, stops_after_n_events)
{
	static uint64_t rows[] = { 1, 2, 100, 12345 };
	return cr_make_param_array(uint64_t, rows, sizeof(rows) / sizeof(rows[0]));
}

ParameterizedTest(uint64_t *n, workload, stops_after_n_events)
{
	sl_workload *w = new_workload(7, 200, *n);
	Statelog__Event *ev;
	uint64_t count = 0;
	int rc;
	while ((rc = sl_workload_next(w, &ev)) == 1)
		count++;
	cr_assert_eq(rc, 0, "events=%llu: sl_workload_next = %d", (unsigned long long)*n, rc);
	cr_assert_eq(count, *n, "events=%llu: got %llu events", (unsigned long long)*n,
		     (unsigned long long)count);
	/* and it stays finished */
	rc = sl_workload_next(w, &ev);
	cr_assert_eq(rc, 0, "events=%llu: next after the end = %d", (unsigned long long)*n, rc);
	struct sl_workload_stats st;
	sl_workload_stats(w, &st);
	cr_assert_eq(st.events, *n, "events=%llu: stats.events = %llu", (unsigned long long)*n,
		     (unsigned long long)st.events);
	sl_workload_free(w);
}

/* ---- envelope, sizes, JSON ---- */

static int is_json_list(const char *s)
{
	json_error_t err;
	json_t *j = json_loads(s, 0, &err);
	int ok = j && json_is_array(j);
	json_decref(j);
	return ok;
}

Test(workload, events_are_well_formed_and_sized)
{
	const uint64_t n = 50000;
	sl_workload *w = new_workload(3, 200, n);
	Statelog__Event *ev;
	uint64_t small = 0, execs = 0, count = 0;
	int64_t last_time = 0;
	uint8_t *buf = malloc(1 << 20);
	int rc;
	while ((rc = sl_workload_next(w, &ev)) == 1) {
		count++;
		cr_assert(ev->job_id && ev->job_id[0], "seed=3 event %llu: no job_id",
			  (unsigned long long)count);
		cr_assert_neq(ev->body_case, STATELOG__EVENT__BODY__NOT_SET,
			      "seed=3 event %llu (job %s): no body", (unsigned long long)count,
			      ev->job_id);
		cr_assert(!ev->has_seq && !ev->has_time_us,
			  "seed=3 event %llu: seq/time_us set by the generator",
			  (unsigned long long)count);
		int64_t t = sl_workload_time_us(w);
		cr_assert_geq(t, last_time, "seed=3 event %llu: time went back from %lld to %lld",
			      (unsigned long long)count, (long long)last_time, (long long)t);
		/* 2026-01-01 .. 2028-01-01 */
		cr_assert(t >= 1767225600LL * 1000000 && t < 1830297600LL * 1000000,
			  "seed=3 event %llu: time %lld outside 2026-2027", (unsigned long long)count,
			  (long long)t);
		last_time = t;

		size_t sz = sl_event_encoded_size(ev);
		cr_assert_lt(sz, 1 << 20, "seed=3 event %llu: %zu bytes", (unsigned long long)count, sz);
		size_t wrote = sl_event_encode(ev, buf);
		cr_assert_eq(wrote, sz, "seed=3 event %llu: encoded %zu of %zu bytes",
			     (unsigned long long)count, wrote, sz);

		switch (ev->body_case) {
		case STATELOG__EVENT__BODY_EXECUTION_RECORDED: {
			Statelog__ExecutionRecorded *x = ev->execution_recorded;
			execs++;
			size_t p = strlen(x->prompt), o = strlen(x->output);
			cr_assert(sz >= 512 && sz <= 8192,
				  "seed=3 execution %lld: %zu bytes encoded, want 0.5-8 KB",
				  (long long)x->execution_id, sz);
			cr_assert(p >= 200 && p <= 2000, "seed=3 execution %lld: prompt of %zu chars",
				  (long long)x->execution_id, p);
			cr_assert(o >= 200 && o <= 5000, "seed=3 execution %lld: output of %zu chars",
				  (long long)x->execution_id, o);
			break;
		}
		case STATELOG__EVENT__BODY_JOB_CREATED: {
			const char *snap = ev->job_created->config_snapshot;
			size_t len = strlen(snap);
			cr_assert(len >= 1024 && len <= 3072,
				  "seed=3 job %s: config_snapshot of %zu bytes, want 1-3 KB",
				  ev->job_id, len);
			json_error_t err;
			json_t *j = json_loads(snap, 0, &err);
			cr_assert(j && json_is_object(j), "seed=3 job %s: config_snapshot not a JSON object: %s",
				  ev->job_id, err.text);
			/* Python's separators: ", " and ": " */
			cr_assert(strstr(snap, "\": ") && strstr(snap, ", \""),
				  "seed=3 job %s: config_snapshot without Python separators", ev->job_id);
			json_decref(j);
			break;
		}
		case STATELOG__EVENT__BODY_SHEET_COMPLETED: {
			const char *d = ev->sheet_completed->validation_details;
			json_error_t err;
			json_t *j = json_loads(d, 0, &err);
			cr_assert(j && json_is_array(j) && json_array_size(j) >= 1 &&
					  json_array_size(j) <= 5,
				  "seed=3 job %s sheet %lld: validation_details %s, want 1-5 items",
				  ev->job_id, (long long)ev->sheet_completed->sheet_num, d);
			json_decref(j);
			break;
		}
		case STATELOG__EVENT__BODY_SHEET_FIELDS_SET: {
			Statelog__SheetFieldsSet *f = ev->sheet_fields_set;
			cr_assert(f->execution_mode, "seed=3 job %s sheet %lld: fields set without a mode",
				  ev->job_id, (long long)f->sheet_num);
			if (f->outcome_category) {
				cr_assert(is_json_list(f->passed_validations) &&
						  is_json_list(f->failed_validations) &&
						  is_json_list(f->learned_patterns),
					  "seed=3 job %s sheet %lld: outcome lists not JSON lists",
					  ev->job_id, (long long)f->sheet_num);
			}
			break;
		}
		default:
			break;
		}
		if (sz < 200)
			small++;
	}
	cr_assert_eq(rc, 0, "seed=3: sl_workload_next = %d", rc);
	cr_assert_eq(count, n, "seed=3: %llu events, want %llu", (unsigned long long)count,
		     (unsigned long long)n);
	double small_share = (double)small / (double)count;
	double exec_share = (double)execs / (double)count;
	cr_assert(small_share >= 0.74 && small_share <= 0.86,
		  "seed=3 events=%llu: %.3f of events under 200 bytes, want about 0.80",
		  (unsigned long long)n, small_share);
	cr_assert(exec_share >= 0.17 && exec_share <= 0.23,
		  "seed=3 events=%llu: %.3f of events are execution records, want about 0.20",
		  (unsigned long long)n, exec_share);
	free(buf);
	sl_workload_free(w);
}

/* ---- compressibility ---- */

/* All prompts and outputs of a run, concatenated, are compressed with
 * ZSTD_compress at level 3 in 1 MiB chunks (each chunk one frame, as a log
 * writer with 1 MiB blocks would), and the ratio must be 2.6..3.4
 * (tools/workload/WORKLOAD.md; it aims at about 3.0).  Compressing the whole
 * concatenation as one frame gives a ratio about 0.08 higher. */
#define CHUNK (1u << 20)

Test(workload, prose_compresses_about_3x)
{
	const uint64_t seeds[] = { 1, 99 };
	for (size_t s = 0; s < sizeof(seeds) / sizeof(seeds[0]); s++) {
		sl_workload *w = new_workload(seeds[s], 200, 30000);
		size_t cap = 64 << 20, len = 0;
		char *prose = malloc(cap);
		cr_assert_not_null(prose, "malloc(%zu)", cap);
		Statelog__Event *ev;
		int rc;
		while ((rc = sl_workload_next(w, &ev)) == 1) {
			if (ev->body_case != STATELOG__EVENT__BODY_EXECUTION_RECORDED)
				continue;
			const char *parts[2] = { ev->execution_recorded->prompt,
						 ev->execution_recorded->output };
			for (int i = 0; i < 2; i++) {
				size_t n = strlen(parts[i]);
				cr_assert_lt(len + n, cap, "seed=%llu: prose over %zu bytes",
					     (unsigned long long)seeds[s], cap);
				memcpy(prose + len, parts[i], n);
				len += n;
			}
		}
		cr_assert_eq(rc, 0, "seed=%llu: sl_workload_next = %d", (unsigned long long)seeds[s], rc);
		struct sl_workload_stats st;
		sl_workload_stats(w, &st);
		cr_assert_eq(st.prompt_bytes + st.output_bytes, len,
			     "seed=%llu: stats count %llu prose bytes, events hold %zu",
			     (unsigned long long)seeds[s],
			     (unsigned long long)(st.prompt_bytes + st.output_bytes), len);

		size_t bound = ZSTD_compressBound(CHUNK);
		void *dst = malloc(bound);
		size_t packed = 0;
		for (size_t off = 0; off < len; off += CHUNK) {
			size_t n = len - off < CHUNK ? len - off : CHUNK;
			size_t c = ZSTD_compress(dst, bound, prose + off, n, 3);
			cr_assert(!ZSTD_isError(c), "seed=%llu: ZSTD_compress: %s",
				  (unsigned long long)seeds[s], ZSTD_getErrorName(c));
			packed += c;
		}
		double ratio = (double)len / (double)packed;
		cr_assert(ratio >= 2.6 && ratio <= 3.4,
			  "seed=%llu events=30000: prose %zu -> %zu bytes, ratio %.3f, want 2.6..3.4",
			  (unsigned long long)seeds[s], len, packed, ratio);
		/* never random bytes: printable ASCII and newlines only */
		for (size_t i = 0; i < len; i++) {
			unsigned char c = (unsigned char)prose[i];
			cr_assert((c >= 32 && c < 127) || c == '\n',
				  "seed=%llu: byte %zu of the prose is 0x%02x",
				  (unsigned long long)seeds[s], i, c);
		}
		free(dst);
		free(prose);
		sl_workload_free(w);
	}
}

/* ---- the model ---- */

/* What the checker knows of one job id. */
struct job_model {
	char id[64];
	int live;              /* created and not deleted */
	int ended;             /* completed, paused or failed */
	int zombie;            /* recovered, waiting for job_resumed */
	int64_t total_sheets;
	int64_t last_completed;  /* highest completed sheet */
	int64_t current;         /* sheet in progress, 0 = none */
	int64_t attempts;        /* sheet_started count of `current`'s sheet */
	int64_t attempts_sheet;  /* the sheet `attempts` counts */
	int recorded;            /* execution recorded for the current attempt */
	int finished_ok;         /* the last sheet event was a completion */
};

struct model {
	struct job_model *jobs;
	size_t n, cap;
	int64_t last_execution_id;
	uint64_t by_type[64];
};

static struct job_model *model_job(struct model *m, const char *id)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->jobs[i].id, id) == 0)
			return &m->jobs[i];
	if (m->n == m->cap) {
		m->cap = m->cap ? 2 * m->cap : 64;
		m->jobs = realloc(m->jobs, m->cap * sizeof(*m->jobs));
		cr_assert_not_null(m->jobs, "realloc of %zu jobs", m->cap);
	}
	struct job_model *j = &m->jobs[m->n++];
	memset(j, 0, sizeof(*j));
	cr_assert_lt(strlen(id), sizeof(j->id), "job id %s too long", id);
	strcpy(j->id, id);
	return j;
}

/* Checks one event against the job's state; `what` names the run. */
static void model_apply(struct model *m, const Statelog__Event *ev, const char *what)
{
	struct job_model *j = model_job(m, ev->job_id);
	const char *type = sl_event_type_name(ev);
	m->by_type[ev->body_case]++;
	if (ev->body_case != STATELOG__EVENT__BODY_JOB_CREATED)
		cr_assert(j->live, "%s: job %s: %s before job_created", what, j->id, type);

	switch (ev->body_case) {
	case STATELOG__EVENT__BODY_JOB_CREATED: {
		cr_assert(!j->live, "%s: job %s created twice without job_deleted", what, j->id);
		int64_t total = ev->job_created->total_sheets;
		cr_assert(ev->job_created->has_total_sheets && total >= 10 && total <= 100,
			  "%s: job %s: total_sheets %lld, want 10..100", what, j->id, (long long)total);
		cr_assert(ev->job_created->name && ev->job_created->config_hash &&
				  ev->job_created->config_path,
			  "%s: job %s: job_created without name, hash or path", what, j->id);
		char id[64];
		strcpy(id, j->id);
		memset(j, 0, sizeof(*j));
		strcpy(j->id, id);
		j->live = 1;
		j->total_sheets = total;
		break;
	}
	case STATELOG__EVENT__BODY_JOB_DELETED:
		cr_assert(j->ended, "%s: job %s deleted while running", what, j->id);
		j->live = 0;
		break;
	case STATELOG__EVENT__BODY_PID_SET:
		cr_assert(ev->pid_set->has_pid && ev->pid_set->pid > 0,
			  "%s: job %s: pid_set without a pid", what, j->id);
		cr_assert(!j->zombie, "%s: job %s: pid_set before job_resumed", what, j->id);
		break;
	case STATELOG__EVENT__BODY_SHEET_STARTED: {
		int64_t n = ev->sheet_started->sheet_num;
		cr_assert(!j->ended && !j->zombie, "%s: job %s: sheet %lld started after the job stopped",
			  what, j->id, (long long)n);
		cr_assert_eq(n, j->last_completed + 1,
			     "%s: job %s: sheet %lld started, last completed is %lld", what, j->id,
			     (long long)n, (long long)j->last_completed);
		if (j->attempts_sheet != n) {
			j->attempts_sheet = n;
			j->attempts = 0;
		}
		j->attempts++;
		cr_assert_leq(j->attempts, SL_WORKLOAD_MAX_ATTEMPTS,
			      "%s: job %s: sheet %lld started %lld times", what, j->id, (long long)n,
			      (long long)j->attempts);
		j->current = n;
		j->recorded = 0;
		break;
	}
	case STATELOG__EVENT__BODY_SHEET_FIELDS_SET: {
		int64_t n = ev->sheet_fields_set->sheet_num;
		cr_assert(n == j->current || (n == j->last_completed && j->finished_ok),
			  "%s: job %s: fields of sheet %lld set, current %lld, last completed %lld",
			  what, j->id, (long long)n, (long long)j->current,
			  (long long)j->last_completed);
		break;
	}
	case STATELOG__EVENT__BODY_EXECUTION_RECORDED: {
		Statelog__ExecutionRecorded *x = ev->execution_recorded;
		cr_assert(j->current && x->sheet_num == j->current && !j->recorded,
			  "%s: job %s: execution of sheet %lld, sheet in progress %lld", what, j->id,
			  (long long)x->sheet_num, (long long)j->current);
		cr_assert_eq(x->attempt_num, j->attempts,
			     "%s: job %s sheet %lld: attempt_num %lld, attempts started %lld", what,
			     j->id, (long long)x->sheet_num, (long long)x->attempt_num,
			     (long long)j->attempts);
		cr_assert_eq(x->execution_id, m->last_execution_id + 1,
			     "%s: job %s: execution_id %lld after %lld", what, j->id,
			     (long long)x->execution_id, (long long)m->last_execution_id);
		m->last_execution_id = x->execution_id;
		j->recorded = 1;
		break;
	}
	case STATELOG__EVENT__BODY_SHEET_COMPLETED: {
		int64_t n = ev->sheet_completed->sheet_num;
		cr_assert(n == j->current && j->recorded,
			  "%s: job %s: sheet %lld completed, in progress %lld, recorded %d", what,
			  j->id, (long long)n, (long long)j->current, j->recorded);
		j->last_completed = n;
		j->current = 0;
		j->finished_ok = 1;
		break;
	}
	case STATELOG__EVENT__BODY_SHEET_FAILED: {
		Statelog__SheetFailed *f = ev->sheet_failed;
		cr_assert(f->sheet_num == j->current && j->recorded,
			  "%s: job %s: sheet %lld failed, in progress %lld, recorded %d", what,
			  j->id, (long long)f->sheet_num, (long long)j->current, j->recorded);
		cr_assert(f->message && f->category && f->exit_reason && f->has_exit_code,
			  "%s: job %s sheet %lld: failure without message, category, reason or code",
			  what, j->id, (long long)f->sheet_num);
		if (strcmp(f->category, "timeout") == 0 || strcmp(f->category, "signal") == 0)
			cr_assert(f->has_exit_signal, "%s: job %s sheet %lld: %s without a signal",
				  what, j->id, (long long)f->sheet_num, f->category);
		j->current = 0;
		j->finished_ok = 0;
		break;
	}
	case STATELOG__EVENT__BODY_RATE_LIMIT_WAIT:
		cr_assert_eq(ev->rate_limit_wait->sheet_num, j->last_completed + 1,
			     "%s: job %s: rate-limit wait for sheet %lld", what, j->id,
			     (long long)ev->rate_limit_wait->sheet_num);
		break;
	case STATELOG__EVENT__BODY_JOB_COMPLETED:
		cr_assert_eq(j->last_completed, j->total_sheets,
			     "%s: job %s completed at sheet %lld of %lld", what, j->id,
			     (long long)j->last_completed, (long long)j->total_sheets);
		j->ended = 1;
		break;
	case STATELOG__EVENT__BODY_JOB_PAUSED:
	case STATELOG__EVENT__BODY_JOB_FAILED:
		cr_assert_eq(j->attempts, SL_WORKLOAD_MAX_ATTEMPTS,
			     "%s: job %s stopped (%s) after %lld attempts of sheet %lld", what, j->id,
			     type, (long long)j->attempts, (long long)j->attempts_sheet);
		j->ended = 1;
		break;
	case STATELOG__EVENT__BODY_ZOMBIE_RECOVERED:
		cr_assert(j->current && !j->recorded,
			  "%s: job %s: zombie without an attempt in progress", what, j->id);
		j->zombie = 1;
		j->current = 0;
		break;
	case STATELOG__EVENT__BODY_JOB_RESUMED:
		cr_assert(j->zombie, "%s: job %s resumed without being recovered", what, j->id);
		j->zombie = 0;
		break;
	default:
		cr_assert_fail("%s: job %s: unexpected event %s", what, j->id, type);
	}
}

Test(workload, long_run_obeys_the_model)
{
	sl_workload *w = new_workload(5, 200, 80000);
	struct model m = { 0 };
	Statelog__Event *ev;
	int rc;
	while ((rc = sl_workload_next(w, &ev)) == 1)
		model_apply(&m, ev, "seed=5 events=80000");
	cr_assert_eq(rc, 0, "seed=5 events=80000: sl_workload_next = %d", rc);

	/* the rare events all happen in a run this long */
	static const Statelog__Event__BodyCase rare[] = {
		STATELOG__EVENT__BODY_RATE_LIMIT_WAIT, STATELOG__EVENT__BODY_ZOMBIE_RECOVERED,
		STATELOG__EVENT__BODY_JOB_RESUMED, STATELOG__EVENT__BODY_JOB_DELETED,
		STATELOG__EVENT__BODY_JOB_PAUSED, STATELOG__EVENT__BODY_JOB_FAILED,
		STATELOG__EVENT__BODY_JOB_COMPLETED, STATELOG__EVENT__BODY_SHEET_FAILED,
	};
	for (size_t i = 0; i < sizeof(rare) / sizeof(rare[0]); i++)
		cr_assert_gt(m.by_type[rare[i]], 0, "seed=5 events=80000: no event of type %d",
			     (int)rare[i]);

	/* failures: ~15% of attempts, ~1 sheet in 100 exhausted */
	double fail_share = (double)m.by_type[STATELOG__EVENT__BODY_SHEET_FAILED] /
			    (double)m.by_type[STATELOG__EVENT__BODY_EXECUTION_RECORDED];
	cr_assert(fail_share > 0.10 && fail_share < 0.22,
		  "seed=5: %.3f of attempts failed, want about 0.15", fail_share);
	struct sl_workload_stats st;
	sl_workload_stats(w, &st);
	uint64_t sheets = m.by_type[STATELOG__EVENT__BODY_SHEET_COMPLETED] + st.sheets_exhausted;
	double exhausted = (double)st.sheets_exhausted / (double)sheets;
	cr_assert(exhausted > 0.004 && exhausted < 0.02,
		  "seed=5: %.4f of sheets exhausted their attempts, want about 0.01", exhausted);
	for (int t = 0; t < 64; t++)
		cr_assert_eq(st.by_type[t], m.by_type[t], "seed=5: stats count %llu events of type %d, saw %llu",
			     (unsigned long long)st.by_type[t], t, (unsigned long long)m.by_type[t]);
	free(m.jobs);
	sl_workload_free(w);
}

Test(workload, all_jobs_run_to_their_end)
{
	const uint32_t jobs = 30;
	sl_workload *w = new_workload(11, jobs, 0);
	struct model m = { 0 };
	Statelog__Event *ev;
	int rc;
	uint64_t count = 0;
	while ((rc = sl_workload_next(w, &ev)) == 1) {
		model_apply(&m, ev, "seed=11 jobs=30");
		count++;
		cr_assert_lt(count, 10000000, "seed=11 jobs=30: run does not end");
	}
	cr_assert_eq(rc, 0, "seed=11 jobs=30: sl_workload_next = %d", rc);
	cr_assert_eq(m.n, jobs, "seed=11 jobs=30: %zu distinct job ids", m.n);
	for (size_t i = 0; i < m.n; i++)
		cr_assert(m.jobs[i].ended, "seed=11 jobs=30: job %s did not end", m.jobs[i].id);
	free(m.jobs);
	sl_workload_free(w);
}

Test(workload, fewer_jobs_than_slots)
{
	sl_workload *w = new_workload(13, 3, 0);
	struct model m = { 0 };
	Statelog__Event *ev;
	int rc;
	while ((rc = sl_workload_next(w, &ev)) == 1)
		model_apply(&m, ev, "seed=13 jobs=3");
	cr_assert_eq(rc, 0, "seed=13 jobs=3: sl_workload_next = %d", rc);
	cr_assert_eq(m.n, 3, "seed=13 jobs=3: %zu distinct job ids", m.n);
	free(m.jobs);
	sl_workload_free(w);
}
