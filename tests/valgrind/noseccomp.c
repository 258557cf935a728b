/*
 * noseccomp.c: stand-ins for the libseccomp calls of spamd/sandbox.c,
 * preloaded (LD_PRELOAD) into spamd when it runs under valgrind.
 *
 * Valgrind does not implement the seccomp(2) system call, so libseccomp's
 * seccomp_init fails under it and spamd's SMTP process refuses to start
 * (it will not face the network unconfined). For a memcheck run the
 * filter does not matter: these functions accept every rule and load
 * nothing. Never used outside tests/valgrind/smtp_memcheck.sh, which
 * builds this file into a shared object with the system compiler.
 */
#include <seccomp.h>
#include <stdarg.h>

static int dummy_ctx;

scmp_filter_ctx
seccomp_init(uint32_t def_action)
{
	(void)def_action;
	return &dummy_ctx;
}

int
seccomp_rule_add(scmp_filter_ctx ctx, uint32_t action, int syscall,
    unsigned int arg_cnt, ...)
{
	(void)ctx;
	(void)action;
	(void)syscall;
	(void)arg_cnt;
	return 0;
}

int
seccomp_load(const scmp_filter_ctx ctx)
{
	(void)ctx;
	return 0;
}

void
seccomp_release(scmp_filter_ctx ctx)
{
	(void)ctx;
}
