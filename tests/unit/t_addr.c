/*
 * t_addr.c: unit tests for common/addr.c (parsing, canonical text, CIDR).
 */
#include <arpa/inet.h>
#include <stdio.h>

#include "common/addr.h"
#include "tests/unit/harness.h"

static const struct {
	const char	*in;
	const char	*out;		/* NULL: must be rejected */
} parse_cases[] = {
	{ "192.0.2.1", "192.0.2.1" },
	{ "0.0.0.0", "0.0.0.0" },
	{ "255.255.255.255", "255.255.255.255" },
	{ "2001:db8::1", "2001:db8::1" },
	{ "2001:DB8:0:0:0:0:0:1", "2001:db8::1" },
	{ "::ffff:192.0.2.7", "192.0.2.7" },
	{ "::1", "::1" },
	{ "192.0.2.256", NULL },
	{ "192.0.2", NULL },
	{ "192.0.2.1 ", NULL },
	{ "", NULL },
	{ "example.com", NULL },
	{ "2001:db8::1/64", NULL },
	{ "2001:db8:::1", NULL },
};

static void
parse_and_format(void)
{
	char buf[ADDR_STRLEN];
	struct addr a;
	size_t i;

	for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		int rc = addr_parse(parse_cases[i].in, &a);

		if (parse_cases[i].out == NULL) {
			if (rc != -1)
				t_fail("accepted \"%s\"", parse_cases[i].in);
			continue;
		}
		if (rc != 0)
			t_fail("rejected \"%s\"", parse_cases[i].in);
		T_EQ_STR(addr_ntop(&a, buf, sizeof(buf)), parse_cases[i].out);
		T_EQ_INT(addr_canon(parse_cases[i].in, buf, sizeof(buf)), 0);
		T_EQ_STR(buf, parse_cases[i].out);
	}
}

static void
sockaddr_roundtrip(void)
{
	struct sockaddr_storage ss;
	struct sockaddr_in6 sin6;
	socklen_t len;
	struct addr a, b;
	uint16_t port;
	char buf[ADDR_STRLEN];

	T_EQ_INT(addr_parse("2001:db8::25", &a), 0);
	T_EQ_INT(addr_to_sockaddr(&a, 8025, &ss, &len), 0);
	T_EQ_INT(len, sizeof(struct sockaddr_in6));
	T_EQ_INT(addr_from_sockaddr((struct sockaddr *)&ss, &b, &port), 0);
	T_EQ_INT(port, 8025);
	T_EQ_INT(addr_cmp(&a, &b), 0);

	/* A v4-mapped peer on a dual-stack socket is an IPv4 client. */
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(25);
	T_EQ_INT(inet_pton(AF_INET6, "::ffff:198.51.100.9", &sin6.sin6_addr), 1);
	T_EQ_INT(addr_from_sockaddr((struct sockaddr *)&sin6, &b, &port), 0);
	T_EQ_INT(b.af, AF_INET);
	T_EQ_STR(addr_ntop(&b, buf, sizeof(buf)), "198.51.100.9");
}

static void
ordering_and_increment(void)
{
	struct addr a, b;
	char buf[ADDR_STRLEN];

	T_EQ_INT(addr_parse("203.0.113.255", &a), 0);
	T_EQ_INT(addr_inc(&a), 0);
	T_EQ_STR(addr_ntop(&a, buf, sizeof(buf)), "203.0.114.0");
	T_EQ_INT(addr_parse("255.255.255.255", &a), 0);
	T_EQ_INT(addr_inc(&a), 1);		/* wrapped */
	T_EQ_INT(addr_parse("2001:db8::ffff", &a), 0);
	T_EQ_INT(addr_inc(&a), 0);
	T_EQ_STR(addr_ntop(&a, buf, sizeof(buf)), "2001:db8::1:0");

	/* addr_dec borrows across bytes and is addr_inc's inverse */
	T_EQ_INT(addr_parse("203.0.114.0", &a), 0);
	T_EQ_INT(addr_dec(&a), 0);
	T_EQ_STR(addr_ntop(&a, buf, sizeof(buf)), "203.0.113.255");
	T_EQ_INT(addr_parse("2001:db8::1:0", &a), 0);
	T_EQ_INT(addr_dec(&a), 0);
	T_EQ_STR(addr_ntop(&a, buf, sizeof(buf)), "2001:db8::ffff");
	T_EQ_INT(addr_parse("0.0.0.0", &a), 0);
	T_EQ_INT(addr_dec(&a), 1);		/* wrapped */
	T_EQ_STR(addr_ntop(&a, buf, sizeof(buf)), "255.255.255.255");
	T_EQ_INT(addr_parse("::", &a), 0);
	T_EQ_INT(addr_dec(&a), 1);
	T_EQ_INT(addr_inc(&a), 1);		/* and back */
	T_EQ_STR(addr_ntop(&a, buf, sizeof(buf)), "::");

	T_EQ_INT(addr_parse("255.255.255.255", &a), 0);
	T_EQ_INT(addr_parse("::", &b), 0);
	T_ASSERT(addr_cmp(&a, &b) < 0);		/* IPv4 sorts first */
	T_EQ_INT(addr_parse("192.0.2.2", &b), 0);
	T_ASSERT(addr_cmp(&b, &a) < 0);
}

