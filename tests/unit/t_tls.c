/*
 * t_tls.c: unit tests for spamd/tls.c, STARTTLS on OpenSSL: contexts
 * from PEM bytes made by tlsgen.c (P-256, RSA, a chain, mismatched, garbage,
 * empty, encrypted and expired keys and certificates), handshakes over
 * a socketpair with an OpenSSL client (TLS 1.3 and 1.2), reads and
 * writes, pending bytes, clients that send plaintext or hang up, a
 * context freed under a live session, and tls_file_read's checks.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "spamd/tls.h"
#include "tests/unit/harness.h"
#include "tests/unit/tlsgen.h"

#define LOOP_MAX	1000	/* bound on every non-blocking loop */
#define NOTAFTER	((time_t)2000000000)	/* 2033-05-18 03:33:20 UTC */

static struct tls_ctx *
ctx_ok(const struct tlsgen_pem *cert, const struct tlsgen_pem *key)
{
	struct tls_ctx *ctx;
	char err[256];

	err[0] = '\0';
	ctx = tls_ctx_new(cert->p, cert->n, key->p, key->n, err, sizeof(err));
	if (ctx == NULL)
		t_fail("tls_ctx_new: %s", err);
	return ctx;
}

/* tls_ctx_new must fail with an err containing want. */
static void
ctx_bad(const struct tlsgen_pem *cert, const struct tlsgen_pem *key,
    const char *want)
{
	struct tls_ctx *ctx;
	char err[256];

	strcpy(err, "(unset)");
	ctx = tls_ctx_new(cert->p, cert->n, key->p, key->n, err, sizeof(err));
	if (ctx != NULL)
		t_fail("tls_ctx_new succeeded, expected \"%s\"", want);
	if (strstr(err, want) == NULL)
		t_fail("err \"%s\", expected \"%s\"", err, want);
	T_ASSERT(ERR_peek_error() == 0);
}

/* A good context, self-signed for CN=mx.example.org. */
static struct tls_ctx *
good_ctx(void)
{
	struct tlsgen_pem c, k;
	struct tls_ctx *ctx;
	time_t now = time(NULL);

	tlsgen_pair("mx.example.org", now - 86400, now + 86400, &c, &k);
	ctx = ctx_ok(&c, &k);
	tlsgen_free(&c);
	tlsgen_free(&k);
	return ctx;
}

/* A server session on sv[0], an OpenSSL client on sv[1]. */
struct pair {
	int		 sv[2];
	SSL_CTX		*cctx;
	SSL		*cli;
	struct tls_sess	*srv;
};

static void
nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	T_ASSERT(fl != -1);
	T_ASSERT(fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0);
}

/* maxver: 0 or TLS1_2_VERSION... for the client. */
static void
pair_open(struct pair *p, struct tls_ctx *ctx, int maxver)
{
	T_ASSERT(socketpair(AF_UNIX, SOCK_STREAM, 0, p->sv) == 0);
	nonblock(p->sv[0]);
	nonblock(p->sv[1]);
	T_ASSERT((p->cctx = SSL_CTX_new(TLS_client_method())) != NULL);
	SSL_CTX_set_verify(p->cctx, SSL_VERIFY_NONE, NULL);
	if (maxver != 0)
		T_ASSERT(SSL_CTX_set_max_proto_version(p->cctx, maxver) == 1);
	T_ASSERT((p->cli = SSL_new(p->cctx)) != NULL);
	T_ASSERT(SSL_set_fd(p->cli, p->sv[1]) == 1);
	SSL_set_connect_state(p->cli);
	T_ASSERT((p->srv = tls_sess_new(ctx, p->sv[0])) != NULL);
}

/* Free what is left; a closed fd is -1. */
static void
pair_close(struct pair *p)
{
	if (p->srv != NULL)
		tls_sess_free(p->srv);
	if (p->cli != NULL)
		SSL_free(p->cli);
	SSL_CTX_free(p->cctx);
	if (p->sv[0] != -1)
		close(p->sv[0]);
	if (p->sv[1] != -1)
		close(p->sv[1]);
	memset(p, 0, sizeof(*p));
}

