/*
 * t_greylist.c: the record rules of common/greylist.c against OpenBSD's
 * semantics (spec/openbsd-spamd.md §2.4, §3.2-§3.4, §5).
 *
 * Each function has a table of {name, record before, found, now, record
 * expected after, return value}. Times are fixed; no clock is read.
 * Deliberate differences from OpenBSD (greylist.h "differs") are cases
 * of their own, named so.
 */
#include <stdint.h>

#include "common/gdata.h"
#include "common/greylist.h"
#include "tests/unit/harness.h"

#define T0	1700000000LL		/* first sighting */
#define PT	GREYLIST_PASSTIME	/* 1500 */
#define GE	GREYLIST_GREYEXP	/* 14400 */
#define WE	GREYLIST_WHITEEXP	/* 3110400 */
#define TE	GREYLIST_TRAPEXP	/* 86400 */

static const struct greylist_params P = { PT, GE, WE, TE };

/* A record full of junk: a "not found" call must overwrite every field. */
#define JUNK	{ GD_SPAMTRAP, 77, 88, -5, -6, -7 }

struct rcase {
	const char	*name;
	struct gd_rec	 before;
	int		 found;
	int64_t		 now;
	struct gd_rec	 after;
	int		 ret;
};

#define NCASES(a)	(sizeof(a) / sizeof((a)[0]))

static void
rec_eq(const char *name, const struct gd_rec *got, const struct gd_rec *want)
{
	if (got->kind != want->kind || got->bcount != want->bcount ||
	    got->pcount != want->pcount || got->first != want->first ||
	    got->pass != want->pass || got->expire != want->expire)
		t_fail("%s: got {%s b%u p%u first %lld pass %lld exp %lld}, "
		    "want {%s b%u p%u first %lld pass %lld exp %lld}", name,
		    gd_kind_name(got->kind), got->bcount, got->pcount,
		    (long long)got->first, (long long)got->pass,
		    (long long)got->expire, gd_kind_name(want->kind),
		    want->bcount, want->pcount, (long long)want->first,
		    (long long)want->pass, (long long)want->expire);
}

static void
ret_eq(const char *name, int got, int want)
{
	if (got != want)
		t_fail("%s: returned %d, want %d", name, got, want);
}

/* A new tuple, as spamd writes it at T0. */
#define NEWGREY	{ GD_GREY, 1, 0, T0, T0 + GE, T0 + GE }

static const struct rcase tuple_cases[] = {
	{ "new tuple", JUNK, 0, T0, NEWGREY, 0 },
	{ "retry before passtime counts, does not pass",
	    NEWGREY, 1, T0 + 60,
	    { GD_GREY, 2, 0, T0, T0 + GE, T0 + GE }, 0 },
	{ "retry exactly at passtime does not pass (strictly after)",
	    NEWGREY, 1, T0 + PT,
	    { GD_GREY, 2, 0, T0, T0 + GE, T0 + GE }, 0 },
	{ "retry one second after passtime passes",
	    NEWGREY, 1, T0 + PT + 1,
	    { GD_GREY, 2, 0, T0, T0 + PT + 1, T0 + GE }, 1 },
	{ "a later retry moves pass, never the expiry",
	    { GD_GREY, 2, 0, T0, T0 + PT + 1, T0 + GE }, 1, T0 + 3 * PT,
	    { GD_GREY, 3, 0, T0, T0 + 3 * PT, T0 + GE }, 1 },
	{ "retry just before expiry: expiry still not extended",
	    { GD_GREY, 9, 0, T0, T0 + PT + 1, T0 + GE }, 1, T0 + GE - 1,
	    { GD_GREY, 10, 0, T0, T0 + GE - 1, T0 + GE }, 1 },
	{ "pcount is reset to 0 on a retry",
	    { GD_GREY, 1, 5, T0, T0 + GE, T0 + GE }, 1, T0 + 10,
	    { GD_GREY, 2, 0, T0, T0 + GE, T0 + GE }, 0 },
	{ "bcount saturates",
	    { GD_GREY, UINT32_MAX, 0, T0, T0 + GE, T0 + GE }, 1, T0 + 10,
	    { GD_GREY, UINT32_MAX, 0, T0, T0 + GE, T0 + GE }, 0 },
	{ "found record of another kind is started afresh",
	    { GD_WHITE, 4, 4, 1, 2, 3 }, 1, T0, NEWGREY, 0 },
};

static void
tuple_table(void)
{
	size_t i;

	for (i = 0; i < NCASES(tuple_cases); i++) {
		const struct rcase *c = &tuple_cases[i];
		struct gd_rec r = c->before;

		ret_eq(c->name, greylist_tuple(&r, c->found, c->now, &P),
		    c->ret);
		rec_eq(c->name, &r, &c->after);
	}
}

