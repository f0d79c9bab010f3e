/* jsonshape.c: the shapes the original's model gives its JSON columns
 * (constraints.c lists them per column), checked the way the original
 * reads them: Python's json module, then pydantic in its default (lax)
 * mode.  sl_json_shape_fast() and sl_json_shape_full() (model_internal.h)
 * are called by sl_state_column_check() only.
 *
 * Reading a value as pydantic does in its default (lax) mode, inside the
 * JSON columns:
 *   a boolean  true, false, the numbers 0 and 1 (also 0.0, 1.0), or the
 *              strings "0", "1", and, in any case, f, n, no, off, false, t,
 *              y, yes, on, true;
 *   a number   any JSON number, true or false, or a string that reads as a
 *              float (spaces around allowed, '_' between digits, inf,
 *              infinity, nan in any case);
 *   a string   a JSON string only.
 *
 * JSON as Python's json module writes and reads it: NaN, Infinity and
 * -Infinity are numbers; integers and reals of any size are numbers; \u
 * escapes of lone surrogates and of NUL are text.  jansson reads none of
 * these: sl_json_py_loadb() gives them as raw nodes, and each is then
 * replaced by a value of its kind (a NaN, an infinity or a number too large
 * for a double by the number 2, which is a number, true in Python and
 * neither 0 nor 1, like each of them; a string by U+FFFD).  Shapes are all
 * that is looked at, so the replacement changes no answer; positions in a
 * "not valid JSON" reason are those of the original text.
 *
 * jansson builds a tree (a hash table per object) and takes microseconds
 * for a small document; every JSON value of every event is checked, in a
 * rebuild too, so a document goes first through a scanner that builds
 * nothing and may only say "certainly accepted": plain JSON (no \u escape
 * of a surrogate or NUL, none in a key of a typed object, no exponent, no
 * long number, nesting under 32) whose shape is plainly right.  Anything
 * else, and every refusal with its reason, is jansson's (test_constraints.c
 * checks on mutated documents that the scanner never accepts what jansson
 * refuses).
 */
#include "model_internal.h"

#include "event_json_internal.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_FLAGS (JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL)

/* ---- reading JSON as Python does ---------------------------------------- */

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* v with every raw node (what Python reads and jansson cannot hold) given
 * the shape of its kind: a string is "\ufffd"; NaN, an infinity or a number
 * too large is the number 2, which is a number, true in Python and neither
 * 0 nor 1, like each of them.  A new reference; NULL when out of memory. */
static json_t *shaped(json_t *v)
{
	const char *raw = sl_json_raw_text(v, NULL);
	if (raw)
		return raw[0] == '"' ? json_string("\xef\xbf\xbd") : json_real(2.0);
	if (json_is_array(v)) {
		for (size_t i = 0; i < json_array_size(v); i++) {
			json_t *w = shaped(json_array_get(v, i));
			if (!w || json_array_set_new(v, i, w) != 0)
				return NULL;
		}
	} else if (json_is_object(v)) {
		for (void *it = json_object_iter(v); it; it = json_object_iter_next(v, it)) {
			json_t *w = shaped(json_object_iter_value(it));
			if (!w || json_object_iter_set_new(v, it, w) != 0)
				return NULL;
		}
	}
	return json_incref(v);
}

/* *doc = text parsed as Python's json.loads() would read it, shapes kept
 * (see the file comment).  SL_EINVAL with err filled when it is not JSON;
 * SL_ENOMEM. */
static int load_json(const char *text, json_t **doc, json_error_t *err)
{
	json_t *v;
	int rc = sl_json_py_loadb(text, strlen(text), JSON_FLAGS, &v, err);
	if (rc != SL_OK)
		return rc;
	*doc = shaped(v);
	json_decref(v);
	return *doc ? SL_OK : SL_ENOMEM;
}

/* ---- pydantic's lax reading of scalars ---------------------------------- */

/* Whether s[0..n) equals the lower-case word w[0..n) in any ASCII case (not
 * strncasecmp: that follows the locale). */
static bool ascii_word(const char *s, const char *w, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] - 'A' + 'a') : s[i];
		if (c != w[i])
			return false;
	}
	return true;
}

