/*
 * blquery.h: "which of these addresses are on a blacklist?", asked over
 * spamd's unix configuration socket by the programs that put addresses
 * into the nft white sets (spamd-nftsync, spamlogd), answered by spamd's
 * SMTP process from its in-memory lists. A listed host must never be
 * whitelisted (spamd.8), whoever made its WHITE record.
 *
 * The wire (one connection per question):
 *	client:	"query listed" LF, then one address per line (or a
 *		network "a/m": is any of its addresses listed?), then
 *		half-close (SHUT_WR). Or, as blquery_ask sends it,
 *		"query listed binary" LF, then one BLQUERY_REC-byte record
 *		per address: the family (4 or 6), the prefix length (the
 *		family's full length for an address; else a network, host
 *		bits clear), 16 bytes of address (IPv4 in the first 4, the
 *		rest zero); then half-close. Text costs about 40 bytes, an
 *		inet_ntop and an inet_pton per address: a third of the time
 *		spamd-nftsync spent on 1,000,000 WHITE addresses.
 *	spamd:	"I ADDR" LF for every listed address, I being its 0-based
 *		index after the first line (line or record), then "end N" LF
 *		with N the number of addresses it read (a record cut short
 *		is not one), then close. Lines or records that are no
 *		address are counted, never listed.
 * A first line with a blank can never be a configuration line (tags hold
 * no blanks), so the two share the socket.
 *
 *	blquery_is(buf, len)	BLQUERY_TEXT or BLQUERY_BINARY if buf
 *		starts with a query line, else 0
 *	blquery_answer(buf, len, listed, &outlen, &nasked, &nlisted)	the
 *		reply to the query in buf (malloc'd; NULL on ENOMEM), listed(c)
 *		saying whether c (an address: full length; or a network) is
 *		listed; lines that are neither are counted but never listed
 *	blquery_start(q, path, c, n, err, errlen)	send the question and
 *		return without the answer, so the caller works while spamd
 *		looks the addresses up (c must stay until the finish): 0,
 *		BLQUERY_NOSPAMD or -1, as blquery_ask
 *	blquery_finish(q, flag, err, errlen)	the answer to a started
 *		question, as blquery_ask's; closes it either way
 *	blquery_cancel(q)	drop a started question unanswered
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
#include <stdint.h>

#include "common/addr.h"

#define BLQUERY_LINE	"query listed"
#define BLQUERY_BINLINE	"query listed binary"
#define BLQUERY_REC	18	/* family, prefix length, 16 bytes */
#define BLQUERY_TEXT	1
#define BLQUERY_BINARY	2
#define BLQUERY_WAIT	30	/* s: the whole exchange */
#define BLQUERY_NOSPAMD	1

struct blquery {
	int			 fd;
	const struct cidr	*a;
	size_t			 n;
	uint64_t		 deadline;	/* ms, monotonic: the answer's */
};

int	 blquery_is(const char *, size_t);
char	*blquery_answer(const char *, size_t, int (*)(const struct cidr *),
	    size_t *, size_t *, size_t *);
int	 blquery_ask(const char *, const struct cidr *, size_t,
	    unsigned char *, char *, size_t);
int	 blquery_start(struct blquery *, const char *, const struct cidr *,
	    size_t, char *, size_t);
int	 blquery_finish(struct blquery *, unsigned char *, char *, size_t);
void	 blquery_cancel(struct blquery *);

#endif /* BLQUERY_H */
