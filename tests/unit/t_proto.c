/*
 * t_proto.c: spamd's inter-process messages (spamd/proto.c): round trips
 * and strict rejection of short, long and malformed messages.
 */
#include <string.h>

#include "spamd/proto.h"
#include "tests/unit/harness.h"

static void
tuple_roundtrip(void)
{
	uint8_t buf[PROTO_MSG_MAX];
	struct proto_tuple t;
	struct addr a;
	size_t n;

	T_EQ_INT(addr_parse("2001:db8::7", &a), 0);
	n = proto_enc_tuple(buf, sizeof(buf), &a, 1, "h.example", "<a@b>",
	    "<c@d>");
	T_ASSERT(n > 0);
	T_EQ_INT(proto_type(buf, n), PROTO_TUPLE);
	T_EQ_INT(proto_dec_tuple(buf, n, &t), 0);
	T_EQ_INT(addr_cmp(&t.ip, &a), 0);
	T_EQ_INT(t.lowmx, 1);
	T_EQ_STR(t.helo, "h.example");
	T_EQ_STR(t.from, "<a@b>");
	T_EQ_STR(t.to, "<c@d>");
	/* Every truncation and one byte too many are refused. */
	for (size_t k = 0; k < n; k++)
		if (proto_dec_tuple(buf, k, &t) != -1)
			t_fail("accepted a tuple cut at %zu of %zu bytes", k, n);
	T_EQ_INT(proto_dec_tuple(buf, n + 1, &t), -1);
}

static void
tuple_limits(void)
{
	uint8_t buf[PROTO_MSG_MAX];
	char big[GD_FIELD_MAX + 2];
	struct proto_tuple t;
	struct addr a;
	size_t n;

	addr_parse("192.0.2.1", &a);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	T_EQ_INT(proto_enc_tuple(buf, sizeof(buf), &a, 0, big, "", ""), 0);
	big[GD_FIELD_MAX] = '\0';
	n = proto_enc_tuple(buf, sizeof(buf), &a, 0, big, big, big);
	T_ASSERT(n > 0);
	T_EQ_INT(proto_dec_tuple(buf, n, &t), 0);
	T_EQ_INT(strlen(t.to), GD_FIELD_MAX);
	/* A bad family byte is refused. */
	buf[8] = 99;
	T_EQ_INT(proto_dec_tuple(buf, n, &t), -1);
}

