/*
 * nft.c: the public face of libnft (see nft.h): backends chosen by name,
 * and one commit loop shared by every change.
 *
 *	nft_open(spec)		"netlink", or "record:PATH" once a test has
 *				called nft_record_register(); either may carry
 *				",sndbuf=BYTES" before the colon
 *				("netlink,sndbuf=262144", "record,sndbuf=65536:-")
 *				to cap the size of one batch, as an unprivileged
 *				socket would (tests use it to force splitting)
 *	nft_open_errstr()	why the last nft_open failed (static buffer)
 *	nft_add, nft_del, nft_replace, nft_any, nft_list, nft_error, nft_errstr,
 *	nft_close		as documented in nft.h
 *	nft_backend_register(be)	(internal) another backend for
 *				nft_open(); tests add the record one
 *	nft_seterr(n, err, fmt, ...)	(internal) record a failure
 *	nft_family_name(f)	"inet", "ip", "ip6", ... for messages
 *
 * How a change is committed (commit()):
 *  1. Each caller element is checked locally (address family of the set,
 *     prefix length, an expiry without a timeout or beyond it); a bad one
 *     is logged, dropped and counted.
 *  2. The rest become keys and one batch: add = NEWSETELEM; NFT_REFRESH =
 *     add {x}, delete {x}, add {x timeout T} (a plain re-add does not
 *     refresh the timeout on 6.1 kernels); delete = add {x}, delete {x}
 *     (so an element that already expired is not an error); replace =
 *     flush, add.
 *  3. The batch is committed iff no reply carries a non-zero error. An
 *     error whose NETLINK_EXT_ACK offset falls inside an element nest and
 *     whose errno is about that element (EEXIST, EINVAL, ERANGE, ENOENT,
 *     EOVERFLOW, E2BIG) drops that element with the log line
 *     "set NAME: ADDR: <strerror>"; elements after it in the same
 *     message were not checked by the kernel, so they go alone in a
 *     message next time; the batch is rebuilt and re-sent, at most
 *     NFT_ROUNDS times. Any other error (missing table or set, EPERM, a
 *     full set, ...) fails the call: nft_error()/nft_errstr().
 *  4. nft_add and nft_del whose batch does not fit the socket's send
 *     buffer are split into several batches (logged). nft_replace never
 *     is: it fails with EMSGSIZE instead of leaving a window in which the
 *     set is half filled.
 *
 * Interval sets take CIDR blocks (nft_elem.a + plen). The caller merges
 * overlapping blocks first: the kernel refuses overlaps (EEXIST on 6.x),
 * and such an element is dropped as above. Adjacent blocks are fine.
 * nft_replace on an interval set also sends nft's "0.0.0.0 [end]"
 * sentinel (:: for IPv6), which older kernels' interval lookups rely on,
 * unless a block starts at address 0.
 *
 * The sending process must have CAP_NET_ADMIN *effective* at each call
 * of the netlink backend (nfnetlink checks the sender, not the socket
 * opener); this library never touches capabilities. The record backend
 * needs no privilege. One struct nft is not safe for concurrent use.
 */
#include <sys/types.h>

#include <netinet/in.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* libc headers before <linux/netfilter*.h>: struct in_addr clashes. */
#include <linux/netlink.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "common/addr.h"
#include "common/compat.h"
#include "common/log.h"
#include "nft/nft_int.h"

#define NFT_ROUNDS		8	/* sends of one batch, dropping bad elements */
#define NFT_LOG_REJECTS		20	/* per call; then one summary line */
#define NFT_NAME_MAX		255	/* kernel NFT_NAME_MAXLEN less the NUL */

enum cmd { CMD_ADD, CMD_DEL, CMD_REPLACE };

struct job {
	struct nft		*n;
	const struct nft_set	*set;
	enum cmd		 cmd;
	int			 flags;
	const struct nft_elem	*el;
	size_t			 cnt;
	uint8_t			*st;		/* NFT_ST_* per caller element */
	size_t			 nrej;
	struct nft_key		*keys;
	size_t			 nkeys, keycap;
	size_t			 last_len;	/* bytes of the last batch built */
};

