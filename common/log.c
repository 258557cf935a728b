/*
 * log.c: the one logging module of every program (see log.h).
 *
 * State is limited to the settings given by log_init, log_open and
 * friends. A forked process calls log_procname so that foreground output
 * (and log_open's stderr or file) says which process spoke. Messages are
 * formatted once (fmt_v, common/fmt.c) into a fixed buffer (truncated
 * at LOG_LINE_MAX) and escaped if they hold a control byte; the prefix
 * of each sink (syslog's "<pri>date ident[pid]: " by fmt_s, a file's UTC
 * stamp with memcpy) is added to it, its timestamp kept for the second
 * it names.
 *
 * Syslog is spoken here, not through syslog(3): glibc's syslog() makes a
 * new socket and connects again whenever a send fails (the daemon was
 * restarted), and the SMTP process's seccomp filter forbids new sockets.
 * log_init connects one datagram socket to /dev/log before any fork, drop
 * or filter; every line is one send(2) on it. Until log_seal, a failed
 * send reconnects once and retries; after log_seal (the sandboxed
 * process) a line that cannot be sent goes to the log_set_forward hook
 * (the SMTP process hands it to the greylister, which is not sealed),
 * or, without one or if it fails, is dropped and counted (log_dropped);
 * never retried, so a dead syslog neither kills nor spins the process.
 * The next line that does get through says how many were lost.
 *
 * Lines for stderr or a file are one write(2) each, unless log_defer(1)
 * (spamd's event loop, spamd/ev.c): then they are held in a buffer that
 * log_flush writes whole before the process waits for events again, when
 * it fills, at exit and before a fork; under load that is one write for
 * many connections' lines, and no line waits longer than one turn of the
 * loop; the SMTP process closes a connection only after the turn's
 * lines are out (ev_io_close_late) and flushes before it answers on its
 * configuration socket, so a client that has seen the end finds the
 * lines about it. Syslog lines are one datagram each either way.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/fmt.h"
#include "common/log.h"

#define LOG_LINE_MAX	2048
#define LOG_BUF_LEN	16384	/* lines held by log_defer between flushes */

static const char *log_ident = "spamd";
static const char *log_proc;
static int	log_fg = 1;
static int	log_verb;
static int	log_opened;
static int	log_fd = -1;	/* log_open's stderr or file, or -1: syslog */
static int	log_stamp;	/* a file: lines start with a UTC timestamp */
static void	(*log_hook)(int, const char *);
static const char *log_syspath = "/dev/log";
static int	log_sysfd = -1;	/* the connected syslog socket, or -1 */
static int	log_sealed;	/* no new socket: drop what cannot be sent */
static unsigned long log_lost;	/* lines dropped since the last one sent */
static unsigned long log_lost_total;
static char	log_buf[LOG_BUF_LEN];	/* log_defer: lines not written yet */
static size_t	log_buflen;
static int	log_deferring;
static int	(*log_fwd)(int, const char *);
static int	log_in_fwd;	/* the hook itself logging: no recursion */

/* (Re)connect the syslog socket; -1 if there is no syslog to talk to. */
static int
syslog_connect(void)
{
	struct sockaddr_un sun;
	int fd;

	if (log_sysfd != -1) {
		(void)close(log_sysfd);
		log_sysfd = -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(log_syspath) >= sizeof(sun.sun_path))
		return -1;
	memcpy(sun.sun_path, log_syspath, strlen(log_syspath) + 1);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		(void)close(fd);
		return -1;
	}
	log_sysfd = fd;
	return 0;
}

/* Tests: the syslog socket's path instead of /dev/log. */
void
log_syslog_path(const char *path)
{
	log_syspath = path;
}

void
log_set_forward(int (*fn)(int, const char *))
{
	log_fwd = fn;
}

void
log_seal(void)
{
	log_sealed = 1;
}

unsigned long
log_dropped(void)
{
	return log_lost_total;
}

/*
 * Lines are assembled without a second printf: a file's with memcpy
 * (assemble), syslog's datagram with fmt_s, which does its few
 * conversions itself; the message is formatted once, in log_emit.
 * Timestamps change once a second, so the last one is kept (strftime is
 * most of the cost of a short line).
 */
struct stamp {
	time_t	t;
	int	valid;
	char	s[32];
};

/* Append s at *o, as much as fits in cap - 1 bytes; NUL-terminated. */
static void
put(char *buf, size_t cap, size_t *o, const char *s)
{
	size_t n = strlen(s);

	if (*o >= cap - 1)
		return;
	if (n > cap - 1 - *o)
		n = cap - 1 - *o;
	memcpy(buf + *o, s, n);
	*o += n;
	buf[*o] = '\0';
}

/*
 * This second's time: a file's UTC stamp ("2026-12-04T03:09:14Z "), or
 * syslog's local one ("Dec  4 03:09:14 "); "" if the clock fails.
 */
