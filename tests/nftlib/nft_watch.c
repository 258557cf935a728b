/*
 * nft_watch.c: a test backend's helper (tests/tools/nftset -w): notice
 * when the nftables ruleset is reloaded by subscribing to its events.
 * spamd polls nft_signature() instead (see nft/nft_signature.c for why);
 * this file is linked only into the unit tests and test tools.
 *
 *	nft_watch_open(table)	a non-blocking netlink socket subscribed to
 *				NFNLGRP_NFTABLES; -1 with errno on failure
 *	nft_watch_read(fd, table)	drain it: 1 if `table' (any family) or
 *				one of its sets was (re)created or deleted
 *				since the last call, 0 if not, -1 on error
 *
 * Privilege: joining the group needs CAP_NET_ADMIN effective at
 * nft_watch_open() (the kernel's NETLINK_NETFILTER socket does not allow
 * unprivileged multicast; EPERM otherwise).
 *
 * Events are only a hint. Re-declaring an existing set (what every
 * `nft -f spamd.nft` does) is a NEWSET event on recent kernels, and every
 * element our own batches add or delete is an event too, so replacing a
 * large set can overrun the receive buffer (ENOBUFS) and lose a NEWTABLE.
 * So the watch keeps the table's nft_signature(). After a table or set
 * event, or an overrun, nft_watch_read() reads it again and answers 1 only
 * if it changed, or if it cannot be read (then it logs why and answers 1,
 * to be safe). That query needs CAP_NET_ADMIN effective during
 * nft_watch_read().
 *
 * Callers must know: the signature is kept in a small static table keyed
 * by fd (WATCH_MAX watches per process, not thread-safe); close the fd
 * with close(2) and open a new watch to replace it.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "common/compat.h"
#include "common/log.h"
#include "nft/nft.h"
#include "nft/nft_int.h"
#include "tests/nftlib/nftlib.h"

#define WATCH_MAX	16
#define WATCH_RCVBUF	(4 * 1024 * 1024)
#define WATCH_READS	4096		/* datagrams per call, at most */

static struct watch {
	int		 fd;		/* -1: free slot */
	int		 known;		/* sig is valid */
	uint64_t	 sig;
} watches[WATCH_MAX];
static int watches_init;

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
	if (nft_signature(table, &w->sig) == 0)
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
	if (mnl_attr_parse(nlh, sizeof(struct nfgenmsg),
	    nft_signature_attr_cb, tb) < 0)
		return 0;
	/* NFTA_TABLE_NAME and NFTA_SET_TABLE are both attribute 1. */
	return nft_signature_str_eq(tb[type == NFT_MSG_NEWTABLE ||
	    type == NFT_MSG_DELTABLE ? NFTA_TABLE_NAME : NFTA_SET_TABLE],
	    table);
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
	known = nft_signature(table, &sig) == 0;
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
