/*
 * t_cfg.c: unit tests for spamd/cfg.c, the blacklist configuration line.
 *
 * Every rejection reason is asserted, the parser is fed exact-size heap
 * copies (so SANITIZE=1 catches a read past the line), a bad line must
 * leave the old list alone, and encode -> parse must give back what went
 * in.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/addr.h"
#include "common/compat.h"
#include "spamd/cfg.h"
#include "spamd/sdl.h"
#include "spamd/smtp.h"
#include "tests/unit/harness.h"

/* Parse a copy of exactly len bytes, with nothing readable after it. */
static int
parse_exact(const char *s, size_t len, struct cfg_line *cl, char *err,
    size_t errlen)
{
	char *copy = malloc(len == 0 ? 1 : len);
	int rc;

	if (copy == NULL)
		t_fail("malloc");
	memcpy(copy, s, len);
	rc = cfg_parse(copy, len, cl, err, errlen);
	free(copy);
	return rc;
}

/* The blocks of a parsed line as "a/m a/m ...". */
static const char *
blocks(const struct cfg_line *cl)
{
	static char buf[1024];
	char c[CIDR_STRLEN];
	size_t i;

	buf[0] = '\0';
	for (i = 0; i < cl->ncidr; i++) {
		if (i > 0)
			strlcat(buf, " ", sizeof(buf));
		strlcat(buf, cidr_ntop(&cl->cidr[i], c, sizeof(c)),
		    sizeof(buf));
	}
	return buf;
}

static const struct {
	const char	*line;
	const char	*tag;
	int		 clear;
	const char	*msg;
	size_t		 n4, n6, masked;
	const char	*blocks;
} good[] = {
	{ "nixspam;\"Your address %A is in nixspam\\nSee "
	    "http://example.org/\";inet;2;192.0.2.0/24;198.51.100.7/32",
	    "nixspam", 0, "Your address %A is in nixspam\\nSee "
	    "http://example.org/", 2, 0, 0, "192.0.2.0/24 198.51.100.7/32" },
	{ "six;\"m\";inet;1;203.0.113.0/25;inet6;2;2001:db8::/32;"
	    "2001:db8:1::1/128", "six", 0, "m", 1, 2, 0,
	    "203.0.113.0/25 2001:db8::/32 2001:db8:1::1/128" },
	/* either order, either part alone, counts of zero */
	{ "v6first;\"m\";inet6;1;2001:db8::/48;inet;1;192.0.2.1/32",
	    "v6first", 0, "m", 1, 1, 0, "2001:db8::/48 192.0.2.1/32" },
	{ "only6;\"m\";inet6;1;2001:db8::/64", "only6", 0, "m", 0, 1, 0,
	    "2001:db8::/64" },
	{ "zero;\"m\";inet;0;inet6;0", "zero", 0, "m", 0, 0, 0, "" },
	{ "nomsgaddr;\"m\"", "nomsgaddr", 0, "m", 0, 0, 0, "" },
	{ "empty;\"\";inet;1;192.0.2.0/24", "empty", 0, "", 1, 0, 0,
	    "192.0.2.0/24" },
	/* the clearing form */
	{ "uatraps;", "uatraps", 1, NULL, 0, 0, 0, "" },
	/* semicolons and escaped quotes inside the message */
	{ "q;\"a;b \\\"c\\\" d\\\\\";inet;1;192.0.2.0/24", "q", 0,
	    "a;b \\\"c\\\" d\\\\", 1, 0, 0, "192.0.2.0/24" },
	/* host bits are cleared and counted, as OpenBSD clears them */
	{ "hb;\"m\";inet;2;192.0.2.77/24;10.1.2.3/8", "hb", 0, "m", 2, 0, 2,
	    "192.0.2.0/24 10.0.0.0/8" },
	{ "edges;\"m\";inet;2;0.0.0.0/1;255.255.255.255/32;inet6;2;::/1;"
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128", "edges", 0, "m",
	    2, 2, 0, "0.0.0.0/1 255.255.255.255/32 ::/1 "
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128" },
	/* UTF-8 in the message passes through */
	{ "u;\"caf\xc3\xa9\"", "u", 0, "caf\xc3\xa9", 0, 0, 0, "" },
};

static void
good_lines(void)
{
	struct cfg_line cl;
	char err[CFG_ERR_MAX];
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (parse_exact(good[i].line, strlen(good[i].line), &cl, err,
		    sizeof(err)) == -1)
			t_fail("rejected \"%s\": %s", good[i].line, err);
		T_EQ_STR(cl.tag, good[i].tag);
		T_EQ_INT(cl.clear, good[i].clear);
		if (good[i].msg == NULL)
			T_ASSERT(cl.msg == NULL);
		else
			T_EQ_STR(cl.msg, good[i].msg);
		T_EQ_INT(cl.n4, good[i].n4);
		T_EQ_INT(cl.n6, good[i].n6);
		T_EQ_INT(cl.ncidr, good[i].n4 + good[i].n6);
		T_EQ_INT(cl.masked, good[i].masked);
		T_EQ_STR(blocks(&cl), good[i].blocks);
		cfg_line_free(&cl);
	}
}

