/* _statelog.c: the CPython extension under the statelog package: the
 * backend API (backend.h) as a class, Backend, whose methods release the
 * GIL around every call into the library (so that threads of a pool share
 * the log's fdatasyncs, and an event loop's executor runs them side by
 * side).  Jobs cross as their JSON form (sl_state_to_json(),
 * sl_state_from_json()), rows as dicts with the original's keys and values.
 * The Python face, with the original's names and async methods, is
 * statelog/__init__.py; this module is not meant to be used directly.
 *
 * Errors: statelog.Error(code, message) for anything the library refuses,
 * MemoryError for SL_ENOMEM; the caller maps them to the original's
 * exceptions.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <statelog/statelog.h>

static PyObject *Error;                 /* statelog._statelog.Error */

typedef struct {
	PyObject_HEAD
	sl_backend *be;
} BackendObject;

/* Raises Error(code, message) (MemoryError for SL_ENOMEM); returns NULL. */
static PyObject *raise_sl(int rc, const char *msg)
{
	if (rc == SL_ENOMEM)
		return PyErr_NoMemory();
	PyObject *args = Py_BuildValue("(is)", rc, msg && msg[0] ? msg : sl_strerror(rc));
	if (args) {
		PyErr_SetObject(Error, args);
		Py_DECREF(args);
	}
	return NULL;
}

static PyObject *raise_be(BackendObject *self, int rc)
{
	return raise_sl(rc, self->be ? sl_backend_errmsg(self->be) : "");
}

static int check_open(BackendObject *self)
{
	if (self->be)
		return 0;
	raise_sl(SL_EINVAL, "the backend is closed");
	return -1;
}

/* ---- values ------------------------------------------------------------- */

static PyObject *time_or_none(bool has, int64_t us)
{
	char buf[SL_TIME_BUFSZ];
	if (!has)
		Py_RETURN_NONE;
	if (sl_time_format(us, buf, sizeof buf) != SL_OK)
		Py_RETURN_NONE;
	return PyUnicode_FromString(buf);
}

static PyObject *text_or_none(const char *s)
{
	if (!s)
		Py_RETURN_NONE;
	return PyUnicode_FromString(s);
}

static PyObject *int_or_none(bool has, int64_t v)
{
	if (!has)
		Py_RETURN_NONE;
	return PyLong_FromLongLong(v);
}

static PyObject *real_or_none(bool has, double v)
{
	if (!has)
		Py_RETURN_NONE;
	return PyFloat_FromDouble(v);
}

/* d[key] = v, taking v over; -1 (with the exception set) on failure. */
static int put(PyObject *d, const char *key, PyObject *v)
{
	if (!v)
		return -1;
	int rc = PyDict_SetItemString(d, key, v);
	Py_DECREF(v);
	return rc;
}

static PyObject *state_text(const struct sl_job_state *st)
{
	char *text = NULL;
	if (sl_state_to_json(&text, st) != SL_OK)
		return PyErr_NoMemory();
	PyObject *s = PyUnicode_FromString(text);
	free(text);
	return s;
}

/* ---- the type ----------------------------------------------------------- */

static int Backend_init(BackendObject *self, PyObject *args, PyObject *kw)
{
	static char *names[] = { "log_dir", "db_path", "durability", "views", "create",
				 "read_only", "busy_timeout_ms", NULL };
	const char *log_dir, *db_path = NULL, *durability = "always", *views = "sync";
	int create = 1, read_only = 0;
	unsigned int busy_ms = 0;
	if (!PyArg_ParseTupleAndKeywords(args, kw, "s|zssppI", names, &log_dir, &db_path,
					 &durability, &views, &create, &read_only, &busy_ms))
		return -1;
	struct sl_backend_options o;
	sl_backend_options_init(&o);
	if (strcmp(durability, "always") == 0)
		o.durability = SL_DURABLE_ALWAYS;
	else if (strcmp(durability, "interval") == 0)
		o.durability = SL_DURABLE_INTERVAL;
	else if (strcmp(durability, "none") == 0)
		o.durability = SL_DURABLE_NONE;
	else {
		PyErr_Format(PyExc_ValueError, "durability: expected always, interval or none, "
			     "not '%s'", durability);
		return -1;
	}
	if (strcmp(views, "sync") == 0)
		o.views = SL_VIEWS_SYNC;
	else if (strcmp(views, "live") == 0)
		o.views = SL_VIEWS_LIVE;
	else if (strcmp(views, "on_read") == 0)
		o.views = SL_VIEWS_ON_READ;
	else {
		PyErr_Format(PyExc_ValueError, "views: expected sync, live or on_read, not '%s'",
			     views);
		return -1;
	}
	o.db_path = db_path;
	o.create = create;
	o.read_only = read_only;
	o.busy_timeout_ms = busy_ms;
	if (self->be) {
		sl_backend *old = self->be;
		self->be = NULL;
		Py_BEGIN_ALLOW_THREADS
		sl_backend_close(old);
		Py_END_ALLOW_THREADS
	}
	char err[1024] = "";
	sl_backend *be = NULL;
	int rc;
	Py_BEGIN_ALLOW_THREADS
	rc = sl_backend_open(&be, log_dir, &o, err, sizeof err);
	Py_END_ALLOW_THREADS
	if (rc != SL_OK) {
		raise_sl(rc, err);
		return -1;
	}
	self->be = be;
	return 0;
}

