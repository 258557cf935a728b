/*
 * grey.c: the greylister process. It owns the database writes of spamd:
 * tuples arrive from the SMTP process and go into the queue of greyq.c,
 * which writes them in batches and decides what passes, what traps and
 * what is refused; this file carries its effects out (passed addresses to
 * the nft helper at once, traps to the SMTP process), runs its timer,
 * resyncs the whole whitelist and trap list, and drains the queue on the
 * way out.
 *
 *	grey_main(smtpfd, nftfd)	never returns
 *	grey_load_alloweddomains(path)	read the recipient domain suffixes
 *		(as root, before the privilege drop)
 *	grey_trapcheck(db, to)		1 if a RCPT value is a trap
 *
 * Nothing is lost to a busy or broken database (greyq.c keeps and retries
 * its batches), nor to a stop: on SIGTERM the process keeps reading until
 * the SMTP process has closed its channel, then commits the queue, for
 * GREY_DRAIN_MAX at the most, and says how much could not be kept.
 */
#include <sys/epoll.h>
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
#include "spamd/greyq.h"
#include "spamd/sync.h"
#include "spamd/metrics.h"
#include "spamd/proto.h"
#include "spamd/spamd.h"

#define CHAN_MAXQ	(256u * 1024 * 1024)
#define GREY_DRAIN_MAX	20000		/* ms to commit the backlog when stopping */
#define GREY_READ_PAUSE	2		/* ms: under load, read tuples this often */
#define GREY_READ_AHEAD	1		/* ms: read them this long before a commit */

static struct chan	 smtp, nft;
static struct greyq	*gq;
static struct ev_timer	 gq_tm, resync_tm, traps_tm, read_tm;
static char		**allowed;
static size_t		 nallowed;

/*
 * The SPAMTRAP records, as the last walk of the database counted them,
 * and the lock file's spamtrap generation then (greydb_trapgen). While
 * none was counted and the generation has not moved (nobody stored one
 * since: spamdb -T -a bumps it before its store), no recipient can be a
 * spamtrap and grey_trapcheck skips the lookup, a third of a first
 * contact's database work. Any walk of the whole database refreshes it.
 */
static struct {
	int		known;
	uint64_t	gen;
	size_t		n;
} spamtraps;

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

void
grey_spamtraps_counted(uint64_t gen, size_t n)
{
	spamtraps.known = 1;
	spamtraps.gen = gen;
	spamtraps.n = n;
}

/* 1 if db cannot hold a SPAMTRAP record: no lookup needed. */
static int
no_spamtraps(const struct greydb *db)
{
	return spamtraps.known && spamtraps.n == 0 &&
	    greydb_trapgen(db) == spamtraps.gen;
}

int
grey_trapcheck(struct greydb *db, const char *to)
{
	char addr[GD_FIELD_MAX + 1];
	struct gd_rec r;
	size_t n, i;

	if (nallowed == 0 && no_spamtraps(db))
		return 0;
	n = rcpt_canon(to, addr, sizeof(addr));
	if (nallowed > 0) {
		for (i = 0; i < nallowed; i++) {
			size_t m = strlen(allowed[i]);

			if (m <= n && strcmp(addr + n - m, allowed[i]) == 0)
				break;
		}
		if (i == nallowed)
			return 1;
		if (no_spamtraps(db))
			return 0;
	}
	return n > 0 && greydb_get(db, addr, n, &r) == GREYDB_OK &&
	    r.kind == GD_SPAMTRAP;
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
			e[i].plen = v[i].plen;
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
	const struct greyscan_addr *x = a, *y = b;
	int c = addr_cmp(&x->a, &y->a);

	return c != 0 ? c : (int)x->plen - (int)y->plen;
}

/* The record key of a whitelist entry: an address, or a network. */
static const char *
gaddr_key(const struct greyscan_addr *g, char *buf, size_t len)
{
	struct cidr c;

	if (g->plen == 0)
		return addr_ntop(&g->a, buf, len);
	c.a = g->a;
	c.plen = g->plen;
	return cidr_ntop(&c, buf, len);
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
		key.plen = e[i].plen;
		hit = rs.res.nwhite == 0 ? NULL : bsearch(&key, rs.res.white,
		    rs.res.nwhite, sizeof(*rs.res.white), cmp_gaddr);
		if (hit != NULL)
			rs.listed[hit - rs.res.white] = 1;
	}
}

