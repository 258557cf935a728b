/*
 * fuzz_cfg.c: libFuzzer harness for spamd's configuration-socket input:
 * cfg_parse/cfg_line_free on one line, and cfg_process on a whole
 * connection's bytes followed by lookups and the listed reply
 * (smtp_listed_reply) on the lists it loaded (the reply text a
 * blacklisted client gets is built from the raw message of the line).
 *
 * Input: byte 0 chooses the mode (even: one line for cfg_parse; odd: the
 * rest is a whole connection for cfg_process); the rest is the data.
 *
 * Invariants, cfg_parse:
 *	-1 leaves a reason in err and nothing allocated in the line;
 *	0 gives a valid tag; a clear line has no message and no blocks;
 *	otherwise the message is at most SDL_MSG_MAX bytes with no control
 *	byte, ncidr = n4 + n6, every block has its family's mask range (never
 *	/0) and no host bits, and cfg_encode of the blocks parses back to the
 *	same blocks (family by family, in order).
 * cfg_process:
 *	lines = applied + rejected, and each rejected line logged a warning;
 *	sdl_lookup and sdl_listed agree on the first address of every block
 *	the input loaded; when lists match, smtp_listed_reply gives lines
 *	"450-..." / "450 ..." of at most SMTP_OUT_LINE_MAX bytes, each ending
 *	in CR LF, with no other control byte.
 * In steps (cfg_parse_begin/cfg_parse_step, cfg_job): a line parsed a
 *	block at a time gives what cfg_parse gives (result, reason, blocks);
 *	with bounds taken from the input, a refusal names the option; a
 *	connection applied by cfg_job in small steps without bounds gives
 *	cfg_process's counts, and with small bounds still lines = applied +
 *	rejected.
 * All lists are dropped after each input (sdl_free_all).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/addr.h"
#include "spamd/cfg.h"
#include "spamd/sdl.h"
#include "spamd/smtp.h"
#include "tests/fuzz/fuzz.h"

#define LOOKUPS_MAX	64	/* addresses looked up per cfg_process input */

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init("fuzz-cfg");
	return 0;
}

static void
check_block(const struct cidr *c)
{
	struct addr a = c->a;
	unsigned max = c->a.af == AF_INET ? 32 : 128;

	FUZZ_CHECK(c->a.af == AF_INET || c->a.af == AF_INET6, "af %u",
	    c->a.af);
	FUZZ_CHECK(c->plen >= 1 && c->plen <= max, "mask /%u", c->plen);
	addr_mask(&a, c->plen);
	FUZZ_CHECK(addr_cmp(&a, &c->a) == 0, "host bits set in a block");
}

/* Blocks of family af, in order: a and b must agree. */
static void
same_blocks(const struct cfg_line *x, const struct cfg_line *y, int af)
{
	size_t i = 0, j = 0;

	for (;;) {
		while (i < x->ncidr && x->cidr[i].a.af != af)
			i++;
		while (j < y->ncidr && y->cidr[j].a.af != af)
			j++;
		if (i == x->ncidr || j == y->ncidr)
			break;
		FUZZ_CHECK(addr_cmp(&x->cidr[i].a, &y->cidr[j].a) == 0 &&
		    x->cidr[i].plen == y->cidr[j].plen, "block %zu changed "
		    "in the round trip", i);
		i++;
		j++;
	}
	FUZZ_CHECK(i == x->ncidr && j == y->ncidr, "round trip lost blocks");
}

/* The line parsed one block at a time, within b (NULL: none). */
static int
parse_steps(const char *buf, size_t len, const struct cfg_bounds *b,
    struct cfg_line *cl, char *err, size_t errlen)
{
	struct cfg_parser ps;
	int rc;

	rc = cfg_parse_begin(&ps, buf, len, b, cl, err, errlen);
	while (rc == 0)
		rc = cfg_parse_step(&ps, 1);
	return rc == -1 ? -1 : 0;
}

