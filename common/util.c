/*
 * util.c: duration parsing, allocation wrappers, error formatting and file
 * ownership helpers (see util.h).
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/compat.h"
#include "common/log.h"
#include "common/util.h"

/*
 * The number in num[0 .. len-1) (the suffix, if any, already cut off),
 * times mult (at most `mult_max', so the product cannot overflow), within
 * [min, max]. Shared by the time and size parsers below.
 */
static int
parse_scaled(char *num, size_t len, int64_t mult, int64_t mult_max,
    int64_t min, int64_t max, int64_t *out, const char **errstr)
{
	const char *e;
	int64_t v;

	num[len - 1] = '\0';
	if (num[0] == '\0' || num[0] == '-' || num[0] == '+' ||
	    num[0] == ' ') {
		*errstr = "invalid";
		return -1;
	}
	v = strtonum(num, 0, INT64_MAX / mult_max, &e);
	if (e != NULL) {
		*errstr = e;
		return -1;
	}
	v *= mult;
	if (v < min) {
		*errstr = "too small";
		return -1;
	}
	if (v > max) {
		*errstr = "too large";
		return -1;
	}
	*out = v;
	return 0;
}

/*
 * Parse "25", "25m", "90s", "4h", "36d". Bare numbers are multiplied by
 * `unit' so that OpenBSD's spellings keep their meaning (-G minutes:hours:
 * hours). Returns 0, or -1 with *errstr set to a short reason.
 */
int
util_parse_time(const char *s, int64_t unit, int64_t min, int64_t max,
    int64_t *out, const char **errstr)
{
	char num[32];
	size_t len = strlen(s);
	int64_t mult = unit;

	*errstr = NULL;
	if (len == 0 || len >= sizeof(num)) {
		*errstr = "invalid";
		return -1;
	}
	memcpy(num, s, len + 1);
	switch (num[len - 1]) {
	case 's': mult = 1; break;
	case 'm': mult = 60; break;
	case 'h': mult = 3600; break;
	case 'd': mult = 86400; break;
	default: mult = unit; len++; break;
	}
	return parse_scaled(num, len, mult, 86400, min, max, out, errstr);
}

int
util_parse_size(const char *s, int64_t min, int64_t max, int64_t *out,
    const char **errstr)
{
	char num[32];
	size_t len = strlen(s);
	int64_t mult = 1;

	*errstr = NULL;
	if (len == 0 || len >= sizeof(num)) {
		*errstr = "invalid";
		return -1;
	}
	memcpy(num, s, len + 1);
	switch (num[len - 1]) {
	case 'k': case 'K': mult = 1024; break;
	case 'm': case 'M': mult = 1024 * 1024; break;
	case 'g': case 'G': mult = 1024 * 1024 * 1024; break;
	default: len++; break;
	}
	return parse_scaled(num, len, mult, 1024 * 1024 * 1024, min, max, out,
	    errstr);
}

/* A byte count for logs: one decimal in the largest fitting unit. */
char *
util_fmt_size(int64_t n, char *buf, size_t len)
{
	static const char u[] = "kMG";
	double v = (double)n;
	int i = -1;

	while (v >= 1024 && i < 2) {
		v /= 1024;
		i++;
	}
	if (i < 0)
		snprintf(buf, len, "%lld", (long long)n);
	else
		snprintf(buf, len, "%.1f%c", v, u[i]);
	return buf;
}

/* Format a duration compactly for logs and usage messages. */
char *
util_fmt_time(int64_t secs, char *buf, size_t len)
{
	static const struct { int64_t n; char c; } u[] = {
		{ 86400, 'd' }, { 3600, 'h' }, { 60, 'm' }, { 1, 's' },
	};
	size_t i, o = 0;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	if (secs <= 0) {
		snprintf(buf, len, "%" PRId64 "s", secs);
		return buf;
	}
	for (i = 0; i < sizeof(u) / sizeof(u[0]) && o < len; i++) {
		if (secs >= u[i].n) {
			int n = snprintf(buf + o, len - o, "%" PRId64 "%c",
			    secs / u[i].n, u[i].c);
			if (n < 0)
				break;
			o += (size_t)n;
			secs %= u[i].n;
		}
	}
	return buf;
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n == 0 ? 1 : n);

	if (p == NULL)
		fatal("malloc %zu bytes", n);
	return p;
}

void *
xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb == 0 ? 1 : nmemb, size == 0 ? 1 : size);

	if (p == NULL)
		fatal("calloc %zu x %zu bytes", nmemb, size);
	return p;
}

