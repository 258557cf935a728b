/*
 * spamd-setup.c: main() of spamd-setup, the blacklist loader.
 *
 * Reads spamd.conf (conf.c), fetches every list it names (fetch.c),
 * parses and merges the addresses, subtracts each black list's white
 * lists (iprange.c), and sends one configuration line per black list to
 * spamd (cfg_encode, cfgsend.c); with -b it also replaces the nft sets
 * spamd_black and spamd_black6. The :spfwalk: lists (spfwalk.c) go into
 * the nft sets spamd_spf and spamd_spf6, with or without -b.
 *
 * Exit status: 0 when every list was loaded; 1 on a usage or
 * configuration error, or when spamd or nftables could not be updated;
 * 2 when spamd was updated but one or more lists were not (a download
 * failed, a list came out empty, a domain's SPF walk failed): spamd then
 * keeps those lists' previous contents, and cron sees the non-zero status.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/addr.h"
#include "common/cfg.h"
#include "common/compat.h"
#include "common/log.h"
#include "common/pathnames.h"
#include "common/util.h"
#include "nft/nft.h"
#include "spamd-setup/cfgsend.h"
#include "spamd-setup/conf.h"
#include "spamd-setup/fetch.h"
#include "spamd-setup/iprange.h"
#include "spamd-setup/spf.h"
#include "spamd-setup/spfwalk.h"

/* after <netinet/in.h>, which it must not redefine */
#include <linux/netfilter.h>

struct white {
	const char		*name;
	int			 ok;
	struct iprange_set	 set;
};

static int		 bflag, dflag, nflag;
static struct fetch_opts fopts;
static struct white	*whites;
static size_t		 nwhites;
static char		*out;		/* every line for spamd */
static size_t		 outlen;
static struct iprange_set blacks;	/* -b: all black lists together */
static int		 failures;	/* black and white lists */
static int		 spf_failures;	/* spfwalk lists and domains */
static struct spfwalk_opts sopts = {
	.floor4 = SPF_FLOOR4_DEF,
	.floor6 = SPF_FLOOR6_DEF,
	.interval = SPFWALK_INTERVAL_DEF,
	.keep = SPFWALK_KEEP_DEF,
	.state = PATH_SPFWALK_STATE,
};

static __dead void
usage(void)
{
	fprintf(stderr, "usage: spamd-setup [-bDdn] [-c configfile] "
	    "[--fetch-user user]\n"
	    "                   [--socket path | --tcp] "
	    "[--spf-floor v4len:v6len]\n"
	    "                   [--spf-interval time] [--spf-keep count] "
	    "[--spf-state file]\n");
	exit(1);
}

static void
bad_line(void *arg, size_t lineno, const char *line, const char *why)
{
	log_debug("list %s, line %zu: %s: \"%s\"", (const char *)arg, lineno,
	    why, line);
}

static const char *
source(const struct conf_list *l, char *buf, size_t size)
{
	switch (l->method) {
	case CONF_HTTP:
	case CONF_HTTPS:
		snprintf(buf, size, "%s://%s", conf_method_name(l->method),
		    l->file);
		break;
	case CONF_EXEC:
		snprintf(buf, size, "command \"%s\"", l->file);
		break;
	default:
		snprintf(buf, size, "file %s", l->file);
		break;
	}
	return buf;
}

/* Fetch and parse one list into s (normalized); -1 after a warning. */
static int
load(const struct conf_list *l, struct iprange_set *s)
{
	char err[512], src[600], *buf;
	size_t len, nbad;

	log_debug("list %s: fetching %s", l->name,
	    source(l, src, sizeof(src)));
	if (fetch_list(l->method, l->file, &fopts, &buf, &len, err,
	    sizeof(err)) == -1) {
		log_warnx("list %s: %s", l->name, err);
		return -1;
	}
	nbad = iprange_parse(buf, len, s, bad_line, l->name);
	free(buf);
	if (nbad > 0)
		log_warnx("list %s: %zu line%s not understood%s", l->name,
		    nbad, nbad == 1 ? "" : "s", dflag ? "" :
		    " (-d shows them)");
	log_debug("list %s: %zu entries", l->name, s->n);
	iprange_normalize(s);
	return 0;
}

