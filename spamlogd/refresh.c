/*
 * refresh.c: batched WHITE refreshes and nft timeouts (see refresh.h).
 *
 * Two fixed-size queues. `q' holds addresses not yet in the database,
 * each with the number of sightings since it was queued (so a burst of
 * connections from one host costs one slot and still counts every
 * connection in pcount). `el[]' holds, per family, the nft elements
 * whose database record is WHITE after the write and whose set timeout
 * still has to be refreshed.
 *
 * Lookups in the queues are linear. Sightings come only from logged
 * connection openings of white hosts and of our own MTA, tens per second
 * at most, and the queues are normally emptied every REFRESH_WINDOW_MS;
 * only a long database outage fills them, and then the bound applies.
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/gdata.h"
#include "common/greydb.h"
#include "common/greylist.h"
#include "common/log.h"
#include "common/pathnames.h"
#include "common/util.h"
#include "spamlogd/refresh.h"

#define DB_BACKOFF_MIN		250
#define DB_BACKOFF_MAX		8000
#define NFT_BACKOFF_MIN		1000
#define NFT_BACKOFF_MAX		60000
#define LOG_EVERY		60	/* s between repeats of one complaint */

struct sighting {
	struct addr	a;
	uint32_t	hits;
};

struct elq {
	struct nft_elem	*el;
	size_t		 n;
};

struct refresh {
	struct refresh_conf	 c;
	struct sighting		*q;
	size_t			 nq;
	uint64_t		 first_ms;	/* when q became non-empty */
	uint64_t		 db_next;	/* no attempt before this */
	uint64_t		 db_backoff;
	int			 db_failing;
	struct elq		 el[4];		/* IPv4, IPv6; their networks */
	uint64_t		 nft_next;
	uint64_t		 nft_backoff;
	int			 nft_failing;
	struct log_ratelimit	 rl_full, rl_db, rl_nft, rl_nftfull;
};

struct refresh *
refresh_new(const struct refresh_conf *c)
{
	struct refresh *r;
	int i;

	if (c->queue_max == 0 || c->batch_max == 0)
		fatalx("%s: empty queue bounds", __func__);
	r = xcalloc(1, sizeof(*r));
	r->c = *c;
	r->q = xreallocarray(NULL, c->queue_max, sizeof(*r->q));
	for (i = 0; i < 4; i++)
		r->el[i].el = xreallocarray(NULL, c->queue_max,
		    sizeof(struct nft_elem));
	r->db_backoff = DB_BACKOFF_MIN;
	r->nft_backoff = NFT_BACKOFF_MIN;
	return r;
}

void
refresh_free(struct refresh *r)
{
	if (r == NULL)
		return;
	for (int i = 0; i < 4; i++)
		free(r->el[i].el);
	free(r->q);
	free(r);
}

int
refresh_add(struct refresh *r, const struct addr *a)
{
	char buf[ADDR_STRLEN];
	unsigned long n;
	size_t i;

	for (i = 0; i < r->nq; i++) {
		if (addr_cmp(&r->q[i].a, a) == 0) {
			if (r->q[i].hits < UINT32_MAX)
				r->q[i].hits++;
			return 0;
		}
	}
	if (r->nq == r->c.queue_max) {
		if ((n = log_ratelimit(&r->rl_full, LOG_EVERY)) != 0)
			log_warnx("database queue full (%zu addresses): "
			    "dropped %s (%lu dropped since the last report)",
			    r->nq, addr_ntop(a, buf, sizeof(buf)), n);
		return -1;
	}
	if (r->nq == 0)
		r->first_ms = clock_mono_ms();
	r->q[r->nq].a = *a;
	r->q[r->nq].hits = 1;
	r->nq++;
	return 0;
}

static size_t
nft_pending(const struct refresh *r)
{
	return r->el[0].n + r->el[1].n + r->el[2].n + r->el[3].n;
}

size_t
refresh_queued(const struct refresh *r, size_t *nft)
{
	if (nft != NULL)
		*nft = nft_pending(r);
	return r->nq;
}

static uint64_t
db_due(const struct refresh *r)
{
	uint64_t t;

	if (r->nq >= r->c.batch_max)
		t = r->first_ms;
	else
		t = r->first_ms + r->c.window_ms;
	return t > r->db_next ? t : r->db_next;
}

