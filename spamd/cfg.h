/*
 * cfg.h: the blacklist configuration line, spoken between spamd-setup
 * (cfg_encode) and spamd's configuration socket (cfg_parse, cfg_process).
 *
 * One list per line, LF-terminated on the wire:
 *	tag;"message";inet;N;a.b.c.d/m;...;inet6;N;x::y/m;...
 *	tag;
 * The second form clears the list's message and addresses (the slot, and
 * so its place in the list order, stays). The inet and inet6 parts are
 * optional, in either order, each at most once; N must equal the number of
 * blocks that follow. Every block needs a mask; /0 and masks beyond 32/128
 * reject the line (as OpenBSD). A block with host bits set is accepted with
 * the host bits cleared, as OpenBSD does, and counted in `masked' so spamd
 * can say so. The message is raw: \" \\ \n and %A %% stay escaped until a
 * reply is built (sdl_reply); control bytes are refused. Tags follow
 * sdl_tag_check(); "spamd-greytrap" is reserved for spamd itself.
 *
 *	cfg_parse(buf, len, cl, err, errlen)	one line (without its LF; any
 *		bytes, NUL included) into *cl; 0, or -1 with the reason in
 *		err (and cl->tag set if the tag was read). Pure: no I/O, no
 *		logging, no global state; safe to fuzz.
 *	cfg_line_free(cl)	release what cfg_parse allocated
 *	cfg_apply(cl)		sdl_replace or sdl_clear; 0 or -1
 *	cfg_process(buf, len, st)	everything one config connection sent:
 *		split into lines (LF, an optional CR before it is dropped,
 *		empty lines skipped, a last line without LF counts), parse and
 *		apply each; every rejected line is logged at WARNING with its
 *		number and reason and leaves that list as it was; every
 *		applied line is logged at INFO. Returns the number rejected.
 *	cfg_encode(tag, msg, v, n, &len, &errstr)	the line for a list, LF
 *		included, in a malloc'd string (caller frees); msg is plain
 *		text whose LF characters separate reply lines. NULL with
 *		*errstr on a bad tag, message or block.
 *	cfg_tag_check(tag)	NULL if tag may be sent, else the reason
 */
#ifndef CFG_H
#define CFG_H

#include <stddef.h>

#include "common/addr.h"
#include "spamd/sdl.h"

#define CFG_LINE_MAX	(256UL * 1024 * 1024)	/* bytes in one line */
#define CFG_ERR_MAX	256		/* a good size for cfg_parse's err */

struct cfg_line {
	char		 tag[SDL_TAG_MAX + 1];
	int		 clear;		/* "tag;" */
	char		*msg;		/* raw message, NUL-terminated */
	struct cidr	*cidr;		/* blocks in line order */
	size_t		 ncidr;
	size_t		 n4, n6;
	size_t		 masked;	/* blocks that had host bits set */
};

struct cfg_stats {
	size_t		 lines;		/* non-empty lines seen */
	size_t		 applied;
	size_t		 rejected;
};

int	cfg_parse(const char *, size_t, struct cfg_line *, char *, size_t);
void	cfg_line_free(struct cfg_line *);
int	cfg_apply(const struct cfg_line *);
size_t	cfg_process(const char *, size_t, struct cfg_stats *);
char	*cfg_encode(const char *, const char *, const struct cidr *, size_t,
	    size_t *, const char **);
const char *cfg_tag_check(const char *);

#endif /* CFG_H */
