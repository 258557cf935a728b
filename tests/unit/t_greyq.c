/*
 * t_greyq.c: unit tests for spamd/greyq.c, the greylister's queue, on
 * the fake clock: first sightings, passes and their immediate WHITE
 * effect (once per address), traps and the low-priority MX, a locked or
 * missing database with its back-off, batch and queue bounds, the
 * per-address refusals with their report, and -g grouping (network keys,
 * network passes, networks that hold listed addresses). No process, no
 * real time.
 *
 * Each case is a table of steps, read by a small interpreter:
 *	add IP HELO FROM TO [lowmx|netlisted]	greyq_add; must return 0
 *	refused IP HELO FROM TO		greyq_add; must return -1
 *	run / force			greyq_run(q, 0 / 1)
 *	sleep S				the fake clock moves S seconds
 *	lock / unlock			another process holds the writer lock
 *	queued N, timeout MS, failing B	what greyq says now
 *	grey IP HELO FROM TO BCOUNT	the tuple record is GREY, seen BCOUNT
 *		(IP may be a network of -g, HELO "-" the empty one)
 *	white IP / trapped IP		the address record's kind
 *	none IP [HELO FROM TO]		no such address (or tuple) record
 *	fx white IP... / fx trap IP...	the effects since the last fx step
 *		(a network as IP/LEN),
 *		in order ("fx none": no effect at all)
 *	log TEXT / nolog TEXT		a log line contains TEXT (or none does)
 *	unsynced 0|1			committed tuples wait for their fsync
 *	policy ID IP HELO FROM TO	a policy request's tuple; must return 0
 *	policyrefused ID IP HELO FROM TO	the same; must return -1
 *	verdicts ID KIND SECS...	the policy answers since the last such
 *		step, in order ("verdicts none": none); KIND is dunno, defer,
 *		pass, trap or busy
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/addr.h"
#include "common/clock.h"
#include "common/gdata.h"
#include "common/greydb.h"
#include "common/greylist.h"
#include "spamd/greyaddr.h"
#include "spamd/greyq.h"
#include "spamd/polreq.h"
#include "tests/unit/harness.h"

#define T0		1700000000
#define PASSTIME	60
#define MAXSTEPS	40

/* The effects received, as text: "white 192.0.2.1,trap 192.0.2.2,". */
static char	 fxlog[4096];
static struct greydb *holder;

static void
fake_effect(void *arg, enum greyq_effect fx, const struct proto_entry *e,
    size_t n)
{
	char ip[CIDR_STRLEN];
	size_t i, o;

	T_ASSERT(arg == fxlog);
	for (i = 0; i < n; i++) {
		if (e[i].plen != 0) {
			struct cidr c = { e[i].a, e[i].plen };

			cidr_ntop(&c, ip, sizeof(ip));
		} else
			addr_ntop(&e[i].a, ip, sizeof(ip));
		o = strlen(fxlog);
		snprintf(fxlog + o, sizeof(fxlog) - o, "%s %s,",
		    fx == GREYQ_WHITE ? "white" : "trap", ip);
	}
}

/* The policy answers received, as text: "1 defer 61,2 pass 62,". */
static char	 vlog[4096];

static const char *const vnames[] = {
	[POLREQ_V_DUNNO] = "dunno", [POLREQ_V_DEFER] = "defer",
	[POLREQ_V_PASS] = "pass", [POLREQ_V_TRAP] = "trap",
	[POLREQ_V_LISTED] = "listed", [POLREQ_V_BUSY] = "busy"
};

static void
fake_verdict(void *arg, const struct proto_verdict *v, size_t n)
{
	size_t i, o;

	T_ASSERT(arg == fxlog);
	for (i = 0; i < n; i++) {
		T_ASSERT(v[i].v <= POLREQ_V_BUSY);
		o = strlen(vlog);
		snprintf(vlog + o, sizeof(vlog) - o, "%u %s %lld,", v[i].id,
		    vnames[v[i].v], (long long)v[i].secs);
	}
}

