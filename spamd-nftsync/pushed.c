/*
 * pushed.c: the record of what spamd-nftsync last put into the white
 * sets, and the difference between two such lists (see pushed.h).
 *
 * File layout (integers big-endian, as in the database):
 *	16 bytes	"spamd-nftsync 1\n"
 *	8		signature of the table (nft_signature)
 *	8		time written (seconds)
 *	4 x 8		elements of each set, in PUSHED_NSETS order
 *	then each set's elements, in no order, 25 bytes each:
 *	16 key, 1 prefix length, 8 expiry (seconds)
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "spamd-nftsync/pushed.h"

#define MAGIC		"spamd-nftsync 1\n"
#define HDR_LEN		(16 + 8 + 8 + PUSHED_NSETS * 8)
#define REC_LEN		25
#define WBUF_LEN	(1024 * 1024)

static int
elem_cmp(const struct pushed_elem *a, const struct pushed_elem *b)
{
	int c = memcmp(a->key, b->key, sizeof(a->key));

	if (c != 0)
		return c;
	return (int)a->plen - (int)b->plen;
}

void
pushed_free(struct pushed *p)
{
	int i;

	for (i = 0; i < PUSHED_NSETS; i++)
		free(p->set[i].e);
	memset(p, 0, sizeof(*p));
}

/* Read exactly len bytes; 0, or -1 with errno (EIO at a short file). */
static int
read_all(int fd, uint8_t *buf, size_t len)
{
	ssize_t r;

	while (len > 0) {
		r = read(fd, buf, len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return -1;
		if (r == 0) {
			errno = EIO;
			return -1;
		}
		buf += r;
		len -= (size_t)r;
	}
	return 0;
}

static int
parse(int fd, const struct stat *st, struct pushed *p, uint64_t sig,
    char *why, size_t whylen)
{
	uint8_t hdr[HDR_LEN], *buf = NULL, *q;
	uint64_t cnt[PUSHED_NSETS], total = 0;
	size_t i, len;
	int s;

	if ((size_t)st->st_size < HDR_LEN) {
		snprintf(why, whylen, "too short (%lld bytes)",
		    (long long)st->st_size);
		return -1;
	}
	if (read_all(fd, hdr, sizeof(hdr)) == -1) {
		snprintf(why, whylen, "read: %s", strerror(errno));
		return -1;
	}
	if (memcmp(hdr, MAGIC, 16) != 0) {
		snprintf(why, whylen, "not a spamd-nftsync record");
		return -1;
	}
	p->sig = util_get64(hdr + 16);
	p->when = (int64_t)util_get64(hdr + 24);
	if (p->sig != sig)
		return 2;	/* for other handles: the rest is of no use */
	for (s = 0; s < PUSHED_NSETS; s++) {
		cnt[s] = util_get64(hdr + 32 + 8 * s);
		if (cnt[s] > PUSHED_MAX) {
			snprintf(why, whylen, "%llu elements in one set",
			    (unsigned long long)cnt[s]);
			return -1;
		}
		total += cnt[s];
	}
	if ((uint64_t)st->st_size != HDR_LEN + total * REC_LEN) {
		snprintf(why, whylen, "%lld bytes where its header says %llu",
		    (long long)st->st_size,
		    (unsigned long long)(HDR_LEN + total * REC_LEN));
		return -1;
	}
	len = (size_t)total * REC_LEN;
	if (len > 0 && (buf = malloc(len)) == NULL) {
		snprintf(why, whylen, "malloc: %s", strerror(errno));
		return -1;
	}
	if (len > 0 && read_all(fd, buf, len) == -1) {
		snprintf(why, whylen, "read: %s", strerror(errno));
		free(buf);
		return -1;
	}
	q = buf;
	for (s = 0; s < PUSHED_NSETS; s++) {
		struct pushed_set *set = &p->set[s];

		set->n = (size_t)cnt[s];
		if (set->n > 0 && (set->e = calloc(set->n,
		    sizeof(*set->e))) == NULL) {
			snprintf(why, whylen, "calloc: %s", strerror(errno));
			free(buf);
			return -1;
		}
		for (i = 0; i < set->n; i++, q += REC_LEN) {
			struct pushed_elem *e = &set->e[i];

			memcpy(e->key, q, 16);
			e->plen = q[16];
			e->expire = (int64_t)util_get64(q + 17);
			if (e->plen > 128) {
				snprintf(why, whylen, "element %zu of set %d: "
				    "prefix length %u", i, s, e->plen);
				free(buf);
				return -1;
			}
		}
	}
	free(buf);
	return 0;
}

int
pushed_load(const char *path, struct pushed *p, uint64_t sig, char *why,
    size_t whylen)
{
	struct stat st;
	int fd, rc;

	memset(p, 0, sizeof(*p));
	why[0] = '\0';
	/* No symlink, FIFO or second hard link (DESIGN.md 4.3). */
	if ((fd = util_open_file(path, O_RDONLY, 0, why, whylen)) == -1)
		return errno == ENOENT ? 1 : -1;
	if (fstat(fd, &st) == -1) {
		snprintf(why, whylen, "fstat: %s", strerror(errno));
		close(fd);
		return -1;
	}
	rc = parse(fd, &st, p, sig, why, whylen);
	close(fd);
	if (rc == -1)
		pushed_free(p);
	return rc;
}

/* Append len bytes through the buffer; 0 or -1 (errno). */
static int
wbuf(int fd, uint8_t *buf, size_t *used, const uint8_t *src, size_t len)
{
	ssize_t w;
	size_t off;

	if (*used + len > WBUF_LEN || src == NULL) {
		for (off = 0; off < *used; off += (size_t)w) {
			w = write(fd, buf + off, *used - off);
			if (w == -1 && errno == EINTR) {
				w = 0;
				continue;
			}
			if (w == -1)
				return -1;
		}
		*used = 0;
	}
	if (src != NULL) {
		memcpy(buf + *used, src, len);
		*used += len;
	}
	return 0;
}

int
pushed_save(const char *path, const struct pushed *p)
{
	char tmp[4096], why[256];
	uint8_t hdr[HDR_LEN], rec[REC_LEN], *buf;
	size_t used = 0, i;
	int fd, s, saved;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >=
	    sizeof(tmp)) {
		log_warnx("%s: path too long", path);
		return -1;
	}
	if ((buf = malloc(WBUF_LEN)) == NULL) {
		log_warn("malloc");
		return -1;
	}
	if (unlink(tmp) == -1 && errno != ENOENT) {
		log_warn("unlink %s", tmp);
		free(buf);
		return -1;
	}
	if ((fd = util_open_file(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600,
	    why, sizeof(why))) == -1) {
		log_warnx("%s: %s", tmp, why);
		free(buf);
		return -1;
	}
	memcpy(hdr, MAGIC, 16);
	util_put64(hdr + 16, p->sig);
	util_put64(hdr + 24, (uint64_t)p->when);
	for (s = 0; s < PUSHED_NSETS; s++)
		util_put64(hdr + 32 + 8 * s, p->set[s].n);
	if (wbuf(fd, buf, &used, hdr, sizeof(hdr)) == -1)
		goto fail;
	for (s = 0; s < PUSHED_NSETS; s++) {
		for (i = 0; i < p->set[s].n; i++) {
			const struct pushed_elem *e = &p->set[s].e[i];

			memcpy(rec, e->key, 16);
			rec[16] = e->plen;
			util_put64(rec + 17, (uint64_t)e->expire);
			if (wbuf(fd, buf, &used, rec, sizeof(rec)) == -1)
				goto fail;
		}
	}
	if (wbuf(fd, buf, &used, NULL, 0) == -1)
		goto fail;
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) == -1)
		goto fail;
	free(buf);
	return 0;
 fail:
	saved = errno;
	if (fd != -1)
		close(fd);
	(void)unlink(tmp);
	free(buf);
	errno = saved;
	log_warn("writing %s", path);
	return -1;
}

