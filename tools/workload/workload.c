/* workload.c: the scheduler and the per-job state machine of the reference
 * workload (WORKLOAD.md, the model in projector/model/MODEL.md).
 *
 * `in_flight` slots each hold a running job.  Every job knows the simulated
 * instant of its next event; sl_workload_next() picks the slot whose next
 * event comes first (the lowest slot on a tie), so the events of the jobs
 * interleave as they would in time, and "now" never goes backwards.
 *
 * A job's state machine (one event per step unless noted):
 *
 *   CREATE -> PID -> [RATE_LIMIT] -> SHEET_START -> SHEET_MODE
 *   SHEET_MODE -> EXEC, or (simulated crash) ZOMBIE -> RESUME -> PID
 *   EXEC -> SHEET_DONE -> SHEET_OUTCOME -> next sheet's start, or JOB_COMPLETE
 *   EXEC -> SHEET_FAIL -> [RATE_LIMIT] -> SHEET_START (a retry), or, once
 *           SL_WORKLOAD_MAX_ATTEMPTS are used, JOB_PAUSE or JOB_FAIL
 *   JOB_COMPLETE / JOB_PAUSE / JOB_FAIL -> END
 *   END (no event) -> DELETE -> CREATE under the same id (a re-run), or the
 *           slot takes a new job, or it empties when no job is left to start
 *
 * Invariants the tests check: a job_created precedes every other event of
 * its id (again after job_deleted); a sheet's execution records and its
 * completion or failure follow its sheet_started; a sheet is started at
 * most SL_WORKLOAD_MAX_ATTEMPTS times (a crash uses up an attempt);
 * total_sheets is in 10..100; execution ids count up from 1.
 *
 * Every probability and duration below is part of the workload's
 * definition: changing one changes every figure measured on it.
 */
#include "workload_internal.h"
#include "event_internal.h"

#include "hash.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_JOBS 200
#define DEFAULT_IN_FLIGHT 8
#define MAX_IN_FLIGHT 1024

#define MIN_SHEETS 10
#define MAX_SHEETS 100

/* Per attempt: the first fails 14% of the time, a retry 26.7%, so about
 * 16% of attempts fail and 0.14 * 0.267^2 = 1.0% of sheets exhaust their
 * three attempts (WORKLOAD.md: ~15% and ~1 in 100). */
#define P_FAIL_FIRST 0.14
#define P_FAIL_RETRY 0.267
/* A crash between an attempt's start and its record (found as a zombie). */
#define P_CRASH 0.002
/* A rate-limit wait before an attempt, besides those after a rate_limit
 * failure. */
#define P_RATE_LIMIT 0.01
/* A finished job is deleted and re-run under its id. */
#define P_DELETE 0.04
/* A completed sheet with one failed (non-blocking) validation. */
#define P_PARTIAL_PASS 0.04

/* Prose sizes (WORKLOAD.md); an execution record is at least 0.5 KB. */
#define PROMPT_MIN 200
#define PROMPT_MAX 2000
#define OUTPUT_MIN 200
#define OUTPUT_MAX 5000
#define PROSE_MIN 520

/* Generation overshoots its target by at most one section before it is cut;
 * these leave room for that. */
#define PROMPT_BUF (PROMPT_MAX + 6144)
#define OUTPUT_BUF (OUTPUT_MAX + 8192)

/* 2026-01-01T00:00:00Z; a run starts up to 300 days later. */
#define EPOCH_2026_S 1767225600LL
#define SEC 1000000LL

enum phase {
	PH_CREATE,
	PH_PID,
	PH_RATE_LIMIT,
	PH_SHEET_START,
	PH_SHEET_MODE,
	PH_EXEC,
	PH_SHEET_DONE,
	PH_SHEET_OUTCOME,
	PH_SHEET_FAIL,
	PH_JOB_COMPLETE,
	PH_JOB_PAUSE,
	PH_JOB_FAIL,
	PH_ZOMBIE,
	PH_RESUME,
	PH_DELETE,
	PH_END,
};

struct job {
	int active;
	enum phase phase;
	int64_t next_us;      /* instant of the job's next step */
	uint64_t seed;        /* per-run seed of the sheets' task text */
	char id[64];
	char name[96];
	char config_path[192];
	struct sl_wl_ctx ctx;
	char preamble[1024];
	const char *rules[6];
	uint32_t n_rules;
	uint32_t timeout_seconds;
	uint32_t total_sheets;
	uint32_t sheet;       /* current sheet, 1-based */
	uint32_t attempt;     /* attempts of the current sheet started so far */
	int64_t pid;
	/* the current attempt, decided when it starts */
	int fail;
	enum sl_wl_category cat;
	int64_t duration_ms;
	/* the completed attempt's checks, for its outcome fields */
	uint32_t n_passed, n_failed;
	/* the previous attempt's failure, quoted in the retry's prompt */
	char last_failure[320];
	int has_last_failure;
};

