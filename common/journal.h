/*
 * journal.h: a checkpoint and a redo journal beside the database, so that
 * a writer killed in the middle of a transaction loses nothing committed.
 *
 * GDBM is not crash-atomic: a writer that dies inside GDBM's own write of
 * a bucket can leave records that gdbm_recover cannot find, sometimes
 * without saying so. Beside <db> lie <db>.ckpt, a copy of the database
 * in a committed state, and <db>.journal, every committed change since
 * that copy. A rebuild copies the checkpoint and replays the journal,
 * which gives exactly the last committed state. Replaying changes that
 * the checkpoint already holds is harmless (the last change to a key
 * wins), so no step of the checkpoint needs to be atomic with another.
 *
 * All calls are made by a writer holding the exclusive lock.
 *
 *	journal_new(dbpath)	NULL only when out of memory
 *	journal_put(j, key, keylen, val, vallen), journal_del(j, key, keylen)
 *		buffer one change of the open transaction
 *	journal_ready(j)	before a transaction on a committed database:
 *		make the checkpoint if there is none (or protection was lost)
 *	journal_append(j)	write the buffered transaction to the journal
 *	journal_sync(j, locked)	fdatasync the journal (before the database
 *		is synced while a reboot would rebuild from it); 0, or -1:
 *		protection goes off if locked, else nothing changes (the
 *		caller does not hold the lock: not its files to remove)
 *	journal_active(j)	1 while the checkpoint and journal are kept
 *	journal_trim(j)	after the commit's frame is appended (the database
 *		may not be synced yet): a new checkpoint once the journal
 *		outgrows the database (at least 4 MB) or reaches 64 MB.
 *		Whenever the checkpoint or the journal is removed (protection
 *		off, a fresh checkpoint), the database is fsynced first: a
 *		commit may be on the disk only in the journal
 *	journal_rebuild(dbpath, msg, len)	rebuild <db> from the checkpoint
 *		and the journal; 0 done (msg says what), 1 no usable
 *		checkpoint (msg says why), -1 failed (msg says why)
 *	journal_free(j)
 *
 * Any failure to write the journal or the checkpoint switches protection
 * off: the checkpoint is removed first (a stale checkpoint with a short
 * journal would roll the database back), the reason is logged once, and
 * the next transaction tries again. Without a checkpoint a crash falls
 * back to gdbm_recover.
 */
#ifndef JOURNAL_H
#define JOURNAL_H

#include <stddef.h>

struct journal;

struct journal	*journal_new(const char *);
void		 journal_free(struct journal *);
void		 journal_put(struct journal *, const void *, size_t,
		    const void *, size_t);
void		 journal_del(struct journal *, const void *, size_t);
void		 journal_ready(struct journal *);
void		 journal_append(struct journal *);
int		 journal_sync(struct journal *, int);
int		 journal_active(const struct journal *);
void		 journal_trim(struct journal *);
int		 journal_rebuild(const char *, char *, size_t);

#endif
