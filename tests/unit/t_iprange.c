/*
 * t_iprange.c: unit tests for spamd-setup/iprange.c: list lines, merging,
 * white-list subtraction and the range -> CIDR cut, against known answers
 * and against a bitmap on random data.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/addr.h"
#include "common/compat.h"
#include "spamd-setup/iprange.h"
#include "tests/unit/harness.h"

static struct addr
A(const char *s)
{
	struct addr a;

	if (addr_parse(s, &a) == -1)
		t_fail("bad test address %s", s);
	return a;
}

/* "lo-hi lo-hi ..." into s */
static void
fill(struct iprange_set *s, const char *spec)
{
	char buf[1024], *p, *tok, *dash;
	struct addr lo, hi;

	strlcpy(buf, spec, sizeof(buf));
	for (p = buf; (tok = strsep(&p, " ")) != NULL;) {
		if (*tok == '\0')
			continue;
		if ((dash = strchr(tok, '-')) == NULL)
			t_fail("bad test range %s", tok);
		*dash = '\0';
		lo = A(tok);
		hi = A(dash + 1);
		iprange_add(s, &lo, &hi);
	}
}

static const char *
cidrs_of(const struct iprange_set *s)
{
	static char buf[8192];
	char c[CIDR_STRLEN];
	struct cidr *v;
	size_t i, n;

	n = iprange_to_cidrs(s, &v);
	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		if (i > 0)
			strlcat(buf, " ", sizeof(buf));
		strlcat(buf, cidr_ntop(&v[i], c, sizeof(c)), sizeof(buf));
	}
	free(v);
	return buf;
}

static const char *
ranges_of(const struct iprange_set *s)
{
	static char buf[8192];
	char a[ADDR_STRLEN], b[ADDR_STRLEN], one[2 * ADDR_STRLEN + 2];
	size_t i;

	buf[0] = '\0';
	for (i = 0; i < s->n; i++) {
		snprintf(one, sizeof(one), "%s%s-%s", i > 0 ? " " : "",
		    addr_ntop(&s->r[i].lo, a, sizeof(a)),
		    addr_ntop(&s->r[i].hi, b, sizeof(b)));
		strlcat(buf, one, sizeof(buf));
	}
	return buf;
}

