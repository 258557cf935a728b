/*
 * t_sync.c: the sync sockets and rules (spamd/sync.c): -Y and --sync-peer
 * target parsing, the key file, what goes to which target (version 2 to
 * -Y targets, IPv4 only; the extension to --sync-peer hosts, with rising
 * sequence numbers; hellos; catch-up batches), and the receive path's
 * rules (timestamp skew, MAC, replay window, our own datagrams, hellos).
 *
 * Sending is checked against a UDP socket of the test's own on 127.0.0.1
 * port 0. Receiving needs the -y socket on 127.0.0.1 port 8025: when that
 * is taken, the receive case is skipped with a line saying so.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/addr.h"
#include "common/clock.h"
#include "common/log.h"
#include "spamd/ev.h"
#include "spamd/sync.h"
#include "spamd/syncmsg.h"
#include "tests/unit/harness.h"

#define KEYFILE		"sharedsecret\n"
#define HEXKEY		"57aa69a724d6f76ec67caf9b3f740736f3ba81a1"
#define OTHERKEY	"0123456789abcdef0123456789abcdef01234567"
#define IDENT		"mx1.example.org"
#define SENTINEL	"198.51.100.99"

/* A UDP socket on addr port 0; its port in *port. */
static int
udp_bound(const char *addr, uint16_t *port)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	struct addr a;
	int fd;

	T_EQ_INT(addr_parse(addr, &a), 0);
	T_EQ_INT(addr_to_sockaddr(&a, 0, &ss, &sl), 0);
	T_ASSERT((fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0)) !=
	    -1);
	if (bind(fd, (struct sockaddr *)&ss, sl) == -1) {
		close(fd);
		return -1;
	}
	sl = sizeof(ss);
	T_EQ_INT(getsockname(fd, (struct sockaddr *)&ss, &sl), 0);
	T_EQ_INT(addr_from_sockaddr((struct sockaddr *)&ss, &a, port), 0);
	T_ASSERT(*port != 0);
	return fd;
}

/* One datagram from fd within ms milliseconds: its length, or -1. */
static ssize_t
recv_within(int fd, uint8_t *buf, size_t size, int ms)
{
	struct pollfd p;

	p.fd = fd;
	p.events = POLLIN;
	p.revents = 0;
	if (poll(&p, 1, ms) != 1)
		return -1;
	return recv(fd, buf, size, MSG_DONTWAIT);
}

/* fd must have nothing to read (loopback delivery is immediate). */
static void
expect_nothing(int fd)
{
	uint8_t buf[SYNCMSG_MAX_DGRAM + 1];

	T_EQ_INT(recv_within(fd, buf, sizeof(buf), 100), -1);
}

static void
write_file(const char *path, const void *p, size_t n)
{
	int fd;

	T_ASSERT((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) != -1);
	T_EQ_INT(write(fd, p, n), (ssize_t)n);
	T_EQ_INT(close(fd), 0);
}

static void
key_shared(struct sync *s)
{
	char err[256] = "";

	write_file(t_path("spamd.key"), KEYFILE, strlen(KEYFILE));
	T_EQ_INT(sync_key(s, t_path("spamd.key"), err, sizeof(err)), 0);
}

static void
grey(struct syncmsg_entry *e, const char *ip, int64_t ts)
{
	memset(e, 0, sizeof(*e));
	e->kind = SYNCMSG_GREY;
	T_EQ_INT(addr_parse(ip, &e->ip), 0);
	e->timestamp = ts;
	strlcpy(e->helo, "mail.example.net", sizeof(e->helo));
	strlcpy(e->from, "<a@example.net>", sizeof(e->from));
	strlcpy(e->to, "<b@example.org>", sizeof(e->to));
}

static void
white(struct syncmsg_entry *e, const char *ip, int64_t ts)
{
	memset(e, 0, sizeof(*e));
	e->kind = SYNCMSG_WHITE;
	T_EQ_INT(addr_parse(ip, &e->ip), 0);
	e->timestamp = ts;
	e->expire = ts + 36 * 86400;
}