static void Backend_dealloc(BackendObject *self)
{
	if (self->be) {
		sl_backend *be = self->be;
		self->be = NULL;
		Py_BEGIN_ALLOW_THREADS
		sl_backend_close(be);
		Py_END_ALLOW_THREADS
	}
	Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *Backend_close(BackendObject *self, PyObject *Py_UNUSED(ignored))
{
	if (!self->be)
		Py_RETURN_NONE;
	sl_backend *be = self->be;
	self->be = NULL;
	int rc;
	Py_BEGIN_ALLOW_THREADS
	rc = sl_backend_close(be);
	Py_END_ALLOW_THREADS
	if (rc != SL_OK)
		return raise_sl(rc, "closing the backend");
	Py_RETURN_NONE;
}

/* load(job_id) -> JSON text, or None when the job does not exist. */
static PyObject *Backend_load(BackendObject *self, PyObject *args)
{
	const char *id;
	if (!PyArg_ParseTuple(args, "s", &id) || check_open(self))
		return NULL;
	struct sl_job_state st;
	int rc;
	Py_BEGIN_ALLOW_THREADS
	rc = sl_backend_load(&st, self->be, id);
	Py_END_ALLOW_THREADS
	if (rc == SL_ENOTFOUND)
		Py_RETURN_NONE;
	if (rc != SL_OK)
		return raise_be(self, rc);
	PyObject *r = state_text(&st);
	sl_state_free(&st);
	return r;
}

/* load_at(job_id, seq=0, time=None) -> JSON text or None. */
static PyObject *Backend_load_at(BackendObject *self, PyObject *args, PyObject *kw)
{
	static char *names[] = { "job_id", "seq", "time", NULL };
	const char *id, *when = NULL;
	unsigned long long seq = 0;
	if (!PyArg_ParseTupleAndKeywords(args, kw, "s|Kz", names, &id, &seq, &when) ||
	    check_open(self))
		return NULL;
	int64_t us = 0;
	if (when && sl_time_parse(&us, when) != SL_OK) {
		PyErr_Format(PyExc_ValueError, "time: '%s' is not an ISO-8601 time", when);
		return NULL;
	}
	struct sl_job_state st;
	int rc;
	Py_BEGIN_ALLOW_THREADS
	rc = sl_backend_load_at(&st, self->be, id, when ? 0 : seq, when != NULL, us);
	Py_END_ALLOW_THREADS
	if (rc == SL_ENOTFOUND)
		Py_RETURN_NONE;
	if (rc != SL_OK)
		return raise_be(self, rc);
	PyObject *r = state_text(&st);
	sl_state_free(&st);
	return r;
}

/* save(json_text) -> the commit's time (updated_at) as ISO text. */
static PyObject *Backend_save(BackendObject *self, PyObject *args)
{
	const char *text;
	Py_ssize_t len;
	if (!PyArg_ParseTuple(args, "s#", &text, &len) || check_open(self))
		return NULL;
	struct sl_job_state st;
	struct sl_state_json_problem where;
	int rc, parsed;
	Py_BEGIN_ALLOW_THREADS
	rc = sl_state_from_json(&st, text, (size_t)len, &where);
	parsed = rc == SL_OK;
	if (parsed)
		rc = sl_backend_save(self->be, &st);
	Py_END_ALLOW_THREADS
	if (!parsed) {
		/* A state the original's model would have refused. */
		if (rc != SL_EINVAL)
			return raise_sl(rc, "save: reading the state");
		if (where.sheet_num)
			PyErr_Format(PyExc_ValueError, "save: sheet %lld: %s: %s",
				     (long long)where.sheet_num, where.key, where.reason);
		else
			PyErr_Format(PyExc_ValueError, "save: %s: %s", where.key, where.reason);
		return NULL;
	}
	if (rc != SL_OK) {
		sl_state_free(&st);
		return raise_be(self, rc);
	}
	PyObject *r = time_or_none(true, st.updated_at_us);
	sl_state_free(&st);
	return r;
}

static PyObject *Backend_delete(BackendObject *self, PyObject *args)
{
	const char *id;
	if (!PyArg_ParseTuple(args, "s", &id) || check_open(self))
		return NULL;
	int rc;
	Py_BEGIN_ALLOW_THREADS
	rc = sl_backend_delete(self->be, id);
	Py_END_ALLOW_THREADS
	if (rc == SL_ENOTFOUND)
		Py_RETURN_FALSE;
	if (rc != SL_OK)
		return raise_be(self, rc);
	Py_RETURN_TRUE;
}

/* list_jobs() -> [JSON text], newest updated_at first. */
static PyObject *Backend_list_jobs(BackendObject *self, PyObject *Py_UNUSED(ignored))
{
	if (check_open(self))
		return NULL;
	struct sl_job_state *sts = NULL;
	size_t n = 0;
	int rc;
	Py_BEGIN_ALLOW_THREADS
	rc = sl_backend_list_jobs(&sts, &n, self->be);
	Py_END_ALLOW_THREADS
	if (rc != SL_OK)
		return raise_be(self, rc);
	PyObject *list = PyList_New((Py_ssize_t)n);
	for (size_t i = 0; list && i < n; i++) {
		PyObject *s = state_text(&sts[i]);
		if (!s) {
			Py_CLEAR(list);
			break;
		}
		PyList_SET_ITEM(list, (Py_ssize_t)i, s);
	}
	sl_backend_states_free(sts, n);
	return list;
}

static PyObject *Backend_next_sheet(BackendObject *self, PyObject *args)
{
	const char *id;
	if (!PyArg_ParseTuple(args, "s", &id) || check_open(self))
		return NULL;
	int64_t n = 0;
	int rc;
	Py_BEGIN_ALLOW_THREADS
	rc = sl_backend_next_sheet(&n, self->be, id);
	Py_END_ALLOW_THREADS
	if (rc != SL_OK)
		return raise_be(self, rc);
	if (n == 0)
		Py_RETURN_NONE;
	return PyLong_FromLongLong(n);
}

static PyObject *Backend_mark_sheet_status(BackendObject *self, PyObject *args)
{
	const char *id, *status, *msg = NULL;
	long long sheet;
	if (!PyArg_ParseTuple(args, "sLs|z", &id, &sheet, &status, &msg) || check_open(self))
		return NULL;
	int rc;
	Py_BEGIN_ALLOW_THREADS
	rc = sl_backend_mark_sheet_status(self->be, id, sheet, status, msg);
	Py_END_ALLOW_THREADS
	if (rc != SL_OK)
		return raise_be(self, rc);
	Py_RETURN_NONE;
}

static PyObject *Backend_record_execution(BackendObject *self, PyObject *args, PyObject *kw)
{
	static char *names[] = { "job_id", "sheet_num", "attempt_num", "prompt", "output",
				 "exit_code", "duration_seconds", NULL };
	struct sl_execution_record r = { 0 };
	long long sheet, attempt;
	PyObject *exit_code = Py_None, *duration = Py_None;
	if (!PyArg_ParseTupleAndKeywords(args, kw, "sLL|zzOO", names, &r.job_id, &sheet, &attempt,
					 &r.prompt, &r.output, &exit_code, &duration) ||
	    check_open(self))
		return NULL;
	r.sheet_num = sheet;
	r.attempt_num = attempt;
	if (exit_code != Py_None) {
		r.exit_code = PyLong_AsLongLong(exit_code);
		if (PyErr_Occurred())
			return NULL;
		r.has_exit_code = true;
	}
	if (duration != Py_None) {
		r.duration_seconds = PyFloat_AsDouble(duration);
		if (PyErr_Occurred())
			return NULL;
		r.has_duration_seconds = true;
	}
	int64_t id = 0;
	int rc;
	Py_BEGIN_ALLOW_THREADS
	rc = sl_backend_record_execution(&id, self->be, &r);
	Py_END_ALLOW_THREADS
	if (rc != SL_OK)
		return raise_be(self, rc);
	return PyLong_FromLongLong(id);
}

/* history(job_id, sheet_num=None, limit=100) -> [dict], the columns of
 * execution_history as the original's SELECT * gives them. */
static PyObject *Backend_history(BackendObject *self, PyObject *args, PyObject *kw)
{
	static char *names[] = { "job_id", "sheet_num", "limit", NULL };
	const char *id;
	PyObject *sheet_o = Py_None;
	long long limit = SL_BACKEND_HISTORY_LIMIT;
	if (!PyArg_ParseTupleAndKeywords(args, kw, "s|OL", names, &id, &sheet_o, &limit) ||
	    check_open(self))
		return NULL;
	int64_t sheet = 0;
	bool by_sheet = sheet_o != Py_None;
	if (by_sheet) {
		sheet = PyLong_AsLongLong(sheet_o);
		if (PyErr_Occurred())
			return NULL;
	}
	/* The original's LIMIT: 0 gives nothing, a negative value everything. */
	if (limit == 0 || (by_sheet && sheet < 1))
		return PyList_New(0);
	struct sl_execution_row *rows = NULL;
	size_t n = 0;
	int rc;
	Py_BEGIN_ALLOW_THREADS
	rc = sl_backend_history(&rows, &n, self->be, id, sheet, limit);
	Py_END_ALLOW_THREADS
	if (rc != SL_OK)
		return raise_be(self, rc);
	PyObject *list = PyList_New(0);
	for (size_t i = 0; list && i < n; i++) {
		const struct sl_execution_row *r = &rows[i];
		PyObject *d = PyDict_New();
		if (!d || put(d, "id", PyLong_FromLongLong(r->id)) ||
		    put(d, "job_id", PyUnicode_FromString(r->job_id)) ||
		    put(d, "sheet_num", PyLong_FromLongLong(r->sheet_num)) ||
		    put(d, "attempt_num", PyLong_FromLongLong(r->attempt_num)) ||
		    put(d, "prompt", text_or_none(r->prompt)) ||
		    put(d, "output", text_or_none(r->output)) ||
		    put(d, "exit_code", int_or_none(r->has_exit_code, r->exit_code)) ||
		    put(d, "duration_seconds", real_or_none(r->has_duration_seconds,
							     r->duration_seconds)) ||
		    put(d, "executed_at", time_or_none(true, r->executed_at_us)) ||
		    PyList_Append(list, d)) {
			Py_XDECREF(d);
			Py_CLEAR(list);
			break;
		}
		Py_DECREF(d);
	}
	sl_backend_history_free(rows, n);
	return list;
}

static PyObject *Backend_history_count(BackendObject *self, PyObject *args)
{
	const char *id;
	if (!PyArg_ParseTuple(args, "s", &id) || check_open(self))
		return NULL;
	int64_t n = 0;
	int rc;
	Py_BEGIN_ALLOW_THREADS
	rc = sl_backend_history_count(&n, self->be, id);
	Py_END_ALLOW_THREADS
	if (rc != SL_OK)
		return raise_be(self, rc);
	return PyLong_FromLongLong(n);
}

/* statistics(job_id) -> the original's dict ({} for an unknown job). */
static PyObject *Backend_statistics(BackendObject *self, PyObject *args)
{
	const char *id;
	if (!PyArg_ParseTuple(args, "s", &id) || check_open(self))
		return NULL;
	struct sl_job_statistics s;
	int rc;
	Py_BEGIN_ALLOW_THREADS
	rc = sl_backend_statistics(&s, self->be, id);
	Py_END_ALLOW_THREADS
	if (rc != SL_OK)
		return raise_be(self, rc);
	PyObject *d = PyDict_New();
	if (!d || !s.found)
		return d;
	if (put(d, "total_sheets", PyLong_FromLongLong(s.total_sheets)) ||
	    put(d, "completed_sheets", PyLong_FromLongLong(s.completed_sheets)) ||
	    put(d, "success_rate", s.total_sheets > 0 ? PyFloat_FromDouble(s.success_rate)
						      : PyFloat_FromDouble(0.0)) ||
	    put(d, "total_retries", PyLong_FromLongLong(s.total_retries)) ||
	    put(d, "total_executions", PyLong_FromLongLong(s.total_executions)) ||
	    put(d, "avg_duration_seconds", real_or_none(s.has_avg_duration_seconds,
							 s.avg_duration_seconds)) ||
	    put(d, "successful_executions", int_or_none(s.has_successful_executions,
							 s.successful_executions))) {
		Py_DECREF(d);
		return NULL;
	}
	return d;
}

/* query_jobs(status=None, since=None (ISO text), limit=50) -> [dict]. */
static PyObject *Backend_query_jobs(BackendObject *self, PyObject *args, PyObject *kw)
{
	static char *names[] = { "status", "since", "limit", NULL };
	struct sl_job_query q = { 0 };
	const char *since = NULL;
	long long limit = SL_BACKEND_QUERY_LIMIT;
	if (!PyArg_ParseTupleAndKeywords(args, kw, "|zzL", names, &q.status, &since, &limit) ||
	    check_open(self))
		return NULL;
	if (since) {
		if (sl_time_parse(&q.since_us, since) != SL_OK) {
			PyErr_Format(PyExc_ValueError, "since: '%s' is not an ISO-8601 time", since);
			return NULL;
		}
		q.has_since = true;
	}
	if (limit == 0)
		return PyList_New(0);
	q.limit = limit;
	struct sl_job_summary *rows = NULL;
	size_t n = 0;
	int rc;
	Py_BEGIN_ALLOW_THREADS
	rc = sl_backend_query_jobs(&rows, &n, self->be, &q);
	Py_END_ALLOW_THREADS
	if (rc != SL_OK)
		return raise_be(self, rc);
	PyObject *list = PyList_New(0);
	for (size_t i = 0; list && i < n; i++) {
		const struct sl_job_summary *r = &rows[i];
		PyObject *d = PyDict_New();
		if (!d || put(d, "id", PyUnicode_FromString(r->id)) ||
		    put(d, "name", PyUnicode_FromString(r->name)) ||
		    put(d, "status", PyUnicode_FromString(sl_job_status_name(r->status))) ||
		    put(d, "total_sheets", PyLong_FromLongLong(r->total_sheets)) ||
		    put(d, "last_completed_sheet", PyLong_FromLongLong(r->last_completed_sheet)) ||
		    put(d, "created_at", time_or_none(true, r->created_at_us)) ||
		    put(d, "updated_at", time_or_none(true, r->updated_at_us)) ||
		    put(d, "completed_at", time_or_none(r->has_completed_at, r->completed_at_us)) ||
		    put(d, "error_message", text_or_none(r->error_message)) ||
		    PyList_Append(list, d)) {
			Py_XDECREF(d);
			Py_CLEAR(list);
			break;
		}
		Py_DECREF(d);
	}
	sl_backend_summaries_free(rows, n);
	return list;
}

static PyObject *Backend_sync_views(BackendObject *self, PyObject *Py_UNUSED(ignored))
{
	if (check_open(self))
		return NULL;
	int rc;
	Py_BEGIN_ALLOW_THREADS
	rc = sl_backend_sync_views(self->be);
	Py_END_ALLOW_THREADS
	if (rc != SL_OK)
		return raise_be(self, rc);
	Py_RETURN_NONE;
}

static PyObject *Backend_last_seq(BackendObject *self, PyObject *Py_UNUSED(ignored))
{
	if (check_open(self))
		return NULL;
	return PyLong_FromUnsignedLongLong(sl_backend_last_seq(self->be));
}

/* append([json_line, ...]) -> (first_seq, last_seq): the events as one
 * commit, each checked by the rules against its job's latest state (as
 * `statelog append` does); nothing is appended when one is refused. */
static PyObject *Backend_append(BackendObject *self, PyObject *args)
{
	PyObject *lines;
	if (!PyArg_ParseTuple(args, "O", &lines) || check_open(self))
		return NULL;
	PyObject *seq = PySequence_Fast(lines, "append: expected a list of JSON lines");
	if (!seq)
		return NULL;
	Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
	sl_event **evs = n ? calloc((size_t)n, sizeof(*evs)) : NULL;
	PyObject *result = NULL;
	if (n == 0) {
		PyErr_SetString(PyExc_ValueError, "append: no events");
		goto out;
	}
	if (!evs) {
		PyErr_NoMemory();
		goto out;
	}
	for (Py_ssize_t i = 0; i < n; i++) {
		Py_ssize_t len;
		const char *text = PyUnicode_AsUTF8AndSize(PySequence_Fast_GET_ITEM(seq, i), &len);
		if (!text)
			goto out;
		char err[512] = "";
		if (sl_event_from_json(&evs[i], text, (size_t)len, err, sizeof err) != SL_OK) {
			PyErr_Format(PyExc_ValueError, "append: event %zd: %s", i + 1, err);
			goto out;
		}
	}
	struct sl_commit_info ci;
	int rc;
	Py_BEGIN_ALLOW_THREADS
	rc = sl_backend_append(&ci, self->be, evs, (size_t)n);
	Py_END_ALLOW_THREADS
	if (rc != SL_OK) {
		raise_be(self, rc);
		goto out;
	}
	result = Py_BuildValue("(KK)", (unsigned long long)ci.first_seq,
			       (unsigned long long)ci.last_seq);
out:
	for (Py_ssize_t i = 0; evs && i < n; i++)
		sl_event_free(evs[i]);
	free(evs);
	Py_DECREF(seq);
	return result;
}

/* The entries of an audit, as JSON lines, gathered with the GIL released. */
struct audit_lines {
	char **lines;
	size_t n, cap;
	const char *job;
};

static int audit_collect(void *ctx, const struct sl_audit_entry *e)
{
	struct audit_lines *a = ctx;
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 64;
		char **nl = realloc(a->lines, cap * sizeof(*nl));
		if (!nl)
			return SL_ENOMEM;
		a->lines = nl;
		a->cap = cap;
	}
	int rc = sl_audit_entry_to_json(&a->lines[a->n], e, a->job, NULL);
	if (rc == SL_OK)
		a->n++;
	return rc;
}

