/*
 * t_traplist.c: the SMTP process's table of trapped addresses
 * (spamd/traplist.c): set, expire, remove, growth, and deletion that
 * keeps probe chains intact, checked against a brute-force model.
 */
#include <stdio.h>
#include <stdlib.h>

#include "spamd/traplist.h"
#include "tests/unit/harness.h"

static void
basic(void)
{
	struct addr a, b;

	addr_parse("192.0.2.1", &a);
	addr_parse("2001:db8::1", &b);
	T_EQ_INT(traplist_hit(&a, 100), 0);
	T_EQ_INT(traplist_set(&a, 200), 0);
	T_EQ_INT(traplist_set(&b, 300), 0);
	T_EQ_INT(traplist_hit(&a, 100), 1);
	T_EQ_INT(traplist_hit(&b, 250), 1);
	T_EQ_INT(traplist_hit(&a, 200), 0);	/* expired: gone */
	T_EQ_INT(traplist_count(), 1);
	T_EQ_INT(traplist_set(&b, 0), 0);	/* untrap */
	T_EQ_INT(traplist_hit(&b, 250), 0);
	T_EQ_INT(traplist_count(), 0);
}

static void
many_against_model(void)
{
	enum { M = 5000 };
	static int64_t model[M];
	struct addr a;
	char buf[64];
	int i, round;

	srandom(7);
	for (round = 0; round < 20000; round++) {
		i = (int)(random() % M);
		snprintf(buf, sizeof(buf), "198.51.%d.%d", i / 256, i % 256);
		addr_parse(buf, &a);
		if (random() % 3 == 0) {
			traplist_set(&a, 0);
			model[i] = 0;
		} else {
			int64_t e = 1000 + random() % 1000;

			traplist_set(&a, e);
			model[i] = e;
		}
	}
	for (i = 0; i < M; i++) {
		snprintf(buf, sizeof(buf), "198.51.%d.%d", i / 256, i % 256);
		addr_parse(buf, &a);
		if (traplist_hit(&a, 999) != (model[i] != 0))
			t_fail("%s: hit %d, model %lld", buf,
			    traplist_hit(&a, 999), (long long)model[i]);
	}
	traplist_clear();
	T_EQ_INT(traplist_count(), 0);
}

const struct t_case t_cases[] = {
	T_CASE(basic),
	T_CASE(many_against_model),
	{ NULL, NULL },
};
