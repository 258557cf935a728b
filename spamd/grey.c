/*
 * grey.c: the greylister process. It owns the database writes of spamd:
 * tuples arrive from the SMTP process, are queued, and are applied in
 * batches, one greydb transaction per batch, so the fsync of a commit is
 * paid once for many tuples. A retry that passes creates the WHITE record
 * and sends the address to the nft helper in the same step (immediate
 * promotion); traps go to the SMTP process.
 *
 *	grey_main(smtpfd, nftfd)	never returns
 *	grey_load_alloweddomains(path)	read the recipient domain suffixes
 *		(as root, before the privilege drop)
 *	grey_trapcheck(db, to)		1 if a RCPT value is a trap
 *
 * Nothing is lost to a busy or broken database: while the lock is held
 * elsewhere, the disk is full or the file unwritable, tuples stay queued
 * (up to GREY_QUEUE_MAX) and the batch is retried with back-off; each
 * state change is logged. A tuple counts as stored only after the
 * transaction that holds it has been synced and closed.
 *
 * One client cannot fill the disk or crowd out the others (issue 15):
 * once the queue is half full, an address may hold no more than
 * GREY_QUEUE_SHARE of it (the other half is for the others); its new tuples
 * are refused beyond --grey-max-tuples live ones or --grey-max-rate
 * (greyaddr.c counts them); and the database files (with checkpoint and
 * journal) stay under --db-max-size: above GREY_SOFT_PCT of it, new
 * tuples of the heaviest addresses are refused, near it every new tuple
 * is. Known tuples, traps and WHITE hosts are never refused. Refusals
 * are reported every GREY_REPORT_MS, per address, with counts.
 */
#include <sys/prctl.h>

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/gdata.h"
#include "common/greydb.h"
#include "common/greylist.h"
#include "common/greyscan.h"
#include "common/log.h"
#include "common/util.h"
#include "spamd/chan.h"
#include "spamd/ev.h"
#include "spamd/grey.h"
#include "spamd/greyaddr.h"
#include "spamd/proto.h"
#include "spamd/spamd.h"

#define GREY_QUEUE_MAX	200000		/* tuples waiting for the database */
#define GREY_TXN_MAX	2000		/* tuples per transaction */
#define GREY_LOCK_WAIT	200		/* ms to wait for the lock */
#define GREY_RETRY_MIN	100		/* ms, doubled up to GREY_RETRY_MAX */
#define GREY_RETRY_MAX	10000
#define CHAN_MAXQ	(256u * 1024 * 1024)
#define GREY_DRAIN_MAX	20000		/* ms to commit the backlog when stopping */
#define GREY_SESSION_MAX 600		/* s: sessions that began before a pass */
#define GREY_QUEUE_SHARE (GREY_QUEUE_MAX / 64)	/* one address's part */
#define GREY_SOFT_PCT	80		/* % of --db-max-size: heaviest refused */
#define GREY_FULL_PCT	95		/* % of --db-max-size: all new refused */
#define GREY_TUPLE_BYTES 512		/* least disk growth assumed per tuple */
#define GREY_PROBE_MAX	20		/* new tuples per transaction when full */
#define GREY_PROBE_MS	60000		/* when full and growing: probe pace */
#define GREY_REPORT_MS	10000		/* refusal reports, at most this often */

struct item {
	struct item	*next;
	struct addr	 ip;
	uint8_t		 lowmx;
	char		*helo, *from, *to;	/* point into data[] */
	char		 data[];
};

/* Side effects of a transaction, sent only once it is committed. */
struct effects {
	struct proto_entry	*white, *trap;
	size_t			 nwhite, ntrap, capwhite, captrap;
};

static struct chan	 smtp, nft;
static struct item	*head, *tail;
static size_t		 queued;
static struct ev_timer	 flush_tm, resync_tm;
static uint64_t		 retry_ms = GREY_RETRY_MIN;
static int		 failing;
static struct log_ratelimit rl_drop;
static struct ev_timer	 traps_tm;
static char		**allowed;
static size_t		 nallowed;
static struct ev_timer	 report_tm;

enum dbzone { DBZ_OK, DBZ_SOFT, DBZ_FULL };

/* --db-max-size: what the files take, and what the next batch may add. */
static struct {
	enum dbzone	 zone;
	int64_t		 total, db;	/* at the last look */
	int64_t		 per_tuple;	/* observed growth per new tuple */
	int64_t		 budget;	/* new tuples this batch; -1 no bound */
	size_t		 nnew;		/* new tuples in this batch */
	size_t		 nitems;	/* tuples in this batch */
	int		 grew;		/* the last new tuples grew the db */
	uint64_t	 probe_ms;	/* full and growing: next probe */
	uint32_t	 heavy;		/* live tuples that make a heavy address */
	int		 stat_failed;
} dbs = { .budget = -1, .per_tuple = GREY_TUPLE_BYTES };

/*
 * Read spamd.alloweddomains: one suffix per line, '#' comments, blanks
 * trimmed. A recipient that matches none of them is trapped; an empty or
 * missing file means no restriction. Matching is OpenBSD's plain
 * case-insensitive suffix test.
 */
