/*
 * mknflog.c: write the synthetic DLT_NFLOG captures of tests/data/nflog/.
 *
 *	usage: mknflog outdir
 *
 * Each file holds one record built the way the kernel's nfnetlink_log
 * builds it (header, then NFULA_PACKET_HDR, NFULA_PREFIX, an interface
 * index, NFULA_HWTYPE for input, NFULA_TIMESTAMP, NFULA_PAYLOAD), with
 * valid IP and TCP checksums, written with pcap_open_dead(DLT_NFLOG) and
 * pcap_dump. Output is deterministic (fixed timestamps and ports), so
 * t_nflog can check that the shipped files are exactly what this tool
 * makes. The real-*.pcap files beside them come from capture.sh instead.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/addr.h"
#include "common/compat.h"

#define NFULA_PACKET_HDR	1
#define NFULA_TIMESTAMP		3
#define NFULA_IFINDEX_INDEV	4
#define NFULA_IFINDEX_OUTDEV	5
#define NFULA_PAYLOAD		9
#define NFULA_PREFIX		10
#define NFULA_HWTYPE		15

#define EXT_NONE	0
#define EXT_HOPDST	1	/* hop-by-hop and destination options */
#define EXT_FRAG	2	/* a fragment header */

struct spec {
	const char	*name;
	int		 hook;
	const char	*prefix;	/* NULL: no NFULA_PREFIX */
	const char	*src, *dst;
	uint16_t	 sport, dport;
	uint8_t		 flags;		/* TCP flags */
	uint8_t		 proto;
	int		 ext;
};

static const struct spec specs[] = {
	{ "v4_syn_in", 1, "spamd-in", "192.0.2.10", "192.0.2.25",
	    40001, 25, 0x02, IPPROTO_TCP, EXT_NONE },
	{ "v4_syn_out", 3, "spamd-out", "192.0.2.25", "198.51.100.7",
	    40002, 25, 0x02, IPPROTO_TCP, EXT_NONE },
	{ "v6_syn_in", 1, "spamd-in", "2001:db8::10", "2001:db8::25",
	    40003, 25, 0x02, IPPROTO_TCP, EXT_NONE },
	{ "v6_syn_out", 3, "spamd-out", "2001:db8::25", "2001:db8:1::7",
	    40004, 25, 0x02, IPPROTO_TCP, EXT_NONE },
	{ "v6_ext_in", 1, "spamd-in", "2001:db8::11", "2001:db8::25",
	    40005, 25, 0x02, IPPROTO_TCP, EXT_HOPDST },
	{ "v6_frag", 1, "spamd-in", "2001:db8::12", "2001:db8::25",
	    40006, 25, 0x02, IPPROTO_TCP, EXT_FRAG },
	{ "v6_mapped_in", 1, "spamd-in", "::ffff:192.0.2.77", "2001:db8::25",
	    40007, 25, 0x02, IPPROTO_TCP, EXT_NONE },
	{ "v4_synack", 1, "spamd-in", "192.0.2.10", "192.0.2.25",
	    40008, 25, 0x12, IPPROTO_TCP, EXT_NONE },
	{ "v4_ack", 1, "spamd-in", "192.0.2.10", "192.0.2.25",
	    40009, 25, 0x10, IPPROTO_TCP, EXT_NONE },
	{ "v4_port587", 1, "spamd-in", "192.0.2.10", "192.0.2.25",
	    40010, 587, 0x02, IPPROTO_TCP, EXT_NONE },
	{ "v4_udp", 1, "spamd-in", "192.0.2.10", "192.0.2.25",
	    40011, 25, 0, IPPROTO_UDP, EXT_NONE },
	{ "v4_hook_in", 1, NULL, "192.0.2.13", "192.0.2.25",
	    40012, 25, 0x02, IPPROTO_TCP, EXT_NONE },
	{ "v4_hook_out", 3, NULL, "192.0.2.25", "198.51.100.8",
	    40013, 25, 0x02, IPPROTO_TCP, EXT_NONE },
	{ "v4_hook_fwd", 2, NULL, "192.0.2.14", "198.51.100.9",
	    40014, 25, 0x02, IPPROTO_TCP, EXT_NONE },
	{ "v4_other_prefix", 1, "drop-bad", "192.0.2.15", "192.0.2.25",
	    40015, 25, 0x02, IPPROTO_TCP, EXT_NONE },
	{ "v4_prefix_colon", 3, "spamd-out: ", "192.0.2.25", "198.51.100.10",
	    40016, 25, 0x02, IPPROTO_TCP, EXT_NONE },
	{ "v4_multicast_dst", 3, "spamd-out", "192.0.2.25", "224.0.0.9",
	    40017, 25, 0x02, IPPROTO_TCP, EXT_NONE },
};

