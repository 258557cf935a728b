/*
 * chan.c: message channels between spamd's processes (see chan.h).
 */
#include <sys/epoll.h>
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "spamd/chan.h"
#include "spamd/proto.h"

#define CHAN_READ_BURST	256	/* messages per wake-up, for fairness */

#define NO_SLOT		UINT32_MAX
#define BATCH_HDR	8	/* as every message's header (proto.c) */

static struct chan	*batching;	/* chans that gather (chan_batch) */

struct chan_msg {
	struct chan_msg	*next;
	size_t		 len;
	uint32_t	 slot;		/* key slot, or NO_SLOT */
	uint8_t		 data[];
};

static void
msg_free(struct chan *c, struct chan_msg *m)
{
	if (m->slot != NO_SLOT && c->keyq != NULL)
		c->keyq[m->slot] -= (uint32_t)m->len;
	if (c->secret)
		explicit_bzero(m->data, m->len);
	free(m);
}

static void
chan_closed(struct chan *c)
{
	ev_io_del(&c->io);
	if (c->on_close != NULL)
		c->on_close(c);
}

/* Send queued messages until the socket is full. */
static int
drain(struct chan *c)
{
	while (c->head != NULL) {
		struct chan_msg *m = c->head;
		ssize_t n = send(c->io.fd, m->data, m->len,
		    MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n == -1) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			log_warn("%s: send", c->name);
			return -1;
		}
		c->head = m->next;
		if (c->head == NULL)
			c->tail = NULL;
		c->queued -= m->len;
		msg_free(c, m);
	}
	return 0;
}

/* The messages of a PROTO_BATCH datagram, to on_msg one by one. */
static void
unpack(struct chan *c, const uint8_t *buf, size_t n)
{
	size_t off = BATCH_HDR;
	uint16_t l;

	while (off < n) {
		if (off + 2 > n) {
			log_warnx("%s: a batch ends inside a length", c->name);
			return;
		}
		memcpy(&l, buf + off, sizeof(l));
		if (l == 0 || off + 2 + l > n) {
			log_warnx("%s: a batch's message of %u bytes does not "
			    "fit (%zu left); the rest dropped", c->name, l,
			    n - off - 2);
			return;
		}
		c->on_msg(c, buf + off + 2, l);
		if (c->io.fd == -1)	/* on_msg closed us */
			return;
		off += 2 + (size_t)l;
	}
}

static void
chan_event(struct ev_io *io, uint32_t events)
{
	struct chan *c = EV_CONTAINER(io, struct chan, io);
	uint8_t buf[PROTO_MSG_MAX];
	int i;

	if (events & EPOLLOUT) {
		if (drain(c) == -1) {
			chan_closed(c);
			return;
		}
		if (c->head == NULL)
			ev_io_mod(&c->io, EPOLLIN);
	}
	if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	for (i = 0; i < CHAN_READ_BURST; i++) {
		ssize_t n = recv(c->io.fd, buf, sizeof(buf),
		    MSG_DONTWAIT | MSG_TRUNC);

		if (n == -1) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			/*
			 * The peer exited with messages of ours unread. The
			 * kernel says so once; what it sent us is still
			 * queued, so keep reading to the end.
			 */
			if (errno == ECONNRESET)
				continue;
			log_warn("%s: recv", c->name);
			chan_closed(c);
			return;
		}
		if (n == 0) {
			chan_closed(c);
			return;
		}
		if ((size_t)n > sizeof(buf)) {
			log_warnx("%s: dropping a %zd-byte message (max %zu)",
			    c->name, n, sizeof(buf));
			continue;
		}
		if (proto_type(buf, (size_t)n) == PROTO_BATCH)
			unpack(c, buf, (size_t)n);
		else
			c->on_msg(c, buf, (size_t)n);
		if (c->secret)
			explicit_bzero(buf, (size_t)n);
		if (c->io.fd == -1)	/* on_msg closed us */
			return;
	}
}