int
pushed_remove(const char *path)
{
	if (unlink(path) == -1 && errno != ENOENT) {
		log_warn("unlink %s", path);
		return -1;
	}
	return 0;
}

static int
grow(struct nft_elem **v, size_t n, size_t *cap)
{
	struct nft_elem *nv;
	size_t ncap;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 256;
	if ((nv = reallocarray(*v, ncap, sizeof(*nv))) == NULL)
		return -1;
	*v = nv;
	*cap = ncap;
	return 0;
}

static int
emit(struct nft_elem **v, size_t *n, size_t *cap,
    const struct pushed_elem *e, uint8_t af, int64_t now)
{
	struct nft_elem *x;

	if (grow(v, *n, cap) == -1)
		return -1;
	x = &(*v)[(*n)++];
	memset(x, 0, sizeof(*x));
	x->a.af = af;
	memcpy(x->a.u.b, e->key, af == AF_INET ? 4 : 16);
	x->plen = e->plen;
	if (e->expire > now)
		x->timeout_ms = (uint64_t)(e->expire - now) * 1000;
	return 0;
}

void
pushed_diff_free(struct pushed_diff *d)
{
	free(d->add);
	free(d->del);
	free(d->refresh);
	memset(d, 0, sizeof(*d));
}

/* A mix of the element's key and prefix length, for the index. */
static uint64_t
elem_hash(const struct pushed_elem *e)
{
	uint64_t a, b, h;

	memcpy(&a, e->key, 8);
	memcpy(&b, e->key + 8, 8);
	h = (a ^ (b * 0x9e3779b97f4a7c15ULL) ^ e->plen) *
	    0xbf58476d1ce4e5b9ULL;
	return h ^ (h >> 31);
}

