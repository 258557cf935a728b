/*
 * t_nft.c: unit tests for nft/ against the record backend.
 *
 * The record backend decodes the very batch the netlink backend would
 * send, so comparing its lines checks the batch builder (operations,
 * keys, timeouts, interval endpoints, message splitting) and nft.c's
 * error handling (the model answers like the kernel, at the kernel's
 * attribute offsets) without CAP_NET_ADMIN.
 */
#include <sys/types.h>

#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netlink.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>

#include <endian.h>
#include <libmnl/libmnl.h>

#include "common/addr.h"
#include "nft/nft.h"
#include "nft/nft_int.h"
#include "tests/nftlib/nftlib.h"
#include "tests/unit/harness.h"

static const struct nft_set white = { "spamd", "spamd_white", NFPROTO_INET,
    AF_INET, 0 };
static const struct nft_set white6 = { "spamd", "spamd_white6",
    NFPROTO_INET, AF_INET6, 0 };
static const struct nft_set nospamd = { "spamd", "nospamd", NFPROTO_INET,
    AF_INET, 1 };
static const struct nft_set nospamd6 = { "spamd", "nospamd6", NFPROTO_INET,
    AF_INET6, 1 };

static struct nft *
rec_open(const char *opts)
{
	static char spec[600];
	struct nft *n;

	nft_record_register();
	snprintf(spec, sizeof(spec), "record%s:%s", opts, t_path("rec"));
	if ((n = nft_open(spec)) == NULL)
		t_fail("nft_open(%s): %s", spec, nft_open_errstr());
	return n;
}

/* The whole recording, as one string. */
static const char *
recorded(void)
{
	return nft_record_text(t_path("rec"));
}

static size_t
count_lines(const char *s, const char *prefix)
{
	size_t n = 0, len = strlen(prefix);
	const char *p = s;

	while (*p != '\0') {
		if (strncmp(p, prefix, len) == 0)
			n++;
		if ((p = strchr(p, '\n')) == NULL)
			break;
		p++;
	}
	return n;
}

static struct nft_elem
E(const char *s, uint64_t tmo, uint64_t exp)
{
	struct nft_elem e;
	struct cidr c;
	const char *es;

	memset(&e, 0, sizeof(e));
	if (strchr(s, '/') != NULL) {
		if (cidr_parse(s, &c, 0, &es) == -1)
			t_fail("cidr %s: %s", s, es);
		e.a = c.a;
		e.plen = c.plen;
	} else if (addr_parse(s, &e.a) == -1)
		t_fail("addr %s", s);
	e.timeout_ms = tmo;
	e.expires_ms = exp;
	return e;
}

/* nft_list of a set, as "a/plen t e" lines. */
static const char *
listed(struct nft *n, const struct nft_set *set)
{
	static char buf[1 << 20];
	struct nft_elem *el;
	char a[ADDR_STRLEN];
	size_t cnt, i, off = 0;

	if (nft_list(n, set, &el, &cnt) != 0)
		t_fail("nft_list: %s", nft_errstr(n));
	buf[0] = '\0';
	for (i = 0; i < cnt && off < sizeof(buf) - 100; i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off,
		    "%s/%u %llu %llu\n", addr_ntop(&el[i].a, a, sizeof(a)),
		    el[i].plen, (unsigned long long)el[i].timeout_ms,
		    (unsigned long long)el[i].expires_ms);
	free(el);
	return buf;
}

static void
add_v4(void)
{
	struct nft *n = rec_open("");
	struct nft_elem el[] = { E("192.0.2.1", 3600000, 0),
	    E("192.0.2.2", 0, 0) };

	T_EQ_INT(nft_add(n, &white, el, 2, 0), 0);
	nft_close(n);
	T_EQ_STR(recorded(),
	    "batch\n"
	    "add inet spamd spamd_white 192.0.2.1 timeout 3600000\n"
	    "add inet spamd spamd_white 192.0.2.2\n"
	    "commit\n");
}

