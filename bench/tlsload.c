/*
 * tlsload.c: the STARTTLS load client of the benchmarks (section tls of
 * bench/run.sh). Every session is a greylisted first contact that
 * upgrades to TLS before its envelope, as a sender that wants encryption
 * does:
 *
 *	banner 220, EHLO -> 250 whose lines offer STARTTLS, STARTTLS ->
 *	220, TLS handshake (full, no resumption, no certificate check),
 *	EHLO -> 250, MAIL FROM -> 250, RCPT TO (a recipient no session used
 *	before) -> 250 then DATA -> 4xx (spamd: 451), or RCPT -> 4xx
 *	(Postfix + postgrey: 450) then QUIT; then the client closes.
 *
 * Two modes:
 *
 *	rate (default): keep C sessions running at all times, a warm-up then
 *	a window, and print one line
 *	    sessions=N secs=D rate=R rcpt4xx=.. data4xx=.. errors=..
 *	    notls=.. hsfail=.. connfail=.. timeouts=.. hs_ms=.. avg_ms=..
 *	sessions and rate count the sessions that ended with the 4xx inside
 *	the window; rcpt4xx and data4xx count every one, the warm-up's too.
 *	errors is everything else that went wrong, of which notls (the EHLO
 *	reply offered no STARTTLS) and hsfail (the handshake failed) are
 *	shown apart. hs_ms: mean handshake time, from the ClientHello to
 *	the client's end of the handshake; avg_ms: mean session time.
 *
 *	hold (-H count): open count sessions, at most -c of them before TLS
 *	at a time; each does STARTTLS, the handshake and one EHLO inside TLS
 *	(so the server has finished its side of the handshake too), then
 *	stays idle inside TLS. Every 500 ms, and once at the end, the status
 *	file is replaced (write, rename) by one line
 *	    target=N established=E tls=T open=O failed=F closed=C hs_ms=..
 *	    elapsed=S
 *	established = TCP connects that succeeded; tls = sessions that got
 *	the 250 to EHLO inside TLS; open = those still held; failed = those
 *	that ended before (connect failure, error, timeout); closed = held
 *	sessions the server closed. Runs until SIGTERM, SIGINT or -d seconds.
 *
 * usage: tlsload [-g] [-c conc] [-d secs] [-w warmup]
 *	    [-H count -o statusfile] [-s src] [-n nsrc] [-t tag] [-T timeout]
 *	    host port
 *
 *	-c	concurrent sessions (rate, default 50), or handshakes in flight
 *		(hold, default 50)
 *	-d	rate: measured window in seconds (default 10); hold: the time
 *		limit (default 300)
 *	-w	rate: warm-up in seconds, not counted (default 1)
 *	-H	hold mode: sessions to open and hold (at most 19000)
 *	-o	hold mode: the status file
 *	-s	first IPv4 source address (default 127.0.0.2); sessions bind
 *		round-robin to -n consecutive addresses (default 200) so the
 *		ephemeral ports of one address never run out
 *	-t	recipient tag, so that runs against one database stay unique
 *		(default: pid and time)
 *	-T	per-session timeout in seconds until the session ends (rate) or
 *		is held (hold); default 30
 *	-g	leave Nagle's algorithm on, as a sender that does not set
 *		TCP_NODELAY. By default every socket has TCP_NODELAY: each
 *		command is one write anyway, and with Nagle the EHLO that
 *		follows the client's Finished waits for its ACK, which a
 *		server that sends nothing after the handshake (no session
 *		ticket) delays by up to 40 ms; the figure would be latency,
 *		not capacity.
 *
 * TLS: OpenSSL's client defaults (TLS 1.3 where the server has it),
 * SSL_VERIFY_NONE, no session cache, SSL_MODE_RELEASE_BUFFERS. Exit 0,
 * or 1 if no session completed (rate) or none was held (hold).
 */
#include <sys/epoll.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "bench/benchsmtp.h"
#include "bench/benchutil.h"

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT	24
#endif

#define BUF_LEN		2048
#define OUT_LEN		160
#define MAX_EVENTS	256
#define MAX_HOLD	19000
#define MAX_MSGS	5	/* handshake failures reported on stderr */

enum st {
	S_BANNER, S_EHLO, S_STARTTLS, S_HANDSHAKE, S_EHLO2, S_MAIL, S_RCPT,
	S_DATA, S_HELD
};

