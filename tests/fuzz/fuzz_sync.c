/*
 * fuzz_sync.c: libFuzzer harness for the sync receiver's decoder
 * (spamd/syncmsg.c, syncmsg_dec): what any host that can reach UDP port
 * 8025 may send, and what a peer holding the key may send.
 *
 * Input: byte 0 holds flags: 0x01 sign the datagram before decoding (the
 * harness writes the right MAC for the header's version and length, so
 * that fuzzing reaches the TLV walk; a MAC cannot be guessed), 0x02 use
 * the empty key instead of the test key. Byte 1 is the `max' given to the
 * decoder (255 meaning SYNCMSG_ENTRIES_MAX). The rest is one datagram,
 * passed as an exact-size copy of at most SYNCMSG_MAX_DGRAM + 64 bytes.
 *
 * Invariants:
 *	the status is a known one and why is its text;
 *	nothing is decoded from a datagram refused before its TLVs;
 *	at most max and SYNCMSG_ENTRIES_MAX entries; each is GREY, WHITE or
 *	TRAPPED with a usable address (v2: IPv4, not 0.0.0.0 nor
 *	255.255.255.255), times >= 0 (v2: 32-bit), GREY without expire, and
 *	strings of at most GD_FIELD_MAX bytes without CR, LF or '|';
 *	a fully decoded datagram re-encodes to the same bytes (the header
 *	length's, less the greyd deletions it skipped), and a partly decoded
 *	one's entries re-encode and decode again to the same entries;
 *	syncmsg_canon_addr of a decoded from/to is bracketed and idempotent;
 *	the replay window accepts a header's sequence once.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "spamd/syncmsg.h"
#include "tests/fuzz/fuzz.h"

#define TESTKEY	"57aa69a724d6f76ec67caf9b3f740736f3ba81a1"

static struct syncmsg_entry e[SYNCMSG_ENTRIES_MAX + 1];
static struct syncmsg_entry f[SYNCMSG_ENTRIES_MAX + 1];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init("fuzz-sync");
	return 0;
}

/* Write the MAC the header's version and length call for, if it can. */
static void
sign(uint8_t *buf, size_t len, const char *key)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	size_t tot, off, mlen;
	int ext;

	if (len < 4)
		return;
	if (buf[0] == SYNCMSG_VERSION)
		ext = 0;
	else if (buf[0] == SYNCMSG_VERSION_EXT)
		ext = 1;
	else
		return;
	off = ext ? 32 : 8;
	mlen = ext ? 32 : 20;
	tot = (size_t)buf[2] << 8 | buf[3];
	if (tot > len || tot < off + mlen)
		return;
	memset(buf + off, 0, mlen);
	if (HMAC(ext ? EVP_sha256() : EVP_sha1(), key, (int)strlen(key), buf,
	    tot, md, &mdlen) != NULL && mdlen == mlen)
		memcpy(buf + off, md, mlen);
}

static void
check_str(const char *what, const char *s)
{
	size_t n = strnlen(s, GD_FIELD_MAX + 1);
	char c[GD_FIELD_MAX + 1], d[GD_FIELD_MAX + 1];

	FUZZ_CHECK(n <= GD_FIELD_MAX, "%s longer than %d", what, GD_FIELD_MAX);
	FUZZ_CHECK(strpbrk(s, "\r\n|") == NULL, "%s holds CR, LF or '|'",
	    what);
	if (syncmsg_canon_addr(s, c, sizeof(c)) == -1)
		return;
	n = strlen(c);
	FUZZ_CHECK(n >= 2 && c[0] == '<' && c[n - 1] == '>', "%s canon "
	    "\"%s\" not bracketed", what, c);
	FUZZ_CHECK(syncmsg_canon_addr(c, d, sizeof(d)) == 0 &&
	    strcmp(c, d) == 0, "%s canon not idempotent", what);
}

static void
check_entry(const struct syncmsg_entry *x, int ext, size_t i)
{
	FUZZ_CHECK(x->kind == SYNCMSG_GREY || x->kind == SYNCMSG_WHITE ||
	    x->kind == SYNCMSG_TRAPPED, "entry %zu kind %d", i, (int)x->kind);
	FUZZ_CHECK(x->ip.af == AF_INET || (ext && x->ip.af == AF_INET6),
	    "entry %zu af %u", i, x->ip.af);
	if (x->ip.af == AF_INET) {
		uint32_t a = (uint32_t)x->ip.u.b[0] << 24 |
		    (uint32_t)x->ip.u.b[1] << 16 | (uint32_t)x->ip.u.b[2] << 8 |
		    x->ip.u.b[3];

		FUZZ_CHECK(a != 0 && a != UINT32_MAX, "entry %zu address "
		    "%08x", i, a);
	}
	FUZZ_CHECK(x->timestamp >= 0 && x->expire >= 0, "entry %zu times",
	    i);
	FUZZ_CHECK(ext || (x->timestamp <= (int64_t)UINT32_MAX &&
	    x->expire <= (int64_t)UINT32_MAX), "entry %zu v2 times", i);
	if (x->kind == SYNCMSG_GREY) {
		FUZZ_CHECK(x->expire == 0, "grey entry %zu has an expiry", i);
		check_str("helo", x->helo);
		check_str("from", x->from);
		check_str("to", x->to);
	}
}

