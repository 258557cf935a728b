/*
 * nftpend.c: the nft helper's pending additions, replaces, back-off and
 * resync requests (nftpend.h). Nothing here talks to the kernel.
 */
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "spamd/nftpend.h"

struct entries {
	struct proto_entry	*v;
	size_t			 n, cap;
};

struct nftpend {
	struct nftpend_conf	 c;
	struct entries		 pending, replace;
	int			 in_replace;
	int			 need_resync;
	int			 missing;	/* the last failure: no table/set */
	int			 watch_ok;	/* the signature can be read */
	int			 failing;
	uint64_t		 retry_ms;
	uint64_t		 due_ms;	/* next push; CLOCK_NEVER if none */
	uint64_t		 sig;		/* the table's, at the last look */
	int			 sig_known;
	struct log_ratelimit	 rl_full;
};

static int
entries_add(struct entries *e, const struct proto_entry *v, size_t n,
    size_t max)
{
	if (e->n + n > max)
		return -1;
	if (e->n + n > e->cap) {
		size_t ncap = e->cap ? e->cap : 1024;
		struct proto_entry *nv;

		while (ncap < e->n + n)
			ncap *= 2;
		if ((nv = reallocarray(e->v, ncap, sizeof(*nv))) == NULL)
			return -1;
		e->v = nv;
		e->cap = ncap;
	}
	memcpy(e->v + e->n, v, n * sizeof(*v));
	e->n += n;
	return 0;
}

static void
entries_clear(struct entries *e)
{
	free(e->v);
	memset(e, 0, sizeof(*e));
}

/* Hand entries to the kernel; log the first failure after a success. */
static int
apply(struct nftpend *p, const struct entries *e, int replace)
{
	const char *why = "unknown error";
	int missing = 0;

	if (p->c.apply(p->c.arg, e->v, e->n, replace, &why, &missing) == 0)
		return 0;
	if (!p->failing)
		log_warnx("cannot update nftables: %s; will retry", why);
	if (missing)
		p->need_resync = 1;
	p->missing = missing;
	return -1;
}

static void
retry_later(struct nftpend *p)
{
	p->failing = 1;
	p->due_ms = clock_mono_ms() + p->retry_ms;
	if ((p->retry_ms *= 2) > p->c.retry_max_ms)
		p->retry_ms = p->c.retry_max_ms;
}

static void
ask_resync(struct nftpend *p)
{
	p->need_resync = 0;
	p->c.resync(p->c.arg);
}

static void
recovered(struct nftpend *p)
{
	if (p->failing)
		log_warnx("nftables updates work again");
	p->failing = 0;
	p->missing = 0;
	p->retry_ms = p->c.retry_min_ms;
	if (p->need_resync)
		ask_resync(p);
}

static void
push(struct nftpend *p)
{
	if (p->pending.n == 0) {
		/*
		 * Nothing to add: the retry is a whole-list resync, and the
		 * REPLACE it brings is the probe. Its outcome, not this
		 * request, says whether nftables works again. While the
		 * table or a set is missing and the watch works, the watch
		 * says when it is back: each probe would cost the greylister
		 * a walk of the whole database.
		 */
		if (p->need_resync && !(p->missing && p->watch_ok))
			ask_resync(p);
		return;
	}
	/* The greylister may name an address in several messages. */
	p->pending.n = proto_entries_uniq(p->pending.v, p->pending.n);
	if (apply(p, &p->pending, 0) == -1) {
		retry_later(p);
		return;
	}
	entries_clear(&p->pending);
	recovered(p);
}

struct nftpend *
nftpend_new(const struct nftpend_conf *c)
{
	struct nftpend *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->c = *c;
	p->retry_ms = c->retry_min_ms;
	p->due_ms = CLOCK_NEVER;
	return p;
}

void
nftpend_add(struct nftpend *p, const struct proto_entry *e, size_t n)
{
	if (entries_add(&p->pending, e, n, p->c.pending_max) == -1) {
		if (log_ratelimit(&p->rl_full, 10) != 0)
			log_warnx("%zu addresses waiting for nftables: "
			    "dropped some; the next resync restores them",
			    p->pending.n);
		p->need_resync = 1;
		return;
	}
	if (!p->failing)
		p->due_ms = clock_mono_ms();
}

void
nftpend_replace_begin(struct nftpend *p)
{
	entries_clear(&p->replace);
	p->in_replace = 1;
}

void
nftpend_replace_add(struct nftpend *p, const struct proto_entry *e, size_t n)
{
	if (p->in_replace &&
	    entries_add(&p->replace, e, n, SIZE_MAX / 2) == -1)
		log_warnx("out of memory for the whitelist");
}

void
nftpend_replace_end(struct nftpend *p)
{
	if (!p->in_replace)
		return;
	p->in_replace = 0;
	if (apply(p, &p->replace, 1) == -1) {
		/* The greylister sends a fresh list when we ask again. */
		p->need_resync = 1;
		retry_later(p);
	} else {
		/* A replace holds every pending addition too. */
		entries_clear(&p->pending);
		recovered(p);
	}
	entries_clear(&p->replace);
}

int
nftpend_watch(struct nftpend *p, int ok, uint64_t sig)
{
	int changed;

	p->watch_ok = ok;
	if (!ok)
		return 0;
	changed = p->sig_known && sig != p->sig;
	p->sig = sig;
	p->sig_known = 1;
	if (changed) {
		p->missing = 0;
		ask_resync(p);
	}
	return changed;
}

int64_t
nftpend_timeout(const struct nftpend *p)
{
	return clock_ms_until(p->due_ms);
}

void
nftpend_run(struct nftpend *p)
{
	if (p->due_ms > clock_mono_ms())
		return;
	p->due_ms = CLOCK_NEVER;
	push(p);
}

size_t
nftpend_pending(const struct nftpend *p)
{
	return p->pending.n;
}

int
nftpend_failing(const struct nftpend *p)
{
	return p->failing;
}

void
nftpend_free(struct nftpend *p)
{
	if (p == NULL)
		return;
	entries_clear(&p->pending);
	entries_clear(&p->replace);
	free(p);
}