/* The kernel's, then whatever nft_backend_register() added (tests). */
#define BACKENDS_MAX	4
static const struct nft_backend *backends[BACKENDS_MAX + 1] = {
	&nft_backend_netlink,
	NULL
};

static char open_errstr[NFT_ERRSTR_LEN];

const char *
nft_family_name(uint8_t f)
{
	switch (f) {
	case NFPROTO_INET:
		return "inet";
	case NFPROTO_IPV4:
		return "ip";
	case NFPROTO_IPV6:
		return "ip6";
	case NFPROTO_ARP:
		return "arp";
	case NFPROTO_BRIDGE:
		return "bridge";
	case NFPROTO_NETDEV:
		return "netdev";
	default:
		return "unknown";
	}
}

void
nft_seterr(struct nft *n, int err, const char *fmt, ...)
{
	va_list ap;

	n->err = err;
	va_start(ap, fmt);
	vsnprintf(n->errstr, sizeof(n->errstr), fmt, ap);
	va_end(ap);
}

int
nft_backend_register(const struct nft_backend *be)
{
	size_t i;

	for (i = 0; i < BACKENDS_MAX && backends[i] != NULL; i++) {
		if (backends[i] == be)
			return 0;
	}
	if (i == BACKENDS_MAX)
		return -1;
	backends[i] = be;
	return 0;
}

struct nft *
nft_open(const char *spec)
{
	const struct nft_backend **be;
	struct nft *n;
	const char *arg, *opt;
	char name[64];
	long long v;
	size_t len;
	const char *es;

	open_errstr[0] = '\0';
	if (spec == NULL)
		spec = "netlink";
	arg = strchr(spec, ':');
	len = arg != NULL ? (size_t)(arg - spec) : strlen(spec);
	if (len >= sizeof(name)) {
		snprintf(open_errstr, sizeof(open_errstr),
		    "nft backend name too long");
		errno = EINVAL;
		return NULL;
	}
	memcpy(name, spec, len);
	name[len] = '\0';
	if (arg != NULL)
		arg++;
	if ((n = calloc(1, sizeof(*n))) == NULL) {
		snprintf(open_errstr, sizeof(open_errstr), "%s",
		    strerror(errno));
		return NULL;
	}
	n->seq = 1;
	if ((opt = strchr(name, ',')) != NULL) {
		name[opt - name] = '\0';
		opt++;
		if (strncmp(opt, "sndbuf=", 7) != 0) {
			snprintf(open_errstr, sizeof(open_errstr),
			    "nft backend %s: unknown option \"%s\" "
			    "(only sndbuf=BYTES)", name, opt);
			goto inval;
		}
		v = strtonum(opt + 7, 4096, 1LL << 31, &es);
		if (es != NULL) {
			snprintf(open_errstr, sizeof(open_errstr),
			    "nft backend %s: sndbuf \"%s\" is %s (4096..2^31)",
			    name, opt + 7, es);
			goto inval;
		}
		n->sndbuf_cap = (size_t)v;
	}
	for (be = backends; *be != NULL; be++) {
		if (strcmp((*be)->name, name) == 0)
			break;
	}
	if (*be == NULL) {
		snprintf(open_errstr, sizeof(open_errstr),
		    "unknown nft backend \"%s\" (netlink, record:PATH)", name);
		goto inval;
	}
	n->be = *be;
	if (n->be->open(n, arg) == -1) {
		int e = errno;

		snprintf(open_errstr, sizeof(open_errstr), "%s", n->errstr);
		free(n);
		errno = e;
		return NULL;
	}
	return n;
 inval:
	free(n);
	errno = EINVAL;
	return NULL;
}

const char *
nft_open_errstr(void)
{
	return open_errstr;
}

void
nft_close(struct nft *n)
{
	if (n == NULL)
		return;
	n->be->close(n);
	free(n);
}

int
nft_error(const struct nft *n)
{
	return n->err;
}

const char *
nft_errstr(const struct nft *n)
{
	return n->errstr;
}

static unsigned int
plen_max(uint8_t af)
{
	return af == AF_INET ? 32 : 128;
}

static int
is_zero(const uint8_t *p, size_t len)
{
	while (len-- > 0)
		if (*p++ != 0)
			return 0;
	return 1;
}

