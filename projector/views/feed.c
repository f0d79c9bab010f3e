/* feed.c: the events of a log, decoded, read in the caller's thread or in a
 * thread of its own ahead of the projector (feed.h).
 *
 * The threaded feed is a single-producer, single-consumer queue: a ring of
 * items bounded both in count and in encoded bytes (so a run of large
 * events cannot hold much memory), guarded by one mutex.  The consumer takes
 * items out in runs, so the lock is taken about once per run rather than
 * once per event.  The producer stops at the end of the log, at an error,
 * or when asked to; the end (or error) is reported after every item queued
 * before it.
 */
#include "feed.h"
#include "event_internal.h"

#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FEED_RING 2048                  /* items queued at most */
#define FEED_RING_BYTES (16u << 20)     /* encoded bytes queued at most */
#define FEED_RUN 256                    /* items the consumer takes at once */
#define FEED_TRASH (4 * FEED_RUN)       /* events handed back to be freed */
/* Wake-ups are made in runs, not per item: a waiting consumer is woken
 * once a run is queued, a waiting producer once the ring is half empty. */

struct sl_feed {
	sl_reader *r;
	bool threaded;
	int end_rc;                     /* 0 or an error, once the producer ended */
	bool ended;                     /* (consumer side) end_rc is final */
	char errmsg[512];

	/* threaded only */
	pthread_t thread;
	bool thread_started;
	pthread_mutex_t mu;
	pthread_cond_t can_put, can_take;
	struct sl_feed_item *ring;
	size_t head, count;             /* guarded by mu */
	size_t bytes;                   /* guarded by mu */
	bool producer_done, stop;       /* guarded by mu */
	bool consumer_waiting, producer_waiting;
	struct sl_feed_item run[FEED_RUN];      /* consumer's items taken out */
	size_t run_i, run_n;
	/* Events are freed by the thread that allocated them: glibc's malloc
	 * makes a free from another thread contend for the allocating
	 * thread's arena lock.  The consumer gathers released events in
	 * `mine` and hands them over in `trash` (guarded by mu) when it takes
	 * a run. */
	struct evblock *mine[FEED_RUN];
	size_t n_mine;
	struct evblock *trash[FEED_TRASH];
	size_t n_trash;                 /* guarded by mu */
	struct sl_time_cache times;     /* the reading thread's */
};

/* ---- decoding into one block ------------------------------------------- */

/* sl_event_decode() gives every field of an event an allocation of its own
 * (ten or more mallocs, and as many frees); a feed decodes each event into
 * one block through protobuf-c's allocator hook instead, so that an event
 * costs one malloc and one free.  The block is sized for the message
 * structures and the strings, which cannot outgrow the encoding; what does
 * not fit (protobuf-c's scratch space for messages of many fields, long
 * repeated fields) is allocated apart and chained to the block. */
struct evspill {
	struct evspill *next;
	max_align_t data[];
};

struct evblock {
	struct evspill *spill;
	bool no_memory;                 /* a spill failed: unpack()'s NULL is not damage */
	size_t cap, used;
	max_align_t data[];
};

#define EVBLOCK_ALIGN (sizeof(max_align_t))
#define EVBLOCK_SLACK 1024      /* message structures and NULs, beyond the encoding */

static void *evblock_alloc(void *ctx, size_t n)
{
	struct evblock *b = ctx;
	n = (n + EVBLOCK_ALIGN - 1) / EVBLOCK_ALIGN * EVBLOCK_ALIGN;
	if (n <= b->cap - b->used) {
		void *p = (char *)b->data + b->used;
		b->used += n;
		return p;
	}
	struct evspill *s = malloc(sizeof *s + n);
	if (!s) {
		b->no_memory = true;
		return NULL;
	}
	s->next = b->spill;
	b->spill = s;
	return s->data;
}

static void evblock_nofree(void *ctx, void *p)
{
	(void)ctx;              /* freed with the block */
	(void)p;
}

static void evblock_free(struct evblock *b)
{
	if (!b)
		return;
	while (b->spill) {
		struct evspill *s = b->spill;
		b->spill = s->next;
		free(s);
	}
	free(b);
}

/* As sl_event_decode(), into a block of its own (it->block). */
static int decode_item(struct sl_feed_item *it, const uint8_t *data, size_t len)
{
	size_t cap = sizeof(sl_event) + EVBLOCK_SLACK + len;
	struct evblock *b = malloc(sizeof *b + cap);
	if (!b)
		return SL_ENOMEM;
	*b = (struct evblock){ .cap = cap };
	ProtobufCAllocator a = {
		.alloc = evblock_alloc, .free = evblock_nofree, .allocator_data = b,
	};
	sl_event *ev = statelog__event__unpack(&a, len, data);
	if (!ev) {
		/* As sl_event_decode() reports it. */
		int rc = b->no_memory ? SL_ENOMEM : SL_ECORRUPT;
		evblock_free(b);
		return rc;
	}
	ev->has_seq = 1;
	ev->seq = it->seq;
	ev->has_time_us = 1;
	ev->time_us = it->time_us;
	it->ev = ev;
	it->block = b;
	return SL_OK;
}

