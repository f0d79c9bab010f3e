/* wbvfs.c: the write-behind VFS (wbvfs.h).  A shim over the default VFS:
 * the main database file's writes go through a queue to a writer thread.
 *
 * Invariants (under wb_file.mu):
 *  - `head..tail` holds the writes not yet started, in the order SQLite
 *    made them; `busy` is true while the thread performs one outside the
 *    lock; the file as written equals what SQLite wrote once the queue is
 *    empty and the thread is not busy ("drained");
 *  - `queued` counts the bytes in the queue; xWrite waits while adding a
 *    block would pass WB_QUEUE_BYTES;
 *  - `err` is the first failed write's code, then returned by every call;
 *  - `size` is the size the file has once drained: writes only extend it
 *    (to max(size, off + amt)), so xFileSize needs no drain; SQLite asks
 *    for it at every commit.
 * Blocks are recycled through a free list, so a steady stream of
 * page-sized writes allocates nothing after the first few.
 */
#include "wbvfs.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#define WB_QUEUE_BYTES ((size_t)16 << 20)
/* The writer, once asleep on an empty queue, is woken when this much is
 * queued (or on a drain): one wake-up per run of pages, not per page. */
#define WB_WAKE_BYTES ((size_t)2 << 20)
#define WB_FREE_MAX 1024                /* blocks kept for reuse */

struct wb_block {
	struct wb_block *next;
	sqlite3_int64 off;
	int amt, cap;
	unsigned char data[];
};

struct wb_file {
	sqlite3_file base;
	sqlite3_file *real;             /* the default VFS's file, right after us */
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t work, idle;
	struct wb_block *head, *tail, *free_list;
	size_t queued, n_free;
	sqlite3_int64 size;
	bool busy, stop;
	bool writer_waiting;            /* asleep on `work`: signal it */
	bool waiter;                    /* someone asleep on `idle` */
	int err;
};

static sqlite3_vfs *real_vfs;
static sqlite3_vfs wb_vfs;

/* Room for the real file after ours, suitably aligned. */
#define WB_REAL_OFFSET ((sizeof(struct wb_file) + 15) & ~(size_t)15)

static void *writer(void *arg)
{
	struct wb_file *f = arg;
	pthread_mutex_lock(&f->mu);
	for (;;) {
		while (!f->head && !f->stop) {
			f->writer_waiting = true;
			pthread_cond_wait(&f->work, &f->mu);
			f->writer_waiting = false;
		}
		if (!f->head)
			break;
		struct wb_block *b = f->head;
		f->head = b->next;
		if (!f->head)
			f->tail = NULL;
		f->busy = true;
		int rc = f->err ? f->err : SQLITE_OK;
		pthread_mutex_unlock(&f->mu);
		if (rc == SQLITE_OK)
			rc = f->real->pMethods->xWrite(f->real, b->data, b->amt, b->off);
		pthread_mutex_lock(&f->mu);
		f->busy = false;
		if (rc != SQLITE_OK && !f->err)
			f->err = rc;
		f->queued -= (size_t)b->amt;
		if (f->n_free < WB_FREE_MAX) {
			b->next = f->free_list;
			f->free_list = b;
			f->n_free++;
		} else {
			free(b);
		}
		if (f->waiter) {
			f->waiter = false;
			pthread_cond_broadcast(&f->idle);
		}
	}
	pthread_mutex_unlock(&f->mu);
	return NULL;
}

/* Waits until every queued write is done; returns the first error. */
static int drain(struct wb_file *f)
{
	pthread_mutex_lock(&f->mu);
	if (f->writer_waiting)
		pthread_cond_signal(&f->work);
	while (f->head || f->busy) {
		f->waiter = true;
		pthread_cond_wait(&f->idle, &f->mu);
	}
	int rc = f->err;
	pthread_mutex_unlock(&f->mu);
	return rc;
}

