/*
 * sandbox.h: the seccomp allow-list of spamd's SMTP process.
 *
 *	sandbox_smtp()	confine the calling process to the system calls
 *			its event loop needs; any other call kills it
 *			(SIGSYS), and the supervisor logs that. Call it
 *			after the privilege drop and after every socket,
 *			signal descriptor and log connection is set up.
 *			0, or -1 with a log line if the filter could not be
 *			loaded (the caller decides whether that is fatal).
 *
 * Under AddressSanitizer the filter is not loaded: LeakSanitizer stops
 * the process with ptrace at exit, which no sane allow-list permits.
 * sandbox_supported() says whether this build loads it at all.
 */
#ifndef SANDBOX_H
#define SANDBOX_H

int	sandbox_smtp(void);
int	sandbox_supported(void);

#endif /* SANDBOX_H */
