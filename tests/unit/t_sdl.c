/*
 * t_sdl.c: unit tests for spamd/sdl.c, the in-memory blacklists.
 *
 * The lookup structure is checked against a brute-force reference on
 * random, deliberately overlapping data; snapshots are held across
 * replace/clear/free (run under SANITIZE=1 to catch a use after free);
 * replies are compared byte for byte.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/addr.h"
#include "common/compat.h"
#include "spamd/sdl.h"
#include "spamd/smtp.h"
#include "tests/unit/harness.h"

/* A blacklisted client's reply from list snapshots, as con.c builds it. */
static size_t
listed_reply(char *buf, size_t size, int code, struct sdl_list *const *l,
    size_t n, const struct addr *a)
{
	const char *msgs[8];
	size_t i;

	T_ASSERT(n <= 8);
	for (i = 0; i < n; i++)
		msgs[i] = sdl_msg(l[i]);
	return smtp_listed_reply(buf, size, code, msgs, n, a);
}

static uint64_t rs = 0x9e3779b97f4a7c15ULL;

static uint64_t
rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return rs;
}

static struct cidr
C(const char *s)
{
	struct cidr c;
	const char *e;

	if (cidr_parse(s, &c, 0, &e) == -1)
		t_fail("bad test cidr %s: %s", s, e);
	return c;
}

static struct addr
A(const char *s)
{
	struct addr a;

	if (addr_parse(s, &a) == -1)
		t_fail("bad test address %s", s);
	return a;
}

/* The tags of every list holding a, space separated, via sdl_lookup. */
static const char *
tags_of(const struct addr *a)
{
	static char buf[1024];
	struct sdl_list *l[SDL_LOOKUP_MAX];
	size_t i, n;

	n = sdl_lookup(a, l, SDL_LOOKUP_MAX);
	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		if (i > 0)
			strlcat(buf, " ", sizeof(buf));
		strlcat(buf, sdl_tag(l[i]), sizeof(buf));
		sdl_unref(l[i]);
	}
	if ((n > 0) != sdl_listed(a))
		t_fail("sdl_listed disagrees with sdl_lookup");
	return buf;
}

/* ---- random data against a reference ---- */

#define NLISTS	5
#define MAXBLK	3000
#define MAXHOST	200

struct ref {
	char		tag[16];
	struct cidr	c[MAXBLK];
	struct addr	lo[MAXBLK], hi[MAXBLK];	/* first, last of c[] */
	size_t		n;
	struct addr	h[MAXHOST];
	size_t		nh;
};

static struct ref refs[NLISTS];

/*
 * A random address inside a small region, so that blocks of different
 * lists nest and overlap: IPv4 under 198.51.96.0/19, IPv6 under
 * 2001:db8::/112 (plus a few addresses anywhere).
 */
static struct addr
rand_addr(int af)
{
	struct addr a;
	uint64_t r = rnd();

	memset(&a, 0, sizeof(a));
	a.af = (uint8_t)af;
	if (af == AF_INET) {
		uint32_t x = 0xc6336000U | (uint32_t)(r & 0x1fff);

		if (r % 50 == 0)
			x = (uint32_t)(r >> 32);
		a.u.v4.s_addr = htonl(x);
	} else {
		a = A("2001:db8::");
		a.u.b[14] = (uint8_t)(r >> 8);
		a.u.b[15] = (uint8_t)r;
		if (r % 50 == 0)
			memcpy(a.u.b, &r, 8);
	}
	return a;
}

static struct cidr
rand_cidr(int af)
{
	struct cidr c;
	unsigned int max = af == AF_INET ? 32 : 128;
	uint64_t r = rnd();

	c.a = rand_addr(af);
	/* mostly long prefixes, some short ones covering many others */
	if (r % 4 == 0)
		c.plen = (uint8_t)(max - 4 - (r >> 8) % 12);
	else if (r % 97 == 0)
		c.plen = (uint8_t)(1 + (r >> 8) % 8);
	else
		c.plen = (uint8_t)(max - (r >> 8) % 5);
	addr_mask(&c.a, c.plen);
	return c;
}

static const char *
ref_tags(const struct addr *a)
{
	static char buf[1024];
	size_t i, j;
	int hit;

	buf[0] = '\0';
	for (i = 0; i < NLISTS; i++) {
		hit = 0;
		for (j = 0; j < refs[i].n && !hit; j++)
			hit = a->af == refs[i].lo[j].af &&
			    addr_cmp(&refs[i].lo[j], a) <= 0 &&
			    addr_cmp(a, &refs[i].hi[j]) <= 0;
		for (j = 0; j < refs[i].nh && !hit; j++)
			hit = addr_cmp(&refs[i].h[j], a) == 0;
		if (hit) {
			if (buf[0] != '\0')
				strlcat(buf, " ", sizeof(buf));
			strlcat(buf, refs[i].tag, sizeof(buf));
		}
	}
	return buf;
}

