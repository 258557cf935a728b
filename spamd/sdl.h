/*
 * sdl.h: spamd's in-memory blacklists ("spamd dynamic lists").
 *
 * A list is a tag, a message and a set of IPv4/IPv6 CIDR blocks plus a
 * set of single addresses. Lists keep the order in which their tags first
 * appeared; a lookup returns every list that holds the address, in that
 * order (what OpenBSD's manual promises; OpenBSD's code stops at the first
 * match).
 *
 *	sdl_replace(tag, msg, v, n)	create the list, or replace its message
 *		and all its addresses (CIDR blocks and single addresses)
 *	sdl_build_new(tag, msg, v, n)	the same replace in bounded steps, so
 *		the SMTP loop can answer clients while a list of millions of
 *		blocks is built: NULL (logged) on bad arguments or no memory;
 *		v must stay valid until sdl_build_converted(b) says 1
 *	sdl_build_step(b, budget)	about budget units of work (a block
 *		converted or a range moved by the sort); 0 to call again, 1
 *		when built, -1 on no memory (logged; free b). The last step
 *		merges and indexes the sorted ranges in one linear pass.
 *	sdl_build_converted(b)	1 once the blocks v were read (v may go)
 *	sdl_build_commit(b)	publish a built list (as sdl_replace); 0 or -1
 *	sdl_build_free(b)	release a build, committed or not (NULL is ok)
 *	sdl_clear(tag)		empty message and addresses, keep the slot
 *		(the config line "tag;"); 1 if there is no such list
 *	sdl_addr_add(tag, msg, a)	add one address (creating the list with
 *		msg if needed; a different msg replaces the message); for the
 *		greytrap list, which changes one trap at a time
 *	sdl_addr_del(tag, a)	remove one address added by sdl_addr_add
 *	sdl_lookup(a, out, max)	every list holding a, in list order, each
 *		with a reference the caller must drop with sdl_unref; returns
 *		how many were stored (at most max: later matches are left out)
 *	sdl_listed(a)		1 if any list holds a (no references taken)
 *	sdl_listed_net(c)	1 if any list's ranges hold an address of the
 *		network c (single addresses added with sdl_addr_add, the
 *		trapped hosts, are not looked at)
 *	sdl_ref/sdl_unref(l)	take or drop a reference
 *	sdl_tag(l), sdl_msg(l)	the list's tag and raw message
 *	sdl_tags(buf, size, l, n)	"tag1 tag2 ..." for log lines; cut to
 *		size - 1 bytes ending in "..." when too long; returns the
 *		length
 *	sdl_count()		number of list slots
 *	sdl_info(i, info)	sizes of slot i (0 .. sdl_count()-1), for logs
 *	sdl_tag_check(tag)	NULL if tag is a valid tag, else the reason
 *		(cfg_tag_syntax: the rules live with the line codec)
 *	sdl_free_all()		drop every list (shutdown, tests)
 *
 * What callers must know:
 * - Not thread-safe; the lists live in the SMTP process's event loop.
 * - A struct sdl_list is an immutable snapshot of a list's tag and message.
 *   Replacing or clearing a list publishes a new snapshot; a connection that
 *   holds a reference keeps the message it matched at connect time, and the
 *   old snapshot is freed with its last reference. Addresses are not part
 *   of the snapshot: their memory is released at once on replace.
 * - Messages are stored raw, as they arrive between the quotes of a config
 *   line; smtp_listed_reply (smtp.c) expands them for each connection.
 * - All functions that change lists return -1 on bad arguments (EINVAL)
 *   or memory exhaustion (ENOMEM) with a warning logged, and then leave the
 *   list as it was.
 *
 * Memory: a list costs 8 bytes per IPv4 range and 32 per IPv6 range once
 * built, plus an index of at most 4 MiB per family; a build needs 16
 * bytes per IPv4 and 64 per IPv6 block on top while it runs.
 *
 * Lookup cost: one binary search per list and family over sorted disjoint
 * ranges, narrowed first by a bucket index on the top bits, plus a hash
 * probe for single addresses. See bench/sdlbench.c for measurements.
 */
#ifndef SDL_H
#define SDL_H

#include <stddef.h>

#include "common/addr.h"
#include "common/cfg.h"

#define SDL_TAG_MAX	CFG_TAG_MAX	/* bytes, printable ASCII, no blank ; " */
#define SDL_MSG_MAX	CFG_MSG_MAX	/* raw message bytes */
#define SDL_LOOKUP_MAX	32	/* a good size for sdl_lookup's array */

/* The list spamd's greylister fills with trapped addresses. */
#define SDL_GREYTRAP_TAG	CFG_GREYTRAP_TAG
#define SDL_GREYTRAP_MSG	"Your address %A has mailed to spamtraps here"

struct sdl_list;

struct sdl_info {
	const char	*tag;
	size_t		 ranges4;	/* disjoint IPv4 ranges after merging */
	size_t		 ranges6;
	size_t		 hosts;		/* single addresses (sdl_addr_add) */
};

int	sdl_replace(const char *, const char *, const struct cidr *, size_t);
struct sdl_build;
struct sdl_build *sdl_build_new(const char *, const char *,
	    const struct cidr *, size_t);
int	sdl_build_step(struct sdl_build *, size_t);
int	sdl_build_converted(const struct sdl_build *);
int	sdl_build_commit(struct sdl_build *);
void	sdl_build_free(struct sdl_build *);
int	sdl_clear(const char *);
int	sdl_addr_add(const char *, const char *, const struct addr *);
int	sdl_addr_del(const char *, const struct addr *);
size_t	sdl_lookup(const struct addr *, struct sdl_list **, size_t);
int	sdl_listed(const struct addr *);
int	sdl_listed_net(const struct cidr *);
void	sdl_ref(struct sdl_list *);
void	sdl_unref(struct sdl_list *);
const char *sdl_tag(const struct sdl_list *);
const char *sdl_msg(const struct sdl_list *);
size_t	sdl_tags(char *, size_t, struct sdl_list *const *, size_t);
size_t	sdl_count(void);
int	sdl_info(size_t, struct sdl_info *);
const char *sdl_tag_check(const char *);
void	sdl_free_all(void);

#endif /* SDL_H */
