/* cmd_bench.c: `statelog bench`, the log's figures on the reference
 * workload, each beside a baseline measured in the same run, medians of
 * several runs.  Other parts of the system add their own benchmarks
 * (bench.h) and are dispatched from here. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "bench.h"
#include "cli.h"
#include "crc32c.h"
#include "event_internal.h"
#include "log.h"
#include "views.h"
#include "workload.h"

int bench_events(uint64_t n, uint64_t seed, bool times, struct bench_events *out)
{
	struct sl_workload_options wo;
	sl_workload_options_init(&wo);
	wo.seed = seed;
	wo.events = n;
	sl_workload *w;
	int rc = sl_workload_new(&w, &wo);
	if (rc)
		return rc;
	out->ev = calloc(n ? n : 1, sizeof(*out->ev));
	out->n = 0;
	out->encoded_bytes = 0;
	if (!out->ev) {
		sl_workload_free(w);
		return SL_ENOMEM;
	}
	uint8_t *buf = NULL;
	size_t cap = 0;
	sl_event *ev;
	while (out->n < n && (rc = sl_workload_next(w, &ev)) == 1) {
		/* Copy: the generator owns its event until the next call. */
		size_t len = sl_event_encoded_size(ev);
		if (len > cap) {
			cap = len * 2;
			uint8_t *nb = realloc(buf, cap);
			if (!nb) {
				rc = SL_ENOMEM;
				break;
			}
			buf = nb;
		}
		sl_event_encode(ev, buf);
		sl_event *copy;
		if ((rc = sl_event_decode(&copy, buf, len, 0, 0)))
			break;
		copy->has_seq = 0;
		copy->has_time_us = times;
		copy->time_us = times ? sl_workload_time_us(w) : 0;
		out->ev[out->n++] = copy;
		out->encoded_bytes += len;
	}
	free(buf);
	sl_workload_free(w);
	if (rc < 0) {
		bench_events_free(out);
		return rc;
	}
	return SL_OK;
}

void bench_events_free(struct bench_events *b)
{
	for (uint64_t i = 0; i < b->n; i++)
		sl_event_free(b->ev[i]);
	free(b->ev);
	b->ev = NULL;
	b->n = 0;
}

/* Forget what appending wrote into the events, so they can be appended again. */
static void reset_events(struct bench_events *b, bool keep_times)
{
	for (uint64_t i = 0; i < b->n; i++) {
		b->ev[i]->has_seq = 0;
		if (!keep_times)
			b->ev[i]->has_time_us = 0;
	}
}

uint64_t bench_dir_bytes(const char *dir, const char *suffix)
{
	uint64_t total = 0;
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	struct dirent *de;
	size_t sl = strlen(suffix);
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		if (l < sl || strcmp(de->d_name + l - sl, suffix) != 0)
			continue;
		char path[4400];
		struct stat st;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (stat(path, &st) == 0)
			total += (uint64_t)st.st_size;
	}
	closedir(d);
	return total;
}

int bench_reference_log(const char *dir, uint64_t events, uint64_t seed)
{
	struct sl_log_options o;
	sl_log_options_init(&o);
	o.create = true;
	o.durability = SL_DURABLE_NONE;
	struct sl_workload_options wo;
	sl_workload_options_init(&wo);
	wo.events = events;
	wo.seed = seed;
	sl_log *log = NULL;
	sl_workload *w = NULL;
	char err[1024];
	int rc = sl_log_open(&log, dir, &o, NULL, err, sizeof err);
	if (rc != SL_OK) {
		cli_err("bench", "%s", err);
		return rc;
	}
	if ((rc = sl_workload_new(&w, &wo)) != SL_OK)
		goto out;
	sl_event *ev;
	int more;
	while ((more = sl_workload_next(w, &ev)) == 1) {
		ev->has_time_us = 1;
		ev->time_us = sl_workload_time_us(w);
		if ((rc = sl_log_append(log, &ev, 1, NULL)) != SL_OK)
			goto out;
	}
	rc = more < 0 ? more : sl_log_compact(log);
out:
	if (rc != SL_OK)
		cli_err("bench", "%s: %s", dir, sl_log_errmsg(log));
	sl_workload_free(w);
	int crc = sl_log_close(log);
	return rc != SL_OK ? rc : crc;
}

