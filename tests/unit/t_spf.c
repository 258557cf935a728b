/*
 * t_spf.c: unit tests for the SPF walk of spamd-setup (spf.c) against a
 * fake resolver, for the state file (spfstate.c), the domain lists and
 * the merge into nft elements (spfwalk.c). No DNS, no kernel.
 *
 * The fake zone is a table of lines "name TYPE data" (TYPE is TXT, A,
 * AAAA, MX, or FAIL for a name whose every lookup fails); a few names
 * are generated (a huge record, a thousand includes, binary junk).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/addr.h"
#include "common/compat.h"
#include "nft/nft.h"
#include "spamd-setup/conf.h"
#include "spamd-setup/spf.h"
#include "spamd-setup/spfstate.h"
#include "spamd-setup/spfwalk.h"
#include "tests/unit/harness.h"

static const char *const zone[] = {
	"inc.example TXT v=spf1 include:b.example redirect=c.example",
	"b.example TXT v=spf1 ip4:192.0.2.0/24 ~all",
	"c.example TXT v=spf1 ip6:2001:db8::/32 -all",
	"redall.example TXT v=spf1 ip4:192.0.2.1 redirect=c.example -all",
	"amx.example TXT v=spf1 a a:h.example/28 mx/30//64 -all",
	"amx.example A 203.0.113.77",
	"amx.example MX mail.example",
	"amx.example MX mail2.example",
	"h.example A 198.51.100.100",
	"mail.example A 192.0.2.200",
	"mail.example AAAA 2001:db8:3::25",
	"mail2.example AAAA 2001:db8:4::1",
	"case.example TXT V=SpF1 IP4:192.0.2.7 Ip6:2001:DB8::7 "
	    "iP4:198.51.100.9/26 +A:H.EXAMPLE",
	"loop.example TXT v=spf1 include:loop2.example ip4:192.0.2.1",
	"loop2.example TXT v=spf1 include:loop.example ip4:192.0.2.2",
	"diamond.example TXT v=spf1 include:b.example include:d2.example",
	"d2.example TXT v=spf1 include:b.example",
	"missing.example TXT v=spf1 include:nowhere.example ip4:192.0.2.9",
	"nodata.example A 192.0.2.1",
	"nospf.example TXT google-site-verification=x",
	"nospf.example TXT v=spf10 ip4:192.0.2.1",
	"wide.example TXT v=spf1 ip4:10.0.0.0/8 ip4:0.0.0.0/0 "
	    "ip6:::/0 ip6:2001:db8::/31 ip4:172.16.0.0/12 ip4:192.0.2.0/33",
	"plusall.example TXT v=spf1 ip4:192.0.2.0/28 +all",
	"bareall.example TXT v=spf1 ip4:192.0.2.0/28 all",
	"negall.example TXT v=spf1 ip4:192.0.2.0/28 ?all",
	"skip.example TXT v=spf1 ptr ptr:x.example exists:x.example "
	    "include:%{d}.example ip4:192.0.2.%{i} -ip4:192.0.2.1 "
	    "~ip4:192.0.2.2 ?ip4:192.0.2.3 ip4:192.0.2.4 exp=e.example "
	    "foo=bar bogus:x ip4:not-an-address",
	"twice.example TXT v=spf1 ip4:192.0.2.1",
	"twice.example TXT v=spf1 ip4:192.0.2.2",
	"twoinc.example TXT v=spf1 ip4:192.0.2.3 include:twice.example",
	"tmp.example TXT v=spf1 ip4:192.0.2.1 include:down.example",
	"down.example FAIL",
	"amxdown.example TXT v=spf1 a:down.example",
	"tworedir.example TXT v=spf1 redirect=b.example redirect=c.example",
	"chain0.example TXT v=spf1 include:chain1.example",
	"chain1.example TXT v=spf1 include:chain2.example",
	"chain2.example TXT v=spf1 include:chain3.example",
	"chain3.example TXT v=spf1 include:chain4.example",
	"chain4.example TXT v=spf1 include:chain5.example",
	"chain5.example TXT v=spf1 include:chain6.example",
	"chain6.example TXT v=spf1 include:chain7.example",
	"chain7.example TXT v=spf1 include:chain8.example",
	"chain8.example TXT v=spf1 include:chain9.example",
	"chain9.example TXT v=spf1 include:chain10.example",
	"chain10.example TXT v=spf1 include:chain11.example ip4:192.0.2.10",
	"chain11.example TXT v=spf1 ip4:192.0.2.11",
	"deep.example TXT v=spf1 include:chain0.example",
	"nulmx.example TXT v=spf1 mx ip4:192.0.2.5",
	"blank.example TXT v=spf1",
	"spaces.example TXT v=spf1    ip4:192.0.2.6     ",
	NULL
};

static unsigned int nq;

/* The generated names; 1 when name is one of them. */
static int
generated(const char *name, enum spf_qtype t, struct spf_answer *ans)
{
	static const char junk[] = "v=spf1 ip4:192.0.2.1 \0\001\377\177x";
	char *buf, one[64];
	size_t len = 0, cap = 70000;
	int i;

	if (t != SPF_Q_TXT)
		return 0;
	if (strcmp(name, "huge.example") == 0) {
		buf = malloc(cap);
		len = (size_t)snprintf(buf, cap, "v=spf1");
		for (i = 0; len + 32 < 65000; i++)
			len += (size_t)snprintf(buf + len, cap - len,
			    " ip4:10.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255,
			    i & 255);
		spf_answer_txt(ans, buf, len);
		free(buf);
		return 1;
	}
	if (strcmp(name, "hugejunk.example") == 0) {
		buf = malloc(cap);
		memcpy(buf, "v=spf1 ", 7);
		for (len = 7; len < 65000; len++)
			buf[len] = (char)(len % 3 == 0 ? ' ' : 'x' + len % 2);
		spf_answer_txt(ans, buf, len);
		free(buf);
		return 1;
	}
	if (strcmp(name, "many.example") == 0) {
		buf = malloc(cap);
		len = (size_t)snprintf(buf, cap, "v=spf1");
		for (i = 0; i < 1000; i++)
			len += (size_t)snprintf(buf + len, cap - len,
			    " include:i%d.example", i);
		spf_answer_txt(ans, buf, len);
		free(buf);
		return 1;
	}
	if (sscanf(name, "i%d.example", &i) == 1) {
		snprintf(one, sizeof(one), "v=spf1 ip4:198.51.100.%d",
		    i & 255);
		spf_answer_txt(ans, one, strlen(one));
		return 1;
	}
	if (strcmp(name, "junk.example") == 0) {
		spf_answer_txt(ans, junk, sizeof(junk) - 1);
		return 1;
	}
	if (strcmp(name, "junk2.example") == 0) {
		spf_answer_txt(ans, "\0\001\002binary\377", 10);
		spf_answer_txt(ans, "v=spf1 ip4:192.0.2.8", 20);
		return 1;
	}
	return 0;
}

