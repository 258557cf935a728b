/*
 * cfgsock.h: the configuration socket (127.0.0.1:8026) through which
 * spamd-setup loads blacklists into the SMTP process.
 *
 *	cfgsock_listen(fd)	accept configuration connections on fd
 *
 * As in OpenBSD: one connection at a time, only from a reserved source
 * port (below 1024, so only root can connect), read to EOF and then
 * parsed line by line (spamd/cfg.c). Differences: a connection is closed
 * after CFGSOCK_TIMEOUT seconds of silence, its size is bounded, every
 * rejected line is logged at WARNING, and a bad line leaves the previous
 * list in place. A list beyond conf.list_max_* is refused; lines are
 * applied in slices between loop iterations (cfg_job), so clients are
 * answered while a big list loads.
 */
#ifndef CFGSOCK_H
#define CFGSOCK_H

#define CFGSOCK_TIMEOUT	60	/* seconds */

int	cfgsock_listen(int);

#endif /* CFGSOCK_H */