void sl_feed_release(struct sl_feed *f, struct sl_feed_item *it)
{
	if (it->block && f->threaded && f->n_mine < FEED_RUN)
		f->mine[f->n_mine++] = it->block;
	else
		evblock_free(it->block);
	it->block = NULL;
	it->ev = NULL;
}

/* Frees events handed over by the consumer (producer side, outside mu). */
static void free_events(struct evblock **b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		evblock_free(b[i]);
}

/* ---- times --------------------------------------------------------------- */

int sl_feed_format_time(struct sl_time_cache *tc, int64_t us, char *out)
{
	if (us < SL_TIME_MIN_US || us > SL_TIME_MAX_US)
		return SL_EINVAL;
	int64_t minute = us / 60000000 - (us % 60000000 < 0);
	if (!tc->valid || minute != tc->minute) {
		char buf[SL_TIME_BUFSZ];
		int rc = sl_time_format(minute * 60000000, buf, sizeof buf);
		if (rc != SL_OK)
			return rc;
		memcpy(tc->prefix, buf, sizeof tc->prefix);
		tc->minute = minute;
		tc->valid = true;
	}
	int64_t rem = us - minute * 60000000;   /* 0 .. 59,999,999 */
	int sec = (int)(rem / 1000000), frac = (int)(rem % 1000000);
	char *p = out;
	memcpy(p, tc->prefix, sizeof tc->prefix);
	p += sizeof tc->prefix;
	*p++ = (char)('0' + sec / 10);
	*p++ = (char)('0' + sec % 10);
	if (frac) {
		*p++ = '.';
		for (int d = 100000; d > 0; d /= 10)
			*p++ = (char)('0' + frac / d % 10);
	}
	memcpy(p, "+00:00", 7);
	return SL_OK;
}

/* ---- reading ------------------------------------------------------------- */

/* Reads, decodes and formats one item.  1, 0 at the end, or an error with
 * msg set. */
static int read_item(sl_reader *r, struct sl_time_cache *tc, struct sl_feed_item *it, char *msg,
		     size_t msglen)
{
	struct sl_record rec;
	int rc = sl_reader_next(&rec, r);
	if (rc <= 0) {
		if (rc < 0)
			snprintf(msg, msglen, "%s", sl_reader_errmsg(r));
		return rc;
	}
	*it = (struct sl_feed_item){
		.seq = rec.seq, .lost = rec.lost, .time_us = rec.time_us, .len = rec.len,
		.commit_crc = rec.commit_crc, .commit_first_seq = rec.commit_first_seq,
	};
	uint64_t last = rec.lost ? rec.seq + rec.lost - 1 : rec.seq;
	it->commit_end = last == rec.commit_first_seq + rec.commit_events - 1;
	if (sl_feed_format_time(tc, rec.time_us, it->time) != SL_OK) {
		snprintf(msg, msglen, "seq %llu: time %lld is outside the years 0001-9999",
			 (unsigned long long)rec.seq, (long long)rec.time_us);
		return SL_EINVAL;
	}
	if (rec.lost)
		return 1;
	rc = decode_item(it, rec.data, rec.len);
	if (rc == SL_ENOMEM) {
		snprintf(msg, msglen, "seq %llu: decoding the event: out of memory",
			 (unsigned long long)rec.seq);
		return rc;
	}
	if (rc != SL_OK) {
		snprintf(msg, msglen, "seq %llu (segment %llu, offset %llu): the event does not "
			 "decode", (unsigned long long)rec.seq,
			 (unsigned long long)rec.segment_first_seq, (unsigned long long)rec.offset);
		return rc;
	}
	if (it->ev->body_case == STATELOG__EVENT__BODY_EXECUTION_RECORDED) {
		const Statelog__ExecutionRecorded *x = it->ev->execution_recorded;
		it->prompt_len = x->prompt ? strlen(x->prompt) : 0;
		it->output_len = x->output ? strlen(x->output) : 0;
	}
	return 1;
}

/* ---- the producer thread ----------------------------------------------- */

static void *producer(void *arg)
{
	struct sl_feed *f = arg;
	char msg[sizeof f->errmsg] = "";
	struct evblock *trash[FEED_TRASH];
	size_t n_trash = 0;
	int rc;
	for (;;) {
		struct sl_feed_item it;
		free_events(trash, n_trash);
		n_trash = 0;
		rc = read_item(f->r, &f->times, &it, msg, sizeof msg);
		if (rc <= 0)
			break;
		pthread_mutex_lock(&f->mu);
		while (!f->stop && f->count > 0 &&
		       (f->count == FEED_RING || f->bytes + it.len > FEED_RING_BYTES)) {
			f->producer_waiting = true;
			pthread_cond_wait(&f->can_put, &f->mu);
			f->producer_waiting = false;
		}
		if (f->stop) {
			pthread_mutex_unlock(&f->mu);
			evblock_free(it.block);
			rc = 0;
			break;
		}
		f->ring[(f->head + f->count) % FEED_RING] = it;
		f->count++;
		f->bytes += it.len;
		if (f->consumer_waiting && (f->count >= FEED_RUN || f->bytes >= FEED_RING_BYTES / 2))
			pthread_cond_signal(&f->can_take);
		if (f->n_trash) {
			n_trash = f->n_trash;
			memcpy(trash, f->trash, n_trash * sizeof trash[0]);
			f->n_trash = 0;
		}
		pthread_mutex_unlock(&f->mu);
	}
	free_events(trash, n_trash);
	pthread_mutex_lock(&f->mu);
	f->producer_done = true;
	f->end_rc = rc;
	if (rc < 0)
		memcpy(f->errmsg, msg, sizeof f->errmsg);
	pthread_cond_signal(&f->can_take);
	pthread_mutex_unlock(&f->mu);
	return NULL;
}