/* A policy tuple carries its request id; verdicts round-trip. */
static void
policy_roundtrip(void)
{
	uint8_t buf[PROTO_MSG_MAX];
	struct proto_tuple t;
	struct proto_verdict v[3] = { { 7, 1, 61 }, { 0xfffff801u, 2, -5 },
	    { 9, 4, 0 } }, out[3];
	struct addr a;
	size_t n, k, got;

	T_EQ_INT(addr_parse("192.0.2.9", &a), 0);
	n = proto_enc_policy(buf, sizeof(buf), 0x12345678u, &a,
	    PROTO_T_NETLISTED | PROTO_T_LOWMX, "h", "<>", "<b@c>");
	T_ASSERT(n > 0);
	T_EQ_INT(proto_type(buf, n), PROTO_POLICY);
	T_EQ_INT(proto_dec_tuple(buf, n, &t), 0);
	T_EQ_INT(t.policy, 1);
	T_EQ_INT(t.netlisted, 1);
	T_EQ_INT(t.lowmx, 0);		/* never for a policy request */
	T_EQ_INT(t.id, 0x12345678u);
	T_EQ_STR(t.from, "<>");
	/* A plain tuple has id 0 and must keep it. */
	n = proto_enc_tuple(buf, sizeof(buf), &a, 0, "h", "<>", "<b@c>");
	memset(&t, 0xa5, sizeof(t));	/* a stack tuple holds garbage */
	T_EQ_INT(proto_dec_tuple(buf, n, &t), 0);
	T_EQ_INT(t.policy, 0);
	T_EQ_INT(t.netlisted, 0);
	T_EQ_INT(t.sync, 0);		/* sync fields never cross the IPC */
	T_EQ_INT(t.stamp, 0);
	T_EQ_INT(t.expire, 0);
	buf[8 + 17] = 0x04;		/* an unknown flag */
	T_EQ_INT(proto_dec_tuple(buf, n, &t), -1);
	buf[8 + 17] = 0;
	buf[4] = 1;
	T_EQ_INT(proto_dec_tuple(buf, n, &t), -1);

	n = proto_enc_verdicts(buf, sizeof(buf), v, 3);
	T_EQ_INT(n, 8 + 3 * PROTO_VERDICT_SIZE);
	T_EQ_INT(proto_dec_verdicts(buf, n, out, 3, &got), 0);
	T_EQ_INT(got, 3);
	for (k = 0; k < 3; k++) {
		T_EQ_INT(out[k].id, v[k].id);
		T_EQ_INT(out[k].v, v[k].v);
		T_EQ_INT(out[k].secs, v[k].secs);
	}
	for (k = 0; k < n; k++)
		if (proto_dec_verdicts(buf, k, out, 3, &got) != -1)
			t_fail("accepted verdicts cut at %zu of %zu", k, n);
	T_EQ_INT(proto_dec_verdicts(buf, n, out, 2, &got), -1);
	T_EQ_INT(proto_enc_verdicts(buf, sizeof(buf), v,
	    PROTO_VERDICTS_MAX + 1), 0);

	/* nospamd blocks travel as entries, the prefix length in expire. */
	{
		struct proto_entry e = { a, 24, 0 }, d;

		n = proto_enc_entries(buf, sizeof(buf), PROTO_NOSPAMD, &e, 1);
		T_EQ_INT(proto_dec_entries(buf, n, &d, 1, &got), 0);
		T_EQ_INT(d.expire, 24);
		T_EQ_INT(addr_cmp(&d.a, &a), 0);
	}
}

static void
entries_roundtrip(void)
{
	uint8_t buf[PROTO_MSG_MAX];
	struct proto_entry in[3], out[3];
	size_t n, got;

	memset(in, 0, sizeof(in));
	addr_parse("192.0.2.1", &in[0].a);
	in[0].expire = 1700000000;
	addr_parse("2001:db8::1", &in[1].a);
	in[1].expire = 4102444800LL;
	addr_parse("198.51.100.0", &in[2].a);
	in[2].expire = 0;
	in[2].plen = 24;		/* a network (spamd -g) */
	n = proto_enc_entries(buf, sizeof(buf), PROTO_WHITE, in, 3);
	T_EQ_INT(n, 8 + 3 * PROTO_ENTRY_SIZE);
	T_EQ_INT(proto_dec_entries(buf, n, out, 3, &got), 0);
	T_EQ_INT(got, 3);
	for (size_t i = 0; i < 3; i++) {
		T_EQ_INT(addr_cmp(&in[i].a, &out[i].a), 0);
		T_EQ_INT(in[i].expire, out[i].expire);
		T_EQ_INT(in[i].plen, out[i].plen);
	}
	/* A prefix as long as the address, or longer, is refused. */
	in[0].plen = 32;
	n = proto_enc_entries(buf, sizeof(buf), PROTO_WHITE, in, 3);
	T_EQ_INT(proto_dec_entries(buf, n, out, 3, &got), -1);
	in[0].plen = 0;
	in[1].plen = 128;
	n = proto_enc_entries(buf, sizeof(buf), PROTO_WHITE, in, 3);
	T_EQ_INT(proto_dec_entries(buf, n, out, 3, &got), -1);
	in[1].plen = 64;
	n = proto_enc_entries(buf, sizeof(buf), PROTO_WHITE, in, 3);
	T_EQ_INT(proto_dec_entries(buf, n, out, 3, &got), 0);
	T_EQ_INT(out[1].plen, 64);
	T_EQ_INT(proto_dec_entries(buf, n, out, 2, &got), -1);	/* room */
	T_EQ_INT(proto_dec_entries(buf, n - 1, out, 3, &got), -1);
	/* The largest message fits; one more entry does not. */
	T_EQ_INT(proto_enc_entries(buf, sizeof(buf), PROTO_REPLACE, in,
	    PROTO_ENTRIES_MAX + 1), 0);
}