/* audit(job_id, sheet=0, from_seq=0, to_seq=0) -> [json_line]: every event
 * of the job with what it changed (history.h). */
static PyObject *Backend_audit(BackendObject *self, PyObject *args, PyObject *kw)
{
	static char *names[] = { "job_id", "sheet", "from_seq", "to_seq", NULL };
	const char *id;
	long long sheet = 0;
	unsigned long long from = 0, to = 0;
	if (!PyArg_ParseTupleAndKeywords(args, kw, "s|LKK", names, &id, &sheet, &from, &to) ||
	    check_open(self))
		return NULL;
	struct sl_audit_filter f = { .sheet = sheet, .from_seq = from, .to_seq = to };
	struct audit_lines a = { .job = id };
	int rc;
	Py_BEGIN_ALLOW_THREADS
	rc = sl_backend_audit(self->be, id, &f, audit_collect, &a);
	Py_END_ALLOW_THREADS
	PyObject *list = NULL;
	if (rc == SL_ENOMEM)
		PyErr_NoMemory();
	else if (rc != SL_OK)
		raise_be(self, rc);
	else if ((list = PyList_New((Py_ssize_t)a.n)) != NULL) {
		for (size_t i = 0; i < a.n; i++) {
			PyObject *line = PyUnicode_FromString(a.lines[i]);
			if (!line) {
				Py_CLEAR(list);
				break;
			}
			PyList_SET_ITEM(list, (Py_ssize_t)i, line);
		}
	}
	for (size_t i = 0; i < a.n; i++)
		free(a.lines[i]);
	free(a.lines);
	return list;
}

