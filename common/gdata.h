/*
 * gdata.h: the database record and key codec.
 *
 *	gd_encode(rec, buf)	struct -> 40 bytes (layout in DESIGN.md §4.2)
 *	gd_decode(buf, len, rec, &errstr)	40 bytes -> struct, strict
 *	gd_kind_name(kind)	"GREY", "WHITE", "TRAPPED", "SPAMTRAP"
 *	gd_key_tuple(buf, len, tuple)	build "ip\nhelo\nfrom\nto"
 *	gd_key_split(key, tuple)	split a NUL-terminated key in place
 *	gd_check(key, keylen, rec, &errstr)	key shape agrees with the kind
 *	gd_key_addr(key, keylen, &a)	the client address a key starts with
 *		(the whole key of an address record, the first line of a
 *		tuple); 0, or -1 if it is not an address
 *	gd_key_cidr(key, keylen, &c)	the same, but a network key ("a/m",
 *		spamd -g: WHITE records and GREY tuples only) is one too; an
 *		address gives its full length (32 or 128)
 *
 * The value layout is ours (OpenBSD's is native-endian db(3)): a version
 * byte, an explicit kind, big-endian fields, 64-bit times and a CRC-32, so
 * a torn or foreign record is detected instead of misread.
 */
#ifndef GDATA_H
#define GDATA_H

#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"

enum gd_kind {
	GD_GREY = 1,
	GD_WHITE = 2,
	GD_TRAPPED = 3,
	GD_SPAMTRAP = 4,
};

struct gd_rec {
	enum gd_kind	kind;
	uint32_t	bcount;		/* sightings (blocked connections) */
	uint32_t	pcount;		/* passes; 0 for TRAPPED, SPAMTRAP */
	int64_t		first;		/* first sighting, epoch seconds */
	int64_t		pass;		/* when it passed (or will) */
	int64_t		expire;		/* 0 = never (SPAMTRAP) */
};

struct gd_tuple {
	const char	*ip;
	const char	*helo;
	const char	*from;
	const char	*to;
};

#define GD_REC_VERSION	1
#define GD_REC_SIZE	40
#define GD_FIELD_MAX	1023		/* helo, from, to: OpenBSD's MAX_MAIL - 1 */
#define GD_KEY_MAX	(ADDR_STRLEN + 3 * (GD_FIELD_MAX + 1))

void	gd_encode(const struct gd_rec *, uint8_t *);
int	gd_decode(const void *, size_t, struct gd_rec *, const char **);
const char *gd_kind_name(enum gd_kind);
int	gd_key_tuple(char *, size_t, const struct gd_tuple *);
int	gd_key_split(char *, struct gd_tuple *);
int	gd_check(const char *, size_t, const struct gd_rec *, const char **);
int	gd_key_addr(const char *, size_t, struct addr *);
int	gd_key_cidr(const char *, size_t, struct cidr *);

#endif /* GDATA_H */
