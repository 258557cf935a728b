/*
 * priv.c: user switch and capability handling (see priv.h).
 */
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/types.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/priv.h"

int
priv_lookup(const char *user, uid_t *uid, gid_t *gid)
{
	struct passwd *pw;

	errno = 0;
	if ((pw = getpwnam(user)) == NULL) {
		if (errno != 0)
			log_warn("getpwnam %s", user);
		else
			log_warnx("no such user %s (create it with: useradd "
			    "--system --no-create-home --shell "
			    "/usr/sbin/nologin %s)", user, user);
		return -1;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

static void
caps_set(int keep)
{
	cap_t caps;
	cap_value_t na = CAP_NET_ADMIN;

	if ((caps = cap_init()) == NULL)
		fatal("cap_init");
	if (keep == PRIV_KEEP_NET_ADMIN &&
	    cap_set_flag(caps, CAP_PERMITTED, 1, &na, CAP_SET) == -1)
		fatal("cap_set_flag");
	if (cap_set_proc(caps) == -1)
		fatal("cap_set_proc");
	cap_free(caps);
}

void
priv_drop(const char *user, int keep)
{
	uid_t uid;
	gid_t gid;

	if (priv_lookup(user, &uid, &gid) == -1)
		fatalx("cannot drop privileges to %s", user);
	if (geteuid() != 0) {
		if (uid != geteuid())
			fatalx("need root privileges to run as %s", user);
	} else {
		cap_value_t c;

		/* Not even a later exec of a file with capabilities gets more. */
		/* The kernel may know more than our headers: ask it. */
		for (c = 0; prctl(PR_CAPBSET_READ, c, 0, 0, 0) >= 0; c++) {
			if ((keep & PRIV_KEEP_NET_ADMIN) && c == CAP_NET_ADMIN)
				continue;
			if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) == -1)
				fatal("prctl(PR_CAPBSET_DROP, %d)", (int)c);
		}
		if ((keep & PRIV_KEEP_NET_ADMIN) &&
		    prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) == -1)
			fatal("prctl(PR_SET_KEEPCAPS)");
		if (keep & PRIV_KEEP_GROUPS) {
			if (initgroups(user, gid) == -1)
				fatal("initgroups %s", user);
		} else if (setgroups(1, &gid) == -1)
			fatal("setgroups");
		keep &= ~PRIV_KEEP_GROUPS;
		if (setresgid(gid, gid, gid) == -1)
			fatal("setresgid %u", (unsigned)gid);
		if (setresuid(uid, uid, uid) == -1)
			fatal("setresuid %u", (unsigned)uid);
		if (getuid() != uid || geteuid() != uid || getgid() != gid)
			fatalx("privilege drop to %s did not stick", user);
		caps_set(keep);
		if (keep == PRIV_KEEP_NET_ADMIN &&
		    prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) == -1)
			fatal("prctl(PR_SET_KEEPCAPS)");
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("prctl(PR_SET_NO_NEW_PRIVS)");
}

int
priv_net_admin(int on)
{
	cap_t caps;
	cap_value_t na = CAP_NET_ADMIN;
	cap_flag_value_t permitted;
	int rc = -1;

	if ((caps = cap_get_proc()) == NULL)
		return -1;
	if (cap_get_flag(caps, na, CAP_PERMITTED, &permitted) == 0 &&
	    permitted == CAP_SET &&
	    cap_set_flag(caps, CAP_EFFECTIVE, 1, &na,
	    on ? CAP_SET : CAP_CLEAR) == 0 && cap_set_proc(caps) == 0)
		rc = 0;
	cap_free(caps);
	return rc;
}
