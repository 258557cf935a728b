/*
 * t_journal.c: the checkpoint and redo journal (common/journal.c), driven
 * through common/greydb.c as every program uses it.
 *
 * A "crash" is the dirty mark set by hand plus a database file damaged
 * beyond what gdbm_recover could save (overwritten with junk): only the
 * checkpoint and the journal can bring the records back, and they must
 * bring back exactly the committed state. Also: a torn last frame, an old
 * journal replayed over a newer checkpoint (a crash inside a checkpoint), a
 * missing checkpoint (gdbm_recover fallback), a change made behind our
 * back (new checkpoint), the journal outgrowing the database (new
 * checkpoint), protection switched off when the journal cannot be
 * written and back on when it can, a writer killed mid-transaction, and
 * symlinks planted under the names of the temporaries and the checkpoint.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/gdata.h"
#include "common/greydb.h"
#include "tests/unit/harness.h"
#include "tests/unit/tdb.h"

#define T0	1700000000LL

static char ckpath[520], jpath[520];

static void
paths(void)
{
	tdb_paths();
	snprintf(ckpath, sizeof(ckpath), "%s.ckpt", tdb_path);
	snprintf(jpath, sizeof(jpath), "%s.journal", tdb_path);
}

static struct gd_rec
white(uint32_t n, uint32_t gen)
{
	struct gd_rec r = { GD_WHITE, n, gen, T0 + n, T0 + n + 1,
	    T0 + n + 2 };

	return r;
}

/* One transaction: records [from, to) get generation gen. */
static void
put_range(unsigned int from, unsigned int to, uint32_t gen)
{
	struct greydb *db = tdb_open(GREYDB_WRITE);
	struct gd_rec r;
	char k[64];

	for (unsigned int i = from; i < to; i++) {
		r = white(i, gen);
		T_EQ_INT(greydb_put(db, k, tdb_ipkey(k, sizeof(k), i), &r), 0);
	}
	tdb_close(db);
}

static void
del_range(unsigned int from, unsigned int to)
{
	struct greydb *db = tdb_open(GREYDB_WRITE);
	char k[64];

	for (unsigned int i = from; i < to; i++)
		T_EQ_INT(greydb_del(db, k, tdb_ipkey(k, sizeof(k), i)), GREYDB_OK);
	tdb_close(db);
}

/* Records [0, n): present with generation gen(i), or absent if gen 0. */
static void
expect(unsigned int n, uint32_t (*gen)(unsigned int))
{
	struct greydb *db = tdb_open(GREYDB_READ);
	struct gd_rec r, w;
	char k[64];

	for (unsigned int i = 0; i < n; i++) {
		int rc = greydb_get(db, k, tdb_ipkey(k, sizeof(k), i), &r);

		if (gen(i) == 0) {
			if (rc != GREYDB_NOTFOUND)
				t_fail("record %u: %d, expected absent", i, rc);
			continue;
		}
		if (rc != GREYDB_OK)
			t_fail("record %u: %d, expected present", i, rc);
		w = white(i, gen(i));
		T_EQ_INT(r.pcount, w.pcount);
		T_EQ_INT(r.bcount, w.bcount);
		T_EQ_INT(r.expire, w.expire);
	}
	tdb_close(db);
}

/* Overwrite everything after the GDBM header with junk. */
static void
wreck(void)
{
	struct stat st;
	char junk[4096];
	int fd;

	memset(junk, 0xa5, sizeof(junk));
	if ((fd = open(tdb_path, O_WRONLY)) == -1 || fstat(fd, &st) == -1)
		t_fail("open %s: %s", tdb_path, strerror(errno));
	for (off_t o = 512; o < st.st_size; o += (off_t)sizeof(junk))
		T_EQ_INT(pwrite(fd, junk, sizeof(junk), o), (ssize_t)sizeof(junk));
	close(fd);
}

static off_t
size_of(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 ? st.st_size : -1;
}

/* 0..299 gen 1, then 100..199 gen 2, then 200..249 deleted */
static uint32_t
mixed(unsigned int i)
{
	if (i >= 200 && i < 250)
		return 0;
	if (i >= 300)
		return 0;
	return i >= 100 && i < 200 ? 2 : 1;
}

static void
mixed_history(void)
{
	put_range(0, 300, 1);
	put_range(100, 200, 2);
	del_range(200, 250);
}

