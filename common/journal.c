/*
 * journal.c: the checkpoint and redo journal that make a crashed writer
 * lose nothing committed (see journal.h for the protocol).
 *
 * <db>.journal: a 64-byte header, then one frame per transaction:
 *	u32 payload length, u32 CRC-32 of the payload, payload
 * and the payload is a run of changes:
 *	u8 'P' or 'D', u32 key length, u32 value length, key, value
 * All integers are big-endian. The header holds a magic line and the
 * stamp (device, inode, size, mtime) of the database as the last writer
 * left it, so a change made behind our back (gdbmtool, a restored copy)
 * is noticed and a new checkpoint taken before it could be rolled back.
 *
 * A writer keeps the journal's descriptor from one transaction to the
 * next while the name still leads to that file (an lstat at the start of
 * each transaction and before each frame, under the lock), so a
 * transaction costs two lstats, a pread and two pwrites (frame, header),
 * not three opens with their fstat, fcntl and close.
 *
 * Nothing here trusts a name in the directory (DESIGN.md §4.3): files
 * are opened with util_open_file (no symlink, one hard link), the
 * temporaries <db>.ckpt.tmp, <db>.journal.tmp and <db>.rebuild are
 * unlinked and created O_EXCL, and chowned through their descriptors
 * before they are renamed into place.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <gdbm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "common/journal.h"
#include "common/log.h"
#include "common/util.h"

#define JRN_MAGIC	"spamd journal 1\n"
#define JRN_MAGIC_LEN	16
#define JRN_STAMP_OFF	16
#define JRN_STAMP_LEN	40
#define JRN_HDR		64
#define JRN_FRAME_HDR	8
#define JRN_FRAME_MAX	(1U << 30)
/*
 * A new checkpoint once the journal is larger than the database, so that
 * copying costs about a byte per journaled byte, but never past 64 MB of
 * journal: a rebuild replays it all (some 100,000 changes a second), and
 * a GDBM file bloated by churn must not stretch that without bound.
 */
#define JRN_TRIM_MIN	(4 * 1024 * 1024)
#define JRN_TRIM_MAX	(64 * 1024 * 1024)
#define OP_PUT		'P'
#define OP_DEL		'D'

struct journal {
	char		*dbpath;
	char		*jpath;		/* <db>.journal */
	char		*cpath;		/* <db>.ckpt */
	uint8_t		*buf;		/* frame header, then the changes */
	size_t		 len, cap;	/* bytes of changes; of buf */
	int		 fd;		/* the journal, or -1 */
	dev_t		 dev;		/* fd's file */
	ino_t		 ino;
	off_t		 end;		/* its size, while "current" */
	int		 current;	/* fd checked in this transaction */
	int		 ok;		/* checkpoint + journal are current */
	int		 broken;	/* a change could not be buffered */
};

/* "protection off" is said once per process until it is back on. */
static int	off_logged;

static uint32_t
crc(const uint8_t *p, size_t n)
{
	uLong c = crc32(0L, Z_NULL, 0);

	while (n > 0) {
		uInt chunk = n > 1U << 30 ? 1U << 30 : (uInt)n;

		c = crc32(c, p, chunk);
		p += chunk;
		n -= chunk;
	}
	return (uint32_t)c;
}

/* path + suffix in a new string, NULL when out of memory */
static char *
path_with(const char *path, const char *suffix)
{
	size_t a = strlen(path), b = strlen(suffix);
	char *p;

	if ((p = malloc(a + b + 1)) == NULL)
		return NULL;
	memcpy(p, path, a);
	memcpy(p + a, suffix, b + 1);
	return p;
}

struct journal *
journal_new(const char *dbpath)
{
	struct journal *j;

	if ((j = calloc(1, sizeof(*j))) == NULL)
		return NULL;
	j->fd = -1;
	if ((j->dbpath = strdup(dbpath)) == NULL ||
	    (j->jpath = path_with(dbpath, ".journal")) == NULL ||
	    (j->cpath = path_with(dbpath, ".ckpt")) == NULL) {
		journal_free(j);
		return NULL;
	}
	return j;
}

