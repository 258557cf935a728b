/*
 * cfg.c: parse and write blacklist configuration lines, the codec that
 * spamd-setup and spamd share (see cfg.h for the format and the
 * interface). Applying lines to spamd's lists is spamd/cfg.c.
 *
 * The parser walks the buffer with explicit lengths and never relies on a
 * terminating NUL, so it can be fed raw socket data or fuzzer input. It
 * fills a struct cfg_line and changes nothing; applying is a separate
 * step, so a bad line never touches the list it names (OpenBSD frees the
 * old list before parsing the new one, and a bad address then loses the
 * whole list).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/addr.h"
#include "common/cfg.h"
#include "common/compat.h"
#include "common/util.h"

#define SHOW_MAX	40	/* bytes of a bad field quoted in a reason */


/* Copy a field for an error message, cut to SHOW_MAX bytes. */
static const char *
show(char *buf, size_t size, const char *p, size_t n)
{
	size_t m = n < size - 1 ? n : size - 1;

	memcpy(buf, p, m);
	buf[m] = '\0';
	if (m < n && size > 4)
		memcpy(buf + size - 4, "...", 4);
	return buf;
}

/* The next ';'-separated field; 0 at the end of the line. */
static int
next_field(struct cur *c, const char **f, size_t *flen)
{
	const char *semi;

	if (c->off > c->len)
		return 0;
	*f = c->p + c->off;
	semi = memchr(*f, ';', c->len - c->off);
	if (semi == NULL) {
		*flen = c->len - c->off;
		c->off = c->len + 1;
	} else {
		*flen = (size_t)(semi - *f);
		c->off += *flen + 1;
	}
	return 1;
}

static int
all_digits(const char *f, size_t flen)
{
	size_t i;

	for (i = 0; i < flen; i++) {
		if (f[i] < '0' || f[i] > '9')
			return 0;
	}
	return 1;
}

static int
field_is(const char *f, size_t flen, const char *word)
{
	return flen == strlen(word) && memcmp(f, word, flen) == 0;
}

const char *
cfg_tag_syntax(const char *tag)
{
	size_t len;
	const char *p;

	if (tag == NULL || *tag == '\0')
		return "empty tag";
	len = strlen(tag);
	if (len > CFG_TAG_MAX)
		return "tag longer than 63 bytes";
	for (p = tag; *p != '\0'; p++) {
		if (*p <= ' ' || *p >= 0x7f || *p == ';' || *p == '"')
			return "tag holds a blank, control, non-ASCII, ';' or "
			    "'\"' character";
	}
	return NULL;
}

const char *
cfg_tag_check(const char *tag)
{
	const char *why;

	if ((why = cfg_tag_syntax(tag)) != NULL)
		return why;
	if (strcmp(tag, CFG_GREYTRAP_TAG) == 0)
		return "tag " CFG_GREYTRAP_TAG " is reserved for spamd's "
		    "greytrap list";
	return NULL;
}

/* Append a block; left is how many the count still promises (>= 1). */
static int
add_cidr(struct cfg_line *cl, size_t *cap, size_t left, const struct cidr *c)
{
	struct cidr *nv;
	size_t ncap;

	if (cl->ncidr == *cap) {
		ncap = *cap == 0 ? 64 : *cap * 2;
		/* never more than the count promises: no slack on big lists */
		if (ncap > cl->ncidr + left)
			ncap = cl->ncidr + left;
		if ((nv = reallocarray(cl->cidr, ncap, sizeof(*nv))) == NULL)
			return -1;
		cl->cidr = nv;
		*cap = ncap;
	}
	cl->cidr[cl->ncidr++] = *c;
	return 0;
}

static void
parse_fail(struct cfg_parser *ps)
{
	struct cfg_line *cl = ps->cl;

	free(cl->msg);
	free(cl->cidr);
	cl->msg = NULL;
	cl->cidr = NULL;
	cl->ncidr = cl->n4 = cl->n6 = cl->masked = 0;
}

