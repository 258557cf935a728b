/*
 * syncmsg.c: encode and decode sync datagrams between MX hosts: OpenBSD
 * spamd's version 2 and our IPv6 extension (the layouts, the receiver's
 * rules and the decisions are in syncmsg.h). Fields are read and written
 * byte by byte in network order, never through casts to packed structs.
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "spamd/syncmsg.h"

#define V2_MAC_OFF	8
#define V2_MAC_LEN	20
#define EXT_MAC_OFF	32
#define EXT_MAC_LEN	32
#define V2_GREY_LEN	18	/* GREY TLV before its strings */
#define V2_ADDR_LEN	16	/* WHITE, TRAPPED and greyd's deletions */
#define EXT_GREY_LEN	40
#define EXT_ADDR_LEN	40
#define END_LEN		4

static const char *const reasons[SYNCMSG_NSTATUS] = {
	[SYNCMSG_OK] = "ok",
	[SYNCMSG_TRUNCATED] = "truncated",
	[SYNCMSG_BAD_VERSION] = "bad version",
	[SYNCMSG_BAD_FAMILY] = "bad family",
	[SYNCMSG_BAD_HEADER] = "bad header",
	[SYNCMSG_BAD_MAC] = "bad mac",
	[SYNCMSG_BAD_TLV] = "bad tlv",
	[SYNCMSG_BAD_LENGTH] = "bad length",
	[SYNCMSG_BAD_STRING] = "bad string",
	[SYNCMSG_BAD_PADDING] = "bad padding",
	[SYNCMSG_BAD_ADDRESS] = "bad address",
	[SYNCMSG_BAD_TIME] = "bad time",
	[SYNCMSG_UNKNOWN_TYPE] = "unknown type",
	[SYNCMSG_NO_END] = "no end",
	[SYNCMSG_TOO_MANY] = "too many entries",
};

