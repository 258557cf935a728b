/*
 * nft_watch.c: notice when an admin reloads the nftables ruleset.
 *
 *	nft_watch_open(table)	a non-blocking netlink socket subscribed to
 *				NFNLGRP_NFTABLES; -1 with errno on failure
 *	nft_watch_read(fd, table)	drain it: 1 if `table' (any family) or
 *				one of its sets was (re)created or deleted
 *				since the last call, 0 if not, -1 on error
 *	nft_signature(table, &sig)	the same signature without a
 *				subscription, for callers that poll it
 *
 * Why: `nft -f /etc/nftables.conf` starting with `flush ruleset`
 * re-creates table inet spamd with empty sets; the daemon must then
 * refill them from the database. Reloading spamd.nft alone (declare,
 * flush chains, add rules) re-creates nothing and is not reported.
 *
 * Privilege: joining the group needs CAP_NET_ADMIN effective at
 * nft_watch_open() (the kernel's NETLINK_NETFILTER socket does not allow
 * unprivileged multicast; EPERM otherwise). Reading needs nothing.
 *
 * Events are only a hint. Re-declaring an existing set (what every
 * `nft -f spamd.nft` does) is a NEWSET event on recent kernels, and every
 * element our own batches add or delete is an event too, so replacing a
 * large set can overrun the receive buffer (ENOBUFS) and lose a NEWTABLE.
 * So the watch keeps a signature of the table: the kernel handles of
 * every table named `table' and of its sets, which change only when they
 * are re-created (or deleted). After a table or set event, or an
 * overrun, nft_watch_read() reads the handles again and answers 1 only
 * if the signature changed, or if it cannot read them (then it logs
 * why and answers 1, to be safe). That query needs CAP_NET_ADMIN
 * effective during nft_watch_read().
 *
 * Cost: while anybody listens to NFNLGRP_NFTABLES, the kernel builds
 * one notification per element of every batch, which slowed a 100k
 * replace from about 0.3 s to 0.6-2.5 s here. A daemon that only needs
 * to notice reloads can poll nft_signature() every few seconds instead
 * (two small dumps), and spares every other nft user that cost.
 *
 * Callers must know: the signature is kept in a small static table keyed
 * by fd (WATCH_MAX watches per process, not thread-safe); close the fd
 * with close(2) and open a new watch to replace it.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <netinet/in.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <linux/netlink.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "common/compat.h"
#include "common/log.h"
#include "nft/nft.h"

#define WATCH_MAX	16
#define WATCH_RCVBUF	(4 * 1024 * 1024)
#define WATCH_READS	4096		/* datagrams per call, at most */
#define QUERY_WAIT_S	2

static struct watch {
	int		 fd;		/* -1: free slot */
	int		 known;		/* sig is valid */
	uint64_t	 sig;
} watches[WATCH_MAX];
static int watches_init;

struct sigctx {
	const char	*table;
	uint64_t	 sig;
};

