/* test_diff.c: tests of projector/diff.c: a whole-state save becomes the few
 * events that sl_rules_apply() turns back into that state (with the
 * load-time invariants applied).  The main check runs on random states from
 * a small seeded generator that fills every column through the catalogue
 * with values its constraint accepts; every event also goes through the
 * on-disk encoding (sl_event_encode / sl_event_decode) before it is
 * applied.  A state the constraints refuse is refused by diff with the
 * column named and the reason the rules give for the same value.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event_json.h"
#include "event_internal.h"
#include "state.h"
#include "timefmt.h"

#define T0 INT64_C(1764125378504474)
#define NOW (T0 + INT64_C(86400000000))

/* ---- a seeded random state generator ------------------------------------ */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* xorshift64*: small, deterministic, good enough for test data. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * UINT64_C(2685821657736338717);
}

static void seed(uint64_t s)
{
	rng_state = s * UINT64_C(0x9E3779B97F4A7C15) + 1;
}

static bool chance(unsigned one_in)
{
	return rnd() % one_in == 0;
}

static const char *const texts[] = {
	"", "x", "héllo wörld ✓ 日本語", "a/b:c@d", "line\nbreak\ttab", "[not json",
	"rate_limit", "success_retry", "Unknown failure (no error message recorded)",
};
static const char *const objects[] = {  /* config_snapshot */
	"", "null", "{}", "{\"retries\": 3, \"a\": [1, 2]}", "{\"x\": NaN, \"big\": 1e999}",
};
static const char *const lists[] = {    /* passed/failed_validations, learned_patterns */
	"[]", "", "null", "{}", "[\"lint\", \"tests pass\"]", "[\"\\u00e9t\\u00e9\"]",
};
static const char *const details[] = {  /* validation_details */
	"[]", "", "null", "[{\"passed\": true}]", "[{\"rule\": \"x\", \"passed\": false}, {\"passed\": 1}]",
};
static const char *const outcomes[] = { /* outcome_data */
	"{}", "", "null", "{\"files\": 3}", "{\"escalation_skipped\": true}",
};
static const char *const ids[] = {
	"job-1", "team/nightly:2026-11-26@host", "ünïcødé/ジョブ", "a:b@c/d", "x",
};
#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static size_t n_names(const char *const *names)
{
	size_t n = 0;
	while (names[n])
		n++;
	return n;
}

/* A random text its column's constraint accepts. */
static const char *random_text(const struct sl_state_column *c)
{
	switch (c->check) {
	case SL_CHECK_JSON_OBJECT: return objects[rnd() % N_OF(objects)];
	case SL_CHECK_JSON_TEXT_LIST: return lists[rnd() % N_OF(lists)];
	case SL_CHECK_JSON_VALIDATION_DETAILS: return details[rnd() % N_OF(details)];
	case SL_CHECK_JSON_OUTCOME_DATA: return outcomes[rnd() % N_OF(outcomes)];
	case SL_CHECK_ERROR_CATEGORY:
		return sl_error_category_names[rnd() % n_names(sl_error_category_names)];
	case SL_CHECK_OUTCOME_CATEGORY:
		return sl_outcome_category_names[rnd() % n_names(sl_outcome_category_names)];
	case SL_CHECK_EXIT_REASON:
		return sl_exit_reason_names[rnd() % n_names(sl_exit_reason_names)];
	case SL_CHECK_EXECUTION_MODE:
		return sl_execution_mode_names[rnd() % n_names(sl_execution_mode_names)];
	default: return texts[rnd() % N_OF(texts)];
	}
}

