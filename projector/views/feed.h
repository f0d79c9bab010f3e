/* feed.h: the events of a log, decoded, for the projector (internal to
 * projector/).
 *
 * A feed reads a log from a sequence number on, decodes each event and
 * formats its time.  Reading and decompressing the log costs about as much
 * as writing the views, so a long catch-up (a rebuild) runs the feed in a
 * thread of its own, a bounded queue ahead of the projector; a short one
 * reads in the caller's thread.  Either way the caller sees the same items
 * in the same order.  The feed owns the reader it is given until
 * sl_feed_stop().
 */
#ifndef SL_FEED_H
#define SL_FEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log.h"
#include "timefmt.h"

/* One event (or gap) of the log. */
struct sl_feed_item {
	uint64_t seq;
	uint32_t lost;                  /* > 0: sequence numbers lost from seq on; ev NULL */
	int64_t time_us;
	char time[SL_TIME_BUFSZ];       /* time_us as the views store it */
	size_t len;                     /* the event's encoded size */
	bool commit_end;                /* the last event of its commit */
	uint32_t commit_crc;
	uint64_t commit_first_seq;
	size_t prompt_len, output_len;  /* execution_recorded: strlen()s, measured
					   here, off the projector's thread */
	sl_event *ev;                   /* borrowed from `block`, freed with it by
					   sl_feed_release(); never sl_event_free() */
	struct evblock *block;
};

struct sl_feed;

/* Frees the item's event (in the thread that decoded it, eventually). */
void sl_feed_release(struct sl_feed *f, struct sl_feed_item *it);

/* Times formatted as sl_time_format() does, faster: the date, hour and
 * minute are formatted once per minute and reused.  Zero-initialize. */
struct sl_time_cache {
	bool valid;
	int64_t minute;                 /* us / 60 s, rounded down */
	char prefix[17];                /* "YYYY-MM-DDTHH:MM:" */
};

/* Writes `us` into out (SL_TIME_BUFSZ bytes) exactly as sl_time_format().
 * SL_EINVAL outside SL_TIME_MIN_US..SL_TIME_MAX_US. */
int sl_feed_format_time(struct sl_time_cache *tc, int64_t us, char *out);

/* Starts a feed on r (borrowed until sl_feed_stop()) at the first event
 * with a sequence number >= from_seq, in a thread of its own when
 * `threaded`.  SL_ENOMEM, SL_EIO (no thread), or the reader's error, with
 * the message in err. */
int sl_feed_start(struct sl_feed **out, sl_reader *r, uint64_t from_seq, bool threaded,
		  char *err, size_t errlen);

/* The next item: 1 with *out filled (release it), 0 at the end of what the
 * log held when it was reached, or a negative SL_* code (SL_ECORRUPT for
 * damage or an event that does not decode, SL_EINVAL for a time that
 * cannot be written) with the message in sl_feed_errmsg().  After 0 or an
 * error, every later call returns the same. */
int sl_feed_next(struct sl_feed *f, struct sl_feed_item *out);

const char *sl_feed_errmsg(const struct sl_feed *f);

/* Stops the thread, releases what is queued and frees the feed.  The
 * reader's position is then unspecified.  NULL is allowed. */
void sl_feed_stop(struct sl_feed *f);

#endif
