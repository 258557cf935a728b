/*
 * dns.c: the SPF walk's lookups over glibc's resolver: res_nquery for
 * TXT, A, AAAA and MX, and a strict parse of the answer section
 * (ns_initparse, ns_parserr, dn_expand). See dns.h.
 *
 * Every length inside an answer is checked against the record it sits in:
 * an answer that does not add up is SPF_DNS_FAIL ("malformed"), never a
 * read past the buffer.
 */
#include <sys/types.h>

#include <netinet/in.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <resolv.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/addr.h"
#include "common/log.h"
#include "common/util.h"
#include "spamd-setup/dns.h"
#include "spamd-setup/spf.h"

struct dns {
	struct __res_state	 st;
	unsigned char		*buf;
};

static const ns_type qtypes[] = {
	[SPF_Q_TXT] = ns_t_txt,
	[SPF_Q_A] = ns_t_a,
	[SPF_Q_AAAA] = ns_t_aaaa,
	[SPF_Q_MX] = ns_t_mx,
};

struct dns *
dns_open(void)
{
	struct dns *d = xcalloc(1, sizeof(*d));

	if (res_ninit(&d->st) == -1) {
		log_warnx("resolver: res_ninit failed (is /etc/resolv.conf "
		    "readable?)");
		free(d);
		return NULL;
	}
	d->st.options |= RES_USE_EDNS0;
	d->buf = xmalloc(DNS_ANSWER_MAX);
	return d;
}

void
dns_close(struct dns *d)
{
	if (d == NULL)
		return;
	res_nclose(&d->st);
	free(d->buf);
	free(d);
}

/* A TXT record's character-strings, joined; -1 if they overrun it. */
static int
txt_join(struct spf_answer *ans, const unsigned char *rd, size_t len)
{
	char *s = xmalloc(len + 1);
	size_t p = 0, o = 0, l;

	while (p < len) {
		l = rd[p];
		if (p + 1 + l > len) {
			free(s);
			return -1;
		}
		memcpy(s + o, rd + p + 1, l);
		o += l;
		p += 1 + l;
	}
	spf_answer_txt(ans, s, o);
	free(s);
	return 0;
}

/* One answer record of the type asked for; -1 if malformed. */
static int
take(struct spf_answer *ans, enum spf_qtype t, const ns_msg *msg,
    const ns_rr *rr)
{
	const unsigned char *rd = ns_rr_rdata(*rr);
	size_t len = ns_rr_rdlen(*rr);
	char host[NS_MAXDNAME];
	struct addr a;

	switch (t) {
	case SPF_Q_TXT:
		return txt_join(ans, rd, len);
	case SPF_Q_A:
	case SPF_Q_AAAA:
		memset(&a, 0, sizeof(a));
		a.af = t == SPF_Q_A ? AF_INET : AF_INET6;
		if (len != addr_len(&a))
			return -1;
		memcpy(a.u.b, rd, len);
		spf_answer_addr(ans, &a);
		return 0;
	case SPF_Q_MX:
		if (len < 3 || dn_expand(ns_msg_base(*msg), ns_msg_end(*msg),
		    rd + 2, host, sizeof(host)) < 0)
			return -1;
		if (host[0] != '\0')		/* "." is a null MX */
			spf_answer_name(ans, host);
		return 0;
	}
	return -1;
}

enum spf_dns
dns_resolve(void *arg, const char *name, enum spf_qtype t,
    struct spf_answer *ans, char *err, size_t errlen)
{
	struct dns *d = arg;
	ns_msg msg;
	ns_rr rr;
	int n, i, count, found = 0;

	n = res_nquery(&d->st, name, ns_c_in, qtypes[t], d->buf,
	    DNS_ANSWER_MAX);
	if (n < 0) {
		switch (d->st.res_h_errno) {
		case HOST_NOT_FOUND:
			return SPF_DNS_NXDOMAIN;
		case NO_DATA:
			return SPF_DNS_NODATA;
		case TRY_AGAIN:
			util_errf(err, errlen, "server failure or no answer "
			    "(SERVFAIL or timeout)");
			break;
		case NO_RECOVERY:
			util_errf(err, errlen, "the server refused or could "
			    "not answer (REFUSED, FORMERR or NOTIMP)");
			break;
		default:
			util_errf(err, errlen, "resolver error %d",
			    d->st.res_h_errno);
			break;
		}
		return SPF_DNS_FAIL;
	}
	if (n > DNS_ANSWER_MAX)
		n = DNS_ANSWER_MAX;		/* truncated to the buffer */
	if (ns_initparse(d->buf, n, &msg) == -1)
		goto malformed;
	count = ns_msg_count(msg, ns_s_an);
	for (i = 0; i < count; i++) {
		if (ns_parserr(&msg, ns_s_an, i, &rr) == -1)
			goto malformed;
		if (ns_rr_class(rr) != ns_c_in || ns_rr_type(rr) != qtypes[t])
			continue;		/* CNAME and the like */
		if (take(ans, t, &msg, &rr) == -1)
			goto malformed;
		found++;
	}
	return found > 0 ? SPF_DNS_OK : SPF_DNS_NODATA;
malformed:
	spf_answer_free(ans);
	util_errf(err, errlen, "malformed answer");
	return SPF_DNS_FAIL;
}