static void random_value(const struct sl_state_column *c, struct sl_value *v, char **owned)
{
	static const double reals[] = { 0.0, -0.0, 0.5, 12.25, 1e300, -3.75, 100.0 };
	static const double unit[] = { 0.0, -0.0, 0.5, 1.0, 0.92 };
	*owned = NULL;
	*v = (struct sl_value){ 0 };
	if (c->nullable && chance(4)) {
		v->null = true;
		return;
	}
	switch (c->type) {
	case SL_COL_TEXT:
		*owned = strdup(random_text(c));
		v->s = *owned;
		break;
	case SL_COL_INT:
		v->i = chance(20) ? (chance(2) ? INT64_MAX : INT64_MIN) : (int64_t)(rnd() % 300) - 3;
		if (c->check == SL_CHECK_MIN_1)
			v->i = 1 + (int64_t)(rnd() % 120);      /* total_sheets >= 1 */
		break;
	case SL_COL_TIME:
		v->i = T0 + (int64_t)(rnd() % INT64_C(1000000000000));
		break;
	case SL_COL_REAL:
		if (c->check == SL_CHECK_UNIT_INTERVAL)
			v->d = unit[rnd() % N_OF(unit)];
		else
			v->d = chance(10) ? NAN : reals[rnd() % N_OF(reals)];
		break;
	case SL_COL_BOOL:
		v->i = (int64_t)(rnd() % 2);
		break;
	case SL_COL_JOB_STATUS:
		v->i = (int64_t)(rnd() % SL_JOB_STATUS_COUNT);
		break;
	case SL_COL_SHEET_STATUS:
		v->i = (int64_t)(rnd() % SL_SHEET_STATUS_COUNT);
		break;
	}
}

/* Gives each non-key column of row a new random value with chance 1/one_in. */
static void scramble(const struct sl_state_column *cols, size_t n, void *row, unsigned one_in)
{
	for (size_t i = 0; i < n; i++) {
		if (cols[i].key || !chance(one_in))
			continue;
		struct sl_value v;
		char *owned;
		random_value(&cols[i], &v, &owned);
		sl_state_column_put(&cols[i], row, &v, owned);
	}
}

static void add_random_sheet(struct sl_job_state *st, int64_t n, unsigned one_in)
{
	struct sl_sheet_state *sh;
	cr_assert_eq(sl_state_add_sheet(&sh, st, n), SL_OK, "add sheet %" PRId64, n);
	scramble(sl_state_sheet_columns, SL_STATE_N_SHEET_COLUMNS, sh, one_in);
}

/* A live job with every column random and a random set of sheets, as the
 * rules leave one: with the load-time invariants (at T0). */
static void random_job(struct sl_job_state *st)
{
	sl_state_init(st);
	st->presence = SL_JOB_LIVE;
	st->id = strdup(ids[rnd() % N_OF(ids)]);
	st->name = strdup("job");
	scramble(sl_state_job_columns, SL_STATE_N_JOB_COLUMNS, st, 1);
	int64_t max = (int64_t)(rnd() % 120);
	for (int64_t n = 1; n <= max; n++)
		if (!chance(5))
			add_random_sheet(st, n, 2);
	cr_assert_eq(sl_rules_invariants(st, T0), SL_OK, "invariants");
}

/* want = cur with a few columns and sheets changed and sheets added; every
 * sheet of cur stays (a save never deletes sheet rows). */
static void mutate(struct sl_job_state *want, const struct sl_job_state *cur)
{
	cr_assert_eq(sl_state_copy(want, cur), SL_OK, "copy for mutate");
	unsigned job_rate = 1 + (unsigned)(rnd() % 20);
	scramble(sl_state_job_columns, SL_STATE_N_JOB_COLUMNS, want, job_rate);
	for (size_t i = 0; i < want->n_sheets; i++)
		if (chance(8))
			scramble(sl_state_sheet_columns, SL_STATE_N_SHEET_COLUMNS, &want->sheets[i], 6);
	for (int k = (int)(rnd() % 4); k > 0; k--)
		add_random_sheet(want, 1 + (int64_t)(rnd() % 150), 3);
}

/* ---- the round trip ----------------------------------------------------- */

/* Sends an event through the on-disk encoding, as the log would. */
static sl_event *through_the_wire(const sl_event *ev, uint64_t seq)
{
	size_t len = sl_event_encoded_size(ev);
	uint8_t *buf = malloc(len ? len : 1);
	cr_assert_eq(sl_event_encode(ev, buf), len, "encode %s", sl_event_type_name(ev));
	sl_event *back = NULL;
	cr_assert_eq(sl_event_decode(&back, buf, len, seq, ev->time_us), SL_OK,
		     "decode %s", sl_event_type_name(ev));
	free(buf);
	return back;
}

/* Diffs cur -> want, applies the events to a copy of cur (or to nothing),
 * and checks the result is want with the invariants applied at the events'
 * time (state.h); returns the number of events. */
