/*
 * con.c: the client side of spamd's SMTP process (see con.h).
 *
 * Each client is driven by con_run(), a loop that alternates between
 * writing the current reply (one byte per -s interval while stuttering,
 * all at once otherwise) and feeding the next complete input line to the
 * pure state machine in smtp.c. It returns to the event loop whenever it
 * must wait, after choosing what to wait for: EPOLLOUT, EPOLLIN, or the
 * connection's single timer. A bounded number of commands is handled per
 * wake-up so that a pipelining client cannot starve the others.
 *
 * Timeouts follow OpenBSD: a client waiting to be read from is closed
 * -T seconds (400) after it entered the reading state (a partial line
 * does not reset that; a chunk of DATA does), and a reply that cannot be
 * written for -T seconds closes the connection too.
 *
 * STARTTLS (--tls-* options, spamd.8): a client that is not blacklisted
 * is offered TLS at EHLO while fewer than --tls-max-sessions clients hold
 * a TLS slot; the offer takes a slot, which goes back when the next
 * command is not STARTTLS or at close. After the 220 (plaintext,
 * stuttered), input that came with the STARTTLS line is thrown away
 * (plaintext injection, CVE-2011-0411), the handshake runs non-blocking
 * under its own deadline, and the dialogue starts over inside TLS,
 * stutter included (one record per byte). A TLS call may want the other
 * direction (a read that must write, a write that must read): tflags
 * says so, and the epoll interest follows it.
 *
 * Limits against one address hogging the process: at most
 * --maxcon-per-address connections per address block (peers.c), and the
 * log lines a client causes (one per command or message line at -v or
 * debug level) are bounded per connection and per block a minute; the
 * rest are counted and the count is logged at close.
 */
#include <sys/epoll.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "spamd/con.h"
#include "spamd/ev.h"
#include "spamd/metrics.h"
#include "spamd/pace.h"
#include "spamd/peers.h"
#include "spamd/sdl.h"
#include "spamd/smtp.h"
#include "spamd/spamd.h"
#include "spamd/tls.h"
#include "spamd/traplist.h"

#ifndef SO_ORIGINAL_DST
#define SO_ORIGINAL_DST		80	/* <linux/netfilter_ipv4.h> */
#endif
#ifndef IP6T_SO_ORIGINAL_DST
#define IP6T_SO_ORIGINAL_DST	80	/* <linux/netfilter_ipv6/ip6_tables.h> */
#endif

#define CON_INBUF_MIN	256
#define CON_INBUF_POOL	64	/* spare input buffers kept */
#define CON_BURST	64	/* commands per wake-up */
#define ACCEPT_BURST	64	/* accepts per wake-up */
#define CON_LISTENERS_MAX 8
#define TLS_TRIM_MS	10000	/* after handshakes, give memory back */

#define CF_LISTED	0x01	/* on a blacklist: tarpitted all along */
#define CF_STUTTER_BL	0x02	/* listed and within -B maxblack */
#define CF_DISCARD	0x04	/* dropping the rest of an over-long line */
#define CF_LOWMX	0x08	/* arrived at the -M address */
#define CF_READING	0x10	/* waiting for a command */
#define CF_CAPPED	0x20	/* said so once: too many RCPTs */
#define CF_WAITOUT	0x40	/* waiting for the socket to drain */
#define CF_BURST	0x80	/* yielded after CON_BURST commands */

#define TF_SLOT		0x01	/* holds one of --tls-max-sessions */
#define TF_START	0x02	/* STARTTLS accepted: handshake after the 220 */
#define TF_HS		0x04	/* in the TLS handshake */
#define TF_RWANTW	0x08	/* a TLS read waits for the socket writable */
#define TF_WWANTR	0x10	/* a TLS write waits for the socket readable */
#define TF_FAILED	0x20	/* a TLS call failed */
#define TF_OFFERED	0x40	/* was offered STARTTLS at least once */

struct con {
	struct ev_io		 io;
	struct ev_timer		 tm;
	struct smtp_sess	 s;
	struct addr		 peer;
	uint64_t		 start_ms;	/* monotonic */
	const char		*out;		/* reply being written */
	char			*outbuf;	/* owned reply text, or NULL */
	uint32_t		 outlen, outpos;
	char			*in;		/* pending input, or NULL */
	uint32_t		 inlen, incap;
	struct sdl_list		**lists;	/* matched at connect time */
	struct peer		*blk;		/* its address block, or NULL */
	struct tls_sess		*tls;		/* after STARTTLS, or NULL */
	uint32_t		 logsupp;	/* client lines not logged */
	uint16_t		 loglines;	/* client lines logged */
	uint16_t		 tlswlen;	/* a TLS write to repeat, or 0 */
	uint8_t			 nlists;
	uint8_t			 flags;
	uint8_t			 tflags;
};

