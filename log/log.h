/* log.h: the segment log, statelog's only source of truth.
 *
 * A log is a directory of segment files holding commits; a commit holds one
 * or more events and becomes durable and visible all or nothing.  The bytes
 * on disk are specified in log/FORMAT.md.
 *
 * Any number of handles, in one process or several, write (sl_log): they
 * take turns through an OS lock on the directory, kept by a writer while it
 * writes and handed over when another waits, and each sees the others'
 * commits before it appends its own (log/FORMAT.md, "Writers").  Any number
 * of readers (sl_reader) read, also while writers append, never wait for
 * them, and see only whole commits.  Library code never prints: every
 * failure is a negative SL_* code, with details in the handle's last error
 * message.
 */
#ifndef SL_LOG_H
#define SL_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "io.h"
#include "sl_api.h"
#include "sl_error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sl_log sl_log;
typedef struct sl_reader sl_reader;

#define SL_LOG_ID_SIZE 16

enum sl_durability {
	SL_DURABLE_ALWAYS = 0,  /* append returns once the commit is on disk;
				   concurrent appends share one fdatasync */
	SL_DURABLE_INTERVAL,    /* a background flush every interval_ms: at
				   most that much of acknowledged commits at risk */
	SL_DURABLE_NONE,        /* the OS writes back when it likes */
};

struct sl_log_options {
	enum sl_durability durability;
	uint32_t interval_ms;        /* SL_DURABLE_INTERVAL; default 100 */
	uint64_t segment_size;       /* roll to a new segment past this; default 64 MiB */
	bool compact;                /* pack sealed segments in the background,
					and the segment being appended to once the
					handle has been idle for a second and at
					close, when it holds at least 256 KiB
					stored raw and they are an eighth of the
					file (default true; see sl_log_compact()) */
	uint32_t pack_size;          /* raw bytes per packed record (also the most
					a seek decompresses); default 2 MiB */
	int compression_level;       /* zstd level of packed records; default 3 */
	uint32_t max_event_size;     /* encoded bytes; default 16 MiB */
	uint32_t max_commit_size;    /* raw (uncompressed) bytes; default 64 MiB */
	bool create;                 /* create the directory and log if missing */
	uint32_t busy_timeout_ms;    /* how long an append waits for another writer
					to give the log back; default 5000 */
	const struct sl_io *io;      /* NULL: the real file system */
};

#define SL_LOG_DEFAULT_LEVEL 3

/* Fills *opts with the defaults above (durability always, create false,
 * compact true). */
SL_API void sl_log_options_init(struct sl_log_options *opts);

/* What sl_log_open() found and did.  Paths are owned by the report and stay
 * valid until the next open that fills the same report. */
struct sl_recovery_report {
	bool tail_cut;              /* a torn or partial tail was cut off */
	char segment[512];          /* the segment whose tail was cut, or the
				       half-created one set aside */
	uint64_t cut_offset;        /* where the cut began */
	uint64_t bytes_cut;         /* bytes cut, or the size of the half-created
				       segment set aside (all zeros) */
	bool seq_lost;              /* the cut held at least one whole, valid
				       commit (not acknowledged by an `always`
				       writer, or it would not have been torn) */
	uint64_t lost_first_seq;    /* when seq_lost: the range found in the cut */
	uint64_t lost_last_seq;
	char aside[512];            /* file the cut bytes were kept in, or the
				       half-created segment's new name (.seg.torn) */
	bool empty_segment_removed; /* a last segment whose header was never
				       written (no byte, or only zeros: no event
				       can be in it) was set aside; a last
				       segment holding part of a header is damage
				       (SL_ECORRUPT) */
	uint32_t indexes_rebuilt;   /* index files written because missing or stale */
	uint64_t next_seq;          /* the sequence number the next event gets */
};

/* Opens the log in `dir` for appending.  Takes the right to write for the
 * time of the open (waiting up to busy_timeout_ms for another writer to
 * give it back: SL_ELOCKED, naming the holder's pid, when it does not), then
 * recovers: a torn tail of the last segment is cut and kept aside, and
 * reported in *report (which may be NULL); damage anywhere else is
 * SL_ECORRUPT and the message names the segment and the offset.
 * On failure *out is untouched and, when err is not NULL, a message
 * describing the failure is written into it (errlen bytes at most). */
