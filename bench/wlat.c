/*
 * wlat.c: whitelist latency of spamd, from the RCPT of a qualifying retry
 * to the address being in the nft white set, for many hosts.
 *
 * usage: wlat [-c conc] [-F floor] [-r rate] [-p passwait] [-W wait]
 *	    [-o rawfile] -f addrfile host4 host6 port
 *
 *	addrfile	one source address per line (IPv4 or IPv6); each is a
 *			host that must be bindable here (an address of lo)
 *	host4/host6	where spamd listens, for IPv4 and IPv6 sources
 *	-c	concurrent sessions (default 50)
 *	-r	retries started per second (default 200)
 *	-p	seconds between the end of the first contacts and the first
 *		retry (default 2.2: spamd -G 1s counts whole seconds)
 *	-W	seconds to wait for late set events (default 5)
 *	-o	write "address latency_ms" per host to rawfile
 *	-F	after the test, the floor: add this many addresses (half
 *		192.0.2.101.., half 2001:db8:0:2::1..) one at a time to
 *		spamd_white/spamd_white6 with libnft's nft_add (one batch
 *		each) and time call -> event the same way (default 200, 0 = no
 *		floor; at most 200)
 *
 * Method. Before anything else the tool joins NFNLGRP_NFTABLES, the
 * multicast group on which the kernel announces every committed nftables
 * change (needs CAP_NET_ADMIN). Phase 1: each host makes a first contact
 * (HELO, MAIL, RCPT, DATA -> 451) with its own tuple. Phase 2, after -p
 * seconds: each host retries the same tuple, paced at -r per second; the
 * monotonic time is taken just before the RCPT line is sent. A
 * NFT_MSG_NEWSETELEM event naming the host's address in table "spamd"
 * gives the second time stamp, taken when the event is read; the tool
 * sleeps in epoll_wait on the event socket and the sessions together, so
 * the read follows the commit by the wake-up latency (microseconds
 * unless the two cores are busy). The kernel sends the event after the
 * batch that added the element committed, so the address is in the set
 * when the event is sent: latency = event read - RCPT sent, an upper
 * bound of the true insertion time by the wake-up delay.
 *
 * Prints one line: hosts=N v4=.. v6=.. got=.. missing=.. early=..
 * errors=.. overruns=.. min_ms=.. median_ms=.. p90_ms=.. p99_ms=..
 * max_ms=.. retry_rate=.. floor_n=.. floor_median_ms=.. floor_p99_ms=..
 * ("early": set before its retry, "overruns": ENOBUFS on the event
 * socket, each may hide events).
 */
#include <sys/epoll.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "bench/benchsmtp.h"
#include "bench/benchutil.h"
#include "common/addr.h"
#include "common/log.h"
#include "nft/nft.h"

#define MAX_HOSTS	4096
#define FLOOR_MAX	200
#define MAX_EVENTS	256
#define BUF_LEN		1024
#define TABLE		"spamd"
#define ATTR_MAX	31	/* above every NFTA_* attribute parsed here */

enum st { S_IDLE, S_BANNER, S_HELO, S_MAIL, S_RCPT, S_DATA };

struct host {
	struct sockaddr_storage	 src;
	socklen_t		 srclen;
	uint8_t			 key[16];
	size_t			 keylen;
	char			 name[INET6_ADDRSTRLEN];
	uint64_t		 t_rcpt, t_set;	/* µs, 0 = not yet */
};

struct sess {
	int		 fd;
	enum st		 st;
	int		 connected;
	int		 retry;
	struct host	*h;
	size_t		 len;
	char		 buf[BUF_LEN];
};

static struct host hosts[MAX_HOSTS + FLOOR_MAX];
static size_t nhosts, nv4, nv6, nall;	/* nall: hosts and floor ones */
static struct sockaddr_storage dst4, dst6;
static int ep, evfd;
static unsigned long long errors, early, overruns;
static size_t done;			/* sessions finished in this phase */
static int evmark;			/* epoll tag of the event socket */

static struct host *
host_by_key(const uint8_t *k, size_t len)
{
	size_t i;

	/* 1,000 hosts, a few thousand events: a scan is cheap enough. */
	for (i = 0; i < nall; i++)
		if (hosts[i].keylen == len && memcmp(hosts[i].key, k, len) == 0)
			return &hosts[i];
	return NULL;
}

