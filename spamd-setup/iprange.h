/*
 * iprange.h: sets of IPv4/IPv6 address ranges, as spamd-setup builds
 * blacklists: parse list lines, merge, subtract white lists, and cut the
 * result into the fewest CIDR blocks.
 *
 *	iprange_init(s)		an empty set
 *	iprange_add(s, lo, hi)	append [lo, hi] (same family, lo <= hi)
 *	iprange_add_set(s, t)	append every range of t
 *	iprange_normalize(s)	sort, merge overlapping and adjacent ranges
 *	iprange_subtract(s, w)	remove every address of w from s
 *	iprange_to_cidrs(s, &v)	the fewest CIDR blocks covering exactly s,
 *		ascending, IPv4 first; never /0 (a whole family becomes two
 *		/1 blocks, because spamd and nft refuse /0); caller frees *v
 *	iprange_count(s, af)	ranges of a family
 *	iprange_parse_line(line, lo, hi, &errstr)	one line of list data:
 *		1 with a range, 0 for a blank or comment line, -1 with errstr
 *	iprange_parse(buf, len, s, fn, arg)	every line of a list file;
 *		fn(arg, lineno, line, errstr) is called for each bad line;
 *		returns the number of bad lines
 *	iprange_free(s)
 *
 * List data: one entry per line, leading blanks ignored: a CIDR block
 * (a/m; host bits are cleared), a range "a - b" (blanks optional), or a
 * single address; IPv4 or IPv6 (::ffff:a.b.c.d counts as IPv4). Anything
 * after the entry is ignored. Lines starting with '#' or ';' are comments.
 * A line with a NUL byte, or longer than IPRANGE_LINE_MAX, is bad.
 *
 * Memory comes from xmalloc and friends: a command-line tool exits on
 * exhaustion. iprange_subtract and iprange_to_cidrs need normalized sets.
 */
#ifndef IPRANGE_H
#define IPRANGE_H

#include <stddef.h>

#include "common/addr.h"

#define IPRANGE_LINE_MAX	1024

struct iprange {
	struct addr	lo, hi;
};

struct iprange_set {
	struct iprange	*r;
	size_t		 n, cap;
};

typedef void (*iprange_bad_fn)(void *, size_t, const char *, const char *);

void	iprange_init(struct iprange_set *);
void	iprange_add(struct iprange_set *, const struct addr *,
	    const struct addr *);
void	iprange_add_set(struct iprange_set *, const struct iprange_set *);
void	iprange_normalize(struct iprange_set *);
void	iprange_subtract(struct iprange_set *, const struct iprange_set *);
size_t	iprange_to_cidrs(const struct iprange_set *, struct cidr **);
size_t	iprange_count(const struct iprange_set *, int);
int	iprange_parse_line(const char *, struct addr *, struct addr *,
	    const char **);
size_t	iprange_parse(const char *, size_t, struct iprange_set *,
	    iprange_bad_fn, void *);
void	iprange_free(struct iprange_set *);

#endif /* IPRANGE_H */