/* The client's want, or fail. */
static void
cli_want(SSL *cli, int rc, const char *what)
{
	int e = SSL_get_error(cli, rc);

	if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
		t_fail("client %s: SSL error %d (%s)", what, e,
		    ERR_reason_error_string(ERR_peek_error()));
}

/* Both sides step in turn until both are done. */
static void
handshake(struct pair *p)
{
	int i, r, sdone = 0, cdone = 0;

	for (i = 0; i < LOOP_MAX && !(sdone && cdone); i++) {
		if (!sdone) {
			r = tls_handshake(p->srv);
			if (r == TLS_OK)
				sdone = 1;
			else if (r != TLS_WANT_READ && r != TLS_WANT_WRITE)
				t_fail("tls_handshake: %d (%s)", r,
				    tls_error(p->srv));
		}
		if (!cdone) {
			r = SSL_do_handshake(p->cli);
			if (r == 1)
				cdone = 1;
			else
				cli_want(p->cli, r, "handshake");
		}
	}
	T_ASSERT(sdone && cdone);
	T_EQ_INT(tls_handshake(p->srv), TLS_OK);	/* stays done */
}

/* The server reads exactly n bytes. */
static void
srv_read(struct pair *p, char *buf, size_t n)
{
	size_t off = 0;
	ssize_t r;
	int i;

	for (i = 0; i < LOOP_MAX && off < n; i++) {
		r = tls_read(p->srv, buf + off, n - off);
		if (r > 0)
			off += (size_t)r;
		else if (r != TLS_WANT_READ)
			t_fail("tls_read: %zd (%s)", r, tls_error(p->srv));
	}
	T_EQ_INT(off, n);
}

/* The client reads exactly n bytes. */
static void
cli_read(struct pair *p, char *buf, size_t n)
{
	size_t off = 0, got;
	int i, rc;

	for (i = 0; i < LOOP_MAX && off < n; i++) {
		rc = SSL_read_ex(p->cli, buf + off, n - off, &got);
		if (rc == 1)
			off += got;
		else
			cli_want(p->cli, rc, "read");
	}
	T_EQ_INT(off, n);
}

static void
cli_write(struct pair *p, const char *s)
{
	size_t n;

	T_ASSERT(SSL_write_ex(p->cli, s, strlen(s), &n) == 1);
	T_EQ_INT(n, strlen(s));
}

/* One line each way. */
static void
round_trip(struct pair *p)
{
	char buf[64];
	const char *q = "EHLO client.example.org\r\n";
	const char *a = "250 mx.example.org\r\n";
	ssize_t r;

	cli_write(p, q);
	srv_read(p, buf, strlen(q));
	T_EQ_MEM(buf, q, strlen(q));
	r = tls_write(p->srv, a, strlen(a));
	T_EQ_INT(r, strlen(a));
	cli_read(p, buf, strlen(a));
	T_EQ_MEM(buf, a, strlen(a));
}

static void
init(void)
{
	T_EQ_INT(tls_init(), 0);
	T_EQ_INT(tls_init(), 0);	/* twice is harmless */
}

/* A P-256 certificate: its subject and end of validity. */
static void
load_p256(void)
{
	struct tlsgen_pem c, k;
	struct tls_ctx *ctx;
	char subj[128];
	time_t end = 0;

	T_EQ_INT(tls_init(), 0);
	tlsgen_pair("mx.example.org", time(NULL) - 60, NOTAFTER, &c, &k);
	ctx = ctx_ok(&c, &k);
	T_EQ_INT(tls_ctx_info(ctx, subj, sizeof(subj), &end), 0);
	T_EQ_STR(subj, "CN=mx.example.org");
	T_EQ_INT(end, NOTAFTER);
	/* A short buffer cuts the subject. */
	T_EQ_INT(tls_ctx_info(ctx, subj, 6, &end), 0);
	T_EQ_STR(subj, "CN=mx");
	tls_ctx_free(ctx);
	tls_ctx_free(NULL);
	tlsgen_free(&c);
	tlsgen_free(&k);
}

