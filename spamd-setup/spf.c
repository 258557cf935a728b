/*
 * spf.c: the SPF walk of spamd-setup's :spfwalk: lists: parse SPF
 * records (RFC 7208) and follow them into the networks they authorise,
 * with every lookup made through the caller's resolver (dns.c, or a fake
 * one in the unit tests). See spf.h for what is taken, skipped, refused,
 * and the bounds.
 *
 * The walk is depth-first; a failure that makes the result incomplete
 * (a lookup error, a bound) stops it at once. Log lines of one walk are
 * capped at SPF_MAX_LOGS, so a hostile record cannot flood the log.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/addr.h"
#include "common/compat.h"
#include "common/log.h"
#include "common/util.h"
#include "spamd-setup/iprange.h"
#include "spamd-setup/spf.h"

#define SPF_MAX_LOGS	20	/* warnings and info lines per walk */

enum wlevel { W_DEBUG, W_INFO, W_WARN };

struct walk {
	const struct spf_opts *o;
	const char	*dom;		/* the domain walked, for the logs */
	struct iprange_set set;
	size_t		 nelems;
	char		**seen;		/* names walked, lowercase */
	size_t		 nseen;
	const char	*path[SPF_MAX_DEPTH + 2];	/* the include path */
	int		 depth;
	unsigned int	 queries;
	unsigned int	 nlogs;
	enum spf_status	 st;		/* SPF_OK until the walk stops */
	char		*why;
	size_t		 whylen;
};

static void walk_name(struct walk *, const char *, const char *, int);

static const char *const qtype_names[] = {
	[SPF_Q_TXT] = "TXT",
	[SPF_Q_A] = "A",
	[SPF_Q_AAAA] = "AAAA",
	[SPF_Q_MX] = "MX",
};

static const char *const status_names[] = {
	[SPF_OK] = "ok",
	[SPF_GONE] = "no SPF record",
	[SPF_TEMPFAIL] = "lookup failed",
	[SPF_FAIL] = "error",
};

const char *
spf_status_name(enum spf_status st)
{
	return status_names[st];
}

static void wlog(struct walk *, enum wlevel, const char *, ...)
    __attribute__((format(printf, 3, 4)));
static void stop(struct walk *, enum spf_status, const char *, ...)
    __attribute__((format(printf, 3, 4)));

/* A line "spfwalk DOMAIN: ..."; at most SPF_MAX_LOGS above debug. */
static void
wlog(struct walk *w, enum wlevel lv, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (lv == W_DEBUG && log_getverbose() < 2)
		return;
	if (lv != W_DEBUG && ++w->nlogs > SPF_MAX_LOGS)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (lv == W_WARN)
		log_warnx("spfwalk %s: %s", w->dom, msg);
	else if (lv == W_INFO)
		log_info("spfwalk %s: %s", w->dom, msg);
	else
		log_debug("spfwalk %s: %s", w->dom, msg);
}

/* End the walk with st; the first reason is kept. */
static void
stop(struct walk *w, enum spf_status st, const char *fmt, ...)
{
	va_list ap;

	if (w->st != SPF_OK)
		return;
	w->st = st;
	va_start(ap, fmt);
	vsnprintf(w->why, w->whylen, fmt, ap);
	va_end(ap);
}

int
spf_is_record(const char *s, size_t len)
{
	return len >= 6 && strncasecmp(s, "v=spf1", 6) == 0 &&
	    (len == 6 || s[6] == ' ');
}

int
spf_name(const char *in, char *out, size_t outlen)
{
	size_t i, len = strlen(in), label = 0;
	unsigned char c;

	if (len > 0 && in[len - 1] == '.')
		len--;
	if (len == 0 || len > SPF_NAME_MAX || len >= outlen)
		return -1;
	for (i = 0; i < len; i++) {
		c = (unsigned char)in[i];
		if (c == '.') {
			if (label == 0)
				return -1;
			label = 0;
		} else if (isalnum(c) || c == '-' || c == '_') {
			if (++label > 63)
				return -1;
		} else
			return -1;
		out[i] = (char)tolower(c);
	}
	out[len] = '\0';
	return label == 0 ? -1 : 0;
}

