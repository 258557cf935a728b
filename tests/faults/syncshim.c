/*
 * syncshim.c: an LD_PRELOAD object for tests/faults/sync.sh that watches
 * and breaks fsync(2) and fdatasync(2), GDBM's calls included.
 *
 * Every call is appended to the file named by SYNCSHIM_LOG as one line
 *	<fsync|fdatasync> <path of the descriptor> <rc> <ms since the epoch>
 * (the log is opened, written and closed each time, so it survives a
 * daemon closing its descriptors). If the file named by SYNCSHIM_CTL
 * exists and holds a suffix (one line), a call on a path that ends with
 * it fails with EIO without reaching the disk. The test changes that file
 * while the daemon runs. Built by the test itself, as
 * tests/valgrind/noseccomp.c is; it is not part of any program.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int	fails(const char *);
static int	watched(const char *, int, int (*)(int));

/* The suffix that fails now, from SYNCSHIM_CTL; 0 without one. */
static int
fails(const char *path)
{
	const char *ctl = getenv("SYNCSHIM_CTL");
	char suf[256];
	size_t n, pl = strlen(path);
	ssize_t r;
	int fd;

	if (ctl == NULL || (fd = open(ctl, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	r = read(fd, suf, sizeof(suf) - 1);
	close(fd);
	if (r <= 0)
		return 0;
	suf[r] = '\0';
	suf[strcspn(suf, "\n")] = '\0';
	n = strlen(suf);
	return n > 0 && pl >= n && strcmp(path + pl - n, suf) == 0;
}

static int
watched(const char *name, int fd, int (*real)(int))
{
	char link[64], path[512], line[700];
	const char *log = getenv("SYNCSHIM_LOG");
	struct timespec ts;
	ssize_t n;
	int rc, saved, lfd, len;

	(void)snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	if ((n = readlink(link, path, sizeof(path) - 1)) < 0)
		n = 0;
	path[n] = '\0';
	if (fails(path)) {
		rc = -1;
		saved = EIO;
	} else {
		rc = real(fd);
		saved = errno;
	}
	if (log != NULL && clock_gettime(CLOCK_REALTIME, &ts) == 0) {
		len = snprintf(line, sizeof(line), "%s %s %d %lld\n", name,
		    path, rc, (long long)ts.tv_sec * 1000 +
		    ts.tv_nsec / 1000000);
		if (len > 0 && (size_t)len < sizeof(line) &&
		    (lfd = open(log, O_WRONLY | O_APPEND | O_CLOEXEC)) != -1) {
			if (write(lfd, line, (size_t)len) != len) {
				/* a short log line: the test fails on it */
			}
			close(lfd);
		}
	}
	errno = saved;
	return rc;
}

int
fsync(int fd)
{
	static int (*real)(int);

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "fsync");
	return watched("fsync", fd, real);
}

int
fdatasync(int fd)
{
	static int (*real)(int);

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "fdatasync");
	return watched("fdatasync", fd, real);
}
