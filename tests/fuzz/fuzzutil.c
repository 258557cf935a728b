/*
 * fuzzutil.c: the helpers every harness links (see fuzz.h): quiet,
 * counted and checked logging, and the failure report.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "common/log.h"
#include "tests/fuzz/fuzz.h"

#define LAST_MAX	256

unsigned long	fuzz_nlog, fuzz_nwarn;
char		fuzz_last_log[LAST_MAX];
const char	*fuzz_input_name;
static FILE	*real_stderr;

/* Every line the code under test logs: count it and check its shape. */
static void
hook(int pri, const char *line)
{
	const unsigned char *p;

	fuzz_nlog++;
	if (pri <= LOG_WARNING)
		fuzz_nwarn++;
	strlcpy(fuzz_last_log, line, sizeof(fuzz_last_log));
	for (p = (const unsigned char *)line; *p != '\0'; p++)
		FUZZ_CHECK(*p >= 0x20 && *p < 0x7f, "log line with byte "
		    "0x%02x: %s", *p, fuzz_last_log);
}

void
fuzz_init(const char *name)
{
	FILE *null;

	if (real_stderr != NULL)
		return;
	real_stderr = stderr;
	log_init(name, 1, 0);
	log_set_hook(hook);
	/* glibc lets a program point stderr elsewhere; fd 2 stays. */
	if ((null = fopen("/dev/null", "w")) != NULL)
		stderr = null;
}

void
fuzz_log_reset(void)
{
	fuzz_nlog = fuzz_nwarn = 0;
	fuzz_last_log[0] = '\0';
}

void
fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
{
	FILE *out = real_stderr != NULL ? real_stderr : stderr;
	va_list ap;

	fprintf(out, "%s:%d: invariant broken: %s: ", file, line, cond);
	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
	fputc('\n', out);
	if (fuzz_input_name != NULL)
		fprintf(out, "the input was %s\n", fuzz_input_name);
	fflush(out);
	abort();
}
