/* text.c: the English-like prose of prompts and agent outputs.
 *
 * Text is made by expanding patterns (vocab.c) whose slots are filled from
 * the word lists (words.c) and from the job's context (its package,
 * modules, functions, classes).  Prompts repeat the job's template and a
 * sheet's task on every attempt; outputs mix the agent's sentences with
 * commands and their output, Python code and tracebacks.  That mix, not
 * random bytes, is what gives the workload its compression ratio (with
 * zstd level 3 about 3.1x in 1 MiB chunks, 3.2x as one frame;
 * tests/tools/test_workload.c holds it to 2.6..3.4).  The section weights
 * in sl_wl_text_output() and the prompt layout are what move it.
 *
 * Pattern slots:
 *   %D determiner   %a a/an (agrees with the next word; eats one space)
 *   %N noun  %S plural noun  %T technical noun  %U plural technical noun
 *   %V verb  %Z verb, 3rd person  %E past  %G gerund
 *   %A adjective  %R adverb  %P preposition
 *   %F function  %M module  %c class  %J package  %W workspace   (the job's)
 *   %p source path  %t test path  %v variable name  %e exception type
 *   %n number  %l line number  %d a duration ("3.27")  %h a short commit hash
 *   %x an address ("0x7f3a2c1b9e40")  %i a log timestamp  %q a request id
 *   %s a short sentence, capitalized  %% a '%'
 *
 * Speed matters (the generator feeds benchmarks of 500k+ events/s): no
 * allocation, no printf; words are copied with memcpy from the tables.
 */
#include "workload_internal.h"

#include <assert.h>
#include <string.h>

void sl_wl_text_reset(struct sl_wl_text *t, char *buf, size_t cap)
{
	assert(cap > 0);
	t->p = buf;
	t->len = 0;
	t->cap = cap;
}

void sl_wl_text_finish(struct sl_wl_text *t)
{
	t->p[t->len] = '\0';
}

void sl_wl_text_put(struct sl_wl_text *t, const char *s, size_t n)
{
	size_t room = t->cap - 1 - t->len;
	if (n > room)
		n = room;
	memcpy(t->p + t->len, s, n);
	t->len += n;
}

static inline void put_str(struct sl_wl_text *t, const char *s)
{
	sl_wl_text_put(t, s, strlen(s));
}

static inline void put_char(struct sl_wl_text *t, char c)
{
	if (t->len + 1 < t->cap)
		t->p[t->len++] = c;
}

static void put_uint(struct sl_wl_text *t, uint64_t x)
{
	char tmp[24];
	int i = (int)sizeof(tmp);
	do {
		tmp[--i] = (char)('0' + x % 10);
		x /= 10;
	} while (x);
	sl_wl_text_put(t, tmp + i, sizeof(tmp) - (size_t)i);
}

struct render {
	struct sl_wl_text *t;
	const sl_wl_vocab *v;
	struct sl_wl_rng *r;
	const struct sl_wl_ctx *ctx;
	int article;  /* an "a"/"an" waits for the next word */
};

static int starts_with_vowel(const char *s)
{
	char c = s[0];
	return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u';
}

static void flush_article(struct render *rs, const char *next)
{
	if (!rs->article)
		return;
	rs->article = 0;
	if (next && starts_with_vowel(next))
		sl_wl_text_put(rs->t, "an ", 3);
	else
		sl_wl_text_put(rs->t, "a ", 2);
}

static inline void put_word(struct render *rs, const char *s, size_t n)
{
	if (rs->article)
		flush_article(rs, s);
	sl_wl_text_put(rs->t, s, n);
}

static inline void put_list_word(struct render *rs, enum sl_wl_list_id id)
{
	const struct sl_wl_word *w = sl_wl_pick(rs->v, rs->r, id);
	put_word(rs, w->s, w->len);
}

/* A word, now and then with a modifier before it ("the stale cache",
 * "silently returns"), so that no two sentences of a pattern run alike.
 * MODIFIER_IN_256 out of 256 words get one. */
#define MODIFIER_IN_256 40
static inline void modified_word(struct render *rs, enum sl_wl_list_id id,
				 enum sl_wl_list_id modifier)
{
	if ((sl_wl_rng_next(rs->r) >> 56) < MODIFIER_IN_256) {
		put_list_word(rs, modifier);
		put_char(rs->t, ' ');
	}
	put_list_word(rs, id);
}

