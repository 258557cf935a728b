/*
 * nflog.c: the DLT_NFLOG record decoder (see nflog.h).
 *
 * Layout (linux-libraries.md §3): a 4-byte header (family, version, group
 * in big endian), then netlink attributes { u16 len; u16 type; value }
 * whose len and type are in HOST byte order, len counting the 4-byte
 * header, each padded to a multiple of 4. Attribute values follow the
 * kernel: interface indexes are big endian, the prefix is NUL-terminated,
 * the payload starts at the IP header.
 *
 * Every read is bounds-checked against the caller's length; multi-byte
 * fields are copied out with memcpy because the buffer has no alignment
 * guarantee. libpcap cannot compile a protocol filter for DLT_NFLOG, so
 * this is the only selection in userspace besides the nft rule itself.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "spamlogd/nflog.h"

/* From <linux/netfilter/nfnetlink_log.h>, also in <pcap/nflog.h>. */
#define NFULA_PACKET_HDR	1
#define NFULA_IFINDEX_INDEV	4
#define NFULA_IFINDEX_OUTDEV	5
#define NFULA_PAYLOAD		9
#define NFULA_PREFIX		10
#define NLA_TYPE_MASK		0x3fff	/* drop NLA_F_NESTED, NLA_F_NET_BYTEORDER */

#define NF_HOOK_PREROUTING	0
#define NF_HOOK_INPUT		1
#define NF_HOOK_OUTPUT		3

#define TH_SYN			0x02
#define TH_ACK			0x10

#define IP6_EXT_MAX		8	/* extension headers we walk, at most */

static uint16_t
get16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint32_t
get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static int
prefix_is(const char *prefix, const char *word)
{
	size_t n = strlen(word);

	return strncmp(prefix, word, n) == 0 &&
	    (prefix[n] == '\0' || prefix[n] == ' ' || prefix[n] == ':');
}

static enum nflog_dir
direction(const struct nflog_pkt *p, const char **why)
{
	if (p->prefix[0] != '\0') {
		if (prefix_is(p->prefix, "spamd-in"))
			return NFLOG_DIR_IN;
		if (prefix_is(p->prefix, "spamd-out"))
			return NFLOG_DIR_OUT;
		*why = "log prefix is neither spamd-in nor spamd-out";
		return NFLOG_DIR_NONE;
	}
	switch (p->hook) {
	case NF_HOOK_PREROUTING:
	case NF_HOOK_INPUT:
		return NFLOG_DIR_IN;
	case NF_HOOK_OUTPUT:
		return NFLOG_DIR_OUT;
	}
	*why = "no log prefix and the hook is neither input nor output";
	return NFLOG_DIR_NONE;
}

/*
 * Walk the IPv6 extension headers that may precede TCP. Fragments are
 * skipped: a SYN is never fragmented by an honest stack, and a later
 * fragment has no TCP header at all.
 */
static int
ip6_walk(const uint8_t *ip, size_t len, uint8_t *nxt, size_t *off,
    const char **why)
{
	int i;

	for (i = 0; i < IP6_EXT_MAX; i++) {
		size_t hl;

		switch (*nxt) {
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
			if (len - *off < 8) {
				*why = "truncated IPv6 extension header";
				return NFLOG_BAD;
			}
			hl = ((size_t)ip[*off + 1] + 1) * 8;
			break;
		case IPPROTO_AH:
			if (len - *off < 8) {
				*why = "truncated IPv6 extension header";
				return NFLOG_BAD;
			}
			hl = ((size_t)ip[*off + 1] + 2) * 4;
			break;
		case IPPROTO_FRAGMENT:
			*why = "IPv6 fragment";
			return NFLOG_SKIP;
		default:
			return NFLOG_OPEN;	/* not an extension header */
		}
		if (hl > len - *off) {
			*why = "truncated IPv6 extension header";
			return NFLOG_BAD;
		}
		*nxt = ip[*off];
		*off += hl;
	}
	*why = "too many IPv6 extension headers";
	return NFLOG_SKIP;
}