/* RSA 2048, and a TLS 1.2 handshake with it. */
static void
load_rsa(void)
{
	EVP_PKEY *k = EVP_RSA_gen(2048);
	X509 *x;
	struct tlsgen_pem c, kp;
	struct tls_ctx *ctx;
	struct pair p;
	char subj[128];
	time_t end;

	T_ASSERT(k != NULL);
	x = tlsgen_cert(k, "rsa.example.org", time(NULL) - 60, NOTAFTER, NULL,
	    NULL, 0);
	c = tlsgen_cert_pem(x);
	kp = tlsgen_key_pem(k);
	ctx = ctx_ok(&c, &kp);
	T_EQ_INT(tls_ctx_info(ctx, subj, sizeof(subj), &end), 0);
	T_EQ_STR(subj, "CN=rsa.example.org");
	pair_open(&p, ctx, TLS1_2_VERSION);
	handshake(&p);
	T_EQ_STR(tls_version(p.srv), "TLSv1.2");
	round_trip(&p);
	pair_close(&p);
	tls_ctx_free(ctx);
	X509_free(x);
	EVP_PKEY_free(k);
	tlsgen_free(&c);
	tlsgen_free(&kp);
}

/* A leaf and the CA that signed it: both go to the client. */
static void
load_chain(void)
{
	struct tlsgen_pem c, kp;
	struct tls_ctx *ctx;
	STACK_OF(X509) *chain;
	struct pair p;
	char subj[128];
	time_t end;

	tlsgen_chain("mx.example.org", time(NULL) - 60, NOTAFTER, 1, &c, &kp);
	ctx = ctx_ok(&c, &kp);
	T_EQ_INT(tls_ctx_info(ctx, subj, sizeof(subj), &end), 0);
	T_EQ_STR(subj, "CN=mx.example.org");	/* the leaf's */
	pair_open(&p, ctx, 0);
	handshake(&p);
	T_ASSERT((chain = SSL_get_peer_cert_chain(p.cli)) != NULL);
	T_EQ_INT(sk_X509_num(chain), 2);
	round_trip(&p);
	pair_close(&p);
	tls_ctx_free(ctx);
	tlsgen_free(&c);
	tlsgen_free(&kp);
}

/* The key in the certificate's file too, and EC parameters first. */
static void
load_combined(void)
{
	struct tlsgen_pem c, k, both, params;
	struct tls_ctx *ctx;

	tlsgen_pair("mx.example.org", time(NULL) - 60, NOTAFTER, &c, &k);
	both = tlsgen_cat(tlsgen_dup(c.p), tlsgen_dup(k.p));
	ctx = ctx_ok(&both, &k);
	tls_ctx_free(ctx);
	/* What "openssl ecparam -genkey" writes. */
	params = tlsgen_cat(tlsgen_dup("-----BEGIN EC PARAMETERS-----\n"
	    "BggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n"),
	    tlsgen_dup(k.p));
	ctx = ctx_ok(&c, &params);
	tls_ctx_free(ctx);
	tlsgen_free(&c);
	tlsgen_free(&k);
	tlsgen_free(&both);
	tlsgen_free(&params);
}

static void
key_mismatch(void)
{
	struct tlsgen_pem c1, k1, c2, k2, rk;
	EVP_PKEY *rsa;

	tlsgen_pair("one.example.org", time(NULL) - 60, NOTAFTER, &c1, &k1);
	tlsgen_pair("two.example.org", time(NULL) - 60, NOTAFTER, &c2, &k2);
	ctx_bad(&c1, &k2, "the key does not match the certificate");
	/* Another type of key altogether. */
	T_ASSERT((rsa = EVP_RSA_gen(2048)) != NULL);
	rk = tlsgen_key_pem(rsa);
	ctx_bad(&c1, &rk, "does not match");
	EVP_PKEY_free(rsa);
	tlsgen_free(&c1);
	tlsgen_free(&k1);
	tlsgen_free(&c2);
	tlsgen_free(&k2);
	tlsgen_free(&rk);
}

