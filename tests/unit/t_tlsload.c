/*
 * t_tlsload.c: unit tests for spamd/tlsload.c, the STARTTLS certificate
 * and key from their files to the SMTP process: tlsload_files' reasons
 * (missing, mismatched, a directory), tlsload_describe's lines (valid,
 * expiring, expired), a whole SIGHUP transfer over a SOCK_SEQPACKET chan
 * with a chain longer than one chunk (sent at once, or partly queued by
 * the chan), files that cannot be read, and transfers that are hostile or
 * broken (no BEGIN, too large, restarted, a lying chunk header, a key
 * that does not match, an unknown message), fed to tlsload_msg.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "spamd/chan.h"
#include "spamd/ev.h"
#include "spamd/proto.h"
#include "spamd/tls.h"
#include "spamd/tlsload.h"
#include "tests/unit/harness.h"
#include "tests/unit/tlsgen.h"

#define LOOP_MAX	1000	/* bound on every loop over messages */
#define NOTAFTER	((time_t)2000000000)	/* 2033-05-18 03:33:20 UTC */
#define DAY		((time_t)86400)
#define CHAIN_LONG	20	/* CA certificates: > PROTO_CHUNK_MAX */
#define CHAIN_QUEUE	100	/* ~60 KB: more than SNDBUF_SMALL holds */
#define SNDBUF_SMALL	16384	/* the kernel doubles it */

/* What install() was given. */
static struct tls_ctx	*installed;
static int		 ninstalled;

static void
install(struct tls_ctx *ctx)
{
	T_ASSERT(ctx != NULL);
	ninstalled++;
	tls_ctx_free(installed);	/* as the SMTP process swaps */
	installed = ctx;
}

static void
installed_free(void)
{
	tls_ctx_free(installed);
	installed = NULL;
}

/* ctx's subject must be want. */
static void
subject_is(const struct tls_ctx *ctx, const char *want)
{
	char subj[256];
	time_t end;

	T_ASSERT(ctx != NULL);
	T_EQ_INT(tls_ctx_info(ctx, subj, sizeof(subj), &end), 0);
	T_EQ_STR(subj, want);
}

/* The files' paths, in this case's directory. */
static char	certpath[512], keypath[512];

static void
paths(void)
{
	(void)snprintf(certpath, sizeof(certpath), "%s/cert.pem", t_tmpdir());
	(void)snprintf(keypath, sizeof(keypath), "%s/key.pem", t_tmpdir());
}

/* A leaf CN=cn with n CA certificates above it, written to both files. */
static void
write_files(const char *cn, time_t nb, time_t na, int n)
{
	struct tlsgen_pem c, k;

	paths();
	tlsgen_chain(cn, nb, na, n, &c, &k);
	tlsgen_write(certpath, c.p);
	tlsgen_write(keypath, k.p);
	tlsgen_free(&c);
	tlsgen_free(&k);
}

/* tlsload_files fails, err starting with (or containing) want. */
static void
files_bad(const char *cert, const char *key, const char *want, int prefix)
{
	char err[1024];

	strcpy(err, "(unset)");
	T_ASSERT(tlsload_files(cert, key, err, sizeof(err)) == NULL);
	if (prefix ? strncmp(err, want, strlen(want)) != 0 :
	    strstr(err, want) == NULL)
		t_fail("err \"%s\", expected %s\"%s\"", err,
		    prefix ? "a start " : "", want);
}

static void
files_good(void)
{
	struct tls_ctx *ctx;
	char err[1024];

	write_files("mx.example.org", time(NULL) - 60, NOTAFTER, 0);
	err[0] = '\0';
	ctx = tlsload_files(certpath, keypath, err, sizeof(err));
	if (ctx == NULL)
		t_fail("tlsload_files: %s", err);
	subject_is(ctx, "CN=mx.example.org");
	tls_ctx_free(ctx);
	/* With a chain. */
	write_files("chain.example.org", time(NULL) - 60, NOTAFTER, 3);
	ctx = tlsload_files(certpath, keypath, err, sizeof(err));
	if (ctx == NULL)
		t_fail("tlsload_files: %s", err);
	subject_is(ctx, "CN=chain.example.org");
	tls_ctx_free(ctx);
}

