/* status.c: sl_log_status(), what a log holds at a glance, without reading
 * its events: the segment headers, every record's header (a packed record's
 * payload is skipped, not read), the file sizes, and whether a writer holds
 * the right to write.  See log.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crc32c.h"
#include "format.h"
#include "log_internal.h"

/* Bytes read at once while walking records stored raw (small, many). */
#define WALK_CHUNK (256u << 10)

struct walk {
	struct sl_log_status *st;
	uint32_t max_raw;
	uint8_t *buf;
	uint64_t buf_off;
	size_t buf_len;
	bool seen_record;
	char *err;
	size_t errlen;
};

/* The bytes at off of fd (a file of `size` bytes): up to SL_REC_HEADER_MAX
 * of them at *p, from the buffer, refilled with a whole chunk when records
 * are small (`near`) or only a header's worth when they are far apart.
 * Returns the bytes available, or -1 (errno set). */
static ssize_t header_at(struct walk *w, int fd, uint64_t off, uint64_t size, bool near,
			 const uint8_t **p)
{
	uint64_t left = size - off;
	size_t need = left < SL_REC_HEADER_MAX ? (size_t)left : SL_REC_HEADER_MAX;
	if (off >= w->buf_off && off + need <= w->buf_off + w->buf_len) {
		*p = w->buf + (off - w->buf_off);
		return (ssize_t)need;
	}
	size_t want = near ? WALK_CHUNK : SL_REC_HEADER_MAX;
	if (want > left)
		want = (size_t)left;
	size_t have = 0;
	while (have < want) {
		ssize_t r = pread(fd, w->buf + have, want - have, (off_t)(off + have));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			w->buf_len = 0;
			return -1;
		}
		if (r == 0)
			break;
		have += (size_t)r;
	}
	w->buf_off = off;
	w->buf_len = have;
	*p = w->buf;
	return (ssize_t)(have < need ? have : need);
}

/* Notes where the walk stopped before the end of the log, and why. */
static void stopped(struct walk *w, const char *path, uint64_t off, const char *why, bool torn)
{
	struct sl_log_status *st = w->st;
	st->stopped = true;
	st->torn_tail = torn;
	st->stopped_offset = off;
	sl_msg(st->stopped_why, sizeof st->stopped_why, "%s, offset %llu: %s", path,
	       (unsigned long long)off, why);
}

/* Walks the records of one segment.  SL_OK (also when it stopped at a
 * record it could not read: w->st->stopped), or SL_EIO / SL_ECORRUPT for
 * a segment that cannot be opened or whose header is not this log's. */
static int walk_segment(struct walk *w, const char *dir, uint64_t first_seq, bool last)
{
	struct sl_log_status *st = w->st;
	char *path = sl_seg_path(dir, first_seq, SL_SEG_SUFFIX);
	if (!path)
		return SL_ENOMEM;
	int rc = SL_OK;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat sb;
	if (fd < 0 || fstat(fd, &sb) != 0) {
		sl_msg(w->err, w->errlen, "%s: %s", path, strerror(errno));
		rc = errno == ENOENT ? SL_ECORRUPT : SL_EIO;
		goto out;
	}
	uint64_t size = (uint64_t)sb.st_size;
	st->segment_bytes += size;
	uint8_t hb[SL_SEG_HEADER_SIZE];
	struct sl_seg_header h;
	const char *why = NULL;
	ssize_t got = pread(fd, hb, sizeof hb, 0);
	if (got != (ssize_t)sizeof hb) {
		if (last && size < SL_SEG_HEADER_SIZE) {
			/* a last segment created by a crash before its header */
			stopped(w, path, 0, "the segment's header was never written", true);
			goto out;
		}
		sl_msg(w->err, w->errlen, "%s: %s", path, got < 0 ? strerror(errno)
								: "shorter than a segment header");
		rc = got < 0 ? SL_EIO : SL_ECORRUPT;
		goto out;
	}
	if ((rc = sl_seg_header_decode(hb, &h, &why)) != SL_OK) {
		sl_msg(w->err, w->errlen, "%s: %s", path, why ? why : "bad segment header");
		goto out;
	}
	if (st->segments == 0) {
		memcpy(st->log_id, h.log_id, SL_LOG_ID_SIZE);
	} else if (memcmp(st->log_id, h.log_id, SL_LOG_ID_SIZE) != 0) {
		sl_msg(w->err, w->errlen, "%s: a segment of another log", path);
		rc = SL_ECORRUPT;
		goto out;
	}
	st->segments++;
	w->buf_len = 0;
	uint64_t off = SL_SEG_HEADER_SIZE;
	uint64_t next_seq = first_seq;
	bool near = true;
	while (off < size) {
		const uint8_t *p;
		got = header_at(w, fd, off, size, near, &p);
		if (got < 0) {
			sl_msg(w->err, w->errlen, "%s: %s", path, strerror(errno));
			rc = SL_EIO;
			goto out;
		}
		struct sl_rec_header r;
		int d = sl_rec_header_decode(p, (size_t)got, w->max_raw, &r, &why);
		if (d == 0 || (d > 0 && off + r.header_len + r.payload_len > size)) {
			stopped(w, path, off, "the file ends inside a record", last);
			goto out;
		}
		if (d < 0 || (r.kind != SL_REC_PACKED && sl_crc32c(0, p, r.header_len - 4) != r.crc) ||
		    r.first_seq != next_seq) {
			stopped(w, path, off, d < 0 ? why : r.first_seq != next_seq
				? "a record out of sequence" : "record checksum mismatch", false);
			goto out;
		}
		uint64_t len = r.header_len + (uint64_t)r.payload_len;
		if (!w->seen_record) {
			w->seen_record = true;
			st->first_seq = r.first_seq;
			st->first_time_us = r.time_first;
		}
		st->last_seq = r.first_seq + r.n_events - 1;
		st->last_time_us = r.time_last;
		if (r.kind == SL_REC_GAP) {
			st->lost += r.n_events;
		} else {
			st->events += r.n_events;
			st->commits += r.n_commits;
			st->event_bytes += r.raw_len;
			st->stored_bytes += len;
		}
		if (r.kind == SL_REC_RAW) {
			st->unpacked_bytes += len;
			st->unpacked_commits++;
		}
		near = r.kind != SL_REC_PACKED;
		next_seq = r.first_seq + r.n_events;
		off += len;
	}
out:
	if (fd >= 0)
		close(fd);
	free(path);
	return rc;
}

