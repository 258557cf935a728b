/*
 * nft_signature.c: notice when an admin reloads the nftables ruleset.
 *
 *	nft_signature(table, &sig)	a value that changes whenever `table'
 *				(any family) or one of its sets is (re)created
 *				or deleted; 0, or -1 with errno
 *
 * Why: `nft -f /etc/nftables.conf` starting with `flush ruleset`
 * re-creates table inet spamd with empty sets; the daemon must then
 * refill them from the database. Reloading spamd.nft alone (declare,
 * flush chains, add rules) re-creates nothing and does not change it.
 *
 * The signature is a sum over the kernel handles of every table named
 * `table' and of its sets, which change only when they are re-created
 * (or deleted): two small dumps, which need CAP_NET_ADMIN effective.
 * Polling it every few seconds is cheap; subscribing to nftables events
 * instead would make the kernel build one notification per element of
 * every batch (a 100k replace went from about 0.3 s to 0.6-2.5 s here).
 * The event watch built on it, nft_watch_open/nft_watch_read, is a test
 * tool's and lives in tests/nftlib/nft_watch.c.
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
#include "nft/nft_int.h"

#define QUERY_WAIT_S	2

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

/* mnl_attr_parse callback: file table and set attributes by type. */
int
nft_signature_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	uint16_t type = mnl_attr_get_type(attr);

	if (type <= NFTA_SET_MAX)	/* the largest of the two */
		tb[type] = attr;
	return MNL_CB_OK;
}

/* Whether a is a valid NUL-terminated string equal to s. */
int
nft_signature_str_eq(const struct nlattr *a, const char *s)
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
	if (mnl_attr_parse(nlh, sizeof(*g), nft_signature_attr_cb, tb) < 0)
		return MNL_CB_OK;
	if (type == NFT_MSG_NEWTABLE) {
		if (!nft_signature_str_eq(tb[NFTA_TABLE_NAME], c->table))
			return MNL_CB_OK;
		name = tb[NFTA_TABLE_NAME];
		handle = tb[NFTA_TABLE_HANDLE];
	} else if (type == NFT_MSG_NEWSET) {
		if (!nft_signature_str_eq(tb[NFTA_SET_TABLE], c->table))
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
