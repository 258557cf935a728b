/*
 * tlsload.c: the STARTTLS certificate and key, from their files to the
 * SMTP process (see tlsload.h).
 *
 * At start spamd reads both files as root, builds the context to check
 * them (a bad file stops spamd with a clear message), and the SMTP
 * process inherits it. At SIGHUP the parent, which runs as the spamd
 * user, reads them again and sends the bytes in chunks; the SMTP process
 * builds the new context in memory, under its sandbox, and swaps it in
 * for new sessions only. A reload that fails keeps the old context: a
 * certificate renewed with a mistake must not stop STARTTLS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/compat.h"
#include "common/log.h"
#include "spamd/chan.h"
#include "spamd/proto.h"
#include "spamd/tls.h"
#include "spamd/tlsload.h"

#define EXPIRY_WARN	(14 * 86400)	/* warn this long before the end */

static void
wipe(char **buf, size_t *len)
{
	if (*buf != NULL) {
		tls_cleanse(*buf, *len);
		free(*buf);
	}
	*buf = NULL;
	*len = 0;
}

/* Both files into memory; -1 with "-C file: why" in err. */
static int
read_both(const char *cert, const char *key, char **cb, size_t *cl,
    char **kb, size_t *kl, char *err, size_t errlen)
{
	char why[256];

	if (tls_file_read(cert, cb, cl, why, sizeof(why)) == -1) {
		(void)snprintf(err, errlen, "-C %s: %s", cert, why);
		return -1;
	}
	if (tls_file_read(key, kb, kl, why, sizeof(why)) == -1) {
		(void)snprintf(err, errlen, "-K %s: %s", key, why);
		wipe(cb, cl);
		return -1;
	}
	return 0;
}

struct tls_ctx *
tlsload_files(const char *cert, const char *key, char *err, size_t errlen)
{
	struct tls_ctx *ctx;
	char *cb, *kb, why[256];
	size_t cl, kl;

	if (read_both(cert, key, &cb, &cl, &kb, &kl, err, errlen) == -1)
		return NULL;
	ctx = tls_ctx_new(cb, cl, kb, kl, why, sizeof(why));
	wipe(&cb, &cl);
	wipe(&kb, &kl);
	if (ctx == NULL)
		(void)snprintf(err, errlen, "-C %s -K %s: %s", cert, key,
		    why);
	return ctx;
}

