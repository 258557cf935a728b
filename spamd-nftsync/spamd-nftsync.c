/*
 * spamd-nftsync.c: the periodic job of the suite (cron or a systemd
 * timer). In one pass (common/greyscan.c) it deletes expired GREY, WHITE
 * and TRAPPED records, promotes passed tuples of untrapped addresses,
 * and then makes spamd_white and spamd_white6 (and the -g network sets)
 * equal the WHITE records, each element timing out with its record.
 *
 * How a set gets there (see spamd-nftsync(8)): the difference from what
 * the last run put in, recorded in DBFILE.pushed (pushed.c), while that
 * record can be trusted (same table handles: nft_signature; less than a
 * day old; a set it says is full is not empty); else an empty set is
 * filled in batches while the database pass runs in a child process
 * (scanfeed.c: the pass runs as the directory's owner, netlink needs
 * root), the batches sent by a worker thread while the next ones are
 * gathered (sender.c), and a full one is flushed and filled in one
 * atomic batch. A difference deletes before it adds, so no host that
 * stays whitelisted is ever missing from the kernel's view.
 *
 * Before anything goes into the sets, spamd is asked over its unix
 * socket which of the WHITE addresses are on a blacklist
 * (common/blquery.h); those stay out of the sets, with a log line, as
 * spamd's own resync does (OpenBSD's greyscanner rule: a listed host is
 * never whitelisted). Their records stay: spamd deletes them at its next
 * resync, and if the list drops the host, the next run whitelists it. If
 * spamd is not running nothing is listed in memory, and every WHITE
 * record goes in (said with -v). If spamd cannot be asked, the sets are
 * left as they are and the exit status is 1.
 *
 * usage: spamd-nftsync [-Fnv] [-f dbfile] [-W whiteexp]
 *	    [--config-socket path]
 *	-F	replace every set whole, whatever the record says
 *	-n	say what would change; change nothing
 *	-v	report counts and each promotion
 *	-W	lifetime of the WHITE records it creates: hours like
 *		spamlogd's -W, or a unit suffix (default 864 hours, 36 days;
 *		match spamd's -G whiteexp)
 *	--config-socket	spamd's unix socket (PATH_SPAMD_SOCK)
 *
 * Exit status: 0 on success; 1 if the database or nftables could not be
 * updated (cron mails the output); 2 on usage errors. It is safe to run
 * while spamd, spamlogd and spamdb run: the database lock serialises the
 * writers and nftables applies each batch atomically.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/blquery.h"
#include "common/clock.h"
#include "common/greydb.h"
#include "common/greyscan.h"
#include "common/log.h"
#include "common/pathnames.h"
#include "common/statedir.h"
#include "common/util.h"
#include "nft/nft.h"
#include "spamd-nftsync/pushed.h"
#include "spamd-nftsync/scanfeed.h"
#include "spamd-nftsync/sender.h"

/* After the libc network headers (they clash otherwise). */
#include <linux/netfilter.h>

#define PUSHED_SUFFIX	".pushed"	/* the record of the last push */
#define SYNC_SLACK	60	/* seconds an expiry may move unsent */
#define FULL_EVERY	86400	/* replace whole at least this often */
#define FILL_BATCH	16384	/* elements per batch into an empty set */
#define FILL_ASK	32768	/* elements per blacklist query meanwhile */
#define FILL_FIRST	2048	/* ... in the first: the kernel starts early */

static __dead void
usage(void)
{
	fprintf(stderr, "usage: spamd-nftsync [-Fnv] [-f dbfile] [-W whiteexp]\n"
	    "                     [--config-socket path]\n");
	exit(2);
}

enum {
	OPT_CONFIG_SOCKET = 256,
};

static const struct option long_opts[] = {
	{ "config-socket", required_argument, NULL, OPT_CONFIG_SOCKET },
	{ NULL, 0, NULL, 0 }
};

/* The four white sets, in the order of the record (pushed.h). */
static const struct nft_set sets[PUSHED_NSETS] = {
	{ NFT_TABLE, NFT_SET_WHITE4, NFPROTO_INET, AF_INET, 0 },
	{ NFT_TABLE, NFT_SET_WHITE6, NFPROTO_INET, AF_INET6, 0 },
	{ NFT_TABLE, NFT_SET_WHITENET4, NFPROTO_INET, AF_INET, 1 },
	{ NFT_TABLE, NFT_SET_WHITENET6, NFPROTO_INET, AF_INET6, 1 },
};