static enum spf_dns
fake(void *arg, const char *name, enum spf_qtype t, struct spf_answer *ans,
    char *err, size_t errlen)
{
	static const char *const types[] = {
		[SPF_Q_TXT] = "TXT", [SPF_Q_A] = "A", [SPF_Q_AAAA] = "AAAA",
		[SPF_Q_MX] = "MX",
	};
	const char *const *z = arg;
	char line[512], *type, *data;
	size_t i, nl = strlen(name);
	int exists = 0, found = 0;
	struct addr a;

	nq++;
	if (generated(name, t, ans))
		return SPF_DNS_OK;
	for (i = 0; z[i] != NULL; i++) {
		if (strncasecmp(z[i], name, nl) != 0 || z[i][nl] != ' ')
			continue;
		exists = 1;
		strlcpy(line, z[i] + nl + 1, sizeof(line));
		type = line;
		data = strchr(line, ' ');
		if (data != NULL)
			*data++ = '\0';
		if (strcmp(type, "FAIL") == 0) {
			snprintf(err, errlen, "fake SERVFAIL");
			return SPF_DNS_FAIL;
		}
		if (strcmp(type, types[t]) != 0 || data == NULL)
			continue;
		found++;
		if (t == SPF_Q_TXT)
			spf_answer_txt(ans, data, strlen(data));
		else if (t == SPF_Q_MX)
			spf_answer_name(ans, data);
		else {
			if (addr_parse(data, &a) == -1)
				t_fail("bad zone address %s", data);
			spf_answer_addr(ans, &a);
		}
	}
	if (found)
		return SPF_DNS_OK;
	return exists ? SPF_DNS_NODATA : SPF_DNS_NXDOMAIN;
}

