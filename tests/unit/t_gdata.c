/*
 * t_gdata.c: unit tests for the record and key codec (common/gdata.c).
 */
#include <stdint.h>
#include <string.h>

#include "common/gdata.h"
#include "tests/unit/harness.h"

static const struct gd_rec recs[] = {
	{ GD_GREY, 1, 0, 1700000000, 1700014400, 1700014400 },
	{ GD_WHITE, 2, 7, 1700000000, 1700001600, 1703110400 },
	{ GD_TRAPPED, 1, 0, 1700000000, 1700086400, 1700086400 },
	{ GD_SPAMTRAP, 1, 0, 1700000000, 0, 0 },
	/* 64-bit times beyond 2038 and extreme counters survive */
	{ GD_WHITE, UINT32_MAX, UINT32_MAX, INT64_MAX, INT64_MIN, 4102444800 },
};

static void
roundtrip(void)
{
	uint8_t buf[GD_REC_SIZE];
	struct gd_rec r;
	const char *err;
	size_t i;

	for (i = 0; i < sizeof(recs) / sizeof(recs[0]); i++) {
		gd_encode(&recs[i], buf);
		T_EQ_INT(gd_decode(buf, sizeof(buf), &r, &err), 0);
		T_EQ_INT(r.kind, recs[i].kind);
		T_EQ_INT(r.bcount, recs[i].bcount);
		T_EQ_INT(r.pcount, recs[i].pcount);
		T_EQ_INT(r.first, recs[i].first);
		T_EQ_INT(r.pass, recs[i].pass);
		T_EQ_INT(r.expire, recs[i].expire);
	}
}

static void
byte_order_is_fixed(void)
{
	static const struct gd_rec r = { GD_WHITE, 0x01020304, 5,
	    0x1122334455667788LL, 0, 0 };
	uint8_t buf[GD_REC_SIZE];

	gd_encode(&r, buf);
	T_EQ_INT(buf[0], GD_REC_VERSION);
	T_EQ_INT(buf[1], GD_WHITE);
	T_EQ_INT(buf[4], 0x01);
	T_EQ_INT(buf[7], 0x04);
	T_EQ_INT(buf[12], 0x11);
	T_EQ_INT(buf[19], 0x88);
}

static void
decode_rejects(void)
{
	uint8_t buf[GD_REC_SIZE + 1], bad[GD_REC_SIZE];
	struct gd_rec r;
	const char *err;

	gd_encode(&recs[1], buf);
	T_EQ_INT(gd_decode(buf, GD_REC_SIZE - 1, &r, &err), -1);
	T_EQ_STR(err, "wrong record size");
	T_EQ_INT(gd_decode(buf, GD_REC_SIZE + 1, &r, &err), -1);
	T_EQ_STR(err, "wrong record size");
	T_EQ_INT(gd_decode(buf, 32, &r, &err), -1);	/* OpenBSD's layout */

	memcpy(bad, buf, sizeof(bad));
	bad[0] = 2;
	T_EQ_INT(gd_decode(bad, sizeof(bad), &r, &err), -1);
	T_EQ_STR(err, "unknown record version");

	memcpy(bad, buf, sizeof(bad));
	bad[20] ^= 0x40;			/* a torn time field */
	T_EQ_INT(gd_decode(bad, sizeof(bad), &r, &err), -1);
	T_EQ_STR(err, "record checksum mismatch");

	memset(bad, 0, sizeof(bad));		/* all zero: version 0 */
	T_EQ_INT(gd_decode(bad, sizeof(bad), &r, &err), -1);
}

static void
decode_rejects_kind(void)
{
	struct gd_rec r = recs[0];
	uint8_t buf[GD_REC_SIZE];
	const char *err;

	r.kind = (enum gd_kind)9;
	gd_encode(&r, buf);			/* valid CRC, bad kind */
	T_EQ_INT(gd_decode(buf, sizeof(buf), &r, &err), -1);
	T_EQ_STR(err, "unknown record kind");
}

