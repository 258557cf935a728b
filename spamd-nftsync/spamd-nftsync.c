/*
 * spamd-nftsync.c: the periodic job of the suite (cron or a systemd
 * timer). In one pass (common/greyscan.c) it deletes expired GREY, WHITE
 * and TRAPPED records, promotes passed tuples of untrapped addresses,
 * and then makes spamd_white and spamd_white6 equal the WHITE records,
 * each element timing out with its record: one nft batch per set, so no
 * listed host is ever missing from the kernel's view.
 *
 * Before anything goes into the sets, spamd is asked over its unix
 * socket which of the WHITE addresses are on a blacklist
 * (common/blquery.h); those stay out of the sets, with a log line, as
 * spamd's own resync does (OpenBSD's greyscanner rule: a listed host is
 * never whitelisted). Their records stay: spamd deletes them at its next
 * resync, and if the list drops the host, the next run whitelists it. If
 * spamd is not running nothing is listed in memory, and every WHITE
 * record goes in (said with -v). If spamd cannot be asked, the sets are
 * left as they are and the exit status is 1.
 *
 * usage: spamd-nftsync [-nv] [-f dbfile] [-W whiteexp]
 *	    [--config-socket path]
 *	-n	say what would change; change nothing
 *	-v	report counts and each promotion
 *	-W	lifetime of the WHITE records it creates: hours like
 *		spamlogd's -W, or a unit suffix (default 864 hours, 36 days;
 *		match spamd's -G whiteexp)
 *	--config-socket	spamd's unix socket (PATH_SPAMD_SOCK)
 *
 * Exit status: 0 on success; 1 if the database or nftables could not be
 * updated (cron mails the output); 2 on usage errors. It is safe to run
 * while spamd, spamlogd and spamdb run: the database lock serialises the
 * writers and nftables applies each batch atomically.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/blquery.h"
#include "common/clock.h"
#include "common/greydb.h"
#include "common/greyscan.h"
#include "common/log.h"
#include "common/pathnames.h"
#include "common/statedir.h"
#include "common/util.h"
#include "nft/nft.h"

/* After the libc network headers (they clash otherwise). */
#include <linux/netfilter.h>

static __dead void
usage(void)
{
	fprintf(stderr, "usage: spamd-nftsync [-nv] [-f dbfile] [-W whiteexp]\n"
	    "                     [--config-socket path]\n");
	exit(2);
}

enum {
	OPT_CONFIG_SOCKET = 256,
};

static const struct option long_opts[] = {
	{ "config-socket", required_argument, NULL, OPT_CONFIG_SOCKET },
	{ NULL, 0, NULL, 0 }
};

/*
 * Ask spamd which WHITE addresses are blacklisted; listed[i] for
 * res->white[i]. 0, or -1 (logged) when spamd could not be asked.
 */
static int
ask_spamd(const char *sock, const struct greyscan_res *res,
    unsigned char *listed)
{
	struct cidr *v;
	char err[512], ip[ADDR_STRLEN];
	size_t i, n = 0;
	int r;

	if (res->nwhite == 0)
		return 0;
	if ((v = calloc(res->nwhite, sizeof(*v))) == NULL) {
		log_warn("calloc");
		return -1;
	}
	for (i = 0; i < res->nwhite; i++) {
		v[i].a = res->white[i].a;
		v[i].plen = res->white[i].plen != 0 ? res->white[i].plen :
		    (uint8_t)(8 * addr_len(&res->white[i].a));
	}
	r = blquery_ask(sock, v, res->nwhite, listed, err, sizeof(err));
	free(v);
	if (r == -1) {
		log_warnx("cannot ask spamd which addresses are blacklisted "
		    "(%s): %s; the white sets are left as they are", sock, err);
		return -1;
	}
	if (r == BLQUERY_NOSPAMD) {
		log_verbose("spamd is not running (nothing listens on %s): "
		    "no blacklist is loaded, so no WHITE record is held back",
		    sock);
		return 0;
	}
	for (i = 0; i < res->nwhite; i++) {
		if (!listed[i])
			continue;
		n++;
		if (res->white[i].plen != 0) {
			struct cidr c = { res->white[i].a, res->white[i].plen };

			log_info("%s holds addresses on a blacklist of spamd: "
			    "not whitelisting it", cidr_ntop(&c, ip,
			    sizeof(ip)));
		} else
			log_info("%s is on a blacklist of spamd: not "
			    "whitelisting it", addr_ntop(&res->white[i].a, ip,
			    sizeof(ip)));
	}
	log_verbose("spamd: %zu of %zu WHITE addresses blacklisted", n,
	    res->nwhite);
	return 0;
}

/* The elements of one family, each with the time its record has left. */
static size_t
elems(const struct greyscan_res *res, const unsigned char *listed,
    const struct nft_set *set, int64_t now, struct nft_elem *out)
{
	size_t i, k = 0;

	for (i = 0; i < res->nwhite; i++) {
		if (res->white[i].a.af != set->af ||
		    (res->white[i].plen != 0) != set->interval ||
		    res->white[i].expire <= now || listed[i])
			continue;
		memset(&out[k], 0, sizeof(out[k]));
		out[k].a = res->white[i].a;
		out[k].plen = res->white[i].plen;
		out[k].timeout_ms = (uint64_t)(res->white[i].expire - now) *
		    1000;
		k++;
	}
	return k;
}

/* The command line. */
struct opts {
	const char		*dbpath, *sock;
	struct greylist_params	 gl;
	int			 dry, verbose;
};

