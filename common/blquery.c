/*
 * blquery.c: the blacklist question on spamd's unix configuration socket
 * (see blquery.h): the pure answer builder spamd's SMTP process uses, and
 * the client spamd-nftsync and spamlogd use.
 *
 * The answer is built in memory by a caller that must not block (the
 * SMTP event loop), so blquery_answer only formats; the caller writes it.
 * The client is blocking with socket timeouts: it runs in a cron job or
 * just before an nft push.
 */
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/blquery.h"
#include "common/clock.h"
#include "common/compat.h"
#include "common/util.h"

/* 1 if buf starts with the line s (LF or CRLF ended). */
static int
starts_line(const char *buf, size_t len, const char *s)
{
	size_t n = strlen(s);

	return len >= n + 1 && memcmp(buf, s, n) == 0 && (buf[n] == '\n' ||
	    (buf[n] == '\r' && len > n + 1 && buf[n + 1] == '\n'));
}

int
blquery_is(const char *buf, size_t len)
{
	if (starts_line(buf, len, BLQUERY_LINE))
		return BLQUERY_TEXT;
	if (starts_line(buf, len, BLQUERY_BINLINE))
		return BLQUERY_BINARY;
	return 0;
}

/* A binary record as a cidr; -1 if it is no address or network. */
static int
rec_get(const unsigned char *p, struct cidr *c)
{
	struct addr m;
	size_t full, i;

	memset(c, 0, sizeof(*c));
	if (p[0] == 4)
		c->a.af = AF_INET;
	else if (p[0] == 6)
		c->a.af = AF_INET6;
	else
		return -1;
	full = addr_len(&c->a);
	for (i = full; i < 16; i++)
		if (p[2 + i] != 0)
			return -1;
	if (p[1] == 0 || p[1] > 8 * full)
		return -1;
	memcpy(c->a.u.b, p + 2, full);
	c->plen = p[1];
	m = c->a;
	addr_mask(&m, c->plen);
	return addr_cmp(&m, &c->a) == 0 ? 0 : -1;
}

static void
rec_put(unsigned char *p, const struct cidr *c)
{
	size_t full = addr_len(&c->a);

	memset(p, 0, BLQUERY_REC);
	p[0] = c->a.af == AF_INET ? 4 : 6;
	p[1] = c->plen;
	memcpy(p + 2, c->a.u.b, full);
}

struct out {
	char	*p;
	size_t	 len, cap;
	int	 oom;
};

