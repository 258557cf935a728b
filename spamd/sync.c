/*
 * sync.c: greylisting state shared with other MX hosts (see sync.h).
 *
 * Sockets: the -y socket receives (bound to port 8025 of an address, or
 * of any address with the multicast group joined on an interface) and
 * also sends datagrams of its family, so peers see our port 8025 as the
 * source, as with OpenBSD; other families get an unbound socket of their
 * own. Multicast goes out of the -Y interface with the given TTL and
 * without loopback, so we never hear ourselves.
 *
 * Our extension identifies a sender by a node id (a hash of the host's
 * mail name, spamd -h, and of the process role, so that spamd's
 * greylister and spamlogd are two streams, as in OpenBSD) and a boot id (the start time in ns,
 * rising across restarts); each datagram has the next sequence number.
 * A receiver keeps a replay window per node (syncmsg_replay_check). An
 * empty extension datagram is a hello: the sender (re)started and asks
 * for the live state, which the greylister sends it (grey.c).
 */
#include <sys/epoll.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/compat.h"
#include "common/log.h"
#include "spamd/ev.h"
#include "spamd/sync.h"

#define SYNC_NODES_MAX	64	/* replay windows kept */
#define KEYFILE_MAX	(64 * 1024)

struct target {
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	int			 ext;		/* --sync-peer: our extension */
	int			 mcast;		/* -Y interface: the group */
	char			 name[80];
};

struct node {
	uint64_t		 node;
	struct syncmsg_replay	 rp;
};

struct sync {
	struct target		 t[SYNC_TARGETS_MAX];
	size_t			 nt;
	int			 rfd;		/* -y, or -1 */
	int			 fd4, fd6;	/* sending */
	unsigned int		 mifindex;	/* -Y interface */
	int			 mttl;
	char			 key[SYNCMSG_KEY_LEN + 1];
	uint32_t		 counter;	/* version 2 */
	struct syncmsg_hdr	 h;		/* extension: node, boot, seq */
	struct node		 nodes[SYNC_NODES_MAX];
	size_t			 nnodes;
	struct ev_io		 io;
	sync_recv_fn		 recv;
	sync_hello_fn		 hello;
	void			*arg;
	unsigned long		 rejects[SYNCMSG_NSTATUS + 3];
	struct log_ratelimit	 rl_reject, rl_send;
};

/* Reasons beyond the codec's. */
enum { REJ_SKEW = SYNCMSG_NSTATUS, REJ_REPLAY, REJ_OWN };

static const char *
reject_name(int r)
{
	switch (r) {
	case REJ_SKEW:
		return "timestamp too far from our clock";
	case REJ_REPLAY:
		return "replayed";
	case REJ_OWN:
		return "our own";
	default:
		return syncmsg_reason((enum syncmsg_status)r);
	}
}

struct sync *
sync_new(int role, const char *ident)
{
	struct sync *s;
	struct timespec ts;
	uint64_t h = 1469598103934665603ULL;	/* FNV-1a */
	size_t i;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->rfd = s->fd4 = s->fd6 = -1;
	s->io.fd = -1;
	s->mttl = 1;
	for (i = 0; ident[i] != '\0'; i++)
		h = (h ^ (unsigned char)ident[i]) * 1099511628211ULL;
	s->h.node = h ^ (uint64_t)role;
	clock_gettime(CLOCK_REALTIME, &ts);
	s->h.boot = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	s->h.version = SYNCMSG_VERSION_EXT;
	return s;
}

/* "host", "host:port", "[v6]:port" into host and port (default 8025). */
static int
split_hostport(const char *spec, char *host, size_t len, char *port,
    size_t plen)
{
	const char *c;

	strlcpy(port, "8025", plen);
	if (spec[0] == '[') {
		if ((c = strchr(spec, ']')) == NULL || (size_t)(c - spec) >= len)
			return -1;
		memcpy(host, spec + 1, (size_t)(c - spec - 1));
		host[c - spec - 1] = '\0';
		if (c[1] == ':')
			strlcpy(port, c + 2, plen);
		else if (c[1] != '\0')
			return -1;
		return 0;
	}
	/* One colon: host:port; more: a bare IPv6 address. */
	if ((c = strchr(spec, ':')) != NULL && strchr(c + 1, ':') == NULL) {
		if ((size_t)(c - spec) >= len)
			return -1;
		memcpy(host, spec, (size_t)(c - spec));
		host[c - spec] = '\0';
		strlcpy(port, c + 1, plen);
		return 0;
	}
	return strlcpy(host, spec, len) >= len ? -1 : 0;
}