static void
expect_entry(const struct syncmsg_entry *got, const struct syncmsg_entry *want)
{
	T_EQ_INT(got->kind, want->kind);
	T_EQ_INT(addr_cmp(&got->ip, &want->ip), 0);
	T_EQ_INT(got->timestamp, want->timestamp);
	T_EQ_INT(got->expire, want->expire);
	T_EQ_STR(got->helo, want->helo);
	T_EQ_STR(got->from, want->from);
	T_EQ_STR(got->to, want->to);
}

/* Receive one datagram on fd and decode it with key: entries into e. */
static struct syncmsg_hdr
recv_dec(int fd, const char *key, struct syncmsg_entry *e, size_t max,
    size_t *n)
{
	uint8_t buf[SYNCMSG_MAX_DGRAM + 1];
	struct syncmsg_hdr h;
	const char *why = NULL;
	ssize_t len;

	memset(&h, 0, sizeof(h));
	T_ASSERT((len = recv_within(fd, buf, sizeof(buf), 2000)) > 0);
	T_ASSERT((size_t)len <= SYNCMSG_MAX_DGRAM);
	T_EQ_INT(syncmsg_dec(buf, (size_t)len, key, e, max, n, &why, &h),
	    SYNCMSG_OK);
	return h;
}

static uint64_t
node_id(const char *ident, int role)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *ident != '\0'; ident++)
		h = (h ^ (unsigned char)*ident) * 1099511628211ULL;
	return h ^ (uint64_t)role;
}

static struct sync *
new_sync(void)
{
	struct sync *s;

	T_ASSERT((s = sync_new(SYNC_ROLE_GREY, IDENT)) != NULL);
	return s;
}

static void
free_sync(struct sync *s)
{
	sync_close(s);
	free(s);		/* sync.h has no sync_free */
}

static void
add_target(struct sync *s, const char *spec, int ext)
{
	char err[256] = "";

	if (sync_target(s, spec, ext, err, sizeof(err)) != 0)
		t_fail("sync_target %s ext %d: %s", spec, ext, err);
}

static void
expect_bad_target(struct sync *s, const char *spec, int ext, const char *why)
{
	char err[256] = "";

	T_EQ_INT(sync_target(s, spec, ext, err, sizeof(err)), -1);
	T_ASSERT(err[0] != '\0');
	if (why != NULL && strstr(err, why) == NULL)
		t_fail("sync_target %s: \"%s\", expected \"%s\"", spec, err,
		    why);
}

static void
targets_parse(void)
{
	struct sync *s = new_sync();
	char err[256] = "";

	T_EQ_INT(sync_active(NULL), 0);
	T_EQ_INT(sync_active(s), 0);
	add_target(s, "192.0.2.1", 0);
	T_EQ_INT(sync_active(s), 1);
	add_target(s, "192.0.2.1:9000", 0);
	add_target(s, "[2001:db8::1]:8025", 1);
	add_target(s, "2001:db8::1", 1);	/* bare IPv6: port 8025 */
	add_target(s, "192.0.2.2:9000", 1);
	add_target(s, "localhost", 0);
	add_target(s, "localhost", 1);
	/* Neither a host nor an interface. */
	expect_bad_target(s, "no-such-host.invalid", 0, NULL);
	expect_bad_target(s, "no-such-host.invalid", 1, NULL);
	/* -Y takes IPv4 only: a bare IPv6 address is no -Y target. */
	expect_bad_target(s, "2001:db8::1", 0, NULL);
	/* Malformed brackets. */
	expect_bad_target(s, "[2001:db8::1", 1, NULL);
	expect_bad_target(s, "[2001:db8::1]x", 1, NULL);
	T_ASSERT(sync_open(s, err, sizeof(err)) == 0);
	free_sync(s);
}

