/* faultio.c: the failing and recording I/O seam of the tests (faultio.h). */
#include "faultio.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { OP_WRITE, OP_SYNC, OP_TRUNC, OP_RENAME, OP_UNLINK, OP_DIRSYNC };

/* An open directory: its fsyncs make the renames and unlinks in it durable. */
struct fio_dirfd {
	int fd;
	char *path;
};

struct fio_op {
	int type;
	size_t file;
	uint64_t off;         /* write offset, truncate length */
	uint8_t *data;        /* write data */
	size_t len;
	char *from, *to;      /* rename; unlink and a directory's sync use from */
};

struct fio_file {
	char *path;           /* current name, NULL once unlinked */
	uint8_t *base;        /* content before recording started */
	size_t base_len;
};

static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static void add_op(struct fio *f, struct fio_op op)
{
	if (f->nops == f->capops) {
		f->capops = f->capops ? f->capops * 2 : 1024;
		f->ops = realloc(f->ops, f->capops * sizeof(*f->ops));
	}
	f->ops[f->nops++] = op;
}

static size_t file_by_path(struct fio *f, const char *path, bool fresh)
{
	if (!fresh)
		for (size_t i = 0; i < f->nfiles; i++)
			if (f->files[i].path && strcmp(f->files[i].path, path) == 0)
				return i;
	for (size_t i = 0; i < f->nfiles; i++)
		if (f->files[i].path && strcmp(f->files[i].path, path) == 0) {
			free(f->files[i].path);
			f->files[i].path = NULL;
		}
	if (f->nfiles == f->capfiles) {
		f->capfiles = f->capfiles ? f->capfiles * 2 : 64;
		f->files = realloc(f->files, f->capfiles * sizeof(*f->files));
	}
	struct fio_file *x = &f->files[f->nfiles];
	memset(x, 0, sizeof(*x));
	x->path = strdup(path);
	if (!fresh) {
		FILE *in = fopen(path, "rb");
		if (in) {
			fseek(in, 0, SEEK_END);
			x->base_len = (size_t)ftell(in);
			fseek(in, 0, SEEK_SET);
			x->base = malloc(x->base_len + 1);
			x->base_len = fread(x->base, 1, x->base_len, in);
			fclose(in);
		}
	}
	return f->nfiles++;
}

static int f_open_locked(void *ctx, const char *path, int flags, mode_t mode)
{
	struct fio *f = ctx;
	size_t pl = strlen(path), sl = f->fail_create ? strlen(f->fail_create) : 0;
	if ((flags & O_CREAT) && sl && pl >= sl && strcmp(path + pl - sl, f->fail_create) == 0) {
		errno = ENOSPC;
		return -1;
	}
	struct stat st;
	bool existed = stat(path, &st) == 0;
	int fd = sl_io_posix.open(NULL, path, flags, mode);
	if (fd >= 0 && f->record && ((existed && S_ISDIR(st.st_mode)) || (flags & O_DIRECTORY))) {
		if (f->ndirfds == f->capdirfds) {
			f->capdirfds = f->capdirfds ? f->capdirfds * 2 : 8;
			f->dirfds = realloc(f->dirfds, f->capdirfds * sizeof(*f->dirfds));
		}
		f->dirfds[f->ndirfds++] = (struct fio_dirfd){ fd, strdup(path) };
	} else if (fd >= 0 && f->record && fd < 4096) {
		bool fresh = !existed || (flags & O_TRUNC);
		f->fd_file[fd] = (int)file_by_path(f, path, fresh) + 1;
	}
	return fd;
}

static int f_close_locked(void *ctx, int fd)
{
	struct fio *f = ctx;
	if (fd >= 0 && fd < 4096)
		f->fd_file[fd] = 0;
	for (size_t i = 0; i < f->ndirfds; i++)
		if (f->dirfds[i].fd == fd) {
			free(f->dirfds[i].path);
			f->dirfds[i] = f->dirfds[--f->ndirfds];
			break;
		}
	return sl_io_posix.close(NULL, fd);
}

static ssize_t f_pread(void *ctx, int fd, void *buf, size_t n, off_t off)
{
	(void)ctx;
	return sl_io_posix.pread(NULL, fd, buf, n, off);
}

static ssize_t f_pwrite_locked(void *ctx, int fd, const void *buf, size_t n, off_t off)
{
	struct fio *f = ctx;
	f->writes++;
	if (f->fail_write_at && f->writes >= f->fail_write_at) {
		if (f->short_first && f->writes == f->fail_write_at && n > 1) {
			ssize_t r = sl_io_posix.pwrite(NULL, fd, buf, n / 2, off);
			if (r > 0)
				return r;
		}
		errno = f->write_errno ? f->write_errno : EIO;
		return -1;
	}
	ssize_t r = sl_io_posix.pwrite(NULL, fd, buf, n, off);
	if (r > 0 && f->record && fd < 4096 && f->fd_file[fd]) {
		uint8_t *copy = malloc((size_t)r);
		memcpy(copy, buf, (size_t)r);
		add_op(f, (struct fio_op){ OP_WRITE, (size_t)f->fd_file[fd] - 1, (uint64_t)off, copy,
					   (size_t)r, NULL, NULL });
	}
	return r;
}

