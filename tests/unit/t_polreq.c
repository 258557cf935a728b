/*
 * t_polreq.c: unit tests for spamd/polreq.c, Postfix policy requests as
 * text: attribute parsing and its bounds, what a request asks, the
 * canonical tuple, and the exact answers (postgrey's forms).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spamd/polreq.h"
#include "tests/unit/harness.h"

/* Feed "a=b\n..." (LF-separated, a final empty line ends the request);
 * returns the last polreq_line result. */
static int
feed(struct polreq *r, const char *text)
{
	const char *p = text, *lf;
	int rc = 0;

	polreq_reset(r);
	while ((lf = strchr(p, '\n')) != NULL) {
		rc = polreq_line(r, p, (size_t)(lf - p));
		if (rc != 0)
			return rc;
		p = lf + 1;
	}
	return rc;
}

#define REQ \
	"request=smtpd_access_policy\n" \
	"protocol_state=RCPT\n" \
	"protocol_name=ESMTP\n" \
	"helo_name=Mail.Example.ORG\n" \
	"queue_id=8045F2AB23\n" \
	"sender=Alice@Example.ORG\n" \
	"recipient=<Bob@MX.Example>\n" \
	"recipient_count=0\n" \
	"client_address=192.0.2.10\n" \
	"client_name=unknown\n" \
	"instance=123.456.7\n" \
	"etrn_domain=\n" \
	"some_future_attribute=ignored\n"

static const struct polreq_conf conf = {
	.action = POLREQ_ACTION, .text = POLREQ_TEXT, .header = 1,
	.hostname = "mx.example"
};

static void
parse_and_decide(void)
{
	struct polreq r;
	struct polreq_tuple t;

	T_EQ_INT(feed(&r, REQ "\n"), 1);
	T_EQ_INT(polreq_decide(&r, &t), POLREQ_GREY);
	T_EQ_STR(t.helo, "Mail.Example.ORG");
	T_EQ_STR(t.from, "<Alice@example.org>");	/* local part kept */
	T_EQ_STR(t.to, "<Bob@mx.example>");		/* one <> pair */
	T_EQ_STR(r.instance, "123.456.7");
	T_EQ_INT(r.etrn, 1);
	/* CR LF lines, the null sender, an IPv6 client. */
	T_EQ_INT(feed(&r, "request=smtpd_access_policy\r\nprotocol_state=rcpt"
	    "\r\nsender=\r\nrecipient=b@example.net\r\nclient_address="
	    "2001:db8::1\r\n\r\n"), 1);
	T_EQ_INT(polreq_decide(&r, &t), POLREQ_GREY);
	T_EQ_STR(t.from, "<>");
	T_EQ_STR(t.helo, "");
	T_EQ_INT(t.ip.af, AF_INET6);
	T_EQ_INT(r.etrn, 0);
}

static void
dunno_cases(void)
{
	struct polreq r;
	struct polreq_tuple t;

	/* Other states, no recipient, no or an unusable client address. */
	T_EQ_INT(feed(&r, "request=smtpd_access_policy\nprotocol_state=DATA\n"
	    "client_address=192.0.2.1\nrecipient=a@b\n\n"), 1);
	T_EQ_INT(polreq_decide(&r, &t), POLREQ_DUNNO);
	T_EQ_INT(feed(&r, "request=smtpd_access_policy\nprotocol_state=RCPT\n"
	    "client_address=192.0.2.1\n\n"), 1);
	T_EQ_INT(polreq_decide(&r, &t), POLREQ_DUNNO);
	T_EQ_INT(feed(&r, "request=smtpd_access_policy\nprotocol_state=RCPT\n"
	    "client_address=unknown\nrecipient=a@b\n\n"), 1);
	T_EQ_INT(polreq_decide(&r, &t), POLREQ_DUNNO);
	/* Not a policy request at all: close. */
	T_EQ_INT(feed(&r, "request=junk\nprotocol_state=RCPT\n\n"), 1);
	T_EQ_INT(polreq_decide(&r, &t), POLREQ_BAD);
	T_EQ_STR(polreq_error(), "not an smtpd_access_policy request");
	T_EQ_INT(feed(&r, "protocol_state=RCPT\n\n"), 1);
	T_EQ_INT(polreq_decide(&r, &t), POLREQ_BAD);
}

static void
malformed(void)
{
	struct polreq r;
	char line[64];
	int i, rc = 0;

	T_EQ_INT(feed(&r, "\n"), -1);
	T_EQ_STR(polreq_error(), "an empty request");
	T_EQ_INT(feed(&r, "request=smtpd_access_policy\ngarbage\n"), -1);
	T_EQ_STR(polreq_error(), "a line that is not name=value");
	T_EQ_INT(feed(&r, "=value\n"), -1);
	polreq_reset(&r);
	T_EQ_INT(polreq_line(&r, "a=b\0c", 5), -1);
	T_EQ_STR(polreq_error(), "a NUL byte in a request");
	polreq_reset(&r);
	for (i = 0; i <= POLREQ_ATTR_MAX && rc == 0; i++) {
		snprintf(line, sizeof(line), "x%d=y", i);
		rc = polreq_line(&r, line, strlen(line));
	}
	T_EQ_INT(rc, -1);
	T_EQ_INT(i, POLREQ_ATTR_MAX + 1);
	T_EQ_STR(polreq_error(), "too many attributes");
}

