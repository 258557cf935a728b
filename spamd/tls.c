/*
 * tls.c: STARTTLS for the SMTP process, on OpenSSL (see tls.h). The only
 * file that includes OpenSSL's headers.
 *
 * The context is built from PEM bytes in memory, because the SMTP
 * process runs under a seccomp filter that allows no open(): tls_init
 * loads the configuration and seeds the generator before the filter,
 * and nothing after it touches the file system.
 *
 * The protocol floor and the ciphers are OpenSSL's defaults (and the
 * system's openssl.cnf): a sender whose handshake fails is never
 * greylisted, so spamd accepts what a real MTA accepts.
 *
 * Sessions are kept small: buffers are released while idle
 * (SSL_MODE_RELEASE_BUFFERS), there are no tickets and no session
 * cache, and the reason for a failure is kept as an error code,
 * formatted only when tls_error asks for it.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "common/log.h"
#include "spamd/tls.h"

struct tls_ctx {
	SSL_CTX		*ssl;
};

/* What tls_error reports: kind says how to read code. */
enum {
	ERRK_NONE,
	ERRK_OSSL,		/* an OpenSSL error code */
	ERRK_ERRNO,		/* an errno value */
	ERRK_SSL		/* an unexpected SSL_get_error() value */
};

#define SF_HSDONE	0x01	/* the handshake finished */
#define SF_DEAD		0x02	/* a fatal error: no close_notify */
#define SF_EOF		0x04	/* the peer closed: no close_notify */

struct tls_sess {
	SSL		*ssl;
	unsigned long	 code;
	uint8_t		 kind;
	uint8_t		 flags;
};

#define ERRQ_MAX	8

/* Take OpenSSL's error queue, oldest first: how many were kept. */
static int
errq_take(unsigned long *q)
{
	unsigned long e;
	int n = 0;

	while ((e = ERR_get_error()) != 0)
		if (n < ERRQ_MAX)
			q[n++] = e;
	return n;
}

/* 1 if the queue holds lib's reason. */
static int
errq_has(const unsigned long *q, int n, int lib, int reason)
{
	int i;

	for (i = 0; i < n; i++)
		if (ERR_GET_LIB(q[i]) == lib && ERR_GET_REASON(q[i]) == reason)
			return 1;
	return 0;
}

/*
 * "what: OpenSSL's reason" in err, from the oldest error, the cause,
 * passing over the decoder's "unsupported", which only says that no
 * decoder took the bytes.
 */
static void
errq_msg(const unsigned long *q, int n, char *err, size_t errlen,
    const char *what)
{
	const char *r = NULL;
	char buf[256];
	int i;

	for (i = 0; i < n && r == NULL; i++) {
		if (ERR_GET_LIB(q[i]) == ERR_LIB_OSSL_DECODER && i + 1 < n)
			continue;
		if ((r = ERR_reason_error_string(q[i])) == NULL) {
			ERR_error_string_n(q[i], buf, sizeof(buf));
			r = buf;
		}
	}
	(void)snprintf(err, errlen, "%s%s%s", what, r != NULL ? ": " : "",
	    r != NULL ? r : "");
}

/* The same, straight from the queue, which is left empty. */
static void
ossl_err(char *err, size_t errlen, const char *what)
{
	unsigned long q[ERRQ_MAX];
	int n = errq_take(q);

	errq_msg(q, n, err, errlen, what);
}

int
tls_init(void)
{
	unsigned char b[16];
	char err[256];

	if (OPENSSL_init_ssl(OPENSSL_INIT_LOAD_CONFIG, NULL) != 1) {
		ossl_err(err, sizeof(err), "cannot initialise OpenSSL");
		log_warnx("TLS: %s", err);
		return -1;
	}
	/* Instantiate both generators now, while files may be opened. */
	if (RAND_status() != 1 || RAND_bytes(b, sizeof(b)) != 1 ||
	    RAND_priv_bytes(b, sizeof(b)) != 1) {
		ossl_err(err, sizeof(err), "cannot seed OpenSSL's generator");
		log_warnx("TLS: %s", err);
		return -1;
	}
	OPENSSL_cleanse(b, sizeof(b));
	ERR_clear_error();
	return 0;
}

/* 1 if the last error is PEM's "no start line": nothing (more) found. */
static int
pem_none(void)
{
	unsigned long e = ERR_peek_last_error();

	return e == 0 || (ERR_GET_LIB(e) == ERR_LIB_PEM &&
	    ERR_GET_REASON(e) == PEM_R_NO_START_LINE);
}

