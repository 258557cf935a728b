/*
 * t_smtp.c: the SMTP state machine (spamd/smtp.c): every reply of the
 * spec's §4.1 table, the order rules, exact verb matching, the 21st bad
 * command, tuples per RCPT, pipelining order, and the DATA phase.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "spamd/smtp.h"
#include "tests/unit/harness.h"

/* One dialogue step: the line sent, the reply expected, the state after. */
struct step {
	const char	*line;
	enum smtp_reply	 reply;
	enum smtp_state	 state;
	int		 tuple;		/* 1 if this line records a tuple */
};

static void
run(int black, const struct step *steps)
{
	struct smtp_sess s;
	struct smtp_result r;
	int i;

	smtp_init(&s, black);
	for (i = 0; steps[i].line != NULL; i++) {
		smtp_input(&s, steps[i].line, strlen(steps[i].line), 0, &r);
		if (r.reply != steps[i].reply || s.state != steps[i].state ||
		    r.tuple != steps[i].tuple)
			t_fail("step %d \"%s\": reply %d state %s tuple %d, "
			    "expected reply %d state %s tuple %d", i,
			    steps[i].line, r.reply, smtp_state_name(s.state),
			    r.tuple, steps[i].reply,
			    smtp_state_name(steps[i].state), steps[i].tuple);
	}
	smtp_free(&s);
}

static void
reply_texts(void)
{
	T_EQ_STR(smtp_reply_text(SMTP_R_HELO),
	    "250 Hello, spam sender. Pleased to be wasting your time.\r\n");
	T_EQ_STR(smtp_reply_text(SMTP_R_HELO_501),
	    "501 helo requires domain name.\r\n");
	T_EQ_STR(smtp_reply_text(SMTP_R_MAIL),
	    "250 You are about to try to deliver spam. Your time will be "
	    "spent, for nothing.\r\n");
	T_EQ_STR(smtp_reply_text(SMTP_R_RCPT),
	    "250 This is hurting you more than it is hurting me.\r\n");
	T_EQ_STR(smtp_reply_text(SMTP_R_DATA),
	    "354 Enter spam, end with \".\" on a line by itself\r\n");
	T_EQ_STR(smtp_reply_text(SMTP_R_NOOP), "250 2.0.0 OK I did nothing\r\n");
	T_EQ_STR(smtp_reply_text(SMTP_R_RSET), "250 Ok to start over.\r\n");
	T_EQ_STR(smtp_reply_text(SMTP_R_BAD), "500 5.5.1 Command unrecognized\r\n");
	T_ASSERT(smtp_reply_text(SMTP_R_QUIT) == NULL);
	T_ASSERT(smtp_reply_text(SMTP_R_FINAL) == NULL);
	T_EQ_STR(smtp_tempfail(),
	    "451 Temporary failure, please try again later.\r\n");
}

/* The replies built per connection: banner (OpenBSD's date) and 221. */
static void
built_replies(void)
{
	char *r, *r2;

	T_ASSERT(setenv("TZ", "UTC", 1) == 0);
	tzset();
	r = smtp_banner("mx.example", "spamd IP-based SPAM blocker",
	    (time_t)1795843818);
	T_EQ_STR(r, "220 mx.example ESMTP spamd IP-based SPAM blocker; "
	    "Sat Nov 28 05:30:18 2026\r\n");
	free(r);
	r = smtp_banner("mx", "x", (time_t)1796353754);	/* %e pads */
	T_EQ_STR(r, "220 mx ESMTP x; Fri Dec  4 03:09:14 2026\r\n");
	/* the same second: a copy of the kept banner, the caller's own */
	r2 = smtp_banner("mx", "x", (time_t)1796353754);
	T_ASSERT(r2 != r);
	T_EQ_STR(r2, r);
	free(r2);
	free(r);
	/* the next second, or another name: formatted afresh */
	r = smtp_banner("mx", "x", (time_t)1796353755);
	T_EQ_STR(r, "220 mx ESMTP x; Fri Dec  4 03:09:15 2026\r\n");
	free(r);
	r = smtp_banner("mx2", "x", (time_t)1796353755);
	T_EQ_STR(r, "220 mx2 ESMTP x; Fri Dec  4 03:09:15 2026\r\n");
	free(r);
	r = smtp_quit_reply("mx.example");
	T_EQ_STR(r, "221 mx.example\r\n");
	free(r);
}