static struct white *
white_get(const struct conf_list *l)
{
	size_t i;

	for (i = 0; i < nwhites; i++) {
		if (strcmp(whites[i].name, l->name) == 0)
			return &whites[i];
	}
	whites = xreallocarray(whites, nwhites + 1, sizeof(*whites));
	whites[nwhites].name = l->name;
	iprange_init(&whites[nwhites].set);
	whites[nwhites].ok = load(l, &whites[nwhites].set) == 0;
	return &whites[nwhites++];
}

/*
 * What spamd takes: a line, and a whole connection, of at most
 * CFG_LINE_MAX bytes (more and spamd drops the connection, every list in
 * it): refuse the list here. Beyond spamd's default --list-max-blocks or
 * --list-max-blocks6 spamd refuses the list unless it was started with a
 * larger bound, which spamd-setup cannot know: warn, and send it.
 */
static int
bounds_check(const char *name, size_t n, size_t n6, size_t len)
{
	if (len > CFG_LINE_MAX || outlen + len > CFG_LINE_MAX) {
		log_warnx("list %s: its line of %zu bytes would make the "
		    "configuration connection longer than the %lu bytes "
		    "spamd takes", name, len, CFG_LINE_MAX);
		return -1;
	}
	if (n > CFG_MAX_BLOCKS_DEF)
		log_warnx("list %s: %zu blocks, more than spamd's default "
		    "--list-max-blocks %lu: spamd refuses it unless started "
		    "with a larger bound", name, n, CFG_MAX_BLOCKS_DEF);
	if (n6 > CFG_MAX_BLOCKS6_DEF)
		log_warnx("list %s: %zu IPv6 blocks, more than spamd's "
		    "default --list-max-blocks6 %lu: spamd refuses it unless "
		    "started with a larger bound", name, n6,
		    CFG_MAX_BLOCKS6_DEF);
	return 0;
}

/* A black list and the white lists after it. */
static void
do_black(const struct conf_list *l, const struct conf_list *const *w,
    size_t nw)
{
	struct iprange_set s;
	struct white *wh;
	struct cidr *v = NULL;
	const char *e;
	char *line;
	size_t i, n, n4, len;

	iprange_init(&s);
	if (load(l, &s) == -1)
		goto failed;
	for (i = 0; i < nw; i++) {
		wh = white_get(w[i]);
		if (!wh->ok) {
			log_warnx("list %s: its white list %s failed",
			    l->name, w[i]->name);
			goto failed;
		}
		iprange_subtract(&s, &wh->set);
		log_debug("list %s: %zu ranges left after white list %s",
		    l->name, s.n, w[i]->name);
	}
	if ((n = iprange_to_cidrs(&s, &v)) == 0) {
		log_warnx("list %s: no addresses", l->name);
		goto failed;
	}
	if ((line = cfg_encode(l->name, l->msg, v, n, &len, &e)) == NULL) {
		log_warnx("list %s: %s", l->name, e);
		goto failed;
	}
	for (n4 = 0; n4 < n && v[n4].a.af == AF_INET; n4++)
		;
	log_debug("list %s: %zu IPv4 and %zu IPv6 blocks", l->name, n4,
	    n - n4);
	if (bounds_check(l->name, n, n - n4, len) == -1) {
		free(line);
		goto failed;
	}
	out = xreallocarray(out, outlen + len + 1, 1);
	memcpy(out + outlen, line, len + 1);
	outlen += len;
	free(line);
	if (bflag)
		iprange_add_set(&blacks, &s);
	free(v);
	iprange_free(&s);
	return;
failed:
	log_warnx("list %s not sent; spamd keeps what it had for it",
	    l->name);
	failures++;
	free(v);
	iprange_free(&s);
}

static void
nft_print(const char *set, const struct cidr *v, size_t n)
{
	char c[CIDR_STRLEN];
	size_t i;

	printf("flush set inet %s %s\n", NFT_TABLE, set);
	if (n == 0)
		return;
	printf("add element inet %s %s {", NFT_TABLE, set);
	for (i = 0; i < n; i++)
		printf("%s %s", i > 0 ? "," : "", cidr_ntop(&v[i], c,
		    sizeof(c)));
	printf(" }\n");
}

