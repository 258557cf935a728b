/*
 * iprange.c: address-range sets for spamd-setup (see iprange.h).
 *
 * Ranges are kept as [lo, hi] pairs of struct addr and ordered with
 * addr_cmp, which puts every IPv4 address before every IPv6 one; a merge
 * never joins the two families because addr_inc of the top IPv4 address
 * wraps instead of reaching "::".
 */
#include <stdlib.h>
#include <string.h>

#include "common/addr.h"
#include "common/compat.h"
#include "common/util.h"
#include "spamd-setup/iprange.h"

void
iprange_init(struct iprange_set *s)
{
	memset(s, 0, sizeof(*s));
}

void
iprange_free(struct iprange_set *s)
{
	free(s->r);
	memset(s, 0, sizeof(*s));
}

void
iprange_add(struct iprange_set *s, const struct addr *lo,
    const struct addr *hi)
{
	if (s->n == s->cap) {
		s->cap = s->cap == 0 ? 256 : s->cap * 2;
		s->r = xreallocarray(s->r, s->cap, sizeof(*s->r));
	}
	s->r[s->n].lo = *lo;
	s->r[s->n].hi = *hi;
	s->n++;
}

void
iprange_add_set(struct iprange_set *s, const struct iprange_set *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		iprange_add(s, &t->r[i].lo, &t->r[i].hi);
}

static int
range_cmp(const void *a, const void *b)
{
	const struct iprange *x = a, *y = b;
	int c;

	if ((c = addr_cmp(&x->lo, &y->lo)) != 0)
		return c;
	return addr_cmp(&x->hi, &y->hi);
}

/* 1 if b starts right after a ends, or earlier (same family) */
static int
touches(const struct iprange *a, const struct iprange *b)
{
	struct addr next;

	if (a->hi.af != b->lo.af)
		return 0;
	if (addr_cmp(&b->lo, &a->hi) <= 0)
		return 1;
	next = a->hi;
	if (addr_inc(&next))
		return 0;	/* a ends at the top of its family */
	return addr_cmp(&next, &b->lo) == 0;
}

void
iprange_normalize(struct iprange_set *s)
{
	size_t i, o;

	if (s->n == 0)
		return;
	qsort(s->r, s->n, sizeof(*s->r), range_cmp);
	for (i = 1, o = 0; i < s->n; i++) {
		if (touches(&s->r[o], &s->r[i])) {
			if (addr_cmp(&s->r[i].hi, &s->r[o].hi) > 0)
				s->r[o].hi = s->r[i].hi;
		} else
			s->r[++o] = s->r[i];
	}
	s->n = o + 1;
}

/*
 * A sweep over both sorted lists: each range of s loses the parts that
 * ranges of w cover; what is left of it is emitted in order.
 */
void
iprange_subtract(struct iprange_set *s, const struct iprange_set *w)
{
	struct iprange_set out;
	struct iprange cur;
	size_t i, j = 0;
	struct addr a;
	int gone;

	iprange_init(&out);
	for (i = 0; i < s->n; i++) {
		cur = s->r[i];
		gone = 0;
		/* skip white ranges entirely below cur */
		while (j < w->n && addr_cmp(&w->r[j].hi, &cur.lo) < 0)
			j++;
		while (!gone && j < w->n &&
		    addr_cmp(&w->r[j].lo, &cur.hi) <= 0) {
			if (addr_cmp(&w->r[j].lo, &cur.lo) > 0) {
				a = w->r[j].lo;
				addr_dec(&a);
				iprange_add(&out, &cur.lo, &a);
			}
			if (addr_cmp(&w->r[j].hi, &cur.hi) >= 0) {
				gone = 1;	/* w[j] may cover the next one too */
				break;
			}
			cur.lo = w->r[j].hi;
			addr_inc(&cur.lo);	/* w[j].hi < cur.hi: no wrap */
			j++;
		}
		if (!gone)
			iprange_add(&out, &cur.lo, &cur.hi);
	}
	free(s->r);
	*s = out;
}

/* Trailing zero bits of a (all bits for the zero address). */
static unsigned int
trailing_zeros(const struct addr *a)
{
	size_t i = addr_len(a);
	unsigned int n = 0;
	uint8_t b;

	while (i-- > 0) {
		if ((b = a->u.b[i]) == 0) {
			n += 8;
			continue;
		}
		while ((b & 1) == 0) {
			b >>= 1;
			n++;
		}
		break;
	}
	return n;
}

