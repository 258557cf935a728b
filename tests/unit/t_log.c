/*
 * t_log.c: unit tests for common/log.c: log_verbose and log_debug compute
 * their arguments only at their level; a log file's line ("UTC stamp
 * ident[proc]: text"), escaped control bytes and a cut line that still
 * ends in a newline; log_defer's held lines (written at log_flush, when
 * the buffer fills, never twice across a fork); syslog's datagram ("<pri>Mmm dd hh:mm:ss
 * ident[pid]: text") on a socket of the case's own.
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "tests/unit/harness.h"

static int computed;

static const char *
arg(void)
{
	computed++;
	return "costly";
}

/* Below its level, a line's arguments are not even computed. */
static void
level_gates_arguments(void)
{
	log_setverbose(0);
	log_verbose("v %s", arg());
	log_debug("d %s", arg());
	T_EQ_INT(computed, 0);
	t_no_log("costly");
	log_setverbose(1);
	log_verbose("v %s", arg());
	log_debug("d %s", arg());
	T_EQ_INT(computed, 1);
	t_expect_log("v costly");
	t_no_log("d costly");
	log_setverbose(2);
	log_debug("d %s", arg());
	T_EQ_INT(computed, 2);
	t_expect_log("d costly");
}

static size_t
slurp(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	T_ASSERT(fd != -1);
	n = read(fd, buf, len - 1);
	T_ASSERT(n >= 0);
	buf[n] = '\0';
	close(fd);
	return (size_t)n;
}

/* A file gets a UTC stamp, ident[proc], escaped bytes, whole lines. */
static void
file_lines(void)
{
	char buf[8192], big[5000], *nl;
	int y, mo, d, h, mi, s;
	char z;
	size_t n;

	T_EQ_INT(log_open(t_path("spamd.log")), 0);
	log_init("spamd-test", 0, 0);
	log_procname("grey");
	log_info("hello %s", "\x01world");
	n = slurp(t_path("spamd.log"), buf, sizeof(buf));
	T_EQ_INT(sscanf(buf, "%4d-%2d-%2dT%2d:%2d:%2d%c ", &y, &mo, &d, &h,
	    &mi, &s, &z), 7);
	T_ASSERT(y >= 2024 && mo >= 1 && mo <= 12 && z == 'Z');
	T_EQ_STR(buf + 21, "spamd-test[grey]: hello \\001world\n");
	T_EQ_INT(n, strlen(buf));

	/* an over-long line is cut and still ends the line */
	T_ASSERT(truncate(t_path("spamd.log"), 0) == 0);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_procname(NULL);
	log_warnx("%s", big);
	log_info("next");
	n = slurp(t_path("spamd.log"), buf, sizeof(buf));
	T_ASSERT((nl = strchr(buf, '\n')) != NULL);
	T_ASSERT(nl - buf > 2000 && nl - buf < 2200);
	T_ASSERT(strstr(buf + 21, "spamd-test: aaaa") == buf + 21);
	T_ASSERT(strstr(nl + 1, "spamd-test: next\n") != NULL);
	T_EQ_INT(buf[n - 1], '\n');
}

/*
 * log_defer: file lines are held until log_flush, then written whole and
 * in order; a full buffer is written before it overflows; a fork copies
 * nothing held (the child's exit would write it a second time); off
 * flushes.
 */
static void
deferred_lines(void)
{
	char buf[65536], *p;
	pid_t pid;
	int i, status;

	T_EQ_INT(log_open(t_path("defer.log")), 0);
	log_init("spamd-test", 0, 0);
	log_defer(1);
	log_info("one");
	log_info("two");
	T_EQ_INT(slurp(t_path("defer.log"), buf, sizeof(buf)), 0);
	log_flush();
	slurp(t_path("defer.log"), buf, sizeof(buf));
	T_ASSERT(strstr(buf, "spamd-test: one\n") != NULL);
	T_ASSERT(strstr(buf, "spamd-test: one\n") < strstr(buf,
	    "spamd-test: two\n"));

	/* 400 lines of about 60 bytes: more than the buffer holds */
	T_ASSERT(truncate(t_path("defer.log"), 0) == 0);
	for (i = 0; i < 400; i++)
		log_info("line %03d of a batch that fills the buffer", i);
	T_ASSERT(slurp(t_path("defer.log"), buf, sizeof(buf)) > 0);
	log_flush();
	slurp(t_path("defer.log"), buf, sizeof(buf));
	T_ASSERT(strstr(buf, "line 000 ") != NULL);
	T_ASSERT(strstr(buf, "line 399 ") != NULL);

	T_ASSERT(truncate(t_path("defer.log"), 0) == 0);
	log_info("before the fork");
	if ((pid = fork()) == 0)
		exit(0);	/* atexit: writes what it holds, if any */
	T_ASSERT(pid > 0);
	T_EQ_INT(waitpid(pid, &status, 0), pid);
	log_defer(0);
	slurp(t_path("defer.log"), buf, sizeof(buf));
	/* exactly once: the parent flushed before the fork */
	T_ASSERT((p = strstr(buf, "before the fork")) != NULL);
	T_ASSERT(strstr(p + 1, "before the fork") == NULL);
	log_info("direct");
	slurp(t_path("defer.log"), buf, sizeof(buf));
	T_ASSERT(strstr(buf, "spamd-test: direct\n") != NULL);
}

/* Syslog gets one datagram per line, as syslog(3) would send it. */
static void
syslog_datagram(void)
{
	struct sockaddr_un sun;
	char buf[4096], want[64];
	ssize_t n;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", t_path("log"));
	T_ASSERT((fd = socket(AF_UNIX, SOCK_DGRAM, 0)) != -1);
	T_ASSERT(bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0);
	log_syslog_path(t_path("log"));
	log_init("spamd-test", 0, 0);
	log_info("to syslog %d", 42);
	log_warnx("a warning");
	T_ASSERT((n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT)) > 0);
	buf[n] = '\0';
	/* LOG_DAEMON | LOG_INFO = 30; "Mmm dd hh:mm:ss " is 16 bytes */
	T_EQ_MEM(buf, "<30>", 4);
	T_ASSERT(buf[7] == ' ' && buf[10] == ' ' && buf[13] == ':' &&
	    buf[19] == ' ');
	snprintf(want, sizeof(want), "spamd-test[%ld]: to syslog 42",
	    (long)getpid());
	T_EQ_STR(buf + 20, want);
	T_ASSERT((n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT)) > 0);
	buf[n] = '\0';
	T_EQ_MEM(buf, "<28>", 4);		/* LOG_WARNING */
	T_ASSERT(strstr(buf, "]: a warning") != NULL);
	close(fd);
}

const struct t_case t_cases[] = {
	T_CASE(level_gates_arguments),
	T_CASE(file_lines),
	T_CASE(deferred_lines),
	T_CASE(syslog_datagram),
	{ NULL, NULL }
};
