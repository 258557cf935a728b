/*
 * proto.h: the messages spamd's three processes exchange over
 * SOCK_SEQPACKET socketpairs (one message per datagram).
 *
 *	smtp -> grey	PROTO_TUPLE	a RCPT to record (ip, helo, from, to)
 *	grey -> smtp	PROTO_TRAP	an address trapped until expire (0: untrap)
 *	grey -> smtp	PROTO_TRAP_SYNC_BEGIN, PROTO_TRAP (entries),
 *			PROTO_TRAP_SYNC_END	the whole trap list: what it
 *			does not name is no longer trapped
 *	grey -> nft	PROTO_WHITE	addresses to whitelist with their expiry
 *	grey -> nft	PROTO_REPLACE_BEGIN, PROTO_REPLACE (entries),
 *			PROTO_REPLACE_END	the whole whitelist, to replace
 *			the sets atomically
 *	nft -> grey	PROTO_RESYNC	the sets were lost: send the whole list
 *	grey -> smtp	PROTO_BLCHECK (entries), PROTO_BLCHECK_END
 *			which of these WHITE addresses are blacklisted?
 *	smtp -> grey	PROTO_BLLISTED (entries), PROTO_BLCHECK_END
 *			these are; that was all
 *	smtp -> grey	PROTO_LISTS_CHANGED	a blacklist was loaded
 *	smtp -> grey	PROTO_LOG	a log line the SMTP process could not send
 *			to syslog (it may make no new socket): the
 *			greylister logs it
 *	smtp -> grey	PROTO_POLICY	a policy request's tuple (policy.c),
 *			its request id in the header's count field
 *	grey -> smtp	PROTO_VERDICT	what became of such tuples, once
 *			committed: id, verdict, seconds
 *	nft -> grey -> smtp	PROTO_NOSPAMD_BEGIN, PROTO_NOSPAMD (entries:
 *			a block's address, its prefix length in `expire'),
 *			PROTO_NOSPAMD_END: the nospamd sets, for policy mode
 *			(the greylister passes them on as they are)
 *	any		PROTO_BATCH	several of the messages above in one
 *			datagram, each after its 16-bit length (host order):
 *			chan.c makes and unpacks them, on_msg never sees one
 *	nft -> smtp	PROTO_TLS_BEGIN, PROTO_TLS_CERT and PROTO_TLS_KEY
 *			(chunks of the PEM files), PROTO_TLS_END: certificate
 *			and key read again at SIGHUP (tlsload.c)
 *
 *	proto_enc_tuple/proto_dec_tuple, proto_enc_entries/proto_dec_entries,
 *	proto_enc_policy (decoded by proto_dec_tuple); a tuple's flags are
 *	PROTO_T_LOWMX (never for policy) and PROTO_T_NETLISTED,
 *	proto_enc_verdicts/proto_dec_verdicts,
 *	proto_enc_bare, proto_enc_log/proto_dec_log, proto_type(buf, len)
 *	proto_enc_chunk(buf, size, type, data, n)	type with n raw bytes
 *	proto_dec_chunk(buf, len, &data, &n)	data points into buf
 *	proto_entries_uniq(e, n)	sort entries by address and keep one
 *		per address (the latest expiry); returns the new count. A
 *		batch of nft elements must not name one twice: the refresh
 *		(add, delete, add) of the second copy fails with ENOENT
 *
 * Encoders return the message length, or 0 if it does not fit. Decoders
 * return 0, or -1 for a message that is short, long, or has bytes left
 * over; they never read past len. The format is private to one host and
 * one build, so integers are in host byte order.
 */
#ifndef PROTO_H
#define PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "common/gdata.h"

#define PROTO_MSG_MAX		8192
#define PROTO_ENTRY_SIZE	26	/* af, 16 address bytes, expire, plen */
#define PROTO_ENTRIES_MAX	((PROTO_MSG_MAX - 8) / PROTO_ENTRY_SIZE)

