/*
 * nft_record.c: the "record:PATH" backend: what would be sent, as text.
 * A test backend: linked only into the unit tests and test tools, which
 * call nft_record_register() before nft_open("record:...").
 *
 *	nft_record_register()	add it to nft_open()'s backends
 *	nft_backend_record	open, fit, send, list, close (see nft_int.h)
 *
 * send() gets the very batch the netlink backend would send, decodes
 * every message back with libnftnl (nftnl_set_elems_nlmsg_parse), checks
 * it against an in-memory model of the sets, and appends one line per
 * operation to PATH ("record:-" is stdout; the file is opened for
 * appending, so several runs make one trace):
 *
 *	batch
 *	flush FAMILY TABLE SET
 *	add FAMILY TABLE SET ADDR [timeout MS] [expires MS] [interval-start]
 *	add FAMILY TABLE SET ADDR interval-end
 *	delete FAMILY TABLE SET ADDR [interval-start|interval-end]
 *	commit				(or "abort" when the model refused it)
 *
 * e.g. "add inet spamd spamd_white 192.0.2.1 timeout 3600000". Interval
 * sets show each block as its start element and, unless the block
 * reaches the top of the address space, its end element (last + 1):
 * 192.0.2.0/24 is "192.0.2.0 interval-start" and "192.0.3.0
 * interval-end". nft's sentinel is "add ... 0.0.0.0 interval-end".
 * Lines follow message order; message boundaries are not shown (the
 * debug log has "batch of N messages").
 *
 * The model behaves like a Debian 12 (6.1) kernel where it matters to
 * callers, and answers with the kernel's errors at the kernel's
 * attribute offsets, so nft.c's error handling runs unchanged:
 *  - adding an element that exists changes nothing (its timeout stays:
 *    use NFT_REFRESH);
 *  - deleting a missing element is ENOENT;
 *  - an interval overlapping another (not identical) is EEXIST;
 *  - a timeout or expiry of U64_MAX / 1e6 ms or more is ERANGE
 *    (nf_msecs_to_jiffies64);
 *  - a key whose length is not the set's is EINVAL;
 *  - one error per message, at the first bad element, as the kernel.
 * The model knows no tables: every set exists and starts empty. Time
 * does not pass: list() reports expires_ms as given (or the timeout).
 * No privilege is needed. With ",sndbuf=N" fit() refuses batches larger
 * than N - 32 bytes, as a socket without SO_SNDBUFFORCE would.
 */
#include <sys/types.h>

#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "common/addr.h"
#include "common/compat.h"
#include "common/log.h"
#include "nft/nft_int.h"
#include "tests/nftlib/nftlib.h"

#define MS_MAX	18446744073709ULL	/* U64_MAX / NSEC_PER_MSEC */

/* One element of the model: a range [lo, hi]; lo == hi for plain sets. */
struct mel {
	uint8_t		 lo[16], hi[16];
	uint64_t	 timeout_ms, expires_ms;
};

struct mset {
	uint8_t		 family;
	char		*table, *name;
	struct mel	*el;
	size_t		 n, cap;
};

struct rec {
	FILE		*fp;
	int		 own;
	struct mset	*sets;
	size_t		 nsets;
};

/* One decoded element (or flush) of the batch, in message order. */
struct dec {
	size_t		 msg;		/* index into b->msg */
	size_t		 ord;		/* element nest within the message */
	uint16_t	 type;		/* NFT_MSG_NEWSETELEM or DELSETELEM */
	uint8_t		 flush;
	uint8_t		 end;
	uint32_t	 klen;
	uint8_t		 key[16];
	uint64_t	 timeout_ms, expires_ms;
};

/* A range being added or deleted, with the element that carries it. */
struct nr {
	struct mel	 m;
	size_t		 d;		/* index into the decoded list */
	int		 drop;
};

struct check {
	const struct nft_batch	*b;
	struct dec		*d;
	size_t			 nd, dcap;
	int			*err;	/* per message: errno of first error */
	size_t			*errord;
	size_t			 klen;
	int			 interval;
	void			*scratch;	/* see renumber() */
	size_t			 scratchlen;
};

