/*
 * addr.c: parsing, formatting and arithmetic on IPv4/IPv6 addresses and
 * CIDR blocks (see addr.h). Everything here is pure: no I/O, no logging.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "common/addr.h"
#include "common/compat.h"

static void
addr_zero(struct addr *a, uint8_t af)
{
	memset(a, 0, sizeof(*a));
	a->af = af;
}

/* Turn ::ffff:a.b.c.d into a.b.c.d; leave everything else alone. */
static void
addr_unmap(struct addr *a)
{
	struct in_addr v4;

	if (a->af != AF_INET6 || !IN6_IS_ADDR_V4MAPPED(&a->u.v6))
		return;
	memcpy(&v4, &a->u.b[12], 4);
	addr_zero(a, AF_INET);
	a->u.v4 = v4;
}

/*
 * The text forms of inet_pton(3), parsed here because inet_pton costs
 * more than the rest of a database record's decoding (spamd-nftsync
 * reads a million keys in a pass). Both follow glibc's rules exactly:
 * IPv4 is four decimal octets without leading zeros; IPv6 is groups of
 * one to four hex digits, at most one "::" standing for at least one
 * zero group. 1 parsed, 0 not an address; v6_text returns -1 for a
 * dotted IPv4 tail, which inet_pton parses (tests/unit/t_addr.c holds
 * both to inet_pton over generated strings).
 */
static int
v4_text(const char *s, uint8_t out[4])
{
	unsigned v = 0;
	int octets = 0, digits = 0;

	for (;; s++) {
		if (*s >= '0' && *s <= '9') {
			if (digits > 0 && v == 0)
				return 0;	/* a leading zero */
			if ((v = v * 10 + (unsigned)(*s - '0')) > 255)
				return 0;
			if (digits++ == 0 && ++octets > 4)
				return 0;
		} else if ((*s == '.' || *s == '\0') && digits > 0) {
			out[octets - 1] = (uint8_t)v;
			if (*s == '\0')
				return octets == 4;
			if (octets == 4)
				return 0;
			v = 0;
			digits = 0;
		} else
			return 0;
	}
}

/* A hex digit's value plus one, 0 for any other byte: one branch less
 * per character, which random keys mispredict. */