static const struct {
	const char	*line;
	size_t		 len;		/* 0: strlen(line) */
	const char	*err;		/* the reason, exactly */
	const char	*tag;		/* cl.tag after the failure */
} bad[] = {
	{ "", 0, "empty line", "" },
	{ "a;\"m\0\";inet;0", 13, "NUL byte at offset 4", "" },
	{ "nixspam", 0, "no ';' after the tag \"nixspam\"", "" },
	{ ";\"m\"", 0, "empty tag", "" },
	{ "a234567890123456789012345678901234567890123456789012345678901234;",
	    0, "tag \"a234567890123456789012345678901234567...\" longer than "
	    "63 bytes", "" },
	{ "has space;\"m\"", 0, "invalid tag \"has space\": tag holds a blank, "
	    "control, non-ASCII, ';' or '\"' character", "has space" },
	{ "spamd-greytrap;\"m\"", 0, "invalid tag \"spamd-greytrap\": tag "
	    "spamd-greytrap is reserved for spamd's greytrap list",
	    "spamd-greytrap" },
	{ "t;m;inet;0", 0, "message does not start with '\"'", "t" },
	{ "t;\"unterminated;inet;0", 0, "message has no closing '\"'", "t" },
	{ "t;\"ends in escape\\\"", 0, "message has no closing '\"'", "t" },
	{ "t;\"a\rb\"", 0, "control character 0x0d in the message", "t" },
	{ "t;\"a\\\nb\"", 0, "control character 0x0a in the message", "t" },
	{ "t;\"m\"x;inet;0", 0, "'x' after the message where ';' belongs",
	    "t" },
	{ "t;\"m\";", 0, "empty field where inet or inet6 belongs", "t" },
	{ "t;\"m\";inet4;1;192.0.2.0/24", 0,
	    "\"inet4\" where inet or inet6 belongs", "t" },
	{ "t;\"m\";inet", 0, "no count after inet", "t" },
	{ "t;\"m\";inet;x", 0, "invalid inet count \"x\"", "t" },
	{ "t;\"m\";inet;+1;192.0.2.0/24", 0, "invalid inet count \"+1\"",
	    "t" },
	{ "t;\"m\";inet;", 0, "invalid inet count \"\"", "t" },
	{ "t;\"m\";inet6;99999999999999999999", 0,
	    "invalid inet6 count \"99999999999999999999\": too large", "t" },
	{ "t;\"m\";inet;3;192.0.2.0/24;198.51.100.0/24", 0,
	    "inet count is 3 but 2 blocks follow", "t" },
	{ "t;\"m\";inet;2;192.0.2.0/24;inet6;1;2001:db8::/32", 0,
	    "inet count is 2 but 1 blocks follow", "t" },
	{ "t;\"m\";inet;1;192.0.2.0/24;198.51.100.0/24", 0,
	    "\"198.51.100.0/24\" after the last counted block", "t" },
	{ "t;\"m\";inet;1;192.0.2.0/24;", 0,
	    "empty field where inet or inet6 belongs", "t" },
	{ "t;\"m\";inet;2;192.0.2.0/24;;", 0, "inet block 2 is empty", "t" },
	{ "t;\"m\";inet;1;192.0.2.0/24;inet;1;192.0.2.0/24", 0,
	    "inet part given twice", "t" },
	{ "t;\"m\";inet6;0;inet6;0", 0, "inet6 part given twice", "t" },
	{ "t;\"m\";inet;1;192.0.2.1", 0,
	    "inet block 1 \"192.0.2.1\": missing mask", "t" },
	{ "t;\"m\";inet;1;192.0.2.0/0", 0,
	    "inet block 1 \"192.0.2.0/0\": mask /0 is not allowed", "t" },
	{ "t;\"m\";inet6;1;::/0", 0,
	    "inet6 block 1 \"::/0\": mask /0 is not allowed", "t" },
	{ "t;\"m\";inet;1;192.0.2.0/33", 0,
	    "inet block 1 \"192.0.2.0/33\": invalid mask", "t" },
	{ "t;\"m\";inet6;1;2001:db8::/129", 0,
	    "inet6 block 1 \"2001:db8::/129\": invalid mask", "t" },
	{ "t;\"m\";inet;1;192.0.2.256/32", 0,
	    "inet block 1 \"192.0.2.256/32\": invalid address", "t" },
	{ "t;\"m\";inet;1;example.org/24", 0,
	    "inet block 1 \"example.org/24\": invalid address", "t" },
	{ "t;\"m\";inet;1;0123456789abcdef0123456789abcdef0123456789abcdef"
	    "0123456789/8", 0, "inet block 1 \"0123456789abcdef0123456789"
	    "abcdef01234...\": invalid address", "t" },
	{ "t;\"m\";inet;1;2001:db8::/32", 0,
	    "inet block 1 \"2001:db8::/32\": not an IPv4 address", "t" },
	{ "t;\"m\";inet6;1;192.0.2.0/24", 0,
	    "inet6 block 1 \"192.0.2.0/24\": not an IPv6 address", "t" },
	{ "t;\"m\";inet;1;::ffff:192.0.2.0/120", 0,
	    "inet block 1 \"::ffff:192.0.2.0/120\": not an IPv4 address",
	    "t" },
	{ "t;\"m\";inet6;1;::ffff:192.0.2.0/120", 0,
	    "inet6 block 1 \"::ffff:192.0.2.0/120\": not an IPv6 address",
	    "t" },
};