static inline const char *pick_module(struct render *rs)
{
	return rs->ctx->modules[sl_wl_rng_below(rs->r, SL_WL_CTX_MODULES)];
}

/* Small numbers are commoner than large ones, as in real text. */
static void put_number(struct render *rs)
{
	uint64_t x = sl_wl_rng_next(rs->r);
	uint64_t n;
	switch (x & 3) {
	case 0:
	case 1: n = 1 + (x >> 8) % 9; break;
	case 2: n = 10 + (x >> 8) % 90; break;
	default: n = 100 + (x >> 8) % 900; break;
	}
	flush_article(rs, NULL);
	put_uint(rs->t, n);
}

static void put_hex(struct sl_wl_text *t, uint64_t x, int digits)
{
	static const char hex[] = "0123456789abcdef";
	char tmp[16];
	for (int i = digits - 1; i >= 0; i--) {
		tmp[i] = hex[x & 15];
		x >>= 4;
	}
	sl_wl_text_put(t, tmp, (size_t)digits);
}

/* Two digits, zero-padded. */
static void put_2(struct sl_wl_text *t, uint32_t x)
{
	char tmp[2] = { (char)('0' + x / 10 % 10), (char)('0' + x % 10) };
	sl_wl_text_put(t, tmp, 2);
}

static void put_timestamp(struct render *rs)
{
	uint64_t x = sl_wl_rng_next(rs->r);
	sl_wl_text_put(rs->t, "2026-", 5);
	put_2(rs->t, 1 + (uint32_t)(x % 12));
	put_char(rs->t, '-');
	put_2(rs->t, 1 + (uint32_t)(x >> 8) % 28);
	put_char(rs->t, ' ');
	put_2(rs->t, (uint32_t)(x >> 16) % 24);
	put_char(rs->t, ':');
	put_2(rs->t, (uint32_t)(x >> 24) % 60);
	put_char(rs->t, ':');
	put_2(rs->t, (uint32_t)(x >> 32) % 60);
	put_char(rs->t, ',');
	uint32_t ms = (uint32_t)(x >> 40) % 1000;
	put_char(rs->t, (char)('0' + ms / 100));
	put_2(rs->t, ms % 100);
}