static void
add_v6_expires(void)
{
	struct nft *n = rec_open("");
	struct nft_elem el[] = { E("2001:db8::1", 7200000, 1800000) };

	T_EQ_INT(nft_add(n, &white6, el, 1, 0), 0);
	T_EQ_STR(listed(n, &white6), "2001:db8::1/128 7200000 1800000\n");
	nft_close(n);
	T_EQ_STR(recorded(),
	    "batch\n"
	    "add inet spamd spamd_white6 2001:db8::1 timeout 7200000"
	    " expires 1800000\n"
	    "commit\n");
}

static void
family_names(void)
{
	static const struct nft_set ip = { "filter", "w", NFPROTO_IPV4,
	    AF_INET, 0 };
	struct nft *n = rec_open("");
	struct nft_elem el[] = { E("198.51.100.7", 0, 0) };

	T_EQ_INT(nft_add(n, &ip, el, 1, 0), 0);
	nft_close(n);
	T_EQ_STR(recorded(), "batch\nadd ip filter w 198.51.100.7\ncommit\n");
}

static void
refresh(void)
{
	struct nft *n = rec_open("");
	struct nft_elem el[] = { E("192.0.2.1", 60000, 0) };
	struct nft_elem el2[] = { E("192.0.2.1", 10800000, 0) };

	T_EQ_INT(nft_add(n, &white, el, 1, 0), 0);
	/* A plain re-add keeps the old timeout (as on 6.1 kernels)... */
	T_EQ_INT(nft_add(n, &white, el2, 1, 0), 0);
	T_EQ_STR(listed(n, &white), "192.0.2.1/32 60000 60000\n");
	/* ...NFT_REFRESH replaces it, atomically. */
	T_EQ_INT(nft_add(n, &white, el2, 1, NFT_REFRESH), 0);
	T_EQ_STR(listed(n, &white), "192.0.2.1/32 10800000 10800000\n");
	nft_close(n);
	T_ASSERT(strstr(recorded(),
	    "batch\n"
	    "add inet spamd spamd_white 192.0.2.1\n"
	    "delete inet spamd spamd_white 192.0.2.1\n"
	    "add inet spamd spamd_white 192.0.2.1 timeout 10800000\n"
	    "commit\n") != NULL);
}

static void
del(void)
{
	struct nft *n = rec_open("");
	struct nft_elem el[] = { E("192.0.2.1", 60000, 0),
	    E("192.0.2.9", 0, 0) };

	T_EQ_INT(nft_add(n, &white, el, 1, 0), 0);
	/* 192.0.2.9 is not there: still no error (added first). */
	T_EQ_INT(nft_del(n, &white, el, 2), 0);
	T_EQ_STR(listed(n, &white), "");
	nft_close(n);
	T_ASSERT(strstr(recorded(),
	    "batch\n"
	    "add inet spamd spamd_white 192.0.2.1\n"
	    "add inet spamd spamd_white 192.0.2.9\n"
	    "delete inet spamd spamd_white 192.0.2.1\n"
	    "delete inet spamd spamd_white 192.0.2.9\n"
	    "commit\n") != NULL);
	t_no_log("rejected");
}

static void
replace(void)
{
	struct nft *n = rec_open("");
	struct nft_elem a[] = { E("192.0.2.1", 1000, 0), E("192.0.2.2", 1000,
	    0) };
	struct nft_elem b[] = { E("192.0.2.3", 2000, 0) };

	T_EQ_INT(nft_add(n, &white, a, 2, 0), 0);
	T_EQ_INT(nft_replace(n, &white, b, 1), 0);
	T_EQ_STR(listed(n, &white), "192.0.2.3/32 2000 2000\n");
	/* Replacing with nothing empties the set. */
	T_EQ_INT(nft_replace(n, &white, NULL, 0), 0);
	T_EQ_STR(listed(n, &white), "");
	nft_close(n);
	T_ASSERT(strstr(recorded(),
	    "batch\n"
	    "flush inet spamd spamd_white\n"
	    "add inet spamd spamd_white 192.0.2.3 timeout 2000\n"
	    "commit\n"
	    "batch\n"
	    "flush inet spamd spamd_white\n"
	    "commit\n") != NULL);
}