static void
targets_interface(void)
{
	struct sync *s = new_sync();
	char err[256] = "";

	/* -Y interface[:ttl]: the multicast group out of that interface;
	 * bad ttls are refused before they change anything. */
	expect_bad_target(s, "lo:0", 0, "ttl");
	expect_bad_target(s, "lo:300", 0, "ttl");
	expect_bad_target(s, "lo:x", 0, "ttl");
	/* a name that is neither a host nor an interface: the lookup's error */
	expect_bad_target(s, "nosuch.invalid:8025", 0, NULL);
	add_target(s, "lo:5", 0);
	T_EQ_INT(sync_active(s), 1);
	/* One multicast interface per daemon. */
	expect_bad_target(s, "lo", 0, "one multicast interface");
	/* --sync-peer takes no interface. */
	expect_bad_target(s, "lo", 1, NULL);
	if (sync_open(s, err, sizeof(err)) != 0)
		t_fail("sync_open with a multicast target: %s", err);
	free_sync(s);
	s = new_sync();
	add_target(s, "lo", 0);
	free_sync(s);
	s = new_sync();
	add_target(s, "lo:255", 0);
	free_sync(s);
}

static void
targets_max(void)
{
	struct sync *s = new_sync();
	char spec[32];
	int i;

	for (i = 0; i < SYNC_TARGETS_MAX; i++) {
		snprintf(spec, sizeof(spec), "192.0.2.%d", i + 1);
		add_target(s, spec, i % 2);
	}
	expect_bad_target(s, "192.0.2.100", 0, "more than");
	expect_bad_target(s, "192.0.2.100", 1, "more than");
	expect_bad_target(s, "lo", 0, "more than");
	T_EQ_INT(sync_active(s), 1);
	free_sync(s);
}

/* A sync sending to a -Y target (ext 0) or a --sync-peer (ext 1) on fd. */
static struct sync *
sender(int ext, int *fd)
{
	struct sync *s = new_sync();
	char spec[64], err[256] = "";
	uint16_t port;

	T_ASSERT((*fd = udp_bound("127.0.0.1", &port)) != -1);
	snprintf(spec, sizeof(spec), "127.0.0.1:%u", (unsigned int)port);
	add_target(s, spec, ext);
	key_shared(s);
	if (sync_open(s, err, sizeof(err)) != 0)
		t_fail("sync_open: %s", err);
	return s;
}

static void
key_file(void)
{
	struct syncmsg_entry in, out[2];
	struct syncmsg_hdr h;
	struct sync *s;
	size_t n = 0;
	int fd;

	s = sender(0, &fd);		/* sender() read "sharedsecret\n" */
	grey(&in, "192.0.2.10", clock_now());
	sync_send(s, &in);
	h = recv_dec(fd, HEXKEY, out, 2, &n);
	T_EQ_INT(n, 1);
	expect_entry(&out[0], &in);
	(void)h;
	/* The same datagram does not verify with another key. */
	{
		uint8_t buf[SYNCMSG_MAX_DGRAM + 1];
		const char *why = NULL;
		ssize_t len;

		sync_send(s, &in);
		T_ASSERT((len = recv_within(fd, buf, sizeof(buf), 2000)) > 0);
		T_EQ_INT(syncmsg_dec(buf, (size_t)len, "", out, 2, &n, &why,
		    &h), SYNCMSG_BAD_MAC);
		T_EQ_STR(why, "bad mac");
		T_EQ_INT(syncmsg_dec(buf, (size_t)len, HEXKEY, out, 2, &n, &why,
		    &h), SYNCMSG_OK);
	}
	free_sync(s);
	close(fd);
}

static void
key_missing(void)
{
	struct syncmsg_entry in, out[2];
	struct sync *s = new_sync();
	char spec[64], err[256] = "";
	uint16_t port;
	size_t n = 0;
	int fd;

	T_EQ_INT(sync_key(s, t_path("nonexistent.key"), err, sizeof(err)), 0);
	t_expect_log("empty key");
	t_expect_log("nonexistent.key");
	/* What it sends verifies with the empty key. */
	T_ASSERT((fd = udp_bound("127.0.0.1", &port)) != -1);
	snprintf(spec, sizeof(spec), "127.0.0.1:%u", (unsigned int)port);
	add_target(s, spec, 1);
	T_EQ_INT(sync_open(s, err, sizeof(err)), 0);
	grey(&in, "2001:db8::10", clock_now());
	sync_send(s, &in);
	(void)recv_dec(fd, "", out, 2, &n);
	T_EQ_INT(n, 1);
	expect_entry(&out[0], &in);
	free_sync(s);
	close(fd);
}