static void
parse_options(int argc, char *argv[], struct opts *o)
{
	const char *errstr;
	int ch;

	while ((ch = getopt_long(argc, argv, "f:nvW:", long_opts, NULL)) !=
	    -1) {
		switch (ch) {
		case OPT_CONFIG_SOCKET:
			o->sock = optarg;
			break;
		case 'W':
			if (util_parse_time(optarg, 3600, 3600, 3650LL * 86400,
			    &o->gl.whiteexp, &errstr) == -1) {
				log_warnx("-W %s: %s", optarg, errstr);
				usage();
			}
			break;
		case 'f':
			o->dbpath = optarg;
			break;
		case 'n':
			o->dry = 1;
			break;
		case 'v':
			o->verbose = 1;
			break;
		default:
			usage();
		}
	}
	if (argc != optind)
		usage();
}

/*
 * Expire, promote and read the WHITE addresses. The database work runs
 * as the owner of its directory (that user may have planted symlinks
 * there, DESIGN.md §4.3); root comes back for netlink. 0, or -1 logged.
 */
static int
scan(const struct opts *o, int64_t now, struct greyscan_res *res)
{
	int rc, saved_errno;

	if (statedir_enter(o->dbpath, STATEDIR_FOR_NOW) == -1)
		return -1;
	rc = greyscan_run(o->dbpath, now, &o->gl, o->dry ? 0 :
	    GREYSCAN_CHANGE, res);
	saved_errno = errno;
	if (statedir_leave() == -1) {
		if (rc == 0)
			greyscan_free(res);
		return -1;
	}
	errno = saved_errno;
	if (rc == -1) {
		if (errno == ENOENT)
			log_warnx("%s: no database yet (spamd creates it)",
			    o->dbpath);
		else
			log_warnx("%s", greydb_errstr());
		return -1;
	}
	if (o->dry || o->verbose)
		printf("%s%zu records: %zu expired, %zu corrupt, %zu "
		    "promoted; %zu GREY, %zu WHITE, %zu TRAPPED, %zu "
		    "SPAMTRAP%s\n", o->dry ? "would change: " : "",
		    res->records, res->expired, res->corrupt, res->promoted,
		    res->grey, res->nwhite, res->ntrapped, res->spamtraps,
		    res->reorganized ? "; reorganized" : "");
	return 0;
}

/* Replace both white sets (or say what would be done); 0 or 1. */
static int
push_sets(const struct opts *o, const struct greyscan_res *res,
    const unsigned char *listed, struct nft_elem *el, int64_t now)
{
	const struct nft_set sets[4] = {
		{ NFT_TABLE, NFT_SET_WHITE4, NFPROTO_INET, AF_INET, 0 },
		{ NFT_TABLE, NFT_SET_WHITE6, NFPROTO_INET, AF_INET6, 0 },
		{ NFT_TABLE, NFT_SET_WHITENET4, NFPROTO_INET, AF_INET, 1 },
		{ NFT_TABLE, NFT_SET_WHITENET6, NFPROTO_INET, AF_INET6, 1 },
	};
	struct nft *n = NULL;
	size_t nets = 0, j;
	int i, rc = 0;

	for (j = 0; j < res->nwhite; j++)
		nets += res->white[j].plen != 0;
	if (!o->dry && (n = nft_open("netlink")) == NULL) {
		log_warnx("cannot open netlink: %s", nft_open_errstr());
		return 1;
	}
	for (i = 0; i < 4; i++) {
		size_t k = elems(res, listed, &sets[i], now, el);
		int r;

		/*
		 * The network sets (spamd -g) are touched only when the
		 * database holds networks, or once spamd.nft has them: an
		 * older ruleset without them keeps working without -g.
		 */
		if (i >= 2 && nets == 0 && (o->dry || nft_replace(n,
		    &sets[i], el, 0) == -1))
			continue;
		if (i >= 2 && nets == 0)
			continue;

		if (o->dry) {
			printf("would replace inet %s %s with %zu element%s\n",
			    sets[i].table, sets[i].name, k, k == 1 ? "" : "s");
			continue;
		}
		if ((r = nft_replace(n, &sets[i], el, k)) == -1) {
			log_warnx("%s", nft_errstr(n));
			rc = 1;
			continue;
		}
		if (o->verbose)
			printf("inet %s %s: %zu element%s%s\n", sets[i].table,
			    sets[i].name, k, k == 1 ? "" : "s",
			    r > 0 ? " (some refused, see above)" : "");
	}
	if (n != NULL)
		nft_close(n);
	return rc;
}

int
main(int argc, char *argv[])
{
	struct opts o = { PATH_SPAMD_DB, PATH_SPAMD_SOCK, {
		GREYLIST_PASSTIME, GREYLIST_GREYEXP, GREYLIST_WHITEEXP,
		GREYLIST_TRAPEXP }, 0, 0 };
	unsigned char *listed = NULL;
	struct greyscan_res res;
	struct nft_elem *el = NULL;
	int rc;
	int64_t now;

	log_init("spamd-nftsync", 1, 0);
	parse_options(argc, argv, &o);
	log_setverbose(o.verbose);
	now = clock_now();
	if (scan(&o, now, &res) == -1)
		return 1;
	if ((el = calloc(res.nwhite ? res.nwhite : 1, sizeof(*el))) == NULL ||
	    (listed = calloc(res.nwhite ? res.nwhite : 1, 1)) == NULL) {
		log_warn("calloc");
		free(el);
		greyscan_free(&res);
		return 1;
	}
	if (ask_spamd(o.sock, &res, listed) == -1) {
		free(listed);
		free(el);
		greyscan_free(&res);
		return 1;
	}
	rc = push_sets(&o, &res, listed, el, now);
	free(listed);
	free(el);
	greyscan_free(&res);
	return rc;
}
