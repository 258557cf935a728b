/*
 * greyaddr.c: per-address accounting of the greylister (see greyaddr.h):
 * live GREY tuples by expiry bucket, a token bucket for the rate of new
 * tuples, queued tuples, and refusals waiting to be reported.
 */
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "spamd/greyaddr.h"

#define SLOTS		9		/* greyexp in 8 buckets, plus the newest */
#define NBUCKET		65536		/* hash chains */
#define SWEEP_MS	1000		/* at most one sweep of a full table */

struct ga {
	struct ga	*next;
	struct addr	 a;
	int64_t		 top;		/* expiry bucket of cnt[top % SLOTS] */
	uint32_t	 cnt[SLOTS];
	uint32_t	 queued;
	double		 tokens;
	uint64_t	 tok_ms;	/* 0: never used (a full bucket) */
	unsigned long	 refused[GREYADDR_NWHY];
};

const char *const greyaddr_why_name[GREYADDR_NWHY] = {
	[GREYADDR_OK] = "accepted",
	[GREYADDR_LIVE] = "live tuples (--grey-max-tuples)",
	[GREYADDR_RATE] = "rate (--grey-max-rate)",
	[GREYADDR_DBFULL] = "database size (--db-max-size)",
	[GREYADDR_QUEUE] = "its share of the queue",
};

static struct ga	*tab[NBUCKET];
static size_t		 nent;
static struct greyaddr_limits lim;
static int64_t		 width = 1;	/* seconds per expiry bucket */
static uint64_t		 last_sweep;

/*
 * The key of an address: itself, or its /64, every other byte zero, so
 * that hashing and comparing may take all 16 bytes at once (this runs
 * several times per tuple: fixed sizes, no loop over bytes).
 */
static void
key_of(const struct addr *a, struct addr *k)
{
	memset(k, 0, sizeof(*k));
	k->af = a->af;
	if (a->af == AF_INET6)
		memcpy(k->u.b, a->u.b, 8);
	else
		memcpy(k->u.b, a->u.b, 4);
}

static uint32_t
hash(const struct addr *k)
{
	uint64_t w[2], h;

	memcpy(w, k->u.b, sizeof(w));
	h = (w[0] ^ k->af) * 0x9e3779b97f4a7c15ULL;
	h = (h ^ (h >> 29) ^ w[1]) * 0xbf58476d1ce4e5b9ULL;
	return (uint32_t)(h >> 32) % NBUCKET;
}

static int
same_key(const struct addr *a, const struct addr *b)
{
	return a->af == b->af && memcmp(a->u.b, b->u.b, sizeof(a->u.b)) == 0;
}

static uint32_t
live(const struct ga *g, int64_t now)
{
	int64_t lo = now / width, t;
	uint64_t sum = 0;

	if (lo < g->top - SLOTS + 1)
		lo = g->top - SLOTS + 1;
	for (t = lo; t <= g->top; t++)
		sum += g->cnt[t % SLOTS];
	return sum > UINT32_MAX ? UINT32_MAX : (uint32_t)sum;
}

static int
idle(const struct ga *g)
{
	size_t i;

	if (g->queued != 0)
		return 0;
	for (i = 0; i < GREYADDR_NWHY; i++)
		if (g->refused[i] != 0)
			return 0;
	for (i = 0; i < SLOTS; i++)
		if (g->cnt[i] != 0)
			return 0;
	return 1;
}

/* Drop entries that hold nothing (no live tuple in any bucket). */
static void
sweep(void)
{
	struct ga **pp, *g;
	size_t b;

	for (b = 0; b < NBUCKET; b++)
		for (pp = &tab[b]; (g = *pp) != NULL; ) {
			if (idle(g)) {
				*pp = g->next;
				free(g);
				nent--;
			} else
				pp = &g->next;
		}
}

static struct ga *
find(const struct addr *a, int create)
{
	struct addr k;
	struct ga *g;
	uint32_t h;

	key_of(a, &k);
	h = hash(&k);
	for (g = tab[h]; g != NULL; g = g->next)
		if (same_key(&g->a, &k))
			return g;
	if (!create)
		return NULL;
	if (nent >= GREYADDR_MAX) {
		uint64_t now = clock_mono_ms();

		if (now - last_sweep < SWEEP_MS)
			return NULL;
		last_sweep = now;
		sweep();
		if (nent >= GREYADDR_MAX)
			return NULL;
	}
	if ((g = calloc(1, sizeof(*g))) == NULL)
		return NULL;
	g->a = k;
	g->next = tab[h];
	tab[h] = g;
	nent++;
	return g;
}