static void
files_missing(void)
{
	char want[1200], nofile[600];

	write_files("mx.example.org", time(NULL) - 60, NOTAFTER, 0);
	(void)snprintf(nofile, sizeof(nofile), "%s/missing.pem", t_tmpdir());
	(void)snprintf(want, sizeof(want), "-C %s: No such file or directory",
	    nofile);
	files_bad(nofile, keypath, want, 1);
	/* Both missing: the certificate is named. */
	files_bad(nofile, nofile, want, 1);
	(void)snprintf(want, sizeof(want), "-K %s: No such file or directory",
	    nofile);
	files_bad(certpath, nofile, want, 1);
}

static void
files_mismatch(void)
{
	struct tlsgen_pem c, k;
	char want[1200];

	write_files("one.example.org", time(NULL) - 60, NOTAFTER, 0);
	tlsgen_pair("two.example.org", time(NULL) - 60, NOTAFTER, &c, &k);
	tlsgen_write(keypath, k.p);
	files_bad(certpath, keypath, "does not match", 0);
	(void)snprintf(want, sizeof(want), "-C %s -K %s: ", certpath,
	    keypath);
	files_bad(certpath, keypath, want, 1);
	/* The key file as the certificate. */
	files_bad(keypath, keypath, "no certificate found", 0);
	tlsgen_free(&c);
	tlsgen_free(&k);
}

static void
files_dir(void)
{
	char want[1200];

	write_files("mx.example.org", time(NULL) - 60, NOTAFTER, 0);
	(void)snprintf(want, sizeof(want), "-C %s: ", t_tmpdir());
	files_bad(t_tmpdir(), keypath, want, 1);
	files_bad(t_tmpdir(), keypath, "not a regular file", 0);
	(void)snprintf(want, sizeof(want), "-K %s: ", t_tmpdir());
	files_bad(certpath, t_tmpdir(), want, 1);
	files_bad(certpath, t_tmpdir(), "not a regular file", 0);
	/* An empty file is no certificate either. */
	tlsgen_write(keypath, "");
	files_bad(certpath, keypath, "-K ", 1);
}

/* A context for CN=cn valid until na, from PEM bytes. */
static struct tls_ctx *
ctx_until(const char *cn, time_t na)
{
	struct tlsgen_pem c, k;
	struct tls_ctx *ctx;
	char err[256];

	tlsgen_pair(cn, na - 400 * DAY, na, &c, &k);
	err[0] = '\0';
	ctx = tls_ctx_new(c.p, c.n, k.p, k.n, err, sizeof(err));
	if (ctx == NULL)
		t_fail("tls_ctx_new: %s", err);
	tlsgen_free(&c);
	tlsgen_free(&k);
	return ctx;
}

static void
describe(void)
{
	struct tls_ctx *ctx;
	time_t now = time(NULL);

	ctx = ctx_until("year.example.org", now + 365 * DAY);
	t_clear_log();
	tlsload_describe(ctx, "/etc/spamd/cert.pem");
	t_expect_log("STARTTLS with /etc/spamd/cert.pem "
	    "(CN=year.example.org), valid until ");
	t_expect_log(" UTC");
	t_no_log("EXPIRED");
	t_no_log("expires on");
	tls_ctx_free(ctx);

	ctx = ctx_until("old.example.org", now - DAY);
	t_clear_log();
	tlsload_describe(ctx, "/etc/spamd/cert.pem");
	t_expect_log("(CN=old.example.org): the certificate EXPIRED on ");
	t_no_log("valid until");
	t_no_log("expires on");
	tls_ctx_free(ctx);

	ctx = ctx_until("soon.example.org", now + 3 * DAY);
	t_clear_log();
	tlsload_describe(ctx, "/etc/spamd/cert.pem");
	t_expect_log("(CN=soon.example.org): the certificate expires on ");
	t_no_log("EXPIRED");
	t_no_log("valid until");
	tls_ctx_free(ctx);
}