/* -b: replace spamd_black and spamd_black6; 0 or -1 after a warning. */
static int
do_nft(void)
{
	struct nft_set set4 = { NFT_TABLE, NFT_SET_BLACK4, NFPROTO_INET,
	    AF_INET, 1 };
	struct nft_set set6 = { NFT_TABLE, NFT_SET_BLACK6, NFPROTO_INET,
	    AF_INET6, 1 };
	const struct nft_set *sets[2] = { &set4, &set6 };
	struct nft_elem *el;
	struct cidr *v;
	struct nft *nft = NULL;
	size_t n, n4, i, k, cnt;
	int rc = 0, r;

	if (failures > 0) {
		log_warnx("not replacing the nft sets %s and %s: %d list%s "
		    "failed, and a partial blacklist would drop its hosts",
		    NFT_SET_BLACK4, NFT_SET_BLACK6, failures,
		    failures == 1 ? "" : "s");
		return 0;
	}
	iprange_normalize(&blacks);
	n = iprange_to_cidrs(&blacks, &v);
	for (n4 = 0; n4 < n && v[n4].a.af == AF_INET; n4++)
		;
	if (nflag) {
		nft_print(NFT_SET_BLACK4, v, n4);
		nft_print(NFT_SET_BLACK6, v + n4, n - n4);
		free(v);
		return 0;
	}
	if ((nft = nft_open("netlink")) == NULL) {
		log_warnx("nftables: %s", nft_open_errstr());
		free(v);
		return -1;
	}
	el = xcalloc(n == 0 ? 1 : n, sizeof(*el));
	for (k = 0; k < 2; k++) {
		cnt = k == 0 ? n4 : n - n4;
		for (i = 0; i < cnt; i++) {
			el[i].a = v[(k == 0 ? 0 : n4) + i].a;
			el[i].plen = v[(k == 0 ? 0 : n4) + i].plen;
		}
		r = nft_replace(nft, sets[k], el, cnt);
		if (r == -1) {
			log_warnx("nft set inet %s %s: %s", NFT_TABLE,
			    sets[k]->name, nft_errstr(nft));
			rc = -1;
		} else if (r > 0) {
			log_warnx("nft set inet %s %s: %d blocks refused by "
			    "the kernel", NFT_TABLE, sets[k]->name, r);
			rc = -1;
		} else
			log_debug("nft set inet %s %s: %zu blocks", NFT_TABLE,
			    sets[k]->name, cnt);
	}
	nft_close(nft);
	free(el);
	free(v);
	return rc;
}

enum {
	OPT_FETCH_USER = 256,
	OPT_SOCKET,
	OPT_TCP,
	OPT_SPF_FLOOR,
	OPT_SPF_INTERVAL,
	OPT_SPF_KEEP,
	OPT_SPF_STATE,
};

static const struct option long_opts[] = {
	{ "fetch-user", required_argument, NULL, OPT_FETCH_USER },
	{ "socket", required_argument, NULL, OPT_SOCKET },
	{ "tcp", no_argument, NULL, OPT_TCP },
	{ "spf-floor", required_argument, NULL, OPT_SPF_FLOOR },
	{ "spf-interval", required_argument, NULL, OPT_SPF_INTERVAL },
	{ "spf-keep", required_argument, NULL, OPT_SPF_KEEP },
	{ "spf-state", required_argument, NULL, OPT_SPF_STATE },
	{ NULL, 0, NULL, 0 }
};

static __dead void
bad_opt(const char *opt, const char *arg, const char *why)
{
	fprintf(stderr, "spamd-setup: --%s %s: %s\n", opt, arg, why);
	usage();
}

/* --spf-floor v4len:v6len, each from SPF_FLOOR_MIN to the family's width */
static void
parse_floor(const char *arg)
{
	char buf[16], *six;
	const char *errstr;

	if (strlcpy(buf, arg, sizeof(buf)) >= sizeof(buf) ||
	    (six = strchr(buf, ':')) == NULL)
		bad_opt("spf-floor", arg, "not v4len:v6len");
	*six++ = '\0';
	sopts.floor4 = (unsigned int)strtonum(buf, SPF_FLOOR_MIN, 32, &errstr);
	if (errstr != NULL)
		bad_opt("spf-floor", arg, "IPv4 length not in 8-32");
	sopts.floor6 = (unsigned int)strtonum(six, SPF_FLOOR_MIN, 128,
	    &errstr);
	if (errstr != NULL)
		bad_opt("spf-floor", arg, "IPv6 length not in 8-128");
}

/* The command line; the -b, -d and -n flags and fopts are globals. */
struct opts {
	const char	*path, *sock;
	int		 tcp, Dflag;
};