static void
out_add(struct out *o, const char *s, size_t n)
{
	if (o->oom)
		return;
	if (o->cap - o->len < n + 1) {
		size_t ncap = o->cap ? o->cap * 2 : 4096;
		char *np;

		while (ncap - o->len < n + 1)
			ncap *= 2;
		if ((np = realloc(o->p, ncap)) == NULL) {
			o->oom = 1;
			return;
		}
		o->p = np;
		o->cap = ncap;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = '\0';
}

char *
blquery_answer(const char *buf, size_t len, int (*listed)(const struct cidr *),
    size_t *outlen, size_t *nasked, size_t *nlisted)
{
	struct out o = { NULL, 0, 0, 0 };
	char line[CIDR_STRLEN + 32], ip[CIDR_STRLEN];
	const char *p, *end = buf + len, *nl, *err;
	struct cidr a;
	size_t n = 0, k = 0, l;
	int m, binary = blquery_is(buf, len) == BLQUERY_BINARY;

	p = memchr(buf, '\n', len);
	p = p == NULL ? end : p + 1;
	for (; binary && (size_t)(end - p) >= BLQUERY_REC;
	    p += BLQUERY_REC, n++) {
		if (rec_get((const unsigned char *)p, &a) == -1 ||
		    !listed(&a))
			continue;
		if (a.plen == 8 * addr_len(&a.a))
			addr_ntop(&a.a, ip, sizeof(ip));
		else
			cidr_ntop(&a, ip, sizeof(ip));
		m = snprintf(line, sizeof(line), "%zu %s\n", n, ip);
		out_add(&o, line, (size_t)m);
		k++;
	}
	for (; !binary && p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		l = (size_t)(nl - p);
		if (l > 0 && p[l - 1] == '\r')
			l--;
		if (l == 0)
			continue;
		if (l < sizeof(ip)) {
			memcpy(ip, p, l);
			ip[l] = '\0';
			if (cidr_parse(ip, &a, strchr(ip, '/') != NULL ?
			    CIDR_STRICT | CIDR_NO_ZERO : 0, &err) == 0 &&
			    listed(&a)) {
				m = snprintf(line, sizeof(line), "%zu %s\n", n,
				    ip);
				out_add(&o, line, (size_t)m);
				k++;
			}
		}
		n++;
		if (nl == end)
			break;
	}
	m = snprintf(line, sizeof(line), "end %zu\n", n);
	out_add(&o, line, (size_t)m);
	if (o.oom) {
		free(o.p);
		errno = ENOMEM;
		return NULL;
	}
	*outlen = o.len;
	*nasked = n;
	*nlisted = k;
	return o.p;
}

/* Parse the answer into flag[]; -1 with err. */
static int
parse_answer(char *buf, size_t len, const struct cidr *a, size_t n,
    unsigned char *flag, char *err, size_t errlen)
{
	char *p = buf, *nl, *sp, ip[CIDR_STRLEN];
	const char *errstr, *cerr;
	struct cidr b;
	long long i;

	while (p < buf + len) {
		if ((nl = memchr(p, '\n', (size_t)(buf + len - p))) == NULL)
			break;
		*nl = '\0';
		if (strncmp(p, "end ", 4) == 0) {
			i = strtonum(p + 4, 0, (long long)n, &errstr);
			if (errstr != NULL || (size_t)i != n) {
				util_errf(err, errlen, "spamd read %s of %zu "
				    "addresses", p + 4, n);
				return -1;
			}
			return 0;
		}
		if ((sp = strchr(p, ' ')) == NULL)
			goto bad;
		*sp = '\0';
		i = strtonum(p, 0, n == 0 ? 0 : (long long)n - 1, &errstr);
		if (errstr != NULL || strlcpy(ip, sp + 1, sizeof(ip)) >=
		    sizeof(ip) || cidr_parse(ip, &b, 0, &cerr) == -1 ||
		    addr_cmp(&b.a, &a[i].a) != 0 || b.plen != a[i].plen)
			goto bad;
		flag[i] = 1;
		p = nl + 1;
	}
	util_errf(err, errlen, "spamd closed the connection without an answer "
	    "(refused? see its log)");
	return -1;
bad:
	util_errf(err, errlen, "malformed answer from spamd");
	return -1;
}

int
blquery_start(struct blquery *q, const char *path, const struct cidr *a,
    size_t n, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct timeval tv = { BLQUERY_WAIT, 0 };
	char *req = NULL;
	size_t i, rlen = 0, rcap;
	int fd, rc = -1;

	q->fd = -1;
	q->a = a;
	q->n = n;
	q->deadline = clock_mono_ms() + BLQUERY_WAIT * 1000;
	if ((fd = util_unix_socket(path, &sun, err, errlen)) == -1)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1) {
		util_errf(err, errlen, "setsockopt: %s", strerror(errno));
		goto done;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		if (errno == ENOENT || errno == ECONNREFUSED) {
			rc = BLQUERY_NOSPAMD;
			goto done;
		}
		util_errf(err, errlen, "connect to %s: %s", path,
		    strerror(errno));
		goto done;
	}
	rcap = sizeof(BLQUERY_BINLINE) + 1 + n * (size_t)BLQUERY_REC;
	req = xmalloc(rcap);
	rlen = (size_t)snprintf(req, rcap, "%s\n", BLQUERY_BINLINE);
	for (i = 0; i < n; i++, rlen += BLQUERY_REC)
		rec_put((unsigned char *)req + rlen, &a[i]);
	if (util_send_all(fd, req, rlen) == -1) {
		util_errf(err, errlen, "sending the question: %s",
		    errno == EAGAIN ? "timed out" : strerror(errno));
		goto done;
	}
	if (shutdown(fd, SHUT_WR) == -1) {
		util_errf(err, errlen, "shutdown: %s", strerror(errno));
		goto done;
	}
	q->fd = fd;
	fd = -1;
	rc = 0;
done:
	free(req);
	if (fd != -1)
		close(fd);
	return rc;
}

int
blquery_finish(struct blquery *q, unsigned char *flag, char *err,
    size_t errlen)
{
	char *ans;
	size_t alen = 0, acap = 4096;
	ssize_t r;
	int fd = q->fd, rc = -1;

	memset(flag, 0, q->n);
	if (fd == -1) {
		util_errf(err, errlen, "no question was sent");
		return -1;
	}
	q->fd = -1;
	/* The wait for the answer starts now: the asker may have worked
	 * for a while since it sent the question. */
	q->deadline = clock_mono_ms() + BLQUERY_WAIT * 1000;
	ans = xmalloc(acap);
	for (;;) {
		if (clock_mono_ms() >= q->deadline) {
			util_errf(err, errlen, "no answer within %d s",
			    BLQUERY_WAIT);
			goto done;
		}
		if (alen == acap) {
			acap *= 2;
			ans = xreallocarray(ans, acap, 1);
		}
		if ((r = recv(fd, ans + alen, acap - alen, 0)) == -1) {
			if (errno == EINTR)
				continue;
			if (errno == ECONNRESET)
				break;	/* refused: parse_answer says so */
			util_errf(err, errlen, "reading the answer: %s",
			    errno == EAGAIN ? "timed out" : strerror(errno));
			goto done;
		}
		if (r == 0)
			break;
		alen += (size_t)r;
	}
	rc = parse_answer(ans, alen, q->a, q->n, flag, err, errlen);
	if (rc == -1)
		memset(flag, 0, q->n);
done:
	free(ans);
	close(fd);
	return rc;
}

void
blquery_cancel(struct blquery *q)
{
	if (q->fd != -1)
		close(q->fd);
	q->fd = -1;
}

int
blquery_ask(const char *path, const struct cidr *a, size_t n,
    unsigned char *flag, char *err, size_t errlen)
{
	struct blquery q;
	int rc;

	memset(flag, 0, n);
	if ((rc = blquery_start(&q, path, a, n, err, errlen)) != 0)
		return rc;
	return blquery_finish(&q, flag, err, errlen);
}