static void
key_bad(void)
{
	struct sync *s = new_sync();
	char err[256] = "", *big;
	size_t max = 64 * 1024;

	/* A directory opens but does not read. */
	T_EQ_INT(mkdir(t_path("keydir"), 0700), 0);
	T_EQ_INT(sync_key(s, t_path("keydir"), err, sizeof(err)), -1);
	T_ASSERT(strstr(err, "keydir") != NULL);
	/* Larger than 64 KiB. */
	T_ASSERT((big = malloc(max + 1)) != NULL);
	memset(big, 'k', max + 1);
	write_file(t_path("big.key"), big, max + 1);
	err[0] = '\0';
	T_EQ_INT(sync_key(s, t_path("big.key"), err, sizeof(err)), -1);
	T_ASSERT(strstr(err, "larger than") != NULL);
	/* Just under the limit is fine, and so is an empty file. */
	write_file(t_path("ok.key"), big, max - 1);
	T_EQ_INT(sync_key(s, t_path("ok.key"), err, sizeof(err)), 0);
	write_file(t_path("empty.key"), "", 0);
	T_EQ_INT(sync_key(s, t_path("empty.key"), err, sizeof(err)), 0);
	t_no_log("empty key");		/* an empty file is no missing file */
	free(big);
	free_sync(s);
}

static void
send_v2_target(void)
{
	struct syncmsg_entry in, out[2];
	struct syncmsg_hdr h;
	struct sync *s;
	size_t n = 0;
	int fd;

	s = sender(0, &fd);
	T_EQ_INT(sync_active(s), 1);
	grey(&in, "192.0.2.10", clock_now());
	sync_send(s, &in);
	h = recv_dec(fd, HEXKEY, out, 2, &n);
	T_EQ_INT(h.version, SYNCMSG_VERSION);
	T_EQ_INT(h.counter, 0);
	T_EQ_INT(n, 1);
	expect_entry(&out[0], &in);
	/* The counter rises. */
	white(&in, "192.0.2.11", clock_now());
	sync_send(s, &in);
	h = recv_dec(fd, HEXKEY, out, 2, &n);
	T_EQ_INT(h.version, SYNCMSG_VERSION);
	T_EQ_INT(h.counter, 1);
	T_EQ_INT(n, 1);
	expect_entry(&out[0], &in);
	/* No IPv6 to a -Y target. */
	grey(&in, "2001:db8::10", clock_now());
	sync_send(s, &in);
	expect_nothing(fd);
	/* Nor a hello: -Y targets do not speak the extension. */
	sync_hello(s);
	expect_nothing(fd);
	t_no_log("sync:");
	free_sync(s);
	close(fd);
}

static void
send_ext_peer(void)
{
	struct syncmsg_entry in, out[2];
	struct syncmsg_hdr h;
	struct sync *s;
	uint64_t seq, boot;
	size_t n = 0;
	int fd;

	s = sender(1, &fd);
	grey(&in, "192.0.2.10", clock_now());
	sync_send(s, &in);
	h = recv_dec(fd, HEXKEY, out, 2, &n);
	T_EQ_INT(h.version, SYNCMSG_VERSION_EXT);
	T_ASSERT(h.node == node_id(IDENT, SYNC_ROLE_GREY));
	T_ASSERT(h.boot != 0);
	T_EQ_INT(n, 1);
	expect_entry(&out[0], &in);
	seq = h.seq;
	boot = h.boot;
	/* IPv6 too, with the next sequence number. */
	grey(&in, "2001:db8::10", clock_now());
	sync_send(s, &in);
	h = recv_dec(fd, HEXKEY, out, 2, &n);
	T_EQ_INT(h.version, SYNCMSG_VERSION_EXT);
	T_ASSERT(h.seq == seq + 1);
	T_ASSERT(h.boot == boot);
	T_EQ_INT(n, 1);
	expect_entry(&out[0], &in);
	white(&in, "2001:db8::11", clock_now());
	sync_send(s, &in);
	h = recv_dec(fd, HEXKEY, out, 2, &n);
	T_ASSERT(h.seq == seq + 2);
	expect_entry(&out[0], &in);
	/* A hello: an empty extension datagram, the next sequence. */
	sync_hello(s);
	h = recv_dec(fd, HEXKEY, out, 2, &n);
	T_EQ_INT(h.version, SYNCMSG_VERSION_EXT);
	T_ASSERT(h.seq == seq + 3);
	T_EQ_INT(n, 0);
	expect_nothing(fd);
	free_sync(s);
	close(fd);
}

