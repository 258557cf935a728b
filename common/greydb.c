/*
 * greydb.c: GDBM access serialised by an flock on <dbfile>.lock.
 *
 * GDBM's own lock fails at once instead of waiting, and a GDBM handle
 * caches the file per process, so every accessor (spamd's greylister,
 * spamlogd, spamdb, spamd-nftsync) runs short transactions: lock, open,
 * work, close (which syncs), unlock. See DESIGN.md §4.3.
 *
 * The first byte of the lock file is a "dirty" mark: a writer sets it
 * before it opens GDBM and clears it once its transaction is whole in
 * the file (after gdbm_close, or greydb_commit). A commit may leave the
 * fsync to greydb_sync: a crash of the process cannot lose what is in
 * the page cache, but a crash of the machine could leave the file on
 * the disk torn. So before such a transaction the writer puts a hash of
 * the kernel's boot id in bytes 24-31 (the "lag" field) and fsyncs the
 * lock file, and clears the field after the next fsync of the database
 * (and of the journal); an opener that finds a lag from another boot
 * rebuilds the database as after a crash. Bytes
 * 8-15 hold the write generation (greydb_resume), 16-23 the spamtrap
 * generation (greydb_trapgen), both native-endian. An
 * opener that finds it set knows a writer died mid-transaction and
 * rebuilds the file from the checkpoint and the journal (journal.c),
 * which writers keep beside it; without them it runs gdbm_recover.
 *
 * The directory may belong to somebody we must not trust (DESIGN.md
 * §4.3): the lock and the GDBM file are opened with util_open_file (no
 * symlink, no FIFO, one hard link), GDBM through gdbm_fd_open on that
 * descriptor, and new files are chowned through their descriptors.
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <errno.h>
#include <fcntl.h>
#include <gdbm.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/compat.h"
#include "common/greydb.h"
#include "common/journal.h"
#include "common/log.h"
#include "common/util.h"

#define MARK_CLEAN	'0'
#define MARK_DIRTY	'1'
#define GEN_OFFSET	8	/* lock file: 8-byte write generation */
#define TRAPGEN_OFFSET	16	/* lock file: 8-byte spamtrap generation */
#define LAG_OFFSET	24	/* lock file: the disk may lag (boot id) */
#define HDR_LEN		32	/* mark, padding, generations, lag */
#define BOOT_ID		"/proc/sys/kernel/random/boot_id"

struct greydb {
	GDBM_FILE		 dbf;
	int			 lockfd;
	enum greydb_mode	 mode;
	int			 wait_ms;
	int			 locked;	/* 0 between commit and resume */
	uint64_t		 gen;		/* generation we left it at */
	uint64_t		 trapgen;	/* spamtraps' generation */
	int			 trap_bumped;	/* this transaction bumped it */
	dev_t			 dev;		/* the file our handle reads */
	ino_t			 ino;
	int			 quiet;		/* corrupt records not logged */
	int			 unsynced;	/* committed, not yet fsynced */
	int			 lag_ok;	/* this boot's lag is on the disk */
	int			 sync_failed;	/* never say it is all on disk */
	struct journal		*jrn;		/* writers: crash protection */
	char			*path;
};

static char errbuf[1024];

static void seterr(const char *, ...) __attribute__((format(printf, 1, 2)));

static void
seterr(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
	va_end(ap);
}

uint64_t
greydb_trapgen(const struct greydb *db)
{
	return db->trapgen;
}

void
greydb_quiet(struct greydb *db, int on)
{
	db->quiet = on;
}

const char *
greydb_errstr(void)
{
	return errbuf;
}

static const char *
gdbm_why(void)
{
	if (gdbm_syserr[gdbm_errno] && errno != 0) {
		static char buf[256];

		snprintf(buf, sizeof(buf), "%s: %s", gdbm_strerror(gdbm_errno),
		    strerror(errno));
		return buf;
	}
	return gdbm_strerror(gdbm_errno);
}

static volatile sig_atomic_t lock_alarm;

static void
lock_alarm_handler(int sig)
{
	(void)sig;
	lock_alarm = 1;
}

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	/* Real time on purpose: a test's frozen clock must not hang us. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * Take the lock file's flock, waiting at most wait_ms (0: try once, -1:
 * forever). The wait is a blocking flock, so the kernel hands the lock
 * over as soon as it is released (polling let a busy reader starve the
 * writers). An interval timer interrupts it so the bound holds even if
 * one SIGALRM lands just before the call; the caller's SIGALRM handler,
 * mask and timer are restored afterwards.
 */
