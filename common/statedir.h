/*
 * statedir.h: root works in the database's directory only as its owner.
 *
 * The state directory (/var/lib/spamd) belongs to the service user, who
 * can plant symlinks and hard links under any name there. Programs run
 * as root (spamd at start-up, spamdb, spamd-nftsync from cron) therefore
 * switch to the directory's owner before they touch anything in it; what
 * that user cannot reach, they cannot be tricked into writing, chowning
 * or reading. See DESIGN.md §4.3.
 *
 *	statedir_enter(dbpath, how)	if running as root and the directory
 *		of dbpath belongs to another user, become that user (groups,
 *		effective gid and uid; the filesystem ids follow). how is
 *		STATEDIR_FOR_GOOD (real and saved ids too: no way back) or
 *		STATEDIR_FOR_NOW (real and saved ids stay root, so that
 *		statedir_leave can return; the process is not dumpable and
 *		the owner cannot signal or ptrace it meanwhile). Refuses a
 *		directory that others than its owner may write (world-writable,
 *		or root's but group-writable by a non-root group), and one
 *		whose owner has no passwd entry. 0 done (or nothing to do),
 *		-1 with the reason logged.
 *	statedir_leave()	back to root after STATEDIR_FOR_NOW; 0 or -1
 *		(logged). Nothing to do if enter did not switch.
 *	statedir_owner(&uid, &gid)	the ids we switched to; 0 if we did,
 *		-1 if we are working as ourselves
 *
 * Not thread-safe; call at start-up or between transactions.
 */
#ifndef STATEDIR_H
#define STATEDIR_H

#include <sys/types.h>

#define STATEDIR_FOR_NOW	0
#define STATEDIR_FOR_GOOD	1

int	statedir_enter(const char *, int);
int	statedir_leave(void);
int	statedir_owner(uid_t *, gid_t *);

#endif /* STATEDIR_H */
