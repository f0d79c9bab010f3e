/* json_py.c: JSON as Python's json module reads it, on top of jansson.
 *
 * The original writes its JSON columns and state files with json.dumps()
 * and reads them with json.loads(), which take more than RFC 8259 and
 * jansson do: the words NaN, Infinity and -Infinity; integers of any size
 * and reals beyond a double (read as an infinity); \u escapes of lone
 * surrogates, and of NUL, in strings.  Such a document is still the
 * original's, and what it holds must come back exactly.
 *
 * sl_json_py_scan() finds those tokens without building anything.
 * sl_json_py_loadb() parses with jansson first; only when jansson refuses
 * the text are they replaced, in a copy, by marker strings jansson reads
 * ("\u0000" and the token's index: no string of the source can be one,
 * since every string of the source holding a NUL is itself replaced), and
 * the markers in the tree it gives are then replaced by raw nodes holding
 * the tokens' source text (a string holding NUL but no lone surrogate is
 * given as the string it is, as jansson gives it with JSON_ALLOW_NUL).
 * sl_json_dumps() writes a raw node's text as it is, so a value goes out as
 * it came in, in any magnitude or precision.
 *
 * A raw node is an object with one member, the key "\0raw" (four bytes)
 * and the token's text as a string: the parser never makes a key holding a
 * NUL, and no code of ours names one, so nothing else looks like it.  A key
 * holding a lone surrogate or a NUL is kept the same way: its object holds
 * it as the key "\0" followed by the key's source text, quotes included.
 * (In the copy, such a key is "\u0001\u0002" and its index, a key the
 * source cannot hold unless it holds the escape \u0001, in which case the
 * document is refused as jansson refuses it.)
 */
#include "event_json_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char raw_key[] = "\0raw";
#define RAW_KEY_LEN 4

bool sl_json_hex4(const char *s, size_t left, unsigned *out)
{
	unsigned v = 0;
	if (left < 4)
		return false;
	for (int i = 0; i < 4; i++) {
		char c = s[i];
		unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0')
			     : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
			     : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10) : 16u;
		if (d == 16)
			return false;
		v = v << 4 | d;
	}
	*out = v;
	return true;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

size_t sl_json_number_span(const char *s, size_t left)
{
	size_t i = 0;
	if (i < left && s[i] == '-')
		i++;
	if (i >= left || !is_digit(s[i]))
		return 0;
	if (s[i] == '0')
		i++;
	else
		while (i < left && is_digit(s[i]))
			i++;
	if (i + 1 < left && s[i] == '.' && is_digit(s[i + 1])) {
		i++;
		while (i < left && is_digit(s[i]))
			i++;
	}
	if (i < left && (s[i] == 'e' || s[i] == 'E')) {
		size_t j = i + 1;
		if (j < left && (s[j] == '+' || s[j] == '-'))
			j++;
		if (j < left && is_digit(s[j])) {
			while (j < left && is_digit(s[j]))
				j++;
			i = j;
		}
	}
	return i;
}

/* Whether jansson refuses the number s[0..n) as too large for it. */
static bool number_overflows(const char *s, size_t n)
{
	json_error_t e;
	json_t *v = json_loadb(s, n, JSON_DECODE_ANY, &e);
	json_decref(v);
	return !v && json_error_code(&e) == json_error_numeric_overflow;
}

/* The string token at s[0] == '"': its length with its quotes (0 when it is
 * not closed) and, in *what, SL_PY_SURROGATE and SL_PY_NUL for the escapes
 * it holds. */
