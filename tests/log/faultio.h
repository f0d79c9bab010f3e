/* faultio.h: an I/O seam for tests (log/io.h) that injects failures and
 * records every write and fsync, to build the images a power loss could
 * leave behind. */
#ifndef SL_TEST_FAULTIO_H
#define SL_TEST_FAULTIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>

#include "io.h"

struct fio {
	struct sl_io io;          /* pass &f->io as the log's io */
	pthread_mutex_t mu;       /* the log calls from several threads */
	/* failures: the n-th call (1-based, counted from arming) fails */
	uint64_t writes, syncs;   /* calls so far */
	uint64_t fail_write_at;   /* 0: never */
	int write_errno;          /* ENOSPC, EIO, ... */
	bool short_first;         /* write half of the buffer before failing */
	uint64_t fail_sync_at;
	const char *fail_create;  /* fail creating files whose name ends so */
	/* recording */
	bool record;
	struct fio_op *ops;
	size_t nops, capops;
	struct fio_file *files;
	size_t nfiles, capfiles;
	int fd_file[4096];        /* fd -> file id + 1, 0 when untracked */
	/* Crash images may also lose renames and unlinks that no fsync of
	 * their directory followed (each such one, at random: kept or lost,
	 * the file then keeping its old name).  Off by default. */
	bool lose_renames;
	struct fio_dirfd *dirfds; /* open directories, for their fsyncs */
	size_t ndirfds, capdirfds;
	uint64_t dirsyncs;        /* directory fsyncs recorded */
};

void fio_init(struct fio *f);
void fio_free(struct fio *f);

/* Number of operations recorded so far (a crash point is a prefix). */
size_t fio_ops(const struct fio *f);

/* Builds in `dir` (an empty directory) the files as a power loss after the
 * first `upto` operations could leave them: everything an fsync covered,
 * and of each later write, at random: nothing, all of it, or some of its
 * 512-byte sectors (what is lost reads as zeros).  With lose_renames, a
 * rename or unlink that no fsync of its directory followed before the crash
 * point is, at random, undone.  seed picks the outcome. */
void fio_crash_image(const struct fio *f, size_t upto, uint64_t seed, const char *dir);

/* Renames and unlinks that fio_crash_image() undone so far (lose_renames),
 * for a campaign's statistics. */
extern size_t fio_renames_lost;

#endif