static void
bad_lines(void)
{
	struct cfg_line cl;
	char err[CFG_ERR_MAX];
	size_t i, len;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		len = bad[i].len ? bad[i].len : strlen(bad[i].line);
		if (parse_exact(bad[i].line, len, &cl, err, sizeof(err)) == 0)
			t_fail("accepted \"%s\"", bad[i].line);
		T_EQ_STR(err, bad[i].err);
		T_EQ_STR(cl.tag, bad[i].tag);
		/* nothing to free after a failure */
		T_ASSERT(cl.msg == NULL && cl.cidr == NULL && cl.ncidr == 0);
	}
}

static void
long_message(void)
{
	struct cfg_line cl;
	char err[CFG_ERR_MAX], line[SDL_MSG_MAX + 64];
	int n;

	n = snprintf(line, sizeof(line), "t;\"%0*d\"", SDL_MSG_MAX, 0);
	T_EQ_INT(parse_exact(line, (size_t)n, &cl, err, sizeof(err)), 0);
	T_EQ_INT(strlen(cl.msg), SDL_MSG_MAX);
	cfg_line_free(&cl);
	n = snprintf(line, sizeof(line), "t;\"%0*d\"", SDL_MSG_MAX + 1, 0);
	T_EQ_INT(parse_exact(line, (size_t)n, &cl, err, sizeof(err)), -1);
	T_EQ_STR(err, "message longer than 2048 bytes");
	/* a tiny error buffer is cut, never overrun */
	T_EQ_INT(parse_exact(line, (size_t)n, &cl, err, 8), -1);
	T_EQ_STR(err, "message");
	T_EQ_INT(cfg_parse(line, (size_t)n, &cl, NULL, 0), -1);
	T_EQ_INT(cfg_parse(line, CFG_LINE_MAX + 1, &cl, err, sizeof(err)),
	    -1);
	T_EQ_STR(err, "line longer than 268435456 bytes");
}

