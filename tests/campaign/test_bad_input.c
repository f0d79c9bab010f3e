/* test_bad_input.c: bad input at the C doors (the backend API, the JSON
 * event decoder, the projector), each with one clear outcome:
 *  - job ids: empty (refused), 1 MiB (stored and read back whole), with
 *    NUL (a C string ends there; the JSON path refuses \u0000), with path
 *    separators and quotes (plain data: stored and read back exactly,
 *    nothing made on disk, no SQL run);
 *  - sheet numbers 0, negative and past the total: refused everywhere;
 *  - prompts of megabytes: cut to the original's 2,000 characters, or
 *    stored whole with full_execution_text; past the maximum event size:
 *    refused (SL_ETOOBIG), and the writer goes on;
 *  - malformed JSON: refused with the line and column;
 *  - an event of a type from a newer writer: catch-up stops with
 *    SL_EUNKNOWN naming it; a rebuild with skip_unknown counts it;
 *  - a database of a newer view schema: rebuilt;
 *  - every door that opens files, failing or not, leaves the process's
 *    descriptors as it found them (none leaked, none of the caller's
 *    closed).
 * The program-level doors are in tests/tools/cli_test.sh. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "backend.h"
#include "camp.h"
#include "event_internal.h"
#include "event_json.h"
#include "import.h"
#include "projector.h"

static char *dir, *log_dir;
static sl_backend *be;

static bool always_alive(int64_t pid, void *ctx)
{
	(void)pid;
	(void)ctx;
	return true;
}

static sl_backend *open_be(bool full_text)
{
	struct sl_backend_options o;
	sl_backend_options_init(&o);
	o.create = true;
	o.durability = SL_DURABLE_NONE;
	o.full_execution_text = full_text;
	o.pid_alive = always_alive;
	sl_backend *b = NULL;
	char err[1024] = "";
	cr_assert_eq(sl_backend_open(&b, log_dir, &o, err, sizeof err), SL_OK, "open: %s", err);
	return b;
}

static void setup(void)
{
	dir = camp_tmpdir("badinput");
	log_dir = camp_path(dir, "run.log");
	be = open_be(false);
}

static void teardown(void)
{
	sl_backend_close(be);
	camp_rmrf(dir);
	free(dir);
	free(log_dir);
}

TestSuite(bad_input, .init = setup, .fini = teardown, .timeout = 60);

static int save_job(const char *id, int64_t sheets)
{
	struct sl_job_state st;
	sl_state_init(&st);
	st.id = strdup(id);
	st.name = strdup("a job");
	st.total_sheets = sheets;
	int rc = sl_backend_save(be, &st);
	sl_state_free(&st);
	return rc;
}

/* ---- job ids -------------------------------------------------------------- */

Test(bad_input, empty_job_id_is_refused_everywhere)
{
	cr_assert_eq(save_job("", 1), SL_EINVAL, "save");
	cr_assert_not_null(strstr(sl_backend_errmsg(be), "job"), "says what: %s",
			   sl_backend_errmsg(be));
	struct sl_job_state st;
	int rc = sl_backend_load(&st, be, "");
	cr_assert(rc == SL_EINVAL || rc == SL_ENOTFOUND, "load: %d", rc);
	cr_assert_eq(sl_backend_sheet_started(be, "", 1), SL_EINVAL, "sheet_started");
	struct sl_execution_record rec = { .job_id = "", .sheet_num = 1, .attempt_num = 1 };
	int64_t id;
	cr_assert_eq(sl_backend_record_execution(&id, be, &rec), SL_EINVAL, "record");
	cr_assert_eq(sl_backend_pid_set(be, "", 5), SL_EINVAL, "pid_set");
	cr_assert_eq(sl_backend_last_seq(be), 0, "nothing appended");
}

