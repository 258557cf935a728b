/*
 * t_chan.c: the message channel's queue (spamd/chan.c) is fair: when the
 * peer does not read, one key (a client address) fills at most half of
 * it, and the others still get in.
 */
#include <sys/socket.h>

#include <unistd.h>

#include "spamd/chan.h"
#include "spamd/ev.h"
#include "tests/unit/harness.h"

static void
on_msg(struct chan *c, const uint8_t *b, size_t n)
{
	(void)c;
	(void)b;
	(void)n;
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
	{ NULL, NULL },
};