/* The date in the line is the certificate's end, in UTC. */
static void
describe_date(void)
{
	struct tls_ctx *ctx = ctx_until("mx.example.org", NOTAFTER);

	tlsload_describe(ctx, "cert.pem");
	t_expect_log("valid until 2033-05-18 03:33:20 UTC");
	tls_ctx_free(ctx);
}

/* Messages fed to tlsload_msg straight, as the chan would. */
static void
msg_bare(enum proto_type t)
{
	uint8_t buf[16];
	size_t n = proto_enc_bare(buf, sizeof(buf), t);

	T_EQ_INT(n, 8);
	tlsload_msg(buf, n, install);
}

static void
msg_chunks(enum proto_type t, const char *p, size_t len)
{
	uint8_t buf[PROTO_MSG_MAX];
	size_t off = 0, n, m;
	int i;

	for (i = 0; i < LOOP_MAX && (off < len || i == 0); i++) {
		n = len - off > PROTO_CHUNK_MAX ? PROTO_CHUNK_MAX : len - off;
		m = proto_enc_chunk(buf, sizeof(buf), t, p + off, n);
		T_EQ_INT(m, n + 8);
		tlsload_msg(buf, m, install);
		off += n;
	}
	T_EQ_INT(off, len);
}

/* BEGIN, the certificate, the key, END. */
static void
msg_transfer(const struct tlsgen_pem *c, const struct tlsgen_pem *k)
{
	msg_bare(PROTO_TLS_BEGIN);
	msg_chunks(PROTO_TLS_CERT, c->p, c->n);
	msg_chunks(PROTO_TLS_KEY, k->p, k->n);
	msg_bare(PROTO_TLS_END);
}

static void
ev_stop(struct ev_timer *t)
{
	(void)t;
	ev_break();
}

/*
 * Receive every message on fd and feed it to tlsload_msg, running the
 * loop so that c sends what it queued; the types, in order, go to types
 * (at most max). The message count.
 */
static size_t
pump(struct chan *c, int fd, int *types, size_t max)
{
	uint8_t buf[PROTO_MSG_MAX + 1];
	struct ev_timer t;
	size_t got = 0;
	ssize_t n;
	int i, j;

	memset(&t, 0, sizeof(t));
	for (i = 0; i < LOOP_MAX; i++) {
		for (j = 0; j < LOOP_MAX; j++) {
			n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
			if (n == -1) {
				T_EQ_INT(errno, EAGAIN);
				break;
			}
			T_ASSERT(n > 0 && n <= PROTO_MSG_MAX);
			T_ASSERT(got < max);
			types[got++] = proto_type(buf, (size_t)n);
			tlsload_msg(buf, (size_t)n, install);
		}
		T_ASSERT(j < LOOP_MAX);
		if (c->head == NULL)
			break;
		ev_timer_in(&t, 1, ev_stop);
		ev_run();
	}
	T_ASSERT(c->head == NULL);
	ev_timer_del(&t);
	return got;
}

static void
on_msg(struct chan *c, const uint8_t *b, size_t n)
{
	(void)c;
	(void)b;
	(void)n;
	t_fail("the parent's end received a message");
}

/* A channel on sv[0]; sv[1] is the SMTP process's end. */
static void
chan_pair(struct chan *c, int sv[2])
{
	ev_init();
	T_ASSERT(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == 0);
	T_ASSERT(chan_open(c, sv[0], "smtp", 4 * 1024 * 1024, on_msg,
	    NULL) == 0);
}

