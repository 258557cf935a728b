/*
 * peers.h: the SMTP process's table of client address blocks with open
 * connections, for the per-address connection limit and log budget.
 *
 *	peers_init(v4len, v6len, nbuckets)	mask lengths that make one
 *				"address" (32 and 64 by default), table size
 *	peers_get(a)		the entry of a's block, created if needed,
 *				with one more connection; NULL without memory
 *	peers_put(p)		one connection fewer; freed at zero
 *	peers_ncon(p)		open connections of the block
 *	peers_log(p, now_ms, limit)	1 if the block may log one more
 *				client-caused line in the current minute
 *				(limit per minute, 0 = no limit); 0 if not,
 *				-1 the first time it may not in that minute
 *	peers_count()		blocks in the table (for tests)
 *
 * Entries exist only while the block has a connection open.
 */
#ifndef PEERS_H
#define PEERS_H
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"

struct peer;

void		 peers_init(unsigned int, unsigned int, size_t);
struct peer	*peers_get(const struct addr *);
void		 peers_put(struct peer *);
unsigned int	 peers_ncon(const struct peer *);
int		 peers_log(struct peer *, uint64_t, unsigned int);
size_t		 peers_count(void);
#endif /* PEERS_H */