static PyMethodDef Backend_methods[] = {
	{ "append", (PyCFunction)Backend_append, METH_VARARGS,
	  "append([json_line]) -> (first_seq, last_seq)" },
	{ "audit", (PyCFunction)(void (*)(void))Backend_audit, METH_VARARGS | METH_KEYWORDS,
	  "audit(job_id, sheet=0, from_seq=0, to_seq=0) -> [json_line]" },
	{ "close", (PyCFunction)Backend_close, METH_NOARGS, "close()" },
	{ "load", (PyCFunction)Backend_load, METH_VARARGS, "load(job_id) -> str | None" },
	{ "load_at", (PyCFunction)(void (*)(void))Backend_load_at, METH_VARARGS | METH_KEYWORDS,
	  "load_at(job_id, seq=0, time=None) -> str | None" },
	{ "save", (PyCFunction)Backend_save, METH_VARARGS, "save(json_text) -> updated_at" },
	{ "delete", (PyCFunction)Backend_delete, METH_VARARGS, "delete(job_id) -> bool" },
	{ "list_jobs", (PyCFunction)Backend_list_jobs, METH_NOARGS, "list_jobs() -> [str]" },
	{ "next_sheet", (PyCFunction)Backend_next_sheet, METH_VARARGS,
	  "next_sheet(job_id) -> int | None" },
	{ "mark_sheet_status", (PyCFunction)Backend_mark_sheet_status, METH_VARARGS,
	  "mark_sheet_status(job_id, sheet_num, status, error_message=None)" },
	{ "record_execution", (PyCFunction)(void (*)(void))Backend_record_execution,
	  METH_VARARGS | METH_KEYWORDS, "record_execution(...) -> int" },
	{ "history", (PyCFunction)(void (*)(void))Backend_history, METH_VARARGS | METH_KEYWORDS,
	  "history(job_id, sheet_num=None, limit=100) -> [dict]" },
	{ "history_count", (PyCFunction)Backend_history_count, METH_VARARGS,
	  "history_count(job_id) -> int" },
	{ "statistics", (PyCFunction)Backend_statistics, METH_VARARGS, "statistics(job_id) -> dict" },
	{ "query_jobs", (PyCFunction)(void (*)(void))Backend_query_jobs,
	  METH_VARARGS | METH_KEYWORDS, "query_jobs(status=None, since=None, limit=50) -> [dict]" },
	{ "sync_views", (PyCFunction)Backend_sync_views, METH_NOARGS, "sync_views()" },
	{ "last_seq", (PyCFunction)Backend_last_seq, METH_NOARGS, "last_seq() -> int" },
	{ NULL, NULL, 0, NULL },
};

