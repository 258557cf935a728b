/*
 * scanfeed.c: the database pass in a child that feeds WHITE addresses to
 * spamd-nftsync through a pipe (see scanfeed.h).
 *
 * The child writes fixed 32-byte records in the host's byte order (both
 * ends are this program) to a memfd: a WHITE address, or the end mark
 * followed by the pass's counts. After each 64 KiB it writes the memfd's
 * new length, 8 bytes, to a pipe; the parent reads the lengths from the
 * pipe and the records from the memfd, and punches out what it has read.
 * So the walk, which holds the database's shared lock, never waits for
 * the parent while the parent waits for the kernel: a pipe alone holds
 * 1 MiB (pipe-max-size; more needs CAP_SYS_RESOURCE, which containers
 * often lack), and with it the walk stopped at a full pipe whenever a
 * batch went in, then the parent waited for the walk. The pipe's end of
 * file is the child's end; the end mark says that the pass succeeded.
 */
#include <sys/capability.h>
#include <sys/mman.h>
#include <sched.h>
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
#define PUNCH_EVERY	(4 * 1024 * 1024)	/* read memfd bytes freed */
#define SCAN_FD		3	/* the child's pipe, then its memfd */
#define YIELD_WAIT_MS	50	/* a wait this long: the child yields no more */

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

/* The child's side: a buffered writer to the memfd, told on the pipe. */
struct out {
	int		 fd, mfd;
	uint64_t	 end;		/* the memfd's length */
	unsigned char	 buf[BUF_LEN];
	size_t		 len;
};

static int
write_all(int fd, const void *p, size_t len)
{
	size_t off = 0;
	ssize_t w;

	while (off < len) {
		w = write(fd, (const unsigned char *)p + off, len - off);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1)
			return -1;
		off += (size_t)w;
	}
	return 0;
}