/* ---- applying ---- */

static const char *
tags_of(const char *ip)
{
	static char buf[256];
	struct sdl_list *l[SDL_LOOKUP_MAX];
	struct addr a;
	size_t i, n;

	if (addr_parse(ip, &a) == -1)
		t_fail("bad test address %s", ip);
	n = sdl_lookup(&a, l, SDL_LOOKUP_MAX);
	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		if (i > 0)
			strlcat(buf, " ", sizeof(buf));
		strlcat(buf, sdl_tag(l[i]), sizeof(buf));
		strlcat(buf, "=", sizeof(buf));
		strlcat(buf, sdl_msg(l[i]), sizeof(buf));
		sdl_unref(l[i]);
	}
	return buf;
}

static void
process(const char *s)
{
	char *copy = malloc(strlen(s) + 1);

	T_ASSERT(copy != NULL);
	memcpy(copy, s, strlen(s));
	cfg_process(copy, strlen(s), NULL);
	free(copy);
}

static void
bad_line_keeps_old_list(void)
{
	struct cfg_stats st;
	const char *in =
	    "nixspam;\"old\";inet;1;192.0.2.0/24\n"
	    "nixspam;\"new\";inet;2;198.51.100.0/24;192.0.2.0/33\n"
	    "other;\"o\";inet;1;192.0.2.0/25\n";

	T_EQ_INT(cfg_process(in, strlen(in), &st), 1);
	T_EQ_INT(st.lines, 3);
	T_EQ_INT(st.applied, 2);
	T_EQ_INT(st.rejected, 1);
	t_expect_log("config line 2 rejected, list nixspam left unchanged: "
	    "inet block 2 \"192.0.2.0/33\": invalid mask");
	t_expect_log("list nixspam: 1 IPv4 and 0 IPv6 blocks loaded");
	t_expect_log("list other: 1 IPv4 and 0 IPv6 blocks loaded");
	T_EQ_STR(tags_of("192.0.2.1"), "nixspam=old other=o");
	T_EQ_STR(tags_of("198.51.100.1"), "");
	/* a line whose tag could not be read is logged without one */
	process("garbage without a semicolon\n");
	t_expect_log("config line 1 rejected: no ';' after the tag");
	sdl_free_all();
}

static void
process_lines(void)
{
	struct cfg_stats st;
	const char *in =
	    "a;\"A\";inet;1;192.0.2.0/24\r\n"
	    "\n"
	    "\r\n"
	    "b;\"B\";inet;1;192.0.2.0/24;inet6;1;2001:db8::/32\n"
	    "c;\"C\";inet;1;10.1.2.3/8\n"
	    "a;\n"
	    "zz;\n"
	    "b;\"B2\";inet6;1;2001:db8::/32";	/* no final LF */

	T_EQ_INT(cfg_process(in, strlen(in), &st), 0);
	T_EQ_INT(st.lines, 6);
	T_EQ_INT(st.applied, 6);
	T_EQ_INT(st.rejected, 0);
	t_expect_log("list a cleared");
	t_expect_log("list zz: nothing to clear, no such list");
	t_expect_log("list c: 1 blocks had host bits set; they were cleared");
	t_expect_log("list b: 0 IPv4 and 1 IPv6 blocks loaded");
	T_EQ_STR(tags_of("192.0.2.9"), "");
	T_EQ_STR(tags_of("10.200.0.1"), "c=C");
	T_EQ_STR(tags_of("2001:db8::5"), "b=B2");
	/* the slot of the cleared list keeps its place */
	process("a;\"A2\";inet6;1;2001:db8::/64\n");
	T_EQ_STR(tags_of("2001:db8::5"), "a=A2 b=B2");
	T_EQ_INT(sdl_count(), 3);
	sdl_free_all();
}

