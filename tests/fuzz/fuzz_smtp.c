/*
 * fuzz_smtp.c: libFuzzer harness for what a hostile SMTP client reaches
 * first: the line assembly of spamd/con.c and the state machine of
 * spamd/smtp.c (smtp_input).
 *
 * Input: byte 0 chooses the session (bit 0: a blacklisted client, which
 * gets 354 and the DATA phase; bit 1: STARTTLS may be offered, as con.c
 * says before each line when -C is given and a slot is free); the rest is the byte stream the client
 * sends. Lines are cut exactly as con.c's next_line() cuts them: a LF
 * within the first SMTP_LINE_MAX bytes ends a line and every CR before it
 * is dropped; SMTP_LINE_MAX bytes without a LF are one over-long line
 * (smtp_input gets overlong = 1) and everything up to the next LF is then
 * thrown away; NUL bytes are passed on; a partial line at the end is what
 * the client left unsent. The dialogue stops where con.c closes: once the
 * state is DONE.
 *
 * Invariants checked after every line:
 *	the state is a named one and r.from/r.to say what happened;
 *	every reply is a known one, with its fixed text (or one con.c builds:
 *	QUIT, FINAL), and no reply is missing outside DATA;
 *	DONE is entered only with QUIT or FINAL, and gives no reply after;
 *	a tuple has non-empty MAIL and RCPT values, no blank, NUL or LF in any
 *	field, fits the IPC message and the database key (encode, decode and
 *	compare), never comes from a blacklisted client, and there are at
 *	most SMTP_MAX_TUPLES of them, the cap being reported once reached;
 *	more than SMTP_MAX_BADCMDS bad commands end the session;
 *	354 (data_begins) only for a blacklisted client;
 *	TLS: the STARTTLS offer only at EHLO, when offered, never to a
 *	blacklisted client nor inside TLS; STARTTLS accepted only as the
 *	command right after the offer, at most once, and the session then
 *	starts over (GREET, no HELO, no MAIL) inside TLS; tls_begin with
 *	exactly that reply.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/addr.h"
#include "common/gdata.h"
#include "spamd/proto.h"
#include "spamd/smtp.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init("fuzz-smtp");
	return 0;
}

/* A value of a tuple: what the database key and the IPC message need. */
static void
check_field(const char *what, const char *v, int nonempty)
{
	size_t n;

	FUZZ_CHECK(v != NULL, "%s is NULL", what);
	n = strlen(v);
	FUZZ_CHECK(!nonempty || n > 0, "%s is empty", what);
	FUZZ_CHECK(n <= GD_FIELD_MAX, "%s has %zu bytes", what, n);
	FUZZ_CHECK(strpbrk(v, " \t\n") == NULL, "%s \"%s\" holds a blank or "
	    "LF", what, v);
}

/* The tuple must survive the trip con.c -> proto -> grey.c -> gdata. */
static void
check_tuple(const struct smtp_sess *s, const struct smtp_result *r)
{
	uint8_t msg[PROTO_MSG_MAX];
	struct proto_tuple t;
	struct gd_tuple gt;
	struct addr ip;
	char key[GD_KEY_MAX];
	const char *helo = s->helo != NULL ? s->helo : "";
	size_t n;

	FUZZ_CHECK(!s->black, "a blacklisted client recorded a tuple");
	FUZZ_CHECK(r->rcpt == r->rcptbuf, "rcpt does not point at rcptbuf");
	check_field("MAIL value", s->mail, 1);
	check_field("RCPT value", r->rcpt, 1);
	check_field("HELO value", helo, 0);
	addr_parse("192.0.2.1", &ip);
	n = proto_enc_tuple(msg, sizeof(msg), &ip, 0, helo, s->mail, r->rcpt);
	FUZZ_CHECK(n > 0, "tuple does not fit a PROTO message");
	FUZZ_CHECK(proto_dec_tuple(msg, n, &t) == 0, "tuple does not decode");
	FUZZ_CHECK(strcmp(t.helo, helo) == 0 && strcmp(t.from, s->mail) == 0 &&
	    strcmp(t.to, r->rcpt) == 0, "tuple changed in transit");
	gt.ip = "192.0.2.1";
	gt.helo = t.helo;
	gt.from = t.from;
	gt.to = t.to;
	FUZZ_CHECK(gd_key_tuple(key, sizeof(key), &gt) > 0,
	    "tuple makes no database key");
}