static void
greylisted_dialogue(void)
{
	static const struct step s[] = {
		{ "EHLO mx.example.org", SMTP_R_HELO, SMTP_HELO, 0 },
		{ "MAIL FROM:<a@example.org> SIZE=100", SMTP_R_MAIL, SMTP_MAIL, 0 },
		{ "RCPT TO:<b@example.com>", SMTP_R_RCPT, SMTP_RCPT, 1 },
		{ "RCPT TO: <c@example.com>", SMTP_R_RCPT, SMTP_RCPT, 1 },
		{ "DATA", SMTP_R_FINAL, SMTP_DONE, 0 },
		{ NULL, 0, 0, 0 },
	};

	run(0, s);
}

static void
helo_rules(void)
{
	static const struct step s[] = {
		{ "HELO", SMTP_R_HELO_501, SMTP_GREET, 0 },
		{ "EHLO   ", SMTP_R_HELO_501, SMTP_GREET, 0 },
		{ "helo a.example", SMTP_R_HELO, SMTP_HELO, 0 },
		{ "HELO again.example", SMTP_R_BAD, SMTP_HELO, 0 },
		{ "RSET", SMTP_R_RSET, SMTP_HELO, 0 },
		{ NULL, 0, 0, 0 },
	};

	run(0, s);
}

/*
 * Verbs in any case, and nothing that merely starts or ends like one:
 * each verb is compared as four capital letters.
 */
static void
verb_case(void)
{
	static const struct step s[] = {
		{ "hElO a.example", SMTP_R_HELO, SMTP_HELO, 0 },
		{ "MAILX FROM:<a@b>", SMTP_R_BAD, SMTP_HELO, 0 },
		{ "MAI FROM:<a@b>", SMTP_R_BAD, SMTP_HELO, 0 },
		{ "M\xc1IL FROM:<a@b>", SMTP_R_BAD, SMTP_HELO, 0 },
		{ "M@IL FROM:<a@b>", SMTP_R_BAD, SMTP_HELO, 0 },
		{ "mail FROM:<a@b>", SMTP_R_MAIL, SMTP_MAIL, 0 },
		{ "Rcpt TO:<c@d>", SMTP_R_RCPT, SMTP_RCPT, 1 },
		{ "nOoP", SMTP_R_NOOP, SMTP_RCPT, 0 },
		{ "rset", SMTP_R_RSET, SMTP_HELO, 0 },
		{ "qUiT", SMTP_R_QUIT, SMTP_DONE, 0 },
		{ NULL, 0, 0, 0 },
	};
	static const struct step d[] = {
		{ "data", SMTP_R_FINAL, SMTP_DONE, 0 },
		{ NULL, 0, 0, 0 },
	};

	run(0, s);
	run(0, d);
}

static void
order_rules(void)
{
	/* MAIL first, a second MAIL is bad, RCPT before MAIL records nothing. */
	static const struct step s1[] = {
		{ "RSET", SMTP_R_BAD, SMTP_GREET, 0 },
		{ "MAIL FROM:<a@b>", SMTP_R_MAIL, SMTP_MAIL, 0 },
		{ "MAIL FROM:<a@b>", SMTP_R_BAD, SMTP_MAIL, 0 },
		{ "RCPT TO:<c@d>", SMTP_R_RCPT, SMTP_RCPT, 1 },
		{ "HELO late", SMTP_R_BAD, SMTP_RCPT, 0 },
		{ "MAIL FROM:<x@y>", SMTP_R_BAD, SMTP_RCPT, 0 },
		{ "RSET", SMTP_R_RSET, SMTP_HELO, 0 },
		{ "RCPT TO:<c@d>", SMTP_R_RCPT, SMTP_RCPT, 0 },	/* no MAIL */
		{ "NOOP", SMTP_R_NOOP, SMTP_RCPT, 0 },
		{ "QUIT", SMTP_R_QUIT, SMTP_DONE, 0 },
		{ NULL, 0, 0, 0 },
	};
	/* Empty values record nothing; MAIL without a colon is empty. */
	static const struct step s2[] = {
		{ "RCPT TO:<c@d>", SMTP_R_RCPT, SMTP_RCPT, 0 },
		{ "RSET", SMTP_R_RSET, SMTP_HELO, 0 },
		{ "MAIL <a@b>", SMTP_R_MAIL, SMTP_MAIL, 0 },
		{ "RCPT TO:<c@d>", SMTP_R_RCPT, SMTP_RCPT, 0 },
		{ "RSET", SMTP_R_RSET, SMTP_HELO, 0 },
		{ "MAIL FROM:<a@b>", SMTP_R_MAIL, SMTP_MAIL, 0 },
		{ "RCPT TO:", SMTP_R_RCPT, SMTP_RCPT, 0 },
		{ "RCPT TO:<e@f>", SMTP_R_RCPT, SMTP_RCPT, 1 },
		{ NULL, 0, 0, 0 },
	};

	run(0, s1);
	run(0, s2);
}

