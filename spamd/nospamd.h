/*
 * nospamd.h: policy mode's copy of the nft sets nospamd and nospamd6, the
 * administrator's permanent bypass list. In redirect mode those hosts
 * never reach spamd (the ruleset skips them); in policy mode Postfix asks
 * about every client, so the SMTP process must know the list itself.
 * The nft helper reads the sets (it alone may) and sends them whenever
 * they change; this file keeps them for lookups.
 *
 *	nospamd_begin()		a new list starts (the old one still answers)
 *	nospamd_add(c, n)	n CIDR blocks of it; -1 when out of memory
 *		(the new list is then dropped at nospamd_end, logged)
 *	nospamd_end()		the new list replaces the old: sorted, merged
 *		into disjoint ranges; returns the number of ranges
 *	nospamd_has(a)		1 if a is in a block of the list
 *	nospamd_clear()		forget everything (tests, exit)
 *
 * Lookups are a binary search over the merged ranges.
 */
#ifndef NOSPAMD_H
#define NOSPAMD_H

#include <stddef.h>

#include "common/addr.h"

void	nospamd_begin(void);
int	nospamd_add(const struct cidr *, size_t);
size_t	nospamd_end(void);
int	nospamd_has(const struct addr *);
void	nospamd_clear(void);

#endif /* NOSPAMD_H */