const char *
syncmsg_reason(enum syncmsg_status st)
{
	if ((unsigned int)st >= SYNCMSG_NSTATUS)
		return "?";
	return reasons[st];
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static void
put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

static uint64_t
get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

static size_t
align16(size_t n)
{
	return (n + 15) & ~(size_t)15;
}

static int
allzero(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

int
syncmsg_key(const char *bytes, size_t len, char hexkey[SYNCMSG_KEY_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;

	hexkey[0] = '\0';
	if (bytes == NULL)
		return 0;
	if (EVP_Digest(bytes, len, md, &mdlen, EVP_sha1(), NULL) != 1 ||
	    mdlen * 2 != SYNCMSG_KEY_LEN)
		return -1;
	for (i = 0; i < mdlen; i++) {
		hexkey[2 * i] = hex[md[i] >> 4];
		hexkey[2 * i + 1] = hex[md[i] & 0x0f];
	}
	hexkey[SYNCMSG_KEY_LEN] = '\0';
	return 0;
}

/*
 * The MAC of buf[0..len) with its mac field zeroed, into md (mdlen bytes).
 * buf is not changed: the datagram is copied.
 */
static int
mac(const EVP_MD *md_type, const char *hexkey, const uint8_t *buf,
    size_t len, size_t off, size_t mdlen, uint8_t *md)
{
	uint8_t copy[SYNCMSG_MAX_DGRAM];
	unsigned char out[EVP_MAX_MD_SIZE];
	unsigned int outlen = 0;
	const char *key = hexkey != NULL ? hexkey : "";

	if (len > sizeof(copy) || off + mdlen > len)
		return -1;
	memcpy(copy, buf, len);
	memset(copy + off, 0, mdlen);
	if (HMAC(md_type, key, (int)strlen(key), copy, len, out, &outlen) ==
	    NULL || outlen != mdlen)
		return -1;
	memcpy(md, out, mdlen);
	return 0;
}

/* A string a peer may send: no NUL, CR, LF or '|', at most GD_FIELD_MAX. */
static int
sendable(const char *s, size_t size)
{
	size_t n = strnlen(s, size);

	if (n > GD_FIELD_MAX || n == size)
		return -1;
	if (strpbrk(s, "\r\n|") != NULL)
		return -1;
	return (int)n + 1;
}

/* The strings of a GREY entry: their wire lengths, or -1. */
static int
grey_lengths(const struct syncmsg_entry *e, size_t len[3])
{
	const char *s[3] = { e->from, e->to, e->helo };
	int i, n;

	for (i = 0; i < 3; i++) {
		if ((n = sendable(s[i], GD_FIELD_MAX + 1)) == -1)
			return -1;
		len[i] = (size_t)n;
	}
	return 0;
}

static void
put_strings(uint8_t *p, const struct syncmsg_entry *e, const size_t len[3])
{
	memcpy(p, e->from, len[0]);
	memcpy(p + len[0], e->to, len[1]);
	memcpy(p + len[0] + len[1], e->helo, len[2]);
}

/* 0.0.0.0 and 255.255.255.255 (greyd's IPv6 tuples) are nobody. */
static int
v4_usable(const struct addr *a)
{
	return a->af == AF_INET && !allzero(a->u.b, 4) &&
	    !(a->u.b[0] == 0xff && a->u.b[1] == 0xff && a->u.b[2] == 0xff &&
	    a->u.b[3] == 0xff);
}

static int
v4_time(int64_t t)
{
	return t >= 0 && t <= (int64_t)UINT32_MAX;
}

/* One v2 entry TLV at p (room bytes left); its length, or 0. */
static size_t
enc_v2_entry(uint8_t *p, size_t room, const struct syncmsg_entry *e)
{
	size_t len[3], need, tl;

	if (!v4_usable(&e->ip) || !v4_time(e->timestamp))
		return 0;
	switch (e->kind) {
	case SYNCMSG_GREY:
		if (grey_lengths(e, len) == -1)
			return 0;
		need = V2_GREY_LEN + len[0] + len[1] + len[2];
		tl = align16(need);
		if (tl > room)
			return 0;
		memset(p, 0, tl);
		put16(p, SYNCMSG_GREY);
		put16(p + 2, (uint16_t)tl);
		put32(p + 4, (uint32_t)e->timestamp);
		memcpy(p + 8, e->ip.u.b, 4);
		put16(p + 12, (uint16_t)len[0]);
		put16(p + 14, (uint16_t)len[1]);
		put16(p + 16, (uint16_t)len[2]);
		put_strings(p + V2_GREY_LEN, e, len);
		return tl;
	case SYNCMSG_WHITE:
	case SYNCMSG_TRAPPED:
		if (!v4_time(e->expire) || room < V2_ADDR_LEN)
			return 0;
		put16(p, (uint16_t)e->kind);
		put16(p + 2, V2_ADDR_LEN);
		put32(p + 4, (uint32_t)e->timestamp);
		put32(p + 8, (uint32_t)e->expire);
		memcpy(p + 12, e->ip.u.b, 4);
		return V2_ADDR_LEN;
	}
	return 0;
}

static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0xff, 0xff };

/* The extension's family byte and 16 address bytes; -1 if unusable. */
static int
enc_ext_addr(uint8_t *fam, uint8_t *a, const struct addr *ip)
{
	memset(a, 0, 16);
	if (ip->af == AF_INET6 && memcmp(ip->u.b, v4mapped, 12) == 0) {
		*fam = SYNCMSG_WIRE_INET;
		memcpy(a, ip->u.b + 12, 4);
	} else if (ip->af == AF_INET6) {
		*fam = SYNCMSG_WIRE_INET6;
		memcpy(a, ip->u.b, 16);
		if (allzero(a, 16))
			return -1;
		return 0;
	} else if (ip->af == AF_INET) {
		*fam = SYNCMSG_WIRE_INET;
		memcpy(a, ip->u.b, 4);
	} else
		return -1;
	if (allzero(a, 4) || (a[0] == 0xff && a[1] == 0xff && a[2] == 0xff &&
	    a[3] == 0xff))
		return -1;
	return 0;
}

static size_t
enc_ext_entry(uint8_t *p, size_t room, const struct syncmsg_entry *e)
{
	size_t len[3], need, tl;

	if (e->timestamp < 0)
		return 0;
	switch (e->kind) {
	case SYNCMSG_GREY:
		if (grey_lengths(e, len) == -1)
			return 0;
		need = EXT_GREY_LEN + len[0] + len[1] + len[2];
		tl = align16(need);
		if (tl > room)
			return 0;
		memset(p, 0, tl);
		put16(p, SYNCMSG_GREY);
		put16(p + 2, (uint16_t)tl);
		if (enc_ext_addr(p + 4, p + 24, &e->ip) == -1)
			return 0;
		put16(p + 6, (uint16_t)len[0]);
		put16(p + 8, (uint16_t)len[1]);
		put16(p + 10, (uint16_t)len[2]);
		put64(p + 16, (uint64_t)e->timestamp);
		put_strings(p + EXT_GREY_LEN, e, len);
		return tl;
	case SYNCMSG_WHITE:
	case SYNCMSG_TRAPPED:
		if (e->expire < 0 || room < EXT_ADDR_LEN)
			return 0;
		memset(p, 0, EXT_ADDR_LEN);
		put16(p, (uint16_t)e->kind);
		put16(p + 2, EXT_ADDR_LEN);
		if (enc_ext_addr(p + 4, p + 24, &e->ip) == -1)
			return 0;
		put64(p + 8, (uint64_t)e->timestamp);
		put64(p + 16, (uint64_t)e->expire);
		return EXT_ADDR_LEN;
	}
	return 0;
}

/*
 * The common part of both encoders: the header (hl bytes, already in buf
 * but for the length), the entries, END, the MAC.
 */
static size_t
enc(uint8_t *buf, size_t size, size_t hl, const char *hexkey,
    const struct syncmsg_entry *e, size_t n, int ext)
{
	size_t room, off = hl, k, tl;

	room = size < SYNCMSG_MAX_DGRAM ? size : SYNCMSG_MAX_DGRAM;
	if (room < hl + END_LEN)
		return 0;
	for (k = 0; k < n; k++) {
		tl = ext ? enc_ext_entry(buf + off, room - END_LEN - off,
		    &e[k]) : enc_v2_entry(buf + off, room - END_LEN - off,
		    &e[k]);
		if (tl == 0)
			return 0;
		off += tl;
	}
	put16(buf + off, SYNCMSG_T_END);
	put16(buf + off + 2, END_LEN);
	off += END_LEN;
	put16(buf + 2, (uint16_t)off);
	if (ext) {
		if (mac(EVP_sha256(), hexkey, buf, off, EXT_MAC_OFF,
		    EXT_MAC_LEN, buf + EXT_MAC_OFF) == -1)
			return 0;
	} else if (mac(EVP_sha1(), hexkey, buf, off, V2_MAC_OFF, V2_MAC_LEN,
	    buf + V2_MAC_OFF) == -1)
		return 0;
	return off;
}

size_t
syncmsg_enc_v2(uint8_t *buf, size_t size, uint32_t counter,
    const char *hexkey, const struct syncmsg_entry *e, size_t n)
{
	if (size < SYNCMSG_HDR_LEN)
		return 0;
	memset(buf, 0, SYNCMSG_HDR_LEN);
	buf[0] = SYNCMSG_VERSION;
	buf[1] = SYNCMSG_FAM_INET;
	put32(buf + 4, counter);
	return enc(buf, size, SYNCMSG_HDR_LEN, hexkey, e, n, 0);
}

size_t
syncmsg_enc_ext(uint8_t *buf, size_t size, const struct syncmsg_hdr *h,
    const char *hexkey, const struct syncmsg_entry *e, size_t n)
{
	if (size < SYNCMSG_EXT_HDR_LEN)
		return 0;
	memset(buf, 0, SYNCMSG_EXT_HDR_LEN);
	buf[0] = SYNCMSG_VERSION_EXT;
	buf[1] = SYNCMSG_FAM_EXT;
	put64(buf + 8, h->node);
	put64(buf + 16, h->boot);
	put64(buf + 24, h->seq);
	return enc(buf, size, SYNCMSG_EXT_HDR_LEN, hexkey, e, n, 1);
}

/*
 * The three strings at p (lengths len[]) into the entry: each at least
 * its NUL, ending in it, with no other NUL, no CR, LF or '|'.
 */
static enum syncmsg_status
dec_strings(const uint8_t *p, const size_t len[3], struct syncmsg_entry *e)
{
	char *dst[3] = { e->from, e->to, e->helo };
	size_t i;

	for (i = 0; i < 3; i++) {
		if (len[i] < 1 || len[i] > GD_FIELD_MAX + 1 ||
		    p[len[i] - 1] != '\0' ||
		    memchr(p, '\0', len[i] - 1) != NULL ||
		    memchr(p, '\r', len[i]) != NULL ||
		    memchr(p, '\n', len[i]) != NULL ||
		    memchr(p, '|', len[i]) != NULL)
			return SYNCMSG_BAD_STRING;
		memcpy(dst[i], p, len[i]);
		p += len[i];
	}
	return SYNCMSG_OK;
}

/*
 * A GREY TLV's strings at p + off of a tl-byte TLV: bounds, strings,
 * exact rounded length, zero padding, in that order.
 */
static enum syncmsg_status
dec_grey(const uint8_t *p, size_t tl, size_t off, const size_t len[3],
    struct syncmsg_entry *e)
{
	size_t need = off + len[0] + len[1] + len[2];
	enum syncmsg_status st;

	if (need > tl)
		return SYNCMSG_BAD_LENGTH;
	if ((st = dec_strings(p + off, len, e)) != SYNCMSG_OK)
		return st;
	if (align16(need) != tl)
		return SYNCMSG_BAD_LENGTH;
	if (!allzero(p + need, tl - need))
		return SYNCMSG_BAD_PADDING;
	return SYNCMSG_OK;
}

static void
entry_init(struct syncmsg_entry *e, enum syncmsg_kind kind)
{
	memset(e, 0, sizeof(*e));
	e->kind = kind;
}

static enum syncmsg_status
dec_v2_addr(const uint8_t *p, struct syncmsg_entry *e)
{
	e->ip.af = AF_INET;
	memcpy(e->ip.u.b, p, 4);
	return v4_usable(&e->ip) ? SYNCMSG_OK : SYNCMSG_BAD_ADDRESS;
}

/* One v2 entry TLV (type 1, 2 or 3) of tl bytes at p. */
static enum syncmsg_status
dec_v2_entry(const uint8_t *p, size_t tl, uint16_t type,
    struct syncmsg_entry *e)
{
	enum syncmsg_status st;
	size_t len[3];

	entry_init(e, (enum syncmsg_kind)type);
	if (type == SYNCMSG_GREY) {
		if (tl < V2_GREY_LEN)
			return SYNCMSG_BAD_LENGTH;
		len[0] = get16(p + 12);
		len[1] = get16(p + 14);
		len[2] = get16(p + 16);
		if ((st = dec_grey(p, tl, V2_GREY_LEN, len, e)) != SYNCMSG_OK)
			return st;
		e->timestamp = get32(p + 4);
		return dec_v2_addr(p + 8, e);
	}
	if (tl != V2_ADDR_LEN)
		return SYNCMSG_BAD_LENGTH;
	e->timestamp = get32(p + 4);
	e->expire = get32(p + 8);
	return dec_v2_addr(p + 12, e);
}

/* The extension's family byte and address field into e->ip. */
static enum syncmsg_status
dec_ext_addr(uint8_t fam, const uint8_t *a, struct syncmsg_entry *e)
{
	if (fam == SYNCMSG_WIRE_INET) {
		if (!allzero(a + 4, 12))
			return SYNCMSG_BAD_ADDRESS;
		return dec_v2_addr(a, e);
	}
	if (fam != SYNCMSG_WIRE_INET6 || allzero(a, 16) ||
	    memcmp(a, v4mapped, 12) == 0)
		return SYNCMSG_BAD_ADDRESS;
	e->ip.af = AF_INET6;
	memcpy(e->ip.u.b, a, 16);
	return SYNCMSG_OK;
}

static enum syncmsg_status
dec_ext_entry(const uint8_t *p, size_t tl, uint16_t type,
    struct syncmsg_entry *e)
{
	enum syncmsg_status st;
	size_t len[3];
	uint64_t ts, ex = 0;

	entry_init(e, (enum syncmsg_kind)type);
	if (type == SYNCMSG_GREY) {
		if (tl < EXT_GREY_LEN)
			return SYNCMSG_BAD_LENGTH;
		len[0] = get16(p + 6);
		len[1] = get16(p + 8);
		len[2] = get16(p + 10);
		if ((st = dec_grey(p, tl, EXT_GREY_LEN, len, e)) != SYNCMSG_OK)
			return st;
		if (p[5] != 0 || !allzero(p + 12, 4))
			return SYNCMSG_BAD_PADDING;
		ts = get64(p + 16);
	} else {
		if (tl != EXT_ADDR_LEN)
			return SYNCMSG_BAD_LENGTH;
		if (!allzero(p + 5, 3))
			return SYNCMSG_BAD_PADDING;
		ts = get64(p + 8);
		ex = get64(p + 16);
	}
	if (ts > INT64_MAX || ex > INT64_MAX)
		return SYNCMSG_BAD_TIME;
	e->timestamp = (int64_t)ts;
	e->expire = (int64_t)ex;
	return dec_ext_addr(p[4], p + 24, e);
}

/* The TLVs in buf[hl..tot), after the header was authenticated. */
static enum syncmsg_status
dec_tlvs(const uint8_t *buf, size_t hl, size_t tot, int ext,
    struct syncmsg_entry *e, size_t max, size_t *n, struct syncmsg_hdr *h)
{
	enum syncmsg_status st;
	size_t off = hl, tl, steps;
	uint16_t type;

	/* Every TLV is at least 4 bytes: this bounds the walk. */
	for (steps = 0; steps <= (tot - hl) / END_LEN; steps++) {
		if (off == tot)
			return SYNCMSG_NO_END;
		if (tot - off < 4)
			return SYNCMSG_BAD_TLV;
		type = get16(buf + off);
		tl = get16(buf + off + 2);
		h->type = type;
		if (tl < 4 || tl > tot - off)
			return SYNCMSG_BAD_TLV;
		switch (type) {
		case SYNCMSG_T_END:
			if (tl != END_LEN)
				return SYNCMSG_BAD_LENGTH;
			if (off + tl != tot)
				return SYNCMSG_NO_END;
			return SYNCMSG_OK;
		case SYNCMSG_GREY:
		case SYNCMSG_WHITE:
		case SYNCMSG_TRAPPED:
			if (*n >= max)
				return SYNCMSG_TOO_MANY;
			st = ext ? dec_ext_entry(buf + off, tl, type, &e[*n]) :
			    dec_v2_entry(buf + off, tl, type, &e[*n]);
			if (st != SYNCMSG_OK)
				return st;
			(*n)++;
			break;
		case SYNCMSG_T_DEL_WHITE:
		case SYNCMSG_T_DEL_TRAPPED:
			if (ext)
				return SYNCMSG_UNKNOWN_TYPE;
			if (tl != V2_ADDR_LEN)
				return SYNCMSG_BAD_LENGTH;
			h->skipped++;
			break;
		default:
			return SYNCMSG_UNKNOWN_TYPE;
		}
		off += tl;
	}
	return SYNCMSG_NO_END;	/* not reached: each step eats 4 bytes */
}

static enum syncmsg_status
dec(const uint8_t *buf, size_t len, const char *hexkey,
    struct syncmsg_entry *e, size_t max, size_t *n, struct syncmsg_hdr *h)
{
	uint8_t md[EVP_MAX_MD_SIZE];
	size_t hl, tot, moff, mlen;
	int ext;

	if (len < 4)
		return SYNCMSG_TRUNCATED;
	h->version = buf[0];
	if (buf[0] == SYNCMSG_VERSION) {
		ext = 0;
		hl = SYNCMSG_HDR_LEN;
		moff = V2_MAC_OFF;
		mlen = V2_MAC_LEN;
	} else if (buf[0] == SYNCMSG_VERSION_EXT) {
		ext = 1;
		hl = SYNCMSG_EXT_HDR_LEN;
		moff = EXT_MAC_OFF;
		mlen = EXT_MAC_LEN;
	} else
		return SYNCMSG_BAD_VERSION;
	if (len < hl)
		return SYNCMSG_TRUNCATED;
	if (buf[1] != (ext ? SYNCMSG_FAM_EXT : SYNCMSG_FAM_INET))
		return SYNCMSG_BAD_FAMILY;
	tot = get16(buf + 2);
	if (tot > len)
		return SYNCMSG_TRUNCATED;
	if (tot < hl + END_LEN || tot > SYNCMSG_MAX_DGRAM)
		return SYNCMSG_BAD_HEADER;
	if (mac(ext ? EVP_sha256() : EVP_sha1(), hexkey, buf, tot, moff, mlen,
	    md) == -1 || CRYPTO_memcmp(md, buf + moff, mlen) != 0)
		return SYNCMSG_BAD_MAC;
	if (ext) {
		if (!allzero(buf + 4, 4))
			return SYNCMSG_BAD_HEADER;
		h->node = get64(buf + 8);
		h->boot = get64(buf + 16);
		h->seq = get64(buf + 24);
	} else {
		if (!allzero(buf + 28, 4))
			return SYNCMSG_BAD_HEADER;
		h->counter = get32(buf + 4);
	}
	return dec_tlvs(buf, hl, tot, ext, e, max, n, h);
}

enum syncmsg_status
syncmsg_dec(const uint8_t *buf, size_t len, const char *hexkey,
    struct syncmsg_entry *e, size_t max, size_t *n, const char **why,
    struct syncmsg_hdr *h)
{
	enum syncmsg_status st;

	memset(h, 0, sizeof(*h));
	*n = 0;
	st = dec(buf, len, hexkey, e, max, n, h);
	if (why != NULL)
		*why = syncmsg_reason(st);
	return st;
}

int
syncmsg_canon_addr(const char *in, char *out, size_t size)
{
	size_t n = strlen(in);

	if (n >= 2 && in[0] == '<' && in[n - 1] == '>') {
		if (n + 1 > size)
			return -1;
		memcpy(out, in, n + 1);
		return 0;
	}
	if (n > 0 && in[0] == '<') {
		in++;
		n--;
	}
	if (n > 0 && in[n - 1] == '>')
		n--;
	if (size < 3 || n > size - 3)
		return -1;
	out[0] = '<';
	memcpy(out + 1, in, n);
	out[n + 1] = '>';
	out[n + 2] = '\0';
	return 0;
}

int
syncmsg_replay_check(struct syncmsg_replay *r, uint64_t node, uint64_t boot,
    uint64_t seq)
{
	uint64_t d;

	if (r->seen && node != r->node)
		return 0;
	if (!r->seen || boot > r->boot) {
		/* First word from this peer, or it restarted. */
		r->seen = 1;
		r->node = node;
		r->boot = boot;
		r->top = seq;
		r->window = 1;
		return 1;
	}
	if (boot < r->boot)
		return 0;
	if (seq > r->top) {
		d = seq - r->top;
		r->window = d >= 64 ? 1 : r->window << d | 1;
		r->top = seq;
		return 1;
	}
	d = r->top - seq;
	if (d >= 64 || (r->window >> d & 1))
		return 0;
	r->window |= (uint64_t)1 << d;
	return 1;
}
