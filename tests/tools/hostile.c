/*
 * hostile.c: a load generator of hostile SMTP clients, for
 * tests/hostile/load.sh.
 *
 *	usage: hostile [-n conns] [-L long] [-J junk] [-F flood] [-D deaf]
 *		[-R rst] [-d secs] [-s secs] host port
 *
 * Keeps -n clients (default 5000) connected to host:port for -d seconds
 * (default 45), in one epoll loop, ramping up RAMP_STEP connections per
 * RAMP_MS. -L, -J, -F, -D and -R say how many clients are of each kind
 * (defaults 100, 500, 100, 50, 500); the rest are slow. Kinds are mixed
 * in a fixed pseudo-random order, so every phase of the ramp has some of
 * each. A client whose connection ends reconnects after a pause (2 s for
 * rst, 0.5 s for the others) and starts a new cycle, so the number of
 * connections stays near -n:
 *
 *	slow	slowloris: one byte of "HELO slow.example\r\nNOOP\r\n..."
 *		every -s seconds (default 3), replies read and dropped.
 *		A cycle is good when spamd closes it (its idle timeout).
 *	long	a line without a LF (1 MB in the first cycle, 16 KB later),
 *		then "\r\nQUIT\r\n". Good: a 500 and then a 221.
 *	junk	up to 64 KB of random bytes with NULs and LFs. Good: spamd
 *		ends it (21 bad commands, the final reply, close).
 *	flood	pipelined "NOOP\r\n" (10,000 in the first cycle, 100
 *		later) in as few writes as the socket takes, then QUIT once
 *		every reply is in. Good: that many 250s, then a 221.
 *	deaf	4 KB socket buffers, pipelined NOOPs for as long as the
 *		socket takes them, and never a read. Once spamd's replies
 *		fill its send buffer it stops reading; its write timeout
 *		must then close the connection, which the client sees as a
 *		reset. Good: that reset. Few of them: each makes the kernel
 *		hold spamd's socket buffers full (megabytes, see load.sh).
 *	rst	reads the first bytes of the banner, sends "HELO rst\r\n"
 *		and resets the connection (SO_LINGER 0) while spamd is still
 *		writing (stutter). Every cycle is good; it shows spamd can
 *		take it.
 * A cycle that ends any other way (spamd closes a long or flood client
 * early, a connect fails) is bad. Cycles still running at the end are
 * cut (not counted). At the end every connection is closed and one line
 * per kind is printed on stdout:
 *	KIND n=N good=N bad=N cut=N first_close=S last_close=S
 * where the close times are the earliest and latest time, in seconds
 * after connecting, at which spamd closed a slow, junk or deaf client
 * (-1 if none), then
 *	total connect_failed=N peak_open=N
 * Exit 0 when the run completed (the test script judges the numbers),
 * 1 on a setup error, 2 on usage errors. Bounded: it stops after -d
 * seconds whatever happens.
 */
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define RAMP_STEP	250	/* connections opened ... */
#define RAMP_MS		50	/* ... per this many ms */
#define LONG_FIRST	(1024 * 1024)
#define LONG_LATER	(16 * 1024)
#define JUNK_BYTES	(64 * 1024)
#define FLOOD_FIRST	10000
#define FLOOD_LATER	100
#define DEAF_BUF	4096		/* SO_RCVBUF and SO_SNDBUF of a deaf client */
#define PAUSE		0.5	/* seconds before a client reconnects */
#define RST_PAUSE	2.0	/* ... an rst client */
#define LINE_KEEP	4	/* bytes of a reply line kept: its code */

enum kind { K_SLOW, K_LONG, K_JUNK, K_FLOOD, K_DEAF, K_RST, K_NKINDS };

static const char *const kind_name[K_NKINDS] = {
	"slow", "long", "junk", "flood", "deaf", "rst",
};

enum cstate { C_NEW, C_PAUSE, C_CONNECTING, C_OPEN };

struct client {
	int		 fd;
	uint8_t		 kind, state;
	uint8_t		 got500, got221, quit_sent;
	uint8_t		 llen;		/* bytes of the reply line so far */
	char		 line[LINE_KEEP];
	uint32_t	 sent, rcvd, replies250, target;
	uint32_t	 cycles;
	double		 t_conn;	/* connected */
	double		 t_next;	/* slow: next byte; pause: reconnect */
};

struct stats {
	unsigned	 n, good, bad, cut;
	double		 first_close, last_close;
};