/* ---- in steps, within bounds ---- */

/* Parse in steps of budget blocks, within b (NULL: none). */
static int
parse_steps(const char *s, const struct cfg_bounds *b, size_t budget,
    struct cfg_line *cl, char *err, size_t errlen)
{
	struct cfg_parser ps;
	char *copy = malloc(strlen(s) + 1);
	int rc, steps = 0;

	if (copy == NULL)
		t_fail("malloc");
	memcpy(copy, s, strlen(s));
	rc = cfg_parse_begin(&ps, copy, strlen(s), b, cl, err, errlen);
	while (rc == 0) {
		rc = cfg_parse_step(&ps, budget);
		if (++steps > 1000)
			t_fail("no end after 1000 steps");
	}
	free(copy);
	return rc == -1 ? -1 : 0;
}

static void
steps_same_as_whole(void)
{
	struct cfg_line a, b;
	char ea[CFG_ERR_MAX], eb[CFG_ERR_MAX];
	size_t i, budget;
	int ra, rb;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		for (budget = 1; budget <= 3; budget++) {
			ra = parse_exact(good[i].line, strlen(good[i].line),
			    &a, ea, sizeof(ea));
			rb = parse_steps(good[i].line, NULL, budget, &b, eb,
			    sizeof(eb));
			T_EQ_INT(ra, 0);
			T_EQ_INT(rb, 0);
			T_EQ_STR(blocks(&b), blocks(&a));
			T_EQ_INT(b.n4, a.n4);
			T_EQ_INT(b.n6, a.n6);
			T_EQ_INT(b.masked, a.masked);
			cfg_line_free(&a);
			cfg_line_free(&b);
		}
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (bad[i].len != 0)
			continue;	/* NUL inside: parse_steps uses strlen */
		T_EQ_INT(parse_steps(bad[i].line, NULL, 1, &b, eb,
		    sizeof(eb)), -1);
		T_EQ_STR(eb, bad[i].err);
		T_ASSERT(b.cidr == NULL && b.msg == NULL && b.ncidr == 0);
	}
}