enum how { HOW_DIFF, HOW_FILL, HOW_REPLACE, HOW_SKIP };

static const char *const how_name[] = { "changed", "filled the empty set",
    "replaced", "" };

/* The command line. */
struct opts {
	const char		*dbpath, *sock;
	struct greylist_params	 gl;
	int			 dry, verbose, full;
	char			 statepath[PATH_MAX];
};

static void
parse_options(int argc, char *argv[], struct opts *o)
{
	const char *errstr;
	int ch;

	while ((ch = getopt_long(argc, argv, "Ff:nvW:", long_opts, NULL)) !=
	    -1) {
		switch (ch) {
		case OPT_CONFIG_SOCKET:
			o->sock = optarg;
			break;
		case 'F':
			o->full = 1;
			break;
		case 'W':
			if (util_parse_time(optarg, 3600, 3600, 3650LL * 86400,
			    &o->gl.whiteexp, &errstr) == -1) {
				log_warnx("-W %s: %s", optarg, errstr);
				usage();
			}
			break;
		case 'f':
			o->dbpath = optarg;
			break;
		case 'n':
			o->dry = 1;
			break;
		case 'v':
			o->verbose = 1;
			break;
		default:
			usage();
		}
	}
	if (argc != optind)
		usage();
	if ((size_t)snprintf(o->statepath, sizeof(o->statepath), "%s%s",
	    o->dbpath, PUSHED_SUFFIX) >= sizeof(o->statepath)) {
		log_warnx("-f %s: path too long", o->dbpath);
		usage();
	}
}

/* One run: what each set should hold, and how it gets there. */
/* A part of one set's wanted elements: [lo, hi). */
struct range {
	int	 s;
	size_t	 lo, hi;
};

/* The blacklist question in flight while a set is filled. */
enum { FLY_NONE, FLY_ASKED, FLY_NOSPAMD };
struct inflight {
	struct blquery		 q;
	struct cidr		*v;	/* what it asks: q.a */
	size_t			 n;
	struct range		 rg;
	int			 on;	/* FLY_ */
};

struct run {
	const struct opts	*o;
	struct nft		*n;
	int64_t			 now;
	struct pushed		 old, want;
	int			 trust;
	enum how		 how[PUSHED_NSETS];
	size_t			 cap[PUSHED_NSETS];	/* of want.set[].e */
	size_t			 sent[PUSHED_NSETS];	/* HOW_FILL: done */
	int			 failed[PUSHED_NSETS];
	int			 refused[PUSHED_NSETS];
	size_t			 listed;
	int			 nospamd_said, changed, rc;
	struct scanfeed		*sf;		/* the scan, while it runs */
	struct inflight		 fly;
	struct sender		 sd;		/* HOW_FILL batches */
	int			 sent_failed[PUSHED_NSETS];	/* said */
	size_t			 asked[PUSHED_NSETS];	/* HOW_FILL: in a
						 * question, or sent */
	int			 draining;	/* in drain(): no fill_chunk */
	int			 oom;		/* take() failed in drain() */
};

static int	take(struct run *, const struct greyscan_addr *);

/*
 * Between two batches into an empty set, take what the scan sent
 * meanwhile, without waiting: the pipe is seldom larger than 1 MiB, and a
 * full one stops the walk until the parent reads again.
 */
static void
drain(struct run *r)
{
	struct greyscan_addr w;

	if (r->sf == NULL || r->draining || r->oom)
		return;
	r->draining = 1;
	while (scanfeed_next(r->sf, &w, 0) == 1)
		if (take(r, &w) == -1) {
			r->oom = 1;
			break;
		}
	r->draining = 0;
}