static void
garbage(void)
{
	struct tlsgen_pem c, k, g, e;

	tlsgen_pair("mx.example.org", time(NULL) - 60, NOTAFTER, &c, &k);
	g = tlsgen_dup("this is not a certificate\n\x01\x02\xff\n");
	e = tlsgen_dup("");
	ctx_bad(&g, &k, "no certificate found");
	ctx_bad(&e, &k, "no certificate found");
	ctx_bad(&k, &k, "no certificate found");	/* key as cert */
	ctx_bad(&c, &g, "no private key found");
	ctx_bad(&c, &e, "no private key found");
	ctx_bad(&c, &c, "no private key found");	/* cert as key */
	tlsgen_free(&g);
	/* A PEM block whose base64 is broken. */
	g = tlsgen_dup("-----BEGIN CERTIFICATE-----\nMIIB!!!!\n"
	    "-----END CERTIFICATE-----\n");
	ctx_bad(&g, &k, "certificate");
	tlsgen_free(&g);
	/* A broken certificate after a good one: not a silent end. */
	g = tlsgen_cat(tlsgen_dup(c.p),
	    tlsgen_dup("-----BEGIN CERTIFICATE-----\n"
	    "MIIBxx==\n-----END CERTIFICATE-----\n"));
	ctx_bad(&g, &k, "chain certificate");
	tlsgen_free(&g);
	tlsgen_free(&e);
	tlsgen_free(&c);
	tlsgen_free(&k);
}

/* A passphrase is never asked for. */
static void
key_encrypted(void)
{
	EVP_PKEY *k = tlsgen_ec_key();
	X509 *x = tlsgen_cert(k, "mx.example.org", time(NULL) - 60, NOTAFTER,
	    NULL, NULL, 0);
	struct tlsgen_pem c = tlsgen_cert_pem(x), kp;
	BIO *bio = BIO_new(BIO_s_mem());

	T_ASSERT(bio != NULL);
	T_ASSERT(PEM_write_bio_PrivateKey(bio, k, EVP_aes_128_cbc(),
	    (const unsigned char *)"secret", 6, NULL, NULL) == 1);
	kp = tlsgen_bio(bio);
	ctx_bad(&c, &kp, "encrypted");
	X509_free(x);
	EVP_PKEY_free(k);
	tlsgen_free(&c);
	tlsgen_free(&kp);
}

/* Expiry is the caller's warning, not a reason to refuse. */
static void
expired(void)
{
	struct tlsgen_pem c, k;
	struct tls_ctx *ctx;
	struct pair p;
	char subj[128];
	time_t now = time(NULL), end = 0;

	tlsgen_pair("old.example.org", now - 2 * 86400, now - 86400, &c, &k);
	ctx = ctx_ok(&c, &k);
	T_EQ_INT(tls_ctx_info(ctx, subj, sizeof(subj), &end), 0);
	T_EQ_STR(subj, "CN=old.example.org");
	T_EQ_INT(end, now - 86400);
	T_ASSERT(end < time(NULL));
	pair_open(&p, ctx, 0);
	handshake(&p);
	pair_close(&p);
	tls_ctx_free(ctx);
	tlsgen_free(&c);
	tlsgen_free(&k);
}

