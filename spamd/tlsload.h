/*
 * tlsload.h: the STARTTLS certificate and key, from their files to the
 * SMTP process, which may open no file: read with privileges at start,
 * and by the parent at SIGHUP, then sent over a channel (proto.h).
 *
 *	tlsload_files(cert, key, err, errlen)	read both PEM files and
 *		build a context (start-up); NULL with the reason in err
 *	tlsload_describe(ctx, cert)	log what was loaded: the subject and
 *		the end of validity; a warning if it has passed or is near
 *	tlsload_send(ch, cert, key)	read both files again and send them
 *		(parent, at SIGHUP); -1 with a log line if they cannot be read
 *	tlsload_msg(buf, len, install)	one message of such a transfer
 *		(SMTP process); at its end the new context goes to install(),
 *		or, if it does not load, the old one stays, with a log line
 *
 * The PEM bytes are wiped from memory as soon as they are used.
 */
#ifndef TLSLOAD_H
#define TLSLOAD_H

#include <stddef.h>
#include <stdint.h>

struct chan;
struct tls_ctx;

typedef void (*tlsload_install)(struct tls_ctx *);

struct tls_ctx	*tlsload_files(const char *, const char *, char *, size_t);
void		 tlsload_describe(const struct tls_ctx *, const char *);
int		 tlsload_send(struct chan *, const char *, const char *);
void		 tlsload_msg(const uint8_t *, size_t, tlsload_install);

#endif /* TLSLOAD_H */
