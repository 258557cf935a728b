/*
 * greyscan.c: expire, promote and collect in one pass (see greyscan.h).
 *
 * Phase 1, shared lock: walk every record; remember the keys of expired
 * and corrupt records, one passed tuple per address, and the live WHITE
 * and TRAPPED addresses. Phase 2, exclusive lock in chunks: delete what
 * is still expired, promote what still has no address record. A final
 * gdbm_reorganize runs when most of the file was deleted.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/gdata.h"
#include "common/greydb.h"
#include "common/greyscan.h"
#include "common/log.h"

#define REORG_MIN	10000	/* deletions before a reorganize is worth it */

struct keyv {
	char	**k;
	size_t	 *len;
	size_t	  n, cap;
};

struct passed {
	char		 ip[ADDR_STRLEN];
	struct gd_rec	 rec;		/* the tuple, for the WHITE copy */
};

struct scan {
	struct greyscan_res	*res;
	int64_t			 now;
	struct keyv		 del;
	struct passed		*pass;
	size_t			 npass, cappass;
	int			 oom;
	greyscan_fn		 fn;
	void			*arg;
	int			 fn_errno;	/* fn stopped the pass */
};

static int	addr_of(const char *, size_t, int64_t, struct greyscan_addr *);

/*
 * A live WHITE address (key is the record's key or an address): kept in
 * res->white by greyscan_run, told to the caller's fn by greyscan_stream,
 * which keeps only the count (a million addresses would otherwise sit in
 * memory that nobody reads). 0, or -1: out of memory (s->oom, errno) or
 * fn failed (s->fn_errno).
 */
static int
white(struct scan *s, const char *key, size_t keylen, int64_t expire)
{
	struct greyscan_res *res = s->res;
	struct greyscan_addr one;

	if (s->fn == NULL) {
		if (greyscan_addr_add(&res->white, &res->nwhite,
		    &res->capwhite, key, keylen, expire) == -1) {
			s->oom = 1;
			return -1;
		}
		return 0;
	}
	if (addr_of(key, keylen, expire, &one) == -1)
		return 0;	/* not an address: skipped, as in res->white */
	res->nwhite++;
	if (s->fn(s->arg, &one) == -1) {
		s->fn_errno = errno != 0 ? errno : EIO;
		return -1;
	}
	return 0;
}

static int
keyv_add(struct keyv *v, const char *k, size_t len)
{
	char *c;

	if (v->n == v->cap) {
		size_t ncap = v->cap ? v->cap * 2 : 256;
		char **nk = reallocarray(v->k, ncap, sizeof(*nk));
		size_t *nl;

		if (nk == NULL)
			return -1;
		v->k = nk;
		if ((nl = reallocarray(v->len, ncap, sizeof(*nl))) == NULL)
			return -1;
		v->len = nl;
		v->cap = ncap;
	}
	if ((c = malloc(len)) == NULL)
		return -1;
	memcpy(c, k, len);
	v->k[v->n] = c;
	v->len[v->n++] = len;
	return 0;
}

static void
keyv_free(struct keyv *v)
{
	for (size_t i = 0; i < v->n; i++)
		free(v->k[i]);
	free(v->k);
	free(v->len);
}

/* The address (or network) a key starts with, into *w; -1 if neither. */
static int
addr_of(const char *key, size_t keylen, int64_t expire,
    struct greyscan_addr *w)
{
	struct cidr c;

	if (gd_key_cidr(key, keylen, &c) == -1)
		return -1;
	w->a = c.a;
	w->plen = c.plen == 8 * addr_len(&c.a) ? 0 : c.plen;
	w->expire = expire;
	return 0;
}

int
greyscan_addr_add(struct greyscan_addr **v, size_t *n, size_t *cap,
    const char *key, size_t keylen, int64_t expire)
{
	struct greyscan_addr w;

	if (addr_of(key, keylen, expire, &w) == -1)
		return 0;
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		struct greyscan_addr *nv = reallocarray(*v, ncap, sizeof(*nv));

		if (nv == NULL)
			return -1;
		*v = nv;
		*cap = ncap;
	}
	(*v)[(*n)++] = w;
	return 0;
}

