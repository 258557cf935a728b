/*
 * scanfeed.c: the database pass in a child that feeds WHITE addresses to
 * spamd-nftsync through a pipe (see scanfeed.h).
 *
 * The pipe carries fixed 32-byte records in the host's byte order (both
 * ends are this program): a WHITE address, or the end mark followed by
 * the pass's counts. The pipe is made large (root may), so the walk,
 * which holds the database's shared lock, never waits for the parent
 * while the parent waits for the kernel. Where the pipe cannot grow
 * (pipe-max-size, 1 MiB by default, and no CAP_SYS_RESOURCE), the
 * parent drains it between its batches (scanfeed_next without waiting):
 * else the two took turns, the walk stopped at a full pipe while the
 * parent inserted, the parent waited for the walk to refill it.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/greydb.h"
#include "common/log.h"
#include "common/statedir.h"
#include "spamd-nftsync/scanfeed.h"

#define REC_WHITE	1
#define REC_END		2
#define BUF_LEN		(64 * 1024)
#define PIPE_WANT	(32 * 1024 * 1024)

struct rec {
	uint8_t		type;
	uint8_t		af;
	uint8_t		plen;
	uint8_t		pad[5];
	int64_t		expire;
	uint8_t		addr[16];
};

struct counts {
	uint64_t	records, expired, corrupt, promoted, grey, nwhite,
			ntrapped, spamtraps, reorganized;
};

/* The child's side: a buffered writer. */
struct out {
	int		 fd;
	unsigned char	 buf[BUF_LEN];
	size_t		 len;
};

static int
out_flush(struct out *o)
{
	size_t off = 0;
	ssize_t w;

	while (off < o->len) {
		w = write(o->fd, o->buf + off, o->len - off);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1)
			return -1;
		off += (size_t)w;
	}
	o->len = 0;
	return 0;
}

static int
out_put(struct out *o, const void *p, size_t len)
{
	if (o->len + len > sizeof(o->buf) && out_flush(o) == -1)
		return -1;
	memcpy(o->buf + o->len, p, len);
	o->len += len;
	return 0;
}

static int
feed(void *arg, const struct greyscan_addr *w)
{
	struct rec r;

	memset(&r, 0, sizeof(r));
	r.type = REC_WHITE;
	r.af = w->a.af;
	r.plen = w->plen;
	r.expire = w->expire;
	memcpy(r.addr, w->a.u.b, sizeof(r.addr));
	return out_put(arg, &r, sizeof(r));
}

static __dead void
child(int fd, const char *dbpath, int64_t now,
    const struct greylist_params *p, int flags)
{
	static struct out o;
	struct greyscan_res res;
	struct counts c;
	struct rec end;

	o.fd = fd;
	if (statedir_enter(dbpath, STATEDIR_FOR_GOOD) == -1)
		_exit(1);
	if (greyscan_stream(dbpath, now, p, flags, &res, feed, &o) == -1) {
		if (errno == ENOENT)
			log_warnx("%s: no database yet (spamd creates it)",
			    dbpath);
		else if (errno != EPIPE)
			log_warnx("%s", greydb_errstr());
		_exit(1);
	}
	memset(&end, 0, sizeof(end));
	end.type = REC_END;
	memset(&c, 0, sizeof(c));
	c.records = res.records;
	c.expired = res.expired;
	c.corrupt = res.corrupt;
	c.promoted = res.promoted;
	c.grey = res.grey;
	c.nwhite = res.nwhite;
	c.ntrapped = res.ntrapped;
	c.spamtraps = res.spamtraps;
	c.reorganized = (uint64_t)res.reorganized;
	greyscan_free(&res);
	if (out_put(&o, &end, sizeof(end)) == -1 ||
	    out_put(&o, &c, sizeof(c)) == -1 || out_flush(&o) == -1) {
		log_warn("scan: writing to spamd-nftsync");
		_exit(1);
	}
	_exit(0);
}

/*
 * Close every descriptor from fd up: close_range(2), or one by one where
 * a seccomp filter (systemd's SystemCallFilter on older releases) says no.
 */
static void
close_from(int fd)
{
	long max;
	int i;

	if (close_range((unsigned int)fd, ~0U, 0) == 0)
		return;
	if ((max = sysconf(_SC_OPEN_MAX)) <= 0 || max > 65536)
		max = 65536;
	for (i = fd; i < max; i++)
		(void)close(i);
}

