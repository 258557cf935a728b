/*
 * statedir.c: switch a root-run program to the owner of the database's
 * directory before it touches anything there (see statedir.h).
 */
#include <sys/prctl.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/statedir.h"

static int	 switched;	/* 1 after a STATEDIR_FOR_NOW switch */
static int	 acting;	/* 1 while we act as the owner */
static uid_t	 owner_uid;
static gid_t	 owner_gid;
static gid_t	 saved_egid;
static int	 saved_dumpable;
static gid_t	*saved_groups;
static int	 nsaved_groups;

/*
 * Stat the directory holding dbpath through a descriptor: 0 and its name
 * in *dirp (to free), 1 if there is no such directory, -1 (logged).
 */
static int
dir_stat(const char *dbpath, struct stat *st, char **dirp)
{
	char *copy, *dir;
	int fd;

	if ((copy = strdup(dbpath)) == NULL ||
	    (dir = strdup(dirname(copy))) == NULL) {
		log_warn("statedir");
		free(copy);
		return -1;
	}
	free(copy);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		/* No directory, nothing planted: the caller's open says so. */
		if (errno == ENOENT || errno == ENOTDIR) {
			free(dir);
			return 1;
		}
		log_warn("database directory %s", dir);
		free(dir);
		return -1;
	}
	if (fstat(fd, st) == -1) {
		log_warn("fstat %s", dir);
		close(fd);
		free(dir);
		return -1;
	}
	close(fd);
	*dirp = dir;
	return 0;
}

static int
save_groups(void)
{
	int n;

	if ((n = getgroups(0, NULL)) == -1) {
		log_warn("getgroups");
		return -1;
	}
	free(saved_groups);
	if ((saved_groups = calloc((size_t)n + 1, sizeof(gid_t))) == NULL) {
		log_warn("statedir");
		return -1;
	}
	if ((nsaved_groups = getgroups(n, saved_groups)) == -1) {
		log_warn("getgroups");
		return -1;
	}
	return 0;
}

/*
 * May root work in this directory? -1 no (world-writable, or root's but
 * group-writable by another group: logged), 1 yes as root (root's own),
 * 0 only as its owner.
 */
static int
dir_trusted(const char *dir, const struct stat *st)
{
	if (st->st_mode & S_IWOTH) {
		log_warnx("database directory %s is world-writable (mode %04o):"
		    " refusing to work there as root; make it owned by the "
		    "service user, mode 0755", dir,
		    (unsigned)(st->st_mode & 07777));
		return -1;
	}
	if (st->st_uid != 0)
		return 0;
	if ((st->st_mode & S_IWGRP) && st->st_gid != 0) {
		log_warnx("database directory %s belongs to root but group %u "
		    "may write it: refusing to work there as root; make it "
		    "owned by the service user", dir, (unsigned)st->st_gid);
		return -1;
	}
	return 1;
}

/*
 * Take the owner's uid and gid: for good (all three ids), or for now
 * (effective only, with what statedir_leave needs to come back saved).
 */
static int
become(uid_t uid, gid_t gid, int how)
{
	if (how == STATEDIR_FOR_NOW) {
		saved_egid = getegid();
		if ((saved_dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0)) ==
		    -1) {
			log_warn("prctl(PR_GET_DUMPABLE)");
			return -1;
		}
		if (save_groups() == -1)
			return -1;
	}
	if (setgroups(1, &gid) == -1) {
		log_warn("setgroups %u", (unsigned)gid);
		return -1;
	}
	if (how == STATEDIR_FOR_GOOD ? setresgid(gid, gid, gid) == -1 :
	    setresgid((gid_t)-1, gid, (gid_t)-1) == -1) {
		log_warn("setresgid %u", (unsigned)gid);
		return -1;
	}
	if (how == STATEDIR_FOR_GOOD ? setresuid(uid, uid, uid) == -1 :
	    setresuid((uid_t)-1, uid, (uid_t)-1) == -1) {
		log_warn("setresuid %u", (unsigned)uid);
		return -1;
	}
	return 0;
}

int
statedir_enter(const char *dbpath, int how)
{
	struct passwd *pw;
	struct stat st;
	char *dir;
	gid_t gid;
	uid_t uid;

	if (geteuid() != 0 || acting)
		return 0;
	switch (dir_stat(dbpath, &st, &dir)) {
	case -1:
		return -1;
	case 1:
		return 0;
	}
	switch (dir_trusted(dir, &st)) {
	case -1:
		goto fail;
	case 1:
		free(dir);
		return 0;	/* root's own directory: nothing to fear */
	}
	errno = 0;
	if ((pw = getpwuid(st.st_uid)) == NULL) {
		if (errno != 0)
			log_warn("getpwuid %u", (unsigned)st.st_uid);
		else
			log_warnx("database directory %s belongs to uid %u, "
			    "which has no passwd entry: refusing to work "
			    "there", dir, (unsigned)st.st_uid);
		goto fail;
	}
	uid = pw->pw_uid;
	gid = pw->pw_gid;
	if (become(uid, gid, how) == -1)
		goto fail;
	if (geteuid() != uid || getegid() != gid) {
		log_warnx("the switch to %s, owner of %s, did not stick",
		    pw->pw_name, dir);
		goto fail;
	}
	/* The kernel clears it on the switch; make sure, for the owner. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1) {
		log_warn("prctl(PR_SET_DUMPABLE)");
		goto fail;
	}
	owner_uid = uid;
	owner_gid = gid;
	acting = 1;
	switched = how == STATEDIR_FOR_NOW;
	log_debug("working in %s as its owner %s", dir, pw->pw_name);
	free(dir);
	return 0;
fail:
	free(dir);
	return -1;
}

int
statedir_leave(void)
{
	if (!switched)
		return 0;
	if (setresuid((uid_t)-1, 0, (uid_t)-1) == -1) {
		log_warn("setresuid back to root");
		return -1;
	}
	if (setresgid((gid_t)-1, saved_egid, (gid_t)-1) == -1) {
		log_warn("setresgid back to %u", (unsigned)saved_egid);
		return -1;
	}
	if (setgroups((size_t)nsaved_groups, saved_groups) == -1) {
		log_warn("setgroups back");
		return -1;
	}
	/* Root again, and nobody else's IDs: as dumpable as before. */
	if (prctl(PR_SET_DUMPABLE, saved_dumpable, 0, 0, 0) == -1) {
		log_warn("prctl(PR_SET_DUMPABLE)");
		return -1;
	}
	free(saved_groups);
	saved_groups = NULL;
	switched = acting = 0;
	return 0;
}

int
statedir_owner(uid_t *uid, gid_t *gid)
{
	if (!acting)
		return -1;
	*uid = owner_uid;
	*gid = owner_gid;
	return 0;
}
