/* words.c: turns the word tables of vocab.c into sampling lists.
 *
 * Splits the space-separated tables, inflects nouns (plural) and regular
 * verbs (3rd person, past, gerund) by simple English spelling rules, and
 * builds the Zipf tables through which text.c samples words: the head of
 * each list is frequent, the tail rare, as in real prose.  Built once per
 * generator, read-only afterwards.
 */
#include "workload_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Zipf-Mandelbrot weight of rank k (0-based): 1 / (k + Q)^S.  These two
 * numbers shape every text figure of the workload (its compression ratio
 * above all); changing them changes the workload. */
#define ZIPF_S 0.7
#define ZIPF_Q 20.0

#define ZIPF_SLOTS (1u << SL_WL_ZIPF_BITS)

/* Lists this short are sampled uniformly. */
#define UNIFORM_MAX 64

static size_t count_words(const char *s)
{
	size_t n = 0;
	for (const char *p = s; *p;) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		n++;
		while (*p && *p != ' ')
			p++;
	}
	return n;
}

/* Splits `s` on spaces into w[]; returns the count.  Words point into s. */
static uint32_t split_words(const char *s, struct sl_wl_word *w)
{
	uint32_t n = 0;
	for (const char *p = s; *p;) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		const char *start = p;
		while (*p && *p != ' ')
			p++;
		w[n].s = start;
		w[n].len = (uint32_t)(p - start);
		n++;
	}
	return n;
}

static int is_vowel(char c)
{
	return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u';
}

static int ends_with(const struct sl_wl_word *w, const char *suffix)
{
	size_t n = strlen(suffix);
	return w->len >= n && memcmp(w->s + w->len - n, suffix, n) == 0;
}

/* Appends base minus `drop` characters plus `suffix` to the arena. */
static struct sl_wl_word inflect(char **arena, const struct sl_wl_word *base, uint32_t drop,
				 const char *suffix)
{
	struct sl_wl_word out = { *arena, 0 };
	size_t sl = strlen(suffix);
	memcpy(*arena, base->s, base->len - drop);
	memcpy(*arena + base->len - drop, suffix, sl);
	out.len = (uint32_t)(base->len - drop + sl);
	*arena += out.len;
	return out;
}

static int consonant_y(const struct sl_wl_word *w)
{
	return w->len >= 2 && w->s[w->len - 1] == 'y' && !is_vowel(w->s[w->len - 2]);
}

/* Plural of a noun, or third person of a verb: the same spelling rule. */
static struct sl_wl_word add_s(char **arena, const struct sl_wl_word *w)
{
	if (consonant_y(w))
		return inflect(arena, w, 1, "ies");
	if (ends_with(w, "s") || ends_with(w, "x") || ends_with(w, "z") ||
	    ends_with(w, "ch") || ends_with(w, "sh"))
		return inflect(arena, w, 0, "es");
	return inflect(arena, w, 0, "s");
}

static struct sl_wl_word add_ed(char **arena, const struct sl_wl_word *w)
{
	if (consonant_y(w))
		return inflect(arena, w, 1, "ied");
	if (ends_with(w, "e"))
		return inflect(arena, w, 0, "d");
	return inflect(arena, w, 0, "ed");
}

static struct sl_wl_word add_ing(char **arena, const struct sl_wl_word *w)
{
	if (ends_with(w, "e") && !ends_with(w, "ee") && w->len > 2)
		return inflect(arena, w, 1, "ing");
	return inflect(arena, w, 0, "ing");
}

