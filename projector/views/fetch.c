/* fetch.c: chosen events of a log by sequence number, reading on rather than
 * seeking when they are near each other (fetch.h). */
#include "fetch.h"

#include <stdio.h>

void sl_fetch_init(struct sl_fetch *f, sl_reader *r)
{
	*f = (struct sl_fetch){ .r = r };
}

/* Positions the reader on seq and returns its record (borrowed). */
static int fetch_record(struct sl_fetch *f, uint64_t seq, struct sl_record *rec)
{
	int rc;
	if (f->next == 0 || seq < f->next || seq - f->next > SL_FETCH_NEAR) {
		if ((rc = sl_reader_seek_seq(f->r, seq)) != SL_OK) {
			snprintf(f->errmsg, sizeof f->errmsg, "%s", sl_reader_errmsg(f->r));
			return rc;
		}
		f->seeks++;
	}
	for (;;) {
		rc = sl_reader_next(rec, f->r);
		if (rc < 0) {
			snprintf(f->errmsg, sizeof f->errmsg, "%s", sl_reader_errmsg(f->r));
			f->next = 0;
			return rc;
		}
		if (rc == 0 || (rec->seq > seq) || (rec->lost && rec->seq + rec->lost > seq)) {
			snprintf(f->errmsg, sizeof f->errmsg, "seq %llu: not in the log%s",
				 (unsigned long long)seq, rc == 0 ? " (past its end)" : " (lost)");
			f->next = 0;
			return SL_ENOTFOUND;
		}
		f->read++;
		f->next = rec->lost ? rec->seq + rec->lost : rec->seq + 1;
		if (rec->seq == seq)
			return SL_OK;
	}
}

int sl_fetch_event(sl_event **out, struct sl_fetch *f, uint64_t seq, uint32_t *crc)
{
	struct sl_record rec;
	int rc = fetch_record(f, seq, &rec);
	if (rc != SL_OK)
		return rc;
	rc = sl_event_decode(out, rec.data, rec.len, rec.seq, rec.time_us);
	if (rc == SL_ECORRUPT)
		snprintf(f->errmsg, sizeof f->errmsg, "seq %llu: the event does not decode",
			 (unsigned long long)seq);
	else if (rc == SL_ENOMEM)
		snprintf(f->errmsg, sizeof f->errmsg, "seq %llu: decoding the event: out of memory",
			 (unsigned long long)seq);
	if (rc == SL_OK && crc)
		*crc = rec.commit_crc;
	return rc;
}

int sl_fetch_crc(uint32_t *crc, int64_t *time_us, struct sl_fetch *f, uint64_t seq)
{
	struct sl_record rec;
	int rc = fetch_record(f, seq, &rec);
	if (rc == SL_OK) {
		*crc = rec.commit_crc;
		if (time_us)
			*time_us = rec.time_us;
	}
	return rc;
}