/* The whole timeline of spec §3.3 with defaults, one sighting at a time. */
static void
tuple_timeline(void)
{
	struct gd_rec r;
	int64_t t;
	int passed = 0;

	T_EQ_INT(greylist_tuple(&r, 0, T0, &P), 0);
	for (t = T0 + 300; t <= T0 + PT; t += 300) {
		T_EQ_INT(greylist_tuple(&r, 1, t, &P), 0);
		T_EQ_INT(greylist_passed(&r, t), 0);
	}
	passed = greylist_tuple(&r, 1, T0 + PT + 300, &P);
	T_EQ_INT(passed, 1);
	T_EQ_INT(r.pass, T0 + PT + 300);
	T_EQ_INT(r.expire, T0 + GE);
	T_EQ_INT(r.bcount, 7);
	T_EQ_INT(greylist_passed(&r, T0 + PT + 300), 1);
	T_EQ_INT(greylist_expired(&r, T0 + PT + 300), 0);
	T_EQ_INT(greylist_expired(&r, T0 + GE), 1);
}

/* Other passtime/greyexp: the parameters are used, not the defaults. */
static void
tuple_params(void)
{
	static const struct greylist_params q = { 5, 60, 3600, 600 };
	struct gd_rec r;

	T_EQ_INT(greylist_tuple(&r, 0, T0, &q), 0);
	T_EQ_INT(r.pass, T0 + 60);
	T_EQ_INT(r.expire, T0 + 60);
	T_EQ_INT(greylist_tuple(&r, 1, T0 + 5, &q), 0);
	T_EQ_INT(greylist_tuple(&r, 1, T0 + 6, &q), 1);
	T_EQ_INT(r.pass, T0 + 6);
	T_EQ_INT(r.expire, T0 + 60);
}

/*
 * A retry after the expiry but before the record is purged: OpenBSD's
 * greylister sets pass, yet its scanner deletes the record (expiry is
 * checked first) instead of whitelisting, so such a retry never
 * whitelists. greylist_passed must agree. (greylist_tuple itself still
 * returns 1 here, and spamd/grey.c promotes on that return value: reported
 * to the lead; once greylist_tuple restarts an expired tuple, assert
 * its return value 0 here too.)
 */
static void
tuple_expired_is_not_passed(void)
{
	struct gd_rec r = NEWGREY;

	/* A retry after expiry does not pass: the tuple starts over. */
	T_EQ_INT(greylist_tuple(&r, 1, T0 + GE + 10, &P), 0);
	T_EQ_INT(greylist_passed(&r, T0 + GE + 10), 0);
	T_EQ_INT(r.first, T0 + GE + 10);
	T_EQ_INT(r.bcount, 1);
	T_EQ_INT(r.expire, T0 + GE + 10 + GE);
}

static const struct rcase trap_cases[] = {
	{ "new address: TRAPPED for trapexp, pass = expire",
	    JUNK, 0, T0, { GD_TRAPPED, 1, 0, T0, T0 + TE, T0 + TE }, 0 },
	{ "TRAPPED: the hit is counted, the expiry stays (as OpenBSD)",
	    { GD_TRAPPED, 3, 0, T0 - 100, T0 + 500, T0 + 500 }, 1, T0,
	    { GD_TRAPPED, 4, 0, T0 - 100, T0 + 500, T0 + 500 }, 0 },
	{ "TRAPPED: bcount saturates",
	    { GD_TRAPPED, UINT32_MAX, 0, 1, 2, T0 + 9 }, 1, T0,
	    { GD_TRAPPED, UINT32_MAX, 0, 1, 2, T0 + 9 }, 0 },
	/* differs: OpenBSD keeps the WHITE expiry (up to 36 days) */
	{ "WHITE becomes TRAPPED with a fresh trapexp (differs)",
	    { GD_WHITE, 2, 6, T0 - 5000, T0 - 4000, T0 + WE }, 1, T0,
	    { GD_TRAPPED, 3, 0, T0 - 5000, T0 + TE, T0 + TE }, 0 },
	{ "found record of another kind is started afresh",
	    { GD_SPAMTRAP, 9, 9, 1, 2, 3 }, 1, T0,
	    { GD_TRAPPED, 1, 0, T0, T0 + TE, T0 + TE }, 0 },
};

static void
trap_table(void)
{
	size_t i;

	for (i = 0; i < NCASES(trap_cases); i++) {
		const struct rcase *c = &trap_cases[i];
		struct gd_rec r = c->before;

		greylist_trap(&r, c->found, c->now, &P);
		rec_eq(c->name, &r, &c->after);
	}
}

