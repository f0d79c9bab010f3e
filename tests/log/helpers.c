/* helpers.c: fixtures of the log tests (see helpers.h). */
#include "helpers.h"
#include "event_internal.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *th_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char *p;
	cr_assert_neq(asprintf(&p, "%s/sltest-XXXXXX", base ? base : "/tmp"), -1, "asprintf");
	cr_assert_not_null(mkdtemp(p), "mkdtemp %s", p);
	return p;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void th_rmdir(char *path)
{
	if (path) {
		chmod(path, 0755);
		nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	}
	free(path);
}

sl_event *th_event(const char *job, uint64_t i)
{
	sl_event *ev = calloc(1, sizeof(*ev));
	statelog__event__init(ev);
	ev->job_id = strdup(job);
	switch (i % 4) {
	case 0: {
		Statelog__SheetStarted *b = calloc(1, sizeof(*b));
		statelog__sheet_started__init(b);
		b->has_sheet_num = 1;
		b->sheet_num = (int64_t)(i % 50) + 1;
		ev->body_case = STATELOG__EVENT__BODY_SHEET_STARTED;
		ev->sheet_started = b;
		break;
	}
	case 1: {
		Statelog__ExecutionRecorded *b = calloc(1, sizeof(*b));
		statelog__execution_recorded__init(b);
		b->has_execution_id = 1;
		b->execution_id = (int64_t)i;
		b->has_sheet_num = 1;
		b->sheet_num = (int64_t)(i % 50) + 1;
		char buf[400];
		snprintf(buf, sizeof(buf), "Run the tests for module %" PRIu64 " and report the "
			 "failures in src/module_%" PRIu64 ".py with their tracebacks.", i, i % 7);
		b->prompt = strdup(buf);
		b->output = strdup("All 42 tests passed.\n");
		ev->body_case = STATELOG__EVENT__BODY_EXECUTION_RECORDED;
		ev->execution_recorded = b;
		break;
	}
	case 2: {
		Statelog__SheetCompleted *b = calloc(1, sizeof(*b));
		statelog__sheet_completed__init(b);
		b->has_sheet_num = 1;
		b->sheet_num = (int64_t)(i % 50) + 1;
		b->has_validation_passed = 1;
		b->validation_passed = 1;
		b->has_duration_seconds = 1;
		b->duration_seconds = (double)i / 8.0;
		ev->body_case = STATELOG__EVENT__BODY_SHEET_COMPLETED;
		ev->sheet_completed = b;
		break;
	}
	default: {
		Statelog__PidSet *b = calloc(1, sizeof(*b));
		statelog__pid_set__init(b);
		b->has_pid = 1;
		b->pid = (int64_t)(1000 + i);
		ev->body_case = STATELOG__EVENT__BODY_PID_SET;
		ev->pid_set = b;
		break;
	}
	}
	return ev;
}

void th_event_free(sl_event *ev)
{
	/* Built with malloc throughout, like an unpacked message. */
	statelog__event__free_unpacked(ev, NULL);
}

sl_log *th_open(const char *dir, enum sl_durability d, uint64_t segment_size)
{
	struct sl_log_options o;
	sl_log_options_init(&o);
	o.create = true;
	o.durability = d;
	if (segment_size)
		o.segment_size = segment_size;
	sl_log *log = NULL;
	char err[512] = "";
	int rc = sl_log_open(&log, dir, &o, NULL, err, sizeof(err));
	cr_assert_eq(rc, SL_OK, "open %s: %s", dir, err);
	return log;
}

void th_append_n(sl_log *log, uint64_t start, uint64_t n)
{
	for (uint64_t k = 0; k < n; k++) {
		sl_event *ev = th_event("job", start + k);
		int rc = sl_log_append(log, &ev, 1, NULL);
		cr_assert_eq(rc, SL_OK, "append %" PRIu64 ": %s", start + k, sl_log_errmsg(log));
		th_event_free(ev);
	}
}

uint64_t th_count(const char *dir, int *rc)
{
	sl_reader *r;
	char err[512];
	*rc = sl_reader_open(&r, dir, NULL, err, sizeof(err));
	if (*rc)
		return 0;
	uint64_t n = 0;
	struct sl_record rec;
	while ((*rc = sl_reader_next(&rec, r)) == 1)
		n++;
	sl_reader_close(r);
	return n;
}

long long th_file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

const char *th_seg(const char *dir, uint64_t first_seq)
{
	static char buf[4200];
	snprintf(buf, sizeof(buf), "%s/%020" PRIu64 ".seg", dir, first_seq);
	return buf;
}

void th_copy(const char *from, const char *to)
{
	FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
	cr_assert(a && b, "copy %s -> %s", from, to);
	char buf[65536];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), a)) > 0)
		cr_assert_eq(fwrite(buf, 1, n, b), n, "write %s", to);
	fclose(a);
	fclose(b);
}

/* Sets every field of msg (recursively for messages), from `seed`. */
static void fill_message(ProtobufCMessage *msg, uint64_t seed)
{
	const ProtobufCMessageDescriptor *d = msg->descriptor;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
			continue;
		char *base = (char *)msg;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			if (f->type == PROTOBUF_C_TYPE_UINT32) {
				/* `cleared`: name a field that is not set: there is none, so
				 * leave the list empty (set-and-cleared is invalid). */
			}
			continue;
		}
		protobuf_c_boolean *has = (protobuf_c_boolean *)(base + f->quantifier_offset);
		void *p = base + f->offset;
		switch (f->type) {
		case PROTOBUF_C_TYPE_INT64:
		case PROTOBUF_C_TYPE_SINT64:
			*has = 1;
			*(int64_t *)p = (int64_t)(seed * 7919 + f->id);
			break;
		case PROTOBUF_C_TYPE_UINT64:
			*has = 1;
			*(uint64_t *)p = seed + f->id;
			break;
		case PROTOBUF_C_TYPE_BOOL:
			*has = 1;
			*(protobuf_c_boolean *)p = (seed + f->id) & 1;
			break;
		case PROTOBUF_C_TYPE_DOUBLE:
			*has = 1;
			*(double *)p = (double)seed / 3.0 + f->id;
			break;
		case PROTOBUF_C_TYPE_STRING: {
			char buf[96];
			snprintf(buf, sizeof(buf), "%s \"%" PRIu64 "\" ü/:@ {\"k\": [1, 2]}", f->name, seed);
			*(char **)p = strdup(buf);
			break;
		}
		default:
			break;
		}
	}
}

sl_event *th_event_of_type(const char *job, Statelog__Event__BodyCase type, uint64_t seed)
{
	sl_event *ev = calloc(1, sizeof(*ev));
	statelog__event__init(ev);
	ev->job_id = strdup(job);
	const ProtobufCFieldDescriptor *f =
		protobuf_c_message_descriptor_get_field(&statelog__event__descriptor, (unsigned)type);
	cr_assert_not_null(f, "body field %d", (int)type);
	const ProtobufCMessageDescriptor *md = f->descriptor;
	ProtobufCMessage *body = calloc(1, md->sizeof_message);
	md->message_init(body);
	fill_message(body, seed);
	*(ProtobufCMessage **)((char *)ev + f->offset) = body;
	ev->body_case = type;
	return ev;
}
