/*
 * sdl.c: spamd's in-memory blacklists (see sdl.h for the interface).
 *
 * Layout. Each list slot holds
 *   - a snapshot (struct sdl_list: reference count, tag, raw message) that
 *     connections may keep after the list changes;
 *   - per family, the list's CIDR blocks turned into sorted, disjoint,
 *     non-adjacent ranges [lo, hi], stored as two arrays so the binary
 *     search walks only the dense `lo' array; a bucket index over the span
 *     of the starts narrows the search to a handful of entries;
 *   - a small open-addressing hash set of single addresses, which the
 *     greytrap list grows and shrinks one trap at a time without
 *     rebuilding the ranges.
 *
 * Why ranges and not a trie: membership in one list is boolean, so the
 * blocks of a list collapse into disjoint ranges, which are compact (8 bytes
 * per IPv4 range, 32 per IPv6 range) and are built with one sort; a
 * replace of a 1M-block list takes a fraction of a second and frees the old
 * arrays at once. Lists are searched one after another because every
 * matching list must be reported in list order; deployments have a handful
 * of lists. Measurements are in bench/sdlbench.c's header.
 *
 * One range-set implementation serves both families: a key is w 32-bit
 * words, most significant first (w = 1 for IPv4, 4 for IPv6), so the
 * IPv4 arrays stay as small as a typed uint32_t copy would make them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/addr.h"
#include "common/cfg.h"
#include "common/compat.h"
#include "common/log.h"
#include "spamd/sdl.h"

#define INDEX_MIN	64	/* smaller sets are searched without index */
#define INDEX_BITS_MAX	20	/* at most 4 MiB of index per set */

struct sdl_list {
	unsigned long	refs;
	char		tag[SDL_TAG_MAX + 1];
	char		msg[];
};

#define KEY_WORDS_MAX	4	/* an IPv6 key */

/* The two families, in the order of the per-family arrays below. */
enum fam { FAM4, FAM6, NFAM };

static const unsigned int fam_words[NFAM] = { 1, 4 };

struct rset {
	uint32_t	*lo, *hi;	/* n sorted disjoint ranges, w words each */
	size_t		 n;
	uint32_t	*idx;		/* nb + 1 entries, or NULL */
	uint64_t	 base;		/* the top 64 bits of lo[0] */
	unsigned int	 w, shift, nb;
};

struct hent {
	uint8_t		af;		/* 0: empty */
	uint8_t		b[16];		/* unused bytes zero */
};

struct hostset {
	struct hent	*t;
	size_t		 cap;		/* power of two, or 0 */
	size_t		 n;
};

struct slot {
	struct sdl_list	*cur;
	struct rset	 set[NFAM];
	struct hostset	 hosts;
};

static struct slot	*slots;
static size_t		 nslots, slotcap;

const char *
sdl_tag_check(const char *tag)
{
	return cfg_tag_syntax(tag);
}

/* ---- snapshots ---- */

static struct sdl_list *
list_new(const char *tag, const char *msg)
{
	struct sdl_list *l;
	size_t mlen = strlen(msg);

	if ((l = malloc(sizeof(*l) + mlen + 1)) == NULL)
		return NULL;
	l->refs = 1;
	strlcpy(l->tag, tag, sizeof(l->tag));
	memcpy(l->msg, msg, mlen + 1);
	return l;
}

void
sdl_ref(struct sdl_list *l)
{
	l->refs++;
}

void
sdl_unref(struct sdl_list *l)
{
	if (l == NULL)
		return;
	if (l->refs == 0)
		fatalx("%s: list %s has no reference left", __func__, l->tag);
	if (--l->refs == 0)
		free(l);
}

const char *
sdl_tag(const struct sdl_list *l)
{
	return l->tag;
}

const char *
sdl_msg(const struct sdl_list *l)
{
	return l->msg;
}

/* ---- ranges over keys of w words ---- */

static inline int
key_cmp(const uint32_t *a, const uint32_t *b, unsigned int w)
{
	unsigned int i;

	if (w == 1)	/* the common case, without the loop */
		return a[0] < b[0] ? -1 : a[0] > b[0];
	for (i = 0; i < w; i++)
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	return 0;
}

