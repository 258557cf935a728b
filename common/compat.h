/*
 * compat.h: OpenBSD libc functions that glibc 2.36 lacks.
 *
 *	strlcpy, strlcat	size-bounded copy and concatenation
 *	strtonum		bounded integer parsing with an error string
 *
 * The GNUmakefile probes for strlcpy and defines HAVE_STRLCPY when libc has
 * it (glibc >= 2.38); strtonum is always ours.
 */
#ifndef COMPAT_H
#define COMPAT_H

#include <stddef.h>

#ifndef HAVE_STRLCPY
size_t	strlcpy(char *, const char *, size_t);
size_t	strlcat(char *, const char *, size_t);
#endif
long long strtonum(const char *, long long, long long, const char **);

#ifndef __dead
#define __dead __attribute__((__noreturn__))
#endif

#endif /* COMPAT_H */
