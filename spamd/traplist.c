/*
 * traplist.c: a small hash set of trapped addresses with expiry times
 * (see traplist.h). Linear probing, tombstone-free deletion by backward
 * shift, growth at 50% load.
 */
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "spamd/traplist.h"

struct slot {
	struct addr	a;
	int64_t		expire;		/* 0 = empty */
	uint32_t	gen;		/* generation that last set it */
};

static struct slot	*tab;
static size_t		 cap, used;
static uint32_t		 generation;

static uint64_t
hash(const struct addr *a)
{
	uint64_t h = 1469598103934665603ULL;	/* FNV-1a */
	size_t i, n = addr_len(a);

	h ^= a->af;
	h *= 1099511628211ULL;
	for (i = 0; i < n; i++) {
		h ^= a->u.b[i];
		h *= 1099511628211ULL;
	}
	return h;
}

static int
same(const struct addr *x, const struct addr *y)
{
	return x->af == y->af && memcmp(x->u.b, y->u.b, addr_len(x)) == 0;
}

static struct slot *
find(const struct addr *a)
{
	size_t i;

	if (cap == 0)
		return NULL;
	for (i = hash(a) & (cap - 1); tab[i].expire != 0; i = (i + 1) & (cap - 1))
		if (same(&tab[i].a, a))
			return &tab[i];
	return NULL;
}

static void
remove_at(size_t i)
{
	size_t j = i;

	/* Backward-shift deletion keeps every probe chain unbroken. */
	tab[i].expire = 0;
	for (;;) {
		size_t k;

		j = (j + 1) & (cap - 1);
		if (tab[j].expire == 0)
			break;
		k = hash(&tab[j].a) & (cap - 1);
		if ((j > i && (k <= i || k > j)) || (j < i && k <= i && k > j)) {
			tab[i] = tab[j];
			tab[j].expire = 0;
			i = j;
		}
	}
	used--;
}

static int
grow(void)
{
	struct slot *old = tab;
	size_t oldcap = cap, i;

	cap = cap ? cap * 2 : 256;
	if ((tab = calloc(cap, sizeof(*tab))) == NULL) {
		tab = old;
		cap = oldcap;
		log_warnx("trap list: out of memory");
		return -1;
	}
	used = 0;
	for (i = 0; i < oldcap; i++) {
		if (old[i].expire != 0) {
			size_t j = hash(&old[i].a) & (cap - 1);

			while (tab[j].expire != 0)
				j = (j + 1) & (cap - 1);
			tab[j] = old[i];
			used++;
		}
	}
	free(old);
	return 0;
}

int
traplist_set(const struct addr *a, int64_t expire)
{
	struct slot *s = find(a);
	size_t i;

	if (expire == 0) {
		if (s != NULL)
			remove_at((size_t)(s - tab));
		return 0;
	}
	if (s != NULL) {
		s->expire = expire;
		s->gen = generation;
		return 0;
	}
	if ((used + 1) * 2 > cap && grow() == -1)
		return -1;
	for (i = hash(a) & (cap - 1); tab[i].expire != 0; i = (i + 1) & (cap - 1))
		;
	tab[i].a = *a;
	tab[i].expire = expire;
	tab[i].gen = generation;
	used++;
	return 0;
}

int
traplist_hit(const struct addr *a, int64_t now)
{
	struct slot *s = find(a);

	if (s == NULL)
		return 0;
	if (s->expire <= now) {
		remove_at((size_t)(s - tab));
		return 0;
	}
	return 1;
}

size_t
traplist_count(void)
{
	return used;
}

void
traplist_clear(void)
{
	free(tab);
	tab = NULL;
	cap = used = 0;
}

void
traplist_begin(void)
{
	generation++;
}

size_t
traplist_sweep(void (*fn)(const struct addr *))
{
	struct addr *stale;
	size_t i, n = 0;

	if (used == 0)
		return 0;
	/* Collect first: a removal shifts later entries back. */
	if ((stale = calloc(used, sizeof(*stale))) == NULL) {
		log_warnx("trap list: out of memory");
		return 0;
	}
	for (i = 0; i < cap; i++)
		if (tab[i].expire != 0 && tab[i].gen != generation)
			stale[n++] = tab[i].a;
	for (i = 0; i < n; i++) {
		traplist_set(&stale[i], 0);
		if (fn != NULL)
			fn(&stale[i]);
	}
	free(stale);
	return n;
}