int
scanfeed_start(struct scanfeed *sf, const char *dbpath, int64_t now,
    const struct greylist_params *p, int flags)
{
	int fds[2], size;

	memset(sf, 0, sizeof(*sf));
	sf->fd = -1;
	if ((sf->buf = malloc(BUF_LEN)) == NULL) {
		log_warn("malloc");
		return -1;
	}
	if (pipe2(fds, O_CLOEXEC) == -1 ||
	    fcntl(fds[0], F_SETFL, O_NONBLOCK) == -1) {
		log_warn("pipe");
		free(sf->buf);
		return -1;
	}
	/* As large as we may; a smaller pipe only makes the walk wait. */
	for (size = PIPE_WANT; size >= 64 * 1024; size /= 4)
		if (fcntl(fds[0], F_SETPIPE_SZ, size) != -1)
			break;
	if ((sf->pid = fork()) == -1) {
		log_warn("fork");
		close(fds[0]);
		close(fds[1]);
		free(sf->buf);
		return -1;
	}
	if (sf->pid == 0) {
		/* Nothing of the parent's (netlink) stays with the owner. */
		if (fds[1] != 3 && dup2(fds[1], 3) == -1) {
			log_warn("scan: dup2");
			_exit(1);
		}
		close_from(4);
		signal(SIGPIPE, SIG_DFL);
		child(3, dbpath, now, p, flags);
	}
	close(fds[1]);
	sf->fd = fds[0];
	return 0;
}

/*
 * Fill the buffer to at least need bytes; 1, 0 at EOF first, -1, or
 * SCANFEED_LATER when nothing more waits in the pipe and !wait.
 */
static int
fill(struct scanfeed *sf, size_t need, int wait)
{
	struct pollfd pfd = { sf->fd, POLLIN, 0 };
	ssize_t r;

	if (sf->off > 0) {
		memmove(sf->buf, sf->buf + sf->off, sf->len - sf->off);
		sf->len -= sf->off;
		sf->off = 0;
	}
	while (sf->len < need) {
		r = read(sf->fd, sf->buf + sf->len, BUF_LEN - sf->len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1 && errno == EAGAIN) {
			if (!wait)
				return SCANFEED_LATER;
			if (poll(&pfd, 1, -1) == -1 && errno != EINTR) {
				log_warn("waiting for the scan");
				return -1;
			}
			continue;
		}
		if (r == -1) {
			log_warn("reading from the scan");
			return -1;
		}
		if (r == 0)
			return 0;
		sf->len += (size_t)r;
	}
	return 1;
}

int
scanfeed_next(struct scanfeed *sf, struct greyscan_addr *w, int wait)
{
	struct rec r;
	struct counts c;
	int f;

	if (sf->done)
		return 0;
	if (sf->len - sf->off < sizeof(r) &&
	    (f = fill(sf, sizeof(r), wait)) != 1)
		/* EOF without the end mark: it failed */
		return f == SCANFEED_LATER ? f : -1;
	memcpy(&r, sf->buf + sf->off, sizeof(r));
	if (r.type == REC_WHITE && (r.af == AF_INET || r.af == AF_INET6) &&
	    r.plen <= 128) {
		sf->off += sizeof(r);
		memset(w, 0, sizeof(*w));
		w->a.af = r.af;
		memcpy(w->a.u.b, r.addr, sizeof(r.addr));
		w->plen = r.plen;
		w->expire = r.expire;
		return 1;
	}
	if (r.type != REC_END) {
		log_warnx("scan: a record of type %u", r.type);
		return -1;
	}
	/* The end mark stays until its counts are here too. */
	if (sf->len - sf->off < sizeof(r) + sizeof(c) &&
	    (f = fill(sf, sizeof(r) + sizeof(c), wait)) != 1)
		return f == SCANFEED_LATER ? f : -1;
	memcpy(&c, sf->buf + sf->off + sizeof(r), sizeof(c));
	sf->off += sizeof(r) + sizeof(c);
	sf->res.records = c.records;
	sf->res.expired = c.expired;
	sf->res.corrupt = c.corrupt;
	sf->res.promoted = c.promoted;
	sf->res.grey = c.grey;
	sf->res.nwhite = c.nwhite;
	sf->res.ntrapped = c.ntrapped;
	sf->res.spamtraps = c.spamtraps;
	sf->res.reorganized = (int)c.reorganized;
	sf->done = 1;
	return 0;
}

int
scanfeed_finish(struct scanfeed *sf)
{
	int status, rc = -1;

	if (sf->fd != -1)
		close(sf->fd);
	sf->fd = -1;
	free(sf->buf);
	sf->buf = NULL;
	if (sf->pid <= 0)
		return -1;
	while (waitpid(sf->pid, &status, 0) == -1) {
		if (errno != EINTR) {
			log_warn("waitpid");
			return -1;
		}
	}
	sf->pid = 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		rc = sf->done ? 0 : -1;
	else if (WIFSIGNALED(status))
		log_warnx("the database scan died of signal %d",
		    WTERMSIG(status));
	return rc;
}
