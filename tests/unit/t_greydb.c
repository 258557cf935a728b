/*
 * t_greydb.c: the GDBM layer (common/greydb.c) on a scratch database.
 *
 * Covers open/put/get/del/walk, deletion during a walk (collect, then
 * delete: exact on 10,000 records), GREYDB_STOP, corrupt records written
 * with raw gdbm calls (reported and skipped), the bounded lock wait
 * against a child process holding the lock, read-only handles, the
 * dirty-mark rebuild (set by hand, and left by a writer that died),
 * file ownership when root creates the database in someone else's
 * directory, and symlinks, hard links and FIFOs planted under the lock's
 * and the database's names (refused, their targets untouched), and the
 * spamtrap generation of the lock file. Every case uses t_path() files;
 * nothing outside.
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

#include "common/clock.h"
#include "common/gdata.h"
#include "common/greydb.h"
#include "tests/unit/harness.h"
#include "tests/unit/tdb.h"

#define T0	1700000000LL
#define NOBODY	65534		/* owner for the ownership cases */

static struct gd_rec
white(uint32_t n)
{
	struct gd_rec r = { GD_WHITE, n, n + 1, T0 + n, T0 + n + 1,
	    T0 + n + 2 };

	return r;
}

/* Fill the database with n WHITE records, one transaction. */
static void
fill(unsigned int n)
{
	struct greydb *db = tdb_open(GREYDB_WRITE);
	struct gd_rec r;
	char k[64];
	unsigned int i;

	for (i = 0; i < n; i++) {
		r = white(i);
		T_EQ_INT(greydb_put(db, k, tdb_ipkey(k, sizeof(k), i), &r), 0);
	}
	tdb_close(db);
}

static void
rec_eq(const struct gd_rec *a, const struct gd_rec *b)
{
	T_EQ_INT(a->kind, b->kind);
	T_EQ_INT(a->bcount, b->bcount);
	T_EQ_INT(a->pcount, b->pcount);
	T_EQ_INT(a->first, b->first);
	T_EQ_INT(a->pass, b->pass);
	T_EQ_INT(a->expire, b->expire);
}

static void
put_get_del(void)
{
	static const char tk[] = "192.0.2.1\nmx.example\n<a@b.c>\n<d@e.f>";
	struct gd_rec g = { GD_GREY, 1, 0, T0, T0 + 14400, T0 + 14400 };
	struct gd_rec w = white(7), r;
	struct greydb *db;

	tdb_paths();
	db = tdb_open(GREYDB_WRITE);
	T_EQ_INT(tdb_mark(), '1');		/* a writer is inside */
	T_EQ_INT(greydb_put(db, tk, strlen(tk), &g), 0);
	T_EQ_INT(greydb_put(db, "192.0.2.1", 9, &w), 0);
	T_EQ_INT(greydb_get(db, tk, strlen(tk), &r), GREYDB_OK);
	rec_eq(&r, &g);
	T_EQ_INT(greydb_get(db, "192.0.2.2", 9, &r), GREYDB_NOTFOUND);
	T_EQ_INT(greydb_del(db, "192.0.2.2", 9), GREYDB_NOTFOUND);
	w.pcount = 99;			/* replace */
	T_EQ_INT(greydb_put(db, "192.0.2.1", 9, &w), 0);
	tdb_close(db);
	T_EQ_INT(tdb_mark(), '0');

	/* a fresh reader sees what the writer committed */
	db = tdb_open(GREYDB_READ);
	T_EQ_INT(greydb_get(db, "192.0.2.1", 9, &r), GREYDB_OK);
	rec_eq(&r, &w);
	T_EQ_INT(greydb_get(db, tk, strlen(tk), &r), GREYDB_OK);
	tdb_close(db);

	db = tdb_open(GREYDB_WRITE);
	T_EQ_INT(greydb_del(db, tk, strlen(tk)), GREYDB_OK);
	T_EQ_INT(greydb_del(db, tk, strlen(tk)), GREYDB_NOTFOUND);
	T_EQ_INT(greydb_get(db, tk, strlen(tk), &r), GREYDB_NOTFOUND);
	tdb_close(db);
	db = tdb_open(GREYDB_READ);
	T_EQ_INT(greydb_get(db, tk, strlen(tk), &r), GREYDB_NOTFOUND);
	T_EQ_INT(greydb_get(db, "192.0.2.1", 9, &r), GREYDB_OK);
	tdb_close(db);
}

struct walkstate {
	unsigned int	 seen, corrupt, stop_after;
	unsigned char	*hit;		/* per record number */
	unsigned int	 n;
	int		 del;		/* ask to delete the even ones */
	int		 bad;
};

/* A zeroed flag array for a walk; static, so nothing leaks on failure. */
static unsigned char *
hits(size_t n)
{
	static unsigned char buf[20000];

	if (n > sizeof(buf))
		t_fail("hits(%zu): at most %zu", n, sizeof(buf));
	memset(buf, 0, n);
	return buf;
}