/* The key after k in next; 0 when k is the largest key. */
static int
key_next(const uint32_t *k, uint32_t *next, unsigned int w)
{
	unsigned int i = w;

	memcpy(next, k, w * sizeof(*k));
	while (i-- > 0)
		if (++next[i] != 0)
			return 1;
	return 0;
}

/* The bits the bucket index is built on: all of an IPv4 key, the top 64
 * of an IPv6 key. */
static inline uint64_t
key_top(const uint32_t *k, unsigned int w)
{
	return w == 1 ? k[0] : (uint64_t)k[0] << 32 | k[1];
}

static void
key_of(const struct addr *a, uint32_t *k)
{
	unsigned int i;

	if (a->af == AF_INET) {
		k[0] = ntohl(a->u.v4.s_addr);
		return;
	}
	for (i = 0; i < 4; i++)
		k[i] = (uint32_t)a->u.b[4 * i] << 24 |
		    (uint32_t)a->u.b[4 * i + 1] << 16 |
		    (uint32_t)a->u.b[4 * i + 2] << 8 | a->u.b[4 * i + 3];
}

/* Elements being sorted: a range as lo then hi, 2w words. */
static int
range1_cmp(const void *a, const void *b)
{
	return key_cmp(a, b, 1);
}

static int
range4_cmp(const void *a, const void *b)
{
	return key_cmp(a, b, 4);
}

static unsigned int
index_bits(size_t n)
{
	unsigned int bits = 0;

	/* about two ranges per bucket */
	while (bits < INDEX_BITS_MAX && ((size_t)1 << (bits + 1)) < n)
		bits++;
	return bits;
}

static void
rset_free(struct rset *s)
{
	unsigned int w = s->w;

	free(s->lo);
	free(s->hi);
	free(s->idx);
	memset(s, 0, sizeof(*s));
	s->w = w;
}

/* Merge and index the n ranges r (2w words each, sorted by lo); r is
 * consumed. */
static int
rset_build(struct rset *s, unsigned int w, uint32_t *r, size_t n)
{
	uint32_t next[KEY_WORDS_MAX], *o, *x;
	size_t i, no, b, rw = 2 * (size_t)w;
	uint64_t span;

	memset(s, 0, sizeof(*s));
	s->w = w;
	if (n == 0)
		return 0;
	for (i = 1, no = 0; i < n; i++) {
		o = r + no * rw;
		x = r + i * rw;
		/* x starts inside o or right after it: one range */
		if (!key_next(o + w, next, w) || key_cmp(x, next, w) <= 0) {
			if (key_cmp(x + w, o + w, w) > 0)
				memcpy(o + w, x + w, w * sizeof(*x));
		} else
			memcpy(r + ++no * rw, x, rw * sizeof(*x));
	}
	n = no + 1;
	s->lo = calloc(n, w * sizeof(*s->lo));
	s->hi = calloc(n, w * sizeof(*s->hi));
	if (s->lo == NULL || s->hi == NULL)
		goto fail;
	for (i = 0; i < n; i++) {
		memcpy(s->lo + i * w, r + i * rw, w * sizeof(*r));
		memcpy(s->hi + i * w, r + i * rw + w, w * sizeof(*r));
	}
	s->n = n;
	s->base = key_top(s->lo, w);
	if (n < INDEX_MIN)
		return 0;
	s->nb = 1U << index_bits(n);
	span = key_top(s->lo + (n - 1) * w, w) - s->base;
	while (s->shift < 64 && (span >> s->shift) >= s->nb)
		s->shift++;
	if ((s->idx = calloc(s->nb + 1, sizeof(*s->idx))) == NULL)
		goto fail;
	/* idx[b] = first range whose start falls in bucket b or later */
	for (b = 0, i = 0; b <= s->nb; b++) {
		while (i < n &&
		    ((key_top(s->lo + i * w, w) - s->base) >> s->shift) < b)
			i++;
		s->idx[b] = (uint32_t)i;
	}
	return 0;
fail:
	rset_free(s);
	errno = ENOMEM;
	return -1;
}