/*
 * tlsload_send with a leaf and n CA certificates, all through the chan;
 * a send buffer of sndbuf bytes (0: the default) makes it queue.
 */
static void
send_chain(int n, int sndbuf)
{
	struct chan c;
	struct tlsgen_pem cp, kp;
	int sv[2], types[LOOP_MAX];
	size_t got, i, ncert, nkey;

	paths();
	tlsgen_chain("leaf.example.org", time(NULL) - 60, NOTAFTER, n, &cp,
	    &kp);
	T_ASSERT(cp.n > PROTO_CHUNK_MAX);
	tlsgen_write(certpath, cp.p);
	tlsgen_write(keypath, kp.p);
	chan_pair(&c, sv);
	if (sndbuf != 0)
		T_ASSERT(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf,
		    sizeof(sndbuf)) == 0);
	T_EQ_INT(tlsload_send(&c, certpath, keypath), 0);
	if (sndbuf != 0)
		T_ASSERT(c.queued > 0);
	got = pump(&c, sv[1], types, LOOP_MAX);
	/* BEGIN, the certificate's chunks, the key's, END. */
	ncert = (cp.n + PROTO_CHUNK_MAX - 1) / PROTO_CHUNK_MAX;
	nkey = (kp.n + PROTO_CHUNK_MAX - 1) / PROTO_CHUNK_MAX;
	T_ASSERT(ncert >= 2);
	T_EQ_INT(got, 1 + ncert + nkey + 1);
	T_EQ_INT(types[0], PROTO_TLS_BEGIN);
	for (i = 1; i <= ncert; i++)
		T_EQ_INT(types[i], PROTO_TLS_CERT);
	for (; i <= ncert + nkey; i++)
		T_EQ_INT(types[i], PROTO_TLS_KEY);
	T_EQ_INT(types[got - 1], PROTO_TLS_END);
	T_EQ_INT(ninstalled, 1);
	subject_is(installed, "CN=leaf.example.org");
	t_expect_log("STARTTLS with the reloaded certificate "
	    "(CN=leaf.example.org), valid until");
	t_no_log("keeping the current");
	chan_close(&c);
	close(sv[1]);
	installed_free();
	tlsgen_free(&cp);
	tlsgen_free(&kp);
}

static void
send_whole(void)
{
	send_chain(CHAIN_LONG, 0);
}

/* More messages than the socket holds: the chan queues the rest. */
static void
send_queued(void)
{
	send_chain(CHAIN_QUEUE, SNDBUF_SMALL);
}

/* Files that cannot be read: a log line, and not one message sent. */
static void
send_unreadable(void)
{
	struct chan c;
	char nofile[600], buf[16];
	int sv[2];

	write_files("mx.example.org", time(NULL) - 60, NOTAFTER, 0);
	(void)snprintf(nofile, sizeof(nofile), "%s/missing.pem", t_tmpdir());
	chan_pair(&c, sv);
	T_EQ_INT(tlsload_send(&c, certpath, nofile), -1);
	t_expect_log("SIGHUP: -K ");
	t_expect_log("No such file or directory");
	t_expect_log("keeping the current certificate");
	t_clear_log();
	T_EQ_INT(tlsload_send(&c, nofile, keypath), -1);
	t_expect_log("SIGHUP: -C ");
	t_expect_log("keeping the current certificate");
	t_clear_log();
	T_EQ_INT(tlsload_send(&c, certpath, t_tmpdir()), -1);
	t_expect_log("not a regular file");
	t_expect_log("keeping the current certificate");
	/* Unreadable by the spamd user (root reads anything). */
	if (geteuid() != 0) {
		t_clear_log();
		T_ASSERT(chmod(keypath, 0) == 0);
		T_EQ_INT(tlsload_send(&c, certpath, keypath), -1);
		t_expect_log("Permission denied");
		t_expect_log("keeping the current certificate");
	}
	T_ASSERT(c.head == NULL);
	T_EQ_INT(recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT), -1);
	T_EQ_INT(errno, EAGAIN);
	T_EQ_INT(ninstalled, 0);
	chan_close(&c);
	close(sv[1]);
}