int
sync_target(struct sync *s, const char *spec, int ext, char *err,
    size_t len)
{
	struct addrinfo hints, *res;
	struct target *t;
	char host[256], port[16], *colon;
	const char *errstr;
	unsigned int ifindex;
	int rc, ttl = 1;

	if (s->nt == SYNC_TARGETS_MAX) {
		(void)snprintf(err, len, "more than %d targets",
		    SYNC_TARGETS_MAX);
		return -1;
	}
	t = &s->t[s->nt];
	memset(t, 0, sizeof(*t));
	t->ext = ext;
	strlcpy(t->name, spec, sizeof(t->name));
	if (split_hostport(spec, host, sizeof(host), port, sizeof(port)) ==
	    -1) {
		(void)snprintf(err, len, "not host[:port]");
		return -1;
	}
	memset(&hints, 0, sizeof(hints));
	/* OpenBSD's -Y takes the first IPv4 address; ours may be IPv6. */
	hints.ai_family = ext ? AF_UNSPEC : AF_INET;
	hints.ai_socktype = SOCK_DGRAM;
	if ((rc = getaddrinfo(host, port, &hints, &res)) == 0) {
		memcpy(&t->ss, res->ai_addr, res->ai_addrlen);
		t->len = res->ai_addrlen;
		freeaddrinfo(res);
		s->nt++;
		return 0;
	}
	/* -Y interface[:ttl]: OpenBSD's multicast. */
	strlcpy(host, spec, sizeof(host));
	if ((colon = strchr(host, ':')) != NULL)
		*colon++ = '\0';
	if (ext || (ifindex = if_nametoindex(host)) == 0) {
		(void)snprintf(err, len, "%s", gai_strerror(rc));
		return -1;
	}
	if (colon != NULL) {
		ttl = (int)strtonum(colon, 1, 255, &errstr);
		if (errstr != NULL) {
			(void)snprintf(err, len, "ttl %s: %s", colon, errstr);
			return -1;
		}
	}
	if (s->mifindex != 0) {
		(void)snprintf(err, len, "one multicast interface at most");
		return -1;
	}
	s->mifindex = ifindex;
	s->mttl = ttl;
	{
		struct sockaddr_in *sin = (struct sockaddr_in *)&t->ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(SYNCMSG_PORT);
		inet_pton(AF_INET, SYNC_GROUP, &sin->sin_addr);
		t->len = sizeof(*sin);
		t->mcast = 1;
	}
	s->nt++;
	return 0;
}

static int
udp_socket(int af, char *err, size_t len)
{
	int fd;

	if ((fd = socket(af, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) ==
	    -1)
		(void)snprintf(err, len, "socket: %s", strerror(errno));
	return fd;
}

int
sync_listen(struct sync *s, const char *spec, char *err, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	struct addr a;
	unsigned int ifindex = 0;
	int one = 1;

	memset(&ss, 0, sizeof(ss));
	if (addr_parse(spec, &a) == 0) {
		if (addr_to_sockaddr(&a, SYNCMSG_PORT, &ss, &sl) == -1) {
			(void)snprintf(err, len, "bad address");
			return -1;
		}
	} else if ((ifindex = if_nametoindex(spec)) != 0) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(SYNCMSG_PORT);
		sin->sin_addr.s_addr = htonl(INADDR_ANY);
		sl = sizeof(*sin);
	} else {
		(void)snprintf(err, len, "neither an address nor an interface");
		return -1;
	}
	if ((s->rfd = udp_socket(ss.ss_family, err, len)) == -1)
		return -1;
	if (setsockopt(s->rfd, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one)) == -1 || (ss.ss_family == AF_INET6 &&
	    setsockopt(s->rfd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
	    sizeof(one)) == -1)) {
		(void)snprintf(err, len, "setsockopt: %s", strerror(errno));
		return -1;
	}
	if (bind(s->rfd, (struct sockaddr *)&ss, sl) == -1) {
		(void)snprintf(err, len, "bind port %d: %s", SYNCMSG_PORT,
		    strerror(errno));
		return -1;
	}
	if (ifindex != 0) {
		struct ip_mreqn m;

		memset(&m, 0, sizeof(m));
		inet_pton(AF_INET, SYNC_GROUP, &m.imr_multiaddr);
		m.imr_ifindex = (int)ifindex;
		if (setsockopt(s->rfd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m,
		    sizeof(m)) == -1) {
			(void)snprintf(err, len, "join %s on %s: %s",
			    SYNC_GROUP, spec, strerror(errno));
			return -1;
		}
	}
	if (ss.ss_family == AF_INET)
		s->fd4 = s->rfd;
	else
		s->fd6 = s->rfd;
	return 0;
}