static int
rec_open(struct nft *n, const char *path)
{
	struct rec *r;

	if (path == NULL || path[0] == '\0') {
		nft_seterr(n, EINVAL, "record backend needs a path"
		    " (record:PATH or record:-)");
		errno = EINVAL;
		return -1;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		nft_seterr(n, errno, "record: %s", strerror(errno));
		return -1;
	}
	if (strcmp(path, "-") == 0)
		r->fp = stdout;
	else {
		if ((r->fp = fopen(path, "a")) == NULL) {
			int e = errno;

			nft_seterr(n, e, "record: %s: %s", path, strerror(e));
			free(r);
			errno = e;
			return -1;
		}
		r->own = 1;
	}
	n->priv = r;
	return 0;
}

static void
rec_close(struct nft *n)
{
	struct rec *r = n->priv;
	size_t i;

	if (r == NULL)
		return;
	if (r->own)
		fclose(r->fp);
	else
		fflush(r->fp);
	for (i = 0; i < r->nsets; i++) {
		free(r->sets[i].table);
		free(r->sets[i].name);
		free(r->sets[i].el);
	}
	free(r->sets);
	free(r);
	n->priv = NULL;
}

static int
rec_fit(struct nft *n, size_t len)
{
	return n->sndbuf_cap == 0 || len + 32 <= n->sndbuf_cap;
}

static struct mset *
find_set(struct rec *r, const struct nft_set *set, int create)
{
	struct mset *s, *ns;
	size_t i;

	for (i = 0; i < r->nsets; i++) {
		s = &r->sets[i];
		if (s->family == set->family &&
		    strcmp(s->table, set->table) == 0 &&
		    strcmp(s->name, set->name) == 0)
			return s;
	}
	if (!create)
		return NULL;
	if ((ns = reallocarray(r->sets, r->nsets + 1, sizeof(*ns))) == NULL)
		return NULL;
	r->sets = ns;
	s = &ns[r->nsets];
	memset(s, 0, sizeof(*s));
	s->family = set->family;
	if ((s->table = strdup(set->table)) == NULL ||
	    (s->name = strdup(set->name)) == NULL) {
		free(s->table);
		return NULL;
	}
	r->nsets++;
	return s;
}

/*
 * libnftnl numbers the element nests it builds 1..n (the kernel does not
 * care, and an error offset's nest type is the element's index), but its
 * own parser accepts only NFTA_LIST_ELEM (1). Check the numbering and
 * hand the parser a copy with every nest typed NFTA_LIST_ELEM.
 */
static const struct nlmsghdr *
renumber(struct check *c, const struct nlmsghdr *nlh)
{
	struct nlmsghdr *cp;
	struct nlattr *attr, *list = NULL;
	uint16_t i = 0;

	if (c->scratchlen < nlh->nlmsg_len) {
		free(c->scratch);
		c->scratchlen = 0;
		if ((c->scratch = malloc(nlh->nlmsg_len)) == NULL)
			return NULL;
		c->scratchlen = nlh->nlmsg_len;
	}
	cp = memcpy(c->scratch, nlh, nlh->nlmsg_len);
	mnl_attr_for_each(attr, cp, sizeof(struct nfgenmsg)) {
		if (mnl_attr_get_type(attr) == NFTA_SET_ELEM_LIST_ELEMENTS)
			list = attr;
	}
	if (list == NULL)
		return cp;
	mnl_attr_for_each_nested(attr, list) {
		if (mnl_attr_get_type(attr) != ++i)
			return NULL;
		attr->nla_type = (uint16_t)((attr->nla_type & ~NLA_TYPE_MASK) |
		    NFTA_LIST_ELEM);
	}
	return cp;
}