/* Called with a constant w, so the compiler makes one copy per family. */
static inline int
rset_has_w(const struct rset *s, const uint32_t *x, unsigned int w)
{
	size_t l, r, m;
	uint64_t top, b;

	if (s->n == 0 || (top = key_top(x, w)) < s->base)
		return 0;
	if (s->idx != NULL) {
		b = (top - s->base) >> s->shift;
		if (b >= s->nb)
			b = s->nb - 1;
		l = s->idx[b];
		r = s->idx[b + 1];
	} else {
		l = 0;
		r = s->n;
	}
	/* first range starting above x; the one before may hold x */
	while (l < r) {
		m = l + (r - l) / 2;
		if (key_cmp(s->lo + m * w, x, w) <= 0)
			l = m + 1;
		else
			r = m;
	}
	return l > 0 && key_cmp(x, s->hi + (l - 1) * w, w) <= 0;
}

static int
rset_has(const struct rset *s, const uint32_t *x)
{
	return s->w == 1 ? rset_has_w(s, x, 1) : rset_has_w(s, x, 4);
}

/*
 * Does a range meet [first, last]? The ranges are sorted and disjoint,
 * so only the last one starting at or below `last' can.
 */
static int
rset_meets(const struct rset *s, const uint32_t *first, const uint32_t *last)
{
	unsigned int w = s->w;
	size_t l = 0, r = s->n, m;

	while (l < r) {
		m = l + (r - l) / 2;
		if (key_cmp(s->lo + m * w, last, w) <= 0)
			l = m + 1;
		else
			r = m;
	}
	return l > 0 && key_cmp(first, s->hi + (l - 1) * w, w) <= 0;
}

/* ---- single addresses ---- */

static void
hent_set(struct hent *e, const struct addr *a)
{
	memset(e, 0, sizeof(*e));
	e->af = a->af;
	memcpy(e->b, a->u.b, addr_len(a));
}

static size_t
hent_hash(const struct hent *e)
{
	uint64_t w0, w1, h;

	memcpy(&w0, e->b, 8);
	memcpy(&w1, e->b + 8, 8);
	/* splitmix64 finaliser over both halves */
	h = w0 ^ (w1 * 0x9e3779b97f4a7c15ULL) ^ e->af;
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return (size_t)h;
}

/* The slot holding e, or the empty slot where it would go. */
static size_t
hostset_find(const struct hostset *h, const struct hent *e)
{
	size_t mask = h->cap - 1, i = hent_hash(e) & mask;

	while (h->t[i].af != 0 && memcmp(&h->t[i], e, sizeof(*e)) != 0)
		i = (i + 1) & mask;
	return i;
}

static int
hostset_has(const struct hostset *h, const struct addr *a)
{
	struct hent e;

	if (h->n == 0)
		return 0;
	hent_set(&e, a);
	return h->t[hostset_find(h, &e)].af != 0;
}

/* Rehash into ncap slots (a power of two above 2n). */
static int
hostset_resize(struct hostset *h, size_t ncap)
{
	struct hostset nh;
	size_t i;

	nh.cap = ncap;
	nh.n = h->n;
	if ((nh.t = calloc(nh.cap, sizeof(*nh.t))) == NULL)
		return -1;
	for (i = 0; i < h->cap; i++) {
		if (h->t[i].af != 0)
			nh.t[hostset_find(&nh, &h->t[i])] = h->t[i];
	}
	free(h->t);
	*h = nh;
	return 0;
}

/* 0 added, 1 already present, -1 out of memory */
static int
hostset_add(struct hostset *h, const struct addr *a)
{
	struct hent e;
	size_t i;

	if ((h->n + 1) * 2 > h->cap &&
	    hostset_resize(h, h->cap == 0 ? 16 : h->cap * 2) == -1)
		return -1;
	hent_set(&e, a);
	i = hostset_find(h, &e);
	if (h->t[i].af != 0)
		return 1;
	h->t[i] = e;
	h->n++;
	return 0;
}

/* 0 removed, 1 absent. Backward-shift deletion keeps probes tombstone-free. */
static int
hostset_del(struct hostset *h, const struct addr *a)
{
	struct hent e;
	size_t i, j, k, mask;

	if (h->n == 0)
		return 1;
	hent_set(&e, a);
	i = hostset_find(h, &e);
	if (h->t[i].af == 0)
		return 1;
	mask = h->cap - 1;
	for (j = i;;) {
		j = (j + 1) & mask;
		if (h->t[j].af == 0)
			break;
		k = hent_hash(&h->t[j]) & mask;
		/* leave t[j] alone if its home lies cyclically in (i, j] */
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		h->t[i] = h->t[j];
		i = j;
	}
	memset(&h->t[i], 0, sizeof(h->t[i]));
	h->n--;
	/* give memory back once traps have expired; failure is harmless */
	if (h->cap > 64 && h->n * 8 < h->cap)
		(void)hostset_resize(h, h->cap / 2);
	return 0;
}

