/* commit.c: the dry run of a whole commit (sl_rules_check_commit()): the
 * events of one save checked in order, each against the state the ones
 * before it leave, without changing the caller's state.
 *
 * The events are applied by the rules themselves (sl_rules_run()) to a
 * scratch state; the last one is only checked (dry).  Copying a 1,000-sheet
 * job for every save would cost more than the save, so the scratch shares
 * with the caller's state everything the commit does not change:
 *  - the job row's text is copied (a few strings);
 *  - the sheets array is the caller's until an event that may change a
 *    sheet is applied (a sheet event other than the last, which is only
 *    checked): then the array is copied shallowly (the structs, not their
 *    text), so an untouched sheet's text pointers stay the caller's; the
 *    usual save (job_fields_set, sheet_fields_set) never copies it;
 *  - before an event that may change sheet n (the rules change the job row
 *    and at most the one sheet sl_event_sheet() names, apply.c), sheet n's
 *    text is copied ("unshared");
 *  - job_created and job_deleted free every sheet of the state, so before
 *    them the scratch drops its sheets without freeing the caller's.
 * A text pointer of the scratch is the caller's exactly when it equals the
 * pointer in the same column of the caller's sheet of the same number: a
 * copy is a live allocation distinct from every live string of the
 * caller's.  That is how the scratch is freed at the end, and how a sheet
 * is found shared.
 */
#include "model_internal.h"

#include <stdlib.h>
#include <string.h>

#define TEXT_AT(row, c) ((char **)((char *)(row) + (c)->offset))

/* Whether text column c of scratch sheet sh is the caller's. */
static bool text_shared(const struct sl_state_column *c, struct sl_sheet_state *sh,
			const struct sl_sheet_state *orig)
{
	char *p = *TEXT_AT(sh, c);
	return p && orig && p == *(char *const *)((const char *)orig + c->offset);
}

/* Gives sheet sh of the scratch text of its own.  SL_ENOMEM (sh then holds
 * a mix, which the final release handles column by column). */
static int unshare_sheet(struct sl_sheet_state *sh, const struct sl_job_state *orig)
{
	const struct sl_sheet_state *o = sl_state_find_sheet(orig, sh->sheet_num);
	for (size_t i = 0; o && i < SL_STATE_N_SHEET_COLUMNS; i++) {
		const struct sl_state_column *c = &sl_state_sheet_columns[i];
		if (c->type != SL_COL_TEXT || !text_shared(c, sh, o))
			continue;
		char *copy = strdup(*TEXT_AT(sh, c));
		if (!copy)
			return SL_ENOMEM;
		*TEXT_AT(sh, c) = copy;
	}
	return SL_OK;
}

/* Frees the scratch's own text of sheet sh and forgets the caller's. */
static void release_sheet(struct sl_sheet_state *sh, const struct sl_job_state *orig)
{
	const struct sl_sheet_state *o = sl_state_find_sheet(orig, sh->sheet_num);
	for (size_t i = 0; i < SL_STATE_N_SHEET_COLUMNS; i++) {
		const struct sl_state_column *c = &sl_state_sheet_columns[i];
		if (c->type != SL_COL_TEXT)
			continue;
		if (!text_shared(c, sh, o))
			free(*TEXT_AT(sh, c));
		*TEXT_AT(sh, c) = NULL;
	}
}

static void release_sheets(struct sl_job_state *sc, const struct sl_job_state *orig)
{
	for (size_t i = 0; i < sc->n_sheets; i++)
		release_sheet(&sc->sheets[i], orig);
	sc->n_sheets = 0;
}

/* The scratch: orig's job row with text of its own, orig's sheets (the
 * array itself until own_array). */
struct scratch {
	struct sl_job_state st;
	bool own_array;
};

