/*
 * greyscan.h: one housekeeping pass over the database, shared by
 * spamd-nftsync (the cron job) and spamd's greylister (which only reads).
 *
 *	greyscan_run(dbpath, now, params, flags, &res)
 *		GREYSCAN_CHANGE: delete expired (and corrupt) records, and
 *		create the WHITE record of every passed tuple whose address
 *		has no address record yet (a TRAPPED address stays trapped).
 *		Without it the pass only reads. Either way res receives the
 *		live WHITE and TRAPPED addresses with their expiry, and
 *		counts. 0, or -1 with greydb_errstr() (or errno ENOENT if
 *		the database does not exist).
 *	greyscan_stream(dbpath, now, params, flags, &res, fn, arg)
 *		the same, calling fn(arg, w) for each live WHITE address as
 *		it is found (those of the walk, then the promoted ones), so
 *		a caller can act on them while the walk goes on; fn returns
 *		0, or -1 (errno set) to stop the pass, which then fails.
 *		res->white stays empty (res->nwhite counts what was told):
 *		fn must copy what it keeps
 *	greyscan_free(&res)
 *	greyscan_addr_add(&v, &n, &cap, key, keylen, expire)	append the
 *		address (or network) a key starts with to a growing array (a
 *		key that is neither is skipped); 0, or -1 out of memory
 *
 * The walk runs under the shared lock, so spamd keeps writing meanwhile;
 * the changes are then made under the exclusive lock in chunks of
 * GREYSCAN_CHUNK, each candidate re-read and re-checked first, so an
 * exclusive hold lasts milliseconds even on a database of millions
 * (spec/linux-libraries.md §4.5).
 */
#ifndef GREYSCAN_H
#define GREYSCAN_H

#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "common/greylist.h"

#define GREYSCAN_CHANGE	0x01
#define GREYSCAN_CHUNK	1000

struct greyscan_addr {
	struct addr	a;
	int64_t		expire;
	uint8_t		plen;		/* a network's (spamd -g); 0: one address */
};

struct greyscan_res {
	struct greyscan_addr	*white, *trapped;
	size_t			 nwhite, ntrapped;
	size_t			 capwhite, captrapped;
	size_t			 records;	/* seen by the walk */
	size_t			 expired;	/* deleted (or to delete) */
	size_t			 corrupt;	/* deleted (or to delete) */
	size_t			 promoted;	/* WHITE records created */
	size_t			 grey;		/* live GREY tuples */
	size_t			 spamtraps;
	int			 reorganized;
};

typedef int (*greyscan_fn)(void *, const struct greyscan_addr *);

int	greyscan_run(const char *, int64_t, const struct greylist_params *,
	    int, struct greyscan_res *);
int	greyscan_stream(const char *, int64_t, const struct greylist_params *,
	    int, struct greyscan_res *, greyscan_fn, void *);
void	greyscan_free(struct greyscan_res *);
int	greyscan_addr_add(struct greyscan_addr **, size_t *, size_t *,
	    const char *, size_t, int64_t);

#endif /* GREYSCAN_H */