/* ---- appending ---- */

/* sync(2), named apart from the `sync` parameters below. */
static void sync_all(void)
{
	sync();
}

struct append_run {
	double seconds;
	uint64_t events;
};

/* A new log in a scratch directory under base, for one run: everything
 * written back first, the events made appendable again. */
static int open_bench_log(const char *base, enum sl_durability d, int level,
			  struct bench_events *b, char **dir, sl_log **log)
{
	sync();  /* start every run with nothing left to write back */
	*dir = cli_tmpdir(base, "bench");
	if (!*dir)
		return SL_EIO;
	struct sl_log_options o;
	sl_log_options_init(&o);
	o.create = true;
	o.durability = d;
	o.compression_level = level;
	char err[1024];
	reset_events(b, false);
	int rc = sl_log_open(log, *dir, &o, NULL, err, sizeof(err));
	if (rc)
		fprintf(stderr, "bench: %s\n", err);
	return rc;
}

static int run_log_append(const char *base, struct bench_events *b, uint64_t n,
			  enum sl_durability d, int level, struct append_run *out)
{
	char *dir = NULL;
	sl_log *log;
	int rc = open_bench_log(base, d, level, b, &dir, &log);
	if (rc)
		goto out;
	double t0 = cli_mono_s();
	for (uint64_t i = 0; i < n && rc == SL_OK; i++)
		rc = sl_log_append(log, &b->ev[i], 1, NULL);
	/* Timed until every commit is written (the baseline's last write);
	 * the close, which packs the last segment at rest, is not the rate of
	 * appends. */
	if (rc == SL_OK)
		rc = sl_log_flush(log);
	out->seconds = cli_mono_s() - t0;
	out->events = n;
	int crc = sl_log_close(log);
	if (!rc)
		rc = crc;
out:
	if (dir)
		sl_proj_remove_tree(dir);
	free(dir);
	return rc;
}

/* The baseline: the same events, framed (length, crc32c, bytes) and
 * uncompressed, written with write(); buffered (64 KiB) or, with `sync`, one
 * write and fdatasync per record. */