static size_t round_trip(const struct sl_job_state *cur, const struct sl_job_state *want,
			 const char *what)
{
	sl_event **evs = NULL;
	size_t n = 0;
	int rc = sl_state_diff(&evs, &n, cur, want, NOW, NULL);
	cr_assert_eq(rc, SL_OK, "%s: diff rc %d (%s)", what, rc, sl_strerror(rc));
	struct sl_job_state got;
	if (cur)
		cr_assert_eq(sl_state_copy(&got, cur), SL_OK, "%s: copy cur", what);
	else
		sl_state_init(&got);
	for (size_t i = 0; i < n; i++) {
		cr_assert_str_eq(evs[i]->job_id, want->id, "%s: event %zu job_id", what, i);
		cr_assert(evs[i]->has_time_us && evs[i]->time_us == NOW, "%s: event %zu time", what, i);
		sl_event *wire = through_the_wire(evs[i], i + 1);
		rc = sl_rules_apply(&got, wire, NULL);
		cr_assert_eq(rc, SL_OK, "%s: apply event %zu (%s): rc %d (%s)", what, i,
			     sl_event_type_name(wire), rc, sl_strerror(rc));
		sl_event_free(wire);
	}
	struct sl_job_state expect;
	cr_assert_eq(sl_state_copy(&expect, want), SL_OK, "%s: copy want", what);
	cr_assert_eq(sl_rules_invariants(&expect, NOW), SL_OK, "%s: invariants", what);
	int64_t sheet = 0;
	const char *d = sl_state_first_difference(&got, &expect, SL_STATE_IGNORE_UPDATED_AT, &sheet);
	cr_assert_null(d, "%s: after %zu events, column %s differs (sheet %" PRId64 ")",
		       what, n, d, sheet);
	sl_state_free(&expect);
	int64_t want_updated = n ? NOW : cur->updated_at_us;
	cr_assert_eq(got.updated_at_us, want_updated, "%s: updated_at after %zu events", what, n);
	sl_events_free(evs, n);
	sl_state_free(&got);
	return n;
}

TestSuite(diff, .timeout = 60);

Test(diff, random_states_round_trip)
{
	for (uint64_t s = 1; s <= 400; s++) {
		char what[64];
		struct sl_job_state cur, want;
		seed(s);
		random_job(&cur);
		mutate(&want, &cur);
		snprintf(what, sizeof what, "seed %" PRIu64 " (existing job)", s);
		round_trip(&cur, &want, what);

		snprintf(what, sizeof what, "seed %" PRIu64 " (new job)", s);
		round_trip(NULL, &want, what);

		/* The same id deleted before: created again from nothing. */
		sl_state_free(&cur);
		cur.id = strdup(want.id);
		cur.presence = SL_JOB_DELETED;
		snprintf(what, sizeof what, "seed %" PRIu64 " (deleted job)", s);
		round_trip(&cur, &want, what);
		sl_state_free(&cur);
		sl_state_free(&want);
	}
}

Test(diff, unchanged_state_gives_no_events)
{
	for (uint64_t s = 1; s <= 50; s++) {
		struct sl_job_state cur, same;
		seed(s);
		random_job(&cur);
		cr_assert_eq(sl_state_copy(&same, &cur), SL_OK, "copy");
		same.updated_at_us += 5;        /* updated_at alone is not a change */
		char what[48];
		snprintf(what, sizeof what, "seed %" PRIu64 ", unchanged", s);
		cr_assert_eq(round_trip(&cur, &same, what), 0, "%s: no events", what);
		sl_state_free(&cur);
		sl_state_free(&same);
	}
}

/* A 100-sheet job, all completed but the last, created at T0. */
static void hundred_sheets(struct sl_job_state *st)
{
	sl_state_init(st);
	st->presence = SL_JOB_LIVE;
	st->id = strdup("fleet/host-7:job@42");
	st->name = strdup("big");
	st->status = SL_JOB_RUNNING;
	st->total_sheets = 100;
	st->last_completed_sheet = 99;
	st->created_at_us = st->updated_at_us = T0;
	for (int64_t n = 1; n <= 100; n++) {
		struct sl_sheet_state *sh;
		cr_assert_eq(sl_state_add_sheet(&sh, st, n), SL_OK, "add sheet %" PRId64, n);
		sh->status = n < 100 ? SL_SHEET_COMPLETED : SL_SHEET_IN_PROGRESS;
		sh->attempt_count = 1;
		sh->has_exit_code = n < 100;
		sh->validation_details = strdup("[{\"rule\": \"x\", \"passed\": true}]");
	}
	cr_assert_eq(sl_rules_invariants(st, T0), SL_OK, "invariants");
}

