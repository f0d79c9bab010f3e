/* writer.c: appending to a log: the right to write shared by processes,
 * commits, durability and group commit, segment rolling, background
 * compaction, and the poisoned state after an I/O failure.
 *
 * Several writers.  Any number of handles, in any number of processes, may
 * have one log open for writing.  They take turns through the right to
 * write, an flock on the log directory (log/FORMAT.md, "Writers"): a handle takes it
 * when it has a commit to encode and keeps it while it keeps writing; its
 * keeper thread gives it back once the handle is idle, or has the next
 * append hand it over when another writer waits (dir/WAITING) and the
 * handle has had it a few milliseconds.  Having taken it, a
 * handle first looks whether someone else wrote since it last held it
 * (refresh_tail()): the last segment's inode and size, and whether the
 * segment after it exists.  If the file merely grew, the new commits are
 * scanned and checked from where this handle stopped; anything else (a torn
 * tail left by a writer that died, a roll, a segment replaced by compaction
 * or repair) reopens the log's end with the recovery an open does.  Only
 * then are sequence numbers, times and chain values given, so that they
 * stay consecutive whoever writes.  A handle that finds the right taken
 * sleeps and tries again, with a growing pause, up to busy_timeout_ms, and
 * then fails with SL_ELOCKED naming the holder.  A writer that dies holding
 * the right loses it with its descriptors; the next writer cuts its torn
 * tail.  The right is an flock on the log's directory (a file named LOCK
 * could be removed from under its holder); packing a sealed segment takes an
 * flock on that segment, so that two processes never pack it at once.
 *
 * State machine of a handle:
 *   open -> (append | sync | compact)* -> close
 *   any failed write or fsync -> poisoned: every later call returns
 *   SL_EPOISONED until the log is closed and reopened (which recovers it).
 *
 * The pending buffer.  An append encodes its commit as a raw record at the
 * end of `pend`, which holds the bytes of [pend_off, end_off) of the current
 * segment that are not written yet, and takes a ticket.  Writing pending
 * bytes is always a leader's job; one leader writes at a time (`writing`),
 * and up to SL_MAX_SYNCING wait in fdatasync (`syncing`):
 *  - durability always: the appender waits until its ticket is synced; if no
 *    leader is at work it becomes one: it swaps `pend` for the spare buffer,
 *    writes it with one pwrite and fdatasyncs, outside the mutex, while the
 *    other appenders fill the new buffer.  Appends that arrive during one
 *    fdatasync share the next (group commit).
 *  - durability interval / none: pending bytes are written once 64 KiB have
 *    gathered, and by the flusher thread every interval_ms (which also
 *    fdatasyncs for `interval`).  A commit is visible to other processes once
 *    written.
 * Invariants (mu held): pend_off <= end_off; pend holds end_off - pend_off
 * bytes; synced <= flushed <= written; at most one leader writing.
 */
#include "log_internal.h"
#include "event_internal.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/* An appender waiting for its commit to be durable (durability always).
 * It sleeps on its own semaphore, so that a leader's wake-up does not make
 * every waiter fight for the mutex; the leader hands the next flush to the
 * first waiter its fdatasync did not cover. */
struct sl_waiter {
	uint64_t ticket;
	sem_t sem;
	int rc;
	bool lead;                    /* woken to lead the next flush */
	struct sl_waiter *next;
};

struct sl_log {
	char *dir;
	struct sl_log_options opt;
	const struct sl_io *io;
	int lock_fd;                  /* the log's directory: the right to write is
					 an flock on it (not on a file, which could
					 be removed from under its holder) */
	int pid_fd;                   /* dir/LOCK: names the right's holder */
	int wait_fd;                  /* dir/WAITING: shared-locked by writers
					 waiting for LOCK (fairness) */
	uint8_t log_id[SL_LOG_ID_SIZE];

	pthread_mutex_t mu;
	pthread_cond_t cv;            /* flushes done, leaders gone, stopping */
	pthread_cond_t pack_cv;       /* work for the compactor */
	pthread_cond_t gather_cv;     /* commits for a gathering leader */

	/* the segment being appended to; seg.idx holds its reading points */
	struct sl_segfile seg;
	int wfd;
	int idx_fd;                   /* appends reading points; -1 when unusable */
	uint64_t idx_size;
	uint64_t end_off;
	bool seg_has_commits;
	uint64_t seg_raw_from;        /* the bytes from here to end_off are stored raw
					 (as far as this handle knows: an over-estimate
					 costs one needless packing, never a byte) */

	uint64_t next_seq;
	int64_t last_time;
	uint32_t chain;

	int64_t *times;
	size_t *sizes;                /* encoded size of each event of the commit */
	size_t times_cap;

	/* pending bytes and group commit; tickets count commits */
	uint8_t *pend, *spare;
	size_t pend_cap, spare_cap;
	uint64_t pend_off;            /* file offset of pend[0] */
	uint64_t written;             /* tickets handed out */
	uint64_t flushed;             /* tickets whose bytes are in the file */
	uint64_t synced;              /* tickets on disk */
	bool writing;                 /* a leader is writing pending bytes outside mu */
	int syncing;                  /* leaders in fdatasync (at most SL_MAX_SYNCING) */
	bool gathering;               /* a leader waits for more commits */
	uint64_t gather_target;       /* ... until this many are pending */
	uint64_t last_batch;          /* commits the last durable flush covered */
	int64_t last_sync_ns;         /* how long its fdatasync took */
	struct sl_waiter *waiters;
	int fail_rc;                  /* the code the first failure returned */

	/* the right to write (mu guards these) */
	bool have_lock;               /* this handle holds the flock on LOCK */
	bool acquiring;               /* a thread is waiting for it, mu released */
	unsigned acquire_waiters;     /* threads waiting (on cv) for that one */
	unsigned pins;                /* reasons to keep it: sl_log_hold(), a roll,
					 a compaction; else it is given back once
					 nothing is pending */
	bool need_reload;             /* the tail must be found again (a reload
					 failed) before the next append */
	bool yielding;                /* handing the right to a waiting process:
					 appends wait until it is given back */
	int64_t held_since_ns;        /* when the right was taken (monotonic) */
	uint64_t uses;                /* appends and holds that used it */
	bool should_yield;            /* the keeper saw another writer waiting */
	pthread_cond_t keep_cv;       /* the keeper: the right taken, stopping */
	bool keeper_started;
	pthread_t keeper;
	uint64_t foreign_gen;         /* refreshes that found others' commits */
	uint64_t foreign_end;         /* next_seq after the last of them */

	bool poisoned;
	bool stopping;
	bool flusher_started;
	pthread_t flusher;

	/* compaction of sealed segments, in the background */
	uint64_t *to_pack;
	size_t n_to_pack, cap_to_pack;
	bool packing;                 /* the compactor is working on one */
	volatile bool pack_stop;
	bool packer_started;
	pthread_t packer;
	char pack_err[768];           /* the compactor's last failure, for the record */
	int64_t last_append_ns;       /* monotonic time of the last append */
	uint64_t active_pack_failed;  /* next_seq when packing the active segment
					 at idle last failed (0: never) */

	char err[768];
};

void sl_log_options_init(struct sl_log_options *o)
{
	memset(o, 0, sizeof(*o));
	o->durability = SL_DURABLE_ALWAYS;
	o->interval_ms = 100;
	o->segment_size = 64u << 20;
	o->pack_size = 2u << 20;
	o->compact = true;
	o->compression_level = SL_LOG_DEFAULT_LEVEL;
	o->max_event_size = SL_DEFAULT_MAX_EVENT;
	o->max_commit_size = SL_DEFAULT_MAX_COMMIT;
	o->busy_timeout_ms = 5000;
}

void sl_log_id_format(char out[2 * SL_LOG_ID_SIZE + 1], const uint8_t id[SL_LOG_ID_SIZE])
{
	static const char hex[] = "0123456789abcdef";
	for (int i = 0; i < SL_LOG_ID_SIZE; i++) {
		out[2 * i] = hex[id[i] >> 4];
		out[2 * i + 1] = hex[id[i] & 15];
	}
	out[2 * SL_LOG_ID_SIZE] = '\0';
}

static void stop_threads(struct sl_log *log);
static void wake_waiters(struct sl_log *log);
static void drop_right(struct sl_log *log);
static void maybe_release(struct sl_log *log);
static int take_right(struct sl_log *log);
static int queue_pack_once(struct sl_log *log, uint64_t first_seq);

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static bool syncs(const struct sl_log *log)
{
	return log->opt.durability != SL_DURABLE_NONE;
}

/* Records the first failure and refuses every later append. */
static int poison(struct sl_log *log, int code, const char *what, int e)
{
	if (!log->poisoned) {
		sl_msg(log->err, sizeof(log->err), "%s: %s: %s (the log refuses appends until reopened)",
		       log->seg.path ? log->seg.path : log->dir, what, strerror(e));
		log->fail_rc = code;
	}
	log->poisoned = true;
	/* What this handle wrote was taken back (or is a torn tail the next
	 * writer cuts): other writers may go on. */
	drop_right(log);
	wake_waiters(log);
	pthread_cond_broadcast(&log->cv);
	return code;
}

/* Opens dir/name (created when missing); *out gets its fd. */
static int lock_file_open(const char *dir, const struct sl_io *io, const char *name, int *out,
			  char *msg, size_t msglen)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = io->open(io->ctx, path, O_RDWR | O_CREAT | SL_O_WRITE, 0644);
	if (fd < 0) {
		sl_msg(msg, msglen, "%s: %s", path, sl_open_strerror(errno));
		return errno == ENOENT ? SL_ENOTFOUND : SL_EIO;
	}
	*out = fd;
	return SL_OK;
}

