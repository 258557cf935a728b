/*
 * nft_netlink.c: the "netlink" backend: batches to the kernel over libmnl.
 *
 *	nft_backend_netlink	open, fit, send, list, close (see nft_int.h)
 *
 * open	a NETLINK_NETFILTER socket with NETLINK_EXT_ACK (errors carry the
 *	offset of the offending attribute) and NETLINK_CAP_ACK (errors do
 *	not echo our 64 KiB messages back), and a 1 MiB receive buffer.
 *	Opening needs no privilege; every send does (CAP_NET_ADMIN
 *	effective, checked by nfnetlink per message).
 * fit	raises SO_SNDBUFFORCE to the batch size, or SO_SNDBUF (capped by
 *	net.core.wmem_max) without CAP_NET_ADMIN: one sendmsg() must not be
 *	larger than sk_sndbuf - 32 or it fails with EMSGSIZE.
 * send	one sendmsg(); the kernel processes the batch inside it, so the
 *	replies are queued when it returns. They are read until the ACK of
 *	the last data message (the only one that asks for it) or an error
 *	on the batch-begin message (EPERM, or a commit failure), with a
 *	bounded wait, then drained without blocking. Replies of earlier
 *	batches are recognised by sequence number and skipped.
 * list	an NFT_MSG_GETSETELEM dump read with a 64 KiB buffer (libmnl
 *	1.0.4 has no MNL_SOCKET_DUMP_SIZE); retried when the kernel marks
 *	it interrupted (NLM_F_DUMP_INTR). Dumps grow quadratically with
 *	the set (linux-libraries §1.6): never poll with it.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/set.h>
#include <linux/netlink.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "common/addr.h"
#include "common/clock.h"
#include "common/compat.h"
#include "common/log.h"
#include "nft/nft_int.h"

#define RCVBUF		(1024 * 1024)	/* error replies of a failing batch */
#define RBUF_LEN	(64 * 1024)	/* one recv: a dump message fits */
#define REPLY_WAIT_MS	5000		/* the kernel answers inside sendmsg */
#define DUMP_TRIES	3
#define DUMP_REQ_LEN	1024

struct nl {
	struct mnl_socket	*nl;
	int			 fd;
	uint32_t		 portid;
	int			 sndbuf;	/* sk_sndbuf as the kernel reports */
	char			*rbuf;
};

static int
nl_open(struct nft *n, const char *arg)
{
	struct nl *p;
	int one = 1, v = RCVBUF;
	socklen_t sl;

	if (arg != NULL) {
		nft_seterr(n, EINVAL, "the netlink backend takes no argument"
		    " (\"%s\")", arg);
		errno = EINVAL;
		return -1;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (p->rbuf = malloc(RBUF_LEN)) == NULL) {
		nft_seterr(n, errno, "netlink: %s", strerror(errno));
		goto fail;
	}
	if ((p->nl = mnl_socket_open(NETLINK_NETFILTER)) == NULL) {
		nft_seterr(n, errno, "netlink socket: %s", strerror(errno));
		goto fail;
	}
	if (mnl_socket_bind(p->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		nft_seterr(n, errno, "netlink bind: %s", strerror(errno));
		goto fail;
	}
	p->fd = mnl_socket_get_fd(p->nl);
	p->portid = mnl_socket_get_portid(p->nl);
	/* Old kernels lack these; errors then simply name no element. */
	if (setsockopt(p->fd, SOL_NETLINK, NETLINK_EXT_ACK, &one,
	    sizeof(one)) == -1)
		log_debug("netlink: NETLINK_EXT_ACK: %s", strerror(errno));
	if (setsockopt(p->fd, SOL_NETLINK, NETLINK_CAP_ACK, &one,
	    sizeof(one)) == -1)
		log_debug("netlink: NETLINK_CAP_ACK: %s", strerror(errno));
	if (setsockopt(p->fd, SOL_SOCKET, SO_RCVBUFFORCE, &v,
	    sizeof(v)) == -1 &&
	    setsockopt(p->fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)) == -1)
		log_debug("netlink: SO_RCVBUF: %s", strerror(errno));
	sl = sizeof(p->sndbuf);
	if (getsockopt(p->fd, SOL_SOCKET, SO_SNDBUF, &p->sndbuf, &sl) == -1) {
		nft_seterr(n, errno, "netlink SO_SNDBUF: %s", strerror(errno));
		goto fail;
	}
	n->priv = p;
	return 0;
 fail:
	if (p != NULL) {
		if (p->nl != NULL)
			mnl_socket_close(p->nl);
		free(p->rbuf);
		free(p);
	}
	return -1;
}