static struct client	*cl;
static struct stats	 st[K_NKINDS];
static int		 ncl, ep, open_now, peak_open;
static unsigned		 connect_failed;
static struct sockaddr_storage dst;
static socklen_t	 dstlen;
static double		 slow_every = 3.0;
static char		*noops, *junk, *as;
static const char	 slow_text[] = "HELO slow.example\r\nNOOP\r\n";
static const char	 quit_text[] = "\r\nQUIT\r\n";

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
usage(void)
{
	fprintf(stderr, "usage: hostile [-n conns] [-L long] [-J junk] "
	    "[-F flood] [-D deaf]\n               [-R rst] [-d secs] "
	    "[-s secs] host port\n");
	exit(2);
}

static void
watch(struct client *c, uint32_t ev, int op)
{
	struct epoll_event e;

	memset(&e, 0, sizeof(e));
	e.events = ev;
	e.data.ptr = c;
	if (epoll_ctl(ep, op, c->fd, &e) == -1) {
		perror("hostile: epoll_ctl");
		exit(1);
	}
}

/* How many bytes this cycle sends in all. */
static uint32_t
to_send(const struct client *c)
{
	switch (c->kind) {
	case K_LONG:
		return c->target + (uint32_t)(sizeof(quit_text) - 1);
	case K_JUNK:
		return JUNK_BYTES;
	case K_FLOOD:
		return c->target * 6;
	case K_DEAF:
		return UINT32_MAX;	/* until spamd gives up */
	}
	return 0;
}

/* Was the cycle that spamd just ended a good one? */
static int
good_end(const struct client *c)
{
	switch (c->kind) {
	case K_LONG:
		return c->got500 && c->got221;
	case K_FLOOD:
		return c->replies250 >= c->target && c->got221;
	default:
		return 1;	/* slow, junk, deaf: being closed is the point */
	}
}

enum end { END_CUT, END_SERVER, END_FAILED, END_RST };

/* The connection is over: cut by us, ended by spamd, failed, or reset. */
static void
end_cycle(struct client *c, enum end how, double t)
{
	struct stats *s = &st[c->kind];
	double life = t - c->t_conn;

	if (c->fd != -1) {
		close(c->fd);
		c->fd = -1;
		open_now--;
	}
	if (how == END_CUT)
		s->cut++;
	else if (how == END_RST || (how == END_SERVER && good_end(c)))
		s->good++;
	else {
		s->bad++;
		fprintf(stderr, "hostile: %s client %s after %.1f s: sent "
		    "%u, received %u, 250s %u, 500 %d, 221 %d\n",
		    kind_name[c->kind], how == END_FAILED ? "failed" :
		    "closed", life, c->sent, c->rcvd, c->replies250,
		    c->got500, c->got221);
	}
	if (how == END_SERVER && (c->kind == K_SLOW || c->kind == K_JUNK ||
	    c->kind == K_DEAF)) {
		if (s->first_close < 0 || life < s->first_close)
			s->first_close = life;
		if (life > s->last_close)
			s->last_close = life;
	}
	c->state = C_PAUSE;
	c->t_next = t + (c->kind == K_RST ? RST_PAUSE : PAUSE);
}

static void
start(struct client *c, double t)
{
	int fd, sz = DEAF_BUF;

	fd = socket(dst.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1) {
		perror("hostile: socket");
		exit(1);
	}
	if (c->kind == K_DEAF &&
	    (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz)) == -1)) {
		perror("hostile: deaf buffers");
		exit(1);
	}
	c->fd = fd;
	c->sent = c->rcvd = c->replies250 = 0;
	c->got500 = c->got221 = c->quit_sent = 0;
	c->llen = 0;
	if (c->kind == K_LONG)
		c->target = c->cycles == 0 ? LONG_FIRST : LONG_LATER;
	else if (c->kind == K_FLOOD)
		c->target = c->cycles == 0 ? FLOOD_FIRST : FLOOD_LATER;
	c->cycles++;
	c->t_conn = t;
	c->t_next = t + slow_every;
	c->state = C_CONNECTING;
	open_now++;
	if (open_now > peak_open)
		peak_open = open_now;
	if (connect(fd, (struct sockaddr *)&dst, dstlen) == -1 &&
	    errno != EINPROGRESS) {
		connect_failed++;
		end_cycle(c, END_FAILED, t);
		return;
	}
	watch(c, EPOLLOUT | EPOLLRDHUP, EPOLL_CTL_ADD);
}

/* What the client waits for while the connection is open. */
static uint32_t
want(const struct client *c)
{
	uint32_t ev = EPOLLRDHUP;

	if (c->kind != K_DEAF)
		ev |= EPOLLIN;
	if (c->sent < to_send(c))
		ev |= EPOLLOUT;
	return ev;
}