/* The right to write is an flock on the log's directory itself.  A file
 * can be removed from under its holder (a user deleting a "stale" LOCK), and
 * a second writer would then lock a new file of that name and write beside
 * the first; a directory that holds a log cannot be removed.  *out gets the
 * directory's fd. */
static int dir_lock_open(const char *dir, const struct sl_io *io, int *out, char *msg,
			 size_t msglen)
{
	int fd = io->open(io->ctx, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
	if (fd < 0) {
		sl_msg(msg, msglen, "%s: %s", dir, strerror(errno));
		return errno == ENOENT ? SL_ENOTFOUND : SL_EIO;
	}
	*out = fd;
	return SL_OK;
}

/* The pid dir/LOCK names, as text ("unknown" when it names none).  The
 * holder writes it just after taking the right, so a reader racing it may
 * find the previous holder's; a pid that is not alive is waited for a
 * little. */
static void lock_holder(const char *dir, char *out, size_t len)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/%s", dir, SL_LOCK_NAME);
	out[0] = '\0';
	for (int tries = 0; tries < 50; tries++) {
		int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		ssize_t r = fd >= 0 ? pread(fd, out, len - 1, 0) : -1;
		if (fd >= 0)
			close(fd);
		out[r > 0 ? r : 0] = '\0';
		out[strcspn(out, " \n")] = '\0';
		long holder = atol(out);
		if (holder > 0 && (kill((pid_t)holder, 0) == 0 || errno == EPERM))
			return;
		struct timespec ts = { 0, 2 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	if (!out[0])
		snprintf(out, len, "unknown");
}

/* Writes this process's pid into dir/LOCK, for other writers' messages:
 * fixed width, so that no truncation is needed; reopened (created) when the
 * file was removed.  Straight to the file, not through the seam: it is not
 * part of the log (a test injecting write failures counts the log's own
 * writes).  A failure only costs the name in a message. */
static void note_holder(const char *dir, const struct sl_io *io, int *pid_fd)
{
	struct stat st;
	if (*pid_fd >= 0 && (fstat(*pid_fd, &st) < 0 || st.st_nlink == 0)) {
		io->close(io->ctx, *pid_fd);
		*pid_fd = -1;
	}
	if (*pid_fd < 0 && lock_file_open(dir, io, SL_LOCK_NAME, pid_fd, NULL, 0) != SL_OK)
		return;
	char pid[16];
	snprintf(pid, sizeof(pid), "%-11ld\n", (long)getpid());
	(void)!pwrite(*pid_fd, pid, 12, 0);
}

/* Takes the flock on fd (the log's directory), waiting for it up to
 * timeout_ms: a try, then sleeps of 50 us doubling up to 1 ms between tries
 * (a busy handler, as SQLite's: it never spins).  SL_ELOCKED naming the
 * holder when the time runs out. */
static int lock_wait(int fd, int wait_fd, const char *dir, uint32_t timeout_ms,
		     char *msg, size_t msglen)
{
	int64_t deadline = 0;
	long pause_ns = 50 * 1000;
	bool waiting = false;
	for (;;) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK) {
			int e = errno;
			if (waiting)
				flock(wait_fd, LOCK_UN);
			sl_msg(msg, msglen, "%s: locking: %s", dir, strerror(e));
			return SL_EIO;
		}
		/* Say so: a holder that sees a waiter hands the right over
		 * (yield_right()).  Shared, so waiters never wait for each
		 * other; a holder only tests it. */
		if (!waiting && wait_fd >= 0)
			waiting = flock(wait_fd, LOCK_SH) == 0;
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		int64_t t = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
		if (!deadline)
			deadline = t + (int64_t)timeout_ms * 1000000;
		if (t >= deadline) {
			if (waiting)
				flock(wait_fd, LOCK_UN);
			char pid[32];
			lock_holder(dir, pid, sizeof(pid));
			sl_msg(msg, msglen, "%s: the log is locked by another writer (pid %s) for "
			       "longer than the busy timeout of %" PRIu32 " ms", dir, pid, timeout_ms);
			return SL_ELOCKED;
		}
		int64_t left = deadline - t;
		struct timespec ts = { 0, left < pause_ns ? (long)left : pause_ns };
		nanosleep(&ts, NULL);
		if (pause_ns < 1000 * 1000)
			pause_ns *= 2;
	}
	if (waiting)
		flock(wait_fd, LOCK_UN);
	return SL_OK;
}

/* Takes dir's right to write for as long as *out stays open (repair),
 * waiting up to the default busy timeout. */
int sl_lock_take(const char *dir, const struct sl_io *io, int *out, char *msg, size_t msglen)
{
	int fd, pid_fd = -1;
	int rc = dir_lock_open(dir, io, &fd, msg, msglen);
	if (rc)
		return rc;
	struct sl_log_options o;
	sl_log_options_init(&o);
	/* Announced as waiting, so that a busy writer hands the log over. */
	int wait_fd = -1;
	(void)lock_file_open(dir, io, SL_WAIT_LOCK_NAME, &wait_fd, NULL, 0);
	rc = lock_wait(fd, wait_fd, dir, o.busy_timeout_ms, msg, msglen);
	if (wait_fd >= 0)
		io->close(io->ctx, wait_fd);
	if (rc) {
		io->close(io->ctx, fd);
		return rc;
	}
	note_holder(dir, io, &pid_fd);
	if (pid_fd >= 0)
		io->close(io->ctx, pid_fd);
	*out = fd;
	return SL_OK;
}

/* Packing a sealed segment holds an flock on the segment file itself, so
 * that two processes never pack one segment at once (they would write the
 * same temporary file).  Opens dir's segment first_seq and locks it; with
 * `wait` false, SL_ELOCKED at once when another has it.  The file locked is
 * the one the name holds (a packer that finished meanwhile renamed a new
 * file over it: that one is taken then).  *out is -1 on failure. */
static int seg_lock(const char *dir, const struct sl_io *io, uint64_t first_seq, bool wait,
		    int *out)
{
	*out = -1;
	char *path = sl_seg_path(dir, first_seq, SL_SEG_SUFFIX);
	if (!path)
		return SL_ENOMEM;
	int rc = SL_EIO;
	for (int tries = 0; tries < 8; tries++) {
		int fd = io->open(io->ctx, path, O_RDONLY | O_CLOEXEC, 0);
		if (fd < 0) {
			rc = errno == ENOENT ? SL_ENOTFOUND : SL_EIO;
			break;
		}
		int r;
		while ((r = flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB))) < 0 && errno == EINTR)
			;
		if (r < 0) {
			rc = errno == EWOULDBLOCK ? SL_ELOCKED : SL_EIO;
			io->close(io->ctx, fd);
			break;
		}
		struct stat a, b;
		if (io->fstat(io->ctx, fd, &a) == 0 && stat(path, &b) == 0 && a.st_ino == b.st_ino) {
			*out = fd;
			rc = SL_OK;
			break;
		}
		io->close(io->ctx, fd);
	}
	free(path);
	return rc;
}

static int write_all(const struct sl_io *io, int fd, const uint8_t *p, size_t n, uint64_t off)
{
	while (n) {
		ssize_t w = io->pwrite(io->ctx, fd, p, n, (off_t)off);
		if (w < 0)
			return -1;
		if (w == 0) {
			errno = EIO;
			return -1;
		}
		p += w;
		n -= (size_t)w;
		off += (uint64_t)w;
	}
	return 0;
}

/* Creates segment `first_seq`: header into a temporary file, synced, renamed
 * into place, directory synced; so that a segment file either does not exist
 * or has a whole header.  Returns its fd (O_RDWR) or -1. */
static int create_segment(struct sl_log *log, uint64_t first_seq, struct sl_seg_header *h)
{
	const struct sl_io *io = log->io;
	char *path = sl_seg_path(log->dir, first_seq, SL_SEG_SUFFIX);
	char *tmp = sl_seg_path(log->dir, first_seq, SL_SEG_SUFFIX ".tmp");
	int fd = -1, e = ENOMEM;
	if (!path || !tmp)
		goto fail;
	memset(h, 0, sizeof(*h));
	h->version = SL_FORMAT_VERSION;
	memcpy(h->log_id, log->log_id, SL_LOG_ID_SIZE);
	h->first_seq = first_seq;
	h->prev_crc = log->chain;
	h->created_us = now_us();
	uint8_t buf[SL_SEG_HEADER_SIZE];
	sl_seg_header_encode(h, buf);
	fd = io->open(io->ctx, tmp, O_RDWR | O_CREAT | O_TRUNC | SL_O_WRITE, 0644);
	if (fd < 0 || write_all(io, fd, buf, sizeof(buf), 0) < 0 ||
	    (syncs(log) && io->sync(io->ctx, fd) < 0) ||
	    io->rename(io->ctx, tmp, path) < 0 ||
	    (syncs(log) && sl_sync_dir(io, log->dir) < 0)) {
		e = errno;
		goto fail;
	}
	free(path);
	free(tmp);
	return fd;
fail:
	if (fd >= 0) {
		io->close(io->ctx, fd);
		io->unlink(io->ctx, tmp);
	}
	free(path);
	free(tmp);
	errno = e;
	return -1;
}

/* Opens the index of the current segment for appending reading points,
 * writing the entries known so far.  A failure only costs the index (it is
 * rebuilt from the segment later), so it is not an error. */
