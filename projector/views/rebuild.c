/* rebuild.c: projecting a whole log into a new database file, then putting
 * it in place of the old one atomically (sl_proj_rebuild(), projector.h).
 *
 * The new file is "<db>.rebuild" beside the database, taken under an flock
 * so that two rebuilds of one database cannot write into the same file.  It
 * is written with no journal and an exclusive lock (nobody else may see it
 * yet); the indexes the load never reads are built once at the end.
 *
 * Then, when a database is there, the new content is copied into it in
 * place, in one SQLite transaction (the backup API, one step): other
 * processes may have it open (the projector threads of writers, `statelog
 * project`, dashboards), by its name and its -wal and -shm, and a file
 * renamed over it would leave them reading and writing the old, unlinked
 * one (and a projector writing into it for good).  Through SQLite's own
 * locking, a reader sees the old views or the new ones whole, and a
 * projector's next transaction continues from the new views' position.
 * Only when no database is there, or the one there is beyond SQLite's
 * reading (damaged, not a database: nothing can be using it), is the new
 * file renamed into place instead, still holding its exclusive lock, and
 * the old file's -wal, -shm and -journal removed:
 *  - connections already open on the old file keep it, with their -wal and
 *    -shm, now unlinked (SQLite neither checkpoints nor deletes anything by
 *    name for a database file that has moved), and see the old content
 *    until they reopen;
 *  - a connection opened after the rename waits for the lock, then sees the
 *    complete new file, never a stale -wal (which SQLite would otherwise
 *    apply to the new file: WAL frames are not tied to a file);
 *  - nothing half-built is ever at the database's name.
 * The rebuilt file is not fsynced (derived data: projector/model/MODEL.md),
 * and views damaged by a power loss are rebuilt again.
 */
#include "views_internal.h"
#include "wbvfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* SQLite page cache of the connection building a new file, KiB: while
 * loading, and while building the indexes at the end. */
#define REBUILD_CACHE_KIB 24576
#define INDEX_CACHE_KIB 8192

/* Refuses to replace a file that is not this log's views: another log's
 * views, a database with tables but no statelog_meta (the original
 * backend's, say), or a file that is not an SQLite database at all (it does
 * not start with SQLite's header: a text file given by mistake).  A
 * database SQLite cannot read past its header counts as damaged views,
 * which is what a rebuild is for; an empty file as none. */