static int scratch_init(struct scratch *sc, const struct sl_job_state *orig)
{
	sc->st = *orig;
	sc->own_array = false;
	for (size_t i = 0; i < SL_STATE_N_JOB_COLUMNS; i++) {
		const struct sl_state_column *c = &sl_state_job_columns[i];
		if (c->type == SL_COL_TEXT)
			*TEXT_AT(&sc->st, c) = NULL;
	}
	for (size_t i = 0; i < SL_STATE_N_JOB_COLUMNS; i++) {
		const struct sl_state_column *c = &sl_state_job_columns[i];
		const char *s = c->type == SL_COL_TEXT
				? *(char *const *)((const char *)orig + c->offset) : NULL;
		if (s && !(*TEXT_AT(&sc->st, c) = strdup(s)))
			return SL_ENOMEM;
	}
	return SL_OK;
}

/* The scratch's own copy of the sheets array (the structs). */
static int own_array(struct scratch *sc)
{
	if (sc->own_array)
		return SL_OK;
	struct sl_sheet_state *copy = NULL;
	if (sc->st.n_sheets) {
		copy = malloc(sc->st.n_sheets * sizeof copy[0]);
		if (!copy)
			return SL_ENOMEM;
		memcpy(copy, sc->st.sheets, sc->st.n_sheets * sizeof copy[0]);
	}
	sc->st.sheets = copy;
	sc->st.cap_sheets = sc->st.n_sheets;
	sc->own_array = true;
	return SL_OK;
}

/* Forgets the sheets without freeing the caller's. */
static void drop_sheets(struct scratch *sc, const struct sl_job_state *orig)
{
	if (sc->own_array) {
		release_sheets(&sc->st, orig);
		return;
	}
	sc->st.sheets = NULL;
	sc->st.n_sheets = sc->st.cap_sheets = 0;
	sc->own_array = true;
}

/* Readies the scratch for ev: what the rules will change must be its own. */
static int scratch_prepare(struct scratch *sc, const struct sl_job_state *orig,
			   const sl_event *ev)
{
	switch (ev->body_case) {
	case STATELOG__EVENT__BODY_JOB_DELETED:
	case STATELOG__EVENT__BODY_JOB_CREATED:
		/* Both free the whole state (job_created only a state without
		 * sheets, but a state made by hand may have some). */
		drop_sheets(sc, orig);
		return SL_OK;
	case STATELOG__EVENT__BODY_SHEET_STARTED:
	case STATELOG__EVENT__BODY_SHEET_COMPLETED:
	case STATELOG__EVENT__BODY_SHEET_FAILED:
	case STATELOG__EVENT__BODY_SHEET_SKIPPED:
	case STATELOG__EVENT__BODY_SHEET_FIELDS_SET: {
		int rc = own_array(sc);
		if (rc != SL_OK)
			return rc;
		struct sl_sheet_state *sh = sl_state_find_sheet(&sc->st, sl_event_sheet(ev));
		return sh ? unshare_sheet(sh, orig) : SL_OK;
	}
	default:
		return SL_OK;
	}
}

static void scratch_free(struct scratch *sc, const struct sl_job_state *orig)
{
	drop_sheets(sc, orig);
	sl_state_free(&sc->st);         /* the job row's text and the array: its own */
}

int sl_rules_check_commit(const struct sl_job_state *st, sl_event *const *evs, size_t n,
			  size_t *failed, struct sl_refusal *why)
{
	struct scratch sc;
	size_t i = 0;
	int rc;
	sl_refusal_clear(why);
	if (n <= 1) {
		rc = n ? sl_rules_check(st, evs[0], why) : SL_OK;
		goto out;
	}
	if ((rc = scratch_init(&sc, st)) != SL_OK) {
		sl_refuse(why, rc, NULL, NULL, "out of memory");
		scratch_free(&sc, st);
		goto out;
	}
	for (; i < n; i++) {
		if (i + 1 == n) {
			rc = sl_rules_check(&sc.st, evs[i], why);
			break;
		}
		if ((rc = scratch_prepare(&sc, st, evs[i])) != SL_OK) {
			sl_refuse(why, rc, NULL, NULL, "out of memory");
			break;
		}
		if ((rc = sl_rules_apply(&sc.st, evs[i], why)) != SL_OK)
			break;
	}
	scratch_free(&sc, st);
out:
	if (rc != SL_OK && failed)
		*failed = i;
	return rc;
}
