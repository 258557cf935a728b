/*
 * cfgsock.c: accept and read configuration connections (see cfgsock.h).
 *
 * A connection is read to EOF (a line beyond --list-max-bytes is dropped
 * as it arrives, leaving an empty line in its place so line numbers
 * hold), then applied by a cfg_job in steps of CFG_STEP blocks, one step
 * per loop iteration, so clients are answered while a list of millions
 * of blocks is parsed, sorted and indexed.
 */
#include <sys/epoll.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "spamd/cfg.h"
#include "spamd/cfgsock.h"
#include "spamd/ev.h"
#include "spamd/spamd.h"

#define CFG_READ_CHUNK	(64 * 1024)
#define CFG_STEP	4096	/* blocks parsed or ranges sorted per step */
#define CFG_SLICE_MS	5	/* steps per loop iteration: about this long */

static struct ev_io	 lio;		/* the listener */
static struct ev_io	 cio;		/* the one active connection */
static struct ev_timer	 ctm;
static char		*buf;
static size_t		 len, cap;
static char		 peer[ADDR_STRLEN];
static size_t		 linestart;	/* offset of the line being read */
static int		 skipping;	/* that line is over the bound */
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

	ev_timer_del(&ctm);
	ev_io_del(&cio);
	if (fd != -1 && close(fd) == -1)
		log_warn("close");
	cfg_job_free(job);
	job = NULL;
	free(buf);
	buf = NULL;
	len = cap = 0;
	linestart = nrefused = 0;
	skipping = 0;
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
	if (st.applied > 0)
		smtpproc_lists_changed();
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
		scan_lines(len - (size_t)n);
		ev_timer_set(&ctm, ev_now() + CFGSOCK_TIMEOUT * 1000,
		    conn_timeout);
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