static int check_target(struct sl_proj *p)
{
	struct stat sb;
	if (stat(p->db_path, &sb) != 0 || sb.st_size == 0)
		return SL_OK;
	static const char magic[16] = "SQLite format 3";
	char head[16] = { 0 };
	int fd = open(p->db_path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	ssize_t got = fd >= 0 ? read(fd, head, sizeof head) : -1;
	if (fd >= 0)
		close(fd);
	if (!S_ISREG(sb.st_mode) || got != (ssize_t)sizeof head ||
	    memcmp(head, magic, sizeof head) != 0) {
		sl_proj_msg(p, "%s: not a statelog database (not an SQLite database at all); it is "
			    "left alone", p->db_path);
		return SL_EFOREIGN;
	}
	sqlite3 *db = NULL;
	struct sl_rows_meta m;
	int rc = SL_OK;
	char msg[512];
	if (sqlite3_open_v2(p->db_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		goto out;
	sqlite3_busy_timeout(db, SL_PROJ_BUSY_MS);
	if (sl_rows_read_meta(db, &m, msg, sizeof msg) != SL_OK) {
		int code = sqlite3_errcode(db);
		if (code != SQLITE_NOTADB && code != SQLITE_CORRUPT) {
			sl_proj_msg(p, "%s: %s", p->db_path, msg);
			rc = SL_ESQLITE;
		}
		goto out;
	}
	if (!m.has_meta && m.n_tables > 0) {
		sl_proj_msg(p, "%s: not a statelog database (it has tables but no statelog_meta); "
			"it is left alone", p->db_path);
		rc = SL_EFOREIGN;
	} else if (m.has_meta && strcmp(m.log_id, p->log_id) != 0) {
		sl_proj_msg(p, "%s: projected from log %s, not from %s (log %s); it is left alone",
			p->db_path, m.log_id, p->log_dir, p->log_id);
		rc = SL_EFOREIGN;
	}
out:
	sqlite3_close(db);
	return rc;
}

/* Removes base+suffix; missing is fine.  The message goes to p. */
static int unlink_if_there(struct sl_proj *p, const char *base, const char *suffix)
{
	char *path;
	if (asprintf(&path, "%s%s", base, suffix) < 0) {
		sl_proj_msg(p, "out of memory");
		return SL_ENOMEM;
	}
	int rc = SL_OK;
	if (unlink(path) != 0 && errno != ENOENT) {
		sl_proj_msg(p, "removing %s: %s", path, strerror(errno));
		rc = SL_EIO;
	}
	free(path);
	return rc;
}

/* Takes "<db>.rebuild" for this rebuild: created if missing, locked (flock,
 * so a second rebuild of the same database fails rather than writing into
 * the same file), emptied.  *fd holds the lock until it is closed. */
static int take_temp(struct sl_proj *p, const char *tmp, int *fd)
{
	for (int tries = 0; tries < 3; tries++) {
		int f = open(tmp, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
		if (f < 0) {
			sl_proj_msg(p, "%s: %s", tmp, strerror(errno));
			return SL_EIO;
		}
		if (flock(f, LOCK_EX | LOCK_NB) != 0) {
			int e = errno;
			close(f);
			if (e == EWOULDBLOCK) {
				sl_proj_msg(p, "%s: another rebuild of %s is running", tmp, p->db_path);
				return SL_ELOCKED;
			}
			sl_proj_msg(p, "%s: locking: %s", tmp, strerror(e));
			return SL_EIO;
		}
		/* The file locked must still be the one named tmp (a rebuild that
		 * just finished renamed it away): else take the new one. */
		struct stat a, b;
		if (fstat(f, &a) == 0 && stat(tmp, &b) == 0 && a.st_ino == b.st_ino &&
		    a.st_dev == b.st_dev) {
			/* Emptied only when a crashed rebuild left it full: on ext4 a
			 * truncation makes the close flush the file (auto_da_alloc). */
			int rc = SL_OK;
			if (a.st_size > 0 && ftruncate(f, 0) != 0) {
				sl_proj_msg(p, "%s: emptying: %s", tmp, strerror(errno));
				rc = SL_EIO;
			}
			if (rc == SL_OK)
				rc = unlink_if_there(p, tmp, "-journal");
			if (rc == SL_OK)
				rc = unlink_if_there(p, tmp, "-wal");
			if (rc == SL_OK)
				rc = unlink_if_there(p, tmp, "-shm");
			if (rc != SL_OK) {
				close(f);
				return rc;
			}
			*fd = f;
			return SL_OK;
		}
		close(f);
	}
	sl_proj_msg(p, "%s: replaced again and again while being locked", tmp);
	return SL_EIO;
}

/* Replaces the database by the finished file.  The caller's connection to
 * it holds an exclusive lock, so nobody opens the new file before the old
 * file's -wal, -shm and -journal are gone: a stale -wal would otherwise be
 * applied to the new file by the next connection. */
static int rename_in(struct sl_proj *p, const char *tmp, const char *target)
{
	if (rename(tmp, target) != 0) {
		sl_proj_msg(p, "renaming %s to %s: %s", tmp, target, strerror(errno));
		return SL_EIO;
	}
	static const char *const sfx[] = { "-wal", "-shm", "-journal" };
	for (size_t i = 0; i < 3; i++) {
		int rc = unlink_if_there(p, target, sfx[i]);
		if (rc != SL_OK)
			return rc;      /* the message names the stale file to remove */
	}
	return SL_OK;
}

/* copy_in(): the database there cannot take the new views in place. */
#define RENAME_INSTEAD 1

/* Copies the new views (p->db, built) into the database at target, in one
 * transaction.  RENAME_INSTEAD when the database there cannot take them in place
 * (no database, or one SQLite cannot read or write as such): the caller
 * renames the new file over it instead. */
static int copy_in(struct sl_proj *p, const char *target)
{
	struct stat st;
	if (stat(target, &st) != 0 || st.st_size == 0)
		return RENAME_INSTEAD;
	sqlite3 *dst = NULL;
	int rc = SL_OK, s;
	if (sqlite3_open_v2(target, &dst, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		sqlite3_close(dst);
		return RENAME_INSTEAD;
	}
	sqlite3_busy_timeout(dst, SL_PROJ_BUSY_MS);
	sqlite3_backup *b = sqlite3_backup_init(dst, "main", p->db, "main");
	if (!b) {
		s = sqlite3_errcode(dst);
		rc = s == SQLITE_BUSY || s == SQLITE_LOCKED ? SL_ESQLITE : RENAME_INSTEAD;
		if (rc != RENAME_INSTEAD)
			sl_proj_msg(p, "%s: %s", target, sqlite3_errmsg(dst));
		sqlite3_close(dst);
		return rc;
	}
	/* One step: the whole copy is one transaction of the database.  The
	 * busy handler waits for a projector's transaction to end. */
	s = sqlite3_backup_step(b, -1);
	int fin = sqlite3_backup_finish(b);
	if (s == SQLITE_DONE && fin == SQLITE_OK) {
		rc = SL_OK;
	} else if (s == SQLITE_BUSY || s == SQLITE_LOCKED) {
		sl_proj_msg(p, "%s: the database stayed locked by another process for %d ms; nothing "
			    "was replaced", target, SL_PROJ_BUSY_MS);
		rc = SL_ESQLITE;
	} else if (s == SQLITE_NOMEM) {
		sl_proj_msg(p, "out of memory");
		rc = SL_ENOMEM;
	} else if (s == SQLITE_IOERR || (s & 0xff) == SQLITE_IOERR || s == SQLITE_FULL) {
		sl_proj_msg(p, "%s: writing the rebuilt views: %s", target, sqlite3_errstr(s));
		rc = SL_EIO;
	} else {
		rc = RENAME_INSTEAD;  /* damaged, not a database, another page size */
	}
	sqlite3_close(dst);
	return rc;
}

/* Puts the new views (tmp, p->db) in place of target: copied in when a
 * database is there, renamed in otherwise (see the comment at the top). */
static int swap_in(struct sl_proj *p, const char *tmp, const char *target)
{
	int rc = copy_in(p, target);
	if (rc == SL_OK) {
		if (unlink(tmp) != 0 && errno != ENOENT) {
			sl_proj_msg(p, "removing %s: %s", tmp, strerror(errno));
			return SL_EIO;
		}
		return SL_OK;
	}
	return rc == RENAME_INSTEAD ? rename_in(p, tmp, target) : rc;
}

/* Deferred indexes (project_internal.h): dropped while loading, built once
 * at the end, which costs less than keeping them up to date row by row. */

void sl_proj_deferred_free(struct sl_deferred *d)
{
	for (size_t i = 0; i < d->n; i++)
		sqlite3_free(d->sql[i]);
	d->n = 0;
}

int sl_proj_defer_indexes(struct sl_proj *p, struct sl_deferred *d)
{
	sqlite3_stmt *st = NULL;
	char *names[16];
	size_t n = 0;
	int rc = SL_OK, s;
	if (sqlite3_prepare_v2(p->db, "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
			       "AND sql IS NOT NULL AND tbl_name <> 'execution_history'", -1,
			       &st, NULL) != SQLITE_OK)
		goto sqlerr;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == sizeof names / sizeof names[0]) {
			sl_proj_msg(p, "%s: more indexes than a rebuild expects", p->db_path);
			rc = SL_EINVAL;
			goto out;
		}
		names[n] = sqlite3_mprintf("DROP INDEX \"%w\"", sqlite3_column_text(st, 0));
		d->sql[n] = sqlite3_mprintf("%s", sqlite3_column_text(st, 1));
		d->n = ++n;
		if (!names[n - 1] || !d->sql[n - 1]) {
			sl_proj_msg(p, "out of memory");
			rc = SL_ENOMEM;
			goto out;
		}
	}
	if (s != SQLITE_DONE)
		goto sqlerr;
	for (size_t i = 0; i < n; i++)
		if (sqlite3_exec(p->db, names[i], NULL, NULL, NULL) != SQLITE_OK)
			goto sqlerr;
	goto out;
sqlerr:
	sl_proj_msg(p, "%s: deferring indexes: %s", p->db_path, sqlite3_errmsg(p->db));
	rc = SL_ESQLITE;
out:
	for (size_t i = 0; i < n; i++)
		sqlite3_free(names[i]);
	sqlite3_finalize(st);
	return rc;
}

int sl_proj_create_deferred(struct sl_proj *p, const struct sl_deferred *d)
{
	/* The page cache the load needed is not needed now; sorting for the
	 * indexes would use as much again on top of it. */
	char sql[64];
	snprintf(sql, sizeof sql, "PRAGMA cache_size = -%d", INDEX_CACHE_KIB);
	if (sqlite3_exec(p->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		sl_proj_msg(p, "%s: %s", p->db_path, sqlite3_errmsg(p->db));
		return SL_ESQLITE;
	}
	for (size_t i = 0; i < d->n; i++) {
		if (sqlite3_exec(p->db, d->sql[i], NULL, NULL, NULL) != SQLITE_OK) {
			sl_proj_msg(p, "%s: creating an index: %s", p->db_path,
				    sqlite3_errmsg(p->db));
			return SL_ESQLITE;
		}
	}
	return SL_OK;
}

/* Builds the views of the whole log into tmp (p->db_path is tmp while this
 * runs) and swaps them in as `target`. */
static int build(struct sl_proj *p, const char *target, struct sl_proj_run *run)
{
	char msg[512];
	struct sl_deferred d = { .n = 0 };
	int rc, s;
	if (sl_wbvfs_register() != SQLITE_OK) {
		sl_proj_msg(p, "%s: cannot register the %s VFS", p->db_path, SL_WBVFS_NAME);
		return SL_ESQLITE;
	}
	if ((rc = sl_proj_open_conn(p, REBUILD_CACHE_KIB, SL_WBVFS_NAME)) != SL_OK)
		return rc;
	/* A new file nobody else may see: no journal, and the exclusive lock is
	 * kept from the first write to the close, across the swap. */
	if (sl_rows_exec(p->db, "PRAGMA journal_mode = OFF; PRAGMA locking_mode = EXCLUSIVE",
			  msg, sizeof msg) ||
	    sl_proj_create_views(p->db, p->log_id, msg, sizeof msg)) {
		sl_proj_msg(p, "%s: %s", p->db_path, msg);
		rc = SL_ESQLITE;
		goto out;
	}
	if ((rc = sl_proj_defer_indexes(p, &d)) || (rc = sl_proj_attach(p)) ||
	    (rc = sl_proj_catch_up_to(p, run)) || (rc = sl_proj_create_deferred(p, &d)))
		goto out;
	/* Leave the file in rollback-journal mode: the first projector to open
	 * it turns WAL on. */
	if (sl_rows_exec(p->db, "PRAGMA journal_mode = DELETE", msg, sizeof msg)) {
		sl_proj_msg(p, "%s: %s", p->db_path, msg);
		rc = SL_ESQLITE;
		goto out;
	}
	/* Every page in the file before it takes the database's name, so that
	 * a crash after the rename cannot leave a half-written file there. */
	if ((s = sqlite3_file_control(p->db, "main", SL_WBVFS_FCNTL_DRAIN, NULL)) != SQLITE_OK) {
		sl_proj_msg(p, "%s: writing: %s", p->db_path, sqlite3_errstr(s));
		rc = SL_ESQLITE;
		goto out;
	}
	rc = swap_in(p, p->db_path, target);
out:
	sl_proj_deferred_free(&d);
	return rc;
}

int sl_proj_rebuild(const char *log_dir, const char *db_path, const struct sl_proj_options *opts,
		    struct sl_proj_stats *stats, char *err, size_t errlen)
{
	struct sl_proj *p = NULL;
	struct sl_proj_run run = { .limit = UINT64_MAX };
	char *tmp = NULL, *target = NULL;
	int lock_fd = -1;
	bool built = false;
	int rc = sl_proj_alloc(&p, log_dir, db_path, opts);
	if (rc != SL_OK) {
		if (err && errlen)
			snprintf(err, errlen, "out of memory");
		return rc;
	}
	/* Snapshots belong to the log, not to one database file: the rebuild
	 * keeps those there are and takes the missing ones. */
	if ((rc = sl_proj_open_reader(p)) || (rc = check_target(p)) ||
	    (!p->opts.no_snapshots && (rc = sl_snap_attach(p, true))))
		goto out;
	if (asprintf(&tmp, "%s.rebuild", db_path) < 0) {
		tmp = NULL;
		rc = SL_ENOMEM;
		sl_proj_msg(p, "out of memory");
		goto out;
	}
	if ((rc = take_temp(p, tmp, &lock_fd)))
		goto out;
	/* The handle works on the new file; errors name it. */
	target = p->db_path;
	p->db_path = tmp;
	rc = build(p, target, &run);
	p->db_path = target;
	built = rc == SL_OK;
	if (rc == SL_EUNKNOWN)
		sl_proj_msg(p, "%s: seq %llu: an event of a type this build does not know (body "
			"field %u); nothing was replaced (rebuild with a newer statelog, or skip "
			"such events with --force)", log_dir, (unsigned long long)run.unknown_seq,
			run.unknown_field);
out:
	sl_proj_detach(p);
	if (!built && lock_fd >= 0) {
		/* Nothing half-built is left behind (the lock is still ours). */
		unlink(tmp);
	}
	if (lock_fd >= 0)
		close(lock_fd);
	free(tmp);
	run.st.last_seq = p->pos;
	run.st.rebuilt = built;
	if (stats)
		*stats = run.st;
	if (rc != SL_OK && err && errlen)
		snprintf(err, errlen, "%s", p->errmsg);
	sl_proj_close(p);
	return rc;
}

