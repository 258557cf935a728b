/*
 * greydb.h: the shared GDBM database, one short transaction at a time.
 *
 *	greydb_open(path, mode, wait_ms)	lock <path>.lock (shared for
 *		GREYDB_READ, exclusive for GREYDB_WRITE), then open GDBM
 *		without its own lock. wait_ms bounds the lock wait (0 = try
 *		once, -1 = forever). NULL on failure; see greydb_errstr().
 *	greydb_get(db, key, keylen, rec)	GREYDB_OK, GREYDB_NOTFOUND,
 *		GREYDB_CORRUPT (logged; treat as absent) or -1
 *	greydb_found(db, key, keylen, rec)	for a caller about to write the
 *		record: 1 if rec holds it, 0 if absent or corrupt (logged:
 *		the new record replaces it), -1 on error
 *	greydb_put(db, key, keylen, rec)	0 or -1 (GREYDB_WRITE only)
 *	greydb_del(db, key, keylen)	GREYDB_OK, GREYDB_NOTFOUND or -1
 *	greydb_walk(db, fn, arg)	call fn for every record; fn gets
 *		rec == NULL and a reason for a corrupt record (already
 *		logged). fn returns GREYDB_KEEP, GREYDB_DELETE (deferred
 *		until the walk ends) or GREYDB_STOP.
 *	greydb_reorganize(db)	compact the file (GREYDB_WRITE only)
 *	greydb_close(db)	writers sync first; then unlock. -1 if the
 *		sync failed: the transaction may be lost, say so.
 *	greydb_commit(db, how)	writers: let go of the lock, but keep
 *		the GDBM handle and its cache for the next transaction. The
 *		stores are in the file for every reader either way. How
 *		long they may wait for the disk: GREYDB_FSYNC, not at all
 *		(the database is fsynced); GREYDB_DURABLE, not at all, but
 *		an fsync of the journal may stand for the database's while
 *		the lag field says a reboot rebuilds from it (the database's
 *		fsync is left to greydb_sync); GREYDB_LAZY, until greydb_sync
 *		(or the close), so a crash of the machine (not of the
 *		process: the journal covers that) could lose them
 *	greydb_sync(db)	make what earlier commits left unsynced durable
 *		(fsync); no lock needed. 0, or -1 (greydb_errstr says)
 *	greydb_unsynced(db)	1 if a commit left stores to sync
 *	greydb_resume(db, wait_ms)	take the lock again; the handle is
 *		reused only if no other process wrote meanwhile (a write
 *		generation in the lock file, and the file's inode, say so),
 *		else reopened. -1 if the lock could not be had in time.
 *	greydb_trapgen(db)	the spamtrap generation of the lock file, as
 *		it was when the handle took the lock: every greydb_put of a
 *		SPAMTRAP record bumps it (once per transaction, before the
 *		store), so a process that counted the spamtraps with a walk
 *		knows its count still holds while the value is the same
 *	greydb_quiet(db, on)	do not log corrupt records (a caller
 *		that re-reads what its walk already reported)
 *	greydb_disk_usage(path, u)	bytes on disk of the database, its
 *		checkpoint and its journal (a missing file counts 0; links
 *		are not followed). 0, or -1 with errno (greydb_errstr says)
 *	greydb_errstr()		the last error, in a static buffer that the
 *		next failing call overwrites
 *
 * A writer that dies (kill -9) leaves a mark in the lock file; the next
 * opener rebuilds the file from the checkpoint and journal that writers
 * keep beside it (journal.h), or runs gdbm_recover when there are none,
 * before anything else. Files created or
 * rebuilt by root take the owner of their directory, so the unprivileged
 * daemon can still write them. No file beside the database is opened
 * through a symlink or a second hard link (DESIGN.md §4.3); root-run
 * programs also call statedir_enter() first (statedir.h).
 */
#ifndef GREYDB_H
#define GREYDB_H

#include <stddef.h>
#include <stdint.h>

#include "common/gdata.h"

enum greydb_mode {
	GREYDB_READ,
	GREYDB_WRITE,
};

#define GREYDB_OK	0
#define GREYDB_NOTFOUND	1
#define GREYDB_CORRUPT	2

#define GREYDB_KEEP	0
#define GREYDB_DELETE	1
#define GREYDB_STOP	2

#define GREYDB_LAZY	0	/* greydb_commit: the disk may lag */
#define GREYDB_FSYNC	1	/* the database is on the disk */
#define GREYDB_DURABLE	2	/* on the disk, maybe as the journal */

#define GREYDB_WAIT	10000	/* default lock wait for tools, ms */

struct greydb;

struct greydb_usage {
	int64_t	db, ckpt, journal;	/* st_size of each file */
};

typedef int (*greydb_walk_fn)(const char *, size_t, const struct gd_rec *,
    const char *, void *);

struct greydb *greydb_open(const char *, enum greydb_mode, int);
int	greydb_get(struct greydb *, const char *, size_t, struct gd_rec *);
int	greydb_found(struct greydb *, const char *, size_t, struct gd_rec *);
int	greydb_put(struct greydb *, const char *, size_t,
	    const struct gd_rec *);
int	greydb_del(struct greydb *, const char *, size_t);
int	greydb_walk(struct greydb *, greydb_walk_fn, void *);
int	greydb_reorganize(struct greydb *);
int	greydb_close(struct greydb *);
int	greydb_commit(struct greydb *, int);
int	greydb_sync(struct greydb *);
int	greydb_unsynced(const struct greydb *);
int	greydb_resume(struct greydb *, int);
uint64_t greydb_trapgen(const struct greydb *);
void	greydb_quiet(struct greydb *, int);
int	greydb_disk_usage(const char *, struct greydb_usage *);
const char *greydb_errstr(void);

#endif /* GREYDB_H */