static void
white_from_tuple(void)
{
	static const struct rcase cases[] = {
		{ "a copy of the tuple, expiring whiteexp from now",
		    { GD_GREY, 4, 0, T0, T0 + PT + 9, T0 + GE }, 1, T0 + 2000,
		    { GD_WHITE, 4, 0, T0, T0 + PT + 9, T0 + 2000 + WE }, 0 },
		{ "counters are copied as they are",
		    { GD_GREY, 7, 3, T0, T0 + 1600, T0 + GE }, 1, T0 + 1700,
		    { GD_WHITE, 7, 3, T0, T0 + 1600, T0 + 1700 + WE }, 0 },
	};
	size_t i;

	for (i = 0; i < NCASES(cases); i++) {
		const struct rcase *c = &cases[i];
		struct gd_rec w = JUNK, t = c->before;

		greylist_white_from_tuple(&w, &t, c->now, &P);
		rec_eq(c->name, &w, &c->after);
		rec_eq("the tuple is left alone", &t, &c->before);
	}
}

static const struct rcase refresh_cases[] = {
	{ "new address: WHITE, first = pass = now",
	    JUNK, 0, T0, { GD_WHITE, 1, 0, T0, T0, T0 + WE }, 1 },
	{ "WHITE: pcount + 1, expiry renewed, pass and first kept",
	    { GD_WHITE, 2, 4, T0 - 9000, T0 - 8000, T0 + 10 }, 1, T0,
	    { GD_WHITE, 2, 5, T0 - 9000, T0 - 8000, T0 + WE }, 1 },
	{ "WHITE: pcount saturates",
	    { GD_WHITE, 2, UINT32_MAX, 1, 2, 3 }, 1, T0,
	    { GD_WHITE, 2, UINT32_MAX, 1, 2, T0 + WE }, 1 },
	/* differs: OpenBSD's spamlogd turns a TRAPPED record WHITE */
	{ "TRAPPED is left alone (differs)",
	    { GD_TRAPPED, 3, 0, T0 - 10, T0 + 50, T0 + 50 }, 1, T0,
	    { GD_TRAPPED, 3, 0, T0 - 10, T0 + 50, T0 + 50 }, 0 },
	{ "SPAMTRAP is left alone",
	    { GD_SPAMTRAP, 1, 0, 5, 0, 0 }, 1, T0,
	    { GD_SPAMTRAP, 1, 0, 5, 0, 0 }, 0 },
};

static void
refresh_table(void)
{
	size_t i;

	for (i = 0; i < NCASES(refresh_cases); i++) {
		const struct rcase *c = &refresh_cases[i];
		struct gd_rec r = c->before;

		ret_eq(c->name, greylist_refresh(&r, c->found, c->now, WE),
		    c->ret);
		rec_eq(c->name, &r, &c->after);
	}
	/* the whiteexp argument, not the default, sets the expiry */
	{
		struct gd_rec r;

		T_EQ_INT(greylist_refresh(&r, 0, T0, 3600), 1);
		T_EQ_INT(r.expire, T0 + 3600);
	}
}

struct pcase {
	const char	*name;
	struct gd_rec	 r;
	int64_t		 now;
	int		 expired, passed;
};

static const struct pcase state_cases[] = {
	{ "new tuple", NEWGREY, T0 + 10, 0, 0 },
	{ "new tuple at its expiry: expired, never passed",
	    NEWGREY, T0 + GE, 1, 0 },
	{ "passed tuple", { GD_GREY, 2, 0, T0, T0 + 1600, T0 + GE },
	    T0 + 1600, 0, 1 },
	{ "passed tuple, a second before its expiry",
	    { GD_GREY, 2, 0, T0, T0 + 1600, T0 + GE }, T0 + GE - 1, 0, 1 },
	{ "passed tuple at its expiry: expired, no longer passed",
	    { GD_GREY, 2, 0, T0, T0 + 1600, T0 + GE }, T0 + GE, 1, 0 },
	{ "WHITE is never 'passed' (only tuples are)",
	    { GD_WHITE, 1, 0, T0, T0, T0 + WE }, T0 + 1, 0, 0 },
	{ "WHITE past its expiry", { GD_WHITE, 1, 0, T0, T0, T0 + WE },
	    T0 + WE + 1, 1, 0 },
	{ "TRAPPED within its time", { GD_TRAPPED, 1, 0, T0, 0, T0 + TE },
	    T0 + TE - 1, 0, 0 },
	{ "TRAPPED at its expiry", { GD_TRAPPED, 1, 0, T0, 0, T0 + TE },
	    T0 + TE, 1, 0 },
	{ "SPAMTRAP never expires", { GD_SPAMTRAP, 1, 0, T0, 0, 0 },
	    T0 + 10 * WE, 0, 0 },
};

