/* keyframe.c: the keyframe's file (views.h, sl_keyframe_*()).
 *
 * The keyframe is a database of the views as of one snapshot point, as
 * `statelog at` writes one, kept at "<db>.keyframe".  The database as of a
 * point near it is a copy of it with what came after the point taken back,
 * or the projector's catch-up from its point on: both cost less than
 * starting from the live views when the point is far from their end
 * (asof.c; which way, history/timetravel.c).
 *
 * It is never written once it has its name: a new one is made beside it
 * and renamed over it, so a reader that opens it reads one moment of it.
 * Whether it is still right is asked of it each time it is used: its own
 * statelog_meta must name p's log, this views version and, as its
 * position, the point it is as of; and its point must be a sound snapshot
 * point of the log (the caller checks that through the snapshot store,
 * which checks the point's commit crc against the log).  A keyframe that
 * fails is left alone until the next one replaces it.
 */
#include "views_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *sl_keyframe_path(const sl_proj *p)
{
	char *path = NULL;
	if (asprintf(&path, "%s.keyframe", p->orig_path ? p->orig_path : p->db_path) < 0)
		return NULL;
	return path;
}

int sl_keyframe_read(sl_proj *p, struct sl_keyframe *out)
{
	char *path = sl_keyframe_path(p), *uri = NULL;
	char msg[512];
	sqlite3 *db = NULL;
	int rc;
	if (!path) {
		sl_proj_msg(p, "out of memory");
		return SL_ENOMEM;
	}
	if (access(path, F_OK) != 0) {
		rc = errno == ENOENT ? SL_ENOTFOUND : SL_EIO;
		if (rc == SL_EIO)
			sl_proj_msg(p, "%s: %s", path, strerror(errno));
		free(path);
		return rc;
	}
	/* Read-only, and immutable: nothing writes it, and no journal or lock
	 * is needed (it may sit in a directory we may only read). */
	struct sl_rows_meta m;
	if (!(uri = sqlite3_mprintf("file:%s?immutable=1", path))) {
		rc = SL_ENOMEM;
		snprintf(msg, sizeof msg, "out of memory");
	} else if (sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI |
				   SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		rc = db ? SL_ECORRUPT : SL_ENOMEM;
		snprintf(msg, sizeof msg, "%s", db ? sqlite3_errmsg(db) : "out of memory");
	} else if (sl_rows_read_meta(db, &m, msg, sizeof msg) != SL_OK) {
		rc = SL_ECORRUPT;
	} else if (!m.has_meta || strcmp(m.log_id, p->log_id) != 0) {
		rc = SL_ECORRUPT;
		snprintf(msg, sizeof msg, "not the views of this log");
	} else if (m.views_version != SL_VIEWS_VERSION) {
		rc = SL_ECORRUPT;
		snprintf(msg, sizeof msg, "views version %lld, not %d", (long long)m.views_version,
			 SL_VIEWS_VERSION);
	} else if (m.last_seq == 0 || m.as_of_seq != m.last_seq) {
		rc = SL_ECORRUPT;
		snprintf(msg, sizeof msg, "not a database as of its position");
	} else {
		rc = SL_OK;
		*out = (struct sl_keyframe){ .seq = m.last_seq, .crc = m.last_crc };
	}
	if (rc != SL_OK)
		sl_proj_msg(p, "%s: %s", path, msg);
	sqlite3_close(db);
	sqlite3_free(uri);
	free(path);
	return rc;
}

int sl_keyframe_install(sl_proj *p, const char *made)
{
	char *path = sl_keyframe_path(p);
	if (!path) {
		sl_proj_msg(p, "out of memory");
		return SL_ENOMEM;
	}
	int rc = SL_OK;
	if (rename(made, path) != 0) {
		sl_proj_msg(p, "renaming %s to %s: %s", made, path, strerror(errno));
		rc = SL_EIO;
	} else {
		sl_proj_remove_db_files(path, false);  /* journals SQLite would apply to it */
	}
	free(path);
	return rc;
}