static void open_index(struct sl_log *log)
{
	log->idx_fd = -1;
	if (sl_index_write(&log->seg, log->io, log->dir, NULL, 0) != SL_OK)
		return;
	char *path = sl_seg_path(log->dir, log->seg.first_seq, SL_IDX_SUFFIX);
	if (!path)
		return;
	log->idx_fd = log->io->open(log->io->ctx, path, O_WRONLY | SL_O_WRITE, 0);
	free(path);
	log->idx_size = SL_IDX_HEADER_SIZE + log->seg.n_idx * (uint64_t)SL_IDX_ENTRY_SIZE;
}

static void index_append(struct sl_log *log, const struct sl_idx_entry *e)
{
	if (sl_index_add(&log->seg, e) != SL_OK || log->idx_fd < 0)
		return;
	uint8_t buf[SL_IDX_ENTRY_SIZE];
	sl_idx_entry_encode(e, buf);
	if (write_all(log->io, log->idx_fd, buf, sizeof(buf), log->idx_size) < 0) {
		log->io->close(log->io->ctx, log->idx_fd);
		log->idx_fd = -1;
		return;
	}
	log->idx_size += sizeof(buf);
}

static void close_segment_files(struct sl_log *log)
{
	if (log->idx_fd >= 0)
		log->io->close(log->io->ctx, log->idx_fd);
	log->idx_fd = -1;
	if (log->wfd >= 0)
		log->io->close(log->io->ctx, log->wfd);
	log->wfd = -1;
}

/* Hands a sealed segment to the background compactor.  Called with mu held. */
static int queue_pack(struct sl_log *log, uint64_t first_seq)
{
	if (!log->opt.compact)
		return SL_OK;
	if (log->n_to_pack == log->cap_to_pack) {
		size_t cap = log->cap_to_pack ? log->cap_to_pack * 2 : 8;
		uint64_t *n = realloc(log->to_pack, cap * sizeof(*n));
		if (!n)
			return SL_ENOMEM;
		log->to_pack = n;
		log->cap_to_pack = cap;
	}
	log->to_pack[log->n_to_pack++] = first_seq;
	log->last_append_ns = mono_ns();
	pthread_cond_signal(&log->pack_cv);
	return SL_OK;
}

/* Packs sealed segment first_seq under its lock (seg_lock(): waiting for it
 * when `wait`, else SL_ELOCKED when another process holds it), unless
 * another process packed it already (its index says so). */
static int pack_sealed(struct sl_log *log, uint64_t first, bool wait, const volatile bool *stop,
		       char *msg, size_t msglen)
{
	int pfd;
	int rc = seg_lock(log->dir, log->io, first, wait, &pfd);
	if (rc == SL_ELOCKED)
		return rc;
	struct sl_segfile s;
	bool short_header;
	bool packed = false;
	if (sl_segfile_open(&s, log->io, log->dir, first, &short_header, NULL, 0) == SL_OK) {
		packed = sl_index_load(&s, log->io, log->dir, log->log_id) == SL_OK && s.sealed &&
			 (s.seal.flags & SL_IDX_SEAL_PACKED);
		sl_segfile_close(&s, log->io);
	}
	uint64_t size;
	rc = packed ? SL_OK
		    : sl_compact_segment(log->dir, log->io, first, log->opt.compression_level,
					 log->opt.pack_size, log->opt.max_commit_size, syncs(log), true,
					 stop, &size, msg, msglen);
	if (pfd >= 0)
		log->io->close(log->io->ctx, pfd);  /* releases the flock */
	return rc;
}

/* Packing waits for a pause in appends this long, unless this many sealed
 * segments are waiting (which bounds the raw backlog on disk). */
#define SL_PACK_IDLE_NS (50 * 1000000)
#define SL_PACK_BACKLOG 4
/* The segment being appended to is packed once appends have paused this
 * long, and at close, when it holds at least SL_PACK_ACTIVE_MIN raw bytes
 * and they are at least an eighth of the file: packing rewrites the whole
 * file, so each byte is rewritten at most about eight times however the
 * segment grows, and a log smaller than a segment is packed at rest. */
#define SL_PACK_ACTIVE_IDLE_NS (1000 * 1000000LL)
#define SL_PACK_ACTIVE_MIN (256u << 10)

static int pack_active(struct sl_log *log);
static int flush_all(struct sl_log *log, bool sync);

/* Whether the segment being appended to is worth packing now (mu held). */
static bool active_worth_packing(const struct sl_log *log)
{
	uint64_t raw = log->end_off > log->seg_raw_from ? log->end_off - log->seg_raw_from : 0;
	return log->opt.compact && !log->poisoned && log->seg.path && log->seg_has_commits &&
	       raw >= SL_PACK_ACTIVE_MIN && raw * 8 >= log->end_off;
}

/* Packs the segment being appended to while the handle is idle (the
 * compactor, mu held): with the right, as sl_log_compact() does.  A
 * failure leaves it raw (a sound log) and is kept in pack_err; it is not
 * tried again before the next append. */
static void pack_active_idle(struct sl_log *log)
{
	int rc = take_right(log);
	if (rc == SL_OK) {
		log->pins++;
		rc = flush_all(log, syncs(log));
		if (rc == SL_OK && active_worth_packing(log))
			rc = pack_active(log);
		log->pins--;
		maybe_release(log);
	}
	if (rc != SL_OK) {
		snprintf(log->pack_err, sizeof(log->pack_err), "%s",
			 log->err[0] ? log->err : sl_strerror(rc));
		log->active_pack_failed = log->next_seq;
	}
}

/* The compactor: packs sealed segments one at a time, outside the mutex
 * (sealed segments never change), when appends pause or the backlog grows.
 * A failure leaves the segment raw, which is still a sound log, and is kept
 * in pack_err. */
static void *packer_main(void *arg)
{
	struct sl_log *log = arg;
	pthread_mutex_lock(&log->mu);
	for (;;) {
		bool active = false;
		while (!log->stopping) {
			int64_t idle = mono_ns() - log->last_append_ns;
			if (log->n_to_pack &&
			    (log->n_to_pack >= SL_PACK_BACKLOG || idle >= SL_PACK_IDLE_NS))
				break;
			bool worth = active_worth_packing(log) &&
				     log->active_pack_failed != log->next_seq;
			if (worth && idle >= SL_PACK_ACTIVE_IDLE_NS) {
				active = true;
				break;
			}
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += (log->n_to_pack ? 20 : 200) * 1000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			/* timed also with nothing to do: appends do not wake
			 * the compactor when the active segment becomes worth
			 * packing */
			pthread_cond_timedwait(&log->pack_cv, &log->mu, &ts);
		}
		if (log->stopping)
			break;
		if (active) {
			pack_active_idle(log);
			pthread_cond_broadcast(&log->cv);
			continue;
		}
		uint64_t first = log->to_pack[0];
		memmove(log->to_pack, log->to_pack + 1, --log->n_to_pack * sizeof(*log->to_pack));
		log->packing = true;
		pthread_mutex_unlock(&log->mu);
		char msg[768] = "";
		int rc = pack_sealed(log, first, false, &log->pack_stop, msg, sizeof(msg));
		pthread_mutex_lock(&log->mu);
		log->packing = false;
		if (rc == SL_ELOCKED) {
			/* Another process is packing: this one again later, once
			 * appends pause. */
			rc = queue_pack_once(log, first);
		}
		if (rc && rc != SL_ECLOSED)
			snprintf(log->pack_err, sizeof(log->pack_err), "%s", msg[0] ? msg : sl_strerror(rc));
		pthread_cond_broadcast(&log->cv);
	}
	pthread_mutex_unlock(&log->mu);
	return NULL;
}

static bool segment_full(const struct sl_log *log)
{
	return log->seg_has_commits && log->end_off >= log->opt.segment_size;
}

#define SL_PEND_FLUSH (64u << 10)   /* none/interval: write once this much waits */

/* Leaders could overlap (one writing while others wait in fdatasync); on
 * ext4 a second fdatasync only queues behind the first's journal commit, and
 * measured no faster, so one leader at a time it is. */
#define SL_MAX_SYNCING 1

static bool can_lead(const struct sl_log *log)
{
	return !log->writing && log->syncing < SL_MAX_SYNCING;
}

static bool leaders_at_work(const struct sl_log *log)
{
	return log->writing || log->syncing > 0;
}

/* Wakes the waiters whose commits are durable now (or all of them, with the
 * failure, when poisoned), and hands the next flush to the first waiter
 * left when no leader is at work.  Called with mu held; releases it while
 * posting.  A waiter's struct lives on its stack: it is not touched after
 * its semaphore is posted. */
static void wake_waiters(struct sl_log *log)
{
	struct sl_waiter *done = NULL, **pp = &log->waiters;
	while (*pp) {
		struct sl_waiter *w = *pp;
		if (log->poisoned || w->ticket <= log->synced) {
			*pp = w->next;
			w->rc = log->poisoned && w->ticket > log->synced
				? (log->fail_rc ? log->fail_rc : SL_EPOISONED) : SL_OK;
			w->next = done;
			done = w;
		} else {
			pp = &w->next;
		}
	}
	if (log->waiters && can_lead(log)) {
		struct sl_waiter *w = log->waiters;
		log->waiters = w->next;
		w->lead = true;
		w->next = done;
		done = w;
	}
	if (!done)
		return;
	/* Post outside the mutex: the woken may go straight back to append. */
	pthread_mutex_unlock(&log->mu);
	while (done) {
		struct sl_waiter *w = done;
		done = w->next;  /* read before posting: w lives on its owner's stack */
		sem_post(&w->sem);
	}
	pthread_mutex_lock(&log->mu);
}

