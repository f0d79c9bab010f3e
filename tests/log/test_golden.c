/* test_golden.c: golden segment files (tests/log/golden/) catch any
 * unintended change of the format: the files must read back to the
 * expected events, and writing the same events again must give the same
 * bytes.  Regenerate (only for an intended format change, with a version
 * bump) with SL_GOLDEN_WRITE=<dir> ./test_golden. */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "event_internal.h"
#include "helpers.h"

#ifndef SL_GOLDEN_DIR
#error "SL_GOLDEN_DIR must name tests/log/golden"
#endif

static const uint8_t golden_id[SL_LOG_ID_SIZE] = {
	0x5a, 0x1e, 0x90, 0x0d, 0x11, 0x22, 0x33, 0x44,
	0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc,
};

#define GOLDEN_EVENTS 40
#define GOLDEN_T0 1764124178504474  /* 2025-11-26T02:29:38.504474+00:00 */

int sl_log_open_as(sl_log **out, const char *dir, const struct sl_log_options *opts,
		   const uint8_t id[SL_LOG_ID_SIZE], char *msg, size_t msglen);

/* Writes the golden log: commits of 1 to 3 events, fixed times; packed
 * when `pack`. */
static void write_golden(const char *dir, bool pack)
{
	struct sl_log_options o;
	sl_log_options_init(&o);
	o.create = true;
	o.durability = SL_DURABLE_NONE;
	o.compact = false;
	sl_log *log;
	char err[512] = "";
	cr_assert_eq(sl_log_open_as(&log, dir, &o, golden_id, err, sizeof(err)), SL_OK, "%s", err);
	uint64_t i = 0;
	while (i < GOLDEN_EVENTS) {
		sl_event *evs[3];
		size_t n = 1 + i % 3;
		if (i + n > GOLDEN_EVENTS)
			n = GOLDEN_EVENTS - i;
		for (size_t k = 0; k < n; k++) {
			evs[k] = th_event(i % 2 ? "job-ü/1" : "job:2@x", i + k);
			evs[k]->has_time_us = 1;
			evs[k]->time_us = GOLDEN_T0 + (int64_t)(i + k) * 1500;
		}
		cr_assert_eq(sl_log_append(log, evs, n, NULL), SL_OK, "append");
		for (size_t k = 0; k < n; k++)
			th_event_free(evs[k]);
		i += n;
	}
	if (pack)
		cr_assert_eq(sl_log_compact(log), SL_OK, "compact: %s", sl_log_errmsg(log));
	cr_assert_eq(sl_log_close(log), SL_OK, "close");
}

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	cr_assert_not_null(f, "open %s", path);
	fseek(f, 0, SEEK_END);
	*len = (size_t)ftell(f);
	fseek(f, 0, SEEK_SET);
	uint8_t *b = malloc(*len + 1);
	cr_assert_eq(fread(b, 1, *len, f), *len, "read %s", path);
	fclose(f);
	return b;
}

/* The segment header's creation time (bytes 48..55) and the header crc
 * (60..63) differ from run to run; everything else must not. */
static void assert_same_segment(const char *golden, const char *fresh)
{
	size_t a, b;
	uint8_t *x = slurp(golden, &a), *y = slurp(fresh, &b);
	cr_assert_eq(a, b, "%s: %zu bytes, the writer now makes %zu", golden, a, b);
	for (size_t i = 0; i < a; i++) {
		if ((i >= 48 && i < 56) || (i >= 60 && i < 64))
			continue;
		cr_assert_eq(x[i], y[i], "%s: byte %zu differs (0x%02x now 0x%02x): a format change?",
			     golden, i, x[i], y[i]);
	}
	free(x);
	free(y);
}