static PyTypeObject BackendType = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "statelog._statelog.Backend",
	.tp_basicsize = sizeof(BackendObject),
	.tp_flags = Py_TPFLAGS_DEFAULT,
	.tp_doc = "The statelog backend API (backend.h); see statelog.StateBackend.",
	.tp_new = PyType_GenericNew,
	.tp_init = (initproc)Backend_init,
	.tp_dealloc = (destructor)Backend_dealloc,
	.tp_methods = Backend_methods,
};

/* ---- Reader: the log's events, in order (log.h) --------------------- */

typedef struct {
	PyObject_HEAD
	sl_reader *r;
} ReaderObject;

static int Reader_init(ReaderObject *self, PyObject *args, PyObject *kw)
{
	static char *names[] = { "log_dir", NULL };
	const char *dir;
	if (!PyArg_ParseTupleAndKeywords(args, kw, "s", names, &dir))
		return -1;
	if (self->r) {
		sl_reader_close(self->r);
		self->r = NULL;
	}
	char err[1024] = "";
	int rc;
	Py_BEGIN_ALLOW_THREADS
	rc = sl_reader_open(&self->r, dir, NULL, err, sizeof err);
	Py_END_ALLOW_THREADS
	if (rc != SL_OK) {
		raise_sl(rc, err);
		return -1;
	}
	return 0;
}

