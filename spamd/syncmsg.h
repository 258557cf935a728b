/*
 * syncmsg.h: the wire codec of the sync protocol between MX hosts (issue
 * 19): OpenBSD spamd's sync version 2, byte for byte, and our own extension
 * for IPv6. Pure: no sockets, no clock, no state but what the caller holds.
 *
 * Version 2 (OpenBSD spamd and greyd, IPv4 only; big-endian, packed):
 *	header, 32 bytes: version 2, family 2, total length (header and END
 *	included), counter, HMAC-SHA1 (zeros while computing), 4 zero bytes;
 *	then TLVs of type (2), length (2): GREY (1) timestamp, IPv4, from,
 *	to and helo lengths (18 bytes) then from, to, helo each with its NUL,
 *	zero-padded to a multiple of 16; WHITE (2) and TRAPPED (3), 16 bytes:
 *	timestamp, expire, IPv4; END (0), 4 bytes. The HMAC covers the header
 *	length's bytes with the key the 40-character hex string.
 *
 * Extension (ours, its own datagrams, sent only to peers known to speak
 * it): version SYNCMSG_VERSION_EXT (0x83) and family SYNCMSG_FAM_EXT (6,
 * no system's AF_INET6), which spamd and greyd drop at their header check
 * (version != 2, family != 2). Header, 64 bytes: version, family, total
 * length (2), 4 zero bytes, node id (8), boot id (8), sequence (8),
 * HMAC-SHA256 (32) over the datagram with this field zeroed, same key.
 * TLVs use the same type numbers (1, 2, 3, END 0); 4 and 5 are greyd's
 * and never reused. Each entry has a family byte (SYNCMSG_WIRE_INET 4 or
 * SYNCMSG_WIRE_INET6 6) and a 16-byte address field (IPv4: the first 4
 * bytes, the rest zero; a v4-mapped IPv6 address is sent as IPv4 and
 * refused as family 6), and 64-bit signed times (negative ones refused):
 *	GREY	type, length = align16(40 + strings), family, 0, from, to and
 *		helo lengths, 4 zero bytes, timestamp (8), address (16), then
 *		the strings as in version 2, zero-padded
 *	WHITE, TRAPPED	type, length 40, family, 3 zero bytes, timestamp
 *		(8), expire (8), address (16)
 *	END	type 0, length 4
 *
 *	syncmsg_key(bytes, len, hexkey)	the HMAC key: the lower-case hex
 *		SHA-1 of the key file's whole content (an existing empty file
 *		too); bytes NULL (no key file) gives the empty key "", as
 *		OpenBSD does. 0, or -1 (hexkey "") if hashing failed
 *	syncmsg_enc_v2(buf, size, counter, hexkey, e, n)
 *	syncmsg_enc_ext(buf, size, h, hexkey, e, n)	h->node, boot, seq
 *		one datagram holding entries e[0..n) and END (OpenBSD sends
 *		one entry a datagram; its receivers walk any number, up to
 *		SYNCMSG_ENTRIES_MAX of 16 bytes fit); the datagram
 *		length, or 0 if it would not fit size or SYNCMSG_MAX_DGRAM
 *		(never send more: OpenBSD receives into 1408 bytes) or an
 *		entry cannot be sent (v2: not IPv4, a time outside 32 bits;
 *		both: a string over GD_FIELD_MAX or holding CR, LF or '|', a
 *		negative time, the address 0.0.0.0, :: or 255.255.255.255).
 *		Strings are sent as given: canonicalise first. The key is the
 *		hex string ("" or NULL: the empty key)
 *	syncmsg_dec(buf, len, hexkey, e, max, &n, &why, &h)	one received
 *		datagram of either version: SYNCMSG_OK (0) when every TLV up
 *		to END decoded, else the reason (why: its fixed text, from
 *		syncmsg_reason, for counting). Only the header length's bytes
 *		are read. A failure before the TLVs (truncated, version,
 *		family, length, mac) leaves n 0; a later one leaves in
 *		e[0..n) the authenticated entries before the faulty TLV,
 *		which a caller may apply, as OpenBSD does (e[n] and beyond
 *		are scratch, whatever the outcome). h gets the version
 *		and counter (v2) or node, boot, seq (extension), the
 *		offending TLV type, and how many greyd deletions were skipped
 *	syncmsg_reason(r)	"ok", "truncated", "bad mac", ...
 *	syncmsg_canon_addr(in, out, size)	a synced MAIL/RCPT value in
 *		the form our SMTP process stores: kept as typed when it is
 *		"<...>", else one stray '<' or '>' dropped and brackets put
 *		round it (greyd sends "a@b", "" for the null sender: "<a@b>",
 *		"<>"). No lower-casing: spamd keys the value as the client
 *		typed it. 0, or -1 if out is too small
 *	syncmsg_replay_check(r, node, boot, seq)	the extension's replay
 *		window, one struct per peer node (zeroed to start): 1 to
 *		accept (recorded), 0 for a replay, a sequence 64 or more
 *		below the highest seen, an older boot id or another node
 *
 * Decoding is strict where spamd and greyd are loose (features-2.md 3.2):
 * each string is at least its NUL, ends in NUL, has no other NUL, no CR,
 * LF or '|', at most GD_FIELD_MAX bytes; a TLV length is exact (GREY: the
 * rounded length; WHITE, TRAPPED 16, or 40 in the extension; END 4), the
 * padding and reserved bytes are zero, END is the last TLV and ends the
 * header length; the address is not 0.0.0.0 or 255.255.255.255 (greyd's
 * stand-in for an IPv6 client it cannot send). Both senders we know write exactly that, and it makes
 * every decoded datagram re-encode to the same bytes. Timestamps and
 * expiries are returned as sent; dropping past expiries and using the
 * receiver's clock for GREY are the caller's business, as are the strings'
 * brackets (syncmsg_canon_addr). greyd's DEL_WHITE (4) and DEL_TRAPPED (5)
 * TLVs (16 bytes, from `greydb -d') are checked and skipped, not applied:
 * OpenBSD never sends them and our database has no remote deletion.
 */
