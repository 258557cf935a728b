/*
 * refresh.h: spamlogd's queue of addresses seen in SMTP traffic, written
 * to the database in batches and pushed to the nft white sets.
 *
 *	refresh_new(conf)	allocate every queue up front (bounded memory)
 *	refresh_add(r, addr)	queue one sighting; 0, or -1 when the queue
 *		is full (logged, rate-limited, the sighting is dropped)
 *	refresh_timeout(r)	ms until refresh_run has due work, -1 if idle
 *	refresh_run(r, force)	do the due work: one database transaction
 *		for the whole queue, then one nft push per address family.
 *		force ignores the collection window and back-off and waits
 *		final_wait_ms for the lock (the exit path).
 *	refresh_queued(r, &nft)	addresses waiting for the database; *nft
 *		gets the elements waiting for nft
 *	refresh_free(r)
 *	refresh_whiteexp(s, &secs, &errstr)	parse -W: hours as in OpenBSD
 *		(1..2160), or a duration with an s/m/h/d suffix in the same
 *		range (1h..90d); 0 or -1 with errstr
 *
 * Record rule: greylist_refresh() once per sighting, so a new address
 * gets a WHITE record (bcount 1, pcount 0) and every sighting of a WHITE
 * one adds 1 to pcount and moves expire to now + whiteexp. A TRAPPED
 * record stays TRAPPED and is not pushed to nft. Only WHITE/TRAPPED keys
 * (bare addresses, or with -g the WHITE networks of spamd -g) are ever
 * read or written, so GREY tuples are never touched. With -g, a host
 * whose network is WHITE renews the network's record and its element of
 * spamd_whitenet(6) (the push gets elements with plen set), not one of
 * its own.
 *
 * Failure handling: if the database cannot be locked within
 * lock_wait_ms or cannot be written, the queue is kept and retried with
 * a doubling back-off (250 ms .. 8 s); if the nft push fails, its
 * elements are kept and retried (1 s .. 60 s). Both queues hold at most
 * queue_max addresses; beyond that new sightings are dropped and logged.
 * Nothing here is fatal. Times come from common/clock.c, so tests drive
 * them with clock_fake_*().
 */
#ifndef REFRESH_H
#define REFRESH_H

#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "nft/nft.h"

/*
 * Push elements to the white set of family af (AF_INET or AF_INET6),
 * refreshing their timeouts. Returns what nft_add returns: 0, a count of
 * individually rejected elements (dropped), or -1 with *errstr set.
 */
typedef int (*refresh_push_fn)(void *, int, const struct nft_elem *, size_t,
    const char **);

struct refresh_conf {
	const char	*dbpath;
	int64_t		 whiteexp;	/* seconds */
	int		 lock_wait_ms;	/* bounded lock wait per attempt */
	int		 final_wait_ms;	/* lock wait of a forced run (exit) */
	uint64_t	 window_ms;	/* collect sightings at most this long */
	size_t		 batch_max;	/* write at once when this many wait */
	size_t		 queue_max;	/* bound on each queue */
	refresh_push_fn	 push;		/* NULL: no nft (savefile replay) */
	void		*push_arg;
	unsigned int	 group4, group6; /* spamd -g; 0: exact addresses */
	/* spamlogd -Y: each refreshed WHITE address, with its new expiry. */
	void		(*sync_white)(void *, const struct addr *, int64_t);
	void		*sync_arg;
};

#define REFRESH_WINDOW_MS	200
#define REFRESH_BATCH_MAX	64
#define REFRESH_QUEUE_MAX	8192
#define REFRESH_LOCK_WAIT_MS	100
#define REFRESH_FINAL_WAIT_MS	2000
#define REFRESH_WHITEEXP_MIN	3600		/* 1 hour */
#define REFRESH_WHITEEXP_MAX	(2160 * 3600)	/* 90 days */

struct refresh;

struct refresh	*refresh_new(const struct refresh_conf *);
int		 refresh_add(struct refresh *, const struct addr *);
int64_t		 refresh_timeout(const struct refresh *);
void		 refresh_run(struct refresh *, int);
size_t		 refresh_queued(const struct refresh *, size_t *);
void		 refresh_free(struct refresh *);
int		 refresh_whiteexp(const char *, int64_t *, const char **);

#endif /* REFRESH_H */