/* The elements of the ranges as spamd's question has them; NULL logged. */
static struct cidr *
ask_build(struct run *r, const struct range *rg, size_t nrg, size_t *np)
{
	struct cidr *v;
	size_t i, j, n = 0, at;

	for (j = 0; j < nrg; j++)
		n += rg[j].hi - rg[j].lo;
	if ((v = calloc(n > 0 ? n : 1, sizeof(*v))) == NULL) {
		log_warn("calloc");
		return NULL;
	}
	for (j = 0, at = 0; j < nrg; j++) {
		const struct pushed_set *set = &r->want.set[rg[j].s];

		for (i = rg[j].lo; i < rg[j].hi; i++, at++) {
			v[at].a.af = sets[rg[j].s].af;
			memcpy(v[at].a.u.b, set->e[i].key, 16);
			v[at].plen = set->e[i].plen != 0 ? set->e[i].plen :
			    (uint8_t)(8 * addr_len(&v[at].a));
		}
	}
	*np = n;
	return v;
}

/* Drop the listed elements of the ranges; each range's hi moves down. */
static void
ask_apply(struct run *r, struct range *rg, size_t nrg, const struct cidr *v,
    const unsigned char *listed)
{
	char ip[ADDR_STRLEN];
	size_t i, j, k, at;

	for (j = 0, at = 0; j < nrg; j++) {
		struct pushed_set *set = &r->want.set[rg[j].s];

		for (i = rg[j].lo, k = rg[j].lo; i < rg[j].hi; i++, at++) {
			if (!listed[at]) {
				set->e[k++] = set->e[i];
				continue;
			}
			r->listed++;
			if (set->e[i].plen != 0)
				log_info("%s holds addresses on a blacklist of "
				    "spamd: not whitelisting it",
				    cidr_ntop(&v[at], ip, sizeof(ip)));
			else
				log_info("%s is on a blacklist of spamd: not "
				    "whitelisting it", addr_ntop(&v[at].a, ip,
				    sizeof(ip)));
		}
		rg[j].hi = k;
	}
}

/* What blquery_start or _finish said: 0 go on, -1 failed (logged). */
static int
ask_said(struct run *r, int q, const char *err)
{
	if (q == -1) {
		log_warnx("cannot ask spamd which addresses are blacklisted "
		    "(%s): %s; the white sets are left as they are",
		    r->o->sock, err);
		return -1;
	}
	if (q == BLQUERY_NOSPAMD) {
		if (!r->nospamd_said)
			log_verbose("spamd is not running (nothing listens on "
			    "%s): no blacklist is loaded, so no WHITE record "
			    "is held back", r->o->sock);
		r->nospamd_said = 1;
	}
	return 0;
}

/*
 * Ask spamd, in one query, which elements of the ranges are blacklisted,
 * and drop those (OpenBSD's greyscanner rule: a listed host is never
 * whitelisted); each range's hi becomes its new end. 0, or -1 logged
 * when spamd could not be asked (then nothing of them may go in).
 */
static int
ask_spamd(struct run *r, struct range *rg, size_t nrg)
{
	struct cidr *v;
	unsigned char *listed;
	char err[512];
	size_t n;
	int q;

	if (r->nospamd_said)	/* not running a moment ago */
		return 0;
	if ((v = ask_build(r, rg, nrg, &n)) == NULL)
		return -1;
	if (n == 0) {
		free(v);
		return 0;
	}
	if ((listed = calloc(n, 1)) == NULL) {
		log_warn("calloc");
		free(v);
		return -1;
	}
	q = blquery_ask(r->o->sock, v, n, listed, err, sizeof(err));
	if (ask_said(r, q, err) == 0 && q == 0)
		ask_apply(r, rg, nrg, v, listed);
	free(listed);
	free(v);
	return q == -1 ? -1 : 0;
}

/*
 * While an empty set is filled, the question about the next part goes
 * out before the part asked about last goes in (ask_begin, fill_chunk,
 * ask_end): spamd looks up while the kernel inserts. One at a time.
 */
static int
ask_begin(struct run *r, int s, size_t lo, size_t hi)
{
	struct inflight *f = &r->fly;
	char err[512];
	int q;

	f->rg.s = s;
	f->rg.lo = lo;
	f->rg.hi = hi;
	/*
	 * spamd was not running a moment ago: the rest of this run does
	 * not ask again (each question costs a copy of its elements); a
	 * spamd that starts meanwhile is asked by the next run.
	 */
	if (r->nospamd_said) {
		f->on = FLY_NOSPAMD;
		return 0;
	}
	if ((f->v = ask_build(r, &f->rg, 1, &f->n)) == NULL)
		return -1;
	q = blquery_start(&f->q, r->o->sock, f->v, f->n, err, sizeof(err));
	if (ask_said(r, q, err) == -1) {
		free(f->v);
		f->v = NULL;
		return -1;
	}
	f->on = q == 0 ? FLY_ASKED : FLY_NOSPAMD;
	return 0;
}

