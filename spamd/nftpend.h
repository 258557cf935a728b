/*
 * nftpend.h: what the nft helper decides, apart from talking to the
 * kernel: the WHITE additions waiting for nftables, the whole whitelist
 * being received for a replace, when to try again after a failure, and
 * when to ask the greylister for the whole list (RESYNC). nfthelper.c
 * passes the netlink work in as a callback; times come from
 * common/clock.c, so tests/unit/t_nftpend.c runs it on the fake clock.
 *
 *	nftpend_new(conf)		nothing pending
 *	nftpend_add(p, e, n)		WHITE entries to add; due at once unless
 *		nftables is failing. Beyond pending_max they are dropped
 *		(logged, rate-limited) and a resync is asked for once
 *		nftables works again, which restores them
 *	nftpend_replace_begin(p), nftpend_replace_add(p, e, n),
 *	nftpend_replace_end(p)		a whole whitelist; the end applies it
 *		at once (a replace holds every pending addition too)
 *	nftpend_watch(p, ok, sig)	what the watch read: ok 0 if the
 *		signature could not be read, else the table's signature now.
 *		1 if it changed since the last read (the ruleset was
 *		reloaded, or the table came back: the sets are empty): a
 *		resync is asked for at once
 *	nftpend_timeout(p)		ms until nftpend_run has due work, -1
 *	nftpend_run(p)			push the due additions
 *	nftpend_pending(p), nftpend_failing(p)
 *	nftpend_free(p)
 *
 * A failed push keeps its entries and is retried after retry_min_ms,
 * doubled up to retry_max_ms. A failure that says the table or a set is
 * missing (or a failed replace, or dropped entries) makes the next
 * success ask for a resync; with nothing to add, the retry is that
 * resync itself, and the REPLACE it brings is the probe; but while the
 * table or a set is missing and the watch can read the signature, no
 * probe is sent (each costs the greylister a walk of the database): the
 * signature's change says when it is back. "cannot update
 * nftables" is logged on the first failure, "works again" on recovery.
 */
#ifndef NFTPEND_H
#define NFTPEND_H

#include <stddef.h>
#include <stdint.h>

#include "spamd/proto.h"

#define NFTPEND_RETRY_MIN	500		/* ms */
#define NFTPEND_RETRY_MAX	30000
#define NFTPEND_MAX		1000000		/* addresses waiting */

/*
 * Add (replace 0) or replace (1) the white sets with these entries.
 * 0, or -1 with *why set; *missing = 1 when the table or a set is absent.
 */
typedef int (*nftpend_apply_fn)(void *, const struct proto_entry *, size_t,
    int, const char **, int *);
/* Ask the greylister for the whole whitelist. */
typedef void (*nftpend_resync_fn)(void *);

struct nftpend_conf {
	size_t			 pending_max;
	uint64_t		 retry_min_ms, retry_max_ms;
	nftpend_apply_fn	 apply;
	nftpend_resync_fn	 resync;
	void			*arg;
};

struct nftpend;

struct nftpend	*nftpend_new(const struct nftpend_conf *);
void		 nftpend_add(struct nftpend *, const struct proto_entry *,
		    size_t);
void		 nftpend_replace_begin(struct nftpend *);
void		 nftpend_replace_add(struct nftpend *,
		    const struct proto_entry *, size_t);
void		 nftpend_replace_end(struct nftpend *);
int		 nftpend_watch(struct nftpend *, int, uint64_t);
int64_t		 nftpend_timeout(const struct nftpend *);
void		 nftpend_run(struct nftpend *);
size_t		 nftpend_pending(const struct nftpend *);
int		 nftpend_failing(const struct nftpend *);
void		 nftpend_free(struct nftpend *);

#endif /* NFTPEND_H */
