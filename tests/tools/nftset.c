/*
 * nftset.c: a thin command line over libnft, for tests, the demo and
 * the benchmarks.
 *
 * usage: nftset [-46irv] [-b backend] [-e expires] [-f family]
 *	      [-t timeout] add|del|replace|list TABLE SET [addr ... | -]
 *        nftset watch TABLE SECONDS
 *
 *	-4 / -6		the set's key is ipv4_addr (default) / ipv6_addr
 *	-i		the set has flags interval: addresses are CIDRs
 *	-r		add with NFT_REFRESH (add, delete, add)
 *	-v		debug log (batch sizes) on stderr
 *	-b backend	nft_open() spec: netlink (default), record:PATH, ...
 *	-e expires	remaining lifetime of added elements (30m, 2h, ...)
 *	-f family	table family: inet (default), ip, ip6
 *	-t timeout	per-element timeout of added elements
 *
 * "-" reads elements from stdin, one per line: "ADDR[/LEN] [TIMEOUT
 * [EXPIRES]]" (durations as for -t; blank lines and # comments skipped).
 * `list' prints one element per line: "ADDR" or "ADDR/LEN" for interval
 * sets, then " timeout MS expires MS" when the element has a timeout.
 *
 * `watch' subscribes with nft_watch_open(), prints "watching", then
 * polls; it prints "reloaded" and exits 0 at the first nft_watch_read()
 * that returns 1, or exits 1 ("no reload seen") after SECONDS.
 *
 * Exit: 0 done; 1 the call failed (nft_errstr on stderr, e.g.
 * "nftset: spamd_white: No such file or directory (...)"); 2 usage or a
 * bad address; 3 committed, but N elements were rejected (each logged).
 */
#include <sys/types.h>

#include <netinet/in.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/netfilter.h>

#include "common/addr.h"
#include "common/clock.h"
#include "common/compat.h"
#include "common/log.h"
#include "common/util.h"
#include "nft/nft.h"
#include "tests/nftlib/nftlib.h"

#define LINE_MAX_LEN	512
#define TIME_MAX_S	(3650LL * 86400)	/* ten years */

static __dead void
usage(void)
{
	fprintf(stderr, "usage: nftset [-46irv] [-b backend] [-e expires]"
	    " [-f family]\n"
	    "              [-t timeout] add|del|replace|list TABLE SET"
	    " [addr ... | -]\n"
	    "       nftset watch TABLE SECONDS\n");
	exit(2);
}

static int
parse_ms(const char *s, uint64_t *ms)
{
	int64_t v;
	const char *es;

	if (util_parse_time(s, 1, 0, TIME_MAX_S, &v, &es) == -1) {
		fprintf(stderr, "nftset: duration \"%s\" is %s\n", s, es);
		return -1;
	}
	*ms = (uint64_t)v * 1000;
	return 0;
}

static int
parse_elem(const char *s, const struct nft_set *set, struct nft_elem *e)
{
	struct cidr c;
	const char *es;

	memset(e, 0, sizeof(*e));
	if (set->interval) {
		if (cidr_parse(s, &c, 0, &es) == -1) {
			fprintf(stderr, "nftset: \"%s\": %s\n", s, es);
			return -1;
		}
		e->a = c.a;
		e->plen = c.plen;
	} else if (addr_parse(s, &e->a) == -1) {
		fprintf(stderr, "nftset: \"%s\": not an address\n", s);
		return -1;
	}
	return 0;
}

static int
push(struct nft_elem **el, size_t *n, size_t *cap, const struct nft_elem *e)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 1024;
		*el = xreallocarray(*el, *cap, sizeof(**el));
	}
	(*el)[(*n)++] = *e;
	return 0;
}

static int
read_stdin(const struct nft_set *set, uint64_t tmo, uint64_t exp,
    struct nft_elem **el, size_t *n)
{
	char line[LINE_MAX_LEN], *f[3], *p, *save;
	struct nft_elem e;
	size_t cap = 0, lineno = 0, k;

