/*
 * t_nflog.c: unit tests for spamlogd/nflog.c, the DLT_NFLOG decoder.
 *
 * The packets come from tests/data/nflog/: synthetic records made by
 * tests/tools/mknflog (checked here to be exactly what the tool makes)
 * and real_mixed.pcap, recorded from the kernel by capture.sh. Each
 * record is copied into a buffer of its exact size, so ASan catches any
 * read past the end.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <libgen.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/addr.h"
#include "common/compat.h"
#include "spamlogd/nflog.h"
#include "tests/unit/harness.h"

#define MAXREC	16

struct rec {
	uint8_t	*buf;
	size_t	 len;
};

static const char *
datapath(const char *name)
{
	static char buf[1024];
	const char *top = getenv("TOP");

	snprintf(buf, sizeof(buf), "%s/tests/data/nflog/%s",
	    top != NULL ? top : ".", name);
	return buf;
}

/* Read every record of a DLT_NFLOG savefile; returns how many. */
static size_t
load(const char *name, struct rec *r, size_t max)
{
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	pcap_t *p;
	size_t n = 0;
	int rc;

	if ((p = pcap_open_offline(datapath(name), err)) == NULL)
		t_fail("%s: %s", name, err);
	if (pcap_datalink(p) != DLT_NFLOG)
		t_fail("%s: link type %d, not DLT_NFLOG", name,
		    pcap_datalink(p));
	while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
		if (n == max)
			t_fail("%s: more than %zu records", name, max);
		if (h->caplen != h->len)
			t_fail("%s: record %zu cut by the snaplen", name, n);
		if ((r[n].buf = malloc(h->caplen ? h->caplen : 1)) == NULL)
			t_fail("malloc");
		memcpy(r[n].buf, data, h->caplen);
		r[n].len = h->caplen;
		n++;
	}
	if (rc != PCAP_ERROR_BREAK)
		t_fail("%s: %s", name, pcap_geterr(p));
	pcap_close(p);
	return n;
}

static struct rec
load1(const char *name)
{
	struct rec r[MAXREC];

	if (load(name, r, MAXREC) != 1)
		t_fail("%s: expected one record", name);
	return r[0];
}

static int
parse(const struct rec *r, struct nflog_pkt *p, const char **why)
{
	int rc = nflog_parse(r->buf, r->len, p, why);

	if (rc != NFLOG_OPEN && *why == NULL)
		t_fail("verdict %d without a reason", rc);
	if (rc == NFLOG_OPEN && *why != NULL)
		t_fail("an opening with a reason: %s", *why);
	return rc;
}

static const char *
peer(const struct nflog_pkt *p)
{
	static char buf[ADDR_STRLEN];

	return addr_ntop(nflog_peer(p), buf, sizeof(buf));
}

static const struct {
	const char	*file;
	int		 verdict;
	const char	*dir;
	const char	*peer;		/* OPEN: the address to whitelist */
	const char	*why;		/* SKIP/BAD: the reason */
} synth[] = {
	{ "v4_syn_in", NFLOG_OPEN, "in", "192.0.2.10", NULL },
	{ "v4_syn_out", NFLOG_OPEN, "out", "198.51.100.7", NULL },
	{ "v6_syn_in", NFLOG_OPEN, "in", "2001:db8::10", NULL },
	{ "v6_syn_out", NFLOG_OPEN, "out", "2001:db8:1::7", NULL },
	{ "v6_ext_in", NFLOG_OPEN, "in", "2001:db8::11", NULL },
	{ "v6_mapped_in", NFLOG_OPEN, "in", "192.0.2.77", NULL },
	{ "v4_hook_in", NFLOG_OPEN, "in", "192.0.2.13", NULL },
	{ "v4_hook_out", NFLOG_OPEN, "out", "198.51.100.8", NULL },
	{ "v4_prefix_colon", NFLOG_OPEN, "out", "198.51.100.10", NULL },
	{ "v6_frag", NFLOG_SKIP, NULL, NULL, "IPv6 fragment" },
	{ "v4_synack", NFLOG_SKIP, NULL, NULL, "SYN+ACK" },
	{ "v4_ack", NFLOG_SKIP, NULL, NULL, "not a SYN" },
	{ "v4_port587", NFLOG_SKIP, NULL, NULL, "not to port 25" },
	{ "v4_udp", NFLOG_SKIP, NULL, NULL, "not TCP" },
	{ "v4_hook_fwd", NFLOG_SKIP, NULL, NULL, "hook is neither" },
	{ "v4_other_prefix", NFLOG_SKIP, NULL, NULL,
	    "neither spamd-in nor spamd-out" },
	{ "v4_multicast_dst", NFLOG_SKIP, NULL, NULL, "multicast" },
};
#define NSYNTH	(sizeof(synth) / sizeof(synth[0]))

