/*
 * nft_batch.c: build one nftables netlink batch in memory, with libmnl
 * (libnftnl only for the message headers and the flush).
 *
 *	nft_batch_init(b, set)		empty batch for one set
 *	nft_batch_begin(b, &seq)	NFNL_MSG_BATCH_BEGIN
 *	nft_batch_op(b, &seq, op, keys, n, st)	one operation: NEWSETELEM
 *				or DELSETELEM messages for keys[0..n), or a
 *				flush (DELSETELEM without elements)
 *	nft_batch_end(b, &seq)		NFNL_MSG_BATCH_END; NLM_F_ACK goes on
 *				the last data message only
 *	nft_batch_free(b)
 *	nft_batch_find(b, seq)		the message with that sequence number
 *	nft_batch_locate(b, m, off, &k)	which element nest of message m holds
 *				attribute offset off (from NLMSGERR_ATTR_OFFS);
 *				k indexes b->map, the caller's element
 *	nft_batch_nest_offset(b, m, i, &off)	the reverse: offset of nest i
 *	nft_batch_reply_add(r, seq, err, off, msg)	collect one error reply
 *
 * The messages are laid out back to back in one growing buffer, so the
 * whole batch goes to the kernel in one sendmsg() and the kernel applies
 * it as one transaction. Element lists are written attribute by
 * attribute; a message closes before its element nest would pass 65,535
 * bytes (the nlattr length is 16 bits), and each message gets 128 KiB of
 * free buffer first. Keys of elements marked NFT_ST_ISOLATE in st[] are put in a
 * message of their own, so that the kernel, which stops at the first bad
 * element of a message, reports every bad one among them.
 *
 * Returns: 0, or -1 with errno set (ENOMEM, or EPROTO when libnftnl did
 * not lay the elements out as expected).
 */
#include <sys/types.h>

#include <netinet/in.h>

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "common/addr.h"
#include "common/compat.h"
#include "nft/nft_int.h"

#define MSG_ROOM	(128 * 1024)	/* free space before each message */

void
nft_batch_init(struct nft_batch *b, const struct nft_set *set)
{
	memset(b, 0, sizeof(*b));
	b->set = set;
}

void
nft_batch_free(struct nft_batch *b)
{
	free(b->buf);
	free(b->msg);
	free(b->map);
	memset(b, 0, sizeof(*b));
}

static int
grow(void **p, size_t *cap, size_t need, size_t size)
{
	size_t ncap;
	void *np;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap : 64;
	while (ncap < need)
		ncap *= 2;
	if ((np = reallocarray(*p, ncap, size)) == NULL)
		return -1;
	/* libmnl leaves attribute padding unwritten: no stale bytes out. */
	memset((char *)np + *cap * size, 0, (ncap - *cap) * size);
	*p = np;
	*cap = ncap;
	return 0;
}

/* Room for one more message, and a slot in the message table. */
static char *
reserve(struct nft_batch *b)
{
	if (grow((void **)&b->buf, &b->cap, b->len + MSG_ROOM, 1) == -1 ||
	    grow((void **)&b->msg, &b->msgcap, b->nmsg + 1,
	    sizeof(*b->msg)) == -1)
		return NULL;
	return b->buf + b->len;
}

static void
commit_msg(struct nft_batch *b, struct nlmsghdr *nlh, uint16_t type,
    uint32_t seq, size_t count)
{
	struct nft_batch_msg *m = &b->msg[b->nmsg++];

	m->seq = seq;
	m->off = b->len;
	m->type = type;
	m->first = b->nmap - count;
	m->count = count;
	b->len += NLMSG_ALIGN(nlh->nlmsg_len);
}

int
nft_batch_begin(struct nft_batch *b, uint32_t *seq)
{
	struct nlmsghdr *nlh;
	char *p;

	if ((p = reserve(b)) == NULL)
		return -1;
	b->seq_begin = *seq;
	nlh = nftnl_batch_begin(p, (*seq)++);
	commit_msg(b, nlh, NFNL_MSG_BATCH_BEGIN, b->seq_begin, 0);
	return 0;
}

int
nft_batch_end(struct nft_batch *b, uint32_t *seq)
{
	struct nlmsghdr *nlh;
	size_t i;
	char *p;

	if ((p = reserve(b)) == NULL)
		return -1;
	b->seq_end = *seq;
	nlh = nftnl_batch_end(p, (*seq)++);
	commit_msg(b, nlh, NFNL_MSG_BATCH_END, b->seq_end, 0);

	/*
	 * One ACK, on the last data message: the kernel queues the replies
	 * of a batch in message order, so every error for an earlier
	 * message arrives before it, and a million-element batch does not
	 * overrun the receive buffer with ACKs (linux-libraries §1.3).
	 */
	for (i = b->nmsg - 1; i > 0; i--) {
		if (b->msg[i].type != NFNL_MSG_BATCH_BEGIN &&
		    b->msg[i].type != NFNL_MSG_BATCH_END) {
			nlh = (struct nlmsghdr *)(b->buf + b->msg[i].off);
			nlh->nlmsg_flags |= NLM_F_ACK;
			b->seq_last = b->msg[i].seq;
			break;
		}
	}
	return 0;
}

