/*
 * priv.h: dropping root for good, keeping at most CAP_NET_ADMIN.
 *
 *	priv_lookup(user, &uid, &gid)	-1 with a clear message if unknown
 *	priv_drop(user, keep)		become `user' (groups, gid, uid);
 *		keep = PRIV_KEEP_NET_ADMIN leaves CAP_NET_ADMIN permitted but
 *		not effective; PRIV_KEEP_NONE drops every capability;
 *		PRIV_KEEP_GROUPS (or-ed in) keeps the user's supplementary
 *		groups of /etc/group (spamd's parent: group ssl-cert lets it
 *		read the TLS key at a reload), else the primary one only. Sets
 *		no_new_privs. fatal() on any failure: it runs at start-up.
 *		If not started as root, only a drop to the current user is
 *		allowed (for development), and nothing changes.
 *	priv_net_admin(on)	raise or lower CAP_NET_ADMIN in the
 *		effective set around netlink sends; -1 if not permitted
 *
 * nfnetlink checks CAP_NET_ADMIN of the sending task at every send
 * (spec/linux-libraries.md §6), so the process that pushes to nftables
 * keeps it permitted and raises it only for the send.
 */
#ifndef PRIV_H
#define PRIV_H

#include <sys/types.h>

#define PRIV_KEEP_NONE		0
#define PRIV_KEEP_NET_ADMIN	1
#define PRIV_KEEP_GROUPS	2

int	priv_lookup(const char *, uid_t *, gid_t *);
void	priv_drop(const char *, int);
int	priv_net_admin(int);

#endif /* PRIV_H */