static void
nl_close(struct nft *n)
{
	struct nl *p = n->priv;

	if (p == NULL)
		return;
	mnl_socket_close(p->nl);
	free(p->rbuf);
	free(p);
	n->priv = NULL;
}

static int
nl_fit(struct nft *n, size_t len)
{
	struct nl *p = n->priv;
	size_t need = len + 32;
	socklen_t sl = sizeof(p->sndbuf);
	int v;

	if (n->sndbuf_cap != 0 && need > n->sndbuf_cap)
		return 0;
	if (need <= (size_t)p->sndbuf)
		return 1;
	if (need > INT32_MAX / 2)
		return 0;
	v = (int)need;
	if (setsockopt(p->fd, SOL_SOCKET, SO_SNDBUFFORCE, &v,
	    sizeof(v)) == -1 &&
	    setsockopt(p->fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)) == -1)
		log_debug("netlink: SO_SNDBUF %d: %s", v, strerror(errno));
	if (getsockopt(p->fd, SOL_SOCKET, SO_SNDBUF, &p->sndbuf, &sl) == -1)
		return 0;
	return need <= (size_t)p->sndbuf;
}

struct ext_ack {
	uint32_t	 offset;
	const char	*msg;
};

static int
ext_ack_cb(const struct nlattr *attr, void *data)
{
	struct ext_ack *x = data;

	switch (mnl_attr_get_type(attr)) {
	case NLMSGERR_ATTR_OFFS:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
			x->offset = mnl_attr_get_u32(attr);
		break;
	case NLMSGERR_ATTR_MSG:
		if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
			x->msg = mnl_attr_get_str(attr);
		break;
	}
	return MNL_CB_OK;
}

/* Decode an NLMSG_ERROR; 0 if it is malformed. */
static int
parse_error(const struct nlmsghdr *nlh, int *err, struct ext_ack *x)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	size_t hl = sizeof(*e);

	x->offset = 0;
	x->msg = NULL;
	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e)))
		return 0;
	*err = -e->error;
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return 1;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		hl += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
	if (mnl_nlmsg_size(hl) <= nlh->nlmsg_len)
		(void)mnl_attr_parse(nlh, (unsigned int)hl, ext_ack_cb, x);
	return 1;
}

/* Wait for the socket to be readable; 0 on timeout. */
static int
wait_readable(int fd, uint64_t deadline)
{
	struct pollfd pfd = { fd, POLLIN, 0 };
	uint64_t now = clock_mono_ms();
	int rc;

	if (now >= deadline)
		return 0;
	do {
		rc = poll(&pfd, 1, (int)(deadline - now));
	} while (rc == -1 && errno == EINTR);
	return rc;
}

static int
nl_send(struct nft *n, const struct nft_batch *b, struct nft_replies *rep)
{
	struct nl *p = n->priv;
	const char *name = b->set->name;
	const struct nlmsghdr *nlh;
	struct ext_ack x;
	uint64_t deadline;
	ssize_t len;
	int done = 0, lost = 0, err, rc;
	uint32_t seq;

	if (mnl_socket_sendto(p->nl, b->buf, b->len) < 0) {
		nft_seterr(n, errno, "%s: sendmsg: %s", name, strerror(errno));
		return -1;
	}
	deadline = clock_mono_ms() + REPLY_WAIT_MS;
	for (;;) {
		len = recv(p->fd, p->rbuf, RBUF_LEN, MSG_DONTWAIT);
		if (len == -1) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				lost = 1;
				continue;
			}
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				nft_seterr(n, errno, "%s: recv: %s", name,
				    strerror(errno));
				return -1;
			}
			if (done || lost)
				break;
			if ((rc = wait_readable(p->fd, deadline)) == -1) {
				nft_seterr(n, errno, "%s: poll: %s", name,
				    strerror(errno));
				return -1;
			}
			if (rc == 0) {
				nft_seterr(n, ETIMEDOUT, "%s: no answer from"
				    " the kernel in %d ms; the set may or may"
				    " not have changed", name, REPLY_WAIT_MS);
				return -1;
			}
			continue;
		}
		for (nlh = (const void *)p->rbuf; mnl_nlmsg_ok(nlh, (int)len);
		    nlh = mnl_nlmsg_next(nlh, (int *)&len)) {
			seq = nlh->nlmsg_seq;
			/* Ours, and of this batch (seq may wrap). */
			if (nlh->nlmsg_pid != p->portid ||
			    seq - b->seq_begin > b->seq_end - b->seq_begin)
				continue;
			if (nlh->nlmsg_type != NLMSG_ERROR ||
			    !parse_error(nlh, &err, &x))
				continue;
			if (err != 0 && nft_batch_reply_add(rep, seq, err,
			    x.offset, x.msg) == -1) {
				nft_seterr(n, errno, "%s: %s", name,
				    strerror(errno));
				return -1;
			}
			if (seq == b->seq_last ||
			    (seq == b->seq_begin && err != 0))
				done = 1;
		}
	}
	if (lost) {
		/*
		 * Error replies were dropped: we cannot tell whether the
		 * kernel committed. Say so; the caller re-syncs.
		 */
		nft_seterr(n, ENOBUFS, "%s: replies lost (receive buffer"
		    " overrun): the set may or may not have changed", name);
		return -1;
	}
	return 0;
}

