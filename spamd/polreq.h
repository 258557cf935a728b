/*
 * polreq.h: Postfix's policy delegation protocol, as text: one request's
 * attribute lines into the fields greylisting needs, and the one-line
 * answer back. No descriptors and no clock here (policy.c owns the
 * connections; the time comes in as an argument), so unit tests
 * (tests/unit/t_polreq.c) feed it lines and compare answers.
 *
 *	polreq_reset(r)		forget the request (keep-alive: the next one)
 *	polreq_line(r, line, len)	one line without its LF (a CR before
 *		it is dropped): 0 taken, 1 the empty line that ends a request,
 *		-1 malformed (NUL, no '=', too many attributes, an empty
 *		line before any attribute); polreq_error() says why. The
 *		protocol says to close such a connection without answering
 *	polreq_decide(r, tuple)	what a complete request asks: POLREQ_BAD
 *		(not an smtpd_access_policy request: close), POLREQ_DUNNO
 *		(not at RCPT, or no client address or recipient), or
 *		POLREQ_GREY with tuple filled in: the client's address, the
 *		HELO name as given, sender and recipient in angle brackets
 *		with the domain in lower case (the null sender is <>)
 *	polreq_reply(buf, len, conf, r, verdict, secs, now)	the answer
 *		"action=...\n\n" for a verdict; secs is the wait left
 *		(POLREQ_V_DEFER) or the delay the message had (POLREQ_V_PASS).
 *		Returns its length, or 0 if it does not fit
 *
 * Values longer than POLREQ_VALUE_MAX are cut, as postgrey cuts them.
 */
#ifndef POLREQ_H
#define POLREQ_H

#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "common/gdata.h"

#define POLREQ_LINE_MAX		4096	/* bytes of one attribute line */
#define POLREQ_ATTR_MAX		128	/* attributes in one request */
#define POLREQ_VALUE_MAX	(GD_FIELD_MAX - 2)	/* room for <> */
#define POLREQ_REPLY_MAX	1024
#define POLREQ_TEXT_MAX		400	/* --policy-text, before expansion */

enum polreq_decision { POLREQ_BAD, POLREQ_DUNNO, POLREQ_GREY };

enum polreq_verdict {
	POLREQ_V_DUNNO,		/* nothing to say: WHITE, or not greylisted */
	POLREQ_V_DEFER,		/* greylisted: secs left */
	POLREQ_V_PASS,		/* the tuple passed now: secs it waited */
	POLREQ_V_TRAP,		/* trapped (spamtrap, -A, TRAPPED) */
	POLREQ_V_LISTED,	/* on a blacklist (msg: its message) */
	POLREQ_V_BUSY		/* refused by a flood bound: defer, no time */
};

struct polreq {
	size_t	nattr;
	int	have_request, have_client, have_recipient, etrn;
	char	request[32], state[32];
	char	client[ADDR_STRLEN + 8];
	char	helo[POLREQ_VALUE_MAX + 1];
	char	sender[POLREQ_VALUE_MAX + 1];
	char	recipient[POLREQ_VALUE_MAX + 1];
	char	instance[128];
};

struct polreq_tuple {
	struct addr	ip;
	char		helo[GD_FIELD_MAX + 1];
	char		from[GD_FIELD_MAX + 1];
	char		to[GD_FIELD_MAX + 1];
};

struct polreq_conf {
	const char	*action;	/* --policy-action: DEFER_IF_PERMIT */
	const char	*text;		/* --policy-text: %s secs, %r domain */
	int		 header;	/* PREPEND X-Greylist on a pass */
	int		 code550;	/* -5: listed and trapped get 550 */
	const char	*hostname;	/* -h */
	const char	*msg;		/* POLREQ_V_LISTED: the list's message */
};

#define POLREQ_ACTION	"DEFER_IF_PERMIT"
#define POLREQ_TEXT	"Greylisted, please try again in %s seconds"

void		polreq_reset(struct polreq *);
int		polreq_line(struct polreq *, const char *, size_t);
const char	*polreq_error(void);
enum polreq_decision polreq_decide(const struct polreq *,
		    struct polreq_tuple *);
size_t		polreq_reply(char *, size_t, const struct polreq_conf *,
		    const struct polreq *, enum polreq_verdict, int64_t,
		    int64_t);
int		polreq_text_check(const char *);

#endif /* POLREQ_H */