/* A sync with a -Y target (index 0) and a --sync-peer (index 1). */
static struct sync *
sender2(int *fdy, int *fdp)
{
	struct sync *s = new_sync();
	char spec[64], err[256] = "";
	uint16_t port;

	T_ASSERT((*fdy = udp_bound("127.0.0.1", &port)) != -1);
	snprintf(spec, sizeof(spec), "127.0.0.1:%u", (unsigned int)port);
	add_target(s, spec, 0);
	T_ASSERT((*fdp = udp_bound("127.0.0.1", &port)) != -1);
	snprintf(spec, sizeof(spec), "127.0.0.1:%u", (unsigned int)port);
	add_target(s, spec, 1);
	key_shared(s);
	if (sync_open(s, err, sizeof(err)) != 0)
		t_fail("sync_open: %s", err);
	return s;
}

static void
send_mixed(void)
{
	struct syncmsg_entry in, out[2];
	struct syncmsg_hdr h;
	struct sync *s;
	size_t n = 0;
	int fdy, fdp;

	s = sender2(&fdy, &fdp);
	/* IPv4: each target in its own version. */
	grey(&in, "192.0.2.10", clock_now());
	sync_send(s, &in);
	h = recv_dec(fdy, HEXKEY, out, 2, &n);
	T_EQ_INT(h.version, SYNCMSG_VERSION);
	expect_entry(&out[0], &in);
	h = recv_dec(fdp, HEXKEY, out, 2, &n);
	T_EQ_INT(h.version, SYNCMSG_VERSION_EXT);
	expect_entry(&out[0], &in);
	/* IPv6: the --sync-peer only. */
	grey(&in, "2001:db8::10", clock_now());
	sync_send(s, &in);
	h = recv_dec(fdp, HEXKEY, out, 2, &n);
	T_EQ_INT(h.version, SYNCMSG_VERSION_EXT);
	expect_entry(&out[0], &in);
	expect_nothing(fdy);
	/* The hello goes to the --sync-peer only. */
	sync_hello(s);
	h = recv_dec(fdp, HEXKEY, out, 2, &n);
	T_EQ_INT(h.version, SYNCMSG_VERSION_EXT);
	T_EQ_INT(n, 0);
	expect_nothing(fdy);
	expect_nothing(fdp);
	free_sync(s);
	close(fdy);
	close(fdp);
}

static void
send_to_peer(void)
{
	struct syncmsg_entry in[3], out[4];
	struct syncmsg_hdr h;
	struct sync *s;
	uint64_t seq;
	size_t n = 0, i;
	int fdy, fdp;

	s = sender2(&fdy, &fdp);
	grey(&in[0], "192.0.2.10", clock_now());
	white(&in[1], "2001:db8::11", clock_now());
	white(&in[2], "192.0.2.12", clock_now());
	in[2].kind = SYNCMSG_TRAPPED;
	T_EQ_INT(sync_send_to(s, 1, in, 3), 0);
	h = recv_dec(fdp, HEXKEY, out, 4, &n);
	T_EQ_INT(h.version, SYNCMSG_VERSION_EXT);
	T_EQ_INT(n, 3);
	for (i = 0; i < 3; i++)
		expect_entry(&out[i], &in[i]);
	seq = h.seq;
	expect_nothing(fdp);		/* one datagram */
	expect_nothing(fdy);		/* to that peer only */
	/* Nothing to send: nothing sent. */
	T_EQ_INT(sync_send_to(s, 1, in, 0), 0);
	expect_nothing(fdp);
	/* The sequence goes on from there. */
	T_EQ_INT(sync_send_to(s, 1, in, 1), 0);
	h = recv_dec(fdp, HEXKEY, out, 4, &n);
	T_EQ_INT(n, 1);
	T_ASSERT(h.seq > seq);
	free_sync(s);
	close(fdy);
	close(fdp);
}