/* The count after "inet" or "inet6", checked against the bounds. */
static int
family_begin(struct cfg_parser *ps, int af)
{
	struct cur *c = &ps->c;
	const char *fam = af == AF_INET ? "inet" : "inet6";
	const char *f, *e;
	char num[24], sh[SHOW_MAX + 1];
	size_t flen;
	long long n;

	if (!next_field(c, &f, &flen)) {
		util_errf(ps->err, ps->errlen, "no count after %s", fam);
		return -1;
	}
	if (flen == 0 || flen >= sizeof(num) || !all_digits(f, flen)) {
		util_errf(ps->err, ps->errlen, "invalid %s count \"%s\"", fam,
		    show(sh, sizeof(sh), f, flen));
		return -1;
	}
	memcpy(num, f, flen);
	num[flen] = '\0';
	n = strtonum(num, 0, (long long)CFG_LINE_MAX, &e);
	if (e != NULL) {
		util_errf(ps->err, ps->errlen, "invalid %s count \"%s\": %s",
		    fam, num, e);
		return -1;
	}
	/* refuse on the count, before a single block is read */
	if (af == AF_INET6 && (size_t)n > ps->b.max_blocks6) {
		util_errf(ps->err, ps->errlen, "%lld IPv6 blocks, more than "
		    "--list-max-blocks6 %zu", n, ps->b.max_blocks6);
		return -1;
	}
	if ((size_t)n > ps->b.max_blocks - ps->cl->ncidr) {
		util_errf(ps->err, ps->errlen, "%zu blocks, more than "
		    "--list-max-blocks %zu", ps->cl->ncidr + (size_t)n,
		    ps->b.max_blocks);
		return -1;
	}
	ps->want = (size_t)n;
	ps->got = 0;
	if (n == 0) {
		if (af == AF_INET)
			ps->cl->n4 = 0;
		else
			ps->cl->n6 = 0;
	} else
		ps->af = af;
	return 0;
}

/* The next block of the family part being read. */
static int
family_block(struct cfg_parser *ps)
{
	struct cur *c = &ps->c;
	struct cfg_line *cl = ps->cl;
	int af = ps->af;
	const char *fam = af == AF_INET ? "inet" : "inet6";
	const char *f, *e;
	char field[CIDR_STRLEN + 1], sh[SHOW_MAX + 1];
	char *err = ps->err;
	size_t flen, i = ps->got, errlen = ps->errlen;
	struct cidr cidr;

	if (!next_field(c, &f, &flen) || field_is(f, flen, "inet") ||
	    field_is(f, flen, "inet6")) {
		util_errf(err, errlen, "%s count is %zu but %zu blocks "
		    "follow", fam, ps->want, i);
		return -1;
	}
	if (flen == 0) {
		util_errf(err, errlen, "%s block %zu is empty", fam, i + 1);
		return -1;
	}
	if (flen >= sizeof(field)) {
		util_errf(err, errlen, "%s block %zu \"%s\": invalid address",
		    fam, i + 1, show(sh, sizeof(sh), f, flen));
		return -1;
	}
	memcpy(field, f, flen);
	field[flen] = '\0';
	if (flen >= 2 && field[flen - 2] == '/' && field[flen - 1] == '0') {
		util_errf(err, errlen, "%s block %zu \"%s\": mask /0 is not "
		    "allowed", fam, i + 1, field);
		return -1;
	}
	if (cidr_parse(field, &cidr, CIDR_NEED_MASK | CIDR_NO_ZERO |
	    CIDR_STRICT, &e) == -1) {
		if (strcmp(e, "host bits set") != 0 ||
		    cidr_parse(field, &cidr, CIDR_NEED_MASK |
		    CIDR_NO_ZERO, &e) == -1) {
			util_errf(err, errlen, "%s block %zu \"%s\": %s",
			    fam, i + 1, field, e);
			return -1;
		}
		cl->masked++;
	}
	/* ::ffff:a.b.c.d/m parses as IPv4; it has no place in inet6 */
	if (cidr.a.af != af || (af == AF_INET &&
	    strchr(field, ':') != NULL) || (af == AF_INET6 &&
	    strchr(field, ':') == NULL)) {
		util_errf(err, errlen, "%s block %zu \"%s\": not an %s "
		    "address", fam, i + 1, field,
		    af == AF_INET ? "IPv4" : "IPv6");
		return -1;
	}
	if (add_cidr(cl, &ps->cap, ps->want - i, &cidr) == -1) {
		util_errf(err, errlen, "out of memory after %zu blocks",
		    cl->ncidr);
		return -1;
	}
	if (++ps->got == ps->want) {
		if (af == AF_INET)
			cl->n4 = ps->want;
		else
			cl->n6 = ps->want;
		ps->af = 0;
	}
	return 0;
}

int
cfg_parse(const char *buf, size_t len, struct cfg_line *cl, char *err,
    size_t errlen)
{
	struct cfg_parser ps;
	int rc;

	if ((rc = cfg_parse_begin(&ps, buf, len, NULL, cl, err, errlen)) == 0)
		rc = cfg_parse_step(&ps, SIZE_MAX);
	return rc == -1 ? -1 : 0;
}

/*
 * The checks on the whole line, then "tag;": 1 when the line ends
 * there (the list is cleared), 0 to go on, -1 with the error.
 */