static size_t string_span(const char *s, size_t len, unsigned *what)
{
	size_t i = 1;
	*what = 0;
	while (i < len && s[i] != '"') {
		unsigned u, lo;
		if (s[i] != '\\') {
			i++;
			continue;
		}
		if (i + 1 >= len || s[i + 1] != 'u' || !sl_json_hex4(s + i + 2, len - i - 2, &u)) {
			i += 2;
			continue;
		}
		if (u >= 0xd800 && u <= 0xdbff && i + 12 <= len && s[i + 6] == '\\' &&
		    s[i + 7] == 'u' && sl_json_hex4(s + i + 8, len - i - 8, &lo) &&
		    lo >= 0xdc00 && lo <= 0xdfff) {
			i += 12;        /* a pair: one code point */
			continue;
		}
		if (u >= 0xd800 && u <= 0xdfff)
			*what |= SL_PY_SURROGATE;
		else if (u == 0)
			*what |= SL_PY_NUL;
		i += 6;
	}
	return i < len ? i + 1 : 0;
}

int sl_json_py_scan(const char *s, size_t len, sl_json_py_fn fn, void *arg)
{
	static const struct { const char *word; size_t len; } words[] = {
		{ "NaN", 3 }, { "Infinity", 8 }, { "-Infinity", 9 },
	};
	size_t i = 0;
	while (i < len) {
		char c = s[i];
		if (c == '"') {
			unsigned what;
			size_t n = string_span(s + i, len - i, &what);
			if (!n)
				return 0;       /* not closed: jansson says so */
			if (what) {
				size_t j = i + n;
				while (j < len && is_space(s[j]))
					j++;
				int r = fn(arg, SL_PY_STRING, what, i, n, j < len && s[j] == ':');
				if (r)
					return r;
			}
			i += n;
			continue;
		}
		bool word = false;
		for (size_t w = 0; w < sizeof words / sizeof words[0] && !word; w++) {
			if (len - i < words[w].len || memcmp(s + i, words[w].word, words[w].len) != 0)
				continue;
			int r = fn(arg, SL_PY_WORD, 0, i, words[w].len, false);
			if (r)
				return r;
			i += words[w].len;
			word = true;
		}
		if (word)
			continue;
		size_t n = c == '-' || is_digit(c) ? sl_json_number_span(s + i, len - i) : 0;
		if (n && number_overflows(s + i, n)) {
			int r = fn(arg, SL_PY_NUMBER, 0, i, n, false);
			if (r)
				return r;
		}
		i += n ? n : 1;
	}
	return 0;
}

/* ---- raw nodes ------------------------------------------------------------ */

