/*
 * tls.h: STARTTLS for the SMTP process, behind an interface of our own:
 * nothing but tls.c sees OpenSSL.
 *
 *	tls_init()	load OpenSSL's configuration and providers and seed
 *		its generator; once, before the sandbox (this is the only
 *		call that may open files). -1 with a log line on failure
 *	tls_ctx_new(cert, certlen, key, keylen, err, errlen)	a server
 *		context from PEM bytes in memory: cert holds the certificate,
 *		then its chain; key the private key. NULL with the reason in
 *		err ("no certificate found", "the key does not match the
 *		certificate", ...). Opens no file: it works in the sandbox
 *	tls_ctx_free(ctx)	sessions still open keep their own reference
 *	tls_ctx_info(ctx, subject, len, &notafter)	the certificate's
 *		subject (one line, e.g. "CN=mx.example.org") and the end of
 *		its validity (epoch seconds); 0, or -1 if unknown
 *	tls_sess_new(ctx, fd)	a server session on a connected, non-blocking
 *		socket (NULL: out of memory, logged by the caller)
 *	tls_handshake(s)	TLS_OK once done, else TLS_WANT_READ,
 *		TLS_WANT_WRITE, TLS_EOF or TLS_ERROR
 *	tls_read(s, buf, len)	bytes read (> 0; 0 only for len 0), or
 *		TLS_WANT_READ,
 *		TLS_WANT_WRITE, TLS_EOF (the peer closed, with or without a
 *		close_notify) or TLS_ERROR
 *	tls_write(s, buf, len)	bytes written (> 0, maybe fewer than len),
 *		or a code as tls_read's; after a want, call again with the
 *		same len (the buffer may move)
 *	tls_pending(s)	1 if decrypted bytes wait inside the session,
 *		where epoll cannot see them (a partial record does not count:
 *		reading it could only want more)
 *	tls_sess_free(s)	one close_notify (never waiting for the
 *		peer's), then free; the caller closes the fd
 *	tls_version(s), tls_cipher(s)	"TLSv1.3", "TLS_AES_256_GCM_SHA384"
 *	tls_error(s)	why the last call returned TLS_ERROR, one line
 *		(in a static buffer, valid until the next tls_error call)
 *	tls_file_read(path, &buf, &len, err, errlen)	read a PEM file
 *		whole (a regular file of at most TLS_FILE_MAX bytes) into a
 *		malloc'd buffer; -1 with the reason in err
 *	tls_cleanse(buf, len)	wipe key material before free
 *
 * Sessions are kept small: buffers are released while idle, no session
 * tickets, no session cache (spamd.8 states the memory per session).
 */
#ifndef TLS_H
#define TLS_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#define TLS_OK		0
#define TLS_WANT_READ	(-1)
#define TLS_WANT_WRITE	(-2)
#define TLS_EOF		(-3)
#define TLS_ERROR	(-4)

#define TLS_FILE_MAX	(1024 * 1024)

struct tls_ctx;
struct tls_sess;

int		 tls_init(void);
struct tls_ctx	*tls_ctx_new(const char *, size_t, const char *, size_t,
		    char *, size_t);
void		 tls_ctx_free(struct tls_ctx *);
int		 tls_ctx_info(const struct tls_ctx *, char *, size_t, time_t *);
struct tls_sess	*tls_sess_new(struct tls_ctx *, int);
int		 tls_handshake(struct tls_sess *);
ssize_t		 tls_read(struct tls_sess *, void *, size_t);
ssize_t		 tls_write(struct tls_sess *, const void *, size_t);
int		 tls_pending(const struct tls_sess *);
void		 tls_sess_free(struct tls_sess *);
const char	*tls_version(const struct tls_sess *);
const char	*tls_cipher(const struct tls_sess *);
const char	*tls_error(struct tls_sess *);
int		 tls_file_read(const char *, char **, size_t *, char *, size_t);
void		 tls_cleanse(void *, size_t);

#endif /* TLS_H */