static struct rec
synth_rec(size_t i)
{
	char name[128];

	snprintf(name, sizeof(name), "%s.pcap", synth[i].file);
	return load1(name);
}

static void
synthetic(void)
{
	struct nflog_pkt p;
	const char *why;
	size_t i;

	for (i = 0; i < NSYNTH; i++) {
		struct rec r = synth_rec(i);
		int rc = parse(&r, &p, &why);

		if (rc != synth[i].verdict)
			t_fail("%s: verdict %d (%s), expected %d",
			    synth[i].file, rc, why ? why : "-",
			    synth[i].verdict);
		T_EQ_INT(p.group, 25);
		if (rc == NFLOG_OPEN) {
			T_EQ_STR(nflog_dir_name(p.dir), synth[i].dir);
			T_EQ_STR(peer(&p), synth[i].peer);
			T_EQ_INT(p.dport, 25);
			T_EQ_INT(p.tcpflags, 0x02);
			T_EQ_INT(p.proto, IPPROTO_TCP);
		} else if (strstr(why, synth[i].why) == NULL)
			t_fail("%s: reason \"%s\", expected \"%s\"",
			    synth[i].file, why, synth[i].why);
		free(r.buf);
	}
}

/* The fields besides direction and peer, on the plainest records. */
static void
fields(void)
{
	struct nflog_pkt p;
	const char *why;
	struct rec r;
	char buf[ADDR_STRLEN];

	r = load1("v4_syn_in.pcap");
	T_EQ_INT(parse(&r, &p, &why), NFLOG_OPEN);
	T_EQ_INT(p.family, AF_INET);
	T_EQ_INT(p.hook, 1);
	T_EQ_INT(p.indev, 2);
	T_EQ_INT(p.outdev, 0);
	T_EQ_STR(p.prefix, "spamd-in");
	T_EQ_STR(addr_ntop(&p.dst, buf, sizeof(buf)), "192.0.2.25");
	T_EQ_INT(p.sport, 40001);
	free(r.buf);

	r = load1("v6_syn_out.pcap");
	T_EQ_INT(parse(&r, &p, &why), NFLOG_OPEN);
	T_EQ_INT(p.family, AF_INET6);
	T_EQ_INT(p.hook, 3);
	T_EQ_INT(p.indev, 0);
	T_EQ_INT(p.outdev, 2);
	T_EQ_STR(addr_ntop(&p.src, buf, sizeof(buf)), "2001:db8::25");
	T_EQ_INT(nflog_on_if(&p, 0), 1);
	T_EQ_INT(nflog_on_if(&p, 2), 1);
	T_EQ_INT(nflog_on_if(&p, 3), 0);
	T_EQ_STR(nflog_dir_name(NFLOG_DIR_NONE), "none");
	free(r.buf);
}

/* Records the kernel made (capture.sh); the order is the script's. */
static void
real_capture(void)
{
	static const struct {
		int		 verdict;
		const char	*dir, *peer, *why;
		int		 hook;
	} want[] = {
		{ NFLOG_OPEN, "in", "192.0.2.10", NULL, 1 },
		{ NFLOG_OPEN, "in", "2001:db8::10", NULL, 1 },
		{ NFLOG_OPEN, "out", "192.0.2.10", NULL, 3 },
		{ NFLOG_SKIP, NULL, NULL, "SYN+ACK", 1 },
		{ NFLOG_OPEN, "out", "2001:db8::10", NULL, 3 },
		{ NFLOG_SKIP, NULL, NULL, "SYN+ACK", 1 },
	};
	struct rec r[MAXREC];
	struct nflog_pkt p;
	const char *why;
	size_t i, n;

	n = load("real_mixed.pcap", r, MAXREC);
	T_EQ_INT(n, sizeof(want) / sizeof(want[0]));
	for (i = 0; i < n; i++) {
		int rc = parse(&r[i], &p, &why);

		if (rc != want[i].verdict)
			t_fail("record %zu: verdict %d (%s)", i, rc,
			    why ? why : "-");
		T_EQ_INT(p.hook, want[i].hook);
		T_EQ_INT(p.group, 25);
		T_ASSERT(p.hook == 1 ? p.indev != 0 : p.outdev != 0);
		if (rc == NFLOG_OPEN) {
			T_EQ_STR(nflog_dir_name(p.dir), want[i].dir);
			T_EQ_STR(peer(&p), want[i].peer);
			T_EQ_STR(p.prefix, want[i].hook == 1 ? "spamd-in" :
			    "spamd-out");
		} else
			T_ASSERT(strstr(why, want[i].why) != NULL);
		free(r[i].buf);
	}
}