static void
check_verdicts(char **w, int n)
{
	char want[4096] = "";
	size_t o;
	int i;

	if (n == 2 && strcmp(w[1], "none") == 0)
		n = 1;
	if ((n - 1) % 3 != 0)
		t_fail("verdicts needs ID KIND SECS triples");
	for (i = 1; i + 2 < n; i += 3) {
		o = strlen(want);
		snprintf(want + o, sizeof(want) - o, "%s %s %s,", w[i],
		    w[i + 1], w[i + 2]);
	}
	T_EQ_STR(vlog, want);
	vlog[0] = '\0';
}

/* The greytraps of these cases: any recipient at trap.example. */
static int
fake_trap(struct greydb *db, const char *to)
{
	(void)db;
	return strstr(to, "@trap.example") != NULL;
}

struct tcase {
	struct greyq_conf	 qc;
	uint32_t		 max_live;	/* --grey-max-tuples */
	const char		*steps[MAXSTEPS];
};

static const struct greylist_params gl = {
	PASSTIME, 4 * 3600, 36 * 86400, 24 * 3600
};

/* Split a step into words, in place; returns how many. */
static int
words(char *s, char **w, int max)
{
	int n = 0;
	char *p;

	while (n < max && (p = strsep(&s, " ")) != NULL)
		if (*p != '\0')
			w[n++] = p;
	return n;
}

static struct proto_tuple
tuple(char **w, int n)
{
	struct proto_tuple t;

	if (n < 5)
		t_fail("a tuple step needs IP HELO FROM TO");
	memset(&t, 0, sizeof(t));
	if (addr_parse(w[1], &t.ip) == -1)
		t_fail("bad address %s", w[1]);
	snprintf(t.helo, sizeof(t.helo), "%s", w[2]);
	snprintf(t.from, sizeof(t.from), "%s", w[3]);
	snprintf(t.to, sizeof(t.to), "%s", w[4]);
	t.lowmx = n > 5 && strcmp(w[5], "lowmx") == 0;
	t.netlisted = n > 5 && strcmp(w[5], "netlisted") == 0;
	return t;
}

static int
get(const char *key, struct gd_rec *r)
{
	struct greydb *db = greydb_open(t_path("spamd.db"), GREYDB_READ, 0);
	int rc;

	if (db == NULL)
		return GREYDB_NOTFOUND;
	rc = greydb_get(db, key, strlen(key), r);
	greydb_close(db);
	return rc;
}

static void
check_record(char **w, int n)
{
	char key[GD_KEY_MAX];
	struct gd_rec r;
	struct gd_tuple t;
	int rc;

	if (n < 2)
		t_fail("%s needs an address or a tuple", w[0]);
	snprintf(key, sizeof(key), "%s", w[1]);
	if (n >= 5) {
		t.ip = w[1];
		t.helo = strcmp(w[2], "-") == 0 ? "" : w[2];
		t.from = w[3];
		t.to = w[4];
		T_ASSERT(gd_key_tuple(key, sizeof(key), &t) > 0);
	}
	rc = get(key, &r);
	if (strcmp(w[0], "none") == 0) {
		T_EQ_INT(rc, GREYDB_NOTFOUND);
		return;
	}
	T_EQ_INT(rc, GREYDB_OK);
	if (strcmp(w[0], "grey") == 0) {
		if (n < 6)
			t_fail("grey needs IP HELO FROM TO BCOUNT");
		T_EQ_INT(r.kind, GD_GREY);
		T_EQ_INT(r.bcount, atoi(w[5]));
	} else
		T_EQ_INT(r.kind, strcmp(w[0], "white") == 0 ? GD_WHITE :
		    GD_TRAPPED);
}

static void
check_fx(char **w, int n)
{
	char want[4096] = "";
	size_t o;
	int i;

	if (n == 2 && strcmp(w[1], "none") == 0)
		n = 1;
	for (i = 2; i < n; i++) {
		o = strlen(want);
		snprintf(want + o, sizeof(want) - o, "%s %s,", w[1], w[i]);
	}
	T_EQ_STR(fxlog, want);
	fxlog[0] = '\0';
}