static void check_variant(const char *name, bool pack)
{
	const char *out = getenv("SL_GOLDEN_WRITE");
	char golden[4200];
	if (out) {
		snprintf(golden, sizeof(golden), "%s/%s", out, name);
		write_golden(golden, pack);
		return;
	}
	snprintf(golden, sizeof(golden), "%s/%s", SL_GOLDEN_DIR, name);
	/* Read the golden files (from a copy: a reader writes nothing, but be safe). */
	char *copy = th_tmpdir();
	char src[4400], dst[4400];
	snprintf(src, sizeof(src), "%s/00000000000000000001.seg", golden);
	snprintf(dst, sizeof(dst), "%s/00000000000000000001.seg", copy);
	th_copy(src, dst);
	sl_reader *r;
	char err[512] = "";
	cr_assert_eq(sl_reader_open(&r, copy, NULL, err, sizeof(err)), SL_OK, "%s", err);
	uint8_t id[SL_LOG_ID_SIZE];
	sl_reader_log_id(id, r);
	cr_assert_eq(memcmp(id, golden_id, sizeof(id)), 0, "log id");
	struct sl_record rec;
	for (uint64_t i = 0; i < GOLDEN_EVENTS; i++) {
		cr_assert_eq(sl_reader_next(&rec, r), 1, "%s: event %" PRIu64 ": %s", name, i,
			     sl_reader_errmsg(r));
		cr_assert_eq(rec.seq, i + 1, "seq");
		cr_assert_eq(rec.time_us, GOLDEN_T0 + (int64_t)i * 1500, "time of %" PRIu64, i);
		sl_event *got;
		cr_assert_eq(sl_event_decode(&got, rec.data, rec.len, rec.seq, rec.time_us), SL_OK, "decode");
		sl_event *want = th_event(got->job_id, i);
		cr_assert(strcmp(got->job_id, "job-ü/1") == 0 || strcmp(got->job_id, "job:2@x") == 0,
			  "job id of %" PRIu64 ": %s", i, got->job_id);
		size_t lw = sl_event_encoded_size(want);
		uint8_t *bw = malloc(lw + 1);
		sl_event_encode(want, bw);
		cr_assert_eq(rec.len, lw, "%s: event %" PRIu64 " length", name, i);
		cr_assert_eq(memcmp(rec.data, bw, lw), 0, "%s: event %" PRIu64 " bytes", name, i);
		free(bw);
		th_event_free(want);
		sl_event_free(got);
	}
	cr_assert_eq(sl_reader_next(&rec, r), 0, "%s: nothing more", name);
	sl_reader_close(r);
	struct sl_verify_report v;
	cr_assert_eq(sl_log_verify(copy, NULL, &v, NULL, NULL, err, sizeof(err)), SL_OK, "%s", err);
	cr_assert(!v.damaged, "%s: sound: %s", name, v.damage);
	th_rmdir(copy);

	/* Writing the same events again gives the same bytes. */
	char *again = th_tmpdir();
	char sub[4250];
	snprintf(sub, sizeof(sub), "%s/log", again);
	write_golden(sub, pack);
	snprintf(dst, sizeof(dst), "%s/00000000000000000001.seg", sub);
	assert_same_segment(src, dst);
	th_rmdir(again);
}

Test(golden, raw_segment)
{
	check_variant("v1-raw", false);
}

Test(golden, packed_segment)
{
	check_variant("v1-packed", true);
}

/* The must-fail corpus (golden/must-fail/NAME/, made by
 * golden/make_must_fail.py): each segment must be refused by readers and by
 * the writer's recovery, with the code and a word of the message given in
 * its EXPECT file; never read as data, never cut as a torn tail. */
static const char *const must_fail[] = {
	"bad-segment-magic", "newer-version", "segment-header-crc", "record-crc",
	"raw-payload", "chain-broken", "sequence-skipped", "time-backwards",
	"packed-garbage", "packed-raw-len-huge",
};

static int code_of(const char *name)
{
	if (strcmp(name, "SL_ECORRUPT") == 0)
		return SL_ECORRUPT;
	if (strcmp(name, "SL_EVERSION") == 0)
		return SL_EVERSION;
	cr_assert_fail("unknown code %s in EXPECT", name);
	return 0;
}

Test(golden, must_fail_corpus)
{
	for (size_t i = 0; i < sizeof(must_fail) / sizeof(must_fail[0]); i++) {
		char path[4400], code[64], word[64];
		snprintf(path, sizeof(path), "%s/must-fail/%s/EXPECT", SL_GOLDEN_DIR, must_fail[i]);
		FILE *f = fopen(path, "r");
		cr_assert_not_null(f, "%s", path);
		cr_assert_eq(fscanf(f, "%63s %63s", code, word), 2, "%s", path);
		fclose(f);
		char *copy = th_tmpdir();
		char src[4400], dst[4400];
		snprintf(src, sizeof(src), "%s/must-fail/%s/00000000000000000001.seg", SL_GOLDEN_DIR,
			 must_fail[i]);
		snprintf(dst, sizeof(dst), "%s/00000000000000000001.seg", copy);
		th_copy(src, dst);

		int rc;
		sl_reader *r;
		char err[512] = "";
		rc = sl_reader_open(&r, copy, NULL, err, sizeof(err));
		const char *msg = err;
		if (rc == SL_OK) {
			struct sl_record rec;
			while ((rc = sl_reader_next(&rec, r)) == 1)
				;
			snprintf(err, sizeof(err), "%s", sl_reader_errmsg(r));
			sl_reader_close(r);
		}
		cr_assert_eq(rc, code_of(code), "%s: reader gave %d (%s), want %s", must_fail[i], rc, msg,
			     code);
		cr_assert_not_null(strcasestr(msg, word), "%s: message names the cause (%s): %s",
				   must_fail[i], word, msg);

		struct sl_log_options o;
		sl_log_options_init(&o);
		sl_log *log = NULL;
		long long size = th_file_size(dst);
		rc = sl_log_open(&log, copy, &o, NULL, err, sizeof(err));
		cr_assert_neq(rc, SL_OK, "%s: the writer refuses it", must_fail[i]);
		cr_assert_eq(th_file_size(dst), size, "%s: nothing cut", must_fail[i]);
		th_rmdir(copy);
	}
}
