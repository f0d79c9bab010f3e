/* fdcheck.h: what a harness checks around each input besides memory: the
 * code under test must leave the process's descriptors as it found them,
 * none leaked and none of the caller's closed (a failed sl_log_open() once
 * closed standard input).  A difference aborts, so libFuzzer reports the
 * input as a crash. */
#ifndef SL_FUZZ_FDCHECK_H
#define SL_FUZZ_FDCHECK_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

struct fd_state {
	int open;                  /* entries of /proc/self/fd */
	struct stat std[3];        /* what 0, 1 and 2 are (st_ino 0: closed) */
};

static void fd_state_take(struct fd_state *s)
{
	s->open = 0;
	DIR *d = opendir("/proc/self/fd");
	if (d) {
		while (readdir(d))
			s->open++;
		closedir(d);
	}
	for (int fd = 0; fd < 3; fd++)
		if (fstat(fd, &s->std[fd]) != 0)
			s->std[fd].st_ino = 0;
}

static void fd_state_check(const struct fd_state *before)
{
	struct fd_state now;
	fd_state_take(&now);
	if (now.open != before->open) {
		fprintf(stderr, "fdcheck: %d descriptors open before the input, %d after\n",
			before->open, now.open);
		abort();
	}
	for (int fd = 0; fd < 3; fd++)
		if (now.std[fd].st_ino != before->std[fd].st_ino ||
		    now.std[fd].st_dev != before->std[fd].st_dev) {
			fprintf(stderr, "fdcheck: descriptor %d changed under the input\n", fd);
			abort();
		}
}

#endif