/*
 * The answer to the question in flight: its listed elements dropped,
 * the elements after them moved down. 0, or -1 logged.
 */
static int
ask_end(struct run *r)
{
	struct inflight *f = &r->fly;
	struct pushed_set *set = &r->want.set[f->rg.s];
	unsigned char *listed = NULL;
	char err[512];
	size_t hi = f->rg.hi, gone;
	int rc = 0;

	if (f->on == FLY_ASKED) {
		if ((listed = calloc(f->n > 0 ? f->n : 1, 1)) == NULL) {
			log_warn("calloc");
			blquery_cancel(&f->q);
			rc = -1;
		} else if (ask_said(r, blquery_finish(&f->q, listed, err,
		    sizeof(err)), err) == -1)
			rc = -1;
		else
			ask_apply(r, &f->rg, 1, f->v, listed);
	}
	if (rc == 0 && (gone = hi - f->rg.hi) > 0) {
		memmove(set->e + f->rg.hi, set->e + hi,
		    (set->n - hi) * sizeof(*set->e));
		set->n -= gone;
		r->asked[f->rg.s] -= gone;
	}
	free(listed);
	free(f->v);
	f->v = NULL;
	f->on = FLY_NONE;
	return rc;
}

/* A question still in flight when the run ends early. */
static void
ask_drop(struct run *r)
{
	if (r->fly.on == FLY_ASKED)
		blquery_cancel(&r->fly.q);
	free(r->fly.v);
	r->fly.v = NULL;
	r->fly.on = FLY_NONE;
}

/*
 * What want.set[s]'s elements [lo, hi) take: the difference from the
 * last push (HOW_DIFF), else all of them. 0, or -1 logged.
 */
static int
diff_range(struct run *r, int s, size_t lo, size_t hi, struct pushed_diff *d)
{
	static const struct pushed_set none = { NULL, 0 };
	const struct pushed_set part = { r->want.set[s].e + lo, hi - lo };
	enum how how = r->how[s];

	if (pushed_diff(how == HOW_DIFF ? &r->old.set[s] : &none, &part,
	    sets[s].af, r->now, SYNC_SLACK, d) == -1) {
		log_warn("%s: the elements to send", sets[s].name);
		return -1;
	}
	if (how != HOW_DIFF || d->nadd + d->ndel + d->nrefresh > 0)
		r->changed = 1;
	return 0;
}

/*
 * The fill batches posted so far (sender.c), once the kernel has them
 * all: their results on their sets' flags, a set's failure said once.
 * Before anything else uses r->n.
 */
static void
fill_collect(struct run *r)
{
	int s;

	sender_wait(&r->sd);
	for (s = 0; s < PUSHED_NSETS; s++) {
		if (r->sd.failed[s] && !r->sent_failed[s]) {
			log_warnx("%s", r->sd.errstr[s]);
			r->sent_failed[s] = 1;
			r->failed[s] = 1;
		}
		if (r->sd.refused[s])
			r->refused[s] = 1;
	}
}

/*
 * Send want.set[s]'s elements [lo, hi) to the kernel: the difference
 * from the last push (HOW_DIFF), or flush and add in one batch. 0 done,
 * 1 done but the kernel refused elements, -1 failed (logged).
 */