void
grey_load_alloweddomains(const char *path)
{
	FILE *fp;
	char *line = NULL, *p, *e;
	size_t sz = 0;
	ssize_t n;
	unsigned long lineno = 0;

	if (path == NULL)
		return;
	if ((fp = fopen(path, "r")) == NULL) {
		if (errno != ENOENT)
			log_warn("%s: not restricting recipient domains", path);
		return;
	}
	while ((n = getline(&line, &sz, fp)) != -1) {
		lineno++;
		if ((p = strchr(line, '#')) != NULL)
			*p = '\0';
		for (p = line; isspace((unsigned char)*p); p++)
			;
		for (e = p + strlen(p); e > p && isspace((unsigned char)e[-1]);
		    e--)
			;
		*e = '\0';
		if (*p == '\0')
			continue;
		if (e - p > GD_FIELD_MAX) {
			log_warnx("%s:%lu: domain longer than %d bytes, "
			    "ignored", path, lineno, GD_FIELD_MAX);
			continue;
		}
		for (e = p; *e != '\0'; e++)
			*e = (char)tolower((unsigned char)*e);
		allowed = reallocarray(allowed, nallowed + 1, sizeof(*allowed));
		if (allowed == NULL || (allowed[nallowed] = strdup(p)) == NULL)
			fatal("%s", path);
		nallowed++;
	}
	if (ferror(fp))
		log_warn("%s", path);
	free(line);
	fclose(fp);
	log_info("%s: %zu allowed domain%s", path, nallowed,
	    nallowed == 1 ? "" : "s");
}

/* Strip one '<' and one '>' and lower-case: the form spamtraps take. */
static size_t
rcpt_canon(const char *to, char *buf, size_t len)
{
	size_t n;

	if (*to == '<')
		to++;
	n = strlcpy(buf, to, len);
	if (n >= len)
		n = len - 1;
	if (n > 0 && buf[n - 1] == '>')
		buf[--n] = '\0';
	for (size_t i = 0; i < n; i++)
		buf[i] = (char)tolower((unsigned char)buf[i]);
	return n;
}

int
grey_trapcheck(struct greydb *db, const char *to)
{
	char addr[GD_FIELD_MAX + 1];
	struct gd_rec r;
	size_t n = rcpt_canon(to, addr, sizeof(addr)), i;

	if (nallowed > 0) {
		for (i = 0; i < nallowed; i++) {
			size_t m = strlen(allowed[i]);

			if (m <= n && strcmp(addr + n - m, allowed[i]) == 0)
				break;
		}
		if (i == nallowed)
			return 1;
	}
	return n > 0 && greydb_get(db, addr, n, &r) == GREYDB_OK &&
	    r.kind == GD_SPAMTRAP;
}

static int
fx_add(struct proto_entry **v, size_t *n, size_t *cap, const struct addr *a,
    int64_t expire)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		struct proto_entry *nv = reallocarray(*v, ncap, sizeof(*nv));

		if (nv == NULL)
			return -1;
		*v = nv;
		*cap = ncap;
	}
	(*v)[*n].a = *a;
	(*v)[(*n)++].expire = expire;
	return 0;
}

/* Send entries in as few messages as fit. */
static void
send_entries(struct chan *c, enum proto_type t, const struct proto_entry *e,
    size_t n)
{
	uint8_t buf[PROTO_MSG_MAX];

	while (n > 0) {
		size_t k = n > PROTO_ENTRIES_MAX ? PROTO_ENTRIES_MAX : n;
		size_t len = proto_enc_entries(buf, sizeof(buf), t, e, k);

		if (len == 0 || chan_send(c, buf, len) == -1)
			log_warnx("%s: could not send %zu entries", c->name, k);
		e += k;
		n -= k;
	}
}

static void
send_bare(struct chan *c, enum proto_type t)
{
	uint8_t buf[16];
	size_t len = proto_enc_bare(buf, sizeof(buf), t);

	if (chan_send(c, buf, len) == -1)
		log_warnx("%s: could not send a control message", c->name);
}

static void
report_one(const struct greyaddr_stat *st, void *arg)
{
	char ip[ADDR_STRLEN], why[256];
	unsigned long total = 0;
	size_t o = 0;
	int i;

	(void)arg;
	why[0] = '\0';
	for (i = GREYADDR_OK + 1; i < GREYADDR_NWHY; i++) {
		if (st->refused[i] == 0)
			continue;
		total += st->refused[i];
		o += (size_t)snprintf(why + o, o < sizeof(why) ?
		    sizeof(why) - o : 0, "%s%lu for %s", o ? ", " : "",
		    st->refused[i], greyaddr_why_name[i]);
	}
	addr_ntop(&st->a, ip, sizeof(ip));
	log_warnx("refused %lu new tuple%s from %s%s (it holds %u live): %s",
	    total, total == 1 ? "" : "s", ip,
	    st->a.af == AF_INET6 ? "/64" : "", st->live, why);
}

/* Say who was refused since the last report, and why. */
static void
report(struct ev_timer *t)
{
	size_t n;

	(void)t;
	n = greyaddr_report(clock_now(), report_one, NULL);
	if (n > GREYADDR_REPORT_MAX)
		log_warnx("... and new tuples from %zu more address%s",
		    n - GREYADDR_REPORT_MAX,
		    n - GREYADDR_REPORT_MAX == 1 ? "" : "es");
}

