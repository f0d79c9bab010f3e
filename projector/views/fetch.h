/* fetch.h: reading chosen events of a log by sequence number (views.h
 * offers it to the layers above), for the audit, time travel and the
 * snapshot store.
 *
 * They know which events they want from the statelog_events index of the
 * views (job_id, seq), and ask for them in increasing order.  A seek
 * decompresses the packed record it lands in (log/FORMAT.md: about 2 MiB of
 * raw bytes), so a fetcher seeks only across a long distance: a wanted event
 * within SL_FETCH_NEAR events of the last one read is reached by reading on,
 * within the record already decompressed (or the next one, which a seek
 * would decompress as well).  So every packed record is decompressed at most
 * once per pass, however many of its events are wanted.
 */
#ifndef SL_FETCH_H
#define SL_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log.h"

/* About the events of one packed record of the reference workload (2 MiB of
 * raw bytes, ~470 bytes an event): nearer than this, reading on costs no
 * more decompression than a seek. */
#define SL_FETCH_NEAR 4096

struct sl_fetch {
	sl_reader *r;                   /* borrowed */
	uint64_t next;                  /* seq the reader returns next; 0: unknown */
	uint64_t seeks;                 /* statistics: seeks made, events read */
	uint64_t read;
	char errmsg[768];
};

/* A fetcher on r (borrowed, used only through the fetcher meanwhile). */
void sl_fetch_init(struct sl_fetch *f, sl_reader *r);

/* Decodes the event numbered seq into *out (owned: sl_event_free()), with its
 * seq, time and the crc of its commit (*crc, may be NULL).  seq must be
 * greater than the last one fetched, or the fetcher seeks back.
 * SL_ENOTFOUND when the log does not hold it (past the end, or lost to a
 * repair), SL_ECORRUPT for damage or an event that does not decode; the
 * message is in f->errmsg. */
int sl_fetch_event(sl_event **out, struct sl_fetch *f, uint64_t seq, uint32_t *crc);

/* The commit crc of the event numbered seq (without decoding it). */
int sl_fetch_crc(uint32_t *crc, int64_t *time_us, struct sl_fetch *f, uint64_t seq);

#endif