/* DESIGN.md 5.1: thousands are held at once. */
_Static_assert(sizeof(struct con) <= 256, "struct con grew past 256 bytes");

static size_t		 nclients, nblack;
/* Every stutter, and every idle deadline, waits the same time: FIFOs. */
static struct ev_fifo	 stutter_q, idle_q, now_q, hs_q;
static int		 queues_ready;
static struct log_ratelimit rl_full, rl_mem, rl_peer;

static struct tls_ctx	*tls_ctx;	/* for new sessions; NULL: no TLS */
static char		*ehlo_tls;	/* the EHLO reply that offers it */
static size_t		 ntls;		/* TLS slots held */
static struct ev_timer	 trim_tm;

static con_tuple_sink tuple_sink;	/* where tuples go (con_listen) */
static void	con_run(struct con *);
static void	tls_start(struct con *);
static void	con_close(struct con *);
static void	con_timer(struct ev_timer *);

static const char *
peer_str(const struct con *c)
{
	static char buf[ADDR_STRLEN];

	return addr_ntop(&c->peer, buf, sizeof(buf));
}

static const char *
tags_str(const struct con *c, char *buf, size_t len)
{
	/* OpenBSD truncates the list of tags with "..." near 76 bytes. */
	if (sdl_tags(buf, len, c->lists, c->nlists) >= len - 1 && len > 4)
		strlcpy(buf + len - 4, "...", 4);
	return buf;
}

/*
 * May a log line the client caused, at verbosity level (0 always, 1 -v,
 * 2 debug), be written? Bounded per connection and per address block;
 * each bound is announced when first hit.
 */
static int
client_log(struct con *c, int level)
{
	int r;

	if (log_getverbose() < level)
		return 0;
	if (conf.log_per_con > 0 && c->loglines >= conf.log_per_con) {
		if (c->loglines == conf.log_per_con) {
			c->loglines++;
			log_info("%s: log limit of %u lines per connection "
			    "reached, suppressing further lines", peer_str(c),
			    conf.log_per_con);
		}
		c->logsupp++;
		return 0;
	}
	if ((r = peers_log(c->blk, ev_now(), conf.log_per_addr)) <= 0) {
		if (r == -1)
			log_info("%s: log limit of %u lines per minute for "
			    "the address reached, suppressing further lines",
			    peer_str(c), conf.log_per_addr);
		c->logsupp++;
		return 0;
	}
	c->loglines++;
	return 1;
}

static int
stutter_now(const struct con *c)
{
	struct pace_conf p = { conf.stutter_ms, conf.grey_stutter,
	    (size_t)conf.maxcon };
	struct pace_con pc = { c->start_ms, (c->flags & CF_LISTED) != 0,
	    (c->flags & CF_STUTTER_BL) != 0, nclients };

	return pace_stutter(&p, &pc, ev_now());
}

static void
set_reply(struct con *c, const char *text, char *owned)
{
	free(c->outbuf);
	c->outbuf = owned;
	c->out = text;
	c->outlen = (uint32_t)strlen(text);
	c->outpos = 0;
	c->flags &= (uint8_t)~CF_READING;
}

/* A reply built for this connection (NULL: out of memory, close it). */
static void
set_reply_owned(struct con *c, char *s)
{
	if (s == NULL) {
		if (log_ratelimit(&rl_mem, 10))
			log_warnx("%s: out of memory for a reply",
			    peer_str(c));
		con_close(c);
		return;
	}
	set_reply(c, s, s);
}

static void
set_final_reply(struct con *c)
{
	const char *msgs[UINT8_MAX];
	char *buf;
	size_t i;

	if (c->nlists == 0 ||
	    (buf = malloc(SMTP_LISTED_REPLY_MAX)) == NULL) {
		set_reply(c, smtp_tempfail(), NULL);
		return;
	}
	for (i = 0; i < c->nlists; i++)
		msgs[i] = sdl_msg(c->lists[i]);
	smtp_listed_reply(buf, SMTP_LISTED_REPLY_MAX, conf.code550 ? 550 :
	    450, msgs, c->nlists, &c->peer);
	set_reply(c, buf, buf);
}

