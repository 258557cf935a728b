/*
 * smtpproc.c: the SMTP process ("jail"): runs the event loop over the
 * listeners, the clients, the configuration socket and the channel to
 * the greylister. It holds no privileges and never touches the database.
 *
 *	smtpproc_main(fds)	never returns: fds are the SMTP listeners
 *		(none with --policy-only), the configuration listener, the
 *		channel to the greylister (-1 in blacklist-only mode) and
 *		policy mode's listeners (spamd.h)
 *
 * It hands con.c and cfgsock.c its callbacks: send_tuple queues a tuple
 * for the greylister (never blocks; drops with a log line when the
 * greylister is hopelessly behind, or when this client holds its share
 * of the queue: the others keep theirs); lists_changed tells the
 * greylister a blacklist was loaded, so it re-checks the whitelist.
 *
 * The greylister asks which WHITE addresses are on a blacklist
 * (PROTO_BLCHECK); the answer (PROTO_BLLISTED, then PROTO_BLCHECK_END)
 * lets it remove them from the whitelist, as OpenBSD's greyscanner does.
 */
#include <sys/prctl.h>

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "spamd/cfgsock.h"
#include "spamd/chan.h"
#include "spamd/con.h"
#include "spamd/ev.h"
#include "spamd/metrics.h"
#include "spamd/mhttp.h"
#include "spamd/nospamd.h"
#include "spamd/policy.h"
#include "spamd/proto.h"
#include "spamd/sandbox.h"
#include "spamd/sdl.h"
#include "spamd/spamd.h"
#include "spamd/tls.h"
#include "spamd/tlsload.h"
#include "spamd/traplist.h"

#define GREY_QUEUE_MAX	(64u * 1024 * 1024)	/* bytes of tuples in flight */

static struct chan	 grey;
static struct chan	 parent;	/* certificates at SIGHUP */
static int		 have_grey;

/* One client (an IPv6 /64) gets its share of the queue only. */
static int
send_keyed(const uint8_t *buf, size_t n, const struct addr *ip)
{
	struct addr key = *ip;

	if (key.af == AF_INET6)
		addr_mask(&key, 64);
	return chan_send_keyed(&grey, buf, n, key.u.b, addr_len(&key));
}

/*
 * With -g, does the client's network hold blacklisted addresses? Then
 * the greylister whitelists the client alone, never its network, so no
 * listed host slips through with the network's nft element.
 */
static int
net_listed(const struct addr *ip)
{
	struct cidr c;

	return cidr_of(ip, conf.group4, conf.group6, &c) &&
	    sdl_listed_net(&c);
}

static int
send_tuple(const struct addr *ip, int lowmx, const char *helo,
    const char *from, const char *to)
{
	uint8_t buf[PROTO_MSG_MAX];
	size_t n;

	if (!have_grey)
		return 0;
	n = proto_enc_tuple(buf, sizeof(buf), ip,
	    (lowmx ? PROTO_T_LOWMX : 0) |
	    (net_listed(ip) ? PROTO_T_NETLISTED : 0), helo, from, to);
	if (n == 0) {
		log_warnx("tuple too large to record");
		return -1;
	}
	if (send_keyed(buf, n, ip) == -1) {
		METRIC_INC(smtp.tuple_drops);
		return -1;
	}
	METRIC_INC(smtp.tuples);
	return 0;
}

/* A policy request's tuple (policy.c): the same way as an SMTP one. */
static int
send_policy(uint32_t id, const struct polreq_tuple *t)
{
	uint8_t buf[PROTO_MSG_MAX];
	size_t n;

	n = proto_enc_policy(buf, sizeof(buf), id, &t->ip,
	    net_listed(&t->ip) ? PROTO_T_NETLISTED : 0, t->helo, t->from,
	    t->to);
	if (n == 0) {
		log_warnx("policy tuple too large to record");
		return -1;
	}
	return send_keyed(buf, n, &t->ip);
}

static void
untrap(const struct addr *a)
{
	sdl_addr_del(SDL_GREYTRAP_TAG, a);
}