void
journal_free(struct journal *j)
{
	if (j == NULL)
		return;
	if (j->fd != -1)
		close(j->fd);
	free(j->dbpath);
	free(j->jpath);
	free(j->cpath);
	free(j->buf);
	free(j);
}

/* Forget the kept descriptor (the file is going, or is not ours). */
static void
jfd_drop(struct journal *j)
{
	if (j->fd != -1)
		close(j->fd);
	j->fd = -1;
	j->current = 0;
}

/*
 * Make j->fd the journal the name leads to now, its size in j->end; the
 * caller holds the lock, so nobody else appends or replaces it until the
 * commit. The kept descriptor serves while the name is still that file
 * (a checkpoint by another writer renames a new one into place); else
 * it is opened anew, as every file here, by util_open_file. 0, or -1
 * with errno and why.
 */
static int
jfd_current(struct journal *j, char *why, size_t whylen)
{
	struct stat st;
	int fd;

	if (j->fd != -1) {
		if (lstat(j->jpath, &st) == 0 && S_ISREG(st.st_mode) &&
		    st.st_nlink == 1 && st.st_dev == j->dev &&
		    st.st_ino == j->ino) {
			j->end = st.st_size;
			j->current = 1;
			return 0;
		}
		jfd_drop(j);
	}
	if ((fd = util_open_file(j->jpath, O_RDWR, 0, why, whylen)) == -1)
		return -1;
	if (fstat(fd, &st) == -1) {
		util_errf(why, whylen, "fstat: %s", strerror(errno));
		close(fd);
		return -1;
	}
	j->fd = fd;
	j->dev = st.st_dev;
	j->ino = st.st_ino;
	j->end = st.st_size;
	j->current = 1;
	return 0;
}

/* The stamp of the database file as it is now; its size in *size if
 * size is not NULL. */
static int
stamp_now(const char *dbpath, uint8_t *s, off_t *size)
{
	struct stat st;

	if (stat(dbpath, &st) == -1)
		return -1;
	if (size != NULL)
		*size = st.st_size;
	util_put64(s, (uint64_t)st.st_dev);
	util_put64(s + 8, (uint64_t)st.st_ino);
	util_put64(s + 16, (uint64_t)st.st_size);
	util_put64(s + 24, (uint64_t)st.st_mtim.tv_sec);
	util_put64(s + 32, (uint64_t)st.st_mtim.tv_nsec);
	return 0;
}

/*
 * Open a regular file of ours (flags: O_RDONLY or O_WRONLY) and sync it:
 * fdatasync if data, else fsync. 0, or -1 with errno.
 */
static int
sync_file(const char *path, int flags, int data)
{
	int fd, rc, saved;

	if ((fd = util_open_file(path, flags, 0, NULL, 0)) == -1)
		return -1;
	rc = data ? fdatasync(fd) : fsync(fd);
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

/*
 * Before the checkpoint or the journal goes: a commit may be on the disk
 * only in them (greydb_commit, GREYDB_DURABLE), so the database itself
 * must be first. A failure is logged; the files go anyway (kept, a stale
 * checkpoint could roll the database back later).
 */
static void
db_fsync(const struct journal *j)
{
	if (sync_file(j->dbpath, O_RDONLY, 0) == -1)
		log_warn("%s: sync before the checkpoint goes", j->dbpath);
}

/* The renames of a checkpoint on the disk: the directory's fsync. */
static void
dir_fsync(const struct journal *j)
{
	char *copy, *dir;
	int fd;

	if ((copy = strdup(j->cpath)) == NULL) {
		log_warn("sync the directory of %s", j->cpath);
		return;
	}
	dir = dirname(copy);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    fsync(fd) == -1)
		log_warn("sync %s", dir);
	if (fd != -1)
		close(fd);
	free(copy);
}

