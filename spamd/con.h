/*
 * con.h: client connections of the SMTP process: accept, the stuttering
 * writer, line reading, timeouts, and the hand-off of tuples.
 *
 *	con_listen(fd)		accept clients on a listening socket
 *	con_clients(), con_black()	open connections, blacklisted ones
 *
 * One struct con per client (under 256 bytes); input buffers exist only
 * while a partial line is pending. Every connection has one timer: the
 * next stuttered byte, or its idle deadline.
 */
#ifndef CON_H
#define CON_H

#include <stddef.h>

int	con_listen(int);
size_t	con_clients(void);
size_t	con_black(void);

#endif /* CON_H */
