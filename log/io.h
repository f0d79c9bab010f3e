/* io.h: the seam through which the log does all of its file I/O.
 *
 * The log never calls open(), pwrite(), fdatasync() and friends directly:
 * it calls these functions, so that a test can replace them to inject short
 * writes, EIO, ENOSPC, a failing fsync, or record every write and fsync to
 * build the images a power loss could leave behind.
 *
 * Each function behaves like its POSIX namesake: it returns -1 and sets
 * errno on failure.  `ctx` is passed through untouched.
 */
#ifndef SL_IO_H
#define SL_IO_H

#include <sys/types.h>
#include <sys/stat.h>

#include "sl_api.h"

#ifdef __cplusplus
extern "C" {
#endif

struct sl_io {
	void *ctx;
	int (*open)(void *ctx, const char *path, int flags, mode_t mode);
	int (*close)(void *ctx, int fd);
	ssize_t (*pread)(void *ctx, int fd, void *buf, size_t n, off_t off);
	ssize_t (*pwrite)(void *ctx, int fd, const void *buf, size_t n, off_t off);
	/* fdatasync() for files, fsync() for directories. */
	int (*sync)(void *ctx, int fd);
	int (*ftruncate)(void *ctx, int fd, off_t len);
	int (*fstat)(void *ctx, int fd, struct stat *st);
	int (*rename)(void *ctx, const char *from, const char *to);
	int (*unlink)(void *ctx, const char *path);
	int (*mkdir)(void *ctx, const char *path, mode_t mode);
};

/* The real file system. */
SL_API extern const struct sl_io sl_io_posix;

#ifdef __cplusplus
}
#endif

#endif