static void
rebuild_is_exact(void)
{
	paths();
	mixed_history();
	T_ASSERT(size_of(ckpath) > 0);
	T_ASSERT(size_of(jpath) > 64);
	tdb_set_mark('1');
	wreck();
	expect(400, mixed);
	t_expect_log("a writer died mid-transaction; rebuilding the database");
	t_expect_log("rebuilt from the checkpoint and 3 journaled transactions "
	    "(450 changes)");
	t_no_log("recovering");

	/* the rebuilt file is stamped current: no new checkpoint needed,
	 * and a second crash rebuilds the same state again */
	t_clear_log();
	put_range(300, 310, 1);
	tdb_set_mark('1');
	wreck();
	expect(300, mixed);
	t_expect_log("4 journaled transactions");
}

static void
torn_tail_dropped(void)
{
	const char torn[] = "\0\0\1\0garbage";	/* length 256, 7 bytes */
	off_t good;
	int fd;

	paths();
	mixed_history();
	good = size_of(jpath);
	T_ASSERT((fd = open(jpath, O_WRONLY | O_APPEND)) != -1);
	T_EQ_INT(write(fd, torn, sizeof(torn) - 1), (ssize_t)sizeof(torn) - 1);
	close(fd);
	tdb_set_mark('1');
	expect(400, mixed);
	t_expect_log("3 journaled transactions");
	t_expect_log("the unfinished transaction was dropped");
	T_EQ_INT(size_of(jpath), good);
}

/* A crash between a new checkpoint's rename and its journal's: the old
 * journal is replayed over a checkpoint that already holds its changes. */
static void
old_journal_over_new_checkpoint(void)
{
	char cmd[2200];

	paths();
	mixed_history();
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", tdb_path, ckpath);
	T_EQ_INT(system(cmd), 0);
	tdb_set_mark('1');
	wreck();
	expect(400, mixed);
	t_expect_log("rebuilt from the checkpoint and 3 journaled transactions");
}

static void
no_checkpoint_falls_back(void)
{
	paths();
	mixed_history();
	T_EQ_INT(unlink(ckpath), 0);
	tdb_set_mark('1');
	expect(400, mixed);	/* the file is intact: gdbm_recover keeps all */
	t_expect_log("cannot rebuild from the journal (no checkpoint");
	t_expect_log("recovering the database after an unclean write");
	t_expect_log("recovered 250 keys, 0 lost");
}

static uint32_t
with_foreign(unsigned int i)
{
	return i == 399 ? 7 : mixed(i);
}

/* gdbmtool or a restored copy changed the file: take a new checkpoint. */
static void
foreign_change_checkpointed(void)
{
	struct gd_rec r = white(399, 7);
	uint8_t buf[GD_REC_SIZE];
	char k[64];

	paths();
	mixed_history();
	gd_encode(&r, buf);
	tdb_raw_store(k, tdb_ipkey(k, sizeof(k), 399), buf, sizeof(buf));

	put_range(0, 0, 1);	/* an empty transaction notices it */
	tdb_set_mark('1');
	wreck();
	expect(400, with_foreign);
	t_expect_log("0 journaled transactions");
}

static uint32_t
last_gen(unsigned int i)
{
	return i < 1000 ? 40 : 0;
}

static void
journal_outgrows_database(void)
{
	paths();
	for (uint32_t g = 1; g <= 40; g++)
		put_range(0, 1000, g);	/* ~64 KB of journal each */
	/* 40 x 1000 changes ~ 2.6 MB; then well past 4 MB */
	T_ASSERT(size_of(jpath) > 2 * 1024 * 1024);
	for (uint32_t g = 1; g <= 40; g++)
		put_range(0, 1000, 40);
	T_ASSERT(size_of(jpath) < 4 * 1024 * 1024);
	tdb_set_mark('1');
	wreck();
	expect(1100, last_gen);
	t_no_log("recovering");
}

static uint32_t
first_100(unsigned int i)
{
	return i < 100 ? 1 : 0;
}

static uint32_t
first_200(unsigned int i)
{
	return i < 200 ? 1 : 0;
}

static void
protection_off_and_back(void)
{
	paths();
	put_range(0, 100, 1);
	/* the journal cannot be written: protection goes off, said once */
	T_EQ_INT(unlink(jpath), 0);
	T_EQ_INT(mkdir(jpath, 0700), 0);
	put_range(100, 150, 1);
	put_range(150, 200, 1);
	t_expect_log("crash protection off");
	T_EQ_INT(size_of(ckpath), -1);	/* no stale checkpoint left */
	/* a crash now falls back to gdbm_recover */
	tdb_set_mark('1');
	expect(300, first_200);
	t_expect_log("cannot rebuild from the journal");
	t_expect_log("recovered 200 keys, 0 lost");

	/* writable again: the next transaction turns it back on */
	T_EQ_INT(rmdir(jpath), 0);
	t_clear_log();
	put_range(200, 210, 1);
	t_expect_log("crash protection back on");
	T_ASSERT(size_of(ckpath) > 0);
	del_range(100, 210);
	tdb_set_mark('1');
	wreck();
	expect(300, first_100);
	t_expect_log("rebuilt from the checkpoint");
}

