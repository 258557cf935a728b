/*
 * fuzz_proto.c: libFuzzer harness for the decoders of spamd's
 * inter-process messages (spamd/proto.c): proto_type, proto_dec_tuple and
 * proto_dec_entries. The processes trust each other less than that: a
 * compromised SMTP process may send anything to the greylister.
 *
 * Input: byte 0 is the `max' given to proto_dec_entries (0..255, 255
 * meaning PROTO_ENTRIES_MAX); the rest is one datagram, at most
 * PROTO_MSG_MAX bytes as the channel delivers it.
 *
 * Invariants:
 *	proto_type is -1 or the first byte;
 *	a decoded tuple has an IPv4 or IPv6 address, lowmx 0 or 1, and three
 *	NUL-free strings of at most GD_FIELD_MAX bytes; encoding it again
 *	gives the datagram's length and decodes to the same tuple;
 *	decoded entries number at most max and PROTO_ENTRIES_MAX, the
 *	datagram is exactly the header and that many entries, each with an
 *	IPv4 or IPv6 address, and encoding them again decodes to the same;
 *	nothing is read past the datagram (it is an exact-size copy).
 */
#include <stdlib.h>
#include <string.h>

#include "common/addr.h"
#include "spamd/proto.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init("fuzz-proto");
	return 0;
}

static void
check_str(const char *what, const char *s)
{
	size_t n = strnlen(s, GD_FIELD_MAX + 1);

	FUZZ_CHECK(n <= GD_FIELD_MAX, "%s longer than %d", what, GD_FIELD_MAX);
}

static void
check_tuple(const uint8_t *buf, size_t len)
{
	struct proto_tuple t, u;
	uint8_t out[PROTO_MSG_MAX];
	size_t n;

	if (proto_dec_tuple(buf, len, &t) == -1)
		return;
	FUZZ_CHECK(proto_type(buf, len) == PROTO_TUPLE, "decoded a tuple of "
	    "type %d", proto_type(buf, len));
	FUZZ_CHECK(t.ip.af == AF_INET || t.ip.af == AF_INET6, "tuple af %u",
	    t.ip.af);
	FUZZ_CHECK(t.lowmx <= 1 && t.netlisted <= 1 && !(t.policy && t.lowmx),
	    "lowmx %u netlisted %u", t.lowmx, t.netlisted);
	check_str("helo", t.helo);
	check_str("from", t.from);
	check_str("to", t.to);
	n = proto_enc_tuple(out, sizeof(out), &t.ip,
	    (t.lowmx ? PROTO_T_LOWMX : 0) | (t.netlisted ? PROTO_T_NETLISTED :
	    0), t.helo, t.from, t.to);
	FUZZ_CHECK(n == len, "re-encoded tuple has %zu bytes, had %zu", n,
	    len);
	FUZZ_CHECK(proto_dec_tuple(out, n, &u) == 0, "re-encoded tuple does "
	    "not decode");
	FUZZ_CHECK(addr_cmp(&t.ip, &u.ip) == 0 && t.lowmx == u.lowmx &&
	    t.netlisted == u.netlisted &&
	    strcmp(t.helo, u.helo) == 0 && strcmp(t.from, u.from) == 0 &&
	    strcmp(t.to, u.to) == 0, "tuple changed in a round trip");
}

static void
check_entries(const uint8_t *buf, size_t len, size_t max)
{
	static struct proto_entry e[PROTO_ENTRIES_MAX], f[PROTO_ENTRIES_MAX];
	uint8_t out[PROTO_MSG_MAX];
	size_t n = (size_t)-1, m, i, k;
	int t = proto_type(buf, len);

	if (proto_dec_entries(buf, len, e, max, &n) == -1)
		return;
	FUZZ_CHECK(n <= max && n <= PROTO_ENTRIES_MAX, "%zu entries, max %zu",
	    n, max);
	FUZZ_CHECK(len == 8 + n * PROTO_ENTRY_SIZE, "%zu entries in %zu bytes",
	    n, len);
	FUZZ_CHECK(t == PROTO_TRAP || t == PROTO_WHITE || t == PROTO_REPLACE ||
	    t == PROTO_BLCHECK || t == PROTO_BLLISTED, "entries of type %d", t);
	for (i = 0; i < n; i++)
		FUZZ_CHECK(e[i].a.af == AF_INET || e[i].a.af == AF_INET6,
		    "entry %zu af %u", i, e[i].a.af);
	k = proto_enc_entries(out, sizeof(out), (enum proto_type)t, e, n);
	FUZZ_CHECK(k == len, "re-encoded %zu entries into %zu bytes, had %zu",
	    n, k, len);
	FUZZ_CHECK(proto_dec_entries(out, k, f, PROTO_ENTRIES_MAX, &m) == 0 &&
	    m == n, "re-encoded entries do not decode");
	for (i = 0; i < n; i++)
		FUZZ_CHECK(addr_cmp(&e[i].a, &f[i].a) == 0 &&
		    e[i].expire == f[i].expire && e[i].plen == f[i].plen &&
		    e[i].plen < 8 * addr_len(&e[i].a), "entry %zu changed", i);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf;
	size_t len, max;
	int t;

	if (size < 1)
		return 0;
	max = data[0] == 255 ? PROTO_ENTRIES_MAX : data[0];
	len = size - 1;
	if (len > PROTO_MSG_MAX)
		len = PROTO_MSG_MAX;
	if ((buf = malloc(len ? len : 1)) == NULL)
		return 0;
	memcpy(buf, data + 1, len);
	t = proto_type(buf, len);
	FUZZ_CHECK(t == -1 || (len >= 8 && t == buf[0]), "proto_type %d", t);
	check_tuple(buf, len);
	check_entries(buf, len, max);
	free(buf);
	return 0;
}