static int
walk(const char *key, size_t keylen, const struct gd_rec *r, const char *why,
    void *arg)
{
	struct scan *s = arg;
	struct greyscan_res *res = s->res;
	const char *nl;

	(void)why;
	res->records++;
	if (r == NULL) {
		res->corrupt++;
		if (keyv_add(&s->del, key, keylen) == -1)
			s->oom = 1;
		return s->oom ? GREYDB_STOP : GREYDB_KEEP;
	}
	if (greylist_expired(r, s->now)) {
		res->expired++;
		if (keyv_add(&s->del, key, keylen) == -1)
			s->oom = 1;
		return s->oom ? GREYDB_STOP : GREYDB_KEEP;
	}
	switch (r->kind) {
	case GD_WHITE:
		if (white(s, key, keylen, r->expire) == -1)
			return GREYDB_STOP;
		break;
	case GD_TRAPPED:
		if (greyscan_addr_add(&res->trapped, &res->ntrapped,
		    &res->captrapped, key, keylen, r->expire) == -1)
			s->oom = 1;
		break;
	case GD_SPAMTRAP:
		res->spamtraps++;
		break;
	case GD_GREY:
		res->grey++;
		if (!greylist_passed(r, s->now))
			break;
		if ((nl = memchr(key, '\n', keylen)) == NULL ||
		    (size_t)(nl - key) >= ADDR_STRLEN)
			break;
		if (s->npass == s->cappass) {
			size_t ncap = s->cappass ? s->cappass * 2 : 64;
			struct passed *np = reallocarray(s->pass, ncap,
			    sizeof(*np));

			if (np == NULL) {
				s->oom = 1;
				break;
			}
			s->pass = np;
			s->cappass = ncap;
		}
		memcpy(s->pass[s->npass].ip, key, (size_t)(nl - key));
		s->pass[s->npass].ip[nl - key] = '\0';
		s->pass[s->npass++].rec = *r;
		break;
	}
	return s->oom ? GREYDB_STOP : GREYDB_KEEP;
}

/* Delete the collected keys that are still expired or corrupt. */
static int
delete_chunk(struct greydb *db, struct scan *s, size_t lo, size_t hi)
{
	struct gd_rec r;

	/* The walk logged the corrupt ones already. */
	greydb_quiet(db, 1);
	for (size_t i = lo; i < hi; i++) {
		int g = greydb_get(db, s->del.k[i], s->del.len[i], &r);

		if (g == -1)
			return -1;
		if (g == GREYDB_NOTFOUND ||
		    (g == GREYDB_OK && !greylist_expired(&r, s->now)))
			continue;	/* refreshed or gone meanwhile */
		if (greydb_del(db, s->del.k[i], s->del.len[i]) == -1)
			return -1;
	}
	return 0;
}

static int
promote_chunk(struct greydb *db, struct scan *s, size_t lo, size_t hi,
    const struct greylist_params *p, int dry)
{
	struct greyscan_res *res = s->res;
	struct gd_rec r, w;

	for (size_t i = lo; i < hi; i++) {
		const char *ip = s->pass[i].ip;
		int g = greydb_get(db, ip, strlen(ip), &r);

		if (g == -1)
			return -1;
		if (g == GREYDB_OK && !greylist_expired(&r, s->now))
			continue;	/* WHITE already, or TRAPPED */
		greylist_white_from_tuple(&w, &s->pass[i].rec, s->now, p);
		if (!dry && greydb_put(db, ip, strlen(ip), &w) == -1)
			return -1;
		res->promoted++;
		if (!dry)
			log_verbose("whitelisting %s", ip);
		if (white(s, ip, strlen(ip), w.expire) == -1)
			return -1;
	}
	return 0;
}