static void Reader_dealloc(ReaderObject *self)
{
	sl_reader_close(self->r);
	Py_TYPE(self)->tp_free((PyObject *)self);
}

static int reader_open(ReaderObject *self)
{
	if (self->r)
		return 0;
	PyErr_SetString(Error, "the reader is closed");
	return -1;
}

static PyObject *Reader_close(ReaderObject *self, PyObject *Py_UNUSED(ignored))
{
	sl_reader_close(self->r);
	self->r = NULL;
	Py_RETURN_NONE;
}

/* seek(seq=0, time=None): the next event is the first with a sequence
 * number >= seq, or (time given, ISO-8601) the first at or after it. */
static PyObject *Reader_seek(ReaderObject *self, PyObject *args, PyObject *kw)
{
	static char *names[] = { "seq", "time", NULL };
	unsigned long long seq = 0;
	const char *when = NULL;
	if (!PyArg_ParseTupleAndKeywords(args, kw, "|Kz", names, &seq, &when) || reader_open(self))
		return NULL;
	int64_t us = 0;
	if (when && sl_time_parse(&us, when) != SL_OK) {
		PyErr_Format(PyExc_ValueError, "time: '%s' is not an ISO-8601 time", when);
		return NULL;
	}
	int rc;
	Py_BEGIN_ALLOW_THREADS
	rc = when ? sl_reader_seek_time(self->r, us) : sl_reader_seek_seq(self->r, seq);
	Py_END_ALLOW_THREADS
	if (rc != SL_OK)
		return raise_sl(rc, sl_reader_errmsg(self->r));
	Py_RETURN_NONE;
}

