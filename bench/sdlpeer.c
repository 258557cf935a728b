/*
 * sdlpeer.c: the reference points for the blacklist figures of
 * sdlbench.c (which measures spamd/sdl.c itself).
 *
 *	linear	OpenBSD spamd's lookup: every list is an array of
 *		(network, mask) pairs scanned from the start until one
 *		matches, so a miss (the common case) reads the whole list.
 *		Re-implemented here on the same kind of data; its cost per
 *		lookup is the peer of sdl_lookup's.
 *	sort	qsort(3) of the same 1,000,000 IPv4 CIDRs by address: about
 *		the least work any structure built from sorted ranges does,
 *		the floor for sdl_replace's load time.
 *
 * usage: sdlpeer [blocks [lookups]]	(default 1000000 and 200)
 *
 * Data as in sdlbench: half /32, a third /24, the rest /16../31, random
 * networks from a fixed seed. Prints two lines:
 *	linear: N lookups over B blocks: X ns each, M matches
 *	sort: B blocks in S s
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bench/benchutil.h"

struct v4net {
	uint32_t	net, mask;
};

static uint64_t seed = 0x9e3779b97f4a7c15ULL;

static uint64_t
next_rand(void)
{
	uint64_t z = (seed += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static int
cmp_net(const void *a, const void *b)
{
	const struct v4net *x = a, *y = b;

	if (x->net != y->net)
		return x->net < y->net ? -1 : 1;
	return x->mask < y->mask ? -1 : x->mask > y->mask;
}

/* OpenBSD's match: the first entry whose network holds the address. */
static int
linear_lookup(const struct v4net *v, size_t n, uint32_t a)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((a & v[i].mask) == v[i].net)
			return 1;
	return 0;
}

int
main(int argc, char *argv[])
{
	struct v4net *v, *s;
	size_t n = 1000000, nq = 200, i, hits = 0;
	double t0, dt;

	if (argc > 1)
		n = strtoul(argv[1], NULL, 10);
	if (argc > 2)
		nq = strtoul(argv[2], NULL, 10);
	if (n == 0 || n > 100000000 || nq == 0 || nq > 1000000) {
		fprintf(stderr, "usage: sdlpeer [blocks [lookups]]\n");
		return 2;
	}
	if ((v = calloc(n, sizeof(*v))) == NULL ||
	    (s = calloc(n, sizeof(*s))) == NULL) {
		perror("sdlpeer: calloc");
		return 1;
	}
	for (i = 0; i < n; i++) {
		uint64_t r = next_rand();
		unsigned p = (unsigned)(r % 6), plen;

		plen = p < 3 ? 32 : p < 5 ? 24 : 16 + (unsigned)(next_rand() %
		    16);
		v[i].mask = plen == 32 ? 0xffffffffu :
		    ~(0xffffffffu >> plen);
		v[i].net = (uint32_t)(r >> 32) & v[i].mask;
	}
	t0 = benchutil_now_s();
	for (i = 0; i < nq; i++)
		hits += (size_t)linear_lookup(v, n, (uint32_t)next_rand());
	dt = benchutil_now_s() - t0;
	printf("linear: %zu lookups over %zu blocks: %.0f ns each, %zu "
	    "matches\n", nq, n, dt / (double)nq * 1e9, hits);
	for (i = 0; i < n; i++)
		s[i] = v[i];
	t0 = benchutil_now_s();
	qsort(s, n, sizeof(*s), cmp_net);
	printf("sort: %zu blocks in %.3f s\n", n, benchutil_now_s() - t0);
	free(v);
	free(s);
	return 0;
}
