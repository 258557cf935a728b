/*
 * con.h: client connections of the SMTP process: accept, the stuttering
 * writer, line reading, timeouts, and the hand-off of tuples.
 *
 *	con_listen(fd, sink)	accept clients on a listening socket; each
 *		recorded tuple goes to sink (the owner's channel to the
 *		greylister: con.c knows nothing of the process it runs in)
 *
 * One struct con per client (under 256 bytes); input buffers exist only
 * while a partial line is pending. Every connection has one timer: the
 * next stuttered byte, or its idle deadline.
 */
#ifndef CON_H
#define CON_H

#include <stddef.h>

struct addr;

typedef int (*con_tuple_sink)(const struct addr *, int, const char *,
    const char *, const char *);

int	con_listen(int, con_tuple_sink);

#endif /* CON_H */