/* Send what this kind sends while the socket is writable. */
static int
pump(struct client *c)
{
	const char *p;
	size_t left;
	ssize_t n;

	switch (c->kind) {
	case K_LONG:
		if (c->sent < c->target) {
			p = as;
			left = c->target - c->sent;
			if (left > 65536)
				left = 65536;
		} else {
			p = quit_text + (c->sent - c->target);
			left = to_send(c) - c->sent;
		}
		break;
	case K_JUNK:
		p = junk + c->sent;
		left = JUNK_BYTES - c->sent;
		break;
	case K_FLOOD:
		p = noops + c->sent;
		left = to_send(c) - c->sent;
		break;
	case K_DEAF:
		p = noops + c->sent % (FLOOD_FIRST * 6);
		left = FLOOD_FIRST * 6 - c->sent % (FLOOD_FIRST * 6);
		break;
	default:
		return 0;
	}
	if (left == 0)
		return 0;
	n = send(c->fd, p, left, MSG_NOSIGNAL);
	if (n == -1)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	c->sent += (uint32_t)n;
	return 0;
}

static void
reply_line(struct client *c)
{
	if (c->llen < 4 || (c->line[3] != ' ' && c->line[3] != '-'))
		return;
	if (memcmp(c->line, "500", 3) == 0)
		c->got500 = 1;
	else if (memcmp(c->line, "221", 3) == 0)
		c->got221 = 1;
	else if (memcmp(c->line, "250", 3) == 0)
		c->replies250++;
}

/* Read and parse what arrived; -1 once spamd has closed. */
static int
drain(struct client *c)
{
	char buf[16384];
	ssize_t n, i;

	for (;;) {
		n = recv(c->fd, buf, sizeof(buf), 0);
		if (n == 0)
			return -1;
		if (n == -1)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		c->rcvd += (uint32_t)n;
		for (i = 0; i < n; i++) {
			if (buf[i] == '\n') {
				reply_line(c);
				c->llen = 0;
			} else if (c->llen < LINE_KEEP)
				c->line[c->llen++] = buf[i];
		}
		if (c->kind == K_RST)
			return 0;	/* a first read is all it waits for */
	}
}

static void
event(struct client *c, uint32_t ev, double t)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (c->state == C_CONNECTING) {
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1 ||
		    err != 0) {
			connect_failed++;
			end_cycle(c, END_FAILED, t);
			return;
		}
		c->state = C_OPEN;
		c->t_conn = t;
		c->t_next = t + slow_every;
		watch(c, want(c), EPOLL_CTL_MOD);
		return;
	}
	if (ev & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP)) {
		if (c->kind == K_DEAF || drain(c) == -1) {
			end_cycle(c, END_SERVER, t);
			return;
		}
		if (c->kind == K_RST && c->rcvd > 0) {
			struct linger l = { 1, 0 };
			static const char h[] = "HELO rst\r\n";

			(void)send(c->fd, h, sizeof(h) - 1, MSG_NOSIGNAL);
			(void)setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l,
			    sizeof(l));
			end_cycle(c, END_RST, t);
			return;
		}
		if (c->kind == K_FLOOD && !c->quit_sent &&
		    c->replies250 >= c->target) {
			(void)send(c->fd, "QUIT\r\n", 6, MSG_NOSIGNAL);
			c->quit_sent = 1;
		}
	}
	if (ev & EPOLLOUT) {
		if (pump(c) == -1) {
			end_cycle(c, END_SERVER, t);
			return;
		}
		watch(c, want(c), EPOLL_CTL_MOD);
	}
}

static void
tick(double t)
{
	int i;

	for (i = 0; i < ncl; i++) {
		struct client *c = &cl[i];

		if (c->state == C_PAUSE && t >= c->t_next)
			start(c, t);
		else if (c->kind == K_SLOW && c->state == C_OPEN &&
		    t >= c->t_next) {
			char b = slow_text[c->sent % (sizeof(slow_text) - 1)];

			if (send(c->fd, &b, 1, MSG_NOSIGNAL) == 1)
				c->sent++;
			c->t_next = t + slow_every;
		}
	}
}

static void
resolve(const char *host, const char *port)
{
	struct addrinfo hints, *res;
	int e;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if ((e = getaddrinfo(host, port, &hints, &res)) != 0) {
		fprintf(stderr, "hostile: %s %s: %s\n", host, port,
		    gai_strerror(e));
		exit(2);
	}
	memcpy(&dst, res->ai_addr, res->ai_addrlen);
	dstlen = res->ai_addrlen;
	freeaddrinfo(res);
}

