/*
 * tdb.c: the scratch database shared by the database unit tests (see
 * tdb.h). Every helper fails the case on error, with the reason.
 */
#include <errno.h>
#include <fcntl.h>
#include <gdbm.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/harness.h"
#include "tests/unit/tdb.h"

char	tdb_path[512], tdb_lockpath[520];

void
tdb_paths(void)
{
	snprintf(tdb_path, sizeof(tdb_path), "%s", t_path("spamd.db"));
	snprintf(tdb_lockpath, sizeof(tdb_lockpath), "%s.lock", tdb_path);
}

size_t
tdb_ipkey(char *buf, size_t len, unsigned int n)
{
	return (size_t)snprintf(buf, len, "2001:db8::%x", n);
}

struct greydb *
tdb_open(enum greydb_mode mode)
{
	struct greydb *db = greydb_open(tdb_path, mode, 1000);

	if (db == NULL)
		t_fail("greydb_open(%s): %s", tdb_path, greydb_errstr());
	return db;
}

void
tdb_close(struct greydb *db)
{
	if (greydb_close(db) != 0)
		t_fail("greydb_close: %s", greydb_errstr());
}

int
tdb_mark(void)
{
	char c = '?';
	int fd = open(tdb_lockpath, O_RDONLY);

	if (fd == -1 || read(fd, &c, 1) != 1)
		t_fail("read %s: %s", tdb_lockpath, strerror(errno));
	close(fd);
	return c;
}

void
tdb_set_mark(char c)
{
	int fd = open(tdb_lockpath, O_WRONLY);

	if (fd == -1 || pwrite(fd, &c, 1, 0) != 1)
		t_fail("write %s: %s", tdb_lockpath, strerror(errno));
	close(fd);
}

void
tdb_raw_store(const char *key, size_t keylen, const void *val, size_t vallen)
{
	GDBM_FILE dbf;
	datum k, d;

	dbf = gdbm_open(tdb_path, 0, GDBM_WRCREAT | GDBM_NOLOCK, 0600, NULL);
	if (dbf == NULL)
		t_fail("gdbm_open: %s", gdbm_strerror(gdbm_errno));
	k.dptr = (char *)(uintptr_t)key;
	k.dsize = (int)keylen;
	d.dptr = (char *)(uintptr_t)val;
	d.dsize = (int)vallen;
	T_EQ_INT(gdbm_store(dbf, k, d, GDBM_REPLACE), 0);
	T_EQ_INT(gdbm_close(dbf), 0);
}