static void
step(struct greyq *q, const char *text)
{
	char buf[512], *w[12];
	struct proto_tuple t;
	int n;

	snprintf(buf, sizeof(buf), "%s", text);
	if ((n = words(buf, w, 12)) == 0)
		return;
	if (strcmp(w[0], "add") == 0 || strcmp(w[0], "refused") == 0) {
		t = tuple(w, n);
		T_EQ_INT(greyq_add(q, &t), w[0][0] == 'a' ? 0 : -1);
	} else if (strcmp(w[0], "policy") == 0 ||
	    strcmp(w[0], "policyrefused") == 0) {
		if (n < 6)
			t_fail("policy needs ID IP HELO FROM TO");
		t = tuple(w + 1, n - 1);
		t.policy = 1;
		t.id = (uint32_t)atoi(w[1]);
		T_EQ_INT(greyq_add(q, &t), w[0][6] == '\0' ? 0 : -1);
	} else if (strcmp(w[0], "verdicts") == 0)
		check_verdicts(w, n);
	else if (strcmp(w[0], "run") == 0 || strcmp(w[0], "force") == 0)
		greyq_run(q, w[0][0] == 'f');
	else if (strcmp(w[0], "sleep") == 0)
		clock_fake_advance(atoi(w[1]));
	else if (strcmp(w[0], "lock") == 0) {
		holder = greydb_open(t_path("spamd.db"), GREYDB_WRITE, 0);
		T_ASSERT(holder != NULL);
	} else if (strcmp(w[0], "unlock") == 0)
		T_EQ_INT(greydb_close(holder), 0);
	else if (strcmp(w[0], "queued") == 0)
		T_EQ_INT(greyq_queued(q), atoi(w[1]));
	else if (strcmp(w[0], "timeout") == 0)
		T_EQ_INT(greyq_timeout(q), atoi(w[1]));
	else if (strcmp(w[0], "failing") == 0)
		T_EQ_INT(greyq_failing(q), atoi(w[1]));
	else if (strcmp(w[0], "unsynced") == 0)
		T_EQ_INT(greyq_unsynced(q), atoi(w[1]));
	else if (strcmp(w[0], "fx") == 0)
		check_fx(w, n);
	else if (strcmp(w[0], "log") == 0)
		t_expect_log(text + 4);
	else if (strcmp(w[0], "nolog") == 0)
		t_no_log(text + 6);
	else if (strcmp(w[0], "grey") == 0 || strcmp(w[0], "white") == 0 ||
	    strcmp(w[0], "trapped") == 0 || strcmp(w[0], "none") == 0)
		check_record(w, n);
	else
		t_fail("unknown step: %s", text);
}

static void
play(const struct tcase *tc)
{
	struct greyq_conf qc = tc->qc;
	struct greyaddr_limits lim = { tc->max_live, 0, 0, gl.greyexp };
	struct greyq *q;
	int i;

	clock_fake_set(T0);
	greyaddr_init(&lim);
	fxlog[0] = '\0';
	vlog[0] = '\0';
	if (qc.dbpath == NULL)
		qc.dbpath = t_path("spamd.db");
	qc.gl = &gl;
	qc.queue_max = qc.queue_max ? qc.queue_max : 1000;
	qc.txn_max = qc.txn_max ? qc.txn_max : 100;
	qc.retry_min_ms = 1000;		/* the fake clock moves in seconds */
	qc.retry_max_ms = 4000;
	qc.is_trap = fake_trap;
	qc.effect = fake_effect;
	qc.verdict = fake_verdict;
	qc.arg = fxlog;
	T_ASSERT((q = greyq_new(&qc)) != NULL);
	for (i = 0; i < MAXSTEPS && tc->steps[i] != NULL; i++)
		step(q, tc->steps[i]);
	greyq_free(q);
	T_EQ_STR(vlog, "");		/* every answer was expected */
}

