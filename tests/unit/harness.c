/*
 * harness.c: main() for unit tests (see harness.h).
 *
 * Forks one child per case, waits with a per-case timeout, and prints
 * "ok NAME" or "FAIL NAME: where: why" per case, then
 * "N passed, N failed". Exit status 0 only when every case passed.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "tests/unit/harness.h"

#define CASE_TIMEOUT	60	/* seconds */
#define LOGCAP		(256 * 1024)

static char	tmpdir[256];
static char	logbuf[LOGCAP];
static size_t	loglen;

static void
capture(int pri, const char *line)
{
	size_t n = strlen(line);

	(void)pri;
	if (loglen + n + 2 > sizeof(logbuf))
		return;
	memcpy(logbuf + loglen, line, n);
	loglen += n;
	logbuf[loglen++] = '\n';
	logbuf[loglen] = '\0';
}

void
t_clear_log(void)
{
	loglen = 0;
	logbuf[0] = '\0';
}

void
t_fail_at(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stdout, "  %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
	_exit(1);
}

void
t_expect_log_at(const char *file, int line, const char *s)
{
	if (strstr(logbuf, s) == NULL)
		t_fail_at(file, line, "no log line contains \"%s\"; log:\n%s",
		    s, logbuf);
}

void
t_no_log_at(const char *file, int line, const char *s)
{
	if (strstr(logbuf, s) != NULL)
		t_fail_at(file, line, "unexpected log line with \"%s\"; log:\n%s",
		    s, logbuf);
}

const char *
t_tmpdir(void)
{
	return tmpdir;
}

const char *
t_path(const char *name)
{
	static char buf[512];

	snprintf(buf, sizeof(buf), "%s/%s", tmpdir, name);
	return buf;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* The first lines of a failed case's stderr (sanitizer reports). */
static void
show_stderr(const char *path)
{
	FILE *fp = fopen(path, "r");
	char line[512];
	int n = 0;

	if (fp == NULL)
		return;
	while (fgets(line, sizeof(line), fp) != NULL && n++ < 40)
		printf("  | %s", line);
	fclose(fp);
}

static int
run_case(const struct t_case *c)
{
	pid_t pid;
	int status;
	unsigned int waited = 0;
	char errpath[300];

	snprintf(tmpdir, sizeof(tmpdir), "%s/tcase.XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(tmpdir) == NULL) {
		printf("FAIL %s: mkdtemp: %s\n", c->name, strerror(errno));
		return 1;
	}
	snprintf(errpath, sizeof(errpath), "%s.stderr", tmpdir);
	fflush(stdout);
	if ((pid = fork()) == -1) {
		printf("FAIL %s: fork: %s\n", c->name, strerror(errno));
		return 1;
	}
	if (pid == 0) {
		log_init("test", 1, 2);
		log_set_hook(capture);
		/* Log lines go to the hook; stderr (sanitizer reports,
		 * crashes) to a file shown when the case fails. */
		if (freopen(errpath, "w", stderr) == NULL)
			_exit(2);
		c->fn();
		fflush(stdout);
		exit(0);	/* not _exit: let LeakSanitizer check the case */
	}
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			break;
		if (r == -1 && errno != EINTR) {
			printf("FAIL %s: waitpid: %s\n", c->name,
			    strerror(errno));
			return 1;
		}
		if (waited >= CASE_TIMEOUT * 100) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			printf("FAIL %s: timed out after %d s\n", c->name,
			    CASE_TIMEOUT);
			show_stderr(errpath);
			nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
			return 1;
		}
		usleep(10000);
		waited++;
	}
	if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0))
		show_stderr(errpath);
	unlink(errpath);
	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		printf("ok   %s\n", c->name);
		return 0;
	}
	if (WIFSIGNALED(status))
		printf("FAIL %s: killed by signal %d\n", c->name,
		    WTERMSIG(status));
	else
		printf("FAIL %s\n", c->name);
	return 1;
}

int
main(int argc, char *argv[])
{
	const struct t_case *c;
	int passed = 0, failed = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (c = t_cases; c->name != NULL; c++) {
		if (argc > 1 && strcmp(argv[1], c->name) != 0)
			continue;
		if (run_case(c) == 0)
			passed++;
		else
			failed++;
	}
	if (passed + failed == 0) {
		printf("no case matched\n");
		return 1;
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