static void
trap_update(const struct proto_entry *e)
{
	char a[ADDR_STRLEN];

	if (e->expire == 0 || e->expire <= clock_now()) {
		traplist_set(&e->a, 0);
		sdl_addr_del(SDL_GREYTRAP_TAG, &e->a);
		return;
	}
	if (traplist_set(&e->a, e->expire) == -1 ||
	    sdl_addr_add(SDL_GREYTRAP_TAG, SDL_GREYTRAP_MSG, &e->a) == -1)
		log_warnx("cannot add %s to the trap list",
		    addr_ntop(&e->a, a, sizeof(a)));
}

static void
lists_changed(void)
{
	uint8_t buf[16];
	size_t n;

	if (!have_grey)
		return;
	n = proto_enc_bare(buf, sizeof(buf), PROTO_LISTS_CHANGED);
	chan_send(&grey, buf, n);
}

/* Answer a PROTO_BLCHECK: the listed subset, in one message. */
static void
blcheck(const struct proto_entry *e, size_t n)
{
	struct proto_entry listed[PROTO_ENTRIES_MAX];
	uint8_t buf[PROTO_MSG_MAX];
	size_t i, k = 0, len;

	for (i = 0; i < n; i++) {
		struct cidr c;

		c.a = e[i].a;
		c.plen = e[i].plen;
		if (e[i].plen == 0 ? sdl_listed(&e[i].a) : sdl_listed_net(&c))
			listed[k++] = e[i];
	}
	if (k == 0)
		return;
	len = proto_enc_entries(buf, sizeof(buf), PROTO_BLLISTED, listed, k);
	if (len == 0 || chan_send(&grey, buf, len) == -1)
		log_warnx("could not tell the greylister about %zu "
		    "blacklisted addresses", k);
}

/* A part of the nospamd sets: blocks with their prefix length. */
static void
nospamd_entries(const struct proto_entry *e, size_t n)
{
	struct cidr c[PROTO_ENTRIES_MAX];
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		int64_t bits = 8 * (int64_t)addr_len(&e[i].a);

		if (e[i].expire < 0 || e[i].expire > bits)
			continue;
		c[k].a = e[i].a;
		c[k++].plen = (uint8_t)e[i].expire;
	}
	if (nospamd_add(c, k) == -1)
		log_warnx("out of memory for the nospamd list");
}

static void
grey_msg(struct chan *c, const uint8_t *buf, size_t len)
{
	struct proto_entry e[PROTO_ENTRIES_MAX];
	struct proto_verdict v[PROTO_VERDICTS_MAX];
	uint8_t out[16];
	size_t n, i;
	int t = proto_type(buf, len);

	(void)c;
	if (t == PROTO_VERDICT &&
	    proto_dec_verdicts(buf, len, v, PROTO_VERDICTS_MAX, &n) == 0) {
		policy_verdicts(v, n);
		return;
	}
	if (t == PROTO_NOSPAMD_BEGIN) {
		nospamd_begin();
		return;
	}
	if (t == PROTO_NOSPAMD_END) {
		n = nospamd_end();
		log_info("nospamd: %zu range%s exempt from policy requests",
		    n, n == 1 ? "" : "s");
		return;
	}
	if (t == PROTO_NOSPAMD &&
	    proto_dec_entries(buf, len, e, PROTO_ENTRIES_MAX, &n) == 0) {
		nospamd_entries(e, n);
		return;
	}
	if (t == PROTO_TRAP_SYNC_BEGIN) {
		traplist_begin();
		return;
	}
	if (t == PROTO_TRAP_SYNC_END) {
		if ((n = traplist_sweep(untrap)) > 0)
			log_info("%zu address%s no longer trapped", n,
			    n == 1 ? "" : "es");
		return;
	}
	if (t == PROTO_BLCHECK_END) {
		n = proto_enc_bare(out, sizeof(out), PROTO_BLCHECK_END);
		chan_send(&grey, out, n);
		return;
	}
	if ((t != PROTO_TRAP && t != PROTO_BLCHECK) ||
	    proto_dec_entries(buf, len, e, PROTO_ENTRIES_MAX, &n) == -1) {
		log_warnx("greylister sent a malformed message (%zu bytes)",
		    len);
		return;
	}
	if (t == PROTO_BLCHECK) {
		blcheck(e, n);
		return;
	}
	for (i = 0; i < n; i++)
		trap_update(&e[i]);
}