/* The NFTA_SET_ELEM_LIST_ELEMENTS nest of a set element message. */
static const struct nlattr *
elem_list(const struct nlmsghdr *nlh)
{
	const struct nlattr *attr;

	mnl_attr_for_each(attr, nlh, sizeof(struct nfgenmsg)) {
		if (mnl_attr_get_type(attr) == NFTA_SET_ELEM_LIST_ELEMENTS)
			return attr;
	}
	return NULL;
}

static struct nftnl_set *
set_alloc(const struct nft_set *set)
{
	struct nftnl_set *s;

	if ((s = nftnl_set_alloc()) == NULL)
		return NULL;
	if (nftnl_set_set_str(s, NFTNL_SET_TABLE, set->table) < 0 ||
	    nftnl_set_set_str(s, NFTNL_SET_NAME, set->name) < 0) {
		nftnl_set_free(s);
		return NULL;
	}
	return s;
}

/* Bytes one element nest takes (the attributes put_elem() writes). */
static size_t
elem_size(const struct nft_key *k, size_t klen, int timeouts)
{
	size_t sz = MNL_ATTR_HDRLEN +			/* NFTA_LIST_ELEM */
	    MNL_ATTR_HDRLEN +				/* NFTA_SET_ELEM_KEY */
	    MNL_ALIGN(MNL_ATTR_HDRLEN + klen);		/* NFTA_DATA_VALUE */

	if (k->end)
		sz += MNL_ALIGN(MNL_ATTR_HDRLEN + sizeof(uint32_t));
	if (timeouts && k->timeout_ms != 0)
		sz += MNL_ALIGN(MNL_ATTR_HDRLEN + sizeof(uint64_t));
	if (timeouts && k->expires_ms != 0)
		sz += MNL_ALIGN(MNL_ATTR_HDRLEN + sizeof(uint64_t));
	return sz;
}

/* One attribute header at p; the payload follows it. */
static unsigned char *
attr_hdr(unsigned char *p, uint16_t type, size_t paylen)
{
	struct nlattr a;

	a.nla_len = (uint16_t)(MNL_ATTR_HDRLEN + paylen);
	a.nla_type = type;
	memcpy(p, &a, sizeof(a));
	return p + MNL_ATTR_HDRLEN;
}

static unsigned char *
attr_u64(unsigned char *p, uint16_t type, uint64_t v)
{
	p = attr_hdr(p, type, sizeof(v));
	memcpy(p, &v, sizeof(v));
	return p + sizeof(v);
}

/*
 * One element nest, laid out as libnftnl does: nests numbered 1..n in
 * each message (the kernel ignores the type), then flags, timeout,
 * expiration, key. Written directly: a fill puts a million of them, and
 * libmnl's five calls per element (each finding the message's tail
 * again) were half the parent's time outside the kernel. The bytes are
 * libmnl's (t_nft elem_bytes_as_libmnl): sz is elem_size(), every
 * payload here is a multiple of 4 bytes, so no padding is written.
 */
static void
put_elem(struct nlmsghdr *nlh, uint16_t idx, const struct nft_key *k,
    size_t klen, int timeouts, size_t sz)
{
	unsigned char *e = (unsigned char *)nlh + MNL_ALIGN(nlh->nlmsg_len);
	unsigned char *p;
	uint32_t flags = htonl(NFT_SET_ELEM_INTERVAL_END);

	p = attr_hdr(e, (uint16_t)(NLA_F_NESTED | idx), sz -
	    MNL_ATTR_HDRLEN);
	if (k->end) {
		p = attr_hdr(p, NFTA_SET_ELEM_FLAGS, sizeof(flags));
		memcpy(p, &flags, sizeof(flags));
		p += sizeof(flags);
	}
	if (timeouts && k->timeout_ms != 0)
		p = attr_u64(p, NFTA_SET_ELEM_TIMEOUT, htobe64(k->timeout_ms));
	if (timeouts && k->expires_ms != 0)
		p = attr_u64(p, NFTA_SET_ELEM_EXPIRATION,
		    htobe64(k->expires_ms));
	p = attr_hdr(p, NLA_F_NESTED | NFTA_SET_ELEM_KEY, MNL_ATTR_HDRLEN +
	    klen);
	p = attr_hdr(p, NFTA_DATA_VALUE, klen);
	memcpy(p, k->key, klen);
	nlh->nlmsg_len = MNL_ALIGN(nlh->nlmsg_len) + (uint32_t)sz;
}

/*
 * Messages for keys[0..n), written attribute by attribute with libmnl
 * (a libnftnl object per element cost more than the kernel's insertion
 * of it): each message closes before its element list would pass the
 * 16-bit nest length.
 */