static void
bounds(void)
{
	struct cfg_bounds b = { 3, 1, 100 };
	struct cfg_line cl;
	char err[CFG_ERR_MAX];

	T_EQ_INT(parse_steps("a;\"m\";inet;3;192.0.2.0/32;192.0.2.1/32;"
	    "192.0.2.2/32;inet6;0", &b, 1, &cl, err, sizeof(err)), 0);
	T_EQ_INT(cl.ncidr, 3);
	cfg_line_free(&cl);
	T_EQ_INT(parse_steps("a;\"m\";inet;4;192.0.2.0/32", &b, 1, &cl, err,
	    sizeof(err)), -1);
	T_EQ_STR(err, "4 blocks, more than --list-max-blocks 3");
	T_EQ_STR(cl.tag, "a");
	/* both families count toward --list-max-blocks */
	T_EQ_INT(parse_steps("a;\"m\";inet;2;192.0.2.0/32;192.0.2.1/32;"
	    "inet6;1;2001:db8::/32;inet;1", &b, 1, &cl, err, sizeof(err)), -1);
	T_EQ_STR(err, "inet part given twice");
	T_EQ_INT(parse_steps("a;\"m\";inet;2;192.0.2.0/32;192.0.2.1/32;"
	    "inet6;2;2001:db8::/32;2001:db9::/32", &b, 1, &cl, err,
	    sizeof(err)), -1);
	T_EQ_STR(err, "2 IPv6 blocks, more than --list-max-blocks6 1");
	T_EQ_INT(parse_steps("a;\"m\";inet6;1;2001:db8::/32;inet;3;"
	    "192.0.2.0/32", &b, 1, &cl, err, sizeof(err)), -1);
	T_EQ_STR(err, "4 blocks, more than --list-max-blocks 3");
	/* the count is refused before its blocks are read */
	b.max_blocks = 8UL * 1024 * 1024;
	b.max_blocks6 = 1024UL * 1024;
	b.max_bytes = CFG_LINE_MAX;
	T_EQ_INT(parse_steps("v6bomb;\"b\";inet6;3160000;2001:db8::/64",
	    &b, 1, &cl, err, sizeof(err)), -1);
	T_EQ_STR(err, "3160000 IPv6 blocks, more than --list-max-blocks6 "
	    "1048576");
	b.max_bytes = 30;
	T_EQ_INT(parse_steps("a;\"0123456789012345678901234567\"", &b, 1,
	    &cl, err, sizeof(err)), -1);
	T_EQ_STR(err, "more than 30 bytes (--list-max-bytes)");
	T_EQ_STR(cl.tag, "a");
	T_EQ_INT(parse_steps("a;\"01234567890123456789012345\"", &b, 1,
	    &cl, err, sizeof(err)), 0);
	cfg_line_free(&cl);
}

/* cfg_job in steps of one: what cfg_process does, bounds apart. */
static void
job_steps(void)
{
	struct cfg_bounds b = { 2, 2, 1000 };
	struct cfg_stats st;
	struct cfg_job *j;
	const char *in =
	    "a;\"A\";inet;2;192.0.2.0/24;198.51.100.0/24\n"
	    "big;\"B\";inet;3;10.0.0.0/8;10.1.0.0/16;10.2.0.0/16\n"
	    "\n"
	    "bad;\"X\";inet;1;192.0.2.0/33\n"
	    "c;\"C\";inet6;1;2001:db8::/32\n"
	    "a;\n";
	char *copy = strdup(in);
	int steps = 0;

	T_ASSERT(copy != NULL);
	j = cfg_job_new(copy, strlen(copy), &b);
	T_ASSERT(j != NULL);
	while (cfg_job_step(j, 1) == 0) {
		if (++steps > 10000)
			t_fail("no end after 10000 steps");
	}
	T_ASSERT(steps > 10);
	T_EQ_INT(cfg_job_step(j, 1), 1);
	cfg_job_stats(j, &st);
	cfg_job_free(j);
	free(copy);
	T_EQ_INT(st.lines, 5);
	T_EQ_INT(st.applied, 3);
	T_EQ_INT(st.rejected, 2);
	t_expect_log("config line 2 rejected, list big left unchanged: 3 "
	    "blocks, more than --list-max-blocks 2");
	t_expect_log("config line 4 rejected, list bad left unchanged");
	t_expect_log("list c: 0 IPv4 and 1 IPv6 blocks loaded");
	t_expect_log("list a cleared");
	T_EQ_STR(tags_of("198.51.100.1"), "");
	T_EQ_STR(tags_of("10.0.0.1"), "");
	T_EQ_STR(tags_of("2001:db8::1"), "c=C");
	sdl_free_all();
}

/* ---- encoding ---- */