/* next() -> JSON line of the next event (`statelog dump --json`'s form; a
 * range lost to a repair as {"seq", "type": "gap", "lost"}), or None at
 * the end of what is committed now. */
static PyObject *Reader_next(ReaderObject *self, PyObject *Py_UNUSED(ignored))
{
	if (reader_open(self))
		return NULL;
	struct sl_record rec;
	int rc;
	char *line = NULL;
	Py_BEGIN_ALLOW_THREADS
	rc = sl_reader_next(&rec, self->r);
	if (rc == 1 && rec.data) {
		sl_event *ev = NULL;
		rc = sl_event_decode(&ev, rec.data, rec.len, rec.seq, rec.time_us);
		if (rc == SL_OK) {
			line = sl_event_to_json_line(ev);
			rc = line ? 1 : SL_ENOMEM;
		}
		sl_event_free(ev);
	}
	Py_END_ALLOW_THREADS
	if (rc == 0)
		Py_RETURN_NONE;
	if (rc < 0)
		return raise_sl(rc, rc == SL_ENOMEM ? "out of memory" : sl_reader_errmsg(self->r));
	if (!line)
		return PyUnicode_FromFormat("{\"seq\": %llu, \"type\": \"gap\", \"lost\": %u}",
					    (unsigned long long)rec.seq, (unsigned)rec.lost);
	PyObject *r = PyUnicode_FromString(line);
	free(line);
	return r;
}