/* Cut a valid record at every length: never an opening, never a crash. */
static void
truncated(void)
{
	struct nflog_pkt p;
	const char *why;
	size_t i, cut;

	for (i = 0; i < NSYNTH; i++) {
		struct rec r = synth_rec(i);

		for (cut = 0; cut < r.len; cut++) {
			struct rec c;

			c.len = cut;
			c.buf = malloc(cut ? cut : 1);
			T_ASSERT(c.buf != NULL);
			memcpy(c.buf, r.buf, cut);
			if (parse(&c, &p, &why) != NFLOG_BAD)
				t_fail("%s cut at %zu: not rejected (%s)",
				    synth[i].file, cut, why ? why : "open");
			free(c.buf);
		}
		free(r.buf);
	}
}

/*
 * Cut only the payload, with a consistent TLV length, as an nft "log
 * snaplen N" would: rejected until the TCP header is complete.
 */
static void
snaplen_cut(void)
{
	struct rec r = load1("v4_syn_in.pcap");
	struct nflog_pkt p;
	const char *why;
	size_t off = 4, pl_off = 0, pl_len = 0, keep;

	while (off + 4 <= r.len) {
		uint16_t tl, ty;

		memcpy(&tl, r.buf + off, 2);
		memcpy(&ty, r.buf + off + 2, 2);
		if (ty == 9) {
			pl_off = off;
			pl_len = tl - 4u;
		}
		off += (tl + 3u) & ~3u;
	}
	T_ASSERT(pl_off != 0);
	T_EQ_INT(pl_len, 44);		/* 20 IPv4 + 24 TCP with MSS */
	for (keep = 0; keep <= pl_len; keep++) {
		uint16_t tl = (uint16_t)(4 + keep);
		struct rec c;
		int rc;

		c.len = pl_off + 4 + keep;
		c.buf = malloc(c.len);
		T_ASSERT(c.buf != NULL);
		memcpy(c.buf, r.buf, c.len);
		memcpy(c.buf + pl_off, &tl, 2);
		rc = parse(&c, &p, &why);
		if (keep < 40)
			T_EQ_INT(rc, NFLOG_BAD);
		else
			T_EQ_INT(rc, NFLOG_OPEN);
		free(c.buf);
	}
	free(r.buf);
}

static void
set16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