static void
interval(void)
{
	struct nft *n = rec_open("");
	/* Adjacent blocks, and one that reaches the top (no end element). */
	struct nft_elem el[] = { E("10.0.0.0/8", 0, 0), E("11.0.0.0/8", 0, 0),
	    E("192.0.2.0/24", 0, 0), E("240.0.0.0/4", 0, 0) };

	T_EQ_INT(nft_replace(n, &nospamd, el, 4), 0);
	T_EQ_STR(listed(n, &nospamd),
	    "10.0.0.0/8 0 0\n11.0.0.0/8 0 0\n192.0.2.0/24 0 0\n"
	    "240.0.0.0/4 0 0\n");
	nft_close(n);
	T_EQ_STR(recorded(),
	    "batch\n"
	    "flush inet spamd nospamd\n"
	    "add inet spamd nospamd 0.0.0.0 interval-end\n"
	    "add inet spamd nospamd 10.0.0.0 interval-start\n"
	    "add inet spamd nospamd 11.0.0.0 interval-end\n"
	    "add inet spamd nospamd 11.0.0.0 interval-start\n"
	    "add inet spamd nospamd 12.0.0.0 interval-end\n"
	    "add inet spamd nospamd 192.0.2.0 interval-start\n"
	    "add inet spamd nospamd 192.0.3.0 interval-end\n"
	    "add inet spamd nospamd 240.0.0.0 interval-start\n"
	    "commit\n");
}

static void
interval_zero_v6(void)
{
	struct nft *n = rec_open("");
	/* A block at address 0: no sentinel (it would collide). */
	struct nft_elem el[] = { E("::/8", 0, 0), E("2001:db8::/32", 0, 0),
	    E("ff00::/8", 0, 0) };

	T_EQ_INT(nft_replace(n, &nospamd6, el, 3), 0);
	T_EQ_STR(listed(n, &nospamd6),
	    "::/8 0 0\n2001:db8::/32 0 0\nff00::/8 0 0\n");
	/* Host bits are masked: 2001:db8::1/32 is 2001:db8::/32. */
	el[1] = E("2001:db8::1/32", 0, 0);
	T_EQ_INT(nft_del(n, &nospamd6, &el[1], 1), 0);
	T_EQ_STR(listed(n, &nospamd6), "::/8 0 0\nff00::/8 0 0\n");
	nft_close(n);
	T_ASSERT(strstr(recorded(),
	    "batch\n"
	    "flush inet spamd nospamd6\n"
	    "add inet spamd nospamd6 :: interval-start\n"
	    "add inet spamd nospamd6 100:: interval-end\n"
	    "add inet spamd nospamd6 2001:db8:: interval-start\n"
	    "add inet spamd nospamd6 2001:db9:: interval-end\n"
	    "add inet spamd nospamd6 ff00:: interval-start\n"
	    "commit\n") != NULL);
}

static void
interval_overlap(void)
{
	struct nft *n = rec_open("");
	struct nft_elem a[] = { E("10.0.0.0/8", 0, 0) };
	struct nft_elem b[] = { E("192.0.2.0/24", 0, 0), E("10.1.0.0/16", 0,
	    0), E("198.51.100.0/24", 0, 0) };

	T_EQ_INT(nft_add(n, &nospamd, a, 1, 0), 0);
	/* The overlapping block is refused, the others committed. */
	T_EQ_INT(nft_add(n, &nospamd, b, 3, 0), 1);
	t_expect_log("set nospamd: 10.1.0.0/16: File exists");
	T_EQ_STR(listed(n, &nospamd),
	    "10.0.0.0/8 0 0\n192.0.2.0/24 0 0\n198.51.100.0/24 0 0\n");
	/* Re-adding an identical block is no error. */
	T_EQ_INT(nft_add(n, &nospamd, a, 1, 0), 0);
	nft_close(n);
	T_EQ_INT(count_lines(recorded(), "abort"), 1);
	T_EQ_INT(count_lines(recorded(), "commit"), 3);
}

