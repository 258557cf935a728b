/*
 * t_statedir.c: common/statedir.c, the switch of a root process to the
 * owner of the database's directory.
 *
 * As root: a directory of nobody's makes us nobody (effective IDs only
 * for STATEDIR_FOR_NOW, all of them for STATEDIR_FOR_GOOD), files we
 * create there are nobody's, and statedir_leave gives back root, the
 * groups and the dumpable flag. A directory of root's needs no switch; a
 * world-writable one, or root's but writable by another group, is
 * refused with a reason; a missing one is left to the caller's open.
 * Without root every case only checks that nothing changes.
 */
#include <sys/prctl.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/statedir.h"
#include "tests/unit/harness.h"

#define NOBODY	65534

static char db[600];

/* t_tmpdir()/NAME, mode and owner as given, and db inside it */
static void
mkstate(const char *name, mode_t mode, uid_t uid, gid_t gid)
{
	char dir[512];

	T_EQ_INT(chmod(t_tmpdir(), 0755), 0);
	snprintf(dir, sizeof(dir), "%s/%s", t_tmpdir(), name);
	T_EQ_INT(mkdir(dir, 0700), 0);
	T_EQ_INT(chown(dir, uid, gid), 0);
	T_EQ_INT(chmod(dir, mode), 0);
	snprintf(db, sizeof(db), "%s/spamd.db", dir);
}

static int
need_root(void)
{
	if (geteuid() == 0)
		return 1;
	printf("  (not root: statedir_enter must change nothing)\n");
	T_EQ_INT(statedir_enter("/nonexistent/spamd.db", STATEDIR_FOR_NOW), 0);
	T_EQ_INT(statedir_leave(), 0);
	return 0;
}

static void
for_now_and_back(void)
{
	gid_t before[64], after[64];
	int nb, na, fd;
	struct stat st;
	uid_t u;
	gid_t g;

	if (!need_root())
		return;
	mkstate("state", 0755, NOBODY, NOBODY);
	T_ASSERT((nb = getgroups(64, before)) >= 0);
	T_EQ_INT(prctl(PR_SET_DUMPABLE, 1, 0, 0, 0), 0);
	T_EQ_INT(statedir_enter(db, STATEDIR_FOR_NOW), 0);
	T_EQ_INT(geteuid(), NOBODY);
	T_EQ_INT(getuid(), 0);		/* real and saved stay root */
	T_EQ_INT(statedir_owner(&u, &g), 0);
	T_EQ_INT(u, NOBODY);
	T_EQ_INT(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 0);
	T_ASSERT((fd = open(db, O_RDWR | O_CREAT | O_EXCL, 0600)) != -1);
	T_EQ_INT(fstat(fd, &st), 0);
	T_EQ_INT(st.st_uid, NOBODY);
	close(fd);
	/* as nobody, root's files are out of reach */
	T_ASSERT(open("/etc/shadow", O_RDONLY) == -1 && errno == EACCES);
	T_EQ_INT(statedir_leave(), 0);
	T_EQ_INT(geteuid(), 0);
	T_EQ_INT(getegid(), 0);
	T_EQ_INT(statedir_owner(&u, &g), -1);
	T_EQ_INT(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 1);
	T_ASSERT((na = getgroups(64, after)) == nb);
	T_EQ_MEM(after, before, (size_t)na * sizeof(gid_t));
}

static void
for_good(void)
{
	uid_t r, e, s;

	if (!need_root())
		return;
	mkstate("state", 0750, NOBODY, NOBODY);
	T_EQ_INT(statedir_enter(db, STATEDIR_FOR_GOOD), 0);
	T_EQ_INT(getresuid(&r, &e, &s), 0);
	T_ASSERT(r == NOBODY && e == NOBODY && s == NOBODY);
	T_EQ_INT(statedir_leave(), 0);	/* nothing to leave */
	T_EQ_INT(geteuid(), NOBODY);
	T_ASSERT(setresuid(0, 0, 0) == -1);	/* no way back */
}

static void
roots_own_directory(void)
{
	if (!need_root())
		return;
	mkstate("state", 0755, 0, 0);
	T_EQ_INT(statedir_enter(db, STATEDIR_FOR_NOW), 0);
	T_EQ_INT(geteuid(), 0);
	T_EQ_INT(statedir_leave(), 0);
	T_EQ_INT(geteuid(), 0);
}

static void
unsafe_directories_refused(void)
{
	if (!need_root())
		return;
	mkstate("open", 0777, NOBODY, NOBODY);
	T_EQ_INT(statedir_enter(db, STATEDIR_FOR_NOW), -1);
	t_expect_log("is world-writable (mode 0777)");
	T_EQ_INT(geteuid(), 0);
	mkstate("group", 0775, 0, NOBODY);
	T_EQ_INT(statedir_enter(db, STATEDIR_FOR_NOW), -1);
	t_expect_log("belongs to root but group 65534 may write it");
	mkstate("sticky", 01777, 0, 0);
	T_EQ_INT(statedir_enter(db, STATEDIR_FOR_GOOD), -1);
	t_expect_log("is world-writable (mode 1777)");
	T_EQ_INT(geteuid(), 0);
	mkstate("nouser", 0755, 54321, 54321);	/* no passwd entry */
	T_EQ_INT(statedir_enter(db, STATEDIR_FOR_NOW), -1);
	t_expect_log("which has no passwd entry");
	T_EQ_INT(geteuid(), 0);
}

static void
missing_directory(void)
{
	if (!need_root())
		return;
	T_EQ_INT(statedir_enter(t_path("no/such/spamd.db"), STATEDIR_FOR_NOW),
	    0);
	T_EQ_INT(geteuid(), 0);
	T_EQ_INT(statedir_leave(), 0);
}

const struct t_case t_cases[] = {
	T_CASE(for_now_and_back),
	T_CASE(for_good),
	T_CASE(roots_own_directory),
	T_CASE(unsafe_directories_refused),
	T_CASE(missing_directory),
	{ NULL, NULL },
};