/* Moves a run of queued items to the consumer's side; waits for one. */
static void take_run(struct sl_feed *f)
{
	pthread_mutex_lock(&f->mu);
	size_t k = f->n_mine < FEED_TRASH - f->n_trash ? f->n_mine : FEED_TRASH - f->n_trash;
	memcpy(f->trash + f->n_trash, f->mine, k * sizeof f->mine[0]);
	f->n_trash += k;
	f->n_mine -= k;         /* what did not fit is freed here, below */
	while (f->count == 0 && !f->producer_done) {
		f->consumer_waiting = true;
		pthread_cond_wait(&f->can_take, &f->mu);
		f->consumer_waiting = false;
	}
	size_t n = f->count < FEED_RUN ? f->count : FEED_RUN;
	for (size_t i = 0; i < n; i++) {
		f->run[i] = f->ring[f->head];
		f->bytes -= f->run[i].len;
		f->head = (f->head + 1) % FEED_RING;
	}
	f->count -= n;
	f->run_i = 0;
	f->run_n = n;
	if (n == 0)
		f->ended = true;        /* producer done and nothing left */
	if (f->producer_waiting && f->count <= FEED_RING / 2 && f->bytes <= FEED_RING_BYTES / 2)
		pthread_cond_signal(&f->can_put);
	pthread_mutex_unlock(&f->mu);
	free_events(f->mine + k, f->n_mine);
	f->n_mine = 0;
}

/* ---- the API ----------------------------------------------------------- */

int sl_feed_start(struct sl_feed **out, sl_reader *r, uint64_t from_seq, bool threaded,
		  char *err, size_t errlen)
{
	struct sl_feed *f = calloc(1, sizeof *f);
	int rc = SL_ENOMEM;
	if (!f) {
		snprintf(err, errlen, "out of memory");
		return rc;
	}
	f->r = r;
	rc = sl_reader_seek_seq(r, from_seq);
	if (rc != SL_OK) {
		snprintf(err, errlen, "%s", sl_reader_errmsg(r));
		free(f);
		return rc;
	}
	if (threaded) {
		f->ring = calloc(FEED_RING, sizeof f->ring[0]);
		if (!f->ring) {
			snprintf(err, errlen, "out of memory");
			free(f);
			return SL_ENOMEM;
		}
		pthread_mutex_init(&f->mu, NULL);
		pthread_cond_init(&f->can_put, NULL);
		pthread_cond_init(&f->can_take, NULL);
		f->threaded = true;
		int e = pthread_create(&f->thread, NULL, producer, f);
		if (e != 0) {
			snprintf(err, errlen, "starting the log reader thread: %s", strerror(e));
			sl_feed_stop(f);
			return SL_EIO;
		}
		f->thread_started = true;
		pthread_setname_np(f->thread, "sl-feed");
	}
	*out = f;
	return SL_OK;
}

int sl_feed_next(struct sl_feed *f, struct sl_feed_item *out)
{
	if (!f->threaded) {
		if (f->ended)
			return f->end_rc;
		int rc = read_item(f->r, &f->times, out, f->errmsg, sizeof f->errmsg);
		if (rc <= 0) {
			f->ended = true;
			f->end_rc = rc;
		}
		return rc;
	}
	if (f->run_i == f->run_n) {
		if (f->ended)
			return f->end_rc;
		take_run(f);
		if (f->ended)
			return f->end_rc;       /* set under the lock with producer_done */
	}
	*out = f->run[f->run_i++];
	return 1;
}

const char *sl_feed_errmsg(const struct sl_feed *f)
{
	return f->errmsg;
}

void sl_feed_stop(struct sl_feed *f)
{
	if (!f)
		return;
	if (f->threaded) {
		if (f->thread_started) {
			pthread_mutex_lock(&f->mu);
			f->stop = true;
			pthread_cond_signal(&f->can_put);
			pthread_mutex_unlock(&f->mu);
			pthread_join(f->thread, NULL);
		}
		for (size_t i = 0; i < f->count; i++)
			evblock_free(f->ring[(f->head + i) % FEED_RING].block);
		for (size_t i = f->run_i; i < f->run_n; i++)
			evblock_free(f->run[i].block);
		free_events(f->mine, f->n_mine);
		free_events(f->trash, f->n_trash);
		pthread_cond_destroy(&f->can_take);
		pthread_cond_destroy(&f->can_put);
		pthread_mutex_destroy(&f->mu);
		free(f->ring);
	}
	free(f);
}
