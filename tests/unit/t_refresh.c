/*
 * t_refresh.c: unit tests for spamlogd/refresh.c: the record rule, the
 * batching window, a locked or unwritable database, the queue bounds,
 * the nft push and its retries, and the -W bounds. Each case uses its
 * own temporary database and a frozen clock; the nft side is a fake push
 * function that records what it was given and fails on demand.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <gdbm.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/addr.h"
#include "common/clock.h"
#include "common/gdata.h"
#include "common/greydb.h"
#include "common/greylist.h"
#include "spamlogd/refresh.h"
#include "tests/unit/harness.h"

#define T0	1700000000
#define WEXP	(36 * 86400)

/* The fake nft: every call is recorded; fail > 0 fails that many calls. */
static struct {
	int		calls;
	int		fail;
	int		af[8];
	size_t		n[8];
	struct nft_elem	el[8][16];
} fk;

static int
fake_push(void *arg, int af, const struct nft_elem *el, size_t n,
    const char **why)
{
	int i = fk.calls++;

	T_ASSERT(arg == &fk);
	if (i < 8) {
		fk.af[i] = af;
		fk.n[i] = n;
		memcpy(fk.el[i], el, (n < 16 ? n : 16) * sizeof(*el));
	}
	if (fk.fail > 0) {
		fk.fail--;
		*why = "spamd_white: No such file or directory";
		return -1;
	}
	return 0;
}

static struct refresh_conf
conf(void)
{
	struct refresh_conf c;

	memset(&c, 0, sizeof(c));
	c.dbpath = t_path("spamd.db");
	c.whiteexp = WEXP;
	c.lock_wait_ms = 0;	/* see locked_db */
	c.final_wait_ms = 0;
	c.window_ms = 1000;	/* the fake clock moves in whole seconds */
	c.batch_max = 8;
	c.queue_max = 16;
	c.push = fake_push;
	c.push_arg = &fk;
	return c;
}

static struct addr
A(const char *s)
{
	struct addr a;

	if (addr_parse(s, &a) == -1)
		t_fail("bad address %s", s);
	return a;
}

static void
seed(const char *key, const struct gd_rec *rec)
{
	struct greydb *db = greydb_open(t_path("spamd.db"), GREYDB_WRITE, 0);

	T_ASSERT(db != NULL);
	T_EQ_INT(greydb_put(db, key, strlen(key), rec), 0);
	T_EQ_INT(greydb_close(db), 0);
}

static int
get(const char *key, struct gd_rec *rec)
{
	struct greydb *db = greydb_open(t_path("spamd.db"), GREYDB_READ, 0);
	int rc;

	if (db == NULL)
		return -1;
	rc = greydb_get(db, key, strlen(key), rec);
	T_EQ_INT(greydb_close(db), 0);
	return rc;
}

static struct gd_rec
rec(enum gd_kind kind, int64_t first, int64_t pass, int64_t expire,
    uint32_t bcount, uint32_t pcount)
{
	struct gd_rec r;

	memset(&r, 0, sizeof(r));
	r.kind = kind;
	r.first = first;
	r.pass = pass;
	r.expire = expire;
	r.bcount = bcount;
	r.pcount = pcount;
	return r;
}

/* A new address gets a fresh WHITE record and an nft element. */
static void
creates_white(void)
{
	struct refresh_conf c = conf();
	struct refresh *r;
	struct gd_rec g;
	size_t nft;
	struct addr a = A("198.51.100.7");

	clock_fake_set(T0);
	r = refresh_new(&c);
	T_EQ_INT(refresh_add(r, &a), 0);
	T_EQ_INT(refresh_queued(r, &nft), 1);
	refresh_run(r, 1);
	T_EQ_INT(refresh_queued(r, &nft), 0);
	T_EQ_INT(nft, 0);
	T_EQ_INT(get("198.51.100.7", &g), GREYDB_OK);
	T_EQ_INT(g.kind, GD_WHITE);
	T_EQ_INT(g.first, T0);
	T_EQ_INT(g.pass, T0);
	T_EQ_INT(g.expire, T0 + WEXP);
	T_EQ_INT(g.bcount, 1);
	T_EQ_INT(g.pcount, 0);
	T_EQ_INT(fk.calls, 1);
	T_EQ_INT(fk.af[0], AF_INET);
	T_EQ_INT(fk.n[0], 1);
	T_EQ_INT(fk.el[0][0].timeout_ms, (uint64_t)WEXP * 1000);
	T_EQ_INT(addr_cmp(&fk.el[0][0].a, &a), 0);
	t_expect_log("WHITE 198.51.100.7: pcount 0, expires in 36d");
	refresh_free(r);
}