struct dump {
	struct nft		*n;
	const struct nft_set	*set;
	struct nft_raw		*raw;
	size_t			 cnt, cap;
};

static int
dump_msg(struct dump *d, const struct nlmsghdr *nlh)
{
	struct nftnl_set *s;
	struct nftnl_set_elems_iter *it;
	struct nftnl_set_elem *e;
	struct nft_raw *r, *nr;
	const void *key;
	uint32_t klen, want = d->set->af == AF_INET ? 4 : 16;
	int rc = -1;

	if ((s = nftnl_set_alloc()) == NULL)
		goto oom;
	if (nftnl_set_elems_nlmsg_parse(nlh, s) < 0) {
		nft_seterr(d->n, EPROTO, "%s: unreadable element dump",
		    d->set->name);
		nftnl_set_free(s);
		return -1;
	}
	if ((it = nftnl_set_elems_iter_create(s)) == NULL) {
		nftnl_set_free(s);
		goto oom;
	}
	while ((e = nftnl_set_elems_iter_next(it)) != NULL) {
		key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &klen);
		if (key == NULL || klen != want) {
			nft_seterr(d->n, EPROTO, "%s: element key of %u bytes"
			    " in a set said to be %s", d->set->name,
			    key == NULL ? 0 : klen,
			    want == 4 ? "ipv4_addr" : "ipv6_addr");
			goto out;
		}
		if (d->cnt == d->cap) {
			size_t ncap = d->cap ? d->cap * 2 : 256;

			if ((nr = reallocarray(d->raw, ncap,
			    sizeof(*nr))) == NULL) {
				nft_seterr(d->n, errno, "%s: %s",
				    d->set->name, strerror(errno));
				goto out;
			}
			d->raw = nr;
			d->cap = ncap;
		}
		r = &d->raw[d->cnt++];
		memset(r, 0, sizeof(*r));
		r->a.af = d->set->af;
		memcpy(r->a.u.b, key, klen);
		if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_FLAGS) &&
		    (nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_FLAGS) &
		    NFT_SET_ELEM_INTERVAL_END))
			r->end = 1;
		if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_TIMEOUT))
			r->timeout_ms = nftnl_set_elem_get_u64(e,
			    NFTNL_SET_ELEM_TIMEOUT);
		if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_EXPIRATION))
			r->expires_ms = nftnl_set_elem_get_u64(e,
			    NFTNL_SET_ELEM_EXPIRATION);
	}
	rc = 0;
 out:
	nftnl_set_elems_iter_destroy(it);
	nftnl_set_free(s);
	return rc;
 oom:
	nft_seterr(d->n, ENOMEM, "%s: %s", d->set->name, strerror(ENOMEM));
	return -1;
}

/*
 * Ask, on socket nl, for a dump of set's elements with sequence seq;
 * the request is built in req (DUMP_REQ_LEN bytes).
 */