static int
walk_fn(const char *key, size_t keylen, const struct gd_rec *r,
    const char *why, void *arg)
{
	struct walkstate *ws = arg;
	char k[64], want[64];
	unsigned int i;

	if (r == NULL) {
		ws->corrupt++;
		if (why == NULL)
			ws->bad = 1;
		return GREYDB_KEEP;
	}
	ws->seen++;
	if (keylen >= sizeof(k))
		return ws->bad = 1, GREYDB_KEEP;
	memcpy(k, key, keylen);
	k[keylen] = '\0';
	/* the record carries its own number in bcount */
	i = r->bcount;
	tdb_ipkey(want, sizeof(want), i);
	if (i >= ws->n || strcmp(k, want) != 0 || r->pcount != i + 1 ||
	    ws->hit[i]++ != 0)
		ws->bad = 1;
	if (ws->stop_after != 0 && ws->seen == ws->stop_after)
		return GREYDB_STOP;
	return (ws->del && i % 2 == 0) ? GREYDB_DELETE : GREYDB_KEEP;
}

static void
walk_delete_half(void)
{
	enum { N = 10000 };
	struct walkstate ws;
	struct greydb *db;
	unsigned int i;

	tdb_paths();
	fill(N);
	memset(&ws, 0, sizeof(ws));
	ws.n = N;
	ws.hit = hits(N);
	ws.del = 1;
	db = tdb_open(GREYDB_WRITE);
	T_EQ_INT(greydb_walk(db, walk_fn, &ws), 0);
	tdb_close(db);
	T_EQ_INT(ws.bad, 0);
	T_EQ_INT(ws.seen, N);		/* deleting did not derail the walk */

	memset(&ws, 0, sizeof(ws));
	ws.n = N;
	ws.hit = hits(N);
	db = tdb_open(GREYDB_READ);
	T_EQ_INT(greydb_walk(db, walk_fn, &ws), 0);
	tdb_close(db);
	T_EQ_INT(ws.bad, 0);
	T_EQ_INT(ws.seen, N / 2);	/* exactly the odd half is left */
	for (i = 0; i < N; i++)
		T_EQ_INT(ws.hit[i], i % 2);
}

static void
walk_stop(void)
{
	struct walkstate ws;
	struct greydb *db;

	tdb_paths();
	fill(50);
	memset(&ws, 0, sizeof(ws));
	ws.n = 50;
	ws.hit = hits(50);
	ws.stop_after = 3;
	db = tdb_open(GREYDB_WRITE);
	T_EQ_INT(greydb_walk(db, walk_fn, &ws), 0);
	tdb_close(db);
	T_EQ_INT(ws.seen, 3);
	T_EQ_INT(ws.bad, 0);
}

static void
corrupt_records_skipped(void)
{
	static const char tk[] = "192.0.2.9\nh\n<a>\n<b>";
	struct gd_rec r = white(1), g = { GD_GREY, 3, 0, T0, T0, T0 };
	uint8_t buf[GD_REC_SIZE];
	struct walkstate ws;
	struct greydb *db;

	tdb_paths();
	fill(20);
	/* garbage bytes, a torn record, a record whose kind fits no key */
	tdb_raw_store("2001:db8::ffff", 14, "\x01\x02garbage", 9);
	gd_encode(&r, buf);
	buf[25] ^= 0x10;
	tdb_raw_store("2001:db8::fffe", 14, buf, sizeof(buf));
	gd_encode(&g, buf);
	tdb_raw_store("2001:db8::fffd", 14, buf, sizeof(buf));
	gd_encode(&r, buf);
	tdb_raw_store(tk, strlen(tk), buf, sizeof(buf));

	memset(&ws, 0, sizeof(ws));
	ws.n = 20;
	ws.hit = hits(20);
	db = tdb_open(GREYDB_WRITE);
	T_EQ_INT(greydb_walk(db, walk_fn, &ws), 0);
	T_EQ_INT(ws.bad, 0);
	T_EQ_INT(ws.seen, 20);
	T_EQ_INT(ws.corrupt, 4);
	t_expect_log("skipping corrupt record \"2001:db8::ffff\": "
	    "wrong record size");
	t_expect_log("\"2001:db8::fffe\": record checksum mismatch");
	t_expect_log("\"2001:db8::fffd\": GREY record without a tuple key");
	t_expect_log("\"192.0.2.9\\012h\\012<a>\\012<b>\": "
	    "address record with a bad key");

	/* get reports it too, and it can still be deleted */
	t_clear_log();
	T_EQ_INT(greydb_get(db, "2001:db8::fffe", 14, &r), GREYDB_CORRUPT);
	t_expect_log("record checksum mismatch");
	T_EQ_INT(greydb_del(db, "2001:db8::fffe", 14), GREYDB_OK);
	tdb_close(db);
}

