/*
 * greyaddr.h: the greylister's per-address accounting, so that one
 * client cannot fill the database or the queue (issue 15). An "address"
 * is an IPv4 address or an IPv6 /64 (one host's usual allocation).
 *
 *	greyaddr_init(lim)	set the limits; forget everything
 *	greyaddr_load_rec(key, keylen, rec, now)	count one database
 *		record (a greydb_walk at start: live GREY tuples only)
 *	greyaddr_new_ok(a, now, mono_ms)	may address a record one more
 *		new tuple? GREYADDR_OK, or why not (the live tuple bound,
 *		the rate bound); a GREYADDR_OK takes one token of the rate
 *	greyaddr_added(a, expire)	a new tuple of a was recorded
 *	greyaddr_live(a, now)	its live GREY tuples (an upper bound: tuples
 *		deleted by others before they expire are still counted)
 *	greyaddr_heaviest(now)	the largest greyaddr_live of all
 *	greyaddr_refused(a, why)	count a refusal, for greyaddr_report
 *	greyaddr_report(fn, arg)	call fn for each address refused since
 *		the last report (at most GREYADDR_REPORT_MAX, heaviest first),
 *		with its counts; then reset them
 *	greyaddr_queue_add(a, share)	1 and count one queued tuple of a if
 *		a holds fewer than share; 0 when a has its share
 *	greyaddr_queue_del(a)	one queued tuple of a left the queue
 *
 * Live tuples are counted in GREYADDR_SLOTS buckets by expiry, so no
 * per-tuple memory is kept and expiry needs no scan. The table holds at
 * most GREYADDR_MAX addresses; when full, idle entries are dropped, and
 * an address that finds no room is not limited (the database size bound
 * still is).
 */
#ifndef GREYADDR_H
#define GREYADDR_H

#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "common/gdata.h"

#define GREYADDR_MAX		(256u * 1024)	/* addresses tracked */
#define GREYADDR_REPORT_MAX	5		/* addresses per report */

enum greyaddr_why {
	GREYADDR_OK,
	GREYADDR_LIVE,		/* --grey-max-tuples */
	GREYADDR_RATE,		/* --grey-max-rate */
	GREYADDR_DBFULL,	/* --db-max-size, heaviest first */
	GREYADDR_QUEUE,		/* its share of the queue */
	GREYADDR_NWHY
};

struct greyaddr_limits {
	uint32_t	max_live;	/* 0 = no bound */
	uint32_t	rate_n;		/* new tuples per rate_period; 0 = none */
	int64_t		rate_period;	/* seconds */
	int64_t		greyexp;	/* lifetime of a GREY tuple, seconds */
};

struct greyaddr_stat {
	struct addr	a;		/* IPv6: the /64 */
	uint32_t	live;
	unsigned long	refused[GREYADDR_NWHY];
};

typedef void (*greyaddr_report_fn)(const struct greyaddr_stat *, void *);

extern const char *const greyaddr_why_name[GREYADDR_NWHY];

void	greyaddr_init(const struct greyaddr_limits *);
void	greyaddr_load_rec(const char *, size_t, const struct gd_rec *,
	    int64_t);
enum greyaddr_why greyaddr_new_ok(const struct addr *, int64_t, uint64_t);
void	greyaddr_added(const struct addr *, int64_t);
uint32_t greyaddr_live(const struct addr *, int64_t);
uint32_t greyaddr_heaviest(int64_t);
void	greyaddr_refused(const struct addr *, enum greyaddr_why);
size_t	greyaddr_report(int64_t, greyaddr_report_fn, void *);
int	greyaddr_queue_add(const struct addr *, uint32_t);
void	greyaddr_queue_del(const struct addr *);

#endif /* GREYADDR_H */
