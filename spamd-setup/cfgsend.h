/*
 * cfgsend.h: deliver configuration lines to spamd's configuration socket.
 *
 *	cfgsend_unix(path, buf, len, err, errlen)	the same over spamd's
 *		unix socket (the default): spamd checks our credentials (root
 *		or its --config-group), no reserved port involved. spamd
 *		answers "ok LINES APPLIED REJECTED" LF before it closes;
 *		a close without it means refused (-1).
 *	cfgsend(port, buf, len, err, errlen)	connect to 127.0.0.1:port
 *		from a reserved source port (spamd ignores any other, so this
 *		needs root or CAP_NET_BIND_SERVICE), write buf, half-close,
 *		and wait (CFGSEND_WAIT seconds at most) for spamd to close
 *		its side, which it does once the lines are applied. 0, or -1
 *		with the reason in err.
 *	cfgsend_resvport(fd, err, errlen)	bind an IPv4 TCP socket to a
 *		free port in 600..1023, like bindresvport(3)
 */
#ifndef CFGSEND_H
#define CFGSEND_H

#include <stddef.h>
#include <stdint.h>

#define CFGSEND_WAIT	30	/* s: spamd applying what we sent */

int	cfgsend(uint16_t, const char *, size_t, char *, size_t);
int	cfgsend_unix(const char *, const char *, size_t, char *, size_t);
int	cfgsend_resvport(int, char *, size_t);

#endif /* CFGSEND_H */