Test(bad_input, huge_job_id_round_trips_whole)
{
	size_t n = 1 << 20;
	char *id = malloc(n + 1);
	for (size_t i = 0; i < n; i++)
		id[i] = (char)('a' + i % 26);
	id[n] = 0;
	cr_assert_eq(save_job(id, 2), SL_OK, "a 1 MiB id: %s", sl_backend_errmsg(be));
	cr_assert_eq(sl_backend_sheet_started(be, id, 1), SL_OK, "%s", sl_backend_errmsg(be));
	sl_backend_close(be);
	be = open_be(false);  /* from the views, not the cache */
	struct sl_job_state st;
	cr_assert_eq(sl_backend_load(&st, be, id), SL_OK, "load: %s", sl_backend_errmsg(be));
	cr_assert_eq(strlen(st.id), n, "the id comes back whole");
	cr_assert_eq(memcmp(st.id, id, n), 0);
	sl_state_free(&st);
	free(id);
}

Test(bad_input, nul_in_a_job_id)
{
	/* Through the C API a job id is a C string: it ends at the NUL. */
	cr_assert_eq(save_job("ab\0cd", 1), SL_OK);
	struct sl_job_state st;
	cr_assert_eq(sl_backend_load(&st, be, "ab"), SL_OK, "the job is 'ab'");
	sl_state_free(&st);
	/* Through JSON (statelog append) \u0000 is refused, never cut short. */
	const char *line = "{\"job_id\": \"ab\\u0000cd\", \"type\": \"job_created\","
			   " \"body\": {\"name\": \"x\", \"total_sheets\": 1}}";
	sl_event *ev = NULL;
	char err[512] = "";
	int rc = sl_event_from_json(&ev, line, strlen(line), err, sizeof err);
	cr_assert_eq(rc, SL_EINVAL, "\\u0000 refused (got %d)", rc);
	cr_assert_neq(err[0], 0, "with a message");
	cr_log_info("JSON \\u0000 in a job id: %s", err);
	sl_event_free(ev);
}

ParameterizedTestParameters(bad_input, odd_job_ids_are_plain_data)
{
	static const char *const ids[] = {
		"../../etc/passwd", "a/b/c", "C:\\jobs\\x", "it's", "say \"hi\"",
		"'; DROP TABLE jobs; --", "\" OR 1=1 --", "%s%n%x", "ジョブ/✓", " leading space",
		"tab\there", "newline\nhere",
	};
	/* Criterion re-executes the binary: indexes, not pointers. */
	static int idx[sizeof ids / sizeof ids[0]];
	for (size_t i = 0; i < sizeof idx / sizeof idx[0]; i++)
		idx[i] = (int)i;
	(void)ids;
	return cr_make_param_array(int, idx, sizeof idx / sizeof idx[0]);
}

ParameterizedTest(int *i, bad_input, odd_job_ids_are_plain_data)
{
	static const char *const ids[] = {
		"../../etc/passwd", "a/b/c", "C:\\jobs\\x", "it's", "say \"hi\"",
		"'; DROP TABLE jobs; --", "\" OR 1=1 --", "%s%n%x", "ジョブ/✓", " leading space",
		"tab\there", "newline\nhere",
	};
	const char *id = ids[*i];
	cr_assert_eq(save_job(id, 2), SL_OK, "save '%s': %s", id, sl_backend_errmsg(be));
	struct sl_execution_record rec = { .job_id = id, .sheet_num = 1, .attempt_num = 1,
					   .prompt = "p", .output = "o" };
	int64_t eid;
	cr_assert_eq(sl_backend_record_execution(&eid, be, &rec), SL_OK, "record '%s'", id);
	sl_backend_close(be);
	be = open_be(false);
	struct sl_job_state st;
	cr_assert_eq(sl_backend_load(&st, be, id), SL_OK, "load '%s'", id);
	cr_assert_str_eq(st.id, id);
	sl_state_free(&st);
	int64_t n = 0;
	cr_assert_eq(sl_backend_history_count(&n, be, id), SL_OK);
	cr_assert_eq(n, 1, "'%s': one history row", id);
	struct sl_job_summary *rows = NULL;
	size_t nrows = 0;
	cr_assert_eq(sl_backend_query_jobs(&rows, &nrows, be, NULL), SL_OK);
	cr_assert_eq(nrows, 1, "'%s': the jobs table is intact, one row", id);
	cr_assert_str_eq(rows[0].id, id);
	sl_backend_summaries_free(rows, nrows);
	/* Nothing named after the id was made beside the log. */
	DIR *d = opendir(dir);
	struct dirent *de;
	while ((de = readdir(d)))
		cr_assert(de->d_name[0] == '.' || strncmp(de->d_name, "run.", 4) == 0,
			  "'%s': unexpected file %s", id, de->d_name);
	closedir(d);
}

