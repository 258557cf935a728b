/*
 * cfgsend.c: the client side of spamd's configuration sockets (see
 * cfgsend.h).
 *
 * glibc no longer declares bindresvport (it went with Sun RPC), so the
 * reserved port is found here: try 600..1023 from a pseudo-random start,
 * skipping ports in use. EACCES means we lack the privilege, and trying
 * further ports is pointless.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/compat.h"
#include "common/util.h"
#include "spamd-setup/cfgsend.h"

#define RESV_LO	600
#define RESV_HI	1023

int
cfgsend_resvport(int fd, char *err, size_t errlen)
{
	struct sockaddr_in sin;
	unsigned int span = RESV_HI - RESV_LO + 1, start, i;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_ANY);
	start = (unsigned int)((clock_mono_ms() ^ (uint64_t)getpid()) % span);
	for (i = 0; i < span; i++) {
		sin.sin_port = htons((uint16_t)(RESV_LO + (start + i) % span));
		if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0)
			return 0;
		if (errno == EACCES || errno == EPERM) {
			util_errf(err, errlen, "binding a reserved source port: %s "
			    "(spamd only accepts configuration from ports "
			    "below 1024; run spamd-setup as root)",
			    strerror(errno));
			return -1;
		}
		if (errno != EADDRINUSE) {
			util_errf(err, errlen, "bind: %s", strerror(errno));
			return -1;
		}
	}
	util_errf(err, errlen, "no free reserved port in %d..%d", RESV_LO, RESV_HI);
	return -1;
}

/* Write buf to the connected fd, half-close, wait for spamd's close. */
static int
deliver(int fd, const char *buf, size_t len, int want_ack, char *err,
    size_t errlen)
{
	char junk[512], ack[128];
	size_t acklen = 0;
	uint64_t deadline;
	ssize_t r;
	int w;

	/* MSG_NOSIGNAL: a spamd that hangs up is an error, not SIGPIPE */
	if (util_send_all(fd, buf, len) == -1) {
		util_errf(err, errlen, "sending to spamd: %s%s",
		    strerror(errno), errno == EPIPE || errno == ECONNRESET ?
		    " (refused? see spamd's log)" : "");
		return -1;
	}
	if (shutdown(fd, SHUT_WR) == -1) {
		util_errf(err, errlen, "shutdown: %s", strerror(errno));
		return -1;
	}
	/* spamd applies the lines at EOF, then closes: wait for that */
	deadline = clock_mono_ms() + CFGSEND_WAIT * 1000;
	for (;;) {
		if ((w = util_wait_in(fd, deadline)) == 0) {
			util_errf(err, errlen, "spamd did not close the connection "
			    "within %d s; the lists may not be applied yet",
			    CFGSEND_WAIT);
			return -1;
		}
		if (w == -1) {
			util_errf(err, errlen, "poll: %s", strerror(errno));
			return -1;
		}
		r = read(fd, junk, sizeof(junk));
		if (r == 0 || (r == -1 && errno == ECONNRESET))
			break;
		if (r > 0 && acklen < sizeof(ack) - 1) {
			size_t k = (size_t)r < sizeof(ack) - 1 - acklen ?
			    (size_t)r : sizeof(ack) - 1 - acklen;

			memcpy(ack + acklen, junk, k);
			acklen += k;
		}
		if (r == -1 && errno != EINTR && errno != EAGAIN) {
			util_errf(err, errlen, "reading from spamd: %s",
			    strerror(errno));
			return -1;
		}
	}
	if (!want_ack)
		return 0;
	ack[acklen] = '\0';
	if (strncmp(ack, "ok ", 3) != 0) {
		util_errf(err, errlen, "spamd refused the configuration (its "
		    "log says why)");
		return -1;
	}
	return 0;
}

int
cfgsend(uint16_t port, const char *buf, size_t len, char *err, size_t errlen)
{
	struct sockaddr_in sin;
	int fd, rc = -1;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		util_errf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (cfgsend_resvport(fd, err, errlen) == -1)
		goto done;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		util_errf(err, errlen, "connect to spamd at 127.0.0.1:%u: %s%s",
		    port, strerror(errno), errno == ECONNREFUSED ?
		    " (is spamd running?)" : "");
	else
		rc = deliver(fd, buf, len, 0, err, errlen);
done:
	close(fd);
	return rc;
}

int
cfgsend_unix(const char *path, const char *buf, size_t len, char *err,
    size_t errlen)
{
	struct sockaddr_un sun;
	int fd, rc = -1;

	if ((fd = util_unix_socket(path, &sun, err, errlen)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		util_errf(err, errlen, "connect to spamd at %s: %s%s", path,
		    strerror(errno), errno == ENOENT || errno == ECONNREFUSED ?
		    " (is spamd running? an older spamd listens only on TCP: "
		    "--tcp)" : "");
	else
		rc = deliver(fd, buf, len, 1, err, errlen);
	close(fd);
	return rc;
}
