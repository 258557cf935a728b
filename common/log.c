/*
 * log.c: the one logging module of every program (see log.h).
 *
 * State is limited to the settings given by log_init, log_open and
 * friends. A forked process calls log_procname so that foreground output
 * (and log_open's stderr or file) says which process spoke. Messages are formatted into a fixed buffer (truncated at
 * LOG_LINE_MAX) and sanitised before they reach syslog or stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"

#define LOG_LINE_MAX	2048

static const char *log_ident = "spamd";
static const char *log_proc;
static int	log_fg = 1;
static int	log_verb;
static int	log_opened;
static int	log_fd = -1;	/* log_open's stderr or file, or -1: syslog */
static int	log_stamp;	/* a file: lines start with a UTC timestamp */
static void	(*log_hook)(int, const char *);

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
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
		log_opened = 1;
	}
}

/* One line to log_open's descriptor, in one write(2). */
static void
emit_fd(const char *line)
{
	char buf[LOG_LINE_MAX + 128], stamp[32] = "";
	struct timespec ts;
	struct tm tm;
	int n;

	if (log_stamp && clock_gettime(CLOCK_REALTIME, &ts) == 0 &&
	    gmtime_r(&ts.tv_sec, &tm) != NULL)
		(void)strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ ", &tm);
	if (log_proc != NULL)
		n = snprintf(buf, sizeof(buf), "%s%s[%s]: %s\n", stamp,
		    log_ident, log_proc, line);
	else
		n = snprintf(buf, sizeof(buf), "%s%s: %s\n", stamp, log_ident,
		    line);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(buf)) {
		n = sizeof(buf) - 1;
		buf[n - 1] = '\n';
	}
	/* Nowhere to report a failure; a signal may interrupt once. */
	if (write(log_fd, buf, (size_t)n) == -1 && errno == EINTR)
		(void)write(log_fd, buf, (size_t)n);
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
	char raw[LOG_LINE_MAX], line[LOG_LINE_MAX];
	int saved = errno;

	vsnprintf(raw, sizeof(raw), fmt, ap);
	sanitise(line, sizeof(line), raw);
	if (log_hook != NULL)
		log_hook(pri, line);
	if (log_fg) {
		if (log_proc != NULL)
			fprintf(stderr, "%s[%s]: %s\n", log_ident, log_proc,
			    line);
		else
			fprintf(stderr, "%s: %s\n", log_ident, line);
	} else if (log_fd != -1)
		emit_fd(line);
	else
		syslog(pri, "%s", line);
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

	vsnprintf(buf, sizeof(buf), fmt, ap);
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
log_verbose(const char *fmt, ...)
{
	va_list ap;

	if (log_verb < 1)
		return;
	va_start(ap, fmt);
	log_emit(LOG_INFO, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
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