/* Decode every message of the batch back into c->d. */
static int
decode(struct nft *n, struct check *c)
{
	const struct nft_batch *b = c->b;
	const struct nlmsghdr *nlh;
	struct nftnl_set *s;
	struct nftnl_set_elems_iter *it;
	struct nftnl_set_elem *e;
	struct dec *d;
	const void *key;
	size_t i, ord;
	uint32_t klen;
	uint16_t type;

	for (i = 0; i < b->nmsg; i++) {
		nlh = (const void *)(b->buf + b->msg[i].off);
		type = NFNL_MSG_TYPE(nlh->nlmsg_type);
		if (nlh->nlmsg_type == NFNL_MSG_BATCH_BEGIN ||
		    nlh->nlmsg_type == NFNL_MSG_BATCH_END)
			continue;
		if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_NFTABLES ||
		    (type != NFT_MSG_NEWSETELEM &&
		    type != NFT_MSG_DELSETELEM)) {
			nft_seterr(n, EPROTO, "record: message %zu has type"
			    " 0x%x", i, nlh->nlmsg_type);
			return -1;
		}
		if ((nlh = renumber(c, nlh)) == NULL) {
			nft_seterr(n, EPROTO, "record: message %zu: element"
			    " nests are not numbered 1..n", i);
			return -1;
		}
		if ((s = nftnl_set_alloc()) == NULL)
			goto oom;
		if (nftnl_set_elems_nlmsg_parse(nlh, s) < 0 ||
		    strcmp(nftnl_set_get_str(s, NFTNL_SET_TABLE),
		    b->set->table) != 0 ||
		    strcmp(nftnl_set_get_str(s, NFTNL_SET_NAME),
		    b->set->name) != 0) {
			nftnl_set_free(s);
			nft_seterr(n, EPROTO, "record: message %zu does not"
			    " decode to set %s", i, b->set->name);
			return -1;
		}
		if ((it = nftnl_set_elems_iter_create(s)) == NULL) {
			nftnl_set_free(s);
			goto oom;
		}
		ord = 0;
		e = nftnl_set_elems_iter_next(it);
		do {
			if (c->nd == c->dcap) {
				size_t ncap = c->dcap ? c->dcap * 2 : 256;
				struct dec *nd = reallocarray(c->d, ncap,
				    sizeof(*nd));

				if (nd == NULL) {
					nftnl_set_elems_iter_destroy(it);
					nftnl_set_free(s);
					goto oom;
				}
				c->d = nd;
				c->dcap = ncap;
			}
			d = &c->d[c->nd++];
			memset(d, 0, sizeof(*d));
			d->msg = i;
			d->type = type;
			if (e == NULL) {
				d->flush = 1;	/* no element list */
				break;
			}
			d->ord = ord++;
			key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &klen);
			d->klen = key == NULL || klen > 16 ? 0 : klen;
			if (d->klen)
				memcpy(d->key, key, klen);
			if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_FLAGS))
				d->end = (nftnl_set_elem_get_u32(e,
				    NFTNL_SET_ELEM_FLAGS) &
				    NFT_SET_ELEM_INTERVAL_END) != 0;
			if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_TIMEOUT))
				d->timeout_ms = nftnl_set_elem_get_u64(e,
				    NFTNL_SET_ELEM_TIMEOUT);
			if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_EXPIRATION))
				d->expires_ms = nftnl_set_elem_get_u64(e,
				    NFTNL_SET_ELEM_EXPIRATION);
		} while ((e = nftnl_set_elems_iter_next(it)) != NULL);
		nftnl_set_elems_iter_destroy(it);
		nftnl_set_free(s);
	}
	return 0;
 oom:
	nft_seterr(n, ENOMEM, "record: %s", strerror(ENOMEM));
	return -1;
}

/* Remember the kernel's one error for this message: the first element. */
static void
refuse(struct check *c, size_t di, int err)
{
	const struct dec *d = &c->d[di];

	if (c->err[d->msg] == 0 || d->ord < c->errord[d->msg]) {
		c->err[d->msg] = err;
		c->errord[d->msg] = d->ord;
	}
}