/* ---- sheet numbers -------------------------------------------------------- */

/* A sheet below 1 is no sheet: every sheet call refuses it and appends
 * nothing.  The history is the original's free-form table: it takes any
 * sheet number, as the original's record_execution() does. */
ParameterizedTestParameters(bad_input, sheet_numbers_below_one)
{
	static int64_t sheets[] = { 0, -1, INT64_MIN };
	return cr_make_param_array(int64_t, sheets, sizeof sheets / sizeof sheets[0]);
}

ParameterizedTest(int64_t *sheet, bad_input, sheet_numbers_below_one)
{
	cr_assert_eq(save_job("j", 3), SL_OK);
	uint64_t before = sl_backend_last_seq(be);
	int64_t s = *sheet;
	cr_assert_eq(sl_backend_sheet_started(be, "j", s), SL_EINVAL, "started %" PRId64, s);
	cr_assert_not_null(strstr(sl_backend_errmsg(be), "below 1"), "names the sheet: %s",
			   sl_backend_errmsg(be));
	cr_assert_eq(sl_backend_sheet_completed(be, "j", s, NULL), SL_EINVAL, "completed");
	cr_assert_eq(sl_backend_sheet_failed(be, "j", s, NULL), SL_EINVAL, "failed");
	cr_assert_eq(sl_backend_sheet_skipped(be, "j", s, NULL), SL_EINVAL, "skipped");
	cr_assert_eq(sl_backend_mark_sheet_status(be, "j", s, "completed", NULL), SL_EINVAL, "mark");
	cr_assert_eq(sl_backend_last_seq(be), before, "nothing appended");
	struct sl_execution_record rec = { .job_id = "j", .sheet_num = s, .attempt_num = 1 };
	int64_t id = 0;
	cr_assert_eq(sl_backend_record_execution(&id, be, &rec), SL_OK, "record %" PRId64 ": %s",
		     s, sl_backend_errmsg(be));
	cr_assert_gt(id, 0);
	int64_t n = 0;
	cr_assert_eq(sl_backend_history_count(&n, be, "j"), SL_OK);
	cr_assert_eq(n, 1);
}

/* Past total_sheets is a sheet the original makes a row for (a sheet
 * started after total_sheets was lowered, mark_sheet_status on sheet 5 of
 * a 3-sheet job): taken, and the job does not complete through it. */
ParameterizedTestParameters(bad_input, sheet_numbers_past_the_total)
{
	static int64_t sheets[] = { 4, 1000000, INT64_MAX };
	return cr_make_param_array(int64_t, sheets, sizeof sheets / sizeof sheets[0]);
}

ParameterizedTest(int64_t *sheet, bad_input, sheet_numbers_past_the_total)
{
	cr_assert_eq(save_job("j", 3), SL_OK);
	int64_t s = *sheet;
	cr_assert_eq(sl_backend_sheet_started(be, "j", s), SL_OK, "started %" PRId64 ": %s", s,
		     sl_backend_errmsg(be));
	cr_assert_eq(sl_backend_sheet_completed(be, "j", s, NULL), SL_OK, "completed: %s",
		     sl_backend_errmsg(be));
	struct sl_job_state st;
	cr_assert_eq(sl_backend_load(&st, be, "j"), SL_OK);
	const struct sl_sheet_state *row = sl_state_find_sheet(&st, s);
	cr_assert_not_null(row, "sheet %" PRId64 " has its row", s);
	cr_assert_eq(row->status, SL_SHEET_COMPLETED);
	cr_assert_neq(st.status, SL_JOB_COMPLETED, "sheets 1-3 never ran: not complete");
	sl_state_free(&st);
}

Test(bad_input, negative_total_sheets_refused)
{
	cr_assert_eq(save_job("neg", -1), SL_EINVAL);
}

