/*
 * pathnames.h: default paths, ports and nftables names shared by the suite.
 *
 * STATEDIR and SYSCONFDIR come from the GNUmakefile (/var/lib/spamd, /etc).
 * The nftables names are the ones nft/spamd.nft declares; see
 * spec/interface.md.
 */
#ifndef PATHNAMES_H
#define PATHNAMES_H

#ifndef STATEDIR
#define STATEDIR	"/var/lib/spamd"
#endif
#ifndef RUNSTATEDIR
#define RUNSTATEDIR	"/run"
#endif
#ifndef SYSCONFDIR
#define SYSCONFDIR	"/etc"
#endif

#define PATH_SPAMD_DB		STATEDIR "/spamd.db"
#define PATH_SPAMD_CONF		SYSCONFDIR "/spamd/spamd.conf"
#define PATH_ALLOWEDDOMAINS	SYSCONFDIR "/spamd/alloweddomains"
#define PATH_SPAMD_KEY		SYSCONFDIR "/spamd/spamd.key"	/* sync */
#define PATH_SPAMD_SOCK		RUNSTATEDIR "/spamd/spamd.sock"	/* config */

#define SPAMD_USER		"_spamd"
#define SPAMD_PORT		8025	/* the redirected SMTP listener */
#define SPAMD_CFG_PORT		8026	/* 127.0.0.1 only: blacklist config */

#define NFT_TABLE		"spamd"		/* family inet */
#define NFT_SET_WHITE4		"spamd_white"
#define NFT_SET_WHITE6		"spamd_white6"
#define NFT_SET_WHITENET4	"spamd_whitenet"	/* spamd -g networks */
#define NFT_SET_WHITENET6	"spamd_whitenet6"
#define NFT_SET_NOSPAMD4	"nospamd"
#define NFT_SET_NOSPAMD6	"nospamd6"
#define NFT_SET_BLACK4		"spamd_black"
#define NFT_SET_BLACK6		"spamd_black6"
#define NFLOG_GROUP		25

#endif /* PATHNAMES_H */
