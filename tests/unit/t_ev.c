/*
 * t_ev.c: the event loop's timer heap (spamd/ev.c): order, moves,
 * cancellation, and a randomized comparison with a brute-force model;
 * descriptors that epoll hears of only when they want events, and
 * ev_io_close.
 */
#include <sys/epoll.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/clock.h"
#include "spamd/ev.h"
#include "tests/unit/harness.h"

#define N	2000

static struct ev_timer	 tm[N];
static int		 fired[N], order[N], nfired;

static void
cb(struct ev_timer *t)
{
	int i = (int)(t - tm);

	fired[i]++;
	order[nfired++] = i;
}

static void
random_heap(void)
{
	int i, prev = -1;
	uint64_t base;

	clock_fake_set(1000);
	ev_init();
	base = ev_now();
	srandom(42);
	for (i = 0; i < N; i++)
		ev_timer_set(&tm[i], base + 1 + (uint64_t)(random() % 5000), cb);
	/* Move half, cancel a quarter. */
	for (i = 0; i < N; i += 2)
		ev_timer_set(&tm[i], base + 1 + (uint64_t)(random() % 5000), cb);
	for (i = 1; i < N; i += 4)
		ev_timer_del(&tm[i]);
	T_EQ_INT(ev_timers(), N - N / 4);
	/* Let the loop pop them all: the clock is past every deadline,
	 * and a last timer stops the loop once the others have fired. */
	{
		struct ev_timer stop;

		memset(&stop, 0, sizeof(stop));
		ev_timer_set(&stop, base + 9000, (ev_timer_cb)ev_break);
		clock_fake_advance(10);
		ev_run();
		T_ASSERT(!ev_timer_armed(&stop));
	}
	T_EQ_INT(ev_timers(), 0);
	T_EQ_INT(nfired, N - N / 4);
	for (i = 0; i < N; i++) {
		if (i % 4 == 1)
			T_EQ_INT(fired[i], 0);
		else
			T_EQ_INT(fired[i], 1);
	}
	/* The heap handed them out in deadline order. */
	for (i = 0; i < nfired; i++) {
		T_ASSERT(prev == -1 || tm[order[i]].when >= tm[prev].when);
		prev = order[i];
	}
	clock_fake_off();
}

static void
loop_fires_in_order(void)
{
	int i;

	ev_init();
	nfired = 0;
	memset(fired, 0, sizeof(fired));
	for (i = 0; i < 50; i++)
		ev_timer_set(&tm[i], ev_now() + (uint64_t)(50 - i), cb);
	ev_timer_del(&tm[10]);
	ev_timer_set(&tm[20], ev_now() + 1000, cb);	/* moved later */
	while (ev_timers() > 1) {
		/* Run the loop for short slices until 48 have fired. */
		struct ev_timer stop;

		memset(&stop, 0, sizeof(stop));
		ev_timer_set(&stop, ev_now() + 60, (ev_timer_cb)ev_break);
		ev_run();
	}
	T_EQ_INT(nfired, 48);
	for (i = 1; i < nfired; i++)
		T_ASSERT(order[i - 1] > order[i]);	/* 49 first, then 48... */
	T_EQ_INT(fired[10], 0);
	T_EQ_INT(fired[20], 0);
	T_ASSERT(ev_timer_armed(&tm[20]));
}

/*
 * FIFO lists and the heap together: the loop fires timers in deadline
 * order across both; a re-armed FIFO timer goes to the back; a timer
 * removed from the middle never fires; a FIFO timer moved with
 * ev_timer_set leaves its list.
 */
