/*
 * cfgsock.c: accept and read configuration connections (see cfgsock.h).
 *
 * The listener side (which peer may say what) is cfgsock_* and the
 * accept handlers; the per-connection read and parse is conn_*. The two
 * listeners share the one connection slot.
 *
 * A connection is read to EOF (a line beyond --list-max-bytes is dropped
 * as it arrives, leaving an empty line in its place so line numbers
 * hold), then applied by a cfg_job in steps of CFG_STEP blocks, one step
 * per loop iteration, so clients are answered while a list of millions
 * of blocks is parsed, sorted and indexed.
 */
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/blquery.h"
#include "common/clock.h"
#include "common/compat.h"
#include "common/log.h"
#include "spamd/cfg.h"
#include "spamd/cfgsock.h"
#include "spamd/ev.h"
#include "spamd/sdl.h"
#include "spamd/spamd.h"
#include "spamd/usock.h"

#define CFG_READ_CHUNK	(64 * 1024)
#define PEER_GROUPS	256	/* supplementary groups read at once */
#define CFG_STEP	4096	/* blocks parsed or ranges sorted per step */
#define CFG_SLICE_MS	5	/* steps per loop iteration: about this long */

static void	(*lists_changed)(void);	/* cfgsock_listen's callback */
static struct ev_io	 lio;		/* the TCP listener */
static struct ev_io	 uio;		/* the unix listener */
static struct ev_io	 cio;		/* the one active connection */
static struct ev_timer	 ctm;
static char		*buf;
static size_t		 len, cap;
static char		 peer[ADDR_STRLEN + 64];
static int		 from_unix;
static int		 may_config;	/* else only a blacklist query */
static int		 unixfd = -1, portfd = -1;
static char		*reply;		/* a query's answer being written */
static size_t		 replen, repoff;
static size_t		 linestart;	/* offset of the line being read */
static int		 skipping;	/* that line is over the bound */
static int		 binary;	/* a binary blacklist query: no lines */
static size_t		 nrefused;	/* lines refused while reading */
static struct cfg_job	*job;		/* applying what was read */

/* The tag at the start of a line, for a message, or a placeholder. */
static const char *
line_tag(const char *p, size_t n, char *tag, size_t size)
{
	const char *semi;
	size_t tl;

	if ((semi = memchr(p, ';', n < size ? n : size)) == NULL)
		return "(no tag)";
	tl = (size_t)(semi - p);
	memcpy(tag, p, tl);
	tag[tl] = '\0';
	return cfg_tag_check(tag) == NULL ? tag : "(invalid tag)";
}

/*
 * Bytes buf[from..len) have arrived: drop what belongs to a line beyond
 * --list-max-bytes, so it is never buffered whole.
 */
static void
scan_lines(size_t from)
{
	size_t max = conf.list_max_bytes, rest;
	char *nl, tag[CFG_TAG_MAX + 2];

	while (from < len) {
		nl = memchr(buf + from, '\n', len - from);
		if (skipping) {
			if (nl == NULL) {
				len = linestart;
				return;
			}
			/* keep the LF: an empty line in its place */
			rest = len - (size_t)(nl - buf);
			memmove(buf + linestart, nl, rest);
			len = linestart + rest;
			skipping = 0;
			from = linestart;
			continue;
		}
		if (nl != NULL && (size_t)(nl - buf) - linestart <= max + 1) {
			linestart = (size_t)(nl - buf) + 1;
			from = linestart;
			continue;
		}
		if (nl == NULL && len - linestart <= max + 1)
			return;
		/* +1: a CR before the LF does not count */
		log_warnx("configuration connection from %s: list %s refused: "
		    "more than %zu bytes (--list-max-bytes)", peer,
		    line_tag(buf + linestart, len - linestart, tag,
		    sizeof(tag)), max);
		nrefused++;
		skipping = 1;
		from = linestart;
		if (nl == NULL) {
			len = linestart;
			return;
		}
	}
}

