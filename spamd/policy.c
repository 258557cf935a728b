/*
 * policy.c: policy mode's connections in the SMTP process (policy.h):
 * reading requests, asking the greylister, writing the answers, and the
 * bounds that keep a hostile or broken client from costing more than one
 * slot: line and request sizes (polreq.h), one request at a time, one
 * timer per connection, POLICY_CON_MAX connections.
 */
#include <sys/epoll.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "spamd/ev.h"
#include "spamd/metrics.h"
#include "spamd/nospamd.h"
#include "spamd/policy.h"
#include "spamd/sdl.h"
#include "spamd/smtp.h"

#define SLOT_BITS	11			/* POLICY_CON_MAX = 2^11 */
#define IN_MAX		(2 * POLREQ_LINE_MAX)	/* unparsed input */
#define ACCEPT_BURST	64
/* spamd_policy_requests_total beyond the verdicts (metrics.c's labels) */
#define POLICY_M_TIMEOUT	(POLREQ_V_BUSY + 1)
#define POLICY_M_BAD		(POLREQ_V_BUSY + 2)
#define LOG_BUDGET	20			/* close reasons logged ... */
#define LOG_WINDOW_MS	10000			/* ... in this time */

struct pcon {
	struct ev_io	 io;
	struct ev_timer	 tm;
	uint32_t	 slot;
	uint32_t	 want;		/* the greylister's answer awaited */
	int		 inreq;		/* part of a request has come */
	uint64_t	 deadline;	/* ms: of what the connection waits for */
	const char	*name;		/* the listener's, for logs */
	struct polreq	 req;
	char		 instance[sizeof(((struct polreq *)0)->instance)];
	char		 out[POLREQ_REPLY_MAX];
	size_t		 outlen, outoff;
	size_t		 inlen;
	char		 in[IN_MAX];
};

struct plistener {
	struct ev_listener l;
	const char	*name;
};

static struct policy_conf	 pc;
static policy_send_fn		 send_fn;
static struct pcon		*slots[POLICY_CON_MAX];
static struct plistener		 listeners[POLICY_LISTEN_MAX];
static int			 nlisteners;
static size_t			 ncons;
static uint32_t			 seq = 1;
static struct log_ratelimit	 rl_full;

static void	pcon_io(struct ev_io *, uint32_t);
static void	pcon_timeout(struct ev_timer *);
static void	pcon_input(struct pcon *);

void
policy_init(const struct policy_conf *c, policy_send_fn send)
{
	pc = *c;
	if (pc.timeout_ms == 0)
		pc.timeout_ms = POLICY_TIMEOUT * 1000;
	if (pc.idle_ms == 0)
		pc.idle_ms = POLICY_IDLE * 1000;
	send_fn = send;
}

size_t
policy_connections(void)
{
	return ncons;
}

/*
 * Why a connection was closed, at most LOG_BUDGET lines a LOG_WINDOW_MS:
 * a client that sends junk in a loop must not flood the log. The lines
 * left out are counted in the next one.
 */
static void
log_close(const struct pcon *c, const char *why)
{
	static uint64_t window;
	static unsigned int lines;
	static unsigned long skipped;
	uint64_t now = ev_now();

	if (now - window >= LOG_WINDOW_MS) {
		if (skipped > 0)
			log_info("policy: %lu more connections closed for bad "
			    "requests, not logged", skipped);
		window = now;
		lines = 0;
		skipped = 0;
	}
	if (lines++ < LOG_BUDGET)
		log_info("policy connection on %s: %s; closing", c->name, why);
	else
		skipped++;
}

static void
pcon_close(struct pcon *c, const char *why)
{
	if (why != NULL) {
		log_close(c, why);
		METRIC_INC(smtp.policy[POLICY_M_BAD]);
	}
	ev_timer_del(&c->tm);
	if (ev_io_close(&c->io) == -1)
		log_warn("policy connection on %s: close", c->name);
	slots[c->slot] = NULL;
	ncons--;
	METRIC_SET(smtp.policy_open, ncons);
	ev_free_later(c);
}

/* Watch for what the connection waits for, until its deadline. */
static void
pcon_wait(struct pcon *c)
{
	uint32_t ev = 0;

	if (c->outlen > c->outoff)
		ev = EPOLLOUT;
	else if (c->want == 0)
		ev = EPOLLIN;
	if (ev_io_mod(&c->io, ev) == -1) {
		log_warn("policy connection on %s: epoll", c->name);
		pcon_close(c, NULL);
		return;
	}
	ev_timer_set(&c->tm, c->deadline, pcon_timeout);
}

/* Write what is pending: 0, or -1 if the connection was closed. */
static int
pcon_flush(struct pcon *c)
{
	while (c->outoff < c->outlen) {
		ssize_t n = write(c->io.fd, c->out + c->outoff,
		    c->outlen - c->outoff);

		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return 0;
			log_info("policy connection on %s: write: %s",
			    c->name, strerror(errno));
			pcon_close(c, NULL);
			return -1;
		}
		c->outoff += (size_t)n;
	}
	c->outoff = c->outlen = 0;
	c->deadline = ev_now() + pc.idle_ms;
	return 0;
}

