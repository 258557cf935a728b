/*
 * holdconn.c: the held-connections client of the benchmarks. It opens
 * N TCP connections to a tarpit, spread over P processes (one process
 * holds at most about 19,900 descriptors on this machine) and over a
 * range of IPv4 source addresses, and keeps them open, reading and
 * counting whatever the tarpit trickles, until told to stop.
 *
 * usage: holdconn [-n total] [-P procs] [-s src] [-k nsrc] [-i inflight]
 *	    [-t maxsecs] -o statusfile host port
 *
 *	-n	connections in all (default 10000)
 *	-P	processes sharing them (default 2)
 *	-s, -k	first IPv4 source address and how many consecutive ones
 *		(default 127.0.0.2, 50)
 *	-i	connects in flight per process (default 256), so that the
 *		server's listen queue is not flooded
 *	-t	give up after this many seconds (default 300: bounded)
 *
 * Every 500 ms, and once at the end, the status file is replaced (write,
 * rename) by one line:
 *	target=N open=O established=E closed=C failed=F bytes=B elapsed=S
 * open = established and not closed by the server; closed = the server
 * closed or reset one; failed = the connect itself failed. SIGTERM or
 * SIGINT ends the run: the children close everything and exit, the
 * parent writes the last status line and exits 0.
 */
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>

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

#include "bench/benchutil.h"

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT	24
#endif

#define MAX_PROCS	16
#define MAX_EVENTS	512

struct counters {
	volatile uint64_t	established, closed, failed, bytes;
};

struct hconn {
	int	fd;
	int	connected;
};

static struct counters *shared;
static struct sockaddr_in dst;
static struct in_addr src0;
static unsigned nsrc = 50;

/* Sleep ms milliseconds; an interrupting signal just ends it early. */
static void
pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	if (nanosleep(&ts, NULL) == -1 && errno != EINTR)
		benchutil_die("nanosleep");
}

static int
start_connect(int ep, struct hconn *h, unsigned srcidx)
{
	struct sockaddr_in src;
	struct epoll_event ee;
	int one = 1;

	if ((h->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1) {
		if (errno == EMFILE || errno == ENFILE)
			return -1;
		benchutil_die("socket");
	}
	if (setsockopt(h->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
	    sizeof(one)) == -1)
		benchutil_die("IP_BIND_ADDRESS_NO_PORT");
	memset(&src, 0, sizeof(src));
	src.sin_family = AF_INET;
	src.sin_addr.s_addr = htonl(ntohl(src0.s_addr) + srcidx % nsrc);
	if (bind(h->fd, (struct sockaddr *)&src, sizeof(src)) == -1)
		benchutil_die("bind source address");
	if (connect(h->fd, (struct sockaddr *)&dst, sizeof(dst)) == -1 &&
	    errno != EINPROGRESS) {
		if (close(h->fd) == -1)
			benchutil_die("close");
		h->fd = -1;
		return -1;
	}
	h->connected = 0;
	memset(&ee, 0, sizeof(ee));
	ee.events = EPOLLOUT | EPOLLIN | EPOLLRDHUP;
	ee.data.ptr = h;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, h->fd, &ee) == -1)
		benchutil_die("epoll_ctl add");
	return 0;
}

static void
drop(struct hconn *h, volatile uint64_t *counter)
{
	if (close(h->fd) == -1)
		benchutil_die("close");
	h->fd = -1;
	(*counter)++;
}