int
sync_key(struct sync *s, const char *path, char *err, size_t len)
{
	char *buf;
	ssize_t n;
	size_t got = 0;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		if (errno != ENOENT) {
			(void)snprintf(err, len, "%s: %s", path,
			    strerror(errno));
			return -1;
		}
		log_warnx("sync: no key file %s: the datagrams are signed with "
		    "the empty key, which anyone can forge (as OpenBSD does "
		    "without /etc/mail/spamd.key)", path);
		return syncmsg_key(NULL, 0, s->key) == -1 ? -1 : 0;
	}
	if ((buf = malloc(KEYFILE_MAX + 1)) == NULL) {
		close(fd);
		(void)snprintf(err, len, "out of memory");
		return -1;
	}
	/* One byte more than allowed tells a file that is too large. */
	while (got <= KEYFILE_MAX &&
	    (n = read(fd, buf + got, KEYFILE_MAX + 1 - got)) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			(void)snprintf(err, len, "%s: %s", path,
			    strerror(errno));
			close(fd);
			free(buf);
			return -1;
		}
		got += (size_t)n;
	}
	close(fd);
	if (got > KEYFILE_MAX) {
		(void)snprintf(err, len, "%s: larger than %d bytes", path,
		    KEYFILE_MAX);
		free(buf);
		return -1;
	}
	n = syncmsg_key(buf, got, s->key);
	explicit_bzero(buf, got);
	free(buf);
	if (n == -1) {
		(void)snprintf(err, len, "%s: cannot hash it", path);
		return -1;
	}
	return 0;
}

int
sync_open(struct sync *s, char *err, size_t len)
{
	size_t i;
	int need4 = 0, need6 = 0, loop = 0;
	unsigned char ttl;

	for (i = 0; i < s->nt; i++) {
		if (s->t[i].ss.ss_family == AF_INET)
			need4 = 1;
		else
			need6 = 1;
	}
	if (need4 && s->fd4 == -1 && (s->fd4 = udp_socket(AF_INET, err,
	    len)) == -1)
		return -1;
	if (need6 && s->fd6 == -1 && (s->fd6 = udp_socket(AF_INET6, err,
	    len)) == -1)
		return -1;
	if (s->mifindex != 0) {
		struct ip_mreqn m;

		memset(&m, 0, sizeof(m));
		m.imr_ifindex = (int)s->mifindex;
		ttl = (unsigned char)s->mttl;
		if (setsockopt(s->fd4, IPPROTO_IP, IP_MULTICAST_IF, &m,
		    sizeof(m)) == -1 || setsockopt(s->fd4, IPPROTO_IP,
		    IP_MULTICAST_TTL, &ttl, sizeof(ttl)) == -1 ||
		    setsockopt(s->fd4, IPPROTO_IP, IP_MULTICAST_LOOP, &loop,
		    sizeof(loop)) == -1) {
			(void)snprintf(err, len, "multicast: %s",
			    strerror(errno));
			return -1;
		}
	}
	return 0;
}

int
sync_active(const struct sync *s)
{
	return s != NULL && s->nt > 0;
}

static void
send_one(struct sync *s, const struct target *t, const uint8_t *buf,
    size_t n)
{
	int fd = t->ss.ss_family == AF_INET ? s->fd4 : s->fd6;
	unsigned long k;

	if (fd == -1)
		return;
	if (sendto(fd, buf, n, 0, (const struct sockaddr *)&t->ss,
	    t->len) == -1 && (k = log_ratelimit(&s->rl_send, 60)) != 0)
		log_warnx("sync: send to %s: %s (%lu failed sends)", t->name,
		    strerror(errno), k);
}