/* ---- big text ---------------------------------------------------------------- */

static char *text_of(size_t n, char c)
{
	char *t = malloc(n + 1);
	memset(t, c, n);
	t[n] = 0;
	return t;
}

Test(bad_input, megabyte_prompts_are_cut_as_the_original_cuts_them)
{
	cr_assert_eq(save_job("big", 1), SL_OK);
	char *p = text_of(3 << 20, 'p'), *o = text_of(3 << 20, 'o');
	struct sl_execution_record rec = { .job_id = "big", .sheet_num = 1, .attempt_num = 1,
					   .prompt = p, .output = o };
	int64_t id;
	cr_assert_eq(sl_backend_record_execution(&id, be, &rec), SL_OK, "%s", sl_backend_errmsg(be));
	struct sl_execution_row *rows = NULL;
	size_t n = 0;
	cr_assert_eq(sl_backend_history(&rows, &n, be, "big", 0, 0), SL_OK);
	cr_assert_eq(n, 1);
	cr_assert_eq(strlen(rows[0].prompt), SL_BACKEND_PROMPT_CHARS, "prompt cut");
	cr_assert_eq(strlen(rows[0].output), SL_BACKEND_OUTPUT_CHARS, "output cut");
	sl_backend_history_free(rows, n);
	free(p);
	free(o);
}

Test(bad_input, megabyte_prompts_whole_and_past_the_maximum_event_size)
{
	sl_backend_close(be);
	be = open_be(true);
	cr_assert_eq(save_job("big", 1), SL_OK);
	char *p = text_of(4 << 20, 'p');
	struct sl_execution_record rec = { .job_id = "big", .sheet_num = 1, .attempt_num = 1,
					   .prompt = p, .output = "o" };
	int64_t id;
	cr_assert_eq(sl_backend_record_execution(&id, be, &rec), SL_OK, "4 MiB: %s",
		     sl_backend_errmsg(be));
	free(p);
	uint64_t before = sl_backend_last_seq(be);
	p = text_of(17 << 20, 'q');  /* past the 16 MiB maximum event size */
	rec.prompt = p;
	rec.attempt_num = 2;
	int rc = sl_backend_record_execution(&id, be, &rec);
	cr_assert_eq(rc, SL_ETOOBIG, "17 MiB refused (%d): %s", rc, sl_backend_errmsg(be));
	cr_log_info("17 MiB prompt: %s", sl_backend_errmsg(be));
	free(p);
	cr_assert_eq(sl_backend_last_seq(be), before, "nothing appended");
	/* The writer is not poisoned: bad input is not an I/O failure. */
	rec.prompt = "small";
	rec.attempt_num = 3;
	cr_assert_eq(sl_backend_record_execution(&id, be, &rec), SL_OK, "goes on: %s",
		     sl_backend_errmsg(be));
	struct sl_execution_row *rows = NULL;
	size_t n = 0;
	cr_assert_eq(sl_backend_history(&rows, &n, be, "big", 0, -1), SL_OK);
	cr_assert_eq(n, 2, "the 4 MiB row and the small one");
	bool whole = false;
	for (size_t i = 0; i < n; i++)
		whole |= rows[i].prompt && strlen(rows[i].prompt) == (size_t)4 << 20;
	cr_assert(whole, "the 4 MiB prompt is stored whole");
	sl_backend_history_free(rows, n);
}

/* ---- malformed JSON ------------------------------------------------------------ */

ParameterizedTestParameters(bad_input, malformed_json_is_refused_with_a_position)
{
	static int idx[9] = { 0, 1, 2, 3, 4, 5, 6, 7, 8 };
	return cr_make_param_array(int, idx, 9);
}

