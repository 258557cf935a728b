/*
 * smtpload.c: first-contact load client for the benchmarks. It keeps C
 * SMTP sessions running at all times, each the dialogue of a greylisted
 * first contact, and reports completed sessions per second over a fixed
 * window:
 *
 *	banner 2xx, HELO -> 2xx, MAIL FROM -> 2xx, RCPT TO (a recipient no
 *	session used before) -> 2xx then DATA -> 4xx, or RCPT -> 4xx
 *	(Postfix + postgrey defer at RCPT) then QUIT.
 *
 * After the 4xx the client closes (spamd and nullsmtp close after their
 * 451 anyway). Anything else (a 5xx, a 354, an early close, a session
 * older than -T seconds) counts as an error and the session is replaced.
 *
 * usage: smtpload [-c conc] [-d secs | -N count] [-w warmup] [-s src]
 *	    [-n nsrc] [-t tag] [-T timeout] host port
 *
 *	-c	concurrent sessions (default 50)
 *	-d	measured window in seconds (default 10), after
 *	-w	a warm-up in seconds that is not counted (default 1)
 *	-N	instead of a window: run exactly count sessions, no warm-up,
 *		and stop when the last has ended (a fixed amount of work, for
 *		instruction counts)
 *	-s	first IPv4 source address (default 127.0.0.2); sessions bind
 *		round-robin to -n consecutive addresses (default 200) so the
 *		ephemeral ports of one address never run out
 *	-t	recipient tag, so that runs against one database stay unique
 *		(default: pid and time)
 *	-T	per-session timeout in seconds (default 30)
 *
 * Prints one line: sessions=N secs=D rate=R rcpt4xx=.. data4xx=..
 * errors=.. connfail=.. timeouts=.. avg_ms=.. (avg_ms: mean session
 * time). Exit 0, or 1 if no session completed. Load and server share the
 * machine: the client's own CPU is part of what limits the figure.
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

#include "bench/benchsmtp.h"
#include "bench/benchutil.h"

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT	24
#endif

#define BUF_LEN		2048
#define MAX_EVENTS	256

enum st { S_BANNER, S_HELO, S_MAIL, S_RCPT, S_DATA };

struct sess {
	int		fd;
	enum st		st;
	int		connected;
	uint64_t	start_ms;
	size_t		len;
	char		buf[BUF_LEN];
};

static struct sockaddr_in dst;
static struct in_addr src0;
static unsigned nsrc = 200, srcnext;
static unsigned long long maxsess, started, active;	/* -N */
static int ep;
static char tag[64];
static unsigned long long rcptno;
static uint64_t win_start, win_end, timeout_ms = 30000;
static unsigned long long done_win, rcpt4xx, data4xx, errors, connfail,
    timeouts, sum_ms;

