/* privcopy.c: a private copy of views that cannot be written
 * (sl_proj_options.copy_if_read_only).
 *
 * A reader of the views catches them up before it answers, which writes
 * them.  Where the database cannot be written here (a read-only mount, no
 * permission on the file or its directory) the reading commands work on a
 * copy instead, in a new directory under $TMPDIR, and the original is
 * never written.
 *
 * The copy must be one consistent state of the database, though a writer
 * may be committing to it meanwhile (the owner of a directory we may only
 * read): it is made with SQLite's backup, in one read transaction, which
 * also reads what the WAL holds.  Where SQLite cannot open the original
 * for reading (in WAL mode on a read-only file system without its shared-
 * memory file), nothing can be writing it: the files (database, WAL,
 * rollback journal) are copied as they are, and SQLite recovers the copy
 * as it would the original; the copy is made again if a file changed
 * while it was read.  A snapshot store that cannot be copied is left out:
 * it only makes time travel faster.
 */
#include "views_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <time.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool refused(int e)
{
	return e == EROFS || e == EACCES || e == EPERM;
}

bool sl_proj_views_unwritable(const char *path)
{
	/* AT_EACCESS: as this process's effective ids would be judged. */
	if (faccessat(AT_FDCWD, path, W_OK, AT_EACCESS) != 0 && refused(errno))
		return true;
	const char *slash = strrchr(path, '/');
	char dir[4096];
	if (!slash)
		snprintf(dir, sizeof dir, ".");
	else if (slash == path)
		snprintf(dir, sizeof dir, "/");
	else if ((size_t)(slash - path) < sizeof dir)
		snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
	else
		return false;
	return faccessat(AT_FDCWD, dir, W_OK, AT_EACCESS) != 0 && refused(errno);
}

const char *sl_proj_private_copy(const sl_proj *p)
{
	return p && p->copy_dir ? p->db_path : NULL;
}