/*
 * DATA before any RCPT is DATA, as in OpenBSD (its DATA test is reached
 * from every command state): greylisted clients get the final reply and
 * no tuple, blacklisted ones enter the data phase.
 */
static void
early_data(void)
{
	static const struct step grey_greet[] = {
		{ "DATA", SMTP_R_FINAL, SMTP_DONE, 0 },
		{ NULL, 0, 0, 0 },
	};
	static const struct step grey_helo[] = {
		{ "HELO a.example", SMTP_R_HELO, SMTP_HELO, 0 },
		{ "DATA", SMTP_R_FINAL, SMTP_DONE, 0 },
		{ NULL, 0, 0, 0 },
	};
	static const struct step grey_mail[] = {
		{ "HELO a.example", SMTP_R_HELO, SMTP_HELO, 0 },
		{ "MAIL FROM:<a@b>", SMTP_R_MAIL, SMTP_MAIL, 0 },
		{ "DATA", SMTP_R_FINAL, SMTP_DONE, 0 },
		{ NULL, 0, 0, 0 },
	};
	static const struct step black_helo[] = {
		{ "HELO a.example", SMTP_R_HELO, SMTP_HELO, 0 },
		{ "DATA", SMTP_R_DATA, SMTP_DATA, 0 },
		{ ".", SMTP_R_FINAL, SMTP_DONE, 0 },
		{ NULL, 0, 0, 0 },
	};

	run(0, grey_greet);
	run(0, grey_helo);
	run(0, grey_mail);
	run(1, black_helo);
}

/* EHLO without any MAIL/RCPT/DATA attempt; STARTTLS noted once. */
static void
ehlo_only(void)
{
	struct smtp_sess s;
	struct smtp_result r;

	smtp_init(&s, 0);
	T_ASSERT(!smtp_ehlo_only(&s));
	smtp_input(&s, "EHLO", 4, 0, &r);		/* 501: not answered */
	T_ASSERT(!smtp_ehlo_only(&s));
	smtp_input(&s, "EHLO a.example", 14, 0, &r);
	T_ASSERT(smtp_ehlo_only(&s));
	smtp_input(&s, "STARTTLS", 8, 0, &r);
	T_EQ_INT(r.reply, SMTP_R_BAD);
	T_EQ_INT(r.starttls, 1);
	smtp_input(&s, "starttls", 8, 0, &r);
	T_EQ_INT(r.starttls, 0);
	T_ASSERT(smtp_ehlo_only(&s));
	smtp_input(&s, "MAIL FROM:<a@b>", 15, 0, &r);
	T_ASSERT(!smtp_ehlo_only(&s));
	smtp_free(&s);

	smtp_init(&s, 0);
	smtp_input(&s, "HELO a.example", 14, 0, &r);
	T_ASSERT(!smtp_ehlo_only(&s));
	smtp_free(&s);

	smtp_init(&s, 0);
	smtp_input(&s, "EHLO a.example", 14, 0, &r);
	smtp_input(&s, "MAIL", 4, 0, &r);	/* even a failed try counts */
	smtp_input(&s, "MAIL FROM:<a@b>", 15, 0, &r);
	smtp_input(&s, "MAIL FROM:<a@b>", 15, 0, &r);
	T_ASSERT(!smtp_ehlo_only(&s));
	smtp_free(&s);
}

