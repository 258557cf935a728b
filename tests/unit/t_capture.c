/*
 * t_capture.c: unit tests for spamlogd/capture.c, driven by savefiles:
 * the captures of tests/data/nflog/ and records written here with
 * pcap_open_dead + pcap_dump. Covers what reaches the refresh queue, the
 * -I and -i filters, the log lines for ignored and malformed records,
 * and the errors for a wrong link type or a missing file.
 */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/addr.h"
#include "common/clock.h"
#include "common/greydb.h"
#include "spamlogd/capture.h"
#include "spamlogd/refresh.h"
#include "tests/unit/harness.h"

static const char *
datapath(const char *name)
{
	static char buf[1024];
	const char *top = getenv("TOP");

	snprintf(buf, sizeof(buf), "%s/tests/data/nflog/%s.pcap",
	    top != NULL ? top : ".", name);
	return buf;
}

static struct refresh *
newq(void)
{
	struct refresh_conf rc;

	memset(&rc, 0, sizeof(rc));
	rc.dbpath = t_path("spamd.db");
	rc.whiteexp = 36 * 86400;
	rc.lock_wait_ms = 0;
	rc.window_ms = 1000;
	rc.batch_max = 64;
	rc.queue_max = 64;
	return refresh_new(&rc);
}

/* Replay a savefile to its end; returns the records dispatched. */
static int
replay(const char *path, unsigned int ifindex, int inbound_only,
    struct refresh *r)
{
	struct capture_conf cc;
	struct capture *c;
	char err[512];
	int n, total = 0;

	memset(&cc, 0, sizeof(cc));
	cc.dev = path;
	cc.ifindex = ifindex;
	cc.ifname = "eth9";
	cc.inbound_only = inbound_only;
	cc.r = r;
	if ((c = capture_open(&cc, err, sizeof(err))) == NULL)
		t_fail("capture_open %s: %s", path, err);
	T_EQ_INT(capture_fd(c), -1);
	while ((n = capture_dispatch(c)) != CAPTURE_EOF) {
		if (n < 0)
			t_fail("dispatch: %s", capture_errstr(c));
		total += n;
	}
	capture_stats(c);			/* no-op for a file */
	capture_close(c);
	return total;
}