static uint8_t	rec[2048];
static size_t	reclen;

static void
put(uint16_t type, const void *v, size_t len)
{
	uint16_t tlen = (uint16_t)(4 + len);
	size_t pad = (4 - (len & 3)) & 3;

	if (reclen + 4 + len + pad > sizeof(rec)) {
		fprintf(stderr, "mknflog: record too long\n");
		exit(1);
	}
	memcpy(rec + reclen, &tlen, 2);		/* host byte order */
	memcpy(rec + reclen + 2, &type, 2);
	memcpy(rec + reclen + 4, v, len);
	memset(rec + reclen + 4 + len, 0, pad);
	reclen += 4 + len + pad;
}

static uint32_t
sum16(const uint8_t *p, size_t len, uint32_t s)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	return s;
}

static uint16_t
fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* TCP with an MSS option (24 bytes), or an 8-byte UDP header. */
static size_t
l4(uint8_t *p, const struct spec *s)
{
	uint16_t v;

	if (s->proto == IPPROTO_UDP) {
		memset(p, 0, 8);
		v = htons(s->sport); memcpy(p, &v, 2);
		v = htons(s->dport); memcpy(p + 2, &v, 2);
		v = htons(8); memcpy(p + 4, &v, 2);
		return 8;
	}
	memset(p, 0, 24);
	v = htons(s->sport); memcpy(p, &v, 2);
	v = htons(s->dport); memcpy(p + 2, &v, 2);
	p[4] = 0x11; p[5] = 0x22; p[6] = 0x33; p[7] = 0x44;	/* seq */
	if (s->flags & 0x10)
		p[11] = 1;					/* ack */
	p[12] = 6 << 4;
	p[13] = s->flags;
	v = htons(64240); memcpy(p + 14, &v, 2);
	p[20] = 2; p[21] = 4; p[22] = 0x05; p[23] = 0xb4;	/* MSS 1460 */
	return 24;
}

static size_t
packet(uint8_t *p, const struct spec *s, int v6, const struct addr *sa,
    const struct addr *da)
{
	uint8_t ph[40];
	uint32_t sum;
	size_t n, hl;
	uint16_t v;

	if (!v6) {
		hl = 20;
		n = l4(p + hl, s);
		memset(p, 0, hl);
		p[0] = 0x45;
		v = htons((uint16_t)(hl + n)); memcpy(p + 2, &v, 2);
		p[4] = 0x12; p[5] = 0x34;
		p[6] = 0x40;				/* DF */
		p[8] = 64;
		p[9] = s->proto;
		memcpy(p + 12, sa->u.b, 4);
		memcpy(p + 16, da->u.b, 4);
		v = htons(fold(sum16(p, hl, 0))); memcpy(p + 10, &v, 2);
		memcpy(ph, sa->u.b, 4);
		memcpy(ph + 4, da->u.b, 4);
		ph[8] = 0; ph[9] = s->proto;
		v = htons((uint16_t)n); memcpy(ph + 10, &v, 2);
		sum = sum16(ph, 12, 0);
	} else {
		uint8_t *x;
		uint8_t nxt = s->proto;
		size_t ext = 0;

		/* A v4-mapped source keeps its IPv6 form on the wire. */
		struct in6_addr s6, d6;

		if (inet_pton(AF_INET6, s->src, &s6) != 1 ||
		    inet_pton(AF_INET6, s->dst, &d6) != 1) {
			fprintf(stderr, "mknflog: %s: bad address\n", s->name);
			exit(1);
		}
		memset(p, 0, 40);
		x = p + 40;
		if (s->ext == EXT_HOPDST) {
			memset(x, 0, 16);
			x[0] = IPPROTO_DSTOPTS;		/* hop-by-hop, 8 bytes */
			x[1] = 0;
			x[2] = 1; x[3] = 4;		/* PadN */
			x[8] = s->proto;		/* dest opts, 8 bytes */
			x[9] = 0;
			x[10] = 1; x[11] = 4;
			nxt = IPPROTO_HOPOPTS;
			ext = 16;
		} else if (s->ext == EXT_FRAG) {
			memset(x, 0, 8);
			x[0] = s->proto;
			x[3] = 1;			/* offset 0, more fragments */
			x[4] = 0xab; x[7] = 0xcd;	/* id */
			nxt = IPPROTO_FRAGMENT;
			ext = 8;
		}
		hl = 40 + ext;
		n = l4(p + hl, s);
		p[0] = 0x60;
		v = htons((uint16_t)(ext + n)); memcpy(p + 4, &v, 2);
		p[6] = nxt;
		p[7] = 64;
		memcpy(p + 8, &s6, 16);
		memcpy(p + 24, &d6, 16);
		memcpy(ph, &s6, 16);
		memcpy(ph + 16, &d6, 16);
		sum = sum16(ph, 32, 0);
		sum += (uint32_t)n;
		sum += s->proto;
	}
	sum = sum16(p + hl, n, sum);
	v = htons(fold(sum));
	memcpy(p + hl + (s->proto == IPPROTO_UDP ? 6 : 16), &v, 2);
	return hl + n;
}