static int
push_range(struct run *r, int s, size_t lo, size_t hi, struct pushed_diff *d)
{
	int x = 0, y;

	if (diff_range(r, s, lo, hi, d) == -1)
		return -1;
	if (r->o->dry)
		return 0;
	fill_collect(r);
	switch (r->how[s]) {
	case HOW_REPLACE:
		x = nft_replace(r->n, &sets[s], d->add, d->nadd);
		break;
	case HOW_DIFF:
		/*
		 * New elements are added with NFT_REFRESH too: spamd's nft
		 * helper may have put one there already, with the timeout
		 * its record had then, and a plain add would keep that.
		 */
		if (d->ndel > 0 && (x = nft_del(r->n, &sets[s], d->del,
		    d->ndel)) == -1)
			break;
		if (d->nadd > 0 && (y = nft_add(r->n, &sets[s], d->add,
		    d->nadd, NFT_REFRESH)) != 0)
			x = y == -1 ? -1 : x + y;
		if (x != -1 && d->nrefresh > 0 && (y = nft_add(r->n,
		    &sets[s], d->refresh, d->nrefresh, NFT_REFRESH)) != 0)
			x = y == -1 ? -1 : x + y;
		break;
	case HOW_FILL:		/* fill_send's */
	case HOW_SKIP:
		break;
	}
	if (x == -1)
		log_warnx("%s", nft_errstr(r->n));
	return x == -1 ? -1 : x > 0;
}

/*
 * Elements [lo, hi) of a set being filled, asked about already, in small
 * batches: the kernel inserts them faster than one big one. Each batch
 * is queued for the sender's worker, and the next ones are converted
 * (and the scan drained) while the kernel inserts.
 */
static void
fill_send(struct run *r, int s, size_t lo, size_t hi)
{
	struct pushed_diff d;
	size_t end;

	for (; lo < hi && !r->failed[s]; lo = end) {
		end = hi - lo > FILL_BATCH ? lo + FILL_BATCH : hi;
		if (diff_range(r, s, lo, end, &d) == -1) {
			r->failed[s] = 1;
			break;
		}
		if (d.nadd > 0) {
			sender_post(&r->sd, s, &sets[s], d.add, d.nadd);
			d.add = NULL;	/* the sender's now */
		}
		pushed_diff_free(&d);
		drain(r);
	}
	r->sent[s] = hi;
}

/* The question in flight, answered: its part goes in. */
static void
fly_send(struct run *r)
{
	int s = r->fly.rg.s;

	if (ask_end(r) == -1)
		r->failed[s] = 1;
	else
		fill_send(r, s, r->sent[s], r->fly.rg.hi);
}

/*
 * An empty set being filled while the scan runs: the answer about the
 * part asked last, that part to the sender (its batches queued, in the
 * kernel when fill_send returns), then the question about set s's new
 * elements, which spamd answers meanwhile.
 */
static void
fill_chunk(struct run *r, int s)
{
	struct range done = { -1, 0, 0 };

	if (r->fly.on != FLY_NONE) {
		done = r->fly.rg;
		if (ask_end(r) == -1) {
			r->failed[done.s] = 1;
			done.s = -1;
		} else
			done = r->fly.rg;	/* its end after the drops */
	}
	if (done.s != -1 && !r->failed[done.s])
		fill_send(r, done.s, r->sent[done.s], done.hi);
	if (s != -1 && !r->failed[s] && r->asked[s] < r->want.set[s].n) {
		if (ask_begin(r, s, r->asked[s], r->want.set[s].n) == -1)
			r->failed[s] = 1;
		else
			r->asked[s] = r->want.set[s].n;
	}
	/* Without spamd there is no answer to wait for: in at once. */
	if (r->fly.on == FLY_NOSPAMD)
		fly_send(r);
}

/*
 * Elements to gather before the next question about set s: few at the
 * start, so that the kernel has work while the walk goes on, then twice
 * what was asked so far, up to FILL_ASK.
 */
static size_t
fill_step(const struct run *r, int s)
{
	size_t a = r->asked[s];

	return a < FILL_FIRST ? FILL_FIRST : a < FILL_ASK ? a : FILL_ASK;
}

/* The walk has nothing new yet: the question in flight, answered. */
static void
fill_answered(struct run *r)
{
	if (r->fly.on != FLY_NONE)
		fill_chunk(r, -1);
}

/*
 * How each set gets its elements. The record of the last push is
 * trusted while the table keeps its signature, it is younger than
 * FULL_EVERY, and a set it says is not empty is not empty; else a set is
 * filled (found empty) or replaced. A set nftables cannot tell about is
 * marked failed (logged); the database pass runs all the same.
 */
