/* workload_internal.h: what the files of tools/workload/ share and nothing
 * outside it may use: the PRNG, the vocabulary tables (vocab.c), the prose
 * generator (text.c) and the config snapshot builder (config.c).
 */
#ifndef SL_WORKLOAD_INTERNAL_H
#define SL_WORKLOAD_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "workload.h"

/* ---- PRNG: xoshiro256** seeded through splitmix64 (never rand()). ---- */

struct sl_wl_rng {
	uint64_t s[4];
};

static inline uint64_t sl_wl_splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline void sl_wl_rng_seed(struct sl_wl_rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = sl_wl_splitmix64(&seed);
}

static inline uint64_t sl_wl_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static inline uint64_t sl_wl_rng_next(struct sl_wl_rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = sl_wl_rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = sl_wl_rotl(s[3], 45);
	return result;
}

/* Uniform in 0..n-1 (n > 0), Lemire's multiply-shift; the bias is far
 * below anything the workload could show. */
static inline uint32_t sl_wl_rng_below(struct sl_wl_rng *r, uint32_t n)
{
	return (uint32_t)(((sl_wl_rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* Uniform in lo..hi inclusive. */
static inline int64_t sl_wl_rng_range(struct sl_wl_rng *r, int64_t lo, int64_t hi)
{
	return lo + (int64_t)(sl_wl_rng_next(r) % (uint64_t)(hi - lo + 1));
}

/* Uniform in [0, 1). */
static inline double sl_wl_rng_unit(struct sl_wl_rng *r)
{
	return (double)(sl_wl_rng_next(r) >> 11) * 0x1.0p-53;
}

/* ---- Vocabulary (vocab.c) ---- */

enum sl_wl_category {
	SL_WL_CAT_RATE_LIMIT,
	SL_WL_CAT_TRANSIENT,
	SL_WL_CAT_VALIDATION,
	SL_WL_CAT_AUTH,
	SL_WL_CAT_NETWORK,
	SL_WL_CAT_TIMEOUT,
	SL_WL_CAT_SIGNAL,
	SL_WL_CAT_FATAL,
	SL_WL_CAT_CONFIGURATION,
	SL_WL_CAT_PREFLIGHT,
	SL_WL_CAT_ESCALATION,
	SL_WL_CAT_COUNT
};

extern const char sl_wl_nouns[];
extern const char sl_wl_tech_nouns[];
extern const char sl_wl_verbs[];
extern const char sl_wl_irregular_verbs[];
extern const char sl_wl_adjectives[];
extern const char sl_wl_adverbs[];
extern const char sl_wl_prepositions[];
extern const char sl_wl_determiners[];
extern const char sl_wl_project_words[];
extern const char sl_wl_job_verbs[];
extern const char sl_wl_users[];
extern const char *const sl_wl_sentences[];
extern const char *const sl_wl_agent_sentences[];
extern const char *const sl_wl_code[];
extern const char *const sl_wl_code_lines[];
extern const char *const sl_wl_code_heads[];
extern const char *const sl_wl_code_stmts[];
extern const char *const sl_wl_exceptions[];
extern const char *const sl_wl_commands[];
extern const char *const sl_wl_rules[];
extern const char *const sl_wl_learned[];
extern const char *const sl_wl_fail_messages[];
extern const char *const sl_wl_categories[];
extern const size_t sl_wl_n_sentences, sl_wl_n_agent_sentences, sl_wl_n_code,
	sl_wl_n_code_lines, sl_wl_n_exceptions, sl_wl_n_commands, sl_wl_n_rules,
	sl_wl_n_learned, sl_wl_n_code_heads, sl_wl_n_code_stmts;

/* ---- Prose (text.c) ---- */

/* A bounded output buffer: appends past `cap - 1` bytes are dropped, so
 * generation can never overflow; the text is NUL-terminated by
 * sl_wl_text_finish(). */
struct sl_wl_text {
	char *p;
	size_t len;
	size_t cap;
};

/* Names a job's prose talks about: its package, modules, functions and
 * classes, chosen when the job is created and reused in every prompt and
 * output of the job, as a real code base would be. */
#define SL_WL_CTX_MODULES 10
#define SL_WL_CTX_FUNCS 32
#define SL_WL_CTX_CLASSES 12
struct sl_wl_ctx {
	char package[48];           /* python package, snake_case */
	char workspace[96];         /* absolute path of the checkout */
	const char *modules[SL_WL_CTX_MODULES];
	char funcs[SL_WL_CTX_FUNCS][48];
	char classes[SL_WL_CTX_CLASSES][40];
};

/* The word lists, parsed and inflected from vocab.c (words.c).  Lists that
 * share a `zipf` table are parallel: index i is the same word in another
 * form (noun and plural; the four forms of a verb). */
enum sl_wl_list_id {
	SL_WL_NOUN, SL_WL_NOUN_PL, SL_WL_TECH, SL_WL_TECH_PL,
	SL_WL_VERB, SL_WL_VERB_S, SL_WL_VERB_ED, SL_WL_VERB_ING,
	SL_WL_ADJ, SL_WL_ADV, SL_WL_PREP, SL_WL_DET,
	SL_WL_PROJECT, SL_WL_JOB_VERB, SL_WL_USER,
	SL_WL_LIST_COUNT
};

struct sl_wl_word {
	const char *s;   /* not NUL-terminated in general: use len */
	uint32_t len;
};

/* Zipf sampling goes through a table of 2^SL_WL_ZIPF_BITS word indices in
 * which word k appears in proportion to its weight; one random number then
 * picks a word with no search. */
#define SL_WL_ZIPF_BITS 13

struct sl_wl_list {
	const struct sl_wl_word *w;
	uint32_t n;
	const uint16_t *zipf;  /* NULL: uniform */
};

typedef struct sl_wl_vocab {
	struct sl_wl_list lists[SL_WL_LIST_COUNT];
	struct sl_wl_word *words;  /* storage of every list */
	char *arena;               /* inflected forms */
	uint16_t *zipf;            /* storage of the tables */
} sl_wl_vocab;

int sl_wl_vocab_new(sl_wl_vocab **out);
void sl_wl_vocab_free(sl_wl_vocab *v);

static inline uint32_t sl_wl_pick_index(const sl_wl_vocab *v, struct sl_wl_rng *r,
					enum sl_wl_list_id id)
{
	const struct sl_wl_list *l = &v->lists[id];
	if (l->zipf)
		return l->zipf[sl_wl_rng_next(r) >> (64 - SL_WL_ZIPF_BITS)];
	return sl_wl_rng_below(r, l->n);
}

static inline const struct sl_wl_word *sl_wl_pick(const sl_wl_vocab *v, struct sl_wl_rng *r,
						  enum sl_wl_list_id id)
{
	return &v->lists[id].w[sl_wl_pick_index(v, r, id)];
}

/* Fills a job's context (package name given, the rest chosen). */
void sl_wl_ctx_init(struct sl_wl_ctx *ctx, const sl_wl_vocab *v, struct sl_wl_rng *r,
		    const char *package, const char *user);

/* What a sheet's prompt is about. */
struct sl_wl_sheet_text {
	uint64_t task_seed;      /* same for every attempt of the sheet */
	uint32_t sheet, total_sheets, attempt;
	const char *preamble;    /* the job's rendered prompt template */
	const char *prev_failure; /* message of the previous attempt, or NULL */
	const char *const *rules; /* the job's validation rules */
	uint32_t n_rules;
};

void sl_wl_text_reset(struct sl_wl_text *t, char *buf, size_t cap);
void sl_wl_text_finish(struct sl_wl_text *t);
void sl_wl_text_put(struct sl_wl_text *t, const char *s, size_t n);
/* Expands one pattern (slots as in text.c). */
void sl_wl_text_render(struct sl_wl_text *t, const sl_wl_vocab *v, struct sl_wl_rng *r,
		       const struct sl_wl_ctx *ctx, const char *pattern);
/* The job's prompt template rendered (the part every prompt of it repeats). */
void sl_wl_text_preamble(struct sl_wl_text *t, const sl_wl_vocab *v, struct sl_wl_rng *r,
			 const struct sl_wl_ctx *ctx);
/* A prompt of exactly `len` characters (or fewer when t->cap is smaller). */
void sl_wl_text_prompt(struct sl_wl_text *t, const sl_wl_vocab *v, struct sl_wl_rng *r,
		       const struct sl_wl_ctx *ctx, const struct sl_wl_sheet_text *st,
		       size_t len);
/* An agent's output of exactly `len` characters; `failing` makes errors and
 * tracebacks likelier. */
void sl_wl_text_output(struct sl_wl_text *t, const sl_wl_vocab *v, struct sl_wl_rng *r,
		       const struct sl_wl_ctx *ctx, int failing, size_t len);

/* ---- Config snapshot (config.c) ---- */

struct sl_wl_config {
	char *snapshot;        /* JSON text, malloc'd (free()) */
	uint32_t timeout_seconds;
	const char *rules[6];  /* the job's validation rules */
	uint32_t n_rules;
};

/* Builds a job's config snapshot (1-3 KB of JSON, Python separators) with
 * jansson.  SL_ENOMEM. */
int sl_wl_config_build(struct sl_wl_config *out, const sl_wl_vocab *v, struct sl_wl_rng *r,
		       const struct sl_wl_ctx *ctx, const char *name, const char *preamble,
		       uint32_t total_sheets);

#endif