/* A good transfer straight to tlsload_msg; then one with no BEGIN. */
static void
msg_good(void)
{
	struct tlsgen_pem c, k;

	tlsgen_chain("mx.example.org", time(NULL) - 60, NOTAFTER, 2, &c, &k);
	msg_transfer(&c, &k);
	T_EQ_INT(ninstalled, 1);
	subject_is(installed, "CN=mx.example.org");
	/* Again: the state was reset after END. */
	msg_transfer(&c, &k);
	T_EQ_INT(ninstalled, 2);
	t_no_log("did not arrive whole");
	installed_free();
	tlsgen_free(&c);
	tlsgen_free(&k);
}

/* END with nothing before it, or with a part missing. */
static void
end_alone(void)
{
	struct tlsgen_pem c, k;

	msg_bare(PROTO_TLS_END);
	T_EQ_INT(ninstalled, 0);
	t_expect_log("TLS reload: the certificate or key did not arrive "
	    "whole; keeping the current certificate");
	tlsgen_pair("mx.example.org", time(NULL) - 60, NOTAFTER, &c, &k);
	/* BEGIN, END. */
	t_clear_log();
	msg_bare(PROTO_TLS_BEGIN);
	msg_bare(PROTO_TLS_END);
	t_expect_log("did not arrive whole");
	/* No key. */
	t_clear_log();
	msg_bare(PROTO_TLS_BEGIN);
	msg_chunks(PROTO_TLS_CERT, c.p, c.n);
	msg_bare(PROTO_TLS_END);
	t_expect_log("did not arrive whole");
	/* No certificate. */
	t_clear_log();
	msg_bare(PROTO_TLS_BEGIN);
	msg_chunks(PROTO_TLS_KEY, k.p, k.n);
	msg_bare(PROTO_TLS_END);
	t_expect_log("did not arrive whole");
	/* A second END after a good transfer. */
	msg_transfer(&c, &k);
	T_EQ_INT(ninstalled, 1);
	t_clear_log();
	msg_bare(PROTO_TLS_END);
	t_expect_log("did not arrive whole");
	T_EQ_INT(ninstalled, 1);
	installed_free();
	tlsgen_free(&c);
	tlsgen_free(&k);
}

/* Chunks with no BEGIN before them are dropped. */
static void
chunks_alone(void)
{
	struct tlsgen_pem c, k;

	tlsgen_pair("mx.example.org", time(NULL) - 60, NOTAFTER, &c, &k);
	msg_chunks(PROTO_TLS_CERT, c.p, c.n);
	msg_chunks(PROTO_TLS_KEY, k.p, k.n);
	T_EQ_INT(ninstalled, 0);
	msg_bare(PROTO_TLS_END);
	T_EQ_INT(ninstalled, 0);
	t_expect_log("did not arrive whole");
	t_no_log("TLS reload failed");
	tlsgen_free(&c);
	tlsgen_free(&k);
}

/* A key that does not match: the current certificate stays. */
static void
msg_mismatch(void)
{
	struct tlsgen_pem c1, k1, c2, k2;

	tlsgen_pair("one.example.org", time(NULL) - 60, NOTAFTER, &c1, &k1);
	tlsgen_pair("two.example.org", time(NULL) - 60, NOTAFTER, &c2, &k2);
	msg_transfer(&c1, &k2);
	T_EQ_INT(ninstalled, 0);
	t_expect_log("TLS reload failed: ");
	t_expect_log("does not match");
	t_expect_log("keeping the current certificate");
	/* Garbage for a certificate. */
	t_clear_log();
	msg_bare(PROTO_TLS_BEGIN);
	msg_chunks(PROTO_TLS_CERT, "not a certificate\n", 18);
	msg_chunks(PROTO_TLS_KEY, k1.p, k1.n);
	msg_bare(PROTO_TLS_END);
	T_EQ_INT(ninstalled, 0);
	t_expect_log("TLS reload failed: ");
	/* The next good one is taken. */
	msg_transfer(&c1, &k1);
	T_EQ_INT(ninstalled, 1);
	subject_is(installed, "CN=one.example.org");
	installed_free();
	tlsgen_free(&c1);
	tlsgen_free(&k1);
	tlsgen_free(&c2);
	tlsgen_free(&k2);
}