#define TUPLE	"192.0.2.1 mx.example.org <a@example.org> <b@example.net>"
#define TUPLE2	"192.0.2.1 mx.example.org <a@example.org> <c@example.net>"

/* A first sighting is due at once and recorded GREY; nothing passes. */
static void
first_sighting(void)
{
	static const struct tcase tc = { .steps = {
		"timeout -1",
		"add " TUPLE, "queued 1", "timeout 0",
		"run", "queued 0", "timeout -1", "failing 0",
		"grey " TUPLE " 1", "none 192.0.2.1", "fx none",
		"log new tuple 192.0.2.1 mx.example.org",
	} };

	play(&tc);
}

/* A retry before passtime counts; after it, the address is whitelisted
 * and handed to nft in the same batch, once for both recipients. */
static void
retry_passes(void)
{
	static const struct tcase tc = { .steps = {
		"add " TUPLE, "add " TUPLE2, "run",
		"sleep 30", "add " TUPLE, "run",
		"grey " TUPLE " 2", "none 192.0.2.1", "fx none",
		"log seen 2 times, passes in 31 s",
		"sleep 31", "add " TUPLE, "add " TUPLE2, "run",
		"white 192.0.2.1", "fx white 192.0.2.1",
		"log whitelisting 192.0.2.1",
		/* WHITE, yet it comes again: pushed to the set again. */
		"sleep 700", "add " TUPLE, "run", "fx white 192.0.2.1",
		"log 192.0.2.1: WHITE but not in the nft set",
	} };

	play(&tc);
}

/* A trap address, or a new tuple at the low-priority MX, traps. */
static void
traps(void)
{
	static const struct tcase tc = { .steps = {
		"add 192.0.2.7 h <a@example.org> <x@trap.example>", "run",
		"trapped 192.0.2.7", "fx trap 192.0.2.7",
		"log Trapping 192.0.2.7 for tuple h <a@example.org>",
		"add 192.0.2.8 h <a@example.org> <b@example.net> lowmx",
		"run", "trapped 192.0.2.8", "fx trap 192.0.2.8",
		"log 192.0.2.8: new tuple at the low-priority MX",
		/* A TRAPPED address whose tuple passes stays TRAPPED. */
		"add 192.0.2.7 h <a@example.org> <b@example.net>", "run",
		"sleep 61", "add 192.0.2.7 h <a@example.org> <b@example.net>",
		"run", "trapped 192.0.2.7", "fx none",
		"log 192.0.2.7: passed, but TRAPPED: not whitelisting",
	} };

	play(&tc);
}

/* A locked database: the batch is kept, retried at 1, 2, 4, 4 s. */
static void
locked_backoff(void)
{
	static const struct tcase tc = { .qc.lock_wait_ms = 0, .steps = {
		"lock", "add " TUPLE, "run",
		"queued 1", "failing 1", "timeout 1000",
		"log database unavailable",
		"log 1 tuple queued, retrying",
		"add " TUPLE2, "timeout 1000",	/* no earlier try */
		"run", "queued 2",		/* not due: nothing done */
		"sleep 1", "timeout 0", "run", "timeout 2000",
		"sleep 2", "run", "timeout 4000",
		"sleep 4", "run", "timeout 4000",	/* the ceiling */
		"unlock", "sleep 4", "run",
		"queued 0", "failing 0", "timeout -1",
		"grey " TUPLE " 1", "grey " TUPLE2 " 1",
		"log database available again; 0 tuples still queued",
	} };

	play(&tc);
}

/*
 * A tuple and its retry after passtime that waited together for a locked
 * database are decided as of their arrival: the retry passes.
 */
static void
locked_retry_passes(void)
{
	static const struct tcase tc = { .qc.lock_wait_ms = 0, .steps = {
		"lock", "add " TUPLE, "run", "queued 1",
		"sleep 61", "add " TUPLE, "run", "queued 2",
		"unlock", "force", "queued 0",
		"white 192.0.2.1", "fx white 192.0.2.1",
		"log whitelisting 192.0.2.1",
	} };

	play(&tc);
}