static void
conn_end(void)
{
	int fd = cio.fd;

	/* The lines about it are out before the client sees the end. */
	log_flush();
	ev_timer_del(&ctm);
	ev_io_del(&cio);
	if (fd != -1 && close(fd) == -1)
		log_warn("close");
	cfg_job_free(job);
	job = NULL;
	free(buf);
	buf = NULL;
	len = cap = 0;
	free(reply);
	reply = NULL;
	replen = repoff = 0;
	if (lio.fd != -1)
		ev_io_mod(&lio, EPOLLIN);
	if (uio.fd != -1)
		ev_io_mod(&uio, EPOLLIN);
	linestart = nrefused = 0;
	skipping = binary = 0;
}

static void
conn_timeout(struct ev_timer *t)
{
	(void)t;
	log_warnx("configuration connection from %s: no data for %d s, "
	    "dropped without applying it", peer, CFGSOCK_TIMEOUT);
	conn_end();
}

/* Write the query's answer as the client reads it, then close. */
static void
conn_write(struct ev_io *io, uint32_t events)
{
	ssize_t n;

	(void)events;
	while (repoff < replen) {
		n = send(io->fd, reply + repoff, replen - repoff,
		    MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			log_warn("blacklist query from %s: sending the answer",
			    peer);
			conn_end();
			return;
		}
		repoff += (size_t)n;
		ev_timer_set(&ctm, ev_now() + CFGSOCK_TIMEOUT * 1000,
		    conn_timeout);
	}
	conn_end();
}

/* Send `reply' (replen bytes), then close. */
static void
conn_reply(struct ev_io *io)
{
	log_flush();	/* before the client can read the outcome */
	free(buf);
	buf = NULL;
	len = cap = 0;
	io->cb = conn_write;
	if (ev_io_mod(io, EPOLLOUT) == -1) {
		conn_end();
		return;
	}
	conn_write(io, EPOLLOUT);
}

/* Listed: the address, or (spamd -g) any address of the network. */
static int
listed_cidr(const struct cidr *c)
{
	return c->plen == 8 * addr_len(&c->a) ? sdl_listed(&c->a) :
	    sdl_listed_net(c);
}

/* "Which of these are listed?": answer from the lists in memory. */
static void
conn_query(struct ev_io *io)
{
	size_t nasked, nlisted;

	if ((reply = blquery_answer(buf, len, listed_cidr, &replen, &nasked,
	    &nlisted)) == NULL) {
		log_warnx("blacklist query from %s: out of memory, dropped",
		    peer);
		conn_end();
		return;
	}
	log_verbose("blacklist query from %s: %zu address%s, %zu listed",
	    peer, nasked, nasked == 1 ? "" : "es", nlisted);
	conn_reply(io);
}

/*
 * Apply what the connection sent for about CFG_SLICE_MS, then come back
 * in the next loop iteration (the timer is due 1 ms on, so the loop
 * polls its descriptors first); the last slice reports.
 */
static void
conn_step(struct ev_timer *t)
{
	struct cfg_stats st;
	uint64_t start = clock_mono_ms();
	int done;

	(void)t;
	while ((done = cfg_job_step(job, CFG_STEP)) == 0 &&
	    clock_mono_ms() - start < CFG_SLICE_MS)
		;
	if (!done) {
		ev_timer_set(&ctm, ev_now() + 1, conn_step);
		return;
	}
	cfg_job_stats(job, &st);
	st.lines += nrefused;
	st.rejected += nrefused;
	log_info("configuration connection from %s: %zu line%s, %zu applied, "
	    "%zu rejected", peer, st.lines, st.lines == 1 ? "" : "s",
	    st.applied, st.rejected);
	if (st.applied > 0 && lists_changed != NULL)
		lists_changed();
	/* On the unix socket the client learns the outcome (cfgsend.h). */
	if (from_unix && asprintf(&reply, "ok %zu %zu %zu\n", st.lines,
	    st.applied, st.rejected) != -1) {
		replen = strlen(reply);
		cfg_job_free(job);
		job = NULL;
		conn_reply(&cio);
		return;
	}
	reply = NULL;
	conn_end();
}

