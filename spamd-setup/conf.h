/*
 * conf.h: what spamd.conf means: the lists to load, in order.
 *
 *	conf_load(path, c)	read and check the configuration; every error
 *		and warning is logged as "file:line: ..."; returns the number
 *		of errors (0: *c is usable; else conf_free it and stop)
 *	conf_from_db(db, c)	the same checks on a parsed getcap database
 *	conf_free(c)
 *	conf_method_name(m)	"file", "exec", "http", "https"
 *
 * Rules (OpenBSD's, made strict):
 * - the entry "all" lists the entries to use, in order, as boolean
 *   capabilities; it must exist and name at least one list;
 * - every list entry has exactly one of :black:, :white: and :spfwalk:,
 *   and :file=:;
 * - :method=: is file (the default), exec, http or https; ftp is refused
 *   with a hint; for http/https, :file=: is the URL without the scheme (a
 *   matching "http://" prefix, quoted or written with "\:", is dropped;
 *   an unquoted one is cut at its ':', which is reported as such);
 * - a black list needs :msg=:, either a quoted string (escapes as in
 *   getcap.h; a newline starts a new reply line; %A is the client's
 *   address, %% a percent sign) or, unquoted, the name of a file holding
 *   the message (CR before LF and trailing newlines dropped, tabs become
 *   blanks); its name must be a valid tag (cfg_tag_check);
 * - a black list may appear in "all" once; a white list any number of
 *   times, and it applies to the nearest black list before it (:spfwalk:
 *   entries in between do not count);
 * - an :spfwalk: list (sender domains whose SPF records spfwalk.c walks)
 *   may appear in "all" once, anywhere; it takes no :msg=:;
 * - warnings, not errors: unknown capabilities, :msg=: on a white or
 *   spfwalk list, a
 *   white list with no black list before it.
 */
#ifndef CONF_H
#define CONF_H

#include <stddef.h>

#include "spamd-setup/getcap.h"

#define CONF_MSGFILE_MAX	4096	/* bytes of a message file */

enum conf_kind {
	CONF_BLACK,
	CONF_WHITE,
	CONF_SPFWALK,
};

enum conf_method {
	CONF_FILE,
	CONF_EXEC,
	CONF_HTTP,
	CONF_HTTPS,
};

struct conf_list {
	char		*name;
	enum conf_kind	 kind;
	enum conf_method method;
	char		*file;		/* path, command line, or URL rest */
	char		*msg;		/* plain text; NULL but for black */
	int		 line;		/* where the entry starts */
};

struct conf {
	char		*file;
	struct conf_list *lists;	/* in the order of "all" */
	size_t		 nlists;
};

int	conf_load(const char *, struct conf *);
int	conf_from_db(const struct getcap_db *, struct conf *);
void	conf_free(struct conf *);
const char *conf_method_name(enum conf_method);

#endif /* CONF_H */
