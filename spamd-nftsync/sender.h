/*
 * sender.h: spamd-nftsync's batches into an empty set, sent by a worker
 * thread in the order posted, so that the next ones are gathered and
 * converted while the kernel inserts (a netlink batch is applied inside
 * the sendmsg that carries it: the sending thread waits for the kernel).
 *
 *	sender_start(sd, n)	the worker, for nft handle n. If the thread
 *		cannot be made (logged), each post is sent at once instead
 *	sender_post(sd, key, set, el, cnt)	queue nft_add(n, set, el, cnt,
 *		0); el is the sender's from now on (freed when sent). Up to
 *		SENDER_DEPTH posts wait; a post into a full queue waits for
 *		a place. Once a post of key has failed, the later posts of
 *		key are dropped unsent: the caller's set is lost anyway
 *	sender_wait(sd)		wait until every post is sent; then, for each
 *		key < SENDER_KEYS, sd->failed[key] (sd->errstr[key] says
 *		why: the first failure) and sd->refused[key] (the kernel
 *		refused elements) say how its posts went, since the start
 *	sender_stop(sd)		wait, and end the worker
 *
 * While posts are out, n belongs to the worker: the caller uses n again
 * only after sender_wait. nft_add logs from the worker (one write per
 * line, as every log line).
 */
#ifndef SENDER_H
#define SENDER_H

#include <pthread.h>
#include <stddef.h>

#include "nft/nft.h"

#define SENDER_DEPTH	4
#define SENDER_KEYS	8
#define SENDER_ERRLEN	512

struct sender_job {
	int			 key;
	const struct nft_set	*set;
	struct nft_elem		*el;
	size_t			 cnt;
};

struct sender {
	struct nft		*n;
	pthread_t		 t;
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	int			 threaded;	/* else posts are sent inline */
	int			 quit;
	struct sender_job	 q[SENDER_DEPTH];
	size_t			 head, len;	/* queued (q[head] being sent) */
	int			 failed[SENDER_KEYS], refused[SENDER_KEYS];
	char			 errstr[SENDER_KEYS][SENDER_ERRLEN];
};

void	sender_start(struct sender *, struct nft *);
void	sender_post(struct sender *, int, const struct nft_set *,
	    struct nft_elem *, size_t);
void	sender_wait(struct sender *);
void	sender_stop(struct sender *);

#endif /* SENDER_H */