/* May this client be offered STARTTLS at its next EHLO? */
static int
tls_can_offer(const struct con *c)
{
	if (tls_ctx == NULL || ehlo_tls == NULL || (c->flags & CF_LISTED) ||
	    c->s.tls)
		return 0;
	return (c->tflags & TF_SLOT) || ntls < (size_t)conf.tls_max;
}

/* Act on one decision of the state machine. */
static void
handle(struct con *c, const char *line, size_t len,
    const struct smtp_result *r)
{
	if (r->from != r->to && client_log(c, 2))
		log_debug("%s: %s -> %s", peer_str(c), smtp_state_name(r->from),
		    smtp_state_name(r->to));
	if (r->tuple) {
		if (client_log(c, 1))
			log_verbose("(GREY) %s: %s -> %s", peer_str(c),
			    c->s.mail, r->rcpt);
		tuple_sink(&c->peer, (c->flags & CF_LOWMX) != 0,
		    c->s.helo ? c->s.helo : "", c->s.mail, r->rcpt);
	} else if (r->reply == SMTP_R_RCPT && (c->flags & CF_LISTED) &&
	    client_log(c, 1))
		log_verbose("(BLACK) %s: %s -> %s", peer_str(c),
		    c->s.mail ? c->s.mail : "", r->rcptbuf);
	if (r->tuple_capped && !(c->flags & CF_CAPPED)) {
		c->flags |= CF_CAPPED;
		log_info("%s: more than %d recipients, recording no more "
		    "tuples for this connection", peer_str(c), SMTP_MAX_TUPLES);
	}
	if (r->starttls)
		log_info("%s: sent STARTTLS, which is not offered%s",
		    peer_str(c), tls_ctx == NULL ? "" : (c->flags & CF_LISTED) ?
		    " to listed clients" : c->s.tls ? " inside TLS" :
		    " here");
	/* The offer holds a slot until the next command, or the session. */
	if (r->reply == SMTP_R_EHLO_TLS && !(c->tflags & TF_SLOT)) {
		c->tflags |= TF_SLOT | TF_OFFERED;
		METRIC_SET(smtp.open_tls, ++ntls);
	} else if (r->reply != SMTP_R_EHLO_TLS && !r->tls_begin &&
	    (c->tflags & TF_SLOT) && !c->s.tls) {
		c->tflags &= (uint8_t)~TF_SLOT;
		METRIC_SET(smtp.open_tls, --ntls);
	}
	if (r->tls_begin)
		c->tflags |= TF_START;
	if (r->header) {
		if (client_log(c, 1))
			log_verbose("(BLACK) %s: %.*s", peer_str(c), (int)len,
			    line);
	} else if (r->from == SMTP_DATA && r->reply == SMTP_R_NONE &&
	    client_log(c, 2))
		log_debug("%s: body: %.*s", peer_str(c), (int)len, line);
	if (r->data_begins && conf.window > 0 &&
	    setsockopt(c->io.fd, SOL_SOCKET, SO_RCVBUF, &conf.window,
	    sizeof(conf.window)) == -1)
		log_warn("%s: setsockopt SO_RCVBUF", peer_str(c));

	switch (r->reply) {
	case SMTP_R_NONE:
		break;
	case SMTP_R_QUIT:
		set_reply_owned(c, smtp_quit_reply(conf.hostname));
		break;
	case SMTP_R_FINAL:
		set_final_reply(c);
		break;
	case SMTP_R_EHLO_TLS:
		set_reply(c, ehlo_tls, NULL);
		break;
	default:
		set_reply(c, smtp_reply_text(r->reply), NULL);
		break;
	}
}

/*
 * Input buffers of the first size are kept for reuse, CON_INBUF_POOL at
 * most: most lines fit one, and a session reads several lines, so a
 * malloc and a free per line become a pop and a push. A held connection
 * between lines still holds no buffer.
 */
static char	*inpool[CON_INBUF_POOL];
static size_t	 ninpool;

static char *
inbuf_get(void)
{
	return ninpool > 0 ? inpool[--ninpool] : malloc(CON_INBUF_MIN);
}

static void
inbuf_put(char *p, uint32_t cap)
{
	if (p != NULL && cap == CON_INBUF_MIN && ninpool < CON_INBUF_POOL)
		inpool[ninpool++] = p;
	else
		free(p);
}

static void
consume(struct con *c, size_t n)
{
	if (n >= c->inlen) {
		inbuf_put(c->in, c->incap);
		c->in = NULL;
		c->inlen = c->incap = 0;
		return;
	}
	memmove(c->in, c->in + n, c->inlen - n);
	c->inlen -= (uint32_t)n;
}