static int
change(const char *dbpath, struct scan *s, const struct greylist_params *p)
{
	struct greydb *db;
	size_t i, n;

	for (i = 0; i < s->del.n || i < s->npass; i += GREYSCAN_CHUNK) {
		if ((db = greydb_open(dbpath, GREYDB_WRITE, GREYDB_WAIT)) ==
		    NULL)
			return -1;
		n = i + GREYSCAN_CHUNK;
		if ((i < s->del.n && delete_chunk(db, s, i,
		    n < s->del.n ? n : s->del.n) == -1) ||
		    (i < s->npass && promote_chunk(db, s, i,
		    n < s->npass ? n : s->npass, p, 0) == -1)) {
			greydb_close(db);
			return -1;
		}
		if (greydb_close(db) == -1)
			return -1;
	}
	return 0;
}

static int
maybe_reorganize(const char *dbpath, struct greyscan_res *res)
{
	struct greydb *db;
	size_t gone = res->expired + res->corrupt;

	if (gone < REORG_MIN || gone * 2 < res->records)
		return 0;
	if ((db = greydb_open(dbpath, GREYDB_WRITE, GREYDB_WAIT)) == NULL)
		return -1;
	if (greydb_reorganize(db) == -1) {
		greydb_close(db);
		return -1;
	}
	res->reorganized = 1;
	return greydb_close(db);
}

/* Passed tuples: one per address is enough to promote it. */
static int
cmp_passed(const void *a, const void *b)
{
	return strcmp(((const struct passed *)a)->ip,
	    ((const struct passed *)b)->ip);
}

int
greyscan_run(const char *dbpath, int64_t now, const struct greylist_params *p,
    int flags, struct greyscan_res *res)
{
	return greyscan_stream(dbpath, now, p, flags, res, NULL, NULL);
}

int
greyscan_stream(const char *dbpath, int64_t now,
    const struct greylist_params *p, int flags, struct greyscan_res *res,
    greyscan_fn fn, void *arg)
{
	struct scan s;
	struct greydb *db;
	size_t i, k;
	int rc = -1;

	memset(res, 0, sizeof(*res));
	memset(&s, 0, sizeof(s));
	s.res = res;
	s.now = now;
	s.fn = fn;
	s.arg = arg;
	if ((db = greydb_open(dbpath, GREYDB_READ, GREYDB_WAIT)) == NULL)
		return -1;
	if (greydb_walk(db, walk, &s) == -1) {
		greydb_close(db);
		goto done;
	}
	greydb_close(db);
	if (s.fn_errno != 0)
		goto done;
	if (s.oom) {
		errno = ENOMEM;
		log_warnx("%s: out of memory while scanning", dbpath);
		goto done;
	}
	if (s.npass > 0) {
		qsort(s.pass, s.npass, sizeof(*s.pass), cmp_passed);
		for (i = 1, k = 1; i < s.npass; i++)
			if (strcmp(s.pass[i].ip, s.pass[k - 1].ip) != 0)
				s.pass[k++] = s.pass[i];
		s.npass = k;
	}
	if (flags & GREYSCAN_CHANGE) {
		if (change(dbpath, &s, p) == -1 ||
		    maybe_reorganize(dbpath, res) == -1)
			goto done;
	} else if (s.npass > 0) {
		/* Count what would be promoted, without writing. */
		if ((db = greydb_open(dbpath, GREYDB_READ, GREYDB_WAIT)) ==
		    NULL)
			goto done;
		rc = promote_chunk(db, &s, 0, s.npass, p, 1);
		greydb_close(db);
		if (rc == -1)
			goto done;
	}
	rc = s.fn_errno != 0 ? -1 : 0;
done:
	if (rc == -1 && s.fn_errno != 0) {
		log_warnx("%s: the scan was stopped: %s", dbpath,
		    strerror(s.fn_errno));
		errno = s.fn_errno;
	}
	keyv_free(&s.del);
	free(s.pass);
	if (rc == -1)
		greyscan_free(res);
	return rc;
}

void
greyscan_free(struct greyscan_res *res)
{
	free(res->white);
	free(res->trapped);
	res->white = res->trapped = NULL;
	res->nwhite = res->ntrapped = res->capwhite = res->captrapped = 0;
}
