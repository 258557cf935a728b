/*
 * t_syncmsg.c: the sync wire codec (spamd/syncmsg.c): OpenBSD's version 2
 * byte for byte against the test vectors of features-2.md 3.3, every
 * malformed datagram the receiver must refuse (each re-signed, so that it
 * is the check under test that refuses it, not the MAC), the IPv6
 * extension's round trips, the address canonicalisation and the replay
 * window.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "spamd/syncmsg.h"
#include "tests/unit/harness.h"

#define KEYFILE		"sharedsecret\n"
#define HEXKEY		"57aa69a724d6f76ec67caf9b3f740736f3ba81a1"

static const char vec1[] =
    "020200740000000052ee619e16e6823554ce812f569741cdb1076b98000000000001"
    "00506553f100c000020a00100010000f3c61406578616d706c652e6f72673e003c62"
    "406578616d706c652e6e65743e006d782e6578616d706c652e6f7267000000000000"
    "0000000000000000000000000004";
static const char vec2[] =
    "02020034000000011658332625ffc0ebe859d21c73418765a277976d000000000002"
    "00106553f10065836700c000021400000004";
static const char vec3[] =
    "02020034000000020d24515ee2ad6ad65c658ed2492754e2dabc141c000000000003"
    "00106553f10065554280c000021e00000004";

static size_t
unhex(const char *s, uint8_t *out, size_t size)
{
	size_t n = strlen(s) / 2, i;
	unsigned int b;

	T_ASSERT(n <= size);
	for (i = 0; i < n; i++) {
		T_ASSERT(sscanf(s + 2 * i, "%2x", &b) == 1);
		out[i] = (uint8_t)b;
	}
	return n;
}

static void
put16(uint8_t *p, unsigned int v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Sign buf[0..len) again as its header says (v2: SHA-1, ext: SHA-256). */
static void
resign(uint8_t *buf, size_t len, const char *key, size_t keylen)
{
	int ext = buf[0] == SYNCMSG_VERSION_EXT;
	size_t off = ext ? 32 : 8, mlen = ext ? 32 : 20;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	memset(buf + off, 0, mlen);
	T_ASSERT(HMAC(ext ? EVP_sha256() : EVP_sha1(), key, (int)keylen, buf,
	    len, md, &mdlen) != NULL);
	T_EQ_INT(mdlen, mlen);
	memcpy(buf + off, md, mlen);
}

static void
sign(uint8_t *buf, size_t len)
{
	resign(buf, len, HEXKEY, strlen(HEXKEY));
}

static enum syncmsg_status
decode(const uint8_t *buf, size_t len, struct syncmsg_entry *e, size_t max,
    size_t *n, struct syncmsg_hdr *h)
{
	const char *why = NULL;
	enum syncmsg_status st;

	st = syncmsg_dec(buf, len, HEXKEY, e, max, n, &why, h);
	T_EQ_STR(why, syncmsg_reason(st));
	return st;
}

static void
set_entry(struct syncmsg_entry *e, enum syncmsg_kind k, const char *ip,
    int64_t ts, int64_t ex)
{
	memset(e, 0, sizeof(*e));
	e->kind = k;
	T_EQ_INT(addr_parse(ip, &e->ip), 0);
	e->timestamp = ts;
	e->expire = ex;
}

static void
set_grey(struct syncmsg_entry *e, const char *ip, const char *helo,
    const char *from, const char *to)
{
	set_entry(e, SYNCMSG_GREY, ip, 1700000000, 0);
	snprintf(e->helo, sizeof(e->helo), "%s", helo);
	snprintf(e->from, sizeof(e->from), "%s", from);
	snprintf(e->to, sizeof(e->to), "%s", to);
}

static void
same_entry(const struct syncmsg_entry *a, const struct syncmsg_entry *b)
{
	T_EQ_INT(a->kind, b->kind);
	T_EQ_INT(addr_cmp(&a->ip, &b->ip), 0);
	T_EQ_INT(a->timestamp, b->timestamp);
	T_EQ_INT(a->expire, b->expire);
	T_EQ_STR(a->helo, b->helo);
	T_EQ_STR(a->from, b->from);
	T_EQ_STR(a->to, b->to);
}

