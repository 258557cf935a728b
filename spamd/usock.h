/*
 * usock.h: listening unix-domain sockets made as root (see usock.c).
 */
#ifndef USOCK_H
#define USOCK_H

int	usock_open(const char *, const char *, int);

#endif /* USOCK_H */