static void
parse_options(int argc, char *argv[], struct opts *o)
{
	int ch, sock_set = 0;

	const char *errstr;
	int64_t t;

	while ((ch = getopt_long(argc, argv, "bc:Ddn", long_opts, NULL)) !=
	    -1) {
		switch (ch) {
		case OPT_SPF_FLOOR:
			parse_floor(optarg);
			break;
		case OPT_SPF_INTERVAL:
			if (util_parse_time(optarg, 1, 60, 30 * 86400, &t,
			    &errstr) == -1)
				bad_opt("spf-interval", optarg, errstr);
			sopts.interval = t;
			break;
		case OPT_SPF_KEEP:
			sopts.keep = (unsigned int)strtonum(optarg, 1,
			    SPFWALK_KEEP_MAX, &errstr);
			if (errstr != NULL)
				bad_opt("spf-keep", optarg, errstr);
			break;
		case OPT_SPF_STATE:
			sopts.state = optarg;
			break;
		case OPT_FETCH_USER:
			fopts.user = optarg;
			break;
		case OPT_SOCKET:
			o->sock = optarg;
			sock_set = 1;
			break;
		case OPT_TCP:
			o->tcp = 1;
			break;
		case 'b':
			bflag = 1;
			break;
		case 'c':
			o->path = optarg;
			break;
		case 'D':
			o->Dflag = 1;
			break;
		case 'd':
			dflag = 1;
			break;
		case 'n':
			nflag = 1;
			break;
		default:
			usage();
		}
	}
	if (argc != optind || (o->tcp && sock_set))
		usage();
}

/* The lists built: printed (-n) or sent to spamd; 0 or 1. */
static int
send_lists(const struct opts *o, int nblack)
{
	char err[512];

	if (nflag) {
		if (outlen > 0 && fwrite(out, 1, outlen, stdout) != outlen)
			fatal("stdout");
	} else if (outlen > 0) {
		if ((o->tcp ? cfgsend(SPAMD_CFG_PORT, out, outlen, err,
		    sizeof(err)) : cfgsend_unix(o->sock, out, outlen, err,
		    sizeof(err))) == -1) {
			log_warnx("%s", err);
			return 1;
		}
	} else if (nblack > 0)
		log_warnx("no list to send to spamd");
	return 0;
}

int
main(int argc, char *argv[])
{
	struct opts o = { PATH_SPAMD_CONF, PATH_SPAMD_SOCK, 0, 0 };
	struct conf conf;
	const struct conf_list **lp;
	size_t i, j, nl, nspf, nblack;
	int rc;

	fetch_defaults(&fopts);
	parse_options(argc, argv, &o);
	log_init("spamd-setup", 1, dflag ? 2 : 0);
	if (conf_load(o.path, &conf) != 0) {
		log_warnx("%s: configuration errors, nothing loaded", o.path);
		conf_free(&conf);
		return 1;
	}
	/* keep the directory: list and message paths may be relative */
	if (o.Dflag) {
		if (daemon(1, 0) == -1)
			fatal("daemon");
		log_init("spamd-setup", 0, dflag ? 2 : 0);
	}
	iprange_init(&blacks);

	/* each black list with the white lists up to the next black one */
	lp = xcalloc(conf.nlists + 1, sizeof(*lp));
	for (nblack = 0, i = 0; i < conf.nlists; i++) {
		if (conf.lists[i].kind != CONF_BLACK)
			continue;	/* no black list before it: warned */
		nblack++;
		for (nl = 0, j = i + 1; j < conf.nlists &&
		    conf.lists[j].kind != CONF_BLACK; j++) {
			if (conf.lists[j].kind == CONF_WHITE)
				lp[nl++] = &conf.lists[j];
		}
		do_black(&conf.lists[i], lp, nl);
	}

	rc = send_lists(&o, (int)nblack);
	if (bflag && do_nft() == -1)
		rc = 1;

	for (nspf = 0, i = 0; i < conf.nlists; i++) {
		if (conf.lists[i].kind == CONF_SPFWALK)
			lp[nspf++] = &conf.lists[i];
	}
	if (nspf > 0) {
		sopts.dryrun = nflag;
		sopts.fopts = &fopts;
		if (spfwalk_run(&sopts, lp, nspf, &spf_failures) == -1)
			rc = 1;
	}
	free(lp);
	if (nflag && fflush(stdout) == EOF)
		fatal("stdout");

	for (i = 0; i < nwhites; i++)
		iprange_free(&whites[i].set);
	free(whites);
	free(out);
	iprange_free(&blacks);
	conf_free(&conf);
	if (rc == 0 && failures + spf_failures > 0)
		rc = 2;
	return rc;
}
