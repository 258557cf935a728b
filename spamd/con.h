/*
 * con.h: client connections of the SMTP process: accept, the stuttering
 * writer, line reading, timeouts, and the hand-off of tuples.
 *
 *	con_listen(fd)		accept clients on a listening socket
 *
 * One struct con per client (under 256 bytes); input buffers exist only
 * while a partial line is pending. Every connection has one timer: the
 * next stuttered byte, or its idle deadline.
 */
#ifndef CON_H
#define CON_H

#include <stddef.h>

int	con_listen(int);

#endif /* CON_H */