static void
steps_agree(const char *buf, size_t len, int rc, const struct cfg_line *cl,
    const char *err)
{
	struct cfg_line st;
	struct cfg_bounds b;
	char err2[CFG_ERR_MAX];
	size_t i;

	FUZZ_CHECK(parse_steps(buf, len, NULL, &st, err2, sizeof(err2)) == rc,
	    "stepped parse disagrees: %s", err2);
	if (rc == -1) {
		FUZZ_CHECK(strcmp(err, err2) == 0, "reasons differ: \"%s\" "
		    "and \"%s\"", err, err2);
		FUZZ_CHECK(st.msg == NULL && st.cidr == NULL, "a stepped "
		    "rejection kept memory");
	} else {
		FUZZ_CHECK(st.ncidr == cl->ncidr && st.n4 == cl->n4 &&
		    st.n6 == cl->n6 && st.masked == cl->masked &&
		    st.clear == cl->clear, "stepped parse gives other counts");
		for (i = 0; i < st.ncidr; i++)
			FUZZ_CHECK(addr_cmp(&st.cidr[i].a, &cl->cidr[i].a) == 0
			    && st.cidr[i].plen == cl->cidr[i].plen,
			    "stepped block %zu differs", i);
		cfg_line_free(&st);
	}
	/* small bounds from the input: refused with the option's name */
	b.max_blocks = 1 + len % 5;
	b.max_blocks6 = len % 3;
	b.max_bytes = 8 + len % 64;
	if (parse_steps(buf, len, &b, &st, err2, sizeof(err2)) == 0) {
		FUZZ_CHECK(rc == 0, "bounds made a bad line good");
		FUZZ_CHECK(st.ncidr <= b.max_blocks && st.n6 <= b.max_blocks6 &&
		    len <= b.max_bytes, "a line beyond the bounds accepted");
		cfg_line_free(&st);
	} else
		FUZZ_CHECK(st.msg == NULL && st.cidr == NULL, "a bounded "
		    "rejection kept memory");
}

static void
one_line(const char *buf, size_t len)
{
	struct cfg_line cl, back;
	char err[CFG_ERR_MAX], err2[CFG_ERR_MAX];
	const char *why;
	size_t i, elen;
	char *enc;

	if (cfg_parse(buf, len, &cl, err, sizeof(err)) == -1) {
		steps_agree(buf, len, -1, &cl, err);
		FUZZ_CHECK(err[0] != '\0', "rejected without a reason");
		FUZZ_CHECK(strlen(err) < sizeof(err), "reason overflows");
		FUZZ_CHECK(cl.msg == NULL && cl.cidr == NULL && cl.ncidr == 0,
		    "a rejected line kept memory");
		return;
	}
	FUZZ_CHECK(cfg_tag_check(cl.tag) == NULL, "accepted bad tag \"%s\"",
	    cl.tag);
	steps_agree(buf, len, 0, &cl, err);
	if (cl.clear) {
		FUZZ_CHECK(cl.msg == NULL && cl.ncidr == 0, "clear line with a "
		    "message or blocks");
		cfg_line_free(&cl);
		return;
	}
	FUZZ_CHECK(cl.msg != NULL, "no message");
	FUZZ_CHECK(strlen(cl.msg) <= SDL_MSG_MAX, "message of %zu bytes",
	    strlen(cl.msg));
	for (i = 0; cl.msg[i] != '\0'; i++)
		FUZZ_CHECK((unsigned char)cl.msg[i] >= ' ' &&
		    cl.msg[i] != 0x7f, "control byte in the message");
	FUZZ_CHECK(cl.ncidr == cl.n4 + cl.n6, "ncidr %zu, n4 %zu, n6 %zu",
	    cl.ncidr, cl.n4, cl.n6);
	for (i = 0; i < cl.ncidr; i++)
		check_block(&cl.cidr[i]);
	/* what spamd-setup would send for these blocks parses back */
	enc = cfg_encode(cl.tag, "", cl.cidr, cl.ncidr, &elen, &why);
	FUZZ_CHECK(enc != NULL, "cannot encode accepted blocks: %s", why);
	FUZZ_CHECK(elen > 0 && enc[elen - 1] == '\n', "encoded line has no "
	    "LF");
	FUZZ_CHECK(cfg_parse(enc, elen - 1, &back, err2, sizeof(err2)) == 0,
	    "encoded line rejected: %s", err2);
	FUZZ_CHECK(back.n4 == cl.n4 && back.n6 == cl.n6, "counts changed");
	same_blocks(&cl, &back, AF_INET);
	same_blocks(&cl, &back, AF_INET6);
	cfg_line_free(&back);
	free(enc);
	cfg_line_free(&cl);
	FUZZ_CHECK(cl.msg == NULL && cl.cidr == NULL, "cfg_line_free");
}

/* A blacklisted client's reply from list snapshots, as con.c builds it. */
static size_t
listed_reply(char *buf, size_t size, int code, struct sdl_list *const *l,
    size_t n, const struct addr *a)
{
	const char *msgs[SDL_LOOKUP_MAX];
	size_t i;

	for (i = 0; i < n && i < SDL_LOOKUP_MAX; i++)
		msgs[i] = sdl_msg(l[i]);
	return smtp_listed_reply(buf, size, code, msgs, i, a);
}