void
tlsload_describe(const struct tls_ctx *ctx, const char *cert)
{
	char subject[256], when[64];
	time_t end, now = time(NULL);
	struct tm tm;

	if (tls_ctx_info(ctx, subject, sizeof(subject), &end) == -1) {
		log_warnx("STARTTLS with %s: cannot read its subject or "
		    "validity", cert);
		return;
	}
	if (gmtime_r(&end, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		strlcpy(when, "?", sizeof(when));
	if (end <= now)
		log_warnx("STARTTLS with %s (%s): the certificate EXPIRED on "
		    "%s; senders that check it (DANE, MTA-STS) will not "
		    "deliver", cert, subject, when);
	else if (end - now < EXPIRY_WARN)
		log_warnx("STARTTLS with %s (%s): the certificate expires on "
		    "%s", cert, subject, when);
	else
		log_info("STARTTLS with %s (%s), valid until %s", cert,
		    subject, when);
}

/* Send one file in chunks of type t; -1 if the channel refuses one. */
static int
send_chunks(struct chan *ch, enum proto_type t, const char *p, size_t len)
{
	uint8_t buf[PROTO_MSG_MAX];
	size_t off, n, m;
	int rc = 0;

	for (off = 0; off < len && rc == 0; off += n) {
		n = len - off > PROTO_CHUNK_MAX ? PROTO_CHUNK_MAX : len - off;
		m = proto_enc_chunk(buf, sizeof(buf), t, p + off, n);
		rc = m == 0 ? -1 : chan_send(ch, buf, m);
	}
	tls_cleanse(buf, sizeof(buf));
	return rc;
}

int
tlsload_send(struct chan *ch, const char *cert, const char *key)
{
	uint8_t hdr[16];
	char *cb, *kb, err[512];
	size_t cl, kl, n;
	int rc;

	if (read_both(cert, key, &cb, &cl, &kb, &kl, err, sizeof(err)) == -1) {
		log_warnx("SIGHUP: %s (it must be readable by the spamd "
		    "user); keeping the current certificate", err);
		return -1;
	}
	n = proto_enc_bare(hdr, sizeof(hdr), PROTO_TLS_BEGIN);
	rc = chan_send(ch, hdr, n);
	if (rc == 0)
		rc = send_chunks(ch, PROTO_TLS_CERT, cb, cl);
	if (rc == 0)
		rc = send_chunks(ch, PROTO_TLS_KEY, kb, kl);
	n = proto_enc_bare(hdr, sizeof(hdr), PROTO_TLS_END);
	if (rc == 0)
		rc = chan_send(ch, hdr, n);
	wipe(&cb, &cl);
	wipe(&kb, &kl);
	if (rc == -1)
		log_warnx("SIGHUP: cannot send the certificate to the SMTP "
		    "process; keeping the current one");
	return rc;
}

/* The SMTP process's side: the transfer being received. */
static struct {
	char	*cert, *key;
	size_t	 certlen, keylen;
	int	 active, broken;
} rx;

static void
rx_reset(void)
{
	wipe(&rx.cert, &rx.certlen);
	wipe(&rx.key, &rx.keylen);
	rx.active = rx.broken = 0;
}

/* Append a chunk; the total stays within TLS_FILE_MAX. */
static int
rx_append(char **buf, size_t *len, const uint8_t *p, size_t n)
{
	size_t old = *len;
	char *nb;

	if (old + n > TLS_FILE_MAX)
		return -1;
	if ((nb = malloc(old + n + 1)) == NULL)
		return -1;
	if (*buf != NULL)
		memcpy(nb, *buf, old);
	memcpy(nb + old, p, n);
	nb[old + n] = '\0';
	wipe(buf, len);		/* never leave a copy of the key behind */
	*buf = nb;
	*len = old + n;
	return 0;
}

void
tlsload_msg(const uint8_t *buf, size_t len, tlsload_install install)
{
	struct tls_ctx *ctx;
	const uint8_t *p;
	char why[256];
	size_t n;
	int t = proto_type(buf, len);

	switch (t) {
	case PROTO_TLS_BEGIN:
		rx_reset();
		rx.active = 1;
		return;
	case PROTO_TLS_CERT:
	case PROTO_TLS_KEY:
		if (!rx.active || rx.broken)
			return;
		if (proto_dec_chunk(buf, len, &p, &n) == -1 ||
		    (t == PROTO_TLS_CERT ?
		    rx_append(&rx.cert, &rx.certlen, p, n) :
		    rx_append(&rx.key, &rx.keylen, p, n)) == -1) {
			/* Wipe what came now: the END may never come. */
			rx_reset();
			rx.active = rx.broken = 1;
		}
		return;
	case PROTO_TLS_END:
		break;
	default:
		log_warnx("parent sent an unexpected message (%zu bytes)",
		    len);
		return;
	}
	if (!rx.active || rx.broken || rx.cert == NULL || rx.key == NULL) {
		log_warnx("TLS reload: the certificate or key did not arrive "
		    "whole; keeping the current certificate");
		rx_reset();
		return;
	}
	ctx = tls_ctx_new(rx.cert, rx.certlen, rx.key, rx.keylen, why,
	    sizeof(why));
	rx_reset();
	if (ctx == NULL) {
		log_warnx("TLS reload failed: %s; keeping the current "
		    "certificate", why);
		return;
	}
	tlsload_describe(ctx, "the reloaded certificate");
	install(ctx);		/* ctx is install()'s from here */
}