static bool is_space(char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

/* Whether the text s[0..len) is one pydantic reads as a boolean. */
static bool bool_text(const char *s, size_t len)
{
	static const char *const words[] = {
		"f", "n", "no", "off", "false", "t", "y", "yes", "on", "true",
	};
	if (len == 1 && (s[0] == '0' || s[0] == '1'))
		return true;
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
		if (strlen(words[i]) == len && ascii_word(s, words[i], len))
			return true;
	return false;
}

static bool lax_bool(const json_t *v)
{
	if (json_is_boolean(v))
		return true;
	if (json_is_real(v))    /* every number: JSON_DECODE_INT_AS_REAL */
		return json_real_value(v) == 0.0 || json_real_value(v) == 1.0;
	return json_is_string(v) && bool_text(json_string_value(v), json_string_length(v));
}

/* Whether s[0..len) reads as a float the way pydantic reads a string for a
 * float field (Rust's f64 parser on the trimmed text; '_' allowed between
 * two digits). */
static bool float_text(const char *s, size_t len)
{
	while (len && is_space(*s))
		s++, len--;
	while (len && is_space(s[len - 1]))
		len--;
	for (size_t k = 0; k < len; k++)
		if (s[k] == '_' && (k == 0 || k + 1 == len || !is_digit(s[k - 1]) ||
				    !is_digit(s[k + 1])))
			return false;
	size_t i = 0;
	if (i < len && (s[i] == '+' || s[i] == '-'))
		i++;
	size_t rest = len - i;
	if ((rest == 3 && ascii_word(s + i, "inf", 3)) ||
	    (rest == 8 && ascii_word(s + i, "infinity", 8)) ||
	    (rest == 3 && ascii_word(s + i, "nan", 3)))
		return true;
	size_t digits = 0;
	for (; i < len && (is_digit(s[i]) || s[i] == '_'); i++)
		digits += s[i] != '_';
	if (i < len && s[i] == '.')
		for (i++; i < len && (is_digit(s[i]) || s[i] == '_'); i++)
			digits += s[i] != '_';
	if (digits == 0)
		return false;
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		size_t exp_digits = 0;
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		for (; i < len && (is_digit(s[i]) || s[i] == '_'); i++)
			exp_digits += s[i] != '_';
		if (exp_digits == 0)
			return false;
	}
	return i == len;
}

static bool lax_number(const json_t *v)
{
	if (json_is_real(v) || json_is_boolean(v))
		return true;
	return json_is_string(v) && float_text(json_string_value(v), json_string_length(v));
}

/* What v is, for a reason: "null", "true", "a number", "the string 'x'". */
static const char *describe(const json_t *v, char buf[SL_QUOTE_SIZE + 16])
{
	char q[SL_QUOTE_SIZE];
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "a list";
	case JSON_STRING:
		snprintf(buf, SL_QUOTE_SIZE + 16, "the string %s", sl_quote(q, json_string_value(v)));
		return buf;
	case JSON_INTEGER:
	case JSON_REAL: return "a number";
	case JSON_TRUE: return "true";
	case JSON_FALSE: return "false";
	default: return "null";
	}
}

/* ---- the fast path: accept plain documents without building them ------ */

/* What the scanner saw of a value. */
enum scanned {
	SC_NULL, SC_TRUE, SC_FALSE, SC_ZERO, SC_ONE, SC_NUMBER, SC_STRING, SC_LIST, SC_OBJECT,
};

struct scan {
	const char *p, *end;
	int depth;
	/* SC_STRING: the raw bytes between the quotes; plain: without escapes;
	 * u: with a \u escape (which could spell any name). */
	const char *str;
	size_t str_len;
	bool plain, u;
	bool empty;             /* SC_LIST, SC_OBJECT, SC_STRING with nothing in it */
};

#define SCAN_MAX_DEPTH 32

