/*
 * nospamd.c: the nospamd sets in the SMTP process, for policy mode
 * (nospamd.h): CIDR blocks as ranges, merged, binary-searched.
 */
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "spamd/nospamd.h"

struct range {
	struct addr	lo, hi;
};

static struct range	*cur, *nxt;
static size_t		 ncur, nnxt, capnxt;
static int		 nxt_failed;

void
nospamd_begin(void)
{
	free(nxt);
	nxt = NULL;
	nnxt = capnxt = 0;
	nxt_failed = 0;
}

/* The last address of a block: its host bits set. */
static struct addr
last(const struct cidr *c)
{
	struct addr a = c->a;
	unsigned int bits = (unsigned int)addr_len(&a) * 8, i;

	addr_mask(&a, c->plen);
	for (i = c->plen; i < bits; i++)
		a.u.b[i / 8] |= (uint8_t)(0x80u >> (i % 8));
	return a;
}

int
nospamd_add(const struct cidr *c, size_t n)
{
	struct range *r;
	size_t i;

	if (nxt_failed)
		return -1;
	if (nnxt + n > capnxt) {
		size_t cap = capnxt ? capnxt : 64;

		while (cap < nnxt + n)
			cap *= 2;
		if ((r = reallocarray(nxt, cap, sizeof(*r))) == NULL) {
			nxt_failed = 1;
			return -1;
		}
		nxt = r;
		capnxt = cap;
	}
	for (i = 0; i < n; i++) {
		nxt[nnxt].lo = c[i].a;
		addr_mask(&nxt[nnxt].lo, c[i].plen);
		nxt[nnxt++].hi = last(&c[i]);
	}
	return 0;
}

static int
cmp_range(const void *a, const void *b)
{
	return addr_cmp(&((const struct range *)a)->lo,
	    &((const struct range *)b)->lo);
}

size_t
nospamd_end(void)
{
	size_t i, k = 0;

	if (nxt_failed) {
		log_warnx("out of memory for the nospamd list; keeping the "
		    "old one (%zu ranges)", ncur);
		nospamd_begin();
		return ncur;
	}
	if (nnxt > 0)		/* qsort(NULL, 0) is undefined */
		qsort(nxt, nnxt, sizeof(*nxt), cmp_range);
	for (i = 0; i < nnxt; i++) {
		/* Merge with the previous range when they overlap (same
		 * family: addr_cmp orders IPv4 before IPv6). */
		if (k > 0 && nxt[i].lo.af == nxt[k - 1].hi.af &&
		    addr_cmp(&nxt[i].lo, &nxt[k - 1].hi) <= 0) {
			if (addr_cmp(&nxt[i].hi, &nxt[k - 1].hi) > 0)
				nxt[k - 1].hi = nxt[i].hi;
			continue;
		}
		nxt[k++] = nxt[i];
	}
	free(cur);
	cur = nxt;
	ncur = k;
	nxt = NULL;
	nnxt = capnxt = 0;
	return ncur;
}

int
nospamd_has(const struct addr *a)
{
	size_t lo = 0, hi = ncur;

	/* The last range whose start is <= a. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (addr_cmp(&cur[mid].lo, a) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo > 0 && cur[lo - 1].lo.af == a->af &&
	    addr_cmp(a, &cur[lo - 1].hi) <= 0;
}

void
nospamd_clear(void)
{
	nospamd_begin();
	free(cur);
	cur = NULL;
	ncur = 0;
}