int64_t
refresh_timeout(const struct refresh *r)
{
	uint64_t due = CLOCK_NEVER;

	if (r->nq > 0)
		due = db_due(r);
	if (nft_pending(r) > 0 && r->c.push != NULL && r->nft_next < due)
		due = r->nft_next;
	return clock_ms_until(due);
}

/*
 * Queue a WHITE address (plen 0) or network for nft; an element already
 * queued is kept.
 */
static void
nft_queue(struct refresh *r, const struct addr *a, unsigned int plen)
{
	struct elq *q = &r->el[(a->af == AF_INET6) + 2 * (plen != 0)];
	char buf[ADDR_STRLEN];
	unsigned long n;
	size_t i;

	if (r->c.push == NULL)
		return;
	for (i = 0; i < q->n; i++)
		if (addr_cmp(&q->el[i].a, a) == 0 && q->el[i].plen == plen)
			return;
	if (q->n == r->c.queue_max) {
		if ((n = log_ratelimit(&r->rl_nftfull, LOG_EVERY)) != 0)
			log_warnx("nft queue full (%zu elements): %s keeps "
			    "its old timeout in the white set until "
			    "spamd-nftsync runs (%lu dropped since the last "
			    "report)", q->n, addr_ntop(a, buf, sizeof(buf)),
			    n);
		return;
	}
	memset(&q->el[q->n], 0, sizeof(q->el[q->n]));
	q->el[q->n].a = *a;
	q->el[q->n].plen = (uint8_t)plen;
	q->el[q->n].timeout_ms = (uint64_t)r->c.whiteexp * 1000;
	q->n++;
}

/*
 * With -g, the WHITE network of a host that has no record of its own:
 * 1 with its key and prefix, 0 if there is none, -1 on a read error.
 */
static int
white_net(struct refresh *r, struct greydb *db, const struct addr *a,
    char *key, size_t len, struct cidr *c, struct gd_rec *rec)
{
	char nkey[CIDR_STRLEN];
	int found;

	if (!cidr_of(a, r->c.group4, r->c.group6, c))
		return 0;
	cidr_ntop(c, nkey, sizeof(nkey));
	if ((found = greydb_found(db, nkey, strlen(nkey), rec)) == -1) {
		log_warnx("read %s: %s", nkey, greydb_errstr());
		return -1;
	}
	if (!found || rec->kind != GD_WHITE)
		return 0;
	strlcpy(key, nkey, len);
	return 1;
}

/* Apply the sightings of one address; 0 or -1 on a database error. */
static int
apply(struct refresh *r, struct greydb *db, const struct sighting *s,
    int64_t now)
{
	char key[CIDR_STRLEN], tbuf[32];
	struct gd_rec rec;
	struct cidr net;
	int found, changed = 0, isnet = 0;
	uint32_t h;

	addr_ntop(&s->a, key, sizeof(key));
	if ((found = greydb_found(db, key, strlen(key), &rec)) == -1) {
		log_warnx("read %s: %s", key, greydb_errstr());
		return -1;
	}
	if (!found && (isnet = white_net(r, db, &s->a, key, sizeof(key),
	    &net, &rec)) == -1)
		return -1;
	if (isnet)
		found = 1;
	if (found && rec.kind != GD_WHITE) {
		/* OpenBSD's spamlogd would turn a TRAPPED host WHITE. */
		log_info("%s is %s, not whitelisting it", key,
		    gd_kind_name(rec.kind));
		return 0;
	}
	for (h = 0; h < s->hits; h++) {
		changed |= greylist_refresh(&rec, found, now, r->c.whiteexp);
		found = 1;
	}
	if (!changed)
		return 0;
	if (greydb_put(db, key, strlen(key), &rec) == -1) {
		log_warnx("write %s: %s", key, greydb_errstr());
		return -1;
	}
	log_debug("WHITE %s: pcount %u, expires in %s", key, rec.pcount,
	    util_fmt_time(rec.expire - now, tbuf, sizeof(tbuf)));
	if (isnet)
		nft_queue(r, &net.a, net.plen);
	else {
		nft_queue(r, &s->a, 0);
		if (r->c.sync_white != NULL)
			r->c.sync_white(r->c.sync_arg, &s->a, rec.expire);
	}
	return 0;
}

