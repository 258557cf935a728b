/*
 * t_peers.c: the per-address-block table of the SMTP process: IPv4 per
 * address and IPv6 per /64 by default, counts, freeing at zero, and the
 * log budget per minute.
 */
#include <string.h>

#include "common/addr.h"
#include "spamd/peers.h"
#include "tests/unit/harness.h"

static struct addr
A(const char *s)
{
	struct addr a;

	memset(&a, 0, sizeof(a));
	T_ASSERT(addr_parse(s, &a) == 0);
	return a;
}

static void
blocks(void)
{
	struct addr a1 = A("192.0.2.1"), a2 = A("192.0.2.2");
	struct addr v1 = A("2001:db8::1"), v2 = A("2001:db8::ffff:2"),
	    v3 = A("2001:db8:0:1::1");
	struct peer *p1, *p2, *q1, *q2, *q3;

	peers_init(32, 64, 8);
	p1 = peers_get(&a1);
	p2 = peers_get(&a2);
	T_ASSERT(p1 != NULL && p2 != NULL && p1 != p2);
	T_EQ_INT(peers_ncon(p1), 1);
	q1 = peers_get(&v1);
	q2 = peers_get(&v2);
	q3 = peers_get(&v3);
	T_ASSERT(q1 == q2);		/* same /64 */
	T_ASSERT(q3 != q1);
	T_EQ_INT(peers_ncon(q1), 2);
	T_EQ_INT(peers_count(), 4);
	peers_put(q2);
	T_EQ_INT(peers_ncon(q1), 1);
	peers_put(q1);
	peers_put(q3);
	peers_put(p1);
	peers_put(p2);
	T_EQ_INT(peers_count(), 0);

	peers_init(24, 48, 8);
	p1 = peers_get(&a1);
	p2 = peers_get(&a2);
	T_ASSERT(p1 == p2);
	q1 = peers_get(&v1);
	q3 = peers_get(&v3);
	T_ASSERT(q1 == q3);		/* same /48 */
	T_EQ_INT(peers_count(), 2);
	peers_put(p1);
	peers_put(p2);
	peers_put(q1);
	peers_put(q3);
	T_EQ_INT(peers_count(), 0);
}

static void
log_budget(void)
{
	struct addr a = A("198.51.100.7");
	struct peer *p;
	int i;

	peers_init(32, 64, 8);
	p = peers_get(&a);
	for (i = 0; i < 3; i++)
		T_EQ_INT(peers_log(p, 1000, 3), 1);
	T_EQ_INT(peers_log(p, 1000, 3), -1);	/* announced once */
	T_EQ_INT(peers_log(p, 2000, 3), 0);
	T_EQ_INT(peers_log(p, 61000, 3), 1);	/* a new minute */
	T_EQ_INT(peers_log(p, 61000, 0), 1);	/* 0: no limit */
	T_EQ_INT(peers_log(NULL, 61000, 3), 1);
	peers_put(p);
}

const struct t_case t_cases[] = {
	T_CASE(blocks),
	T_CASE(log_budget),
	{ NULL, NULL },
};