static void
conn_read(struct ev_io *io, uint32_t events)
{
	struct cfg_bounds b;
	ssize_t n;

	(void)events;
	if (cap - len < CFG_READ_CHUNK) {
		size_t ncap = cap ? cap * 2 : 4 * CFG_READ_CHUNK;
		char *nb;

		if (ncap > CFG_LINE_MAX + CFG_READ_CHUNK) {
			log_warnx("configuration connection from %s: more "
			    "than %lu bytes, dropped without applying it",
			    peer, (unsigned long)CFG_LINE_MAX);
			conn_end();
			return;
		}
		if ((nb = realloc(buf, ncap)) == NULL) {
			log_warnx("configuration connection from %s: out of "
			    "memory at %zu bytes, dropped", peer, len);
			conn_end();
			return;
		}
		buf = nb;
		cap = ncap;
	}
	n = recv(io->fd, buf + len, cap - len, 0);
	if (n == -1) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		log_warn("configuration connection from %s", peer);
		conn_end();
		return;
	}
	if (n > 0) {
		len += (size_t)n;
		/* Records of a binary query hold any byte: no lines to
		 * bound (the whole is, by CFG_LINE_MAX). */
		if (!binary && from_unix &&
		    blquery_is(buf, len) == BLQUERY_BINARY)
			binary = 1;
		if (!binary)
			scan_lines(len - (size_t)n);
		ev_timer_set(&ctm, ev_now() + CFGSOCK_TIMEOUT * 1000,
		    conn_timeout);
		return;
	}
	if (from_unix && blquery_is(buf, len)) {
		conn_query(io);
		return;
	}
	if (!may_config) {
		log_warnx("configuration connection from %s refused: it may "
		    "only ask which addresses are listed", peer);
		conn_end();
		return;
	}
	/* EOF: stop reading, apply in steps (no timeout from now on) */
	b.max_blocks = conf.list_max_blocks;
	b.max_blocks6 = conf.list_max_blocks6;
	b.max_bytes = conf.list_max_bytes;
	if ((job = cfg_job_new(buf, len, &b)) == NULL) {
		log_warnx("configuration connection from %s: out of memory, "
		    "dropped without applying it", peer);
		conn_end();
		return;
	}
	if (ev_io_mod(&cio, 0) == -1) {
		conn_end();
		return;
	}
	ev_timer_set(&ctm, ev_now(), conn_step);
}

/* Start reading the accepted fd; the listeners wait meanwhile. */
static void
conn_start(int fd)
{
	if (ev_io_add(&cio, fd, EPOLLIN, conn_read) == -1) {
		close(fd);
		return;
	}
	/* One at a time: later ones wait in the backlog. */
	if (lio.fd != -1)
		ev_io_mod(&lio, 0);
	if (uio.fd != -1)
		ev_io_mod(&uio, 0);
	ev_timer_set(&ctm, ev_now() + CFGSOCK_TIMEOUT * 1000, conn_timeout);
}

/*
 * net.ipv4.ip_unprivileged_port_start now (it is per network namespace
 * and may change at any time, so it is read for every connection through
 * a descriptor opened before the sandbox). -1 if it cannot be read.
 */
static int
port_start(void)
{
	char b[16];
	const char *errstr;
	ssize_t n;
	long long v;

	if (portfd == -1)
		return 1024;	/* no such knob: ports below 1024 are root's */
	if ((n = pread(portfd, b, sizeof(b) - 1, 0)) <= 0) {
		if (n == -1)
			log_warn("reading %s", CFGSOCK_PORTSTART);
		return -1;
	}
	b[n] = '\0';
	b[strcspn(b, "\n")] = '\0';
	v = strtonum(b, 0, 65535, &errstr);
	if (errstr != NULL) {
		log_warnx("%s: \"%s\" is %s", CFGSOCK_PORTSTART, b, errstr);
		return -1;
	}
	return (int)v;
}