static void
refuse(const struct addr *a, enum greyaddr_why why)
{
	greyaddr_refused(a, why);
	if (!ev_timer_armed(&report_tm))
		ev_timer_set(&report_tm, ev_now() + GREY_REPORT_MS, report);
}

/*
 * Look at the files before a batch: which zone of --db-max-size they are
 * in, and how many new tuples the batch may add without crossing it.
 */
static void
dbsize_update(void)
{
	struct greydb_usage u;
	int64_t total, room, soft, full, lim = conf.db_max_size;
	enum dbzone zone;
	char b[4][16];

	dbs.budget = -1;
	if (lim == 0)
		return;
	if (greydb_disk_usage(conf.dbpath, &u) == -1) {
		if (!dbs.stat_failed)
			log_warnx("cannot size the database (%s): "
			    "--db-max-size not enforced", greydb_errstr());
		dbs.stat_failed = 1;
		return;
	}
	dbs.stat_failed = 0;
	total = u.db + u.ckpt + u.journal;
	if (dbs.nnew > 0) {
		/*
		 * What the last batch's new tuples cost, journal included,
		 * when they were most of it (known tuples add journal only);
		 * smoothed, so one bucket split or a checkpoint does not stick.
		 */
		if (total > dbs.total && dbs.nnew * 2 >= dbs.nitems) {
			int64_t per = (total - dbs.total) / (int64_t)dbs.nnew;

			dbs.per_tuple = (dbs.per_tuple + per) / 2;
			if (dbs.per_tuple < GREY_TUPLE_BYTES)
				dbs.per_tuple = GREY_TUPLE_BYTES;
		}
		dbs.grew = u.db > dbs.db;
	}
	dbs.nnew = dbs.nitems = 0;
	dbs.total = total;
	dbs.db = u.db;
	room = lim - total;
	soft = lim / 100 * GREY_SOFT_PCT;
	full = lim / 100 * GREY_FULL_PCT;
	zone = total >= full ? DBZ_FULL : total >= soft ? DBZ_SOFT : DBZ_OK;
	if (zone != dbs.zone) {
		util_fmt_size(total, b[0], sizeof(b[0]));
		util_fmt_size(u.db, b[1], sizeof(b[1]));
		util_fmt_size(u.ckpt, b[2], sizeof(b[2]));
		util_fmt_size(u.journal, b[3], sizeof(b[3]));
		if (zone == DBZ_FULL)
			log_warnx("database files take %s (database %s, "
			    "checkpoint %s, journal %s), at the --db-max-size "
			    "bound: refusing new tuples; WHITE entries and "
			    "known tuples are still recorded", b[0], b[1],
			    b[2], b[3]);
		else if (zone == DBZ_SOFT && dbs.zone == DBZ_OK)
			log_warnx("database files take %s (database %s, "
			    "checkpoint %s, journal %s), over %d%% of "
			    "--db-max-size: refusing new tuples from the "
			    "addresses that hold the most", b[0], b[1], b[2],
			    b[3], GREY_SOFT_PCT);
		else
			log_warnx("database files take %s, under %d%% of "
			    "--db-max-size again: accepting %s new tuples",
			    b[0], zone == DBZ_OK ? GREY_SOFT_PCT :
			    GREY_FULL_PCT, zone == DBZ_OK ? "all" : "more");
		dbs.zone = zone;
	}
	if (zone != DBZ_OK)
		dbs.heavy = greyaddr_heaviest(clock_now()) / 2 + 1;
	/* Never let one batch's new tuples cross the bound. */
	dbs.budget = room > 0 ? room / dbs.per_tuple : 0;
	if (zone == DBZ_FULL) {
		/*
		 * GDBM files never shrink: after the cron job expires
		 * records, new ones reuse the space. A few new tuples show
		 * whether they still grow the file; while they do, one
		 * probe per GREY_PROBE_MS.
		 */
		uint64_t now = clock_mono_ms();

		if (!dbs.grew)
			dbs.budget = GREY_PROBE_MAX;
		else if (now >= dbs.probe_ms) {
			dbs.budget = 1;
			dbs.probe_ms = now + GREY_PROBE_MS;
		} else if (dbs.budget > GREY_PROBE_MAX)
			dbs.budget = GREY_PROBE_MAX;
	}
}

/* May this address record one more new tuple? */
static enum greyaddr_why
limit_new(const struct addr *a, int64_t now)
{
	if (dbs.budget >= 0) {
		if ((int64_t)dbs.nnew >= dbs.budget)
			return GREYADDR_DBFULL;
		if (dbs.zone != DBZ_OK && greyaddr_live(a, now) >= dbs.heavy)
			return GREYADDR_DBFULL;
	}
	return greyaddr_new_ok(a, now, clock_mono_ms());
}

/* A write the database refused: the item stays queued. */
static int
put_failed(void)
{
	if (!failing)
		log_warnx("cannot record tuples: %s", greydb_errstr());
	return -1;
}

