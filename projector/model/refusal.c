/* refusal.c: filling a struct sl_refusal, and the small text helpers its
 * reasons need (quoting a value from an event, a time, UTF-8 validity).
 *
 * A reason is one line of valid UTF-8: it ends up in error messages of
 * every door (a backend's last error, `statelog append`'s stderr), so no
 * byte of an event may break a line or a terminal there.
 */
#include "model_internal.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "event_json_internal.h"
#include "timefmt.h"

void sl_refusal_clear(struct sl_refusal *why)
{
	if (!why)
		return;
	why->code = SL_OK;
	why->field[0] = '\0';
	why->reason[0] = '\0';
}

/* Cuts s to at most max bytes without splitting a UTF-8 sequence, and
 * makes every control byte and every byte that is not UTF-8 a '?'. */
static void one_line(char *s, size_t max)
{
	size_t i = 0, len = strlen(s);
	while (i < len) {
		size_t n = sl_utf8_seqlen(s + i, len - i);
		if (n == 0 || (n == 1 && ((unsigned char)s[i] < 0x20 || s[i] == 0x7f))) {
			s[i] = '?';
			n = 1;
		}
		if (i + n > max)
			break;
		i += n;
	}
	s[i] = '\0';
}

int sl_refuse(struct sl_refusal *why, int code, const char *prefix, const char *name,
	      const char *fmt, ...)
{
	if (!why)
		return code;
	why->code = code;
	snprintf(why->field, sizeof why->field, "%s%s", prefix ? prefix : "", name ? name : "");
	one_line(why->field, sizeof why->field - 1);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why->reason, sizeof why->reason, fmt, ap);
	va_end(ap);
	one_line(why->reason, sizeof why->reason - 1);
	return code;
}

const char *sl_quote(char buf[SL_QUOTE_SIZE], const char *s)
{
	/* Room for 40 bytes of text shown as \xNN each, quotes and "...". */
	enum { SHOWN = 40 };
	if (!s) {
		snprintf(buf, SL_QUOTE_SIZE, "NULL");
		return buf;
	}
	size_t o = 0, i = 0, len = strlen(s);
	buf[o++] = '\'';
	while (i < len && i < SHOWN) {
		size_t n = sl_utf8_seqlen(s + i, len - i);
		unsigned char c = (unsigned char)s[i];
		if (n == 0 || (n == 1 && (c < 0x20 || c == 0x7f || c == '\\'))) {
			o += (size_t)snprintf(buf + o, SL_QUOTE_SIZE - o, c == '\\' ? "\\\\" : "\\x%02x",
					      c);
			i++;
			continue;
		}
		if (i + n > SHOWN)
			break;
		memcpy(buf + o, s + i, n);
		o += n;
		i += n;
	}
	buf[o++] = '\'';
	if (i < len) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

const char *sl_time_text(char buf[SL_TIME_TEXT_SIZE], int64_t us)
{
	if (sl_time_format(us, buf, SL_TIME_TEXT_SIZE) != SL_OK)
		snprintf(buf, SL_TIME_TEXT_SIZE, "%" PRId64 " us", us);
	return buf;
}

bool sl_utf8_valid(const char *s)
{
	/* ASCII a word or four at a time: almost every text is mostly ASCII,
	 * and the prompts and outputs of execution records run to kilobytes.
	 * (strlen() first: the C library's is vectorised.) */
	const uint64_t high = UINT64_C(0x8080808080808080);
	size_t left = strlen(s);
	const unsigned char *p = (const unsigned char *)s;
	while (left) {
		uint64_t a, b, c, d;
		for (; left >= 32; p += 32, left -= 32) {
			memcpy(&a, p, 8);
			memcpy(&b, p + 8, 8);
			memcpy(&c, p + 16, 8);
			memcpy(&d, p + 24, 8);
			if ((a | b | c | d) & high)
				break;
		}
		for (; left >= 8; p += 8, left -= 8) {
			memcpy(&a, p, 8);
			if (a & high)
				break;
		}
		if (!left)
			break;
		if (*p < 0x80) {
			p++;
			left--;
			continue;
		}
		size_t n = sl_utf8_seqlen((const char *)p, left);
		if (n == 0)
			return false;
		p += n;
		left -= n;
	}
	return true;
}
