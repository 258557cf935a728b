/*
 * greylist.h: the record rules of greylisting, as pure functions on
 * struct gd_rec, shared by spamd's greylister, spamlogd, spamdb and
 * spamd-nftsync so that every program ages and promotes records alike.
 *
 *	greylist_tuple(r, found, now, p)	a RCPT was seen for this tuple;
 *		returns 1 if this sighting made the tuple pass (a retry after
 *		passtime, before the tuple expired), 0 otherwise; an
 *		expired tuple is recorded as a new one
 *	greylist_trap(r, found, now, p)		the IP hit a trap: make its
 *		IP-keyed record TRAPPED
 *	greylist_white_from_tuple(w, t, now, p)	the WHITE record that a
 *		passed tuple t creates
 *	greylist_refresh(r, found, now, whiteexp)	spamlogd saw traffic:
 *		returns 1 if r was created or refreshed, 0 if left alone
 *		(TRAPPED stays TRAPPED; OpenBSD turns it WHITE)
 *	greylist_expired(r, now)	1 if the record should be deleted
 *	greylist_passed(r, now)		1 for a GREY tuple that passed
 *	greylist_spamdb_white(r, found, now, whiteexp)	spamdb -a
 *	greylist_spamdb_trapped(r, found, now, trapexp)	spamdb -t -a
 *	greylist_spamdb_spamtrap(r, found, now)		spamdb -T -a
 *
 * `found' says whether r holds the existing record (1) or nothing (0).
 * OpenBSD's semantics are in spec/openbsd-spamd.md §2.2-§3.3 and §5;
 * deliberate differences are marked "differs" below and in the man pages.
 */
#ifndef GREYLIST_H
#define GREYLIST_H

#include <stdint.h>

#include "common/gdata.h"

struct greylist_params {
	int64_t	passtime;	/* 25 min */
	int64_t	greyexp;	/* 4 h */
	int64_t	whiteexp;	/* 36 d */
	int64_t	trapexp;	/* 24 h */
};

#define GREYLIST_PASSTIME	(25 * 60)
#define GREYLIST_GREYEXP	(4 * 3600)
#define GREYLIST_WHITEEXP	(36 * 86400)
#define GREYLIST_TRAPEXP	(24 * 3600)

int	greylist_tuple(struct gd_rec *, int, int64_t,
	    const struct greylist_params *);
void	greylist_trap(struct gd_rec *, int, int64_t,
	    const struct greylist_params *);
void	greylist_white_from_tuple(struct gd_rec *, const struct gd_rec *,
	    int64_t, const struct greylist_params *);
int	greylist_refresh(struct gd_rec *, int, int64_t, int64_t);
int	greylist_expired(const struct gd_rec *, int64_t);
int	greylist_passed(const struct gd_rec *, int64_t);
void	greylist_spamdb_white(struct gd_rec *, int, int64_t, int64_t);
void	greylist_spamdb_trapped(struct gd_rec *, int, int64_t, int64_t);
void	greylist_spamdb_spamtrap(struct gd_rec *, int, int64_t);

#endif /* GREYLIST_H */