static void
bare_and_types(void)
{
	uint8_t buf[16], bad[8] = { PROTO_RESYNC, 1, 0, 0, 0, 0, 0, 0 };
	struct proto_entry e[1];
	size_t n, got;

	n = proto_enc_bare(buf, sizeof(buf), PROTO_RESYNC);
	T_EQ_INT(n, 8);
	T_EQ_INT(proto_type(buf, n), PROTO_RESYNC);
	T_EQ_INT(proto_type(buf, 7), -1);
	T_EQ_INT(proto_type(bad, sizeof(bad)), -1);	/* padding not zero */
	T_EQ_INT(proto_dec_entries(buf, n, e, 1, &got), -1);	/* wrong type */
}

/* One entry per address, the latest expiry kept, sorted. */
static void
entries_uniq(void)
{
	struct proto_entry e[5];
	const char *ips[5] = { "192.0.2.2", "192.0.2.1", "192.0.2.2",
	    "2001:db8::1", "192.0.2.2" };
	const int64_t exp[5] = { 10, 20, 30, 40, 5 };
	size_t i, n;

	memset(e, 0, sizeof(e));
	for (i = 0; i < 5; i++) {
		T_ASSERT(addr_parse(ips[i], &e[i].a) == 0);
		e[i].expire = exp[i];
	}
	n = proto_entries_uniq(e, 5);
	T_EQ_INT(n, 3);
	T_EQ_INT(e[0].expire, 20);	/* 192.0.2.1 */
	T_EQ_INT(e[1].expire, 30);	/* 192.0.2.2: the latest of three */
	T_EQ_INT(e[2].expire, 40);	/* 2001:db8::1 */
	T_EQ_INT(e[2].a.af, AF_INET6);
	T_EQ_INT(proto_entries_uniq(e, 1), 1);
	T_EQ_INT(proto_entries_uniq(e, 0), 0);
}

/* PROTO_LOG: a forwarded log line; cut to PROTO_LOG_MAX; no NUL inside. */
static void
log_roundtrip(void)
{
	uint8_t buf[PROTO_LOG_MAX + 64];
	char line[PROTO_LOG_MAX + 1], big[PROTO_LOG_MAX + 100];
	size_t n;
	int pri;

	n = proto_enc_log(buf, sizeof(buf), 4, "127.0.0.1: connected");
	T_ASSERT(n > 0);
	T_EQ_INT(proto_type(buf, n), PROTO_LOG);
	T_EQ_INT(proto_dec_log(buf, n, &pri, line, sizeof(line)), 0);
	T_EQ_INT(pri, 4);
	T_EQ_STR(line, "127.0.0.1: connected");
	T_EQ_INT(proto_enc_log(buf, sizeof(buf), 8, "x"), 0);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	n = proto_enc_log(buf, sizeof(buf), 6, big);
	T_EQ_INT(proto_dec_log(buf, n, &pri, line, sizeof(line)), 0);
	T_EQ_INT(strlen(line), PROTO_LOG_MAX);
	buf[n - 1] = '\0';			/* a NUL inside */
	T_EQ_INT(proto_dec_log(buf, n, &pri, line, sizeof(line)), -1);
	T_EQ_INT(proto_dec_log(buf, n, &pri, line, 10), -1);	/* too small */
	buf[n - 1] = 'a';
	buf[4] = 9;				/* priority out of range */
	T_EQ_INT(proto_dec_log(buf, n, &pri, line, sizeof(line)), -1);
}