/* An existing WHITE record: pcount + 1 per sighting, expire moved. */
static void
refreshes_white(void)
{
	struct refresh_conf c = conf();
	struct refresh *r;
	struct gd_rec g = rec(GD_WHITE, T0 - 5000, T0 - 4000, T0 + 600, 3, 2);
	struct addr a = A("2001:db8::10"), b = A("::ffff:192.0.2.20");
	size_t nft;

	clock_fake_set(T0);
	seed("2001:db8::10", &g);
	r = refresh_new(&c);
	T_EQ_INT(refresh_add(r, &a), 0);
	T_EQ_INT(refresh_add(r, &a), 0);
	T_EQ_INT(refresh_add(r, &b), 0);
	T_EQ_INT(refresh_add(r, &a), 0);
	T_EQ_INT(refresh_queued(r, NULL), 2);
	clock_fake_advance(1);
	refresh_run(r, 0);
	T_EQ_INT(refresh_queued(r, &nft), 0);
	T_EQ_INT(get("2001:db8::10", &g), GREYDB_OK);
	T_EQ_INT(g.kind, GD_WHITE);
	T_EQ_INT(g.pcount, 5);
	T_EQ_INT(g.bcount, 3);
	T_EQ_INT(g.first, T0 - 5000);
	T_EQ_INT(g.pass, T0 - 4000);
	T_EQ_INT(g.expire, T0 + 1 + WEXP);
	/* A v4-mapped address is keyed as IPv4. */
	T_EQ_INT(get("192.0.2.20", &g), GREYDB_OK);
	T_EQ_INT(g.pcount, 0);
	/* One push per family. */
	T_EQ_INT(fk.calls, 2);
	T_EQ_INT(fk.af[0], AF_INET);
	T_EQ_INT(fk.af[1], AF_INET6);
	T_EQ_INT(fk.n[1], 1);
	T_EQ_INT(addr_cmp(&fk.el[1][0].a, &a), 0);
	refresh_free(r);
}

/* TRAPPED stays TRAPPED (OpenBSD turns it WHITE); no nft element. */
static void
trapped_stays(void)
{
	struct refresh_conf c = conf();
	struct refresh *r;
	struct gd_rec g = rec(GD_TRAPPED, 0, 0, T0 + 3600, 1, 0);
	struct addr a = A("192.0.2.66");

	clock_fake_set(T0);
	seed("192.0.2.66", &g);
	r = refresh_new(&c);
	T_EQ_INT(refresh_add(r, &a), 0);
	refresh_run(r, 1);
	T_EQ_INT(get("192.0.2.66", &g), GREYDB_OK);
	T_EQ_INT(g.kind, GD_TRAPPED);
	T_EQ_INT(g.expire, T0 + 3600);
	T_EQ_INT(g.pcount, 0);
	T_EQ_INT(fk.calls, 0);
	T_EQ_INT(refresh_queued(r, NULL), 0);
	t_expect_log("192.0.2.66 is TRAPPED, not whitelisting it");
	refresh_free(r);
}

/* GREY tuples of the same address are left alone. */
static void
grey_untouched(void)
{
	struct refresh_conf c = conf();
	struct refresh *r;
	struct gd_rec g = rec(GD_GREY, T0 - 60, T0 + 1440, T0 + 14400, 1, 0);
	struct gd_rec w;
	const char *key = "192.0.2.10\nmx.example.org\n<a@example.org>\n"
	    "<b@example.net>";
	struct addr a = A("192.0.2.10");

	clock_fake_set(T0);
	seed(key, &g);
	r = refresh_new(&c);
	T_EQ_INT(refresh_add(r, &a), 0);
	refresh_run(r, 1);
	T_EQ_INT(get(key, &w), GREYDB_OK);
	T_EQ_INT(w.kind, GD_GREY);
	T_EQ_INT(w.pass, g.pass);
	T_EQ_INT(w.expire, g.expire);
	T_EQ_INT(w.pcount, 0);
	T_EQ_INT(w.bcount, 1);
	T_EQ_INT(get("192.0.2.10", &w), GREYDB_OK);
	T_EQ_INT(w.kind, GD_WHITE);
	refresh_free(r);
}

