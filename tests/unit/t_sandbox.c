/*
 * t_sandbox.c: the SMTP process's seccomp filter (spamd/sandbox.c) lets
 * the loop's calls through and kills the process on anything else.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "spamd/sandbox.h"
#include "tests/unit/harness.h"

/* Run fn in a sandboxed child; return its wait status. */
static int
sandboxed(void (*fn)(void))
{
	pid_t pid = fork();
	int status;

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

static void
do_open(void)
{
	(void)open("/etc/passwd", O_RDONLY);
}

static void
do_exec(void)
{
	char *argv[] = { "/bin/true", NULL };

	execv(argv[0], argv);
}

static void
do_inet_socket(void)
{
	(void)socket(AF_INET, SOCK_STREAM, 0);
}

static void
do_socketpair(void)
{
	int sv[2];

	(void)socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
}

static void
do_loop_calls(void)
{
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	void *p = malloc(1 << 20);

	if (fd == -1 || p == NULL)
		_exit(4);
	free(p);
	close(fd);
	(void)getpid();
}

static void
forbidden_calls_kill(void)
{
	int st;

	if (!sandbox_supported())
		return;		/* no filter under AddressSanitizer */
	st = sandboxed(do_open);
	T_ASSERT(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS);
	st = sandboxed(do_exec);
	T_ASSERT(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS);
	st = sandboxed(do_inet_socket);
	T_ASSERT(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS);
	/* socketpair is not needed by the loop, so it is refused too. */
	st = sandboxed(do_socketpair);
	T_ASSERT(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS);
}

static void
loop_calls_allowed(void)
{
	int st = sandboxed(do_loop_calls);

	T_ASSERT(WIFEXITED(st));
	T_EQ_INT(WEXITSTATUS(st), 0);
}

const struct t_case t_cases[] = {
	T_CASE(forbidden_calls_kill),
	T_CASE(loop_calls_allowed),
	{ NULL, NULL },
};