static int
mel_cmp(const void *pa, const void *pb)
{
	const struct nr *a = pa, *b = pb;
	int r = memcmp(a->m.lo, b->m.lo, sizeof(a->m.lo));

	if (r != 0)
		return r;
	return a->d < b->d ? -1 : a->d > b->d;
}

static void
key_dec(uint8_t *k, size_t len)
{
	while (len-- > 0) {
		if (k[len]-- != 0)
			return;
	}
}

/* Ranges for decoded elements [from, to): pairs for interval sets. */
static struct nr *
ranges(struct check *c, size_t from, size_t to, size_t *cnt)
{
	struct nr *r;
	size_t i, n = 0;
	int pend = 0;

	if ((r = calloc(to - from + 1, sizeof(*r))) == NULL)
		return NULL;
	for (i = from; i < to; i++) {
		struct dec *d = &c->d[i];

		if (d->klen != c->klen) {
			refuse(c, i, EINVAL);
			continue;
		}
		if (d->timeout_ms >= MS_MAX || d->expires_ms >= MS_MAX) {
			refuse(c, i, ERANGE);
			continue;
		}
		if (!c->interval || !d->end) {
			if (pend)
				n++;	/* the previous start reaches the top */
			memset(&r[n], 0, sizeof(r[n]));
			memcpy(r[n].m.lo, d->key, c->klen);
			memset(r[n].m.hi, c->interval ? 0xff : 0, c->klen);
			if (!c->interval)
				memcpy(r[n].m.hi, d->key, c->klen);
			r[n].m.timeout_ms = d->timeout_ms;
			r[n].m.expires_ms = d->expires_ms;
			r[n].d = i;
			if (c->interval)
				pend = 1;
			else
				n++;
			continue;
		}
		if (!pend)
			continue;	/* a lone end: nft's sentinel */
		pend = 0;
		memcpy(r[n].m.hi, d->key, c->klen);
		if (memcmp(r[n].m.hi, r[n].m.lo, c->klen) == 0) {
			refuse(c, i, EINVAL);	/* empty interval */
			continue;
		}
		key_dec(r[n].m.hi, c->klen);
		n++;
	}
	if (pend)
		n++;
	*cnt = n;
	return r;
}