/* "192.0.2.1" or, for interval sets, "192.0.2.0/24". */
static const char *
elem_text(const struct nft_set *set, const struct nft_elem *e, char *buf,
    size_t len)
{
	char a[ADDR_STRLEN];

	if (e->a.af != AF_INET && e->a.af != AF_INET6)
		snprintf(buf, len, "(address family %u)", e->a.af);
	else if (set->interval)
		snprintf(buf, len, "%s/%u", addr_ntop(&e->a, a, sizeof(a)),
		    e->plen);
	else
		addr_ntop(&e->a, buf, len);
	return buf;
}

static void
reject(struct job *j, size_t i, const char *why)
{
	char buf[CIDR_STRLEN + 32];

	if (j->st[i] == NFT_ST_REJECT)
		return;
	j->st[i] = NFT_ST_REJECT;
	if (j->nrej++ < NFT_LOG_REJECTS)
		log_warnx("set %s: %s: %s", j->set->name,
		    elem_text(j->set, &j->el[i], buf, sizeof(buf)), why);
}

/* Step 1: what the kernel would refuse anyway, or misread. */
static void
check_local(struct job *j)
{
	const struct nft_elem *e;
	size_t i;

	for (i = 0; i < j->cnt; i++) {
		e = &j->el[i];
		if (e->a.af != j->set->af)
			reject(j, i, j->set->af == AF_INET ?
			    "not an IPv4 address (the set is ipv4_addr)" :
			    "not an IPv6 address (the set is ipv6_addr)");
		else if (j->set->interval && e->plen > plen_max(e->a.af))
			reject(j, i, "prefix length out of range");
		else if (!j->set->interval && e->plen != 0 &&
		    e->plen != plen_max(e->a.af))
			reject(j, i, "a prefix on a set without flags interval");
		else if (j->cmd != CMD_DEL && e->expires_ms != 0 &&
		    e->timeout_ms == 0)
			reject(j, i, "an expiry without a timeout");
		else if (j->cmd != CMD_DEL && e->expires_ms > e->timeout_ms)
			/* 6.18 says ERANGE; say why, on every kernel. */
			reject(j, i, "an expiry later than its timeout");
	}
}

static int
keys_push(struct job *j, const struct nft_key *k)
{
	struct nft_key *nk;
	size_t ncap;

	if (j->nkeys == j->keycap) {
		ncap = j->keycap ? j->keycap * 2 : 256;
		if ((nk = reallocarray(j->keys, ncap, sizeof(*nk))) == NULL)
			return -1;
		j->keys = nk;
		j->keycap = ncap;
	}
	j->keys[j->nkeys++] = *k;
	return 0;
}

/*
 * The batch for caller elements [lo, hi). Returns 1 when there is
 * nothing to send, 0 when built, -1 on error.
 */