/* Group commit, gathering: when the last durable flush covered several
 * commits (several threads are appending), the next leader waits for as many
 * to be pending before it flushes, for at most half an fdatasync (and never
 * more than this), so that appenders just woken by the last flush share this
 * one instead of starting the next alone.  A lone appender never waits. */
#define SL_GATHER_MAX_NS (200 * 1000)

/* Writes pending bytes (and fdatasyncs when `sync`) as the leader: swaps the
 * buffers under mu, writes outside it, hands the lead on (the next leader
 * may write while this one is in fdatasync), then syncs and records the
 * outcome.  Called with mu held and can_lead(); returns with mu held.
 * A successful fdatasync makes durable every byte written before it began:
 * this leader's and, writes being in order, every earlier leader's. */
static int lead_flush(struct sl_log *log, bool sync)
{
	log->writing = true;
	if (sync && log->syncing == 0 && log->last_batch > 1 &&
	    log->written - log->flushed < log->last_batch) {
		int64_t wait = log->last_sync_ns / 2;
		int64_t deadline = mono_ns() + (wait < SL_GATHER_MAX_NS ? wait : SL_GATHER_MAX_NS);
		log->gathering = true;
		log->gather_target = log->last_batch;
		while (log->written - log->flushed < log->gather_target) {
			int64_t left = deadline - mono_ns();
			if (left <= 0)
				break;
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			int64_t ns = ts.tv_nsec + left;
			ts.tv_sec += (time_t)(ns / 1000000000);
			ts.tv_nsec = (long)(ns % 1000000000);
			pthread_cond_timedwait(&log->gather_cv, &log->mu, &ts);
		}
		log->gathering = false;
	}
	uint64_t first_ticket = log->flushed;
	uint8_t *buf = log->pend;
	size_t len = (size_t)(log->end_off - log->pend_off);
	uint64_t off = log->pend_off, target = log->written;
	int fd = log->wfd;
	log->pend = log->spare;
	log->spare = buf;
	size_t cap = log->pend_cap;
	log->pend_cap = log->spare_cap;
	log->spare_cap = cap;
	log->pend_off = log->end_off;
	pthread_mutex_unlock(&log->mu);
	int rc = SL_OK, e = 0;
	if (len && write_all(log->io, fd, buf, len, off) < 0) {
		e = errno;
		/* Take back whatever part was written, so no partial commit stays
		 * behind; should that fail too, recovery cuts it at reopen. */
		(void)log->io->ftruncate(log->io->ctx, fd, (off_t)off);
		rc = SL_EIO;
	}
	pthread_mutex_lock(&log->mu);
	log->writing = false;
	if (rc) {
		poison(log, rc, "write", e);
		pthread_cond_broadcast(&log->cv);
		return rc;
	}
	if (target > log->flushed)
		log->flushed = target;
	if (!sync) {
		wake_waiters(log);
		pthread_cond_broadcast(&log->cv);
		return SL_OK;
	}
	log->syncing++;
	pthread_mutex_unlock(&log->mu);
	int64_t t0 = mono_ns();
	if (log->io->sync(log->io->ctx, fd) < 0) {
		e = errno;
		rc = SL_EIO;
	}
	int64_t took = mono_ns() - t0;
	pthread_mutex_lock(&log->mu);
	log->syncing--;
	if (rc) {
		poison(log, rc, "fdatasync", e);
	} else {
		if (target > log->synced)
			log->synced = target;
		log->last_batch = target - first_ticket;
		log->last_sync_ns = took;
	}
	wake_waiters(log);
	pthread_cond_broadcast(&log->cv);
	return rc;
}

/* Writes everything pending (syncing when asked), leading as many flushes as
 * it takes: appends may come while a flush has mu released.  Returns with mu
 * held and nothing pending. */
static int flush_all(struct sl_log *log, bool sync)
{
	for (;;) {
		while (leaders_at_work(log))
			pthread_cond_wait(&log->cv, &log->mu);
		if (log->poisoned)
			return SL_EPOISONED;
		if (log->end_off == log->pend_off && (!sync || log->synced == log->written))
			return SL_OK;
		int rc = lead_flush(log, sync);
		if (rc)
			return rc;
	}
}

/* Waits until ticket is on disk, leading a flush when none is at work.
 * Called and returns with mu held. */
static int wait_durable(struct sl_log *log, uint64_t ticket)
{
	while (log->synced < ticket && !log->poisoned) {
		if (can_lead(log))
			lead_flush(log, true);
		else
			pthread_cond_wait(&log->cv, &log->mu);
	}
	if (log->synced >= ticket)
		return SL_OK;
	return log->fail_rc ? log->fail_rc : SL_EPOISONED;
}

/* Seals the current segment and starts the next, if it is still full once
 * no leader is at work.  Called with mu held; waiting releases it, so the
 * caller must not hold state across the call. */
static int roll(struct sl_log *log)
{
	/* Every commit of the old segment must be written (and, unless
	 * durability is none, durable) before the new one exists. */
	int rc = flush_all(log, syncs(log));
	if (rc)
		return rc;
	if (!segment_full(log))
		return SL_OK;  /* another thread rolled while this one waited */
	log->seg.sealed = true;
	log->seg.seal = (struct sl_idx_entry){ SL_IDX_SEAL, log->next_seq, log->last_time,
					       log->end_off, log->chain, 0 };
	(void)sl_index_write(&log->seg, log->io, log->dir, NULL, 0);

	struct sl_seg_header h;
	int fd = create_segment(log, log->next_seq, &h);
	if (fd < 0)
		return poison(log, SL_EIO, "creating the next segment", errno);
	/* The new last segment, recorded so that its loss is noticed. */
	sl_tail_write(log->dir, log->io, log->next_seq, syncs(log));
	struct stat st;
	if (log->io->fstat(log->io->ctx, fd, &st) < 0) {
		log->io->close(log->io->ctx, fd);
		return poison(log, SL_EIO, "fstat", errno);
	}
	if (queue_pack(log, log->seg.first_seq) != SL_OK) {
		log->io->close(log->io->ctx, fd);
		return poison(log, SL_ENOMEM, "rolling", ENOMEM);
	}
	close_segment_files(log);
	char *path = sl_seg_path(log->dir, log->next_seq, SL_SEG_SUFFIX);
	if (!path) {
		log->io->close(log->io->ctx, fd);
		return poison(log, SL_ENOMEM, "rolling", ENOMEM);
	}
	sl_segfile_close(&log->seg, log->io);
	log->seg.path = path;
	log->seg.first_seq = log->next_seq;
	log->seg.hdr = h;
	log->seg.size = SL_SEG_HEADER_SIZE;
	log->seg.ino = (uint64_t)st.st_ino;
	log->wfd = fd;
	assert(log->end_off == log->pend_off);
	log->end_off = log->pend_off = SL_SEG_HEADER_SIZE;
	log->seg_has_commits = false;
	log->seg_raw_from = SL_SEG_HEADER_SIZE;
	open_index(log);
	return SL_OK;
}

static int grow(uint8_t **buf, size_t *cap, size_t need)
{
	if (need <= *cap)
		return SL_OK;
	size_t ncap = *cap ? *cap : 4096;
	while (ncap < need)
		ncap *= 2;
	uint8_t *n = realloc(*buf, ncap);
	if (!n)
		return SL_ENOMEM;
	*buf = n;
	*cap = ncap;
	return SL_OK;
}

static void *flusher_main(void *arg)
{
	struct sl_log *log = arg;
	pthread_mutex_lock(&log->mu);
	while (!log->stopping) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		uint64_t ns = (uint64_t)ts.tv_nsec + (uint64_t)log->opt.interval_ms * 1000000u;
		ts.tv_sec += (time_t)(ns / 1000000000u);
		ts.tv_nsec = (long)(ns % 1000000000u);
		pthread_cond_timedwait(&log->cv, &log->mu, &ts);
		if (!log->stopping && !log->poisoned && !leaders_at_work(log) &&
		    (log->end_off > log->pend_off || (syncs(log) && log->synced < log->written)))
			lead_flush(log, syncs(log));
	}
	pthread_mutex_unlock(&log->mu);
	return NULL;
}

/* ---- the right to write (see the comment at the top) ---------------- */

/* Gives the flock back.  mu held. */
static void drop_right(struct sl_log *log)
{
	if (!log->have_lock)
		return;
	flock(log->lock_fd, LOCK_UN);
	log->have_lock = false;
}

/* Gives the right back when nothing needs it: no pin, no leader writing,
 * no commit encoded and not yet written.  mu held. */
static void maybe_release(struct sl_log *log)
{
	if (log->have_lock && log->pins == 0 && !log->writing && log->end_off == log->pend_off)
		drop_right(log);
}

/* Adds the sealed segment first_seq to the compactor's queue unless it is
 * there already.  mu held. */
static int queue_pack_once(struct sl_log *log, uint64_t first_seq)
{
	for (size_t i = 0; i < log->n_to_pack; i++)
		if (log->to_pack[i] == first_seq)
			return SL_OK;
	return queue_pack(log, first_seq);
}

/* Makes the handle append after the end that `tail` describes (as found by
 * sl_recover()): the segment, its index, the sequence number, time and
 * chain, and the sealed segments left to pack.  Takes tail->seg and frees
 * tail->unpacked. */
