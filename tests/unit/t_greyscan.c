/*
 * t_greyscan.c: unit tests for common/greyscan.c, the housekeeping pass:
 * what a read-only pass reports (live WHITE and TRAPPED addresses, a
 * passed tuple's address counted as white, counts of GREY, spamtraps and
 * expired records) and what GREYSCAN_CHANGE does (expired records gone,
 * the passed tuple's WHITE record created, a TRAPPED address left
 * trapped); greyscan_addr_add on address and tuple keys. Times come from
 * a frozen clock; the database is the case's own.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/addr.h"
#include "common/clock.h"
#include "common/gdata.h"
#include "common/greydb.h"
#include "common/greylist.h"
#include "common/greyscan.h"
#include "tests/unit/harness.h"

#define T0	1700000000

static const struct greylist_params gl = {
	1500, 4 * 3600, 36 * 86400, 24 * 3600
};

static void
put(const char *key, enum gd_kind kind, int64_t pass, int64_t expire)
{
	struct greydb *db = greydb_open(t_path("spamd.db"), GREYDB_WRITE, 0);
	struct gd_rec r;

	T_ASSERT(db != NULL);
	memset(&r, 0, sizeof(r));
	r.kind = kind;
	r.first = T0 - 3000;
	r.pass = pass;
	r.expire = expire;
	r.bcount = 2;
	T_EQ_INT(greydb_put(db, key, strlen(key), &r), 0);
	T_EQ_INT(greydb_close(db), 0);
}

static int
kind_of(const char *key)
{
	struct greydb *db = greydb_open(t_path("spamd.db"), GREYDB_READ, 0);
	struct gd_rec r;
	int rc;

	T_ASSERT(db != NULL);
	rc = greydb_get(db, key, strlen(key), &r);
	T_EQ_INT(greydb_close(db), 0);
	return rc == GREYDB_OK ? (int)r.kind : 0;
}

static int
has(const struct greyscan_addr *v, size_t n, const char *ip)
{
	struct addr a;
	size_t i;

	T_EQ_INT(addr_parse(ip, &a), 0);
	for (i = 0; i < n; i++)
		if (addr_cmp(&v[i].a, &a) == 0)
			return 1;
	return 0;
}

#define PASSED	"198.51.100.5\nmx.example\n<a@example.org>\n<b@example.net>"
#define WAITING	"198.51.100.6\nmx.example\n<a@example.org>\n<b@example.net>"
#define TRAPPASS "192.0.2.66\nmx.example\n<a@example.org>\n<b@example.net>"

static void
seed(void)
{
	clock_fake_set(T0);
	put("192.0.2.1", GD_WHITE, T0 - 100, T0 + 3600);	/* live */
	put("192.0.2.2", GD_WHITE, T0 - 100, T0 - 1);		/* expired */
	put("192.0.2.66", GD_TRAPPED, 0, T0 + 600);
	put("<trap@example.org>", GD_SPAMTRAP, 0, 0);
	put(PASSED, GD_GREY, T0 - 10, T0 + 3600);		/* passed */
	put(WAITING, GD_GREY, T0 + 900, T0 + 3600);		/* not yet */
	put(TRAPPASS, GD_GREY, T0 - 10, T0 + 3600);		/* trapped host */
}

/* Read only: everything reported, nothing written. */
static void
read_only(void)
{
	struct greyscan_res res;

	seed();
	memset(&res, 0, sizeof(res));
	T_EQ_INT(greyscan_run(t_path("spamd.db"), T0, &gl, 0, &res), 0);
	T_EQ_INT(res.records, 7);
	T_EQ_INT(res.expired, 1);
	T_EQ_INT(res.grey, 3);
	T_EQ_INT(res.spamtraps, 1);
	T_EQ_INT(res.ntrapped, 1);
	T_ASSERT(has(res.trapped, res.ntrapped, "192.0.2.66"));
	T_EQ_INT(res.nwhite, 2);
	T_ASSERT(has(res.white, res.nwhite, "192.0.2.1"));
	T_ASSERT(has(res.white, res.nwhite, "198.51.100.5"));
	T_ASSERT(!has(res.white, res.nwhite, "198.51.100.6"));
	T_ASSERT(!has(res.white, res.nwhite, "192.0.2.66"));
	T_EQ_INT(res.promoted, 1);		/* would be */
	greyscan_free(&res);
	T_EQ_INT(kind_of("192.0.2.2"), GD_WHITE);	/* still there */
	T_EQ_INT(kind_of("198.51.100.5"), 0);
}

