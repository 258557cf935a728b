/*
 * nft_interval.c: CIDR blocks to nftables interval endpoints and back.
 *
 *	nft_interval_keys(set, el, in, keys)	the keys one caller element
 *				becomes: 1 for a plain set; for an interval
 *				set a start key (the network address) and an
 *				end key (last address + 1, flagged
 *				NFT_SET_ELEM_INTERVAL_END), or only the start
 *				when the block reaches the top of the address
 *				space. Returns the count, -1 for a prefix
 *				length that does not fit the family.
 *	nft_interval_to_cidrs(set, raw, n, &el, &cnt)	dumped elements to
 *				caller elements: endpoint pairs become the
 *				fewest CIDR blocks that cover each range;
 *				nft's lone 0.0.0.0 end sentinel is dropped.
 *				Sorts raw[] in place. *el is malloc'ed.
 *	nft_interval_range_cidrs(lo, hi, tmpl, &el, &cnt, &cap)	append the
 *				blocks covering [lo, hi] to a growing array
 *
 * The kernel rejects overlapping intervals (6.x) and has no merge logic,
 * so callers hand in blocks that do not overlap; adjacent blocks
 * (10.0.0.0/8 next to 11.0.0.0/8) are fine and stay two intervals.
 */
#include <sys/types.h>

#include <netinet/in.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/addr.h"
#include "nft/nft_int.h"

static unsigned int
maxlen(uint8_t af)
{
	return af == AF_INET ? 32 : 128;
}

int
nft_interval_keys(const struct nft_set *set, const struct nft_elem *el,
    uint32_t in, struct nft_key *keys)
{
	struct cidr c;
	struct addr last;
	size_t alen = addr_len(&el->a);

	memset(keys, 0, 2 * sizeof(*keys));
	keys[0].in = keys[1].in = in;
	/* Timeouts ride on the start element only, as nft sends them. */
	keys[0].timeout_ms = el->timeout_ms;
	keys[0].expires_ms = el->expires_ms;
	if (!set->interval) {
		memcpy(keys[0].key, el->a.u.b, alen);
		return 1;
	}
	if (el->plen > maxlen(el->a.af))
		return -1;
	c.a = el->a;
	c.plen = el->plen;
	addr_mask(&c.a, c.plen);
	memcpy(keys[0].key, c.a.u.b, alen);
	cidr_last(&c, &last);
	if (addr_inc(&last))
		return 1;	/* reaches the top: no end element */
	memcpy(keys[1].key, last.u.b, alen);
	keys[1].end = 1;
	return 2;
}

static int
raw_cmp(const void *pa, const void *pb)
{
	const struct nft_raw *a = pa, *b = pb;
	int c = addr_cmp(&a->a, &b->a);

	if (c != 0)
		return c;
	/* At one key, the end of [x, k-1] sorts before the start of [k, y]. */
	return (int)b->end - (int)a->end;
}

static int
push(struct nft_elem **el, size_t *cnt, size_t *cap, const struct nft_elem *e)
{
	struct nft_elem *n;
	size_t ncap;

	if (*cnt == *cap) {
		ncap = *cap ? *cap * 2 : 64;
		if ((n = reallocarray(*el, ncap, sizeof(**el))) == NULL)
			return -1;
		*el = n;
		*cap = ncap;
	}
	(*el)[(*cnt)++] = *e;
	return 0;
}

int
nft_interval_range_cidrs(const struct addr *lo, const struct addr *hi,
    const struct nft_raw *tmpl, struct nft_elem **el, size_t *cnt,
    size_t *cap)
{
	struct nft_elem e;
	struct cidr c;
	struct addr cur = *lo, last, m;
	unsigned int p, max = maxlen(lo->af);

	for (;;) {
		/* The biggest block that starts at cur and ends by hi. */
		for (p = 0; p <= max; p++) {
			m = cur;
			addr_mask(&m, p);
			if (addr_cmp(&m, &cur) != 0)
				continue;
			c.a = cur;
			c.plen = (uint8_t)p;
			cidr_last(&c, &last);
			if (addr_cmp(&last, hi) <= 0)
				break;
		}
		if (p > max)
			return 0;	/* lo > hi: nothing */
		memset(&e, 0, sizeof(e));
		e.a = cur;
		e.plen = (uint8_t)p;
		e.timeout_ms = tmpl->timeout_ms;
		e.expires_ms = tmpl->expires_ms;
		if (push(el, cnt, cap, &e) == -1)
			return -1;
		if (addr_cmp(&last, hi) >= 0)
			return 0;
		cur = last;
		if (addr_inc(&cur))
			return 0;
	}
}

int
nft_interval_to_cidrs(const struct nft_set *set, struct nft_raw *raw,
    size_t n, struct nft_elem **el, size_t *cnt)
{
	struct nft_elem e;
	struct addr top, hi;
	size_t i, cap = 0, start = 0;
	int have = 0;

	*el = NULL;
	*cnt = 0;
	if (!set->interval) {
		for (i = 0; i < n; i++) {
			memset(&e, 0, sizeof(e));
			e.a = raw[i].a;
			e.plen = (uint8_t)maxlen(raw[i].a.af);
			e.timeout_ms = raw[i].timeout_ms;
			e.expires_ms = raw[i].expires_ms;
			if (push(el, cnt, &cap, &e) == -1)
				goto fail;
		}
		return 0;
	}
	if (n > 0)		/* an empty set: raw may be NULL */
		qsort(raw, n, sizeof(*raw), raw_cmp);
	for (i = 0; i < n; i++) {
		if (!raw[i].end) {
			if (have) {
				/* Two starts in a row: close the first. */
				hi = raw[i].a;
				addr_dec(&hi);
				if (nft_interval_range_cidrs(&raw[start].a, &hi,
				    &raw[start], el, cnt, &cap) == -1)
					goto fail;
			}
			start = i;
			have = 1;
			continue;
		}
		if (!have)
			continue;	/* nft's 0.0.0.0 end sentinel */
		have = 0;
		if (addr_cmp(&raw[i].a, &raw[start].a) == 0)
			continue;
		hi = raw[i].a;
		addr_dec(&hi);
		if (nft_interval_range_cidrs(&raw[start].a, &hi, &raw[start],
		    el, cnt, &cap) == -1)
			goto fail;
	}
	if (have) {
		memset(&top, 0, sizeof(top));
		top.af = raw[start].a.af;
		memset(top.u.b, 0xff, addr_len(&top));
		if (nft_interval_range_cidrs(&raw[start].a, &top, &raw[start],
		    el, cnt, &cap) == -1)
			goto fail;
	}
	return 0;
 fail:
	free(*el);
	*el = NULL;
	*cnt = 0;
	errno = ENOMEM;
	return -1;
}