/* Sightings wait for the window, or for a full batch. */
static void
batching(void)
{
	struct refresh_conf c = conf();
	struct refresh *r;
	struct gd_rec g;
	char buf[32];
	int i;

	clock_fake_set(T0);
	r = refresh_new(&c);
	T_EQ_INT(refresh_timeout(r), -1);
	{
		struct addr a = A("192.0.2.1");

		T_EQ_INT(refresh_add(r, &a), 0);
	}
	T_EQ_INT(refresh_timeout(r), 1000);
	refresh_run(r, 0);
	T_EQ_INT(refresh_queued(r, NULL), 1);
	T_EQ_INT(get("192.0.2.1", &g), -1);	/* no database yet */
	clock_fake_advance(1);
	T_EQ_INT(refresh_timeout(r), 0);
	refresh_run(r, 0);
	T_EQ_INT(refresh_queued(r, NULL), 0);
	T_EQ_INT(get("192.0.2.1", &g), GREYDB_OK);
	T_EQ_INT(refresh_timeout(r), -1);

	/* batch_max (8) addresses: due at once. */
	for (i = 0; i < 8; i++) {
		struct addr a;

		snprintf(buf, sizeof(buf), "192.0.2.%d", 100 + i);
		a = A(buf);
		T_EQ_INT(refresh_add(r, &a), 0);
		if (i < 7)
			T_ASSERT(refresh_timeout(r) > 0);
	}
	T_EQ_INT(refresh_timeout(r), 0);
	refresh_run(r, 0);
	T_EQ_INT(refresh_queued(r, NULL), 0);
	T_EQ_INT(get("192.0.2.107", &g), GREYDB_OK);
	refresh_free(r);
}

/* A locked database: the batch is kept, logged, retried after back-off. */
static void
locked_db(void)
{
	struct refresh_conf c = conf();
	struct refresh *r;
	struct greydb *hold;
	struct gd_rec g = rec(GD_WHITE, T0 - 10, T0 - 10, T0 + 10, 1, 0);
	struct addr a = A("192.0.2.30");

	/* greydb polls the lock on clock_mono_ms, which the fake clock
	 * freezes: only a single try can end. */
	c.lock_wait_ms = 0;
	clock_fake_set(T0);
	seed("192.0.2.30", &g);
	r = refresh_new(&c);
	hold = greydb_open(t_path("spamd.db"), GREYDB_WRITE, 0);
	T_ASSERT(hold != NULL);
	T_EQ_INT(refresh_add(r, &a), 0);
	clock_fake_advance(1);
	T_EQ_INT(refresh_timeout(r), 0);
	refresh_run(r, 0);
	T_EQ_INT(refresh_queued(r, NULL), 1);
	t_expect_log("cannot update the database");
	t_expect_log("is locked by another process");
	t_expect_log("keeping 1 addresses, next try in 250 ms");
	/* Back-off: 250 ms although the window has passed. */
	T_EQ_INT(refresh_timeout(r), 250);
	T_EQ_INT(refresh_add(r, &a), 0);	/* merged: still one slot */
	T_EQ_INT(refresh_queued(r, NULL), 1);
	T_EQ_INT(greydb_close(hold), 0);
	clock_fake_advance(1);
	T_EQ_INT(refresh_timeout(r), 0);
	refresh_run(r, 0);
	T_EQ_INT(refresh_queued(r, NULL), 0);
	T_EQ_INT(get("192.0.2.30", &g), GREYDB_OK);
	T_EQ_INT(g.pcount, 2);			/* both sightings counted */
	T_EQ_INT(g.expire, T0 + 2 + WEXP);
	t_expect_log("writable again, 1 addresses written");
	refresh_free(r);
}

