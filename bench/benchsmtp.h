/*
 * benchsmtp.h: the SMTP client side shared by the load tools (smtpload,
 * wlat): finishing a non-blocking connect and reading replies.
 *
 *	benchsmtp_connected(ep, fd, ptr, events)	a connect in progress
 *		got an event: 0 if it is connected (and fd is now watched
 *		for EPOLLIN with data.ptr = ptr), -1 if it failed
 *	benchsmtp_read(fd, buf, &len, cap, on_reply, arg)	read what the
 *		server sent into buf (len bytes pending, cap its size) and
 *		call on_reply(arg, code) once per complete reply, skipping
 *		continuation lines. on_reply returns 0 to go on, 1 when the
 *		session is over (buf is not touched after that), -1 for a
 *		wrong reply. Returns BENCHSMTP_MORE (wait for data),
 *		BENCHSMTP_ENDED, or BENCHSMTP_ERROR (closed, reset, a line
 *		that is not a reply, a reply that fills the buffer, or -1
 *		from on_reply).
 *	benchsmtp_event(ep, fd, ptr, events, &connected, buf, &len, cap,
 *	    on_reply, arg)	a session's socket got events: finish the
 *		connect while *connected is 0 (then set it), then read as
 *		benchsmtp_read; BENCHSMTP_CONNFAIL if the connect failed
 *	benchsmtp_start(ep, fd, dst, dstlen, ptr, inonly)	begin a
 *		non-blocking connect of fd to dst and watch it (data.ptr =
 *		ptr) for EPOLLOUT | EPOLLIN, or, inonly, for EPOLLIN alone: a
 *		client that waits for the banner learns from it that it is
 *		connected, without a getsockopt and an epoll_ctl per session
 *		(benchsmtp_event handles both); exits with a message on
 *		failure
 *	benchsmtp_say(fd, line)	send a whole command line: 0, or -1 if
 *		it could not be sent in one go
 */
#ifndef BENCHSMTP_H
#define BENCHSMTP_H

#include <stddef.h>
#include <stdint.h>

#define BENCHSMTP_MORE	0
#define BENCHSMTP_ENDED	1
#define BENCHSMTP_ERROR	(-1)
#define BENCHSMTP_CONNFAIL (-2)

int	benchsmtp_connected(int, int, void *, uint32_t);
struct sockaddr;
int	benchsmtp_event(int, int, void *, uint32_t, int *, char *, size_t *,
	    size_t, int (*)(void *, int), void *);
void	benchsmtp_start(int, int, const struct sockaddr *, size_t, void *,
	    int);
int	benchsmtp_say(int, const char *);
int	benchsmtp_read(int, char *, size_t *, size_t, int (*)(void *, int),
	    void *);

#endif /* BENCHSMTP_H */