static void
read_only_refuses_writes(void)
{
	struct gd_rec r = white(1);
	struct walkstate ws;
	struct greydb *db;

	tdb_paths();
	fill(1);
	db = tdb_open(GREYDB_READ);
	T_EQ_INT(greydb_put(db, "192.0.2.1", 9, &r), -1);
	T_ASSERT(strstr(greydb_errstr(), "opened read-only") != NULL);
	T_EQ_INT(greydb_del(db, "2001:db8::0", 11), -1);
	T_ASSERT(strstr(greydb_errstr(), "opened read-only") != NULL);
	T_EQ_INT(greydb_reorganize(db), -1);
	T_ASSERT(strstr(greydb_errstr(), "opened read-only") != NULL);
	/* a walk may not delete either, and says so */
	memset(&ws, 0, sizeof(ws));
	ws.n = 1;
	ws.hit = hits(1);
	ws.del = 1;
	T_EQ_INT(greydb_walk(db, walk_fn, &ws), -1);
	T_ASSERT(strstr(greydb_errstr(), "cannot delete, opened read-only") !=
	    NULL);
	tdb_close(db);
	db = tdb_open(GREYDB_READ);
	T_EQ_INT(greydb_get(db, "192.0.2.1", 9, &r), GREYDB_NOTFOUND);
	T_EQ_INT(greydb_get(db, "2001:db8::0", 11, &r), GREYDB_OK);
	tdb_close(db);
}

/*
 * A child that opens the database in `mode' and holds it until the
 * returned descriptor is closed.
 */
static pid_t
hold(enum greydb_mode mode, int *ctl)
{
	int up[2], down[2];
	pid_t pid;
	char c;

	if (pipe(up) == -1 || pipe(down) == -1)
		t_fail("pipe: %s", strerror(errno));
	if ((pid = fork()) == -1)
		t_fail("fork: %s", strerror(errno));
	if (pid == 0) {
		struct greydb *db;

		close(up[0]);
		close(down[1]);
		db = greydb_open(tdb_path, mode, 2000);
		c = db != NULL ? 'y' : 'n';
		if (write(up[1], &c, 1) != 1)
			_exit(1);
		(void)!read(down[0], &c, 1);
		greydb_close(db);
		_exit(0);
	}
	close(up[1]);
	close(down[0]);
	if (read(up[0], &c, 1) != 1 || c != 'y')
		t_fail("the child could not take the lock");
	close(up[0]);
	*ctl = down[1];
	return pid;
}

static void
release(pid_t pid, int ctl)
{
	int st;

	close(ctl);
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 0)
		t_fail("lock holder failed");
}

static void
lock_timeout(void)
{
	struct greydb *db;
	uint64_t t;
	pid_t pid;
	int ctl;

	tdb_paths();
	fill(3);
	pid = hold(GREYDB_WRITE, &ctl);

	t = clock_mono_ms();
	T_ASSERT(greydb_open(tdb_path, GREYDB_WRITE, 300) == NULL);
	t = clock_mono_ms() - t;
	T_ASSERT(t >= 300 && t < 3000);
	T_ASSERT(strstr(greydb_errstr(), "is locked by another process") !=
	    NULL);
	T_ASSERT(strstr(greydb_errstr(), "waited 300 ms") != NULL);
	T_ASSERT(strstr(greydb_errstr(), tdb_lockpath) != NULL);

	/* readers wait for a writer too */
	t = clock_mono_ms();
	T_ASSERT(greydb_open(tdb_path, GREYDB_READ, 200) == NULL);
	T_ASSERT(clock_mono_ms() - t < 3000);
	T_ASSERT(strstr(greydb_errstr(), "is locked") != NULL);

	/* 0 = try once */
	t = clock_mono_ms();
	T_ASSERT(greydb_open(tdb_path, GREYDB_READ, 0) == NULL);
	T_ASSERT(clock_mono_ms() - t < 500);

	release(pid, ctl);
	db = tdb_open(GREYDB_WRITE);
	tdb_close(db);
}

/* A waiter gets the lock as soon as the holder lets go. */
static void
lock_wait_succeeds(void)
{
	struct greydb *db;
	uint64_t t;
	pid_t pid, rel;
	int ctl;

	tdb_paths();
	fill(1);
	pid = hold(GREYDB_WRITE, &ctl);
	if ((rel = fork()) == 0) {
		usleep(200 * 1000);
		close(ctl);
		_exit(0);
	}
	close(ctl);
	t = clock_mono_ms();
	db = greydb_open(tdb_path, GREYDB_WRITE, 5000);
	T_ASSERT(db != NULL);
	T_ASSERT(clock_mono_ms() - t < 4000);
	tdb_close(db);
	waitpid(rel, NULL, 0);
	waitpid(pid, NULL, 0);
}

static void
readers_share(void)
{
	struct greydb *db;
	struct gd_rec r;
	pid_t pid;
	int ctl;

	tdb_paths();
	fill(2);
	pid = hold(GREYDB_READ, &ctl);
	db = greydb_open(tdb_path, GREYDB_READ, 0);	/* no waiting at all */
	T_ASSERT(db != NULL);
	T_EQ_INT(greydb_get(db, "2001:db8::1", 11, &r), GREYDB_OK);
	tdb_close(db);
	T_ASSERT(greydb_open(tdb_path, GREYDB_WRITE, 100) == NULL);
	release(pid, ctl);
}

static void
check_intact(unsigned int n)
{
	struct greydb *db = tdb_open(GREYDB_READ);
	struct gd_rec r, w;
	char k[64];
	unsigned int i;

	for (i = 0; i < n; i++) {
		w = white(i);
		T_EQ_INT(greydb_get(db, k, tdb_ipkey(k, sizeof(k), i), &r),
		    GREYDB_OK);
		rec_eq(&r, &w);
	}
	tdb_close(db);
}