/*
 * Answer the current request: 0, or -1 if the connection was closed.
 * What is not written at once waits for EPOLLOUT (pcon_wait).
 */
static int
pcon_answer(struct pcon *c, enum polreq_verdict v, int64_t secs,
    const char *msg)
{
	struct polreq_conf rc = pc.reply;

	c->want = 0;
	/* X-Greylist once per message: its other recipients get DUNNO. */
	if (v == POLREQ_V_PASS) {
		if (c->req.instance[0] != '\0' &&
		    strcmp(c->instance, c->req.instance) == 0)
			v = POLREQ_V_DUNNO;
		memcpy(c->instance, c->req.instance, sizeof(c->instance));
	}
	METRIC_INC(smtp.policy[v]);
	rc.msg = msg;
	c->outlen = polreq_reply(c->out, sizeof(c->out), &rc, &c->req, v,
	    secs, clock_now());
	if (c->outlen == 0)	/* only a very long text gets here */
		c->outlen = (size_t)snprintf(c->out, sizeof(c->out),
		    "action=DUNNO\n\n");
	c->outoff = 0;
	c->deadline = ev_now() + pc.timeout_ms;
	polreq_reset(&c->req);
	c->inreq = 0;
	return pcon_flush(c);
}

/* After an answer from outside the input loop: go on reading. */
static void
pcon_resume(struct pcon *c)
{
	if (c->outlen == 0)
		pcon_input(c);		/* requests that came meanwhile */
	else
		pcon_wait(c);
}

/*
 * A listed client: the first line of its lists' reply, as redirect mode
 * would send it (%A expanded). 0 not listed, 1 answered, -1 closed.
 */
static int
listed(struct pcon *c, const struct addr *ip)
{
	struct sdl_list *l;
	char buf[SMTP_LISTED_REPLY_MAX], *eol;
	const char *msg;
	size_t n;

	if (sdl_lookup(ip, &l, 1) == 0)
		return 0;
	msg = sdl_msg(l);
	n = smtp_listed_reply(buf, sizeof(buf), 450, &msg, 1, ip);
	sdl_unref(l);
	if (n < 4)
		snprintf(buf, sizeof(buf), "450 blacklisted");
	if ((eol = strpbrk(buf, "\r\n")) != NULL)
		*eol = '\0';
	return pcon_answer(c, POLREQ_V_LISTED, 0, buf + 4) == -1 ? -1 : 1;
}

/*
 * A complete request: answer it, or hand its tuple to the greylister.
 * 0, or -1 if the connection was closed.
 */
static int
pcon_request(struct pcon *c)
{
	struct polreq_tuple t;
	uint32_t id;
	int rc;

	switch (polreq_decide(&c->req, &t)) {
	case POLREQ_BAD:
		pcon_close(c, polreq_error());
		return -1;
	case POLREQ_DUNNO:
		return pcon_answer(c, POLREQ_V_DUNNO, 0, NULL);
	case POLREQ_GREY:
		break;
	}
	/* The administrator's bypass list, as in the redirect ruleset. */
	if (nospamd_has(&t.ip)) {
		log_verbose("policy request for %s: in nospamd, DUNNO",
		    c->req.client);
		return pcon_answer(c, POLREQ_V_DUNNO, 0, NULL);
	}
	if ((rc = listed(c, &t.ip)) != 0)
		return rc == -1 ? -1 : 0;
	if (send_fn == NULL)
		return pcon_answer(c, POLREQ_V_DUNNO, 0, NULL);
	/* The slot in the low bits, a sequence number above: never 0. */
	do
		id = (seq++ << SLOT_BITS) | c->slot;
	while (id >> SLOT_BITS == 0);
	if (send_fn(id, &t) == -1)
		return pcon_answer(c, POLREQ_V_BUSY, 0, NULL);
	c->want = id;
	c->deadline = ev_now() + pc.timeout_ms;
	return 0;
}

/*
 * Parse the buffered lines, answering the requests they complete, until
 * one awaits the greylister or an answer awaits the client.
 */
