/*
 * polreq.c: Postfix policy requests in, access(5) actions out (polreq.h).
 * The answers follow postgrey's, so that main.cf lines and habits carry
 * over: DEFER_IF_PERMIT with a text while greylisted (a "4.2.0" status
 * in front when Postfix sends etrn_domain, postgrey's work-around for
 * Exchange), PREPEND X-Greylist when a delayed message passes, DUNNO
 * otherwise; listed and trapped clients get 450 (550 with -5) and the
 * first line of their message, as a redirected client would.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/compat.h"
#include "spamd/polreq.h"

static const char *err = "";

const char *
polreq_error(void)
{
	return err;
}

void
polreq_reset(struct polreq *r)
{
	memset(r, 0, sizeof(*r));
}

/* Copy a value, cut to the field (postgrey cuts at 512). */
static void
take(char *dst, size_t size, const char *v, size_t n)
{
	if (n >= size)
		n = size - 1;
	memcpy(dst, v, n);
	dst[n] = '\0';
}

int
polreq_line(struct polreq *r, const char *line, size_t len)
{
	const char *eq, *v;
	size_t nlen, vlen;

	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len == 0) {
		if (r->nattr == 0) {
			err = "an empty request";
			return -1;
		}
		return 1;
	}
	if (memchr(line, '\0', len) != NULL) {
		err = "a NUL byte in a request";
		return -1;
	}
	if ((eq = memchr(line, '=', len)) == NULL || eq == line) {
		err = "a line that is not name=value";
		return -1;
	}
	if (++r->nattr > POLREQ_ATTR_MAX) {
		err = "too many attributes";
		return -1;
	}
	nlen = (size_t)(eq - line);
	v = eq + 1;
	vlen = len - nlen - 1;
#define IS(name) (nlen == sizeof(name) - 1 && memcmp(line, name, nlen) == 0)
	if (IS("request")) {
		take(r->request, sizeof(r->request), v, vlen);
		r->have_request = 1;
	} else if (IS("protocol_state"))
		take(r->state, sizeof(r->state), v, vlen);
	else if (IS("client_address")) {
		take(r->client, sizeof(r->client), v, vlen);
		r->have_client = vlen > 0;
	} else if (IS("helo_name"))
		take(r->helo, sizeof(r->helo), v, vlen);
	else if (IS("sender"))
		take(r->sender, sizeof(r->sender), v, vlen);
	else if (IS("recipient")) {
		take(r->recipient, sizeof(r->recipient), v, vlen);
		r->have_recipient = vlen > 0;
	} else if (IS("instance"))
		take(r->instance, sizeof(r->instance), v, vlen);
	else if (IS("etrn_domain"))
		r->etrn = 1;
#undef IS
	return 0;
}

/*
 * "<local@domain>": one pair of angle brackets and surrounding blanks
 * stripped, the domain in lower case, brackets put back. The local part
 * is kept as sent (RFC 5321: it may be case sensitive; OpenBSD's spamd
 * keeps it too).
 */
static void
canon_mail(char *dst, size_t size, const char *v)
{
	size_t n = strlen(v), i, at = (size_t)-1;

	while (n > 0 && isspace((unsigned char)*v)) {
		v++;
		n--;
	}
	while (n > 0 && isspace((unsigned char)v[n - 1]))
		n--;
	if (n >= 2 && v[0] == '<' && v[n - 1] == '>') {
		v++;
		n -= 2;
	}
	if (n > size - 3)
		n = size - 3;
	dst[0] = '<';
	for (i = 0; i < n; i++) {
		if (v[i] == '@')
			at = i;
		dst[i + 1] = v[i];
	}
	if (at != (size_t)-1)
		for (i = at + 1; i < n; i++)
			dst[i + 1] = (char)tolower((unsigned char)v[i]);
	dst[n + 1] = '>';
	dst[n + 2] = '\0';
}

enum polreq_decision
polreq_decide(const struct polreq *r, struct polreq_tuple *t)
{
	if (!r->have_request || strcmp(r->request, "smtpd_access_policy")
	    != 0) {
		err = r->have_request ? "not an smtpd_access_policy request" :
		    "a request without request=";
		return POLREQ_BAD;
	}
	if (strcasecmp(r->state, "RCPT") != 0 || !r->have_client ||
	    !r->have_recipient)
		return POLREQ_DUNNO;
	if (addr_parse(r->client, &t->ip) == -1)
		return POLREQ_DUNNO;
	take(t->helo, sizeof(t->helo), r->helo, strlen(r->helo));
	canon_mail(t->from, sizeof(t->from), r->sender);
	canon_mail(t->to, sizeof(t->to), r->recipient);
	return POLREQ_GREY;
}

/* Append s (printable bytes only: an action is one line) at *off. */
static int
put(char *buf, size_t len, size_t *off, const char *s, size_t n)
{
	size_t i;

	if (n >= len - *off)
		return -1;
	for (i = 0; i < n; i++)
		buf[(*off)++] = isprint((unsigned char)s[i]) ? s[i] : ' ';
	buf[*off] = '\0';
	return 0;
}

