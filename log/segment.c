/* segment.c: segment files: naming, listing, buffered reading, reading and
 * checking one commit, recognising torn writes, and decoding a commit's
 * payload into event records.  Shared by the writer's recovery, readers,
 * verify and repair, so that "what is a valid commit" is written once. */
#include "log_internal.h"

#include "crc32c.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

void sl_msg(char *buf, size_t len, const char *fmt, ...)
{
	if (!buf || !len)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

const char *sl_open_strerror(int e)
{
	if (e == ELOOP)
		return "a symbolic link, which the log refuses to follow for writing";
	return strerror(e);
}

char *sl_seg_path(const char *dir, uint64_t first_seq, const char *suffix)
{
	char *p = NULL;
	if (asprintf(&p, "%s/%020" PRIu64 "%s", dir, first_seq, suffix) < 0)
		return NULL;
	return p;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* A segment name is exactly 20 digits and ".seg". */
static bool parse_seg_name(const char *name, uint64_t *seq)
{
	uint64_t v = 0;
	for (int i = 0; i < 20; i++) {
		if (name[i] < '0' || name[i] > '9')
			return false;
		uint64_t d = (uint64_t)(name[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	if (strcmp(name + 20, SL_SEG_SUFFIX) != 0 || v == 0)
		return false;
	*seq = v;
	return true;
}

int sl_list_segments(const char *dir, uint64_t **out, size_t *n, char *err, size_t errlen)
{
	DIR *d = opendir(dir);
	if (!d) {
		int e = errno;
		sl_msg(err, errlen, "%s: %s", dir, strerror(e));
		return e == ENOENT || e == ENOTDIR ? SL_ENOTFOUND : SL_EIO;
	}
	uint64_t *v = NULL;
	size_t cnt = 0, cap = 0;
	int rc = SL_OK;
	struct dirent *de;
	errno = 0;
	while ((de = readdir(d)) != NULL) {
		uint64_t seq;
		if (!parse_seg_name(de->d_name, &seq))
			continue;
		if (cnt == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			uint64_t *nv = realloc(v, ncap * sizeof(*nv));
			if (!nv) {
				rc = SL_ENOMEM;
				goto out;
			}
			v = nv;
			cap = ncap;
		}
		v[cnt++] = seq;
	}
	if (errno) {
		sl_msg(err, errlen, "%s: %s", dir, strerror(errno));
		rc = SL_EIO;
		goto out;
	}
	if (cnt)
		qsort(v, cnt, sizeof(*v), cmp_u64);
	*out = v;
	*n = cnt;
	v = NULL;
out:
	free(v);
	closedir(d);
	return rc;
}

int sl_sync_dir(const struct sl_io *io, const char *dir)
{
	int fd = io->open(io->ctx, dir, O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0)
		return -1;
	int r = io->sync(io->ctx, fd);
	int e = errno;
	io->close(io->ctx, fd);
	errno = e;
	return r;
}

void sl_tail_write(const char *dir, const struct sl_io *io, uint64_t first_seq, bool sync)
{
	char path[4200], tmp[4300], text[32];
	snprintf(path, sizeof(path), "%s/%s", dir, SL_TAIL_NAME);
	snprintf(tmp, sizeof(tmp), "%s/%s.tmp", dir, SL_TAIL_NAME);
	int len = snprintf(text, sizeof(text), "%020" PRIu64 "\n", first_seq);
	int fd = io->open(io->ctx, tmp, O_WRONLY | O_CREAT | O_TRUNC | SL_O_WRITE, 0644);
	if (fd < 0)
		return;
	bool ok = io->pwrite(io->ctx, fd, text, (size_t)len, 0) == len &&
		  (!sync || io->sync(io->ctx, fd) == 0);
	io->close(io->ctx, fd);
	if (!ok || io->rename(io->ctx, tmp, path) != 0) {
		io->unlink(io->ctx, tmp);
		return;
	}
	if (sync)
		(void)sl_sync_dir(io, dir);
}

uint64_t sl_tail_read(const char *dir)
{
	char path[4200], text[32];
	snprintf(path, sizeof(path), "%s/%s", dir, SL_TAIL_NAME);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return 0;
	ssize_t r = pread(fd, text, sizeof(text) - 1, 0);
	close(fd);
	if (r != 21 || text[20] != '\n')
		return 0;  /* none, or not one this build wrote: no check */
	text[20] = '\0';
	return strtoull(text, NULL, 10);
}

int sl_ends_check(const char *dir, const uint64_t *segs, size_t n, uint64_t tail, char *msg,
		  size_t msglen)
{
	if (n && segs[0] != 1) {
		sl_msg(msg, msglen, "%s: the log's first segment is missing: the first there, "
		       "%020" PRIu64 SL_SEG_SUFFIX ", starts at sequence number %" PRIu64
		       " (a log starts at 1; run statelog repair to keep what is left)", dir, segs[0],
		       segs[0]);
		return SL_ECORRUPT;
	}
	if (n && tail > segs[n - 1]) {
		sl_msg(msg, msglen, "%s: the log's last segment is missing: %020" PRIu64 SL_SEG_SUFFIX
		       " (named in %s as the last one rolled to) is not there, and the last there "
		       "starts at %" PRIu64 " (run statelog repair to keep what is left)", dir, tail,
		       SL_TAIL_NAME, segs[n - 1]);
		return SL_ECORRUPT;
	}
	return SL_OK;
}

bool sl_seg_never_completed(const struct sl_io *io, const char *dir, uint64_t first_seq,
			    uint64_t *size)
{
	char *path = sl_seg_path(dir, first_seq, SL_SEG_SUFFIX);
	if (!path)
		return false;
	int fd = io->open(io->ctx, path, O_RDONLY, 0);
	free(path);
	if (fd < 0)
		return false;
	struct stat st;
	uint8_t buf[SL_SEG_HEADER_SIZE];
	bool empty = false;
	if (io->fstat(io->ctx, fd, &st) == 0 && st.st_size >= 0 &&
	    st.st_size <= (off_t)SL_SEG_HEADER_SIZE) {
		size_t n = (size_t)st.st_size;
		ssize_t got = n ? io->pread(io->ctx, fd, buf, n, 0) : 0;
		empty = got == (ssize_t)n;
		for (size_t i = 0; empty && i < n; i++)
			empty = buf[i] == 0;
		*size = n;
	}
	io->close(io->ctx, fd);
	return empty;
}

int sl_segfile_open(struct sl_segfile *s, const struct sl_io *io, const char *dir,
		    uint64_t first_seq, bool *short_header, char *msg, size_t msglen)
{
	memset(s, 0, sizeof(*s));
	s->fd = -1;
	s->first_seq = first_seq;
	*short_header = false;
	int rc = SL_OK;
	s->path = sl_seg_path(dir, first_seq, SL_SEG_SUFFIX);
	if (!s->path)
		return SL_ENOMEM;
	s->fd = io->open(io->ctx, s->path, O_RDONLY, 0);
	if (s->fd < 0) {
		sl_msg(msg, msglen, "%s: %s", s->path, strerror(errno));
		rc = errno == ENOENT ? SL_ENOTFOUND : SL_EIO;
		goto fail;
	}
	rc = sl_segfile_refresh(s, io);
	if (rc) {
		sl_msg(msg, msglen, "%s: %s", s->path, strerror(errno));
		goto fail;
	}
	const uint8_t *p;
	ssize_t got = sl_segfile_read(s, io, 0, SL_SEG_HEADER_SIZE, &p);
	if (got < 0) {
		sl_msg(msg, msglen, "%s: %s", s->path, strerror(errno));
		rc = SL_EIO;
		goto fail;
	}
	if (got < (ssize_t)SL_SEG_HEADER_SIZE) {
		*short_header = true;
		sl_msg(msg, msglen, "%s: offset 0: incomplete segment header (%zd bytes)",
		       s->path, got);
		rc = SL_ECORRUPT;
		goto fail;
	}
	const char *why = NULL;
	rc = sl_seg_header_decode(p, &s->hdr, &why);
	if (rc) {
		sl_msg(msg, msglen, "%s: offset 0: %s", s->path, why);
		goto fail;
	}
	if (s->hdr.first_seq != first_seq) {
		sl_msg(msg, msglen, "%s: offset 0: header says first sequence number %" PRIu64
		       " but the file name says %" PRIu64 " (renamed or swapped segment)",
		       s->path, s->hdr.first_seq, first_seq);
		rc = SL_ECORRUPT;
		goto fail;
	}
	s->scanned_to = SL_SEG_HEADER_SIZE;
	return SL_OK;
fail:
	sl_segfile_close(s, io);
	return rc;
}

void sl_segfile_close(struct sl_segfile *s, const struct sl_io *io)
{
	if (s->fd >= 0)
		io->close(io->ctx, s->fd);
	free(s->path);
	free(s->buf);
	free(s->idx);
	memset(s, 0, sizeof(*s));
	s->fd = -1;
}

int sl_segfile_refresh(struct sl_segfile *s, const struct sl_io *io)
{
	struct stat st;
	if (io->fstat(io->ctx, s->fd, &st) < 0)
		return SL_EIO;
	if ((uint64_t)st.st_size < s->size)
		s->buf_len = 0;  /* truncated under us (recovery): drop the buffer */
	s->size = (uint64_t)st.st_size;
	s->ino = (uint64_t)st.st_ino;
	return SL_OK;
}

#define SL_READ_CHUNK (256u << 10)
#define SL_READ_MIN (4u << 10)

ssize_t sl_segfile_read(struct sl_segfile *s, const struct sl_io *io, uint64_t off, size_t n,
			const uint8_t **p)
{
	if (off >= s->buf_off && off + n <= s->buf_off + s->buf_len) {
		*p = s->buf + (off - s->buf_off);
		return (ssize_t)n;
	}
	/* A chunk, but no more than the file is known to hold (a small segment
	 * gets a small buffer); a file that has grown since is read again. */
	size_t want = SL_READ_CHUNK;
	if (s->size > off && s->size - off < want)
		want = (size_t)(s->size - off) < SL_READ_MIN ? SL_READ_MIN : (size_t)(s->size - off);
	if (want < n)
		want = n;
	if (want > s->buf_cap) {
		uint8_t *nb = realloc(s->buf, want);
		if (!nb) {
			errno = ENOMEM;
			return -1;
		}
		s->buf = nb;
		s->buf_cap = want;
	}
	size_t have = 0;
	while (have < want) {
		ssize_t r = io->pread(io->ctx, s->fd, s->buf + have, want - have, (off_t)(off + have));
		if (r < 0) {
			s->buf_len = 0;
			return -1;
		}
		if (r == 0)
			break;
		have += (size_t)r;
	}
	s->buf_off = off;
	s->buf_len = have;
	*p = s->buf;
	return (ssize_t)(have < n ? have : n);
}

int sl_rec_read(struct sl_segfile *s, const struct sl_io *io, uint64_t off, uint32_t max_raw,
		struct sl_rec_view *out, const char **why)
{
	const uint8_t *p;
	if (off >= s->size) {
		/* The size may be stale: a writer may have appended since. */
		if (sl_segfile_refresh(s, io))
			return SL_EIO;
		if (off >= s->size)
			return off == s->size ? SL_CR_END : SL_CR_INCOMPLETE;
	}
	ssize_t got = sl_segfile_read(s, io, off, SL_REC_HEADER_MAX, &p);
	if (got < 0)
		return SL_EIO;
	int r = sl_rec_header_decode(p, (size_t)got, max_raw, &out->h, why);
	if (r == 0) {
		*why = "incomplete record header";
		return SL_CR_INCOMPLETE;
	}
	if (r < 0)
		return SL_CR_BAD;
	size_t total = out->h.header_len + (size_t)out->h.payload_len;
	got = sl_segfile_read(s, io, off, total, &p);
	if (got < 0)
		return SL_EIO;
	if ((size_t)got < total) {
		/* The file ends inside the payload.  A raw or gap record's crc
		 * covers its header alone: when it does not match, the header is
		 * damaged (its lengths cannot be trusted), not cut short. */
		if (out->h.kind != SL_REC_PACKED &&
		    sl_crc32c(0, p, out->h.header_len - 4) != out->h.crc) {
			*why = "record checksum mismatch";
			return SL_CR_BAD;
		}
		*why = "incomplete record payload";
		return SL_CR_INCOMPLETE;
	}
	if (!sl_rec_crc_ok(p, &out->h)) {
		*why = "record checksum mismatch";
		return SL_CR_BAD;
	}
	out->rec = p;
	out->payload = p + out->h.header_len;
	out->off = off;
	out->next_off = off + total;
	return SL_CR_OK;
}

int sl_region_torn(struct sl_segfile *s, const struct sl_io *io, uint64_t off, uint64_t end,
		   bool *torn)
{
	*torn = false;
	if (end > s->size) {
		*torn = true;  /* the file ends inside the commit */
		end = s->size;
	}
	uint64_t pos = off;
	while (pos < end) {
		uint64_t sector_end = (pos / SL_SECTOR_SIZE + 1) * SL_SECTOR_SIZE;
		uint64_t stop = sector_end < end ? sector_end : end;
		const uint8_t *p;
		ssize_t got = sl_segfile_read(s, io, pos, (size_t)(stop - pos), &p);
		if (got < 0)
			return SL_EIO;
		bool zero = got > 0;
		for (ssize_t i = 0; i < got && zero; i++)
			zero = p[i] == 0;
		if (zero) {
			*torn = true;
			return SL_OK;
		}
		pos = stop;
	}
	return SL_OK;
}

int sl_decoder_init(struct sl_decoder *d)
{
	memset(d, 0, sizeof(*d));
	return SL_OK;
}

/* The zstd context (about 160 KiB) is made on the first packed record: a
 * reader of a log that holds only raw records never needs it. */
static int decoder_dctx(struct sl_decoder *d)
{
	if (d->dctx)
		return SL_OK;
	d->dctx = ZSTD_createDCtx();
	if (!d->dctx)
		return SL_ENOMEM;
	if (ZSTD_isError(ZSTD_DCtx_setParameter(d->dctx, ZSTD_d_windowLogMax, SL_ZSTD_WINDOW_LOG_MAX))) {
		ZSTD_freeDCtx(d->dctx);
		d->dctx = NULL;
		return SL_ENOMEM;
	}
	return SL_OK;
}

void sl_decoder_free(struct sl_decoder *d)
{
	ZSTD_freeDCtx(d->dctx);
	free(d->raw);
	free(d->recs);
	free(d->commits);
	memset(d, 0, sizeof(*d));
}

static int grow_recs(struct sl_decoder *d, size_t need)
{
	if (need <= d->cap_recs)
		return SL_OK;
	size_t cap = d->cap_recs ? d->cap_recs : 64;
	while (cap < need)
		cap *= 2;
	struct sl_rec *n = realloc(d->recs, cap * sizeof(*n));
	if (!n)
		return SL_ENOMEM;
	d->recs = n;
	d->cap_recs = cap;
	return SL_OK;
}

static int add_commit(struct sl_decoder *d, const struct sl_dcommit *c)
{
	if (d->n_commits == d->cap_commits) {
		size_t cap = d->cap_commits ? d->cap_commits * 2 : 16;
		struct sl_dcommit *n = realloc(d->commits, cap * sizeof(*n));
		if (!n)
			return SL_ENOMEM;
		d->commits = n;
		d->cap_commits = cap;
	}
	d->commits[d->n_commits++] = *c;
	return SL_OK;
}

int sl_decoder_events(struct sl_decoder *d, const uint8_t *raw, size_t len, uint64_t first_seq,
		      uint32_t count, int64_t time_first, int64_t time_last, uint32_t commit,
		      uint32_t max_event, const char **why)
{
	if (grow_recs(d, d->n_recs + count))
		return SL_ENOMEM;
	const uint8_t *p = raw, *end = raw + len;
	int64_t t = time_first;
	for (uint32_t i = 0; i < count; i++) {
		uint64_t dt, elen;
		size_t k = sl_get_varint(p, (size_t)(end - p), &dt);
		if (!k || (i == 0 && dt != 0) || dt > (uint64_t)(time_last - t)) {
			*why = "bad event time in commit";
			return SL_ECORRUPT;
		}
		p += k;
		k = sl_get_varint(p, (size_t)(end - p), &elen);
		if (!k || elen > max_event || elen > (uint64_t)(end - p) - k) {
			*why = "bad event length in commit";
			return SL_ECORRUPT;
		}
		p += k;
		t += (int64_t)dt;
		d->recs[d->n_recs++] = (struct sl_rec){ first_seq + i, t, p, (uint32_t)elen, commit };
		p += elen;
	}
	if (t != time_last) {
		*why = "commit's last event time does not match its header";
		return SL_ECORRUPT;
	}
	if (p != end) {
		*why = "commit has bytes after its last event";
		return SL_ECORRUPT;
	}
	return SL_OK;
}

/* Packed payload, per commit: varint count, varint (time_first - previous
 * commit's time_last, or - the record's time_first for the first), varint
 * (time_last - time_first), varint raw length, raw bytes. */
static int decode_packed(struct sl_decoder *d, const struct sl_rec_view *v, uint32_t max_event,
			 const char **why)
{
	const struct sl_rec_header *h = &v->h;
	if (decoder_dctx(d))
		return SL_ENOMEM;
	if (h->raw_len > d->raw_cap) {
		uint8_t *nr = realloc(d->raw, h->raw_len);
		if (!nr)
			return SL_ENOMEM;
		d->raw = nr;
		d->raw_cap = h->raw_len;
	}
	size_t got = ZSTD_decompressDCtx(d->dctx, d->raw, h->raw_len, v->payload, h->payload_len);
	if (ZSTD_isError(got) || got != h->raw_len) {
		*why = "packed payload does not decode to its raw length";
		return SL_ECORRUPT;
	}
	const uint8_t *p = d->raw, *end = d->raw + h->raw_len;
	uint64_t seq = h->first_seq;
	int64_t t = h->time_first;
	uint32_t chain = h->prev_crc;
	for (uint32_t c = 0; c < h->n_commits; c++) {
		uint64_t count, dt, span, len;
		size_t k1 = sl_get_varint(p, (size_t)(end - p), &count);
		size_t k2 = k1 ? sl_get_varint(p + k1, (size_t)(end - p) - k1, &dt) : 0;
		size_t k3 = k2 ? sl_get_varint(p + k1 + k2, (size_t)(end - p) - k1 - k2, &span) : 0;
		size_t k4 = k3 ? sl_get_varint(p + k1 + k2 + k3, (size_t)(end - p) - k1 - k2 - k3, &len) : 0;
		if (!k4 || count == 0 || count > h->n_events || (c == 0 && dt != 0) ||
		    dt > (uint64_t)(h->time_last - t) || span > (uint64_t)(h->time_last - t) - dt) {
			*why = "bad commit in packed record";
			return SL_ECORRUPT;
		}
		p += k1 + k2 + k3 + k4;
		if (len > (uint64_t)(end - p) || seq + count > h->first_seq + h->n_events) {
			*why = "packed commit runs past its record";
			return SL_ECORRUPT;
		}
		struct sl_dcommit dc = { seq, (uint32_t)count, t + (int64_t)dt,
					 t + (int64_t)dt + (int64_t)span, 0, false };
		dc.crc = sl_commit_crc(chain, seq, dc.count, dc.time_first, dc.time_last, p, (size_t)len);
		int rc = sl_decoder_events(d, p, (size_t)len, seq, dc.count, dc.time_first, dc.time_last,
					   (uint32_t)d->n_commits, max_event, why);
		if (rc)
			return rc;
		if ((rc = add_commit(d, &dc)))
			return rc;
		chain = dc.crc;
		seq += count;
		t = dc.time_last;
		p += len;
	}
	if (p != end || seq != h->first_seq + h->n_events || t != h->time_last) {
		*why = "packed record does not add up to its header";
		return SL_ECORRUPT;
	}
	if (chain != h->chain_out) {
		*why = "commit chain broken inside a packed record";
		return SL_ECORRUPT;
	}
	return SL_OK;
}

int sl_decoder_record(struct sl_decoder *d, const struct sl_rec_view *v, uint32_t max_event,
		      const char **why)
{
	const struct sl_rec_header *h = &v->h;
	d->n_recs = 0;
	d->n_commits = 0;
	if (h->kind == SL_REC_PACKED) {
		int rc = decode_packed(d, v, max_event, why);
		if (rc) {
			d->n_recs = 0;
			d->n_commits = 0;
		}
		return rc;
	}
	/* sl_rec_read() checked a raw or gap record's commit crc already. */
	struct sl_dcommit dc = { h->first_seq, h->n_events, h->time_first, h->time_last,
				 h->chain_out, h->kind == SL_REC_GAP };
	if (h->kind == SL_REC_RAW) {
		int rc = sl_decoder_events(d, v->payload, h->raw_len, h->first_seq, h->n_events,
					   h->time_first, h->time_last, 0, max_event, why);
		if (rc) {
			d->n_recs = 0;
			return rc;
		}
	}
	return add_commit(d, &dc);
}
