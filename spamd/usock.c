/*
 * usock.c: listening unix-domain sockets that spamd creates as root
 * before the fork (the configuration socket, policy mode's sockets),
 * with the care a path in a directory of others needs.
 *
 *	usock_open(path, what, root_only)	the listening socket, or exit
 *		with a message naming `what' (the option). The directory is
 *		created if missing; it must not be writable by group or
 *		others, and with root_only must belong to root. A leftover
 *		socket of a dead spamd is removed; anything else at the
 *		path is left alone (fatal). Anyone may connect (mode 0666):
 *		the directory, or the peer's credentials, decide.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/compat.h"
#include "common/log.h"
#include "spamd/usock.h"

#define USOCK_BACKLOG	128

/* Refuse a directory others could plant a socket or symlink in. */
static void
check_dir(const char *dir, const char *what, int root_only)
{
	struct stat st;

	if (lstat(dir, &st) == -1) {
		if (errno != ENOENT)
			fatal("%s: directory %s", what, dir);
		if (mkdir(dir, 0755) == -1)
			fatal("creating %s", dir);
		if (lstat(dir, &st) == -1)
			fatal("%s: directory %s", what, dir);
		log_info("created %s", dir);
	}
	if (!S_ISDIR(st.st_mode))
		fatalx("%s: %s is not a directory (a symlink?): refusing to "
		    "put the socket there", what, dir);
	if (root_only && st.st_uid != 0 && st.st_uid != geteuid())
		fatalx("%s: %s is owned by uid %u, not root: refusing to put "
		    "the socket there", what, dir, (unsigned)st.st_uid);
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
		fatalx("%s: %s is writable by group or others (mode %03o): "
		    "refusing to put the socket there", what, dir,
		    (unsigned)(st.st_mode & 07777));
}

int
usock_open(const char *path, const char *what, int root_only)
{
	struct sockaddr_un sun;
	struct stat st;
	char *copy;
	int fd, probe;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path))
		fatalx("%s %s: longer than %zu bytes", what, path,
		    sizeof(sun.sun_path) - 1);
	if ((copy = strdup(path)) == NULL)
		fatal("strdup");
	check_dir(dirname(copy), what, root_only);
	free(copy);
	/* A leftover of a spamd that died is removed; anything else stays. */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			fatalx("%s exists and is not a socket: not removing "
			    "it", path);
		if ((probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC,
		    0)) == -1)
			fatal("socket");
		if (connect(probe, (struct sockaddr *)&sun,
		    sizeof(sun)) == 0)
			fatalx("%s %s: another spamd is listening there", what,
			    path);
		if (errno != ECONNREFUSED)
			fatal("%s: probing the old socket", path);
		close(probe);
		if (unlink(path) == -1)
			fatal("removing the stale socket %s", path);
		log_info("removed the stale socket %s", path);
	} else if (errno != ENOENT)
		fatal("%s", path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		fatal("socket");
	/* bind(2) never follows a symlink: one planted since fails here. */
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		fatal("bind %s", path);
	/* Anyone may connect; the peer's credentials decide (cfgsock.h). */
	if (chmod(path, 0666) == -1)
		fatal("chmod %s", path);
	if (listen(fd, USOCK_BACKLOG) == -1)
		fatal("listen %s", path);
	return fd;
}