ParameterizedTest(int *i, bad_input, malformed_json_is_refused_with_a_position)
{
	static const char *const lines[] = {
		"{", "{\"job_id\": \"j\", \"type\": \"job_created\"", "[1, 2]", "null", "\"text\"",
		"{\"job_id\": 5, \"type\": \"job_created\", \"body\": {}}",
		"{\"job_id\": \"j\", \"type\": \"no_such_type\", \"body\": {}}",
		"{\"job_id\": \"j\", \"type\": \"sheet_started\", \"body\": {\"sheet_num\": \"one\"}}",
		"{\"job_id\": \"j\", \"type\": \"job_created\", \"body\": {\"name\": \"x\","
		" \"total_sheets\": 1e400}}",
	};
	const char *line = lines[*i];
	sl_event *ev = NULL;
	char err[512] = "";
	int rc = sl_event_from_json(&ev, line, strlen(line), err, sizeof err);
	cr_assert_eq(rc, SL_EINVAL, "'%s' refused (%d)", line, rc);
	cr_assert_null(ev);
	cr_assert_neq(err[0], 0, "'%s': a message", line);
}

/* ---- newer writers and newer databases ----------------------------------------- */

/* Appends an event whose body is field 60: a type of a newer schema. */
static void append_unknown(void)
{
	sl_backend_close(be);
	be = NULL;
	struct sl_log_options o;
	sl_log_options_init(&o);
	sl_log *log = NULL;
	char err[512] = "";
	cr_assert_eq(sl_log_open(&log, log_dir, &o, NULL, err, sizeof err), SL_OK, "%s", err);
	sl_event ev;
	statelog__event__init(&ev);
	ev.job_id = "j";
	ProtobufCMessageUnknownField u = { .tag = 60,
					   .wire_type = PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED,
					   .len = 4, .data = (uint8_t *)"\x03" "abc" };
	ev.base.n_unknown_fields = 1;
	ev.base.unknown_fields = &u;
	sl_event *p = &ev;
	cr_assert_eq(sl_log_append(log, &p, 1, NULL), SL_OK, "%s", sl_log_errmsg(log));
	ev.base.n_unknown_fields = 0;
	ev.base.unknown_fields = NULL;
	cr_assert_eq(sl_log_close(log), SL_OK);
}

Test(bad_input, an_event_type_from_a_newer_writer)
{
	cr_assert_eq(save_job("j", 2), SL_OK);
	uint64_t known = sl_backend_last_seq(be);
	append_unknown();
	/* The backend cannot project past it: it refuses, naming it. */
	struct sl_backend_options o;
	sl_backend_options_init(&o);
	o.pid_alive = always_alive;
	char err[1024] = "";
	int rc = sl_backend_open(&be, log_dir, &o, err, sizeof err);
	cr_log_info("open with an unknown event: %d %s", rc, err);
	cr_assert_eq(rc, SL_EUNKNOWN, "refused with SL_EUNKNOWN (%d): %s", rc, err);
	be = NULL;
	char want[64];
	snprintf(want, sizeof want, "%" PRIu64, known + 1);
	cr_assert_not_null(strstr(err, want), "names the event's seq %s: %s", want, err);
	/* A rebuild told to skip them counts it and projects the rest. */
	char *db = camp_path(dir, "forced.db");
	struct sl_proj_options po;
	sl_proj_options_init(&po);
	po.skip_unknown = true;
	struct sl_proj_stats st;
	cr_assert_eq(sl_proj_rebuild(log_dir, db, &po, &st, err, sizeof err), SL_OK, "%s", err);
	cr_assert_eq(st.unknown_events, 1, "counted");
	free(db);
}

Test(bad_input, a_database_of_a_newer_view_schema_is_rebuilt)
{
	cr_assert_eq(save_job("j", 2), SL_OK);
	sl_backend_close(be);
	be = NULL;
	char *db = camp_path(dir, "run.db");
	sqlite3 *h = NULL;
	cr_assert_eq(sqlite3_open(db, &h), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(h, "UPDATE statelog_meta SET value = 99 WHERE key = 'views_version';"
				  "CREATE TABLE from_the_future (x);", NULL, NULL, NULL), SQLITE_OK,
		     "%s", sqlite3_errmsg(h));
	sqlite3_close(h);
	sl_proj *p = NULL;
	char err[1024] = "";
	struct sl_proj_stats st;
	memset(&st, 0, sizeof st);
	int rc = sl_proj_open(&p, log_dir, db, NULL, &st, err, sizeof err);
	cr_log_info("open of a views_version 99 database: %d %s (rebuilt %d)", rc, err, st.rebuilt);
	cr_assert_eq(rc, SL_OK, "%s", err);
	cr_assert(st.rebuilt, "rebuilt");
	struct sl_job_state js;
	cr_assert_eq(sl_proj_load_job(&js, p, "j"), SL_OK, "the job is back");
	sl_state_free(&js);
	sl_proj_close(p);
	be = open_be(false);
	free(db);
}

