/*
 * smtp.c: the SMTP dialogue of spamd as named states, one transition
 * function and a command table (see smtp.h). Reply texts are OpenBSD's,
 * byte for byte (spec/openbsd-spamd.md §4.1).
 *
 * Order rules, as in OpenBSD: HELO is optional; MAIL may come first;
 * RCPT before MAIL is accepted but records nothing; a second HELO, or a
 * second MAIL before RSET, is a bad command; every RCPT with non-empty
 * MAIL and RCPT values records one tuple; DATA is honoured in every
 * command state, even before MAIL or RCPT (a greylisted client gets the
 * final reply, a blacklisted one the data phase). Differences:
 * verbs match exactly instead of by prefix, each pipelined line is
 * answered instead of dropped, and RSET forgets MAIL (OpenBSD keeps it).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/addr.h"
#include "common/compat.h"
#include "common/gdata.h"
#include "spamd/smtp.h"

static const char *const reply_text[] = {
	[SMTP_R_NONE] = NULL,
	[SMTP_R_HELO] =
	    "250 Hello, spam sender. Pleased to be wasting your time.\r\n",
	[SMTP_R_HELO_501] = "501 helo requires domain name.\r\n",
	[SMTP_R_MAIL] = "250 You are about to try to deliver spam. "
	    "Your time will be spent, for nothing.\r\n",
	[SMTP_R_RCPT] =
	    "250 This is hurting you more than it is hurting me.\r\n",
	[SMTP_R_DATA] =
	    "354 Enter spam, end with \".\" on a line by itself\r\n",
	[SMTP_R_NOOP] = "250 2.0.0 OK I did nothing\r\n",
	[SMTP_R_RSET] = "250 Ok to start over.\r\n",
	[SMTP_R_BAD] = "500 5.5.1 Command unrecognized\r\n",
	[SMTP_R_QUIT] = NULL,
	[SMTP_R_EHLO_TLS] = NULL,
	[SMTP_R_STARTTLS] =
	    "220 glad you want to burn more CPU cycles on your spam\r\n",
	[SMTP_R_FINAL] = NULL,
};

static const char *const state_name[] = {
	[SMTP_GREET] = "GREET",
	[SMTP_HELO] = "HELO",
	[SMTP_MAIL] = "MAIL",
	[SMTP_RCPT] = "RCPT",
	[SMTP_DATA] = "DATA",
	[SMTP_DONE] = "DONE",
};

const char *
smtp_reply_text(enum smtp_reply r)
{
	if ((size_t)r >= sizeof(reply_text) / sizeof(reply_text[0]))
		return NULL;
	return reply_text[r];
}

/*
 * OpenBSD's date format in the banner: "Fri Dec  4 00:49:14 2026". The
 * last banner is kept: every client of the same second gets a copy, which
 * spares localtime_r, strftime and the formatting (a third of the SMTP
 * process's work per session, callgrind says).
 */
char *
smtp_banner(const char *host, const char *name, time_t now)
{
	static char *last;
	static size_t lastlen;
	static time_t last_now;
	static const char *last_host, *last_name;
	char when[64], *s;
	struct tm tm;

	if (last == NULL || now != last_now || host != last_host ||
	    name != last_name) {
		if (localtime_r(&now, &tm) == NULL ||
		    strftime(when, sizeof(when), "%a %b %e %H:%M:%S %Y",
		    &tm) == 0)
			strlcpy(when, "?", sizeof(when));
		free(last);
		if (asprintf(&last, "220 %s ESMTP %s; %s\r\n", host, name,
		    when) == -1) {
			last = NULL;
			return NULL;
		}
		lastlen = strlen(last);
		last_now = now;
		last_host = host;
		last_name = name;
	}
	if ((s = malloc(lastlen + 1)) == NULL)
		return NULL;
	return memcpy(s, last, lastlen + 1);
}

char *
smtp_quit_reply(const char *host)
{
	char *s;

	if (asprintf(&s, "221 %s\r\n", host) == -1)
		return NULL;
	return s;
}