static void
key_hash(void)
{
	char k[SYNCMSG_KEY_LEN + 1];

	T_EQ_INT(syncmsg_key(KEYFILE, strlen(KEYFILE), k), 0);
	T_EQ_STR(k, HEXKEY);
	/* No key file: the empty key. An empty file is hashed. */
	T_EQ_INT(syncmsg_key(NULL, 0, k), 0);
	T_EQ_STR(k, "");
	T_EQ_INT(syncmsg_key("", 0, k), 0);
	T_EQ_STR(k, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
}

/* Encode a vector's entry, compare, decode it back. */
static void
check_vector(const char *hex, uint32_t counter, const char *key,
    const struct syncmsg_entry *in)
{
	uint8_t want[SYNCMSG_MAX_DGRAM], buf[SYNCMSG_MAX_DGRAM];
	struct syncmsg_entry out[2];
	struct syncmsg_hdr h;
	const char *why;
	size_t wn = unhex(hex, want, sizeof(want)), n, got;

	n = syncmsg_enc_v2(buf, sizeof(buf), counter, key, in, 1);
	T_EQ_INT(n, wn);
	T_EQ_MEM(buf, want, n);
	T_EQ_INT(syncmsg_dec(want, wn, key, out, 2, &got, &why, &h),
	    SYNCMSG_OK);
	T_EQ_STR(why, "ok");
	T_EQ_INT(got, 1);
	T_EQ_INT(h.version, SYNCMSG_VERSION);
	T_EQ_INT(h.counter, counter);
	T_EQ_INT(h.skipped, 0);
	same_entry(&out[0], in);
	/* Bytes past the header length are neither read nor MAC'd. */
	want[wn] = 0x55;
	T_EQ_INT(syncmsg_dec(want, wn + 1, key, out, 2, &got, &why, &h),
	    SYNCMSG_OK);
	/* Another key: bad mac. */
	T_EQ_INT(syncmsg_dec(want, wn, *key ? "" : HEXKEY, out, 2, &got, &why,
	    &h), SYNCMSG_BAD_MAC);
	T_EQ_STR(why, "bad mac");
	T_EQ_INT(got, 0);
}

static void
vector1_grey(void)
{
	uint8_t buf[SYNCMSG_MAX_DGRAM], copy[SYNCMSG_MAX_DGRAM];
	struct syncmsg_entry e;
	char key41[SYNCMSG_KEY_LEN + 1];
	size_t n;

	set_grey(&e, "192.0.2.10", "mx.example.org", "<a@example.org>",
	    "<b@example.net>");
	check_vector(vec1, 0, HEXKEY, &e);
	/* greyd's 41-byte key (the hex string and its NUL) MACs the same. */
	n = unhex(vec1, buf, sizeof(buf));
	memcpy(copy, buf, n);
	memcpy(key41, HEXKEY, sizeof(key41));
	resign(copy, n, key41, sizeof(key41));
	T_EQ_INT(sizeof(key41), 41);
	T_EQ_MEM(copy, buf, n);
}

static void
vector2_white(void)
{
	struct syncmsg_entry e;

	set_entry(&e, SYNCMSG_WHITE, "192.0.2.20", 1700000000, 1703110400);
	check_vector(vec2, 1, HEXKEY, &e);
}

static void
vector3_trapped_empty_key(void)
{
	struct syncmsg_entry e;

	set_entry(&e, SYNCMSG_TRAPPED, "192.0.2.30", 1700000000, 1700086400);
	check_vector(vec3, 2, "", &e);
	/* NULL is the empty key too. */
	{
		uint8_t buf[64];
		size_t n = syncmsg_enc_v2(buf, sizeof(buf), 2, NULL, &e, 1);
		uint8_t want[64];

		T_EQ_INT(unhex(vec3, want, sizeof(want)), n);
		T_EQ_MEM(buf, want, n);
	}
}

/* Every single flipped bit is refused; one in the payload is a bad mac. */
static void
flipped_bits(void)
{
	uint8_t buf[SYNCMSG_MAX_DGRAM];
	struct syncmsg_entry e[2];
	struct syncmsg_hdr h;
	size_t len = unhex(vec1, buf, sizeof(buf)), n, i;
	int b;

	for (i = 0; i < len; i++)
		for (b = 0; b < 8; b++) {
			buf[i] ^= (uint8_t)(1 << b);
			if (decode(buf, len, e, 2, &n, &h) == SYNCMSG_OK)
				t_fail("bit %d of byte %zu flipped: accepted",
				    b, i);
			T_EQ_INT(n, 0);
			buf[i] ^= (uint8_t)(1 << b);
		}
	buf[60] ^= 4;
	T_EQ_INT(decode(buf, len, e, 2, &n, &h), SYNCMSG_BAD_MAC);
}

static void
header_negatives(void)
{
	uint8_t buf[SYNCMSG_MAX_DGRAM + 16], v[SYNCMSG_MAX_DGRAM];
	struct syncmsg_entry e[2];
	struct syncmsg_hdr h;
	size_t len = unhex(vec2, v, sizeof(v)), n, k;

	memcpy(buf, v, len);
	buf[0] = 1;
	sign(buf, len);
	T_EQ_INT(decode(buf, len, e, 2, &n, &h), SYNCMSG_BAD_VERSION);
	memcpy(buf, v, len);
	buf[1] = 10;			/* Linux AF_INET6 */
	sign(buf, len);
	T_EQ_INT(decode(buf, len, e, 2, &n, &h), SYNCMSG_BAD_FAMILY);
	buf[1] = 24;			/* OpenBSD AF_INET6 */
	sign(buf, len);
	T_EQ_INT(decode(buf, len, e, 2, &n, &h), SYNCMSG_BAD_FAMILY);
	/* Header length larger than the datagram. */
	memcpy(buf, v, len);
	put16(buf + 2, (unsigned int)len + 1);
	sign(buf, len);
	T_EQ_INT(decode(buf, len, e, 2, &n, &h), SYNCMSG_TRUNCATED);
	/* Every cut of a datagram, headers of 0..35 bytes included. */
	for (k = 0; k < len; k++)
		if (decode(v, k, e, 2, &n, &h) != SYNCMSG_TRUNCATED)
			t_fail("a datagram cut to %zu bytes: %s", k,
			    syncmsg_reason(decode(v, k, e, 2, &n, &h)));
	/* A header length below header + END, or above 1408. */
	for (k = 0; k < 36; k++) {
		memcpy(buf, v, len);
		put16(buf + 2, (unsigned int)k);
		sign(buf, len);
		T_EQ_INT(decode(buf, len, e, 2, &n, &h), SYNCMSG_BAD_HEADER);
	}
	memset(buf, 0, sizeof(buf));
	memcpy(buf, v, len);
	put16(buf + 2, SYNCMSG_MAX_DGRAM + 1);
	T_EQ_INT(decode(buf, SYNCMSG_MAX_DGRAM + 1, e, 2, &n, &h),
	    SYNCMSG_BAD_HEADER);
	/* Non-zero header padding. */
	memcpy(buf, v, len);
	buf[30] = 1;
	sign(buf, len);
	T_EQ_INT(decode(buf, len, e, 2, &n, &h), SYNCMSG_BAD_HEADER);
	T_EQ_INT(n, 0);
}

/*
 * A v2 datagram from raw TLV bytes: the header, tlv[0..tn), signed with
 * the test key. Returns the length.
 */
static size_t
raw_v2(uint8_t *buf, const uint8_t *tlv, size_t tn)
{
	memset(buf, 0, 32);
	buf[0] = 2;
	buf[1] = 2;
	memcpy(buf + 32, tlv, tn);
	put16(buf + 2, (unsigned int)(32 + tn));
	sign(buf, 32 + tn);
	return 32 + tn;
}

static const uint8_t white_tlv[16] = { 0, 2, 0, 16, 0x65, 0x53, 0xf1, 0,
	0x65, 0x83, 0x67, 0, 192, 0, 2, 20 };
static const uint8_t end_tlv[4] = { 0, 0, 0, 4 };

static void
tlv_negatives(void)
{
	uint8_t buf[SYNCMSG_MAX_DGRAM], t[256];
	struct syncmsg_entry e[4];
	struct syncmsg_hdr h;
	size_t len, n;

	/* A WHITE of length 12. */
	memcpy(t, white_tlv, 16);
	t[3] = 12;
	memcpy(t + 16, end_tlv, 4);
	len = raw_v2(buf, t, 20);
	T_EQ_INT(decode(buf, len, e, 4, &n, &h), SYNCMSG_BAD_LENGTH);
	T_EQ_INT(h.type, SYNCMSG_WHITE);
	T_EQ_INT(n, 0);
	/* TLV length 0 (and 1..3) must not loop. */
	for (t[3] = 0; t[3] < 4; t[3]++) {
		len = raw_v2(buf, t, 20);
		T_EQ_INT(decode(buf, len, e, 4, &n, &h), SYNCMSG_BAD_TLV);
	}
	/* A TLV running past the header length. */
	t[3] = 32;
	len = raw_v2(buf, t, 20);
	T_EQ_INT(decode(buf, len, e, 4, &n, &h), SYNCMSG_BAD_TLV);
	/* No END; bytes after END; END of length 8; a stub of 2 bytes. */
	len = raw_v2(buf, white_tlv, 16);
	T_EQ_INT(decode(buf, len, e, 4, &n, &h), SYNCMSG_NO_END);
	T_EQ_INT(n, 1);
	memcpy(t, white_tlv, 16);
	memcpy(t + 16, end_tlv, 4);
	memset(t + 20, 0, 16);
	len = raw_v2(buf, t, 36);
	T_EQ_INT(decode(buf, len, e, 4, &n, &h), SYNCMSG_NO_END);
	t[19] = 8;
	len = raw_v2(buf, t, 24);
	T_EQ_INT(decode(buf, len, e, 4, &n, &h), SYNCMSG_BAD_LENGTH);
	len = raw_v2(buf, t, 18);
	T_EQ_INT(decode(buf, len, e, 4, &n, &h), SYNCMSG_BAD_TLV);
	/* 0.0.0.0 and greyd's 255.255.255.255 are nobody. */
	memcpy(t, white_tlv, 16);
	memset(t + 12, 0xff, 4);
	memcpy(t + 16, end_tlv, 4);
	len = raw_v2(buf, t, 20);
	T_EQ_INT(decode(buf, len, e, 4, &n, &h), SYNCMSG_BAD_ADDRESS);
	memset(t + 12, 0, 4);
	len = raw_v2(buf, t, 20);
	T_EQ_INT(decode(buf, len, e, 4, &n, &h), SYNCMSG_BAD_ADDRESS);
	/* More entries than the caller's max. */
	memcpy(t, white_tlv, 16);
	memcpy(t + 16, white_tlv, 16);
	memcpy(t + 32, end_tlv, 4);
	len = raw_v2(buf, t, 36);
	T_EQ_INT(decode(buf, len, e, 4, &n, &h), SYNCMSG_OK);
	T_EQ_INT(n, 2);
	T_EQ_INT(decode(buf, len, e, 1, &n, &h), SYNCMSG_TOO_MANY);
	T_EQ_INT(n, 1);
	T_EQ_INT(decode(buf, len, e, 0, &n, &h), SYNCMSG_TOO_MANY);
	T_EQ_INT(n, 0);
}

/* greyd's deletions are skipped; other unknown types stop the walk. */
static void
unknown_types(void)
{
	uint8_t buf[SYNCMSG_MAX_DGRAM], t[256];
	struct syncmsg_entry e[4];
	struct syncmsg_hdr h;
	size_t len, n;

	memcpy(t, white_tlv, 16);
	memcpy(t + 16, white_tlv, 16);
	t[17] = 4;			/* DEL_WHITE, before END */
	memcpy(t + 32, end_tlv, 4);
	len = raw_v2(buf, t, 36);
	T_EQ_INT(decode(buf, len, e, 4, &n, &h), SYNCMSG_OK);
	T_EQ_INT(n, 1);
	T_EQ_INT(h.skipped, 1);
	t[17] = 5;			/* DEL_TRAPPED, of length 12 */
	t[19] = 12;
	len = raw_v2(buf, t, 36);
	T_EQ_INT(decode(buf, len, e, 4, &n, &h), SYNCMSG_BAD_LENGTH);
	T_EQ_INT(h.type, 5);
	T_EQ_INT(n, 1);
	t[17] = 6;			/* unknown: entries before it stay */
	t[19] = 16;
	len = raw_v2(buf, t, 36);
	T_EQ_INT(decode(buf, len, e, 4, &n, &h), SYNCMSG_UNKNOWN_TYPE);
	T_EQ_INT(h.type, 6);
	T_EQ_INT(n, 1);
	T_EQ_INT(e[0].kind, SYNCMSG_WHITE);
	T_EQ_INT(e[0].expire, 1703110400);
	t[16] = 0x80;
	t[17] = 1;
	len = raw_v2(buf, t, 36);
	T_EQ_INT(decode(buf, len, e, 4, &n, &h), SYNCMSG_UNKNOWN_TYPE);
	T_EQ_INT(h.type, 0x8001);
}

/* A GREY TLV from the vector with one byte changed, re-signed. */
static enum syncmsg_status
grey_patched(size_t off, uint8_t v, size_t *n)
{
	uint8_t buf[SYNCMSG_MAX_DGRAM];
	struct syncmsg_entry e[2];
	struct syncmsg_hdr h;
	size_t len = unhex(vec1, buf, sizeof(buf));

	buf[off] = v;
	sign(buf, len);
	return decode(buf, len, e, 2, n, &h);
}

static void
grey_strings(void)
{
	size_t n;

	/* From without its NUL (from length 15). */
	T_EQ_INT(grey_patched(32 + 13, 15, &n), SYNCMSG_BAD_STRING);
	T_EQ_INT(n, 0);
	/* Lengths 0; a sum past the TLV; a helo of 1 byte, not NUL. */
	T_EQ_INT(grey_patched(32 + 13, 0, &n), SYNCMSG_BAD_STRING);
	T_EQ_INT(grey_patched(32 + 13, 100, &n), SYNCMSG_BAD_LENGTH);
	T_EQ_INT(grey_patched(32 + 17, 1, &n), SYNCMSG_BAD_STRING);
	/* LF, CR, '|' and a NUL inside helo ("mx.example.org" at 82). */
	T_EQ_INT(grey_patched(84, '\n', &n), SYNCMSG_BAD_STRING);
	T_EQ_INT(grey_patched(84, '\r', &n), SYNCMSG_BAD_STRING);
	T_EQ_INT(grey_patched(84, '|', &n), SYNCMSG_BAD_STRING);
	T_EQ_INT(grey_patched(84, '\0', &n), SYNCMSG_BAD_STRING);
	T_EQ_INT(grey_patched(50, '|', &n), SYNCMSG_BAD_STRING);
	/* Non-zero padding; a GREY shorter than its fixed part. */
	T_EQ_INT(grey_patched(100, 1, &n), SYNCMSG_BAD_PADDING);
	T_EQ_INT(grey_patched(32 + 3, 16, &n), SYNCMSG_BAD_LENGTH);
	/* Sanity: another helo byte decodes. */
	T_EQ_INT(grey_patched(84, 'e', &n), SYNCMSG_OK);
	T_EQ_INT(n, 1);
	/* A TLV 16 bytes longer than its rounded length. */
	{
		uint8_t buf[SYNCMSG_MAX_DGRAM];
		struct syncmsg_entry e[2];
		struct syncmsg_hdr h;
		size_t len = unhex(vec1, buf, sizeof(buf));

		memmove(buf + len, buf + len - 4, 4);
		memset(buf + len - 4, 0, 16);
		put16(buf + 34, 96);
		len += 16;
		put16(buf + 2, (unsigned int)len);
		sign(buf, len);
		T_EQ_INT(decode(buf, len, e, 2, &n, &h), SYNCMSG_BAD_LENGTH);
		T_EQ_INT(n, 0);
	}
}

/* A GREY TLV with a from of flen bytes (NUL included), raw. */
static size_t
raw_grey(uint8_t *buf, size_t flen)
{
	uint8_t t[SYNCMSG_MAX_DGRAM];
	size_t need = 18 + flen + 2 + 2, tl = (need + 15) & ~(size_t)15;

	memset(t, 0, sizeof(t));
	put16(t, 1);
	put16(t + 2, (unsigned int)tl);
	t[8] = 192;
	t[9] = 0;
	t[10] = 2;
	t[11] = 1;
	put16(t + 12, (unsigned int)flen);
	put16(t + 14, 2);
	put16(t + 16, 2);
	memset(t + 18, 'f', flen - 1);
	t[18 + flen] = 't';
	t[18 + flen + 2] = 'h';
	memcpy(t + tl, end_tlv, 4);
	return raw_v2(buf, t, tl + 4);
}

static void
long_strings(void)
{
	uint8_t buf[4096], want[4096];
	struct syncmsg_entry e[2], in;
	struct syncmsg_hdr h;
	size_t len, n;

	len = raw_grey(want, GD_FIELD_MAX + 1);
	memcpy(buf, want, len);
	T_EQ_INT(decode(buf, len, e, 2, &n, &h), SYNCMSG_OK);
	T_EQ_INT(strlen(e[0].from), GD_FIELD_MAX);
	T_EQ_STR(e[0].to, "t");
	T_EQ_STR(e[0].helo, "h");
	in = e[0];
	len = raw_grey(buf, GD_FIELD_MAX + 2);
	T_EQ_INT(decode(buf, len, e, 2, &n, &h), SYNCMSG_BAD_STRING);
	/* The encoder: 1023 bytes go, a 1000-byte tuple never (> 1408). */
	T_EQ_INT(syncmsg_enc_v2(buf, sizeof(buf), 0, HEXKEY, &in, 1), 1092);
	T_EQ_MEM(buf, want, 1092);
	memset(in.to, 'x', 1000);
	in.to[1000] = '\0';
	memset(in.helo, 'y', 1000);
	in.helo[1000] = '\0';
	memset(in.from, 'z', 1000);
	in.from[1000] = '\0';
	T_EQ_INT(syncmsg_enc_v2(buf, sizeof(buf), 0, HEXKEY, &in, 1), 0);
	T_EQ_INT(syncmsg_enc_ext(buf, sizeof(buf), &h, HEXKEY, &in, 1), 0);
	/* Unterminated, or with CR, LF, '|': never sent. */
	set_grey(&in, "192.0.2.1", "h", "<a@b>", "<c@d>");
	memset(in.helo, 'h', sizeof(in.helo));
	T_EQ_INT(syncmsg_enc_v2(buf, sizeof(buf), 0, HEXKEY, &in, 1), 0);
	set_grey(&in, "192.0.2.1", "h\nx", "<a@b>", "<c@d>");
	T_EQ_INT(syncmsg_enc_v2(buf, sizeof(buf), 0, HEXKEY, &in, 1), 0);
	set_grey(&in, "192.0.2.1", "h", "<a|b>", "<c@d>");
	T_EQ_INT(syncmsg_enc_v2(buf, sizeof(buf), 0, HEXKEY, &in, 1), 0);
	set_grey(&in, "192.0.2.1", "h", "<a@b>", "<c@d>\r");
	T_EQ_INT(syncmsg_enc_v2(buf, sizeof(buf), 0, HEXKEY, &in, 1), 0);
}

static void
encoder_limits(void)
{
	static struct syncmsg_entry e[SYNCMSG_ENTRIES_MAX + 1],
	    out[SYNCMSG_ENTRIES_MAX + 1];
	uint8_t buf[4096];
	struct syncmsg_hdr h;
	size_t i, len, n;

	for (i = 0; i < SYNCMSG_ENTRIES_MAX + 1; i++)
		set_entry(&e[i], i % 2 ? SYNCMSG_WHITE : SYNCMSG_TRAPPED,
		    "198.51.100.7", 1700000000 + (int64_t)i, 1703110400);
	len = syncmsg_enc_v2(buf, sizeof(buf), 7, HEXKEY, e,
	    SYNCMSG_ENTRIES_MAX);
	T_EQ_INT(len, 32 + 16 * SYNCMSG_ENTRIES_MAX + 4);
	T_ASSERT(len <= SYNCMSG_MAX_DGRAM);
	T_EQ_INT(decode(buf, len, out, SYNCMSG_ENTRIES_MAX + 1, &n, &h),
	    SYNCMSG_OK);
	T_EQ_INT(n, SYNCMSG_ENTRIES_MAX);
	for (i = 0; i < n; i++)
		same_entry(&out[i], &e[i]);
	T_EQ_INT(syncmsg_enc_v2(buf, sizeof(buf), 7, HEXKEY, e,
	    SYNCMSG_ENTRIES_MAX + 1), 0);
	/* The caller's buffer bounds it too. */
	T_EQ_INT(syncmsg_enc_v2(buf, 51, 7, HEXKEY, e, 1), 0);
	T_EQ_INT(syncmsg_enc_v2(buf, 52, 7, HEXKEY, e, 1), 52);
	T_EQ_INT(syncmsg_enc_v2(buf, 35, 7, HEXKEY, e, 0), 0);
	T_EQ_INT(syncmsg_enc_v2(buf, 36, 7, HEXKEY, e, 0), 36);
	T_EQ_INT(decode(buf, 36, out, 1, &n, &h), SYNCMSG_OK);
	T_EQ_INT(n, 0);
	/* Version 2 is IPv4 with 32-bit unsigned times. */
	set_entry(&e[0], SYNCMSG_WHITE, "2001:db8::1", 1, 2);
	T_EQ_INT(syncmsg_enc_v2(buf, sizeof(buf), 0, HEXKEY, e, 1), 0);
	set_entry(&e[0], SYNCMSG_WHITE, "192.0.2.1", -1, 2);
	T_EQ_INT(syncmsg_enc_v2(buf, sizeof(buf), 0, HEXKEY, e, 1), 0);
	set_entry(&e[0], SYNCMSG_WHITE, "192.0.2.1", 1, (int64_t)1 << 32);
	T_EQ_INT(syncmsg_enc_v2(buf, sizeof(buf), 0, HEXKEY, e, 1), 0);
	set_entry(&e[0], SYNCMSG_WHITE, "192.0.2.1", 1, UINT32_MAX);
	T_ASSERT(syncmsg_enc_v2(buf, sizeof(buf), 0, HEXKEY, e, 1) > 0);
	T_EQ_INT(decode(buf, 52, out, 1, &n, &h), SYNCMSG_OK);
	T_EQ_INT(out[0].expire, UINT32_MAX);
	set_entry(&e[0], SYNCMSG_WHITE, "255.255.255.255", 1, 2);
	T_EQ_INT(syncmsg_enc_v2(buf, sizeof(buf), 0, HEXKEY, e, 1), 0);
	T_EQ_INT(syncmsg_enc_ext(buf, sizeof(buf), &h, HEXKEY, e, 1), 0);
	set_entry(&e[0], SYNCMSG_WHITE, "192.0.2.1", 1, 2);
	e[0].kind = (enum syncmsg_kind)4;
	T_EQ_INT(syncmsg_enc_v2(buf, sizeof(buf), 0, HEXKEY, e, 1), 0);
}

static void
ext_roundtrip(void)
{
	uint8_t buf[SYNCMSG_MAX_DGRAM];
	struct syncmsg_entry in[4], out[4];
	struct syncmsg_hdr hin, h;
	size_t len, n, i;

	memset(&hin, 0, sizeof(hin));
	hin.node = 0x0102030405060708ULL;
	hin.boot = 0x1122334455667788ULL;
	hin.seq = 0xfffffffffffffff0ULL;
	set_grey(&in[0], "2001:db8::25", "mx6.example.org", "<a@example.org>",
	    "<b@example.net>");
	in[0].timestamp = (int64_t)1 << 40;
	set_entry(&in[1], SYNCMSG_WHITE, "2001:db8:1::7", 1700000000,
	    INT64_MAX);
	set_entry(&in[2], SYNCMSG_TRAPPED, "192.0.2.30", 1700000000,
	    (int64_t)5000000000);
	set_grey(&in[3], "192.0.2.10", "", "<>", "<b@example.net>");
	len = syncmsg_enc_ext(buf, sizeof(buf), &hin, HEXKEY, in, 4);
	T_EQ_INT(len, 64 + 96 + 40 + 40 + 64 + 4);
	T_EQ_INT(buf[0], 0x83);
	T_EQ_INT(buf[1], 6);
	T_EQ_INT(decode(buf, len, out, 4, &n, &h), SYNCMSG_OK);
	T_EQ_INT(n, 4);
	T_EQ_INT(h.version, SYNCMSG_VERSION_EXT);
	T_ASSERT(h.node == hin.node && h.boot == hin.boot && h.seq == hin.seq);
	for (i = 0; i < n; i++)
		same_entry(&out[i], &in[i]);
	/* A wrong key; the empty key works when both use it. */
	T_EQ_INT(syncmsg_dec(buf, len, "", out, 4, &n, NULL, &h),
	    SYNCMSG_BAD_MAC);
	T_EQ_INT(n, 0);
	len = syncmsg_enc_ext(buf, sizeof(buf), &hin, "", in, 4);
	T_EQ_INT(syncmsg_dec(buf, len, "", out, 4, &n, NULL, &h), SYNCMSG_OK);
	T_EQ_INT(syncmsg_dec(buf, len, HEXKEY, out, 4, &n, NULL, &h),
	    SYNCMSG_BAD_MAC);
	/* Every cut is refused. */
	len = syncmsg_enc_ext(buf, sizeof(buf), &hin, HEXKEY, in, 4);
	for (i = 0; i < len; i++)
		T_ASSERT(decode(buf, i, out, 4, &n, &h) == SYNCMSG_TRUNCATED);
	/* A v4-mapped address travels as IPv4. */
	set_entry(&in[0], SYNCMSG_WHITE, "192.0.2.99", 1, 2);
	in[0].ip.af = AF_INET6;
	memset(in[0].ip.u.b, 0, 16);
	in[0].ip.u.b[10] = in[0].ip.u.b[11] = 0xff;
	in[0].ip.u.b[12] = 192;
	in[0].ip.u.b[14] = 2;
	in[0].ip.u.b[15] = 99;
	len = syncmsg_enc_ext(buf, sizeof(buf), &hin, HEXKEY, in, 1);
	T_EQ_INT(len, 64 + 40 + 4);
	T_EQ_INT(buf[64 + 4], SYNCMSG_WIRE_INET);
	T_EQ_INT(decode(buf, len, out, 4, &n, &h), SYNCMSG_OK);
	T_EQ_INT(out[0].ip.af, AF_INET);
	T_EQ_INT(out[0].ip.u.b[3], 99);
	/* Refused as family 6; a bad family byte; junk after an IPv4. */
	buf[64 + 4] = SYNCMSG_WIRE_INET6;
	memcpy(buf + 64 + 24, in[0].ip.u.b, 16);
	sign(buf, len);
	T_EQ_INT(decode(buf, len, out, 4, &n, &h), SYNCMSG_BAD_ADDRESS);
	buf[64 + 4] = 10;
	sign(buf, len);
	T_EQ_INT(decode(buf, len, out, 4, &n, &h), SYNCMSG_BAD_ADDRESS);
	len = syncmsg_enc_ext(buf, sizeof(buf), &hin, HEXKEY, in, 1);
	buf[64 + 24 + 5] = 1;
	sign(buf, len);
	T_EQ_INT(decode(buf, len, out, 4, &n, &h), SYNCMSG_BAD_ADDRESS);
	/* Negative times; reserved bytes; greyd's types are unknown here. */
	len = syncmsg_enc_ext(buf, sizeof(buf), &hin, HEXKEY, in, 1);
	buf[64 + 16] = 0x80;
	sign(buf, len);
	T_EQ_INT(decode(buf, len, out, 4, &n, &h), SYNCMSG_BAD_TIME);
	in[0].expire = -1;
	T_EQ_INT(syncmsg_enc_ext(buf, sizeof(buf), &hin, HEXKEY, in, 1), 0);
	in[0].expire = 2;
	len = syncmsg_enc_ext(buf, sizeof(buf), &hin, HEXKEY, in, 1);
	buf[64 + 6] = 1;
	sign(buf, len);
	T_EQ_INT(decode(buf, len, out, 4, &n, &h), SYNCMSG_BAD_PADDING);
	len = syncmsg_enc_ext(buf, sizeof(buf), &hin, HEXKEY, in, 1);
	buf[5] = 1;
	sign(buf, len);
	T_EQ_INT(decode(buf, len, out, 4, &n, &h), SYNCMSG_BAD_HEADER);
	len = syncmsg_enc_ext(buf, sizeof(buf), &hin, HEXKEY, in, 1);
	buf[64 + 1] = 4;
	sign(buf, len);
	T_EQ_INT(decode(buf, len, out, 4, &n, &h), SYNCMSG_UNKNOWN_TYPE);
	/* The v2 WHITE length is wrong here. */
	len = syncmsg_enc_ext(buf, sizeof(buf), &hin, HEXKEY, in, 1);
	buf[64 + 3] = 16;
	sign(buf, len);
	T_EQ_INT(decode(buf, len, out, 4, &n, &h), SYNCMSG_BAD_LENGTH);
}

/*
 * OpenBSD's and greyd's header check (version 2, family AF_INET) drops
 * an extension datagram; so does ours as version 2 even if one of the two
 * bytes were changed, and no v2 MAC could match.
 */
static void
ext_vs_v2(void)
{
	uint8_t buf[SYNCMSG_MAX_DGRAM];
	struct syncmsg_entry in, out[2];
	struct syncmsg_hdr hin, h;
	size_t len, n;

	memset(&hin, 0, sizeof(hin));
	set_entry(&in, SYNCMSG_WHITE, "192.0.2.20", 1700000000, 1703110400);
	len = syncmsg_enc_ext(buf, sizeof(buf), &hin, HEXKEY, &in, 1);
	T_ASSERT(len > 0);
	T_ASSERT(!(buf[0] == 2 && buf[1] == 2));
	buf[0] = 2;
	T_EQ_INT(decode(buf, len, out, 2, &n, &h), SYNCMSG_BAD_FAMILY);
	buf[1] = 2;
	T_EQ_INT(decode(buf, len, out, 2, &n, &h), SYNCMSG_BAD_MAC);
	/* And a v2 datagram with the extension's version byte. */
	len = syncmsg_enc_v2(buf, sizeof(buf), 0, HEXKEY, &in, 1);
	buf[0] = SYNCMSG_VERSION_EXT;
	T_EQ_INT(decode(buf, len, out, 2, &n, &h), SYNCMSG_TRUNCATED);
	buf[1] = SYNCMSG_FAM_EXT;
	T_EQ_INT(decode(buf, len, out, 2, &n, &h), SYNCMSG_TRUNCATED);
}

static void
canon_addr(void)
{
	static const struct {
		const char *in, *out;
	} c[] = {
		{ "<a@b>", "<a@b>" },
		{ "a@b", "<a@b>" },
		{ "", "<>" },
		{ "<>", "<>" },
		{ "<", "<>" },
		{ ">", "<>" },
		{ "<a@b", "<a@b>" },
		{ "a@b>", "<a@b>" },
		{ "Alice@Sender.TEST", "<Alice@Sender.TEST>" },
		{ "<<a>", "<<a>" },
	};
	char out[GD_FIELD_MAX + 1], big[GD_FIELD_MAX + 1];
	size_t i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		T_EQ_INT(syncmsg_canon_addr(c[i].in, out, sizeof(out)), 0);
		T_EQ_STR(out, c[i].out);
	}
	T_EQ_INT(syncmsg_canon_addr("a@b", out, 6), 0);
	T_EQ_INT(syncmsg_canon_addr("a@b", out, 5), -1);
	T_EQ_INT(syncmsg_canon_addr("<a@b>", out, 5), -1);
	T_EQ_INT(syncmsg_canon_addr("", out, 2), -1);
	/* A bare value of GD_FIELD_MAX bytes cannot take brackets. */
	memset(big, 'x', GD_FIELD_MAX);
	big[GD_FIELD_MAX] = '\0';
	T_EQ_INT(syncmsg_canon_addr(big, out, sizeof(out)), -1);
	big[GD_FIELD_MAX - 2] = '\0';
	T_EQ_INT(syncmsg_canon_addr(big, out, sizeof(out)), 0);
	T_EQ_INT(strlen(out), GD_FIELD_MAX);
}