static const struct {
	const char	*in;
	int		 flags;
	const char	*out;		/* NULL: rejected with err */
	const char	*err;
} cidr_cases[] = {
	{ "192.0.2.0/24", 0, "192.0.2.0/24", NULL },
	{ "192.0.2.77/24", 0, "192.0.2.0/24", NULL },
	{ "192.0.2.77/24", CIDR_STRICT, NULL, "host bits set" },
	{ "192.0.2.1", 0, "192.0.2.1/32", NULL },
	{ "192.0.2.1", CIDR_NEED_MASK, NULL, "missing mask" },
	{ "0.0.0.0/0", 0, "0.0.0.0/0", NULL },
	{ "0.0.0.0/0", CIDR_NO_ZERO, NULL, "invalid mask" },
	{ "192.0.2.0/33", 0, NULL, "invalid mask" },
	{ "192.0.2.0/-1", 0, NULL, "invalid mask" },
	{ "192.0.2.0/", 0, NULL, "invalid mask" },
	{ "192.0.2.0/2x", 0, NULL, "invalid mask" },
	{ "192.0.2.0/+24", 0, NULL, "invalid mask" },
	{ "192.0.2.0/ 24", 0, NULL, "invalid mask" },
	{ "2001:db8::/32", 0, "2001:db8::/32", NULL },
	{ "2001:db8::1/129", 0, NULL, "invalid mask" },
	{ "2001:db8:1:2:3:4:5:6/48", 0, "2001:db8:1::/48", NULL },
	{ "::ffff:192.0.2.0/120", 0, "192.0.2.0/24", NULL },
	{ "::ffff:192.0.2.0/64", 0, NULL, "invalid mask" },
	{ "bogus/8", 0, NULL, "invalid address" },
};

static void
cidr_parse_cases(void)
{
	char buf[CIDR_STRLEN];
	struct cidr c;
	const char *err;
	size_t i;

	for (i = 0; i < sizeof(cidr_cases) / sizeof(cidr_cases[0]); i++) {
		int rc = cidr_parse(cidr_cases[i].in, &c, cidr_cases[i].flags,
		    &err);

		if (cidr_cases[i].out == NULL) {
			if (rc != -1)
				t_fail("accepted \"%s\"", cidr_cases[i].in);
			T_EQ_STR(err, cidr_cases[i].err);
			continue;
		}
		if (rc != 0)
			t_fail("rejected \"%s\": %s", cidr_cases[i].in, err);
		T_EQ_STR(cidr_ntop(&c, buf, sizeof(buf)), cidr_cases[i].out);
	}
}

static void
cidr_ranges(void)
{
	struct cidr c;
	struct addr a;
	const char *err;
	char buf[ADDR_STRLEN];

	T_EQ_INT(cidr_parse("198.51.100.64/26", &c, 0, &err), 0);
	cidr_first(&c, &a);
	T_EQ_STR(addr_ntop(&a, buf, sizeof(buf)), "198.51.100.64");
	cidr_last(&c, &a);
	T_EQ_STR(addr_ntop(&a, buf, sizeof(buf)), "198.51.100.127");
	T_ASSERT(cidr_contains(&c, &a));
	T_EQ_INT(addr_inc(&a), 0);
	T_ASSERT(!cidr_contains(&c, &a));

	T_EQ_INT(cidr_parse("2001:db8::/127", &c, 0, &err), 0);
	cidr_last(&c, &a);
	T_EQ_STR(addr_ntop(&a, buf, sizeof(buf)), "2001:db8::1");
	T_EQ_INT(addr_parse("192.0.2.1", &a), 0);
	T_ASSERT(!cidr_contains(&c, &a));	/* other family */
}

