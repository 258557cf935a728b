/*
 * nftins.c: the kernel's own cost of inserting set elements, the peer of
 * the reconcile benchmark (bench/run.sh, section 4).
 *
 * usage: nftins [-6] [-c chunk] [-t timeout_s] TABLE SET < addresses
 *
 * Reads one address per line (as `benchdb addrs` prints them), builds
 * the batches spamd-nftsync sends for them (libnft's batch builder:
 * NEWSETELEM messages, each element with its timeout; one batch, or one
 * per chunk of elements with -c, as spamd-nftsync fills an empty set)
 * before the clock starts, then times only the kernel's part: the
 * sendmsg of each batch and the wait for its acknowledgement, back to
 * back. Prints one line:
 *	elements=N batches=K bytes=B parse_s=S build_s=S insert_s=S
 * Exit 0; 1 when the kernel refused the batch; 2 on usage.
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/benchutil.h"
#include "common/addr.h"
#include "common/log.h"
#include "nft/nft_int.h"

#include <linux/netfilter.h>

static __dead void
usage(void)
{
	fprintf(stderr, "usage: nftins [-6] [-t timeout_s] TABLE SET "
	    "< addresses\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	struct nft_set set = { NULL, NULL, NFPROTO_INET, AF_INET, 0 };
	struct nft_replies rep = { NULL, 0, 0 };
	struct nft_batch *b;
	struct nft_key *keys = NULL;
	struct nft *n;
	char line[128];
	size_t cnt = 0, cap = 0, len, chunk = 0, nb, i, bytes = 0;
	unsigned long long timeout_s = 36ULL * 86400;
	double t0, tp, t1, t2;
	int ch;

	log_init("nftins", 1, 0);
	while ((ch = getopt(argc, argv, "6c:t:")) != -1) {
		switch (ch) {
		case '6':
			set.af = AF_INET6;
			break;
		case 'c':
			chunk = strtoul(optarg, NULL, 10);
			break;
		case 't':
			timeout_s = strtoull(optarg, NULL, 10);
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 2 || timeout_s == 0)
		usage();
	set.table = argv[optind];
	set.name = argv[optind + 1];

	t0 = benchutil_now_s();
	while (fgets(line, sizeof(line), stdin) != NULL) {
		struct addr a;

		len = strcspn(line, "\r\n");
		line[len] = '\0';
		if (len == 0)
			continue;
		if (addr_parse(line, &a) == -1 || a.af != set.af) {
			fprintf(stderr, "nftins: %s: not an address of the "
			    "set's family\n", line);
			return 2;
		}
		if (cnt == cap) {
			cap = cap ? cap * 2 : 65536;
			if ((keys = realloc(keys, cap * sizeof(*keys))) ==
			    NULL) {
				perror("nftins: realloc");
				return 1;
			}
		}
		memset(&keys[cnt], 0, sizeof(keys[cnt]));
		memcpy(keys[cnt].key, &a.u, addr_len(&a));
		keys[cnt].in = (uint32_t)cnt;
		keys[cnt].timeout_ms = timeout_s * 1000;
		cnt++;
	}
	if (chunk == 0 || chunk > cnt)
		chunk = cnt ? cnt : 1;
	nb = (cnt + chunk - 1) / chunk;
	tp = benchutil_now_s();
	if ((n = nft_open("netlink")) == NULL) {
		fprintf(stderr, "nftins: %s\n", nft_open_errstr());
		return 1;
	}
	if ((b = calloc(nb ? nb : 1, sizeof(*b))) == NULL) {
		perror("nftins: calloc");
		return 1;
	}
	for (i = 0; i < nb; i++) {
		size_t lo = i * chunk, k = cnt - lo < chunk ? cnt - lo : chunk;

		nft_batch_init(&b[i], &set);
		if (nft_batch_begin(&b[i], &n->seq) == -1 ||
		    nft_batch_op(&b[i], &n->seq, NFT_OP_ADD_TIMEOUT, keys + lo,
		    k, NULL) == -1 || nft_batch_end(&b[i], &n->seq) == -1) {
			perror("nftins: building the batch");
			return 1;
		}
		if (!n->be->fit(n, b[i].len)) {
			fprintf(stderr, "nftins: a batch of %zu bytes does "
			    "not fit the socket send buffer\n", b[i].len);
			return 1;
		}
		bytes += b[i].len;
	}
	t1 = benchutil_now_s();
	for (i = 0; i < nb; i++) {
		rep.n = 0;
		if (n->be->send(n, &b[i], &rep) == -1) {
			fprintf(stderr, "nftins: %s\n", nft_errstr(n));
			return 1;
		}
		if (rep.n > 0) {
			fprintf(stderr, "nftins: the kernel refused a batch: "
			    "%s\n", strerror(rep.r[0].error));
			return 1;
		}
	}
	t2 = benchutil_now_s();
	printf("elements=%zu batches=%zu bytes=%zu parse_s=%.3f build_s=%.3f "
	    "insert_s=%.3f\n", cnt, nb, bytes, tp - t0, t1 - tp, t2 - t1);
	for (i = 0; i < nb; i++)
		nft_batch_free(&b[i]);
	free(b);
	free(rep.r);
	free(keys);
	nft_close(n);
	return 0;
}
