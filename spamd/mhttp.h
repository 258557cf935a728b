/*
 * mhttp.h: the metrics endpoint (spamd -m), served by the SMTP process,
 * which holds no privilege and runs under its seccomp filter. Two fixed
 * paths, no HTTP library: GET (or HEAD) /metrics, the Prometheus text
 * exposition of metrics.h, and /healthz, "ok"; 404 for other paths, 405
 * for other methods, 400 for a request that is not HTTP or over
 * MHTTP_REQ_MAX bytes. HTTP/1.0 with an exact Content-Length, then the
 * connection is closed.
 *
 *	mhttp_listen(fd)	serve a listening TCP socket
 *
 * Bounds: MHTTP_CON_MAX requests at once (more are closed at accept), a
 * request must arrive and its answer be read within MHTTP_TIMEOUT_MS.
 * A slow, huge or endless client costs one slot until then, never the
 * SMTP clients' service.
 */
#ifndef MHTTP_H
#define MHTTP_H

#define MHTTP_REQ_MAX		4096
#define MHTTP_CON_MAX		8
#define MHTTP_TIMEOUT_MS	5000

int	mhttp_listen(int);

#endif /* MHTTP_H */