/* Never ask for a passphrase (on a terminal, in the sandbox). */
static int
no_pass(char *buf, int size, int rwflag, void *arg)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)arg;
	return -1;
}

/* The leaf, then its chain; -1 with the reason in err. */
static int
load_certs(SSL_CTX *ctx, const char *cert, size_t certlen, char *err,
    size_t errlen)
{
	BIO *bio;
	X509 *x;
	int rc = -1;

	if ((bio = BIO_new_mem_buf(cert, (int)certlen)) == NULL) {
		ossl_err(err, errlen, "out of memory");
		return -1;
	}
	if ((x = PEM_read_bio_X509_AUX(bio, NULL, no_pass, NULL)) == NULL) {
		if (pem_none()) {
			(void)snprintf(err, errlen, "no certificate found");
			ERR_clear_error();
		} else
			ossl_err(err, errlen, "cannot read the certificate");
		goto done;
	}
	if (SSL_CTX_use_certificate(ctx, x) != 1) {
		ossl_err(err, errlen, "cannot use the certificate");
		X509_free(x);
		goto done;
	}
	X509_free(x);
	for (;;) {
		if ((x = PEM_read_bio_X509(bio, NULL, no_pass, NULL)) == NULL) {
			if (!pem_none()) {
				ossl_err(err, errlen, "cannot read a chain "
				    "certificate");
				goto done;
			}
			ERR_clear_error();	/* the end of the chain */
			break;
		}
		if (SSL_CTX_add0_chain_cert(ctx, x) != 1) {
			ossl_err(err, errlen, "cannot use a chain "
			    "certificate");
			X509_free(x);
			goto done;
		}
	}
	rc = 0;
done:
	BIO_free(bio);
	return rc;
}

/* The private key, checked against the certificate. */
static int
load_key(SSL_CTX *ctx, const char *key, size_t keylen, char *err,
    size_t errlen)
{
	BIO *bio;
	EVP_PKEY *pk;
	X509 *x;
	int rc = -1;

	if ((bio = BIO_new_mem_buf(key, (int)keylen)) == NULL) {
		ossl_err(err, errlen, "out of memory");
		return -1;
	}
	pk = PEM_read_bio_PrivateKey(bio, NULL, no_pass, NULL);
	BIO_free(bio);
	if (pk == NULL) {
		unsigned long q[ERRQ_MAX];
		int n = errq_take(q);

		/*
		 * OpenSSL 3's decoders say "unsupported" whatever the
		 * bytes are: look for a key's PEM block ourselves.
		 */
		if (memmem(key, keylen, "PRIVATE KEY-----", 16) == NULL)
			(void)snprintf(err, errlen, "no private key found");
		else if (errq_has(q, n, ERR_LIB_PEM, PEM_R_BAD_PASSWORD_READ) ||
		    errq_has(q, n, ERR_LIB_PEM,
		    PEM_R_PROBLEMS_GETTING_PASSWORD) ||
		    memmem(key, keylen, "ENCRYPTED", 9) != NULL)
			(void)snprintf(err, errlen, "the private key is "
			    "encrypted (a passphrase is not supported)");
		else
			errq_msg(q, n, err, errlen,
			    "cannot read the private key");
		return -1;
	}
	x = SSL_CTX_get0_certificate(ctx);
	if (x == NULL || X509_check_private_key(x, pk) != 1) {
		(void)snprintf(err, errlen, "the key does not match the "
		    "certificate");
		ERR_clear_error();
	} else if (SSL_CTX_use_PrivateKey(ctx, pk) != 1)
		ossl_err(err, errlen, "cannot use the private key");
	else if (SSL_CTX_check_private_key(ctx) != 1) {
		(void)snprintf(err, errlen, "the key does not match the "
		    "certificate");
		ERR_clear_error();
	} else
		rc = 0;
	EVP_PKEY_free(pk);
	return rc;
}

struct tls_ctx *
tls_ctx_new(const char *cert, size_t certlen, const char *key,
    size_t keylen, char *err, size_t errlen)
{
	struct tls_ctx *c;
	SSL_CTX *ctx;

	ERR_clear_error();
	if (certlen > INT_MAX || keylen > INT_MAX) {
		(void)snprintf(err, errlen, "too large");
		return NULL;
	}
	if ((c = malloc(sizeof(*c))) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		ossl_err(err, errlen, "cannot create a TLS context");
		free(c);
		return NULL;
	}
	if (load_certs(ctx, cert, certlen, err, errlen) == -1 ||
	    load_key(ctx, key, keylen, err, errlen) == -1) {
		SSL_CTX_free(ctx);
		free(c);
		return NULL;
	}
	(void)SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
	    SSL_MODE_ENABLE_PARTIAL_WRITE);
	(void)SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF |
	    SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_CIPHER_SERVER_PREFERENCE);
	(void)SSL_CTX_set_num_tickets(ctx, 0);
	(void)SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	/* DHE for the TLS 1.2 senders that lack ECDHE, as MTAs offer. */
	(void)SSL_CTX_set_dh_auto(ctx, 1);
	ERR_clear_error();
	c->ssl = ctx;
	return c;
}

