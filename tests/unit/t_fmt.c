/*
 * t_fmt.c: unit tests for common/fmt.c: fmt_v writes what vsnprintf
 * writes and returns what it returns, byte for byte: for every
 * conversion it does itself, at the limits of every integer type, for
 * NULL strings and NUL characters, cut at every buffer size, and for the
 * formats it hands to vsnprintf (flags, widths, precisions, other
 * conversions, positional arguments); fmt_s as snprintf.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <wchar.h>

#include "common/fmt.h"
#include "tests/unit/harness.h"

static int checked;
static const char *volatile nul;	/* NULL, unknown to the compiler */

/*
 * fmt_v and vsnprintf on the same arguments, into buffers of every size
 * from 0 to past the whole output: same return, same bytes (a NUL byte
 * from %c included), nothing written past cap.
 */
static void
same(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void
same(const char *fmt, ...)
{
	char want[256], got[256];
	va_list ap, aq;
	int rw, rg;
	size_t cap, n;

	va_start(ap, fmt);
	va_copy(aq, ap);
	rw = vsnprintf(want, sizeof(want), fmt, aq);
	va_end(aq);
	T_ASSERT(rw >= 0 && (size_t)rw < sizeof(want));
	for (cap = 0; cap <= (size_t)rw + 2; cap++) {
		memset(want, 'W', sizeof(want));
		memset(got, 'W', sizeof(got));
		va_copy(aq, ap);
		rw = vsnprintf(want, cap, fmt, aq);
		va_end(aq);
		va_copy(aq, ap);
		rg = fmt_v(got, cap, fmt, aq);
		va_end(aq);
		if (rg != rw)
			t_fail("\"%s\" cap %zu: fmt_v returned %d, vsnprintf %d",
			    fmt, cap, rg, rw);
		n = cap < sizeof(got) ? cap + 1 : sizeof(got);
		if (memcmp(got, want, n) != 0)
			t_fail("\"%s\" cap %zu: fmt_v wrote \"%.*s\", vsnprintf "
			    "\"%.*s\"", fmt, cap, (int)(cap ? cap - 1 : 0), got,
			    (int)(cap ? cap - 1 : 0), want);
		checked++;
	}
	va_end(ap);
}

/* The conversions fmt_v does itself. */
static void
own_conversions(void)
{
	checked = 0;
	same("%s", "");
	same("plain text, no conversion");
	same("%s: connected (%zu/%zu)%s%s", "192.0.2.1", (size_t)17,
	    (size_t)0, ", lists: ", "spews1 spews2");
	same("%s: disconnected after %llu seconds.%s%s", "2001:db8::25",
	    (unsigned long long)42, "", "");
	same("%s", nul);
	same("[%s] [%s]", "a", nul);
	same("100%% done, %d%%", 7);
	same("%c%c%c", 'a', 'b', 'c');
	same("a%cb", 0);		/* a NUL byte in the middle */
	same("%c", 0xe9);		/* unsigned char conversion */
	same("%d %d %d %i", 0, -1, INT_MAX, INT_MIN);
	same("%u %u", 0u, UINT_MAX);
	same("%hhd %hhd %hhu %hhu", 127, 128, 255, 256 + 7);
	same("%hd %hd %hu", SHRT_MAX, SHRT_MIN - 1, 70000);
	same("%ld %ld %lu", LONG_MAX, LONG_MIN, ULONG_MAX);
	same("%lld %lld %llu", LLONG_MAX, LLONG_MIN, ULLONG_MAX);
	same("%zu %zd %zd", SIZE_MAX, (ssize_t)-5, (ssize_t)SSIZE_MAX);
	same("%jd %jd %ju", INTMAX_MAX, INTMAX_MIN, UINTMAX_MAX);
	same("%s=%d;%s=%lu;%s=%zu.", "one", 1, "two", 2ul, "three", (size_t)3);
	/* the SMTP process's longest usual line, past a small buffer */
	same("%s: %s: %s -> %s", "203.0.113.250", "helo.example.org",
	    "<a.long.sender.address@sender.example.org>",
	    "<recipient@mx.example.net>");
	T_ASSERT(checked > 400);
}

/* Formats fmt_v hands whole to vsnprintf: the output is still its own. */
static void
handed_over(void)
{
	checked = 0;
	same("%5d|%-5d|%05d", 42, 42, 42);
	same("%.*s|%.3s", 2, "abcdef", "abcdef");
	same("%x %X %o %#x %04o", 255u, 255u, 8u, 255u, 8u);
	same("%p", (void *)0);
	same("%.2f %e", 3.14159, 1e10);
	same("%s then %10s", "first", "second");
	same("%1$s %1$s", "again");
	same("%ls", L"wide");
	same("%lc", (wint_t)'w');
	T_ASSERT(checked > 100);
}

/* fmt_s is fmt_v with its arguments in the call. */
static void
fmt_s_call(void)
{
	char got[16];

	/* 16 + 29 bytes, cut to 15 and a NUL */
	T_EQ_INT(fmt_s(got, sizeof(got), "<%d>%s[%ld]: %s", 30, "spamd", 123L,
	    "a line longer than the buffer"), 45);
	T_EQ_STR(got, "<30>spamd[123]:");
}

const struct t_case t_cases[] = {
	T_CASE(own_conversions),
	T_CASE(handed_over),
	T_CASE(fmt_s_call),
	{ NULL, NULL },
};