static int
build(struct job *j, size_t lo, size_t hi, struct nft_batch *b)
{
	struct nft *n = j->n;
	struct nft_key k[2], sentinel;
	size_t i;
	int c, zero = 0;

	j->nkeys = 0;
	for (i = lo; i < hi; i++) {
		if (j->st[i] == NFT_ST_REJECT)
			continue;
		if ((c = nft_interval_keys(j->set, &j->el[i], (uint32_t)i,
		    k)) == -1)
			continue;	/* check_local rejected it */
		if (j->set->interval && is_zero(k[0].key,
		    addr_len(&j->el[i].a)))
			zero = 1;
		if (keys_push(j, &k[0]) == -1 ||
		    (c == 2 && keys_push(j, &k[1]) == -1))
			return -1;
	}
	if (j->nkeys == 0 && j->cmd != CMD_REPLACE)
		return 1;

	nft_batch_init(b, j->set);
	if (nft_batch_begin(b, &n->seq) == -1)
		return -1;
	switch (j->cmd) {
	case CMD_ADD:
		if (j->flags & NFT_REFRESH) {
			if (nft_batch_op(b, &n->seq, NFT_OP_ADD, j->keys,
			    j->nkeys, j->st) == -1 ||
			    nft_batch_op(b, &n->seq, NFT_OP_DEL, j->keys,
			    j->nkeys, j->st) == -1)
				return -1;
		}
		if (nft_batch_op(b, &n->seq, NFT_OP_ADD_TIMEOUT, j->keys,
		    j->nkeys, j->st) == -1)
			return -1;
		break;
	case CMD_DEL:
		if (nft_batch_op(b, &n->seq, NFT_OP_ADD, j->keys, j->nkeys,
		    j->st) == -1 ||
		    nft_batch_op(b, &n->seq, NFT_OP_DEL, j->keys, j->nkeys,
		    j->st) == -1)
			return -1;
		break;
	case CMD_REPLACE:
		if (nft_batch_op(b, &n->seq, NFT_OP_FLUSH, NULL, 0,
		    NULL) == -1)
			return -1;
		if (j->set->interval && j->nkeys > 0 && !zero) {
			/* What nft sends with the first interval of a set. */
			memset(&sentinel, 0, sizeof(sentinel));
			sentinel.end = 1;
			sentinel.in = NFT_NO_INPUT;
			if (nft_batch_op(b, &n->seq, NFT_OP_ADD, &sentinel, 1,
			    NULL) == -1)
				return -1;
		}
		if (j->nkeys > 0 && nft_batch_op(b, &n->seq,
		    NFT_OP_ADD_TIMEOUT, j->keys, j->nkeys, j->st) == -1)
			return -1;
		break;
	}
	if (nft_batch_end(b, &n->seq) == -1)
		return -1;
	j->last_len = b->len;
	log_debug("set %s: batch of %zu messages, %zu bytes, %zu keys",
	    j->set->name, b->nmsg, b->len, j->nkeys);
	return 0;
}

/* Errors that name one element and say nothing about the others. */
static int
per_element(int err)
{
	switch (err) {
	case EEXIST:
	case EINVAL:
	case ERANGE:
	case ENOENT:
	case EOVERFLOW:
	case E2BIG:
		return 1;
	default:
		return 0;
	}
}

static void
fail_reply(struct job *j, const struct nft_batch *b,
    const struct nft_reply *r, const struct nft_batch_msg *m, int on_elem)
{
	const struct nft_set *set = j->set;
	const char *fam = nft_family_name(set->family);
	char hint[NFT_ERRSTR_LEN / 2];
	const struct nlattr *attr;
	const char *what = "";

	hint[0] = '\0';
	if (r->error == ENOENT && !on_elem) {
		if (m != NULL && r->offset != 0 &&
		    r->offset + sizeof(*attr) <= (size_t)((const struct
		    nlmsghdr *)(b->buf + m->off))->nlmsg_len) {
			attr = (const void *)(b->buf + m->off + r->offset);
			if (attr->nla_type == NFTA_SET_ELEM_LIST_TABLE)
				what = "table";
			else if (attr->nla_type == NFTA_SET_ELEM_LIST_SET)
				what = "set";
		}
		if (strcmp(what, "table") == 0)
			snprintf(hint, sizeof(hint), " (no table %s %s)", fam,
			    set->table);
		else if (strcmp(what, "set") == 0)
			snprintf(hint, sizeof(hint), " (no set %s in table %s"
			    " %s)", set->name, fam, set->table);
		else
			snprintf(hint, sizeof(hint), " (table %s %s or its"
			    " set %s is missing)", fam, set->table, set->name);
	} else if (r->error == EPERM)
		snprintf(hint, sizeof(hint), " (CAP_NET_ADMIN must be"
		    " effective in the sending process)");
	else if (r->error == ENFILE)
		snprintf(hint, sizeof(hint), " (the set is full: its size"
		    " limit was reached)");
	else if (r->msg[0] != '\0')
		snprintf(hint, sizeof(hint), " (%s)", r->msg);
	nft_seterr(j->n, r->error, "%s: %s%s", set->name,
	    strerror(r->error), hint);
}

#define COMMITTED	0
#define NEED_SPLIT	2