/* Values longer than a field are cut, never overflow. */
static void
long_values(void)
{
	struct polreq r;
	struct polreq_tuple t;
	char *line = malloc(POLREQ_LINE_MAX);

	T_ASSERT(line != NULL);
	polreq_reset(&r);
	memcpy(line, "sender=", 7);
	memset(line + 7, 'a', POLREQ_LINE_MAX - 7);
	T_EQ_INT(polreq_line(&r, line, POLREQ_LINE_MAX), 0);
	T_EQ_INT(strlen(r.sender), POLREQ_VALUE_MAX);
	T_EQ_INT(feed(&r, "request=smtpd_access_policy\nprotocol_state=RCPT\n"
	    "client_address=192.0.2.1\nrecipient=a@b\n\n"), 1);
	memcpy(line, "helo_name=", 10);
	T_EQ_INT(polreq_line(&r, line, POLREQ_LINE_MAX), 0);
	T_EQ_INT(polreq_decide(&r, &t), POLREQ_GREY);
	T_EQ_INT(strlen(t.helo), POLREQ_VALUE_MAX);
	free(line);
}

static void
replies(void)
{
	struct polreq r;
	struct polreq_conf c = conf;
	char buf[POLREQ_REPLY_MAX];
	size_t n;

	T_EQ_INT(feed(&r, REQ "\n"), 1);
	n = polreq_reply(buf, sizeof(buf), &c, &r, POLREQ_V_DEFER, 61, 0);
	T_EQ_STR(buf, "action=DEFER_IF_PERMIT 4.2.0 Greylisted, please try "
	    "again in 61 seconds\n\n");
	T_EQ_INT(n, strlen(buf));
	n = polreq_reply(buf, sizeof(buf), &c, &r, POLREQ_V_DUNNO, 0, 0);
	T_EQ_STR(buf, "action=DUNNO\n\n");
	/* postgrey's settings: %r is the recipient's domain; a text that
	 * starts with a digit gets no 4.2.0. */
	c.action = "DEFER";
	c.text = "Greylisted, see http://postgrey.schweikert.ch/help/%r.html"
	    " (%s s, 100%%)";
	polreq_reply(buf, sizeof(buf), &c, &r, POLREQ_V_DEFER, 5, 0);
	T_EQ_STR(buf, "action=DEFER 4.2.0 Greylisted, see http://postgrey."
	    "schweikert.ch/help/MX.Example.html (5 s, 100%)\n\n");
	c.text = "4.7.1 wait %s";
	polreq_reply(buf, sizeof(buf), &c, &r, POLREQ_V_DEFER, 5, 0);
	T_EQ_STR(buf, "action=DEFER 4.7.1 wait 5\n\n");
	/* Listed and trapped: 450, or 550 with -5; one line only. */
	c.msg = "Your address 192.0.2.10 is listed\nsecond line";
	polreq_reply(buf, sizeof(buf), &c, &r, POLREQ_V_LISTED, 0, 0);
	T_EQ_STR(buf, "action=450 4.7.1 Your address 192.0.2.10 is listed"
	    "\n\n");
	c.code550 = 1;
	polreq_reply(buf, sizeof(buf), &c, &r, POLREQ_V_TRAP, 0, 0);
	T_EQ_STR(buf, "action=550 5.7.1 Your address is trapped by a spam "
	    "trap; mail is not accepted\n\n");
	polreq_reply(buf, sizeof(buf), &c, &r, POLREQ_V_BUSY, 0, 0);
	T_EQ_STR(buf, "action=DEFER 4.7.1 Greylisting is busy, please try "
	    "again later\n\n");
	/* Too small a buffer: 0, never a cut answer. */
	T_EQ_INT(polreq_reply(buf, 20, &c, &r, POLREQ_V_TRAP, 0, 0), 0);
}

/* The header of a pass, as postgrey writes it, with our name. */
static void
pass_header(void)
{
	struct polreq r;
	struct polreq_conf c = conf;
	char buf[POLREQ_REPLY_MAX];

	setenv("TZ", "UTC", 1);
	T_EQ_INT(feed(&r, REQ "\n"), 1);
	polreq_reply(buf, sizeof(buf), &c, &r, POLREQ_V_PASS, 415,
	    1667926551);
	T_EQ_STR(buf, "action=PREPEND X-Greylist: delayed 415 seconds by "
	    "spamd at mx.example; Tue, 08 Nov 2022 16:55:51 UTC\n\n");
	c.header = 0;
	polreq_reply(buf, sizeof(buf), &c, &r, POLREQ_V_PASS, 415, 0);
	T_EQ_STR(buf, "action=DUNNO\n\n");
}

static void
text_check(void)
{
	T_EQ_INT(polreq_text_check("Greylisted for %s s at %r, 100%%"), 0);
	T_EQ_INT(polreq_text_check("50%"), -1);
	T_EQ_INT(polreq_text_check("%d"), -1);
	T_EQ_INT(polreq_text_check("two\nlines"), -1);
	T_EQ_STR(polreq_error(), "not printable text on one line");
}

const struct t_case t_cases[] = {
	T_CASE(parse_and_decide),
	T_CASE(dunno_cases),
	T_CASE(malformed),
	T_CASE(long_values),
	T_CASE(replies),
	T_CASE(pass_header),
	T_CASE(text_check),
	{ NULL, NULL }
};