/*
 * A certificate of total bytes: the real one, then blank lines. Exactly
 * TLS_FILE_MAX is taken; one byte more is not.
 */
static void
msg_size(size_t total, int want)
{
	struct tlsgen_pem c, k;
	char *big;

	tlsgen_pair("big.example.org", time(NULL) - 60, NOTAFTER, &c, &k);
	T_ASSERT(total > c.n);
	T_ASSERT((big = malloc(total)) != NULL);
	memcpy(big, c.p, c.n);
	memset(big + c.n, '\n', total - c.n);
	msg_bare(PROTO_TLS_BEGIN);
	msg_chunks(PROTO_TLS_CERT, big, total);
	msg_chunks(PROTO_TLS_KEY, k.p, k.n);
	msg_bare(PROTO_TLS_END);
	T_EQ_INT(ninstalled, want);
	if (want)
		subject_is(installed, "CN=big.example.org");
	else
		t_expect_log("did not arrive whole");
	installed_free();
	free(big);
	tlsgen_free(&c);
	tlsgen_free(&k);
}

static void
too_big(void)
{
	msg_size(TLS_FILE_MAX + 1, 0);
}

static void
at_limit(void)
{
	msg_size(TLS_FILE_MAX, 1);
}

/* A transfer cut by a new BEGIN: only the second one counts. */
static void
restart(void)
{
	struct tlsgen_pem c1, k1, c2, k2;

	tlsgen_pair("first.example.org", time(NULL) - 60, NOTAFTER, &c1,
	    &k1);
	tlsgen_pair("second.example.org", time(NULL) - 60, NOTAFTER, &c2,
	    &k2);
	msg_bare(PROTO_TLS_BEGIN);
	msg_chunks(PROTO_TLS_CERT, c1.p, c1.n);
	msg_chunks(PROTO_TLS_KEY, k1.p, k1.n);
	/* No END: the parent was cut off, and sends again. */
	msg_transfer(&c2, &k2);
	T_EQ_INT(ninstalled, 1);
	/* Had the first bytes stayed, the key would not match. */
	subject_is(installed, "CN=second.example.org");
	t_no_log("TLS reload failed");
	t_no_log("did not arrive whole");
	/* Cut after half the certificate. */
	msg_bare(PROTO_TLS_BEGIN);
	msg_chunks(PROTO_TLS_CERT, c2.p, c2.n / 2);
	msg_transfer(&c1, &k1);
	T_EQ_INT(ninstalled, 2);
	subject_is(installed, "CN=first.example.org");
	installed_free();
	tlsgen_free(&c1);
	tlsgen_free(&k1);
	tlsgen_free(&c2);
	tlsgen_free(&k2);
}

/* One chunk of the certificate whose header count says count bytes. */
static void
lying_chunk(const struct tlsgen_pem *c, const struct tlsgen_pem *k,
    uint32_t count)
{
	uint8_t buf[PROTO_MSG_MAX];
	uint32_t was;
	size_t m;

	msg_bare(PROTO_TLS_BEGIN);
	m = proto_enc_chunk(buf, sizeof(buf), PROTO_TLS_CERT, c->p, c->n);
	T_EQ_INT(m, c->n + 8);
	memcpy(&was, buf + 4, 4);
	T_EQ_INT(was, c->n);
	memcpy(buf + 4, &count, 4);
	tlsload_msg(buf, m, install);
	/* The rest is good, but the transfer is broken. */
	msg_chunks(PROTO_TLS_KEY, k->p, k->n);
	msg_bare(PROTO_TLS_END);
}