static void
make(const char *dir, const struct spec *s, int seq)
{
	char path[1024];
	struct addr sa, da;
	uint8_t pkt[256], v[16];
	struct pcap_pkthdr h;
	pcap_dumper_t *d;
	pcap_t *pd;
	uint32_t ifi;
	uint16_t hw;
	uint64_t ts;
	size_t n;
	int i, v6;

	if (addr_parse(s->src, &sa) == -1 || addr_parse(s->dst, &da) == -1) {
		fprintf(stderr, "mknflog: %s: bad address\n", s->name);
		exit(1);
	}
	v6 = strchr(s->src, ':') != NULL;
	n = packet(pkt, s, v6, &sa, &da);

	reclen = 0;
	rec[0] = v6 ? AF_INET6 : AF_INET;
	rec[1] = 0;				/* NFNETLINK_V0 */
	hw = htons(25);				/* group, big endian */
	memcpy(rec + 2, &hw, 2);
	reclen = 4;
	hw = htons(v6 ? 0x86dd : 0x0800);
	memcpy(v, &hw, 2);
	v[2] = (uint8_t)s->hook;
	v[3] = 0;
	put(NFULA_PACKET_HDR, v, 4);
	if (s->prefix != NULL)
		put(NFULA_PREFIX, s->prefix, strlen(s->prefix) + 1);
	ifi = htonl(2);
	put(s->hook == 3 ? NFULA_IFINDEX_OUTDEV : NFULA_IFINDEX_INDEV,
	    &ifi, 4);
	if (s->hook != 3) {
		hw = htons(1);			/* ARPHRD_ETHER */
		put(NFULA_HWTYPE, &hw, 2);
	}
	/* Two big-endian u64: seconds, microseconds. */
	ts = (uint64_t)1700000000 + (uint64_t)seq;
	memset(v, 0, sizeof(v));
	for (i = 0; i < 8; i++)
		v[i] = (uint8_t)(ts >> (56 - 8 * i));
	put(NFULA_TIMESTAMP, v, 16);
	put(NFULA_PAYLOAD, pkt, n);

	if ((pd = pcap_open_dead(DLT_NFLOG, 65535)) == NULL) {
		fprintf(stderr, "mknflog: pcap_open_dead failed\n");
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/%s.pcap", dir, s->name);
	if ((d = pcap_dump_open(pd, path)) == NULL) {
		fprintf(stderr, "mknflog: %s: %s\n", path, pcap_geterr(pd));
		exit(1);
	}
	memset(&h, 0, sizeof(h));
	h.ts.tv_sec = 1700000000 + seq;
	h.ts.tv_usec = 0;
	h.caplen = h.len = (uint32_t)reclen;
	pcap_dump((u_char *)d, &h, rec);
	if (pcap_dump_flush(d) == -1) {
		fprintf(stderr, "mknflog: %s: write failed\n", path);
		exit(1);
	}
	pcap_dump_close(d);
	pcap_close(pd);
}

int
main(int argc, char *argv[])
{
	size_t i;

	if (argc != 2) {
		fprintf(stderr, "usage: mknflog outdir\n");
		return 2;
	}
	for (i = 0; i < sizeof(specs) / sizeof(specs[0]); i++)
		make(argv[1], &specs[i], (int)i);
	return 0;
}
