/*
 * t_grey.c: the greylister's trap check (spamd/grey.c, grey_trapcheck)
 * on a scratch database: a SPAMTRAP address traps, whatever its case and
 * brackets; while a walk counted no spamtrap and the lock file's spamtrap
 * generation has not moved, no lookup is made; a spamtrap stored through
 * greydb by another process (as spamdb -T -a does) while the greylister
 * keeps its writer handle traps from its next transaction on.
 */
#include <sys/wait.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/gdata.h"
#include "common/greydb.h"
#include "common/greylist.h"
#include "spamd/grey.h"
#include "spamd/spamd.h"
#include "tests/unit/harness.h"
#include "tests/unit/tdb.h"

/* grey.c reads the daemon's settings; spamd.c, which has them, is not
 * linked into the tests. */
struct spamd_conf conf;

/* Store a SPAMTRAP as spamdb -T -a does: another process, through greydb. */
static void
add_spamtrap(const char *addr)
{
	pid_t pid;
	int st;

	if ((pid = fork()) == 0) {
		struct greydb *db = greydb_open(tdb_path, GREYDB_WRITE, 1000);
		struct gd_rec r;

		greylist_spamdb_spamtrap(&r, 0, 1700000000);
		_exit(db == NULL ||
		    greydb_put(db, addr, strlen(addr), &r) != 0 ||
		    greydb_close(db) != 0);
	}
	T_EQ_INT(waitpid(pid, &st, 0), pid);
	T_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* What a walk of the whole database says: n spamtraps at its generation. */
static void
counted(size_t n)
{
	struct greydb *db = tdb_open(GREYDB_READ);

	grey_spamtraps_counted(greydb_trapgen(db), n);
	tdb_close(db);
}

/* Nothing known yet: every recipient is looked up. */
static void
lookup_before_any_count(void)
{
	struct greydb *w;

	tdb_paths();
	add_spamtrap("trap@example.com");
	w = tdb_open(GREYDB_WRITE);
	T_EQ_INT(grey_trapcheck(w, "<Trap@Example.COM>"), 1);
	T_EQ_INT(grey_trapcheck(w, "trap@example.com"), 1);
	T_EQ_INT(grey_trapcheck(w, "<other@example.com>"), 0);
	tdb_close(w);
}

/*
 * None counted: no lookup (a SPAMTRAP stored behind greydb's back is not
 * seen, which shows that none is made); one stored through greydb by
 * another process while the writer is kept between transactions traps
 * at its next transaction.
 */
static void
added_while_running(void)
{
	uint8_t buf[GD_REC_SIZE];
	struct greydb *w;
	struct gd_rec r;

	tdb_paths();
	w = tdb_open(GREYDB_WRITE);
	T_EQ_INT(greydb_commit(w, 1), 0);
	counted(0);
	T_EQ_INT(greydb_resume(w, 1000), 0);
	T_EQ_INT(grey_trapcheck(w, "<trap@example.com>"), 0);
	T_EQ_INT(greydb_commit(w, 1), 0);

	greylist_spamdb_spamtrap(&r, 0, 1700000000);
	gd_encode(&r, buf);
	tdb_raw_store("raw@example.com", 15, buf, sizeof(buf));	/* foreign */
	T_EQ_INT(greydb_resume(w, 1000), 0);
	T_EQ_INT(grey_trapcheck(w, "<raw@example.com>"), 0);
	T_EQ_INT(greydb_commit(w, 1), 0);

	add_spamtrap("trap@example.com");
	T_EQ_INT(greydb_resume(w, 1000), 0);
	T_EQ_INT(grey_trapcheck(w, "<TRAP@example.com>"), 1);
	T_EQ_INT(grey_trapcheck(w, "<other@example.com>"), 0);
	T_EQ_INT(greydb_commit(w, 1), 0);

	/* A new count that finds it: still looked up, whatever the
	 * generation. */
	counted(1);
	T_EQ_INT(greydb_resume(w, 1000), 0);
	T_EQ_INT(grey_trapcheck(w, "<trap@example.com>"), 1);
	tdb_close(w);
}

/* A fresh writer handle reads the generation as it is when it locks. */
static void
added_before_the_writer_opens(void)
{
	struct greydb *w;

	tdb_paths();
	w = tdb_open(GREYDB_WRITE);
	tdb_close(w);
	counted(0);
	add_spamtrap("trap@example.com");
	w = tdb_open(GREYDB_WRITE);
	T_EQ_INT(grey_trapcheck(w, "<trap@example.com>"), 1);
	tdb_close(w);
}

const struct t_case t_cases[] = {
	T_CASE(lookup_before_any_count),
	T_CASE(added_while_running),
	T_CASE(added_before_the_writer_opens),
	{ NULL, NULL }
};
