/*
 * spfwalk.c: the :spfwalk: lists of spamd-setup, from the domain files
 * to the nft sets spamd_spf and spamd_spf6 (see spfwalk.h).
 *
 * One run: read every list (any one unreadable: stop, touch nothing),
 * walk each domain once, decide per domain between this walk and the
 * last good one of the state file, write the new state, merge, and
 * replace each set in one batch (nft_replace: flush + add, so no listed
 * sender is ever missing during the reload). With -n the same elements
 * are printed as nft commands, each with the domains it comes from, and
 * nothing is written.
 */
#include <sys/types.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/addr.h"
#include "common/clock.h"
#include "common/compat.h"
#include "common/log.h"
#include "common/pathnames.h"
#include "common/util.h"
#include "nft/nft.h"
#include "spamd-setup/dns.h"
#include "spamd-setup/fetch.h"
#include "spamd-setup/iprange.h"
#include "spamd-setup/spf.h"
#include "spamd-setup/spfstate.h"
#include "spamd-setup/spfwalk.h"

/* after <netinet/in.h>, which it must not redefine */
#include <linux/netfilter.h>

size_t
spfwalk_domains(const char *buf, size_t len, const char *list,
    char ***names, size_t *n)
{
	char line[IPRANGE_LINE_MAX + 1], name[SPF_NAME_MAX + 1], *tok, *p;
	const char *nl;
	size_t i, lineno = 0, bad = 0, l, off = 0;
	int dup;

	while (off < len) {
		nl = memchr(buf + off, '\n', len - off);
		l = nl != NULL ? (size_t)(nl - (buf + off)) : len - off;
		lineno++;
		if (l > IPRANGE_LINE_MAX || memchr(buf + off, '\0', l) !=
		    NULL) {
			log_warnx("list %s, line %zu: too long or not text",
			    list, lineno);
			bad++;
			off += l + 1;
			continue;
		}
		memcpy(line, buf + off, l);
		line[l] = '\0';
		off += l + 1;
		if ((p = strchr(line, '#')) != NULL)
			*p = '\0';
		p = line;
		tok = strsep(&p, " \t\r");
		while (tok != NULL && *tok == '\0')
			tok = strsep(&p, " \t\r");
		if (tok == NULL)
			continue;
		if (p != NULL && p[strspn(p, " \t\r")] != '\0') {
			log_warnx("list %s, line %zu: one domain per line: "
			    "\"%s\" and more", list, lineno, tok);
			bad++;
			continue;
		}
		if (spf_name(tok, name, sizeof(name)) == -1) {
			log_warnx("list %s, line %zu: not a domain name: "
			    "\"%s\"", list, lineno, tok);
			bad++;
			continue;
		}
		for (dup = 0, i = 0; i < *n && !dup; i++)
			dup = strcmp((*names)[i], name) == 0;
		if (dup)
			continue;
		if (*n >= SPFWALK_MAX_DOMAINS) {
			log_warnx("list %s, line %zu: more than %d domains in "
			    "all: the rest is ignored", list, lineno,
			    SPFWALK_MAX_DOMAINS);
			bad++;
			break;
		}
		*names = xreallocarray(*names, *n + 1, sizeof(**names));
		(*names)[(*n)++] = xstrdup(name);
	}
	return bad;
}

static void
add_cidrs(struct iprange_set *s, const struct cidr *v, size_t n)
{
	struct addr lo, hi;
	size_t i;

	for (i = 0; i < n; i++) {
		cidr_first(&v[i], &lo);
		cidr_last(&v[i], &hi);
		iprange_add(s, &lo, &hi);
	}
}

static int
elem_cmp(const void *a, const void *b)
{
	const struct nft_elem *x = a, *y = b;

	return addr_cmp(&x->a, &y->a);
}