/* Hand-made broken records: the header and TLV framing. */
static void
framing(void)
{
	struct rec r = load1("v4_syn_in.pcap");
	struct nflog_pkt p;
	const char *why;
	uint8_t b[64];
	uint16_t tl;

	T_EQ_INT(nflog_parse(NULL, 0, &p, &why), NFLOG_BAD);
	T_EQ_INT(nflog_parse(r.buf, 3, &p, &why), NFLOG_BAD);
	T_EQ_STR(why, "shorter than the NFLOG header");

	/* Header only: well framed, but no payload. */
	T_EQ_INT(nflog_parse(r.buf, 4, &p, &why), NFLOG_BAD);
	T_EQ_STR(why, "no payload TLV");

	r.buf[1] = 1;
	T_EQ_INT(nflog_parse(r.buf, r.len, &p, &why), NFLOG_BAD);
	T_EQ_STR(why, "unknown NFLOG version");
	r.buf[1] = 0;

	/* The first TLV's length: 0, 1..3, past the end, the maximum. */
	memcpy(&tl, r.buf + 4, 2);
	set16(r.buf + 4, 0);
	T_EQ_INT(nflog_parse(r.buf, r.len, &p, &why), NFLOG_BAD);
	T_EQ_STR(why, "TLV length below 4");
	set16(r.buf + 4, 3);
	T_EQ_INT(nflog_parse(r.buf, r.len, &p, &why), NFLOG_BAD);
	T_EQ_STR(why, "TLV length below 4");
	set16(r.buf + 4, (uint16_t)(r.len - 4 + 1));
	T_EQ_INT(nflog_parse(r.buf, r.len, &p, &why), NFLOG_BAD);
	T_EQ_STR(why, "TLV overruns the record");
	set16(r.buf + 4, 0xffff);
	T_EQ_INT(nflog_parse(r.buf, r.len, &p, &why), NFLOG_BAD);
	T_EQ_STR(why, "TLV overruns the record");
	/* One TLV covering the whole rest: the payload is swallowed. */
	set16(r.buf + 4, (uint16_t)(r.len - 4));
	T_EQ_INT(nflog_parse(r.buf, r.len, &p, &why), NFLOG_BAD);
	T_EQ_STR(why, "no payload TLV");
	set16(r.buf + 4, tl);
	T_EQ_INT(nflog_parse(r.buf, r.len, &p, &why), NFLOG_OPEN);

	/* A short NFULA_PACKET_HDR and a short interface index. */
	memset(b, 0, sizeof(b));
	b[0] = AF_INET;
	set16(b + 4, 6);
	set16(b + 6, 1);
	T_EQ_INT(nflog_parse(b, 12, &p, &why), NFLOG_BAD);
	T_EQ_STR(why, "short NFULA_PACKET_HDR");
	set16(b + 6, 4);
	T_EQ_INT(nflog_parse(b, 12, &p, &why), NFLOG_BAD);
	T_EQ_STR(why, "short interface index");

	/* An unterminated, over-long prefix is cut, not overrun. */
	{
		uint8_t big[4 + 4 + 300];

		memset(big, 'A', sizeof(big));
		big[0] = AF_INET;
		big[1] = 0;
		set16(big + 4, 4 + 300);
		set16(big + 6, 10);
		T_EQ_INT(nflog_parse(big, sizeof(big), &p, &why), NFLOG_BAD);
		T_EQ_STR(why, "no payload TLV");
		T_EQ_INT(strlen(p.prefix), NFLOG_PREFIX_MAX - 1);
	}
	free(r.buf);
}

/* Find the payload of a record: returns its offset, fills *len. */
static size_t
payload_of(const struct rec *r, size_t *len)
{
	size_t off = 4;

	while (off + 4 <= r->len) {
		uint16_t tl, ty;

		memcpy(&tl, r->buf + off, 2);
		memcpy(&ty, r->buf + off + 2, 2);
		if (ty == 9) {
			*len = tl - 4u;
			return off + 4;
		}
		off += (tl + 3u) & ~3u;
	}
	t_fail("no payload");
}

