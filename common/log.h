/*
 * log.h: logging to syslog, or to stderr in the foreground.
 *
 *	log_init(ident, foreground, verbose)	choose the sink; call once per process
 *	log_open(dest)		the sink when not in the foreground: "syslog",
 *				"stderr" or an absolute file path (opened now,
 *				inherited across fork; see log.c)
 *	log_procname(name)	tag stderr lines of a forked process ("grey")
 *	log_setverbose(n)	0 quiet, 1 -v (greylist decisions), 2 debug
 *	log_getverbose()	the current level
 *	log_warn/log_warnx	LOG_WARNING; warn appends ": strerror(errno)"
 *	log_notice/log_info	LOG_NOTICE / LOG_INFO, always emitted
 *	log_verbose		LOG_INFO, only when verbose >= 1
 *	log_debug		LOG_DEBUG, only when verbose >= 2 (both
 *				evaluate their arguments only then: below)
 *	fatal/fatalx		LOG_CRIT and exit(1); fatal appends strerror(errno)
 *	log_ratelimit(rl, secs)	1 if a repeating message may be logged now
 *	log_set_hook(fn)	tests: every emitted line also goes to fn
 *	log_seal()		from now on make no new socket: syslog lines
 *				that cannot be sent are dropped and counted
 *				(the SMTP process, before its seccomp filter)
 *	log_set_forward(fn)	after log_seal, fn(pri, line) gets each syslog
 *				line that could not be sent (0: taken care of)
 *	log_pri(pri, fmt, ...)	a line at priority pri (a forwarded line)
 *	log_dropped()		syslog lines dropped so far in this process
 *	log_defer(on)		hold stderr and file lines in a buffer until
 *				log_flush (an event loop calls it before it
 *				waits); off flushes first
 *	log_flush()		write the held lines in one write(2)
 *	log_syslog_path(p)	tests: syslog's socket path (not /dev/log);
 *				before log_init
 *
 * Lines go to syslog (facility LOG_DAEMON, ident as given), or to what
 * log_open chose, unless foreground is set, in which case they go to
 * stderr as "ident: message". A file gets "YYYY-MM-DDTHH:MM:SSZ " first.
 * Control characters in formatted messages are escaped (\ooo), because they
 * often carry client-supplied bytes.
 */
#ifndef LOG_H
#define LOG_H

#include <stdarg.h>
#include <stdint.h>
#include <syslog.h>

#include "common/compat.h"

struct log_ratelimit {
	int64_t		last;		/* monotonic ms of the last line, 0 never */
	unsigned long	suppressed;	/* lines swallowed since then */
};

void	log_init(const char *, int, int);
int	log_open(const char *);
void	log_procname(const char *);
void	log_setverbose(int);
int	log_getverbose(void);
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_notice(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_verbose(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
__dead void fatal(const char *, ...) __attribute__((format(printf, 1, 2)));
__dead void fatalx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_emit(int, const char *, va_list) __attribute__((format(printf, 2, 0)));
unsigned long log_ratelimit(struct log_ratelimit *, unsigned int);
void	log_set_hook(void (*)(int, const char *));
void	log_seal(void);
void	log_set_forward(int (*)(int, const char *));
void	log_pri(int, const char *, ...) __attribute__((format(printf, 2, 3)));
unsigned long log_dropped(void);
void	log_syslog_path(const char *);
void	log_defer(int);
void	log_flush(void);

/*
 * log_verbose and log_debug test the level before their arguments are
 * computed: a line that will not be written costs no inet_ntop and no
 * formatting (most of the SMTP process's work per session at -v 0). The
 * functions remain, for a pointer to them.
 */
#define log_verbose(...) do {						\
	if (log_getverbose() >= 1)					\
		(log_verbose)(__VA_ARGS__);				\
} while (0)
#define log_debug(...) do {						\
	if (log_getverbose() >= 2)					\
		(log_debug)(__VA_ARGS__);				\
} while (0)

#endif /* LOG_H */