static int install_tail(struct sl_log *log, struct sl_tail *tail, char *msg, size_t msglen)
{
	int rc = SL_OK;
	memcpy(log->log_id, tail->log_id, SL_LOG_ID_SIZE);
	/* the same file as before: what was packed of it still is */
	if (!(log->seg.path && log->seg.first_seq == tail->seg.first_seq &&
	      log->seg.ino == tail->seg.ino && log->seg_raw_from <= tail->end_off))
		log->seg_raw_from = SL_SEG_HEADER_SIZE;
	log->seg = tail->seg;
	log->end_off = log->pend_off = tail->end_off;
	log->seg_has_commits = tail->records_in_seg;
	log->next_seq = tail->next_seq;
	log->last_time = tail->last_time;
	log->chain = tail->chain;
	for (size_t i = 0; i < tail->n_unpacked && rc == SL_OK; i++)
		rc = queue_pack_once(log, tail->unpacked[i]);
	free(tail->unpacked);
	tail->unpacked = NULL;
	if (rc)
		return rc;
	log->wfd = log->io->open(log->io->ctx, log->seg.path, O_RDWR | SL_O_WRITE, 0);
	if (log->wfd < 0) {
		sl_msg(msg, msglen, "%s: %s", log->seg.path, sl_open_strerror(errno));
		return SL_EIO;
	}
	open_index(log);
	return SL_OK;
}

/* Finds the log's end again, as an open does (cutting the torn tail of a
 * writer that died), after another handle changed more than the length of
 * the last segment.  mu and the right held, nothing pending. */
static int full_reload(struct sl_log *log)
{
	assert(log->end_off == log->pend_off);
	/* A leader may still be in fdatasync on the old descriptor. */
	while (leaders_at_work(log))
		pthread_cond_wait(&log->cv, &log->mu);
	close_segment_files(log);
	sl_segfile_close(&log->seg, log->io);
	memset(&log->seg, 0, sizeof(log->seg));
	log->seg.fd = -1;
	log->need_reload = true;
	struct sl_tail tail;
	struct sl_recovery_report rep;
	memset(&tail, 0, sizeof(tail));
	memset(&rep, 0, sizeof(rep));
	int rc = sl_recover(log->dir, log->io, log->opt.max_commit_size, syncs(log), &tail, &rep,
			    log->err, sizeof(log->err));
	if (rc == SL_OK)
		rc = install_tail(log, &tail, log->err, sizeof(log->err));
	if (rc) {
		close_segment_files(log);
		if (log->seg.path)
			sl_segfile_close(&log->seg, log->io);
		memset(&log->seg, 0, sizeof(log->seg));
		log->seg.fd = -1;
		return rc;
	}
	log->need_reload = false;
	log->foreign_gen++;
	log->foreign_end = log->next_seq;
	return SL_OK;
}