struct listed {
	struct greyscan_addr	*v;
	size_t			 n;
};

/*
 * Delete the GREY tuples of blacklisted addresses, and of networks that
 * hold some (a walk callback).
 */
static int
drop_listed_tuples(const char *key, size_t keylen, const struct gd_rec *r,
    const char *why, void *arg)
{
	const struct listed *l = arg;
	struct greyscan_addr g;
	struct cidr c;

	(void)why;
	if (r == NULL || r->kind != GD_GREY ||
	    gd_key_cidr(key, keylen, &c) == -1)
		return GREYDB_KEEP;
	g.a = c.a;
	g.plen = c.plen == 8 * addr_len(&c.a) ? 0 : c.plen;
	if (bsearch(&g, l->v, l->n, sizeof(*l->v), cmp_gaddr) == NULL)
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
	char ip[CIDR_STRLEN];
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
			l.v[l.n++] = rs.res.white[i];	/* sorted already */
		gaddr_key(&rs.res.white[i], ip, sizeof(ip));
		if (db == NULL && (db = greydb_open(conf.dbpath, GREYDB_WRITE,
		    GREYQ_LOCK_WAIT)) == NULL)
			log_warnx("%s", greydb_errstr());
		if (db != NULL && greydb_get(db, ip, strlen(ip), &r) ==
		    GREYDB_OK && r.kind == GD_WHITE &&
		    greydb_del(db, ip, strlen(ip)) == -1)
			log_warnx("%s", greydb_errstr());
		log_info("%s %s, removing from whitelist", ip,
		    rs.res.white[i].plen != 0 ? "holds blacklisted addresses" :
		    "blacklisted");
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
			e[k].plen = rs.res.white[i + k].plen;
		}
		send_entries(&smtp, PROTO_BLCHECK, e, k);
	}
	send_bare(&smtp, PROTO_BLCHECK_END);
	ev_timer_set(&blcheck_tm, ev_now() + 30000, resync_finish);
}

struct trapwalk {
	struct greyscan_addr	*v;
	size_t			 n, cap;
	size_t			 nspamtrap;
	int64_t			 now;
};