static void
plan(struct run *r, int oldrc, uint64_t sig)
{
	int s, any;

	r->trust = oldrc == 0 && sig != 0 && r->old.sig == sig &&
	    r->old.when <= r->now + 60 && r->now - r->old.when < FULL_EVERY;
	if ((oldrc == 0 || oldrc == 2) && !r->trust && r->o->verbose)
		printf("the record of the last push is %s: replacing the "
		    "sets whole\n", oldrc == 2 || sig == 0 ? "for another "
		    "table (the ruleset was loaded again)" : "older than a "
		    "day");
	for (s = 0; s < PUSHED_NSETS; s++) {
		if (r->trust && r->old.set[s].n == 0) {
			r->how[s] = HOW_DIFF;
			continue;
		}
		if (r->n == NULL) {	/* -n: no netlink, no probe */
			r->how[s] = r->trust ? HOW_DIFF : HOW_REPLACE;
			continue;
		}
		if ((any = nft_any(r->n, &sets[s])) == -1) {
			/*
			 * The network sets (spamd -g) may be missing from
			 * an older ruleset: fine while nothing goes there.
			 */
			if (s >= 2 && nft_error(r->n) == ENOENT) {
				r->how[s] = HOW_SKIP;
				continue;
			}
			log_warnx("%s", nft_errstr(r->n));
			r->how[s] = HOW_SKIP;
			r->failed[s] = 1;
			continue;
		}
		if (any == 0 && r->trust)
			log_info("inet %s %s is empty, though %zu elements "
			    "were put there last time: filling it",
			    sets[s].table, sets[s].name, r->old.set[s].n);
		r->how[s] = any == 0 ? HOW_FILL : r->trust ? HOW_DIFF :
		    HOW_REPLACE;
	}
}

/* Add one WHITE address of the scan to the set it belongs in. */
static int
take(struct run *r, const struct greyscan_addr *w)
{
	struct pushed_set *set;
	struct pushed_elem *e;
	int s = (w->a.af == AF_INET ? 0 : 1) + (w->plen != 0 ? 2 : 0);

	if (w->expire <= r->now)
		return 0;
	set = &r->want.set[s];
	if (set->n == r->cap[s]) {
		size_t ncap = r->cap[s] ? r->cap[s] * 2 : 256;

		if ((e = reallocarray(set->e, ncap, sizeof(*e))) == NULL)
			return -1;
		set->e = e;
		r->cap[s] = ncap;
	}
	e = &set->e[set->n++];
	memset(e, 0, sizeof(*e));
	memcpy(e->key, w->a.u.b, addr_len(&w->a));
	e->plen = w->plen;
	e->expire = w->expire;
	if (r->how[s] == HOW_FILL && set->n - r->asked[s] >= fill_step(r, s) &&
	    !r->draining && !r->failed[s])
		fill_chunk(r, s);
	return 0;
}

/*
 * Read the record of the last push as the database's owner. Returns
 * pushed_load's 0 (loaded), 1 (none), 2 (for another table) or -1
 * (unusable, logged).
 */
static int
load_record(const struct opts *o, struct pushed *old, uint64_t sig)
{
	char why[256];
	int rc;

	if (o->full)
		return 1;
	if (statedir_enter(o->dbpath, STATEDIR_FOR_NOW) == -1)
		return -1;
	rc = pushed_load(o->statepath, old, sig, why, sizeof(why));
	if (rc == -1)
		log_warnx("%s: %s; replacing the white sets whole",
		    o->statepath, why);
	if (statedir_leave() == -1) {
		pushed_free(old);
		return -1;
	}
	return rc;
}

/*
 * A record that is not trusted goes in any case: it is replaced at the
 * end, or removed after a failure. A child removes it now, as the
 * database's owner, so that its freeing is not waited for at the end
 * (the blocks of a 25 MB record are discarded synchronously where the
 * file system is mounted with -o discard: 17 ms). The child's pid, or
 * -1 (logged): the end replaces the record as before.
 */
static pid_t
record_forget(const struct opts *o)
{
	pid_t pid;

	if ((pid = fork()) == -1) {
		log_warn("fork");
		return -1;
	}
	if (pid == 0) {
		if (statedir_enter(o->dbpath, STATEDIR_FOR_GOOD) == -1)
			_exit(1);
		_exit(pushed_remove(o->statepath) == -1);
	}
	return pid;
}

