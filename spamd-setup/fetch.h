/*
 * fetch.h: get the bytes of a list: a local file, a command's output, or
 * an http/https URL fetched by the curl program; gzip data is unpacked.
 *
 *	fetch_list(method, what, opts, &buf, &len, err, errlen)
 *		method is a conf_method; what is the path, the command line or
 *		the URL without its scheme. 0 with a malloc'd buffer (plus a
 *		NUL after len bytes), or -1 with the reason in err.
 *	fetch_file(path, opts, ...)	read a file
 *	fetch_exec(argv, user, opts, ...)	run argv[0] (PATH search) with
 *		stdin from /dev/null, collect stdout (stderr is passed
 *		through); a non-zero exit, a signal, the timeout or too much
 *		output is a failure. If user is not NULL and we are root, the
 *		child runs as that user.
 *	fetch_gunzip(in, inlen, max, &out, &outlen, err, errlen)
 *	fetch_is_gzip(buf, len)	the gzip magic 1f 8b
 *	fetch_split(cmdline, &argv)	split on blanks (no quoting, as
 *		OpenBSD); argv and its strings come from one malloc'd block
 *
 * http/https run `curl -q -sS -f -L' with connect and total timeouts,
 * redirects limited to http/https, and a size limit. Started as root,
 * curl runs as opts->user (FETCH_USER, "nobody", by default; spamd-setup
 * --fetch-user) with that user's primary group and no other: never as
 * the spamd user, which owns the database (OpenBSD runs ftp(1) as
 * _spamd), so a compromised download can write nothing of spamd's. A
 * missing user, or the spamd user itself, is an error: no download.
 * exec commands run with our own privileges, as in OpenBSD.
 */
#ifndef FETCH_H
#define FETCH_H

#include <stddef.h>

#include "spamd-setup/conf.h"

#define FETCH_MAX		(512UL * 1024 * 1024)	/* bytes, unpacked */
#define FETCH_TIMEOUT		300	/* s: a command or a download */
#define FETCH_CONNECT_TIMEOUT	30	/* s: curl's connect timeout */
#define FETCH_USER		"nobody"	/* runs curl when we are root */

struct fetch_opts {
	size_t		 max;		/* FETCH_MAX */
	int		 timeout;	/* FETCH_TIMEOUT */
	int		 connect_timeout;
	const char	*curl;		/* "curl": the program to run */
	const char	*user;		/* FETCH_USER: who runs it (as root) */
};

void	fetch_defaults(struct fetch_opts *);
int	fetch_list(enum conf_method, const char *, const struct fetch_opts *,
	    char **, size_t *, char *, size_t);
int	fetch_file(const char *, const struct fetch_opts *, char **, size_t *,
	    char *, size_t);
int	fetch_exec(char *const *, const char *, const struct fetch_opts *,
	    char **, size_t *, char *, size_t);
int	fetch_gunzip(const char *, size_t, size_t, char **, size_t *, char *,
	    size_t);
int	fetch_is_gzip(const char *, size_t);
size_t	fetch_split(const char *, char ***);

#endif /* FETCH_H */
