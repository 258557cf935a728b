/*
 * dns.h: the DNS lookups of the SPF walk, with glibc's resolver
 * (res_nquery; the answers parsed with ns_initparse/ns_parserr from
 * libresolv), never through nsswitch or /etc/hosts.
 *
 *	dns_open()	a resolver state from /etc/resolv.conf (res_ninit),
 *		with EDNS0; NULL after a warning
 *	dns_resolve(d, name, type, ans, err, errlen)	an spf_resolve_fn:
 *		TXT (the character-strings of each record joined without a
 *		separator), A, AAAA, or MX (the exchange names); CNAME records
 *		in the answer are skipped. NXDOMAIN and NODATA come back as
 *		such; SERVFAIL, a timeout, a refusal or a malformed answer as
 *		SPF_DNS_FAIL with the reason in err.
 *	dns_close(d)
 *
 * Timeouts and servers are resolv.conf's (options timeout:, attempts:).
 * There is no DNSSEC validation: the walk feeds a whitelist.
 */
#ifndef DNS_H
#define DNS_H

#include <stddef.h>

#include "spamd-setup/spf.h"

#define DNS_ANSWER_MAX	65536	/* bytes of one answer */

struct dns;

struct dns	*dns_open(void);
enum spf_dns	 dns_resolve(void *, const char *, enum spf_qtype,
		    struct spf_answer *, char *, size_t);
void		 dns_close(struct dns *);

#endif /* DNS_H */