static uint64_t
fnv(uint64_t h, const void *p, size_t len)
{
	const uint8_t *b = p;

	while (len-- > 0) {
		h ^= *b++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static int
attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	uint16_t type = mnl_attr_get_type(attr);

	if (type <= NFTA_SET_MAX)	/* the largest of the two */
		tb[type] = attr;
	return MNL_CB_OK;
}

static int
str_eq(const struct nlattr *a, const char *s)
{
	return a != NULL && mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0 &&
	    strcmp(mnl_attr_get_str(a), s) == 0;
}

/* Each table or set of ours adds H(family, name, handle) to the sum. */
static int
sig_cb(const struct nlmsghdr *nlh, void *data)
{
	struct sigctx *c = data;
	const struct nfgenmsg *g = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[NFTA_SET_MAX + 1];
	uint16_t type = NFNL_MSG_TYPE(nlh->nlmsg_type);
	const struct nlattr *name, *handle;
	uint64_t h = 0xcbf29ce484222325ULL, hv;

	memset(tb, 0, sizeof(tb));
	if (mnl_attr_parse(nlh, sizeof(*g), attr_cb, tb) < 0)
		return MNL_CB_OK;
	if (type == NFT_MSG_NEWTABLE) {
		if (!str_eq(tb[NFTA_TABLE_NAME], c->table))
			return MNL_CB_OK;
		name = tb[NFTA_TABLE_NAME];
		handle = tb[NFTA_TABLE_HANDLE];
	} else if (type == NFT_MSG_NEWSET) {
		if (!str_eq(tb[NFTA_SET_TABLE], c->table))
			return MNL_CB_OK;
		name = tb[NFTA_SET_NAME];
		handle = tb[NFTA_SET_HANDLE];
	} else
		return MNL_CB_OK;
	h = fnv(h, &type, sizeof(type));
	h = fnv(h, &g->nfgen_family, 1);
	if (name != NULL)
		h = fnv(h, mnl_attr_get_payload(name),
		    mnl_attr_get_payload_len(name));
	if (handle != NULL && mnl_attr_get_payload_len(handle) == 8) {
		hv = mnl_attr_get_u64(handle);
		h = fnv(h, &hv, sizeof(hv));
	}
	c->sig += h;	/* order-free: dump order is not ours to rely on */
	return MNL_CB_OK;
}

static int
dump(struct mnl_socket *nl, uint16_t type, const char *table,
    struct sigctx *c)
{
	char buf[MNL_SOCKET_BUFFER_SIZE * 4];
	struct nlmsghdr *nlh;
	uint32_t seq = 1, portid = mnl_socket_get_portid(nl);
	ssize_t len;
	int rc;

	/* libmnl leaves attribute padding unwritten: send no stale bytes. */
	memset(buf, 0, MNL_SOCKET_BUFFER_SIZE);
	nlh = nftnl_nlmsg_build_hdr(buf, type, NFPROTO_UNSPEC, NLM_F_DUMP,
	    seq);
	if (type == NFT_MSG_GETSET)
		mnl_attr_put_strz(nlh, NFTA_SET_TABLE, table);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	for (;;) {
		if ((len = mnl_socket_recvfrom(nl, buf, sizeof(buf))) < 0)
			return -1;
		rc = mnl_cb_run(buf, (size_t)len, seq, portid, sig_cb, c);
		if (rc == MNL_CB_STOP)
			return 0;
		if (rc < 0) {
			/* No table of that name yet: its sets are none. */
			if (errno == ENOENT && type == NFT_MSG_GETSET)
				return 0;
			return -1;
		}
	}
}

/* The table's signature now; -1 (errno) if the kernel cannot be asked. */
static int
signature(const char *table, uint64_t *sig)
{
	struct mnl_socket *nl;
	struct timeval tv = { QUERY_WAIT_S, 0 };
	struct sigctx c = { table, 0 };
	int rc = -1, e;

	if ((nl = mnl_socket_open(NETLINK_NETFILTER)) == NULL)
		return -1;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv,
	    sizeof(tv)) == -1)
		goto out;
	if (dump(nl, NFT_MSG_GETTABLE, table, &c) == -1 ||
	    dump(nl, NFT_MSG_GETSET, table, &c) == -1)
		goto out;
	*sig = c.sig;
	rc = 0;
 out:
	e = errno;
	mnl_socket_close(nl);
	errno = e;
	return rc;
}

int
nft_signature(const char *table, uint64_t *sig)
{
	return signature(table, sig);
}