static int
puts_(char *buf, size_t len, size_t *off, const char *s)
{
	return put(buf, len, off, s, strlen(s));
}

/* --policy-text: %s the seconds, %r the recipient's domain, %% a %. */
static int
expand(char *buf, size_t len, size_t *off, const char *text,
    const struct polreq *r, int64_t secs)
{
	char num[24];
	const char *p, *dom;
	int n;

	for (p = text; *p != '\0'; p++) {
		if (*p != '%' || p[1] == '\0') {
			if (put(buf, len, off, p, 1) == -1)
				return -1;
			continue;
		}
		p++;
		if (*p == 's') {
			n = snprintf(num, sizeof(num), "%lld",
			    (long long)(secs > 0 ? secs : 0));
			if (put(buf, len, off, num, (size_t)n) == -1)
				return -1;
		} else if (*p == 'r') {
			dom = strrchr(r->recipient, '@');
			dom = dom != NULL ? dom + 1 : r->recipient;
			if (put(buf, len, off, dom, strcspn(dom, ">")) == -1)
				return -1;
		} else if (put(buf, len, off, p, 1) == -1)
			return -1;
	}
	return 0;
}

int
polreq_text_check(const char *text)
{
	const char *p;

	if (strlen(text) > POLREQ_TEXT_MAX) {
		err = "too long";
		return -1;
	}
	for (p = text; *p != '\0'; p++) {
		if (!isprint((unsigned char)*p)) {
			err = "not printable text on one line";
			return -1;
		}
		if (*p == '%') {
			if (p[1] != 's' && p[1] != 'r' && p[1] != '%') {
				err = "% may only be followed by s, r or %";
				return -1;
			}
			p++;
		}
	}
	return 0;
}

static int
greylisted(char *buf, size_t len, size_t *off, const struct polreq_conf *c,
    const struct polreq *r, int64_t secs)
{
	if (puts_(buf, len, off, c->action) == -1 ||
	    puts_(buf, len, off, " ") == -1)
		return -1;
	/* postgrey: a 4.2.0 status when etrn_domain says Postfix >= 2.3 */
	if (r->etrn && !isdigit((unsigned char)c->text[0]) &&
	    puts_(buf, len, off, "4.2.0 ") == -1)
		return -1;
	return expand(buf, len, off, c->text, r, secs);
}

static int
header(char *buf, size_t len, size_t *off, const struct polreq_conf *c,
    int64_t secs, int64_t now)
{
	char line[256], date[64];
	struct tm tm;
	time_t t = (time_t)now;
	int n;

	if (localtime_r(&t, &tm) == NULL ||
	    strftime(date, sizeof(date), "%a, %d %b %Y %T %Z", &tm) == 0)
		date[0] = '\0';
	n = snprintf(line, sizeof(line), "PREPEND X-Greylist: delayed %lld "
	    "seconds by spamd at %s; %s", (long long)secs, c->hostname, date);
	if (n < 0 || (size_t)n >= sizeof(line))
		return -1;
	return puts_(buf, len, off, line);
}

/* A listed or trapped client: 450 (550 with -5) and one line of text. */
static int
refused(char *buf, size_t len, size_t *off, const struct polreq_conf *c,
    const char *msg)
{
	if (puts_(buf, len, off, c->code550 ? "550 5.7.1 " : "450 4.7.1 ")
	    == -1)
		return -1;
	return put(buf, len, off, msg, strcspn(msg, "\n"));
}

size_t
polreq_reply(char *buf, size_t len, const struct polreq_conf *c,
    const struct polreq *r, enum polreq_verdict v, int64_t secs, int64_t now)
{
	size_t off = 0;
	int rc;

	if (len < 16)
		return 0;
	buf[0] = '\0';
	if (puts_(buf, len, &off, "action=") == -1)
		return 0;
	switch (v) {
	case POLREQ_V_DEFER:
		rc = greylisted(buf, len, &off, c, r, secs);
		break;
	case POLREQ_V_BUSY:
		rc = puts_(buf, len, &off, c->action) == -1 ? -1 :
		    puts_(buf, len, &off, " 4.7.1 Greylisting is busy, "
		    "please try again later");
		break;
	case POLREQ_V_PASS:
		rc = c->header ? header(buf, len, &off, c, secs, now) :
		    puts_(buf, len, &off, "DUNNO");
		break;
	case POLREQ_V_TRAP:
		rc = refused(buf, len, &off, c, "Your address is trapped "
		    "by a spam trap; mail is not accepted");
		break;
	case POLREQ_V_LISTED:
		rc = refused(buf, len, &off, c, c->msg != NULL ? c->msg :
		    "Your address is on a blacklist");
		break;
	default:
		rc = puts_(buf, len, &off, "DUNNO");
		break;
	}
	if (rc == -1 || len - off < 3)
		return 0;
	memcpy(buf + off, "\n\n", 3);
	return off + 2;
}