/* IPv4 is formatted by hand: every width of every octet, as inet_ntop
 * would, and a buffer too small gives "?" like inet_ntop's failure. */
static void
ntop_v4(void)
{
	static const char *const v[] = { "0.0.0.0", "1.22.133.4",
	    "9.10.99.100", "199.200.255.254", "255.255.255.255",
	    "192.0.2.7" };
	char buf[ADDR_STRLEN], ref[INET_ADDRSTRLEN], small[8];
	struct addr a;
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		T_EQ_INT(addr_parse(v[i], &a), 0);
		T_EQ_STR(addr_ntop(&a, buf, sizeof(buf)), v[i]);
		T_ASSERT(inet_ntop(AF_INET, a.u.b, ref, sizeof(ref)) != NULL);
		T_EQ_STR(buf, ref);
	}
	T_EQ_INT(addr_parse("192.0.2.7", &a), 0);
	T_EQ_STR(addr_ntop(&a, small, sizeof(small)), "?");
	T_EQ_STR(addr_ntop(&a, buf, 10), "192.0.2.7");
	T_EQ_STR(addr_ntop(&a, buf, 9), "?");
}

/* The block of an address at its family's length; 0 or full: itself. */
static void
network_of(void)
{
	struct addr a;
	struct cidr c;
	char buf[CIDR_STRLEN];

	T_EQ_INT(addr_parse("192.0.2.77", &a), 0);
	T_EQ_INT(cidr_of(&a, 24, 64, &c), 1);
	T_EQ_STR(cidr_ntop(&c, buf, sizeof(buf)), "192.0.2.0/24");
	T_EQ_INT(cidr_of(&a, 32, 64, &c), 0);
	T_EQ_INT(c.plen, 32);
	T_EQ_INT(cidr_of(&a, 0, 64, &c), 0);	/* 0: no grouping */
	T_EQ_INT(addr_cmp(&c.a, &a), 0);
	T_EQ_INT(addr_parse("2001:db8:1:2:3::9", &a), 0);
	T_EQ_INT(cidr_of(&a, 24, 64, &c), 1);
	T_EQ_STR(cidr_ntop(&c, buf, sizeof(buf)), "2001:db8:1:2::/64");
	T_EQ_INT(cidr_of(&a, 24, 128, &c), 0);
	T_EQ_INT(c.plen, 128);
}

/* What addr_parse was before it parsed by itself: inet_pton. */
static int
ref_parse(const char *s, struct addr *a)
{
	struct in_addr v4;
	struct in6_addr v6;

	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, &v4) == 1) {
		a->af = AF_INET;
		a->u.v4 = v4;
		return 0;
	}
	if (inet_pton(AF_INET6, s, &v6) != 1)
		return -1;
	if (IN6_IS_ADDR_V4MAPPED(&v6)) {
		a->af = AF_INET;
		memcpy(&a->u.v4, &v6.s6_addr[12], 4);
	} else {
		a->af = AF_INET6;
		a->u.v6 = v6;
	}
	return 0;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint32_t
rng(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state % n);
}

static void
same_as_ref(const char *s, size_t *accepted)
{
	struct addr a, r;
	int rc, rrc;

	memset(&a, 0x5a, sizeof(a));
	rc = addr_parse(s, &a);
	rrc = ref_parse(s, &r);
	if (rc != rrc)
		t_fail("\"%s\": addr_parse %d, inet_pton %d", s, rc, rrc);
	if (rc == 0) {
		if (a.af != r.af || memcmp(a.u.b, r.u.b, sizeof(a.u.b)) != 0)
			t_fail("\"%s\": another address than inet_pton's", s);
		(*accepted)++;
	}
}