static void
replay_window(void)
{
	struct syncmsg_replay r;
	uint64_t s;

	memset(&r, 0, sizeof(r));
	/* In order, then duplicates. */
	for (s = 10; s < 20; s++)
		T_EQ_INT(syncmsg_replay_check(&r, 1, 100, s), 1);
	for (s = 10; s < 20; s++)
		T_EQ_INT(syncmsg_replay_check(&r, 1, 100, s), 0);
	/* Reordering inside the window. */
	T_EQ_INT(syncmsg_replay_check(&r, 1, 100, 30), 1);
	T_EQ_INT(syncmsg_replay_check(&r, 1, 100, 25), 1);
	T_EQ_INT(syncmsg_replay_check(&r, 1, 100, 21), 1);
	T_EQ_INT(syncmsg_replay_check(&r, 1, 100, 25), 0);
	T_EQ_INT(syncmsg_replay_check(&r, 1, 100, 20), 1);
	T_EQ_INT(syncmsg_replay_check(&r, 1, 100, 30), 0);
	/* 63 below the top is inside, 64 below is too old. */
	T_EQ_INT(syncmsg_replay_check(&r, 1, 100, 200), 1);
	T_EQ_INT(syncmsg_replay_check(&r, 1, 100, 137), 1);
	T_EQ_INT(syncmsg_replay_check(&r, 1, 100, 136), 0);
	T_EQ_INT(syncmsg_replay_check(&r, 1, 100, 30), 0);
	/* A jump of 64 or more clears the window. */
	T_EQ_INT(syncmsg_replay_check(&r, 1, 100, 1000), 1);
	T_EQ_INT(syncmsg_replay_check(&r, 1, 100, 999), 1);
	T_EQ_INT(syncmsg_replay_check(&r, 1, 100, 200), 0);
	/* Another node is refused; an older boot too; a new boot resets. */
	T_EQ_INT(syncmsg_replay_check(&r, 2, 100, 5000), 0);
	T_EQ_INT(syncmsg_replay_check(&r, 1, 99, 5000), 0);
	T_EQ_INT(syncmsg_replay_check(&r, 1, 101, 0), 1);
	T_EQ_INT(syncmsg_replay_check(&r, 1, 101, 0), 0);
	T_EQ_INT(syncmsg_replay_check(&r, 1, 101, 1), 1);
	T_EQ_INT(syncmsg_replay_check(&r, 1, 100, 1001), 0);
	/* The top of the sequence space. */
	T_EQ_INT(syncmsg_replay_check(&r, 1, 102, UINT64_MAX - 1), 1);
	T_EQ_INT(syncmsg_replay_check(&r, 1, 102, UINT64_MAX), 1);
	T_EQ_INT(syncmsg_replay_check(&r, 1, 102, UINT64_MAX - 1), 0);
	T_EQ_INT(syncmsg_replay_check(&r, 1, 102, 0), 0);
}