/* A tuple that trapped its client: the address becomes TRAPPED. */
static int
apply_trap(struct greydb *db, const struct item *it, const char *ip,
    struct gd_rec *ir, int ifound, int64_t now, struct effects *fx)
{
	greylist_trap(ir, ifound, now, &conf.gl);
	if (greydb_put(db, ip, strlen(ip), ir) == -1)
		return -1;
	log_info("Trapping %s for tuple %s %s %s", ip, it->helo,
	    it->from, it->to);
	if (fx_add(&fx->trap, &fx->ntrap, &fx->captrap, &it->ip,
	    ir->expire) == -1)
		log_warnx("%s: out of memory for the trap list", ip);
	return 0;
}

/*
 * After a tuple was recorded: push a WHITE address that still comes to
 * us to the nft set again, or whitelist the address of a tuple that
 * passed (unless it is TRAPPED).
 */
static int
apply_white(struct greydb *db, const struct item *it, const char *ip,
    const struct gd_rec *tr, struct gd_rec *ir, int ifound, int passed,
    int64_t now, struct effects *fx)
{
	if (ifound && ir->kind == GD_WHITE && !greylist_expired(ir, now)) {
		/*
		 * WHITE, yet it came to us: the set may lack it, so push it
		 * again (the nft helper refreshes it either way). A host
		 * that passed moments ago is no news: the other recipients
		 * of the session that passed (or sessions opened before its
		 * element was added) come here too.
		 */
		if (now - ir->pass > GREY_SESSION_MAX)
			log_info("%s: WHITE but not in the nft set, adding "
			    "it again", ip);
		else
			log_debug("%s: whitelisted %lld s ago, still coming "
			    "to us", ip, (long long)(now - ir->pass));
		fx_add(&fx->white, &fx->nwhite, &fx->capwhite, &it->ip,
		    ir->expire);
	} else if (passed) {
		if (ifound && ir->kind == GD_TRAPPED &&
		    !greylist_expired(ir, now)) {
			log_info("%s: passed, but TRAPPED: not whitelisting",
			    ip);
			return 0;
		}
		greylist_white_from_tuple(ir, tr, now, &conf.gl);
		if (greydb_put(db, ip, strlen(ip), ir) == -1)
			return -1;
		log_info("whitelisting %s", ip);
		fx_add(&fx->white, &fx->nwhite, &fx->capwhite, &it->ip,
		    ir->expire);
	}
	return 0;
}

/*
 * Record one tuple. Returns -1 if the database refused a write, leaving
 * the item for a later attempt.
 */
static int
apply(struct greydb *db, const struct item *it, int64_t now,
    struct effects *fx)
{
	char key[GD_KEY_MAX], ip[ADDR_STRLEN];
	struct gd_tuple t;
	struct gd_rec tr, ir;
	enum greyaddr_why why;
	int klen, found, ifound, trapped, passed, isnew;

	addr_ntop(&it->ip, ip, sizeof(ip));
	t.ip = ip;
	t.helo = it->helo;
	t.from = it->from;
	t.to = it->to;
	if ((klen = gd_key_tuple(key, sizeof(key), &t)) == -1) {
		log_warnx("%s: unusable tuple, not recorded", ip);
		return 0;
	}
	found = greydb_get(db, key, (size_t)klen, &tr) == GREYDB_OK;
	trapped = grey_trapcheck(db, it->to);
	if (!trapped && it->lowmx && !found) {
		log_info("%s: new tuple at the low-priority MX", ip);
		trapped = 1;
	}
	/*
	 * The address record matters to a trap, a pass, or a retry (a WHITE
	 * host retrying through us is missing from the nft set); a first
	 * sighting, the common case, can skip the lookup.
	 */
	ifound = (trapped || found) &&
	    greydb_get(db, ip, strlen(ip), &ir) == GREYDB_OK;
	if (trapped)
		return apply_trap(db, it, ip, &ir, ifound, now, fx) == -1 ?
		    put_failed() : 0;
	isnew = !found || tr.kind != GD_GREY || tr.expire <= now;
	if (isnew && (why = limit_new(&it->ip, now)) != GREYADDR_OK) {
		/* A WHITE host coming to us is still pushed to the set. */
		if (!ifound)
			ifound = greydb_get(db, ip, strlen(ip), &ir) ==
			    GREYDB_OK;
		if (!ifound || ir.kind != GD_WHITE ||
		    greylist_expired(&ir, now)) {
			refuse(&it->ip, why);
			return 0;
		}
	}
	passed = greylist_tuple(&tr, found, now, &conf.gl);
	if (greydb_put(db, key, (size_t)klen, &tr) == -1)
		return put_failed();
	if (isnew) {
		greyaddr_added(&it->ip, tr.expire);
		dbs.nnew++;
	}
	if (!found)
		log_verbose("new tuple %s %s %s %s", ip, it->helo, it->from,
		    it->to);
	else if (!passed)
		log_verbose("tuple %s %s %s %s seen %u times, passes in %lld s",
		    ip, it->helo, it->from, it->to, tr.bcount,
		    (long long)(tr.first + conf.gl.passtime + 1 - now));
	if (apply_white(db, it, ip, &tr, &ir, ifound, passed, now, fx) == -1)
		return put_failed();
	return 0;
}