static void
check_reply(enum smtp_reply rep)
{
	const char *txt;
	size_t n;

	FUZZ_CHECK(rep >= SMTP_R_NONE && rep <= SMTP_R_FINAL,
	    "unknown reply %d", (int)rep);
	if (rep == SMTP_R_NONE || rep == SMTP_R_QUIT || rep == SMTP_R_FINAL ||
	    rep == SMTP_R_EHLO_TLS) {
		FUZZ_CHECK(smtp_reply_text(rep) == NULL, "reply %d has a fixed "
		    "text but con.c builds it", (int)rep);
		return;
	}
	txt = smtp_reply_text(rep);
	FUZZ_CHECK(txt != NULL, "reply %d has no text", (int)rep);
	n = strlen(txt);
	FUZZ_CHECK(n >= 6 && txt[0] >= '2' && txt[0] <= '5' && txt[3] == ' ' &&
	    strcmp(txt + n - 2, "\r\n") == 0 &&
	    memchr(txt, '\n', n - 1) == NULL, "reply text \"%s\" is not one "
	    "SMTP line", txt);
}

struct run {
	struct smtp_sess	 s;
	unsigned		 tuples, lines;
	int			 capped;
	int			 offer;		/* TLS may be offered */
	int			 offered;	/* the last reply offered it */
	int			 began;		/* STARTTLS accepted */
};

/* The STARTTLS rules, after one line. */
static void
check_tls(struct run *u, const struct smtp_result *r, int was_tls)
{
	if (r->reply == SMTP_R_EHLO_TLS)
		FUZZ_CHECK(u->offer && !u->s.black && !was_tls &&
		    u->s.state == SMTP_HELO, "STARTTLS offered where it may "
		    "not be (offer %d black %d tls %d)", u->offer, u->s.black,
		    was_tls);
	FUZZ_CHECK((r->reply == SMTP_R_STARTTLS) == (r->tls_begin != 0),
	    "tls_begin %d with reply %d", r->tls_begin, (int)r->reply);
	if (r->tls_begin) {
		FUZZ_CHECK(u->offered, "STARTTLS accepted without the offer "
		    "right before it");
		FUZZ_CHECK(!u->began, "STARTTLS accepted twice");
		FUZZ_CHECK(u->s.state == SMTP_GREET && u->s.helo == NULL &&
		    u->s.mail == NULL && u->s.tls, "the session did not "
		    "start over after STARTTLS");
		u->began = 1;
	}
	FUZZ_CHECK(u->s.tls == (unsigned)u->began, "in TLS %u, began %d",
	    u->s.tls, u->began);
	u->offered = r->reply == SMTP_R_EHLO_TLS;
}