void
tls_ctx_free(struct tls_ctx *c)
{
	if (c == NULL)
		return;
	SSL_CTX_free(c->ssl);	/* sessions hold their own reference */
	free(c);
}

int
tls_ctx_info(const struct tls_ctx *c, char *subject, size_t len,
    time_t *notafter)
{
	const ASN1_TIME *t;
	X509 *x;
	BIO *bio;
	char *p;
	long n;
	struct tm tm;
	time_t end;

	if (c == NULL || len == 0 ||
	    (x = SSL_CTX_get0_certificate(c->ssl)) == NULL ||
	    (t = X509_get0_notAfter(x)) == NULL)
		return -1;
	memset(&tm, 0, sizeof(tm));
	if (ASN1_TIME_to_tm(t, &tm) != 1 || (end = timegm(&tm)) == -1) {
		ERR_clear_error();
		return -1;
	}
	if ((bio = BIO_new(BIO_s_mem())) == NULL) {
		ERR_clear_error();
		return -1;
	}
	if (X509_NAME_print_ex(bio, X509_get_subject_name(x), 0,
	    XN_FLAG_RFC2253) < 0 || (n = BIO_get_mem_data(bio, &p)) < 0) {
		BIO_free(bio);
		ERR_clear_error();
		return -1;
	}
	if ((size_t)n >= len)
		n = (long)len - 1;
	memcpy(subject, p, (size_t)n);
	subject[n] = '\0';
	BIO_free(bio);
	*notafter = end;
	return 0;
}

struct tls_sess *
tls_sess_new(struct tls_ctx *c, int fd)
{
	struct tls_sess *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	ERR_clear_error();
	if ((s->ssl = SSL_new(c->ssl)) == NULL ||
	    SSL_set_fd(s->ssl, fd) != 1) {
		SSL_free(s->ssl);
		free(s);
		ERR_clear_error();
		return NULL;
	}
	SSL_set_accept_state(s->ssl);
	return s;
}

/*
 * What a failed SSL call means for the caller. se is SSL_get_error()'s
 * answer, e the errno right after the call. A peer that hangs up, with
 * or without a close_notify, is TLS_EOF; anything else fatal is kept
 * for tls_error.
 */