static int
dump_request(struct nft *n, struct mnl_socket *nl, const struct nft_set *set,
    uint32_t seq, char *req)
{
	struct nftnl_set *s;
	struct nlmsghdr *nlh;

	if ((s = nftnl_set_alloc()) == NULL) {
		nft_seterr(n, ENOMEM, "%s: %s", set->name, strerror(ENOMEM));
		return -1;
	}
	/* The attributes' padding bytes must not carry stack contents. */
	memset(req, 0, DUMP_REQ_LEN);
	nftnl_set_set_str(s, NFTNL_SET_TABLE, set->table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, set->name);
	nlh = nftnl_nlmsg_build_hdr(req, NFT_MSG_GETSETELEM, set->family,
	    NLM_F_DUMP, seq);
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		nft_seterr(n, errno, "%s: sendmsg: %s", set->name,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * The messages of one datagram of the dump: 1 at its end (*intr says
 * whether the kernel interrupted it), 0 for more, -1 with the error.
 */
static int
dump_datagram(struct nft *n, const struct nft_set *set, struct dump *d,
    uint32_t seq, ssize_t len, int *intr)
{
	struct nl *p = n->priv;
	const struct nlmsghdr *m;
	struct ext_ack x;
	int err;

	for (m = (const void *)p->rbuf; mnl_nlmsg_ok(m, (int)len);
	    m = mnl_nlmsg_next(m, (int *)&len)) {
		if (m->nlmsg_seq != seq || m->nlmsg_pid != p->portid)
			continue;
		if (m->nlmsg_flags & NLM_F_DUMP_INTR)
			*intr = 1;
		if (m->nlmsg_type == NLMSG_DONE) {
			err = 0;
			if (m->nlmsg_len >= mnl_nlmsg_size(sizeof(int)))
				memcpy(&err, mnl_nlmsg_get_payload(m),
				    sizeof(err));
			if (err >= 0)
				return 1;
			nft_seterr(n, -err, "%s: listing: %s",
			    set->name, strerror(-err));
			return -1;
		}
		if (m->nlmsg_type == NLMSG_ERROR) {
			if (!parse_error(m, &err, &x))
				continue;
			if (err == 0)
				continue;
			nft_seterr(n, err, "%s: %s%s", set->name,
			    strerror(err), err == ENOENT ?
			    " (no such table or set)" : err == EPERM ?
			    " (CAP_NET_ADMIN must be effective)" : "");
			return -1;
		}
		if (NFNL_MSG_TYPE(m->nlmsg_type) != NFT_MSG_NEWSETELEM)
			continue;
		if (dump_msg(d, m) == -1)
			return -1;
	}
	return 0;
}

/* One dump attempt: 0 done, 1 interrupted (retry), -1 error. */
static int
dump_once(struct nft *n, const struct nft_set *set, struct dump *d)
{
	struct nl *p = n->priv;
	struct iovec iov;
	struct msghdr mh;
	struct sockaddr_nl sa;
	uint64_t deadline;
	uint32_t seq = n->seq++;
	ssize_t len;
	int rc, intr = 0;
	char req[DUMP_REQ_LEN];

	d->cnt = 0;
	if (dump_request(n, p->nl, set, seq, req) == -1)
		return -1;
	deadline = clock_mono_ms() + REPLY_WAIT_MS;
	for (;;) {
		iov.iov_base = p->rbuf;
		iov.iov_len = RBUF_LEN;
		memset(&mh, 0, sizeof(mh));
		mh.msg_name = &sa;
		mh.msg_namelen = sizeof(sa);
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		len = recvmsg(p->fd, &mh, MSG_DONTWAIT);
		if (len == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				if ((rc = wait_readable(p->fd, deadline)) > 0)
					continue;
				nft_seterr(n, rc == 0 ? ETIMEDOUT : errno,
				    "%s: listing: %s", set->name,
				    rc == 0 ? "no answer from the kernel" :
				    strerror(errno));
				return -1;
			}
			nft_seterr(n, errno, "%s: listing: %s", set->name,
			    strerror(errno));
			return -1;
		}
		if (mh.msg_flags & MSG_TRUNC) {
			nft_seterr(n, EMSGSIZE, "%s: listing: a dump message"
			    " did not fit %d bytes", set->name, RBUF_LEN);
			return -1;
		}
		/* A reply may take up to REPLY_WAIT_MS from the last one. */
		deadline = clock_mono_ms() + REPLY_WAIT_MS;
		if ((rc = dump_datagram(n, set, d, seq, len, &intr)) != 0)
			return rc == 1 ? intr : -1;
	}
}

static int
nl_list(struct nft *n, const struct nft_set *set, struct nft_raw **raw,
    size_t *cnt)
{
	struct dump d = { n, set, NULL, 0, 0 };
	int i, rc = 1;

	for (i = 0; i < DUMP_TRIES && rc == 1; i++)
		rc = dump_once(n, set, &d);
	if (rc == 1) {
		nft_seterr(n, EINTR, "%s: the set kept changing during %d"
		    " listings", set->name, DUMP_TRIES);
		rc = -1;
	}
	if (rc == -1) {
		free(d.raw);
		return -1;
	}
	*raw = d.raw;
	*cnt = d.cnt;
	return 0;
}

/* Record err for the probe of set, naming what is missing if we can. */
static void
any_error(struct nft *n, const struct nft_set *set, int err,
    const struct ext_ack *x, const char *req)
{
	const struct nlmsghdr *nlh = (const void *)req;
	const struct nlattr *attr;
	const char *fam = nft_family_name(set->family);

	if (err == ENOENT && x->offset != 0 &&
	    x->offset + sizeof(*attr) <= nlh->nlmsg_len) {
		attr = (const void *)(req + x->offset);
		if ((attr->nla_type & NLA_TYPE_MASK) ==
		    NFTA_SET_ELEM_LIST_TABLE) {
			nft_seterr(n, err, "%s: %s (no table %s %s)",
			    set->name, strerror(err), fam, set->table);
			return;
		}
		if ((attr->nla_type & NLA_TYPE_MASK) ==
		    NFTA_SET_ELEM_LIST_SET) {
			nft_seterr(n, err, "%s: %s (no set %s in table %s %s)",
			    set->name, strerror(err), set->name, fam,
			    set->table);
			return;
		}
	}
	nft_seterr(n, err, "%s: %s%s", set->name, strerror(err),
	    err == ENOENT ? " (the table or the set is missing)" :
	    err == EPERM ? " (CAP_NET_ADMIN must be effective)" : "");
}

/* 1 if a NEWSETELEM message carries at least one element nest. */
static int
holds_elements(const struct nlmsghdr *m)
{
	const struct nlattr *attr, *e;

	mnl_attr_for_each(attr, m, sizeof(struct nfgenmsg)) {
		if (mnl_attr_get_type(attr) != NFTA_SET_ELEM_LIST_ELEMENTS)
			continue;
		mnl_attr_for_each_nested(e, attr)
			return 1;
	}
	return 0;
}

/*
 * Whether set holds any element: the first datagram of a dump, on a
 * socket of its own that is then closed, which ends the dump in the
 * kernel (walking on would cost as much as listing the whole set).
 * 1 yes, 0 empty, -1 error.
 */
static int
nl_any(struct nft *n, const struct nft_set *set)
{
	struct mnl_socket *nl;
	const struct nlmsghdr *m;
	struct ext_ack x;
	uint64_t deadline;
	uint32_t seq = n->seq++, portid;
	ssize_t len;
	char *buf, req[DUMP_REQ_LEN];
	int rc = -1, r, err, fd, one = 1;

	if ((buf = malloc(RBUF_LEN)) == NULL) {
		nft_seterr(n, errno, "%s: %s", set->name, strerror(errno));
		return -1;
	}
	if ((nl = mnl_socket_open(NETLINK_NETFILTER)) == NULL ||
	    mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		nft_seterr(n, errno, "netlink socket: %s", strerror(errno));
		goto out;
	}
	fd = mnl_socket_get_fd(nl);
	portid = mnl_socket_get_portid(nl);
	/* So that a missing table or set is told apart. */
	if (setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one,
	    sizeof(one)) == -1)
		log_debug("netlink: NETLINK_EXT_ACK: %s", strerror(errno));
	if (dump_request(n, nl, set, seq, req) == -1)
		goto out;
	deadline = clock_mono_ms() + REPLY_WAIT_MS;
	for (;;) {
		len = recv(fd, buf, RBUF_LEN, MSG_DONTWAIT);
		if (len == -1 && errno == EINTR)
			continue;
		if (len == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if ((r = wait_readable(fd, deadline)) > 0)
				continue;
			nft_seterr(n, r == 0 ? ETIMEDOUT : errno, "%s: %s",
			    set->name, r == 0 ? "no answer from the kernel" :
			    strerror(errno));
			goto out;
		}
		if (len == -1) {
			nft_seterr(n, errno, "%s: listing: %s", set->name,
			    strerror(errno));
			goto out;
		}
		for (m = (const void *)buf; mnl_nlmsg_ok(m, (int)len);
		    m = mnl_nlmsg_next(m, (int *)&len)) {
			if (m->nlmsg_seq != seq || m->nlmsg_pid != portid)
				continue;
			if (m->nlmsg_type == NLMSG_DONE) {
				rc = 0;
				goto out;
			}
			if (m->nlmsg_type == NLMSG_ERROR) {
				if (!parse_error(m, &err, &x) || err == 0)
					continue;
				any_error(n, set, err, &x, req);
				goto out;
			}
			/* The kernel may send an empty element list. */
			if (NFNL_MSG_TYPE(m->nlmsg_type) ==
			    NFT_MSG_NEWSETELEM && holds_elements(m)) {
				rc = 1;
				goto out;
			}
		}
	}
 out:
	if (nl != NULL)
		mnl_socket_close(nl);
	free(buf);
	return rc;
}

const struct nft_backend nft_backend_netlink = {
	.name = "netlink",
	.open = nl_open,
	.fit = nl_fit,
	.send = nl_send,
	.list = nl_list,
	.any = nl_any,
	.close = nl_close,
};
