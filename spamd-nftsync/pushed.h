/*
 * pushed.h: what spamd-nftsync last put into the white sets, kept in a
 * file beside the database, so that the next run sends the kernel only
 * the difference (a million elements re-inserted every ten minutes cost
 * seconds of kernel time; the 1% that changed costs milliseconds).
 *
 *	pushed_load(path, p, sig, why, len)	read the file: 0 loaded; 1
 *		there is none; 2 it was written for another table signature
 *		than sig (only p->sig and p->when are read); -1 unusable (why
 *		says; the caller replaces the sets)
 *	pushed_save(path, p)	write it (a new file renamed over the old);
 *		0, or -1 logged
 *	pushed_remove(path)	forget it (after a failure: the next run
 *		replaces); 0, or -1 logged
 *	pushed_free(p)
 *	pushed_diff(old, new, af, now, slack, d)	what turns old into new:
 *		the elements to add, to delete, and to refresh (both hold
 *		them, their expiry differs by more than slack seconds), as
 *		nft elements of family af timing out at their expiry; in any
 *		order (an index of old, no sort); 0, or -1 (ENOMEM, E2BIG)
 *	pushed_diff_free(d)
 *
 * The file is the database owner's (it is written as that user, like
 * the database), so it is read as untrusted input: every count and order
 * is checked, and anything wrong makes it unusable, never a crash
 * (a duplicate element counts once). It is
 * valid only while the nftables table keeps the signature it records
 * (nft_signature(): the table and its sets were not re-created).
 */
#ifndef PUSHED_H
#define PUSHED_H

#include <stddef.h>
#include <stdint.h>

#include "nft/nft.h"

#define PUSHED_NSETS	4	/* white, white6, whitenet, whitenet6 */
#define PUSHED_MAX	(64UL * 1024 * 1024)	/* elements per set */

struct pushed_elem {
	uint8_t		 key[16];	/* address, zero-padded for IPv4 */
	uint8_t		 plen;		/* interval sets: prefix; else 0 */
	int64_t		 expire;	/* absolute, seconds */
};

struct pushed_set {
	struct pushed_elem	*e;
	size_t			 n;
};

struct pushed {
	uint64_t		 sig;		/* nft_signature() of the table */
	int64_t			 when;		/* written at (clock_now()) */
	struct pushed_set	 set[PUSHED_NSETS];
};

struct pushed_diff {
	struct nft_elem	*add, *del, *refresh;
	size_t		 nadd, ndel, nrefresh;
};

int	pushed_load(const char *, struct pushed *, uint64_t, char *, size_t);
int	pushed_save(const char *, const struct pushed *);
int	pushed_remove(const char *);
void	pushed_free(struct pushed *);
int	pushed_diff(const struct pushed_set *, const struct pushed_set *,
	    uint8_t, int64_t, int64_t, struct pushed_diff *);
void	pushed_diff_free(struct pushed_diff *);

#endif /* PUSHED_H */