enum proto_type {
	PROTO_TUPLE = 1,
	PROTO_TRAP,
	PROTO_WHITE,
	PROTO_REPLACE_BEGIN,
	PROTO_REPLACE,
	PROTO_REPLACE_END,
	PROTO_RESYNC,
	PROTO_BLCHECK,
	PROTO_BLCHECK_END,
	PROTO_BLLISTED,
	PROTO_LISTS_CHANGED,
	PROTO_TRAP_SYNC_BEGIN,
	PROTO_TRAP_SYNC_END,
	PROTO_LOG,
	PROTO_POLICY,		/* a policy request's tuple, id in the header */
	PROTO_VERDICT,		/* what became of policy tuples */
	PROTO_NOSPAMD_BEGIN,	/* nft -> grey -> smtp: the nospamd sets */
	PROTO_NOSPAMD,		/* entries; expire holds the prefix length */
	PROTO_NOSPAMD_END,
	PROTO_TLS_BEGIN,	/* nft -> smtp: certificate and key follow */
	PROTO_TLS_CERT,		/* a chunk of the certificate file */
	PROTO_TLS_KEY,		/* a chunk of the key file */
	PROTO_TLS_END,		/* build the new context from them */
	PROTO_BATCH,		/* several messages in one (chan.c) */
};

#define PROTO_CHUNK_MAX		(PROTO_MSG_MAX - 8)

#define PROTO_LOG_MAX		2047	/* bytes of a PROTO_LOG line */

struct proto_tuple {
	uint32_t	id;		/* PROTO_POLICY: the request; else 0 */
	uint8_t		policy;		/* 1 for PROTO_POLICY */
	struct addr	ip;
	uint8_t		lowmx;		/* arrived at the -M address */
	uint8_t		netlisted;	/* its -g network holds listed addresses */
	/*
	 * From a sync peer (grey.c, never on the IPC wire): 0 for a local
	 * tuple, else SYNCMSG_GREY, _WHITE or _TRAPPED; stamp, the sender's
	 * time (a catch-up GREY's first sighting), expire for WHITE and
	 * TRAPPED.
	 */
	uint8_t		sync;
	int64_t		stamp, expire;
	char		helo[GD_FIELD_MAX + 1];
	char		from[GD_FIELD_MAX + 1];
	char		to[GD_FIELD_MAX + 1];
};

struct proto_entry {
	struct addr	a;
	int64_t		expire;		/* epoch seconds; 0 = remove (TRAP) */
	uint8_t		plen;		/* a network (spamd -g); 0: one address */
};

/* A policy request's outcome (v: enum polreq_verdict; secs: its number). */
struct proto_verdict {
	uint32_t	id;
	uint8_t		v;
	int64_t		secs;
};

#define PROTO_VERDICT_SIZE	13	/* id, verdict, secs */
#define PROTO_VERDICTS_MAX	((PROTO_MSG_MAX - 8) / PROTO_VERDICT_SIZE)

int	proto_type(const uint8_t *, size_t);
size_t	proto_enc_chunk(uint8_t *, size_t, enum proto_type, const void *,
	    size_t);
int	proto_dec_chunk(const uint8_t *, size_t, const uint8_t **, size_t *);
/* Tuple flags: arrived at the -M address; its -g network is listed. */
#define PROTO_T_LOWMX		0x01
#define PROTO_T_NETLISTED	0x02

size_t	proto_enc_policy(uint8_t *, size_t, uint32_t, const struct addr *, int,
	    const char *, const char *, const char *);
size_t	proto_enc_verdicts(uint8_t *, size_t, const struct proto_verdict *,
	    size_t);
int	proto_dec_verdicts(const uint8_t *, size_t, struct proto_verdict *,
	    size_t, size_t *);
size_t	proto_enc_tuple(uint8_t *, size_t, const struct addr *, int,
	    const char *, const char *, const char *);
int	proto_dec_tuple(const uint8_t *, size_t, struct proto_tuple *);
size_t	proto_enc_entries(uint8_t *, size_t, enum proto_type,
	    const struct proto_entry *, size_t);
int	proto_dec_entries(const uint8_t *, size_t, struct proto_entry *,
	    size_t, size_t *);
size_t	proto_enc_bare(uint8_t *, size_t, enum proto_type);
size_t	proto_entries_uniq(struct proto_entry *, size_t);
size_t	proto_enc_log(uint8_t *, size_t, int, const char *);
int	proto_dec_log(const uint8_t *, size_t, int *, char *, size_t);

#endif /* PROTO_H */
