/*
 * greyq.h: the greylister's queue of tuples and what it decides: when a
 * batch is written, what it writes, what a refused or failed write does,
 * and which addresses a committed batch whitelists or traps. No process,
 * channel or event loop here: grey.c owns those and passes the effects
 * on; times come from common/clock.c, so unit tests run it on the fake
 * clock (tests/unit/t_greyq.c).
 *
 *	greyq_new(conf)		an empty queue; a zero queue_max, txn_max,
 *		retry_min_ms or retry_max_ms takes the GREYQ_ default
 *	greyq_add(q, tuple)	queue one tuple; 0, or -1 when it was refused
 *		(the address has its share of a half-full queue: counted for
 *		the refusal report) or dropped (the queue is full: logged)
 *	greyq_timeout(q)	ms until greyq_run has due work, -1 if none
 *	greyq_run(q, force)	do the due work: write a batch of at most
 *		txn_max tuples in one transaction, report refusals. force
 *		writes even during the back-off (the exit path)
 *	greyq_queued(q)		tuples waiting for the database
 *	greyq_failing(q)	1 while the database refuses the batches
 *	greyq_unsynced(q)	1 while committed tuples wait for their fsync
 *	greyq_free(q)		close the database, report what was refused
 *
 * Batches: a tuple is due at once, unless the database is failing, or
 * the last commit carried more than one tuple and was less than
 * commit_min_ms ago (a steady stream: then it waits for the rest of
 * that), or the greylister is under load
 * (its last commit carried busy_batch tuples or more, and was less than
 * commit_gap_ms ago): then it waits for the end of that gap, so commits
 * come at most every commit_gap_ms with all that arrived meanwhile.
 * A commit that passes or traps (the nft sets, the trap list, a policy
 * "pass") waits until it is on the disk (the journal's fdatasync, or
 * the database's fsync; greydb_commit GREYDB_DURABLE); one of new or
 * counted tuples only (and of the policy answers about them) is in the
 * file for every reader at once and reaches the disk sync_gap_ms after
 * the first unsynced one at the latest (greyq_run does it;
 * greyq_timeout counts it): the fsync of a random bucket page per new
 * tuple was the largest cost, and a crash of the machine then loses at most sync_gap_ms of
 * greylisting, a crash of the process nothing. When tuples come one by
 * one (further apart than an msync, or than commit_min_ms), each is
 * committed at once, so a passing retry is whitelisted without delay. A
 * batch that cannot lock, write or sync the database stays queued, whole,
 * and is retried after retry_min_ms, doubled up to retry_max_ms (each
 * state change logged once). A tuple is removed only after the
 * transaction holding it was committed; then, and only then, the
 * effects go out: GREYQ_WHITE with the addresses that passed (or WHITE
 * hosts that still come to spamd), GREYQ_TRAP with the trapped ones.
 *
 * Entries from sync peers (issue 19; proto_tuple.sync) go through the
 * same queue: a GREY like a local tuple (the receiver's clock, as
 * OpenBSD; but a catch-up GREY, stamped more than GREYQ_SYNC_LIVE s ago,
 * only creates a missing tuple with that first sighting, never counts as
 * a retry); a WHITE whose expiry is ahead creates the WHITE record (an
 * existing one counts a pass, its expiry kept) and goes to the nft sets;
 * a TRAPPED one traps. None is sent on (sync_out).
 *
 * Policy tuples (policy mode, issue 22) go through the same queue and
 * transactions; each gets one verdict (polreq.h), passed to the verdict
 * callback once its transaction is committed, or at once if the queue
 * refused it. A policy tuple is due at once, load or not: its client
 * waits for the answer, so the commit gap would cap a connection at one
 * request per gap; commits then follow each other, each carrying what
 * queued during the last.
 *
 * Bounds (issue 15): once the queue is half full, an address may hold no
 * more than queue_max / 64 of it; greyaddr.c bounds its live tuples and
 * their rate; the database files stay under db_max_size (above
 * GREYQ_SOFT_PCT, new tuples of the heaviest addresses are refused, near
 * GREYQ_FULL_PCT every new one is, probing whether expiry made room).
 * Known tuples, traps and WHITE hosts are never refused. Refusals are
 * reported at most every GREYQ_REPORT_MS, per address, with counts.
 */
