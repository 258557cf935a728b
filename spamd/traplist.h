/*
 * traplist.h: the addresses the greylister has TRAPPED, held by the SMTP
 * process so that their connections are tarpitted as if blacklisted
 * (OpenBSD's internal list "spamd-greytrap"). sdl holds the membership
 * for lookups and replies; this table holds each trap's expiry.
 *
 *	traplist_set(addr, expire)	add or update; expire 0 removes
 *	traplist_hit(addr, now)		1 if addr is trapped at `now'
 *	traplist_count()		live entries (expired ones are pruned
 *					lazily)
 *	traplist_clear()
 *	traplist_begin()		a full list follows: entries set from
 *					now on belong to a new generation
 *	traplist_sweep(fn)		remove every entry the full list did
 *					not name, calling fn(addr) for each
 *
 * An open-addressing hash keyed by the address; expired entries are
 * treated as absent and reused.
 */
#ifndef TRAPLIST_H
#define TRAPLIST_H

#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"


int	traplist_set(const struct addr *, int64_t);
int	traplist_hit(const struct addr *, int64_t);
size_t	traplist_count(void);
void	traplist_clear(void);
void	traplist_begin(void);
size_t	traplist_sweep(void (*)(const struct addr *));

#endif /* TRAPLIST_H */