/* GREYSCAN_CHANGE: expired records go, the passed tuple is promoted. */
static void
change(void)
{
	struct greyscan_res res;

	seed();
	memset(&res, 0, sizeof(res));
	T_EQ_INT(greyscan_run(t_path("spamd.db"), T0, &gl, GREYSCAN_CHANGE,
	    &res), 0);
	T_EQ_INT(res.expired, 1);
	T_EQ_INT(res.promoted, 1);
	greyscan_free(&res);
	T_EQ_INT(res.nwhite, 0);		/* freed */
	T_EQ_INT(kind_of("192.0.2.2"), 0);
	T_EQ_INT(kind_of("198.51.100.5"), GD_WHITE);
	T_EQ_INT(kind_of("198.51.100.6"), 0);
	T_EQ_INT(kind_of("192.0.2.66"), GD_TRAPPED);
	T_EQ_INT(kind_of(WAITING), GD_GREY);
}

struct told {
	size_t	n;
	int	stop_at;	/* fail the n-th call; 0 never */
	int	saw_promoted;
};

static int
tell_cb(void *arg, const struct greyscan_addr *w)
{
	struct told *t = arg;
	char ip[ADDR_STRLEN];

	t->n++;
	addr_ntop(&w->a, ip, sizeof(ip));
	if (strcmp(ip, "198.51.100.5") == 0)
		t->saw_promoted = 1;
	if (t->stop_at != 0 && (int)t->n == t->stop_at) {
		errno = EPIPE;
		return -1;
	}
	return 0;
}

/*
 * greyscan_stream: every live WHITE address is told, the promoted one
 * too, and counted but not kept; a callback that fails stops the pass
 * with its errno.
 */
static void
stream(void)
{
	struct greyscan_res res;
	struct told t = { 0, 1, 0 };

	seed();
	T_EQ_INT(greyscan_stream(t_path("spamd.db"), T0, &gl, GREYSCAN_CHANGE,
	    &res, tell_cb, &t), -1);
	T_EQ_INT(errno, EPIPE);
	T_EQ_INT(t.n, 1);
	T_EQ_INT(res.nwhite, 0);
	/* Stopped in the walk: nothing was changed. */
	T_EQ_INT(kind_of("192.0.2.2"), GD_WHITE);
	T_EQ_INT(kind_of("198.51.100.5"), 0);

	memset(&t, 0, sizeof(t));
	T_EQ_INT(greyscan_stream(t_path("spamd.db"), T0, &gl, GREYSCAN_CHANGE,
	    &res, tell_cb, &t), 0);
	T_EQ_INT(t.n, res.nwhite);
	T_EQ_INT(t.n, 2);		/* 192.0.2.1 and the promoted one */
	T_ASSERT(t.saw_promoted);
	T_ASSERT(res.white == NULL);	/* told, not kept */
	T_EQ_INT(kind_of("192.0.2.2"), 0);
	greyscan_free(&res);
}

/* No database: -1 with ENOENT, nothing to free. */
static void
missing(void)
{
	struct greyscan_res res;

	memset(&res, 0, sizeof(res));
	T_EQ_INT(greyscan_run(t_path("none.db"), T0, &gl, 0, &res), -1);
	T_EQ_INT(errno, ENOENT);
	T_EQ_INT(res.nwhite, 0);
}

/* Address keys and tuple keys give their address; others are skipped. */
static void
addr_add(void)
{
	struct greyscan_addr *v = NULL;
	size_t n = 0, cap = 0;

	T_EQ_INT(greyscan_addr_add(&v, &n, &cap, "2001:db8::1", 11, 5), 0);
	T_EQ_INT(greyscan_addr_add(&v, &n, &cap, PASSED, strlen(PASSED), 6),
	    0);
	T_EQ_INT(greyscan_addr_add(&v, &n, &cap, "<t@example.org>", 15, 7),
	    0);
	T_EQ_INT(n, 2);
	T_ASSERT(has(v, n, "2001:db8::1"));
	T_ASSERT(has(v, n, "198.51.100.5"));
	T_EQ_INT(v[1].expire, 6);
	free(v);
}

const struct t_case t_cases[] = {
	T_CASE(read_only),
	T_CASE(change),
	T_CASE(missing),
	T_CASE(addr_add),
	T_CASE(stream),
	{ NULL, NULL }
};