static void
hostset_free(struct hostset *h)
{
	free(h->t);
	memset(h, 0, sizeof(*h));
}

/* ---- slots ---- */

static struct slot *
slot_find(const char *tag)
{
	size_t i;

	for (i = 0; i < nslots; i++) {
		if (strcmp(slots[i].cur->tag, tag) == 0)
			return &slots[i];
	}
	return NULL;
}

/* Append a slot holding snapshot l (ownership passes to the slot). */
static struct slot *
slot_append(struct sdl_list *l)
{
	struct slot *ns;
	size_t ncap;

	if (nslots == slotcap) {
		ncap = slotcap == 0 ? 8 : slotcap * 2;
		if ((ns = reallocarray(slots, ncap, sizeof(*ns))) == NULL)
			return NULL;
		slots = ns;
		slotcap = ncap;
	}
	memset(&slots[nslots], 0, sizeof(slots[nslots]));
	slots[nslots].cur = l;
	return &slots[nslots++];
}

/* Publish a new snapshot; holders of the old one keep it. */
static void
slot_publish(struct slot *s, struct sdl_list *l)
{
	sdl_unref(s->cur);
	s->cur = l;
}

static int
check_args(const char *fn, const char *tag, const char *msg)
{
	const char *why;

	if ((why = sdl_tag_check(tag)) != NULL) {
		log_warnx("%s: list \"%.*s\": %s", fn, SDL_TAG_MAX,
		    tag == NULL ? "" : tag, why);
		errno = EINVAL;
		return -1;
	}
	if (msg != NULL && strlen(msg) > SDL_MSG_MAX) {
		log_warnx("%s: list %s: message longer than %d bytes", fn,
		    tag, SDL_MSG_MAX);
		errno = EINVAL;
		return -1;
	}
	return 0;
}

/* ---- sorting in bounded steps ---- */

/*
 * A bottom-up merge sort that can stop after a given amount of work and
 * resume: insertion-sorted runs of RUN elements, then merge passes that
 * double the run width, ping-ponging between the data and a scratch
 * array of the same size. Stable, O(n log n), no recursion, and no qsort
 * (glibc's qsort asks sysinfo(2) for the memory size, which the SMTP
 * process's seccomp filter forbids).
 */
#define RUN		32
#define ELEM_MAX	(2 * KEY_WORDS_MAX * 4)	/* bytes in an IPv6 range */

typedef int (*cmp_fn)(const void *, const void *);

struct msort {
	char		*a, *t;		/* data, scratch */
	size_t		 n, es;
	cmp_fn		 cmp;
	size_t		 w;		/* run width; 0 while making runs */
	size_t		 pos;		/* next run or pair to start */
	size_t		 i, j, k, mid, hi;	/* the pair being merged */
	int		 inpair;
};

static void
msort_init(struct msort *m, void *a, void *t, size_t n, size_t es, cmp_fn cmp)
{
	*m = (struct msort){ .a = a, .t = t, .n = n, .es = es, .cmp = cmp };
}