static const char *
stamp(struct stamp *c, int utc)
{
	struct timespec ts;
	struct tm tm;

	/* clock_gettime, not time(2): the filter allows only the former */
	if (clock_gettime(CLOCK_REALTIME, &ts) == -1)
		return "";
	if (!c->valid || ts.tv_sec != c->t) {
		if ((utc ? gmtime_r(&ts.tv_sec, &tm) :
		    localtime_r(&ts.tv_sec, &tm)) == NULL ||
		    (utc ? strftime(c->s, sizeof(c->s), "%Y-%m-%dT%H:%M:%SZ ",
		    &tm) : strftime(c->s, sizeof(c->s), "%b %e %H:%M:%S ",
		    &tm)) == 0)
			c->s[0] = '\0';
		c->t = ts.tv_sec;
		c->valid = 1;
	}
	return c->s;
}

/* One datagram as syslog(3) makes it: "<pri>Mmm dd hh:mm:ss ident[pid]: msg" */
static int
syslog_send(int pri, const char *line)
{
	static struct stamp st;
	char buf[LOG_LINE_MAX + 128];
	size_t o;
	int n;

	if (log_sysfd == -1)
		return -1;
	if ((n = fmt_s(buf, sizeof(buf), "<%d>%s%s[%ld]: %s",
	    LOG_DAEMON | LOG_PRI(pri), stamp(&st, 0), log_ident,
	    (long)getpid(), line)) < 0)
		return -1;
	o = (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1;
	/* A sealed (event loop) process must not block on a slow syslog. */
	return send(log_sysfd, buf, o, MSG_NOSIGNAL |
	    (log_sealed ? MSG_DONTWAIT : 0)) == -1 ? -1 : 0;
}

static void
emit_syslog(int pri, const char *line)
{
	char note[96];
	int r;

	if (syslog_send(pri, line) == -1 &&
	    (log_sealed || syslog_connect() == -1 ||
	    syslog_send(pri, line) == -1)) {
		if (log_sealed && log_fwd != NULL && !log_in_fwd) {
			log_in_fwd = 1;
			r = log_fwd(LOG_PRI(pri), line);
			log_in_fwd = 0;
			if (r == 0)
				return;
		}
		log_lost++;
		log_lost_total++;
		return;
	}
	if (log_lost > 0) {
		(void)snprintf(note, sizeof(note), "%lu log line%s dropped: "
		    "syslog was not reachable", log_lost,
		    log_lost == 1 ? "" : "s");
		if (syslog_send(LOG_WARNING, note) == 0)
			log_lost = 0;
	}
}

/*
 * Where a daemon logs once log_init says it is no longer in the
 * foreground: "syslog" (the default), "stderr" (a duplicate of the
 * current standard error, which survives daemon(3)'s redirection to
 * /dev/null) or an absolute path, opened now for appending (created mode
 * 0640, never through a symlink). The descriptor is opened before any
 * privilege drop or sandbox and inherited by forked processes, which
 * only write(2) to it: one write per line, so the lines of several
 * processes never mix. Nothing reopens it; rotate it with copytruncate
 * (O_APPEND writes land at the new end). -1 and errno on failure.
 */
int
log_open(const char *dest)
{
	int fd;

	if (strcmp(dest, "syslog") == 0)
		fd = -1;
	else if (strcmp(dest, "stderr") == 0) {
		if ((fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3)) == -1)
			return -1;
	} else if (dest[0] == '/') {
		if ((fd = open(dest, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW |
		    O_NOCTTY | O_CLOEXEC, 0640)) == -1)
			return -1;
	} else {
		errno = EINVAL;
		return -1;
	}
	if (log_fd != -1)
		(void)close(log_fd);
	log_fd = fd;
	log_stamp = dest[0] == '/';
	return 0;
}

void
log_init(const char *ident, int foreground, int verbose)
{
	log_ident = ident;
	log_fg = foreground;
	log_verb = verbose;
	if (!foreground && log_fd == -1 && !log_opened) {
		(void)syslog_connect();	/* if it fails, emit_syslog retries */
		log_opened = 1;
	}
}

/* "[stamp ]ident[[proc]]: line" and a newline, into buf; its length. */
static size_t
assemble(char *buf, size_t cap, const char *stamp_s, const char *line)
{
	size_t o = 0;

	buf[0] = '\0';
	put(buf, cap - 1, &o, stamp_s);
	put(buf, cap - 1, &o, log_ident);
	if (log_proc != NULL) {
		put(buf, cap - 1, &o, "[");
		put(buf, cap - 1, &o, log_proc);
		put(buf, cap - 1, &o, "]");
	}
	put(buf, cap - 1, &o, ": ");
	put(buf, cap - 1, &o, line);
	buf[o++] = '\n';
	buf[o] = '\0';
	return o;
}

/* The descriptor file and foreground lines go to. */
static int
line_fd(void)
{
	return log_fg ? STDERR_FILENO : log_fd;
}

/* Bytes to the line descriptor; nowhere to report a failure. */
static void
write_lines(const char *buf, size_t n)
{
	ssize_t w;
	int tries = 0;

	while (n > 0 && tries < 3) {
		if ((w = write(line_fd(), buf, n)) == -1) {
			if (errno != EINTR)
				return;
			tries++;
			continue;
		}
		buf += w;
		n -= (size_t)w;
	}
}

