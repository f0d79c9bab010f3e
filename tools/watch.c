/* watch.c: waiting for a log to change, for the commands that follow one
 * (`project --follow`, `dump --follow`).  The file system wakes the wait
 * (inotify on the log's directory: a commit written to a segment, a
 * segment created or renamed by a roll, a writer's restart), never a timer;
 * SIGINT and SIGTERM end it cleanly.  The signals are blocked outside the
 * wait and let in only by ppoll(), so one that arrives between two waits is
 * never lost. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "cli.h"

static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
	stop_signal = sig;
}

int cli_watch_open(struct cli_watch *w, const char *dir, char *err, size_t errlen)
{
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->fd < 0) {
		snprintf(err, errlen, "inotify: %s", strerror(errno));
		return -1;
	}
	if (inotify_add_watch(w->fd, dir, IN_MODIFY | IN_CLOSE_WRITE | IN_CREATE | IN_MOVED_TO |
			      IN_DELETE_SELF | IN_MOVE_SELF) < 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		close(w->fd);
		return -1;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigset_t block;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &w->old_mask);
	return 0;
}

int cli_watch_wait(struct cli_watch *w)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	for (;;) {
		if (stop_signal)
			return 0;
		struct pollfd pfd = { .fd = w->fd, .events = POLLIN };
		int n = ppoll(&pfd, 1, NULL, &w->old_mask);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		bool changed = false, gone = false;
		ssize_t len;
		while ((len = read(w->fd, buf, sizeof buf)) > 0) {
			for (char *p = buf; p < buf + len;) {
				const struct inotify_event *e = (const struct inotify_event *)p;
				if (e->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED))
					gone = true;
				changed = true;
				p += sizeof *e + e->len;
			}
		}
		if (gone) {
			errno = ENOENT;
			return -1;
		}
		if (changed)
			return 1;
	}
}

void cli_watch_close(struct cli_watch *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	sigprocmask(SIG_SETMASK, &w->old_mask, NULL);
}

int cli_watch_signal(void)
{
	return stop_signal;
}