SL_API int sl_log_open(sl_log **out, const char *dir, const struct sl_log_options *opts,
		       struct sl_recovery_report *report, char *err, size_t errlen);

/* Flushes (fdatasync unless durability is none), packs the last segment
 * when it holds enough raw bytes (sl_log_options.compact), writes its
 * index, releases the lock and frees the handle.  Every commit is on disk
 * before the packing starts: a failure or a crash in it leaves the segment
 * raw, still sound, and is not reported.  Returns the first error met; the
 * handle is freed either way.  NULL is allowed. */
SL_API int sl_log_close(sl_log *log);

struct sl_commit_info {
	uint64_t first_seq;
	uint64_t last_seq;
	int64_t time_us;            /* time of the last event */
};

/* The last microsecond a log time may be: 9999-12-31T23:59:59.999999Z, the
 * last the views (and the original) can write as a date. */
#define SL_LOG_TIME_MAX_US INT64_C(253402300799999999)

/* Appends events[0..n) as one commit.  Each event gets the next sequence
 * number and a time: its own when it has one (sl_event_set_time(); it must
 * not be earlier than the log's last time, nor before 1970 or after
 * SL_LOG_TIME_MAX_US, the end of the year 9999: SL_EINVAL), else the current
 * time (never earlier than the log's last time).  The sequence number and
 * the time are written back into each event (sl_event_seq(),
 * sl_event_time_us()).  With durability `always` the commit is on disk
 * when this returns.  Safe to call from several threads.  After a failed
 * write or fsync every later append returns SL_EPOISONED until the log is
 * reopened.  out may be NULL. */
SL_API int sl_log_append(sl_log *log, sl_event *const *events, size_t n,
			 struct sl_commit_info *out);

/* Appends wait for the right to write, up to busy_timeout_ms each, while
 * another handle writes (SL_ELOCKED naming the holder when the time runs
 * out: nothing is appended).  To check a commit against the log's latest
 * state first, hold the right across the check and the append: */

struct sl_log_hold {
	uint64_t next_seq;           /* the sequence number the next event gets */
	uint64_t foreign_gen;        /* grows whenever this handle finds commits of
					other handles (or a log changed under it):
					what a caller caches from the log is stale
					when it has grown since */
	uint64_t foreign_end;        /* every commit of another handle found so far
					is below this sequence number */
};

/* Takes the right to write (waiting as an append does) and keeps it until
 * sl_log_release() or sl_log_append_held(): no other handle appends
 * meanwhile, so *out describes the log's end as it is.  Threads of this
 * handle may append meanwhile.  Every sl_log_hold() that succeeds must be
 * ended by exactly one of the two. */
SL_API int sl_log_hold(struct sl_log_hold *out, sl_log *log);

/* Ends an sl_log_hold() without appending. */
SL_API void sl_log_release(sl_log *log);

/* sl_log_append() under the caller's sl_log_hold(), which it ends (also
 * when it fails) as soon as the commit is in the handle's buffer, before it
 * waits for the disk. */
SL_API int sl_log_append_held(sl_log *log, sl_event *const *events, size_t n,
			      struct sl_commit_info *out);

/* Fills *out without a hold: when the log looks changed by another handle
 * since this one last wrote, takes the right (waiting as an append does) to
 * catch up with it. */
SL_API int sl_log_refresh(struct sl_log_hold *out, sl_log *log);

/* Packs every raw commit of the log now: the sealed segments waiting for
 * the background compactor, and the segment being appended to (appends wait
 * meanwhile).  Commits, sequence numbers, times and chain values do not
 * change; only how the bytes are stored.  Appends write each commit raw (a
 * framed write, nothing more); packing carries the compression context
 * across commits, so one-event commits compress like large batches. */
SL_API int sl_log_compact(sl_log *log);

/* Makes every appended commit durable now, whatever the durability. */
SL_API int sl_log_sync(sl_log *log);