struct sl_workload {
	struct sl_workload_options opt;
	struct sl_wl_rng rng;
	sl_wl_vocab *vocab;
	struct job *slots;
	uint32_t n_slots;
	uint32_t jobs_started;   /* distinct job ids so far */
	int64_t now_us;
	int64_t next_execution_id;
	struct sl_workload_stats stats;

	/* The event handed out, and everything it points to. */
	Statelog__Event ev;
	union {
		Statelog__JobCreated job_created;
		Statelog__PidSet pid_set;
		Statelog__SheetStarted sheet_started;
		Statelog__SheetCompleted sheet_completed;
		Statelog__SheetFailed sheet_failed;
		Statelog__JobPaused job_paused;
		Statelog__JobResumed job_resumed;
		Statelog__JobFailed job_failed;
		Statelog__JobCompleted job_completed;
		Statelog__ZombieRecovered zombie_recovered;
		Statelog__ExecutionRecorded execution_recorded;
		Statelog__RateLimitWait rate_limit_wait;
		Statelog__JobDeleted job_deleted;
		Statelog__SheetFieldsSet sheet_fields_set;
	} body;
	char job_id[64];
	char *snapshot;          /* jansson output of the last job_created */
	char config_hash[24];
	char msg[256];
	char details[512];
	char passed[256];
	char failed[256];
	char learned[256];
	char prompt[PROMPT_BUF];
	char output[OUTPUT_BUF];
};

_Static_assert(STATELOG__EVENT__BODY_SHEET_FIELDS_SET < 64,
	       "sl_workload_stats.by_type is indexed by body case");

void sl_workload_options_init(struct sl_workload_options *o)
{
	memset(o, 0, sizeof(*o));
	o->jobs = DEFAULT_JOBS;
	o->in_flight = DEFAULT_IN_FLIGHT;
}

static int64_t rand_ms(struct sl_workload *w, int64_t lo_ms, int64_t hi_ms)
{
	return sl_wl_rng_range(&w->rng, lo_ms, hi_ms);
}

/* Schedules the job's next step `lo..hi` milliseconds from now. */
static void after_ms(struct sl_workload *w, struct job *j, int64_t lo_ms, int64_t hi_ms)
{
	j->next_us = w->now_us + rand_ms(w, lo_ms, hi_ms) * 1000;
}

static void copy_word(char *dst, size_t cap, const struct sl_wl_word *word)
{
	size_t n = word->len < cap - 1 ? word->len : cap - 1;
	memcpy(dst, word->s, n);
	dst[n] = '\0';
}

/* Sets a job up for a (re-)run.  A new job gets a new id from `number`;
 * a re-run (keep_id) keeps its id and name. */
static void job_setup(struct sl_workload *w, struct job *j, uint32_t number, int keep_id)
{
	struct sl_wl_rng *r = &w->rng;
	char a[24], b[24], verb[24], user[24];
	copy_word(a, sizeof(a), sl_wl_pick(w->vocab, r, SL_WL_PROJECT));
	do {
		copy_word(b, sizeof(b), sl_wl_pick(w->vocab, r, SL_WL_PROJECT));
	} while (strcmp(a, b) == 0);
	copy_word(verb, sizeof(verb), sl_wl_pick(w->vocab, r, SL_WL_JOB_VERB));
	copy_word(user, sizeof(user), sl_wl_pick(w->vocab, r, SL_WL_USER));

	if (!keep_id) {
		snprintf(j->id, sizeof(j->id), "%s-%s-%04u", a, b, number);
		verb[0] = (char)(verb[0] - 'a' + 'A');
		snprintf(j->name, sizeof(j->name), "%s %s %s", verb, a, b);
	}
	char package[48];
	snprintf(package, sizeof(package), "%s_%s", a, b);
	sl_wl_ctx_init(&j->ctx, w->vocab, r, package, user);
	snprintf(j->config_path, sizeof(j->config_path), "%s/jobs/%s.yaml",
		 j->ctx.workspace, j->id);

	struct sl_wl_text t;
	sl_wl_text_reset(&t, j->preamble, sizeof(j->preamble));
	sl_wl_text_preamble(&t, w->vocab, r, &j->ctx);
	sl_wl_text_finish(&t);

	j->active = 1;
	j->phase = PH_CREATE;
	j->seed = sl_wl_rng_next(r);
	j->total_sheets = (uint32_t)sl_wl_rng_range(r, MIN_SHEETS, MAX_SHEETS);
	j->sheet = 1;
	j->attempt = 0;
	j->pid = 0;
	j->has_last_failure = 0;
	j->n_rules = 0;
}

