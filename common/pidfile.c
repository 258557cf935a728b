/*
 * pidfile.c: create, fill and remove a daemon's pid file (see pidfile.h).
 *
 * One pid file per process image: the path, the descriptor and the pid
 * of the process that wrote it are kept here, so the exit handler, which
 * forked children inherit, does nothing in them.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/pidfile.h"

static char	*pf_path;
static int	 pf_fd = -1;
static pid_t	 pf_owner = -1;

int
pidfile_open(const char *path)
{
	struct stat st;
	int fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NOCTTY |
	    O_CLOEXEC, 0644)) == -1)
		return -1;
	if (fstat(fd, &st) == -1)
		goto fail;
	if (!S_ISREG(st.st_mode) || st.st_nlink != 1) {
		errno = EINVAL;		/* not a plain file of its own */
		goto fail;
	}
	if ((pf_path = strdup(path)) == NULL)
		goto fail;
	pf_fd = fd;
	return 0;
fail:
	{
		int saved = errno;

		(void)close(fd);
		errno = saved;
	}
	return -1;
}

static void
pidfile_remove(void)
{
	if (pf_fd == -1 || getpid() != pf_owner)
		return;
	/* Without write access to the directory, leave it empty. */
	if (unlink(pf_path) == -1)
		(void)ftruncate(pf_fd, 0);
	(void)close(pf_fd);
	pf_fd = -1;
}

int
pidfile_write(int remove_at_exit)
{
	char buf[32];
	int n;

	if (pf_fd == -1) {
		errno = EBADF;
		return -1;
	}
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(pf_fd, 0) == -1)
		return -1;
	errno = 0;
	if (pwrite(pf_fd, buf, (size_t)n, 0) != n) {
		if (errno == 0)
			errno = EIO;
		return -1;
	}
	if (!remove_at_exit) {
		(void)close(pf_fd);
		pf_fd = -1;
		return 0;
	}
	pf_owner = getpid();
	if (atexit(pidfile_remove) != 0) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}
