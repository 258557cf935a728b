/*
 * spf.h: walk a domain's SPF record (RFC 7208) into the networks it
 * authorises, for spamd-setup's :spfwalk: lists.
 *
 *	spf_walk(o, domain, &v, &n, why, whylen)	look up domain's SPF
 *		record through o->resolve, follow include:, redirect=, a, mx,
 *		collect ip4: and ip6:; the blocks come back sorted, merged and
 *		cut into the fewest CIDR blocks (*v malloc'ed; NULL when *n
 *		is 0, and on any status but SPF_OK). Returns an spf_status;
 *		why says what went wrong.
 *	spf_is_record(s, len)	1 if the TXT string is an SPF record:
 *		"v=spf1" (any case) followed by a blank or the end
 *	spf_name(in, out, outlen)	a domain name as the walk uses it:
 *		lowercase, without a trailing dot, letters, digits, '-' and
 *		'_' in labels of 1..63, at most 253 bytes; 0 or -1
 *	spf_answer_free(ans), spf_answer_txt/addr/name(ans, ...)	build
 *		and free the answers a resolver hands back
 *
 * What the walk takes: terms with the qualifier '+' or none. It skips,
 * and logs at debug level, '-' and '~' terms and '?' (neutral) terms: a
 * whitelist takes only what the domain says does send its mail. It
 * skips, with an info line, what cannot be walked: ptr, exists: and any
 * term with a macro ('%'). It refuses, with a warning naming the domain,
 * +all (any all without '-', '~' or '?') and every block shorter than
 * the floor of its family (never shorter than SPF_FLOOR_MIN). redirect=
 * is followed when the record has no all term (RFC 7208 6.1). A name met
 * a second time is not walked again; one on the current include path is
 * a loop, logged.
 *
 * Results:
 *	SPF_OK		walked (a missing include or a refused term only
 *			loses its own part, with a warning)
 *	SPF_GONE	the domain itself has no SPF record (NXDOMAIN, no
 *			TXT, or no TXT starting v=spf1): drop it
 *	SPF_TEMPFAIL	a lookup failed (SERVFAIL, timeout, refused, a
 *			malformed answer): the walk is incomplete
 *	SPF_FAIL	a permanent error: more than one SPF record for a
 *			name, a record that is not printable ASCII, more
 *			than SPF_MAX_DEPTH nested includes, SPF_MAX_QUERIES
 *			lookups or SPF_MAX_ELEMS blocks
 * The caller keeps the last good result on SPF_TEMPFAIL and SPF_FAIL.
 *
 * Every log line starts "spfwalk DOMAIN:" with the domain of the walk.
 */
#ifndef SPF_H
#define SPF_H

#include <stddef.h>

#include "common/addr.h"

#define SPF_MAX_DEPTH		10	/* nested include: / redirect= */
#define SPF_MAX_QUERIES		50	/* DNS lookups per domain */
#define SPF_MAX_ELEMS		1000	/* blocks per domain */
#define SPF_MAX_MX		10	/* exchanges of one mx term */
#define SPF_FLOOR_MIN		8	/* /0-/7 are always refused */
#define SPF_FLOOR4_DEF		12
#define SPF_FLOOR6_DEF		32
#define SPF_NAME_MAX		253

enum spf_qtype {
	SPF_Q_TXT,
	SPF_Q_A,
	SPF_Q_AAAA,
	SPF_Q_MX,
};

enum spf_dns {
	SPF_DNS_OK,
	SPF_DNS_NXDOMAIN,	/* no such name */
	SPF_DNS_NODATA,		/* the name exists, without that type */
	SPF_DNS_FAIL,		/* SERVFAIL, timeout, refused, garbage */
};

enum spf_status {
	SPF_OK,
	SPF_GONE,
	SPF_TEMPFAIL,
	SPF_FAIL,
};

struct spf_txt {
	char		*s;		/* the character-strings joined; may */
	size_t		 len;		/* hold any byte, NUL-terminated too */
};

struct spf_answer {
	struct spf_txt	*txt;		/* SPF_Q_TXT */
	size_t		 ntxt;
	struct addr	*addr;		/* SPF_Q_A, SPF_Q_AAAA */
	size_t		 naddr;
	char		**name;		/* SPF_Q_MX: the exchanges */
	size_t		 nname;
};

/*
 * A resolver: fill ans (empty on entry) with the answer for name and
 * type, or say in err why not.
 */
typedef enum spf_dns (*spf_resolve_fn)(void *, const char *, enum spf_qtype,
    struct spf_answer *, char *, size_t);

struct spf_opts {
	spf_resolve_fn	 resolve;
	void		*arg;
	unsigned int	 floor4;	/* shortest IPv4 prefix taken */
	unsigned int	 floor6;	/* shortest IPv6 prefix taken */
};

enum spf_status spf_walk(const struct spf_opts *, const char *,
	    struct cidr **, size_t *, char *, size_t);
int	spf_is_record(const char *, size_t);
int	spf_name(const char *, char *, size_t);
const char *spf_status_name(enum spf_status);
void	spf_answer_txt(struct spf_answer *, const char *, size_t);
void	spf_answer_addr(struct spf_answer *, const struct addr *);
void	spf_answer_name(struct spf_answer *, const char *);
void	spf_answer_free(struct spf_answer *);

#endif /* SPF_H */
