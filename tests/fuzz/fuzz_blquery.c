/*
 * fuzz_blquery.c: libFuzzer harness for the blacklist question spamd's
 * SMTP process answers on its unix configuration socket
 * (common/blquery.c): any bytes a local client sends, text lines or
 * binary records.
 *
 * Input: the connection's bytes, as spamd has them at the client's
 * half-close. An input that blquery_is does not take for a question is
 * only checked to be refused the same way twice.
 *
 * Invariants, for a question:
 *	blquery_answer gives a NUL-terminated answer of outlen bytes: lines
 *	"I ADDR" with I strictly increasing and below N, then "end N" last;
 *	N = nasked; the I lines number nlisted; every ADDR parses (an
 *	address, or a network with no host bits) and the listed function
 *	says yes to it; for a binary question N is the number of whole
 *	BLQUERY_REC-byte records after the first line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/addr.h"
#include "common/blquery.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init("fuzz-blquery");
	return 0;
}

/* "Listed": the address's last byte is odd (any network is asked). */
static int
listed(const struct cidr *c)
{
	return (c->a.u.b[addr_len(&c->a) - 1] & 1) != 0;
}

static void
check_line(const char *line, size_t *last, int *any, size_t n)
{
	char ip[CIDR_STRLEN + 8];
	const char *sp, *err;
	struct cidr c;
	char *end;
	unsigned long long i;

	sp = strchr(line, ' ');
	FUZZ_CHECK(sp != NULL && sp > line, "answer line without index: %s",
	    line);
	i = strtoull(line, &end, 10);
	FUZZ_CHECK(end == sp, "bad index in %s", line);
	FUZZ_CHECK(i < n, "index %llu of %zu", i, n);
	FUZZ_CHECK(!*any || i > *last, "index %llu after %zu", i, *last);
	*last = (size_t)i;
	*any = 1;
	FUZZ_CHECK(strlen(sp + 1) < sizeof(ip), "long address %s", sp + 1);
	strcpy(ip, sp + 1);
	FUZZ_CHECK(cidr_parse(ip, &c, strchr(ip, '/') != NULL ?
	    CIDR_STRICT | CIDR_NO_ZERO : 0, &err) == 0, "unparsable %s: %s",
	    ip, err);
	FUZZ_CHECK(listed(&c), "%s answered, not listed", ip);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data, *nl;
	char *out, *p, *lf;
	size_t outlen, nasked, nlisted, lines = 0, last = 0, n;
	int kind = blquery_is(buf, size), any = 0;
	unsigned long long e;

	fuzz_log_reset();
	FUZZ_CHECK(blquery_is(buf, size) == kind, "blquery_is changed");
	if (kind == 0)
		return 0;
	FUZZ_CHECK(kind == BLQUERY_TEXT || kind == BLQUERY_BINARY, "kind %d",
	    kind);
	out = blquery_answer(buf, size, listed, &outlen, &nasked, &nlisted);
	FUZZ_CHECK(out != NULL, "no answer");
	FUZZ_CHECK(strlen(out) == outlen, "outlen %zu, strlen %zu", outlen,
	    strlen(out));
	FUZZ_CHECK(outlen > 0 && out[outlen - 1] == '\n', "no final LF");
	if (kind == BLQUERY_BINARY) {
		nl = memchr(buf, '\n', size);
		FUZZ_CHECK(nl != NULL, "binary without its line");
		n = (size - (size_t)(nl + 1 - buf)) / BLQUERY_REC;
		FUZZ_CHECK(nasked == n, "asked %zu of %zu records", nasked, n);
	}
	for (p = out; (lf = strchr(p, '\n')) != NULL; p = lf + 1) {
		*lf = '\0';
		if (strncmp(p, "end ", 4) == 0) {
			FUZZ_CHECK(lf + 1 == out + outlen, "lines after %s", p);
			e = strtoull(p + 4, NULL, 10);
			FUZZ_CHECK(e == nasked, "end %llu, asked %zu", e,
			    nasked);
			break;
		}
		check_line(p, &last, &any, nasked);
		lines++;
	}
	FUZZ_CHECK(lines == nlisted, "%zu lines, %zu listed", lines, nlisted);
	free(out);
	return 0;
}