void
spf_answer_txt(struct spf_answer *ans, const char *s, size_t len)
{
	ans->txt = xreallocarray(ans->txt, ans->ntxt + 1, sizeof(*ans->txt));
	ans->txt[ans->ntxt].s = xmalloc(len + 1);
	memcpy(ans->txt[ans->ntxt].s, s, len);
	ans->txt[ans->ntxt].s[len] = '\0';
	ans->txt[ans->ntxt++].len = len;
}

void
spf_answer_addr(struct spf_answer *ans, const struct addr *a)
{
	ans->addr = xreallocarray(ans->addr, ans->naddr + 1,
	    sizeof(*ans->addr));
	ans->addr[ans->naddr++] = *a;
}

void
spf_answer_name(struct spf_answer *ans, const char *name)
{
	ans->name = xreallocarray(ans->name, ans->nname + 1,
	    sizeof(*ans->name));
	ans->name[ans->nname++] = xstrdup(name);
}

void
spf_answer_free(struct spf_answer *ans)
{
	size_t i;

	for (i = 0; i < ans->ntxt; i++)
		free(ans->txt[i].s);
	for (i = 0; i < ans->nname; i++)
		free(ans->name[i]);
	free(ans->txt);
	free(ans->addr);
	free(ans->name);
	memset(ans, 0, sizeof(*ans));
}

/* One lookup within the budget; SPF_DNS_FAIL has stopped the walk. */
static enum spf_dns
query(struct walk *w, const char *name, enum spf_qtype t,
    struct spf_answer *ans)
{
	char err[256] = "";
	enum spf_dns r;

	memset(ans, 0, sizeof(*ans));
	if (w->queries >= SPF_MAX_QUERIES) {
		stop(w, SPF_FAIL, "more than %d DNS lookups (at %s %s)",
		    SPF_MAX_QUERIES, qtype_names[t], name);
		return SPF_DNS_FAIL;
	}
	w->queries++;
	r = w->o->resolve(w->o->arg, name, t, ans, err, sizeof(err));
	if (r == SPF_DNS_FAIL)
		stop(w, SPF_TEMPFAIL, "%s %s: %s", qtype_names[t], name,
		    err[0] != '\0' ? err : "lookup failed");
	else if (r != SPF_DNS_OK)
		spf_answer_free(ans);
	return r;
}

/* Take a/plen from the record of `name' (term t), unless too wide. */
static void
add_block(struct walk *w, const struct addr *a, unsigned int plen,
    const char *name, const char *t)
{
	unsigned int floor;
	struct cidr c;
	struct addr lo, hi;
	char buf[ADDR_STRLEN];

	if (w->st != SPF_OK)
		return;
	floor = a->af == AF_INET ? w->o->floor4 : w->o->floor6;
	if (floor < SPF_FLOOR_MIN)
		floor = SPF_FLOOR_MIN;
	if (plen < floor) {
		wlog(w, W_WARN, "%s: \"%s\" gives %s/%u, wider than /%u: "
		    "refused", name, t, addr_ntop(a, buf, sizeof(buf)), plen,
		    floor);
		return;
	}
	if (w->nelems >= SPF_MAX_ELEMS) {
		stop(w, SPF_FAIL, "more than %d blocks (at %s)",
		    SPF_MAX_ELEMS, name);
		return;
	}
	c.a = *a;
	c.plen = (uint8_t)plen;
	cidr_first(&c, &lo);
	cidr_last(&c, &hi);
	iprange_add(&w->set, &lo, &hi);
	w->nelems++;
}

/* "/n" with 0 <= n <= max at *pp; -1 if malformed. */
static int
cidr_len(const char **pp, unsigned int max, unsigned int *out)
{
	const char *p = *pp + 1;
	unsigned int v = 0;
	int digits = 0;

	while (*p >= '0' && *p <= '9' && digits < 4) {
		v = v * 10 + (unsigned int)(*p++ - '0');
		digits++;
	}
	if (digits == 0 || digits > 3 || v > max)
		return -1;
	*out = v;
	*pp = p;
	return 0;
}

/* "[/c4][//c6]" at p, to the end; -1 if malformed. */
static int
dual_cidr(const char *p, unsigned int *c4, unsigned int *c6)
{
	*c4 = 32;
	*c6 = 128;
	if (p[0] == '/' && p[1] != '/' && cidr_len(&p, 32, c4) == -1)
		return -1;
	if (p[0] == '/' && p[1] == '/') {
		p++;
		if (cidr_len(&p, 128, c6) == -1)
			return -1;
	}
	return *p == '\0' ? 0 : -1;
}