static int is_python_keyword(const struct sl_wl_word *w)
{
	static const char *const keywords[] = { "return", "class", "import", "lambda", "pass" };
	for (size_t i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
		if (strlen(keywords[i]) == w->len && memcmp(keywords[i], w->s, w->len) == 0)
			return 1;
	return 0;
}

static void render(struct render *rs, const char *pattern);

static void capitalize_from(struct sl_wl_text *t, size_t at)
{
	if (at < t->len && t->p[at] >= 'a' && t->p[at] <= 'z')
		t->p[at] = (char)(t->p[at] - 'a' + 'A');
}

static void short_sentence(struct render *rs)
{
	size_t at = rs->t->len;
	render(rs, sl_wl_sentences[sl_wl_rng_below(rs->r, (uint32_t)sl_wl_n_sentences)]);
	capitalize_from(rs->t, at);
}

static void render(struct render *rs, const char *pattern)
{
	struct sl_wl_text *t = rs->t;
	const struct sl_wl_ctx *ctx = rs->ctx;
	for (const char *p = pattern; *p; p++) {
		if (*p != '%') {
			const char *q = p;
			while (*q && *q != '%')
				q++;
			flush_article(rs, NULL);
			sl_wl_text_put(t, p, (size_t)(q - p));
			p = q - 1;
			continue;
		}
		p++;
		assert(*p && "pattern ends with a lone %");
		switch (*p) {
		case 'D': put_list_word(rs, SL_WL_DET); break;
		case 'a':
			rs->article = 1;
			if (p[1] == ' ')
				p++;
			break;
		case 'N': modified_word(rs, SL_WL_NOUN, SL_WL_ADJ); break;
		case 'S': modified_word(rs, SL_WL_NOUN_PL, SL_WL_ADJ); break;
		case 'T': modified_word(rs, SL_WL_TECH, SL_WL_ADJ); break;
		case 'U': modified_word(rs, SL_WL_TECH_PL, SL_WL_ADJ); break;
		case 'V': put_list_word(rs, SL_WL_VERB); break;
		case 'Z': modified_word(rs, SL_WL_VERB_S, SL_WL_ADV); break;
		case 'E': modified_word(rs, SL_WL_VERB_ED, SL_WL_ADV); break;
		case 'G': put_list_word(rs, SL_WL_VERB_ING); break;
		case 'A': put_list_word(rs, SL_WL_ADJ); break;
		case 'R': put_list_word(rs, SL_WL_ADV); break;
		case 'P': put_list_word(rs, SL_WL_PREP); break;
		case 'F': {
			const char *f = ctx->funcs[sl_wl_rng_below(rs->r, SL_WL_CTX_FUNCS)];
			put_word(rs, f, strlen(f));
			break;
		}
		case 'M': {
			const char *m = pick_module(rs);
			put_word(rs, m, strlen(m));
			break;
		}
		case 'c': {
			const char *c = ctx->classes[sl_wl_rng_below(rs->r, SL_WL_CTX_CLASSES)];
			put_word(rs, c, strlen(c));
			break;
		}
		case 'J': put_word(rs, ctx->package, strlen(ctx->package)); break;
		case 'W': put_word(rs, ctx->workspace, strlen(ctx->workspace)); break;
		case 'p':
			flush_article(rs, NULL);
			put_str(t, "src/");
			put_str(t, ctx->package);
			put_char(t, '/');
			put_str(t, pick_module(rs));
			put_str(t, ".py");
			break;
		case 't':
			flush_article(rs, NULL);
			put_str(t, "tests/test_");
			put_str(t, pick_module(rs));
			put_str(t, ".py");
			break;
		case 'v': {
			/* a plain noun, or adjective_noun */
			uint32_t u = sl_wl_rng_below(rs->r, 10);
			if (u < 3) {
				put_list_word(rs, SL_WL_ADJ);
				put_char(t, '_');
			}
			const struct sl_wl_word *w = sl_wl_pick(rs->v, rs->r, SL_WL_TECH);
			put_word(rs, w->s, w->len);
			if (is_python_keyword(w))
				put_char(t, '_');   /* PEP 8: class_, not class */
			break;
		}
		case 'e': {
			const char *e = sl_wl_exceptions[sl_wl_rng_below(rs->r,
				(uint32_t)sl_wl_n_exceptions)];
			put_word(rs, e, strlen(e));
			break;
		}
		case 'n': put_number(rs); break;
		case 'l':
			flush_article(rs, NULL);
			put_uint(t, 10 + sl_wl_rng_below(rs->r, 700));
			break;
		case 'd': {
			uint64_t x = sl_wl_rng_next(rs->r);
			flush_article(rs, NULL);
			put_uint(t, x % 60);
			put_char(t, '.');
			put_2(t, (uint32_t)(x >> 32) % 100);
			break;
		}
		case 'h':
			flush_article(rs, NULL);
			put_hex(t, sl_wl_rng_next(rs->r), 7);
			break;
		case 'x':
			flush_article(rs, NULL);
			put_str(t, "0x7f");
			put_hex(t, sl_wl_rng_next(rs->r), 10);
			break;
		case 'i': flush_article(rs, NULL); put_timestamp(rs); break;
		case 'q': {
			uint64_t x = sl_wl_rng_next(rs->r);
			flush_article(rs, NULL);
			put_hex(t, x, 8);
			put_char(t, '-');
			put_hex(t, x >> 32, 4);
			break;
		}
		case 's': short_sentence(rs); break;
		case '%': put_char(t, '%'); break;
		default:
			assert(0 && "unknown pattern slot");
			break;
		}
	}
	flush_article(rs, NULL);
}

void sl_wl_text_render(struct sl_wl_text *t, const sl_wl_vocab *v, struct sl_wl_rng *r,
		       const struct sl_wl_ctx *ctx, const char *pattern)
{
	struct render rs = { t, v, r, ctx, 0 };
	render(&rs, pattern);
}

/* n sentences from `set`, then a blank line. */
static void sentences(struct render *rs, const char *const *set, size_t n_set, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		size_t at = rs->t->len;
		render(rs, set[sl_wl_rng_below(rs->r, (uint32_t)n_set)]);
		capitalize_from(rs->t, at);
		sl_wl_text_put(rs->t, i + 1 < n ? ". " : ".\n\n", i + 1 < n ? 2 : 3);
	}
}

static void task_paragraph(struct render *rs, uint32_t n)
{
	sentences(rs, sl_wl_sentences, sl_wl_n_sentences, n);
}