#ifndef GREYQ_H
#define GREYQ_H

#include <stddef.h>
#include <stdint.h>

#include "common/greydb.h"
#include "common/greylist.h"
#include "spamd/proto.h"

#define GREYQ_QUEUE_MAX	200000		/* tuples waiting for the database */
#define GREYQ_TXN_MAX	2000		/* tuples per transaction */
#define GREYQ_LOCK_WAIT	200		/* ms to wait for the lock */
#define GREYQ_RETRY_MIN	100		/* ms, doubled up to GREYQ_RETRY_MAX */
#define GREYQ_RETRY_MAX	10000
#define GREYQ_COMMIT_MIN 2		/* ms between commits, at least */
#define GREYQ_COMMIT_GAP 20		/* ms between commits under load */
#define GREYQ_BUSY_BATCH 16		/* a commit this big means load */
#define GREYQ_SYNC_GAP	1000		/* ms: unsynced commits fsynced by */
#define GREYQ_SESSION_MAX 600		/* s: sessions that began before a pass */
#define GREYQ_SOFT_PCT	80		/* % of db_max_size: heaviest refused */
#define GREYQ_FULL_PCT	95		/* % of db_max_size: all new refused */
#define GREYQ_TUPLE_BYTES 512		/* least disk growth assumed per tuple */
#define GREYQ_PROBE_MAX	20		/* new tuples per transaction when full */
#define GREYQ_PROBE_MS	60000		/* when full and growing: probe pace */
#define GREYQ_REPORT_MS	10000		/* refusal reports, at most this often */
#define GREYQ_SYNC_LIVE	60		/* s: an older synced GREY is a catch-up */

enum greyq_effect {
	GREYQ_WHITE,		/* to the nft white sets */
	GREYQ_TRAP		/* to the SMTP process's trap list */
};

typedef void (*greyq_effect_fn)(void *, enum greyq_effect,
    const struct proto_entry *, size_t);

/* Policy requests' answers (enum polreq_verdict), after their commit. */
typedef void (*greyq_verdict_fn)(void *, const struct proto_verdict *,
    size_t);

/*
 * What a committed batch tells the sync peers (spamd -Y): every local
 * tuple recorded (SYNCMSG_GREY, with its strings) and every local trap
 * (SYNCMSG_TRAPPED, with its expiry). What came from a peer is never
 * sent on.
 */
typedef void (*greyq_sync_fn)(void *, int, const struct addr *,
    const char *, const char *, const char *, int64_t);

/* 1 if the RCPT value is a greytrap (grey_trapcheck in the daemon). */
typedef int (*greyq_trap_fn)(struct greydb *, const char *);

struct greyq_conf {
	const char			*dbpath;
	const struct greylist_params	*gl;
	int64_t				 db_max_size;	/* bytes; 0 no bound */
	size_t				 queue_max;
	size_t				 txn_max;
	int				 lock_wait_ms;
	uint64_t			 retry_min_ms, retry_max_ms;
	uint64_t			 commit_min_ms;	/* 0: at once */
	uint64_t			 commit_gap_ms;	/* 0: at once */
	uint64_t			 sync_gap_ms;	/* 0: every commit */
	size_t				 busy_batch;	/* 0: GREYQ_BUSY_BATCH */
	unsigned int			 group4, group6; /* -g; 0: exact */
	greyq_trap_fn			 is_trap;
	greyq_effect_fn			 effect;
	greyq_verdict_fn		 verdict;	/* NULL: none */
	greyq_sync_fn			 sync_out;	/* NULL: none */
	void				*arg;		/* of both */
};

struct greyq;

struct greyq	*greyq_new(const struct greyq_conf *);
int		 greyq_add(struct greyq *, const struct proto_tuple *);
int64_t		 greyq_timeout(const struct greyq *);
void		 greyq_run(struct greyq *, int);
size_t		 greyq_queued(const struct greyq *);
int		 greyq_failing(const struct greyq *);
int		 greyq_unsynced(const struct greyq *);
void		 greyq_free(struct greyq *);

#endif /* GREYQ_H */