struct sess {
	int		fd;
	enum st		st;
	int		connected;
	int		offer;		/* this reply offered STARTTLS */
	SSL		*ssl;
	uint32_t	watch;		/* events registered with epoll */
	uint64_t	start_ms, hs_us;
	size_t		outlen;		/* > 0: a line SSL_write must retry */
	char		out[OUT_LEN];
	size_t		len;
	char		buf[BUF_LEN];
};

static struct sockaddr_in dst;
static struct in_addr src0;
static unsigned nsrc = 200, srcnext;
static int ep, holdmode, nagle;
static SSL_CTX *ctx;
static char tag[64];
static unsigned long long rcptno;
static uint64_t win_start, win_end, timeout_ms = 30000;
static unsigned long long done_win, rcpt4xx, data4xx, errors, notls,
    hsfail, connfail, timeouts, sum_ms, hs_n, hs_sum_us, msgs;
/* hold mode */
static unsigned long long target, started, established, tlsheld, held,
    failed, hclosed, inflight;

static void	sess_start(struct sess *);

static void
sess_watch(struct sess *s, uint32_t events)
{
	struct epoll_event ee;

	if (s->watch == events)
		return;
	memset(&ee, 0, sizeof(ee));
	ee.events = events;
	ee.data.ptr = s;
	if (epoll_ctl(ep, EPOLL_CTL_MOD, s->fd, &ee) == -1)
		benchutil_die("epoll_ctl mod");
	s->watch = events;
}

/*
 * End this session and count it: in rate mode in *counter, then begin
 * the next one; in hold mode as failed (before it was held) or closed.
 */
static void
sess_end(struct sess *s, unsigned long long *counter, int ok)
{
	uint64_t t = benchutil_now_ms();

	if (s->ssl != NULL) {
		SSL_free(s->ssl);
		s->ssl = NULL;
	}
	ERR_clear_error();
	if (close(s->fd) == -1)		/* also leaves the epoll set */
		benchutil_die("close");
	s->fd = -1;
	if (holdmode) {
		if (s->st == S_HELD) {
			held--;
			hclosed++;
		} else {
			inflight--;
			failed++;
		}
		return;
	}
	(*counter)++;
	if (ok && t >= win_start && t < win_end) {
		done_win++;
		sum_ms += t - s->start_ms;
	}
	if (t < win_end && !benchutil_stop)
		sess_start(s);
}

