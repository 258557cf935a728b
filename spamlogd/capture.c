/*
 * capture.c: libpcap on nflog:GROUP or a savefile, feeding the refresh
 * queue (see capture.h).
 *
 * libpcap cannot compile protocol filters for DLT_NFLOG, so no BPF
 * program is installed: the nft log rules do the selection, and
 * nflog_parse checks every record again.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/addr.h"
#include "common/compat.h"
#include "common/log.h"
#include "common/util.h"
#include "spamlogd/capture.h"
#include "spamlogd/nflog.h"

#define BAD_LOG_EVERY	60	/* s between malformed-record warnings */
#define FILE_BATCH	64	/* savefile records per dispatch */

struct capture {
	struct capture_conf	 c;
	pcap_t			*p;
	int			 file;
	int			 fd;
	unsigned int		 drops;		/* ps_drop already reported */
	struct log_ratelimit	 rl_bad, rl_cut;
};

int
capture_is_file(const char *dev)
{
	return strchr(dev, '/') != NULL;
}

static pcap_t *
open_live(const char *dev, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE];
	pcap_t *p;
	int rc;

	ebuf[0] = '\0';
	if ((p = pcap_create(dev, ebuf)) == NULL) {
		snprintf(err, errlen, "%s: %s", dev, ebuf);
		return NULL;
	}
	if (pcap_set_snaplen(p, CAPTURE_SNAPLEN) != 0 ||
	    pcap_set_buffer_size(p, CAPTURE_BUFSIZE) != 0 ||
	    pcap_set_immediate_mode(p, 1) != 0 ||
	    pcap_set_timeout(p, 100) != 0) {
		snprintf(err, errlen, "%s: cannot set capture options", dev);
		pcap_close(p);
		return NULL;
	}
	if ((rc = pcap_activate(p)) < 0) {
		/* PCAP_ERROR carries its text in pcap_geterr, others not. */
		snprintf(err, errlen, "%s: %s%s%s", dev, pcap_statustostr(rc),
		    *pcap_geterr(p) ? ": " : "", pcap_geterr(p));
		pcap_close(p);
		return NULL;
	}
	if (rc > 0)
		log_warnx("%s: %s: %s", dev, pcap_statustostr(rc),
		    pcap_geterr(p));
	if (pcap_setnonblock(p, 1, ebuf) == -1) {
		snprintf(err, errlen, "%s: %s", dev, ebuf);
		pcap_close(p);
		return NULL;
	}
	return p;
}

struct capture *
capture_open(const struct capture_conf *conf, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE];
	struct capture *c;
	pcap_t *p;
	int file = capture_is_file(conf->dev);

	if (file) {
		if ((p = pcap_open_offline(conf->dev, ebuf)) == NULL) {
			snprintf(err, errlen, "%s", ebuf);
			return NULL;
		}
	} else if ((p = open_live(conf->dev, err, errlen)) == NULL)
		return NULL;
	if (pcap_datalink(p) != DLT_NFLOG) {
		const char *name = pcap_datalink_val_to_name(pcap_datalink(p));

		snprintf(err, errlen, "%s: link type %s, not NFLOG: give "
		    "nflog:GROUP or a capture of one", conf->dev,
		    name != NULL ? name : "unknown");
		pcap_close(p);
		return NULL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(err, errlen, "%s: %s", conf->dev, strerror(errno));
		pcap_close(p);
		return NULL;
	}
	c->c = *conf;
	c->p = p;
	c->file = file;
	c->fd = -1;
	if (!file && (c->fd = pcap_get_selectable_fd(p)) == -1) {
		snprintf(err, errlen, "%s: no selectable descriptor",
		    conf->dev);
		capture_close(c);
		return NULL;
	}
	return c;
}

int
capture_fd(const struct capture *c)
{
	return c->fd;
}

const char *
capture_errstr(struct capture *c)
{
	return pcap_geterr(c->p);
}

void
capture_close(struct capture *c)
{
	if (c == NULL)
		return;
	pcap_close(c->p);
	free(c);
}

static void
record(u_char *arg, const struct pcap_pkthdr *h, const u_char *buf)
{
	struct capture *c = (struct capture *)(void *)arg;
	char s[ADDR_STRLEN], d[ADDR_STRLEN];
	const struct addr *peer;
	struct nflog_pkt pkt;
	const char *why;
	unsigned long n;
	int rc;

	if (h->caplen < h->len &&
	    (n = log_ratelimit(&c->rl_cut, BAD_LOG_EVERY)) != 0)
		log_warnx("NFLOG record cut from %u to %u bytes by the "
		    "capture snaplen (%lu since the last report)", h->len,
		    h->caplen, n);
	rc = nflog_parse(buf, h->caplen, &pkt, &why);
	if (pkt.has_ip) {
		addr_ntop(&pkt.src, s, sizeof(s));
		addr_ntop(&pkt.dst, d, sizeof(d));
	} else {
		strlcpy(s, "?", sizeof(s));
		strlcpy(d, "?", sizeof(d));
	}
	if (rc == NFLOG_BAD) {
		if ((n = log_ratelimit(&c->rl_bad, BAD_LOG_EVERY)) != 0)
			log_warnx("malformed NFLOG record of %u bytes "
			    "(%s -> %s): %s (%lu since the last report)",
			    h->caplen, s, d, why, n);
		return;
	}
	if (rc == NFLOG_SKIP) {
		log_debug("ignored %s -> %s port %u, prefix \"%s\": %s", s, d,
		    pkt.dport, pkt.prefix, why);
		return;
	}
	if (!nflog_on_if(&pkt, c->c.ifindex)) {
		log_debug("ignored %s -> %s: not on interface %s", s, d,
		    c->c.ifname);
		return;
	}
	if (pkt.dir == NFLOG_DIR_OUT && c->c.inbound_only) {
		log_debug("ignored outbound %s -> %s: -I", s, d);
		return;
	}
	peer = nflog_peer(&pkt);
	log_debug("%s %s -> %s: whitelisting %s", nflog_dir_name(pkt.dir),
	    s, d, pkt.dir == NFLOG_DIR_OUT ? d : s);
	(void)refresh_add(c->c.r, peer);
}

int
capture_dispatch(struct capture *c)
{
	int n;

	n = pcap_dispatch(c->p, c->file ? FILE_BATCH : -1, record,
	    (u_char *)(void *)c);
	if (n == PCAP_ERROR_BREAK)
		return 0;
	if (n < 0)
		return -1;
	if (n == 0 && c->file)
		return CAPTURE_EOF;
	return n;
}

void
capture_stats(struct capture *c)
{
	struct pcap_stat st;

	if (c->file || pcap_stats(c->p, &st) == -1)
		return;
	if (st.ps_drop > c->drops) {
		log_warnx("%s: the kernel dropped %u NFLOG records (socket "
		    "buffer full); those hosts were not refreshed",
		    c->c.dev, st.ps_drop - c->drops);
		c->drops = st.ps_drop;
	}
}