/* The IPv4 header of ip_parse. */
static int
ip4_parse(const uint8_t *ip, size_t len, struct nflog_pkt *p,
    const uint8_t **l4, size_t *l4len, const char **why)
{
	size_t hl, end;

	if (len < 20) {
		*why = "truncated IPv4 header";
		return NFLOG_BAD;
	}
	hl = (size_t)(ip[0] & 0x0f) * 4;
	if (hl < 20) {
		*why = "IPv4 header length below 20";
		return NFLOG_BAD;
	}
	if (hl > len) {
		*why = "truncated IPv4 header";
		return NFLOG_BAD;
	}
	end = ntohs(get16(ip + 2));
	if (end < hl) {
		*why = "IPv4 total length shorter than its header";
		return NFLOG_BAD;
	}
	if (end > len)
		end = len;	/* cut by a snaplen; headers may still fit */
	memset(&p->src, 0, sizeof(p->src));
	memset(&p->dst, 0, sizeof(p->dst));
	p->src.af = p->dst.af = AF_INET;
	memcpy(&p->src.u.v4, ip + 12, 4);
	memcpy(&p->dst.u.v4, ip + 16, 4);
	p->proto = ip[9];
	p->has_ip = 1;
	if ((ntohs(get16(ip + 6)) & 0x1fff) != 0) {
		*why = "IPv4 fragment";
		return NFLOG_SKIP;
	}
	*l4 = ip + hl;
	*l4len = end - hl;
	return NFLOG_OPEN;
}

/* The IPv6 header of ip_parse, and its extension headers. */
static int
ip6_parse(const uint8_t *ip, size_t len, struct nflog_pkt *p,
    const uint8_t **l4, size_t *l4len, const char **why)
{
	struct sockaddr_in6 sin6;
	size_t hl = 40, end;
	uint8_t nxt;
	int rc;

	if (len < 40) {
		*why = "truncated IPv6 header";
		return NFLOG_BAD;
	}
	end = 40 + (size_t)ntohs(get16(ip + 4));
	if (end == 40 && ip[6] == IPPROTO_HOPOPTS)
		end = len;	/* a jumbogram: length in an option */
	if (end > len)
		end = len;	/* cut by a snaplen */
	/* addr_from_sockaddr turns ::ffff:a.b.c.d into IPv4. */
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	memcpy(&sin6.sin6_addr, ip + 8, 16);
	(void)addr_from_sockaddr((struct sockaddr *)&sin6, &p->src, NULL);
	memcpy(&sin6.sin6_addr, ip + 24, 16);
	(void)addr_from_sockaddr((struct sockaddr *)&sin6, &p->dst, NULL);
	nxt = ip[6];
	p->has_ip = 1;
	p->proto = nxt;
	if ((rc = ip6_walk(ip, end, &nxt, &hl, why)) != NFLOG_OPEN)
		return rc;
	p->proto = nxt;
	*l4 = ip + hl;
	*l4len = end - hl;
	return NFLOG_OPEN;
}

/* Decode the IP header into p; *l4 and *l4len locate the transport header. */
static int
ip_parse(const uint8_t *ip, size_t len, struct nflog_pkt *p,
    const uint8_t **l4, size_t *l4len, const char **why)
{
	int v;

	if (len < 1) {
		*why = "empty payload";
		return NFLOG_BAD;
	}
	v = ip[0] >> 4;
	if (v != 4 && v != 6) {
		*why = "payload is neither IPv4 nor IPv6";
		return NFLOG_BAD;
	}
	if (p->family != (v == 4 ? AF_INET : AF_INET6)) {
		*why = "IP version does not match the NFLOG family";
		return NFLOG_BAD;
	}
	return v == 4 ? ip4_parse(ip, len, p, l4, l4len, why) :
	    ip6_parse(ip, len, p, l4, l4len, why);
}

static int
unusable(const struct addr *a)
{
	static const uint8_t zero[16];

	if (a->af == AF_INET)
		return a->u.b[0] == 0 || a->u.b[0] >= 224;
	return memcmp(a->u.b, zero, 16) == 0 || a->u.b[0] == 0xff;
}

/* The log prefix, up to its NUL, cut to fit p->prefix. */
static void
prefix_copy(struct nflog_pkt *p, const uint8_t *v, size_t vlen)
{
	size_t n = vlen;
	const uint8_t *nul = memchr(v, '\0', vlen);

	if (nul != NULL)
		n = (size_t)(nul - v);
	if (n >= sizeof(p->prefix))
		n = sizeof(p->prefix) - 1;
	memcpy(p->prefix, v, n);
	p->prefix[n] = '\0';
}

/*
 * The NFLOG attributes after the 4-byte header: hook, interfaces, prefix
 * into p; the packet itself into *payload. NFLOG_OPEN or NFLOG_BAD.
 */