static void
sess_start(struct sess *s)
{
	struct sockaddr_in src;
	int one = 1;

	if (maxsess > 0 && started >= maxsess) {
		s->fd = -1;
		return;
	}
	started++;
	active++;
	s->len = 0;
	s->st = S_BANNER;
	s->connected = 0;
	s->start_ms = benchutil_now_ms();
	if ((s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		benchutil_die("socket");
	if (setsockopt(s->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
	    sizeof(one)) == -1)
		benchutil_die("IP_BIND_ADDRESS_NO_PORT");
	memset(&src, 0, sizeof(src));
	src.sin_family = AF_INET;
	src.sin_addr.s_addr = htonl(ntohl(src0.s_addr) + srcnext);
	srcnext = (srcnext + 1) % nsrc;
	if (bind(s->fd, (struct sockaddr *)&src, sizeof(src)) == -1)
		benchutil_die("bind source address");
	benchsmtp_start(ep, s->fd, (struct sockaddr *)&dst, sizeof(dst), s, 1);
}

/* End this session (counted or not) and begin the next one. */
static void
sess_end(struct sess *s, unsigned long long *counter, int ok)
{
	uint64_t t = benchutil_now_ms();

	(*counter)++;
	active--;
	if (ok && t >= win_start && t < win_end) {
		done_win++;
		sum_ms += t - s->start_ms;
	}
	if (close(s->fd) == -1)		/* also leaves the epoll set */
		benchutil_die("close");
	s->fd = -1;
	if (t < win_end)
		sess_start(s);
}

/* Act on one final reply line; -1 ends the session as an error. */
static int
on_reply(void *arg, int code)
{
	struct sess *s = arg;

	char cmd[128];

	switch (s->st) {
	case S_BANNER:
		if (code / 100 != 2)
			return -1;
		s->st = S_HELO;
		return benchsmtp_say(s->fd, "HELO load.example\r\n");
	case S_HELO:
		if (code / 100 != 2)
			return -1;
		s->st = S_MAIL;
		return benchsmtp_say(s->fd,
		    "MAIL FROM:<sender@example.com>\r\n");
	case S_MAIL:
		if (code / 100 != 2)
			return -1;
		s->st = S_RCPT;
		snprintf(cmd, sizeof(cmd), "RCPT TO:<r%s-%llu@example.org>\r\n",
		    tag, rcptno++);
		return benchsmtp_say(s->fd, cmd);
	case S_RCPT:
		if (code / 100 == 2) {
			s->st = S_DATA;
			return benchsmtp_say(s->fd, "DATA\r\n");
		}
		if (code / 100 == 4) {
			(void)benchsmtp_say(s->fd, "QUIT\r\n");
			sess_end(s, &rcpt4xx, 1);
			return 1;
		}
		return -1;
	case S_DATA:
		if (code / 100 == 4) {
			sess_end(s, &data4xx, 1);
			return 1;
		}
		return -1;
	default:
		return -1;
	}
}

static void
sess_event(struct sess *s, uint32_t events)
{
	/* On BENCHSMTP_ENDED, s is already the next session. */
	switch (benchsmtp_event(ep, s->fd, s, events, &s->connected, s->buf,
	    &s->len, sizeof(s->buf), on_reply, s)) {
	case BENCHSMTP_CONNFAIL:
		sess_end(s, &connfail, 0);
		break;
	case BENCHSMTP_ERROR:
		sess_end(s, &errors, 0);
		break;
	}
}

static __attribute__((noreturn)) void
usage(void)
{
	fprintf(stderr, "usage: smtpload [-c conc] [-d secs | -N count] "
	    "[-w warmup] [-s src] [-n nsrc] [-t tag] [-T timeout] host "
	    "port\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	struct epoll_event ev[MAX_EVENTS];
	struct sess *ss;
	unsigned conc = 50, i;
	double secs = 10, warm = 1;
	uint64_t t, last_scan;
	int ch, n, k;

	snprintf(tag, sizeof(tag), "%ld-%ld", (long)getpid(), (long)time(NULL));
	if (inet_pton(AF_INET, "127.0.0.2", &src0) != 1)
		return 1;
	while ((ch = getopt(argc, argv, "c:d:N:n:s:T:t:w:")) != -1) {
		switch (ch) {
		case 'c':
			conc = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'd':
			secs = strtod(optarg, NULL);
			break;
		case 'N':
			maxsess = strtoull(optarg, NULL, 10);
			warm = 0;
			secs = 3600;
			break;
		case 'n':
			nsrc = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 's':
			if (inet_pton(AF_INET, optarg, &src0) != 1)
				usage();
			break;
		case 'T':
			timeout_ms = strtoull(optarg, NULL, 10) * 1000;
			break;
		case 't':
			snprintf(tag, sizeof(tag), "%s", optarg);
			break;
		case 'w':
			warm = strtod(optarg, NULL);
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 2 || conc == 0 || conc > 15000 || nsrc == 0 ||
	    nsrc > 65535 || secs <= 0 || secs > 3600 || warm < 0 ||
	    warm > 600 || timeout_ms == 0)
		usage();
	if (benchutil_dst4(argv[optind], argv[optind + 1], &dst) == -1)
		usage();
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		benchutil_die("signal");
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		benchutil_die("epoll_create1");
	if ((ss = calloc(conc, sizeof(*ss))) == NULL)
		benchutil_die("calloc");
	t = benchutil_now_ms();
	win_start = t + (uint64_t)(warm * 1000);
	win_end = win_start + (uint64_t)(secs * 1000);
	for (i = 0; i < conc; i++)
		sess_start(&ss[i]);
	last_scan = t;
	while ((t = benchutil_now_ms()) < win_end &&
	    !(maxsess > 0 && active == 0)) {
		if ((n = epoll_wait(ep, ev, MAX_EVENTS, 100)) == -1) {
			if (errno == EINTR)
				continue;
			benchutil_die("epoll_wait");
		}
		for (k = 0; k < n; k++)
			sess_event(ev[k].data.ptr, ev[k].events);
		if (t - last_scan >= 1000) {
			last_scan = t;
			for (i = 0; i < conc; i++)
				if (ss[i].fd != -1 && t > ss[i].start_ms &&
				    t - ss[i].start_ms > timeout_ms)
					sess_end(&ss[i], &timeouts, 0);
		}
		if (errors + connfail > 100000 && done_win == 0 &&
		    rcpt4xx + data4xx == 0) {
			fprintf(stderr, "smtpload: nothing but failures; "
			    "is the server there?\n");
			return 1;
		}
	}
	for (i = 0; i < conc; i++)
		if (ss[i].fd != -1 && close(ss[i].fd) == -1)
			benchutil_die("close");
	if (maxsess > 0)
		secs = (double)(t - win_start) / 1000;
	printf("sessions=%llu secs=%.1f rate=%.0f rcpt4xx=%llu data4xx=%llu "
	    "errors=%llu connfail=%llu timeouts=%llu avg_ms=%.2f\n", done_win,
	    secs, secs > 0 ? (double)done_win / secs : 0, rcpt4xx, data4xx,
	    errors, connfail, timeouts, done_win ? (double)sum_ms / (double)done_win : 0.0);
	free(ss);
	return done_win > 0 ? 0 : 1;
}