static struct spf_opts opts = { fake, (void *)(uintptr_t)0, SPF_FLOOR4_DEF,
    SPF_FLOOR6_DEF };
static char why[512];

/* The blocks of a walk, space-separated; st gets the status. */
static const char *
walk(const char *dom, enum spf_status *st)
{
	static char buf[65536];
	char c[CIDR_STRLEN];
	struct cidr *v;
	size_t i, n;

	opts.arg = (void *)(uintptr_t)zone;
	nq = 0;
	*st = spf_walk(&opts, dom, &v, &n, why, sizeof(why));
	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		if (i > 0)
			strlcat(buf, " ", sizeof(buf));
		strlcat(buf, cidr_ntop(&v[i], c, sizeof(c)), sizeof(buf));
	}
	free(v);
	return buf;
}

static const struct {
	const char	*dom;
	enum spf_status	 st;
	const char	*out;		/* the blocks, or a part of why */
} walk_cases[] = {
	{ "inc.example", SPF_OK, "192.0.2.0/24 2001:db8::/32" },
	{ "redall.example", SPF_OK, "192.0.2.1/32" },
	{ "amx.example", SPF_OK, "192.0.2.200/30 198.51.100.96/28 "
	    "203.0.113.77/32 2001:db8:3::/64 2001:db8:4::/64" },
	{ "case.example", SPF_OK, "192.0.2.7/32 198.51.100.0/26 "
	    "198.51.100.100/32 2001:db8::7/128" },
	{ "CASE.Example.", SPF_OK, "192.0.2.7/32 198.51.100.0/26 "
	    "198.51.100.100/32 2001:db8::7/128" },
	{ "loop.example", SPF_OK, "192.0.2.1/32 192.0.2.2/32" },
	{ "diamond.example", SPF_OK, "192.0.2.0/24" },
	{ "missing.example", SPF_OK, "192.0.2.9/32" },
	{ "wide.example", SPF_OK, "172.16.0.0/12" },
	{ "plusall.example", SPF_OK, "192.0.2.0/28" },
	{ "bareall.example", SPF_OK, "192.0.2.0/28" },
	{ "negall.example", SPF_OK, "192.0.2.0/28" },
	{ "skip.example", SPF_OK, "192.0.2.4/32" },
	{ "chain1.example", SPF_OK, "192.0.2.10/31" },
	{ "nulmx.example", SPF_OK, "192.0.2.5/32" },
	{ "blank.example", SPF_OK, "" },
	{ "spaces.example", SPF_OK, "192.0.2.6/32" },
	{ "junk2.example", SPF_OK, "192.0.2.8/32" },
	{ "gone.example", SPF_GONE, "no such domain (NXDOMAIN)" },
	{ "nodata.example", SPF_GONE, "no TXT record (NODATA)" },
	{ "nospf.example", SPF_GONE, "none of its 2 TXT records is an SPF" },
	{ "twice.example", SPF_FAIL, "twice.example has 2 SPF records" },
	{ "twoinc.example", SPF_FAIL, "twice.example has 2 SPF records" },
	{ "tworedir.example", SPF_FAIL, "more than one redirect=" },
	{ "tmp.example", SPF_TEMPFAIL, "TXT down.example: fake SERVFAIL" },
	{ "amxdown.example", SPF_TEMPFAIL, "A down.example: fake SERVFAIL" },
	{ "down.example", SPF_TEMPFAIL, "fake SERVFAIL" },
	{ "deep.example", SPF_FAIL, "includes nested deeper than 10" },
	{ "chain0.example", SPF_FAIL, "includes nested deeper than 10" },
	{ "huge.example", SPF_FAIL, "more than 1000 blocks" },
	{ "hugejunk.example", SPF_OK, "" },
	{ "many.example", SPF_FAIL, "more than 50 DNS lookups" },
	{ "junk.example", SPF_FAIL, "holds the byte 0x00 at 21: not text" },
	{ "bad..example", SPF_FAIL, "not a domain name" },
};