const char *
smtp_tempfail(void)
{
	return "451 Temporary failure, please try again later.\r\n";
}

const char *
smtp_state_name(enum smtp_state st)
{
	if ((size_t)st >= sizeof(state_name) / sizeof(state_name[0]))
		return "?";
	return state_name[st];
}

void
smtp_init(struct smtp_sess *s, int black)
{
	memset(s, 0, sizeof(*s));
	s->state = SMTP_GREET;
	s->black = black ? 1 : 0;
}

void
smtp_free(struct smtp_sess *s)
{
	free(s->helo);
	free(s->mail);
	s->helo = s->mail = NULL;
}

/* Copy the first whitespace-delimited token of p[0..len) into buf. */
static size_t
token(const char *p, size_t len, char *buf, size_t bufsz)
{
	size_t i = 0, n = 0;

	while (i < len && (p[i] == ' ' || p[i] == '\t'))
		i++;
	while (i < len && p[i] != ' ' && p[i] != '\t') {
		if (n + 1 < bufsz)
			buf[n++] = p[i];
		i++;
	}
	if (bufsz > 0)
		buf[n] = '\0';
	return n;
}

size_t
smtp_value(const char *arg, size_t len, char *buf, size_t bufsz)
{
	const char *colon = memchr(arg, ':', len);

	if (colon == NULL) {
		if (bufsz > 0)
			buf[0] = '\0';
		return 0;
	}
	colon++;
	return token(colon, len - (size_t)(colon - arg), buf, bufsz);
}

static char *
dupvalue(const char *v)
{
	/* Allocation failure only loses a tuple; the dialogue goes on. */
	return strdup(v);
}

/* A command handler gets the text after the verb. */
typedef void (*smtp_handler)(struct smtp_sess *, const char *, size_t,
    struct smtp_result *);

static void
badcmd(struct smtp_sess *s, struct smtp_result *r)
{
	if (++s->badcmds > SMTP_MAX_BADCMDS) {
		s->state = SMTP_DONE;
		r->reply = SMTP_R_FINAL;
	} else
		r->reply = SMTP_R_BAD;
}

static void
cmd_helo(struct smtp_sess *s, const char *arg, size_t len,
    struct smtp_result *r)
{
	char v[GD_FIELD_MAX + 1];

	if (s->state != SMTP_GREET) {
		badcmd(s, r);
		return;
	}
	if (token(arg, len, v, sizeof(v)) == 0) {
		r->reply = SMTP_R_HELO_501;	/* stay before HELO */
		return;
	}
	free(s->helo);
	s->helo = dupvalue(v);
	s->state = SMTP_HELO;
	r->reply = SMTP_R_HELO;
}

static void
cmd_ehlo(struct smtp_sess *s, const char *arg, size_t len,
    struct smtp_result *r)
{
	cmd_helo(s, arg, len, r);
	if (r->reply != SMTP_R_HELO)
		return;
	s->ehlo = 1;
	if (s->tls_offer && !s->tls && !s->black) {
		r->reply = SMTP_R_EHLO_TLS;
		s->tls_offered = 1;
	}
}

/*
 * STARTTLS right after the EHLO that offered it: everything said before
 * is forgotten and the client must greet again inside TLS.
 */
static void
cmd_starttls(struct smtp_sess *s, const char *arg, size_t len, int offered,
    struct smtp_result *r)
{
	(void)arg;
	if (!offered || len != 0) {
		/* Not offered here (no TLS yet): a bad command, noted once. */
		if (!s->tls && !s->starttls) {
			s->starttls = 1;
			r->starttls = 1;
		}
		badcmd(s, r);
		return;
	}
	s->starttls = 1;
	free(s->helo);
	free(s->mail);
	s->helo = s->mail = NULL;
	s->state = SMTP_GREET;
	s->tls = 1;
	r->reply = SMTP_R_STARTTLS;
	r->tls_begin = 1;
}