/* The addresses of host, as /c4 and //c6 blocks. */
static void
walk_host(struct walk *w, const char *host, unsigned int c4,
    unsigned int c6, const char *name, const char *t)
{
	static const enum spf_qtype types[2] = { SPF_Q_A, SPF_Q_AAAA };
	struct spf_answer ans;
	size_t i, k, found = 0;

	for (k = 0; k < 2 && w->st == SPF_OK; k++) {
		if (query(w, host, types[k], &ans) != SPF_DNS_OK)
			continue;
		for (i = 0; i < ans.naddr; i++) {
			if (ans.addr[i].af != (k == 0 ? AF_INET : AF_INET6))
				continue;
			add_block(w, &ans.addr[i], k == 0 ? c4 : c6, name, t);
			found++;
		}
		spf_answer_free(&ans);
	}
	if (w->st == SPF_OK && found == 0)
		wlog(w, W_INFO, "%s: \"%s\": %s has no address", name, t,
		    host);
}

/* a[:domain][/c4][//c6] and mx[...]: rest starts after the name. */
static void
walk_a_mx(struct walk *w, int mx, const char *rest, const char *name,
    const char *t)
{
	struct spf_answer ans;
	char host[SPF_NAME_MAX + 1], spec[SPF_NAME_MAX + 2];
	const char *p = rest;
	unsigned int c4, c6;
	size_t i, len;

	strlcpy(host, name, sizeof(host));
	if (*p == ':') {
		len = strcspn(p + 1, "/");
		if (len >= sizeof(spec)) {
			wlog(w, W_WARN, "%s: \"%s\": bad domain: ignored",
			    name, t);
			return;
		}
		memcpy(spec, p + 1, len);
		spec[len] = '\0';
		if (spf_name(spec, host, sizeof(host)) == -1) {
			wlog(w, W_WARN, "%s: \"%s\": bad domain: ignored",
			    name, t);
			return;
		}
		p += 1 + len;
	}
	if (dual_cidr(p, &c4, &c6) == -1) {
		wlog(w, W_WARN, "%s: \"%s\": bad prefix length: ignored",
		    name, t);
		return;
	}
	if (!mx) {
		walk_host(w, host, c4, c6, name, t);
		return;
	}
	if (query(w, host, SPF_Q_MX, &ans) != SPF_DNS_OK) {
		if (w->st == SPF_OK)
			wlog(w, W_INFO, "%s: \"%s\": %s has no MX", name, t,
			    host);
		return;
	}
	if (ans.nname > SPF_MAX_MX)
		wlog(w, W_WARN, "%s: \"%s\": %zu MX hosts, only the first "
		    "%d walked", name, t, ans.nname, SPF_MAX_MX);
	for (i = 0; i < ans.nname && i < SPF_MAX_MX && w->st == SPF_OK;
	    i++) {
		if (spf_name(ans.name[i], host, sizeof(host)) == -1)
			wlog(w, W_WARN, "%s: \"%s\": bad MX host name: "
			    "ignored", name, t);
		else
			walk_host(w, host, c4, c6, name, t);
	}
	spf_answer_free(&ans);
}