static void
walk_known(void)
{
	enum spf_status st;
	const char *got;
	size_t i;

	for (i = 0; i < sizeof(walk_cases) / sizeof(walk_cases[0]); i++) {
		got = walk(walk_cases[i].dom, &st);
		if (st != walk_cases[i].st)
			t_fail("%s: status %s (%s), expected %s",
			    walk_cases[i].dom, spf_status_name(st), why,
			    spf_status_name(walk_cases[i].st));
		if (st == SPF_OK && strcmp(got, walk_cases[i].out) != 0)
			t_fail("%s: \"%s\", expected \"%s\"",
			    walk_cases[i].dom, got, walk_cases[i].out);
		if (st != SPF_OK && strstr(why, walk_cases[i].out) == NULL)
			t_fail("%s: why \"%s\", expected \"%s\"",
			    walk_cases[i].dom, why, walk_cases[i].out);
		if (nq > SPF_MAX_QUERIES)
			t_fail("%s: %u lookups", walk_cases[i].dom, nq);
	}
}

static void
walk_logs(void)
{
	enum spf_status st;

	walk("wide.example", &st);
	t_expect_log("spfwalk wide.example: wide.example: \"ip4:10.0.0.0/8\" "
	    "gives 10.0.0.0/8, wider than /12: refused");
	t_expect_log("\"ip4:0.0.0.0/0\" gives 0.0.0.0/0, wider than /12: "
	    "refused");
	t_expect_log("\"ip6:::/0\" gives ::/0, wider than /32: refused");
	t_expect_log("\"ip6:2001:db8::/31\" gives 2001:db8::/31, wider than "
	    "/32: refused");
	t_expect_log("\"ip4:192.0.2.0/33\": not an IPv4 network: ignored");
	walk("plusall.example", &st);
	t_expect_log("spfwalk plusall.example: plusall.example: \"+all\": "
	    "allows the whole Internet: refused");
	walk("bareall.example", &st);
	t_expect_log("spfwalk bareall.example: bareall.example: \"all\": "
	    "allows the whole Internet: refused");
	t_clear_log();
	walk("negall.example", &st);
	t_no_log("refused");
	walk("skip.example", &st);
	t_expect_log("skip.example: \"ptr\": cannot be walked, skipped");
	t_expect_log("skip.example: \"ptr:x.example\": cannot be walked");
	t_expect_log("skip.example: \"exists:x.example\": cannot be walked");
	t_expect_log("\"include:%{d}.example\": a macro, not walked");
	t_expect_log("\"ip4:192.0.2.%{i}\": a macro, not walked");
	t_expect_log("\"bogus:x\": unknown term ignored");
	t_expect_log("\"ip4:not-an-address\": not an IPv4 network: ignored");
	walk("loop.example", &st);
	t_expect_log("spfwalk loop.example: loop2.example names loop.example, "
	    "which names it back: loop ignored");
	walk("missing.example", &st);
	t_expect_log("spfwalk missing.example: nowhere.example, named by "
	    "missing.example: no such domain (NXDOMAIN): its part is empty");
}

/* The floor option, and /0-/7 refused whatever it says. */
static void
walk_floor(void)
{
	enum spf_status st;

	opts.floor4 = 8;
	opts.floor6 = 31;
	T_EQ_STR(walk("wide.example", &st), "10.0.0.0/8 172.16.0.0/12 "
	    "2001:db8::/31");
	opts.floor4 = 0;
	opts.floor6 = 0;
	T_EQ_STR(walk("wide.example", &st), "10.0.0.0/8 172.16.0.0/12 "
	    "2001:db8::/31");
	t_expect_log("gives 0.0.0.0/0, wider than /8: refused");
	opts.floor4 = 16;
	opts.floor6 = SPF_FLOOR6_DEF;
	T_EQ_STR(walk("wide.example", &st), "");
	opts.floor4 = SPF_FLOOR4_DEF;
}

