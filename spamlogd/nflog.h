/*
 * nflog.h: decode one DLT_NFLOG record (as libpcap hands it over from
 * "nflog:N" or a savefile) down to the TCP header, and decide whether it
 * is an SMTP connection opening and which way it went.
 *
 *	nflog_parse(buf, len, pkt, &why)	NFLOG_OPEN, NFLOG_SKIP or
 *		NFLOG_BAD; fills *pkt as far as it got and points why at a
 *		static reason for SKIP and BAD
 *	nflog_on_if(pkt, ifindex)	1 if the packet came in or went out on
 *		interface ifindex (0 matches everything)
 *	nflog_peer(pkt)		the address to whitelist: the source of an
 *		inbound opening, the destination of an outbound one
 *	nflog_dir_name(dir)	"in", "out", "none"
 *
 * nflog_parse is a pure function of the bytes: no allocation, no I/O, no
 * global state, safe on truncated or random input (it is a fuzz target).
 *
 * The direction rule: a log prefix "spamd-in" or "spamd-out" (exactly, or
 * followed by a space or a colon) decides. With no prefix the netfilter
 * hook decides: prerouting (0) and input (1) are inbound, output (3) is
 * outbound. A packet with any other prefix, or no prefix and another hook
 * (forward, postrouting), is skipped: somebody else's log rule must not
 * whitelist hosts.
 */
#ifndef NFLOG_H
#define NFLOG_H

#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"

#define NFLOG_PREFIX_MAX	128	/* the kernel's NF_LOG_PREFIXLEN */
#define NFLOG_SMTP_PORT		25

enum nflog_dir {
	NFLOG_DIR_NONE = 0,
	NFLOG_DIR_IN,
	NFLOG_DIR_OUT,
};

enum nflog_verdict {
	NFLOG_BAD = -1,		/* malformed record or IP/TCP header */
	NFLOG_SKIP = 0,		/* well formed, but not an opening we count */
	NFLOG_OPEN = 1,		/* TCP SYN (no ACK) to port 25, direction known */
};

struct nflog_pkt {
	uint8_t		family;		/* nflog_hdr: AF_INET or AF_INET6 */
	uint16_t	group;		/* nflog_hdr: the log group */
	int		hook;		/* NFULA_PACKET_HDR hook, -1 if absent */
	uint32_t	indev;		/* NFULA_IFINDEX_INDEV, 0 if absent */
	uint32_t	outdev;		/* NFULA_IFINDEX_OUTDEV, 0 if absent */
	char		prefix[NFLOG_PREFIX_MAX];	/* "" if absent */
	int		has_ip;		/* src, dst, proto are valid */
	struct addr	src;
	struct addr	dst;
	uint8_t		proto;		/* IPPROTO_TCP, ... */
	int		has_tcp;	/* sport, dport, tcpflags are valid */
	uint16_t	sport;
	uint16_t	dport;
	uint8_t		tcpflags;
	enum nflog_dir	dir;
};

int		 nflog_parse(const uint8_t *, size_t, struct nflog_pkt *,
		    const char **);
int		 nflog_on_if(const struct nflog_pkt *, unsigned int);
const struct addr *nflog_peer(const struct nflog_pkt *);
const char	*nflog_dir_name(enum nflog_dir);

#endif /* NFLOG_H */