static int more_jobs(const struct sl_workload *w)
{
	return w->opt.events > 0 || w->jobs_started < w->opt.jobs;
}

static void job_start_new(struct sl_workload *w, struct job *j)
{
	w->jobs_started++;
	job_setup(w, j, w->jobs_started, 0);
}

int sl_workload_new(sl_workload **out, const struct sl_workload_options *o)
{
	if (!o || o->jobs == 0 || o->in_flight == 0 || o->in_flight > MAX_IN_FLIGHT)
		return SL_EINVAL;
	int rc = SL_ENOMEM;
	struct sl_workload *w = calloc(1, sizeof(*w));
	if (!w)
		goto done;
	w->opt = *o;
	sl_wl_rng_seed(&w->rng, o->seed);
	rc = sl_wl_vocab_new(&w->vocab);
	if (rc < 0)
		goto done;
	rc = SL_ENOMEM;
	w->n_slots = o->in_flight;
	if (o->events == 0 && o->jobs < w->n_slots)
		w->n_slots = o->jobs;
	w->slots = calloc(w->n_slots, sizeof(*w->slots));
	if (!w->slots)
		goto done;

	uint64_t x = o->seed ^ 0x5157a7e109ULL;
	int64_t start_s = EPOCH_2026_S + (int64_t)(sl_wl_splitmix64(&x) % (300ULL * 86400));
	w->now_us = start_s * SEC + (int64_t)(sl_wl_splitmix64(&x) % (uint64_t)SEC);
	w->next_execution_id = 1;
	for (uint32_t i = 0; i < w->n_slots; i++) {
		job_start_new(w, &w->slots[i]);
		/* staggered starts over the first minute */
		after_ms(w, &w->slots[i], 0, 60000);
	}
	*out = w;
	w = NULL;
	rc = SL_OK;
done:
	sl_workload_free(w);
	return rc;
}

void sl_workload_free(sl_workload *w)
{
	if (!w)
		return;
	sl_wl_vocab_free(w->vocab);
	free(w->slots);
	free(w->snapshot);
	free(w);
}

int64_t sl_workload_time_us(const sl_workload *w)
{
	return w->now_us;
}

void sl_workload_stats(const sl_workload *w, struct sl_workload_stats *out)
{
	*out = w->stats;
}

/* ---- Choices ---- */

static enum sl_wl_category pick_category(struct sl_workload *w)
{
	/* Weights in percent, in enum order. */
	static const uint8_t weights[SL_WL_CAT_COUNT] = {
		[SL_WL_CAT_RATE_LIMIT] = 10, [SL_WL_CAT_TRANSIENT] = 18,
		[SL_WL_CAT_VALIDATION] = 34, [SL_WL_CAT_AUTH] = 2,
		[SL_WL_CAT_NETWORK] = 8, [SL_WL_CAT_TIMEOUT] = 12,
		[SL_WL_CAT_SIGNAL] = 6, [SL_WL_CAT_FATAL] = 4,
		[SL_WL_CAT_CONFIGURATION] = 2, [SL_WL_CAT_PREFLIGHT] = 2,
		[SL_WL_CAT_ESCALATION] = 2,
	};
	uint32_t u = sl_wl_rng_below(&w->rng, 100);
	for (int c = 0; c < SL_WL_CAT_COUNT; c++) {
		if (u < weights[c])
			return (enum sl_wl_category)c;
		u -= weights[c];
	}
	return SL_WL_CAT_TRANSIENT;
}

/* Decides how the attempt about to start ends, and how long it takes. */
static void plan_attempt(struct sl_workload *w, struct job *j)
{
	double p = j->attempt <= 1 ? P_FAIL_FIRST : P_FAIL_RETRY;
	j->fail = sl_wl_rng_unit(&w->rng) < p;
	j->cat = j->fail ? pick_category(w) : SL_WL_CAT_COUNT;
	/* 15 s .. ~10 min, most attempts short */
	double u = sl_wl_rng_unit(&w->rng);
	j->duration_ms = 15000 + (int64_t)(u * u * u * 600000.0) + rand_ms(w, 0, 999);
	if (j->fail && j->cat == SL_WL_CAT_TIMEOUT)
		j->duration_ms = (int64_t)j->timeout_seconds * 1000 + rand_ms(w, 0, 2500);
	else if (j->fail && (j->cat == SL_WL_CAT_AUTH || j->cat == SL_WL_CAT_PREFLIGHT ||
			     j->cat == SL_WL_CAT_CONFIGURATION))
		j->duration_ms = rand_ms(w, 300, 4000);
}