/* Killed after some puts, before the commit: exactly the old state. */
static void
killed_writer_rolled_back(void)
{
	pid_t pid;
	int st;

	paths();
	put_range(0, 100, 1);
	if ((pid = fork()) == 0) {
		struct greydb *db = greydb_open(tdb_path, GREYDB_WRITE, 1000);
		struct gd_rec r;
		char k[64];

		for (unsigned int i = 0; db != NULL && i < 3000; i++) {
			r = white(i, 9);
			if (greydb_put(db, k, tdb_ipkey(k, sizeof(k), i), &r) != 0)
				_exit(1);
		}
		kill(getpid(), SIGKILL);
		_exit(1);
	}
	T_EQ_INT(waitpid(pid, &st, 0), pid);
	T_ASSERT(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	expect(3000, first_100);
	t_expect_log("rebuilt from the checkpoint and 1 journaled transaction");
}

/* A file outside the database's, as a symlink target. */
static void
victim(const char *path)
{
	int fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) == -1)
		t_fail("create %s: %s", path, strerror(errno));
	T_EQ_INT(write(fd, "victim\n", 7), 7);
	close(fd);
}

static void
untouched(const char *path)
{
	char buf[16];
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY)) == -1)
		t_fail("open %s: %s", path, strerror(errno));
	n = read(fd, buf, sizeof(buf));
	close(fd);
	T_EQ_INT(n, 7);
	T_EQ_MEM(buf, "victim\n", 7);
}

static void
plant(const char *suffix, const char *target)
{
	char name[600];

	snprintf(name, sizeof(name), "%s%s", tdb_path, suffix);
	(void)unlink(name);
	if (symlink(target, name) == -1)
		t_fail("symlink %s: %s", name, strerror(errno));
}

static int
is_regular(const char *suffix)
{
	char name[600];
	struct stat st;

	snprintf(name, sizeof(name), "%s%s", tdb_path, suffix);
	return lstat(name, &st) == 0 && S_ISREG(st.st_mode);
}

/* mixed_history, then 300..309 gen 1 */
static uint32_t
mixed_plus(unsigned int i)
{
	return i >= 300 && i < 310 ? 1 : mixed(i);
}

/*
 * Symlinks planted under the names of the checkpoint's and the journal's
 * temporaries and of the rebuild's file: a checkpoint and a rebuild
 * replace them by files of their own and never write through them; a
 * checkpoint that is a symlink is not read.
 */
static void
planted_temporaries(void)
{
	char v[512];

	paths();
	snprintf(v, sizeof(v), "%s", t_path("victim"));
	victim(v);
	mixed_history();

	/* a new checkpoint (none yet) */
	T_EQ_INT(unlink(ckpath), 0);
	T_EQ_INT(unlink(jpath), 0);
	plant(".ckpt.tmp", v);
	plant(".journal.tmp", v);
	put_range(300, 310, 1);
	untouched(v);
	T_ASSERT(is_regular(".ckpt") && is_regular(".journal"));

	/* a rebuild after a crash */
	plant(".rebuild", v);
	tdb_set_mark('1');
	wreck();
	expect(320, mixed_plus);
	t_expect_log("rebuilt from the checkpoint");
	untouched(v);
	T_ASSERT(!is_regular(".rebuild"));

	/* the checkpoint a symlink: not read, gdbm_recover instead */
	t_clear_log();
	plant(".ckpt", v);
	tdb_set_mark('1');
	tdb_close(tdb_open(GREYDB_READ));
	t_expect_log("a symbolic link, refused");
	t_expect_log("recovering the database");
	untouched(v);
}

const struct t_case t_cases[] = {
	T_CASE(rebuild_is_exact),
	T_CASE(torn_tail_dropped),
	T_CASE(old_journal_over_new_checkpoint),
	T_CASE(no_checkpoint_falls_back),
	T_CASE(foreign_change_checkpointed),
	T_CASE(journal_outgrows_database),
	T_CASE(protection_off_and_back),
	T_CASE(killed_writer_rolled_back),
	T_CASE(planted_temporaries),
	{ NULL, NULL },
};
