/*
 * greyq.c: the greylister's queue and its decisions (greyq.h): tuples
 * queued, written in batches of one greydb transaction each (the fsync
 * of a commit is paid once for many tuples), retried with back-off when
 * the database refuses them, bounded per address and by --db-max-size.
 * A retry that passes creates the WHITE record, and the committed batch
 * hands its address to the effect callback in the same step (immediate
 * promotion); traps likewise.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/gdata.h"
#include "common/greydb.h"
#include "common/greylist.h"
#include "common/log.h"
#include "common/util.h"
#include "spamd/greyaddr.h"
#include "spamd/greyq.h"
#include "spamd/syncmsg.h"
#include "spamd/metrics.h"
#include "spamd/polreq.h"

struct item {
	struct item	*next;
	struct addr	 ip;
	uint32_t	 id;		/* a policy request's */
	uint8_t		 policy;	/* from policy mode (policy.c) */
	uint8_t		 lowmx;
	uint8_t		 netlisted;	/* its -g network holds listed hosts */
	uint8_t		 sync;		/* from a peer: SYNCMSG_GREY, ... */
	uint8_t		 out;		/* to the peers: SYNCMSG_GREY, ... */
	int64_t		 stamp, expire;	/* a synced entry's */
	int64_t		 seen;		/* arrival: the time it is decided at */
	uint8_t		 applied;	/* its writes outlived a failed commit */
	char		*helo, *from, *to;	/* point into data[] */
	char		 data[];
};

/* Side effects of a transaction, passed on only once it is committed. */
struct effects {
	struct proto_entry	*white, *trap;
	size_t			 nwhite, ntrap, capwhite, captrap;
	struct proto_verdict	*verd;		/* policy requests' answers */
	size_t			 nverd, capverd;
	int			 durable;	/* a pass or trap: fsync */
};

enum dbzone { DBZ_OK, DBZ_SOFT, DBZ_FULL };

struct greyq {
	struct greyq_conf	 c;
	struct item		*head, *tail;
	size_t			 queued;
	uint64_t		 due_ms;	/* next batch; CLOCK_NEVER if none */
	uint64_t		 report_ms;	/* next refusal report */
	uint64_t		 retry_ms;
	uint64_t		 commit_ms;	/* the last commit; 0 never */
	uint64_t		 sync_ms;	/* unsynced commits: fsync by;
						 * CLOCK_NEVER if none */
	size_t			 commit_n;	/* tuples it carried */
	int			 failing;
	struct log_ratelimit	 rl_drop;
	/*
	 * The writer handle is kept between transactions (greydb_commit
	 * and greydb_resume): GDBM's bucket cache then stays warm, which
	 * the bench found to be most of the greylister's cost per tuple.
	 * It is reopened whenever another process wrote in between.
	 */
	struct greydb		*gdb;
	/* db_max_size: what the files take, what the next batch may add. */
	struct {
		enum dbzone	 zone;
		int64_t		 total, db;	/* at the last look */
		int64_t		 per_tuple;	/* growth per new tuple */
		int64_t		 budget;	/* new tuples this batch; -1 */
		size_t		 nnew;		/* new tuples in this batch */
		size_t		 nitems;	/* tuples in this batch */
		int		 grew;		/* the last new ones grew it */
		uint64_t	 probe_ms;	/* full and growing: next probe */
		uint32_t	 heavy;		/* live tuples of a heavy address */
		int		 stat_failed;
	} dbs;
};

/*
 * A pass or a trap for the nft sets or the trap list. Whether or not it
 * fits in the list, the commit that stored it waits for the disk.
 */
static int
fx_add(struct effects *fx, int trap, const struct addr *a, int64_t expire,
    unsigned int plen)
{
	struct proto_entry **v = trap ? &fx->trap : &fx->white;
	size_t *n = trap ? &fx->ntrap : &fx->nwhite,
	    *cap = trap ? &fx->captrap : &fx->capwhite;

	fx->durable = 1;
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		struct proto_entry *nv = reallocarray(*v, ncap, sizeof(*nv));

		if (nv == NULL)
			return -1;
		*v = nv;
		*cap = ncap;
	}
	(*v)[*n].a = *a;
	(*v)[*n].plen = (uint8_t)plen;
	(*v)[(*n)++].expire = expire;
	return 0;
}

/*
 * Where a client's tuples and its pass are kept (spamd -g): its network,
 * when grouping is on for its family, else the address itself. The
 * network is also where it is whitelisted, unless the SMTP process found
 * listed addresses in it: then the address alone passes.
 */
struct where {
	char		 tkey[CIDR_STRLEN];	/* the tuple's client field */
	char		 wkey[CIDR_STRLEN];	/* the WHITE record's key */
	struct addr	 wa;			/* its nft element */
	unsigned int	 wplen;			/* 0: one address */
	int		 grouped;
};

static void
where_of(const struct greyq *q, const struct item *it, const char *ip,
    struct where *w)
{
	struct cidr c;