/* last_seq() -> the sequence number of the last event committed now. */
static PyObject *Reader_last_seq(ReaderObject *self, PyObject *Py_UNUSED(ignored))
{
	if (reader_open(self))
		return NULL;
	uint64_t last = 0;
	int rc;
	Py_BEGIN_ALLOW_THREADS
	rc = sl_reader_last_seq(&last, self->r);
	Py_END_ALLOW_THREADS
	if (rc != SL_OK)
		return raise_sl(rc, sl_reader_errmsg(self->r));
	return PyLong_FromUnsignedLongLong(last);
}

static PyMethodDef Reader_methods[] = {
	{ "close", (PyCFunction)Reader_close, METH_NOARGS, "close()" },
	{ "seek", (PyCFunction)(void (*)(void))Reader_seek, METH_VARARGS | METH_KEYWORDS,
	  "seek(seq=0, time=None)" },
	{ "next", (PyCFunction)Reader_next, METH_NOARGS, "next() -> str | None" },
	{ "last_seq", (PyCFunction)Reader_last_seq, METH_NOARGS, "last_seq() -> int" },
	{ NULL, NULL, 0, NULL },
};

static PyTypeObject ReaderType = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "statelog._statelog.Reader",
	.tp_basicsize = sizeof(ReaderObject),
	.tp_flags = Py_TPFLAGS_DEFAULT,
	.tp_doc = "A reader of the log (log.h); see statelog.Log.",
	.tp_new = PyType_GenericNew,
	.tp_init = (initproc)Reader_init,
	.tp_dealloc = (destructor)Reader_dealloc,
	.tp_methods = Reader_methods,
};

/* rebuild(log_dir, db_path) -> dict: the views built anew from the log and
 * swapped in (projector.h, sl_proj_rebuild()). */
static PyObject *mod_rebuild(PyObject *m, PyObject *args)
{
	(void)m;
	const char *log_dir, *db_path;
	if (!PyArg_ParseTuple(args, "ss", &log_dir, &db_path))
		return NULL;
	struct sl_proj_stats st;
	char err[1024] = "";
	int rc;
	Py_BEGIN_ALLOW_THREADS
	rc = sl_proj_rebuild(log_dir, db_path, NULL, &st, err, sizeof err);
	Py_END_ALLOW_THREADS
	if (rc != SL_OK)
		return raise_sl(rc, err);
	return Py_BuildValue("{s:K,s:K,s:K,s:K}", "events_applied",
			     (unsigned long long)st.events_applied, "last_seq",
			     (unsigned long long)st.last_seq, "rejected_events",
			     (unsigned long long)st.rejected_events, "gaps",
			     (unsigned long long)st.gaps);
}

static PyObject *mod_version(PyObject *m, PyObject *Py_UNUSED(ignored))
{
	(void)m;
	return PyUnicode_FromString(sl_version());
}

static PyMethodDef module_methods[] = {
	{ "version", mod_version, METH_NOARGS, "The C library's version." },
	{ "rebuild", mod_rebuild, METH_VARARGS, "rebuild(log_dir, db_path) -> dict" },
	{ NULL, NULL, 0, NULL },
};

static struct PyModuleDef module = {
	PyModuleDef_HEAD_INIT, "_statelog", "statelog's C library (see statelog).", -1,
	module_methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__statelog(void)
{
	if (PyType_Ready(&BackendType) < 0 || PyType_Ready(&ReaderType) < 0)
		return NULL;
	PyObject *m = PyModule_Create(&module);
	if (!m)
		return NULL;
	Error = PyErr_NewExceptionWithDoc("statelog._statelog.Error",
					  "A failure of statelog's library: args = (code, message).",
					  NULL, NULL);
	Py_INCREF(&BackendType);
	Py_INCREF(&ReaderType);
	if (!Error || PyModule_AddObject(m, "Error", Error) < 0 ||
	    PyModule_AddObject(m, "Backend", (PyObject *)&BackendType) < 0 ||
	    PyModule_AddObject(m, "Reader", (PyObject *)&ReaderType) < 0 ||
	    PyModule_AddIntConstant(m, "ENOTFOUND", SL_ENOTFOUND) < 0 ||
	    PyModule_AddIntConstant(m, "EINVAL", SL_EINVAL) < 0 ||
	    PyModule_AddIntConstant(m, "EEXIST", SL_EEXIST) < 0 ||
	    PyModule_AddIntConstant(m, "ELOCKED", SL_ELOCKED) < 0) {
		Py_DECREF(m);
		return NULL;
	}
	Py_INCREF(Error);
	return m;
}