static void build_zipf(uint16_t *table, uint32_t n)
{
	double total = 0;
	for (uint32_t k = 0; k < n; k++)
		total += 1.0 / pow(k + ZIPF_Q, ZIPF_S);
	/* Slot i goes to the word whose cumulative weight first reaches the
	 * middle of the slot: every word with weight of at least one slot
	 * appears, in proportion. */
	double cum = 0;
	uint32_t k = 0;
	double next = 1.0 / pow(ZIPF_Q, ZIPF_S) / total;
	for (uint32_t i = 0; i < ZIPF_SLOTS; i++) {
		double at = (i + 0.5) / ZIPF_SLOTS;
		while (k + 1 < n && cum + next < at) {
			cum += next;
			k++;
			next = 1.0 / pow(k + ZIPF_Q, ZIPF_S) / total;
		}
		table[i] = (uint16_t)k;
	}
}

int sl_wl_vocab_new(sl_wl_vocab **out)
{
	int rc = SL_ENOMEM;
	sl_wl_vocab *v = calloc(1, sizeof(*v));
	if (!v)
		goto done;

	size_t n_nouns = count_words(sl_wl_nouns);
	size_t n_tech = count_words(sl_wl_tech_nouns);
	size_t n_verbs = count_words(sl_wl_verbs);
	size_t n_irr = 0;
	for (const char *p = sl_wl_irregular_verbs; *p; p++)
		n_irr += *p == '|';
	n_irr++;
	size_t n_adj = count_words(sl_wl_adjectives);
	size_t n_adv = count_words(sl_wl_adverbs);
	size_t n_prep = count_words(sl_wl_prepositions);
	size_t n_det = count_words(sl_wl_determiners);
	size_t n_proj = count_words(sl_wl_project_words);
	size_t n_jv = count_words(sl_wl_job_verbs);
	size_t n_user = count_words(sl_wl_users);
	size_t n_all_verbs = n_verbs + n_irr;
	size_t total = 2 * n_nouns + 2 * n_tech + 4 * n_all_verbs + n_adj + n_adv + n_prep +
		       n_det + n_proj + n_jv + n_user;

	v->words = calloc(total, sizeof(*v->words));
	/* Inflections add at most 3 characters to a word of the table. */
	v->arena = malloc(2 * strlen(sl_wl_nouns) + 2 * strlen(sl_wl_tech_nouns) +
			  4 * strlen(sl_wl_verbs) + 8 * (n_nouns + n_tech + n_verbs) +
			  strlen(sl_wl_irregular_verbs) + 16);
	v->zipf = malloc(sizeof(uint16_t) * ZIPF_SLOTS * SL_WL_LIST_COUNT);
	if (!v->words || !v->arena || !v->zipf)
		goto done;

	struct sl_wl_word *w = v->words;
	char *arena = v->arena;

	/* Nouns and their plurals, parallel. */
	struct sl_wl_word *nouns = w;
	split_words(sl_wl_nouns, nouns);
	struct sl_wl_word *nouns_pl = nouns + n_nouns;
	for (size_t i = 0; i < n_nouns; i++)
		nouns_pl[i] = add_s(&arena, &nouns[i]);
	struct sl_wl_word *tech = nouns_pl + n_nouns;
	split_words(sl_wl_tech_nouns, tech);
	struct sl_wl_word *tech_pl = tech + n_tech;
	for (size_t i = 0; i < n_tech; i++)
		tech_pl[i] = add_s(&arena, &tech[i]);

	/* Verbs: irregular ones first (they are the commonest), then the
	 * regular ones, each form list parallel to the base list. */
	struct sl_wl_word *vb = tech_pl + n_tech;
	struct sl_wl_word *vs = vb + n_all_verbs;
	struct sl_wl_word *ved = vs + n_all_verbs;
	struct sl_wl_word *ving = ved + n_all_verbs;
	size_t iv = 0;
	{
		/* The irregular table is copied so its groups can be split. */
		size_t len = strlen(sl_wl_irregular_verbs);
		char *copy = arena;
		memcpy(copy, sl_wl_irregular_verbs, len + 1);
		arena += len + 1;
		for (char *g = copy; g && *g; iv++) {
			char *bar = strchr(g, '|');
			if (bar)
				*bar = '\0';
			struct sl_wl_word forms[4] = { { 0 } };
			/* each group is exactly four words */
			uint32_t nf = split_words(g, forms);
			if (nf != 4) {
				rc = SL_EINVAL;
				goto done;
			}
			vb[iv] = forms[0];
			vs[iv] = forms[1];
			ved[iv] = forms[2];
			ving[iv] = forms[3];
			g = bar ? bar + 1 : NULL;
		}
	}
	split_words(sl_wl_verbs, vb + iv);
	for (size_t i = iv; i < n_all_verbs; i++) {
		vs[i] = add_s(&arena, &vb[i]);
		ved[i] = add_ed(&arena, &vb[i]);
		ving[i] = add_ing(&arena, &vb[i]);
	}

	struct sl_wl_word *adj = ving + n_all_verbs;
	split_words(sl_wl_adjectives, adj);
	struct sl_wl_word *adv = adj + n_adj;
	split_words(sl_wl_adverbs, adv);
	struct sl_wl_word *prep = adv + n_adv;
	split_words(sl_wl_prepositions, prep);
	struct sl_wl_word *det = prep + n_prep;
	split_words(sl_wl_determiners, det);
	struct sl_wl_word *proj = det + n_det;
	split_words(sl_wl_project_words, proj);
	struct sl_wl_word *jv = proj + n_proj;
	split_words(sl_wl_job_verbs, jv);
	struct sl_wl_word *user = jv + n_jv;
	split_words(sl_wl_users, user);

	struct { struct sl_wl_word *w; size_t n; int zipf_of; } spec[SL_WL_LIST_COUNT] = {
		[SL_WL_NOUN] = { nouns, n_nouns, SL_WL_NOUN },
		[SL_WL_NOUN_PL] = { nouns_pl, n_nouns, SL_WL_NOUN },
		[SL_WL_TECH] = { tech, n_tech, SL_WL_TECH },
		[SL_WL_TECH_PL] = { tech_pl, n_tech, SL_WL_TECH },
		[SL_WL_VERB] = { vb, n_all_verbs, SL_WL_VERB },
		[SL_WL_VERB_S] = { vs, n_all_verbs, SL_WL_VERB },
		[SL_WL_VERB_ED] = { ved, n_all_verbs, SL_WL_VERB },
		[SL_WL_VERB_ING] = { ving, n_all_verbs, SL_WL_VERB },
		[SL_WL_ADJ] = { adj, n_adj, SL_WL_ADJ },
		[SL_WL_ADV] = { adv, n_adv, SL_WL_ADV },
		[SL_WL_PREP] = { prep, n_prep, SL_WL_PREP },
		[SL_WL_DET] = { det, n_det, SL_WL_DET },
		[SL_WL_PROJECT] = { proj, n_proj, SL_WL_PROJECT },
		[SL_WL_JOB_VERB] = { jv, n_jv, SL_WL_JOB_VERB },
		[SL_WL_USER] = { user, n_user, SL_WL_USER },
	};
	for (int i = 0; i < SL_WL_LIST_COUNT; i++) {
		struct sl_wl_list *l = &v->lists[i];
		l->w = spec[i].w;
		l->n = (uint32_t)spec[i].n;
		if (l->n == 0 || l->n > 65535) {
			rc = SL_EINVAL;
			goto done;
		}
		if (spec[i].n <= UNIFORM_MAX)
			continue;
		uint16_t *table = v->zipf + (size_t)spec[i].zipf_of * ZIPF_SLOTS;
		if (spec[i].zipf_of == i)
			build_zipf(table, l->n);
		l->zipf = table;
	}
	*out = v;
	v = NULL;
	rc = SL_OK;
done:
	sl_wl_vocab_free(v);
	return rc;
}

void sl_wl_vocab_free(sl_wl_vocab *v)
{
	if (!v)
		return;
	free(v->words);
	free(v->arena);
	free(v->zipf);
	free(v);
}