static void
range_to_cidrs(void)
{
	struct nft_raw raw[5];
	struct nft_elem *el;
	size_t cnt;
	char a[ADDR_STRLEN], out[512];
	size_t i, off = 0;

	memset(raw, 0, sizeof(raw));
	/* [10.0.0.1, 10.0.0.8], the 0.0.0.0 sentinel, dump order reversed */
	addr_parse("10.0.0.9", &raw[0].a);
	raw[0].end = 1;
	addr_parse("10.0.0.1", &raw[1].a);
	addr_parse("0.0.0.0", &raw[2].a);
	raw[2].end = 1;
	/* and [255.255.255.254, top]: no end element */
	addr_parse("255.255.255.254", &raw[3].a);
	T_EQ_INT(nft_interval_to_cidrs(&nospamd, raw, 4, &el, &cnt), 0);
	for (i = 0; i < cnt; i++)
		off += (size_t)snprintf(out + off, sizeof(out) - off, "%s/%u ",
		    addr_ntop(&el[i].a, a, sizeof(a)), el[i].plen);
	free(el);
	T_EQ_STR(out, "10.0.0.1/32 10.0.0.2/31 10.0.0.4/30 10.0.0.8/32 "
	    "255.255.255.254/31 ");
}

static void
local_rejects(void)
{
	struct nft *n = rec_open("");
	struct nft_elem el[] = { E("2001:db8::5", 0, 0), E("192.0.2.5", 0, 0),
	    E("192.0.2.6", 0, 5000), E("192.0.2.0/24", 0, 0),
	    E("192.0.2.7", 1000, 5000) };

	T_EQ_INT(nft_add(n, &white, el, 5, 0), 4);
	t_expect_log("set spamd_white: 192.0.2.7: an expiry later than its"
	    " timeout");
	t_expect_log("set spamd_white: 2001:db8::5: not an IPv4 address");
	t_expect_log("set spamd_white: 192.0.2.6: an expiry without a timeout");
	t_expect_log("set spamd_white: 192.0.2.0: a prefix on a set without"
	    " flags interval");
	el[0] = E("192.0.2.0/32", 0, 0);
	el[0].plen = 33;
	T_EQ_INT(nft_add(n, &nospamd, el, 1, 0), 1);
	t_expect_log("set nospamd: 192.0.2.0/33: prefix length out of range");
	nft_close(n);
	T_EQ_STR(recorded(),
	    "batch\nadd inet spamd spamd_white 192.0.2.5\ncommit\n");
}

/* Kernel errors in the middle of a message: every bad element is found. */
static void
kernel_rejects_isolated(void)
{
	struct nft *n = rec_open("");
	struct nft_elem el[100];
	char a[32];
	int i;

	for (i = 0; i < 100; i++) {
		snprintf(a, sizeof(a), "198.51.100.%d", i);
		el[i] = E(a, 60000, 0);
	}
	/* ERANGE: over U64_MAX / 1e6 ms (nf_msecs_to_jiffies64). */
	for (i = 10; i < 100; i += 20)
		el[i].timeout_ms = 1ULL << 62;
	T_EQ_INT(nft_add(n, &white, el, 100, NFT_REFRESH), 5);
	for (i = 10; i < 100; i += 20) {
		char want[80];

		snprintf(want, sizeof(want), "set spamd_white: 198.51.100.%d:"
		    " Numerical result out of range", i);
		t_expect_log(want);
	}
	T_EQ_INT(count_lines(listed(n, &white), "198.51.100."), 95);
	nft_close(n);
	/*
	 * The first round finds 198.51.100.10 (the kernel stops there), the
	 * second, with each later element in a message of its own, all the
	 * others at once; the third commits.
	 */
	T_EQ_INT(count_lines(recorded(), "abort"), 2);
	T_EQ_INT(count_lines(recorded(), "commit"), 1);
}