static int
same(const struct syncmsg_entry *a, const struct syncmsg_entry *b)
{
	return a->kind == b->kind && addr_cmp(&a->ip, &b->ip) == 0 &&
	    a->timestamp == b->timestamp && a->expire == b->expire &&
	    strcmp(a->helo, b->helo) == 0 && strcmp(a->from, b->from) == 0 &&
	    strcmp(a->to, b->to) == 0;
}

/* Encode e[0..n) as h says, decode it again, compare; the length. */
static size_t
reencode(const struct syncmsg_hdr *h, const char *key, size_t n,
    uint8_t *out, size_t size)
{
	struct syncmsg_hdr g;
	size_t len, m, i;
	const char *why;
	int ext = h->version == SYNCMSG_VERSION_EXT;

	len = ext ? syncmsg_enc_ext(out, size, h, key, e, n) :
	    syncmsg_enc_v2(out, size, h->counter, key, e, n);
	FUZZ_CHECK(len > 0, "%zu decoded entries do not encode", n);
	FUZZ_CHECK(len <= SYNCMSG_MAX_DGRAM, "encoded %zu bytes", len);
	FUZZ_CHECK(syncmsg_dec(out, len, key, f, SYNCMSG_ENTRIES_MAX, &m,
	    &why, &g) == SYNCMSG_OK && m == n, "re-encoded entries do not "
	    "decode: %s", why);
	FUZZ_CHECK(g.version == h->version && g.counter == h->counter &&
	    g.node == h->node && g.boot == h->boot && g.seq == h->seq,
	    "header changed in a round trip");
	for (i = 0; i < n; i++)
		FUZZ_CHECK(same(&e[i], &f[i]), "entry %zu changed in a round "
		    "trip", i);
	return len;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t out[SYNCMSG_MAX_DGRAM];
	struct syncmsg_hdr h;
	struct syncmsg_replay r;
	enum syncmsg_status st;
	const char *key, *why = NULL;
	uint8_t *buf;
	size_t len, max, n = (size_t)-1, i, k, tot;

	if (size < 2)
		return 0;
	key = data[0] & 0x02 ? "" : TESTKEY;
	max = data[1] == 255 ? SYNCMSG_ENTRIES_MAX : data[1];
	if (max > SYNCMSG_ENTRIES_MAX)
		max = SYNCMSG_ENTRIES_MAX;
	len = size - 2;
	if (len > SYNCMSG_MAX_DGRAM + 64)
		len = SYNCMSG_MAX_DGRAM + 64;
	if ((buf = malloc(len ? len : 1)) == NULL)
		return 0;
	memcpy(buf, data + 2, len);
	if (data[0] & 0x01)
		sign(buf, len, key);

	st = syncmsg_dec(buf, len, key, e, max, &n, &why, &h);
	FUZZ_CHECK((unsigned int)st < SYNCMSG_NSTATUS, "status %d", (int)st);
	FUZZ_CHECK(why != NULL && strcmp(why, syncmsg_reason(st)) == 0,
	    "why \"%s\" for status %d", why ? why : "(null)", (int)st);
	FUZZ_CHECK(n <= max, "%zu entries, max %zu", n, max);
	if (st == SYNCMSG_TRUNCATED || st == SYNCMSG_BAD_VERSION ||
	    st == SYNCMSG_BAD_FAMILY || st == SYNCMSG_BAD_HEADER ||
	    st == SYNCMSG_BAD_MAC) {
		FUZZ_CHECK(n == 0, "%zu entries from a datagram refused (%s)",
		    n, why);
		free(buf);
		return 0;
	}
	FUZZ_CHECK(h.version == SYNCMSG_VERSION ||
	    h.version == SYNCMSG_VERSION_EXT, "version %u", h.version);
	for (i = 0; i < n; i++)
		check_entry(&e[i], h.version == SYNCMSG_VERSION_EXT, i);
	FUZZ_CHECK(h.version == SYNCMSG_VERSION || h.skipped == 0,
	    "the extension skipped %zu TLVs", h.skipped);

	k = reencode(&h, key, n, out, sizeof(out));
	if (st == SYNCMSG_OK) {
		tot = (size_t)buf[2] << 8 | buf[3];
		FUZZ_CHECK(k + 16 * h.skipped == tot, "re-encoded %zu bytes "
		    "(%zu skipped), had %zu", k, h.skipped, tot);
		if (h.skipped == 0)
			FUZZ_CHECK(memcmp(out, buf, k) == 0, "re-encoded "
			    "datagram differs");
	}
	if (h.version == SYNCMSG_VERSION_EXT) {
		memset(&r, 0, sizeof(r));
		FUZZ_CHECK(syncmsg_replay_check(&r, h.node, h.boot, h.seq) == 1,
		    "first sequence refused");
		FUZZ_CHECK(syncmsg_replay_check(&r, h.node, h.boot, h.seq) == 0,
		    "replay accepted");
	}
	free(buf);
	return 0;
}