/* The child of record_forget, done before the record is written again. */
static void
record_forgotten(pid_t pid)
{
	int status;

	if (pid == -1)
		return;
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR) {
			log_warn("waitpid");
			return;
		}
}

/* Save (or, after any failure, forget) the record of this push. */
static void
record_push(const struct opts *o, const struct pushed *p, int ok)
{
	if (statedir_enter(o->dbpath, STATEDIR_FOR_NOW) == -1)
		return;
	if (!ok || pushed_save(o->statepath, p) == -1)
		(void)pushed_remove(o->statepath);
	(void)statedir_leave();
}

/*
 * Expire and promote through the scanning child, filling empty sets as
 * the addresses arrive; 0, or -1 logged.
 */
static int
scan(struct run *r)
{
	const struct opts *o = r->o;
	struct scanfeed sf;
	struct greyscan_addr w;
	int x = 0, s, fill = 0;

	for (s = 0; s < PUSHED_NSETS; s++)
		if (r->how[s] == HOW_FILL && !o->dry)
			fill = 1;
	if (scanfeed_start(&sf, o->dbpath, r->now, &o->gl, o->dry ? 0 :
	    GREYSCAN_CHANGE, fill) == -1)
		return -1;
	/* After the fork: the scan's child is not to inherit a thread. */
	if (fill)
		sender_start(&r->sd, r->n);
	r->sf = &sf;
	while (!r->oom) {
		/* Before waiting for the walk, take spamd's answer and put
		 * that part in: spamd holds its one configuration
		 * connection until the answer is read. */
		if ((x = scanfeed_next(&sf, &w, r->fly.on == FLY_NONE)) ==
		    SCANFEED_LATER) {
			fill_answered(r);
			continue;
		}
		if (x != 1)
			break;
		if (take(r, &w) == -1)
			r->oom = 1;
	}
	r->sf = NULL;
	if (r->oom) {
		log_warn("out of memory");
		x = -1;
	}
	if (scanfeed_finish(&sf) == -1 || x == -1)
		return -1;
	if (o->dry || o->verbose)
		printf("%s%zu records: %zu expired, %zu corrupt, %zu "
		    "promoted; %zu GREY, %zu WHITE, %zu TRAPPED, %zu "
		    "SPAMTRAP%s\n", o->dry ? "would change: " : "",
		    sf.res.records, sf.res.expired, sf.res.corrupt,
		    sf.res.promoted, sf.res.grey, sf.res.nwhite,
		    sf.res.ntrapped, sf.res.spamtraps,
		    sf.res.reorganized ? "; reorganized" : "");
	return 0;
}

/*
 * The sets not filled during the scan, and the rest of those that were
 * (one blacklist query for all), then what -v and -n say.
 */
static void
push_rest(struct run *r)
{
	const struct opts *o = r->o;
	struct pushed_diff d;
	struct range rg[PUSHED_NSETS];
	size_t nrg = 0, j;
	int s, x;

	if (r->fly.on != FLY_NONE)	/* the last question of a fill */
		fly_send(r);
	for (s = 0; s < PUSHED_NSETS; s++) {
		if (r->failed[s])
			continue;
		if (r->how[s] == HOW_SKIP) {
			if (r->want.set[s].n > 0) {
				log_warnx("inet %s %s is missing, and %zu "
				    "WHITE networks (spamd -g) should go "
				    "there: load the ruleset of this version",
				    sets[s].table, sets[s].name,
				    r->want.set[s].n);
				r->failed[s] = 1;
			}
			continue;
		}
		rg[nrg].s = s;
		rg[nrg].lo = r->how[s] == HOW_FILL ? r->sent[s] : 0;
		rg[nrg++].hi = r->want.set[s].n;
	}
	if (ask_spamd(r, rg, nrg) == -1) {
		for (j = 0; j < nrg; j++)
			r->failed[rg[j].s] = 1;
		nrg = 0;
	}
	for (j = 0; j < nrg; j++)
		r->want.set[rg[j].s].n = rg[j].hi;
	for (s = 0; s < PUSHED_NSETS; s++) {
		const char *tn = sets[s].table, *sn = sets[s].name;
		size_t n = r->want.set[s].n;

		memset(&d, 0, sizeof(d));
		if (r->failed[s] || r->how[s] == HOW_SKIP)
			continue;
		if (r->how[s] == HOW_FILL) {
			fill_send(r, s, r->sent[s], n);
			fill_collect(r);	/* its batches, said below */
		} else if ((x = push_range(r, s, 0, n, &d)) == -1)
			r->failed[s] = 1;
		else if (x > 0)
			r->refused[s] = 1;
		if (o->dry && r->how[s] == HOW_DIFF)
			printf("would add %zu, delete %zu and refresh %zu "
			    "elements of inet %s %s (%zu in all)\n", d.nadd,
			    d.ndel, d.nrefresh, tn, sn, n);
		else if (o->dry)
			printf("would replace inet %s %s with %zu element%s\n",
			    tn, sn, n, n == 1 ? "" : "s");
		else if (o->verbose && !r->failed[s]) {
			printf("inet %s %s: %zu element%s (%s", tn, sn, n,
			    n == 1 ? "" : "s", how_name[r->how[s]]);
			if (r->how[s] == HOW_DIFF)
				printf(": %zu added, %zu deleted, %zu "
				    "refreshed", d.nadd, d.ndel, d.nrefresh);
			printf(")%s\n", r->refused[s] ? "; some refused, see "
			    "above" : "");
		}
		pushed_diff_free(&d);
	}
}