/* The log of a hostile walk is bounded. */
static void
walk_log_cap(void)
{
	static const char *const z[] = {
		"noisy.example TXT v=spf1 ptr ptr ptr ptr ptr ptr ptr ptr ptr "
		    "ptr ptr ptr ptr ptr ptr ptr ptr ptr ptr ptr ptr ptr ptr "
		    "ptr ptr ptr ptr ptr ptr ptr ip4:192.0.2.1",
		NULL
	};
	struct cidr *v;
	size_t n;

	opts.arg = (void *)(uintptr_t)z;
	T_EQ_INT(spf_walk(&opts, "noisy.example", &v, &n, why, sizeof(why)),
	    SPF_OK);
	T_EQ_INT(n, 1);
	free(v);
	t_expect_log("spfwalk noisy.example: 10 more messages not shown");
}

static void
record_and_names(void)
{
	char out[SPF_NAME_MAX + 1], big[300];

	T_EQ_INT(spf_is_record("v=spf1", 6), 1);
	T_EQ_INT(spf_is_record("V=SPF1 a", 8), 1);
	T_EQ_INT(spf_is_record("v=spf10", 7), 0);
	T_EQ_INT(spf_is_record("v=spf1\tip4:1.2.3.4", 18), 0);
	T_EQ_INT(spf_is_record("v=spf", 5), 0);
	T_EQ_INT(spf_is_record(" v=spf1", 7), 0);
	T_EQ_INT(spf_name("Mail.Example.", out, sizeof(out)), 0);
	T_EQ_STR(out, "mail.example");
	T_EQ_INT(spf_name("_spf.google.com", out, sizeof(out)), 0);
	T_EQ_INT(spf_name("", out, sizeof(out)), -1);
	T_EQ_INT(spf_name(".", out, sizeof(out)), -1);
	T_EQ_INT(spf_name("a..b", out, sizeof(out)), -1);
	T_EQ_INT(spf_name(".a", out, sizeof(out)), -1);
	T_EQ_INT(spf_name("a b", out, sizeof(out)), -1);
	T_EQ_INT(spf_name("a/b", out, sizeof(out)), -1);
	T_EQ_INT(spf_name("a\001b", out, sizeof(out)), -1);
	memset(big, 'a', 64);
	strlcpy(big + 64, ".example", sizeof(big) - 64);
	T_EQ_INT(spf_name(big, out, sizeof(out)), -1);	/* a 64-byte label */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	for (size_t i = 50; i < sizeof(big) - 1; i += 51)
		big[i] = '.';
	T_EQ_INT(spf_name(big, out, sizeof(out)), -1);	/* over 253 */
}

/* spfwalk_merge: a source's blocks as "a/m a/m" with an expiry */
static struct cidr *
cidrs(const char *spec, size_t *n)
{
	static struct cidr v[4][32];
	static int k;
	char buf[512], *p, *tok;
	const char *e;
	struct cidr *o = v[k++ % 4];

	*n = 0;
	strlcpy(buf, spec, sizeof(buf));
	for (p = buf; (tok = strsep(&p, " ")) != NULL;) {
		if (*tok != '\0' && cidr_parse(tok, &o[(*n)++], 0, &e) == -1)
			t_fail("bad test block %s", tok);
	}
	return o;
}

static const char *
elems_of(const struct nft_elem *el, size_t n)
{
	static char buf[4096];
	char c[CIDR_STRLEN], one[64];
	struct cidr x;
	size_t i;

	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		x.a = el[i].a;
		x.plen = el[i].plen;
		snprintf(one, sizeof(one), "%s%s@%llu", i > 0 ? " " : "",
		    cidr_ntop(&x, c, sizeof(c)),
		    (unsigned long long)el[i].expires_ms);
		strlcat(buf, one, sizeof(buf));
		if (el[i].timeout_ms != 10800000)
			t_fail("timeout %llu",
			    (unsigned long long)el[i].timeout_ms);
	}
	return buf;
}