/* ip4:a[/n] and ip6:a[/n]; v is what follows the colon. */
static void
walk_ip(struct walk *w, int af, const char *v, const char *name,
    const char *t)
{
	char buf[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(v, '/'), *p;
	unsigned int plen = af == AF_INET ? 32 : 128;
	struct addr a;
	size_t len = slash != NULL ? (size_t)(slash - v) : strlen(v);

	memset(&a, 0, sizeof(a));
	a.af = (uint8_t)af;
	if (len == 0 || len >= sizeof(buf))
		goto bad;
	memcpy(buf, v, len);
	buf[len] = '\0';
	if (inet_pton(af, buf, a.u.b) != 1)
		goto bad;
	if (slash != NULL) {
		p = slash;
		if (cidr_len(&p, plen, &plen) == -1 || *p != '\0')
			goto bad;
	}
	add_block(w, &a, plen, name, t);
	return;
bad:
	wlog(w, W_WARN, "%s: \"%s\": not an %s network: ignored", name, t,
	    af == AF_INET ? "IPv4" : "IPv6");
}

/* A domain-spec for include: and redirect=, into out; -1 logged. */
static int
target(struct walk *w, const char *spec, char *out, size_t outlen,
    const char *name, const char *t)
{
	if (spf_name(spec, out, outlen) == 0)
		return 0;
	wlog(w, W_WARN, "%s: \"%s\": bad domain: ignored", name, t);
	return -1;
}

struct rec {
	int	 all;			/* an all term, any qualifier */
	char	 redirect[SPF_NAME_MAX + 1];
	int	 nredirect;
};

/* One term of name's record. */
static void
walk_term(struct walk *w, struct rec *r, char *t, const char *name,
    int depth)
{
	char dom[SPF_NAME_MAX + 1], q = '+';
	const char *m = t, *rest;
	size_t n;

	if (strchr(t, '%') != NULL) {
		wlog(w, W_INFO, "%s: \"%s\": a macro, not walked", name, t);
		return;
	}
	if (*m == '+' || *m == '-' || *m == '~' || *m == '?')
		q = *m++;
	n = strcspn(m, ":/=");
	rest = m + n;
	if (*rest == '=' && m == t) {		/* a modifier */
		if (n == 8 && strncasecmp(m, "redirect", 8) == 0) {
			if (r->nredirect++ > 0)
				stop(w, SPF_FAIL, "%s: more than one "
				    "redirect=", name);
			else if (target(w, rest + 1, r->redirect,
			    sizeof(r->redirect), name, t) == -1)
				r->nredirect = 0;
		} else
			wlog(w, W_DEBUG, "%s: \"%s\": modifier ignored", name,
			    t);
		return;
	}
	if (n == 3 && strncasecmp(m, "all", 3) == 0 && *rest == '\0') {
		r->all = 1;
		if (q == '+')
			wlog(w, W_WARN, "%s: \"%s\": allows the whole "
			    "Internet: refused", name, t);
		return;
	}
	if (q == '-' || q == '~' || q == '?') {
		wlog(w, W_DEBUG, "%s: \"%s\": %s term skipped", name, t,
		    q == '?' ? "a neutral" : "a failing");
		return;
	}
	if (n == 7 && strncasecmp(m, "include", 7) == 0 && *rest == ':') {
		if (target(w, rest + 1, dom, sizeof(dom), name, t) == 0)
			walk_name(w, dom, name, depth + 1);
	} else if (n == 1 && strncasecmp(m, "a", 1) == 0 && *rest != '=')
		walk_a_mx(w, 0, rest, name, t);
	else if (n == 2 && strncasecmp(m, "mx", 2) == 0 && *rest != '=')
		walk_a_mx(w, 1, rest, name, t);
	else if (n == 3 && strncasecmp(m, "ip4", 3) == 0 && *rest == ':')
		walk_ip(w, AF_INET, rest + 1, name, t);
	else if (n == 3 && strncasecmp(m, "ip6", 3) == 0 && *rest == ':')
		walk_ip(w, AF_INET6, rest + 1, name, t);
	else if ((n == 3 && strncasecmp(m, "ptr", 3) == 0 && *rest != '=') ||
	    (n == 6 && strncasecmp(m, "exists", 6) == 0 && *rest == ':'))
		wlog(w, W_INFO, "%s: \"%s\": cannot be walked, skipped", name,
		    t);
	else
		wlog(w, W_WARN, "%s: \"%s\": unknown term ignored", name, t);
}

/* The terms of name's record text (printable ASCII, checked). */
static void
walk_record(struct walk *w, const char *text, const char *name, int depth)
{
	struct rec r;
	char *copy, *p, *t;

	memset(&r, 0, sizeof(r));
	copy = xstrdup(text);
	p = copy + 6;				/* after "v=spf1" */
	while (w->st == SPF_OK && (t = strsep(&p, " ")) != NULL) {
		if (*t != '\0')
			walk_term(w, &r, t, name, depth);
	}
	free(copy);
	if (w->st != SPF_OK || r.nredirect == 0)
		return;
	if (r.all)
		wlog(w, W_DEBUG, "%s: redirect=%s ignored: the record has an "
		    "all term", name, r.redirect);
	else
		walk_name(w, r.redirect, name, depth + 1);
}

/* The name has no SPF record: the domain is gone, or an include is. */
static void
no_spf(struct walk *w, const char *name, const char *from, const char *why)
{
	if (from == NULL)
		stop(w, SPF_GONE, "%s", why);
	else
		wlog(w, W_WARN, "%s, named by %s: %s: its part is empty",
		    name, from, why);
}

static void
walk_name(struct walk *w, const char *name, const char *from, int depth)
{
	struct spf_answer ans;
	const struct spf_txt *rec = NULL;
	size_t i, nspf = 0;
	enum spf_dns r;
	char why[128];
	int k;

	if (w->st != SPF_OK)
		return;
	for (k = 0; k < w->depth; k++) {
		if (strcmp(w->path[k], name) == 0) {
			wlog(w, W_WARN, "%s names %s, which names it back: "
			    "loop ignored", from, name);
			return;
		}
	}
	for (i = 0; i < w->nseen; i++) {
		if (strcmp(w->seen[i], name) == 0) {
			wlog(w, W_DEBUG, "%s: already walked", name);
			return;
		}
	}
	if (depth > SPF_MAX_DEPTH) {
		stop(w, SPF_FAIL, "includes nested deeper than %d (at %s)",
		    SPF_MAX_DEPTH, name);
		return;
	}
	w->seen = xreallocarray(w->seen, w->nseen + 1, sizeof(*w->seen));
	w->seen[w->nseen++] = xstrdup(name);
	name = w->seen[w->nseen - 1];

	r = query(w, name, SPF_Q_TXT, &ans);
	if (r == SPF_DNS_FAIL)
		goto done;
	if (r == SPF_DNS_NXDOMAIN || r == SPF_DNS_NODATA) {
		no_spf(w, name, from, r == SPF_DNS_NXDOMAIN ?
		    "no such domain (NXDOMAIN)" : "no TXT record (NODATA)");
		return;
	}
	for (i = 0; i < ans.ntxt; i++) {
		if (spf_is_record(ans.txt[i].s, ans.txt[i].len)) {
			rec = &ans.txt[i];
			nspf++;
		}
	}
	if (nspf == 0) {
		snprintf(why, sizeof(why), "none of its %zu TXT records is an "
		    "SPF record", ans.ntxt);
		no_spf(w, name, from, why);
		goto done;
	}
	if (nspf > 1) {
		stop(w, SPF_FAIL, "%s has %zu SPF records (RFC 7208 4.5: an "
		    "error)", name, nspf);
		goto done;
	}
	for (i = 0; i < rec->len; i++) {
		if ((unsigned char)rec->s[i] < 0x20 ||
		    (unsigned char)rec->s[i] > 0x7e) {
			stop(w, SPF_FAIL, "the SPF record of %s holds the byte "
			    "0x%02x at %zu: not text", name,
			    (unsigned char)rec->s[i], i);
			goto done;
		}
	}
	wlog(w, W_DEBUG, "%s: \"%s\"", name, rec->s);
	w->path[w->depth++] = name;
	walk_record(w, rec->s, name, depth);
	w->depth--;
done:
	spf_answer_free(&ans);
}

enum spf_status
spf_walk(const struct spf_opts *o, const char *domain, struct cidr **v,
    size_t *n, char *why, size_t whylen)
{
	struct walk w;
	char name[SPF_NAME_MAX + 1];
	size_t i;

	memset(&w, 0, sizeof(w));
	w.o = o;
	w.dom = domain;
	w.why = why;
	w.whylen = whylen;
	if (whylen > 0)
		why[0] = '\0';
	iprange_init(&w.set);
	*v = NULL;
	*n = 0;
	if (spf_name(domain, name, sizeof(name)) == -1)
		stop(&w, SPF_FAIL, "not a domain name");
	else
		walk_name(&w, name, NULL, 0);
	if (w.nlogs > SPF_MAX_LOGS)
		log_warnx("spfwalk %s: %u more messages not shown", domain,
		    w.nlogs - SPF_MAX_LOGS);
	if (w.st == SPF_OK) {
		iprange_normalize(&w.set);
		*n = iprange_to_cidrs(&w.set, v);
	}
	for (i = 0; i < w.nseen; i++)
		free(w.seen[i]);
	free(w.seen);
	iprange_free(&w.set);
	return w.st;
}