static int f_sync_locked(void *ctx, int fd)
{
	struct fio *f = ctx;
	f->syncs++;
	if (f->fail_sync_at && f->syncs >= f->fail_sync_at) {
		errno = EIO;
		return -1;
	}
	int r = sl_io_posix.sync(NULL, fd);
	if (r == 0 && f->record && fd < 4096 && f->fd_file[fd])
		add_op(f, (struct fio_op){ OP_SYNC, (size_t)f->fd_file[fd] - 1, 0, NULL, 0, NULL, NULL });
	for (size_t i = 0; r == 0 && f->record && i < f->ndirfds; i++)
		if (f->dirfds[i].fd == fd) {
			add_op(f, (struct fio_op){ OP_DIRSYNC, 0, 0, NULL, 0, strdup(f->dirfds[i].path),
						   NULL });
			f->dirsyncs++;
		}
	return r;
}

static int f_ftruncate_locked(void *ctx, int fd, off_t len)
{
	struct fio *f = ctx;
	int r = sl_io_posix.ftruncate(NULL, fd, len);
	if (r == 0 && f->record && fd < 4096 && f->fd_file[fd])
		add_op(f, (struct fio_op){ OP_TRUNC, (size_t)f->fd_file[fd] - 1, (uint64_t)len, NULL, 0,
					   NULL, NULL });
	return r;
}

static int f_fstat(void *ctx, int fd, struct stat *st)
{
	(void)ctx;
	return sl_io_posix.fstat(NULL, fd, st);
}

static int f_rename_locked(void *ctx, const char *from, const char *to)
{
	struct fio *f = ctx;
	int r = sl_io_posix.rename(NULL, from, to);
	if (r == 0 && f->record) {
		for (size_t i = 0; i < f->nfiles; i++)
			if (f->files[i].path && strcmp(f->files[i].path, to) == 0) {
				free(f->files[i].path);
				f->files[i].path = NULL;
			}
		size_t id = file_by_path(f, from, false);
		free(f->files[id].path);
		f->files[id].path = strdup(to);
		add_op(f, (struct fio_op){ OP_RENAME, id, 0, NULL, 0, strdup(from), strdup(to) });
	}
	return r;
}

static int f_unlink_locked(void *ctx, const char *path)
{
	struct fio *f = ctx;
	int r = sl_io_posix.unlink(NULL, path);
	if (r == 0 && f->record)
		for (size_t i = 0; i < f->nfiles; i++)
			if (f->files[i].path && strcmp(f->files[i].path, path) == 0) {
				add_op(f, (struct fio_op){ OP_UNLINK, i, 0, NULL, 0, strdup(path), NULL });
				free(f->files[i].path);
				f->files[i].path = NULL;
			}
	return r;
}

static int f_mkdir(void *ctx, const char *path, mode_t mode)
{
	(void)ctx;
	return sl_io_posix.mkdir(NULL, path, mode);
}

#define LOCKED(ret, name, params, args)                 \
	static ret name params                          \
	{                                               \
		struct fio *f = ctx;                    \
		pthread_mutex_lock(&f->mu);             \
		ret r = name##_locked args;             \
		pthread_mutex_unlock(&f->mu);           \
		return r;                               \
	}
LOCKED(int, f_open, (void *ctx, const char *path, int flags, mode_t mode), (ctx, path, flags, mode))
LOCKED(int, f_close, (void *ctx, int fd), (ctx, fd))
LOCKED(ssize_t, f_pwrite, (void *ctx, int fd, const void *buf, size_t n, off_t off), (ctx, fd, buf, n, off))
LOCKED(int, f_sync, (void *ctx, int fd), (ctx, fd))
LOCKED(int, f_ftruncate, (void *ctx, int fd, off_t len), (ctx, fd, len))
LOCKED(int, f_rename, (void *ctx, const char *from, const char *to), (ctx, from, to))
LOCKED(int, f_unlink, (void *ctx, const char *path), (ctx, path))

void fio_init(struct fio *f)
{
	memset(f, 0, sizeof(*f));
	pthread_mutex_init(&f->mu, NULL);
	f->io = (struct sl_io){ f, f_open, f_close, f_pread, f_pwrite, f_sync, f_ftruncate, f_fstat,
				f_rename, f_unlink, f_mkdir };
}

void fio_free(struct fio *f)
{
	for (size_t i = 0; i < f->nops; i++) {
		free(f->ops[i].data);
		free(f->ops[i].from);
		free(f->ops[i].to);
	}
	for (size_t i = 0; i < f->nfiles; i++) {
		free(f->files[i].path);
		free(f->files[i].base);
	}
	for (size_t i = 0; i < f->ndirfds; i++)
		free(f->dirfds[i].path);
	free(f->dirfds);
	free(f->ops);
	free(f->files);
}