static void
merge(void)
{
	struct spfwalk_src src[4];
	struct nft_elem *el;
	size_t n;

	memset(src, 0, sizeof(src));
	src[0].name = "a";
	src[0].v = cidrs("192.0.2.0/24 2001:db8::/32 198.51.100.0/25", &src[0].n);
	src[1].name = "b";
	src[1].v = cidrs("192.0.2.64/26 198.51.100.128/25 2001:db8:1::/48 "
	    "203.0.113.0/24", &src[1].n);
	/* contained, adjacent and overlapping: one block each */
	n = spfwalk_merge(src, 2, 10800000, &el);
	T_EQ_STR(elems_of(el, n), "192.0.2.0/24@0 198.51.100.0/24@0 "
	    "203.0.113.0/24@0 2001:db8::/32@0");
	free(el);

	/* b is kept from an earlier walk: what a holds stays at full time */
	src[1].expires_ms = 3600000;
	src[2].name = "c";
	src[2].v = cidrs("203.0.113.0/25 198.51.100.0/24", &src[2].n);
	src[2].expires_ms = 7200000;
	n = spfwalk_merge(src, 3, 10800000, &el);
	T_EQ_STR(elems_of(el, n), "192.0.2.0/24@0 198.51.100.0/25@0 "
	    "198.51.100.128/25@7200000 203.0.113.0/25@7200000 "
	    "203.0.113.128/25@3600000 2001:db8::/32@0");
	free(el);

	T_EQ_INT(spfwalk_merge(src, 0, 10800000, &el), 0);
	T_ASSERT(el == NULL);
}

