/*
 * runstat.c: run a command and report what it cost, for the benchmarks
 * (so they need no /usr/bin/time).
 *
 * usage: runstat [-o file] command [args...]
 *
 * Runs the command (stdin, stdout and stderr inherited), waits for it
 * with wait4(2) and prints one line, to stderr or appended to file:
 *	wall_s=.. user_s=.. sys_s=.. maxrss_kb=.. rc=..
 * maxrss_kb is the peak resident set of the command (of its largest
 * process if it forks: getrusage semantics). rc is the exit status, or
 * 128 + signal. runstat exits with the same status.
 */
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/benchutil.h"

int
main(int argc, char *argv[])
{
	const char *out = NULL;
	struct rusage ru;
	double t0, wall;
	FILE *fp = stderr;
	pid_t pid;
	int ch, status, rc;

	while ((ch = getopt(argc, argv, "+o:")) != -1) {
		switch (ch) {
		case 'o':
			out = optarg;
			break;
		default:
			fprintf(stderr, "usage: runstat [-o file] command "
			    "[args...]\n");
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "usage: runstat [-o file] command [args...]\n");
		return 2;
	}
	t0 = benchutil_now_s();
	if ((pid = fork()) == -1) {
		perror("runstat: fork");
		return 1;
	}
	if (pid == 0) {
		execvp(argv[optind], argv + optind);
		fprintf(stderr, "runstat: %s: %s\n", argv[optind],
		    strerror(errno));
		_exit(127);
	}
	while (wait4(pid, &status, 0, &ru) == -1) {
		if (errno != EINTR) {
			perror("runstat: wait4");
			return 1;
		}
	}
	wall = benchutil_now_s() - t0;
	rc = WIFEXITED(status) ? WEXITSTATUS(status) :
	    128 + WTERMSIG(status);
	if (out != NULL && (fp = fopen(out, "a")) == NULL) {
		perror(out);
		return 1;
	}
	fprintf(fp, "wall_s=%.3f user_s=%.3f sys_s=%.3f maxrss_kb=%ld rc=%d\n",
	    wall, (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6,
	    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6,
	    ru.ru_maxrss, rc);
	if (fp != stderr && fclose(fp) == EOF) {
		perror(out);
		return 1;
	}
	return rc;
}