static int run_plain_append(const char *base, struct bench_events *b, uint64_t n, bool sync,
			    struct append_run *out)
{
	sync_all();
	char *dir = cli_tmpdir(base, "bench");
	if (!dir)
		return SL_EIO;
	char path[4400];
	snprintf(path, sizeof(path), "%s/records", dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int rc = SL_OK;
	if (fd < 0) {
		rc = SL_EIO;
		goto out;
	}
	size_t cap = 1 << 16, len = 0;
	uint8_t *buf = malloc(cap);
	double t0 = cli_mono_s();
	for (uint64_t i = 0; i < n; i++) {
		size_t sz = sl_event_encoded_size(b->ev[i]);
		if (len + 8 + sz > cap || sync) {
			if (len && write(fd, buf, len) != (ssize_t)len) {
				rc = SL_EIO;
				break;
			}
			len = 0;
			if (sync && i && fdatasync(fd) < 0) {
				rc = SL_EIO;
				break;
			}
			if (8 + sz > cap) {
				cap = (8 + sz) * 2;
				buf = realloc(buf, cap);
			}
		}
		uint8_t *p = buf + len;
		sl_event_encode(b->ev[i], p + 8);
		uint32_t crc = sl_crc32c(0, p + 8, sz);
		memcpy(p, &sz, 4);
		memcpy(p + 4, &crc, 4);
		len += 8 + sz;
	}
	if (rc == SL_OK && len && write(fd, buf, len) != (ssize_t)len)
		rc = SL_EIO;
	if (rc == SL_OK && sync && fdatasync(fd) < 0)
		rc = SL_EIO;
	close(fd);
	out->seconds = cli_mono_s() - t0;
	out->events = n;
	free(buf);
out:
	if (dir)
		sl_proj_remove_tree(dir);
	free(dir);
	return rc;
}

struct thr_arg {
	sl_log *log;
	struct bench_events *b;
	uint64_t from, to;
	int rc;
	double *lat;
};

static void *thr_append(void *p)
{
	struct thr_arg *a = p;
	for (uint64_t i = a->from; i < a->to && a->rc == SL_OK; i++)
		a->rc = sl_log_append(a->log, &a->b->ev[i], 1, NULL);
	return NULL;
}

static int run_threads(const char *base, struct bench_events *b, uint64_t n, int threads,
		       struct append_run *out)
{
	char *dir = NULL;
	sl_log *log;
	int rc = open_bench_log(base, SL_DURABLE_ALWAYS, SL_LOG_DEFAULT_LEVEL, b, &dir, &log);
	if (rc)
		goto out;
	pthread_t *th = calloc((size_t)threads, sizeof(*th));
	struct thr_arg *args = calloc((size_t)threads, sizeof(*args));
	double t0 = cli_mono_s();
	for (int t = 0; t < threads; t++) {
		args[t] = (struct thr_arg){ log, b, n * (uint64_t)t / (uint64_t)threads,
					    n * (uint64_t)(t + 1) / (uint64_t)threads, SL_OK, NULL };
		pthread_create(&th[t], NULL, thr_append, &args[t]);
	}
	for (int t = 0; t < threads; t++) {
		pthread_join(th[t], NULL);
		if (args[t].rc && !rc)
			rc = args[t].rc;
	}
	out->seconds = cli_mono_s() - t0;
	out->events = n;
	int crc = sl_log_close(log);
	if (!rc)
		rc = crc;
	free(th);
	free(args);
out:
	if (dir)
		sl_proj_remove_tree(dir);
	free(dir);
	return rc;
}

/* `procs` processes, each with its own handle on one log, appending n
 * commits between them at durability always: the writers take turns
 * (log/FORMAT.md, "Writers").  Timed from the moment every process has
 * opened the log until the last has made its last commit (each says so
 * before it closes: closing packs the segment at rest, not part of the
 * rate). */
static int run_processes(const char *base, struct bench_events *b, uint64_t n, int procs,
			 struct append_run *out)
{
	char *dir = NULL;
	sl_log *log;
	int rc = open_bench_log(base, SL_DURABLE_ALWAYS, SL_LOG_DEFAULT_LEVEL, b, &dir, &log);
	if (rc)
		goto out;
	if ((rc = sl_log_close(log)))
		goto out;
	int ready[2], go[2], done[2];
	if (pipe(ready) || pipe(go) || pipe(done)) {
		rc = SL_EIO;
		goto out;
	}
	pid_t *kid = calloc((size_t)procs, sizeof(*kid));
	for (int k = 0; k < procs && kid; k++) {
		kid[k] = fork();
		if (kid[k] == 0) {
			close(go[1]);
			struct sl_log_options o;
			sl_log_options_init(&o);
			sl_log *l = NULL;
			char c = 'x';
			if (sl_log_open(&l, dir, &o, NULL, NULL, 0) != SL_OK ||
			    write(ready[1], &c, 1) != 1 || read(go[0], &c, 1) != 0)
				_exit(2);
			int r = SL_OK;
			for (uint64_t i = n * (uint64_t)k / (uint64_t)procs;
			     i < n * (uint64_t)(k + 1) / (uint64_t)procs && r == SL_OK; i++)
				r = sl_log_append(l, &b->ev[i], 1, NULL);
			if (write(done[1], &c, 1) != 1)
				r = SL_EIO;
			_exit(r == SL_OK && sl_log_close(l) == SL_OK ? 0 : 3);
		}
	}
	close(ready[1]);
	close(go[0]);
	close(done[1]);
	char c;
	for (int k = 0; k < procs; k++)
		if (read(ready[0], &c, 1) != 1)
			rc = SL_EIO;
	double t0 = cli_mono_s();
	close(go[1]);  /* every child's read returns: go */
	for (int k = 0; k < procs; k++)
		if (read(done[0], &c, 1) != 1)
			rc = SL_EIO;
	out->seconds = cli_mono_s() - t0;
	out->events = n;
	for (int k = 0; k < procs && kid; k++) {
		int st;
		if (kid[k] <= 0 || waitpid(kid[k], &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
			rc = SL_EIO;
	}
	close(ready[0]);
	close(done[0]);
	free(kid);
	if (!kid)
		rc = SL_ENOMEM;
out:
	if (dir)
		sl_proj_remove_tree(dir);
	free(dir);
	return rc;
}

/* ---- compression and reading back ---- */

struct size_run {
	uint64_t encoded;      /* protobuf bytes of the events */
	uint64_t stored;       /* segment files */
	uint64_t index;        /* index files */
	uint64_t frames256;    /* zstd -3 over 256-event frames */
	double read_seconds;
	uint64_t read_events;
	double compact_seconds;
	double status_raw_ms;  /* statelog status on the log before packing (median) */
	double status_ms;      /* ... and once packed, at rest */
};

/* The median time of sl_log_status() on dir, in milliseconds (9 calls). */
static int time_status(const char *dir, double *ms)
{
	double t[9];
	char err[512];
	for (int i = 0; i < 9; i++) {
		struct sl_log_status st;
		double t0 = cli_mono_s();
		int rc = sl_log_status(dir, &st, err, sizeof err);
		t[i] = (cli_mono_s() - t0) * 1e3;
		if (rc != SL_OK)
			return rc;
		if (st.stopped)
			return SL_ECORRUPT;
	}
	*ms = bench_median(t, 9);
	return SL_OK;
}

static int zstd_frames(struct bench_events *b, uint64_t n, uint64_t per_frame, uint64_t *out)
{
	uint8_t *raw = NULL, *dst = NULL;
	size_t rcap = 0, dcap = 0;
	ZSTD_CCtx *cctx = ZSTD_createCCtx();
	uint64_t total = 0;
	int rc = SL_OK;
	for (uint64_t i = 0; i < n && rc == SL_OK; i += per_frame) {
		size_t len = 0;
		for (uint64_t k = i; k < i + per_frame && k < n; k++) {
			size_t sz = sl_event_encoded_size(b->ev[k]);
			if (len + sz + 10 > rcap) {
				rcap = (len + sz + 10) * 2;
				raw = realloc(raw, rcap);
			}
			/* length-prefixed, as a framed record stream would be */
			uint8_t *p = raw + len;
			size_t v = sz, h = 0;
			while (v >= 0x80) {
				p[h++] = (uint8_t)(v | 0x80);
				v >>= 7;
			}
			p[h++] = (uint8_t)v;
			sl_event_encode(b->ev[k], p + h);
			len += h + sz;
		}
		size_t bound = ZSTD_compressBound(len);
		if (bound > dcap) {
			dcap = bound;
			dst = realloc(dst, dcap);
		}
		size_t c = ZSTD_compressCCtx(cctx, dst, dcap, raw, len, 3);
		if (ZSTD_isError(c))
			rc = SL_ENOMEM;
		else
			total += c;
	}
	ZSTD_freeCCtx(cctx);
	free(raw);
	free(dst);
	*out = total;
	return rc;
}

static int run_sizes(const char *base, struct bench_events *b, int level, struct size_run *out)
{
	char *dir = NULL;
	sl_log *log;
	char err[1024];
	int rc = open_bench_log(base, SL_DURABLE_NONE, level, b, &dir, &log);
	if (rc)
		goto out;
	for (uint64_t i = 0; i < b->n && rc == SL_OK; i++)
		rc = sl_log_append(log, &b->ev[i], 1, NULL);
	/* Sizes once every commit is packed (the background compactor's work,
	 * finished here); the time it takes is reported separately. */
	if (rc == SL_OK)
		rc = sl_log_flush(log);
	if (rc == SL_OK)
		rc = time_status(dir, &out->status_raw_ms);
	double t0 = cli_mono_s();
	if (rc == SL_OK)
		rc = sl_log_compact(log);
	out->compact_seconds = cli_mono_s() - t0;
	int crc = sl_log_close(log);
	if (rc || (rc = crc) || (rc = time_status(dir, &out->status_ms)))
		goto out;
	out->encoded = b->encoded_bytes;
	out->stored = bench_dir_bytes(dir, ".seg");
	out->index = bench_dir_bytes(dir, ".idx");
	/* reading back: decompress, check, decode every event */
	sl_reader *r;
	if ((rc = sl_reader_open(&r, dir, NULL, err, sizeof(err))))
		goto out;
	t0 = cli_mono_s();
	struct sl_record rec;
	uint64_t cnt = 0;
	int got;
	while ((got = sl_reader_next(&rec, r)) == 1) {
		sl_event *ev;
		if (sl_event_decode(&ev, rec.data, rec.len, rec.seq, rec.time_us)) {
			got = SL_ECORRUPT;
			break;
		}
		sl_event_free(ev);
		cnt++;
	}
	out->read_seconds = cli_mono_s() - t0;
	out->read_events = cnt;
	sl_reader_close(r);
	if (got < 0)
		rc = got;
out:
	if (dir)
		sl_proj_remove_tree(dir);
	free(dir);
	return rc;
}

/* A small log at rest: n one-event commits of the workload (durability
 * always, as an orchestrator writes), then closed, which packs it.  *ratio:
 * the events' encoded bytes over those of the segment and index files. */
static int run_at_rest(const char *base, struct bench_events *b, uint64_t n, double *ratio,
		       uint64_t *seg_bytes)
{
	char *dir = NULL;
	sl_log *log;
	int rc = open_bench_log(base, SL_DURABLE_ALWAYS, SL_LOG_DEFAULT_LEVEL, b, &dir, &log);
	if (rc)
		goto out;
	uint64_t encoded = 0;
	for (uint64_t i = 0; i < n && i < b->n && rc == SL_OK; i++) {
		encoded += (uint64_t)sl_event_encoded_size(b->ev[i]);
		rc = sl_log_append(log, &b->ev[i], 1, NULL);
	}
	int crc = sl_log_close(log);
	if (rc || (rc = crc))
		goto out;
	*seg_bytes = bench_dir_bytes(dir, ".seg") + bench_dir_bytes(dir, ".idx");
	*ratio = *seg_bytes ? (double)encoded / (double)*seg_bytes : 0.0;
out:
	if (dir)
		sl_proj_remove_tree(dir);
	free(dir);
	return rc;
}

/* All prompts and outputs of the run, concatenated, through zstd -3. */
static double prose_ratio(struct bench_events *b)
{
	size_t len = 0, cap = 1 << 20;
	char *all = malloc(cap);
	for (uint64_t i = 0; i < b->n; i++) {
		if (b->ev[i]->body_case != STATELOG__EVENT__BODY_EXECUTION_RECORDED)
			continue;
		const Statelog__ExecutionRecorded *x = b->ev[i]->execution_recorded;
		const char *parts[2] = { x->prompt, x->output };
		for (int k = 0; k < 2; k++) {
			if (!parts[k])
				continue;
			size_t l = strlen(parts[k]);
			if (len + l > cap) {
				cap = (len + l) * 2;
				all = realloc(all, cap);
			}
			memcpy(all + len, parts[k], l);
			len += l;
		}
	}
	size_t bound = ZSTD_compressBound(len);
	void *dst = malloc(bound);
	size_t c = ZSTD_compress(dst, bound, all, len, 3);
	free(dst);
	free(all);
	return ZSTD_isError(c) || !c ? 0 : (double)len / (double)c;
}

/* ---- the command ---- */

static const char bench_help[] =
	"usage: statelog bench [log|rebuild|backend|timetravel] [OPTIONS]\n\n"
	"Measures figures on the reference workload (tools/workload/WORKLOAD.md), each\n"
	"beside a baseline measured in the same run; medians of --runs runs.\n\n"
	"  statelog bench log [--events N] [--sync-events N] [--runs N] [--dir BASE]\n"
	"      durability none vs buffered write() of framed records; durability\n"
	"      always, 1 thread (--sync-events commits) vs write+fdatasync per record,\n"
	"      and 8 and 64 threads (64,000 commits), and 2 and 8 processes on one\n"
	"      log (--sync-events commits between them); compression\n"
	"      vs zstd -3 on 256-event frames; reading back; the prose ratio.\n"
	"      Defaults: --events 1000000 --sync-events 3000 --runs 5 --level 3.\n"
	"  statelog bench rebuild ...   the views rebuilt from the log (see --help)\n"
	"  statelog bench backend ...   the backend API vs plain SQLite (see --help)\n"
	"  statelog bench timetravel ...  time travel and the audit (see --help)\n"
	"Exit codes: 0 measured; 1 a failure (I/O, a check of the results); 2 usage.\n";

static int bench_log(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "events", required_argument, NULL, 'e' },
		{ "sync-events", required_argument, NULL, 's' },
		{ "runs", required_argument, NULL, 'r' },
		{ "dir", required_argument, NULL, 'd' },
		{ "level", required_argument, NULL, 'L' },
		{ "seed", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t events = 1000000, sync_events = 3000, runs = 5, seed = 1;
	int64_t level = SL_LOG_DEFAULT_LEVEL;
	const char *base = NULL;
	int c, idx = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, "h", opts, &idx)) != -1) {
		bool ok = true;
		switch (c) {
		case 'e': ok = cli_parse_u64(optarg, &events) && events >= 1000; break;
		case 's': ok = cli_parse_u64(optarg, &sync_events) && sync_events >= 64; break;
		case 'r': ok = cli_parse_u64(optarg, &runs) && runs >= 1 && runs <= 99; break;
		case 'S': ok = cli_parse_u64(optarg, &seed); break;
		case 'L': ok = cli_parse_i64(optarg, &level) && level >= -7 && level <= 22; break;
		case 'd': base = optarg; break;
		case 'h': fputs(bench_help, stdout); return SL_EXIT_OK;
		default: return cli_usage(bench_help);
		}
		if (!ok) {
			cli_err("bench", "--%s: bad value '%s'", opts[idx].name, optarg);
			return SL_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		cli_err("bench", "unexpected argument '%s'", argv[optind]);
		return SL_EXIT_USAGE;
	}
	printf("# statelog bench log --events %" PRIu64 " --sync-events %" PRIu64 " --runs %" PRIu64
	       " --level %" PRId64 " --seed %" PRIu64 "\n", events, sync_events, runs, level, seed);
	cli_note("generating %" PRIu64 " reference events...\n", events);
	struct bench_events b;
	int rc = bench_events(events, seed, false, &b);
	if (rc) {
		cli_err("bench", "workload: %s", sl_strerror(rc));
		return SL_EXIT_FAIL;
	}
	printf("events: %" PRIu64 ", %.1f MB encoded (%.0f bytes each on average)\n", b.n,
	       (double)b.encoded_bytes / 1e6, (double)b.encoded_bytes / (double)b.n);
	printf("prose: prompts and outputs concatenated, zstd -3: %.2fx (target 2.6x-3.4x)\n",
	       prose_ratio(&b));

	int R = (int)runs;
	double *none = calloc((size_t)R, sizeof(double)), *buffered = calloc((size_t)R, sizeof(double));
	double *one = calloc((size_t)R, sizeof(double)), *plain_sync = calloc((size_t)R, sizeof(double));
	double *t8 = calloc((size_t)R, sizeof(double)), *t64 = calloc((size_t)R, sizeof(double));
	double *ratio_none = calloc((size_t)R, sizeof(double)), *ratio_one = calloc((size_t)R, sizeof(double));
	double *ratio8 = calloc((size_t)R, sizeof(double)), *ratio64 = calloc((size_t)R, sizeof(double));
	double *p2 = calloc((size_t)R, sizeof(double)), *p8 = calloc((size_t)R, sizeof(double));
	double *ratio_p2 = calloc((size_t)R, sizeof(double)), *ratio_p8 = calloc((size_t)R, sizeof(double));
	uint64_t nsync = sync_events < b.n ? sync_events : b.n;
	/* Enough commits that starting 64 threads is not part of the figure:
	 * the steady state of group commit is what is measured. */
	uint64_t nthreads = 64000 < b.n ? 64000 : b.n;
	for (int r = 0; r < R && rc == SL_OK; r++) {
		struct append_run a, p;
		/* Alternate which side goes first, so neither always inherits the
		 * other's write-back. */
		bool ours_first = r % 2 == 0;
		cli_note("run %d/%d: durability none...\n", r + 1, R);
		if (ours_first && (rc = run_log_append(base, &b, b.n, SL_DURABLE_NONE, (int)level, &a)))
			break;
		if ((rc = run_plain_append(base, &b, b.n, false, &p)))
			break;
		if (!ours_first && (rc = run_log_append(base, &b, b.n, SL_DURABLE_NONE, (int)level, &a)))
			break;
		none[r] = (double)a.events / a.seconds;
		buffered[r] = (double)p.events / p.seconds;
		ratio_none[r] = none[r] / buffered[r];
		cli_note("run %d/%d: durability always...\n", r + 1, R);
		if (ours_first && (rc = run_log_append(base, &b, nsync, SL_DURABLE_ALWAYS, (int)level, &a)))
			break;
		if ((rc = run_plain_append(base, &b, nsync, true, &p)))
			break;
		if (!ours_first && (rc = run_log_append(base, &b, nsync, SL_DURABLE_ALWAYS, (int)level, &a)))
			break;
		one[r] = (double)a.events / a.seconds;
		plain_sync[r] = (double)p.events / p.seconds;
		ratio_one[r] = one[r] / plain_sync[r];
		if ((rc = run_threads(base, &b, nthreads, 8, &a)))
			break;
		t8[r] = (double)a.events / a.seconds;
		ratio8[r] = t8[r] / one[r];
		if ((rc = run_threads(base, &b, nthreads, 64, &a)))
			break;
		t64[r] = (double)a.events / a.seconds;
		ratio64[r] = t64[r] / one[r];
		cli_note("run %d/%d: several processes...\n", r + 1, R);
		if ((rc = run_processes(base, &b, nsync, 2, &a)))
			break;
		p2[r] = (double)a.events / a.seconds;
		ratio_p2[r] = p2[r] / one[r];
		if ((rc = run_processes(base, &b, nsync, 8, &a)))
			break;
		p8[r] = (double)a.events / a.seconds;
		ratio_p8[r] = p8[r] / one[r];
	}
	if (rc) {
		cli_err("bench", "%s", sl_strerror(rc));
		return SL_EXIT_FAIL;
	}
	printf("\n| figure | statelog | baseline (same run) | ratio | target |\n|---|---|---|---|---|\n");
	printf("| durability none, 1 event/commit | %.0f events/s | buffered write() of framed records: %.0f/s | %.2f | >= 500,000/s and >= 0.5 |\n",
	       bench_median(none, R), bench_median(buffered, R), bench_median(ratio_none, R));
	printf("| durability always, 1 thread | %.0f commits/s | write+fdatasync per record: %.0f/s | %.2f | >= 0.85 |\n",
	       bench_median(one, R), bench_median(plain_sync, R), bench_median(ratio_one, R));
	printf("| durability always, 8 threads | %.0f commits/s | 1 thread (above) | %.1fx | >= 5x |\n",
	       bench_median(t8, R), bench_median(ratio8, R));
	printf("| durability always, 64 threads | %.0f commits/s | 1 thread (above) | %.1fx | >= 20x |\n",
	       bench_median(t64, R), bench_median(ratio64, R));
	printf("| durability always, 2 processes taking turns (1 thread each) | %.0f commits/s | 1 thread, 1 process (above) | %.2f | >= 0.5 |\n",
	       bench_median(p2, R), bench_median(ratio_p2, R));
	printf("| durability always, 8 processes taking turns (1 thread each) | %.0f commits/s | 1 thread, 1 process (above) | %.2f | |\n",
	       bench_median(p8, R), bench_median(ratio_p8, R));

	/* Sizes and reading are deterministic but for time: one run each for
	 * sizes, medians for the reading rate. */
	double *rd = calloc((size_t)R, sizeof(double));
	struct size_run s = { 0 };
	uint64_t f256 = 0;
	if ((rc = zstd_frames(&b, b.n, 256, &f256)))
		goto done;
	for (int r = 0; r < R && rc == SL_OK; r++) {
		cli_note("run %d/%d: sizes and reading back...\n", r + 1, R);
		rc = run_sizes(base, &b, (int)level, &s);
		rd[r] = (double)s.read_events / s.read_seconds;
	}
	if (rc)
		goto done;
	double ours = (double)s.encoded / (double)(s.stored + s.index);
	double theirs = (double)s.encoded / (double)f256;
	printf("| compression, 1 event/commit, framing and indexes included | %.2fx (%.1f MB + %.2f MB index) | zstd -3 on 256-event frames: %.2fx | %.1f%% | >= 95%% and >= 3.0x |\n",
	       ours, (double)s.stored / 1e6, (double)s.index / 1e6, theirs, 100 * ours / theirs);
	printf("| reading back (decompress, check, decode) | %.0f events/s | | | >= 400,000/s |\n",
	       bench_median(rd, R));
	printf("| packing (compaction) of the whole log | %.0f events/s, %.0f MB/s of events | | | background |\n",
	       (double)b.n / s.compact_seconds, (double)s.encoded / 1e6 / s.compact_seconds);
	double rest_ratio = 0;
	uint64_t rest_bytes = 0;
	if ((rc = run_at_rest(base, &b, 10000, &rest_ratio, &rest_bytes)))
		goto done;
	printf("| a log of %" PRIu64 " one-event commits (durability always) at rest after close, framing and indexes included | %.2fx (%.2f MB) | | | >= 2.8x |\n",
	       b.n < 10000 ? b.n : (uint64_t)10000, rest_ratio, (double)rest_bytes / 1e6);
	printf("| `statelog status` of the whole log (sl_log_status(), median of 9) | %.1f ms packed, %.1f ms before packing | | | < 50 ms |\n",
	       s.status_ms, s.status_raw_ms);
done:
	free(rd);
	free(none); free(buffered); free(one); free(plain_sync); free(t8); free(t64);
	free(ratio_none); free(ratio_one); free(ratio8); free(ratio64);
	free(p2); free(p8); free(ratio_p2); free(ratio_p8);
	bench_events_free(&b);
	if (rc) {
		cli_err("bench", "%s", sl_strerror(rc));
		return SL_EXIT_FAIL;
	}
	return SL_EXIT_OK;
}

int cmd_bench(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(bench_help, argc < 2 ? stderr : stdout);
		return argc < 2 ? SL_EXIT_USAGE : SL_EXIT_OK;
	}
	if (strcmp(argv[1], "log") == 0)
		return bench_log(argc - 1, argv + 1);
#ifdef SL_HAVE_BENCH_REBUILD
	if (strcmp(argv[1], "rebuild") == 0)
		return bench_rebuild(argc - 1, argv + 1);
#endif
	if (strcmp(argv[1], "timetravel") == 0)
		return bench_timetravel(argc - 1, argv + 1);
#ifdef SL_HAVE_BENCH_BACKEND
	if (strcmp(argv[1], "backend") == 0)
		return bench_backend(argc - 1, argv + 1);
#endif
	cli_err("bench", "'%s' is not a benchmark; see 'statelog bench --help'", argv[1]);
	return SL_EXIT_USAGE;
}
