/*
 * fuzz_gdata.c: libFuzzer harness for the database record codec
 * (common/gdata.c): gd_decode of values, gd_check and gd_key_split of
 * keys, as every reader of a possibly damaged database runs them.
 *
 * Input: byte 0 is the value's length V (at most 64), then V value bytes,
 * then the key (any bytes, NUL and LF included).
 *
 * Invariants:
 *	gd_decode refuses with a reason, or gives a known kind and a value
 *	that gd_encode turns back into the very same 40 bytes;
 *	gd_check refuses with a reason, or the key has the shape the kind
 *	needs (a parsable address; a tuple of 3 or 4 fields for GREY; an '@'
 *	for SPAMTRAP); it is tried with the decoded kind and with each kind;
 *	gd_key_split gives 1, 3 or 4 fields (or -1 for other counts of LF),
 *	and the fields joined by LF are the key again; a 4-field key that
 *	fits is rebuilt byte for byte by gd_key_tuple.
 */
#include <stdlib.h>
#include <string.h>

#include "common/addr.h"
#include "common/gdata.h"
#include "tests/fuzz/fuzz.h"

#define VALUE_MAX	64

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init("fuzz-gdata");
	return 0;
}

static void
check_key(const char *key, size_t keylen, const struct gd_rec *r)
{
	char buf[GD_KEY_MAX + 1];
	struct gd_tuple t;
	struct addr a;
	const char *why;
	int n;

	if (gd_check(key, keylen, r, &why) == -1) {
		FUZZ_CHECK(why != NULL && why[0] != '\0', "gd_check refused "
		    "without a reason");
		return;
	}
	FUZZ_CHECK(why == NULL, "gd_check accepted with a reason");
	FUZZ_CHECK(keylen > 0 && keylen <= GD_KEY_MAX &&
	    memchr(key, '\0', keylen) == NULL, "accepted a malformed key");
	memcpy(buf, key, keylen);
	buf[keylen] = '\0';
	n = gd_key_split(buf, &t);
	switch (r->kind) {
	case GD_GREY:
		FUZZ_CHECK(n == 3 || n == 4, "GREY key with %d fields", n);
		FUZZ_CHECK(addr_parse(t.ip, &a) == 0, "GREY key address");
		break;
	case GD_WHITE:
	case GD_TRAPPED:
		FUZZ_CHECK(n == 1 && addr_parse(t.ip, &a) == 0, "address key");
		break;
	case GD_SPAMTRAP:
		FUZZ_CHECK(n == 1 && strchr(t.ip, '@') != NULL,
		    "SPAMTRAP key");
		break;
	default:
		FUZZ_CHECK(0, "accepted kind %d", (int)r->kind);
	}
}

static void
check_split(const char *key, size_t keylen)
{
	char buf[GD_KEY_MAX + 2], join[GD_KEY_MAX + 2], rebuilt[GD_KEY_MAX];
	struct gd_tuple t;
	size_t nl = 0, i, o;
	const char *f[4];
	int n, k, m;

	/* gd_key_split takes a C string: cut at the first NUL */
	keylen = strnlen(key, keylen);
	if (keylen > GD_KEY_MAX)
		keylen = GD_KEY_MAX;
	memcpy(buf, key, keylen);
	buf[keylen] = '\0';
	for (i = 0; i < keylen; i++)
		if (buf[i] == '\n')
			nl++;
	n = gd_key_split(buf, &t);
	if (nl != 0 && nl != 2 && nl != 3) {
		FUZZ_CHECK(n == -1, "%zu LFs split into %d fields", nl, n);
		return;
	}
	FUZZ_CHECK(n == (int)nl + 1, "%zu LFs split into %d fields", nl, n);
	if (n == 1) {
		FUZZ_CHECK(t.ip == buf && t.helo == NULL && t.from == NULL &&
		    t.to == NULL, "one-field split");
		return;
	}
	FUZZ_CHECK(n == 4 || strcmp(t.helo, "") == 0, "legacy key with a "
	    "helo");
	f[0] = t.ip;
	f[1] = t.helo;
	f[2] = t.from;
	f[3] = t.to;
	for (o = 0, k = 0; k < 4; k++) {
		if (n == 3 && k == 1)
			continue;
		m = (int)strlen(f[k]);
		memcpy(join + o, f[k], (size_t)m);
		o += (size_t)m;
		join[o++] = k < 3 ? '\n' : '\0';
	}
	FUZZ_CHECK(o - 1 == keylen && memcmp(join, key, keylen) == 0,
	    "split fields do not join back into the key");
	if (n == 4) {
		int r = gd_key_tuple(rebuilt, sizeof(rebuilt), &t);

		if (r != -1)
			FUZZ_CHECK((size_t)r == keylen && memcmp(rebuilt, key,
			    keylen) == 0, "gd_key_tuple differs from the key");
		else
			FUZZ_CHECK(strlen(t.ip) >= ADDR_STRLEN ||
			    strlen(t.helo) > GD_FIELD_MAX ||
			    strlen(t.from) > GD_FIELD_MAX ||
			    strlen(t.to) > GD_FIELD_MAX || t.ip[0] == '\0' ||
			    keylen + 1 > sizeof(rebuilt), "gd_key_tuple "
			    "refused a fitting tuple");
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *val, again[GD_REC_SIZE];
	struct gd_rec r;
	const char *why, *key;
	size_t vlen, keylen;
	int kind;

	if (size < 1)
		return 0;
	vlen = data[0] % (VALUE_MAX + 1);
	if (vlen > size - 1)
		vlen = size - 1;
	/* an exact-size copy, so ASan sees any read past the value */
	if ((val = malloc(vlen ? vlen : 1)) == NULL)
		return 0;
	memcpy(val, data + 1, vlen);
	key = (const char *)data + 1 + vlen;
	keylen = size - 1 - vlen;

	if (gd_decode(val, vlen, &r, &why) == 0) {
		FUZZ_CHECK(why == NULL, "decoded with a reason");
		FUZZ_CHECK(vlen == GD_REC_SIZE, "decoded %zu bytes", vlen);
		FUZZ_CHECK(r.kind >= GD_GREY && r.kind <= GD_SPAMTRAP,
		    "kind %d", (int)r.kind);
		FUZZ_CHECK(strcmp(gd_kind_name(r.kind), "UNKNOWN") != 0,
		    "kind name");
		gd_encode(&r, again);
		FUZZ_CHECK(memcmp(again, val, GD_REC_SIZE) == 0, "re-encoding "
		    "changed the value");
		check_key(key, keylen, &r);
	} else
		FUZZ_CHECK(why != NULL && why[0] != '\0', "refused without a "
		    "reason");
	free(val);

	memset(&r, 0, sizeof(r));
	for (kind = 0; kind <= GD_SPAMTRAP + 1; kind++) {
		r.kind = (enum gd_kind)kind;
		if (kind >= GD_GREY && kind <= GD_SPAMTRAP)
			check_key(key, keylen, &r);
		else
			FUZZ_CHECK(gd_check(key, keylen, &r, &why) == -1,
			    "gd_check accepted kind %d", kind);
	}
	check_split(key, keylen);
	return 0;
}