/* A forced run writes during the back-off (the exit path). */
static void
force_during_backoff(void)
{
	static const struct tcase tc = { .steps = {
		"lock", "add " TUPLE, "run", "timeout 1000",
		"unlock", "force", "queued 0", "grey " TUPLE " 1",
	} };

	play(&tc);
}

/* A database that cannot be created: kept and logged, never fatal. */
static void
missing_dir(void)
{
	static const struct tcase tc = {
		.qc.dbpath = "/nonexistent/dir/spamd.db", .steps = {
		"add " TUPLE, "run", "queued 1", "failing 1",
		"log /nonexistent/dir/spamd.db", "fx none",
	} };

	play(&tc);
}

/* At most txn_max tuples a transaction; the rest is due at once. */
static void
batch_bound(void)
{
	static const struct tcase tc = { .qc.txn_max = 2, .steps = {
		"add 192.0.2.1 h <a@example.org> <1@example.net>",
		"add 192.0.2.1 h <a@example.org> <2@example.net>",
		"add 192.0.2.1 h <a@example.org> <3@example.net>",
		"run", "queued 1", "timeout 0", "run", "queued 0",
		"grey 192.0.2.1 h <a@example.org> <3@example.net> 1",
	} };

	play(&tc);
}

/* A full queue drops new tuples, and says so. */
static void
queue_full(void)
{
	static const struct tcase tc = { .qc.queue_max = 2, .steps = {
		"add 192.0.2.1 h <a@example.org> <1@example.net>",
		"add 192.0.2.2 h <a@example.org> <2@example.net>",
		"refused 192.0.2.3 h <a@example.org> <3@example.net>",
		"queued 2",
		"log 2 tuples waiting for the database: dropped 1 new one",
		"run", "queued 0",
		"add 192.0.2.3 h <a@example.org> <3@example.net>",
	} };

	play(&tc);
}

/* --grey-max-tuples: new tuples beyond it are refused, known ones are
 * not; the refusal is reported after GREYQ_REPORT_MS, with counts. */
static void
per_address_bound(void)
{
	static const struct tcase tc = { .max_live = 1, .steps = {
		"add " TUPLE, "add " TUPLE2, "run",
		"grey " TUPLE " 1", "none " TUPLE2,
		"timeout 10000", "nolog refused",
		"sleep 5", "add " TUPLE, "run", "grey " TUPLE " 2",
		"sleep 5", "run", "timeout -1",
		"log refused 1 new tuple from 192.0.2.1 (it holds 1 live)",
	} };

	play(&tc);
}

/* --db-max-size reached: the heaviest addresses' new tuples are refused
 * (here the only one, with one live tuple), a known tuple that comes
 * again is still recorded, and the state change is logged. */
static void
db_full(void)
{
	static const struct tcase tc = { .qc.db_max_size = 1, .steps = {
		"add " TUPLE, "run", "grey " TUPLE " 1",
		"log at the --db-max-size bound: refusing new tuples",
		"sleep 1", "add " TUPLE, "add " TUPLE2, "run",
		"grey " TUPLE " 2", "none " TUPLE2,
		"sleep 10", "run",
		"log refused 1 new tuple from 192.0.2.1 (it holds 1 live): "
		    "1 for database size",
	} };

	play(&tc);
}

/* Under load (a commit of busy_batch tuples, here 2), commits come at
 * most every commit_gap_ms (here 2 s); below it, or idle, at once. */
static void
commit_gap(void)
{
	static const struct tcase tc = { .qc.commit_gap_ms = 2000,
	    .qc.busy_batch = 2, .steps = {
		"add 192.0.2.5 h <a@example.org> <b@example.net>",
		"run", "add 192.0.2.6 h <a@example.org> <b@example.net>",
		"timeout 0", "run",		/* a commit of 1: no load */
		"add " TUPLE, "add 192.0.2.7 h <a@example.org> <b@example.net>",
		"timeout 0", "run", "queued 0",	/* 2: load from now on */
		"add " TUPLE2, "timeout 2000", "run", "queued 1",
		"sleep 1", "add 192.0.2.9 h <a@example.org> <b@example.net>",
		"timeout 1000", "sleep 1", "timeout 0", "run", "queued 0",
		"grey " TUPLE2 " 1",
		"sleep 5", "add " TUPLE, "timeout 0",	/* idle: at once */
	} };

	play(&tc);
}

