/*
 * t_chan.c: the message channel (spamd/chan.c). Its queue is fair: when
 * the peer does not read, one key (a client address) fills at most half
 * of it, and the others still get in. chan_batch gathers a turn's
 * messages into one PROTO_BATCH datagram: nothing on the wire before
 * chan_flush_batches, one message goes as it is, a full batch goes at
 * once, a message too big for one travels alone and after it; the
 * receiving chan hands each message to on_msg in order, and drops what
 * follows a malformed length with a log line.
 */
#include <sys/socket.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "spamd/chan.h"
#include "spamd/ev.h"
#include "spamd/proto.h"
#include "tests/unit/harness.h"

static struct {
	size_t	n;
	size_t	len[64];
	uint8_t	first[64];
} got;

static void
on_msg(struct chan *c, const uint8_t *b, size_t n)
{
	(void)c;
	if (got.n < 64) {
		got.len[got.n] = n;
		got.first[got.n] = n > 8 ? b[8] : 0;
	}
	got.n++;
}

/* A message of len bytes: a TUPLE header, then bytes of value v. */
static size_t
msg(uint8_t *b, size_t len, uint8_t v)
{
	memset(b, v, len);
	memset(b, 0, 8);
	b[0] = PROTO_TUPLE;
	return len;
}

static void
stop(struct ev_timer *t)
{
	(void)t;
	ev_break();
}

/* Run the loop for ms, so a receiving chan reads what waits. */
static void
spin(int ms)
{
	static struct ev_timer t;

	ev_timer_in(&t, ms, stop);
	ev_run();
}

static void
gathered(void)
{
	struct chan c;
	uint8_t b[PROTO_MSG_MAX + 16], in[2 * PROTO_MSG_MAX];
	uint16_t l;
	uint32_t cnt;
	ssize_t n;
	int sv[2];

	ev_init();
	T_ASSERT(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == 0);
	T_ASSERT(chan_open(&c, sv[0], "test", 64000, on_msg, NULL) == 0);
	chan_batch(&c);
	T_EQ_INT(chan_send(&c, b, msg(b, 100, 1)), 0);
	T_EQ_INT(chan_send(&c, b, msg(b, 200, 2)), 0);
	T_EQ_INT(chan_send(&c, b, msg(b, 300, 3)), 0);
	T_EQ_INT(recv(sv[1], in, sizeof(in), MSG_DONTWAIT), -1);
	T_EQ_INT(errno, EAGAIN);
	chan_flush_batches();
	n = recv(sv[1], in, sizeof(in), MSG_DONTWAIT);
	T_EQ_INT(n, 8 + 3 * 2 + 600);
	T_EQ_INT(proto_type(in, (size_t)n), PROTO_BATCH);
	memcpy(&cnt, in + 4, 4);
	T_EQ_INT(cnt, 3);
	memcpy(&l, in + 8, 2);
	T_EQ_INT(l, 100);
	T_EQ_INT(in[8 + 2 + 8], 1);
	T_EQ_INT(recv(sv[1], in, sizeof(in), MSG_DONTWAIT), -1);

	/* One message goes as it is. */
	T_EQ_INT(chan_send(&c, b, msg(b, 50, 4)), 0);
	chan_flush_batches();
	T_EQ_INT(recv(sv[1], in, sizeof(in), MSG_DONTWAIT), 50);
	T_EQ_INT(in[0], PROTO_TUPLE);

	/* A full batch goes at once; one too big for it goes alone, after. */
	T_EQ_INT(chan_send(&c, b, msg(b, 5000, 5)), 0);
	T_EQ_INT(chan_send(&c, b, msg(b, 5000, 6)), 0);
	T_EQ_INT(recv(sv[1], in, sizeof(in), MSG_DONTWAIT), 5000);
	T_EQ_INT(in[8], 5);
	T_EQ_INT(chan_send(&c, b, msg(b, PROTO_MSG_MAX, 7)), 0);
	T_EQ_INT(recv(sv[1], in, sizeof(in), MSG_DONTWAIT), 5000);
	T_EQ_INT(in[8], 6);
	T_EQ_INT(recv(sv[1], in, sizeof(in), MSG_DONTWAIT), PROTO_MSG_MAX);
	T_EQ_INT(in[8], 7);
	chan_close(&c);
	chan_flush_batches();	/* c is no longer on the list */
	close(sv[1]);
}

/* The receiver unpacks; a malformed length ends the batch, logged. */
static void
unpacked(void)
{
	struct chan r;
	uint8_t d[64], m[20];
	uint16_t l = 20;
	size_t o;
	int sv[2];

	ev_init();
	memset(&got, 0, sizeof(got));
	T_ASSERT(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == 0);
	T_ASSERT(chan_open(&r, sv[1], "rx", 64000, on_msg, NULL) == 0);
	memset(d, 0, sizeof(d));
	d[0] = PROTO_BATCH;
	o = 8;
	memcpy(d + o, &l, 2);
	memcpy(d + o + 2, m, msg(m, 20, 8));
	o += 22;
	memcpy(d + o, &l, 2);
	memcpy(d + o + 2, m, msg(m, 20, 9));
	o += 22;
	l = 500;			/* longer than what is left */
	memcpy(d + o, &l, 2);
	o += 2 + 4;
	T_EQ_INT(send(sv[0], d, o, 0), (ssize_t)o);
	spin(50);
	T_EQ_INT(got.n, 2);
	T_EQ_INT(got.len[0], 20);
	T_EQ_INT(got.first[0], 8);
	T_EQ_INT(got.first[1], 9);
	t_expect_log("rx: a batch's message of 500 bytes does not fit");
	chan_close(&r);
	close(sv[0]);
}

static void
keyed_share(void)
{
	struct chan c;
	uint8_t msg[100] = { 0 };
	const char ka[] = "A", kb[] = "B";
	int sv[2], i, sndbuf = 4096;

	ev_init();
	T_ASSERT(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == 0);
	T_ASSERT(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf,
	    sizeof(sndbuf)) == 0);
	/*
	 * maxq 64,000: alone, a key may fill half of it (32,000 bytes);
	 * beyond that each key may queue 1,000 bytes (10 messages).
	 */
	T_ASSERT(chan_open(&c, sv[0], "test", 64000, on_msg, NULL) == 0);
	for (i = 0; i < 100000; i++)
		if (chan_send_keyed(&c, msg, sizeof(msg), ka, 1) == -1)
			break;
	T_ASSERT(i < 100000);
	T_ASSERT(c.queued >= 31900 && c.queued <= 32000);
	t_expect_log("one client holds its share of the queue");
	for (i = 0; i < 10; i++)
		T_EQ_INT(chan_send_keyed(&c, msg, sizeof(msg), kb, 1), 0);
	T_EQ_INT(chan_send_keyed(&c, msg, sizeof(msg), kb, 1), -1);
	T_EQ_INT(chan_send_keyed(&c, msg, sizeof(msg), ka, 1), -1);
	/* Unkeyed messages are bound by the whole queue only. */
	T_EQ_INT(chan_send(&c, msg, sizeof(msg)), 0);
	chan_close(&c);
	close(sv[1]);
}

const struct t_case t_cases[] = {
	T_CASE(keyed_share),
	T_CASE(gathered),
	T_CASE(unpacked),
	{ NULL, NULL },
};