void sl_wl_text_preamble(struct sl_wl_text *t, const sl_wl_vocab *v, struct sl_wl_rng *r,
			 const struct sl_wl_ctx *ctx)
{
	struct render rs = { t, v, r, ctx, 0 };
	static const char *const openers[] = {
		"You are an autonomous coding agent working on the %J package in %W.",
		"You are working in the %J repository (%W).",
		"Act as a careful senior engineer on %J, checked out at %W.",
		"Your workspace is %W, a Python project named %J.",
	};
	render(&rs, openers[sl_wl_rng_below(r, 4)]);
}

/* ---- Fragments of agent output ---- */

static void traceback(struct render *rs)
{
	struct sl_wl_text *t = rs->t;
	put_str(t, "Traceback (most recent call last):\n");
	uint32_t frames = 2 + sl_wl_rng_below(rs->r, 3);
	for (uint32_t i = 0; i < frames; i++) {
		render(rs, "  File \"%W/src/%J/%M.py\", line %l, in %F\n    ");
		render(rs, sl_wl_code_lines[sl_wl_rng_below(rs->r, (uint32_t)sl_wl_n_code_lines)]);
		put_char(t, '\n');
	}
	if (sl_wl_rng_below(rs->r, 3) == 0)
		render(rs, "%e: <%J.%M.%c object at %x>: %s\n\n");
	else
		render(rs, "%e: %s\n\n");
}

/* Records of the job's data, as prompts quote samples and outputs print
 * query results: the ids, counts and times in them are what makes real
 * agent text less compressible than prose. */
static void data_block(struct render *rs)
{
	struct sl_wl_rng *r = rs->r;
	uint32_t n = 2 + sl_wl_rng_below(r, 5);
	if (sl_wl_rng_below(r, 2)) {
		put_str(rs->t, "```json\n[\n");
		for (uint32_t i = 0; i < n; i++) {
			render(rs, "  {\"id\": %l%n, \"%v\": \"%A\", \"%v\": %n.%n, "
				   "\"updated_at\": \"%i\", \"ref\": \"%q\"}");
			put_str(rs->t, i + 1 < n ? ",\n" : "\n");
		}
		put_str(rs->t, "]\n```\n\n");
	} else {
		render(rs, "```\nid,%v,%v,status,elapsed_ms,created_at\n");
		for (uint32_t i = 0; i < n; i++)
			render(rs, "%l%n,%n,%h,%A,%n%n,%i\n");
		put_str(rs->t, "```\n\n");
	}
}

static void code_stmt(struct render *rs)
{
	render(rs, sl_wl_code_stmts[sl_wl_rng_below(rs->r, (uint32_t)sl_wl_n_code_stmts)]);
}

/* A function made of statements (most often), a fixed fragment, or a
 * diff hunk. */
static void code_block(struct render *rs)
{
	struct sl_wl_rng *r = rs->r;
	uint32_t u = sl_wl_rng_below(r, 10);
	if (u < 2) {
		put_str(rs->t, "```diff\n");
		render(rs, "@@ -%l,%n +%l,%n @@ def %F(%v):\n");
		uint32_t n = 3 + sl_wl_rng_below(r, 6);
		for (uint32_t i = 0; i < n; i++) {
			static const char marks[] = " -+";
			put_char(rs->t, marks[sl_wl_rng_below(r, 3)]);
			code_stmt(rs);
		}
	} else {
		put_str(rs->t, "```python\n");
		if (u < 4) {
			render(rs, sl_wl_code[sl_wl_rng_below(r, (uint32_t)sl_wl_n_code)]);
		} else {
			render(rs, sl_wl_code_heads[sl_wl_rng_below(r, (uint32_t)sl_wl_n_code_heads)]);
			uint32_t n = 2 + sl_wl_rng_below(r, 6);
			for (uint32_t i = 0; i < n; i++)
				code_stmt(rs);
			render(rs, "    return %v\n");
		}
	}
	put_str(rs->t, "```\n\n");
}

/* Renders `line` n times. */
static void lines(struct render *rs, const char *line, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		render(rs, line);
}

