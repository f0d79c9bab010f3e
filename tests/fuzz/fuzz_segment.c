/* fuzz_segment.c: libFuzzer harness for the segment reader (log/segment.c,
 * log/reader.c, log/recover.c): the input is a whole segment file.  Reading
 * it must end in events, the end of the log, or an error: never a crash, a
 * leak, an allocation past the configured maximum, or undefined behaviour.
 * The writer's recovery and verify run on it too, and every descriptor is
 * left as it was (fdcheck.h). */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fdcheck.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];

static void put_file(const uint8_t *data, size_t size)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/00000000000000000001.seg", dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		abort();
	if (size && write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
	snprintf(path, sizeof(path), "%s/00000000000000000001.idx", dir);
	unlink(path);
}

static void empty_dir(void)
{
	DIR *d = opendir(dir);
	if (!d)
		abort();
	struct dirent *e;
	char path[512];
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (unlink(path) != 0)
			abort();
	}
	closedir(d);
}

static void remove_dir(void)
{
	empty_dir();
	rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!dir[0]) {
		const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
		snprintf(dir, sizeof(dir), "%s/sl-fuzz-XXXXXX", base);
		if (!mkdtemp(dir))
			abort();
		atexit(remove_dir);
	}
	struct fd_state fds;
	fd_state_take(&fds);
	struct sl_reader_options ro;
	sl_reader_options_init(&ro);
	ro.max_event_size = 1u << 20;   /* small caps: allocation bombs show up */
	ro.max_commit_size = 4u << 20;

	put_file(data, size);
	sl_reader *r;
	if (sl_reader_open(&r, dir, &ro, NULL, 0) == SL_OK) {
		struct sl_record rec;
		int n = 0;
		while (n++ < 100000 && sl_reader_next(&rec, r) == 1) {
			if (rec.lost)
				continue;
			sl_event *ev;
			if (sl_event_decode(&ev, rec.data, rec.len, rec.seq, rec.time_us) == SL_OK)
				sl_event_free(ev);
		}
		sl_reader_seek_seq(r, 3);
		sl_reader_next(&rec, r);
		sl_reader_seek_time(r, 1);
		sl_reader_next(&rec, r);
		sl_reader_close(r);
	}
	struct sl_verify_report v;
	sl_log_verify(dir, &ro, &v, NULL, NULL, NULL, 0);

	/* The writer's recovery (it may cut a torn tail: work on a copy). */
	put_file(data, size);
	struct sl_log_options o;
	sl_log_options_init(&o);
	o.durability = SL_DURABLE_ALWAYS;   /* no flush thread: the same recovery */
	o.compact = false;
	o.max_event_size = ro.max_event_size;
	o.max_commit_size = ro.max_commit_size;
	sl_log *log;
	if (sl_log_open(&log, dir, &o, NULL, NULL, 0) == SL_OK)
		sl_log_close(log);
	/* Leave nothing behind for the next input (recovery may have set a
	 * torn tail aside, an index may have been written): each input starts
	 * from an empty directory, so that a finding reproduces alone. */
	empty_dir();
	fd_state_check(&fds);
	return 0;
}