#ifndef SYNCMSG_H
#define SYNCMSG_H

#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "common/gdata.h"

#define SYNCMSG_PORT		8025	/* spamd-sync/udp */
#define SYNCMSG_MAX_DGRAM	1408	/* OpenBSD's receive buffer */
#define SYNCMSG_KEY_LEN		40	/* hex SHA-1 */

#define SYNCMSG_VERSION		2
#define SYNCMSG_FAM_INET	2	/* AF_INET, the same everywhere */
#define SYNCMSG_HDR_LEN		32
#define SYNCMSG_VERSION_EXT	(0x80 | 3)
#define SYNCMSG_FAM_EXT		6	/* not any system's AF_INET6 */
#define SYNCMSG_EXT_HDR_LEN	64
#define SYNCMSG_WIRE_INET	4	/* extension entries' family byte */
#define SYNCMSG_WIRE_INET6	6

/* TLV types; 4 and 5 are greyd's deletions and stay reserved. */
#define SYNCMSG_T_END		0
#define SYNCMSG_T_DEL_WHITE	4
#define SYNCMSG_T_DEL_TRAPPED	5

/* Entries in one datagram at most (the smallest TLV is 16 bytes). */
#define SYNCMSG_ENTRIES_MAX	((SYNCMSG_MAX_DGRAM - SYNCMSG_HDR_LEN - 4) / 16)

enum syncmsg_kind {
	SYNCMSG_GREY = 1,	/* the wire types */
	SYNCMSG_WHITE = 2,
	SYNCMSG_TRAPPED = 3,
};

struct syncmsg_entry {
	enum syncmsg_kind kind;
	struct addr	ip;		/* v2: IPv4 only */
	int64_t		timestamp;	/* the sender's clock */
	int64_t		expire;		/* WHITE, TRAPPED; 0 for GREY */
	char		helo[GD_FIELD_MAX + 1];	/* GREY only */
	char		from[GD_FIELD_MAX + 1];
	char		to[GD_FIELD_MAX + 1];
};

struct syncmsg_hdr {
	uint8_t		version;	/* SYNCMSG_VERSION or _VERSION_EXT */
	uint32_t	counter;	/* v2 */
	uint64_t	node, boot, seq;	/* extension */
	uint16_t	type;		/* the TLV type a TLV failure was in */
	size_t		skipped;	/* greyd deletions skipped */
};

enum syncmsg_status {
	SYNCMSG_OK = 0,
	SYNCMSG_TRUNCATED,	/* shorter than its header or header length */
	SYNCMSG_BAD_VERSION,
	SYNCMSG_BAD_FAMILY,
	SYNCMSG_BAD_HEADER,	/* header length, reserved bytes */
	SYNCMSG_BAD_MAC,
	SYNCMSG_BAD_TLV,	/* a TLV past the header length, or < 4 */
	SYNCMSG_BAD_LENGTH,	/* a TLV length wrong for its type */
	SYNCMSG_BAD_STRING,
	SYNCMSG_BAD_PADDING,
	SYNCMSG_BAD_ADDRESS,
	SYNCMSG_BAD_TIME,
	SYNCMSG_UNKNOWN_TYPE,
	SYNCMSG_NO_END,		/* TLVs stop before END, or bytes follow it */
	SYNCMSG_TOO_MANY,	/* more entries than the caller's max */
	SYNCMSG_NSTATUS
};

struct syncmsg_replay {
	int		seen;		/* 0 in a fresh (zeroed) struct */
	uint64_t	node, boot;
	uint64_t	top;		/* the highest sequence accepted */
	uint64_t	window;		/* bit i: top - i was accepted */
};

int	syncmsg_key(const char *, size_t, char [SYNCMSG_KEY_LEN + 1]);
size_t	syncmsg_enc_v2(uint8_t *, size_t, uint32_t, const char *,
	    const struct syncmsg_entry *, size_t);
size_t	syncmsg_enc_ext(uint8_t *, size_t, const struct syncmsg_hdr *,
	    const char *, const struct syncmsg_entry *, size_t);
enum syncmsg_status syncmsg_dec(const uint8_t *, size_t, const char *,
	    struct syncmsg_entry *, size_t, size_t *, const char **,
	    struct syncmsg_hdr *);
const char *syncmsg_reason(enum syncmsg_status);
int	syncmsg_canon_addr(const char *, char *, size_t);
int	syncmsg_replay_check(struct syncmsg_replay *, uint64_t, uint64_t,
	    uint64_t);

#endif /* SYNCMSG_H */