static struct watch *
slot(int fd, int create)
{
	struct watch *free_slot = NULL;
	int i;

	if (!watches_init) {
		for (i = 0; i < WATCH_MAX; i++)
			watches[i].fd = -1;
		watches_init = 1;
	}
	for (i = 0; i < WATCH_MAX; i++) {
		if (watches[i].fd == fd)
			return &watches[i];
		if (watches[i].fd == -1 && free_slot == NULL)
			free_slot = &watches[i];
	}
	if (!create)
		return NULL;
	if (free_slot == NULL) {
		/* Reuse the first: its fd is probably closed long ago. */
		free_slot = &watches[0];
	}
	free_slot->fd = fd;
	free_slot->known = 0;
	return free_slot;
}

int
nft_watch_open(const char *table)
{
	struct sockaddr_nl sa;
	struct watch *w;
	int fd, grp = NFNLGRP_NFTABLES, v = WATCH_RCVBUF, e;

	if (table == NULL || table[0] == '\0') {
		errno = EINVAL;
		return -1;
	}
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    NETLINK_NETFILTER);
	if (fd == -1)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.nl_family = AF_NETLINK;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &grp,
	    sizeof(grp)) == -1) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)) == -1 &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)) == -1)
		log_debug("nft watch: SO_RCVBUF: %s", strerror(errno));
	w = slot(fd, 1);
	if (signature(table, &w->sig) == 0)
		w->known = 1;
	else
		log_debug("nft watch: cannot read table %s: %s", table,
		    strerror(errno));
	return fd;
}

/* 1 if this event may have (re)created or deleted `table' or a set. */
static int
event_hit(const struct nlmsghdr *nlh, const char *table)
{
	const struct nlattr *tb[NFTA_SET_MAX + 1];
	uint16_t type = NFNL_MSG_TYPE(nlh->nlmsg_type);

	if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_NFTABLES ||
	    (type != NFT_MSG_NEWTABLE && type != NFT_MSG_NEWSET &&
	    type != NFT_MSG_DELTABLE && type != NFT_MSG_DELSET))
		return 0;
	memset(tb, 0, sizeof(tb));
	if (mnl_attr_parse(nlh, sizeof(struct nfgenmsg), attr_cb, tb) < 0)
		return 0;
	/* NFTA_TABLE_NAME and NFTA_SET_TABLE are both attribute 1. */
	return str_eq(tb[type == NFT_MSG_NEWTABLE || type == NFT_MSG_DELTABLE ?
	    NFTA_TABLE_NAME : NFTA_SET_TABLE], table);
}

int
nft_watch_read(int fd, const char *table)
{
	char buf[64 * 1024];
	const struct nlmsghdr *nlh;
	struct watch *w;
	uint64_t sig;
	ssize_t len;
	int i, hit = 0, lost = 0, known;

	if (table == NULL || table[0] == '\0') {
		errno = EINVAL;
		return -1;
	}
	for (i = 0; i < WATCH_READS; i++) {
		len = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (len == -1) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				lost = 1;
				continue;
			}
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return -1;
		}
		for (nlh = (const void *)buf; mnl_nlmsg_ok(nlh, (int)len);
		    nlh = mnl_nlmsg_next(nlh, (int *)&len)) {
			if (event_hit(nlh, table))
				hit = 1;
		}
	}
	if (!hit && !lost)
		return 0;

	/*
	 * An event or an overrun only says "look": re-declaring existing
	 * sets (every `nft -f spamd.nft`) is a NEWSET event on recent
	 * kernels too. The handles say whether anything was re-created.
	 */
	w = slot(fd, 1);
	known = signature(table, &sig) == 0;
	if (!known) {
		log_info("nft watch: %s and table %s cannot be read (%s):"
		    " assuming it was reloaded", lost ? "events lost" :
		    "table or set event", table, strerror(errno));
		hit = 1;
	} else if (!w->known || w->sig != sig) {
		log_info("nft watch: table %s or one of its sets was"
		    " re-created", table);
		hit = 1;
	} else {
		log_debug("nft watch: %s; table %s unchanged", lost ?
		    "events lost" : "table or set event", table);
		hit = 0;
	}
	w->known = known;
	if (known)
		w->sig = sig;
	return hit;
}
