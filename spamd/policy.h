/*
 * policy.h: policy mode (spamd -P), the SMTP process's server of Postfix's
 * policy delegation protocol: greylisting at Postfix's RCPT stage, for
 * hosts that cannot redirect port 25 in a packet filter. Requests become
 * tuples for the greylister (PROTO_POLICY), which records them in the
 * same database as redirected clients' and answers once they are
 * committed (PROTO_VERDICT); polreq.c turns that into the action.
 *
 *	policy_init(conf, send)	the answers' settings, and how a tuple
 *		reaches the greylister: send(id, tuple) is 0, or -1 when it
 *		was dropped (then the request is answered "busy" at once).
 *		With send NULL (spamd -b) only blacklists are answered
 *	policy_listen(fd, name)	serve a listening socket (unix or TCP)
 *	policy_verdicts(v, n)	the greylister's answers
 *	policy_connections()	open policy connections
 *
 * A connection serves any number of requests, one at a time and in order
 * (reading stops while one is with the greylister). A malformed request,
 * a line over POLREQ_LINE_MAX, too many attributes, or a request that
 * takes longer than the timeout to arrive closes the connection without
 * an answer, as the protocol says (Postfix then retries or applies its
 * default_action). An answer that does not come from the greylister
 * within the timeout is DUNNO: greylisting fails open, never becoming a
 * mail outage. An answer the client does not read within the timeout
 * closes the connection.
 */
#ifndef POLICY_H
#define POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "spamd/polreq.h"
#include "spamd/proto.h"

#define POLICY_CON_MAX		2048	/* connections; Postfix keeps one
					   per smtpd process (100 by default) */
#define POLICY_LISTEN_MAX	8	/* -P sockets */
#define POLICY_TIMEOUT		30	/* s: --policy-timeout */
#define POLICY_IDLE		600	/* s: --policy-idle (Postfix: 300) */

struct policy_conf {
	struct polreq_conf	reply;
	uint64_t		timeout_ms;	/* a request, an answer, a write */
	uint64_t		idle_ms;	/* between requests */
};

typedef int (*policy_send_fn)(uint32_t, const struct polreq_tuple *);

void	policy_init(const struct policy_conf *, policy_send_fn);
int	policy_listen(int, const char *);
void	policy_verdicts(const struct proto_verdict *, size_t);
size_t	policy_connections(void);

#endif /* POLICY_H */
