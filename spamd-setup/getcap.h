/*
 * getcap.h: the subset of getcap(3) syntax that spamd.conf uses, with
 * file:line diagnostics.
 *
 *	getcap_parse(file, buf, len, db)	parse a whole file held in buf;
 *		every problem is logged as "file:line: message" and counted;
 *		returns the number of errors. The database holds every entry
 *		whose names could be read; one with a bad capability is
 *		marked broken, so later checks neither repeat the error nor
 *		complain that the entry is missing.
 *	getcap_load(path, db)	read path and getcap_parse it; an unreadable
 *		file is one error
 *	getcap_find(db, name)	the entry with this name (or alias)
 *	getcap_get(ent, name)	the first capability with this name; NULL if
 *		absent or if its first occurrence is a cancel ("name@")
 *	getcap_free(db)
 *
 * Syntax: an entry is names separated by '|', then capabilities, all
 * separated by ':'. A line ending in '\' continues on the next line, whose
 * leading blanks are dropped. Lines whose first non-blank character is '#'
 * are comments (also inside a continued entry); blank lines end an entry.
 * A capability is `name' (boolean), `name=value' (string), `name#number'
 * or `name@' (cancelled). Blanks around names and around unquoted
 * values are ignored. In values,
 * \\ \: \" \n \t \r \^ stand for \ : " newline tab CR ^; any other escape
 * is an error. A value starting with '"' runs to the next unescaped '"'
 * and may hold ':' (the spamd.conf extension); it must be followed by ':'
 * or the end of the entry. Not supported: tc= inclusion (an error) and
 * the ^X notation (taken literally). A second entry with a name already
 * used is an error (getcap would silently use the first), and so is a
 * '\' that continues an entry into a blank line or past the end of file.
 */
#ifndef GETCAP_H
#define GETCAP_H

#include <stddef.h>

#define GETCAP_FILE_MAX	(1024 * 1024)	/* bytes read by getcap_load */

enum getcap_type {
	GETCAP_BOOL,
	GETCAP_STR,
	GETCAP_NUM,
	GETCAP_CANCEL,
};

struct getcap_cap {
	char		*name;
	enum getcap_type type;
	char		*value;		/* STR and NUM; NULL otherwise */
	int		 quoted;	/* STR given as "..." */
	int		 line;
};

struct getcap_ent {
	char		**names;	/* names[0] is the entry's name */
	size_t		 nnames;
	struct getcap_cap *caps;
	size_t		 ncaps;
	int		 line;		/* where the entry starts */
	int		 broken;	/* a capability had an error (reported) */
};

struct getcap_db {
	char		*file;
	struct getcap_ent *ents;
	size_t		 nents;
};

int	getcap_parse(const char *, const char *, size_t, struct getcap_db *);
int	getcap_load(const char *, struct getcap_db *);
const struct getcap_ent *getcap_find(const struct getcap_db *, const char *);
const struct getcap_cap *getcap_get(const struct getcap_ent *, const char *);
void	getcap_free(struct getcap_db *);

#endif /* GETCAP_H */