	while (fgets(line, sizeof(line), stdin) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(stdin)) {
			fprintf(stderr, "nftset: stdin:%zu: line too long\n",
			    lineno);
			return -1;
		}
		if ((p = strchr(line, '#')) != NULL)
			*p = '\0';
		k = 0;
		for (p = strtok_r(line, " \t\r\n", &save); p != NULL && k < 3;
		    p = strtok_r(NULL, " \t\r\n", &save))
			f[k++] = p;
		if (k == 0)
			continue;
		if (p != NULL) {
			fprintf(stderr, "nftset: stdin:%zu: too many fields\n",
			    lineno);
			return -1;
		}
		if (parse_elem(f[0], set, &e) == -1)
			return -1;
		e.timeout_ms = tmo;
		e.expires_ms = exp;
		if ((k > 1 && parse_ms(f[1], &e.timeout_ms) == -1) ||
		    (k > 2 && parse_ms(f[2], &e.expires_ms) == -1))
			return -1;
		push(el, n, &cap, &e);
	}
	if (ferror(stdin)) {
		fprintf(stderr, "nftset: stdin: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

static void
print(const struct nft_set *set, const struct nft_elem *el, size_t n)
{
	char a[ADDR_STRLEN];
	size_t i;

	for (i = 0; i < n; i++) {
		addr_ntop(&el[i].a, a, sizeof(a));
		if (set->interval)
			printf("%s/%u", a, el[i].plen);
		else
			fputs(a, stdout);
		if (el[i].timeout_ms)
			printf(" timeout %llu expires %llu",
			    (unsigned long long)el[i].timeout_ms,
			    (unsigned long long)el[i].expires_ms);
		putchar('\n');
	}
}

static int
watch(const char *table, const char *secs)
{
	struct pollfd pfd;
	uint64_t end;
	const char *es;
	long long s;
	int fd, rc;

	s = strtonum(secs, 1, 3600, &es);
	if (es != NULL) {
		fprintf(stderr, "nftset: seconds \"%s\" is %s\n", secs, es);
		return 2;
	}
	if ((fd = nft_watch_open(table)) == -1) {
		fprintf(stderr, "nftset: nft_watch_open: %s\n",
		    strerror(errno));
		return 1;
	}
	printf("watching\n");
	fflush(stdout);
	end = clock_mono_ms() + (uint64_t)s * 1000;
	while (clock_mono_ms() < end) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 100) == -1 && errno != EINTR) {
			fprintf(stderr, "nftset: poll: %s\n", strerror(errno));
			return 1;
		}
		if ((rc = nft_watch_read(fd, table)) == -1) {
			fprintf(stderr, "nftset: nft_watch_read: %s\n",
			    strerror(errno));
			return 1;
		}
		if (rc == 1) {
			printf("reloaded\n");
			return 0;
		}
	}
	printf("no reload seen\n");
	return 1;
}

int
main(int argc, char *argv[])
{
	struct nft_set set = { NULL, NULL, NFPROTO_INET, AF_INET, 0 };
	struct nft_elem *el = NULL, e;
	struct nft *n;
	const char *backend = "netlink", *cmd;
	uint64_t tmo = 0, exp = 0;
	size_t cnt = 0, cap = 0;
	int ch, flags = 0, verbose = 0, rc, i;

	while ((ch = getopt(argc, argv, "46b:e:f:irt:v")) != -1) {
		switch (ch) {
		case '4':
			set.af = AF_INET;
			break;
		case '6':
			set.af = AF_INET6;
			break;
		case 'b':
			backend = optarg;
			break;
		case 'e':
			if (parse_ms(optarg, &exp) == -1)
				usage();
			break;
		case 'f':
			if (strcmp(optarg, "inet") == 0)
				set.family = NFPROTO_INET;
			else if (strcmp(optarg, "ip") == 0)
				set.family = NFPROTO_IPV4;
			else if (strcmp(optarg, "ip6") == 0)
				set.family = NFPROTO_IPV6;
			else
				usage();
			break;
		case 'i':
			set.interval = 1;
			break;
		case 'r':
			flags |= NFT_REFRESH;
			break;
		case 't':
			if (parse_ms(optarg, &tmo) == -1)
				usage();
			break;
		case 'v':
			verbose = 2;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 3 && strcmp(argv[0], "watch") == 0) {
		log_init("nftset", 1, verbose);
		return watch(argv[1], argv[2]);
	}
	if (argc < 3)
		usage();
	cmd = argv[0];
	set.table = argv[1];
	set.name = argv[2];
	log_init("nftset", 1, verbose);

	if (strcmp(cmd, "list") != 0) {
		if (argc == 4 && strcmp(argv[3], "-") == 0) {
			if (read_stdin(&set, tmo, exp, &el, &cnt) == -1)
				return 2;
		} else {
			for (i = 3; i < argc; i++) {
				if (parse_elem(argv[i], &set, &e) == -1)
					return 2;
				e.timeout_ms = tmo;
				e.expires_ms = exp;
				push(&el, &cnt, &cap, &e);
			}
		}
	} else if (argc != 3)
		usage();

	nft_record_register();
	if ((n = nft_open(backend)) == NULL) {
		fprintf(stderr, "nftset: %s\n", nft_open_errstr());
		return 1;
	}
	if (strcmp(cmd, "add") == 0)
		rc = nft_add(n, &set, el, cnt, flags);
	else if (strcmp(cmd, "del") == 0)
		rc = nft_del(n, &set, el, cnt);
	else if (strcmp(cmd, "replace") == 0)
		rc = nft_replace(n, &set, el, cnt);
	else if (strcmp(cmd, "list") == 0) {
		free(el);
		el = NULL;
		if ((rc = nft_list(n, &set, &el, &cnt)) == 0)
			print(&set, el, cnt);
	} else {
		nft_close(n);
		usage();
	}
	if (rc < 0)
		fprintf(stderr, "nftset: %s\n", nft_errstr(n));
	else if (rc > 0)
		fprintf(stderr, "nftset: %d element%s rejected\n", rc,
		    rc == 1 ? "" : "s");
	nft_close(n);
	free(el);
	if (fflush(stdout) == EOF)
		return 1;
	return rc < 0 ? 1 : rc > 0 ? 3 : 0;
}