static void
read_hosts(const char *path)
{
	char line[256], *p;
	FILE *fp;

	if ((fp = fopen(path, "r")) == NULL)
		benchutil_die(path);
	while (fgets(line, sizeof(line), fp) != NULL) {
		struct host *h;

		if ((p = strpbrk(line, " \t\r\n#")) != NULL)
			*p = '\0';
		if (line[0] == '\0')
			continue;
		if (nhosts == MAX_HOSTS) {
			fprintf(stderr, "wlat: more than %d hosts\n",
			    MAX_HOSTS);
			exit(2);
		}
		h = &hosts[nhosts];
		memset(h, 0, sizeof(*h));
		if (strchr(line, ':') == NULL) {
			struct sockaddr_in *s = (struct sockaddr_in *)&h->src;

			s->sin_family = AF_INET;
			if (inet_pton(AF_INET, line, &s->sin_addr) != 1)
				goto bad;
			memcpy(h->key, &s->sin_addr, 4);
			h->keylen = 4;
			h->srclen = sizeof(*s);
			nv4++;
		} else {
			struct sockaddr_in6 *s =
			    (struct sockaddr_in6 *)&h->src;

			s->sin6_family = AF_INET6;
			if (inet_pton(AF_INET6, line, &s->sin6_addr) != 1)
				goto bad;
			memcpy(h->key, &s->sin6_addr, 16);
			h->keylen = 16;
			h->srclen = sizeof(*s);
			nv6++;
		}
		if (inet_ntop(h->keylen == 4 ? AF_INET : AF_INET6, h->key,
		    h->name, sizeof(h->name)) == NULL)
			benchutil_die("inet_ntop");
		nhosts++;
	}
	if (ferror(fp) || fclose(fp) == EOF)
		benchutil_die(path);
	nall = nhosts;
	return;
bad:
	fprintf(stderr, "wlat: %s: bad address \"%s\"\n", path, line);
	exit(2);
}

/* ---- nftables events ---------------------------------------------------- */

static void
open_events(void)
{
	struct mnl_socket *nl;
	struct epoll_event ee;
	int grp = NFNLGRP_NFTABLES, sz = 16 * 1024 * 1024;

	if ((nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_NONBLOCK |
	    SOCK_CLOEXEC)) == NULL)
		benchutil_die("netlink socket");
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		benchutil_die("netlink bind");
	evfd = mnl_socket_get_fd(nl);
	if (setsockopt(evfd, SOL_SOCKET, SO_RCVBUFFORCE, &sz,
	    sizeof(sz)) == -1)
		benchutil_die("SO_RCVBUFFORCE");
	if (setsockopt(evfd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &grp,
	    sizeof(grp)) == -1)
		benchutil_die("join NFNLGRP_NFTABLES");
	memset(&ee, 0, sizeof(ee));
	ee.events = EPOLLIN;
	ee.data.ptr = &evmark;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, evfd, &ee) == -1)
		benchutil_die("epoll_ctl events");
	/* The mnl handle stays open for the life of the process. */
}

struct elctx {
	uint64_t	t;
};

static int
keep_attr(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	uint16_t type = mnl_attr_get_type(a);

	if (type <= ATTR_MAX)
		tb[type] = a;
	return MNL_CB_OK;
}

static void
one_element(const struct nlattr *el, uint64_t t)
{
	const struct nlattr *tb[ATTR_MAX + 1], *db[ATTR_MAX + 1];
	struct host *h;

	memset(tb, 0, sizeof(tb));
	if (mnl_attr_parse_nested(el, keep_attr, tb) < 0 ||
	    tb[NFTA_SET_ELEM_KEY] == NULL)
		return;
	memset(db, 0, sizeof(db));
	if (mnl_attr_parse_nested(tb[NFTA_SET_ELEM_KEY], keep_attr, db) < 0 ||
	    db[NFTA_DATA_VALUE] == NULL)
		return;
	h = host_by_key(mnl_attr_get_payload(db[NFTA_DATA_VALUE]),
	    mnl_attr_get_payload_len(db[NFTA_DATA_VALUE]));
	if (h == NULL || h->t_set != 0)
		return;
	if (h->t_rcpt == 0) {
		early++;
		return;
	}
	h->t_set = t;
}