Test(diff, one_changed_sheet_of_a_hundred_is_one_event)
{
	struct sl_job_state cur, want;
	hundred_sheets(&cur);
	cr_assert_eq(sl_state_copy(&want, &cur), SL_OK, "copy");
	sl_state_find_sheet(&want, 100)->status = SL_SHEET_COMPLETED;

	sl_event **evs;
	size_t n;
	cr_assert_eq(sl_state_diff(&evs, &n, &cur, &want, NOW, NULL), SL_OK, "diff");
	cr_assert_eq(n, 1, "100 sheets, sheet 100 changed: 1 event, got %zu", n);
	cr_assert_eq(evs[0]->body_case, STATELOG__EVENT__BODY_SHEET_FIELDS_SET,
		     "the event is a sheet_fields_set, got %s", sl_event_type_name(evs[0]));
	const Statelog__SheetFieldsSet *m = evs[0]->sheet_fields_set;
	cr_assert(m->sheet_num == 100 && m->status && strcmp(m->status, "completed") == 0 &&
		  !m->has_attempt_count && !m->validation_details && m->n_cleared == 0,
		  "only sheet 100's status is carried");
	sl_events_free(evs, n);
	round_trip(&cur, &want, "100 sheets, one changed");

	want.last_completed_sheet = 100;
	want.status = SL_JOB_COMPLETED;
	cr_assert_eq(round_trip(&cur, &want, "100 sheets, one changed, job too"), 2,
		     "one sheet and the job changed: 2 events");
	sl_state_free(&cur);
	sl_state_free(&want);
}

Test(diff, null_and_empty_list_stay_distinct)
{
	struct sl_job_state cur, want;
	hundred_sheets(&cur);
	cr_assert_eq(sl_state_copy(&want, &cur), SL_OK, "copy");
	struct sl_sheet_state *sh = sl_state_find_sheet(&want, 5);
	free(sh->passed_validations);           /* "[]" -> NULL */
	sh->passed_validations = NULL;
	sh = sl_state_find_sheet(&want, 6);
	free(sh->validation_details);           /* details -> "[]" */
	sh->validation_details = strdup("[]");

	sl_event **evs;
	size_t n;
	cr_assert_eq(sl_state_diff(&evs, &n, &cur, &want, NOW, NULL), SL_OK, "diff");
	cr_assert_eq(n, 2, "two sheets changed: 2 events, got %zu", n);
	const Statelog__SheetFieldsSet *m = evs[0]->sheet_fields_set;
	cr_assert(m->sheet_num == 5 && m->n_cleared == 1 && m->cleared[0] == 10 &&
		  !m->passed_validations, "sheet 5: passed_validations (10) cleared, not set");
	m = evs[1]->sheet_fields_set;
	cr_assert(m->sheet_num == 6 && m->n_cleared == 0 && m->validation_details &&
		  strcmp(m->validation_details, "[]") == 0, "sheet 6: validation_details \"[]\"");
	sl_events_free(evs, n);
	round_trip(&cur, &want, "\"[]\" -> NULL and details -> \"[]\"");
	round_trip(&want, &cur, "NULL -> \"[]\" and \"[]\" -> details");
	sl_state_free(&cur);
	sl_state_free(&want);
}

