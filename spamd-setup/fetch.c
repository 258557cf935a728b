/*
 * fetch.c: read list data from files, commands and URLs (see fetch.h).
 *
 * Downloads go through the curl program rather than libcurl: the network
 * code then runs in a separate, unprivileged process, which is what
 * OpenBSD gets from running ftp(1) as _spamd, and the link line stays as
 * it is. Every child is bounded in time and output size, so a hung server
 * or a runaway command cannot hold a cron job forever.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "common/clock.h"
#include "common/compat.h"
#include "common/log.h"
#include "common/pathnames.h"
#include "common/util.h"
#include "spamd-setup/fetch.h"

void
fetch_defaults(struct fetch_opts *o)
{
	o->max = FETCH_MAX;
	o->timeout = FETCH_TIMEOUT;
	o->connect_timeout = FETCH_CONNECT_TIMEOUT;
	o->curl = "curl";
	o->user = FETCH_USER;
}

int
fetch_is_gzip(const char *buf, size_t len)
{
	return len >= 2 && (unsigned char)buf[0] == 0x1f &&
	    (unsigned char)buf[1] == 0x8b;
}

int
fetch_gunzip(const char *in, size_t inlen, size_t max, char **outp,
    size_t *outlenp, char *err, size_t errlen)
{
	z_stream zs;
	char *out;
	size_t cap = inlen * 4 + 4096, len = 0;
	int rc;

	if (cap > max + 1)
		cap = max + 1;
	out = xmalloc(cap + 1);
	memset(&zs, 0, sizeof(zs));
	/* 15 + 16: a gzip wrapper, the largest window */
	if (inflateInit2(&zs, 15 + 16) != Z_OK) {
		util_errf(err, errlen, "zlib: %s", zs.msg ? zs.msg : "init failed");
		free(out);
		return -1;
	}
	zs.next_in = (Bytef *)(uintptr_t)in;
	zs.avail_in = (uInt)(inlen > UINT_MAX ? UINT_MAX : inlen);
	for (;;) {
		if (len == cap) {
			if (cap > max) {
				util_errf(err, errlen, "gzip data unpacks to more "
				    "than %zu bytes", max);
				goto fail;
			}
			cap = cap * 2 > max + 1 ? max + 1 : cap * 2;
			out = xreallocarray(out, cap + 1, 1);
		}
		zs.next_out = (Bytef *)(out + len);
		zs.avail_out = (uInt)(cap - len > UINT_MAX ? UINT_MAX :
		    cap - len);
		rc = inflate(&zs, Z_NO_FLUSH);
		len = (size_t)((char *)zs.next_out - out);
		if (rc == Z_STREAM_END) {
			/* gzip allows several members back to back */
			if (zs.avail_in >= 2 &&
			    fetch_is_gzip((const char *)zs.next_in,
			    zs.avail_in)) {
				if (inflateReset(&zs) != Z_OK)
					goto zfail;
				continue;
			}
			break;
		}
		if (rc == Z_BUF_ERROR && zs.avail_in == 0) {
			util_errf(err, errlen, "truncated gzip data");
			goto fail;
		}
		if (rc != Z_OK && rc != Z_BUF_ERROR)
			goto zfail;
	}
	if (len > max) {
		util_errf(err, errlen, "gzip data unpacks to more than %zu bytes",
		    max);
		goto fail;
	}
	inflateEnd(&zs);
	out[len] = '\0';
	*outp = out;
	*outlenp = len;
	return 0;
zfail:
	util_errf(err, errlen, "corrupt gzip data: %s",
	    zs.msg ? zs.msg : "inflate failed");
fail:
	inflateEnd(&zs);
	free(out);
	return -1;
}

/* Unpack buf in place of itself if it is gzip data. */
static int
maybe_gunzip(char **buf, size_t *len, size_t max, char *err, size_t errlen)
{
	char *out;
	size_t outlen;

	if (!fetch_is_gzip(*buf, *len))
		return 0;
	if (fetch_gunzip(*buf, *len, max, &out, &outlen, err, errlen) == -1)
		return -1;
	free(*buf);
	*buf = out;
	*len = outlen;
	return 0;
}

