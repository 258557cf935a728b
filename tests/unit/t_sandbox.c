/*
 * t_sandbox.c: the SMTP process's seccomp filter (spamd/sandbox.c) lets
 * the loop's calls through, and what the loop reaches through libc
 * (qsort, large malloc, localtime_r/strftime, stdio), and kills the
 * process on anything else: no new socket of any family, no connect,
 * bind or listen, no sendto with an address, no sendmsg, no executable
 * memory, no open, no exec.
 */
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/sysinfo.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "spamd/sandbox.h"
#include "tests/unit/harness.h"

/* A connected pair made before the filter, as the real process has. */
static int pair[2] = { -1, -1 };

/* Run fn in a sandboxed child; return its wait status. */
static int
sandboxed(void (*fn)(void))
{
	pid_t pid;
	int status;

	if (pair[0] == -1)
		T_ASSERT(socketpair(AF_UNIX, SOCK_DGRAM, 0, pair) == 0);
	tzset();	/* as spamd does before the drop */
	pid = fork();
	T_ASSERT(pid != -1);
	if (pid == 0) {
		if (sandbox_smtp() == -1)
			_exit(3);
		fn();
		_exit(0);
	}
	T_EQ_INT(waitpid(pid, &status, 0), pid);
	return status;
}

#define KILLED(st)	(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS)

static void do_open(void) { (void)open("/etc/passwd", O_RDONLY); }
static void do_unix_socket(void) { (void)socket(AF_UNIX, SOCK_DGRAM, 0); }
static void do_inet_socket(void) { (void)socket(AF_INET, SOCK_STREAM, 0); }
static void do_inet6_socket(void) { (void)socket(AF_INET6, SOCK_DGRAM, 0); }
static void do_netlink_socket(void) { (void)socket(AF_NETLINK, SOCK_RAW, 0); }
static void do_listen(void) { (void)listen(pair[0], 1); }
static void do_sendmsg(void)
{
	struct msghdr mh;
	struct iovec iov = { "x", 1 };

	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	(void)sendmsg(pair[0], &mh, 0);
}

static void
do_exec(void)
{
	char *argv[] = { "/bin/true", NULL };

	execv(argv[0], argv);
}

static void
do_socketpair(void)
{
	int sv[2];

	(void)socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
}

static void
do_connect(void)
{
	struct sockaddr_un sun;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, "/dev/log");
	(void)connect(pair[0], (struct sockaddr *)&sun, sizeof(sun));
}

static void
do_bind(void)
{
	struct sockaddr_un sun;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	(void)bind(pair[0], (struct sockaddr *)&sun, sizeof(sa_family_t));
}

static void
do_sendto_addr(void)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(25);
	sin.sin_addr.s_addr = htonl(0xc0000201);	/* 192.0.2.1 */
	(void)sendto(pair[0], "x", 1, 0, (struct sockaddr *)&sin,
	    sizeof(sin));
}

static void
do_mmap_exec(void)
{
	(void)mmap(NULL, 4096, PROT_READ | PROT_EXEC,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

static void
do_mprotect_exec(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		_exit(4);
	(void)mprotect(p, 4096, PROT_READ | PROT_EXEC);
}

static int
cmp_u32(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

	return x < y ? -1 : x > y;
}

/* Everything the SMTP process reaches at run time, through libc too. */
static void
do_loop_calls(void)
{
	enum { N = 4 << 20 };	/* 16 MB: qsort's merge buffer, mmap'd */
	unsigned *a = malloc(N * sizeof(*a));
	char buf[128], when[64];
	struct timespec ts;
	struct sysinfo si;
	struct tm tm;
	time_t t = 1700000000;
	size_t i;
	void *p;

	if (a == NULL)
		_exit(4);
	for (i = 0; i < N; i++)
		a[i] = (unsigned)(i * 2654435761u);
	qsort(a, N, sizeof(*a), cmp_u32);	/* glibc asks sysinfo(2) */
	for (i = 1; i < N; i++)
		if (a[i - 1] > a[i])
			_exit(5);
	free(a);
	for (i = 0; i < 64; i++) {	/* malloc's brk, mmap, munmap, madvise */
		if ((p = malloc((size_t)1 << (12 + i % 14))) == NULL)
			_exit(6);
		memset(p, 1, 4096);
		if ((p = realloc(p, (size_t)1 << (13 + i % 14))) == NULL)
			_exit(6);
		free(p);
	}
	if (localtime_r(&t, &tm) == NULL ||
	    strftime(when, sizeof(when), "%a %b %e %H:%M:%S %Y", &tm) == 0 ||
	    gmtime_r(&t, &tm) == NULL)
		_exit(7);
	if (snprintf(buf, sizeof(buf), "%s %d %.2f", when, 42, 1.5) < 0)
		_exit(8);
	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1 ||
	    clock_gettime(CLOCK_REALTIME, &ts) == -1 || sysinfo(&si) == -1)
		_exit(9);
	/* Connected sockets: send() is sendto(2) with no address. */
	if (send(pair[0], "x", 1, 0) != 1 || recv(pair[1], buf, 1, 0) != 1 ||
	    write(pair[0], "y", 1) != 1 || read(pair[1], buf, 1) != 1)
		_exit(10);
	(void)getpid();
	(void)fflush(stdout);
}

static void
forbidden_calls_kill(void)
{
	static const struct {
		const char *what;
		void (*fn)(void);
	} f[] = {
		{ "open", do_open }, { "execve", do_exec },
		{ "socket(AF_UNIX)", do_unix_socket },
		{ "socket(AF_INET)", do_inet_socket },
		{ "socket(AF_INET6)", do_inet6_socket },
		{ "socket(AF_NETLINK)", do_netlink_socket },
		{ "socketpair", do_socketpair }, { "connect", do_connect },
		{ "bind", do_bind }, { "listen", do_listen },
		{ "sendto with an address", do_sendto_addr },
		{ "sendmsg", do_sendmsg },
		{ "mmap PROT_EXEC", do_mmap_exec },
		{ "mprotect PROT_EXEC", do_mprotect_exec },
	};
	size_t i;
	int st, bad = 0;

	if (!sandbox_supported())
		return;		/* no filter under AddressSanitizer */
	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		st = sandboxed(f[i].fn);
		if (!KILLED(st)) {
			fprintf(stderr, "%s: not killed by the filter "
			    "(status %#x)\n", f[i].what, st);
			(void)fflush(stderr);
			bad++;
		}
	}
	T_EQ_INT(bad, 0);
}