static void scan_ws(struct scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

/* At a container's opening character: 1 when it was taken (and the white
 * space after it) and a member or an element follows, 0 when the container
 * is empty (its closing character taken too), -1 when it is nested too
 * deep. */
static int scan_open(struct scan *s, char close)
{
	if (s->depth + 1 > SCAN_MAX_DEPTH)
		return -1;
	s->p++;
	scan_ws(s);
	if (s->p < s->end && *s->p == close) {
		s->p++;
		return 0;
	}
	s->depth++;
	return 1;
}

/* After an object's key: the ':' and the white space around it. */
static bool scan_colon(struct scan *s)
{
	scan_ws(s);
	if (s->p >= s->end || *s->p != ':')
		return false;
	s->p++;
	scan_ws(s);
	return true;
}

/* After a member or an element: 1 when a ',' (and the white space after it)
 * was taken and another follows, 0 when the container's closing character
 * was, -1 for anything else. */
static int scan_more(struct scan *s, char close)
{
	scan_ws(s);
	if (s->p < s->end && *s->p == ',') {
		s->p++;
		scan_ws(s);
		return 1;
	}
	if (s->p < s->end && *s->p == close) {
		s->p++;
		return 0;
	}
	return -1;
}

/* A string at s->p ('"').  False when it is not plainly valid: a \u escape
 * of a surrogate or of NUL (for jansson's path), a control byte, no end. */
static bool scan_string(struct scan *s)
{
	const char *p = s->p + 1;
	s->plain = true;
	s->u = false;
	s->str = p;
	while (p < s->end) {
		unsigned char c = (unsigned char)*p;
		if (c == '"') {
			s->str_len = (size_t)(p - s->str);
			s->empty = s->str_len == 0;
			s->p = p + 1;
			return true;
		}
		if (c < 0x20)
			return false;
		if (c == '\\') {
			unsigned u;
			if (p + 1 < s->end && p[1] == 'u' &&
			    sl_json_hex4(p + 2, (size_t)(s->end - p - 2), &u) && u != 0 &&
			    (u < 0xd800 || u > 0xdfff)) {
				s->plain = false;
				s->u = true;
				p += 6;
				continue;
			}
			if (p + 1 >= s->end || p[1] == 'u' || !strchr("\"\\/bfnrt", p[1]) ||
			    p[1] == '\0')
				return false;
			s->plain = false;
			p += 2;
			continue;
		}
		p++;
	}
	return false;
}

/* A number: the JSON grammar, at most 15 digits in each part, no exponent
 * (what a double holds exactly enough to tell 0 and 1; the rest is for
 * jansson's path).  *out: SC_ZERO, SC_ONE or SC_NUMBER. */
static bool scan_number(struct scan *s, enum scanned *out)
{
	const char *p = s->p;
	bool neg = false, zero = true, one_int = false;
	if (*p == '-')
		neg = true, p++;
	const char *int_start = p;
	if (p < s->end && *p == '0')
		p++;
	else
		while (p < s->end && is_digit(*p))
			p++;
	size_t int_len = (size_t)(p - int_start);
	if (int_len == 0 || int_len > 15)
		return false;
	for (const char *q = int_start; q < p; q++)
		zero = zero && *q == '0';
	one_int = int_len == 1 && *int_start == '1';
	if (p < s->end && *p == '.') {
		const char *frac = ++p;
		while (p < s->end && is_digit(*p)) {
			zero = zero && *p == '0';
			one_int = one_int && *p == '0';
			p++;
		}
		if (p == frac || p - frac > 15)
			return false;
	}
	if (p < s->end && (*p == 'e' || *p == 'E'))
		return false;
	*out = zero ? SC_ZERO : one_int && !neg ? SC_ONE : SC_NUMBER;
	s->p = p;
	return true;
}

static bool scan_value(struct scan *s, enum scanned *out);

/* A list or an object at s->p, every value in it skipped. */
static bool scan_container(struct scan *s, enum scanned *out)
{
	bool object = *s->p == '{';
	char close = object ? '}' : ']';
	enum scanned v;
	if (++s->depth > SCAN_MAX_DEPTH)
		return false;
	s->p++;
	scan_ws(s);
	bool empty = s->p < s->end && *s->p == close;
	if (empty) {
		s->p++;
	} else {
		for (;;) {
			if (object) {
				if (s->p >= s->end || *s->p != '"' || !scan_string(s))
					return false;
				if (!scan_colon(s))
					return false;
			}
			if (!scan_value(s, &v))
				return false;
			int more = scan_more(s, close);
			if (more > 0)
				continue;
			if (more < 0)
				return false;
			break;
		}
	}
	s->depth--;
	s->empty = empty;
	*out = object ? SC_OBJECT : SC_LIST;
	return true;
}

/* Any value at s->p (after white space). */
static bool scan_value(struct scan *s, enum scanned *out)
{
	if (s->p >= s->end)
		return false;
	size_t left = (size_t)(s->end - s->p);
	switch (*s->p) {
	case '"':
		*out = SC_STRING;
		return scan_string(s);
	case '[':
	case '{':
		return scan_container(s, out);
	case 't':
		if (left < 4 || memcmp(s->p, "true", 4) != 0)
			return false;
		s->p += 4;
		*out = SC_TRUE;
		return true;
	case 'f':
		if (left < 5 || memcmp(s->p, "false", 5) != 0)
			return false;
		s->p += 5;
		*out = SC_FALSE;
		return true;
	case 'n':
		if (left < 4 || memcmp(s->p, "null", 4) != 0)
			return false;
		s->p += 4;
		*out = SC_NULL;
		return true;
	default:
		return (*s->p == '-' || is_digit(*s->p)) && scan_number(s, out);
	}
}

static bool scan_end(struct scan *s)
{
	scan_ws(s);
	return s->p == s->end;
}

/* ---- the JSON columns -------------------------------------------------- */

enum lax { LAX_STR, LAX_STR_OR_NULL, LAX_NUMBER, LAX_BOOL, LAX_NUMBER_MAP };

struct typed_key {
	const char *key;
	size_t len;             /* strlen(key), for the scanner */
	enum lax type;
};

#define KEY(k, t) { k, sizeof k - 1, t }

/* ValidationDetailDict; `passed` (the one required key) first. */
static const struct typed_key detail_keys[] = {
	KEY("passed", LAX_BOOL),
	KEY("rule_type", LAX_STR), KEY("description", LAX_STR_OR_NULL),
	KEY("path", LAX_STR_OR_NULL), KEY("pattern", LAX_STR_OR_NULL),
	KEY("actual_value", LAX_STR_OR_NULL), KEY("expected_value", LAX_STR_OR_NULL),
	KEY("error_message", LAX_STR_OR_NULL), KEY("checked_at", LAX_STR),
	KEY("check_duration_ms", LAX_NUMBER), KEY("confidence", LAX_NUMBER),
	KEY("confidence_factors", LAX_NUMBER_MAP), KEY("failure_reason", LAX_STR_OR_NULL),
	KEY("failure_category", LAX_STR_OR_NULL), KEY("suggested_fix", LAX_STR_OR_NULL),
	KEY("error_type", LAX_STR_OR_NULL),
};

/* OutcomeDataDict. */
static const struct typed_key outcome_keys[] = {
	KEY("escalation_record_id", LAX_STR), KEY("escalation_skipped", LAX_BOOL),
};

static const char *lax_name(enum lax t)
{
	switch (t) {
	case LAX_STR: return "a string";
	case LAX_STR_OR_NULL: return "a string or null";
	case LAX_BOOL: return "a boolean";
	default: return "a number";
	}
}

/* ---- the fast path's shapes --------------------------------------------- */

/* Whether a scanned value is certainly what lax type t accepts. */
static bool fast_lax(const struct scan *s, enum scanned v, enum lax t)
{
	switch (t) {
	case LAX_STR: return v == SC_STRING;
	case LAX_STR_OR_NULL: return v == SC_STRING || v == SC_NULL;
	case LAX_BOOL:
		if (v == SC_TRUE || v == SC_FALSE || v == SC_ZERO || v == SC_ONE)
			return true;
		return v == SC_STRING && s->plain && bool_text(s->str, s->str_len);
	case LAX_NUMBER:
		if (v == SC_ZERO || v == SC_ONE || v == SC_NUMBER || v == SC_TRUE || v == SC_FALSE)
			return true;
		return v == SC_STRING && s->plain && float_text(s->str, s->str_len);
	default:
		return false;
	}
}

/* An object at s->p ('{') of numbers (a dict[str, float]). */
static bool fast_number_map(struct scan *s)
{
	enum scanned v;
	int open = scan_open(s, '}');
	if (open <= 0)
		return open == 0;
	for (;;) {
		if (s->p >= s->end || *s->p != '"' || !scan_string(s))
			return false;
		if (!scan_colon(s))
			return false;
		if (!scan_value(s, &v) || !fast_lax(s, v, LAX_NUMBER))
			return false;
		int more = scan_more(s, '}');
		if (more > 0)
			continue;
		s->depth--;
		return more == 0;
	}
}

/* An object at s->p ('{') whose keys are free but for `keys`, each of
 * which, when present (once), must have its type (an object of numbers
 * for LAX_NUMBER_MAP); required: keys[0] must be there.  A key with an
 * escape is taken for another key (no escape but \u, which the scanner
 * leaves to jansson, can spell one of these names). */
static bool fast_object(struct scan *s, const struct typed_key *keys, size_t n, bool required)
{
	uint32_t seen = 0;
	enum scanned v;
	if (++s->depth > SCAN_MAX_DEPTH)
		return false;
	s->p++;
	scan_ws(s);
	if (s->p < s->end && *s->p == '}') {
		s->p++;
		s->depth--;
		return !required;
	}
	for (;;) {
		if (s->p >= s->end || *s->p != '"' || !scan_string(s) || s->u)
			return false;
		size_t k = n;
		for (size_t i = 0; s->plain && i < n; i++)
			if (keys[i].len == s->str_len && keys[i].key[0] == s->str[0] &&
			    memcmp(keys[i].key, s->str, s->str_len) == 0) {
				k = i;
				break;
			}
		if (!scan_colon(s))
			return false;
		if (k < n && keys[k].type == LAX_NUMBER_MAP) {
			if (s->p >= s->end || *s->p != '{' || !fast_number_map(s))
				return false;
		} else if (!scan_value(s, &v) || (k < n && !fast_lax(s, v, keys[k].type))) {
			return false;
		}
		if (k < n) {
			if (seen & (UINT32_C(1) << k))
				return false;           /* a key twice: jansson's path */
			seen |= UINT32_C(1) << k;
		}
		int more = scan_more(s, '}');
		if (more > 0)
			continue;
		if (more < 0)
			return false;
		break;
	}
	s->depth--;
	return !required || (seen & 1);
}

/* A list at s->p ('[') of strings (kind SL_CHECK_JSON_TEXT_LIST) or of
 * ValidationDetailDicts. */
static bool fast_list(struct scan *s, enum sl_column_check kind)
{
	enum scanned v;
	int open = scan_open(s, ']');
	if (open <= 0)
		return open == 0;
	for (;;) {
		if (kind == SL_CHECK_JSON_TEXT_LIST) {
			if (!scan_value(s, &v) || v != SC_STRING)
				return false;
		} else if (s->p >= s->end || *s->p != '{' ||
			   !fast_object(s, detail_keys, sizeof detail_keys / sizeof detail_keys[0],
					true)) {
			return false;
		}
		int more = scan_more(s, ']');
		if (more > 0)
			continue;
		s->depth--;
		return more == 0;
	}
}

bool sl_json_shape_fast(enum sl_column_check kind, const char *text)
{
	struct scan s = { .p = text, .end = text + strlen(text) };
	enum scanned v;
	scan_ws(&s);
	if (s.p >= s.end)
		return false;
	bool ok;
	switch (kind) {
	case SL_CHECK_JSON_OBJECT:
		ok = scan_value(&s, &v) && (v == SC_NULL || v == SC_OBJECT);
		break;
	case SL_CHECK_JSON_OUTCOME_DATA:
		if (*s.p == '{')
			ok = fast_object(&s, outcome_keys, sizeof outcome_keys / sizeof outcome_keys[0],
					 false);
		else
			ok = scan_value(&s, &v) && v == SC_NULL;
		break;
	case SL_CHECK_JSON_TEXT_LIST:
		if (*s.p == '[') {
			ok = fast_list(&s, kind);
		} else {
			/* Python false: read as [] */
			ok = scan_value(&s, &v) &&
			     (v == SC_NULL || v == SC_FALSE || v == SC_ZERO ||
			      ((v == SC_STRING || v == SC_OBJECT) && s.empty));
		}
		break;
	case SL_CHECK_JSON_VALIDATION_DETAILS:
		if (*s.p == '[')
			ok = fast_list(&s, kind);
		else
			ok = scan_value(&s, &v) && v == SC_NULL;
		break;
	default:
		ok = false;
		break;
	}
	return ok && scan_end(&s);
}

/* Checks the typed keys of obj; `what` names it in the reason ("outcome_data",
 * "validation_details item 2").  required: the first key must be there. */
static int check_keys(const json_t *obj, const struct typed_key *keys, size_t n, bool required,
		      const char *what, char *reason, size_t len)
{
	char d[SL_QUOTE_SIZE + 16], q[SL_QUOTE_SIZE];
	for (size_t i = 0; i < n; i++) {
		const json_t *v = json_object_get(obj, keys[i].key);
		if (!v) {
			if (i == 0 && required) {
				snprintf(reason, len, "%s has no '%s'", what, keys[i].key);
				return SL_EINVAL;
			}
			continue;
		}
		bool ok;
		switch (keys[i].type) {
		case LAX_STR: ok = json_is_string(v); break;
		case LAX_STR_OR_NULL: ok = json_is_string(v) || json_is_null(v); break;
		case LAX_NUMBER: ok = lax_number(v); break;
		case LAX_BOOL: ok = lax_bool(v); break;
		case LAX_NUMBER_MAP: {
			ok = json_is_object(v);
			const char *k;
			const json_t *x;
			json_object_foreach((json_t *)v, k, x) {
				if (!lax_number(x)) {
					snprintf(reason, len, "%s: '%s' has %s for %s, not a number", what,
						 keys[i].key, describe(x, d), sl_quote(q, k));
					return SL_EINVAL;
				}
			}
			break;
		}
		default: ok = false; break;
		}
		if (!ok) {
			if (keys[i].type == LAX_BOOL && json_is_real(v))
				snprintf(reason, len, "%s: '%s' is a number other than 0 and 1, not a boolean",
					 what, keys[i].key);
			else
				snprintf(reason, len, "%s: '%s' is %s, not %s", what, keys[i].key,
					 describe(v, d),
					 keys[i].type == LAX_NUMBER_MAP ? "an object" : lax_name(keys[i].type));
			return SL_EINVAL;
		}
	}
	return SL_OK;
}

/* Whether Python finds the value false (`x or []` gives []). */
static bool python_false(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_NULL:
	case JSON_FALSE: return true;
	case JSON_REAL: return json_real_value(v) == 0.0;
	case JSON_STRING: return json_string_length(v) == 0;
	case JSON_ARRAY: return json_array_size(v) == 0;
	case JSON_OBJECT: return json_object_size(v) == 0;
	default: return false;
	}
}