/* The next extension datagram of entries e[0..n) into buf; 0 if none. */
static size_t
enc_ext(struct sync *s, uint8_t *buf, size_t size,
    const struct syncmsg_entry *e, size_t n)
{
	s->h.seq++;
	return syncmsg_enc_ext(buf, size, &s->h, s->key, e, n);
}

void
sync_send(struct sync *s, const struct syncmsg_entry *e)
{
	uint8_t v2[SYNCMSG_MAX_DGRAM], ext[SYNCMSG_MAX_DGRAM];
	size_t n2 = 0, ne = 0, i;
	int v4 = e->ip.af == AF_INET, failed = 0, bad2 = 0, bade = 0;
	char ip[ADDR_STRLEN];

	if (s == NULL || s->nt == 0)
		return;
	for (i = 0; i < s->nt; i++) {
		const struct target *t = &s->t[i];

		if (t->ext) {
			if (bade || (ne == 0 && (ne = enc_ext(s, ext,
			    sizeof(ext), e, 1)) == 0)) {
				failed = bade = 1;
				continue;
			}
			send_one(s, t, ext, ne);
		} else if (v4) {
			if (bad2)
				continue;
			if (n2 == 0) {
				if ((n2 = syncmsg_enc_v2(v2, sizeof(v2),
				    s->counter, s->key, e, 1)) == 0) {
					failed = bad2 = 1;
					continue;
				}
				s->counter++;
			}
			send_one(s, t, v2, n2);
		}
	}
	if (failed && log_ratelimit(&s->rl_send, 60) != 0)
		log_warnx("sync: an entry for %s does not fit a datagram of "
		    "%s; not sent there", addr_ntop(&e->ip, ip, sizeof(ip)),
		    bad2 && bade ? "either version" : bad2 ? "version 2" :
		    "the extension");
}

void
sync_hello(struct sync *s)
{
	uint8_t buf[SYNCMSG_MAX_DGRAM];
	size_t n, i;

	if (s == NULL)
		return;
	for (i = 0; i < s->nt; i++) {
		if (!s->t[i].ext)
			continue;
		if ((n = enc_ext(s, buf, sizeof(buf), NULL, 0)) == 0)
			return;
		send_one(s, &s->t[i], buf, n);
	}
}

int
sync_send_to(struct sync *s, int peer, const struct syncmsg_entry *e,
    size_t n)
{
	uint8_t buf[SYNCMSG_MAX_DGRAM];
	const struct target *t = &s->t[peer];
	int fd = t->ss.ss_family == AF_INET ? s->fd4 : s->fd6;
	size_t len;

	if (fd == -1 || n == 0)
		return 0;
	if ((len = enc_ext(s, buf, sizeof(buf), e, n)) == 0) {
		if (log_ratelimit(&s->rl_send, 60) != 0)
			log_warnx("sync: %zu entries for %s do not fit a "
			    "datagram; not sent", n, t->name);
		return 0;
	}
	if (sendto(fd, buf, len, 0, (const struct sockaddr *)&t->ss,
	    t->len) == -1)
		return errno == EAGAIN || errno == ENOBUFS ? -1 : 0;
	return 0;
}

static void
reject(struct sync *s, int why, const struct sockaddr_storage *from)
{
	struct addr a;
	char ip[ADDR_STRLEN] = "?";
	unsigned long k;

	s->rejects[why]++;
	if (addr_from_sockaddr((const struct sockaddr *)from, &a, NULL) == 0)
		addr_ntop(&a, ip, sizeof(ip));
	if ((k = log_ratelimit(&s->rl_reject, 60)) != 0)
		log_warnx("sync: dropped a datagram from %s: %s (%lu dropped "
		    "since the last report)", ip, reject_name(why), k);
}

static struct node *
node_of(struct sync *s, uint64_t id)
{
	size_t i;

	for (i = 0; i < s->nnodes; i++)
		if (s->nodes[i].node == id)
			return &s->nodes[i];
	if (s->nnodes == SYNC_NODES_MAX)
		return NULL;
	memset(&s->nodes[s->nnodes], 0, sizeof(s->nodes[0]));
	s->nodes[s->nnodes].node = id;
	return &s->nodes[s->nnodes++];
}