/*
 * Take the next complete line from the input buffer and feed it to the
 * state machine. Returns 1 if a line was consumed, 0 if more input is
 * needed. A line that fills the buffer without a LF is one bad command;
 * the rest of it, up to its LF, is dropped.
 */
static int
next_line(struct con *c)
{
	struct smtp_result r;
	char *lf;
	size_t len;

	if (c->inlen == 0)
		return 0;
	lf = memchr(c->in, '\n', c->inlen);
	if (lf == NULL) {
		if (c->flags & CF_DISCARD) {
			consume(c, c->inlen);
			return 0;
		}
		if (c->inlen < SMTP_LINE_MAX)
			return 0;
		c->flags |= CF_DISCARD;
		consume(c, c->inlen);
		if (client_log(c, 0))
			log_info("%s: line longer than %d bytes", peer_str(c),
			    SMTP_LINE_MAX);
		c->s.tls_offer = tls_can_offer(c);
		smtp_input(&c->s, "", 0, 1, &r);
		handle(c, "", 0, &r);
		return 1;
	}
	len = (size_t)(lf - c->in);
	if (c->flags & CF_DISCARD) {
		c->flags &= (uint8_t)~CF_DISCARD;
		consume(c, len + 1);
		return 1;
	}
	while (len > 0 && c->in[len - 1] == '\r')
		len--;
	c->s.tls_offer = tls_can_offer(c);
	smtp_input(&c->s, c->in, len, 0, &r);
	handle(c, c->in, len, &r);
	if (c->io.fd != -1)
		consume(c, (size_t)(lf - c->in) + 1);
	return 1;
}

/* Why a TLS call failed, for the log (the client's fault, mostly). */
static void
tls_failed(struct con *c, const char *what)
{
	c->tflags |= TF_FAILED;
	if (client_log(c, 0))
		log_info("%s: TLS %s failed: %s", peer_str(c), what,
		    tls_error(c->tls));
}

/*
 * recv(2), or a TLS read: > 0 bytes, 0 at the end, -1 with errno (EAGAIN:
 * wait; TF_RWANTW says for which direction).
 */
static ssize_t
con_recv(struct con *c, void *buf, size_t len)
{
	ssize_t n;

	if (c->tls == NULL)
		return recv(c->io.fd, buf, len, 0);
	n = tls_read(c->tls, buf, len);
	if (n > 0)
		return n;
	switch (n) {
	case TLS_WANT_WRITE:
		c->tflags |= TF_RWANTW;
		/* FALLTHROUGH */
	case TLS_WANT_READ:
		errno = EAGAIN;
		return -1;
	case TLS_EOF:
		return 0;
	default:
		tls_failed(c, "read");
		errno = EPROTO;
		return -1;
	}
}

/*
 * send(2), or a TLS write of the same length as the one that had to
 * wait: > 0 bytes, -1 with errno (EAGAIN: wait, see TF_WWANTR).
 */