void *
xreallocarray(void *p, size_t nmemb, size_t size)
{
	void *np;

	if (size != 0 && nmemb > SIZE_MAX / size) {
		errno = ENOMEM;
		fatal("reallocarray %zu x %zu bytes", nmemb, size);
	}
	np = realloc(p, nmemb * size == 0 ? 1 : nmemb * size);
	if (np == NULL)
		fatal("reallocarray %zu x %zu bytes", nmemb, size);
	return np;
}

char *
xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		fatal("strdup");
	return p;
}

/*
 * Send all of buf on a socket without SIGPIPE, going on after EINTR.
 * -1 with errno set (EAGAIN: the socket's send timeout ran out).
 */
int
util_send_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	size_t off;
	ssize_t r;

	for (off = 0; off < len; off += (size_t)r) {
		if ((r = send(fd, p + off, len - off, MSG_NOSIGNAL)) == -1) {
			if (errno != EINTR)
				return -1;
			r = 0;
		}
	}
	return 0;
}

int
util_wait_in(int fd, uint64_t deadline)
{
	struct pollfd pfd;
	uint64_t now;
	int r;

	for (;;) {
		if ((now = clock_mono_ms()) >= deadline)
			return 0;
		pfd.fd = fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		r = poll(&pfd, 1, deadline - now > INT_MAX ? INT_MAX :
		    (int)(deadline - now));
		if (r == -1 && errno != EINTR)
			return -1;
		if (r > 0)
			return 1;
	}
}

int
util_unix_socket(const char *path, struct sockaddr_un *sun, char *err,
    size_t errlen)
{
	int fd;

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlcpy(sun->sun_path, path, sizeof(sun->sun_path)) >=
	    sizeof(sun->sun_path)) {
		util_errf(err, errlen, "%s: path too long for a socket", path);
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		util_errf(err, errlen, "socket: %s", strerror(errno));
	return fd;
}

void
util_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/*
 * Files that root creates beside the database take the directory's owner,
 * so that the unprivileged daemon can keep writing them. Always through
 * the descriptor of the file we created: a name in a directory that
 * somebody else owns may be a symlink or a hard link by now.
 */
void
util_own_like_dir(int fd, const char *path)
{
	char *copy;
	struct stat st;

	if (geteuid() != 0)
		return;
	if ((copy = strdup(path)) == NULL) {
		log_warn("chown %s", path);
		return;
	}
	if (stat(dirname(copy), &st) == -1)
		log_warn("stat the directory of %s", path);
	else if (st.st_uid != 0 && fchown(fd, st.st_uid, st.st_gid) == -1)
		log_warn("chown %s", path);
	free(copy);
}

/* Keep the owner of a file that was rebuilt under a new inode (fd). */
void
util_keep_owner(int fd, const char *path, const struct stat *old)
{
	if (geteuid() == 0 && fchown(fd, old->st_uid, old->st_gid) == -1)
		log_warn("chown %s", path);
}

/*
 * Open a file beside the database without trusting its name: no symlink
 * (O_NOFOLLOW), no FIFO or device (O_NONBLOCK until fstat says it is a
 * regular file), no second hard link (a link to a file elsewhere). -1
 * with errno set and the reason, without the path, in why.
 */
int
util_open_file(const char *path, int flags, mode_t mode, char *why,
    size_t whylen)
{
	struct stat st;
	int fd, fl, saved;

	fd = open(path, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, mode);
	if (fd == -1) {
		saved = errno;
		util_errf(why, whylen, "%s", errno == ELOOP ?
		    "a symbolic link, refused" : strerror(errno));
		errno = saved;
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		saved = errno;
		util_errf(why, whylen, "fstat: %s", strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		saved = EINVAL;
		util_errf(why, whylen, "not a regular file, refused");
		goto fail;
	}
	if (st.st_nlink != 1) {
		saved = EMLINK;
		util_errf(why, whylen, "%ju hard links, refused",
		    (uintmax_t)st.st_nlink);
		goto fail;
	}
	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) == -1) {
		saved = errno;
		util_errf(why, whylen, "fcntl: %s", strerror(errno));
		goto fail;
	}
	return fd;
fail:
	close(fd);
	errno = saved;
	return -1;
}

/* Big-endian integers in byte buffers: the on-disk formats' byte order. */
void
util_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

uint32_t
util_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

void
util_put64(uint8_t *p, uint64_t v)
{
	util_put32(p, (uint32_t)(v >> 32));
	util_put32(p + 4, (uint32_t)v);
}

uint64_t
util_get64(const uint8_t *p)
{
	return (uint64_t)util_get32(p) << 32 | util_get32(p + 4);
}