/* The next attempt of the current sheet, perhaps after a rate-limit wait. */
static void to_sheet_start(struct sl_workload *w, struct job *j, int64_t lo_ms, int64_t hi_ms)
{
	j->phase = sl_wl_rng_unit(&w->rng) < P_RATE_LIMIT ? PH_RATE_LIMIT : PH_SHEET_START;
	after_ms(w, j, lo_ms, hi_ms);
}

static void hex64(char *dst, uint64_t x)
{
	static const char digits[] = "0123456789abcdef";
	for (int i = 15; i >= 0; i--) {
		dst[i] = digits[x & 15];
		x >>= 4;
	}
	dst[16] = '\0';
}

/* A JSON list of strings, Python separators.  The names come from
 * vocab.c tables, which hold no character JSON would escape. */
static void json_list(char *dst, size_t cap, const char *const *items, uint32_t n)
{
	struct sl_wl_text t;
	sl_wl_text_reset(&t, dst, cap);
	sl_wl_text_put(&t, "[", 1);
	for (uint32_t i = 0; i < n; i++) {
		if (i)
			sl_wl_text_put(&t, ", ", 2);
		sl_wl_text_put(&t, "\"", 1);
		sl_wl_text_put(&t, items[i], strlen(items[i]));
		sl_wl_text_put(&t, "\"", 1);
	}
	sl_wl_text_put(&t, "]", 1);
	sl_wl_text_finish(&t);
}

static void render_msg(struct sl_workload *w, struct job *j, const char *pattern)
{
	struct sl_wl_text t;
	sl_wl_text_reset(&t, w->msg, sizeof(w->msg));
	sl_wl_text_render(&t, w->vocab, &w->rng, &j->ctx, pattern);
	sl_wl_text_finish(&t);
}

/* ---- One step of a job: fills w->ev's body, returns 1, or 0 when the
 * step produced no event, or a negative SL_* code. ---- */

static int step_create(struct sl_workload *w, struct job *j)
{
	struct sl_wl_config cfg = { 0 };
	int rc = sl_wl_config_build(&cfg, w->vocab, &w->rng, &j->ctx, j->name, j->preamble,
				    j->total_sheets);
	if (rc < 0)
		return rc;
	free(w->snapshot);
	w->snapshot = cfg.snapshot;
	memcpy(j->rules, cfg.rules, sizeof(j->rules));
	j->n_rules = cfg.n_rules;
	j->timeout_seconds = cfg.timeout_seconds;
	hex64(w->config_hash, sl_hash_str(w->snapshot));

	Statelog__JobCreated *b = &w->body.job_created;
	*b = (Statelog__JobCreated)STATELOG__JOB_CREATED__INIT;
	b->name = j->name;
	b->has_total_sheets = 1;
	b->total_sheets = j->total_sheets;
	b->config_hash = w->config_hash;
	b->config_snapshot = w->snapshot;
	b->config_path = j->config_path;
	w->ev.body_case = STATELOG__EVENT__BODY_JOB_CREATED;
	w->ev.job_created = b;
	w->stats.jobs_created++;
	j->phase = PH_PID;
	after_ms(w, j, 200, 2000);
	return 1;
}

static int step_pid(struct sl_workload *w, struct job *j)
{
	j->pid = sl_wl_rng_range(&w->rng, 2000, 400000);
	Statelog__PidSet *b = &w->body.pid_set;
	*b = (Statelog__PidSet)STATELOG__PID_SET__INIT;
	b->has_pid = 1;
	b->pid = j->pid;
	w->ev.body_case = STATELOG__EVENT__BODY_PID_SET;
	w->ev.pid_set = b;
	to_sheet_start(w, j, 500, 3000);
	return 1;
}

static int step_rate_limit(struct sl_workload *w, struct job *j)
{
	int64_t wait_ms = rand_ms(w, 30000, 600000);
	Statelog__RateLimitWait *b = &w->body.rate_limit_wait;
	*b = (Statelog__RateLimitWait)STATELOG__RATE_LIMIT_WAIT__INIT;
	b->has_wait_seconds = 1;
	b->wait_seconds = (double)wait_ms / 1000.0;
	b->has_sheet_num = 1;
	b->sheet_num = j->sheet;
	w->ev.body_case = STATELOG__EVENT__BODY_RATE_LIMIT_WAIT;
	w->ev.rate_limit_wait = b;
	j->phase = PH_SHEET_START;
	j->next_us = w->now_us + wait_ms * 1000;
	return 1;
}