Test(diff, new_job_starts_with_job_created)
{
	struct sl_job_state want;
	sl_state_init(&want);
	want.presence = SL_JOB_LIVE;
	want.id = strdup("new/job:1@h");
	want.name = strdup("fresh");
	want.total_sheets = 4;
	want.created_at_us = T0;
	struct sl_sheet_state *sh;
	cr_assert_eq(sl_state_add_sheet(&sh, &want, 2), SL_OK, "add sheet 2 with defaults");

	sl_event **evs;
	size_t n;
	cr_assert_eq(sl_state_diff(&evs, &n, NULL, &want, NOW, NULL), SL_OK, "diff from nothing");
	cr_assert_eq(n, 2, "job_created + a sheet row with defaults: 2 events, got %zu", n);
	cr_assert_eq(evs[0]->body_case, STATELOG__EVENT__BODY_JOB_CREATED, "first: job_created");
	const Statelog__JobCreated *c = evs[0]->job_created;
	cr_assert(c->has_created_at_us && c->created_at_us == T0, "created_at carried");
	cr_assert(c->has_total_sheets && c->total_sheets == 4 && strcmp(c->name, "fresh") == 0,
		  "name and total_sheets carried");
	cr_assert_eq(evs[1]->body_case, STATELOG__EVENT__BODY_SHEET_FIELDS_SET, "then the sheet");
	cr_assert(evs[1]->sheet_fields_set->sheet_num == 2 && !evs[1]->sheet_fields_set->status &&
		  evs[1]->sheet_fields_set->n_cleared == 0,
		  "a default sheet row is created by an empty sheet_fields_set");
	sl_events_free(evs, n);
	round_trip(NULL, &want, "new job with one default sheet");
	sl_state_free(&want);
}

Test(diff, sheets_missing_from_want_are_kept)
{
	struct sl_job_state cur, want, got;
	hundred_sheets(&cur);
	sl_state_init(&want);
	cr_assert_eq(sl_state_copy(&want, &cur), SL_OK, "copy");
	/* want without its sheets, and one column of the job changed */
	for (size_t i = 0; i < want.n_sheets; i++)
		sl_sheet_free(&want.sheets[i]);
	want.n_sheets = 0;
	want.rate_limit_waits = 3;
	sl_event **evs;
	size_t n;
	cr_assert_eq(sl_state_diff(&evs, &n, &cur, &want, NOW, NULL), SL_OK, "diff");
	cr_assert_eq(n, 1, "only the job changed: 1 event");
	cr_assert_eq(sl_state_copy(&got, &cur), SL_OK, "copy");
	cr_assert_eq(sl_rules_apply(&got, evs[0], NULL), SL_OK, "apply");
	cr_assert(got.n_sheets == 100 && got.rate_limit_waits == 3,
		  "the 100 sheets stay; rate_limit_waits 3");
	sl_events_free(evs, n);
	sl_state_free(&cur);
	sl_state_free(&want);
	sl_state_free(&got);
}

struct id_row {
	char id[48];
};

ParameterizedTestParameters(diff, ids_are_opaque_text)
{
	static struct id_row rows[] = {
		{ "a/b/c" }, { "x:y:z" }, { "user@host" }, { "jöb-ünïcødé" }, { "ジョブ/1:2@3" },
		{ " spaced id " }, { "%s%n" },
	};
	return cr_make_param_array(struct id_row, rows, N_OF(rows));
}

ParameterizedTest(struct id_row *row, diff, ids_are_opaque_text)
{
	struct sl_job_state want;
	seed(7);
	random_job(&want);
	free(want.id);
	want.id = strdup(row->id);
	char what[96];
	snprintf(what, sizeof what, "new job with id \"%s\"", row->id);
	round_trip(NULL, &want, what);
	struct sl_job_state next;
	mutate(&next, &want);
	snprintf(what, sizeof what, "saved job with id \"%s\"", row->id);
	round_trip(&want, &next, what);
	sl_state_free(&want);
	sl_state_free(&next);
}

Test(diff, touch_event_changes_only_updated_at)
{
	struct sl_job_state cur, got;
	hundred_sheets(&cur);
	cr_assert_eq(sl_state_copy(&got, &cur), SL_OK, "copy");
	sl_event *ev = NULL;
	cr_assert_eq(sl_state_touch_event(&ev, cur.id, NOW), SL_OK, "touch event");
	sl_event *wire = through_the_wire(ev, 1);
	cr_assert_eq(sl_rules_apply(&got, wire, NULL), SL_OK, "apply the touch");
	cr_assert(sl_state_equal(&got, &cur, SL_STATE_IGNORE_UPDATED_AT), "touch changes nothing else");
	cr_assert_eq(got.updated_at_us, NOW, "touch sets updated_at");
	sl_event_free(ev);
	sl_event_free(wire);
	sl_state_free(&cur);
	sl_state_free(&got);
}