size_t
spfwalk_merge(const struct spfwalk_src *src, size_t nsrc,
    uint64_t timeout_ms, struct nft_elem **elp)
{
	struct iprange_set covered, cls, all;
	struct nft_elem *el = NULL;
	struct cidr *v;
	uint64_t exp, next;
	size_t i, k, nv, n = 0;
	int first = 1;

	iprange_init(&covered);
	/* expiry classes, latest first: 0 (full), then descending */
	for (exp = 0;;) {
		iprange_init(&cls);
		for (i = 0; i < nsrc; i++) {
			if (src[i].expires_ms == exp)
				add_cidrs(&cls, src[i].v, src[i].n);
		}
		iprange_normalize(&cls);
		iprange_init(&all);
		iprange_add_set(&all, &cls);
		iprange_subtract(&cls, &covered);
		nv = iprange_to_cidrs(&cls, &v);
		el = xreallocarray(el, n + nv + 1, sizeof(*el));
		for (k = 0; k < nv; k++) {
			memset(&el[n], 0, sizeof(el[n]));
			el[n].a = v[k].a;
			el[n].plen = v[k].plen;
			el[n].timeout_ms = timeout_ms;
			el[n].expires_ms = exp;
			n++;
		}
		free(v);
		iprange_free(&cls);
		iprange_add_set(&covered, &all);
		iprange_normalize(&covered);
		iprange_free(&all);
		/* the next class: the largest expiry below this one */
		for (next = 0, i = 0; i < nsrc; i++) {
			if ((first || src[i].expires_ms < exp) &&
			    src[i].expires_ms > next)
				next = src[i].expires_ms;
		}
		if (next == 0)
			break;
		exp = next;
		first = 0;
	}
	iprange_free(&covered);
	if (n == 0) {
		free(el);
		el = NULL;
	} else
		qsort(el, n, sizeof(*el), elem_cmp);
	*elp = el;
	return n;
}

/* Does the block of e share an address with c? */
static int
overlaps(const struct nft_elem *e, const struct cidr *c)
{
	struct cidr ec = { e->a, e->plen };
	struct addr lo1, hi1, lo2, hi2;

	if (e->a.af != c->a.af)
		return 0;
	cidr_first(&ec, &lo1);
	cidr_last(&ec, &hi1);
	cidr_first(c, &lo2);
	cidr_last(c, &hi2);
	return addr_cmp(&lo1, &hi2) <= 0 && addr_cmp(&lo2, &hi1) <= 0;
}

/* -n: the nft commands, each element with the domains it comes from. */
static void
print_set(const char *set, int af, const struct nft_elem *el, size_t n,
    const struct spfwalk_src *src, size_t nsrc)
{
	char c[CIDR_STRLEN], t1[32], t2[32];
	struct cidr ec;
	size_t i, k, j;
	int any;

	printf("flush set inet %s %s\n", NFT_TABLE, set);
	for (i = 0; i < n; i++) {
		if (el[i].a.af != af)
			continue;
		ec.a = el[i].a;
		ec.plen = el[i].plen;
		util_fmt_time((int64_t)(el[i].timeout_ms / 1000), t1,
		    sizeof(t1));
		printf("add element inet %s %s { %s timeout %s", NFT_TABLE, set,
		    cidr_ntop(&ec, c, sizeof(c)), t1);
		if (el[i].expires_ms != 0)
			printf(" expires %s", util_fmt_time((int64_t)
			    (el[i].expires_ms + 999) / 1000, t2, sizeof(t2)));
		printf(" }\t#");
		for (any = 0, k = 0; k < nsrc; k++) {
			for (j = 0; j < src[k].n; j++) {
				if (overlaps(&el[i], &src[k].v[j]))
					break;
			}
			if (j < src[k].n)
				printf("%s %s", any++ ? "," : "", src[k].name);
		}
		printf("\n");
	}
}

