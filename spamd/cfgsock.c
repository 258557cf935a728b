/*
 * cfgsock.c: accept and read configuration connections (see cfgsock.h).
 */
#include <sys/epoll.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "spamd/cfg.h"
#include "spamd/cfgsock.h"
#include "spamd/ev.h"
#include "spamd/spamd.h"

#define CFG_READ_CHUNK	(64 * 1024)

static struct ev_io	 lio;		/* the listener */
static struct ev_io	 cio;		/* the one active connection */
static struct ev_timer	 ctm;
static char		*buf;
static size_t		 len, cap;
static char		 peer[ADDR_STRLEN];

static void
conn_end(void)
{
	int fd = cio.fd;

	ev_timer_del(&ctm);
	ev_io_del(&cio);
	if (fd != -1 && close(fd) == -1)
		log_warn("close");
	free(buf);
	buf = NULL;
	len = cap = 0;
	ev_io_mod(&lio, EPOLLIN);
}

static void
conn_timeout(struct ev_timer *t)
{
	(void)t;
	log_warnx("configuration connection from %s: no data for %d s, "
	    "dropped without applying it", peer, CFGSOCK_TIMEOUT);
	conn_end();
}

static void
conn_read(struct ev_io *io, uint32_t events)
{
	struct cfg_stats st;
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
		ev_timer_set(&ctm, ev_now() + CFGSOCK_TIMEOUT * 1000,
		    conn_timeout);
		return;
	}
	memset(&st, 0, sizeof(st));
	cfg_process(buf, len, &st);
	log_info("configuration connection from %s: %zu line%s, %zu applied, "
	    "%zu rejected", peer, st.lines, st.lines == 1 ? "" : "s",
	    st.applied, st.rejected);
	if (st.applied > 0)
		smtpproc_lists_changed();
	conn_end();
}

static void
listen_event(struct ev_io *io, uint32_t events)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct addr a;
	uint16_t port;
	int fd;

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
	if (ev_io_add(&cio, fd, EPOLLIN, conn_read) == -1) {
		close(fd);
		return;
	}
	/* One at a time: later ones wait in the backlog. */
	ev_io_mod(&lio, 0);
	ev_timer_set(&ctm, ev_now() + CFGSOCK_TIMEOUT * 1000, conn_timeout);
}

int
cfgsock_listen(int fd)
{
	cio.fd = -1;
	return ev_io_add(&lio, fd, EPOLLIN, listen_event);
}
