/*
 * con.h: client connections of the SMTP process: accept, the stuttering
 * writer, line reading, timeouts, and the hand-off of tuples.
 *
 *	con_listen(fd, sink)	accept clients on a listening socket; each
 *		recorded tuple goes to sink (the owner's channel to the
 *		greylister: con.c knows nothing of the process it runs in)
 *	con_tls_set(ctx)	offer STARTTLS with ctx to new sessions (NULL:
 *		offer it no more); the previous context is freed, open
 *		sessions keep using it
 *
 * One struct con per client (under 256 bytes); input buffers exist only
 * while a partial line is pending. Every connection has one timer: the
 * next stuttered byte, or its idle deadline.
 */
#ifndef CON_H
#define CON_H

#include <stddef.h>

struct addr;
struct tls_ctx;

typedef int (*con_tuple_sink)(const struct addr *, int, const char *,
    const char *, const char *);

int	con_listen(int, con_tuple_sink);
void	con_tls_set(struct tls_ctx *);

#endif /* CON_H */