/* ---- descriptors ---------------------------------------------------------- */

struct fds {
	int open;                  /* entries of /proc/self/fd */
	struct stat std[3];
};

static void fds_take(struct fds *f)
{
	f->open = 0;
	DIR *d = opendir("/proc/self/fd");
	cr_assert_not_null(d);
	while (readdir(d))
		f->open++;
	closedir(d);
	for (int fd = 0; fd < 3; fd++)
		cr_assert_eq(fstat(fd, &f->std[fd]), 0, "descriptor %d open", fd);
}

static void fds_same(const struct fds *was, const char *after)
{
	struct fds now;
	fds_take(&now);
	cr_assert_eq(now.open, was->open, "%s: %d descriptors open before, %d after", after,
		     was->open, now.open);
	for (int fd = 0; fd < 3; fd++)
		cr_assert(now.std[fd].st_ino == was->std[fd].st_ino &&
			  now.std[fd].st_dev == was->std[fd].st_dev,
			  "%s: descriptor %d is another file", after, fd);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f, "%s", path);
	fputs(text, f);
	fclose(f);
}

Test(bad_input, every_door_leaves_the_descriptors_as_it_found_them)
{
	/* Standard input is a file of its own: closing it by mistake shows. */
	int fd = open("/dev/null", O_RDONLY);
	cr_assert_geq(fd, 0);
	cr_assert_eq(dup2(fd, 0), 0);
	close(fd);
	struct fds was;
	fds_take(&was);
	char err[1024];
	int rc;

	char *none = camp_path(dir, "none.log"), *junk = camp_path(dir, "junk.log");
	char *junk_seg = camp_path(junk, "00000000000000000001.seg");
	char *foreign = camp_path(dir, "foreign.db"), *text = camp_path(dir, "text.db");
	cr_assert_eq(mkdir(junk, 0755), 0);
	write_file(junk_seg, "SLOGSEG but not a segment header at all, and too short");
	write_file(text, "not an SQLite database");
	sqlite3 *db = NULL;
	cr_assert_eq(sqlite3_open(foreign, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(db, "CREATE TABLE jobs(id TEXT)", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	fds_same(&was, "making the inputs");

	sl_log *log = NULL;
	struct sl_log_options lo;
	sl_log_options_init(&lo);
	cr_assert_eq(sl_log_open(&log, none, &lo, NULL, err, sizeof err), SL_ENOTFOUND);
	fds_same(&was, "sl_log_open of no log");
	/* A log another handle holds (sl_log_hold()): the open waits for it,
	 * up to the busy timeout. */
	sl_log *holder = NULL;
	struct sl_log_hold hold;
	cr_assert_eq(sl_log_open(&holder, log_dir, &lo, NULL, err, sizeof err), SL_OK, "%s", err);
	cr_assert_eq(sl_log_hold(&hold, holder), SL_OK);
	struct fds held;
	fds_take(&held);
	lo.busy_timeout_ms = 30;
	cr_assert_eq(sl_log_open(&log, log_dir, &lo, NULL, err, sizeof err), SL_ELOCKED);
	fds_same(&held, "sl_log_open of a log another writer holds");
	cr_assert_neq(sl_log_open(&log, junk, &lo, NULL, err, sizeof err), SL_OK);
	fds_same(&held, "sl_log_open of a damaged log");
	lo.segment_size = 1;
	cr_assert_eq(sl_log_open(&log, none, &lo, NULL, err, sizeof err), SL_EINVAL);
	fds_same(&held, "sl_log_open with bad options");

	sl_reader *r = NULL;
	cr_assert_neq(sl_reader_open(&r, none, NULL, err, sizeof err), SL_OK);
	cr_assert_neq(sl_reader_open(&r, junk, NULL, err, sizeof err), SL_OK);
	fds_same(&held, "sl_reader_open of no log and a damaged one");
	cr_assert_eq(sl_reader_open(&r, log_dir, NULL, err, sizeof err), SL_OK, "%s", err);
	struct sl_record rec;
	while (sl_reader_next(&rec, r) == 1)
		;
	sl_reader_close(r);
	fds_same(&held, "a reader opened, read to the end and closed");
	struct sl_verify_report v;
	(void)sl_log_verify(junk, NULL, &v, NULL, NULL, err, sizeof err);
	cr_assert_eq(sl_log_verify(log_dir, NULL, &v, NULL, NULL, err, sizeof err), SL_OK);
	fds_same(&held, "sl_log_verify");

	sl_proj *p = NULL;
	cr_assert_eq(sl_proj_open(&p, log_dir, foreign, NULL, NULL, err, sizeof err), SL_EFOREIGN);
	fds_same(&held, "sl_proj_open of a foreign database");
	cr_assert_neq(sl_proj_open(&p, log_dir, text, NULL, NULL, err, sizeof err), SL_OK);
	fds_same(&held, "sl_proj_open of a file that is not a database");
	cr_assert_neq(sl_proj_open(&p, log_dir, dir, NULL, NULL, err, sizeof err), SL_OK);
	fds_same(&held, "sl_proj_open of a directory");
	cr_assert_neq(sl_proj_open(&p, none, foreign, NULL, NULL, err, sizeof err), SL_OK);
	fds_same(&held, "sl_proj_open of no log");

	sl_backend *b = NULL;
	struct sl_backend_options bo;
	sl_backend_options_init(&bo);
	cr_assert_eq(sl_backend_open(&b, none, &bo, err, sizeof err), SL_ENOTFOUND);
	bo.busy_timeout_ms = 30;
	cr_assert_eq(sl_backend_open(&b, log_dir, &bo, err, sizeof err), SL_ELOCKED);
	fds_same(&held, "sl_backend_open of no log and of a held log");
	sl_log_release(holder);
	cr_assert_eq(sl_log_close(holder), SL_OK);
	fds_same(&was, "the holder closed");

	sl_import *imp = NULL;
	cr_assert_eq(sl_import_new(&imp, NULL), SL_OK);
	cr_assert_neq(sl_import_read_db(imp, text), SL_OK);
	sl_import_free(imp);
	cr_assert_eq(sl_import_new(&imp, NULL), SL_OK);
	cr_assert_neq(sl_import_read_db(imp, foreign), SL_OK);
	sl_import_free(imp);
	fds_same(&was, "sl_import_read_db of a file that is not the original's");

	/* A read-only backend, with the writer closed first: SQLite keeps the
	 * descriptor of a closed connection while another connection of the
	 * process holds locks on the same file (it closes it with the last). */
	cr_assert_eq(sl_backend_close(be), SL_OK);
	be = NULL;
	fds_take(&was);
	bo.read_only = true;
	cr_assert_eq(sl_backend_open(&b, log_dir, &bo, err, sizeof err), SL_OK, "%s", err);
	cr_assert_eq(sl_backend_close(b), SL_OK);
	fds_same(&was, "a read-only backend opened and closed");
	/* ... and a writer: every descriptor of a whole backend goes. */
	bo.read_only = false;
	cr_assert_eq(sl_backend_open(&b, log_dir, &bo, err, sizeof err), SL_OK, "%s", err);
	struct sl_job_state st;
	sl_state_init(&st);
	st.id = strdup("fd-check");
	st.name = strdup("a job");
	st.total_sheets = 2;
	cr_assert_eq(sl_backend_save(b, &st), SL_OK, "%s", sl_backend_errmsg(b));
	sl_state_free(&st);
	cr_assert_eq(sl_backend_close(b), SL_OK);
	fds_same(&was, "a writing backend opened, used and closed");

	(void)rc;
	free(none);
	free(junk);
	free(junk_seg);
	free(foreign);
	free(text);
}