static int
begin_tag(struct cfg_parser *ps)
{
	struct cur *c = &ps->c;
	struct cfg_line *cl = ps->cl;
	const char *buf = c->p, *f, *semi, *why;
	size_t len = c->len, flen;
	char sh[SHOW_MAX + 1], *err = ps->err;
	size_t errlen = ps->errlen;

	if (len == 0) {
		util_errf(err, errlen, "empty line");
		return -1;
	}
	if (len > CFG_LINE_MAX) {
		util_errf(err, errlen, "line longer than %lu bytes", CFG_LINE_MAX);
		return -1;
	}
	/* one linear scan; memchr is fast even over 256 MB */
	if ((f = memchr(buf, '\0', len)) != NULL) {
		util_errf(err, errlen, "NUL byte at offset %zu", (size_t)(f - buf));
		return -1;
	}
	if ((semi = memchr(buf, ';', len)) == NULL) {
		util_errf(err, errlen, "no ';' after the tag \"%s\"",
		    show(sh, sizeof(sh), buf, len));
		return -1;
	}
	flen = (size_t)(semi - buf);
	if (flen == 0) {
		util_errf(err, errlen, "empty tag");
		return -1;
	}
	if (flen > CFG_TAG_MAX) {
		util_errf(err, errlen, "tag \"%s\" longer than %d bytes",
		    show(sh, sizeof(sh), buf, flen), CFG_TAG_MAX);
		return -1;
	}
	memcpy(cl->tag, buf, flen);
	cl->tag[flen] = '\0';
	if ((why = cfg_tag_check(cl->tag)) != NULL) {
		util_errf(err, errlen, "invalid tag \"%s\": %s", cl->tag, why);
		return -1;
	}
	if (len > ps->b.max_bytes) {
		util_errf(err, errlen, "more than %zu bytes "
		    "(--list-max-bytes)", ps->b.max_bytes);
		return -1;
	}
	c->off = flen + 1;
	if (c->off == len) {
		cl->clear = 1;
		return 1;
	}
	return 0;
}

/*
 * "message" and the ';' after it: 1 when the line ends after the
 * message, 0 to go on with the addresses, -1 with the error.
 */
static int
begin_msg(struct cfg_parser *ps)
{
	struct cur *c = &ps->c;
	struct cfg_line *cl = ps->cl;
	const char *buf = c->p;
	size_t len = c->len, i, mlen, errlen = ps->errlen;
	char *err = ps->err;
	unsigned char ch;

	if (buf[c->off] != '"') {
		util_errf(err, errlen, "message does not start with '\"'");
		return -1;
	}
	for (i = c->off + 1; i < len && buf[i] != '"'; i++) {
		ch = (unsigned char)buf[i];
		/* an escaped byte never ends the message; check it too */
		if (ch == '\\' && i + 1 < len)
			ch = (unsigned char)buf[++i];
		if (ch < ' ' || ch == 0x7f) {
			util_errf(err, errlen, "control character 0x%02x in the "
			    "message", ch);
			return -1;
		}
	}
	if (i >= len) {
		util_errf(err, errlen, "message has no closing '\"'");
		return -1;
	}
	mlen = i - c->off - 1;
	if (mlen > CFG_MSG_MAX) {
		util_errf(err, errlen, "message longer than %d bytes", CFG_MSG_MAX);
		return -1;
	}
	if ((cl->msg = malloc(mlen + 1)) == NULL) {
		util_errf(err, errlen, "out of memory");
		return -1;
	}
	memcpy(cl->msg, buf + c->off + 1, mlen);
	cl->msg[mlen] = '\0';
	c->off = i + 1;
	if (c->off == len)
		return 1;
	if (buf[c->off] != ';') {
		util_errf(err, errlen, "'%c' after the message where ';' belongs",
		    (unsigned char)buf[c->off] >= ' ' && buf[c->off] != 0x7f ?
		    buf[c->off] : '?');
		return -1;
	}
	c->off++;
	return 0;
}

int
cfg_parse_begin(struct cfg_parser *ps, const char *buf, size_t len,
    const struct cfg_bounds *bounds, struct cfg_line *cl, char *err,
    size_t errlen)
{
	int rc;

	memset(ps, 0, sizeof(*ps));
	ps->c.p = buf;
	ps->c.len = len;
	ps->cl = cl;
	ps->err = err;
	ps->errlen = errlen;
	if (bounds != NULL)
		ps->b = *bounds;
	else {
		ps->b.max_blocks = CFG_LINE_MAX;
		ps->b.max_blocks6 = CFG_LINE_MAX;
		ps->b.max_bytes = CFG_LINE_MAX;
	}
	memset(cl, 0, sizeof(*cl));
	if (errlen > 0)
		err[0] = '\0';
	if ((rc = begin_tag(ps)) == 0)
		rc = begin_msg(ps);
	if (rc == -1)
		parse_fail(ps);
	return rc;
}