/* Opens path just to fstat it. */
static int path_stat(const struct sl_io *io, const char *path, struct stat *st)
{
	int fd = io->open(io->ctx, path, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int r = io->fstat(io->ctx, fd, st);
	int e = errno;
	io->close(io->ctx, fd);
	errno = e;
	return r;
}

/* Whether another handle changed the log since this one last held the
 * right: *grew when only the last segment grew (same file), *other when
 * anything else changed.  `quick` (a hint for readers, not for writing)
 * looks at the segment this handle has open rather than at its name: a
 * file renamed over it (compaction) shows, one moved away (repair) only
 * at the next look by name.  mu held. */
static int look_at_tail(struct sl_log *log, bool quick, bool *grew, bool *other)
{
	*grew = *other = false;
	if (log->need_reload || !log->seg.path) {
		*other = true;
		return SL_OK;
	}
	struct stat st;
	if (quick && log->wfd >= 0) {
		if (log->io->fstat(log->io->ctx, log->wfd, &st) < 0) {
			sl_msg(log->err, sizeof(log->err), "%s: %s", log->seg.path, strerror(errno));
			return SL_EIO;
		}
		if (st.st_nlink == 0)
			st.st_ino = 0;  /* replaced: differs from seg.ino below */
	} else if (path_stat(log->io, log->seg.path, &st) < 0) {
		if (errno != ENOENT) {
			sl_msg(log->err, sizeof(log->err), "%s: %s", log->seg.path, strerror(errno));
			return SL_EIO;
		}
		*other = true;  /* gone: repaired, or moved away */
		return SL_OK;
	}
	if ((uint64_t)st.st_ino != log->seg.ino || (uint64_t)st.st_size < log->end_off) {
		*other = true;
		return SL_OK;
	}
	*grew = (uint64_t)st.st_size > log->end_off;
	/* A writer with a smaller segment_size may have rolled without
	 * writing to this segment. */
	char *next = sl_seg_path(log->dir, log->next_seq, SL_SEG_SUFFIX);
	if (!next)
		return SL_ENOMEM;
	if (path_stat(log->io, next, &st) == 0)
		*other = true;
	free(next);
	return SL_OK;
}

/* After a catch-up by scanning: the other writers wrote the same reading
 * points into the segment's index.  When the index at its name is not the
 * file this handle appends to, or does not end where it would, it is
 * written whole and reopened. */
static void adopt_index(struct sl_log *log)
{
	uint64_t want = SL_IDX_HEADER_SIZE + log->seg.n_idx * (uint64_t)SL_IDX_ENTRY_SIZE;
	struct stat st, named;
	char *path = sl_seg_path(log->dir, log->seg.first_seq, SL_IDX_SUFFIX);
	bool same = path && log->idx_fd >= 0 &&
		    log->io->fstat(log->io->ctx, log->idx_fd, &st) == 0 &&
		    path_stat(log->io, path, &named) == 0 && st.st_ino == named.st_ino &&
		    (uint64_t)st.st_size == want;
	free(path);
	if (same) {
		log->idx_size = want;
		return;
	}
	if (log->idx_fd >= 0)
		log->io->close(log->io->ctx, log->idx_fd);
	open_index(log);
}

/* After taking the right: catches up with what other handles appended.
 * mu and the right held, nothing pending. */
static int refresh_tail(struct sl_log *log)
{
	bool grew, other;
	int rc = look_at_tail(log, false, &grew, &other);
	if (rc || (!grew && !other))
		return rc;
	if (!other) {
		/* Scan and check the commits added after this handle's end. */
		log->seg.buf_len = 0;
		if (log->seg.fd < 0)  /* a segment this handle created has no reading fd */
			log->seg.fd = log->io->open(log->io->ctx, log->seg.path, O_RDONLY | O_CLOEXEC, 0);
		if (log->seg.fd < 0 || (rc = sl_segfile_refresh(&log->seg, log->io))) {
			rc = SL_EIO;
			sl_msg(log->err, sizeof(log->err), "%s: %s", log->seg.path, strerror(errno));
			return rc;
		}
		struct sl_scan sc = { .off = log->end_off, .next_seq = log->next_seq,
				      .chain = log->chain, .last_time = log->last_time };
		size_t n_idx = log->seg.n_idx;
		if ((rc = sl_scan_segment(&log->seg, log->io, log->opt.max_commit_size, &sc))) {
			sl_msg(log->err, sizeof(log->err), "%s: reading the commits of other writers: %s",
			       log->seg.path, sl_strerror(rc));
			return rc;
		}
		if (sc.stop_status != SL_CR_END) {
			log->seg.n_idx = n_idx;
			other = true;  /* a torn tail: recovery cuts it */
		} else {
			log->end_off = log->pend_off = sc.off;
			log->next_seq = sc.next_seq;
			log->chain = sc.chain;
			log->last_time = sc.last_time;
			log->seg_has_commits = true;
			log->foreign_gen++;
			log->foreign_end = log->next_seq;
			/* The writer that grew it may have rolled past it since
			 * (and sealed its index): then reload, index untouched. */
			if ((rc = look_at_tail(log, false, &grew, &other)))
				return rc;
			other = other || grew;
			if (!other)
				adopt_index(log);
		}
	}
	return other ? full_reload(log) : SL_OK;
}

/* Takes the right to write for this handle, if no thread of it holds it
 * yet, and catches up with other writers.  mu held; released while
 * waiting. */
/* Holding the right longer than this, a handle hands it over to another
 * writer that waits for it (the keeper looks, every SL_IDLE_RELEASE_NS):
 * a busy process never keeps the others out. */
#define SL_YIELD_AFTER_NS (5 * 1000000)
/* How long a yielding handle stays away: waiters poll at least every
 * millisecond. */
#define SL_YIELD_PAUSE_NS (2 * 1000000)

/* Whether a writer of another handle waits for the right: WAITING is
 * shared-locked by waiters, so an exclusive try fails.  mu held. */
static bool others_wait(struct sl_log *log)
{
	if (log->wait_fd < 0 || flock(log->wait_fd, LOCK_EX | LOCK_NB) < 0)
		return log->wait_fd >= 0 && errno == EWOULDBLOCK;
	flock(log->wait_fd, LOCK_UN);
	return false;
}

/* Called by take_right() when the keeper saw another writer waiting: writes
 * what is pending, gives the right back and stays away a moment (appends of
 * this handle wait meanwhile).  Nothing happens while a hold pins it. */
static int yield_right(struct sl_log *log)
{
	if (log->pins || log->yielding)
		return SL_OK;
	log->should_yield = false;
	log->yielding = true;
	int rc = flush_all(log, false);
	if (rc == SL_OK)
		maybe_release(log);
	if (!log->have_lock) {
		pthread_mutex_unlock(&log->mu);
		struct timespec ts = { 0, SL_YIELD_PAUSE_NS };
		nanosleep(&ts, NULL);
		pthread_mutex_lock(&log->mu);
	}
	log->yielding = false;
	if (log->acquire_waiters)
		pthread_cond_broadcast(&log->cv);
	return rc;
}

static int take_right(struct sl_log *log)
{
	while (log->yielding) {
		log->acquire_waiters++;
		pthread_cond_wait(&log->cv, &log->mu);
		log->acquire_waiters--;
	}
	if (log->have_lock && log->should_yield) {
		int rc = yield_right(log);
		if (rc)
			return rc;
	}
	log->uses++;
	while (!log->have_lock) {
		if (log->poisoned)
			return log->fail_rc ? log->fail_rc : SL_EPOISONED;
		if (log->acquiring) {
			log->acquire_waiters++;
			pthread_cond_wait(&log->cv, &log->mu);
			log->acquire_waiters--;
			continue;
		}
		/* `acquiring` stays set, and have_lock unset, until the tail is
		 * caught up: no other thread of this handle encodes (nor the
		 * keeper releases) on the old tail meanwhile, also while
		 * full_reload() waits, mu released, for a leader's fdatasync. */
		log->acquiring = true;
		pthread_mutex_unlock(&log->mu);
		char msg[768];
		int rc = lock_wait(log->lock_fd, log->wait_fd, log->dir, log->opt.busy_timeout_ms,
				   msg, sizeof(msg));
		pthread_mutex_lock(&log->mu);
		if (rc) {
			sl_msg(log->err, sizeof(log->err), "%s", msg);
		} else {
			rc = log->poisoned ? (log->fail_rc ? log->fail_rc : SL_EPOISONED)
					   : refresh_tail(log);
			/* A leader may have failed while this thread waited. */
			if (rc == SL_OK && log->poisoned)
				rc = log->fail_rc ? log->fail_rc : SL_EPOISONED;
			if (rc)
				flock(log->lock_fd, LOCK_UN);
		}
		if (rc == SL_OK) {
			log->have_lock = true;
			log->held_since_ns = mono_ns();
			log->should_yield = false;
			note_holder(log->dir, log->io, &log->pid_fd);
			pthread_cond_signal(&log->keep_cv);
		}
		log->acquiring = false;
		/* Only those waiting for it: a broadcast would wake the flusher
		 * too, which would then flush each commit alone. */
		if (log->acquire_waiters)
			pthread_cond_broadcast(&log->cv);
		if (rc)
			return rc;
	}
	return SL_OK;
}

/* A handle keeps the right while it uses it, and gives it back once it has
 * not for this long: a single writer pays for the lock and the look at the
 * tail once per busy spell, not once per commit. */
#define SL_IDLE_RELEASE_NS (2 * 1000000)

static void abs_time_in(struct timespec *ts, int64_t ns)
{
	clock_gettime(CLOCK_REALTIME, ts);
	int64_t t = ts->tv_nsec + (ns > 0 ? ns : 0);
	ts->tv_sec += (time_t)(t / 1000000000);
	ts->tv_nsec = (long)(t % 1000000000);
}

/* The keeper: while the handle holds the right, looks every
 * SL_IDLE_RELEASE_NS: if the handle did not use it meanwhile, writes what
 * is pending and gives it back, so that another writer never waits for an
 * idle one; if it did, and has held it SL_YIELD_AFTER_NS, and another
 * writer waits, asks the next append to hand it over (yield_right()).  The
 * appends themselves never look at a clock for this. */
static void *keeper_main(void *arg)
{
	struct sl_log *log = arg;
	pthread_mutex_lock(&log->mu);
	uint64_t seen = log->uses;
	while (!log->stopping) {
		if (!log->have_lock) {
			pthread_cond_wait(&log->keep_cv, &log->mu);
			seen = log->uses;
			continue;
		}
		struct timespec ts;
		abs_time_in(&ts, SL_IDLE_RELEASE_NS);
		pthread_cond_timedwait(&log->keep_cv, &log->mu, &ts);
		if (log->stopping || !log->have_lock)
			continue;
		if (log->poisoned) {
			drop_right(log);  /* a failed handle keeps no one out */
		} else if (log->uses == seen && log->pins == 0) {
			if (log->end_off > log->pend_off && !leaders_at_work(log))
				(void)lead_flush(log, false);
			maybe_release(log);
		} else if (mono_ns() - log->held_since_ns >= SL_YIELD_AFTER_NS && others_wait(log)) {
			log->should_yield = true;
		}
		seen = log->uses;
	}
	pthread_mutex_unlock(&log->mu);
	return NULL;
}

/* Rolls while the segment is full, the right pinned meanwhile (a roll's
 * flush must not give it back).  mu and the right held. */
static int roll_while_full(struct sl_log *log)
{
	int rc = SL_OK;
	log->pins++;
	while (rc == SL_OK && segment_full(log))
		rc = roll(log);
	log->pins--;
	return rc;
}

/* Appends the commit's raw record to the pending buffer.  Called with mu held. */
static int append_locked(struct sl_log *log, sl_event *const *events, size_t n,
			 struct sl_commit_info *info, uint64_t *ticket)
{
	if (log->poisoned)
		return SL_EPOISONED;  /* the first failure's message stays */
	if (n == 0 || n > UINT32_MAX) {
		sl_msg(log->err, sizeof(log->err), "append: a commit holds 1 to 2^32-1 events");
		return SL_EINVAL;
	}
	int rc = take_right(log);
	if (rc)
		return rc;
	if (log->poisoned)  /* a leader failed while this thread waited */
		return log->fail_rc ? log->fail_rc : SL_EPOISONED;
	/* Roll first: it may wait, and so let other appenders in. */
	if ((rc = roll_while_full(log)))
		return rc;
	if (n > log->times_cap) {
		int64_t *t = realloc(log->times, n * sizeof(*t));
		if (t)
			log->times = t;
		size_t *z = realloc(log->sizes, n * sizeof(*z));
		if (z)
			log->sizes = z;
		if (!t || !z)
			return SL_ENOMEM;
		log->times_cap = n;
	}
	/* Times first: nothing is written when one is out of order. */
	int64_t now = now_us(), prev = log->last_time;
	for (size_t i = 0; i < n; i++) {
		int64_t t = events[i]->has_time_us ? events[i]->time_us : (now > prev ? now : prev);
		if (t < prev || t < 0) {
			sl_msg(log->err, sizeof(log->err), "append: event %zu: time %" PRId64
			       " is earlier than the log's last time %" PRId64, i, t, prev);
			return SL_EINVAL;
		}
		/* A time no reader can write as a date (after 9999-12-31) would
		 * carry every later event with it: refused, as a time going back. */
		if (t > SL_LOG_TIME_MAX_US) {
			sl_msg(log->err, sizeof(log->err), "append: event %zu: time %" PRId64
			       " is after the year 9999", i, t);
			return SL_EINVAL;
		}
		log->times[i] = prev = t;
	}
	/* The payload: per event, varint time delta, varint length, bytes.  Its
	 * length is known before encoding, so the header goes first. */
	uint64_t raw_len = 0;
	for (size_t i = 0; i < n; i++) {
		size_t sz = log->sizes[i] = sl_event_encoded_size(events[i]);
		if (sz > log->opt.max_event_size) {
			sl_msg(log->err, sizeof(log->err), "append: event %zu is %zu bytes, over the "
			       "maximum of %" PRIu32, i, sz, log->opt.max_event_size);
			return SL_ETOOBIG;
		}
		uint8_t tmp[10];
		raw_len += sl_put_varint(tmp, (uint64_t)(log->times[i] - (i ? log->times[i - 1] : log->times[0])));
		raw_len += sl_put_varint(tmp, sz) + sz;
	}
	if (raw_len > log->opt.max_commit_size) {
		sl_msg(log->err, sizeof(log->err), "append: commit is %" PRIu64 " bytes, over the "
		       "maximum of %" PRIu32, raw_len, log->opt.max_commit_size);
		return SL_ETOOBIG;
	}
	size_t used = (size_t)(log->end_off - log->pend_off);
	if ((rc = grow(&log->pend, &log->pend_cap, used + SL_REC_HEADER_MAX + (size_t)raw_len)))
		return rc;
	struct sl_rec_header h = {
		.kind = SL_REC_RAW,
		.payload_len = (uint32_t)raw_len,
		.raw_len = (uint32_t)raw_len,
		.first_seq = log->next_seq,
		.n_commits = 1,
		.n_events = (uint32_t)n,
		.time_first = log->times[0],
		.time_last = log->times[n - 1],
		.prev_crc = log->chain,
	};
	uint8_t hdr[SL_REC_HEADER_MAX];
	size_t hl = sl_rec_header_encode(&h, NULL, hdr);  /* for its length */
	uint8_t *payload = log->pend + used + hl, *p = payload;
	for (size_t i = 0; i < n; i++) {
		p += sl_put_varint(p, (uint64_t)(log->times[i] - (i ? log->times[i - 1] : log->times[0])));
		p += sl_put_varint(p, log->sizes[i]);
		p += sl_event_encode(events[i], p);
	}
	assert((uint64_t)(p - payload) == raw_len);
	h.chain_out = sl_commit_crc(h.prev_crc, h.first_seq, h.n_events, h.time_first, h.time_last,
				    payload, (size_t)raw_len);
	size_t hl2 = sl_rec_header_encode(&h, payload, log->pend + used);
	assert(hl2 == hl);
	(void)hl2;
	if (sl_index_wants_point(&log->seg, log->end_off))
		index_append(log, &(struct sl_idx_entry){ SL_IDX_POINT, h.first_seq, h.time_first,
							    log->end_off, h.prev_crc, 0 });
	log->end_off += hl + raw_len;
	log->seg_has_commits = true;
	log->chain = h.chain_out;
	for (size_t i = 0; i < n; i++) {
		events[i]->has_seq = 1;
		events[i]->seq = log->next_seq + i;
		events[i]->has_time_us = 1;
		events[i]->time_us = log->times[i];
	}
	if (info) {
		info->first_seq = log->next_seq;
		info->last_seq = log->next_seq + n - 1;
		info->time_us = log->times[n - 1];
	}
	log->next_seq += n;
	log->last_time = log->times[n - 1];
	log->last_append_ns = mono_ns();
	*ticket = ++log->written;
	return SL_OK;
}

/* sl_log_append(), and sl_log_append_held() when `held`: the caller's pin
 * ends once the commit is encoded (or refused). */
static int append(sl_log *log, sl_event *const *events, size_t n, struct sl_commit_info *info,
		  bool held)
{
	uint64_t ticket = 0;
	pthread_mutex_lock(&log->mu);
	int rc = append_locked(log, events, n, info, &ticket);
	if (held && log->pins)
		log->pins--;
	if (log->gathering && log->written - log->flushed >= log->gather_target)
		pthread_cond_signal(&log->gather_cv);
	if (rc == SL_OK && log->opt.durability != SL_DURABLE_ALWAYS) {
		if (log->end_off - log->pend_off >= SL_PEND_FLUSH && !leaders_at_work(log))
			rc = lead_flush(log, false);
	} else if (rc == SL_OK) {
		/* Lead a flush, or sleep until a leader's fdatasync covers this
		 * commit (or hands over the lead). */
		while (log->synced < ticket && !log->poisoned) {
			if (can_lead(log)) {
				lead_flush(log, true);
				continue;
			}
			struct sl_waiter w = { .ticket = ticket };
			sem_init(&w.sem, 0, 0);
			w.next = log->waiters;
			log->waiters = &w;
			pthread_mutex_unlock(&log->mu);
			while (sem_wait(&w.sem) < 0 && errno == EINTR)
				;
			sem_destroy(&w.sem);
			if (!w.lead)
				return w.rc;  /* mu is not held here */
			pthread_mutex_lock(&log->mu);
		}
		if (log->synced < ticket)
			rc = log->fail_rc ? log->fail_rc : SL_EPOISONED;
	}
	pthread_mutex_unlock(&log->mu);
	return rc;
}

int sl_log_append(sl_log *log, sl_event *const *events, size_t n, struct sl_commit_info *info)
{
	return append(log, events, n, info, false);
}

int sl_log_append_held(sl_log *log, sl_event *const *events, size_t n,
		       struct sl_commit_info *info)
{
	return append(log, events, n, info, true);
}

static void hold_info(struct sl_log_hold *out, const struct sl_log *log)
{
	out->next_seq = log->next_seq;
	out->foreign_gen = log->foreign_gen;
	out->foreign_end = log->foreign_end;
}

int sl_log_hold(struct sl_log_hold *out, sl_log *log)
{
	pthread_mutex_lock(&log->mu);
	int rc = log->poisoned ? (log->fail_rc ? log->fail_rc : SL_EPOISONED) : take_right(log);
	if (rc == SL_OK) {
		log->pins++;
		hold_info(out, log);
	}
	pthread_mutex_unlock(&log->mu);
	return rc;
}

void sl_log_release(sl_log *log)
{
	pthread_mutex_lock(&log->mu);
	if (log->pins)
		log->pins--;
	log->uses++;  /* the keeper gives it back once idle */
	pthread_mutex_unlock(&log->mu);
}

int sl_log_refresh(struct sl_log_hold *out, sl_log *log)
{
	pthread_mutex_lock(&log->mu);
	int rc = SL_OK;
	if (!log->have_lock) {
		bool grew, other;
		rc = look_at_tail(log, true, &grew, &other);
		if (rc == SL_OK && (grew || other))
			rc = take_right(log);  /* the keeper gives it back once idle */
	}
	if (rc == SL_OK)
		hold_info(out, log);
	pthread_mutex_unlock(&log->mu);
	return rc;
}

int sl_log_append_gap(sl_log *log, uint64_t count)
{
	int rc = SL_OK;
	pthread_mutex_lock(&log->mu);
	if (log->poisoned) {
		rc = SL_EPOISONED;
		goto out;
	}
	if (count == 0 || count > UINT32_MAX) {
		rc = SL_EINVAL;
		goto out;
	}
	if ((rc = take_right(log)) || (rc = roll_while_full(log)))
		goto out;
	struct sl_rec_header h = {
		.kind = SL_REC_GAP, .first_seq = log->next_seq, .n_commits = 1,
		.n_events = (uint32_t)count, .time_first = log->last_time,
		.time_last = log->last_time, .prev_crc = log->chain,
	};
	h.chain_out = sl_commit_crc(h.prev_crc, h.first_seq, h.n_events, h.time_first, h.time_last,
				    NULL, 0);
	size_t used = (size_t)(log->end_off - log->pend_off);
	if ((rc = grow(&log->pend, &log->pend_cap, used + SL_REC_HEADER_MAX)))
		goto out;
	size_t hl = sl_rec_header_encode(&h, NULL, log->pend + used);
	if (sl_index_wants_point(&log->seg, log->end_off))
		index_append(log, &(struct sl_idx_entry){ SL_IDX_POINT, h.first_seq, h.time_first,
							    log->end_off, h.prev_crc, 0 });
	log->end_off += hl;
	log->seg_has_commits = true;
	log->chain = h.chain_out;
	log->next_seq += count;
	log->written++;
out:
	pthread_mutex_unlock(&log->mu);
	return rc;
}

int sl_log_sync(sl_log *log)
{
	pthread_mutex_lock(&log->mu);
	int rc = log->poisoned ? SL_EPOISONED : flush_all(log, true);
	if (rc == SL_OK && log->synced < log->written)
		rc = wait_durable(log, log->written);
	pthread_mutex_unlock(&log->mu);
	return rc;
}

int sl_log_flush(sl_log *log)
{
	pthread_mutex_lock(&log->mu);
	int rc = log->poisoned ? SL_EPOISONED : flush_all(log, false);
	pthread_mutex_unlock(&log->mu);
	return rc;
}

uint64_t sl_log_next_seq(sl_log *log)
{
	pthread_mutex_lock(&log->mu);
	uint64_t v = log->next_seq;
	pthread_mutex_unlock(&log->mu);
	return v;
}

int64_t sl_log_last_time(sl_log *log)
{
	pthread_mutex_lock(&log->mu);
	int64_t v = log->last_time;
	pthread_mutex_unlock(&log->mu);
	return v;
}

void sl_log_id(uint8_t out[SL_LOG_ID_SIZE], const sl_log *log)
{
	memcpy(out, log->log_id, SL_LOG_ID_SIZE);
}

const char *sl_log_errmsg(sl_log *log)
{
	return log->err;
}

static void log_free(struct sl_log *log)
{
	close_segment_files(log);
	sl_segfile_close(&log->seg, log->io);
	if (log->lock_fd >= 0)
		log->io->close(log->io->ctx, log->lock_fd);  /* releases the flock */
	if (log->wait_fd >= 0)
		log->io->close(log->io->ctx, log->wait_fd);
	if (log->pid_fd >= 0)
		log->io->close(log->io->ctx, log->pid_fd);
	pthread_cond_destroy(&log->cv);
	pthread_cond_destroy(&log->pack_cv);
	pthread_cond_destroy(&log->gather_cv);
	pthread_cond_destroy(&log->keep_cv);
	pthread_mutex_destroy(&log->mu);
	free(log->pend);
	free(log->spare);
	free(log->times);
	free(log->sizes);
	free(log->to_pack);
	free(log->dir);
	free(log);
}

/* Set by sl_log_open_as() for the one open it makes. */
static __thread const uint8_t *forced_id;

/* Creates the first segment of a new log. */
static int create_log(struct sl_log *log, char *msg, size_t msglen)
{
	if (forced_id) {
		memcpy(log->log_id, forced_id, SL_LOG_ID_SIZE);
	} else if (getrandom(log->log_id, SL_LOG_ID_SIZE, 0) != SL_LOG_ID_SIZE) {
		sl_msg(msg, msglen, "%s: getrandom: %s", log->dir, strerror(errno));
		return SL_EIO;
	}
	log->chain = 0;
	struct sl_seg_header h;
	int fd = create_segment(log, 1, &h);
	if (fd < 0) {
		sl_msg(msg, msglen, "%s: creating the first segment: %s", log->dir, strerror(errno));
		return SL_EIO;
	}
	log->io->close(log->io->ctx, fd);
	return SL_OK;
}

/* Removes what an interrupted compaction or segment creation left behind. */
static void remove_leftovers(struct sl_log *log)
{
	DIR *d = opendir(log->dir);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		bool pack = l > 9 && strcmp(de->d_name + l - 9, ".seg.pack") == 0;
		bool idx = strstr(de->d_name, SL_IDX_SUFFIX ".tmp") != NULL;
		bool seg = (l > 8 && strcmp(de->d_name + l - 8, ".seg.tmp") == 0) ||
			   strcmp(de->d_name, SL_TAIL_NAME ".tmp") == 0;
		if (!pack && !idx && !seg)
			continue;
		/* A packer of another process may be writing a segment's
		 * .seg.pack and .idx.tmp now, holding the segment's lock: those
		 * are left alone while it is held.  Every other temporary file is
		 * written with the right to write, held here. */
		int sfd = -1;
		if (pack || idx) {
			uint64_t first = strtoull(de->d_name, NULL, 10);
			int rc = seg_lock(log->dir, log->io, first, false, &sfd);
			if (rc == SL_ELOCKED)
				continue;
		}
		char path[4400];
		snprintf(path, sizeof(path), "%s/%s", log->dir, de->d_name);
		log->io->unlink(log->io->ctx, path);
		if (sfd >= 0)
			log->io->close(log->io->ctx, sfd);
	}
	closedir(d);
}