static int
trap_walk(const char *key, size_t keylen, const struct gd_rec *r,
    const char *why, void *arg)
{
	struct trapwalk *w = arg;

	(void)why;
	if (r != NULL && r->kind == GD_SPAMTRAP)
		w->nspamtrap++;
	if (r == NULL || r->kind != GD_TRAPPED || greylist_expired(r, w->now))
		return GREYDB_KEEP;
	return greyscan_addr_add(&w->v, &w->n, &w->cap, key, keylen,
	    r->expire) == -1 ? GREYDB_STOP : GREYDB_KEEP;
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
	if ((db = greydb_open(conf.dbpath, GREYDB_READ, GREYDB_WAIT)) ==
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
	grey_spamtraps_counted(greydb_trapgen(db), w.nspamtrap);
	greydb_close(db);
	send_bare(&smtp, PROTO_TRAP_SYNC_BEGIN);
	send_addrs(&smtp, PROTO_TRAP, w.v, w.n);
	send_bare(&smtp, PROTO_TRAP_SYNC_END);
	if (w.n != last)
		log_info("%zu trapped address%s", w.n, w.n == 1 ? "" : "es");
	last = w.n;
	free(w.v);
}

/* A committed batch: passed addresses to nft, traps to the SMTP process. */
static void
gq_effect(void *arg, enum greyq_effect fx, const struct proto_entry *e,
    size_t n)
{
	(void)arg;
	if (fx == GREYQ_WHITE)
		send_entries(&nft, PROTO_WHITE, e, n);
	else
		send_entries(&smtp, PROTO_TRAP, e, n);
}

/* Policy requests' answers to the SMTP process, which holds the requests. */
static void
gq_verdict(void *arg, const struct proto_verdict *v, size_t n)
{
	uint8_t buf[PROTO_MSG_MAX];

	(void)arg;
	while (n > 0) {
		size_t k = n > PROTO_VERDICTS_MAX ? PROTO_VERDICTS_MAX : n;
		size_t len = proto_enc_verdicts(buf, sizeof(buf), v, k);

		if (len == 0 || chan_send(&smtp, buf, len) == -1)
			log_warnx("could not send %zu policy answers", k);
		v += k;
		n -= k;
	}
}

/*
 * Reading the SMTP process's tuples as they come costs a wake-up for
 * every one or two of them under load, while they cannot be committed
 * before the queue's next commit anyway (greyq's commit gap). So when
 * that commit is further than GREY_READ_AHEAD ms away, the channel's
 * input is not watched for up to GREY_READ_PAUSE ms: what arrives
 * meanwhile waits in the socket (a few dozen messages at most, well
 * within its buffer) and is read in one burst, still ahead of the
 * commit. EOF and errors are reported by epoll regardless; a send that
 * has to queue watches the input again at once (chan.c). A policy
 * request that comes during a pause waits for its end (GREY_READ_PAUSE
 * ms at most); one that is queued never starts a pause, as it is due
 * at once.
 */
static void
read_resume(struct ev_timer *t)
{
	(void)t;
	if (smtp.io.fd != -1)
		(void)ev_io_mod(&smtp.io, smtp.io.events | EPOLLIN);
}

static void
read_pace(void)
{
	int64_t due = greyq_timeout(gq);

	if (ev_timer_armed(&read_tm) || smtp.io.fd == -1 ||
	    due <= GREY_READ_AHEAD)
		return;
	due -= GREY_READ_AHEAD;
	if (ev_io_mod(&smtp.io, smtp.io.events & ~(uint32_t)EPOLLIN) == 0)
		ev_timer_in(&read_tm, due < GREY_READ_PAUSE ? due :
		    GREY_READ_PAUSE, read_resume);
}

/* The queue's timer: do its due work, wake up when it has more. */
static void
gq_due(struct ev_timer *t)
{
	(void)t;
	greyq_run(gq, 0);
	ev_timer_in(&gq_tm, greyq_timeout(gq), gq_due);
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
	case PROTO_POLICY:
		if (proto_dec_tuple(buf, len, &t) == -1)
			break;
		(void)greyq_add(gq, &t);
		ev_timer_in(&gq_tm, greyq_timeout(gq), gq_due);
		read_pace();
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
	int t = proto_type(buf, len);

	(void)c;
	if (t == PROTO_NOSPAMD_BEGIN || t == PROTO_NOSPAMD ||
	    t == PROTO_NOSPAMD_END) {
		/* policy mode's bypass list, for the SMTP process */
		if (chan_send(&smtp, buf, len) == -1)
			log_warnx("could not pass the nospamd list on");
		return;
	}
	if (t != PROTO_RESYNC) {
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
	size_t before = greyq_queued(gq);

	while (greyq_queued(gq) > 0 && clock_mono_ms() < deadline) {
		greyq_run(gq, 1);
		if (greyq_failing(gq) && greyq_queued(gq) > 0) {
			struct timespec ts = { 0, 200 * 1000000L };

			nanosleep(&ts, NULL);
		}
	}
	if (greyq_queued(gq) > 0)
		log_warnx("exiting with %zu tuple%s not recorded (database "
		    "unavailable: %s)", greyq_queued(gq),
		    greyq_queued(gq) == 1 ? "" : "s", greydb_errstr());
	else if (before > 0)
		log_info("recorded the %zu queued tuple%s before exiting",
		    before, before == 1 ? "" : "s");
	greyq_free(gq);
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

struct loadwalk {
	int64_t		now;
	size_t		nspamtrap;
};

static int
load_walk(const char *key, size_t keylen, const struct gd_rec *r,
    const char *why, void *arg)
{
	struct loadwalk *l = arg;

	(void)why;
	if (r != NULL && r->kind == GD_SPAMTRAP)
		l->nspamtrap++;
	greyaddr_load_rec(key, keylen, r, l->now);
	return GREYDB_KEEP;
}

/*
 * Count the live GREY tuples of every address, for --grey-max-tuples,
 * and the spamtraps. No database yet: none (any spamtrap stored from now
 * on moves the spamtrap generation off 0).
 */
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
	struct loadwalk l = { clock_now(), 0 };

	greyaddr_init(&lim);
	if ((db = greydb_open(conf.dbpath, GREYDB_READ, GREYDB_WAIT)) ==
	    NULL) {
		if (errno != ENOENT)
			log_warnx("cannot count the tuples per address (%s): "
			    "counting from now on", greydb_errstr());
		else
			grey_spamtraps_counted(0, 0);
		return;
	}
	if (greydb_walk(db, load_walk, &l) == -1)
		log_warnx("cannot count the tuples per address (%s): "
		    "counting from now on", greydb_errstr());
	else
		grey_spamtraps_counted(greydb_trapgen(db), l.nspamtrap);
	greydb_close(db);
}

/*
 * Sync (spamd -Y, --sync-peer): what a committed batch did goes to the
 * peers; what they send goes into the queue like local tuples.
 */
static void
sync_out(void *arg, int kind, const struct addr *ip, const char *helo,
    const char *from, const char *to, int64_t expire)
{
	static struct syncmsg_entry e;

	(void)arg;
	memset(&e, 0, offsetof(struct syncmsg_entry, helo));
	e.kind = (enum syncmsg_kind)kind;
	e.ip = *ip;
	e.timestamp = clock_now();
	e.expire = expire;
	e.helo[0] = e.from[0] = e.to[0] = '\0';
	if (kind == SYNCMSG_GREY) {
		strlcpy(e.helo, helo, sizeof(e.helo));
		strlcpy(e.from, from, sizeof(e.from));
		strlcpy(e.to, to, sizeof(e.to));
	}
	sync_send(conf.sync, &e);
}

static void
sync_in(void *arg, const struct syncmsg_entry *e, int ext)
{
	static struct proto_tuple t;

	(void)arg;
	memset(&t, 0, offsetof(struct proto_tuple, helo));
	t.ip = e->ip;
	t.sync = (uint8_t)e->kind;
	t.expire = e->expire;
	/* A version 2 tuple counts on our clock, as OpenBSD's do. */
	t.stamp = ext ? e->timestamp : 0;
	t.helo[0] = t.from[0] = t.to[0] = '\0';
	if (e->kind == SYNCMSG_GREY) {
		strlcpy(t.helo, e->helo, sizeof(t.helo));
		/* greyd sends its own tuples without the brackets */
		if (syncmsg_canon_addr(e->from, t.from, sizeof(t.from)) == -1 ||
		    syncmsg_canon_addr(e->to, t.to, sizeof(t.to)) == -1)
			return;
	}
	(void)greyq_add(gq, &t);
	ev_timer_in(&gq_tm, greyq_timeout(gq), gq_due);
}

/*
 * A --sync-peer host (re)started and asked for our state: the live WHITE
 * addresses and GREY tuples go to it, a few hundred datagrams every
 * SYNC_DUMP_MS so as not to flood its socket. One dump at a time; a hello
 * during one restarts it for the new asker.
 */
#define SYNC_DUMP_MS	10
#define SYNC_DUMP_BURST	64		/* datagrams per tick */
#define SYNC_DUMP_MAX	500000		/* records sent at most */

static struct dump {
	char		**key;		/* GREY tuple keys, WHITE addresses */
	int64_t		 *first, *expire;
	uint8_t		 *kind;
	size_t		  n, cap, next;
	int		  peer;
	struct ev_timer	  tm;
} dump;

static void
dump_free(void)
{
	size_t i;

	for (i = 0; i < dump.n; i++)
		free(dump.key[i]);
	free(dump.key);
	free(dump.first);
	free(dump.expire);
	free(dump.kind);
	memset(&dump, 0, offsetof(struct dump, tm));
}

static int
dump_walk(const char *key, size_t keylen, const struct gd_rec *r,
    const char *why, void *arg)
{
	int64_t now = *(const int64_t *)arg;
	size_t cap;

	(void)why;
	if (r == NULL || greylist_expired(r, now) || (r->kind != GD_GREY &&
	    r->kind != GD_WHITE) || memchr(key, '/', keylen) != NULL)
		return GREYDB_KEEP;	/* networks (-g) are each host's own */
	if (dump.n == SYNC_DUMP_MAX)
		return GREYDB_STOP;
	if (dump.n == dump.cap) {
		cap = dump.cap ? dump.cap * 2 : 1024;
		if ((dump.key = reallocarray(dump.key, cap, sizeof(char *))) ==
		    NULL || (dump.first = reallocarray(dump.first, cap,
		    sizeof(int64_t))) == NULL || (dump.expire =
		    reallocarray(dump.expire, cap, sizeof(int64_t))) == NULL ||
		    (dump.kind = reallocarray(dump.kind, cap, 1)) == NULL)
			fatal("sync dump");
		dump.cap = cap;
	}
	if ((dump.key[dump.n] = strndup(key, keylen)) == NULL)
		return GREYDB_STOP;
	dump.first[dump.n] = r->first;
	dump.expire[dump.n] = r->expire;
	dump.kind[dump.n++] = (uint8_t)r->kind;
	return GREYDB_KEEP;
}

static void
dump_tick(struct ev_timer *t)
{
	static struct syncmsg_entry e;
	struct gd_tuple tp;
	size_t sent = 0;

	(void)t;
	while (dump.next < dump.n && sent < SYNC_DUMP_BURST) {
		size_t i = dump.next;

		memset(&e, 0, offsetof(struct syncmsg_entry, helo));
		e.helo[0] = e.from[0] = e.to[0] = '\0';
		if (dump.kind[i] == GD_WHITE) {
			if (addr_parse(dump.key[i], &e.ip) == -1)
				goto next;
			e.kind = SYNCMSG_WHITE;
			e.timestamp = clock_now();
			e.expire = dump.expire[i];
		} else {
			char *k = dump.key[i];

			if (gd_key_split(k, &tp) < 3 ||
			    addr_parse(tp.ip, &e.ip) == -1)
				goto next;
			e.kind = SYNCMSG_GREY;
			e.timestamp = dump.first[i];
			strlcpy(e.helo, tp.helo ? tp.helo : "",
			    sizeof(e.helo));
			strlcpy(e.from, tp.from, sizeof(e.from));
			strlcpy(e.to, tp.to, sizeof(e.to));
		}
		if (sync_send_to(conf.sync, dump.peer, &e, 1) == -1)
			break;		/* its socket is full: next tick */
		sent++;
next:
		dump.next++;
	}
	if (dump.next < dump.n) {
		ev_timer_in(&dump.tm, SYNC_DUMP_MS, dump_tick);
		return;
	}
	log_info("sync: sent %zu records to a restarted peer", dump.n);
	dump_free();
}

static void
sync_hello_in(void *arg, int peer)
{
	struct greydb *db;
	int64_t now = clock_now();

	(void)arg;
	ev_timer_del(&dump.tm);
	dump_free();
	dump.peer = peer;
	if ((db = greydb_open(conf.dbpath, GREYDB_READ, GREYDB_WAIT)) ==
	    NULL) {
		log_warnx("sync: a peer restarted, but the database cannot be "
		    "read: %s", greydb_errstr());
		return;
	}
	if (greydb_walk(db, dump_walk, &now) == -1)
		log_warnx("sync: reading the state for a restarted peer: %s",
		    greydb_errstr());
	greydb_close(db);
	if (dump.n == SYNC_DUMP_MAX)
		log_warnx("sync: a restarted peer gets the first %d records "
		    "only", SYNC_DUMP_MAX);
	log_info("sync: a peer restarted; sending it %zu live records",
	    dump.n);
	ev_timer_in(&dump.tm, 0, dump_tick);
}

/* Live records by kind (enum gd_kind; 0: other), for count_db. */
struct dbcount {
	uint64_t	kinds[5];
	int64_t		now;
};

static int
count_one(const char *key, size_t keylen, const struct gd_rec *r,
    const char *why, void *arg)
{
	struct dbcount *c = arg;

	(void)key;
	(void)keylen;
	(void)why;
	if (r != NULL && !greylist_expired(r, c->now))
		c->kinds[r->kind <= GD_SPAMTRAP ? r->kind : 0]++;
	return GREYDB_KEEP;
}

/*
 * --metrics-scan: count the live records by kind, a read-only walk under
 * the shared lock that keeps nothing (the housekeeping pass, greyscan,
 * would gather every address), at start and every interval.
 */
static void
metrics_scan(struct ev_timer *t)
{
	struct dbcount c;
	struct greydb *db;

	memset(&c, 0, sizeof(c));
	c.now = clock_now();
	if ((db = greydb_open(conf.dbpath, GREYDB_READ, GREYDB_WAIT)) ==
	    NULL || greydb_walk(db, count_one, &c) == -1) {
		if (errno != ENOENT)
			log_warnx("cannot count the database for the metrics: "
			    "%s", greydb_errstr());
	} else {
		METRIC_SET(grey.db_grey, c.kinds[GD_GREY]);
		METRIC_SET(grey.db_white, c.kinds[GD_WHITE]);
		METRIC_SET(grey.db_trapped, c.kinds[GD_TRAPPED]);
		METRIC_SET(grey.db_spamtrap, c.kinds[GD_SPAMTRAP]);
		METRIC_SET(grey.db_scan_time, c.now);
		grey_spamtraps_counted(greydb_trapgen(db),
		    c.kinds[GD_SPAMTRAP]);
	}
	if (db != NULL)
		greydb_close(db);
	ev_timer_set(t, ev_now() + (uint64_t)conf.metrics_scan * 1000,
	    metrics_scan);
}

/* --metrics-textfile: the exposition for node_exporter, every interval. */
static void
metrics_file(struct ev_timer *t)
{
	static struct metrics_buf b;
	static int failing;

	if (metrics_write_file(conf.metrics_file, &b, failing) == 0) {
		if (failing)
			log_info("%s: written again", conf.metrics_file);
		failing = 0;
	} else
		failing = 1;
	ev_timer_set(t, ev_now() + (uint64_t)conf.metrics_interval * 1000,
	    metrics_file);
}

void
grey_main(int smtpfd, int nftfd)
{
	static struct ev_timer scan_tm, file_tm;
	/* The queue's bounds and back-off: greyq.h's defaults. */
	struct greyq_conf qc = { .dbpath = conf.dbpath, .gl = &conf.gl,
	    .db_max_size = conf.db_max_size, .lock_wait_ms = GREYQ_LOCK_WAIT,
	    .commit_min_ms = GREYQ_COMMIT_MIN,
	    .commit_gap_ms = GREYQ_COMMIT_GAP,
	    .sync_gap_ms = GREYQ_SYNC_GAP, .is_trap = grey_trapcheck,
	    .effect = gq_effect, .verdict = gq_verdict,
	    .group4 = conf.group4, .group6 = conf.group6,
	    .sync_out = sync_active(conf.sync) ? sync_out : NULL };

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
	signal(SIGHUP, SIG_IGN);	/* the parent's: it reloads certificates */
	load_addrs();
	if ((gq = greyq_new(&qc)) == NULL)
		fatal("greylister queue");
	resync(NULL);
	send_traps(NULL);
	if (conf.sync != NULL) {
		if (sync_start(conf.sync, sync_in, sync_hello_in, NULL) == -1)
			fatal("cannot watch the sync socket");
		sync_hello(conf.sync);	/* the peers send what we missed */
	}
	if (conf.metrics_listen != NULL || conf.metrics_file != NULL)
		metrics_scan(&scan_tm);
	if (conf.metrics_file != NULL)
		metrics_file(&file_tm);
	ev_run();
	drain_and_exit(0);
}