static int wb_write(sqlite3_file *pf, const void *buf, int amt, sqlite3_int64 off)
{
	struct wb_file *f = (struct wb_file *)pf;
	struct wb_block *b = NULL;
	pthread_mutex_lock(&f->mu);
	while (!f->err && f->head && f->queued + (size_t)amt > WB_QUEUE_BYTES) {
		f->waiter = true;
		pthread_cond_wait(&f->idle, &f->mu);
	}
	if (f->err) {
		int rc = f->err;
		pthread_mutex_unlock(&f->mu);
		return rc;
	}
	if (f->free_list && f->free_list->cap >= amt) {
		b = f->free_list;
		f->free_list = b->next;
		f->n_free--;
	}
	pthread_mutex_unlock(&f->mu);
	if (!b) {
		b = malloc(sizeof *b + (size_t)amt);
		if (!b)
			return SQLITE_NOMEM;
		b->cap = amt;
	}
	memcpy(b->data, buf, (size_t)amt);
	b->off = off;
	b->amt = amt;
	b->next = NULL;
	pthread_mutex_lock(&f->mu);
	if (off + amt > f->size)
		f->size = off + amt;
	if (f->tail)
		f->tail->next = b;
	else
		f->head = b;
	f->tail = b;
	f->queued += (size_t)amt;
	if (f->writer_waiting && f->queued >= WB_WAKE_BYTES)
		pthread_cond_signal(&f->work);
	pthread_mutex_unlock(&f->mu);
	return SQLITE_OK;
}

static int wb_close(sqlite3_file *pf)
{
	struct wb_file *f = (struct wb_file *)pf;
	int rc = drain(f);
	pthread_mutex_lock(&f->mu);
	f->stop = true;
	pthread_cond_signal(&f->work);
	pthread_mutex_unlock(&f->mu);
	pthread_join(f->thread, NULL);
	while (f->free_list) {
		struct wb_block *b = f->free_list;
		f->free_list = b->next;
		free(b);
	}
	pthread_cond_destroy(&f->idle);
	pthread_cond_destroy(&f->work);
	pthread_mutex_destroy(&f->mu);
	int rc2 = f->real->pMethods->xClose(f->real);
	return rc != SQLITE_OK ? rc : rc2;
}

static int wb_read(sqlite3_file *pf, void *buf, int amt, sqlite3_int64 off)
{
	struct wb_file *f = (struct wb_file *)pf;
	int rc = drain(f);
	return rc != SQLITE_OK ? rc : f->real->pMethods->xRead(f->real, buf, amt, off);
}

static int wb_truncate(sqlite3_file *pf, sqlite3_int64 size)
{
	struct wb_file *f = (struct wb_file *)pf;
	int rc = drain(f);
	if (rc == SQLITE_OK)
		rc = f->real->pMethods->xTruncate(f->real, size);
	if (rc == SQLITE_OK)
		rc = f->real->pMethods->xFileSize(f->real, &f->size);
	return rc;
}

static int wb_sync(sqlite3_file *pf, int flags)
{
	struct wb_file *f = (struct wb_file *)pf;
	int rc = drain(f);
	return rc != SQLITE_OK ? rc : f->real->pMethods->xSync(f->real, flags);
}

static int wb_file_size(sqlite3_file *pf, sqlite3_int64 *size)
{
	struct wb_file *f = (struct wb_file *)pf;
	pthread_mutex_lock(&f->mu);
	int rc = f->err;
	*size = f->size;
	pthread_mutex_unlock(&f->mu);
	return rc;
}

static int wb_lock(sqlite3_file *pf, int level)
{
	struct wb_file *f = (struct wb_file *)pf;
	return f->real->pMethods->xLock(f->real, level);
}

static int wb_unlock(sqlite3_file *pf, int level)
{
	struct wb_file *f = (struct wb_file *)pf;
	return f->real->pMethods->xUnlock(f->real, level);
}

static int wb_check_reserved(sqlite3_file *pf, int *out)
{
	struct wb_file *f = (struct wb_file *)pf;
	return f->real->pMethods->xCheckReservedLock(f->real, out);
}

static int wb_file_control(sqlite3_file *pf, int op, void *arg)
{
	struct wb_file *f = (struct wb_file *)pf;
	switch (op) {
	case SL_WBVFS_FCNTL_DRAIN:
		return drain(f);
	case SQLITE_FCNTL_SIZE_HINT:            /* can only grow the file */
	case SQLITE_FCNTL_SYNC:                 /* at each commit, in place of xSync */
	case SQLITE_FCNTL_COMMIT_PHASETWO:
	case SQLITE_FCNTL_BUSYHANDLER:
	case SQLITE_FCNTL_PRAGMA:
	case SQLITE_FCNTL_HAS_MOVED:
		break;
	default: {
		int rc = drain(f);
		if (rc != SQLITE_OK)
			return rc;
	}
	}
	return f->real->pMethods->xFileControl(f->real, op, arg);
}

static int wb_sector_size(sqlite3_file *pf)
{
	struct wb_file *f = (struct wb_file *)pf;
	return f->real->pMethods->xSectorSize(f->real);
}

static int wb_device_characteristics(sqlite3_file *pf)
{
	struct wb_file *f = (struct wb_file *)pf;
	return f->real->pMethods->xDeviceCharacteristics(f->real);
}