/* A database that cannot be created: kept and logged, never fatal. */
static void
unwritable_db(void)
{
	struct refresh_conf c = conf();
	struct refresh *r;
	struct addr a = A("192.0.2.31");

	c.dbpath = t_path("no/such/dir/spamd.db");
	clock_fake_set(T0);
	r = refresh_new(&c);
	T_EQ_INT(refresh_add(r, &a), 0);
	refresh_run(r, 1);
	refresh_run(r, 1);
	T_EQ_INT(refresh_queued(r, NULL), 1);
	t_expect_log("cannot update the database");
	t_expect_log("no/such/dir/spamd.db");
	T_EQ_INT(fk.calls, 0);
	refresh_free(r);
}

/* Past queue_max, new addresses are dropped and logged. */
static void
queue_bound(void)
{
	struct refresh_conf c = conf();
	struct refresh *r;
	char buf[32];
	int i;

	c.queue_max = 4;
	c.batch_max = 100;
	clock_fake_set(T0);
	r = refresh_new(&c);
	for (i = 0; i < 4; i++) {
		struct addr a;

		snprintf(buf, sizeof(buf), "192.0.2.%d", 40 + i);
		a = A(buf);
		T_EQ_INT(refresh_add(r, &a), 0);
	}
	{
		struct addr a = A("192.0.2.99"), b = A("192.0.2.40");

		T_EQ_INT(refresh_add(r, &a), -1);
		T_EQ_INT(refresh_add(r, &b), 0);	/* known: merged */
	}
	T_EQ_INT(refresh_queued(r, NULL), 4);
	t_expect_log("database queue full (4 addresses): dropped 192.0.2.99");
	refresh_free(r);
}

/* A failed nft push keeps its elements and retries after back-off. */
static void
nft_retry(void)
{
	struct refresh_conf c = conf();
	struct refresh *r;
	struct addr a = A("192.0.2.50"), b = A("192.0.2.51");
	size_t nft;

	clock_fake_set(T0);
	fk.fail = 1;
	r = refresh_new(&c);
	T_EQ_INT(refresh_add(r, &a), 0);
	refresh_run(r, 1);
	T_EQ_INT(refresh_queued(r, &nft), 0);	/* the database is done */
	T_EQ_INT(nft, 1);
	T_EQ_INT(fk.calls, 1);
	t_expect_log("nft: cannot refresh 1 elements of spamd_white: "
	    "spamd_white: No such file or directory; retrying in 1s");
	T_EQ_INT(refresh_timeout(r), 1000);
	/* A new sighting of the same host and one of another. */
	T_EQ_INT(refresh_add(r, &a), 0);
	T_EQ_INT(refresh_add(r, &b), 0);
	clock_fake_advance(1);
	refresh_run(r, 0);
	T_EQ_INT(refresh_queued(r, &nft), 0);
	T_EQ_INT(nft, 0);
	T_EQ_INT(fk.calls, 2);
	T_EQ_INT(fk.n[1], 2);			/* deduplicated */
	T_EQ_INT(addr_cmp(&fk.el[1][0].a, &a), 0);
	T_EQ_INT(addr_cmp(&fk.el[1][1].a, &b), 0);
	t_expect_log("nft: white sets refreshed again");
	refresh_free(r);
}

/* Without a push function (savefile replay) only the database changes. */
static void
no_nft(void)
{
	struct refresh_conf c = conf();
	struct refresh *r;
	struct addr a = A("192.0.2.52");
	struct gd_rec g;
	size_t nft;

	c.push = NULL;
	clock_fake_set(T0);
	r = refresh_new(&c);
	T_EQ_INT(refresh_add(r, &a), 0);
	refresh_run(r, 1);
	T_EQ_INT(refresh_queued(r, &nft), 0);
	T_EQ_INT(nft, 0);
	T_EQ_INT(refresh_timeout(r), -1);
	T_EQ_INT(get("192.0.2.52", &g), GREYDB_OK);
	refresh_free(r);
}