static void
check_addr(const struct addr *a)
{
	char want[1024], ip[ADDR_STRLEN];

	strlcpy(want, ref_tags(a), sizeof(want));
	if (strcmp(tags_of(a), want) != 0)
		t_fail("%s: sdl says \"%s\", reference says \"%s\"",
		    addr_ntop(a, ip, sizeof(ip)), tags_of(a), want);
}

static int use_steps;	/* build lists with sdl_build_* in small steps */

static int
replace(const char *tag, const char *msg, const struct cidr *v, size_t n)
{
	struct sdl_build *b;
	int rc;

	if (!use_steps)
		return sdl_replace(tag, msg, v, n);
	if ((b = sdl_build_new(tag, msg, v, n)) == NULL)
		return -1;
	/* budgets from 1 up, so every phase stops and resumes */
	while ((rc = sdl_build_step(b, 1 + (size_t)(rnd() % 40))) == 0)
		;
	if (rc == 1)
		rc = sdl_build_commit(b);
	sdl_build_free(b);
	return rc;
}

static void
random_family(int af)
{
	struct addr a;
	size_t i, j, k, sizes[NLISTS] = { 3, 40, 64, 700, MAXBLK };
	int round;

	for (round = 0; round < 2; round++) {
		/* list sizes straddle the index threshold (64) */
		for (i = 0; i < NLISTS; i++) {
			struct ref *r = &refs[(i + (size_t)round) % NLISTS];

			snprintf(r->tag, sizeof(r->tag), "list%zu",
			    (i + (size_t)round) % NLISTS);
			r->n = sizes[i];
			for (j = 0; j < r->n; j++) {
				r->c[j] = rand_cidr(af);
				cidr_first(&r->c[j], &r->lo[j]);
				cidr_last(&r->c[j], &r->hi[j]);
			}
			r->nh = i == 1 ? MAXHOST : 0;
			for (j = 0; j < r->nh; j++)
				r->h[j] = rand_addr(af);
		}
		/* first round creates the lists in order; later rounds replace */
		for (i = 0; i < NLISTS; i++) {
			T_EQ_INT(replace(refs[i].tag, "m", refs[i].c,
			    refs[i].n), 0);
			for (j = 0; j < refs[i].nh; j++)
				T_ASSERT(sdl_addr_add(refs[i].tag, "m",
				    &refs[i].h[j]) >= 0);
		}
		T_EQ_INT(sdl_count(), NLISTS);
		for (k = 0; k < 10000; k++) {
			a = rand_addr(af);
			check_addr(&a);
		}
		/* the edges of every block and their neighbours */
		for (i = 0; i < NLISTS; i++) {
			for (j = 0; j < refs[i].n; j++) {
				cidr_first(&refs[i].c[j], &a);
				check_addr(&a);
				addr_inc(&a);
				check_addr(&a);
				cidr_last(&refs[i].c[j], &a);
				check_addr(&a);
				addr_inc(&a);
				check_addr(&a);
			}
		}
	}
	sdl_free_all();
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

static void
random_v4_steps(void)
{
	use_steps = 1;
	random_family(AF_INET);
}

static void
random_v6_steps(void)
{
	use_steps = 1;
	random_family(AF_INET6);
}

/* While a build runs the old list answers; the commit swaps at once. */
static void
build_keeps_old_until_commit(void)
{
	struct cidr old[1], nw[200];
	struct sdl_build *b;
	struct addr a;
	size_t i;
	int rc, steps = 0;

	old[0] = C("192.0.2.0/24");
	T_EQ_INT(sdl_replace("l", "old", old, 1), 0);
	for (i = 0; i < 200; i++) {
		/* descending, so the sort has work */
		nw[i].a = A("198.51.100.0");
		nw[i].a.u.b[3] = (uint8_t)(199 - i);
		nw[i].plen = 32;
	}
	b = sdl_build_new("l", "new", nw, 200);
	T_ASSERT(b != NULL);
	a = A("198.51.100.7");
	while ((rc = sdl_build_step(b, 16)) == 0) {
		steps++;
		T_EQ_STR(tags_of(&a), "");
		T_EQ_STR(tags_of(&old[0].a), "l");
	}
	T_EQ_INT(rc, 1);
	T_ASSERT(steps > 10);
	T_EQ_INT(sdl_build_commit(b), 0);
	sdl_build_free(b);
	T_EQ_STR(tags_of(&a), "l");
	T_EQ_STR(tags_of(&old[0].a), "");
	/* a build dropped before its commit changes nothing */
	b = sdl_build_new("l", "x", old, 1);
	T_ASSERT(b != NULL);
	(void)sdl_build_step(b, 1);
	sdl_build_free(b);
	T_EQ_STR(tags_of(&a), "l");
	T_EQ_INT(sdl_count(), 1);
	sdl_free_all();
}

/*
 * Blocks spread over the whole address space, so the bucket index has
 * many buckets with a few ranges each; queries just before, at and after
 * every block catch an index that starts or ends a bucket one off.
 */
static int
in_blocks(const struct addr *lo, const struct addr *hi, size_t n,
    const struct addr *a)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (a->af == lo[i].af && addr_cmp(&lo[i], a) <= 0 &&
		    addr_cmp(a, &hi[i]) <= 0)
			return 1;
	}
	return 0;
}

