/*
 * smtp.h: spamd's SMTP dialogue as a pure state machine: one complete
 * input line in, one decision out. No I/O, no clock, no configuration
 * beyond what the session carries; con.c does the sockets and timing.
 *
 *	smtp_init(s, black)	a new session; black = blacklisted, or any
 *				client in blacklist-only mode (they get 354)
 *	smtp_input(s, line, len, overlong, &res)	feed one line (without
 *				its CR LF; may contain NUL bytes); fills res
 *	smtp_free(s)		release the stored HELO/MAIL values
 *	smtp_reply_text(id)	the fixed text of a reply, CR LF included;
 *				NULL for SMTP_R_QUIT and SMTP_R_FINAL (below)
 *	smtp_banner(host, name, now)	"220 host ESMTP name; date" CR LF,
 *				allocated (NULL: out of memory); host and
 *				name must stay unchanged while used (the
 *				last banner is reused within a second)
 *	smtp_quit_reply(host)	"221 host" CR LF, allocated (NULL: out of
 *				memory)
 *	smtp_tempfail()		the final reply of a greylisted client (451)
 *	smtp_listed_reply(buf, size, code, msgs, n, a)	a blacklisted
 *				client's final reply, from the messages of the
 *				lists that hold it, msgs[0..n): every line of
 *				every message, in order, as "450-text" CR LF,
 *				the last as "450 text" CR LF (code is 450 or
 *				550, any 100..599 works); returns its length.
 *				Messages are raw (as between the quotes of a
 *				config line): \" \n \\ %A %% are expanded, %A
 *				to a's address; other control bytes become
 *				blanks. Empty lines are dropped; if nothing is
 *				left, SMTP_LISTED_FALLBACK is used. A line's
 *				text is cut at SMTP_OUT_LINE_MAX - 6 bytes
 *				(never inside a UTF-8 sequence); lines that do
 *				not fit in size are dropped whole, and the
 *				reply stays well-formed
 *	smtp_state_name(st)	"GREET", "HELO", ... for debug logs
 *	smtp_value(arg, buf, len)	the first token after the first ':'
 *				(OpenBSD's rule for MAIL FROM:/RCPT TO:)
 *	smtp_ehlo_only(s)	1 if the client said EHLO and never tried
 *				MAIL, RCPT or DATA (a sender that wants
 *				STARTTLS leaves like that)
 *	smtp_ehlo_tls(host)	the four-line EHLO reply that offers
 *				STARTTLS, allocated (NULL: out of memory)
 *
 * STARTTLS (OpenBSD's rules): the caller sets s->tls_offer before each
 * line when it may offer TLS to this client now. An EHLO then gets
 * SMTP_R_EHLO_TLS (never inside TLS, never for a blacklisted client),
 * and only the command right after it may be STARTTLS: SMTP_R_STARTTLS
 * with res.tls_begin set. The session has then started over (no HELO,
 * no MAIL; RFC 3207 4.2) and the caller must run the handshake after the
 * 220 and feed no byte received before it. STARTTLS anywhere else is a
 * bad command.
 *
 * Commands are matched exactly and case-insensitively: the verb must end
 * at a space or the end of the line ("MAILX" is not MAIL). Each line is
 * one command, so pipelined commands are answered in order. A line with a
 * NUL byte or longer than SMTP_LINE_MAX is a bad command. The 21st bad
 * command gets the final reply instead of 500 (OpenBSD).
 */
#ifndef SMTP_H
#define SMTP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/addr.h"

#define SMTP_LINE_MAX		8192	/* bytes in a line, CR LF included */
#define SMTP_OUT_LINE_MAX	512	/* a reply line incl. CR LF (RFC 5321
					   4.5.3.1.5) */
