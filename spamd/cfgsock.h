/*
 * cfgsock.h: the configuration sockets through which spamd-setup loads
 * blacklists into the SMTP process: a unix socket (default
 * /run/spamd/spamd.sock, --config-socket) and, for OpenBSD
 * compatibility, TCP 127.0.0.1:8026.
 *
 *	cfgsock_unix_open(path)	as root, before the fork: create the
 *		directory if missing (0755; an existing one must be a real
 *		directory owned by root and not writable by group or others),
 *		remove a stale socket (nothing listens on it), refuse anything
 *		else at path (a symlink, a file, a live spamd's socket), bind,
 *		chmod 0666, listen. Fatal on every error.
 *	cfgsock_portstart_open()	open CFGSOCK_PORTSTART before the
 *		sandbox; -1 if the kernel has no such knob (then 1024)
 *	cfgsock_prepare(unixfd, portfd)	hand both to the SMTP process
 *	cfgsock_listen(tcpfd, changed)	accept configuration connections on
 *		tcpfd (-1: none) and on the unix socket; changed() is called
 *		after a connection applied at least one line
 *
 * Who may say what:
 * - TCP, as in OpenBSD, only from a reserved source port, and only while
 *   that proves root: the port must also be below
 *   net.ipv4.ip_unprivileged_port_start, which is read again for every
 *   connection (it is per network namespace and can change at any time;
 *   Docker and Podman set it to 0). Every refusal is logged.
 * - The unix socket: the peer's SO_PEERCRED decides, not the file mode.
 *   uid 0 and members (primary or supplementary, SO_PEERGROUPS) of
 *   conf.cfggroup may configure; spamd's own user (conf.uid: spamlogd)
 *   may only ask the blacklist question (common/blquery.h); anyone else
 *   is refused with a log line.
 * - Either way: one connection at a time, read to EOF and then parsed
 *   line by line (spamd/cfg.c). Differences from OpenBSD: a connection
 *   is closed after CFGSOCK_TIMEOUT seconds of silence, its size is
 *   bounded, every rejected line is logged at WARNING, and a bad line
 *   leaves the previous list in place. A list beyond conf.list_max_* is
 *   refused; lines are applied in slices between loop iterations
 *   (cfg_job), so clients are answered while a big list loads.
 * The socket file stays when spamd exits (the sandboxed SMTP process
 * cannot remove it); the next start removes it as stale.
 */
#ifndef CFGSOCK_H
#define CFGSOCK_H

#define CFGSOCK_TIMEOUT		60	/* seconds */
#define CFGSOCK_PORTSTART	"/proc/sys/net/ipv4/ip_unprivileged_port_start"

int	cfgsock_unix_open(const char *);
int	cfgsock_portstart_open(void);
void	cfgsock_prepare(int, int);
int	cfgsock_listen(int, void (*)(void));

#endif /* CFGSOCK_H */