static void
many_rejects_summarised(void)
{
	struct nft *n = rec_open("");
	struct nft_elem el[50];
	char a[32];
	int i;

	for (i = 0; i < 50; i++) {
		snprintf(a, sizeof(a), "2001:db8::%x", i);
		el[i] = E(a, 0, 0);
	}
	T_EQ_INT(nft_add(n, &white, el, 50, 0), 50);
	t_expect_log("set spamd_white: 30 more elements rejected");
	nft_close(n);
	T_EQ_STR(recorded(), "");	/* nothing left to send */
}

/* 64 KiB per element list: a big add is several messages, one batch. */
static void
messages_split(void)
{
	struct nft *n = rec_open("");
	struct nft_elem *el = calloc(5000, sizeof(*el));
	char a[32];
	int i;

	for (i = 0; i < 5000; i++) {
		snprintf(a, sizeof(a), "10.%d.%d.1", i / 256, i % 256);
		el[i] = E(a, 3600000, 0);
	}
	T_EQ_INT(nft_add(n, &white, el, 5000, 0), 0);
	/* begin + 3 data messages (about 2,300 elements each) + end */
	t_expect_log("set spamd_white: batch of 5 messages");
	T_EQ_INT(count_lines(listed(n, &white), "10."), 5000);
	nft_close(n);
	T_EQ_INT(count_lines(recorded(), "batch"), 1);
	T_EQ_INT(count_lines(recorded(), "add "), 5000);
	free(el);
}

/* A send buffer too small for one batch: add is split, replace fails. */
static void
batches_split(void)
{
	struct nft *n = rec_open(",sndbuf=65536");
	struct nft_elem *el = calloc(6000, sizeof(*el));
	char a[32];
	int i;

	for (i = 0; i < 6000; i++) {
		snprintf(a, sizeof(a), "10.%d.%d.1", i / 256, i % 256);
		el[i] = E(a, 3600000, 0);
	}
	T_EQ_INT(nft_add(n, &white, el, 6000, NFT_REFRESH), 0);
	t_expect_log("more than the socket send buffer allows; splitting");
	t_expect_log("set spamd_white: sent 6000 elements in");
	T_EQ_INT(count_lines(listed(n, &white), "10."), 6000);
	T_ASSERT(count_lines(recorded(), "batch") > 2);
	T_EQ_INT(count_lines(recorded(), "abort"), 0);

	T_EQ_INT(nft_replace(n, &white, el, 10), 0);
	T_EQ_INT(nft_replace(n, &white, el, 6000), -1);
	T_EQ_INT(nft_error(n), EMSGSIZE);
	T_ASSERT(strstr(nft_errstr(n), "spamd_white: replacing needs a batch")
	    != NULL);
	/* Nothing changed. */
	T_EQ_INT(count_lines(listed(n, &white), "10."), 10);
	nft_close(n);
	free(el);
}

static void
empty_calls(void)
{
	struct nft *n = rec_open("");

	T_EQ_INT(nft_add(n, &white, NULL, 0, 0), 0);
	T_EQ_INT(nft_del(n, &white, NULL, 0), 0);
	T_EQ_STR(listed(n, &white6), "");
	nft_close(n);
	T_EQ_STR(recorded(), "");
}

static void
bad_set(void)
{
	struct nft *n = rec_open("");
	struct nft_set s = white;
	struct nft_elem el[] = { E("192.0.2.1", 0, 0) };

	s.name = NULL;
	T_EQ_INT(nft_add(n, &s, el, 1, 0), -1);
	T_EQ_INT(nft_error(n), EINVAL);
	s = white;
	s.af = 99;
	T_EQ_INT(nft_add(n, &s, el, 1, 0), -1);
	T_EQ_INT(nft_error(n), EAFNOSUPPORT);
	T_ASSERT(strstr(nft_errstr(n), "spamd_white: key family 99") != NULL);
	/* The handle stays usable, and the error is reset. */
	T_EQ_INT(nft_add(n, &white, el, 1, 0), 0);
	T_EQ_INT(nft_error(n), 0);
	nft_close(n);
}