static void
encode_known(void)
{
	struct cidr v[3];
	const char *e;
	char *line;
	size_t len;

	T_EQ_INT(cidr_parse("2001:db8::/32", &v[0], 0, &e), 0);
	T_EQ_INT(cidr_parse("192.0.2.0/24", &v[1], 0, &e), 0);
	T_EQ_INT(cidr_parse("198.51.100.7", &v[2], 0, &e), 0);
	line = cfg_encode("nixspam", "Your address %A is listed\n"
	    "See \"http://example.org/\" \\o/", v, 3, &len, &e);
	T_ASSERT(line != NULL);
	T_EQ_STR(line, "nixspam;\"Your address %A is listed\\nSee "
	    "\\\"http://example.org/\\\" \\\\o/\";inet;2;192.0.2.0/24;"
	    "198.51.100.7/32;inet6;1;2001:db8::/32\n");
	T_EQ_INT(len, strlen(line));
	free(line);

	line = cfg_encode("none", "m", NULL, 0, &len, &e);
	T_EQ_STR(line, "none;\"m\"\n");
	free(line);
	line = cfg_encode("nomsg", NULL, v, 1, &len, &e);
	T_EQ_STR(line, "nomsg;\"\";inet6;1;2001:db8::/32\n");
	free(line);
}

static void
encode_errors(void)
{
	struct cidr v;
	const char *e;
	size_t len;
	char msg[SDL_MSG_MAX + 2];

	T_EQ_INT(cidr_parse("192.0.2.0/24", &v, 0, &e), 0);
	T_ASSERT(cfg_encode("a b", "m", &v, 1, &len, &e) == NULL);
	T_EQ_STR(e, "tag holds a blank, control, non-ASCII, ';' or '\"' "
	    "character");
	T_ASSERT(cfg_encode(SDL_GREYTRAP_TAG, "m", &v, 1, &len, &e) == NULL);
	T_EQ_STR(e, "tag spamd-greytrap is reserved for spamd's greytrap "
	    "list");
	T_ASSERT(cfg_encode("t", "tab\there", &v, 1, &len, &e) == NULL);
	T_EQ_STR(e, "the message holds a control character");
	memset(msg, 'x', SDL_MSG_MAX - 1);
	strlcpy(msg + SDL_MSG_MAX - 1, "\"", 3);	/* escapes to 2 bytes */
	T_ASSERT(cfg_encode("t", msg, &v, 1, &len, &e) == NULL);
	T_EQ_STR(e, "the message is longer than 2048 bytes once escaped");
	v.plen = 0;
	T_ASSERT(cfg_encode("t", "m", &v, 1, &len, &e) == NULL);
	T_EQ_STR(e, "a block is not IPv4 or IPv6, or has mask /0 or too long "
	    "a mask");
}

static uint64_t rs = 88172645463325252ULL;

static uint64_t
rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return rs;
}

