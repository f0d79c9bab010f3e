/* wbvfs.h: a "write-behind" SQLite VFS for building a database file in
 * bulk (internal to projector/; used by rebuild.c).
 *
 * Writing a rebuilt database costs the kernel a copy of every page into
 * the page cache, about a third of the rebuild's time on the thread that
 * runs SQLite.  Opened through this VFS, the main database file hands its
 * writes to a thread of its own: xWrite copies the page into a bounded
 * queue and returns; the thread writes in order.  Anything that must see
 * the file as written (xRead, xSync, xTruncate, xClose, and file controls
 * that are not known to be harmless) first waits for the queue to drain;
 * the file's size is known without waiting.  A failed write is reported by the next call on the file
 * and every one after it.
 *
 * Only for a file nobody else opens while it is built: the file supports
 * neither WAL nor memory mapping (version 1 I/O methods).  Files other
 * than the main database (journals, temporary files) are the default
 * VFS's, untouched.
 */
#ifndef SL_WBVFS_H
#define SL_WBVFS_H

#define SL_WBVFS_NAME "statelog-writebehind"

/* sqlite3_file_control(db, "main", SL_WBVFS_FCNTL_DRAIN, NULL) waits until
 * every write is in the file (and returns the first failed write's code):
 * before the file is given a name others open.  A number of our own, far
 * from SQLite's SQLITE_FCNTL_* codes. */
#define SL_WBVFS_FCNTL_DRAIN 0x51570001

/* Registers the VFS (not as the default) once per process.  Returns
 * SQLITE_OK or an SQLite error code. */
int sl_wbvfs_register(void);

#endif