/*
 * Protection is lost: remove the checkpoint before the journal, so that
 * a rebuild never starts from a checkpoint whose journal is short.
 */
static void
turn_off(struct journal *j, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
turn_off(struct journal *j, const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	j->ok = 0;
	j->len = 0;
	j->broken = 0;
	jfd_drop(j);
	db_fsync(j);
	if (unlink(j->cpath) == -1 && errno != ENOENT)
		log_warn("%s: cannot remove a stale checkpoint; remove it "
		    "by hand before a crash rolls the database back",
		    j->cpath);
	if (unlink(j->jpath) == -1 && errno != ENOENT)
		log_warn("unlink %s", j->jpath);
	if (!off_logged)
		log_warnx("%s: crash protection off (%s): a writer killed "
		    "now leaves the database to gdbm_recover", j->dbpath, why);
	off_logged = 1;
}

static int
write_full(int fd, const void *p, size_t n)
{
	const uint8_t *c = p;
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, c, n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * Create dst anew (whatever had that name is removed first: it may be a
 * symlink somebody planted), copy src into it and sync it. Returns dst's
 * descriptor, open for reading and writing, for the caller to chown
 * and close; -1 on failure, dst removed.
 */
static int
copy_file(const char *src, const char *dst, char *err, size_t errlen)
{
	int in, out, rc = -1, fallback = 0;
	uint8_t buf[65536];
	char why[256];
	ssize_t n;

	if ((in = util_open_file(src, O_RDONLY, 0, why, sizeof(why))) == -1) {
		util_errf(err, errlen, "open %s: %s", src, why);
		return -1;
	}
	if (unlink(dst) == -1 && errno != ENOENT) {
		util_errf(err, errlen, "remove %s: %s", dst, strerror(errno));
		close(in);
		return -1;
	}
	if ((out = util_open_file(dst, O_RDWR | O_CREAT | O_EXCL, 0600, why,
	    sizeof(why))) == -1) {
		util_errf(err, errlen, "create %s: %s", dst, why);
		close(in);
		return -1;
	}
	for (;;) {
		if (!fallback) {
			n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
			if (n == -1 && (errno == EXDEV || errno == ENOSYS ||
			    errno == EINVAL || errno == EOPNOTSUPP)) {
				fallback = 1;
				continue;
			}
		} else if ((n = read(in, buf, sizeof(buf))) > 0 &&
		    write_full(out, buf, (size_t)n) == -1) {
			util_errf(err, errlen, "write %s: %s", dst,
			    strerror(errno));
			goto done;
		}
		if (n == 0)
			break;
		if (n == -1) {
			if (errno == EINTR)
				continue;
			util_errf(err, errlen, "copy %s to %s: %s", src, dst,
			    strerror(errno));
			goto done;
		}
	}
	if (fdatasync(out) == -1) {
		util_errf(err, errlen, "sync %s: %s", dst, strerror(errno));
		goto done;
	}
	/* GDBM reads the header from the current offset. */
	if (lseek(out, 0, SEEK_SET) == -1) {
		util_errf(err, errlen, "seek %s: %s", dst, strerror(errno));
		goto done;
	}
	rc = 0;
done:
	close(in);
	if (rc == 0)
		return out;
	close(out);
	(void)unlink(dst);
	return -1;
}

/*
 * Write the header with the current stamp into the journal at fd; the
 * database's size in *dbsize if dbsize is not NULL.
 */
static int
header_write(const char *dbpath, int fd, off_t *dbsize)
{
	uint8_t h[JRN_HDR];

	memset(h, 0, sizeof(h));
	memcpy(h, JRN_MAGIC, JRN_MAGIC_LEN);
	if (stamp_now(dbpath, h + JRN_STAMP_OFF, dbsize) == -1)
		return -1;
	return pwrite(fd, h, sizeof(h), 0) == (ssize_t)sizeof(h) ? 0 : -1;
}

/*
 * Take a new checkpoint: copy the database and start an empty journal,
 * each beside its place, then rename the checkpoint, then the journal.
 *
 * While the old pair still describes the database, it stays valid until
 * the renames: a crash between them leaves the new checkpoint with the old
 * journal, whose changes it already holds, so the replay changes nothing.
 * When it does not (fresh: none yet, or a foreign write), it goes first,
 * checkpoint before journal, and a crash meanwhile leaves no checkpoint:
 * gdbm_recover then works on a file that nobody was writing.
 */
static void
checkpoint(struct journal *j, const char *why, int fresh)
{
	char err[512], *ctmp, *jtmp;
	int fd;

	j->ok = 0;
	jfd_drop(j);	/* a new journal takes the name */
	if (fresh)
		db_fsync(j);
	if (fresh && ((unlink(j->cpath) == -1 && errno != ENOENT) ||
	    (unlink(j->jpath) == -1 && errno != ENOENT))) {
		turn_off(j, "remove the old checkpoint: %s", strerror(errno));
		return;
	}
	ctmp = path_with(j->cpath, ".tmp");
	jtmp = path_with(j->jpath, ".tmp");
	if (ctmp == NULL || jtmp == NULL) {
		turn_off(j, "out of memory");
		goto out;
	}
	/* Both files are new (O_EXCL) and chowned through their fds. */
	if ((fd = copy_file(j->dbpath, ctmp, err, sizeof(err))) == -1) {
		turn_off(j, "%s", err);
		goto out;
	}
	util_own_like_dir(fd, ctmp);
	if (close(fd) == -1) {
		turn_off(j, "close %s: %s", ctmp, strerror(errno));
		(void)unlink(ctmp);
		goto out;
	}
	if (unlink(jtmp) == -1 && errno != ENOENT) {
		turn_off(j, "remove %s: %s", jtmp, strerror(errno));
		(void)unlink(ctmp);
		goto out;
	}
	if ((fd = util_open_file(jtmp, O_WRONLY | O_CREAT | O_EXCL, 0600, err,
	    sizeof(err))) == -1) {
		turn_off(j, "create %s: %s", jtmp, err);
		(void)unlink(ctmp);
		goto out;
	}
	util_own_like_dir(fd, jtmp);
	if (header_write(j->dbpath, fd, NULL) == -1 || fdatasync(fd) == -1) {
		turn_off(j, "write %s: %s", jtmp, strerror(errno));
		close(fd);
		(void)unlink(ctmp);
		(void)unlink(jtmp);
		goto out;
	}
	close(fd);
	if (rename(ctmp, j->cpath) == -1) {
		turn_off(j, "rename %s: %s", ctmp, strerror(errno));
		(void)unlink(ctmp);
		(void)unlink(jtmp);
		goto out;
	}
	if (rename(jtmp, j->jpath) == -1) {
		turn_off(j, "rename %s: %s", jtmp, strerror(errno));
		(void)unlink(jtmp);
		goto out;
	}
	dir_fsync(j);
	if (off_logged)
		log_warnx("%s: crash protection back on", j->dbpath);
	else
		log_debug("%s: checkpoint taken (%s)", j->dbpath, why);
	off_logged = 0;
	j->ok = 1;
out:
	free(ctmp);
	free(jtmp);
}

/* Is the journal's stamp that of the database as it is now? */
static const char *
stale(struct journal *j)
{
	uint8_t h[JRN_HDR], now[JRN_STAMP_LEN];
	struct stat st;
	ssize_t n;

	if (lstat(j->cpath, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_nlink != 1)
		return "no checkpoint";
	if (jfd_current(j, NULL, 0) == -1)
		return "no journal";
	n = pread(j->fd, h, sizeof(h), 0);
	if (n != (ssize_t)sizeof(h) || memcmp(h, JRN_MAGIC, JRN_MAGIC_LEN) != 0)
		return "journal header damaged";
	if (stamp_now(j->dbpath, now, NULL) == -1)
		return "database missing";
	if (memcmp(h + JRN_STAMP_OFF, now, sizeof(now)) != 0)
		return "database changed by another program";
	return NULL;
}

void
journal_ready(struct journal *j)
{
	const char *why;

	if (j == NULL)
		return;
	j->len = 0;
	j->broken = 0;
	if ((why = stale(j)) == NULL) {
		j->ok = 1;
		return;
	}
	checkpoint(j, why, 1);
}

static void
add(struct journal *j, int op, const void *k, size_t kl, const void *v,
    size_t vl)
{
	size_t need = 9 + kl + vl;
	uint8_t *p;

	if (j == NULL || !j->ok || j->broken)
		return;
	if (kl > UINT32_MAX || vl > UINT32_MAX ||
	    j->len + need > JRN_FRAME_MAX) {
		j->broken = 1;
		return;
	}
	if (JRN_FRAME_HDR + j->len + need > j->cap) {
		size_t ncap = j->cap ? j->cap : 4096;
		uint8_t *nb;

		while (ncap < JRN_FRAME_HDR + j->len + need)
			ncap *= 2;
		if ((nb = realloc(j->buf, ncap)) == NULL) {
			j->broken = 1;
			return;
		}
		j->buf = nb;
		j->cap = ncap;
	}
	p = j->buf + JRN_FRAME_HDR + j->len;
	p[0] = (uint8_t)op;
	util_put32(p + 1, (uint32_t)kl);
	util_put32(p + 5, (uint32_t)vl);
	memcpy(p + 9, k, kl);
	if (vl > 0)
		memcpy(p + 9 + kl, v, vl);
	j->len += need;
}

void
journal_put(struct journal *j, const void *k, size_t kl, const void *v,
    size_t vl)
{
	add(j, OP_PUT, k, kl, v, vl);
}

void
journal_del(struct journal *j, const void *k, size_t kl)
{
	add(j, OP_DEL, k, kl, NULL, 0);
}

void
journal_append(struct journal *j)
{
	char why[256];
	size_t total;
	ssize_t w;

	if (j == NULL || !j->ok)
		return;
	if (j->broken) {
		turn_off(j, "a transaction too large to journal, or out of "
		    "memory");
		return;
	}
	if (j->len == 0)
		return;
	/*
	 * The name is checked again (one lstat): what was planted there
	 * since the transaction began is refused as before (a frame in a
	 * file that the name no longer leads to would be lost to a
	 * rebuild), and greydb_close may append without journal_ready.
	 */
	if (jfd_current(j, why, sizeof(why)) == -1) {
		turn_off(j, "open %s: %s", j->jpath, why);
		return;
	}
	util_put32(j->buf, (uint32_t)j->len);
	util_put32(j->buf + 4, crc(j->buf + JRN_FRAME_HDR, j->len));
	total = JRN_FRAME_HDR + j->len;
	while ((w = pwrite(j->fd, j->buf, total, j->end)) == -1 &&
	    errno == EINTR)
		;
	if (w != (ssize_t)total) {
		/* A short frame fails its CRC: the rebuild stops before it,
		 * but protection is off anyway, and the files go. */
		turn_off(j, "write %s: %s", j->jpath,
		    w == -1 ? strerror(errno) : "short write");
		return;
	}
	j->end += (off_t)total;
	j->len = 0;
}

int
journal_sync(struct journal *j, int locked)
{
	if (j == NULL || !j->ok)
		return 0;
	/*
	 * The kept descriptor is the file this writer appended to, even if
	 * another writer has since renamed a new journal into place (its
	 * checkpoint holds what ours did). Without one (just after a
	 * checkpoint) the journal is synced by name.
	 */
	if (j->fd != -1 ? fdatasync(j->fd) == -1 :
	    sync_file(j->jpath, O_WRONLY, 1) == -1) {
		/* Unlocked, another writer may be making a new checkpoint:
		 * its files are not ours to remove. */
		if (locked)
			turn_off(j, "sync %s: %s", j->jpath, strerror(errno));
		return -1;
	}
	return 0;
}

int
journal_active(const struct journal *j)
{
	return j != NULL && j->ok;
}

void
journal_trim(struct journal *j)
{
	char why[256];
	off_t dbsize, jsize;

	if (j == NULL || !j->ok)
		return;
	if (!j->current && jfd_current(j, why, sizeof(why)) == -1) {
		turn_off(j, "update %s: %s", j->jpath, why);
		return;
	}
	jsize = j->end;
	/* The last use in this transaction: the next one checks again. */
	j->current = 0;
	if (header_write(j->dbpath, j->fd, &dbsize) == -1) {
		turn_off(j, "update %s: %s", j->jpath, strerror(errno));
		return;
	}
	if (jsize > JRN_TRIM_MIN && (jsize > dbsize || jsize > JRN_TRIM_MAX))
		checkpoint(j, "journal outgrew the database", 0);
}

/* Apply one CRC-checked frame to dbf. -1 on a malformed frame. */
static int
replay_frame(GDBM_FILE dbf, const uint8_t *p, size_t n, size_t *changes,
    char *err, size_t errlen)
{
	datum k, v;

	while (n > 0) {
		uint32_t kl, vl;

		if (n < 9 || (p[0] != OP_PUT && p[0] != OP_DEL)) {
			util_errf(err, errlen, "malformed change in a frame");
			return -1;
		}
		kl = util_get32(p + 1);
		vl = util_get32(p + 5);
		if ((size_t)kl + vl > n - 9 || kl == 0 ||
		    (p[0] == OP_DEL && vl != 0)) {
			util_errf(err, errlen, "malformed change in a frame");
			return -1;
		}
		k.dptr = (char *)(uintptr_t)(p + 9);
		k.dsize = (int)kl;
		if (p[0] == OP_PUT) {
			v.dptr = (char *)(uintptr_t)(p + 9 + kl);
			v.dsize = (int)vl;
			if (gdbm_store(dbf, k, v, GDBM_REPLACE) != 0) {
				util_errf(err, errlen, "replay: %s",
				    gdbm_strerror(gdbm_errno));
				return -1;
			}
		} else if (gdbm_delete(dbf, k) != 0 &&
		    gdbm_errno != GDBM_ITEM_NOT_FOUND) {
			util_errf(err, errlen, "replay: %s",
			    gdbm_strerror(gdbm_errno));
			return -1;
		}
		(*changes)++;
		p += 9 + kl + vl;
		n -= 9 + (size_t)kl + vl;
	}
	return 0;
}

/*
 * Replay the journal at jfd into dbf. *good is the offset after the last
 * whole frame; a torn or damaged frame ends the replay there (it can only
 * be the transaction that died).
 */
static int
replay(int jfd, GDBM_FILE dbf, off_t size, off_t *good, size_t *txns,
    size_t *changes, char *err, size_t errlen)
{
	uint8_t fh[JRN_FRAME_HDR], *p;
	off_t off = JRN_HDR;
	uint32_t len;

	*good = off;
	while (off + JRN_FRAME_HDR <= size) {
		if (pread(jfd, fh, sizeof(fh), off) != (ssize_t)sizeof(fh))
			break;
		len = util_get32(fh);
		if (len == 0 || len > JRN_FRAME_MAX ||
		    off + JRN_FRAME_HDR + (off_t)len > size)
			break;
		if ((p = malloc(len)) == NULL) {
			util_errf(err, errlen, "out of memory");
			return -1;
		}
		if (pread(jfd, p, len, off + JRN_FRAME_HDR) != (ssize_t)len ||
		    crc(p, len) != util_get32(fh + 4)) {
			free(p);
			break;
		}
		if (replay_frame(dbf, p, len, changes, err, errlen) == -1) {
			free(p);
			return -1;
		}
		free(p);
		off += JRN_FRAME_HDR + (off_t)len;
		*good = off;
		(*txns)++;
	}
	return 0;
}

int
journal_rebuild(const char *dbpath, char *msg, size_t msglen)
{
	char *cpath = NULL, *jpath = NULL, *tmp = NULL;
	uint8_t h[JRN_HDR];
	struct stat st, old;
	size_t txns = 0, changes = 0;
	off_t good = JRN_HDR;
	char why[256];
	GDBM_FILE dbf;
	int jfd = -1, tfd, rc = -1, have_old;

	if ((cpath = path_with(dbpath, ".ckpt")) == NULL ||
	    (jpath = path_with(dbpath, ".journal")) == NULL ||
	    (tmp = path_with(dbpath, ".rebuild")) == NULL) {
		util_errf(msg, msglen, "out of memory");
		goto out;
	}
	if (lstat(cpath, &st) == -1) {
		util_errf(msg, msglen, "no checkpoint %s: %s", cpath,
		    strerror(errno));
		rc = 1;
		goto out;
	}
	if ((jfd = util_open_file(jpath, O_RDWR, 0, why, sizeof(why))) == -1 &&
	    errno != ENOENT) {
		util_errf(msg, msglen, "open %s: %s", jpath, why);
		rc = 1;
		goto out;
	}
	/* No journal yet: the checkpoint was just taken and is current. */
	if (jfd != -1 && (fstat(jfd, &st) == -1 ||
	    pread(jfd, h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
	    memcmp(h, JRN_MAGIC, JRN_MAGIC_LEN) != 0)) {
		util_errf(msg, msglen, "%s has no valid header", jpath);
		rc = 1;
		goto out;
	}
	/* The new file is ours (O_EXCL); chown it before it takes the name. */
	have_old = lstat(dbpath, &old) == 0 && S_ISREG(old.st_mode);
	if ((tfd = copy_file(cpath, tmp, msg, msglen)) == -1)
		goto out;
	if (have_old)
		util_keep_owner(tfd, dbpath, &old);
	else
		util_own_like_dir(tfd, dbpath);
	/* GDBM_CLOERROR: gdbm_fd_open closes tfd when it fails. */
	dbf = gdbm_fd_open(tfd, tmp, 0, GDBM_WRITER | GDBM_NOLOCK |
	    GDBM_CLOEXEC | GDBM_CLOERROR, NULL);
	if (dbf == NULL) {
		util_errf(msg, msglen, "open %s: %s", tmp,
		    gdbm_strerror(gdbm_errno));
		(void)unlink(tmp);
		goto out;
	}
	if (jfd != -1 && replay(jfd, dbf, st.st_size, &good, &txns, &changes,
	    msg, msglen) == -1) {
		gdbm_close(dbf);
		(void)unlink(tmp);
		goto out;
	}
	if (gdbm_close(dbf) != 0) {
		util_errf(msg, msglen, "close %s: %s", tmp,
		    gdbm_strerror(gdbm_errno));
		(void)unlink(tmp);
		goto out;
	}
	if (rename(tmp, dbpath) == -1) {
		util_errf(msg, msglen, "rename %s: %s", tmp, strerror(errno));
		(void)unlink(tmp);
		goto out;
	}
	rc = 0;
	/* Drop a torn tail, and stamp the rebuilt file as current. */
	if (jfd != -1 && ((good < st.st_size && ftruncate(jfd, good) == -1) ||
	    header_write(dbpath, jfd, NULL) == -1))
		log_warn("%s: cannot update after the rebuild (the next "
		    "writer takes a new checkpoint)", jpath);
	util_errf(msg, msglen, "rebuilt from the checkpoint and %zu journaled "
	    "transaction%s (%zu change%s)%s", txns, txns == 1 ? "" : "s",
	    changes, changes == 1 ? "" : "s",
	    jfd != -1 && good < st.st_size ?
	    "; the unfinished transaction was dropped" : "");
out:
	if (jfd != -1)
		close(jfd);
	free(cpath);
	free(jpath);
	free(tmp);
	return rc;
}
