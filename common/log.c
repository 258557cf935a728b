/*
 * log.c: the one logging module of every program (see log.h).
 *
 * State is limited to the settings given by log_init and friends. A forked
 * process calls log_procname so that foreground output says which process
 * spoke. Messages are formatted into a fixed buffer (truncated at
 * LOG_LINE_MAX) and sanitised before they reach syslog or stderr.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"

#define LOG_LINE_MAX	2048

static const char *log_ident = "spamd";
static const char *log_proc;
static int	log_fg = 1;
static int	log_verb;
static int	log_opened;
static void	(*log_hook)(int, const char *);

void
log_init(const char *ident, int foreground, int verbose)
{
	log_ident = ident;
	log_fg = foreground;
	log_verb = verbose;
	if (!foreground && !log_opened) {
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
		log_opened = 1;
	}
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
	} else
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
