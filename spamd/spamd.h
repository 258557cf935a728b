/*
 * spamd.h: the configuration every spamd process reads, and the entry
 * points of the three processes.
 *
 * `conf' is the one global: filled by main() from the options before the
 * fork, read-only afterwards. Defaults live in spamd.c's option table.
 */
#ifndef SPAMD_H
#define SPAMD_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/addr.h"
#include "common/greylist.h"

#ifndef HOST_NAME_MAX
#define HOST_NAME_MAX	64
#endif

struct spamd_conf {
	int			 blackonly;	/* -b */
	int			 code550;	/* -5 (else 450, -4) */
	int			 debug;		/* -d */
	int			 verbose;	/* -v */
	int			 maxcon;	/* -c */
	int			 maxblack;	/* -B */
	const char		*dbpath;	/* -f */
	struct greylist_params	 gl;		/* -G, trap lifetime */
	char			 hostname[HOST_NAME_MAX + 1];	/* -h */
	const char		*name;		/* -n, the banner's text */
	const char		*listen;	/* -l, NULL = all */
	int			 lowmx_set;	/* -M given */
	struct addr		 lowmx;		/* -M */
	uint16_t		 port;		/* -p */
	int64_t			 grey_stutter;	/* -S, seconds */
	uint64_t		 stutter_ms;	/* -s, per character */
	int64_t			 idle_timeout;	/* -T, seconds */
	int64_t			 trapscan;	/* -t, seconds between trap reads */
	const char		*user;		/* -u */
	int			 window;	/* -w, 0 = unset */
	const char		*alloweddomains; /* -A */
	uid_t			 uid;		/* of -u */
	const char		*cfgsock;	/* --config-socket */
	const char		*cfggroup;	/* --config-group, NULL = none */
	gid_t			 cfggid;	/* its gid */
	size_t			 list_max_blocks;	/* --list-max-blocks */
	size_t			 list_max_blocks6;	/* --list-max-blocks6 */
	size_t			 list_max_bytes;	/* --list-max-bytes */
	/* Flood bounds (issue 15); 0 = no bound. */
	uint32_t		 grey_max_tuples; /* --grey-max-tuples */
	uint32_t		 grey_rate_n;	/* --grey-max-rate N/period */
	int64_t			 grey_rate_period; /* seconds */
	int64_t			 db_max_size;	/* --db-max-size, bytes */
	int			 maxcon_addr;	/* --maxcon-per-address */
	unsigned int		 prefix4, prefix6; /* --address-prefix */
	unsigned int		 log_per_con;	/* --log-lines-per-connection */
	unsigned int		 log_per_addr;	/* --log-lines-per-address */
	int			 policy;	/* -P given: policy mode */
	const char		*metrics_listen; /* -m [address:]port */
	const char		*metrics_file;	/* --metrics-textfile */
	int64_t			 metrics_interval; /* s, textfile writes */
	int64_t			 metrics_scan;	/* s, database counts */
	const char		*tls_cert;	/* -C, NULL: no STARTTLS */
	const char		*tls_key;	/* -K */
	int			 tls_max;	/* --tls-max-sessions */
	int64_t			 tls_timeout;	/* --tls-handshake-timeout, s */
	unsigned int		 group4, group6; /* -g: tuple networks */
	struct sync		*sync;		/* -Y, -y, --sync-peer; or NULL */
};

extern struct spamd_conf conf;

/* The SMTP process (smtpproc.c): listeners, clients, config socket. */
#define SPAMD_POLICY_MAX	8		/* -P sockets: POLICY_LISTEN_MAX */
struct policy_conf;
struct tls_ctx;
struct smtpproc_fds {
	int			 lfds[2], nl;	/* SMTP listeners */
	int			 cfgfd;		/* configuration listener */
	int			 greyfd;	/* -1: no greylister (-b) */
	int			 pfds[SPAMD_POLICY_MAX], np;	/* -P */
	const char		*pnames[SPAMD_POLICY_MAX];
	const struct policy_conf *policy;
	int			 mfd;		/* -m: metrics listener, or -1 */
	struct tls_ctx		*tls;		/* -C/-K loaded, or NULL */
	int			 tlsfd;		/* reloads from the parent, or -1 */
};
__attribute__((noreturn)) void smtpproc_main(const struct smtpproc_fds *);

/* The greylister (grey.c). */
__attribute__((noreturn)) void grey_main(int, int);

/* The nftables helper and supervisor (nfthelper.c). */
__attribute__((noreturn)) void nfthelper_main(int, int, pid_t, pid_t);

#endif /* SPAMD_H */
