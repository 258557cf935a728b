/*
 * t_ev.c: the event loop's timer heap (spamd/ev.c): order, moves,
 * cancellation, and a randomized comparison with a brute-force model.
 */
#include <stdlib.h>

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

const struct t_case t_cases[] = {
	T_CASE(random_heap),
	T_CASE(loop_fires_in_order),
	{ NULL, NULL },
};