/*
 * Chunks (the PEM files of a TLS reload): raw bytes, the header's count
 * their number; up to PROTO_CHUNK_MAX, and a count that lies is refused.
 */
static void
chunk_roundtrip(void)
{
	uint8_t data[PROTO_CHUNK_MAX + 1], buf[PROTO_MSG_MAX + 16];
	const size_t sizes[] = { 0, 1, PROTO_CHUNK_MAX };
	const uint32_t lies[] = { 99, 101, 0, UINT32_MAX };
	const uint8_t *p;
	size_t i, n, got;
	uint32_t count;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 1);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		n = proto_enc_chunk(buf, sizeof(buf), PROTO_TLS_CERT, data,
		    sizes[i]);
		T_EQ_INT(n, sizes[i] + 8);
		T_EQ_INT(proto_type(buf, n), PROTO_TLS_CERT);
		p = NULL;
		got = 99;
		T_EQ_INT(proto_dec_chunk(buf, n, &p, &got), 0);
		T_EQ_INT(got, sizes[i]);
		T_ASSERT(p == buf + 8);
		T_EQ_MEM(p, data, got);
		/* A byte less or more than the count says. */
		if (n > 8)
			T_EQ_INT(proto_dec_chunk(buf, n - 1, &p, &got), -1);
		T_EQ_INT(proto_dec_chunk(buf, n + 1, &p, &got), -1);
	}
	/* The largest chunk is the largest message. */
	T_EQ_INT(proto_enc_chunk(buf, PROTO_MSG_MAX, PROTO_TLS_KEY, data,
	    PROTO_CHUNK_MAX), PROTO_MSG_MAX);
	/* One byte too many, even with room for it. */
	T_EQ_INT(proto_enc_chunk(buf, sizeof(buf), PROTO_TLS_KEY, data,
	    PROTO_CHUNK_MAX + 1), 0);
	/* A buffer too small: 0, and nothing written. */
	memset(buf, 0xaa, sizeof(buf));
	T_EQ_INT(proto_enc_chunk(buf, PROTO_MSG_MAX - 1, PROTO_TLS_KEY, data,
	    PROTO_CHUNK_MAX), 0);
	T_EQ_INT(proto_enc_chunk(buf, 17, PROTO_TLS_KEY, data, 10), 0);
	T_EQ_INT(proto_enc_chunk(buf, 7, PROTO_TLS_KEY, data, 0), 0);
	T_EQ_INT(buf[0], 0xaa);
	T_EQ_INT(proto_enc_chunk(buf, 18, PROTO_TLS_KEY, data, 10), 18);
	/* A count that is not the length. */
	n = proto_enc_chunk(buf, sizeof(buf), PROTO_TLS_KEY, data, 100);
	T_EQ_INT(n, 108);
	for (i = 0; i < sizeof(lies) / sizeof(lies[0]); i++) {
		memcpy(buf + 4, &lies[i], 4);
		T_EQ_INT(proto_dec_chunk(buf, n, &p, &got), -1);
	}
	count = 100;
	memcpy(buf + 4, &count, 4);
	T_EQ_INT(proto_dec_chunk(buf, n, &p, &got), 0);
	/* Shorter than the header, or a header whose padding is not 0. */
	for (i = 0; i < 8; i++)
		T_EQ_INT(proto_dec_chunk(buf, i, &p, &got), -1);
	buf[3] = 1;
	T_EQ_INT(proto_dec_chunk(buf, n, &p, &got), -1);
}

const struct t_case t_cases[] = {
	T_CASE(log_roundtrip),
	T_CASE(tuple_roundtrip),
	T_CASE(tuple_limits),
	T_CASE(policy_roundtrip),
	T_CASE(entries_roundtrip),
	T_CASE(bare_and_types),
	T_CASE(entries_uniq),
	T_CASE(chunk_roundtrip),
	{ NULL, NULL },
};