static int
lock_wait(int fd, int op, int wait_ms, const char *lockpath)
{
	struct sigaction sa, osa;
	struct itimerval it, oit;
	sigset_t set, oset;
	uint64_t deadline;
	int rc, saved;

	if (flock(fd, op | LOCK_NB) == 0)
		return 0;
	if (errno != EWOULDBLOCK && errno != EINTR) {
		seterr("lock %s: %s", lockpath, strerror(errno));
		return -1;
	}
	if (wait_ms == 0)
		goto busy;
	if (wait_ms < 0) {
		while ((rc = flock(fd, op)) == -1 && errno == EINTR)
			;
		if (rc == -1)
			seterr("lock %s: %s", lockpath, strerror(errno));
		return rc;
	}
	deadline = mono_ms() + (uint64_t)wait_ms;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = lock_alarm_handler;	/* no SA_RESTART */
	sigemptyset(&sa.sa_mask);
	memset(&it, 0, sizeof(it));
	it.it_value.tv_usec = it.it_interval.tv_usec = 20000;
	sigemptyset(&set);
	sigaddset(&set, SIGALRM);
	if (sigaction(SIGALRM, &sa, &osa) == -1) {
		seterr("lock %s: sigaction: %s", lockpath, strerror(errno));
		return -1;
	}
	sigprocmask(SIG_UNBLOCK, &set, &oset);
	setitimer(ITIMER_REAL, &it, &oit);
	for (;;) {
		lock_alarm = 0;
		if ((rc = flock(fd, op)) == 0 || errno != EINTR ||
		    mono_ms() >= deadline)
			break;
	}
	saved = errno;
	memset(&it, 0, sizeof(it));
	setitimer(ITIMER_REAL, &it, NULL);
	sigprocmask(SIG_SETMASK, &oset, NULL);
	sigaction(SIGALRM, &osa, NULL);
	setitimer(ITIMER_REAL, &oit, NULL);
	if (rc == 0)
		return 0;
	if (saved != EINTR) {
		seterr("lock %s: %s", lockpath, strerror(saved));
		return -1;
	}
busy:
	seterr("database %s is locked by another process (waited %d ms)",
	    lockpath, wait_ms);
	errno = EWOULDBLOCK;
	return -1;
}

