/*
 * spfwalk.h: spamd-setup's :spfwalk: lists: read the sender domains,
 * walk their SPF records (spf.c, over dns.c), keep the last good result
 * of each in the state file (spfstate.c), and replace the nft sets
 * spamd_spf and spamd_spf6 with the union, or print it (-n).
 *
 *	spfwalk_run(o, lists, n, &failures)	all of it for the given
 *		lists. 0, or -1 when the nft sets could not be replaced;
 *		*failures grows by one per list not read and per domain not
 *		walked (its last good result may still be loaded).
 *		A list that cannot be read leaves sets and state untouched.
 *	spfwalk_domains(buf, len, list, &names, &n)	the domains of a
 *		list file (one per line, '#' comments; lowercase, without
 *		duplicates); appends to names; returns the bad lines, each
 *		logged with its number
 *	spfwalk_merge(src, nsrc, timeout_ms, &el)	the elements for
 *		the sets: every address of every source exactly once, in
 *		blocks that do not overlap (the kernel refuses overlapping
 *		intervals), with the latest expiry of the sources that hold
 *		it; sorted, IPv4 first; returns their count, *el malloc'ed
 *		(NULL when the count is 0)
 *
 * Elements get timeout keep * interval (one missed run, or two, does not
 * drop them). A domain whose walk fails keeps the blocks of its last good
 * walk, with the time left until they would have timed out; once that
 * has passed, they go.
 */
#ifndef SPFWALK_H
#define SPFWALK_H

#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "common/pathnames.h"
#include "nft/nft.h"
#include "spamd-setup/conf.h"
#include "spamd-setup/fetch.h"
#include "spamd-setup/spf.h"

#define SPFWALK_INTERVAL_DEF	3600	/* s: spamd-setup.timer's hourly */
#define SPFWALK_KEEP_DEF	3	/* timeout = 3 intervals */
#define SPFWALK_KEEP_MAX	100
#define SPFWALK_MAX_DOMAINS	1000
#define PATH_SPFWALK_STATE	STATEDIR "/spfwalk.state"
#define SPFWALK_SET4		"spamd_spf"	/* in table inet spamd */
#define SPFWALK_SET6		"spamd_spf6"

struct spfwalk_opts {
	unsigned int	 floor4, floor6;	/* spf_opts */
	int64_t		 interval;	/* s between runs */
	unsigned int	 keep;		/* timeout = keep * interval */
	const char	*state;		/* the state file */
	int		 dryrun;	/* -n: print, write nothing */
	const struct fetch_opts *fopts;
	const char	*nft;		/* nft_open spec, "netlink" */
	spf_resolve_fn	 resolve;	/* NULL: dns.c */
	void		*arg;
};

struct spfwalk_src {
	const char	*name;		/* the domain */
	const struct cidr *v;
	size_t		 n;
	uint64_t	 expires_ms;	/* 0: the full timeout */
};

int	spfwalk_run(const struct spfwalk_opts *,
	    const struct conf_list *const *, size_t, int *);
size_t	spfwalk_domains(const char *, size_t, const char *, char ***,
	    size_t *);
size_t	spfwalk_merge(const struct spfwalk_src *, size_t, uint64_t,
	    struct nft_elem **);

#endif /* SPFWALK_H */