/* Replace one set; 0, or -1 after a warning. */
static int
replace(struct nft *nft, const char *name, int af, const struct nft_elem *el,
    size_t n)
{
	struct nft_set set = { NFT_TABLE, name, NFPROTO_INET, (uint8_t)af, 1 };
	struct nft_elem *sub;
	size_t i, cnt = 0;
	int r;

	sub = xcalloc(n + 1, sizeof(*sub));
	for (i = 0; i < n; i++) {
		if (el[i].a.af == af)
			sub[cnt++] = el[i];
	}
	r = nft_replace(nft, &set, sub, cnt);
	free(sub);
	if (r == -1) {
		log_warnx("spfwalk: nft set inet %s %s: %s%s", NFT_TABLE, name,
		    nft_errstr(nft), nft_error(nft) == ENOENT ?
		    " (load spamd.nft, which declares it)" : "");
		return -1;
	}
	if (r > 0) {
		log_warnx("spfwalk: nft set inet %s %s: %d blocks refused by "
		    "the kernel", NFT_TABLE, name, r);
		return -1;
	}
	log_debug("spfwalk: nft set inet %s %s: %zu blocks", NFT_TABLE, name,
	    cnt);
	return 0;
}

/* Read every list's domains; -1 when one cannot be read. */
static int
read_lists(const struct spfwalk_opts *o, const struct conf_list *const *lists,
    size_t nlists, char ***names, size_t *n)
{
	char err[512], *buf;
	size_t i, len, bad;

	for (i = 0; i < nlists; i++) {
		if (fetch_list(lists[i]->method, lists[i]->file, o->fopts, &buf,
		    &len, err, sizeof(err)) == -1) {
			log_warnx("list %s: %s", lists[i]->name, err);
			return -1;
		}
		bad = spfwalk_domains(buf, len, lists[i]->name, names, n);
		free(buf);
		if (bad > 0)
			log_warnx("list %s: %zu line%s not understood",
			    lists[i]->name, bad, bad == 1 ? "" : "s");
	}
	return 0;
}

/* What walks meet when res_ninit failed. */
static enum spf_dns
no_resolver(void *arg, const char *name, enum spf_qtype t,
    struct spf_answer *ans, char *err, size_t errlen)
{
	(void)arg;
	(void)name;
	(void)t;
	(void)ans;
	util_errf(err, errlen, "no resolver (res_ninit failed)");
	return SPF_DNS_FAIL;
}

/*
 * One domain: this run's walk, or the last good one (*keep set), or
 * nothing. Fills src (pointing into *cur or the old state) and returns 1
 * when the domain contributes, 0 when not; *failed when not walked.
 */
static int
one_domain(const struct spfwalk_opts *o, const struct spf_opts *so,
    const char *name, const struct spfstate *old, struct spfstate *cur,
    int64_t now, int *failed)
{
	struct spfstate_dom *prev;
	struct cidr *v;
	size_t n;
	char why[512], ago[32], left[32];
	int64_t life = o->interval * (int64_t)o->keep, rest;
	enum spf_status st;

	*failed = 0;
	st = spf_walk(so, name, &v, &n, why, sizeof(why));
	prev = spfstate_find(old, name);
	switch (st) {
	case SPF_OK:
		log_debug("spfwalk %s: %zu block%s", name, n, n == 1 ? "" : "s");
		spfstate_put(cur, name, now, v, n);
		free(v);
		return 1;
	case SPF_GONE:
		log_warnx("spfwalk %s: %s: dropped%s", name, why,
		    prev != NULL && prev->n > 0 ? " with the blocks of its "
		    "last walk" : "");
		return 0;
	case SPF_TEMPFAIL:
	case SPF_FAIL:
		break;
	}
	*failed = 1;
	rest = prev != NULL ? prev->when + life - now : 0;
	if (prev == NULL)
		log_warnx("spfwalk %s: walk failed: %s; no earlier result, "
		    "nothing loaded for it", name, why);
	else if (rest <= 0)
		log_warnx("spfwalk %s: walk failed: %s; its last good walk "
		    "is %s old, longer than the timeout: dropped", name, why,
		    util_fmt_time(now - prev->when, ago, sizeof(ago)));
	else {
		if (rest > life)
			rest = life;		/* the clock went back */
		log_warnx("spfwalk %s: walk failed: %s; keeping the %zu "
		    "block%s of its last good walk (%s ago) for %s", name, why,
		    prev->n, prev->n == 1 ? "" : "s",
		    util_fmt_time(now - prev->when, ago, sizeof(ago)),
		    util_fmt_time(rest, left, sizeof(left)));
		spfstate_put(cur, name, prev->when, prev->v, prev->n);
		return 1;
	}
	return 0;
}