static int check_shape(enum sl_column_check kind, const char *name, const json_t *doc,
		       char *reason, size_t len)
{
	char d[SL_QUOTE_SIZE + 16];
	char what[96];
	size_t i;
	const json_t *item;
	switch (kind) {
	case SL_CHECK_JSON_OBJECT:
		if (json_is_null(doc) || json_is_object(doc))
			return SL_OK;
		snprintf(reason, len, "%s is %s, not an object", name, describe(doc, d));
		return SL_EINVAL;
	case SL_CHECK_JSON_OUTCOME_DATA:
		if (json_is_null(doc))
			return SL_OK;
		if (!json_is_object(doc)) {
			snprintf(reason, len, "%s is %s, not an object", name, describe(doc, d));
			return SL_EINVAL;
		}
		return check_keys(doc, outcome_keys, sizeof outcome_keys / sizeof outcome_keys[0],
				  false, name, reason, len);
	case SL_CHECK_JSON_TEXT_LIST:
		if (python_false(doc))
			return SL_OK;
		if (!json_is_array(doc)) {
			snprintf(reason, len, "%s is %s, not a list", name, describe(doc, d));
			return SL_EINVAL;
		}
		json_array_foreach(doc, i, item) {
			if (!json_is_string(item)) {
				snprintf(reason, len, "%s item %zu is %s, not a string", name, i,
					 describe(item, d));
				return SL_EINVAL;
			}
		}
		return SL_OK;
	case SL_CHECK_JSON_VALIDATION_DETAILS:
		if (json_is_null(doc))
			return SL_OK;
		if (!json_is_array(doc)) {
			snprintf(reason, len, "%s is %s, not a list", name, describe(doc, d));
			return SL_EINVAL;
		}
		json_array_foreach(doc, i, item) {
			snprintf(what, sizeof what, "%s item %zu", name, i);
			if (!json_is_object(item)) {
				snprintf(reason, len, "%s is %s, not an object", what, describe(item, d));
				return SL_EINVAL;
			}
			int rc = check_keys(item, detail_keys,
					    sizeof detail_keys / sizeof detail_keys[0], true, what,
					    reason, len);
			if (rc != SL_OK)
				return rc;
		}
		return SL_OK;
	default:
		return SL_OK;
	}
}

int sl_json_shape_full(enum sl_column_check kind, const char *name, const char *text,
		       char *reason, size_t len)
{
	json_t *doc;
	json_error_t e;
	int rc = load_json(text, &doc, &e);
	if (rc == SL_EINVAL)
		snprintf(reason, len, "%s is not valid JSON (line %d, column %d: %s)", name, e.line,
			 e.column, e.text);
	if (rc != SL_OK)
		return rc;
	rc = check_shape(kind, name, doc, reason, len);
	json_decref(doc);
	return rc;
}