/* --sync-peer [::1]:port: the bracket form's port is used. */
static void
send_ipv6_peer(void)
{
	struct syncmsg_entry in, out[2];
	struct syncmsg_hdr h;
	struct sync *s;
	char spec[64], err[256] = "";
	uint16_t port;
	size_t n = 0;
	int fd;

	if ((fd = udp_bound("::1", &port)) == -1) {
		printf("  skip send_ipv6_peer: cannot bind ::1: %s\n",
		    strerror(errno));
		return;
	}
	s = new_sync();
	snprintf(spec, sizeof(spec), "[::1]:%u", (unsigned int)port);
	add_target(s, spec, 1);
	key_shared(s);
	T_EQ_INT(sync_open(s, err, sizeof(err)), 0);
	grey(&in, "2001:db8::10", clock_now());
	sync_send(s, &in);
	h = recv_dec(fd, HEXKEY, out, 2, &n);
	T_EQ_INT(h.version, SYNCMSG_VERSION_EXT);
	T_EQ_INT(n, 1);
	expect_entry(&out[0], &in);
	free_sync(s);
	close(fd);
}

static void
close_harmless(void)
{
	struct syncmsg_entry e;
	struct sync *s = new_sync();

	sync_close(s);
	sync_close(s);
	sync_close(NULL);
	T_EQ_INT(sync_active(s), 0);
	grey(&e, "192.0.2.10", clock_now());
	sync_send(s, &e);		/* no targets: nothing */
	sync_send(NULL, &e);
	sync_hello(s);
	sync_hello(NULL);
	T_EQ_INT(sync_start(s, NULL, NULL, NULL), 0);	/* no -y socket */
	/* Targets but no sockets (sync_open not called): nothing sent. */
	add_target(s, "127.0.0.1:9", 1);
	T_EQ_INT(sync_active(s), 1);
	sync_send(s, &e);
	sync_hello(s);
	T_EQ_INT(sync_send_to(s, 0, &e, 1), 0);
	sync_close(s);
	free(s);
}

/*
 * The receive path. The test sends from its own socket on 127.0.0.1 to
 * the -y socket on 127.0.0.1:8025, each datagram under test followed by a
 * valid version 2 "sentinel" entry (198.51.100.99): datagrams from one
 * socket arrive in order, so once the sentinel is delivered the datagram
 * before it has been handled. The clock is frozen so that it can jump 61 s
 * between refusals, past sync.c's log rate limit.
 */
static struct {
	int			 n, sentinels, hellos, hello_peer;
	int			 ext[8];
	struct syncmsg_entry	 e[8];
} rx;

static void
on_recv(void *arg, const struct syncmsg_entry *e, int ext)
{
	struct addr sen;

	T_ASSERT(arg == &rx);
	T_EQ_INT(addr_parse(SENTINEL, &sen), 0);
	if (addr_cmp(&e->ip, &sen) == 0) {
		T_EQ_INT(ext, 0);
		rx.sentinels++;
		return;
	}
	T_ASSERT(rx.n < 8);
	rx.ext[rx.n] = ext;
	rx.e[rx.n++] = *e;
}

static void
on_hello(void *arg, int peer)
{
	T_ASSERT(arg == &rx);
	rx.hellos++;
	rx.hello_peer = peer;
}

static void
stop(struct ev_timer *t)
{
	(void)t;
	ev_break();
}

static void
send_raw(int fd, const uint8_t *buf, size_t len)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(SYNCMSG_PORT);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	T_EQ_INT(sendto(fd, buf, len, 0, (struct sockaddr *)&sin,
	    sizeof(sin)), (ssize_t)len);
}