static ssize_t
con_send(struct con *c, const char *buf, size_t len)
{
	ssize_t n;

	if (c->tls == NULL)
		return send(c->io.fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (len > 16384)		/* one record; tlswlen holds it */
		len = 16384;
	if (c->tlswlen != 0 && c->tlswlen <= len)
		len = c->tlswlen;
	n = tls_write(c->tls, buf, len);
	if (n > 0) {
		c->tlswlen = 0;
		return n;
	}
	switch (n) {
	case TLS_WANT_READ:
		c->tflags |= TF_WWANTR;
		/* FALLTHROUGH */
	case TLS_WANT_WRITE:
		c->tlswlen = (uint16_t)(len > UINT16_MAX ? UINT16_MAX : len);
		errno = EAGAIN;
		return -1;
	case TLS_EOF:
		errno = EPIPE;
		return -1;
	default:
		tls_failed(c, "write");
		errno = EPROTO;
		return -1;
	}
}

/* Read what the client sent. Returns -1 if the connection is gone. */
static int
read_input(struct con *c)
{
	ssize_t n;

	if (c->in == NULL) {
		if ((c->in = inbuf_get()) == NULL) {
			if (log_ratelimit(&rl_mem, 10))
				log_warnx("out of memory for input buffers");
			return 0;
		}
		c->incap = CON_INBUF_MIN;
	} else if (c->inlen == c->incap && c->incap < SMTP_LINE_MAX) {
		uint32_t ncap = c->incap * 2 > SMTP_LINE_MAX ? SMTP_LINE_MAX :
		    c->incap * 2;
		char *nin = realloc(c->in, ncap);

		if (nin == NULL)
			return 0;
		c->in = nin;
		c->incap = ncap;
	}
	if (c->inlen == c->incap)
		return 0;
	n = con_recv(c, c->in + c->inlen, c->incap - c->inlen);
	if (n == 0) {
		con_close(c);
		return -1;
	}
	if (n == -1) {
		if (errno == EAGAIN || errno == EINTR)
			return 0;
		log_debug("%s: read: %s", peer_str(c), strerror(errno));
		con_close(c);
		return -1;
	}
	c->inlen += (uint32_t)n;
	if (c->s.state == SMTP_DATA)	/* DATA: each chunk resets the clock */
		ev_timer_fifo(&c->tm, &idle_q, con_timer);
	return 0;
}

/* Write what we can of the reply. 1 = reply done, 0 = must wait, -1 gone. */
static int
write_output(struct con *c)
{
	while (c->outpos < c->outlen) {
		int st = stutter_now(c);
		size_t want = st ? 1 : c->outlen - c->outpos;
		ssize_t n = con_send(c, c->out + c->outpos, want);

		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				c->flags |= CF_WAITOUT;
				ev_timer_fifo(&c->tm, &idle_q, con_timer);
				return 0;
			}
			log_debug("%s: write: %s", peer_str(c),
			    strerror(errno));
			con_close(c);
			return -1;
		}
		c->outpos += (uint32_t)n;
		if (st)
			METRIC_ADD(smtp.stutter_bytes, (uint64_t)n);
		if (st && c->outpos < c->outlen) {
			ev_timer_fifo(&c->tm, &stutter_q, con_timer);
			return 0;
		}
	}
	free(c->outbuf);
	c->outbuf = NULL;
	c->out = NULL;
	return 1;
}

/*
 * A handshake needs about three times the memory of the session it
 * leaves (OpenSSL releases its buffers once idle), and malloc keeps what
 * a burst of handshakes freed. Give it back to the system, at most once
 * every TLS_TRIM_MS after handshakes ended, so that a crowd of TLS
 * clients costs what they hold, not what their handshakes held.
 */
static void
trim_memory(struct ev_timer *t)
{
	(void)t;
	(void)malloc_trim(0);
}

static void
handshake_ended(void)
{
	if (!ev_timer_armed(&trim_tm))
		ev_timer_set(&trim_tm, ev_now() + TLS_TRIM_MS, trim_memory);
}

/* One step of the handshake; the dialogue starts over once it is done. */
static void
tls_step(struct con *c)
{
	static const int one = 1;

	switch (tls_handshake(c->tls)) {
	case TLS_OK:
		c->tflags &= (uint8_t)~TF_HS;
		handshake_ended();
		/*
		 * Nothing follows our side of the handshake (no tickets), so
		 * a client with Nagle on waits for our delayed ACK before it
		 * sends its EHLO: 40 ms per session (make bench). ACK now.
		 */
		if (setsockopt(c->io.fd, IPPROTO_TCP, TCP_QUICKACK, &one,
		    sizeof(one)) == -1)
			log_debug("%s: TCP_QUICKACK: %s", peer_str(c),
			    strerror(errno));
		METRIC_INC(smtp.tls_handshakes);
		if (client_log(c, 1))
			log_verbose("%s: TLS handshake done: %s %s",
			    peer_str(c), tls_version(c->tls),
			    tls_cipher(c->tls));
		/* Waiting for the new greeting: the idle clock. */
		c->flags |= CF_READING;
		ev_timer_fifo(&c->tm, &idle_q, con_timer);
		con_run(c);
		return;
	case TLS_WANT_READ:
		ev_io_mod(&c->io, EPOLLIN);
		return;
	case TLS_WANT_WRITE:
		ev_io_mod(&c->io, EPOLLOUT);
		return;
	case TLS_EOF:
		METRIC_INC(smtp.tls_failures);
		if (client_log(c, 0))
			log_info("%s: closed the connection during the TLS "
			    "handshake", peer_str(c));
		con_close(c);
		return;
	default:
		METRIC_INC(smtp.tls_failures);
		tls_failed(c, "handshake");
		con_close(c);
		return;
	}
}

/*
 * The 220 to STARTTLS is out: the handshake begins. What came after the
 * STARTTLS line in plaintext is never read as a command inside TLS.
 */