static void
exact_verbs(void)
{
	static const struct step s[] = {
		{ "HELOX a", SMTP_R_BAD, SMTP_GREET, 0 },
		{ "MAILX FROM:<a@b>", SMTP_R_BAD, SMTP_GREET, 0 },
		{ "NOOPS", SMTP_R_BAD, SMTP_GREET, 0 },
		{ "QUITE", SMTP_R_BAD, SMTP_GREET, 0 },
		{ "", SMTP_R_BAD, SMTP_GREET, 0 },
		{ "noop", SMTP_R_NOOP, SMTP_GREET, 0 },
		{ "NoOp extra words", SMTP_R_NOOP, SMTP_GREET, 0 },
		{ "mail from:<a@b>", SMTP_R_MAIL, SMTP_MAIL, 0 },
		{ "rcpt to:<c@d>", SMTP_R_RCPT, SMTP_RCPT, 1 },
		{ "DATA please", SMTP_R_BAD, SMTP_RCPT, 0 },
		{ "data  ", SMTP_R_FINAL, SMTP_DONE, 0 },
		{ NULL, 0, 0, 0 },
	};

	run(0, s);
}

static void
badcmd_limit(void)
{
	struct smtp_sess s;
	struct smtp_result r;
	int i;

	smtp_init(&s, 0);
	for (i = 1; i <= SMTP_MAX_BADCMDS; i++) {
		smtp_input(&s, "VRFY x", 6, 0, &r);
		if (r.reply != SMTP_R_BAD)
			t_fail("bad command %d got reply %d", i, r.reply);
	}
	/* Good commands do not reset the count. */
	smtp_input(&s, "NOOP", 4, 0, &r);
	T_EQ_INT(r.reply, SMTP_R_NOOP);
	smtp_input(&s, "VRFY x", 6, 0, &r);	/* the 21st */
	T_EQ_INT(r.reply, SMTP_R_FINAL);
	T_EQ_INT(s.state, SMTP_DONE);
	smtp_input(&s, "NOOP", 4, 0, &r);	/* nothing after the end */
	T_EQ_INT(r.reply, SMTP_R_NONE);
	smtp_free(&s);
}

static void
tuple_values(void)
{
	struct smtp_sess s;
	struct smtp_result r;
	const char *l;

	smtp_init(&s, 0);
	l = "HELO  client.example  trailing";
	smtp_input(&s, l, strlen(l), 0, &r);
	T_EQ_STR(s.helo, "client.example");
	l = "MAIL FROM:\t<Sender@Example.ORG> BODY=8BITMIME";
	smtp_input(&s, l, strlen(l), 0, &r);
	T_EQ_STR(s.mail, "<Sender@Example.ORG>");	/* case preserved */
	l = "RCPT TO:<Rcpt@Example.COM> NOTIFY=NEVER";
	smtp_input(&s, l, strlen(l), 0, &r);
	T_EQ_INT(r.tuple, 1);
	T_EQ_STR(r.rcpt, "<Rcpt@Example.COM>");
	smtp_free(&s);
}

static void
tuple_cap(void)
{
	struct smtp_sess s;
	struct smtp_result r;
	char l[64];
	int i, tuples = 0, capped = 0;

	smtp_init(&s, 0);
	smtp_input(&s, "MAIL FROM:<a@b>", 15, 0, &r);
	for (i = 0; i < SMTP_MAX_TUPLES + 50; i++) {
		int n = snprintf(l, sizeof(l), "RCPT TO:<u%d@d>", i);

		smtp_input(&s, l, (size_t)n, 0, &r);
		T_EQ_INT(r.reply, SMTP_R_RCPT);	/* the same answer */
		tuples += r.tuple;
		capped += r.tuple_capped;
	}
	T_EQ_INT(tuples, SMTP_MAX_TUPLES);
	T_EQ_INT(capped, 50);
	smtp_free(&s);
}

static void
nul_and_overlong(void)
{
	struct smtp_sess s;
	struct smtp_result r;

	smtp_init(&s, 0);
	smtp_input(&s, "NOOP\0x", 6, 0, &r);
	T_EQ_INT(r.reply, SMTP_R_BAD);
	smtp_input(&s, "HELO a\0b", 8, 0, &r);
	T_EQ_INT(r.reply, SMTP_R_BAD);
	T_ASSERT(s.helo == NULL);
	smtp_input(&s, "", 0, 1, &r);		/* an over-long line */
	T_EQ_INT(r.reply, SMTP_R_BAD);
	T_EQ_INT(s.badcmds, 3);
	smtp_free(&s);
}