/* Writes every appended commit to the file now (so that readers see it),
 * without waiting for the disk. */
SL_API int sl_log_flush(sl_log *log);

/* The sequence number the next event will get (1 for an empty log), as
 * this handle last saw the log (other handles may have appended since:
 * sl_log_refresh()). */
SL_API uint64_t sl_log_next_seq(sl_log *log);

/* The time of the last event, or 0 for an empty log. */
SL_API int64_t sl_log_last_time(sl_log *log);

/* The log's random id (SL_LOG_ID_SIZE bytes), written into every segment. */
SL_API void sl_log_id(uint8_t out[SL_LOG_ID_SIZE], const sl_log *log);

/* The last error of this handle, "" when none.  Borrowed: valid until the
 * next call on the handle. */
SL_API const char *sl_log_errmsg(sl_log *log);

/* Formats a log id as 32 lower-case hex digits plus NUL. */
SL_API void sl_log_id_format(char out[2 * SL_LOG_ID_SIZE + 1], const uint8_t id[SL_LOG_ID_SIZE]);

/* ---- Reading ---------------------------------------------------------- */

struct sl_reader_options {
	uint32_t max_event_size;     /* default 16 MiB */
	uint32_t max_commit_size;    /* default 64 MiB */
	const struct sl_io *io;      /* NULL: the real file system */
};

SL_API void sl_reader_options_init(struct sl_reader_options *opts);

/* One event as stored.  `data` is the event's on-disk encoding (decode it
 * with sl_event_decode(&ev, data, len, seq, time_us)); it is borrowed from the
 * reader and valid until the next call on the reader.
 * A log salvaged by sl_log_repair() may hold gaps: then `lost` is the number
 * of sequence numbers lost from `seq` on, and data is NULL. */
struct sl_record {
	uint64_t seq;
	uint32_t lost;
	int64_t time_us;
	const uint8_t *data;
	size_t len;
	uint64_t commit_first_seq;   /* the commit this event belongs to */
	uint32_t commit_events;
	uint32_t commit_crc;
	uint64_t segment_first_seq;  /* the segment holding the commit */
	uint64_t offset;             /* the commit's byte offset in that segment */
};

/* Opens a reader on the log in `dir`, positioned before the first event.
 * Takes no lock.  On failure, a message is written into err when not NULL. */
SL_API int sl_reader_open(sl_reader **out, const char *dir, const struct sl_reader_options *opts,
			  char *err, size_t errlen);

/* NULL is allowed. */
SL_API void sl_reader_close(sl_reader *r);

/* Positions the reader so that the next event returned is the first with a
 * sequence number >= seq (or, past the end, the next one appended). */
SL_API int sl_reader_seek_seq(sl_reader *r, uint64_t seq);

/* Positions the reader so that the next event returned is the first whose
 * time is >= time_us. */
SL_API int sl_reader_seek_time(sl_reader *r, int64_t time_us);

/* Reads the next event.  Returns 1 with *out filled, 0 at the end of what
 * is committed now (call again later to follow the tail: new commits and new
 * segments are picked up), or a negative SL_* code: SL_ECORRUPT when damage
 * is found, the message naming the segment and the offset. */
SL_API int sl_reader_next(struct sl_record *out, sl_reader *r);

/* The sequence number of the last event committed now (0 when empty),
 * rescanning the tail if the log grew. */
SL_API int sl_reader_last_seq(uint64_t *out, sl_reader *r);

/* The log id, as in every segment header. */
SL_API void sl_reader_log_id(uint8_t out[SL_LOG_ID_SIZE], const sl_reader *r);

SL_API const char *sl_reader_errmsg(sl_reader *r);

/* ---- Checking and repair ----------------------------------------------- */