/* A handshake, a round trip, a close_notify at the end; fd kept. */
static void
hs_version(int maxver, const char *want)
{
	struct tls_ctx *ctx = good_ctx();
	struct pair p;
	char buf[16];
	int rc;

	pair_open(&p, ctx, maxver);
	T_EQ_INT(tls_handshake(p.srv), TLS_WANT_READ);	/* nothing yet */
	handshake(&p);
	T_EQ_STR(tls_version(p.srv), want);
	T_ASSERT(strcmp(tls_cipher(p.srv), "?") != 0);
	T_EQ_STR(tls_cipher(p.srv), SSL_get_cipher_name(p.cli));
	round_trip(&p);
	round_trip(&p);
	/* Nothing more: the server waits. */
	T_EQ_INT(tls_read(p.srv, buf, sizeof(buf)), TLS_WANT_READ);
	T_EQ_INT(tls_pending(p.srv), 0);
	tls_sess_free(p.srv);
	p.srv = NULL;
	T_ASSERT(fcntl(p.sv[0], F_GETFD) != -1);	/* still open */
	/* The client sees the close_notify. */
	rc = SSL_read(p.cli, buf, sizeof(buf));
	T_EQ_INT(rc, 0);
	T_EQ_INT(SSL_get_error(p.cli, rc), SSL_ERROR_ZERO_RETURN);
	pair_close(&p);
	tls_ctx_free(ctx);
}

static void
hs_tls13(void)
{
	hs_version(0, "TLSv1.3");
}

static void
hs_tls12(void)
{
	hs_version(TLS1_2_VERSION, "TLSv1.2");
}

/* Two records, the first read in part: its rest is pending. */
static void
pending(void)
{
	struct tls_ctx *ctx = good_ctx();
	struct pair p;
	char buf[16];

	pair_open(&p, ctx, 0);
	handshake(&p);
	T_EQ_INT(tls_pending(p.srv), 0);
	cli_write(&p, "abcdef");
	cli_write(&p, "ghij");
	T_EQ_INT(tls_pending(p.srv), 0);	/* all in the socket */
	T_EQ_INT(tls_read(p.srv, buf, 2), 2);
	T_EQ_MEM(buf, "ab", 2);
	T_EQ_INT(tls_pending(p.srv), 1);
	T_EQ_INT(tls_read(p.srv, buf, sizeof(buf)), 4);	/* one record */
	T_EQ_MEM(buf, "cdef", 4);
	T_EQ_INT(tls_pending(p.srv), 0);	/* epoll sees the next */
	T_EQ_INT(tls_read(p.srv, buf, sizeof(buf)), 4);
	T_EQ_MEM(buf, "ghij", 4);
	T_EQ_INT(tls_pending(p.srv), 0);
	T_EQ_INT(tls_read(p.srv, buf, sizeof(buf)), TLS_WANT_READ);
	pair_close(&p);
	tls_ctx_free(ctx);
}

/*
 * Half a record in the socket: nothing to read yet, so nothing pending
 * (else the caller would read in a loop until the rest arrives).
 */
static void
pending_partial(void)
{
	struct tls_ctx *ctx = good_ctx();
	struct pair p;
	BIO *mem;
	char buf[64], *rec;
	long n;
	size_t w;

	pair_open(&p, ctx, 0);
	handshake(&p);
	/* The client's next record goes to memory. */
	T_ASSERT((mem = BIO_new(BIO_s_mem())) != NULL);
	SSL_set0_wbio(p.cli, mem);
	T_ASSERT(SSL_write_ex(p.cli, "hello", 5, &w) == 1);
	n = BIO_get_mem_data(mem, &rec);
	T_ASSERT(n > 10);
	T_EQ_INT(write(p.sv[1], rec, 10), 10);
	T_EQ_INT(tls_read(p.srv, buf, sizeof(buf)), TLS_WANT_READ);
	T_EQ_INT(tls_pending(p.srv), 0);
	T_EQ_INT(write(p.sv[1], rec + 10, (size_t)n - 10), n - 10);
	T_EQ_INT(tls_read(p.srv, buf, sizeof(buf)), 5);
	T_EQ_MEM(buf, "hello", 5);
	pair_close(&p);
	tls_ctx_free(ctx);
}

