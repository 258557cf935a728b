/*
 * cfg.h: the blacklist configuration line codec, spoken between
 * spamd-setup (cfg_encode) and spamd's configuration socket (cfg_parse;
 * spamd/cfg.h applies the lines). Shared so both sides agree on the
 * format and its bounds, and spamd-setup links no daemon code.
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
 * reply is built (smtp_listed_reply); control bytes are refused. Tags follow
 * cfg_tag_syntax(); "spamd-greytrap" is reserved for spamd itself.
 *
 *	cfg_parse(buf, len, cl, err, errlen)	one line (without its LF; any
 *		bytes, NUL included) into *cl; 0, or -1 with the reason in
 *		err (and cl->tag set if the tag was read). Pure: no I/O, no
 *		logging, no global state; safe to fuzz.
 *	cfg_parse_begin(ps, buf, len, bounds, cl, err, errlen)	the same in
 *		steps, within bounds (NULL: none but CFG_LINE_MAX): reads the
 *		tag and message; 1 when the line is complete, 0 to go on with
 *		cfg_parse_step, -1 as cfg_parse. A count beyond the bounds is
 *		refused before its blocks are read; the reason names the
 *		option.
 *	cfg_parse_step(ps, budget)	read up to budget blocks; 0 to call
 *		again, 1 when the line is parsed, -1 as cfg_parse (cl freed)
 *	cfg_line_free(cl)	release what cfg_parse allocated
 *	cfg_encode(tag, msg, v, n, &len, &errstr)	the line for a list, LF
 *		included, in a malloc'd string (caller frees); msg is plain
 *		text whose LF characters separate reply lines. NULL with
 *		*errstr on a bad tag, message or block.
 *	cfg_tag_check(tag)	NULL if tag may be sent, else the reason
 *	cfg_tag_syntax(tag)	NULL if tag is a well-formed tag (the greytrap
 *		tag included), else the reason
 */
#ifndef COMMON_CFG_H
#define COMMON_CFG_H

#include <stddef.h>

#include "common/addr.h"

#define CFG_LINE_MAX	(256UL * 1024 * 1024)	/* bytes in one line */
#define CFG_ERR_MAX	256		/* a good size for cfg_parse's err */
#define CFG_TAG_MAX	63		/* bytes, printable ASCII, no blank ; " */
#define CFG_MSG_MAX	2048		/* raw message bytes */
/* The list spamd's greylister fills with trapped addresses. */
#define CFG_GREYTRAP_TAG	"spamd-greytrap"

/* What one list may expand to (spamd --list-max-*). */
struct cfg_bounds {
	size_t		 max_blocks;	/* blocks in one list, both families */
	size_t		 max_blocks6;	/* IPv6 blocks in one list */
	size_t		 max_bytes;	/* bytes in one line */
};

#define CFG_MAX_BLOCKS_DEF	(8UL * 1024 * 1024)
#define CFG_MAX_BLOCKS6_DEF	(1024UL * 1024)
#define CFG_MAX_BYTES_DEF	CFG_LINE_MAX

struct cfg_line {
	char		 tag[CFG_TAG_MAX + 1];
	int		 clear;		/* "tag;" */
	char		*msg;		/* raw message, NUL-terminated */
	struct cidr	*cidr;		/* blocks in line order */
	size_t		 ncidr;
	size_t		 n4, n6;
	size_t		 masked;	/* blocks that had host bits set */
};

/* A cursor over one line. */
struct cur {
	const char	*p;
	size_t		 len, off;
};

/* The state of a line parsed in steps; the fields are cfg.c's. */
struct cfg_parser {
	struct cur		 c;
	struct cfg_line		*cl;
	struct cfg_bounds	 b;
	char			*err;
	size_t			 errlen, cap;
	int			 seen4, seen6;
	int			 af;		/* part being read, or 0 */
	size_t			 want, got;	/* its count, blocks read */
};

int	cfg_parse(const char *, size_t, struct cfg_line *, char *, size_t);
int	cfg_parse_begin(struct cfg_parser *, const char *, size_t,
	    const struct cfg_bounds *, struct cfg_line *, char *, size_t);
int	cfg_parse_step(struct cfg_parser *, size_t);
void	cfg_line_free(struct cfg_line *);
char	*cfg_encode(const char *, const char *, const struct cidr *, size_t,
	    size_t *, const char **);
const char *cfg_tag_check(const char *);
const char *cfg_tag_syntax(const char *);

#endif /* COMMON_CFG_H */