static const sqlite3_io_methods wb_methods = {
	.iVersion = 1,                  /* no shared memory (WAL), no mmap */
	.xClose = wb_close,
	.xRead = wb_read,
	.xWrite = wb_write,
	.xTruncate = wb_truncate,
	.xSync = wb_sync,
	.xFileSize = wb_file_size,
	.xLock = wb_lock,
	.xUnlock = wb_unlock,
	.xCheckReservedLock = wb_check_reserved,
	.xFileControl = wb_file_control,
	.xSectorSize = wb_sector_size,
	.xDeviceCharacteristics = wb_device_characteristics,
};

static int wb_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *pf, int flags, int *out_flags)
{
	(void)vfs;
	if (!(flags & SQLITE_OPEN_MAIN_DB))     /* the default VFS's own file */
		return real_vfs->xOpen(real_vfs, name, pf, flags, out_flags);
	struct wb_file *f = (struct wb_file *)pf;
	memset(f, 0, sizeof *f);
	f->real = (sqlite3_file *)((char *)pf + WB_REAL_OFFSET);
	int rc = real_vfs->xOpen(real_vfs, name, f->real, flags, out_flags);
	if (rc != SQLITE_OK)
		return rc;
	if ((rc = f->real->pMethods->xFileSize(f->real, &f->size)) != SQLITE_OK) {
		f->real->pMethods->xClose(f->real);
		return rc;
	}
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->work, NULL);
	pthread_cond_init(&f->idle, NULL);
	if (pthread_create(&f->thread, NULL, writer, f) != 0) {
		pthread_cond_destroy(&f->idle);
		pthread_cond_destroy(&f->work);
		pthread_mutex_destroy(&f->mu);
		f->real->pMethods->xClose(f->real);
		return SQLITE_CANTOPEN;
	}
	pthread_setname_np(f->thread, "sl-dbwrite");
	pf->pMethods = &wb_methods;
	return SQLITE_OK;
}

/* The rest of the VFS is the default one's. */
static int wb_delete(sqlite3_vfs *v, const char *name, int sync_dir)
{
	(void)v;
	return real_vfs->xDelete(real_vfs, name, sync_dir);
}

static int wb_access(sqlite3_vfs *v, const char *name, int flags, int *out)
{
	(void)v;
	return real_vfs->xAccess(real_vfs, name, flags, out);
}

static int wb_full_pathname(sqlite3_vfs *v, const char *name, int n, char *out)
{
	(void)v;
	return real_vfs->xFullPathname(real_vfs, name, n, out);
}

static int wb_randomness(sqlite3_vfs *v, int n, char *out)
{
	(void)v;
	return real_vfs->xRandomness(real_vfs, n, out);
}

static int wb_sleep(sqlite3_vfs *v, int us)
{
	(void)v;
	return real_vfs->xSleep(real_vfs, us);
}

static int wb_current_time(sqlite3_vfs *v, double *out)
{
	(void)v;
	return real_vfs->xCurrentTime(real_vfs, out);
}

static int wb_last_error(sqlite3_vfs *v, int n, char *out)
{
	(void)v;
	return real_vfs->xGetLastError ? real_vfs->xGetLastError(real_vfs, n, out) : 0;
}

static int wb_current_time_int64(sqlite3_vfs *v, sqlite3_int64 *out)
{
	(void)v;
	return real_vfs->xCurrentTimeInt64(real_vfs, out);
}

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int register_rc = SQLITE_ERROR;

static void do_register(void)
{
	real_vfs = sqlite3_vfs_find(NULL);
	if (!real_vfs || real_vfs->iVersion < 2 || !real_vfs->xCurrentTimeInt64)
		return;
	wb_vfs = (sqlite3_vfs){
		.iVersion = 2,
		.szOsFile = (int)(WB_REAL_OFFSET + (size_t)real_vfs->szOsFile),
		.mxPathname = real_vfs->mxPathname,
		.zName = SL_WBVFS_NAME,
		.xOpen = wb_open,
		.xDelete = wb_delete,
		.xAccess = wb_access,
		.xFullPathname = wb_full_pathname,
		.xRandomness = wb_randomness,
		.xSleep = wb_sleep,
		.xCurrentTime = wb_current_time,
		.xGetLastError = wb_last_error,
		.xCurrentTimeInt64 = wb_current_time_int64,
	};
	register_rc = sqlite3_vfs_register(&wb_vfs, 0);
}

int sl_wbvfs_register(void)
{
	pthread_once(&once, do_register);
	return register_rc;
}