/* The lag field of the lock file (bytes 24-31): a boot's hash, or 0. */
static uint64_t
lag_get(void)
{
	uint64_t v = 0;
	int fd = open(tdb_lockpath, O_RDONLY);
	ssize_t n;

	if (fd == -1 || (n = pread(fd, &v, sizeof(v), 24)) == -1)
		t_fail("read %s: %s", tdb_lockpath, strerror(errno));
	close(fd);
	return n == (ssize_t)sizeof(v) ? v : 0;	/* short: never set */
}

static void
lag_set(uint64_t v)
{
	int fd = open(tdb_lockpath, O_WRONLY);

	if (fd == -1 || pwrite(fd, &v, sizeof(v), 24) != (ssize_t)sizeof(v))
		t_fail("write %s: %s", tdb_lockpath, strerror(errno));
	close(fd);
}

/*
 * Commits left unsynced, then the machine restarts: the lag field names
 * another boot, so the next opener rebuilds from the checkpoint and the
 * journal, as after a crash. The same boot's lag is no crash.
 */
static void
lag_from_another_boot(void)
{
	struct greydb *keep;
	struct gd_rec w = white(7);
	uint64_t ours;

	tdb_paths();
	fill(50);
	keep = tdb_open(GREYDB_WRITE);
	T_EQ_INT(greydb_commit(keep, 1), 0);
	T_EQ_INT(greydb_resume(keep, 1000), 0);
	T_EQ_INT(greydb_put(keep, "192.0.2.250", 11, &w), 0);
	T_EQ_INT(greydb_commit(keep, 0), 0);
	ours = lag_get();
	T_ASSERT(ours != 0);
	t_clear_log();
	check_intact(50);			/* this boot: no rebuild */
	t_no_log("rebuilding");
	tdb_close(keep);			/* the close clears it */
	T_EQ_INT(lag_get(), 0);

	lag_set(ours ^ 1);			/* as if another boot left it */
	check_intact(50);
	t_expect_log("the system restarted before the last writes reached "
	    "the disk; rebuilding the database");
	t_expect_log("rebuilt from the checkpoint");
	T_EQ_INT(lag_get(), 0);
	T_EQ_INT(tdb_mark(), '0');
	t_clear_log();
	check_intact(50);
	t_no_log("rebuilding");

	lag_set(ours ^ 1);			/* a writer rebuilds too */
	keep = tdb_open(GREYDB_WRITE);
	t_expect_log("the system restarted");
	T_EQ_INT(lag_get(), 0);
	tdb_close(keep);
	check_intact(50);
}