/* The --sync-peer target at the datagram's source address, or -1. */
static int
peer_of(const struct sync *s, const struct sockaddr_storage *from)
{
	struct addr a, b;
	size_t i;

	if (addr_from_sockaddr((const struct sockaddr *)from, &a, NULL) == -1)
		return -1;
	for (i = 0; i < s->nt; i++)
		if (s->t[i].ext && addr_from_sockaddr((const struct sockaddr *)
		    &s->t[i].ss, &b, NULL) == 0 && addr_cmp(&a, &b) == 0)
			return (int)i;
	return -1;
}

static void
one_datagram(struct sync *s, const uint8_t *buf, size_t len,
    const struct sockaddr_storage *from)
{
	static struct syncmsg_entry e[SYNCMSG_ENTRIES_MAX];
	struct syncmsg_hdr h;
	struct node *nd;
	const char *why;
	enum syncmsg_status st;
	size_t n = 0, i;
	int64_t now = clock_now();
	int ext, peer;

	st = syncmsg_dec(buf, len, s->key, e, SYNCMSG_ENTRIES_MAX, &n, &why,
	    &h);
	if (st != SYNCMSG_OK)
		reject(s, st, from);
	if (n == 0 && st != SYNCMSG_OK)
		return;
	ext = h.version == SYNCMSG_VERSION_EXT;
	if (ext) {
		if (h.node == s->h.node) {
			reject(s, REJ_OWN, from);
			return;
		}
		if ((nd = node_of(s, h.node)) == NULL ||
		    !syncmsg_replay_check(&nd->rp, h.node, h.boot, h.seq)) {
			reject(s, REJ_REPLAY, from);
			return;
		}
		if (n == 0 && st == SYNCMSG_OK) {
			/* A hello: the peer (re)started. */
			if ((peer = peer_of(s, from)) == -1)
				log_info("sync: a hello from a host that is "
				    "no --sync-peer: not sending it our state");
			else if (s->hello != NULL)
				s->hello(s->arg, peer);
			return;
		}
	}
	for (i = 0; i < n; i++) {
		if (!ext && (e[i].timestamp > now + SYNC_SKEW ||
		    e[i].timestamp < now - SYNC_SKEW)) {
			reject(s, REJ_SKEW, from);
			continue;
		}
		s->recv(s->arg, &e[i], ext);
	}
}

static void
sync_event(struct ev_io *io, uint32_t events)
{
	struct sync *s = EV_CONTAINER(io, struct sync, io);
	uint8_t buf[SYNCMSG_MAX_DGRAM + 1];
	struct sockaddr_storage from;
	socklen_t fl;
	ssize_t n;
	int i;

	(void)events;
	for (i = 0; i < 64; i++) {
		fl = sizeof(from);
		n = recvfrom(io->fd, buf, sizeof(buf), 0,
		    (struct sockaddr *)&from, &fl);
		if (n == -1) {
			if (errno != EAGAIN && errno != EINTR)
				log_warn("sync: recvfrom");
			return;
		}
		if ((size_t)n > SYNCMSG_MAX_DGRAM) {
			reject(s, SYNCMSG_TRUNCATED, &from);
			continue;
		}
		one_datagram(s, buf, (size_t)n, &from);
	}
}

int
sync_start(struct sync *s, sync_recv_fn recv, sync_hello_fn hello,
    void *arg)
{
	s->recv = recv;
	s->hello = hello;
	s->arg = arg;
	if (s->rfd == -1)
		return 0;
	return ev_io_add(&s->io, s->rfd, EPOLLIN, sync_event);
}

void
sync_close(struct sync *s)
{
	if (s == NULL)
		return;
	if (s->io.fd != -1)
		ev_io_del(&s->io);
	s->io.fd = -1;
	if (s->fd4 != -1 && s->fd4 != s->rfd)
		close(s->fd4);
	if (s->fd6 != -1 && s->fd6 != s->rfd)
		close(s->fd6);
	if (s->rfd != -1)
		close(s->rfd);
	s->rfd = s->fd4 = s->fd6 = -1;
}
