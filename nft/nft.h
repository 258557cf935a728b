/*
 * nft.h: nftables set elements from C, over libnftnl + libmnl.
 *
 * This library knows nothing about greylisting: it takes a set (table,
 * name, key family, interval or not) and addresses with timeouts. Every
 * call that changes a set is ONE netlink batch, so the kernel applies it
 * atomically (only nft_add/nft_del of more elements than fit one batch
 * are split, and say so in the log).
 *
 *	nft_open(spec)		"netlink" (the kernel) or, in tests only,
 *				"record:PATH" (tests/nftlib/nft_record.c: write
 *				what would be sent, decoded back from the very
 *				netlink messages, to PATH; "record:-" is stdout).
 *				NULL on failure with errno set; nft_open_errstr()
 *	nft_add(n, set, el, cnt, flags)	add elements; NFT_REFRESH re-sets the
 *				timeout of elements that already exist (add,
 *				delete, add in one batch: works on 6.1 kernels)
 *	nft_del(n, set, el, cnt)	delete elements; ones already gone are not
 *				an error (each is added first in the same batch)
 *	nft_replace(n, set, el, cnt)	flush + add in one batch: no window in
 *				which a listed element is missing
 *	nft_any(n, set)		1 if the set holds any element, 0 if it is
 *				empty, -1 on error: reads only the first
 *				message of a dump, so it costs the same for
 *				ten elements or ten million (a backend that
 *				cannot tell says 1)
 *	nft_list(n, set, &el, &cnt)	dump the elements (caller frees *el);
 *				slow for very large sets (the kernel walks
 *				the hash table again for each message of the
 *				dump: a minute for 1M elements), never poll
 *				with it
 *	nft_error(n)		errno of the last failure: ENOENT = table or set
 *				missing, EPERM = no CAP_NET_ADMIN, ...
 *	nft_errstr(n)		"spamd_white: No such file or directory" etc.
 *	nft_signature(table, &sig)	a value that changes whenever `table'
 *				or one of its sets is (re)created or deleted;
 *				polling it notices a ruleset reload without
 *				the per-element cost of an event subscription
 *				(CAP_NET_ADMIN effective); 0 or -1 (errno)
 *	nft_close(n)
 *
 * Return values of nft_add/nft_del/nft_replace: 0 when everything was
 * committed; a positive count when the kernel rejected that many elements
 * individually (each is logged with its address and the kernel's reason,
 * dropped, and the rest re-sent and committed); -1 when nothing could be
 * committed (see nft_error/nft_errstr).
 */
#ifndef NFT_H
#define NFT_H

#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"

struct nft_set {
	const char	*table;		/* "spamd" */
	const char	*name;		/* "spamd_white" */
	uint8_t		 family;	/* table family, NFPROTO_INET */
	uint8_t		 af;		/* key: AF_INET (ipv4_addr) or AF_INET6 */
	uint8_t		 interval;	/* 1 for "flags interval" sets */
};

struct nft_elem {
	struct addr	 a;
	uint8_t		 plen;		/* interval sets: prefix length */
	uint64_t	 timeout_ms;	/* 0: no per-element timeout */
	uint64_t	 expires_ms;	/* 0: a full timeout; else ms remaining */
};

#define NFT_REFRESH	0x01

struct nft;

struct nft	*nft_open(const char *);
const char	*nft_open_errstr(void);
int		 nft_add(struct nft *, const struct nft_set *,
		    const struct nft_elem *, size_t, int);
int		 nft_del(struct nft *, const struct nft_set *,
		    const struct nft_elem *, size_t);
int		 nft_replace(struct nft *, const struct nft_set *,
		    const struct nft_elem *, size_t);
int		 nft_any(struct nft *, const struct nft_set *);
int		 nft_list(struct nft *, const struct nft_set *,
		    struct nft_elem **, size_t *);
int		 nft_error(const struct nft *);
const char	*nft_errstr(const struct nft *);
int		 nft_signature(const char *, uint64_t *);
void		 nft_close(struct nft *);

#endif /* NFT_H */