void
greyaddr_init(const struct greyaddr_limits *l)
{
	size_t b;
	struct ga *g;

	for (b = 0; b < NBUCKET; b++)
		while ((g = tab[b]) != NULL) {
			tab[b] = g->next;
			free(g);
		}
	nent = 0;
	lim = *l;
	/* SLOTS - 1 buckets cover greyexp; the newest is partly filled. */
	width = (lim.greyexp + SLOTS - 2) / (SLOTS - 1);
	if (width < 1)
		width = 1;
}

void
greyaddr_added(const struct addr *a, int64_t expire)
{
	struct ga *g = find(a, 1);
	int64_t s = expire / width, t;

	if (g == NULL)
		return;
	if (s > g->top) {
		for (t = g->top + 1; t <= s && t <= g->top + SLOTS; t++)
			g->cnt[t % SLOTS] = 0;
		g->top = s;
	}
	if (s <= g->top - SLOTS)
		return;		/* older than anything we keep */
	if (g->cnt[s % SLOTS] < UINT32_MAX)
		g->cnt[s % SLOTS]++;
}

void
greyaddr_load_rec(const char *key, size_t keylen, const struct gd_rec *r,
    int64_t now)
{
	struct addr a;

	if (r != NULL && r->kind == GD_GREY && r->expire > now &&
	    gd_key_addr(key, keylen, &a) == 0)
		greyaddr_added(&a, r->expire);
}

uint32_t
greyaddr_live(const struct addr *a, int64_t now)
{
	const struct ga *g = find(a, 0);

	return g == NULL ? 0 : live(g, now);
}

enum greyaddr_why
greyaddr_new_ok(const struct addr *a, int64_t now, uint64_t mono)
{
	struct ga *g = find(a, 1);

	if (g == NULL)
		return GREYADDR_OK;	/* no room to track it */
	if (lim.max_live > 0 && live(g, now) >= lim.max_live)
		return GREYADDR_LIVE;
	if (lim.rate_n > 0) {
		if (g->tok_ms == 0)
			g->tokens = lim.rate_n;
		else if (mono > g->tok_ms)
			g->tokens += (double)(mono - g->tok_ms) * lim.rate_n /
			    ((double)lim.rate_period * 1000.0);
		if (g->tokens > lim.rate_n)
			g->tokens = lim.rate_n;
		g->tok_ms = mono ? mono : 1;
		if (g->tokens < 1.0)
			return GREYADDR_RATE;
		g->tokens -= 1.0;
	}
	return GREYADDR_OK;
}

uint32_t
greyaddr_heaviest(int64_t now)
{
	const struct ga *g;
	uint32_t max = 0, n;
	size_t b;

	for (b = 0; b < NBUCKET; b++)
		for (g = tab[b]; g != NULL; g = g->next)
			if ((n = live(g, now)) > max)
				max = n;
	return max;
}

void
greyaddr_refused(const struct addr *a, enum greyaddr_why why)
{
	struct ga *g = find(a, 1);

	if (g != NULL && why < GREYADDR_NWHY)
		g->refused[why]++;
}

static unsigned long
total_refused(const struct ga *g)
{
	unsigned long n = 0;
	size_t i;

	for (i = 0; i < GREYADDR_NWHY; i++)
		n += g->refused[i];
	return n;
}

size_t
greyaddr_report(int64_t now, greyaddr_report_fn fn, void *arg)
{
	const struct ga *top[GREYADDR_REPORT_MAX];
	struct greyaddr_stat st;
	struct ga *g;
	size_t b, i, k = 0, naddr = 0;
	unsigned long n;

	for (b = 0; b < NBUCKET; b++)
		for (g = tab[b]; g != NULL; g = g->next) {
			if ((n = total_refused(g)) == 0)
				continue;
			naddr++;
			/* Keep the GREYADDR_REPORT_MAX largest, sorted. */
			for (i = k; i > 0 && total_refused(top[i - 1]) < n; i--)
				if (i < GREYADDR_REPORT_MAX)
					top[i] = top[i - 1];
			if (i < GREYADDR_REPORT_MAX) {
				top[i] = g;
				if (k < GREYADDR_REPORT_MAX)
					k++;
			}
		}
	for (i = 0; i < k; i++) {
		st.a = top[i]->a;
		st.live = live(top[i], now);
		memcpy(st.refused, top[i]->refused, sizeof(st.refused));
		fn(&st, arg);
	}
	for (b = 0; b < NBUCKET; b++)
		for (g = tab[b]; g != NULL; g = g->next)
			memset(g->refused, 0, sizeof(g->refused));
	return naddr;
}

int
greyaddr_queue_add(const struct addr *a, uint32_t share)
{
	struct ga *g = find(a, 1);

	if (g == NULL)
		return 1;
	if (g->queued >= share)
		return 0;
	g->queued++;
	return 1;
}

void
greyaddr_queue_del(const struct addr *a)
{
	struct ga *g = find(a, 0);

	if (g != NULL && g->queued > 0)
		g->queued--;
}