static int
sess_fail(struct tls_sess *s, int se, int e)
{
	unsigned long code;

	switch (se) {
	case SSL_ERROR_WANT_READ:
		return TLS_WANT_READ;
	case SSL_ERROR_WANT_WRITE:
		return TLS_WANT_WRITE;
	case SSL_ERROR_ZERO_RETURN:
		s->flags |= SF_EOF;
		return TLS_EOF;
	case SSL_ERROR_SYSCALL:
		s->flags |= SF_DEAD;
		code = ERR_peek_error();
		if (code != 0 && ERR_GET_LIB(code) == ERR_LIB_SYS)
			e = ERR_GET_REASON(code);
		ERR_clear_error();
		if (e == 0 || e == ECONNRESET || e == EPIPE)
			return TLS_EOF;
		s->kind = ERRK_ERRNO;
		s->code = (unsigned long)e;
		return TLS_ERROR;
	case SSL_ERROR_SSL:
		s->flags |= SF_DEAD;
		/* The first error is the cause; the rest is the path. */
		code = ERR_peek_error();
		ERR_clear_error();
		if (ERR_GET_LIB(code) == ERR_LIB_SSL &&
		    ERR_GET_REASON(code) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
			return TLS_EOF;
		s->kind = ERRK_OSSL;
		s->code = code;
		return TLS_ERROR;
	default:
		s->flags |= SF_DEAD;
		ERR_clear_error();
		s->kind = ERRK_SSL;
		s->code = (unsigned long)se;
		return TLS_ERROR;
	}
}

int
tls_handshake(struct tls_sess *s)
{
	int rc, e;

	ERR_clear_error();
	errno = 0;
	rc = SSL_do_handshake(s->ssl);
	e = errno;
	if (rc == 1) {
		s->flags |= SF_HSDONE;
		return TLS_OK;
	}
	return sess_fail(s, SSL_get_error(s->ssl, rc), e);
}

ssize_t
tls_read(struct tls_sess *s, void *buf, size_t len)
{
	size_t n = 0;
	int rc, e;

	if (len == 0)
		return 0;
	if (len > SSIZE_MAX)
		len = SSIZE_MAX;
	ERR_clear_error();
	errno = 0;
	rc = SSL_read_ex(s->ssl, buf, len, &n);
	e = errno;
	if (rc == 1 && n > 0)
		return (ssize_t)n;
	return sess_fail(s, SSL_get_error(s->ssl, rc), e);
}

ssize_t
tls_write(struct tls_sess *s, const void *buf, size_t len)
{
	size_t n = 0;
	int rc, e;

	if (len == 0)
		return 0;
	if (len > SSIZE_MAX)
		len = SSIZE_MAX;
	ERR_clear_error();
	errno = 0;
	rc = SSL_write_ex(s->ssl, buf, len, &n);
	e = errno;
	if (rc == 1 && n > 0)
		return (ssize_t)n;
	return sess_fail(s, SSL_get_error(s->ssl, rc), e);
}

/*
 * Decrypted bytes of a record read in part. Not SSL_has_pending(): it
 * also counts the first bytes of a record still arriving, which a read
 * cannot return yet (that would spin until the rest comes). Without
 * read-ahead, OpenSSL reads no byte past the current record, so
 * whatever else there is, epoll sees.
 */
int
tls_pending(const struct tls_sess *s)
{
	return SSL_pending(s->ssl) > 0;
}

void
tls_sess_free(struct tls_sess *s)
{
	if (s == NULL)
		return;
	/* One close_notify; the peer's is never awaited. */
	if ((s->flags & (SF_HSDONE | SF_DEAD | SF_EOF)) == SF_HSDONE) {
		ERR_clear_error();
		(void)SSL_shutdown(s->ssl);
	}
	SSL_free(s->ssl);		/* BIO_NOCLOSE: the fd stays open */
	ERR_clear_error();
	free(s);
}

const char *
tls_version(const struct tls_sess *s)
{
	const char *v = SSL_get_version(s->ssl);

	return v != NULL ? v : "?";
}

const char *
tls_cipher(const struct tls_sess *s)
{
	const char *v = SSL_get_cipher_name(s->ssl);

	return v != NULL ? v : "?";
}

const char *
tls_error(struct tls_sess *s)
{
	static char buf[256];
	const char *r;

	switch (s->kind) {
	case ERRK_OSSL:
		if ((r = ERR_reason_error_string(s->code)) != NULL)
			return r;
		ERR_error_string_n(s->code, buf, sizeof(buf));
		return buf;
	case ERRK_ERRNO:
		return strerror((int)s->code);
	case ERRK_SSL:
		(void)snprintf(buf, sizeof(buf), "unexpected SSL error %lu",
		    s->code);
		return buf;
	default:
		return "unknown error";
	}
}

int
tls_file_read(const char *path, char **bufp, size_t *lenp, char *err,
    size_t errlen)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0, off = 0;
	ssize_t n;
	int fd, e;

	*bufp = NULL;
	*lenp = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		(void)snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		(void)snprintf(err, errlen, "%s", strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		(void)snprintf(err, errlen, "not a regular file");
		goto fail;
	}
	if (st.st_size > TLS_FILE_MAX) {
		(void)snprintf(err, errlen, "larger than %d bytes",
		    TLS_FILE_MAX);
		goto fail;
	}
	if (st.st_size == 0) {
		(void)snprintf(err, errlen, "empty");
		goto fail;
	}
	len = (size_t)st.st_size;
	if ((buf = malloc(len + 1)) == NULL) {
		(void)snprintf(err, errlen, "%s", strerror(errno));
		goto fail;
	}
	/* Read to the end: a file that changed size is read as it is. */
	while (off < len) {
		n = read(fd, buf + off, len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			(void)snprintf(err, errlen, "%s", strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		off += (size_t)n;
	}
	if (off == 0) {
		(void)snprintf(err, errlen, "empty");
		goto fail;
	}
	buf[off] = '\0';
	(void)close(fd);
	*bufp = buf;
	*lenp = off;
	return 0;
fail:
	e = errno;
	if (buf != NULL) {
		OPENSSL_cleanse(buf, len);
		free(buf);
	}
	(void)close(fd);
	errno = e;
	return -1;
}

void
tls_cleanse(void *buf, size_t len)
{
	if (buf != NULL && len > 0)
		OPENSSL_cleanse(buf, len);
}