static void
open_errors(void)
{
	nft_record_register();
	T_ASSERT(nft_open("bogus") == NULL);
	T_EQ_INT(errno, EINVAL);
	T_ASSERT(strstr(nft_open_errstr(), "unknown nft backend \"bogus\"")
	    != NULL);
	T_ASSERT(nft_open("record:") == NULL);
	T_ASSERT(strstr(nft_open_errstr(), "needs a path") != NULL);
	T_ASSERT(nft_open("record:/nonexistent/dir/rec") == NULL);
	T_EQ_INT(errno, ENOENT);
	T_EQ_STR(nft_open_errstr(),
	    "record: /nonexistent/dir/rec: No such file or directory");
	T_ASSERT(nft_open("record,bogus=1:-") == NULL);
	T_ASSERT(strstr(nft_open_errstr(), "unknown option \"bogus=1\"")
	    != NULL);
	T_ASSERT(nft_open("record,sndbuf=12:-") == NULL);
	T_ASSERT(strstr(nft_open_errstr(), "sndbuf \"12\" is too small")
	    != NULL);
	T_ASSERT(nft_open("netlink:x") == NULL);
	T_ASSERT(strstr(nft_open_errstr(), "takes no argument") != NULL);
}

/* The batch itself: markers, flags, ACK only on the last data message. */
static void
batch_layout(void)
{
	struct nft_batch b;
	struct nft_key k[2];
	const struct nlmsghdr *nlh;
	uint32_t seq = 100, off;
	size_t i, idx;

	memset(k, 0, sizeof(k));
	k[0].key[0] = 192;
	k[0].in = 7;
	k[1].key[0] = 198;
	k[1].in = 9;
	nft_batch_init(&b, &white);
	T_EQ_INT(nft_batch_begin(&b, &seq), 0);
	T_EQ_INT(nft_batch_op(&b, &seq, NFT_OP_ADD, k, 2, NULL), 0);
	T_EQ_INT(nft_batch_op(&b, &seq, NFT_OP_DEL, k, 2, NULL), 0);
	T_EQ_INT(nft_batch_end(&b, &seq), 0);
	T_EQ_INT(b.nmsg, 4);
	T_EQ_INT(seq, 104);
	T_EQ_INT(b.seq_last, 102);
	for (i = 0; i < b.nmsg; i++) {
		nlh = (const void *)(b.buf + b.msg[i].off);
		T_EQ_INT(nlh->nlmsg_seq, 100 + i);
		T_EQ_INT(!!(nlh->nlmsg_flags & NLM_F_ACK), i == 2);
	}
	T_EQ_INT(((const struct nlmsghdr *)b.buf)->nlmsg_type,
	    NFNL_MSG_BATCH_BEGIN);
	/* An error offset inside the second nest of message 2 -> key 9. */
	T_EQ_INT(nft_batch_nest_offset(&b, nft_batch_find(&b, 102), 1, &off),
	    0);
	T_EQ_INT(nft_batch_locate(&b, nft_batch_find(&b, 102), off + 4, &idx),
	    1);
	T_EQ_INT(b.map[idx], 9);
	/* Offsets outside the element list name no element. */
	T_EQ_INT(nft_batch_locate(&b, nft_batch_find(&b, 102), 20, &idx), 0);
	T_ASSERT(nft_batch_find(&b, 99) == NULL);
	T_ASSERT(nft_batch_find(&b, 104) == NULL);
	nft_batch_free(&b);
}

/* An element nest as libmnl writes it: what nft_batch.c did before. */
static void
mnl_elem(struct nlmsghdr *nlh, uint16_t idx, const struct nft_key *k,
    size_t klen, int timeouts)
{
	struct nlattr *e, *key;

	e = mnl_attr_nest_start(nlh, idx);
	if (k->end)
		mnl_attr_put_u32(nlh, NFTA_SET_ELEM_FLAGS,
		    htonl(NFT_SET_ELEM_INTERVAL_END));
	if (timeouts && k->timeout_ms != 0)
		mnl_attr_put_u64(nlh, NFTA_SET_ELEM_TIMEOUT,
		    htobe64(k->timeout_ms));
	if (timeouts && k->expires_ms != 0)
		mnl_attr_put_u64(nlh, NFTA_SET_ELEM_EXPIRATION,
		    htobe64(k->expires_ms));
	key = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_KEY);
	mnl_attr_put(nlh, NFTA_DATA_VALUE, klen, k->key);
	mnl_attr_nest_end(nlh, key);
	mnl_attr_nest_end(nlh, e);
}

