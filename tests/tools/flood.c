/*
 * flood.c: one client flooding spamd with new tuples, for the flood
 * test (issue 15): connections from one source address, each sending
 * HELO, MAIL and a hundred RCPTs with recipients never used before, all
 * pipelined, then QUIT; reconnecting until the time is up.
 *
 * usage: flood [-c conns] [-s srcaddr] [-t secs] host port
 *
 * Prints "sent N recipients in M connections" and exits 0; 1 when no
 * connection could be made; 2 on usage errors. A test tool.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <netdb.h>
#include <netinet/in.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define RCPTS	100		/* spamd records at most this many a connection */

static void
usage(void)
{
	fprintf(stderr, "usage: flood [-c conns] [-s srcaddr] [-t secs] "
	    "host port\n");
	exit(2);
}

static int
dial(const char *src, const char *host, const char *port)
{
	struct addrinfo hints, *res, *sres = NULL;
	int fd, e;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if ((e = getaddrinfo(host, port, &hints, &res)) != 0) {
		fprintf(stderr, "flood: %s: %s\n", host, gai_strerror(e));
		exit(2);
	}
	if (src != NULL) {
		hints.ai_family = res->ai_family;
		if ((e = getaddrinfo(src, "0", &hints, &sres)) != 0) {
			fprintf(stderr, "flood: %s: %s\n", src,
			    gai_strerror(e));
			exit(2);
		}
	}
	if ((fd = socket(res->ai_family, SOCK_STREAM, 0)) == -1 ||
	    (sres != NULL && bind(fd, sres->ai_addr, sres->ai_addrlen) ==
	    -1) || connect(fd, res->ai_addr, res->ai_addrlen) == -1) {
		if (fd != -1)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (sres != NULL)
		freeaddrinfo(sres);
	return fd;
}

/* One connection: everything in one write, then read to the end. */
static int
session(int fd, unsigned int child, unsigned long *seq)
{
	static char buf[RCPTS * 64 + 256];
	char rd[4096];
	size_t o = 0;
	ssize_t n;
	int i;

	o += (size_t)snprintf(buf + o, sizeof(buf) - o,
	    "HELO flood.example\r\nMAIL FROM:<flood@flood.example>\r\n");
	for (i = 0; i < RCPTS; i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o,
		    "RCPT TO:<u%u.%lu@example.com>\r\n", child, (*seq)++);
	o += (size_t)snprintf(buf + o, sizeof(buf) - o, "QUIT\r\n");
	for (size_t w = 0; w < o; w += (size_t)n)
		if ((n = write(fd, buf + w, o - w)) <= 0)
			return -1;
	while ((n = read(fd, rd, sizeof(rd))) > 0)
		;
	return 0;
}

int
main(int argc, char *argv[])
{
	const char *src = NULL;
	unsigned int conns = 2, i;
	long secs = 20;
	int ch, status, failed = 0;
	pid_t pid;

	while ((ch = getopt(argc, argv, "c:s:t:")) != -1) {
		switch (ch) {
		case 'c':
			conns = (unsigned int)atoi(optarg);
			break;
		case 's':
			src = optarg;
			break;
		case 't':
			secs = atol(optarg);
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 2 || conns == 0 || conns > 64 || secs <= 0)
		usage();
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < conns; i++) {
		if ((pid = fork()) == -1) {
			perror("flood: fork");
			exit(1);
		}
		if (pid == 0) {
			time_t end = time(NULL) + secs;
			unsigned long seq = 0, nconn = 0;
			int fd;

			while (time(NULL) < end) {
				if ((fd = dial(src, argv[0], argv[1])) == -1) {
					if (nconn == 0) {
						perror("flood: connect");
						_exit(1);
					}
					usleep(10000);
					continue;
				}
				session(fd, i, &seq);
				close(fd);
				nconn++;
			}
			printf("sent %lu recipients in %lu connections\n",
			    seq, nconn);
			fflush(stdout);
			_exit(0);
		}
	}
	while (wait(&status) > 0)
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failed = 1;
	return failed;
}
