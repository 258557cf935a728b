/*
 * nftlib.h: libnft's test backends, linked only into the unit tests and
 * the test tools (tests/nftlib/module.mk), never into the programs.
 *
 *	nft_record_register()	make nft_open("record:PATH") available
 *				(nft_record.c; idempotent)
 *	nft_record_text(path)	the whole recording at path, in a static
 *				buffer ("" if there is none)
 *	nft_watch_open(table)	a netlink fd subscribed to nftables events
 *	nft_watch_read(fd, table)	drain it; 1 if `table' or one of its sets
 *				was (re)created since the last call, 0 if not,
 *				-1 on error (nft_watch.c)
 */
#ifndef TESTS_NFTLIB_H
#define TESTS_NFTLIB_H

void	nft_record_register(void);
const char *nft_record_text(const char *);
int	nft_watch_open(const char *);
int	nft_watch_read(int, const char *);

#endif
