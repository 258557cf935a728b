/*
 * mhttp.c: the metrics endpoint's connections (mhttp.h): read one request
 * within the bounds, answer it from the shared counters, close.
 */
#include <sys/epoll.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "spamd/ev.h"
#include "spamd/metrics.h"
#include "spamd/mhttp.h"

struct hcon {
	struct ev_io	 io;
	struct ev_timer	 tm;
	int		 slot;
	size_t		 inlen;
	char		 in[MHTTP_REQ_MAX + 1];
	char		*out;		/* header and body */
	size_t		 outlen, outoff;
};

static struct ev_listener	 lis;
static struct hcon		*cons[MHTTP_CON_MAX];
static struct metrics_buf	 body;
static struct log_ratelimit	 rl_full;

static void
hcon_close(struct hcon *c)
{
	ev_timer_del(&c->tm);
	if (ev_io_close(&c->io) == -1)
		log_warn("metrics connection: close");
	cons[c->slot] = NULL;
	free(c->out);
	c->out = NULL;
	ev_free_later(c);
}

static void
hcon_timeout(struct ev_timer *t)
{
	hcon_close(EV_CONTAINER(t, struct hcon, tm));
}

/* Write what is left; close when done or broken. */
static void
hcon_write(struct hcon *c)
{
	while (c->outoff < c->outlen) {
		ssize_t n = send(c->io.fd, c->out + c->outoff,
		    c->outlen - c->outoff, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			if (ev_io_mod(&c->io, EPOLLOUT) == -1)
				hcon_close(c);
			return;
		}
		if (n == -1) {
			hcon_close(c);
			return;
		}
		c->outoff += (size_t)n;
	}
	hcon_close(c);
}

static void
hcon_reply(struct hcon *c, const char *status, const char *type,
    const char *text, size_t tlen, int head)
{
	char hdr[256];
	int n;

	n = snprintf(hdr, sizeof(hdr), "HTTP/1.0 %s\r\nContent-Type: %s\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n\r\n", status, type,
	    tlen);
	if (n < 0 || (size_t)n >= sizeof(hdr) ||
	    (c->out = malloc((size_t)n + tlen)) == NULL) {
		hcon_close(c);
		return;
	}
	memcpy(c->out, hdr, (size_t)n);
	if (!head && tlen > 0)
		memcpy(c->out + n, text, tlen);
	c->outlen = (size_t)n + (head ? 0 : tlen);
	c->outoff = 0;
	hcon_write(c);
}

#define TEXT	"text/plain; charset=utf-8"

/* The request line of a complete request. */
static void
hcon_request(struct hcon *c)
{
	char method[8], path[64];
	size_t len;
	int head;

	if (sscanf(c->in, "%7s %63s HTTP/%*d.%*d", method, path) != 2 ||
	    strncmp(strchr(c->in, ' ') + 1 + strlen(path), " HTTP/", 6) != 0) {
		hcon_reply(c, "400 Bad Request", TEXT, "bad request\n", 12, 0);
		return;
	}
	head = strcmp(method, "HEAD") == 0;
	if (!head && strcmp(method, "GET") != 0) {
		METRIC_INC(smtp.http_requests[2]);
		hcon_reply(c, "405 Method Not Allowed", TEXT,
		    "only GET and HEAD\n", 18, 0);
		return;
	}
	if (strcmp(path, "/metrics") == 0) {
		METRIC_INC(smtp.http_requests[0]);
		if ((len = metrics_format(&body)) == 0) {
			hcon_reply(c, "503 Service Unavailable", TEXT,
			    "out of memory\n", 14, head);
			return;
		}
		hcon_reply(c, "200 OK",
		    "text/plain; version=0.0.4; charset=utf-8", body.p, len,
		    head);
	} else if (strcmp(path, "/healthz") == 0) {
		METRIC_INC(smtp.http_requests[1]);
		hcon_reply(c, "200 OK", TEXT, "ok\n", 3, head);
	} else {
		METRIC_INC(smtp.http_requests[2]);
		hcon_reply(c, "404 Not Found", TEXT, "not found\n", 10, head);
	}
}

static void
hcon_read(struct hcon *c)
{
	ssize_t n;

	n = read(c->io.fd, c->in + c->inlen, MHTTP_REQ_MAX - c->inlen);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		hcon_close(c);
		return;
	}
	c->inlen += (size_t)n;
	c->in[c->inlen] = '\0';
	if (memchr(c->in, '\0', c->inlen) != NULL) {
		hcon_reply(c, "400 Bad Request", TEXT, "bad request\n", 12, 0);
		return;
	}
	if (strstr(c->in, "\r\n\r\n") != NULL || strstr(c->in, "\n\n") !=
	    NULL) {
		if (ev_io_mod(&c->io, 0) == -1) {
			hcon_close(c);
			return;
		}
		hcon_request(c);
		return;
	}
	if (c->inlen == MHTTP_REQ_MAX)
		hcon_reply(c, "400 Bad Request", TEXT, "request too large\n",
		    18, 0);
}

static void
hcon_event(struct ev_io *io, uint32_t events)
{
	struct hcon *c = EV_CONTAINER(io, struct hcon, io);

	if (c->out != NULL) {
		if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
			hcon_write(c);
		return;
	}
	hcon_read(c);
}

static void
hcon_new(int fd)
{
	struct hcon *c;
	int i;

	for (i = 0; i < MHTTP_CON_MAX && cons[i] != NULL; i++)
		;
	if (i == MHTTP_CON_MAX || (c = calloc(1, sizeof(*c))) == NULL) {
		unsigned long n;

		close(fd);
		if ((n = log_ratelimit(&rl_full, 10)) != 0)
			log_warnx("metrics endpoint: %d requests at once; "
			    "closed %lu more", MHTTP_CON_MAX, n);
		return;
	}
	c->slot = i;
	if (ev_io_add(&c->io, fd, EPOLLIN, hcon_event) == -1) {
		close(fd);
		free(c);
		return;
	}
	cons[i] = c;
	ev_timer_in(&c->tm, MHTTP_TIMEOUT_MS, hcon_timeout);
}

static void
listener_event(struct ev_io *io, uint32_t events)
{
	int i, fd;

	(void)io;
	(void)events;
	for (i = 0; i < 16 && (fd = ev_accept(&lis, NULL, NULL)) != -1; i++)
		hcon_new(fd);
}

int
mhttp_listen(int fd)
{
	lis.what = "metrics endpoint";
	return ev_io_add(&lis.io, fd, EPOLLIN, listener_event);
}