/* Commit caller elements [lo, hi) as one batch, dropping bad elements. */
static int
commit(struct job *j, size_t lo, size_t hi)
{
	struct nft *n = j->n;
	struct nft_replies rep = { NULL, 0, 0 };
	const struct nft_batch_msg *m;
	const struct nft_reply *r, *fatal;
	struct nft_batch b;
	size_t i, k, newrej;
	uint32_t in;
	int round, rc, on_elem;
	char why[128];

	for (round = 0; round < NFT_ROUNDS; round++) {
		memset(&b, 0, sizeof(b));
		if ((rc = build(j, lo, hi, &b)) != 0) {
			nft_batch_free(&b);
			if (rc == 1) {
				free(rep.r);
				return COMMITTED;	/* all dropped */
			}
			nft_seterr(n, errno, "%s: building the batch: %s",
			    j->set->name, strerror(errno));
			goto fail;
		}
		if (!n->be->fit(n, b.len)) {
			nft_batch_free(&b);
			free(rep.r);
			return NEED_SPLIT;
		}
		rep.n = 0;
		if (n->be->send(n, &b, &rep) == -1) {
			nft_batch_free(&b);
			goto fail;
		}
		if (rep.n == 0) {
			nft_batch_free(&b);
			free(rep.r);
			return COMMITTED;
		}
		newrej = 0;
		fatal = NULL;
		for (i = 0; i < rep.n; i++) {
			r = &rep.r[i];
			m = nft_batch_find(&b, r->seq);
			on_elem = m != NULL && r->offset != 0 &&
			    nft_batch_locate(&b, m, r->offset, &k);
			in = on_elem ? b.map[k] : NFT_NO_INPUT;
			if (on_elem && in != NFT_NO_INPUT &&
			    per_element(r->error)) {
				if (j->st[in] != NFT_ST_REJECT) {
					snprintf(why, sizeof(why), "%s%s%s%s",
					    strerror(r->error),
					    r->msg[0] ? " (" : "", r->msg,
					    r->msg[0] ? ")" : "");
					reject(j, in, why);
					newrej++;
				}
				/* The kernel did not look past it. */
				for (k++; k < m->first + m->count; k++) {
					in = b.map[k];
					if (in != NFT_NO_INPUT &&
					    j->st[in] == NFT_ST_OK)
						j->st[in] = NFT_ST_ISOLATE;
				}
				continue;
			}
			if (fatal == NULL) {
				fatal = r;
				fail_reply(j, &b, r, m, on_elem);
			}
		}
		nft_batch_free(&b);
		if (fatal != NULL)
			goto fail;
		if (newrej == 0) {
			nft_seterr(n, EPROTO, "%s: the kernel refused the batch"
			    " without naming a new element", j->set->name);
			goto fail;
		}
		log_info("set %s: re-sending without %zu rejected element%s",
		    j->set->name, newrej, newrej == 1 ? "" : "s");
	}
	nft_seterr(n, EAGAIN, "%s: still refused after %d attempts",
	    j->set->name, NFT_ROUNDS);
 fail:
	free(rep.r);
	return -1;
}

static int
check_set(struct nft *n, const struct nft_set *set)
{
	if (set == NULL || set->table == NULL || set->name == NULL ||
	    set->table[0] == '\0' || set->name[0] == '\0') {
		nft_seterr(n, EINVAL, "no table or set name");
		return -1;
	}
	if (strlen(set->table) > NFT_NAME_MAX ||
	    strlen(set->name) > NFT_NAME_MAX) {
		nft_seterr(n, ENAMETOOLONG, "%.32s...: name too long",
		    set->name);
		return -1;
	}
	if (set->af != AF_INET && set->af != AF_INET6) {
		nft_seterr(n, EAFNOSUPPORT, "%s: key family %u is neither"
		    " AF_INET nor AF_INET6", set->name, set->af);
		return -1;
	}
	return 0;
}