/* A steady stream (the last commit carried 2 tuples, less than
 * commit_min_ms ago, here 1 s) waits for the rest of it, and then goes
 * in one commit; after a commit of 1, or later than that, at once. */
static void
commit_min(void)
{
	static const struct tcase tc = { .qc.commit_min_ms = 1000,
	    .qc.commit_gap_ms = 3000, .qc.busy_batch = 3, .steps = {
		"add 192.0.2.4 h <a@example.org> <b@example.net>",
		"timeout 0", "run", "queued 0",	/* the first: at once */
		"add 192.0.2.3 h <a@example.org> <b@example.net>",
		"timeout 0", "add 192.0.2.5 h <a@example.org> <b@example.net>",
		"run", "queued 0",		/* after a lone one: at once */
		"add 192.0.2.6 h <a@example.org> <b@example.net>",
		"timeout 1000", "run", "queued 1",
		"add 192.0.2.7 h <a@example.org> <b@example.net>",
		"add 192.0.2.8 h <a@example.org> <b@example.net>",
		"timeout 1000", "sleep 1", "timeout 0", "run", "queued 0",
		"grey 192.0.2.8 h <a@example.org> <b@example.net> 1",
		/* 3 in that commit: load, the longer gap applies */
		"add " TUPLE, "timeout 3000", "sleep 3", "run", "queued 0",
		/* a commit of 1, 2 s later: idle, at once */
		"sleep 2", "add " TUPLE2, "timeout 0",
	} };

	play(&tc);
}

#define TUPLE3	"192.0.2.1 mx.example.org <a@example.org> <d@example.net>"

/*
 * New and counted tuples commit without waiting for the disk; the fsync
 * follows sync_gap_ms (here 1 s) after the first such commit (the
 * timeout counts it), or comes with the next commit that passes (a
 * retry, a policy "pass"); a policy "defer" does not wait for the disk.
 * Without sync_gap_ms every commit syncs.
 */
static void
sync_gap(void)
{
	static const struct tcase tc = { .qc.sync_gap_ms = 1000, .steps = {
		/* a new writer's first commit syncs (no lag field yet) */
		"add " TUPLE, "run", "queued 0", "unsynced 0",
		"add " TUPLE2, "run", "unsynced 1",
		"timeout 1000", "grey " TUPLE2 " 1",
		"sleep 1", "timeout 0", "run", "unsynced 0", "timeout -1",
		"add " TUPLE3, "run", "unsynced 1", "timeout 1000",
		"sleep 61", "add " TUPLE, "run", "fx white 192.0.2.1",
		"unsynced 0", "timeout -1",
		"policy 1 192.0.2.9 h <a@example.org> <b@example.net>",
		"run", "verdicts 1 defer 61", "unsynced 1",
		"sleep 61", "policy 2 192.0.2.9 h <a@example.org> "
		"<b@example.net>", "run", "verdicts 2 pass 61",
		"fx white 192.0.2.9", "unsynced 0",
		"add 192.0.2.10 h <a@example.org> <b@example.net>", "run",
		"unsynced 1", "force", "unsynced 0",
	} };
	static const struct tcase off = { .steps = {
		"add " TUPLE, "run", "unsynced 0", "timeout -1",
	} };

	play(&tc);
	play(&off);
}

/* Policy mode: deferred with the time left until the retry after
 * passtime, which passes with the delay and whitelists at once; then the
 * WHITE client gets DUNNO without a new tuple recorded. */