/* The sizes of the index files, and of what recovery and repair set aside. */
static void other_files(const char *dir, struct sl_log_status *st)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		struct stat sb;
		if (fstatat(dirfd(d), e->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(sb.st_mode))
			continue;
		if (n > 4 && strcmp(e->d_name + n - 4, SL_IDX_SUFFIX) == 0)
			st->index_bytes += (uint64_t)sb.st_size;
		else if (strstr(e->d_name, ".seg.cut-") || strstr(e->d_name, ".seg.torn"))
			st->aside_bytes += (uint64_t)sb.st_size;
	}
	closedir(d);
}

/* Whether a writer holds the right to write (an flock on the directory,
 * log/FORMAT.md "Writers"), and the pid LOCK names. */
static void writer_of(const char *dir, struct sl_log_status *st)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		/* A shared lock is refused only while a writer holds the
		 * exclusive one; when granted it is given back at once (a writer
		 * that tries in that moment waits, as for any other writer). */
		if (flock(fd, LOCK_SH | LOCK_NB) == 0)
			flock(fd, LOCK_UN);
		else if (errno == EWOULDBLOCK)
			st->writer_holds = true;
		close(fd);
	}
	char *path = NULL;
	if (asprintf(&path, "%s/%s", dir, SL_LOCK_NAME) < 0)
		return;
	int lf = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	free(path);
	if (lf < 0)
		return;
	char b[32];
	ssize_t n = read(lf, b, sizeof b - 1);
	close(lf);
	if (n <= 0)
		return;
	b[n] = 0;
	char *end;
	long pid = strtol(b, &end, 10);
	if (pid > 0 && end != b) {
		st->writer_pid = pid;
		st->writer_alive = kill((pid_t)pid, 0) == 0 || errno == EPERM;
	}
}

int sl_log_status(const char *dir, struct sl_log_status *out, char *err, size_t errlen)
{
	struct sl_log_status st;
	memset(&st, 0, sizeof st);
	struct sl_reader_options ro;
	sl_reader_options_init(&ro);
	struct walk w = { .st = &st, .max_raw = ro.max_commit_size, .err = err, .errlen = errlen };
	if (err && errlen)
		err[0] = 0;
	uint64_t tail = sl_tail_read(dir);
	uint64_t *segs = NULL;
	size_t n = 0;
	int rc = sl_list_segments(dir, &segs, &n, err, errlen);
	if (rc != SL_OK)
		return rc;
	if (n == 0) {
		sl_msg(err, errlen, "%s: not a log (no segment)", dir);
		free(segs);
		return SL_ENOTFOUND;
	}
	char msg[512];
	if (sl_ends_check(dir, segs, n, tail, msg, sizeof msg) != SL_OK) {
		st.stopped = true;
		snprintf(st.stopped_why, sizeof st.stopped_why, "%s", msg);
	}
	if (!(w.buf = malloc(WALK_CHUNK))) {
		free(segs);
		sl_msg(err, errlen, "out of memory");
		return SL_ENOMEM;
	}
	for (size_t i = 0; i < n && rc == SL_OK && !(st.stopped && st.stopped_offset); i++) {
		bool stop_before = st.stopped;
		rc = walk_segment(&w, dir, segs[i], i + 1 == n);
		/* a walk stopped inside a segment that is not the last: the rest
		 * cannot be trusted to follow on */
		if (st.stopped && !stop_before && i + 1 < n)
			break;
	}
	free(w.buf);
	free(segs);
	if (rc != SL_OK)
		return rc;
	other_files(dir, &st);
	writer_of(dir, &st);
	*out = st;
	return SL_OK;
}