/* First element of w[0..n) whose hi >= key (sorted, disjoint). */
static size_t
lower(const struct mel *w, size_t n, const uint8_t *key)
{
	size_t lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (memcmp(w[mid].hi, key, 16) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int
add_group(struct check *c, struct mset *w, size_t from, size_t to)
{
	struct nr *r;
	struct mel *m;
	size_t cnt, i, k, prev = SIZE_MAX, a, b, o, keep = 0;

	if ((r = ranges(c, from, to, &cnt)) == NULL)
		return -1;
	qsort(r, cnt, sizeof(*r), mel_cmp);
	for (i = 0; i < cnt; i++) {
		/* Against the other new ones... */
		if (prev != SIZE_MAX &&
		    memcmp(r[i].m.lo, r[prev].m.hi, 16) <= 0) {
			if (memcmp(&r[i].m, &r[prev].m, 32) == 0) {
				r[i].drop = 1;		/* duplicate */
				continue;
			}
			k = r[i].d > r[prev].d ? i : prev;
			r[k].drop = 1;
			refuse(c, r[k].d, EEXIST);
			if (k == i)
				continue;
		}
		/* ...and against the set. */
		o = lower(w->el, w->n, r[i].m.lo);
		if (o < w->n && memcmp(w->el[o].lo, r[i].m.hi, 16) <= 0) {
			r[i].drop = 1;
			if (memcmp(w->el[o].lo, r[i].m.lo, 16) != 0 ||
			    memcmp(w->el[o].hi, r[i].m.hi, 16) != 0)
				refuse(c, r[i].d, EEXIST);
			continue;
		}
		prev = i;
	}
	for (i = 0; i < cnt; i++)
		keep += !r[i].drop;
	if ((m = calloc(w->n + keep + 1, sizeof(*m))) == NULL) {
		free(r);
		return -1;
	}
	for (a = b = o = 0; a < w->n || b < cnt;) {
		if (b < cnt && r[b].drop) {
			b++;
			continue;
		}
		if (b == cnt || (a < w->n &&
		    memcmp(w->el[a].lo, r[b].m.lo, 16) < 0))
			m[o++] = w->el[a++];
		else
			m[o++] = r[b++].m;
	}
	free(w->el);
	w->el = m;
	w->n = o;
	w->cap = w->n + keep + 1;
	free(r);
	return 0;
}

static int
del_group(struct check *c, struct mset *w, size_t from, size_t to)
{
	struct nr *r;
	uint8_t *gone;
	size_t cnt, i, o, k;

	if ((r = ranges(c, from, to, &cnt)) == NULL)
		return -1;
	if ((gone = calloc(w->n + 1, 1)) == NULL) {
		free(r);
		return -1;
	}
	for (i = 0; i < cnt; i++) {
		o = lower(w->el, w->n, r[i].m.lo);
		if (o < w->n && !gone[o] &&
		    memcmp(w->el[o].lo, r[i].m.lo, 16) == 0 &&
		    memcmp(w->el[o].hi, r[i].m.hi, 16) == 0)
			gone[o] = 1;
		else
			refuse(c, r[i].d, ENOENT);
	}
	for (i = k = 0; i < w->n; i++) {
		if (!gone[i])
			w->el[k++] = w->el[i];
	}
	w->n = k;
	free(gone);
	free(r);
	return 0;
}

static const char *
key_text(const struct check *c, const struct dec *d, char *buf, size_t len)
{
	struct addr a;

	memset(&a, 0, sizeof(a));
	if (d->klen == 4)
		a.af = AF_INET;
	else if (d->klen == 16)
		a.af = AF_INET6;
	else {
		snprintf(buf, len, "(key of %u bytes)", d->klen);
		return buf;
	}
	(void)c;
	memcpy(a.u.b, d->key, d->klen);
	return addr_ntop(&a, buf, len);
}

static void
write_lines(FILE *fp, const struct check *c, int ok)
{
	const struct nft_set *set = c->b->set;
	const char *fam = nft_family_name(set->family);
	const struct dec *d;
	char buf[ADDR_STRLEN + 32];
	size_t i;

	fputs("batch\n", fp);
	for (i = 0; i < c->nd; i++) {
		d = &c->d[i];
		if (d->flush) {
			if (d->type == NFT_MSG_DELSETELEM)
				fprintf(fp, "flush %s %s %s\n", fam,
				    set->table, set->name);
			continue;
		}
		fprintf(fp, "%s %s %s %s %s",
		    d->type == NFT_MSG_NEWSETELEM ? "add" : "delete",
		    fam, set->table, set->name, key_text(c, d, buf,
		    sizeof(buf)));
		if (d->timeout_ms)
			fprintf(fp, " timeout %llu",
			    (unsigned long long)d->timeout_ms);
		if (d->expires_ms)
			fprintf(fp, " expires %llu",
			    (unsigned long long)d->expires_ms);
		if (set->interval)
			fputs(d->end ? " interval-end" : " interval-start", fp);
		else if (d->end)
			fputs(" interval-end", fp);
		fputc('\n', fp);
	}
	fputs(ok ? "commit\n" : "abort\n", fp);
}

static int
rec_send(struct nft *n, const struct nft_batch *b, struct nft_replies *rep)
{
	struct rec *r = n->priv;
	struct check c;
	struct mset *s, w;
	size_t i, j;
	uint32_t off;
	int rc = -1, ok = 1;

	memset(&c, 0, sizeof(c));
	memset(&w, 0, sizeof(w));
	c.b = b;
	c.klen = b->set->af == AF_INET ? 4 : 16;
	c.interval = b->set->interval;
	if ((c.err = calloc(b->nmsg, sizeof(*c.err))) == NULL ||
	    (c.errord = calloc(b->nmsg, sizeof(*c.errord))) == NULL) {
		nft_seterr(n, errno, "record: %s", strerror(errno));
		goto out;
	}
	if (decode(n, &c) == -1)
		goto out;
	if ((s = find_set(r, b->set, 1)) == NULL) {
		nft_seterr(n, ENOMEM, "record: %s", strerror(ENOMEM));
		goto out;
	}

	/* Apply to a copy; keep it only if nothing was refused. */
	w.n = s->n;
	if ((w.el = calloc(s->n + 1, sizeof(*w.el))) == NULL)
		goto oom;
	if (s->n > 0)
		memcpy(w.el, s->el, s->n * sizeof(*w.el));
	for (i = 0; i < c.nd; i = j) {
		for (j = i + 1; j < c.nd && !c.d[j].flush &&
		    c.d[j].type == c.d[i].type; j++)
			;
		if (c.d[i].flush) {
			w.n = 0;
			j = i + 1;
		} else if (c.d[i].type == NFT_MSG_NEWSETELEM) {
			if (add_group(&c, &w, i, j) == -1)
				goto oom;
		} else if (del_group(&c, &w, i, j) == -1)
			goto oom;
	}
	for (i = 0; i < b->nmsg; i++) {
		if (c.err[i] == 0)
			continue;
		ok = 0;
		if (nft_batch_nest_offset(b, &b->msg[i], c.errord[i],
		    &off) == -1)
			off = 0;
		if (nft_batch_reply_add(rep, b->msg[i].seq, c.err[i], off,
		    NULL) == -1)
			goto oom;
	}
	write_lines(r->fp, &c, ok);
	if (fflush(r->fp) == EOF || ferror(r->fp)) {
		nft_seterr(n, errno ? errno : EIO, "record: write: %s",
		    strerror(errno ? errno : EIO));
		goto out;
	}
	if (ok) {
		free(s->el);
		s->el = w.el;
		s->n = w.n;
		w.el = NULL;
	}
	rc = 0;
	goto out;
 oom:
	nft_seterr(n, ENOMEM, "record: %s", strerror(ENOMEM));
 out:
	free(w.el);
	free(c.d);
	free(c.err);
	free(c.errord);
	free(c.scratch);
	return rc;
}

static int
rec_list(struct nft *n, const struct nft_set *set, struct nft_raw **raw,
    size_t *cnt)
{
	struct rec *r = n->priv;
	struct mset *s = find_set(r, set, 0);
	struct nft_raw *out;
	struct addr end;
	size_t i, k = 0, klen = set->af == AF_INET ? 4 : 16;

	*raw = NULL;
	*cnt = 0;
	if (s == NULL || s->n == 0)
		return 0;
	if ((out = calloc(s->n * 2, sizeof(*out))) == NULL) {
		nft_seterr(n, errno, "%s: %s", set->name, strerror(errno));
		return -1;
	}
	for (i = 0; i < s->n; i++) {
		out[k].a.af = set->af;
		memcpy(out[k].a.u.b, s->el[i].lo, klen);
		out[k].timeout_ms = s->el[i].timeout_ms;
		out[k].expires_ms = s->el[i].expires_ms ?
		    s->el[i].expires_ms : s->el[i].timeout_ms;
		k++;
		if (!set->interval)
			continue;
		memset(&end, 0, sizeof(end));
		end.af = set->af;
		memcpy(end.u.b, s->el[i].hi, klen);
		if (addr_inc(&end))
			continue;	/* reaches the top */
		out[k].a = end;
		out[k].end = 1;
		k++;
	}
	*raw = out;
	*cnt = k;
	return 0;
}

static const struct nft_backend nft_backend_record = {
	.name = "record",
	.open = rec_open,
	.fit = rec_fit,
	.send = rec_send,
	.list = rec_list,
	.close = rec_close,
};

void
nft_record_register(void)
{
	if (nft_backend_register(&nft_backend_record) == -1)
		fatalx("%s: no room for another nft backend", __func__);
}

const char *
nft_record_text(const char *path)
{
	static char buf[1 << 20];
	FILE *fp;
	size_t n;

	if ((fp = fopen(path, "r")) == NULL)
		return "";
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}