/* A record that fails its checksum is replaced, and that is logged. */
static void
corrupt_record(void)
{
	struct refresh_conf c = conf();
	struct refresh *r;
	struct addr a = A("192.0.2.53");
	struct gd_rec g;
	GDBM_FILE f;
	datum k, v;
	char junk[40];

	clock_fake_set(T0);
	seed("192.0.2.1", &(struct gd_rec){ .kind = GD_WHITE });
	f = gdbm_open(t_path("spamd.db"), 0, GDBM_WRITER | GDBM_NOLOCK,
	    0600, NULL);
	T_ASSERT(f != NULL);
	memset(junk, 0x5a, sizeof(junk));
	k.dptr = (char *)(uintptr_t)"192.0.2.53";
	k.dsize = 10;
	v.dptr = junk;
	v.dsize = sizeof(junk);
	T_EQ_INT(gdbm_store(f, k, v, GDBM_REPLACE), 0);
	gdbm_close(f);
	r = refresh_new(&c);
	T_EQ_INT(refresh_add(r, &a), 0);
	refresh_run(r, 1);
	T_EQ_INT(get("192.0.2.53", &g), GREYDB_OK);
	T_EQ_INT(g.kind, GD_WHITE);
	t_expect_log("replacing the corrupt record of 192.0.2.53");
	refresh_free(r);
}

/*
 * The exit path waits final_wait_ms for a lock that another process
 * holds for 300 ms (real clock: greydb's lock wait runs on it).
 */
static void
final_wait(void)
{
	struct refresh_conf c = conf();
	struct refresh *r;
	struct addr a = A("192.0.2.32");
	struct gd_rec g;
	uint64_t t0;
	int p[2], status;
	char ch;
	pid_t pid;

	c.final_wait_ms = 2000;
	c.lock_wait_ms = 0;
	r = refresh_new(&c);
	T_EQ_INT(refresh_add(r, &a), 0);
	T_EQ_INT(pipe(p), 0);
	if ((pid = fork()) == -1)
		t_fail("fork");
	if (pid == 0) {
		struct greydb *db = greydb_open(t_path("spamd.db"),
		    GREYDB_WRITE, 0);

		if (db == NULL || write(p[1], "x", 1) != 1)
			_exit(1);
		usleep(300000);
		_exit(greydb_close(db) == 0 ? 0 : 1);
	}
	T_EQ_INT(read(p[0], &ch, 1), 1);
	refresh_run(r, 0);			/* not due: nothing tried */
	T_EQ_INT(refresh_queued(r, NULL), 1);
	t0 = clock_mono_ms();
	refresh_run(r, 1);
	T_ASSERT(clock_mono_ms() - t0 >= 200);
	T_EQ_INT(refresh_queued(r, NULL), 0);
	T_EQ_INT(waitpid(pid, &status, 0), pid);
	T_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	T_EQ_INT(get("192.0.2.32", &g), GREYDB_OK);
	t_no_log("cannot update the database");
	refresh_free(r);
}

static void
whiteexp_bounds(void)
{
	static const struct {
		const char	*in;
		int64_t		 out;
		const char	*err;
	} cases[] = {
		{ "864", 864 * 3600, NULL },	/* OpenBSD's default */
		{ "1", 3600, NULL },
		{ "2160", 2160 * 3600, NULL },
		{ "36d", 36 * 86400, NULL },
		{ "90d", 90 * 86400, NULL },
		{ "60m", 3600, NULL },
		{ "0", 0, "too small" },
		{ "59m", 0, "too small" },
		{ "2161", 0, "too large" },
		{ "91d", 0, "too large" },
		{ "-1", 0, "invalid" },
		{ "1w", 0, "invalid" },
		{ "", 0, "invalid" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t v = -1;
		const char *err = NULL;
		int rc = refresh_whiteexp(cases[i].in, &v, &err);

		if (cases[i].err == NULL) {
			if (rc != 0)
				t_fail("-W %s rejected: %s", cases[i].in, err);
			T_EQ_INT(v, cases[i].out);
		} else {
			if (rc == 0)
				t_fail("-W %s accepted", cases[i].in);
			T_EQ_STR(err, cases[i].err);
		}
	}
}

const struct t_case t_cases[] = {
	T_CASE(creates_white),
	T_CASE(refreshes_white),
	T_CASE(trapped_stays),
	T_CASE(grey_untouched),
	T_CASE(batching),
	T_CASE(locked_db),
	T_CASE(unwritable_db),
	T_CASE(queue_bound),
	T_CASE(nft_retry),
	T_CASE(no_nft),
	T_CASE(corrupt_record),
	T_CASE(final_wait),
	T_CASE(whiteexp_bounds),
	{ NULL, NULL },
};