	w->grouped = cidr_of(&it->ip, q->c.group4, q->c.group6, &c);
	strlcpy(w->tkey, ip, sizeof(w->tkey));
	strlcpy(w->wkey, ip, sizeof(w->wkey));
	w->wa = it->ip;
	w->wplen = 0;
	if (!w->grouped)
		return;
	cidr_ntop(&c, w->tkey, sizeof(w->tkey));
	if (it->netlisted)
		return;
	strlcpy(w->wkey, w->tkey, sizeof(w->wkey));
	w->wa = c.a;
	w->wplen = c.plen;
}

/*
 * A policy request's answer. Out of memory it is lost: the SMTP process
 * answers DUNNO when the wait for it times out.
 */
static void
verdict_add(struct effects *fx, const struct item *it, enum polreq_verdict v,
    int64_t secs)
{
	struct proto_verdict *n;

	if (fx->nverd == fx->capverd) {
		size_t cap = fx->capverd ? fx->capverd * 2 : 16;

		if ((n = reallocarray(fx->verd, cap, sizeof(*n))) == NULL) {
			log_warnx("out of memory for a policy answer");
			return;
		}
		fx->verd = n;
		fx->capverd = cap;
	}
	fx->verd[fx->nverd].id = it->id;
	fx->verd[fx->nverd].v = (uint8_t)v;
	fx->verd[fx->nverd++].secs = secs;
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
report(struct greyq *q)
{
	size_t n;

	q->report_ms = CLOCK_NEVER;
	n = greyaddr_report(clock_now(), report_one, NULL);
	if (n > GREYADDR_REPORT_MAX)
		log_warnx("... and new tuples from %zu more address%s",
		    n - GREYADDR_REPORT_MAX,
		    n - GREYADDR_REPORT_MAX == 1 ? "" : "es");
}

static void
refuse(struct greyq *q, const struct addr *a, enum greyaddr_why why)
{
	METRIC_INC(grey.refused);
	greyaddr_refused(a, why);
	if (q->report_ms == CLOCK_NEVER)
		q->report_ms = clock_mono_ms() + GREYQ_REPORT_MS;
}

/* The files moved from zone `was' to `zone' of --db-max-size: say so. */
static void
log_zone(enum dbzone zone, enum dbzone was, const struct greydb_usage *u)
{
	char b[4][16];

	util_fmt_size(u->db + u->ckpt + u->journal, b[0], sizeof(b[0]));
	util_fmt_size(u->db, b[1], sizeof(b[1]));
	util_fmt_size(u->ckpt, b[2], sizeof(b[2]));
	util_fmt_size(u->journal, b[3], sizeof(b[3]));
	/*
	 * One commit may carry the files from under the soft bound past
	 * the hard one (a flood fills big batches): both lines, in order.
	 */
	if (zone != DBZ_OK && was == DBZ_OK)
		log_warnx("database files take %s (database %s, checkpoint "
		    "%s, journal %s), over %d%% of --db-max-size: refusing "
		    "new tuples from the addresses that hold the most", b[0],
		    b[1], b[2], b[3], GREYQ_SOFT_PCT);
	if (zone == DBZ_FULL)
		log_warnx("database files take %s (database %s, checkpoint "
		    "%s, journal %s), at the --db-max-size bound: refusing "
		    "new tuples; WHITE entries and known tuples are still "
		    "recorded", b[0], b[1], b[2], b[3]);
	else if (zone == DBZ_OK || was == DBZ_FULL)
		log_warnx("database files take %s, under %d%% of "
		    "--db-max-size again: accepting %s new tuples", b[0],
		    zone == DBZ_OK ? GREYQ_SOFT_PCT : GREYQ_FULL_PCT,
		    zone == DBZ_OK ? "all" : "more");
}

/*
 * At the bound: GDBM files never shrink, but after the cron job expires
 * records, new ones reuse the space. A few new tuples show whether they
 * still grow the file; while they do, one probe per GREYQ_PROBE_MS.
 */
static void
probe(struct greyq *q)
{
	uint64_t now = clock_mono_ms();

	if (!q->dbs.grew)
		q->dbs.budget = GREYQ_PROBE_MAX;
	else if (now >= q->dbs.probe_ms) {
		q->dbs.budget = 1;
		q->dbs.probe_ms = now + GREYQ_PROBE_MS;
	} else if (q->dbs.budget > GREYQ_PROBE_MAX)
		q->dbs.budget = GREYQ_PROBE_MAX;
}

/*
 * Look at the files before a batch: which zone of --db-max-size they are
 * in, and how many new tuples the batch may add without crossing it.
 */
static void
dbsize_update(struct greyq *q)
{
	struct greydb_usage u;
	int64_t total, room, soft, full, lim = q->c.db_max_size;
	enum dbzone zone;

	q->dbs.budget = -1;
	if (lim == 0)
		return;
	if (greydb_disk_usage(q->c.dbpath, &u) == -1) {
		if (!q->dbs.stat_failed)
			log_warnx("cannot size the database (%s): "
			    "--db-max-size not enforced", greydb_errstr());
		q->dbs.stat_failed = 1;
		return;
	}
	q->dbs.stat_failed = 0;
	total = u.db + u.ckpt + u.journal;
	if (q->dbs.nnew > 0) {
		/*
		 * What the last batch's new tuples cost, journal included,
		 * when they were most of it (known tuples add journal only);
		 * smoothed, so one bucket split or a checkpoint does not stick.
		 */
		if (total > q->dbs.total && q->dbs.nnew * 2 >= q->dbs.nitems) {
			int64_t per = (total - q->dbs.total) / (int64_t)q->dbs.nnew;

			q->dbs.per_tuple = (q->dbs.per_tuple + per) / 2;
			if (q->dbs.per_tuple < GREYQ_TUPLE_BYTES)
				q->dbs.per_tuple = GREYQ_TUPLE_BYTES;
		}
		q->dbs.grew = u.db > q->dbs.db;
	}
	q->dbs.nnew = q->dbs.nitems = 0;
	q->dbs.total = total;
	q->dbs.db = u.db;
	room = lim - total;
	soft = lim / 100 * GREYQ_SOFT_PCT;
	full = lim / 100 * GREYQ_FULL_PCT;
	zone = total >= full ? DBZ_FULL : total >= soft ? DBZ_SOFT : DBZ_OK;
	if (zone != q->dbs.zone) {
		log_zone(zone, q->dbs.zone, &u);
		q->dbs.zone = zone;
	}
	if (zone != DBZ_OK)
		q->dbs.heavy = greyaddr_heaviest(clock_now()) / 2 + 1;
	/* Never let one batch's new tuples cross the bound. */
	q->dbs.budget = room > 0 ? room / q->dbs.per_tuple : 0;
	if (zone == DBZ_FULL)
		probe(q);
}

/* May this address record one more new tuple? */
static enum greyaddr_why
limit_new(struct greyq *q, const struct addr *a, int64_t now)
{
	if (q->dbs.budget >= 0) {
		if ((int64_t)q->dbs.nnew >= q->dbs.budget)
			return GREYADDR_DBFULL;
		if (q->dbs.zone != DBZ_OK && greyaddr_live(a, now) >= q->dbs.heavy)
			return GREYADDR_DBFULL;
	}
	return greyaddr_new_ok(a, now, clock_mono_ms());
}

/* A write the database refused: the item stays queued. */
static int
put_failed(struct greyq *q)
{
	if (!q->failing)
		log_warnx("cannot record tuples: %s", greydb_errstr());
	return -1;
}

/* A tuple that trapped its client: the address becomes TRAPPED. */
static int
apply_trap(struct greyq *q, struct greydb *db, struct item *it,
    const char *ip, struct gd_rec *ir, int ifound, int64_t now,
    struct effects *fx)
{
	greylist_trap(ir, ifound, now, q->c.gl);
	if (greydb_put(db, ip, strlen(ip), ir) == -1)
		return -1;
	METRIC_INC(grey.traps);
	log_info("Trapping %s for tuple %s %s %s", ip, it->helo,
	    it->from, it->to);
	it->out = SYNCMSG_TRAPPED;
	it->expire = ir->expire;
	if (fx_add(fx, 1, &it->ip,
	    ir->expire, 0) == -1)
		log_warnx("%s: out of memory for the trap list", ip);
	return 0;
}

/* "192.0.2.0/24 (192.0.2.10)" for a network, or the address. */
static const char *
white_name(const struct where *w, const char *ip, char *buf, size_t len)
{
	if (w->wplen == 0)
		return ip;
	(void)snprintf(buf, len, "%s (%s)", w->wkey, ip);
	return buf;
}

/*
 * After a tuple was recorded: push a WHITE address (or network) that
 * still comes to us to the nft set again, or whitelist the address (or,
 * with -g, its network) of a tuple that passed, unless the address is
 * TRAPPED. ir is the address's own record, wr the WHITE key's (the
 * same record without -g).
 */
static int
apply_white(struct greyq *q, struct greydb *db, const char *ip,
    const struct where *w, const struct gd_rec *tr,
    const struct gd_rec *ir, int ifound, struct gd_rec *wr, int wfound,
    int passed, int64_t now, struct effects *fx)
{
	char name[2 * CIDR_STRLEN + 4];

	if (wfound && wr->kind == GD_WHITE && !greylist_expired(wr, now)) {
		/*
		 * WHITE, yet it came to us: the set may lack it, so push it
		 * again (the nft helper refreshes it either way). A host
		 * that passed moments ago is no news: the other recipients
		 * of the session that passed (or sessions opened before its
		 * element was added) come here too.
		 */
		if (now - wr->pass > GREYQ_SESSION_MAX)
			log_info("%s: WHITE but not in the nft set, adding "
			    "it again", white_name(w, ip, name, sizeof(name)));
		else
			log_debug("%s: whitelisted %lld s ago, still coming "
			    "to us", white_name(w, ip, name, sizeof(name)),
			    (long long)(now - wr->pass));
		fx_add(fx, 0, &w->wa,
		    wr->expire, w->wplen);
	} else if (passed) {
		if (ifound && ir->kind == GD_TRAPPED &&
		    !greylist_expired(ir, now)) {
			log_info("%s: passed, but TRAPPED: not whitelisting",
			    ip);
			return 0;
		}
		greylist_white_from_tuple(wr, tr, now, q->c.gl);
		if (greydb_put(db, w->wkey, strlen(w->wkey), wr) == -1)
			return -1;
		METRIC_INC(grey.passes);
		METRIC_INC(grey.white_adds[0]);
		metrics_delay(now - tr->first);
		if (w->wplen != 0)
			log_info("whitelisting %s (network of %s, -g)",
			    w->wkey, ip);
		else if (w->grouped)
			log_info("whitelisting %s (not its network %s, which "
			    "holds listed addresses)", ip, w->tkey);
		else
			log_info("whitelisting %s", ip);
		fx_add(fx, 0, &w->wa,
		    wr->expire, w->wplen);
	}
	return 0;
}

/* A new tuple was written: the metric, its address's count, the batch's. */
static void
new_counted(struct greyq *q, const struct item *it, const struct gd_rec *tr)
{
	METRIC_INC(grey.new_tuples);
	greyaddr_added(&it->ip, tr->expire);
	q->dbs.nnew++;
}

/*
 * Record a sighting of the tuple (key, tr as found); 1 if it passed, 0 if
 * not, -1 if the database refused the write (put_failed).
 */
static int
record(struct greyq *q, struct greydb *db, struct item *it,
    const char *key, int klen, struct gd_rec *tr, int found, int isnew,
    int64_t now)
{
	int passed;

	/*
	 * A commit failed after this sighting was written, and the write
	 * stayed (the file and the journal keep it): counting it again
	 * would make one attempt look like a retry.
	 */
	if (it->applied && found && !isnew) {
		it->out = SYNCMSG_GREY;
		return greylist_passed(tr, now);
	}
	passed = greylist_tuple(tr, found, now, q->c.gl);
	/*
	 * A new tuple from one of our peers (the extension) keeps the
	 * peer's first sighting, so that every host counts passtime from
	 * the same moment (OpenBSD peers' tuples start on our clock).
	 */
	if (isnew && it->sync == SYNCMSG_GREY && it->stamp > 0 &&
	    it->stamp < now) {
		tr->first = it->stamp;
		tr->pass = tr->expire = it->stamp + q->c.gl->greyexp;
	}
	if (greydb_put(db, key, (size_t)klen, tr) == -1)
		return put_failed(q);
	it->out = SYNCMSG_GREY;
	if (isnew)
		new_counted(q, it, tr);
	return passed;
}

/* The WHITE key's record: the address's own without -g. */
static int
get_white(struct greydb *db, const struct where *w, const char *ip,
    const struct gd_rec *ir, int ifound, struct gd_rec *wr)
{
	if (strcmp(w->wkey, ip) == 0) {
		*wr = *ir;
		return ifound;
	}
	return greydb_get(db, w->wkey, strlen(w->wkey), wr) == GREYDB_OK;
}

/*
 * A policy request's tuple (policy mode, where Postfix asks): the same
 * records as a redirected client's, in an order fit for a front end that
 * accepts the passing attempt. A WHITE client (or network, -g) is
 * answered at once (its expiry refreshed, as spamlogd would: policy
 * mode sees its traffic itself), before any trap check, as in redirect
 * mode, where a WHITE host never reaches spamd; a TRAPPED one is
 * refused; a spamtrap recipient traps; then the tuple is recorded, and a
 * pass whitelists the address or network (also in the nft sets, when
 * they exist).
 */
static int
apply_policy(struct greyq *q, struct greydb *db, struct item *it,
    const char *ip, const struct where *w, const char *key, int klen,
    int64_t now, struct effects *fx)
{
	struct gd_rec tr, ir, wr;
	enum greyaddr_why why;
	int found, ifound, wfound, passed, isnew;
	const char *wk = ip;

	ifound = greydb_get(db, ip, strlen(ip), &ir) == GREYDB_OK;
	wr = ir;
	wfound = ifound;
	if (!(wfound && wr.kind == GD_WHITE) && w->grouped) {
		/* Its network may have passed (even if w says it may not
		 * any more: that is for new passes). */
		wk = w->tkey;
		wfound = greydb_get(db, wk, strlen(wk), &wr) == GREYDB_OK;
	}
	if (wfound && wr.kind == GD_WHITE && !greylist_expired(&wr, now)) {
		greylist_refresh(&wr, 1, now, q->c.gl->whiteexp);
		if (greydb_put(db, wk, strlen(wk), &wr) == -1)
			return put_failed(q);
		verdict_add(fx, it, POLREQ_V_DUNNO, 0);
		return 0;
	}
	if (ifound && ir.kind == GD_TRAPPED && !greylist_expired(&ir, now)) {
		verdict_add(fx, it, POLREQ_V_TRAP, 0);
		return 0;
	}
	if (q->c.is_trap != NULL && q->c.is_trap(db, it->to)) {
		if (apply_trap(q, db, it, ip, &ir, ifound, now, fx) == -1)
			return put_failed(q);
		verdict_add(fx, it, POLREQ_V_TRAP, 0);
		return 0;
	}
	found = greydb_get(db, key, (size_t)klen, &tr) == GREYDB_OK;
	isnew = !found || tr.kind != GD_GREY || tr.expire <= now;
	if (isnew && (why = limit_new(q, &it->ip, now)) != GREYADDR_OK) {
		refuse(q, &it->ip, why);
		verdict_add(fx, it, POLREQ_V_BUSY, 0);
		return 0;
	}
	if ((passed = record(q, db, it, key, klen, &tr, found, isnew,
	    now)) == -1)
		return -1;
	if (isnew)
		log_verbose("new policy tuple %s %s %s %s", w->tkey, it->helo,
		    it->from, it->to);
	if (!passed) {
		verdict_add(fx, it, POLREQ_V_DEFER,
		    tr.first + q->c.gl->passtime + 1 - now);
		return 0;
	}
	wfound = get_white(db, w, ip, &ir, ifound, &wr);
	greylist_white_from_tuple(&wr, &tr, now, q->c.gl);
	if (greydb_put(db, w->wkey, strlen(w->wkey), &wr) == -1)
		return put_failed(q);
	METRIC_INC(grey.passes);
	METRIC_INC(grey.white_adds[1]);
	metrics_delay(now - tr.first);
	log_info("whitelisting %s%s%s (policy request, delayed %lld s)",
	    w->wkey, w->wplen != 0 ? ", network of " : "",
	    w->wplen != 0 ? ip : "", (long long)(now - tr.first));
	fx_add(fx, 0, &w->wa, wr.expire,
	    w->wplen);
	verdict_add(fx, it, POLREQ_V_PASS, now - tr.first);
	return 0;
}

/*
 * A WHITE or TRAPPED entry from a sync peer, as OpenBSD applies them: only
 * if its expiry is ahead; a new WHITE record starts now with that expiry,
 * an existing one counts a pass and keeps its expiry (a TRAPPED one stays
 * TRAPPED); TRAPPED traps (an existing trap counts a hit). Networks (-g)
 * are not synced: each host derives them from the tuples.
 */
static int
apply_synced_addr(struct greyq *q, struct greydb *db, struct item *it,
    const char *ip, int64_t now, struct effects *fx)
{
	struct gd_rec r;
	int found;

	if (it->expire <= now)
		return 0;
	found = greydb_get(db, ip, strlen(ip), &r) == GREYDB_OK &&
	    !greylist_expired(&r, now);
	if (it->sync == SYNCMSG_TRAPPED) {
		if (found && r.kind == GD_TRAPPED) {
			if (r.bcount < UINT32_MAX)
				r.bcount++;
		} else {
			memset(&r, 0, sizeof(r));
			r.kind = GD_TRAPPED;
			r.first = r.pass = now;
			r.bcount = 1;
			r.expire = it->expire;
		}
		if (greydb_put(db, ip, strlen(ip), &r) == -1)
			return put_failed(q);
		log_info("%s trapped by a sync peer", ip);
		if (fx_add(fx, 1, &it->ip,
		    r.expire, 0) == -1)
			log_warnx("%s: out of memory for the trap list", ip);
		return 0;
	}
	if (found && r.kind == GD_TRAPPED)
		return 0;
	if (found && r.kind == GD_WHITE) {
		if (r.pcount < UINT32_MAX)
			r.pcount++;
	} else {
		memset(&r, 0, sizeof(r));
		r.kind = GD_WHITE;
		r.first = r.pass = now;
		r.bcount = 1;
		r.expire = it->expire;
		log_info("whitelisting %s (from a sync peer)", ip);
	}
	if (greydb_put(db, ip, strlen(ip), &r) == -1)
		return put_failed(q);
	fx_add(fx, 0, &it->ip, r.expire, 0);
	return 0;
}

/*
 * A catch-up GREY (a restarted host is sent the live tuples it missed):
 * it creates a missing tuple with the peer's first sighting, and changes
 * nothing else; it is no retry.
 */
static int
catch_up(struct greyq *q, struct greydb *db, struct item *it,
    const char *key, int klen, struct gd_rec *tr, int found, int64_t now)
{
	if (found && tr->kind == GD_GREY && tr->expire > now)
		return 0;
	if (it->stamp + q->c.gl->greyexp <= now)
		return 0;
	memset(tr, 0, sizeof(*tr));
	tr->kind = GD_GREY;
	tr->first = it->stamp;
	tr->bcount = 1;
	tr->pass = tr->expire = it->stamp + q->c.gl->greyexp;
	if (greydb_put(db, key, (size_t)klen, tr) == -1)
		return put_failed(q);
	new_counted(q, it, tr);
	return 0;
}

/*
 * Record one tuple. Returns -1 if the database refused a write, leaving
 * the item for a later attempt.
 */
static int
apply(struct greyq *q, struct greydb *db, struct item *it, int64_t now,
    struct effects *fx)
{
	char key[GD_KEY_MAX], ip[ADDR_STRLEN];
	struct gd_tuple t;
	struct gd_rec tr, ir, wr;
	struct where w;
	enum greyaddr_why why;
	int klen, found, ifound, wfound, trapped, passed, isnew;

	addr_ntop(&it->ip, ip, sizeof(ip));
	if (it->sync == SYNCMSG_WHITE || it->sync == SYNCMSG_TRAPPED)
		return apply_synced_addr(q, db, it, ip, now, fx);
	where_of(q, it, ip, &w);
	/* -g: the network, without the HELO (each pool host has its own). */
	t.ip = w.tkey;
	t.helo = w.grouped ? "" : it->helo;
	t.from = it->from;
	t.to = it->to;
	if ((klen = gd_key_tuple(key, sizeof(key), &t)) == -1) {
		log_warnx("%s: unusable tuple, not recorded", ip);
		if (it->policy)
			verdict_add(fx, it, POLREQ_V_DUNNO, 0);
		return 0;
	}
	if (it->policy)
		return apply_policy(q, db, it, ip, &w, key, klen, now, fx);
	found = greydb_get(db, key, (size_t)klen, &tr) == GREYDB_OK;
	if (it->sync == SYNCMSG_GREY && it->stamp != 0 &&
	    it->stamp < now - GREYQ_SYNC_LIVE)
		return catch_up(q, db, it, key, klen, &tr, found, now);
	trapped = q->c.is_trap != NULL && q->c.is_trap(db, it->to);
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
		return apply_trap(q, db, it, ip, &ir, ifound, now, fx) ==
		    -1 ? put_failed(q) : 0;
	wfound = found && get_white(db, &w, ip, &ir, ifound, &wr);
	isnew = !found || tr.kind != GD_GREY || tr.expire <= now;
	if (isnew && (why = limit_new(q, &it->ip, now)) != GREYADDR_OK) {
		/* A WHITE host coming to us is still pushed to the set. */
		if (!wfound)
			wfound = get_white(db, &w, ip, &ir, ifound, &wr);
		if (!wfound || wr.kind != GD_WHITE ||
		    greylist_expired(&wr, now)) {
			refuse(q, &it->ip, why);
			return 0;
		}
	}
	if ((passed = record(q, db, it, key, klen, &tr, found, isnew,
	    now)) == -1)
		return -1;
	if (!found)
		log_verbose("new tuple %s %s %s %s", w.tkey, t.helo, it->from,
		    it->to);
	else if (!passed)
		log_verbose("tuple %s %s %s %s seen %u times, passes in %lld s",
		    w.tkey, t.helo, it->from, it->to, tr.bcount,
		    (long long)(tr.first + q->c.gl->passtime + 1 - now));
	if (apply_white(q, db, ip, &w, &tr, &ir, ifound, &wr, wfound, passed,
	    now, fx) == -1)
		return put_failed(q);
	return 0;
}

/* Make a batch due within delay ms (never later than it already is). */
static void
schedule(struct greyq *q, uint64_t delay)
{
	uint64_t when = clock_mono_ms() + delay;

	if (q->due_ms > when)
		q->due_ms = when;
}

static void
backoff(struct greyq *q, const char *why)
{
	if (!q->failing)
		log_warnx("database unavailable (%s); %zu tuple%s queued, "
		    "retrying", why, q->queued, q->queued == 1 ? "" : "s");
	q->failing = 1;
	schedule(q, q->retry_ms);
	if ((q->retry_ms *= 2) > q->c.retry_max_ms)
		q->retry_ms = q->c.retry_max_ms;
}

/* Open the writer, or take the kept one up again: 0, or -1 backed off. */
static int
writer(struct greyq *q)
{
	if (q->gdb == NULL)
		q->gdb = greydb_open(q->c.dbpath, GREYDB_WRITE,
		    q->c.lock_wait_ms);
	else if (greydb_resume(q->gdb, q->c.lock_wait_ms) == -1) {
		backoff(q, greydb_errstr());
		return -1;
	}
	if (q->gdb == NULL) {
		backoff(q, greydb_errstr());
		return -1;
	}
	return 0;
}

/*
 * A write or the commit failed: close, which syncs what was stored, and
 * start afresh next time. 1 if what was stored is durable.
 */
static int
abandon(struct greyq *q, int bad)
{
	int synced;

	if (!bad)
		log_warnx("%s", greydb_errstr());
	synced = greydb_close(q->gdb) == 0;
	if (!synced)
		log_warnx("%s", greydb_errstr());
	q->gdb = NULL;
	q->sync_ms = CLOCK_NEVER;	/* the close synced, or said why not */
	return synced;
}

/* The first n tuples are stored: let them go. */
static void
dequeue(struct greyq *q, size_t n)
{
	struct item *it;

	while (n-- > 0) {
		it = q->head;
		q->head = it->next;
		if (q->head == NULL)
			q->tail = NULL;
		q->queued--;
		METRIC_SET(grey.queued, q->queued);
		greyaddr_queue_del(&it->ip);
		free(it);
	}
}

/* Tell the sync peers what the first n items did; never what a peer said. */
static void
sync_out(struct greyq *q, size_t n)
{
	struct item *it;
	size_t i;

	for (it = q->head, i = 0; it != NULL && i < n; it = it->next, i++) {
		if (it->sync != 0 || it->out == 0)
			continue;
		q->c.sync_out(q->c.arg, it->out, &it->ip, it->helo, it->from,
		    it->to, it->out == SYNCMSG_TRAPPED ? it->expire : 0);
	}
}

static void
flush(struct greyq *q)
{
	struct effects fx;
	struct item *it;
	size_t done = 0;
	int bad = 0, synced, how;
	size_t i;

	if (q->head == NULL || writer(q) == -1)
		return;
	memset(&fx, 0, sizeof(fx));
	dbsize_update(q);
	for (it = q->head; it != NULL && done < q->c.txn_max; it = it->next) {
		/* Decided as of its arrival: a tuple and its retry that
		 * waited together (a locked or failing database) are still
		 * passtime apart, and a batch tried again is not later. */
		if (apply(q, q->gdb, it, it->seen, &fx) == -1) {
			bad = 1;
			break;
		}
		done++;
	}
	/*
	 * A pass (the nft sets, a policy "pass") and a trap wait for the
	 * disk (the journal's, at least) before they go out. New and
	 * counted tuples, and the policy answers about them, are in the
	 * file for every reader at once, and on the disk within sync_gap_ms:
	 * a crash of the machine loses at most that much greylisting (the
	 * senders retry and are deferred once more, the answer they had
	 * said no more); a crash of the process loses nothing (the page
	 * cache and the journal hold it). The fsync of random bucket pages
	 * was most of the greylister's CPU per first contact, and each
	 * policy answer waited for one. A pass or a trap is durable
	 * once the journal is on the disk (greydb_commit says when);
	 * the database's own fsync follows within sync_gap_ms, as for
	 * the rest.
	 */
	if (q->c.sync_gap_ms == 0 || q->sync_ms <= clock_mono_ms())
		how = GREYDB_FSYNC;
	else
		how = fx.durable ? GREYDB_DURABLE : GREYDB_LAZY;
	if (!bad && greydb_commit(q->gdb, how) == 0) {
		synced = 1;
		METRIC_INC(grey.commits);
		q->commit_ms = clock_mono_ms();
		q->commit_n = done;
		if (!greydb_unsynced(q->gdb))
			q->sync_ms = CLOCK_NEVER;
		else if (q->sync_ms == CLOCK_NEVER)
			q->sync_ms = q->commit_ms + q->c.sync_gap_ms;
	} else {
		synced = abandon(q, bad);
		bad = 1;
		METRIC_INC(grey.commit_failures);
	}
	q->dbs.nitems = done;
	if (synced && q->c.sync_out != NULL)
		sync_out(q, done);
	if (!synced)	/* kept for a retry; what was applied is written */
		for (it = q->head, i = 0; it != NULL && i < done;
		    it = it->next, i++)
			it->applied = 1;
	dequeue(q, synced ? done : 0);	/* else keep the batch for a retry */
	if (synced && q->c.effect != NULL) {
		/* What was stored is durable: its effects may go out,
		 * once per address (a session's recipients pass together). */
		fx.nwhite = proto_entries_uniq(fx.white, fx.nwhite);
		if (fx.nwhite > 0)
			q->c.effect(q->c.arg, GREYQ_WHITE, fx.white, fx.nwhite);
		if (fx.ntrap > 0)
			q->c.effect(q->c.arg, GREYQ_TRAP, fx.trap, fx.ntrap);
	}
	if (synced && fx.nverd > 0 && q->c.verdict != NULL)
		q->c.verdict(q->c.arg, fx.verd, fx.nverd);
	if (!bad) {
		if (q->failing)
			log_warnx("database available again; %zu tuple%s "
			    "still queued", q->queued, q->queued == 1 ? "" :
			    "s");
		q->failing = 0;
		q->retry_ms = q->c.retry_min_ms;
		if (q->head != NULL)
			schedule(q, 0);
	} else
		backoff(q, greydb_errstr());
	free(fx.white);
	free(fx.trap);
	free(fx.verd);
}

struct greyq *
greyq_new(const struct greyq_conf *c)
{
	struct greyq *q;

	if ((q = calloc(1, sizeof(*q))) == NULL)
		return NULL;
	q->c = *c;
	if (q->c.queue_max == 0)
		q->c.queue_max = GREYQ_QUEUE_MAX;
	if (q->c.txn_max == 0)
		q->c.txn_max = GREYQ_TXN_MAX;
	if (q->c.retry_min_ms == 0)
		q->c.retry_min_ms = GREYQ_RETRY_MIN;
	if (q->c.retry_max_ms == 0)
		q->c.retry_max_ms = GREYQ_RETRY_MAX;
	if (q->c.busy_batch == 0)
		q->c.busy_batch = GREYQ_BUSY_BATCH;
	q->due_ms = q->report_ms = q->sync_ms = CLOCK_NEVER;
	q->retry_ms = q->c.retry_min_ms;
	q->dbs.budget = -1;
	q->dbs.per_tuple = GREYQ_TUPLE_BYTES;
	return q;
}

/*
 * How long a new tuple waits: the rest of commit_min_ms since the last
 * commit if that carried more than one tuple (a steady stream: it then
 * shares each commit, however quick the msync; a lone tuple after a
 * lone one is not held up), or of commit_gap_ms under load (the last
 * commit was big); nothing when a full transaction is waiting.
 */
static uint64_t
gap_left(const struct greyq *q)
{
	uint64_t now = clock_mono_ms(), gap = q->c.commit_min_ms, end;

	if (q->commit_ms == 0 || q->queued >= q->c.txn_max ||
	    (q->commit_n < 2 && q->commit_n < q->c.busy_batch))
		return 0;
	if (q->commit_n >= q->c.busy_batch && q->c.commit_gap_ms > gap)
		gap = q->c.commit_gap_ms;
	end = q->commit_ms + gap;
	return end <= now ? 0 : end - now;
}

/* One address's part of a half-full queue. */
static uint32_t
share(const struct greyq *q)
{
	size_t n = q->c.queue_max / 64;

	return n > 0 ? (uint32_t)n : 1;
}

/* A policy tuple the queue refused is answered at once: try later. */
static void
busy(struct greyq *q, const struct proto_tuple *t)
{
	struct proto_verdict v;

	if (!t->policy || q->c.verdict == NULL)
		return;
	v.id = t->id;
	v.v = POLREQ_V_BUSY;
	v.secs = 0;
	q->c.verdict(q->c.arg, &v, 1);
}

int
greyq_add(struct greyq *q, const struct proto_tuple *t)
{
	size_t lh = strlen(t->helo) + 1, lf = strlen(t->from) + 1,
	    lt = strlen(t->to) + 1;
	struct item *it;
	unsigned long n;

	/* Once half the queue is used, an address gets its share only:
	 * the other half stays for the others. */
	if (!greyaddr_queue_add(&t->ip, q->queued < q->c.queue_max / 2 ?
	    UINT32_MAX : share(q))) {
		refuse(q, &t->ip, GREYADDR_QUEUE);
		busy(q, t);
		return -1;
	}
	if (q->queued >= q->c.queue_max ||
	    (it = malloc(sizeof(*it) + lh + lf + lt)) == NULL) {
		greyaddr_queue_del(&t->ip);
		METRIC_INC(grey.drops);
		if ((n = log_ratelimit(&q->rl_drop, 10)) != 0)
			log_warnx("%zu tuples waiting for the database: "
			    "dropped %lu new one%s", q->queued, n,
			    n == 1 ? "" : "s");
		busy(q, t);
		return -1;
	}
	it->next = NULL;
	it->ip = t->ip;
	it->id = t->id;
	it->policy = t->policy;
	it->lowmx = t->lowmx;
	it->netlisted = t->netlisted;
	it->sync = t->sync;
	it->out = 0;
	it->stamp = t->stamp;
	it->expire = t->expire;
	it->seen = clock_now();
	it->applied = 0;
	it->helo = it->data;
	it->from = it->helo + lh;
	it->to = it->from + lf;
	memcpy(it->helo, t->helo, lh);
	memcpy(it->from, t->from, lf);
	memcpy(it->to, t->to, lt);
	if (q->tail != NULL)
		q->tail->next = it;
	else
		q->head = it;
	q->tail = it;
	q->queued++;
	METRIC_SET(grey.queued, q->queued);
	/*
	 * A policy request waits for its answer, so no gap: it is due at
	 * once and commits with whatever queued meanwhile (group commit:
	 * under load each commit carries what arrived during the last).
	 */
	if (!q->failing)
		schedule(q, t->policy ? 0 : gap_left(q));
	return 0;
}

int64_t
greyq_timeout(const struct greyq *q)
{
	uint64_t t = q->due_ms < q->report_ms ? q->due_ms : q->report_ms;

	return clock_ms_until(q->sync_ms < t ? q->sync_ms : t);
}

/* The unsynced commits' time is up: fsync, no lock needed. */
static void
sync_due(struct greyq *q)
{
	q->sync_ms = CLOCK_NEVER;
	if (q->gdb != NULL && greydb_sync(q->gdb) == -1)
		log_warnx("%s: the tuples of the last %llu ms may not be on "
		    "the disk", greydb_errstr(),
		    (unsigned long long)q->c.sync_gap_ms);
}

void
greyq_run(struct greyq *q, int force)
{
	uint64_t now = clock_mono_ms();

	if (q->due_ms <= now || (force && q->head != NULL)) {
		q->due_ms = CLOCK_NEVER;
		flush(q);
	}
	if (q->sync_ms <= now || (force && q->sync_ms != CLOCK_NEVER))
		sync_due(q);
	if (q->report_ms <= now || (force && q->report_ms != CLOCK_NEVER))
		report(q);
}

size_t
greyq_queued(const struct greyq *q)
{
	return q->queued;
}

int
greyq_failing(const struct greyq *q)
{
	return q->failing;
}

int
greyq_unsynced(const struct greyq *q)
{
	return q->gdb != NULL && greydb_unsynced(q->gdb);
}

void
greyq_free(struct greyq *q)
{
	if (q == NULL)
		return;
	if (q->report_ms != CLOCK_NEVER)
		report(q);		/* refusals not reported yet */
	if (q->gdb != NULL && greydb_close(q->gdb) == -1)
		log_warnx("%s", greydb_errstr());
	dequeue(q, q->queued);
	free(q);
}
