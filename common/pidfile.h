/*
 * pidfile.h: a daemon's pid file, for supervisors and scripts without
 * systemd (kill $(cat FILE)).
 *
 *	pidfile_open(path)	before detaching, as root: open or create the
 *				file (never through a symlink, never a file
 *				with other links or not a regular file);
 *				-1 and errno on failure
 *	pidfile_write(rm)	after detaching: write getpid(); if rm, remove
 *				the file when this very process exits (a
 *				forked child inherits nothing of it), else
 *				close it and leave it
 *
 * The removal at exit runs after any privilege drop, so it needs write
 * access to the file's directory (a /run/spamd owned by the user, say);
 * without it the file is emptied instead. A process under a seccomp filter
 * that forbids unlink and ftruncate must pass rm = 0.
 */
#ifndef PIDFILE_H
#define PIDFILE_H

int	pidfile_open(const char *);
int	pidfile_write(int);

#endif /* PIDFILE_H */