static void
expired_passed_table(void)
{
	size_t i;

	for (i = 0; i < NCASES(state_cases); i++) {
		const struct pcase *c = &state_cases[i];

		ret_eq(c->name, greylist_expired(&c->r, c->now), c->expired);
		ret_eq(c->name, greylist_passed(&c->r, c->now), c->passed);
	}
}

static const struct rcase sdb_white_cases[] = {
	{ "new: first = pass = now, 36 days, bcount 1",
	    JUNK, 0, T0, { GD_WHITE, 1, 0, T0, T0, T0 + WE }, 0 },
	{ "WHITE: pcount + 1, pass = now, expiry renewed",
	    { GD_WHITE, 5, 2, T0 - 99, T0 - 90, T0 + 7 }, 1, T0,
	    { GD_WHITE, 5, 3, T0 - 99, T0, T0 + WE }, 0 },
	{ "WHITE: pcount saturates",
	    { GD_WHITE, 5, UINT32_MAX, 1, 2, 3 }, 1, T0,
	    { GD_WHITE, 5, UINT32_MAX, 1, T0, T0 + WE }, 0 },
	/* OpenBSD: pcount -1 + 1 = 0, and the record is WHITE */
	{ "TRAPPED becomes WHITE with pcount 0",
	    { GD_TRAPPED, 4, 0, T0 - 50, 0, T0 + 60 }, 1, T0,
	    { GD_WHITE, 4, 0, T0 - 50, T0, T0 + WE }, 0 },
};

static void
spamdb_white_table(void)
{
	size_t i;

	for (i = 0; i < NCASES(sdb_white_cases); i++) {
		const struct rcase *c = &sdb_white_cases[i];
		struct gd_rec r = c->before;

		greylist_spamdb_white(&r, c->found, c->now, WE);
		rec_eq(c->name, &r, &c->after);
	}
}

static const struct rcase sdb_trapped_cases[] = {
	{ "new: first = now, pass 0, 24 hours, bcount 1",
	    JUNK, 0, T0, { GD_TRAPPED, 1, 0, T0, 0, T0 + TE }, 0 },
	{ "WHITE becomes TRAPPED; first, pass and bcount kept",
	    { GD_WHITE, 6, 3, T0 - 70, T0 - 60, T0 + WE }, 1, T0,
	    { GD_TRAPPED, 6, 0, T0 - 70, T0 - 60, T0 + TE }, 0 },
	{ "TRAPPED: expiry renewed",
	    { GD_TRAPPED, 2, 0, T0 - 70, 0, T0 + 5 }, 1, T0,
	    { GD_TRAPPED, 2, 0, T0 - 70, 0, T0 + TE }, 0 },
};

static void
spamdb_trapped_table(void)
{
	size_t i;

	for (i = 0; i < NCASES(sdb_trapped_cases); i++) {
		const struct rcase *c = &sdb_trapped_cases[i];
		struct gd_rec r = c->before;

		greylist_spamdb_trapped(&r, c->found, c->now, TE);
		rec_eq(c->name, &r, &c->after);
	}
}

static const struct rcase sdb_spamtrap_cases[] = {
	{ "new: first = now, never expires, bcount 1",
	    JUNK, 0, T0, { GD_SPAMTRAP, 1, 0, T0, 0, 0 }, 0 },
	{ "SPAMTRAP again: unchanged but for the times",
	    { GD_SPAMTRAP, 3, 0, T0 - 9, 0, 0 }, 1, T0,
	    { GD_SPAMTRAP, 3, 0, T0 - 9, 0, 0 }, 0 },
};

static void
spamdb_spamtrap_table(void)
{
	size_t i;

	for (i = 0; i < NCASES(sdb_spamtrap_cases); i++) {
		const struct rcase *c = &sdb_spamtrap_cases[i];
		struct gd_rec r = c->before;

		greylist_spamdb_spamtrap(&r, c->found, c->now);
		rec_eq(c->name, &r, &c->after);
	}
}

const struct t_case t_cases[] = {
	T_CASE(tuple_table),
	T_CASE(tuple_timeline),
	T_CASE(tuple_params),
	T_CASE(tuple_expired_is_not_passed),
	T_CASE(trap_table),
	T_CASE(white_from_tuple),
	T_CASE(refresh_table),
	T_CASE(expired_passed_table),
	T_CASE(spamdb_white_table),
	T_CASE(spamdb_trapped_table),
	T_CASE(spamdb_spamtrap_table),
	{ NULL, NULL },
};
