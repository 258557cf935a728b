/*
 * cfgsink.c: a recording stand-in for spamd's configuration socket, for
 * tests of spamd-setup. Run it in a private network namespace (unshare -n)
 * so port 8026 never collides with a real spamd.
 *
 * usage: cfgsink [-n conns] [-p port] [-t secs] outfile
 *
 * Listens on 127.0.0.1:port (default 8026), accepts `conns' connections
 * (default 1) one after another, and for each appends to outfile a line
 * "connection from port N" followed by every byte received up to EOF.
 * Then it closes the connection, as spamd does after applying the lines.
 * It prints "listening" on stdout once the socket is bound, and gives up
 * after -t seconds (default 30) without a connection. Exit 0 when all
 * connections were recorded, 1 otherwise.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/compat.h"

static void
usage(void)
{
	fprintf(stderr, "usage: cfgsink [-n conns] [-p port] [-t secs] "
	    "outfile\n");
	exit(1);
}

int
main(int argc, char *argv[])
{
	struct sockaddr_in sin;
	socklen_t sl;
	struct pollfd pfd;
	const char *e;
	char buf[65536];
	long long conns = 1, port = 8026, secs = 30, i;
	ssize_t r;
	FILE *out;
	int ch, s, c, one = 1;

	while ((ch = getopt(argc, argv, "n:p:t:")) != -1) {
		switch (ch) {
		case 'n':
			conns = strtonum(optarg, 1, 1000, &e);
			if (e != NULL)
				usage();
			break;
		case 'p':
			port = strtonum(optarg, 1, 65535, &e);
			if (e != NULL)
				usage();
			break;
		case 't':
			secs = strtonum(optarg, 1, 3600, &e);
			if (e != NULL)
				usage();
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 1)
		usage();
	if ((out = fopen(argv[optind], "a")) == NULL) {
		perror(argv[optind]);
		return 1;
	}
	if ((s = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1) {
		perror("socket");
		return 1;
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(s, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(s, 5) == -1) {
		perror("bind/listen");
		return 1;
	}
	printf("listening\n");
	fflush(stdout);
	for (i = 0; i < conns; i++) {
		pfd.fd = s;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, (int)secs * 1000) != 1) {
			fprintf(stderr, "cfgsink: no connection within %lld "
			    "s\n", secs);
			return 1;
		}
		sl = sizeof(sin);
		if ((c = accept(s, (struct sockaddr *)&sin, &sl)) == -1) {
			perror("accept");
			return 1;
		}
		fprintf(out, "connection from port %u\n",
		    (unsigned int)ntohs(sin.sin_port));
		for (;;) {
			pfd.fd = c;
			pfd.events = POLLIN;
			if (poll(&pfd, 1, (int)secs * 1000) != 1) {
				fprintf(stderr, "cfgsink: no EOF within %lld "
				    "s\n", secs);
				return 1;
			}
			if ((r = read(c, buf, sizeof(buf))) == -1) {
				if (errno == EINTR)
					continue;
				perror("read");
				return 1;
			}
			if (r == 0)
				break;
			if (fwrite(buf, 1, (size_t)r, out) != (size_t)r) {
				perror("fwrite");
				return 1;
			}
		}
		if (fflush(out) == EOF) {
			perror("fflush");
			return 1;
		}
		close(c);
	}
	close(s);
	return fclose(out) == EOF;
}