int
main(int argc, char *argv[])
{
	struct opts o = { PATH_SPAMD_DB, PATH_SPAMD_SOCK, {
		GREYLIST_PASSTIME, GREYLIST_GREYEXP, GREYLIST_WHITEEXP,
		GREYLIST_TRAPEXP }, 0, 0, 0, "" };
	struct run r;
	uint64_t sig = 0;
	pid_t forget = -1;
	int oldrc, s, ok = 1, replaced = 0;

	log_init("spamd-nftsync", 1, 0);
	/*
	 * Each batch allocates and frees its element lists (up to a MiB);
	 * glibc gave them back to the kernel at every free (munmap, or a
	 * heap trim) and took them again with page faults and zeroing:
	 * keep freed memory in the process for the next batch.
	 */
	(void)mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
	(void)mallopt(M_TRIM_THRESHOLD, 256 * 1024 * 1024);
	parse_options(argc, argv, &o);
	log_setverbose(o.verbose);
	memset(&r, 0, sizeof(r));
	r.o = &o;
	r.now = clock_now();
	/*
	 * The table's signature before anything else: a ruleset loaded
	 * after this makes the next run replace, never trust the record.
	 */
	if (nft_signature(NFT_TABLE, &sig) == -1)
		sig = 0;
	oldrc = load_record(&o, &r.old, sig);
	if (!o.dry && (r.n = nft_open("netlink")) == NULL) {
		log_warnx("cannot open netlink: %s", nft_open_errstr());
		pushed_free(&r.old);
		return 1;
	}
	plan(&r, oldrc, sig);
	if (!o.dry && !r.trust)
		forget = record_forget(&o);
	if (scan(&r) == -1) {
		r.rc = 1;
		ok = 0;
	} else
		push_rest(&r);
	ask_drop(&r);
	fill_collect(&r);
	sender_stop(&r.sd);
	for (s = 0; s < PUSHED_NSETS; s++) {
		if (r.failed[s])
			r.rc = 1;
		if (r.failed[s] || r.refused[s])
			ok = 0;
		if (r.how[s] == HOW_FILL || r.how[s] == HOW_REPLACE)
			replaced = 1;
	}
	/*
	 * The record keeps the time of the last whole replacement, so that
	 * drift made by hand is repaired at least every FULL_EVERY; a run
	 * that changed nothing leaves it as it is. After a failure it goes:
	 * the next run replaces.
	 */
	record_forgotten(forget);
	if (!o.dry && !(ok && r.trust && !r.changed)) {
		r.want.sig = sig;
		r.want.when = r.trust && !replaced ? r.old.when : r.now;
		record_push(&o, &r.want, ok && sig != 0);
	}
	pushed_free(&r.want);
	pushed_free(&r.old);
	if (r.n != NULL)
		nft_close(r.n);
	return r.rc;
}