static void
openings_queued(void)
{
	static const struct {
		const char	*file;
		size_t		 queued;
		const char	*log;
	} cases[] = {
		{ "v4_syn_in", 1, "in 192.0.2.10 -> 192.0.2.25: whitelisting "
		    "192.0.2.10" },
		{ "v4_syn_out", 1, "out 192.0.2.25 -> 198.51.100.7: "
		    "whitelisting 198.51.100.7" },
		{ "v6_syn_in", 1, "whitelisting 2001:db8::10" },
		{ "v6_syn_out", 1, "whitelisting 2001:db8:1::7" },
		{ "v4_synack", 0, "ignored 192.0.2.10 -> 192.0.2.25 port 25, "
		    "prefix \"spamd-in\": SYN+ACK" },
		{ "v4_port587", 0, "port 587, prefix \"spamd-in\": not to "
		    "port 25" },
		{ "v6_frag", 0, "IPv6 fragment" },
		{ "v4_other_prefix", 0, "prefix \"drop-bad\": log prefix is "
		    "neither spamd-in nor spamd-out" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct refresh *r = newq();

		t_clear_log();
		T_EQ_INT(replay(datapath(cases[i].file), 0, 0, r), 1);
		if (refresh_queued(r, NULL) != cases[i].queued)
			t_fail("%s: %zu queued", cases[i].file,
			    refresh_queued(r, NULL));
		t_expect_log(cases[i].log);
		refresh_free(r);
	}
}

static void
inbound_only(void)
{
	struct refresh *r = newq();

	T_EQ_INT(replay(datapath("v4_syn_out"), 0, 1, r), 1);
	T_EQ_INT(refresh_queued(r, NULL), 0);
	t_expect_log("ignored outbound 192.0.2.25 -> 198.51.100.7: -I");
	T_EQ_INT(replay(datapath("v4_syn_in"), 0, 1, r), 1);
	T_EQ_INT(refresh_queued(r, NULL), 1);
	refresh_free(r);
}

/* The synthetic records carry interface index 2. */
static void
interface(void)
{
	struct refresh *r = newq();

	T_EQ_INT(replay(datapath("v4_syn_in"), 3, 0, r), 1);
	T_EQ_INT(refresh_queued(r, NULL), 0);
	t_expect_log("ignored 192.0.2.10 -> 192.0.2.25: not on interface "
	    "eth9");
	T_EQ_INT(replay(datapath("v4_syn_in"), 2, 0, r), 1);
	T_EQ_INT(replay(datapath("v6_syn_out"), 2, 0, r), 1);
	T_EQ_INT(refresh_queued(r, NULL), 2);
	refresh_free(r);
}

/* The kernel's own records, replayed into a database. */
static void
real_into_db(void)
{
	struct refresh *r = newq();
	struct greydb *db;
	struct gd_rec g;

	clock_fake_set(1700000000);
	T_EQ_INT(replay(datapath("real_mixed"), 0, 0, r), 6);
	/* 192.0.2.10 and 2001:db8::10, each seen in and out. */
	T_EQ_INT(refresh_queued(r, NULL), 2);
	refresh_run(r, 1);
	T_EQ_INT(refresh_queued(r, NULL), 0);
	db = greydb_open(t_path("spamd.db"), GREYDB_READ, 0);
	T_ASSERT(db != NULL);
	T_EQ_INT(greydb_get(db, "192.0.2.10", 10, &g), GREYDB_OK);
	T_EQ_INT(g.kind, GD_WHITE);
	T_EQ_INT(g.pcount, 1);
	T_EQ_INT(greydb_get(db, "2001:db8::10", 12, &g), GREYDB_OK);
	T_EQ_INT(g.pcount, 1);
	T_EQ_INT(g.expire, 1700000000 + 36 * 86400);
	T_EQ_INT(greydb_close(db), 0);
	refresh_free(r);
}

static void
dump(const char *path, int linktype, const uint8_t *const *recs,
    const size_t *lens, const size_t *wire, size_t n)
{
	struct pcap_pkthdr h;
	pcap_dumper_t *d;
	pcap_t *pd;
	size_t i;

	pd = pcap_open_dead(linktype, 65535);
	T_ASSERT(pd != NULL);
	if ((d = pcap_dump_open(pd, path)) == NULL)
		t_fail("%s: %s", path, pcap_geterr(pd));
	for (i = 0; i < n; i++) {
		memset(&h, 0, sizeof(h));
		h.caplen = (uint32_t)lens[i];
		h.len = (uint32_t)(wire != NULL ? wire[i] : lens[i]);
		pcap_dump((u_char *)d, &h, recs[i]);
	}
	pcap_dump_close(d);
	pcap_close(pd);
}

/* Garbage records: one rate-limited warning, nothing queued. */
static void
malformed(void)
{
	static const uint8_t a[] = { 2, 0, 0, 25, 0, 0, 1, 0 };
	static const uint8_t b[] = { 2, 0, 0, 25, 0xff, 0xff, 9, 0 };
	static const uint8_t c[] = { 2, 7 };
	const uint8_t *recs[] = { a, b, c };
	size_t lens[] = { sizeof(a), sizeof(b), sizeof(c) };
	struct refresh *r = newq();

	dump(t_path("bad.pcap"), DLT_NFLOG, recs, lens, NULL, 3);
	T_EQ_INT(replay(t_path("bad.pcap"), 0, 0, r), 3);
	T_EQ_INT(refresh_queued(r, NULL), 0);
	t_expect_log("malformed NFLOG record of 8 bytes (? -> ?): TLV "
	    "length below 4 (1 since the last report)");
	/* The next two fall in the same minute: counted, not logged. */
	t_no_log("TLV overruns the record");
	t_no_log("shorter than the NFLOG header");
	refresh_free(r);
}

/* A record cut by the snaplen is reported as such. */
static void
snaplen_cut(void)
{
	FILE *f;
	uint8_t buf[512];
	size_t n, lens[1], wire[1];
	const uint8_t *recs[1];
	struct refresh *r = newq();
	char hdr[24 + 16];

	if ((f = fopen(datapath("v4_syn_in"), "rb")) == NULL)
		t_fail("open v4_syn_in");
	T_EQ_INT(fread(hdr, 1, sizeof(hdr), f), sizeof(hdr));
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	T_ASSERT(n > 40);
	recs[0] = buf;
	lens[0] = n - 10;
	wire[0] = n;
	dump(t_path("cut.pcap"), DLT_NFLOG, recs, lens, wire, 1);
	T_EQ_INT(replay(t_path("cut.pcap"), 0, 0, r), 1);
	T_EQ_INT(refresh_queued(r, NULL), 0);
	t_expect_log("NFLOG record cut from");
	t_expect_log("by the capture snaplen");
	t_expect_log("malformed NFLOG record");
	refresh_free(r);
}

static void
wrong_link_type(void)
{
	static const uint8_t eth[60];
	const uint8_t *recs[] = { eth };
	size_t lens[] = { sizeof(eth) };
	struct capture_conf cc;
	char err[512];

	dump(t_path("eth.pcap"), DLT_EN10MB, recs, lens, NULL, 1);
	memset(&cc, 0, sizeof(cc));
	cc.dev = t_path("eth.pcap");
	T_ASSERT(capture_open(&cc, err, sizeof(err)) == NULL);
	T_ASSERT(strstr(err, "link type EN10MB, not NFLOG") != NULL);

	cc.dev = t_path("missing.pcap");
	T_ASSERT(capture_open(&cc, err, sizeof(err)) == NULL);
	T_ASSERT(strstr(err, "missing.pcap") != NULL);
	T_ASSERT(strstr(err, "No such file") != NULL);
}

static void
is_file(void)
{
	T_EQ_INT(capture_is_file("nflog:25"), 0);
	T_EQ_INT(capture_is_file("./x.pcap"), 1);
	T_EQ_INT(capture_is_file("/tmp/x"), 1);
}

const struct t_case t_cases[] = {
	T_CASE(openings_queued),
	T_CASE(inbound_only),
	T_CASE(interface),
	T_CASE(real_into_db),
	T_CASE(malformed),
	T_CASE(snaplen_cut),
	T_CASE(wrong_link_type),
	T_CASE(is_file),
	{ NULL, NULL },
};