static void
long_values_truncated(void)
{
	struct smtp_sess s;
	struct smtp_result r;
	char line[3000];

	memcpy(line, "MAIL FROM:<", 11);
	memset(line + 11, 'a', sizeof(line) - 11);
	smtp_init(&s, 0);
	smtp_input(&s, line, sizeof(line), 0, &r);
	T_EQ_INT(r.reply, SMTP_R_MAIL);
	T_EQ_INT(strlen(s.mail), 1023);		/* OpenBSD's MAX_MAIL - 1 */
	smtp_free(&s);
}

static void
blacklisted_data(void)
{
	static const struct step s[] = {
		{ "HELO spam.example", SMTP_R_HELO, SMTP_HELO, 0 },
		{ "MAIL FROM:<s@spam>", SMTP_R_MAIL, SMTP_MAIL, 0 },
		{ "RCPT TO:<v@victim>", SMTP_R_RCPT, SMTP_RCPT, 0 },
		{ "DATA", SMTP_R_DATA, SMTP_DATA, 0 },
		{ "Subject: buy", SMTP_R_NONE, SMTP_DATA, 0 },
		{ "HELO not a command here", SMTP_R_NONE, SMTP_DATA, 0 },
		{ "", SMTP_R_NONE, SMTP_DATA, 0 },
		{ "body", SMTP_R_NONE, SMTP_DATA, 0 },
		{ ".", SMTP_R_FINAL, SMTP_DONE, 0 },
		{ NULL, 0, 0, 0 },
	};

	run(1, s);
}

static void
data_ten_body_lines(void)
{
	struct smtp_sess s;
	struct smtp_result r;
	int i;

	smtp_init(&s, 1);
	smtp_input(&s, "RCPT TO:<a@b>", 13, 0, &r);
	smtp_input(&s, "DATA", 4, 0, &r);
	T_EQ_INT(r.data_begins, 1);
	smtp_input(&s, "From: x", 7, 0, &r);
	T_EQ_INT(r.header, 1);
	smtp_input(&s, "X-Other: y", 10, 0, &r);
	T_EQ_INT(r.header, 0);
	for (i = 0; i < 20; i++)	/* header lines do not count */
		smtp_input(&s, "Received: z", 11, 0, &r);
	T_EQ_INT(s.state, SMTP_DATA);
	smtp_input(&s, "", 0, 0, &r);
	for (i = 1; i < SMTP_BODY_LINES; i++) {
		smtp_input(&s, "line", 4, 0, &r);
		T_EQ_INT(r.reply, SMTP_R_NONE);
	}
	smtp_input(&s, "line", 4, 0, &r);	/* the 10th body line */
	T_EQ_INT(r.reply, SMTP_R_FINAL);
	smtp_free(&s);
}

static void
quit_in_data(void)
{
	struct smtp_sess s;
	struct smtp_result r;

	smtp_init(&s, 1);
	smtp_input(&s, "RCPT TO:<a@b>", 13, 0, &r);
	smtp_input(&s, "DATA", 4, 0, &r);
	smtp_input(&s, "quit", 4, 0, &r);
	T_EQ_INT(r.reply, SMTP_R_QUIT);
	T_EQ_INT(s.state, SMTP_DONE);
	smtp_free(&s);
}

static void
value_rule(void)
{
	char buf[16];

	T_EQ_INT(smtp_value(" FROM:  <a@b>  X=1", 18, buf, sizeof(buf)), 5);
	T_EQ_STR(buf, "<a@b>");
	T_EQ_INT(smtp_value(" FROM <a@b>", 11, buf, sizeof(buf)), 0);
	T_EQ_STR(buf, "");
	T_EQ_INT(smtp_value(":0123456789abcdefXYZ", 20, buf, sizeof(buf)), 15);
	T_EQ_STR(buf, "0123456789abcde");	/* truncated to the buffer */
}

/* A blacklisted client's final reply from its lists' raw messages (the
 * escapes, truncation and bounds are in t_sdl's replies cases). */
