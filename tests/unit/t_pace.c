/*
 * t_pace.c: unit tests for spamd/pace.c, the stutter decision, as a table
 * of connections at moments in virtual time (no socket, no clock).
 */
#include "spamd/pace.h"
#include "tests/unit/harness.h"

#define MS	1000ull		/* ms in a second */

struct row {
	const char	*what;
	struct pace_conf p;
	struct pace_con	 c;
	uint64_t	 now_ms;
	int		 want;
};

/* -s 1000, -S 10, -c 100 unless a row says otherwise; connected at 50 s. */
#define P	{ 1000, 10, 100 }
#define GREY(n)		{ 50 * MS, 0, 0, (n) }
#define LISTED(n, s)	{ 50 * MS, 1, (s), (n) }

static const struct row rows[] = {
	{ "greylisted, just connected", P, GREY(1), 50 * MS, 1 },
	{ "greylisted, 9.999 s in", P, GREY(1), 60 * MS - 1, 1 },
	{ "greylisted, -S seconds in", P, GREY(1), 60 * MS, 0 },
	{ "greylisted, long after", P, GREY(1), 500 * MS, 0 },
	{ "greylisted, -S 0", { 1000, 0, 100 }, GREY(1), 50 * MS, 0 },
	{ "listed within maxblack", P, LISTED(1, 1), 5000 * MS, 1 },
	{ "listed beyond maxblack", P, LISTED(1, 0), 50 * MS, 0 },
	{ "-s 0: never", { 0, 10, 100 }, LISTED(1, 1), 50 * MS, 0 },
	{ "-s 0, greylisted", { 0, 10, 100 }, GREY(1), 50 * MS, 0 },
	{ "94 held of 100", P, GREY(94), 50 * MS, 1 },
	{ "95 held of 100: too busy", P, GREY(95), 50 * MS, 0 },
	{ "95 held, listed: too busy", P, LISTED(95, 1), 50 * MS, 0 },
	{ "maxcon 5: never", { 1000, 10, 5 }, GREY(0), 50 * MS, 0 },
};

static void
table(void)
{
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];

		if (pace_stutter(&r->p, &r->c, r->now_ms) != r->want)
			t_fail("%s: pace_stutter is %d, expected %d", r->what,
			    !r->want, r->want);
	}
}

const struct t_case t_cases[] = {
	T_CASE(table),
	{ NULL, NULL }
};
