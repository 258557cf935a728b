/*
 * sender.h: spamd-nftsync's batches into an empty set, sent by a worker
 * thread one at a time, so that the next one is gathered and converted
 * while the kernel inserts this one (a netlink batch is applied inside
 * the sendmsg that carries it: the sending thread waits for the kernel).
 *
 *	sender_start(sd, n)	the worker, for nft handle n. If the thread
 *		cannot be made (logged), each post is sent at once instead
 *	sender_post(sd, set, el, cnt)	nft_add(n, set, el, cnt, 0) in the
 *		worker; el is the sender's from now on (freed when sent).
 *		Waits for the previous post first: its result is kept for
 *		sender_wait. One post at a time, so the kernel sees the
 *		batches in order
 *	sender_wait(sd, &set)	wait for the last post; its nft_add result
 *		(0, elements refused, or -1: sd->errstr says why) and its
 *		set, or SENDER_NONE if nothing was posted since the last wait
 *	sender_stop(sd)		wait, and end the worker
 *
 * While a post is out, n belongs to the worker: the caller uses n again
 * only after sender_wait. nft_add logs from the worker (one write per
 * line, as every log line).
 */
#ifndef SENDER_H
#define SENDER_H

#include <pthread.h>
#include <stddef.h>

#include "nft/nft.h"

#define SENDER_NONE	(-2)
#define SENDER_ERRLEN	512

struct sender {
	struct nft		*n;
	pthread_t		 t;
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	int			 threaded;	/* else posts are sent inline */
	int			 posted;	/* a post not waited for */
	int			 busy;		/* the worker has it */
	int			 quit;
	const struct nft_set	*set;
	struct nft_elem		*el;
	size_t			 cnt;
	int			 rc;
	char			 errstr[SENDER_ERRLEN];
};

void	sender_start(struct sender *, struct nft *);
void	sender_post(struct sender *, const struct nft_set *,
	    struct nft_elem *, size_t);
int	sender_wait(struct sender *, const struct nft_set **);
void	sender_stop(struct sender *);

#endif /* SENDER_H */