/* Read fd to EOF (or the deadline, or max bytes); -1 with err. */
static int
read_all(int fd, size_t max, uint64_t deadline, char **bufp, size_t *lenp,
    char *err, size_t errlen)
{
	char *buf;
	size_t len = 0, cap = 64 * 1024;
	ssize_t r;
	int w;

	buf = xmalloc(cap + 1);
	for (;;) {
		if (deadline != 0 && (w = util_wait_in(fd, deadline)) != 1) {
			if (w == 0)
				util_errf(err, errlen, "timed out");
			else
				util_errf(err, errlen, "poll: %s",
				    strerror(errno));
			goto fail;
		}
		if (len == cap) {
			cap *= 2;
			buf = xreallocarray(buf, cap + 1, 1);
		}
		r = read(fd, buf + len, cap - len);
		if (r == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			util_errf(err, errlen, "read: %s", strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len > max) {
			util_errf(err, errlen, "more than %zu bytes", max);
			goto fail;
		}
	}
	buf[len] = '\0';
	*bufp = buf;
	*lenp = len;
	return 0;
fail:
	free(buf);
	return -1;
}

int
fetch_file(const char *path, const struct fetch_opts *o, char **bufp,
    size_t *lenp, char *err, size_t errlen)
{
	char e[256];
	int fd, rc;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		util_errf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	rc = read_all(fd, o->max, 0, bufp, lenp, e, sizeof(e));
	close(fd);
	if (rc == -1) {
		util_errf(err, errlen, "%s: %s", path, e);
		return -1;
	}
	if (maybe_gunzip(bufp, lenp, o->max, e, sizeof(e)) == -1) {
		free(*bufp);
		util_errf(err, errlen, "%s: %s", path, e);
		return -1;
	}
	return 0;
}

/* In the child: become user (uid/gid from the parent's lookup). */
static int
drop_to(uid_t uid, gid_t gid)
{
	if (setgroups(1, &gid) == -1 || setresgid(gid, gid, gid) == -1 ||
	    setresuid(uid, uid, uid) == -1)
		return -1;
	return 0;
}

/*
 * Start argv with its stdout on a pipe, as uid/gid when drop is set.
 * *pid and *outfd on success; -1 with err when the fork or the exec
 * failed (the child is reaped then).
 */
static int
spawn(char *const *argv, int drop, uid_t uid, gid_t gid, pid_t *pid,
    int *outfd, char *err, size_t errlen)
{
	int out[2], rep[2], cerrno, status, devnull;
	ssize_t r;

	if (pipe2(out, O_CLOEXEC) == -1) {
		util_errf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	if (pipe2(rep, O_CLOEXEC) == -1) {
		util_errf(err, errlen, "pipe: %s", strerror(errno));
		close(out[0]);
		close(out[1]);
		return -1;
	}
	fflush(NULL);
	if ((*pid = fork()) == -1) {
		util_errf(err, errlen, "fork: %s", strerror(errno));
		close(out[0]);
		close(out[1]);
		close(rep[0]);
		close(rep[1]);
		return -1;
	}
	if (*pid == 0) {
		/* only async-signal-safe calls from here on */
		if ((devnull = open("/dev/null", O_RDONLY)) == -1 ||
		    dup2(devnull, STDIN_FILENO) == -1 ||
		    dup2(out[1], STDOUT_FILENO) == -1 ||
		    (drop && drop_to(uid, gid) == -1))
			goto childfail;
		signal(SIGPIPE, SIG_DFL);
		execvp(argv[0], argv);
childfail:
		cerrno = errno;
		(void)!write(rep[1], &cerrno, sizeof(cerrno));
		_exit(127);
	}
	close(out[1]);
	close(rep[1]);
	/* the report pipe closes on exec; a value means the exec failed */
	do {
		r = read(rep[0], &cerrno, sizeof(cerrno));
	} while (r == -1 && errno == EINTR);
	close(rep[0]);
	if (r == sizeof(cerrno)) {
		util_errf(err, errlen, "cannot run %s: %s%s", argv[0],
		    strerror(cerrno), cerrno == ENOENT &&
		    strcmp(argv[0], "curl") == 0 ? " (install the curl package)"
		    : "");
		close(out[0]);
		while (waitpid(*pid, &status, 0) == -1 && errno == EINTR)
			;
		return -1;
	}
	*outfd = out[0];
	return 0;
}

/*
 * Wait for pid; a child that closed its output and lingers past the
 * deadline is killed. *rc becomes -1 with "timed out" in e if that
 * happened while the output was complete. -1 when waitpid fails.
 */
static int
reap(pid_t pid, uint64_t deadline, int *status, int *rc, char **bufp,
    char *e, size_t elen)
{
	pid_t w;

	while ((w = waitpid(pid, status, WNOHANG)) != pid) {
		if (w == -1 && errno != EINTR)
			return -1;
		if (w == 0 && clock_mono_ms() >= deadline) {
			kill(pid, SIGKILL);
			if (*rc == 0) {
				free(*bufp);
				*rc = -1;
				strlcpy(e, "timed out", elen);
			}
		}
		if (w == 0)
			usleep(10000);
	}
	return 0;
}

int
fetch_exec(char *const *argv, const char *user, const struct fetch_opts *o,
    char **bufp, size_t *lenp, char *err, size_t errlen)
{
	struct passwd *pw;
	uid_t uid = 0;
	gid_t gid = 0;
	int outfd, status, drop = 0, rc;
	char e[256];
	uint64_t deadline;
	pid_t pid;

	if (user != NULL && geteuid() == 0) {
		if ((pw = getpwnam(user)) == NULL) {
			util_errf(err, errlen, "no user %s to run %s as", user,
			    argv[0]);
			return -1;
		}
		uid = pw->pw_uid;
		gid = pw->pw_gid;
		drop = 1;
	}
	if (spawn(argv, drop, uid, gid, &pid, &outfd, err, errlen) == -1)
		return -1;
	deadline = clock_mono_ms() + (uint64_t)o->timeout * 1000;
	rc = read_all(outfd, o->max, deadline, bufp, lenp, e, sizeof(e));
	close(outfd);
	if (rc == -1)
		kill(pid, SIGKILL);
	/* a child may close its output and linger: bound the wait too */
	if (reap(pid, deadline, &status, &rc, bufp, e, sizeof(e)) == -1) {
		util_errf(err, errlen, "waitpid: %s", strerror(errno));
		if (rc == 0)
			free(*bufp);
		return -1;
	}
	if (rc == -1) {
		if (strcmp(e, "timed out") == 0)
			util_errf(err, errlen, "%s: no end after %d s; killed",
			    argv[0], o->timeout);
		else
			util_errf(err, errlen, "%s: output: %s", argv[0], e);
		return -1;
	}
	if (WIFSIGNALED(status) || WEXITSTATUS(status) != 0) {
		if (WIFSIGNALED(status))
			util_errf(err, errlen, "%s: killed by signal %d", argv[0],
			    WTERMSIG(status));
		else
			util_errf(err, errlen, "%s: exited with status %d",
			    argv[0], WEXITSTATUS(status));
		free(*bufp);
		return -1;
	}
	return 0;
}

size_t
fetch_split(const char *cmd, char ***argvp)
{
	size_t n = 0, len = strlen(cmd), i;
	char **argv, *s, *p;

	/* at most len/2 + 1 words; strings live after the pointer array */
	argv = xmalloc((len / 2 + 2) * sizeof(*argv) + len + 1);
	s = (char *)(argv + len / 2 + 2);
	memcpy(s, cmd, len + 1);
	for (p = s, i = 0; i <= len; i++) {
		if (s[i] == ' ' || s[i] == '\t' || s[i] == '\0') {
			s[i] = '\0';
			if (*p != '\0')
				argv[n++] = p;
			p = s + i + 1;
		}
	}
	argv[n] = NULL;
	*argvp = argv;
	return n;
}

/*
 * Who runs curl when we are root: o->user, which must exist and must not
 * be the spamd user (it owns the database). NULL when not root; -1 with
 * err when the user is unusable.
 */
static int
curl_user(const struct fetch_opts *o, const char **user, char *err,
    size_t errlen)
{
	struct passwd *pw;
	uid_t spamd;

	*user = NULL;
	if (geteuid() != 0)
		return 0;
	if ((pw = getpwnam(SPAMD_USER)) == NULL)
		spamd = (uid_t)-1;
	else
		spamd = pw->pw_uid;
	if ((pw = getpwnam(o->user)) == NULL) {
		util_errf(err, errlen, "no user %s to run curl as (spamd-setup "
		    "--fetch-user)", o->user);
		return -1;
	}
	if (pw->pw_uid == 0 || pw->pw_uid == spamd) {
		util_errf(err, errlen, "refusing to run curl as %s: it may "
		    "write spamd's files (spamd-setup --fetch-user)", o->user);
		return -1;
	}
	*user = o->user;
	return 0;
}

int
fetch_list(enum conf_method m, const char *what, const struct fetch_opts *o,
    char **bufp, size_t *lenp, char *err, size_t errlen)
{
	char **argv, url[4096], ct[16], mt[16], maxsz[32], e[256];
	const char *cargv[24], *user;
	size_t n;
	int rc;

	switch (m) {
	case CONF_FILE:
		return fetch_file(what, o, bufp, lenp, err, errlen);
	case CONF_EXEC:
		if ((n = fetch_split(what, &argv)) == 0) {
			util_errf(err, errlen, "empty command");
			free(argv);
			return -1;
		}
		rc = fetch_exec(argv, NULL, o, bufp, lenp, err, errlen);
		free(argv);
		break;
	case CONF_HTTP:
	case CONF_HTTPS:
		if ((size_t)snprintf(url, sizeof(url), "%s://%s",
		    m == CONF_HTTP ? "http" : "https", what) >= sizeof(url)) {
			util_errf(err, errlen, "URL longer than %zu bytes",
			    sizeof(url) - 1);
			return -1;
		}
		snprintf(ct, sizeof(ct), "%d", o->connect_timeout);
		snprintf(mt, sizeof(mt), "%d", o->timeout);
		snprintf(maxsz, sizeof(maxsz), "%zu", o->max);
		n = 0;
		cargv[n++] = o->curl;
		cargv[n++] = "-q";		/* no ~/.curlrc */
		cargv[n++] = "-sS";
		cargv[n++] = "-f";		/* HTTP errors fail */
		cargv[n++] = "-L";
		cargv[n++] = "--max-redirs";
		cargv[n++] = "5";
		cargv[n++] = "--proto";
		cargv[n++] = "=http,https";
		cargv[n++] = "--proto-redir";
		cargv[n++] = "=http,https";
		cargv[n++] = "--connect-timeout";
		cargv[n++] = ct;
		cargv[n++] = "--max-time";
		cargv[n++] = mt;
		cargv[n++] = "--max-filesize";
		cargv[n++] = maxsz;
		cargv[n++] = "-A";
		cargv[n++] = "spamd-setup";
		cargv[n++] = "-o";
		cargv[n++] = "-";
		cargv[n++] = url;
		cargv[n] = NULL;
		if (curl_user(o, &user, err, errlen) == -1)
			return -1;
		rc = fetch_exec((char *const *)(uintptr_t)cargv, user, o, bufp,
		    lenp, err, errlen);
		break;
	default:
		util_errf(err, errlen, "unknown method %d", (int)m);
		return -1;
	}
	if (rc == 0 && maybe_gunzip(bufp, lenp, o->max, e, sizeof(e)) == -1) {
		free(*bufp);
		util_errf(err, errlen, "%s", e);
		return -1;
	}
	return rc;
}