/* Send buf, then the sentinel, and run the loop until it is delivered. */
static void
deliver(int fd, const uint8_t *buf, size_t len)
{
	struct syncmsg_entry e;
	struct ev_timer t;
	uint8_t sen[SYNCMSG_MAX_DGRAM];
	size_t n;
	int want = rx.sentinels + 1, i;

	t_clear_log();
	send_raw(fd, buf, len);
	grey(&e, SENTINEL, clock_now());
	T_ASSERT((n = syncmsg_enc_v2(sen, sizeof(sen), 77, HEXKEY, &e, 1)) > 0);
	send_raw(fd, sen, n);
	memset(&t, 0, sizeof(t));
	for (i = 0; i < 1000 && rx.sentinels < want; i++) {
		/* Due now (the clock is frozen): one pass of the loop. */
		ev_timer_in(&t, 0, stop);
		ev_run();
		if (rx.sentinels < want)
			usleep(2000);
	}
	T_EQ_INT(rx.sentinels, want);
	T_EQ_INT(ev_timer_armed(&t), 0);
}

/* Is 127.0.0.1:8025 free? Probed without SO_REUSEADDR. */
static int
port_free(void)
{
	struct sockaddr_in sin;
	int fd, ok;

	T_ASSERT((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) != -1);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(SYNCMSG_PORT);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0;
	close(fd);
	return ok;
}