Test(diff, refuses_what_is_not_a_save)
{
	struct sl_job_state cur, want;
	hundred_sheets(&cur);
	cr_assert_eq(sl_state_copy(&want, &cur), SL_OK, "copy");
	sl_event **evs = (sl_event **)&cur;     /* must stay untouched */
	size_t n = 77;
	free(want.id);
	want.id = strdup("another-job");
	cr_assert_eq(sl_state_diff(&evs, &n, &cur, &want, NOW, NULL), SL_EINVAL, "want has another id");
	free(want.id);
	want.id = strdup(cur.id);
	free(want.name);
	want.name = NULL;
	cr_assert_eq(sl_state_diff(&evs, &n, NULL, &want, NOW, NULL), SL_EINVAL, "want without a name");
	want.name = strdup("n");
	want.presence = SL_JOB_DELETED;
	cr_assert_eq(sl_state_diff(&evs, &n, NULL, &want, NOW, NULL), SL_EINVAL, "want not live");
	want.presence = SL_JOB_LIVE;
	want.total_sheets = -1;
	cr_assert_eq(sl_state_diff(&evs, &n, NULL, &want, NOW, NULL), SL_EINVAL,
		     "a new job with total_sheets -1");
	want.total_sheets = 100;
	want.status = (enum sl_job_status)SL_JOB_STATUS_COUNT;
	cr_assert_eq(sl_state_diff(&evs, &n, &cur, &want, NOW, NULL), SL_EINVAL, "job status out of range");
	want.status = SL_JOB_RUNNING;
	want.sheets[3].status = (enum sl_sheet_status)99;
	cr_assert_eq(sl_state_diff(&evs, &n, &cur, &want, NOW, NULL), SL_EINVAL, "sheet status 99");
	want.sheets[3].status = SL_SHEET_PENDING;
	want.sheets[3].sheet_num = 2;
	cr_assert_eq(sl_state_diff(&evs, &n, &cur, &want, NOW, NULL), SL_EINVAL, "sheets out of order");
	want.sheets[3].sheet_num = 4;
	cr_assert(evs == (sl_event **)&cur && n == 77, "outputs untouched on failure");
	sl_events_free(NULL, 0);
	sl_state_free(&cur);
	sl_state_free(&want);
}

/* ---- refused saves: the column named, the rules' reason ------------------ */

/* A change to the 100-sheet job (sheet 3 for a sheet column), the field
 * diff names and its reason, and the event carrying the same value, which
 * the rules must refuse with the same reason. */
struct refused_row {
	char what[40];
	bool new_job;           /* diff from nothing */
	char change;            /* see refused_save below */
	char text[80];
	int64_t i;
	double d;
	char field[40];
	char reason[200];
	char event[240];        /* the same value in an event ("" when no event carries it) */
};

#define SF(body) "{\"job_id\": \"fleet/host-7:job@42\", \"type\": \"sheet_fields_set\", " \
	"\"time_us\": 1764211778504474, \"body\": {\"sheet_num\": 3, " body "}}"
#define JF(body) "{\"job_id\": \"fleet/host-7:job@42\", \"type\": \"job_fields_set\", " \
	"\"time_us\": 1764211778504474, \"body\": {" body "}}"

