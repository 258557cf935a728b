/*
 * benchutil.h: what every bench tool needs and would otherwise write
 * again: the monotonic clock, a fatal error with errno, and a stop flag
 * set from a signal handler.
 *
 *	benchutil_now_s(), benchutil_now_ms(), benchutil_now_us()
 *		CLOCK_MONOTONIC in seconds, milliseconds, microseconds
 *	benchutil_die(what)	"prog: what: strerror(errno)", exit 1
 *	benchutil_on_signal(sig)	a handler that sets benchutil_stop
 *	benchutil_dst4(host, port, &sin)	an IPv4 address and a port
 *		from the command line: 0, or -1 if either is not one
 *	benchutil_signals()	SIGTERM and SIGINT set benchutil_stop,
 *		SIGPIPE is ignored
 */
#ifndef BENCHUTIL_H
#define BENCHUTIL_H

#include <signal.h>
#include <stdint.h>

extern volatile sig_atomic_t benchutil_stop;

double		benchutil_now_s(void);
uint64_t	benchutil_now_ms(void);
uint64_t	benchutil_now_us(void);
void		benchutil_die(const char *) __attribute__((noreturn));
void		benchutil_on_signal(int);
void		benchutil_signals(void);
struct sockaddr_in;
int		benchutil_dst4(const char *, const char *, struct sockaddr_in *);

#endif /* BENCHUTIL_H */