static int step_sheet_start(struct sl_workload *w, struct job *j)
{
	assert(j->attempt < SL_WORKLOAD_MAX_ATTEMPTS);
	j->attempt++;
	plan_attempt(w, j);
	Statelog__SheetStarted *b = &w->body.sheet_started;
	*b = (Statelog__SheetStarted)STATELOG__SHEET_STARTED__INIT;
	b->has_sheet_num = 1;
	b->sheet_num = j->sheet;
	w->ev.body_case = STATELOG__EVENT__BODY_SHEET_STARTED;
	w->ev.sheet_started = b;
	j->phase = PH_SHEET_MODE;
	after_ms(w, j, 5, 50);
	return 1;
}

static int step_sheet_mode(struct sl_workload *w, struct job *j)
{
	/* sheet started clears execution_mode; the orchestrator sets it for
	 * the attempt right after */
	Statelog__SheetFieldsSet *b = &w->body.sheet_fields_set;
	*b = (Statelog__SheetFieldsSet)STATELOG__SHEET_FIELDS_SET__INIT;
	b->has_sheet_num = 1;
	b->sheet_num = j->sheet;
	b->execution_mode = j->attempt == 1 ? "normal" : "retry";
	w->ev.body_case = STATELOG__EVENT__BODY_SHEET_FIELDS_SET;
	w->ev.sheet_fields_set = b;
	if (j->attempt < SL_WORKLOAD_MAX_ATTEMPTS && sl_wl_rng_unit(&w->rng) < P_CRASH) {
		/* The process dies mid-attempt; the job is found later, still
		 * "running" with a dead pid. */
		j->phase = PH_ZOMBIE;
		after_ms(w, j, 10 * 60000, 90 * 60000);
	} else {
		j->phase = PH_EXEC;
		j->next_us = w->now_us + j->duration_ms * 1000;
	}
	return 1;
}

static int step_exec(struct sl_workload *w, struct job *j)
{
	struct sl_wl_rng *r = &w->rng;
	size_t prompt_len = (size_t)sl_wl_rng_range(r, PROMPT_MIN, PROMPT_MAX);
	size_t out_min = prompt_len + OUTPUT_MIN >= PROSE_MIN ? OUTPUT_MIN : PROSE_MIN - prompt_len;
	size_t output_len = (size_t)sl_wl_rng_range(r, (int64_t)out_min, OUTPUT_MAX);

	struct sl_wl_sheet_text st = {
		.task_seed = j->seed ^ ((uint64_t)j->sheet * 0x9e3779b97f4a7c15ULL),
		.sheet = j->sheet,
		.total_sheets = j->total_sheets,
		.attempt = j->attempt,
		.preamble = j->preamble,
		.prev_failure = j->has_last_failure ? j->last_failure : NULL,
		.rules = j->rules,
		.n_rules = j->n_rules,
	};
	struct sl_wl_text t;
	sl_wl_text_reset(&t, w->prompt, sizeof(w->prompt));
	sl_wl_text_prompt(&t, w->vocab, r, &j->ctx, &st, prompt_len);
	size_t got_prompt = t.len;
	sl_wl_text_reset(&t, w->output, sizeof(w->output));
	sl_wl_text_output(&t, w->vocab, r, &j->ctx, j->fail, output_len);
	size_t got_output = t.len;

	int64_t exit_code = 0;
	if (j->fail) {
		switch (j->cat) {
		case SL_WL_CAT_VALIDATION: exit_code = 0; break;
		case SL_WL_CAT_TIMEOUT: exit_code = 124; break;
		case SL_WL_CAT_SIGNAL: exit_code = 137; break;
		case SL_WL_CAT_CONFIGURATION:
		case SL_WL_CAT_PREFLIGHT: exit_code = 2; break;
		default: exit_code = 1; break;
		}
	}
	Statelog__ExecutionRecorded *b = &w->body.execution_recorded;
	*b = (Statelog__ExecutionRecorded)STATELOG__EXECUTION_RECORDED__INIT;
	b->has_execution_id = 1;
	b->execution_id = w->next_execution_id++;
	b->has_sheet_num = 1;
	b->sheet_num = j->sheet;
	b->has_attempt_num = 1;
	b->attempt_num = j->attempt;
	b->prompt = w->prompt;
	b->output = w->output;
	b->has_exit_code = 1;
	b->exit_code = exit_code;
	b->has_duration_seconds = 1;
	b->duration_seconds = (double)j->duration_ms / 1000.0;
	w->ev.body_case = STATELOG__EVENT__BODY_EXECUTION_RECORDED;
	w->ev.execution_recorded = b;
	w->stats.executions++;
	w->stats.prompt_bytes += got_prompt;
	w->stats.output_bytes += got_output;
	j->phase = j->fail ? PH_SHEET_FAIL : PH_SHEET_DONE;
	after_ms(w, j, 100, 2000);
	return 1;
}