static void
cmd_mail(struct smtp_sess *s, const char *arg, size_t len,
    struct smtp_result *r)
{
	char v[GD_FIELD_MAX + 1];

	if (s->state != SMTP_GREET && s->state != SMTP_HELO) {
		badcmd(s, r);
		return;
	}
	smtp_value(arg, len, v, sizeof(v));
	free(s->mail);
	s->mail = dupvalue(v);
	s->state = SMTP_MAIL;
	r->reply = SMTP_R_MAIL;
}

static void
cmd_rcpt(struct smtp_sess *s, const char *arg, size_t len,
    struct smtp_result *r)
{
	if (s->state == SMTP_DATA || s->state == SMTP_DONE) {
		badcmd(s, r);
		return;
	}
	smtp_value(arg, len, r->rcptbuf, sizeof(r->rcptbuf));
	if (s->mail != NULL && s->mail[0] != '\0' && r->rcptbuf[0] != '\0' &&
	    !s->black) {
		if (s->ntuples < SMTP_MAX_TUPLES) {
			s->ntuples++;
			r->tuple = 1;
			r->rcpt = r->rcptbuf;
		} else
			r->tuple_capped = 1;
	}
	s->state = SMTP_RCPT;
	r->reply = SMTP_R_RCPT;
}

static void
cmd_data(struct smtp_sess *s, const char *arg, size_t len,
    struct smtp_result *r)
{
	(void)arg;
	if (len != 0) {
		badcmd(s, r);
		return;
	}
	if (s->black) {
		s->state = SMTP_DATA;
		s->inbody = 0;
		s->bodylines = 0;
		r->reply = SMTP_R_DATA;
		r->data_begins = 1;
	} else {
		s->state = SMTP_DONE;
		r->reply = SMTP_R_FINAL;
	}
}

static void
cmd_rset(struct smtp_sess *s, const char *arg, size_t len,
    struct smtp_result *r)
{
	(void)arg;
	(void)len;
	if (s->state == SMTP_GREET) {
		badcmd(s, r);
		return;
	}
	free(s->mail);
	s->mail = NULL;
	s->state = SMTP_HELO;
	r->reply = SMTP_R_RSET;
}

static void
cmd_noop(struct smtp_sess *s, const char *arg, size_t len,
    struct smtp_result *r)
{
	(void)s;
	(void)arg;
	(void)len;
	r->reply = SMTP_R_NOOP;
}

static void
cmd_quit(struct smtp_sess *s, const char *arg, size_t len,
    struct smtp_result *r)
{
	(void)arg;
	(void)len;
	s->state = SMTP_DONE;
	r->reply = SMTP_R_QUIT;
}

/* Every verb here has four letters (STARTTLS is looked for on its own). */
static const struct {
	char		 verb[5];
	smtp_handler	 fn;
} commands[] = {
	{ "HELO", cmd_helo },
	{ "EHLO", cmd_ehlo },
	{ "MAIL", cmd_mail },
	{ "RCPT", cmd_rcpt },
	{ "DATA", cmd_data },
	{ "RSET", cmd_rset },
	{ "NOOP", cmd_noop },
	{ "QUIT", cmd_quit },
};

/* Is line[0..len) the line "word" (any case), ignoring trailing blanks? */
static int
is_word(const char *line, size_t len, const char *word)
{
	size_t n = strlen(word);

	while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	return len == n && strncasecmp(line, word, n) == 0;
}

static int
header_of_interest(const char *line, size_t len)
{
	static const char *const h[] = { "Subject:", "From:", "To:" };
	size_t i;

	for (i = 0; i < sizeof(h) / sizeof(h[0]); i++)
		if (len >= strlen(h[i]) &&
		    strncasecmp(line, h[i], strlen(h[i])) == 0)
			return 1;
	return 0;
}

/*
 * A message line from a blacklisted client. OpenBSD answers at the "."
 * line or after SMTP_BODY_LINES lines past the empty line that ends the
 * headers, whichever comes first; QUIT still ends the session.
 */
