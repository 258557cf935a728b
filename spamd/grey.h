/*
 * grey.h: the greylister's helpers that spamd.c and tests call directly
 * (grey_main itself is declared in spamd.h with the other process mains).
 *
 *	grey_load_alloweddomains(path)	read the allowed recipient domains
 *	grey_trapcheck(db, to)	1 if the RCPT value `to' is a greytrap: not
 *		in an allowed domain, or a SPAMTRAP address
 */
#ifndef GREY_H
#define GREY_H

#include "common/greydb.h"

void	grey_load_alloweddomains(const char *);
int	grey_trapcheck(struct greydb *, const char *);

#endif /* GREY_H */
