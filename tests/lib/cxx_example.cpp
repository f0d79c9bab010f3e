// cxx_example.cpp: a C++ program using libstatelog through the installed
// headers (<statelog/statelog.h>, extern "C" in each), as another
// language's binding would: the version, errors, an event built by field
// name and shown as JSON and text, and the backend (a job saved, a sheet run
// through intention calls, an execution recorded, loaded back, its history
// queried), then the log read back.  Compiled with -Wall -Wextra -Wpedantic
// -Werror; exits 0 when every check holds and prints one line per check.
//
// Usage: cxx_example [DIR]   (DIR: a scratch directory; default: a new one
// under $TMPDIR, removed at the end)
#include <statelog/statelog.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

namespace {

int failures = 0;

void check(bool ok, const std::string &what)
{
	std::printf("%s %s\n", ok ? "ok" : "FAIL", what.c_str());
	if (!ok)
		failures++;
}

// An owned copy for the state's strings, freed by sl_state_free().
char *dup(const char *s)
{
	return s ? strdup(s) : nullptr;
}

void events()
{
	sl_event *ev = nullptr;
	check(sl_event_new(&ev, "sheet_completed", "cxx-job") == SL_OK, "sl_event_new");
	check(sl_event_set_int(ev, "sheet_num", 2) == SL_OK, "sl_event_set_int");
	check(sl_event_set_bool(ev, "validation_passed", true) == SL_OK, "sl_event_set_bool");
	check(sl_event_set_real(ev, "duration_seconds", 1.5) == SL_OK, "sl_event_set_real");
	check(sl_event_set_text(ev, "validation_details", "[\"lint\"]") == SL_OK,
	      "sl_event_set_text (JSON text)");
	check(sl_event_set_text(ev, "validation_details", "[\"lint\"") == SL_EINVAL,
	      "sl_event_set_text refuses JSON that does not parse");
	check(sl_event_set_int(ev, "no_such_field", 1) == SL_EINVAL, "unknown field refused");
	sl_event_set_time(ev, 1795661378504474LL);

	char *line = sl_event_to_json_line(ev);
	const char *want = "{\"time\": \"2026-11-26T02:49:38.504474+00:00\", \"job_id\": \"cxx-job\", "
			   "\"type\": \"sheet_completed\", \"body\": {\"sheet_num\": 2, "
			   "\"validation_passed\": true, \"validation_details\": \"[\\\"lint\\\"]\", "
			   "\"duration_seconds\": 1.5}}";
	check(line && std::strcmp(line, want) == 0,
	      std::string("sl_event_to_json_line: ") + (line ? line : "(null)"));

	// (each call before its check: the order in which a call's arguments
	// are evaluated is unspecified)
	sl_event *back = nullptr;
	char err[256] = "";
	int rc = line ? sl_event_from_json(&back, line, std::strlen(line), err, sizeof err) : SL_EINVAL;
	check(rc == SL_OK, std::string("sl_event_from_json ") + err);
	int64_t sheet = 0;
	check(back && sl_event_get_int(&sheet, back, "sheet_num") == SL_OK && sheet == 2,
	      "sl_event_get_int after the JSON round trip");
	char *text = nullptr;
	rc = back ? sl_event_to_text(&text, back) : SL_EINVAL;
	check(rc == SL_OK && std::strstr(text, " sheet=2 "),
	      std::string("sl_event_to_text: ") + (text ? text : "(null)"));
	std::free(text);
	std::free(line);
	sl_event_free(back);
	sl_event_free(ev);
}

void backend(const std::string &dir)
{
	const std::string log_dir = dir + "/cxx.log";
	sl_backend_options opts;
	sl_backend_options_init(&opts);
	opts.create = true;
	sl_backend *be = nullptr;
	char err[512] = "";
	int rc = sl_backend_open(&be, log_dir.c_str(), &opts, err, sizeof err);
	check(rc == SL_OK, std::string("sl_backend_open: ") + (rc ? err : log_dir.c_str()));
	if (rc != SL_OK)
		return;

	sl_job_state st;
	sl_state_init(&st);
	st.presence = SL_JOB_LIVE;
	st.id = dup("cxx-job");
	st.name = dup("C++ job");
	st.total_sheets = 2;
	rc = sl_backend_save(be, &st);
	check(rc == SL_OK, std::string("sl_backend_save ") + sl_backend_errmsg(be));
	sl_state_free(&st);

	check(sl_backend_sheet_started(be, "cxx-job", 1) == SL_OK, "sl_backend_sheet_started");
	sl_execution_record rec{};
	rec.job_id = "cxx-job";
	rec.sheet_num = 1;
	rec.attempt_num = 1;
	rec.output = "done";
	rec.has_exit_code = true;
	rec.exit_code = 0;
	int64_t exec_id = 0;
	check(sl_backend_record_execution(&exec_id, be, &rec) == SL_OK && exec_id > 0,
	      "sl_backend_record_execution");
	check(sl_backend_sheet_completed(be, "cxx-job", 1, nullptr) == SL_OK,
	      "sl_backend_sheet_completed");

	sl_job_state got;
	sl_state_init(&got);
	rc = sl_backend_load(&got, be, "cxx-job");
	check(rc == SL_OK && got.last_completed_sheet == 1 &&
	      std::strcmp(sl_job_status_name(got.status), "running") == 0,
	      std::string("sl_backend_load: status ") + sl_job_status_name(got.status));
	sl_state_free(&got);

	sl_execution_row *rows = nullptr;
	size_t n = 0;
	rc = sl_backend_history(&rows, &n, be, "cxx-job", 0, 0);
	check(rc == SL_OK && n == 1 && rows[0].id == exec_id && std::strcmp(rows[0].output, "done") == 0,
	      "sl_backend_history");
	sl_backend_history_free(rows, n);
	check(sl_backend_load(&got, be, "no-such-job") == SL_ENOTFOUND, "an unknown job is SL_ENOTFOUND");
	check(sl_backend_close(be) == SL_OK, "sl_backend_close");

	// The log, read back: every event the calls appended.
	sl_reader *r = nullptr;
	rc = sl_reader_open(&r, log_dir.c_str(), nullptr, err, sizeof err);
	check(rc == SL_OK, std::string("sl_reader_open ") + err);
	sl_record record;
	std::string types;
	while (r && sl_reader_next(&record, r) == 1) {
		sl_event *ev = nullptr;
		if (record.lost || sl_event_decode(&ev, record.data, record.len, record.seq,
						   record.time_us) != SL_OK)
			continue;
		types += std::string(types.empty() ? "" : " ") + sl_event_type_name(ev);
		sl_event_free(ev);
	}
	sl_reader_close(r);
	check(types == "job_created sheet_started execution_recorded sheet_completed",
	      "the log holds: " + types);
}

}  // namespace

int main(int argc, char **argv)
{
	check(std::strcmp(sl_version(), SL_VERSION_STRING) == 0,
	      std::string("sl_version() ") + sl_version());
	check(std::strcmp(sl_strerror(ENOENT), "No such file or directory") == 0,
	      "sl_strerror(ENOENT)");
	check(std::strcmp(sl_strerror(SL_ENOTFOUND), "not found") == 0, "sl_strerror(SL_ENOTFOUND)");
	events();

	std::string dir;
	bool scratch = argc < 2;
	if (scratch) {
		const char *tmp = std::getenv("TMPDIR");
		std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/statelog-cxx.XXXXXX";
		if (!mkdtemp(templ.data())) {
			std::perror("mkdtemp");
			return 1;
		}
		dir = templ;
	} else {
		dir = argv[1];
	}
	backend(dir);
	if (scratch)
		std::filesystem::remove_all(dir);

	std::printf("%s\n", failures ? "FAILED" : "all checks passed");
	return failures ? 1 : 0;
}