static int
out_flush(struct out *o)
{
	if (write_all(o->mfd, o->buf, o->len) == -1)
		return -1;
	o->end += o->len;
	o->len = 0;
	/* 8 bytes: one atomic pipe write */
	return write_all(o->fd, &o->end, sizeof(o->end));
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
child(int fd, int mfd, const char *dbpath, int64_t now,
    const struct greylist_params *p, int flags)
{
	static struct out o;
	struct greyscan_res res;
	struct counts c;
	struct rec end;

	o.fd = fd;
	o.mfd = mfd;
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
 * Whether this process may give the child its priority back: leaving
 * SCHED_IDLE needs CAP_SYS_NICE (or an RLIMIT_NICE of 20, which nobody
 * sets). Without it (spamd-nftsync.service keeps only CAP_NET_ADMIN) the
 * walk keeps its priority: idle for good, it could hold the database's
 * read lock for minutes on a busy box.
 */
static int
can_renice(void)
{
	cap_flag_value_t v = CAP_CLEAR;
	cap_t caps;

	if ((caps = cap_get_proc()) == NULL)
		return 0;
	if (cap_get_flag(caps, CAP_SYS_NICE, CAP_EFFECTIVE, &v) == -1)
		v = CAP_CLEAR;
	cap_free(caps);
	return v == CAP_SET;
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
    const struct greylist_params *p, int flags, int yield)
{
	const struct sched_param sp = { 0 };
	int fds[2];

	memset(sf, 0, sizeof(*sf));
	sf->fd = sf->mfd = -1;
	if ((sf->buf = malloc(BUF_LEN)) == NULL) {
		log_warn("malloc");
		return -1;
	}
	if ((sf->mfd = memfd_create("spamd-nftsync scan", MFD_CLOEXEC)) ==
	    -1) {
		log_warn("memfd_create");
		free(sf->buf);
		return -1;
	}
	if (pipe2(fds, O_CLOEXEC) == -1 ||
	    fcntl(fds[0], F_SETFL, O_NONBLOCK) == -1) {
		log_warn("pipe");
		goto fail;
	}
	if ((sf->pid = fork()) == -1) {
		log_warn("fork");
		close(fds[0]);
		close(fds[1]);
		goto fail;
	}
	if (sf->pid == 0) {
		int w, m;

		/*
		 * Nothing of the parent's (netlink) stays with the owner:
		 * the pipe becomes 3, the memfd 4, by way of copies above
		 * both (either may be 3 or 4 now).
		 */
		if ((w = fcntl(fds[1], F_DUPFD, SCAN_FD + 2)) == -1 ||
		    (m = fcntl(sf->mfd, F_DUPFD, SCAN_FD + 2)) == -1 ||
		    dup2(w, SCAN_FD) == -1 || dup2(m, SCAN_FD + 1) == -1) {
			log_warn("scan: dup2");
			_exit(1);
		}
		close_from(SCAN_FD + 2);
		signal(SIGPIPE, SIG_DFL);
		child(SCAN_FD, SCAN_FD + 1, dbpath, now, p, flags);
	}
	close(fds[1]);
	sf->fd = fds[0];
	/*
	 * Set by the parent, so that its promotion (told) cannot come
	 * first; only if it can promote the walk again.
	 */
	if (yield && can_renice() &&
	    sched_setscheduler(sf->pid, SCHED_IDLE, &sp) == 0)
		sf->yielding = 1;
	return 0;
fail:
	close(sf->mfd);
	sf->mfd = -1;
	free(sf->buf);
	return -1;
}

/*
 * What the pipe says: the memfd's length after the child's last write
 * (the lengths only grow). 1 read, 0 end of file, -1 failed (logged),
 * SCANFEED_LATER nothing new and !wait.
 */
static int
told(struct scanfeed *sf, int wait)
{
	const struct sched_param sp = { 0 };
	struct pollfd pfd = { sf->fd, POLLIN, 0 };
	uint64_t end[512];
	ssize_t r;
	int pr;

	for (;;) {
		r = read(sf->fd, end, sizeof(end));
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1 && errno == EAGAIN) {
			if (!wait)
				return SCANFEED_LATER;
			pr = poll(&pfd, 1, sf->yielding ? YIELD_WAIT_MS : -1);
			if (pr == -1 && errno != EINTR) {
				log_warn("waiting for the scan");
				return -1;
			}
			/*
			 * Idle priority lets the walk fall behind only while
			 * the box is busy; then it gets its share back, so
			 * that its read lock on the database is not held
			 * for longer than that.
			 */
			if (pr == 0 && sf->yielding) {
				sf->yielding = 0;
				if (sched_setscheduler(sf->pid, SCHED_OTHER,
				    &sp) == -1)
					log_warn("the database scan fell "
					    "behind, and its priority cannot "
					    "be given back");
				else
					log_verbose("the database scan fell "
					    "behind for %d ms: back to normal "
					    "priority", YIELD_WAIT_MS);
			}
			continue;
		}
		if (r == -1) {
			log_warn("reading from the scan");
			return -1;
		}
		if (r == 0)
			return 0;
		if (r % (ssize_t)sizeof(end[0]) != 0 ||
		    end[r / (ssize_t)sizeof(end[0]) - 1] < sf->avail) {
			log_warnx("scan: a broken notice on the pipe");
			return -1;
		}
		sf->avail = end[r / (ssize_t)sizeof(end[0]) - 1];
		return 1;
	}
}

/* Up to len bytes of the memfd into the buffer; -1 logged. */
static int
take_in(struct scanfeed *sf, size_t len)
{
	ssize_t r;
	uint64_t to;

	do
		r = pread(sf->mfd, sf->buf + sf->len, len, (off_t)sf->rd);
	while (r == -1 && errno == EINTR);
	if (r <= 0) {
		if (r == -1)
			log_warn("reading from the scan");
		else
			log_warnx("scan: the memfd is shorter than said");
		return -1;
	}
	sf->len += (size_t)r;
	sf->rd += (uint64_t)r;
	/* What is read goes: the memfd holds only what waits. */
	if ((to = sf->rd - sf->rd % PUNCH_EVERY) > sf->punched) {
		(void)fallocate(sf->mfd, FALLOC_FL_PUNCH_HOLE |
		    FALLOC_FL_KEEP_SIZE, (off_t)sf->punched,
		    (off_t)(to - sf->punched));
		sf->punched = to;
	}
	return 0;
}

/*
 * Fill the buffer to at least need bytes; 1, 0 at the child's end first,
 * -1, or SCANFEED_LATER when nothing more has come and !wait.
 */
static int
fill(struct scanfeed *sf, size_t need, int wait)
{
	uint64_t left;
	int t;

	if (sf->off > 0) {
		memmove(sf->buf, sf->buf + sf->off, sf->len - sf->off);
		sf->len -= sf->off;
		sf->off = 0;
	}
	while (sf->len < need) {
		if ((left = sf->avail - sf->rd) > 0) {
			if (take_in(sf, left < BUF_LEN - sf->len ?
			    (size_t)left : BUF_LEN - sf->len) == -1)
				return -1;
			continue;
		}
		if (sf->eof)
			return 0;
		if ((t = told(sf, wait)) == 0)
			sf->eof = 1;
		else if (t != 1)
			return t;
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
	if (sf->mfd != -1)
		close(sf->mfd);
	sf->fd = sf->mfd = -1;
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