static __attribute__((noreturn)) void
child(unsigned idx, unsigned want, unsigned inflight_max, double deadline)
{
	struct counters *c = &shared[idx];
	struct epoll_event ev[MAX_EVENTS], ee;
	struct hconn *hc;
	struct rlimit rl;
	unsigned started = 0, inflight = 0;
	char buf[512];
	int ep, n, k;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		benchutil_die("getrlimit");
	if (rl.rlim_cur < want + 16 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			benchutil_die("setrlimit");
	}
	if ((hc = calloc(want, sizeof(*hc))) == NULL)
		benchutil_die("calloc");
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		benchutil_die("epoll_create1");
	while (!benchutil_stop && benchutil_now_s() < deadline) {
		while (started < want && inflight < inflight_max) {
			if (start_connect(ep, &hc[started],
			    idx * 7919 + started) == -1)
				c->failed++;
			else
				inflight++;
			started++;
		}
		if ((n = epoll_wait(ep, ev, MAX_EVENTS, 200)) == -1) {
			if (errno == EINTR)
				continue;
			benchutil_die("epoll_wait");
		}
		for (k = 0; k < n; k++) {
			struct hconn *h = ev[k].data.ptr;
			ssize_t r;

			if (h->fd == -1)
				continue;
			if (!h->connected) {
				int err = 0;
				socklen_t el = sizeof(err);

				inflight--;
				if (getsockopt(h->fd, SOL_SOCKET, SO_ERROR,
				    &err, &el) == -1)
					benchutil_die("SO_ERROR");
				if (err != 0) {
					drop(h, &c->failed);
					continue;
				}
				h->connected = 1;
				c->established++;
				memset(&ee, 0, sizeof(ee));
				ee.events = EPOLLIN | EPOLLRDHUP;
				ee.data.ptr = h;
				if (epoll_ctl(ep, EPOLL_CTL_MOD, h->fd, &ee) ==
				    -1)
					benchutil_die("epoll_ctl mod");
				if (!(ev[k].events & (EPOLLIN | EPOLLRDHUP |
				    EPOLLHUP | EPOLLERR)))
					continue;
			}
			r = recv(h->fd, buf, sizeof(buf), 0);
			if (r > 0) {
				c->bytes += (uint64_t)r;
				continue;
			}
			if (r == -1 && (errno == EAGAIN || errno == EINTR))
				continue;
			drop(h, &c->closed);
		}
	}
	_exit(0);
}

static void
write_status(const char *path, unsigned target, unsigned procs, double t0)
{
	uint64_t e = 0, cl = 0, f = 0, b = 0;
	char tmp[4096];
	unsigned i;
	FILE *fp;

	for (i = 0; i < procs; i++) {
		e += shared[i].established;
		cl += shared[i].closed;
		f += shared[i].failed;
		b += shared[i].bytes;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((fp = fopen(tmp, "w")) == NULL)
		benchutil_die(tmp);
	fprintf(fp, "target=%u open=%llu established=%llu closed=%llu "
	    "failed=%llu bytes=%llu elapsed=%.1f\n", target,
	    (unsigned long long)(e - cl), (unsigned long long)e,
	    (unsigned long long)cl, (unsigned long long)f,
	    (unsigned long long)b, benchutil_now_s() - t0);
	if (fclose(fp) == EOF)
		benchutil_die(tmp);
	if (rename(tmp, path) == -1)
		benchutil_die("rename");
}

static __attribute__((noreturn)) void
usage(void)
{
	fprintf(stderr, "usage: holdconn [-n total] [-P procs] [-s src] "
	    "[-k nsrc] [-i inflight] [-t maxsecs] -o statusfile host port\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	pid_t pids[MAX_PROCS];
	const char *status = NULL;
	unsigned total = 10000, procs = 2, inflight = 256, i;
	double maxsecs = 300, t0, deadline;
	int ch;

	if (inet_pton(AF_INET, "127.0.0.2", &src0) != 1)
		return 1;
	while ((ch = getopt(argc, argv, "i:k:n:o:P:s:t:")) != -1) {
		switch (ch) {
		case 'i':
			inflight = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'k':
			nsrc = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'n':
			total = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'o':
			status = optarg;
			break;
		case 'P':
			procs = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 's':
			if (inet_pton(AF_INET, optarg, &src0) != 1)
				usage();
			break;
		case 't':
			maxsecs = strtod(optarg, NULL);
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 2 || status == NULL || procs == 0 ||
	    procs > MAX_PROCS || total == 0 || total / procs > 19800 ||
	    nsrc == 0 || inflight == 0 || maxsecs <= 0 || maxsecs > 3600)
		usage();
	if (benchutil_dst4(argv[optind], argv[optind + 1], &dst) == -1)
		usage();
	shared = mmap(NULL, MAX_PROCS * sizeof(*shared), PROT_READ |
	    PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED)
		benchutil_die("mmap");
	benchutil_signals();
	t0 = benchutil_now_s();
	deadline = t0 + maxsecs;
	for (i = 0; i < procs; i++) {
		unsigned want = total / procs + (i < total % procs ? 1 : 0);

		if ((pids[i] = fork()) == -1)
			benchutil_die("fork");
		if (pids[i] == 0)
			child(i, want, inflight, deadline);
	}
	while (!benchutil_stop && benchutil_now_s() < deadline) {
		write_status(status, total, procs, t0);
		pause_ms(500);
	}
	write_status(status, total, procs, t0);
	for (i = 0; i < procs; i++)
		if (kill(pids[i], SIGTERM) == -1 && errno != ESRCH)
			benchutil_die("kill");
	for (i = 0; i < procs; i++)
		if (waitpid(pids[i], NULL, 0) == -1)
			benchutil_die("waitpid");
	return 0;
}