static void
pcon_input(struct pcon *c)
{
	char *p = c->in, *lf;
	size_t left = c->inlen, n;
	int rc;

	while (c->want == 0 && c->outlen == 0 &&
	    (lf = memchr(p, '\n', left)) != NULL) {
		if ((n = (size_t)(lf - p)) > POLREQ_LINE_MAX) {
			pcon_close(c, "a line over the length limit");
			return;
		}
		if (!c->inreq) {
			c->inreq = 1;
			c->deadline = ev_now() + pc.timeout_ms;
		}
		rc = polreq_line(&c->req, p, n);
		p = lf + 1;
		left -= n + 1;
		if (rc == -1) {
			pcon_close(c, polreq_error());
			return;
		}
		if (rc == 1 && pcon_request(c) == -1)
			return;
	}
	memmove(c->in, p, left);
	c->inlen = left;
	if (left > POLREQ_LINE_MAX && memchr(c->in, '\n', left) == NULL) {
		pcon_close(c, "a line over the length limit");
		return;
	}
	if (left > 0 && !c->inreq) {
		c->inreq = 1;
		c->deadline = ev_now() + pc.timeout_ms;
	}
	pcon_wait(c);
}

static void
pcon_read(struct pcon *c)
{
	ssize_t n;

	if (c->inlen == sizeof(c->in)) {
		pcon_close(c, "request too large");
		return;
	}
	n = read(c->io.fd, c->in + c->inlen, sizeof(c->in) - c->inlen);
	if (n == -1) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		log_info("policy connection on %s: read: %s", c->name,
		    strerror(errno));
		pcon_close(c, NULL);
		return;
	}
	if (n == 0) {
		pcon_close(c, c->inreq ? "closed in the middle of a request" :
		    NULL);
		return;
	}
	c->inlen += (size_t)n;
	pcon_input(c);
}

static void
pcon_io(struct ev_io *io, uint32_t events)
{
	struct pcon *c = EV_CONTAINER(io, struct pcon, io);

	if (c->outlen > 0) {
		if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) == 0)
			return;
		if (pcon_flush(c) == -1)
			return;
		pcon_resume(c);
		return;
	}
	if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
		pcon_read(c);
}

static void
pcon_timeout(struct ev_timer *t)
{
	struct pcon *c = EV_CONTAINER(t, struct pcon, tm);

	if (c->want != 0) {
		log_warnx("policy connection on %s: no answer from the "
		    "greylister in %llu s: DUNNO", c->name,
		    (unsigned long long)(pc.timeout_ms / 1000));
		METRIC_INC(smtp.policy[POLICY_M_TIMEOUT]);
		if (pcon_answer(c, POLREQ_V_DUNNO, 0, NULL) == 0)
			pcon_resume(c);
		return;
	}
	if (c->outlen > 0)
		pcon_close(c, "the client does not read its answer");
	else if (c->inreq)
		pcon_close(c, "a request that does not end");
	else
		pcon_close(c, NULL);	/* idle: Postfix closes first */
}

void
policy_verdicts(const struct proto_verdict *v, size_t n)
{
	size_t i;
	struct pcon *c;

	for (i = 0; i < n; i++) {
		c = slots[v[i].id & (POLICY_CON_MAX - 1)];
		if (c == NULL || c->want != v[i].id || v[i].id == 0)
			continue;	/* closed, or answered DUNNO already */
		if (pcon_answer(c, (enum polreq_verdict)v[i].v, v[i].secs,
		    NULL) == 0)
			pcon_resume(c);
	}
}

static void
pcon_new(int fd, const char *name)
{
	struct pcon *c;
	uint32_t i;

	for (i = 0; i < POLICY_CON_MAX && slots[i] != NULL; i++)
		;
	if (i == POLICY_CON_MAX || (c = malloc(sizeof(*c))) == NULL) {
		unsigned long n;

		close(fd);
		if ((n = log_ratelimit(&rl_full, 10)) != 0)
			log_warnx("policy: %s; closed %lu new connection%s",
			    i == POLICY_CON_MAX ? "all " "connection slots "
			    "in use" : "out of memory", n, n == 1 ? "" : "s");
		return;
	}
	memset(c, 0, offsetof(struct pcon, in));
	c->inlen = 0;
	c->slot = i;
	c->name = name;
	c->deadline = ev_now() + pc.idle_ms;
	if (ev_io_add(&c->io, fd, 0, pcon_io) == -1) {
		log_warn("policy: epoll");
		close(fd);
		free(c);
		return;
	}
	slots[i] = c;
	ncons++;
	METRIC_SET(smtp.policy_open, ncons);
	log_debug("policy connection on %s (%zu open)", name, ncons);
	pcon_wait(c);
}

static void
plistener_event(struct ev_io *io, uint32_t events)
{
	struct plistener *l = EV_CONTAINER(io, struct plistener, l.io);
	int i, fd;

	(void)events;
	for (i = 0; i < ACCEPT_BURST &&
	    (fd = ev_accept(&l->l, NULL, NULL)) != -1; i++)
		pcon_new(fd, l->name);
}

int
policy_listen(int fd, const char *name)
{
	struct plistener *l;

	if (nlisteners == POLICY_LISTEN_MAX)
		return -1;
	l = &listeners[nlisteners];
	l->name = name;
	l->l.what = "policy listener";
	if (ev_io_add(&l->l.io, fd, EPOLLIN, plistener_event) == -1)
		return -1;
	nlisteners++;
	return 0;
}