static int
build_run(struct nft_batch *b, uint32_t *seq, uint16_t type, uint16_t flags,
    const struct nft_key *keys, size_t n, int timeouts)
{
	struct nlmsghdr *nlh;
	struct nlattr *list;
	size_t klen = b->set->af == AF_INET ? 4 : 16, done = 0, cnt, room;
	char *p;

	if (grow((void **)&b->map, &b->mapcap, b->nmap + n,
	    sizeof(*b->map)) == -1)
		return -1;
	while (done < n) {
		if ((p = reserve(b)) == NULL)
			return -1;
		nlh = nftnl_nlmsg_build_hdr(p, type, b->set->family, flags,
		    *seq);
		mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, b->set->name);
		mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE,
		    b->set->table);
		list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
		room = UINT16_MAX - MNL_ATTR_HDRLEN;
		for (cnt = 0; done + cnt < n; cnt++) {
			size_t sz = elem_size(&keys[done + cnt], klen,
			    timeouts);

			if (sz > room)
				break;
			room -= sz;
			put_elem(nlh, (uint16_t)(cnt + 1), &keys[done + cnt],
			    klen, timeouts, sz);
			b->map[b->nmap++] = keys[done + cnt].in;
		}
		mnl_attr_nest_end(nlh, list);
		if (cnt == 0) {
			errno = EPROTO;
			return -1;
		}
		done += cnt;
		commit_msg(b, nlh, type, (*seq)++, cnt);
		b->ndata++;
	}
	return 0;
}

static int
isolated(const struct nft_key *k, const uint8_t *st)
{
	return st != NULL && k->in != NFT_NO_INPUT &&
	    (st[k->in] & NFT_ST_ISOLATE);
}

int
nft_batch_op(struct nft_batch *b, uint32_t *seq, enum nft_op op,
    const struct nft_key *keys, size_t n, const uint8_t *st)
{
	struct nftnl_set *s;
	struct nlmsghdr *nlh;
	uint16_t type, flags;
	size_t i, j;
	char *p;

	if (op == NFT_OP_FLUSH) {
		if ((p = reserve(b)) == NULL || (s = set_alloc(b->set)) == NULL)
			return -1;
		nlh = nftnl_nlmsg_build_hdr(p, NFT_MSG_DELSETELEM,
		    b->set->family, 0, *seq);
		nftnl_set_elems_nlmsg_build_payload(nlh, s);
		nftnl_set_free(s);
		commit_msg(b, nlh, NFT_MSG_DELSETELEM, (*seq)++, 0);
		b->ndata++;
		return 0;
	}
	if (op == NFT_OP_DEL) {
		type = NFT_MSG_DELSETELEM;
		flags = 0;
	} else {
		/* No NLM_F_EXCL: an element that exists is not an error. */
		type = NFT_MSG_NEWSETELEM;
		flags = NLM_F_CREATE;
	}
	for (i = 0; i < n; i = j) {
		/* A run ends before and after each isolated caller element. */
		j = i + 1;
		if (isolated(&keys[i], st)) {
			while (j < n && keys[j].in == keys[i].in)
				j++;
		} else {
			while (j < n && !isolated(&keys[j], st))
				j++;
		}
		if (build_run(b, seq, type, flags, keys + i, j - i,
		    op == NFT_OP_ADD_TIMEOUT) == -1)
			return -1;
	}
	return 0;
}

const struct nft_batch_msg *
nft_batch_find(const struct nft_batch *b, uint32_t seq)
{
	uint32_t i = seq - b->seq_begin;	/* seqs are consecutive */

	if (b->nmsg == 0 || i >= b->nmsg)
		return NULL;
	return &b->msg[i];
}

int
nft_batch_locate(const struct nft_batch *b, const struct nft_batch_msg *m,
    uint32_t off, size_t *k)
{
	const struct nlmsghdr *nlh = (const void *)(b->buf + m->off);
	const struct nlattr *list, *attr;
	size_t i = 0;
	uint32_t start;

	if ((list = elem_list(nlh)) == NULL)
		return 0;
	mnl_attr_for_each_nested(attr, list) {
		start = (uint32_t)((const char *)attr - (const char *)nlh);
		if (off >= start && off < start + attr->nla_len) {
			if (i >= m->count)
				return 0;
			*k = m->first + i;
			return 1;
		}
		i++;
	}
	return 0;
}

int
nft_batch_nest_offset(const struct nft_batch *b,
    const struct nft_batch_msg *m, size_t idx, uint32_t *off)
{
	const struct nlmsghdr *nlh = (const void *)(b->buf + m->off);
	const struct nlattr *list, *attr;
	size_t i = 0;

	if ((list = elem_list(nlh)) == NULL)
		return -1;
	mnl_attr_for_each_nested(attr, list) {
		if (i++ == idx) {
			*off = (uint32_t)((const char *)attr -
			    (const char *)nlh);
			return 0;
		}
	}
	return -1;
}

int
nft_batch_reply_add(struct nft_replies *r, uint32_t seq, int error,
    uint32_t off, const char *msg)
{
	struct nft_reply *p;

	if (grow((void **)&r->r, &r->cap, r->n + 1, sizeof(*r->r)) == -1)
		return -1;
	p = &r->r[r->n++];
	p->seq = seq;
	p->error = error;
	p->offset = off;
	p->msg[0] = '\0';
	if (msg != NULL)
		strlcpy(p->msg, msg, sizeof(p->msg));
	return 0;
}