static void
data_line(struct smtp_sess *s, const char *line, size_t len, int overlong,
    struct smtp_result *r)
{
	r->reply = SMTP_R_NONE;
	if (!overlong && is_word(line, len, ".")) {
		s->state = SMTP_DONE;
		r->reply = SMTP_R_FINAL;
		return;
	}
	if (!overlong && is_word(line, len, "QUIT")) {
		s->state = SMTP_DONE;
		r->reply = SMTP_R_QUIT;
		return;
	}
	if (!s->inbody) {
		if (len == 0)
			s->inbody = 1;
		else if (!overlong)
			r->header = header_of_interest(line, len);
		return;
	}
	if (++s->bodylines >= SMTP_BODY_LINES) {
		s->state = SMTP_DONE;
		r->reply = SMTP_R_FINAL;
	}
}

void
smtp_input(struct smtp_sess *s, const char *line, size_t len, int overlong,
    struct smtp_result *r)
{
	size_t i, vlen, alen;
	int offered = s->tls_offered;
	char up[4];

	memset(r, 0, offsetof(struct smtp_result, rcptbuf));
	r->rcptbuf[0] = '\0';
	r->from = (enum smtp_state)s->state;
	s->tls_offered = 0;	/* only for the very next command */
	if (s->state == SMTP_DONE) {
		r->reply = SMTP_R_NONE;
		r->to = SMTP_DONE;
		return;
	}
	if (s->state == SMTP_DATA) {
		data_line(s, line, len, overlong, r);
		r->to = (enum smtp_state)s->state;
		return;
	}
	if (overlong || memchr(line, '\0', len) != NULL) {
		badcmd(s, r);
		r->to = (enum smtp_state)s->state;
		return;
	}
	for (vlen = 0; vlen < len && line[vlen] != ' ' && line[vlen] != '\t';
	    vlen++)
		;
	alen = len - vlen;
	while (alen > 0 && (line[vlen + alen - 1] == ' ' ||
	    line[vlen + alen - 1] == '\t'))
		alen--;
	if (vlen == 8 && strncasecmp(line, "STARTTLS", 8) == 0) {
		cmd_starttls(s, line + vlen, alen, offered, r);
		r->to = (enum smtp_state)s->state;
		return;
	}
	/*
	 * The verb in capitals once, then a four-byte compare per entry
	 * (a strncasecmp per entry was a twentieth of the instructions
	 * of a greylisted session).
	 */
	for (i = 0; vlen == 4 && i < 4; i++)
		up[i] = line[i] >= 'a' && line[i] <= 'z' ?
		    (char)(line[i] - 'a' + 'A') : line[i];
	for (i = 0; vlen == 4 && i < sizeof(commands) / sizeof(commands[0]);
	    i++) {
		if (memcmp(up, commands[i].verb, 4) == 0) {
			const char *arg = line + vlen;

			/* Trailing blanks are not an argument ("DATA "). */
			if (commands[i].fn == cmd_mail ||
			    commands[i].fn == cmd_rcpt ||
			    commands[i].fn == cmd_data)
				s->envelope = 1;
			commands[i].fn(s, arg, alen, r);
			r->to = (enum smtp_state)s->state;
			return;
		}
	}
	badcmd(s, r);
	r->to = (enum smtp_state)s->state;
}

int
smtp_ehlo_only(const struct smtp_sess *s)
{
	return s->ehlo && !s->envelope;
}

char *
smtp_ehlo_tls(const char *host)
{
	char *s;

	if (asprintf(&s, "250-%s\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n"
	    "250 STARTTLS\r\n", host) == -1)
		return NULL;
	return s;
}

/*
 * The reply is assembled line by line straight into the caller's buffer.
 * Every line is first written as a continuation line ("450-text"); the
 * last one written gets its '-' turned into ' ' at the end, so a reply cut
 * short for space is still a well-formed SMTP reply.
 */