static void
policy_greylist(void)
{
	static const struct tcase tc = { .steps = {
		"policy 1 " TUPLE, "policy 2 " TUPLE2, "run",
		"verdicts 1 defer 61 2 defer 61", "grey " TUPLE " 1",
		"log new policy tuple 192.0.2.1 mx.example.org",
		"sleep 30", "policy 3 " TUPLE, "run", "verdicts 3 defer 31",
		"grey " TUPLE " 2", "fx none",
		"sleep 31", "policy 4 " TUPLE, "policy 5 " TUPLE2, "run",
		"verdicts 4 pass 61 5 dunno 0", "white 192.0.2.1",
		"fx white 192.0.2.1",
		"log whitelisting 192.0.2.1 (policy request, delayed 61 s)",
		"sleep 5000", "policy 6 " TUPLE3, "run", "verdicts 6 dunno 0",
		"none " TUPLE3, "white 192.0.2.1", "fx none",
	} };

	play(&tc);
}

/* A spamtrap recipient traps; a TRAPPED client is refused after that,
 * whatever its tuple. SMTP tuples and policy tuples mix in one batch. */
static void
policy_trap(void)
{
	static const struct tcase tc = { .steps = {
		"policy 7 192.0.2.7 h <a@example.org> <x@trap.example>",
		"add 192.0.2.8 h <a@example.org> <b@example.net>",
		"policy 8 192.0.2.7 h <a@example.org> <b@example.net>", "run",
		"verdicts 7 trap 0 8 trap 0", "trapped 192.0.2.7",
		"none 192.0.2.7 h <a@example.org> <b@example.net>",
		"grey 192.0.2.8 h <a@example.org> <b@example.net> 1",
		"fx trap 192.0.2.7",
	} };

	play(&tc);
}

/* A locked database: no answer until the batch is committed. */
static void
policy_locked(void)
{
	static const struct tcase tc = { .qc.lock_wait_ms = 0, .steps = {
		"lock", "policy 9 " TUPLE, "run", "verdicts none",
		"failing 1", "unlock", "sleep 1", "run",
		"verdicts 9 defer 61", "grey " TUPLE " 1",
	} };

	play(&tc);
}

/* A refused policy tuple is answered "busy" at once: by the full
 * queue, or by --grey-max-tuples when the batch is written. */
static void
policy_refused(void)
{
	static const struct tcase tc = { .qc.queue_max = 2, .max_live = 1,
	    .steps = {
		"policy 1 " TUPLE,
		"policy 2 192.0.2.2 h <a@example.org> <b@example.net>",
		"policyrefused 3 192.0.2.3 h <a@example.org> <b@example.net>",
		"verdicts 3 busy 0", "run", "verdicts 1 defer 61 2 defer 61",
		"policy 4 " TUPLE2, "run", "verdicts 4 busy 0",
		"none " TUPLE2,
	} };

	play(&tc);
}

/* Under load an SMTP tuple waits for the commit gap; a policy tuple,
 * whose client waits for the answer, does not, and takes the waiting
 * SMTP tuple along in its commit. */
static void
policy_no_gap(void)
{
	static const struct tcase tc = { .qc.commit_gap_ms = 2000,
	    .qc.busy_batch = 2, .steps = {
		"add 192.0.2.5 h <a@example.org> <b@example.net>",
		"add 192.0.2.6 h <a@example.org> <b@example.net>",
		"run", "queued 0",			/* a commit of 2: load */
		"add 192.0.2.7 h <a@example.org> <b@example.net>",
		"timeout 2000",
		"policy 1 " TUPLE, "timeout 0", "run", "queued 0",
		"verdicts 1 defer 61",
		"grey 192.0.2.7 h <a@example.org> <b@example.net> 1",
	} };

	play(&tc);
}