int sl_log_open(sl_log **out, const char *dir, const struct sl_log_options *opts,
		struct sl_recovery_report *report, char *msg, size_t msglen)
{
	struct sl_recovery_report scratch;
	struct sl_recovery_report *rep = report ? report : &scratch;
	memset(rep, 0, sizeof(*rep));
	struct sl_log *log = calloc(1, sizeof(*log));
	if (!log)
		return SL_ENOMEM;
	if (opts)
		log->opt = *opts;
	else
		sl_log_options_init(&log->opt);
	log->io = log->opt.io ? log->opt.io : &sl_io_posix;
	/* No descriptor yet: a failed open must close nothing it does not own
	 * (a zeroed fd is the caller's standard input). */
	log->lock_fd = log->pid_fd = log->wait_fd = log->wfd = log->idx_fd = log->seg.fd = -1;
	pthread_mutex_init(&log->mu, NULL);
	pthread_cond_init(&log->cv, NULL);
	pthread_cond_init(&log->pack_cv, NULL);
	pthread_cond_init(&log->gather_cv, NULL);
	pthread_cond_init(&log->keep_cv, NULL);
	int rc = SL_OK;
	const struct sl_log_options *o = &log->opt;
	if (o->durability > SL_DURABLE_NONE || (o->durability != SL_DURABLE_ALWAYS && !o->interval_ms) ||
	    o->segment_size < 4096 || o->pack_size < 4096 || o->pack_size > (64u << 20) ||
	    o->compression_level < -7 || o->compression_level > 22 || !o->max_event_size ||
	    o->max_commit_size < o->max_event_size || o->max_commit_size > (1u << 30)) {
		sl_msg(msg, msglen, "%s: invalid log options", dir);
		rc = SL_EINVAL;
		goto fail;
	}
	log->dir = strdup(dir);
	if (!log->dir) {
		rc = SL_ENOMEM;
		goto fail;
	}
	if (o->create && log->io->mkdir(log->io->ctx, dir, 0755) < 0 && errno != EEXIST) {
		sl_msg(msg, msglen, "%s: %s", dir, strerror(errno));
		rc = errno == ENOENT ? SL_ENOTFOUND : SL_EIO;
		goto fail;
	}
	if ((rc = dir_lock_open(dir, log->io, &log->lock_fd, msg, msglen)) ||
	    (rc = lock_file_open(dir, log->io, SL_LOCK_NAME, &log->pid_fd, msg, msglen)) ||
	    (rc = lock_file_open(dir, log->io, SL_WAIT_LOCK_NAME, &log->wait_fd, msg, msglen)) ||
	    (rc = lock_wait(log->lock_fd, log->wait_fd, dir, o->busy_timeout_ms, msg, msglen)))
		goto fail;
	note_holder(dir, log->io, &log->pid_fd);
	log->held_since_ns = mono_ns();
	log->have_lock = true;
	remove_leftovers(log);
	uint64_t *seqs = NULL;
	size_t nseg = 0;
	if ((rc = sl_list_segments(dir, &seqs, &nseg, msg, msglen)))
		goto fail;
	free(seqs);
	if (nseg == 0) {
		if (!o->create) {
			sl_msg(msg, msglen, "%s: no log here (run `statelog init`)", dir);
			rc = SL_ENOTFOUND;
			goto fail;
		}
		if ((rc = create_log(log, msg, msglen)))
			goto fail;
	}
	struct sl_tail tail;
	memset(&tail, 0, sizeof(tail));
	rc = sl_recover(dir, log->io, o->max_commit_size, syncs(log), &tail, rep, msg, msglen);
	if (rc)
		goto fail;
	if ((rc = install_tail(log, &tail, msg, msglen)))
		goto fail;
	if (o->compact) {
		if (pthread_create(&log->packer, NULL, packer_main, log) != 0) {
			sl_msg(msg, msglen, "%s: cannot start the compaction thread", dir);
			rc = SL_ENOMEM;
			goto fail;
		}
		log->packer_started = true;
	}
	if (pthread_create(&log->keeper, NULL, keeper_main, log) != 0) {
		sl_msg(msg, msglen, "%s: cannot start the keeper thread", dir);
		rc = SL_ENOMEM;
		goto fail;
	}
	log->keeper_started = true;
	if (o->durability != SL_DURABLE_ALWAYS) {
		if (pthread_create(&log->flusher, NULL, flusher_main, log) != 0) {
			sl_msg(msg, msglen, "%s: cannot start the flush thread", dir);
			rc = SL_ENOMEM;
			goto fail;
		}
		log->flusher_started = true;
	}
	log->held_since_ns = mono_ns();  /* kept for the first append; the keeper
					    gives it back if none comes */
	*out = log;
	return SL_OK;
fail:
	stop_threads(log);
	log_free(log);
	return rc;
}