static void
domains(void)
{
	static const char text[] =
	    "# big senders\n"
	    "gmail.com\n"
	    "  Outlook.COM.  # Microsoft\n"
	    "\n"
	    "gmail.com\n"
	    "two names.example\n"
	    "bad..example\n"
	    "amazonses.com\r\n"
	    "last.example";
	char **names = NULL;
	size_t n = 0, bad, i;

	bad = spfwalk_domains(text, sizeof(text) - 1, "big", &names, &n);
	T_EQ_INT(bad, 2);
	T_EQ_INT(n, 4);
	T_EQ_STR(names[0], "gmail.com");
	T_EQ_STR(names[1], "outlook.com");
	T_EQ_STR(names[2], "amazonses.com");
	T_EQ_STR(names[3], "last.example");
	t_expect_log("list big, line 6: one domain per line: \"two\" and more");
	t_expect_log("list big, line 7: not a domain name: \"bad..example\"");
	bad = spfwalk_domains("a.example\0b.example\n", 20, "nul", &names, &n);
	T_EQ_INT(bad, 1);
	t_expect_log("list nul, line 1: too long or not text");
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static void
put(const char *name, const char *text, size_t len)
{
	FILE *f = fopen(t_path(name), "w");

	if (f == NULL || fwrite(text, 1, len, f) != len || fclose(f) != 0)
		t_fail("write %s", name);
}

static void
state_roundtrip(void)
{
	struct spfstate s, r;
	struct cidr *v;
	size_t n;
	char path[512];

	strlcpy(path, t_path("spf.state"), sizeof(path));
	memset(&s, 0, sizeof(s));
	T_EQ_INT(spfstate_load(path, &s), 0);		/* missing: empty */
	T_EQ_INT(s.n, 0);
	v = cidrs("192.0.2.0/24 2001:db8::/32", &n);
	spfstate_put(&s, "a.example", 1700000000, v, n);
	spfstate_put(&s, "empty.example", 1700000001, NULL, 0);
	T_EQ_INT(spfstate_save(path, &s), 0);
	T_EQ_INT(spfstate_load(path, &r), 0);
	T_EQ_INT(r.n, 2);
	T_EQ_STR(r.d[0].name, "a.example");
	T_EQ_INT(r.d[0].when, 1700000000);
	T_EQ_INT(r.d[0].n, 2);
	T_EQ_INT(r.d[0].v[1].plen, 32);
	T_EQ_INT(r.d[1].n, 0);
	T_ASSERT(spfstate_find(&r, "empty.example") == &r.d[1]);
	T_ASSERT(spfstate_find(&r, "b.example") == NULL);
	spfstate_free(&r);
	spfstate_free(&s);
}

static const struct {
	const char	*text;
	const char	*log;
} bad_states[] = {
	{ "", "empty" },
	{ "garbage\n", ":1: the first line is not" },
	{ SPFSTATE_HEADER "\na.example 1 192.0.2.0/24 extra\n",
	    ":2: not three fields" },
	{ SPFSTATE_HEADER "\nA.example 1 192.0.2.0/24\n", ":2: not a domain" },
	{ SPFSTATE_HEADER "\na.example -1 192.0.2.0/24\n", ":2: not a time" },
	{ SPFSTATE_HEADER "\na.example 99999999999999999999 -\n",
	    ":2: not a time" },
	{ SPFSTATE_HEADER "\na.example 1 192.0.2.1/24\n",
	    ":2: not a CIDR block" },
	{ SPFSTATE_HEADER "\na.example 1 0.0.0.0/0\n",
	    ":2: not a CIDR block" },
	{ SPFSTATE_HEADER "\na.example 1 -\na.example 2 -\n",
	    ":3: a second time" },
	{ SPFSTATE_HEADER "\na.example 1 -\nb.example 1 -\na.example 1 -\n",
	    ":4: a domain whose lines are not together" },
};

static void
state_broken(void)
{
	static const char good[] = SPFSTATE_HEADER "\n# a comment\n\n"
	    "a.example 5 192.0.2.0/24\na.example 5 -\n";
	struct spfstate s;
	char path[512];
	size_t i;

	strlcpy(path, t_path("spf.state"), sizeof(path));
	for (i = 0; i < sizeof(bad_states) / sizeof(bad_states[0]); i++) {
		put("spf.state", bad_states[i].text,
		    strlen(bad_states[i].text));
		T_EQ_INT(spfstate_load(path, &s), -1);
		T_EQ_INT(s.n, 0);
		t_expect_log(bad_states[i].log);
	}
	put("spf.state", SPFSTATE_HEADER "\na.example 1 -\0x\n",
	    sizeof(SPFSTATE_HEADER) + 17);
	T_EQ_INT(spfstate_load(path, &s), -1);
	t_expect_log("holds a NUL byte");
	T_EQ_INT(spfstate_load(t_tmpdir(), &s), -1);
	t_expect_log("not a regular file");
	put("spf.state", good, sizeof(good) - 1);
	T_EQ_INT(spfstate_load(path, &s), 0);
	T_EQ_INT(s.n, 1);
	T_EQ_INT(s.d[0].n, 1);
	spfstate_free(&s);
}

/* spamd.conf: the :spfwalk: kind, and its mistakes */
static void
conf_spfwalk(void)
{
	static const char text[] =
	    "all:local:big:white:big:both:\n"
	    "local:black:msg=\"m\":file=/x:\n"
	    "big:spfwalk:msg=\"no\":file=/etc/spamd/bigmailers:\n"
	    "white:white:file=/w:\n"
	    "both:spfwalk:black:msg=\"m\":file=/y:\n";
	struct conf c;
	char path[512];

	strlcpy(path, t_path("spamd.conf"), sizeof(path));
	put("spamd.conf", text, sizeof(text) - 1);
	T_EQ_INT(conf_load(path, &c), 2);
	t_expect_log("spamd.conf:3: warning: entry big: an spfwalk list has "
	    "no message; :msg=: ignored");
	t_expect_log("spamd.conf:1: all: spfwalk list big named twice");
	t_expect_log("spamd.conf:5: entry both: both :spfwalk: and :black:");
	t_no_log("white list white has no black list");
	T_EQ_INT(c.nlists, 3);
	T_EQ_INT(c.lists[1].kind, CONF_SPFWALK);
	T_EQ_STR(c.lists[1].file, "/etc/spamd/bigmailers");
	T_ASSERT(c.lists[1].msg == NULL);
	conf_free(&c);
}

const struct t_case t_cases[] = {
	T_CASE(walk_known),
	T_CASE(walk_logs),
	T_CASE(walk_floor),
	T_CASE(walk_log_cap),
	T_CASE(record_and_names),
	T_CASE(merge),
	T_CASE(domains),
	T_CASE(state_roundtrip),
	T_CASE(state_broken),
	T_CASE(conf_spfwalk),
	{ NULL, NULL }
};