/* -g 24:64: tuples keyed by network without HELO; a pass whitelists it. */
static void
grouped(void)
{
	static const struct tcase tc = { .qc = { .group4 = 24, .group6 = 64 },
	    .steps = {
		"add 192.0.2.10 a.example <a@example.org> <b@example.net>",
		"add 2001:db8::10 a.example <a@example.org> <b@example.net>",
		"run", "grey 192.0.2.0/24 - <a@example.org> <b@example.net> 1",
		"grey 2001:db8::/64 - <a@example.org> <b@example.net> 1",
		"none 192.0.2.10 a.example <a@example.org> <b@example.net>",
		"log new tuple 192.0.2.0/24  <a@example.org>",
		"sleep 61",
		"add 192.0.2.11 b.example <a@example.org> <b@example.net>",
		"add 2001:db8::ff b.example <a@example.org> <b@example.net>",
		"run", "white 192.0.2.0/24", "white 2001:db8::/64",
		"none 192.0.2.11", "none 2001:db8::ff",
		"fx white 192.0.2.0/24 2001:db8::/64",
		"log whitelisting 192.0.2.0/24 (network of 192.0.2.11, -g)",
		"log whitelisting 2001:db8::/64 (network of 2001:db8::ff, -g)",
		/* Another host of the network, not in the set yet: pushed. */
		"sleep 700",
		"add 192.0.2.12 c.example <a@example.org> <b@example.net>",
		"run", "fx white 192.0.2.0/24",
		"log 192.0.2.0/24 (192.0.2.12): WHITE but not in the nft set",
		/* Another network: its own tuples. */
		"add 192.0.3.1 c.example <a@example.org> <b@example.net>",
		"run", "grey 192.0.3.0/24 - <a@example.org> <b@example.net> 1",
		"fx none",
	} };

	play(&tc);
}

/* A network that holds listed addresses: the address alone passes. */
static void
grouped_listed(void)
{
	static const struct tcase tc = { .qc = { .group4 = 24, .group6 = 64 },
	    .steps = {
		"add 198.51.100.10 a <a@example.org> <b@example.net> netlisted",
		"run",
		"grey 198.51.100.0/24 - <a@example.org> <b@example.net> 1",
		"sleep 61",
		"add 198.51.100.11 b <a@example.org> <b@example.net> netlisted",
		"run", "white 198.51.100.11", "none 198.51.100.0/24",
		"fx white 198.51.100.11",
		"log whitelisting 198.51.100.11 (not its network 198.51.100.0/24",
		/* A trap traps the address, never the network. */
		"add 198.51.100.12 c <a@example.org> <x@trap.example>",
		"run", "trapped 198.51.100.12", "none 198.51.100.0/24",
		"fx trap 198.51.100.12",
	} };

	play(&tc);
}

/* Policy mode with -g: a host of a WHITE network is answered DUNNO. */
static void
grouped_policy(void)
{
	static const struct tcase tc = { .qc = { .group4 = 24, .group6 = 64 },
	    .steps = {
		"policy 1 192.0.2.10 a <a@example.org> <b@example.net>",
		"run", "verdicts 1 defer 61",
		"sleep 61",
		"policy 2 192.0.2.11 b <a@example.org> <b@example.net>",
		"run", "verdicts 2 pass 61", "white 192.0.2.0/24",
		"fx white 192.0.2.0/24",
		"log whitelisting 192.0.2.0/24, network of 192.0.2.11",
		"policy 3 192.0.2.99 z <q@example.org> <r@example.net>",
		"run", "verdicts 3 dunno 0",
		"none 192.0.2.0/24 - <q@example.org> <r@example.net>",
		"fx none",
	} };

	play(&tc);
}

const struct t_case t_cases[] = {
	T_CASE(first_sighting),
	T_CASE(retry_passes),
	T_CASE(traps),
	T_CASE(locked_backoff),
	T_CASE(locked_retry_passes),
	T_CASE(force_during_backoff),
	T_CASE(missing_dir),
	T_CASE(batch_bound),
	T_CASE(queue_full),
	T_CASE(per_address_bound),
	T_CASE(db_full),
	T_CASE(commit_gap),
	T_CASE(policy_greylist),
	T_CASE(policy_trap),
	T_CASE(policy_locked),
	T_CASE(policy_refused),
	T_CASE(policy_no_gap),
	T_CASE(commit_min),
	T_CASE(sync_gap),
	T_CASE(grouped),
	T_CASE(grouped_listed),
	T_CASE(grouped_policy),
	{ NULL, NULL }
};