/* encode -> parse -> apply -> reply gives back the plain message. */
static void
round_trip(void)
{
	enum { N = 500 };
	static const char pieces[][8] = { "a", " ", "\"", "\\", "\n", "%A",
	    "%%", ";", ":", "\xc3\xa9" };
	struct cidr v[N];
	struct cfg_line cl;
	struct sdl_list *l[1];
	struct addr a;
	char msg[256], err[CFG_ERR_MAX], *line, reply[SMTP_LISTED_REPLY_MAX];
	const char *e, *m;
	size_t i, j, len;
	uint64_t r;
	int round;

	for (round = 0; round < 50; round++) {
		msg[0] = '\0';
		for (i = 0; i < 1 + rnd() % 20; i++)
			strlcat(msg, pieces[rnd() % 10], sizeof(msg));
		strlcat(msg, "end", sizeof(msg));
		for (i = 0; i < N; i++) {
			memset(&v[i], 0, sizeof(v[i]));
			r = rnd();
			if (r % 3 == 0) {
				v[i].a.af = AF_INET;
				v[i].plen = (uint8_t)(1 + r % 32);
			} else {
				v[i].a.af = AF_INET6;
				v[i].plen = (uint8_t)(1 + r % 128);
			}
			memcpy(v[i].a.u.b, &r, 8);
			r = rnd();
			memcpy(v[i].a.u.b + 8, &r, 8);
			if (v[i].a.af == AF_INET &&
			    (v[i].a.u.b[0] == 0 || r % 7 == 0))
				v[i].a.u.b[0] = 198;	/* no v4-mapped */
			if (v[i].a.af == AF_INET6)
				v[i].a.u.b[0] = 0x20;
			addr_mask(&v[i].a, v[i].plen);
		}
		line = cfg_encode("rt", msg, v, N, &len, &e);
		T_ASSERT(line != NULL);
		T_EQ_INT(line[len - 1], '\n');
		if (parse_exact(line, len - 1, &cl, err, sizeof(err)) == -1)
			t_fail("own line rejected: %s", err);
		T_EQ_STR(cl.tag, "rt");
		T_EQ_INT(cl.ncidr, N);
		T_EQ_INT(cl.masked, 0);
		/* inet blocks first, each family in the original order */
		for (i = 0, j = 0; i < N; i++) {
			if (v[i].a.af != AF_INET)
				continue;
			T_EQ_INT(cl.cidr[j].plen, v[i].plen);
			T_EQ_INT(addr_cmp(&cl.cidr[j].a, &v[i].a), 0);
			j++;
		}
		for (i = 0; i < N; i++) {
			if (v[i].a.af != AF_INET6)
				continue;
			T_EQ_INT(cl.cidr[j].plen, v[i].plen);
			T_EQ_INT(addr_cmp(&cl.cidr[j].a, &v[i].a), 0);
			j++;
		}
		T_EQ_INT(cfg_apply(&cl), 0);
		cfg_line_free(&cl);
		free(line);
		a = v[0].a;
		T_EQ_INT(sdl_lookup(&a, l, 1), 1);
		m = sdl_msg(l[0]);
		T_ASSERT(smtp_listed_reply(reply, sizeof(reply), 450, &m, 1,
		    &a) > 0);
		sdl_unref(l[0]);
		/* the reply's last line ends with the message's last piece */
		T_ASSERT(strstr(reply, "end\r\n") != NULL);
	}
	sdl_free_all();
}

/* Random damage to valid lines never crashes and always says why. */
static void
mutations(void)
{
	const char *seed = "nixspam;\"Your address %A\\nis \\\"listed\\\"\";"
	    "inet;2;192.0.2.0/24;198.51.100.7/32;inet6;1;2001:db8::/32";
	static const char junk[] = ";\"\\/:.0123456789abcdefinet\0\n\r\xff";
	struct cfg_line cl;
	char line[256], err[CFG_ERR_MAX];
	size_t len, k, m, pos;

	for (k = 0; k < 20000; k++) {
		len = strlen(seed);
		memcpy(line, seed, len);
		for (m = 0; m < 1 + rnd() % 4 && len > 0; m++) {
			pos = rnd() % len;
			switch (rnd() % 3) {
			case 0:		/* replace */
				line[pos] = junk[rnd() % (sizeof(junk) - 1)];
				break;
			case 1:		/* delete */
				memmove(line + pos, line + pos + 1,
				    len - pos - 1);
				len--;
				break;
			default:	/* cut */
				len = pos + 1;
				break;
			}
		}
		err[0] = 'X';
		if (parse_exact(line, len, &cl, err, sizeof(err)) == 0)
			cfg_line_free(&cl);
		else if (err[0] == '\0' || err[0] == 'X')
			t_fail("rejected without a reason");
	}
}

const struct t_case t_cases[] = {
	T_CASE(good_lines),
	T_CASE(bad_lines),
	T_CASE(long_message),
	T_CASE(bad_line_keeps_old_list),
	T_CASE(process_lines),
	T_CASE(steps_same_as_whole),
	T_CASE(bounds),
	T_CASE(job_steps),
	T_CASE(encode_known),
	T_CASE(encode_errors),
	T_CASE(round_trip),
	T_CASE(mutations),
	{ NULL, NULL },
};