static void
tuple_keys(void)
{
	char key[GD_KEY_MAX], copy[GD_KEY_MAX];
	struct gd_tuple t = { "192.0.2.1", "mx.example", "<a@b.example>",
	    "<c@d.example>" }, s;
	int n;

	n = gd_key_tuple(key, sizeof(key), &t);
	T_EQ_INT(n, (int)strlen("192.0.2.1\nmx.example\n<a@b.example>\n"
	    "<c@d.example>"));
	T_EQ_STR(key, "192.0.2.1\nmx.example\n<a@b.example>\n<c@d.example>");
	memcpy(copy, key, (size_t)n + 1);
	T_EQ_INT(gd_key_split(copy, &s), 4);
	T_EQ_STR(s.ip, "192.0.2.1");
	T_EQ_STR(s.helo, "mx.example");
	T_EQ_STR(s.from, "<a@b.example>");
	T_EQ_STR(s.to, "<c@d.example>");

	/* Empty helo (no HELO sent) is a valid tuple. */
	t.helo = "";
	T_ASSERT(gd_key_tuple(key, sizeof(key), &t) > 0);
	memcpy(copy, key, sizeof(copy));
	T_EQ_INT(gd_key_split(copy, &s), 4);
	T_EQ_STR(s.helo, "");
}

static void
tuple_keys_reject(void)
{
	char key[GD_KEY_MAX], big[GD_FIELD_MAX + 2];
	struct gd_tuple t = { "192.0.2.1", "h\nx", "<a>", "<b>" };

	T_EQ_INT(gd_key_tuple(key, sizeof(key), &t), -1);	/* LF */
	t.helo = "h";
	T_EQ_INT(gd_key_tuple(key, 10, &t), -1);		/* too small */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	t.from = big;
	T_EQ_INT(gd_key_tuple(key, sizeof(key), &t), -1);	/* too long */
	big[GD_FIELD_MAX] = '\0';
	T_ASSERT(gd_key_tuple(key, sizeof(key), &t) > 0);	/* at the cap */
	t.ip = "";
	T_EQ_INT(gd_key_tuple(key, sizeof(key), &t), -1);
}

static void
split_shapes(void)
{
	char k1[] = "192.0.2.1", k3[] = "192.0.2.1\n<a>\n<b>",
	    k2[] = "192.0.2.1\n<a>", k5[] = "a\nb\nc\nd\ne";
	struct gd_tuple t;

	T_EQ_INT(gd_key_split(k1, &t), 1);
	T_EQ_STR(t.ip, "192.0.2.1");
	T_EQ_INT(gd_key_split(k3, &t), 3);	/* legacy, empty helo */
	T_EQ_STR(t.helo, "");
	T_EQ_STR(t.to, "<b>");
	T_EQ_INT(gd_key_split(k2, &t), -1);
	T_EQ_INT(gd_key_split(k5, &t), -1);
}

static void
check_shapes(void)
{
	struct gd_rec r = recs[0];
	const char *err;
	const char *tk = "192.0.2.1\nh\n<a>\n<b>";

	T_EQ_INT(gd_check(tk, strlen(tk), &r, &err), 0);
	T_EQ_INT(gd_check("192.0.2.1", 9, &r, &err), -1);
	r.kind = GD_WHITE;
	T_EQ_INT(gd_check("192.0.2.1", 9, &r, &err), 0);
	T_EQ_INT(gd_check("2001:db8::1", 11, &r, &err), 0);
	T_EQ_INT(gd_check(tk, strlen(tk), &r, &err), -1);
	T_EQ_INT(gd_check("not-an-ip", 9, &r, &err), -1);
	T_EQ_INT(gd_check("192.0.2.1\0x", 11, &r, &err), -1);
	T_EQ_STR(err, "malformed key");
	r.kind = GD_SPAMTRAP;
	T_EQ_INT(gd_check("trap@example.com", 16, &r, &err), 0);
	T_EQ_INT(gd_check("192.0.2.1", 9, &r, &err), -1);
	T_EQ_INT(gd_check("", 0, &r, &err), -1);
}