/* Do about budget element moves; 1 when sorted (the result is m->a). */
static int
msort_step(struct msort *m, size_t budget)
{
	char tmp[ELEM_MAX], *p, *sw;
	size_t es = m->es, e, x, y, rest;

	while (m->w == 0) {
		if (m->pos >= m->n) {
			m->w = RUN;
			m->pos = 0;
			break;
		}
		if (budget == 0)
			return 0;
		e = m->pos + RUN < m->n ? m->pos + RUN : m->n;
		for (x = m->pos + 1; x < e; x++) {
			memcpy(tmp, m->a + x * es, es);
			for (y = x; y > m->pos &&
			    m->cmp(m->a + (y - 1) * es, tmp) > 0; y--)
				memcpy(m->a + y * es, m->a + (y - 1) * es, es);
			memcpy(m->a + y * es, tmp, es);
		}
		budget = budget > RUN ? budget - RUN : 0;
		m->pos = e;
	}
	while (m->w < m->n) {
		if (!m->inpair) {
			if (m->pos >= m->n) {
				sw = m->a;
				m->a = m->t;
				m->t = sw;
				m->w *= 2;
				m->pos = 0;
				continue;
			}
			m->i = m->k = m->pos;
			m->mid = m->j = m->pos + m->w < m->n ?
			    m->pos + m->w : m->n;
			m->hi = m->mid + m->w < m->n ? m->mid + m->w : m->n;
			m->inpair = 1;
		}
		while (m->k < m->hi) {
			if (budget == 0)
				return 0;
			if (m->i == m->mid || m->j == m->hi) {
				/* one side is used up: copy the other */
				x = m->i < m->mid ? m->i : m->j;
				rest = m->hi - m->k;
				memcpy(m->t + m->k * es, m->a + x * es,
				    rest * es);
				m->k = m->hi;
				budget = budget > rest ? budget - rest : 0;
				break;
			}
			if (m->cmp(m->a + m->i * es, m->a + m->j * es) <= 0)
				p = m->a + m->i++ * es;
			else
				p = m->a + m->j++ * es;
			memcpy(m->t + m->k++ * es, p, es);
			budget--;
		}
		m->inpair = 0;
		m->pos = m->hi;
	}
	return 1;
}

/* ---- building a list in steps ---- */

enum build_phase {
	BUILD_CONVERT,		/* blocks to ranges */
	BUILD_SORT,		/* the IPv4 ranges, then the IPv6 ones */
	BUILD_INDEX,		/* merge ranges, build the index */
	BUILD_DONE
};

struct sdl_build {
	char		 tag[SDL_TAG_MAX + 1];
	char		*msg;
	const struct cidr *v;
	size_t		 n, conv;
	uint32_t	*r[NFAM], *t[NFAM];	/* ranges, scratch */
	size_t		 nr[NFAM];
	struct msort	 m[NFAM];
	enum fam	 sorting;
	enum build_phase phase;
	struct rset	 s[NFAM];
};

static const cmp_fn fam_cmp[NFAM] = { range1_cmp, range4_cmp };

static void
build_free_ranges(struct sdl_build *b)
{
	int f;

	for (f = 0; f < NFAM; f++) {
		free(b->r[f]);
		free(b->t[f]);
		b->r[f] = b->t[f] = NULL;
	}
}

void
sdl_build_free(struct sdl_build *b)
{
	if (b == NULL)
		return;
	free(b->msg);
	build_free_ranges(b);
	rset_free(&b->s[FAM4]);
	rset_free(&b->s[FAM6]);
	free(b);
}

struct sdl_build *
sdl_build_new(const char *tag, const char *msg, const struct cidr *v,
    size_t n)
{
	struct sdl_build *b;
	size_t i, n4 = 0, n6 = 0, cnt[NFAM], rb;
	int f;

	if (msg == NULL)
		msg = "";
	if (check_args("sdl_replace", tag, msg) == -1)
		return NULL;
	for (i = 0; i < n; i++) {
		if ((v[i].a.af == AF_INET && v[i].plen <= 32))
			n4++;
		else if (v[i].a.af == AF_INET6 && v[i].plen <= 128)
			n6++;
		else {
			log_warnx("sdl_replace: list %s: entry %zu is not a "
			    "valid CIDR block", tag, i);
			errno = EINVAL;
			return NULL;
		}
	}
	if ((b = calloc(1, sizeof(*b))) == NULL)
		goto nomem;
	strlcpy(b->tag, tag, sizeof(b->tag));
	b->v = v;
	b->n = n;
	if ((b->msg = strdup(msg)) == NULL)
		goto nomem;
	cnt[FAM4] = n4;
	cnt[FAM6] = n6;
	for (f = 0; f < NFAM; f++) {
		rb = 2 * fam_words[f] * sizeof(uint32_t);
		if (cnt[f] > 0 && ((b->r[f] = calloc(cnt[f], rb)) == NULL ||
		    (b->t[f] = calloc(cnt[f], rb)) == NULL))
			goto nomem;
	}
	return b;
nomem:
	log_warnx("sdl_replace: list %s: out of memory for %zu blocks; list "
	    "left unchanged", tag, n);
	sdl_build_free(b);
	errno = ENOMEM;
	return NULL;
}