static int
event_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct elctx *c = data;
	const struct nlattr *tb[ATTR_MAX + 1], *el;

	if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_NFTABLES ||
	    NFNL_MSG_TYPE(nlh->nlmsg_type) != NFT_MSG_NEWSETELEM)
		return MNL_CB_OK;
	memset(tb, 0, sizeof(tb));
	if (mnl_attr_parse(nlh, sizeof(struct nfgenmsg), keep_attr, tb) < 0)
		return MNL_CB_OK;
	if (tb[NFTA_SET_ELEM_LIST_TABLE] == NULL ||
	    strcmp(mnl_attr_get_str(tb[NFTA_SET_ELEM_LIST_TABLE]),
	    TABLE) != 0 || tb[NFTA_SET_ELEM_LIST_ELEMENTS] == NULL)
		return MNL_CB_OK;
	mnl_attr_for_each_nested(el, tb[NFTA_SET_ELEM_LIST_ELEMENTS])
		one_element(el, c->t);
	return MNL_CB_OK;
}

static void
read_events(void)
{
	static char buf[256 * 1024];
	struct elctx c;
	ssize_t n;
	int i;

	for (i = 0; i < 1024; i++) {
		n = recv(evfd, buf, sizeof(buf), 0);
		c.t = benchutil_now_us();
		if (n == -1) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			if (errno == ENOBUFS) {
				overruns++;
				continue;
			}
			benchutil_die("netlink recv");
		}
		(void)mnl_cb_run(buf, (size_t)n, 0, 0, event_cb, &c);
	}
}

/* ---- SMTP sessions ------------------------------------------------------ */

static void
sess_finish(struct sess *s, int ok)
{
	if (!ok)
		errors++;
	if (close(s->fd) == -1)
		benchutil_die("close");
	s->fd = -1;
	s->st = S_IDLE;
	done++;
}

