/*
 * benchutil.c: the clock, the fatal error and the stop flag the bench
 * tools share (see benchutil.h). Messages name the program as it was
 * invoked (program_invocation_short_name, GNU), as each tool's own
 * copy did.
 */
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/benchutil.h"

volatile sig_atomic_t benchutil_stop;

static struct timespec
mono(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		benchutil_die("clock_gettime");
	return ts;
}

double
benchutil_now_s(void)
{
	struct timespec ts = mono();

	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

uint64_t
benchutil_now_ms(void)
{
	struct timespec ts = mono();

	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t
benchutil_now_us(void)
{
	struct timespec ts = mono();

	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

void
benchutil_die(const char *what)
{
	fprintf(stderr, "%s: %s: %s\n", program_invocation_short_name, what,
	    strerror(errno));
	exit(1);
}

void
benchutil_on_signal(int sig)
{
	(void)sig;
	benchutil_stop = 1;
}

void
benchutil_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = benchutil_on_signal;
	if (sigaction(SIGTERM, &sa, NULL) == -1 ||
	    sigaction(SIGINT, &sa, NULL) == -1)
		benchutil_die("sigaction");
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		benchutil_die("signal");
}

int
benchutil_dst4(const char *host, const char *port, struct sockaddr_in *sin)
{
	unsigned long p;
	char *end;

	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	errno = 0;
	p = strtoul(port, &end, 10);
	if (errno != 0 || end == port || *end != '\0' || p == 0 || p > 65535)
		return -1;
	sin->sin_port = htons((uint16_t)p);
	return inet_pton(AF_INET, host, &sin->sin_addr) == 1 ? 0 : -1;
}