static int
tlv_walk(const uint8_t *buf, size_t len, struct nflog_pkt *p,
    const uint8_t **payload, size_t *plen, const char **why)
{
	size_t off;

	for (off = 4; off < len; ) {
		size_t tlen, vlen, step;
		const uint8_t *v;
		uint16_t type;

		if (len - off < 4) {
			*why = "truncated TLV header";
			return NFLOG_BAD;
		}
		tlen = get16(buf + off);
		if (tlen < 4) {
			*why = "TLV length below 4";
			return NFLOG_BAD;
		}
		if (tlen > len - off) {
			*why = "TLV overruns the record";
			return NFLOG_BAD;
		}
		v = buf + off + 4;
		vlen = tlen - 4;
		type = get16(buf + off + 2) & NLA_TYPE_MASK;
		switch (type) {
		case NFULA_PACKET_HDR:
			if (vlen < 4) {
				*why = "short NFULA_PACKET_HDR";
				return NFLOG_BAD;
			}
			p->hook = v[2];
			break;
		case NFULA_IFINDEX_INDEV:
		case NFULA_IFINDEX_OUTDEV:
			if (vlen < 4) {
				*why = "short interface index";
				return NFLOG_BAD;
			}
			if (type == NFULA_IFINDEX_INDEV)
				p->indev = ntohl(get32(v));
			else
				p->outdev = ntohl(get32(v));
			break;
		case NFULA_PREFIX:
			prefix_copy(p, v, vlen);
			break;
		case NFULA_PAYLOAD:
			*payload = v;
			*plen = vlen;
			break;
		}
		/* The last attribute may lack its padding. */
		step = (tlen + 3) & ~(size_t)3;
		off += step < len - off ? step : len - off;
	}
	return NFLOG_OPEN;
}

/* The TCP header: a SYN without ACK to port 25, or why not. */
static int
tcp_check(const uint8_t *l4, size_t l4len, struct nflog_pkt *p,
    const char **why)
{
	if (p->proto != IPPROTO_TCP) {
		*why = "not TCP";
		return NFLOG_SKIP;
	}
	if (l4len < 20) {
		*why = "truncated TCP header";
		return NFLOG_BAD;
	}
	if ((l4[12] >> 4) < 5) {
		*why = "TCP header length below 20";
		return NFLOG_BAD;
	}
	p->sport = ntohs(get16(l4));
	p->dport = ntohs(get16(l4 + 2));
	p->tcpflags = l4[13];
	p->has_tcp = 1;
	if (!(p->tcpflags & TH_SYN)) {
		*why = "not a SYN";
		return NFLOG_SKIP;
	}
	if (p->tcpflags & TH_ACK) {
		*why = "SYN+ACK";
		return NFLOG_SKIP;
	}
	if (p->dport != NFLOG_SMTP_PORT) {
		*why = "not to port 25";
		return NFLOG_SKIP;
	}
	return NFLOG_OPEN;
}

int
nflog_parse(const uint8_t *buf, size_t len, struct nflog_pkt *p,
    const char **why)
{
	const uint8_t *payload = NULL, *l4 = NULL;
	size_t plen = 0, l4len = 0;
	int rc;

	memset(p, 0, sizeof(*p));
	p->hook = -1;
	*why = NULL;
	if (buf == NULL || len < 4) {
		*why = "shorter than the NFLOG header";
		return NFLOG_BAD;
	}
	p->family = buf[0];
	if (buf[1] != 0) {
		*why = "unknown NFLOG version";
		return NFLOG_BAD;
	}
	p->group = ntohs(get16(buf + 2));
	if ((rc = tlv_walk(buf, len, p, &payload, &plen, why)) != NFLOG_OPEN)
		return rc;
	if (payload == NULL) {
		*why = "no payload TLV";
		return NFLOG_BAD;
	}
	if (p->family != AF_INET && p->family != AF_INET6) {
		*why = "NFLOG family is neither IPv4 nor IPv6";
		return NFLOG_SKIP;
	}
	if ((rc = ip_parse(payload, plen, p, &l4, &l4len, why)) != NFLOG_OPEN)
		return rc;
	if ((rc = tcp_check(l4, l4len, p, why)) != NFLOG_OPEN)
		return rc;
	if ((p->dir = direction(p, why)) == NFLOG_DIR_NONE)
		return NFLOG_SKIP;
	if (unusable(nflog_peer(p))) {
		*why = "peer address is unspecified or multicast";
		return NFLOG_SKIP;
	}
	return NFLOG_OPEN;
}

int
nflog_on_if(const struct nflog_pkt *p, unsigned int ifindex)
{
	return ifindex == 0 || p->indev == ifindex || p->outdev == ifindex;
}

const struct addr *
nflog_peer(const struct nflog_pkt *p)
{
	return p->dir == NFLOG_DIR_OUT ? &p->dst : &p->src;
}

const char *
nflog_dir_name(enum nflog_dir d)
{
	switch (d) {
	case NFLOG_DIR_IN:
		return "in";
	case NFLOG_DIR_OUT:
		return "out";
	case NFLOG_DIR_NONE:
		break;
	}
	return "none";
}
