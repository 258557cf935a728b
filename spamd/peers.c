/*
 * peers.c: client address blocks with open connections (see peers.h).
 * A chained hash table keyed by the masked address; an IPv6 client is
 * one /64 by default, since one host usually owns a whole /64.
 */
#include <stdlib.h>
#include <string.h>

#include "spamd/peers.h"

struct peer {
	struct peer	*next;
	struct addr	 key;		/* masked */
	unsigned int	 ncon;
	unsigned int	 loglines;	/* in the current minute */
	int		 announced;	/* peers_log said -1 this minute */
	uint64_t	 logstart_ms;	/* start of that minute */
};

static struct peer	**buckets;
static size_t		 nbuckets, npeers;
static unsigned int	 plen4 = 32, plen6 = 64;

void
peers_init(unsigned int v4len, unsigned int v6len, size_t n)
{
	size_t want = 16;

	plen4 = v4len;
	plen6 = v6len;
	while (want < n && want < ((size_t)1 << 20))
		want <<= 1;
	free(buckets);
	/* Without memory every client is its own block: no limit. */
	buckets = calloc(want, sizeof(*buckets));
	nbuckets = buckets != NULL ? want : 0;
	npeers = 0;
}

static size_t
hash(const struct addr *a)
{
	uint32_t h = 2166136261u;
	size_t i, n = addr_len(a);

	h = (h ^ a->af) * 16777619u;
	for (i = 0; i < n; i++)
		h = (h ^ a->u.b[i]) * 16777619u;
	return h & (nbuckets - 1);
}

struct peer *
peers_get(const struct addr *a)
{
	struct addr k;
	struct peer *p;
	size_t h;

	if (nbuckets == 0)
		return NULL;
	memset(&k, 0, sizeof(k));
	k.af = a->af;
	memcpy(k.u.b, a->u.b, addr_len(a));
	addr_mask(&k, a->af == AF_INET ? plen4 : plen6);
	h = hash(&k);
	for (p = buckets[h]; p != NULL; p = p->next)
		if (addr_cmp(&p->key, &k) == 0) {
			p->ncon++;
			return p;
		}
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->key = k;
	p->ncon = 1;
	p->next = buckets[h];
	buckets[h] = p;
	npeers++;
	return p;
}

void
peers_put(struct peer *p)
{
	struct peer **pp;

	if (p == NULL || --p->ncon > 0)
		return;
	for (pp = &buckets[hash(&p->key)]; *pp != NULL; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			npeers--;
			free(p);
			return;
		}
}

unsigned int
peers_ncon(const struct peer *p)
{
	return p != NULL ? p->ncon : 0;
}

int
peers_log(struct peer *p, uint64_t now_ms, unsigned int limit)
{
	if (p == NULL || limit == 0)
		return 1;
	if (now_ms - p->logstart_ms >= 60000) {
		p->logstart_ms = now_ms;
		p->loglines = 0;
		p->announced = 0;
	}
	if (p->loglines >= limit) {
		if (p->announced)
			return 0;
		p->announced = 1;
		return -1;
	}
	p->loglines++;
	return 1;
}

size_t
peers_count(void)
{
	return npeers;
}
