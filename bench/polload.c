/*
 * polload.c: load generator for policy servers (Postfix's policy
 * delegation protocol), for `make bench`: spamd -P against postgrey.
 * C connections, each like one Postfix smtpd process: one request at a
 * time on a kept connection, the next as soon as the answer came. Every
 * request is a RCPT of a new tuple (a new recipient per request, client
 * addresses spread over the documentation networks), so every answer is
 * a greylisting decision written to the server's database.
 *
 *	polload [-c conc] [-t secs] [-w warmup] host:port | /unix/path
 *
 * Prints one line: "reqs=N secs=S rate=R p50_us=A p99_us=B defer=D
 * busy=U other=O errors=E" (busy: refused by a flood bound, not
 * decided). Answers are counted only inside the window after
 * the warm-up. A connection the server closes is an error and is opened
 * again.
 */
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/benchutil.h"

#define CONC_MAX	1000
#define LAT_MAX		(1u << 22)

struct pc {
	int		 fd;
	uint64_t	 sent_us;
	size_t		 inlen;
	char		 in[2048];
};

static struct sockaddr_storage	 dst;
static socklen_t		 dstlen;
static uint32_t			 seq;
static uint32_t			*lat;
static size_t			 nlat;
static unsigned long		 ndefer, nbusy, nother, nerr;

static void
usage(void)
{
	fprintf(stderr, "usage: polload [-c conc] [-t secs] [-w warmup] "
	    "host:port | /path\n");
	exit(1);
}

static void
parse_dst(const char *arg)
{
	if (arg[0] == '/') {
		struct sockaddr_un *sun = (struct sockaddr_un *)&dst;

		sun->sun_family = AF_UNIX;
		if (strlen(arg) >= sizeof(sun->sun_path))
			usage();
		strcpy(sun->sun_path, arg);
		dstlen = sizeof(*sun);
	} else {
		char host[64], *colon;

		if (strlen(arg) >= sizeof(host))
			usage();
		strcpy(host, arg);
		if ((colon = strrchr(host, ':')) == NULL)
			usage();
		*colon = '\0';
		if (benchutil_dst4(host, colon + 1,
		    (struct sockaddr_in *)&dst) == -1)
			usage();
		dstlen = sizeof(struct sockaddr_in);
	}
}

static int
open_one(int ep, struct pc *c)
{
	struct epoll_event ev;

	if ((c->fd = socket(dst.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) ==
	    -1 || connect(c->fd, (struct sockaddr *)&dst, dstlen) == -1)
		benchutil_die("connect");
	ev.events = EPOLLIN;
	ev.data.ptr = c;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) == -1)
		benchutil_die("epoll_ctl");
	c->inlen = 0;
	return 0;
}

/* One RCPT request of a tuple never seen before. */
static void
send_one(struct pc *c)
{
	char buf[1024];
	uint32_t n = seq++;
	int len;

	len = snprintf(buf, sizeof(buf),
	    "request=smtpd_access_policy\nprotocol_state=RCPT\n"
	    "protocol_name=ESMTP\nclient_address=%s.%u\n"
	    "client_name=unknown\nreverse_client_name=unknown\n"
	    "helo_name=mail%u.example.org\nsender=news@example.org\n"
	    "recipient=user%u@example.net\nrecipient_count=0\n"
	    "queue_id=\ninstance=%x.%x\nsize=0\netrn_domain=\n"
	    "stress=\nsasl_method=\nccert_subject=\n\n",
	    (n % 3 == 0) ? "192.0.2" : (n % 3 == 1) ? "198.51.100" :
	    "203.0.113", (n / 3) % 254 + 1, n % 97, n, n, n);
	c->sent_us = benchutil_now_us();
	if (write(c->fd, buf, (size_t)len) != len)
		benchutil_die("write");
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char *argv[])
{
	static struct pc cons[CONC_MAX];
	struct epoll_event evs[64];
	double secs = 5, warm = 1, t0, tw, tend;
	unsigned long reqs = 0;
	int conc = 10, ch, ep, i, n;

	while ((ch = getopt(argc, argv, "c:t:w:")) != -1) {
		switch (ch) {
		case 'c':
			conc = atoi(optarg);
			break;
		case 't':
			secs = atof(optarg);
			break;
		case 'w':
			warm = atof(optarg);
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 1 || conc < 1 || conc > CONC_MAX || secs <= 0)
		usage();
	parse_dst(argv[optind]);
	benchutil_signals();
	if ((lat = malloc(LAT_MAX * sizeof(*lat))) == NULL)
		benchutil_die("malloc");
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		benchutil_die("epoll_create1");
	seq = (uint32_t)getpid() << 16;
	for (i = 0; i < conc; i++) {
		open_one(ep, &cons[i]);
		send_one(&cons[i]);
	}
	t0 = benchutil_now_s();
	tw = t0 + warm;
	tend = tw + secs;
	while (!benchutil_stop && benchutil_now_s() < tend) {
		if ((n = epoll_wait(ep, evs, 64, 100)) == -1) {
			if (errno == EINTR)
				continue;
			benchutil_die("epoll_wait");
		}
		for (i = 0; i < n; i++) {
			struct pc *c = evs[i].data.ptr;
			ssize_t r = read(c->fd, c->in + c->inlen,
			    sizeof(c->in) - c->inlen - 1);
			char *end;

			if (r <= 0) {
				nerr++;
				close(c->fd);
				open_one(ep, c);
				send_one(c);
				continue;
			}
			c->inlen += (size_t)r;
			c->in[c->inlen] = '\0';
			if ((end = strstr(c->in, "\n\n")) == NULL)
				continue;
			if (benchutil_now_s() >= tw) {
				reqs++;
				if (nlat < LAT_MAX)
					lat[nlat++] = (uint32_t)
					    (benchutil_now_us() - c->sent_us);
				if (strstr(c->in, "busy") != NULL)
					nbusy++;	/* not decided */
				else if (strncmp(c->in, "action=DEFER",
				    12) == 0)
					ndefer++;
				else
					nother++;
			}
			c->inlen = 0;
			send_one(c);
		}
	}
	qsort(lat, nlat, sizeof(*lat), cmp_u32);
	printf("reqs=%lu secs=%.2f rate=%.0f p50_us=%u p99_us=%u defer=%lu "
	    "busy=%lu other=%lu errors=%lu\n", reqs, secs, reqs / secs,
	    nlat ? lat[nlat / 2] : 0, nlat ? lat[nlat * 99 / 100] : 0,
	    ndefer, nbusy, nother, nerr);
	return 0;
}