static const uint8_t hexval[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6,
	['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10,
	['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
	['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

static int
v6_text(const char *s, uint8_t out[16])
{
	uint8_t b[16];
	size_t at = 0, gap = SIZE_MAX, n;
	unsigned v = 0, d;
	int digits = 0;

	if (*s == ':' && *++s != ':')
		return 0;
	for (; *s != '\0'; s++) {
		if ((d = hexval[(unsigned char)*s]) != 0) {
			if (digits++ == 4)
				return 0;
			v = v << 4 | (d - 1);
			continue;
		}
		if (*s == '.')
			return -1;
		if (*s != ':')
			return 0;
		if (digits == 0) {
			if (gap != SIZE_MAX)
				return 0;
			gap = at;
			continue;
		}
		if (s[1] == '\0' || at == 16)
			return 0;
		b[at++] = (uint8_t)(v >> 8);
		b[at++] = (uint8_t)v;
		v = 0;
		digits = 0;
	}
	if (digits > 0) {
		if (at == 16)
			return 0;
		b[at++] = (uint8_t)(v >> 8);
		b[at++] = (uint8_t)v;
	}
	if (gap != SIZE_MAX) {
		if (at == 16)
			return 0;	/* "::" would stand for nothing */
		n = at - gap;
		memset(out, 0, 16);
		memcpy(out, b, gap);
		memcpy(out + 16 - n, b + gap, n);
		return 1;
	}
	if (at != 16)
		return 0;
	memcpy(out, b, 16);
	return 1;
}

int
addr_parse(const char *s, struct addr *a)
{
	struct addr t;
	int rc;

	addr_zero(&t, AF_INET);
	if (v4_text(s, t.u.b) == 1) {
		*a = t;
		return 0;
	}
	addr_zero(&t, AF_INET6);
	if ((rc = v6_text(s, t.u.b)) == -1)
		rc = inet_pton(AF_INET6, s, &t.u.v6);
	if (rc != 1)
		return -1;
	*a = t;
	addr_unmap(a);
	return 0;
}

const char *
addr_ntop(const struct addr *a, char *buf, size_t len)
{
	char v4[16], *p = v4;
	int i;

	/*
	 * IPv4 by hand: inet_ntop formats it with sprintf, about 1,800
	 * instructions, and every log line and database key of a client
	 * needs it.
	 */
	if (a->af == AF_INET) {
		for (i = 0; i < 4; i++) {
			unsigned v = a->u.b[i];

			if (v >= 100)
				*p++ = (char)('0' + v / 100);
			if (v >= 10)
				*p++ = (char)('0' + v / 10 % 10);
			*p++ = (char)('0' + v % 10);
			*p++ = i < 3 ? '.' : '\0';
		}
		if (len > 0)
			strlcpy(buf, (size_t)(p - v4) <= len ? v4 : "?", len);
		return buf;
	}
	if (inet_ntop(a->af, a->u.b, buf, (socklen_t)len) == NULL) {
		if (len > 0)
			strlcpy(buf, "?", len);
	}
	return buf;
}

int
addr_canon(const char *s, char *buf, size_t len)
{
	struct addr a;

	if (addr_parse(s, &a) == -1)
		return -1;
	addr_ntop(&a, buf, len);
	return 0;
}

int
addr_from_sockaddr(const struct sockaddr *sa, struct addr *a, uint16_t *port)
{
	const struct sockaddr_in *sin;
	const struct sockaddr_in6 *sin6;

	switch (sa->sa_family) {
	case AF_INET:
		sin = (const struct sockaddr_in *)(const void *)sa;
		addr_zero(a, AF_INET);
		a->u.v4 = sin->sin_addr;
		if (port != NULL)
			*port = ntohs(sin->sin_port);
		return 0;
	case AF_INET6:
		sin6 = (const struct sockaddr_in6 *)(const void *)sa;
		addr_zero(a, AF_INET6);
		a->u.v6 = sin6->sin6_addr;
		addr_unmap(a);
		if (port != NULL)
			*port = ntohs(sin6->sin6_port);
		return 0;
	}
	return -1;
}

int
addr_to_sockaddr(const struct addr *a, uint16_t port,
    struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *sin;
	struct sockaddr_in6 *sin6;

	memset(ss, 0, sizeof(*ss));
	switch (a->af) {
	case AF_INET:
		sin = (struct sockaddr_in *)(void *)ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		sin->sin_addr = a->u.v4;
		*len = sizeof(*sin);
		return 0;
	case AF_INET6:
		sin6 = (struct sockaddr_in6 *)(void *)ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		sin6->sin6_addr = a->u.v6;
		*len = sizeof(*sin6);
		return 0;
	}
	return -1;
}

size_t
addr_len(const struct addr *a)
{
	return a->af == AF_INET ? 4 : 16;
}

int
addr_cmp(const struct addr *a, const struct addr *b)
{
	if (a->af != b->af)
		return a->af == AF_INET ? -1 : 1;
	return memcmp(a->u.b, b->u.b, addr_len(a));
}

int
addr_inc(struct addr *a)
{
	size_t i = addr_len(a);

	while (i-- > 0) {
		if (++a->u.b[i] != 0)
			return 0;
	}
	return 1;
}

int
addr_dec(struct addr *a)
{
	size_t i = addr_len(a);

	while (i-- > 0) {
		if (a->u.b[i]-- != 0)
			return 0;
	}
	return 1;
}

void
addr_mask(struct addr *a, unsigned int plen)
{
	size_t i, n = addr_len(a);

	for (i = 0; i < n; i++) {
		if (plen >= 8)
			plen -= 8;
		else {
			a->u.b[i] &= (uint8_t)(0xff << (8 - plen));
			plen = 0;
		}
	}
}

/*
 * Parse a CIDR block. Returns 0, or -1 with *errstr naming the problem
 * ("invalid address", "missing mask", "invalid mask", "host bits set").
 */
int
cidr_parse(const char *s, struct cidr *c, int flags, const char **errstr)
{
	char buf[CIDR_STRLEN];
	char *slash;
	const char *e;
	unsigned int max;
	long long plen = 0;
	struct addr masked;

	if (strlcpy(buf, s, sizeof(buf)) >= sizeof(buf)) {
		*errstr = "invalid address";
		return -1;
	}
	slash = strchr(buf, '/');
	if (slash != NULL)
		*slash++ = '\0';
	if (addr_parse(buf, &c->a) == -1) {
		*errstr = "invalid address";
		return -1;
	}
	/* An unmapped ::ffff:a.b.c.d/m keeps its mask relative to IPv4. */
	max = c->a.af == AF_INET ? 32 : 128;
	if (slash == NULL) {
		if (flags & CIDR_NEED_MASK) {
			*errstr = "missing mask";
			return -1;
		}
		c->plen = (uint8_t)max;
	} else {
		/* Digits only: strtonum would take "+24" and " 24". */
		if (*slash == '\0' || strspn(slash, "0123456789") !=
		    strlen(slash))
			e = "invalid";
		else
			plen = strtonum(slash, 0, 128, &e);
		if (e == NULL && c->a.af == AF_INET && strchr(buf, ':')) {
			/* a v4-mapped block: /96../128 maps onto /0../32 */
			if (plen < 96)
				e = "invalid mask";
			else
				plen -= 96;
		}
		if (e != NULL || plen > max) {
			*errstr = "invalid mask";
			return -1;
		}
		if (plen == 0 && (flags & CIDR_NO_ZERO)) {
			*errstr = "invalid mask";
			return -1;
		}
		c->plen = (uint8_t)plen;
	}
	masked = c->a;
	addr_mask(&masked, c->plen);
	if (addr_cmp(&masked, &c->a) != 0) {
		if (flags & CIDR_STRICT) {
			*errstr = "host bits set";
			return -1;
		}
		c->a = masked;
	}
	*errstr = NULL;
	return 0;
}

const char *
cidr_ntop(const struct cidr *c, char *buf, size_t len)
{
	char a[ADDR_STRLEN];

	snprintf(buf, len, "%s/%u", addr_ntop(&c->a, a, sizeof(a)),
	    (unsigned int)c->plen);
	return buf;
}

int
cidr_contains(const struct cidr *c, const struct addr *a)
{
	struct addr m;

	if (a->af != c->a.af)
		return 0;
	m = *a;
	addr_mask(&m, c->plen);
	return addr_cmp(&m, &c->a) == 0;
}

void
cidr_first(const struct cidr *c, struct addr *a)
{
	*a = c->a;
	addr_mask(a, c->plen);
}

void
cidr_last(const struct cidr *c, struct addr *a)
{
	size_t i, n;
	unsigned int plen = c->plen;

	*a = c->a;
	n = addr_len(a);
	for (i = 0; i < n; i++) {
		if (plen >= 8)
			plen -= 8;
		else {
			a->u.b[i] |= (uint8_t)(0xff >> plen);
			plen = 0;
		}
	}
}

int
cidr_of(const struct addr *a, unsigned int plen4, unsigned int plen6,
    struct cidr *c)
{
	unsigned int full = 8 * (unsigned int)addr_len(a);
	unsigned int plen = a->af == AF_INET ? plen4 : plen6;

	if (plen == 0 || plen > full)
		plen = full;
	c->a = *a;
	c->plen = (uint8_t)plen;
	addr_mask(&c->a, plen);
	return plen < full;
}