static void
check_reply(const char *buf, size_t n, size_t size)
{
	const char *p = buf, *e;
	size_t len;
	int last = 0;

	FUZZ_CHECK(n > 0 && n < size && strlen(buf) == n, "reply of %zu "
	    "bytes, strlen %zu", n, strlen(buf));
	while (*p != '\0') {
		FUZZ_CHECK(!last, "text after the last reply line");
		e = strstr(p, "\r\n");
		FUZZ_CHECK(e != NULL, "reply line without CR LF");
		len = (size_t)(e - p) + 2;
		FUZZ_CHECK(len <= SMTP_OUT_LINE_MAX, "reply line of %zu bytes", len);
		FUZZ_CHECK(len >= 6 && memcmp(p, "450", 3) == 0 &&
		    (p[3] == '-' || p[3] == ' '), "reply line \"%.*s\"",
		    (int)len, p);
		last = p[3] == ' ';
		for (; p < e; p++)
			FUZZ_CHECK((unsigned char)*p >= ' ' && *p != 0x7f,
			    "control byte in a reply line");
		p += 2;
	}
	FUZZ_CHECK(last, "no final reply line");
}

/* cfg_job in small steps: cfg_process's counts without bounds. */
static void
job_agrees(const char *buf, size_t len)
{
	struct cfg_bounds b = { 1 + len % 7, len % 3, 16 + len % 200 };
	struct cfg_stats js, ps;
	struct cfg_job *j;
	size_t budget = 1 + len % 5;

	FUZZ_CHECK((j = cfg_job_new(buf, len, NULL)) != NULL, "cfg_job_new");
	while (cfg_job_step(j, budget) == 0)
		;
	cfg_job_stats(j, &js);
	cfg_job_free(j);
	sdl_free_all();
	(void)cfg_process(buf, len, &ps);
	sdl_free_all();
	FUZZ_CHECK(js.lines == ps.lines && js.applied == ps.applied &&
	    js.rejected == ps.rejected, "cfg_job %zu/%zu/%zu, cfg_process "
	    "%zu/%zu/%zu", js.lines, js.applied, js.rejected, ps.lines,
	    ps.applied, ps.rejected);
	FUZZ_CHECK((j = cfg_job_new(buf, len, &b)) != NULL, "cfg_job_new");
	while (cfg_job_step(j, budget) == 0)
		;
	cfg_job_stats(j, &js);
	cfg_job_free(j);
	sdl_free_all();
	FUZZ_CHECK(js.lines == js.applied + js.rejected && js.lines ==
	    ps.lines, "bounded cfg_job: %zu lines, %zu applied, %zu "
	    "rejected", js.lines, js.applied, js.rejected);
}

static void
connection(const char *buf, size_t len)
{
	struct cfg_stats st;
	struct cfg_line cl;
	struct sdl_list *l[SDL_LOOKUP_MAX];
	struct addr a;
	char err[CFG_ERR_MAX], reply[SMTP_LISTED_REPLY_MAX], small[40];
	const char *p = buf, *nl;
	size_t rejected, n, i, k, lookups = 0;

	fuzz_log_reset();
	job_agrees(buf, len);
	rejected = cfg_process(buf, len, &st);
	FUZZ_CHECK(rejected == st.rejected, "returned %zu, stats say %zu",
	    rejected, st.rejected);
	FUZZ_CHECK(st.lines == st.applied + st.rejected, "%zu lines, %zu "
	    "applied, %zu rejected", st.lines, st.applied, st.rejected);
	FUZZ_CHECK(fuzz_nwarn >= st.rejected, "%zu rejected, %lu warnings",
	    st.rejected, fuzz_nwarn);
	/* look up the first address of each loaded block */
	while (p < buf + len && lookups < LOOKUPS_MAX) {
		if ((nl = memchr(p, '\n', (size_t)(buf + len - p))) == NULL)
			nl = buf + len;
		n = (size_t)(nl - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n > 0 && cfg_parse(p, n, &cl, err, sizeof(err)) == 0) {
			for (i = 0; i < cl.ncidr && lookups < LOOKUPS_MAX;
			    i++, lookups++) {
				cidr_first(&cl.cidr[i], &a);
				k = sdl_lookup(&a, l, SDL_LOOKUP_MAX);
				FUZZ_CHECK(sdl_listed(&a) == (k > 0),
				    "sdl_listed and sdl_lookup disagree");
				if (k == 0)
					continue;
				check_reply(reply, listed_reply(reply,
				    sizeof(reply), 450, l, k, &a),
				    sizeof(reply));
				/* a tight buffer still ends cleanly */
				n = listed_reply(small, sizeof(small), 450, l, k,
				    &a);
				if (n > 0)
					check_reply(small, n, sizeof(small));
				sdl_tags(small, sizeof(small), l, k);
				while (k > 0)
					sdl_unref(l[--k]);
			}
			cfg_line_free(&cl);
		}
		p = nl + 1;
	}
	sdl_free_all();
	FUZZ_CHECK(sdl_count() == 0, "lists left after sdl_free_all");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1)
		connection((const char *)data + 1, size - 1);
	else
		one_line((const char *)data + 1, size - 1);
	return 0;
}
