/*
 * sync.h: greylisting state shared with other MX hosts over UDP (spamd.8
 * SYNCHRONISATION): OpenBSD spamd's sync version 2 to -Y targets, and our
 * extension (IPv6, replay window, catch-up) to --sync-peer hosts. The wire
 * format is syncmsg.c; this is the sockets, the peers and the rules.
 *
 * Set up as root, before the fork (names are resolved, sockets bound,
 * groups joined, the key read once):
 *	sync_new(role, ident)	an empty configuration; ident (the
 *		host's mail name, unique among the peers) and role (which of
 *		its processes: SYNC_ROLE_*) make the extension's node id
 *	sync_target(s, spec, ext, err, len)	-Y host[:port] or interface[:ttl]
 *		(multicast to 224.0.1.240), ext 0; --sync-peer host[:port]
 *		([addr]:port for IPv6), ext 1. -1 with the reason
 *	sync_listen(s, spec, err, len)	-y address (IPv4 or IPv6) or
 *		interface (port 8025, joining the group there)
 *	sync_key(s, path, err, len)	the key file; a missing one gives the
 *		empty key (with a warning that says what that means)
 *	sync_open(s, err, len)	the sending sockets; after the above
 *	sync_active(s)		1 if there is anyone to send to
 * In the process that sends (the greylister, spamlogd):
 *	sync_send(s, e)		one entry to every target it suits: version 2
 *		to -Y targets and the group (IPv4 entries only), the extension
 *		to --sync-peer hosts; a datagram that would not fit is skipped
 *		with a log line. Never blocks; send errors are counted, logged
 *		at a bounded rate
 *	sync_hello(s)		tell the --sync-peer hosts we (re)started: each
 *		then sends us its live WHITE entries and GREY tuples
 * In the process that receives (the greylister):
 *	sync_start(s, recv, hello, arg)	watch the -y socket: each accepted
 *		entry goes to recv(arg, e, ext); a --sync-peer host that
 *		restarted (a new boot id) to hello(arg, peer index)
 *	sync_send_to(s, peer, e, n)	entries to one --sync-peer host only,
 *		in as few datagrams as fit (the catch-up); -1 if the socket
 *		is full (try again later)
 *	sync_close(s)		close every socket (processes that do not sync)
 *
 * Accepted: a datagram with the key's MAC, in either version, from any
 * source (as OpenBSD). Version 2 entries whose timestamp is more than
 * SYNC_SKEW seconds away from our clock are dropped (a replay bound, as
 * OpenBSD peers have no sequence numbers); extension datagrams must pass
 * the sender's replay window (node, boot id, sequence) and are dropped
 * when they are our own. Every refusal is counted by reason and logged
 * at a bounded rate.
 */
#ifndef SYNC_H
#define SYNC_H

#include <stddef.h>
#include <stdint.h>

#include "spamd/syncmsg.h"

#define SYNC_TARGETS_MAX	16
#define SYNC_SKEW		60	/* s: version 2 timestamps we accept */
#define SYNC_GROUP		"224.0.1.240"
#define SYNC_ROLE_GREY		1	/* spamd's greylister */
#define SYNC_ROLE_SPAMLOGD	2

struct sync;

typedef void (*sync_recv_fn)(void *, const struct syncmsg_entry *, int);
typedef void (*sync_hello_fn)(void *, int);

struct sync	*sync_new(int, const char *);
int		 sync_target(struct sync *, const char *, int, char *, size_t);
int		 sync_listen(struct sync *, const char *, char *, size_t);
int		 sync_key(struct sync *, const char *, char *, size_t);
int		 sync_open(struct sync *, char *, size_t);
int		 sync_active(const struct sync *);
void		 sync_send(struct sync *, const struct syncmsg_entry *);
void		 sync_hello(struct sync *);
int		 sync_start(struct sync *, sync_recv_fn, sync_hello_fn, void *);
int		 sync_send_to(struct sync *, int, const struct syncmsg_entry *,
		    size_t);
void		 sync_close(struct sync *);

#endif /* SYNC_H */
