/*
 * fmt.c: vsnprintf(3) for the formats of log lines, without its cost
 * (see fmt.h).
 *
 * The format is read once, left to right. Text between conversions is
 * copied with memcpy; %s, %c and the integer conversions are done here.
 * The first conversion this file does not do (a flag, a width, a
 * precision, %x, %f, %p, %m, a positional argument ...) hands the whole
 * format to vsnprintf with a copy of the arguments taken at the start,
 * so what comes out is always what vsnprintf makes of it.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include "common/fmt.h"

/* The output: buf[cap], n bytes produced so far (some may not fit). */
struct out {
	char	*buf;
	size_t	 cap;
	size_t	 n;
};

static void
emit(struct out *o, const char *s, size_t len)
{
	size_t room;

	if (o->cap > 0 && o->n < o->cap - 1) {
		room = o->cap - 1 - o->n;
		memcpy(o->buf + o->n, s, len < room ? len : room);
	}
	o->n += len;
}

/* v in decimal, with a '-' in front if neg. */
static void
emit_num(struct out *o, uintmax_t v, int neg)
{
	char d[sizeof(uintmax_t) * 3 + 2], *p = d + sizeof(d);

	do
		*--p = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	if (neg)
		*--p = '-';
	emit(o, p, (size_t)(d + sizeof(d) - p));
}

/* A signed argument of the length modifier len, as its magnitude. */
static void
emit_signed(struct out *o, int len, va_list *ap)
{
	intmax_t v;

	switch (len) {
	case 'H': v = (signed char)va_arg(*ap, int); break;
	case 'h': v = (short)va_arg(*ap, int); break;
	case 'l': v = va_arg(*ap, long); break;
	case 'q': v = va_arg(*ap, long long); break;
	case 'z': v = va_arg(*ap, ssize_t); break;
	case 'j': v = va_arg(*ap, intmax_t); break;
	default: v = va_arg(*ap, int); break;
	}
	/* the magnitude of INTMAX_MIN, without overflow */
	emit_num(o, v < 0 ? (uintmax_t)0 - (uintmax_t)v : (uintmax_t)v, v < 0);
}

static void
emit_unsigned(struct out *o, int len, va_list *ap)
{
	uintmax_t v;

	switch (len) {
	case 'H': v = (unsigned char)va_arg(*ap, unsigned int); break;
	case 'h': v = (unsigned short)va_arg(*ap, unsigned int); break;
	case 'l': v = va_arg(*ap, unsigned long); break;
	case 'q': v = va_arg(*ap, unsigned long long); break;
	case 'z': v = va_arg(*ap, size_t); break;
	case 'j': v = va_arg(*ap, uintmax_t); break;
	default: v = va_arg(*ap, unsigned int); break;
	}
	emit_num(o, v, 0);
}

/*
 * The length modifier at *pp ('H' for hh, 'q' for ll, 0 for none),
 * *pp moved past it.
 */
static int
length(const char **pp)
{
	const char *p = *pp;
	int len = 0;

	switch (*p) {
	case 'h':
		len = p[1] == 'h' ? 'H' : 'h';
		p += p[1] == 'h' ? 2 : 1;
		break;
	case 'l':
		len = p[1] == 'l' ? 'q' : 'l';
		p += p[1] == 'l' ? 2 : 1;
		break;
	case 'z':
	case 'j':
		len = *p++;
		break;
	}
	*pp = p;
	return len;
}

int
fmt_v(char *buf, size_t cap, const char *fmt, va_list ap)
{
	struct out o = { buf, cap, 0 };
	const char *p = fmt, *pct, *s;
	va_list args, whole;
	char c;
	int len;

	va_copy(args, ap);
	va_copy(whole, ap);
	for (;;) {
		if ((pct = strchr(p, '%')) == NULL) {
			emit(&o, p, strlen(p));
			break;
		}
		emit(&o, p, (size_t)(pct - p));
		p = pct + 1;
		len = length(&p);
		switch (*p) {
		case '%':
			if (len != 0)
				goto slow;
			emit(&o, "%", 1);
			break;
		case 's':
			if (len != 0)
				goto slow;
			if ((s = va_arg(args, const char *)) == NULL)
				s = "(null)";	/* as glibc prints it */
			emit(&o, s, strlen(s));
			break;
		case 'c':
			if (len != 0)
				goto slow;
			c = (char)(unsigned char)va_arg(args, int);
			emit(&o, &c, 1);
			break;
		case 'd':
		case 'i':
			emit_signed(&o, len, &args);
			break;
		case 'u':
			emit_unsigned(&o, len, &args);
			break;
		default:
			goto slow;
		}
		p++;
	}
	va_end(args);
	if (o.n > INT_MAX) {	/* vsnprintf's EOVERFLOW, exactly */
		len = vsnprintf(buf, cap, fmt, whole);
		va_end(whole);
		return len;
	}
	va_end(whole);
	if (cap > 0)
		buf[o.n < cap - 1 ? o.n : cap - 1] = '\0';
	return (int)o.n;

slow:
	va_end(args);
	len = vsnprintf(buf, cap, fmt, whole);
	va_end(whole);
	return len;
}

int
fmt_s(char *buf, size_t cap, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = fmt_v(buf, cap, fmt, ap);
	va_end(ap);
	return n;
}