static void
bad_count(void)
{
	struct tlsgen_pem c, k;
	const uint8_t shortmsg[3] = { PROTO_TLS_CERT, 0, 0 };
	uint32_t counts[4];
	size_t i;

	tlsgen_pair("mx.example.org", time(NULL) - 60, NOTAFTER, &c, &k);
	counts[0] = (uint32_t)c.n + 1;
	counts[1] = (uint32_t)c.n - 1;
	counts[2] = 0;
	counts[3] = UINT32_MAX;
	for (i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		t_clear_log();
		lying_chunk(&c, &k, counts[i]);
		T_EQ_INT(ninstalled, 0);
		t_expect_log("did not arrive whole");
	}
	/* Less than a header: not a chunk, a message of no known type. */
	t_clear_log();
	msg_bare(PROTO_TLS_BEGIN);
	tlsload_msg(shortmsg, sizeof(shortmsg), install);
	t_expect_log("unexpected message (3 bytes)");
	msg_chunks(PROTO_TLS_CERT, c.p, c.n);
	msg_chunks(PROTO_TLS_KEY, k.p, k.n);
	msg_bare(PROTO_TLS_END);
	T_EQ_INT(ninstalled, 1);
	installed_free();
	/* BEGIN clears the broken state. */
	t_clear_log();
	lying_chunk(&c, &k, (uint32_t)c.n + 1);
	T_EQ_INT(ninstalled, 1);
	t_expect_log("did not arrive whole");
	msg_transfer(&c, &k);
	T_EQ_INT(ninstalled, 2);
	subject_is(installed, "CN=mx.example.org");
	installed_free();
	tlsgen_free(&c);
	tlsgen_free(&k);
}

/* Messages of another type: a line each, and no harm. */
static void
unknown_type(void)
{
	struct tlsgen_pem c, k;
	uint8_t buf[16];
	size_t n;

	n = proto_enc_bare(buf, sizeof(buf), (enum proto_type)200);
	T_EQ_INT(n, 8);
	tlsload_msg(buf, n, install);
	t_expect_log("parent sent an unexpected message (8 bytes)");
	t_clear_log();
	n = proto_enc_bare(buf, sizeof(buf), PROTO_TUPLE);
	tlsload_msg(buf, n, install);
	t_expect_log("unexpected message");
	t_clear_log();
	buf[0] = PROTO_TLS_BEGIN;
	buf[2] = 1;		/* not a header */
	tlsload_msg(buf, 8, install);
	t_expect_log("unexpected message");
	t_clear_log();
	tlsload_msg(buf, 0, install);
	t_expect_log("unexpected message (0 bytes)");
	T_EQ_INT(ninstalled, 0);
	/* A good transfer still works. */
	tlsgen_pair("mx.example.org", time(NULL) - 60, NOTAFTER, &c, &k);
	msg_transfer(&c, &k);
	T_EQ_INT(ninstalled, 1);
	installed_free();
	tlsgen_free(&c);
	tlsgen_free(&k);
}

const struct t_case t_cases[] = {
	T_CASE(files_good),
	T_CASE(files_missing),
	T_CASE(files_mismatch),
	T_CASE(files_dir),
	T_CASE(describe),
	T_CASE(describe_date),
	T_CASE(send_whole),
	T_CASE(send_queued),
	T_CASE(send_unreadable),
	T_CASE(msg_good),
	T_CASE(end_alone),
	T_CASE(chunks_alone),
	T_CASE(msg_mismatch),
	T_CASE(too_big),
	T_CASE(at_limit),
	T_CASE(restart),
	T_CASE(bad_count),
	T_CASE(unknown_type),
	{ NULL, NULL }
};