static void
db_failed(struct refresh *r, const char *why)
{
	r->db_next = clock_mono_ms() + r->db_backoff;
	if (log_ratelimit(&r->rl_db, LOG_EVERY) != 0)
		log_warnx("cannot update the database: %s; keeping %zu "
		    "addresses, next try in %llu ms", why, r->nq,
		    (unsigned long long)r->db_backoff);
	r->db_failing = 1;
	if (r->db_backoff < DB_BACKOFF_MAX)
		r->db_backoff *= 2;
}

static void
db_flush(struct refresh *r, int wait_ms)
{
	struct greydb *db;
	int64_t now = clock_now();
	size_t i, done = 0;

	if ((db = greydb_open(r->c.dbpath, GREYDB_WRITE, wait_ms)) == NULL) {
		db_failed(r, greydb_errstr());
		return;
	}
	for (i = 0; i < r->nq; i++, done++)
		if (apply(r, db, &r->q[i], now) == -1)
			break;
	if (greydb_close(db) == -1) {
		/*
		 * The sync failed: the writes may be lost. Retry them all;
		 * at worst pcount counts some sightings twice.
		 */
		db_failed(r, greydb_errstr());
		return;
	}
	if (done < r->nq) {
		memmove(r->q, r->q + done, (r->nq - done) * sizeof(*r->q));
		r->nq -= done;
		r->first_ms = clock_mono_ms();
		db_failed(r, "a record could not be written");
		return;
	}
	if (r->db_failing)
		log_info("database %s writable again, %zu addresses "
		    "written", r->c.dbpath, done);
	r->nq = 0;
	r->db_failing = 0;
	r->db_backoff = DB_BACKOFF_MIN;
	r->db_next = 0;
}

static void
nft_push(struct refresh *r)
{
	static const char *const setname[4] = { NFT_SET_WHITE4, NFT_SET_WHITE6,
	    NFT_SET_WHITENET4, NFT_SET_WHITENET6 };
	const char *why = "unknown error";
	char tbuf[32];
	int i, rc, failed = 0;

	for (i = 0; i < 4; i++) {
		struct elq *q = &r->el[i];

		if (q->n == 0)
			continue;
		rc = r->c.push(r->c.push_arg, i % 2 ? AF_INET6 : AF_INET, q->el,
		    q->n, &why);
		if (rc >= 0) {
			log_debug("nft: refreshed %zu elements of %s",
			    q->n - (size_t)rc, setname[i]);
			q->n = 0;
			continue;
		}
		failed = 1;
		if (log_ratelimit(&r->rl_nft, LOG_EVERY) != 0)
			log_warnx("nft: cannot refresh %zu elements of %s: "
			    "%s; retrying in %s", q->n, setname[i], why,
			    util_fmt_time((int64_t)(r->nft_backoff + 999) /
			    1000, tbuf, sizeof(tbuf)));
	}
	if (failed) {
		r->nft_next = clock_mono_ms() + r->nft_backoff;
		r->nft_failing = 1;
		if (r->nft_backoff < NFT_BACKOFF_MAX)
			r->nft_backoff *= 2;
		return;
	}
	if (r->nft_failing)
		log_info("nft: white sets refreshed again");
	r->nft_failing = 0;
	r->nft_backoff = NFT_BACKOFF_MIN;
	r->nft_next = 0;
}

void
refresh_run(struct refresh *r, int force)
{
	uint64_t now = clock_mono_ms();

	if (r->nq > 0 && (force || db_due(r) <= now))
		db_flush(r, force ? r->c.final_wait_ms : r->c.lock_wait_ms);
	if (r->c.push == NULL) {
		r->el[0].n = r->el[1].n = r->el[2].n = r->el[3].n = 0;
		return;
	}
	if (nft_pending(r) > 0 && (force || r->nft_next <= now))
		nft_push(r);
}

int
refresh_whiteexp(const char *s, int64_t *out, const char **errstr)
{
	return util_parse_time(s, 3600, REFRESH_WHITEEXP_MIN,
	    REFRESH_WHITEEXP_MAX, out, errstr);
}