int
chan_open(struct chan *c, int fd, const char *name, size_t maxq,
    chan_msg_cb on_msg, chan_close_cb on_close)
{
	memset(c, 0, sizeof(*c));
	c->name = name;
	c->maxq = maxq;
	c->on_msg = on_msg;
	c->on_close = on_close;
	return ev_io_add(&c->io, fd, EPOLLIN, chan_event);
}

/* Send one datagram now, or queue it when the peer is slow. */
static int
send_one(struct chan *c, const void *buf, size_t len, uint32_t slot)
{
	struct chan_msg *m;
	unsigned long n;

	if (c->io.fd == -1)
		return -1;
	if (c->head == NULL) {
		ssize_t r = send(c->io.fd, buf, len,
		    MSG_DONTWAIT | MSG_NOSIGNAL);

		if (r == (ssize_t)len)
			return 0;
		if (r == -1 && errno != EAGAIN && errno != EINTR) {
			log_warn("%s: send", c->name);
			return -1;
		}
	}
	if (c->queued + len > c->maxq ||
	    (m = malloc(sizeof(*m) + len)) == NULL) {
		if ((n = log_ratelimit(&c->rl, 10)) != 0)
			log_warnx("%s: peer is not keeping up, %zu bytes "
			    "queued; dropped %lu message%s", c->name,
			    c->queued, n, n == 1 ? "" : "s");
		return -1;
	}
	m->next = NULL;
	m->len = len;
	m->slot = slot;
	if (slot != NO_SLOT)
		c->keyq[slot] += (uint32_t)len;
	memcpy(m->data, buf, len);
	if (c->tail != NULL)
		c->tail->next = m;
	else
		c->head = m;
	c->tail = m;
	c->queued += len;
	ev_io_mod(&c->io, EPOLLIN | EPOLLOUT);
	return 0;
}

/*
 * Send what was gathered: the message as it is when there is one, else
 * the PROTO_BATCH datagram (its header's count field holds the number).
 */
static int
batch_flush(struct chan *c)
{
	uint32_t n = (uint32_t)c->batchn;
	int rc;

	if (c->batchlen == 0)
		return 0;
	if (n == 1)
		rc = send_one(c, c->batch + BATCH_HDR + 2,
		    c->batchlen - BATCH_HDR - 2, NO_SLOT);
	else {
		memcpy(c->batch + 4, &n, sizeof(n));
		rc = send_one(c, c->batch, c->batchlen, NO_SLOT);
	}
	if (c->secret)
		explicit_bzero(c->batch, c->batchlen);
	c->batchlen = c->batchn = 0;
	return rc;
}

void
chan_flush_batches(void)
{
	struct chan *c;

	for (c = batching; c != NULL; c = c->nextbatch)
		(void)batch_flush(c);
}

void
chan_batch(struct chan *c)
{
	if (c->batch != NULL)
		return;
	if ((c->batch = malloc(PROTO_MSG_MAX)) == NULL) {
		log_warn("%s: batch buffer (messages go one by one)", c->name);
		return;
	}
	c->nextbatch = batching;
	batching = c;
	ev_prewait(chan_flush_batches);
}

/*
 * A message joins the batch while nothing is queued (a queue means the
 * peer is behind: then each message goes on its own, keyed, after the
 * batch, so that the order holds and the key shares apply).
 */
static int
send_slot(struct chan *c, const void *buf, size_t len, uint32_t slot)
{
	uint16_t l = (uint16_t)len;

	if (c->batch != NULL && c->io.fd != -1 && c->head == NULL &&
	    BATCH_HDR + 2 + len <= PROTO_MSG_MAX) {
		if (c->batchlen + 2 + len > PROTO_MSG_MAX)
			(void)batch_flush(c);
		if (c->head == NULL) {
			if (c->batchlen == 0) {
				memset(c->batch, 0, BATCH_HDR);
				c->batch[0] = PROTO_BATCH;
				c->batchlen = BATCH_HDR;
			}
			memcpy(c->batch + c->batchlen, &l, sizeof(l));
			memcpy(c->batch + c->batchlen + 2, buf, len);
			c->batchlen += 2 + len;
			c->batchn++;
			return 0;
		}
	}
	if (c->batchlen > 0)
		(void)batch_flush(c);
	return send_one(c, buf, len, slot);
}

