/* io_posix.c: the real file system behind the log's I/O seam (io.h). */
#include "io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

static int px_open(void *ctx, const char *path, int flags, mode_t mode)
{
	(void)ctx;
	int fd;
	do
		fd = open(path, flags | O_CLOEXEC, mode);
	while (fd < 0 && errno == EINTR);
	return fd;
}

static int px_close(void *ctx, int fd)
{
	(void)ctx;
	/* Linux closes the descriptor even when close() reports EINTR: never retry. */
	return close(fd);
}

static ssize_t px_pread(void *ctx, int fd, void *buf, size_t n, off_t off)
{
	(void)ctx;
	ssize_t r;
	do
		r = pread(fd, buf, n, off);
	while (r < 0 && errno == EINTR);
	return r;
}

static ssize_t px_pwrite(void *ctx, int fd, const void *buf, size_t n, off_t off)
{
	(void)ctx;
	ssize_t r;
	do
		r = pwrite(fd, buf, n, off);
	while (r < 0 && errno == EINTR);
	return r;
}

static int px_sync(void *ctx, int fd)
{
	(void)ctx;
	/* fdatasync() is enough for data files (their size is data), and on
	 * Linux it also flushes a directory opened read-only. */
	return fdatasync(fd);
}

static int px_ftruncate(void *ctx, int fd, off_t len)
{
	(void)ctx;
	int r;
	do
		r = ftruncate(fd, len);
	while (r < 0 && errno == EINTR);
	return r;
}

static int px_fstat(void *ctx, int fd, struct stat *st)
{
	(void)ctx;
	return fstat(fd, st);
}

static int px_rename(void *ctx, const char *from, const char *to)
{
	(void)ctx;
	return rename(from, to);
}

static int px_unlink(void *ctx, const char *path)
{
	(void)ctx;
	return unlink(path);
}

static int px_mkdir(void *ctx, const char *path, mode_t mode)
{
	(void)ctx;
	return mkdir(path, mode);
}

const struct sl_io sl_io_posix = {
	.ctx = NULL,
	.open = px_open,
	.close = px_close,
	.pread = px_pread,
	.pwrite = px_pwrite,
	.sync = px_sync,
	.ftruncate = px_ftruncate,
	.fstat = px_fstat,
	.rename = px_rename,
	.unlink = px_unlink,
	.mkdir = px_mkdir,
};