/* One byte per record, both ways. */
static void
stutter(void)
{
	struct tls_ctx *ctx = good_ctx();
	struct pair p;
	const char *s = "250-mx.example.org\r\n250 STARTTLS\r\n";
	char buf[64];
	size_t i, n = strlen(s);

	pair_open(&p, ctx, 0);
	handshake(&p);
	for (i = 0; i < n; i++)
		T_EQ_INT(tls_write(p.srv, s + i, 1), 1);
	T_EQ_INT(tls_write(p.srv, s, 0), 0);
	cli_read(&p, buf, n);
	T_EQ_MEM(buf, s, n);
	for (i = 0; i < n; i++) {
		char c[2] = { s[i], '\0' };

		cli_write(&p, c);
	}
	for (i = 0; i < n; i++) {
		T_EQ_INT(tls_read(p.srv, buf + i, sizeof(buf) - i), 1);
		T_EQ_INT(tls_pending(p.srv), 0);
	}
	T_EQ_MEM(buf, s, n);
	pair_close(&p);
	tls_ctx_free(ctx);
}

/* The client drains what waits; the byte count. */
static size_t
cli_drain(struct pair *p)
{
	char buf[4096];
	size_t n, total = 0;
	int i, rc;

	for (i = 0; i < 100 * LOOP_MAX; i++) {
		rc = SSL_read_ex(p->cli, buf, sizeof(buf), &n);
		if (rc != 1) {
			T_EQ_INT(SSL_get_error(p->cli, rc),
			    SSL_ERROR_WANT_READ);
			break;
		}
		total += n;
	}
	return total;
}

/*
 * A full socket: TLS_WANT_WRITE, then the same length again from
 * another buffer (the caller's output may move) once the client reads.
 */
static void
write_full(void)
{
	struct tls_ctx *ctx = good_ctx();
	struct pair p;
	char *a, *b;
	size_t len = 16384, sent = 0, got = 0;
	ssize_t r = 0;
	int i;

	T_ASSERT((a = malloc(len)) != NULL);
	memset(a, 'x', len);
	pair_open(&p, ctx, 0);
	handshake(&p);
	for (i = 0; i < LOOP_MAX; i++) {
		r = tls_write(p.srv, a, len);
		if (r <= 0)
			break;
		T_ASSERT((size_t)r <= len);
		sent += (size_t)r;
	}
	T_EQ_INT(r, TLS_WANT_WRITE);
	T_ASSERT(sent > 0);
	T_ASSERT((b = malloc(len)) != NULL);
	memcpy(b, a, len);
	free(a);
	for (i = 0; i < LOOP_MAX; i++) {
		got += cli_drain(&p);
		r = tls_write(p.srv, b, len);
		if (r > 0)
			break;
		T_EQ_INT(r, TLS_WANT_WRITE);
	}
	T_ASSERT(r > 0);
	sent += (size_t)r;
	got += cli_drain(&p);
	T_EQ_INT(got, sent);
	free(b);
	pair_close(&p);
	tls_ctx_free(ctx);
}

/* Plaintext instead of a ClientHello. */
static void
plaintext(void)
{
	struct tls_ctx *ctx = good_ctx();
	struct pair p;
	const char *e;
	int r;

	signal(SIGPIPE, SIG_IGN);	/* as in the SMTP process */
	pair_open(&p, ctx, 0);
	T_EQ_INT(write(p.sv[1], "EHLO x\r\n", 8), 8);
	r = tls_handshake(p.srv);
	T_EQ_INT(r, TLS_ERROR);
	e = tls_error(p.srv);
	T_ASSERT(e != NULL && e[0] != '\0');
	T_ASSERT(strchr(e, '\n') == NULL);
	T_ASSERT(strcmp(e, "unknown error") != 0);
	T_ASSERT(ERR_peek_error() == 0);
	pair_close(&p);
	tls_ctx_free(ctx);
}

/* The server steps alone until it gets something but a want. */
static int
srv_until(struct pair *p)
{
	int i, r = TLS_WANT_READ;

	for (i = 0; i < LOOP_MAX; i++) {
		r = tls_handshake(p->srv);
		if (r != TLS_WANT_READ && r != TLS_WANT_WRITE)
			break;
	}
	return r;
}