void sl_proj_name_original(const struct sl_proj *p, char *msg, size_t len)
{
	if (!p || !p->copy_dir || !p->orig_path)
		return;
	char *at = strstr(msg, p->db_path);
	if (!at)
		return;
	char *out = NULL;
	if (asprintf(&out, "%.*s%s (private copy)%s", (int)(at - msg), msg, p->orig_path,
		     at + strlen(p->db_path)) < 0)
		return;
	snprintf(msg, len, "%s", out);
	free(out);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

void sl_proj_remove_tree(const char *path)
{
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

void sl_proj_copy_remove(struct sl_proj *p)
{
	if (!p->copy_dir)
		return;
	sl_proj_remove_tree(p->copy_dir);
	free(p->copy_dir);
	free(p->orig_path);
	p->copy_dir = NULL;
	p->orig_path = NULL;
}

/* ---- through SQLite -------------------------------------------------------- */

/* Copies the database at from into to with the backup API, all pages in
 * one step (one read transaction).  SL_OK; SL_EIO when the original cannot
 * be opened or read (*unopened: not even opened, try the files); SL_ENOMEM. */
static int backup(struct sl_proj *p, const char *from, const char *to, bool *unopened)
{
	sqlite3 *src = NULL, *dst = NULL;
	int rc = SL_EIO;
	*unopened = false;
	if (sqlite3_open_v2(from, &src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		*unopened = true;
		goto out;
	}
	sqlite3_busy_timeout(src, 5000);
	if (sqlite3_open_v2(to, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		sl_proj_msg(p, "%s: making a private copy of %s: %s", to, from,
			    dst ? sqlite3_errmsg(dst) : "out of memory");
		rc = dst ? SL_EIO : SL_ENOMEM;
		goto out;
	}
	sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
	if (!b) {
		sl_proj_msg(p, "%s: making a private copy of %s: %s", to, from,
			    sqlite3_errmsg(dst));
		goto out;
	}
	int s = sqlite3_backup_step(b, -1);
	sqlite3_backup_finish(b);
	if (s == SQLITE_DONE) {
		rc = SL_OK;
	} else {
		/* Opening is lazy: the first read is where a WAL database on a
		 * read-only file system without its -shm file fails. */
		int e = sqlite3_errcode(src);
		*unopened = e == SQLITE_CANTOPEN || e == SQLITE_READONLY || s == SQLITE_CANTOPEN ||
			    s == SQLITE_READONLY;
		sl_proj_msg(p, "%s: making a private copy: %s", from, sqlite3_errstr(s));
		rc = s == SQLITE_NOMEM ? SL_ENOMEM : SL_EIO;
	}
out:
	sqlite3_close(dst);
	sqlite3_close(src);
	return rc;
}

/* ---- as files ------------------------------------------------------------ */

/* The copy loop of sl_proj_copy_file(): copy_file_range(2), in the
 * kernel, page cache to page cache (about 0.2 s a gigabyte here, several
 * times less than reading and writing through user space); where the file
 * system or the kernel cannot, pread(2) and pwrite(2) in 1 MiB blocks. */
static int copy_fd(int in, int out, const char *from, const char *to, char *msg,
		   size_t msglen)
{
	bool kernel = true;
	char *buf = NULL;
	off_t off = 0;
	int rc = SL_OK;
	for (;;) {
		ssize_t n;
		const char *failed = from;
		if (kernel) {
			n = copy_file_range(in, NULL, out, NULL, (size_t)1 << 30, 0);
			if (n < 0 && off == 0 && (errno == EXDEV || errno == ENOSYS ||
						  errno == EOPNOTSUPP || errno == EINVAL)) {
				kernel = false;
				continue;
			}
		} else {
			if (!buf && !(buf = malloc((size_t)1 << 20))) {
				snprintf(msg, msglen, "out of memory");
				return SL_ENOMEM;
			}
			n = pread(in, buf, (size_t)1 << 20, off);
			for (ssize_t done = 0; n > 0 && done < n;) {
				ssize_t w = pwrite(out, buf + done, (size_t)(n - done), off + done);
				if (w < 0 && errno == EINTR)
					continue;
				if (w <= 0) {
					if (w == 0)
						errno = ENOSPC;
					n = -1;
					failed = to;
					break;
				}
				done += w;
			}
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(msg, msglen, "%s: %s", failed, strerror(errno));
			rc = SL_EIO;
			break;
		}
		if (n == 0)
			break;
		off += n;
	}
	free(buf);
	return rc;
}

int sl_proj_copy_file(const char *from, const char *to, mode_t mode, char *msg, size_t msglen)
{
	int in = open(from, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		snprintf(msg, msglen, "%s: %s", from, strerror(errno));
		return errno == ENOENT ? SL_ENOTFOUND : SL_EIO;
	}
	int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (out < 0) {
		snprintf(msg, msglen, "%s: %s", to, strerror(errno));
		close(in);
		return SL_EIO;
	}
	int rc = copy_fd(in, out, from, to, msg, msglen);
	if (close(out) != 0 && rc == SL_OK) {
		snprintf(msg, msglen, "%s: %s", to, strerror(errno));
		rc = SL_EIO;
	}
	close(in);
	return rc;
}

/* Copies from to to (created).  SL_ENOTFOUND: from does not exist. */
static int copy_file(struct sl_proj *p, const char *from, const char *to)
{
	char msg[600];
	int rc = sl_proj_copy_file(from, to, 0600, msg, sizeof msg);
	if (rc != SL_OK && rc != SL_ENOTFOUND)
		sl_proj_msg(p, "making a private copy: %s", msg);
	return rc;
}

static const char *const file_suffix[] = { "", "-wal", "-journal" };
#define N_FILE_SUFFIX (sizeof file_suffix / sizeof file_suffix[0])

/* What the files of a database look like: equal before and after a copy
 * means nothing changed them meanwhile. */
struct files_seen {
	struct stat st[N_FILE_SUFFIX];
	bool exists[N_FILE_SUFFIX];
};

static int see_files(const char *path, struct files_seen *f)
{
	memset(f, 0, sizeof *f);
	for (size_t i = 0; i < N_FILE_SUFFIX; i++) {
		char *name = NULL;
		if (asprintf(&name, "%s%s", path, file_suffix[i]) < 0)
			return SL_ENOMEM;
		f->exists[i] = stat(name, &f->st[i]) == 0;
		free(name);
	}
	return SL_OK;
}

static bool same_files(const struct files_seen *a, const struct files_seen *b)
{
	for (size_t i = 0; i < N_FILE_SUFFIX; i++) {
		if (a->exists[i] != b->exists[i])
			return false;
		if (!a->exists[i])
			continue;
		const struct stat *x = &a->st[i], *y = &b->st[i];
		if (x->st_ino != y->st_ino || x->st_size != y->st_size ||
		    x->st_mtim.tv_sec != y->st_mtim.tv_sec ||
		    x->st_mtim.tv_nsec != y->st_mtim.tv_nsec)
			return false;
	}
	return true;
}

/* Copies the files of the database at from to to, again while one changes
 * during the copy (three tries). */
static int copy_files(struct sl_proj *p, const char *from, const char *to)
{
	for (int attempt = 0; attempt < 3; attempt++) {
		struct files_seen before, after;
		int rc = see_files(from, &before);
		for (size_t i = 0; i < N_FILE_SUFFIX && rc == SL_OK; i++) {
			char *a = NULL, *b = NULL;
			if (asprintf(&a, "%s%s", from, file_suffix[i]) < 0 ||
			    asprintf(&b, "%s%s", to, file_suffix[i]) < 0)
				rc = SL_ENOMEM;
			else if ((rc = copy_file(p, a, b)) == SL_ENOTFOUND)
				rc = unlink(b) == 0 || errno == ENOENT ? SL_OK : SL_EIO;
			free(a);
			free(b);
		}
		if (rc == SL_OK)
			rc = see_files(from, &after);
		if (rc != SL_OK)
			return rc == SL_ENOMEM ? (sl_proj_msg(p, "out of memory"), rc) : rc;
		if (same_files(&before, &after))
			return SL_OK;
	}
	sl_proj_msg(p, "%s: making a private copy: the database kept changing while it was "
		    "copied", from);
	return SL_EIO;
}

/* ---- the copy ------------------------------------------------------------- */

/* One database (the views or the snapshot store): SL_ENOTFOUND when from
 * does not exist. */
static int copy_db(struct sl_proj *p, const char *from, const char *to)
{
	if (access(from, F_OK) != 0 && errno == ENOENT)
		return SL_ENOTFOUND;
	bool unopened;
	int rc = backup(p, from, to, &unopened);
	if (rc == SL_OK || !unopened)
		return rc;
	for (size_t i = 0; i < N_FILE_SUFFIX; i++) {
		char *b = NULL;
		if (asprintf(&b, "%s%s", to, file_suffix[i]) >= 0) {
			unlink(b);
			free(b);
		}
	}
	return copy_files(p, from, to);
}

#define COPY_PREFIX "statelog-views-"

int sl_proj_sweep_copies(const char *tmp)
{
	DIR *d = opendir(tmp);
	if (!d)
		return 0;
	int removed = 0;
	time_t now = time(NULL);
	struct dirent *e;
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, COPY_PREFIX, strlen(COPY_PREFIX)) != 0)
			continue;
		struct stat sb;
		if (fstatat(dirfd(d), e->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISDIR(sb.st_mode) || sb.st_uid != geteuid())
			continue;
		char *path = NULL, *owner = NULL;
		if (asprintf(&path, "%s/%s", tmp, e->d_name) < 0)
			break;
		if (asprintf(&owner, "%s/owner", path) < 0) {
			free(path);
			break;
		}
		bool stale;
		FILE *f = fopen(owner, "re");
		long pid = 0;
		if (f) {
			stale = fscanf(f, "%ld", &pid) == 1 && pid > 0 && kill((pid_t)pid, 0) != 0 &&
				errno == ESRCH;
			fclose(f);
		} else {
			stale = now - sb.st_mtime > 3600;
		}
		if (stale && (pid_t)pid != getpid()) {
			sl_proj_remove_tree(path);
			removed++;
		}
		free(owner);
		free(path);
	}
	closedir(d);
	return removed;
}

int sl_proj_copy_views(struct sl_proj *p)
{
	const char *tmp = getenv("TMPDIR");
	if (!tmp || !tmp[0])
		tmp = "/tmp";
	char *dir = NULL, *copy = NULL, *snap_from = NULL, *snap_to = NULL;
	int rc = SL_ENOMEM;
	/* The copies of readers killed before they could remove theirs. */
	sl_proj_sweep_copies(tmp);
	if (asprintf(&dir, "%s/" COPY_PREFIX "XXXXXX", tmp) < 0)
		goto nomem;
	if (!mkdtemp(dir)) {
		sl_proj_msg(p, "%s cannot be written here, and no private copy can be made: "
			    "%s: %s", p->db_path, dir, strerror(errno));
		free(dir);
		return SL_EIO;
	}
	p->copy_dir = dir;
	{
		/* Whose copy this is, for the sweep of a later reader. */
		char *owner = NULL;
		FILE *f = asprintf(&owner, "%s/owner", dir) >= 0 ? fopen(owner, "we") : NULL;
		if (f) {
			fprintf(f, "%ld\n", (long)getpid());
			fclose(f);
		}
		free(owner);
	}
	const char *base = strrchr(p->db_path, '/');
	base = base ? base + 1 : p->db_path;
	if (asprintf(&copy, "%s/%s", dir, base[0] ? base : "views.db") < 0 ||
	    asprintf(&snap_from, "%s.snapshots", p->db_path) < 0 ||
	    asprintf(&snap_to, "%s.snapshots", copy) < 0)
		goto nomem;
	rc = copy_db(p, p->db_path, copy);
	if (rc == SL_ENOTFOUND)
		rc = SL_OK;             /* no views yet: the copy starts empty */
	if (rc != SL_OK)
		goto out;
	/* Time travel goes without snapshot points it cannot copy. */
	char keep[sizeof p->errmsg];
	memcpy(keep, p->errmsg, sizeof keep);
	if (copy_db(p, snap_from, snap_to) != SL_OK) {
		for (size_t i = 0; i < N_FILE_SUFFIX; i++) {
			char *b = NULL;
			if (asprintf(&b, "%s%s", snap_to, file_suffix[i]) >= 0) {
				unlink(b);
				free(b);
			}
		}
	}
	memcpy(p->errmsg, keep, sizeof keep);
	p->orig_path = p->db_path;
	p->db_path = copy;
	copy = NULL;
	goto out;
nomem:
	sl_proj_msg(p, "out of memory making a private copy of %s", p->db_path);
	rc = SL_ENOMEM;
out:
	free(copy);
	free(snap_from);
	free(snap_to);
	return rc;
}