/* A random address as text, in one of the forms inet_pton takes. */
static void
gen_address(char *buf, size_t len)
{
	uint8_t b[16];
	char *p;
	int i, at;

	for (i = 0; i < 16; i++)
		b[i] = (uint8_t)(rng(3) == 0 ? 0 : rng(256));
	if (rng(4) == 0) {		/* a run of zero groups */
		at = 2 * (int)rng(8);
		memset(b + at, 0, (size_t)rng((uint32_t)(16 - at) + 1));
	}
	switch (rng(5)) {
	case 0:
		inet_ntop(AF_INET, b, buf, (socklen_t)len);
		break;
	case 1:			/* canonical, as the database keys are */
		inet_ntop(AF_INET6, b, buf, (socklen_t)len);
		break;
	case 2:			/* all eight groups, upper case, zeros */
		snprintf(buf, len, "%X:%04x:%X:%x:%04X:%x:%x:%X",
		    b[0] << 8 | b[1], b[2] << 8 | b[3], b[4] << 8 | b[5],
		    b[6] << 8 | b[7], b[8] << 8 | b[9], b[10] << 8 | b[11],
		    b[12] << 8 | b[13], b[14] << 8 | b[15]);
		break;
	case 3:			/* a dotted IPv4 tail */
		snprintf(buf, len, "%s%x::%d.%d.%d.%d", rng(2) ? "::ffff:" :
		    "", b[0], b[12], b[13], b[14], b[15]);
		break;
	default:		/* canonical, then one character mutated */
		inet_ntop(rng(2) ? AF_INET6 : AF_INET, b, buf,
		    (socklen_t)len);
		p = buf + rng((uint32_t)strlen(buf) + 1);
		switch (rng(4)) {
		case 0:
			*p = ":.0f9gA/ "[rng(9)];
			if (p == buf + strlen(buf))
				p[1] = '\0';
			break;
		case 1:			/* deleted */
			memmove(p, p + (*p != '\0'), strlen(p));
			break;
		default:		/* doubled */
			if (strlen(buf) + 2 < len) {
				memmove(p + 1, p, strlen(p) + 1);
				if (*p == '\0')
					*p = ':';
			}
			break;
		}
	}
}

/*
 * addr_parse parses by itself and must take exactly what inet_pton
 * takes, with the same result: addresses in every form, mutated ones,
 * and strings of the characters that matter.
 */
static void
parse_like_inet_pton(void)
{
	static const char *edge[] = {
		"", ":", "::", ":::", "::0", "0::", "1::", "::1:", ":1::",
		"1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7::",
		"::2:3:4:5:6:7:8", "1:2:3:4:5:6:7::8", "1::2::3", "12345::",
		"0000:0000:0000:0000:0000:0000:0000:0001", "00000::", "1:",
		"::ffff:1.2.3.4", "::1.2.3.4", "1.2.3.4", "01.2.3.4",
		"1.2.3.04", "0.0.0.0", "255.255.255.255", "256.1.1.1",
		"1.2.3", "1.2.3.4.", "1.2.3.4.5", ".1.2.3", "1..2.3",
		"1.2.3.4 ", " 1.2.3.4", "fffff::", "g::", "::G", "FFFF::",
		"1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:7:1.2.3.4",
	};
	char buf[64];
	size_t i, k, accepted = 0, n;

	for (i = 0; i < sizeof(edge) / sizeof(edge[0]); i++)
		same_as_ref(edge[i], &accepted);
	for (i = 0; i < 300000; i++) {
		gen_address(buf, sizeof(buf));
		same_as_ref(buf, &accepted);
	}
	T_ASSERT(accepted > 150000);	/* most of the generated parse */
	for (i = 0; i < 300000; i++) {
		n = rng(20);
		for (k = 0; k < n; k++)
			buf[k] = "0123456789abcdefF:::..x"[rng(23)];
		buf[n] = '\0';
		same_as_ref(buf, &accepted);
	}
}

const struct t_case t_cases[] = {
	T_CASE(parse_like_inet_pton),
	T_CASE(network_of),
	T_CASE(parse_and_format),
	T_CASE(ntop_v4),
	T_CASE(sockaddr_roundtrip),
	T_CASE(ordering_and_increment),
	T_CASE(cidr_parse_cases),
	T_CASE(cidr_ranges),
	{ NULL, NULL },
};