static void
sess_start(struct sess *s)
{
	struct sockaddr_in src;
	int one = 1;

	s->len = 0;
	s->outlen = 0;
	s->st = S_BANNER;
	s->connected = 0;
	s->offer = 0;
	s->ssl = NULL;
	s->watch = EPOLLOUT | EPOLLIN;
	s->start_ms = benchutil_now_ms();
	if ((s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		benchutil_die("socket");
	if (setsockopt(s->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
	    sizeof(one)) == -1)
		benchutil_die("IP_BIND_ADDRESS_NO_PORT");
	if (!nagle && setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one,
	    sizeof(one)) == -1)
		benchutil_die("TCP_NODELAY");
	memset(&src, 0, sizeof(src));
	src.sin_family = AF_INET;
	src.sin_addr.s_addr = htonl(ntohl(src0.s_addr) + srcnext);
	srcnext = (srcnext + 1) % nsrc;
	if (bind(s->fd, (struct sockaddr *)&src, sizeof(src)) == -1)
		benchutil_die("bind source address");
	if (holdmode) {
		started++;
		inflight++;
	}
	benchsmtp_start(ep, s->fd, (struct sockaddr *)&dst, sizeof(dst), s, 0);
}

/*
 * Send a command line: plaintext in one send(2), or through SSL_write,
 * which may have to be retried (then s->out holds the line and the
 * socket is watched for what OpenSSL waits for). 0, or -1 on failure.
 */
static int
sess_say(struct sess *s, const char *line)
{
	int r;

	if (s->ssl == NULL)
		return benchsmtp_say(s->fd, line);
	if (s->outlen == 0) {
		s->outlen = strlen(line);
		if (s->outlen >= sizeof(s->out))
			return -1;
		memcpy(s->out, line, s->outlen);
	}
	ERR_clear_error();
	if ((r = SSL_write(s->ssl, s->out, (int)s->outlen)) > 0) {
		s->outlen = 0;
		sess_watch(s, EPOLLIN);
		return 0;
	}
	switch (SSL_get_error(s->ssl, r)) {
	case SSL_ERROR_WANT_WRITE:
		sess_watch(s, EPOLLOUT);
		return 0;
	case SSL_ERROR_WANT_READ:
		sess_watch(s, EPOLLIN);
		return 0;
	default:
		return -1;
	}
}

static void
hs_failed(struct sess *s, const char *why)
{
	char e[256];
	unsigned long code;

	if (msgs++ < MAX_MSGS) {
		code = ERR_peek_error();
		ERR_error_string_n(code, e, sizeof(e));
		fprintf(stderr, "tlsload: handshake: %s%s%s\n", why,
		    code ? ": " : "", code ? e : "");
	}
	hsfail++;
	sess_end(s, &errors, 0);
}

/* Drive the handshake: 0 to go on (or wait), 1 if the session ended. */
static int
sess_handshake(struct sess *s)
{
	int r;

	ERR_clear_error();
	if ((r = SSL_do_handshake(s->ssl)) == 1) {
		hs_n++;
		hs_sum_us += benchutil_now_us() - s->hs_us;
		s->st = S_EHLO2;
		if (sess_say(s, "EHLO load.example\r\n") == -1) {
			sess_end(s, &errors, 0);
			return 1;
		}
		return 0;
	}
	switch (SSL_get_error(s->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		sess_watch(s, EPOLLIN);
		return 0;
	case SSL_ERROR_WANT_WRITE:
		sess_watch(s, EPOLLOUT);
		return 0;
	case SSL_ERROR_SYSCALL:
		hs_failed(s, r == 0 ? "server closed" : "syscall");
		return 1;
	default:
		hs_failed(s, "failed");
		return 1;
	}
}

/* Does one reply line (without its code) name STARTTLS? */
static int
names_starttls(const char *p, size_t len)
{
	while (len > 0 && (p[len - 1] == '\n' || p[len - 1] == '\r' ||
	    p[len - 1] == ' '))
		len--;
	return len == 12 && strncasecmp(p + 4, "STARTTLS", 8) == 0;
}

/* Act on one final reply; 0 to go on, 1 if the session ended, -1 error. */
static int
on_reply(struct sess *s, int code)
{
	char cmd[128];

	switch (s->st) {
	case S_BANNER:
		if (code / 100 != 2)
			return -1;
		s->st = S_EHLO;
		s->offer = 0;
		return sess_say(s, "EHLO load.example\r\n");
	case S_EHLO:
		if (code / 100 != 2)
			return -1;
		if (!s->offer) {
			notls++;
			return -1;
		}
		s->st = S_STARTTLS;
		return sess_say(s, "STARTTLS\r\n");
	case S_STARTTLS:
		/* nothing may follow the 220 in plaintext (CVE-2011-0411) */
		if (code != 220 || s->len != 0)
			return -1;
		if ((s->ssl = SSL_new(ctx)) == NULL ||
		    SSL_set_fd(s->ssl, s->fd) != 1) {
			fprintf(stderr, "tlsload: SSL_new failed\n");
			exit(1);
		}
		SSL_set_connect_state(s->ssl);
		s->st = S_HANDSHAKE;
		s->hs_us = benchutil_now_us();
		return sess_handshake(s);
	case S_EHLO2:
		if (code / 100 != 2)
			return -1;
		if (holdmode) {
			s->st = S_HELD;
			inflight--;
			tlsheld++;
			held++;
			return 0;
		}
		s->st = S_MAIL;
		return sess_say(s, "MAIL FROM:<sender@example.com>\r\n");
	case S_MAIL:
		if (code / 100 != 2)
			return -1;
		s->st = S_RCPT;
		snprintf(cmd, sizeof(cmd), "RCPT TO:<r%s-%llu@example.org>\r\n",
		    tag, rcptno++);
		return sess_say(s, cmd);
	case S_RCPT:
		if (code / 100 == 2) {
			s->st = S_DATA;
			return sess_say(s, "DATA\r\n");
		}
		if (code / 100 == 4) {
			(void)sess_say(s, "QUIT\r\n");
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
		return -1;	/* a reply to nothing, or while held */
	}
}

/* Split s->buf into lines and act on the replies: as on_reply. */
static int
parse(struct sess *s)
{
	char *lf;
	size_t ll;
	int code, r;

	while ((lf = memchr(s->buf, '\n', s->len)) != NULL) {
		ll = (size_t)(lf - s->buf) + 1;
		if (ll < 4 || s->buf[0] < '1' || s->buf[0] > '5' ||
		    s->buf[1] < '0' || s->buf[1] > '9' || s->buf[2] < '0' ||
		    s->buf[2] > '9' || (s->buf[3] != ' ' && s->buf[3] != '-' &&
		    s->buf[3] != '\r' && s->buf[3] != '\n'))
			return -1;
		code = (s->buf[0] - '0') * 100 + (s->buf[1] - '0') * 10 +
		    (s->buf[2] - '0');
		if (names_starttls(s->buf, ll))
			s->offer = 1;
		r = s->buf[3] == '-';
		memmove(s->buf, s->buf + ll, s->len - ll);
		s->len -= ll;
		if (r)
			continue;
		if ((r = on_reply(s, code)) != 0)
			return r;
	}
	return s->len >= sizeof(s->buf) - 1 ? -1 : 0;
}

/* Read what there is; 0 to go on, 1 if the session ended, -1 error. */
static int
sess_input(struct sess *s)
{
	ssize_t n;
	int r;

	if (s->ssl == NULL) {
		n = recv(s->fd, s->buf + s->len, sizeof(s->buf) - s->len - 1,
		    0);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (n <= 0)
			return -1;
		s->len += (size_t)n;
		return parse(s);
	}
	/* OpenSSL may hold decrypted data the socket no longer shows */
	for (;;) {
		ERR_clear_error();
		r = SSL_read(s->ssl, s->buf + s->len,
		    (int)(sizeof(s->buf) - s->len - 1));
		if (r <= 0) {
			switch (SSL_get_error(s->ssl, r)) {
			case SSL_ERROR_WANT_READ:
				sess_watch(s, EPOLLIN);
				return 0;
			case SSL_ERROR_WANT_WRITE:
				sess_watch(s, EPOLLOUT);
				return 0;
			default:
				return -1;
			}
		}
		s->len += (size_t)r;
		if ((r = parse(s)) != 0)
			return r;
		if (s->outlen > 0)	/* a write waits: finish it first */
			return 0;
	}
}

static void
sess_event(struct sess *s, uint32_t events)
{
	if (!s->connected) {
		if (benchsmtp_connected(ep, s->fd, s, events) == -1) {
			sess_end(s, &connfail, 0);
			return;
		}
		s->connected = 1;
		s->watch = EPOLLIN;
		if (holdmode)
			established++;
		if (!(events & EPOLLIN))
			return;
	}
	if (s->st == S_HANDSHAKE) {
		(void)sess_handshake(s);
		return;
	}
	if (s->outlen > 0) {
		if (sess_say(s, s->out) == -1) {
			sess_end(s, &errors, 0);
			return;
		}
		if (s->outlen > 0)
			return;
	}
	if (sess_input(s) == -1)
		sess_end(s, &errors, 0);
}

static void
write_status(const char *path, double t0)
{
	char tmp[4096];
	FILE *fp;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((fp = fopen(tmp, "w")) == NULL)
		benchutil_die(tmp);
	fprintf(fp, "target=%llu established=%llu tls=%llu open=%llu "
	    "failed=%llu closed=%llu hs_ms=%.2f elapsed=%.1f\n", target,
	    established, tlsheld, held, failed, hclosed,
	    hs_n ? (double)hs_sum_us / (double)hs_n / 1000 : 0.0,
	    benchutil_now_s() - t0);
	if (fclose(fp) == EOF)
		benchutil_die(tmp);
	if (rename(tmp, path) == -1)
		benchutil_die("rename");
}

static __attribute__((noreturn)) void
usage(void)
{
	fprintf(stderr, "usage: tlsload [-g] [-c conc] [-d secs] [-w warmup] "
	    "[-H count -o statusfile] [-s src] [-n nsrc] [-t tag] "
	    "[-T timeout] host port\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	struct epoll_event ev[MAX_EVENTS];
	struct sess *ss;
	const char *status = NULL;
	unsigned conc = 50, nss, i, next = 0;
	double secs = -1, warm = 1, t0;
	uint64_t t, last_scan, last_status;
	int ch, n, k;

	snprintf(tag, sizeof(tag), "%ld-%ld", (long)getpid(), (long)time(NULL));
	if (inet_pton(AF_INET, "127.0.0.2", &src0) != 1)
		return 1;
	while ((ch = getopt(argc, argv, "c:d:gH:n:o:s:T:t:w:")) != -1) {
		switch (ch) {
		case 'g':
			nagle = 1;
			break;
		case 'c':
			conc = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'd':
			secs = strtod(optarg, NULL);
			break;
		case 'H':
			target = strtoull(optarg, NULL, 10);
			holdmode = 1;
			break;
		case 'n':
			nsrc = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'o':
			status = optarg;
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
	if (secs < 0)
		secs = holdmode ? 300 : 10;
	if (argc - optind != 2 || conc == 0 || conc > 15000 || nsrc == 0 ||
	    nsrc > 65535 || secs <= 0 || secs > 3600 || warm < 0 ||
	    warm > 600 || timeout_ms == 0 ||
	    (holdmode && (target == 0 || target > MAX_HOLD || status == NULL)))
		usage();
	if (benchutil_dst4(argv[optind], argv[optind + 1], &dst) == -1)
		usage();
	benchutil_signals();
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		fprintf(stderr, "tlsload: SSL_CTX_new failed\n");
		return 1;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		benchutil_die("epoll_create1");
	nss = holdmode ? (unsigned)target : conc;
	if ((ss = calloc(nss, sizeof(*ss))) == NULL)
		benchutil_die("calloc");
	for (i = 0; i < nss; i++)
		ss[i].fd = -1;
	t = benchutil_now_ms();
	t0 = benchutil_now_s();
	if (holdmode) {
		warm = 0;
		win_start = t;
	} else
		win_start = t + (uint64_t)(warm * 1000);
	win_end = win_start + (uint64_t)(secs * 1000);
	if (!holdmode)
		for (i = 0; i < conc; i++)
			sess_start(&ss[i]);
	last_scan = last_status = t;
	while ((t = benchutil_now_ms()) < win_end && !benchutil_stop) {
		/* hold: open more while fewer than -c are before TLS */
		while (holdmode && next < nss && inflight < conc)
			sess_start(&ss[next++]);
		if ((n = epoll_wait(ep, ev, MAX_EVENTS, 100)) == -1) {
			if (errno == EINTR)
				continue;
			benchutil_die("epoll_wait");
		}
		for (k = 0; k < n; k++)
			sess_event(ev[k].data.ptr, ev[k].events);
		if (t - last_scan >= 1000) {
			last_scan = t;
			for (i = 0; i < nss; i++)
				if (ss[i].fd != -1 && ss[i].st != S_HELD &&
				    t > ss[i].start_ms &&
				    t - ss[i].start_ms > timeout_ms)
					sess_end(&ss[i], &timeouts, 0);
		}
		if (holdmode && t - last_status >= 500) {
			last_status = t;
			write_status(status, t0);
		}
		if (!holdmode && errors + connfail > 100000 && done_win == 0 &&
		    rcpt4xx + data4xx == 0) {
			fprintf(stderr, "tlsload: nothing but failures; "
			    "is the server there?\n");
			return 1;
		}
	}
	if (holdmode)
		write_status(status, t0);
	for (i = 0; i < nss; i++) {
		if (ss[i].ssl != NULL)
			SSL_free(ss[i].ssl);
		if (ss[i].fd != -1 && close(ss[i].fd) == -1)
			benchutil_die("close");
	}
	free(ss);
	SSL_CTX_free(ctx);
	if (holdmode)
		return tlsheld > 0 ? 0 : 1;
	if (t < win_end)	/* stopped early */
		secs = t > win_start ? (double)(t - win_start) / 1000 : 0;
	printf("sessions=%llu secs=%.1f rate=%.0f rcpt4xx=%llu data4xx=%llu "
	    "errors=%llu notls=%llu hsfail=%llu connfail=%llu timeouts=%llu "
	    "hs_ms=%.2f avg_ms=%.2f\n", done_win, secs,
	    secs > 0 ? (double)done_win / secs : 0, rcpt4xx, data4xx, errors,
	    notls, hsfail, connfail, timeouts,
	    hs_n ? (double)hs_sum_us / (double)hs_n / 1000 : 0.0,
	    done_win ? (double)sum_ms / (double)done_win : 0.0);
	return done_win > 0 ? 0 : 1;
}