static void
listen_event(struct ev_io *io, uint32_t events)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct addr a;
	uint16_t port;
	int fd, ps;

	(void)events;
	fd = accept4(io->fd, (struct sockaddr *)&ss, &sl,
	    SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd == -1) {
		if (errno != EAGAIN && errno != EINTR &&
		    errno != ECONNABORTED)
			log_warn("accept on the configuration socket");
		return;
	}
	if (addr_from_sockaddr((struct sockaddr *)&ss, &a, &port) == -1) {
		close(fd);
		return;
	}
	addr_ntop(&a, peer, sizeof(peer));
	if (port >= 1024) {
		log_warnx("configuration connection from %s port %u refused: "
		    "not a reserved port (spamd-setup must run as root)",
		    peer, port);
		close(fd);
		return;
	}
	/* A low port proves root only if ordinary users cannot bind it. */
	if ((ps = port_start()) == -1 || port >= ps) {
		if (ps == -1)
			log_warnx("configuration connection from %s port %u "
			    "refused: cannot tell whether the port is "
			    "privileged; use the unix socket %s", peer, port,
			    conf.cfgsock);
		else
			log_warnx("configuration connection from %s port %u "
			    "refused: net.ipv4.ip_unprivileged_port_start is "
			    "%d, so any user may bind that port; use the unix "
			    "socket %s", peer, port, ps, conf.cfgsock);
		close(fd);
		return;
	}
	from_unix = 0;
	may_config = 1;
	conn_start(fd);
}

/* 1 if the peer on fd has gid as its primary or a supplementary group. */
static int
peer_in_group(int fd, gid_t pgid, gid_t gid)
{
	gid_t small[PEER_GROUPS], *g = small;
	socklen_t gl = sizeof(small);
	size_t i, n;
	int in = 0;

	if (pgid == gid)
		return 1;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &gl) == -1) {
		if (errno != ERANGE) {
			log_warn("getsockopt SO_PEERGROUPS");
			return 0;
		}
		if ((g = malloc(gl)) == NULL) {
			log_warn("peer groups");
			return 0;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &gl) == -1) {
			log_warn("getsockopt SO_PEERGROUPS");
			free(g);
			return 0;
		}
	}
	n = gl / sizeof(gid_t);
	for (i = 0; i < n && !in; i++)
		in = g[i] == gid;
	if (g != small)
		free(g);
	return in;
}

static void
unix_event(struct ev_io *io, uint32_t events)
{
	struct ucred uc;
	socklen_t ul = sizeof(uc);
	int fd;

	(void)events;
	fd = accept4(io->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd == -1) {
		if (errno != EAGAIN && errno != EINTR &&
		    errno != ECONNABORTED)
			log_warn("accept on %s", conf.cfgsock);
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &ul) == -1) {
		log_warn("configuration connection on %s: SO_PEERCRED",
		    conf.cfgsock);
		close(fd);
		return;
	}
	(void)snprintf(peer, sizeof(peer), "uid %u (pid %d)",
	    (unsigned)uc.uid, (int)uc.pid);
	may_config = uc.uid == 0 || (conf.cfggroup != NULL &&
	    peer_in_group(fd, uc.gid, conf.cfggid));
	/* spamd's own user (spamlogd) may ask, not configure. */
	if (!may_config && uc.uid != conf.uid) {
		if (conf.cfggroup != NULL)
			log_warnx("configuration connection from %s refused: "
			    "not root and not in group %s", peer,
			    conf.cfggroup);
		else
			log_warnx("configuration connection from %s refused: "
			    "not root (no --config-group)", peer);
		close(fd);
		return;
	}
	from_unix = 1;
	conn_start(fd);
}

int
cfgsock_unix_open(const char *path)
{
	return usock_open(path, "--config-socket", 1);
}

int
cfgsock_portstart_open(void)
{
	int fd;

	if ((fd = open(CFGSOCK_PORTSTART, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno != ENOENT)
			fatal("%s", CFGSOCK_PORTSTART);
		return -1;	/* before Linux 4.11: fixed at 1024 */
	}
	return fd;
}

void
cfgsock_prepare(int ufd, int pfd)
{
	unixfd = ufd;
	portfd = pfd;
}

int
cfgsock_listen(int fd, void (*changed)(void))
{
	int ps;

	lists_changed = changed;
	cio.fd = lio.fd = uio.fd = -1;
	if (fd != -1 && ev_io_add(&lio, fd, EPOLLIN, listen_event) == -1)
		return -1;
	if (unixfd != -1 && ev_io_add(&uio, unixfd, EPOLLIN, unix_event) == -1)
		return -1;
	if (fd != -1 && (ps = port_start()) < 1024)
		log_warnx("net.ipv4.ip_unprivileged_port_start is %d: "
		    "configuration over TCP is refused while it is below "
		    "1024; spamd-setup uses the unix socket %s", ps,
		    conf.cfgsock);
	return 0;
}