int
sdl_build_step(struct sdl_build *b, size_t budget)
{
	struct addr first, last;
	const struct cidr *c;
	uint32_t *e;
	unsigned int w;
	int f;

	switch (b->phase) {
	case BUILD_CONVERT:
		for (; b->conv < b->n && budget > 0; b->conv++, budget--) {
			c = &b->v[b->conv];
			f = c->a.af == AF_INET ? FAM4 : FAM6;
			w = fam_words[f];
			e = b->r[f] + b->nr[f]++ * 2 * w;
			cidr_first(c, &first);
			cidr_last(c, &last);
			key_of(&first, e);
			key_of(&last, e + w);
		}
		if (b->conv < b->n)
			return 0;
		b->v = NULL;
		for (f = 0; f < NFAM; f++)
			msort_init(&b->m[f], b->r[f], b->t[f], b->nr[f],
			    2 * fam_words[f] * sizeof(uint32_t), fam_cmp[f]);
		b->sorting = FAM4;
		b->phase = BUILD_SORT;
		return 0;
	case BUILD_SORT:
		if (msort_step(&b->m[b->sorting], budget) &&
		    ++b->sorting == NFAM)
			b->phase = BUILD_INDEX;
		return 0;
	case BUILD_INDEX:
		/* linear in the number of blocks: one step */
		for (f = 0; f < NFAM; f++) {
			if (rset_build(&b->s[f], fam_words[f],
			    (uint32_t *)(void *)b->m[f].a, b->nr[f]) == -1) {
				log_warnx("sdl_replace: list %s: out of memory "
				    "for %zu blocks; list left unchanged",
				    b->tag, b->n);
				errno = ENOMEM;
				return -1;
			}
		}
		build_free_ranges(b);
		b->phase = BUILD_DONE;
		return 1;
	case BUILD_DONE:
		return 1;
	}
	return -1;
}

int
sdl_build_converted(const struct sdl_build *b)
{
	return b->phase > BUILD_CONVERT;
}

int
sdl_build_commit(struct sdl_build *b)
{
	struct sdl_list *l;
	struct slot *s;

	if (b->phase != BUILD_DONE)
		fatalx("%s: list %s is not built yet", __func__, b->tag);
	if ((l = list_new(b->tag, b->msg)) == NULL)
		goto nomem;
	if ((s = slot_find(b->tag)) == NULL) {
		if ((s = slot_append(l)) == NULL) {
			free(l);
			goto nomem;
		}
	} else {
		slot_publish(s, l);
		rset_free(&s->set[FAM4]);
		rset_free(&s->set[FAM6]);
		hostset_free(&s->hosts);
	}
	memcpy(s->set, b->s, sizeof(s->set));
	memset(b->s, 0, sizeof(b->s));
	return 0;
nomem:
	log_warnx("sdl_replace: list %s: out of memory for %zu blocks; list "
	    "left unchanged", b->tag, b->n);
	errno = ENOMEM;
	return -1;
}

int
sdl_replace(const char *tag, const char *msg, const struct cidr *v, size_t n)
{
	struct sdl_build *b;
	int rc;

	if ((b = sdl_build_new(tag, msg, v, n)) == NULL)
		return -1;
	while ((rc = sdl_build_step(b, SIZE_MAX)) == 0)
		;
	if (rc == 1)
		rc = sdl_build_commit(b);
	sdl_build_free(b);
	return rc;
}

int
sdl_clear(const char *tag)
{
	struct slot *s;
	struct sdl_list *l;

	if (check_args(__func__, tag, NULL) == -1)
		return -1;
	if ((s = slot_find(tag)) == NULL)
		return 1;
	if ((l = list_new(tag, "")) == NULL) {
		log_warnx("%s: list %s: out of memory", __func__, tag);
		errno = ENOMEM;
		return -1;
	}
	slot_publish(s, l);
	rset_free(&s->set[FAM4]);
	rset_free(&s->set[FAM6]);
	hostset_free(&s->hosts);
	return 0;
}

