/*
 * benchsmtp.c: non-blocking SMTP client helpers for the bench tools (see
 * benchsmtp.h). A reply code is exactly three digits, the first 1-5,
 * followed by a space, a '-' (continuation) or the end of the line.
 */
#include <sys/epoll.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/benchsmtp.h"
#include "bench/benchutil.h"

int
benchsmtp_connected(int ep, int fd, void *ptr, uint32_t events)
{
	struct epoll_event ee;
	socklen_t el;
	int err = 0;

	el = sizeof(err);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) == -1 ||
	    err != 0 || (events & (EPOLLERR | EPOLLHUP)))
		return -1;
	memset(&ee, 0, sizeof(ee));
	ee.events = EPOLLIN;
	ee.data.ptr = ptr;
	if (epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ee) == -1) {
		perror("benchsmtp: epoll_ctl mod");
		exit(1);
	}
	return 0;
}

/* The reply code of one line, or -1 if it is not a reply line. */
static int
reply_code(const char *p, size_t len)
{
	if (len < 4 || p[0] < '1' || p[0] > '5' || p[1] < '0' ||
	    p[1] > '9' || p[2] < '0' || p[2] > '9' ||
	    (p[3] != ' ' && p[3] != '-' && p[3] != '\r' && p[3] != '\n'))
		return -1;
	return (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
}

int
benchsmtp_event(int ep, int fd, void *ptr, uint32_t events, int *connected,
    char *buf, size_t *len, size_t cap, int (*on_reply)(void *, int),
    void *arg)
{
	if (!*connected) {
		/* Watched for EPOLLIN alone (benchsmtp_start's inonly):
		 * the banner says connected, an error that it failed. */
		if (!(events & EPOLLOUT)) {
			if (events & EPOLLERR)
				return BENCHSMTP_CONNFAIL;
		} else if (benchsmtp_connected(ep, fd, ptr, events) == -1)
			return BENCHSMTP_CONNFAIL;
		*connected = 1;
		if (!(events & EPOLLIN))
			return BENCHSMTP_MORE;
	}
	return benchsmtp_read(fd, buf, len, cap, on_reply, arg);
}

void
benchsmtp_start(int ep, int fd, const struct sockaddr *dst, size_t dstlen,
    void *ptr, int inonly)
{
	struct epoll_event ee;

	if (connect(fd, dst, (socklen_t)dstlen) == -1 && errno != EINPROGRESS)
		benchutil_die("connect");
	memset(&ee, 0, sizeof(ee));
	ee.events = inonly ? EPOLLIN : EPOLLOUT | EPOLLIN;
	ee.data.ptr = ptr;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ee) == -1)
		benchutil_die("epoll_ctl add");
}

int
benchsmtp_say(int fd, const char *line)
{
	size_t n = strlen(line);

	return send(fd, line, n, MSG_NOSIGNAL) == (ssize_t)n ? 0 : -1;
}

int
benchsmtp_read(int fd, char *buf, size_t *len, size_t cap,
    int (*on_reply)(void *, int), void *arg)
{
	ssize_t n;
	char *lf;

	n = recv(fd, buf + *len, cap - *len - 1, 0);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return BENCHSMTP_MORE;
	if (n <= 0)
		return BENCHSMTP_ERROR;
	*len += (size_t)n;
	while ((lf = memchr(buf, '\n', *len)) != NULL) {
		size_t ll = (size_t)(lf - buf) + 1;
		int code = reply_code(buf, ll), cont = ll >= 4 && buf[3] == '-';

		memmove(buf, buf + ll, *len - ll);
		*len -= ll;
		if (code == -1)
			return BENCHSMTP_ERROR;
		if (cont)
			continue;
		switch (on_reply(arg, code)) {
		case 0:
			break;
		case 1:
			return BENCHSMTP_ENDED;
		default:
			return BENCHSMTP_ERROR;
		}
	}
	return *len >= cap - 1 ? BENCHSMTP_ERROR : BENCHSMTP_MORE;
}