static void
receive_path(void)
{
	struct syncmsg_entry e[2];
	struct syncmsg_hdr h;
	struct sync *s;
	uint8_t buf[SYNCMSG_MAX_DGRAM + 1];
	char spec[64], err[256] = "";
	uint16_t port;
	ssize_t got;
	size_t n;
	int fd, fd2;

	if (!port_free()) {
		printf("  skip receive_path: 127.0.0.1:%d is in use\n",
		    SYNCMSG_PORT);
		log_info("t_sync: 127.0.0.1:%d in use: receive_path skipped",
		    SYNCMSG_PORT);
		return;
	}
	clock_fake_set(time(NULL));
	ev_init();
	memset(&rx, 0, sizeof(rx));
	rx.hello_peer = -1;
	T_ASSERT((fd = udp_bound("127.0.0.1", &port)) != -1);
	s = new_sync();
	add_target(s, "192.0.2.7", 0);			/* index 0 */
	snprintf(spec, sizeof(spec), "127.0.0.1:%u", (unsigned int)port);
	add_target(s, spec, 1);				/* index 1: fd */
	key_shared(s);
	if (sync_listen(s, "127.0.0.1", err, sizeof(err)) != 0) {
		printf("  skip receive_path: sync_listen: %s\n", err);
		log_info("t_sync: sync_listen: %s: receive_path skipped", err);
		free_sync(s);
		close(fd);
		clock_fake_off();
		return;
	}
	T_EQ_INT(sync_open(s, err, sizeof(err)), 0);
	T_EQ_INT(sync_start(s, on_recv, on_hello, &rx), 0);

	/* A valid version 2 datagram: delivered, ext 0. */
	grey(&e[0], "192.0.2.20", clock_now());
	T_ASSERT((n = syncmsg_enc_v2(buf, sizeof(buf), 1, HEXKEY, e, 1)) > 0);
	deliver(fd, buf, n);
	T_EQ_INT(rx.n, 1);
	T_EQ_INT(rx.ext[0], 0);
	expect_entry(&rx.e[0], &e[0]);
	t_no_log("dropped");

	/* Version 2, an hour old: dropped. */
	clock_fake_advance(61);
	grey(&e[0], "192.0.2.21", clock_now() - 3600);
	T_ASSERT((n = syncmsg_enc_v2(buf, sizeof(buf), 2, HEXKEY, e, 1)) > 0);
	deliver(fd, buf, n);
	T_EQ_INT(rx.n, 1);
	t_expect_log("timestamp too far");
	/* An hour ahead as well. */
	clock_fake_advance(61);
	grey(&e[0], "192.0.2.21", clock_now() + 3600);
	T_ASSERT((n = syncmsg_enc_v2(buf, sizeof(buf), 3, HEXKEY, e, 1)) > 0);
	deliver(fd, buf, n);
	T_EQ_INT(rx.n, 1);
	t_expect_log("timestamp too far");

	/* Another key: dropped. */
	clock_fake_advance(61);
	grey(&e[0], "192.0.2.22", clock_now());
	T_ASSERT((n = syncmsg_enc_v2(buf, sizeof(buf), 4, OTHERKEY, e, 1)) >
	    0);
	deliver(fd, buf, n);
	T_EQ_INT(rx.n, 1);
	t_expect_log("bad mac");

	/* The extension from another node: delivered, ext 1, no skew check. */
	clock_fake_advance(61);
	memset(&h, 0, sizeof(h));
	h.node = 0x1234567890abcdefULL;
	h.boot = 1000;
	h.seq = 1;
	grey(&e[0], "2001:db8::20", clock_now() - 3600);
	white(&e[1], "192.0.2.23", clock_now());
	T_ASSERT((n = syncmsg_enc_ext(buf, sizeof(buf), &h, HEXKEY, e, 2)) > 0);
	deliver(fd, buf, n);
	T_EQ_INT(rx.n, 3);
	T_EQ_INT(rx.ext[1], 1);
	T_EQ_INT(rx.ext[2], 1);
	expect_entry(&rx.e[1], &e[0]);
	expect_entry(&rx.e[2], &e[1]);
	t_no_log("dropped");

	/* The same again: replayed. */
	clock_fake_advance(61);
	deliver(fd, buf, n);
	T_EQ_INT(rx.n, 3);
	t_expect_log("replayed");

	/* Our own datagram, sent to the peer and handed back: dropped. */
	clock_fake_advance(61);
	grey(&e[0], "2001:db8::24", clock_now());
	T_EQ_INT(sync_send_to(s, 1, e, 1), 0);
	T_ASSERT((got = recv_within(fd, buf, sizeof(buf), 2000)) > 0);
	{
		struct syncmsg_entry o[2];
		struct syncmsg_hdr oh;
		const char *why = NULL;
		size_t on = 0;

		T_EQ_INT(syncmsg_dec(buf, (size_t)got, HEXKEY, o, 2, &on, &why,
		    &oh), SYNCMSG_OK);
		T_ASSERT(oh.node == node_id(IDENT, SYNC_ROLE_GREY));
		T_EQ_INT(on, 1);
	}
	deliver(fd, buf, (size_t)got);
	T_EQ_INT(rx.n, 3);
	t_expect_log("our own");

	/* A hello from the --sync-peer's address: hello(1). */
	clock_fake_advance(61);
	h.seq = 2;
	T_ASSERT((n = syncmsg_enc_ext(buf, sizeof(buf), &h, HEXKEY, NULL, 0)) >
	    0);
	deliver(fd, buf, n);
	T_EQ_INT(rx.hellos, 1);
	T_EQ_INT(rx.hello_peer, 1);
	T_EQ_INT(rx.n, 3);
	t_no_log("dropped");

	/* A hello from another address (127.0.0.2, when there is one). */
	if ((fd2 = udp_bound("127.0.0.2", &port)) != -1) {
		h.seq = 3;
		T_ASSERT((n = syncmsg_enc_ext(buf, sizeof(buf), &h, HEXKEY,
		    NULL, 0)) > 0);
		deliver(fd2, buf, n);
		T_EQ_INT(rx.hellos, 1);
		t_expect_log("no --sync-peer");
		close(fd2);
	}

	/* What reached the -y socket was all read. */
	T_EQ_INT(rx.sentinels, 8 + (fd2 != -1));
	free_sync(s);
	close(fd);
	clock_fake_off();
}

const struct t_case t_cases[] = {
	T_CASE(targets_parse),
	T_CASE(targets_interface),
	T_CASE(targets_max),
	T_CASE(key_file),
	T_CASE(key_missing),
	T_CASE(key_bad),
	T_CASE(send_v2_target),
	T_CASE(send_ext_peer),
	T_CASE(send_mixed),
	T_CASE(send_to_peer),
	T_CASE(send_ipv6_peer),
	T_CASE(close_harmless),
	T_CASE(receive_path),
	{ NULL, NULL },
};
