/*
 * t_nftpend.c: unit tests for spamd/nftpend.c, the nft helper's pending
 * additions, replaces, back-off and resync requests, on the fake clock.
 * The kernel is a fake apply function that records each call and fails
 * on demand (optionally saying the table is missing); resync requests
 * are counted.
 */
#include <stdio.h>
#include <string.h>

#include "common/addr.h"
#include "common/clock.h"
#include "spamd/nftpend.h"
#include "tests/unit/harness.h"

#define T0	1700000000

static struct {
	int	calls, resyncs;
	int	fail, missing;		/* fail the next `fail' calls */
	int	replace[16];
	size_t	n[16];
} fk;

static int
fake_apply(void *arg, const struct proto_entry *e, size_t n, int replace,
    const char **why, int *missing)
{
	int i = fk.calls++;

	(void)e;
	T_ASSERT(arg == &fk);
	if (i < 16) {
		fk.replace[i] = replace;
		fk.n[i] = n;
	}
	if (fk.fail > 0) {
		fk.fail--;
		*why = "spamd_white: No such file or directory";
		*missing = fk.missing;
		return -1;
	}
	return 0;
}

static void
fake_resync(void *arg)
{
	T_ASSERT(arg == &fk);
	fk.resyncs++;
}

static struct nftpend *
new(size_t max)
{
	struct nftpend_conf c = {
		.pending_max = max,
		.retry_min_ms = 1000,	/* the fake clock moves in seconds */
		.retry_max_ms = 4000,
		.apply = fake_apply,
		.resync = fake_resync,
		.arg = &fk,
	};
	struct nftpend *p;

	clock_fake_set(T0);
	T_ASSERT((p = nftpend_new(&c)) != NULL);
	return p;
}

static struct proto_entry
E(const char *ip)
{
	struct proto_entry e;

	memset(&e, 0, sizeof(e));
	if (addr_parse(ip, &e.a) == -1)
		t_fail("bad address %s", ip);
	e.expire = T0 + 3600;
	return e;
}

/* An addition is due at once and pushed once, duplicates merged. */
static void
add_pushes(void)
{
	struct nftpend *p = new(100);
	struct proto_entry e[3] = { E("192.0.2.1"), E("2001:db8::1"),
	    E("192.0.2.1") };

	T_EQ_INT(nftpend_timeout(p), -1);
	nftpend_add(p, e, 3);
	T_EQ_INT(nftpend_pending(p), 3);
	T_EQ_INT(nftpend_timeout(p), 0);
	nftpend_run(p);
	T_EQ_INT(fk.calls, 1);
	T_EQ_INT(fk.replace[0], 0);
	T_EQ_INT(fk.n[0], 2);
	T_EQ_INT(nftpend_pending(p), 0);
	T_EQ_INT(nftpend_timeout(p), -1);
	T_EQ_INT(fk.resyncs, 0);
	nftpend_run(p);			/* nothing due: no call */
	T_EQ_INT(fk.calls, 1);
	nftpend_free(p);
}

/* A failed push is kept and retried at 1, 2, 4, 4 s; logged once. */
static void
backoff(void)
{
	struct nftpend *p = new(100);
	struct proto_entry e = E("192.0.2.2");

	fk.fail = 4;
	nftpend_add(p, &e, 1);
	nftpend_run(p);
	T_EQ_INT(nftpend_failing(p), 1);
	T_EQ_INT(nftpend_pending(p), 1);
	T_EQ_INT(nftpend_timeout(p), 1000);
	t_expect_log("cannot update nftables: spamd_white: No such file or "
	    "directory; will retry");
	t_clear_log();
	nftpend_add(p, &e, 1);		/* while failing: no earlier try */
	T_EQ_INT(nftpend_timeout(p), 1000);
	nftpend_run(p);
	T_EQ_INT(fk.calls, 1);
	clock_fake_advance(1);
	nftpend_run(p);
	T_EQ_INT(nftpend_timeout(p), 2000);
	clock_fake_advance(2);
	nftpend_run(p);
	T_EQ_INT(nftpend_timeout(p), 4000);
	clock_fake_advance(4);
	nftpend_run(p);
	T_EQ_INT(nftpend_timeout(p), 4000);	/* the ceiling */
	T_EQ_INT(fk.calls, 4);
	t_no_log("cannot update nftables");
	clock_fake_advance(4);
	nftpend_run(p);
	T_EQ_INT(fk.calls, 5);
	T_EQ_INT(fk.n[4], 1);
	T_EQ_INT(nftpend_failing(p), 0);
	T_EQ_INT(nftpend_pending(p), 0);
	T_EQ_INT(nftpend_timeout(p), -1);
	T_EQ_INT(fk.resyncs, 0);	/* the sets were there all along */
	t_expect_log("nftables updates work again");
	/* Back-off starts again from the bottom. */
	fk.fail = 1;
	nftpend_add(p, &e, 1);
	nftpend_run(p);
	T_EQ_INT(nftpend_timeout(p), 1000);
	nftpend_free(p);
}

/* A missing table: once it works again, the whole list is asked for. */
static void
missing_table_resyncs(void)
{
	struct nftpend *p = new(100);
	struct proto_entry e = E("192.0.2.3");

	fk.fail = 1;
	fk.missing = 1;
	nftpend_add(p, &e, 1);
	nftpend_run(p);
	T_EQ_INT(fk.resyncs, 0);
	clock_fake_advance(1);
	nftpend_run(p);
	T_EQ_INT(fk.calls, 2);
	T_EQ_INT(fk.resyncs, 1);
	nftpend_free(p);
}

