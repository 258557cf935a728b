/*
 * fmt.h: vsnprintf(3) for the formats of log lines, without its cost.
 *
 *	fmt_v(buf, cap, fmt, ap)	what vsnprintf(buf, cap, fmt, ap) would
 *		write, and its return value. Conversions without flags, width
 *		or precision (%s %d %i %u %c %% with no length or with hh, h,
 *		l, ll, z or j) are done here; a format with anything else is
 *		handed whole to vsnprintf. cap may be 0 (nothing written).
 *	fmt_s(buf, cap, fmt, ...)	the same for snprintf(3)
 *
 * glibc's vsnprintf costs about 1,800 instructions for a short log line,
 * most of a connection's formatting in the SMTP process: fmt_v does the
 * same line in a few hundred. The result is the same byte for byte.
 */
#ifndef FMT_H
#define FMT_H

#include <stdarg.h>
#include <stddef.h>

int	fmt_v(char *, size_t, const char *, va_list)
	    __attribute__((format(printf, 3, 0)));
int	fmt_s(char *, size_t, const char *, ...)
	    __attribute__((format(printf, 3, 4)));

#endif