static void
tls_start(struct con *c)
{
	c->tflags &= (uint8_t)~TF_START;
	if (c->inlen > 0 || (c->flags & CF_DISCARD)) {
		if (client_log(c, 0))
			log_info("%s: discarded %u bytes sent in plaintext "
			    "after STARTTLS", peer_str(c), c->inlen);
		consume(c, c->inlen);
		c->flags &= (uint8_t)~CF_DISCARD;
	}
	if (tls_ctx == NULL || (c->tls = tls_sess_new(tls_ctx,
	    c->io.fd)) == NULL) {
		if (log_ratelimit(&rl_mem, 10))
			log_warnx("%s: out of memory for a TLS session",
			    peer_str(c));
		con_close(c);
		return;
	}
	c->tflags |= TF_HS;
	c->flags &= (uint8_t)~CF_READING;
	ev_timer_fifo(&c->tm, &hs_q, con_timer);
	tls_step(c);
}

static void
con_run(struct con *c)
{
	int burst;

	for (burst = 0; burst < CON_BURST; burst++) {
		if (c->out != NULL) {
			int r = write_output(c);

			if (r == -1)
				return;
			if (r == 0) {
				ev_io_mod(&c->io, !(c->flags & CF_WAITOUT) ?
				    0 : (c->tflags & TF_WWANTR) ? EPOLLIN :
				    EPOLLOUT);
				return;
			}
			if (c->s.state == SMTP_DONE) {
				con_close(c);
				return;
			}
			if (c->tflags & TF_START) {
				tls_start(c);
				return;
			}
			/* Now waiting for a command: start the idle clock. */
			c->flags |= CF_READING;
			ev_timer_fifo(&c->tm, &idle_q, con_timer);
		}
		if (!next_line(c)) {
			/* Decrypted bytes epoll cannot see: read them now. */
			if (c->tls != NULL && tls_pending(c->tls) &&
			    !(c->tflags & TF_RWANTW)) {
				if (read_input(c) == -1)
					return;
				continue;
			}
			ev_io_mod(&c->io, (c->tflags & TF_RWANTW) ? EPOLLOUT :
			    EPOLLIN);
			return;
		}
		if (c->io.fd == -1)
			return;
	}
	/* Let the others run; come back on the next loop iteration. */
	c->flags |= CF_BURST;
	ev_io_mod(&c->io, 0);
	ev_timer_fifo(&c->tm, &now_q, con_timer);
}

static void
con_timer(struct ev_timer *t)
{
	struct con *c = EV_CONTAINER(t, struct con, tm);

	if (c->tflags & TF_HS) {
		METRIC_INC(smtp.tls_failures);
		log_info("%s: TLS handshake timeout", peer_str(c));
		con_close(c);
	} else if (c->flags & CF_BURST) {
		c->flags &= (uint8_t)~CF_BURST;
		con_run(c);
	} else if (c->flags & CF_WAITOUT) {
		log_info("%s: write timeout", peer_str(c));
		con_close(c);
	} else if (c->out == NULL && (c->flags & CF_READING)) {
		log_info("%s: timeout", peer_str(c));
		con_close(c);
	} else
		con_run(c);
}

