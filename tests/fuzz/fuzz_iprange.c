/*
 * fuzz_iprange.c: libFuzzer harness for spamd-setup's list parsing and
 * range arithmetic (spamd-setup/iprange.c): iprange_parse of a black and
 * a white list, then normalize, subtract and iprange_to_cidrs, and the
 * config line spamd-setup would send for the result (cfg_encode, parsed
 * back by spamd's cfg_parse).
 *
 * Input: byte 0 is the share of the rest that is the black list (the
 * first byte0 * len / 256 bytes); the remainder is the white list.
 *
 * Invariants:
 *	iprange_parse returns the number of bad lines it reported, reports
 *	each with a reason and a line number in order, and adds ranges with
 *	lo <= hi in one family;
 *	after iprange_normalize the ranges are sorted, disjoint and not
 *	adjacent; after iprange_subtract the set is still normalized, shares
 *	no address with the white list, holds nothing that was not black,
 *	and keeps the ends of black ranges that are not white;
 *	the CIDR blocks cover exactly the set: ascending, IPv4 first, no /0,
 *	no host bits, and merging them gives back the same ranges;
 *	iprange_count agrees with the set; the blocks encode into a config
 *	line that cfg_parse accepts with the same number of blocks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/addr.h"
#include "spamd/cfg.h"
#include "spamd-setup/iprange.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init("fuzz-iprange");
	return 0;
}

struct bad {
	size_t	n, last;
};

static void
on_bad(void *arg, size_t lineno, const char *line, const char *errstr)
{
	struct bad *b = arg;

	FUZZ_CHECK(errstr != NULL && errstr[0] != '\0', "bad line %zu "
	    "without a reason", lineno);
	FUZZ_CHECK(line != NULL && strlen(line) <= 80, "bad line shown with "
	    "%zu bytes", line ? strlen(line) : 0);
	FUZZ_CHECK(lineno > b->last, "bad lines out of order: %zu after %zu",
	    lineno, b->last);
	b->last = lineno;
	b->n++;
}

static void
parse(const char *buf, size_t len, struct iprange_set *s)
{
	struct bad b = { 0, 0 };
	size_t i, nbad;

	nbad = iprange_parse(buf, len, s, on_bad, &b);
	FUZZ_CHECK(nbad == b.n, "returned %zu bad lines, reported %zu", nbad,
	    b.n);
	for (i = 0; i < s->n; i++) {
		FUZZ_CHECK(s->r[i].lo.af == s->r[i].hi.af &&
		    (s->r[i].lo.af == AF_INET || s->r[i].lo.af == AF_INET6),
		    "range %zu families %u/%u", i, s->r[i].lo.af,
		    s->r[i].hi.af);
		FUZZ_CHECK(addr_cmp(&s->r[i].lo, &s->r[i].hi) <= 0, "range "
		    "%zu ends below its start", i);
	}
	/* the same parse without a callback counts the same */
	{
		struct iprange_set t;

		iprange_init(&t);
		FUZZ_CHECK(iprange_parse(buf, len, &t, NULL, NULL) == nbad,
		    "bad-line count depends on the callback");
		FUZZ_CHECK(t.n == s->n, "range count depends on the callback");
		iprange_free(&t);
	}
}

/* b starts right after a ends (same family, no wrap) */
static int
adjacent(const struct addr *a_hi, const struct addr *b_lo)
{
	struct addr next = *a_hi;

	if (a_hi->af != b_lo->af || addr_inc(&next))
		return 0;
	return addr_cmp(&next, b_lo) == 0;
}

static void
check_normal(const struct iprange_set *s, const char *what)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		FUZZ_CHECK(s->r[i].lo.af == s->r[i].hi.af &&
		    addr_cmp(&s->r[i].lo, &s->r[i].hi) <= 0, "%s: range %zu",
		    what, i);
		if (i == 0)
			continue;
		FUZZ_CHECK(addr_cmp(&s->r[i - 1].hi, &s->r[i].lo) < 0,
		    "%s: ranges %zu and %zu overlap or are unsorted", what,
		    i - 1, i);
		FUZZ_CHECK(!adjacent(&s->r[i - 1].hi, &s->r[i].lo), "%s: "
		    "ranges %zu and %zu touch", what, i - 1, i);
	}
}

/* Is a inside some range of the normalized set s? */
static int
holds(const struct iprange_set *s, const struct addr *a)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (addr_cmp(&s->r[mid].hi, a) < 0)
			lo = mid + 1;
		else if (addr_cmp(&s->r[mid].lo, a) > 0)
			hi = mid;
		else
			return 1;
	}
	return 0;
}