/* Packs the segment being appended to, in place of its file (FORMAT.md:
 * a complete packed copy renamed over it), and appends to the new file from
 * its end.  Called with mu and the right held, everything flushed, a pin
 * taken (the keeper keeps the right). */
static int pack_active(struct sl_log *log)
{
	/* appends wait meanwhile (mu) */
	uint64_t size;
	int rc = sl_compact_segment(log->dir, log->io, log->seg.first_seq, log->opt.compression_level,
				log->opt.pack_size, log->opt.max_commit_size, syncs(log), false,
				NULL, &size, log->err, sizeof(log->err));
	if (rc == SL_OK) {
		/* The file was replaced: write to the new one from its end. */
		close_segment_files(log);
		uint64_t first = log->seg.first_seq;
		bool short_header;
		sl_segfile_close(&log->seg, log->io);
		rc = sl_segfile_open(&log->seg, log->io, log->dir, first, &short_header, log->err,
				     sizeof(log->err));
		if (rc == SL_OK)
			rc = sl_index_load(&log->seg, log->io, log->dir, log->log_id);
		if (rc == SL_OK) {
			log->seg.sealed = false;
			log->wfd = log->io->open(log->io->ctx, log->seg.path, O_RDWR | SL_O_WRITE, 0);
			if (log->wfd < 0)
				rc = poison(log, SL_EIO, "reopening after compaction", errno);
			log->end_off = log->pend_off = log->seg.size;
			open_index(log);
		} else {
			poison(log, rc, "reopening after compaction", EIO);
		}
	}
	if (rc == SL_OK)
		log->seg_raw_from = log->end_off;
	return rc;
}

int sl_log_compact(sl_log *log)
{
	pthread_mutex_lock(&log->mu);
	int rc = take_right(log);
	if (rc) {
		pthread_mutex_unlock(&log->mu);
		return rc;
	}
	log->pins++;
	/* Everything pending goes to the file first. */
	rc = flush_all(log, syncs(log));
	/* Sealed segments: the compactor's queue, drained here. */
	while (log->packing)
		pthread_cond_wait(&log->cv, &log->mu);
	while (rc == SL_OK && log->n_to_pack) {
		uint64_t first = log->to_pack[--log->n_to_pack];
		rc = pack_sealed(log, first, true, NULL, log->err, sizeof(log->err));
	}
	if (rc == SL_OK)
		rc = flush_all(log, syncs(log));  /* appends may have come meanwhile */
	if (rc == SL_OK && log->seg_has_commits)
		rc = pack_active(log);
	log->pins--;
	pthread_mutex_unlock(&log->mu);
	return rc;
}

int sl_log_open_as(sl_log **out, const char *dir, const struct sl_log_options *opts,
		   const uint8_t id[SL_LOG_ID_SIZE], char *msg, size_t msglen)
{
	forced_id = id;
	int rc = sl_log_open(out, dir, opts, NULL, msg, msglen);
	forced_id = NULL;
	return rc;
}

/* Stops the flusher and the compactor (a segment half packed stays raw: it
 * is packed after the next open). */
static void stop_threads(struct sl_log *log)
{
	pthread_mutex_lock(&log->mu);
	log->stopping = true;
	log->pack_stop = true;
	pthread_cond_broadcast(&log->cv);
	pthread_cond_broadcast(&log->pack_cv);
	pthread_cond_broadcast(&log->keep_cv);
	pthread_mutex_unlock(&log->mu);
	if (log->flusher_started)
		pthread_join(log->flusher, NULL);
	if (log->packer_started)
		pthread_join(log->packer, NULL);
	if (log->keeper_started)
		pthread_join(log->keeper, NULL);
	log->flusher_started = log->packer_started = log->keeper_started = false;
}

int sl_log_close(sl_log *log)
{
	if (!log)
		return SL_OK;
	stop_threads(log);
	pthread_mutex_lock(&log->mu);
	int rc = log->poisoned ? SL_EPOISONED : flush_all(log, syncs(log));
	/* The index of the last segment, written whole: only with the right
	 * (others may be appending to it), and only when it is free now. */
	if (!log->poisoned && log->seg.path &&
	    (log->have_lock || flock(log->lock_fd, LOCK_EX | LOCK_NB) == 0)) {
		bool fresh = log->have_lock;
		log->have_lock = true;
		if ((fresh || refresh_tail(log) == SL_OK) && log->seg.path) {
			/* A log at rest is packed, also one smaller than a
			 * segment.  Every commit is on disk already: a failure
			 * here (or a crash) leaves the segment raw, still a
			 * sound log, packed by the next writer. */
			bool packed = rc == SL_OK && active_worth_packing(log) &&
				      pack_active(log) == SL_OK;  /* writes the index too */
			if (!packed && !log->poisoned && log->seg.path)
				(void)sl_index_write(&log->seg, log->io, log->dir, NULL, 0);
		}
	}
	drop_right(log);
	pthread_mutex_unlock(&log->mu);
	log_free(log);
	return rc;
}