static void
reasons(void)
{
	T_EQ_STR(syncmsg_reason(SYNCMSG_OK), "ok");
	T_EQ_STR(syncmsg_reason(SYNCMSG_BAD_MAC), "bad mac");
	T_EQ_STR(syncmsg_reason(SYNCMSG_UNKNOWN_TYPE), "unknown type");
	T_EQ_STR(syncmsg_reason(SYNCMSG_NSTATUS), "?");
	for (int i = 0; i < SYNCMSG_NSTATUS; i++)
		T_ASSERT(syncmsg_reason((enum syncmsg_status)i) != NULL &&
		    strcmp(syncmsg_reason((enum syncmsg_status)i), "?") != 0);
}

const struct t_case t_cases[] = {
	T_CASE(key_hash),
	T_CASE(vector1_grey),
	T_CASE(vector2_white),
	T_CASE(vector3_trapped_empty_key),
	T_CASE(flipped_bits),
	T_CASE(header_negatives),
	T_CASE(tlv_negatives),
	T_CASE(unknown_types),
	T_CASE(grey_strings),
	T_CASE(long_strings),
	T_CASE(encoder_limits),
	T_CASE(ext_roundtrip),
	T_CASE(ext_vs_v2),
	T_CASE(canon_addr),
	T_CASE(replay_window),
	T_CASE(reasons),
	{ NULL, NULL },
};