size_t
iprange_to_cidrs(const struct iprange_set *s, struct cidr **vp)
{
	struct cidr *v = NULL, c;
	struct addr lo, last;
	size_t i, n = 0, cap = 0;
	unsigned int bits, plen;

	for (i = 0; i < s->n; i++) {
		lo = s->r[i].lo;
		bits = (unsigned int)addr_len(&lo) * 8;
		for (;;) {
			/* the widest aligned block at lo that ends by hi */
			plen = bits - trailing_zeros(&lo);
			if (plen < 1)
				plen = 1;
			for (;; plen++) {
				c.a = lo;
				c.plen = (uint8_t)plen;
				cidr_last(&c, &last);
				if (plen == bits ||
				    addr_cmp(&last, &s->r[i].hi) <= 0)
					break;
			}
			if (n == cap) {
				cap = cap == 0 ? 256 : cap * 2;
				v = xreallocarray(v, cap, sizeof(*v));
			}
			v[n++] = c;
			if (addr_cmp(&last, &s->r[i].hi) >= 0)
				break;
			lo = last;
			addr_inc(&lo);
		}
	}
	*vp = v;
	return n;
}

size_t
iprange_count(const struct iprange_set *s, int af)
{
	size_t i, n = 0;

	for (i = 0; i < s->n; i++)
		n += s->r[i].lo.af == af;
	return n;
}

#define ADDR_CHARS	"0123456789abcdefABCDEF.:"

/* Copy the address token at *p (up to n bytes) into buf; advance *p. */
static size_t
token(const char **p, const char *extra, char *buf, size_t size)
{
	size_t n = 0;

	while (**p != '\0' && (strchr(ADDR_CHARS, **p) != NULL ||
	    (extra != NULL && strchr(extra, **p) != NULL))) {
		if (n + 1 < size)
			buf[n] = **p;
		n++;
		(*p)++;
	}
	buf[n < size ? n : size - 1] = '\0';
	return n;
}

int
iprange_parse_line(const char *line, struct addr *lo, struct addr *hi,
    const char **errstr)
{
	char t1[CIDR_STRLEN + 1], t2[ADDR_STRLEN + 1];
	const char *p = line;
	struct cidr c;
	size_t n;

	*errstr = NULL;
	p += strspn(p, " \t");
	if (*p == '\0' || *p == '\r' || *p == '\n' || *p == '#' || *p == ';')
		return 0;
	n = token(&p, "/", t1, sizeof(t1));
	if (n == 0) {
		*errstr = "not an address";
		return -1;
	}
	if (n >= sizeof(t1)) {
		*errstr = "address too long";
		return -1;
	}
	p += strspn(p, " \t");
	if (*p == '-') {
		p++;
		p += strspn(p, " \t");
		if (strchr(t1, '/') != NULL) {
			*errstr = "a range cannot start with a CIDR block";
			return -1;
		}
		if (addr_parse(t1, lo) == -1) {
			*errstr = "range start is not an address";
			return -1;
		}
		n = token(&p, NULL, t2, sizeof(t2));
		if (n == 0 || n >= sizeof(t2) || addr_parse(t2, hi) == -1) {
			*errstr = "range end is not an address";
			return -1;
		}
		if (lo->af != hi->af) {
			*errstr = "range mixes IPv4 and IPv6";
			return -1;
		}
		if (addr_cmp(lo, hi) > 0) {
			*errstr = "range ends below its start";
			return -1;
		}
		return 1;
	}
	if (cidr_parse(t1, &c, 0, errstr) == -1)
		return -1;
	cidr_first(&c, lo);
	cidr_last(&c, hi);
	return 1;
}

size_t
iprange_parse(const char *buf, size_t len, struct iprange_set *s,
    iprange_bad_fn bad, void *arg)
{
	char line[IPRANGE_LINE_MAX + 1];
	const char *p = buf, *nl, *errstr;
	struct addr lo, hi;
	size_t n, lineno = 0, nbad = 0;

	while (p < buf + len) {
		lineno++;
		if ((nl = memchr(p, '\n', (size_t)(buf + len - p))) == NULL)
			nl = buf + len;
		n = (size_t)(nl - p);
		if (n > IPRANGE_LINE_MAX)
			errstr = "line too long";
		else if (memchr(p, '\0', n) != NULL)
			errstr = "NUL byte in the line";
		else {
			memcpy(line, p, n);
			line[n] = '\0';
			switch (iprange_parse_line(line, &lo, &hi, &errstr)) {
			case 1:
				iprange_add(s, &lo, &hi);
				break;
			case 0:
				break;
			}
		}
		if (errstr != NULL) {
			nbad++;
			if (bad != NULL) {
				/* show at most the first 80 bytes */
				n = n < 80 ? n : 80;
				memcpy(line, p, n);
				line[n] = '\0';
				bad(arg, lineno, line, errstr);
			}
		}
		p = nl + 1;
	}
	return nbad;
}
