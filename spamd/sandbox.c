/*
 * sandbox.c: seccomp for the SMTP process (see sandbox.h).
 *
 * What the loop needs, and why:
 *	accept4, read/recv*, write/send*, close, shutdown	clients
 *	getsockopt, getsockname		SO_ORIGINAL_DST for -M; SO_PEERCRED and
 *					SO_PEERGROUPS on the config socket
 *	pread64				ip_unprivileged_port_start, opened before
 *	setsockopt			SO_RCVBUF for -w at DATA
 *	epoll_wait/epoll_pwait, epoll_ctl	the event loop
 *	poll, ppoll			flushing the greylister channel at exit
 *	clock_gettime, clock_nanosleep	the clocks (usually the vDSO)
 *	brk, mmap/munmap/mremap/madvise/mprotect	malloc; never PROT_EXEC
 *	socket(AF_UNIX), connect, getpid	syslog reconnecting to /dev/log
 *	fstat/newfstatat, fcntl		stdio and syslog housekeeping
 *	rt_sigreturn, rt_sigprocmask, restart_syscall, exit, exit_group
 * Everything else, open(2) and execve(2) above all, kills the process.
 */
#include <sys/mman.h>
#include <sys/socket.h>

#include <errno.h>
#include <seccomp.h>
#include <stddef.h>

#include "common/log.h"
#include "spamd/sandbox.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN	1
#endif
#endif

int
sandbox_supported(void)
{
#ifdef UNDER_ASAN
	return 0;
#else
	return 1;
#endif
}

int
sandbox_smtp(void)
{
	static const int plain[] = {
		SCMP_SYS(read), SCMP_SYS(readv), SCMP_SYS(write),
		SCMP_SYS(writev), SCMP_SYS(pread64), SCMP_SYS(close),
		SCMP_SYS(shutdown),
		SCMP_SYS(accept4), SCMP_SYS(accept), SCMP_SYS(recvfrom),
		SCMP_SYS(recvmsg), SCMP_SYS(sendto), SCMP_SYS(sendmsg),
		SCMP_SYS(getsockopt), SCMP_SYS(setsockopt),
		SCMP_SYS(getsockname), SCMP_SYS(getpeername),
		SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait),
		SCMP_SYS(epoll_ctl), SCMP_SYS(poll), SCMP_SYS(ppoll),
		SCMP_SYS(clock_gettime),
		SCMP_SYS(clock_nanosleep), SCMP_SYS(gettimeofday),
		SCMP_SYS(brk), SCMP_SYS(munmap), SCMP_SYS(mremap),
		SCMP_SYS(madvise), SCMP_SYS(connect), SCMP_SYS(getpid),
		SCMP_SYS(fstat), SCMP_SYS(newfstatat), SCMP_SYS(fcntl),
		SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask),
		SCMP_SYS(restart_syscall), SCMP_SYS(exit),
		SCMP_SYS(exit_group),
	};
	scmp_filter_ctx ctx;
	size_t i;
	int rc = 0;

#ifdef UNDER_ASAN
	log_info("sanitizer build: not loading the seccomp filter");
	return 0;
#endif
	if ((ctx = seccomp_init(SCMP_ACT_KILL_PROCESS)) == NULL) {
		log_warnx("seccomp_init failed");
		return -1;
	}
	for (i = 0; i < sizeof(plain) / sizeof(plain[0]) && rc == 0; i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, plain[i], 0);
	/* Memory, but never executable memory. */
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
		    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect),
		    1, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	/* Only local sockets: syslog(3) reconnecting to /dev/log. */
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
		    SCMP_A0(SCMP_CMP_EQ, AF_UNIX));
	if (rc == 0)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc != 0) {
		errno = -rc;
		log_warn("cannot load the seccomp filter");
		return -1;
	}
	return 0;
}
