/*
 * tdb.h: a scratch database for the unit tests of the database layer
 * (t_greydb, t_journal), in the case's temporary directory.
 *
 *	tdb_path, tdb_lockpath	the database and its lock file; tdb_paths()
 *		points them at t_path("spamd.db"), a case may point them
 *		elsewhere (then keep tdb_lockpath = tdb_path + ".lock")
 *	tdb_ipkey(buf, len, n)	the key of test record n, "2001:db8::<n hex>"
 *	tdb_open(mode), tdb_close(db)	greydb_open/close that fail the case
 *	tdb_mark(), tdb_set_mark(c)	read or set the lock file's dirty mark
 *	tdb_raw_store(key, keylen, val, vallen)	store bytes with raw gdbm
 *		calls, bypassing greydb and its journal (damage, or a
 *		foreign program)
 */
#ifndef TDB_H
#define TDB_H

#include <stddef.h>

#include "common/greydb.h"

extern char	tdb_path[512], tdb_lockpath[520];

void		 tdb_paths(void);
size_t		 tdb_ipkey(char *, size_t, unsigned int);
struct greydb	*tdb_open(enum greydb_mode);
void		 tdb_close(struct greydb *);
int		 tdb_mark(void);
void		 tdb_set_mark(char);
void		 tdb_raw_store(const char *, size_t, const void *, size_t);

#endif