/* Hanging up before or during the handshake is an end, not an error. */
static void
eof_handshake(void)
{
	struct tls_ctx *ctx = good_ctx();
	struct pair p;
	int r;

	signal(SIGPIPE, SIG_IGN);
	/* Nothing at all. */
	pair_open(&p, ctx, 0);
	T_EQ_INT(tls_handshake(p.srv), TLS_WANT_READ);
	close(p.sv[1]);
	p.sv[1] = -1;
	T_EQ_INT(srv_until(&p), TLS_EOF);
	pair_close(&p);
	/* A ClientHello, then gone: the server's answer finds no one. */
	pair_open(&p, ctx, 0);
	r = SSL_do_handshake(p.cli);
	cli_want(p.cli, r, "hello");
	SSL_free(p.cli);
	p.cli = NULL;
	close(p.sv[1]);
	p.sv[1] = -1;
	T_EQ_INT(srv_until(&p), TLS_EOF);
	pair_close(&p);
	/* Half a ClientHello. */
	pair_open(&p, ctx, 0);
	{
		BIO *mem = BIO_new(BIO_s_mem());
		char *rec;
		long n;

		T_ASSERT(mem != NULL);
		SSL_set0_wbio(p.cli, mem);
		r = SSL_do_handshake(p.cli);
		cli_want(p.cli, r, "hello");
		n = BIO_get_mem_data(mem, &rec);
		T_ASSERT(n > 20);
		T_EQ_INT(write(p.sv[1], rec, 20), 20);
	}
	T_EQ_INT(tls_handshake(p.srv), TLS_WANT_READ);
	close(p.sv[1]);
	p.sv[1] = -1;
	T_EQ_INT(srv_until(&p), TLS_EOF);
	pair_close(&p);
	tls_ctx_free(ctx);
}

/* After the handshake: with or without a close_notify, TLS_EOF. */
static void
eof_after(void)
{
	struct tls_ctx *ctx = good_ctx();
	struct pair p;
	char buf[16];
	int i;

	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < 2; i++) {
		pair_open(&p, ctx, i ? TLS1_2_VERSION : 0);
		handshake(&p);
		round_trip(&p);
		close(p.sv[1]);		/* no close_notify */
		p.sv[1] = -1;
		T_EQ_INT(tls_read(p.srv, buf, sizeof(buf)), TLS_EOF);
		pair_close(&p);
	}
	/* A clean close. */
	pair_open(&p, ctx, 0);
	handshake(&p);
	T_EQ_INT(SSL_shutdown(p.cli), 0);
	T_EQ_INT(tls_read(p.srv, buf, sizeof(buf)), TLS_EOF);
	pair_close(&p);
	/* A write to a client that is gone. */
	pair_open(&p, ctx, 0);
	handshake(&p);
	close(p.sv[1]);
	p.sv[1] = -1;
	T_EQ_INT(tls_write(p.srv, "221 bye\r\n", 9), TLS_EOF);
	pair_close(&p);
	tls_ctx_free(ctx);
}

/* A garbled record after the handshake: an error with a reason. */
static void
bad_record(void)
{
	struct tls_ctx *ctx = good_ctx();
	struct pair p;
	char buf[16];
	const unsigned char rec[] = { 0x17, 0x03, 0x03, 0x00, 0x20,
	    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
	    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };

	signal(SIGPIPE, SIG_IGN);
	pair_open(&p, ctx, 0);
	handshake(&p);
	T_EQ_INT(write(p.sv[1], rec, sizeof(rec)), sizeof(rec));
	T_EQ_INT(tls_read(p.srv, buf, sizeof(buf)), TLS_ERROR);
	T_ASSERT(tls_error(p.srv)[0] != '\0');
	T_ASSERT(strcmp(tls_error(p.srv), "unknown error") != 0);
	pair_close(&p);
	tls_ctx_free(ctx);
}