size_t fio_ops(const struct fio *f)
{
	return f->nops;
}

struct img {
	uint8_t *d;
	size_t len, cap;
};

static void img_write(struct img *m, uint64_t off, const uint8_t *p, size_t n)
{
	if (off + n > m->cap) {
		m->cap = (off + n) * 2;
		m->d = realloc(m->d, m->cap);
	}
	if (off > m->len)
		memset(m->d + m->len, 0, off - m->len);
	memcpy(m->d + off, p, n);
	if (off + n > m->len)
		m->len = off + n;
}

size_t fio_renames_lost;

/* Whether an fsync of the directory holding `path` came after op k and
 * before the crash point. */
static bool dir_synced_after(const struct fio *f, size_t k, size_t upto, const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t dl = slash ? (size_t)(slash - path) : 0;
	for (size_t i = k + 1; i < upto; i++) {
		const struct fio_op *op = &f->ops[i];
		if (op->type != OP_DIRSYNC)
			continue;
		size_t n = strlen(op->from);
		while (n > 1 && op->from[n - 1] == '/')
			n--;
		if (slash ? n == dl && strncmp(op->from, path, dl) == 0 : strcmp(op->from, ".") == 0)
			return true;
	}
	return false;
}

void fio_crash_image(const struct fio *f, size_t upto, uint64_t seed, const char *dir)
{
	uint64_t rng = seed;
	struct img *im = calloc(f->nfiles, sizeof(*im));
	char **names = calloc(f->nfiles, sizeof(*names));
	/* the last sync of each file before the crash point */
	size_t *last_sync = calloc(f->nfiles, sizeof(*last_sync));
	for (size_t i = 0; i < upto; i++)
		if (f->ops[i].type == OP_SYNC)
			last_sync[f->ops[i].file] = i + 1;
	for (size_t i = 0; i < f->nfiles; i++) {
		if (f->files[i].base_len)
			img_write(&im[i], 0, f->files[i].base, f->files[i].base_len);
	}
	/* Names as they were when recording began are rebuilt by replaying
	 * renames and unlinks; files named at creation keep their first name. */
	for (size_t i = 0; i < f->nfiles; i++) {
		const char *first = f->files[i].path;
		for (size_t k = 0; k < f->nops; k++)
			if (f->ops[k].file == i && (f->ops[k].type == OP_RENAME || f->ops[k].type == OP_UNLINK)) {
				first = f->ops[k].from;
				break;
			}
		names[i] = first ? strdup(first) : NULL;
	}
	for (size_t k = 0; k < upto; k++) {
		const struct fio_op *op = &f->ops[k];
		struct img *m = &im[op->file];
		if ((op->type == OP_RENAME || op->type == OP_UNLINK) && f->lose_renames &&
		    !dir_synced_after(f, k, upto, op->from) &&
		    !(op->to && dir_synced_after(f, k, upto, op->to)) && (rng_next(&rng) & 1)) {
			fio_renames_lost++;
			continue;  /* the directory entry never reached the disk */
		}
		bool durable = k < last_sync[op->file];
		switch (op->type) {
		case OP_WRITE:
			if (durable) {
				img_write(m, op->off, op->data, op->len);
				break;
			}
			switch (rng_next(&rng) % 3) {
			case 0:
				break;  /* lost */
			case 1:
				img_write(m, op->off, op->data, op->len);
				break;
			default:
				/* torn: some sectors of the write land */
				for (uint64_t s = op->off; s < op->off + op->len;) {
					uint64_t e = (s / 512 + 1) * 512;
					if (e > op->off + op->len)
						e = op->off + op->len;
					if (rng_next(&rng) & 1)
						img_write(m, s, op->data + (s - op->off), (size_t)(e - s));
					else if (s >= m->len) {
						/* a later sector may land: the gap reads as zeros */
					}
					s = e;
				}
			}
			break;
		case OP_TRUNC:
			if (op->off < m->len)
				m->len = (size_t)op->off;
			break;
		case OP_RENAME:
			for (size_t j = 0; j < f->nfiles; j++)
				if (names[j] && strcmp(names[j], op->to) == 0) {
					free(names[j]);
					names[j] = NULL;
				}
			free(names[op->file]);
			names[op->file] = strdup(op->to);
			break;
		case OP_UNLINK:
			free(names[op->file]);
			names[op->file] = NULL;
			break;
		default:
			break;
		}
	}
	for (size_t i = 0; i < f->nfiles; i++) {
		if (!names[i]) {
			free(im[i].d);
			continue;
		}
		const char *base = strrchr(names[i], '/');
		base = base ? base + 1 : names[i];
		char path[4300];
		snprintf(path, sizeof(path), "%s/%s", dir, base);
		FILE *out = fopen(path, "wb");
		cr_assert_not_null(out, "image %s", path);
		if (im[i].len)
			fwrite(im[i].d, 1, im[i].len, out);
		fclose(out);
		free(im[i].d);
		free(names[i]);
	}
	free(im);
	free(names);
	free(last_sync);
}
