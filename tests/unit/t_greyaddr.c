/*
 * t_greyaddr.c: the greylister's per-address accounting (spamd/greyaddr.c):
 * live tuples counted by expiry and forgotten when they expire, records
 * loaded from the database, the rate's token bucket, IPv6 /64s counted
 * together, the queue share, and the report of refusals.
 */
#include <stdio.h>
#include <string.h>

#include "common/addr.h"
#include "common/gdata.h"
#include "spamd/greyaddr.h"
#include "tests/unit/harness.h"

#define GREYEXP	(4 * 3600)

static struct addr
A(const char *s)
{
	struct addr a;

	if (addr_parse(s, &a) == -1)
		t_fail("addr_parse %s", s);
	return a;
}

static void
init(uint32_t max_live, uint32_t rate_n, int64_t period)
{
	struct greyaddr_limits l = { max_live, rate_n, period, GREYEXP };

	greyaddr_init(&l);
}

static void
live_and_expiry(void)
{
	struct addr a = A("192.0.2.1"), b = A("192.0.2.2");
	int64_t now = 1000000;
	int i;

	init(3, 0, 60);
	for (i = 0; i < 3; i++) {
		T_EQ_INT(greyaddr_new_ok(&a, now, 1), GREYADDR_OK);
		greyaddr_added(&a, now + GREYEXP);
	}
	T_EQ_INT(greyaddr_live(&a, now), 3);
	T_EQ_INT(greyaddr_new_ok(&a, now, 1), GREYADDR_LIVE);
	T_EQ_INT(greyaddr_new_ok(&b, now, 1), GREYADDR_OK);	/* others */
	T_EQ_INT(greyaddr_heaviest(now), 3);
	/* Halfway through their life they still count... */
	T_EQ_INT(greyaddr_live(&a, now + GREYEXP / 2), 3);
	/* ...and once they expired (give or take one bucket), not. */
	T_EQ_INT(greyaddr_live(&a, now + GREYEXP + GREYEXP / 8 + 1), 0);
	T_EQ_INT(greyaddr_new_ok(&a, now + GREYEXP + GREYEXP / 8 + 1, 1),
	    GREYADDR_OK);
}

static void
load_from_records(void)
{
	struct gd_rec r;
	int64_t now = 1000000;
	const char k1[] = "192.0.2.9\nhelo\n<a@b>\n<c@d>";
	const char k2[] = "192.0.2.9\n<a@b>\n<e@d>";	/* legacy 3 fields */
	const char k3[] = "192.0.2.9\nhelo\n<a@b>\n<x@d>";
	struct addr a = A("192.0.2.9");

	init(0, 0, 60);
	memset(&r, 0, sizeof(r));
	r.kind = GD_GREY;
	r.expire = now + 100;
	greyaddr_load_rec(k1, sizeof(k1) - 1, &r, now);
	greyaddr_load_rec(k2, sizeof(k2) - 1, &r, now);
	r.expire = now - 1;			/* expired: not counted */
	greyaddr_load_rec(k3, sizeof(k3) - 1, &r, now);
	r.kind = GD_WHITE;			/* not a tuple */
	r.expire = now + 100;
	greyaddr_load_rec("192.0.2.9", 9, &r, now);
	greyaddr_load_rec(k1, sizeof(k1) - 1, NULL, now);	/* corrupt */
	T_EQ_INT(greyaddr_live(&a, now), 2);
}

static void
rate(void)
{
	struct addr a = A("198.51.100.1");
	uint64_t ms = 5000;
	int i;

	init(0, 10, 60);		/* 10 a minute: one every 6 s */
	for (i = 0; i < 10; i++)
		T_EQ_INT(greyaddr_new_ok(&a, 0, ms), GREYADDR_OK);
	T_EQ_INT(greyaddr_new_ok(&a, 0, ms), GREYADDR_RATE);
	T_EQ_INT(greyaddr_new_ok(&a, 0, ms + 5000), GREYADDR_RATE);
	T_EQ_INT(greyaddr_new_ok(&a, 0, ms + 6100), GREYADDR_OK);
	T_EQ_INT(greyaddr_new_ok(&a, 0, ms + 6200), GREYADDR_RATE);
	/* A long pause refills the burst, no more. */
	for (i = 0; i < 10; i++)
		T_EQ_INT(greyaddr_new_ok(&a, 0, ms + 3600000), GREYADDR_OK);
	T_EQ_INT(greyaddr_new_ok(&a, 0, ms + 3600000), GREYADDR_RATE);
}

static void
ipv6_slash64(void)
{
	struct addr a = A("2001:db8:1:2::1"), b = A("2001:db8:1:2:ffff::9"),
	    c = A("2001:db8:1:3::1");
	int64_t now = 1000000;

	init(2, 0, 60);
	greyaddr_added(&a, now + GREYEXP);
	greyaddr_added(&b, now + GREYEXP);
	T_EQ_INT(greyaddr_new_ok(&a, now, 1), GREYADDR_LIVE);
	T_EQ_INT(greyaddr_new_ok(&c, now, 1), GREYADDR_OK);
}

static void
queue_share(void)
{
	struct addr a = A("192.0.2.1"), b = A("192.0.2.2");
	int i;

	init(0, 0, 60);
	for (i = 0; i < 5; i++)
		T_EQ_INT(greyaddr_queue_add(&a, 5), 1);
	T_EQ_INT(greyaddr_queue_add(&a, 5), 0);		/* its share */
	T_EQ_INT(greyaddr_queue_add(&b, 5), 1);		/* others: room */
	greyaddr_queue_del(&a);
	T_EQ_INT(greyaddr_queue_add(&a, 5), 1);
}

static int nrep;
static char rep[GREYADDR_REPORT_MAX][64];

static void
on_report(const struct greyaddr_stat *st, void *arg)
{
	char ip[ADDR_STRLEN];

	(void)arg;
	addr_ntop(&st->a, ip, sizeof(ip));
	snprintf(rep[nrep++], sizeof(rep[0]), "%s %lu %lu", ip,
	    st->refused[GREYADDR_RATE], st->refused[GREYADDR_DBFULL]);
}

static void
report_heaviest_first(void)
{
	char ip[ADDR_STRLEN];
	struct addr a;
	int i, j;

	init(0, 0, 60);
	for (i = 1; i <= 8; i++) {
		snprintf(ip, sizeof(ip), "192.0.2.%d", i);
		a = A(ip);
		for (j = 0; j < i; j++)
			greyaddr_refused(&a, i % 2 ? GREYADDR_RATE :
			    GREYADDR_DBFULL);
	}
	T_EQ_INT(greyaddr_report(0, on_report, NULL), 8);
	T_EQ_INT(nrep, GREYADDR_REPORT_MAX);
	T_EQ_STR(rep[0], "192.0.2.8 0 8");
	T_EQ_STR(rep[1], "192.0.2.7 7 0");
	T_EQ_STR(rep[4], "192.0.2.4 0 4");
	/* Counts start again after a report. */
	nrep = 0;
	T_EQ_INT(greyaddr_report(0, on_report, NULL), 0);
	T_EQ_INT(nrep, 0);
}

const struct t_case t_cases[] = {
	T_CASE(live_and_expiry),
	T_CASE(load_from_records),
	T_CASE(rate),
	T_CASE(ipv6_slash64),
	T_CASE(queue_share),
	T_CASE(report_heaviest_first),
	{ NULL, NULL },
};