static void
loop_calls_allowed(void)
{
	int st = sandboxed(do_loop_calls);

	if (WIFSIGNALED(st))
		fprintf(stderr, "killed by signal %d\n", WTERMSIG(st));
	(void)fflush(stderr);
	T_ASSERT(WIFEXITED(st));
	T_EQ_INT(WEXITSTATUS(st), 0);
}

/*
 * Syslog under the filter: lines reach the socket connected before the
 * filter; when the syslog daemon goes away and comes back (a new socket
 * at the same path) the process neither dies nor reconnects: lines are
 * dropped and counted, one send(2) each.
 */
static void
syslog_under_filter(void)
{
	struct sockaddr_un sun;
	char path[300], buf[4096];
	int srv, srv2, st, i;
	ssize_t n;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/log", t_tmpdir());
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, path);
	T_ASSERT((srv = socket(AF_UNIX, SOCK_DGRAM, 0)) != -1);
	T_ASSERT(bind(srv, (struct sockaddr *)&sun, sizeof(sun)) == 0);
	log_set_hook(NULL);
	log_syslog_path(path);
	log_init("tsyslog", 0, 0);
	tzset();
	T_ASSERT(socketpair(AF_UNIX, SOCK_STREAM, 0, pair) == 0);
	pid = fork();
	T_ASSERT(pid != -1);
	if (pid == 0) {
		close(srv);	/* only the parent plays syslog */
		if (sandbox_smtp() == -1)
			_exit(3);
		log_warnx("first line");
		/* wait for the parent to restart "syslog" */
		if (read(pair[1], buf, 1) != 1)
			_exit(4);
		for (i = 0; i < 1000; i++)
			log_warnx("line %d while syslog is away", i);
		if (log_dropped() != 1000) {
			fprintf(stderr, "%lu lines dropped, not 1000\n",
			    log_dropped());
			(void)fflush(stderr);
			_exit(5);
		}
		_exit(0);
	}
	/* (the sanitizer build first says it loads no filter) */
	for (i = 0; i < 3; i++) {
		n = recv(srv, buf, sizeof(buf) - 1, 0);
		T_ASSERT(n > 0);
		buf[n] = '\0';
		if (strstr(buf, "first line") != NULL)
			break;
	}
	T_ASSERT(strstr(buf, "tsyslog[") != NULL);
	T_ASSERT(strstr(buf, "]: first line") != NULL);
	T_ASSERT(strncmp(buf, "<28>", 4) == 0);	/* LOG_DAEMON|LOG_WARNING */
	/* syslog restarts: a new socket at the same path */
	close(srv);
	T_ASSERT(unlink(path) == 0);
	T_ASSERT((srv2 = socket(AF_UNIX, SOCK_DGRAM, 0)) != -1);
	T_ASSERT(bind(srv2, (struct sockaddr *)&sun, sizeof(sun)) == 0);
	T_ASSERT(write(pair[0], "g", 1) == 1);
	T_EQ_INT(waitpid(pid, &st, 0), pid);
	if (WIFSIGNALED(st))
		fprintf(stderr, "killed by signal %d\n", WTERMSIG(st));
	(void)fflush(stderr);
	T_ASSERT(WIFEXITED(st));
	T_EQ_INT(WEXITSTATUS(st), 0);
	/* nothing reconnected to the new one */
	T_ASSERT(recv(srv2, buf, sizeof(buf), MSG_DONTWAIT) == -1);
	close(srv2);
}

const struct t_case t_cases[] = {
	T_CASE(syslog_under_filter),
	T_CASE(forbidden_calls_kill),
	T_CASE(loop_calls_allowed),
	{ NULL, NULL },
};
