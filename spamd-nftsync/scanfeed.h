/*
 * scanfeed.h: the database pass of spamd-nftsync in a child process,
 * feeding the live WHITE addresses to the parent as it finds them.
 *
 * The pass must run as the owner of the database's directory
 * (common/statedir.h), and nftables must be written with CAP_NET_ADMIN
 * effective, and a process has one effective uid for all its threads.
 * So the child becomes the owner for good and walks (greyscan_stream),
 * and the parent, still root, fills an empty set while the walk goes on:
 * the kernel's insertion overlaps the walk instead of following it.
 *
 *	scanfeed_start(sf, dbpath, now, params, flags, yield)	fork the
 *		child; 0, or -1 logged. With yield (a set is being filled)
 *		and CAP_SYS_NICE the child runs at idle priority
 *		(SCHED_IDLE) until the parent has waited YIELD_WAIT_MS for
 *		it once: the walk runs
 *		ahead, and the kernel's insertion and its resize worker
 *		should not share a core with it meanwhile
 *	scanfeed_next(sf, &w, wait)	1: w is the next WHITE address; 0:
 *		the pass is over and sf->res holds its counts (no arrays);
 *		-1: the pass failed (the child said why on stderr);
 *		SCANFEED_LATER: nothing more has come yet (only when wait
 *		is 0; else it waits for the child)
 *	scanfeed_finish(sf)	reap the child; 0 if it succeeded, else -1.
 *		Call it on every path after a successful start.
 */
#ifndef SCANFEED_H
#define SCANFEED_H

#include <sys/types.h>

#include <stdint.h>

#include "common/greyscan.h"

struct scanfeed {
	pid_t			 pid;
	int			 fd;		/* the pipe: lengths */
	int			 mfd;		/* the memfd: records */
	int			 done, eof;
	int			 yielding;	/* the child is SCHED_IDLE */
	uint64_t		 avail;		/* the memfd's length */
	uint64_t		 rd;		/* read up to here */
	uint64_t		 punched;	/* freed up to here */
	struct greyscan_res	 res;	/* counts only */
	unsigned char		*buf;
	size_t			 off, len;
};

int	scanfeed_start(struct scanfeed *, const char *, int64_t,
	    const struct greylist_params *, int, int);
#define SCANFEED_LATER	2

int	scanfeed_next(struct scanfeed *, struct greyscan_addr *, int);
int	scanfeed_finish(struct scanfeed *);

#endif /* SCANFEED_H */