struct reply {
	char		*buf;
	size_t		 cap;		/* usable bytes, without the NUL */
	size_t		 len;		/* bytes of complete lines */
	size_t		 last;		/* offset of the last line's separator */
	int		 lines;
	int		 full;		/* a line did not fit: stop */
	char		 code[4];
	char		 text[SMTP_OUT_LINE_MAX];
	size_t		 tlen, tmax;
	int		 cut;		/* text of this line was cut */
};

static void
reply_putc(struct reply *r, unsigned char c)
{
	if (r->cut)
		return;
	if (r->tlen >= r->tmax) {
		/* do not leave half a UTF-8 sequence behind */
		if ((c & 0xc0) == 0x80) {
			while (r->tlen > 0 &&
			    ((unsigned char)r->text[r->tlen - 1] & 0xc0) == 0x80)
				r->tlen--;
			if (r->tlen > 0 &&
			    ((unsigned char)r->text[r->tlen - 1] & 0xc0) == 0xc0)
				r->tlen--;
		}
		r->cut = 1;
		return;
	}
	r->text[r->tlen++] = (char)c;
}

static void
reply_endline(struct reply *r)
{
	size_t need = 4 + r->tlen + 2;

	if (r->tlen == 0 || r->full) {
		r->tlen = 0;
		r->cut = 0;
		return;
	}
	if (r->len + need > r->cap) {
		r->full = 1;
		return;
	}
	memcpy(r->buf + r->len, r->code, 3);
	r->last = r->len + 3;
	r->buf[r->len + 3] = '-';
	memcpy(r->buf + r->len + 4, r->text, r->tlen);
	memcpy(r->buf + r->len + 4 + r->tlen, "\r\n", 2);
	r->len += need;
	r->lines++;
	r->tlen = 0;
	r->cut = 0;
}

static void
reply_msg(struct reply *r, const char *msg, const char *ip)
{
	const unsigned char *p = (const unsigned char *)msg;
	const char *q;

	for (; *p != '\0' && !r->full; p++) {
		if (*p == '\\' && p[1] != '\0') {
			p++;
			if (*p == 'n')
				reply_endline(r);
			else if (*p == '"' || *p == '\\')
				reply_putc(r, *p);
			else {
				/* unknown escape: keep it as written */
				reply_putc(r, '\\');
				reply_putc(r, *p);
			}
		} else if (*p == '%' && p[1] == 'A') {
			p++;
			for (q = ip; *q != '\0'; q++)
				reply_putc(r, (unsigned char)*q);
		} else if (*p == '%' && p[1] == '%') {
			p++;
			reply_putc(r, '%');
		} else if (*p == '\n')
			reply_endline(r);
		else if (*p < ' ' || *p == 0x7f)
			reply_putc(r, ' ');	/* never CR/LF injection */
		else
			reply_putc(r, *p);
	}
	reply_endline(r);
}

size_t
smtp_listed_reply(char *buf, size_t size, int code, const char *const *msgs,
    size_t n, const struct addr *a)
{
	struct reply rr, *r = &rr;
	char ip[ADDR_STRLEN];
	size_t i;

	if (size > 0)
		buf[0] = '\0';
	/* room for "450 x\r\n" at least */
	if (size < 8 || code < 100 || code > 599)
		return 0;
	memset(r, 0, sizeof(*r));
	r->buf = buf;
	r->cap = size - 1;
	snprintf(r->code, sizeof(r->code), "%03d", code);
	r->tmax = SMTP_OUT_LINE_MAX - 6;
	if (r->tmax > r->cap - 6)
		r->tmax = r->cap - 6;
	addr_ntop(a, ip, sizeof(ip));
	for (i = 0; i < n && !r->full; i++)
		reply_msg(r, msgs[i], ip);
	if (r->lines == 0)
		reply_msg(r, SMTP_LISTED_FALLBACK, ip);
	if (r->lines > 0)
		r->buf[r->last] = ' ';
	r->buf[r->len] = '\0';
	return r->len;
}
