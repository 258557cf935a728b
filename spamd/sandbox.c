/*
 * sandbox.c: seccomp for the SMTP process (see sandbox.h).
 *
 * Every system call the SMTP process makes after the filter, and why
 * (audited with strace -f -c on spamd-smtp under tests/sandbox/realsize.sh,
 * REALSIZE_STRACE=FILE: lists loaded, replaced and emptied while clients
 * are greylisted, blacklisted and trapped, with -M, -w, -B, -S/-s, -T, -A
 * and stderr logging, then -b -5 --log FILE; syslog logging adds only
 * send(2) on the /dev/log socket connected before the filter, or on the
 * greylister channel, see log.c):
 *	accept4, read, recvfrom, close, shutdown	clients and the config
 *					socket (recv is recvfrom)
 *	readv, writev			stdio may use them (fd-only, harmless)
 *	write, sendto			replies, the greylister channel, log lines;
 *					send(2) is sendto(2) with no address, so
 *					sendto is allowed only with dest_addr NULL
 *	getsockopt, getsockname, getpeername	SO_ORIGINAL_DST for -M;
 *					SO_PEERCRED, SO_PEERGROUPS on the config
 *					socket's unix listener
 *	pread64				ip_unprivileged_port_start, opened before
 *	setsockopt			SO_RCVBUF for -w at DATA
 *	epoll_wait/epoll_pwait, epoll_ctl	the event loop
 *	poll, ppoll			flushing the greylister channel at exit
 *	clock_gettime, gettimeofday, clock_nanosleep	clocks (usually vDSO)
 *	brk, mmap/munmap/mremap/madvise, mprotect	malloc and free of the
 *					list arrays; mmap and mprotect never with
 *					PROT_EXEC
 *	sysinfo				glibc's qsort(3) asks it for the physical
 *					memory size before it picks its merge
 *					buffer (the SMTP process no longer sorts
 *					with qsort, see sdl.c, but any future qsort
 *					must not kill it; sysinfo only reads
 *					counters, harmless to allow)
 *	fstat/newfstatat, fcntl		stdio housekeeping
 *	getpid				log_emit's syslog line header
 *	futex				private WAKE and WAIT only: glibc's
 *					pthread_once wakes waiters after every
 *					one-time initialisation, even in one
 *					thread, and OpenSSL runs some late (its
 *					cleanup at exit, its first handshake)
 *	getrandom			OpenSSL's generator, for STARTTLS (it
 *					reseeds after the fork, and for every
 *					context built at a SIGHUP reload); its
 *					configuration and providers are loaded
 *					before the filter (tls_init)
 *	rt_sigreturn, rt_sigprocmask, restart_syscall, exit, exit_group
 * Decided against, and so fatal:
 *	socket, socketpair, connect, bind, listen	no new socket after start;
 *					syslog logging keeps the /dev/log socket
 *					opened before the filter and never
 *					reconnects (common/log.c)
 *	sendmsg, recvmsg		not called: sendmsg's address is
 *					behind a pointer seccomp cannot read
 *	open/openat, execve		localtime_r needs /etc/localtime: spamd
 *					calls tzset(3) before the privilege drop;
 *					strerror needs no catalogue (no
 *					setlocale, the C locale)
 * Everything else kills the process; the supervisor says so.
 */
#include <sys/mman.h>
#include <sys/socket.h>

#include <linux/futex.h>

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
		SCMP_SYS(getsockopt), SCMP_SYS(setsockopt),
		SCMP_SYS(getsockname), SCMP_SYS(getpeername),
		SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait),
		SCMP_SYS(epoll_ctl), SCMP_SYS(poll), SCMP_SYS(ppoll),
		SCMP_SYS(clock_gettime),
		SCMP_SYS(clock_nanosleep), SCMP_SYS(gettimeofday),
		SCMP_SYS(brk), SCMP_SYS(munmap), SCMP_SYS(mremap),
		SCMP_SYS(madvise), SCMP_SYS(sysinfo), SCMP_SYS(getpid),
		SCMP_SYS(getrandom),
		SCMP_SYS(fstat), SCMP_SYS(newfstatat), SCMP_SYS(fcntl),
		SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask),
		SCMP_SYS(restart_syscall), SCMP_SYS(exit),
		SCMP_SYS(exit_group),
	};
	static const int futex_ops[] = {
		FUTEX_WAKE_PRIVATE, FUTEX_WAIT_PRIVATE,
		FUTEX_WAIT_BITSET_PRIVATE,
		FUTEX_WAIT_BITSET_PRIVATE | FUTEX_CLOCK_REALTIME,
	};
	scmp_filter_ctx ctx;
	size_t i;
	int rc = 0;

	/* No new socket from here on, filter or not: syslog lines that
	 * cannot be sent on the socket opened at start-up are dropped. */
	log_seal();
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
	/* Futexes of this process only, no requeue or PI operations. */
	for (i = 0; i < sizeof(futex_ops) / sizeof(futex_ops[0]) && rc == 0;
	    i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(futex), 1,
		    SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)futex_ops[i]));
	/* send(2) on connected sockets: never to an address. */
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(sendto), 1,
		    SCMP_A4(SCMP_CMP_EQ, 0));
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