int
spfwalk_run(const struct spfwalk_opts *o, const struct conf_list *const *lists,
    size_t nlists, int *failures)
{
	struct spf_opts so = { o->resolve, o->arg, o->floor4, o->floor6 };
	struct spfstate old, cur;
	struct spfwalk_src *src = NULL;
	struct nft_elem *el = NULL;
	struct dns *dns = NULL;
	struct nft *nft;
	char **names = NULL;
	size_t i, n = 0, nsrc = 0, nel, n4;
	uint64_t timeout_ms = (uint64_t)o->interval * o->keep * 1000;
	int64_t now = clock_now(), life = o->interval * (int64_t)o->keep;
	int rc = 0, failed;

	memset(&cur, 0, sizeof(cur));
	if (read_lists(o, lists, nlists, &names, &n) == -1) {
		log_warnx("spfwalk: not replacing the nft sets %s and %s: a "
		    "list of domains could not be read; their elements time "
		    "out unless a later run renews them", SPFWALK_SET4,
		    SPFWALK_SET6);
		(*failures)++;
		goto done;
	}
	spfstate_load(o->state, &old);
	if (so.resolve == NULL) {
		so.resolve = dns_resolve;
		if ((so.arg = dns = dns_open()) == NULL)
			so.resolve = no_resolver;
	}
	for (i = 0; i < n; i++) {
		one_domain(o, &so, names[i], &old, &cur, now, &failed);
		*failures += failed;
	}
	dns_close(dns);
	if (!o->dryrun && spfstate_save(o->state, &cur) == -1)
		log_warnx("spfwalk: the next run cannot fall back on this "
		    "one's results");
	spfstate_free(&old);

	src = xcalloc(cur.n + 1, sizeof(*src));
	for (i = 0; i < cur.n; i++) {
		src[nsrc].name = cur.d[i].name;
		src[nsrc].v = cur.d[i].v;
		src[nsrc].n = cur.d[i].n;
		if (cur.d[i].when < now && cur.d[i].when + life > now)
			src[nsrc].expires_ms = (uint64_t)(cur.d[i].when + life -
			    now) * 1000;
		nsrc++;
	}
	nel = spfwalk_merge(src, nsrc, timeout_ms, &el);
	for (n4 = 0; n4 < nel && el[n4].a.af == AF_INET; n4++)
		;
	log_debug("spfwalk: %zu domains, %zu IPv4 and %zu IPv6 blocks", n,
	    n4, nel - n4);
	if (o->dryrun) {
		print_set(SPFWALK_SET4, AF_INET, el, nel, src, nsrc);
		print_set(SPFWALK_SET6, AF_INET6, el, nel, src, nsrc);
		goto done;
	}
	if ((nft = nft_open(o->nft != NULL ? o->nft : "netlink")) == NULL) {
		log_warnx("spfwalk: nftables: %s", nft_open_errstr());
		rc = -1;
		goto done;
	}
	if (replace(nft, SPFWALK_SET4, AF_INET, el, nel) == -1)
		rc = -1;
	if (replace(nft, SPFWALK_SET6, AF_INET6, el, nel) == -1)
		rc = -1;
	nft_close(nft);
done:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(src);
	free(el);
	spfstate_free(&cur);
	return rc;
}