/* A reload frees the old context under a live session. */
static void
reload(void)
{
	struct tls_ctx *a = good_ctx(), *b;
	struct pair p, q;

	pair_open(&p, a, 0);
	T_EQ_INT(tls_handshake(p.srv), TLS_WANT_READ);
	b = good_ctx();
	tls_ctx_free(a);
	handshake(&p);
	round_trip(&p);
	pair_open(&q, b, TLS1_2_VERSION);
	handshake(&q);
	round_trip(&q);
	pair_close(&p);
	pair_close(&q);
	tls_ctx_free(b);
}

/* tls_file_read fails with err containing want, allocating nothing. */
static void
file_bad(const char *path, const char *want)
{
	char *buf = (char *)1, err[256];
	size_t len = 99;

	strcpy(err, "(unset)");
	T_EQ_INT(tls_file_read(path, &buf, &len, err, sizeof(err)), -1);
	T_ASSERT(buf == NULL);
	T_EQ_INT(len, 0);
	if (strstr(err, want) == NULL)
		t_fail("%s: err \"%s\", expected \"%s\"", path, err, want);
}

static void
file_read(void)
{
	struct tlsgen_pem c, k;
	char *buf, err[256];
	size_t len;
	struct tls_ctx *ctx;
	int fd;

	tlsgen_pair("mx.example.org", time(NULL) - 60, NOTAFTER, &c, &k);
	tlsgen_write(t_path("cert.pem"), c.p);
	T_EQ_INT(tls_file_read(t_path("cert.pem"), &buf, &len, err,
	    sizeof(err)), 0);
	T_EQ_INT(len, c.n);
	T_EQ_MEM(buf, c.p, c.n);
	T_EQ_INT(buf[len], '\0');
	/* What tlsload does: build, then wipe. */
	ctx = ctx_ok(&(struct tlsgen_pem){ buf, len }, &k);
	tls_cleanse(buf, len);
	T_EQ_INT(buf[0], 0);
	free(buf);
	tls_ctx_free(ctx);

	file_bad(t_path("missing.pem"), "No such file or directory");
	file_bad(t_tmpdir(), "not a regular file");
	tlsgen_write(t_path("empty.pem"), "");
	file_bad(t_path("empty.pem"), "empty");
	/* Exactly the limit is read; one byte more is not. */
	T_ASSERT((fd = open(t_path("big.pem"), O_WRONLY | O_CREAT, 0600))
	    != -1);
	T_ASSERT(ftruncate(fd, TLS_FILE_MAX) == 0);
	T_EQ_INT(tls_file_read(t_path("big.pem"), &buf, &len, err,
	    sizeof(err)), 0);
	T_EQ_INT(len, TLS_FILE_MAX);
	free(buf);
	T_ASSERT(ftruncate(fd, TLS_FILE_MAX + 1) == 0);
	T_ASSERT(close(fd) == 0);
	file_bad(t_path("big.pem"), "larger than 1048576 bytes");
	/* Unreadable: the reason is errno's (root reads anything). */
	if (geteuid() != 0) {
		T_ASSERT(chmod(t_path("cert.pem"), 0) == 0);
		file_bad(t_path("cert.pem"), "Permission denied");
	}
	tls_cleanse(NULL, 0);
	tlsgen_free(&c);
	tlsgen_free(&k);
}

const struct t_case t_cases[] = {
	T_CASE(init),
	T_CASE(load_p256),
	T_CASE(load_rsa),
	T_CASE(load_chain),
	T_CASE(load_combined),
	T_CASE(key_mismatch),
	T_CASE(garbage),
	T_CASE(key_encrypted),
	T_CASE(expired),
	T_CASE(hs_tls13),
	T_CASE(hs_tls12),
	T_CASE(pending),
	T_CASE(pending_partial),
	T_CASE(stutter),
	T_CASE(write_full),
	T_CASE(plaintext),
	T_CASE(eof_handshake),
	T_CASE(eof_after),
	T_CASE(bad_record),
	T_CASE(reload),
	T_CASE(file_read),
	{ NULL, NULL }
};