static void flush(struct ev_timer *);

static void
schedule(uint64_t delay)
{
	if (!ev_timer_armed(&flush_tm) || flush_tm.when > ev_now() + delay)
		ev_timer_set(&flush_tm, ev_now() + delay, flush);
}

static void
backoff(const char *why)
{
	if (!failing)
		log_warnx("database unavailable (%s); %zu tuple%s queued, "
		    "retrying", why, queued, queued == 1 ? "" : "s");
	failing = 1;
	schedule(retry_ms);
	if ((retry_ms *= 2) > GREY_RETRY_MAX)
		retry_ms = GREY_RETRY_MAX;
}

/*
 * The writer handle is kept between transactions (greydb_commit and
 * greydb_resume): GDBM's bucket cache then stays warm, which the bench
 * found to be most of the greylister's cost per tuple. It is reopened
 * whenever another process wrote in between.
 */
static struct greydb	*gdb;

static void
flush(struct ev_timer *t)
{
	struct effects fx;
	struct item *it;
	size_t done = 0;
	int64_t now = clock_now();
	int bad = 0, synced;

	(void)t;
	if (head == NULL)
		return;
	if (gdb == NULL)
		gdb = greydb_open(conf.dbpath, GREYDB_WRITE, GREY_LOCK_WAIT);
	else if (greydb_resume(gdb, GREY_LOCK_WAIT) == -1) {
		backoff(greydb_errstr());
		return;
	}
	if (gdb == NULL) {
		backoff(greydb_errstr());
		return;
	}
	memset(&fx, 0, sizeof(fx));
	dbsize_update();
	for (it = head; it != NULL && done < GREY_TXN_MAX; it = it->next) {
		if (apply(gdb, it, now, &fx) == -1) {
			bad = 1;
			break;
		}
		done++;
	}
	if (!bad && greydb_commit(gdb) == 0)
		synced = 1;
	else {
		/* A write or the sync failed: close, which syncs what was
		 * stored, and start afresh next time. */
		if (!bad)
			log_warnx("%s", greydb_errstr());
		synced = greydb_close(gdb) == 0;
		if (!synced)
			log_warnx("%s", greydb_errstr());
		gdb = NULL;
		bad = 1;
	}
	dbs.nitems = done;
	if (!synced)
		done = 0;	/* keep every tuple of the batch for a retry */
	while (done-- > 0) {
		it = head;
		head = it->next;
		if (head == NULL)
			tail = NULL;
		queued--;
		greyaddr_queue_del(&it->ip);
		free(it);
	}
	if (synced) {
		/* What was stored is durable: its effects may go out,
		 * once per address (a session's recipients pass together). */
		fx.nwhite = proto_entries_uniq(fx.white, fx.nwhite);
		send_entries(&nft, PROTO_WHITE, fx.white, fx.nwhite);
		send_entries(&smtp, PROTO_TRAP, fx.trap, fx.ntrap);
	}
	if (!bad) {
		if (failing)
			log_warnx("database available again; %zu tuple%s "
			    "still queued", queued, queued == 1 ? "" : "s");
		failing = 0;
		retry_ms = GREY_RETRY_MIN;
		if (head != NULL)
			schedule(0);
	} else
		backoff(greydb_errstr());
	free(fx.white);
	free(fx.trap);
}

static void
enqueue(const struct proto_tuple *t)
{
	size_t lh = strlen(t->helo) + 1, lf = strlen(t->from) + 1,
	    lt = strlen(t->to) + 1;
	struct item *it;
	unsigned long n;

	/* Once half the queue is used, an address gets its share only:
	 * the other half stays for the others. */
	if (!greyaddr_queue_add(&t->ip, queued < GREY_QUEUE_MAX / 2 ?
	    UINT32_MAX : GREY_QUEUE_SHARE)) {
		refuse(&t->ip, GREYADDR_QUEUE);
		return;
	}
	if (queued >= GREY_QUEUE_MAX ||
	    (it = malloc(sizeof(*it) + lh + lf + lt)) == NULL) {
		greyaddr_queue_del(&t->ip);
		if ((n = log_ratelimit(&rl_drop, 10)) != 0)
			log_warnx("%zu tuples waiting for the database: "
			    "dropped %lu new one%s", queued, n,
			    n == 1 ? "" : "s");
		return;
	}
	it->next = NULL;
	it->ip = t->ip;
	it->lowmx = t->lowmx;
	it->helo = it->data;
	it->from = it->helo + lh;
	it->to = it->from + lf;
	memcpy(it->helo, t->helo, lh);
	memcpy(it->from, t->from, lf);
	memcpy(it->to, t->to, lt);
	if (tail != NULL)
		tail->next = it;
	else
		head = it;
	tail = it;
	queued++;
	if (!failing)
		schedule(0);
}

/*
 * Send the nft helper every live WHITE address (it replaces the sets in
 * one batch each) and, with traps set, the SMTP process every TRAPPED one.
 */