static int step_sheet_done(struct sl_workload *w, struct job *j)
{
	struct sl_wl_rng *r = &w->rng;
	/* 1-5 checks of the job's rules, the commonest counts first */
	static const uint8_t count_weights[5] = { 40, 30, 16, 9, 5 };
	uint32_t u = sl_wl_rng_below(r, 100), k = 1;
	for (int i = 0; i < 5 && u >= count_weights[i]; i++, k++)
		u -= count_weights[i];
	if (k > j->n_rules)
		k = j->n_rules;
	uint32_t first = sl_wl_rng_below(r, j->n_rules);
	uint32_t failed_at = k > 1 && sl_wl_rng_unit(r) < P_PARTIAL_PASS ?
		sl_wl_rng_below(r, k) : k;

	const char *passed[6], *failed[6];
	uint32_t n_passed = 0, n_failed = 0;
	struct sl_wl_text t;
	sl_wl_text_reset(&t, w->details, sizeof(w->details));
	sl_wl_text_put(&t, "[", 1);
	for (uint32_t i = 0; i < k; i++) {
		const char *rule = j->rules[(first + i) % j->n_rules];
		int ok = i != failed_at;
		if (ok)
			passed[n_passed++] = rule;
		else
			failed[n_failed++] = rule;
		if (i)
			sl_wl_text_put(&t, ", ", 2);
		sl_wl_text_put(&t, "{\"name\": \"", 10);
		sl_wl_text_put(&t, rule, strlen(rule));
		if (ok)
			sl_wl_text_put(&t, "\", \"passed\": true}", 18);
		else
			sl_wl_text_put(&t, "\", \"passed\": false}", 19);
	}
	sl_wl_text_put(&t, "]", 1);
	sl_wl_text_finish(&t);
	json_list(w->passed, sizeof(w->passed), passed, n_passed);
	json_list(w->failed, sizeof(w->failed), failed, n_failed);
	j->n_passed = n_passed;
	j->n_failed = n_failed;

	Statelog__SheetCompleted *b = &w->body.sheet_completed;
	*b = (Statelog__SheetCompleted)STATELOG__SHEET_COMPLETED__INIT;
	b->has_sheet_num = 1;
	b->sheet_num = j->sheet;
	b->has_validation_passed = 1;
	b->validation_passed = n_failed == 0;
	b->validation_details = w->details;
	b->has_duration_seconds = 1;
	b->duration_seconds = (double)j->duration_ms / 1000.0;
	w->ev.body_case = STATELOG__EVENT__BODY_SHEET_COMPLETED;
	w->ev.sheet_completed = b;
	j->phase = PH_SHEET_OUTCOME;
	after_ms(w, j, 10, 100);
	return 1;
}

static int step_sheet_outcome(struct sl_workload *w, struct job *j)
{
	struct sl_wl_rng *r = &w->rng;
	uint32_t n_passed = j->n_passed, n_failed = j->n_failed;
	static const uint8_t learned_weights[4] = { 50, 30, 15, 5 };
	uint32_t u = sl_wl_rng_below(r, 100), n_learned = 0;
	for (int i = 0; i < 3 && u >= learned_weights[i]; i++, n_learned++)
		u -= learned_weights[i];
	const char *learned[3];
	uint32_t first = sl_wl_rng_below(r, (uint32_t)sl_wl_n_learned);
	for (uint32_t i = 0; i < n_learned; i++)
		learned[i] = sl_wl_learned[(first + i) % sl_wl_n_learned];
	json_list(w->learned, sizeof(w->learned), learned, n_learned);

	Statelog__SheetFieldsSet *b = &w->body.sheet_fields_set;
	*b = (Statelog__SheetFieldsSet)STATELOG__SHEET_FIELDS_SET__INIT;
	b->has_sheet_num = 1;
	b->sheet_num = j->sheet;
	b->passed_validations = w->passed;
	b->failed_validations = w->failed;
	b->has_last_pass_percentage = 1;
	b->last_pass_percentage = 100.0 * n_passed / (double)(n_passed + n_failed);
	b->has_confidence_score = 1;
	/* two decimals, lower after retries */
	b->confidence_score = (double)sl_wl_rng_range(r, j->attempt == 1 ? 70 : 50, 99) / 100.0;
	b->learned_patterns = w->learned;
	b->outcome_category = j->attempt == 1 ? "success_first_try" : "success_retry";
	b->has_success_without_retry = 1;
	b->success_without_retry = j->attempt == 1;
	b->execution_mode = j->attempt == 1 ? "normal" : "retry";
	w->ev.body_case = STATELOG__EVENT__BODY_SHEET_FIELDS_SET;
	w->ev.sheet_fields_set = b;

	if (j->sheet == j->total_sheets) {
		j->phase = PH_JOB_COMPLETE;
		after_ms(w, j, 100, 1000);
	} else {
		j->sheet++;
		j->attempt = 0;
		j->has_last_failure = 0;
		to_sheet_start(w, j, 1000, 10000);
	}
	return 1;
}