static void
listed_reply(void)
{
	const char *msgs[2] = { "Your address %A is in nixspam\\nSee "
	    "http://example.org/", "100%% \\\"sure\\\"" };
	const char *none[1] = { "\\n" };
	char buf[SMTP_LISTED_REPLY_MAX];
	struct addr a;

	T_EQ_INT(addr_parse("2001:db8::7", &a), 0);
	T_EQ_INT(smtp_listed_reply(buf, sizeof(buf), 450, msgs, 2, &a),
	    strlen(buf));
	T_EQ_STR(buf, "450-Your address 2001:db8::7 is in nixspam\r\n"
	    "450-See http://example.org/\r\n450 100% \"sure\"\r\n");
	smtp_listed_reply(buf, sizeof(buf), 550, none, 1, &a);
	T_EQ_STR(buf, "550 Your address 2001:db8::7 is listed here\r\n");
	T_EQ_INT(smtp_listed_reply(buf, 7, 450, msgs, 2, &a), 0);
	T_EQ_STR(buf, "");
}

/* Feed one line with TLS offered (or not); the reply. */
static enum smtp_reply
tls_line(struct smtp_sess *s, int offer, const char *line,
    struct smtp_result *r)
{
	s->tls_offer = offer ? 1 : 0;
	smtp_input(s, line, strlen(line), 0, r);
	return r->reply;
}

/* OpenBSD's STARTTLS rules: offered at EHLO, accepted right after it. */
static void
starttls_offered(void)
{
	struct smtp_sess s;
	struct smtp_result r;
	char *e;

	e = smtp_ehlo_tls("mx.example");
	T_EQ_STR(e, "250-mx.example\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n"
	    "250 STARTTLS\r\n");
	free(e);
	T_EQ_STR(smtp_reply_text(SMTP_R_STARTTLS),
	    "220 glad you want to burn more CPU cycles on your spam\r\n");

	smtp_init(&s, 0);
	T_EQ_INT(tls_line(&s, 1, "EHLO a.example", &r), SMTP_R_EHLO_TLS);
	T_EQ_INT(tls_line(&s, 1, "STARTTLS", &r), SMTP_R_STARTTLS);
	T_EQ_INT(r.tls_begin, 1);
	T_EQ_INT(r.starttls, 0);
	/* Started over: no HELO, no MAIL; a greeting is needed again. */
	T_EQ_INT(s.state, SMTP_GREET);
	T_ASSERT(s.helo == NULL && s.mail == NULL);
	T_ASSERT(s.tls);
	/* Inside TLS: the one-line EHLO, and no second STARTTLS. */
	T_EQ_INT(tls_line(&s, 1, "EHLO b.example", &r), SMTP_R_HELO);
	T_EQ_STR(s.helo, "b.example");
	T_EQ_INT(tls_line(&s, 1, "STARTTLS", &r), SMTP_R_BAD);
	T_EQ_INT(r.tls_begin, 0);
	T_EQ_INT(r.starttls, 0);
	T_EQ_INT(tls_line(&s, 1, "MAIL FROM:<a@b.example>", &r), SMTP_R_MAIL);
	T_EQ_INT(tls_line(&s, 1, "RCPT TO:<c@d.example>", &r), SMTP_R_RCPT);
	T_EQ_INT(r.tuple, 1);
	T_EQ_STR(s.helo, "b.example");
	T_EQ_INT(tls_line(&s, 1, "DATA", &r), SMTP_R_FINAL);
	smtp_free(&s);

	/* Case does not matter; trailing blanks are not an argument. */
	smtp_init(&s, 0);
	T_EQ_INT(tls_line(&s, 1, "ehlo a.example", &r), SMTP_R_EHLO_TLS);
	T_EQ_INT(tls_line(&s, 1, "StartTLS  ", &r), SMTP_R_STARTTLS);
	smtp_free(&s);
}