static void
send_addrs(struct chan *c, enum proto_type t, const struct greyscan_addr *v,
    size_t n)
{
	struct proto_entry e[PROTO_ENTRIES_MAX];

	while (n > 0) {
		size_t k = n > PROTO_ENTRIES_MAX ? PROTO_ENTRIES_MAX : n, i;

		for (i = 0; i < k; i++) {
			e[i].a = v[i].a;
			e[i].expire = v[i].expire;
		}
		send_entries(c, t, e, k);
		v += k;
		n -= k;
	}
}

/*
 * A resync in flight: the live whitelist, waiting for the SMTP process
 * to say which of its addresses are blacklisted.
 */
static struct {
	struct greyscan_res	 res;
	uint8_t			*listed;	/* one flag per res.white */
	int			 active;	/* waiting for BLCHECK_END */
	int			 again;		/* asked again meanwhile */
	int			 quiet;		/* a repeat: log at -v only */
} rs;
static struct ev_timer	 blcheck_tm;

static void	resync(struct ev_timer *);

static int
cmp_gaddr(const void *a, const void *b)
{
	return addr_cmp(&((const struct greyscan_addr *)a)->a,
	    &((const struct greyscan_addr *)b)->a);
}

static void
mark_listed(const struct proto_entry *e, size_t n)
{
	struct greyscan_addr key, *hit;
	size_t i;

	if (!rs.active)
		return;
	for (i = 0; i < n; i++) {
		key.a = e[i].a;
		hit = rs.res.nwhite == 0 ? NULL : bsearch(&key, rs.res.white,
		    rs.res.nwhite, sizeof(*rs.res.white), cmp_gaddr);
		if (hit != NULL)
			rs.listed[hit - rs.res.white] = 1;
	}
}

struct listed {
	struct addr	*v;
	size_t		 n;
};

static int
cmp_addr(const void *a, const void *b)
{
	return addr_cmp(a, b);
}

/* Delete the GREY tuples of blacklisted addresses (a walk callback). */
static int
drop_listed_tuples(const char *key, size_t keylen, const struct gd_rec *r,
    const char *why, void *arg)
{
	const struct listed *l = arg;
	const char *nl;
	char ip[ADDR_STRLEN];
	struct addr a;

	(void)why;
	if (r == NULL || r->kind != GD_GREY ||
	    (nl = memchr(key, '\n', keylen)) == NULL ||
	    (size_t)(nl - key) >= sizeof(ip))
		return GREYDB_KEEP;
	memcpy(ip, key, (size_t)(nl - key));
	ip[nl - key] = '\0';
	if (addr_parse(ip, &a) == -1 ||
	    bsearch(&a, l->v, l->n, sizeof(*l->v), cmp_addr) == NULL)
		return GREYDB_KEEP;
	return GREYDB_DELETE;
}

/*
 * Remove blacklisted addresses from the whitelist (their WHITE record,
 * and their passed tuples, which spamd-nftsync would promote again);
 * send the rest to the nft helper.
 */
static void
resync_finish(struct ev_timer *t)
{
	struct greyscan_addr *keep = rs.res.white;
	struct greydb *db = NULL;
	struct listed l = { NULL, 0 };
	char ip[ADDR_STRLEN];
	struct gd_rec r;
	size_t i, k = 0, nlisted = 0;

	if (t != NULL)
		log_warnx("the SMTP process did not answer the blacklist "
		    "check; whitelisting without it");
	ev_timer_del(&blcheck_tm);
	for (i = 0; i < rs.res.nwhite; i++) {
		if (!rs.listed[i]) {
			keep[k++] = rs.res.white[i];
			continue;
		}
		nlisted++;
		if (l.v == NULL)
			l.v = calloc(rs.res.nwhite, sizeof(*l.v));
		if (l.v != NULL)
			l.v[l.n++] = rs.res.white[i].a;	/* sorted already */
		addr_ntop(&rs.res.white[i].a, ip, sizeof(ip));
		if (db == NULL && (db = greydb_open(conf.dbpath, GREYDB_WRITE,
		    GREY_LOCK_WAIT)) == NULL)
			log_warnx("%s", greydb_errstr());
		if (db != NULL && greydb_get(db, ip, strlen(ip), &r) ==
		    GREYDB_OK && r.kind == GD_WHITE &&
		    greydb_del(db, ip, strlen(ip)) == -1)
			log_warnx("%s", greydb_errstr());
		log_info("%s blacklisted, removing from whitelist", ip);
	}
	if (db != NULL && l.n > 0 &&
	    greydb_walk(db, drop_listed_tuples, &l) == -1)
		log_warnx("%s", greydb_errstr());
	if (db != NULL && greydb_close(db) == -1)
		log_warnx("%s", greydb_errstr());
	free(l.v);
	send_bare(&nft, PROTO_REPLACE_BEGIN);
	send_addrs(&nft, PROTO_REPLACE, keep, k);
	send_bare(&nft, PROTO_REPLACE_END);
	/* A resync repeats during an nftables outage: keep it quiet. */
	(rs.quiet ? log_verbose : log_info)("sent %zu whitelisted address%s "
	    "to the nft helper%s", k, k == 1 ? "" : "es",
	    nlisted ? " (some were blacklisted)" : "");
	greyscan_free(&rs.res);
	free(rs.listed);
	rs.listed = NULL;
	rs.active = 0;
	if (rs.again) {
		rs.again = 0;
		ev_timer_set(&resync_tm, ev_now(), resync);
	}
}