ParameterizedTestParameters(diff, refused_save)
{
	static struct refused_row rows[] = {
		{ "total_sheets 0", false, 'T', "", 0, 0, "total_sheets", "total_sheets 0 is below 1",
		  JF("\"total_sheets\": 0") },
		{ "new job, total_sheets 0", true, 'T', "", 0, 0, "total_sheets",
		  "total_sheets 0 is below 1", "" },
		{ "confidence 1.5", false, 'c', "", 0, 1.5, "sheets[3].confidence_score",
		  "confidence_score 1.5 is outside 0..1", SF("\"confidence_score\": 1.5") },
		{ "execution_mode turbo", false, 'm', "turbo", 0, 0, "sheets[3].execution_mode",
		  "execution_mode 'turbo' is not an execution mode (normal, completion, retry)",
		  SF("\"execution_mode\": \"turbo\"") },
		{ "details without passed", false, 'v', "[{}]", 0, 0, "sheets[3].validation_details",
		  "validation_details item 0 has no 'passed'", SF("\"validation_details\": \"[{}]\"") },
		{ "outcome_data a list", false, 'o', "[1]", 0, 0, "sheets[3].outcome_data",
		  "outcome_data is a list, not an object", SF("\"outcome_data\": \"[1]\"") },
		{ "snapshot a list", false, 's', "[]", 0, 0, "config_snapshot",
		  "config_snapshot is a list, not an object", JF("\"config_snapshot\": \"[]\"") },
		{ "new job, snapshot a list", true, 's', "[]", 0, 0, "config_snapshot",
		  "config_snapshot is a list, not an object", "" },
		{ "started_at 10000", false, 'a', "", INT64_C(253402300800000000), 0, "started_at",
		  "started_at 253402300800000000 us is outside the years 0001..9999",
		  JF("\"started_at_us\": 253402300800000000") },
		{ "new job, created_at", true, 'C', "", INT64_MIN, 0, "created_at",
		  "created_at -9223372036854775808 us is outside the years 0001..9999", "" },
		{ "sheet message not UTF-8", false, 'e', "\xff", 0, 0, "sheets[3].error_message",
		  "error_message is not valid UTF-8", "" },
		{ "job status 7", false, 'S', "", 7, 0, "status", "status 7 is not a JobStatus", "" },
		{ "sheet status 99", false, 'x', "", 99, 0, "sheets[3].status",
		  "status 99 is not a SheetStatus", "" },
		{ "sheet 0", false, 'z', "", 0, 0, "sheets[0].sheet_num", "sheet_num 0 is below 1", "" },
		{ "out of order", false, 'r', "", 0, 0, "sheets[2].sheet_num",
		  "sheet 2 is out of order or repeated (after sheet 3)", "" },
		{ "no name", false, 'n', "", 0, 0, "name", "name cannot be NULL (a NOT NULL column)", "" },
		{ "another id", false, 'i', "", 0, 0, "id", "the state to save is job 'another', the "
		  "current state is job 'fleet/host-7:job@42'", "" },
		{ "not live", true, 'p', "", 0, 0, "presence", "the state to save is not a live job", "" },
		{ "time far ahead", false, 't', "", 0, 0, "time_us",
		  "time_us 9223372036854775807 us is outside the years 0001..9999", "" },
	};
	return cr_make_param_array(struct refused_row, rows, N_OF(rows));
}

ParameterizedTest(struct refused_row *row, diff, refused_save)
{
	struct sl_job_state cur, want;
	hundred_sheets(&cur);
	cr_assert_eq(sl_state_copy(&want, &cur), SL_OK, "copy");
	struct sl_sheet_state *sh = sl_state_find_sheet(&want, 3);
	int64_t now = NOW;
	switch (row->change) {
	case 'T': want.total_sheets = 0; break;
	case 'c': sh->has_confidence_score = true; sh->confidence_score = row->d; break;
	case 'm': sh->execution_mode = strdup(row->text); break;
	case 'v': free(sh->validation_details); sh->validation_details = strdup(row->text); break;
	case 'o': sh->outcome_data = strdup(row->text); break;
	case 's': want.config_snapshot = strdup(row->text); break;
	case 'a': want.has_started_at = true; want.started_at_us = row->i; break;
	case 'C': want.created_at_us = row->i; break;
	case 'e': sh->error_message = strdup(row->text); break;
	case 'S': want.status = (enum sl_job_status)row->i; break;
	case 'x': sh->status = (enum sl_sheet_status)row->i; break;
	case 'z': want.sheets[0].sheet_num = 0; break;
	case 'r': want.sheets[1].sheet_num = 3; want.sheets[2].sheet_num = 2; break;
	case 'n': free(want.name); want.name = NULL; break;
	case 'i': free(want.id); want.id = strdup("another"); break;
	case 'p': want.presence = SL_JOB_DELETED; break;
	case 't': now = INT64_MAX; break;
	}
	sl_event **evs = (sl_event **)&cur;     /* must stay untouched */
	size_t n = 77;
	struct sl_refusal why;
	int rc = sl_state_diff(&evs, &n, row->new_job ? NULL : &cur, &want, now, &why);
	cr_assert_eq(rc, SL_EINVAL, "%s: rc %d (%s)", row->what, rc, why.reason);
	cr_assert_eq(why.code, SL_EINVAL, "%s: why.code", row->what);
	cr_assert_str_eq(why.field, row->field, "%s: field '%s'", row->what, why.field);
	cr_assert_str_eq(why.reason, row->reason, "%s: reason '%s'", row->what, why.reason);
	cr_assert(evs == (sl_event **)&cur && n == 77, "%s: outputs untouched", row->what);
	cr_assert_eq(sl_state_diff(&evs, &n, row->new_job ? NULL : &cur, &want, now, NULL), SL_EINVAL,
		     "%s: the old entry point refuses too", row->what);
	if (row->event[0]) {
		/* The rules refuse the same value in an event with the same reason. */
		sl_event *ev = NULL;
		char err[200];
		cr_assert_eq(sl_event_from_json(&ev, row->event, strlen(row->event), err, sizeof err),
			     SL_OK, "%s: %s", row->event, err);
		struct sl_refusal rules;
		cr_assert_eq(sl_rules_check(&cur, ev, &rules), SL_EINVAL, "%s: the rules refuse %s",
			     row->what, row->event);
		cr_assert_str_eq(rules.reason, why.reason, "%s: the same reason", row->what);
		sl_event_free(ev);
	}
	sl_state_free(&cur);
	sl_state_free(&want);
}