/* Broken IP headers inside well-framed records. */
static void
ip_headers(void)
{
	struct rec r = load1("v4_syn_in.pcap");
	struct rec r6 = load1("v6_syn_in.pcap");
	struct nflog_pkt p;
	const char *why;
	size_t len, po = payload_of(&r, &len);
	uint8_t *ip = r.buf + po, save;

	T_EQ_INT(len, 44);
	ip[0] = 0x44;				/* IHL 4: 16 bytes */
	T_EQ_INT(nflog_parse(r.buf, r.len, &p, &why), NFLOG_BAD);
	T_EQ_STR(why, "IPv4 header length below 20");
	ip[0] = 0x4f;				/* IHL 15: 60 > 44 */
	T_EQ_INT(nflog_parse(r.buf, r.len, &p, &why), NFLOG_BAD);
	T_EQ_STR(why, "truncated IPv4 header");
	ip[0] = 0x45;
	set16(ip + 2, htons(10));
	T_EQ_INT(nflog_parse(r.buf, r.len, &p, &why), NFLOG_BAD);
	T_EQ_STR(why, "IPv4 total length shorter than its header");
	set16(ip + 2, htons(30));		/* TCP cut by the total */
	T_EQ_INT(nflog_parse(r.buf, r.len, &p, &why), NFLOG_BAD);
	T_EQ_STR(why, "truncated TCP header");
	set16(ip + 2, htons(44));
	ip[7] = 1;				/* fragment offset 8 */
	T_EQ_INT(nflog_parse(r.buf, r.len, &p, &why), NFLOG_SKIP);
	T_EQ_STR(why, "IPv4 fragment");
	ip[7] = 0;
	save = ip[20 + 12];
	ip[20 + 12] = 0x40;			/* TCP data offset 4 */
	T_EQ_INT(nflog_parse(r.buf, r.len, &p, &why), NFLOG_BAD);
	T_EQ_STR(why, "TCP header length below 20");
	ip[20 + 12] = save;
	ip[0] = 0x65;				/* IPv6 in an AF_INET record */
	T_EQ_INT(nflog_parse(r.buf, r.len, &p, &why), NFLOG_BAD);
	T_EQ_STR(why, "IP version does not match the NFLOG family");
	ip[0] = 0x15;
	T_EQ_INT(nflog_parse(r.buf, r.len, &p, &why), NFLOG_BAD);
	T_EQ_STR(why, "payload is neither IPv4 nor IPv6");
	ip[0] = 0x45;
	ip[12] = 0;				/* source 0.x.x.x */
	T_EQ_INT(nflog_parse(r.buf, r.len, &p, &why), NFLOG_SKIP);
	T_EQ_STR(why, "peer address is unspecified or multicast");
	r.buf[0] = 7;				/* NFPROTO_BRIDGE */
	T_EQ_INT(nflog_parse(r.buf, r.len, &p, &why), NFLOG_SKIP);
	T_EQ_STR(why, "NFLOG family is neither IPv4 nor IPv6");

	po = payload_of(&r6, &len);
	ip = r6.buf + po;
	ip[0] = 0x45;				/* IPv4 in an AF_INET6 record */
	T_EQ_INT(nflog_parse(r6.buf, r6.len, &p, &why), NFLOG_BAD);
	T_EQ_STR(why, "IP version does not match the NFLOG family");
	ip[0] = 0x60;
	ip[6] = IPPROTO_HOPOPTS;		/* claims an extension header */
	ip[40 + 1] = 200;			/* of 1608 bytes */
	T_EQ_INT(nflog_parse(r6.buf, r6.len, &p, &why), NFLOG_BAD);
	T_EQ_STR(why, "truncated IPv6 extension header");
	ip[40 + 1] = 0;				/* 8 bytes, next = TCP's sport */
	ip[40] = IPPROTO_DSTOPTS;		/* a chain of them */
	ip[48] = IPPROTO_DSTOPTS;
	ip[48 + 1] = 0;
	ip[56] = IPPROTO_DSTOPTS;		/* 48 bytes, only 8 left */
	ip[56 + 1] = 5;
	T_EQ_INT(nflog_parse(r6.buf, r6.len, &p, &why), NFLOG_BAD);
	T_EQ_STR(why, "truncated IPv6 extension header");
	ip[6] = IPPROTO_ESP;
	T_EQ_INT(nflog_parse(r6.buf, r6.len, &p, &why), NFLOG_SKIP);
	T_EQ_STR(why, "not TCP");
	free(r.buf);
	free(r6.buf);
}

/* A chain of more extension headers than we walk. */
static void
ip6_ext_chain(void)
{
	uint8_t b[4 + 4 + 40 + 10 * 8 + 20];
	struct nflog_pkt p;
	const char *why;
	size_t i;

	memset(b, 0, sizeof(b));
	b[0] = AF_INET6;
	set16(b + 4, (uint16_t)(sizeof(b) - 4));
	set16(b + 6, 9);
	b[8] = 0x60;
	set16(b + 8 + 4, htons(10 * 8 + 20));
	b[8 + 6] = IPPROTO_DSTOPTS;
	for (i = 0; i < 10; i++)
		b[8 + 40 + i * 8] = i < 9 ? IPPROTO_DSTOPTS : IPPROTO_TCP;
	T_EQ_INT(nflog_parse(b, sizeof(b), &p, &why), NFLOG_SKIP);
	T_EQ_STR(why, "too many IPv6 extension headers");
}