static void
con_event(struct ev_io *io, uint32_t events)
{
	struct con *c = EV_CONTAINER(io, struct con, io);

	if (c->tflags & TF_HS) {
		tls_step(c);
		return;
	}
	/* A TLS write that wanted to read, or a read that wanted to write. */
	if ((c->tflags & TF_WWANTR) &&
	    (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		events = EPOLLOUT;
	else if ((c->tflags & TF_RWANTW) &&
	    (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)))
		events = EPOLLIN;
	c->tflags &= (uint8_t)~(TF_WWANTR | TF_RWANTW);
	if (events & EPOLLOUT) {
		c->flags &= (uint8_t)~CF_WAITOUT;
		ev_timer_del(&c->tm);
		con_run(c);
		return;
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		if (read_input(c) == -1)
			return;
		con_run(c);
	}
}

static void
con_close(struct con *c)
{
	char tags[80];
	int fd = c->io.fd;
	size_t i;

	if (fd == -1)
		return;
	/* Senders that insist on TLS leave here; make them findable. */
	if (smtp_ehlo_only(&c->s))
		log_info("%s: left after EHLO without trying MAIL%s",
		    peer_str(c), c->s.starttls ? "" : tls_ctx == NULL ?
		    " (STARTTLS is not offered)" : (c->tflags & TF_OFFERED) ?
		    " (STARTTLS was offered)" : (c->flags & CF_LISTED) ?
		    " (STARTTLS is not offered to listed clients)" :
		    " (STARTTLS was not offered: --tls-max-sessions reached)");
	if (c->logsupp > 0)
		log_info("%s: %lu log lines suppressed", peer_str(c),
		    (unsigned long)c->logsupp);
	log_info("%s: disconnected after %llu seconds.%s%s%s%s", peer_str(c),
	    (unsigned long long)((ev_now() - c->start_ms) / 1000),
	    c->nlists ? " lists: " : "",
	    c->nlists ? tags_str(c, tags, sizeof(tags)) : "",
	    c->tls != NULL ? " tls: " : "", c->tls == NULL ? "" :
	    (c->tflags & TF_HS) ? "handshake not done" : tls_version(c->tls));
	ev_timer_del(&c->tm);
	if (c->tls != NULL) {
		if (c->tflags & TF_HS)
			handshake_ended();
		tls_sess_free(c->tls);
		c->tls = NULL;
	}
	if (c->tflags & TF_SLOT)
		METRIC_SET(smtp.open_tls, --ntls);
	c->tflags = 0;
	/*
	 * The descriptor is closed when the turn's log lines are out, so
	 * a client that has seen the end finds the lines about it; one
	 * write(2) of the log serves all the sessions that ended this turn.
	 */
	ev_io_close_late(&c->io);
	if (c->lists != NULL) {
		for (i = 0; i < c->nlists; i++)
			sdl_unref(c->lists[i]);
		free(c->lists);
		nblack--;
	}
	METRIC_SET(smtp.open_black, nblack);
	METRIC_SET(smtp.open_grey, nclients - 1 - nblack);
	smtp_free(&c->s);
	peers_put(c->blk);
	c->blk = NULL;
	inbuf_put(c->in, c->incap);
	free(c->outbuf);
	/* Callers up the stack may still look at these before returning. */
	c->in = c->outbuf = NULL;
	c->out = NULL;
	c->inlen = c->incap = c->outlen = c->outpos = 0;
	c->lists = NULL;
	c->nlists = 0;
	nclients--;
	ev_free_later(c);
}

/* Which blacklists hold this client; expired traps are dropped here. */
static void
lookup_lists(struct con *c)
{
	struct sdl_list *l[SDL_LOOKUP_MAX];
	size_t n, i, k = 0;

	n = sdl_lookup(&c->peer, l, SDL_LOOKUP_MAX);
	for (i = 0; i < n; i++) {
		if (strcmp(sdl_tag(l[i]), SDL_GREYTRAP_TAG) == 0 &&
		    !traplist_hit(&c->peer, clock_now())) {
			sdl_addr_del(SDL_GREYTRAP_TAG, &c->peer);
			sdl_unref(l[i]);
			continue;
		}
		l[k++] = l[i];
	}
	if (k == 0)
		return;
	if ((c->lists = calloc(k, sizeof(*c->lists))) == NULL) {
		/* Without memory we cannot hold the messages: greylist it. */
		for (i = 0; i < k; i++)
			sdl_unref(l[i]);
		return;
	}
	memcpy(c->lists, l, k * sizeof(*l));
	c->nlists = (uint8_t)k;
	for (i = 0; i < k; i++)
		metrics_list_hit(sdl_tag(l[i]));
	c->flags |= CF_LISTED;
	if (++nblack <= (size_t)conf.maxblack)
		c->flags |= CF_STUTTER_BL;
}

/* Was the connection redirected from the -M low-priority MX address? */
static int
to_lowmx(int fd, const struct con *c)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct addr dst;
	int rc;

	if (c->peer.af == AF_INET)
		rc = getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &ss, &len);
	else
		rc = getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, &ss, &len);
	if (rc == -1) {
		/* Not redirected (a direct connection): our own address. */
		len = sizeof(ss);
		if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
			return 0;
	}
	if (addr_from_sockaddr((struct sockaddr *)&ss, &dst, NULL) == -1)
		return 0;
	return addr_cmp(&dst, &conf.lowmx) == 0;
}

