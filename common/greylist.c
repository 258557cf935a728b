/*
 * greylist.c: how sightings, traps, passes and expiry change a record
 * (see greylist.h). Pure: no I/O, no clock of its own, no logging.
 */
#include <string.h>

#include "common/greylist.h"

/* A record seen for the first time now: one sighting, nothing else. */
static void
fresh(struct gd_rec *r, int64_t now)
{
	memset(r, 0, sizeof(*r));
	r->first = now;
	r->bcount = 1;
}

int
greylist_tuple(struct gd_rec *r, int found, int64_t now,
    const struct greylist_params *p)
{
	/*
	 * An expired tuple that the cron job has not purged yet starts
	 * over: OpenBSD's scanner deletes it before anything can promote
	 * it, and a retry hours late is no proof of a real MTA.
	 */
	if (!found || r->kind != GD_GREY || r->expire <= now) {
		fresh(r, now);
		r->kind = GD_GREY;
		r->pass = r->expire = now + p->greyexp;
		return 0;
	}
	/* A retry: count it; it passes once passtime has strictly elapsed.
	 * The expiry is never extended, as in OpenBSD. */
	if (r->bcount < UINT32_MAX)
		r->bcount++;
	r->pcount = 0;
	if (r->first + p->passtime < now) {
		r->pass = now;
		return 1;
	}
	return 0;
}

/*
 * Trap the client: a new IP record is TRAPPED for trapexp. An existing
 * TRAPPED record only counts the hit (its expiry stays, as in OpenBSD).
 * differs: OpenBSD turns an existing WHITE record TRAPPED with the WHITE
 * expiry (up to 36 days, or seconds); we give it a fresh trapexp.
 */
void
greylist_trap(struct gd_rec *r, int found, int64_t now,
    const struct greylist_params *p)
{
	if (found && r->kind == GD_TRAPPED) {
		if (r->bcount < UINT32_MAX)
			r->bcount++;
		return;
	}
	if (!found || r->kind != GD_WHITE) {
		fresh(r, now);
	} else if (r->bcount < UINT32_MAX)
		r->bcount++;
	r->kind = GD_TRAPPED;
	r->pcount = 0;
	r->pass = r->expire = now + p->trapexp;
}

/* The WHITE record of a passed tuple: a copy of its counters and times. */
void
greylist_white_from_tuple(struct gd_rec *w, const struct gd_rec *t,
    int64_t now, const struct greylist_params *p)
{
	*w = *t;
	w->kind = GD_WHITE;
	w->expire = now + p->whiteexp;
}

int
greylist_refresh(struct gd_rec *r, int found, int64_t now, int64_t whiteexp)
{
	if (!found) {
		fresh(r, now);
		r->kind = GD_WHITE;
		r->pass = now;
		r->expire = now + whiteexp;
		return 1;
	}
	if (r->kind != GD_WHITE)
		return 0;
	if (r->pcount < UINT32_MAX)
		r->pcount++;
	r->expire = now + whiteexp;
	return 1;
}

int
greylist_expired(const struct gd_rec *r, int64_t now)
{
	return r->kind != GD_SPAMTRAP && r->expire <= now;
}

int
greylist_passed(const struct gd_rec *r, int64_t now)
{
	return r->kind == GD_GREY && r->pass <= now && r->expire > now;
}

/*
 * spamdb -a: OpenBSD increments pcount first, then makes the record WHITE
 * (so -a on a TRAPPED address whitelists it, and its pcount goes from
 * -1 to 0; ours is 0 for TRAPPED records, so it stays 0).
 */
void
greylist_spamdb_white(struct gd_rec *r, int found, int64_t now,
    int64_t whiteexp)
{
	if (!found) {
		fresh(r, now);
	} else if (r->kind == GD_WHITE) {
		if (r->pcount < UINT32_MAX)
			r->pcount++;
	} else
		r->pcount = 0;
	r->kind = GD_WHITE;
	r->pass = now;
	r->expire = now + whiteexp;
}

void
greylist_spamdb_trapped(struct gd_rec *r, int found, int64_t now,
    int64_t trapexp)
{
	if (!found) {
		fresh(r, now);
	}
	r->kind = GD_TRAPPED;
	r->pcount = 0;
	r->expire = now + trapexp;
}

void
greylist_spamdb_spamtrap(struct gd_rec *r, int found, int64_t now)
{
	if (!found) {
		fresh(r, now);
	}
	r->kind = GD_SPAMTRAP;
	r->pcount = 0;
	r->pass = 0;
	r->expire = 0;
}
