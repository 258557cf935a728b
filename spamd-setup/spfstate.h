/*
 * spfstate.h: the last good result of every walked domain, kept in a
 * state file between runs of spamd-setup, so that a domain whose walk
 * fails (SERVFAIL, timeout) keeps its networks until they time out.
 *
 *	spfstate_load(path, s)	read the file into s. A missing file is an
 *		empty state (the first run); a file that cannot be read or
 *		does not parse is logged ("path:line: why") and also gives an
 *		empty state. 0, or -1 when it was logged as broken.
 *	spfstate_save(path, s)	write s to path.tmp.XXXXXX, fsync it and
 *		rename it over path: a reader sees the old or the new file,
 *		never half of one. 0, or -1 after a warning.
 *	spfstate_find(s, name)	the entry of a domain, or NULL
 *	spfstate_put(s, name, when, v, n)	add an entry (copies v)
 *	spfstate_free(s)
 *
 * The format, one block per line, "#" comments, the first line fixed:
 *	# spamd-setup spfwalk state 1
 *	DOMAIN WHEN CIDR	(WHEN: Unix time of the walk; CIDR "-" for a
 *				domain that walked to nothing)
 * Lines of one domain are consecutive and share WHEN.
 */
#ifndef SPFSTATE_H
#define SPFSTATE_H

#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"

#define SPFSTATE_MAX		(64L * 1024 * 1024)	/* bytes of the file */
#define SPFSTATE_HEADER		"# spamd-setup spfwalk state 1"

struct spfstate_dom {
	char		*name;
	int64_t		 when;
	struct cidr	*v;
	size_t		 n;
};

struct spfstate {
	struct spfstate_dom *d;
	size_t		 n;
};

int	spfstate_load(const char *, struct spfstate *);
int	spfstate_save(const char *, const struct spfstate *);
struct spfstate_dom *spfstate_find(const struct spfstate *, const char *);
void	spfstate_put(struct spfstate *, const char *, int64_t,
	    const struct cidr *, size_t);
void	spfstate_free(struct spfstate *);

#endif /* SPFSTATE_H */