/*
 * Read the live whitelist and traps. Traps go to the SMTP process at
 * once; the whitelist goes there first as a question (which of these
 * are blacklisted?), and to the nft helper once it is answered.
 */
static void
resync(struct ev_timer *t)
{
	struct proto_entry e[PROTO_ENTRIES_MAX];
	size_t i, k;

	rs.quiet = t != NULL;
	if (rs.active) {
		rs.again = 1;
		return;
	}
	if (greyscan_run(conf.dbpath, clock_now(), &conf.gl, 0, &rs.res) ==
	    -1) {
		if (errno != ENOENT) {
			log_warnx("cannot read the whitelist (%s); retrying",
			    greydb_errstr());
			ev_timer_set(&resync_tm, ev_now() + 1000, resync);
			return;
		}
		memset(&rs.res, 0, sizeof(rs.res));	/* no database yet */
	}
	if (rs.res.nwhite > 0)
		qsort(rs.res.white, rs.res.nwhite, sizeof(*rs.res.white),
		    cmp_gaddr);
	if ((rs.listed = calloc(rs.res.nwhite + 1, 1)) == NULL)
		fatal("resync");
	rs.active = 1;
	for (i = 0; i < rs.res.nwhite; i += k) {
		for (k = 0; k < PROTO_ENTRIES_MAX && i + k < rs.res.nwhite;
		    k++) {
			e[k].a = rs.res.white[i + k].a;
			e[k].expire = rs.res.white[i + k].expire;
		}
		send_entries(&smtp, PROTO_BLCHECK, e, k);
	}
	send_bare(&smtp, PROTO_BLCHECK_END);
	ev_timer_set(&blcheck_tm, ev_now() + 30000, resync_finish);
}

struct trapwalk {
	struct greyscan_addr	*v;
	size_t			 n, cap;
	int64_t			 now;
};

static int
trap_walk(const char *key, size_t keylen, const struct gd_rec *r,
    const char *why, void *arg)
{
	struct trapwalk *w = arg;
	char ip[ADDR_STRLEN];

	(void)why;
	if (r == NULL || r->kind != GD_TRAPPED || greylist_expired(r, w->now) ||
	    keylen >= sizeof(ip))
		return GREYDB_KEEP;
	if (w->n == w->cap) {
		size_t ncap = w->cap ? w->cap * 2 : 64;
		struct greyscan_addr *nv = reallocarray(w->v, ncap,
		    sizeof(*nv));

		if (nv == NULL)
			return GREYDB_STOP;
		w->v = nv;
		w->cap = ncap;
	}
	memcpy(ip, key, keylen);
	ip[keylen] = '\0';
	if (addr_parse(ip, &w->v[w->n].a) == 0)
		w->v[w->n++].expire = r->expire;
	return GREYDB_KEEP;
}

/*
 * Send the SMTP process the whole trap list, so that traps added or
 * removed with spamdb, or by another greylister, take effect; every -t
 * seconds, as OpenBSD's scanner does every minute.
 */
static void
send_traps(struct ev_timer *t)
{
	struct trapwalk w;
	struct greydb *db;
	static size_t last = (size_t)-1;

	(void)t;
	ev_timer_set(&traps_tm, ev_now() + (uint64_t)conf.trapscan * 1000,
	    send_traps);
	memset(&w, 0, sizeof(w));
	w.now = clock_now();
	if ((db = greydb_open(conf.dbpath, GREYDB_READ, GREY_LOCK_WAIT)) ==
	    NULL) {
		if (errno != ENOENT)
			log_warnx("cannot read the trap list: %s",
			    greydb_errstr());
		return;
	}
	if (greydb_walk(db, trap_walk, &w) == -1) {
		log_warnx("cannot read the trap list: %s", greydb_errstr());
		greydb_close(db);
		free(w.v);
		return;
	}
	greydb_close(db);
	send_bare(&smtp, PROTO_TRAP_SYNC_BEGIN);
	send_addrs(&smtp, PROTO_TRAP, w.v, w.n);
	send_bare(&smtp, PROTO_TRAP_SYNC_END);
	if (w.n != last)
		log_info("%zu trapped address%s", w.n, w.n == 1 ? "" : "es");
	last = w.n;
	free(w.v);
}

static void
smtp_msg(struct chan *c, const uint8_t *buf, size_t len)
{
	struct proto_tuple t;
	struct proto_entry e[PROTO_ENTRIES_MAX];
	char line[PROTO_LOG_MAX + 1];
	size_t n;
	int pri;

	(void)c;
	switch (proto_type(buf, len)) {
	case PROTO_LOG:
		if (proto_dec_log(buf, len, &pri, line, sizeof(line)) == -1)
			break;
		log_pri(pri, "smtp: %s", line);
		return;
	case PROTO_TUPLE:
		if (proto_dec_tuple(buf, len, &t) == -1)
			break;
		enqueue(&t);
		return;
	case PROTO_BLLISTED:
		if (proto_dec_entries(buf, len, e, PROTO_ENTRIES_MAX, &n) ==
		    -1)
			break;
		mark_listed(e, n);
		return;
	case PROTO_BLCHECK_END:
		if (rs.active)
			resync_finish(NULL);
		return;
	case PROTO_LISTS_CHANGED:
		/* spamd-setup sends one list per connection: coalesce. */
		ev_timer_set(&resync_tm, ev_now() + 1000, resync);
		return;
	}
	log_warnx("SMTP process sent a malformed message (%zu bytes)", len);
}