/* `pytest -q` (quiet: no header) or a full session. */
static void pytest_output(struct render *rs, int quiet, int failing)
{
	struct sl_wl_text *t = rs->t;
	if (!quiet)
		render(rs, "============================= test session starts "
			   "==============================\n"
			   "platform linux -- Python 3.11.8, pytest-8.1.1, pluggy-1.4.0\n"
			   "rootdir: %W\nconfigfile: pyproject.toml\ncollected %n items\n\n");
	uint32_t files = 2 + sl_wl_rng_below(rs->r, 4);
	uint32_t bad = failing ? sl_wl_rng_below(rs->r, files) : files;
	for (uint32_t i = 0; i < files; i++) {
		render(rs, "%t ");
		uint32_t dots = 3 + sl_wl_rng_below(rs->r, 18);
		for (uint32_t d = 0; d < dots; d++)
			put_char(t, i == bad && d == dots / 2 ? 'F' : '.');
		put_str(t, " [");
		put_uint(t, (i + 1) * 100 / files);
		put_str(t, "%]\n");
	}
	if (failing) {
		render(rs, "\n=================================== FAILURES "
			   "===================================\n"
			   "________________________________ test_%F "
			   "________________________________\n\n"
			   "    def test_%F():\n"
			   ">       assert %F(%v) == %n\n"
			   "E       AssertionError: assert None == %n\n\n"
			   "%t:%l: AssertionError\n"
			   "=========================== short test summary info "
			   "============================\n"
			   "FAILED %t::test_%F - AssertionError: %s\n"
			   "========================= 1 failed, %n passed in %n.%ns "
			   "=========================\n");
	} else {
		if (sl_wl_rng_below(rs->r, 2))
			lines(rs, "%ds call     %t::test_%F\n", 3);
		render(rs, "============================== %n passed in %ds "
			   "==============================\n");
	}
}

static void command_output(struct render *rs, uint32_t cmd, int failing)
{
	uint32_t n = 1 + sl_wl_rng_below(rs->r, 5);
	int bad = failing || sl_wl_rng_below(rs->r, 3) == 0;
	switch (cmd) {
	case 0:
	case 1:
		pytest_output(rs, cmd == 0, failing);
		break;
	case 2:
		if (!bad) {
			put_str(rs->t, "All checks passed!\n");
			break;
		}
		for (uint32_t i = 0; i < n; i++) {
			switch (sl_wl_rng_below(rs->r, 3)) {
			case 0: render(rs, "%p:%l:%n: F401 [*] `%J.%M.%F` imported but unused\n"); break;
			case 1: render(rs, "%p:%l:%n: E501 Line too long (%n > 88)\n"); break;
			default: render(rs, "%p:%l:%n: F841 Local variable `%v` is assigned to but never used\n"); break;
			}
		}
		render(rs, "Found %n errors.\n[*] %n fixable with the `--fix` option.\n");
		break;
	case 3:
		if (!bad) {
			render(rs, "Success: no issues found in %n source files\n");
			break;
		}
		for (uint32_t i = 0; i < n; i++) {
			if (sl_wl_rng_below(rs->r, 2))
				render(rs, "%p:%l: error: Incompatible return value type (got \"%c\", "
					   "expected \"%c\")  [return-value]\n");
			else
				render(rs, "%p:%l: error: Item \"None\" of \"Optional[%c]\" has no "
					   "attribute \"%v\"  [union-attr]\n");
		}
		render(rs, "Found %n errors in %n files (checked %n source files)\n");
		break;
	case 4:
		lines(rs, " %p | %n ++++++----\n", n);
		render(rs, " %n files changed, %n insertions(+), %n deletions(-)\n");
		break;
	case 5:
		for (uint32_t i = 0; i < n; i++) {
			render(rs, "%p:%l:    ");
			render(rs, sl_wl_code_lines[sl_wl_rng_below(rs->r, (uint32_t)sl_wl_n_code_lines)]);
			put_char(rs->t, '\n');
		}
		break;
	case 6:
		for (uint32_t i = 0; i < n; i++) {
			switch (sl_wl_rng_below(rs->r, 3)) {
			case 0: render(rs, "%i INFO %J.%M: %s (request %q)\n"); break;
			case 1: render(rs, "%i DEBUG %J.%M: %G %v=%n in %dms\n"); break;
			default: render(rs, "%i WARNING %J.%M: %s\n"); break;
			}
		}
		if (failing)
			traceback(rs);
		break;
	case 9:
		lines(rs, "%h %s\n", n + 2);
		break;
	case 7:
		put_str(rs->t, "__init__.py\n");
		lines(rs, "%M.py\n", n);
		break;
	default:
		lines(rs, " M %p\n", n);
		render(rs, "?? %t\n");
		break;
	}
}

static void command_block(struct render *rs, int failing)
{
	uint32_t cmd = sl_wl_rng_below(rs->r, (uint32_t)sl_wl_n_commands);
	put_str(rs->t, "$ ");
	render(rs, sl_wl_commands[cmd]);
	put_char(rs->t, '\n');
	command_output(rs, cmd, failing);
	put_char(rs->t, '\n');
}