/* Where STARTTLS is not offered, or not right after the offer. */
static void
starttls_refused(void)
{
	struct smtp_sess s;
	struct smtp_result r;

	/* Not offered by the caller: the plain EHLO, STARTTLS is bad. */
	smtp_init(&s, 0);
	T_EQ_INT(tls_line(&s, 0, "EHLO a.example", &r), SMTP_R_HELO);
	T_EQ_INT(tls_line(&s, 0, "STARTTLS", &r), SMTP_R_BAD);
	T_EQ_INT(r.starttls, 1);
	smtp_free(&s);

	/* A blacklisted client is never offered TLS. */
	smtp_init(&s, 1);
	T_EQ_INT(tls_line(&s, 1, "EHLO a.example", &r), SMTP_R_HELO);
	T_EQ_INT(tls_line(&s, 1, "STARTTLS", &r), SMTP_R_BAD);
	smtp_free(&s);

	/* HELO does not offer it. */
	smtp_init(&s, 0);
	T_EQ_INT(tls_line(&s, 1, "HELO a.example", &r), SMTP_R_HELO);
	T_EQ_INT(tls_line(&s, 1, "STARTTLS", &r), SMTP_R_BAD);
	smtp_free(&s);

	/* Any other command in between: processed, and the offer is gone. */
	smtp_init(&s, 0);
	T_EQ_INT(tls_line(&s, 1, "EHLO a.example", &r), SMTP_R_EHLO_TLS);
	T_EQ_INT(tls_line(&s, 1, "NOOP", &r), SMTP_R_NOOP);
	T_EQ_INT(tls_line(&s, 1, "STARTTLS", &r), SMTP_R_BAD);
	T_EQ_INT(r.tls_begin, 0);
	T_ASSERT(!s.tls);
	T_EQ_STR(s.helo, "a.example");
	smtp_free(&s);

	/* MAIL after the offer: STARTTLS stays optional. */
	smtp_init(&s, 0);
	T_EQ_INT(tls_line(&s, 1, "EHLO a.example", &r), SMTP_R_EHLO_TLS);
	T_EQ_INT(tls_line(&s, 1, "MAIL FROM:<a@b.example>", &r),
	    SMTP_R_MAIL);
	T_EQ_INT(tls_line(&s, 1, "RCPT TO:<c@d.example>", &r), SMTP_R_RCPT);
	T_EQ_INT(r.tuple, 1);
	smtp_free(&s);

	/* An argument, a NUL line, or an over-long line use the offer up. */
	smtp_init(&s, 0);
	T_EQ_INT(tls_line(&s, 1, "EHLO a.example", &r), SMTP_R_EHLO_TLS);
	T_EQ_INT(tls_line(&s, 1, "STARTTLS now", &r), SMTP_R_BAD);
	T_EQ_INT(tls_line(&s, 1, "STARTTLS", &r), SMTP_R_BAD);
	smtp_free(&s);
	smtp_init(&s, 0);
	T_EQ_INT(tls_line(&s, 1, "EHLO a.example", &r), SMTP_R_EHLO_TLS);
	s.tls_offer = 1;
	smtp_input(&s, "", 0, 1, &r);		/* over-long */
	T_EQ_INT(r.reply, SMTP_R_BAD);
	T_EQ_INT(tls_line(&s, 1, "STARTTLS", &r), SMTP_R_BAD);
	smtp_free(&s);

	/* A second EHLO before STARTTLS is a bad command (one greeting). */
	smtp_init(&s, 0);
	T_EQ_INT(tls_line(&s, 1, "EHLO a.example", &r), SMTP_R_EHLO_TLS);
	T_EQ_INT(tls_line(&s, 1, "EHLO a.example", &r), SMTP_R_BAD);
	T_EQ_INT(tls_line(&s, 1, "STARTTLS", &r), SMTP_R_BAD);
	smtp_free(&s);
}

const struct t_case t_cases[] = {
	T_CASE(reply_texts),
	T_CASE(built_replies),
	T_CASE(greylisted_dialogue),
	T_CASE(helo_rules),
	T_CASE(verb_case),
	T_CASE(order_rules),
	T_CASE(early_data),
	T_CASE(ehlo_only),
	T_CASE(exact_verbs),
	T_CASE(badcmd_limit),
	T_CASE(tuple_values),
	T_CASE(tuple_cap),
	T_CASE(nul_and_overlong),
	T_CASE(long_values_truncated),
	T_CASE(blacklisted_data),
	T_CASE(data_ten_body_lines),
	T_CASE(quit_in_data),
	T_CASE(value_rule),
	T_CASE(listed_reply),
	T_CASE(starttls_offered),
	T_CASE(starttls_refused),
	{ NULL, NULL },
};