/*
 * An open-addressing index of old's elements: slot i holds an element
 * number + 1, or 0. The lists come in the database's walk order, and
 * hashing is several times cheaper than sorting a million elements.
 */
struct index {
	uint32_t	*slot;
	size_t		 mask;
};

static int
index_build(struct index *ix, const struct pushed_set *old)
{
	size_t cap = 16, i, h;

	while (cap < old->n * 2)
		cap *= 2;
	if ((ix->slot = calloc(cap, sizeof(*ix->slot))) == NULL)
		return -1;
	ix->mask = cap - 1;
	for (i = 0; i < old->n; i++) {
		for (h = elem_hash(&old->e[i]) & ix->mask; ix->slot[h] != 0;
		    h = (h + 1) & ix->mask)
			if (elem_cmp(&old->e[ix->slot[h] - 1],
			    &old->e[i]) == 0)
				break;	/* a duplicate: keep the first */
		if (ix->slot[h] == 0)
			ix->slot[h] = (uint32_t)(i + 1);
	}
	return 0;
}

/* old's element equal to e, or SIZE_MAX. */
static size_t
index_find(const struct index *ix, const struct pushed_set *old,
    const struct pushed_elem *e)
{
	size_t h;

	for (h = elem_hash(e) & ix->mask; ix->slot[h] != 0;
	    h = (h + 1) & ix->mask)
		if (elem_cmp(&old->e[ix->slot[h] - 1], e) == 0)
			return ix->slot[h] - 1;
	return SIZE_MAX;
}

int
pushed_diff(const struct pushed_set *old, const struct pushed_set *new,
    uint8_t af, int64_t now, int64_t slack, struct pushed_diff *d)
{
	struct index ix = { NULL, 0 };
	uint8_t *seen = NULL;
	size_t i, k, capa = 0, capd = 0, capr = 0;
	int64_t dt;
	int rc = 0;

	memset(d, 0, sizeof(*d));
	if (old->n > UINT32_MAX - 1) {
		errno = E2BIG;
		return -1;
	}
	if (old->n == 0) {	/* an empty set's fill: all of new, no index */
		for (i = 0; rc == 0 && i < new->n; i++)
			rc = emit(&d->add, &d->nadd, &capa, &new->e[i], af,
			    now);
		if (rc == -1)
			pushed_diff_free(d);
		return rc;
	}
	if (index_build(&ix, old) == -1 ||
	    (seen = calloc(old->n ? old->n : 1, 1)) == NULL) {
		free(ix.slot);
		return -1;
	}
	for (i = 0; rc == 0 && i < new->n; i++) {
		if ((k = index_find(&ix, old, &new->e[i])) == SIZE_MAX) {
			rc = emit(&d->add, &d->nadd, &capa, &new->e[i], af,
			    now);
			continue;
		}
		seen[k] = 1;
		dt = new->e[i].expire - old->e[k].expire;
		if (dt > slack || dt < -slack)
			rc = emit(&d->refresh, &d->nrefresh, &capr,
			    &new->e[i], af, now);
	}
	for (i = 0; rc == 0 && i < old->n; i++)
		if (!seen[i] && index_find(&ix, old, &old->e[i]) == i)
			rc = emit(&d->del, &d->ndel, &capd, &old->e[i], af,
			    now);
	free(seen);
	free(ix.slot);
	if (rc == -1) {
		pushed_diff_free(d);
		return -1;
	}
	return 0;
}
