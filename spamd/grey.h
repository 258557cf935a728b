/*
 * grey.h: the greylister's helpers that spamd.c and tests call directly
 * (grey_main itself is declared in spamd.h with the other process mains).
 *
 *	grey_load_alloweddomains(path)	read the allowed recipient domains
 *	grey_trapcheck(db, to)	1 if the RCPT value `to' is a greytrap: not
 *		in an allowed domain, or a SPAMTRAP address
 *	grey_spamtraps_counted(gen, n)	a walk of the whole database found
 *		n SPAMTRAP records, under spamtrap generation gen
 *		(greydb_trapgen of its handle). While n is 0 and db's
 *		generation is still gen, grey_trapcheck does no lookup.
 */
#ifndef GREY_H
#define GREY_H

#include <stddef.h>
#include <stdint.h>

#include "common/greydb.h"

void	grey_load_alloweddomains(const char *);
int	grey_trapcheck(struct greydb *, const char *);
void	grey_spamtraps_counted(uint64_t, size_t);

#endif /* GREY_H */