int
chan_send(struct chan *c, const void *buf, size_t len)
{
	return send_slot(c, buf, len, NO_SLOT);
}

int
chan_send_keyed(struct chan *c, const void *buf, size_t len,
    const void *key, size_t keylen)
{
	const uint8_t *k = key;
	uint32_t h = 2166136261u;
	unsigned long n;
	size_t i;

	if (c->keyq == NULL &&
	    (c->keyq = calloc(CHAN_KEY_SLOTS, sizeof(*c->keyq))) == NULL)
		return send_slot(c, buf, len, NO_SLOT);
	for (i = 0; i < keylen; i++)
		h = (h ^ k[i]) * 16777619u;
	h %= CHAN_KEY_SLOTS;
	/* Under contention (half the queue used), each key its share. */
	if (c->queued + len > c->maxq / 2 &&
	    c->keyq[h] + len > c->maxq / CHAN_KEY_SHARE) {
		if ((n = log_ratelimit(&c->rl_key, 10)) != 0)
			log_warnx("%s: peer is not keeping up and one client "
			    "holds its share of the queue (%zu bytes); "
			    "dropped %lu of its message%s", c->name,
			    (size_t)c->keyq[h], n, n == 1 ? "" : "s");
		return -1;
	}
	return send_slot(c, buf, len, h);
}

void
chan_flush_blocking(struct chan *c)
{
	uint64_t deadline;
	size_t last;

	(void)batch_flush(c);
	deadline = clock_mono_ms() + CHAN_FLUSH_MAX;
	last = c->queued;

	while (c->head != NULL && c->io.fd != -1) {
		struct pollfd pfd = { c->io.fd, POLLOUT, 0 };
		uint64_t now = clock_mono_ms();
		int r;

		/* A slow peer that still reads gets all the time it needs. */
		if (c->queued < last) {
			last = c->queued;
			deadline = now + CHAN_FLUSH_MAX;
		}
		if (now >= deadline) {
			log_warnx("%s: peer stopped reading for %d s; %zu bytes "
			    "not delivered at exit", c->name,
			    CHAN_FLUSH_MAX / 1000, c->queued);
			break;
		}
		r = poll(&pfd, 1, (int)(deadline - now));
		if (r == -1) {
			if (errno == EINTR)
				continue;
			log_warn("%s: poll; %zu bytes not delivered at exit",
			    c->name, c->queued);
			break;
		}
		if (r == 0)
			continue;	/* the deadline check says it */
		if (pfd.revents & (POLLERR | POLLHUP | POLLNVAL)) {
			log_warnx("%s: peer gone (poll revents %#x); %zu bytes "
			    "not delivered at exit", c->name,
			    (unsigned int)pfd.revents, c->queued);
			break;
		}
		if (drain(c) == -1) {
			log_warnx("%s: %zu bytes not delivered at exit",
			    c->name, c->queued);
			break;
		}
	}
}

void
chan_close(struct chan *c)
{
	struct chan_msg *m;
	struct chan **pp;

	if (c->batch != NULL) {
		if (c->io.fd != -1)
			(void)batch_flush(c);
		for (pp = &batching; *pp != NULL; pp = &(*pp)->nextbatch)
			if (*pp == c) {
				*pp = c->nextbatch;
				break;
			}
		free(c->batch);
		c->batch = NULL;
		c->batchlen = c->batchn = 0;
	}
	if (c->io.fd != -1) {
		int fd = c->io.fd;

		ev_io_del(&c->io);
		close(fd);
	}
	while ((m = c->head) != NULL) {
		c->head = m->next;
		msg_free(c, m);
	}
	c->tail = NULL;
	c->queued = 0;
	free(c->keyq);
	c->keyq = NULL;
}