static int step_sheet_fail(struct sl_workload *w, struct job *j)
{
	struct sl_wl_rng *r = &w->rng;
	render_msg(w, j, sl_wl_fail_messages[j->cat]);
	Statelog__SheetFailed *b = &w->body.sheet_failed;
	*b = (Statelog__SheetFailed)STATELOG__SHEET_FAILED__INIT;
	b->has_sheet_num = 1;
	b->sheet_num = j->sheet;
	b->message = w->msg;
	b->category = (char *)sl_wl_categories[j->cat];
	b->has_exit_code = 1;
	b->has_duration_seconds = 1;
	b->duration_seconds = (double)j->duration_ms / 1000.0;
	switch (j->cat) {
	case SL_WL_CAT_VALIDATION:
		b->exit_code = 0;
		b->exit_reason = "completed";
		break;
	case SL_WL_CAT_TIMEOUT:
		/* SIGTERM at the deadline, SIGKILL when that is ignored */
		b->has_exit_signal = 1;
		b->exit_signal = sl_wl_rng_below(r, 4) ? 15 : 9;
		b->exit_code = 124;
		b->exit_reason = "timeout";
		break;
	case SL_WL_CAT_SIGNAL: {
		static const int signals[] = { 9, 9, 15, 6, 11 };
		b->has_exit_signal = 1;
		b->exit_signal = signals[sl_wl_rng_below(r, 5)];
		b->exit_code = 128 + b->exit_signal;
		b->exit_reason = "killed";
		break;
	}
	case SL_WL_CAT_CONFIGURATION:
	case SL_WL_CAT_PREFLIGHT:
		b->exit_code = 2;
		b->exit_reason = "error";
		break;
	default:
		b->exit_code = 1;
		b->exit_reason = "error";
		break;
	}
	w->ev.body_case = STATELOG__EVENT__BODY_SHEET_FAILED;
	w->ev.sheet_failed = b;

	snprintf(j->last_failure, sizeof(j->last_failure), "%.240s (%s)", w->msg,
		 sl_wl_categories[j->cat]);
	j->has_last_failure = 1;
	if (j->attempt >= SL_WORKLOAD_MAX_ATTEMPTS) {
		w->stats.sheets_exhausted++;
		j->phase = sl_wl_rng_below(r, 2) ? PH_JOB_PAUSE : PH_JOB_FAIL;
		after_ms(w, j, 500, 3000);
	} else if (j->cat == SL_WL_CAT_RATE_LIMIT) {
		j->phase = PH_RATE_LIMIT;
		after_ms(w, j, 200, 1000);
	} else {
		/* exponential backoff: 10 s, 20 s, plus jitter */
		int64_t base = 10000LL << (j->attempt - 1);
		to_sheet_start(w, j, base, base + 5000);
	}
	return 1;
}

static int step_job_end(struct sl_workload *w, struct job *j)
{
	switch (j->phase) {
	case PH_JOB_COMPLETE: {
		Statelog__JobCompleted *b = &w->body.job_completed;
		*b = (Statelog__JobCompleted)STATELOG__JOB_COMPLETED__INIT;
		w->ev.body_case = STATELOG__EVENT__BODY_JOB_COMPLETED;
		w->ev.job_completed = b;
		break;
	}
	case PH_JOB_PAUSE: {
		snprintf(w->msg, sizeof(w->msg), "Sheet %u exhausted %d attempts; paused for review",
			 j->sheet, SL_WORKLOAD_MAX_ATTEMPTS);
		Statelog__JobPaused *b = &w->body.job_paused;
		*b = (Statelog__JobPaused)STATELOG__JOB_PAUSED__INIT;
		b->reason = w->msg;
		w->ev.body_case = STATELOG__EVENT__BODY_JOB_PAUSED;
		w->ev.job_paused = b;
		break;
	}
	default: {
		snprintf(w->msg, sizeof(w->msg), "Sheet %u failed after %d attempts: %.200s",
			 j->sheet, SL_WORKLOAD_MAX_ATTEMPTS, j->last_failure);
		Statelog__JobFailed *b = &w->body.job_failed;
		*b = (Statelog__JobFailed)STATELOG__JOB_FAILED__INIT;
		b->message = w->msg;
		w->ev.body_case = STATELOG__EVENT__BODY_JOB_FAILED;
		w->ev.job_failed = b;
		break;
	}
	}
	j->phase = PH_END;
	after_ms(w, j, 1000, 60000);
	return 1;
}