static void
check_cidrs(const struct iprange_set *s, const struct cidr *v, size_t n)
{
	struct iprange_set back;
	struct addr lo, hi, m;
	size_t i, n4 = 0, n6 = 0;
	const char *why;
	struct cfg_line cl;
	char err[CFG_ERR_MAX], *line;
	size_t len;

	iprange_init(&back);
	for (i = 0; i < n; i++) {
		unsigned max = v[i].a.af == AF_INET ? 32 : 128;

		FUZZ_CHECK(v[i].a.af == AF_INET || v[i].a.af == AF_INET6,
		    "block %zu af %u", i, v[i].a.af);
		FUZZ_CHECK(v[i].plen >= 1 && v[i].plen <= max, "block %zu "
		    "/%u", i, v[i].plen);
		m = v[i].a;
		addr_mask(&m, v[i].plen);
		FUZZ_CHECK(addr_cmp(&m, &v[i].a) == 0, "block %zu has host "
		    "bits", i);
		if (i > 0)
			FUZZ_CHECK(addr_cmp(&v[i - 1].a, &v[i].a) < 0, "blocks "
			    "%zu and %zu not ascending", i - 1, i);
		cidr_first(&v[i], &lo);
		cidr_last(&v[i], &hi);
		iprange_add(&back, &lo, &hi);
		if (v[i].a.af == AF_INET)
			n4++;
		else
			n6++;
	}
	iprange_normalize(&back);
	FUZZ_CHECK(back.n == s->n, "blocks make %zu ranges, set has %zu",
	    back.n, s->n);
	for (i = 0; i < s->n; i++)
		FUZZ_CHECK(addr_cmp(&back.r[i].lo, &s->r[i].lo) == 0 &&
		    addr_cmp(&back.r[i].hi, &s->r[i].hi) == 0, "blocks differ "
		    "from range %zu", i);
	iprange_free(&back);

	line = cfg_encode("fuzz", "listed", v, n, &len, &why);
	FUZZ_CHECK(line != NULL, "blocks do not encode: %s", why);
	FUZZ_CHECK(cfg_parse(line, len - 1, &cl, err, sizeof(err)) == 0,
	    "spamd rejects the encoded line: %s", err);
	FUZZ_CHECK(cl.n4 == n4 && cl.n6 == n6 && cl.masked == 0, "spamd "
	    "reads %zu+%zu blocks (%zu masked), sent %zu+%zu", cl.n4, cl.n6,
	    cl.masked, n4, n6);
	cfg_line_free(&cl);
	free(line);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct iprange_set black, white, before;
	struct cidr *v = NULL;
	const char *p;
	size_t len, blen, n, i;

	if (size < 1)
		return 0;
	p = (const char *)data + 1;
	len = size - 1;
	blen = len * data[0] / 256;
	iprange_init(&black);
	iprange_init(&white);
	parse(p, blen, &black);
	parse(p + blen, len - blen, &white);
	iprange_normalize(&black);
	check_normal(&black, "black");
	iprange_normalize(&white);
	check_normal(&white, "white");
	iprange_init(&before);
	iprange_add_set(&before, &black);
	iprange_subtract(&black, &white);
	check_normal(&black, "black - white");
	/* two ranges overlap iff one holds an end of the other */
	for (i = 0; i < white.n; i++)
		FUZZ_CHECK(!holds(&black, &white.r[i].lo) &&
		    !holds(&black, &white.r[i].hi), "white range %zu left in "
		    "the black list", i);
	for (i = 0; i < black.n; i++) {
		FUZZ_CHECK(!holds(&white, &black.r[i].lo) &&
		    !holds(&white, &black.r[i].hi), "black range %zu overlaps "
		    "the white list", i);
		FUZZ_CHECK(holds(&before, &black.r[i].lo) &&
		    holds(&before, &black.r[i].hi), "subtraction made range "
		    "%zu up", i);
	}
	/* what was black and not white is still black */
	for (i = 0; i < before.n; i++) {
		FUZZ_CHECK(holds(&black, &before.r[i].lo) ||
		    holds(&white, &before.r[i].lo), "subtraction lost the "
		    "start of range %zu", i);
		FUZZ_CHECK(holds(&black, &before.r[i].hi) ||
		    holds(&white, &before.r[i].hi), "subtraction lost the "
		    "end of range %zu", i);
	}
	iprange_free(&before);
	FUZZ_CHECK(iprange_count(&black, AF_INET) +
	    iprange_count(&black, AF_INET6) == black.n, "iprange_count");
	n = iprange_to_cidrs(&black, &v);
	check_cidrs(&black, v, n);
	free(v);
	iprange_free(&black);
	iprange_free(&white);
	return 0;
}
