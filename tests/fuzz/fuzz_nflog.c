/*
 * fuzz_nflog.c: libFuzzer harness for spamlogd's DLT_NFLOG record decoder
 * (spamlogd/nflog.c: nflog_parse and its helpers).
 *
 * Input: one record as libpcap hands it over (the 4-byte nflog header,
 * then TLVs). Seeds are the records of the pcap files in tests/data/nflog.
 *
 * Invariants:
 *	the verdict is BAD, SKIP or OPEN, with a reason unless OPEN;
 *	the prefix is NUL-terminated within its buffer;
 *	OPEN means a complete story: IP and TCP headers read, a SYN without
 *	ACK to port 25, a direction, and a peer of the header's family that
 *	is neither unspecified nor multicast; nflog_on_if(pkt, 0) holds;
 *	parsing is a function of the bytes: a second parse of a copy gives
 *	the same verdict and reason.
 */
#include <stdlib.h>
#include <string.h>

#include "spamlogd/nflog.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init("fuzz-nflog");
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nflog_pkt p, q;
	const struct addr *peer;
	const char *why, *why2;
	uint8_t *copy;
	int rc;

	rc = nflog_parse(data, size, &p, &why);
	FUZZ_CHECK(rc == NFLOG_BAD || rc == NFLOG_SKIP || rc == NFLOG_OPEN,
	    "verdict %d", rc);
	FUZZ_CHECK(memchr(p.prefix, '\0', sizeof(p.prefix)) != NULL,
	    "prefix not terminated");
	FUZZ_CHECK(nflog_dir_name(p.dir) != NULL, "direction name");
	if (rc != NFLOG_OPEN) {
		FUZZ_CHECK(why != NULL && why[0] != '\0', "verdict %d without "
		    "a reason", rc);
	} else {
		FUZZ_CHECK(p.has_ip && p.has_tcp, "OPEN without headers");
		FUZZ_CHECK(p.family == AF_INET || p.family == AF_INET6,
		    "OPEN for family %u", p.family);
		FUZZ_CHECK(p.dport == NFLOG_SMTP_PORT, "OPEN to port %u",
		    p.dport);
		FUZZ_CHECK((p.tcpflags & 0x12) == 0x02, "OPEN with flags "
		    "0x%02x", p.tcpflags);
		FUZZ_CHECK(p.dir == NFLOG_DIR_IN || p.dir == NFLOG_DIR_OUT,
		    "OPEN without a direction");
		peer = nflog_peer(&p);
		FUZZ_CHECK(peer == &p.src || peer == &p.dst, "peer");
		FUZZ_CHECK(peer->af == AF_INET || peer->af == AF_INET6,
		    "peer family %u", peer->af);
		FUZZ_CHECK(nflog_on_if(&p, 0), "ifindex 0 must match");
		if (peer->af == AF_INET)
			FUZZ_CHECK(peer->u.b[0] != 0 && peer->u.b[0] < 224,
			    "unusable IPv4 peer");
		else
			FUZZ_CHECK(peer->u.b[0] != 0xff, "multicast peer");
	}
	if (p.has_ip)
		FUZZ_CHECK(p.src.af == p.dst.af || p.family == AF_INET6,
		    "mixed families in an IPv4 header");
	if (size > 0) {
		if ((copy = malloc(size)) == NULL)
			return 0;
		memcpy(copy, data, size);
		FUZZ_CHECK(nflog_parse(copy, size, &q, &why2) == rc &&
		    why2 == why, "second parse differs");
		free(copy);
	}
	return 0;
}