/* The client address at the head of a key, for walks. */
static void
key_addr(void)
{
	struct addr a, want;
	const char *t = "2001:db8::5\nmx\n<a@example.org>\n<b@example.net>";
	char big[80];

	T_EQ_INT(gd_key_addr("192.0.2.9", 9, &a), 0);
	T_EQ_INT(addr_parse("192.0.2.9", &want), 0);
	T_EQ_INT(addr_cmp(&a, &want), 0);
	/* Only keylen bytes count: no NUL needed. */
	T_EQ_INT(gd_key_addr("192.0.2.99", 9, &a), 0);
	T_EQ_INT(addr_cmp(&a, &want), 0);
	T_EQ_INT(gd_key_addr(t, strlen(t), &a), 0);
	T_EQ_INT(addr_parse("2001:db8::5", &want), 0);
	T_EQ_INT(addr_cmp(&a, &want), 0);
	T_EQ_INT(gd_key_addr("<trap@example.org>", 18, &a), -1);
	T_EQ_INT(gd_key_addr("\nmx\n<a>\n<b>", 11, &a), -1);
	T_EQ_INT(gd_key_addr("", 0, &a), -1);
	memset(big, '1', sizeof(big));
	T_EQ_INT(gd_key_addr(big, sizeof(big), &a), -1);
}

/* spamd -g: network keys for GREY tuples and WHITE records only. */
static void
network_keys(void)
{
	struct gd_rec r = recs[0];
	struct cidr c;
	const char *err;
	const char *tk = "192.0.2.0/24\n\n<a>\n<b>";
	const char *t6 = "2001:db8::/64\n\n<a>\n<b>";

	T_EQ_INT(gd_check(tk, strlen(tk), &r, &err), 0);	/* GREY */
	T_EQ_INT(gd_check(t6, strlen(t6), &r, &err), 0);
	r.kind = GD_WHITE;
	T_EQ_INT(gd_check("192.0.2.0/24", 12, &r, &err), 0);
	T_EQ_INT(gd_check("2001:db8::/64", 13, &r, &err), 0);
	/* One network, one key: host bits, a full length, /0, another
	 * spelling are no network keys. */
	T_EQ_INT(gd_check("192.0.2.1/24", 12, &r, &err), -1);
	T_EQ_INT(gd_check("192.0.2.1/32", 12, &r, &err), -1);
	T_EQ_INT(gd_check("0.0.0.0/0", 9, &r, &err), -1);
	T_EQ_INT(gd_check("2001:0db8::/64", 14, &r, &err), -1);
	T_EQ_INT(gd_check("192.0.2.0/24x", 13, &r, &err), -1);
	r.kind = GD_TRAPPED;			/* never a network */
	T_EQ_INT(gd_check("192.0.2.0/24", 12, &r, &err), -1);
	T_EQ_INT(gd_check("192.0.2.1", 9, &r, &err), 0);

	T_EQ_INT(gd_key_cidr(tk, strlen(tk), &c), 0);
	T_EQ_INT(c.plen, 24);
	T_EQ_INT(gd_key_cidr("2001:db8::7", 11, &c), 0);
	T_EQ_INT(c.plen, 128);
	T_EQ_INT(gd_key_cidr("192.0.2.9/24", 12, &c), -1);
	T_EQ_INT(gd_key_cidr("<trap@example.org>", 18, &c), -1);
	T_EQ_INT(gd_key_addr("192.0.2.0/24", 12, &c.a), -1);
}

const struct t_case t_cases[] = {
	T_CASE(roundtrip),
	T_CASE(byte_order_is_fixed),
	T_CASE(decode_rejects),
	T_CASE(decode_rejects_kind),
	T_CASE(tuple_keys),
	T_CASE(tuple_keys_reject),
	T_CASE(split_shapes),
	T_CASE(check_shapes),
	T_CASE(key_addr),
	T_CASE(network_keys),
	{ NULL, NULL },
};
