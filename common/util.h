/*
 * util.h: small helpers shared by the programs.
 *
 *	util_parse_time(s, unit, min, max, &out, &errstr)
 *		a duration with an optional suffix s, m, h or d; a bare number
 *		is in `unit' seconds (1, 60, 3600). Bounds are in seconds.
 *	util_parse_size(s, min, max, &out, &errstr)
 *		a byte count with an optional suffix k, M or G (powers of 1024)
 *	util_fmt_size(bytes, buf, len)	"512M", "1.5G", "300k", "12" for logs
 *	util_fmt_time(secs, buf, len)	"36d", "1h30m", "25m", "0s"
 *	xmalloc, xcalloc, xreallocarray, xstrdup
 *		fatal on exhaustion: for start-up and command-line tools only;
 *		a daemon's per-connection paths handle NULL themselves.
 *	util_errf(buf, len, fmt, ...)	format an error message into a
 *		caller's buffer (nothing when len is 0): for pure functions
 *		that report why instead of logging
 *	util_put32, util_get32, util_put64, util_get64	big-endian
 *		integers in byte buffers (the database and journal formats)
 *	util_open_file(path, flags, mode, why, whylen)	open(2) for a file
 *		in a directory another user owns: refuses a symlink, anything
 *		but a regular file, and a file with more than one hard link;
 *		-1 with errno set and the reason (without the path) in why
 *	util_own_like_dir(fd, path)	as root, give the file we created
 *		(open at fd, named path) the owner of its directory, so the
 *		unprivileged daemon can write it; never chowns by name
 *	util_keep_owner(fd, path, old)	as root, give a file rebuilt under a
 *		new inode (open at fd) the owner it had (old: its stat before)
 *	util_send_all(fd, buf, len)	send all of it (MSG_NOSIGNAL)
 *	util_unix_socket(path, &sun, err, errlen)	a stream socket
 *		(close-on-exec) and sun filled in for path: the descriptor,
 *		or -1 with the reason in err
 *	util_wait_in(fd, deadline)	wait until fd is readable (or hung up)
 *		or the monotonic clock (clock_mono_ms) reaches deadline:
 *		1 readable, 0 deadline, -1 poll failed (errno)
 */
#ifndef UTIL_H
#define UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/stat.h>

int	util_parse_time(const char *, int64_t, int64_t, int64_t, int64_t *,
	    const char **);
char	*util_fmt_time(int64_t, char *, size_t);
int	util_parse_size(const char *, int64_t, int64_t, int64_t *,
	    const char **);
char	*util_fmt_size(int64_t, char *, size_t);
void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
int	util_open_file(const char *, int, mode_t, char *, size_t);
void	util_own_like_dir(int, const char *);
void	util_keep_owner(int, const char *, const struct stat *);
void	util_put32(uint8_t *, uint32_t);
uint32_t util_get32(const uint8_t *);
void	util_put64(uint8_t *, uint64_t);
uint64_t util_get64(const uint8_t *);
int	util_send_all(int, const void *, size_t);
int	util_wait_in(int, uint64_t);
struct sockaddr_un;
int	util_unix_socket(const char *, struct sockaddr_un *, char *, size_t);
void	util_errf(char *, size_t, const char *, ...)
	    __attribute__((format(printf, 3, 4)));

#endif /* UTIL_H */