int
sdl_addr_add(const char *tag, const char *msg, const struct addr *a)
{
	struct slot *s;
	struct sdl_list *l = NULL;
	int rc;

	if (msg == NULL)
		msg = "";
	if (check_args(__func__, tag, msg) == -1)
		return -1;
	if (a->af != AF_INET && a->af != AF_INET6) {
		log_warnx("%s: list %s: not an IPv4 or IPv6 address",
		    __func__, tag);
		errno = EINVAL;
		return -1;
	}
	s = slot_find(tag);
	if (s == NULL || strcmp(s->cur->msg, msg) != 0) {
		if ((l = list_new(tag, msg)) == NULL)
			goto nomem;
		if (s == NULL) {
			if ((s = slot_append(l)) == NULL) {
				free(l);
				goto nomem;
			}
		} else
			slot_publish(s, l);
	}
	if ((rc = hostset_add(&s->hosts, a)) == -1)
		goto nomem;
	return rc;
nomem:
	log_warnx("%s: list %s: out of memory", __func__, tag);
	errno = ENOMEM;
	return -1;
}

int
sdl_addr_del(const char *tag, const struct addr *a)
{
	struct slot *s;

	if (tag == NULL || (s = slot_find(tag)) == NULL)
		return 1;
	return hostset_del(&s->hosts, a);
}

static int
slot_has(const struct slot *s, const struct addr *a, const uint32_t *k)
{
	return rset_has(&s->set[a->af == AF_INET ? FAM4 : FAM6], k) ||
	    hostset_has(&s->hosts, a);
}

size_t
sdl_lookup(const struct addr *a, struct sdl_list **out, size_t max)
{
	uint32_t k[KEY_WORDS_MAX];
	size_t i, n = 0;

	if (a->af != AF_INET && a->af != AF_INET6)
		return 0;
	key_of(a, k);
	for (i = 0; i < nslots && n < max; i++) {
		if (slot_has(&slots[i], a, k)) {
			sdl_ref(slots[i].cur);
			out[n++] = slots[i].cur;
		}
	}
	return n;
}

int
sdl_listed(const struct addr *a)
{
	uint32_t k[KEY_WORDS_MAX];
	size_t i;

	if (a->af != AF_INET && a->af != AF_INET6)
		return 0;
	key_of(a, k);
	for (i = 0; i < nslots; i++) {
		if (slot_has(&slots[i], a, k))
			return 1;
	}
	return 0;
}

int
sdl_listed_net(const struct cidr *c)
{
	uint32_t f[KEY_WORDS_MAX], l[KEY_WORDS_MAX];
	struct addr a;
	size_t i;

	if (c->a.af != AF_INET && c->a.af != AF_INET6)
		return 0;
	cidr_first(c, &a);
	key_of(&a, f);
	cidr_last(c, &a);
	key_of(&a, l);
	for (i = 0; i < nslots; i++)
		if (rset_meets(&slots[i].set[c->a.af == AF_INET ? FAM4 :
		    FAM6], f, l))
			return 1;
	return 0;
}

size_t
sdl_count(void)
{
	return nslots;
}

int
sdl_info(size_t i, struct sdl_info *info)
{
	if (i >= nslots)
		return -1;
	info->tag = slots[i].cur->tag;
	info->ranges4 = slots[i].set[FAM4].n;
	info->ranges6 = slots[i].set[FAM6].n;
	info->hosts = slots[i].hosts.n;
	return 0;
}

void
sdl_free_all(void)
{
	size_t i;

	for (i = 0; i < nslots; i++) {
		sdl_unref(slots[i].cur);
		rset_free(&slots[i].set[FAM4]);
		rset_free(&slots[i].set[FAM6]);
		hostset_free(&slots[i].hosts);
	}
	free(slots);
	slots = NULL;
	nslots = slotcap = 0;
}

size_t
sdl_tags(char *buf, size_t size, struct sdl_list *const *l, size_t n)
{
	size_t i, want = 0;

	if (size == 0)
		return 0;
	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		want += strlen(l[i]->tag) + (i > 0);
		if (i > 0)
			strlcat(buf, " ", size);
		strlcat(buf, l[i]->tag, size);
	}
	if (want < size)
		return want;
	/* cut: the last three bytes that fit become "..." */
	if (size < 4) {
		buf[0] = '\0';
		return 0;
	}
	memcpy(buf + size - 4, "...", 4);
	return size - 1;
}
