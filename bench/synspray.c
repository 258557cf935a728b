/*
 * synspray.c: outbound SMTP connection attempts at a steady rate, so
 * that spamlogd (watching the "spamd-out" NFLOG rule of nft/spamd.nft)
 * has real traffic to refresh WHITE records from, in the database
 * benchmark. Each attempt is a non-blocking connect() to port 25 of the
 * next address of a range, closed at once: one SYN leaves (and is
 * logged), nothing else happens. Route the range to a dummy interface,
 * so the SYNs go nowhere.
 *
 * usage: synspray [-r rate] [-d secs] first count
 *
 *	first	first IPv4 address of the range (203.0.113.1)
 *	count	how many consecutive addresses (1..65536)
 *	-r	attempts per second (default 200)
 *	-d	for how long (default 10 s)
 *
 * Prints "attempts=N secs=S" at the end. Exit 1 on a socket error.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/benchutil.h"

int
main(int argc, char *argv[])
{
	struct sockaddr_in dst;
	struct in_addr first;
	unsigned long count, n = 0;
	double rate = 200, secs = 10, t0, t;
	int ch, fd;

	while ((ch = getopt(argc, argv, "d:r:")) != -1) {
		switch (ch) {
		case 'd':
			secs = strtod(optarg, NULL);
			break;
		case 'r':
			rate = strtod(optarg, NULL);
			break;
		default:
			goto usage;
		}
	}
	if (argc - optind != 2 || inet_pton(AF_INET, argv[optind],
	    &first) != 1)
		goto usage;
	count = strtoul(argv[optind + 1], NULL, 10);
	if (count == 0 || count > 65536 || rate <= 0 || rate > 100000 ||
	    secs <= 0 || secs > 3600)
		goto usage;
	memset(&dst, 0, sizeof(dst));
	dst.sin_family = AF_INET;
	dst.sin_port = htons(25);
	t0 = benchutil_now_s();
	while ((t = benchutil_now_s()) - t0 < secs) {
		if ((double)n > (t - t0) * rate) {
			struct timespec ts = { 0, 1000000L };

			if (nanosleep(&ts, NULL) == -1 && errno != EINTR) {
				perror("synspray: nanosleep");
				return 1;
			}
			continue;
		}
		dst.sin_addr.s_addr = htonl(ntohl(first.s_addr) +
		    (uint32_t)(n % count));
		if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0)) == -1) {
			perror("synspray: socket");
			return 1;
		}
		if (connect(fd, (struct sockaddr *)&dst, sizeof(dst)) == -1 &&
		    errno != EINPROGRESS) {
			perror("synspray: connect");
			return 1;
		}
		if (close(fd) == -1) {
			perror("synspray: close");
			return 1;
		}
		n++;
	}
	printf("attempts=%lu secs=%.1f\n", n, benchutil_now_s() - t0);
	return 0;
usage:
	fprintf(stderr, "usage: synspray [-r rate] [-d secs] first count\n");
	return 2;
}