/* Log, at a bounded rate, that a block's limit closed a connection. */
static void
refuse_peer(const struct con *c)
{
	struct cidr blk;
	char buf[CIDR_STRLEN];
	unsigned long n;

	if ((n = log_ratelimit(&rl_peer, 10)) == 0)
		return;
	if (!cidr_of(&c->peer, conf.prefix4, conf.prefix6, &blk))
		addr_ntop(&blk.a, buf, sizeof(buf));
	else
		cidr_ntop(&blk, buf, sizeof(buf));
	log_warnx("%d connections from %s (--maxcon-per-address) reached: "
	    "closed %lu new connection%s", conf.maxcon_addr, buf, n,
	    n == 1 ? "" : "s");
}

static void
con_new(int fd, const struct sockaddr_storage *ss)
{
	struct con *c;
	char tags[80];

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		if (log_ratelimit(&rl_mem, 10))
			log_warnx("out of memory for a connection");
		close(fd);
		return;
	}
	if (addr_from_sockaddr((const struct sockaddr *)ss, &c->peer,
	    NULL) == -1) {
		close(fd);
		free(c);
		return;
	}
	/* One address block may not take every slot (-c). */
	c->blk = peers_get(&c->peer);
	if (peers_ncon(c->blk) > (unsigned int)conf.maxcon_addr) {
		METRIC_INC(smtp.refused_source);
		refuse_peer(c);
		peers_put(c->blk);
		close(fd);
		free(c);
		return;
	}
	nclients++;
	c->io.fd = -1;
	c->start_ms = ev_now();
	lookup_lists(c);
	if (c->flags & CF_LISTED)
		METRIC_INC(smtp.accepted_black);
	else
		METRIC_INC(smtp.accepted);
	METRIC_SET(smtp.open_black, nblack);
	METRIC_SET(smtp.open_grey, nclients - nblack);
	if (conf.lowmx_set && to_lowmx(fd, c))
		c->flags |= CF_LOWMX;
	smtp_init(&c->s, (c->flags & CF_LISTED) || conf.blackonly);
	if (ev_io_add(&c->io, fd, 0, con_event) == -1) {
		c->io.fd = fd;
		con_close(c);
		return;
	}
	log_info("%s: connected (%zu/%zu)%s%s", peer_str(c), nclients, nblack,
	    c->nlists ? ", lists: " : "",
	    c->nlists ? tags_str(c, tags, sizeof(tags)) : "");
	set_reply_owned(c, smtp_banner(conf.hostname, conf.name,
	    (time_t)clock_now()));
	if (c->io.fd != -1)
		con_run(c);
}

static void
listener_event(struct ev_io *io, uint32_t events)
{
	struct ev_listener *l = EV_CONTAINER(io, struct ev_listener, io);
	int i;

	(void)events;
	for (i = 0; i < ACCEPT_BURST; i++) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		int fd = ev_accept(l, (struct sockaddr *)&ss, &len);

		if (fd == -1)
			return;
		if (nclients >= (size_t)conf.maxcon) {
			unsigned long n;

			METRIC_INC(smtp.refused_full);
			close(fd);
			if ((n = log_ratelimit(&rl_full, 10)) != 0)
				log_warnx("%d connections (-c) reached: closed "
				    "%lu new connection%s", conf.maxcon, n,
				    n == 1 ? "" : "s");
			continue;
		}
		con_new(fd, &ss);
	}
}

int
con_listen(int fd, con_tuple_sink sink)
{
	static struct ev_listener listeners[CON_LISTENERS_MAX];
	static size_t n;

	if (!queues_ready) {
		ev_fifo_init(&stutter_q, conf.stutter_ms);
		ev_fifo_init(&idle_q, (uint64_t)conf.idle_timeout * 1000);
		ev_fifo_init(&now_q, 0);
		ev_fifo_init(&hs_q, (uint64_t)conf.tls_timeout * 1000);
		peers_init(conf.prefix4, conf.prefix6, (size_t)conf.maxcon);
		queues_ready = 1;
	}
	tuple_sink = sink;
	if (n == CON_LISTENERS_MAX) {
		log_warnx("more than %d listeners", CON_LISTENERS_MAX);
		return -1;
	}
	listeners[n].what = "SMTP listener";
	return ev_io_add(&listeners[n++].io, fd, EPOLLIN, listener_event);
}

void
con_tls_set(struct tls_ctx *ctx)
{
	struct tls_ctx *old = tls_ctx;

	if (ehlo_tls == NULL && ctx != NULL &&
	    (ehlo_tls = smtp_ehlo_tls(conf.hostname)) == NULL)
		log_warnx("out of memory: STARTTLS is not offered");
	tls_ctx = ctx;
	if (old != NULL)
		tls_ctx_free(old);	/* open sessions keep theirs */
}