/* A replace applies the whole list at the end and clears additions;
 * one that fails asks for a fresh list when its retry comes. */
static void
replace(void)
{
	struct nftpend *p = new(100);
	struct proto_entry e[2] = { E("192.0.2.4"), E("192.0.2.5") };

	nftpend_replace_add(p, e, 2);	/* no BEGIN: ignored */
	nftpend_replace_end(p);
	T_EQ_INT(fk.calls, 0);
	fk.fail = 1;
	nftpend_add(p, e, 1);
	nftpend_run(p);			/* fails: pending kept */
	nftpend_replace_begin(p);
	nftpend_replace_add(p, e, 1);
	nftpend_replace_add(p, e + 1, 1);
	nftpend_replace_end(p);
	T_EQ_INT(fk.calls, 2);
	T_EQ_INT(fk.replace[1], 1);
	T_EQ_INT(fk.n[1], 2);
	T_EQ_INT(nftpend_pending(p), 0);	/* the replace held it */
	T_EQ_INT(nftpend_failing(p), 0);
	t_expect_log("nftables updates work again");

	fk.fail = 1;
	nftpend_replace_begin(p);
	nftpend_replace_add(p, e, 2);
	nftpend_replace_end(p);
	T_EQ_INT(nftpend_failing(p), 1);
	T_EQ_INT(nftpend_timeout(p), 1000);
	clock_fake_advance(1);
	nftpend_run(p);			/* nothing to add: the retry is a resync */
	T_EQ_INT(fk.calls, 3);
	T_EQ_INT(fk.resyncs, 1);
	nftpend_free(p);
}

/* Beyond pending_max, entries are dropped, logged, and restored by a
 * resync after the next success. */
static void
bound(void)
{
	struct nftpend *p = new(2);
	struct proto_entry e[3] = { E("192.0.2.6"), E("192.0.2.7"),
	    E("192.0.2.8") };

	nftpend_add(p, e, 2);
	nftpend_add(p, e + 2, 1);
	T_EQ_INT(nftpend_pending(p), 2);
	t_expect_log("2 addresses waiting for nftables: dropped some; the "
	    "next resync restores them");
	nftpend_run(p);
	T_EQ_INT(fk.calls, 1);
	T_EQ_INT(fk.resyncs, 1);
	nftpend_free(p);
}

/* A changed table signature (a reloaded ruleset) asks for a resync. */
static void
reloaded(void)
{
	struct nftpend *p = new(100);

	T_EQ_INT(nftpend_watch(p, 1, 42), 0);	/* the first look */
	T_EQ_INT(nftpend_watch(p, 1, 42), 0);
	T_EQ_INT(fk.resyncs, 0);
	T_EQ_INT(nftpend_watch(p, 1, 43), 1);
	T_EQ_INT(fk.resyncs, 1);
	T_EQ_INT(nftpend_watch(p, 1, 43), 0);
	T_EQ_INT(nftpend_watch(p, 0, 0), 0);	/* unreadable: no news */
	T_EQ_INT(fk.resyncs, 1);
	nftpend_free(p);
}

/*
 * The table is gone (a flushed ruleset) and the watch works: the retries
 * do not ask for the whole list, each of which would cost the greylister
 * a database walk; the signature's change does, once.
 */
static void
gone_table_waits_for_watch(void)
{
	struct nftpend *p = new(100);
	struct proto_entry e = E("192.0.2.9");
	int i;

	T_EQ_INT(nftpend_watch(p, 1, 42), 0);
	fk.fail = 100;
	fk.missing = 1;
	nftpend_replace_begin(p);
	nftpend_replace_add(p, &e, 1);
	nftpend_replace_end(p);		/* the start-up list: refused */
	T_EQ_INT(nftpend_failing(p), 1);
	for (i = 0; i < 10; i++) {
		clock_fake_advance(5);
		nftpend_run(p);
		T_EQ_INT(nftpend_watch(p, 1, 0), i == 0);	/* gone */
	}
	T_EQ_INT(fk.calls, 1);		/* the REPLACE only */
	T_EQ_INT(fk.resyncs, 1);	/* 42 -> 0: the table went */
	/* The table is loaded again: one resync, which brings a REPLACE. */
	fk.fail = 0;
	T_EQ_INT(nftpend_watch(p, 1, 77), 1);
	T_EQ_INT(fk.resyncs, 2);
	nftpend_replace_begin(p);
	nftpend_replace_add(p, &e, 1);
	nftpend_replace_end(p);
	T_EQ_INT(nftpend_failing(p), 0);
	t_expect_log("nftables updates work again");
	nftpend_free(p);
}

/* Without a working watch, the retry itself probes with a resync. */
static void
gone_table_no_watch(void)
{
	struct nftpend *p = new(100);
	struct proto_entry e = E("192.0.2.10");

	T_EQ_INT(nftpend_watch(p, 0, 0), 0);
	fk.fail = 1;
	fk.missing = 1;
	nftpend_replace_begin(p);
	nftpend_replace_add(p, &e, 1);
	nftpend_replace_end(p);
	clock_fake_advance(1);
	nftpend_run(p);
	T_EQ_INT(fk.resyncs, 1);
	nftpend_free(p);
}

const struct t_case t_cases[] = {
	T_CASE(add_pushes),
	T_CASE(backoff),
	T_CASE(missing_table_resyncs),
	T_CASE(replace),
	T_CASE(bound),
	T_CASE(reloaded),
	T_CASE(gone_table_waits_for_watch),
	T_CASE(gone_table_no_watch),
	{ NULL, NULL }
};