/* Feed one line; 0 while the session goes on, 1 once it is DONE. */
static int
feed(struct run *u, const char *line, size_t len, int overlong)
{
	struct smtp_result r;
	enum smtp_state before = (enum smtp_state)u->s.state;
	uint8_t bad_before = u->s.badcmds;

	int was_tls = u->s.tls;

	u->lines++;
	u->s.tls_offer = (unsigned)u->offer;
	smtp_input(&u->s, line, len, overlong, &r);
	check_tls(u, &r, was_tls);
	FUZZ_CHECK(u->s.state <= SMTP_DONE, "state %u", u->s.state);
	FUZZ_CHECK(r.from == before, "r.from %d, was %d", (int)r.from,
	    (int)before);
	FUZZ_CHECK(r.to == (enum smtp_state)u->s.state, "r.to %d, state %d",
	    (int)r.to, (int)u->s.state);
	FUZZ_CHECK(strcmp(smtp_state_name(r.to), "?") != 0, "unnamed state");
	check_reply(r.reply);
	if (r.reply == SMTP_R_NONE)
		FUZZ_CHECK(before == SMTP_DATA, "no reply in state %s",
		    smtp_state_name(before));
	if (before != SMTP_DONE && u->s.state == SMTP_DONE)
		FUZZ_CHECK(r.reply == SMTP_R_QUIT || r.reply == SMTP_R_FINAL,
		    "DONE with reply %d", (int)r.reply);
	if (u->s.state == SMTP_DATA)
		FUZZ_CHECK(u->s.black, "DATA phase for a greylisted client");
	if (r.data_begins)
		FUZZ_CHECK(u->s.black && r.reply == SMTP_R_DATA,
		    "data_begins without 354 to a blacklisted client");
	if ((overlong || memchr(line, '\0', len) != NULL) &&
	    before != SMTP_DATA)
		FUZZ_CHECK(r.reply == SMTP_R_BAD || r.reply == SMTP_R_FINAL,
		    "an over-long or NUL line got reply %d", (int)r.reply);
	if (r.reply == SMTP_R_BAD)
		FUZZ_CHECK(u->s.badcmds == bad_before + 1 &&
		    u->s.badcmds <= SMTP_MAX_BADCMDS, "500 with badcmds %u",
		    u->s.badcmds);
	if (u->s.badcmds > SMTP_MAX_BADCMDS)
		FUZZ_CHECK(u->s.state == SMTP_DONE, "%u bad commands and not "
		    "done", u->s.badcmds);
	if (r.tuple) {
		FUZZ_CHECK(r.reply == SMTP_R_RCPT, "tuple without 250 to RCPT");
		FUZZ_CHECK(!r.tuple_capped, "tuple and capped at once");
		check_tuple(&u->s, &r);
		u->tuples++;
		FUZZ_CHECK(u->tuples <= SMTP_MAX_TUPLES && u->tuples ==
		    u->s.ntuples, "%u tuples, session says %u", u->tuples,
		    u->s.ntuples);
	}
	if (r.tuple_capped) {
		FUZZ_CHECK(u->tuples == SMTP_MAX_TUPLES, "capped after %u "
		    "tuples", u->tuples);
		u->capped = 1;
	}
	if (r.header)
		FUZZ_CHECK(before == SMTP_DATA, "header outside DATA");
	if (u->s.state == SMTP_DONE) {
		/* con.c closes now; the machine must stay silent anyway */
		smtp_input(&u->s, "QUIT", 4, 0, &r);
		FUZZ_CHECK(r.reply == SMTP_R_NONE && r.to == SMTP_DONE &&
		    !r.tuple, "input after DONE was answered");
		return 1;
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run u;
	const char *p, *end, *lf;
	size_t len, avail;
	int discard = 0;

	if (size < 1)
		return 0;
	memset(&u, 0, sizeof(u));
	smtp_init(&u.s, data[0] & 1);
	u.offer = (data[0] & 2) != 0;
	p = (const char *)data + 1;
	end = (const char *)data + size;
	while (p < end) {
		avail = (size_t)(end - p);
		if (discard) {
			/* dropping the rest of an over-long line */
			if ((lf = memchr(p, '\n', avail)) == NULL)
				break;
			p = lf + 1;
			discard = 0;
			continue;
		}
		lf = memchr(p, '\n', avail < SMTP_LINE_MAX ? avail :
		    SMTP_LINE_MAX);
		if (lf == NULL) {
			if (avail < SMTP_LINE_MAX)
				break;		/* a partial line: more to come */
			if (feed(&u, "", 0, 1))
				break;
			p += SMTP_LINE_MAX;
			discard = 1;
			continue;
		}
		len = (size_t)(lf - p);
		while (len > 0 && p[len - 1] == '\r')
			len--;
		if (feed(&u, p, len, 0))
			break;
		p = lf + 1;
	}
	FUZZ_CHECK(u.capped || u.s.ntuples < SMTP_MAX_TUPLES || u.tuples ==
	    SMTP_MAX_TUPLES, "tuple count %u", u.tuples);
	smtp_free(&u.s);
	FUZZ_CHECK(u.s.helo == NULL && u.s.mail == NULL, "smtp_free left "
	    "values behind");
	return 0;
}