int
cfg_parse_step(struct cfg_parser *ps, size_t budget)
{
	struct cur *c = &ps->c;
	const char *f;
	char *err = ps->err, sh[SHOW_MAX + 1];
	size_t flen, errlen = ps->errlen;

	for (;;) {
		while (ps->af != 0) {
			if (budget == 0)
				return 0;
			budget--;
			if (family_block(ps) == -1)
				goto fail;
		}
		if (!next_field(c, &f, &flen))
			return 1;
		if (field_is(f, flen, "inet")) {
			if (ps->seen4++) {
				util_errf(err, errlen, "inet part given twice");
				goto fail;
			}
			if (family_begin(ps, AF_INET) == -1)
				goto fail;
		} else if (field_is(f, flen, "inet6")) {
			if (ps->seen6++) {
				util_errf(err, errlen, "inet6 part given twice");
				goto fail;
			}
			if (family_begin(ps, AF_INET6) == -1)
				goto fail;
		} else if (flen == 0) {
			util_errf(err, errlen, "empty field where inet or inet6 "
			    "belongs");
			goto fail;
		} else if (ps->seen4 || ps->seen6) {
			util_errf(err, errlen, "\"%s\" after the last counted "
			    "block", show(sh, sizeof(sh), f, flen));
			goto fail;
		} else {
			util_errf(err, errlen, "\"%s\" where inet or inet6 belongs",
			    show(sh, sizeof(sh), f, flen));
			goto fail;
		}
	}
fail:
	parse_fail(ps);
	return -1;
}

void
cfg_line_free(struct cfg_line *cl)
{
	free(cl->msg);
	free(cl->cidr);
	cl->msg = NULL;
	cl->cidr = NULL;
	cl->ncidr = 0;
}

/* Append the escaped form of plain text msg; -1 on a control byte. */
static int
escape_msg(char *out, size_t *o, const char *msg)
{
	const unsigned char *p;

	for (p = (const unsigned char *)msg; *p != '\0'; p++) {
		if (*p == '\n') {
			out[(*o)++] = '\\';
			out[(*o)++] = 'n';
		} else if (*p == '"' || *p == '\\') {
			out[(*o)++] = '\\';
			out[(*o)++] = (char)*p;
		} else if (*p < ' ' || *p == 0x7f)
			return -1;
		else
			out[(*o)++] = (char)*p;
	}
	return 0;
}

char *
cfg_encode(const char *tag, const char *msg, const struct cidr *v, size_t n,
    size_t *lenp, const char **errstr)
{
	char *line, cbuf[CIDR_STRLEN];
	size_t i, o, m, size, n4 = 0, n6 = 0, start;
	int pass, af;

	if (msg == NULL)
		msg = "";
	if ((*errstr = cfg_tag_check(tag)) != NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if (v[i].a.af == AF_INET && v[i].plen >= 1 && v[i].plen <= 32)
			n4++;
		else if (v[i].a.af == AF_INET6 && v[i].plen >= 1 &&
		    v[i].plen <= 128)
			n6++;
		else {
			*errstr = "a block is not IPv4 or IPv6, or has mask "
			    "/0 or too long a mask";
			return NULL;
		}
	}
	size = strlen(tag) + 2 * strlen(msg) + 64 + n * (CIDR_STRLEN + 1);
	if ((line = malloc(size)) == NULL) {
		*errstr = "out of memory";
		return NULL;
	}
	o = (size_t)snprintf(line, size, "%s;\"", tag);
	start = o;
	if (escape_msg(line, &o, msg) == -1) {
		free(line);
		*errstr = "the message holds a control character";
		return NULL;
	}
	if (o - start > CFG_MSG_MAX) {
		free(line);
		*errstr = "the message is longer than 2048 bytes once escaped";
		return NULL;
	}
	line[o++] = '"';
	for (pass = 0; pass < 2; pass++) {
		af = pass == 0 ? AF_INET : AF_INET6;
		m = pass == 0 ? n4 : n6;
		if (m == 0)
			continue;
		o += (size_t)snprintf(line + o, size - o, ";%s;%zu",
		    pass == 0 ? "inet" : "inet6", m);
		for (i = 0; i < n; i++) {
			if (v[i].a.af != af)
				continue;
			cidr_ntop(&v[i], cbuf, sizeof(cbuf));
			o += (size_t)snprintf(line + o, size - o, ";%s", cbuf);
		}
	}
	line[o++] = '\n';
	line[o] = '\0';
	*lenp = o;
	return line;
}