#define SMTP_LISTED_REPLY_MAX	4096	/* a good size for smtp_listed_reply */
/* The listed reply when the matched messages hold no text at all. */
#define SMTP_LISTED_FALLBACK	"Your address %A is listed here"
#define SMTP_MAX_BADCMDS	20	/* the next bad command ends it */
#define SMTP_MAX_TUPLES		100	/* tuples recorded per connection */
#define SMTP_BODY_LINES		10	/* body lines read in DATA (OpenBSD) */

enum smtp_state {
	SMTP_GREET,		/* connected, no HELO yet */
	SMTP_HELO,		/* after HELO/EHLO */
	SMTP_MAIL,		/* after MAIL */
	SMTP_RCPT,		/* after at least one RCPT */
	SMTP_DATA,		/* reading a blacklisted client's message */
	SMTP_DONE,		/* final reply decided; close after writing */
};

enum smtp_reply {
	SMTP_R_NONE,		/* nothing to send (a DATA line) */
	SMTP_R_HELO,
	SMTP_R_HELO_501,
	SMTP_R_MAIL,
	SMTP_R_RCPT,
	SMTP_R_DATA,		/* 354 */
	SMTP_R_NOOP,
	SMTP_R_RSET,
	SMTP_R_BAD,		/* 500 */
	SMTP_R_QUIT,		/* 221 <hostname>, then close */
	SMTP_R_EHLO_TLS,	/* smtp_ehlo_tls(): 250-host ... 250 STARTTLS */
	SMTP_R_STARTTLS,	/* 220 glad ..., then the TLS handshake */
	SMTP_R_FINAL,		/* 451 or the blacklist text, then close */
};

struct smtp_sess {
	char		*helo;		/* NULL until HELO/EHLO */
	char		*mail;		/* NULL until MAIL */
	uint16_t	 ntuples;	/* tuples handed out */
	uint8_t		 state;		/* enum smtp_state */
	uint8_t		 badcmds;
	uint8_t		 bodylines;	/* body lines seen in DATA */
	uint8_t		 black : 1;	/* gets 354 and the body phase */
	uint8_t		 inbody : 1;	/* DATA: past the empty line */
	uint8_t		 ehlo : 1;	/* an EHLO was answered 250 */
	uint8_t		 envelope : 1;	/* MAIL, RCPT or DATA was tried */
	uint8_t		 starttls : 1;	/* STARTTLS was sent */
	uint8_t		 tls_offer : 1;	/* set by the caller: may offer TLS */
	uint8_t		 tls_offered : 1; /* the last reply offered it */
	uint8_t		 tls : 1;	/* STARTTLS accepted: TLS from here */
};

struct smtp_result {
	enum smtp_reply	 reply;
	enum smtp_state	 from, to;	/* for the transition log */
	int		 tuple;		/* 1: record (helo, mail, rcpt) */
	int		 tuple_capped;	/* 1: a RCPT over SMTP_MAX_TUPLES */
	const char	*rcpt;		/* the RCPT value when tuple is 1 */
	int		 header;	/* DATA: a Subject:/From:/To: line */
	int		 data_begins;	/* 354 sent: shrink the window now */
	int		 starttls;	/* the first STARTTLS (not offered) */
	int		 tls_begin;	/* STARTTLS accepted: handshake next */
	char		 rcptbuf[1024];	/* storage for rcpt */
};

void		 smtp_init(struct smtp_sess *, int);
void		 smtp_input(struct smtp_sess *, const char *, size_t, int,
		    struct smtp_result *);
void		 smtp_free(struct smtp_sess *);
const char	*smtp_reply_text(enum smtp_reply);
char		*smtp_banner(const char *, const char *, time_t);
char		*smtp_quit_reply(const char *);
const char	*smtp_tempfail(void);
size_t		 smtp_listed_reply(char *, size_t, int, const char *const *,
		    size_t, const struct addr *);
const char	*smtp_state_name(enum smtp_state);
size_t		 smtp_value(const char *, size_t, char *, size_t);
int		 smtp_ehlo_only(const struct smtp_sess *);
char		*smtp_ehlo_tls(const char *);

#endif /* SMTP_H */