json_t *sl_json_raw(const char *text, size_t len)
{
	json_t *o = json_object(), *s = json_stringn(text, len);
	if (!o || !s || json_object_setn_new(o, raw_key, RAW_KEY_LEN, s) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

const char *sl_json_raw_text(const json_t *cv, size_t *len)
{
	json_t *v = (json_t *)cv;       /* iteration takes non-const; nothing changes */
	if (!json_is_object(v) || json_object_size(v) != 1)
		return NULL;
	void *it = json_object_iter(v);
	if (json_object_iter_key_len(it) != RAW_KEY_LEN ||
	    memcmp(json_object_iter_key(it), raw_key, RAW_KEY_LEN) != 0)
		return NULL;
	json_t *s = json_object_iter_value(it);
	if (!json_is_string(s))
		return NULL;
	if (len)
		*len = json_string_length(s);
	return json_string_value(s);
}

/* ---- parsing ---------------------------------------------------------------- */

struct span {
	size_t at, n;                   /* the token in the text */
	size_t marker_at, marker_n;     /* its marker in the copy */
};

struct marking {
	const char *text;
	size_t len;
	size_t flags;
	FILE *out;                      /* the copy with markers */
	size_t done;                    /* text[0..done) is in out */
	struct span *spans;
	size_t n_spans, cap;
	const char *refusal;            /* why a token is refused, if one is */
	enum json_error_code refused_code;
	size_t refused_end;             /* where that token ends */
};

/* Whether text[0..len) holds the escape \u0001, in any case. */
static bool holds_u0001(const char *text, size_t len)
{
	unsigned u;
	for (size_t i = 0; i + 6 <= len; i++)
		if (text[i] == '\\' && text[i + 1] == 'u' &&
		    sl_json_hex4(text + i + 2, len - i - 2, &u) && u == 1)
			return true;
	return false;
}

static int mark(void *arg, enum sl_py_token kind, unsigned what, size_t at, size_t n, bool key)
{
	struct marking *m = arg;
	if (kind == SL_PY_STRING && (what & SL_PY_NUL) && !(m->flags & JSON_ALLOW_NUL)) {
		m->refusal = "\\u0000 (NUL) is not allowed in a string";
		m->refused_code = json_error_null_character;
	} else if (key && holds_u0001(m->text, m->len)) {
		m->refused_code = json_error_invalid_syntax;
		m->refusal = "a key holding a lone surrogate or \\u0000 in a document that also "
			     "holds \\u0001 is not supported";
	}
	if (m->refusal) {
		m->refused_end = at + n;
		return SL_EINVAL;
	}
	if (m->n_spans == m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 8;
		struct span *w = realloc(m->spans, cap * sizeof *w);
		if (!w)
			return SL_ENOMEM;
		m->spans = w;
		m->cap = cap;
	}
	fwrite(m->text + m->done, 1, at - m->done, m->out);
	long before = ftell(m->out);
	fprintf(m->out, key ? "\"\\u0001\\u0002%zu\"" : "\"\\u0000%zu\"", m->n_spans);
	long after = ftell(m->out);
	if (before < 0 || after < 0)
		return SL_ENOMEM;
	m->spans[m->n_spans++] = (struct span){ at, n, (size_t)before, (size_t)(after - before) };
	m->done = at + n;
	return 0;
}

/* Sets err's line and column (in characters, as jansson counts them) and
 * position for offset pos of the text. */
static void place_error(json_error_t *err, const struct marking *m, size_t pos)
{
	int line = 1, column = 0;
	for (size_t i = 0; i < pos; i++) {
		unsigned char c = (unsigned char)m->text[i];
		if (c == '\n') {
			line++;
			column = 0;
		} else if ((c & 0xc0) != 0x80) {
			column++;
		}
	}
	err->position = (int)pos;
	err->line = line;
	err->column = column;
}

/* err, filled by jansson for the copy, made to point into the text: its
 * offset moved back over the markers before it. */
static void error_in_text(json_error_t *err, const struct marking *m)
{
	size_t pos = (size_t)err->position;
	long shift = 0;
	for (size_t i = 0; i < m->n_spans && m->spans[i].marker_at < pos; i++) {
		const struct span *sp = &m->spans[i];
		if (pos < sp->marker_at + sp->marker_n) {
			/* Inside a marker: the token's start. */
			shift = (long)sp->marker_at - (long)sp->at;
			pos = sp->marker_at;
			break;
		}
		shift = (long)(sp->marker_at + sp->marker_n) - (long)(sp->at + sp->n);
	}
	pos = (size_t)((long)pos - shift);
	place_error(err, m, pos > m->len ? m->len : pos);
}

/* A copy of object v (its values already unmarked) with its marker keys
 * replaced by raw keys, in the same order.  NULL when out of memory. */
static json_t *rekeyed(json_t *v, const struct marking *m)
{
	json_t *o = json_object();
	char *key = NULL;
	for (void *it = json_object_iter(v); o && it; it = json_object_iter_next(v, it)) {
		const char *k = json_object_iter_key(it);
		size_t kl = json_object_iter_key_len(it), i;
		if (strncmp(k, "\x01\x02", 2) == 0 && (i = strtoul(k + 2, NULL, 10)) < m->n_spans) {
			const struct span *sp = &m->spans[i];
			char *w = realloc(key, sp->n + 1);
			if (!w)
				goto oom;
			key = w;
			key[0] = '\0';
			memcpy(key + 1, m->text + sp->at, sp->n);
			k = key;
			kl = sp->n + 1;
		}
		if (json_object_setn_new(o, k, kl, json_incref(json_object_iter_value(it))) != 0)
			goto oom;
	}
	free(key);
	return o;
oom:
	free(key);
	json_decref(o);
	return NULL;
}

/* v with its markers replaced by raw nodes: a new reference, or v's own
 * when it is not a marker (its members replaced in place).  NULL when out
 * of memory. */
static json_t *unmark(json_t *v, const struct marking *m)
{
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		if (json_string_length(v) < 2 || s[0] != '\0')
			return json_incref(v);
		size_t k = strtoul(s + 1, NULL, 10);
		if (k >= m->n_spans)
			return json_incref(v);
		const struct span *sp = &m->spans[k];
		if (m->text[sp->at] == '"') {
			/* A string jansson holds once NUL is allowed (it has no lone
			 * surrogate) is a string, as it is where the whole text
			 * parses at once. */
			json_t *str = json_loadb(m->text + sp->at, sp->n,
						 JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
			if (str)
				return str;
		}
		return sl_json_raw(m->text + sp->at, sp->n);
	}
	if (json_is_array(v)) {
		for (size_t i = 0; i < json_array_size(v); i++) {
			json_t *w = unmark(json_array_get(v, i), m);
			if (!w || json_array_set_new(v, i, w) != 0)
				return NULL;
		}
	} else if (json_is_object(v)) {
		bool keys = false;
		for (void *it = json_object_iter(v); it; it = json_object_iter_next(v, it)) {
			json_t *w = unmark(json_object_iter_value(it), m);
			if (!w || json_object_iter_set_new(v, it, w) != 0)
				return NULL;
			keys |= strncmp(json_object_iter_key(it), "\x01\x02", 2) == 0;
		}
		if (keys)
			return rekeyed(v, m);
	}
	return json_incref(v);
}

int sl_json_py_loadb(const char *text, size_t len, size_t flags, json_t **out,
		     json_error_t *err)
{
	*out = json_loadb(text, len, flags, err);
	if (*out)
		return SL_OK;
	if (json_error_code(err) == json_error_out_of_memory)
		return SL_ENOMEM;
	char *copy = NULL;
	size_t copy_len = 0;
	struct marking m = { .text = text, .len = len, .flags = flags };
	if (!(m.out = open_memstream(&copy, &copy_len)))
		return SL_ENOMEM;
	int rc = sl_json_py_scan(text, len, mark, &m);
	fwrite(text + m.done, 1, len - m.done, m.out);
	if (fclose(m.out) != 0 && rc == SL_OK)
		rc = SL_ENOMEM;
	if (m.refusal) {
		/* Said as jansson says it (json_error_code() reads the last byte). */
		snprintf(err->text, sizeof err->text, "%s", m.refusal);
		err->text[sizeof err->text - 1] = (char)m.refused_code;
		place_error(err, &m, m.refused_end);
	}
	if (rc != SL_OK || !m.n_spans) {
		/* Nothing Python reads and jansson does not: jansson's error. */
		free(copy);
		free(m.spans);
		return rc == SL_OK ? SL_EINVAL : rc;
	}
	json_error_t e2;
	json_t *marked = json_loadb(copy, copy_len, flags | JSON_ALLOW_NUL, &e2);
	free(copy);
	if (!marked) {
		/* Wrong for another reason, which is then what is said, at its
		 * place in the text as given. */
		rc = json_error_code(&e2) == json_error_out_of_memory ? SL_ENOMEM : SL_EINVAL;
		if (rc == SL_EINVAL) {
			error_in_text(&e2, &m);
			*err = e2;
		}
		free(m.spans);
		return rc;
	}
	*out = unmark(marked, &m);
	json_decref(marked);
	free(m.spans);
	return *out ? SL_OK : SL_ENOMEM;
}