static void
nft_msg(struct chan *c, const uint8_t *buf, size_t len)
{
	(void)c;
	if (proto_type(buf, len) != PROTO_RESYNC) {
		log_warnx("nft helper sent a malformed message (%zu bytes)",
		    len);
		return;
	}
	/* Coalesce bursts of requests. */
	if (!ev_timer_armed(&resync_tm))
		ev_timer_set(&resync_tm, ev_now() + 100, resync);
}

/*
 * Commit everything queued before exiting, retrying a busy or broken
 * database until the drain deadline; say how much could not be kept.
 */
static __dead void
drain_and_exit(int code)
{
	uint64_t deadline = clock_mono_ms() + GREY_DRAIN_MAX;
	size_t before = queued;

	while (head != NULL && clock_mono_ms() < deadline) {
		flush(NULL);
		if (failing && head != NULL) {
			struct timespec ts = { 0, 200 * 1000000L };

			nanosleep(&ts, NULL);
		}
	}
	if (head != NULL)
		log_warnx("exiting with %zu tuple%s not recorded (database "
		    "unavailable: %s)", queued, queued == 1 ? "" : "s",
		    greydb_errstr());
	else if (before > 0)
		log_info("recorded the %zu queued tuple%s before exiting",
		    before, before == 1 ? "" : "s");
	if (gdb != NULL && greydb_close(gdb) == -1)
		log_warnx("%s", greydb_errstr());
	if (ev_timer_armed(&report_tm))
		report(NULL);		/* refusals not reported yet */
	chan_flush_blocking(&nft);
	exit(code);
}

/*
 * The SMTP process closes its end when it stops, after sending all it
 * had: every tuple is then in our queue, so commit and go. If the nft
 * helper (our parent) goes, the daemon is stopping too.
 */
static void
peer_closed(struct chan *c)
{
	log_debug("%s went away; exiting", c->name);
	drain_and_exit(c == &smtp ? 0 : 1);
}

static void
drain_timeout(struct ev_timer *t)
{
	(void)t;
	log_warnx("the SMTP process did not close its channel within %d s "
	    "of the stop; exiting", GREY_DRAIN_MAX / 1000);
	drain_and_exit(1);
}

/*
 * Stopping: do not exit yet. Tuples may still be in the socket or in
 * the SMTP process's queue; keep reading until that process closes the
 * channel (peer_closed), within GREY_DRAIN_MAX.
 */
static void
on_signal(int sig)
{
	static struct ev_timer drain_tm;

	log_debug("signal %d: draining the SMTP process's tuples", sig);
	if (!ev_timer_armed(&drain_tm))
		ev_timer_set(&drain_tm, ev_now() + GREY_DRAIN_MAX,
		    drain_timeout);
}

static int
load_walk(const char *key, size_t keylen, const struct gd_rec *r,
    const char *why, void *arg)
{
	(void)why;
	greyaddr_load_rec(key, keylen, r, *(const int64_t *)arg);
	return GREYDB_KEEP;
}

/* Count the live GREY tuples of every address, for --grey-max-tuples. */
static void
load_addrs(void)
{
	struct greyaddr_limits lim = {
		.max_live = conf.grey_max_tuples,
		.rate_n = conf.grey_rate_n,
		.rate_period = conf.grey_rate_period,
		.greyexp = conf.gl.greyexp,
	};
	struct greydb *db;
	int64_t now = clock_now();

	greyaddr_init(&lim);
	if ((db = greydb_open(conf.dbpath, GREYDB_READ, GREYDB_WAIT)) ==
	    NULL) {
		if (errno != ENOENT)
			log_warnx("cannot count the tuples per address (%s): "
			    "counting from now on", greydb_errstr());
		return;
	}
	if (greydb_walk(db, load_walk, &now) == -1)
		log_warnx("cannot count the tuples per address (%s): "
		    "counting from now on", greydb_errstr());
	greydb_close(db);
}

void
grey_main(int smtpfd, int nftfd)
{
	log_procname("grey");
	(void)prctl(PR_SET_NAME, "spamd-grey", 0, 0, 0);
	ev_init();
	if (chan_open(&smtp, smtpfd, "SMTP process", CHAN_MAXQ, smtp_msg,
	    peer_closed) == -1 ||
	    chan_open(&nft, nftfd, "nft helper", CHAN_MAXQ, nft_msg,
	    peer_closed) == -1)
		fatalx("cannot watch the channels");
	signal(SIGPIPE, SIG_IGN);
	ev_signal(SIGTERM, on_signal);
	ev_signal(SIGINT, on_signal);
	ev_signal(SIGHUP, on_signal);
	load_addrs();
	resync(NULL);
	send_traps(NULL);
	ev_run();
	drain_and_exit(0);
}
