/* log_internal.h: what the log's own files share (segment files, commit
 * scanning, decoding, indexes, error messages).  Not part of the API. */
#ifndef SL_LOG_INTERNAL_H
#define SL_LOG_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include <fcntl.h>

#include <zstd.h>

#include "format.h"
#include "io.h"
#include "log.h"

#define SL_DEFAULT_MAX_EVENT (16u << 20)
#define SL_DEFAULT_MAX_COMMIT (64u << 20)

/* ---- error messages ---- */
/* Formats into buf (a handle's last error); never fails. */
void sl_msg(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ---- opening files ---- */
/* Flags added to every open() of a file the log creates or writes (LOCK,
 * segments, indexes, temporary and set-aside files).  A symbolic link put
 * in the directory under one of those names must not make the log truncate
 * or write its target: the open fails with ELOOP instead.  Directories are
 * not opened with it (a log directory may well be a link). */
#define SL_O_WRITE (O_NOFOLLOW | O_CLOEXEC)

/* strerror() for a failed open: ELOOP, which O_NOFOLLOW gives for a link,
 * is said plainly ("Too many levels of symbolic links" does not tell a user
 * that the file is a link the log refuses to follow). */
const char *sl_open_strerror(int e);

/* ---- paths ---- */
/* dir/NNNNNNNNNNNNNNNNNNNN<suffix>, malloc'd; NULL on ENOMEM. */
char *sl_seg_path(const char *dir, uint64_t first_seq, const char *suffix);

/* The first sequence numbers of the segment files in dir, sorted.
 * Names that only resemble segments (a .seg with a bad name) are ignored
 * with their count in *strays.  Returns SL_OK, SL_ENOTFOUND (no such
 * directory), SL_EIO, SL_ENOMEM. */
int sl_list_segments(const char *dir, uint64_t **out, size_t *n, char *err, size_t errlen);

/* dir/TAIL (log/FORMAT.md, "The directory"): the first sequence number of
 * the log's last segment as of its last roll, written by the writer that
 * rolled.  sl_tail_write() replaces it atomically (temporary file, rename,
 * the directory synced when `sync`); a failure costs only the check.
 * sl_ends_check() says SL_ECORRUPT, msg naming what is missing, when the
 * segments listed (sorted) cannot be the whole log: the first does not
 * start at sequence number 1 (the first segment(s) deleted), or TAIL names
 * a segment after the last one listed (the last segment(s) deleted).  Read
 * TAIL before listing: a roll writes it after creating the segment. */
void sl_tail_write(const char *dir, const struct sl_io *io, uint64_t first_seq, bool sync);
uint64_t sl_tail_read(const char *dir);
int sl_ends_check(const char *dir, const uint64_t *segs, size_t n, uint64_t tail, char *msg,
		  size_t msglen);

/* Fsyncs a directory through the seam. */
int sl_sync_dir(const struct sl_io *io, const char *dir);

/* ---- an open segment file, read through a buffer ---- */
struct sl_segfile {
	char *path;
	uint64_t first_seq;            /* from the file name */
	struct sl_seg_header hdr;
	int fd;
	uint64_t size;                 /* as last seen */
	uint64_t ino;                  /* the file's inode (ties its index to it) */
	uint8_t *buf;                  /* read buffer over [buf_off, buf_off + buf_len) */
	size_t buf_cap;
	uint64_t buf_off;
	size_t buf_len;
	/* reading points known for this segment, in order (from the index file
	 * or found by scanning), and whether the segment is known sealed */
	struct sl_idx_entry *idx;
	size_t n_idx, cap_idx;
	bool sealed;
	struct sl_idx_entry seal;
	uint64_t scanned_to;           /* offsets below this are covered by idx */
};

/* Whether dir's segment `first_seq` is one whose header was never written:
 * no longer than a header, and every byte of it zero (or none).  Creating a
 * segment writes its header to a temporary file and renames it into place;
 * under durability `none` nothing is synced, and a crash can leave the name
 * with no data, so such a file can hold no event.  A file holding part of a
 * header (a byte that is not zero) is a segment cut short: damage, since
 * commits may have followed.  *size gets the file's size.  false on any
 * error (the caller's own checks then report it). */
bool sl_seg_never_completed(const struct sl_io *io, const char *dir, uint64_t first_seq,
			    uint64_t *size);

/* Opens dir's segment `first_seq` for reading and checks its header.
 * SL_ECORRUPT / SL_EVERSION with msg naming the file; SL_EIO. A file too
 * short to hold a header is SL_ECORRUPT with *short_header set. */
int sl_segfile_open(struct sl_segfile *s, const struct sl_io *io, const char *dir,
		    uint64_t first_seq, bool *short_header, char *msg, size_t msglen);
void sl_segfile_close(struct sl_segfile *s, const struct sl_io *io);
/* Re-reads the file size (a writer may have appended). */
int sl_segfile_refresh(struct sl_segfile *s, const struct sl_io *io);
/* Makes [off, off + n) available at *p; returns the bytes available there
 * (fewer than n at the end of the file) or -1 (errno set). */
ssize_t sl_segfile_read(struct sl_segfile *s, const struct sl_io *io, uint64_t off, size_t n,
			const uint8_t **p);

/* ---- records ---- */
enum sl_commit_status {
	SL_CR_OK = 0,
	SL_CR_END,          /* off is exactly the end of the file */
	SL_CR_INCOMPLETE,   /* the file ends inside the record */
	SL_CR_BAD,          /* a whole record that fails validation */
};

struct sl_rec_view {
	struct sl_rec_header h;
	const uint8_t *rec;            /* the header's first byte; borrowed */
	const uint8_t *payload;        /* borrowed from the segment's buffer */
	uint64_t off, next_off;
};

/* Index entries are written for a record when none is closer than this. */
#define SL_IDX_SPACING (256u << 10)

/* Reads and checks (magic, lengths, record crc) the record at `off`.
 * Returns an enum sl_commit_status, or SL_EIO (errno set). */
int sl_rec_read(struct sl_segfile *s, const struct sl_io *io, uint64_t off, uint32_t max_raw,
		struct sl_rec_view *out, const char **why);

/* Whether the bytes [off, min(end, size)) look torn by a crash: the file ends
 * inside the record, or a whole 512-byte sector (or its part inside the
 * range) holds nothing but zeros.  See FORMAT.md, "Recovery". */
int sl_region_torn(struct sl_segfile *s, const struct sl_io *io, uint64_t off, uint64_t end,
		   bool *torn);

/* ---- decoding a record into commits and events ---- */
struct sl_rec {
	uint64_t seq;
	int64_t time_us;
	const uint8_t *data;
	uint32_t len;
	uint32_t commit;               /* index into sl_decoder.commits */
};

struct sl_dcommit {
	uint64_t first_seq;
	uint32_t count;
	int64_t time_first, time_last;
	uint32_t crc;
	bool gap;
};

struct sl_decoder {
	ZSTD_DCtx *dctx;
	uint8_t *raw;
	size_t raw_cap;
	struct sl_rec *recs;
	size_t cap_recs, n_recs;
	struct sl_dcommit *commits;
	size_t cap_commits, n_commits;
};

int sl_decoder_init(struct sl_decoder *d);
void sl_decoder_free(struct sl_decoder *d);
/* Decodes a checked record into d->commits and d->recs, recomputing every
 * commit's crc from the record's prev_crc; the last must equal chain_out.
 * Returns SL_OK, SL_ECORRUPT with *why set, SL_ENOMEM. */
int sl_decoder_record(struct sl_decoder *d, const struct sl_rec_view *v, uint32_t max_event,
		      const char **why);
/* Splits one commit's raw payload (records) into d->recs.  Exposed for the
 * writer's compaction. */
int sl_decoder_events(struct sl_decoder *d, const uint8_t *raw, size_t len, uint64_t first_seq,
		      uint32_t count, int64_t time_first, int64_t time_last, uint32_t commit,
		      uint32_t max_event, const char **why);

/* ---- indexes ---- */
/* Loads s's index file, keeping the longest valid prefix of entries that is
 * consistent with the segment (offsets increasing and inside the file).
 * A missing or unreadable index is not an error: it leaves no entries. */
int sl_index_load(struct sl_segfile *s, const struct sl_io *io, const char *dir,
		  const uint8_t log_id[SL_LOG_ID_SIZE]);
/* Whether a reading point belongs at `off` (the spacing rule shared by the
 * writer and scans, so that a rebuilt index equals the written one). */
bool sl_index_wants_point(const struct sl_segfile *s, uint64_t off);
/* Adds a reading point found by scanning (or written by the writer). */
int sl_index_add(struct sl_segfile *s, const struct sl_idx_entry *e);
/* Writes s's entries (and the seal when s->sealed) to its index file,
 * atomically (temporary file and rename). */
int sl_index_write(const struct sl_segfile *s, const struct sl_io *io, const char *dir,
		   char *msg, size_t msglen);
/* Index of the last restart point at or before seq (by time when by_time),
 * or -1 when none. */
ssize_t sl_index_find(const struct sl_segfile *s, uint64_t seq, int64_t time_us, bool by_time);

#endif

/* ---- writer internals for repair (writer.c) ---- */
/* Takes dir's writer lock; *out is the lock's fd (close it to release). */
int sl_lock_take(const char *dir, const struct sl_io *io, int *out, char *msg, size_t msglen);
/* Appends a gap commit: `count` sequence numbers recorded as lost. */
int sl_log_append_gap(sl_log *log, uint64_t count);
/* sl_log_open() that gives a log it creates the id `id` (repair keeps the
 * id of the log it rewrites). */
int sl_log_open_as(sl_log **out, const char *dir, const struct sl_log_options *opts,
		   const uint8_t id[SL_LOG_ID_SIZE], char *msg, size_t msglen);

/* ---- compaction (compact.c) ---- */
/* Rewrites segment `first_seq` of dir with its raw records packed into
 * zstd-compressed records of about pack_size raw bytes (commits, sequence
 * numbers, times and chain values unchanged), through a temporary file that
 * is synced and renamed over the segment; then writes its index (sealed when
 * `seal`).  Every record is decoded and checked on the way.  Stops early,
 * leaving the segment as it was, when *stop becomes true.  *out_size gets
 * the new size. */
int sl_compact_segment(const char *dir, const struct sl_io *io, uint64_t first_seq, int level,
		       uint32_t pack_size, uint32_t max_commit, bool sync, bool seal,
		       const volatile bool *stop, uint64_t *out_size, char *msg, size_t msglen);

/* ---- recovery (recover.c) ---- */
/* Where the log ends, as found by sl_recover(). */
struct sl_tail {
	struct sl_segfile seg;         /* the last segment, its reading points in seg.idx */
	uint8_t log_id[SL_LOG_ID_SIZE];
	uint64_t end_off;              /* end of the last valid commit */
	uint64_t next_seq;
	int64_t last_time;
	uint32_t chain;                /* crc of the last commit (or the segment's prev_crc) */
	uint64_t records_in_seg;       /* records in the last segment */
	uint64_t *unpacked;            /* sealed segments still holding raw records */
	size_t n_unpacked;
};

/* Checks the log in dir (which must have at least one segment: SL_ENOTFOUND
 * otherwise) and finds its end, for a writer that holds the lock: every
 * segment header, the chain between segments, every commit of every segment
 * whose index is missing or stale (rebuilding that index), and every commit
 * of the last segment from its last restart point on.  A torn tail of the
 * last segment is cut (kept aside in a file beside it) and reported; damage
 * elsewhere is SL_ECORRUPT with msg naming the segment and the offset. */
int sl_recover(const char *dir, const struct sl_io *io, uint32_t max_commit, bool sync,
	       struct sl_tail *out, struct sl_recovery_report *rep, char *msg, size_t msglen);

/* Scans the records of an open segment from `off` (with the expected first
 * sequence number, chain value and lower time bound), adding reading points
 * to s->idx.  Stops at the end of the file or at the first record that is
 * incomplete or fails validation: stop_status says which
 * (enum sl_commit_status), stop_why why, and the other fields describe the
 * last valid record.  Every record is checked whole: raw and gap records
 * through their commit crc, packed ones by decoding them.
 * Returns SL_OK or SL_EIO/SL_ENOMEM. */
struct sl_scan {
	uint64_t off;                  /* in: where to start; out: where it stopped */
	uint64_t next_seq;
	uint32_t chain;
	int64_t last_time;
	uint64_t records;
	bool has_raw;                  /* a raw record was seen */
	int stop_status;
	const char *stop_why;
	struct sl_rec_header bad;      /* the header at the stop, when it decoded */
	bool bad_header_ok;
};
int sl_scan_segment(struct sl_segfile *s, const struct sl_io *io, uint32_t max_commit,
		    struct sl_scan *sc);
