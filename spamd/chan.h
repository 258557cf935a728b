/*
 * chan.h: a non-blocking message channel over a SOCK_SEQPACKET socket,
 * driven by the event loop.
 *
 *	chan_open(c, fd, name, maxq, on_msg, on_close)	watch fd; messages
 *		go to on_msg one at a time; EOF or an error calls on_close
 *	chan_send(c, buf, len)	send now, or queue when the peer is slow;
 *		-1 if the queue already holds maxq bytes (the message is
 *		dropped and a rate-limited warning says how many were)
 *	chan_send_keyed(c, buf, len, key, keylen)	the same, but once
 *		half the queue is used, the messages of one key (a client
 *		address) may hold at most maxq / CHAN_KEY_SHARE bytes of it,
 *		so that one client cannot crowd out the others (half the
 *		queue is theirs); beyond, its messages are
 *		dropped (-1) with a rate-limited warning. Keys are hashed
 *		into CHAN_KEY_SLOTS counters: keys that share one share its
 *		part.
 *	chan_batch(c)		from now on, messages sent while nothing is
 *		queued are gathered into one PROTO_BATCH datagram (up to
 *		PROTO_MSG_MAX bytes), sent when it is full, before anything
 *		that cannot join it, and by chan_flush_batches(), which the
 *		event loop calls before it waits: one send(2) and one recv(2)
 *		for many messages, none held longer than one turn of the loop.
 *		The receiving chan unpacks it, whatever its own setting.
 *	chan_flush_batches()	send every chan's gathered batch
 *	chan_flush_blocking(c)	send the queue, blocking (shutdown
 *		only); gives up, and says how much it lost, only when the
 *		peer has read nothing for CHAN_FLUSH_MAX ms
 *	chan_close(c)
 *	c->secret = 1 after chan_open: the messages carry key material;
 *		every copy (queued, or the receive buffer) is wiped once used
 *
 * The SMTP process must never block on the greylister: it sends through
 * a chan whose queue absorbs bursts and drops beyond a bound instead.
 */
#ifndef CHAN_H
#define CHAN_H

#include <stddef.h>
#include <stdint.h>

#include "common/log.h"
#include "spamd/ev.h"

#define CHAN_FLUSH_MAX	10000
#define CHAN_KEY_SHARE	64	/* one key's part of the queue: 1/64 */
#define CHAN_KEY_SLOTS	4096

struct chan_msg;
struct chan;

typedef void (*chan_msg_cb)(struct chan *, const uint8_t *, size_t);
typedef void (*chan_close_cb)(struct chan *);

struct chan {
	struct ev_io		 io;
	const char		*name;
	chan_msg_cb		 on_msg;
	chan_close_cb		 on_close;
	struct chan_msg		*head, *tail;
	size_t			 queued, maxq;
	struct log_ratelimit	 rl;
	uint32_t		*keyq;	/* bytes queued per key slot */
	struct log_ratelimit	 rl_key;
	int			 secret;	/* wipe messages once used */
	uint8_t			*batch;		/* chan_batch: gathered */
	size_t			 batchlen, batchn;
	struct chan		*nextbatch;	/* chans that gather */
};

int	chan_open(struct chan *, int, const char *, size_t, chan_msg_cb,
	    chan_close_cb);
int	chan_send(struct chan *, const void *, size_t);
int	chan_send_keyed(struct chan *, const void *, size_t, const void *,
	    size_t);
void	chan_batch(struct chan *);
void	chan_flush_batches(void);
void	chan_flush_blocking(struct chan *);
void	chan_close(struct chan *);

#endif /* CHAN_H */