static const struct {
	const char	*in;
	const char	*out;
} cut_cases[] = {
	{ "0.0.0.0-255.255.255.255", "0.0.0.0/1 128.0.0.0/1" },
	{ "::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "::/1 8000::/1" },
	{ "0.0.0.0-0.0.0.0", "0.0.0.0/32" },
	{ "255.255.255.255-255.255.255.255", "255.255.255.255/32" },
	{ "255.255.255.254-255.255.255.255", "255.255.255.254/31" },
	{ "0.0.0.0-127.255.255.255", "0.0.0.0/1" },
	{ "10.0.0.0-10.255.255.255", "10.0.0.0/8" },
	{ "192.0.2.1-192.0.2.6",
	    "192.0.2.1/32 192.0.2.2/31 192.0.2.4/31 192.0.2.6/32" },
	{ "192.0.2.255-192.0.3.0", "192.0.2.255/32 192.0.3.0/32" },
	{ "2001:db8::-2001:db8::ffff", "2001:db8::/112" },
	{ "::1-::2", "::1/128 ::2/128" },
	{ "::-::", "::/128" },
	/* both families in one set: IPv4 first, each cut on its own */
	{ "2001:db8::-2001:db8::1 192.0.2.0-192.0.2.3",
	    "192.0.2.0/30 2001:db8::/127" },
};

static void
cut_known(void)
{
	struct iprange_set s;
	size_t i;

	for (i = 0; i < sizeof(cut_cases) / sizeof(cut_cases[0]); i++) {
		iprange_init(&s);
		fill(&s, cut_cases[i].in);
		iprange_normalize(&s);
		T_EQ_STR(cidrs_of(&s), cut_cases[i].out);
		iprange_free(&s);
	}
}

/* Everything but the two ends of the IPv4 space: 62 blocks. */
static void
cut_all_but_ends(void)
{
	struct iprange_set s;
	struct cidr *v;
	char c[CIDR_STRLEN];
	size_t n;

	iprange_init(&s);
	fill(&s, "0.0.0.1-255.255.255.254");
	n = iprange_to_cidrs(&s, &v);
	T_EQ_INT(n, 62);
	T_EQ_STR(cidr_ntop(&v[0], c, sizeof(c)), "0.0.0.1/32");
	T_EQ_STR(cidr_ntop(&v[30], c, sizeof(c)), "64.0.0.0/2");
	T_EQ_STR(cidr_ntop(&v[31], c, sizeof(c)), "128.0.0.0/2");
	T_EQ_STR(cidr_ntop(&v[61], c, sizeof(c)), "255.255.255.254/32");
	free(v);
	iprange_free(&s);
}

/*
 * Long staircases, checked by shape: each block one bit longer than the
 * one before, the first and last as given.
 */
static void
staircase(const char *black, const char *white, size_t first, size_t n,
    const char *head, unsigned int headplen, const char *last)
{
	struct iprange_set b, w;
	struct cidr *v;
	char c[CIDR_STRLEN];
	size_t i, got;

	iprange_init(&b);
	iprange_init(&w);
	fill(&b, black);
	fill(&w, white);
	iprange_normalize(&b);
	iprange_normalize(&w);
	iprange_subtract(&b, &w);
	got = iprange_to_cidrs(&b, &v);
	T_EQ_INT(got, n);
	T_EQ_STR(cidr_ntop(&v[first], c, sizeof(c)), head);
	T_EQ_INT(v[first].plen, headplen);
	for (i = first + 1; i < n - 1; i++) {
		T_EQ_INT(v[i].plen, v[i - 1].plen + (headplen < 64 ? 1 : -1));
		T_ASSERT(addr_cmp(&v[i - 1].a, &v[i].a) < 0);
	}
	T_EQ_STR(cidr_ntop(&v[n - 1], c, sizeof(c)), last);
	free(v);
	iprange_free(&b);
	iprange_free(&w);
}

static void
staircases(void)
{
	/* the top half of IPv6 but its last address: /2 ... /128 */
	staircase("8000::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff-"
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 0, 127, "8000::/2", 2,
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/128");
	/* ::/0 minus ::1 and the top half but its last address */
	staircase("::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	    "::1-::1 8000::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", 1, 128,
	    "::2/127", 127, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128");
}

static const struct {
	const char	*in;
	const char	*out;
} merge_cases[] = {
	{ "192.0.2.0-192.0.2.127 192.0.2.128-192.0.2.255",
	    "192.0.2.0-192.0.2.255" },
	{ "192.0.2.10-192.0.2.20 192.0.2.0-192.0.2.15 192.0.2.12-192.0.2.13 "
	    "192.0.2.21-192.0.2.21 192.0.2.23-192.0.2.30",
	    "192.0.2.0-192.0.2.21 192.0.2.23-192.0.2.30" },
	{ "192.0.2.1-192.0.2.1 192.0.2.1-192.0.2.1", "192.0.2.1-192.0.2.1" },
	/* the top of IPv4 does not run into the bottom of IPv6 */
	{ ":: 255.255.255.0-255.255.255.255", NULL },
	{ "255.255.255.0-255.255.255.255 ::-::ff",
	    "255.255.255.0-255.255.255.255 ::-::ff" },
	{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff00-"
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fff0-"
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fff1",
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff00-"
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff" },
	{ "", "" },
};

static void
merge_known(void)
{
	struct iprange_set s;
	size_t i;

	for (i = 0; i < sizeof(merge_cases) / sizeof(merge_cases[0]); i++) {
		if (merge_cases[i].out == NULL)
			continue;
		iprange_init(&s);
		fill(&s, merge_cases[i].in);
		iprange_normalize(&s);
		T_EQ_STR(ranges_of(&s), merge_cases[i].out);
		iprange_free(&s);
	}
}

static const struct {
	const char	*black;
	const char	*white;
	const char	*out;
} sub_cases[] = {
	{ "192.0.2.0-192.0.2.255", "192.0.2.64-192.0.2.127",
	    "192.0.2.0/26 192.0.2.128/25" },
	{ "192.0.2.0-192.0.2.255", "192.0.2.0-192.0.2.255", "" },
	{ "192.0.2.0-192.0.2.255", "0.0.0.0-255.255.255.255", "" },
	{ "192.0.2.0-192.0.2.255", "198.51.100.0-198.51.100.255 "
	    "2001:db8::-2001:db8::ffff", "192.0.2.0/24" },
	/* one white range across two black ranges */
	{ "192.0.2.0-192.0.2.127 192.0.2.192-192.0.2.255",
	    "192.0.2.100-192.0.2.200",
	    "192.0.2.0/26 192.0.2.64/27 192.0.2.96/30 192.0.2.201/32 "
	    "192.0.2.202/31 192.0.2.204/30 192.0.2.208/28 192.0.2.224/27" },
	/* several white ranges inside one black range */
	{ "192.0.2.0-192.0.2.15", "192.0.2.1-192.0.2.1 192.0.2.4-192.0.2.5 "
	    "192.0.2.15-192.0.2.15", "192.0.2.0/32 192.0.2.2/31 "
	    "192.0.2.6/31 192.0.2.8/30 192.0.2.12/31 192.0.2.14/32" },
	/* the very edges of each family */
	{ "0.0.0.0-255.255.255.255", "0.0.0.0-0.0.0.0 "
	    "255.255.255.255-255.255.255.255", NULL },
	{ "::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	    "::-7fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "8000::/1" },
	{ "", "192.0.2.0-192.0.2.255", "" },
};

static void
subtract_known(void)
{
	struct iprange_set b, w;
	struct cidr *v;
	char c[CIDR_STRLEN];
	size_t i, n;

	for (i = 0; i < sizeof(sub_cases) / sizeof(sub_cases[0]); i++) {
		iprange_init(&b);
		iprange_init(&w);
		fill(&b, sub_cases[i].black);
		fill(&w, sub_cases[i].white);
		iprange_normalize(&b);
		iprange_normalize(&w);
		iprange_subtract(&b, &w);
		if (sub_cases[i].out != NULL)
			T_EQ_STR(cidrs_of(&b), sub_cases[i].out);
		else {
			/* 0.0.0.0/0 minus both ends: 2 x 31 blocks */
			n = iprange_to_cidrs(&b, &v);
			T_EQ_INT(n, 62);
			T_EQ_STR(cidr_ntop(&v[0], c, sizeof(c)), "0.0.0.1/32");
			T_EQ_STR(cidr_ntop(&v[61], c, sizeof(c)),
			    "255.255.255.254/32");
			free(v);
		}
		iprange_free(&b);
		iprange_free(&w);
	}
}

/* ---- random data against a bitmap ---- */

static uint64_t rs = 0x853c49e6748fea9bULL;

static uint64_t
rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return rs;
}

#define SPACE	1024	/* the last 10 bits of the address vary */

static struct addr
at(int af, unsigned int x)
{
	struct addr a = A(af == AF_INET ? "198.51.100.0" : "2001:db8::");
	size_t n = addr_len(&a);

	a.u.b[n - 2] |= (uint8_t)(x >> 8);
	a.u.b[n - 1] = (uint8_t)x;
	return a;
}

static unsigned int
index_of(const struct addr *a)
{
	size_t n = addr_len(a);

	return ((unsigned int)(a->u.b[n - 2] & 3) << 8) | a->u.b[n - 1];
}

static void
random_family(int af)
{
	struct iprange_set b, w;
	struct cidr *v;
	struct addr lo, hi;
	char want[SPACE], got[SPACE];
	unsigned int x, y, t, k;
	size_t i, n;
	int round;

	for (round = 0; round < 300; round++) {
		memset(want, 0, sizeof(want));
		memset(got, 0, sizeof(got));
		iprange_init(&b);
		iprange_init(&w);
		for (k = 0; k < 1 + rnd() % 12; k++) {
			x = (unsigned int)(rnd() % SPACE);
			y = (unsigned int)(rnd() % SPACE);
			if (x > y) {
				t = x;
				x = y;
				y = t;
			}
			lo = at(af, x);
			hi = at(af, y);
			iprange_add(&b, &lo, &hi);
			memset(want + x, 1, y - x + 1);
		}
		for (k = 0; k < rnd() % 8; k++) {
			x = (unsigned int)(rnd() % SPACE);
			y = x + (unsigned int)(rnd() % 64);
			if (y >= SPACE)
				y = SPACE - 1;
			lo = at(af, x);
			hi = at(af, y);
			iprange_add(&w, &lo, &hi);
			memset(want + x, 0, y - x + 1);
		}
		iprange_normalize(&b);
		iprange_normalize(&w);
		iprange_subtract(&b, &w);
		n = iprange_to_cidrs(&b, &v);
		for (i = 0; i < n; i++) {
			cidr_first(&v[i], &lo);
			cidr_last(&v[i], &hi);
			/* ascending and disjoint */
			if (i > 0) {
				struct addr prev;

				cidr_last(&v[i - 1], &prev);
				T_ASSERT(addr_cmp(&prev, &lo) < 0);
			}
			/* never two buddies that one block would cover */
			if (i > 0 && v[i].plen == v[i - 1].plen) {
				struct cidr parent = v[i - 1];

				parent.plen--;
				addr_mask(&parent.a, parent.plen);
				T_ASSERT(!cidr_contains(&parent, &v[i].a));
			}
			for (x = index_of(&lo); x <= index_of(&hi); x++)
				got[x] = 1;
		}
		if (memcmp(want, got, sizeof(want)) != 0)
			t_fail("round %d: the blocks do not cover exactly "
			    "black minus white", round);
		free(v);
		iprange_free(&b);
		iprange_free(&w);
	}
}

static void
random_v4(void)
{
	random_family(AF_INET);
}

static void
random_v6(void)
{
	random_family(AF_INET6);
}

/* ---- list lines ---- */

static const struct {
	const char	*line;
	int		 rc;
	const char	*out;		/* "lo-hi" or the error */
} line_cases[] = {
	{ "192.0.2.1", 1, "192.0.2.1-192.0.2.1" },
	{ "  \t192.0.2.0/24 ; SBL1234", 1, "192.0.2.0-192.0.2.255" },
	{ "192.0.2.77/24", 1, "192.0.2.0-192.0.2.255" },
	{ "192.0.2.1-192.0.2.9", 1, "192.0.2.1-192.0.2.9" },
	{ "192.0.2.1 - 192.0.2.9 listed since 2003", 1,
	    "192.0.2.1-192.0.2.9" },
	{ "192.0.2.1\t-\t192.0.2.1", 1, "192.0.2.1-192.0.2.1" },
	{ "192.0.2.1\r", 1, "192.0.2.1-192.0.2.1" },
	{ "192.0.2.1,spam", 1, "192.0.2.1-192.0.2.1" },
	{ "2001:db8::/32", 1, "2001:db8::-2001:db8:ffff:ffff:ffff:ffff:ffff:"
	    "ffff" },
	{ "2001:DB8::1 - 2001:db8::ff", 1, "2001:db8::1-2001:db8::ff" },
	{ "::ffff:192.0.2.1", 1, "192.0.2.1-192.0.2.1" },
	{ "0.0.0.0/0", 1, "0.0.0.0-255.255.255.255" },
	{ "", 0, NULL },
	{ "   ", 0, NULL },
	{ "# 192.0.2.1", 0, NULL },
	{ "  ; comment", 0, NULL },
	{ "\r", 0, NULL },
	{ "hello", -1, "not an address" },
	{ "-192.0.2.1", -1, "not an address" },
	{ "192.0.2.256", -1, "invalid address" },
	{ "192.0.2.1abc", -1, "invalid address" },
	{ "192.0.2.0/33", -1, "invalid mask" },
	{ "192.0.2.0/", -1, "invalid mask" },
	{ "192.0.2.9 - 192.0.2.1", -1, "range ends below its start" },
	{ "192.0.2.1 - 2001:db8::1", -1, "range mixes IPv4 and IPv6" },
	{ "192.0.2.0/24 - 192.0.2.255", -1,
	    "a range cannot start with a CIDR block" },
	{ "192.0.2.1 - x", -1, "range end is not an address" },
	{ "192.0.2.1 -", -1, "range end is not an address" },
	{ "192.0.2 - 192.0.2.1", -1, "range start is not an address" },
	{ "1234567890123456789012345678901234567890123456789012345", -1,
	    "address too long" },
};

static void
lines(void)
{
	struct addr lo, hi;
	const char *e;
	char got[2 * ADDR_STRLEN + 2], a[ADDR_STRLEN], b[ADDR_STRLEN];
	size_t i;
	int rc;

	for (i = 0; i < sizeof(line_cases) / sizeof(line_cases[0]); i++) {
		rc = iprange_parse_line(line_cases[i].line, &lo, &hi, &e);
		if (rc != line_cases[i].rc)
			t_fail("\"%s\": %d, expected %d", line_cases[i].line,
			    rc, line_cases[i].rc);
		if (rc == 1) {
			snprintf(got, sizeof(got), "%s-%s",
			    addr_ntop(&lo, a, sizeof(a)),
			    addr_ntop(&hi, b, sizeof(b)));
			T_EQ_STR(got, line_cases[i].out);
		} else if (rc == -1)
			T_EQ_STR(e, line_cases[i].out);
	}
}

struct badlog {
	size_t	n;
	size_t	line[8];
	char	why[8][64];
};

static void
on_bad(void *arg, size_t lineno, const char *line, const char *why)
{
	struct badlog *b = arg;

	(void)line;
	if (b->n < 8) {
		b->line[b->n] = lineno;
		strlcpy(b->why[b->n], why, sizeof(b->why[0]));
	}
	b->n++;
}

static void
whole_text(void)
{
	static const char text[] =
	    "# list\r\n"
	    "192.0.2.0/24\r\n"
	    "junk\n"
	    "198.51.100.\0" "1\n"
	    "\n"
	    "2001:db8::1 - 2001:db8::2\n"
	    "203.0.113.9";		/* no final LF */
	char *big;
	struct iprange_set s;
	struct badlog bl;
	size_t nbad;

	memset(&bl, 0, sizeof(bl));
	iprange_init(&s);
	nbad = iprange_parse(text, sizeof(text) - 1, &s, on_bad, &bl);
	T_EQ_INT(nbad, 2);
	T_EQ_INT(bl.line[0], 3);
	T_EQ_STR(bl.why[0], "not an address");
	T_EQ_INT(bl.line[1], 4);
	T_EQ_STR(bl.why[1], "NUL byte in the line");
	iprange_normalize(&s);
	T_EQ_STR(ranges_of(&s), "192.0.2.0-192.0.2.255 "
	    "203.0.113.9-203.0.113.9 2001:db8::1-2001:db8::2");
	T_EQ_INT(iprange_count(&s, AF_INET), 2);
	T_EQ_INT(iprange_count(&s, AF_INET6), 1);
	iprange_free(&s);

	/* an over-long line is one bad line, not a crash */
	big = malloc(5000);
	T_ASSERT(big != NULL);
	memset(big, '1', 4999);
	big[4999] = '\n';
	memset(&bl, 0, sizeof(bl));
	iprange_init(&s);
	T_EQ_INT(iprange_parse(big, 5000, &s, on_bad, &bl), 1);
	T_EQ_STR(bl.why[0], "line too long");
	T_EQ_INT(s.n, 0);
	/* and no callback is fine */
	T_EQ_INT(iprange_parse(big, 5000, &s, NULL, NULL), 1);
	free(big);
	iprange_free(&s);
}

const struct t_case t_cases[] = {
	T_CASE(cut_known),
	T_CASE(cut_all_but_ends),
	T_CASE(staircases),
	T_CASE(merge_known),
	T_CASE(subtract_known),
	T_CASE(random_v4),
	T_CASE(random_v6),
	T_CASE(lines),
	T_CASE(whole_text),
	{ NULL, NULL },
};