static void
fifo_lists(void)
{
	struct ev_fifo a, b;
	struct ev_timer stop;
	int i;

	clock_fake_set(5000);
	ev_init();
	nfired = 0;
	memset(fired, 0, sizeof(fired));
	memset(tm, 0, sizeof(tm));
	ev_fifo_init(&a, 100);
	ev_fifo_init(&b, 250);
	for (i = 0; i < 10; i++)		/* a: 0..9, all due at +100 */
		ev_timer_fifo(&tm[i], &a, cb);
	for (i = 10; i < 15; i++)		/* b: due at +250 */
		ev_timer_fifo(&tm[i], &b, cb);
	ev_timer_set(&tm[20], ev_now() + 200, cb);	/* heap, between */
	ev_timer_set(&tm[21], ev_now() + 50, cb);	/* heap, first */
	T_EQ_INT(ev_timers(), 17);
	ev_timer_del(&tm[5]);			/* from the middle of a */
	ev_timer_fifo(&tm[0], &b, cb);		/* a -> back of b */
	ev_timer_set(&tm[12], ev_now() + 10, cb); /* b -> heap, first of all */
	T_ASSERT(!ev_timer_armed(&tm[5]));
	T_EQ_INT(a.n, 8);
	T_EQ_INT(b.n, 5);
	T_EQ_INT(ev_timers(), 16);
	memset(&stop, 0, sizeof(stop));
	ev_timer_set(&stop, ev_now() + 1000, (ev_timer_cb)ev_break);
	clock_fake_advance(2);	/* 2 s: everything is due */
	ev_run();
	{
		static const int want[] = { 12, 21, 1, 2, 3, 4, 6, 7, 8, 9,
		    20, 10, 11, 13, 14, 0 };

		T_EQ_INT(nfired, (int)(sizeof(want) / sizeof(want[0])));
		for (i = 0; i < nfired; i++)
			if (order[i] != want[i])
				t_fail("fired #%d is %d, expected %d", i,
				    order[i], want[i]);
	}
	T_EQ_INT(fired[5], 0);
	T_EQ_INT(a.n, 0);
	T_EQ_INT(b.n, 0);
	T_EQ_INT(ev_timers(), 0);
	clock_fake_off();
}

static int io_calls;

static void
io_cb(struct ev_io *io, uint32_t events)
{
	char b;

	T_ASSERT(events & EPOLLIN);
	T_EQ_INT(read(io->fd, &b, 1), 1);
	io_calls++;
	ev_break();
}

/*
 * A descriptor added with no events costs no epoll_ctl until it wants
 * some; one that never did is deleted and closed without complaint; a
 * watched one is closed, and so dropped from epoll, by ev_io_close.
 */
static void
lazy_io(void)
{
	struct ev_io io, idle;
	struct ev_timer stop;
	int p[2], q[2];

	ev_init();
	T_EQ_INT(pipe(p), 0);
	T_EQ_INT(pipe(q), 0);
	T_EQ_INT(ev_io_add(&io, p[0], 0, io_cb), 0);
	T_EQ_INT(io.added, 0);
	T_EQ_INT(write(p[1], "xy", 2), 2);
	T_EQ_INT(ev_io_mod(&io, 0), 0);		/* still nothing: no add */
	T_EQ_INT(io.added, 0);
	T_EQ_INT(ev_io_mod(&io, EPOLLIN), 0);
	T_EQ_INT(io.added, 1);
	memset(&stop, 0, sizeof(stop));
	ev_timer_set(&stop, ev_now() + 5000, (ev_timer_cb)ev_break);
	ev_run();
	T_EQ_INT(io_calls, 1);

	/* never watched: del and close are quiet */
	T_EQ_INT(ev_io_add(&idle, q[0], 0, io_cb), 0);
	ev_io_del(&idle);
	T_EQ_INT(idle.fd, -1);
	t_no_log("epoll_ctl");
	T_EQ_INT(close(q[0]), 0);

	/* closed while watched, with data still readable: never reported */
	T_EQ_INT(ev_io_close(&io), 0);
	T_EQ_INT(io.fd, -1);
	T_ASSERT(fcntl(p[0], F_GETFD) == -1 && errno == EBADF);
	ev_timer_set(&stop, ev_now() + 50, (ev_timer_cb)ev_break);
	ev_run();
	T_EQ_INT(io_calls, 1);
	T_EQ_INT(ev_io_close(&io), 0);		/* twice: harmless */
	close(p[1]);
	close(q[1]);
}

const struct t_case t_cases[] = {
	T_CASE(random_heap),
	T_CASE(loop_fires_in_order),
	T_CASE(fifo_lists),
	T_CASE(lazy_io),
	{ NULL, NULL },
};
