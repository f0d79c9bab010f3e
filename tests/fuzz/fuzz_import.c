/* fuzz_import.c: libFuzzer harness for the import of a database of the
 * original backend (projector/import_db.c, import.c): the input is a whole
 * SQLite file.  Reading it must end in an import or an error (not a
 * database, a damaged row, a newer version, ...): never a crash, a leak or
 * undefined behaviour; and whatever is imported must have passed the
 * import's own row-by-row comparison; and every descriptor is left as it
 * was (fdcheck.h).  The seed corpus (corpus/import/) is
 * small valid databases of schema versions 1 to 4, made with sqlite3 at a
 * 512-byte page size so that mutations reach the rows. */
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fdcheck.h"
#include "import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void remove_dir(void)
{
	nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!dir[0]) {
		const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
		snprintf(dir, sizeof(dir), "%s/sl-fuzz-import-XXXXXX", base);
		if (!mkdtemp(dir))
			abort();
		atexit(remove_dir);
	}
	struct fd_state fds;
	fd_state_take(&fds);
	char src[128], log[128], db[128], side[160];
	snprintf(src, sizeof(src), "%s/src.db", dir);
	snprintf(log, sizeof(log), "%s/out.log", dir);
	snprintf(db, sizeof(db), "%s/out.db", dir);
	int fd = open(src, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		abort();
	if (size && write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);

	sl_import *imp = NULL;
	if (sl_import_new(&imp, NULL) != SL_OK)
		abort();
	if (sl_import_read_db(imp, src) == SL_OK) {
		struct sl_import_report rep;
		int rc = sl_import_write(imp, log, db, &rep);
		/* A failed import leaves nothing behind (import.h). */
		if (rc != SL_OK && (access(log, F_OK) == 0 || access(db, F_OK) == 0))
			abort();
	}
	(void)sl_import_errmsg(imp);
	sl_import_free(imp);

	/* leave nothing behind for the next input */
	nftw(log, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	unlink(db);
	snprintf(side, sizeof(side), "%s-wal", db);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", db);
	unlink(side);
	snprintf(side, sizeof(side), "%s-journal", src);
	unlink(side);
	unlink(src);
	fd_state_check(&fds);
	return 0;
}