static int
run(struct nft *n, const struct nft_set *set, enum cmd cmd,
    const struct nft_elem *el, size_t cnt, int flags)
{
	struct job j;
	size_t lo, hi, chunk, nbatch = 0;
	int rc, split = 0, ret = -1;

	n->err = 0;
	n->errstr[0] = '\0';
	if (check_set(n, set) == -1)
		return -1;
	if (cnt > 0 && el == NULL) {
		nft_seterr(n, EINVAL, "%s: no elements", set->name);
		return -1;
	}
	if (cnt >= NFT_NO_INPUT) {
		nft_seterr(n, E2BIG, "%s: %zu elements in one call",
		    set->name, cnt);
		return -1;
	}
	memset(&j, 0, sizeof(j));
	j.n = n;
	j.set = set;
	j.cmd = cmd;
	j.flags = flags;
	j.el = el;
	j.cnt = cnt;
	if (cnt > 0 && (j.st = calloc(cnt, 1)) == NULL) {
		nft_seterr(n, errno, "%s: %s", set->name, strerror(errno));
		return -1;
	}
	check_local(&j);

	if (cmd == CMD_REPLACE) {
		if ((rc = commit(&j, 0, cnt)) == NEED_SPLIT) {
			nft_seterr(n, EMSGSIZE, "%s: replacing needs a batch of"
			    " %zu bytes, more than the socket send buffer"
			    " allows (CAP_NET_ADMIN is needed for"
			    " SO_SNDBUFFORCE, or raise net.core.wmem_max);"
			    " the set was not changed", set->name, j.last_len);
			goto out;
		}
		if (rc < 0)
			goto out;
		nbatch = 1;
	} else {
		chunk = cnt;
		for (lo = 0; lo < cnt; lo = hi) {
			hi = lo + chunk < cnt ? lo + chunk : cnt;
			rc = commit(&j, lo, hi);
			if (rc == NEED_SPLIT) {
				if (hi - lo == 1) {
					nft_seterr(n, EMSGSIZE, "%s: one element"
					    " does not fit the socket send"
					    " buffer", set->name);
					goto out;
				}
				if (!split)
					log_info("set %s: %zu elements need a"
					    " %zu-byte batch, more than the"
					    " socket send buffer allows;"
					    " splitting into several batches",
					    set->name, hi - lo, j.last_len);
				split = 1;
				chunk = (hi - lo) / 2;
				hi = lo;
				continue;
			}
			if (rc < 0) {
				if (lo > 0)
					log_warnx("set %s: %zu of %zu elements"
					    " were committed before the"
					    " failure", set->name, lo, cnt);
				goto out;
			}
			nbatch++;
		}
		if (split)
			log_info("set %s: sent %zu elements in %zu batches",
			    set->name, cnt, nbatch);
	}
	if (j.nrej > NFT_LOG_REJECTS)
		log_warnx("set %s: %zu more elements rejected (not logged)",
		    set->name, j.nrej - NFT_LOG_REJECTS);
	ret = j.nrej > INT32_MAX ? INT32_MAX : (int)j.nrej;
 out:
	free(j.st);
	free(j.keys);
	return ret;
}

int
nft_add(struct nft *n, const struct nft_set *set, const struct nft_elem *el,
    size_t cnt, int flags)
{
	return run(n, set, CMD_ADD, el, cnt, flags);
}

int
nft_del(struct nft *n, const struct nft_set *set, const struct nft_elem *el,
    size_t cnt)
{
	return run(n, set, CMD_DEL, el, cnt, 0);
}

int
nft_replace(struct nft *n, const struct nft_set *set,
    const struct nft_elem *el, size_t cnt)
{
	return run(n, set, CMD_REPLACE, el, cnt, 0);
}

int
nft_any(struct nft *n, const struct nft_set *set)
{
	n->err = 0;
	n->errstr[0] = '\0';
	if (check_set(n, set) == -1)
		return -1;
	if (n->be->any == NULL)
		return 1;	/* cannot tell: say full, the safe answer */
	return n->be->any(n, set);
}

int
nft_list(struct nft *n, const struct nft_set *set, struct nft_elem **el,
    size_t *cnt)
{
	struct nft_raw *raw = NULL;
	size_t nraw = 0;
	int rc;

	*el = NULL;
	*cnt = 0;
	n->err = 0;
	n->errstr[0] = '\0';
	if (check_set(n, set) == -1)
		return -1;
	if (n->be->list(n, set, &raw, &nraw) == -1) {
		free(raw);
		return -1;
	}
	rc = nft_interval_to_cidrs(set, raw, nraw, el, cnt);
	if (rc == -1)
		nft_seterr(n, errno, "%s: %s", set->name, strerror(errno));
	free(raw);
	return rc;
}