static int step_zombie(struct sl_workload *w, struct job *j)
{
	static const char *const reasons[] = { "load", "status check", "resume", "dashboard refresh" };
	Statelog__ZombieRecovered *b = &w->body.zombie_recovered;
	*b = (Statelog__ZombieRecovered)STATELOG__ZOMBIE_RECOVERED__INIT;
	b->has_pid = 1;
	b->pid = j->pid;
	b->reason = (char *)reasons[sl_wl_rng_below(&w->rng, 4)];
	w->ev.body_case = STATELOG__EVENT__BODY_ZOMBIE_RECOVERED;
	w->ev.zombie_recovered = b;
	snprintf(j->last_failure, sizeof(j->last_failure),
		 "the process (PID %lld) stopped without recording a result", (long long)j->pid);
	j->has_last_failure = 1;
	j->phase = PH_RESUME;
	after_ms(w, j, 1000, 120000);
	return 1;
}

static int step_resume(struct sl_workload *w, struct job *j)
{
	Statelog__JobResumed *b = &w->body.job_resumed;
	*b = (Statelog__JobResumed)STATELOG__JOB_RESUMED__INIT;
	w->ev.body_case = STATELOG__EVENT__BODY_JOB_RESUMED;
	w->ev.job_resumed = b;
	j->phase = PH_PID;
	after_ms(w, j, 500, 3000);
	return 1;
}

static int step_delete(struct sl_workload *w, struct job *j)
{
	Statelog__JobDeleted *b = &w->body.job_deleted;
	*b = (Statelog__JobDeleted)STATELOG__JOB_DELETED__INIT;
	w->ev.body_case = STATELOG__EVENT__BODY_JOB_DELETED;
	w->ev.job_deleted = b;
	job_setup(w, j, 0, 1);
	after_ms(w, j, 5000, 120000);
	return 1;
}

/* After a job's last event: a re-run, a new job in the slot, or nothing. */
static int step_end(struct sl_workload *w, struct job *j)
{
	if (sl_wl_rng_unit(&w->rng) < P_DELETE) {
		j->phase = PH_DELETE;
		after_ms(w, j, 60000, 30 * 60000);
	} else if (more_jobs(w)) {
		job_start_new(w, j);
		after_ms(w, j, 1000, 60000);
	} else {
		j->active = 0;
	}
	return 0;
}

static int step(struct sl_workload *w, struct job *j)
{
	switch (j->phase) {
	case PH_CREATE: return step_create(w, j);
	case PH_PID: return step_pid(w, j);
	case PH_RATE_LIMIT: return step_rate_limit(w, j);
	case PH_SHEET_START: return step_sheet_start(w, j);
	case PH_SHEET_MODE: return step_sheet_mode(w, j);
	case PH_EXEC: return step_exec(w, j);
	case PH_SHEET_DONE: return step_sheet_done(w, j);
	case PH_SHEET_OUTCOME: return step_sheet_outcome(w, j);
	case PH_SHEET_FAIL: return step_sheet_fail(w, j);
	case PH_JOB_COMPLETE:
	case PH_JOB_PAUSE:
	case PH_JOB_FAIL: return step_job_end(w, j);
	case PH_ZOMBIE: return step_zombie(w, j);
	case PH_RESUME: return step_resume(w, j);
	case PH_DELETE: return step_delete(w, j);
	case PH_END: return step_end(w, j);
	}
	assert(0 && "unknown phase");
	return SL_EINVAL;
}

int sl_workload_next(sl_workload *w, Statelog__Event **out)
{
	for (;;) {
		if (w->opt.events && w->stats.events >= w->opt.events)
			return 0;
		struct job *j = NULL;
		for (uint32_t i = 0; i < w->n_slots; i++) {
			struct job *c = &w->slots[i];
			if (c->active && (!j || c->next_us < j->next_us))
				j = c;
		}
		if (!j)
			return 0;
		if (j->next_us > w->now_us)
			w->now_us = j->next_us;

		/* The id is copied: a step may set the slot up for another job. */
		memcpy(w->job_id, j->id, sizeof(w->job_id));
		w->ev = (Statelog__Event)STATELOG__EVENT__INIT;
		w->ev.job_id = w->job_id;
		int rc = step(w, j);
		if (rc < 0)
			return rc;
		if (rc == 0)
			continue;
		w->stats.events++;
		w->stats.by_type[w->ev.body_case]++;
		*out = &w->ev;
		return 1;
	}
}