static uint32_t
xorshift(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void
check_pkt(int rc, const struct nflog_pkt *p, const char *why)
{
	T_ASSERT(rc == NFLOG_OPEN || rc == NFLOG_SKIP || rc == NFLOG_BAD);
	if (rc != NFLOG_OPEN) {
		T_ASSERT(why != NULL);
		return;
	}
	T_ASSERT(p->has_ip && p->has_tcp);
	T_EQ_INT(p->dport, 25);
	T_EQ_INT(p->tcpflags & 0x12, 0x02);
	T_ASSERT(p->dir == NFLOG_DIR_IN || p->dir == NFLOG_DIR_OUT);
	T_ASSERT(memchr(p->prefix, '\0', sizeof(p->prefix)) != NULL);
}

/* Random bytes of random lengths, some with a plausible header. */
static void
garbage(void)
{
	uint32_t seed = 0x5eed1234;
	struct nflog_pkt p;
	const char *why;
	int i, rc;

	for (i = 0; i < 20000; i++) {
		size_t len = xorshift(&seed) % 300, j;
		uint8_t *b = malloc(len ? len : 1);

		T_ASSERT(b != NULL);
		for (j = 0; j < len; j++)
			b[j] = (uint8_t)xorshift(&seed);
		if (len >= 2 && (i & 1)) {
			b[0] = (i & 2) ? AF_INET : AF_INET6;
			b[1] = 0;
		}
		rc = nflog_parse(b, len, &p, &why);
		check_pkt(rc, &p, why);
		free(b);
	}
}

/* Valid records with a few random bytes changed. */
static void
mutations(void)
{
	uint32_t seed = 0xabcdef01;
	struct nflog_pkt p;
	const char *why;
	size_t i;
	int k, m, rc;

	for (i = 0; i < NSYNTH; i++) {
		struct rec r = synth_rec(i);
		uint8_t *b = malloc(r.len);

		T_ASSERT(b != NULL);
		for (k = 0; k < 2000; k++) {
			memcpy(b, r.buf, r.len);
			for (m = 1 + (int)(xorshift(&seed) % 4); m > 0; m--)
				b[xorshift(&seed) % r.len] =
				    (uint8_t)xorshift(&seed);
			rc = nflog_parse(b, r.len, &p, &why);
			check_pkt(rc, &p, why);
		}
		free(b);
		free(r.buf);
	}
}

/* The shipped synthetic captures are exactly what mknflog writes. */
static void
captures_reproducible(void)
{
	char exe[1024], tool[1100], a[1100];
	ssize_t n;
	size_t i;
	pid_t pid;
	int status;

	if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) == -1)
		t_fail("readlink: %s", strerror(errno));
	exe[n] = '\0';
	snprintf(tool, sizeof(tool), "%s/mknflog", dirname(exe));
	if ((pid = fork()) == -1)
		t_fail("fork: %s", strerror(errno));
	if (pid == 0) {
		execl(tool, "mknflog", t_tmpdir(), (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) == -1 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		t_fail("%s failed", tool);
	for (i = 0; i < NSYNTH; i++) {
		struct rec x = synth_rec(i);
		FILE *f;
		uint8_t buf[4096];
		size_t got;
		struct stat st;

		snprintf(a, sizeof(a), "%s/%s.pcap", t_tmpdir(),
		    synth[i].file);
		if ((f = fopen(a, "rb")) == NULL)
			t_fail("%s: %s", a, strerror(errno));
		got = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		if ((f = fopen(datapath(strrchr(a, '/') + 1), "rb")) == NULL)
			t_fail("%s: %s", synth[i].file, strerror(errno));
		if (fstat(fileno(f), &st) == -1 || (size_t)st.st_size != got)
			t_fail("%s: size differs from mknflog's",
			    synth[i].file);
		{
			uint8_t ship[4096];

			if (fread(ship, 1, got, f) != got ||
			    memcmp(ship, buf, got) != 0)
				t_fail("%s differs from mknflog's output",
				    synth[i].file);
		}
		fclose(f);
		free(x.buf);
	}
}

const struct t_case t_cases[] = {
	T_CASE(synthetic),
	T_CASE(fields),
	T_CASE(real_capture),
	T_CASE(truncated),
	T_CASE(snaplen_cut),
	T_CASE(framing),
	T_CASE(ip_headers),
	T_CASE(ip6_ext_chain),
	T_CASE(garbage),
	T_CASE(mutations),
	T_CASE(captures_reproducible),
	{ NULL, NULL },
};
