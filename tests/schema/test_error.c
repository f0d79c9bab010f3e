/* test_error.c: tests of schema/error.c, sl_strerror() for SL_* codes and
 * errno values. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <string.h>

#include "sl_error.h"

TestSuite(schema_error, .timeout = 30);

/* Criterion re-executes the test binary for each test, at another address
 * (PIE), so a parameter must not hold pointers into the parent's memory:
 * tests are parameterized by an index into a table of their own. */
static struct criterion_test_params index_params(size_t n)
{
	static size_t idx[64];
	cr_assert_leq(n, 64, "table of %zu rows is too long", n);
	for (size_t i = 0; i < n; i++)
		idx[i] = i;
	return cr_make_param_array(size_t, idx, n);
}

struct error_row {
	int code;
	const char *text;
};

static const struct error_row error_rows[] = {
	{ SL_OK, "success" },
	{ SL_EIO, "I/O error" },
	{ SL_ESQLITE, "SQLite error" },
	/* errno values: glibc's text, never translated */
	{ ENOENT, "No such file or directory" },
	{ EACCES, "Permission denied" },
	{ ENOSPC, "No space left on device" },
	{ EIO, "Input/output error" },
	{ EROFS, "Read-only file system" },
	/* codes nobody defines */
	{ -15, "unknown error code" },
	{ -1000, "unknown error code" },
	{ INT_MIN, "unknown error code" },
	{ 100000, "unknown error" },
	{ INT_MAX, "unknown error" },
};
#define N_ERROR_ROWS (sizeof error_rows / sizeof error_rows[0])

ParameterizedTestParameters(schema_error, describes)
{
	return index_params(N_ERROR_ROWS);
}

ParameterizedTest(size_t *i, schema_error, describes)
{
	const struct error_row *r = &error_rows[*i];
	const char *got = sl_strerror(r->code);
	cr_assert_not_null(got, "sl_strerror(%d) returned NULL", r->code);
	cr_assert_str_eq(got, r->text, "sl_strerror(%d): \"%s\", expected \"%s\"", r->code, got,
			 r->text);
}

Test(schema_error, every_code_has_its_own_description)
{
	for (int c = SL_ESQLITE; c <= SL_OK; c++) {
		const char *s = sl_strerror(c);
		cr_assert_str_neq(s, "unknown error code", "code %d has no description", c);
		for (int d = c + 1; d <= SL_OK; d++)
			cr_assert_str_neq(s, sl_strerror(d), "codes %d and %d share \"%s\"", c, d, s);
	}
}

Test(schema_error, errno_text_is_static)
{
	const char *a = sl_strerror(ENOENT);
	(void)sl_strerror(EACCES);
	cr_assert_str_eq(a, "No such file or directory",
			 "sl_strerror(ENOENT) changed by a later call: \"%s\"", a);
}

/* Threads asking at once each get their own code's text. */
static const int thread_codes[] = { ENOENT, EACCES, ENOSPC, SL_EIO, EROFS, SL_ENOMEM, EINTR, 100000 };
#define N_THREADS (sizeof thread_codes / sizeof thread_codes[0])

static void *ask(void *arg)
{
	int code = *(const int *)arg;
	char want[128];
	strncpy(want, sl_strerror(code), sizeof want - 1);
	want[sizeof want - 1] = '\0';
	for (int i = 0; i < 20000; i++)
		if (strcmp(sl_strerror(code), want) != 0)
			return (void *)1;
	return NULL;
}

Test(schema_error, threads)
{
	pthread_t t[N_THREADS];
	for (size_t i = 0; i < N_THREADS; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, ask, (void *)&thread_codes[i]), 0,
			     "pthread_create %zu", i);
	for (size_t i = 0; i < N_THREADS; i++) {
		void *bad = NULL;
		pthread_join(t[i], &bad);
		cr_assert_null(bad, "thread asking for code %d saw another text", thread_codes[i]);
	}
}