static void summary(struct render *rs)
{
	put_str(rs->t, "## Summary\n\n");
	uint32_t n = 2 + sl_wl_rng_below(rs->r, 3);
	for (uint32_t i = 0; i < n; i++) {
		switch (sl_wl_rng_below(rs->r, 3)) {
		case 0: render(rs, "- Updated `%p` to %V %D %A %T (commit %h).\n"); break;
		case 1: render(rs, "- Added tests in `%t` for `%F()`.\n"); break;
		default: render(rs, "- %s.\n"); break;
		}
	}
	put_char(rs->t, '\n');
}

/* Cuts to exactly `len` characters (when there are that many). */
static void cut(struct sl_wl_text *t, size_t len)
{
	if (t->len > len)
		t->len = len;
	sl_wl_text_finish(t);
}

void sl_wl_text_prompt(struct sl_wl_text *t, const sl_wl_vocab *v, struct sl_wl_rng *r,
		       const struct sl_wl_ctx *ctx, const struct sl_wl_sheet_text *st,
		       size_t len)
{
	/* The task, files and checks come from the sheet's own generator, so
	 * a retry repeats them, as an orchestrator re-rendering its template
	 * does. */
	struct sl_wl_rng tr;
	sl_wl_rng_seed(&tr, st->task_seed);
	struct render rs = { t, v, &tr, ctx, 0 };

	put_str(t, st->preamble);
	put_str(t, "\n\n## Sheet ");
	put_uint(t, st->sheet);
	put_str(t, " of ");
	put_uint(t, st->total_sheets);
	put_str(t, "\n\n");
	task_paragraph(&rs, 2 + sl_wl_rng_below(&tr, 3));
	put_str(t, "### Files\n\n");
	lines(&rs, "- `%p`\n", 1 + sl_wl_rng_below(&tr, 3));
	render(&rs, "- `%t`\n\n### Validation\n\n");
	for (uint32_t i = 0; i < st->n_rules; i++) {
		put_str(t, "- ");
		put_str(t, st->rules[i]);
		put_str(t, ": ");
		short_sentence(&rs);
		put_str(t, ".\n");
	}
	put_char(t, '\n');
	if (st->attempt > 1 && st->prev_failure) {
		put_str(t, "### Previous attempt\n\nAttempt ");
		put_uint(t, st->attempt - 1);
		put_str(t, " failed: ");
		put_str(t, st->prev_failure);
		put_str(t, "\nFix the cause of this failure first, then continue with the task.\n\n");
	}
	/* The rest is context gathered for this attempt (notes, samples), new
	 * on every attempt. */
	rs.r = r;
	if (sl_wl_rng_below(r, 2) == 0) {
		put_str(t, "### Sample records\n\n");
		data_block(&rs);
	}
	while (t->len < len && t->len + 1 < t->cap)
		task_paragraph(&rs, 2 + sl_wl_rng_below(r, 4));
	static const char *const closings[] = {
		"Run the tests before you finish.\n",
		"Summarize your changes when you are done.\n",
		"Follow docs/STYLE.md.\n",
		"Do not touch files outside %W.\n",
	};
	render(&rs, closings[sl_wl_rng_below(r, 4)]);
	cut(t, len);
}

void sl_wl_text_output(struct sl_wl_text *t, const sl_wl_vocab *v, struct sl_wl_rng *r,
		       const struct sl_wl_ctx *ctx, int failing, size_t len)
{
	struct render rs = { t, v, r, ctx, 0 };
	sentences(&rs, sl_wl_agent_sentences, sl_wl_n_agent_sentences, 1 + sl_wl_rng_below(r, 2));
	while (t->len < len && t->len + 1 < t->cap) {
		uint32_t u = sl_wl_rng_below(r, 100);
		/* percent of the sections: agent's words 30 (12 of them a
		 * traceback when the attempt fails), a command 12, code 12,
		 * data 16, task prose 26, a summary 4 */
		if (failing && u < 12)
			traceback(&rs);
		else if (u < 30)
			sentences(&rs, sl_wl_agent_sentences, sl_wl_n_agent_sentences,
				  2 + sl_wl_rng_below(r, 3));
		else if (u < 42)
			command_block(&rs, failing);
		else if (u < 54)
			code_block(&rs);
		else if (u < 70)
			data_block(&rs);
		else if (u < 96)
			task_paragraph(&rs, 2 + sl_wl_rng_below(r, 3));
		else
			summary(&rs);
	}
	cut(t, len);
}