static void
sess_start(struct sess *s, struct host *h, int retry)
{
	const struct sockaddr_storage *d = h->src.ss_family == AF_INET ?
	    &dst4 : &dst6;

	s->h = h;
	s->retry = retry;
	s->len = 0;
	s->st = S_BANNER;
	s->connected = 0;
	if ((s->fd = socket(h->src.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		benchutil_die("socket");
	if (bind(s->fd, (const struct sockaddr *)&h->src, h->srclen) == -1) {
		fprintf(stderr, "wlat: bind %s: %s\n", h->name,
		    strerror(errno));
		exit(1);
	}
	benchsmtp_start(ep, s->fd, (const struct sockaddr *)d,
	    d->ss_family == AF_INET ? sizeof(struct sockaddr_in) :
	    sizeof(struct sockaddr_in6), s, 0);
}

static int
on_reply(void *arg, int code)
{
	struct sess *s = arg;

	char cmd[160];
	size_t idx = (size_t)(s->h - hosts);

	switch (s->st) {
	case S_BANNER:
		if (code / 100 != 2)
			return -1;
		s->st = S_HELO;
		snprintf(cmd, sizeof(cmd), "HELO h%zu.example\r\n", idx);
		return benchsmtp_say(s->fd, cmd);
	case S_HELO:
		if (code / 100 != 2)
			return -1;
		s->st = S_MAIL;
		snprintf(cmd, sizeof(cmd), "MAIL FROM:<s%zu@example.com>\r\n",
		    idx);
		return benchsmtp_say(s->fd, cmd);
	case S_MAIL:
		if (code / 100 != 2)
			return -1;
		s->st = S_RCPT;
		snprintf(cmd, sizeof(cmd), "RCPT TO:<r%zu@example.org>\r\n",
		    idx);
		if (s->retry && s->h->t_rcpt == 0)
			s->h->t_rcpt = benchutil_now_us();
		return benchsmtp_say(s->fd, cmd);
	case S_RCPT:
		if (code / 100 != 2)
			return -1;
		s->st = S_DATA;
		return benchsmtp_say(s->fd, "DATA\r\n");
	case S_DATA:
		sess_finish(s, code / 100 == 4);
		return 1;
	default:
		return -1;
	}
}

static void
sess_event(struct sess *s, uint32_t events)
{
	if (benchsmtp_event(ep, s->fd, s, events, &s->connected, s->buf,
	    &s->len, sizeof(s->buf), on_reply, s) < 0)
		sess_finish(s, 0);
}

/*
 * Run one session per host, at most conc at a time, starting them no
 * faster than rate per second (0: as fast as possible). Bounded by
 * maxsecs.
 */
static void
run_phase(struct sess *ss, unsigned conc, double rate, int retry,
    double maxsecs)
{
	struct epoll_event ev[MAX_EVENTS];
	uint64_t t0 = benchutil_now_us(), end = t0 + (uint64_t)(maxsecs * 1e6);
	size_t next = 0;
	unsigned i;
	int n, k;

	done = 0;
	while (done < nhosts) {
		uint64_t t = benchutil_now_us();

		if (t > end) {
			fprintf(stderr, "wlat: phase %d did not finish in "
			    "%.0f s\n", retry + 1, maxsecs);
			exit(1);
		}
		for (i = 0; i < conc && next < nhosts; i++) {
			if (ss[i].st != S_IDLE)
				continue;
			if (rate > 0 && (double)(t - t0) <
			    (double)next * 1e6 / rate)
				break;
			sess_start(&ss[i], &hosts[next++], retry);
		}
		if ((n = epoll_wait(ep, ev, MAX_EVENTS, 1)) == -1) {
			if (errno == EINTR)
				continue;
			benchutil_die("epoll_wait");
		}
		for (k = 0; k < n; k++) {
			if (ev[k].data.ptr == &evmark)
				read_events();
			else
				sess_event(ev[k].data.ptr, ev[k].events);
		}
	}
}

static void
wait_events(double secs)
{
	struct epoll_event ev[MAX_EVENTS];
	uint64_t end = benchutil_now_us() + (uint64_t)(secs * 1e6);
	size_t i, missing;
	int n, k;

	while (benchutil_now_us() < end) {
		for (i = 0, missing = 0; i < nhosts; i++)
			missing += hosts[i].t_set == 0;
		if (missing == 0)
			return;
		if ((n = epoll_wait(ep, ev, MAX_EVENTS, 50)) == -1) {
			if (errno == EINTR)
				continue;
			benchutil_die("epoll_wait");
		}
		for (k = 0; k < n; k++)
			if (ev[k].data.ptr == &evmark)
				read_events();
	}
}

/*
 * The floor: one-element nft_add batches from this process, timed from
 * the call to the event, like the hosts. Returns how many were timed;
 * their latencies (µs) go to out.
 */
static size_t
floor_run(size_t n, uint64_t *out)
{
	const struct nft_set set4 = { TABLE, "spamd_white", NFPROTO_INET,
	    AF_INET, 0 };
	const struct nft_set set6 = { TABLE, "spamd_white6", NFPROTO_INET,
	    AF_INET6, 0 };
	struct epoll_event ev[MAX_EVENTS];
	struct nft_elem el;
	struct nft *nft;
	char a[INET6_ADDRSTRLEN];
	size_t i, got = 0;

	if ((nft = nft_open("netlink")) == NULL) {
		fprintf(stderr, "wlat: nft_open: %s\n", nft_open_errstr());
		return 0;
	}
	for (i = 0; i < n; i++) {
		struct host *h = &hosts[nall];
		uint64_t end;
		int k, m, v6 = i >= n / 2;

		if (v6)
			snprintf(a, sizeof(a), "2001:db8:0:2::%zx", i + 1);
		else
			snprintf(a, sizeof(a), "192.0.2.%zu", 101 + i);
		memset(h, 0, sizeof(*h));
		memset(&el, 0, sizeof(el));
		if (addr_parse(a, &el.a) == -1) {
			fprintf(stderr, "wlat: floor address %s\n", a);
			exit(1);
		}
		h->keylen = v6 ? 16 : 4;
		memcpy(h->key, el.a.u.b, h->keylen);
		snprintf(h->name, sizeof(h->name), "%s", a);
		nall++;
		el.timeout_ms = 3600 * 1000;
		h->t_rcpt = benchutil_now_us();
		if (nft_add(nft, v6 ? &set6 : &set4, &el, 1, NFT_REFRESH) !=
		    0) {
			fprintf(stderr, "wlat: nft_add %s: %s\n", a,
			    nft_errstr(nft));
			break;
		}
		end = benchutil_now_us() + 1000000;
		while (h->t_set == 0 && benchutil_now_us() < end) {
			if ((m = epoll_wait(ep, ev, MAX_EVENTS, 10)) == -1) {
				if (errno == EINTR)
					continue;
				benchutil_die("epoll_wait");
			}
			for (k = 0; k < m; k++)
				if (ev[k].data.ptr == &evmark)
					read_events();
		}
		if (h->t_set != 0)
			out[got++] = h->t_set - h->t_rcpt;
	}
	nft_close(nft);
	return got;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double
pct(const uint64_t *v, size_t n, double p)
{
	size_t i;

	if (n == 0)
		return 0;
	i = (size_t)(p * (double)(n - 1) + 0.5);
	return (double)v[i] / 1000.0;
}

static void
parse_dst(const char *s, int af, struct sockaddr_storage *d, uint16_t port)
{
	memset(d, 0, sizeof(*d));
	if (af == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)d;

		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		if (inet_pton(AF_INET, s, &a->sin_addr) == 1)
			return;
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)d;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		if (inet_pton(AF_INET6, s, &a->sin6_addr) == 1)
			return;
	}
	fprintf(stderr, "wlat: bad server address %s\n", s);
	exit(2);
}

static __attribute__((noreturn)) void
usage(void)
{
	fprintf(stderr, "usage: wlat [-c conc] [-r rate] [-p passwait] "
	    "[-W wait] [-o rawfile] -f addrfile host4 host6 port\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	const char *addrfile = NULL, *rawfile = NULL;
	struct sess *ss;
	uint64_t *lat, t0, flat[FLOOR_MAX];
	unsigned conc = 50, i;
	double rate = 200, passwait = 2.2, waitsecs = 5, span;
	size_t got = 0, k, nfloor = 200, fgot = 0;
	uint16_t port;
	int ch;

	log_init("wlat", 1, 0);
	while ((ch = getopt(argc, argv, "c:F:f:o:p:r:W:")) != -1) {
		switch (ch) {
		case 'F':
			nfloor = strtoul(optarg, NULL, 10);
			break;
		case 'c':
			conc = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'f':
			addrfile = optarg;
			break;
		case 'o':
			rawfile = optarg;
			break;
		case 'p':
			passwait = strtod(optarg, NULL);
			break;
		case 'r':
			rate = strtod(optarg, NULL);
			break;
		case 'W':
			waitsecs = strtod(optarg, NULL);
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 3 || addrfile == NULL || conc == 0 ||
	    conc > 1000 || nfloor > FLOOR_MAX || rate < 0 || passwait < 0 ||
	    passwait > 600 ||
	    waitsecs < 0 || waitsecs > 600)
		usage();
	port = (uint16_t)strtoul(argv[optind + 2], NULL, 10);
	parse_dst(argv[optind], AF_INET, &dst4, port);
	parse_dst(argv[optind + 1], AF_INET6, &dst6, port);
	read_hosts(addrfile);
	if (nhosts == 0)
		usage();
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		benchutil_die("signal");
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		benchutil_die("epoll_create1");
	open_events();
	if ((ss = calloc(conc, sizeof(*ss))) == NULL ||
	    (lat = calloc(nhosts, sizeof(*lat))) == NULL)
		benchutil_die("calloc");
	for (i = 0; i < conc; i++)
		ss[i].fd = -1;

	run_phase(ss, conc, 0, 0, 120);
	/* Let passtime elapse, reading (and counting) any early events. */
	wait_events(passwait);
	t0 = benchutil_now_us();
	run_phase(ss, conc, rate, 1, 120);
	span = (double)(benchutil_now_us() - t0) / 1e6;
	wait_events(waitsecs);

	for (k = 0; k < nhosts; k++)
		if (hosts[k].t_set != 0)
			lat[got++] = hosts[k].t_set - hosts[k].t_rcpt;
	if (nfloor > 0)
		fgot = floor_run(nfloor, flat);
	if (rawfile != NULL) {
		FILE *fp = fopen(rawfile, "w");

		if (fp == NULL)
			benchutil_die(rawfile);
		for (k = 0; k < nhosts; k++) {
			if (hosts[k].t_set == 0)
				fprintf(fp, "%s missing\n", hosts[k].name);
			else
				fprintf(fp, "%s %.3f\n", hosts[k].name,
				    (double)(hosts[k].t_set -
				    hosts[k].t_rcpt) / 1000.0);
		}
		if (fclose(fp) == EOF)
			benchutil_die(rawfile);
	}
	qsort(lat, got, sizeof(*lat), cmp_u64);
	qsort(flat, fgot, sizeof(*flat), cmp_u64);
	printf("hosts=%zu v4=%zu v6=%zu got=%zu missing=%zu early=%llu "
	    "errors=%llu overruns=%llu min_ms=%.3f median_ms=%.3f "
	    "p90_ms=%.3f p99_ms=%.3f max_ms=%.3f retry_rate=%.0f "
	    "floor_n=%zu floor_median_ms=%.3f floor_p99_ms=%.3f\n", nhosts,
	    nv4, nv6, got, nhosts - got, early, errors, overruns,
	    pct(lat, got, 0), pct(lat, got, 0.5), pct(lat, got, 0.9),
	    pct(lat, got, 0.99), pct(lat, got, 1), span > 0 ?
	    (double)nhosts / span : 0, fgot, pct(flat, fgot, 0.5),
	    pct(flat, fgot, 0.99));
	free(lat);
	free(ss);
	return got > 0 ? 0 : 1;
}