static void
grey_closed(struct chan *c)
{
	(void)c;
	log_warnx("the greylister went away; exiting");
	exit(1);
}

static void
parent_msg(struct chan *c, const uint8_t *buf, size_t len)
{
	(void)c;
	tlsload_msg(buf, len, con_tls_set);
}

static void
parent_closed(struct chan *c)
{
	(void)c;
	/* The parent's death kills this process (PR_SET_PDEATHSIG). */
}

/* SIGHUP: the parent reloads the certificate; nothing to do here. */
static void
on_hup(int sig)
{
	(void)sig;
	if (!have_grey)
		log_info("SIGHUP: nothing to reload in blacklist-only mode");
}

static void
on_signal(int sig)
{
	log_debug("exiting on signal %d", sig);
	ev_break();
}

/*
 * A log line syslog did not take (it restarted, and this process may not
 * reconnect): the greylister logs it. Lines of the channel's own
 * failures are not forwarded (log.c stops the recursion).
 */
static int
forward_log(int pri, const char *line)
{
	uint8_t buf[PROTO_LOG_MAX + 16];
	size_t n;

	if (!have_grey ||
	    (n = proto_enc_log(buf, sizeof(buf), pri, line)) == 0)
		return -1;
	return chan_send(&grey, buf, n);
}

void
smtpproc_main(const struct smtpproc_fds *fd)
{
	int i;

	log_procname("smtp");
	(void)prctl(PR_SET_NAME, "spamd-smtp", 0, 0, 0);
	ev_init();
	for (i = 0; i < fd->nl; i++)
		if (con_listen(fd->lfds[i], send_tuple) == -1)
			fatalx("cannot watch the SMTP listener");
	if (fd->cfgfd != -1 &&
	    cfgsock_listen(fd->cfgfd, lists_changed) == -1)
		fatalx("cannot watch the configuration listener");
	if (fd->greyfd != -1) {
		if (chan_open(&grey, fd->greyfd, "greylister", GREY_QUEUE_MAX,
		    grey_msg, grey_closed) == -1)
			fatalx("cannot watch the greylister channel");
		/* A turn's tuples in one datagram (one send, one recv). */
		chan_batch(&grey);
		have_grey = 1;
	}
	if (fd->mfd != -1 && mhttp_listen(fd->mfd) == -1)
		fatalx("cannot watch the metrics listener");
	if (fd->tls != NULL)
		con_tls_set(fd->tls);
	if (fd->tlsfd != -1) {
		if (chan_open(&parent, fd->tlsfd, "parent", 4 * TLS_FILE_MAX,
		    parent_msg, parent_closed) == -1)
			fatalx("cannot watch the channel to the parent");
		parent.secret = 1;
	}
	if (fd->np > 0) {
		policy_init(fd->policy, have_grey ? send_policy : NULL);
		for (i = 0; i < fd->np; i++)
			if (policy_listen(fd->pfds[i], fd->pnames[i]) == -1)
				fatalx("cannot watch the policy listener %s",
				    fd->pnames[i]);
	}
	log_set_forward(forward_log);
	signal(SIGPIPE, SIG_IGN);
	ev_signal(SIGTERM, on_signal);
	ev_signal(SIGINT, on_signal);
	ev_signal(SIGHUP, on_hup);
	if (sandbox_smtp() == -1)
		fatalx("refusing to face the network without the sandbox");
	for (i = 0; i < fd->np; i++)
		log_warnx("answering policy requests on %s", fd->pnames[i]);
	log_warnx("listening for incoming connections.");
	ev_run();
	if (have_grey)
		chan_flush_blocking(&grey);
	exit(0);
}