/* A copy of the file at src, as dst (a new inode). */
static void
copy_file(const char *src, const char *dst)
{
	char buf[8192];
	ssize_t n;
	int in = open(src, O_RDONLY), out;

	if (in == -1)
		t_fail("open %s: %s", src, strerror(errno));
	if ((out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1)
		t_fail("create %s: %s", dst, strerror(errno));
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			t_fail("write %s: %s", dst, strerror(errno));
	if (n == -1)
		t_fail("read %s: %s", src, strerror(errno));
	close(in);
	close(out);
}

/*
 * A commit that must be durable (a pass, a trap) while the lag field is
 * on the disk: the journal's fsync stands for the database's, which is
 * left for greydb_sync. A reboot that lost the database's last writes
 * (here: the file put back as it was before the commit, and the writer
 * killed) gets the commit back from the journal. Without a journal the
 * database itself is fsynced.
 */
static void
durable_commit(void)
{
	struct greydb *db;
	struct gd_rec r, w = white(9);
	char before[4096];
	pid_t pid;
	int st;

	tdb_paths();
	fill(50);
	snprintf(before, sizeof(before), "%s", t_path("before"));
	copy_file(tdb_path, before);
	if ((pid = fork()) == 0) {
		db = greydb_open(tdb_path, GREYDB_WRITE, 1000);
		if (db == NULL || greydb_commit(db, GREYDB_FSYNC) != 0 ||
		    greydb_resume(db, 1000) != 0 ||
		    greydb_put(db, "198.51.100.7", 12, &w) != 0 ||
		    greydb_commit(db, GREYDB_DURABLE) != 0)
			_exit(1);
		_exit(greydb_unsynced(db) ? 0 : 2);	/* no close */
	}
	T_EQ_INT(waitpid(pid, &st, 0), pid);
	T_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	T_ASSERT(lag_get() != 0);
	T_EQ_INT(rename(before, tdb_path), 0);	/* the lost writes */
	lag_set(lag_get() ^ 1);			/* another boot */
	t_clear_log();
	db = tdb_open(GREYDB_READ);
	t_expect_log("the system restarted before the last writes reached "
	    "the disk");
	T_EQ_INT(greydb_get(db, "198.51.100.7", 12, &r), GREYDB_OK);
	rec_eq(&r, &w);
	tdb_close(db);
	check_intact(50);

	/* The journal unusable (a planted symbolic link): turned off, and
	 * the durable commit fsyncs the database instead. */
	db = tdb_open(GREYDB_WRITE);
	T_EQ_INT(greydb_commit(db, GREYDB_FSYNC), 0);
	T_EQ_INT(greydb_resume(db, 1000), 0);
	T_ASSERT(lag_get() != 0);
	snprintf(before, sizeof(before), "%s.journal", tdb_path);
	T_EQ_INT(unlink(before), 0);
	T_EQ_INT(symlink("/dev/null", before), 0);
	T_EQ_INT(greydb_put(db, "198.51.100.8", 12, &w), 0);
	T_EQ_INT(greydb_commit(db, GREYDB_DURABLE), 0);
	t_expect_log("crash protection off");
	T_EQ_INT(greydb_unsynced(db), 0);
	tdb_close(db);
}

/*
 * Another writer's checkpoint renames a new journal into place between
 * two transactions of a writer that keeps its journal open: the next
 * frame must go to the file the name leads to, or a rebuild after a
 * reboot would not find it (the kept descriptor would hold an unlinked
 * file).
 */
static void
journal_replaced_between(void)
{
	struct greydb *db;
	struct gd_rec r, w = white(4);
	char before[4096], jpath[4096], jnew[4096];
	pid_t pid;
	int st;

	tdb_paths();
	fill(50);
	snprintf(before, sizeof(before), "%s", t_path("before"));
	snprintf(jpath, sizeof(jpath), "%s.journal", tdb_path);
	snprintf(jnew, sizeof(jnew), "%s.journal.new", tdb_path);
	copy_file(tdb_path, before);
	if ((pid = fork()) == 0) {
		db = greydb_open(tdb_path, GREYDB_WRITE, 1000);
		if (db == NULL || greydb_commit(db, GREYDB_FSYNC) != 0)
			_exit(1);
		/* the same content under a new inode, as a checkpoint
		 * leaves it (the database's stamp has not changed) */
		copy_file(jpath, jnew);
		if (rename(jnew, jpath) != 0 ||
		    greydb_resume(db, 1000) != 0 ||
		    greydb_put(db, "198.51.100.4", 12, &w) != 0 ||
		    greydb_commit(db, GREYDB_DURABLE) != 0)
			_exit(1);
		_exit(greydb_unsynced(db) ? 0 : 2);	/* no close */
	}
	T_EQ_INT(waitpid(pid, &st, 0), pid);
	T_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	T_EQ_INT(rename(before, tdb_path), 0);	/* the lost writes */
	lag_set(lag_get() ^ 1);			/* another boot */
	t_clear_log();
	db = tdb_open(GREYDB_READ);
	t_expect_log("the system restarted before the last writes reached "
	    "the disk");
	T_EQ_INT(greydb_get(db, "198.51.100.4", 12, &r), GREYDB_OK);
	rec_eq(&r, &w);
	tdb_close(db);
	check_intact(50);
}

/*
 * A durable commit whose journal then outgrows the database: the new
 * checkpoint fails (a directory planted at its temporary name), which
 * turns the journal off and removes the frames that stood for the
 * database's fsync, so the commit must fsync the database itself.
 */
static void
durable_commit_checkpoint_fails(void)
{
	struct greydb *db;
	struct gd_rec w = white(3);
	char tmp[4096];
	int i;

	tdb_paths();
	db = tdb_open(GREYDB_WRITE);
	T_EQ_INT(greydb_commit(db, GREYDB_FSYNC), 0);
	T_EQ_INT(greydb_resume(db, 1000), 0);
	T_ASSERT(lag_get() != 0);
	/* One key again and again: the journal grows past 4 MB, the
	 * database does not. */
	for (i = 0; i < 80000; i++) {
		w.bcount = (uint32_t)i;
		T_EQ_INT(greydb_put(db, "198.51.100.9", 12, &w), 0);
	}
	snprintf(tmp, sizeof(tmp), "%s.ckpt.tmp", tdb_path);
	T_EQ_INT(mkdir(tmp, 0700), 0);
	t_clear_log();
	T_EQ_INT(greydb_commit(db, GREYDB_DURABLE), 0);
	t_expect_log("crash protection off");
	T_EQ_INT(greydb_unsynced(db), 0);
	tdb_close(db);
	T_EQ_INT(rmdir(tmp), 0);
}

static void
dirty_mark_recovery_reader(void)
{
	tdb_paths();
	fill(500);
	T_EQ_INT(tdb_mark(), '0');
	tdb_set_mark('1');
	check_intact(500);
	t_expect_log("a writer died mid-transaction; rebuilding the database");
	t_expect_log("rebuilt from the checkpoint and 1 journaled transaction "
	    "(500 changes)");
	T_EQ_INT(tdb_mark(), '0');

	/* clean now: no second recovery */
	t_clear_log();
	check_intact(500);
	t_no_log("recovering");
}

static void
dirty_mark_recovery_writer(void)
{
	struct greydb *db;
	struct gd_rec r = white(9999);

	tdb_paths();
	fill(100);
	tdb_set_mark('1');
	db = tdb_open(GREYDB_WRITE);
	t_expect_log("rebuilding the database");
	T_EQ_INT(greydb_put(db, "192.0.2.200", 11, &r), 0);
	tdb_close(db);
	T_EQ_INT(tdb_mark(), '0');
	check_intact(100);
}

/* A writer that dies inside its transaction leaves the mark behind. */
static void
dead_writer_recovered(void)
{
	struct gd_rec r = white(5);
	struct greydb *db;
	pid_t pid;
	int st;

	tdb_paths();
	fill(200);
	if ((pid = fork()) == 0) {
		db = greydb_open(tdb_path, GREYDB_WRITE, 1000);
		if (db == NULL || greydb_put(db, "192.0.2.77", 10, &r) != 0)
			_exit(1);
		kill(getpid(), SIGKILL);
		_exit(1);
	}
	T_EQ_INT(waitpid(pid, &st, 0), pid);
	T_ASSERT(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	T_EQ_INT(tdb_mark(), '1');
	check_intact(200);
	t_expect_log("rebuilding the database");
	T_EQ_INT(tdb_mark(), '0');
	/* the transaction that died was never committed: it is not there */
	db = tdb_open(GREYDB_READ);
	T_EQ_INT(greydb_get(db, "192.0.2.77", 10, &r), GREYDB_NOTFOUND);
	tdb_close(db);
}

static void
missing_database(void)
{
	char p[600];

	snprintf(p, sizeof(p), "%s/no/such/dir/spamd.db", t_tmpdir());
	T_ASSERT(greydb_open(p, GREYDB_READ, 0) == NULL);
	T_ASSERT(strstr(greydb_errstr(), "cannot open") != NULL);
	T_ASSERT(strstr(greydb_errstr(), "No such file or directory") != NULL);
	T_ASSERT(greydb_open(p, GREYDB_WRITE, 0) == NULL);
	T_ASSERT(strstr(greydb_errstr(), "for writing") != NULL);
}

/* path + suffix is owned by NOBODY */
static void
owned(const char *suffix)
{
	char p[600];
	struct stat st;

	snprintf(p, sizeof(p), "%s%s", tdb_path, suffix);
	if (stat(p, &st) == -1)
		t_fail("stat %s: %s", p, strerror(errno));
	T_EQ_INT(st.st_uid, NOBODY);
	T_EQ_INT(st.st_gid, NOBODY);
}

/* A crash, then a reader: the database comes back, still NOBODY's. */
static void
crash_keeps_owner(const char *how)
{
	tdb_set_mark('1');
	tdb_close(tdb_open(GREYDB_READ));
	t_expect_log(how);
	owned("");
}

/* Root creates the database in the service user's directory. */
static void
owner_follows_directory(void)
{
	char dir[400], ckpt[600];
	struct greydb *db;
	unsigned int i;

	if (geteuid() != 0) {
		printf("  (not root: ownership not checked)\n");
		return;
	}
	snprintf(dir, sizeof(dir), "%s/spamd", t_tmpdir());
	T_EQ_INT(mkdir(dir, 0755), 0);
	T_EQ_INT(chown(dir, NOBODY, NOBODY), 0);
	snprintf(tdb_path, sizeof(tdb_path), "%s/spamd.db", dir);
	snprintf(tdb_lockpath, sizeof(tdb_lockpath), "%s.lock", tdb_path);

	fill(300);
	owned("");
	owned(".lock");
	owned(".ckpt");
	owned(".journal");

	/* reorganize writes a new inode: the owner must survive it */
	db = tdb_open(GREYDB_WRITE);
	for (i = 0; i < 250; i++) {
		char k[64];

		T_EQ_INT(greydb_del(db, k, tdb_ipkey(k, sizeof(k), i)), GREYDB_OK);
	}
	T_EQ_INT(greydb_reorganize(db), 0);
	tdb_close(db);
	owned("");

	/* and so must the rebuild after a crash, and gdbm_recover */
	crash_keeps_owner("rebuilt from the checkpoint");
	snprintf(ckpt, sizeof(ckpt), "%s.ckpt", tdb_path);
	T_EQ_INT(unlink(ckpt), 0);
	crash_keeps_owner("recovered 50 keys");
}

/*
 * A writer that keeps its handle (commit/resume): its own writes stay
 * visible; another process's write, a rebuild of the file, or a failed
 * reopen make it start afresh, and nothing written is lost or stale.
 */
static void
kept_handle(void)
{
	struct greydb *keep, *other;
	struct gd_rec r, w = white(1);
	pid_t pid;
	int st;

	tdb_paths();
	keep = tdb_open(GREYDB_WRITE);
	T_EQ_INT(greydb_put(keep, "192.0.2.1", 9, &w), 0);
	T_EQ_INT(greydb_unsynced(keep), 0);
	T_EQ_INT(greydb_commit(keep, 0), 0);	/* no lag field yet: synced */
	T_EQ_INT(greydb_unsynced(keep), 0);
	T_EQ_INT(greydb_commit(keep, 1), -1);	/* not locked any more */
	T_EQ_INT(lag_get(), 0);
	T_EQ_INT(greydb_resume(keep, 1000), 0);	/* the lag field, fsynced */
	T_ASSERT(lag_get() != 0);
	T_EQ_INT(greydb_put(keep, "192.0.2.1", 9, &w), 0);
	T_EQ_INT(greydb_commit(keep, 0), 0);	/* the fsync left for later */
	T_EQ_INT(greydb_unsynced(keep), 1);
	T_ASSERT(lag_get() != 0);

	/* Unlocked: a reader in another process sees the commit, synced
	 * or not (the stores are in the file). */
	other = tdb_open(GREYDB_READ);
	T_EQ_INT(greydb_get(other, "192.0.2.1", 9, &r), GREYDB_OK);
	tdb_close(other);
	T_EQ_INT(greydb_sync(keep), 0);		/* no lock needed */
	T_EQ_INT(greydb_unsynced(keep), 0);
	T_EQ_INT(lag_get(), 0);
	T_EQ_INT(greydb_sync(keep), 0);		/* nothing left: no-op */
	T_EQ_INT(greydb_resume(keep, 1000), 0);
	T_EQ_INT(greydb_commit(keep, 0), 0);
	T_EQ_INT(greydb_unsynced(keep), 1);
	/* Another process cleared the field meanwhile (a rebuild, a close
	 * that synced): the next transaction puts it back first. */
	lag_set(0);
	T_EQ_INT(greydb_resume(keep, 1000), 0);
	T_ASSERT(lag_get() != 0);
	T_EQ_INT(greydb_commit(keep, 0), 0);
	T_EQ_INT(greydb_unsynced(keep), 1);

	/* Another process writes: the kept handle must see it. */
	if ((pid = fork()) == 0) {
		struct greydb *c = greydb_open(tdb_path, GREYDB_WRITE, 1000);
		struct gd_rec x = white(2);

		_exit(c == NULL || greydb_put(c, "192.0.2.2", 9, &x) != 0 ||
		    greydb_close(c) != 0);
	}
	T_EQ_INT(waitpid(pid, &st, 0), pid);
	T_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	T_EQ_INT(greydb_resume(keep, 1000), 0);
	T_EQ_INT(greydb_unsynced(keep), 0);	/* reopened: close synced */
	T_EQ_INT(greydb_get(keep, "192.0.2.2", 9, &r), GREYDB_OK);
	T_EQ_INT(r.bcount, 2);
	T_EQ_INT(greydb_put(keep, "192.0.2.3", 9, &w), 0);
	T_EQ_INT(greydb_commit(keep, 1), 0);

	/* A rebuild by another writer (new inode) is noticed too. */
	other = tdb_open(GREYDB_WRITE);
	T_EQ_INT(greydb_reorganize(other), 0);
	tdb_close(other);
	T_EQ_INT(greydb_resume(keep, 1000), 0);
	T_EQ_INT(greydb_get(keep, "192.0.2.3", 9, &r), GREYDB_OK);
	T_EQ_INT(greydb_commit(keep, 1), 0);

	/* The database gone (even root cannot open a directory as one):
	 * resume fails, can be retried, and works once it is back. */
	other = tdb_open(GREYDB_WRITE);	/* bumps the generation */
	tdb_close(other);
	T_EQ_INT(rename(tdb_path, t_path("aside")), 0);
	T_EQ_INT(mkdir(tdb_path, 0700), 0);
	T_EQ_INT(greydb_resume(keep, 100), -1);
	T_EQ_INT(greydb_resume(keep, 100), -1);	/* no crash */
	T_EQ_INT(rmdir(tdb_path), 0);
	T_EQ_INT(rename(t_path("aside"), tdb_path), 0);
	T_EQ_INT(greydb_resume(keep, 1000), 0);
	T_EQ_INT(greydb_get(keep, "192.0.2.1", 9, &r), GREYDB_OK);
	tdb_close(keep);
}

/*
 * The spamtrap generation: every transaction that stores a SPAMTRAP
 * bumps it once, before the store; other records leave it alone. A kept
 * writer sees another process's bump when it resumes, a new handle when
 * it opens; the write generation still moves on every commit.
 */
static void
spamtrap_generation(void)
{
	struct greydb *keep, *other;
	struct gd_rec w = white(1), t = white(2);

	t.kind = GD_SPAMTRAP;
	t.pcount = 0;
	t.pass = t.expire = 0;
	tdb_paths();
	keep = tdb_open(GREYDB_WRITE);
	T_EQ_INT(greydb_trapgen(keep), 0);
	T_EQ_INT(greydb_put(keep, "192.0.2.1", 9, &w), 0);
	T_EQ_INT(greydb_commit(keep, 1), 0);
	T_EQ_INT(greydb_resume(keep, 1000), 0);
	T_EQ_INT(greydb_trapgen(keep), 0);
	T_EQ_INT(greydb_put(keep, "a@example.com", 13, &t), 0);
	T_EQ_INT(greydb_put(keep, "b@example.com", 13, &t), 0);
	T_EQ_INT(greydb_trapgen(keep), 1);	/* once per transaction */
	T_EQ_INT(greydb_commit(keep, 1), 0);

	other = tdb_open(GREYDB_READ);
	T_EQ_INT(greydb_trapgen(other), 1);
	tdb_close(other);
	other = tdb_open(GREYDB_WRITE);
	T_EQ_INT(greydb_put(other, "c@example.com", 13, &t), 0);
	tdb_close(other);
	T_EQ_INT(greydb_resume(keep, 1000), 0);
	T_EQ_INT(greydb_trapgen(keep), 2);
	T_EQ_INT(greydb_get(keep, "c@example.com", 13, &w), GREYDB_OK);
	T_EQ_INT(w.kind, GD_SPAMTRAP);
	T_EQ_INT(greydb_commit(keep, 1), 0);

	/* Deleting one leaves it: a count made later says how many. */
	other = tdb_open(GREYDB_WRITE);
	T_EQ_INT(greydb_del(other, "c@example.com", 13), GREYDB_OK);
	tdb_close(other);
	other = tdb_open(GREYDB_READ);
	T_EQ_INT(greydb_trapgen(other), 2);
	tdb_close(other);
	tdb_close(keep);
}

/* Another writer died while we were between transactions: resume
 * rebuilds before it lets us write, and our handle still works. */
static void
resume_after_a_crash(void)
{
	struct gd_rec r, w = white(3);
	struct greydb *keep;

	tdb_paths();
	fill(50);
	keep = tdb_open(GREYDB_WRITE);
	T_EQ_INT(greydb_put(keep, "192.0.2.3", 9, &w), 0);
	T_EQ_INT(greydb_commit(keep, 1), 0);
	tdb_set_mark('1');
	T_EQ_INT(greydb_resume(keep, 1000), 0);
	t_expect_log("rebuilt from the checkpoint");
	T_EQ_INT(tdb_mark(), '1');	/* ours now, until the commit */
	T_EQ_INT(greydb_get(keep, "192.0.2.3", 9, &r), GREYDB_OK);
	rec_eq(&r, &w);
	T_EQ_INT(greydb_commit(keep, 1), 0);
	T_EQ_INT(tdb_mark(), '0');
	tdb_close(keep);
	check_intact(50);
}

/* A root-owned file outside the database's files, as a symlink target. */
static void
victim(const char *name, const char *content, char *path, size_t len)
{
	int fd;

	snprintf(path, len, "%s", t_path(name));
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) == -1)
		t_fail("create %s: %s", path, strerror(errno));
	T_EQ_INT(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	close(fd);
}

static void
unchanged(const char *path, const char *content)
{
	char buf[64];
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY)) == -1)
		t_fail("open %s: %s", path, strerror(errno));
	n = read(fd, buf, sizeof(buf));
	close(fd);
	T_EQ_INT(n, (ssize_t)strlen(content));
	T_EQ_MEM(buf, content, strlen(content));
}