/* A value refused now but already stored (a log written before the check)
 * is not looked at again when the save does not change it. */
Test(diff, a_stored_value_is_not_checked_again)
{
	struct sl_job_state cur, want;
	hundred_sheets(&cur);
	struct sl_sheet_state *sh = sl_state_find_sheet(&cur, 3);
	sh->has_confidence_score = true;
	sh->confidence_score = 1.5;
	cr_assert_eq(sl_state_copy(&want, &cur), SL_OK, "copy");
	sl_state_find_sheet(&want, 3)->attempt_count = 9;
	sl_event **evs;
	size_t n;
	struct sl_refusal why;
	cr_assert_eq(sl_state_diff(&evs, &n, &cur, &want, NOW, &why), SL_OK,
		     "diff: %s", why.reason);
	cr_assert_eq(n, 1, "one event: the attempt count");
	cr_assert(!evs[0]->sheet_fields_set->has_confidence_score, "the score is not carried");
	sl_events_free(evs, n);
	sl_state_free(&cur);
	sl_state_free(&want);
}

/* want breaking an invariant: the result is want with it applied (state.h). */
Test(diff, want_breaking_an_invariant_is_stored_with_it_applied)
{
	struct sl_job_state cur, want, got;
	hundred_sheets(&cur);
	cr_assert_eq(sl_state_copy(&want, &cur), SL_OK, "copy");
	want.has_started_at = false;                    /* running, no started_at */
	want.has_completed_at = true;                   /* running, completed_at */
	want.completed_at_us = T0 + 5;
	struct sl_sheet_state *sh = sl_state_find_sheet(&want, 4);
	sh->has_completed_at = false;                   /* completed, no completed_at */
	sh = sl_state_find_sheet(&want, 5);
	sh->status = SL_SHEET_FAILED;                   /* failed, no message */
	sh = sl_state_find_sheet(&want, 6);
	sh->status = SL_SHEET_FAILED;
	sh->error_message = strdup("");                 /* "" is a message */
	sh = sl_state_find_sheet(&want, 100);
	sh->has_started_at = false;                     /* in_progress, no started_at */

	sl_event **evs;
	size_t n;
	cr_assert_eq(sl_state_diff(&evs, &n, &cur, &want, NOW, NULL), SL_OK, "diff");
	cr_assert_eq(sl_state_copy(&got, &cur), SL_OK, "copy");
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(sl_rules_apply(&got, evs[i], NULL), SL_OK, "apply %zu", i);
	cr_assert(got.has_started_at && got.started_at_us == NOW,
		  "running job without started_at: the save's time");
	cr_assert(!got.has_completed_at, "running job: completed_at dropped");
	cr_assert(sl_state_find_sheet(&got, 4)->completed_at_us == NOW,
		  "completed sheet without completed_at: the save's time");
	cr_assert_str_eq(sl_state_find_sheet(&got, 5)->error_message,
			 "Unknown failure (no error message recorded)", "failed sheet: the default");
	cr_assert_str_eq(sl_state_find_sheet(&got, 6)->error_message, "", "\"\" stays");
	cr_assert(sl_state_find_sheet(&got, 100)->started_at_us == NOW,
		  "in_progress sheet without started_at: the save's time");
	round_trip(&cur, &want, "want breaking every invariant");
	sl_events_free(evs, n);
	sl_state_free(&cur);
	sl_state_free(&want);
	sl_state_free(&got);
}
