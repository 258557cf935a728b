/*
 * blquery.h: "which of these addresses are on a blacklist?", asked over
 * spamd's unix configuration socket by the programs that put addresses
 * into the nft white sets (spamd-nftsync, spamlogd), answered by spamd's
 * SMTP process from its in-memory lists. A listed host must never be
 * whitelisted (spamd.8), whoever made its WHITE record.
 *
 * The wire (LF-terminated text, one connection per question):
 *	client:	"query listed" LF, then one address per line (or a
 *		network "a/m": is any of its addresses listed?), then
 *		half-close (SHUT_WR)
 *	spamd:	"I ADDR" LF for every listed address, I being its 0-based
 *		line number after the first line, then "end N" LF with N the
 *		number of address lines it read, then close.
 * A first line with a blank can never be a configuration line (tags hold
 * no blanks), so the two share the socket.
 *
 *	blquery_is(buf, len)	1 if buf starts with the query line
 *	blquery_answer(buf, len, listed, &outlen, &nasked, &nlisted)	the
 *		reply to the query in buf (malloc'd; NULL on ENOMEM), listed(c)
 *		saying whether c (an address: full length; or a network) is
 *		listed; lines that are neither are counted but never listed
 *	blquery_ask(path, c, n, flag, err, errlen)	ask spamd at the unix
 *		socket path about c[0..n) (full length: one address);
 *		flag[i] is set to 1 for each listed
 *		address, 0 otherwise. Returns 0 when spamd answered,
 *		BLQUERY_NOSPAMD when nothing listens at path (then nothing is
 *		listed in memory and every flag is 0), or -1 with the reason
 *		in err (refused, timed out, a malformed answer). Bounded by
 *		BLQUERY_WAIT seconds.
 */
#ifndef BLQUERY_H
#define BLQUERY_H

#include <stddef.h>

#include "common/addr.h"

#define BLQUERY_LINE	"query listed"
#define BLQUERY_WAIT	30	/* s: the whole exchange */
#define BLQUERY_NOSPAMD	1

int	 blquery_is(const char *, size_t);
char	*blquery_answer(const char *, size_t, int (*)(const struct cidr *),
	    size_t *, size_t *, size_t *);
int	 blquery_ask(const char *, const struct cidr *, size_t,
	    unsigned char *, char *, size_t);

#endif /* BLQUERY_H */