/*
 * nft_batch.c writes element nests itself: byte for byte what libmnl
 * writes, for both key sizes, with and without the interval end flag,
 * timeouts and expiries, in ADD (no timeouts) and ADD_TIMEOUT.
 */
static void
elem_bytes_as_libmnl(void)
{
	static const struct nft_set *sets[] = { &white, &white6 };
	struct nft_key k[8];
	struct nft_batch b;
	const struct nlmsghdr *nlh;
	const struct nlattr *attr, *list;
	struct nlmsghdr *ref;
	unsigned char refbuf[4096];
	uint32_t seq;
	size_t i, si, klen;
	int op, timeouts;

	memset(k, 0, sizeof(k));
	for (i = 0; i < 8; i++) {
		memset(k[i].key, (int)(0x11 * (i + 1)), 16);
		k[i].in = (uint32_t)i;
		k[i].end = (uint8_t)(i % 2);
		k[i].timeout_ms = i % 4 >= 2 ? 3600000ULL * (i + 1) : 0;
		k[i].expires_ms = i >= 4 ? 1234ULL * i : 0;
	}
	for (si = 0; si < 2; si++)
		for (op = 0; op < 2; op++) {
			timeouts = op == 1;
			klen = sets[si]->af == AF_INET ? 4 : 16;
			seq = 1;
			nft_batch_init(&b, sets[si]);
			T_EQ_INT(nft_batch_begin(&b, &seq), 0);
			T_EQ_INT(nft_batch_op(&b, &seq, timeouts ?
			    NFT_OP_ADD_TIMEOUT : NFT_OP_ADD, k, 8, NULL), 0);
			T_EQ_INT(nft_batch_end(&b, &seq), 0);
			T_EQ_INT(b.nmsg, 3);
			nlh = (const void *)(b.buf + b.msg[1].off);
			list = NULL;
			mnl_attr_for_each(attr, nlh, sizeof(struct nfgenmsg))
				if (mnl_attr_get_type(attr) ==
				    NFTA_SET_ELEM_LIST_ELEMENTS)
					list = attr;
			T_ASSERT(list != NULL);
			memset(refbuf, 0, sizeof(refbuf));
			ref = mnl_nlmsg_put_header(refbuf);
			for (i = 0; i < 8; i++)
				mnl_elem(ref, (uint16_t)(i + 1), &k[i], klen,
				    timeouts);
			T_EQ_INT(mnl_attr_get_payload_len(list),
			    ref->nlmsg_len - MNL_NLMSG_HDRLEN);
			T_EQ_MEM(mnl_attr_get_payload(list),
			    refbuf + MNL_NLMSG_HDRLEN,
			    ref->nlmsg_len - MNL_NLMSG_HDRLEN);
			nft_batch_free(&b);
		}
}

const struct t_case t_cases[] = {
	T_CASE(elem_bytes_as_libmnl),
	T_CASE(add_v4),
	T_CASE(add_v6_expires),
	T_CASE(family_names),
	T_CASE(refresh),
	T_CASE(del),
	T_CASE(replace),
	T_CASE(interval),
	T_CASE(interval_zero_v6),
	T_CASE(interval_overlap),
	T_CASE(range_to_cidrs),
	T_CASE(local_rejects),
	T_CASE(kernel_rejects_isolated),
	T_CASE(many_rejects_summarised),
	T_CASE(messages_split),
	T_CASE(batches_split),
	T_CASE(empty_calls),
	T_CASE(bad_set),
	T_CASE(open_errors),
	T_CASE(batch_layout),
	{ NULL, NULL }
};
