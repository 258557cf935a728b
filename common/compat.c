/*
 * compat.c: strlcpy, strlcat and strtonum for glibc, with OpenBSD semantics.
 *
 * strlcpy/strlcat return the length of the string they tried to create, so
 * truncation is detected by comparing the result with the buffer size.
 * strtonum returns 0 and sets *errstr to "invalid", "too small" or
 * "too large" on failure; errstr is NULL on success.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "common/compat.h"

#ifndef HAVE_STRLCPY
size_t
strlcpy(char *dst, const char *src, size_t dsize)
{
	size_t slen = strlen(src);

	if (dsize != 0) {
		size_t n = slen < dsize - 1 ? slen : dsize - 1;

		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return slen;
}

size_t
strlcat(char *dst, const char *src, size_t dsize)
{
	size_t dlen = strnlen(dst, dsize);

	if (dlen == dsize)
		return dlen + strlen(src);
	return dlen + strlcpy(dst + dlen, src, dsize - dlen);
}
#endif

long long
strtonum(const char *s, long long minval, long long maxval,
    const char **errstrp)
{
	long long ll;
	char *ep;
	const char *errstr = NULL;

	if (minval > maxval) {
		errstr = "invalid";
		ll = 0;
		goto done;
	}
	errno = 0;
	ll = strtoll(s, &ep, 10);
	if (s == ep || *ep != '\0')
		errstr = "invalid";
	else if ((ll == LLONG_MIN && errno == ERANGE) || ll < minval)
		errstr = "too small";
	else if ((ll == LLONG_MAX && errno == ERANGE) || ll > maxval)
		errstr = "too large";
done:
	if (errstr != NULL)
		ll = 0;
	if (errstrp != NULL)
		*errstrp = errstr;
	return ll;
}