void
log_flush(void)
{
	size_t n = log_buflen;

	if (n == 0)
		return;
	log_buflen = 0;
	write_lines(log_buf, n);
}

static void
flush_at_exit(void)
{
	log_flush();
}

void
log_defer(int on)
{
	static int registered;

	if (!on)
		log_flush();
	else if (!registered) {
		/* exit() writes what is held; a fork never copies it. */
		(void)atexit(flush_at_exit);
		(void)pthread_atfork(flush_at_exit, NULL, NULL);
		registered = 1;
	}
	log_deferring = on;
}

/* One assembled line (or more) to the line descriptor, or held. */
static void
put_lines(const char *buf, size_t n)
{
	if (log_deferring && n <= sizeof(log_buf)) {
		if (log_buflen + n > sizeof(log_buf))
			log_flush();
		memcpy(log_buf + log_buflen, buf, n);
		log_buflen += n;
		return;
	}
	write_lines(buf, n);
}

/* One line to log_open's descriptor: one write(2), or held. */
static void
emit_fd(const char *line)
{
	static struct stamp st;
	char buf[LOG_LINE_MAX + 128];
	size_t n;

	n = assemble(buf, sizeof(buf), log_stamp ?
	    stamp(&st, 1) : "", line);
	put_lines(buf, n);
}

void
log_procname(const char *name)
{
	log_proc = name;
}

void
log_setverbose(int v)
{
	log_verb = v;
}

int
log_getverbose(void)
{
	return log_verb;
}

void
log_set_hook(void (*hook)(int, const char *))
{
	log_hook = hook;
}

/* Whether s has a control byte or a byte >= 0x7f (most lines have none). */
static int
needs_escape(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)(*s - 0x20) >= 0x7f - 0x20)
			return 1;
	return 0;
}

/* Escape control bytes and bytes >= 0x7f so logs stay one clean line each. */
static void
sanitise(char *dst, size_t dsize, const char *src)
{
	size_t o = 0;
	const unsigned char *s = (const unsigned char *)src;

	for (; *s != '\0' && o + 5 < dsize; s++) {
		if (*s < 0x20 || *s >= 0x7f) {
			snprintf(dst + o, dsize - o, "\\%03o", *s);
			o += 4;
		} else
			dst[o++] = (char)*s;
	}
	dst[o] = '\0';
}

void
log_emit(int pri, const char *fmt, va_list ap)
{
	char raw[LOG_LINE_MAX], esc[LOG_LINE_MAX];
	const char *line = raw;
	int saved = errno;

	(void)fmt_v(raw, sizeof(raw), fmt, ap);
	if (needs_escape(raw)) {
		sanitise(esc, sizeof(esc), raw);
		line = esc;
	}
	if (log_hook != NULL)
		log_hook(pri, line);
	if (log_fg) {
		char buf[LOG_LINE_MAX + 128];

		put_lines(buf, assemble(buf, sizeof(buf), "", line));
	} else if (log_fd != -1)
		emit_fd(line);
	else
		emit_syslog(pri, line);
	errno = saved;
}

static void emitf(int, const char *, ...)
    __attribute__((format(printf, 2, 3)));
static void emit_errno(int, const char *, va_list)
    __attribute__((format(printf, 2, 0)));

static void
emitf(int pri, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(pri, fmt, ap);
	va_end(ap);
}

static void
emit_errno(int pri, const char *fmt, va_list ap)
{
	char buf[LOG_LINE_MAX];
	int saved = errno;

	(void)fmt_v(buf, sizeof(buf), fmt, ap);
	emitf(pri, "%s: %s", buf, strerror(saved));
	errno = saved;
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit_errno(LOG_WARNING, fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_WARNING, fmt, ap);
	va_end(ap);
}

void
log_pri(int pri, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(pri, fmt, ap);
	va_end(ap);
}

void
log_notice(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_NOTICE, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_INFO, fmt, ap);
	va_end(ap);
}

void
(log_verbose)(const char *fmt, ...)
{
	va_list ap;

	if (log_verb < 1)
		return;
	va_start(ap, fmt);
	log_emit(LOG_INFO, fmt, ap);
	va_end(ap);
}

void
(log_debug)(const char *fmt, ...)
{
	va_list ap;

	if (log_verb < 2)
		return;
	va_start(ap, fmt);
	log_emit(LOG_DEBUG, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit_errno(LOG_CRIT, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_CRIT, fmt, ap);
	va_end(ap);
	exit(1);
}

/*
 * Rate limit for messages that a hostile peer could repeat at will. Returns
 * 0 when the caller should stay quiet; otherwise 1 plus the number of lines
 * suppressed since the last one, so the caller can say how many were lost.
 */
unsigned long
log_ratelimit(struct log_ratelimit *rl, unsigned int secs)
{
	int64_t now = (int64_t)clock_mono_ms();
	unsigned long n;

	if (rl->last != 0 && now - rl->last < (int64_t)secs * 1000) {
		rl->suppressed++;
		return 0;
	}
	rl->last = now;
	n = rl->suppressed;
	rl->suppressed = 0;
	return n + 1;
}
