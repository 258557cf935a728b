/*
 * nullsmtp.c: the ceiling of the first-contact benchmark. A null SMTP
 * server with no logic: one epoll loop, non-blocking sockets, a fixed
 * reply per command, so that what is left of its cost is the kernel's
 * (accept, read, write, close) plus the least user space an SMTP server
 * can have. spamd's first-contact rate is reported as a share of this.
 *
 * usage: nullsmtp [-p port] [-t secs] [address]
 *
 *	220 on connect; 250 to HELO, EHLO, MAIL, RCPT, NOOP, RSET and any
 *	other line; 451 to DATA, then close; 221 to QUIT, then close.
 *	Listens on [::] (both families) or the numeric address given, port
 *	2525 by default. Exits after -t seconds (default 600: bounded) or
 *	on SIGTERM/SIGINT, printing "nullsmtp: N sessions" on stderr.
 *
 * Not a test and not a server for anything but the benchmark: replies
 * are written with one send(2); a client that does not read them is
 * dropped when the socket buffer is full rather than queued.
 */
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "bench/benchutil.h"

#define LINE_MAX_LEN	512
#define MAX_EVENTS	256
#define BACKLOG		4096

struct conn {
	int	fd;
	size_t	len;
	char	buf[LINE_MAX_LEN];
};

static int lmark;		/* epoll tag of the listener */
static unsigned long long sessions;

static void
conn_close(int ep, struct conn *c)
{
	if (epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL) == -1)
		benchutil_die("epoll_ctl del");
	if (close(c->fd) == -1)
		benchutil_die("close");
	free(c);
}

/* One send; 0 if it all went out. A short write ends the session. */
static int
reply(const struct conn *c, const char *s)
{
	size_t n = strlen(s);

	return send(c->fd, s, n, MSG_NOSIGNAL | MSG_DONTWAIT) == (ssize_t)n ?
	    0 : -1;
}

static int
is_verb(const char *line, size_t len, const char *verb)
{
	size_t n = strlen(verb);

	return len >= n && strncasecmp(line, verb, n) == 0 &&
	    (len == n || line[n] == ' ' || line[n] == '\r');
}

/* Handle every complete line; -1 when the session is over. */
static int
conn_input(struct conn *c)
{
	char *lf;

	while ((lf = memchr(c->buf, '\n', c->len)) != NULL) {
		size_t len = (size_t)(lf - c->buf);

		if (is_verb(c->buf, len, "DATA")) {
			(void)reply(c, "451 Temporary failure, please try "
			    "again later.\r\n");
			sessions++;
			return -1;
		}
		if (is_verb(c->buf, len, "QUIT")) {
			(void)reply(c, "221 bye\r\n");
			return -1;
		}
		if (reply(c, "250 ok\r\n") == -1)
			return -1;
		memmove(c->buf, lf + 1, c->len - len - 1);
		c->len -= len + 1;
	}
	return c->len == sizeof(c->buf) ? -1 : 0;
}

static void
conn_event(int ep, struct conn *c)
{
	ssize_t n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);

	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0 || (c->len += (size_t)n, conn_input(c) == -1))
		conn_close(ep, c);
}

static void
accept_burst(int ep, int lfd)
{
	int i;

	for (i = 0; i < 64; i++) {
		struct epoll_event ee;
		struct conn *c;
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd == -1) {
			if (errno == EAGAIN)
				return;
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE)
				return;
			benchutil_die("accept4");
		}
		if ((c = malloc(sizeof(*c))) == NULL)
			benchutil_die("malloc");
		c->fd = fd;
		c->len = 0;
		memset(&ee, 0, sizeof(ee));
		ee.events = EPOLLIN;
		ee.data.ptr = c;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ee) == -1)
			benchutil_die("epoll_ctl add");
		if (reply(c, "220 null ESMTP\r\n") == -1)
			conn_close(ep, c);
	}
}

static int
listen_on(const char *addr, unsigned port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1, zero = 0;

	memset(&ss, 0, sizeof(ss));
	if (addr == NULL || strchr(addr, ':') != NULL) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		if (addr != NULL && inet_pton(AF_INET6, addr,
		    &s6->sin6_addr) != 1) {
			fprintf(stderr, "nullsmtp: bad address %s\n", addr);
			exit(2);
		}
		len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, addr, &s4->sin_addr) != 1) {
			fprintf(stderr, "nullsmtp: bad address %s\n", addr);
			exit(2);
		}
		len = sizeof(*s4);
	}
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		benchutil_die("socket");
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1)
		benchutil_die("SO_REUSEADDR");
	if (ss.ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, addr == NULL ? &zero : &one, sizeof(int)) == -1)
		benchutil_die("IPV6_V6ONLY");
	if (bind(fd, (struct sockaddr *)&ss, len) == -1)
		benchutil_die("bind");
	if (listen(fd, BACKLOG) == -1)
		benchutil_die("listen");
	return fd;
}

int
main(int argc, char *argv[])
{
	struct epoll_event ev[MAX_EVENTS], ee;
	struct timespec t0, t;
	unsigned port = 2525;
	long secs = 600;
	int ch, ep, lfd, n, i;

	while ((ch = getopt(argc, argv, "p:t:")) != -1) {
		switch (ch) {
		case 'p':
			port = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 't':
			secs = strtol(optarg, NULL, 10);
			break;
		default:
			fprintf(stderr, "usage: nullsmtp [-p port] [-t secs] "
			    "[address]\n");
			return 2;
		}
	}
	if (port == 0 || port > 65535 || secs <= 0 || secs > 86400 ||
	    argc - optind > 1) {
		fprintf(stderr, "nullsmtp: bad arguments\n");
		return 2;
	}
	benchutil_signals();
	lfd = listen_on(argc > optind ? argv[optind] : NULL, port);
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		benchutil_die("epoll_create1");
	memset(&ee, 0, sizeof(ee));
	ee.events = EPOLLIN;
	ee.data.ptr = &lmark;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ee) == -1)
		benchutil_die("epoll_ctl listener");
	fprintf(stderr, "nullsmtp: listening on port %u\n", port);
	if (clock_gettime(CLOCK_MONOTONIC, &t0) == -1)
		benchutil_die("clock_gettime");
	while (!benchutil_stop) {
		if ((n = epoll_wait(ep, ev, MAX_EVENTS, 500)) == -1) {
			if (errno == EINTR)
				continue;
			benchutil_die("epoll_wait");
		}
		for (i = 0; i < n; i++) {
			if (ev[i].data.ptr == &lmark)
				accept_burst(ep, lfd);
			else
				conn_event(ep, ev[i].data.ptr);
		}
		if (clock_gettime(CLOCK_MONOTONIC, &t) == -1)
			benchutil_die("clock_gettime");
		if (t.tv_sec - t0.tv_sec >= secs)
			break;
	}
	fprintf(stderr, "nullsmtp: %llu sessions\n", sessions);
	return 0;
}