static void
index_family(int af)
{
	enum { N = 2000 };
	struct cidr *c = calloc(N, sizeof(*c));
	struct addr *lo = calloc(N, sizeof(*lo)), *hi = calloc(N, sizeof(*hi));
	struct addr a;
	size_t i, k;
	uint64_t r;
	char ip[ADDR_STRLEN];

	T_ASSERT(c != NULL && lo != NULL && hi != NULL);
	for (i = 0; i < N; i++) {
		r = rnd();
		memset(&c[i].a, 0, sizeof(c[i].a));
		c[i].a.af = (uint8_t)af;
		memcpy(c[i].a.u.b, &r, 8);
		r = rnd();
		memcpy(c[i].a.u.b + 8, &r, 8);
		c[i].plen = (uint8_t)(af == AF_INET ? 20 + r % 13 :
		    40 + r % 89);
		addr_mask(&c[i].a, c[i].plen);
	}
	/*
	 * A wide last block: addresses far past the last start (beyond the
	 * last bucket) still match.
	 */
	c[N - 1] = C(af == AF_INET ? "128.0.0.0/1" : "8000::/1");
	T_EQ_INT(sdl_replace("spread", "m", c, N), 0);
	for (i = 0; i < N; i++) {
		cidr_first(&c[i], &lo[i]);
		cidr_last(&c[i], &hi[i]);
	}
	for (k = 0; k < 6 * N; k++) {
		if (k < 4 * N) {
			if (k % 4 < 2)
				cidr_first(&c[k / 4], &a);
			else
				cidr_last(&c[k / 4], &a);
			if (k % 4 == 0)
				addr_dec(&a);
			if (k % 4 == 3)
				addr_inc(&a);
		} else {
			memset(&a, 0, sizeof(a));
			a.af = (uint8_t)af;
			r = rnd();
			memcpy(a.u.b, &r, 8);
			r = rnd();
			memcpy(a.u.b + 8, &r, 8);
		}
		if (sdl_listed(&a) != in_blocks(lo, hi, N, &a))
			t_fail("%s: sdl_listed %d, reference %d",
			    addr_ntop(&a, ip, sizeof(ip)), sdl_listed(&a),
			    in_blocks(lo, hi, N, &a));
	}
	a = A(af == AF_INET ? "255.255.255.255" :
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	T_EQ_INT(sdl_listed(&a), 1);
	free(c);
	free(lo);
	free(hi);
	sdl_free_all();
}

static void
index_v4(void)
{
	index_family(AF_INET);
}

static void
index_v6(void)
{
	index_family(AF_INET6);
}

/* Both families in one list, so neither shadows the other. */
static void
mixed_families(void)
{
	struct cidr v[] = { C("192.0.2.0/24"), C("2001:db8::/32"),
	    C("203.0.113.7/32"), C("2001:db8:1::/48") };
	struct addr a;

	T_EQ_INT(sdl_replace("mix", "m", v, 4), 0);
	T_EQ_STR(tags_of((a = A("192.0.2.200"), &a)), "mix");
	T_EQ_STR(tags_of((a = A("203.0.113.7"), &a)), "mix");
	T_EQ_STR(tags_of((a = A("203.0.113.8"), &a)), "");
	T_EQ_STR(tags_of((a = A("2001:db8:ffff::1"), &a)), "mix");
	T_EQ_STR(tags_of((a = A("2001:db9::"), &a)), "");
	/* a v4-mapped client is its IPv4 address */
	T_EQ_STR(tags_of((a = A("::ffff:192.0.2.1"), &a)), "mix");
	T_EQ_STR(tags_of((a = A("::c000:201"), &a)), "");
	sdl_free_all();
}

static const struct {
	const char	*block;
	const char	*in[3];
	const char	*out[3];
} edge_cases[] = {
	{ "0.0.0.0/1", { "0.0.0.0", "127.255.255.255", NULL },
	    { "128.0.0.0", NULL, NULL } },
	{ "128.0.0.0/1", { "128.0.0.0", "255.255.255.255", NULL },
	    { "127.255.255.255", NULL, NULL } },
	{ "255.255.255.255/32", { "255.255.255.255", NULL, NULL },
	    { "255.255.255.254", "0.0.0.0", NULL } },
	{ "0.0.0.0/32", { "0.0.0.0", NULL, NULL },
	    { "0.0.0.1", "255.255.255.255", NULL } },
	{ "0.0.0.0/0", { "0.0.0.0", "255.255.255.255", "192.0.2.1" },
	    { "::", "2001:db8::1", NULL } },
	{ "::/1", { "::", "7fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NULL },
	    { "8000::", "0.0.0.0", NULL } },
	{ "8000::/1", { "8000::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	    NULL }, { "7fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NULL,
	    NULL } },
	{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128",
	    { "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NULL, NULL },
	    { "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", NULL, NULL } },
	{ "2001:db8:0:0:ffff:ffff::/96",
	    { "2001:db8::ffff:ffff:0:0", "2001:db8::ffff:ffff:ffff:ffff",
	    NULL }, { "2001:db8::ffff:fffe:ffff:ffff", "2001:db8:0:1::",
	    NULL } },
};

static void
edges(void)
{
	struct cidr c;
	struct addr a;
	size_t i, j;

	for (i = 0; i < sizeof(edge_cases) / sizeof(edge_cases[0]); i++) {
		c = C(edge_cases[i].block);
		T_EQ_INT(sdl_replace("edge", "m", &c, 1), 0);
		for (j = 0; j < 3 && edge_cases[i].in[j] != NULL; j++) {
			a = A(edge_cases[i].in[j]);
			if (strcmp(tags_of(&a), "edge") != 0)
				t_fail("%s should hold %s", edge_cases[i].block,
				    edge_cases[i].in[j]);
		}
		for (j = 0; j < 3 && edge_cases[i].out[j] != NULL; j++) {
			a = A(edge_cases[i].out[j]);
			if (strcmp(tags_of(&a), "") != 0)
				t_fail("%s should not hold %s",
				    edge_cases[i].block, edge_cases[i].out[j]);
		}
	}
	sdl_free_all();
}

/* Overlapping and adjacent blocks merge without losing or adding anything. */
static void
merge_in_list(void)
{
	struct cidr v[] = { C("198.51.100.0/25"), C("198.51.100.128/25"),
	    C("198.51.100.0/24"), C("198.51.101.0/32"), C("198.51.100.64/26"),
	    C("255.255.255.0/24"), C("255.255.255.255/32") };
	struct sdl_info in;
	struct addr a;

	T_EQ_INT(sdl_replace("m", "m", v, sizeof(v) / sizeof(v[0])), 0);
	T_EQ_INT(sdl_info(0, &in), 0);
	T_EQ_STR(in.tag, "m");
	T_EQ_INT(in.ranges4, 2);	/* 198.51.100.0-198.51.101.0, 255.255.255/24 */
	T_EQ_INT(in.ranges6, 0);
	T_EQ_INT(in.hosts, 0);
	T_EQ_INT(sdl_info(1, &in), -1);
	T_EQ_STR(tags_of((a = A("198.51.101.0"), &a)), "m");
	T_EQ_STR(tags_of((a = A("198.51.101.1"), &a)), "");
	T_EQ_STR(tags_of((a = A("198.51.99.255"), &a)), "");
	T_EQ_STR(tags_of((a = A("255.255.255.255"), &a)), "m");
	sdl_free_all();
}

/* ---- order, clear, references ---- */

static void
list_order(void)
{
	struct cidr wide = C("192.0.2.0/24"), narrow = C("192.0.2.128/25");
	struct cidr other = C("198.51.100.0/24");
	struct addr a = A("192.0.2.130");

	T_EQ_INT(sdl_replace("b", "B", &narrow, 1), 0);
	T_EQ_INT(sdl_replace("a", "A", &wide, 1), 0);
	T_EQ_INT(sdl_replace("c", "C", &wide, 1), 0);
	/* every matching list, in order of first appearance */
	T_EQ_STR(tags_of(&a), "b a c");
	/* replacing keeps the place */
	T_EQ_INT(sdl_replace("b", "B2", &wide, 1), 0);
	T_EQ_STR(tags_of(&a), "b a c");
	/* clearing keeps the slot; the cleared list matches nothing */
	T_EQ_INT(sdl_clear("a"), 0);
	T_EQ_INT(sdl_count(), 3);
	T_EQ_STR(tags_of(&a), "b c");
	T_EQ_INT(sdl_clear("nosuch"), 1);
	T_EQ_INT(sdl_count(), 3);
	/* and a refill comes back at the old place */
	T_EQ_INT(sdl_replace("a", "A", &wide, 1), 0);
	T_EQ_STR(tags_of(&a), "b a c");
	T_EQ_INT(sdl_replace("c", "C", &other, 1), 0);
	T_EQ_STR(tags_of(&a), "b a");
	/* an empty replace keeps the message, lists no address */
	T_EQ_INT(sdl_replace("b", "B3", NULL, 0), 0);
	T_EQ_STR(tags_of(&a), "a");
	sdl_free_all();
	T_EQ_INT(sdl_count(), 0);
	T_EQ_STR(tags_of(&a), "");
}

static void
lookup_max(void)
{
	struct cidr c = C("192.0.2.0/24");
	struct sdl_list *l[3];
	struct addr a = A("192.0.2.1");
	char tag[16];
	int i;

	for (i = 0; i < 5; i++) {
		snprintf(tag, sizeof(tag), "t%d", i);
		T_EQ_INT(sdl_replace(tag, "m", &c, 1), 0);
	}
	/* the first max lists in order, no more references than returned */
	T_EQ_INT(sdl_lookup(&a, l, 3), 3);
	T_EQ_STR(sdl_tag(l[0]), "t0");
	T_EQ_STR(sdl_tag(l[2]), "t2");
	for (i = 0; i < 3; i++)
		sdl_unref(l[i]);
	T_EQ_INT(sdl_lookup(&a, l, 0), 0);
	sdl_free_all();
}

static void
refs_survive_changes(void)
{
	struct cidr c = C("203.0.113.0/24");
	struct sdl_list *held[SDL_LOOKUP_MAX], *again[SDL_LOOKUP_MAX];
	struct addr a = A("203.0.113.9");
	char buf[SMTP_LISTED_REPLY_MAX];

	T_EQ_INT(sdl_replace("x", "old message for %A", &c, 1), 0);
	T_EQ_INT(sdl_addr_add(SDL_GREYTRAP_TAG, SDL_GREYTRAP_MSG, &a), 0);
	T_EQ_INT(sdl_lookup(&a, held, SDL_LOOKUP_MAX), 2);

	/* a connection keeps what matched at connect time */
	T_EQ_INT(sdl_replace("x", "new message", &c, 1), 0);
	T_EQ_STR(sdl_msg(held[0]), "old message for %A");
	T_EQ_INT(sdl_lookup(&a, again, SDL_LOOKUP_MAX), 2);
	T_EQ_STR(sdl_msg(again[0]), "new message");
	sdl_unref(again[0]);
	sdl_unref(again[1]);

	T_EQ_INT(sdl_clear("x"), 0);
	T_EQ_INT(sdl_addr_del(SDL_GREYTRAP_TAG, &a), 0);
	T_EQ_INT(sdl_lookup(&a, again, SDL_LOOKUP_MAX), 0);
	sdl_free_all();

	/* everything is gone from the table; the snapshots still work */
	T_EQ_STR(sdl_tag(held[0]), "x");
	T_EQ_STR(sdl_msg(held[1]), SDL_GREYTRAP_MSG);
	listed_reply(buf, sizeof(buf), 450, held, 2, &a);
	T_EQ_STR(buf, "450-old message for 203.0.113.9\r\n"
	    "450 Your address 203.0.113.9 has mailed to spamtraps here\r\n");
	sdl_ref(held[0]);
	sdl_unref(held[0]);
	sdl_unref(held[0]);
	sdl_unref(held[1]);
}

/* ---- single addresses (greytrap) ---- */

static void
greytrap_add_del(void)
{
	enum { N = 3000 };
	struct addr *h = calloc(N, sizeof(*h));
	char *in = calloc(N, 1);
	size_t *canon = calloc(N, sizeof(*canon));
	struct sdl_info info;
	size_t i, j, k;
	int rc, add;

	T_ASSERT(h != NULL && in != NULL && canon != NULL);
	/* a narrow space: duplicates, collisions, re-adds after deletes */
	for (i = 0; i < N; i++) {
		h[i] = rand_addr(i % 3 == 0 ? AF_INET6 : AF_INET);
		/* equal addresses share the state of the first copy */
		for (canon[i] = 0; addr_cmp(&h[canon[i]], &h[i]) != 0;
		    canon[i]++)
			;
	}
	for (k = 0; k < 40000; k++) {
		i = canon[rnd() % N];
		add = rnd() % 3 != 0;
		if (add) {
			rc = sdl_addr_add(SDL_GREYTRAP_TAG, SDL_GREYTRAP_MSG,
			    &h[i]);
			T_EQ_INT(rc, in[i] ? 1 : 0);
		} else {
			rc = sdl_addr_del(SDL_GREYTRAP_TAG, &h[i]);
			T_EQ_INT(rc, in[i] ? 0 : 1);
		}
		in[i] = (char)add;
		if (k % 997 == 0) {
			for (j = 0; j < N; j++) {
				if (sdl_listed(&h[j]) != in[canon[j]])
					t_fail("step %zu: address %zu wrong",
					    k, j);
			}
		}
	}
	for (i = 0; i < N; i++)
		T_EQ_INT(sdl_listed(&h[i]), in[canon[i]]);
	/* deleting everything empties the set */
	for (i = 0; i < N; i++)
		(void)sdl_addr_del(SDL_GREYTRAP_TAG, &h[i]);
	T_EQ_INT(sdl_info(0, &info), 0);
	T_EQ_STR(info.tag, SDL_GREYTRAP_TAG);
	T_EQ_INT(info.hosts, 0);
	T_EQ_INT(sdl_addr_del("nosuch", &h[0]), 1);
	free(h);
	free(in);
	free(canon);
	sdl_free_all();
}

/* A replace drops single addresses; a new message makes a new snapshot. */
static void
greytrap_msg_and_replace(void)
{
	struct addr a = A("192.0.2.99"), b = A("2001:db8::99");
	struct sdl_list *l[2];

	T_EQ_INT(sdl_addr_add("traps", "one", &a), 0);
	T_EQ_INT(sdl_addr_add("traps", "one", &a), 1);
	T_EQ_INT(sdl_addr_add("traps", "two", &b), 0);
	T_EQ_INT(sdl_lookup(&a, l, 2), 1);
	T_EQ_STR(sdl_msg(l[0]), "two");
	sdl_unref(l[0]);
	T_EQ_INT(sdl_replace("traps", "three", NULL, 0), 0);
	T_EQ_INT(sdl_listed(&a), 0);
	T_EQ_INT(sdl_listed(&b), 0);
	sdl_free_all();
}

/* ---- bad arguments ---- */

static void
bad_arguments(void)
{
	struct cidr c = C("192.0.2.0/24"), bad = c;
	struct addr a = A("192.0.2.1"), none;
	char longmsg[SDL_MSG_MAX + 2];

	T_EQ_INT(sdl_replace("good", "m", &c, 1), 0);

	T_EQ_INT(sdl_replace("has space", "m", &c, 1), -1);
	t_expect_log("tag holds a blank");
	T_EQ_INT(sdl_replace("", "m", &c, 1), -1);
	t_expect_log("empty tag");
	T_EQ_INT(sdl_replace("a234567890123456789012345678901234567890"
	    "123456789012345678901234", "m", &c, 1), -1);
	t_expect_log("tag longer than 63 bytes");

	memset(longmsg, 'x', sizeof(longmsg) - 1);
	longmsg[sizeof(longmsg) - 1] = '\0';
	T_EQ_INT(sdl_replace("good", longmsg, NULL, 0), -1);
	t_expect_log("message longer than 2048 bytes");

	bad.plen = 33;
	T_EQ_INT(sdl_replace("good", "m", &bad, 1), -1);
	t_expect_log("entry 0 is not a valid CIDR block");
	bad.a.af = 0;
	bad.plen = 8;
	T_EQ_INT(sdl_replace("good", "m", &bad, 1), -1);

	memset(&none, 0, sizeof(none));
	T_EQ_INT(sdl_addr_add("good", "m", &none), -1);
	t_expect_log("not an IPv4 or IPv6 address");
	T_EQ_INT(sdl_lookup(&none, NULL, 0), 0);
	T_EQ_INT(sdl_listed(&none), 0);

	/* the list is as it was */
	T_EQ_STR(tags_of(&a), "good");
	T_EQ_INT(sdl_count(), 1);
	sdl_free_all();
}

/* ---- replies ---- */

static const struct {
	const char	*msgs[3];
	int		 code;
	const char	*client;
	const char	*want;
} reply_cases[] = {
	{ { "Your address %A is in nixspam", NULL, NULL }, 450, "192.0.2.7",
	    "450 Your address 192.0.2.7 is in nixspam\r\n" },
	{ { "Your address %A is in nixspam\\nSee http://example.org/", NULL,
	    NULL }, 450, "192.0.2.7",
	    "450-Your address 192.0.2.7 is in nixspam\r\n"
	    "450 See http://example.org/\r\n" },
	{ { "first", "second\\nthird", NULL }, 550, "2001:db8::1",
	    "550-first\r\n550-second\r\n550 third\r\n" },
	{ { "100%% sure, \\\"quoted\\\", back\\\\slash", NULL, NULL }, 450,
	    "192.0.2.7", "450 100% sure, \"quoted\", back\\slash\r\n" },
	{ { "odd %x %% %", NULL, NULL }, 450, "192.0.2.7",
	    "450 odd %x % %\r\n" },
	{ { "unknown \\t escape\\", NULL, NULL }, 450, "192.0.2.7",
	    "450 unknown \\t escape\\\r\n" },
	/* empty lines and empty messages add nothing */
	{ { "\\n\\nafter blanks\\n", "", "%A" }, 450, "198.51.100.1",
	    "450-after blanks\r\n450 198.51.100.1\r\n" },
	{ { "", "\\n", NULL }, 550, "203.0.113.5",
	    "550 Your address 203.0.113.5 is listed here\r\n" },
	/* stray control bytes never reach the client */
	{ { "a\rb\tc\x7f" "d\ne", NULL, NULL }, 450, "192.0.2.7",
	    "450-a b c d\r\n450 e\r\n" },
};

static struct sdl_list *
mklist(const char *tag, const char *msg)
{
	struct sdl_list *l[1];
	struct addr a = A("192.0.2.1");

	/* a snapshot obtained the way spamd gets one */
	T_EQ_INT(sdl_addr_add(tag, msg, &a), 0);
	T_EQ_INT(sdl_lookup(&a, l, 1), 1);
	return l[0];
}

static void
replies(void)
{
	struct sdl_list *l[3];
	struct addr a;
	char buf[SMTP_LISTED_REPLY_MAX], tag[32];
	size_t i, j, n, len;

	for (i = 0; i < sizeof(reply_cases) / sizeof(reply_cases[0]); i++) {
		for (n = 0; n < 3 && reply_cases[i].msgs[n] != NULL; n++) {
			snprintf(tag, sizeof(tag), "r%zu", n);
			l[n] = mklist(tag, reply_cases[i].msgs[n]);
			sdl_free_all();
		}
		a = A(reply_cases[i].client);
		len = listed_reply(buf, sizeof(buf), reply_cases[i].code, l, n,
		    &a);
		T_EQ_STR(buf, reply_cases[i].want);
		T_EQ_INT(len, strlen(reply_cases[i].want));
		for (j = 0; j < n; j++)
			sdl_unref(l[j]);
	}
}

static void
reply_truncation(void)
{
	struct sdl_list *l[2];
	struct addr a = A("192.0.2.7");
	char msg[SDL_MSG_MAX], buf[SMTP_LISTED_REPLY_MAX], small[40], want[600];
	const char *ln = "line of about thirty bytes.";
	size_t len, i, lines, ll;
	char *p;

	/* a long line is cut to 506 bytes of text: 512 with code and CRLF */
	memset(msg, 'a', 700);
	msg[700] = '\0';
	l[0] = mklist("long", msg);
	sdl_free_all();
	len = listed_reply(buf, sizeof(buf), 450, l, 1, &a);
	T_EQ_INT(len, SMTP_OUT_LINE_MAX);
	T_EQ_MEM(buf, "450 aaa", 7);
	T_EQ_MEM(buf + len - 3, "a\r\n", 3);
	sdl_unref(l[0]);

	/* ... without splitting a UTF-8 sequence: 505 'a' then "é" */
	memset(msg, 'a', 505);
	strlcpy(msg + 505, "\xc3\xa9tail", sizeof(msg) - 505);
	l[0] = mklist("utf8", msg);
	sdl_free_all();
	len = listed_reply(buf, sizeof(buf), 450, l, 1, &a);
	T_EQ_INT(len, 4 + 505 + 2);
	sdl_unref(l[0]);

	/* too many lines: whole lines are dropped, the last kept ends it */
	msg[0] = '\0';
	for (i = 0; i < 60; i++) {
		strlcat(msg, ln, sizeof(msg));
		strlcat(msg, "\\n", sizeof(msg));
	}
	l[0] = mklist("many", msg);
	sdl_free_all();
	l[1] = mklist("more", "never seen");
	sdl_free_all();
	ll = 4 + strlen(ln) + 2;
	len = listed_reply(buf, 400, 550, l, 2, &a);
	T_EQ_INT(len, 399 / ll * ll);
	for (lines = 0, p = buf; (p = strstr(p, "\r\n")) != NULL; p += 2)
		lines++;
	T_EQ_INT(lines, 399 / ll);
	snprintf(want, sizeof(want), "550 %s\r\n", ln);
	T_ASSERT(strstr(buf, want) == buf + len - ll);
	T_ASSERT(strstr(buf, "550-line of") == buf);
	T_ASSERT(strstr(buf, "never seen") == NULL);
	T_EQ_INT(strlen(buf), len);

	/* a buffer smaller than a line still gives one well-formed line */
	len = listed_reply(small, sizeof(small), 550, l + 1, 1, &a);
	T_EQ_STR(small, "550 never seen\r\n");
	T_EQ_INT(len, 16);
	len = listed_reply(small, 33, 550, l, 1, &a);
	T_EQ_STR(small, "550 line of about thirty bytes\r\n");
	T_EQ_INT(len, 32);

	/* nonsense arguments give an empty reply, not a crash */
	T_EQ_INT(listed_reply(small, 7, 450, l, 1, &a), 0);
	T_EQ_STR(small, "");
	T_EQ_INT(listed_reply(small, sizeof(small), 45, l, 1, &a), 0);
	T_EQ_INT(listed_reply(small, 0, 450, l, 1, &a), 0);
	sdl_unref(l[0]);
	sdl_unref(l[1]);
}

static void
tag_lists(void)
{
	struct sdl_list *l[3];
	char buf[64];

	l[0] = mklist("nixspam", "m");
	sdl_free_all();
	l[1] = mklist("uatraps", "m");
	sdl_free_all();
	l[2] = mklist("spamd-greytrap", "m");
	sdl_free_all();
	T_EQ_INT(sdl_tags(buf, sizeof(buf), l, 3), 30);
	T_EQ_STR(buf, "nixspam uatraps spamd-greytrap");
	T_EQ_INT(sdl_tags(buf, 31, l, 3), 30);
	T_EQ_STR(buf, "nixspam uatraps spamd-greytrap");
	T_EQ_INT(sdl_tags(buf, 30, l, 3), 29);
	T_EQ_STR(buf, "nixspam uatraps spamd-grey...");
	T_EQ_INT(sdl_tags(buf, 16, l, 3), 15);
	T_EQ_STR(buf, "nixspam uatr...");
	T_EQ_INT(sdl_tags(buf, 8, l, 1), 7);
	T_EQ_STR(buf, "nixspam");
	T_EQ_INT(sdl_tags(buf, 7, l, 1), 6);
	T_EQ_STR(buf, "nix...");
	T_EQ_INT(sdl_tags(buf, sizeof(buf), l, 0), 0);
	T_EQ_STR(buf, "");
	T_EQ_INT(sdl_tags(buf, 3, l, 3), 0);
	T_EQ_STR(buf, "");
	sdl_unref(l[0]);
	sdl_unref(l[1]);
	sdl_unref(l[2]);
}

static void
tag_rules(void)
{
	T_ASSERT(sdl_tag_check("nixspam") == NULL);
	T_ASSERT(sdl_tag_check("a-b_c.d") == NULL);
	T_ASSERT(sdl_tag_check(SDL_GREYTRAP_TAG) == NULL);
	T_EQ_STR(sdl_tag_check(""), "empty tag");
	T_ASSERT(sdl_tag_check(NULL) != NULL);
	T_ASSERT(sdl_tag_check("a;b") != NULL);
	T_ASSERT(sdl_tag_check("a\"b") != NULL);
	T_ASSERT(sdl_tag_check("a\tb") != NULL);
	T_ASSERT(sdl_tag_check("caf\xc3\xa9") != NULL);
}

/* spamd -g: does a list hold an address of a network? */
static void
listed_net(void)
{
	struct cidr v[3], n;

	v[0] = C("192.0.2.64/26");
	v[1] = C("198.51.100.7");
	v[2] = C("2001:db8:1::/48");
	T_EQ_INT(sdl_replace("l", "m", v, 3), 0);
	n = C("192.0.2.0/24");
	T_EQ_INT(sdl_listed_net(&n), 1);	/* holds the /26 */
	n = C("192.0.2.0/26");
	T_EQ_INT(sdl_listed_net(&n), 0);	/* just below it */
	n = C("192.0.2.128/25");
	T_EQ_INT(sdl_listed_net(&n), 0);	/* just above it */
	n = C("192.0.2.96/27");
	T_EQ_INT(sdl_listed_net(&n), 1);	/* inside it */
	n = C("198.51.100.0/24");
	T_EQ_INT(sdl_listed_net(&n), 1);	/* one address */
	n = C("198.51.101.0/24");
	T_EQ_INT(sdl_listed_net(&n), 0);
	n = C("2001:db8::/32");
	T_EQ_INT(sdl_listed_net(&n), 1);
	n = C("2001:db8:1:2::/64");
	T_EQ_INT(sdl_listed_net(&n), 1);
	n = C("2001:db8:2::/64");
	T_EQ_INT(sdl_listed_net(&n), 0);
	T_EQ_INT(sdl_clear("l"), 0);
	n = C("192.0.2.0/24");
	T_EQ_INT(sdl_listed_net(&n), 0);
	sdl_free_all();
}

const struct t_case t_cases[] = {
	T_CASE(listed_net),
	T_CASE(random_v4),
	T_CASE(random_v6),
	T_CASE(random_v4_steps),
	T_CASE(random_v6_steps),
	T_CASE(build_keeps_old_until_commit),
	T_CASE(index_v4),
	T_CASE(index_v6),
	T_CASE(mixed_families),
	T_CASE(edges),
	T_CASE(merge_in_list),
	T_CASE(list_order),
	T_CASE(lookup_max),
	T_CASE(refs_survive_changes),
	T_CASE(greytrap_add_del),
	T_CASE(greytrap_msg_and_replace),
	T_CASE(bad_arguments),
	T_CASE(replies),
	T_CASE(reply_truncation),
	T_CASE(tag_lists),
	T_CASE(tag_rules),
	{ NULL, NULL },
};