static void
refused(enum greydb_mode mode, const char *why)
{
	T_ASSERT(greydb_open(tdb_path, mode, 100) == NULL);
	if (strstr(greydb_errstr(), why) == NULL)
		t_fail("error \"%s\" does not say \"%s\"", greydb_errstr(),
		    why);
}

/*
 * Names in the directory are not trusted (its owner may be hostile):
 * a symlink, a hard link or a FIFO under the lock's or the database's
 * name is refused, with a reason, and nothing it points at changes.
 */
static void
planted_names_refused(void)
{
	char v[512], vdb[512];

	tdb_paths();
	victim("victim", "1victim", v, sizeof(v));
	victim("victim.db", "", vdb, sizeof(vdb));

	T_EQ_INT(symlink(v, tdb_lockpath), 0);
	refused(GREYDB_READ, "symbolic link, refused");
	refused(GREYDB_WRITE, "symbolic link, refused");
	unchanged(v, "1victim");
	T_EQ_INT(unlink(tdb_lockpath), 0);

	T_EQ_INT(link(v, tdb_lockpath), 0);
	refused(GREYDB_READ, "2 hard links, refused");
	refused(GREYDB_WRITE, "2 hard links, refused");
	unchanged(v, "1victim");
	T_EQ_INT(unlink(tdb_lockpath), 0);

	T_EQ_INT(mkfifo(tdb_lockpath, 0600), 0);	/* must not hang */
	refused(GREYDB_WRITE, "not a regular file, refused");
	T_EQ_INT(unlink(tdb_lockpath), 0);

	/* the database itself: GDBM would format the empty victim */
	T_EQ_INT(symlink(vdb, tdb_path), 0);
	refused(GREYDB_WRITE, "symbolic link, refused");
	refused(GREYDB_READ, "symbolic link, refused");
	unchanged(vdb, "");
	T_EQ_INT(unlink(tdb_path), 0);
	fill(10);
	check_intact(10);
}

const struct t_case t_cases[] = {
	T_CASE(kept_handle),
	T_CASE(lag_from_another_boot),
	T_CASE(durable_commit),
	T_CASE(journal_replaced_between),
	T_CASE(durable_commit_checkpoint_fails),
	T_CASE(spamtrap_generation),
	T_CASE(put_get_del),
	T_CASE(walk_delete_half),
	T_CASE(walk_stop),
	T_CASE(corrupt_records_skipped),
	T_CASE(read_only_refuses_writes),
	T_CASE(lock_timeout),
	T_CASE(lock_wait_succeeds),
	T_CASE(readers_share),
	T_CASE(dirty_mark_recovery_reader),
	T_CASE(dirty_mark_recovery_writer),
	T_CASE(dead_writer_recovered),
	T_CASE(resume_after_a_crash),
	T_CASE(missing_database),
	T_CASE(owner_follows_directory),
	T_CASE(planted_names_refused),
	{ NULL, NULL },
};
