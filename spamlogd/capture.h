/*
 * capture.h: spamlogd's packet source, libpcap on "nflog:GROUP" or a
 * DLT_NFLOG savefile, and what happens to each record it delivers.
 *
 *	capture_open(conf, err, errlen)	open and activate the device (needs
 *		CAP_NET_ADMIN for nflog), or open a savefile when the name
 *		contains a '/'. NULL with a message in err on failure.
 *	capture_fd(c)		descriptor to poll, -1 for a savefile
 *	capture_dispatch(c)	handle the records that are ready: a count,
 *		CAPTURE_EOF at the end of a savefile, or -1 on a capture
 *		error (capture_errstr says which)
 *	capture_errstr(c)	the last libpcap error
 *	capture_stats(c)	log records the kernel dropped since last time
 *	capture_is_file(dev)	1 if dev names a savefile
 *	capture_close(c)
 *
 * Each record goes through nflog_parse, then the -i and -I filters; a
 * connection opening is queued with refresh_add. Records that are not
 * openings are logged at debug level (per-packet noise); malformed
 * records are logged as warnings, at most once a minute with a count,
 * because they mean a kernel or ruleset problem the admin must see.
 *
 * The snaplen is 65535: libpcap reads the kernel's NFLOG batches into a
 * buffer of snaplen + 128 bytes, and a small one silently loses every
 * record of a batch but the first (linux-libraries.md §3).
 */
#ifndef CAPTURE_H
#define CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#include "spamlogd/refresh.h"

#define CAPTURE_SNAPLEN		65535
#define CAPTURE_BUFSIZE		(1024 * 1024)	/* SO_RCVBUF, capped by rmem_max */
#define CAPTURE_EOF		(-2)

struct capture_conf {
	const char	*dev;		/* "nflog:25" or a savefile path */
	unsigned int	 ifindex;	/* -i: 0 for any interface */
	const char	*ifname;	/* -i, for log lines */
	int		 inbound_only;	/* -I */
	struct refresh	*r;
};

struct capture;

struct capture	*capture_open(const struct capture_conf *, char *, size_t);
int		 capture_fd(const struct capture *);
int		 capture_dispatch(struct capture *);
const char	*capture_errstr(struct capture *);
void		 capture_stats(struct capture *);
int		 capture_is_file(const char *);
void		 capture_close(struct capture *);

#endif /* CAPTURE_H */
