/*
 * t_nospamd.c: unit tests for spamd/nospamd.c, policy mode's copy of the
 * nospamd sets: blocks of both families, overlaps merged, edges, an
 * empty list, and a new list that replaces the old one only at its end.
 */
#include <string.h>

#include "spamd/nospamd.h"
#include "tests/unit/harness.h"

static struct cidr
C(const char *s)
{
	struct cidr c;
	const char *err;

	if (cidr_parse(s, &c, 0, &err) == -1)
		t_fail("bad cidr %s", s);
	return c;
}

static int
has(const char *s)
{
	struct addr a;

	if (addr_parse(s, &a) == -1)
		t_fail("bad address %s", s);
	return nospamd_has(&a);
}

static void
lookups(void)
{
	struct cidr v[6];

	v[0] = C("198.51.100.0/24");
	v[1] = C("198.51.100.128/25");		/* inside the first */
	v[2] = C("192.0.2.7");
	v[3] = C("2001:db8:1::/48");
	v[4] = C("203.0.113.0/25");
	v[5] = C("203.0.113.128/25");		/* adjacent: stays 2 */
	T_EQ_INT(has("198.51.100.1"), 0);	/* empty list */
	nospamd_begin();
	T_EQ_INT(nospamd_add(v, 6), 0);
	T_EQ_INT(has("198.51.100.1"), 0);	/* not before the end */
	T_EQ_INT(nospamd_end(), 5);
	T_EQ_INT(has("198.51.100.0"), 1);
	T_EQ_INT(has("198.51.100.255"), 1);
	T_EQ_INT(has("198.51.101.0"), 0);
	T_EQ_INT(has("198.51.99.255"), 0);
	T_EQ_INT(has("192.0.2.7"), 1);
	T_EQ_INT(has("192.0.2.8"), 0);
	T_EQ_INT(has("203.0.113.200"), 1);
	T_EQ_INT(has("2001:db8:1:ffff::1"), 1);
	T_EQ_INT(has("2001:db8:2::1"), 0);
	/* IPv4 bits never match an IPv6 block, nor the reverse. */
	T_EQ_INT(has("c633:6401::"), 0);	/* 198.51.100.1 as v6 bytes */
	T_EQ_INT(has("0.0.0.1"), 0);
	/* A new, empty list replaces it. */
	nospamd_begin();
	T_EQ_INT(nospamd_end(), 0);
	T_EQ_INT(has("192.0.2.7"), 0);
	nospamd_clear();
}

/* Everything: /0 of each family. */
static void
whole_families(void)
{
	struct cidr v[2];

	v[0] = C("0.0.0.0/0");
	v[1] = C("::/0");
	nospamd_begin();
	T_EQ_INT(nospamd_add(v, 2), 0);
	T_EQ_INT(nospamd_end(), 2);
	T_EQ_INT(has("255.255.255.255"), 1);
	T_EQ_INT(has("ffff::1"), 1);
	nospamd_clear();
	T_EQ_INT(has("255.255.255.255"), 0);
}

const struct t_case t_cases[] = {
	T_CASE(lookups),
	T_CASE(whole_families),
	{ NULL, NULL }
};