struct sl_verify_report {
	uint32_t segments;
	uint64_t commits;
	uint64_t events;
	uint64_t first_seq, last_seq;     /* 0, 0 when empty */
	int64_t first_time_us, last_time_us;
	uint64_t raw_bytes;               /* uncompressed payload bytes */
	uint64_t stored_bytes;            /* segment bytes, headers included */
	uint64_t index_bytes;
	uint64_t unknown_events;          /* events of types this build does not know */
	uint32_t stale_indexes;           /* index files missing or out of date */
	bool torn_tail;                   /* the last commit is incomplete (a writer
					     is mid-append, or died: open cuts it);
					     or, with torn_offset 0, the last
					     segment's header was never written (no
					     byte, or only zeros: no event in it; open
					     sets it aside) */
	uint64_t torn_offset;
	bool damaged;                     /* damage found: see the fields below */
	char damage_segment[512];
	uint64_t damage_offset;
	char damage[512];                 /* what is wrong */
};

/* Called now and then with the bytes checked so far and the total. */
typedef void (*sl_progress_fn)(void *ctx, uint64_t done, uint64_t total);

/* Reads the whole log: every header, checksum, chain link, compressed
 * payload and event.  Returns SL_OK when it could read the log (sound or
 * not: see report->damaged), or an error when it could not (no such log,
 * I/O error).  err receives a message on error. */
SL_API int sl_log_verify(const char *dir, const struct sl_reader_options *opts,
			 struct sl_verify_report *report, sl_progress_fn progress, void *ctx,
			 char *err, size_t errlen);

/* What a log holds, at a glance (statelog status): from the segment
 * headers, every record's header and the file sizes, without reading any
 * event (a packed record's payload is skipped): cheap on a log of any size,
 * but not a check of its bytes (sl_log_verify() is). */
struct sl_log_status {
	uint8_t log_id[SL_LOG_ID_SIZE];
	uint32_t segments;
	uint64_t first_seq, last_seq;     /* 0, 0 when the log is empty */
	int64_t first_time_us, last_time_us;
	uint64_t events;                  /* events stored */
	uint64_t lost;                    /* sequence numbers lost to a repair (gaps) */
	uint64_t commits;
	uint64_t event_bytes;             /* the events' bytes, uncompressed */
	uint64_t stored_bytes;            /* the bytes of the records holding them */
	uint64_t segment_bytes;           /* the segment files, headers included */
	uint64_t unpacked_bytes;          /* bytes of commits stored raw (not yet packed) */
	uint64_t unpacked_commits;
	uint64_t index_bytes;             /* the index files */
	uint64_t aside_bytes;             /* torn tails and segments recovery set aside */
	bool writer_holds;                /* a writer holds the right to write now */
	long writer_pid;                  /* the pid LOCK names: the last writer to take
					     the right (0: none recorded) */
	bool writer_alive;                /* that process exists */
	bool stopped;                     /* the walk stopped early: see below */
	bool torn_tail;                   /* ... at the torn end of the last segment (a
					     writer mid-append, or one that died) */
	uint64_t stopped_offset;
	char stopped_why[600];            /* where and why (or the log's ends are wrong) */
};

/* Fills *out for the log in dir.  Damage found on the way is not an error:
 * the walk stops there and says so (out->stopped); SL_ENOTFOUND (no log),
 * SL_ECORRUPT (a segment that is not this log's, or unreadable headers),
 * SL_EIO, SL_ENOMEM, with err set. */
SL_API int sl_log_status(const char *dir, struct sl_log_status *out, char *err, size_t errlen);

struct sl_repair_report {
	bool changed;
	uint64_t commits_kept;
	uint64_t commits_lost;            /* damaged commits that could not be read */
	uint64_t events_lost;
	uint64_t lost_first_seq, lost_last_seq;  /* first damaged range */
	uint32_t gaps;                    /* ranges of lost sequence numbers */
	char aside[512];                  /* directory the damaged segments were moved to */
};

/* Salvages a damaged log: takes the writer lock, keeps every commit that can
 * still be read, records each range of lost sequence numbers as an explicit
 * gap (so that readers know it is missing, rather than the loss being
 * silent), rewrites the log and moves the old segments into a directory
 * beside it.  A sound log is left alone (report->changed false). */
SL_API int sl_log_repair(const char *dir, const struct sl_log_options *opts,
			 struct sl_repair_report *report, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