static int
mark_set(struct greydb *db, char c)
{
	if (pwrite(db->lockfd, &c, 1, 0) != 1) {
		seterr("write %s.lock: %s", db->path, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Every writer bumps the generation in the lock file before it lets go,
 * so a writer that kept its GDBM handle can tell whether anybody else
 * wrote since (GDBM caches the file per process and must not be trusted
 * across another process's writes).
 */
static uint64_t
gen_get(int fd)
{
	uint64_t g;

	if (pread(fd, &g, sizeof(g), GEN_OFFSET) != (ssize_t)sizeof(g))
		return 0;
	return g;
}

static int
gen_bump(struct greydb *db)
{
	uint64_t g = gen_get(db->lockfd) + 1;

	if (pwrite(db->lockfd, &g, sizeof(g), GEN_OFFSET) !=
	    (ssize_t)sizeof(g)) {
		seterr("write %s.lock: %s", db->path, strerror(errno));
		return -1;
	}
	db->gen = g;
	return 0;
}

/*
 * The lock file's header in one read: the dirty mark, the write
 * generation and the spamtrap generation (a short file reads as clean,
 * 0 and 0, as mark_get and gen_get do).
 */
struct lockhdr {
	int		mark;
	uint64_t	gen, trapgen, lag;
	int		crashed;	/* a writer died, or the machine did */
};

/*
 * This boot's id, hashed (FNV-1a), read once; 0 when /proc cannot say
 * (then an unsynced mark is taken for this boot's: no rebuild).
 */
static uint64_t
boot_hash(void)
{
	static uint64_t h;
	static int done;
	char id[64];
	ssize_t n;
	int fd, i;

	if (done)
		return h;
	done = 1;
	if ((fd = open(BOOT_ID, O_RDONLY | O_CLOEXEC)) == -1)
		return h;
	n = read(fd, id, sizeof(id));
	close(fd);
	if (n <= 0)
		return h;
	h = 14695981039346656037ULL;
	for (i = 0; i < n && id[i] != '\n'; i++)
		h = (h ^ (uint8_t)id[i]) * 1099511628211ULL;
	return h;
}

/* Left by a writer that died, or unsynced by one before a reboot. */
static int
hdr_crashed(int mark, uint64_t lag)
{
	uint64_t now = boot_hash();

	return mark == MARK_DIRTY || (lag != 0 && now != 0 && lag != now);
}

static void
hdr_get(int fd, struct lockhdr *h)
{
	uint8_t b[HDR_LEN];
	ssize_t n = pread(fd, b, sizeof(b), 0);

	h->mark = n >= 1 ? b[0] : MARK_CLEAN;
	h->gen = h->trapgen = h->lag = 0;
	if (n >= GEN_OFFSET + 8)
		memcpy(&h->gen, b + GEN_OFFSET, 8);
	if (n >= TRAPGEN_OFFSET + 8)
		memcpy(&h->trapgen, b + TRAPGEN_OFFSET, 8);
	if (n >= LAG_OFFSET + 8)
		memcpy(&h->lag, b + LAG_OFFSET, 8);
	h->crashed = hdr_crashed(h->mark, h->lag);
}

static int
lock_crashed(int fd)
{
	struct lockhdr h;

	hdr_get(fd, &h);
	return h.crashed;
}

/*
 * The lag field (hdr_get reads it). lag_set: this boot's hash, on the
 * disk (fdatasync) before a transaction whose commit may leave the
 * database unsynced; only then may it (lag_ok). lag_zero: 0, without an fsync (a stale lag
 * only costs a needless rebuild); lag_clear does it after an fsync of
 * the database and the journal, unless a sync of this handle ever
 * failed (its writes may never reach the disk: a reboot must rebuild).
 */
static int	lag_zero(struct greydb *);

static void
lag_set(struct greydb *db)
{
	uint64_t v = boot_hash();

	db->lag_ok = 0;
	if (v == 0)
		return;
	if (pwrite(db->lockfd, &v, sizeof(v), LAG_OFFSET) !=
	    (ssize_t)sizeof(v) || fdatasync(db->lockfd) == -1) {
		log_warnx("%s.lock: %s; committing with an fsync each time",
		    db->path, strerror(errno));
		/* Not on the disk: the next transaction must not trust it. */
		(void)lag_zero(db);
		return;
	}
	db->lag_ok = 1;
}

static int
lag_zero(struct greydb *db)
{
	uint64_t v = 0;

	db->lag_ok = 0;
	if (pwrite(db->lockfd, &v, sizeof(v), LAG_OFFSET) !=
	    (ssize_t)sizeof(v)) {
		seterr("write %s.lock: %s", db->path, strerror(errno));
		return -1;
	}
	return 0;
}

static void
lag_clear(struct greydb *db)
{
	if (db->sync_failed)
		db->lag_ok = 0;
	else
		(void)lag_zero(db);
}

/*
 * The end of a writer's transaction: the next generation and the clean
 * mark in one write. db->gen is the file's: it was read under the lock
 * that we still hold.
 */
static int
hdr_finish(struct greydb *db)
{
	uint8_t b[GEN_OFFSET + 8];
	uint64_t g = db->gen + 1;

	memset(b, 0, sizeof(b));
	b[0] = MARK_CLEAN;
	memcpy(b + GEN_OFFSET, &g, sizeof(g));
	if (pwrite(db->lockfd, b, sizeof(b), 0) != (ssize_t)sizeof(b)) {
		seterr("write %s.lock: %s", db->path, strerror(errno));
		return -1;
	}
	db->gen = g;
	return 0;
}

/*
 * A SPAMTRAP record is about to be stored: say so in the lock file
 * first, so that a process that keeps a handle (spamd's greylister)
 * knows that its count of them is out of date (greydb_trapgen). Once
 * per transaction, before the store, so that no record can exist
 * without the bump even if we die right after.
 */
static int
trapgen_bump(struct greydb *db)
{
	uint64_t g = db->trapgen + 1;

	if (db->trap_bumped)
		return 0;
	if (pwrite(db->lockfd, &g, sizeof(g), TRAPGEN_OFFSET) !=
	    (ssize_t)sizeof(g)) {
		seterr("write %s.lock: %s", db->path, strerror(errno));
		return -1;
	}
	db->trapgen = g;
	db->trap_bumped = 1;
	return 0;
}

/* Remember which file the handle reads: a rebuild replaces it. */
static void
note_file(struct greydb *db)
{
	struct stat st;

	if (db->dbf != NULL && fstat(gdbm_fdesc(db->dbf), &st) == 0) {
		db->dev = st.st_dev;
		db->ino = st.st_ino;
	}
}

static int
same_file(const struct greydb *db)
{
	struct stat st;

	return stat(db->path, &st) == 0 && st.st_dev == db->dev &&
	    st.st_ino == db->ino;
}

/*
 * Open the GDBM file through a descriptor of our own: gdbm_open would
 * follow a symlink planted in the directory (util_open_file refuses it,
 * and hard links, FIFOs and devices too).
 */
static GDBM_FILE
dbf_open(const char *path, enum greydb_mode mode)
{
	int flags = GDBM_NOLOCK | GDBM_CLOEXEC | GDBM_CLOERROR;
	int fd, created = 0;
	char why[256];
	GDBM_FILE dbf;

	if (mode == GREYDB_WRITE) {
		flags |= GDBM_WRCREAT;
		fd = util_open_file(path, O_RDWR | O_CREAT | O_EXCL, 0600,
		    why, sizeof(why));
		created = fd != -1;
		if (fd == -1 && errno == EEXIST)
			fd = util_open_file(path, O_RDWR, 0, why, sizeof(why));
	} else {
		flags |= GDBM_READER;
		fd = util_open_file(path, O_RDONLY, 0, why, sizeof(why));
	}
	if (fd == -1) {
		seterr("cannot open %s for %s: %s", path,
		    mode == GREYDB_WRITE ? "writing" : "reading", why);
		return NULL;
	}
	if (created)
		util_own_like_dir(fd, path);
	errno = 0;
	/* GDBM_CLOERROR: gdbm_fd_open closes fd when it fails. */
	dbf = gdbm_fd_open(fd, path, 0, flags, NULL);
	if (dbf == NULL) {
		seterr("cannot open %s for %s: %s", path,
		    mode == GREYDB_WRITE ? "writing" : "reading", gdbm_why());
		return NULL;
	}
	/*
	 * Writers write through write(2), not GDBM's mapping: a store into
	 * the mapping faults on every page that the last sync cleaned (the
	 * kernel protects it again) and on every page after the file grows
	 * (GDBM maps it anew), which made up a third of the greylister's
	 * CPU per tuple in the bench; write(2) halves that. Readers keep
	 * the mapping.
	 */
	if (mode == GREYDB_WRITE) {
		int off = 0;

		if (gdbm_setopt(dbf, GDBM_SETMMAP, &off, sizeof(off)) != 0)
			log_debug("%s: GDBM's mapping stays on: %s", path,
			    gdbm_why());
	}
	return dbf;
}

/*
 * Rebuild the database. The caller holds the exclusive lock and db->dbf is
 * a writer. gdbm_recover replaces the file and keeps the handle valid.
 */
static int
recover_writer(struct greydb *db)
{
	gdbm_recovery rcvr;
	struct stat st;
	int have_st;

	memset(&rcvr, 0, sizeof(rcvr));
	have_st = stat(db->path, &st) == 0;
	log_warnx("%s: recovering the database after an unclean write",
	    db->path);
	if (gdbm_recover(db->dbf, &rcvr, GDBM_RCVR_FORCE) != 0) {
		seterr("recover %s: %s", db->path, gdbm_why());
		log_warnx("%s", errbuf);
		return -1;
	}
	/* The handle reads the new file now: chown that, not the name. */
	if (have_st)
		util_keep_owner(gdbm_fdesc(db->dbf), db->path, &st);
	log_warnx("%s: recovered %zu keys, %zu lost, %zu buckets lost",
	    db->path, rcvr.recovered_keys, rcvr.failed_keys,
	    rcvr.failed_buckets);
	return 0;
}

/*
 * A writer died mid-transaction (the dirty mark). The caller holds the
 * exclusive lock; db->dbf, if open, is a writer. Rebuild from the
 * checkpoint and the journal, which gives the last committed state
 * exactly; without them, or if that fails, fall back to gdbm_recover.
 */
static int
rebuild_writer(struct greydb *db)
{
	char msg[512];
	int rc;

	struct lockhdr h;

	if (db->dbf != NULL)
		gdbm_close(db->dbf);
	db->dbf = NULL;
	hdr_get(db->lockfd, &h);
	if (h.mark == MARK_DIRTY)
		log_warnx("%s: a writer died mid-transaction; rebuilding the "
		    "database", db->path);
	else
		log_warnx("%s: the system restarted before the last writes "
		    "reached the disk; rebuilding the database", db->path);
	rc = journal_rebuild(db->path, msg, sizeof(msg));
	if (rc == 0)
		log_warnx("%s: %s", db->path, msg);
	else
		log_warnx("%s: cannot rebuild from the journal (%s)", db->path,
		    msg);
	if ((db->dbf = dbf_open(db->path, GREYDB_WRITE)) == NULL)
		return -1;
	return rc == 0 ? 0 : recover_writer(db);
}

/*
 * Recover from a reader: drop the shared lock, take the exclusive one,
 * rebuild (after a crash) or recover, then come back to a shared lock and
 * a fresh reader.
 */
static int
recover_reader(struct greydb *db, int crashed)
{
	int rc = 0;

	if (db->dbf != NULL)
		gdbm_close(db->dbf);
	db->dbf = NULL;
	if (lock_wait(db->lockfd, LOCK_EX, db->wait_ms, db->path) == -1)
		return -1;
	if (crashed && !lock_crashed(db->lockfd))
		;	/* another opener rebuilt it while we waited */
	else if (crashed)
		rc = rebuild_writer(db);
	else if ((db->dbf = dbf_open(db->path, GREYDB_WRITE)) == NULL)
		rc = -1;
	else
		rc = recover_writer(db);
	if (db->dbf != NULL) {
		if (gdbm_close(db->dbf) != 0)
			rc = -1;
		db->dbf = NULL;
	}
	if (rc == 0) {
		(void)gen_bump(db);
		(void)mark_set(db, MARK_CLEAN);
		(void)lag_zero(db);
	}
	if (lock_wait(db->lockfd, LOCK_SH, db->wait_ms, db->path) == -1)
		return -1;
	if (rc == 0 && (db->dbf = dbf_open(db->path, GREYDB_READ)) == NULL)
		rc = -1;
	return rc;
}

static int
recover(struct greydb *db)
{
	if (db->mode == GREYDB_WRITE)
		return recover_writer(db);
	return recover_reader(db, 0);
}

static int
needs_recovery(struct greydb *db)
{
	return gdbm_errno == GDBM_NEED_RECOVERY ||
	    (db->dbf != NULL && gdbm_needs_recovery(db->dbf));
}

struct greydb *
greydb_open(const char *path, enum greydb_mode mode, int wait_ms)
{
	struct greydb *db;
	struct lockhdr h;
	char *lockpath = NULL, why[256];
	int op = mode == GREYDB_WRITE ? LOCK_EX : LOCK_SH;
	int created = 0, saved_errno;

	if ((db = calloc(1, sizeof(*db))) == NULL ||
	    (db->path = strdup(path)) == NULL ||
	    asprintf(&lockpath, "%s.lock", path) == -1) {
		seterr("greydb_open: %s", strerror(errno));
		if (db != NULL)
			free(db->path);
		free(db);
		return NULL;
	}
	db->mode = mode;
	db->wait_ms = wait_ms;
	if (mode == GREYDB_WRITE && (db->jrn = journal_new(path)) == NULL) {
		seterr("greydb_open: %s", strerror(errno));
		free(lockpath);
		free(db->path);
		free(db);
		return NULL;
	}
	/*
	 * The directory may belong to another user, who could have planted
	 * a symlink or a hard link under the lock's name: util_open_file
	 * refuses both, and the new file is chowned through its descriptor.
	 */
	db->lockfd = util_open_file(lockpath, O_RDWR, 0, why, sizeof(why));
	if (db->lockfd == -1 && errno == ENOENT) {
		db->lockfd = util_open_file(lockpath, O_RDWR | O_CREAT |
		    O_EXCL, 0600, why, sizeof(why));
		created = db->lockfd != -1;
		if (db->lockfd == -1 && errno == EEXIST)
			db->lockfd = util_open_file(lockpath, O_RDWR, 0, why,
			    sizeof(why));
	}
	if (db->lockfd == -1 && mode == GREYDB_READ &&
	    (errno == EACCES || errno == EROFS))
		db->lockfd = util_open_file(lockpath, O_RDONLY, 0, why,
		    sizeof(why));
	if (db->lockfd == -1) {
		seterr("cannot open %s for %s: %s", lockpath,
		    mode == GREYDB_WRITE ? "writing" : "reading", why);
		goto fail;
	}
	if (created)
		util_own_like_dir(db->lockfd, lockpath);
	if (lock_wait(db->lockfd, op, wait_ms, lockpath) == -1)
		goto fail;

	if (lock_crashed(db->lockfd)) {
		if (mode == GREYDB_READ) {
			if (recover_reader(db, 1) == -1)
				goto fail;
		} else if (rebuild_writer(db) == -1)
			goto fail;
		if (mode == GREYDB_WRITE && (mark_set(db, MARK_CLEAN) == -1 ||
		    lag_zero(db) == -1))
			goto fail;
	}
	if (mode == GREYDB_WRITE && mark_set(db, MARK_DIRTY) == -1)
		goto fail;
	if (db->dbf == NULL && (db->dbf = dbf_open(path, mode)) == NULL) {
		if (mode == GREYDB_WRITE)
			(void)mark_set(db, MARK_CLEAN);
		goto fail;
	}
	journal_ready(db->jrn);
	db->locked = 1;
	hdr_get(db->lockfd, &h);
	db->gen = h.gen;
	db->trapgen = h.trapgen;
	note_file(db);
	free(lockpath);
	return db;
fail:
	saved_errno = errno;
	if (db->dbf != NULL)
		gdbm_close(db->dbf);
	if (db->lockfd != -1)
		close(db->lockfd);
	free(lockpath);
	journal_free(db->jrn);
	free(db->path);
	free(db);
	errno = saved_errno;
	return NULL;
}

int
greydb_close(struct greydb *db)
{
	struct lockhdr h;
	uint64_t lag = 0;
	int rc = 0, jok = 1;

	if (db == NULL)
		return 0;
	if (!db->locked) {
		/*
		 * Committed and unlocked: everything is in the file, maybe
		 * not yet on the disk. Closing a GDBM writer syncs; take the
		 * lock anyway so no other writer is mid-way.
		 */
		if (lock_wait(db->lockfd, LOCK_EX, db->wait_ms, db->path) ==
		    0) {
			db->locked = 1;
			hdr_get(db->lockfd, &h);
			db->gen = h.gen;	/* others may have written */
		} else
			log_warnx("%s: closing without the lock", db->path);
	}
	if (db->locked && db->dbf != NULL)
		journal_append(db->jrn);
	/*
	 * A lag (ours, or the greylister's) means a reboot would rebuild
	 * from the journal: it must be on the disk before the database is,
	 * or the rebuild could roll back what this close makes durable.
	 */
	if (db->mode == GREYDB_WRITE) {
		hdr_get(db->lockfd, &h);
		if ((lag = h.lag) != 0)
			jok = journal_sync(db->jrn, db->locked) == 0;
	}
	if (db->dbf != NULL && gdbm_close(db->dbf) != 0) {
		seterr("close %s: %s", db->path, gdbm_why());
		rc = -1;
	}
	if (rc == 0 && db->sync_failed) {
		seterr("%s: an earlier sync failed: what was written since may "
		    "not be on the disk", db->path);
		rc = -1;
	}
	if (db->locked && rc == 0)
		journal_trim(db->jrn);
	if (db->mode == GREYDB_WRITE && rc == 0 && db->locked &&
	    hdr_finish(db) == -1)
		rc = -1;
	if (rc == 0 && db->locked && lag != 0 && jok)
		(void)lag_zero(db);
	close(db->lockfd);
	journal_free(db->jrn);
	free(db->path);
	free(db);
	return rc;
}

int
greydb_commit(struct greydb *db, int how)
{
	if (db->mode != GREYDB_WRITE || !db->locked) {
		seterr("commit %s: not a locked writer", db->path);
		return -1;
	}
	journal_append(db->jrn);
	/* Before the choice below: a new checkpoint that fails turns the
	 * journal off, and the frames that could stand for the database's
	 * fsync go with it. */
	journal_trim(db->jrn);
	/*
	 * Without sync, GDBM has written every store into the file already
	 * (the page cache): other processes read it, only the disk lags
	 * until greydb_sync. That needs this boot's lag on the disk
	 * (greydb_resume) and a journal to rebuild from; a handle whose
	 * sync ever failed syncs every time. The lag stays until
	 * greydb_sync or the close: the next transaction needs it again.
	 * For the same reason a commit that must be durable needs only
	 * the journal on the disk (one fdatasync of an appended frame,
	 * not of the random bucket pages that GDBM rewrote): a reboot
	 * rebuilds from the checkpoint and the journal, this commit
	 * included. A journal that cannot be synced is turned off.
	 */
	if (how != GREYDB_FSYNC && (!db->lag_ok || db->sync_failed ||
	    !journal_active(db->jrn)))
		how = GREYDB_FSYNC;
	if (how == GREYDB_DURABLE && journal_sync(db->jrn, 1) == -1)
		how = GREYDB_FSYNC;
	if (how == GREYDB_FSYNC) {
		(void)journal_sync(db->jrn, 1);
		if (gdbm_sync(db->dbf) != 0) {
			db->sync_failed = 1;
			seterr("sync %s: %s", db->path, gdbm_why());
			return -1;
		}
		db->unsynced = 0;
	} else
		db->unsynced = 1;
	if (hdr_finish(db) == -1)
		return -1;
	if (flock(db->lockfd, LOCK_UN) == -1) {
		seterr("unlock %s.lock: %s", db->path, strerror(errno));
		return -1;
	}
	db->locked = 0;
	return 0;
}

int
greydb_sync(struct greydb *db)
{
	int jrc;

	if (!db->unsynced)
		return 0;
	/* No lock: a journal that cannot be synced now (another writer
	 * is taking a checkpoint) is left as it is, and so is the lag. */
	jrc = journal_sync(db->jrn, 0);
	if (db->dbf != NULL && fsync(gdbm_fdesc(db->dbf)) == -1) {
		db->sync_failed = 1;
		seterr("sync %s: %s", db->path, strerror(errno));
		return -1;
	}
	db->unsynced = 0;
	if (jrc == 0)
		lag_clear(db);
	return 0;
}

int
greydb_unsynced(const struct greydb *db)
{
	return db->unsynced;
}

int
greydb_resume(struct greydb *db, int wait_ms)
{
	struct lockhdr h;

	if (db->locked)
		return 0;
	if (lock_wait(db->lockfd, LOCK_EX, wait_ms, db->path) == -1)
		return -1;
	db->locked = 1;
	hdr_get(db->lockfd, &h);
	db->trapgen = h.trapgen;
	db->trap_bumped = 0;
	if (db->dbf == NULL || h.crashed || h.gen != db->gen ||
	    !same_file(db)) {
		/* Somebody else wrote (or died writing): start afresh.
		 * gdbm_close syncs what we left unsynced, and the other
		 * writer's close synced the whole file anyway. */
		if (db->dbf != NULL)
			gdbm_close(db->dbf);
		db->dbf = NULL;
		db->unsynced = 0;
		if (h.crashed) {
			if (rebuild_writer(db) == -1 || lag_zero(db) == -1)
				goto fail;
			h.lag = 0;
		} else if ((db->dbf = dbf_open(db->path, GREYDB_WRITE)) ==
		    NULL)
			goto fail;
		note_file(db);
	}
	db->gen = h.gen;
	if (mark_set(db, MARK_DIRTY) == -1)
		goto fail;
	/* Before any store that the commit may leave unsynced (on
	 * failure the commit syncs). Read from the file each time: any
	 * other writer may have cleared it meanwhile. */
	if (h.lag != 0 && h.lag == boot_hash())
		db->lag_ok = 1;
	else
		lag_set(db);
	journal_ready(db->jrn);
	return 0;
fail:
	/* Leave it unlocked and handle-less; greydb_close still works. */
	if (db->dbf != NULL)
		gdbm_close(db->dbf);
	db->dbf = NULL;
	db->unsynced = 0;
	flock(db->lockfd, LOCK_UN);
	db->locked = 0;
	return -1;
}

static void
log_corrupt(const struct greydb *db, const char *key, size_t keylen,
    const char *why)
{
	char k[128];
	size_t n = keylen < sizeof(k) - 1 ? keylen : sizeof(k) - 1;

	memcpy(k, key, n);
	k[n] = '\0';
	/* NUL bytes inside the key would cut it short: show them. */
	for (size_t i = 0; i < n; i++)
		if (k[i] == '\0')
			k[i] = '?';
	log_warnx("%s: skipping corrupt record \"%s%s\": %s", db->path, k,
	    keylen > n ? "..." : "", why);
}

/* Decode and validate one stored value. */
static int
decode(const struct greydb *db, const char *key, size_t keylen,
    const datum *d, struct gd_rec *rec, const char **why)
{
	if (gd_decode(d->dptr, (size_t)d->dsize, rec, why) == -1 ||
	    gd_check(key, keylen, rec, why) == -1) {
		if (!db->quiet)
			log_corrupt(db, key, keylen, *why);
		return -1;
	}
	return 0;
}

int
greydb_get(struct greydb *db, const char *key, size_t keylen,
    struct gd_rec *rec)
{
	datum k, d;
	const char *why;
	int tries = 0, rc;

	k.dptr = (char *)(uintptr_t)key;
	k.dsize = (int)keylen;
again:
	d = gdbm_fetch(db->dbf, k);
	if (d.dptr == NULL) {
		if (gdbm_errno == GDBM_ITEM_NOT_FOUND)
			return GREYDB_NOTFOUND;
		if (needs_recovery(db) && tries++ == 0 && recover(db) == 0)
			goto again;
		seterr("fetch from %s: %s", db->path, gdbm_why());
		return -1;
	}
	rc = decode(db, key, keylen, &d, rec, &why) == 0 ? GREYDB_OK :
	    GREYDB_CORRUPT;
	free(d.dptr);
	return rc;
}

int
greydb_found(struct greydb *db, const char *key, size_t keylen,
    struct gd_rec *rec)
{
	switch (greydb_get(db, key, keylen, rec)) {
	case GREYDB_OK:
		return 1;
	case GREYDB_NOTFOUND:
		return 0;
	case GREYDB_CORRUPT:
		/* OpenBSD deletes it and fails; the new record replaces it */
		log_warnx("replacing the corrupt record of %.*s", (int)keylen,
		    key);
		return 0;
	}
	return -1;
}

int
greydb_put(struct greydb *db, const char *key, size_t keylen,
    const struct gd_rec *rec)
{
	uint8_t buf[GD_REC_SIZE];
	datum k, d;
	int tries = 0;

	if (db->mode != GREYDB_WRITE) {
		seterr("store into %s: opened read-only", db->path);
		return -1;
	}
	if (rec->kind == GD_SPAMTRAP && trapgen_bump(db) == -1)
		return -1;
	gd_encode(rec, buf);
	k.dptr = (char *)(uintptr_t)key;
	k.dsize = (int)keylen;
	d.dptr = (char *)buf;
	d.dsize = sizeof(buf);
again:
	if (gdbm_store(db->dbf, k, d, GDBM_REPLACE) != 0) {
		if (needs_recovery(db) && tries++ == 0 && recover(db) == 0)
			goto again;
		seterr("store into %s: %s", db->path, gdbm_why());
		return -1;
	}
	journal_put(db->jrn, key, keylen, buf, sizeof(buf));
	return 0;
}

int
greydb_del(struct greydb *db, const char *key, size_t keylen)
{
	datum k;
	int tries = 0;

	if (db->mode != GREYDB_WRITE) {
		seterr("delete from %s: opened read-only", db->path);
		return -1;
	}
	k.dptr = (char *)(uintptr_t)key;
	k.dsize = (int)keylen;
again:
	if (gdbm_delete(db->dbf, k) != 0) {
		if (gdbm_errno == GDBM_ITEM_NOT_FOUND)
			return GREYDB_NOTFOUND;
		if (needs_recovery(db) && tries++ == 0 && recover(db) == 0)
			goto again;
		seterr("delete from %s: %s", db->path, gdbm_why());
		return -1;
	}
	journal_del(db->jrn, key, keylen);
	return GREYDB_OK;
}

struct keylist {
	datum	*v;
	size_t	 n, cap;
};

static int
keylist_add(struct keylist *l, const datum *k)
{
	datum c;

	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 64;
		datum *nv = reallocarray(l->v, ncap, sizeof(*nv));

		if (nv == NULL)
			return -1;
		l->v = nv;
		l->cap = ncap;
	}
	if ((c.dptr = malloc((size_t)k->dsize)) == NULL)
		return -1;
	memcpy(c.dptr, k->dptr, (size_t)k->dsize);
	c.dsize = k->dsize;
	l->v[l->n++] = c;
	return 0;
}

static void
keylist_free(struct keylist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].dptr);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/*
 * Visit every record. Deletions are collected and applied after the
 * iteration, because GDBM's firstkey/nextkey loses its place when the
 * current key is deleted (linux-libraries §4.3). If the file turns out to
 * need recovery before anything was delivered, recover and start over;
 * later than that, recover and fail so that the caller can run again
 * without seeing records twice.
 */
int
greydb_walk(struct greydb *db, greydb_walk_fn fn, void *arg)
{
	struct keylist del = { NULL, 0, 0 };
	datum k, next, d;
	struct gd_rec rec;
	const char *why;
	size_t delivered;
	int rc = 0, tries = 0, act;

again:
	delivered = 0;
	k = gdbm_firstkey(db->dbf);
	while (k.dptr != NULL) {
		d = gdbm_fetch(db->dbf, k);
		if (d.dptr == NULL) {
			if (gdbm_errno != GDBM_ITEM_NOT_FOUND)
				break;
			act = GREYDB_KEEP;
		} else {
			if (decode(db, k.dptr, (size_t)k.dsize, &d, &rec,
			    &why) == 0)
				act = fn(k.dptr, (size_t)k.dsize, &rec, NULL,
				    arg);
			else
				act = fn(k.dptr, (size_t)k.dsize, NULL, why,
				    arg);
			free(d.dptr);
			delivered++;
		}
		if (act == GREYDB_DELETE && keylist_add(&del, &k) == -1) {
			seterr("walk %s: %s", db->path, strerror(errno));
			free(k.dptr);
			keylist_free(&del);
			return -1;
		}
		if (act == GREYDB_STOP) {
			free(k.dptr);
			k.dptr = NULL;
			gdbm_errno = GDBM_ITEM_NOT_FOUND;
			break;
		}
		next = gdbm_nextkey(db->dbf, k);
		free(k.dptr);
		k = next;
	}
	if (k.dptr != NULL)
		free(k.dptr);
	if (gdbm_errno != GDBM_ITEM_NOT_FOUND && gdbm_errno != GDBM_NO_ERROR) {
		if (needs_recovery(db) && tries++ == 0 && recover(db) == 0 &&
		    delivered == 0 && del.n == 0)
			goto again;
		seterr("walk %s: %s%s", db->path, gdbm_why(),
		    delivered ? " (recovered where possible; run again)" : "");
		keylist_free(&del);
		return -1;
	}
	if (del.n > 0 && db->mode != GREYDB_WRITE) {
		seterr("walk %s: cannot delete, opened read-only", db->path);
		keylist_free(&del);
		return -1;
	}
	for (size_t i = 0; i < del.n; i++) {
		if (gdbm_delete(db->dbf, del.v[i]) == 0)
			journal_del(db->jrn, del.v[i].dptr,
			    (size_t)del.v[i].dsize);
		else if (gdbm_errno != GDBM_ITEM_NOT_FOUND) {
			seterr("delete from %s: %s", db->path, gdbm_why());
			rc = -1;
			break;
		}
	}
	keylist_free(&del);
	return rc;
}

int
greydb_reorganize(struct greydb *db)
{
	struct stat st;
	int have_st = stat(db->path, &st) == 0;

	if (db->mode != GREYDB_WRITE) {
		seterr("reorganize %s: opened read-only", db->path);
		return -1;
	}
	if (gdbm_reorganize(db->dbf) != 0) {
		seterr("reorganize %s: %s", db->path, gdbm_why());
		return -1;
	}
	if (have_st)
		util_keep_owner(gdbm_fdesc(db->dbf), db->path, &st);
	return 0;
}

/*
 * What the database takes on disk with its crash protection files, for
 * spamd's --db-max-size. lstat: a link is counted as itself.
 */
int
greydb_disk_usage(const char *path, struct greydb_usage *u)
{
	static const char *const sfx[3] = { "", ".ckpt", ".journal" };
	int64_t *out[3] = { &u->db, &u->ckpt, &u->journal };
	char p[PATH_MAX];
	struct stat st;
	int i;

	for (i = 0; i < 3; i++) {
		*out[i] = 0;
		if ((size_t)snprintf(p, sizeof(p), "%s%s", path, sfx[i]) >=
		    sizeof(p)) {
			errno = ENAMETOOLONG;
			seterr("%s%s: %s", path, sfx[i], strerror(errno));
			return -1;
		}
		if (lstat(p, &st) == -1) {
			if (errno == ENOENT)
				continue;
			seterr("%s: %s", p, strerror(errno));
			return -1;
		}
		*out[i] = (int64_t)st.st_size;
	}
	return 0;
}