static void
make_buffers(void)
{
	size_t i;
	unsigned r = 12345;

	if ((noops = malloc(FLOOD_FIRST * 6)) == NULL ||
	    (junk = malloc(JUNK_BYTES)) == NULL ||
	    (as = malloc(65536)) == NULL) {
		perror("hostile: malloc");
		exit(1);
	}
	for (i = 0; i < FLOOD_FIRST; i++)
		memcpy(noops + i * 6, "NOOP\r\n", 6);
	memset(as, 'A', 65536);
	for (i = 0; i < JUNK_BYTES; i++) {
		r = r * 1103515245u + 12345u;
		junk[i] = (char)(r >> 16);
		if ((r >> 8) % 97 == 0)
			junk[i] = '\n';
		else if ((r >> 8) % 89 == 0)
			junk[i] = '\0';
	}
}

int
main(int argc, char *argv[])
{
	struct epoll_event evs[512];
	struct rlimit rl;
	double t0, t, dur = 45, next_ramp;
	int ch, i, k, n, started = 0, want_n[K_NKINDS], sum = 0;
	unsigned r = 4242;

	ncl = 5000;
	want_n[K_SLOW] = 0;
	want_n[K_LONG] = 100;
	want_n[K_JUNK] = 500;
	want_n[K_FLOOD] = 100;
	want_n[K_DEAF] = 50;
	want_n[K_RST] = 500;
	while ((ch = getopt(argc, argv, "D:d:F:J:L:n:R:s:")) != -1) {
		switch (ch) {
		case 'D':
			want_n[K_DEAF] = atoi(optarg);
			break;
		case 'F':
			want_n[K_FLOOD] = atoi(optarg);
			break;
		case 'J':
			want_n[K_JUNK] = atoi(optarg);
			break;
		case 'L':
			want_n[K_LONG] = atoi(optarg);
			break;
		case 'R':
			want_n[K_RST] = atoi(optarg);
			break;
		case 'd':
			dur = atof(optarg);
			break;
		case 'n':
			ncl = atoi(optarg);
			break;
		case 's':
			slow_every = atof(optarg);
			break;
		default:
			usage();
		}
	}
	for (k = K_LONG; k < K_NKINDS; k++) {
		if (want_n[k] < 0)
			usage();
		sum += want_n[k];
	}
	if (argc - optind != 2 || ncl < 1 || ncl > 100000 || dur <= 0 ||
	    dur > 3600 || slow_every <= 0 || sum > ncl)
		usage();
	want_n[K_SLOW] = ncl - sum;
	resolve(argv[optind], argv[optind + 1]);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur < (rlim_t)ncl + 16) {
		fprintf(stderr, "hostile: %d connections need more than the "
		    "open files limit %llu\n", ncl,
		    (unsigned long long)rl.rlim_cur);
		return 1;
	}
	make_buffers();
	if ((cl = calloc((size_t)ncl, sizeof(*cl))) == NULL ||
	    (ep = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		perror("hostile: setup");
		return 1;
	}
	/* the kinds in blocks, then a Fisher-Yates shuffle with an LCG */
	for (i = 0, k = 0; k < K_NKINDS; k++)
		for (n = 0; n < want_n[k]; n++, i++)
			cl[i].kind = (uint8_t)k;
	for (i = ncl - 1; i > 0; i--) {
		uint8_t tmp;

		r = r * 1103515245u + 12345u;
		n = (int)((r >> 8) % (unsigned)(i + 1));
		tmp = cl[i].kind;
		cl[i].kind = cl[n].kind;
		cl[n].kind = tmp;
	}
	for (i = 0; i < ncl; i++) {
		cl[i].fd = -1;
		st[cl[i].kind].n++;
	}
	for (k = 0; k < K_NKINDS; k++)
		st[k].first_close = -1;
	t0 = next_ramp = now();
	for (t = t0; t - t0 < dur; t = now()) {
		if (started < ncl && t >= next_ramp) {
			for (i = 0; i < RAMP_STEP && started < ncl; i++)
				start(&cl[started++], t);
			next_ramp = t + RAMP_MS / 1000.0;
		}
		n = epoll_wait(ep, evs, sizeof(evs) / sizeof(evs[0]), 20);
		if (n == -1 && errno != EINTR) {
			perror("hostile: epoll_wait");
			return 1;
		}
		t = now();
		for (i = 0; i < n; i++) {
			struct client *c = evs[i].data.ptr;

			if (c->fd != -1)
				event(c, evs[i].events, t);
		}
		tick(t);
	}
	t = now();
	for (i = 0; i < ncl; i++)
		if (cl[i].fd != -1)
			end_cycle(&cl[i], END_CUT, t);
	for (k = 0; k < K_NKINDS; k++)
		printf("%s n=%u good=%u bad=%u cut=%u first_close=%.1f "
		    "last_close=%.1f\n", kind_name[k], st[k].n, st[k].good,
		    st[k].bad, st[k].cut, st[k].first_close, st[k].last_close);
	printf("total connect_failed=%u peak_open=%d\n", connect_failed,
	    peak_open);
	return 0;
}
